//! Importing a survey ledger's enterprises: each valid row is upserted by its credit code,
//! new ones created and known ones updated field by field, with what would change worked out
//! before anything is written (a dry run is that plan alone). The writing is one transaction:
//! all rows or none.

use std::collections::BTreeMap;

use diesel::prelude::*;
use safegrade_domain::{Actor, EnterpriseData, EnterpriseId, Scope};

use crate::plumbing::events::payload::{Change, Changes, EnterpriseFields};
use crate::plumbing::schema::enterprises;
use crate::{DbConn, Store, StoreError, WriteTx};

/// A valid ledger row: its row number in the sheet and the enterprise it describes.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerRow {
    /// Row number (the header row is 1).
    pub row: usize,
    /// The enterprise.
    pub data: EnterpriseData,
}

/// What importing a row does.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A new enterprise.
    Created,
    /// A known enterprise (by credit code) whose fields change: field → old and new.
    Updated(BTreeMap<String, Change>),
    /// A known enterprise the row leaves as it is.
    Unchanged,
}

/// One row's plan, or why it cannot be imported.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// Row number.
    pub row: usize,
    /// The credit code.
    pub credit_code: String,
    /// What it does; `Err` with a Chinese sentence when the row cannot be imported (an
    /// enterprise outside the importer's jurisdiction, a credit code twice in the file).
    pub outcome: Result<Outcome, String>,
}

/// The known enterprise with this credit code, if any.
fn known(conn: &mut DbConn, credit_code: &str) -> Result<Option<EnterpriseId>, StoreError> {
    let id: Option<String> = enterprises::table
        .filter(enterprises::credit_code.eq(credit_code))
        .select(enterprises::id)
        .first(conn)
        .optional()?;
    Ok(id.and_then(|i| EnterpriseId::parse(&i)))
}

/// Works out what each row would do, without writing.
fn plan(conn: &mut DbConn, rows: &[LedgerRow], scope: &Scope) -> Result<Vec<Planned>, StoreError> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let code = r.data.credit_code.as_str();
        let outcome = if let Some(first) = seen.insert(code, r.row) {
            Err(format!("统一社会信用代码与第 {first} 行重复"))
        } else if !match scope {
            Scope::City => true,
            Scope::Areas(areas) => areas.contains(&r.data.area_code),
            Scope::Enterprise(_) | Scope::Organisation(_) => false,
        } {
            Err(format!("{} 不在本账号的管辖范围内", r.data.area_code))
        } else {
            match known(conn, code)? {
                None => Ok(Outcome::Created),
                Some(id) => {
                    let current = super::enterprises::find(conn, id)?;
                    if !crate::plumbing::jurisdiction::covers(
                        conn,
                        scope,
                        &current.data.area_code,
                        current.id,
                    )? {
                        Err("该企业已登记在本账号管辖范围以外的区域".to_owned())
                    } else if current.data == r.data {
                        Ok(Outcome::Unchanged)
                    } else {
                        let mut new = current.clone();
                        new.data = r.data.clone();
                        let diff = Changes::between(
                            &EnterpriseFields::from(&current),
                            &EnterpriseFields::from(&new),
                            current.version + 1,
                        )?;
                        Ok(Outcome::Updated(diff.changes))
                    }
                }
            }
        };
        out.push(Planned {
            row: r.row,
            credit_code: code.to_owned(),
            outcome,
        });
    }
    Ok(out)
}

/// Writes the planned rows inside the caller's transaction (refusing all of them when any
/// cannot be imported): creates and updates, each with its event.
fn apply(
    tx: &mut WriteTx<'_>,
    rows: Vec<LedgerRow>,
    (scope, actor, reason): (&Scope, &Actor, Option<String>),
) -> Result<Vec<Planned>, StoreError> {
    let planned = plan(tx, &rows, scope)?;
    if planned.iter().any(|p| p.outcome.is_err()) {
        return Ok(planned);
    }
    for (r, p) in rows.into_iter().zip(&planned) {
        match p.outcome {
            Ok(Outcome::Created) => {
                super::enterprises::insert(tx, &r.data, actor)?;
            }
            Ok(Outcome::Updated(_)) => {
                let id = known(tx, &p.credit_code)?.ok_or(StoreError::NotFound)?;
                let current = super::enterprises::find(tx, id)?;
                super::enterprises::update(tx, current, r.data, actor, reason.clone())?;
            }
            _ => {}
        }
    }
    Ok(planned)
}

impl Store {
    /// What importing `rows` would do, inside `scope`, without writing anything.
    pub fn plan_ledger_import(
        &self,
        rows: &[LedgerRow],
        scope: &Scope,
    ) -> Result<Vec<Planned>, StoreError> {
        self.with_read(|conn| plan(conn, rows, scope))
    }

    /// Imports `rows` inside `scope` in one transaction: nothing is written when any row
    /// cannot be imported (the plan then says which). Every created or updated enterprise
    /// gets its event, the updates with `reason`.
    pub fn import_ledger(
        &self,
        rows: Vec<LedgerRow>,
        (scope, actor, reason): (Scope, Actor, Option<String>),
    ) -> Result<Vec<Planned>, StoreError> {
        self.with_write_tx(move |tx| apply(tx, rows, (&scope, &actor, reason)))
    }
}
