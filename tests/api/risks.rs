//! The risk register through the API: an LEC risk scored under both band variants; a
//! residual risk above the inherent one refused; a criterion forcing 重大; control measures
//! with their national classes; an area regulator who sees none of another county's
//! register; MES scoring, the band tables and control levels in force.

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use safegrade_testkit::{TestDb, json_request, principal, send, send_as, test_app_at};
use serde_json::json;

use crate::access::{created, risk_body, unit_body};

both!(
    an_lec_risk_under_both_variants_and_its_measures,
    mes_scoring_and_the_city_lists_in_force
);

async fn an_lec_risk_under_both_variants_and_its_measures(db: TestDb) {
    let app = test_app_at(db.store.clone(), "2026-01-05".parse().unwrap_or_default()).await;
    let (ent, _) = safegrade_testkit::post_enterprise(&app, 990).await;
    let ent = ent.body["id"].as_str().unwrap_or_default().to_owned();
    let (_, token) = principal(
        &db.store,
        json!({"name": "企业", "role": "enterprise", "enterprise_id": ent}),
    );
    let token = Some(token.as_str());
    let r = send_as(
        &app,
        token,
        json_request(Method::POST, "/api/v1/risk-units", &unit_body(&ent, 1)),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["stops"][0]["reason"], "检维修");
    let unit = r.body["id"].as_str().unwrap_or_default().to_owned();

    // D = 3 × 6 × 15 = 270: 较大 (orange) under variant A, 重大 (red) under variant B.
    let mut body = risk_body(&unit, 1);
    let r = send_as(
        &app,
        token,
        json_request(Method::POST, "/api/v1/risks", &body),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        (
            r.body["inherent"]["score"].clone(),
            r.body["inherent"]["level"].clone(),
            r.body["inherent"]["colour"].clone(),
            r.body["inherent"]["band_table"].clone()
        ),
        (
            json!(270.0),
            json!("significant"),
            json!("orange"),
            json!("lec-a@2026-12-05")
        ),
        "{}",
        r.body
    );
    assert_eq!(r.body["residual"]["level"], "general", "D = 90");
    body["inherent"]["band_table"] = json!("lec-b@2026-12-05");
    body["residual"]["band_table"] = json!("lec-b@2026-12-05");
    let r = send_as(
        &app,
        token,
        json_request(Method::POST, "/api/v1/risks", &body),
    )
    .await;
    assert_eq!(
        (
            r.body["inherent"]["level"].clone(),
            r.body["inherent"]["colour"].clone()
        ),
        (json!("major"), json!("red")),
        "{}",
        r.body
    );
    let risk = r.body["id"].as_str().unwrap_or_default().to_owned();

    // Refused: a factor off the table, a table of another method, a residual above.
    let mut bad = risk_body(&unit, 2);
    bad["inherent"]["l"] = json!(4);
    bad["residual"] = json!({"method": "ls", "l": 5, "s": 5, "band_table": "lec-a@2026-12-05"});
    let r = send_as(
        &app,
        token,
        json_request(Method::POST, "/api/v1/risks", &bad),
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
        ["/inherent/l", "/residual/band_table"],
        "{}",
        r.body
    );
    let mut above = risk_body(&unit, 3);
    above["residual"] = json!({"method": "lec", "l": 6, "e": 6, "c": 15});
    let r = send_as(
        &app,
        token,
        json_request(Method::POST, "/api/v1/risks", &above),
    )
    .await;
    assert_eq!(
        (r.status, r.body["errors"][0]["pointer"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("/residual")),
        "{}",
        r.body
    );

    // A criterion makes it 重大 whatever the score.
    let mut forced = risk_body(&unit, 4);
    forced["inherent"] = json!({"method": "lec", "l": 0.5, "e": 1, "c": 1});
    forced["residual"] = json!(null);
    forced["criterion"] = json!("MEM-2023-10/3/2");
    let r = send_as(
        &app,
        token,
        json_request(Method::POST, "/api/v1/risks", &forced),
    )
    .await;
    assert_eq!(
        (
            r.body["inherent"]["level"].clone(),
            r.body["inherent"]["forced_major"].clone()
        ),
        (json!("major"), json!(true)),
        "{}",
        r.body
    );

    // Measures with their classes.
    let measures = format!("/api/v1/risks/{risk}/measures");
    let wrong = send_as(
        &app,
        token,
        json_request(
            Method::POST,
            &measures,
            &json!({"description": "安装漏电保护器", "mode": "monitoring", "class": "engineering",
                    "subclass": "3-1", "owner": "李明"}),
        ),
    )
    .await;
    assert_eq!(
        wrong.body["errors"][0]["pointer"], "/subclass",
        "{}",
        wrong.body
    );
    let ok = send_as(
        &app,
        token,
        json_request(
            Method::POST,
            &measures,
            &json!({"description": "安装漏电保护器", "mode": "monitoring", "class": "engineering",
                    "subclass": "1-3", "owner": "李明"}),
        ),
    )
    .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    let listed = send(&app, TestRequest::get().uri(&measures)).await;
    assert_eq!(
        listed.body["items"][0]["subclass"], "1-3",
        "{}",
        listed.body
    );
    let majors = send(
        &app,
        TestRequest::get().uri(&format!("/api/v1/risks?enterprise_id={ent}&level=major")),
    )
    .await;
    assert_eq!(
        majors.body["items"].as_array().map(Vec::len),
        Some(2),
        "{}",
        majors.body
    );

    // Another county sees none of it; the enterprise cannot add to another's register.
    let (other, _) = safegrade_testkit::post_enterprise(&app, 991).await;
    let other = other.body["id"].as_str().unwrap_or_default().to_owned();
    let foreign = created(&app, "/api/v1/risk-units", &unit_body(&other, 9)).await;
    let r = send_as(
        &app,
        token,
        json_request(Method::POST, "/api/v1/risks", &risk_body(&foreign, 9)),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let (_, county) = principal(
        &db.store,
        json!({"name": "游仙区应急管理局", "role": "area_regulator", "area_codes": ["510704"]}),
    );
    let theirs = send_as(&app, Some(&county), TestRequest::get().uri("/api/v1/risks")).await;
    assert_eq!(theirs.body["items"], json!([]), "{}", theirs.body);
    let r = send_as(
        &app,
        Some(&county),
        TestRequest::get().uri(&format!("/api/v1/risk-units/{unit}")),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// An MES risk scored through the MES table; the band tables and the control levels in
/// force are listed, and a unit whose control level is not on the city's list is refused
/// with the list named.
async fn mes_scoring_and_the_city_lists_in_force(db: TestDb) {
    let app = test_app_at(db.store.clone(), "2026-01-05".parse().unwrap_or_default()).await;
    let (ent, _) = safegrade_testkit::post_enterprise(&app, 991).await;
    let ent = ent.body["id"].as_str().unwrap_or_default().to_owned();
    let tables = send(&app, TestRequest::get().uri("/api/v1/risk-band-tables")).await;
    let defaults: Vec<(&str, &str)> = tables.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["default"] == true)
        .filter_map(|t| Some((t["method"].as_str()?, t["id"].as_str()?)))
        .collect();
    assert_eq!(
        defaults,
        [
            ("lec", "lec-a@2026-12-05"),
            ("ls", "ls-a@2026-12-05"),
            ("mes", "mes-a@2026-12-05")
        ],
        "{}",
        tables.body
    );
    let levels = send(
        &app,
        TestRequest::get().uri("/api/v1/reference/control-levels"),
    )
    .await;
    assert_eq!(
        levels.body["items"][2],
        json!({"code": "team", "label_zh": "班组级"})
    );
    let mut unit = unit_body(&ent, 1);
    unit["control_level"] = json!("workshop");
    let r = send(
        &app,
        json_request(Method::POST, "/api/v1/risk-units", &unit),
    )
    .await;
    assert_eq!(
        (r.status, r.body["errors"][0]["pointer"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("/control_level")),
        "{}",
        r.body
    );
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("company、department、team、post")),
        "{}",
        r.body
    );
    let unit = created(&app, "/api/v1/risk-units", &unit_body(&ent, 2)).await;
    // R = M × E × S = 3 × 6 × 8 = 144: 二级, 较大; after measures 1 × 6 × 4 = 24: 低.
    let mut body = risk_body(&unit, 1);
    body["inherent"] = json!({"method": "mes", "m": 3, "e": 6, "s": 8});
    body["residual"] = json!({"method": "mes", "m": 1, "e": 6, "s": 4});
    let r = send(&app, json_request(Method::POST, "/api/v1/risks", &body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        (
            r.body["inherent"]["score"].clone(),
            r.body["inherent"]["level"].clone(),
            r.body["inherent"]["band_table"].clone(),
            r.body["residual"]["level"].clone()
        ),
        (
            json!(144.0),
            json!("significant"),
            json!("mes-a@2026-12-05"),
            json!("low")
        ),
        "{}",
        r.body
    );
    body["inherent"]["m"] = json!(2);
    let r = send(&app, json_request(Method::POST, "/api/v1/risks", &body)).await;
    assert_eq!(r.body["errors"][0]["pointer"], "/inherent/m", "{}", r.body);
}
