//! Hidden hazards (事故隐患排查治理): registered with their grade (major when a determination
//! criterion matches), then rectified, accepted and closed step by step; the determination
//! criteria catalog.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use safegrade_domain::hazards::criteria::{Catalog, CriteriaStandard, Criterion, builtin};
use safegrade_domain::hazards::{
    Acceptance, Extension, HazardGrade, HazardSource, HazardState, HazardStep, HazardType, Listing,
    ManagementClass, Plan, Step, may_take,
};
use safegrade_domain::{
    Action, CodeList, EnterpriseId, HazardId, Sector, Violation, ViolationCode as V,
};
use safegrade_store::hazards::{
    Hazard, HazardFacts, HazardFilter, Links, NewHazard, StepRequest, register, step,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::plumbing::app::AppState;
use crate::plumbing::auth::Caller;
use crate::plumbing::error::{
    ApiError, ErrorCode, NO_SUCH_ENTERPRISE, not_found_as, not_found_says,
};
use crate::plumbing::export::{self, Cell, Format, Sheet};
use crate::plumbing::extract::{IdempotencyKey, IfMatch, JsonObject, PathId, step_path};
use crate::plumbing::list::{self, ListResponse};
use crate::plumbing::members::Reader;
use crate::plumbing::write::Answer;

/// Longest free text of a hazard (description, cause, measures, opinions), in characters.
const TEXT: usize = 2000;
/// Longest name (a person, a team, a document number), in characters.
const NAME: usize = 100;

/// A determination criterion (重大事故隐患判定标准的一项).
#[derive(Debug, Serialize, ToSchema)]
pub struct CriterionResponse {
    /// Its reference, `standard/article/item`: what a hazard's `criterion` names.
    #[schema(example = "MEM-2023-10/3/2")]
    pub reference: String,
    /// `MEM-2023-10` (工贸, 应急管理部令第10号) or `KA-2022-88` (金属非金属矿山, 矿安〔2022〕88号).
    pub standard: String,
    /// The standard's name.
    pub standard_name: String,
    /// Article (Order No. 10) or section (`underground`, `open_pit`, `tailings_pond`).
    pub article: String,
    /// Item number.
    pub item: u32,
    /// The industry or special area it covers (an enterprise sector, or `general`,
    /// `dust_explosion`, `ammonia_refrigeration`, `confined_space`).
    pub sector: String,
    /// A short Chinese topic (a paraphrase, not the official wording).
    pub topic_zh: String,
    /// The topic in English (a paraphrase).
    pub topic_en: String,
    /// How sure the topic is: `C` (read in a reprint), `R` (recalled), `U` (unchecked).
    pub confidence: String,
    /// The catalog version.
    pub catalog_version: String,
}

impl CriterionResponse {
    fn new(c: &Criterion, catalog: &Catalog) -> Self {
        Self {
            reference: c.reference(),
            standard: c.standard.as_str().to_owned(),
            standard_name: c.standard.label_zh().to_owned(),
            article: c.article.clone(),
            item: c.item,
            sector: c.sector.clone(),
            topic_zh: c.topic_zh.clone(),
            topic_en: c.topic_en.clone(),
            confidence: c.confidence.clone(),
            catalog_version: catalog.version.clone(),
        }
    }
}

/// Filters of the criteria catalog.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CriteriaQuery {
    /// Only this standard (`MEM-2023-10` or `KA-2022-88`).
    pub standard: Option<String>,
    /// Only the items that can apply to an enterprise of this sector (for 工贸 sectors: the
    /// general and special-area items and the sector's own article).
    #[param(value_type = Option<crate::plumbing::codes::Sector>)]
    pub sector: Option<Sector>,
}

/// The major-hazard determination criteria (重大事故隐患判定标准), one per numbered item: the
/// catalog a hazard's `criterion` names. Topics are paraphrases; the catalog's version and
/// known gaps are in the book (重大事故隐患判定标准).
#[utoipa::path(
    tag = "hazards",
    operation_id = "list_hazard_criteria",
    params(CriteriaQuery),
    responses(
        (status = 200, description = "All matching items (one page)", body = ListResponse<CriterionResponse>),
    )
)]
#[get("/hazard-criteria")]
pub async fn list_hazard_criteria(
    _caller: Caller,
    query: web::Query<CriteriaQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let standard = q
        .standard
        .as_deref()
        .map(|s| {
            CriteriaStandard::from_code(s).ok_or_else(|| {
                ApiError::invalid(vec![Violation::field(
                    "standard",
                    V::InvalidValue,
                    format!("'{s}' 不是判定标准：MEM-2023-10 或 KA-2022-88"),
                )])
            })
        })
        .transpose()?;
    let catalog = builtin();
    let items: Vec<CriterionResponse> = catalog
        .items
        .iter()
        .filter(|c| standard.is_none_or(|s| c.standard == s))
        .filter(|c| q.sector.is_none_or(|s| c.applies_to(s)))
        .map(|c| CriterionResponse::new(c, catalog))
        .collect();
    Ok(ListResponse {
        items,
        next_cursor: None,
    }
    .into_response())
}

