//! The risk register (安全风险分级管控): analysis units per post, process step, device, place
//! or activity; risks scored into four levels; control measures.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use safegrade_domain::grading::AccidentKind;
use safegrade_domain::hazards::criteria::builtin;
use safegrade_domain::risks::{
    Assessed, BandTable, MeasureClass, MeasureMode, RiskLevel, RiskMethod, Scoring, UnitKind,
    assess, check_residual,
};
use safegrade_domain::{
    Action, CodeList, EnterpriseId, RiskId, RiskUnitId, Violation, ViolationCode as V,
};
use safegrade_store::risks::{
    Measure, MeasureData, RegisterFilter, Risk, RiskData, Stop, Unit, UnitData, add_stop,
    create_measure, create_risk, create_unit,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::plumbing::app::AppState;
use crate::plumbing::auth::Caller;
use crate::plumbing::error::{ApiError, NO_SUCH_ENTERPRISE, not_found_as, not_found_says};
use crate::plumbing::extract::{IdempotencyKey, IfMatch, JsonObject, PathId};
use crate::plumbing::list::{self, ListResponse};
use crate::plumbing::members::Reader;
use crate::plumbing::write::Answer;

/// Longest free text, in characters.
const TEXT: usize = 2000;
/// Longest name, in characters.
const NAME: usize = 100;

/// A stop period of a unit (检维修、停用).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StopDoc {
    /// From (inclusive).
    pub from: NaiveDate,
    /// To (inclusive).
    pub to: NaiveDate,
    /// Why, like 检维修 or 停用.
    pub reason: String,
}

/// A risk analysis unit (风险分析单元).
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskUnitResponse {
    /// Id.
    pub id: String,
    /// The enterprise.
    pub enterprise_id: String,
    /// Its supervision area.
    pub area_code: String,
    /// Post, process step, device/facility, place or activity.
    #[schema(value_type = crate::plumbing::codes::UnitKind)]
    pub kind: UnitKind,
    /// Name.
    pub name: String,
    /// Where.
    pub location: Option<String>,
    /// The responsible department.
    pub department: String,
    /// The responsible person.
    pub responsible: String,
    /// Where it is controlled.
    #[schema(value_type = crate::plumbing::codes::ControlLevel)]
    pub control_level: String,
    /// The major hazard installation (重大危险源) it belongs to.
    pub installation: Option<String>,
    /// Stop periods: its inspection tasks are not due then.
    pub stops: Vec<StopDoc>,
    /// Version.
    pub version: i64,
    /// Added at (UTC).
    pub created_at: DateTime<Utc>,
}

impl From<Unit> for RiskUnitResponse {
    fn from(u: Unit) -> Self {
        let d = u.data;
        Self {
            id: u.id.to_string(),
            enterprise_id: d.enterprise_id.to_string(),
            area_code: u.area_code,
            kind: d.kind,
            name: d.name,
            location: d.location,
            department: d.department,
            responsible: d.responsible,
            control_level: d.control_level,
            installation: d.installation,
            stops: d
                .stops
                .into_iter()
                .map(|s| StopDoc {
                    from: s.from,
                    to: s.to,
                    reason: s.reason,
                })
                .collect(),
            version: u.version,
            created_at: u.created_at,
        }
    }
}

/// Adding a unit.
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct RiskUnitCreate {
    /// The enterprise (in the caller's jurisdiction).
    pub enterprise_id: String,
    /// Post, process step, device/facility, place or activity.
    #[schema(value_type = crate::plumbing::codes::UnitKind)]
    pub kind: String,
    /// Name, up to 100 characters.
    pub name: String,
    /// Where.
    pub location: Option<String>,
    /// The responsible department.
    pub department: String,
    /// The responsible person.
    pub responsible: String,
    /// Where it is controlled.
    #[schema(value_type = crate::plumbing::codes::ControlLevel)]
    pub control_level: String,
    /// The major hazard installation (重大危险源) it belongs to.
    pub installation: Option<String>,
    /// Stop periods.
    pub stops: Option<Vec<StopDoc>>,
}

