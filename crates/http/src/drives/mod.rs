//! Creation and upgrade drives (创建达标、提档升级) of one enterprise, and its guidance visits
//! (督促指导).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::NaiveDate;
use safegrade_domain::drives::{CreationStage, Drive, DriveInput, VisitInput};
use safegrade_domain::grading::Grade;
use safegrade_domain::{Action, EnterpriseId, Violation, ViolationCode as V};
use safegrade_store::drives::StoredVisit;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::plumbing::app::AppState;
use crate::plumbing::auth::Caller;
use crate::plumbing::error::{ApiError, not_found_as};
use crate::plumbing::extract::{IdempotencyKey, IfMatch, JsonObject, PathId};
use crate::plumbing::list::ListResponse;
use crate::plumbing::members::{boolean, integer, text};
use crate::plumbing::write::Answer;

/// An upgrade target (提档升级目标).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UpgradeTarget {
    /// The grade aimed at.
    #[schema(value_type = crate::plumbing::codes::Grade)]
    pub grade: Grade,
    /// By which year.
    pub year: i32,
}

/// The creation and upgrade drive of an enterprise.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DriveResponse {
    /// The enterprise.
    pub enterprise_id: String,
    /// A supervision focus (纳入监管重点).
    pub supervision_focus: bool,
    /// Why.
    pub focus_reason: Option<String>,
    /// Since when.
    pub focus_since: Option<NaiveDate>,
    /// Creation stage (创建阶段).
    #[schema(value_type = crate::plumbing::codes::CreationStage)]
    pub creation_stage: CreationStage,
    /// Since when the stage holds.
    pub stage_since: Option<NaiveDate>,
    /// A model enterprise (典型).
    pub model_enterprise: bool,
    /// Why it is a model.
    pub model_note: Option<String>,
    /// The upgrade target, if any.
    pub upgrade_target: Option<UpgradeTarget>,
    /// Version for `If-Match` (0 before the first change); also the `ETag`.
    pub version: i64,
}

impl DriveResponse {
    fn new(id: EnterpriseId, d: Drive, version: i64) -> Self {
        Self {
            enterprise_id: id.to_string(),
            supervision_focus: d.focus.is_some(),
            focus_reason: d.focus.as_ref().map(|(r, _)| r.clone()),
            focus_since: d.focus.map(|(_, s)| s),
            creation_stage: d.creation_stage,
            stage_since: d.stage_since,
            model_enterprise: d.model.is_some(),
            model_note: d.model,
            upgrade_target: d
                .upgrade_target
                .map(|(grade, year)| UpgradeTarget { grade, year }),
            version,
        }
    }
}

/// A JSON Merge Patch of a drive; the result is validated as a whole.
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct DrivePatch {
    /// Make it (or stop it being) a supervision focus; `focus_reason` and `focus_since` go
    /// with `true`.
    pub supervision_focus: Option<bool>,
    /// Why, up to 200 characters.
    pub focus_reason: Option<String>,
    /// Since when, `YYYY-MM-DD`, not after today.
    pub focus_since: Option<NaiveDate>,
    /// Creation stage; `stage_since` goes with every stage but `not_started`.
    #[schema(value_type = Option<crate::plumbing::codes::CreationStage>)]
    pub creation_stage: Option<String>,
    /// Since when, not after today.
    pub stage_since: Option<NaiveDate>,
    /// Make it (or stop it being) a model enterprise; `model_note` goes with `true`.
    pub model_enterprise: Option<bool>,
    /// Why it is a model, up to 200 characters.
    pub model_note: Option<String>,
    /// Target grade (grade_1, grade_2 or grade_3), with `upgrade_target_year`; null clears.
    #[schema(value_type = Option<crate::plumbing::codes::Grade>)]
    pub upgrade_target_grade: Option<String>,
    /// Target year, 2020–2100.
    pub upgrade_target_year: Option<i64>,
}

/// A guidance visit (督促指导).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VisitResponse {
    /// Opaque id.
    pub id: String,
    /// The enterprise.
    pub enterprise_id: String,
    /// When.
    pub visited_on: NaiveDate,
    /// Who visited.
    pub visitor: String,
    /// What was found and asked.
    pub findings: String,
    /// When to follow up (an alert falls due after it unless another visit comes first).
    pub follow_up_on: Option<NaiveDate>,
}

impl From<StoredVisit> for VisitResponse {
    fn from(v: StoredVisit) -> Self {
        Self {
            id: v.id,
            enterprise_id: v.enterprise_id.to_string(),
            visited_on: v.visit.visited_on,
            visitor: v.visit.visitor,
            findings: v.visit.findings,
            follow_up_on: v.visit.follow_up_on,
        }
    }
}

/// Recording a guidance visit.
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct VisitCreate {
    /// When, `YYYY-MM-DD`, not after today.
    pub visited_on: NaiveDate,
    /// Who visited, up to 100 characters.
    pub visitor: String,
    /// What was found and asked, up to 1,000 characters.
    pub findings: String,
    /// When to follow up, after the visit.
    pub follow_up_on: Option<NaiveDate>,
}

fn with_drive(id: EnterpriseId, d: Drive, version: i64) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{version}\"")))
        .json(DriveResponse::new(id, d, version))
}

