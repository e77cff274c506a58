//! The enterprise ledger (企业台账): create, read, change (JSON Merge Patch) and list.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use safegrade_domain::drives::CreationStage;
use safegrade_domain::grading::{Grade, StandardizationStatus};
use safegrade_domain::{
    CreditCode, Enterprise, EnterpriseId, EnterpriseInput, IndustryCode, MineKind, OperatingStatus,
    Ownership, Scale, Scope, Sector, Violation, ViolationCode as V,
};
use safegrade_store::EnterpriseFilter;
use safegrade_store::ledger::enterprises::insert;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::plumbing::app::AppState;
use crate::plumbing::auth::Caller;
use crate::plumbing::error::{ApiError, ErrorCode, not_found_as};
use crate::plumbing::export::{self, Cell, Format, Sheet};
use crate::plumbing::extract::{IdempotencyKey, IfMatch, JsonObject, PathId};
use crate::plumbing::list::{self, ListResponse};
use crate::plumbing::members::{integer, number, text};
use crate::plumbing::write::Answer;
use safegrade_domain::{Action, CodeList};

/// An enterprise in the ledger.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EnterpriseResponse {
    /// Opaque id (UUIDv7 text).
    #[schema(example = "019ac9a4-5c1e-7d52-8a3f-5b2e6f0a1c3d")]
    pub id: String,
    /// Unified Social Credit Code (统一社会信用代码), normalised: half-width, upper case.
    #[schema(example = "914403001922038216")]
    pub credit_code: String,
    /// Registered name (企业名称).
    #[schema(example = "绵阳市示例建材有限公司")]
    pub name: String,
    /// Supervision area code (监管区域), see `GET /api/v1/areas`.
    #[schema(example = "510703")]
    pub area_code: String,
    /// Address (地址).
    pub address: Option<String>,
    /// GB/T 4754-2017 industry code (国民经济行业代码): section letter and 2–4 digits.
    #[schema(example = "C3011")]
    pub industry_code: String,
    /// Supervision sector (监管行业), derived from `industry_code`; read-only.
    #[schema(value_type = crate::plumbing::codes::Sector)]
    pub sector: Sector,
    /// Kind of non-coal mine (非煤矿山类型); set exactly when `sector` is `non_coal_mine`.
    #[schema(value_type = Option<crate::plumbing::codes::MineKind>)]
    pub mine_kind: Option<MineKind>,
    /// Scale (企业规模).
    #[schema(value_type = crate::plumbing::codes::Scale)]
    pub scale: Scale,
    /// Ownership level (隶属层级).
    #[schema(value_type = crate::plumbing::codes::Ownership)]
    pub ownership: Ownership,
    /// Operating status (生产经营状态).
    #[schema(value_type = crate::plumbing::codes::OperatingStatus)]
    pub operating_status: OperatingStatus,
    /// Principal responsible person (主要负责人).
    pub principal_name: String,
    /// Their phone (mobile or landline).
    pub principal_phone: Option<String>,
    /// Safety manager (安全管理人员).
    pub safety_manager_name: Option<String>,
    /// Their phone.
    pub safety_manager_phone: Option<String>,
    /// Number of employees (从业人员数).
    pub employees: Option<i32>,
    /// WGS-84 latitude.
    pub latitude: Option<f64>,
    /// WGS-84 longitude.
    pub longitude: Option<f64>,
    /// Standardization status (标准化状态) on the server's today, derived from the
    /// enterprise's certificates and accidents; read-only.
    #[schema(value_type = crate::plumbing::codes::StandardizationStatus)]
    pub standardization_status: StandardizationStatus,
    /// The grade in force today (null when none); read-only.
    #[schema(value_type = Option<crate::plumbing::codes::Grade>)]
    pub current_grade: Option<Grade>,
    /// Last day of validity of the current (or last expired) grade; read-only.
    pub grade_valid_until: Option<NaiveDate>,
    /// A supervision focus (纳入监管重点); change it through the drive
    /// (`PATCH /api/v1/enterprises/{id}/drive`).
    pub supervision_focus: bool,
    /// Creation stage (创建阶段); through the drive.
    #[schema(value_type = crate::plumbing::codes::CreationStage)]
    pub creation_stage: CreationStage,
    /// A model enterprise (典型); through the drive.
    pub model_enterprise: bool,
    /// The upgrade target (提档升级目标), if any; through the drive.
    pub upgrade_target: Option<crate::drives::UpgradeTarget>,
    /// Version for `If-Match`; also sent as the `ETag`.
    pub version: i64,
    /// When the record was created (RFC 3339, UTC, microseconds).
    #[serde(serialize_with = "crate::plumbing::instant::serialize")]
    pub created_at: DateTime<Utc>,
    /// When it last changed (RFC 3339, UTC, microseconds).
    #[serde(serialize_with = "crate::plumbing::instant::serialize")]
    pub updated_at: DateTime<Utc>,
}

