//! Assessments through the API: the worked example (830 of 960 → 86.5 → grade_2), results
//! checked against the standard, an accident that lowers the grade reached, a submitted
//! assessment that never changes, who may assess what, and a standard that does not fit.

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use safegrade_testkit::{TestDb, json_request, principal, send, send_as, test_app_at};
use serde_json::{Value, json};

use crate::access::matrix_today;

both!(
    the_worked_example_end_to_end,
    who_may_assess_and_what_fits,
    passes_are_compared_element_by_element,
    a_submitted_self_assessment_clears_the_annual_reminder
);

/// 1000 points: A (500, extra up to 10), B (460), C (40, the major-hazard element).
fn thousand_points() -> Value {
    let element = |code: &str, points: u32, extra: Option<u32>| {
        let mut item = json!({"code": format!("{code}.1.1"), "text": "检查", "points": points, "method": "按细则扣分"});
        if let Some(x) = extra {
            item["extra_deduction_max"] = json!(x);
        }
        json!({"code": code, "title": format!("要素{code}"), "points": points,
               "sub_elements": [{"code": format!("{code}.1"), "title": "子要素", "items": [item]}]})
    };
    json!({
        "code": "算例标准", "version": "1", "title": "算例用评分标准（测试）", "full_points": 1000,
        "thresholds": {"grade_1": 90, "grade_2": 75, "grade_3": 60},
        "performance_lookback_months": 12,
        "elements": [element("A", 500, Some(10)), element("B", 460, None), element("C", 40, None)]
    })
}

async fn setup<S, B>(app: &safegrade_testkit::TestApp<S>) -> (String, String)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let (ent, _) = safegrade_testkit::post_enterprise(app, 901).await;
    let ent = ent.body["id"].as_str().unwrap_or_default().to_owned();
    let std = send(
        app,
        json_request(Method::POST, "/api/v1/standards", &thousand_points()),
    )
    .await;
    assert_eq!(std.status, StatusCode::CREATED, "{}", std.body);
    (ent, std.body["id"].as_str().unwrap_or_default().to_owned())
}

async fn the_worked_example_end_to_end(db: TestDb) {
    let app = test_app_at(db.store.clone(), matrix_today()).await;
    let (ent, std) = setup(&app).await;
    let started = send(
        &app,
        json_request(Method::POST, "/api/v1/assessments",
            &json!({"enterprise_id": ent, "standard_id": std, "kind": "regulator", "assessors": "涪城区应急管理局检查组"})),
    )
    .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    assert_eq!(started.body["state"], "draft");
    assert_eq!(
        started.body["result"]["score"], 100.0,
        "nothing deducted yet"
    );
    let url = started.header("location");
    let patch = |body: Value, version: &str| {
        json_request(Method::PATCH, url, &body)
            .insert_header(("content-type", "application/merge-patch+json"))
            .insert_header(("if-match", version.to_owned()))
    };

    // Deducting beyond an item, an unknown item, N/A without a reason: refused, nothing kept.
    let bad = send(&app, patch(json!({"items": {"A.1.1": {"deducted": 501}, "Z.1": {}, "C.1.1": {"not_applicable": ""}}, "extra": {"B": 1}}), "\"1\"")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let pointers: Vec<&str> = bad.body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["pointer"].as_str())
        .collect();
    assert_eq!(
        pointers,
        [
            "/items/A.1.1/deducted",
            "/items/C.1.1/not_applicable",
            "/items/Z.1",
            "/extra/B"
        ],
        "{}",
        bad.body
    );

    let filled = send(
        &app,
        patch(
            json!({
                "items": {
                    "A.1.1": {"deducted": 50, "evidence": "安全管理机构未以文件任命"},
                    "B.1.1": {"deducted": 70},
                    "C.1.1": {"not_applicable": "无重大危险源"}
                },
                "extra": {"A": 10}
            }),
            "\"1\"",
        ),
    )
    .await;
    assert_eq!(filled.status, StatusCode::OK, "{}", filled.body);
    let result = &filled.body["result"];
    assert_eq!(
        (
            result["earned"].clone(),
            result["not_applicable"].clone(),
            result["score"].clone()
        ),
        (json!(830), json!(40), json!(86.5))
    );
    assert_eq!(result["grade_by_score"], "grade_2");
    assert_eq!(result["grade_reached"], "grade_2");
    assert_eq!(result["elements"][0]["rate"], 88.0);
    assert_eq!(result["elements"][2]["rate"], Value::Null);

    // A fatal accident within the look-back window: no grade, and it says why.
    let accident = send(&app, json_request(Method::POST, "/api/v1/accidents",
        &json!({"enterprise_id": ent, "occurred_on": "2025-08-01", "kind": "machinery", "deaths": 1, "source": "测试"}))).await;
    assert_eq!(accident.status, StatusCode::CREATED, "{}", accident.body);
    let read = send(&app, TestRequest::get().uri(url)).await;
    assert_eq!(read.body["result"]["grade_by_score"], "grade_2");
    assert_eq!(read.body["result"]["grade_reached"], Value::Null);
    assert!(
        read.body["result"]["performance_reasons"][0]
            .as_str()
            .is_some_and(|r| r.contains("死亡")),
        "{}",
        read.body
    );

    // Submitted: never changes again.
    let submitted = send(
        &app,
        json_request(
            Method::POST,
            &format!("{url}/submission"),
            &json!({"reason": "检查结束"}),
        ),
    )
    .await;
    assert_eq!(submitted.status, StatusCode::OK, "{}", submitted.body);
    assert_eq!(submitted.body["state"], "submitted");
    assert_eq!(submitted.body["submitted_on"], "2026-01-01");
    let late = send(
        &app,
        patch(json!({"items": {"B.1.1": {"deducted": 0}}}), "*"),
    )
    .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
    assert_eq!(late.body["code"], "assessment_not_draft");
    let again = send(
        &app,
        json_request(Method::POST, &format!("{url}/discard"), &json!({})),
    )
    .await;
    assert_eq!(again.body["code"], "assessment_not_draft");

    let events = send(
        &app,
        TestRequest::get().uri(&format!(
            "/api/v1/events?types=assessment.submitted&enterprise_id={ent}"
        )),
    )
    .await;
    let items = events.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "{}", events.body);
    assert_eq!(items[0]["data"]["score"], 86.5);
    assert_eq!(items[0]["data"]["grade_reached"], Value::Null);
    assert_eq!(items[0]["reason"], "检查结束");
}

