//! Inspection tasks and records (隐患排查任务与排查记录): a task's due occurrences are computed
//! from its cycle, day type, shift window, its unit's stop periods and the working-day
//! calendar; records say which were done; the rest that ended are missed.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use safegrade_domain::calendar::Calendar;
use safegrade_domain::inspections::{
    CycleUnit, DayType, InspectionResult, OccurrenceStatus, Schedule, TaskType, status,
};
use safegrade_domain::{
    Action, EnterpriseId, MeasureId, RiskUnitId, TaskId, Violation, ViolationCode as V,
};
use safegrade_store::inspections::{
    InspectionFilter, Record, RecordData, TaskData, TaskWithRecords, create_record, create_task,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::plumbing::app::AppState;
use crate::plumbing::auth::Caller;
use crate::plumbing::error::{ApiError, not_found_as, not_found_says};
use crate::plumbing::extract::{IdempotencyKey, JsonObject, PathId};
use crate::plumbing::list::{self, ListResponse};
use crate::plumbing::members::Reader;
use crate::plumbing::write::Answer;

/// Longest free text, in characters.
const TEXT: usize = 2000;
/// Longest name, in characters.
const NAME: usize = 100;
/// The default window of the counts: the last 7 days up to today.
const WINDOW_DAYS: i64 = 6;
/// The longest window, in days.
const MAX_WINDOW_DAYS: i64 = 366;

/// Beijing time (UTC+8), the local time of inspections and their occurrences.
fn beijing(t: NaiveDateTime) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(8 * 3600)
        .and_then(|o| t.and_local_timezone(o).single())
        .unwrap_or_else(|| t.and_utc().fixed_offset())
}

/// A local time given as RFC 3339 (`2024-09-25T09:00:00+08:00`, any offset) or without an
/// offset (`2024-09-25T09:00:00`, taken as Beijing time), as Beijing time.
fn local_time(raw: &str) -> Option<NaiveDateTime> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.naive_utc() + Duration::hours(8))
        .ok()
        .or_else(|| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S").ok())
}

/// How a task did over a window of days.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct TaskSummary {
    /// The first day of the window.
    pub from: Option<NaiveDate>,
    /// The last day.
    pub to: Option<NaiveDate>,
    /// Occurrences due in it.
    pub due: usize,
    /// Done (a record within the occurrence, not "not inspected").
    pub done: usize,
    /// Ended before today without a record (应查未查).
    pub missed: usize,
    /// Still running today.
    pub open: usize,
    /// Why nothing could be counted: a year missing from the working-day calendar.
    pub calendar_note: Option<String>,
}

/// One due occurrence of a task.
#[derive(Debug, Serialize, ToSchema)]
pub struct OccurrenceResponse {
    /// Start (Beijing time, RFC 3339 with +08:00).
    pub start: DateTime<FixedOffset>,
    /// End, exclusive.
    pub end: DateTime<FixedOffset>,
    /// Done, missed or open.
    #[schema(value_type = crate::plumbing::codes::OccurrenceStatus)]
    pub status: OccurrenceStatus,
}

/// An inspection task.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskResponse {
    /// Id.
    pub id: String,
    /// The enterprise.
    pub enterprise_id: String,
    /// Its supervision area.
    pub area_code: String,
    /// The unit inspected.
    pub unit_id: String,
    /// The control measure it checks.
    pub measure_id: Option<String>,
    /// What to inspect.
    pub content: String,
    /// Every `every` …
    pub every: u32,
    /// … hours, days, months or years.
    #[schema(value_type = crate::plumbing::codes::CycleUnit)]
    pub cycle_unit: CycleUnit,
    /// Every day, statutory working days, or non-working days.
    #[schema(value_type = crate::plumbing::codes::DayType)]
    pub day_type: DayType,
    /// Hourly tasks: the shift window start (`HH:MM`).
    pub window_start: Option<String>,
    /// Hourly tasks: the shift window end (`HH:MM`; not after the start: past midnight).
    pub window_end: Option<String>,
    /// Whose task it is.
    #[schema(value_type = crate::plumbing::codes::TaskType)]
    pub task_type: TaskType,
    /// A major-hazard responsible person's item number.
    pub item_no: Option<u32>,
    /// Who does it.
    pub assignee: String,
    /// The first day it is due.
    pub starts_on: NaiveDate,
    /// The last day.
    pub ends_on: Option<NaiveDate>,
    /// How it did over the window asked (default the last 7 days).
    pub summary: TaskSummary,
    /// Version.
    pub version: i64,
    /// Set up at (UTC).
    pub created_at: DateTime<Utc>,
}