impl EnterpriseResponse {
    /// The wire form of `e` with its standardization status on `today`.
    pub fn new(e: Enterprise, today: NaiveDate) -> Self {
        let d = e.data;
        let g = e.grading;
        Self {
            standardization_status: g.status(today),
            current_grade: g.grade_on(today),
            grade_valid_until: g.grade_valid_until,
            supervision_focus: e.drive.focus.is_some(),
            creation_stage: e.drive.creation_stage,
            model_enterprise: e.drive.model.is_some(),
            upgrade_target: e
                .drive
                .upgrade_target
                .map(|(grade, year)| crate::drives::UpgradeTarget { grade, year }),
            id: e.id.to_string(),
            credit_code: d.credit_code.to_string(),
            name: d.name,
            area_code: d.area_code,
            address: d.address,
            industry_code: d.industry_code.as_str().to_owned(),
            sector: d.sector,
            mine_kind: d.mine_kind,
            scale: d.scale,
            ownership: d.ownership,
            operating_status: d.operating_status,
            principal_name: d.principal_name,
            principal_phone: d.principal_phone,
            safety_manager_name: d.safety_manager_name,
            safety_manager_phone: d.safety_manager_phone,
            employees: d.employees,
            latitude: d.latitude,
            longitude: d.longitude,
            version: e.version,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// A new enterprise. Unknown fields are rejected; every invalid field is reported at once.
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct EnterpriseCreate {
    /// Unified Social Credit Code (统一社会信用代码), GB 32100-2015; full-width characters,
    /// lower case and surrounding spaces are normalised.
    #[schema(example = "914403001922038216")]
    pub credit_code: String,
    /// Registered name (企业名称), 1–200 characters.
    #[schema(example = "绵阳市示例建材有限公司")]
    pub name: String,
    /// Supervision area code: a county-level division or a park zone, not the city itself.
    #[schema(example = "510703")]
    pub area_code: String,
    /// Address (地址), up to 300 characters.
    pub address: Option<String>,
    /// GB/T 4754-2017 industry code (`C3011`); the sector is derived from it.
    #[schema(example = "C3011")]
    pub industry_code: String,
    /// Required for non-coal mines, refused for everything else.
    #[schema(value_type = Option<crate::plumbing::codes::MineKind>)]
    pub mine_kind: Option<String>,
    /// Scale (企业规模).
    #[schema(value_type = crate::plumbing::codes::Scale)]
    pub scale: String,
    /// Ownership level (隶属层级); `other` when absent.
    #[schema(value_type = Option<crate::plumbing::codes::Ownership>)]
    pub ownership: Option<String>,
    /// Operating status; `operating` when absent.
    #[schema(value_type = Option<crate::plumbing::codes::OperatingStatus>)]
    pub operating_status: Option<String>,
    /// Principal responsible person (主要负责人), up to 50 characters.
    #[schema(example = "张三")]
    pub principal_name: String,
    /// Mainland mobile (`13800000000`) or landline (`0816-2345678`).
    pub principal_phone: Option<String>,
    /// Safety manager (安全管理人员).
    pub safety_manager_name: Option<String>,
    /// Mainland mobile or landline.
    pub safety_manager_phone: Option<String>,
    /// Number of employees, 0–1,000,000.
    pub employees: Option<i64>,
    /// WGS-84 latitude; give both coordinates or neither.
    pub latitude: Option<f64>,
    /// WGS-84 longitude.
    pub longitude: Option<f64>,
}

/// A JSON Merge Patch (RFC 7396) of an enterprise: members present replace the value, `null`
/// clears an optional field (or resets `ownership`/`operating_status` to their default).
/// The result is validated as a whole. `id`, `sector`, `version` and the timestamps are
/// read-only.
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct EnterprisePatch {
    /// See the create request.
    pub credit_code: Option<String>,
    /// See the create request.
    pub name: Option<String>,
    /// Deprecated: a change of area is a transfer; use
    /// `POST /api/v1/enterprises/{id}/transfer`, which requires a reason. Still accepted: the
    /// enterprise is transferred the same way, after the other changes.
    #[deprecated = "use POST /api/v1/enterprises/{id}/transfer"]
    pub area_code: Option<String>,
    /// See the create request.
    pub address: Option<String>,
    /// See the create request.
    pub industry_code: Option<String>,
    /// See the create request.
    #[schema(value_type = Option<crate::plumbing::codes::MineKind>)]
    pub mine_kind: Option<String>,
    /// See the create request.
    #[schema(value_type = Option<crate::plumbing::codes::Scale>)]
    pub scale: Option<String>,
    /// See the create request.
    #[schema(value_type = Option<crate::plumbing::codes::Ownership>)]
    pub ownership: Option<String>,
    /// See the create request.
    #[schema(value_type = Option<crate::plumbing::codes::OperatingStatus>)]
    pub operating_status: Option<String>,
    /// See the create request.
    pub principal_name: Option<String>,
    /// See the create request.
    pub principal_phone: Option<String>,
    /// See the create request.
    pub safety_manager_name: Option<String>,
    /// See the create request.
    pub safety_manager_phone: Option<String>,
    /// See the create request.
    pub employees: Option<i64>,
    /// See the create request.
    pub latitude: Option<f64>,
    /// See the create request.
    pub longitude: Option<f64>,
    /// Why the record changes (变更原因), kept on the `enterprise.updated` event of the audit
    /// trail; not a field of the record. Up to 500 characters.
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// Fields a client may not write.
const READ_ONLY: [&str; 12] = [
    "id",
    "sector",
    "version",
    "created_at",
    "updated_at",
    "standardization_status",
    "current_grade",
    "grade_valid_until",
    "supervision_focus",
    "creation_stage",
    "model_enterprise",
    "upgrade_target",
];

/// Writes the members of a JSON object onto `input` (create and merge patch alike) and
/// returns the members that could not be taken: unknown, read-only or of the wrong type.
fn apply_members(input: &mut EnterpriseInput, body: &Map<String, Value>) -> Vec<Violation> {
    let mut errors = Vec::new();
    for (key, v) in body {
        let k = key.as_str();
        let result = match k {
            "credit_code" => text(k, v).map(|x| input.credit_code = x),
            "name" => text(k, v).map(|x| input.name = x),
            "area_code" => text(k, v).map(|x| input.area_code = x),
            "address" => text(k, v).map(|x| input.address = x),
            "industry_code" => text(k, v).map(|x| input.industry_code = x),
            "mine_kind" => text(k, v).map(|x| input.mine_kind = x),
            "scale" => text(k, v).map(|x| input.scale = x),
            "ownership" => text(k, v).map(|x| input.ownership = x),
            "operating_status" => text(k, v).map(|x| input.operating_status = x),
            "principal_name" => text(k, v).map(|x| input.principal_name = x),
            "principal_phone" => text(k, v).map(|x| input.principal_phone = x),
            "safety_manager_name" => text(k, v).map(|x| input.safety_manager_name = x),
            "safety_manager_phone" => text(k, v).map(|x| input.safety_manager_phone = x),
            "employees" => integer(k, v).map(|x| input.employees = x),
            "latitude" => number(k, v).map(|x| input.latitude = x),
            "longitude" => number(k, v).map(|x| input.longitude = x),
            _ if READ_ONLY.contains(&k) => Err(Violation::field(
                k,
                V::ReadOnly,
                format!("{k} 由系统维护，不能写入"),
            )),
            _ => Err(Violation::field(
                k,
                V::UnknownField,
                format!("{k} 不是企业的字段"),
            )),
        };
        if let Err(e) = result {
            errors.push(e);
        }
    }
    errors
}

/// Applies `body` to `input` and validates the result, reporting each field at most once.
fn build(
    mut input: EnterpriseInput,
    body: &Map<String, Value>,
    state: &AppState,
) -> Result<safegrade_domain::EnterpriseData, ApiError> {
    let errors = apply_members(&mut input, body);
    ApiError::merge_validation(errors, input.validate(state.mapping))
}

fn location(e: &Enterprise) -> String {
    format!("/api/v1/enterprises/{}", e.id)
}

fn with_record(
    mut res: actix_web::HttpResponseBuilder,
    e: Enterprise,
    today: NaiveDate,
) -> HttpResponse {
    res.insert_header((header::ETAG, format!("\"{}\"", e.version)))
        .json(EnterpriseResponse::new(e, today))
}

/// Add an enterprise to the ledger (录入企业).
///
/// Answers 201 with `Location`, `ETag` and the record. With an `Idempotency-Key`, a retry with
/// the same body replays the first answer, and the same key with another body is 422.
#[utoipa::path(
    tag = "enterprises",
    operation_id = "create_enterprise",
    request_body(content = EnterpriseCreate, content_type = "application/json"),
        responses(
        (status = 201, description = "Created", body = EnterpriseResponse,
            headers(("Location" = String, description = "URL of the new record"), ("ETag" = String, description = "Version, quoted"))),
    )
)]
#[post("/enterprises")]
pub async fn create_enterprise(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::WriteLedger)?;
    let body = body.into_inner();
    let data = build(EnterpriseInput::default(), &body, &state)?;
    caller.require_area(&data.area_code)?;
    let actor = caller.actor();
    // Creates of one credit code share a writer thread (see `Store::write_keyed`).
    let thread_key = data.credit_code.to_string();
    let today = state.today();
    crate::plumbing::write::post(&state, &caller, &req, key, &body, &thread_key, move |tx| {
        let e = insert(tx, &data, &actor)?;
        Ok(
            Answer::created(location(&e), &EnterpriseResponse::new(e.clone(), today))?
                .versioned(e.version),
        )
    })
    .await
}

/// Get one enterprise, with its version as `ETag`.
#[utoipa::path(
    tag = "enterprises",
    operation_id = "get_enterprise",
    params(("id" = uuid::Uuid, Path, description = "Enterprise id")),
    responses(
        (status = 200, description = "The record", body = EnterpriseResponse, headers(("ETag" = String, description = "Version, quoted"))),
    )
)]
#[get("/enterprises/{id}")]
pub async fn get_enterprise(
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<EnterpriseId>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.scope();
    let e = state
        .run(move |s| Ok(s.get_enterprise(id, &scope)?))
        .await
        .map_err(not_found_as("enterprise", raw))?;
    Ok(with_record(HttpResponse::Ok(), e, state.today()))
}

