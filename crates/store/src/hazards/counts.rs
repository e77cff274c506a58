//! The counters behind the hazard statistics, kept in the transactions that change what they
//! count: per area, sector and grade and per month, the hazards found, closed, become overdue
//! and closed while overdue (`hazard_month_counts`; the statistics' periods are whole months,
//! quarters or years); per area, sector and level, the risks
//! (`risk_level_counts`). A change is written as the difference between the record's marks
//! before and after it, so one rule ([`marks`]) says what a hazard counts for, and moving
//! an enterprise to another area or sector moves its marks with it.

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use diesel::upsert::excluded;
use safegrade_domain::EnterpriseId;

use crate::plumbing::schema::{
    enterprises, hazard_month_counts, hazards, risk_level_counts, risks,
};
use crate::{DbConn, StoreError};

/// What the counters need to know of a hazard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Footprint {
    /// `general` or `major`.
    pub grade: String,
    /// Found on.
    pub found_on: NaiveDate,
    /// Closed on (accepted or fixed on the spot).
    pub closed_on: Option<NaiveDate>,
    /// The deadline in force.
    pub deadline: Option<NaiveDate>,
}

/// Where an enterprise's records are counted: its area and sector.
pub(crate) type Place = (String, String);

/// One month's counts of one grade.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Day {
    found: i64,
    closed: i64,
    overdue_from: i64,
    overdue_to: i64,
}

const ZERO: Day = Day {
    found: 0,
    closed: 0,
    overdue_from: 0,
    overdue_to: 0,
};
const FOUND: Day = Day { found: 1, ..ZERO };
const CLOSED: Day = Day { closed: 1, ..ZERO };
const OVERDUE_FROM: Day = Day {
    overdue_from: 1,
    ..ZERO
};
const OVERDUE_TO: Day = Day {
    overdue_to: 1,
    ..ZERO
};

/// The days a hazard counts on: found on `found_on`; closed on `closed_on`; overdue from the
/// day after the deadline when it is not closed by then, and no longer overdue on the day it
/// is closed after the deadline.
fn marks(h: &Footprint) -> Vec<(NaiveDate, Day)> {
    let mut out = vec![(h.found_on, FOUND)];
    out.extend(h.closed_on.map(|c| (c, CLOSED)));
    if let Some(d) = h.deadline
        && h.closed_on.is_none_or(|c| c > d)
        && let Some(next) = d.succ_opt()
    {
        out.push((next, OVERDUE_FROM));
        out.extend(h.closed_on.map(|c| (c, OVERDUE_TO)));
    }
    out
}

/// The month `day` falls in, as its first day.
fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// The area and sector of an enterprise.
pub(crate) fn place(conn: &mut DbConn, enterprise: EnterpriseId) -> Result<Place, StoreError> {
    Ok(enterprises::table
        .find(enterprise.to_string())
        .select((enterprises::area_code, enterprises::sector))
        .first(conn)?)
}

/// Adds `sign` × each hazard's marks at `place`.
fn add(
    conn: &mut DbConn,
    place: &Place,
    hazards: &[Footprint],
    sign: i64,
) -> Result<(), StoreError> {
    let mut months: std::collections::BTreeMap<(&str, NaiveDate), Day> = Default::default();
    for h in hazards {
        for (day, m) in marks(h) {
            let d = months.entry((h.grade.as_str(), month_of(day))).or_default();
            d.found += sign * m.found;
            d.closed += sign * m.closed;
            d.overdue_from += sign * m.overdue_from;
            d.overdue_to += sign * m.overdue_to;
        }
    }
    for ((grade, month), d) in months {
        if d == Day::default() {
            continue;
        }
        let row = (
            hazard_month_counts::area_code.eq(&place.0),
            hazard_month_counts::sector.eq(&place.1),
            hazard_month_counts::grade.eq(grade),
            hazard_month_counts::month.eq(month),
            hazard_month_counts::found.eq(d.found),
            hazard_month_counts::closed.eq(d.closed),
            hazard_month_counts::overdue_from.eq(d.overdue_from),
            hazard_month_counts::overdue_to.eq(d.overdue_to),
        );
        crate::on_backend!(conn, c => diesel::insert_into(hazard_month_counts::table)
            .values(row)
            .on_conflict((
                hazard_month_counts::area_code,
                hazard_month_counts::sector,
                hazard_month_counts::grade,
                hazard_month_counts::month,
            ))
            .do_update()
            .set((
                hazard_month_counts::found
                    .eq(hazard_month_counts::found + excluded(hazard_month_counts::found)),
                hazard_month_counts::closed
                    .eq(hazard_month_counts::closed + excluded(hazard_month_counts::closed)),
                hazard_month_counts::overdue_from.eq(
                    hazard_month_counts::overdue_from + excluded(hazard_month_counts::overdue_from)
                ),
                hazard_month_counts::overdue_to
                    .eq(hazard_month_counts::overdue_to + excluded(hazard_month_counts::overdue_to)),
            ))
            .execute(c)?);
    }
    Ok(())
}