/// The occurrences of `t` over `(from, to)` with their statuses as of the start of `today`
/// (an occurrence is missed once it ended before today).
fn occurrences(
    t: &TaskWithRecords,
    (from, to): (NaiveDate, NaiveDate),
    today: NaiveDate,
    calendar: &Calendar,
) -> Result<Vec<OccurrenceResponse>, String> {
    let now = today.and_time(NaiveTime::MIN);
    let stopped = |d: NaiveDate| t.stopped(d);
    t.task
        .data
        .schedule
        .occurrences(from, to, calendar, &stopped)
        .map(|os| {
            os.into_iter()
                .map(|o| OccurrenceResponse {
                    start: beijing(o.start),
                    end: beijing(o.end),
                    status: status(&o, &t.done_at, now),
                })
                .collect()
        })
        .map_err(|e| e.to_string())
}

impl TaskResponse {
    fn new(
        t: TaskWithRecords,
        days: (NaiveDate, NaiveDate),
        today: NaiveDate,
        cal: &Calendar,
    ) -> Self {
        let summary = match occurrences(&t, days, today, cal) {
            Ok(os) => {
                let count = |s| os.iter().filter(|o| o.status == s).count();
                TaskSummary {
                    from: Some(days.0),
                    to: Some(days.1),
                    due: os.len(),
                    done: count(OccurrenceStatus::Done),
                    missed: count(OccurrenceStatus::Missed),
                    open: count(OccurrenceStatus::Open),
                    calendar_note: None,
                }
            }
            Err(note) => TaskSummary {
                from: Some(days.0),
                to: Some(days.1),
                calendar_note: Some(note),
                ..TaskSummary::default()
            },
        };
        let task = t.task;
        let s = task.data.schedule;
        let hm = |t: NaiveTime| t.format("%H:%M").to_string();
        Self {
            id: task.id.to_string(),
            enterprise_id: task.enterprise_id.to_string(),
            area_code: task.area_code,
            unit_id: task.data.unit_id.to_string(),
            measure_id: task.data.measure_id.map(|m| m.to_string()),
            content: task.data.content,
            every: s.every,
            cycle_unit: s.unit,
            day_type: s.day_type,
            window_start: s.window.map(|w| hm(w.0)),
            window_end: s.window.map(|w| hm(w.1)),
            task_type: task.data.task_type,
            item_no: task.data.item_no,
            assignee: task.data.assignee,
            starts_on: s.starts_on,
            ends_on: s.ends_on,
            summary,
            version: task.version,
            created_at: task.created_at,
        }
    }
}

/// Setting up a task.
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct TaskCreate {
    /// The unit inspected (in the caller's jurisdiction).
    pub unit_id: String,
    /// The control measure it checks (a measure of a risk of that unit).
    pub measure_id: Option<String>,
    /// What to inspect, up to 2,000 characters.
    pub content: String,
    /// The cycle: every `every` …
    pub every: u32,
    /// … `hour`, `day`, `month` or `year`.
    #[schema(value_type = crate::plumbing::codes::CycleUnit)]
    pub cycle_unit: String,
    /// `every_day`, `working_days` or `non_working_days` (the working-day calendar).
    #[schema(value_type = crate::plumbing::codes::DayType)]
    pub day_type: String,
    /// Hourly tasks only: the shift window start, `HH:MM`.
    pub window_start: Option<String>,
    /// Hourly tasks only: the shift window end, `HH:MM` (not after the start: past midnight).
    pub window_end: Option<String>,
    /// Whose task it is; default `routine`.
    #[schema(value_type = Option<crate::plumbing::codes::TaskType>)]
    pub task_type: Option<String>,
    /// A major-hazard responsible person's item number.
    pub item_no: Option<u32>,
    /// Who does it.
    pub assignee: String,
    /// The first day it is due.
    pub starts_on: NaiveDate,
    /// The last day, if it ends.
    pub ends_on: Option<NaiveDate>,
}

