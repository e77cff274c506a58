//! Importing records that hang off enterprises from a ledger: certificates (证书台账, legacy
//! numbers included) and accidents (事故台账). Each row names its holder by credit code (the
//! enterprise must be in the ledger, inside the importer's jurisdiction) and is recorded as
//! the API records one, with the same checks and events. A record already there (a
//! certificate under the same number for the same holder, grade and issue date; an accident
//! of the same holder, day, kind and casualties) is left as it is; recorded records are never
//! changed by an import, so a row that contradicts one is refused.

use chrono::NaiveDate;
use diesel::prelude::*;
use safegrade_domain::grading::{
    AccidentData, AccidentInput, CertificateData, CertificateInput, GradeRules, transitions,
};
use safegrade_domain::ledger::sheet::{AccidentCells, CertificateCells};
use safegrade_domain::{
    Actor, CodeList, CreditCode, EnterpriseId, Scope, Violation, ViolationCode,
};

use crate::ledger::credit_codes::known;
use crate::ledger::import::{Chunk, Outcome, Refused, Tally};
use crate::plumbing::schema::{accidents, certificates};
use crate::{DbConn, Store, StoreError, WriteTx};

/// What an import writes for a certificate whose ledger does not say it.
pub const UNSTATED: &str = "未注明（台账导入）";

/// A row of a record ledger: its row number and its cells.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordRow<C> {
    /// Row number (the header row is 1).
    pub row: usize,
    /// What the row says.
    pub cells: C,
}

/// A certificate row.
pub type CertificateRow = RecordRow<CertificateCells>;
/// An accident row.
pub type AccidentRow = RecordRow<AccidentCells>;

/// One row's plan, or why it cannot be imported.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRecord<D> {
    /// Row number.
    pub row: usize,
    /// The holder's credit code as written.
    pub credit_code: String,
    /// The record in a few words (a certificate's number; an accident's day and kind).
    pub key: String,
    /// `Created` or `Unchanged` (already recorded), or why not.
    pub outcome: Result<Outcome, Refused>,
    /// The record as it will be written.
    pub data: Option<D>,
}

/// What writing a chunk did: the tally so far, or (nothing written) the rows planned again,
/// some refused.
pub type ChunkWritten<D> = Result<Tally, Vec<PlannedRecord<D>>>;

/// A certificate row's plan.
pub type PlannedCertificate = PlannedRecord<CertificateData>;
/// An accident row's plan.
pub type PlannedAccident = PlannedRecord<AccidentData>;

fn field(name: &str, code: ViolationCode, message: impl Into<String>) -> Refused {
    Refused::Fields(vec![Violation::field(name, code, message)])
}

/// A kind of record an import writes.
pub trait RecordKind {
    /// The cells of its rows.
    type Cells: Clone + Send + 'static;
    /// The record.
    type Data: Clone + Send + 'static;
    /// Its name in `import.completed`.
    const KIND: &'static str;
    /// The holder's credit code as written.
    fn credit_code(cells: &Self::Cells) -> Option<&str>;
    /// The record in a few words, also what two rows of one file must not share.
    fn key(cells: &Self::Cells) -> String;
    /// What the row makes for `holder`, and whether it is there already.
    fn plan(
        conn: &mut DbConn,
        holder: EnterpriseId,
        cells: &Self::Cells,
        rules: (&GradeRules, NaiveDate),
    ) -> Result<Result<(Outcome, Self::Data), Refused>, StoreError>;
    /// Writes a planned record, with its event.
    fn write(
        tx: &mut WriteTx<'_>,
        data: &Self::Data,
        who: (&Scope, &Actor),
        rules: &GradeRules,
    ) -> Result<(), StoreError>;
}

/// Certificates.
pub struct Certificates;

impl RecordKind for Certificates {
    type Cells = CertificateCells;
    type Data = CertificateData;
    const KIND: &'static str = "certificates";

    fn credit_code(c: &CertificateCells) -> Option<&str> {
        c.credit_code.as_deref()
    }

    fn key(c: &CertificateCells) -> String {
        c.number.clone().unwrap_or_default()
    }

