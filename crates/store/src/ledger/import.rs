//! Importing a survey ledger's enterprises: each row is upserted by its credit code, new
//! ones created and known ones updated with the cells the row gives (what the sheet does not
//! mention is kept), with what would change worked out before anything is written (a dry run
//! is that plan alone). The writing is one transaction: all rows or none.

use std::collections::BTreeMap;

use safegrade_domain::ledger::sheet::overlay;
use safegrade_domain::{
    Actor, CreditCode, EnterpriseData, EnterpriseId, EnterpriseInput, Scope, SectorMapping,
    Violation, ViolationCode,
};

use crate::plumbing::events::payload::{Change, Changes, EnterpriseFields, ImportFields};
use crate::plumbing::events::{EventData, NewEvent};
use crate::{DbConn, Store, StoreError, WriteTx};

/// A ledger row: its row number in the sheet and the cells it gives, read as the API reads
/// a body (`None`: not in the sheet, or blank).
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerRow {
    /// Row number (the header row is 1).
    pub row: usize,
    /// What the row says.
    pub input: EnterpriseInput,
}

/// Why a row cannot be imported.
#[derive(Debug, Clone, PartialEq)]
pub enum Refused {
    /// The enterprise it would make is not valid: the API's violations, by member.
    Fields(Vec<Violation>),
    /// The row as a whole, in a Chinese sentence (an enterprise outside the importer's
    /// jurisdiction, a credit code twice in the file).
    Row(String),
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
    /// The credit code (as written when it is not valid).
    pub credit_code: String,
    /// What it does, or why not.
    pub outcome: Result<Outcome, Refused>,
    /// The enterprise as it will be (for rows that can be imported).
    pub data: Option<EnterpriseData>,
    /// The known enterprise the row updates (none for a new one).
    pub id: Option<EnterpriseId>,
}

/// How many rows of a plan create an enterprise, update one, or leave one as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Created.
    pub created: i64,
    /// Updated.
    pub updated: i64,
    /// Left as they are.
    pub unchanged: i64,
}

impl Tally {
    /// The tally of `planned` (refused rows count in none).
    pub fn of<'a>(planned: impl IntoIterator<Item = &'a Planned>) -> Self {
        let mut t = Self::default();
        for p in planned {
            match p.outcome {
                Ok(Outcome::Created) => t.created += 1,
                Ok(Outcome::Updated(_)) => t.updated += 1,
                Ok(Outcome::Unchanged) => t.unchanged += 1,
                Err(_) => {}
            }
        }
        t
    }
}

/// Works out what each row would do, without writing.
fn plan(
    conn: &mut DbConn,
    rows: &[LedgerRow],
    (scope, mapping): (&Scope, &SectorMapping),
) -> Result<Vec<Planned>, StoreError> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(rows.len());
    // Which rows name a known enterprise, asked a few hundred codes at a time instead of
    // row by row (on PostgreSQL each question is a round trip).
    let codes: Vec<String> = rows
        .iter()
        .filter_map(|r| r.input.credit_code.as_deref())
        .filter_map(|c| CreditCode::parse(c).ok())
        .map(|c| c.to_string())
        .collect();
    let known_ids = crate::ledger::credit_codes::known_all(conn, &codes)?;
    for r in rows {
        let raw = r.input.credit_code.clone().unwrap_or_default();
        let mut planned = Planned {
            row: r.row,
            credit_code: raw.clone(),
            outcome: Ok(Outcome::Created),
            data: None,
            id: None,
        };
        let code = match CreditCode::parse(&raw) {
            Ok(c) => c.to_string(),
            Err(e) => {
                let (code, message) = if raw.is_empty() {
                    (ViolationCode::Required, "统一社会信用代码为必填".to_owned())
                } else {
                    (ViolationCode::InvalidCreditCode, e.to_string())
                };
                planned.outcome = Err(Refused::Fields(vec![Violation::field(
                    "credit_code",
                    code,
                    message,
                )]));
                out.push(planned);
                continue;
            }
        };
        planned.credit_code = code.clone();
        if let Some(first) = seen.insert(code.clone(), r.row) {
            planned.outcome = Err(Refused::Row(format!("统一社会信用代码与第 {first} 行重复")));
            out.push(planned);
            continue;
        }
        let current = match known_ids.get(&code) {
            Some(id) => Some(super::enterprises::find(conn, *id)?),
            None => None,
        };
        let current_id = current.as_ref().map(|c| c.id);
        let base = current
            .as_ref()
            .map(|e| EnterpriseInput::from(&e.data))
            .unwrap_or_default();
        let data = match overlay(base, &r.input).validate(mapping) {
            Ok(d) => d,
            Err(v) => {
                planned.outcome = Err(Refused::Fields(v));
                out.push(planned);
                continue;
            }
        };
        planned.outcome = match current {
            _ if !scope.covers_area(&data.area_code) => Err(Refused::Row(format!(
                "{} 不在本账号的管辖范围内",
                data.area_code
            ))),
            None => Ok(Outcome::Created),
            Some(c) if !scope.covers_area(&c.data.area_code) => Err(Refused::Row(
                "该企业已登记在本账号管辖范围以外的区域".to_owned(),
            )),
            Some(c) if c.data == data => Ok(Outcome::Unchanged),
            Some(c) => {
                let mut new = c.clone();
                new.data = data.clone();
                let diff = Changes::between(
                    &EnterpriseFields::from(&c),
                    &EnterpriseFields::from(&new),
                    c.version + 1,
                )?;
                Ok(Outcome::Updated(diff.changes))
            }
        };
        planned.data = Some(data);
        planned.id = current_id;
        out.push(planned);
    }
    Ok(out)
}