/// Change an enterprise with a JSON Merge Patch (RFC 7396).
///
/// Send `If-Match` with the `ETag` you read: if the record changed since, the answer is 412
/// and nothing is written. The patched record is validated as a whole (422 lists every
/// invalid field). A patch that changes nothing keeps the version.
#[utoipa::path(
    tag = "enterprises",
    operation_id = "update_enterprise",
    params(
        ("id" = uuid::Uuid, Path, description = "Enterprise id"),
    ),
    request_body(content = EnterprisePatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed record", body = EnterpriseResponse, headers(("ETag" = String, description = "New version, quoted"))),
    )
)]
#[patch("/enterprises/{id}")]
pub async fn update_enterprise(
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<EnterpriseId>,
    body: JsonObject,
    IfMatch(expected): IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::WriteLedger)?;
    let mut body = body.into_inner();
    let reason = crate::plumbing::members::reason(&mut body);
    let st = state.clone();
    let scope = caller.scope();
    let e = state
        .store
        .update_enterprise(
            id,
            (scope.clone(), caller.actor()),
            expected,
            reason.as_ref().ok().cloned().flatten(),
            move |current: &Enterprise| {
                let built = build(EnterpriseInput::from(&current.data), &body, &st);
                let data = ApiError::also_invalid(reason.err(), built)?;
                if data.area_code != current.data.area_code && !scope.covers_area(&data.area_code) {
                    return Err(ApiError::new(
                        ErrorCode::Forbidden,
                        format!("area {} is outside your jurisdiction", data.area_code),
                    ));
                }
                Ok(data)
            },
        )
        .await
        .map_err(not_found_as("enterprise", raw))?;
    Ok(with_record(HttpResponse::Ok(), e, state.today()))
}

