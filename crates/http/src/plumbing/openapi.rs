//! The OpenAPI 3.1 document: collected from the handlers through `utoipa-actix-web` (so no
//! route can be left out), then completed with the problem responses every operation shares.

use actix_web::dev::{ServiceFactory, ServiceRequest};
use utoipa::OpenApi;
use utoipa::openapi as oa;
use utoipa_actix_web::UtoipaApp;

use safegrade_domain::{AREAS, CodeList, SECTIONS};

use crate::plumbing::error::{ErrorCode, Problem};

/// Media type of problem responses.
pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "SafeGrade API",
        description = "The system of record for safety-production standardization (安全生产标准化) \
regulation in Mianyang: the enterprise ledger (企业台账), supervision areas and reference lists. \
Conventions (errors as RFC 9457 problem+json, cursor pagination, ETag/If-Match, Idempotency-Key) \
are explained in the integrator guide (接入指南) of the book.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
    ),
    tags(
        (name = "enterprises", description = "The enterprise ledger (企业台账)"),
        (name = "reference", description = "Supervision areas and code lists (参考数据)"),
        (name = "certificates", description = "Standardization grades and their certificates: record, renew, upgrade, revoke (标准化等级证书)"),
        (name = "accidents", description = "Production-safety accidents and what they mean for the grades in force (生产安全事故)"),
        (name = "drives", description = "Creation and upgrade drives: supervision focus, creation stage, model enterprises, upgrade targets, guidance visits (创建达标与提档升级)"),
        (name = "alerts", description = "Due actions derived from the records: expiring and expired grades, accidents, follow-ups (提醒)"),
        (name = "statistics", description = "Attainment figures per area and sector (达标情况统计)"),
        (name = "register", description = "The public register of grades and certificate verification, no token (公开查询)"),
        (name = "access", description = "Principals, tokens and the caller (账号与令牌)"),
        (name = "events", description = "The audit trail and change feed (事件流)"),
        (name = "standards", description = "Grading standards as versioned element trees: elements, sub-elements, check items with points, deduction methods, extra deductions and vetoes (评定标准)"),
        (name = "assessments", description = "Assessments in three passes against a standard: self-assessment, review, supervisory check; results item by item, the score computed (评分)"),
        (name = "gradings", description = "Grading applications from application to announcement, each step with its working-day deadline (定级申请)"),
        (name = "risks", description = "The risk register: analysis units per post, process step, device, place or activity; risks scored into four levels; control measures (安全风险分级管控)"),
        (name = "inspections", description = "Inspection tasks on a working-day schedule, their due and missed occurrences, and inspection records (隐患排查任务与排查记录)"),
        (name = "checklists", description = "List-based management: responsibility and work lists of enterprises, posts, governments and departments, and performance records (清单制管理)"),
        (name = "hazards", description = "Hidden hazards from registration to closure, with 五落实, acceptance, extensions and listed supervision, and the major-hazard determination criteria (隐患排查治理)"),
        (name = "calendar", description = "The working-day calendar: each year's holiday arrangement and working-day arithmetic for deadlines (工作日历)"),
        (name = "imports", description = "Ledger files imported in the background, with progress and a report of every row (台账导入)"),
        (name = "webhooks", description = "Signed deliveries of the event log to subscribers, with their attempts and redelivery (事件推送)"),
        (name = "health", description = "Liveness and readiness (健康检查)"),
    ),
    components(schemas(
        Problem,
        crate::plumbing::codes::ErrorCode,
        crate::plumbing::codes::ViolationCode,
        crate::plumbing::codes::Sector,
        crate::plumbing::codes::MineKind,
        crate::plumbing::codes::Scale,
        crate::plumbing::codes::Ownership,
        crate::plumbing::codes::OperatingStatus,
        crate::plumbing::codes::AreaKind,
        crate::plumbing::codes::Role,
        crate::plumbing::codes::EventType,
        crate::plumbing::codes::ResourceType,
        crate::plumbing::codes::Regime,
        crate::plumbing::codes::Grade,
        crate::plumbing::codes::CertificateStatus,
        crate::plumbing::codes::RevocationTrigger,
        crate::plumbing::codes::AuthorityLevel,
        crate::plumbing::codes::AccidentKind,
        crate::plumbing::codes::JobState,
        crate::plumbing::codes::ImportKind,
        crate::plumbing::codes::ImportMode,
        crate::plumbing::codes::ImportOutcome,
        crate::plumbing::codes::WebhookStatus,
        crate::plumbing::codes::RenewalTrack,
        crate::plumbing::codes::AlertKind,
        crate::plumbing::codes::StandardizationStatus,
        crate::plumbing::codes::CreationStage,
        crate::plumbing::codes::AssessmentKind,
        crate::plumbing::codes::AssessmentState,
        crate::plumbing::codes::VetoEffect,
        crate::plumbing::codes::ComparisonFlag,
        crate::plumbing::codes::GradingKind,
        crate::plumbing::codes::GradingState,
        crate::plumbing::codes::GradingStep,
        crate::plumbing::codes::HazardGrade,
        crate::plumbing::codes::HazardSource,
        crate::plumbing::codes::HazardType,
        crate::plumbing::codes::ManagementClass,
        crate::plumbing::codes::HazardState,
        crate::plumbing::codes::HazardStep,
        crate::plumbing::codes::UnitKind,
        crate::plumbing::codes::ControlLevel,
        crate::plumbing::codes::RiskLevel,
        crate::plumbing::codes::RiskMethod,
        crate::plumbing::codes::MeasureMode,
        crate::plumbing::codes::MeasureClass,
        crate::plumbing::codes::CycleUnit,
        crate::plumbing::codes::DayType,
        crate::plumbing::codes::TaskType,
        crate::plumbing::codes::InspectionResult,
        crate::plumbing::codes::OccurrenceStatus,
        crate::plumbing::codes::ChecklistType,
        crate::plumbing::codes::OwnerScope,
    )),
    external_docs(url = "/book/", description = "The SafeGrade book: process guide (zh-CN), integrator guide, error codes, API reference — served by every SafeGrade server"),
    modifiers(&BearerScheme)
)]
struct ApiDoc;

