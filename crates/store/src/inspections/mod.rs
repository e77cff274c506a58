//! Inspection tasks and records, scoped like their enterprise. A task's occurrences are
//! computed (`domain::inspections`) from its schedule, its unit's stop periods and the
//! working-day calendar; the records say which were done.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use diesel::prelude::*;
use safegrade_domain::inspections::{CycleUnit, DayType, InspectionResult, Schedule, TaskType};
use safegrade_domain::{
    Actor, CodeList, EnterpriseId, MeasureId, RecordId, RiskUnitId, Scope, TaskId, Violation,
    ViolationCode,
};

use crate::now;
use crate::plumbing::events::payload::{InspectionFields, TaskFields};
use crate::plumbing::events::{EventData, NewEvent};
use crate::plumbing::instant::utc;
use crate::plumbing::jurisdiction::enterprise_area;
use crate::plumbing::schema::{
    enterprises, inspection_records, inspection_tasks, risk_measures, risk_units, risks,
};
use crate::risks::Stop;
use crate::{DbConn, Store, StoreError, WriteTx};

fn corrupt(what: &str) -> StoreError {
    StoreError::Other(format!("a stored inspection record is not valid: {what}").into())
}

/// What a task says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskData {
    /// The unit inspected (its stop periods pause the task).
    pub unit_id: RiskUnitId,
    /// The control measure it checks, if any (a measure of a risk of that unit).
    pub measure_id: Option<MeasureId>,
    /// What to inspect.
    pub content: String,
    /// When it is due.
    pub schedule: Schedule,
    /// Whose task it is.
    pub task_type: TaskType,
    /// For a major-hazard responsible person's task: its item number on their list.
    pub item_no: Option<u32>,
    /// Who does it.
    pub assignee: String,
}

/// A stored task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Id.
    pub id: TaskId,
    /// The enterprise (its unit's).
    pub enterprise_id: EnterpriseId,
    /// Its area.
    pub area_code: String,
    /// The facts.
    pub data: TaskData,
    /// Version.
    pub version: i64,
    /// Set up at.
    pub created_at: DateTime<Utc>,
}

type TaskRow = (
    (
        String,
        String,
        String,
        Option<String>,
        String,
        i32,
        String,
        String,
        Option<String>,
        Option<String>,
    ),
    (
        String,
        Option<i32>,
        String,
        NaiveDate,
        Option<NaiveDate>,
        i64,
        NaiveDateTime,
    ),
);

macro_rules! task_columns {
    () => {
        (
            (
                inspection_tasks::id,
                inspection_tasks::enterprise_id,
                inspection_tasks::unit_id,
                inspection_tasks::measure_id,
                inspection_tasks::content,
                inspection_tasks::every,
                inspection_tasks::cycle_unit,
                inspection_tasks::day_type,
                inspection_tasks::window_start,
                inspection_tasks::window_end,
            ),
            (
                inspection_tasks::task_type,
                inspection_tasks::item_no,
                inspection_tasks::assignee,
                inspection_tasks::starts_on,
                inspection_tasks::ends_on,
                inspection_tasks::version,
                inspection_tasks::created_at,
            ),
        )
    };
}

fn time_of(t: Option<String>) -> Result<Option<NaiveTime>, StoreError> {
    t.map(|t| NaiveTime::parse_from_str(&t, "%H:%M").map_err(|_| corrupt("window")))
        .transpose()
}

fn task_of((a, b): TaskRow, area_code: String) -> Result<Task, StoreError> {
    let window = match (time_of(a.8)?, time_of(a.9)?) {
        (Some(s), Some(e)) => Some((s, e)),
        _ => None,
    };
    Ok(Task {
        id: TaskId::parse(&a.0).ok_or_else(|| corrupt("task id"))?,
        enterprise_id: EnterpriseId::parse(&a.1).ok_or_else(|| corrupt("enterprise"))?,
        area_code,
        data: TaskData {
            unit_id: RiskUnitId::parse(&a.2).ok_or_else(|| corrupt("unit"))?,
            measure_id: a.3.and_then(|m| MeasureId::parse(&m)),
            content: a.4,
            schedule: Schedule {
                every: u32::try_from(a.5).map_err(|_| corrupt("every"))?,
                unit: CycleUnit::from_code(&a.6).ok_or_else(|| corrupt("cycle unit"))?,
                day_type: DayType::from_code(&a.7).ok_or_else(|| corrupt("day type"))?,
                window,
                starts_on: b.3,
                ends_on: b.4,
            },
            task_type: TaskType::from_code(&b.0).ok_or_else(|| corrupt("task type"))?,
            item_no: b.1.and_then(|n| u32::try_from(n).ok()),
            assignee: b.2,
        },
        version: b.5,
        created_at: utc(b.6),
    })
}