fn stops(r: &mut Reader<'_>) -> Vec<Stop> {
    let Some(v) = r.array("stops") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in v.iter().enumerate() {
        let at = format!("/stops/{i}");
        let Some(o) = item.as_object() else {
            r.errors.push(Violation {
                pointer: at,
                code: V::InvalidType,
                message: "停用时段须为对象：{\"from\", \"to\", \"reason\"}".into(),
            });
            continue;
        };
        let mut s = Reader::nested(o, &at);
        let (from, to) = (s.date("from"), s.date("to"));
        let reason = s.required_text("reason", NAME, "停用原因");
        if from.is_none() {
            s.require("from", "开始日期");
        }
        if to.is_none() {
            s.require("to", "结束日期");
        }
        if let (Some(f), Some(t)) = (from, to)
            && t < f
        {
            s.require("to", "结束日期不早于开始日期");
        }
        r.errors.extend(s.finish("停用时段"));
        if let (Some(from), Some(to), Some(reason)) = (from, to, reason) {
            out.push(Stop { from, to, reason });
        }
    }
    out
}

/// Add a risk analysis unit (新增风险分析单元): a post, process step, device or facility,
/// place or activity of an enterprise, with its responsible department and person and its
/// control level.
#[utoipa::path(
    tag = "risks",
    operation_id = "create_risk_unit",
    request_body(content = RiskUnitCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Added", body = RiskUnitResponse,
            headers(("Location" = String, description = "URL of the unit"), ("ETag" = String, description = "Version, quoted"))),
    )
)]
#[post("/risk-units")]
pub async fn create_risk_unit(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::RecordDualPrevention)?;
    let mut r = Reader::new(&body);
    let enterprise = r.required("enterprise_id", "企业 id", |r| {
        r.id("enterprise_id", "企业", EnterpriseId::parse)
    });
    let kind = r.required("kind", "单元类型", |r| r.code::<UnitKind>("kind"));
    let name = r.required_text("name", NAME, "单元名称");
    let location = r.text("location", NAME * 2);
    let department = r.required_text("department", NAME, "责任部门");
    let responsible = r.required_text("responsible", NAME, "责任人");
    let levels: Vec<&str> = state
        .grade_rules
        .control_levels
        .iter()
        .map(|l| l.code.as_str())
        .collect();
    let control_level = r.required("control_level", "管控层级", |r| {
        r.one_of("control_level", &levels)
    });
    let installation = r.text("installation", NAME);
    let stops = stops(&mut r);
    let errors = r.finish("风险分析单元");
    let (
        Some(enterprise_id),
        Some(kind),
        Some(name),
        Some(department),
        Some(responsible),
        Some(control_level),
        true,
    ) = (
        enterprise,
        kind,
        name,
        department,
        responsible,
        control_level,
        errors.is_empty(),
    )
    else {
        return Err(ApiError::invalid(errors));
    };
    let data = UnitData {
        enterprise_id,
        kind,
        name,
        location,
        department,
        responsible,
        control_level,
        installation,
        stops,
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
            let u = create_unit(tx, &data, &scope, &actor)
                .map_err(ApiError::from)
                .map_err(not_found_says(NO_SUCH_ENTERPRISE))?;
            let (location, version) = (format!("/api/v1/risk-units/{}", u.id), u.version);
            Ok(Answer::created(location, &RiskUnitResponse::from(u))?.versioned(version))
        },
    )
    .await
}

/// Filters and paging of the unit and risk lists.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RiskUnitQuery {
    /// Only this enterprise.
    pub enterprise_id: Option<uuid::Uuid>,
    /// Only this supervision area.
    pub area_code: Option<String>,
    /// Only this kind.
    #[param(value_type = Option<crate::plumbing::codes::UnitKind>)]
    pub kind: Option<UnitKind>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The risk analysis units in the caller's jurisdiction, oldest first.
