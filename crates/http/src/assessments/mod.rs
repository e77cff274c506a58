//! Assessments (评分): self-assessments (自评), reviews (评审) and supervisory checks (监督检查)
//! of one enterprise against one standard version, filled in item by item while a draft,
//! then submitted (immutable) or discarded. The score is computed on every read.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use safegrade_domain::assessments::{
    AssessmentKind, AssessmentState, ItemResult, Results, may_assess,
};
use safegrade_domain::grading::Grade;
use safegrade_domain::{
    AssessmentId, CodeList, EnterpriseId, GradingId, Role, StandardId, Violation,
    ViolationCode as V,
};
use safegrade_store::assessments::{
    Assessment, AssessmentFilter, AssessmentWithFacts, NewAssessment, create,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::plumbing::app::AppState;
use crate::plumbing::auth::Caller;
use crate::plumbing::error::{
    ApiError, ErrorCode, NO_SUCH_ENTERPRISE, not_found_as, not_found_says,
};
use crate::plumbing::extract::{IdempotencyKey, IfMatch, JsonObject, PathId};
use crate::plumbing::list::{self, ListResponse};
use crate::plumbing::members::text;
use crate::plumbing::write::Answer;

/// One element's outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct ElementScoreResponse {
    /// Its code.
    pub code: String,
    /// Points of its applicable items.
    pub applicable: u32,
    /// Points earned (extra deductions charged, never below zero).
    pub earned: u32,
    /// earned ÷ applicable × 100, one decimal; null when nothing applies.
    pub rate: Option<f64>,
    /// Below the standard's minimum rate for it (then no grade by score).
    pub below_minimum: bool,
}

/// A veto hit.
#[derive(Debug, Serialize, ToSchema)]
pub struct VetoHitResponse {
    /// The item.
    pub item: String,
    /// `no_grade` or `cap`.
    #[schema(value_type = crate::plumbing::codes::VetoEffect)]
    pub effect: String,
    /// For `cap`: the highest grade left.
    #[schema(value_type = Option<crate::plumbing::codes::Grade>)]
    pub cap: Option<Grade>,
}

/// The score and the grade reached, computed from the standard, the results and the
/// enterprise's accidents (book: 评定标准与评分).
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreResponse {
    /// Full points of the standard.
    pub full: u32,
    /// Points of the items marked not applicable (空项).
    pub not_applicable: u32,
    /// Points earned.
    pub earned: u32,
    /// earned ÷ (full − not applicable) × 100, rounded half-up to one decimal.
    pub score: f64,
    /// Per element.
    pub elements: Vec<ElementScoreResponse>,
    /// The grade the score reaches (thresholds, element minimums).
    #[schema(value_type = Option<crate::plumbing::codes::Grade>)]
    pub grade_by_score: Option<Grade>,
    /// Vetoes hit.
    pub vetoes: Vec<VetoHitResponse>,
    /// The safety-performance grade: null when accidents in the look-back window exclude any
    /// grade, else `grade_1` (no limit).
    #[schema(value_type = Option<crate::plumbing::codes::Grade>)]
    pub performance_grade: Option<Grade>,
    /// Why the safety performance excludes a grade.
    pub performance_reasons: Vec<String>,
    /// The lower of the grade by score (capped by vetoes) and the performance grade.
    #[schema(value_type = Option<crate::plumbing::codes::Grade>)]
    pub grade_reached: Option<Grade>,
    /// The day the safety performance is judged on: the submission day, or today for a
    /// draft.
    pub judged_on: NaiveDate,
}

/// One item's result.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ItemResultDoc {
    /// Points deducted, at most the item's points.
    pub deducted: Option<u32>,
    /// Not applicable (空项), with the reason.
    pub not_applicable: Option<String>,
    /// The item's veto was hit.
    pub veto_hit: Option<bool>,
    /// What was seen.
    pub evidence: Option<String>,
}