fn load_task(conn: &mut DbConn, id: TaskId, scope: &Scope) -> Result<Task, StoreError> {
    let row: TaskRow = inspection_tasks::table
        .find(id.to_string())
        .select(task_columns!())
        .first(conn)?;
    let enterprise = EnterpriseId::parse(&row.0.1).ok_or_else(|| corrupt("enterprise"))?;
    let area = enterprise_area(conn, enterprise, scope)?;
    task_of(row, area)
}

/// Sets up a task on a unit inside `scope` (`NotFound` otherwise); a measure must be one of
/// a risk of that unit (422 at `measure_id`); records `inspection_task.created`.
pub fn create_task(
    tx: &mut WriteTx<'_>,
    d: &TaskData,
    scope: &Scope,
    actor: &Actor,
) -> Result<Task, StoreError> {
    let unit = crate::risks::load_unit(tx, d.unit_id, scope)?;
    if let Some(m) = d.measure_id {
        let of_unit: Option<String> = risk_measures::table
            .inner_join(risks::table.on(risks::id.eq(risk_measures::risk_id)))
            .filter(risk_measures::id.eq(m.to_string()))
            .select(risks::unit_id)
            .first(&mut **tx)
            .optional()?;
        if of_unit.as_deref() != Some(d.unit_id.to_string().as_str()) {
            return Err(StoreError::Invalid(vec![Violation::field(
                "measure_id",
                ViolationCode::InvalidValue,
                "管控措施须属于该单元的风险",
            )]));
        }
    }
    let id = TaskId::new();
    let s = &d.schedule;
    let hm = |t: NaiveTime| t.format("%H:%M").to_string();
    diesel::insert_into(inspection_tasks::table)
        .values((
            (
                inspection_tasks::id.eq(id.to_string()),
                inspection_tasks::enterprise_id.eq(unit.data.enterprise_id.to_string()),
                inspection_tasks::unit_id.eq(d.unit_id.to_string()),
                inspection_tasks::measure_id.eq(d.measure_id.map(|m| m.to_string())),
                inspection_tasks::content.eq(&d.content),
                inspection_tasks::every.eq(i32::try_from(s.every).unwrap_or(i32::MAX)),
                inspection_tasks::cycle_unit.eq(s.unit.as_str()),
                inspection_tasks::day_type.eq(s.day_type.as_str()),
                inspection_tasks::window_start.eq(s.window.map(|w| hm(w.0))),
                inspection_tasks::window_end.eq(s.window.map(|w| hm(w.1))),
            ),
            (
                inspection_tasks::task_type.eq(d.task_type.as_str()),
                inspection_tasks::item_no.eq(d.item_no.and_then(|n| i32::try_from(n).ok())),
                inspection_tasks::assignee.eq(&d.assignee),
                inspection_tasks::starts_on.eq(s.starts_on),
                inspection_tasks::ends_on.eq(s.ends_on),
                inspection_tasks::version.eq(1i64),
                inspection_tasks::created_at.eq(now()),
            ),
            inspection_tasks::area_code.eq(&unit.area_code),
        ))
        .execute(&mut **tx)?;
    tx.record(NewEvent {
        actor: actor.clone(),
        resource_id: id.to_string(),
        area_code: Some(unit.area_code.clone()),
        enterprise_id: Some(unit.data.enterprise_id),
        data: EventData::TaskCreated(TaskFields {
            id: id.to_string(),
            unit_id: d.unit_id.to_string(),
            content: d.content.clone(),
            cycle: format!("{} {}", s.every, s.unit.as_str()),
            day_type: s.day_type.as_str().to_owned(),
        }),
        reason: None,
    })?;
    load_task(tx, id, scope)
}

/// What a record says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordData {
    /// The task.
    pub task_id: TaskId,
    /// When it was done (local time, Beijing).
    pub performed_at: NaiveDateTime,
    /// By whom.
    pub performed_by: String,
    /// What it found.
    pub result: InspectionResult,
    /// Notes.
    pub note: Option<String>,
}

/// A stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Id.
    pub id: RecordId,
    /// The enterprise.
    pub enterprise_id: EnterpriseId,
    /// The facts.
    pub data: RecordData,
    /// Recorded at.
    pub created_at: DateTime<Utc>,
}

type RecordRow = (
    String,
    String,
    String,
    NaiveDateTime,
    String,
    String,
    Option<String>,
    NaiveDateTime,
);

const RECORD_COLUMNS: (
    inspection_records::id,
    inspection_records::task_id,
    inspection_records::enterprise_id,
    inspection_records::performed_at,
    inspection_records::performed_by,
    inspection_records::result,
    inspection_records::note,
    inspection_records::created_at,
) = (
    inspection_records::id,
    inspection_records::task_id,
    inspection_records::enterprise_id,
    inspection_records::performed_at,
    inspection_records::performed_by,
    inspection_records::result,
    inspection_records::note,
    inspection_records::created_at,
);

