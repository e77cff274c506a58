//! Attainment statistics per supervision area and sector (达标情况统计), with aggregate
//! queries only: grades in force on a day come from the certificate history, the status
//! breakdown from the grade summaries.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use diesel::expression_methods::AggregateExpressionMethods;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};
use safegrade_domain::grading::{Grade, GradeRules};
use safegrade_domain::{CodeList, Scope};

use crate::plumbing::schema::{certificates, enterprises, grade_summaries};
use crate::{Backend, DbConn, Store, StoreError};

/// Which enterprises to count.
#[derive(Debug, Clone)]
pub struct StatsFilter {
    /// The caller's jurisdiction.
    pub scope: Scope,
    /// Only this area.
    pub area_code: Option<String>,
    /// Only this sector (wire value).
    pub sector: Option<String>,
}

/// The figures of one area and sector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cell {
    /// Enterprises in the ledger (as it is now: the ledger keeps no history of moves).
    pub enterprises: i64,
    /// Enterprises with a grade in force on the day.
    pub attained: i64,
    /// Of those, per grade.
    pub by_grade: BTreeMap<&'static str, i64>,
    /// Enterprises whose grade in force expires within the window.
    pub expiring: i64,
    /// Enterprises with a grade revoked from 1 January of the day's year to the day.
    pub revoked_this_year: i64,
    /// Enterprises per standardization status (only for today: the status needs the
    /// current summaries).
    pub by_status: Option<BTreeMap<String, i64>>,
}

#[derive(QueryableByName)]
struct StatusRow {
    #[diesel(sql_type = Text)]
    area_code: String,
    #[diesel(sql_type = Text)]
    sector: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    grade: Option<String>,
    #[diesel(sql_type = BigInt)]
    expiring: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// One pass over the grade summaries (they carry the area and sector) for `day`: per area,
/// sector, status, grade in force and "expires within the window". The status mirrors
/// `GradeSummary::status` (the `attainment_statistics` test checks it against the ledger's
/// status filter). Enterprises without a summary are `not_started`; the caller adds them.
fn summary_rows(
    conn: &mut DbConn,
    filter: &StatsFilter,
    day: NaiveDate,
    window_end: NaiveDate,
) -> Result<Vec<StatusRow>, StoreError> {
    let pg = conn.backend() == Backend::Postgres;
    let (d, w) = if pg {
        ("$1::date", "$2::date")
    } else {
        ("?", "?")
    };
    let mut n = 2;
    let mut next = || {
        n += 1;
        if pg { format!("${n}") } else { "?".to_owned() }
    };
    let mut sql = format!(
        "SELECT g.area_code AS area_code, g.sector AS sector, CASE \
         WHEN g.grade_valid_until >= {d} AND g.restart_required THEN 'restart_required' \
         WHEN g.grade_valid_until >= {d} THEN 'attained' \
         WHEN g.creating THEN 'creating' \
         WHEN g.revoked_on IS NOT NULL THEN 'revoked' \
         WHEN g.restart_required THEN 'restart_required' \
         WHEN g.grade_valid_until IS NOT NULL THEN 'expired' \
         ELSE 'not_started' END AS status, \
         CASE WHEN g.grade_valid_until >= {d} THEN g.current_grade END AS grade, \
         CAST(CASE WHEN g.grade_valid_until >= {d} AND g.grade_valid_until <= {w} THEN 1 ELSE 0 END AS BIGINT) AS expiring, \
         COUNT(*) AS n FROM grade_summaries g WHERE 1 = 1"
    );
    let (condition, mut texts) = crate::plumbing::jurisdiction::sql_condition(
        &filter.scope,
        filter.area_code.as_deref(),
        ("g.area_code", "g.enterprise_id"),
        &mut next,
    );
    sql.push_str(&condition);
    if let Some(s) = &filter.sector {
        sql.push_str(&format!(" AND g.sector = {}", next()));
        texts.push(s.clone());
    }
    sql.push_str(" GROUP BY 1, 2, 3, 4, 5");
    let mut q = diesel::sql_query(sql).into_boxed();
    // PostgreSQL numbers its parameters and reuses them; SQLite takes one value per `?`, in
    // the order they appear (day four times, then the window's end).
    q = if pg {
        q.bind::<Date, _>(day).bind::<Date, _>(window_end)
    } else {
        q.bind::<Date, _>(day)
            .bind::<Date, _>(day)
            .bind::<Date, _>(day)
            .bind::<Date, _>(day)
            .bind::<Date, _>(window_end)
    };
    for t in texts {
        q = q.bind::<Text, _>(t);
    }
    Ok(q.load(conn)?)
}

/// Figures per (area, sector).
pub type Cells = BTreeMap<(String, String), Cell>;

/// What [`Store::attainment`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attainment {
    /// The figures per (area, sector).
    pub cells: Cells,
    /// The status breakdown was asked for, the caller's scope can be answered from the
    /// counters, and they are not counted for this day and window: count them
    /// ([`Store::recount_attainment`]) so the next request reads them.
    pub recount_due: bool,
}