/// What was recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResultsResponse {
    /// Item code → its result (items without one lost nothing).
    #[schema(value_type = BTreeMap<String, ItemResultDoc>)]
    pub items: BTreeMap<String, ItemResult>,
    /// Element code → extra deductions charged to it (追加扣分).
    pub extra: BTreeMap<String, u32>,
}

/// An assessment.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentResponse {
    /// Id.
    pub id: String,
    /// The enterprise assessed.
    pub enterprise_id: String,
    /// The standard version.
    pub standard_id: String,
    /// `self` (企业自评), `review` (评审) or `regulator` (监督检查).
    #[schema(value_type = crate::plumbing::codes::AssessmentKind)]
    pub kind: AssessmentKind,
    /// `draft`, `submitted` or `discarded`.
    #[schema(value_type = crate::plumbing::codes::AssessmentState)]
    pub state: AssessmentState,
    /// Who assessed (the self-assessment working group, the review team).
    pub assessors: Option<String>,
    /// The grading application a review or check belongs to.
    pub grading_id: Option<String>,
    /// What was recorded.
    pub results: ResultsResponse,
    /// The score and grade (absent for a discarded draft).
    pub result: Option<ScoreResponse>,
    /// Version for `If-Match`; also the `ETag`.
    pub version: i64,
    /// When it was started (UTC).
    pub created_at: DateTime<Utc>,
    /// When it last changed (UTC).
    pub updated_at: DateTime<Utc>,
    /// The day it was submitted.
    pub submitted_on: Option<NaiveDate>,
}

impl AssessmentResponse {
    fn new(a: AssessmentWithFacts, state: &AppState) -> Self {
        let judged_on = a.judged_on(state.today());
        let result = (a.assessment.state != AssessmentState::Discarded).then(|| {
            let s = a.score(state.today(), state.grade_rules);
            ScoreResponse {
                full: s.full,
                not_applicable: s.not_applicable,
                earned: s.earned,
                score: s.score,
                elements: s
                    .elements
                    .into_iter()
                    .map(|e| ElementScoreResponse {
                        code: e.code,
                        applicable: e.applicable,
                        earned: e.earned,
                        rate: e.rate,
                        below_minimum: e.below_minimum,
                    })
                    .collect(),
                grade_by_score: s.grade_by_score,
                vetoes: s
                    .vetoes
                    .into_iter()
                    .map(|(item, effect, cap)| VetoHitResponse {
                        item,
                        effect: effect.as_str().into(),
                        cap,
                    })
                    .collect(),
                performance_grade: s.performance_grade,
                performance_reasons: s.performance_reasons,
                grade_reached: s.grade_reached,
                judged_on,
            }
        });
        Self::from_parts(a.assessment, result)
    }

    fn from_parts(x: Assessment, result: Option<ScoreResponse>) -> Self {
        Self {
            id: x.id.to_string(),
            enterprise_id: x.enterprise_id.to_string(),
            standard_id: x.standard_id.to_string(),
            kind: x.kind,
            state: x.state,
            assessors: x.assessors,
            grading_id: x.grading_id.map(|g| g.to_string()),
            results: ResultsResponse {
                items: x.results.items,
                extra: x.results.extra,
            },
            result,
            version: x.version,
            created_at: x.created_at,
            updated_at: x.updated_at,
            submitted_on: x.submitted_on,
        }
    }
}

fn answer(a: AssessmentWithFacts, state: &AppState) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", a.assessment.version)))
        .json(AssessmentResponse::new(a, state))
}

/// Starting an assessment.
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct AssessmentCreate {
    /// The enterprise (in the caller's jurisdiction).
    pub enterprise_id: String,
    /// The standard version to score against (one that applies to the enterprise's sector
    /// and scale, and has check items).
    pub standard_id: String,
    /// `self` (企业自评), `review` (评审) or `regulator` (监督检查).
    #[schema(value_type = crate::plumbing::codes::AssessmentKind)]
    pub kind: String,
    /// Who assesses: the self-assessment working group led by the principal, with employee
    /// representatives (定级办法 自评), or the review team; up to 500 characters.
    pub assessors: Option<String>,
    /// The grading application a `review` or `regulator` pass belongs to (same enterprise);
    /// required for a review organisation (`reviewer`), which may review only the
    /// applications assigned to it. The application's `review` step then rests on it.
    pub grading_id: Option<String>,
}

