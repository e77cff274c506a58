//! The API conventions of docs/API-DESIGN.md, checked for every operation of the served spec
//! (like the jurisdiction matrix, an operation cannot be left out): every operation says its
//! shape; every POST that creates or transitions declares `Idempotency-Key` and replays; every
//! PATCH and transition declares `If-Match` and answers 412 when stale; every documented
//! problem code exists with that status; every request-body property is read by the handler
//! and nothing else is accepted.

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use safegrade_domain::CodeList;
use safegrade_http::ErrorCode;
use safegrade_testkit::{TestDb, json_request, send, test_app_at};
use serde_json::{Value, json};

use crate::access::{
    World, assessment, call, certificate, close_open, create, created, fresh_token, grading,
    hazard, matrix_today, unit_body, world,
};

both!(
    conventions_hold_for_every_operation,
    optional_bodies_may_be_left_out
);

/// Every operation of the served spec, with its method, path and `x-conventions`.
fn operations(spec: &Value) -> Vec<(String, String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let id = op["operationId"].as_str().unwrap_or_default().to_owned();
            out.push((id, method.to_uppercase(), path.clone(), op.clone()));
        }
    }
    out
}

fn declares(op: &Value, header: &str) -> bool {
    op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|p| p["in"] == "header" && p["name"] == header)
}