#[utoipa::path(
    tag = "risks",
    operation_id = "list_risk_units",
    params(RiskUnitQuery),
    responses(
        (status = 200, description = "One page", body = ListResponse<RiskUnitResponse>),
    )
)]
#[get("/risk-units")]
pub async fn list_risk_units(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<RiskUnitQuery>,
) -> Result<HttpResponse, ApiError> {
    const KIND: &str = "risk_unit";
    let q = query.into_inner();
    let (limit, after) = list::paging(q.limit, q.cursor.as_deref(), KIND)?;
    let filter = RegisterFilter {
        scope: caller.scope(),
        area_code: list::area_filter(q.area_code.as_deref())?,
        enterprise_id: q
            .enterprise_id
            .and_then(|u| EnterpriseId::parse(&u.to_string())),
        kind: q.kind,
        unit_id: None,
        level: None,
    };
    let rows = state
        .run(move |s| Ok(s.list_risk_units(&filter, after, i64::from(limit) + 1)?))
        .await?;
    let rows = rows.into_iter().map(RiskUnitResponse::from).collect();
    Ok(
        HttpResponse::Ok().json(list::page(rows, limit, KIND, |u: &RiskUnitResponse| {
            u.id.clone()
        })),
    )
}

/// One risk analysis unit.
#[utoipa::path(
    tag = "risks",
    operation_id = "get_risk_unit",
    params(("id" = uuid::Uuid, Path, description = "Unit id")),
    responses(
        (status = 200, description = "The unit", body = RiskUnitResponse, headers(("ETag" = String, description = "Version, quoted"))),
    )
)]
#[get("/risk-units/{id}")]
pub async fn get_risk_unit(
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<RiskUnitId>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.scope();
    let u = state
        .run(move |s| Ok(s.get_risk_unit(id, &scope)?))
        .await
        .map_err(not_found_as("risk_unit", raw))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", u.version)))
        .json(RiskUnitResponse::from(u)))
}

/// A stop period to add.
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct StopCreate {
    /// From (inclusive).
    pub from: NaiveDate,
    /// To (inclusive), not before `from`.
    pub to: NaiveDate,
    /// Why, like 检维修 or 停用; up to 100 characters.
    pub reason: String,
}

/// Add a stop period to a risk analysis unit (登记检维修、停用时段): the unit's inspection
/// tasks are not due while it is stopped. Periods of one unit do not overlap.
#[utoipa::path(
    tag = "risks",
    operation_id = "add_unit_stop",
    params(("id" = uuid::Uuid, Path, description = "Unit id")),
    request_body(content = StopCreate, content_type = "application/json"),
    responses(
        (status = 200, description = "The unit with the period", body = RiskUnitResponse, headers(("ETag" = String, description = "New version, quoted"))),
    )
)]
#[post("/risk-units/{id}/stops")]
pub async fn add_unit_stop(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<RiskUnitId>,
    key: IdempotencyKey,
    IfMatch(expected): IfMatch,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::RecordDualPrevention)?;
    let mut r = Reader::new(&body);
    let from = r.required("from", "停用时段的开始日期", |r| r.date("from"));
    let to = r.required("to", "停用时段的结束日期", |r| r.date("to"));
    let reason = r.required_text("reason", NAME, "停用原因（检维修、停用）");
    let mut errors = r.finish("停用时段");
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        errors.push(Violation::field(
            "to",
            V::OutOfRange,
            "结束日期早于开始日期",
        ));
    }
    let (Some(from), Some(to), Some(reason), true) = (from, to, reason, errors.is_empty()) else {
        return Err(ApiError::invalid(errors));
    };
    let stop = Stop { from, to, reason };
    let (scope, actor) = (caller.scope(), caller.actor());
    crate::plumbing::write::post(
        &state,
        &caller,
        &req,
        key,
        &body,
        &id.to_string(),
        move |tx| {
            let u = add_stop(tx, id, stop, (&scope, &actor, expected))
                .map_err(ApiError::from)
                .map_err(not_found_as("risk_unit", raw))?;
            let version = u.version;
            Ok(Answer::ok(&RiskUnitResponse::from(u))?.versioned(version))
        },
    )
    .await
}

