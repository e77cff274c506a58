//! Certificates through the API: derived status over time, the renewal window, revocation
//! and the one-year bar, validation, and the events they leave.

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use chrono::NaiveDate;
use safegrade_testkit::{
    TestDb, credit_code, enterprise_body, json_request, post_enterprise, principal, send, send_as,
    test_app_at, test_app_from,
};
use serde_json::{Value, json};

use crate::assert_record_snapshot;

both!(
    authority_is_sent_as_it_is_returned,
    drives_and_their_alerts,
    attainment_statistics,
    alerts_follow_the_records,
    public_register_and_verification,
    renewal_fast_track_and_upgrade,
    accidents_are_evaluated_against_certificates,
    legacy_certificate_status_over_time,
    revocation_bars_a_new_grade_for_a_year,
    certificates_are_validated,
    configured_rules_decide_and_are_shown,
    drive_stages_go_forward_in_time
);

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn body(enterprise: &str, number: &str, issued_on: &str) -> Value {
    json!({
        "enterprise_id": enterprise, "grade": "grade_3", "number": number,
        "authority": {"level": "city", "name": "绵阳市应急管理局"},
        "issued_on": issued_on, "standard": "AQ/T 9006-2010"
    })
}

/// The grading authority goes in as it comes out (`authority: {level, name}`); the flat pair
/// of the first release is still accepted; errors point where the caller put the value.
async fn authority_is_sent_as_it_is_returned(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2021-12-01")).await;
    let (ents, _) = enterprises(&app, 60, 2).await;
    let post = |b: &Value| json_request(Method::POST, "/api/v1/certificates", b);
    let nested = send(&app, post(&body(&ents[0], "AU-1", "2021-01-01"))).await;
    assert_eq!(nested.status, StatusCode::CREATED, "{}", nested.body);
    assert_eq!(
        nested.body["authority"],
        json!({"level": "city", "name": "绵阳市应急管理局"})
    );
    let mut flat = body(&ents[1], "AU-2", "2021-01-01");
    flat.as_object_mut().map(|o| o.remove("authority"));
    flat["authority_level"] = json!("province");
    flat["authority_name"] = json!("四川省应急管理厅");
    let old = send(&app, post(&flat)).await;
    assert_eq!(old.status, StatusCode::CREATED, "{}", old.body);
    assert_eq!(old.body["authority"]["level"], "province");

    let pointers = |r: &safegrade_testkit::Reply| -> Vec<(String, String)> {
        r.body["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                (
                    e["pointer"].as_str().unwrap_or_default().to_owned(),
                    e["code"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    };
    let pair = |p: &str, c: &str| (p.to_owned(), c.to_owned());
    for (authority, expected) in [
        (
            json!({"level": "township", "name": "涪城区应急管理局", "colour": 1}),
            vec![
                pair("/authority/colour", "unknown_field"),
                pair("/authority/level", "invalid_value"),
            ],
        ),
        (
            json!({"level": "city"}),
            vec![pair("/authority/name", "required")],
        ),
        (json!("city"), vec![pair("/authority", "invalid_type")]),
        (Value::Null, vec![pair("/authority", "required")]),
    ] {
        let mut b = body(&ents[1], "AU-3", "2021-01-01");
        b["authority"] = authority.clone();
        let r = send(&app, post(&b)).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{authority}: {}",
            r.body
        );
        let mut got = pointers(&r);
        got.sort();
        assert_eq!(got, expected, "{authority}: {}", r.body);
    }
    let mut both = body(&ents[1], "AU-3", "2021-01-01");
    both["authority_level"] = json!("city");
    let r = send(&app, post(&both)).await;
    assert_eq!(
        pointers(&r),
        vec![pair("/authority_level", "not_applicable")],
        "{}",
        r.body
    );
    let listed = send(
        &app,
        TestRequest::get().uri(&format!("/api/v1/certificates?enterprise_id={}", ents[1])),
    )
    .await;
    assert_eq!(
        strings(&listed, "number"),
        vec!["AU-2".to_owned()],
        "refused bodies change nothing"
    );
}

/// A legacy 三级 certificate issued 2019-03-01 is valid until 2022-03-01, `expiring` from
/// 2021-12-01 (the re-application window), and `expired` after its last day.
async fn legacy_certificate_status_over_time(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2021-12-01")).await;
    let (ent, _) = post_enterprise(&app, 1).await;
    let ent = ent.body["id"].as_str().unwrap_or_default().to_owned();
    let created = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/certificates",
            &body(&ent, "川AQBZ-2019-0301", "2019-03-01"),
        ),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["regime"], "legacy_2014");
    assert_eq!(created.body["valid_until"], "2022-03-01");
    assert_eq!(created.body["status"], "expiring");
    assert_record_snapshot!("certificate_recorded", created.body);
    let id = created.body["id"].as_str().unwrap_or_default().to_owned();
    for (today, status) in [
        ("2021-11-30", "valid"),
        ("2021-12-01", "expiring"),
        ("2022-03-01", "expiring"),
        ("2022-03-02", "expired"),
    ] {
        let at = test_app_at(db.store.clone(), day(today)).await;
        let got = send(
            &at,
            TestRequest::get().uri(&format!("/api/v1/certificates/{id}")),
        )
        .await;
        assert_eq!(got.body["status"], status, "on {today}");
        let listed = send(
            &at,
            TestRequest::get().uri(&format!("/api/v1/certificates?status={status}")),
        )
        .await;
        let ids = strings(&listed, "id");
        assert_eq!(ids, vec![id.as_str()], "status filter {status} on {today}");
    }
}