/// The 五落实 plan of a major hazard's rectification.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PlanDoc {
    /// 措施: the rectification measures.
    pub measures: String,
    /// 责任: the responsible person or body.
    pub responsible: String,
    /// 资金: funds in CNY (≥ 0).
    pub funds_cny: i64,
    /// 时限: the deadline (the hazard's deadline).
    pub deadline: NaiveDate,
    /// 预案: safety measures and the contingency plan during rectification.
    pub contingency: String,
    /// The principal (主要负责人) who organises it.
    pub principal: String,
}

/// Listed supervision (挂牌督办).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ListingDoc {
    /// Level, like 市级, 县级.
    pub level: String,
    /// The supervising authority.
    pub authority: String,
    /// The listing document number.
    pub document_no: String,
    /// Listed on (the step's day).
    pub listed_on: NaiveDate,
    /// The rectification deadline the listing sets.
    pub deadline: NaiveDate,
    /// The public notice of the listing.
    pub notice_on: Option<NaiveDate>,
    /// De-listed on (摘牌).
    pub delisted_on: Option<NaiveDate>,
    /// The public notice of the de-listing.
    pub delisting_notice_on: Option<NaiveDate>,
}

/// A deadline extension asked.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExtensionDoc {
    /// The deadline asked for.
    pub deadline: NaiveDate,
    /// Why.
    pub reason: String,
    /// Asked on.
    pub requested_on: NaiveDate,
    /// The regulator's decision; null while pending.
    pub approved: Option<bool>,
    /// Decided on.
    pub decided_on: Option<NaiveDate>,
}

/// The last acceptance.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AcceptanceDoc {
    /// Who accepted (a named person).
    pub by: String,
    /// On.
    pub on: NaiveDate,
    /// The opinion.
    pub opinion: String,
    /// Passed (closed) or not (back to rectification).
    pub passed: bool,
    /// The post-rectification assessment (major hazards).
    pub assessment: Option<String>,
}

/// A hidden hazard.
#[derive(Debug, Serialize, ToSchema)]
pub struct HazardResponse {
    /// Id.
    pub id: String,
    /// The enterprise.
    pub enterprise_id: String,
    /// Its supervision area.
    pub area_code: String,
    /// Found on.
    pub found_on: NaiveDate,
    /// Found by.
    pub found_by: String,
    /// How it was found (national codes 1–10 as names).
    #[schema(value_type = crate::plumbing::codes::HazardSource)]
    pub source: HazardSource,
    /// Its type.
    #[schema(value_type = crate::plumbing::codes::HazardType)]
    pub hazard_type: HazardType,
    /// Its management class.
    #[schema(value_type = crate::plumbing::codes::ManagementClass)]
    pub management_class: ManagementClass,
    /// What was found.
    pub description: String,
    /// The cause analysis.
    pub cause: Option<String>,
    /// Where.
    pub location: Option<String>,
    /// The risk it came from.
    pub risk_id: Option<String>,
    /// The control measure that failed or was checked.
    pub measure_id: Option<String>,
    /// The inspection record that found it.
    pub record_id: Option<String>,
    /// `general` or `major`.
    #[schema(value_type = crate::plumbing::codes::HazardGrade)]
    pub grade: HazardGrade,
    /// The determination criterion matched (`MEM-2023-10/3/2`), which makes it major.
    pub criterion: Option<String>,
    /// The catalog version the criterion was judged under.
    pub criteria_version: Option<String>,
    /// A regulator's reason for grading it major.
    pub major_reason: Option<String>,
    /// Where it stands.
    #[schema(value_type = crate::plumbing::codes::HazardState)]
    pub state: HazardState,
    /// The deadline in force (the rectification deadline, or an earlier listing deadline).
    pub deadline: Option<NaiveDate>,
    /// Open and past its deadline today.
    pub overdue: bool,
    /// The 五落实 plan (major hazards).
    pub plan: Option<PlanDoc>,
    /// Listed supervision.
    pub listing: Option<ListingDoc>,
    /// The extensions asked, in order.
    pub extensions: Vec<ExtensionDoc>,
    /// The last acceptance.
    pub acceptance: Option<AcceptanceDoc>,
    /// Version for `If-Match`; also the `ETag`.
    pub version: i64,
    /// When it was registered (UTC).
    pub created_at: DateTime<Utc>,
    /// When it last changed (UTC).
    pub updated_at: DateTime<Utc>,
}