/// A transfer to another supervision area (跨区域移交).
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct TransferCreate {
    /// The supervision area the enterprise moves to: a county-level area or a park zone, not
    /// its current one, inside the caller's jurisdiction.
    #[schema(example = "510704")]
    pub area_code: String,
    /// Why (移交原因), 1–500 characters; recorded on the events of both areas.
    #[schema(example = "企业迁址至游仙区")]
    pub reason: String,
}

/// Transfer an enterprise to another supervision area (跨区域移交).
///
/// The enterprise and everything of it that belongs to an area move together; both areas
/// record `enterprise.transferred` in their own audit chain and event feed, so the area it
/// left sees it go and the area it joined sees it come. The caller needs both areas in its
/// jurisdiction. Send `If-Match` with the `ETag` you read (412 if it changed since); with an
/// `Idempotency-Key`, a retry replays the first answer.
#[utoipa::path(
    tag = "enterprises",
    operation_id = "transfer_enterprise",
    params(("id" = uuid::Uuid, Path, description = "Enterprise id")),
    request_body(content = TransferCreate, content_type = "application/json"),
    responses(
        (status = 200, description = "The enterprise in its new area", body = EnterpriseResponse, headers(("ETag" = String, description = "New version, quoted"))),
    )
)]
#[post("/enterprises/{id}/transfer")]
pub async fn transfer_enterprise(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<EnterpriseId>,
    key: IdempotencyKey,
    IfMatch(expected): IfMatch,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::WriteLedger)?;
    let mut input = safegrade_domain::TransferInput::default();
    let errors = crate::plumbing::members::texts(
        &body,
        &mut [
            ("area_code", &mut input.area_code),
            ("reason", &mut input.reason),
        ],
        "区域移交",
    );
    let (scope, actor, today) = (caller.scope(), caller.actor(), state.today());
    let thread_key = id.to_string();
    crate::plumbing::write::post(&state, &caller, &req, key, &body, &thread_key, move |tx| {
        let e = safegrade_store::ledger::enterprises::transfer_in_scope(
            tx,
            id,
            (&scope, &actor),
            expected,
            |current: &Enterprise| {
                let to =
                    ApiError::merge_validation(errors, input.validate(&current.data.area_code))?;
                if !scope.covers_area(&to.area_code) {
                    return Err(ApiError::new(
                        ErrorCode::Forbidden,
                        format!("area {} is outside your jurisdiction", to.area_code),
                    ));
                }
                Ok(to)
            },
        )
        .map_err(not_found_as("enterprise", raw))?;
        Ok(Answer::ok(&EnterpriseResponse::new(e.clone(), today))?.versioned(e.version))
    })
    .await
}