/// Declares the bearer-token security scheme (`Authorization: Bearer sg_…`).
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, spec: &mut oa::OpenApi) {
        use oa::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        spec.components.get_or_insert_with(Default::default).add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A SafeGrade token (`sg_` and 43 characters), issued by a city administrator"))
                    .build(),
            ),
        );
    }
}

/// Registers every route (`crate::routes`) and the base document on a utoipa app.
pub fn register<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    crate::routes::register(app.openapi(ApiDoc::openapi()))
}

/// What kind of operation this is, for the conventions it follows (docs/API-DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// GET: reads.
    Read,
    /// POST that creates a record: `Idempotency-Key`.
    Create,
    /// POST that changes a record's state (revocation, renewal, upgrade): `Idempotency-Key`
    /// and `If-Match`.
    Transition,
    /// PATCH (JSON Merge Patch): `If-Match`.
    Patch,
    /// PUT of a whole record (a calendar year): `If-Match`; idempotent by itself.
    Replace,
}

impl Shape {
    fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Create => "create",
            Self::Transition => "transition",
            Self::Patch => "patch",
            Self::Replace => "replace",
        }
    }

    /// Takes `Idempotency-Key`.
    pub fn idempotent(self) -> bool {
        matches!(self, Self::Create | Self::Transition)
    }

    /// Takes `If-Match`.
    pub fn conditional(self) -> bool {
        matches!(self, Self::Transition | Self::Patch | Self::Replace)
    }
}