async fn who_may_assess_and_what_fits(db: TestDb) {
    let app = test_app_at(db.store.clone(), matrix_today()).await;
    let (ent, std) = setup(&app).await;
    let (other, _) = safegrade_testkit::post_enterprise(&app, 902).await;
    let other = other.body["id"].as_str().unwrap_or_default().to_owned();
    let (_, token) = principal(
        &db.store,
        json!({"name": "企业", "role": "enterprise", "enterprise_id": ent}),
    );
    let start = |enterprise: &str, kind: &str| {
        json_request(
            Method::POST,
            "/api/v1/assessments",
            &json!({"enterprise_id": enterprise, "standard_id": std, "kind": kind}),
        )
    };
    let own = send_as(&app, Some(&token), start(&ent, "self")).await;
    assert_eq!(
        own.status,
        StatusCode::CREATED,
        "the enterprise self-assesses: {}",
        own.body
    );
    let review = send_as(&app, Some(&token), start(&ent, "regulator")).await;
    assert_eq!(review.status, StatusCode::FORBIDDEN, "{}", review.body);
    let foreign = send_as(&app, Some(&token), start(&other, "self")).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{}", foreign.body);
    let listed = send_as(
        &app,
        Some(&token),
        TestRequest::get().uri("/api/v1/assessments"),
    )
    .await;
    assert_eq!(
        listed.body["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        listed.body
    );

    // The frame has no items; the demonstration standard is for commerce, not building
    // materials.
    let standards = send(&app, TestRequest::get().uri("/api/v1/standards")).await;
    for (code, why) in [
        ("GB/T 33000-2016", "框架"),
        ("示例-仓储物流评分标准", "不适用"),
    ] {
        let id = standards.body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["code"] == code)
            .and_then(|s| s["id"].as_str())
            .unwrap_or_default()
            .to_owned();
        let r = send(
            &app,
            json_request(
                Method::POST,
                "/api/v1/assessments",
                &json!({"enterprise_id": ent, "standard_id": id, "kind": "self"}),
            ),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{code}: {}",
            r.body
        );
        assert_eq!(r.body["errors"][0]["pointer"], "/standard_id");
        assert!(
            r.body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains(why)),
            "{}",
            r.body
        );
    }
    let missing = send(&app, json_request(Method::POST, "/api/v1/assessments",
        &json!({"enterprise_id": ent, "standard_id": "01940000-0000-7000-8000-000000000000", "kind": "self"}))).await;
    assert_eq!(
        missing.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        missing.body
    );
    assert_eq!(missing.body["errors"][0]["code"], "unknown_reference");
}