fn time(r: &mut Reader<'_>, key: &'static str) -> Option<NaiveTime> {
    let raw = r.text(key, 5)?;
    let t = NaiveTime::parse_from_str(&raw, "%H:%M").ok();
    if t.is_none() {
        r.errors.push(Violation::field(
            key,
            V::InvalidValue,
            format!("{key} 须为 HH:MM，实际为 '{raw}'"),
        ));
    }
    t
}

/// Set up an inspection task (新增排查任务) on a risk analysis unit: what to inspect, the
/// cycle (a number and a unit), the day type (every day, statutory working days or
/// non-working days, by the working-day calendar) and, for hourly tasks, the shift window.
#[utoipa::path(
    tag = "inspections",
    operation_id = "create_inspection_task",
    request_body(content = TaskCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Set up", body = TaskResponse,
            headers(("Location" = String, description = "URL of the task"), ("ETag" = String, description = "Version, quoted"))),
    )
)]
#[post("/inspection-tasks")]
pub async fn create_inspection_task(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::RecordDualPrevention)?;
    let mut r = Reader::new(&body);
    let unit = r.required("unit_id", "排查的风险分析单元", |r| {
        r.id("unit_id", "风险分析单元", RiskUnitId::parse)
    });
    let measure = r.id("measure_id", "管控措施", MeasureId::parse);
    let content = r.required_text("content", TEXT, "排查内容");
    let every = r.required("every", "周期数", |r| r.integer("every"));
    let cycle_unit = r.required("cycle_unit", "周期单位", |r| {
        r.code::<CycleUnit>("cycle_unit")
    });
    let day_type = r.required("day_type", "工作日类型", |r| {
        r.code::<DayType>("day_type")
    });
    let window = (time(&mut r, "window_start"), time(&mut r, "window_end"));
    let task_type = r.code::<TaskType>("task_type").unwrap_or(TaskType::Routine);
    let item_no = r.integer("item_no");
    let assignee = r.required_text("assignee", NAME, "排查责任人");
    let starts_on = r.required("starts_on", "开始日期", |r| r.date("starts_on"));
    let ends_on = r.date("ends_on");
    let mut errors = r.finish("排查任务");
    let every = every.map(|n| u32::try_from(n).unwrap_or(0));
    let schedule = match (every, cycle_unit, day_type, starts_on) {
        (Some(every), Some(unit), Some(day_type), Some(starts_on)) => {
            let s = Schedule {
                every,
                unit,
                day_type,
                window: window.0.zip(window.1),
                starts_on,
                ends_on,
            };
            match s.check() {
                Ok(()) => Some(s),
                Err(bad) => {
                    errors.extend(
                        bad.into_iter()
                            .map(|b| Violation::field(b.field, V::InvalidValue, b.message)),
                    );
                    None
                }
            }
        }
        _ => None,
    };
    let (Some(unit_id), Some(content), Some(schedule), Some(assignee), true) =
        (unit, content, schedule, assignee, errors.is_empty())
    else {
        return Err(ApiError::invalid(errors));
    };
    let data = TaskData {
        unit_id,
        measure_id: measure,
        content,
        schedule,
        task_type,
        item_no: item_no.and_then(|n| u32::try_from(n).ok()),
        assignee,
    };
    let today = state.today();
    let (scope, actor) = (caller.scope(), caller.actor());
    let calendar = state.run(|s| Ok(s.calendar()?)).await?;
    crate::plumbing::write::post(
        &state,
        &caller,
        &req,
        key,
        &body,
        &unit_id.to_string(),
        move |tx| {
            let t = create_task(tx, &data, &scope, &actor)
                .map_err(ApiError::from)
                .map_err(not_found_says(
                    "no risk analysis unit with this unit_id in your jurisdiction",
                ))?;
            let (location, version) = (format!("/api/v1/inspection-tasks/{}", t.id), t.version);
            let t = TaskWithRecords {
                task: t,
                stops: Vec::new(),
                done_at: Vec::new(),
            };
            let days = (today - Duration::days(WINDOW_DAYS), today);
            Ok(
                Answer::created(location, &TaskResponse::new(t, days, today, &calendar))?
                    .versioned(version),
            )
        },
    )
    .await
}