/// Today's figures from the counters: per (area, sector) the enterprises, per status, per
/// grade in force and expiring. `None` when the counters are not for this day and window.
fn counted_cells(
    conn: &mut DbConn,
    filter: &StatsFilter,
    day: NaiveDate,
    window_end: NaiveDate,
) -> Result<Option<Cells>, StoreError> {
    use crate::plumbing::schema::attainment_counts as c;
    if crate::plumbing::counts::anchor(conn)? != Some((day, window_end)) {
        return Ok(None);
    }
    let mut q = c::table.into_boxed();
    if let Scope::Areas(areas) = &filter.scope {
        q = q.filter(c::area_code.eq_any(areas.clone()));
    }
    if let Some(a) = &filter.area_code {
        q = q.filter(c::area_code.eq(a.clone()));
    }
    if let Some(sector) = &filter.sector {
        q = q.filter(c::sector.eq(sector.clone()));
    }
    let rows: Vec<crate::plumbing::counts::StripeRow> = q
        .select((
            c::area_code,
            c::sector,
            c::status,
            c::grade,
            c::expiring,
            c::n,
        ))
        .load(conn)?;
    let mut cells: BTreeMap<(String, String), Cell> = BTreeMap::new();
    // Stripes added up first: a status or an area whose stripes cancel out is not listed.
    for ((area, sector, status, grade, expiring), n) in crate::plumbing::counts::sum_stripes(rows) {
        let cell = cells.entry((area, sector)).or_default();
        cell.enterprises += n;
        *cell
            .by_status
            .get_or_insert_with(BTreeMap::new)
            .entry(status)
            .or_default() += n;
        if !grade.is_empty() {
            let grade = Grade::from_code(&grade).map_or("unknown", |g| g.as_str());
            *cell.by_grade.entry(grade).or_default() += n;
            cell.attained += n;
            if expiring {
                cell.expiring += n;
            }
        }
    }
    Ok(Some(cells))
}

