//! Operations: `/metrics` (who may read it, and that it counts what happened).

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use safegrade_http::plumbing::app::AppState;
use safegrade_testkit::{TestDb, principal, send, send_as, test_app_from};
use serde_json::json;

both!(
    metrics_count_requests_jobs_and_the_token_cache,
    backups_are_taken_online_on_sqlite_and_left_to_pg_dump_on_postgres
);

/// The value of the first sample of `metrics` whose line starts with `series`.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn metrics_count_requests_jobs_and_the_token_cache(db: TestDb) {
    let mut state = AppState::new(db.store.clone());
    state.metrics_token = Some("scrape-me-please-0123456789".into());
    let app = test_app_from(state).await;
    for _ in 0..3 {
        let r = send(&app, TestRequest::get().uri("/api/v1/areas")).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let _ = send(
        &app,
        TestRequest::get().uri("/api/v1/enterprises/not-an-id"),
    )
    .await;
    let posted = send(
        &app,
        TestRequest::post()
            .uri("/api/v1/imports?dry_run=true")
            .insert_header(("content-type", "text/csv"))
            .set_payload("统一社会信用代码\n91510703000000003X\n"),
    )
    .await;
    assert_eq!(posted.status, StatusCode::ACCEPTED);

    let anonymous = send_as(&app, None, TestRequest::get().uri("/metrics")).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let (_, county) = principal(
        &db.store,
        json!({"name": "涪城区", "role": "area_regulator", "area_codes": ["510703"]}),
    );
    let refused = send_as(&app, Some(&county), TestRequest::get().uri("/metrics")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let by_token = send_as(
        &app,
        Some("scrape-me-please-0123456789"),
        TestRequest::get().uri("/metrics"),
    )
    .await;
    assert_eq!(by_token.status, StatusCode::OK);
    let m = send(&app, TestRequest::get().uri("/metrics")).await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(
        m.header("content-type")
            .starts_with("text/plain; version=0.0.4")
    );
    let text = String::from_utf8_lossy(&m.raw).into_owned();
    assert_eq!(
        sample(
            &text,
            "safegrade_http_requests_total{route=\"/api/v1/areas\",method=\"GET\",status=\"200\"}"
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "safegrade_http_requests_total{route=\"/api/v1/enterprises/{id}\",method=\"GET\",status=\"400\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "safegrade_http_request_duration_seconds_count{route=\"/api/v1/areas\",method=\"GET\"}"
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(&text, "safegrade_jobs{kind=\"import\",state=\"queued\"}"),
        Some(1.0),
        "{text}"
    );
    assert!(sample(&text, "safegrade_job_lag_seconds{kind=\"import\"}").is_some());
    assert!(sample(&text, "safegrade_writer_batch_size_count").is_some_and(|n| n >= 1.0));
    assert!(
        sample(
            &text,
            "safegrade_db_pool_connections{pool=\"read\",state=\"idle\"}"
        )
        .is_some()
    );
    let hits = sample(
        &text,
        "safegrade_token_cache_requests_total{result=\"hit\"}",
    );
    assert!(
        hits.is_some_and(|n| n >= 3.0),
        "the admin's token is cached: {hits:?}"
    );
    for family in [
        "safegrade_writer_queue_depth",
        "safegrade_webhook_lag_events",
        "safegrade_webhook_deliveries_total",
    ] {
        assert!(text.contains(&format!("# TYPE {family} ")), "{family}");
    }
}

async fn backups_are_taken_online_on_sqlite_and_left_to_pg_dump_on_postgres(db: TestDb) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let to = dir.path().join("b.db");
    let app = test_app_from(AppState::new(db.store.clone())).await;
    let (created, _) = safegrade_testkit::post_enterprise(&app, 31).await;
    assert_eq!(created.status, StatusCode::CREATED);
    match (db.kind, db.store.backup_to(&to)) {
        (safegrade_testkit::Kind::Sqlite, Ok(done)) => {
            let events = db
                .store
                .list_events(
                    &safegrade_store::events::EventVisibility::All,
                    &Default::default(),
                    1000,
                )
                .map(|e| e.events.len())
                .unwrap_or_default();
            assert_eq!(
                (done.enterprises, done.events),
                (1, events as i64),
                "{done:?}"
            );
            let url = safegrade_store::DbUrl::parse(&format!(
                "sqlite://{}",
                dir.path().join("r.db").display()
            ))
            .unwrap_or_else(|e| panic!("{e}"));
            let restored = safegrade_store::backup::restore_sqlite(&to, &url, false)
                .unwrap_or_else(|e| panic!("{e:?}"));
            assert_eq!(restored.enterprises, 1);
            assert!(db.store.backup_to(&to).is_err(), "never over a file");
        }
        (safegrade_testkit::Kind::Postgres, Err(e)) => {
            assert!(format!("{e:?}").contains("pg_dump"), "{e:?}");
        }
        (kind, other) => panic!("{kind:?}: {other:?}"),
    }
}
