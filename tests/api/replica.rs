//! `database_read_url`: lists and statistics read from the replica; a single record, the
//! event feed and every write use the primary (docs/SCALE.md). A second test database stands
//! in for the replica, so where each read went shows in what it finds.

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use safegrade_store::{DbUrl, PoolConfig};
use safegrade_testkit::{TestDb, credit_code, enterprise_body, json_request, send, test_app};

#[actix_web::test]
async fn lists_and_statistics_read_the_replica() {
    let (Some(primary), Some(replica)) = (TestDb::postgres(), TestDb::postgres()) else {
        return;
    };
    let url = DbUrl::parse(&replica.url).unwrap_or_else(|e| panic!("{e}"));
    let store = primary
        .store
        .clone()
        .with_replica(&url, &PoolConfig::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let app = test_app(store).await;
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

    // The record itself and the feed come from the primary …
    let one = send(
        &app,
        TestRequest::get().uri(&format!("/api/v1/enterprises/{id}")),
    )
    .await;
    assert_eq!(one.status, StatusCode::OK);
    let feed = send(
        &app,
        TestRequest::get().uri("/api/v1/events?types=enterprise.created"),
    )
    .await;
    assert_eq!(feed.body["items"].as_array().map(Vec::len), Some(1));
    // … the list and the statistics from the replica, which has not seen it.
    let list = send(&app, TestRequest::get().uri("/api/v1/enterprises")).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        list.body["items"].as_array().map(Vec::len),
        Some(0),
        "{}",
        list.body
    );
    let stats = send(&app, TestRequest::get().uri("/api/v1/stats/attainment")).await;
    assert_eq!(stats.body["total"]["enterprises"], 0, "{}", stats.body);

    // Once the replica has it, the list shows it.
    let replica_app = test_app(replica.store.clone()).await;
    let copied = send(
        &replica_app,
        json_request(
            Method::POST,
            "/api/v1/enterprises",
            &enterprise_body(&credit_code(1)),
        ),
    )
    .await;
    assert_eq!(copied.status, StatusCode::CREATED);
    let list = send(&app, TestRequest::get().uri("/api/v1/enterprises")).await;
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(1));
}

#[actix_web::test]
async fn sqlite_has_no_replica() {
    let db = TestDb::sqlite();
    let url = DbUrl::parse(&db.url).unwrap_or_else(|e| panic!("{e}"));
    let refused = db.store.clone().with_replica(&url, &PoolConfig::default());
    assert!(
        refused.is_err_and(|e| format!("{e:?}").contains("needs PostgreSQL")),
        "SQLite cannot have a read replica"
    );
}