impl HazardResponse {
    fn new(h: Hazard, today: NaiveDate) -> Self {
        let p = h.progress;
        Self {
            id: h.id.to_string(),
            enterprise_id: h.facts.enterprise_id.to_string(),
            area_code: h.area_code,
            found_on: h.facts.found_on,
            found_by: h.facts.found_by,
            source: h.facts.source,
            hazard_type: h.facts.hazard_type,
            management_class: h.facts.management_class,
            description: h.facts.description,
            cause: h.facts.cause,
            location: h.facts.location,
            risk_id: h.facts.links.risk_id.map(|x| x.to_string()),
            measure_id: h.facts.links.measure_id.map(|x| x.to_string()),
            record_id: h.facts.links.record_id.map(|x| x.to_string()),
            grade: p.grade,
            criterion: h.criterion.as_ref().map(|c| c.0.clone()),
            criteria_version: h.criterion.map(|c| c.1),
            major_reason: h.major_reason,
            state: p.state,
            deadline: p.effective_deadline(),
            overdue: p.overdue(today),
            plan: p.plan.as_ref().map(|x| PlanDoc {
                measures: x.measures.clone(),
                responsible: x.responsible.clone(),
                funds_cny: x.funds_cny,
                deadline: x.deadline,
                contingency: x.contingency.clone(),
                principal: x.principal.clone(),
            }),
            listing: p.listing.as_ref().map(|l| ListingDoc {
                level: l.level.clone(),
                authority: l.authority.clone(),
                document_no: l.document_no.clone(),
                listed_on: l.listed_on,
                deadline: l.deadline,
                notice_on: l.notice_on,
                delisted_on: l.delisted_on,
                delisting_notice_on: l.delisting_notice_on,
            }),
            extensions: p
                .extensions
                .iter()
                .map(|e: &Extension| ExtensionDoc {
                    deadline: e.deadline,
                    reason: e.reason.clone(),
                    requested_on: e.requested_on,
                    approved: e.approved,
                    decided_on: e.decided_on,
                })
                .collect(),
            acceptance: p.acceptance.as_ref().map(|a: &Acceptance| AcceptanceDoc {
                by: a.by.clone(),
                on: a.on,
                opinion: a.opinion.clone(),
                passed: a.passed,
                assessment: a.assessment.clone(),
            }),
            version: h.version,
            created_at: h.created_at,
            updated_at: h.updated_at,
        }
    }
}

/// Registering a hazard.
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct HazardCreate {
    /// The enterprise (in the caller's jurisdiction).
    pub enterprise_id: String,
    /// Found on, not after today.
    pub found_on: NaiveDate,
    /// Found by (a person or team), up to 100 characters.
    pub found_by: String,
    /// How it was found.
    #[schema(value_type = crate::plumbing::codes::HazardSource)]
    pub source: String,
    /// Its type.
    #[schema(value_type = crate::plumbing::codes::HazardType)]
    pub hazard_type: String,
    /// Its management class.
    #[schema(value_type = crate::plumbing::codes::ManagementClass)]
    pub management_class: String,
    /// What was found, up to 2,000 characters.
    pub description: String,
    /// The cause analysis.
    pub cause: Option<String>,
    /// Where.
    pub location: Option<String>,
    /// The risk it came from (the enterprise's).
    pub risk_id: Option<String>,
    /// The control measure that failed or was checked (the enterprise's).
    pub measure_id: Option<String>,
    /// The inspection record that found it (the enterprise's).
    pub record_id: Option<String>,
    /// The determination criterion it matches (`GET /api/v1/hazard-criteria`, its
    /// `reference`): then it is a major hazard. It must apply to the enterprise's sector.
    #[schema(example = "MEM-2023-10/11/7")]
    pub criterion: Option<String>,
    /// A regulator's reason for grading it major without a criterion (regulators only).
    pub major_reason: Option<String>,
}

/// The criterion named by `reference`, checked against the enterprise's sector later (by
/// the store); a violation at `field` when it names nothing.
pub(crate) fn criterion_of(reference: &str, field: &str) -> Result<Criterion, Violation> {
    let catalog = builtin();
    let mut parts = reference.split('/');
    let found = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(s), Some(a), Some(i), None) => CriteriaStandard::from_code(s)
            .zip(i.parse::<u32>().ok())
            .and_then(|(s, i)| catalog.find(s, a, i)),
        _ => None,
    };
    found.cloned().ok_or_else(|| {
        Violation::field(
            field,
            V::InvalidValue,
            format!("'{reference}' 不是判定标准中的一项（格式如 MEM-2023-10/3/2，见 GET /api/v1/hazard-criteria）"),
        )
    })
}