/// Reads the members of a drive patch onto `input`.
fn drive_members(input: &mut DriveInput, body: &Map<String, Value>) -> Vec<Violation> {
    let mut errors = Vec::new();
    for (key, v) in body {
        let k = key.as_str();
        let result = match k {
            "supervision_focus" => boolean(k, v).map(|x| input.supervision_focus = x),
            "focus_reason" => text(k, v).map(|x| input.focus_reason = x),
            "focus_since" => text(k, v).map(|x| input.focus_since = x),
            "creation_stage" => text(k, v).map(|x| input.creation_stage = x),
            "stage_since" => text(k, v).map(|x| input.stage_since = x),
            "model_enterprise" => boolean(k, v).map(|x| input.model_enterprise = x),
            "model_note" => text(k, v).map(|x| input.model_note = x),
            "upgrade_target_grade" => text(k, v).map(|x| input.upgrade_target_grade = x),
            "upgrade_target_year" => integer(k, v).map(|x| input.upgrade_target_year = x),
            _ => Err(Violation::field(
                k,
                V::UnknownField,
                format!("{k} 不是督促记录的字段"),
            )),
        };
        if let Err(e) = result {
            errors.push(e);
        }
    }
    errors
}

/// The creation and upgrade drive of an enterprise (创建达标与提档升级记录).
#[utoipa::path(
    tag = "drives",
    operation_id = "get_drive",
    params(("id" = uuid::Uuid, Path, description = "Enterprise id")),
    responses(
        (status = 200, description = "The drive (defaults before the first change)", body = DriveResponse, headers(("ETag" = String, description = "Version, quoted"))),
    )
)]
#[get("/enterprises/{id}/drive")]
pub async fn get_drive(
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<EnterpriseId>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.scope();
    let (d, v) = state
        .run(move |s| Ok(s.get_drive(id, &scope)?))
        .await
        .map_err(not_found_as("enterprise", raw))?;
    Ok(with_drive(id, d, v))
}

/// Change the drive of an enterprise with a JSON Merge Patch: supervision focus (纳入监管
/// 重点), creation stage, model enterprise (典型), upgrade target. `If-Match` as elsewhere.
#[utoipa::path(
    tag = "drives",
    operation_id = "update_drive",
    params(
        ("id" = uuid::Uuid, Path, description = "Enterprise id"),
    ),
    request_body(content = DrivePatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed drive", body = DriveResponse, headers(("ETag" = String, description = "New version, quoted"))),
    )
)]
#[patch("/enterprises/{id}/drive")]
pub async fn update_drive(
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<EnterpriseId>,
    IfMatch(expected): IfMatch,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::WriteLedger)?;
    let body = body.into_inner();
    let today = state.today();
    let (d, v) = state
        .store
        .update_drive(
            id,
            (caller.scope(), caller.actor()),
            expected,
            move |current: &Drive| {
                let mut input = DriveInput::from(current);
                let errors = drive_members(&mut input, &body);
                ApiError::merge_validation(errors, input.validate(today))
            },
        )
        .await
        .map_err(not_found_as("enterprise", raw))?;
    Ok(with_drive(id, d, v))
}

/// Record a guidance visit (督促指导) to an enterprise.
#[utoipa::path(
    tag = "drives",
    operation_id = "create_visit",
    params(("id" = uuid::Uuid, Path, description = "Enterprise id")),
    request_body(content = VisitCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Recorded", body = VisitResponse),
    )
)]
#[post("/enterprises/{id}/visits")]
pub async fn create_visit(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<EnterpriseId>,
    key: IdempotencyKey,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::WriteLedger)?;
    let mut input = VisitInput::default();
    let errors = crate::plumbing::members::texts(
        &body,
        &mut [
            ("visited_on", &mut input.visited_on),
            ("visitor", &mut input.visitor),
            ("findings", &mut input.findings),
            ("follow_up_on", &mut input.follow_up_on),
        ],
        "督促指导记录",
    );
    let visit = ApiError::merge_validation(errors, input.validate(state.today()))?;
    let (scope, actor) = (caller.scope(), caller.actor());
    crate::plumbing::write::post(
        &state,
        &caller,
        &req,
        key,
        &body,
        &id.to_string(),
        move |tx| {
            let stored = safegrade_store::drives::record_visit(tx, id, visit, &scope, &actor)
                .map_err(ApiError::from)
                .map_err(not_found_as("enterprise", raw))?;
            let location = format!("/api/v1/enterprises/{id}/visits");
            Answer::created(location, &VisitResponse::from(stored))
        },
    )
    .await
}

/// The guidance visits of an enterprise, oldest first.
#[utoipa::path(
    tag = "drives",
    operation_id = "list_visits",
    params(("id" = uuid::Uuid, Path, description = "Enterprise id")),
    responses(
        (status = 200, description = "Every visit, in one page (`next_cursor` null)", body = ListResponse<VisitResponse>),
    )
)]
#[get("/enterprises/{id}/visits")]
pub async fn list_visits(
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<EnterpriseId>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.scope();
    let visits = state
        .run(move |s| Ok(s.list_visits(id, &scope)?))
        .await
        .map_err(not_found_as("enterprise", raw))?;
    Ok(ListResponse::whole(visits.into_iter().map(VisitResponse::from).collect()).into_response())
}

/// Registers the creation and upgrade drive's operations.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(get_drive)
        .service(update_drive)
        .service(create_visit)
        .service(list_visits);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drive_patches_report_types_and_unknown_fields() {
        let body: Map<String, Value> = serde_json::from_str(
            r#"{"supervision_focus": "yes", "upgrade_target_year": 2025.5, "colour": 1, "model_note": null}"#,
        )
        .unwrap_or_default();
        let mut input = DriveInput::default();
        let errs: Vec<String> = drive_members(&mut input, &body)
            .into_iter()
            .map(|v| v.pointer)
            .collect();
        assert_eq!(
            errs,
            vec!["/colour", "/supervision_focus", "/upgrade_target_year"]
        );
        assert_eq!(input.model_note, None, "null clears");
    }
}
