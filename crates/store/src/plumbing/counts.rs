//! The attainment counters (`attainment_counts`): per area, sector, standardization status,
//! grade in force and "expires within the window", how many enterprises, as of the day in
//! `attainment_anchor`. Today's attainment statistics read these few hundred rows instead of
//! grouping the whole ledger (docs/BENCHMARKS.md, issue 13).
//!
//! A job tells its [`crate::WriteTx`] how an enterprise's counted state changed
//! ([`CountChange`]: its place and grade summary before and after); the writer applies the
//! changes of a whole batch just before the events, in key order, so two transactions never
//! wait on each other's counter rows in opposite orders. A status depends on the day (a grade
//! lapses at midnight without a write), so the counters hold for one day: a new day, or
//! another expiring window, recounts them once from the grade summaries
//! (`Store::recount_attainment`, with the statistics). On PostgreSQL, appliers hold a shared advisory lock and a
//! recount the exclusive one, so a recount never misses a change nor counts one twice.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::upsert::excluded;
use safegrade_domain::CodeList;
use safegrade_domain::grading::GradeSummary;

use crate::plumbing::locks::{self, Lock};
use crate::plumbing::schema::{attainment_anchor, attainment_counts};
use crate::{DbConn, Store, StoreError};

/// Where an enterprise is counted: its area and sector.
pub type Place = (String, String);

/// An enterprise's counted state: its place and its grade summary (the default summary for
/// an enterprise without certificates, accidents or a drive).
pub type Counted = (Place, GradeSummary);

/// How an enterprise's counted state changed (`None`: not in the ledger, before or after).
#[derive(Debug, Clone)]
pub struct CountChange {
    /// Before the change.
    pub before: Option<Counted>,
    /// After it.
    pub after: Option<Counted>,
}

/// A counter's key: area, sector, status, grade in force ('' without one), expiring.
pub type Key = (String, String, String, String, bool);

/// Counters by key.
pub type Counts = BTreeMap<Key, i64>;

/// The day the counters hold for, and the last day of validity that counts as expiring then.
pub type Anchor = (NaiveDate, NaiveDate);

/// The counter an enterprise in `counted` state adds to on `day`.
pub fn key(counted: &Counted, day: NaiveDate, window_end: NaiveDate) -> Key {
    let ((area, sector), summary) = counted;
    let grade = summary.grade_on(day);
    let expiring = grade.is_some()
        && summary
            .grade_valid_until
            .is_some_and(|until| until >= day && until <= window_end);
    (
        area.clone(),
        sector.clone(),
        summary.status(day).as_str().to_owned(),
        grade.map_or(String::new(), |g| g.as_str().to_owned()),
        expiring,
    )
}

/// A counter row as stored: its key's columns, then its stripe's `n`.
pub(crate) type StripeRow = (String, String, String, String, bool, i64);

/// Counter rows added up per key (one stripe of a counter can be negative, another
/// positive); counters that come to zero are left out.
pub(crate) fn sum_stripes(rows: Vec<StripeRow>) -> Counts {
    let mut counts = Counts::new();
    for (area, sector, status, grade, expiring, n) in rows {
        *counts
            .entry((area, sector, status, grade, expiring))
            .or_default() += n;
    }
    counts.retain(|_, n| *n != 0);
    counts
}

/// The day and window end the counters hold for, if they were ever counted.
pub(crate) fn anchor(conn: &mut DbConn) -> Result<Option<Anchor>, StoreError> {
    Ok(attainment_anchor::table
        .find(1)
        .select((attainment_anchor::day, attainment_anchor::window_end))
        .first(conn)
        .optional()?)
}

/// Stripes per counter: a writer adds to the stripe of its thread, so the writer threads of
/// one node, and of several nodes, rarely wait on the same row.
const STRIPES: u64 = 16;

/// The stripe of the current thread.
fn stripe() -> i32 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::thread::current().id().hash(&mut h);
    std::process::id().hash(&mut h);
    i32::try_from(h.finish() % STRIPES).unwrap_or(0)
}

