//! The risk register: analysis units, risks and control measures, scoped like their
//! enterprise; each addition records an event.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use safegrade_domain::grading::AccidentKind;
use safegrade_domain::hazards::criteria::Criterion;
use safegrade_domain::risks::{Assessed, MeasureClass, MeasureMode, RiskLevel, UnitKind};
use safegrade_domain::{Actor, CodeList, EnterpriseId, MeasureId, RiskId, RiskUnitId, Scope};
use serde::{Deserialize, Serialize};

use crate::now;
use crate::plumbing::events::payload::{MeasureFields, RiskFields, RiskUnitFields, StopFields};
use crate::plumbing::events::{EventData, NewEvent};
use crate::plumbing::instant::utc;
use crate::plumbing::jurisdiction::enterprise_area;
use crate::plumbing::schema::{enterprises, risk_measures, risk_units, risks};
use crate::{DbConn, Store, StoreError, WriteTx};

fn corrupt(what: &str) -> StoreError {
    StoreError::Other(format!("a stored risk record is not valid: {what}").into())
}

fn json<T: Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| corrupt(&e.to_string()))
}

fn parse_json<T: for<'de> Deserialize<'de>>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| corrupt(&e.to_string()))
}

/// A period a unit is stopped (检维修、停用): its inspection tasks are not due then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stop {
    /// From (inclusive).
    pub from: NaiveDate,
    /// To (inclusive).
    pub to: NaiveDate,
    /// Why (检维修, 停用…).
    pub reason: String,
}

/// What a unit says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitData {
    /// The enterprise.
    pub enterprise_id: EnterpriseId,
    /// Post, process step, device, place or activity.
    pub kind: UnitKind,
    /// Name.
    pub name: String,
    /// Where.
    pub location: Option<String>,
    /// The responsible department.
    pub department: String,
    /// The responsible person.
    pub responsible: String,
    /// Where it is controlled: a code of the city's control levels (checked by the caller
    /// against the rules in force).
    pub control_level: String,
    /// The major hazard installation (重大危险源) it belongs to, if any.
    pub installation: Option<String>,
    /// Stop periods.
    pub stops: Vec<Stop>,
}

/// A stored unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// Id.
    pub id: RiskUnitId,
    /// Its area.
    pub area_code: String,
    /// The facts.
    pub data: UnitData,
    /// Version.
    pub version: i64,
    /// Added at.
    pub created_at: DateTime<Utc>,
}

type UnitRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
    NaiveDateTime,
);

macro_rules! unit_columns {
    () => {
        (
            risk_units::id,
            risk_units::enterprise_id,
            risk_units::kind,
            risk_units::name,
            risk_units::location,
            risk_units::department,
            risk_units::responsible,
            risk_units::control_level,
            risk_units::installation,
            risk_units::stops,
            risk_units::version,
            risk_units::created_at,
        )
    };
}

fn unit_of(r: UnitRow, area_code: String) -> Result<Unit, StoreError> {
    Ok(Unit {
        id: RiskUnitId::parse(&r.0).ok_or_else(|| corrupt("unit id"))?,
        area_code,
        data: UnitData {
            enterprise_id: EnterpriseId::parse(&r.1).ok_or_else(|| corrupt("enterprise"))?,
            kind: UnitKind::from_code(&r.2).ok_or_else(|| corrupt("kind"))?,
            name: r.3,
            location: r.4,
            department: r.5,
            responsible: r.6,
            control_level: r.7,
            installation: r.8,
            stops: parse_json(&r.9)?,
        },
        version: r.10,
        created_at: utc(r.11),
    })
}

pub(crate) fn load_unit(
    conn: &mut DbConn,
    id: RiskUnitId,
    scope: &Scope,
) -> Result<Unit, StoreError> {
    let r: UnitRow = risk_units::table
        .find(id.to_string())
        .select(unit_columns!())
        .first(conn)?;
    let enterprise = EnterpriseId::parse(&r.1).ok_or_else(|| corrupt("enterprise"))?;
    let area = enterprise_area(conn, enterprise, scope)?;
    unit_of(r, area)
}

