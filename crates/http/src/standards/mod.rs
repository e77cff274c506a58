//! Grading standards (评定标准): element trees in one documented JSON format, imported by a
//! city administrator (or `safegrade standard import`), read by everyone. A version never
//! changes once stored; a revised standard is a new version.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use safegrade_domain::standards::StandardData;
use safegrade_domain::{Action, StandardId};
use safegrade_store::standards::{StandardSummary, StoredStandard, create, from_value, writer_key};
use serde::Serialize;
use utoipa::ToSchema;

use crate::plumbing::app::AppState;
use crate::plumbing::auth::Caller;
use crate::plumbing::error::{ApiError, not_found_as};
use crate::plumbing::extract::{IdempotencyKey, JsonObject, PathId};
use crate::plumbing::list::ListResponse;
use crate::plumbing::write::Answer;

/// What hitting a veto item does: `no_grade`, or `cap` with the highest grade left.
#[derive(Debug, ToSchema)]
pub struct VetoDoc {
    /// `no_grade` (不予定级) or `cap` (等级封顶).
    #[schema(value_type = crate::plumbing::codes::VetoEffect)]
    pub effect: String,
    /// For `cap`: the highest grade still possible.
    #[schema(value_type = Option<crate::plumbing::codes::Grade>)]
    pub cap: Option<String>,
}

/// A check item (评分项).
#[derive(Debug, ToSchema)]
pub struct ItemDoc {
    /// Its code, unique in the standard.
    #[schema(example = "2.1.1")]
    pub code: String,
    /// What is checked (考评内容), up to 2,000 characters.
    pub text: String,
    /// Its points, 1–1,000.
    #[schema(minimum = 1, maximum = 1000)]
    pub points: u32,
    /// How points are deducted (评分方法), up to 2,000 characters.
    pub method: String,
    /// The most a reviewer may deduct beyond the item, charged to its element (追加扣分),
    /// 1–100.
    #[schema(minimum = 1, maximum = 100)]
    pub extra_deduction_max: Option<u32>,
    /// A veto (否决项), when hitting this item decides the grade.
    pub veto: Option<VetoDoc>,
}

/// A second-level element (二级要素).
#[derive(Debug, ToSchema)]
pub struct SubElementDoc {
    /// Its code.
    #[schema(example = "2.1")]
    pub code: String,
    /// Its title.
    pub title: String,
    /// Its check items (none in a frame).
    pub items: Vec<ItemDoc>,
}

/// A first-level element (一级要素).
#[derive(Debug, ToSchema)]
pub struct ElementDoc {
    /// Its code.
    #[schema(example = "2")]
    pub code: String,
    /// Its title.
    pub title: String,
    /// Its points: must equal the sum of its items' points.
    pub points: u32,
    /// The GB/T 33000 element it implements.
    #[schema(example = "5.1")]
    pub implements: Option<String>,
    /// The lowest rate (0–100) this element must reach for a grade.
    pub min_rate: Option<f64>,
    /// Its second-level elements.
    pub sub_elements: Vec<SubElementDoc>,
}

/// The total score (0–100) each grade needs, falling from 一级 to 三级.
#[derive(Debug, ToSchema)]
pub struct ThresholdsDoc {
    /// 一级.
    #[schema(example = 90)]
    pub grade_1: Option<f64>,
    /// 二级.
    #[schema(example = 75)]
    pub grade_2: Option<f64>,
    /// 三级.
    #[schema(example = 60)]
    pub grade_3: Option<f64>,
    /// 小微达标.
    pub small_micro: Option<f64>,
}

/// A grading standard version: the format of `POST /api/v1/standards`, of `safegrade
/// standard import`, and of `standard` in the answers.
#[derive(Debug, ToSchema)]
pub struct StandardTree {
    /// Its code, the same across versions, up to 50 characters.
    pub code: String,
    /// Its version, up to 30 characters; (code, version) is unique.
    pub version: String,
    /// Its title, up to 200 characters.
    pub title: String,
    /// The sectors it applies to (absent or empty: any).
    #[schema(value_type = Option<Vec<crate::plumbing::codes::Sector>>)]
    pub sectors: Option<Vec<String>>,
    /// The enterprise scales it applies to (absent or empty: any).
    #[schema(value_type = Option<Vec<crate::plumbing::codes::Scale>>)]
    pub scales: Option<Vec<String>>,
    /// Full points: must equal the sum of the elements' points (0 for a frame).
    pub full_points: u32,
    /// Total score per grade (none for a frame).
    pub thresholds: Option<ThresholdsDoc>,
    /// The safety-performance rule (安全绩效) the standard refers to.
    pub performance_rule: Option<String>,
    /// How far back accidents count for the safety-performance grade, in months.
    pub performance_lookback_months: Option<u32>,
    /// Where it comes from, and whether it is official.
    pub source: Option<String>,
    /// The elements.
    pub elements: Vec<ElementDoc>,
}

