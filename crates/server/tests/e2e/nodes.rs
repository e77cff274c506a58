//! Processes that die and processes side by side: a server killed with SIGKILL in the
//! middle of writes keeps every write it acknowledged, with its event (both backends); two
//! servers on one PostgreSQL database under concurrent load lose and duplicate no event,
//! their feeds skip nothing, an idempotency key holds across them, a revocation on one
//! reaches the other within the token cache's lifetime, and the first administrator is
//! created once (docs/SCALE.md).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use safegrade_store::events::{EventFilter, EventVisibility};
use serde_json::{Value, json};

use crate::support::{command, databases, http, http_with, printed_token, serve};

fn enterprise(n: u32, area: &str) -> String {
    let mut body = safegrade_testkit::enterprise_body(&safegrade_testkit::credit_code(n));
    body["area_code"] = json!(area);
    body.to_string()
}

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// The `enterprise.created` events in the log.
fn enterprises_created(db: &safegrade_testkit::TestDb) -> Vec<safegrade_store::events::Event> {
    db.store
        .list_events(
            &EventVisibility::All,
            &EventFilter {
                types: vec![safegrade_domain::EventType::EnterpriseCreated],
                ..EventFilter::default()
            },
            100_000,
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .events
}

/// Every event the feed gives `token` on `addr`, following `next_cursor` to the end.
fn whole_feed(addr: &str, token: &str) -> Vec<i64> {
    let mut seqs = Vec::new();
    let mut cursor = String::new();
    loop {
        let path = if cursor.is_empty() {
            "/api/v1/events?limit=200".to_owned()
        } else {
            format!("/api/v1/events?limit=200&cursor={cursor}")
        };
        let (status, _, page) = http(addr, Some(token), "GET", &path, None);
        assert_eq!(status, 200, "{page}");
        let page = json_of(&page);
        let items = page["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            return seqs;
        }
        seqs.extend(items.iter().filter_map(|e| e["seq"].as_i64()));
        cursor = page["next_cursor"].as_str().unwrap_or_default().to_owned();
    }
}

#[test]
fn a_server_killed_mid_write_keeps_every_acknowledged_write() {
    for db in databases() {
        let (server, addr, lines) = serve(&db.url, &[], Stdio::null());
        let token = printed_token(&lines).unwrap_or_else(|| panic!("no token: {lines:?}"));
        let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
        let next = Arc::new(AtomicU32::new(0));
        let writers: Vec<_> = (0..4)
            .map(|_| {
                let (addr, token) = (addr.clone(), token.clone());
                let (acknowledged, next) = (acknowledged.clone(), next.clone());
                std::thread::spawn(move || {
                    loop {
                        let n = next.fetch_add(1, Ordering::SeqCst);
                        let (status, _, body) = http(
                            &addr,
                            Some(&token),
                            "POST",
                            "/api/v1/enterprises",
                            Some(&enterprise(n, "510703")),
                        );
                        match status {
                            201 => {
                                let id =
                                    json_of(&body)["id"].as_str().unwrap_or_default().to_owned();
                                acknowledged
                                    .lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .push(id);
                            }
                            // The server is gone: the write may or may not have landed.
                            0 => return,
                            other => panic!("{other}: {body}"),
                        }
                    }
                })
            })
            .collect();
        while acknowledged.lock().unwrap_or_else(|e| e.into_inner()).len() < 60 {
            std::thread::sleep(Duration::from_millis(5));
        }
        server.kill_9();
        for w in writers {
            w.join().unwrap_or_else(|_| panic!("a writer panicked"));
        }
        let acknowledged = acknowledged
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();

        let (_server, addr, _) = serve(&db.url, &[], Stdio::null());
        let created: BTreeMap<String, usize> =
            enterprises_created(&db)
                .into_iter()
                .fold(BTreeMap::new(), |mut m, e| {
                    *m.entry(e.resource_id).or_default() += 1;
                    m
                });
        for id in &acknowledged {
            let (status, _, body) = http(
                &addr,
                Some(&token),
                "GET",
                &format!("/api/v1/enterprises/{id}"),
                None,
            );
            assert_eq!(status, 200, "acknowledged {id} is there: {body}");
            assert_eq!(created.get(id), Some(&1), "with its one event: {id}");
        }
        // Nothing half-written: every enterprise has its event, and the chain is whole.
        let (status, _, list) = http(
            &addr,
            Some(&token),
            "GET",
            "/api/v1/enterprises?limit=200",
            None,
        );
        assert_eq!(status, 200);
        let listed = json_of(&list)["items"].as_array().map_or(0, Vec::len);
        assert_eq!(listed, created.len(), "records and their events match");
        let out = command(&db.url, &["audit", "verify"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn two_nodes_share_one_postgresql_database() {
    let Some(db) = safegrade_testkit::TestDb::postgres() else {
        return;
    };
    // Both start at once on a database without an administrator.
    let cache = [("SAFEGRADE_TOKEN_CACHE_SECONDS", "1")];
    let starting: Vec<_> = (0..2)
        .map(|_| {
            let url = db.url.clone();
            std::thread::spawn(move || serve(&url, &cache, Stdio::null()))
        })
        .collect();
    let nodes: Vec<_> = starting
        .into_iter()
        .map(|s| s.join().unwrap_or_else(|_| panic!("a node did not start")))
        .collect();
    let tokens: Vec<String> = nodes
        .iter()
        .filter_map(|(_, _, l)| printed_token(l))
        .collect();
    assert_eq!(tokens.len(), 1, "one node created the administrator");
    let token = tokens[0].clone();
    let addrs: Vec<String> = nodes.iter().map(|(_, a, _)| a.clone()).collect();
    let (status, _, principals) = http(&addrs[1], Some(&token), "GET", "/api/v1/principals", None);
    assert_eq!(status, 200, "{principals}");
    assert_eq!(
        json_of(&principals)["items"].as_array().map(Vec::len),
        Some(1)
    );

    // Writers alternate between the nodes; each key is sent to both nodes.
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (addr, token, done) = (addrs[1].clone(), token.clone(), done.clone());
        std::thread::spawn(move || {
            // Follows node B's feed while the writes go on, as an integration would.
            let mut seen = Vec::new();
            let mut cursor = String::new();
            loop {
                let finished = done.load(Ordering::SeqCst);
                let path = format!("/api/v1/events?limit=50&cursor={cursor}");
                let path = if cursor.is_empty() {
                    "/api/v1/events?limit=50"
                } else {
                    &path
                };
                let (status, _, page) = http(&addr, Some(&token), "GET", path, None);
                assert_eq!(status, 200, "{page}");
                let page = json_of(&page);
                let items = page["items"].as_array().cloned().unwrap_or_default();
                seen.extend(items.iter().filter_map(|e| {
                    let area = e["area_code"].as_str().unwrap_or("city").to_owned();
                    Some((area, e["seq"].as_i64()?))
                }));
                cursor = page["next_cursor"].as_str().unwrap_or_default().to_owned();
                if items.is_empty() && finished {
                    return seen;
                }
            }
        })
    };
    let writers: Vec<_> = (0..4u32)
        .map(|w| {
            let (addrs, token) = (addrs.clone(), token.clone());
            std::thread::spawn(move || {
                let mut ids = Vec::new();
                for i in 0..25u32 {
                    let n = w * 1000 + i;
                    let key = format!("two-nodes-{n}");
                    let body = enterprise(n, if n % 2 == 0 { "510703" } else { "510781" });
                    let mut answers = Vec::new();
                    for addr in [&addrs[(i % 2) as usize], &addrs[((i + 1) % 2) as usize]] {
                        let (status, head, reply) = http_with(
                            addr,
                            Some(&token),
                            "POST",
                            "/api/v1/enterprises",
                            Some(&body),
                            &[("Idempotency-Key", &key)],
                        );
                        assert_eq!(status, 201, "{reply}");
                        answers.push((
                            head.contains("idempotency-replayed: true"),
                            json_of(&reply)["id"].clone(),
                        ));
                    }
                    assert_eq!(answers[0].1, answers[1].1, "one record for one key");
                    assert!(
                        !answers[0].0 && answers[1].0,
                        "the other node replays: {answers:?}"
                    );
                    ids.push(answers[0].1.as_str().unwrap_or_default().to_owned());
                }
                ids
            })
        })
        .collect();
    let ids: Vec<String> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap_or_else(|_| panic!("a writer panicked")))
        .collect();
    done.store(true, Ordering::SeqCst);
    let followed = reader
        .join()
        .unwrap_or_else(|_| panic!("the reader panicked"));

    let stored: Vec<i64> = db
        .store
        .list_events(&EventVisibility::All, &EventFilter::default(), 100_000)
        .unwrap_or_else(|e| panic!("{e}"))
        .events
        .into_iter()
        .map(|e| e.seq)
        .collect();
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), 100, "every key made one record");
    let created = enterprises_created(&db);
    assert_eq!(
        created.len(),
        100,
        "one event per record, none lost or doubled"
    );
    // Events are ordered per area: within one the feed gave them in `seq` order; across
    // areas one that committed late may come after higher ones, but none is missing or
    // given twice.
    for area in ["510703", "510781", "city"] {
        let in_area: Vec<i64> = followed
            .iter()
            .filter(|e| e.0 == area)
            .map(|e| e.1)
            .collect();
        assert!(
            in_area.windows(2).all(|w| w[0] < w[1]),
            "in order within {area}: {in_area:?}"
        );
    }
    let mut followed: Vec<i64> = followed.into_iter().map(|e| e.1).collect();
    followed.sort_unstable();
    let given = followed.len();
    followed.dedup();
    assert_eq!(given, followed.len(), "no event given twice");
    assert_eq!(
        followed, stored,
        "the feed followed during the load skipped nothing"
    );
    assert_eq!(
        whole_feed(&addrs[0], &token),
        stored,
        "node A's feed is the same"
    );

    // A token revoked on node A stops working on node B within the cache's lifetime.
    let (status, _, made) = http(
        &addrs[0],
        Some(&token),
        "POST",
        "/api/v1/principals",
        Some(r#"{"name":"市局监管员","role":"city_regulator"}"#),
    );
    assert_eq!(status, 201, "{made}");
    let principal = json_of(&made)["id"].as_str().unwrap_or_default().to_owned();
    let (status, _, issued) = http(
        &addrs[0],
        Some(&token),
        "POST",
        &format!("/api/v1/principals/{principal}/tokens"),
        Some("{}"),
    );
    assert_eq!(status, 201, "{issued}");
    let issued = json_of(&issued);
    let (other, token_id) = (
        issued["token"].as_str().unwrap_or_default().to_owned(),
        issued["id"].as_str().unwrap_or_default().to_owned(),
    );
    assert_eq!(
        http(&addrs[1], Some(&other), "GET", "/api/v1/me", None).0,
        200
    );
    let (status, _, revoked) = http_with(
        &addrs[0],
        Some(&token),
        "POST",
        &format!("/api/v1/tokens/{token_id}/revocation"),
        Some(r#"{"reason":"人员调离"}"#),
        &[("If-Match", "\"1\"")],
    );
    assert_eq!(status, 200, "{revoked}");
    assert_eq!(
        http(&addrs[0], Some(&other), "GET", "/api/v1/me", None).0,
        401,
        "at once on A"
    );
    let revoked_at = Instant::now();
    while http(&addrs[1], Some(&other), "GET", "/api/v1/me", None).0 == 200 {
        assert!(
            revoked_at.elapsed() < Duration::from_secs(3),
            "node B still accepts a token revoked on A after the 1 s cache bound"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = command(&db.url, &["audit", "verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
