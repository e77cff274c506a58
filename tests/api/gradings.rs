//! Grading applications through the API: a first grading from the self-assessment to the
//! announcement (which records the certificate), with a correction request, rectification and
//! an objection dismissed; a failed rectification; a refusal and the one-year bar; who may
//! take which step; an enterprise that cannot act on another; a review organisation that
//! sees and reviews only the applications assigned to it.

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use safegrade_testkit::{TestDb, json_request, principal, send, send_as, test_app_at};
use serde_json::{Value, json};

both!(
    a_fast_track_renewal_supersedes_the_grade,
    a_first_grading_to_announcement,
    refusals_bars_and_who_acts,
    reviewers_see_and_review_only_their_assignments
);

fn day(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap_or_default()
}

/// A 10-point standard for any sector, and a self-assessment of `ent` on it with nothing
/// deducted, submitted (it reaches 一级).
async fn self_assessed<S, B>(
    app: &safegrade_testkit::TestApp<S>,
    ent: &str,
    version: &str,
) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let std = send(app, json_request(Method::POST, "/api/v1/standards", &json!({
        "code": "定级测试标准", "version": version, "title": "定级测试标准", "full_points": 10,
        "thresholds": {"grade_1": 90, "grade_2": 75, "grade_3": 60},
        "elements": [{"code": "1", "title": "目标职责", "points": 10, "sub_elements": [{"code": "1.1", "title": "目标",
            "items": [{"code": "1.1.1", "text": "制定目标", "points": 10, "method": "未制定不得分"}]}]}]
    }))).await;
    let std = std.body["id"].as_str().unwrap_or_default().to_owned();
    let a = send(
        app,
        json_request(
            Method::POST,
            "/api/v1/assessments",
            &json!({"enterprise_id": ent, "standard_id": std, "kind": "self"}),
        ),
    )
    .await;
    let url = a.header("location");
    let done = send(
        app,
        json_request(Method::POST, &format!("{url}/submission"), &json!({})),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    a.body["id"].as_str().unwrap_or_default().to_owned()
}