/// A change to a draft's results (JSON Merge Patch of `results`): per item code the result
/// (or null to clear it), per element code the extra deduction (or null).
#[derive(Debug, ToSchema)]
pub struct AssessmentPatch {
    /// Item code → its result, or null to clear.
    #[schema(value_type = Option<BTreeMap<String, ItemResultDoc>>)]
    pub items: Option<Value>,
    /// Element code → extra deduction, or null to clear.
    #[schema(value_type = Option<BTreeMap<String, u32>>)]
    pub extra: Option<Value>,
}

/// 403 unless the caller may record an assessment of `kind`.
fn require_kind(caller: &Caller, kind: AssessmentKind) -> Result<(), ApiError> {
    let d = &caller.principal.data;
    if may_assess(d.role, d.read_only, kind) {
        Ok(())
    } else {
        Err(caller.forbidden(&format!("不能做{}", kind.label_zh())))
    }
}

/// 403 unless the caller may change an assessment of `kind` belonging to `grading`: a
/// review organisation only the reviews of an application (its scope already limits those
/// to the applications assigned to it).
fn require(
    caller: &Caller,
    kind: AssessmentKind,
    grading: Option<GradingId>,
) -> Result<(), ApiError> {
    require_kind(caller, kind)?;
    if caller.principal.data.role == Role::Reviewer && grading.is_none() {
        return Err(caller.forbidden("只能填写指派给本机构的定级申请的评审"));
    }
    Ok(())
}

/// Start an assessment (开始自评、评审或监督检查): a draft with no results yet.
///
/// The enterprise may start its own self-assessment; regulators any kind within their
/// jurisdiction; a read-write integration self-assessments and reviews; a review
/// organisation (`reviewer`) reviews of the applications assigned to it (`grading_id`).
#[utoipa::path(
    tag = "assessments",
    operation_id = "create_assessment",
    request_body(content = AssessmentCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Started", body = AssessmentResponse,
            headers(("Location" = String, description = "URL of the assessment"), ("ETag" = String, description = "Version, quoted"))),
    )
)]
#[post("/assessments")]
pub async fn create_assessment(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let (mut enterprise, mut standard, mut kind, mut assessors, mut grading) =
        (None, None, None, None, None);
    let errors = crate::plumbing::members::texts(
        &body,
        &mut [
            ("enterprise_id", &mut enterprise),
            ("standard_id", &mut standard),
            ("kind", &mut kind),
            ("assessors", &mut assessors),
            ("grading_id", &mut grading),
        ],
        "评分",
    );
    let mut violations = errors;
    let mut id_of = |field: &str, raw: Option<String>| -> Option<String> {
        match raw {
            None => {
                violations.push(Violation::field(
                    field,
                    V::Required,
                    format!("{field} 为必填"),
                ));
                None
            }
            Some(r) if uuid::Uuid::try_parse(&r).is_err() => {
                violations.push(Violation::field(
                    field,
                    V::InvalidValue,
                    format!("'{r}' 不是 id"),
                ));
                None
            }
            Some(r) => Some(r),
        }
    };
    let enterprise = id_of("enterprise_id", enterprise).and_then(|r| EnterpriseId::parse(&r));
    let standard = id_of("standard_id", standard).and_then(|r| StandardId::parse(&r));
    let grading = match grading {
        None => None,
        raw => id_of("grading_id", raw).and_then(|r| GradingId::parse(&r)),
    };
    let kind = match kind.as_deref().map(str::parse::<AssessmentKind>) {
        None => {
            violations.push(Violation::field(
                "kind",
                V::Required,
                "kind 为必填：self、review 或 regulator",
            ));
            None
        }
        Some(Err(e)) => {
            violations.push(Violation::field("kind", V::InvalidValue, e.to_string()));
            None
        }
        Some(Ok(k)) => Some(k),
    };
    let assessors = assessors
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty());
    if assessors.as_ref().is_some_and(|a| a.chars().count() > 500) {
        violations.push(Violation::field(
            "assessors",
            V::TooLong,
            "assessors 最多 500 个字符",
        ));
    }
    let (Some(enterprise_id), Some(standard_id), Some(kind), true) =
        (enterprise, standard, kind, violations.is_empty())
    else {
        return Err(ApiError::invalid(violations));
    };
    require_kind(&caller, kind)?;
    if caller.principal.data.role == Role::Reviewer && grading.is_none() {
        return Err(ApiError::invalid(vec![Violation::field(
            "grading_id",
            V::Required,
            "评审机构的评审须写明所属定级申请（grading_id）",
        )]));
    }
    let new = NewAssessment {
        enterprise_id,
        standard_id,
        kind,
        assessors,
        grading_id: grading,
    };
    let (scope, actor, st) = (caller.scope(), caller.actor(), state.clone());
    crate::plumbing::write::post(
        &state,
        &caller,
        &req,
        key,
        &body,
        &enterprise_id.to_string(),
        move |tx| {
            let a = create(tx, &new, &scope, &actor)
                .map_err(ApiError::from)
                .map_err(not_found_says(NO_SUCH_ENTERPRISE))?;
            let (location, version) = (
                format!("/api/v1/assessments/{}", a.assessment.id),
                a.assessment.version,
            );
            Ok(Answer::created(location, &AssessmentResponse::new(a, &st))?.versioned(version))
        },
    )
    .await
}

