//! Production-safety accidents (生产安全事故): record and list, each with its evaluation
//! against the enterprise's certificates (revocation triggers, restart, fast track).

use actix_web::HttpRequest;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use safegrade_domain::grading::{AccidentInput, AccidentKind, Grade, RevocationTrigger};
use safegrade_domain::{AccidentId, Action, EnterpriseId, Violation, ViolationCode as V};
use safegrade_store::grading::accidents::{AccidentFilter, AccidentRecord};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::plumbing::app::AppState;
use crate::plumbing::auth::Caller;
use crate::plumbing::error::{ApiError, NO_SUCH_ENTERPRISE, not_found_says};
use crate::plumbing::extract::{IdempotencyKey, JsonObject};
use crate::plumbing::list::{self, ListResponse};
use crate::plumbing::members::{boolean, integer, text};
use crate::plumbing::write::Answer;

/// What an accident means for one certificate in force on its date.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CertificateImpactResponse {
    /// The certificate.
    pub certificate_id: String,
    /// Its grade.
    #[schema(value_type = crate::plumbing::codes::Grade)]
    pub grade: Grade,
    /// Its number.
    pub number: String,
    /// Revocation triggers met, for the grading authority to decide on.
    #[schema(value_type = Vec<crate::plumbing::codes::RevocationTrigger>)]
    pub triggers: Vec<RevocationTrigger>,
    /// Whether a same-grade renewal can still take the fast track.
    pub fast_track_allowed: bool,
    /// Why not, when it cannot.
    pub fast_track_reasons: Vec<String>,
}

/// The evaluation of an accident (recomputed on every read: a later accident can change the
/// 12-month totals).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EvaluationResponse {
    /// Every certificate in force on the accident's date.
    pub certificates: Vec<CertificateImpactResponse>,
    /// The enterprise must start creation over (an accident while a grade was valid;
    /// notice 绵应急函〔2020〕42号 二（三）).
    pub restart_required: bool,
    /// The grade-rule set in force that made this evaluation.
    #[schema(example = "定级办法2021-r1")]
    pub rules_version: String,
}

/// An accident (生产安全事故).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccidentResponse {
    /// Opaque id.
    pub id: String,
    /// The enterprise.
    pub enterprise_id: String,
    /// Date (Beijing).
    pub occurred_on: NaiveDate,
    /// Kind (GB 6441-1986).
    #[schema(value_type = crate::plumbing::codes::AccidentKind)]
    pub kind: AccidentKind,
    /// Deaths.
    pub deaths: u32,
    /// Seriously injured.
    pub seriously_injured: u32,
    /// Direct economic loss, CNY.
    pub direct_loss_cny: i64,
    /// Concealed, falsely reported, reported late or omitted.
    pub concealed: bool,
    /// Where the record comes from.
    pub source: Option<String>,
    /// What it means.
    pub evaluation: EvaluationResponse,
    /// The grade-rule set in force when the accident was recorded (the evaluation made then
    /// is kept on its `accident.recorded` event).
    pub rules_version: String,
    /// When it was recorded.
    #[serde(serialize_with = "crate::plumbing::instant::serialize")]
    pub created_at: DateTime<Utc>,
}

impl From<AccidentRecord> for AccidentResponse {
    fn from(r: AccidentRecord) -> Self {
        let (a, e) = (r.accident, r.evaluation);
        Self {
            id: a.id.to_string(),
            enterprise_id: a.data.enterprise_id.to_string(),
            occurred_on: a.data.facts.occurred_on,
            kind: a.data.kind,
            deaths: a.data.facts.deaths,
            seriously_injured: a.data.facts.seriously_injured,
            direct_loss_cny: a.data.facts.direct_loss_cny,
            concealed: a.data.facts.concealed,
            source: a.data.source,
            rules_version: a.rules_version,
            evaluation: EvaluationResponse {
                restart_required: e.restart_required,
                rules_version: e.rules_version,
                certificates: e
                    .certificates
                    .into_iter()
                    .map(|c| CertificateImpactResponse {
                        certificate_id: c.certificate_id.to_string(),
                        grade: c.grade,
                        number: c.number,
                        triggers: c.triggers,
                        fast_track_allowed: c.fast_track.allowed,
                        fast_track_reasons: c.fast_track.reasons,
                    })
                    .collect(),
            },
            created_at: a.created_at,
        }
    }
}

