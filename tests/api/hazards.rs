//! Hidden hazards through the API: a general hazard fixed on the spot; a major hazard matched
//! to an Order No. 10 item that cannot start rectifying without 五落实, is listed, extended
//! once, goes overdue (a `major_hazard_overdue` alert and a `revocation_trigger` on the
//! enterprise's certificate, and a grading application refused), then is closed after
//! acceptance with its assessment and de-listed; who may grade, list and decide; an area
//! regulator who sees none of another county's hazards.

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use safegrade_testkit::{TestDb, json_request, principal, send, send_as, test_app_at};
use serde_json::{Value, json};

use crate::access::{certificate, hazard_body};

both!(
    a_general_hazard_is_fixed_on_the_spot,
    a_major_hazard_from_criterion_to_closure,
    the_statistics_counters_match_a_recount_after_random_work
);

fn day(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap_or_default()
}

async fn a_general_hazard_is_fixed_on_the_spot(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2026-01-05")).await;
    let (ent, _) = safegrade_testkit::post_enterprise(&app, 970).await;
    let ent = ent.body["id"].as_str().unwrap_or_default().to_owned();
    let (_, token) = principal(
        &db.store,
        json!({"name": "企业", "role": "enterprise", "enterprise_id": ent}),
    );
    let token = Some(token.as_str());
    // Every field is checked at once.
    let bad = send_as(
        &app,
        token,
        json_request(
            Method::POST,
            "/api/v1/hazards",
            &json!({"enterprise_id": ent, "found_on": "2026-02-01", "source": "daily",
                    "criterion": "MEM-2023-10/99/1", "colour": "red"}),
        ),
    )
    .await;
    let pointers: Vec<&str> = bad.body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["pointer"].as_str())
        .collect();
    for p in [
        "/found_on",
        "/source",
        "/criterion",
        "/colour",
        "/found_by",
        "/description",
        "/hazard_type",
        "/management_class",
    ] {
        assert!(pointers.contains(&p), "{p}: {}", bad.body);
    }
    let r = send_as(
        &app,
        token,
        json_request(Method::POST, "/api/v1/hazards", &hazard_body(&ent, 1)),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        (r.body["grade"].clone(), r.body["state"].clone()),
        (json!("general"), json!("registered"))
    );
    let url = r.header("location");
    // An enterprise may not grade its own hazard major without a criterion.
    let mut major = hazard_body(&ent, 2);
    major["major_reason"] = json!("企业自认为重大");
    let r = send_as(
        &app,
        token,
        json_request(Method::POST, "/api/v1/hazards", &major),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let wrong = send_as(
        &app,
        token,
        json_request(
            Method::POST,
            &format!("{url}/fix_on_the_spot"),
            &json!({"deadline": "2026-02-01"}),
        ),
    )
    .await;
    assert_eq!(
        (wrong.status, wrong.body["errors"][0]["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("not_applicable")),
        "{}",
        wrong.body
    );
    let fixed = send_as(
        &app,
        token,
        json_request(
            Method::POST,
            &format!("{url}/fix_on_the_spot"),
            &json!({"note": "当场关闭配电箱门并补设警示标识"}),
        ),
    )
    .await;
    assert_eq!(fixed.status, StatusCode::OK, "{}", fixed.body);
    assert_eq!(fixed.body["state"], "fixed_on_the_spot");
    let again = send_as(
        &app,
        token,
        json_request(Method::POST, &format!("{url}/completion"), &json!({})),
    )
    .await;
    assert_eq!(
        again.body["code"], "hazard_step_not_allowed",
        "{}",
        again.body
    );
    let open = send(
        &app,
        TestRequest::get().uri(&format!("/api/v1/hazards?enterprise_id={ent}&open=true")),
    )
    .await;
    assert_eq!(open.body["items"], json!([]), "{}", open.body);
}

async fn a_major_hazard_from_criterion_to_closure(db: TestDb) {
    let app = test_app_at(db.store.clone(), day("2026-01-05")).await;
    let (ent, _) = safegrade_testkit::post_enterprise(&app, 971).await;
    let ent = ent.body["id"].as_str().unwrap_or_default().to_owned();
    let number = "川AQBJC-HZ-1";
    certificate(&app, &ent, number).await;
    let (_, token) = principal(
        &db.store,
        json!({"name": "企业", "role": "enterprise", "enterprise_id": ent}),
    );
    let (_, county) = principal(
        &db.store,
        json!({"name": "游仙区应急管理局", "role": "area_regulator", "area_codes": ["510704"]}),
    );
    let (token, county) = (Some(token.as_str()), Some(county.as_str()));

    // The criterion must apply to the enterprise (cement: 工贸, not tobacco).
    let mut body = hazard_body(&ent, 3);
    body["criterion"] = json!("MEM-2023-10/10/1");
    let r = send_as(
        &app,
        token,
        json_request(Method::POST, "/api/v1/hazards", &body),
    )
    .await;
    assert_eq!(r.body["errors"][0]["pointer"], "/criterion", "{}", r.body);
    body["criterion"] = json!("MEM-2023-10/3/2");
    body["description"] = json!("两名电工未取得特种作业操作证上岗作业");
    let r = send_as(
        &app,
        token,
        json_request(Method::POST, "/api/v1/hazards", &body),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["grade"], "major", "a criterion makes it major");
    assert_eq!(r.body["criterion"], "MEM-2023-10/3/2");
    assert!(r.body["criteria_version"].is_string(), "{}", r.body);
    let url = r.header("location");
    let take =
        |step: &str, body: Value| json_request(Method::POST, &format!("{url}/{step}"), &body);

    // Not fixed on the spot, not rectified without the five implementations.
    let r = send_as(&app, token, take("fix_on_the_spot", json!({}))).await;
    assert_eq!(r.body["code"], "hazard_step_not_allowed", "{}", r.body);
    let r = send_as(
        &app,
        token,
        take("rectification", json!({"deadline": "2026-02-27"})),
    )
    .await;
    assert!(
        r.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("五落实")),
        "{}",
        r.body
    );
    let r = send_as(
        &app,
        token,
        take(
            "rectification",
            json!({"plan": {"measures": "停止无证人员作业并组织培训取证"}}),
        ),
    )
    .await;
    let pointers: Vec<&str> = r.body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["pointer"].as_str())
        .collect();
    assert_eq!(
        pointers,
        [
            "/plan/responsible",
            "/plan/contingency",
            "/plan/principal",
            "/plan/funds_cny",
            "/plan/deadline"
        ],
        "{}",
        r.body
    );
    let plan = json!({"measures": "停止无证人员作业，送培取证", "responsible": "安全科 李明",
                      "funds_cny": 12000, "deadline": "2026-02-27",
                      "contingency": "无证人员调离电工岗位，由持证电工监护作业", "principal": "王总"});
    let r = send_as(&app, token, take("rectification", json!({"plan": plan}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (r.body["state"].clone(), r.body["deadline"].clone()),
        (json!("rectifying"), json!("2026-02-27"))
    );

    // Listed by the regulator (not by the enterprise), which sets an earlier deadline.
    let listing = json!({"listing": {"level": "市级", "authority": "绵阳市应急管理局",
                         "document_no": "绵应急督〔2026〕3号", "deadline": "2026-02-20"},
                         "notice_on": "2026-01-08"});
    let r = send_as(&app, token, take("listing", listing.clone())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // The listed-supervision parameters (built-in: at most 12 months to rectify, public
    // notice within 5 working days) hold; nothing is written when they do not.
    let mut too_long = listing.clone();
    too_long["listing"]["deadline"] = json!("2027-02-01");
    let r = send(&app, take("listing", too_long)).await;
    assert_eq!(
        (r.status, r.body["code"].clone()),
        (StatusCode::CONFLICT, json!("hazard_step_not_allowed")),
        "{}",
        r.body
    );
    assert!(
        r.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("12 个月")),
        "{}",
        r.body
    );
    let mut late_notice = listing.clone();
    late_notice["notice_on"] = json!("2026-01-20");
    let r = send(&app, take("listing", late_notice)).await;
    assert!(
        r.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("5 个工作日")),
        "{}",
        r.body
    );
    let r = send(&app, take("listing", listing)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body["deadline"], "2026-02-20",
        "the listing's earlier deadline"
    );
    let listed = send(&app, TestRequest::get().uri("/api/v1/hazards?listed=true")).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));

    // Extended once: asked by the enterprise, decided by the regulator.
    let ask = json!({"deadline": "2026-03-13", "reason": "培训班 3 月初才开班"});
    let r = send_as(&app, token, take("extension_request", ask.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = send_as(&app, token, take("extension_request", ask)).await;
    assert_eq!(
        r.body["code"], "hazard_step_not_allowed",
        "one pending at a time"
    );
    let r = send_as(
        &app,
        token,
        take("extension_decision", json!({"approved": true})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = send(&app, take("extension_decision", json!({"approved": true}))).await;
    assert_eq!(r.body["deadline"], "2026-03-13", "{}", r.body);
    assert_eq!(r.body["extensions"][0]["approved"], true);

    // Overdue: the alerts, and a grading application refused (condition 9).
    let late = test_app_at(db.store.clone(), day("2026-03-16")).await;
    // A listed hazard's extension is asked at least 20 working days before the deadline.
    let r = send_as(
        &late,
        token,
        take(
            "extension_request",
            json!({"deadline": "2026-04-30", "reason": "再延期"}),
        ),
    )
    .await;
    assert!(
        r.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("至少 20 个工作日")),
        "{}",
        r.body
    );
    let alerts = send(
        &late,
        TestRequest::get().uri(&format!("/api/v1/alerts?enterprise_id={ent}")),
    )
    .await;
    let kinds: Vec<(String, String)> = alerts.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["subject"]["type"] == "hazard")
        .map(|a| {
            (
                a["kind"].as_str().unwrap_or_default().to_owned(),
                a["due_on"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("major_hazard_overdue".to_owned(), "2026-03-13".to_owned()),
            ("revocation_trigger".to_owned(), "2026-03-13".to_owned())
        ],
        "{}",
        alerts.body
    );
    assert!(
        alerts.body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| a["next_step"].as_str().is_some_and(|t| t.contains(number))),
        "names the certificate: {}",
        alerts.body
    );
    let overdue = send(
        &late,
        TestRequest::get().uri("/api/v1/hazards?overdue=true"),
    )
    .await;
    assert_eq!(
        overdue.body["items"][0]["overdue"], true,
        "{}",
        overdue.body
    );
    let others = send(
        &late,
        TestRequest::get().uri(&format!(
            "/api/v1/hazards?overdue=false&enterprise_id={ent}"
        )),
    )
    .await;
    assert_eq!(others.body["items"], json!([]), "{}", others.body);
    let sa = crate::access::assessment(&late, &ent, &standard(&late).await).await;
    send(
        &late,
        json_request(
            Method::POST,
            &format!("/api/v1/assessments/{sa}/submission"),
            &json!({}),
        ),
    )
    .await;
    let applied = send(
        &late,
        json_request(
            Method::POST,
            "/api/v1/gradings",
            &crate::access::grading_body(&ent, &sa),
        ),
    )
    .await;
    assert!(
        applied.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("第 9 项")),
        "{}",
        applied.body
    );

    // Another county sees none of it.
    let theirs = send_as(&late, county, TestRequest::get().uri("/api/v1/hazards")).await;
    assert_eq!(theirs.body["items"], json!([]), "{}", theirs.body);
    let r = send_as(&late, county, TestRequest::get().uri(url)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = send_as(
        &late,
        county,
        TestRequest::get().uri("/api/v1/alerts?kind=major_hazard_overdue"),
    )
    .await;
    assert_eq!(r.body["items"], json!([]), "{}", r.body);

    // Rectified, accepted with the assessment, closed, de-listed.
    let take =
        |step: &str, body: Value| json_request(Method::POST, &format!("{url}/{step}"), &body);
    let r = send_as(
        &late,
        token,
        take("completion", json!({"note": "两人已取证"})),
    )
    .await;
    assert_eq!(r.body["state"], "awaiting_acceptance", "{}", r.body);
    let acceptance =
        json!({"accepted_by": "市局 赵工", "opinion": "证件齐全，整改到位", "passed": true});
    let r = send_as(&late, token, take("acceptance", acceptance.clone())).await;
    assert_eq!(r.body["code"], "hazard_step_not_allowed", "{}", r.body);
    let mut with = acceptance;
    with["assessment"] = json!("整改后评估：电工岗位全部持证，隐患消除");
    let r = send_as(&late, token, take("acceptance", with)).await;
    assert_eq!(r.body["state"], "closed", "{}", r.body);
    let r = send(&late, take("delisting", json!({"notice_on": "2026-03-20"}))).await;
    assert_eq!(r.body["listing"]["delisted_on"], "2026-03-16", "{}", r.body);
    let alerts = send(
        &late,
        TestRequest::get().uri(&format!(
            "/api/v1/alerts?enterprise_id={ent}&kind=major_hazard_overdue,revocation_trigger"
        )),
    )
    .await;
    assert_eq!(alerts.body["items"], json!([]), "closed: {}", alerts.body);
    // The period figures: found in 2025-Q4 and open at its end; closed in 2026-Q1.
    let stats = |period: &str| {
        TestRequest::get().uri(&format!(
            "/api/v1/stats/hazards?period={period}&area_code=510703"
        ))
    };
    let q4 = send(&late, stats("2025-Q4")).await;
    assert_eq!(
        q4.body["total"]["major"],
        json!({"found": 1, "closed": 0, "open": 1, "overdue": 0}),
        "{}",
        q4.body
    );
    assert_eq!(q4.body["report_due_on"], "2026-01-15");
    let q1 = send(&late, stats("2026-Q1")).await;
    assert_eq!(
        q1.body["total"]["major"],
        json!({"found": 0, "closed": 1, "open": 0, "overdue": 0}),
        "{}",
        q1.body
    );
    let year = send(&late, stats("2026")).await;
    assert_eq!(year.body["report_due_on"], "2027-01-31");
    let bad = send(&late, stats("2026-Q5")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let theirs = send_as(&late, county, stats("2025-Q4")).await;
    assert_eq!(theirs.body["areas"], json!([]), "{}", theirs.body);
    // The ledger as CSV, with the enterprise's name.
    let csv = actix_web::test::call_and_read_body(
        &late.service,
        TestRequest::get()
            .uri(&format!("/api/v1/hazard-ledger?enterprise_id={ent}"))
            .insert_header(("authorization", format!("Bearer {}", late.admin_token)))
            .to_request(),
    )
    .await;
    let csv = String::from_utf8_lossy(&csv);
    assert!(csv.starts_with("\u{feff}隐患编号,企业名称"), "{csv}");
    assert!(
        csv.contains("两名电工未取得特种作业操作证上岗作业") && csv.contains("已销号"),
        "{csv}"
    );
    // The same ledger as Excel: the same rows.
    let xlsx = send(
        &late,
        TestRequest::get().uri(&format!(
            "/api/v1/hazard-ledger?enterprise_id={ent}&format=xlsx"
        )),
    )
    .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    let rows = {
        use calamine::Reader;
        let mut book =
            calamine::open_workbook_auto_from_rs(std::io::Cursor::new(xlsx.raw.to_vec()))
                .unwrap_or_else(|e| panic!("{e}"));
        let range = book
            .worksheet_range("隐患排查治理台账")
            .unwrap_or_else(|e| panic!("{e}"));
        range
            .rows()
            .map(|r| r.iter().map(ToString::to_string).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    };
    assert_eq!(rows.len(), csv.lines().count(), "{rows:?}");
    assert!(
        rows.iter().any(|r| r.iter().any(|c| c == "已销号")),
        "{rows:?}"
    );
    let events = send(
        &late,
        TestRequest::get().uri(&format!(
            "/api/v1/events?resource_type=hazard&enterprise_id={ent}"
        )),
    )
    .await;
    let steps: Vec<&str> = events.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["data"]["step"].as_str().unwrap_or("registered"))
        .collect();
    assert_eq!(
        steps,
        [
            "registered",
            "rectification",
            "listing",
            "extension_request",
            "extension_decision",
            "completion",
            "acceptance",
            "delisting"
        ]
    );
}

/// A one-item standard for any sector, as the administrator; its id.
async fn standard<S, B>(app: &safegrade_testkit::TestApp<S>) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let r = send(app, json_request(Method::POST, "/api/v1/standards", &json!({
        "code": "隐患测试标准", "version": "1", "title": "隐患测试标准", "full_points": 10,
        "thresholds": {"grade_1": 90, "grade_2": 75, "grade_3": 60},
        "elements": [{"code": "1", "title": "目标职责", "points": 10, "sub_elements": [{"code": "1.1", "title": "目标",
            "items": [{"code": "1.1.1", "text": "制定目标", "points": 10, "method": "未制定不得分"}]}]}]
    }))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap_or_default().to_owned()
}

/// The hazard statistics of the city and its areas are read from counters kept in the write
/// transactions; after half a year of random work (hazards registered, fixed on the spot,
/// rectified, extended, accepted, regraded; risks added; an enterprise moved to another
/// county and another sector) they equal the figures recomputed from the records, for
/// every quarter, the year and an area's scope.
async fn the_statistics_counters_match_a_recount_after_random_work(db: TestDb) {
    use safegrade_domain::Scope;
    use safegrade_store::hazards::HazardStatsFilter;
    let mut seed: u64 = 0x5eed_2025;
    let mut roll = move |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let start = day("2025-03-25");
    let app = test_app_at(db.store.clone(), start).await;
    let mut enterprises = Vec::new();
    for n in 0..4u32 {
        let (e, uri) = safegrade_testkit::post_enterprise(&app, 980 + n).await;
        if n % 2 == 1 {
            let r = send(
                &app,
                json_request(Method::PATCH, &uri, &json!({"area_code": "510704"}))
                    .insert_header(("content-type", "application/merge-patch+json")),
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
        let id = e.body["id"].as_str().unwrap_or_default().to_owned();
        let unit = crate::access::created(
            &app,
            "/api/v1/risk-units",
            &crate::access::unit_body(&id, n),
        )
        .await;
        crate::access::created(&app, "/api/v1/risks", &crate::access::risk_body(&unit, n)).await;
        enterprises.push((id, uri));
    }
    let plan = json!({"measures": "停产整改", "responsible": "安全科 李明", "funds_cny": 20000,
                      "deadline": "2025-12-31", "contingency": "设置警戒区并派专人值守",
                      "principal": "王总"});
    let mut hazards: Vec<String> = Vec::new();
    for round in 0..20i64 {
        let today = start + chrono::Duration::days(round * 9);
        let app = test_app_at(db.store.clone(), today).await;
        if round == 10 {
            // A county and a sector change: every counted hazard and risk moves along.
            let (_, uri) = &enterprises[0];
            let r = send(
                &app,
                json_request(
                    Method::PATCH,
                    uri,
                    &json!({"area_code": "510722", "industry_code": "C3110"}),
                )
                .insert_header(("content-type", "application/merge-patch+json")),
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
        for k in 0..3 {
            let (ent, _) = &enterprises[usize::try_from(roll(4)).unwrap_or(0)];
            let mut body = hazard_body(ent, u32::try_from(round * 3 + k).unwrap_or(0));
            let found = today - chrono::Duration::days(i64::try_from(roll(5)).unwrap_or(0));
            body["found_on"] = json!(found.to_string());
            if roll(5) == 0 {
                body["major_reason"] = json!("涉及人员密集场所，认定为重大");
            }
            let r = send(&app, json_request(Method::POST, "/api/v1/hazards", &body)).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            hazards.push(r.body["id"].as_str().unwrap_or_default().to_owned());
        }
        for id in &hazards {
            let url = format!("/api/v1/hazards/{id}");
            let h = send(&app, TestRequest::get().uri(&url)).await;
            let deadline = today + chrono::Duration::days(i64::try_from(roll(20)).unwrap_or(0));
            let (step, body) = match (h.body["state"].as_str(), roll(6)) {
                (Some("registered"), 0) if h.body["grade"] == "general" => {
                    ("fix_on_the_spot", json!({}))
                }
                (Some("registered"), 1 | 2) if h.body["grade"] == "major" => {
                    let mut p = plan.clone();
                    p["deadline"] = json!(deadline.to_string());
                    ("rectification", json!({"plan": p}))
                }
                (Some("registered"), 1 | 2) => {
                    ("rectification", json!({"deadline": deadline.to_string()}))
                }
                (Some("registered"), 3) if h.body["grade"] == "general" => {
                    ("regrade", json!({"note": "复查认定为重大事故隐患"}))
                }
                (Some("rectifying"), 0) => (
                    "extension_request",
                    json!({"deadline": (deadline + chrono::Duration::days(15)).to_string(),
                           "reason": "设备到货延迟"}),
                ),
                (Some("rectifying"), 1) => ("extension_decision", json!({"approved": true})),
                (Some("rectifying"), 2 | 3) => ("completion", json!({"note": "已整改"})),
                (Some("awaiting_acceptance"), 0..=2) => (
                    "acceptance",
                    json!({"accepted_by": "安全科 李明", "opinion": "整改到位", "passed": true,
                           "assessment": "整改后评估：隐患消除"}),
                ),
                _ => continue,
            };
            // Steps the hazard cannot take now (an extension decision with none asked)
            // are refused and change nothing; the counters must agree either way.
            let r = send(
                &app,
                json_request(Method::POST, &format!("{url}/{step}"), &body),
            )
            .await;
            assert!(
                r.status == StatusCode::OK || r.status == StatusCode::CONFLICT,
                "{step}: {}",
                r.body
            );
        }
    }
    let periods = [
        ("2025-01-01", "2025-03-31"),
        ("2025-04-01", "2025-06-30"),
        ("2025-07-01", "2025-09-30"),
        ("2025-10-01", "2025-12-31"),
        ("2025-01-01", "2025-12-31"),
    ];
    let scopes = [
        (Scope::City, None, None),
        (Scope::Areas(vec!["510704".into()]), None, None),
        (Scope::City, Some("510722".to_owned()), None),
        (
            Scope::City,
            None,
            Some(safegrade_domain::Sector::Metallurgy),
        ),
    ];
    let mut compared = 0;
    for (scope, area_code, sector) in scopes {
        let filter = HazardStatsFilter {
            scope,
            area_code,
            sector,
        };
        for (from, to) in periods {
            let period = (day(from), day(to));
            let counted = db
                .store
                .hazard_stats(&filter, period)
                .unwrap_or_else(|e| panic!("{e}"));
            let recounted = db
                .store
                .hazard_stats_recomputed(&filter, period)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(counted, recounted, "{filter:?} {from}…{to}");
            compared += counted.0.len() + counted.1.len();
        }
    }
    assert!(
        compared > 20,
        "the workload left figures to compare: {compared}"
    );
}