/// Filters of the ledger list and its export. Unknown parameters are rejected (400).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EnterpriseFilters {
    /// Supervision area code (the list of codes is in the spec).
    pub area_code: Option<String>,
    /// Supervision sector.
    #[param(value_type = Option<crate::plumbing::codes::Sector>)]
    pub sector: Option<Sector>,
    /// GB/T 4754-2017 industry code, exact (`C3011`).
    pub industry_code: Option<String>,
    /// Scale.
    #[param(value_type = Option<crate::plumbing::codes::Scale>)]
    pub scale: Option<Scale>,
    /// Ownership level.
    #[param(value_type = Option<crate::plumbing::codes::Ownership>)]
    pub ownership: Option<Ownership>,
    /// Operating status.
    #[param(value_type = Option<crate::plumbing::codes::OperatingStatus>)]
    pub operating_status: Option<OperatingStatus>,
    /// Credit code, exact (normalised like on input).
    #[param(
        pattern = "^[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{10}$"
    )]
    pub credit_code: Option<String>,
    /// Standardization status on the server's today.
    #[param(value_type = Option<crate::plumbing::codes::StandardizationStatus>)]
    pub standardization_status: Option<StandardizationStatus>,
    /// Grade in force today.
    #[param(value_type = Option<crate::plumbing::codes::Grade>)]
    pub current_grade: Option<Grade>,
    /// Name contains this text (1–100 characters).
    #[param(min_length = 1, max_length = 100, pattern = "\\S")]
    pub q: Option<String>,
}