/// Filters and paging of the assessment list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssessmentQuery {
    /// Only this enterprise.
    pub enterprise_id: Option<uuid::Uuid>,
    /// Only this pass.
    #[param(value_type = Option<crate::plumbing::codes::AssessmentKind>)]
    pub kind: Option<AssessmentKind>,
    /// Only this state.
    #[param(value_type = Option<crate::plumbing::codes::AssessmentState>)]
    pub state: Option<AssessmentState>,
    /// Only the reviews and checks of this grading application.
    pub grading_id: Option<uuid::Uuid>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const CURSOR_KIND: &str = "assessment";

/// The assessments in the caller's jurisdiction, oldest first, without their scores (read
/// one for its score).
#[utoipa::path(
    tag = "assessments",
    operation_id = "list_assessments",
    params(AssessmentQuery),
    responses(
        (status = 200, description = "One page", body = ListResponse<AssessmentSummary>),
    )
)]
#[get("/assessments")]
pub async fn list_assessments(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<AssessmentQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (limit, after) = list::paging(q.limit, q.cursor.as_deref(), CURSOR_KIND)?;
    let filter = AssessmentFilter {
        scope: caller.scope(),
        enterprise_id: q
            .enterprise_id
            .and_then(|u| EnterpriseId::parse(&u.to_string())),
        kind: q.kind,
        state: q.state,
        grading_id: q.grading_id.and_then(|u| GradingId::parse(&u.to_string())),
    };
    let rows = state
        .run(move |s| Ok(s.list_assessments(&filter, after, i64::from(limit) + 1)?))
        .await?;
    let rows = rows.into_iter().map(AssessmentSummary::from).collect();
    let page = list::page(rows, limit, CURSOR_KIND, |a: &AssessmentSummary| {
        a.id.clone()
    });
    Ok(HttpResponse::Ok().json(page))
}

/// An assessment in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentSummary {
    /// Id.
    pub id: String,
    /// The enterprise.
    pub enterprise_id: String,
    /// The standard version.
    pub standard_id: String,
    /// Which pass.
    #[schema(value_type = crate::plumbing::codes::AssessmentKind)]
    pub kind: AssessmentKind,
    /// Where it stands.
    #[schema(value_type = crate::plumbing::codes::AssessmentState)]
    pub state: AssessmentState,
    /// The grading application a review or check belongs to.
    pub grading_id: Option<String>,
    /// Version.
    pub version: i64,
    /// The day it was submitted.
    pub submitted_on: Option<NaiveDate>,
}