/// Every operation's shape and the domain problem codes it can answer (besides those its
/// shape implies). An operation missing here has no `x-conventions` in the spec, which the
/// conventions test refuses: a new operation must say what it is.
pub fn operation_rules(operation_id: &str) -> Option<(Shape, &'static [ErrorCode])> {
    use ErrorCode as C;
    use Shape::{Create, Patch, Read, Replace, Transition};
    Some(match operation_id {
        "get_health"
        | "get_readiness"
        | "list_enterprises"
        | "list_areas"
        | "list_reference_lists"
        | "get_me"
        | "list_principals"
        | "list_events"
        | "list_certificates"
        | "list_accidents"
        | "list_alerts"
        | "get_attainment_stats"
        | "list_calendar_years"
        | "list_standards" => (Read, &[]),
        "get_standard" => (Read, &[C::NotFound]),
        "create_standard" => (Create, &[C::DuplicateStandardVersion]),
        "list_assessments" => (Read, &[]),
        "get_assessment" | "compare_assessments" => (Read, &[C::NotFound]),
        "create_assessment" => (Create, &[C::NotFound]),
        "update_assessment" => (Patch, &[C::NotFound, C::AssessmentNotDraft]),
        "list_gradings" => (Read, &[]),
        "get_grading" => (Read, &[C::NotFound]),
        "create_grading" => (Create, &[C::NotFound, C::GradingNotEligible]),
        "list_hazard_criteria"
        | "list_risk_band_tables"
        | "list_hazards"
        | "list_risk_units"
        | "list_risks"
        | "get_hazard_stats"
        | "export_hazard_ledger"
        | "get_operation_stats" => (Read, &[]),
        "get_risk_unit" | "get_risk" | "list_measures" => (Read, &[C::NotFound]),
        "list_checklists" => (Read, &[]),
        "get_checklist" | "list_duty_records" => (Read, &[C::NotFound]),
        "create_checklist" | "create_duty_record" => (Create, &[C::NotFound]),
        "list_inspection_tasks" | "list_inspection_records" => (Read, &[]),
        "get_inspection_task" => (Read, &[C::NotFound]),
        "list_occurrences" => (Read, &[C::NotFound, C::CalendarYearUnknown]),
        "create_inspection_task" | "create_inspection_record" => (Create, &[C::NotFound]),
        "create_risk_unit" | "create_risk" | "create_measure" => (Create, &[C::NotFound]),
        "add_unit_stop" => (Transition, &[C::NotFound]),
        "get_hazard" => (Read, &[C::NotFound]),
        "create_hazard" => (Create, &[C::NotFound]),
        "take_hazard_step" => (Transition, &[C::NotFound, C::HazardStepNotAllowed]),
        "take_grading_step" => (
            Transition,
            &[
                C::NotFound,
                C::GradingStepNotAllowed,
                C::CalendarYearUnknown,
                C::DuplicateCertificateNumber,
                C::RegradeBarred,
                C::FastTrackNotAllowed,
                C::RenewalClosed,
            ],
        ),
        "submit_assessment" | "discard_assessment" => {
            (Transition, &[C::NotFound, C::AssessmentNotDraft])
        }
        "get_calendar_year" => (Read, &[C::NotFound]),
        "get_working_days" => (Read, &[C::CalendarYearUnknown]),
        "set_calendar_year" => (Replace, &[]),
        "list_reference" | "get_enterprise" | "get_principal" | "list_tokens"
        | "get_certificate" | "get_drive" | "list_visits" => (Read, &[C::NotFound]),
        "list_register" => (Read, &[C::RateLimited]),
        "verify_certificate" => (Read, &[C::NotFound, C::RateLimited]),
        "create_enterprise" => (Create, &[C::DuplicateCreditCode]),
        "update_enterprise" => (Patch, &[C::NotFound, C::DuplicateCreditCode]),
        "transfer_enterprise" => (Transition, &[C::NotFound]),
        "create_principal" => (Create, &[]),
        "update_principal" => (Patch, &[C::NotFound, C::LastCityAdmin]),
        "create_token" => (Create, &[C::NotFound]),
        "revoke_token" => (Transition, &[C::NotFound, C::TokenAlreadyRevoked]),
        "create_certificate" => (
            Create,
            &[C::NotFound, C::DuplicateCertificateNumber, C::RegradeBarred],
        ),
        "revoke_certificate" => (Transition, &[C::NotFound, C::CertificateNotInForce]),
        "renew_certificate" => (
            Transition,
            &[
                C::NotFound,
                C::CertificateNotInForce,
                C::RenewalClosed,
                C::FastTrackNotAllowed,
                C::DuplicateCertificateNumber,
            ],
        ),
        "upgrade_certificate" => (
            Transition,
            &[
                C::NotFound,
                C::CertificateNotInForce,
                C::RenewalClosed,
                C::DuplicateCertificateNumber,
            ],
        ),
        "create_accident" | "create_visit" => (Create, &[C::NotFound]),
        "update_drive" => (Patch, &[C::NotFound, C::StageOutOfOrder]),
        "create_import" => (Create, &[]),
        "list_imports" | "list_webhooks" | "get_import_template" => (Read, &[]),
        "export_enterprises" | "export_certificates" | "export_alerts" | "export_audit_chain" => {
            (Read, &[])
        }
        "get_import" | "get_webhook" | "list_deliveries" => (Read, &[C::NotFound]),
        "create_webhook" => (Create, &[]),
        "update_webhook" => (Patch, &[C::NotFound]),
        "redeliver" => (Create, &[C::NotFound]),
        _ => return None,
    })
}