/// Counts the change of one hazard of `enterprise`: `before` (none for a new one) becomes
/// `after`.
pub(crate) fn hazard_changed(
    conn: &mut DbConn,
    enterprise: EnterpriseId,
    before: Option<&Footprint>,
    after: &Footprint,
) -> Result<(), StoreError> {
    if before == Some(after) {
        return Ok(());
    }
    let at = place(conn, enterprise)?;
    if let Some(b) = before {
        add(conn, &at, std::slice::from_ref(b), -1)?;
    }
    add(conn, &at, std::slice::from_ref(after), 1)
}

/// Adds `sign` risks of `level` at `place`.
fn add_risks(conn: &mut DbConn, place: &Place, level: &str, n: i64) -> Result<(), StoreError> {
    let row = (
        risk_level_counts::area_code.eq(&place.0),
        risk_level_counts::sector.eq(&place.1),
        risk_level_counts::level.eq(level),
        risk_level_counts::n.eq(n),
    );
    crate::on_backend!(conn, c => diesel::insert_into(risk_level_counts::table)
        .values(row)
        .on_conflict((
            risk_level_counts::area_code,
            risk_level_counts::sector,
            risk_level_counts::level,
        ))
        .do_update()
        .set(risk_level_counts::n.eq(risk_level_counts::n + excluded(risk_level_counts::n)))
        .execute(c)?);
    Ok(())
}

/// Counts a new risk of `enterprise` at `level`.
pub(crate) fn risk_added(
    conn: &mut DbConn,
    enterprise: EnterpriseId,
    level: &str,
) -> Result<(), StoreError> {
    let at = place(conn, enterprise)?;
    add_risks(conn, &at, level, 1)
}

/// Moves an enterprise's hazards and risks from the counters of `from` to those of `to`
/// (after a change of its area or sector).
pub(crate) fn enterprise_moved(
    conn: &mut DbConn,
    enterprise: EnterpriseId,
    from: &Place,
    to: &Place,
) -> Result<(), StoreError> {
    if from == to {
        return Ok(());
    }
    let id = enterprise.to_string();
    let rows: Vec<(String, NaiveDate, Option<NaiveDate>, Option<NaiveDate>)> = hazards::table
        .filter(hazards::enterprise_id.eq(&id))
        .select((
            hazards::grade,
            hazards::found_on,
            hazards::closed_on,
            hazards::deadline,
        ))
        .load(conn)?;
    let all: Vec<Footprint> = rows
        .into_iter()
        .map(|(grade, found_on, closed_on, deadline)| Footprint {
            grade,
            found_on,
            closed_on,
            deadline,
        })
        .collect();
    add(conn, from, &all, -1)?;
    add(conn, to, &all, 1)?;
    let levels: Vec<(String, i64)> = risks::table
        .filter(risks::enterprise_id.eq(&id))
        .group_by(diesel::dsl::sql::<diesel::sql_types::Text>(
            "COALESCE(residual_level, inherent_level)",
        ))
        .select((
            diesel::dsl::sql::<diesel::sql_types::Text>("COALESCE(residual_level, inherent_level)"),
            diesel::dsl::count_star(),
        ))
        .load(conn)?;
    for (level, n) in levels {
        add_risks(conn, from, &level, -n)?;
        add_risks(conn, to, &level, n)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn footprint(closed: Option<&str>, deadline: Option<&str>) -> Footprint {
        Footprint {
            grade: "major".into(),
            found_on: day("2025-07-01"),
            closed_on: closed.map(day),
            deadline: deadline.map(day),
        }
    }

    #[test]
    fn a_hazard_is_overdue_from_the_day_after_its_deadline_until_it_is_closed() {
        let sum = |h: &Footprint| {
            marks(h).into_iter().fold(Day::default(), |a, (_, m)| Day {
                found: a.found + m.found,
                closed: a.closed + m.closed,
                overdue_from: a.overdue_from + m.overdue_from,
                overdue_to: a.overdue_to + m.overdue_to,
            })
        };
        // Closed on time: found and closed, never overdue.
        let on_time = footprint(Some("2025-07-20"), Some("2025-07-20"));
        assert_eq!(
            sum(&on_time),
            Day {
                found: 1,
                closed: 1,
                ..ZERO
            }
        );
        // Closed late: overdue from 07-21 until 07-25.
        let late = footprint(Some("2025-07-25"), Some("2025-07-20"));
        let m = marks(&late);
        assert!(m.contains(&(day("2025-07-21"), OVERDUE_FROM)));
        assert!(m.contains(&(day("2025-07-25"), OVERDUE_TO)));
        // Open past its deadline: overdue from the day after, for good.
        let open = footprint(None, Some("2025-07-20"));
        assert_eq!(sum(&open).overdue_from, 1);
        assert_eq!(sum(&open).overdue_to, 0);
        // No deadline (registered, not yet rectifying): never overdue.
        assert_eq!(sum(&footprint(None, None)).overdue_from, 0);
    }
}
