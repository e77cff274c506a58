//! Grading applications (定级申请): submitted on a self-assessment, checked for eligibility,
//! then moved step by step — acceptance, review, rectification, publicity, announcement —
//! each step with its working-day deadline from the calendar.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use safegrade_domain::calendar::Calendar;
use safegrade_domain::grading::{AuthorityLevel, Grade};
use safegrade_domain::gradings::{
    GradingKind, GradingState, GradingStep, ReviewOutcome, Step, correction_due_on, due_on,
    may_apply, may_take, overdue,
};
use safegrade_domain::{
    AssessmentId, CodeList, EnterpriseId, GradingId, ReviewOrganisation, Violation,
    ViolationCode as V,
};
use safegrade_store::gradings::{
    Announced, Grading, GradingFilter, NewGrading, StepRequest, apply, step,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::plumbing::app::AppState;
use crate::plumbing::auth::Caller;
use crate::plumbing::error::{ApiError, NO_SUCH_ENTERPRISE, not_found_as, not_found_says};
use crate::plumbing::extract::{IdempotencyKey, IfMatch, JsonObject, PathId, step_path};
use crate::plumbing::list::{self, ListResponse};
use crate::plumbing::members::Reader;
use crate::plumbing::write::Answer;

/// A step taken.
#[derive(Debug, Serialize, ToSchema)]
pub struct GradingStepResponse {
    /// The step.
    #[schema(value_type = crate::plumbing::codes::GradingStep)]
    pub step: GradingStep,
    /// The day it was taken.
    pub taken_on: NaiveDate,
    /// What was said.
    pub note: Option<String>,
}

/// A grading application.
#[derive(Debug, Serialize, ToSchema)]
pub struct GradingResponse {
    /// Id.
    pub id: String,
    /// The enterprise.
    pub enterprise_id: String,
    /// Its supervision area.
    pub area_code: String,
    /// `first`, `renewal` or `upgrade`.
    #[schema(value_type = crate::plumbing::codes::GradingKind)]
    pub kind: GradingKind,
    /// The grade applied for.
    #[schema(value_type = crate::plumbing::codes::Grade)]
    pub grade: Grade,
    /// The self-assessment it rests on.
    pub self_assessment_id: String,
    /// Where it stands.
    #[schema(value_type = crate::plumbing::codes::GradingState)]
    pub state: GradingState,
    /// Since when.
    pub since: NaiveDate,
    /// The day of the application.
    pub applied_on: NaiveDate,
    /// By when the party that must act has to (publicity: its last day); null when nothing
    /// is due, or when the calendar lacks the year (`calendar_note` says so).
    pub due_on: Option<NaiveDate>,
    /// The party that must act is late (today after `due_on`).
    pub overdue: bool,
    /// While applied and not yet told: the last day to ask for corrections (5 working days).
    pub correction_due_on: Option<NaiveDate>,
    /// Why a deadline could not be computed (a year missing from the working-day calendar).
    pub calendar_note: Option<String>,
    /// The certificate the announcement created.
    pub certificate_id: Option<String>,
    /// The review organisation a regulator assigned (`assignment`); its `reviewer`
    /// principals see this application and record its review and verification.
    pub review_organisation: Option<crate::access::principals::ReviewOrganisationDoc>,
    /// The review assessment the on-site review rests on.
    pub review_assessment_id: Option<String>,
    /// Version for `If-Match`; also the `ETag`.
    pub version: i64,
    /// The steps taken, in order.
    pub steps: Vec<GradingStepResponse>,
    /// When it was submitted (UTC).
    pub created_at: DateTime<Utc>,
}

impl GradingResponse {
    fn new(g: Grading, calendar: &Calendar, state: &AppState) -> Self {
        let limits = &state.grade_rules.grading_limits;
        let today = state.today();
        let (due, note) = match due_on(&g.progress, calendar, limits) {
            Ok(d) => (d, None),
            Err(e) => (None, Some(e.to_string())),
        };
        let correction = (g.progress.state == GradingState::Applied && !g.progress.corrected)
            .then(|| correction_due_on(&g.progress, calendar, limits).ok())
            .flatten();
        Self {
            id: g.id.to_string(),
            enterprise_id: g.enterprise_id.to_string(),
            area_code: g.area_code,
            kind: g.kind,
            grade: g.grade,
            self_assessment_id: g.self_assessment_id.to_string(),
            state: g.progress.state,
            since: g.progress.since,
            applied_on: g.progress.applied_on,
            due_on: due,
            overdue: overdue(&g.progress, today, calendar, limits).unwrap_or(false),
            correction_due_on: correction,
            calendar_note: note,
            certificate_id: g.certificate_id,
            review_organisation: g.review_organisation.as_ref().map(Into::into),
            review_assessment_id: g.review_assessment_id.map(|a| a.to_string()),
            version: g.version,
            steps: g
                .steps
                .into_iter()
                .map(|s| GradingStepResponse {
                    step: s.step,
                    taken_on: s.taken_on,
                    note: s.note,
                })
                .collect(),
            created_at: g.created_at,
        }
    }
}

/// The applicant's written commitments (定级办法 application conditions the system cannot
/// check itself); each must be `true`.
#[derive(Debug, ToSchema)]
pub struct CommitmentsDoc {
    /// Licences and certificates required by law are complete and valid (condition 1).
    pub licences_valid: bool,
    /// A safety management body or safety managers as the law requires (condition 2).
    pub safety_body: bool,
    /// The principal, safety managers and special-operation workers are certified (3).
    pub personnel_certified: bool,
    /// No event with major adverse social impact (5).
    pub no_major_social_impact: bool,
    /// Not on the safety-production dishonesty list (6).
    pub not_on_dishonesty_list: bool,
    /// Hazards investigated and every major hazard rectified (9).
    pub major_hazards_rectified: bool,
}

const COMMITMENTS: [(&str, &str); 6] = [
    (
        "licences_valid",
        "依法应取得的许可证照齐全有效（申请条件第 1 项）",
    ),
    (
        "safety_body",
        "依法设置安全管理机构或配备安全管理人员（第 2 项）",
    ),
    (
        "personnel_certified",
        "主要负责人、安全管理人员和特种作业人员依法持证（第 3 项）",
    ),
    (
        "no_major_social_impact",
        "未发生造成重大社会不良影响的事件（第 5 项）",
    ),
    (
        "not_on_dishonesty_list",
        "未被列入安全生产失信惩戒名单（第 6 项）",
    ),
    (
        "major_hazards_rectified",
        "全面开展隐患排查，发现的重大隐患已完成整改（第 9 项）",
    ),
];

/// Submitting an application.
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct GradingCreate {
    /// The enterprise (in the caller's jurisdiction).
    pub enterprise_id: String,
    /// `first`, `renewal` or `upgrade`.
    #[schema(value_type = crate::plumbing::codes::GradingKind)]
    pub kind: String,
    /// The grade applied for.
    #[schema(value_type = crate::plumbing::codes::Grade)]
    pub grade: String,
    /// The enterprise's submitted self-assessment (within 12 months) that reaches the grade.
    pub self_assessment_id: String,
    /// The principal's written commitments, each `true`.
    pub commitments: CommitmentsDoc,
}

/// Submit a grading application (提交定级申请).
///
/// Eligibility is checked from what the system knows — an accident in the last year beyond
/// the limits, a refusal or revocation less than a year ago, a false commitment less than
/// three years ago, a renewal outside its window, an upgrade without a lower grade in force —
/// and refused with `grading_not_eligible` naming each rule; what it cannot know is the
/// principal's written commitment.
#[utoipa::path(
    tag = "gradings",
    operation_id = "create_grading",
    request_body(content = GradingCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Submitted", body = GradingResponse,
            headers(("Location" = String, description = "URL of the application"), ("ETag" = String, description = "Version, quoted"))),
    )
)]
#[post("/gradings")]
pub async fn create_grading(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let d = &caller.principal.data;
    if !may_apply(d.role, d.read_only) {
        return Err(caller.forbidden("不能提交定级申请"));
    }
    let mut members = (*body).clone();
    let commitments = members.remove("commitments");
    let (mut enterprise, mut kind, mut grade, mut assessment) = (None, None, None, None);
    let mut errors = crate::plumbing::members::texts(
        &members,
        &mut [
            ("enterprise_id", &mut enterprise),
            ("kind", &mut kind),
            ("grade", &mut grade),
            ("self_assessment_id", &mut assessment),
        ],
        "定级申请",
    );
    for (key, value) in [
        ("enterprise_id", &enterprise),
        ("kind", &kind),
        ("grade", &grade),
        ("self_assessment_id", &assessment),
    ] {
        let pointer = safegrade_domain::pointer_to(key);
        if value.is_none() && !errors.iter().any(|e| e.pointer == pointer) {
            errors.push(Violation::field(key, V::Required, format!("{key} 为必填")));
        }
    }
    let enterprise = enterprise.and_then(|r| {
        EnterpriseId::parse(&r).or_else(|| {
            errors.push(Violation::field(
                "enterprise_id",
                V::InvalidValue,
                format!("'{r}' 不是企业 id"),
            ));
            None
        })
    });
    let assessment = assessment.and_then(|r| {
        AssessmentId::parse(&r).or_else(|| {
            errors.push(Violation::field(
                "self_assessment_id",
                V::InvalidValue,
                format!("'{r}' 不是评分 id"),
            ));
            None
        })
    });
    let kind = kind.and_then(|k| {
        k.parse::<GradingKind>()
            .map_err(|e| errors.push(Violation::field("kind", V::InvalidValue, e.to_string())))
            .ok()
    });
    let grade = grade.and_then(|g| {
        g.parse::<Grade>()
            .map_err(|e| errors.push(Violation::field("grade", V::InvalidValue, e.to_string())))
            .ok()
    });
    match commitments.as_ref() {
        Some(Value::Object(c)) => {
            for (name, what) in COMMITMENTS {
                if c.get(name) != Some(&Value::Bool(true)) {
                    errors.push(Violation {
                        pointer: format!("/commitments/{name}"),
                        code: V::Required,
                        message: format!("须承诺：{what}"),
                    });
                }
            }
            for k in c
                .keys()
                .filter(|k| !COMMITMENTS.iter().any(|(n, _)| n == k))
            {
                errors.push(Violation {
                    pointer: format!("/commitments/{k}"),
                    code: V::UnknownField,
                    message: format!("{k} 不是承诺事项"),
                });
            }
        }
        None | Some(Value::Null) => errors.push(Violation::field(
            "commitments",
            V::Required,
            "commitments 为必填：主要负责人对申请条件的书面承诺",
        )),
        Some(_) => errors.push(Violation::field(
            "commitments",
            V::InvalidType,
            "commitments 须为对象",
        )),
    }
    let (Some(enterprise_id), Some(kind), Some(grade), Some(self_assessment_id), true) =
        (enterprise, kind, grade, assessment, errors.is_empty())
    else {
        return Err(ApiError::invalid(errors));
    };
    let new = NewGrading {
        enterprise_id,
        kind,
        grade,
        self_assessment_id,
    };
    let (scope, actor, st, today) = (caller.scope(), caller.actor(), state.clone(), state.today());
    let calendar = state.run(|s| Ok(s.calendar()?)).await?;
    crate::plumbing::write::post(
        &state,
        &caller,
        &req,
        key,
        &body,
        &enterprise_id.to_string(),
        move |tx| {
            let g = apply(tx, &new, (&scope, &actor, today, st.grade_rules))
                .map_err(ApiError::from)
                .map_err(not_found_says(NO_SUCH_ENTERPRISE))?;
            let (location, version) = (format!("/api/v1/gradings/{}", g.id), g.version);
            Ok(
                Answer::created(location, &GradingResponse::new(g, &calendar, &st))?
                    .versioned(version),
            )
        },
    )
    .await
}