/// The window of days a summary or an occurrence list covers: `from`…`to`, default the last
/// 7 days up to today, at most a year.
fn window(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let to = to.unwrap_or(today);
    let from = from.unwrap_or(to - Duration::days(WINDOW_DAYS));
    if from > to || (to - from).num_days() > MAX_WINDOW_DAYS {
        return Err(ApiError::invalid(vec![Violation::field(
            "from",
            V::OutOfRange,
            format!("from 须不晚于 to，且相隔不超过 {MAX_WINDOW_DAYS} 天"),
        )]));
    }
    Ok((from, to))
}

/// Filters and paging of the task list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    /// Only this enterprise.
    pub enterprise_id: Option<uuid::Uuid>,
    /// Only this supervision area.
    pub area_code: Option<String>,
    /// Only the tasks of this unit.
    pub unit_id: Option<uuid::Uuid>,
    /// The first day of the summary window (default 6 days before `to`).
    pub from: Option<NaiveDate>,
    /// The last day of the summary window (default today).
    pub to: Option<NaiveDate>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The inspection tasks in the caller's jurisdiction, each with its due, done and missed
/// occurrences over a window of days (default the last 7).
#[utoipa::path(
    tag = "inspections",
    operation_id = "list_inspection_tasks",
    params(TaskQuery),
    responses(
        (status = 200, description = "One page", body = ListResponse<TaskResponse>),
    )
)]
#[get("/inspection-tasks")]
pub async fn list_inspection_tasks(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<TaskQuery>,
) -> Result<HttpResponse, ApiError> {
    const KIND: &str = "inspection_task";
    let q = query.into_inner();
    let (limit, after) = list::paging(q.limit, q.cursor.as_deref(), KIND)?;
    let today = state.today();
    let days = window(q.from, q.to, today)?;
    let filter = InspectionFilter {
        scope: caller.scope(),
        area_code: list::area_filter(q.area_code.as_deref())?,
        enterprise_id: q
            .enterprise_id
            .and_then(|u| EnterpriseId::parse(&u.to_string())),
        unit_id: q.unit_id.and_then(|u| RiskUnitId::parse(&u.to_string())),
        task_id: None,
    };
    let (rows, calendar) = state
        .run(move |s| {
            Ok((
                s.list_tasks(&filter, days, after, i64::from(limit) + 1)?,
                s.calendar()?,
            ))
        })
        .await?;
    let rows = rows
        .into_iter()
        .map(|t| TaskResponse::new(t, days, today, &calendar))
        .collect();
    Ok(
        HttpResponse::Ok().json(list::page(rows, limit, KIND, |t: &TaskResponse| {
            t.id.clone()
        })),
    )
}

/// The summary window of one task.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WindowQuery {
    /// The first day (default 6 days before `to`).
    pub from: Option<NaiveDate>,
    /// The last day (default today).
    pub to: Option<NaiveDate>,
}

async fn task_over(
    caller: &Caller,
    state: &web::Data<AppState>,
    (id, raw): (TaskId, String),
    days: (NaiveDate, NaiveDate),
) -> Result<(TaskWithRecords, Calendar), ApiError> {
    let scope = caller.scope();
    state
        .run(move |s| Ok((s.get_task(id, &scope, days)?, s.calendar()?)))
        .await
        .map_err(not_found_as("inspection_task", raw))
}

/// One inspection task with its due, done and missed occurrences over a window of days.
#[utoipa::path(
    tag = "inspections",
    operation_id = "get_inspection_task",
    params(("id" = uuid::Uuid, Path, description = "Task id"), WindowQuery),
    responses(
        (status = 200, description = "The task", body = TaskResponse, headers(("ETag" = String, description = "Version, quoted"))),
    )
)]
#[get("/inspection-tasks/{id}")]
pub async fn get_inspection_task(
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<TaskId>,
    query: web::Query<WindowQuery>,
) -> Result<HttpResponse, ApiError> {
    let today = state.today();
    let days = window(query.from, query.to, today)?;
    let (t, calendar) = task_over(&caller, &state, (id, raw), days).await?;
    let version = t.task.version;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{version}\"")))
        .json(TaskResponse::new(t, days, today, &calendar)))
}