fn bad_query(message: String) -> ApiError {
    ApiError::new(ErrorCode::InvalidQuery, message)
}

impl EnterpriseFilters {
    fn filter(&self, scope: Scope, today: NaiveDate) -> Result<EnterpriseFilter, ApiError> {
        let area_code = list::area_filter(self.area_code.as_deref())?;
        let industry_code = match &self.industry_code {
            Some(c) => Some(
                IndustryCode::parse(c)
                    .map_err(|e| bad_query(format!("industry_code: {e}")))?
                    .as_str()
                    .to_owned(),
            ),
            None => None,
        };
        let credit_code = match &self.credit_code {
            Some(c) => Some(
                CreditCode::parse(c)
                    .map_err(|e| bad_query(format!("credit_code: {e}")))?
                    .to_string(),
            ),
            None => None,
        };
        let name_contains = match self.q.as_deref().map(str::trim) {
            Some(q) if q.is_empty() || q.chars().count() > 100 => {
                return Err(bad_query("q must be 1-100 characters".into()));
            }
            other => other.map(str::to_owned),
        };
        Ok(EnterpriseFilter {
            scope,
            area_code,
            sector: self.sector,
            industry_code,
            scale: self.scale,
            ownership: self.ownership,
            operating_status: self.operating_status,
            credit_code,
            name_contains,
            standardization_status: self.standardization_status,
            current_grade: self.current_grade,
            today,
        })
    }
}

const CURSOR_KIND: &str = "enterprise";

/// List the ledger (企业台账), filtered, in creation order (ids are time-ordered), with cursor
/// pagination. A cursor stays valid while records are added.
#[utoipa::path(
    tag = "enterprises",
    operation_id = "list_enterprises",
    params(EnterpriseFilters, list::PageParams),
    responses(
        (status = 200, description = "One page", body = ListResponse<EnterpriseResponse>),
    )
)]
#[get("/enterprises")]
pub async fn list_enterprises(
    caller: Caller,
    state: web::Data<AppState>,
    query: list::Paged<EnterpriseFilters>,
) -> Result<HttpResponse, ApiError> {
    let today = state.today();
    let filter = query.filters.filter(caller.scope(), today)?;
    let limit = list::limit(query.limit)?;
    let after = list::id_cursor(CURSOR_KIND, query.cursor.as_deref(), EnterpriseId::parse)?;
    let page = state
        .run(move |s| {
            s.list_enterprises(&filter, after, i64::from(limit))
                .map_err(ApiError::from)
        })
        .await?;
    let next_cursor = list::next_cursor(
        CURSOR_KIND,
        page.has_more,
        page.items.last().map(|e| e.id.to_string()),
    );
    let items = page
        .items
        .into_iter()
        .map(|e| EnterpriseResponse::new(e, today))
        .collect();
    Ok(ListResponse { items, next_cursor }.into_response())
}