/// A revoked grade: status `revoked`, the date a new grade opens, no second revocation, a
/// new grade refused within the year (with the date) and accepted from it; events carry the
/// decision and the reason.
async fn revocation_bars_a_new_grade_for_a_year(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2024-03-01")).await;
    let (ent, _) = post_enterprise(&app, 2).await;
    let ent = ent.body["id"].as_str().unwrap_or_default().to_owned();
    let c = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/certificates",
            &body(&ent, "MY-3-001", "2023-05-10"),
        ),
    )
    .await;
    let id = c.body["id"].as_str().unwrap_or_default().to_owned();
    let decision = json!({
        "trigger": "fatal_accident",
        "legal_basis": "《企业安全生产标准化建设定级办法》撤销情形第（一）项",
        "reason": "2024年1月20日发生1人死亡的机械伤害事故",
        "decided_on": "2024-02-01"
    });
    let uri = format!("/api/v1/certificates/{id}/revocation");
    let revoked = send(&app, json_request(Method::POST, &uri, &decision)).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    assert_eq!(revoked.body["status"], "revoked");
    assert_eq!(revoked.body["revocation"]["regrade_opens_on"], "2025-02-01");
    assert_eq!(revoked.body["version"], 2);
    assert_record_snapshot!("certificate_revoked", revoked.body);
    let again = send(&app, json_request(Method::POST, &uri, &decision)).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.body["code"], "certificate_not_in_force");

    let early = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/certificates",
            &body(&ent, "MY-3-002", "2024-02-20"),
        ),
    )
    .await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.body);
    assert_eq!(early.body["code"], "regrade_barred");
    assert!(
        early.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("2025-02-01"),
        "{}",
        early.body
    );
    let history = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/certificates",
            &body(&ent, "MY-3-000", "2020-05-10"),
        ),
    )
    .await;
    assert_eq!(
        history.status,
        StatusCode::CREATED,
        "a grade from before the revocation is history: {}",
        history.body
    );

    let later = test_app_at(db.store.clone(), day("2025-03-01")).await;
    let ok = send(
        &later,
        json_request(
            Method::POST,
            "/api/v1/certificates",
            &body(&ent, "MY-3-003", "2025-02-01"),
        ),
    )
    .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);

    let events = send(
        &later,
        TestRequest::get().uri(&format!(
            "/api/v1/events?enterprise_id={ent}&resource_type=certificate"
        )),
    )
    .await;
    let types = strings(&events, "type");
    assert_eq!(
        types,
        vec![
            "certificate.recorded",
            "certificate.revoked",
            "certificate.recorded",
            "certificate.recorded"
        ]
    );
    let revocation = &events.body["items"][1];
    assert_eq!(
        revocation["reason"],
        "2024年1月20日发生1人死亡的机械伤害事故"
    );
    assert_eq!(revocation["data"]["trigger"], "fatal_accident");
    assert_eq!(revocation["area_code"], "510703");
}

/// Every invalid field at once; duplicate numbers; decisions outside the certificate's life.
async fn certificates_are_validated(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2024-03-01")).await;
    let (ent, _) = post_enterprise(&app, 3).await;
    let ent = ent.body["id"].as_str().unwrap_or_default().to_owned();
    let bad = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/certificates",
            &json!({"enterprise_id": ent, "grade": "grade_9", "authority_level": "city",
                    "authority_name": "绵阳市应急管理局", "issued_on": "2024-04-01",
                    "standard": "x", "regime": "legacy_2014", "colour": "red"}),
        ),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut pointers: Vec<&str> = bad.body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["pointer"].as_str())
        .collect();
    pointers.sort_unstable();
    assert_eq!(
        pointers,
        vec!["/colour", "/grade", "/issued_on", "/number", "/regime"],
        "{}",
        bad.body
    );
    let first = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/certificates",
            &body(&ent, "DUP-1", "2023-01-01"),
        ),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let dup = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/certificates",
            &body(&ent, "DUP-1", "2023-01-01"),
        ),
    )
    .await;
    assert_eq!(dup.body["code"], "duplicate_certificate_number");
    let unknown = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/certificates",
            &body("01a222d7-d736-723d-8633-7ed8db80848d", "X-1", "2023-01-01"),
        ),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let id = first.body["id"].as_str().unwrap_or_default();
    let early = send(
        &app,
        json_request(
            Method::POST,
            &format!("/api/v1/certificates/{id}/revocation"),
            &json!({"trigger": "no_such", "legal_basis": "", "reason": "x", "decided_on": "2022-12-31"}),
        ),
    )
    .await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        early.body["errors"].as_array().map(Vec::len),
        Some(3),
        "{}",
        early.body
    );
    let still = send(
        &app,
        TestRequest::get().uri(&format!("/api/v1/certificates/{id}")),
    )
    .await;
    assert_eq!(
        still.body["status"], "valid",
        "a refused decision changes nothing"
    );
}

fn accident(enterprise: &str, on: &str, deaths: u32, injured: u32) -> Value {
    json!({"enterprise_id": enterprise, "occurred_on": on, "kind": "machinery",
           "deaths": deaths, "seriously_injured": injured, "direct_loss_cny": 80_000,
           "source": "县应急管理局事故调查报告"})
}

