//! Grade summaries: per enterprise, what its certificates and accidents say about its grade
//! (`safegrade_domain::grading::GradeSummary`), refreshed in the transaction of every change
//! to them, so lists, filters and statistics need no per-row evaluation.

use std::collections::HashMap;

use diesel::prelude::*;
use safegrade_domain::grading::{Grade, GradeSummary};
use safegrade_domain::{CodeList, EnterpriseId};

use crate::plumbing::counts::CountChange;
use crate::plumbing::schema::{drives, enterprises, grade_summaries};
use crate::{DbConn, StoreError, WriteTx};

/// The columns of a summary, in [`SummaryColumns`] order.
pub(crate) const SUMMARY: (
    grade_summaries::current_certificate_id,
    grade_summaries::current_grade,
    grade_summaries::grade_valid_until,
    grade_summaries::restart_required,
    grade_summaries::creating,
    grade_summaries::revoked_on,
) = (
    grade_summaries::current_certificate_id,
    grade_summaries::current_grade,
    grade_summaries::grade_valid_until,
    grade_summaries::restart_required,
    grade_summaries::creating,
    grade_summaries::revoked_on,
);

/// The stored columns of a summary.
pub(crate) type SummaryColumns = (
    Option<String>,
    Option<String>,
    Option<chrono::NaiveDate>,
    bool,
    bool,
    Option<chrono::NaiveDate>,
);

/// A summary from its stored columns (`None`: no certificate or accident ever).
pub(crate) fn from_columns(c: Option<SummaryColumns>) -> Result<GradeSummary, StoreError> {
    let Some((certificate, grade, valid_until, restart_required, creating, revoked_on)) = c else {
        return Ok(GradeSummary::default());
    };
    Ok(GradeSummary {
        current_certificate: certificate
            .as_deref()
            .and_then(safegrade_domain::CertificateId::parse),
        current_grade: match grade.as_deref() {
            Some(g) => Some(Grade::from_code(g).ok_or_else(|| {
                StoreError::Other("a stored grade_summaries.current_grade is not valid".into())
            })?),
            None => None,
        },
        grade_valid_until: valid_until,
        restart_required,
        creating,
        revoked_on,
    })
}

/// Keeps the summary's copy of an enterprise's area and sector (after a change to them).
pub(crate) fn follow_enterprise(
    conn: &mut DbConn,
    enterprise: EnterpriseId,
    area_code: &str,
    sector: &str,
) -> Result<(), StoreError> {
    diesel::update(grade_summaries::table.find(enterprise.to_string()))
        .set((
            grade_summaries::area_code.eq(area_code),
            grade_summaries::sector.eq(sector),
        ))
        .execute(conn)?;
    Ok(())
}

