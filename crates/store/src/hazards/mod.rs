//! Hidden hazards: scoped like their enterprise; registered (major when a determination
//! criterion matches, or a regulator says why), then moved step by step
//! (`domain::hazards::take`), each step recorded as an event.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use safegrade_domain::hazards::criteria::Criterion;
use safegrade_domain::hazards::{
    Acceptance, Extension, HazardGrade, HazardSource, HazardState, HazardType, ListedSupervision,
    Listing, ManagementClass, Plan, Progress, Step, take,
};
use safegrade_domain::{
    Actor, CodeList, EnterpriseId, HazardId, Scope, Sector, Violation, ViolationCode,
};
use serde::{Deserialize, Serialize};

pub(crate) mod counts;

use crate::now;
use crate::plumbing::events::payload::{HazardFields, HazardStepFields};
use crate::plumbing::events::{EventData, NewEvent};
use crate::plumbing::instant::utc;
use crate::plumbing::jurisdiction::enterprise_area;
use crate::plumbing::schema::{enterprises, hazards};
use crate::{DbConn, Store, StoreError, WriteTx, check_version};

/// What a hazard says about itself when registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HazardFacts {
    /// The enterprise.
    pub enterprise_id: EnterpriseId,
    /// Found on.
    pub found_on: NaiveDate,
    /// Found by (a person or team).
    pub found_by: String,
    /// How it was found.
    pub source: HazardSource,
    /// Its type.
    pub hazard_type: HazardType,
    /// Its management class.
    pub management_class: ManagementClass,
    /// What was found.
    pub description: String,
    /// The cause analysis.
    pub cause: Option<String>,
    /// Where.
    pub location: Option<String>,
    /// The risk, control measure and inspection record it came from (the same
    /// enterprise's).
    pub links: Links,
}

/// What a hazard came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    /// The risk.
    pub risk_id: Option<safegrade_domain::RiskId>,
    /// The control measure (failed, or checked by the inspection).
    pub measure_id: Option<safegrade_domain::MeasureId>,
    /// The inspection record that found it.
    pub record_id: Option<safegrade_domain::RecordId>,
}

/// A hazard to register: its facts and how its grade is decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHazard {
    /// The facts.
    pub facts: HazardFacts,
    /// The determination criterion it matches (then it is major), with the catalog version.
    pub criterion: Option<(Criterion, String)>,
    /// A regulator's reason for grading it major without a criterion.
    pub major_reason: Option<String>,
}

/// A stored hazard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hazard {
    /// Id.
    pub id: HazardId,
    /// Its area (its enterprise's).
    pub area_code: String,
    /// The facts.
    pub facts: HazardFacts,
    /// The criterion matched (`MEM-2023-10/3/2`) and the catalog version.
    pub criterion: Option<(String, String)>,
    /// Why a regulator graded it major.
    pub major_reason: Option<String>,
    /// Where it stands.
    pub progress: Progress,
    /// The day it was closed (accepted, or fixed on the spot).
    pub closed_on: Option<NaiveDate>,
    /// Version.
    pub version: i64,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// The progress kept as JSON beside the state, grade and deadline columns.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Kept {
    plan: Option<Plan>,
    listing: Option<Listing>,
    #[serde(default)]
    extensions: Vec<Extension>,
    acceptance: Option<Acceptance>,
}

type Row = (
    (
        String,
        String,
        NaiveDate,
        String,
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
    ),
    (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
        Option<NaiveDate>,
        String,
        i64,
        NaiveDateTime,
        NaiveDateTime,
    ),
    (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<NaiveDate>,
    ),
);