/// Accidents during a grade's validity: a death triggers revocation and restart; 2 + 1
/// seriously injured 11 months apart trigger the 12-month rule (also on the earlier
/// accident, re-evaluated), 13 months apart do not; an accident outside any validity means
/// nothing for grades.
async fn accidents_are_evaluated_against_certificates(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2024-12-31")).await;
    let mut ents = Vec::new();
    for n in 10..13 {
        let (e, _) = post_enterprise(&app, n).await;
        let id = e.body["id"].as_str().unwrap_or_default().to_owned();
        let c = send(
            &app,
            json_request(
                Method::POST,
                "/api/v1/certificates",
                &body(&id, &format!("ACC-{n}"), "2021-11-01"),
            ),
        )
        .await;
        assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
        ents.push(id);
    }
    let post = |b: Value| json_request(Method::POST, "/api/v1/accidents", &b);

    let fatal = send(&app, post(accident(&ents[0], "2022-06-01", 1, 0))).await;
    assert_eq!(fatal.status, StatusCode::CREATED, "{}", fatal.body);
    let e = &fatal.body["evaluation"];
    assert_eq!(e["restart_required"], true);
    assert_eq!(e["certificates"][0]["triggers"], json!(["fatal_accident"]));
    assert_eq!(e["certificates"][0]["fast_track_allowed"], false);
    assert_record_snapshot!("accident_fatal", fatal.body);

    let first = send(&app, post(accident(&ents[1], "2021-12-20", 0, 2))).await;
    assert_eq!(
        first.body["evaluation"]["certificates"][0]["triggers"],
        json!([])
    );
    let second = send(&app, post(accident(&ents[1], "2022-11-19", 0, 1))).await;
    assert_eq!(
        second.body["evaluation"]["certificates"][0]["triggers"],
        json!(["injury_or_loss_12_months"]),
        "2 + 1 within 12 months: {}",
        second.body
    );
    let listed = send(
        &app,
        TestRequest::get().uri(&format!("/api/v1/accidents?enterprise_id={}", ents[1])),
    )
    .await;
    assert_eq!(
        listed.body["items"][0]["evaluation"]["certificates"][0]["triggers"],
        json!(["injury_or_loss_12_months"]),
        "the earlier accident is re-evaluated with the later one"
    );

    send(&app, post(accident(&ents[2], "2021-12-20", 0, 2))).await;
    let apart = send(&app, post(accident(&ents[2], "2023-01-20", 0, 1))).await;
    assert_eq!(
        apart.body["evaluation"]["certificates"][0]["triggers"],
        json!([]),
        "13 months apart"
    );
    assert_eq!(
        apart.body["evaluation"]["restart_required"], true,
        "still during validity"
    );

    let before = send(&app, post(accident(&ents[2], "2021-10-01", 0, 0))).await;
    assert_eq!(
        before.body["evaluation"],
        json!({"certificates": [], "restart_required": false, "rules_version": "定级办法2021-r1"})
    );

    let bad = send(
        &app,
        post(json!({"enterprise_id": ents[0], "occurred_on": "2025-01-01", "kind": "meteor", "deaths": -1, "concealed": "no"})),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        bad.body["errors"].as_array().map(Vec::len),
        Some(4),
        "{}",
        bad.body
    );
    let events = send(
        &app,
        TestRequest::get().uri(&format!(
            "/api/v1/events?enterprise_id={}&types=accident.recorded",
            ents[0]
        )),
    )
    .await;
    assert_eq!(events.body["items"][0]["data"]["restart_required"], true);
}

/// The scenario: a legacy 三级 certificate issued 2019-03-01 is `expiring` from
/// 2021-12-01 and renewed by fast track: the old one `superseded`, the new one `valid`. Fast
/// track is refused after a death during validity; an expired certificate cannot be renewed;
/// an upgrade must raise the grade.
async fn renewal_fast_track_and_upgrade(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2021-12-15")).await;
    let mut ents = Vec::new();
    for n in 20..23 {
        let (e, _) = post_enterprise(&app, n).await;
        ents.push(e.body["id"].as_str().unwrap_or_default().to_owned());
    }
    let record = |ent: &str, number: &str| {
        json_request(
            Method::POST,
            "/api/v1/certificates",
            &body(ent, number, "2019-03-01"),
        )
    };
    let old = send(&app, record(&ents[0], "LEG-1")).await;
    assert_eq!(old.body["status"], "expiring");
    let old_id = old.body["id"].as_str().unwrap_or_default().to_owned();
    let renewal = json!({"track": "fast_track", "number": "REN-1", "issued_on": "2021-12-15"});
    let renewed = send(
        &app,
        json_request(
            Method::POST,
            &format!("/api/v1/certificates/{old_id}/renewal"),
            &renewal,
        ),
    )
    .await;
    assert_eq!(renewed.status, StatusCode::CREATED, "{}", renewed.body);
    assert_eq!(renewed.body["status"], "valid");
    assert_eq!(renewed.body["grade"], "grade_3");
    assert_eq!(
        renewed.body["regime"], "grading_2021",
        "issued after 2021-10-27"
    );
    assert_eq!(renewed.body["valid_until"], "2024-12-15");
    assert_eq!(
        renewed.body["authority"]["name"], "绵阳市应急管理局",
        "kept from the old one"
    );
    let now_old = send(
        &app,
        TestRequest::get().uri(&format!("/api/v1/certificates/{old_id}")),
    )
    .await;
    assert_eq!(now_old.body["status"], "superseded");
    assert_eq!(now_old.body["superseded_by"], renewed.body["id"]);
    let twice = send(
        &app,
        json_request(
            Method::POST,
            &format!("/api/v1/certificates/{old_id}/renewal"),
            &json!({"track": "full_review", "number": "REN-2", "issued_on": "2021-12-15"}),
        ),
    )
    .await;
    assert_eq!(twice.body["code"], "certificate_not_in_force");

    // A death during validity excludes the fast track; the full review is accepted.
    let second = send(&app, record(&ents[1], "LEG-2")).await;
    let second_id = second.body["id"].as_str().unwrap_or_default().to_owned();
    send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/accidents",
            &accident(&ents[1], "2020-08-08", 1, 0),
        ),
    )
    .await;
    let refused = send(
        &app,
        json_request(
            Method::POST,
            &format!("/api/v1/certificates/{second_id}/renewal"),
            &json!({"track": "fast_track", "number": "REN-3", "issued_on": "2021-12-15"}),
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.body["code"], "fast_track_not_allowed");
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("死亡事故"),
        "{}",
        refused.body
    );
    let full = send(
        &app,
        json_request(
            Method::POST,
            &format!("/api/v1/certificates/{second_id}/renewal"),
            &json!({"track": "full_review", "number": "REN-3", "issued_on": "2021-12-15"}),
        ),
    )
    .await;
    assert_eq!(full.status, StatusCode::CREATED, "{}", full.body);

    // Upgrades must raise the grade.
    let third = send(&app, record(&ents[2], "LEG-3")).await;
    let third_id = third.body["id"].as_str().unwrap_or_default().to_owned();
    let upgrade = |grade: &str, number: &str| {
        json_request(
            Method::POST,
            &format!("/api/v1/certificates/{third_id}/upgrade"),
            &json!({"grade": grade, "number": number, "issued_on": "2021-12-01",
                    "authority": {"level": "province", "name": "四川省应急管理厅"}}),
        )
    };
    let same = send(&app, upgrade("grade_3", "UP-1")).await;
    assert_eq!(
        same.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        same.body
    );
    assert_eq!(same.body["errors"][0]["pointer"], "/grade");
    let up = send(&app, upgrade("grade_2", "UP-1")).await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.body);
    assert_eq!(up.body["grade"], "grade_2");
    let events = send(
        &app,
        TestRequest::get().uri(&format!(
            "/api/v1/events?enterprise_id={}&types=certificate.upgraded",
            ents[2]
        )),
    )
    .await;
    assert_eq!(
        events.body["items"][0]["data"]["previous_id"],
        json!(third_id)
    );

    // After expiry: renewal is closed.
    let late = test_app_at(db.store.clone(), day("2022-03-02")).await;
    let expired = send(
        &late,
        json_request(
            Method::POST,
            &format!(
                "/api/v1/certificates/{}/renewal",
                up.body["id"].as_str().unwrap_or_default()
            ),
            &json!({"track": "full_review", "number": "REN-9", "issued_on": "2022-03-02"}),
        ),
    )
    .await;
    assert_eq!(
        expired.status,
        StatusCode::CREATED,
        "the upgraded grade (2024-12-01) is still in force: {}",
        expired.body
    );
    let fourth = send(
        &late,
        json_request(
            Method::POST,
            "/api/v1/certificates",
            &body(&ents[2], "OLD-9", "2018-01-01"),
        ),
    )
    .await;
    let closed = send(
        &late,
        json_request(
            Method::POST,
            &format!(
                "/api/v1/certificates/{}/renewal",
                fourth.body["id"].as_str().unwrap_or_default()
            ),
            &json!({"track": "full_review", "number": "REN-10", "issued_on": "2022-03-02"}),
        ),
    )
    .await;
    assert_eq!(closed.status, StatusCode::CONFLICT, "{}", closed.body);
    assert_eq!(closed.body["code"], "renewal_closed");
}

