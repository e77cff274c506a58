//! Alerts (提醒): due actions derived from certificates and accidents on a given day, never
//! stored, so an alert disappears as soon as its cause is resolved (a renewal, a new grade,
//! a revocation decision).
//!
//! Each kind is computed with an indexed query bounded by what can raise it (certificates
//! by `valid_until`, accidents by date and enterprise), never by loading every enterprise.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use safegrade_domain::grading::{
    AccidentFacts, AlertKind, Certificate, Grade, GradeRules, in_force_on, sub_months,
};
use safegrade_domain::{CodeList, EnterpriseId, Scope};

use crate::grading::certificates::{CertificateRow, of_enterprises};
use crate::plumbing::schema::{
    accidents, certificates, drives, enterprises, grade_summaries, guidance_visits,
};
use crate::{Store, StoreError};

/// One alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Kind.
    pub kind: AlertKind,
    /// The enterprise concerned.
    pub enterprise_id: EnterpriseId,
    /// Its supervision area.
    pub area_code: String,
    /// By when (or since when) the action is due.
    pub due_on: NaiveDate,
    /// The record that raised it: `("certificate" | "accident", id)`.
    pub subject: (&'static str, String),
    /// The rule, with its source.
    pub rule: String,
    /// What to do next.
    pub next_step: String,
}

/// Filters of the alert list.
#[derive(Debug, Clone)]
pub struct AlertFilter {
    /// The caller's jurisdiction.
    pub scope: Scope,
    /// Only this area.
    pub area_code: Option<String>,
    /// Only this enterprise.
    pub enterprise_id: Option<EnterpriseId>,
    /// Only these kinds (any when empty).
    pub kinds: Vec<AlertKind>,
}

impl AlertFilter {
    fn wants(&self, kind: AlertKind) -> bool {
        self.kinds.is_empty() || self.kinds.contains(&kind)
    }
}

/// The alert filter's scope, area and enterprise on a query whose record has its area in
/// `$area_col` and its enterprise in `$enterprise_col` (the one jurisdiction filter).
macro_rules! scoped {
    ($q:expr, $filter:expr, $area_col:expr, $enterprise_col:expr) => {{
        let mut q = crate::scoped!(
            $q,
            &$filter.scope,
            $area_col,
            $enterprise_col,
            &$filter.area_code
        );
        if let Some(id) = $filter.enterprise_id {
            q = q.filter($enterprise_col.eq(id.to_string()));
        }
        q
    }};
}

