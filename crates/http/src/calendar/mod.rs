//! The working-day calendar (工作日历): the holiday arrangement of each year, readable by
//! every caller, loaded or corrected by a city administrator, and the working-day arithmetic
//! integrators need for the deadlines of the Grading Measures.

use actix_web::http::header;
use actix_web::{HttpResponse, get, put, web};
use chrono::{NaiveDate, Utc};
use safegrade_domain::calendar::{ArrangementInput, DayInput, DayKind, limits};
use safegrade_domain::{Action, Violation, ViolationCode as V};
use safegrade_store::calendar::CalendarYear;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::plumbing::app::AppState;
use crate::plumbing::auth::Caller;
use crate::plumbing::error::{ApiError, ErrorCode, not_found_as};
use crate::plumbing::extract::{IfMatch, JsonObject};
use crate::plumbing::list::ListResponse;
use crate::plumbing::members::text;

/// One special day: sent and returned in this one shape.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CalendarDay {
    /// The date.
    pub date: NaiveDate,
    /// The holiday it belongs to (元旦, 春节, …).
    #[schema(example = "国庆节")]
    pub name: String,
}

/// A year of the calendar: its days off and its adjusted working days (调休上班). Any other
/// Monday to Friday is a working day, any other Saturday and Sunday a day off.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CalendarYearResponse {
    /// The year of the arrangement (its 元旦 block may begin in December of the year before).
    pub year: i32,
    /// Days off, by date.
    pub off: Vec<CalendarDay>,
    /// Weekend days that are working days, by date.
    pub work: Vec<CalendarDay>,
    /// Where it comes from: the State Council notice, as given.
    pub source: Option<String>,
    /// `builtin` (the data shipped with SafeGrade) or `api` (loaded by an administrator).
    pub origin: String,
    /// Version for `If-Match`; also the `ETag`.
    pub version: i64,
    /// When it last changed (UTC).
    pub updated_at: chrono::DateTime<Utc>,
}

impl From<CalendarYear> for CalendarYearResponse {
    fn from(y: CalendarYear) -> Self {
        let of = |kind: DayKind| {
            y.arrangement
                .days
                .iter()
                .filter(|d| d.kind == kind)
                .map(|d| CalendarDay {
                    date: d.date,
                    name: d.name.clone(),
                })
                .collect()
        };
        Self {
            year: y.arrangement.year,
            off: of(DayKind::Off),
            work: of(DayKind::Work),
            source: y.source.clone(),
            origin: if y.origin.starts_with("builtin") {
                "builtin".into()
            } else {
                y.origin.clone()
            },
            version: y.version,
            updated_at: y.updated_at,
        }
    }
}

/// A year's arrangement to load or replace.
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct CalendarYearPut {
    /// Days off: every day of each holiday block, weekends included, from 1 December of the
    /// year before (an 元旦 block) to 31 December; at most 60.
    pub off: Vec<CalendarDayInput>,
    /// Adjusted working days: Saturdays and Sundays only; at most 60.
    pub work: Vec<CalendarDayInput>,
    /// The notice it comes from (国务院办公厅关于2027年部分节假日安排的通知), up to 200
    /// characters.
    pub source: Option<String>,
}

/// One special day as sent.
#[derive(Debug, ToSchema)]
pub struct CalendarDayInput {
    /// The date, `YYYY-MM-DD`.
    pub date: NaiveDate,
    /// The holiday, up to 20 characters.
    #[schema(example = "国庆节")]
    pub name: Option<String>,
}

/// The year in the path, or 400.
fn year_of(raw: &str) -> Result<i32, ApiError> {
    raw.parse::<i32>().map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidPath,
            format!("'{raw}' is not a year (like 2027)"),
        )
    })
}

fn with_year(y: CalendarYear) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", y.version)))
        .json(CalendarYearResponse::from(y))
}