/// Every operation's Chinese title: the spec's `summary` (Swagger UI and generated clients
/// show it) and the heading of its section in the book's API reference. The English first
/// sentence of the handler's documentation moves to the front of the `description`.
pub fn title_zh(operation_id: &str) -> Option<&'static str> {
    Some(match operation_id {
        "list_accidents" => "查询事故记录",
        "create_accident" => "登记生产安全事故",
        "list_alerts" => "查询提醒",
        "list_areas" => "查询监管区域",
        "list_certificates" => "查询等级证书",
        "create_certificate" => "登记等级证书",
        "get_certificate" => "查看一张证书",
        "renew_certificate" => "复评（再次申请同一等级）",
        "revoke_certificate" => "撤销等级",
        "upgrade_certificate" => "提档升级",
        "list_enterprises" => "查询企业台账",
        "create_enterprise" => "录入企业",
        "get_enterprise" => "查看一家企业",
        "update_enterprise" => "修改企业信息",
        "transfer_enterprise" => "跨区域移交企业",
        "get_drive" => "查看创建与提档升级记录",
        "update_drive" => "修改创建与提档升级记录",
        "list_visits" => "查询督促指导记录",
        "create_visit" => "登记督促指导",
        "list_events" => "查询事件流（审计记录）",
        "export_audit_chain" => "导出审计链（含哈希值，供离线核验）",
        "get_me" => "当前调用方",
        "list_principals" => "查询账号",
        "create_principal" => "新建账号",
        "get_principal" => "查看一个账号",
        "update_principal" => "修改账号",
        "list_tokens" => "查询账号的令牌",
        "create_token" => "签发令牌",
        "list_reference_lists" => "查询代码表目录",
        "list_reference" => "查询一个代码表",
        "list_register" => "公开查询现行等级",
        "verify_certificate" => "核验证书",
        "get_attainment_stats" => "达标情况统计",
        "revoke_token" => "吊销令牌",
        "get_health" => "存活检查",
        "get_readiness" => "就绪检查",
        "list_calendar_years" => "查询工作日历",
        "get_calendar_year" => "查看一年的节假日安排",
        "set_calendar_year" => "设定一年的节假日安排",
        "get_working_days" => "工作日计算",
        "list_standards" => "查询评定标准",
        "get_standard" => "查看评定标准（要素树）",
        "create_standard" => "导入评定标准",
        "list_assessments" => "查询评分",
        "list_gradings" => "查询定级申请",
        "get_grading" => "查看定级申请及期限",
        "create_grading" => "提交定级申请",
        "take_grading_step" => "定级办理（受理、评审、整改、公示、公告等）",
        "compare_assessments" => "评分比对（自评、评审、监督检查）",
        "list_hazard_criteria" => "查询重大事故隐患判定标准",
        "list_risk_band_tables" => "查询风险分级表",
        "get_hazard_stats" => "隐患排查治理统计（季度、年度）与风险四色分布",
        "get_operation_stats" => "双重预防机制运行效果（周评分）",
        "export_hazard_ledger" => "导出隐患排查治理台账（CSV）",
        "create_risk_unit" => "新增风险分析单元",
        "add_unit_stop" => "登记单元检维修、停用时段",
        "create_checklist" => "制定清单",
        "create_import" => "导入台账文件",
        "get_import_template" => "下载企业台账导入模板",
        "export_enterprises" => "导出企业台账",
        "export_certificates" => "导出等级证书",
        "export_alerts" => "导出提醒",
        "list_imports" => "查询导入任务",
        "get_import" => "查看导入进度与报告",
        "create_webhook" => "订阅事件推送",
        "list_webhooks" => "查询事件推送订阅",
        "get_webhook" => "查看一个订阅",
        "update_webhook" => "修改或恢复订阅",
        "list_deliveries" => "查询推送记录",
        "redeliver" => "手动重新推送",
        "list_checklists" => "查询清单",
        "get_checklist" => "查看清单及条目",
        "create_duty_record" => "登记履职记录",
        "list_duty_records" => "查询清单的履职记录",
        "create_inspection_task" => "新增排查任务",
        "list_inspection_tasks" => "查询排查任务及完成情况",
        "get_inspection_task" => "查看排查任务及完成情况",
        "list_occurrences" => "查询排查任务的应查时段（已查、应查未查）",
        "create_inspection_record" => "登记排查记录",
        "list_inspection_records" => "查询排查记录",
        "list_risk_units" => "查询风险分析单元",
        "get_risk_unit" => "查看风险分析单元",
        "create_risk" => "登记风险（辨识与评价）",
        "list_risks" => "查询风险清单",
        "get_risk" => "查看一项风险",
        "create_measure" => "新增管控措施",
        "list_measures" => "查询风险的管控措施",
        "list_hazards" => "查询隐患台账",
        "create_hazard" => "登记隐患",
        "get_hazard" => "查看一项隐患",
        "take_hazard_step" => "隐患治理（整改、验收、延期、挂牌督办等）",
        "get_assessment" => "查看评分及得分",
        "create_assessment" => "开始自评、评审或监督检查",
        "update_assessment" => "填写评分结果",
        "submit_assessment" => "提交评分",
        "discard_assessment" => "作废评分草稿",
        _ => return None,
    })
}