impl From<Assessment> for AssessmentSummary {
    fn from(a: Assessment) -> Self {
        Self {
            id: a.id.to_string(),
            enterprise_id: a.enterprise_id.to_string(),
            standard_id: a.standard_id.to_string(),
            kind: a.kind,
            state: a.state,
            grading_id: a.grading_id.map(|g| g.to_string()),
            version: a.version,
            submitted_on: a.submitted_on,
        }
    }
}

/// One assessment with its results and its score (computed now: a draft on today, a
/// submitted one on its submission day).
#[utoipa::path(
    tag = "assessments",
    operation_id = "get_assessment",
    params(("id" = uuid::Uuid, Path, description = "Assessment id")),
    responses(
        (status = 200, description = "The assessment", body = AssessmentResponse, headers(("ETag" = String, description = "Version, quoted"))),
    )
)]
#[get("/assessments/{id}")]
pub async fn get_assessment(
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<AssessmentId>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.scope();
    let a = state
        .run(move |s| Ok(s.get_assessment(id, &scope)?))
        .await
        .map_err(not_found_as("assessment", raw))?;
    Ok(answer(a, &state))
}

/// Applies a merge patch of `items` / `extra` to `results`.
fn merge(results: &Results, body: &Map<String, Value>) -> Result<Results, ApiError> {
    let mut out = results.clone();
    let mut errors = Vec::new();
    for (key, value) in body {
        match (key.as_str(), value) {
            ("items", Value::Object(items)) => {
                for (code, v) in items {
                    let at = |m: &str| format!("/items{}/{m}", safegrade_domain::pointer_to(code));
                    match v {
                        Value::Null => {
                            out.items.remove(code);
                        }
                        Value::Object(fields) => {
                            let mut r = out.items.get(code).cloned().unwrap_or_default();
                            for (m, v) in fields {
                                let bad = |what: &str| Violation {
                                    pointer: at(m),
                                    code: V::InvalidType,
                                    message: format!("{m} 须为{what}"),
                                };
                                match m.as_str() {
                                    "deducted" => {
                                        match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
                                            Some(n) => r.deducted = n,
                                            None if v.is_null() => r.deducted = 0,
                                            None => errors.push(bad("非负整数")),
                                        }
                                    }
                                    "not_applicable" => match text(m, v) {
                                        Ok(t) => r.not_applicable = t,
                                        Err(_) => errors.push(bad("字符串（空项的理由）")),
                                    },
                                    "evidence" => match text(m, v) {
                                        Ok(t) => r.evidence = t,
                                        Err(_) => errors.push(bad("字符串")),
                                    },
                                    "veto_hit" => match v {
                                        Value::Bool(b) => r.veto_hit = *b,
                                        Value::Null => r.veto_hit = false,
                                        _ => errors.push(bad(" true 或 false")),
                                    },
                                    _ => errors.push(Violation {
                                        pointer: at(m),
                                        code: V::UnknownField,
                                        message: format!("{m} 不是评分项结果的字段"),
                                    }),
                                }
                            }
                            out.items.insert(code.clone(), r);
                        }
                        _ => errors.push(Violation {
                            pointer: format!("/items{}", safegrade_domain::pointer_to(code)),
                            code: V::InvalidType,
                            message: "每个评分项的结果须为对象或 null".into(),
                        }),
                    }
                }
            }
            ("extra", Value::Object(extra)) => {
                for (code, v) in extra {
                    match v {
                        Value::Null => {
                            out.extra.remove(code);
                        }
                        v => match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
                            Some(n) => {
                                out.extra.insert(code.clone(), n);
                            }
                            None => errors.push(Violation {
                                pointer: format!("/extra{}", safegrade_domain::pointer_to(code)),
                                code: V::InvalidType,
                                message: "追加扣分须为非负整数或 null".into(),
                            }),
                        },
                    }
                }
            }
            ("items" | "extra", Value::Null) => {}
            ("items" | "extra", _) => errors.push(Violation::field(
                key,
                V::InvalidType,
                format!("{key} 须为对象"),
            )),
            _ => errors.push(Violation::field(
                key,
                V::UnknownField,
                format!("{key} 不是评分的可改字段（只有 items 和 extra）"),
            )),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::invalid(errors))
    }
}