/// Register a hidden hazard (登记隐患).
///
/// A hazard that matches an item of the applicable determination standard is a major hazard
/// (重大事故隐患); a regulator may also grade one major with `major_reason`. The enterprise
/// registers its own hazards; regulators any within their jurisdiction.
#[utoipa::path(
    tag = "hazards",
    operation_id = "create_hazard",
    request_body(content = HazardCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Registered", body = HazardResponse,
            headers(("Location" = String, description = "URL of the hazard"), ("ETag" = String, description = "Version, quoted"))),
    )
)]
#[post("/hazards")]
pub async fn create_hazard(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::RecordDualPrevention)?;
    let today = state.today();
    let mut r = Reader::new(&body);
    let enterprise_id = r.required("enterprise_id", "企业 id", |r| {
        r.id("enterprise_id", "企业", EnterpriseId::parse)
    });
    let found_on = r.required("found_on", "发现日期", |r| {
        r.date_not_after("found_on", today)
    });
    let found_by = r.required_text("found_by", NAME, "排查人");
    let source = r.required("source", "隐患来源", |r| {
        r.code::<HazardSource>("source")
    });
    let hazard_type = r.required("hazard_type", "隐患类型", |r| {
        r.code::<HazardType>("hazard_type")
    });
    let management_class = r.required("management_class", "管理类别", |r| {
        r.code::<ManagementClass>("management_class")
    });
    let description = r.required_text("description", TEXT, "隐患描述");
    let cause = r.text("cause", TEXT);
    let location = r.text("location", NAME * 2);
    let criterion = r.text("criterion", NAME);
    let major_reason = r.text("major_reason", TEXT);
    let links = Links {
        risk_id: r.id("risk_id", "风险", safegrade_domain::RiskId::parse),
        measure_id: r.id("measure_id", "管控措施", safegrade_domain::MeasureId::parse),
        record_id: r.id("record_id", "排查记录", safegrade_domain::RecordId::parse),
    };
    let mut errors = r.finish("隐患");
    let criterion = criterion.and_then(|c| {
        criterion_of(&c, "criterion")
            .map_err(|v| errors.push(v))
            .ok()
    });
    let (
        Some(enterprise_id),
        Some(found_on),
        Some(found_by),
        Some(source),
        Some(hazard_type),
        Some(management_class),
        Some(description),
        true,
    ) = (
        enterprise_id,
        found_on,
        found_by,
        source,
        hazard_type,
        management_class,
        description,
        errors.is_empty(),
    )
    else {
        return Err(ApiError::invalid(errors));
    };
    if major_reason.is_some() && !caller.principal.data.role.is_regulator() {
        return Err(caller.forbidden(
            "不能不依判定标准认定重大事故隐患（major_reason 只供监管部门使用；请写明 criterion）",
        ));
    }
    let version = builtin().version.clone();
    let new = NewHazard {
        facts: HazardFacts {
            enterprise_id,
            found_on,
            found_by,
            source,
            hazard_type,
            management_class,
            description,
            cause,
            location,
            links,
        },
        criterion: criterion.map(|c| (c, version)),
        major_reason,
    };
    let (scope, actor) = (caller.scope(), caller.actor());
    crate::plumbing::write::post(
        &state,
        &caller,
        &req,
        key,
        &body,
        &enterprise_id.to_string(),
        move |tx| {
            let h = register(tx, &new, &scope, &actor)
                .map_err(ApiError::from)
                .map_err(not_found_says(NO_SUCH_ENTERPRISE))?;
            let (location, version) = (format!("/api/v1/hazards/{}", h.id), h.version);
            Ok(Answer::created(location, &HazardResponse::new(h, today))?.versioned(version))
        },
    )
    .await
}

/// Filters and paging of the hazard list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HazardQuery {
    /// Only this enterprise.
    pub enterprise_id: Option<uuid::Uuid>,
    /// Only this supervision area.
    pub area_code: Option<String>,
    /// Only this state.
    #[param(value_type = Option<crate::plumbing::codes::HazardState>)]
    pub state: Option<HazardState>,
    /// Only this grade.
    #[param(value_type = Option<crate::plumbing::codes::HazardGrade>)]
    pub grade: Option<HazardGrade>,
    /// Only open hazards (registered, rectifying, awaiting acceptance), or only the others.
    pub open: Option<bool>,
    /// Only open hazards past their deadline today (`true`), or only the others (`false`).
    pub overdue: Option<bool>,
    /// Only hazards under listed supervision (挂牌督办), or only the others.
    pub listed: Option<bool>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const CURSOR_KIND: &str = "hazard";

/// The hazards in the caller's jurisdiction (隐患台账), oldest first.
#[utoipa::path(
    tag = "hazards",
    operation_id = "list_hazards",
    params(HazardQuery),
    responses(
        (status = 200, description = "One page", body = ListResponse<HazardResponse>),
    )
)]
#[get("/hazards")]
pub async fn list_hazards(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<HazardQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (limit, after) = list::paging(q.limit, q.cursor.as_deref(), CURSOR_KIND)?;
    let today = state.today();
    let filter = HazardFilter {
        scope: caller.scope(),
        area_code: list::area_filter(q.area_code.as_deref())?,
        enterprise_id: q
            .enterprise_id
            .and_then(|u| EnterpriseId::parse(&u.to_string())),
        state: q.state,
        grade: q.grade,
        open: q.open,
        overdue: q.overdue.map(|o| (o, today)),
        listed: q.listed,
    };
    let rows = state
        .run(move |s| Ok(s.list_hazards(&filter, after, i64::from(limit) + 1)?))
        .await?;
    let rows = rows
        .into_iter()
        .map(|h| HazardResponse::new(h, today))
        .collect();
    let page = list::page(rows, limit, CURSOR_KIND, |h: &HazardResponse| h.id.clone());
    Ok(HttpResponse::Ok().json(page))
}

/// One hazard with its plan, listing, extensions and acceptance.
#[utoipa::path(
    tag = "hazards",
    operation_id = "get_hazard",
    params(("id" = uuid::Uuid, Path, description = "Hazard id")),
    responses(
        (status = 200, description = "The hazard", body = HazardResponse, headers(("ETag" = String, description = "Version, quoted"))),
    )
)]
#[get("/hazards/{id}")]
pub async fn get_hazard(
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<HazardId>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.scope();
    let h = state
        .run(move |s| Ok(s.get_hazard(id, &scope)?))
        .await
        .map_err(not_found_as("hazard", raw))?;
    let version = h.version;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{version}\"")))
        .json(HazardResponse::new(h, state.today())))
}