/// The public register shows only grades in force, and verifies numbers, without a token;
/// it is rate-limited per address.
async fn public_register_and_verification(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2024-03-01")).await;
    let mut ents = Vec::new();
    for n in 30..33 {
        let (e, _) = post_enterprise(&app, n).await;
        ents.push(e.body["id"].as_str().unwrap_or_default().to_owned());
    }
    let rec = |ent: &str, number: &str, on: &str| {
        json_request(Method::POST, "/api/v1/certificates", &body(ent, number, on))
    };
    send(&app, rec(&ents[0], "PUB-VALID", "2023-01-01")).await;
    send(&app, rec(&ents[1], "PUB-EXPIRED", "2020-01-01")).await;
    let revoked = send(&app, rec(&ents[2], "PUB-REVOKED", "2023-01-01")).await;
    let rid = revoked.body["id"].as_str().unwrap_or_default();
    let r = send(
        &app,
        json_request(
            Method::POST,
            &format!("/api/v1/certificates/{rid}/revocation"),
            &json!({"trigger": "false_materials", "legal_basis": "定级办法", "reason": "材料造假", "decided_on": "2024-01-15"}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let page = send_as(&app, None, TestRequest::get().uri("/api/v1/register")).await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "no token needed: {}",
        page.body
    );
    let numbers = strings(&page, "certificate_number");
    assert_eq!(numbers, vec!["PUB-VALID"]);
    insta::assert_json_snapshot!("register_page", page.body);
    let none = send_as(
        &app,
        None,
        TestRequest::get().uri("/api/v1/register?grade=grade_1"),
    )
    .await;
    assert_eq!(none.body["items"], json!([]));
    for (number, status) in [
        ("PUB-VALID", "valid"),
        ("PUB-EXPIRED", "expired"),
        ("PUB-REVOKED", "revoked"),
    ] {
        let v = send_as(
            &app,
            None,
            TestRequest::get().uri(&format!("/api/v1/register/certificates/{number}")),
        )
        .await;
        assert_eq!(v.body["status"], status, "{number}: {}", v.body);
    }
    let missing = send_as(
        &app,
        None,
        TestRequest::get().uri("/api/v1/register/certificates/NO-SUCH"),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let private = send_as(&app, None, TestRequest::get().uri("/api/v1/certificates")).await;
    assert_eq!(
        private.status,
        StatusCode::UNAUTHORIZED,
        "nothing else is public"
    );

    let mut state = safegrade_http::AppState::new(db.store.clone());
    state.public_limit = std::sync::Arc::new(safegrade_http::ratelimit::RateLimiter::new(3));
    let limited = test_app_from(state).await;
    for _ in 0..3 {
        let ok = send_as(&limited, None, TestRequest::get().uri("/api/v1/register")).await;
        assert_eq!(ok.status, StatusCode::OK);
    }
    let refused = send_as(&limited, None, TestRequest::get().uri("/api/v1/register")).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.body["code"], "rate_limited");
    assert!(
        refused
            .header("retry-after")
            .parse::<u64>()
            .is_ok_and(|s| (1..=60).contains(&s))
    );
}

/// Registers `count` enterprises in 510703 (credit codes from `first`) and one more in
/// 510704; returns their ids.
async fn enterprises<S, B>(
    app: &safegrade_testkit::TestApp<S>,
    first: u32,
    count: u32,
) -> (Vec<String>, String)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let mut ents = Vec::new();
    for n in first..first + count {
        let (e, _) = post_enterprise(app, n).await;
        ents.push(e.body["id"].as_str().unwrap_or_default().to_owned());
    }
    let mut other = enterprise_body(&credit_code(first + count));
    other["area_code"] = json!("510704");
    let d = send(
        app,
        json_request(Method::POST, "/api/v1/enterprises", &other),
    )
    .await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.body);
    (ents, d.body["id"].as_str().unwrap_or_default().to_owned())
}

