//! The working-day calendar through the API: the shipped years, working-day arithmetic at a
//! real holiday block, a year the calendar does not know (refused, naming it), loading that
//! year as a city administrator (event, version, `If-Match`), and a bad arrangement that
//! changes nothing.

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use safegrade_testkit::{TestDb, json_request, send, test_app_at};
use serde_json::{Value, json};

use crate::access::matrix_today;

both!(
    working_days_at_a_holiday_block,
    an_unknown_year_is_refused_until_loaded,
    a_loaded_year_survives_the_shipped_data
);

fn get(uri: &str) -> TestRequest {
    TestRequest::get().uri(uri)
}

async fn working_days_at_a_holiday_block(db: TestDb) {
    let app = test_app_at(db.store.clone(), matrix_today()).await;
    // From Friday 2024-09-27: Sunday 09-29 is an adjusted working day, 10-01 to 10-07 off.
    let r = send(
        &app,
        get("/api/v1/calendar/working-days?from=2024-09-27&add=5"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["date"], "2024-10-10");
    let r = send(
        &app,
        get("/api/v1/calendar/working-days?from=2024-09-27&to=2024-10-10"),
    )
    .await;
    assert_eq!(r.body["working_days"], 5, "{}", r.body);
    let r = send(
        &app,
        get("/api/v1/calendar/working-days?from=2024-10-10&to=2024-09-27"),
    )
    .await;
    assert_eq!(r.body["working_days"], -5, "{}", r.body);
    // 2020: the Spring Festival break extended to 02-02, the 02-01 working day cancelled.
    let r = send(
        &app,
        get("/api/v1/calendar/working-days?from=2020-01-23&add=1"),
    )
    .await;
    assert_eq!(r.body["date"], "2020-02-03", "{}", r.body);

    for bad in [
        "/api/v1/calendar/working-days?from=2024-09-27",
        "/api/v1/calendar/working-days?from=2024-09-27&add=5&to=2024-10-10",
        "/api/v1/calendar/working-days?from=2024-09-27&add=401",
        "/api/v1/calendar/working-days?from=27.09.2024&add=5",
        "/api/v1/calendar/working-days?from=2024-09-27&add=5&colour=red",
    ] {
        let r = send(&app, get(bad)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
        assert_eq!(r.body["code"], "invalid_query", "{bad}");
    }

    let list = send(&app, get("/api/v1/calendar")).await;
    let years: Vec<i64> = list.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|y| y["year"].as_i64())
        .collect();
    assert_eq!(years, (2019..=2026).collect::<Vec<_>>());
    let y2024 = send(&app, get("/api/v1/calendar/2024")).await;
    assert_eq!(y2024.header("etag"), "\"1\"");
    assert_eq!(y2024.body["origin"], "builtin");
    assert!(
        y2024.body["work"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|d| d["date"] == "2024-09-29" && d["name"] == "国庆节"),
        "{}",
        y2024.body
    );
    let missing = send(&app, get("/api/v1/calendar/2031")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let bad = send(&app, get("/api/v1/calendar/next")).await;
    assert_eq!(bad.body["code"], "invalid_path");
}

fn year_2027() -> Value {
    json!({
        "source": "国务院办公厅关于2027年部分节假日安排的通知（测试数据）",
        "off": [
            {"date": "2027-01-01", "name": "元旦"},
            {"date": "2027-01-02", "name": "元旦"},
            {"date": "2027-01-03", "name": "元旦"}
        ],
        "work": []
    })
}

async fn an_unknown_year_is_refused_until_loaded(db: TestDb) {
    let app = test_app_at(db.store.clone(), matrix_today()).await;
    let ask = || get("/api/v1/calendar/working-days?from=2026-12-24&add=10");
    let refused = send(&app, ask()).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert_eq!(refused.body["code"], "calendar_year_unknown");
    assert!(
        refused.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("2027")),
        "{}",
        refused.body
    );

    // A bad arrangement is refused whole and changes nothing.
    let mut bad = year_2027();
    bad["work"] = json!([{"date": "2027-01-04", "name": "元旦"}, {"date": "2025-01-04"}]);
    bad["off"][1]["date"] = json!("2027-01-01");
    let r = send(
        &app,
        json_request(Method::PUT, "/api/v1/calendar/2027", &bad),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let pointers: Vec<&str> = r.body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["pointer"].as_str())
        .collect();
    assert_eq!(
        pointers,
        ["/off/1/date", "/work/0/date", "/work/1/date"],
        "{}",
        r.body
    );
    assert_eq!(
        send(&app, get("/api/v1/calendar/2027")).await.status,
        StatusCode::NOT_FOUND
    );

    let set = send(
        &app,
        json_request(Method::PUT, "/api/v1/calendar/2027", &year_2027()),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.header("etag"), "\"1\"");
    assert_eq!(set.body["origin"], "api");
    assert_eq!(set.body["off"].as_array().map(Vec::len), Some(3));

    // Thu 2026-12-24: 12-25, 12-28 … 12-31, then 2027-01-04 … 01-08 (01-01 to 01-03 off).
    let ok = send(&app, ask()).await;
    assert_eq!(ok.body["date"], "2027-01-08", "{}", ok.body);

    // A stale version is refused and changes nothing; the current one replaces the year.
    let mut fewer = year_2027();
    fewer["off"] = json!([{"date": "2027-01-01", "name": "元旦"}]);
    let stale = send(
        &app,
        json_request(Method::PUT, "/api/v1/calendar/2027", &fewer)
            .insert_header(("if-match", "\"7\"")),
    )
    .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.body
    );
    let fresh = send(
        &app,
        json_request(Method::PUT, "/api/v1/calendar/2027", &fewer)
            .insert_header(("if-match", "\"1\"")),
    )
    .await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.body);
    assert_eq!(fresh.header("etag"), "\"2\"");
    assert_eq!(fresh.body["off"].as_array().map(Vec::len), Some(1));

    // Each change is an event with the whole arrangement.
    let events = send(&app, get("/api/v1/events?types=calendar.year_set")).await;
    let items = events.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2, "{}", events.body);
    assert_eq!(items[1]["resource"]["type"], "calendar_year");
    assert_eq!(items[1]["resource"]["id"], "2027");
    assert_eq!(items[1]["data"]["version"], 2);
    assert_eq!(
        items[1]["data"]["off"],
        json!([{"date": "2027-01-01", "name": "元旦"}])
    );
}

async fn a_loaded_year_survives_the_shipped_data(db: TestDb) {
    let app = test_app_at(db.store.clone(), matrix_today()).await;
    let corrected = json!({
        "source": "更正（测试）",
        "off": [{"date": "2026-01-01", "name": "元旦"}],
        "work": []
    });
    let r = send(
        &app,
        json_request(Method::PUT, "/api/v1/calendar/2026", &corrected),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.header("etag"), "\"2\"", "the shipped year was version 1");
    // A restart seeds the shipped file again: the corrected year is left alone.
    let report = db
        .store
        .sync_reference_data(safegrade_domain::SectorMapping::builtin())
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(report.calendar_years_written, 0);
    let after = send(&app, get("/api/v1/calendar/2026")).await;
    assert_eq!(after.body["origin"], "api");
    assert_eq!(after.body["off"].as_array().map(Vec::len), Some(1));
    assert_eq!(after.body["source"], "更正（测试）");
}