/// An assessment of a risk: the method, the factors, the score, the level and its colour.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssessedResponse {
    /// `lec`, `ls` or `direct`.
    #[schema(value_type = crate::plumbing::codes::RiskMethod)]
    pub method: String,
    /// The factors (`l`, `e`, `c` for LEC; `l`, `s` for LS).
    pub factors: std::collections::BTreeMap<String, f64>,
    /// The score (D or R); null for a direct judgement.
    pub score: Option<f64>,
    /// The level.
    #[schema(value_type = crate::plumbing::codes::RiskLevel)]
    pub level: RiskLevel,
    /// Its colour: red, orange, yellow or blue.
    pub colour: String,
    /// The band table used, with its version.
    pub band_table: Option<String>,
    /// Forced to 重大 by a determination criterion.
    pub forced_major: bool,
}

impl From<Assessed> for AssessedResponse {
    fn from(a: Assessed) -> Self {
        Self {
            method: a.method,
            factors: a.factors.into_iter().collect(),
            score: a.score,
            level: a.level,
            colour: a.level.colour().to_owned(),
            band_table: a.band_table,
            forced_major: a.forced_major,
        }
    }
}

/// A risk (风险).
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskResponse {
    /// Id.
    pub id: String,
    /// The enterprise.
    pub enterprise_id: String,
    /// Its supervision area.
    pub area_code: String,
    /// Its analysis unit.
    pub unit_id: String,
    /// Name (the risk event).
    pub name: String,
    /// The accident kinds it may lead to (GB 6441).
    #[schema(value_type = Vec<crate::plumbing::codes::AccidentKind>)]
    pub accident_kinds: Vec<AccidentKind>,
    /// The inherent risk.
    pub inherent: AssessedResponse,
    /// The residual risk after the control measures.
    pub residual: Option<AssessedResponse>,
    /// The determination criterion that makes it 重大.
    pub criterion: Option<String>,
    /// The catalog version the criterion was judged under.
    pub criteria_version: Option<String>,
    /// Version.
    pub version: i64,
    /// Registered at (UTC).
    pub created_at: DateTime<Utc>,
}

impl From<Risk> for RiskResponse {
    fn from(r: Risk) -> Self {
        Self {
            id: r.id.to_string(),
            enterprise_id: r.enterprise_id.to_string(),
            area_code: r.area_code,
            unit_id: r.unit_id.to_string(),
            name: r.name,
            accident_kinds: r.accident_kinds,
            inherent: r.inherent.into(),
            residual: r.residual.map(Into::into),
            criterion: r.criterion.as_ref().map(|c| c.0.clone()),
            criteria_version: r.criterion.map(|c| c.1),
            version: r.version,
            created_at: r.created_at,
        }
    }
}

/// How a risk is scored.
#[derive(Debug, ToSchema)]
pub struct ScoringRequest {
    /// `lec`, `ls`, `mes` or `direct`.
    #[schema(value_type = crate::plumbing::codes::RiskMethod)]
    pub method: String,
    /// Likelihood: LEC 10, 6, 3, 1, 0.5, 0.2, 0.1; LS 1–5.
    pub l: Option<f64>,
    /// Control measures (MES): 5 none, 3 mitigating only, 1 effective preventive measures.
    pub m: Option<f64>,
    /// Exposure: LEC and MES 10, 6, 3, 2, 1, 0.5.
    pub e: Option<f64>,
    /// Consequence (LEC): 100, 40, 15, 7, 3, 1.
    pub c: Option<f64>,
    /// Severity: LS 1–5; MES 10, 8, 4, 2, 1.
    pub s: Option<f64>,
    /// The band table, with its version (`GET /api/v1/risk-band-tables` lists those in
    /// force); default the method's first: `lec-a@2026-12-05` for LEC (`lec-b@2026-12-05`
    /// is the other mapping), `ls-a@2026-12-05` for LS, `mes-a@2026-12-05` for MES.
    pub band_table: Option<String>,
    /// A direct judgement's level.
    #[schema(value_type = Option<crate::plumbing::codes::RiskLevel>)]
    pub level: Option<String>,
}

