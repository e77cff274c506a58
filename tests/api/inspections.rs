//! Inspection tasks through the API: a daily working-day task across the 2024 National Day
//! holiday block with its done and missed occurrences; an hourly task needs its shift
//! window; a stopped unit owes nothing; another county sees none of it.

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use safegrade_testkit::{TestDb, json_request, principal, send, send_as, test_app_at};
use serde_json::{Value, json};

use crate::access::{created, unit_body};

both!(a_working_day_task_across_national_day);

async fn a_working_day_task_across_national_day(db: TestDb) {
    let app = test_app_at(db.store.clone(), "2024-10-12".parse().unwrap_or_default()).await;
    let (ent, _) = safegrade_testkit::post_enterprise(&app, 995).await;
    let ent = ent.body["id"].as_str().unwrap_or_default().to_owned();
    let mut unit = unit_body(&ent, 1);
    unit["stops"] = json!([]);
    let unit = created(&app, "/api/v1/risk-units", &unit).await;
    let (_, token) = principal(
        &db.store,
        json!({"name": "企业", "role": "enterprise", "enterprise_id": ent}),
    );
    let token = Some(token.as_str());
    let body = json!({"unit_id": unit, "content": "巡检配电房", "every": 1, "cycle_unit": "day",
                      "day_type": "working_days", "assignee": "值班电工", "starts_on": "2024-09-25"});
    let r = send_as(
        &app,
        token,
        json_request(Method::POST, "/api/v1/inspection-tasks", &body),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let task = r.body["id"].as_str().unwrap_or_default().to_owned();
    // Done on 09-25 and 10-08 (a "not inspected" record on 09-26 does not count).
    let mut found = String::new();
    for (at, result) in [
        ("2024-09-25T09:00:00", "normal"),
        ("2024-09-26T09:00:00", "not_inspected"),
        ("2024-10-08T16:30:00", "hazard_found"),
    ] {
        let r = send_as(
            &app,
            token,
            json_request(
                Method::POST,
                "/api/v1/inspection-records",
                &json!({"task_id": task, "performed_at": at, "performed_by": "王强", "result": result}),
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert!(
            r.body["performed_at"]
                .as_str()
                .is_some_and(|t| t.ends_with("+08:00"))
        );
        if result == "hazard_found" {
            found = r.body["id"].as_str().unwrap_or_default().to_owned();
        }
    }
    // The hazard it found is registered with the record; a record of another enterprise
    // is refused.
    let mut hazard = crate::access::hazard_body(&ent, 1);
    hazard["record_id"] = json!(found);
    hazard["found_on"] = json!("2024-10-08");
    let r = send_as(
        &app,
        token,
        json_request(Method::POST, "/api/v1/hazards", &hazard),
    )
    .await;
    assert_eq!(
        (r.status, r.body["record_id"].clone()),
        (StatusCode::CREATED, json!(found)),
        "{}",
        r.body
    );
    hazard["record_id"] = json!(task);
    let r = send_as(
        &app,
        token,
        json_request(Method::POST, "/api/v1/hazards", &hazard),
    )
    .await;
    assert_eq!(r.body["errors"][0]["pointer"], "/record_id", "{}", r.body);
    let r = send(
        &app,
        TestRequest::get().uri(&format!(
            "/api/v1/inspection-tasks/{task}/occurrences?from=2024-09-25&to=2024-10-12"
        )),
    )
    .await;
    let items: Vec<(String, String)> = r.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            (
                o["start"].as_str().unwrap_or_default()[..10].to_owned(),
                o["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("2024-09-25", "done"),
        ("2024-09-26", "missed"),
        ("2024-09-27", "missed"),
        ("2024-09-29", "missed"),
        ("2024-09-30", "missed"),
        ("2024-10-08", "done"),
        ("2024-10-09", "missed"),
        ("2024-10-10", "missed"),
        ("2024-10-11", "missed"),
        ("2024-10-12", "open"),
    ]
    .iter()
    .map(|(d, s)| ((*d).to_owned(), (*s).to_owned()))
    .collect();
    assert_eq!(items, want, "{}", r.body);
    let listed = send(
        &app,
        TestRequest::get().uri(&format!(
            "/api/v1/inspection-tasks?enterprise_id={ent}&from=2024-09-25&to=2024-10-12"
        )),
    )
    .await;
    let summary: Value = listed.body["items"][0]["summary"].clone();
    assert_eq!(
        (
            summary["due"].clone(),
            summary["done"].clone(),
            summary["missed"].clone()
        ),
        (json!(10), json!(2), json!(7)),
        "{}",
        listed.body
    );

    // An hourly task needs its window; a window is for hourly tasks only.
    let mut hourly = body.clone();
    hourly["cycle_unit"] = json!("hour");
    hourly["every"] = json!(2);
    let r = send(
        &app,
        json_request(Method::POST, "/api/v1/inspection-tasks", &hourly),
    )
    .await;
    assert_eq!(r.body["errors"][0]["pointer"], "/window", "{}", r.body);
    hourly["window_start"] = json!("08:00");
    hourly["window_end"] = json!("20:00");
    let r = send(
        &app,
        json_request(Method::POST, "/api/v1/inspection-tasks", &hourly),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let rounds = r.body["id"].as_str().unwrap_or_default().to_owned();
    let r = send(
        &app,
        TestRequest::get().uri(&format!(
            "/api/v1/inspection-tasks/{rounds}?from=2024-10-11&to=2024-10-11"
        )),
    )
    .await;
    assert_eq!(
        r.body["summary"]["due"], 6,
        "every 2 h from 08:00 to 20:00: {}",
        r.body
    );

    // A stopped unit owes nothing while stopped (the period added after the unit was set
    // up; an overlapping one is refused).
    let mut stopped = unit_body(&ent, 2);
    stopped["stops"] = json!([]);
    let stopped = created(&app, "/api/v1/risk-units", &stopped).await;
    let stop = |from: &str, to: &str| {
        json_request(
            Method::POST,
            &format!("/api/v1/risk-units/{stopped}/stops"),
            &json!({"from": from, "to": to, "reason": "检维修"}),
        )
    };
    let r = send_as(&app, token, stop("2024-10-08", "2024-10-11")).await;
    assert_eq!(r.body["stops"][0]["to"], "2024-10-11", "{}", r.body);
    let r = send_as(&app, token, stop("2024-10-11", "2024-10-12")).await;
    assert_eq!(r.body["errors"][0]["pointer"], "/from", "{}", r.body);
    let mut paused = body.clone();
    paused["unit_id"] = json!(stopped);
    let paused = created(&app, "/api/v1/inspection-tasks", &paused).await;
    let r = send(
        &app,
        TestRequest::get().uri(&format!(
            "/api/v1/inspection-tasks/{paused}?from=2024-10-08&to=2024-10-12"
        )),
    )
    .await;
    assert_eq!(
        r.body["summary"]["due"], 1,
        "only Saturday 10-12: {}",
        r.body
    );

    // The week of National Day (09-30 to 10-06): one working day, nothing done; no hazard
    // found in the four weeks up to it. A = 0 of 50, B = 50 − 10, no veto.
    let r = send(
        &app,
        TestRequest::get().uri(&format!(
            "/api/v1/stats/operation?week=2024-W40&enterprise_id={ent}"
        )),
    )
    .await;
    let item = &r.body["items"][0];
    assert_eq!(
        (
            item["planned"].clone(),
            item["done"].clone(),
            item["a"].clone(),
            item["b"].clone(),
            item["alpha"].clone(),
            item["score"].clone()
        ),
        (
            json!(8),
            json!(0),
            json!(0.0),
            json!(40.0),
            json!(1),
            json!(40.0)
        ),
        "{}",
        r.body
    );
    assert_eq!(r.body["from"], "2024-09-30");
    let bad = send(
        &app,
        TestRequest::get().uri("/api/v1/stats/operation?week=2024-40"),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Another county sees none of it.
    let (_, county) = principal(
        &db.store,
        json!({"name": "游仙区应急管理局", "role": "area_regulator", "area_codes": ["510704"]}),
    );
    let theirs = send_as(
        &app,
        Some(&county),
        TestRequest::get().uri("/api/v1/inspection-records"),
    )
    .await;
    assert_eq!(theirs.body["items"], json!([]), "{}", theirs.body);
}