fn record_of(r: RecordRow) -> Result<Record, StoreError> {
    Ok(Record {
        id: RecordId::parse(&r.0).ok_or_else(|| corrupt("record id"))?,
        enterprise_id: EnterpriseId::parse(&r.2).ok_or_else(|| corrupt("enterprise"))?,
        data: RecordData {
            task_id: TaskId::parse(&r.1).ok_or_else(|| corrupt("task"))?,
            performed_at: r.3,
            performed_by: r.4,
            result: InspectionResult::from_code(&r.5).ok_or_else(|| corrupt("result"))?,
            note: r.6,
        },
        created_at: utc(r.7),
    })
}

/// Records an inspection of a task inside `scope` (`NotFound` otherwise); records
/// `inspection.recorded`.
pub fn create_record(
    tx: &mut WriteTx<'_>,
    d: &RecordData,
    scope: &Scope,
    actor: &Actor,
) -> Result<Record, StoreError> {
    let task = load_task(tx, d.task_id, scope)?;
    let id = RecordId::new();
    diesel::insert_into(inspection_records::table)
        .values((
            inspection_records::id.eq(id.to_string()),
            inspection_records::task_id.eq(d.task_id.to_string()),
            inspection_records::enterprise_id.eq(task.enterprise_id.to_string()),
            inspection_records::performed_at.eq(d.performed_at),
            inspection_records::performed_by.eq(&d.performed_by),
            inspection_records::result.eq(d.result.as_str()),
            inspection_records::note.eq(&d.note),
            inspection_records::created_at.eq(now()),
            inspection_records::area_code.eq(&task.area_code),
        ))
        .execute(&mut **tx)?;
    tx.record(NewEvent {
        actor: actor.clone(),
        resource_id: id.to_string(),
        area_code: Some(task.area_code.clone()),
        enterprise_id: Some(task.enterprise_id),
        data: EventData::InspectionRecorded(InspectionFields {
            id: id.to_string(),
            task_id: d.task_id.to_string(),
            performed_at: d.performed_at.format("%Y-%m-%dT%H:%M:%S+08:00").to_string(),
            performed_by: d.performed_by.clone(),
            result: d.result.as_str().to_owned(),
        }),
        reason: None,
    })?;
    let row: RecordRow = inspection_records::table
        .find(id.to_string())
        .select(RECORD_COLUMNS)
        .first(&mut **tx)?;
    record_of(row)
}

/// A task with what its occurrences need: its unit's stop periods and the times of the
/// records that count (not "not inspected") between two days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskWithRecords {
    /// The task.
    pub task: Task,
    /// The unit's stop periods.
    pub stops: Vec<Stop>,
    /// When it was done (records whose result is not `not_inspected`).
    pub done_at: Vec<NaiveDateTime>,
}

impl TaskWithRecords {
    /// Whether the unit is stopped on `day`.
    pub fn stopped(&self, day: NaiveDate) -> bool {
        self.stops.iter().any(|s| s.from <= day && day <= s.to)
    }
}

/// Stops and record times of `tasks` between `from` and `to` (whole days, and the day after
/// for windows past midnight): two queries.
fn with_records(
    conn: &mut DbConn,
    tasks: Vec<Task>,
    (from, to): (NaiveDate, NaiveDate),
) -> Result<Vec<TaskWithRecords>, StoreError> {
    let ids: Vec<String> = tasks.iter().map(|t| t.id.to_string()).collect();
    let units: Vec<String> = tasks.iter().map(|t| t.data.unit_id.to_string()).collect();
    let mut stops: std::collections::HashMap<String, Vec<Stop>> = Default::default();
    for chunk in units.chunks(1000) {
        for (id, s) in risk_units::table
            .filter(risk_units::id.eq_any(chunk))
            .select((risk_units::id, risk_units::stops))
            .load::<(String, String)>(conn)?
        {
            stops.insert(id, serde_json::from_str(&s).map_err(|_| corrupt("stops"))?);
        }
    }
    let mut done: std::collections::HashMap<String, Vec<NaiveDateTime>> = Default::default();
    let start = from.and_time(NaiveTime::MIN);
    let end = (to + chrono::Duration::days(2)).and_time(NaiveTime::MIN);
    for chunk in ids.chunks(1000) {
        for (task, at) in inspection_records::table
            .filter(inspection_records::task_id.eq_any(chunk))
            .filter(inspection_records::performed_at.ge(start))
            .filter(inspection_records::performed_at.lt(end))
            .filter(inspection_records::result.ne(InspectionResult::NotInspected.as_str()))
            .select((
                inspection_records::task_id,
                inspection_records::performed_at,
            ))
            .load::<(String, NaiveDateTime)>(conn)?
        {
            done.entry(task).or_default().push(at);
        }
    }
    Ok(tasks
        .into_iter()
        .map(|task| TaskWithRecords {
            stops: stops
                .get(&task.data.unit_id.to_string())
                .cloned()
                .unwrap_or_default(),
            done_at: done.remove(&task.id.to_string()).unwrap_or_default(),
            task,
        })
        .collect())
}