/// The test snapshots: `api__examples__<operationId>.snap` holds a real request and answer of
/// each operation (`tests/api/examples.rs` writes them).
static SNAPSHOTS: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/../../tests/api/snapshots");

/// The example of an operation: `{method, status, request, response}`.
pub fn example(operation_id: &str) -> Option<serde_json::Value> {
    let file = SNAPSHOTS.get_file(format!("api__examples__{operation_id}.snap"))?;
    // An insta snapshot: a YAML header between `---` lines, then the JSON.
    let json = file.contents_utf8()?.splitn(3, "---\n").nth(2)?;
    serde_json::from_str(json).ok()
}

/// Puts an operation's example into the spec: the request body's and the success
/// response's `example`, so Swagger UI's "Try it out" starts from a body that works.
fn add_example(id: &str, op: &mut serde_json::Value) {
    let Some(example) = example(id) else {
        return;
    };
    if !example["request"].is_null()
        && let Some(content) = op.pointer_mut("/requestBody/content/application~1json")
    {
        content["example"] = example["request"].clone();
    }
    let status = example["status"].to_string();
    // Whichever media type the answer has (JSON, or CSV for an export).
    if let Some(content) = op
        .pointer_mut(&format!("/responses/{status}/content"))
        .and_then(|c| c.as_object_mut())
        .and_then(|c| c.values_mut().next())
    {
        content["example"] = example["response"].clone();
    }
}

/// Operations whose body may be left out entirely (an empty body is `{}`).
fn body_optional(operation_id: &str) -> bool {
    matches!(
        operation_id,
        "create_token" | "revoke_token" | "submit_assessment" | "discard_assessment" | "redeliver"
    )
}

/// The problem codes an operation can answer: from its shape (a body, path or query
/// parameters, `Idempotency-Key`, `If-Match`, a token, the database) plus its domain codes.
fn problem_codes(
    path: &str,
    op: &serde_json::Value,
    shape: Shape,
    domain: &[ErrorCode],
) -> Vec<ErrorCode> {
    use ErrorCode as C;
    let params: Vec<&str> = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["in"].as_str())
        .collect();
    let mut codes = vec![C::Internal];
    if path.starts_with("/api/v1/") || path == "/readyz" {
        codes.push(C::ServiceUnavailable);
    }
    if crate::plumbing::auth::is_protected(path) {
        codes.extend([C::Unauthenticated, C::Forbidden]);
    }
    if path.contains('{') {
        codes.push(C::InvalidPath);
    }
    // Every request's query is screened (NUL, UTF-8) before routing.
    if params.contains(&"query") || path.starts_with("/api/") {
        codes.push(C::InvalidQuery);
    }
    if op.get("requestBody").is_some() {
        codes.extend([
            C::MalformedJson,
            C::PayloadTooLarge,
            C::UnsupportedMediaType,
            C::ValidationFailed,
        ]);
    }
    if shape.idempotent() {
        codes.extend([C::InvalidIdempotencyKey, C::IdempotencyKeyReused]);
    }
    if shape.conditional() {
        codes.extend([C::InvalidPrecondition, C::VersionMismatch]);
    }
    codes.extend(domain.iter().copied());
    let mut unique: Vec<ErrorCode> = Vec::new();
    for c in codes {
        if !unique.contains(&c) {
            unique.push(c);
        }
    }
    unique
}

fn header_parameter(name: &str, pattern: &str, description: &str) -> serde_json::Value {
    serde_json::json!({
        "name": name,
        "in": "header",
        "description": description,
        "required": false,
        "schema": {"type": "string", "pattern": pattern}
    })
}

/// Appends header parameters to an operation.
fn extra_params(op: &mut serde_json::Value, extra: Vec<serde_json::Value>) {
    if extra.is_empty() {
        return;
    }
    if let Some(serde_json::Value::Array(list)) = op.as_object_mut().map(|o| {
        o.entry("parameters")
            .or_insert_with(|| serde_json::json!([]))
    }) {
        list.extend(extra);
    }
}

