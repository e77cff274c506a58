//! The request and response example of every operation, taken from a real call: this test
//! sends each operation's request (the jurisdiction matrix's, as the city administrator) and
//! keeps what it sent and what came back as a snapshot (`api__examples__<operationId>.snap`).
//! The spec carries them as `example`s (so Swagger UI's "Try it out" starts from a body that
//! works) and the book's API reference shows them; both read these files.
//!
//! Values that change from run to run are replaced by stable, valid ones: ids by UUIDs
//! numbered in order of appearance (the same id gets the same stand-in in the request and the
//! response), generated instants by one instant, secrets and their hints, cursors and request ids
//! by fixed strings. Lists keep their first two items.

use std::collections::HashMap;

use safegrade_testkit::{TestDb, send, test_app_at};
use serde_json::{Value, json};

use crate::access::{
    World, assessment, call, certificate, close_open, create, created, fresh_token, grading,
    hazard, matrix_today, unit_body, world,
};

both!(every_operation_has_a_real_example);

/// How many list items an example keeps.
const ITEMS: usize = 2;

/// Replaces run-dependent values with stable, valid ones.
#[derive(Default)]
struct Stable {
    ids: HashMap<String, String>,
}

impl Stable {
    fn id(&mut self, raw: &str) -> String {
        let next = self.ids.len() + 1;
        self.ids
            .entry(raw.to_owned())
            .or_insert_with(|| format!("01940000-0000-7000-8000-{next:012}"))
            .clone()
    }

    /// `sent`: the strings of the request, kept as they are in the response (a date the
    /// caller chose is not generated).
    fn value(&mut self, key: &str, v: &Value, sent: &[String]) -> Value {
        match v {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.value(k, v, sent)))
                    .collect(),
            ),
            Value::Array(items) => {
                // A list page's items, or the lines of an export (a top-level array).
                let keep = if key == "items" || key.is_empty() {
                    ITEMS
                } else {
                    usize::MAX
                };
                Value::Array(
                    items
                        .iter()
                        .take(keep)
                        .map(|v| self.value(key, v, sent))
                        .collect(),
                )
            }
            // A text answer (a CSV export): the ids inside it.
            Value::String(s) if key.is_empty() && s.contains('\n') => {
                let mut out = s.clone();
                for token in s.split([',', '\r', '\n']) {
                    if uuid::Uuid::try_parse(token).is_ok() {
                        out = out.replace(token, &self.id(token));
                    }
                }
                Value::String(out)
            }
            // An event's payload as stored (the audit chain's export): JSON text.
            Value::String(s) if key == "data" && s.starts_with('{') => {
                let parsed: Value = serde_json::from_str(s).unwrap_or(Value::Null);
                Value::from(self.value("", &parsed, sent).to_string())
            }
            // An event's hashes (they cover its instants and ids).
            Value::String(s)
                if (key == "hash" || key == "prev_hash")
                    && s.len() == 64
                    && s != safegrade_store::events::chain::GENESIS =>
            {
                Value::from("9f2c".repeat(16))
            }
            Value::String(s) if uuid::Uuid::try_parse(s).is_ok() => {
                if key == "request_id" {
                    Value::from("01940000-0000-7000-9000-000000000000")
                } else {
                    Value::from(self.id(s))
                }
            }
            Value::String(s)
                if s.contains('T')
                    && chrono::DateTime::parse_from_rfc3339(s).is_ok()
                    && !sent.contains(s) =>
            {
                Value::from("2026-01-01T00:30:00.000000Z")
            }
            Value::String(s) if (key == "token" || key == "hint") && s.starts_with("sg_") => {
                Value::from(format!("sg_{}", "x".repeat(s.len() - 3)))
            }
            Value::String(s) if key == "secret" && s.starts_with("whsec_") => {
                Value::from(format!("whsec_{}", "x".repeat(s.len() - 6)))
            }
            Value::String(_) if key == "next_cursor" => Value::from("eyJleGFtcGxlIjp0cnVlfQ"),
            Value::Number(_) if key == "seq" || key == "next_after" => Value::from(42),
            // Durations measured in the run.
            Value::Number(_) if key.ends_with("_ms") => Value::from(7),
            other => other.clone(),
        }
    }
}

fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
        Value::Object(m) => m.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

async fn every_operation_has_a_real_example(db: TestDb) {
    let app = test_app_at(db.store.clone(), matrix_today()).await;
    let w: World = world(&app).await;
    let spec = send(
        &app,
        actix_web::test::TestRequest::get().uri("/api/openapi.json"),
    )
    .await
    .body;
    let mut ids: Vec<String> = spec["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(_, item)| item.as_object().into_iter().flatten())
        .filter_map(|(_, op)| op["operationId"].as_str().map(str::to_owned))
        .collect();
    // Records made first, so the lists show one of every kind (an accident, a visit, its
    // alerts); the transitions (a renewal would resolve the accident's alert) last.
    ids.sort_by_key(|id| {
        if id.starts_with("create_") || id.starts_with("update_") {
            0
        } else if id.starts_with("get_") || id.starts_with("list_") {
            1
        } else {
            2
        }
    });
    assert!(ids.len() > 30, "only {} operations", ids.len());
    for (n, id) in ids.iter().enumerate() {
        let fresh = match id.as_str() {
            "revoke_token" => Some(fresh_token(&w, &app.store)),
            "revoke_certificate" | "renew_certificate" | "upgrade_certificate" => {
                Some(certificate(&app, &w.inside, &format!("EX-{n}")).await)
            }
            "submit_assessment" | "discard_assessment" => {
                Some(assessment(&app, &w.inside, &w.standard).await)
            }
            // The outside enterprise: the inside one's grades are revoked and upgraded above.
            "take_grading_step" => Some(grading(&app, &w.outside, &w.submitted.1).await),
            "create_grading" => {
                close_open(&app, &w.inside).await;
                None
            }
            "take_hazard_step" => Some(hazard(&app, &w.inside).await),
            "transfer_enterprise" => Some(create(&app, 30_000, "510703").await),
            "add_unit_stop" => {
                Some(created(&app, "/api/v1/risk-units", &unit_body(&w.inside, 1)).await)
            }
            _ => None,
        };
        let call = call(id, &w, true, 1, &app.store, fresh.as_deref());
        let reply = send(&app, call.build()).await;
        assert!(
            reply.status.is_success(),
            "{id}: {} {}",
            reply.status,
            reply.body
        );
        let mut sent = Vec::new();
        if let Some(body) = &call.body {
            strings(body, &mut sent);
        }
        let mut stable = Stable::default();
        let request = call
            .body
            .as_ref()
            .map_or(Value::Null, |b| stable.value("", b, &[]));
        let response = match workbook_sheets(&reply) {
            // A workbook is described by its sheets and their headers.
            Some(sheets) => Value::from(sheets),
            // Newline-delimited JSON (the audit chain's export) is text: its lines.
            None if reply.header("content-type") == "application/x-ndjson" => {
                let lines = stable.value("", &reply.body, &sent);
                Value::from(
                    lines
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|l| format!("{l}\n"))
                        .collect::<String>(),
                )
            }
            None => stable.value("", &reply.body, &sent),
        };
        insta::assert_json_snapshot!(
            id.as_str(),
            json!({
                "method": call.method.as_str(),
                "status": reply.status.as_u16(),
                "request": request,
                "response": response,
            })
        );
    }
}

/// An Excel answer described in a sentence: its sheets and their header rows (`None` for
/// another answer).
fn workbook_sheets(reply: &safegrade_testkit::Reply) -> Option<String> {
    use calamine::Reader;
    if !reply.header("content-type").contains("spreadsheetml") {
        return None;
    }
    let mut book =
        calamine::open_workbook_auto_from_rs(std::io::Cursor::new(reply.raw.to_vec())).ok()?;
    let mut sheets = Vec::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).ok()?;
        let header: Vec<String> = range
            .rows()
            .next()
            .map(|r| {
                r.iter()
                    .map(ToString::to_string)
                    .filter(|h| !h.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        sheets.push(format!("「{name}」{}", header.join("、")));
    }
    Some(format!(
        "Excel 工作簿（二进制），工作表：{}",
        sheets.join("；")
    ))
}
