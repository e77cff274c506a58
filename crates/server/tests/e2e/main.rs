//! Black-box: the real `safegrade` binary on a free port with a temp SQLite file, walked
//! through the README's example over a real socket.

mod audit;
mod nodes;
mod support;

use std::process::{Command, Stdio};

use support::{http, start, start_logging_to};

#[test]
fn serve_walks_the_readme_example() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let db = dir.path().join("data/safegrade.db");
    let (server, addr, rest) = start(&db);
    assert!(
        rest.iter().any(|l| l.contains("curl")),
        "prints how to call it: {rest:?}"
    );
    assert!(db.is_file(), "created the SQLite file and its folder");
    let tokens: Vec<&String> = rest.iter().filter(|l| l.starts_with("sg_")).collect();
    assert_eq!(
        tokens.len(),
        1,
        "the first start prints one token on its own line: {rest:?}"
    );
    let token = tokens[0].trim().to_owned();
    assert!(
        rest.iter()
            .any(|l| l.contains("curl") && l.contains(&format!("Bearer {token}"))),
        "with a working curl example: {rest:?}"
    );

    assert_eq!(http(&addr, None, "GET", "/readyz", None).0, 200);
    let (status, head, _) = http(&addr, None, "GET", "/api/v1/areas", None);
    assert_eq!(status, 401, "the API needs a token");
    assert!(head.contains("www-authenticate: bearer"), "{head}");
    let t = Some(token.as_str());
    let (status, _, me) = http(&addr, t, "GET", "/api/v1/me", None);
    assert_eq!(status, 200, "{me}");
    assert!(me.contains("\"role\":\"city_admin\""), "{me}");
    let (status, _, areas) = http(&addr, t, "GET", "/api/v1/areas", None);
    assert_eq!(status, 200);
    assert!(areas.contains("涪城区"));

    let body = r#"{"credit_code":"914403001922038216","name":"绵阳市示例建材有限公司","area_code":"510703","industry_code":"C3011","scale":"small","principal_name":"张三"}"#;
    let (status, head, created) = http(&addr, t, "POST", "/api/v1/enterprises", Some(body));
    assert_eq!(status, 201, "{created}");
    assert!(
        head.contains("location: /api/v1/enterprises/") && head.contains("etag: \"1\""),
        "{head}"
    );
    let (status, _, list) = http(
        &addr,
        t,
        "GET",
        "/api/v1/enterprises?area_code=510703&limit=10",
        None,
    );
    assert_eq!(status, 200);
    assert!(list.contains("\"sector\":\"building_materials\""), "{list}");
    let (status, _, register) = http(&addr, None, "GET", "/api/v1/register", None);
    assert_eq!(
        status, 200,
        "the public register needs no token: {register}"
    );
    let (status, head, _) = http(&addr, None, "GET", "/api/docs/", None);
    assert_eq!(status, 200, "{head}");
    drop(server);

    // A second start finds the administrator and never prints a token again.
    let (_server, addr, rest) = start(&db);
    assert!(!rest.iter().any(|l| l.contains("sg_")), "{rest:?}");
    assert_eq!(
        http(&addr, t, "GET", "/api/v1/me", None).0,
        200,
        "the token still works"
    );
}

#[test]
fn the_command_line_creates_principals_and_tokens() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_safegrade"))
            .args(args)
            .args(["--database-url", &url])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = run(&[
        "principal",
        "create",
        "--name",
        "涪城区应急管理局",
        "--role",
        "area_regulator",
        "--area",
        "510703",
    ]);
    assert!(ok, "{err}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("sg_")).count(),
        1,
        "{out}"
    );
    let id = out
        .split_whitespace()
        .nth(2)
        .unwrap_or_else(|| panic!("{out}"))
        .to_owned();
    let (ok, out, err) = run(&["token", "create", "--principal", &id]);
    assert!(ok, "{err}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("sg_")).count(),
        1,
        "{out}"
    );
    let (ok, _, err) = run(&[
        "principal",
        "create",
        "--name",
        "x",
        "--role",
        "area_regulator",
    ]);
    assert!(
        !ok && err.contains("--area"),
        "a missing area is explained, by its flag: {err}"
    );
    let (ok, _, err) = run(&[
        "token",
        "create",
        "--principal",
        "01a222d7-d736-723d-8633-7ed8db80848d",
    ]);
    assert!(!ok && err.contains("no principal"), "{err}");
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
    for sub in [
        "serve",
        "migrate",
        "openapi",
        "demo-data",
        "principal",
        "token",
    ] {
        assert!(help.contains(sub), "--help lacks {sub}: {help}");
    }
}

