//! Regression tests for the defects found by testing the landed product (issue 8, §6), one
//! test per defect, each failing before its fix. Numbers follow the issue.

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use chrono::NaiveDate;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use safegrade_domain::{Actor, Scope, SectorMapping};
use safegrade_store::events::{Changes, EventData, NewEvent};
use safegrade_store::{StoreError, WriteTx};
use safegrade_testkit::{
    TestApp, TestDb, credit_code, enterprise_body, json_request, post_enterprise, send, test_app_at,
};
use serde_json::{Value, json};

use crate::futures_join_all;

both!(
    d01_an_expired_certificate_cannot_be_revoked,
    d02_an_expired_certificate_cannot_be_upgraded,
    d03_a_superseded_certificate_is_not_in_force_after_its_successor,
    d04_restart_required_after_expiry_still_raises_an_alert,
    d05_overlapping_certificates_count_once_on_a_past_day,
    d06_expiring_agrees_at_month_ends,
    d07_a_renewal_is_judged_on_its_issue_date,
    d08_a_failed_savepoint_statement_fails_the_batch,
    d10_nul_is_refused_at_the_boundary,
    d11_an_unstorable_event_fails_its_job_alone,
    d12_two_concurrent_demotions_keep_one_city_admin,
    d13_same_idempotency_key_at_the_same_moment,
    d13_a_claimed_key_is_waited_for,
    idempotency_keys_expire_and_are_purged,
    d14_concurrent_changes_to_one_enterprise_summary,
    d16_a_stale_if_match_is_judged_after_the_body,
    d17_one_job_may_record_more_events_than_one_insert_binds,
);

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn certificate(enterprise: &str, number: &str, grade: &str, issued_on: &str) -> Value {
    json!({
        "enterprise_id": enterprise, "grade": grade, "number": number,
        "authority_level": "city", "authority_name": "绵阳市应急管理局",
        "issued_on": issued_on, "standard": "AQ/T 9006-2010"
    })
}

/// Registers enterprise `n` and records a 三级 certificate issued on `issued_on`; returns
/// the enterprise id and the certificate id.
async fn graded<S, B>(app: &TestApp<S>, n: u32, issued_on: &str) -> (String, String)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let (e, _) = post_enterprise(app, n).await;
    let ent = e.body["id"].as_str().unwrap_or_default().to_owned();
    let c = send(
        app,
        json_request(
            Method::POST,
            "/api/v1/certificates",
            &certificate(&ent, &format!("D-{n}-1"), "grade_3", issued_on),
        ),
    )
    .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
    (ent, c.body["id"].as_str().unwrap_or_default().to_owned())
}

fn revocation(decided_on: &str) -> Value {
    json!({
        "trigger": "fatal_accident", "legal_basis": "定级办法撤销情形第（一）项",
        "reason": "死亡事故", "decided_on": decided_on
    })
}

/// Defect 1: Revoking after `valid_until` is refused and starts no one-year bar.
async fn d01_an_expired_certificate_cannot_be_revoked(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2025-06-01")).await;
    let (ent, id) = graded(&app, 1, "2022-01-10").await;
    let uri = format!("/api/v1/certificates/{id}/revocation");
    let late = send(
        &app,
        json_request(Method::POST, &uri, &revocation("2025-02-01")),
    )
    .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
    assert_eq!(late.body["code"], "certificate_not_in_force");
    // No bar: a new grade can be recorded at once.
    let new = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/certificates",
            &certificate(&ent, "D-1-2", "grade_3", "2025-05-01"),
        ),
    )
    .await;
    assert_eq!(new.status, StatusCode::CREATED, "{}", new.body);
    // Within validity it still works (on the other, current certificate).
    let new_id = new.body["id"].as_str().unwrap_or_default();
    let ok = send(
        &app,
        json_request(
            Method::POST,
            &format!("/api/v1/certificates/{new_id}/revocation"),
            &revocation("2025-05-20"),
        ),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
}

/// Defect 2: An upgrade issued after the certificate expired is refused like a renewal.
async fn d02_an_expired_certificate_cannot_be_upgraded(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2025-06-01")).await;
    let (_, id) = graded(&app, 2, "2022-01-10").await;
    let up = json!({
        "grade": "grade_2", "number": "D-2-2", "issued_on": "2025-03-01",
        "authority_level": "province", "authority_name": "四川省应急管理厅"
    });
    let uri = format!("/api/v1/certificates/{id}/upgrade");
    let r = send(&app, json_request(Method::POST, &uri, &up)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.body["code"], "renewal_closed");
}