/// The string member `field` of every item of a page.
fn strings(r: &safegrade_testkit::Reply, field: &str) -> Vec<String> {
    r.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i[field].as_str().map(str::to_owned))
        .collect()
}

fn kinds(r: &safegrade_testkit::Reply) -> Vec<(String, String)> {
    r.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            (
                a["kind"].as_str().unwrap_or_default().to_owned(),
                a["enterprise_id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Alerts on a pinned day: expiring, expired, accident during validity and revocation
/// trigger; each disappears when its cause is resolved; a county sees only its own.
async fn alerts_follow_the_records(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2021-12-15")).await;
    let (ents, foreign) = enterprises(&app, 40, 4).await;
    let rec = |ent: &str, number: &str, on: &str| {
        json_request(Method::POST, "/api/v1/certificates", &body(ent, number, on))
    };
    let expiring = send(&app, rec(&ents[0], "AL-1", "2019-03-01")).await;
    send(&app, rec(&ents[1], "AL-2", "2018-01-01")).await;
    let accident_cert = send(&app, rec(&ents[2], "AL-3", "2020-01-01")).await;
    send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/accidents",
            &accident(&ents[2], "2021-06-01", 1, 0),
        ),
    )
    .await;
    send(&app, rec(&foreign, "AL-4", "2019-02-01")).await;
    // In its renewal window, but with an accident during the validity: it must restart
    // creation, so no renewal reminder contradicts that.
    send(&app, rec(&ents[3], "AL-5", "2019-02-15")).await;
    send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/accidents",
            &accident(&ents[3], "2021-09-01", 0, 1),
        ),
    )
    .await;

    let all = send(&app, TestRequest::get().uri("/api/v1/alerts")).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert_eq!(
        kinds(&all),
        vec![
            // Graded in 2019 with no self-assessment submitted since (ents[3] must restart
            // after its accident, so it is not reminded).
            ("annual_self_assessment_missing".to_owned(), foreign.clone()),
            ("annual_self_assessment_missing".to_owned(), ents[0].clone()),
            ("grade_expired".to_owned(), ents[1].clone()),
            ("accident_during_validity".to_owned(), ents[2].clone()),
            ("revocation_trigger".to_owned(), ents[2].clone()),
            ("accident_during_validity".to_owned(), ents[3].clone()),
            ("grade_expiring".to_owned(), foreign.clone()),
            ("grade_expiring".to_owned(), ents[0].clone()),
        ],
        "{}",
        all.body
    );
    // The export says the same, in the same order, in Chinese.
    let file = send(&app, TestRequest::get().uri("/api/v1/alerts/export.csv")).await;
    let text = String::from_utf8_lossy(&file.raw).into_owned();
    let exported: Vec<(String, String)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (
                cells.first().copied().unwrap_or_default().to_owned(),
                cells.last().copied().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let labels: Vec<(String, String)> = kinds(&all)
        .into_iter()
        .map(|(k, e)| {
            let kind = k
                .parse::<safegrade_domain::grading::AlertKind>()
                .map(|k| safegrade_domain::CodeList::label_zh(&k).to_owned())
                .unwrap_or(k);
            (kind, e)
        })
        .collect();
    assert_eq!(exported, labels, "{text}");
    assert_record_snapshot!("alert_expiring", all.body["items"][7]);
    // What a regulator reads is Chinese, names the enterprise, and holds no API paths.
    for alert in all.body["items"].as_array().into_iter().flatten() {
        let name = alert["enterprise_name"].as_str().unwrap_or_default();
        assert_eq!(name, "绵阳市示例建材有限公司", "{alert}");
        for field in ["rule", "next_step"] {
            let text = alert[field].as_str().unwrap_or_default();
            assert!(
                text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
                    && !text.contains("/api/")
                    && !text.contains('{'),
                "{field}: {text}"
            );
        }
    }
    let expiring_only = send(
        &app,
        TestRequest::get().uri(&format!(
            "/api/v1/alerts?kind=grade_expiring&enterprise_id={}",
            ents[3]
        )),
    )
    .await;
    assert_eq!(kinds(&expiring_only), vec![], "{}", expiring_only.body);

    // The enterprises carry their derived status, and the ledger filters on it.
    for (status, expected) in [
        ("restart_required", vec![ents[2].clone(), ents[3].clone()]),
        ("expired", vec![ents[1].clone()]),
        ("attained", vec![ents[0].clone()]),
    ] {
        let r = send(
            &app,
            TestRequest::get().uri(&format!(
                "/api/v1/enterprises?area_code=510703&standardization_status={status}"
            )),
        )
        .await;
        assert_eq!(strings(&r, "id"), expected, "{status}");
    }
    let graded = send(
        &app,
        TestRequest::get().uri("/api/v1/enterprises?current_grade=grade_3&area_code=510703"),
    )
    .await;
    assert_eq!(
        strings(&graded, "id"),
        vec![ents[0].clone(), ents[2].clone(), ents[3].clone()],
        "grades in force, restart or not"
    );
    let one = send(
        &app,
        TestRequest::get().uri(&format!("/api/v1/enterprises/{}", ents[0])),
    )
    .await;
    assert_eq!(one.body["standardization_status"], "attained");
    assert_eq!(one.body["current_grade"], "grade_3");
    assert_eq!(one.body["grade_valid_until"], "2022-03-01");

    // A county sees only its own.
    let (_, county) = principal(
        &db.store,
        json!({"name": "游仙区", "role": "area_regulator", "area_codes": ["510704"]}),
    );
    let mine = send_as(
        &app,
        Some(&county),
        TestRequest::get().uri("/api/v1/alerts"),
    )
    .await;
    assert_eq!(
        kinds(&mine),
        vec![
            ("annual_self_assessment_missing".to_owned(), foreign.clone()),
            ("grade_expiring".to_owned(), foreign.clone())
        ]
    );

    // Filters and paging.
    let only = send(
        &app,
        TestRequest::get().uri("/api/v1/alerts?kind=grade_expiring&area_code=510703"),
    )
    .await;
    assert_eq!(
        kinds(&only),
        vec![("grade_expiring".to_owned(), ents[0].clone())]
    );
    let first = send(&app, TestRequest::get().uri("/api/v1/alerts?limit=2")).await;
    let cursor = first.body["next_cursor"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let second = send(
        &app,
        TestRequest::get().uri(&format!("/api/v1/alerts?limit=2&cursor={cursor}")),
    )
    .await;
    assert_eq!(kinds(&second), kinds(&all)[2..4].to_vec());
    let bad = send(&app, TestRequest::get().uri("/api/v1/alerts?kind=nothing")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // Resolving causes removes the alerts.
    let id = expiring.body["id"].as_str().unwrap_or_default();
    let renewed = send(
        &app,
        json_request(
            Method::POST,
            &format!("/api/v1/certificates/{id}/renewal"),
            &json!({"track": "fast_track", "number": "AL-1R", "issued_on": "2021-12-15"}),
        ),
    )
    .await;
    assert_eq!(renewed.status, StatusCode::CREATED, "{}", renewed.body);
    let cid = accident_cert.body["id"].as_str().unwrap_or_default();
    send(
        &app,
        json_request(Method::POST, &format!("/api/v1/certificates/{cid}/revocation"), &json!({"trigger": "fatal_accident", "legal_basis": "定级办法", "reason": "死亡事故", "decided_on": "2021-07-01"})),
    )
    .await;
    let after = send(
        &app,
        TestRequest::get().uri("/api/v1/alerts?area_code=510703"),
    )
    .await;
    assert_eq!(
        kinds(&after),
        vec![
            ("grade_expired".to_owned(), ents[1].clone()),
            ("accident_during_validity".to_owned(), ents[3].clone()),
        ]
    );
    send(&app, rec(&ents[1], "AL-2N", "2021-12-01")).await;
    // A grade granted after the accident (created anew) resolves it.
    send(&app, rec(&ents[3], "AL-5N", "2021-12-01")).await;
    let none = send(
        &app,
        TestRequest::get().uri("/api/v1/alerts?area_code=510703"),
    )
    .await;
    assert_eq!(kinds(&none), vec![], "a new grade resolves the expired one");
    let revoked = send(
        &app,
        TestRequest::get().uri(&format!("/api/v1/enterprises/{}", ents[2])),
    )
    .await;
    assert_eq!(revoked.body["standardization_status"], "revoked");
    assert_eq!(revoked.body["current_grade"], Value::Null);
    let creating = send(
        &app,
        TestRequest::get().uri("/api/v1/enterprises?standardization_status=creating"),
    )
    .await;
    assert_eq!(creating.body["items"], json!([]));
}

/// Statistics per area and sector: today with the status breakdown (which agrees with the
/// ledger's status filter), a past day from the certificate history, a county's own figures.
async fn attainment_statistics(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2021-12-15")).await;
    let (ents, foreign) = enterprises(&app, 50, 4).await;
    let rec = |ent: &str, number: &str, on: &str| {
        json_request(Method::POST, "/api/v1/certificates", &body(ent, number, on))
    };
    send(&app, rec(&ents[0], "ST-1", "2019-03-01")).await;
    send(&app, rec(&ents[1], "ST-2", "2018-01-01")).await;
    send(&app, rec(&ents[2], "ST-3", "2020-01-01")).await;
    send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/accidents",
            &accident(&ents[2], "2021-06-01", 0, 1),
        ),
    )
    .await;
    send(&app, rec(&foreign, "ST-4", "2019-02-01")).await;

    let stats = send(&app, TestRequest::get().uri("/api/v1/stats/attainment")).await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.body);
    let t = &stats.body["total"];
    assert_eq!(t["enterprises"], 5);
    assert_eq!(t["attained"], 3, "{t}");
    assert_eq!(t["attainment_rate"], 0.6);
    assert_eq!(t["by_grade"], json!({"grade_3": 3}));
    assert_eq!(t["expiring"], 2);
    assert_eq!(
        t["by_status"],
        json!({"attained": 2, "expired": 1, "restart_required": 1, "not_started": 1})
    );
    assert_eq!(
        stats.body["rows"].as_array().map(Vec::len),
        Some(2),
        "two areas, one sector"
    );
    insta::assert_json_snapshot!("attainment_stats", stats.body);
    for (status, n) in t["by_status"].as_object().into_iter().flatten() {
        let listed = send(
            &app,
            TestRequest::get().uri(&format!(
                "/api/v1/enterprises?standardization_status={status}"
            )),
        )
        .await;
        assert_eq!(
            listed.body["items"].as_array().map(Vec::len),
            n.as_u64().and_then(|n| usize::try_from(n).ok()),
            "statistics and the ledger filter agree on {status}"
        );
    }

    let past = send(
        &app,
        TestRequest::get().uri("/api/v1/stats/attainment?as_of=2020-06-01"),
    )
    .await;
    assert_eq!(past.body["total"]["attained"], 4, "{}", past.body);
    assert_eq!(past.body["total"]["by_status"], Value::Null);
    let future = send(
        &app,
        TestRequest::get().uri("/api/v1/stats/attainment?as_of=2030-01-01"),
    )
    .await;
    assert_eq!(future.status, StatusCode::BAD_REQUEST);

    let (_, county) = principal(
        &db.store,
        json!({"name": "游仙区", "role": "area_regulator", "area_codes": ["510704"]}),
    );
    let alias = send(
        &app,
        TestRequest::get().uri("/api/v1/stats/attainment?area=510704"),
    )
    .await;
    assert_eq!(
        alias.body["total"]["enterprises"], 1,
        "area is an alias of area_code"
    );
    let mine = send_as(
        &app,
        Some(&county),
        TestRequest::get().uri("/api/v1/stats/attainment"),
    )
    .await;
    assert_eq!(mine.body["total"]["enterprises"], 1);
    assert_eq!(mine.body["rows"][0]["area_code"], "510704");
    // An enterprise that moves takes its grade with it into the other area's figures.
    let moved = send(
        &app,
        json_request(
            Method::PATCH,
            &format!("/api/v1/enterprises/{}", ents[0]),
            &json!({"area_code": "510704"}),
        ),
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let mine = send_as(
        &app,
        Some(&county),
        TestRequest::get().uri("/api/v1/stats/attainment"),
    )
    .await;
    assert_eq!(
        mine.body["total"]["by_status"],
        json!({"attained": 2}),
        "{}",
        mine.body
    );
}