/// Reads `off`/`work` (arrays of `{date, name}`) and `source`; unknown members and wrong
/// types are violations at their pointer.
fn members(body: &Map<String, Value>) -> (ArrangementInput, Option<String>, Vec<Violation>) {
    let mut input = ArrangementInput::default();
    let mut source = None;
    let mut errors = Vec::new();
    for (key, value) in body {
        match key.as_str() {
            "off" | "work" => {
                let Some(items) = value.as_array() else {
                    if !value.is_null() {
                        errors.push(Violation::field(
                            key,
                            V::InvalidType,
                            format!("{key} 须为数组，每项为 {{\"date\": \"YYYY-MM-DD\", \"name\": \"…\"}}"),
                        ));
                    }
                    continue;
                };
                let mut days = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let Some(fields) = item.as_object() else {
                        errors.push(Violation {
                            pointer: format!("/{key}/{i}"),
                            code: V::InvalidType,
                            message: "每项须为对象 {\"date\": \"YYYY-MM-DD\", \"name\": \"…\"}"
                                .into(),
                        });
                        continue;
                    };
                    let mut day = DayInput::default();
                    for (member, v) in fields {
                        let at = format!("/{key}/{i}/{member}");
                        let read = match member.as_str() {
                            "date" => text(member, v).map(|t| day.date = t),
                            "name" => text(member, v).map(|t| day.name = t),
                            _ => Err(Violation::field(
                                member,
                                V::UnknownField,
                                format!("{member} 不是日历日的字段，只有 date 和 name"),
                            )),
                        };
                        if let Err(mut e) = read {
                            e.pointer = at;
                            errors.push(e);
                        }
                    }
                    days.push(day);
                }
                if key == "off" {
                    input.off = days;
                } else {
                    input.work = days;
                }
            }
            "source" => match text(key, value) {
                Ok(s) => source = s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
                Err(e) => errors.push(e),
            },
            _ => errors.push(Violation::field(
                key,
                V::UnknownField,
                format!("{key} 不是工作日历年度的字段"),
            )),
        }
    }
    if let Some(s) = &source
        && s.chars().count() > limits::SOURCE
    {
        errors.push(Violation::field(
            "source",
            V::TooLong,
            format!("source 最多 {} 个字符", limits::SOURCE),
        ));
    }
    (input, source, errors)
}

/// The loaded years of the calendar, oldest first.
#[utoipa::path(
    tag = "calendar",
    operation_id = "list_calendar_years",
    responses(
        (status = 200, description = "Every loaded year", body = ListResponse<CalendarYearResponse>),
    )
)]
#[get("/calendar")]
pub async fn list_calendar_years(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let years = state.run(|s| Ok(s.calendar_years()?)).await?;
    Ok(
        ListResponse::whole(years.into_iter().map(CalendarYearResponse::from).collect())
            .into_response(),
    )
}

/// One year of the calendar (404 while its arrangement is not loaded).
#[utoipa::path(
    tag = "calendar",
    operation_id = "get_calendar_year",
    params(("year" = i32, Path, description = "The year, like 2026")),
    responses(
        (status = 200, description = "The year", body = CalendarYearResponse, headers(("ETag" = String, description = "Version, quoted"))),
    )
)]
#[get("/calendar/{year}")]
pub async fn get_calendar_year(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let raw = path.into_inner();
    let year = year_of(&raw)?;
    let y = state
        .run(move |s| Ok(s.calendar_year(year)?))
        .await
        .map_err(not_found_as("calendar year", raw))?;
    Ok(with_year(y))
}

/// Load or correct a year's holiday arrangement (设定工作日历). City administrators only.
///
/// The whole arrangement of the year replaces what was there (`If-Match` with the version
/// read, to not overwrite a change made meanwhile); the `calendar.year_set` event keeps it.
/// The State Council publishes next year's arrangement each November.
#[utoipa::path(
    tag = "calendar",
    operation_id = "set_calendar_year",
    params(("year" = i32, Path, description = "The year, like 2027")),
    request_body(content = CalendarYearPut, content_type = "application/json"),
    responses(
        (status = 200, description = "The year as stored", body = CalendarYearResponse, headers(("ETag" = String, description = "New version, quoted"))),
    )
)]
#[put("/calendar/{year}")]
pub async fn set_calendar_year(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    IfMatch(expected): IfMatch,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::ManageReference)?;
    let year = year_of(&path.into_inner())?;
    let (input, source, errors) = members(&body);
    let arrangement = ApiError::merge_validation(errors, input.validate(year))?;
    let y = state
        .store
        .set_calendar_year(arrangement, source, expected, caller.actor())
        .await?;
    Ok(with_year(y))
}

