//! The attainment counters stay what a count from scratch gives, after a random mix of
//! the writes that move them (new enterprises, certificates, revocations, accidents,
//! creation drives, moves to another area or sector), on both backends; and the summaries keep
//! their current certificate's number and issue date.

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use chrono::NaiveDate;
use diesel::RunQueryDsl;
use safegrade_http::plumbing::app::AppState;
use safegrade_testkit::{TestDb, credit_code, enterprise_body, json_request, send, test_app_from};
use serde_json::{Value, json};

both!(counters_match_a_recount_after_random_writes);

/// A small deterministic generator (the same workload every run).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from((self.0 >> 33) % n as u64).unwrap_or(0)
    }
}

const AREAS: [&str; 3] = ["510703", "510704", "510781"];
const INDUSTRIES: [&str; 3] = ["C3011", "C3110", "C1391"];

async fn counters_match_a_recount_after_random_writes(db: TestDb) {
    let today = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap_or_default();
    let mut state = AppState::new(db.store.clone());
    state.pinned_today = Some(today);
    let window = state.expiring_window_months;
    let app = test_app_from(state).await;
    db.store
        .recount_attainment(today, window)
        .unwrap_or_else(|e| panic!("{e}"));

    let mut rng = Lcg(13);
    let mut enterprises: Vec<String> = Vec::new();
    let mut certificates: Vec<String> = Vec::new();
    let mut written = 0;
    for n in 0..120u32 {
        let op = if enterprises.is_empty() {
            0
        } else {
            rng.below(6)
        };
        let ent = if enterprises.is_empty() {
            String::new()
        } else {
            enterprises[rng.below(enterprises.len())].clone()
        };
        let reply = match op {
            0 => {
                let mut body = enterprise_body(&credit_code(5000 + n));
                body["area_code"] = json!(AREAS[rng.below(AREAS.len())]);
                body["industry_code"] = json!(INDUSTRIES[rng.below(INDUSTRIES.len())]);
                let r = send(
                    &app,
                    json_request(Method::POST, "/api/v1/enterprises", &body),
                )
                .await;
                enterprises.extend(r.body["id"].as_str().map(str::to_owned));
                r
            }
            1 => {
                // Issued over the last four years: expired, expiring and valid grades.
                let issued =
                    today - chrono::Duration::days(i64::try_from(rng.below(1460)).unwrap_or(0) + 1);
                let grade = ["grade_3", "grade_2", "small_micro"][rng.below(3)];
                let body = json!({
                    "enterprise_id": ent, "grade": grade, "number": format!("CT-{n}"),
                    "authority_level": if grade == "grade_2" { "province" } else { "city" },
                    "authority_name": "绵阳市应急管理局",
                    "issued_on": issued.to_string(), "standard": "AQ/T 9006-2010"
                });
                let r = send(
                    &app,
                    json_request(Method::POST, "/api/v1/certificates", &body),
                )
                .await;
                certificates.extend(r.body["id"].as_str().map(str::to_owned));
                r
            }
            2 if !certificates.is_empty() => {
                let c = certificates[rng.below(certificates.len())].clone();
                let body = json!({
                    "trigger": "fatal_accident", "legal_basis": "定级办法撤销情形第（一）项",
                    "reason": "死亡事故", "decided_on": "2025-05-20"
                });
                send(
                    &app,
                    json_request(
                        Method::POST,
                        &format!("/api/v1/certificates/{c}/revocation"),
                        &body,
                    ),
                )
                .await
            }
            3 => {
                let body = json!({
                    "enterprise_id": ent, "occurred_on": "2025-03-01", "kind": "machinery",
                    "deaths": rng.below(2), "seriously_injured": 1, "source": format!("一致性{n}")
                });
                send(&app, json_request(Method::POST, "/api/v1/accidents", &body)).await
            }
            4 => {
                let stage = ["creating", "not_started"][rng.below(2)];
                let body = json!({"creation_stage": stage, "stage_since": "2025-01-20"});
                send(
                    &app,
                    json_request(
                        Method::PATCH,
                        &format!("/api/v1/enterprises/{ent}/drive"),
                        &body,
                    ),
                )
                .await
            }
            _ => {
                let uri = format!("/api/v1/enterprises/{ent}");
                let current = send(&app, TestRequest::get().uri(&uri)).await;
                let version = current.header("etag").to_owned();
                let body = json!({
                    "area_code": AREAS[rng.below(AREAS.len())],
                    "industry_code": INDUSTRIES[rng.below(INDUSTRIES.len())],
                    "reason": "迁址"
                });
                let req =
                    json_request(Method::PATCH, &uri, &body).insert_header(("If-Match", version));
                send(&app, req).await
            }
        };
        assert!(
            !reply.status.is_server_error(),
            "op {op}: {} {}",
            reply.status,
            reply.body
        );
        if reply.status.is_success() {
            written += 1;
        }
    }
    assert!(written > 80, "the workload mostly wrote: {written}");

    let (kept, anchor) = db
        .store
        .attainment_counts()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(anchor.map(|a| a.0), Some(today));
    let total: i64 = kept.values().sum();
    assert_eq!(
        total,
        i64::try_from(enterprises.len()).unwrap_or(-1),
        "each enterprise once"
    );
    assert!(
        kept.keys().any(|k| k.2 == "attained")
            && kept
                .keys()
                .any(|k| k.2 == "revoked" || k.2 == "restart_required"),
        "the workload reached several statuses: {kept:?}"
    );
    db.store
        .recount_attainment(today, window)
        .unwrap_or_else(|e| panic!("{e}"));
    let (recounted, _) = db
        .store
        .attainment_counts()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(kept, recounted, "kept in the writes = counted from scratch");

    // The summaries' copies of the current certificate (what the grade alerts read) are the
    // certificate's own number and issue date.
    let mut conn = db.store.read().unwrap_or_else(|e| panic!("{e}"));
    let copies: Vec<Copies> = diesel::sql_query(
        "SELECT COUNT(*) AS n, \
         SUM(CASE WHEN s.current_number = c.number AND s.current_issued_on = c.issued_on \
         THEN 1 ELSE 0 END) AS same \
         FROM grade_summaries s JOIN certificates c ON c.id = s.current_certificate_id",
    )
    .load(&mut conn)
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        copies[0].n > 3,
        "the workload granted grades: {}",
        copies[0].n
    );
    assert_eq!(
        copies[0].same,
        Some(copies[0].n),
        "every copy is the certificate's"
    );

    // The credit-code lookup table has one row per enterprise, with its code and its area
    // (docs/adr/0007): areas moved in the workload.
    let lookup: Vec<Copies> = diesel::sql_query(
        "SELECT (SELECT COUNT(*) FROM credit_codes) AS n, \
         (SELECT COUNT(*) FROM enterprises e JOIN credit_codes c ON c.enterprise_id = e.id \
         AND c.credit_code = e.credit_code AND c.area_code = e.area_code) AS same",
    )
    .load(&mut conn)
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(lookup[0].n, total, "one lookup row per enterprise");
    assert_eq!(
        lookup[0].same,
        Some(total),
        "each with the enterprise's code and area"
    );

    // And the statistics read them.
    let stats = send(&app, TestRequest::get().uri("/api/v1/stats/attainment")).await;
    assert_eq!(stats.status, StatusCode::OK);
    assert_eq!(stats.body["total"]["enterprises"], json!(total));
    let attained: i64 = kept
        .iter()
        .filter(|(k, _)| !k.3.is_empty())
        .map(|(_, n)| n)
        .sum();
    assert_eq!(stats.body["total"]["attained"], Value::from(attained));
}

#[derive(diesel::QueryableByName)]
struct Copies {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    same: Option<i64>,
}