/// The columns of a hazard, in [`Row`] order.
macro_rules! columns {
    () => {
        (
            (
                hazards::id,
                hazards::enterprise_id,
                hazards::found_on,
                hazards::found_by,
                hazards::source,
                hazards::hazard_type,
                hazards::management_class,
                hazards::description,
                hazards::cause,
                hazards::location,
            ),
            (
                hazards::grade,
                hazards::criterion,
                hazards::criteria_version,
                hazards::major_reason,
                hazards::state,
                hazards::deadline,
                hazards::progress,
                hazards::version,
                hazards::created_at,
                hazards::updated_at,
            ),
            (
                hazards::risk_id,
                hazards::measure_id,
                hazards::record_id,
                hazards::closed_on,
            ),
        )
    };
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Other(format!("a stored hazard is not valid: {what}").into())
}

fn assemble((a, b, c): Row, area_code: String) -> Result<Hazard, StoreError> {
    let kept: Kept = serde_json::from_str(&b.6).map_err(|e| corrupt(&e.to_string()))?;
    Ok(Hazard {
        id: HazardId::parse(&a.0).ok_or_else(|| corrupt("id"))?,
        area_code,
        facts: HazardFacts {
            enterprise_id: EnterpriseId::parse(&a.1).ok_or_else(|| corrupt("enterprise"))?,
            found_on: a.2,
            found_by: a.3,
            source: HazardSource::from_code(&a.4).ok_or_else(|| corrupt("source"))?,
            hazard_type: HazardType::from_code(&a.5).ok_or_else(|| corrupt("type"))?,
            management_class: ManagementClass::from_code(&a.6)
                .ok_or_else(|| corrupt("management class"))?,
            description: a.7,
            cause: a.8,
            location: a.9,
            links: Links {
                risk_id: c.0.and_then(|x| safegrade_domain::RiskId::parse(&x)),
                measure_id: c.1.and_then(|x| safegrade_domain::MeasureId::parse(&x)),
                record_id: c.2.and_then(|x| safegrade_domain::RecordId::parse(&x)),
            },
        },
        criterion: b.1.zip(b.2),
        major_reason: b.3,
        progress: Progress {
            state: HazardState::from_code(&b.4).ok_or_else(|| corrupt("state"))?,
            grade: HazardGrade::from_code(&b.0).ok_or_else(|| corrupt("grade"))?,
            deadline: b.5,
            plan: kept.plan,
            listing: kept.listing,
            extensions: kept.extensions,
            acceptance: kept.acceptance,
        },
        closed_on: c.3,
        version: b.7,
        created_at: utc(b.8),
        updated_at: utc(b.9),
    })
}

/// Refuses a criterion that cannot apply to the enterprise's sector (422 at `criterion`).
pub(crate) fn check_fits(
    conn: &mut DbConn,
    enterprise: EnterpriseId,
    criterion: Option<&(Criterion, String)>,
) -> Result<(), StoreError> {
    let Some((c, _)) = criterion else {
        return Ok(());
    };
    let sector: String = enterprises::table
        .find(enterprise.to_string())
        .select(enterprises::sector)
        .first(conn)?;
    let sector = Sector::from_code(&sector).ok_or_else(|| corrupt("sector"))?;
    if c.applies_to(sector) {
        Ok(())
    } else {
        Err(StoreError::Invalid(vec![Violation::field(
            "criterion",
            ViolationCode::InvalidValue,
            format!(
                "{}（{}）不适用于{}行业的企业",
                c.reference(),
                c.topic_zh,
                sector.label_zh()
            ),
        )]))
    }
}