/// The creation and upgrade drive: focus, stage and target with validation and `If-Match`;
/// guidance visits; the follow-up and upgrade-target alerts, resolved by a new visit and by
/// the target grade; events.
async fn drives_and_their_alerts(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2025-03-01")).await;
    let (ents, _) = enterprises(&app, 60, 1).await;
    let ent = &ents[0];
    let uri = format!("/api/v1/enterprises/{ent}/drive");
    let empty = send(&app, TestRequest::get().uri(&uri)).await;
    assert_eq!(empty.body["creation_stage"], "not_started");
    assert_eq!(empty.header("etag"), "\"0\"");
    let bad = send(
        &app,
        json_request(Method::PATCH, &uri, &json!({"supervision_focus": true, "creation_stage": "creating", "upgrade_target_year": 2025})),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut pointers: Vec<&str> = bad.body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["pointer"].as_str())
        .collect();
    pointers.sort_unstable();
    assert_eq!(
        pointers,
        vec![
            "/focus_reason",
            "/focus_since",
            "/stage_since",
            "/upgrade_target_grade"
        ],
        "{}",
        bad.body
    );
    let patch = json!({
        "supervision_focus": true, "focus_reason": "摸底调查：未开展标准化创建", "focus_since": "2025-01-05",
        "creation_stage": "creating", "stage_since": "2025-01-20",
        "upgrade_target_grade": "grade_2", "upgrade_target_year": 2025
    });
    let done = send(
        &app,
        json_request(Method::PATCH, &uri, &patch).insert_header(("if-match", "\"0\"")),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.header("etag"), "\"1\"");
    assert_record_snapshot!("drive", done.body);
    let ledger = send(
        &app,
        TestRequest::get().uri(&format!("/api/v1/enterprises/{ent}")),
    )
    .await;
    assert_eq!(
        ledger.body["standardization_status"], "creating",
        "the stage drives the status"
    );
    assert_eq!(ledger.body["supervision_focus"], true);
    assert_eq!(ledger.body["creation_stage"], "creating");
    assert_eq!(
        ledger.body["upgrade_target"],
        json!({"grade": "grade_2", "year": 2025})
    );
    let refused = send(
        &app,
        json_request(
            Method::PATCH,
            &format!("/api/v1/enterprises/{ent}"),
            &json!({"creation_stage": "applied"}),
        ),
    )
    .await;
    assert_eq!(
        refused.body["errors"][0]["code"], "read_only",
        "the drive changes through its own route"
    );
    let creating = send(
        &app,
        TestRequest::get().uri("/api/v1/enterprises?standardization_status=creating"),
    )
    .await;
    assert_eq!(creating.body["items"].as_array().map(Vec::len), Some(1));
    let stats = send(
        &app,
        TestRequest::get().uri("/api/v1/stats/attainment?area_code=510703"),
    )
    .await;
    assert_eq!(
        stats.body["total"]["by_status"]["creating"], 1,
        "{}",
        stats.body
    );
    let stale = send(
        &app,
        json_request(
            Method::PATCH,
            &uri,
            &json!({"model_enterprise": true, "model_note": "x"}),
        )
        .insert_header(("if-match", "\"0\"")),
    )
    .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);

    let visits = format!("/api/v1/enterprises/{ent}/visits");
    let v = send(
        &app,
        json_request(Method::POST, &visits, &json!({"visited_on": "2025-01-10", "visitor": "涪城区应急管理局 王五", "findings": "尚未成立创建工作组", "follow_up_on": "2025-02-01"})),
    )
    .await;
    assert_eq!(v.status, StatusCode::CREATED, "{}", v.body);
    let alerts = |kinds: &str| {
        TestRequest::get().uri(&format!("/api/v1/alerts?enterprise_id={ent}&kind={kinds}"))
    };
    let due = send(&app, alerts("focus_follow_up_due,upgrade_target_due")).await;
    assert_eq!(
        kinds(&due),
        vec![
            ("upgrade_target_due".to_owned(), ent.clone()),
            ("focus_follow_up_due".to_owned(), ent.clone()),
        ],
        "{}",
        due.body
    );
    send(
        &app,
        json_request(
            Method::POST,
            &visits,
            &json!({"visited_on": "2025-02-20", "visitor": "王五", "findings": "已成立工作组"}),
        ),
    )
    .await;
    let listed = send(&app, TestRequest::get().uri(&visits)).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(listed.body["next_cursor"], Value::Null);
    send(&app, json_request(Method::POST, "/api/v1/certificates", &json!({
        "enterprise_id": ent, "grade": "grade_2", "number": "DR-2", "authority_level": "province",
        "authority_name": "四川省应急管理厅", "issued_on": "2025-02-25", "standard": "AQ/T 9006-2010"
    }))).await;
    let none = send(&app, alerts("focus_follow_up_due,upgrade_target_due")).await;
    assert_eq!(
        kinds(&none),
        vec![],
        "a later visit and the target grade resolve them"
    );

    let events = send(
        &app,
        TestRequest::get().uri(&format!(
            "/api/v1/events?enterprise_id={ent}&types=enterprise.drive_updated,visit.recorded"
        )),
    )
    .await;
    let types = strings(&events, "type");
    assert_eq!(
        types,
        vec![
            "enterprise.drive_updated",
            "visit.recorded",
            "visit.recorded"
        ]
    );
    assert_eq!(
        events.body["items"][0]["data"]["changes"]["creation_stage"],
        json!({"old": "not_started", "new": "creating"})
    );
}