/// A first start on a busy port fails before it creates the administrator, so the next start
/// (on a free port) still shows the first token: it is never lost.
#[test]
fn a_busy_port_does_not_lose_the_first_token() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let db = dir.path().join("data/safegrade.db");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = busy.local_addr().map(|a| a.port()).unwrap_or_default();
    let out = Command::new(env!("CARGO_BIN_EXE_safegrade"))
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            &format!("sqlite://{}", db.display()),
        ])
        .env_remove("SAFEGRADE_BIND")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!out.status.success(), "a busy port is an error");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stdout.contains("sg_"),
        "no token printed by a server that never ran: {stdout}"
    );
    assert!(stderr.contains("cannot listen on"), "says why: {stderr}");
    assert!(stderr.contains("--bind"), "and what to do: {stderr}");
    drop(busy);
    let (_server, _, rest) = start(&db);
    assert_eq!(
        rest.iter().filter(|l| l.starts_with("sg_")).count(),
        1,
        "the next start shows the first token: {rest:?}"
    );
    assert!(
        rest.iter().all(|l| !l.contains("curl -H '")),
        "curl lines use double quotes, so $SAFEGRADE_TOKEN works when pasted: {rest:?}"
    );
}

/// Principals created from the command line before the first start: a non-administrator does
/// not prevent the first administrator; an administrator does, and `serve` says how to get a
/// token instead.
#[test]
fn principals_created_before_the_first_start() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let db = dir.path().join("a.db");
    let url = format!("sqlite://{}", db.display());
    let create = |role: &str, extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_safegrade"))
            .args(["principal", "create", "--name", "先建账号", "--role", role])
            .args(extra)
            .args(["--database-url", &url])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    create("area_regulator", &["--area", "510703"]);
    let (server, _, rest) = start(&db);
    assert_eq!(
        rest.iter().filter(|l| l.starts_with("sg_")).count(),
        1,
        "an area regulator does not prevent the first administrator: {rest:?}"
    );
    drop(server);

    let other = dir.path().join("b.db");
    let url = format!("sqlite://{}", other.display());
    let out = Command::new(env!("CARGO_BIN_EXE_safegrade"))
        .args([
            "principal",
            "create",
            "--name",
            "市局",
            "--role",
            "city_admin",
            "--database-url",
            &url,
        ])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.status.success());
    let (_server, _, rest) = start(&other);
    assert!(!rest.iter().any(|l| l.starts_with("sg_")), "{rest:?}");
    assert!(
        rest.iter()
            .any(|l| l.contains("safegrade principal create") && l.contains("city_admin")),
        "says how to make a token: {rest:?}"
    );
}