/// The file an import reads: its name and its bytes (the event keeps their SHA-256).
#[derive(Debug, Clone, Copy)]
pub struct SourceFile<'a> {
    /// The name as given.
    pub name: &'a str,
    /// The bytes read.
    pub bytes: &'a [u8],
}

/// Writes rows planned without refusal, each created or updated enterprise with its event.
fn write_planned(
    tx: &mut WriteTx<'_>,
    planned: &[Planned],
    (actor, reason): (&Actor, Option<String>),
) -> Result<(), StoreError> {
    for p in planned {
        let Some(data) = p.data.clone() else { continue };
        match p.outcome {
            Ok(Outcome::Created) => {
                super::enterprises::insert(tx, &data, actor)?;
            }
            Ok(Outcome::Updated(_)) => {
                let id = p.id.ok_or(StoreError::NotFound)?;
                let current = super::enterprises::find(tx, id)?;
                super::enterprises::update(tx, current, data, actor, reason.clone())?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Records `import.completed` for a file: its name, SHA-256 and what its rows did.
fn record_completed(
    tx: &mut WriteTx<'_>,
    (actor, reason): (&Actor, Option<String>),
    (kind, file_name, sha256): (&str, String, String),
    (rows, tally): (i64, Tally),
) -> Result<(), StoreError> {
    let completed = ImportFields {
        kind: kind.to_owned(),
        file_name,
        sha256: sha256.clone(),
        rows,
        created: tally.created,
        updated: tally.updated,
        unchanged: tally.unchanged,
    };
    tx.record(NewEvent {
        actor: actor.clone(),
        resource_id: sha256,
        area_code: None,
        enterprise_id: None,
        data: EventData::ImportCompleted(completed),
        reason,
    })
}

fn apply(
    tx: &mut WriteTx<'_>,
    rows: &[LedgerRow],
    (scope, mapping, actor, reason): (&Scope, &SectorMapping, &Actor, Option<String>),
    source: (String, String),
) -> Result<Vec<Planned>, StoreError> {
    let planned = plan(tx, rows, (scope, mapping))?;
    if planned.iter().any(|p| p.outcome.is_err()) {
        return Ok(planned);
    }
    write_planned(tx, &planned, (actor, reason.clone()))?;
    let rows = i64::try_from(planned.len()).unwrap_or(i64::MAX);
    let (file_name, sha256) = source;
    record_completed(
        tx,
        (actor, reason),
        ("enterprises", file_name, sha256),
        (rows, Tally::of(&planned)),
    )?;
    Ok(planned)
}

/// One chunk of an import job's writing: where the job stands and what it has done so far.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// The job and the worker holding it.
    pub job: (String, String),
    /// Rows done once this chunk is written, and rows in all.
    pub progress: (i64, i64),
    /// What the chunks before did.
    pub before: Tally,
    /// For the last chunk: the file (name, SHA-256) and its row count, for `import.completed`.
    pub last: Option<((String, String), i64)>,
}

impl Chunk {
    /// Ends a chunk's transaction once its rows are written (`written` is their tally): the
    /// job's checkpoint with the tally so far, and after the last chunk `import.completed`
    /// for an import of `kind`. Returns the tally so far.
    pub(crate) fn close(
        self,
        tx: &mut WriteTx<'_>,
        written: Tally,
        (actor, reason, kind): (&Actor, Option<String>, &str),
    ) -> Result<Tally, StoreError> {
        let tally = self.before.plus(written);
        let (id, owner) = (&self.job.0, &self.job.1);
        crate::jobs::checkpoint(
            tx,
            (id, owner),
            self.progress,
            Some(&tally.to_json(self.progress.0)),
        )?;
        if let Some(((file_name, sha256), rows)) = self.last {
            record_completed(
                tx,
                (actor, reason),
                (kind, file_name, sha256),
                (rows, tally),
            )?;
        }
        Ok(tally)
    }
}

impl Tally {
    fn plus(self, other: Self) -> Self {
        Self {
            created: self.created + other.created,
            updated: self.updated + other.updated,
            unchanged: self.unchanged + other.unchanged,
        }
    }

    /// As a job's checkpoint.
    pub fn to_json(self, rows_written: i64) -> serde_json::Value {
        serde_json::json!({
            "rows_written": rows_written,
            "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
        })
    }

    /// From a job's checkpoint: rows written, and the tally.
    pub fn from_json(v: &serde_json::Value) -> (i64, Self) {
        let n = |k: &str| v.get(k).and_then(serde_json::Value::as_i64).unwrap_or(0);
        (
            n("rows_written"),
            Self {
                created: n("created"),
                updated: n("updated"),
                unchanged: n("unchanged"),
            },
        )
    }
}

impl Store {
    /// What importing `rows` would do, inside `scope`, without writing anything.
    pub fn plan_ledger_import(
        &self,
        rows: &[LedgerRow],
        scope: &Scope,
        mapping: &SectorMapping,
    ) -> Result<Vec<Planned>, StoreError> {
        self.with_read(|conn| plan(conn, rows, (scope, mapping)))
    }

    /// Imports `rows` of `file` inside `scope` in one transaction: nothing is written when
    /// any row cannot be imported (the plan then says which). Every created or updated
    /// enterprise gets its event, the updates with `reason`, and the import ends with
    /// `import.completed` naming the file by its SHA-256.
    pub fn import_ledger(
        &self,
        rows: Vec<LedgerRow>,
        (scope, actor, reason): (Scope, Actor, Option<String>),
        mapping: &'static SectorMapping,
        file: SourceFile<'_>,
    ) -> Result<Vec<Planned>, StoreError> {
        let source = (
            file.name.to_owned(),
            crate::plumbing::digest::sha256_hex(file.bytes),
        );
        self.with_write_tx(move |tx| apply(tx, &rows, (&scope, mapping, &actor, reason), source))
    }

    /// Writes one chunk of an import job in one transaction, with the job's checkpoint (rows
    /// written and the tally so far), so a resumed job starts after the last committed
    /// chunk. The rows are planned again inside the transaction: when one is refused now
    /// (the ledger changed since the job's plan) nothing of the chunk is written and the
    /// plan comes back. The last chunk records `import.completed`.
    pub fn import_ledger_chunk(
        &self,
        rows: Vec<LedgerRow>,
        (scope, actor, reason): (Scope, Actor, Option<String>),
        mapping: &'static SectorMapping,
        chunk: Chunk,
    ) -> Result<Result<Tally, Vec<Planned>>, StoreError> {
        self.with_write_tx(move |tx| {
            let planned = plan(tx, &rows, (&scope, mapping))?;
            if planned.iter().any(|p| p.outcome.is_err()) {
                return Ok(Err(planned));
            }
            write_planned(tx, &planned, (&actor, reason.clone()))?;
            chunk
                .close(tx, Tally::of(&planned), (&actor, reason, "enterprises"))
                .map(Ok)
        })
    }
}