async fn conventions_hold_for_every_operation(db: TestDb) {
    let app = test_app_at(db.store.clone(), matrix_today()).await;
    let w: World = world(&app).await;
    let served = send(&app, TestRequest::get().uri("/api/openapi.json")).await;
    assert_eq!(served.status, StatusCode::OK);
    let spec = served.body;
    let mut wrong = Vec::new();
    let mut n = 50_000;
    let serial = std::cell::Cell::new(0u32);
    // Grading applications first: the certificate transitions below revoke and upgrade the
    // inside enterprise's grades, after which it may not apply.
    let mut ops = operations(&spec);
    ops.sort_by_key(|(id, ..)| !id.contains("grading"));
    for (id, method, path, op) in ops {
        let conventions = &op["x-conventions"];
        let Some(shape) = conventions["shape"].as_str() else {
            wrong.push(format!(
                "{id}: no x-conventions: add it to openapi::operation_rules"
            ));
            continue;
        };
        // A Chinese title (the summary) for every operation: the reference's headings.
        if !op["summary"]
            .as_str()
            .is_some_and(|t| t.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)))
        {
            wrong.push(format!(
                "{id}: no Chinese summary: add it to openapi::title_zh"
            ));
        }
        // A real example of its request body and its answer (tests/api/examples.rs).
        if op["requestBody"]["content"]["application/json"].is_object()
            && op["requestBody"]["content"]["application/json"]["example"].is_null()
        {
            wrong.push(format!("{id}: no request example"));
        }
        let answered = op["responses"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(status, _)| status.starts_with('2'))
            .any(|(_, r)| {
                r["content"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .any(|(_, media)| !media["example"].is_null())
            });
        if !answered {
            wrong.push(format!("{id}: no response example"));
        }
        // Every documented problem code exists and is answered with that status.
        for (status, response) in op["responses"].as_object().into_iter().flatten() {
            for code in response["x-problem-codes"].as_array().into_iter().flatten() {
                let code = code.as_str().unwrap_or_default();
                match ErrorCode::from_code(code) {
                    Some(c) if c.status().as_u16().to_string() == *status => {}
                    Some(c) => wrong.push(format!(
                        "{id}: {code} documented under {status}, answered {}",
                        c.status()
                    )),
                    None => wrong.push(format!("{id}: {code} is not an error code")),
                }
            }
            let problem = status.starts_with('4') || status.starts_with('5');
            if problem
                && response["x-problem-codes"]
                    .as_array()
                    .is_none_or(Vec::is_empty)
            {
                wrong.push(format!("{id}: {status} names no problem code"));
            }
        }
        let idempotent = matches!(shape, "create" | "transition");
        let conditional = matches!(shape, "patch" | "transition" | "replace");
        if idempotent != (method == "POST") {
            wrong.push(format!("{id}: {method} with shape {shape}"));
        }
        if conditional && !matches!(method.as_str(), "POST" | "PATCH" | "PUT") {
            wrong.push(format!("{id}: {method} with shape {shape}"));
        }
        if idempotent != declares(&op, "Idempotency-Key") {
            wrong.push(format!("{id}: Idempotency-Key declared {}", !idempotent));
        }
        if conditional != declares(&op, "If-Match") {
            wrong.push(format!("{id}: If-Match declared {}", !conditional));
        }
        if method == "GET" {
            continue;
        }
        // A record for a transition to act on (fresh each time).
        let fresh = || {
            let app = &app;
            let w = &w;
            let id = id.clone();
            let n = serial.get();
            serial.set(n + 1);
            async move {
                match id.as_str() {
                    "revoke_token" => Some(fresh_token(w, &app.store)),
                    "revoke_certificate" | "renew_certificate" | "upgrade_certificate" => {
                        Some(certificate(app, &w.inside, &format!("CV-{n}")).await)
                    }
                    "submit_assessment" | "discard_assessment" => {
                        Some(assessment(app, &w.inside, &w.standard).await)
                    }
                    "take_grading_step" => Some(grading(app, &w.outside, &w.submitted.1).await),
                    "create_grading" => {
                        close_open(app, &w.inside).await;
                        None
                    }
                    "take_hazard_step" => Some(hazard(app, &w.inside).await),
                    "transfer_enterprise" => Some(create(app, 40_000 + n, "510703").await),
                    "add_unit_stop" => {
                        Some(created(app, "/api/v1/risk-units", &unit_body(&w.inside, n)).await)
                    }
                    _ => None,
                }
            }
        };
        if idempotent {
            n += 3;
            let target = fresh().await;
            let key = format!("conv-{id}");
            let first = send(
                &app,
                call(&id, &w, true, n, &app.store, target.as_deref())
                    .build()
                    .insert_header(("idempotency-key", key.clone())),
            )
            .await;
            let again = send(
                &app,
                call(&id, &w, true, n, &app.store, target.as_deref())
                    .build()
                    .insert_header(("idempotency-key", key.clone())),
            )
            .await;
            let other = send(
                &app,
                call(&id, &w, true, n + 1, &app.store, target.as_deref())
                    .build()
                    .insert_header(("idempotency-key", key.clone())),
            )
            .await;
            if !first.status.is_success() {
                wrong.push(format!(
                    "{id}: first request {} {}",
                    first.status, first.body
                ));
            } else if again.status != first.status
                || again.body != first.body
                || again.header("idempotency-replayed") != "true"
            {
                wrong.push(format!("{id}: no replay ({} {})", again.status, again.body));
            } else if other.status != StatusCode::UNPROCESSABLE_ENTITY
                || other.body["code"] != "idempotency_key_reused"
            {
                wrong.push(format!(
                    "{id}: key reused with another body: {} {}",
                    other.status, other.body
                ));
            }
            let bad_key = send(
                &app,
                call(&id, &w, true, n + 2, &app.store, fresh().await.as_deref())
                    .build()
                    .insert_header(("idempotency-key", "")),
            )
            .await;
            if bad_key.body["code"] != "invalid_idempotency_key" {
                wrong.push(format!(
                    "{id}: empty key: {} {}",
                    bad_key.status, bad_key.body
                ));
            }
        }
        if conditional {
            n += 1;
            let target = fresh().await;
            let stale = send(
                &app,
                call(&id, &w, true, n, &app.store, target.as_deref())
                    .build()
                    .insert_header(("if-match", "\"999\"")),
            )
            .await;
            if stale.status != StatusCode::PRECONDITION_FAILED
                || stale.body["code"] != "version_mismatch"
                || stale.header("etag").is_empty()
            {
                wrong.push(format!(
                    "{id}: stale If-Match: {} {}",
                    stale.status, stale.body
                ));
            }
            let malformed = send(
                &app,
                call(&id, &w, true, n, &app.store, target.as_deref())
                    .build()
                    .insert_header(("if-match", "3")),
            )
            .await;
            if malformed.body["code"] != "invalid_precondition" {
                wrong.push(format!(
                    "{id}: malformed If-Match: {} {}",
                    malformed.status, malformed.body
                ));
            }
        }
        // The request schema's properties are exactly what the handler reads: each one,
        // given a value of the wrong type, is refused as that member (not as unknown); a
        // member outside the schema is refused as unknown.
        let schema = &op["requestBody"]["content"];
        let schema = schema
            .as_object()
            .and_then(|c| c.values().next())
            .map(|c| c["schema"].clone())
            .unwrap_or(Value::Null);
        let schema = match schema["$ref"].as_str() {
            Some(r) => spec
                .pointer(&r.replacen('#', "", 1))
                .cloned()
                .unwrap_or(Value::Null),
            None => schema,
        };
        if let Some(props) = schema["properties"].as_object() {
            n += 1;
            let target = fresh().await;
            let uri = match target.as_deref() {
                Some(t) => path.replace("{id}", t),
                None => path.replace("{id}", &path_id(&id, &w)),
            }
            .replace("{year}", "2027")
            .replace("{delivery_id}", &w.webhook.1)
            .replace(
                "{step}",
                if id == "take_hazard_step" {
                    "rectification"
                } else {
                    "correction_request"
                },
            );
            let content_type = if method == "PATCH" {
                "application/merge-patch+json"
            } else {
                "application/json"
            };
            let m = Method::from_bytes(method.as_bytes()).unwrap_or(Method::POST);
            let mut probe = serde_json::Map::new();
            for name in props.keys() {
                probe.insert(name.clone(), json!([[]]));
            }
            probe.insert("no_such_member".into(), json!(1));
            let r = send(
                &app,
                json_request(m, &uri, &Value::Object(probe))
                    .insert_header(("content-type", content_type)),
            )
            .await;
            let errors: Vec<(String, String)> = r.body["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| {
                    (
                        e["pointer"]
                            .as_str()
                            .unwrap_or_default()
                            .trim_start_matches('/')
                            .to_owned(),
                        e["code"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            if !errors.contains(&("no_such_member".into(), "unknown_field".into())) {
                wrong.push(format!(
                    "{id}: an unknown member is not refused: {}",
                    r.body
                ));
            }
            for name in props.keys() {
                if errors
                    .iter()
                    .any(|(p, c)| p == name && c == "unknown_field")
                {
                    wrong.push(format!(
                        "{id}: documented member {name} is refused as unknown"
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The `{id}` of an operation whose path names a record that is not a fresh target.
fn path_id(op: &str, w: &World) -> String {
    match op {
        "update_principal" | "create_token" => w.target.clone(),
        "update_assessment" => w.assessments.0.clone(),
        "update_webhook" | "redeliver" => w.webhook.0.clone(),
        _ => w.inside.clone(),
    }
}

/// Issuing and revoking a token need no body at all; the spec says the body is optional.
async fn optional_bodies_may_be_left_out(db: TestDb) {
    let app = test_app_at(db.store.clone(), matrix_today()).await;
    let w: World = world(&app).await;
    let issued = send(
        &app,
        TestRequest::post().uri(&format!("/api/v1/principals/{}/tokens", w.target)),
    )
    .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    let id = issued.body["id"].as_str().unwrap_or_default().to_owned();
    let revoked = send(
        &app,
        TestRequest::post().uri(&format!("/api/v1/tokens/{id}/revocation")),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    let spec = safegrade_http::openapi_json();
    let spec: Value = serde_json::from_str(&spec).unwrap_or_default();
    for (path, method) in [
        ("/api/v1/principals/{id}/tokens", "post"),
        ("/api/v1/tokens/{id}/revocation", "post"),
        (
            "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redelivery",
            "post",
        ),
    ] {
        assert_eq!(
            spec["paths"][path][method]["requestBody"]["required"], false,
            "{path}"
        );
    }
    // A body that is there must still be JSON.
    let bad = send(
        &app,
        TestRequest::post()
            .uri(&format!("/api/v1/principals/{}/tokens", w.target))
            .insert_header(("content-type", "text/plain"))
            .set_payload("x"),
    )
    .await;
    assert_eq!(
        bad.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        bad.body
    );
}