/// The kind and application of an assessment the caller can see (404 otherwise), for the
/// permission check.
async fn kind_of(
    state: &AppState,
    caller: &Caller,
    id: AssessmentId,
    raw: String,
) -> Result<(AssessmentKind, Option<GradingId>), ApiError> {
    let scope = caller.scope();
    state
        .run(move |s| {
            let a = s.get_assessment(id, &scope)?.assessment;
            Ok((a.kind, a.grading_id))
        })
        .await
        .map_err(not_found_as("assessment", raw))
}

/// Record results in a draft (填写评分结果): a JSON Merge Patch of `items` (per item code:
/// `deducted`, `not_applicable` with the reason, `veto_hit`, `evidence`) and `extra` (per
/// element code: extra deductions). Checked against the standard.
#[utoipa::path(
    tag = "assessments",
    operation_id = "update_assessment",
    params(("id" = uuid::Uuid, Path, description = "Assessment id")),
    request_body(content = AssessmentPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed assessment", body = AssessmentResponse, headers(("ETag" = String, description = "New version, quoted"))),
    )
)]
#[patch("/assessments/{id}")]
pub async fn update_assessment(
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<AssessmentId>,
    IfMatch(expected): IfMatch,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let (kind, grading) = kind_of(&state, &caller, id, raw.clone()).await?;
    require(&caller, kind, grading)?;
    let body = body.into_inner();
    let a = state
        .store
        .update_assessment(
            id,
            (caller.scope(), caller.actor()),
            expected,
            move |current: &Results, _| merge(current, &body),
        )
        .await
        .map_err(not_found_as("assessment", raw))?;
    Ok(answer(a, &state))
}

/// Submitting or discarding: the body may only say why (`reason`, kept on the event).
#[derive(Debug, ToSchema)]
pub struct AssessmentSettle {
    /// Why, up to 500 characters.
    pub reason: Option<String>,
}

async fn settle(
    (req, caller, state, key, body): (
        HttpRequest,
        Caller,
        web::Data<AppState>,
        IdempotencyKey,
        JsonObject,
    ),
    (id, raw, expected): (AssessmentId, String, Option<i64>),
    to: AssessmentState,
) -> Result<HttpResponse, ApiError> {
    let reason = crate::plumbing::members::reason_only(&body, "提交或作废请求")?;
    let (kind, grading) = kind_of(&state, &caller, id, raw.clone()).await?;
    require(&caller, kind, grading)?;
    let today = state.today();
    let rules = state.grade_rules;
    let (scope, actor, st) = (caller.scope(), caller.actor(), state.clone());
    crate::plumbing::write::post(
        &state,
        &caller,
        &req,
        key,
        &body,
        &id.to_string(),
        move |tx| {
            let a = safegrade_store::assessments::settle(
                tx,
                id,
                (&scope, &actor, reason),
                expected,
                (to, today),
                |a| {
                    let s = a.score(today, rules);
                    (
                        Some(s.score),
                        s.grade_reached.map(|g| g.as_str().to_owned()),
                    )
                },
            )
            .map_err(ApiError::from)
            .map_err(not_found_as("assessment", raw))?;
            let version = a.assessment.version;
            Ok(Answer::ok(&AssessmentResponse::new(a, &st))?.versioned(version))
        },
    )
    .await
}

