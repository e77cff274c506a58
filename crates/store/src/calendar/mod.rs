//! The working-day calendar: each year's holiday arrangement, seeded from the file shipped
//! with SafeGrade and corrected or extended by a city administrator (every change an event).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use safegrade_domain::calendar::{Arrangement, BuiltinCalendar, Calendar, DayKind, SpecialDay};
use safegrade_domain::{Actor, CodeList};

use crate::now;
use crate::plumbing::events::payload::{CalendarDayFields, CalendarYearFields};
use crate::plumbing::events::{EventData, NewEvent};
use crate::plumbing::instant::utc;
use crate::plumbing::schema::{calendar_days, calendar_years};
use crate::{DbConn, Store, StoreError, check_version};

/// Where a stored year comes from: the shipped file (with its version), or the API.
const API: &str = "api";

/// The source recorded for the shipped years.
const BUILTIN_SOURCE: &str = "国务院办公厅关于部分节假日安排的通知（SafeGrade 内置数据）";

fn builtin_origin(version: &str) -> String {
    format!("builtin:{version}")
}

/// A stored year: its arrangement and record-keeping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarYear {
    /// The arrangement.
    pub arrangement: Arrangement,
    /// `builtin:<version>` (the shipped file) or `api` (loaded by an administrator).
    pub origin: String,
    /// The notice it comes from, as given.
    pub source: Option<String>,
    /// Version, from 1.
    pub version: i64,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

type YearRow = (i32, String, Option<String>, i64, NaiveDateTime);
type DayRow = (i32, NaiveDate, String, String);

fn corrupt() -> StoreError {
    StoreError::Other("a stored calendar day is not valid".into())
}

/// The calendar of every loaded year, on a connection already held.
pub(crate) fn calendar_of(conn: &mut DbConn) -> Result<Calendar, StoreError> {
    Ok(Calendar::new(
        load(conn, None)?.into_iter().map(|y| y.arrangement),
    ))
}

