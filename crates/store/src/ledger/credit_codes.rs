//! The credit-code lookup table (`credit_codes`): one row per enterprise, keyed by its
//! unified social credit code (统一社会信用代码), with its id and supervision area.
//!
//! Its key is what keeps credit codes unique (docs/adr/0007-citus-ready-layout.md): once
//! enterprises are distributed by area, a unique index on `enterprises.credit_code` alone
//! could not be enforced. It is written in the enterprise's transaction, before the
//! enterprise, so a second enterprise with the same code is refused here, on both backends,
//! as `Conflict(EnterpriseCreditCode)`. It also answers "which enterprise has this code"
//! without knowing the area (imports).

use std::collections::BTreeMap;

use diesel::prelude::*;
use safegrade_domain::{EnterpriseData, EnterpriseId};

use crate::plumbing::schema::credit_codes;
use crate::{DbConn, StoreError};

/// A row of `credit_codes`.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = credit_codes)]
pub(crate) struct CreditCodeRow {
    credit_code: String,
    enterprise_id: String,
    area_code: String,
}

impl CreditCodeRow {
    /// The row of enterprise `id` with `data`.
    pub(crate) fn of(id: EnterpriseId, data: &EnterpriseData) -> Self {
        Self {
            credit_code: data.credit_code.to_string(),
            enterprise_id: id.to_string(),
            area_code: data.area_code.clone(),
        }
    }
}

/// Rows per multi-row insert on PostgreSQL.
const PER_INSERT: usize = 5000;

/// Claims the credit codes of new enterprises (before they are inserted).
pub(crate) fn claim(conn: &mut DbConn, rows: &[CreditCodeRow]) -> Result<(), StoreError> {
    crate::insert_rows!(conn, credit_codes::table, rows, PER_INSERT);
    Ok(())
}

/// Moves the row of enterprise `id`, found by its current code `from`, to its new credit
/// code and area (before the enterprise is updated); a code another enterprise holds is
/// refused.
pub(crate) fn follow(
    conn: &mut DbConn,
    (id, from): (EnterpriseId, &str),
    data: &EnterpriseData,
) -> Result<(), StoreError> {
    let moved = diesel::update(
        credit_codes::table
            .find(from)
            .filter(credit_codes::enterprise_id.eq(id.to_string())),
    )
    .set((
        credit_codes::credit_code.eq(data.credit_code.to_string()),
        credit_codes::area_code.eq(&data.area_code),
    ))
    .execute(conn)?;
    if moved == 1 {
        Ok(())
    } else {
        Err(StoreError::Other(
            format!("enterprise {id} has no row in credit_codes").into(),
        ))
    }
}

/// The enterprise with this credit code, if any.
pub(crate) fn known(
    conn: &mut DbConn,
    credit_code: &str,
) -> Result<Option<EnterpriseId>, StoreError> {
    let id: Option<String> = credit_codes::table
        .find(credit_code)
        .select(credit_codes::enterprise_id)
        .first(conn)
        .optional()?;
    Ok(id.and_then(|i| EnterpriseId::parse(&i)))
}

/// The enterprises among `codes` (normalised credit codes), by code.
pub(crate) fn known_all(
    conn: &mut DbConn,
    codes: &[String],
) -> Result<BTreeMap<String, EnterpriseId>, StoreError> {
    let mut out = BTreeMap::new();
    for part in codes.chunks(500) {
        let found: Vec<(String, String)> = credit_codes::table
            .filter(credit_codes::credit_code.eq_any(part))
            .select((credit_codes::credit_code, credit_codes::enterprise_id))
            .load(conn)?;
        out.extend(
            found
                .into_iter()
                .filter_map(|(code, id)| EnterpriseId::parse(&id).map(|id| (code, id))),
        );
    }
    Ok(out)
}