    fn plan(
        conn: &mut DbConn,
        holder: EnterpriseId,
        c: &CertificateCells,
        (rules, today): (&GradeRules, NaiveDate),
    ) -> Result<Result<(Outcome, CertificateData), Refused>, StoreError> {
        let level = c.grade.map(|g| {
            safegrade_domain::gradings::announcing_authorities(g)
                .first()
                .map_or("city", CodeList::as_str)
        });
        let input = CertificateInput {
            enterprise_id: Some(holder.to_string()),
            regime: None,
            grade: c.grade.map(|g| g.as_str().to_owned()),
            number: c.number.clone(),
            authority_level: level.map(str::to_owned),
            authority_name: Some(
                c.authority_name
                    .clone()
                    .unwrap_or_else(|| UNSTATED.to_owned()),
            ),
            issued_on: c.issued_on.map(|d| d.to_string()),
            valid_until: c.valid_until.map(|d| d.to_string()),
            standard: Some(c.standard.clone().unwrap_or_else(|| UNSTATED.to_owned())),
        };
        let data = match input.validate(rules, today) {
            Ok(d) => d,
            Err(v) => return Ok(Err(Refused::Fields(v))),
        };
        let recorded: Option<(String, String, NaiveDate)> = certificates::table
            .filter(certificates::number.eq(&data.number))
            .select((
                certificates::enterprise_id,
                certificates::grade,
                certificates::issued_on,
            ))
            .first(conn)
            .optional()?;
        if let Some((h, grade, issued_on)) = recorded {
            let same = h == holder.to_string()
                && grade == data.grade.as_str()
                && issued_on == data.issued_on;
            return Ok(if same {
                Ok((Outcome::Unchanged, data))
            } else {
                Err(field(
                    "number",
                    ViolationCode::InvalidValue,
                    format!("证书编号 {} 已登记在另一张证书上", data.number),
                ))
            });
        }
        let revoked = crate::grading::certificates::latest_revocation(conn, holder)?;
        if let Err(refusal) = transitions::record(rules, revoked, &data) {
            return Ok(Err(Refused::Row(refusal.to_string())));
        }
        Ok(Ok((Outcome::Created, data)))
    }

    fn write(
        tx: &mut WriteTx<'_>,
        data: &CertificateData,
        (scope, actor): (&Scope, &Actor),
        rules: &GradeRules,
    ) -> Result<(), StoreError> {
        crate::grading::certificates::record(tx, data, scope, actor, rules).map(|_| ())
    }
}

/// Accidents.
pub struct Accidents;

impl RecordKind for Accidents {
    type Cells = AccidentCells;
    type Data = AccidentData;
    const KIND: &'static str = "accidents";

    fn credit_code(c: &AccidentCells) -> Option<&str> {
        c.credit_code.as_deref()
    }

    fn key(c: &AccidentCells) -> String {
        format!(
            "{} {}",
            c.occurred_on.map(|d| d.to_string()).unwrap_or_default(),
            c.kind.clone().unwrap_or_default()
        )
    }

    fn plan(
        conn: &mut DbConn,
        holder: EnterpriseId,
        c: &AccidentCells,
        (_, today): (&GradeRules, NaiveDate),
    ) -> Result<Result<(Outcome, AccidentData), Refused>, StoreError> {
        let input = AccidentInput {
            enterprise_id: Some(holder.to_string()),
            occurred_on: c.occurred_on.map(|d| d.to_string()),
            kind: c.kind.clone(),
            deaths: c.deaths,
            seriously_injured: c.seriously_injured,
            direct_loss_cny: c.direct_loss_cny,
            concealed: None,
            source: c.source.clone(),
        };
        let data = match input.validate(today) {
            Ok(d) => d,
            Err(v) => return Ok(Err(Refused::Fields(v))),
        };
        let same: i64 = accidents::table
            .filter(accidents::enterprise_id.eq(holder.to_string()))
            .filter(accidents::occurred_on.eq(data.facts.occurred_on))
            .filter(accidents::kind.eq(data.kind.as_str()))
            .filter(accidents::deaths.eq(i32::try_from(data.facts.deaths).unwrap_or(i32::MAX)))
            .filter(
                accidents::seriously_injured
                    .eq(i32::try_from(data.facts.seriously_injured).unwrap_or(i32::MAX)),
            )
            .count()
            .get_result(conn)?;
        Ok(Ok((
            if same > 0 {
                Outcome::Unchanged
            } else {
                Outcome::Created
            },
            data,
        )))
    }

    fn write(
        tx: &mut WriteTx<'_>,
        data: &AccidentData,
        (scope, actor): (&Scope, &Actor),
        rules: &GradeRules,
    ) -> Result<(), StoreError> {
        crate::grading::accidents::record(tx, data, scope, actor, rules).map(|_| ())
    }
}