/// What a step may say; which members apply depends on the step.
#[derive(Debug, ToSchema)]
pub struct HazardStepBody {
    /// The day it is taken, not after today; default today.
    pub on: Option<NaiveDate>,
    /// What is said, up to 2,000 characters (kept on the event); for `regrade` without a
    /// criterion, the reason (required).
    pub note: Option<String>,
    /// `rectification` of a general hazard, `extension_request`: the deadline.
    pub deadline: Option<NaiveDate>,
    /// `rectification` of a major hazard: the 五落实 plan (its deadline is the hazard's).
    pub plan: Option<PlanDoc>,
    /// `acceptance`: who accepts (a named person).
    pub accepted_by: Option<String>,
    /// `acceptance`: the opinion.
    pub opinion: Option<String>,
    /// `acceptance`: passed (closed) or not (back to rectification); `extension_decision`:
    /// not used.
    pub passed: Option<bool>,
    /// `acceptance` of a major hazard: the post-rectification assessment (整改后评估).
    pub assessment: Option<String>,
    /// `extension_request`: why.
    pub reason: Option<String>,
    /// `extension_decision`: approved or not.
    pub approved: Option<bool>,
    /// `regrade`: the criterion matched (instead of a reason in `note`).
    pub criterion: Option<String>,
    /// `listing`: level, authority, document number, deadline and the notice day.
    pub listing: Option<ListingRequest>,
    /// `listing`, `delisting`: the day of the public notice.
    pub notice_on: Option<NaiveDate>,
}

/// What a listing says.
#[derive(Debug, ToSchema)]
pub struct ListingRequest {
    /// Level, like 市级, 县级.
    pub level: String,
    /// The supervising authority.
    pub authority: String,
    /// The listing document number.
    pub document_no: String,
    /// The rectification deadline the listing sets.
    pub deadline: NaiveDate,
}

/// Reads the facts of `kind` from the body.
fn step_of(
    kind: HazardStep,
    r: &mut Reader<'_>,
    on: NaiveDate,
    note_given: bool,
) -> Option<(Step, Option<Criterion>)> {
    Some(match kind {
        HazardStep::FixOnTheSpot => (Step::FixOnTheSpot, None),
        HazardStep::Completion => (Step::Completion, None),
        HazardStep::Rectification => {
            let deadline = r.date("deadline");
            let plan = r.object("plan").and_then(|o| {
                let mut p = Reader::nested(o, "/plan");
                let plan = (
                    p.required_text("measures", TEXT, "整改措施"),
                    p.required_text("responsible", NAME, "责任人"),
                    p.integer("funds_cny"),
                    p.date("deadline"),
                    p.required_text("contingency", TEXT, "整改期间的安全措施和应急预案"),
                    p.required_text("principal", NAME, "主要负责人"),
                );
                if plan.2.is_none() {
                    p.require("funds_cny", "整改资金（元）");
                }
                if plan.3.is_none() {
                    p.require("deadline", "整改时限");
                }
                r.errors.extend(p.finish("五落实方案"));
                match plan {
                    (
                        Some(measures),
                        Some(responsible),
                        Some(funds_cny),
                        Some(deadline),
                        Some(contingency),
                        Some(principal),
                    ) => Some(Plan {
                        measures,
                        responsible,
                        funds_cny,
                        deadline,
                        contingency,
                        principal,
                    }),
                    _ => None,
                }
            });
            (Step::Rectification { deadline, plan }, None)
        }
        HazardStep::Acceptance => {
            let by = r.required_text("accepted_by", NAME, "验收人");
            let opinion = r.required_text("opinion", TEXT, "验收意见");
            let passed = r.flag("passed");
            if passed.is_none() {
                r.require("passed", "验收是否通过");
            }
            let assessment = r.text("assessment", TEXT);
            (
                Step::Acceptance(Acceptance {
                    by: by?,
                    on,
                    opinion: opinion?,
                    passed: passed?,
                    assessment,
                }),
                None,
            )
        }
        HazardStep::Regrade => {
            let criterion = r.text("criterion", NAME).and_then(|c| {
                criterion_of(&c, "criterion")
                    .map_err(|v| r.errors.push(v))
                    .ok()
            });
            if criterion.is_none() && !note_given {
                r.require("note", "认定为重大事故隐患的理由（或写明 criterion）");
            }
            (Step::Regrade, criterion)
        }
        HazardStep::ExtensionRequest => {
            let deadline = r.date("deadline");
            if deadline.is_none() {
                r.require("deadline", "申请延至的日期");
            }
            let reason = r.required_text("reason", TEXT, "延期理由");
            (
                Step::ExtensionRequest {
                    deadline: deadline?,
                    reason: reason?,
                },
                None,
            )
        }
        HazardStep::ExtensionDecision => {
            let approved = r.flag("approved");
            if approved.is_none() {
                r.require("approved", "是否同意延期");
            }
            (
                Step::ExtensionDecision {
                    approved: approved?,
                },
                None,
            )
        }
        HazardStep::Listing => {
            let notice_on = r.date("notice_on");
            let Some(o) = r.object("listing") else {
                r.require("listing", "挂牌督办的级别、督办部门、文号和整改期限");
                return None;
            };
            let mut l = Reader::nested(o, "/listing");
            let level = l.required_text("level", NAME, "督办级别");
            let authority = l.required_text("authority", NAME, "督办部门");
            let document_no = l.required_text("document_no", NAME, "督办文号");
            let deadline = l.date("deadline");
            if deadline.is_none() {
                l.require("deadline", "督办的整改期限");
            }
            r.errors.extend(l.finish("挂牌督办"));
            (
                Step::Listing(Listing {
                    level: level?,
                    authority: authority?,
                    document_no: document_no?,
                    listed_on: on,
                    deadline: deadline?,
                    notice_on,
                    delisted_on: None,
                    delisting_notice_on: None,
                }),
                None,
            )
        }
        HazardStep::Delisting => (
            Step::Delisting {
                notice_on: r.date("notice_on"),
            },
            None,
        ),
    })
}

