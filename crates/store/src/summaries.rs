//! Grade summaries: per enterprise, what its certificates and accidents say about its grade
//! (`safegrade_domain::grading::GradeSummary`), refreshed in the transaction of every change
//! to them, so lists, filters and statistics need no per-row evaluation.

use diesel::prelude::*;
use safegrade_domain::grading::{Grade, GradeSummary};
use safegrade_domain::{CodeList, EnterpriseId};

use crate::schema::grade_summaries;
use crate::{DbConn, StoreError};

/// The columns of a summary, in [`SummaryColumns`] order.
pub(crate) const SUMMARY: (
    grade_summaries::current_grade,
    grade_summaries::grade_valid_until,
    grade_summaries::restart_required,
    grade_summaries::revoked_on,
) = (
    grade_summaries::current_grade,
    grade_summaries::grade_valid_until,
    grade_summaries::restart_required,
    grade_summaries::revoked_on,
);

/// The stored columns of a summary.
pub(crate) type SummaryColumns = (
    Option<String>,
    Option<chrono::NaiveDate>,
    bool,
    Option<chrono::NaiveDate>,
);

/// A summary from its stored columns (`None`: no certificate or accident ever).
pub(crate) fn from_columns(c: Option<SummaryColumns>) -> Result<GradeSummary, StoreError> {
    let Some((grade, valid_until, restart_required, revoked_on)) = c else {
        return Ok(GradeSummary::default());
    };
    Ok(GradeSummary {
        current_grade: match grade.as_deref() {
            Some(g) => Some(Grade::from_code(g).ok_or_else(|| {
                StoreError::Other("a stored grade_summaries.current_grade is not valid".into())
            })?),
            None => None,
        },
        grade_valid_until: valid_until,
        restart_required,
        revoked_on,
    })
}

/// Recomputes and stores the summary of one enterprise, inside the caller's transaction.
pub(crate) fn refresh(
    conn: &mut DbConn,
    enterprise: EnterpriseId,
) -> Result<GradeSummary, StoreError> {
    let id = enterprise.to_string();
    let certificates = crate::certificates::of_enterprises(conn, std::slice::from_ref(&id))?;
    let facts = crate::accidents::facts_between(conn, enterprise, None)?;
    let s = GradeSummary::of(&certificates, &facts);
    diesel::delete(grade_summaries::table.find(&id)).execute(conn)?;
    diesel::insert_into(grade_summaries::table)
        .values((
            grade_summaries::enterprise_id.eq(&id),
            grade_summaries::current_grade.eq(s.current_grade.map(|g| g.as_str())),
            grade_summaries::grade_valid_until.eq(s.grade_valid_until),
            grade_summaries::restart_required.eq(s.restart_required),
            grade_summaries::revoked_on.eq(s.revoked_on),
        ))
        .execute(conn)?;
    Ok(s)
}