/// The years `only` (all when `None`) with their days.
fn load(conn: &mut DbConn, only: Option<i32>) -> Result<Vec<CalendarYear>, StoreError> {
    let mut years = calendar_years::table
        .select((
            calendar_years::year,
            calendar_years::origin,
            calendar_years::source,
            calendar_years::version,
            calendar_years::updated_at,
        ))
        .order(calendar_years::year.asc())
        .into_boxed();
    let mut days = calendar_days::table
        .select((
            calendar_days::year,
            calendar_days::date,
            calendar_days::kind,
            calendar_days::name,
        ))
        .order((calendar_days::year.asc(), calendar_days::date.asc()))
        .into_boxed();
    if let Some(y) = only {
        years = years.filter(calendar_years::year.eq(y));
        days = days.filter(calendar_days::year.eq(y));
    }
    let years: Vec<YearRow> = years.load(conn)?;
    let days: Vec<DayRow> = days.load(conn)?;
    years
        .into_iter()
        .map(|(year, origin, source, version, updated_at)| {
            let days = days
                .iter()
                .filter(|d| d.0 == year)
                .map(|(_, date, kind, name)| {
                    Ok(SpecialDay {
                        date: *date,
                        kind: DayKind::from_code(kind).ok_or_else(corrupt)?,
                        name: name.clone(),
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(CalendarYear {
                arrangement: Arrangement { year, days },
                origin,
                source,
                version,
                updated_at: utc(updated_at),
            })
        })
        .collect()
}

/// Replaces the days of `arrangement.year`.
fn replace_days(conn: &mut DbConn, arrangement: &Arrangement) -> Result<(), StoreError> {
    let year = arrangement.year;
    diesel::delete(calendar_days::table.filter(calendar_days::year.eq(year))).execute(conn)?;
    let rows: Vec<_> = arrangement
        .days
        .iter()
        .map(|d| {
            (
                calendar_days::year.eq(year),
                calendar_days::date.eq(d.date),
                calendar_days::kind.eq(d.kind.as_str()),
                calendar_days::name.eq(d.name.as_str()),
            )
        })
        .collect();
    if !rows.is_empty() {
        // One multi-row insert (the multi-backend connection has none of its own).
        crate::on_backend!(conn, c => diesel::insert_into(calendar_days::table)
            .values(&rows)
            .execute(c))?;
    }
    Ok(())
}

/// Writes the year row over version `read` (0: not stored yet), and its days. A change
/// committed meanwhile (on another node) makes it a version mismatch, never a lost update.
fn write_year(
    conn: &mut DbConn,
    arrangement: &Arrangement,
    origin: &str,
    source: Option<&str>,
    read: i64,
) -> Result<(), StoreError> {
    let year = arrangement.year;
    let values = (
        calendar_years::year.eq(year),
        calendar_years::origin.eq(origin),
        calendar_years::source.eq(source),
        calendar_years::version.eq(read + 1),
        calendar_years::updated_at.eq(now()),
    );
    let written = if read == 0 {
        crate::on_backend!(conn, c => diesel::insert_into(calendar_years::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(c))
    } else {
        diesel::update(calendar_years::table.find(year))
            .filter(calendar_years::version.eq(read))
            .set(values)
            .execute(conn)
    }
    .map_err(StoreError::from)?;
    crate::plumbing::error::written_once(written, read)?;
    replace_days(conn, arrangement)
}

fn fields(y: &Arrangement, source: Option<&str>, version: i64) -> CalendarYearFields {
    let of = |kind: DayKind| {
        y.days
            .iter()
            .filter(|d| d.kind == kind)
            .map(|d| CalendarDayFields {
                date: d.date.to_string(),
                name: d.name.clone(),
            })
            .collect()
    };
    CalendarYearFields {
        year: y.year,
        off: of(DayKind::Off),
        work: of(DayKind::Work),
        source: source.map(str::to_owned),
        version,
    }
}

impl Store {
    /// Seeds the years of the shipped file that the database lacks, and refreshes those it
    /// seeded from an older file; a year an administrator loaded is never touched. Returns
    /// the years written. Idempotent.
    pub fn sync_calendar(&self, builtin: &'static BuiltinCalendar) -> Result<usize, StoreError> {
        self.with_write_tx(move |tx| {
            let conn: &mut DbConn = tx;
            let origin = builtin_origin(&builtin.version);
            let stored: Vec<(i32, String, i64)> = calendar_years::table
                .select((
                    calendar_years::year,
                    calendar_years::origin,
                    calendar_years::version,
                ))
                .load(conn)?;
            let mut written = 0;
            for a in &builtin.arrangements {
                let read = match stored.iter().find(|(y, _, _)| *y == a.year) {
                    None => 0,
                    Some((_, o, v)) if o.starts_with("builtin:") && *o != origin => *v,
                    Some(_) => continue,
                };
                write_year(conn, a, &origin, Some(BUILTIN_SOURCE), read)?;
                written += 1;
            }
            Ok(written)
        })
    }

    /// The calendar of every loaded year.
    pub fn calendar(&self) -> Result<Calendar, StoreError> {
        self.with_read(|conn| {
            Ok(Calendar::new(
                load(conn, None)?.into_iter().map(|y| y.arrangement),
            ))
        })
    }

    /// Every loaded year, oldest first.
    pub fn calendar_years(&self) -> Result<Vec<CalendarYear>, StoreError> {
        self.with_read(|conn| load(conn, None))
    }

    /// One year (`NotFound` when not loaded).
    pub fn calendar_year(&self, year: i32) -> Result<CalendarYear, StoreError> {
        self.with_read(|conn| load(conn, Some(year))?.pop().ok_or(StoreError::NotFound))
    }

    /// Loads or replaces a year's arrangement (`if_match`: the version read; none for a year
    /// not loaded yet) and records `calendar.year_set` with the whole arrangement.
    pub fn set_calendar_year(
        &self,
        arrangement: Arrangement,
        source: Option<String>,
        if_match: Option<i64>,
        actor: Actor,
    ) -> impl Future<Output = Result<CalendarYear, StoreError>> + use<> {
        let key = format!("calendar:{}", arrangement.year);
        self.write_keyed(&key, move |tx| {
            let year = arrangement.year;
            let current: Option<i64> = calendar_years::table
                .find(year)
                .select(calendar_years::version)
                .first(&mut **tx)
                .optional()?;
            let version = current.unwrap_or(0);
            check_version(if_match, version)?;
            write_year(tx, &arrangement, API, source.as_deref(), version)?;
            tx.record(NewEvent {
                actor,
                resource_id: year.to_string(),
                area_code: None,
                enterprise_id: None,
                data: EventData::CalendarYearSet(fields(
                    &arrangement,
                    source.as_deref(),
                    version + 1,
                )),
                reason: None,
            })?;
            load(tx, Some(year))?.pop().ok_or(StoreError::NotFound)
        })
    }
}
