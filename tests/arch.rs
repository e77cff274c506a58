//! Architecture: the domain crate depends on no I/O or wire framework.

#[test]
fn domain_depends_on_no_framework() {
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "-p",
            "safegrade_domain",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("cargo tree: {e}"));
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && tree.contains("safegrade_domain"),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for banned in [
        "diesel",
        "actix-web",
        "actix-http",
        "utoipa",
        "serde_json",
        "safegrade_store",
        "safegrade_http",
    ] {
        assert!(
            !crates.contains(&banned),
            "safegrade_domain depends on {banned}"
        );
    }
}

#[test]
fn layers_point_one_way() {
    let manifest = |c: &str| {
        std::fs::read_to_string(format!(
            "{}/crates/{c}/Cargo.toml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap_or_default()
    };
    let deps = |c: &str| -> Vec<String> {
        let text = manifest(c);
        let normal = text
            .split("[dev-dependencies]")
            .next()
            .unwrap_or_default()
            .to_owned();
        [
            "safegrade_domain",
            "safegrade_store",
            "safegrade_http",
            "safegrade_testkit",
            "safegrade.",
        ]
        .iter()
        .filter(|d| normal.lines().any(|l| l.starts_with(**d)))
        .map(|d| (*d).to_owned())
        .collect()
    };
    assert_eq!(deps("domain"), Vec::<String>::new());
    assert_eq!(deps("store"), vec!["safegrade_domain"]);
    assert_eq!(deps("http"), vec!["safegrade_domain", "safegrade_store"]);
    assert!(
        !deps("server").contains(&"safegrade_testkit".to_owned()),
        "testkit is dev-only"
    );
}
