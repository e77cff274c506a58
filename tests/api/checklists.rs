//! List-based management through the API: an enterprise's lists with items tied to its
//! risks, performance records against the items; a county's government list that only
//! regulators draw up; another county sees none of it.

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use safegrade_testkit::{TestDb, json_request, principal, send, send_as, test_app_at};
use serde_json::json;

use crate::access::{checklist_body, created, risk_body, unit_body};

both!(lists_items_and_duties);

async fn lists_items_and_duties(db: TestDb) {
    let app = test_app_at(db.store.clone(), "2026-01-05".parse().unwrap_or_default()).await;
    let (ent, _) = safegrade_testkit::post_enterprise(&app, 996).await;
    let ent = ent.body["id"].as_str().unwrap_or_default().to_owned();
    let (_, token) = principal(
        &db.store,
        json!({"name": "企业", "role": "enterprise", "enterprise_id": ent}),
    );
    let token = Some(token.as_str());
    let unit = created(&app, "/api/v1/risk-units", &unit_body(&ent, 1)).await;
    let risk = created(&app, "/api/v1/risks", &risk_body(&unit, 1)).await;

    // A major-risk list whose item names the risk; a repeated code and a foreign risk are
    // refused.
    let mut list = checklist_body(&ent, 1);
    list["checklist_type"] = json!("major_risk_control");
    list["owner_scope"] = json!("enterprise");
    list["items"] = json!([
        {"code": "R1", "text": "带电作业触电风险：停电验电挂牌", "responsible": "设备部", "risk_id": risk},
        {"code": "R1", "text": "重复", "risk_id": ent}
    ]);
    let r = send_as(
        &app,
        token,
        json_request(Method::POST, "/api/v1/checklists", &list),
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
        ["/items/1/code", "/items/1/risk_id"],
        "{}",
        r.body
    );
    list["items"] = json!([{"code": "R1", "text": "带电作业触电风险：停电验电挂牌", "responsible": "设备部", "risk_id": risk}]);
    let r = send_as(
        &app,
        token,
        json_request(Method::POST, "/api/v1/checklists", &list),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["items"][0]["risk_id"], json!(risk));
    let url = r.header("location").to_owned();

    // A type that is not the owner's is refused.
    let mut wrong = checklist_body(&ent, 2);
    wrong["checklist_type"] = json!("territorial");
    let r = send_as(
        &app,
        token,
        json_request(Method::POST, "/api/v1/checklists", &wrong),
    )
    .await;
    assert_eq!(r.body["errors"][0]["pointer"], "/owner_scope", "{}", r.body);

    // Performance records: only items the list has.
    let duty = |item: &str| json!({"item_code": item, "performed_on": "2026-01-05", "performed_by": "李明"});
    let r = send_as(
        &app,
        token,
        json_request(Method::POST, &format!("{url}/duties"), &duty("R9")),
    )
    .await;
    assert_eq!(r.body["errors"][0]["pointer"], "/item_code", "{}", r.body);
    let r = send_as(
        &app,
        token,
        json_request(Method::POST, &format!("{url}/duties"), &duty("R1")),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let duties = send(&app, TestRequest::get().uri(&format!("{url}/duties"))).await;
    assert_eq!(
        duties.body["items"][0]["item_code"], "R1",
        "{}",
        duties.body
    );

    // A county government's list: regulators of that county only.
    let gov = json!({"checklist_type": "territorial", "owner_scope": "government", "area_code": "510703",
                     "title": "涪城区党政领导干部安全生产包保责任清单", "owner": "区长",
                     "items": [{"code": "1", "text": "每季度到包保企业检查一次", "frequency": "每季度"}]});
    let r = send_as(
        &app,
        token,
        json_request(Method::POST, "/api/v1/checklists", &gov),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let (_, fucheng) = principal(
        &db.store,
        json!({"name": "涪城区应急管理局", "role": "area_regulator", "area_codes": ["510703"]}),
    );
    let (_, youxian) = principal(
        &db.store,
        json!({"name": "游仙区应急管理局", "role": "area_regulator", "area_codes": ["510704"]}),
    );
    let r = send_as(
        &app,
        Some(&youxian),
        json_request(Method::POST, "/api/v1/checklists", &gov),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "another county's area: {}",
        r.body
    );
    let r = send_as(
        &app,
        Some(&fucheng),
        json_request(Method::POST, "/api/v1/checklists", &gov),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let gov_url = r.header("location").to_owned();
    let r = send_as(&app, token, TestRequest::get().uri(&gov_url)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "not an enterprise's list");
    let theirs = send_as(
        &app,
        Some(&youxian),
        TestRequest::get().uri("/api/v1/checklists"),
    )
    .await;
    assert_eq!(theirs.body["items"], json!([]), "{}", theirs.body);
    let ours = send_as(
        &app,
        Some(&fucheng),
        TestRequest::get().uri("/api/v1/checklists"),
    )
    .await;
    assert_eq!(
        ours.body["items"].as_array().map(Vec::len),
        Some(2),
        "{}",
        ours.body
    );
}
