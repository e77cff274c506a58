//! Webhooks end to end: a real receiver on a local port, the server's background worker
//! delivering to it over HTTP. A receiver that is down, then up, gets every event once,
//! signed, in order; a subscriber is sent only what it may read; two nodes on one database
//! never deliver an event twice.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use safegrade_http::plumbing::app::AppState;
use safegrade_http::webhooks::signature::verify;
use safegrade_http::worker::{Worker, WorkerConfig};
use safegrade_testkit::{
    TestDb, enterprise_body, json_request, principal, send, send_as, test_app_from,
};
use serde_json::{Value, json};

both!(
    a_receiver_down_then_up_gets_every_event_once_in_order,
    two_nodes_never_deliver_an_event_twice
);

/// One request the receiver took.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: i64,
    signature: String,
    body: Vec<u8>,
    answered: u16,
}

/// A local HTTP receiver answering every request with `status` (503: "down").
struct Receiver {
    url: String,
    status: Arc<AtomicU16>,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let url = format!(
            "http://{}/safegrade-events",
            listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
        );
        let status = Arc::new(AtomicU16::new(200));
        let got = Arc::new(Mutex::new(Vec::new()));
        let (s, g) = (status.clone(), got.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream);
                let mut headers = Vec::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    headers.push(line.trim_end().to_owned());
                }
                let header = |name: &str| {
                    headers
                        .iter()
                        .find_map(|h| {
                            let (k, v) = h.split_once(':')?;
                            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
                        })
                        .unwrap_or_default()
                };
                let length: usize = header("content-length").parse().unwrap_or(0);
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let answered = s.load(Ordering::SeqCst);
                if let Ok(mut g) = g.lock() {
                    g.push(Received {
                        id: header("webhook-id"),
                        timestamp: header("webhook-timestamp").parse().unwrap_or(0),
                        signature: header("webhook-signature"),
                        body,
                        answered,
                    });
                }
                let mut stream = reader.into_inner();
                let _ = write!(
                    stream,
                    "HTTP/1.1 {answered} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        Self { url, status, got }
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().map(|g| g.clone()).unwrap_or_default()
    }

    /// The events it took (2xx), as `seq`s.
    fn taken(&self) -> Vec<i64> {
        self.received()
            .iter()
            .filter(|r| r.answered == 200)
            .filter_map(|r| {
                serde_json::from_slice::<Value>(&r.body)
                    .ok()
                    .and_then(|b| b["seq"].as_i64())
            })
            .collect()
    }
}

/// Waits until `done` holds (checking every 50 ms), or panics after 20 s with `what`.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn quick() -> WorkerConfig {
    WorkerConfig {
        import_lanes: 0,
        webhook_lanes: 2,
        poll: Duration::from_millis(50),
    }
}

/// Makes the delivery jobs due now, as the end of their backoff would.
fn end_backoff(store: &safegrade_store::Store) {
    store
        .with_write_tx(|tx| {
            use diesel::prelude::*;
            use safegrade_store::schema::jobs;
            diesel::update(jobs::table.filter(jobs::kind.eq("webhook")))
                .set(jobs::run_after.eq(safegrade_store::now()))
                .execute(&mut **tx)
                .map_err(safegrade_store::StoreError::from)
        })
        .unwrap_or_else(|e| panic!("{e:?}"));
}

