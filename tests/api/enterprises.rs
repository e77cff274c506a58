//! The ledger API end to end in process: create, read, patch, list, filters, paging,
//! idempotency, optimistic concurrency, and concurrent writers.

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use safegrade_testkit::{
    TestDb, credit_code, enterprise_body, json_request, post_enterprise, send, test_app,
};
use serde_json::{Value, json};

use crate::{assert_record_snapshot, futures_join_all};

both!(
    create_read_patch,
    duplicate_credit_code,
    list_filters_and_paging,
    idempotent_create,
    stale_if_match,
    concurrent_creates_all_succeed,
    concurrent_duplicates_fail_alone,
    patch_validates_whole_record
);

async fn create_read_patch(db: TestDb) {
    let app = test_app(db.store.clone()).await;
    let created = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/enterprises",
            &enterprise_body(&credit_code(1)),
        ),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        created.header("location"),
        format!("/api/v1/enterprises/{id}")
    );
    assert_eq!(created.header("etag"), "\"1\"");
    assert_eq!(created.body["sector"], "building_materials");
    assert_record_snapshot!("enterprise_created", created.body);

    let got = send(
        &app,
        TestRequest::get().uri(&format!("/api/v1/enterprises/{id}")),
    )
    .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, created.body, "read back what was written");

    let patch =
        json!({"name": "绵阳市示例建材股份有限公司", "address": null, "industry_code": "C3051"});
    let patched = send(
        &app,
        json_request(Method::PATCH, &format!("/api/v1/enterprises/{id}"), &patch)
            .insert_header(("content-type", "application/merge-patch+json"))
            .insert_header(("if-match", "\"1\"")),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.header("etag"), "\"2\"");
    assert_eq!(patched.body["version"], 2);
    assert_eq!(patched.body["address"], Value::Null);
    assert_eq!(
        patched.body["sector"], "light_industry",
        "305 glass is light industry"
    );
    assert_eq!(patched.body["created_at"], created.body["created_at"]);
    assert_record_snapshot!("enterprise_patched", patched.body);

    let again = send(
        &app,
        json_request(Method::PATCH, &format!("/api/v1/enterprises/{id}"), &patch),
    )
    .await;
    assert_eq!(
        again.body["version"], 2,
        "a patch that changes nothing keeps the version"
    );
}

async fn duplicate_credit_code(db: TestDb) {
    let app = test_app(db.store.clone()).await;
    let body = enterprise_body(&credit_code(2));
    assert_eq!(
        send(
            &app,
            json_request(Method::POST, "/api/v1/enterprises", &body)
        )
        .await
        .status,
        StatusCode::CREATED
    );
    // The same code typed in full-width lower case is still the same enterprise.
    let full_width: String = credit_code(2)
        .chars()
        .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap_or(c))
        .collect();
    let mut twin = body.clone();
    twin["credit_code"] = Value::String(full_width);
    let dup = send(
        &app,
        json_request(Method::POST, "/api/v1/enterprises", &twin),
    )
    .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.body["code"], "duplicate_credit_code");
    let list = send(&app, TestRequest::get().uri("/api/v1/enterprises")).await;
    assert_eq!(
        list.body["items"].as_array().map(Vec::len),
        Some(1),
        "the refused write changed nothing"
    );

    // A change of credit code is checked against the others too, and frees the old code
    // (the lookup table follows the enterprise, docs/adr/0007).
    let (_, uri) = post_enterprise(&app, 3).await;
    let patch = |code: String| {
        json_request(
            Method::PATCH,
            &uri,
            &serde_json::json!({"credit_code": code}),
        )
        .insert_header(("content-type", "application/merge-patch+json"))
    };
    let taken = send(&app, patch(credit_code(2))).await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);
    assert_eq!(taken.body["code"], "duplicate_credit_code");
    let moved = send(&app, patch(credit_code(4))).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    // Created again with the code it gave up (`post_enterprise` asserts 201).
    post_enterprise(&app, 3).await;
}