/// The docs site is served by the binary itself: `/` leads to it, the problem `type` links
/// resolve, and `safegrade book build` writes the same site to a folder.
#[test]
fn the_binary_serves_the_docs_site() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (_server, addr, rest) = start(&dir.path().join("d.db"));
    assert!(
        rest.iter().any(|l| l.contains("/book/")),
        "says where the docs are: {rest:?}"
    );
    let (status, head, _) = http(&addr, None, "GET", "/", None);
    assert_eq!(status, 308, "{head}");
    assert!(head.contains("location: /book/"), "{head}");
    // Built in the background at start: wait for it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let (status, head, body) = loop {
        let got = http(&addr, None, "GET", "/book/errors.html", None);
        if got.0 != 503 || std::time::Instant::now() > deadline {
            break got;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("content-type: text/html"), "{head}");
    assert!(
        body.contains("id=\"version_mismatch\""),
        "the anchors of problem types resolve"
    );
    let (status, _, index) = http(&addr, None, "GET", "/book/", None);
    assert_eq!(status, 200);
    assert!(index.contains("SafeGrade"));
    assert_eq!(
        http(&addr, None, "GET", "/book/no-such-page.html", None).0,
        404
    );

    let out = dir.path().join("site");
    let built = Command::new(env!("CARGO_BIN_EXE_safegrade"))
        .args(["book", "build", "--out", &out.display().to_string()])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    assert!(out.join("index.html").is_file() && out.join("errors.html").is_file());
}

/// `demo-data` marks what it creates and refuses a database that holds real records unless
/// `--force`.
#[test]
fn demo_data_keeps_out_of_a_real_ledger() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let db = dir.path().join("real.db");
    let url = format!("sqlite://{}", db.display());
    let demo = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_safegrade"))
            .args(["demo-data", "--count", "20", "--database-url", &url])
            .args(extra)
            .output()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert!(
        demo(&[]).status.success(),
        "an empty database takes demo data"
    );
    assert!(demo(&[]).status.success(), "and more demo data");
    let (server, addr, rest) = start(&db);
    let token = rest
        .iter()
        .find(|l| l.starts_with("sg_"))
        .cloned()
        .unwrap_or_default();
    let t = Some(token.as_str());
    let (_, _, list) = http(&addr, t, "GET", "/api/v1/enterprises?limit=1", None);
    assert!(
        list.contains("【演示】"),
        "synthetic records are marked: {list}"
    );
    let body = r#"{"credit_code":"914403001922038216","name":"绵阳市示例建材有限公司","area_code":"510703","industry_code":"C3011","scale":"small","principal_name":"张三"}"#;
    assert_eq!(
        http(&addr, t, "POST", "/api/v1/enterprises", Some(body)).0,
        201
    );
    drop(server);
    let refused = demo(&[]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--force"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(demo(&["--force"]).status.success());
}

/// Command-line errors speak in flags, with an example, as one readable message — no debug
/// dump, even with `RUST_BACKTRACE=1`.
#[test]
fn command_line_errors_name_flags() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_safegrade"))
        .args([
            "principal",
            "create",
            "--name",
            "某区",
            "--role",
            "area_regulator",
        ])
        .args([
            "--database-url",
            &format!("sqlite://{}", dir.path().join("c.db").display()),
        ])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--area") && stderr.contains("for example"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("area_codes"),
        "no API field names: {stderr}"
    );
    assert!(!stderr.to_lowercase().contains("backtrace"), "{stderr}");
}