impl Store {
    /// Counts the attainment counters afresh for `day` and the window of `window_months`
    /// (`crate::plumbing::counts`): one pass over the grade summaries and the ledger, in a
    /// write transaction of its own that waits for the transactions moving the counters.
    pub fn recount_attainment(&self, day: NaiveDate, window_months: u32) -> Result<(), StoreError> {
        use crate::plumbing::schema::{attainment_anchor, attainment_counts};
        let window_end = GradeRules::expiring_until(day, window_months);
        self.with_own_write_tx(move |tx| {
            crate::plumbing::locks::hold(tx, crate::plumbing::locks::Lock::AttainmentCounts)?;
            let conn: &mut DbConn = tx;
            diesel::delete(attainment_counts::table).execute(conn)?;
            let everyone = StatsFilter {
                scope: Scope::City,
                area_code: None,
                sector: None,
            };
            let mut deltas = crate::plumbing::counts::Counts::new();
            for r in summary_rows(conn, &everyone, day, window_end)? {
                let key = (
                    r.area_code,
                    r.sector,
                    r.status,
                    r.grade.unwrap_or_default(),
                    r.expiring > 0,
                );
                *deltas.entry(key).or_default() += r.n;
            }
            // Enterprises without a summary have never had a grade: not started.
            let unsummarised: Vec<(String, String, i64)> = enterprises::table
                .left_join(grade_summaries::table)
                .filter(grade_summaries::enterprise_id.is_null())
                .group_by((enterprises::area_code, enterprises::sector))
                .select((
                    enterprises::area_code,
                    enterprises::sector,
                    diesel::dsl::count_star(),
                ))
                .load(conn)?;
            for (area, sector, n) in unsummarised {
                let key = (area, sector, "not_started".to_owned(), String::new(), false);
                *deltas.entry(key).or_default() += n;
            }
            crate::plumbing::counts::add(conn, deltas)?;
            let anchor = (
                attainment_anchor::id.eq(1),
                attainment_anchor::day.eq(day),
                attainment_anchor::window_end.eq(window_end),
            );
            crate::on_backend!(conn, c => diesel::insert_into(attainment_anchor::table)
                .values(anchor)
                .on_conflict(attainment_anchor::id)
                .do_update()
                .set((
                    attainment_anchor::day.eq(day),
                    attainment_anchor::window_end.eq(window_end),
                ))
                .execute(c)?);
            Ok(())
        })
    }

    /// Recounts the attainment counters unless they already hold for `day` and the window
    /// of `window_months`; whether it recounted.
    pub fn recount_attainment_if_due(
        &self,
        day: NaiveDate,
        window_months: u32,
    ) -> Result<bool, StoreError> {
        let window_end = GradeRules::expiring_until(day, window_months);
        if self.with_read(crate::plumbing::counts::anchor)? == Some((day, window_end)) {
            return Ok(false);
        }
        self.recount_attainment(day, window_months)?;
        Ok(true)
    }

