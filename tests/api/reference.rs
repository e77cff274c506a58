//! Areas, code lists and health probes.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use safegrade_testkit::{TestDb, send, test_app};
use serde_json::Value;

both!(reference_lists_and_probes);

async fn reference_lists_and_probes(db: TestDb) {
    let app = test_app(db.store.clone()).await;
    let areas = send(&app, TestRequest::get().uri("/api/v1/areas")).await;
    assert_eq!(areas.status, StatusCode::OK);
    let items = areas.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 15);
    let count = |kind: &str| items.iter().filter(|a| a["kind"] == kind).count();
    assert_eq!(
        (count("city"), count("statutory"), count("zone")),
        (1, 9, 5)
    );
    assert!(
        items
            .iter()
            .filter(|a| a["kind"] == "zone")
            .all(|a| a["gb2260_code"].is_null())
    );
    insta::assert_json_snapshot!("areas", areas.body);

    for (path, len, first) in [
        ("sectors", 10, "non_coal_mine"),
        ("scales", 4, "large"),
        ("ownership-levels", 4, "central"),
        ("mine-kinds", 5, "underground"),
        ("operating-statuses", 3, "operating"),
    ] {
        let r = send(
            &app,
            TestRequest::get().uri(&format!("/api/v1/reference/{path}")),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        let items = r.body["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(items.len(), len, "{path}");
        assert_eq!(items[0]["code"], first, "{path}");
        assert!(
            items
                .iter()
                .all(|i| i["label_zh"].as_str().is_some_and(|l| !l.is_empty())),
            "{path}"
        );
    }
    let sectors = send(&app, TestRequest::get().uri("/api/v1/reference/sectors")).await;
    insta::assert_json_snapshot!("sectors", sectors.body);

    for probe in ["/healthz", "/readyz"] {
        let r = send(
            &app,
            TestRequest::get()
                .uri(probe)
                .insert_header(("x-request-id", "probe-1")),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{probe}");
        assert_eq!(r.body["status"], "ok");
        assert_eq!(r.header("x-request-id"), "probe-1");
    }
    let generated = send(&app, TestRequest::get().uri("/healthz")).await;
    assert!(
        uuid::Uuid::try_parse(generated.header("x-request-id")).is_ok(),
        "a request id is generated"
    );
    let docs = actix_web::test::call_service(
        &app.service,
        TestRequest::get().uri("/api/docs/").to_request(),
    )
    .await;
    assert_eq!(
        docs.status(),
        StatusCode::OK,
        "Swagger UI is served from the binary"
    );
    let spec = send(&app, TestRequest::get().uri("/api/openapi.json")).await;
    assert_eq!(spec.body["openapi"], "3.1.0");
}

/// A PostgreSQL restart kills pooled connections: requests answer 503 with `Retry-After`
/// (never a 500 or a hang), and the pool replaces dead connections so service comes back.
#[actix_web::test]
async fn lost_database_connections_answer_503_and_recover() {
    let Some(db) = TestDb::postgres() else { return };
    let app = test_app(db.store.clone()).await;
    assert_eq!(
        send(&app, TestRequest::get().uri("/readyz")).await.status,
        StatusCode::OK
    );
    // The pool may open a fresh connection in the background just after a cut; cut again
    // until a request meets a dead one.
    let mut r = None;
    for _ in 0..5 {
        db.cut_connections();
        let reply = send(&app, TestRequest::get().uri("/readyz")).await;
        if reply.status != StatusCode::OK {
            r = Some(reply);
            break;
        }
    }
    let r = r.unwrap_or_else(|| panic!("no request ever met a dead connection"));
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(r.header("retry-after"), "1");
    assert_eq!(r.body["code"], "service_unavailable");
    let mut recovered = false;
    for _ in 0..8 {
        if send(&app, TestRequest::get().uri("/readyz")).await.status == StatusCode::OK {
            recovered = true;
            break;
        }
    }
    assert!(recovered, "the pool never replaced its dead connections");
    let list = send(&app, TestRequest::get().uri("/api/v1/enterprises")).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
}

both!(every_enum_has_a_reference_list);

/// Every closed list of values in the spec (each string enum among its schemas) can be read
/// with its Chinese labels from `GET /api/v1/reference/{list}`, one shape for all, and the
/// values are exactly the spec's.
async fn every_enum_has_a_reference_list(db: TestDb) {
    let app = test_app(db.store.clone()).await;
    let spec: Value = send(&app, TestRequest::get().uri("/api/openapi.json"))
        .await
        .body;
    let index = send(&app, TestRequest::get().uri("/api/v1/reference")).await;
    assert_eq!(index.status, StatusCode::OK, "{}", index.body);
    let lists: Vec<(String, String)> = index.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            assert!(i["label_zh"].as_str().is_some_and(|l| !l.is_empty()), "{i}");
            (
                i["schema"].as_str().unwrap_or_default().to_owned(),
                i["list"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let mut missing = Vec::new();
    for (name, schema) in spec["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        // Closed lists publish `enum`, open ones `x-extensible-enum`.
        let Some(values) = schema["enum"]
            .as_array()
            .or(schema["x-extensible-enum"].as_array())
        else {
            continue;
        };
        let Some((_, list)) = lists.iter().find(|(s, _)| s == name) else {
            missing.push(name.clone());
            continue;
        };
        let got = send(
            &app,
            TestRequest::get().uri(&format!("/api/v1/reference/{list}")),
        )
        .await;
        assert_eq!(got.status, StatusCode::OK, "{list}: {}", got.body);
        assert_eq!(got.body["next_cursor"], Value::Null);
        let codes: Vec<&Value> = got.body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| {
                assert!(
                    i["label_zh"].as_str().is_some_and(|l| !l.is_empty()),
                    "{list}: {i}"
                );
                &i["code"]
            })
            .collect();
        assert_eq!(
            codes,
            values.iter().collect::<Vec<_>>(),
            "{list} lists the values of {name}"
        );
    }
    assert!(
        missing.is_empty(),
        "enums without a reference list: {missing:?}"
    );
    let unknown = send(&app, TestRequest::get().uri("/api/v1/reference/colours")).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}