/// Take a step of a hazard's rectification (隐患治理): `fix_on_the_spot` (general hazards),
/// `rectification` (a deadline; for a major hazard the 五落实 plan and the principal),
/// `completion`, `acceptance` (a named person and opinion; for a major hazard the
/// post-rectification assessment), `extension_request` / `extension_decision`, and the
/// regulators' `regrade`, `listing` (挂牌督办) and `delisting`.
#[utoipa::path(
    tag = "hazards",
    operation_id = "take_hazard_step",
    params(
        ("id" = uuid::Uuid, Path, description = "Hazard id"),
        ("step" = crate::plumbing::codes::HazardStep, Path, description = "The step"),
    ),
    request_body(content = HazardStepBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The hazard after the step", body = HazardResponse, headers(("ETag" = String, description = "New version, quoted"))),
    )
)]
#[post("/hazards/{id}/{step}")]
pub async fn take_hazard_step(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    key: IdempotencyKey,
    IfMatch(expected): IfMatch,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let (PathId(id, raw), kind) =
        step_path::<HazardId, HazardStep>(path.into_inner(), &caller, may_take)?;
    let today = state.today();
    let mut r = Reader::new(&body);
    let on = r.step_day(today);
    let note = r.text("note", TEXT);
    for k in STEP_MEMBERS {
        if !applies(kind, k) {
            r.not_applicable(k, &format!("不适用于“{}”", kind.label_zh()));
        }
    }
    let facts = step_of(kind, &mut r, on, note.is_some());
    let errors = r.finish("隐患治理");
    let (Some((step_facts, criterion)), true) = (facts, errors.is_empty()) else {
        return Err(ApiError::invalid(errors));
    };
    let version = builtin().version.clone();
    // Listings, de-listings and extension requests are held to the listed-supervision
    // parameters in force, counted in working days.
    let supervision = if matches!(
        kind,
        HazardStep::Listing | HazardStep::Delisting | HazardStep::ExtensionRequest
    ) {
        let calendar = state.run(|s| Ok(s.calendar()?)).await?;
        Some((state.grade_rules.listed_supervision, calendar))
    } else {
        None
    };
    let request = StepRequest {
        step: step_facts,
        on,
        note,
        criterion: criterion.map(|c| (c, version)),
        supervision,
    };
    let (scope, actor) = (caller.scope(), caller.actor());
    crate::plumbing::write::post(
        &state,
        &caller,
        &req,
        key,
        &body,
        &id.to_string(),
        move |tx| {
            let h = step(tx, id, (&scope, &actor, expected), request)
                .map_err(ApiError::from)
                .map_err(not_found_as("hazard", raw))?;
            let version = h.version;
            Ok(Answer::ok(&HazardResponse::new(h, today))?.versioned(version))
        },
    )
    .await
}

/// The members that belong to some steps only (besides `on` and `note`).
const STEP_MEMBERS: [&str; 11] = [
    "deadline",
    "plan",
    "accepted_by",
    "opinion",
    "passed",
    "assessment",
    "reason",
    "approved",
    "criterion",
    "listing",
    "notice_on",
];

/// Whether member `key` belongs to step `kind`.
fn applies(kind: HazardStep, key: &str) -> bool {
    use HazardStep as H;
    match key {
        "deadline" => matches!(kind, H::Rectification | H::ExtensionRequest),
        "plan" => kind == H::Rectification,
        "accepted_by" | "opinion" | "passed" | "assessment" => kind == H::Acceptance,
        "reason" => kind == H::ExtensionRequest,
        "approved" => kind == H::ExtensionDecision,
        "criterion" => kind == H::Regrade,
        "listing" => kind == H::Listing,
        "notice_on" => matches!(kind, H::Listing | H::Delisting),
        _ => true,
    }
}

/// The hazards' operations.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(list_hazard_criteria)
        .service(list_hazards)
        .service(create_hazard)
        .service(get_hazard)
        .service(take_hazard_step)
        .service(get_hazard_stats)
        .service(export_hazard_ledger);
}