/// The due occurrences of a task over a window of days (default the last 7), each done,
/// missed (应查未查: ended before today without a record) or open.
#[utoipa::path(
    tag = "inspections",
    operation_id = "list_occurrences",
    params(("id" = uuid::Uuid, Path, description = "Task id"), WindowQuery),
    responses(
        (status = 200, description = "All of them (one page)", body = ListResponse<OccurrenceResponse>),
    )
)]
#[get("/inspection-tasks/{id}/occurrences")]
pub async fn list_occurrences(
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<TaskId>,
    query: web::Query<WindowQuery>,
) -> Result<HttpResponse, ApiError> {
    let today = state.today();
    let days = window(query.from, query.to, today)?;
    let (t, calendar) = task_over(&caller, &state, (id, raw), days).await?;
    let items = occurrences(&t, days, today, &calendar).map_err(|note| {
        ApiError::new(crate::plumbing::error::ErrorCode::CalendarYearUnknown, note)
    })?;
    Ok(ListResponse::whole(items).into_response())
}

/// An inspection record (排查记录).
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordResponse {
    /// Id.
    pub id: String,
    /// The enterprise.
    pub enterprise_id: String,
    /// Its task.
    pub task_id: String,
    /// When (Beijing time, RFC 3339 with +08:00).
    pub performed_at: DateTime<FixedOffset>,
    /// By whom.
    pub performed_by: String,
    /// What it found.
    #[schema(value_type = crate::plumbing::codes::InspectionResult)]
    pub result: InspectionResult,
    /// Notes.
    pub note: Option<String>,
    /// Recorded at (UTC).
    pub created_at: DateTime<Utc>,
}

impl From<Record> for RecordResponse {
    fn from(r: Record) -> Self {
        Self {
            id: r.id.to_string(),
            enterprise_id: r.enterprise_id.to_string(),
            task_id: r.data.task_id.to_string(),
            performed_at: beijing(r.data.performed_at),
            performed_by: r.data.performed_by,
            result: r.data.result,
            note: r.data.note,
            created_at: r.created_at,
        }
    }
}

/// Recording an inspection.
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct RecordCreate {
    /// The task.
    pub task_id: String,
    /// When it was done: RFC 3339 (`2024-09-25T09:00:00+08:00`), or without an offset
    /// (`2024-09-25T09:00:00`) taken as Beijing time; not after today.
    #[schema(value_type = String, example = "2024-09-25T09:00:00+08:00")]
    pub performed_at: String,
    /// By whom.
    pub performed_by: String,
    /// What it found: `normal`, `hazard_found`, `not_inspected` or `other`.
    #[schema(value_type = crate::plumbing::codes::InspectionResult)]
    pub result: String,
    /// Notes (for `hazard_found`, what; register the hazard itself with `POST /api/v1/hazards`).
    pub note: Option<String>,
}

