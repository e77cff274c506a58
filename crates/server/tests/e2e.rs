//! Black-box: the real `safegrade` binary on a free port with a temp SQLite file, walked
//! through the README's example over a real socket.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.1 request over a fresh connection; returns (status, headers, body).
fn http(addr: &str, method: &str, path: &str, body: Option<&str>) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .unwrap_or_else(|e| panic!("write: {e}"));
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .unwrap_or_else(|e| panic!("read: {e}"));
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_lowercase(), body.to_owned())
}

#[test]
fn serve_walks_the_readme_example() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let db = dir.path().join("data/safegrade.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_safegrade"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            &format!("sqlite://{}", db.display()),
        ])
        .env_remove("SAFEGRADE_BIND")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let _server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_owned();
    let rest: Vec<String> = lines.by_ref().take(3).flatten().collect();
    assert!(
        rest.iter().any(|l| l.contains("curl")),
        "prints how to call it: {rest:?}"
    );
    assert!(db.is_file(), "created the SQLite file and its folder");

    assert_eq!(http(&addr, "GET", "/readyz", None).0, 200);
    let (status, _, areas) = http(&addr, "GET", "/api/v1/areas", None);
    assert_eq!(status, 200);
    assert!(areas.contains("涪城区"));

    let body = r#"{"credit_code":"914403001922038216","name":"绵阳市示例建材有限公司","area_code":"510703","industry_code":"C3011","scale":"small","principal_name":"张三"}"#;
    let (status, head, created) = http(&addr, "POST", "/api/v1/enterprises", Some(body));
    assert_eq!(status, 201, "{created}");
    assert!(
        head.contains("location: /api/v1/enterprises/") && head.contains("etag: \"1\""),
        "{head}"
    );
    let (status, _, list) = http(
        &addr,
        "GET",
        "/api/v1/enterprises?area_code=510703&limit=10",
        None,
    );
    assert_eq!(status, 200);
    assert!(list.contains("\"sector\":\"building_materials\""), "{list}");
    let (status, head, _) = http(&addr, "GET", "/api/docs/", None);
    assert_eq!(status, 200, "{head}");
}

#[test]
fn other_database_schemes_fail_clearly_without_creating_files() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_safegrade"))
        .args(["migrate", "--database-url", "mysql://localhost/x"])
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));
    assert_eq!(
        std::fs::read_dir(dir.path())
            .map(|d| d.count())
            .unwrap_or(1),
        0,
        "no file was created"
    );
}

#[test]
fn help_explains_each_subcommand() {
    let out = Command::new(env!("CARGO_BIN_EXE_safegrade"))
        .arg("--help")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let help = String::from_utf8_lossy(&out.stdout);
    for sub in ["serve", "migrate", "openapi", "demo-data"] {
        assert!(help.contains(sub), "--help lacks {sub}: {help}");
    }
}