/// Submit an assessment (提交评分): it never changes again; the score is judged on today.
#[utoipa::path(
    tag = "assessments",
    operation_id = "submit_assessment",
    params(("id" = uuid::Uuid, Path, description = "Assessment id")),
    request_body(content = AssessmentSettle, content_type = "application/json"),
    responses(
        (status = 200, description = "The submitted assessment", body = AssessmentResponse, headers(("ETag" = String, description = "New version, quoted"))),
    )
)]
#[post("/assessments/{id}/submission")]
pub async fn submit_assessment(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<AssessmentId>,
    key: IdempotencyKey,
    IfMatch(expected): IfMatch,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    settle(
        (req, caller, state, key, body),
        (id, raw, expected),
        AssessmentState::Submitted,
    )
    .await
}

/// Discard a draft (作废评分草稿).
#[utoipa::path(
    tag = "assessments",
    operation_id = "discard_assessment",
    params(("id" = uuid::Uuid, Path, description = "Assessment id")),
    request_body(content = AssessmentSettle, content_type = "application/json"),
    responses(
        (status = 200, description = "The discarded draft", body = AssessmentResponse, headers(("ETag" = String, description = "New version, quoted"))),
    )
)]
#[post("/assessments/{id}/discard")]
pub async fn discard_assessment(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<AssessmentId>,
    key: IdempotencyKey,
    IfMatch(expected): IfMatch,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    settle(
        (req, caller, state, key, body),
        (id, raw, expected),
        AssessmentState::Discarded,
    )
    .await
}

/// Which assessments to compare.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CompareQuery {
    /// Two or three assessment ids, comma-separated: passes of one enterprise on one
    /// standard version, each of another kind.
    pub ids: String,
    /// Rate points from which a difference is flagged, 1–100 (default 15).
    #[param(minimum = 1, maximum = 100)]
    pub margin: Option<f64>,
}

/// One pass in a comparison.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComparedPass {
    /// The assessment.
    pub id: String,
    /// Which pass.
    #[schema(value_type = crate::plumbing::codes::AssessmentKind)]
    pub kind: AssessmentKind,
    /// Where it stands.
    #[schema(value_type = crate::plumbing::codes::AssessmentState)]
    pub state: AssessmentState,
    /// Its score.
    pub score: f64,
    /// The grade it reaches.
    #[schema(value_type = Option<crate::plumbing::codes::Grade>)]
    pub grade_reached: Option<Grade>,
}

/// One element across the passes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComparedElement {
    /// Its code.
    pub code: String,
    /// Its title.
    pub title: String,
    /// Pass kind → its rate (null when nothing applies).
    pub rates: BTreeMap<String, Option<f64>>,
}

/// A difference worth a look.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComparisonFlagResponse {
    /// `lenient_review` (评审偏宽) or `optimistic_self` (自评偏高).
    #[schema(value_type = crate::plumbing::codes::ComparisonFlag)]
    pub kind: safegrade_domain::assessments::ComparisonFlag,
    /// The element.
    pub element: String,
    /// The pass that rated higher.
    #[schema(value_type = crate::plumbing::codes::AssessmentKind)]
    pub higher: AssessmentKind,
    /// The pass it is compared with.
    #[schema(value_type = crate::plumbing::codes::AssessmentKind)]
    pub lower: AssessmentKind,
    /// The difference in rate points.
    pub difference: f64,
}

/// Passes of one enterprise on one standard, element by element.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComparisonResponse {
    /// The enterprise.
    pub enterprise_id: String,
    /// The standard version.
    pub standard_id: String,
    /// The margin used.
    pub margin: f64,
    /// The passes, as asked.
    pub passes: Vec<ComparedPass>,
    /// Per element, the rate of each pass.
    pub elements: Vec<ComparedElement>,
    /// Differences at or above the margin.
    pub flags: Vec<ComparisonFlagResponse>,
}