/// Refuses a link to a risk, measure or record that is not the enterprise's (422 at the
/// link).
fn check_links(conn: &mut DbConn, enterprise: EnterpriseId, l: &Links) -> Result<(), StoreError> {
    use crate::plumbing::schema::{inspection_records, risk_measures, risks};
    let e = enterprise.to_string();
    let mut bad = Vec::new();
    if let Some(id) = l.risk_id {
        let n: i64 = risks::table
            .filter(risks::id.eq(id.to_string()))
            .filter(risks::enterprise_id.eq(&e))
            .count()
            .get_result(conn)?;
        if n == 0 {
            bad.push(("risk_id", "须为本企业的风险"));
        }
    }
    if let Some(id) = l.measure_id {
        let n: i64 = risk_measures::table
            .filter(risk_measures::id.eq(id.to_string()))
            .filter(risk_measures::enterprise_id.eq(&e))
            .count()
            .get_result(conn)?;
        if n == 0 {
            bad.push(("measure_id", "须为本企业的管控措施"));
        }
    }
    if let Some(id) = l.record_id {
        let n: i64 = inspection_records::table
            .filter(inspection_records::id.eq(id.to_string()))
            .filter(inspection_records::enterprise_id.eq(&e))
            .count()
            .get_result(conn)?;
        if n == 0 {
            bad.push(("record_id", "须为本企业的排查记录"));
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(
            bad.into_iter()
                .map(|(f, m)| Violation::field(f, ViolationCode::UnknownReference, m))
                .collect(),
        ))
    }
}

fn kept_json(p: &Progress) -> Result<String, StoreError> {
    serde_json::to_string(&Kept {
        plan: p.plan.clone(),
        listing: p.listing.clone(),
        extensions: p.extensions.clone(),
        acceptance: p.acceptance.clone(),
    })
    .map_err(|e| corrupt(&e.to_string()))
}

/// One hazard inside `scope`; `NotFound` otherwise.
fn load(conn: &mut DbConn, id: HazardId, scope: &Scope) -> Result<Hazard, StoreError> {
    let row: Row = hazards::table
        .find(id.to_string())
        .select(columns!())
        .first(conn)?;
    let enterprise = EnterpriseId::parse(&row.0.1).ok_or_else(|| corrupt("enterprise"))?;
    let area = enterprise_area(conn, enterprise, scope)?;
    assemble(row, area)
}

/// Registers a hazard of an enterprise inside `scope`: major when it matches a criterion
/// or a regulator gave a reason; records `hazard.registered`.
pub fn register(
    tx: &mut WriteTx<'_>,
    new: &NewHazard,
    scope: &Scope,
    actor: &Actor,
) -> Result<Hazard, StoreError> {
    let f = &new.facts;
    let area = enterprise_area(tx, f.enterprise_id, scope)?;
    check_fits(tx, f.enterprise_id, new.criterion.as_ref())?;
    check_links(tx, f.enterprise_id, &f.links)?;
    let grade = if new.criterion.is_some() || new.major_reason.is_some() {
        HazardGrade::Major
    } else {
        HazardGrade::General
    };
    let progress = Progress::registered(grade);
    let id = HazardId::new();
    let at = now();
    let reference = new.criterion.as_ref().map(|(c, _)| c.reference());
    diesel::insert_into(hazards::table)
        .values((
            (
                hazards::id.eq(id.to_string()),
                hazards::enterprise_id.eq(f.enterprise_id.to_string()),
                hazards::found_on.eq(f.found_on),
                hazards::found_by.eq(&f.found_by),
                hazards::source.eq(f.source.as_str()),
                hazards::hazard_type.eq(f.hazard_type.as_str()),
                hazards::management_class.eq(f.management_class.as_str()),
                hazards::description.eq(&f.description),
                hazards::cause.eq(&f.cause),
                hazards::location.eq(&f.location),
            ),
            (
                hazards::grade.eq(grade.as_str()),
                hazards::criterion.eq(&reference),
                hazards::criteria_version.eq(new.criterion.as_ref().map(|(_, v)| v.clone())),
                hazards::major_reason.eq(&new.major_reason),
                hazards::state.eq(progress.state.as_str()),
                hazards::deadline.eq(progress.effective_deadline()),
                hazards::listed.eq(false),
                hazards::progress.eq(kept_json(&progress)?),
                hazards::version.eq(1i64),
                hazards::created_at.eq(at),
                hazards::updated_at.eq(at),
            ),
            (
                hazards::risk_id.eq(f.links.risk_id.map(|x| x.to_string())),
                hazards::measure_id.eq(f.links.measure_id.map(|x| x.to_string())),
                hazards::record_id.eq(f.links.record_id.map(|x| x.to_string())),
            ),
            hazards::area_code.eq(&area),
        ))
        .execute(&mut **tx)?;
    counts::hazard_changed(
        tx,
        f.enterprise_id,
        None,
        &counts::Footprint {
            grade: grade.as_str().to_owned(),
            found_on: f.found_on,
            closed_on: None,
            deadline: progress.effective_deadline(),
        },
    )?;
    tx.record(NewEvent {
        actor: actor.clone(),
        resource_id: id.to_string(),
        area_code: Some(area),
        enterprise_id: Some(f.enterprise_id),
        data: EventData::HazardRegistered(HazardFields {
            id: id.to_string(),
            enterprise_id: f.enterprise_id.to_string(),
            found_on: f.found_on.to_string(),
            grade: grade.as_str().to_owned(),
            criterion: reference,
            description: f.description.clone(),
        }),
        reason: new.major_reason.clone(),
    })?;
    load(tx, id, scope)
}