/// Adds a unit of an enterprise inside `scope`; records `risk_unit.created`.
pub fn create_unit(
    tx: &mut WriteTx<'_>,
    d: &UnitData,
    scope: &Scope,
    actor: &Actor,
) -> Result<Unit, StoreError> {
    let area = enterprise_area(tx, d.enterprise_id, scope)?;
    let id = RiskUnitId::new();
    let at = now();
    diesel::insert_into(risk_units::table)
        .values((
            risk_units::id.eq(id.to_string()),
            risk_units::enterprise_id.eq(d.enterprise_id.to_string()),
            risk_units::kind.eq(d.kind.as_str()),
            risk_units::name.eq(&d.name),
            risk_units::location.eq(&d.location),
            risk_units::department.eq(&d.department),
            risk_units::responsible.eq(&d.responsible),
            risk_units::control_level.eq(&d.control_level),
            risk_units::installation.eq(&d.installation),
            risk_units::stops.eq(json(&d.stops)?),
            risk_units::version.eq(1i64),
            risk_units::created_at.eq(at),
            risk_units::updated_at.eq(at),
            risk_units::area_code.eq(&area),
        ))
        .execute(&mut **tx)?;
    tx.record(NewEvent {
        actor: actor.clone(),
        resource_id: id.to_string(),
        area_code: Some(area),
        enterprise_id: Some(d.enterprise_id),
        data: EventData::RiskUnitCreated(RiskUnitFields {
            id: id.to_string(),
            enterprise_id: d.enterprise_id.to_string(),
            kind: d.kind.as_str().to_owned(),
            name: d.name.clone(),
            control_level: d.control_level.clone(),
        }),
        reason: None,
    })?;
    load_unit(tx, id, scope)
}

/// Adds a stop period to a unit inside `scope` over version `if_match` (422 at `from` when it
/// overlaps one already kept); records `risk_unit.stop_added`.
pub fn add_stop(
    tx: &mut WriteTx<'_>,
    id: RiskUnitId,
    stop: Stop,
    (scope, actor, if_match): (&Scope, &Actor, Option<i64>),
) -> Result<Unit, StoreError> {
    let unit = load_unit(tx, id, scope)?;
    if unit
        .data
        .stops
        .iter()
        .any(|s| s.from <= stop.to && stop.from <= s.to)
    {
        return Err(StoreError::Invalid(vec![
            safegrade_domain::Violation::field(
                "from",
                safegrade_domain::ViolationCode::InvalidValue,
                "与已登记的停用时段重叠",
            ),
        ]));
    }
    crate::check_version(if_match, unit.version)?;
    let mut stops = unit.data.stops.clone();
    stops.push(stop.clone());
    stops.sort_by_key(|s| s.from);
    let written = diesel::update(risk_units::table.find(id.to_string()))
        .filter(risk_units::version.eq(unit.version))
        .set((
            risk_units::stops.eq(json(&stops)?),
            risk_units::version.eq(unit.version + 1),
            risk_units::updated_at.eq(now()),
        ))
        .execute(&mut **tx)?;
    crate::plumbing::error::written_once(written, unit.version)?;
    tx.record(NewEvent {
        actor: actor.clone(),
        resource_id: id.to_string(),
        area_code: Some(unit.area_code.clone()),
        enterprise_id: Some(unit.data.enterprise_id),
        data: EventData::UnitStopped(StopFields {
            from: stop.from.to_string(),
            to: stop.to.to_string(),
            reason: stop.reason.clone(),
            version: unit.version + 1,
        }),
        reason: None,
    })?;
    load_unit(tx, id, scope)
}

/// What a risk says.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskData {
    /// Its unit.
    pub unit_id: RiskUnitId,
    /// Name (the risk event).
    pub name: String,
    /// The accident kinds it may lead to (GB 6441).
    pub accident_kinds: Vec<AccidentKind>,
    /// The inherent risk.
    pub inherent: Assessed,
    /// The residual risk after the measures.
    pub residual: Option<Assessed>,
    /// The determination criterion that forces 重大, with the catalog version.
    pub criterion: Option<(Criterion, String)>,
}