/// One band of a band table: scores above `above` (up to the band above) get `level`.
#[derive(Debug, Serialize, ToSchema)]
pub struct BandResponse {
    /// The threshold: a score strictly above it gets this level; null for the lowest band.
    pub above: Option<u32>,
    /// The level.
    #[schema(value_type = crate::plumbing::codes::RiskLevel)]
    pub level: RiskLevel,
    /// Its colour on the four-colour map: red, orange, yellow, blue.
    pub colour: String,
}

/// A band table in force: how a method's scores map to the four levels.
#[derive(Debug, Serialize, ToSchema)]
pub struct BandTableResponse {
    /// Its id with the version, as a risk's `band_table` names it.
    pub id: String,
    /// The method it grades.
    #[schema(value_type = crate::plumbing::codes::RiskMethod)]
    pub method: RiskMethod,
    /// What it is, in Chinese.
    pub title: String,
    /// Whether it is the method's default (the first of the method).
    pub default: bool,
    /// Its bands, highest first.
    pub bands: Vec<BandResponse>,
}

/// The risk band tables in force (风险分级表): for each scoring method (LEC, LS, MES) how
/// scores map to 重大 / 较大 / 一般 / 低, the built-in ones and any the city's rules file adds.
/// A risk's `band_table` names one; without it, the method's default is used. Not
/// paginated.
#[utoipa::path(
    tag = "risks",
    operation_id = "list_risk_band_tables",
    responses(
        (status = 200, description = "All tables (one page)", body = ListResponse<BandTableResponse>),
    )
)]
#[get("/risk-band-tables")]
pub async fn list_risk_band_tables(_caller: Caller, state: web::Data<AppState>) -> HttpResponse {
    let tables = &state.grade_rules.band_tables;
    let items = tables
        .iter()
        .map(|t| BandTableResponse {
            id: t.id.clone(),
            method: t.method,
            title: t.title.clone(),
            default: tables.iter().find(|o| o.method == t.method).map(|o| &o.id) == Some(&t.id),
            bands: t
                .bands
                .iter()
                .map(|(above, level)| (Some(*above), *level))
                .chain(std::iter::once((None, t.rest)))
                .map(|(above, level)| BandResponse {
                    above,
                    level,
                    colour: level.colour().to_owned(),
                })
                .collect(),
        })
        .collect();
    ListResponse {
        items,
        next_cursor: None,
    }
    .into_response()
}

/// Registering a risk.
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct RiskCreate {
    /// Its analysis unit (in the caller's jurisdiction).
    pub unit_id: String,
    /// Name (the risk event), up to 100 characters.
    pub name: String,
    /// The accident kinds it may lead to (GB 6441 codes).
    #[schema(value_type = Vec<crate::plumbing::codes::AccidentKind>)]
    pub accident_kinds: Vec<String>,
    /// The inherent risk.
    pub inherent: ScoringRequest,
    /// The residual risk after the control measures (not above the inherent one).
    pub residual: Option<ScoringRequest>,
    /// A determination criterion it matches (`GET /api/v1/hazard-criteria`): it is 重大.
    pub criterion: Option<String>,
}

fn scoring(o: &Map<String, Value>, at: &str, errors: &mut Vec<Violation>) -> Option<Scoring> {
    let mut r = Reader::nested(o, at);
    let method = r.required("method", "评价方法：lec、ls、mes 或 direct", |r| {
        r.code::<RiskMethod>("method")
    });
    let number = |r: &mut Reader<'_>, k: &'static str| r.number(k);
    let (l, m, e, c, s) = (
        number(&mut r, "l"),
        number(&mut r, "m"),
        number(&mut r, "e"),
        number(&mut r, "c"),
        number(&mut r, "s"),
    );
    let band_table = r.text("band_table", NAME);
    let level = r.code::<RiskLevel>("level");
    errors.extend(r.finish("风险评价"));
    Some(Scoring {
        method: method?,
        l,
        m,
        e,
        c,
        s,
        band_table,
        level,
    })
}