    /// Attainment figures per (area, sector) on `day`. `with_status` adds the status
    /// breakdown (for today only); it comes from the counters when they hold for `day` and
    /// the caller's scope is the city or areas, and otherwise from one pass over the grade
    /// summaries.
    pub fn attainment(
        &self,
        filter: &StatsFilter,
        day: NaiveDate,
        window_months: u32,
        with_status: bool,
    ) -> Result<Attainment, StoreError> {
        self.with_list_read(|conn| {
            let countable = matches!(filter.scope, Scope::City | Scope::Areas(_));
            let counted = if with_status && countable {
                counted_cells(
                    conn,
                    filter,
                    day,
                    GradeRules::expiring_until(day, window_months),
                )?
            } else {
                None
            };
            let recount_due = with_status && countable && counted.is_none();
            let from_counters = counted.is_some();
            let mut cells: BTreeMap<(String, String), Cell> = counted.unwrap_or_default();
            macro_rules! scoped {
                ($q:expr) => {{
                    let mut q = crate::scoped!(
                        $q,
                        &filter.scope,
                        enterprises::area_code,
                        enterprises::id,
                        &filter.area_code
                    );
                    if let Some(s) = &filter.sector {
                        q = q.filter(enterprises::sector.eq(s.clone()));
                    }
                    q
                }};
            }
            let totals: Vec<(String, String, i64)> = if from_counters {
                Vec::new()
            } else {
                scoped!(
                    enterprises::table
                        .group_by((enterprises::area_code, enterprises::sector))
                        .select((
                            enterprises::area_code,
                            enterprises::sector,
                            diesel::dsl::count_star()
                        ))
                        .into_boxed()
                )
                .load(conn)?
            };
            for (a, s, n) in totals {
                cells.entry((a, s)).or_default().enterprises = n;
            }
            if from_counters {
                // Counted above.
            } else if with_status {
                // Today: the summaries say which grade is in force, without the history.
                for r in summary_rows(
                    conn,
                    filter,
                    day,
                    GradeRules::expiring_until(day, window_months),
                )? {
                    let cell = cells.entry((r.area_code, r.sector)).or_default();
                    if let Some(g) = r.grade.as_deref() {
                        let grade = Grade::from_code(g).map_or("unknown", |g| g.as_str());
                        *cell.by_grade.entry(grade).or_default() += r.n;
                        cell.attained += r.n;
                        cell.expiring += r.expiring * r.n;
                    }
                    *cell
                        .by_status
                        .get_or_insert_with(BTreeMap::new)
                        .entry(r.status)
                        .or_default() += r.n;
                }
            } else {
                // In force on `day`: issued, not past validity, not revoked or replaced by then.
                let in_force = certificates::issued_on
                    .le(day)
                    .and(certificates::valid_until.ge(day))
                    .and(
                        certificates::revoked_on
                            .is_null()
                            .or(certificates::revoked_on.gt(day)),
                    )
                    .and(
                        certificates::superseded_on
                            .is_null()
                            .or(certificates::superseded_on.gt(day)),
                    );
                // One row per certificate in force; each enterprise counts once, at its
                // highest grade in force that day, and as expiring when the last of its
                // certificates in force ends within the window (overlapping certificates of
                // one enterprise — a renewal recorded before the old one lapsed — must not
                // count it twice).
                let rows: Vec<(String, String, String, String, NaiveDate)> = scoped!(
                    certificates::table
                        .inner_join(enterprises::table)
                        .filter(in_force)
                        .select((
                            enterprises::area_code,
                            enterprises::sector,
                            certificates::enterprise_id,
                            certificates::grade,
                            certificates::valid_until,
                        ))
                        .into_boxed()
                )
                .load(conn)?;
                let mut per_enterprise: BTreeMap<
                    String,
                    (String, String, Option<Grade>, NaiveDate),
                > = BTreeMap::new();
                for (a, s, e, g, until) in rows {
                    let grade = Grade::from_code(&g);
                    let entry = per_enterprise.entry(e).or_insert((a, s, grade, until));
                    if grade.map(Grade::rank) > entry.2.map(Grade::rank) {
                        entry.2 = grade;
                    }
                    entry.3 = entry.3.max(until);
                }
                let window_end = GradeRules::expiring_until(day, window_months);
                for (a, s, grade, until) in per_enterprise.into_values() {
                    let cell = cells.entry((a, s)).or_default();
                    let name = grade.map_or("unknown", |g| g.as_str());
                    *cell.by_grade.entry(name).or_default() += 1;
                    cell.attained += 1;
                    if until <= window_end {
                        cell.expiring += 1;
                    }
                }
            }
            let year_start = NaiveDate::from_ymd_opt(day.year(), 1, 1).unwrap_or(day);
            let revoked: Vec<(String, String, i64)> = scoped!(
                certificates::table
                    .inner_join(enterprises::table)
                    .filter(certificates::revoked_on.ge(year_start))
                    .filter(certificates::revoked_on.le(day))
                    .group_by((enterprises::area_code, enterprises::sector))
                    .select((
                        enterprises::area_code,
                        enterprises::sector,
                        diesel::dsl::count(certificates::enterprise_id).aggregate_distinct(),
                    ))
                    .into_boxed()
            )
            .load(conn)?;
            for (a, s, n) in revoked {
                cells.entry((a, s)).or_default().revoked_this_year = n;
            }
            if with_status && !from_counters {
                for cell in cells.values_mut() {
                    let by_status = cell.by_status.get_or_insert_with(BTreeMap::new);
                    let summarised: i64 = by_status.values().sum();
                    let rest = cell.enterprises - summarised;
                    if rest > 0 {
                        *by_status.entry("not_started".to_owned()).or_default() += rest;
                    }
                }
            }
            Ok(Attainment { cells, recount_due })
        })
    }
}
