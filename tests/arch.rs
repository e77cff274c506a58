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

/// The Rust files under `dir`, recursively.
fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// Each of `domain`, `store` and `http` keeps a folder per capability and one `plumbing`
/// folder; plumbing never imports a capability (a capability is any other folder of the
/// crate's `src`), so infrastructure stays reusable and a capability can be read alone.
#[test]
fn plumbing_imports_no_capability() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut wrong = Vec::new();
    for krate in ["domain", "store", "http"] {
        let src = root.join("crates").join(krate).join("src");
        let plumbing = src.join("plumbing");
        assert!(plumbing.is_dir(), "{krate} has a plumbing folder");
        let capabilities: Vec<String> = std::fs::read_dir(&src)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().is_dir() && e.file_name() != "plumbing")
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            capabilities.len() >= 3,
            "{krate}: capabilities {capabilities:?}"
        );
        for file in rust_files(&plumbing) {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            for cap in &capabilities {
                for form in [
                    format!("crate::{cap}::"),
                    format!("crate::{cap};"),
                    format!("crate::{{{cap}"),
                ] {
                    if text.contains(&form) {
                        wrong.push(format!("{} imports the capability {cap}", file.display()));
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every type the spec documents has its own name: utoipa names a schema after the type and
/// silently keeps one of two types with the same name, so the spec would describe one with
/// the other's fields (it happened: two `ItemDoc`s). Schema types are the `ToSchema` derives
/// of the http and store crates, and the code lists of `codes.rs`.
#[test]
fn schema_names_are_unique() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seen: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for krate in ["crates/http/src", "crates/store/src"] {
        for file in rust_files(&root.join(krate)) {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                if !(line.trim_start().starts_with("#[derive(") && line.contains("ToSchema")) {
                    continue;
                }
                // The item follows its attributes and doc lines.
                let item = lines[i + 1..]
                    .iter()
                    .map(|l| l.trim_start())
                    .find(|l| l.starts_with("pub struct ") || l.starts_with("pub enum "));
                if let Some(name) = item
                    .and_then(|l| l.split_whitespace().nth(2))
                    .map(|n| n.split(['<', '(', '{', ';']).next().unwrap_or(n).to_owned())
                {
                    seen.entry(name).or_default().push(
                        file.strip_prefix(root)
                            .unwrap_or(&file)
                            .display()
                            .to_string(),
                    );
                }
            }
        }
    }
    assert!(seen.len() > 50, "only {} schema types found", seen.len());
    let twins: Vec<String> = seen
        .iter()
        .filter(|(_, files)| files.len() > 1)
        .map(|(name, files)| format!("{name}: {}", files.join(", ")))
        .collect();
    assert!(
        twins.is_empty(),
        "schema names used twice:\n{}",
        twins.join("\n")
    );
}
