//! Who may do what: the jurisdiction matrix over every route, leaks through lists, filters
//! and the event feed, one event per mutation, token revocation and expiry, concurrent
//! `If-Match`, the principal API, and the feed under concurrent writers.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use safegrade_domain::{Actor, EnterpriseInput, PrincipalId, SectorMapping};
use safegrade_store::events::{EventFilter, EventVisibility, FeedPosition};
use safegrade_store::{DbUrl, PoolConfig, Store};
use safegrade_testkit::{
    Kind, Reply, TestApp, TestDb, credit_code, enterprise_body, json_request, principal, send,
    send_as, test_app, test_app_at, test_app_with_cache,
};
use serde_json::{Value, json};

use crate::futures_join_all;

both!(
    jurisdiction_matrix,
    nothing_foreign_leaks,
    one_event_per_mutation,
    revoked_expired_and_disabled_tokens_stop_working,
    concurrent_patches_with_one_if_match,
    principal_and_token_api,
    feed_skips_nothing_under_concurrent_writers,
    an_append_in_flight_holds_back_only_its_own_area
);

/// The roles of the matrix, in column order.
const ROLES: [&str; 7] = [
    "city_admin",
    "city_regulator",
    "area_regulator",
    "enterprise",
    "integration_ro",
    "integration_rw",
    "reviewer",
];

/// The review organisation of the matrix's reviewer; the inside application is assigned to
/// it, the outside one to nobody.
pub(crate) fn world_organisation() -> Value {
    json!({"id": credit_code(9_000), "name": "矩阵评审公司"})
}

/// The callers and records every matrix case runs against.
pub(crate) struct World {
    /// Token per role (`ROLES` order).
    pub(crate) tokens: Vec<String>,
    /// An enterprise inside the scoped roles' jurisdiction (510703, and the enterprise
    /// principal's own).
    pub(crate) inside: String,
    /// An enterprise outside it (510704).
    pub(crate) outside: String,
    /// A principal to read and change.
    pub(crate) target: String,
    /// A certificate of `inside` and one of `outside`.
    pub(crate) certificates: (String, String),
    /// A standard that fits both enterprises.
    pub(crate) standard: String,
    /// A draft self-assessment of `inside` and one of `outside`.
    pub(crate) assessments: (String, String),
    /// A draft review of `inside`, on the same standard.
    pub(crate) review: String,
    /// A submitted self-assessment of `inside` and one of `outside` (they reach 一级).
    pub(crate) submitted: (String, String),
    /// An upgrade application (to 二级) of `inside` and one of `outside`.
    pub(crate) gradings: (String, String),
    /// A general hazard of `inside` and one of `outside`, registered.
    pub(crate) hazards: (String, String),
    /// A risk analysis unit of `inside` and one of `outside`.
    pub(crate) units: (String, String),
    /// A risk of each of those units.
    pub(crate) risks: (String, String),
    /// An inspection task on each of those units.
    pub(crate) tasks: (String, String),
    /// A post-responsibility list of `inside` and one of `outside`.
    pub(crate) checklists: (String, String),
    /// An import (dry run) asked by the city administrator.
    pub(crate) import: String,
    /// A webhook subscription of the city administrator, and an attempt of it.
    pub(crate) webhook: (String, String),
}

pub(crate) async fn world<S, B>(app: &TestApp<S>) -> World
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let inside = create(app, 1, "510703").await;
    let outside = create(app, 2, "510704").await;
    let store = &app.store;
    let mut tokens = vec![app.admin_token.clone()];
    for spec in [
        json!({"name": "市局监管", "role": "city_regulator"}),
        json!({"name": "涪城区应急管理局", "role": "area_regulator", "area_codes": ["510703"]}),
        json!({"name": "企业", "role": "enterprise", "enterprise_id": inside}),
        json!({"name": "只读对接", "role": "integration", "area_codes": ["510703"], "read_only": true}),
        json!({"name": "读写对接", "role": "integration", "area_codes": ["510703"], "read_only": false}),
        json!({"name": "评审员", "role": "reviewer", "review_organisation": world_organisation()}),
    ] {
        tokens.push(principal(store, spec).1);
    }
    let target = principal(store, json!({"name": "目标", "role": "city_regulator"}))
        .0
        .to_string();
    let certificates = (
        certificate(app, &inside, "W-IN").await,
        certificate(app, &outside, "W-OUT").await,
    );
    let standard = send(
        app,
        json_request(Method::POST, "/api/v1/standards", &standard_body("world")),
    )
    .await;
    assert_eq!(standard.status, StatusCode::CREATED, "{}", standard.body);
    let standard = standard.body["id"].as_str().unwrap_or_default().to_owned();
    let assessments = (
        assessment(app, &inside, &standard).await,
        assessment(app, &outside, &standard).await,
    );
    let review = send(
        app,
        json_request(
            Method::POST,
            "/api/v1/assessments",
            &json!({"enterprise_id": inside, "standard_id": standard, "kind": "review"}),
        ),
    )
    .await;
    assert_eq!(review.status, StatusCode::CREATED, "{}", review.body);
    let review = review.body["id"].as_str().unwrap_or_default().to_owned();
    let submitted = (
        submitted_self_assessment(app, &inside, &standard).await,
        submitted_self_assessment(app, &outside, &standard).await,
    );
    let gradings = (
        grading(app, &inside, &submitted.0).await,
        grading(app, &outside, &submitted.1).await,
    );
    assign(app, &gradings.0).await;
    let hazards = (hazard(app, &inside).await, hazard(app, &outside).await);
    let units = (
        created(app, "/api/v1/risk-units", &unit_body(&inside, 0)).await,
        created(app, "/api/v1/risk-units", &unit_body(&outside, 0)).await,
    );
    let risks = (
        created(app, "/api/v1/risks", &risk_body(&units.0, 0)).await,
        created(app, "/api/v1/risks", &risk_body(&units.1, 0)).await,
    );
    let tasks = (
        created(app, "/api/v1/inspection-tasks", &task_body(&units.0, 0)).await,
        created(app, "/api/v1/inspection-tasks", &task_body(&units.1, 0)).await,
    );
    let checklists = (
        created(app, "/api/v1/checklists", &checklist_body(&inside, 0)).await,
        created(app, "/api/v1/checklists", &checklist_body(&outside, 0)).await,
    );
    let import = created_as(
        app,
        "/api/v1/imports?dry_run=true",
        Call::csv(&ledger_csv(0)),
    )
    .await;
    safegrade_http::worker::Worker::drain(
        &safegrade_http::plumbing::app::AppState::new(store.clone()),
        safegrade_domain::jobs::JobKind::Import,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let webhook = created(
        app,
        "/api/v1/webhooks",
        &json!({"url": "http://127.0.0.1:9/hook"}),
    )
    .await;
    let delivery = attempt_of(store, &webhook);
    World {
        import,
        webhook: (webhook, delivery),
        tokens,
        inside,
        outside,
        target,
        certificates,
        standard,
        assessments,
        review,
        submitted,
        gradings,
        hazards,
        units,
        risks,
        tasks,
        checklists,
    }
}

/// A one-row survey ledger (CSV) whose enterprise is `n`.
pub(crate) fn ledger_csv(n: u32) -> Vec<u8> {
    format!(
        "统一社会信用代码,企业名称,所属县（市、区）,行业代码,企业规模,主要负责人,主要负责人联系电话\n\
         {},绵阳台账企业{n},涪城区,C3311,小型,张台账,13800005{n:03}\n",
        credit_code(5000 + n)
    )
    .into_bytes()
}

/// The id of what `call` (a POST answered 201 or 202) made.
async fn created_as<S, B>(app: &TestApp<S>, uri: &str, call: Call) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let r = send(
        app,
        Call {
            uri: uri.to_owned(),
            ..call
        }
        .build(),
    )
    .await;
    assert!(r.status.is_success(), "{uri}: {} {}", r.status, r.body);
    r.body["id"].as_str().unwrap_or_default().to_owned()
}

/// A recorded (failed) delivery attempt of subscription `webhook`, through the store.
fn attempt_of(store: &Store, webhook: &str) -> String {
    let id = safegrade_domain::WebhookId::parse(webhook).unwrap_or_else(|| panic!("webhook id"));
    let attempt = safegrade_store::webhooks::Attempt {
        event_seq: 1,
        event_chain: "city".into(),
        attempt: 1,
        manual: false,
        status_code: Some(503),
        latency_ms: 3,
        succeeded: false,
        error: Some("接收方返回 HTTP 503".into()),
    };
    store
        .with_write_tx(move |tx| safegrade_store::webhooks::record_attempt(tx, id, &attempt))
        .unwrap_or_else(|e| panic!("{e:?}"));
    let d = store
        .list_deliveries(id, None, 1)
        .unwrap_or_else(|e| panic!("{e:?}"));
    d.first().map(|d| d.id.clone()).unwrap_or_default()
}

/// The body of a post-responsibility list of `enterprise`.
pub(crate) fn checklist_body(enterprise: &str, n: u32) -> Value {
    json!({
        "checklist_type": "post_responsibility", "owner_scope": "post", "enterprise_id": enterprise,
        "title": format!("配电房值班电工岗位责任清单（{n}）"), "owner": "配电房值班电工",
        "items": [
            {"code": "1", "text": "每班巡检配电柜并记录", "responsible": "值班电工", "frequency": "每班"},
            {"code": "2", "text": "停送电严格执行工作票制度", "responsible": "值班电工"}
        ]
    })
}