/// Record an inspection (登记排查记录) against a task.
#[utoipa::path(
    tag = "inspections",
    operation_id = "create_inspection_record",
    request_body(content = RecordCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Recorded", body = RecordResponse,
            headers(("Location" = String, description = "URL of the task's records"))),
    )
)]
#[post("/inspection-records")]
pub async fn create_inspection_record(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::RecordDualPrevention)?;
    let today = state.today();
    let mut r = Reader::new(&body);
    let task = r.required("task_id", "排查任务", |r| {
        r.id("task_id", "排查任务", TaskId::parse)
    });
    let performed_at = r.required("performed_at", "排查时间", |r| {
        let raw = r.text("performed_at", 40)?;
        let t = local_time(&raw);
        if t.is_none() {
            r.errors.push(Violation::field(
                "performed_at",
                V::InvalidValue,
                format!(
                    "performed_at 须为 RFC 3339 时间（如 2024-09-25T09:00:00+08:00，不带时区按北京时间），实际为 '{raw}'"
                ),
            ));
        }
        t
    });
    let performed_by = r.required_text("performed_by", NAME, "排查人");
    let result = r.required("result", "排查结果", |r| {
        r.code::<InspectionResult>("result")
    });
    let note = r.text("note", TEXT);
    let mut errors = r.finish("排查记录");
    if let Some(at) = performed_at.filter(|t| t.date() > today) {
        errors.push(Violation::field(
            "performed_at",
            V::OutOfRange,
            format!("performed_at {at} 晚于今天（{today}）"),
        ));
    }
    let (Some(task_id), Some(performed_at), Some(performed_by), Some(result), true) =
        (task, performed_at, performed_by, result, errors.is_empty())
    else {
        return Err(ApiError::invalid(errors));
    };
    let data = RecordData {
        task_id,
        performed_at,
        performed_by,
        result,
        note,
    };
    let (scope, actor) = (caller.scope(), caller.actor());
    crate::plumbing::write::post(
        &state,
        &caller,
        &req,
        key,
        &body,
        &task_id.to_string(),
        move |tx| {
            let rec = create_record(tx, &data, &scope, &actor)
                .map_err(ApiError::from)
                .map_err(not_found_says(
                    "no inspection task with this task_id in your jurisdiction",
                ))?;
            let location = format!("/api/v1/inspection-records?task_id={task_id}");
            Answer::created(location, &RecordResponse::from(rec))
        },
    )
    .await
}

/// Filters and paging of the record list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecordQuery {
    /// Only this enterprise.
    pub enterprise_id: Option<uuid::Uuid>,
    /// Only this supervision area.
    pub area_code: Option<String>,
    /// Only the records of this task.
    pub task_id: Option<uuid::Uuid>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The inspection records in the caller's jurisdiction, oldest first.
#[utoipa::path(
    tag = "inspections",
    operation_id = "list_inspection_records",
    params(RecordQuery),
    responses(
        (status = 200, description = "One page", body = ListResponse<RecordResponse>),
    )
)]
#[get("/inspection-records")]
pub async fn list_inspection_records(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<RecordQuery>,
) -> Result<HttpResponse, ApiError> {
    const KIND: &str = "inspection_record";
    let q = query.into_inner();
    let (limit, after) = list::paging(q.limit, q.cursor.as_deref(), KIND)?;
    let filter = InspectionFilter {
        scope: caller.scope(),
        area_code: list::area_filter(q.area_code.as_deref())?,
        enterprise_id: q
            .enterprise_id
            .and_then(|u| EnterpriseId::parse(&u.to_string())),
        unit_id: None,
        task_id: q.task_id.and_then(|u| TaskId::parse(&u.to_string())),
    };
    let rows = state
        .run(move |s| Ok(s.list_records(&filter, after, i64::from(limit) + 1)?))
        .await?;
    let rows = rows.into_iter().map(RecordResponse::from).collect();
    Ok(
        HttpResponse::Ok().json(list::page(rows, limit, KIND, |r: &RecordResponse| {
            r.id.clone()
        })),
    )
}

/// The inspections' operations.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(list_inspection_tasks)
        .service(create_inspection_task)
        .service(get_inspection_task)
        .service(list_occurrences)
        .service(list_inspection_records)
        .service(create_inspection_record)
        .service(get_operation_stats);
}

/// What one enterprise's weekly score is computed from, and the score.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperationResponse {
    /// The enterprise.
    pub enterprise_id: String,
    /// Its name.
    pub enterprise_name: String,
    /// Its supervision area.
    pub area_code: String,
    /// Inspection occurrences due in the week.
    pub planned: u32,
    /// Of those, done.
    pub done: u32,
    /// Missed occurrences of major-hazard responsible persons' tasks.
    pub in_charge_missed: u32,
    /// Hazards whose deadline fell in the week.
    pub hazards_due: u32,
    /// Of those, closed by their deadline.
    pub hazards_on_time: u32,
    /// Hazards found in the look-back weeks up to the week's end.
    pub hazards_found_recently: u32,
    /// Open major hazards past their deadline at the week's end (the veto).
    pub overdue_major: u32,
    /// A: inspection tasks (of `task_weight`).
    pub a: f64,
    /// B: hazard rectification (of `hazard_weight`).
    pub b: f64,
    /// α: 0 under the veto, else 1.
    pub alpha: u8,
    /// E = (A + B) × α.
    pub score: f64,
}