fn assessed(
    s: Option<Scoring>,
    (forced, tables): (bool, &[BandTable]),
    at: &str,
    errors: &mut Vec<Violation>,
) -> Option<Assessed> {
    match assess(&s?, forced, tables) {
        Ok(a) => Some(a),
        Err(bad) => {
            errors.extend(bad.into_iter().map(|b| Violation {
                pointer: format!("{at}/{}", b.field),
                code: V::InvalidValue,
                message: b.message,
            }));
            None
        }
    }
}

/// Register a risk (登记风险): scored by LEC or LS through a band table, or judged directly;
/// a matched determination criterion makes it 重大; the residual risk may not be above the
/// inherent one.
#[utoipa::path(
    tag = "risks",
    operation_id = "create_risk",
    request_body(content = RiskCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Registered", body = RiskResponse,
            headers(("Location" = String, description = "URL of the risk"), ("ETag" = String, description = "Version, quoted"))),
    )
)]
#[post("/risks")]
pub async fn create_risk_handler(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::RecordDualPrevention)?;
    let mut r = Reader::new(&body);
    let unit_id = r.required("unit_id", "风险分析单元 id", |r| {
        r.id("unit_id", "风险分析单元", RiskUnitId::parse)
    });
    let name = r.required_text("name", NAME, "风险名称");
    let kinds: Vec<AccidentKind> = match r.array("accident_kinds") {
        None => Vec::new(),
        Some(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                let k = v.as_str().and_then(AccidentKind::from_code);
                if k.is_none() {
                    r.errors.push(Violation {
                        pointer: format!("/accident_kinds/{i}"),
                        code: V::InvalidValue,
                        message: format!("{v} 不是事故类别（见参考数据 accident-kinds）"),
                    });
                }
                k
            })
            .collect(),
    };
    let criterion = r.text("criterion", NAME);
    let inherent = r.required("inherent", "固有风险评价", |r| r.object("inherent"));
    let residual = r.object("residual");
    let mut errors = r.finish("风险");
    let criterion = criterion.and_then(|c| {
        crate::hazards::criterion_of(&c, "criterion")
            .map_err(|v| errors.push(v))
            .ok()
    });
    let inherent = inherent.and_then(|o| scoring(o, "/inherent", &mut errors));
    let residual = residual.and_then(|o| scoring(o, "/residual", &mut errors));
    let tables = &state.grade_rules.band_tables;
    let inherent = assessed(
        inherent,
        (criterion.is_some(), tables),
        "/inherent",
        &mut errors,
    );
    let residual = assessed(residual, (false, tables), "/residual", &mut errors);
    if let (Some(i), Some(r)) = (&inherent, &residual)
        && let Err(bad) = check_residual(i, r)
    {
        errors.push(Violation::field(bad.field, V::OutOfRange, bad.message));
    }
    let (Some(unit_id), Some(name), Some(inherent), true) =
        (unit_id, name, inherent, errors.is_empty())
    else {
        return Err(ApiError::invalid(errors));
    };
    let version = builtin().version.clone();
    let data = RiskData {
        unit_id,
        name,
        accident_kinds: kinds,
        inherent,
        residual,
        criterion: criterion.map(|c| (c, version)),
    };
    let (scope, actor) = (caller.scope(), caller.actor());
    crate::plumbing::write::post(
        &state,
        &caller,
        &req,
        key,
        &body,
        &unit_id.to_string(),
        move |tx| {
            let r = create_risk(tx, &data, &scope, &actor)
                .map_err(ApiError::from)
                .map_err(not_found_says(
                    "no risk analysis unit with this unit_id in your jurisdiction",
                ))?;
            let (location, version) = (format!("/api/v1/risks/{}", r.id), r.version);
            Ok(Answer::created(location, &RiskResponse::from(r))?.versioned(version))
        },
    )
    .await
}

