//! The area-owned tables (docs/adr/0007-citus-ready-layout.md): every row carries the
//! supervision area of its enterprise in `area_code`, so the area can serve as the
//! distribution key of a sharded database. Rows copy the area at insert; a transfer
//! ([`super::enterprises::transfer`]) moves an enterprise's rows with it, here.

use diesel::prelude::*;
use safegrade_domain::EnterpriseId;

use crate::plumbing::schema::{
    accidents, assessments, certificates, checklist_records, checklists, drives, grading_steps,
    gradings, guidance_visits, hazards, inspection_records, inspection_tasks, risk_measures,
    risk_units, risks,
};
use crate::{DbConn, StoreError};

/// The tables whose rows belong to one enterprise's area, besides `enterprises`,
/// `grade_summaries` and `credit_codes` (moved by the transfer itself) and the counters
/// (moved by the count changes). `tests/api/schema.rs` checks the schema against this list
/// and the reference tables of ADR 0007.
pub const AREA_OWNED: [&str; 15] = [
    "certificates",
    "accidents",
    "drives",
    "guidance_visits",
    "assessments",
    "gradings",
    "grading_steps",
    "hazards",
    "risk_units",
    "risks",
    "risk_measures",
    "inspection_tasks",
    "inspection_records",
    "checklists",
    "checklist_records",
];

/// The other tables distributed by area: their rows carry `area_code` too (events: null for
/// the `city` chain of events without an area).
pub const DISTRIBUTED: [&str; 6] = [
    "enterprises",
    "grade_summaries",
    "events",
    "attainment_counts",
    "hazard_month_counts",
    "risk_level_counts",
];

/// Reference tables: small, rarely written, replicated to every node.
pub const REFERENCE: [&str; 11] = [
    "areas",
    "reference_versions",
    "calendar_years",
    "calendar_days",
    "standards",
    "principals",
    "tokens",
    "webhooks",
    "attainment_anchor",
    "event_chains",
    "credit_codes",
];

/// Tables of the nodes' own work, kept on the coordinator.
pub const COORDINATOR: [&str; 4] = [
    "jobs",
    "job_inputs",
    "webhook_deliveries",
    "idempotency_keys",
];

/// Sets `area_code` to `to` on the rows of `$table` that `$owned` selects.
macro_rules! move_rows {
    ($conn:expr, $to:expr, $($table:ident where $owned:expr;)+) => {
        $(
            diesel::update($table::table.filter($owned))
                .set($table::area_code.eq($to))
                .execute($conn)?;
        )+
    };
}

/// Moves every row enterprise `id` owns in [`AREA_OWNED`] to area `to`, inside the
/// transfer's transaction.
pub(crate) fn move_enterprise(
    conn: &mut DbConn,
    id: EnterpriseId,
    to: &str,
) -> Result<(), StoreError> {
    let id = id.to_string();
    let its_gradings = gradings::table
        .filter(gradings::enterprise_id.eq(id.clone()))
        .select(gradings::id);
    let its_checklists = checklists::table
        .filter(checklists::enterprise_id.eq(id.clone()))
        .select(checklists::id);
    move_rows!(conn, to,
        certificates where certificates::enterprise_id.eq(&id);
        accidents where accidents::enterprise_id.eq(&id);
        drives where drives::enterprise_id.eq(&id);
        guidance_visits where guidance_visits::enterprise_id.eq(&id);
        assessments where assessments::enterprise_id.eq(&id);
        grading_steps where grading_steps::grading_id.eq_any(its_gradings);
        gradings where gradings::enterprise_id.eq(&id);
        hazards where hazards::enterprise_id.eq(&id);
        risk_units where risk_units::enterprise_id.eq(&id);
        risks where risks::enterprise_id.eq(&id);
        risk_measures where risk_measures::enterprise_id.eq(&id);
        inspection_tasks where inspection_tasks::enterprise_id.eq(&id);
        inspection_records where inspection_records::enterprise_id.eq(&id);
        checklist_records where checklist_records::checklist_id.eq_any(its_checklists);
        checklists where checklists::enterprise_id.eq(&id);
    );
    Ok(())
}