async fn a_receiver_down_then_up_gets_every_event_once_in_order(db: TestDb) {
    let state = AppState::new(db.store.clone());
    let app = test_app_from(state.clone()).await;
    let receiver = Receiver::start();
    let county_receiver = Receiver::start();
    receiver.status.store(503, Ordering::SeqCst);

    // The city subscribes to enterprise events; a county's integration to everything.
    let sub = send(
        &app,
        json_request(
            actix_web::http::Method::POST,
            "/api/v1/webhooks",
            &json!({"url": receiver.url, "event_types": ["enterprise.created", "enterprise.updated"]}),
        ),
    )
    .await;
    assert_eq!(sub.status, StatusCode::CREATED, "{}", sub.body);
    let secret = sub.body["secret"].as_str().unwrap_or_default().to_owned();
    let hook = sub.body["id"].as_str().unwrap_or_default().to_owned();
    let (_, integration) = principal(
        &db.store,
        json!({"name": "涪城区对接", "role": "integration", "area_codes": ["510703"], "read_only": true}),
    );
    let county = send_as(
        &app,
        Some(&integration),
        json_request(
            actix_web::http::Method::POST,
            "/api/v1/webhooks",
            &json!({"url": county_receiver.url}),
        ),
    )
    .await;
    assert_eq!(county.status, StatusCode::CREATED, "{}", county.body);
    let got = send(
        &app,
        TestRequest::get().uri(&format!("/api/v1/webhooks/{hook}")),
    )
    .await;
    assert!(got.body.get("secret").is_none(), "the secret is shown once");

    let worker = Worker::start(&state, quick());
    // Five enterprises, three in 涪城区 (510703) and two in 游仙区 (510704).
    let mut ids = Vec::new();
    for n in 0..5 {
        let mut body = enterprise_body(&safegrade_testkit::credit_code(300 + n));
        body["area_code"] = json!(if n % 2 == 0 { "510703" } else { "510704" });
        let r = send(
            &app,
            json_request(actix_web::http::Method::POST, "/api/v1/enterprises", &body),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        ids.push(r.body["id"].as_str().unwrap_or_default().to_owned());
    }
    // Down: the first event is tried (and refused); nothing is taken; the order holds.
    let hook_id = safegrade_domain::WebhookId::parse(&hook).unwrap_or_else(|| panic!("id"));
    let attempts = |n: usize| {
        db.store
            .list_deliveries(hook_id, None, 200)
            .is_ok_and(|d| d.len() >= n)
    };
    wait_for("a refused attempt", || attempts(1));
    assert!(receiver.taken().is_empty());
    let failing = send(
        &app,
        TestRequest::get().uri(&format!("/api/v1/webhooks/{hook}/deliveries")),
    )
    .await;
    let first = &failing.body["items"][0];
    assert_eq!(
        (
            first["succeeded"].as_bool(),
            first["status_code"].as_i64(),
            first["attempt"].as_i64()
        ),
        (Some(false), Some(503), Some(1)),
        "{}",
        failing.body
    );
    let webhook = send(
        &app,
        TestRequest::get().uri(&format!("/api/v1/webhooks/{hook}")),
    )
    .await;
    assert!(
        webhook.body["failing_since"].is_string(),
        "{}",
        webhook.body
    );
    assert_eq!(webhook.body["status"], "active", "retried, not yet failing");

    // Still down after the retry period (as if a day had passed since the first failure):
    // the next failure marks the subscription failing, and delivery stops.
    db.store
        .with_write_tx(move |tx| {
            use diesel::prelude::*;
            use safegrade_store::schema::webhooks;
            diesel::update(webhooks::table.find(hook_id.to_string()))
                .set(
                    webhooks::failing_since
                        .eq(safegrade_store::now() - chrono::Duration::hours(25)),
                )
                .execute(&mut **tx)
                .map_err(safegrade_store::StoreError::from)
        })
        .unwrap_or_else(|e| panic!("{e:?}"));
    end_backoff(&db.store);
    wait_for("failing", || {
        db.store
            .get_webhook(hook_id)
            .is_ok_and(|w| w.status == safegrade_domain::jobs::WebhookStatus::Failing)
    });
    let tried = receiver.received().len();
    end_backoff(&db.store);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(
        receiver.received().len(),
        tried,
        "a failing subscription is parked"
    );

    // Up, and enabled again: every event arrives once, in order, signed.
    receiver.status.store(200, Ordering::SeqCst);
    let resumed = send(
        &app,
        json_request(
            actix_web::http::Method::PATCH,
            &format!("/api/v1/webhooks/{hook}"),
            &json!({"enabled": true}),
        )
        .insert_header(("content-type", "application/merge-patch+json")),
    )
    .await;
    assert_eq!(resumed.body["status"], "active", "{}", resumed.body);
    wait_for("five events", || receiver.taken().len() >= 5);
    let settled = |seq: i64| {
        db.store
            .get_webhook(hook_id)
            .is_ok_and(|w| w.cursor.floor() >= seq)
    };
    let events = db
        .store
        .list_events(
            &safegrade_store::events::EventVisibility::All,
            &Default::default(),
            100,
        )
        .unwrap_or_else(|e| panic!("{e:?}"))
        .events;
    let created: Vec<i64> = events
        .iter()
        .filter(|e| safegrade_domain::CodeList::as_str(&e.event_type) == "enterprise.created")
        .map(|e| e.seq)
        .collect();
    assert_eq!(receiver.taken(), created, "every event once, in seq order");
    for r in receiver.received() {
        assert!(
            verify(&secret, &r.id, r.timestamp, &r.body, &r.signature),
            "signed: {r:?}"
        );
        let body: Value = serde_json::from_slice(&r.body).unwrap_or_default();
        assert_eq!(
            r.id,
            format!("evt_{}", body["seq"]),
            "the message id is the event's"
        );
        assert_eq!(body["type"], "enterprise.created");
    }
    wait_for("the cursor", || settled(created[4]));
    let webhook = send(
        &app,
        TestRequest::get().uri(&format!("/api/v1/webhooks/{hook}")),
    )
    .await;
    assert_eq!(webhook.body["failing_since"], Value::Null);
    assert!(
        webhook.body["caught_up_to_seq"].as_i64() >= Some(created[4]),
        "{}",
        webhook.body
    );

    // The county's integration was sent its county's records only (and not the city's
    // webhook events): three enterprises.
    wait_for("the county's three", || county_receiver.taken().len() >= 3);
    std::thread::sleep(Duration::from_millis(300));
    let county_events: Vec<Value> = county_receiver
        .received()
        .iter()
        .filter_map(|r| serde_json::from_slice(&r.body).ok())
        .collect();
    assert_eq!(county_events.len(), 3, "{county_events:?}");
    assert!(county_events.iter().all(|e| e["area_code"] == "510703"));

    // A manual redelivery sends the first failed attempt's event again, once.
    let attempt = first["id"].as_str().unwrap_or_default();
    let again = send(
        &app,
        json_request(
            actix_web::http::Method::POST,
            &format!("/api/v1/webhooks/{hook}/deliveries/{attempt}/redelivery"),
            &json!({"reason": "接收方补数"}),
        ),
    )
    .await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    wait_for("the redelivery", || receiver.taken().len() == 6);
    wait_for("the redelivery's record", || {
        db.store
            .list_deliveries(hook_id, None, 1)
            .is_ok_and(|d| d.first().is_some_and(|d| d.manual))
    });
    assert_eq!(receiver.taken()[5], created[0]);
    let list = send(
        &app,
        TestRequest::get().uri(&format!("/api/v1/webhooks/{hook}/deliveries?limit=1")),
    )
    .await;
    assert_eq!(list.body["items"][0]["manual"], true, "{}", list.body);
    assert!(list.body["next_cursor"].is_string());

    // Disabled: nothing more is sent; enabled again: what happened meanwhile follows.
    let off = send(
        &app,
        json_request(
            actix_web::http::Method::PATCH,
            &format!("/api/v1/webhooks/{hook}"),
            &json!({"enabled": false}),
        )
        .insert_header(("content-type", "application/merge-patch+json")),
    )
    .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    let patch = json!({"name": "绵阳示例（更名）"});
    let renamed = send(
        &app,
        json_request(
            actix_web::http::Method::PATCH,
            &format!("/api/v1/enterprises/{}", ids[0]),
            &patch,
        )
        .insert_header(("content-type", "application/merge-patch+json")),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(
        receiver.taken().len(),
        6,
        "a disabled subscription is sent nothing"
    );
    let on = send(
        &app,
        json_request(
            actix_web::http::Method::PATCH,
            &format!("/api/v1/webhooks/{hook}"),
            &json!({"enabled": true}),
        )
        .insert_header(("content-type", "application/merge-patch+json")),
    )
    .await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.body);
    wait_for("the update", || receiver.taken().len() == 7);
    // Events of other types (the subscription's own updates) are passed over: the
    // subscription catches up with the end of the log.
    wait_for("caught up with the log", || {
        let heads = db.store.chain_heads().unwrap_or_default();
        db.store.get_webhook(hook_id).is_ok_and(|w| {
            !heads.is_empty() && heads.iter().all(|h| w.cursor.of(&h.chain) >= h.last_seq)
        })
    });
    worker.stop();

    // Bad subscriptions are refused.
    for (body, pointer) in [
        (json!({"url": "ftp://x.example/"}), "/url"),
        (
            json!({"url": "https://x.example/", "event_types": ["enterprise.eaten"]}),
            "/event_types/0",
        ),
        (json!({"url": "https://user:pw@x.example/"}), "/url"),
    ] {
        let r = send(
            &app,
            json_request(actix_web::http::Method::POST, "/api/v1/webhooks", &body),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.body["errors"][0]["pointer"], pointer, "{}", r.body);
    }
}

/// Two nodes (two stores on one database, each with its worker) deliver three
/// subscriptions' events: each receiver takes every event exactly once, in order.
async fn two_nodes_never_deliver_an_event_twice(db: TestDb) {
    let state = AppState::new(db.store.clone());
    let app = test_app_from(state.clone()).await;
    let other = AppState::new(db.second_node());
    let receivers: Vec<Receiver> = (0..3).map(|_| Receiver::start()).collect();
    for r in &receivers {
        let sub = send(
            &app,
            json_request(
                actix_web::http::Method::POST,
                "/api/v1/webhooks",
                &json!({"url": r.url, "event_types": ["enterprise.created"]}),
            ),
        )
        .await;
        assert_eq!(sub.status, StatusCode::CREATED, "{}", sub.body);
    }
    let (a, b) = (
        Worker::start(&state, quick()),
        Worker::start(&other, quick()),
    );
    for n in 0..20 {
        let r = send(
            &app,
            json_request(
                actix_web::http::Method::POST,
                "/api/v1/enterprises",
                &enterprise_body(&safegrade_testkit::credit_code(400 + n)),
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    for r in &receivers {
        wait_for("twenty events", || r.taken().len() >= 20);
    }
    std::thread::sleep(Duration::from_millis(300));
    a.stop();
    b.stop();
    for r in &receivers {
        let taken = r.taken();
        assert_eq!(taken.len(), 20, "once each: {taken:?}");
        assert!(taken.windows(2).all(|w| w[0] < w[1]), "in order: {taken:?}");
        assert_eq!(r.received().len(), 20, "no attempt twice");
    }
}