/// The problem response of `status` carrying `codes`.
fn problem_response(codes: &[ErrorCode]) -> serde_json::Value {
    use serde_json::json;
    let names: Vec<String> = codes
        .iter()
        .map(|c| format!("`{c}` {}（{}）", c.label_zh(), c.title()))
        .collect();
    let mut response = json!({
        "description": names.join("; "),
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        "x-problem-codes": codes.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
    });
    let mut headers = serde_json::Map::new();
    let header =
        |description: &str| json!({"description": description, "schema": {"type": "string"}});
    if codes
        .iter()
        .any(|c| matches!(c, ErrorCode::ServiceUnavailable | ErrorCode::RateLimited))
    {
        headers.insert(
            "Retry-After".into(),
            header("Seconds to wait before retrying"),
        );
    }
    if codes.contains(&ErrorCode::VersionMismatch) {
        headers.insert(
            "ETag".into(),
            header("The record's current version, quoted"),
        );
    }
    if codes.contains(&ErrorCode::Unauthenticated) {
        headers.insert(
            "WWW-Authenticate".into(),
            header("`Bearer realm=\"safegrade\"`, with `error=\"invalid_token\"` for a bad token"),
        );
    }
    if !headers.is_empty() {
        response["headers"] = serde_json::Value::Object(headers);
    }
    response
}

/// Completes one operation from its shape: `x-conventions`, the bearer security, the
/// `Idempotency-Key` and `If-Match` parameters, and every problem response with the codes
/// it can carry (`x-problem-codes`).
fn complete_operation(path: &str, op: &mut serde_json::Value) {
    use serde_json::{Value, json};
    let id = op["operationId"].as_str().unwrap_or_default().to_owned();
    let Some((shape, domain)) = operation_rules(&id) else {
        return;
    };
    if body_optional(&id) && op.get("requestBody").is_some() {
        op["requestBody"]["required"] = Value::Bool(false);
    }
    if let Some(title) = title_zh(&id) {
        let english = op["summary"].as_str().unwrap_or_default().trim().to_owned();
        let rest = op["description"]
            .as_str()
            .unwrap_or_default()
            .trim()
            .to_owned();
        op["description"] = Value::from(match (english.is_empty(), rest.is_empty()) {
            (true, _) => rest,
            (false, true) => english,
            (false, false) => format!("{english}\n\n{rest}"),
        });
        op["summary"] = Value::from(title);
    }
    add_example(&id, op);
    op["x-conventions"] = json!({
        "shape": shape.as_str(),
        "domain_codes": domain.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
    });
    // Every operation states its security; `[]` marks the public ones (register, health).
    op["security"] = if crate::plumbing::auth::is_protected(path) {
        json!([{"bearer": []}])
    } else {
        json!([])
    };
    let mut extra = Vec::new();
    if shape.idempotent() {
        extra.push(header_parameter(
            "Idempotency-Key",
            "^[!-~]{1,255}$",
            "Makes retries safe: the same key and body replay the first answer (`Idempotency-Replayed: true`) for 24 hours; the same key with another body is 422",
        ));
    }
    if shape.conditional() {
        extra.push(header_parameter(
            "If-Match",
            "^(\\*|\"[0-9]{1,18}\")$",
            "The ETag you read, like \"3\"; `*` or absent: any version. A stale one is 412, after the body was validated",
        ));
    }
    extra_params(op, extra);
    // A GET answered with an ETag honours If-None-Match (304, no body).
    if shape == Shape::Read && op["responses"]["200"]["headers"].get("ETag").is_some() {
        extra_params(
            op,
            vec![header_parameter(
                "If-None-Match",
                "^(\\*|(W/)?\"[0-9]{1,18}\")(, *(W/)?\"[0-9]{1,18}\")*$",
                "ETags you hold; when one matches, the answer is 304 Not Modified without a body",
            )],
        );
        op["responses"]["304"] = json!({
            "description": "Not modified: `If-None-Match` named the current ETag",
            "headers": {"ETag": {"description": "The current version, quoted", "schema": {"type": "string"}}},
        });
    }
    let mut by_status: std::collections::BTreeMap<u16, Vec<ErrorCode>> =
        std::collections::BTreeMap::new();
    for c in problem_codes(path, op, shape, domain) {
        by_status.entry(c.status().as_u16()).or_default().push(c);
    }
    if let Some(Value::Object(responses)) = op
        .as_object_mut()
        .map(|o| o.entry("responses").or_insert_with(|| json!({})))
    {
        for (status, codes) in by_status {
            responses.insert(status.to_string(), problem_response(&codes));
        }
    }
}

/// Completes the collected document from each operation's shape ([`complete_operation`]),
/// so no handler writes its problem responses or convention headers by hand and none can be
/// wrong; then the constraints the derive cannot say.
pub fn finish(spec: oa::OpenApi) -> oa::OpenApi {
    use serde_json::Value;
    let Ok(mut doc) = serde_json::to_value(&spec) else {
        return spec;
    };
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                if ["get", "post", "patch", "put", "delete"].contains(&method.as_str()) {
                    complete_operation(path, op);
                }
            }
        }
    }
    name_event_payloads(&mut doc);
    name_list_items(&mut doc);
    open_lists(&mut doc);
    // Paths are relative to the server that serves the document.
    doc["servers"] = serde_json::json!([{"url": "/", "description": "The SafeGrade server that serves this document"}]);
    constrain(serde_json::from_value(doc).unwrap_or(spec))
}