async fn passes_are_compared_element_by_element(db: TestDb) {
    let app = test_app_at(db.store.clone(), matrix_today()).await;
    let (ent, std) = setup(&app).await;
    let mut ids = Vec::new();
    // Deductions on A (500 points) and B (460): self lenient on both, the review on A only.
    for (kind, a, b) in [("self", 0, 0), ("review", 25, 138), ("regulator", 150, 161)] {
        let started = send(
            &app,
            json_request(
                Method::POST,
                "/api/v1/assessments",
                &json!({"enterprise_id": ent, "standard_id": std, "kind": kind}),
            ),
        )
        .await;
        assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
        let url = started.header("location");
        let filled = send(
            &app,
            json_request(
                Method::PATCH,
                url,
                &json!({"items": {"A.1.1": {"deducted": a}, "B.1.1": {"deducted": b}}}),
            )
            .insert_header(("content-type", "application/merge-patch+json")),
        )
        .await;
        assert_eq!(filled.status, StatusCode::OK, "{}", filled.body);
        ids.push(started.body["id"].as_str().unwrap_or_default().to_owned());
    }
    let r = send(
        &app,
        TestRequest::get().uri(&format!(
            "/api/v1/assessments/compare?ids={}",
            ids.join(",")
        )),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body["elements"][0]["rates"],
        json!({"self": 100.0, "review": 95.0, "regulator": 70.0})
    );
    assert_eq!(
        r.body["elements"][1]["rates"],
        json!({"self": 100.0, "review": 70.0, "regulator": 65.0})
    );
    let flags: Vec<(String, String, f64)> = r.body["flags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["kind"].as_str().unwrap_or_default().to_owned(),
                f["element"].as_str().unwrap_or_default().to_owned(),
                f["difference"].as_f64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        flags,
        [
            ("lenient_review".to_owned(), "A".to_owned(), 25.0),
            ("optimistic_self".to_owned(), "B".to_owned(), 30.0)
        ],
        "{}",
        r.body
    );
    // A wider margin flags nothing; two passes of one kind or one id are refused.
    let wide = send(
        &app,
        TestRequest::get().uri(&format!(
            "/api/v1/assessments/compare?ids={}&margin=31",
            ids.join(",")
        )),
    )
    .await;
    assert_eq!(wide.body["flags"], json!([]));
    for bad in [
        ids[0].clone(),
        format!("{},{}", ids[0], ids[0]),
        format!("{},nope", ids[0]),
    ] {
        let r = send(
            &app,
            TestRequest::get().uri(&format!("/api/v1/assessments/compare?ids={bad}")),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
    }
}

async fn a_submitted_self_assessment_clears_the_annual_reminder(db: TestDb) {
    let app = test_app_at(db.store.clone(), matrix_today()).await;
    let (ent, std) = setup(&app).await;
    let cert = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/certificates",
            &json!({
                "enterprise_id": ent, "grade": "grade_3", "number": "ANNUAL-1",
                "authority": {"level": "city", "name": "绵阳市应急管理局"},
                "issued_on": "2024-06-01", "standard": "算例标准"
            }),
        ),
    )
    .await;
    assert_eq!(cert.status, StatusCode::CREATED, "{}", cert.body);
    let reminders = || {
        TestRequest::get().uri(&format!(
            "/api/v1/alerts?kind=annual_self_assessment_missing&enterprise_id={ent}"
        ))
    };
    let due = send(&app, reminders()).await;
    assert_eq!(
        due.body["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        due.body
    );
    assert_eq!(due.body["items"][0]["due_on"], "2025-06-01");
    // A review does not count; a draft self-assessment does not either; a submitted one does.
    let start = |kind: &str| {
        json_request(
            Method::POST,
            "/api/v1/assessments",
            &json!({"enterprise_id": ent, "standard_id": std, "kind": kind}),
        )
    };
    let review = send(&app, start("review")).await;
    send(
        &app,
        json_request(
            Method::POST,
            &format!("{}/submission", review.header("location")),
            &json!({}),
        ),
    )
    .await;
    let own = send(&app, start("self")).await;
    assert_eq!(
        send(&app, reminders()).await.body["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let submitted = send(
        &app,
        json_request(
            Method::POST,
            &format!("{}/submission", own.header("location")),
            &json!({}),
        ),
    )
    .await;
    assert_eq!(submitted.status, StatusCode::OK, "{}", submitted.body);
    let cleared = send(&app, reminders()).await;
    assert_eq!(cleared.body["items"], json!([]), "{}", cleared.body);
}
