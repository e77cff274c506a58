//! The audit chain through the store and the API: daily heads are recorded once per chain
//! that grew, in the chain itself; the export filters by chain and by day, and refuses what
//! it cannot read. (Tampering and the command line: `crates/server/tests/e2e/audit.rs`.)

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use chrono::Duration;
use safegrade_store::events::chain::{CITY_CHAIN, GENESIS};
use safegrade_store::events::{EventData, EventFilter, EventVisibility};
use safegrade_testkit::{
    TestDb, credit_code, enterprise_body, json_request, post_enterprise, principal, send,
};
use serde_json::json;

both!(
    chain_heads_are_recorded_once_a_day_per_chain_that_grew,
    the_export_selects_by_chain_and_day,
    a_move_to_another_area_is_seen_by_both_areas
);

async fn chain_heads_are_recorded_once_a_day_per_chain_that_grew(db: TestDb) {
    let app = safegrade_testkit::test_app(db.store.clone()).await;
    for (n, area) in [(1, "510703"), (2, "510704"), (3, "510703")] {
        let mut body = enterprise_body(&credit_code(n));
        body["area_code"] = json!(area);
        let r = send(
            &app,
            json_request(actix_web::http::Method::POST, "/api/v1/enterprises", &body),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    principal(
        &db.store,
        json!({"name": "市局监管员", "role": "city_regulator"}),
    );
    let today = safegrade_http::china_today();
    let record = |day| {
        db.store
            .record_chain_heads(day)
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(record(today), 0, "today's events wait for tomorrow");
    let tomorrow = today + Duration::days(1);
    assert_eq!(record(tomorrow), 3, "510703, 510704 and city grew");
    assert_eq!(record(tomorrow), 0, "once a day");
    assert_eq!(record(tomorrow + Duration::days(1)), 0, "nothing new since");

    let heads = db
        .store
        .list_events(
            &EventVisibility::All,
            &EventFilter {
                types: vec![safegrade_domain::EventType::ChainHeadRecorded],
                ..EventFilter::default()
            },
            100,
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .events;
    safegrade_testkit::verified_chains(&db.store);
    for head in &heads {
        let EventData::ChainHeadRecorded(data) = &head.data else {
            panic!("{head:?}")
        };
        assert_eq!(data.recorded_on, tomorrow.to_string());
        assert_eq!(head.resource_id, data.chain);
        assert_eq!(
            head.area_code.as_deref().unwrap_or(CITY_CHAIN),
            data.chain,
            "recorded in the chain it names"
        );
        // It names the chain's last event before it, with that event's hash.
        let before = db
            .store
            .chained_events(Some(&data.chain), 0, (None, None), 1000)
            .unwrap_or_else(|e| panic!("{e}"));
        let last = before
            .iter()
            .take_while(|e| e.seq < head.seq)
            .last()
            .unwrap_or_else(|| panic!("{head:?}"));
        assert_eq!(
            (last.seq, last.hash.as_deref()),
            (data.seq, Some(data.hash.as_str()))
        );
    }

    // A chain that grows again gets a head the next day; the others do not.
    let mut body = enterprise_body(&credit_code(4));
    body["area_code"] = json!("510703");
    let r = send(
        &app,
        json_request(actix_web::http::Method::POST, "/api/v1/enterprises", &body),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(record(tomorrow + Duration::days(2)), 1);
    let heads = db.store.chain_heads().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        heads.iter().map(|h| h.chain.as_str()).collect::<Vec<_>>(),
        ["510703", "510704", "city"]
    );
    // 510703: three enterprises, two heads.
    assert_eq!(heads[0].length, 5, "{heads:?}");
}

async fn the_export_selects_by_chain_and_day(db: TestDb) {
    let app = safegrade_testkit::test_app(db.store.clone()).await;
    for (n, area) in [(1, "510703"), (2, "510704")] {
        let mut body = enterprise_body(&credit_code(n));
        body["area_code"] = json!(area);
        let r = send(
            &app,
            json_request(actix_web::http::Method::POST, "/api/v1/enterprises", &body),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    principal(
        &db.store,
        json!({"name": "市局监管员", "role": "city_regulator"}),
    );
    let today = safegrade_http::china_today();
    let export = |query: String| {
        let app = &app;
        async move {
            send(
                app,
                TestRequest::get().uri(&format!("/api/v1/events/export{query}")),
            )
            .await
        }
    };
    let lines = |r: &safegrade_testkit::Reply| r.body.as_array().cloned().unwrap_or_default();

    let all = export(String::new()).await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.header("content-type"), "application/x-ndjson");
    assert!(all.header("content-disposition").contains(".ndjson"));
    let all = lines(&all);
    assert!(all.len() >= 3, "{all:?}");
    let seqs: Vec<i64> = all.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in seq order");

    let city = lines(&export("?area_code=city".into()).await);
    assert!(!city.is_empty() && city.iter().all(|e| e["area_code"].is_null()));
    assert_eq!(city[0]["prev_hash"], GENESIS);
    let area = lines(&export("?area_code=510704".into()).await);
    assert_eq!(area.len(), 1);
    assert_eq!(area[0]["area_code"], "510704");
    assert!(area[0]["data"].is_string(), "the payload as stored text");

    let day = |d: chrono::NaiveDate| d.to_string();
    let same = lines(&export(format!("?from={}&to={}", day(today), day(today))).await);
    assert_eq!(same.len(), all.len(), "today's events, by China's date");
    let later = lines(&export(format!("?from={}", day(today + Duration::days(1)))).await);
    assert!(later.is_empty());
    let earlier = lines(&export(format!("?to={}", day(today - Duration::days(1)))).await);
    assert!(earlier.is_empty());

    for (query, says) in [
        ("?area_code=999999", "neither a supervision area nor city"),
        ("?from=2026-02-01&to=2026-01-01", "is after"),
        ("?from=yesterday", "from"),
        ("?chain=510703", "chain"),
    ] {
        let r = export(query.into()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.body);
        assert_eq!(
            r.header("content-type"),
            "application/problem+json",
            "{query}"
        );
        assert!(r.body.to_string().contains(says), "{query}: {}", r.body);
    }
}

async fn a_move_to_another_area_is_seen_by_both_areas(db: TestDb) {
    let app = safegrade_testkit::test_app(db.store.clone()).await;
    let mut ids = Vec::new();
    for n in [1, 2] {
        let (created, _) = post_enterprise(&app, n).await;
        ids.push(created.body["id"].as_str().unwrap_or_default().to_owned());
    }
    // The first moves through the transfer operation, the second through the deprecated
    // PATCH of `area_code` (with another change): the same transition.
    let moved = send(
        &app,
        json_request(
            actix_web::http::Method::POST,
            &format!("/api/v1/enterprises/{}/transfer", ids[0]),
            &json!({"area_code": "510704", "reason": "迁址至游仙区"}),
        )
        .insert_header(("If-Match", "\"1\"")),
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert_eq!(moved.body["area_code"], "510704");
    assert_eq!(moved.header("etag"), "\"2\"");
    let patched = send(
        &app,
        json_request(
            actix_web::http::Method::PATCH,
            &format!("/api/v1/enterprises/{}", ids[1]),
            &json!({"area_code": "510704", "employees": 7, "reason": "区划调整"}),
        )
        .insert_header(("If-Match", "\"1\"")),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(
        patched.header("etag"),
        "\"3\"",
        "the change, then the transfer"
    );
    // Refused: back to where it is, and without a reason (422, nothing written).
    let refused = send(
        &app,
        json_request(
            actix_web::http::Method::POST,
            &format!("/api/v1/enterprises/{}/transfer", ids[0]),
            &json!({"area_code": "510704"}),
        ),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let pointers: Vec<&str> = refused.body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["pointer"].as_str())
        .collect();
    assert_eq!(pointers, ["/area_code", "/reason"]);

    let regulator = |area: &str| {
        principal(
            &db.store,
            json!({"name": format!("{area} 监管"), "role": "area_regulator", "area_codes": [area]}),
        )
        .1
    };
    let (left, joined) = (regulator("510703"), regulator("510704"));
    let feed_of = |token: String| {
        let app = &app;
        async move {
            let r = safegrade_testkit::send_as(
                app,
                Some(&token),
                TestRequest::get().uri("/api/v1/events?resource_type=enterprise"),
            )
            .await;
            r.body["items"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|e| e["type"].as_str().unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        feed_of(left.clone()).await,
        [
            "enterprise.created",
            "enterprise.created",
            "enterprise.transferred",
            "enterprise.updated",
            "enterprise.transferred"
        ],
        "the area they left sees them arrive, change and leave"
    );
    assert_eq!(
        feed_of(joined.clone()).await,
        ["enterprise.transferred", "enterprise.transferred"],
        "the area they joined sees them come"
    );
    for (token, status) in [(&left, StatusCode::NOT_FOUND), (&joined, StatusCode::OK)] {
        let r = safegrade_testkit::send_as(
            &app,
            Some(token),
            TestRequest::get().uri(&format!("/api/v1/enterprises/{}", ids[0])),
        )
        .await;
        assert_eq!(r.status, status, "{}", r.body);
    }
    for (area, index) in [("510703", 2), ("510704", 0)] {
        let chain = db
            .store
            .chained_events(Some(area), 0, (None, None), 10)
            .unwrap_or_else(|e| panic!("{e}"));
        let event = &chain[index];
        assert_eq!(event.event_type, "enterprise.transferred", "{area}");
        assert_eq!(event.reason.as_deref(), Some("迁址至游仙区"));
        assert!(
            event
                .data
                .contains("\"from_area\":\"510703\",\"to_area\":\"510704\""),
            "{}",
            event.data
        );
    }
    safegrade_testkit::verified_chains(&db.store);
}
