//! Running the real binary: a server child process on a free port, HTTP over a real socket,
//! and the command line.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};

/// A running `safegrade serve`; dropping it kills the process with SIGKILL (`kill -9`).
pub struct Server(Child);

impl Server {
    /// Kills the process at once (SIGKILL: no shutdown, no flush) and reaps it.
    pub fn kill_9(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.1 request over a fresh connection, with a bearer token when given; returns
/// (status, headers, body).
pub fn http(
    addr: &str,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, String, String) {
    http_with(addr, token, method, path, body, &[])
}

/// [`http`] with extra request headers; a connection that fails gives status 0.
pub fn http_with(
    addr: &str,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> (u16, String, String) {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return (0, String::new(), String::new());
    };
    let body = body.unwrap_or("");
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}{extra}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return (0, String::new(), String::new());
    }
    let mut response = Vec::new();
    if stream.read_to_end(&mut response).is_err() {
        return (0, String::new(), String::new());
    }
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(response.len());
    let head = String::from_utf8_lossy(&response[..split]).to_lowercase();
    let raw = response.get(split + 4..).unwrap_or_default();
    let body = if head.contains("transfer-encoding: chunked") {
        dechunk(raw)
    } else {
        raw.to_vec()
    };
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head, String::from_utf8_lossy(&body).into_owned())
}

/// The body of a chunked response (a streamed export).
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = std::str::from_utf8(&raw[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 {
            return out;
        }
        let start = eol + 2;
        let Some(chunk) = raw.get(start..start + size) else {
            return out;
        };
        out.extend_from_slice(chunk);
        raw = raw.get(start + size + 2..).unwrap_or_default();
    }
}

/// Starts `safegrade serve` on a free port over the SQLite file `db`; returns the server,
/// its address and the lines it printed after the first.
pub fn start(db: &std::path::Path) -> (Server, String, Vec<String>) {
    start_logging_to(db, Stdio::null())
}

/// [`start`], with the log (stderr) going to `log`.
pub fn start_logging_to(db: &std::path::Path, log: Stdio) -> (Server, String, Vec<String>) {
    serve(&format!("sqlite://{}", db.display()), &[], log)
}

/// Starts `safegrade serve` on a free port over the database at `url`, with extra
/// environment variables `env`.
pub fn serve(url: &str, env: &[(&str, &str)], log: Stdio) -> (Server, String, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_safegrade"))
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", url])
        .env_remove("SAFEGRADE_BIND")
        .env_remove("SAFEGRADE_LOG")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_owned();
    let mut rest = Vec::new();
    for line in lines.by_ref().map_while(Result::ok) {
        let done = line.starts_with("Stop with");
        rest.push(line);
        if done {
            break;
        }
    }
    (server, addr, rest)
}

/// The token a first start printed on a line of its own, if any.
pub fn printed_token(lines: &[String]) -> Option<String> {
    lines
        .iter()
        .find(|l| l.starts_with("sg_"))
        .map(|l| l.trim().to_owned())
}

/// Runs `safegrade ARGS` over the database at `url` and waits for it.
pub fn command(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_safegrade"))
        .args(args)
        .args(["--database-url", url])
        .env_remove("SAFEGRADE_LOG")
        .output()
        .unwrap_or_else(|e| panic!("run safegrade {args:?}: {e}"))
}

/// The test databases: a SQLite file, and a PostgreSQL database when `TEST_DATABASE_URL`
/// is set (required with `CI=true`).
pub fn databases() -> Vec<safegrade_testkit::TestDb> {
    let mut dbs = vec![safegrade_testkit::TestDb::sqlite()];
    dbs.extend(safegrade_testkit::TestDb::postgres());
    dbs
}