/// Filters and paging of the risk list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RiskQuery {
    /// Only this enterprise.
    pub enterprise_id: Option<uuid::Uuid>,
    /// Only this supervision area.
    pub area_code: Option<String>,
    /// Only the risks of this unit.
    pub unit_id: Option<uuid::Uuid>,
    /// Only this inherent level.
    #[param(value_type = Option<crate::plumbing::codes::RiskLevel>)]
    pub level: Option<RiskLevel>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The risks in the caller's jurisdiction (风险清单), oldest first.
#[utoipa::path(
    tag = "risks",
    operation_id = "list_risks",
    params(RiskQuery),
    responses(
        (status = 200, description = "One page", body = ListResponse<RiskResponse>),
    )
)]
#[get("/risks")]
pub async fn list_risks(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<RiskQuery>,
) -> Result<HttpResponse, ApiError> {
    const KIND: &str = "risk";
    let q = query.into_inner();
    let (limit, after) = list::paging(q.limit, q.cursor.as_deref(), KIND)?;
    let filter = RegisterFilter {
        scope: caller.scope(),
        area_code: list::area_filter(q.area_code.as_deref())?,
        enterprise_id: q
            .enterprise_id
            .and_then(|u| EnterpriseId::parse(&u.to_string())),
        kind: None,
        unit_id: q.unit_id.and_then(|u| RiskUnitId::parse(&u.to_string())),
        level: q.level,
    };
    let rows = state
        .run(move |s| Ok(s.list_risks(&filter, after, i64::from(limit) + 1)?))
        .await?;
    let rows = rows.into_iter().map(RiskResponse::from).collect();
    Ok(
        HttpResponse::Ok().json(list::page(rows, limit, KIND, |r: &RiskResponse| {
            r.id.clone()
        })),
    )
}

/// One risk with its inherent and residual assessments.
#[utoipa::path(
    tag = "risks",
    operation_id = "get_risk",
    params(("id" = uuid::Uuid, Path, description = "Risk id")),
    responses(
        (status = 200, description = "The risk", body = RiskResponse, headers(("ETag" = String, description = "Version, quoted"))),
    )
)]
#[get("/risks/{id}")]
pub async fn get_risk(
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<RiskId>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.scope();
    let r = state
        .run(move |s| Ok(s.get_risk(id, &scope)?))
        .await
        .map_err(not_found_as("risk", raw))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", r.version)))
        .json(RiskResponse::from(r)))
}

/// A control measure (管控措施).
#[derive(Debug, Serialize, ToSchema)]
pub struct MeasureResponse {
    /// Id.
    pub id: String,
    /// Its risk.
    pub risk_id: String,
    /// What it does.
    pub description: String,
    /// Monitoring or inspection.
    #[schema(value_type = crate::plumbing::codes::MeasureMode)]
    pub mode: MeasureMode,
    /// First class.
    #[schema(value_type = crate::plumbing::codes::MeasureClass)]
    pub class: MeasureClass,
    /// Second class, the national code (`1-2`).
    pub subclass: Option<String>,
    /// What to check.
    pub check_content: Option<String>,
    /// Who owns it.
    pub owner: String,
    /// Added at (UTC).
    pub created_at: DateTime<Utc>,
}

impl From<Measure> for MeasureResponse {
    fn from(m: Measure) -> Self {
        Self {
            id: m.id.to_string(),
            risk_id: m.risk_id.to_string(),
            description: m.data.description,
            mode: m.data.mode,
            class: m.data.class,
            subclass: m.data.subclass,
            check_content: m.data.check_content,
            owner: m.data.owner,
            created_at: m.created_at,
        }
    }
}