/// Filters of the application list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GradingQuery {
    /// Only this enterprise.
    pub enterprise_id: Option<uuid::Uuid>,
    /// Only this supervision area.
    pub area_code: Option<String>,
    /// Only this state.
    #[param(value_type = Option<crate::plumbing::codes::GradingState>)]
    pub state: Option<GradingState>,
    /// Only those whose party that must act is late (`true`) or not (`false`).
    pub overdue: Option<bool>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const CURSOR_KIND: &str = "grading";

/// The grading applications in the caller's jurisdiction, oldest first, with their deadlines.
#[utoipa::path(
    tag = "gradings",
    operation_id = "list_gradings",
    params(GradingQuery),
    responses(
        (status = 200, description = "One page", body = ListResponse<GradingResponse>),
    )
)]
#[get("/gradings")]
pub async fn list_gradings(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<GradingQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let limit = usize::try_from(list::limit(q.limit)?).unwrap_or(50);
    let after = q
        .cursor
        .as_deref()
        .map(|c| list::decode_cursor(CURSOR_KIND, c))
        .transpose()?;
    let filter = GradingFilter {
        scope: caller.scope(),
        area_code: list::area_filter(q.area_code.as_deref())?,
        enterprise_id: q
            .enterprise_id
            .and_then(|u| EnterpriseId::parse(&u.to_string())),
        state: q.state,
    };
    let (all, calendar) = state
        .run(move |s| Ok((s.list_gradings(&filter)?, s.calendar()?)))
        .await?;
    let items: Vec<GradingResponse> = all
        .into_iter()
        .filter(|g| after.as_ref().is_none_or(|a| g.id.to_string() > *a))
        .map(|g| GradingResponse::new(g, &calendar, &state))
        .filter(|g| q.overdue.is_none_or(|o| g.overdue == o))
        .take(limit + 1)
        .collect();
    let more = items.len() > limit;
    let items: Vec<GradingResponse> = items.into_iter().take(limit).collect();
    let next_cursor = more
        .then(|| {
            items
                .last()
                .map(|g| list::encode_cursor(CURSOR_KIND, &g.id))
        })
        .flatten();
    Ok(ListResponse { items, next_cursor }.into_response())
}