/// Adds `n` to each counter of `deltas`, in key order, in this thread's stripe (one
/// statement on PostgreSQL, prepared once per connection).
pub(crate) fn add(conn: &mut DbConn, deltas: Counts) -> Result<(), StoreError> {
    let stripe = stripe();
    let deltas = deltas.into_iter().filter(|(_, n)| *n != 0);
    match conn {
        DbConn::Postgres(pg) => {
            let mut q = AddCounts::default();
            for ((area, sector, status, grade, expiring), n) in deltas {
                q.area_code.push(area);
                q.sector.push(sector);
                q.status.push(status);
                q.grade.push(grade);
                q.expiring.push(expiring);
                q.n.push(n);
            }
            if !q.n.is_empty() {
                q.stripe = stripe;
                diesel::RunQueryDsl::execute(q, pg)?;
            }
        }
        DbConn::Sqlite(lite) => {
            for ((area, sector, status, grade, expiring), n) in deltas {
                let row = (
                    attainment_counts::area_code.eq(area),
                    attainment_counts::sector.eq(sector),
                    attainment_counts::status.eq(status),
                    attainment_counts::grade.eq(grade),
                    attainment_counts::expiring.eq(expiring),
                    attainment_counts::stripe.eq(stripe),
                    attainment_counts::n.eq(n),
                );
                diesel::insert_into(attainment_counts::table)
                    .values(row)
                    .on_conflict((
                        attainment_counts::area_code,
                        attainment_counts::sector,
                        attainment_counts::status,
                        attainment_counts::grade,
                        attainment_counts::expiring,
                        attainment_counts::stripe,
                    ))
                    .do_update()
                    .set(
                        attainment_counts::n
                            .eq(attainment_counts::n + excluded(attainment_counts::n)),
                    )
                    .execute(lite)?;
            }
        }
    }
    Ok(())
}

/// Adds to counters in one stripe: one array per key column and the amounts.
#[derive(Default)]
struct AddCounts {
    area_code: Vec<String>,
    sector: Vec<String>,
    status: Vec<String>,
    grade: Vec<String>,
    expiring: Vec<bool>,
    stripe: i32,
    n: Vec<i64>,
}

crate::plumbing::prepared::cached_by_type!(AddCounts);

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for AddCounts {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> QueryResult<()> {
        use diesel::sql_types::{Array, BigInt, Bool, Integer, Text};
        out.push_sql(
            "INSERT INTO attainment_counts \
             (area_code, sector, status, grade, expiring, stripe, n) \
             SELECT area_code, sector, status, grade, expiring, ",
        );
        out.push_bind_param::<Integer, _>(&self.stripe)?;
        out.push_sql(", n FROM unnest(");
        crate::plumbing::prepared::push_binds!(
            out,
            Array<Text> => &self.area_code,
            Array<Text> => &self.sector,
            Array<Text> => &self.status,
            Array<Text> => &self.grade,
            Array<Bool> => &self.expiring,
            Array<BigInt> => &self.n,
        );
        out.push_sql(
            ") AS d (area_code, sector, status, grade, expiring, n) \
             ON CONFLICT (area_code, sector, status, grade, expiring, stripe) \
             DO UPDATE SET n = attainment_counts.n + excluded.n",
        );
        Ok(())
    }
}

/// Applies the count changes of one write transaction, just before its commit; a no-op
/// before the first count (the first statistics request counts).
pub(crate) fn apply(conn: &mut DbConn, changes: &[CountChange]) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    locks::hold_shared(conn, Lock::AttainmentCounts)?;
    let Some((day, window_end)) = anchor(conn)? else {
        return Ok(());
    };
    let mut deltas = Counts::new();
    for change in changes {
        if let Some(before) = &change.before {
            *deltas.entry(key(before, day, window_end)).or_default() -= 1;
        }
        if let Some(after) = &change.after {
            *deltas.entry(key(after, day, window_end)).or_default() += 1;
        }
    }
    add(conn, deltas)
}

impl Store {
    /// The attainment counters that are not zero (their stripes added up), and the day and
    /// window end they hold for.
    pub fn attainment_counts(&self) -> Result<(Counts, Option<Anchor>), StoreError> {
        self.with_read(|conn| {
            let rows: Vec<StripeRow> = attainment_counts::table
                .select((
                    attainment_counts::area_code,
                    attainment_counts::sector,
                    attainment_counts::status,
                    attainment_counts::grade,
                    attainment_counts::expiring,
                    attainment_counts::n,
                ))
                .load(conn)?;
            Ok((sum_stripes(rows), anchor(conn)?))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripes_add_up_and_a_counter_that_cancels_out_is_left_out() {
        let row = |status: &str, n: i64| {
            (
                "510703".to_owned(),
                "commerce".to_owned(),
                status.to_owned(),
                String::new(),
                false,
                n,
            )
        };
        // One writer moved an enterprise out of `not_started`, another had counted it in.
        let counts = sum_stripes(vec![
            row("not_started", 3),
            row("not_started", -1),
            row("creating", 1),
            row("creating", -1),
        ]);
        assert_eq!(counts.len(), 1, "{counts:?}");
        assert_eq!(counts.values().sum::<i64>(), 2);
        assert!(counts.keys().all(|k| k.2 == "not_started"));
    }
}