/// A period of the hazard statistics: a quarter (`2025-Q3`) or a year (`2025`).
fn period_of(
    raw: Option<&str>,
    today: NaiveDate,
) -> Result<(String, NaiveDate, NaiveDate, NaiveDate), ApiError> {
    use chrono::Datelike;
    let bad = |raw: &str| {
        ApiError::invalid(vec![Violation::field(
            "period",
            V::InvalidValue,
            format!("period 须为季度（如 2025-Q3）或年度（如 2025），实际为 '{raw}'"),
        )])
    };
    let raw = raw.map_or_else(
        || format!("{}-Q{}", today.year(), today.month0() / 3 + 1),
        str::to_owned,
    );
    let day = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| bad(&raw));
    let (from, to, due) = match raw.split_once("-Q") {
        Some((y, q)) => {
            let (y, q): (i32, u32) = (
                y.parse().map_err(|_| bad(&raw))?,
                q.parse().map_err(|_| bad(&raw))?,
            );
            if !(1..=4).contains(&q) {
                return Err(bad(&raw));
            }
            let from = day(y, q * 3 - 2, 1)?;
            let next = if q == 4 {
                day(y + 1, 1, 1)?
            } else {
                day(y, q * 3 + 1, 1)?
            };
            // Reported by the 15th of the month after the quarter (令16号, (R)).
            (
                from,
                next - chrono::Duration::days(1),
                next + chrono::Duration::days(14),
            )
        }
        None => {
            let y: i32 = raw.parse().map_err(|_| bad(&raw))?;
            // Reported by 31 January of the next year.
            (day(y, 1, 1)?, day(y, 12, 31)?, day(y + 1, 1, 31)?)
        }
    };
    Ok((raw, from, to, due))
}

/// Hazards of one grade over the period.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct HazardCounts {
    /// Found in the period.
    pub found: i64,
    /// Closed (accepted or fixed on the spot) in the period.
    pub closed: i64,
    /// Open at the period's end.
    pub open: i64,
    /// Open at the period's end and past their deadline.
    pub overdue: i64,
}

/// Risks per colour (the residual level where assessed, else the inherent).
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct RiskColours {
    /// 重大风险 (red).
    pub red: i64,
    /// 较大风险 (orange).
    pub orange: i64,
    /// 一般风险 (yellow).
    pub yellow: i64,
    /// 低风险 (blue).
    pub blue: i64,
}

/// One area's figures (or the total, with `area_code` null).
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct AreaHazardStats {
    /// The area; null for the total.
    pub area_code: Option<String>,
    /// Its name.
    pub area_name: Option<String>,
    /// 一般事故隐患.
    pub general: HazardCounts,
    /// 重大事故隐患.
    pub major: HazardCounts,
    /// The four-colour distribution of the risks (now, not for the period).
    pub risks: RiskColours,
}

/// The hazard statistics of a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct HazardStatsResponse {
    /// The period asked: `2025-Q3` or `2025`.
    pub period: String,
    /// Its first day.
    pub from: NaiveDate,
    /// Its last day.
    pub to: NaiveDate,
    /// By when enterprises report these figures (15th of the month after a quarter, 31
    /// January after a year).
    pub report_due_on: NaiveDate,
    /// Per area within the jurisdiction.
    pub areas: Vec<AreaHazardStats>,
    /// All areas together.
    pub total: AreaHazardStats,
}

/// Filters of the hazard statistics.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HazardStatsQuery {
    /// Only this supervision area.
    pub area_code: Option<String>,
    /// Only enterprises of this supervised sector.
    #[param(value_type = Option<crate::plumbing::codes::Sector>)]
    pub sector: Option<Sector>,
    /// A quarter (`2025-Q3`) or a year (`2025`); default the current quarter.
    pub period: Option<String>,
}

