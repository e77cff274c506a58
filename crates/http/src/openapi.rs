//! The OpenAPI 3.1 document: collected from the handlers through `utoipa-actix-web` (so no
//! route can be left out), then completed with the problem responses every operation shares.

use actix_web::dev::{ServiceFactory, ServiceRequest};
use utoipa::OpenApi;
use utoipa::openapi::{self as oa, Content, RefOr, ResponseBuilder};
use utoipa_actix_web::{UtoipaApp, scope};

use safegrade_domain::{AREAS, SECTIONS};

use crate::error::Problem;
use crate::{
    accidents, alerts, certificates, drives, enterprises, events, health, principals, reference,
    register, stats,
};

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
        license(name = "MIT OR Apache-2.0"),
    ),
    tags(
        (name = "enterprises", description = "The enterprise ledger (企业台账)"),
        (name = "reference", description = "Supervision areas and code lists (参考数据)"),
        (name = "certificates", description = "Standardization grades, their certificates and the accidents that bear on them (标准化等级证书、生产安全事故)"),
        (name = "register", description = "The public register of grades and certificate verification, no token (公开查询)"),
        (name = "access", description = "Principals, tokens and the caller (账号与令牌)"),
        (name = "events", description = "The audit trail and change feed (事件流)"),
        (name = "health", description = "Liveness and readiness"),
    ),
    components(schemas(
        Problem,
        crate::codes::ErrorCode,
        crate::codes::ViolationCode,
        crate::codes::Sector,
        crate::codes::MineKind,
        crate::codes::Scale,
        crate::codes::Ownership,
        crate::codes::OperatingStatus,
        crate::codes::AreaKind,
        crate::codes::Role,
        crate::codes::EventType,
        crate::codes::ResourceType,
        crate::codes::Regime,
        crate::codes::Grade,
        crate::codes::CertificateStatus,
        crate::codes::RevocationTrigger,
        crate::codes::AuthorityLevel,
        crate::codes::AccidentKind,
        crate::codes::RenewalTrack,
        crate::codes::AlertKind,
        crate::codes::StandardizationStatus,
        crate::codes::CreationStage,
    )),
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

/// Registers every route and the base document on a utoipa app.
pub fn register<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.openapi(ApiDoc::openapi())
        .service(health::healthz)
        .service(health::readyz)
        .service(
            scope("/api/v1")
                .service(enterprises::create_enterprise)
                .service(enterprises::list_enterprises)
                .service(enterprises::get_enterprise)
                .service(enterprises::update_enterprise)
                .service(reference::list_areas)
                .service(reference::list_sectors)
                .service(reference::list_scales)
                .service(reference::list_ownership_levels)
                .service(reference::list_mine_kinds)
                .service(reference::list_operating_statuses)
                .service(principals::get_me)
                .service(principals::create_principal)
                .service(principals::list_principals)
                .service(principals::get_principal)
                .service(principals::update_principal)
                .service(principals::create_token)
                .service(principals::list_tokens)
                .service(principals::revoke_token)
                .service(events::list_events)
                .service(certificates::create_certificate)
                .service(certificates::list_certificates)
                .service(certificates::get_certificate)
                .service(certificates::revoke_certificate)
                .service(certificates::renew_certificate)
                .service(certificates::upgrade_certificate)
                .service(accidents::create_accident)
                .service(accidents::list_accidents)
                .service(drives::get_drive)
                .service(drives::update_drive)
                .service(drives::create_visit)
                .service(drives::list_visits)
                .service(alerts::list_alerts)
                .service(stats::get_attainment_stats)
                .service(register::list_register)
                .service(register::verify_certificate),
        )
}

fn problem_response(description: &str) -> RefOr<oa::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            Content::new(Some(RefOr::Ref(oa::Ref::from_schema_name("Problem")))),
        )
        .into()
}

/// Completes the collected document: every operation also documents 500 (`internal`), and
/// every operation that touches the database 503 (`service_unavailable`, with `Retry-After`).
pub fn finish(mut spec: oa::OpenApi) -> oa::OpenApi {
    for (path, item) in spec.paths.paths.iter_mut() {
        let ops = [
            &mut item.get,
            &mut item.post,
            &mut item.patch,
            &mut item.put,
            &mut item.delete,
        ];
        for op in ops.into_iter().flatten() {
            let responses = &mut op.responses.responses;
            responses
                .entry("500".into())
                .or_insert_with(|| problem_response("Unexpected error (`internal`)"));
            if crate::auth::is_protected(path) {
                op.security = Some(vec![oa::security::SecurityRequirement::new(
                    "bearer",
                    Vec::<String>::new(),
                )]);
                responses.entry("401".into()).or_insert_with(|| {
                    problem_response(
                        "No valid token (`unauthenticated`); `WWW-Authenticate: Bearer` says so",
                    )
                });
                responses.entry("403".into()).or_insert_with(|| {
                    problem_response("The caller's role may not do this (`forbidden`)")
                });
            }
            if path.starts_with("/api/v1/") || path == "/readyz" {
                responses.entry("503".into()).or_insert_with(|| {
                    problem_response("The database is unavailable (`service_unavailable`); retry after `Retry-After` seconds")
                });
            }
        }
    }
    constrain(spec)
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