/// Filters of the task and record lists.
#[derive(Debug, Clone)]
pub struct InspectionFilter {
    /// The caller's jurisdiction.
    pub scope: Scope,
    /// Only this area.
    pub area_code: Option<String>,
    /// Only this enterprise.
    pub enterprise_id: Option<EnterpriseId>,
    /// Tasks: only this unit.
    pub unit_id: Option<RiskUnitId>,
    /// Records: only this task.
    pub task_id: Option<TaskId>,
}

/// The tasks matching `filter` with their stops and the records that count between the
/// days: a page in id order (`Some((after, limit))`), or all of them unsorted.
fn tasks(
    conn: &mut DbConn,
    filter: &InspectionFilter,
    days: (NaiveDate, NaiveDate),
    page: Option<(Option<String>, i64)>,
) -> Result<Vec<TaskWithRecords>, StoreError> {
    let q = inspection_tasks::table
        .inner_join(enterprises::table)
        .select((task_columns!(), enterprises::area_code))
        .into_boxed();
    let mut q = crate::scoped!(
        q,
        &filter.scope,
        enterprises::area_code,
        inspection_tasks::enterprise_id,
        &filter.area_code
    );
    if let Some(e) = filter.enterprise_id {
        q = q.filter(inspection_tasks::enterprise_id.eq(e.to_string()));
    }
    if let Some(u) = filter.unit_id {
        q = q.filter(inspection_tasks::unit_id.eq(u.to_string()));
    }
    if let Some((after, limit)) = page {
        q = q.order(inspection_tasks::id.asc()).limit(limit);
        if let Some(after) = after {
            q = q.filter(inspection_tasks::id.gt(after));
        }
    }
    let tasks = q
        .load::<(TaskRow, String)>(conn)?
        .into_iter()
        .map(|(r, area)| task_of(r, area))
        .collect::<Result<Vec<_>, _>>()?;
    with_records(conn, tasks, days)
}

impl Store {
    /// One task inside `scope`, with its stops and the records that count between the days.
    pub fn get_task(
        &self,
        id: TaskId,
        scope: &Scope,
        days: (NaiveDate, NaiveDate),
    ) -> Result<TaskWithRecords, StoreError> {
        self.with_read(|conn| {
            let t = load_task(conn, id, scope)?;
            with_records(conn, vec![t], days)?
                .pop()
                .ok_or(StoreError::NotFound)
        })
    }

    /// The tasks matching `filter`, in id order after `after`, at most `limit`, each with its
    /// stops and the records that count between the days.
    pub fn list_tasks(
        &self,
        filter: &InspectionFilter,
        days: (NaiveDate, NaiveDate),
        after: Option<String>,
        limit: i64,
    ) -> Result<Vec<TaskWithRecords>, StoreError> {
        self.with_read(|conn| tasks(conn, filter, days, Some((after, limit))))
    }

    /// Every task matching `filter`, in no particular order (as the area's enterprises are
    /// read, without sorting), each with its stops and the records that count between the
    /// days: for computations over a whole jurisdiction, like the weekly scores.
    pub fn all_tasks(
        &self,
        filter: &InspectionFilter,
        days: (NaiveDate, NaiveDate),
    ) -> Result<Vec<TaskWithRecords>, StoreError> {
        self.with_read(|conn| tasks(conn, filter, days, None))
    }

    /// The records matching `filter`, in id order after `after`, at most `limit`.
    pub fn list_records(
        &self,
        filter: &InspectionFilter,
        after: Option<String>,
        limit: i64,
    ) -> Result<Vec<Record>, StoreError> {
        self.with_read(|conn| {
            let q = inspection_records::table
                .inner_join(enterprises::table)
                .select(RECORD_COLUMNS)
                .order(inspection_records::id.asc())
                .limit(limit)
                .into_boxed();
            let mut q = crate::scoped!(
                q,
                &filter.scope,
                enterprises::area_code,
                inspection_records::enterprise_id,
                &filter.area_code
            );
            if let Some(e) = filter.enterprise_id {
                q = q.filter(inspection_records::enterprise_id.eq(e.to_string()));
            }
            if let Some(t) = filter.task_id {
                q = q.filter(inspection_records::task_id.eq(t.to_string()));
            }
            if let Some(after) = after {
                q = q.filter(inspection_records::id.gt(after));
            }
            q.load::<RecordRow>(conn)?
                .into_iter()
                .map(record_of)
                .collect()
        })
    }
}