/// A rule set the bureau configured (another validity and bar) decides everything, and its
/// version is kept with each decision and shown.
async fn configured_rules_decide_and_are_shown(db: TestDb) {
    use safegrade_domain::grading::GradeRules;
    let rules: &'static GradeRules = Box::leak(Box::new(GradeRules {
        version: "绵阳测试-r2",
        validity_months: 24,
        bar_after_revocation_months: 6,
        ..GradeRules::builtin().clone()
    }));
    let store = db.store.clone().with_grade_rules(rules);
    let app = test_app_at(store, day("2024-06-01")).await;
    let (ent, _) = post_enterprise(&app, 40).await;
    let ent = ent.body["id"].as_str().unwrap_or_default().to_owned();
    let c = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/certificates",
            &body(&ent, "R2-1", "2024-01-10"),
        ),
    )
    .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
    assert_eq!(
        c.body["valid_until"], "2026-01-10",
        "24 months under the configured rules"
    );
    assert_eq!(c.body["rules_version"], "绵阳测试-r2");
    let accident = json!({
        "enterprise_id": ent, "occurred_on": "2024-05-01", "kind": "machinery",
        "deaths": 1, "source": "调查报告"
    });
    let a = send(
        &app,
        json_request(Method::POST, "/api/v1/accidents", &accident),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(a.body["rules_version"], "绵阳测试-r2");
    assert_eq!(a.body["evaluation"]["rules_version"], "绵阳测试-r2");
    let id = c.body["id"].as_str().unwrap_or_default();
    let decision = json!({
        "trigger": "fatal_accident", "legal_basis": "定级办法撤销情形第（一）项",
        "reason": "死亡事故", "decided_on": "2024-05-20"
    });
    let r = send(
        &app,
        json_request(
            Method::POST,
            &format!("/api/v1/certificates/{id}/revocation"),
            &decision,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["revocation"]["rules_version"], "绵阳测试-r2");
    assert_eq!(
        r.body["revocation"]["regrade_opens_on"], "2024-11-20",
        "a 6-month bar"
    );
    let after_bar = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/certificates",
            &body(&ent, "R2-2", "2024-05-25"),
        ),
    )
    .await;
    assert_eq!(
        after_bar.body["code"], "regrade_barred",
        "{}",
        after_bar.body
    );
    assert!(
        after_bar.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("2024-11-20"),
        "{}",
        after_bar.body
    );
}