/// The working-day question: `add` working days after `from`, or the working days from
/// `from` to `to`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WorkingDaysQuery {
    /// The start date, `YYYY-MM-DD` (not counted).
    pub from: NaiveDate,
    /// How many working days to add, 0–400 (give this or `to`).
    #[param(minimum = 0, maximum = 400)]
    pub add: Option<u32>,
    /// Count the working days after `from` up to and including this date (give this or
    /// `add`).
    pub to: Option<NaiveDate>,
}

/// The answer: the date `add` working days after `from`, or the working days from `from`
/// to `to`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkingDaysResponse {
    /// The start date (not counted).
    pub from: NaiveDate,
    /// Working days added (when asked with `add`).
    pub add: Option<u32>,
    /// The date reached (when asked with `add`).
    pub date: Option<NaiveDate>,
    /// The end date (when asked with `to`).
    pub to: Option<NaiveDate>,
    /// Working days after `from` up to and including `to`; negative when `to` is earlier
    /// (when asked with `to`).
    pub working_days: Option<i64>,
}

/// Working-day arithmetic on the calendar (工作日计算): the date `add` working days after
/// `from` (a deadline "within N working days"), or the working days between two dates.
///
/// A year whose holiday arrangement is not loaded is refused with `calendar_year_unknown`
/// (409, naming the year), never guessed.
#[utoipa::path(
    tag = "calendar",
    operation_id = "get_working_days",
    params(WorkingDaysQuery),
    responses(
        (status = 200, description = "The answer", body = WorkingDaysResponse),
    )
)]
#[get("/calendar/working-days")]
pub async fn get_working_days(
    state: web::Data<AppState>,
    query: web::Query<WorkingDaysQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let invalid = |m: &str| ApiError::new(ErrorCode::InvalidQuery, m.to_owned());
    match (q.add, q.to) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(invalid(
                "give either add (working days to add) or to (a date to count to)",
            ));
        }
        (Some(n), None) if n > 400 => return Err(invalid("add must be between 0 and 400")),
        _ => {}
    }
    let calendar = state.run(|s| Ok(s.calendar()?)).await?;
    let answer = match (q.add, q.to) {
        (Some(n), _) => WorkingDaysResponse {
            from: q.from,
            add: Some(n),
            date: Some(calendar.add_working_days(q.from, n)?),
            to: None,
            working_days: None,
        },
        (None, Some(to)) => WorkingDaysResponse {
            from: q.from,
            add: None,
            date: None,
            to: Some(to),
            working_days: Some(calendar.working_days_between(q.from, to)?),
        },
        (None, None) => return Err(invalid("give add or to")),
    };
    Ok(HttpResponse::Ok().json(answer))
}

/// The calendar's operations (working-days before `{year}`, so it is not read as a year).
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(list_calendar_years)
        .service(get_working_days)
        .service(get_calendar_year)
        .service(set_calendar_year);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_point_into_the_arrays() {
        let body: Map<String, Value> = serde_json::from_str(
            r#"{"off": [{"date": 1}, {"date": "2027-01-01", "colour": "red"}, 3], "work": "no", "x": 1}"#,
        )
        .unwrap_or_default();
        let (_, _, errors) = members(&body);
        let mut pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        pointers.sort_unstable();
        assert_eq!(
            pointers,
            ["/off/0/date", "/off/1/colour", "/off/2", "/work", "/x"]
        );
    }

    #[test]
    fn a_year_in_the_path_is_a_number() {
        assert_eq!(year_of("2027").ok(), Some(2027));
        assert!(year_of("twenty").is_err());
    }
}