/// Headers of the ledger export, in the order of [`export_row`].
const EXPORT_HEADERS: &[&str] = &[
    "统一社会信用代码",
    "企业名称",
    "所属县（市、区）",
    "区域代码",
    "生产经营地址",
    "国民经济行业代码",
    "监管行业",
    "非煤矿山类型",
    "企业规模",
    "隶属层级",
    "生产经营状态",
    "主要负责人",
    "主要负责人联系电话",
    "安全负责人",
    "安全负责人联系电话",
    "从业人数",
    "标准化状态",
    "现行等级",
    "等级有效期至",
    "重点监管",
    "创建阶段",
    "纬度",
    "经度",
    "企业编号",
    "版本",
];

/// One enterprise as a row of the export: codes as regulators read them (labels, area
/// names), the template's headers, so an exported ledger can be imported again.
fn export_row(e: EnterpriseResponse) -> Vec<Cell> {
    vec![
        e.credit_code.into(),
        e.name.into(),
        safegrade_domain::find_area(&e.area_code)
            .map(|a| a.name_zh)
            .unwrap_or_default()
            .into(),
        e.area_code.into(),
        e.address.into(),
        e.industry_code.into(),
        e.sector.label_zh().into(),
        e.mine_kind.map(|k| k.label_zh()).into(),
        e.scale.label_zh().into(),
        e.ownership.label_zh().into(),
        e.operating_status.label_zh().into(),
        e.principal_name.into(),
        e.principal_phone.into(),
        e.safety_manager_name.into(),
        e.safety_manager_phone.into(),
        e.employees.into(),
        e.standardization_status.label_zh().into(),
        e.current_grade.map(|g| g.label_zh()).into(),
        e.grade_valid_until.into(),
        if e.supervision_focus { "是" } else { "否" }.into(),
        e.creation_stage.label_zh().into(),
        e.latitude.into(),
        e.longitude.into(),
        e.id.into(),
        e.version.into(),
    ]
}

/// Export the ledger (导出企业台账) as Excel (`export.xlsx`) or CSV (`export.csv`): the
/// list's filters, only what the caller may see, one row per enterprise in the list's order,
/// Chinese headers (those of the import template) and labels. Streamed: any size.
#[utoipa::path(
    tag = "enterprises",
    operation_id = "export_enterprises",
    params(
        ("format" = String, Path, description = "`xlsx` or `csv`"),
        EnterpriseFilters,
    ),
    responses(
        (status = 200, description = "The ledger as a file", content(
            (crate::plumbing::export::FileBody = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (String = "text/csv"),
        )),
    )
)]
#[get("/enterprises/export.{format}")]
pub async fn export_enterprises(
    caller: Caller,
    state: web::Data<AppState>,
    format: web::Path<String>,
    query: web::Query<EnterpriseFilters>,
) -> Result<HttpResponse, ApiError> {
    let format = Format::parse(&format)?;
    let today = state.today();
    let filter = query.filter(caller.scope(), today)?;
    let pages = export::paged(move |store, after| {
        let page = store.list_enterprises(&filter, after, 1000)?;
        let next = page
            .has_more
            .then(|| page.items.last().map(|e| e.id))
            .flatten();
        let rows = page
            .items
            .into_iter()
            .map(|e| export_row(EnterpriseResponse::new(e, today)))
            .collect();
        Ok((rows, next))
    });
    Ok(export::respond(
        &state,
        format,
        Sheet {
            name: "企业台账",
            headers: EXPORT_HEADERS,
            pages,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_of_wrong_type_unknown_or_read_only_are_reported() {
        let body: Map<String, Value> = serde_json::from_str(
            r#"{"name": 5, "sector": "x", "colour": "red", "employees": 1.5, "address": null}"#,
        )
        .unwrap_or_default();
        let mut input = EnterpriseInput {
            address: Some("a".into()),
            ..Default::default()
        };
        let errs: Vec<(String, V)> = apply_members(&mut input, &body)
            .into_iter()
            .map(|v| (v.pointer, v.code))
            .collect();
        assert_eq!(input.address, None, "null clears");
        assert_eq!(errs.len(), 4);
        assert!(errs.contains(&("/name".into(), V::InvalidType)));
        assert!(errs.contains(&("/sector".into(), V::ReadOnly)));
        assert!(errs.contains(&("/colour".into(), V::UnknownField)));
        assert!(errs.contains(&("/employees".into(), V::InvalidType)));
    }
}