async fn list_filters_and_paging(db: TestDb) {
    let app = test_app(db.store.clone()).await;
    let variants = [
        (
            "510703",
            "C3011",
            None,
            "small",
            "other",
            "operating",
            "甲建材",
        ),
        (
            "510781",
            "B1011",
            Some("open_pit"),
            "micro",
            "other",
            "operating",
            "乙采石场",
        ),
        (
            "510700-GX",
            "C3311",
            None,
            "large",
            "central",
            "suspended",
            "丙机械",
        ),
        (
            "510703",
            "F5211",
            None,
            "medium",
            "municipal_key",
            "operating",
            "丁商贸_100%",
        ),
        (
            "510781",
            "C3110",
            None,
            "large",
            "provincial",
            "closed",
            "戊钢铁",
        ),
    ];
    let mut ids = Vec::new();
    for (n, (area, industry, mine, scale, ownership, status, name)) in variants.iter().enumerate() {
        let mut body = enterprise_body(&credit_code(100 + u32::try_from(n).unwrap_or(0)));
        body["area_code"] = json!(area);
        body["industry_code"] = json!(industry);
        body["mine_kind"] = json!(mine);
        body["scale"] = json!(scale);
        body["ownership"] = json!(ownership);
        body["operating_status"] = json!(status);
        body["name"] = json!(name);
        let r = send(
            &app,
            json_request(Method::POST, "/api/v1/enterprises", &body),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        ids.push(r.body["id"].as_str().unwrap_or_default().to_owned());
    }
    let names = |r: &safegrade_testkit::Reply| -> Vec<String> {
        r.body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let cases: [(&str, &[&str]); 10] = [
        ("area_code=510703", &["甲建材", "丁商贸_100%"]),
        ("area_code=510781&sector=non_coal_mine", &["乙采石场"]),
        ("sector=metallurgy", &["戊钢铁"]),
        ("industry_code=c3311", &["丙机械"]),
        ("scale=large", &["丙机械", "戊钢铁"]),
        ("ownership=municipal_key", &["丁商贸_100%"]),
        ("operating_status=closed", &["戊钢铁"]),
        ("q=%E5%BB%BA%E6%9D%90", &["甲建材"]),
        ("q=_100%25", &["丁商贸_100%"]),
        ("q=%25", &["丁商贸_100%"]),
    ];
    for (query, want) in cases {
        let r = send(
            &app,
            TestRequest::get().uri(&format!("/api/v1/enterprises?{query}")),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
        assert_eq!(names(&r), want.to_vec(), "{query}");
    }
    let by_code = send(
        &app,
        TestRequest::get().uri(&format!(
            "/api/v1/enterprises?credit_code={}",
            credit_code(101).to_lowercase()
        )),
    )
    .await;
    assert_eq!(names(&by_code), vec!["乙采石场"]);

    // Paging: two at a time, in creation order, a record added mid-way does not disturb it.
    let mut seen = Vec::new();
    let mut uri = "/api/v1/enterprises?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let r = send(&app, TestRequest::get().uri(&uri)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        if pages == 0 {
            assert_record_snapshot!("enterprise_list_page", r.body);
            let late = enterprise_body(&credit_code(199));
            assert_eq!(
                send(
                    &app,
                    json_request(Method::POST, "/api/v1/enterprises", &late)
                )
                .await
                .status,
                StatusCode::CREATED
            );
        }
        pages += 1;
        seen.extend(
            r.body["items"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| e["id"].as_str().unwrap_or_default().to_owned()),
        );
        match r.body["next_cursor"].as_str() {
            Some(c) => uri = format!("/api/v1/enterprises?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(&seen[..5], &ids[..], "stable creation order");
    assert_eq!(
        seen.len(),
        6,
        "the record added while paging is on the last page"
    );
}

async fn idempotent_create(db: TestDb) {
    let app = test_app(db.store.clone()).await;
    let body = enterprise_body(&credit_code(300));
    let post = |b: &Value| {
        json_request(Method::POST, "/api/v1/enterprises", b)
            .insert_header(("idempotency-key", "k-300"))
    };
    let first = send(&app, post(&body)).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let replay = send(&app, post(&body)).await;
    assert_eq!(replay.status, StatusCode::CREATED, "{}", replay.body);
    assert_eq!(replay.body, first.body, "the first answer is replayed");
    assert_eq!(replay.header("location"), first.header("location"));
    assert_eq!(replay.header("idempotency-replayed"), "true");
    let mut other = body.clone();
    other["name"] = json!("别的企业");
    let reused = send(&app, post(&other)).await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.body["code"], "idempotency_key_reused");
    let list = send(&app, TestRequest::get().uri("/api/v1/enterprises")).await;
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(1));
}

async fn stale_if_match(db: TestDb) {
    let app = test_app(db.store.clone()).await;
    let (_, uri) = post_enterprise(&app, 400).await;
    let first = send(
        &app,
        json_request(Method::PATCH, &uri, &json!({"employees": 1}))
            .insert_header(("if-match", "\"1\"")),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK);
    let stale = send(
        &app,
        json_request(Method::PATCH, &uri, &json!({"employees": 2}))
            .insert_header(("if-match", "\"1\"")),
    )
    .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(stale.body["code"], "version_mismatch");
    assert_eq!(stale.header("etag"), "\"2\"");
    let now = send(&app, TestRequest::get().uri(&uri)).await;
    assert_eq!(now.body["employees"], 1, "the stale write changed nothing");
}

async fn patch_validates_whole_record(db: TestDb) {
    let app = test_app(db.store.clone()).await;
    let (_, uri) = post_enterprise(&app, 500).await;
    // Becoming a non-coal mine requires a mine kind; id is read-only; name cannot be cleared.
    let r = send(
        &app,
        json_request(
            Method::PATCH,
            &uri,
            &json!({"industry_code": "B1012", "id": "x", "name": null}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let pointers: Vec<&str> = r.body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["pointer"].as_str())
        .collect();
    assert_eq!(pointers, vec!["/id", "/name", "/mine_kind"]);
    let ok = send(
        &app,
        json_request(
            Method::PATCH,
            &uri,
            &json!({"industry_code": "B1012", "mine_kind": "small_open_pit_quarry"}),
        ),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["sector"], "non_coal_mine");
}

async fn concurrent_creates_all_succeed(db: TestDb) {
    let app = std::rc::Rc::new(test_app(db.store.clone()).await);
    let futures = (0..64u32).map(|n| {
        let app = app.clone();
        async move {
            send(
                &*app,
                json_request(
                    Method::POST,
                    "/api/v1/enterprises",
                    &enterprise_body(&credit_code(1000 + n)),
                ),
            )
            .await
            .status
        }
    });
    let statuses = futures_join_all(futures).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    let list = send(
        &*app,
        TestRequest::get().uri("/api/v1/enterprises?limit=200"),
    )
    .await;
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(64));
}

async fn concurrent_duplicates_fail_alone(db: TestDb) {
    // Each of 32 codes is sent twice at once: on SQLite both copies may land in the same
    // group commit, where the loser's savepoint is undone without touching the others.
    let app = std::rc::Rc::new(test_app(db.store.clone()).await);
    let futures = (0..64u32).map(|n| {
        let app = app.clone();
        async move {
            let body = enterprise_body(&credit_code(2000 + n / 2));
            send(
                &*app,
                json_request(Method::POST, "/api/v1/enterprises", &body),
            )
            .await
            .status
        }
    });
    let statuses = futures_join_all(futures).await;
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (32, 32), "{statuses:?}");
    let list = send(
        &*app,
        TestRequest::get().uri("/api/v1/enterprises?limit=200"),
    )
    .await;
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(32));
}