/// The body of a daily working-day inspection task on `unit`.
pub(crate) fn task_body(unit: &str, n: u32) -> Value {
    json!({
        "unit_id": unit, "content": format!("检查配电柜门锁、接地和警示标识（{n}）"),
        "every": 1, "cycle_unit": "day", "day_type": "working_days",
        "assignee": "值班电工", "starts_on": "2025-12-01"
    })
}

/// Creates a record with `body` at `uri` as the administrator; returns its id.
pub(crate) async fn created<S, B>(app: &TestApp<S>, uri: &str, body: &Value) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let r = send(app, json_request(Method::POST, uri, body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{uri}: {}", r.body);
    r.body["id"].as_str().unwrap_or_default().to_owned()
}

/// The body of a risk analysis unit (a post) of `enterprise`.
pub(crate) fn unit_body(enterprise: &str, n: u32) -> Value {
    json!({
        "enterprise_id": enterprise, "kind": "post", "name": format!("配电房值班电工（{n}）"),
        "location": "二号车间配电房", "department": "设备部", "responsible": "李明",
        "control_level": "team", "stops": [{"from": "2026-02-01", "to": "2026-02-03", "reason": "检维修"}]
    })
}

/// The body of an LEC-scored risk of `unit`.
pub(crate) fn risk_body(unit: &str, n: u32) -> Value {
    json!({
        "unit_id": unit, "name": format!("带电作业触电（{n}）"), "accident_kinds": ["electric_shock"],
        "inherent": {"method": "lec", "l": 3, "e": 6, "c": 15},
        "residual": {"method": "lec", "l": 1, "e": 6, "c": 15}
    })
}

/// The body of a general hazard of `enterprise` (varied by `n`).
pub(crate) fn hazard_body(enterprise: &str, n: u32) -> Value {
    json!({
        "enterprise_id": enterprise, "found_on": "2025-12-20", "found_by": "安全员 张三",
        "source": "routine", "hazard_type": "electrical", "management_class": "unsafe_condition",
        "description": format!("配电箱门未关闭，警示标识缺失（{n}）"), "location": "二号车间"
    })
}

/// Registers a general hazard of `enterprise` as the administrator; returns its id.
pub(crate) async fn hazard<S, B>(app: &TestApp<S>, enterprise: &str) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let r = send(
        app,
        json_request(Method::POST, "/api/v1/hazards", &hazard_body(enterprise, 0)),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap_or_default().to_owned()
}

/// A self-assessment of `enterprise` with nothing deducted, submitted; returns its id.
async fn submitted_self_assessment<S, B>(
    app: &TestApp<S>,
    enterprise: &str,
    standard: &str,
) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let id = assessment(app, enterprise, standard).await;
    let r = send(
        app,
        json_request(
            Method::POST,
            &format!("/api/v1/assessments/{id}/submission"),
            &json!({}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    id
}

/// The body of an upgrade application to 二级 (the world's enterprises hold 三级).
pub(crate) fn grading_body(enterprise: &str, self_assessment: &str) -> Value {
    json!({
        "enterprise_id": enterprise, "kind": "upgrade", "grade": "grade_2",
        "self_assessment_id": self_assessment,
        "commitments": {"licences_valid": true, "safety_body": true, "personnel_certified": true,
                        "no_major_social_impact": true, "not_on_dishonesty_list": true,
                        "major_hazards_rectified": true}
    })
}

/// Rejects (不予受理, which bars nothing) the open applications of `enterprise` as the
/// administrator, so that it may apply again (one open application per enterprise).
pub(crate) async fn close_open<S, B>(app: &TestApp<S>, enterprise: &str)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let list = send(
        app,
        TestRequest::get().uri(&format!(
            "/api/v1/gradings?enterprise_id={enterprise}&limit=200"
        )),
    )
    .await;
    for g in items(&list) {
        if ["applied", "correction_requested"].contains(&g["state"].as_str().unwrap_or_default()) {
            let r = send(
                app,
                json_request(
                    Method::POST,
                    &format!(
                        "/api/v1/gradings/{}/rejection",
                        g["id"].as_str().unwrap_or_default()
                    ),
                    &json!({"note": "申请材料不全，不予受理"}),
                ),
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
    }
}

/// Submits an upgrade application of `enterprise` as the administrator, after rejecting its
/// open ones; returns its id.
pub(crate) async fn grading<S, B>(
    app: &TestApp<S>,
    enterprise: &str,
    self_assessment: &str,
) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    close_open(app, enterprise).await;
    let r = send(
        app,
        json_request(
            Method::POST,
            "/api/v1/gradings",
            &grading_body(enterprise, self_assessment),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap_or_default().to_owned()
}

/// Assigns application `id` to the matrix's review organisation as the administrator.
pub(crate) async fn assign<S, B>(app: &TestApp<S>, id: &str)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let r = send(
        app,
        json_request(
            Method::POST,
            &format!("/api/v1/gradings/{id}/assignment"),
            &json!({"review_organisation": world_organisation()}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

/// A small standard for any sector (10 points, one element, two items).
fn standard_body(version: &str) -> Value {
    json!({
        "code": "测试评分标准", "version": version, "title": "测试用评分标准",
        "full_points": 10,
        "thresholds": {"grade_1": 90, "grade_2": 75, "grade_3": 60},
        "elements": [{"code": "1", "title": "目标职责", "points": 10, "implements": "5.1",
            "sub_elements": [{"code": "1.1", "title": "目标", "items": [
                {"code": "1.1.1", "text": "制定安全生产目标", "points": 6, "method": "未制定的不得分"},
                {"code": "1.1.2", "text": "目标分解到部门", "points": 4, "method": "每缺一个部门扣 1 分", "extra_deduction_max": 5}
            ]}]}]
    })
}

/// Starts a draft self-assessment of `enterprise` on `standard` as the administrator and
/// returns its id.
pub(crate) async fn assessment<S, B>(app: &TestApp<S>, enterprise: &str, standard: &str) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let r = send(
        app,
        json_request(
            Method::POST,
            "/api/v1/assessments",
            &json!({"enterprise_id": enterprise, "standard_id": standard, "kind": "self"}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap_or_default().to_owned()
}

/// The matrix runs on a fixed day, so its certificates (issued 2025-06-01) stay in force.
pub(crate) fn matrix_today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default()
}

fn certificate_body(enterprise: &str, number: &str) -> Value {
    json!({
        "enterprise_id": enterprise, "grade": "grade_3", "number": number,
        "authority": {"level": "city", "name": "绵阳市应急管理局"},
        "issued_on": "2025-06-01", "standard": "AQ/T 9006-2010"
    })
}

/// Records a certificate as the app's administrator and returns its id.
pub(crate) async fn certificate<S, B>(app: &TestApp<S>, enterprise: &str, number: &str) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let r = send(
        app,
        json_request(
            Method::POST,
            "/api/v1/certificates",
            &certificate_body(enterprise, number),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap_or_default().to_owned()
}

pub(crate) async fn create<S, B>(app: &TestApp<S>, n: u32, area: &str) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let mut body = enterprise_body(&credit_code(n));
    body["area_code"] = json!(area);
    let r = send(
        app,
        json_request(Method::POST, "/api/v1/enterprises", &body),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap_or_default().to_owned()
}

/// One operation's request as parts; [`Call::build`] makes the test request.
pub(crate) struct Call {
    pub(crate) method: Method,
    pub(crate) uri: String,
    pub(crate) body: Option<Value>,
    /// A body that is not JSON: its content type and bytes (an uploaded file).
    pub(crate) raw: Option<(&'static str, Vec<u8>)>,
}

impl Call {
    fn get(uri: String) -> Self {
        Self {
            method: Method::GET,
            uri,
            body: None,
            raw: None,
        }
    }

    fn json(method: Method, uri: &str, body: &Value) -> Self {
        Self {
            method,
            uri: uri.to_owned(),
            body: Some(body.clone()),
            raw: None,
        }
    }

    /// A POST of a CSV file to `/api/v1/imports` (the uri may be replaced).
    pub(crate) fn csv(bytes: &[u8]) -> Self {
        Self {
            method: Method::POST,
            uri: "/api/v1/imports".into(),
            body: None,
            raw: Some(("text/csv", bytes.to_vec())),
        }
    }

    pub(crate) fn build(&self) -> TestRequest {
        match (&self.body, &self.raw) {
            (Some(body), _) => json_request(self.method.clone(), &self.uri, body),
            (None, Some((content_type, bytes))) => TestRequest::default()
                .method(self.method.clone())
                .uri(&self.uri)
                .insert_header(("content-type", *content_type))
                .set_payload(bytes.clone()),
            (None, None) => TestRequest::default()
                .method(self.method.clone())
                .uri(&self.uri),
        }
    }
}

/// A fresh, valid request for an operation, as parts (so a test can also show what it sent).
/// `inside` chooses the record (or area) inside or outside the scoped roles' jurisdiction;
/// `n` varies the body; `fresh` is the record a transition acts on (a certificate, or a token
/// for `revoke_token`).
pub(crate) fn call(
    op: &str,
    w: &World,
    inside: bool,
    n: u32,
    store: &Store,
    fresh_certificate: Option<&str>,
) -> Call {
    let ent = if inside { &w.inside } else { &w.outside };
    let area = if inside { "510703" } else { "510704" };
    let get = Call::get;
    match op {
        "get_health" => get("/healthz".into()),
        "get_readiness" => get("/readyz".into()),
        "list_enterprises" => get("/api/v1/enterprises".into()),
        "get_enterprise" => get(format!("/api/v1/enterprises/{ent}")),
        "create_enterprise" => {
            let mut body = enterprise_body(&credit_code(10_000 + n));
            body["area_code"] = json!(area);
            Call::json(Method::POST, "/api/v1/enterprises", &body)
        }
        "update_enterprise" => Call::json(
            Method::PATCH,
            &format!("/api/v1/enterprises/{ent}"),
            &json!({"employees": n, "reason": "矩阵测试"}),
        ),
        // `fresh` is an enterprise of its own (it moves); the other area is the target.
        "transfer_enterprise" => Call::json(
            Method::POST,
            &format!(
                "/api/v1/enterprises/{}/transfer",
                fresh_certificate.unwrap_or(ent)
            ),
            &json!({
                "area_code": if inside { "510704" } else { "510703" },
                "reason": format!("企业迁址（{n}）")
            }),
        ),
        "list_areas" => get("/api/v1/areas".into()),
        "list_reference_lists" => get("/api/v1/reference".into()),
        "list_reference" => get("/api/v1/reference/grades".into()),
        "get_me" => get("/api/v1/me".into()),
        "list_events" => get("/api/v1/events".into()),
        "export_audit_chain" => get("/api/v1/events/export?area_code=510703".into()),
        "list_principals" => get("/api/v1/principals".into()),
        "get_principal" => get(format!("/api/v1/principals/{}", w.target)),
        "create_principal" => Call::json(
            Method::POST,
            "/api/v1/principals",
            &json!({"name": format!("新账号{n}"), "role": "city_regulator"}),
        ),
        "update_principal" => Call::json(
            Method::PATCH,
            &format!("/api/v1/principals/{}", w.target),
            &json!({"name": format!("目标{n}")}),
        ),
        "create_token" => Call::json(
            Method::POST,
            &format!("/api/v1/principals/{}/tokens", w.target),
            &json!({"expires_at": format!("2099-01-01T00:00:{:02}Z", n % 60)}),
        ),
        "list_tokens" => get(format!("/api/v1/principals/{}/tokens", w.target)),
        "revoke_token" => {
            // A fresh token each time, so an allowed revocation is never a repeat.
            let id = fresh_certificate.map_or_else(|| fresh_token(w, store), str::to_owned);
            Call::json(
                Method::POST,
                &format!("/api/v1/tokens/{id}/revocation"),
                &json!({"reason": format!("矩阵测试{n}")}),
            )
        }
        "list_certificates" => get("/api/v1/certificates".into()),
        "list_register" => get("/api/v1/register".into()),
        "list_alerts" => get("/api/v1/alerts".into()),
        "get_drive" => get(format!("/api/v1/enterprises/{ent}/drive")),
        "list_visits" => get(format!("/api/v1/enterprises/{ent}/visits")),
        "update_drive" => Call::json(
            Method::PATCH,
            &format!("/api/v1/enterprises/{ent}/drive"),
            &json!({"model_enterprise": true, "model_note": format!("典型{n}")}),
        ),
        "create_visit" => Call::json(
            Method::POST,
            &format!("/api/v1/enterprises/{ent}/visits"),
            &json!({"visited_on": "2025-12-01", "visitor": "涪城区应急管理局", "findings": format!("检查{n}")}),
        ),
        "get_attainment_stats" => get("/api/v1/stats/attainment".into()),
        "verify_certificate" => get("/api/v1/register/certificates/W-IN".into()),
        "list_accidents" => get("/api/v1/accidents".into()),
        "create_accident" => Call::json(
            Method::POST,
            "/api/v1/accidents",
            &json!({"enterprise_id": ent, "occurred_on": "2025-08-05", "kind": "machinery", "seriously_injured": 1, "source": format!("矩阵{n}")}),
        ),
        "renew_certificate" => Call::json(
            Method::POST,
            &format!(
                "/api/v1/certificates/{}/renewal",
                fresh_certificate.unwrap_or_else(|| panic!("no fresh certificate"))
            ),
            &json!({"track": "full_review", "number": format!("RN-{n}"), "issued_on": "2025-09-01"}),
        ),
        "upgrade_certificate" => Call::json(
            Method::POST,
            &format!(
                "/api/v1/certificates/{}/upgrade",
                fresh_certificate.unwrap_or_else(|| panic!("no fresh certificate"))
            ),
            &json!({"grade": "grade_2", "number": format!("UP-{n}"), "issued_on": "2025-09-01",
                    "authority": {"level": "province", "name": "四川省应急管理厅"}}),
        ),
        "get_certificate" => get(format!(
            "/api/v1/certificates/{}",
            if inside {
                &w.certificates.0
            } else {
                &w.certificates.1
            }
        )),
        "create_certificate" => Call::json(
            Method::POST,
            "/api/v1/certificates",
            &certificate_body(ent, &format!("M-{n}")),
        ),
        "revoke_certificate" => {
            // A fresh certificate each time, so an allowed revocation is never a repeat.
            let id = fresh_certificate.unwrap_or_else(|| panic!("no fresh certificate"));
            Call::json(
                Method::POST,
                &format!("/api/v1/certificates/{id}/revocation"),
                &json!({"trigger": "system_not_run", "legal_basis": "定级办法", "reason": format!("矩阵测试{n}"), "decided_on": "2025-07-01"}),
            )
        }
        "list_calendar_years" => get("/api/v1/calendar".into()),
        "get_calendar_year" => get("/api/v1/calendar/2024".into()),
        "get_working_days" => get("/api/v1/calendar/working-days?from=2024-09-27&add=5".into()),
        "set_calendar_year" => Call::json(
            Method::PUT,
            "/api/v1/calendar/2027",
            &json!({
                "off": [{"date": "2027-01-01", "name": "元旦"}, {"date": "2027-01-02", "name": "元旦"}, {"date": "2027-01-03", "name": "元旦"}],
                "work": [],
                "source": format!("国务院办公厅关于2027年部分节假日安排的通知（测试{n}）"),
            }),
        ),
        "list_standards" => get("/api/v1/standards".into()),
        "get_standard" => {
            let demo = store
                .list_standards()
                .unwrap_or_else(|e| panic!("{e:?}"))
                .into_iter()
                .find(|s| s.builtin && s.item_count > 0)
                .unwrap_or_else(|| panic!("no shipped demonstration standard"));
            get(format!("/api/v1/standards/{}", demo.id))
        }
        "create_standard" => Call::json(
            Method::POST,
            "/api/v1/standards",
            &standard_body(&format!("v{n}")),
        ),
        "list_assessments" => get("/api/v1/assessments".into()),
        "compare_assessments" => get(format!(
            "/api/v1/assessments/compare?ids={},{}",
            w.assessments.0, w.review
        )),
        "get_assessment" => get(format!(
            "/api/v1/assessments/{}",
            if inside {
                &w.assessments.0
            } else {
                &w.assessments.1
            }
        )),
        "create_assessment" => Call::json(
            Method::POST,
            "/api/v1/assessments",
            &json!({"enterprise_id": ent, "standard_id": w.standard, "kind": "self",
                    "assessors": format!("自评工作组：主要负责人、安全管理人员、职工代表（{n}）")}),
        ),
        "update_assessment" => Call::json(
            Method::PATCH,
            &format!(
                "/api/v1/assessments/{}",
                if inside {
                    &w.assessments.0
                } else {
                    &w.assessments.1
                }
            ),
            &json!({"items": {"1.1.1": {"deducted": n % 6, "evidence": format!("检查记录{n}")}}, "extra": {"1": n % 5}}),
        ),
        "submit_assessment" | "discard_assessment" => Call::json(
            Method::POST,
            &format!(
                "/api/v1/assessments/{}/{}",
                fresh_certificate.unwrap_or_else(|| panic!("no fresh assessment")),
                if op == "submit_assessment" {
                    "submission"
                } else {
                    "discard"
                }
            ),
            &json!({"reason": format!("按计划完成（{n}）")}),
        ),
        "list_gradings" => get("/api/v1/gradings".into()),
        "get_grading" => get(format!(
            "/api/v1/gradings/{}",
            if inside { &w.gradings.0 } else { &w.gradings.1 }
        )),
        "create_grading" => {
            let mut body = grading_body(
                ent,
                if inside {
                    &w.submitted.0
                } else {
                    &w.submitted.1
                },
            );
            body["grade"] = json!(if n.is_multiple_of(2) {
                "grade_2"
            } else {
                "grade_1"
            });
            Call::json(Method::POST, "/api/v1/gradings", &body)
        }
        "take_grading_step" => Call::json(
            Method::POST,
            &format!(
                "/api/v1/gradings/{}/correction_request",
                fresh_certificate.unwrap_or_else(|| panic!("no fresh grading"))
            ),
            &json!({"note": format!("请补充自评报告的公示记录（{n}）")}),
        ),
        "list_hazard_criteria" => get("/api/v1/hazard-criteria?sector=metallurgy".into()),
        "list_risk_band_tables" => get("/api/v1/risk-band-tables".into()),
        "list_risk_units" => get("/api/v1/risk-units".into()),
        "list_risks" => get("/api/v1/risks?level=significant".into()),
        "get_risk_unit" => get(format!(
            "/api/v1/risk-units/{}",
            if inside { &w.units.0 } else { &w.units.1 }
        )),
        "get_risk" => get(format!(
            "/api/v1/risks/{}",
            if inside { &w.risks.0 } else { &w.risks.1 }
        )),
        "list_measures" => get(format!(
            "/api/v1/risks/{}/measures",
            if inside { &w.risks.0 } else { &w.risks.1 }
        )),
        "create_risk_unit" => Call::json(Method::POST, "/api/v1/risk-units", &unit_body(ent, n)),
        "add_unit_stop" => Call::json(
            Method::POST,
            &format!(
                "/api/v1/risk-units/{}/stops",
                fresh_certificate.unwrap_or_else(|| panic!("no fresh unit"))
            ),
            &json!({"from": "2026-03-02", "to": "2026-03-04", "reason": format!("检维修（{n}）")}),
        ),
        "list_inspection_tasks" => get("/api/v1/inspection-tasks".into()),
        "list_checklists" => get("/api/v1/checklists".into()),
        "get_checklist" => get(format!(
            "/api/v1/checklists/{}",
            if inside {
                &w.checklists.0
            } else {
                &w.checklists.1
            }
        )),
        "list_duty_records" => get(format!(
            "/api/v1/checklists/{}/duties",
            if inside {
                &w.checklists.0
            } else {
                &w.checklists.1
            }
        )),
        "create_checklist" => {
            Call::json(Method::POST, "/api/v1/checklists", &checklist_body(ent, n))
        }
        "create_duty_record" => Call::json(
            Method::POST,
            &format!(
                "/api/v1/checklists/{}/duties",
                if inside {
                    &w.checklists.0
                } else {
                    &w.checklists.1
                }
            ),
            &json!({"item_code": "1", "performed_on": "2025-12-31", "performed_by": "值班电工 王强",
                    "note": format!("巡检 4 次，无异常（{n}）")}),
        ),
        "list_inspection_records" => get("/api/v1/inspection-records".into()),
        "get_inspection_task" => get(format!(
            "/api/v1/inspection-tasks/{}",
            if inside { &w.tasks.0 } else { &w.tasks.1 }
        )),
        "list_occurrences" => get(format!(
            "/api/v1/inspection-tasks/{}/occurrences",
            if inside { &w.tasks.0 } else { &w.tasks.1 }
        )),
        "create_inspection_task" => Call::json(
            Method::POST,
            "/api/v1/inspection-tasks",
            &task_body(if inside { &w.units.0 } else { &w.units.1 }, n),
        ),
        "create_inspection_record" => Call::json(
            Method::POST,
            "/api/v1/inspection-records",
            &json!({"task_id": if inside { &w.tasks.0 } else { &w.tasks.1 },
                    "performed_at": format!("2025-12-31T09:{:02}:00", n % 60),
                    "performed_by": "值班电工 王强", "result": "normal"}),
        ),
        "create_risk" => Call::json(
            Method::POST,
            "/api/v1/risks",
            &risk_body(if inside { &w.units.0 } else { &w.units.1 }, n),
        ),
        "create_measure" => Call::json(
            Method::POST,
            &format!(
                "/api/v1/risks/{}/measures",
                if inside { &w.risks.0 } else { &w.risks.1 }
            ),
            &json!({"description": format!("停电验电挂牌后作业（{n}）"), "mode": "inspection",
                    "class": "operation", "subclass": "3-2", "check_content": "检查停送电记录",
                    "owner": "李明"}),
        ),
        "list_hazards" => get("/api/v1/hazards?open=true".into()),
        "get_hazard_stats" => get("/api/v1/stats/hazards?period=2025".into()),
        "get_operation_stats" => get("/api/v1/stats/operation?week=2025-W52".into()),
        "export_hazard_ledger" => get("/api/v1/hazard-ledger".into()),
        "get_hazard" => get(format!(
            "/api/v1/hazards/{}",
            if inside { &w.hazards.0 } else { &w.hazards.1 }
        )),
        "create_hazard" => Call::json(Method::POST, "/api/v1/hazards", &hazard_body(ent, n)),
        "take_hazard_step" => Call::json(
            Method::POST,
            &format!(
                "/api/v1/hazards/{}/rectification",
                fresh_certificate.unwrap_or_else(|| panic!("no fresh hazard"))
            ),
            &json!({"deadline": "2026-03-31", "note": format!("限期整改（{n}）")}),
        ),
        "create_import" => Call {
            uri: format!("/api/v1/imports?dry_run=true&file_name=ledger-{n}.csv"),
            ..Call::csv(&ledger_csv(n))
        },
        "list_imports" => get("/api/v1/imports".into()),
        "get_import_template" => get("/api/v1/imports/templates/enterprises.xlsx".into()),
        "export_enterprises" => get("/api/v1/enterprises/export.csv?area_code=510703".into()),
        "export_certificates" => get("/api/v1/certificates/export.xlsx?status=valid".into()),
        "export_alerts" => get("/api/v1/alerts/export.csv?area_code=510703".into()),
        "get_import" => get(format!("/api/v1/imports/{}", w.import)),
        "create_webhook" => Call::json(
            Method::POST,
            "/api/v1/webhooks",
            &json!({"url": format!("https://receiver.example.gov.cn/safegrade/{n}"),
                    "event_types": ["enterprise.created", "enterprise.updated"],
                    "description": "县局监管平台"}),
        ),
        "list_webhooks" => get("/api/v1/webhooks".into()),
        "get_webhook" => get(format!("/api/v1/webhooks/{}", w.webhook.0)),
        "update_webhook" => Call::json(
            Method::PATCH,
            &format!("/api/v1/webhooks/{}", w.webhook.0),
            &json!({"description": format!("县局监管平台（{n}）")}),
        ),
        "list_deliveries" => get(format!("/api/v1/webhooks/{}/deliveries", w.webhook.0)),
        "redeliver" => Call::json(
            Method::POST,
            &format!(
                "/api/v1/webhooks/{}/deliveries/{}/redelivery",
                w.webhook.0, w.webhook.1
            ),
            &json!({"reason": format!("接收方修复后补发（{n}）")}),
        ),
        other => panic!("no request for operation {other}: add it to the jurisdiction matrix"),
    }
}

/// A fresh token of the matrix's target principal, by id.
pub(crate) fn fresh_token(w: &World, store: &Store) -> String {
    let target = PrincipalId::parse(&w.target).unwrap_or_else(|| panic!("target id"));
    store
        .issue_token(target, None, &Actor::command_line())
        .unwrap_or_else(|e| panic!("{e:?}"))
        .info
        .id
        .to_string()
}

/// Statuses `[anonymous, ROLES…]` of one operation.
type Statuses = [u16; 8];
/// `(operation, inside, outside)`.
type Case = (&'static str, Statuses, Option<Statuses>);

/// Expected statuses: `(operation, inside, outside)`, each `[anonymous, ROLES…]`; `outside`
/// is `None` where the operation has no record in an area.
fn matrix() -> Vec<Case> {
    let all = |ok: u16| [401, ok, ok, ok, ok, ok, ok, ok];
    let admin_only = |ok: u16| [401, ok, 403, 403, 403, 403, 403, 403];
    vec![
        (
            "create_import",
            [401, 202, 202, 202, 403, 403, 202, 403],
            None,
        ),
        ("list_imports", all(200), None),
        ("get_import_template", all(200), None),
        ("export_enterprises", all(200), None),
        ("export_certificates", all(200), None),
        ("export_alerts", all(200), None),
        ("get_import", [401, 200, 404, 404, 404, 404, 404, 404], None),
        (
            "create_webhook",
            [401, 201, 403, 403, 403, 201, 201, 403],
            None,
        ),
        (
            "list_webhooks",
            [401, 200, 403, 403, 403, 200, 200, 403],
            None,
        ),
        (
            "get_webhook",
            [401, 200, 403, 403, 403, 404, 404, 403],
            None,
        ),
        (
            "update_webhook",
            [401, 200, 403, 403, 403, 404, 404, 403],
            None,
        ),
        (
            "list_deliveries",
            [401, 200, 403, 403, 403, 404, 404, 403],
            None,
        ),
        ("redeliver", [401, 202, 403, 403, 403, 404, 404, 403], None),
        ("get_health", [200; 8], None),
        ("get_readiness", [200; 8], None),
        ("list_enterprises", all(200), None),
        (
            "get_enterprise",
            all(200),
            Some([401, 200, 200, 404, 404, 404, 404, 404]),
        ),
        (
            "create_enterprise",
            [401, 201, 201, 201, 403, 403, 201, 403],
            Some([401, 201, 201, 403, 403, 403, 403, 403]),
        ),
        (
            "update_enterprise",
            [401, 200, 200, 200, 403, 403, 200, 403],
            Some([401, 200, 200, 404, 403, 403, 404, 403]),
        ),
        // Inside: to 510704, outside the scoped roles' jurisdiction (403); outside: from it
        // (404).
        (
            "transfer_enterprise",
            [401, 200, 200, 403, 403, 403, 403, 403],
            Some([401, 200, 200, 404, 403, 403, 404, 403]),
        ),
        ("list_areas", all(200), None),
        ("list_reference_lists", all(200), None),
        ("list_reference", all(200), None),
        ("get_me", all(200), None),
        ("list_events", all(200), None),
        ("export_audit_chain", admin_only(200), None),
        ("list_principals", admin_only(200), None),
        ("get_principal", admin_only(200), None),
        ("create_principal", admin_only(201), None),
        ("update_principal", admin_only(200), None),
        ("create_token", admin_only(201), None),
        ("list_tokens", admin_only(200), None),
        ("revoke_token", admin_only(200), None),
        ("list_certificates", all(200), None),
        ("list_calendar_years", all(200), None),
        ("get_calendar_year", all(200), None),
        ("get_working_days", all(200), None),
        ("set_calendar_year", admin_only(200), None),
        ("list_standards", all(200), None),
        ("get_standard", all(200), None),
        ("create_standard", admin_only(201), None),
        ("list_assessments", all(200), None),
        ("compare_assessments", all(200), None),
        ("list_gradings", all(200), None),
        (
            "get_grading",
            all(200),
            Some([401, 200, 200, 404, 404, 404, 404, 404]),
        ),
        (
            "create_grading",
            [401, 201, 201, 201, 201, 403, 201, 403],
            Some([401, 201, 201, 404, 404, 403, 404, 403]),
        ),
        ("list_hazard_criteria", all(200), None),
        ("list_risk_band_tables", all(200), None),
        ("list_risk_units", all(200), None),
        (
            "add_unit_stop",
            [401, 200, 200, 200, 200, 403, 200, 403],
            Some([401, 200, 200, 404, 404, 403, 404, 403]),
        ),
        ("list_inspection_tasks", all(200), None),
        ("list_checklists", all(200), None),
        (
            "get_checklist",
            all(200),
            Some([401, 200, 200, 404, 404, 404, 404, 404]),
        ),
        (
            "list_duty_records",
            all(200),
            Some([401, 200, 200, 404, 404, 404, 404, 404]),
        ),
        (
            "create_checklist",
            [401, 201, 201, 201, 201, 403, 201, 403],
            Some([401, 201, 201, 404, 404, 403, 404, 403]),
        ),
        (
            "create_duty_record",
            [401, 201, 201, 201, 201, 403, 201, 403],
            Some([401, 201, 201, 404, 404, 403, 404, 403]),
        ),
        ("list_inspection_records", all(200), None),
        (
            "get_inspection_task",
            all(200),
            Some([401, 200, 200, 404, 404, 404, 404, 404]),
        ),
        (
            "list_occurrences",
            all(200),
            Some([401, 200, 200, 404, 404, 404, 404, 404]),
        ),
        (
            "create_inspection_task",
            [401, 201, 201, 201, 201, 403, 201, 403],
            Some([401, 201, 201, 404, 404, 403, 404, 403]),
        ),
        (
            "create_inspection_record",
            [401, 201, 201, 201, 201, 403, 201, 403],
            Some([401, 201, 201, 404, 404, 403, 404, 403]),
        ),
        ("list_risks", all(200), None),
        (
            "get_risk_unit",
            all(200),
            Some([401, 200, 200, 404, 404, 404, 404, 404]),
        ),
        (
            "get_risk",
            all(200),
            Some([401, 200, 200, 404, 404, 404, 404, 404]),
        ),
        (
            "list_measures",
            all(200),
            Some([401, 200, 200, 404, 404, 404, 404, 404]),
        ),
        (
            "create_risk_unit",
            [401, 201, 201, 201, 201, 403, 201, 403],
            Some([401, 201, 201, 404, 404, 403, 404, 403]),
        ),
        (
            "create_risk",
            [401, 201, 201, 201, 201, 403, 201, 403],
            Some([401, 201, 201, 404, 404, 403, 404, 403]),
        ),
        (
            "create_measure",
            [401, 201, 201, 201, 201, 403, 201, 403],
            Some([401, 201, 201, 404, 404, 403, 404, 403]),
        ),
        ("list_hazards", all(200), None),
        ("get_hazard_stats", all(200), None),
        ("get_operation_stats", all(200), None),
        ("export_hazard_ledger", all(200), None),
        (
            "get_hazard",
            all(200),
            Some([401, 200, 200, 404, 404, 404, 404, 404]),
        ),
        (
            "create_hazard",
            [401, 201, 201, 201, 201, 403, 201, 403],
            Some([401, 201, 201, 404, 404, 403, 404, 403]),
        ),
        (
            "take_hazard_step",
            [401, 200, 200, 200, 200, 403, 200, 403],
            Some([401, 200, 200, 404, 404, 403, 404, 403]),
        ),
        (
            "take_grading_step",
            [401, 200, 200, 200, 403, 403, 403, 403],
            Some([401, 200, 200, 404, 403, 403, 403, 403]),
        ),
        (
            "get_assessment",
            all(200),
            Some([401, 200, 200, 404, 404, 404, 404, 404]),
        ),
        (
            "create_assessment",
            [401, 201, 201, 201, 201, 403, 201, 403],
            Some([401, 201, 201, 404, 404, 403, 404, 403]),
        ),
        (
            "update_assessment",
            [401, 200, 200, 200, 200, 403, 200, 403],
            Some([401, 200, 200, 404, 404, 404, 404, 404]),
        ),
        (
            "submit_assessment",
            [401, 200, 200, 200, 200, 403, 200, 403],
            Some([401, 200, 200, 404, 404, 404, 404, 404]),
        ),
        (
            "discard_assessment",
            [401, 200, 200, 200, 200, 403, 200, 403],
            Some([401, 200, 200, 404, 404, 404, 404, 404]),
        ),
        ("list_register", [200; 8], None),
        ("list_alerts", all(200), None),
        (
            "get_drive",
            all(200),
            Some([401, 200, 200, 404, 404, 404, 404, 404]),
        ),
        (
            "list_visits",
            all(200),
            Some([401, 200, 200, 404, 404, 404, 404, 404]),
        ),
        (
            "update_drive",
            [401, 200, 200, 200, 403, 403, 200, 403],
            Some([401, 200, 200, 404, 403, 403, 404, 403]),
        ),
        (
            "create_visit",
            [401, 201, 201, 201, 403, 403, 201, 403],
            Some([401, 201, 201, 404, 403, 403, 404, 403]),
        ),
        ("get_attainment_stats", all(200), None),
        ("verify_certificate", [200; 8], None),
        ("list_accidents", all(200), None),
        (
            "renew_certificate",
            [401, 201, 201, 201, 403, 403, 201, 403],
            Some([401, 201, 201, 404, 403, 403, 404, 403]),
        ),
        (
            "upgrade_certificate",
            [401, 201, 201, 201, 403, 403, 201, 403],
            Some([401, 201, 201, 404, 403, 403, 404, 403]),
        ),
        (
            "create_accident",
            [401, 201, 201, 201, 403, 403, 201, 403],
            Some([401, 201, 201, 404, 403, 403, 404, 403]),
        ),
        (
            "get_certificate",
            all(200),
            Some([401, 200, 200, 404, 404, 404, 404, 404]),
        ),
        (
            "create_certificate",
            [401, 201, 201, 201, 403, 403, 201, 403],
            Some([401, 201, 201, 404, 403, 403, 404, 403]),
        ),
        (
            "revoke_certificate",
            [401, 200, 200, 200, 403, 403, 200, 403],
            Some([401, 200, 200, 404, 403, 403, 404, 403]),
        ),
    ]
}

/// Every operation of the spec, for every role and record inside and outside the scope,
/// answers the status the rules say. An operation missing from the matrix fails the test.
async fn jurisdiction_matrix(db: TestDb) {
    let app = test_app_at(db.store.clone(), matrix_today()).await;
    let w = world(&app).await;
    let spec = safegrade_http::openapi();
    let in_spec: BTreeSet<String> = spec
        .paths
        .paths
        .values()
        .flat_map(|item| {
            [&item.get, &item.post, &item.patch, &item.put, &item.delete]
                .into_iter()
                .flatten()
                .filter_map(|op| op.operation_id.clone())
        })
        .collect();
    let table = matrix();
    let in_matrix: BTreeSet<String> = table.iter().map(|(op, ..)| (*op).to_owned()).collect();
    assert_eq!(
        in_spec, in_matrix,
        "every operation of the spec is in the matrix"
    );

    let counter = AtomicU32::new(0);
    let mut wrong = Vec::new();
    for (op, inside, outside) in &table {
        for (is_inside, expected) in [(true, Some(inside)), (false, outside.as_ref())] {
            let Some(expected) = expected else { continue };
            for (col, want) in expected.iter().enumerate() {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let token = col.checked_sub(1).map(|i| w.tokens[i].as_str());
                let ent = if is_inside { &w.inside } else { &w.outside };
                let fresh = if [
                    "revoke_certificate",
                    "renew_certificate",
                    "upgrade_certificate",
                ]
                .contains(op)
                {
                    Some(certificate(&app, ent, &format!("R-{n}")).await)
                } else if ["submit_assessment", "discard_assessment"].contains(op) {
                    Some(assessment(&app, ent, &w.standard).await)
                } else if *op == "add_unit_stop" {
                    Some(created(&app, "/api/v1/risk-units", &unit_body(ent, n)).await)
                } else if *op == "take_hazard_step" {
                    Some(hazard(&app, ent).await)
                } else if *op == "transfer_enterprise" {
                    let area = if is_inside { "510703" } else { "510704" };
                    Some(create(&app, 20_000 + n, area).await)
                } else if *op == "take_grading_step" {
                    let own = if is_inside {
                        &w.submitted.0
                    } else {
                        &w.submitted.1
                    };
                    let g = grading(&app, ent, own).await;
                    if is_inside {
                        assign(&app, &g).await;
                    }
                    Some(g)
                } else {
                    if *op == "create_grading" {
                        close_open(&app, ent).await;
                    }
                    None
                };
                let req = call(op, &w, is_inside, n, &app.store, fresh.as_deref()).build();
                let got = send_as(&app, token, req).await;
                if got.status.as_u16() != *want {
                    wrong.push(format!(
                        "{op} {} as {}: want {want}, got {} {}",
                        if is_inside { "inside" } else { "outside" },
                        col.checked_sub(1).map_or("anonymous", |i| ROLES[i]),
                        got.status.as_u16(),
                        got.body
                    ));
                }
                if got.status == StatusCode::UNAUTHORIZED {
                    assert!(
                        got.header("www-authenticate").starts_with("Bearer"),
                        "401 says how to authenticate"
                    );
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // The world's inside enterprise, with rows in every kind of area-owned table, moves to
    // 510704: each of its rows moves with it (docs/adr/0007).
    let before = safegrade_testkit::area_copies_agree(&db.store);
    let moved = send(
        &app,
        json_request(
            Method::POST,
            &format!("/api/v1/enterprises/{}/transfer", w.inside),
            &json!({"area_code": "510704", "reason": "区划调整"}),
        ),
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert_eq!(safegrade_testkit::area_copies_agree(&db.store), before);
    assert!(before > 100, "rows of every kind were checked: {before}");
}

fn items(r: &Reply) -> Vec<Value> {
    r.body["items"].as_array().cloned().unwrap_or_default()
}

fn ids(r: &Reply) -> BTreeSet<String> {
    items(r)
        .iter()
        .filter_map(|i| i["id"].as_str().map(str::to_owned))
        .collect()
}

/// Lists, filters and event pages contain only records inside the caller's jurisdiction.
async fn nothing_foreign_leaks(db: TestDb) {
    let app = test_app_at(db.store.clone(), matrix_today()).await;
    let w = world(&app).await;
    let outside_code = credit_code(2);
    let get = |uri: &str| TestRequest::get().uri(uri);
    for (role, token) in ROLES.iter().zip(&w.tokens).skip(2) {
        let t = Some(token.as_str());
        let all = send_as(&app, t, get("/api/v1/enterprises")).await;
        assert!(
            !ids(&all).contains(&w.outside),
            "{role} lists a foreign record"
        );
        assert!(ids(&all).contains(&w.inside), "{role} lists its own");
        for probe in [
            "/api/v1/enterprises?area_code=510704".to_owned(),
            format!("/api/v1/enterprises?credit_code={outside_code}"),
            "/api/v1/enterprises?q=%E7%BB%B5%E9%98%B3&area_code=510704".to_owned(),
        ] {
            let r = send_as(&app, t, get(&probe)).await;
            assert_eq!(r.status, StatusCode::OK);
            assert!(items(&r).is_empty(), "{role}: {probe} leaks {}", r.body);
        }
        let certs = send_as(&app, t, get("/api/v1/certificates?limit=200")).await;
        let cert_ids = ids(&certs);
        assert!(
            cert_ids.contains(&w.certificates.0) && !cert_ids.contains(&w.certificates.1),
            "{role}: {}",
            certs.body
        );
        let foreign = send_as(&app, t, get("/api/v1/certificates?area_code=510704")).await;
        assert!(items(&foreign).is_empty(), "{role}: {}", foreign.body);
        // Exports hold the same as the lists.
        for uri in [
            "/api/v1/certificates/export.csv",
            "/api/v1/enterprises/export.csv",
            "/api/v1/alerts/export.csv",
            "/api/v1/hazard-ledger",
        ] {
            let file = send_as(&app, t, get(uri)).await;
            let text = String::from_utf8_lossy(&file.raw);
            assert!(
                !text.contains(&w.outside) && !text.contains(&w.certificates.1),
                "{role}: {uri} leaks"
            );
        }
        let own = send_as(&app, t, get("/api/v1/certificates/export.csv")).await;
        assert!(
            String::from_utf8_lossy(&own.raw).contains(&w.certificates.0),
            "{role}: its own certificate is exported"
        );
        let events = send_as(&app, t, get("/api/v1/events?limit=200")).await;
        for e in items(&events) {
            assert_eq!(e["area_code"], "510703", "{role} sees {e}");
            if *role == "enterprise" {
                assert_eq!(e["enterprise_id"], json!(w.inside), "{role} sees {e}");
            }
        }
        let foreign = send_as(
            &app,
            t,
            get(&format!("/api/v1/events?resource_id={}", w.outside)),
        )
        .await;
        assert!(items(&foreign).is_empty(), "{role}: {}", foreign.body);
    }
    // A city regulator sees every area but not the principals and tokens.
    let city = send_as(&app, Some(&w.tokens[1]), get("/api/v1/events?limit=200")).await;
    let seen: BTreeSet<String> = items(&city)
        .iter()
        .map(|e| {
            e["resource"]["type"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(
        seen,
        BTreeSet::from([
            "assessment".to_owned(),
            "certificate".to_owned(),
            "enterprise".to_owned(),
            "grading".to_owned(),
            "checklist".to_owned(),
            "hazard".to_owned(),
            "inspection_task".to_owned(),
            "risk".to_owned(),
            "risk_unit".to_owned()
        ]),
        "regulated records only"
    );
    assert_eq!(
        ids(&send_as(&app, Some(&w.tokens[1]), get("/api/v1/enterprises")).await).len(),
        2
    );
}

/// Every mutation appends exactly one event, with actor, request id, resource, area and the
/// changed fields; a refused write leaves neither row nor event.
async fn one_event_per_mutation(db: TestDb) {
    let app = test_app(db.store.clone()).await;
    let feed =
        |after: i64| TestRequest::get().uri(&format!("/api/v1/events?after={after}&limit=200"));
    let start = send(&app, feed(0)).await;
    let mark = start.body["next_after"].as_i64().unwrap_or(0);

    let created = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/enterprises",
            &enterprise_body(&credit_code(1)),
        )
        .insert_header(("x-request-id", "req-create-1")),
    )
    .await;
    let id = created.body["id"].as_str().unwrap_or_default().to_owned();
    let uri = format!("/api/v1/enterprises/{id}");
    // Refused writes: a duplicate, an invalid patch, a stale If-Match.
    let dup = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/enterprises",
            &enterprise_body(&credit_code(1)),
        ),
    )
    .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let invalid = send(
        &app,
        json_request(Method::PATCH, &uri, &json!({"scale": "huge"})),
    )
    .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    let stale = send(
        &app,
        json_request(Method::PATCH, &uri, &json!({"employees": 5}))
            .insert_header(("if-match", "\"9\"")),
    )
    .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let patched = send(
        &app,
        json_request(
            Method::PATCH,
            &uri,
            &json!({"employees": 121, "address": null, "reason": "年度核查更新从业人数"}),
        )
        .insert_header(("if-match", "\"1\""))
        .insert_header(("x-request-id", "req-patch-1")),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    let unchanged = send(
        &app,
        json_request(Method::PATCH, &uri, &json!({"employees": 121})),
    )
    .await;
    assert_eq!(unchanged.body["version"], 2, "a no-op patch writes nothing");

    let page = send(&app, feed(mark)).await;
    let events = items(&page);
    let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        types,
        vec!["enterprise.created", "enterprise.updated"],
        "{}",
        page.body
    );
    let me = send(&app, TestRequest::get().uri("/api/v1/me")).await;
    let (c, u) = (&events[0], &events[1]);
    assert_eq!(c["actor"]["principal_id"], me.body["principal"]["id"]);
    assert_eq!(c["actor"]["role"], "city_admin");
    assert_eq!(c["request_id"], "req-create-1");
    assert_eq!(c["resource"], json!({"type": "enterprise", "id": id}));
    assert_eq!(c["area_code"], "510703");
    assert_eq!(c["data"]["credit_code"], json!(credit_code(1)));
    assert_eq!(u["request_id"], "req-patch-1");
    assert_eq!(u["reason"], "年度核查更新从业人数");
    assert_eq!(
        u["data"],
        json!({"version": 2, "changes": {
            "employees": {"old": 120, "new": 121},
            "address": {"old": "绵阳市涪城区示例路1号", "new": null}
        }})
    );
    assert_eq!(page.body["next_after"], u["seq"]);
    crate::assert_record_snapshot!("event_enterprise_updated", u);
    let empty = send(&app, feed(u["seq"].as_i64().unwrap_or(0))).await;
    assert_eq!(empty.body["items"], json!([]));
    assert_eq!(
        empty.body["next_after"], u["seq"],
        "an empty page keeps the position"
    );
    // The list shape: `cursor` / `next_cursor`, with `after` as a deprecated alias.
    let cursor = page.body["next_cursor"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        empty.body["next_cursor"],
        json!(cursor),
        "the same position either way"
    );
    let by_cursor = send(
        &app,
        TestRequest::get().uri(&format!("/api/v1/events?cursor={cursor}")),
    )
    .await;
    assert_eq!(by_cursor.body["items"], json!([]), "{}", by_cursor.body);
    assert_eq!(
        by_cursor.body["next_cursor"],
        json!(cursor),
        "an empty page keeps it"
    );
    let both = send(
        &app,
        TestRequest::get().uri(&format!("/api/v1/events?cursor={cursor}&after=1")),
    )
    .await;
    assert_eq!(both.body["code"], "invalid_query");
    let foreign = send(&app, TestRequest::get().uri("/api/v1/events?cursor=abc")).await;
    assert_eq!(foreign.body["code"], "invalid_query");

    // Filters of the feed.
    let audit = send(
        &app,
        TestRequest::get().uri(&format!(
            "/api/v1/events?resource_type=enterprise&resource_id={id}&types=enterprise.updated"
        )),
    )
    .await;
    assert_eq!(items(&audit).len(), 1, "{}", audit.body);
    let bad = send(
        &app,
        TestRequest::get().uri("/api/v1/events?types=enterprise.deleted"),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["code"], "invalid_query");

    // Principal and token changes are events too, and never carry the token.
    let p = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/principals",
            &json!({"name": "审计", "role": "city_regulator"}),
        ),
    )
    .await;
    let pid = p.body["id"].as_str().unwrap_or_default().to_owned();
    let t = send(
        &app,
        json_request(
            Method::POST,
            &format!("/api/v1/principals/{pid}/tokens"),
            &json!({}),
        ),
    )
    .await;
    let secret = t.body["token"].as_str().unwrap_or_default().to_owned();
    let tid = t.body["id"].as_str().unwrap_or_default().to_owned();
    send(
        &app,
        json_request(
            Method::POST,
            &format!("/api/v1/tokens/{tid}/revocation"),
            &json!({"reason": "人员调岗"}),
        ),
    )
    .await;
    send(
        &app,
        json_request(
            Method::PATCH,
            &format!("/api/v1/principals/{pid}"),
            &json!({"disabled": true}),
        ),
    )
    .await;
    let after = send(&app, feed(u["seq"].as_i64().unwrap_or(0))).await;
    let after_items = items(&after);
    let types: Vec<&str> = after_items
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(
        types,
        vec![
            "principal.created",
            "token.created",
            "token.revoked",
            "principal.updated"
        ]
    );
    assert!(secret.starts_with("sg_"));
    assert!(
        !after.body.to_string().contains(&secret[3..]),
        "no event carries the token"
    );
    assert_eq!(items(&after)[2]["reason"], "人员调岗");
    assert_eq!(
        items(&after)[3]["data"]["changes"]["disabled"],
        json!({"old": false, "new": true})
    );
}

/// A revoked or expired token, or one of a disabled principal, stops working: at once on
/// the node that revoked it, within the cache lifetime on another node.
async fn revoked_expired_and_disabled_tokens_stop_working(db: TestDb) {
    let ttl = Duration::from_millis(300);
    let node1 = test_app_with_cache(db.store.clone(), ttl).await;
    let node2 = test_app_with_cache(db.store.clone(), ttl).await;
    let me = || TestRequest::get().uri("/api/v1/me");
    let (pid, token) = principal(&db.store, json!({"name": "监管", "role": "city_regulator"}));
    let t = Some(token.as_str());
    assert_eq!(send_as(&node1, t, me()).await.status, StatusCode::OK);
    assert_eq!(
        send_as(&node2, t, me()).await.status,
        StatusCode::OK,
        "cached on node 2"
    );
    let tid = send_as(&node1, t, me()).await.body["token"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let revoked = send(
        &node1,
        json_request(
            Method::POST,
            &format!("/api/v1/tokens/{tid}/revocation"),
            &json!({}),
        ),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    let again = send(
        &node1,
        json_request(
            Method::POST,
            &format!("/api/v1/tokens/{tid}/revocation"),
            &json!({}),
        ),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.body["code"], "token_already_revoked");
    let r = send_as(&node1, t, me()).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "at once on the revoking node"
    );
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("revoked")
    );
    assert_eq!(r.body["code"], "unauthenticated");
    let deadline = Instant::now() + ttl + Duration::from_secs(2);
    let stopped_at = loop {
        if send_as(&node2, t, me()).await.status == StatusCode::UNAUTHORIZED {
            break Instant::now();
        }
        assert!(
            Instant::now() < deadline,
            "node 2 still accepts a revoked token"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(stopped_at <= deadline);

    // Expiry needs no cache refresh.
    let issued = db
        .store
        .issue_token(
            pid,
            Some(chrono::Utc::now() + chrono::Duration::milliseconds(700)),
            &Actor::command_line(),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
    let t = Some(issued.secret.as_str());
    assert_eq!(send_as(&node2, t, me()).await.status, StatusCode::OK);
    actix_web::rt::time::sleep(Duration::from_millis(800)).await;
    let r = send_as(&node2, t, me()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("expired"),
        "{}",
        r.body
    );

    // Disabling the principal stops its other tokens.
    let other = db
        .store
        .issue_token(pid, None, &Actor::command_line())
        .unwrap_or_else(|e| panic!("{e:?}"));
    let t = Some(other.secret.as_str());
    assert_eq!(send_as(&node1, t, me()).await.status, StatusCode::OK);
    let off = send(
        &node1,
        json_request(
            Method::PATCH,
            &format!("/api/v1/principals/{pid}"),
            &json!({"disabled": true}),
        ),
    )
    .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(
        send_as(&node1, t, me()).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Garbage and missing tokens.
    for bad in ["sg_tooshort", "Basic abc", ""] {
        let r = send_as(&node1, None, me().insert_header(("authorization", bad))).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{bad}");
    }
    let unknown = format!("sg_{}", "A".repeat(43));
    assert_eq!(
        send_as(&node1, Some(&unknown), me()).await.status,
        StatusCode::UNAUTHORIZED
    );
}

/// Concurrent `PATCH`es with the same `If-Match`: exactly one wins, the rest get 412, and
/// no update is lost.
async fn concurrent_patches_with_one_if_match(db: TestDb) {
    let app = std::rc::Rc::new(test_app(db.store.clone()).await);
    let id = create(&app, 1, "510703").await;
    let uri = format!("/api/v1/enterprises/{id}");
    let futures = (0..16u32).map(|n| {
        let (app, uri) = (app.clone(), uri.clone());
        async move {
            send(
                &*app,
                json_request(Method::PATCH, &uri, &json!({"employees": 200 + n}))
                    .insert_header(("if-match", "\"1\"")),
            )
            .await
        }
    });
    let replies = futures_join_all(futures).await;
    let winners: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .collect();
    let refused = replies
        .iter()
        .filter(|r| r.status == StatusCode::PRECONDITION_FAILED)
        .count();
    assert_eq!((winners.len(), refused), (1, 15));
    let now = send(&*app, TestRequest::get().uri(&uri)).await;
    assert_eq!(now.body["version"], 2);
    assert_eq!(
        now.body["employees"], winners[0].body["employees"],
        "the winner's write stands"
    );
    let events = send(
        &*app,
        TestRequest::get().uri(&format!(
            "/api/v1/events?resource_id={id}&types=enterprise.updated"
        )),
    )
    .await;
    assert_eq!(items(&events).len(), 1);
}

/// The principal and token API: create, list, read, change, issue, list tokens, revoke,
/// `/me`, the last administrator, and validation.
async fn principal_and_token_api(db: TestDb) {
    let app = test_app(db.store.clone()).await;
    let created = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/principals",
            &json!({"name": "涪城区应急管理局", "role": "area_regulator", "area_codes": ["510703"]}),
        ),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        created.header("location"),
        format!("/api/v1/principals/{id}")
    );
    crate::assert_record_snapshot!("principal_created", created.body);
    let issued = send(
        &app,
        json_request(
            Method::POST,
            &format!("/api/v1/principals/{id}/tokens"),
            &json!({"expires_at": "2099-12-31T16:00:00Z"}),
        ),
    )
    .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    insta::assert_json_snapshot!("token_issued", issued.body, {
        ".id" => insta::dynamic_redaction(crate::redact::id),
        ".token" => insta::dynamic_redaction(crate::redact::token),
    });
    let token = issued.body["token"].as_str().unwrap_or_default().to_owned();
    let me = send_as(&app, Some(&token), TestRequest::get().uri("/api/v1/me")).await;
    assert_eq!(me.body["principal"]["id"], json!(id));
    assert_eq!(me.body["token"]["hint"], json!(&token[..7]));
    crate::assert_record_snapshot!("me", me.body);
    let list = send(
        &app,
        TestRequest::get().uri(&format!("/api/v1/principals/{id}/tokens")),
    )
    .await;
    assert_eq!(items_of(&list.body).len(), 1);
    // The first check of a token notes its use, off the request path.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let uri = format!("/api/v1/principals/{id}/tokens");
        let list = send(&app, TestRequest::get().uri(&uri)).await;
        if list.body["items"][0]["last_used_at"].is_string() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "last_used_at never set: {}",
            list.body
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !list.body.to_string().contains(&token[7..]),
        "never the token"
    );

    let listed = send(
        &app,
        TestRequest::get().uri("/api/v1/principals?role=area_regulator"),
    )
    .await;
    assert_eq!(ids(&listed), BTreeSet::from([id.clone()]));
    let page = send(&app, TestRequest::get().uri("/api/v1/principals?limit=1")).await;
    assert_eq!(items(&page).len(), 1);
    assert!(page.body["next_cursor"].is_string());

    let patched = send(
        &app,
        json_request(
            Method::PATCH,
            &format!("/api/v1/principals/{id}"),
            &json!({"area_codes": ["510703", "510704"]}),
        )
        .insert_header(("if-match", "\"1\"")),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["area_codes"], json!(["510703", "510704"]));
    let scoped = send_as(&app, Some(&token), TestRequest::get().uri("/api/v1/me")).await;
    assert_eq!(
        scoped.body["principal"]["area_codes"],
        json!(["510703", "510704"]),
        "a scope change applies at once on this node"
    );

    // Validation: every error at once.
    let bad = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/principals",
            &json!({"name": " ", "role": "integration", "area_codes": ["510700"], "colour": 1}),
        ),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let pointers: BTreeSet<String> = bad.body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["pointer"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        pointers,
        BTreeSet::from(["/name", "/area_codes/0", "/read_only", "/colour"].map(str::to_owned)),
        "{}",
        bad.body
    );
    let missing = send(
        &app,
        json_request(
            Method::POST,
            "/api/v1/principals",
            &json!({"name": "企业", "role": "enterprise", "enterprise_id": "01a222d7-d736-723d-8633-7ed8db80848d"}),
        ),
    )
    .await;
    assert_eq!(
        missing.body["errors"][0]["code"], "unknown_reference",
        "{}",
        missing.body
    );
    let past = send(
        &app,
        json_request(
            Method::POST,
            &format!("/api/v1/principals/{id}/tokens"),
            &json!({"expires_at": "2020-01-01T00:00:00Z"}),
        ),
    )
    .await;
    assert_eq!(past.body["errors"][0]["code"], "not_in_future");

    // The last enabled city_admin stays.
    let admin = send(&app, TestRequest::get().uri("/api/v1/me")).await;
    let admin_id = admin.body["principal"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let last = send(
        &app,
        json_request(
            Method::PATCH,
            &format!("/api/v1/principals/{admin_id}"),
            &json!({"disabled": true}),
        ),
    )
    .await;
    assert_eq!(last.status, StatusCode::CONFLICT);
    assert_eq!(last.body["code"], "last_city_admin");
    assert_eq!(
        send(&app, TestRequest::get().uri("/api/v1/me"))
            .await
            .status,
        StatusCode::OK
    );
    let nobody = send(
        &app,
        TestRequest::get().uri("/api/v1/principals/01a222d7-d736-723d-8633-7ed8db80848d"),
    )
    .await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
}

fn items_of(v: &Value) -> Vec<Value> {
    v["items"].as_array().cloned().unwrap_or_default()
}

/// Creates an enterprise with credit code `n` in `area` straight through `store`.
fn create_in_store(store: &Store, n: u32, area: &str) {
    let data = EnterpriseInput {
        credit_code: Some(credit_code(n)),
        name: Some(format!("企业{n}")),
        area_code: Some(area.into()),
        industry_code: Some("C3011".into()),
        scale: Some("small".into()),
        principal_name: Some("张三".into()),
        ..Default::default()
    }
    .validate(SectorMapping::builtin())
    .unwrap_or_else(|e| panic!("{e:?}"));
    store
        .create_enterprise(&data, &Actor::command_line())
        .unwrap_or_else(|e| panic!("{e:?}"));
}

/// An append in flight in one area (its lock held, a `seq` drawn, not committed) neither
/// blocks writes to another area nor lets a reader's position pass its `seq`; once it ends,
/// the area catches up (docs/adr/0004). PostgreSQL only: SQLite has one writer.
async fn an_append_in_flight_holds_back_only_its_own_area(db: TestDb) {
    use diesel::RunQueryDsl;
    use safegrade_store::events::chain_key;
    if db.kind != Kind::Postgres {
        return;
    }
    create_in_store(&db.store, 1, "510703");
    create_in_store(&db.store, 2, "510704");

    // An append of 510703 in flight: its lock taken and a `seq` drawn, in an open
    // transaction on a connection of its own.
    #[derive(diesel::QueryableByName)]
    struct Drawn {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = db.store.read().unwrap_or_else(|e| panic!("{e}"));
    let sql = |conn: &mut safegrade_store::DbConn, q: String| {
        diesel::sql_query(q)
            .execute(conn)
            .unwrap_or_else(|e| panic!("{e}"));
    };
    sql(&mut conn, "BEGIN".into());
    sql(
        &mut conn,
        format!("SELECT pg_advisory_xact_lock({})", chain_key("510703")),
    );
    let drawn = diesel::sql_query("SELECT nextval(pg_get_serial_sequence('events', 'seq')) AS n")
        .get_result::<Drawn>(&mut conn)
        .unwrap_or_else(|e| panic!("{e}"))
        .n;

    // Another area is written meanwhile (a database-wide lock would hold it up).
    let (done, finished) = std::sync::mpsc::channel();
    let store = db.store.clone();
    std::thread::spawn(move || {
        create_in_store(&store, 3, "510704");
        let _ = done.send(());
    });
    assert!(
        finished.recv_timeout(Duration::from_secs(20)).is_ok(),
        "a write to 510704 waited for the append in flight in 510703"
    );
    let read = |after: FeedPosition| {
        db.store
            .list_events(
                &EventVisibility::All,
                &EventFilter {
                    after,
                    ..Default::default()
                },
                1000,
            )
            .unwrap_or_else(|e| panic!("{e:?}"))
    };
    let page = read(FeedPosition::default());
    assert!(
        page.events.iter().any(|e| e.seq > drawn),
        "the later event of 510704 is read"
    );
    assert!(
        page.position.of("510703") < drawn,
        "510703 stays before the `seq` in flight: {:?}",
        page.position
    );
    assert!(page.position.of("510704") > drawn);

    // The append ends (rolled back here); the next read moves 510703 on, to the newest
    // head.
    sql(&mut conn, "ROLLBACK".into());
    let next = read(page.position);
    assert!(next.events.is_empty());
    let newest = db
        .store
        .chain_heads()
        .unwrap_or_else(|e| panic!("{e:?}"))
        .iter()
        .map(|h| h.last_seq)
        .max()
        .unwrap_or_default();
    assert_eq!(next.position.of("510703"), newest);
    assert_eq!(next.position.floor(), newest, "every chain caught up");
}

/// Follows the feed while writers on two "nodes" (two stores on one database, each with
/// its writer threads) commit concurrently in three areas, and checks that the follower saw
/// every event, each once, in increasing `seq` within each area. Without the ordering
/// guarantee of ADR 0004 (per-area locks, a position per area) a PostgreSQL follower skips
/// events that commit late. The audit chains they grew together stay intact.
async fn feed_skips_nothing_under_concurrent_writers(db: TestDb) {
    let url = DbUrl::parse(&db.url).unwrap_or_else(|e| panic!("{e}"));
    let second = Store::open(&url, &PoolConfig::default()).unwrap_or_else(|e| panic!("{e:?}"));
    let stores = [db.store.clone(), second];
    let writers: Vec<_> = (0..8u32)
        .map(|w| {
            let store = stores[(w % 2) as usize].clone();
            std::thread::spawn(move || {
                for i in 0..40u32 {
                    let area = ["510703", "510704", "510700-GX"][(i % 3) as usize];
                    create_in_store(&store, 100_000 + w * 1000 + i, area);
                }
            })
        })
        .collect();
    let reader = stores[1].clone();
    let follower = std::thread::spawn(move || {
        let mut after = FeedPosition::default();
        let mut seen = Vec::new();
        let mut idle_rounds = 0;
        // Keep following until the writers are done and two reads in a row find nothing.
        loop {
            let page = reader
                .list_events(
                    &EventVisibility::All,
                    &EventFilter {
                        after: after.clone(),
                        ..Default::default()
                    },
                    50,
                )
                .unwrap_or_else(|e| panic!("{e:?}"));
            if page.events.is_empty() {
                idle_rounds += 1;
                if idle_rounds > 200 {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
                after = page.position;
                continue;
            }
            idle_rounds = 0;
            for e in page.events {
                let chain = e.area_code.clone().unwrap_or_else(|| "city".into());
                assert!(e.seq > after.of(&chain), "in order within {chain}");
                seen.push(e.seq);
            }
            after = page.position;
        }
        seen
    });
    for w in writers {
        w.join().unwrap_or_else(|_| panic!("writer panicked"));
    }
    let seen = follower
        .join()
        .unwrap_or_else(|_| panic!("follower panicked"));
    let all: Vec<i64> = db
        .store
        .list_events(&EventVisibility::All, &EventFilter::default(), 1000)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .events
        .into_iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(all.len(), 320, "every create left its event");
    let seen_set: BTreeSet<i64> = seen.iter().copied().collect();
    let missed: Vec<i64> = all
        .iter()
        .filter(|s| !seen_set.contains(s))
        .copied()
        .collect();
    assert!(
        missed.is_empty(),
        "the follower skipped {} events: {missed:?}",
        missed.len()
    );
    assert_eq!(seen.len(), all.len(), "and saw none twice");
    let mut by_area: BTreeMap<String, usize> = BTreeMap::new();
    for e in db
        .store
        .list_events(&EventVisibility::Regulated, &EventFilter::default(), 1000)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .events
    {
        *by_area.entry(e.area_code.unwrap_or_default()).or_default() += 1;
    }
    assert_eq!(by_area.len(), 3);
    assert_eq!(by_area.values().sum::<usize>(), 320);
    // The three chains, started and grown by both nodes at once, are intact, and their
    // heads count every event.
    let verified = safegrade_testkit::verified_chains(&db.store);
    assert_eq!(verified.events, 320);
    let heads = db.store.chain_heads().unwrap_or_else(|e| panic!("{e:?}"));
    let lengths: BTreeMap<String, usize> = heads
        .into_iter()
        .map(|h| (h.chain, usize::try_from(h.length).unwrap_or(0)))
        .collect();
    assert_eq!(lengths, by_area, "each head counts its area's events");
}
