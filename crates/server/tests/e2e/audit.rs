//! The audit chain end to end, on both backends: events written through the API verify;
//! an event edited or deleted behind the API's back is named by `safegrade audit verify`;
//! the export checks out offline with the book's Python script, and stops checking out once
//! an event was edited.

use std::process::Stdio;

use diesel::connection::SimpleConnection;

use crate::support::{command, databases, http, printed_token, serve};

/// Runs the book's verification script over `export`, if Python is here (required in CI).
fn python_verifies(export: &str) -> Option<bool> {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../book/src/integration/examples/verify_chain.py");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("export.ndjson");
    std::fs::write(&file, export).unwrap_or_else(|e| panic!("{e}"));
    match std::process::Command::new("python3")
        .arg(&script)
        .arg(&file)
        .output()
    {
        Ok(out) => Some(out.status.success()),
        Err(e) => {
            assert!(
                std::env::var("CI").is_err(),
                "python3 is needed in CI to check the book's script: {e}"
            );
            None
        }
    }
}

fn verify(url: &str, from: Option<i64>) -> (bool, String) {
    let from = from.map(|f| f.to_string());
    let mut args = vec!["audit", "verify"];
    if let Some(f) = &from {
        args.extend(["--from", f.as_str()]);
    }
    let out = command(url, &args);
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn audit_verify_names_an_event_edited_behind_the_apis_back() {
    for db in databases() {
        let (server, addr, lines) = serve(&db.url, &[], Stdio::null());
        let token = printed_token(&lines).unwrap_or_else(|| panic!("no token: {lines:?}"));
        let t = Some(token.as_str());
        for n in 0..6u32 {
            let mut body = safegrade_testkit::enterprise_body(&safegrade_testkit::credit_code(n));
            body["area_code"] = serde_json::json!(if n % 2 == 0 { "510703" } else { "510704" });
            let (status, _, created) = http(
                &addr,
                t,
                "POST",
                "/api/v1/enterprises",
                Some(&body.to_string()),
            );
            assert_eq!(status, 201, "{created}");
        }
        let (ok, said) = verify(&db.url, None);
        assert!(ok, "{said}");
        assert!(said.contains("every hash and link is intact"), "{said}");
        for chain in ["510703", "510704", "city"] {
            assert!(said.contains(&format!("\n{chain}\t")), "{chain}: {said}");
        }

        // The export of one area verifies offline; the first event of a chain follows
        // the genesis hash.
        let (status, head, export) = http(
            &addr,
            t,
            "GET",
            "/api/v1/events/export?area_code=510703",
            None,
        );
        assert_eq!(status, 200, "{export}");
        assert!(head.contains("application/x-ndjson"), "{head}");
        let events: Vec<serde_json::Value> = export
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        assert_eq!(events.len(), 3, "{export}");
        assert!(events.iter().all(|e| e["area_code"] == "510703"));
        assert_eq!(
            events[0]["prev_hash"],
            safegrade_store::events::chain::GENESIS
        );
        for pair in events.windows(2) {
            assert_eq!(pair[1]["prev_hash"], pair[0]["hash"], "linked");
        }
        assert_ne!(python_verifies(&export), Some(false), "{export}");

        // An edit behind the API's back.
        let edited = events[1]["seq"]
            .as_i64()
            .unwrap_or_else(|| panic!("{}", events[1]));
        let mut conn = db.store.read().unwrap_or_else(|e| panic!("{e}"));
        conn.batch_execute(&format!(
            "UPDATE events SET reason = '事后补记' WHERE seq = {edited}"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        let (ok, said) = verify(&db.url, None);
        assert!(!ok, "an edit must be found: {said}");
        assert!(
            said.contains(&format!("breaks at event {edited}"))
                && said.contains("510703")
                && said.contains("changed after it was recorded"),
            "{said}"
        );
        let (_, _, export) = http(
            &addr,
            t,
            "GET",
            "/api/v1/events/export?area_code=510703",
            None,
        );
        assert_ne!(python_verifies(&export), Some(true), "{export}");
        // Checking from the event after the edited one starts from its stored hash.
        let (ok, said) = verify(&db.url, Some(edited + 1));
        assert!(ok, "{said}");

        // Undone, the chain is whole again. A deleted last event no longer matches its
        // chain's head; a deleted event in the middle breaks the next one's link.
        conn.batch_execute(&format!(
            "UPDATE events SET reason = NULL WHERE seq = {edited}"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(verify(&db.url, None).0);
        conn.batch_execute(
            "DELETE FROM events WHERE seq = (SELECT max(seq) FROM events WHERE area_code = '510704')",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let (ok, said) = verify(&db.url, None);
        assert!(
            !ok && said.contains("510704") && said.contains("its last events were deleted"),
            "{said}"
        );
        conn.batch_execute(&format!("DELETE FROM events WHERE seq = {edited}"))
            .unwrap_or_else(|e| panic!("{e}"));
        let next = events[2]["seq"].as_i64().unwrap_or_default();
        let (ok, said) = verify(&db.url, None);
        assert!(
            !ok && said.contains(&format!("breaks at event {next}"))
                && said.contains("an event before it was deleted"),
            "{said}"
        );
        drop(server);
    }
}