/// The log has one INFO line per request (method, path, request id, status, route, latency),
/// a refused request is that one line without a Rust debug dump, and a log that is not a
/// terminal has no colour codes.
#[test]
fn one_log_line_per_request() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let log_path = dir.path().join("serve.log");
    let log = std::fs::File::create(&log_path).unwrap_or_else(|e| panic!("{e}"));
    let (server, addr, rest) = start_logging_to(&dir.path().join("l.db"), Stdio::from(log));
    let token = rest
        .iter()
        .find(|l| l.starts_with("sg_"))
        .map(|t| t.trim().to_owned())
        .unwrap_or_else(|| panic!("no token: {rest:?}"));
    assert_eq!(http(&addr, None, "GET", "/healthz", None).0, 200);
    assert_eq!(http(&addr, None, "GET", "/api/v1/enterprises", None).0, 401);
    assert_eq!(
        http(
            &addr,
            Some(&token),
            "POST",
            "/api/v1/enterprises",
            Some("{\"colour\": 1}")
        )
        .0,
        422
    );
    // The writer is non-blocking: give it a moment before reading.
    let mut text = String::new();
    for _ in 0..50 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        text = std::fs::read_to_string(&log_path).unwrap_or_default();
        if text.matches("request ").count() >= 3 {
            break;
        }
    }
    drop(server);
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("request{")).collect();
    let done: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains("request done"))
        .collect();
    assert_eq!(done.len(), 1, "{text}");
    for field in [
        " INFO ",
        "method=GET",
        "path=/healthz",
        "request_id=",
        "status=200",
        "route=\"/healthz\"",
        "elapsed_ms=",
    ] {
        assert!(done[0].contains(field), "{field} missing: {}", done[0]);
    }
    let refused: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains("request refused"))
        .collect();
    assert_eq!(refused.len(), 2, "{text}");
    assert!(refused.iter().any(|l| l.contains("status=401")), "{text}");
    assert!(
        refused
            .iter()
            .any(|l| l.contains("status=422") && l.contains("method=POST")),
        "{text}"
    );
    assert_eq!(lines.len(), 3, "one line per request: {text}");
    assert!(!text.contains('\u{1b}'), "no colour codes: {text}");
    for dump in ["ApiError {", "Backtrace", "stack backtrace", "Violation {"] {
        assert!(!text.contains(dump), "a debug dump ({dump}): {text}");
    }
}

/// `safegrade standard import FILE` stores a version in the API's format, refuses the same
/// version twice, and lists every problem of a bad file with its JSON Pointer.
#[test]
fn the_command_line_imports_a_standard() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let import = |file: &std::path::Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_safegrade"))
            .args(["standard", "import"])
            .arg(file)
            .args(["--database-url", &url])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let good = dir.path().join("good.json");
    std::fs::write(
        &good,
        r#"{"code": "测试标准", "version": "1", "title": "测试", "full_points": 5,
            "thresholds": {"grade_3": 60},
            "elements": [{"code": "1", "title": "目标职责", "points": 5, "sub_elements": [
              {"code": "1.1", "title": "目标", "items": [
                {"code": "1.1.1", "text": "制定目标", "points": 5, "method": "未制定不得分"}]}]}]}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (ok, out, err) = import(&good);
    assert!(ok, "{err}");
    assert!(
        out.contains("imported 测试标准 1 (1 elements, 1 check items, 5 points)"),
        "{out}"
    );
    let (ok, _, err) = import(&good);
    assert!(!ok && err.contains("imported already"), "{err}");

    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"code": "测试标准", "version": "2", "title": "测试", "full_points": 9,
            "elements": [{"code": "1", "title": "目标职责", "points": 5, "sub_elements": []}]}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (ok, _, err) = import(&bad);
    assert!(!ok, "a bad file is refused");
    assert!(
        err.contains("/elements/0/points") && err.contains("/full_points"),
        "names each problem: {err}"
    );
    assert!(!err.to_lowercase().contains("backtrace"), "{err}");
}