/// Code lists that grow with the API (compatibility promise, book 接入指南): a client must
/// accept values it does not know, so their values are published as `x-extensible-enum`
/// (open) instead of `enum` (closed), and generated clients do not reject a new alert kind,
/// event type or error code.
pub const OPEN_LISTS: [&str; 5] = [
    "AlertKind",
    "EventType",
    "ResourceType",
    "ErrorCode",
    "ViolationCode",
];

fn open_lists(doc: &mut serde_json::Value) {
    use serde_json::Value;
    for name in OPEN_LISTS {
        let Some(Value::Object(schema)) = doc.pointer_mut(&format!("/components/schemas/{name}"))
        else {
            continue;
        };
        if let Some(values) = schema.remove("enum") {
            schema.insert("x-extensible-enum".into(), values);
            let description = schema
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim_end()
                .to_owned();
            schema.insert(
                "description".into(),
                Value::from(
                    format!(
                        "{description}\n\nAn open list: new values are added within `/api/v1` \
                     without notice beyond the changelog; treat an unknown value as \
                     \"other\", never as an error."
                    )
                    .trim_start(),
                ),
            );
        }
    }
}

/// Makes a list page's items refer to their named schema (`ListResponse_AlertResponse` →
/// `AlertResponse`) instead of an inline copy, so generated clients have one type per record.
fn name_list_items(doc: &mut serde_json::Value) {
    use serde_json::{Value, json};
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let named: Vec<(String, String)> = schemas
        .keys()
        .filter_map(|k| {
            let item = k.strip_prefix("ListResponse_")?;
            schemas
                .contains_key(item)
                .then(|| (k.clone(), item.to_owned()))
        })
        .collect();
    for (list, item) in named {
        if let Some(items) = schemas
            .get_mut(&list)
            .and_then(|l| l.pointer_mut("/properties/items/items"))
        {
            *items = json!({"$ref": format!("#/components/schemas/{item}")});
        }
    }
}

/// Gives each event type's payload schema a name (`EnterpriseCreatedEvent`, …) and the
/// `EventData` union a discriminator on `type`, so client generators yield one type per event
/// type.
fn name_event_payloads(doc: &mut serde_json::Value) {
    use serde_json::{Value, json};
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let Some(Value::Array(variants)) = schemas
        .get_mut("EventData")
        .and_then(|d| d.get_mut("oneOf"))
        .map(Value::take)
    else {
        return;
    };
    let mut refs = Vec::new();
    let mut mapping = serde_json::Map::new();
    for variant in variants {
        let Some(event_type) = variant
            .pointer("/properties/type/enum/0")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            continue;
        };
        let name: String = event_type
            .split(['.', '_'])
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect::<String>())
                    .unwrap_or_default()
            })
            .collect::<String>()
            + "Event";
        let reference = format!("#/components/schemas/{name}");
        refs.push(json!({"$ref": reference}));
        mapping.insert(event_type, Value::from(reference));
        schemas.insert(name, variant);
    }
    schemas.insert(
        "EventData".into(),
        json!({
            "description": "What happened and its payload: one schema per event `type`.",
            "oneOf": refs,
            "discriminator": {"propertyName": "type", "mapping": mapping},
        }),
    );
}

/// Adds what the derive cannot say: the closed list of supervision-area codes on every
/// `area_code` (bodies: the areas that hold enterprises; filters: every area), and optional
/// headers as plain strings (absent, never `null`).
fn constrain(spec: oa::OpenApi) -> oa::OpenApi {
    use serde_json::Value;
    let Ok(mut doc) = serde_json::to_value(&spec) else {
        return spec;
    };
    let codes = |all: bool| -> Value {
        AREAS
            .iter()
            .filter(|a| all || a.holds_enterprises())
            .map(|a| Value::from(a.code))
            .collect()
    };
    let industry = Value::from(industry_code_pattern());
    for schema in ["EnterpriseCreate", "EnterprisePatch"] {
        for (field, rules) in enterprise_field_rules(codes(false), industry.clone()) {
            let pointer = format!("/components/schemas/{schema}/properties/{field}");
            if let (Some(Value::Object(p)), Value::Object(rules)) =
                (doc.pointer_mut(&pointer), rules)
            {
                p.extend(rules);
            }
        }
    }
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for op in item.values_mut() {
                for param in op
                    .get_mut("parameters")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    // A parameter documented as deprecated is marked so in the spec.
                    if param["description"]
                        .as_str()
                        .is_some_and(|d| d.starts_with("Deprecated"))
                    {
                        param["deprecated"] = Value::Bool(true);
                    }
                    if param["in"] == "query" && param["name"] == "area_code" {
                        param["schema"]["enum"] = codes(true);
                    }
                    if param["in"] == "query" && param["name"] == "industry_code" {
                        param["schema"]["pattern"] = industry.clone();
                    }
                    if param["in"] == "header"
                        && param["schema"]["type"] == serde_json::json!(["string", "null"])
                    {
                        param["schema"]["type"] = Value::from("string");
                    }
                }
            }
        }
    }
    serde_json::from_value(doc).unwrap_or(spec)
}