/// Recording an accident. Unknown fields are rejected; every invalid field is reported.
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct AccidentCreate {
    /// The enterprise (in the caller's jurisdiction).
    pub enterprise_id: String,
    /// Date, `YYYY-MM-DD`, not after today.
    pub occurred_on: NaiveDate,
    /// Kind (GB 6441-1986).
    #[schema(value_type = crate::plumbing::codes::AccidentKind)]
    pub kind: String,
    /// Deaths (default 0).
    #[schema(minimum = 0, maximum = 100_000)]
    pub deaths: Option<i64>,
    /// Seriously injured (default 0).
    #[schema(minimum = 0, maximum = 100_000)]
    pub seriously_injured: Option<i64>,
    /// Direct economic loss in CNY (default 0).
    #[schema(minimum = 0)]
    pub direct_loss_cny: Option<i64>,
    /// Concealed, falsely reported, reported late or omitted (default false).
    pub concealed: Option<bool>,
    /// Where the record comes from (investigation report, notice number), up to 200
    /// characters.
    pub source: Option<String>,
}

fn read_members(input: &mut AccidentInput, body: &Map<String, Value>) -> Vec<Violation> {
    let mut errors = Vec::new();
    for (key, v) in body {
        let k = key.as_str();
        let result = match k {
            "enterprise_id" => text(k, v).map(|x| input.enterprise_id = x),
            "occurred_on" => text(k, v).map(|x| input.occurred_on = x),
            "kind" => text(k, v).map(|x| input.kind = x),
            "source" => text(k, v).map(|x| input.source = x),
            "deaths" => integer(k, v).map(|x| input.deaths = x),
            "seriously_injured" => integer(k, v).map(|x| input.seriously_injured = x),
            "direct_loss_cny" => integer(k, v).map(|x| input.direct_loss_cny = x),
            "concealed" => boolean(k, v).map(|x| input.concealed = x),
            _ => Err(Violation::field(
                k,
                V::UnknownField,
                format!("{k} 不是事故记录的字段"),
            )),
        };
        if let Err(e) = result {
            errors.push(e);
        }
    }
    errors
}

/// Record an accident (登记生产安全事故) and evaluate it.
///
/// The answer says, for every certificate in force on the accident's date, which revocation
/// triggers it meets (a fatal accident; ≥3 seriously injured or ≥CNY 1 million within 12
/// consecutive months, counting the enterprise's other accidents; concealment) and whether
/// same-grade fast-track renewal is still possible; and whether the enterprise must start
/// creation over. Revoking stays the grading authority's decision.
#[utoipa::path(
    tag = "accidents",
    operation_id = "create_accident",
    request_body(content = AccidentCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Recorded, with its evaluation", body = AccidentResponse,
            headers(("Location" = String, description = "URL of the accident list of the enterprise"))),
    )
)]
#[post("/accidents")]
pub async fn create_accident(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::WriteLedger)?;
    let mut input = AccidentInput::default();
    let errors = read_members(&mut input, &body);
    let data = ApiError::merge_validation(errors, input.validate(state.today()))?;
    let (scope, actor, rules) = (caller.scope(), caller.actor(), state.grade_rules);
    let thread_key = data.enterprise_id.to_string();
    crate::plumbing::write::post(&state, &caller, &req, key, &body, &thread_key, move |tx| {
        let record = safegrade_store::grading::accidents::record(tx, &data, &scope, &actor, rules)
            .map_err(ApiError::from)
            .map_err(not_found_says(NO_SUCH_ENTERPRISE))?;
        let location = format!(
            "/api/v1/accidents?enterprise_id={}",
            record.accident.data.enterprise_id
        );
        Answer::created(location, &AccidentResponse::from(record))
    })
    .await
}

/// Filters and paging of the accident list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccidentListQuery {
    /// Of this enterprise.
    pub enterprise_id: Option<uuid::Uuid>,
    /// Of enterprises in this supervision area.
    pub area_code: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const CURSOR_KIND: &str = "accident";

/// List accidents in the caller's jurisdiction, in recording order, each with its current
/// evaluation.
#[utoipa::path(
    tag = "accidents",
    operation_id = "list_accidents",
    params(AccidentListQuery),
    responses(
        (status = 200, description = "One page", body = ListResponse<AccidentResponse>),
    )
)]
#[get("/accidents")]
pub async fn list_accidents(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<AccidentListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = list::limit(query.limit)?;
    let after = list::id_cursor(CURSOR_KIND, query.cursor.as_deref(), AccidentId::parse)?;
    let area_code = list::area_filter(query.area_code.as_deref())?;
    let filter = AccidentFilter {
        scope: caller.scope(),
        enterprise_id: query
            .enterprise_id
            .and_then(|u| EnterpriseId::parse(&u.to_string())),
        area_code,
    };
    let rules = state.grade_rules;
    let page = state
        .run(move |s| Ok(s.list_accidents(&filter, rules, after, i64::from(limit))?))
        .await?;
    let next_cursor = list::next_cursor(
        CURSOR_KIND,
        page.has_more,
        page.items.last().map(|a| a.accident.id.to_string()),
    );
    let items = page.items.into_iter().map(AccidentResponse::from).collect();
    Ok(ListResponse { items, next_cursor }.into_response())
}