/// The weights and deductions in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperationRulesResponse {
    /// A's full points.
    pub task_weight: u32,
    /// B's full points.
    pub hazard_weight: u32,
    /// Points off A per missed occurrence of a major-hazard responsible person's task.
    pub in_charge_missed_deduction: u32,
    /// Weeks looked back for hazards found.
    pub quiet_weeks: u32,
    /// Points off B when none was found in them.
    pub quiet_deduction: u32,
}

/// The weekly scores of the enterprises in a jurisdiction.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperationStatsResponse {
    /// The ISO week, like `2025-W40`.
    pub week: String,
    /// Its Monday.
    pub from: NaiveDate,
    /// Its Sunday.
    pub to: NaiveDate,
    /// The weights and deductions used.
    pub rules: OperationRulesResponse,
    /// Per enterprise with inspection tasks or hazards, lowest score first.
    pub items: Vec<OperationResponse>,
    /// Why some inspection occurrences could not be counted (a year missing from the
    /// working-day calendar).
    pub calendar_note: Option<String>,
}

/// Filters of the weekly scores.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OperationQuery {
    /// The ISO week, `2025-W40`; default the last whole week.
    pub week: Option<String>,
    /// Only this supervision area.
    pub area_code: Option<String>,
    /// Only this enterprise.
    pub enterprise_id: Option<uuid::Uuid>,
}

fn week_of(raw: Option<&str>, today: NaiveDate) -> Result<(String, NaiveDate), ApiError> {
    use chrono::{Datelike, Weekday};
    match raw {
        None => {
            let monday =
                today - Duration::days(i64::from(today.weekday().num_days_from_monday()) + 7);
            let w = monday.iso_week();
            Ok((format!("{}-W{:02}", w.year(), w.week()), monday))
        }
        Some(raw) => raw
            .split_once("-W")
            .and_then(|(y, w)| Some((y.parse::<i32>().ok()?, w.parse::<u32>().ok()?)))
            .and_then(|(y, w)| NaiveDate::from_isoywd_opt(y, w, Weekday::Mon))
            .map(|monday| (raw.to_owned(), monday))
            .ok_or_else(|| {
                ApiError::invalid(vec![Violation::field(
                    "week",
                    V::InvalidValue,
                    format!("week 须为 ISO 周，如 2025-W40，实际为 '{raw}'"),
                )])
            }),
    }
}