/// A new creation stage cannot be dated before the current one (409 `stage_out_of_order`),
/// and two first changes of a drive with the same `If-Match` cannot both win.
async fn drive_stages_go_forward_in_time(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2025-07-01")).await;
    let (_, uri) = post_enterprise(&app, 41).await;
    let drive = format!("{uri}/drive");
    let patch = |body: Value, etag: &str| {
        json_request(Method::PATCH, &drive, &body)
            .insert_header(("content-type", "application/merge-patch+json"))
            .insert_header(("if-match", etag.to_owned()))
    };
    let applied = send(
        &app,
        patch(
            json!({"creation_stage": "applied", "stage_since": "2025-05-01"}),
            "\"0\"",
        ),
    )
    .await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.body);
    let stale_first = send(
        &app,
        patch(
            json!({"creation_stage": "creating", "stage_since": "2025-06-01"}),
            "\"0\"",
        ),
    )
    .await;
    assert_eq!(
        stale_first.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale_first.body
    );
    let back = send(
        &app,
        patch(
            json!({"creation_stage": "creating", "stage_since": "2025-01-01"}),
            "\"1\"",
        ),
    )
    .await;
    assert_eq!(back.status, StatusCode::CONFLICT, "{}", back.body);
    assert_eq!(back.body["code"], "stage_out_of_order");
    let later = send(
        &app,
        patch(
            json!({"creation_stage": "creating", "stage_since": "2025-06-01"}),
            "\"1\"",
        ),
    )
    .await;
    assert_eq!(later.status, StatusCode::OK, "{}", later.body);
    assert_eq!(later.body["version"], 2);
}