/// `safegrade backup` copies the database while the server serves; `safegrade restore`
/// (server stopped) puts it back: what was written after the backup is gone, what was
/// before is there, and the tokens of the time work.
#[test]
fn backup_while_serving_and_restore_round_trip() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let db = dir.path().join("data/safegrade.db");
    let url = format!("sqlite://{}", db.display());
    let backup = dir.path().join("backup/safegrade-2026-12-05.db");
    let (server, addr, rest) = start(&db);
    let token = rest
        .iter()
        .find(|l| l.starts_with("sg_"))
        .cloned()
        .unwrap_or_else(|| panic!("no token in {rest:?}"));
    let code = |n: u32| {
        let first17 = format!("91510703{n:09}");
        let check = safegrade_domain::credit::check_character(&first17).unwrap_or('0');
        format!("{first17}{check}")
    };
    let post = |code: &str| {
        http(
            &addr,
            Some(&token),
            "POST",
            "/api/v1/enterprises",
            Some(&format!(
                r#"{{"credit_code":"{code}","name":"备份前企业","area_code":"510703","industry_code":"C3311","scale":"small","principal_name":"张三"}}"#
            )),
        )
    };
    let (status, _, body) = post(&code(1));
    assert_eq!(status, 201, "{body}");
    std::fs::create_dir_all(dir.path().join("backup")).unwrap_or_else(|e| panic!("{e}"));
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_safegrade"))
            .args(args)
            .env_remove("SAFEGRADE_DATABASE_URL")
            .output()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let backup_arg = backup.display().to_string();
    let out = run(&["backup", "--to", &backup_arg, "--database-url", &url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("1 enterprises"), "{said}");
    let again = run(&["backup", "--to", &backup_arg, "--database-url", &url]);
    assert!(!again.status.success(), "a backup never overwrites");
    let (status, _, body) = post(&code(2));
    assert_eq!(status, 201, "{body}");
    drop(server);

    let refused = run(&["restore", "--from", &backup_arg, "--database-url", &url]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database").unwrap_or_else(|e| panic!("{e}"));
    let bad = run(&[
        "restore",
        "--from",
        &junk.display().to_string(),
        "--database-url",
        &url,
        "--force",
    ]);
    assert!(
        !bad.status.success(),
        "a file that is not a SafeGrade database is refused"
    );
    let out = run(&[
        "restore",
        "--from",
        &backup_arg,
        "--database-url",
        &url,
        "--force",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let (_server, addr, _) = start(&db);
    let (status, _, body) = http(&addr, Some(&token), "GET", "/api/v1/enterprises", None);
    assert_eq!(status, 200, "the token of the time works: {body}");
    let names = body.matches("\"credit_code\"").count();
    assert_eq!(names, 1, "only what was there at the backup: {body}");
    assert!(body.contains(&code(1)), "{body}");
}

/// `safegrade import ledger` runs the API's import with a progress bar and prints its report:
/// a dry run lists the problems and writes nothing, a file with a problem is refused whole
/// (exit status 1), `--valid-rows` imports the rest.
#[test]
fn the_command_line_imports_a_ledger() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let code = |n: u32| {
        let first17 = format!("91510703{n:09}");
        let check = safegrade_domain::credit::check_character(&first17).unwrap_or('0');
        format!("{first17}{check}")
    };
    let file = dir.path().join("涪城区台账.csv");
    std::fs::write(
        &file,
        format!(
            "统一社会信用代码,企业名称,所属县（市、区）,行业代码,企业规模,主要负责人,经营范围\n\
             {},甲公司,涪城区,C3311,小型,张三,五金\n{},乙公司,火星区,C3311,小型,李四,钢\n",
            code(1),
            code(2)
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let run = |extra: &[&str]| {
        let mut args: Vec<String> =
            vec!["import".into(), "ledger".into(), file.display().to_string()];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        args.extend(["--database-url".to_owned(), url.clone()]);
        let out = Command::new(env!("CARGO_BIN_EXE_safegrade"))
            .args(&args)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = run(&["--dry-run"]);
    assert!(ok, "{err}");
    assert!(out.contains("未读取的列：第 7 列「经营范围」"), "{out}");
    assert!(out.contains("第 3 行「所属县（市、区）」"), "{out}");
    assert!(out.contains("试导入：未写入任何记录"), "{out}");
    let (ok, out, err) = run(&[]);
    assert!(!ok, "refused whole: {out}");
    assert!(err.contains("未写入任何记录"), "{err}");
    let (ok, out, err) = run(&["--valid-rows"]);
    assert!(ok, "{err}");
    assert!(out.contains("已写入：新增 1，更新 0"), "{out}");
    // Into one area: the row of another area is refused, the other is unchanged.
    let (ok, out, _) = run(&["--area", "涪城区", "--dry-run"]);
    assert!(ok && out.contains("无变化 1"), "{out}");
    let (ok, _, err) = run(&["--area", "火星区"]);
    assert!(!ok && err.contains("not a supervision area"), "{err}");
}