/// Hazard statistics (隐患排查治理统计) per area for a quarter or a year: found, closed, open
/// and overdue at the period's end, by grade — the figures enterprises report quarterly and
/// yearly — with the four-colour distribution of the risks.
#[utoipa::path(
    tag = "hazards",
    operation_id = "get_hazard_stats",
    params(HazardStatsQuery),
    responses(
        (status = 200, description = "The figures", body = HazardStatsResponse),
    )
)]
#[get("/stats/hazards")]
pub async fn get_hazard_stats(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<HazardStatsQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (period, from, to, report_due_on) = period_of(q.period.as_deref(), state.today())?;
    let filter = safegrade_store::hazards::HazardStatsFilter {
        scope: caller.scope(),
        area_code: list::area_filter(q.area_code.as_deref())?,
        sector: q.sector,
    };
    let (hazards, risks) = state
        .run(move |s| Ok(s.hazard_stats(&filter, (from, to))?))
        .await?;
    let mut areas: std::collections::BTreeMap<String, AreaHazardStats> = Default::default();
    let mut total = AreaHazardStats::default();
    for h in hazards {
        for a in [areas.entry(h.area_code.clone()).or_default(), &mut total] {
            let c = if h.grade == HazardGrade::Major.as_str() {
                &mut a.major
            } else {
                &mut a.general
            };
            c.found += h.found;
            c.closed += h.closed;
            c.open += h.open;
            c.overdue += h.overdue;
        }
    }
    for r in risks {
        for a in [areas.entry(r.area_code.clone()).or_default(), &mut total] {
            match safegrade_domain::risks::RiskLevel::from_code(&r.level) {
                Some(safegrade_domain::risks::RiskLevel::Major) => a.risks.red += r.n,
                Some(safegrade_domain::risks::RiskLevel::Significant) => a.risks.orange += r.n,
                Some(safegrade_domain::risks::RiskLevel::General) => a.risks.yellow += r.n,
                Some(safegrade_domain::risks::RiskLevel::Low) => a.risks.blue += r.n,
                None => {}
            }
        }
    }
    let areas = areas
        .into_iter()
        .map(|(code, mut a)| {
            a.area_name = safegrade_domain::find_area(&code).map(|x| x.name_zh.to_owned());
            a.area_code = Some(code);
            a
        })
        .collect();
    Ok(HttpResponse::Ok().json(HazardStatsResponse {
        period,
        from,
        to,
        report_due_on,
        areas,
        total,
    }))
}

/// Filters of the hazard ledger export.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    /// Only this enterprise.
    pub enterprise_id: Option<uuid::Uuid>,
    /// Only this supervision area.
    pub area_code: Option<String>,
    /// Only open hazards (or only closed ones).
    pub open: Option<bool>,
    /// `csv` (default) or `xlsx`.
    pub format: Option<String>,
}

/// Headers of the hazard ledger, in the order of [`ledger_row`].
const LEDGER_HEADERS: &[&str] = &[
    "隐患编号",
    "企业名称",
    "监管区域",
    "发现日期",
    "排查人",
    "隐患来源",
    "隐患类型",
    "管理类别",
    "隐患描述",
    "隐患等级",
    "判定标准条目",
    "状态",
    "整改期限",
    "是否逾期",
    "挂牌督办",
    "验收人",
    "验收日期",
];

/// One hazard as a row of the ledger.
fn ledger_row(h: Hazard, name: Option<String>, today: NaiveDate) -> Vec<Cell> {
    let p = &h.progress;
    vec![
        h.id.to_string().into(),
        name.into(),
        safegrade_domain::find_area(&h.area_code)
            .map_or(h.area_code.as_str(), |a| a.name_zh)
            .into(),
        h.facts.found_on.into(),
        h.facts.found_by.clone().into(),
        h.facts.source.label_zh().into(),
        h.facts.hazard_type.label_zh().into(),
        h.facts.management_class.label_zh().into(),
        h.facts.description.clone().into(),
        p.grade.label_zh().into(),
        h.criterion.as_ref().map(|c| c.0.clone()).into(),
        p.state.label_zh().into(),
        p.effective_deadline().into(),
        if p.overdue(today) { "是" } else { "否" }.into(),
        p.listing
            .as_ref()
            .map(|l| format!("{} {}", l.level, l.document_no))
            .into(),
        p.acceptance.as_ref().map(|a| a.by.clone()).into(),
        p.acceptance.as_ref().map(|a| a.on).into(),
    ]
}

/// The hazard ledger (隐患排查治理台账) as CSV (UTF-8 with a byte-order mark, so spreadsheet
/// programs show the Chinese) or, with `format=xlsx`, Excel: one row per hazard in the
/// caller's jurisdiction, for one enterprise or one area. Streamed: any size.
#[utoipa::path(
    tag = "hazards",
    operation_id = "export_hazard_ledger",
    params(LedgerQuery),
    responses(
        (status = 200, description = "The ledger", content_type = "text/csv", body = String),
    )
)]
#[get("/hazard-ledger")]
pub async fn export_hazard_ledger(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<LedgerQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let today = state.today();
    let format = Format::parse(q.format.as_deref().unwrap_or("csv"))
        .map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.detail))?;
    let filter = HazardFilter {
        scope: caller.scope(),
        area_code: list::area_filter(q.area_code.as_deref())?,
        enterprise_id: q
            .enterprise_id
            .and_then(|u| EnterpriseId::parse(&u.to_string())),
        state: None,
        grade: None,
        open: q.open,
        overdue: None,
        listed: None,
    };
    let pages = export::paged(move |store, after| {
        let page = store.list_hazards(&filter, after, 1000)?;
        let next = (page.len() == 1000)
            .then(|| page.last().map(|h| h.id.to_string()))
            .flatten();
        let ids: Vec<EnterpriseId> = page.iter().map(|h| h.facts.enterprise_id).collect();
        let names = store.enterprise_names(&ids)?;
        let rows = page
            .into_iter()
            .map(|h| {
                let name = names.get(&h.facts.enterprise_id).cloned();
                ledger_row(h, name, today)
            })
            .collect();
        Ok((rows, next))
    });
    Ok(export::respond(
        &state,
        format,
        Sheet {
            name: "隐患排查治理台账",
            headers: LEDGER_HEADERS,
            pages,
        },
    ))
}