/// The holder a row names, inside `scope`, or why not.
fn holder(
    conn: &mut DbConn,
    raw: Option<&str>,
    scope: &Scope,
) -> Result<Result<EnterpriseId, Refused>, StoreError> {
    let raw = raw.unwrap_or_default();
    let code = match CreditCode::parse(raw) {
        Ok(code) => code.to_string(),
        Err(_) if raw.is_empty() => {
            return Ok(Err(field(
                "credit_code",
                ViolationCode::Required,
                "统一社会信用代码为必填",
            )));
        }
        Err(e) => {
            return Ok(Err(field(
                "credit_code",
                ViolationCode::InvalidCreditCode,
                e.to_string(),
            )));
        }
    };
    let Some(enterprise) = known(conn, &code)? else {
        return Ok(Err(Refused::Row(format!(
            "台账中没有统一社会信用代码为 {code} 的企业，请先导入企业台账"
        ))));
    };
    match crate::plumbing::jurisdiction::enterprise_area(conn, enterprise, scope) {
        Ok(_) => Ok(Ok(enterprise)),
        Err(StoreError::NotFound) => {
            Ok(Err(Refused::Row("该企业不在本账号的管辖范围内".to_owned())))
        }
        Err(e) => Err(e),
    }
}

fn plan<K: RecordKind>(
    conn: &mut DbConn,
    rows: &[RecordRow<K::Cells>],
    (scope, rules, today): (&Scope, &GradeRules, NaiveDate),
) -> Result<Vec<PlannedRecord<K::Data>>, StoreError> {
    let mut seen = std::collections::BTreeMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let key = K::key(&r.cells);
        let mut planned = PlannedRecord {
            row: r.row,
            credit_code: K::credit_code(&r.cells).unwrap_or_default().to_owned(),
            key: key.clone(),
            outcome: Ok(Outcome::Created),
            data: None,
        };
        let twice = (!key.trim().is_empty())
            .then(|| seen.insert(key.clone(), r.row))
            .flatten();
        let planned_row = match twice {
            Some(first) => Err(Refused::Row(format!("与第 {first} 行重复"))),
            None => match holder(conn, K::credit_code(&r.cells), scope)? {
                Ok(h) => K::plan(conn, h, &r.cells, (rules, today))?,
                Err(refused) => Err(refused),
            },
        };
        match planned_row {
            Ok((outcome, data)) => {
                planned.outcome = Ok(outcome);
                planned.data = Some(data);
            }
            Err(refused) => planned.outcome = Err(refused),
        }
        out.push(planned);
    }
    Ok(out)
}

impl Tally {
    /// The tally of a record plan.
    pub fn of_records<'a, D: 'a>(planned: impl IntoIterator<Item = &'a PlannedRecord<D>>) -> Self {
        let mut t = Self::default();
        for p in planned {
            match p.outcome {
                Ok(Outcome::Created) => t.created += 1,
                Ok(_) => t.unchanged += 1,
                Err(_) => {}
            }
        }
        t
    }
}

impl Store {
    /// What importing record `rows` of kind `K` would do, inside `scope`, without writing.
    pub fn plan_record_import<K: RecordKind>(
        &self,
        rows: &[RecordRow<K::Cells>],
        scope: &Scope,
        today: NaiveDate,
    ) -> Result<Vec<PlannedRecord<K::Data>>, StoreError> {
        let rules = self.grade_rules();
        self.with_read(|conn| plan::<K>(conn, rows, (scope, rules, today)))
    }

    /// Writes one chunk of a record import job, like [`Store::import_ledger_chunk`]: planned
    /// again in the transaction, nothing of the chunk written when a row is refused now, the
    /// job's checkpoint with it, `import.completed` after the last.
    pub fn import_records_chunk<K: RecordKind + 'static>(
        &self,
        rows: Vec<RecordRow<K::Cells>>,
        (scope, actor, today): (Scope, Actor, NaiveDate),
        chunk: Chunk,
    ) -> Result<ChunkWritten<K::Data>, StoreError> {
        let rules = self.grade_rules();
        self.with_write_tx(move |tx: &mut WriteTx<'_>| {
            let planned = plan::<K>(tx, &rows, (&scope, rules, today))?;
            if planned.iter().any(|p| p.outcome.is_err()) {
                return Ok(Err(planned));
            }
            for p in &planned {
                if let (Ok(Outcome::Created), Some(data)) = (&p.outcome, &p.data) {
                    K::write(tx, data, (&scope, &actor), rules)?;
                }
            }
            chunk
                .close(tx, Tally::of_records(&planned), (&actor, None, K::KIND))
                .map(Ok)
        })
    }
}