/// A stored risk.
#[derive(Debug, Clone, PartialEq)]
pub struct Risk {
    /// Id.
    pub id: RiskId,
    /// The enterprise (its unit's).
    pub enterprise_id: EnterpriseId,
    /// Its area.
    pub area_code: String,
    /// Unit.
    pub unit_id: RiskUnitId,
    /// Name.
    pub name: String,
    /// Accident kinds.
    pub accident_kinds: Vec<AccidentKind>,
    /// The inherent risk.
    pub inherent: Assessed,
    /// The residual risk.
    pub residual: Option<Assessed>,
    /// The criterion (`MEM-2023-10/3/2`) and catalog version.
    pub criterion: Option<(String, String)>,
    /// Version.
    pub version: i64,
    /// Registered at.
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
struct Assessments {
    inherent: Assessed,
    residual: Option<Assessed>,
}

type RiskRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    NaiveDateTime,
);

macro_rules! risk_columns {
    () => {
        (
            risks::id,
            risks::unit_id,
            risks::enterprise_id,
            risks::name,
            risks::accident_kinds,
            risks::assessment,
            risks::criterion,
            risks::criteria_version,
            risks::version,
            risks::created_at,
        )
    };
}

fn risk_of(r: RiskRow, area_code: String) -> Result<Risk, StoreError> {
    let a: Assessments = parse_json(&r.5)?;
    Ok(Risk {
        id: RiskId::parse(&r.0).ok_or_else(|| corrupt("risk id"))?,
        unit_id: RiskUnitId::parse(&r.1).ok_or_else(|| corrupt("unit"))?,
        enterprise_id: EnterpriseId::parse(&r.2).ok_or_else(|| corrupt("enterprise"))?,
        area_code,
        name: r.3,
        accident_kinds: r
            .4
            .split(',')
            .filter(|k| !k.is_empty())
            .map(|k| AccidentKind::from_code(k).ok_or_else(|| corrupt("accident kind")))
            .collect::<Result<_, _>>()?,
        inherent: a.inherent,
        residual: a.residual,
        criterion: r.6.zip(r.7),
        version: r.8,
        created_at: utc(r.9),
    })
}

fn load_risk(conn: &mut DbConn, id: RiskId, scope: &Scope) -> Result<Risk, StoreError> {
    let r: RiskRow = risks::table
        .find(id.to_string())
        .select(risk_columns!())
        .first(conn)?;
    let enterprise = EnterpriseId::parse(&r.2).ok_or_else(|| corrupt("enterprise"))?;
    let area = enterprise_area(conn, enterprise, scope)?;
    risk_of(r, area)
}

/// Registers a risk of a unit inside `scope` (`NotFound` otherwise); a
/// criterion must fit the enterprise's sector; records `risk.created`.
pub fn create_risk(
    tx: &mut WriteTx<'_>,
    d: &RiskData,
    scope: &Scope,
    actor: &Actor,
) -> Result<Risk, StoreError> {
    let unit = load_unit(tx, d.unit_id, scope)?;
    let enterprise = unit.data.enterprise_id;
    crate::hazards::check_fits(tx, enterprise, d.criterion.as_ref())?;
    let id = RiskId::new();
    let at = now();
    let reference = d.criterion.as_ref().map(|(c, _)| c.reference());
    let kinds: Vec<&str> = d.accident_kinds.iter().map(|k| k.as_str()).collect();
    diesel::insert_into(risks::table)
        .values((
            risks::id.eq(id.to_string()),
            risks::unit_id.eq(d.unit_id.to_string()),
            risks::enterprise_id.eq(enterprise.to_string()),
            risks::name.eq(&d.name),
            risks::accident_kinds.eq(kinds.join(",")),
            risks::inherent_level.eq(d.inherent.level.as_str()),
            risks::residual_level.eq(d.residual.as_ref().map(|r| r.level.as_str())),
            risks::assessment.eq(json(&Assessments {
                inherent: d.inherent.clone(),
                residual: d.residual.clone(),
            })?),
            risks::criterion.eq(&reference),
            risks::criteria_version.eq(d.criterion.as_ref().map(|(_, v)| v.clone())),
            risks::version.eq(1i64),
            risks::created_at.eq(at),
            risks::updated_at.eq(at),
            risks::area_code.eq(&unit.area_code),
        ))
        .execute(&mut **tx)?;
    let counted = d.residual.as_ref().unwrap_or(&d.inherent).level;
    crate::hazards::counts::risk_added(tx, enterprise, counted.as_str())?;
    tx.record(NewEvent {
        actor: actor.clone(),
        resource_id: id.to_string(),
        area_code: Some(unit.area_code.clone()),
        enterprise_id: Some(enterprise),
        data: EventData::RiskCreated(RiskFields {
            id: id.to_string(),
            unit_id: d.unit_id.to_string(),
            name: d.name.clone(),
            inherent_level: d.inherent.level.as_str().to_owned(),
            residual_level: d.residual.as_ref().map(|r| r.level.as_str().to_owned()),
            criterion: reference,
        }),
        reason: None,
    })?;
    load_risk(tx, id, scope)
}

