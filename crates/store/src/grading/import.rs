//! Importing certificates from a ledger (证书台账, or the certificate columns of a survey
//! ledger): each row names its holder by credit code (the enterprise must be in the ledger,
//! inside the importer's jurisdiction) and is recorded as a certificate would be through the
//! API, with the same checks; a certificate already recorded under the same number (same
//! holder, grade and issue date) is left as it is. Recorded certificates are never changed
//! by an import: a row that contradicts one is refused.

use chrono::NaiveDate;
use diesel::prelude::*;
use safegrade_domain::grading::{CertificateData, CertificateInput, GradeRules, transitions};
use safegrade_domain::ledger::sheet::CertificateCells;
use safegrade_domain::{Actor, CodeList, CreditCode, Scope, Violation, ViolationCode};

use crate::ledger::import::{Chunk, Outcome, Refused, Tally, known};
use crate::plumbing::schema::certificates;
use crate::{DbConn, Store, StoreError, WriteTx};

/// What an import writes for a certificate whose ledger does not say it.
pub const UNSTATED: &str = "未注明（台账导入）";

/// A certificate row: its row number and its cells.
#[derive(Debug, Clone, PartialEq)]
pub struct CertificateRow {
    /// Row number (the header row is 1).
    pub row: usize,
    /// What the row says.
    pub cells: CertificateCells,
}

/// One row's plan, or why it cannot be imported.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCertificate {
    /// Row number.
    pub row: usize,
    /// The certificate number as written.
    pub number: String,
    /// `Created` or `Unchanged` (already recorded), or why not.
    pub outcome: Result<Outcome, Refused>,
    /// The certificate as it will be recorded.
    pub data: Option<CertificateData>,
}

fn field(name: &str, code: ViolationCode, message: impl Into<String>) -> Refused {
    Refused::Fields(vec![Violation::field(name, code, message)])
}

fn plan_row(
    conn: &mut DbConn,
    r: &CertificateRow,
    (scope, rules, today): (&Scope, &GradeRules, NaiveDate),
) -> Result<Result<(Outcome, CertificateData), Refused>, StoreError> {
    let c = &r.cells;
    let raw = c.credit_code.clone().unwrap_or_default();
    let code = match CreditCode::parse(&raw) {
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
        Ok(_) => {}
        Err(StoreError::NotFound) => {
            return Ok(Err(Refused::Row("该企业不在本账号的管辖范围内".to_owned())));
        }
        Err(e) => return Err(e),
    }
    let level = c.grade.map(|g| {
        safegrade_domain::gradings::announcing_authorities(g)
            .first()
            .map_or("city", CodeList::as_str)
    });
    let input = CertificateInput {
        enterprise_id: Some(enterprise.to_string()),
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
    if let Some((holder, grade, issued_on)) = recorded {
        return Ok(
            if holder == enterprise.to_string()
                && grade == data.grade.as_str()
                && issued_on == data.issued_on
            {
                Ok((Outcome::Unchanged, data))
            } else {
                Err(field(
                    "number",
                    ViolationCode::InvalidValue,
                    format!("证书编号 {} 已登记在另一张证书上", data.number),
                ))
            },
        );
    }
    let revoked = crate::grading::certificates::latest_revocation(conn, enterprise)?;
    if let Err(refusal) = transitions::record(rules, revoked, &data) {
        return Ok(Err(Refused::Row(refusal.to_string())));
    }
    Ok(Ok((Outcome::Created, data)))
}

fn plan(
    conn: &mut DbConn,
    rows: &[CertificateRow],
    ctx: (&Scope, &GradeRules, NaiveDate),
) -> Result<Vec<PlannedCertificate>, StoreError> {
    let mut seen = std::collections::BTreeMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let number = r.cells.number.clone().unwrap_or_default();
        let mut planned = PlannedCertificate {
            row: r.row,
            number: number.clone(),
            outcome: Ok(Outcome::Created),
            data: None,
        };
        if let Some(first) = (!number.is_empty())
            .then(|| seen.insert(number.clone(), r.row))
            .flatten()
        {
            planned.outcome = Err(Refused::Row(format!("证书编号与第 {first} 行重复")));
            out.push(planned);
            continue;
        }
        match plan_row(conn, r, ctx)? {
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
    /// The tally of a certificate plan.
    pub fn of_certificates<'a>(planned: impl IntoIterator<Item = &'a PlannedCertificate>) -> Self {
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
    /// What importing certificate `rows` would do, inside `scope`, without writing.
    pub fn plan_certificate_import(
        &self,
        rows: &[CertificateRow],
        scope: &Scope,
        today: NaiveDate,
    ) -> Result<Vec<PlannedCertificate>, StoreError> {
        let rules = self.grade_rules();
        self.with_read(|conn| plan(conn, rows, (scope, rules, today)))
    }

    /// Records one chunk of a certificate import job, like
    /// [`Store::import_ledger_chunk`]: planned again in the transaction, nothing of the chunk
    /// written when a row is refused now, the job's checkpoint with it, `import.completed`
    /// after the last.
    pub fn import_certificates_chunk(
        &self,
        rows: Vec<CertificateRow>,
        (scope, actor, today): (Scope, Actor, NaiveDate),
        chunk: Chunk,
    ) -> Result<Result<Tally, Vec<PlannedCertificate>>, StoreError> {
        let rules = self.grade_rules();
        self.with_write_tx(move |tx: &mut WriteTx<'_>| {
            let planned = plan(tx, &rows, (&scope, rules, today))?;
            if planned.iter().any(|p| p.outcome.is_err()) {
                return Ok(Err(planned));
            }
            for p in &planned {
                if let (Ok(Outcome::Created), Some(data)) = (&p.outcome, &p.data) {
                    crate::grading::certificates::record(tx, data, &scope, &actor, rules)?;
                }
            }
            chunk
                .close(
                    tx,
                    Tally::of_certificates(&planned),
                    (&actor, None, "certificates"),
                )
                .map(Ok)
        })
    }
}
