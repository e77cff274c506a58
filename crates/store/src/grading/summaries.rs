//! Grade summaries: per enterprise, what its certificates and accidents say about its grade
//! (`safegrade_domain::grading::GradeSummary`), refreshed in the transaction of every change
//! to them, so lists, filters and statistics need no per-row evaluation.

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
    let conn: &mut DbConn = tx;
    let id = enterprise.to_string();
    let before = from_columns(
        grade_summaries::table
            .find(&id)
            .select(SUMMARY)
            .first::<SummaryColumns>(conn)
            .optional()?,
    )?;
    let certificates =
        crate::grading::certificates::of_enterprises(conn, std::slice::from_ref(&id))?;
    let facts = crate::grading::accidents::facts_between(conn, enterprise, None)?;
    let mut s = GradeSummary::of(&certificates, &facts);
    let stage: Option<String> = drives::table
        .find(&id)
        .select(drives::creation_stage)
        .first(conn)
        .optional()?;
    s.creating = stage.is_some_and(|st| st != "not_started");
    let (area, sector): (String, String) = enterprises::table
        .find(&id)
        .select((enterprises::area_code, enterprises::sector))
        .first(conn)?;
    let place = (area, sector);
    let row = (
        grade_summaries::enterprise_id.eq(&id),
        grade_summaries::area_code.eq(place.0.clone()),
        grade_summaries::sector.eq(place.1.clone()),
        grade_summaries::current_certificate_id.eq(s.current_certificate.map(|c| c.to_string())),
        grade_summaries::current_grade.eq(s.current_grade.map(|g| g.as_str())),
        grade_summaries::grade_valid_until.eq(s.grade_valid_until),
        grade_summaries::restart_required.eq(s.restart_required),
        grade_summaries::creating.eq(s.creating),
        grade_summaries::revoked_on.eq(s.revoked_on),
    );
    // An upsert, never delete-then-insert: two transactions refreshing one enterprise's
    // summary (on two nodes) then wait on the row instead of both inserting it.
    crate::on_backend!(conn, c => diesel::insert_into(grade_summaries::table)
        .values(row.clone())
        .on_conflict(grade_summaries::enterprise_id)
        .do_update()
        .set(row)
        .execute(c)?);
    if before != s {
        tx.count(CountChange {
            before: Some((place.clone(), before)),
            after: Some((place, s.clone())),
        });
    }
    Ok(s)
}