/// The weekly dual-prevention score (运行效果) of each enterprise in the jurisdiction: E = (A
/// + B) × α from its inspection tasks and hazards, with every input shown — the signal for
/// choosing look-back (回头看) samples. Weights and deductions come from the grade rules.
#[utoipa::path(
    tag = "inspections",
    operation_id = "get_operation_stats",
    params(OperationQuery),
    responses(
        (status = 200, description = "The scores", body = OperationStatsResponse),
    )
)]
#[get("/stats/operation")]
pub async fn get_operation_stats(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<OperationQuery>,
) -> Result<HttpResponse, ApiError> {
    use safegrade_domain::insights::operation::{OperationInputs, score};
    let q = query.into_inner();
    let today = state.today();
    let (week, monday) = week_of(q.week.as_deref(), today)?;
    let sunday = monday + Duration::days(6);
    let rules = state.grade_rules.operation;
    let area_code = list::area_filter(q.area_code.as_deref())?;
    let enterprise_id = q
        .enterprise_id
        .and_then(|u| EnterpriseId::parse(&u.to_string()));
    let scope = caller.scope();
    let found_since = sunday - Duration::days(i64::from(rules.quiet_weeks) * 7 - 1);
    // The tasks and the hazards are read at once, on two connections.
    let filter = InspectionFilter {
        scope: scope.clone(),
        area_code: area_code.clone(),
        enterprise_id,
        unit_id: None,
        task_id: None,
    };
    let hazard_filter = safegrade_store::hazards::HazardStatsFilter {
        scope,
        area_code,
        sector: None,
    };
    let ((tasks, calendar), hazards) = futures_util::future::try_join(
        state.run(move |s| Ok((s.all_tasks(&filter, (monday, sunday))?, s.calendar()?))),
        state.run(move |s| Ok(s.hazard_weeks(&hazard_filter, (monday, sunday), found_since)?)),
    )
    .await?;
    let mut inputs: std::collections::BTreeMap<String, (String, OperationInputs)> =
        Default::default();
    let mut calendar_note = None;
    for t in &tasks {
        let entry = inputs
            .entry(t.task.enterprise_id.to_string())
            .or_insert_with(|| (t.task.area_code.clone(), OperationInputs::default()));
        match occurrences(
            t,
            (monday, sunday),
            today.min(sunday + Duration::days(1)),
            &calendar,
        ) {
            Ok(os) => {
                let n = |s| {
                    u32::try_from(os.iter().filter(|o| o.status == s).count()).unwrap_or(u32::MAX)
                };
                entry.1.planned += u32::try_from(os.len()).unwrap_or(u32::MAX);
                entry.1.done += n(OccurrenceStatus::Done);
                if t.task.data.task_type != TaskType::Routine {
                    entry.1.in_charge_missed += n(OccurrenceStatus::Missed);
                }
            }
            Err(note) => calendar_note = Some(note),
        }
    }
    let mut names: std::collections::HashMap<String, String> = Default::default();
    for h in hazards {
        if enterprise_id.is_some_and(|e| e.to_string() != h.enterprise_id) {
            continue;
        }
        names.insert(h.enterprise_id.clone(), h.enterprise_name);
        let entry = inputs
            .entry(h.enterprise_id.clone())
            .or_insert_with(|| (h.area_code.clone(), OperationInputs::default()));
        let n = |x: i64| u32::try_from(x).unwrap_or(u32::MAX);
        entry.1.hazards_due = n(h.due);
        entry.1.hazards_on_time = n(h.on_time);
        entry.1.hazards_found_recently = n(h.found_recently);
        entry.1.overdue_major = n(h.overdue_major);
    }
    // Names came with the hazard facts; those of enterprises without hazards are looked up.
    let ids: Vec<EnterpriseId> = inputs
        .keys()
        .filter(|k| !names.contains_key(*k))
        .filter_map(|k| EnterpriseId::parse(k))
        .collect();
    if !ids.is_empty() {
        let more = state.run(move |s| Ok(s.enterprise_names(&ids)?)).await?;
        names.extend(more.into_iter().map(|(id, name)| (id.to_string(), name)));
    }
    let mut items: Vec<OperationResponse> = inputs
        .into_iter()
        .map(|(id, (area, i))| {
            let s = score(&i, &rules);
            OperationResponse {
                enterprise_name: names.remove(&id).unwrap_or_default(),
                enterprise_id: id,
                area_code: area,
                planned: i.planned,
                done: i.done,
                in_charge_missed: i.in_charge_missed,
                hazards_due: i.hazards_due,
                hazards_on_time: i.hazards_on_time,
                hazards_found_recently: i.hazards_found_recently,
                overdue_major: i.overdue_major,
                a: s.a,
                b: s.b,
                alpha: s.alpha,
                score: s.score,
            }
        })
        .collect();
    items.sort_by(|x, y| {
        x.score
            .total_cmp(&y.score)
            .then_with(|| x.enterprise_id.cmp(&y.enterprise_id))
    });
    Ok(HttpResponse::Ok().json(OperationStatsResponse {
        week,
        from: monday,
        to: sunday,
        rules: OperationRulesResponse {
            task_weight: rules.task_weight,
            hazard_weight: rules.hazard_weight,
            in_charge_missed_deduction: rules.in_charge_missed_deduction,
            quiet_weeks: rules.quiet_weeks,
            quiet_deduction: rules.quiet_deduction,
        },
        items,
        calendar_note,
    }))
}