/// What a control measure says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureData {
    /// What it does.
    pub description: String,
    /// Monitoring or inspection.
    pub mode: MeasureMode,
    /// First class.
    pub class: MeasureClass,
    /// Second class, the national code like `1-2`.
    pub subclass: Option<String>,
    /// What to check.
    pub check_content: Option<String>,
    /// Who owns it.
    pub owner: String,
}

/// A stored measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measure {
    /// Id.
    pub id: MeasureId,
    /// Its risk.
    pub risk_id: RiskId,
    /// The facts.
    pub data: MeasureData,
    /// Added at.
    pub created_at: DateTime<Utc>,
}

type MeasureRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    NaiveDateTime,
);

fn measure_of(r: MeasureRow) -> Result<Measure, StoreError> {
    Ok(Measure {
        id: MeasureId::parse(&r.0).ok_or_else(|| corrupt("measure id"))?,
        risk_id: RiskId::parse(&r.1).ok_or_else(|| corrupt("risk"))?,
        data: MeasureData {
            description: r.2,
            mode: MeasureMode::from_code(&r.3).ok_or_else(|| corrupt("mode"))?,
            class: MeasureClass::from_code(&r.4).ok_or_else(|| corrupt("class"))?,
            subclass: r.5,
            check_content: r.6,
            owner: r.7,
        },
        created_at: utc(r.8),
    })
}

const MEASURE_COLUMNS: (
    risk_measures::id,
    risk_measures::risk_id,
    risk_measures::description,
    risk_measures::mode,
    risk_measures::class,
    risk_measures::subclass,
    risk_measures::check_content,
    risk_measures::owner,
    risk_measures::created_at,
) = (
    risk_measures::id,
    risk_measures::risk_id,
    risk_measures::description,
    risk_measures::mode,
    risk_measures::class,
    risk_measures::subclass,
    risk_measures::check_content,
    risk_measures::owner,
    risk_measures::created_at,
);

/// Adds a measure to a risk inside `scope`; records `risk_measure.created`.
pub fn create_measure(
    tx: &mut WriteTx<'_>,
    risk: RiskId,
    d: &MeasureData,
    scope: &Scope,
    actor: &Actor,
) -> Result<Measure, StoreError> {
    let r = load_risk(tx, risk, scope)?;
    let id = MeasureId::new();
    diesel::insert_into(risk_measures::table)
        .values((
            risk_measures::id.eq(id.to_string()),
            risk_measures::risk_id.eq(risk.to_string()),
            risk_measures::enterprise_id.eq(r.enterprise_id.to_string()),
            risk_measures::description.eq(&d.description),
            risk_measures::mode.eq(d.mode.as_str()),
            risk_measures::class.eq(d.class.as_str()),
            risk_measures::subclass.eq(&d.subclass),
            risk_measures::check_content.eq(&d.check_content),
            risk_measures::owner.eq(&d.owner),
            risk_measures::created_at.eq(now()),
            risk_measures::area_code.eq(&r.area_code),
        ))
        .execute(&mut **tx)?;
    tx.record(NewEvent {
        actor: actor.clone(),
        resource_id: id.to_string(),
        area_code: Some(r.area_code.clone()),
        enterprise_id: Some(r.enterprise_id),
        data: EventData::MeasureCreated(MeasureFields {
            id: id.to_string(),
            risk_id: risk.to_string(),
            description: d.description.clone(),
            mode: d.mode.as_str().to_owned(),
        }),
        reason: None,
    })?;
    let row: MeasureRow = risk_measures::table
        .find(id.to_string())
        .select(MEASURE_COLUMNS)
        .first(&mut **tx)?;
    measure_of(row)
}