/// One grading application with its steps and deadline.
#[utoipa::path(
    tag = "gradings",
    operation_id = "get_grading",
    params(("id" = uuid::Uuid, Path, description = "Application id")),
    responses(
        (status = 200, description = "The application", body = GradingResponse, headers(("ETag" = String, description = "Version, quoted"))),
    )
)]
#[get("/gradings/{id}")]
pub async fn get_grading(
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<GradingId>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.scope();
    let (g, calendar) = state
        .run(move |s| Ok((s.get_grading(id, &scope)?, s.calendar()?)))
        .await
        .map_err(not_found_as("grading", raw))?;
    let version = g.version;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{version}\"")))
        .json(GradingResponse::new(g, &calendar, &state)))
}

/// What a step may say; which members apply depends on the step.
#[derive(Debug, ToSchema)]
pub struct GradingStepBody {
    /// The day it is taken, not after today; default today.
    pub on: Option<NaiveDate>,
    /// What is said: reasons, non-conformities, the complaint; up to 2,000 characters.
    pub note: Option<String>,
    /// `acceptance`: a same-grade renewal whose conditions held through the validity goes
    /// straight to publicity.
    pub fast_track: Option<bool>,
    /// `assignment`: the review organisation (its unified social credit code and name).
    pub review_organisation: Option<crate::access::principals::ReviewOrganisationDoc>,
    /// `review`: `passed`, `non_conformities` or `failed`.
    pub outcome: Option<String>,
    /// `review`: the submitted review assessment of this application it rests on (created
    /// with this `grading_id`); `passed` needs it to reach the grade applied for.
    pub assessment_id: Option<String>,
    /// `extension`: working days, at most the limit (20).
    pub days: Option<u32>,
    /// `rectification_verification`: whether the rectification passed.
    pub passed: Option<bool>,
    /// `objection`: whether the complaint was upheld (then the grade fails).
    pub upheld: Option<bool>,
    /// `refusal`: the commitment was false (a 3-year bar instead of 1).
    pub false_commitment: Option<bool>,
    /// `announcement`: the certificate's number, grading authority and standard.
    pub certificate: Option<AnnouncedDoc>,
}