/// The constraints of the writable enterprise fields, from the domain's limits and tables,
/// so the request schemas say exactly what `EnterpriseInput::validate` enforces (cross-field
/// rules such as `mine_kind` excepted).
fn enterprise_field_rules(
    areas: serde_json::Value,
    industry: serde_json::Value,
) -> Vec<(&'static str, serde_json::Value)> {
    use safegrade_domain::limits;
    use serde_json::json;
    let text = |max: usize| json!({"minLength": 1, "maxLength": max, "pattern": r"\S"});
    let phone = json!({"pattern": "^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?)$"});
    vec![
        (
            "credit_code",
            json!({"pattern": "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"}),
        ),
        ("name", text(limits::NAME)),
        ("area_code", json!({"enum": areas})),
        ("address", text(limits::ADDRESS)),
        ("industry_code", json!({"pattern": industry})),
        ("principal_name", text(limits::PERSON)),
        ("principal_phone", phone.clone()),
        ("safety_manager_name", text(limits::PERSON)),
        ("safety_manager_phone", phone),
        (
            "employees",
            json!({"minimum": 0, "maximum": limits::EMPLOYEES}),
        ),
        (
            "latitude",
            json!({"minimum": limits::LATITUDE.0, "maximum": limits::LATITUDE.1}),
        ),
        (
            "longitude",
            json!({"minimum": limits::LONGITUDE.0, "maximum": limits::LONGITUDE.1}),
        ),
    ]
}

/// A regular expression for GB/T 4754-2017 codes whose division belongs to the section,
/// built from the domain's section table (either letter case; 0–2 more digits).
fn industry_code_pattern() -> String {
    let divisions: Vec<String> = SECTIONS
        .iter()
        .flat_map(|&(letter, first, last, _)| {
            let lower = letter.to_ascii_lowercase();
            (first..=last).map(move |d| format!("[{letter}{lower}]{d:02}"))
        })
        .collect();
    format!("^({})[0-9]{{0,2}}$", divisions.join("|"))
}

/// The OpenAPI document as the server serves it.
pub fn openapi() -> oa::OpenApi {
    let (_, spec) = register(actix_web::App::new().into_utoipa_app()).split_for_parts();
    finish(spec)
}

/// The document as pretty JSON with a final newline: the form of `api/openapi.json`.
pub fn openapi_json() -> String {
    let mut text = openapi().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

use utoipa_actix_web::AppExt;

/// The routes of the document, to tell an unknown path (404) from a known path with another
/// method (405).
#[derive(Debug, Clone)]
pub struct RouteTable {
    routes: Vec<(Vec<Option<String>>, Vec<String>)>,
}

impl RouteTable {
    /// Reads the paths and methods of a document.
    pub fn from_spec(spec: &oa::OpenApi) -> Self {
        let routes = spec
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path
                    .split('/')
                    .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                    .collect();
                let mut methods: Vec<String> = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ]
                .into_iter()
                .filter(|(_, present)| *present)
                .map(|(m, _)| m.to_owned())
                .collect();
                if item.get.is_some() {
                    methods.push("HEAD".into());
                }
                (segments, methods)
            })
            .collect();
        Self { routes }
    }

    /// The methods allowed on `path`, if it matches a documented path.
    pub fn methods_for(&self, path: &str) -> Option<Vec<String>> {
        let parts: Vec<&str> = path.split('/').collect();
        let mut found: Vec<String> = Vec::new();
        for (segments, methods) in &self.routes {
            let matches = segments.len() == parts.len()
                && segments.iter().zip(&parts).all(|(s, p)| match s {
                    Some(lit) => lit == p,
                    None => !p.is_empty(),
                });
            if matches {
                found.extend(
                    methods
                        .iter()
                        .filter(|m| !found.contains(m))
                        .cloned()
                        .collect::<Vec<_>>(),
                );
            }
        }
        (!found.is_empty()).then_some(found)
    }
}