impl Store {
    /// The alerts on `today` matching `filter`, ordered by due date, kind and subject.
    pub fn alerts(
        &self,
        filter: &AlertFilter,
        rules: &GradeRules,
        today: NaiveDate,
        window_months: u32,
    ) -> Result<Vec<Alert>, StoreError> {
        self.with_read(|conn| {
            let mut out = Vec::new();
            if filter.wants(AlertKind::GradeExpiring) {
                // The enterprises whose current grade (from the summaries) ends within the
                // window, with that certificate.
                let q = grade_summaries::table
                    .inner_join(
                        certificates::table.on(certificates::id
                            .nullable()
                            .eq(grade_summaries::current_certificate_id)),
                    )
                    .filter(grade_summaries::grade_valid_until.ge(today))
                    .filter(grade_summaries::grade_valid_until.le(GradeRules::expiring_until(today, window_months)))
                    .select((certificates::all_columns, grade_summaries::area_code))
                    .into_boxed();
                let rows: Vec<(CertificateRow, String)> = scoped!(q, filter, grade_summaries::area_code, grade_summaries::enterprise_id).load(conn)?;
                for (row, area) in rows {
                    let c = row.into_domain()?;
                    out.push(Alert {
                        kind: AlertKind::GradeExpiring,
                        enterprise_id: c.data.enterprise_id,
                        area_code: area,
                        due_on: c.data.valid_until,
                        subject: ("certificate", c.id.to_string()),
                        rule: format!(
                            "定级办法: re-application opens {} months before expiry (on {}); notice 绵应急函〔2020〕42号 二（三）: remind the enterprise early",
                            rules.renewal_window_months,
                            rules.renewal_opens_on(c.data.valid_until)
                        ),
                        next_step: format!(
                            "remind the enterprise to apply for renewal of its {} grade (certificate {}) before {}",
                            c.data.grade, c.data.number, c.data.valid_until
                        ),
                    });
                }
            }
            if filter.wants(AlertKind::GradeExpired) {
                // The enterprises whose current grade is past its validity, with no later
                // grade and not revoked, with that certificate — including those that must
                // restart after an accident during its validity (status
                // `restart_required`): their accident may lie further back than the
                // accident alerts look, and they must be told to restart all the same.
                let q = grade_summaries::table
                    .inner_join(
                        certificates::table.on(certificates::id
                            .nullable()
                            .eq(grade_summaries::current_certificate_id)),
                    )
                    .filter(grade_summaries::grade_valid_until.lt(today))
                    .filter(grade_summaries::revoked_on.is_null())
                    .select((certificates::all_columns, grade_summaries::area_code))
                    .into_boxed();
                let rows: Vec<(CertificateRow, String)> =
                    scoped!(q, filter, grade_summaries::area_code, grade_summaries::enterprise_id).load(conn)?;
                for (row, area) in rows {
                    let c = row.into_domain()?;
                    out.push(Alert {
                        kind: AlertKind::GradeExpired,
                        enterprise_id: c.data.enterprise_id,
                        area_code: area,
                        due_on: c.data.valid_until,
                        subject: ("certificate", c.id.to_string()),
                        rule: "notice 绵应急函〔2020〕42号 二（三）: an enterprise whose grade expired must restart creation".into(),
                        next_step: format!(
                            "the {} grade (certificate {}) expired after {}: push the enterprise to restart creation (重新创建)",
                            c.data.grade, c.data.number, c.data.valid_until
                        ),
                    });
                }
            }
            if filter.wants(AlertKind::AccidentDuringValidity) || filter.wants(AlertKind::RevocationTrigger) {
                // An accident can only matter to a certificate in force on its date, and
                // certificates last `validity_months`.
                let since = sub_months(today, rules.validity_months);
                let q = accidents::table
                    .inner_join(enterprises::table)
                    .filter(accidents::occurred_on.ge(since))
                    .select((
                        accidents::id,
                        accidents::enterprise_id,
                        accidents::occurred_on,
                        accidents::deaths,
                        accidents::seriously_injured,
                        accidents::direct_loss_cny,
                        accidents::concealed,
                        enterprises::area_code,
                    ))
                    .into_boxed();
                type Row = (String, String, NaiveDate, i32, i32, i64, bool, String);
                let rows: Vec<Row> = scoped!(q, filter, enterprises::area_code, accidents::enterprise_id).load(conn)?;
                let mut ids: Vec<String> = rows.iter().map(|r| r.1.clone()).collect();
                ids.sort_unstable();
                ids.dedup();
                let certs = by_enterprise(of_enterprises(conn, &ids)?);
                let history: Vec<(String, AccidentFacts)> = accidents::table
                    .filter(accidents::enterprise_id.eq_any(&ids))
                    .select((
                        accidents::enterprise_id,
                        accidents::occurred_on,
                        accidents::deaths,
                        accidents::seriously_injured,
                        accidents::direct_loss_cny,
                        accidents::concealed,
                    ))
                    .load::<(String, NaiveDate, i32, i32, i64, bool)>(conn)?
                    .into_iter()
                    .map(|(e, on, d, i, l, c)| (e, facts(on, d, i, l, c)))
                    .collect();
                for (id, ent, on, deaths, injured, loss, concealed, area) in rows {
                    let Some(enterprise_id) = EnterpriseId::parse(&ent) else {
                        continue;
                    };
                    let accident = facts(on, deaths, injured, loss, concealed);
                    let mine: Vec<&Certificate> = certs.get(&enterprise_id).map(|v| v.iter().collect()).unwrap_or_default();
                    // Open while a certificate in force on that day still stands (not revoked,
                    // not replaced) and no grade was granted since.
                    let standing: Vec<&&Certificate> = mine
                        .iter()
                        .filter(|c| in_force_on(c, on) && c.revocation.is_none() && c.superseded_by.is_none())
                        .collect();
                    let regraded = mine.iter().any(|c| c.data.issued_on > on && c.revocation.is_none());
                    if standing.is_empty() || regraded {
                        continue;
                    }
                    let numbers: Vec<&str> = standing.iter().map(|c| c.data.number.as_str()).collect();
                    if filter.wants(AlertKind::AccidentDuringValidity) {
                        out.push(Alert {
                            kind: AlertKind::AccidentDuringValidity,
                            enterprise_id,
                            area_code: area.clone(),
                            due_on: on,
                            subject: ("accident", id.clone()),
                            rule: "notice 绵应急函〔2020〕42号 二（三）: an enterprise with an accident during the validity of its grade must restart creation".into(),
                            next_step: format!(
                                "accident on {on} during the validity of certificate {}: push the enterprise to restart creation and have the grading authority decide on revocation",
                                numbers.join(", ")
                            ),
                        });
                    }
                    let others: Vec<AccidentFacts> = {
                        let mut skipped = false;
                        facts_of(&history, &ent)
                            .filter(|f| {
                                if !skipped && *f == accident {
                                    skipped = true;
                                    false
                                } else {
                                    true
                                }
                            })
                            .collect()
                    };
                    let triggers = rules.triggers_of(&accident, &others);
                    if filter.wants(AlertKind::RevocationTrigger) && !triggers.is_empty() {
                        let list: Vec<&str> = triggers.iter().map(|t| t.as_str()).collect();
                        out.push(Alert {
                            kind: AlertKind::RevocationTrigger,
                            enterprise_id,
                            area_code: area,
                            due_on: on,
                            subject: ("accident", id),
                            rule: format!("定级办法 revocation triggers met: {}", list.join(", ")),
                            next_step: format!(
                                "the grading authority decides whether to revoke certificate {} (POST /api/v1/certificates/{{id}}/revocation)",
                                numbers.join(", ")
                            ),
                        });
                    }
                }
            }
            if filter.wants(AlertKind::FocusFollowUpDue) {
                let q = guidance_visits::table
                    .inner_join(enterprises::table)
                    .filter(guidance_visits::follow_up_on.lt(today))
                    .select((
                        guidance_visits::id,
                        guidance_visits::enterprise_id,
                        guidance_visits::visited_on,
                        guidance_visits::follow_up_on,
                        enterprises::area_code,
                    ))
                    .into_boxed();
                type Row = (String, String, NaiveDate, Option<NaiveDate>, String);
                let rows: Vec<Row> = scoped!(q, filter, enterprises::area_code, guidance_visits::enterprise_id).load(conn)?;
                let ids: Vec<String> = rows.iter().map(|r| r.1.clone()).collect();
                let mut latest: HashMap<String, NaiveDate> = HashMap::new();
                for (e, on) in guidance_visits::table
                    .filter(guidance_visits::enterprise_id.eq_any(&ids))
                    .select((guidance_visits::enterprise_id, guidance_visits::visited_on))
                    .load::<(String, NaiveDate)>(conn)?
                {
                    let l = latest.entry(e).or_insert(on);
                    *l = (*l).max(on);
                }
                for (id, ent, visited_on, follow_up_on, area) in rows {
                    // Resolved by a later visit.
                    if latest.get(&ent).is_some_and(|l| *l > visited_on) {
                        continue;
                    }
                    let (Some(enterprise_id), Some(due)) = (EnterpriseId::parse(&ent), follow_up_on) else {
                        continue;
                    };
                    out.push(Alert {
                        kind: AlertKind::FocusFollowUpDue,
                        enterprise_id,
                        area_code: area,
                        due_on: due,
                        subject: ("visit", id),
                        rule: "notice 绵应急函〔2020〕42号 二（一）: guide the enterprises under supervision focus until they create".into(),
                        next_step: format!("the follow-up of the guidance visit of {visited_on} was due on {due}: visit again (POST /api/v1/enterprises/{{id}}/visits)"),
                    });
                }
            }
            if filter.wants(AlertKind::UpgradeTargetDue) {
                let year = today.year();
                let q = drives::table
                    .inner_join(enterprises::table)
                    .left_join(grade_summaries::table.on(grade_summaries::enterprise_id.eq(drives::enterprise_id)))
                    .filter(drives::upgrade_target_year.le(year))
                    .select((
                        drives::enterprise_id,
                        drives::upgrade_target_grade,
                        drives::upgrade_target_year,
                        enterprises::area_code,
                        grade_summaries::current_grade.nullable(),
                        grade_summaries::grade_valid_until.nullable(),
                    ))
                    .into_boxed();
                type Row = (String, Option<String>, Option<i32>, String, Option<String>, Option<NaiveDate>);
                let rows: Vec<Row> = scoped!(q, filter, enterprises::area_code, drives::enterprise_id).load(conn)?;
                for (ent, grade, target_year, area, current, valid_until) in rows {
                    let (Some(enterprise_id), Some(target), Some(y)) = (
                        EnterpriseId::parse(&ent),
                        grade.as_deref().and_then(Grade::from_code),
                        target_year,
                    ) else {
                        continue;
                    };
                    let in_force = current
                        .as_deref()
                        .and_then(Grade::from_code)
                        .filter(|_| valid_until.is_some_and(|u| u >= today));
                    if !safegrade_domain::drives::upgrade_due((target, y), in_force, today) {
                        continue;
                    }
                    out.push(Alert {
                        kind: AlertKind::UpgradeTargetDue,
                        enterprise_id,
                        area_code: area,
                        due_on: NaiveDate::from_ymd_opt(y, 1, 1).unwrap_or(today),
                        subject: ("enterprise", ent),
                        rule: "notice 绵应急函〔2020〕42号 二（二）: push central, provincial and municipal-key enterprises to grade 一级 or 二级".into(),
                        next_step: format!("the target of {target} in {y} is not met: follow up the enterprise's upgrade"),
                    });
                }
            }
            out.sort_by(|a, b| {
                (a.due_on, a.kind.as_str(), &a.subject.1).cmp(&(b.due_on, b.kind.as_str(), &b.subject.1))
            });
            Ok(out)
        })
    }
}

/// Certificates grouped by enterprise.
fn by_enterprise(all: Vec<Certificate>) -> HashMap<EnterpriseId, Vec<Certificate>> {
    let mut map: HashMap<EnterpriseId, Vec<Certificate>> = HashMap::new();
    for c in all {
        map.entry(c.data.enterprise_id).or_default().push(c);
    }
    map
}

fn facts(on: NaiveDate, deaths: i32, injured: i32, loss: i64, concealed: bool) -> AccidentFacts {
    AccidentFacts {
        occurred_on: on,
        deaths: u32::try_from(deaths).unwrap_or(0),
        seriously_injured: u32::try_from(injured).unwrap_or(0),
        direct_loss_cny: loss,
        concealed,
    }
}

fn facts_of<'a>(
    all: &'a [(String, AccidentFacts)],
    enterprise: &'a str,
) -> impl Iterator<Item = AccidentFacts> + 'a {
    all.iter()
        .filter(move |(e, _)| e == enterprise)
        .map(|(_, f)| *f)
}