/// The certificate an announcement creates.
#[derive(Debug, ToSchema)]
pub struct AnnouncedDoc {
    /// Certificate number.
    pub number: String,
    /// The grading authority.
    pub authority: crate::grading::certificates::Authority,
    /// The standard the grade was scored under.
    pub standard: String,
}

fn step_of(kind: GradingStep, body: &Map<String, Value>, errors: &mut Vec<Violation>) -> Step {
    let flag = |k: &str, errors: &mut Vec<Violation>| match body.get(k) {
        Some(Value::Bool(b)) => *b,
        None | Some(Value::Null) => false,
        Some(_) => {
            errors.push(Violation::field(
                k,
                V::InvalidType,
                format!("{k} 须为 true 或 false"),
            ));
            false
        }
    };
    let required_flag = |k: &str, errors: &mut Vec<Violation>| {
        if matches!(body.get(k), None | Some(Value::Null)) {
            errors.push(Violation::field(k, V::Required, format!("{k} 为必填")));
        }
        flag(k, errors)
    };
    match kind {
        GradingStep::CorrectionRequest => Step::CorrectionRequest,
        GradingStep::Resubmission => Step::Resubmission,
        GradingStep::Acceptance => Step::Acceptance {
            fast_track: flag("fast_track", errors),
        },
        GradingStep::Rejection => Step::Rejection,
        GradingStep::Assignment => Step::Assignment,
        GradingStep::Review => Step::Review(match body.get("outcome").and_then(Value::as_str) {
            Some("passed") => ReviewOutcome::Passed,
            Some("non_conformities") => ReviewOutcome::NonConformities,
            Some("failed") => ReviewOutcome::Failed,
            _ => {
                errors.push(Violation::field(
                    "outcome",
                    V::InvalidValue,
                    "outcome 须为 passed、non_conformities 或 failed",
                ));
                ReviewOutcome::Failed
            }
        }),
        GradingStep::RectificationReport => Step::RectificationReport,
        GradingStep::Extension => Step::Extension(match body.get("days").and_then(Value::as_u64) {
            Some(n) => u32::try_from(n).unwrap_or(u32::MAX),
            None => {
                errors.push(Violation::field(
                    "days",
                    V::Required,
                    "days 为必填：延长的工作日数",
                ));
                0
            }
        }),
        GradingStep::RectificationVerification => {
            Step::RectificationVerification(required_flag("passed", errors))
        }
        GradingStep::Publicity => Step::Publicity,
        GradingStep::Objection => Step::Objection(required_flag("upheld", errors)),
        GradingStep::Announcement => Step::Announcement,
        GradingStep::Refusal => Step::Refusal(flag("false_commitment", errors)),
    }
}