/// Defect 3: After a renewal, an accident later than the successor's issue date concerns the
/// successor only.
async fn d03_a_superseded_certificate_is_not_in_force_after_its_successor(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2025-01-05")).await;
    let (ent, id) = graded(&app, 3, "2022-01-10").await;
    let renewal = json!({"track": "full_review", "number": "D-3-2", "issued_on": "2024-11-01"});
    let r = send(
        &app,
        json_request(
            Method::POST,
            &format!("/api/v1/certificates/{id}/renewal"),
            &renewal,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let successor = r.body["id"].as_str().unwrap_or_default().to_owned();
    let accident = json!({
        "enterprise_id": ent, "occurred_on": "2024-12-01", "kind": "machinery",
        "deaths": 0, "seriously_injured": 1, "direct_loss_cny": 1000, "concealed": false,
        "source": "企业报告"
    });
    let a = send(
        &app,
        json_request(Method::POST, "/api/v1/accidents", &accident),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let ids: Vec<&str> = a.body["evaluation"]["certificates"]
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(|c| c["certificate_id"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(ids, vec![successor.as_str()], "{}", a.body);
}

/// Defect 4: An accident during validity, then the grade expired long after: the enterprise is
/// `restart_required` and has an alert telling the regulator so.
async fn d04_restart_required_after_expiry_still_raises_an_alert(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2019-09-01")).await;
    let (ent, _) = graded(&app, 4, "2019-06-01").await;
    let accident = json!({
        "enterprise_id": ent, "occurred_on": "2019-08-01", "kind": "machinery",
        "deaths": 0, "seriously_injured": 1, "direct_loss_cny": 1000, "concealed": false,
        "source": "企业报告"
    });
    let a = send(
        &app,
        json_request(Method::POST, "/api/v1/accidents", &accident),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let later = test_app_at(db.store.clone(), day("2023-01-01")).await;
    let e = send(
        &later,
        TestRequest::get().uri(&format!("/api/v1/enterprises/{ent}")),
    )
    .await;
    assert_eq!(
        e.body["standardization_status"], "restart_required",
        "{}",
        e.body
    );
    let alerts = send(
        &later,
        TestRequest::get().uri(&format!("/api/v1/alerts?enterprise_id={ent}")),
    )
    .await;
    assert_eq!(alerts.status, StatusCode::OK, "{}", alerts.body);
    let kinds: Vec<&str> = alerts.body["items"]
        .as_array()
        .map(|v| v.iter().filter_map(|a| a["kind"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        !kinds.is_empty(),
        "no alert for a restart_required enterprise: {}",
        alerts.body
    );
}

/// Defect 5: A 三级 renewed early by a 二级 upgrade overlaps on a past day: counted once.
async fn d05_overlapping_certificates_count_once_on_a_past_day(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2024-06-01")).await;
    let (ent, _) = graded(&app, 5, "2022-01-10").await;
    // A second, overlapping grade recorded directly (history entered during the survey).
    let second = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/certificates",
            &certificate(&ent, "D-5-2", "grade_2", "2023-03-01"),
        ),
    )
    .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    let stats = send(
        &app,
        TestRequest::get().uri("/api/v1/stats/attainment?as_of=2023-06-01&area_code=510703"),
    )
    .await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.body);
    let total = &stats.body["total"];
    assert_eq!(total["attained"], 1, "{}", stats.body);
    let by_grade: i64 = total["by_grade"]
        .as_object()
        .map(|m| m.values().filter_map(Value::as_i64).sum())
        .unwrap_or_default();
    assert_eq!(by_grade, 1, "{}", stats.body);
    assert_eq!(
        total["by_grade"]["grade_2"], 1,
        "the higher grade counts: {}",
        stats.body
    );
}

/// Defect 6: Valid until 2025-05-31: on 2025-02-28 the status is `expiring`, and the alert and the
/// statistics say so too.
async fn d06_expiring_agrees_at_month_ends(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2025-02-28")).await;
    let (e, _) = post_enterprise(&app, 6).await;
    let ent = e.body["id"].as_str().unwrap_or_default().to_owned();
    let mut body = certificate(&ent, "D-6-1", "grade_3", "2022-05-31");
    body["valid_until"] = json!("2025-05-31");
    let c = send(
        &app,
        json_request(Method::POST, "/api/v1/certificates", &body),
    )
    .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
    assert_eq!(c.body["status"], "expiring");
    let listed = send(
        &app,
        TestRequest::get().uri("/api/v1/certificates?status=expiring"),
    )
    .await;
    assert_eq!(
        listed.body["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        listed.body
    );
    let alerts = send(
        &app,
        TestRequest::get().uri(&format!(
            "/api/v1/alerts?enterprise_id={ent}&kind=grade_expiring"
        )),
    )
    .await;
    assert_eq!(
        alerts.body["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        alerts.body
    );
    let stats = send(
        &app,
        TestRequest::get().uri("/api/v1/stats/attainment?area_code=510703"),
    )
    .await;
    assert_eq!(stats.body["total"]["expiring"], 1, "{}", stats.body);
    let past = send(
        &app,
        TestRequest::get().uri("/api/v1/stats/attainment?area_code=510703&as_of=2025-02-28"),
    )
    .await;
    assert_eq!(past.body["total"]["expiring"], 1, "{}", past.body);
}

/// Defect 7: A renewal issued before the old certificate expired can be entered afterwards.
async fn d07_a_renewal_is_judged_on_its_issue_date(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2025-06-01")).await;
    let (_, id) = graded(&app, 7, "2022-01-10").await;
    let renewal = json!({"track": "full_review", "number": "D-7-2", "issued_on": "2024-12-20"});
    let r = send(
        &app,
        json_request(
            Method::POST,
            &format!("/api/v1/certificates/{id}/renewal"),
            &renewal,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "valid");
}

/// A write job that inserts an enterprise and then removes its own savepoint, so the
/// writer's closing statement fails.
fn sabotaging_job(tx: &mut WriteTx<'_>, n: u32, fail: bool) -> Result<(), StoreError> {
    let data = safegrade_domain::EnterpriseInput {
        credit_code: Some(credit_code(n)),
        name: Some("保存点测试企业".into()),
        area_code: Some("510703".into()),
        industry_code: Some("C3011".into()),
        scale: Some("small".into()),
        principal_name: Some("张三".into()),
        ..Default::default()
    }
    .validate(SectorMapping::builtin())
    .unwrap_or_else(|e| panic!("{e:?}"));
    safegrade_store::ledger::enterprises::insert(tx, &data, &Actor::command_line())?;
    tx.batch_execute("RELEASE job")?;
    if fail {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Defect 8: When `ROLLBACK TO` / `RELEASE` fails, the batch fails: a failed job's writes are
/// never committed, and no caller is told "done" for data that is gone.
async fn d08_a_failed_savepoint_statement_fails_the_batch(db: TestDb) {
    for fail in [true, false] {
        let n = if fail { 80 } else { 81 };
        let result = db.store.write(move |tx| sabotaging_job(tx, n, fail)).await;
        assert!(
            result.is_err(),
            "the job's answer must be a failure (fail = {fail})"
        );
        let listed = db
            .store
            .list_enterprises(
                &safegrade_store::EnterpriseFilter::within(Scope::City),
                None,
                10,
            )
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert!(
            listed.items.is_empty(),
            "nothing may be committed (fail = {fail})"
        );
    }
    // The writer still works afterwards.
    let app = test_app_at(db.store.clone(), day("2025-01-01")).await;
    post_enterprise(&app, 82).await;
}

/// Defect 10: U+0000 in a body member, a path or a query is refused the same on both backends.
async fn d10_nul_is_refused_at_the_boundary(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2025-01-01")).await;
    let mut body = enterprise_body(&credit_code(10));
    body["name"] = json!("示例\u{0}公司");
    let r = send(
        &app,
        json_request(Method::POST, "/api/v1/enterprises", &body),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["errors"][0]["pointer"], "/name");
    assert_eq!(r.body["errors"][0]["code"], "nul_character");
    for (uri, code) in [
        ("/api/v1/register/certificates/%00", "invalid_path"),
        ("/api/v1/enterprises?name=%00", "invalid_query"),
        ("/api/v1/enterprises?area_code=%FF%FE", "invalid_query"),
    ] {
        let r = send(&app, TestRequest::get().uri(uri)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}: {}", r.body);
        assert_eq!(r.body["code"], code, "{uri}");
        assert_eq!(
            r.headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
    }
    let listed = db
        .store
        .list_enterprises(
            &safegrade_store::EnterpriseFilter::within(Scope::City),
            None,
            10,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(listed.items.is_empty());
}

/// Defect 11: A job whose event cannot be stored fails alone; the jobs batched with it commit.
async fn d11_an_unstorable_event_fails_its_job_alone(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2025-01-01")).await;
    let (_, uri) = post_enterprise(&app, 11).await;
    let id = uri.rsplit('/').next().unwrap_or_default().to_owned();
    let store = db.store.clone();
    let jobs = (0..24u32).map(move |i| {
        let store = store.clone();
        let id = id.clone();
        async move {
            store
                .write(move |tx| {
                    tx.record(NewEvent {
                        actor: Actor::command_line(),
                        resource_id: id.clone(),
                        area_code: Some("510703".into()),
                        enterprise_id: None,
                        data: EventData::EnterpriseUpdated(Changes {
                            changes: Default::default(),
                            version: 2,
                        }),
                        reason: Some(if i == 7 {
                            "bad\u{0}".into()
                        } else {
                            format!("ok {i}")
                        }),
                    })
                })
                .await
        }
    });
    let results = futures_join_all(jobs).await;
    let failed: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_err())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(failed, vec![7], "{results:?}");
    assert!(!matches!(
        results[7],
        Err(StoreError::Unavailable(_) | StoreError::Busy(_))
    ));
}

/// Defect 12: The last two enabled city administrators demoted at the same moment: one change
/// wins, the other is refused `LastCityAdmin`, every time.
async fn d12_two_concurrent_demotions_keep_one_city_admin(db: TestDb) {
    use safegrade_domain::{Principal, PrincipalId, Refusal, Role};
    let store = db.store.clone();
    let disable = |store: safegrade_store::Store, id: PrincipalId| async move {
        store
            .update_principal(id, Actor::command_line(), None, |current: &Principal| {
                let mut data = current.data.clone();
                data.disabled = true;
                Ok::<_, StoreError>(data)
            })
            .await
    };
    for trial in 0..10 {
        let mut pair = Vec::new();
        for k in 0..2 {
            let (id, _) = safegrade_testkit::principal(
                &store,
                json!({"name": format!("管理员{trial}-{k}"), "role": "city_admin"}),
            );
            pair.push(id);
        }
        let others = store
            .list_principals(Some(Role::CityAdmin), None, 500)
            .unwrap_or_else(|e| panic!("{e:?}"));
        for p in others.items {
            if p.data.role == Role::CityAdmin && !p.data.disabled && !pair.contains(&p.id) {
                disable(store.clone(), p.id)
                    .await
                    .unwrap_or_else(|e| panic!("{e:?}"));
            }
        }
        let outcomes = futures_join_all(pair.iter().map(|id| disable(store.clone(), *id))).await;
        let ok = outcomes.iter().filter(|r| r.is_ok()).count();
        let refused = outcomes
            .iter()
            .filter(|r| matches!(r, Err(StoreError::Refused(Refusal::LastCityAdmin))))
            .count();
        assert_eq!((ok, refused), (1, 1), "trial {trial}: {outcomes:?}");
    }
}

/// Defect 13: The same key with two bodies at the same moment: one 201 and one 422, never 500;
/// with the same body: one 201 and one replay.
async fn d13_same_idempotency_key_at_the_same_moment(db: TestDb) {
    let (_, token) =
        safegrade_testkit::principal(&db.store, json!({"name": "并发对接", "role": "city_admin"}));
    for trial in 0..12u32 {
        let same_body = trial % 2 == 0;
        let key = format!("k-{trial}");
        let base = 1300 + trial * 8;
        let requests: Vec<Request> = (0..6)
            .map(|k| {
                let body = enterprise_body(&credit_code(if same_body { base } else { base + k }));
                let key = key.clone();
                Box::new(move || {
                    json_request(Method::POST, "/api/v1/enterprises", &body)
                        .insert_header(("idempotency-key", key))
                }) as Request
            })
            .collect();
        let replies = in_parallel(&db.store, &token, requests);
        let created = replies
            .iter()
            .filter(|r| r.status == StatusCode::CREATED)
            .count();
        let reused = replies
            .iter()
            .filter(|r| r.body["code"] == "idempotency_key_reused")
            .count();
        if same_body {
            assert_eq!(created, 6, "{replies:?}");
            let ids: std::collections::BTreeSet<String> =
                replies.iter().map(|r| r.body["id"].to_string()).collect();
            assert_eq!(ids.len(), 1, "one record: {replies:?}");
            assert_eq!(
                replies
                    .iter()
                    .filter(|r| r.header("idempotency-replayed") == "true")
                    .count(),
                5
            );
        } else {
            assert_eq!((created, reused), (1, 5), "{replies:?}");
        }
    }
}

/// Defect 13, the mechanism: a key claimed by a transaction on one node is waited for by a
/// claim of the same key on another node, which then finds the committed answer (instead
/// of failing on the key's primary key).
async fn d13_a_claimed_key_is_waited_for(db: TestDb) {
    use safegrade_store::idempotency::{Claim, StoredResponse, claim, complete};
    let other_node = safegrade_store::Store::open(
        &safegrade_store::DbUrl::parse(&db.url).unwrap_or_else(|e| panic!("{e}")),
        &safegrade_store::PoolConfig::default(),
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let answer = StoredResponse {
        request_hash: "{\"a\":1}".into(),
        status: 201,
        location: Some("/x".into()),
        body: "{}".into(),
    };
    let first = actix_web::rt::spawn(db.store.write({
        let answer = answer.clone();
        move |tx| {
            assert_eq!(claim(tx, "p POST /x", "k", "{\"a\":1}")?, Claim::Claimed);
            complete(tx, "p POST /x", "k", &answer)?;
            // Hold the transaction open while the other node claims the same key.
            std::thread::sleep(std::time::Duration::from_millis(300));
            Ok::<_, StoreError>(())
        }
    }));
    actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    let second = other_node
        .write(|tx| claim(tx, "p POST /x", "k", "{\"a\":2}"))
        .await;
    first
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        second.unwrap_or_else(|e| panic!("{e:?}")),
        Claim::Answered(answer)
    );
}

/// Stored answers expire after a day: an expired key is neither replayed nor blocking (the
/// key can be used again), and the purge removes only expired ones.
async fn idempotency_keys_expire_and_are_purged(db: TestDb) {
    use safegrade_store::idempotency::{Claim, StoredResponse, claim, complete, find_response};
    use safegrade_store::schema::idempotency_keys;
    let answer = StoredResponse {
        request_hash: "{}".into(),
        status: 201,
        location: None,
        body: "{}".into(),
    };
    for key in ["old", "fresh"] {
        let answer = answer.clone();
        db.store
            .write(move |tx| {
                claim(tx, "p POST /x", key, "{}")?;
                complete(tx, "p POST /x", key, &answer)
            })
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
    }
    let two_days_ago = safegrade_store::now() - chrono::Duration::hours(48);
    db.store
        .write(move |tx| {
            diesel::update(idempotency_keys::table.find(("p POST /x", "old")))
                .set(idempotency_keys::created_at.eq(two_days_ago))
                .execute(&mut **tx)?;
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let found = |key: &'static str| {
        db.store
            .with_read(|c| find_response(c, "p POST /x", key))
            .unwrap_or_else(|e| panic!("{e:?}"))
    };
    assert_eq!(found("old"), None, "an expired answer is not replayed");
    assert_eq!(found("fresh"), Some(answer.clone()));
    assert_eq!(db.store.purge_idempotency_keys().ok(), Some(1));
    assert_eq!(found("fresh"), Some(answer));
    // The expired key is free again.
    let again = db
        .store
        .write(|tx| claim(tx, "p POST /x", "old", "{\"b\":1}"))
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(again, Claim::Claimed);
}

/// A request to build on another thread.
type Request = Box<dyn FnOnce() -> TestRequest + Send>;

/// Sends each request from its own thread, through its own app instance on `store` (as if
/// from several API nodes), all released at the same moment, with `token`.
fn in_parallel(
    store: &safegrade_store::Store,
    token: &str,
    requests: Vec<Request>,
) -> Vec<safegrade_testkit::Reply> {
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(requests.len()));
    let threads: Vec<_> = requests
        .into_iter()
        .map(|build| {
            let (store, token, barrier) = (store.clone(), token.to_owned(), barrier.clone());
            std::thread::spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    let app = test_app_at(store, day("2025-01-01")).await;
                    let req = build();
                    barrier.wait();
                    safegrade_testkit::send_as(&app, Some(&token), req).await
                })
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| {
            t.join()
                .unwrap_or_else(|_| panic!("a request thread panicked"))
        })
        .collect()
}

/// Defect 14: A renewal, an accident and an area move on one enterprise at the same moment: each
/// succeeds or fails on its merits, never 500 or 503.
async fn d14_concurrent_changes_to_one_enterprise_summary(db: TestDb) {
    let app = std::rc::Rc::new(test_app_at(db.store.clone(), day("2024-12-01")).await);
    for n in 0..4u32 {
        let (ent, id) = graded(&app, 1400 + n, "2022-01-10").await;
        let renewal = json!({"track": "full_review", "number": format!("D-14-{n}"), "issued_on": "2024-11-01"});
        let accident = json!({
            "enterprise_id": ent, "occurred_on": "2024-10-01", "kind": "machinery",
            "deaths": 0, "seriously_injured": 1, "direct_loss_cny": 1000, "concealed": false,
            "source": "企业报告"
        });
        let requests = vec![
            json_request(
                Method::POST,
                &format!("/api/v1/certificates/{id}/renewal"),
                &renewal,
            ),
            json_request(Method::POST, "/api/v1/accidents", &accident),
            json_request(
                Method::PATCH,
                &format!("/api/v1/enterprises/{ent}"),
                &json!({"area_code": "510704"}),
            )
            .insert_header(("content-type", "application/merge-patch+json")),
        ];
        let replies = futures_join_all(requests.into_iter().map(|r| {
            let app = app.clone();
            async move { send(&app, r).await }
        }))
        .await;
        assert_eq!(replies.len(), 3, "every request answered");
        for r in &replies {
            assert!(r.status.is_success(), "{}: {}", r.status, r.body);
        }
    }
}

/// Defect 16: A stale `If-Match` with an invalid body answers 422 (what is wrong), not 412.
async fn d16_a_stale_if_match_is_judged_after_the_body(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2025-01-01")).await;
    let (_, uri) = post_enterprise(&app, 16).await;
    let patch = |body: Value, etag: &str| {
        json_request(Method::PATCH, &uri, &body)
            .insert_header(("content-type", "application/merge-patch+json"))
            .insert_header(("if-match", etag.to_owned()))
    };
    let r = send(&app, patch(json!({"employees": -5}), "\"7\"")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = send(&app, patch(json!({"employees": 5}), "\"7\"")).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED, "{}", r.body);
}

/// Defect 17: A job recording 12,000 events (more than PostgreSQL's 65,535 bound values in one
/// multi-row insert) failed the whole batch; they are written in chunks, in order.
async fn d17_one_job_may_record_more_events_than_one_insert_binds(db: TestDb) {
    let before = db
        .store
        .list_events(
            &safegrade_store::events::EventVisibility::All,
            &Default::default(),
            1,
        )
        .map(|e| e.events.len())
        .unwrap_or_default();
    assert_eq!(before, 0);
    let written = db
        .store
        .write(|tx| {
            for i in 0..12_000u32 {
                tx.record(NewEvent {
                    actor: Actor::command_line(),
                    resource_id: format!("r{i:05}"),
                    area_code: Some("510703".into()),
                    enterprise_id: None,
                    data: EventData::EnterpriseUpdated(Changes {
                        changes: Default::default(),
                        version: 2,
                    }),
                    reason: Some(format!("{i}")),
                })?;
            }
            Ok::<_, StoreError>(())
        })
        .await;
    assert!(written.is_ok(), "{written:?}");
    let mut seen = Vec::new();
    let mut after = safegrade_store::events::FeedPosition::default();
    loop {
        let page = db
            .store
            .list_events(
                &safegrade_store::events::EventVisibility::All,
                &safegrade_store::events::EventFilter {
                    after,
                    ..Default::default()
                },
                1000,
            )
            .unwrap_or_else(|e| panic!("{e:?}"));
        if page.events.is_empty() {
            break;
        }
        after = page.position;
        seen.extend(page.events.into_iter().map(|e| e.resource_id));
    }
    let expected: Vec<String> = (0..12_000u32).map(|i| format!("r{i:05}")).collect();
    assert_eq!(seen, expected, "every event, in the order recorded");
}