/// Recomputes and stores the summary of one enterprise, inside the caller's transaction,
/// and moves its attainment counter along.
pub fn refresh(tx: &mut WriteTx<'_>, enterprise: EnterpriseId) -> Result<GradeSummary, StoreError> {
    refresh_many(tx, &[enterprise])?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// Summary rows written by one multi-row upsert on PostgreSQL (each binds 11 values).
const SUMMARIES_PER_UPSERT: usize = 1000;

/// [`refresh`] for several enterprises at once, with one query per kind of fact and
/// multi-row upserts on PostgreSQL (the bulk path of imports and demo data); the summaries
/// in the order of `ids`.
pub fn refresh_many(
    tx: &mut WriteTx<'_>,
    ids: &[EnterpriseId],
) -> Result<Vec<GradeSummary>, StoreError> {
    let conn: &mut DbConn = tx;
    let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let mut before: HashMap<String, SummaryColumns> = grade_summaries::table
        .filter(grade_summaries::enterprise_id.eq_any(&keys))
        .select((grade_summaries::enterprise_id, SUMMARY))
        .load::<(String, SummaryColumns)>(conn)?
        .into_iter()
        .collect();
    let mut certificates: HashMap<String, Vec<_>> = HashMap::new();
    for c in crate::grading::certificates::of_enterprises(conn, &keys)? {
        certificates
            .entry(c.data.enterprise_id.to_string())
            .or_default()
            .push(c);
    }
    let mut accidents: HashMap<String, Vec<_>> = HashMap::new();
    for a in crate::grading::accidents::of(conn, &keys)? {
        accidents
            .entry(a.data.enterprise_id.to_string())
            .or_default()
            .push(a.data.facts);
    }
    let stages: HashMap<String, String> = drives::table
        .filter(drives::enterprise_id.eq_any(&keys))
        .select((drives::enterprise_id, drives::creation_stage))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let places: HashMap<String, (String, String)> = enterprises::table
        .filter(enterprises::id.eq_any(&keys))
        .select((
            enterprises::id,
            (enterprises::area_code, enterprises::sector),
        ))
        .load::<(String, (String, String))>(conn)?
        .into_iter()
        .collect();
    let mut summaries = Vec::with_capacity(ids.len());
    let mut rows = Vec::with_capacity(ids.len());
    for id in &keys {
        let place = places.get(id).cloned().ok_or(StoreError::NotFound)?;
        let mut s = GradeSummary::of(
            certificates.get(id).map_or(&[][..], Vec::as_slice),
            accidents.get(id).map_or(&[][..], Vec::as_slice),
        );
        s.creating = stages.get(id).is_some_and(|st| st != "not_started");
        // The current certificate's number and issue date, for the grade alerts.
        let current = certificates
            .get(id)
            .and_then(|all| all.iter().find(|c| Some(c.id) == s.current_certificate));
        let old = from_columns(before.remove(id))?;
        rows.push((
            grade_summaries::enterprise_id.eq(id.clone()),
            grade_summaries::area_code.eq(place.0.clone()),
            grade_summaries::sector.eq(place.1.clone()),
            grade_summaries::current_certificate_id
                .eq(s.current_certificate.map(|c| c.to_string())),
            grade_summaries::current_grade.eq(s.current_grade.map(|g| g.as_str())),
            grade_summaries::grade_valid_until.eq(s.grade_valid_until),
            grade_summaries::restart_required.eq(s.restart_required),
            grade_summaries::creating.eq(s.creating),
            grade_summaries::revoked_on.eq(s.revoked_on),
            grade_summaries::current_number.eq(current.map(|c| c.data.number.clone())),
            grade_summaries::current_issued_on.eq(current.map(|c| c.data.issued_on)),
        ));
        if old != s {
            tx.count(CountChange {
                before: Some((place.clone(), old)),
                after: Some((place, s.clone())),
            });
        }
        summaries.push(s);
    }
    // An upsert, never delete-then-insert: two transactions refreshing one enterprise's
    // summary (on two nodes) then wait on the row instead of both inserting it.
    let conn: &mut DbConn = tx;
    match conn {
        DbConn::Postgres(pg) => {
            use diesel::upsert::excluded;
            for chunk in rows.chunks(SUMMARIES_PER_UPSERT) {
                diesel::insert_into(grade_summaries::table)
                    .values(chunk)
                    .on_conflict(grade_summaries::enterprise_id)
                    .do_update()
                    .set((
                        grade_summaries::area_code.eq(excluded(grade_summaries::area_code)),
                        grade_summaries::sector.eq(excluded(grade_summaries::sector)),
                        grade_summaries::current_certificate_id
                            .eq(excluded(grade_summaries::current_certificate_id)),
                        grade_summaries::current_grade.eq(excluded(grade_summaries::current_grade)),
                        grade_summaries::grade_valid_until
                            .eq(excluded(grade_summaries::grade_valid_until)),
                        grade_summaries::restart_required
                            .eq(excluded(grade_summaries::restart_required)),
                        grade_summaries::creating.eq(excluded(grade_summaries::creating)),
                        grade_summaries::revoked_on.eq(excluded(grade_summaries::revoked_on)),
                        grade_summaries::current_number
                            .eq(excluded(grade_summaries::current_number)),
                        grade_summaries::current_issued_on
                            .eq(excluded(grade_summaries::current_issued_on)),
                    ))
                    .execute(pg)?;
            }
        }
        DbConn::Sqlite(lite) => {
            for row in rows {
                diesel::insert_into(grade_summaries::table)
                    .values(row.clone())
                    .on_conflict(grade_summaries::enterprise_id)
                    .do_update()
                    .set(row)
                    .execute(lite)?;
            }
        }
    }
    Ok(summaries)
}