/// What a step changes besides the progress: a regulator's regrade names its reason or
/// criterion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRequest {
    /// The step with its facts.
    pub step: Step,
    /// The day it is taken.
    pub on: NaiveDate,
    /// What is said (kept on the event).
    pub note: Option<String>,
    /// For a regrade: the criterion matched (with the catalog version).
    pub criterion: Option<(Criterion, String)>,
    /// The listed-supervision parameters in force and the working-day calendar to check
    /// listings, de-listings and listed hazards' extension requests against (none: not
    /// checked).
    pub supervision: Option<(ListedSupervision, safegrade_domain::calendar::Calendar)>,
}

/// Takes a step on a hazard inside `scope` over version `if_match`; records
/// `hazard.step_taken`.
pub fn step(
    tx: &mut WriteTx<'_>,
    id: HazardId,
    (scope, actor, if_match): (&Scope, &Actor, Option<i64>),
    request: StepRequest,
) -> Result<Hazard, StoreError> {
    let h = load(tx, id, scope)?;
    let code = request.step.code();
    let next = take(&h.progress, request.step.clone(), request.on)
        .map_err(|r| StoreError::Refused(r.into()))?;
    if let Some((rules, calendar)) = &request.supervision {
        rules
            .check(&h.progress, &request.step, request.on, calendar)
            .map_err(|r| StoreError::Refused(r.into()))?;
    }
    check_version(if_match, h.version)?;
    check_fits(tx, h.facts.enterprise_id, request.criterion.as_ref())?;
    let (criterion, major_reason) = match &request.criterion {
        Some((c, v)) => (Some((c.reference(), v.clone())), h.major_reason.clone()),
        None if next.grade != h.progress.grade => (h.criterion.clone(), request.note.clone()),
        None => (h.criterion.clone(), h.major_reason.clone()),
    };
    let before = counts::Footprint {
        grade: h.progress.grade.as_str().to_owned(),
        found_on: h.facts.found_on,
        closed_on: h.closed_on,
        deadline: h.progress.effective_deadline(),
    };
    // A step on a closed hazard (a de-listing after acceptance) keeps the day it closed.
    let after = counts::Footprint {
        grade: next.grade.as_str().to_owned(),
        found_on: h.facts.found_on,
        closed_on: (!next.state.is_open()).then(|| h.closed_on.unwrap_or(request.on)),
        deadline: next.effective_deadline(),
    };
    let written = diesel::update(hazards::table.find(id.to_string()))
        .filter(hazards::version.eq(h.version))
        .set((
            hazards::grade.eq(next.grade.as_str()),
            hazards::criterion.eq(criterion.as_ref().map(|c| c.0.clone())),
            hazards::criteria_version.eq(criterion.as_ref().map(|c| c.1.clone())),
            hazards::major_reason.eq(&major_reason),
            hazards::state.eq(next.state.as_str()),
            hazards::deadline.eq(next.effective_deadline()),
            hazards::listed.eq(next
                .listing
                .as_ref()
                .is_some_and(|l| l.delisted_on.is_none())),
            hazards::progress.eq(kept_json(&next)?),
            hazards::closed_on.eq(after.closed_on),
            hazards::version.eq(h.version + 1),
            hazards::updated_at.eq(now()),
        ))
        .execute(&mut **tx)?;
    crate::plumbing::error::written_once(written, h.version)?;
    counts::hazard_changed(tx, h.facts.enterprise_id, Some(&before), &after)?;
    tx.record(NewEvent {
        actor: actor.clone(),
        resource_id: id.to_string(),
        area_code: Some(h.area_code.clone()),
        enterprise_id: Some(h.facts.enterprise_id),
        data: EventData::HazardStepTaken(HazardStepFields {
            step: code.as_str().to_owned(),
            taken_on: request.on.to_string(),
            from: h.progress.state.as_str().to_owned(),
            to: next.state.as_str().to_owned(),
            grade: next.grade.as_str().to_owned(),
            deadline: next.effective_deadline().map(|d| d.to_string()),
            version: h.version + 1,
        }),
        reason: request.note.clone(),
    })?;
    load(tx, id, scope)
}