/// A stored standard version with its tree.
#[derive(Debug, Serialize, ToSchema)]
pub struct StandardResponse {
    /// Id.
    pub id: String,
    /// Shipped with SafeGrade (the GB/T 33000-2016 frame, the demonstration standard).
    pub builtin: bool,
    /// When it was stored (UTC).
    pub created_at: DateTime<Utc>,
    /// The standard.
    #[schema(value_type = StandardTree)]
    pub standard: StandardData,
}

impl From<StoredStandard> for StandardResponse {
    fn from(s: StoredStandard) -> Self {
        Self {
            id: s.standard.id.to_string(),
            builtin: s.builtin,
            created_at: s.created_at,
            standard: s.standard.data,
        }
    }
}

/// A standard version in a list (without its tree).
#[derive(Debug, Serialize, ToSchema)]
pub struct StandardSummaryResponse {
    /// Id.
    pub id: String,
    /// Code.
    pub code: String,
    /// Version.
    pub version: String,
    /// Title.
    pub title: String,
    /// Full points.
    pub full_points: u32,
    /// Check items.
    pub item_count: u32,
    /// Shipped with SafeGrade.
    pub builtin: bool,
    /// When it was stored (UTC).
    pub created_at: DateTime<Utc>,
}

impl From<StandardSummary> for StandardSummaryResponse {
    fn from(s: StandardSummary) -> Self {
        Self {
            id: s.id.to_string(),
            code: s.code,
            version: s.version,
            title: s.title,
            full_points: s.full_points,
            item_count: s.item_count,
            builtin: s.builtin,
            created_at: s.created_at,
        }
    }
}

/// Import a grading standard version (导入评定标准). City administrators only.
///
/// The whole tree in one body. Points must add up (each element's points are its items' sum,
/// the full points the elements' sum); every problem is reported with its JSON Pointer. A
/// version never changes once stored: a revised standard is a new `version` (409
/// `duplicate_standard_version` otherwise).
#[utoipa::path(
    tag = "standards",
    operation_id = "create_standard",
    request_body(content = StandardTree, content_type = "application/json"),
    responses(
        (status = 201, description = "Stored", body = StandardResponse,
            headers(("Location" = String, description = "URL of the standard"))),
    )
)]
#[post("/standards")]
pub async fn create_standard(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::ManageReference)?;
    let data = from_value(serde_json::Value::Object((*body).clone())).map_err(ApiError::invalid)?;
    let actor = caller.actor();
    let thread_key = writer_key(&data);
    crate::plumbing::write::post(&state, &caller, &req, key, &body, &thread_key, move |tx| {
        let s = create(tx, &data, &actor)?;
        let location = format!("/api/v1/standards/{}", s.standard.id);
        Answer::created(location, &StandardResponse::from(s))
    })
    .await
}

/// The stored standard versions, by code and storing order (without their trees).
#[utoipa::path(
    tag = "standards",
    operation_id = "list_standards",
    responses(
        (status = 200, description = "Every stored version", body = ListResponse<StandardSummaryResponse>),
    )
)]
#[get("/standards")]
pub async fn list_standards(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let all = state.run(|s| Ok(s.list_standards()?)).await?;
    Ok(
        ListResponse::whole(all.into_iter().map(StandardSummaryResponse::from).collect())
            .into_response(),
    )
}

/// One standard version with its whole tree.
#[utoipa::path(
    tag = "standards",
    operation_id = "get_standard",
    params(("id" = uuid::Uuid, Path, description = "Standard id")),
    responses(
        (status = 200, description = "The standard", body = StandardResponse, headers(("ETag" = String, description = "Always \"1\": a version never changes"))),
    )
)]
#[get("/standards/{id}")]
pub async fn get_standard(
    state: web::Data<AppState>,
    PathId(id, raw): PathId<StandardId>,
) -> Result<HttpResponse, ApiError> {
    let s = state
        .run(move |s| Ok(s.get_standard(id)?))
        .await
        .map_err(not_found_as("standard", raw))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, "\"1\""))
        .json(StandardResponse::from(s)))
}

/// The standards' operations.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(list_standards)
        .service(create_standard)
        .service(get_standard);
}