/// Adding a measure.
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct MeasureCreate {
    /// What it does, up to 2,000 characters.
    pub description: String,
    /// Monitoring or inspection.
    #[schema(value_type = crate::plumbing::codes::MeasureMode)]
    pub mode: String,
    /// First class.
    #[schema(value_type = crate::plumbing::codes::MeasureClass)]
    pub class: String,
    /// Second class, the national code under the first (`1-1` … `1-5`, `2-1`, `2-2`,
    /// `3-1` … `3-3`, `4-1` … `4-5`).
    pub subclass: Option<String>,
    /// What to check.
    pub check_content: Option<String>,
    /// Who owns it.
    pub owner: String,
}

/// The second classes of each first class (national code lists, domain research §14).
fn subclasses(class: MeasureClass) -> &'static [&'static str] {
    match class {
        MeasureClass::Engineering => &["1-1", "1-2", "1-3", "1-4", "1-5"],
        MeasureClass::Maintenance => &["2-1", "2-2"],
        MeasureClass::Operation => &["3-1", "3-2", "3-3"],
        MeasureClass::Emergency => &["4-1", "4-2", "4-3", "4-4", "4-5"],
    }
}

/// Add a control measure to a risk (新增管控措施).
#[utoipa::path(
    tag = "risks",
    operation_id = "create_measure",
    params(("id" = uuid::Uuid, Path, description = "Risk id")),
    request_body(content = MeasureCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Added", body = MeasureResponse,
            headers(("Location" = String, description = "URL of the risk's measures"))),
    )
)]
#[post("/risks/{id}/measures")]
pub async fn create_measure_handler(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<RiskId>,
    key: IdempotencyKey,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::RecordDualPrevention)?;
    let mut r = Reader::new(&body);
    let description = r.required_text("description", TEXT, "措施内容");
    let mode = r.required("mode", "管控方式", |r| r.code::<MeasureMode>("mode"));
    let class = r.required("class", "措施分类", |r| r.code::<MeasureClass>("class"));
    let subclass = r.text("subclass", 10);
    let check_content = r.text("check_content", TEXT);
    let owner = r.required_text("owner", NAME, "责任人");
    let mut errors = r.finish("管控措施");
    if let (Some(c), Some(sub)) = (class, &subclass)
        && !subclasses(c).contains(&sub.as_str())
    {
        errors.push(Violation::field(
            "subclass",
            V::InvalidValue,
            format!(
                "{sub} 不是{}下的分类（{}）",
                c.label_zh(),
                subclasses(c).join("、")
            ),
        ));
    }
    let (Some(description), Some(mode), Some(class), Some(owner), true) =
        (description, mode, class, owner, errors.is_empty())
    else {
        return Err(ApiError::invalid(errors));
    };
    let data = MeasureData {
        description,
        mode,
        class,
        subclass,
        check_content,
        owner,
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
            let m = create_measure(tx, id, &data, &scope, &actor)
                .map_err(ApiError::from)
                .map_err(not_found_as("risk", raw))?;
            let location = format!("/api/v1/risks/{id}/measures");
            Answer::created(location, &MeasureResponse::from(m))
        },
    )
    .await
}

/// The control measures of a risk, in the order added.
#[utoipa::path(
    tag = "risks",
    operation_id = "list_measures",
    params(("id" = uuid::Uuid, Path, description = "Risk id")),
    responses(
        (status = 200, description = "All of them (one page)", body = ListResponse<MeasureResponse>),
    )
)]
#[get("/risks/{id}/measures")]
pub async fn list_measures(
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<RiskId>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.scope();
    let items = state
        .run(move |s| Ok(s.list_measures(id, &scope)?))
        .await
        .map_err(not_found_as("risk", raw))?;
    Ok(ListResponse::whole(items.into_iter().map(MeasureResponse::from).collect()).into_response())
}

/// The risk register's operations.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(list_risk_band_tables)
        .service(list_risk_units)
        .service(create_risk_unit)
        .service(get_risk_unit)
        .service(add_unit_stop)
        .service(list_risks)
        .service(create_risk_handler)
        .service(get_risk)
        .service(list_measures)
        .service(create_measure_handler);
}