fn announced(body: &Map<String, Value>, errors: &mut Vec<Violation>) -> Option<Announced> {
    let c = body.get("certificate")?.as_object()?;
    let text = |k: &str| {
        c.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|t| !t.is_empty())
    };
    let authority = c.get("authority").and_then(Value::as_object);
    let level = authority
        .and_then(|a| a.get("level"))
        .and_then(Value::as_str)
        .and_then(AuthorityLevel::from_code);
    let name = authority
        .and_then(|a| a.get("name"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty());
    match (text("number"), level, name, text("standard")) {
        (Some(number), Some(level), Some(name), Some(standard)) => Some(Announced {
            number: number.to_owned(),
            authority: (level, name.to_owned()),
            standard: standard.to_owned(),
        }),
        _ => {
            errors.push(Violation::field(
                "certificate",
                V::InvalidValue,
                "certificate 须写明 number、authority（level、name）和 standard",
            ));
            None
        }
    }
}

const STEP_MEMBERS: [&str; 11] = [
    "on",
    "note",
    "fast_track",
    "review_organisation",
    "outcome",
    "assessment_id",
    "days",
    "passed",
    "upheld",
    "false_commitment",
    "certificate",
];

/// Take a step of a grading application (定级办理): `correction_request` (once, within 5
/// working days), `resubmission`, `acceptance` (or `rejection`; check and forward within 10;
/// `fast_track` for a same-grade renewal), `assignment` of the review organisation (a
/// regulator; the deadline keeps running), `review` (within 20, resting on a submitted review
/// assessment of the application), `rectification_report`
/// (within 20, one `extension`; late = failed), `rectification_verification` (within 10),
/// `publicity` (at least 7), `objection`, `announcement` (creates the certificate) or
/// `refusal`. Each step says who may take it (book 定级申请流程).
#[utoipa::path(
    tag = "gradings",
    operation_id = "take_grading_step",
    params(
        ("id" = uuid::Uuid, Path, description = "Application id"),
        ("step" = crate::plumbing::codes::GradingStep, Path, description = "The step"),
    ),
    request_body(content = GradingStepBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The application after the step", body = GradingResponse, headers(("ETag" = String, description = "New version, quoted"))),
    )
)]
#[post("/gradings/{id}/{step}")]
pub async fn take_grading_step(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    key: IdempotencyKey,
    IfMatch(expected): IfMatch,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let (PathId(id, raw), kind) =
        step_path::<GradingId, GradingStep>(path.into_inner(), &caller, may_take)?;
    let today = state.today();
    let mut r = Reader::new(&body);
    let on = r.step_day(today);
    let note = r.text("note", 2000);
    // The others are read by the step.
    r.known(&STEP_MEMBERS);
    let mut errors = r.finish("定级办理");
    let step_facts = step_of(kind, &body, &mut errors);
    let certificate = if kind == GradingStep::Announcement {
        announced(&body, &mut errors)
    } else {
        None
    };
    let review_organisation = match body.get("review_organisation") {
        Some(v) if kind == GradingStep::Assignment => {
            match crate::access::principals::organisation_member("review_organisation", v) {
                Ok(Some((id, name))) => ReviewOrganisation::check(
                    "/review_organisation",
                    id.as_deref(),
                    name.as_deref(),
                )
                .map_err(|v| errors.extend(v))
                .ok(),
                Ok(None) => None,
                Err(v) => {
                    errors.push(v);
                    None
                }
            }
        }
        _ => None,
    };
    let review_assessment_id = match body.get("assessment_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            let id = AssessmentId::parse(s.trim());
            if id.is_none() {
                errors.push(Violation::field(
                    "assessment_id",
                    V::InvalidValue,
                    format!("'{s}' 不是评分 id"),
                ));
            }
            id
        }
        Some(_) => {
            errors.push(Violation::field(
                "assessment_id",
                V::InvalidType,
                "assessment_id 须为字符串",
            ));
            None
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let request = StepRequest {
        step: step_facts,
        on,
        note,
        certificate,
        review_organisation,
        review_assessment_id,
    };
    let (scope, actor, st) = (caller.scope(), caller.actor(), state.clone());
    let calendar = state.run(|s| Ok(s.calendar()?)).await?;
    crate::plumbing::write::post(
        &state,
        &caller,
        &req,
        key,
        &body,
        &id.to_string(),
        move |tx| {
            let g = step(
                tx,
                id,
                (&scope, &actor, expected),
                request,
                (&calendar, st.grade_rules),
            )
            .map_err(ApiError::from)
            .map_err(not_found_as("grading", raw))?;
            let version = g.version;
            Ok(Answer::ok(&GradingResponse::new(g, &calendar, &st))?.versioned(version))
        },
    )
    .await
}

/// The applications' operations.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(list_gradings)
        .service(create_grading)
        .service(get_grading)
        .service(take_grading_step);
}
