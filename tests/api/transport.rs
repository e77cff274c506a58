//! What HTTP gives clients for free: compression, conditional GETs, and the public
//! register's cross-origin and rate-limit headers.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use safegrade_testkit::{TestDb, post_enterprise, send, send_as, test_app};

both!(compression_conditional_gets_and_public_headers);

async fn compression_conditional_gets_and_public_headers(db: TestDb) {
    let app = test_app(db.store.clone()).await;
    let zipped = send(
        &app,
        TestRequest::get()
            .uri("/api/v1/areas")
            .insert_header(("accept-encoding", "gzip")),
    )
    .await;
    assert_eq!(zipped.status, StatusCode::OK);
    assert_eq!(zipped.header("content-encoding"), "gzip");
    let plain = send(&app, TestRequest::get().uri("/api/v1/areas")).await;
    assert_eq!(plain.header("content-encoding"), "", "only when asked");

    let (created, uri) = post_enterprise(&app, 77).await;
    assert_eq!(created.header("etag"), "\"1\"");
    let same = send(
        &app,
        TestRequest::get()
            .uri(&uri)
            .insert_header(("if-none-match", "\"1\"")),
    )
    .await;
    assert_eq!(same.status, StatusCode::NOT_MODIFIED);
    assert_eq!(same.header("etag"), "\"1\"");
    assert_eq!(same.body, serde_json::Value::Null, "no body");
    let other = send(
        &app,
        TestRequest::get()
            .uri(&uri)
            .insert_header(("if-none-match", "\"2\"")),
    )
    .await;
    assert_eq!(other.status, StatusCode::OK);

    let public = send_as(&app, None, TestRequest::get().uri("/api/v1/register")).await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.body);
    assert_eq!(public.header("access-control-allow-origin"), "*");
    assert_eq!(public.header("ratelimit-limit"), "120");
    assert!(
        public
            .header("ratelimit-remaining")
            .parse::<u32>()
            .is_ok_and(|n| n < 120),
        "{:?}",
        public.headers
    );
}

both!(problem_types_are_absolute_with_a_public_url);

async fn problem_types_are_absolute_with_a_public_url(db: TestDb) {
    let relative = test_app(db.store.clone()).await;
    let r = send(&relative, TestRequest::get().uri("/api/v1/nope")).await;
    assert_eq!(r.body["type"], "/book/errors.html#route_not_found");
    let mut state = safegrade_http::AppState::new(db.store.clone());
    state.public_url = Some("https://safegrade.example.gov.cn/".into());
    let app = safegrade_testkit::test_app_from(state).await;
    let r = send(&app, TestRequest::get().uri("/api/v1/nope")).await;
    assert_eq!(
        r.body["type"],
        "https://safegrade.example.gov.cn/book/errors.html#route_not_found"
    );
}