/// How many major hazards of an enterprise are open (a grading application is ineligible
/// while any is, 定级办法 application condition 9).
pub(crate) fn open_major(conn: &mut DbConn, enterprise: EnterpriseId) -> Result<usize, StoreError> {
    let n: i64 = hazards::table
        .filter(hazards::enterprise_id.eq(enterprise.to_string()))
        .filter(hazards::grade.eq(HazardGrade::Major.as_str()))
        .filter(hazards::state.eq_any(HazardState::OPEN.map(|s| s.as_str())))
        .count()
        .get_result(conn)?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// Filters of the hazard list.
#[derive(Debug, Clone)]
pub struct HazardFilter {
    /// The caller's jurisdiction.
    pub scope: Scope,
    /// Only this area.
    pub area_code: Option<String>,
    /// Only this enterprise.
    pub enterprise_id: Option<EnterpriseId>,
    /// Only this state.
    pub state: Option<HazardState>,
    /// Only this grade.
    pub grade: Option<HazardGrade>,
    /// Only open (or only closed) hazards.
    pub open: Option<bool>,
    /// Only open hazards past their deadline on this day (`true`), or only the others.
    pub overdue: Option<(bool, NaiveDate)>,
    /// Only listed (挂牌) hazards.
    pub listed: Option<bool>,
}

impl Store {
    /// One hazard inside `scope`.
    pub fn get_hazard(&self, id: HazardId, scope: &Scope) -> Result<Hazard, StoreError> {
        self.with_read(|conn| load(conn, id, scope))
    }

    /// The hazards matching `filter`, in id order after `after`, at most `limit`.
    pub fn list_hazards(
        &self,
        filter: &HazardFilter,
        after: Option<String>,
        limit: i64,
    ) -> Result<Vec<Hazard>, StoreError> {
        self.with_list_read(|conn| {
            let q = hazards::table
                .inner_join(enterprises::table)
                .select((columns!(), enterprises::area_code))
                .order(hazards::id.asc())
                .limit(limit)
                .into_boxed();
            let mut q = crate::scoped!(
                q,
                &filter.scope,
                enterprises::area_code,
                hazards::enterprise_id,
                &filter.area_code
            );
            let open = HazardState::OPEN.map(|s| s.as_str());
            if let Some(e) = filter.enterprise_id {
                q = q.filter(hazards::enterprise_id.eq(e.to_string()));
            }
            if let Some(s) = filter.state {
                q = q.filter(hazards::state.eq(s.as_str()));
            }
            if let Some(g) = filter.grade {
                q = q.filter(hazards::grade.eq(g.as_str()));
            }
            match filter.open {
                Some(true) => q = q.filter(hazards::state.eq_any(open)),
                Some(false) => q = q.filter(hazards::state.ne_all(open)),
                None => {}
            }
            match filter.overdue {
                Some((true, day)) => {
                    q = q
                        .filter(hazards::state.eq_any(open))
                        .filter(hazards::deadline.lt(day));
                }
                Some((false, day)) => {
                    q = q.filter(
                        hazards::state
                            .ne_all(open)
                            .or(hazards::deadline.is_null())
                            .or(hazards::deadline.ge(day)),
                    );
                }
                None => {}
            }
            if let Some(l) = filter.listed {
                q = q.filter(hazards::listed.eq(l));
            }
            if let Some(after) = after {
                q = q.filter(hazards::id.gt(after));
            }
            q.load::<(Row, String)>(conn)?
                .into_iter()
                .map(|(r, area)| assemble(r, area))
                .collect()
        })
    }
}

/// Hazard figures of one area and grade over a period.
#[derive(Debug, Clone, Default, PartialEq, Eq, QueryableByName)]
pub struct HazardFigures {
    /// The area.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub area_code: String,
    /// `general` or `major`.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub grade: String,
    /// Found in the period.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub found: i64,
    /// Closed (accepted or fixed on the spot) in the period.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub closed: i64,
    /// Open at the period's end.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub open: i64,
    /// Open at the period's end and past the deadline in force.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub overdue: i64,
}

/// Risks of one area at one level (the residual level where assessed, else the inherent).
#[derive(Debug, Clone, Default, PartialEq, Eq, QueryableByName)]
pub struct RiskFigures {
    /// The area.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub area_code: String,
    /// The level.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub level: String,
    /// How many.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub n: i64,
}

/// The filter's jurisdiction, area and sector as SQL over the `area`, `enterprise` and
/// `sector` column expressions, with one placeholder per value in the backend's style, and
/// the values in order.
fn condition(
    conn: &DbConn,
    filter: &HazardStatsFilter,
    (area, enterprise, sector): (&str, &str, &str),
) -> (String, Vec<String>) {
    let pg = conn.backend() == crate::plumbing::db::Backend::Postgres;
    let mut n = 0;
    let mut mark = || {
        n += 1;
        if pg { format!("${n}") } else { "?".to_owned() }
    };
    let (mut sql, mut values) = crate::plumbing::jurisdiction::sql_condition(
        &filter.scope,
        filter.area_code.as_deref(),
        (area, enterprise),
        &mut mark,
    );
    if let Some(s) = filter.sector {
        sql.push_str(&format!(" AND {sector} = {}", mark()));
        values.push(s.as_str().to_owned());
    }
    (sql, values)
}

/// The jurisdiction over the enterprises joined as `e`.
const OVER_ENTERPRISES: (&str, &str, &str) = ("e.area_code", "e.id", "e.sector");

/// Runs a grouped statistics query with its text values bound in order.
fn grouped<T>(conn: &mut DbConn, sql: String, values: &[String]) -> Result<Vec<T>, StoreError>
where
    T: diesel::deserialize::QueryableByName<<DbConn as diesel::Connection>::Backend> + 'static,
{
    let mut q = diesel::sql_query(sql).into_boxed();
    for v in values {
        q = q.bind::<diesel::sql_types::Text, _>(v.clone());
    }
    Ok(q.load(conn)?)
}

/// Filters of the hazard statistics.
#[derive(Debug, Clone)]
pub struct HazardStatsFilter {
    /// The caller's jurisdiction.
    pub scope: Scope,
    /// Only this area.
    pub area_code: Option<String>,
    /// Only enterprises of this supervised sector.
    pub sector: Option<Sector>,
}

/// The figures from the hazards and risks themselves.
fn recomputed(
    conn: &mut DbConn,
    filter: &HazardStatsFilter,
    (from, to): (NaiveDate, NaiveDate),
) -> Result<(Vec<HazardFigures>, Vec<RiskFigures>), StoreError> {
    // Dates come from parsed `NaiveDate`s, so they are written into the text; the
    // jurisdiction's values are bound.
    let (f, t) = (format!("'{from}'"), format!("'{to}'"));
    let (cond, values) = condition(conn, filter, OVER_ENTERPRISES);
    let open_at_end = format!("h.found_on <= {t} AND (h.closed_on IS NULL OR h.closed_on > {t})");
    let sql = format!(
        "SELECT e.area_code AS area_code, h.grade AS grade, \
         CAST(SUM(CASE WHEN h.found_on >= {f} AND h.found_on <= {t} THEN 1 ELSE 0 END) AS BIGINT) AS found, \
         CAST(SUM(CASE WHEN h.closed_on >= {f} AND h.closed_on <= {t} THEN 1 ELSE 0 END) AS BIGINT) AS closed, \
         CAST(SUM(CASE WHEN {open_at_end} THEN 1 ELSE 0 END) AS BIGINT) AS open, \
         CAST(SUM(CASE WHEN {open_at_end} AND h.deadline < {t} THEN 1 ELSE 0 END) AS BIGINT) AS overdue \
         FROM hazards h JOIN enterprises e ON e.id = h.enterprise_id \
         WHERE h.found_on <= {t} AND (h.closed_on IS NULL OR h.closed_on >= {f}){cond} \
         GROUP BY e.area_code, h.grade ORDER BY 1, 2"
    );
    let hazards: Vec<HazardFigures> = grouped(conn, sql, &values)?;
    let sql = format!(
        "SELECT e.area_code AS area_code, COALESCE(r.residual_level, r.inherent_level) AS level, \
         COUNT(*) AS n FROM risks r JOIN enterprises e ON e.id = r.enterprise_id \
         WHERE 1 = 1{cond} GROUP BY 1, 2 ORDER BY 1, 2"
    );
    let risks: Vec<RiskFigures> = grouped(conn, sql, &values)?;
    Ok((hazards, risks))
}

/// The same figures from the counters (`counts`): a row per area, sector, grade and month
/// instead of every hazard (the period is whole months). Groups with nothing found, closed or open in the period are
/// left out, as the recomputed query leaves them out.
fn counted(
    conn: &mut DbConn,
    filter: &HazardStatsFilter,
    (from, to): (NaiveDate, NaiveDate),
) -> Result<(Vec<HazardFigures>, Vec<RiskFigures>), StoreError> {
    let (f, t) = (format!("'{from}'"), format!("'{to}'"));
    let (cond, values) = condition(conn, filter, ("c.area_code", "NULL", "c.sector"));
    let (found, closed) = (
        format!("SUM(CASE WHEN c.month >= {f} THEN c.found ELSE 0 END)"),
        format!("SUM(CASE WHEN c.month >= {f} THEN c.closed ELSE 0 END)"),
    );
    let sql = format!(
        "SELECT c.area_code AS area_code, c.grade AS grade, \
         CAST({found} AS BIGINT) AS found, CAST({closed} AS BIGINT) AS closed, \
         CAST(SUM(c.found - c.closed) AS BIGINT) AS open, \
         CAST(SUM(c.overdue_from - c.overdue_to) AS BIGINT) AS overdue \
         FROM hazard_month_counts c WHERE c.month <= {t}{cond} \
         GROUP BY c.area_code, c.grade \
         HAVING {closed} <> 0 OR SUM(c.found - c.closed) <> 0 ORDER BY 1, 2"
    );
    let hazards: Vec<HazardFigures> = grouped(conn, sql, &values)?;
    let sql = format!(
        "SELECT c.area_code AS area_code, c.level AS level, CAST(SUM(c.n) AS BIGINT) AS n \
         FROM risk_level_counts c WHERE 1 = 1{cond} GROUP BY 1, 2 HAVING SUM(c.n) <> 0 ORDER BY 1, 2"
    );
    let risks: Vec<RiskFigures> = grouped(conn, sql, &values)?;
    Ok((hazards, risks))
}

impl Store {
    /// Hazard figures per area and grade for the period `from`…`to`, and the four-colour
    /// distribution of the risks per area: from the counters for the city and its areas,
    /// recomputed from the records for one enterprise or a review organisation's.
    pub fn hazard_stats(
        &self,
        filter: &HazardStatsFilter,
        period: (NaiveDate, NaiveDate),
    ) -> Result<(Vec<HazardFigures>, Vec<RiskFigures>), StoreError> {
        self.with_list_read(|conn| match filter.scope {
            Scope::City | Scope::Areas(_) => counted(conn, filter, period),
            Scope::Enterprise(_) | Scope::Organisation(_) => recomputed(conn, filter, period),
        })
    }

    /// The same figures always recomputed from the records: what the counters must equal
    /// (the consistency tests compare the two).
    pub fn hazard_stats_recomputed(
        &self,
        filter: &HazardStatsFilter,
        period: (NaiveDate, NaiveDate),
    ) -> Result<(Vec<HazardFigures>, Vec<RiskFigures>), StoreError> {
        self.with_read(|conn| recomputed(conn, filter, period))
    }
}

/// One enterprise's hazard facts for a week's dual-prevention score.
#[derive(Debug, Clone, Default, PartialEq, Eq, QueryableByName)]
pub struct HazardWeek {
    /// The enterprise.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub enterprise_id: String,
    /// Its area.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub area_code: String,
    /// Its name.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub enterprise_name: String,
    /// Hazards whose deadline fell in the week.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub due: i64,
    /// Of those, closed by their deadline.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub on_time: i64,
    /// Found in the look-back weeks up to the week's end.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub found_recently: i64,
    /// Open major hazards past their deadline at the week's end.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub overdue_major: i64,
}

impl Store {
    /// Per enterprise inside the filter: the hazard facts of the week `from`…`to` for the
    /// dual-prevention score, hazards found since `found_since` counted as recent (one grouped
    /// query, read from the `hazards_dates` index and grouped in the order the area's
    /// enterprises are read).
    pub fn hazard_weeks(
        &self,
        filter: &HazardStatsFilter,
        (from, to): (NaiveDate, NaiveDate),
        found_since: NaiveDate,
    ) -> Result<Vec<HazardWeek>, StoreError> {
        self.with_read(|conn| {
            let (cond, values) = condition(conn, filter, OVER_ENTERPRISES);
            // Dates come from parsed `NaiveDate`s and are written into the text.
            let (f, t, s) = (format!("'{from}'"), format!("'{to}'"), format!("'{found_since}'"));
            let sql = format!(
                "SELECT e.id AS enterprise_id, e.area_code AS area_code, e.name AS enterprise_name, \
                 CAST(SUM(CASE WHEN h.deadline >= {f} AND h.deadline <= {t} THEN 1 ELSE 0 END) AS BIGINT) AS due, \
                 CAST(SUM(CASE WHEN h.deadline >= {f} AND h.deadline <= {t} AND h.closed_on <= h.deadline THEN 1 ELSE 0 END) AS BIGINT) AS on_time, \
                 CAST(SUM(CASE WHEN h.found_on >= {s} AND h.found_on <= {t} THEN 1 ELSE 0 END) AS BIGINT) AS found_recently, \
                 CAST(SUM(CASE WHEN h.grade = 'major' AND h.found_on <= {t} AND (h.closed_on IS NULL OR h.closed_on > {t}) AND h.deadline < {t} THEN 1 ELSE 0 END) AS BIGINT) AS overdue_major \
                 FROM hazards h JOIN enterprises e ON e.id = h.enterprise_id \
                 WHERE h.found_on <= {t}{cond} GROUP BY e.area_code, e.id"
            );
            grouped(conn, sql, &values)
        })
    }
}
