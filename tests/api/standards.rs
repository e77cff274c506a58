//! Grading standards through the API: the shipped frame and demonstration standard, an
//! import that comes back in the shape it went in, an immutable version, and trees whose
//! points do not add up or whose members are mistyped (422 at each pointer, nothing stored).

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use safegrade_testkit::{TestDb, json_request, send, test_app_at};
use serde_json::{Value, json};

use crate::access::matrix_today;

both!(
    shipped_standards_are_there,
    a_standard_goes_in_and_comes_out_whole,
    bad_trees_are_refused_with_pointers
);

fn tree(version: &str) -> Value {
    json!({
        "code": "绵阳-建材评分标准", "version": version, "title": "绵阳市建材企业安全生产标准化评分标准（测试）",
        "sectors": ["building_materials"], "scales": ["small", "micro"], "full_points": 30,
        "thresholds": {"grade_1": 90.0, "grade_2": 75.0, "grade_3": 60.0},
        "performance_rule": "近 1 年无死亡事故", "performance_lookback_months": 12,
        "source": "测试数据",
        "elements": [
            {"code": "1", "title": "目标职责", "points": 10, "implements": "5.1", "min_rate": 60.0,
             "sub_elements": [{"code": "1.1", "title": "目标", "items": [
                {"code": "1.1.1", "text": "制定安全生产目标", "points": 10, "method": "未制定的不得分",
                 "veto": {"effect": "cap", "cap": "grade_3"}}]}]},
            {"code": "2", "title": "隐患排查治理", "points": 20, "implements": "5.5",
             "sub_elements": [{"code": "2.1", "title": "隐患排查", "items": [
                {"code": "2.1.1", "text": "建立隐患台账", "points": 12, "method": "无台账不得分", "extra_deduction_max": 20},
                {"code": "2.1.2", "text": "重大隐患挂牌督办整改", "points": 8, "method": "未整改的不得分",
                 "veto": {"effect": "no_grade"}}]}]}
        ]
    })
}

fn count(list: &Value) -> usize {
    list["items"].as_array().map_or(0, Vec::len)
}

async fn shipped_standards_are_there(db: TestDb) {
    let app = test_app_at(db.store.clone(), matrix_today()).await;
    let list = send(&app, TestRequest::get().uri("/api/v1/standards")).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let items = list.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2, "{}", list.body);
    let frame = items
        .iter()
        .find(|s| s["code"] == "GB/T 33000-2016")
        .cloned()
        .unwrap_or_default();
    assert_eq!(frame["item_count"], 0);
    let demo = items
        .iter()
        .find(|s| s["item_count"] == 20)
        .cloned()
        .unwrap_or_default();
    assert!(
        demo["title"].as_str().is_some_and(|t| t.contains("演示")),
        "{demo}"
    );
    let got = send(
        &app,
        TestRequest::get().uri(&format!(
            "/api/v1/standards/{}",
            demo["id"].as_str().unwrap_or_default()
        )),
    )
    .await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    assert_eq!(got.body["standard"]["full_points"], 179);
    assert!(
        got.body["standard"]["source"]
            .as_str()
            .is_some_and(|s| s.contains("不是正式评定标准")),
        "the demonstration says it is not official"
    );
    let frame = send(
        &app,
        TestRequest::get().uri(&format!(
            "/api/v1/standards/{}",
            frame["id"].as_str().unwrap_or_default()
        )),
    )
    .await;
    let titles: Vec<&str> = frame.body["standard"]["elements"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["title"].as_str())
        .collect();
    assert_eq!(
        titles,
        [
            "目标职责",
            "制度化管理",
            "教育培训",
            "现场管理",
            "安全风险管控及隐患排查治理",
            "应急管理",
            "事故管理",
            "持续改进"
        ]
    );
    let missing = send(
        &app,
        TestRequest::get().uri("/api/v1/standards/01940000-0000-7000-8000-000000000000"),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

async fn a_standard_goes_in_and_comes_out_whole(db: TestDb) {
    let app = test_app_at(db.store.clone(), matrix_today()).await;
    let sent = tree("2024");
    let created = send(&app, json_request(Method::POST, "/api/v1/standards", &sent)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let location = created.header("location");
    let got = send(&app, TestRequest::get().uri(location)).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(
        got.body["standard"], sent,
        "the tree comes back in the shape it went in"
    );
    assert_eq!(got.body["builtin"], false);

    // A version never changes: the same version again is refused, a new one is stored.
    let again = send(&app, json_request(Method::POST, "/api/v1/standards", &sent)).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert_eq!(again.body["code"], "duplicate_standard_version");
    let next = send(
        &app,
        json_request(Method::POST, "/api/v1/standards", &tree("2025")),
    )
    .await;
    assert_eq!(next.status, StatusCode::CREATED, "{}", next.body);

    let events = send(
        &app,
        TestRequest::get().uri("/api/v1/events?types=standard.created"),
    )
    .await;
    let items = events.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2, "{}", events.body);
    assert_eq!(items[0]["resource"]["type"], "standard");
    assert_eq!(items[0]["data"]["items"], 3);
    assert_eq!(items[0]["data"]["tree"], sent);
}

async fn bad_trees_are_refused_with_pointers(db: TestDb) {
    let app = test_app_at(db.store.clone(), matrix_today()).await;
    let before = count(
        &send(&app, TestRequest::get().uri("/api/v1/standards"))
            .await
            .body,
    );
    let pointers = |body: &Value| -> Vec<(String, String)> {
        body["errors"]
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

    // Points that do not add up, a repeated code, a capping veto without its cap.
    let mut t = tree("x1");
    t["elements"][1]["points"] = json!(25);
    t["elements"][1]["sub_elements"][0]["items"][1]["code"] = json!("1.1.1");
    t["elements"][0]["sub_elements"][0]["items"][0]["veto"] = json!({"effect": "cap"});
    t["sectors"] = json!(["building_materials", "spaceships"]);
    let r = send(&app, json_request(Method::POST, "/api/v1/standards", &t)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(
        pointers(&r.body),
        [
            pair("/sectors/1", "invalid_value"),
            pair("/elements/0/sub_elements/0/items/0/veto/cap", "required"),
            pair("/elements/1/sub_elements/0/items/1/code", "invalid_value"),
            pair("/elements/1/points", "out_of_range"),
            pair("/full_points", "out_of_range"),
        ],
        "{}",
        r.body
    );

    // A mistyped member deep in the tree, and members outside the format.
    let mut t = tree("x2");
    t["elements"][1]["sub_elements"][0]["items"][0]["points"] = json!("twelve");
    t["colour"] = json!("red");
    let r = send(&app, json_request(Method::POST, "/api/v1/standards", &t)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(
        pointers(&r.body),
        [
            pair("/colour", "unknown_field"),
            pair("/elements/1/sub_elements/0/items/0/points", "invalid_type"),
        ],
        "{}",
        r.body
    );
    let after = count(
        &send(&app, TestRequest::get().uri("/api/v1/standards"))
            .await
            .body,
    );
    assert_eq!(after, before, "refused trees store nothing");
}