/// Compare the passes (评分比对): the self-assessment, the review and the regulator's
/// check of one enterprise on one standard, element by element; an element the review rates
/// `margin` points or more above the regulator is flagged `lenient_review`, one the
/// self-assessment rates that far above the review (or the regulator) `optimistic_self`.
#[utoipa::path(
    tag = "assessments",
    operation_id = "compare_assessments",
    params(CompareQuery),
    responses(
        (status = 200, description = "The comparison", body = ComparisonResponse),
    )
)]
#[get("/assessments/compare")]
pub async fn compare_assessments(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<CompareQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let invalid = |m: String| ApiError::new(ErrorCode::InvalidQuery, m);
    let margin = q
        .margin
        .unwrap_or(safegrade_domain::assessments::DEFAULT_MARGIN);
    if !(1.0..=100.0).contains(&margin) {
        return Err(invalid(format!(
            "margin must be between 1 and 100, got {margin}"
        )));
    }
    let ids: Vec<AssessmentId> = q
        .ids
        .split(',')
        .map(|raw| {
            AssessmentId::parse(raw.trim())
                .ok_or_else(|| invalid(format!("ids: '{raw}' is not an assessment id")))
        })
        .collect::<Result<_, _>>()?;
    if !(2..=3).contains(&ids.len()) {
        return Err(invalid("ids: give two or three assessment ids".into()));
    }
    let scope = caller.scope();
    let all = state
        .run(move |s| {
            ids.iter()
                .map(|id| s.get_assessment(*id, &scope).map_err(ApiError::from))
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(not_found_says(
            "one of the assessments does not exist or is outside your jurisdiction",
        ))?;
    let first = &all[0].assessment;
    if all.iter().any(|a| {
        a.assessment.enterprise_id != first.enterprise_id
            || a.assessment.standard_id != first.standard_id
    }) {
        return Err(invalid(
            "ids: the assessments must be of one enterprise on one standard version".into(),
        ));
    }
    let mut kinds: Vec<AssessmentKind> = all.iter().map(|a| a.assessment.kind).collect();
    kinds.sort_unstable();
    kinds.dedup();
    if kinds.len() != all.len() {
        return Err(invalid(
            "ids: give one assessment of each kind (self, review, regulator)".into(),
        ));
    }
    let standard = all[0].standard.clone();
    let (enterprise_id, standard_id) = (
        first.enterprise_id.to_string(),
        first.standard_id.to_string(),
    );
    let scored: Vec<(
        AssessmentKind,
        AssessmentWithFacts,
        safegrade_domain::assessments::Score,
    )> = all
        .into_iter()
        .map(|a| {
            let s = a.score(state.today(), state.grade_rules);
            (a.assessment.kind, a, s)
        })
        .collect();
    let per_element: Vec<(String, BTreeMap<AssessmentKind, Option<f64>>)> = standard
        .elements
        .iter()
        .enumerate()
        .map(|(i, e)| {
            (
                e.code.clone(),
                scored
                    .iter()
                    .map(|(k, _, s)| (*k, s.elements.get(i).and_then(|x| x.rate)))
                    .collect(),
            )
        })
        .collect();
    let flags = safegrade_domain::assessments::flags(&per_element, margin)
        .into_iter()
        .map(|f| ComparisonFlagResponse {
            kind: f.kind,
            element: f.element,
            higher: f.passes.0,
            lower: f.passes.1,
            difference: f.difference,
        })
        .collect();
    let elements = standard
        .elements
        .iter()
        .zip(per_element)
        .map(|(e, (code, rates))| ComparedElement {
            code,
            title: e.title.clone(),
            rates: rates
                .into_iter()
                .map(|(k, r)| (k.as_str().to_owned(), r))
                .collect(),
        })
        .collect();
    let passes = scored
        .iter()
        .map(|(k, a, s)| ComparedPass {
            id: a.assessment.id.to_string(),
            kind: *k,
            state: a.assessment.state,
            score: s.score,
            grade_reached: s.grade_reached,
        })
        .collect();
    Ok(HttpResponse::Ok().json(ComparisonResponse {
        enterprise_id,
        standard_id,
        margin,
        passes,
        elements,
        flags,
    }))
}

/// The assessments' operations (compare before `{id}`, so it is not read as an id).
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(compare_assessments)
        .service(list_assessments)
        .service(create_assessment)
        .service(get_assessment)
        .service(update_assessment)
        .service(submit_assessment)
        .service(discard_assessment);
}