/// Filters of the unit and risk lists.
#[derive(Debug, Clone)]
pub struct RegisterFilter {
    /// The caller's jurisdiction.
    pub scope: Scope,
    /// Only this area.
    pub area_code: Option<String>,
    /// Only this enterprise.
    pub enterprise_id: Option<EnterpriseId>,
    /// Units: only this kind.
    pub kind: Option<UnitKind>,
    /// Risks: only this unit.
    pub unit_id: Option<RiskUnitId>,
    /// Risks: only this inherent level.
    pub level: Option<RiskLevel>,
}

impl Store {
    /// One unit inside `scope`.
    pub fn get_risk_unit(&self, id: RiskUnitId, scope: &Scope) -> Result<Unit, StoreError> {
        self.with_read(|conn| load_unit(conn, id, scope))
    }

    /// One risk inside `scope`.
    pub fn get_risk(&self, id: RiskId, scope: &Scope) -> Result<Risk, StoreError> {
        self.with_read(|conn| load_risk(conn, id, scope))
    }

    /// The units matching `filter`, in id order after `after`, at most `limit`.
    pub fn list_risk_units(
        &self,
        filter: &RegisterFilter,
        after: Option<String>,
        limit: i64,
    ) -> Result<Vec<Unit>, StoreError> {
        self.with_read(|conn| {
            let q = risk_units::table
                .inner_join(enterprises::table)
                .select((unit_columns!(), enterprises::area_code))
                .order(risk_units::id.asc())
                .limit(limit)
                .into_boxed();
            let mut q = crate::scoped!(
                q,
                &filter.scope,
                enterprises::area_code,
                risk_units::enterprise_id,
                &filter.area_code
            );
            if let Some(e) = filter.enterprise_id {
                q = q.filter(risk_units::enterprise_id.eq(e.to_string()));
            }
            if let Some(k) = filter.kind {
                q = q.filter(risk_units::kind.eq(k.as_str()));
            }
            if let Some(after) = after {
                q = q.filter(risk_units::id.gt(after));
            }
            q.load::<(UnitRow, String)>(conn)?
                .into_iter()
                .map(|(r, area)| unit_of(r, area))
                .collect()
        })
    }

    /// The risks matching `filter`, in id order after `after`, at most `limit`.
    pub fn list_risks(
        &self,
        filter: &RegisterFilter,
        after: Option<String>,
        limit: i64,
    ) -> Result<Vec<Risk>, StoreError> {
        self.with_read(|conn| {
            let q = risks::table
                .inner_join(enterprises::table)
                .select((risk_columns!(), enterprises::area_code))
                .order(risks::id.asc())
                .limit(limit)
                .into_boxed();
            let mut q = crate::scoped!(
                q,
                &filter.scope,
                enterprises::area_code,
                risks::enterprise_id,
                &filter.area_code
            );
            if let Some(e) = filter.enterprise_id {
                q = q.filter(risks::enterprise_id.eq(e.to_string()));
            }
            if let Some(u) = filter.unit_id {
                q = q.filter(risks::unit_id.eq(u.to_string()));
            }
            if let Some(l) = filter.level {
                q = q.filter(risks::inherent_level.eq(l.as_str()));
            }
            if let Some(after) = after {
                q = q.filter(risks::id.gt(after));
            }
            q.load::<(RiskRow, String)>(conn)?
                .into_iter()
                .map(|(r, area)| risk_of(r, area))
                .collect()
        })
    }

    /// The measures of a risk inside `scope`, in the order added.
    pub fn list_measures(&self, risk: RiskId, scope: &Scope) -> Result<Vec<Measure>, StoreError> {
        self.with_read(|conn| {
            load_risk(conn, risk, scope)?;
            risk_measures::table
                .filter(risk_measures::risk_id.eq(risk.to_string()))
                .order(risk_measures::id.asc())
                .select(MEASURE_COLUMNS)
                .load::<MeasureRow>(conn)?
                .into_iter()
                .map(measure_of)
                .collect()
        })
    }
}