/// A review of the application at `url` on the standard of its self-assessment, created and
/// submitted as `token` with `deducted` points off item
/// 1.1.1; returns its id.
async fn reviewed<S, B>(
    app: &safegrade_testkit::TestApp<S>,
    token: &str,
    url: &str,
    deducted: u32,
) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let g = send(app, TestRequest::get().uri(url)).await;
    let sa = send(
        app,
        TestRequest::get().uri(&format!(
            "/api/v1/assessments/{}",
            g.body["self_assessment_id"].as_str().unwrap_or_default()
        )),
    )
    .await;
    let r = send_as(
        app,
        Some(token),
        json_request(
            Method::POST,
            "/api/v1/assessments",
            &json!({"enterprise_id": g.body["enterprise_id"], "standard_id": sa.body["standard_id"],
                    "kind": "review", "grading_id": g.body["id"], "assessors": "评审组"}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let at = r.header("location");
    let p = send_as(
        app,
        Some(token),
        json_request(
            Method::PATCH,
            at,
            &json!({"items": {"1.1.1": {"deducted": deducted}}}),
        ),
    )
    .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let done = send_as(
        app,
        Some(token),
        json_request(Method::POST, &format!("{at}/submission"), &json!({})),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    r.body["id"].as_str().unwrap_or_default().to_owned()
}

fn application(ent: &str, assessment: &str, kind: &str, grade: &str) -> Value {
    json!({"enterprise_id": ent, "kind": kind, "grade": grade, "self_assessment_id": assessment,
           "commitments": {"licences_valid": true, "safety_body": true, "personnel_certified": true,
                           "no_major_social_impact": true, "not_on_dishonesty_list": true,
                           "major_hazards_rectified": true}})
}

async fn a_first_grading_to_announcement(db: TestDb) {
    // Wednesday 2024-09-25, before the National Day holiday.
    let app = test_app_at(db.store.clone(), day("2024-09-25")).await;
    let (ent, _) = safegrade_testkit::post_enterprise(&app, 950).await;
    let ent = ent.body["id"].as_str().unwrap_or_default().to_owned();
    let sa = self_assessed(&app, &ent, "1").await;
    let applied = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/gradings",
            &application(&ent, &sa, "first", "grade_3"),
        ),
    )
    .await;
    assert_eq!(applied.status, StatusCode::CREATED, "{}", applied.body);
    assert_eq!(applied.body["state"], "applied");
    // 5 working days for a correction notice, 10 to check and forward: Sunday 09-29 works,
    // 10-01 to 10-07 are off, Saturday 10-12 works.
    assert_eq!(applied.body["correction_due_on"], "2024-10-08");
    assert_eq!(applied.body["due_on"], "2024-10-14");
    let url = applied.header("location");
    // The later steps, each on its day, recorded at the end of the year.
    let app = test_app_at(db.store.clone(), day("2024-12-31")).await;
    let take =
        |step: &str, body: Value| json_request(Method::POST, &format!("{url}/{step}"), &body);

    let r = send(
        &app,
        take(
            "correction_request",
            json!({"on": "2024-09-30", "note": "缺自评报告公示记录"}),
        ),
    )
    .await;
    assert_eq!(r.body["state"], "correction_requested", "{}", r.body);
    let r = send(&app, take("resubmission", json!({"on": "2024-09-30"}))).await;
    assert_eq!(r.body["due_on"], "2024-10-18", "{}", r.body);
    let again = send(
        &app,
        take("correction_request", json!({"on": "2024-10-08"})),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert_eq!(again.body["code"], "grading_step_not_allowed");
    let r = send(&app, take("acceptance", json!({"on": "2024-10-10"}))).await;
    assert_eq!(
        (r.body["state"].clone(), r.body["due_on"].clone()),
        (json!("accepted"), json!("2024-11-06")),
        "{}",
        r.body
    );
    let bare = send(
        &app,
        take("review", json!({"on": "2024-11-01", "outcome": "passed"})),
    )
    .await;
    assert_eq!(
        (bare.status, bare.body["errors"][0]["pointer"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("/assessment_id")),
        "a review rests on a review assessment: {}",
        bare.body
    );
    // 5 of 10 points: 50, below 三级 (60) — it cannot be called passed.
    let weak = reviewed(&app, &app.admin_token, url, 5).await;
    let r = send(
        &app,
        take(
            "review",
            json!({"on": "2024-11-01", "outcome": "passed", "assessment_id": weak}),
        ),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "passed needs the grade: {}",
        r.body
    );
    let review = reviewed(&app, &app.admin_token, url, 3).await;
    let r = send(
        &app,
        take(
            "review",
            json!({"on": "2024-11-01", "outcome": "non_conformities", "note": "安全管理制度不全",
                   "assessment_id": review}),
        ),
    )
    .await;
    assert_eq!(r.body["review_assessment_id"], json!(review), "{}", r.body);
    assert_eq!(
        (r.body["state"].clone(), r.body["due_on"].clone()),
        (json!("rectifying"), json!("2024-11-29")),
        "{}",
        r.body
    );
    let bad = send(
        &app,
        take("extension", json!({"on": "2024-11-20", "days": 25})),
    )
    .await;
    assert_eq!(bad.body["code"], "grading_step_not_allowed", "{}", bad.body);
    let r = send(
        &app,
        take("rectification_report", json!({"on": "2024-11-20"})),
    )
    .await;
    assert_eq!(r.body["state"], "verifying", "{}", r.body);
    let r = send(
        &app,
        take(
            "rectification_verification",
            json!({"on": "2024-12-16", "passed": true}),
        ),
    )
    .await;
    assert_eq!(
        (r.body["state"].clone(), r.body["due_on"].clone()),
        (json!("publicity"), json!("2024-12-25")),
        "7 working days: {}",
        r.body
    );
    let certificate = json!({"number": "川AQB-T-3", "authority": {"level": "city", "name": "绵阳市应急管理局"}, "standard": "定级测试标准"});
    let early = send(
        &app,
        take(
            "announcement",
            json!({"on": "2024-12-20", "certificate": certificate}),
        ),
    )
    .await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.body);
    let r = send(
        &app,
        take(
            "objection",
            json!({"on": "2024-12-20", "upheld": false, "note": "举报不属实"}),
        ),
    )
    .await;
    assert_eq!(r.body["state"], "publicity");
    let missing = send(&app, take("announcement", json!({"on": "2024-12-26"}))).await;
    assert_eq!(
        missing.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        missing.body
    );
    // 三级 is the city's to announce (a province-level authority is refused), and a county
    // bureau has no grading power.
    let mut provincial = certificate.clone();
    provincial["authority"] = json!({"level": "province", "name": "四川省应急管理厅"});
    let r = send(
        &app,
        take(
            "announcement",
            json!({"on": "2024-12-26", "certificate": provincial}),
        ),
    )
    .await;
    assert_eq!(
        r.body["errors"][0]["pointer"], "/certificate/authority/level",
        "{}",
        r.body
    );
    let (_, county) = principal(
        &db.store,
        json!({"name": "涪城区应急管理局", "role": "area_regulator", "area_codes": ["510703"]}),
    );
    let r = send_as(
        &app,
        Some(&county),
        take(
            "announcement",
            json!({"on": "2024-12-26", "certificate": certificate}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = send(
        &app,
        take(
            "announcement",
            json!({"on": "2024-12-26", "certificate": certificate}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["state"], "announced");
    let steps: Vec<&str> = r.body["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["step"].as_str())
        .collect();
    assert_eq!(
        steps,
        [
            "correction_request",
            "resubmission",
            "acceptance",
            "review",
            "rectification_report",
            "rectification_verification",
            "objection",
            "announcement"
        ]
    );
    let cert = send(
        &app,
        TestRequest::get().uri(&format!(
            "/api/v1/certificates/{}",
            r.body["certificate_id"].as_str().unwrap_or_default()
        )),
    )
    .await;
    assert_eq!(
        cert.body["issued_on"], "2024-12-26",
        "valid from the announcement"
    );
    assert_eq!(cert.body["valid_until"], "2027-12-26");
    assert_eq!(cert.body["grade"], "grade_3");
}

async fn refusals_bars_and_who_acts(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2024-09-02")).await;
    let (ent, _) = safegrade_testkit::post_enterprise(&app, 951).await;
    let ent = ent.body["id"].as_str().unwrap_or_default().to_owned();
    let (other, _) = safegrade_testkit::post_enterprise(&app, 952).await;
    let other = other.body["id"].as_str().unwrap_or_default().to_owned();
    let sa = self_assessed(&app, &ent, "1").await;
    let (_, token) = principal(
        &db.store,
        json!({"name": "企业", "role": "enterprise", "enterprise_id": ent}),
    );

    // The enterprise applies itself; it may not accept its own application, nor apply for
    // another enterprise.
    let own = send_as(
        &app,
        Some(&token),
        json_request(
            Method::POST,
            "/api/v1/gradings",
            &application(&ent, &sa, "first", "grade_3"),
        ),
    )
    .await;
    assert_eq!(own.status, StatusCode::CREATED, "{}", own.body);
    let url = own.header("location");
    let accept = send_as(
        &app,
        Some(&token),
        json_request(Method::POST, &format!("{url}/acceptance"), &json!({})),
    )
    .await;
    assert_eq!(accept.status, StatusCode::FORBIDDEN, "{}", accept.body);
    let foreign = send_as(
        &app,
        Some(&token),
        json_request(
            Method::POST,
            "/api/v1/gradings",
            &application(&other, &sa, "first", "grade_3"),
        ),
    )
    .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{}", foreign.body);
    // One open application per enterprise.
    let twice = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/gradings",
            &application(&ent, &sa, "first", "grade_3"),
        ),
    )
    .await;
    assert_eq!(twice.body["code"], "grading_not_eligible", "{}", twice.body);
    assert!(
        twice.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("仍在办理")),
        "{}",
        twice.body
    );
    // Renewal without a grade, or missing commitments: refused.
    let renewal = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/gradings",
            &application(&ent, &sa, "renewal", "grade_3"),
        ),
    )
    .await;
    assert_eq!(
        renewal.body["code"], "grading_not_eligible",
        "{}",
        renewal.body
    );
    let mut uncommitted = application(&ent, &sa, "first", "grade_3");
    uncommitted["commitments"]["major_hazards_rectified"] = json!(false);
    let r = send(
        &app,
        json_request(Method::POST, "/api/v1/gradings", &uncommitted),
    )
    .await;
    assert_eq!(
        r.body["errors"][0]["pointer"], "/commitments/major_hazards_rectified",
        "{}",
        r.body
    );

    // Rectification reported after its deadline fails: accepted 09-02, reviewed 09-02,
    // 20 working days → 09-30 (Saturday 09-14 worked, 09-15 to 09-17 off).
    let take =
        |step: &str, body: Value| json_request(Method::POST, &format!("{url}/{step}"), &body);
    send(&app, take("acceptance", json!({}))).await;
    let review = reviewed(&app, &app.admin_token, url, 0).await;
    let r = send(
        &app,
        take(
            "review",
            json!({"outcome": "non_conformities", "assessment_id": review}),
        ),
    )
    .await;
    assert_eq!(r.body["due_on"], "2024-09-30", "{}", r.body);
    let late_day = test_app_at(db.store.clone(), day("2024-10-08")).await;
    let listed = send(
        &late_day,
        TestRequest::get().uri("/api/v1/gradings?overdue=true"),
    )
    .await;
    assert_eq!(
        listed.body["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        listed.body
    );
    let reminder = send(
        &late_day,
        TestRequest::get().uri(&format!(
            "/api/v1/alerts?kind=grading_step_overdue&enterprise_id={ent}"
        )),
    )
    .await;
    let items = reminder.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(items.len(), 1, "{}", reminder.body);
    assert_eq!(items[0]["due_on"], "2024-09-30");
    assert_eq!(items[0]["subject"]["type"], "grading");
    assert!(
        items[0]["next_step"]
            .as_str()
            .is_some_and(|t| t.contains("企业")),
        "{}",
        reminder.body
    );
    let late = send_as(
        &late_day,
        Some(&token),
        json_request(
            Method::POST,
            &format!("{url}/rectification_report"),
            &json!({}),
        ),
    )
    .await;
    assert_eq!(late.status, StatusCode::OK, "{}", late.body);
    assert_eq!(late.body["state"], "refused", "late = failed");
    let cleared = send(
        &late_day,
        TestRequest::get().uri(&format!(
            "/api/v1/alerts?kind=grading_step_overdue&enterprise_id={ent}"
        )),
    )
    .await;
    assert_eq!(
        cleared.body["items"],
        json!([]),
        "a closed application is due nothing"
    );

    // Refused: a new application waits a year, naming the date.
    let again = send(
        &late_day,
        json_request(
            Method::POST,
            "/api/v1/gradings",
            &application(&ent, &sa, "first", "grade_3"),
        ),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(
        again.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("2025-10-08")),
        "{}",
        again.body
    );
}

/// A review organisation: assigned by a regulator, it sees only the applications assigned
/// to it and their enterprises (404 elsewhere), reviews with an assessment of the
/// application, may not take the regulators' steps, and loses sight of an application
/// reassigned to another organisation.
async fn reviewers_see_and_review_only_their_assignments(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2024-09-02")).await;
    let mut ids = Vec::new();
    for n in [960, 961] {
        let (ent, _) = safegrade_testkit::post_enterprise(&app, n).await;
        let ent = ent.body["id"].as_str().unwrap_or_default().to_owned();
        let sa = self_assessed(&app, &ent, &format!("r{n}")).await;
        let g = send(
            &app,
            json_request(
                Method::POST,
                "/api/v1/gradings",
                &application(&ent, &sa, "first", "grade_3"),
            ),
        )
        .await;
        assert_eq!(g.status, StatusCode::CREATED, "{}", g.body);
        ids.push((ent, g.header("location").to_owned()));
    }
    let [(ent_a, url_a), (ent_b, url_b)] = [ids[0].clone(), ids[1].clone()];
    let org = |n: u32, name: &str| json!({"id": safegrade_testkit::credit_code(n), "name": name});
    let (x, y) = (org(970, "甲评审公司"), org(971, "乙评审公司"));
    let (_, tx) = principal(
        &db.store,
        json!({"name": "甲评审员", "role": "reviewer", "review_organisation": x}),
    );
    let (_, ty) = principal(
        &db.store,
        json!({"name": "乙评审员", "role": "reviewer", "review_organisation": y}),
    );
    let (tx, ty) = (Some(tx.as_str()), Some(ty.as_str()));

    // Principals: the organisation is required, checked, and refused for other roles.
    let bad = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/principals",
            &json!({"name": "评审员", "role": "reviewer", "review_organisation": {"id": "123", "name": "丙"}}),
        ),
    )
    .await;
    assert_eq!(
        bad.body["errors"][0]["pointer"], "/review_organisation/id",
        "{}",
        bad.body
    );
    let bad = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/principals",
            &json!({"name": "监管", "role": "city_regulator", "review_organisation": x}),
        ),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);

    // Nothing is assigned yet: the reviewers see nothing.
    let seen = send_as(&app, tx, TestRequest::get().uri("/api/v1/gradings")).await;
    assert_eq!(seen.body["items"], json!([]), "{}", seen.body);
    let take = |url: &str, step: &str, body: Value| {
        json_request(Method::POST, &format!("{url}/{step}"), &body)
    };
    // Only regulators assign, and only to a valid organisation.
    let r = send_as(
        &app,
        tx,
        take(&url_a, "assignment", json!({"review_organisation": x})),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "only regulators assign: {}",
        r.body
    );
    let r = send(&app, take(&url_a, "assignment", json!({}))).await;
    assert_eq!(
        r.body["errors"][0]["pointer"], "/review_organisation",
        "{}",
        r.body
    );
    let r = send(
        &app,
        take(&url_a, "assignment", json!({"review_organisation": x})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (
            r.body["state"].clone(),
            r.body["review_organisation"].clone()
        ),
        (json!("applied"), x.clone()),
        "the state and its deadline stay"
    );
    let r = send(
        &app,
        take(&url_b, "assignment", json!({"review_organisation": y})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // X sees A and its enterprise, never B.
    let seen = send_as(&app, tx, TestRequest::get().uri("/api/v1/gradings")).await;
    let listed: Vec<&str> = seen.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| g["enterprise_id"].as_str())
        .collect();
    assert_eq!(listed, [ent_a.as_str()], "{}", seen.body);
    for (uri, want) in [
        (url_a.to_string(), StatusCode::OK),
        (url_b.to_string(), StatusCode::NOT_FOUND),
        (format!("/api/v1/enterprises/{ent_a}"), StatusCode::OK),
        (
            format!("/api/v1/enterprises/{ent_b}"),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let r = send_as(&app, tx, TestRequest::get().uri(&uri)).await;
        assert_eq!(r.status, want, "{uri}: {}", r.body);
    }
    let ents = send_as(&app, tx, TestRequest::get().uri("/api/v1/enterprises")).await;
    assert_eq!(
        ents.body["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        ents.body
    );

    // X may not accept, assign or act on B; Y may not act on A.
    for (token, url, step, body, want) in [
        (tx, &url_a, "acceptance", json!({}), StatusCode::FORBIDDEN),
        (
            tx,
            &url_a,
            "assignment",
            json!({"review_organisation": y}),
            StatusCode::FORBIDDEN,
        ),
        (
            tx,
            &url_b,
            "review",
            json!({"outcome": "passed"}),
            StatusCode::NOT_FOUND,
        ),
        (
            ty,
            &url_a,
            "review",
            json!({"outcome": "passed"}),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let r = send_as(&app, token, take(url, step, body)).await;
        assert_eq!(r.status, want, "{step} on {url}: {}", r.body);
    }
    send(&app, take(&url_a, "acceptance", json!({}))).await;

    // X reviews A: only a review, only of an assigned application.
    let sa_a = send(&app, TestRequest::get().uri(&url_a)).await.body["self_assessment_id"].clone();
    let standard = send(
        &app,
        TestRequest::get().uri(&format!(
            "/api/v1/assessments/{}",
            sa_a.as_str().unwrap_or_default()
        )),
    )
    .await
    .body["standard_id"]
        .clone();
    for (body, want, pointer) in [
        (
            json!({"enterprise_id": ent_a, "standard_id": standard, "kind": "review"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "/grading_id",
        ),
        (
            json!({"enterprise_id": ent_a, "standard_id": standard, "kind": "self", "grading_id": r.body["id"]}),
            StatusCode::FORBIDDEN,
            "",
        ),
        (
            json!({"enterprise_id": ent_b, "standard_id": standard, "kind": "review", "grading_id": r.body["id"]}),
            StatusCode::NOT_FOUND,
            "",
        ),
    ] {
        let got = send_as(
            &app,
            tx,
            json_request(Method::POST, "/api/v1/assessments", &body),
        )
        .await;
        assert_eq!(got.status, want, "{body}: {}", got.body);
        if !pointer.is_empty() {
            assert_eq!(got.body["errors"][0]["pointer"], pointer, "{}", got.body);
        }
    }
    // A regulator's review not tied to the application: X sees it but may not change it.
    let loose = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/assessments",
            &json!({"enterprise_id": ent_a, "standard_id": standard, "kind": "review"}),
        ),
    )
    .await;
    let patched = send_as(
        &app,
        tx,
        json_request(
            Method::PATCH,
            loose.header("location"),
            &json!({"items": {}}),
        ),
    )
    .await;
    assert_eq!(patched.status, StatusCode::FORBIDDEN, "{}", patched.body);
    let review = reviewed(&app, tx.unwrap_or_default(), &url_a, 0).await;
    let done = send_as(
        &app,
        tx,
        take(
            &url_a,
            "review",
            json!({"outcome": "passed", "assessment_id": review}),
        ),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.body["state"], "publicity");
    let actor = send(
        &app,
        TestRequest::get().uri(&format!(
            "/api/v1/events?resource_id={}",
            done.body["id"].as_str().unwrap_or_default()
        )),
    )
    .await;
    let last = actor.body["items"]
        .as_array()
        .and_then(|i| i.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["actor"]["role"], "reviewer", "{last}");
    assert_eq!(
        last["data"]["review_assessment_id"],
        json!(review),
        "{last}"
    );

    // Y sees neither X's review nor A's application in the feed.
    let r = send_as(
        &app,
        ty,
        TestRequest::get().uri(&format!("/api/v1/assessments/{review}")),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let feed = send_as(&app, ty, TestRequest::get().uri("/api/v1/events")).await;
    assert!(
        feed.body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|e| e["enterprise_id"] != json!(ent_a)),
        "{}",
        feed.body
    );
    let feed = send_as(
        &app,
        tx,
        TestRequest::get().uri("/api/v1/events?resource_type=grading"),
    )
    .await;
    let about: Vec<&str> = feed.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["enterprise_id"].as_str())
        .collect();
    assert!(
        !about.is_empty() && about.iter().all(|e| *e == ent_a),
        "{}",
        feed.body
    );

    // Reassigned (B, before its review): Y loses nothing, X gains B; then B goes to X and Y
    // sees nothing more.
    let r = send(
        &app,
        take(&url_b, "assignment", json!({"review_organisation": x})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = send_as(&app, ty, TestRequest::get().uri(&url_b)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = send_as(&app, tx, TestRequest::get().uri(&url_b)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // No assignment once the review work is done.
    let late = send(
        &app,
        take(&url_a, "assignment", json!({"review_organisation": y})),
    )
    .await;
    assert_eq!(
        late.body["code"], "grading_step_not_allowed",
        "{}",
        late.body
    );
}

/// A same-grade renewal whose conditions held goes from acceptance straight to publicity and
/// its announcement renews the grade in force (the old certificate superseded); a fatal
/// accident during the validity keeps another enterprise off the fast track.
async fn a_fast_track_renewal_supersedes_the_grade(db: TestDb) {
    // 三级 valid until 2024-12-15: the renewal window opened on 2024-09-15.
    let app = test_app_at(db.store.clone(), day("2024-10-08")).await;
    let mut urls = Vec::new();
    for n in [980, 981] {
        let (ent, _) = safegrade_testkit::post_enterprise(&app, n).await;
        let ent = ent.body["id"].as_str().unwrap_or_default().to_owned();
        let c = send(
            &app,
            json_request(
                Method::POST,
                "/api/v1/certificates",
                &json!({"enterprise_id": ent, "grade": "grade_3", "number": format!("FT-{n}"),
                        "authority": {"level": "city", "name": "绵阳市应急管理局"},
                        "issued_on": "2021-12-15", "standard": "AQ/T 9006-2010"}),
            ),
        )
        .await;
        assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
        if n == 981 {
            // A death during the validity, more than a year before applying.
            let a = send(
                &app,
                json_request(
                    Method::POST,
                    "/api/v1/accidents",
                    &json!({"enterprise_id": ent, "occurred_on": "2022-06-01", "kind": "machinery",
                            "deaths": 1, "source": "事故调查报告"}),
                ),
            )
            .await;
            assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        }
        let sa = self_assessed(&app, &ent, &format!("ft{n}")).await;
        let g = send(
            &app,
            json_request(
                Method::POST,
                "/api/v1/gradings",
                &application(&ent, &sa, "renewal", "grade_3"),
            ),
        )
        .await;
        assert_eq!(g.status, StatusCode::CREATED, "{}", g.body);
        urls.push((g.header("location").to_owned(), c.body["id"].clone()));
    }
    let later = test_app_at(db.store.clone(), day("2024-10-31")).await;
    let take = |url: &str, step: &str, body: Value| {
        json_request(Method::POST, &format!("{url}/{step}"), &body)
    };
    let (url, old) = &urls[0];
    let r = send(
        &later,
        take(
            url,
            "acceptance",
            json!({"on": "2024-10-09", "fast_track": true}),
        ),
    )
    .await;
    assert_eq!(
        (r.body["state"].clone(), r.body["due_on"].clone()),
        (json!("publicity"), json!("2024-10-17")),
        "straight to 7 working days of publicity (Saturday 10-12 works): {}",
        r.body
    );
    let certificate = json!({"number": "FT-980-2", "authority": {"level": "city", "name": "绵阳市应急管理局"}, "standard": "定级测试标准"});
    let r = send(
        &later,
        take(
            url,
            "announcement",
            json!({"on": "2024-10-21", "certificate": certificate}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let renewed = send(
        &later,
        TestRequest::get().uri(&format!(
            "/api/v1/certificates/{}",
            old.as_str().unwrap_or_default()
        )),
    )
    .await;
    assert_eq!(
        renewed.body["superseded_by"], r.body["certificate_id"],
        "{}",
        renewed.body
    );
    let events = send(
        &later,
        TestRequest::get().uri(&format!(
            "/api/v1/events?types=certificate.renewed&resource_id={}",
            r.body["certificate_id"].as_str().unwrap_or_default()
        )),
    )
    .await;
    assert_eq!(
        events.body["items"][0]["data"]["track"], "fast_track",
        "{}",
        events.body
    );

    let (url, _) = &urls[1];
    let r = send(
        &later,
        take(
            url,
            "acceptance",
            json!({"on": "2024-10-09", "fast_track": true}),
        ),
    )
    .await;
    assert_eq!(r.body["code"], "fast_track_not_allowed", "{}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("死亡")),
        "{}",
        r.body
    );
    let r = send(&later, take(url, "acceptance", json!({"on": "2024-10-09"}))).await;
    assert_eq!(
        r.body["state"], "accepted",
        "the full review instead: {}",
        r.body
    );
}
