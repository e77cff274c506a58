//! Alerts (提醒): due actions derived from certificates and accidents on a given day, never
//! stored, so an alert disappears as soon as its cause is resolved (a renewal, a new grade,
//! a revocation decision).
//!
//! Each kind is computed with an indexed query bounded by what can raise it (certificates
//! by `valid_until`, accidents by date and enterprise), never by loading every enterprise.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use safegrade_domain::assessments::{AssessmentKind, AssessmentState};
use safegrade_domain::grading::{
    AccidentFacts, AlertKind, Certificate, CurrentGrade, Grade, GradeRules, sub_months,
};
use safegrade_domain::gradings::{GradingState, Progress, due_on};
use safegrade_domain::insights::alerts;
use safegrade_domain::{CertificateId, CodeList, EnterpriseId, Scope};

use crate::grading::certificates::of_enterprises;
use crate::plumbing::schema::{
    accidents, assessments, drives, enterprises, grade_summaries, gradings, guidance_visits,
    hazards,
};
use crate::{Store, StoreError};

/// One alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Kind.
    pub kind: AlertKind,
    /// The enterprise concerned.
    pub enterprise_id: EnterpriseId,
    /// Its name (企业名称), so a regulator can read the alert without looking it up; empty
    /// until [`Store::name_alerts`] fills it in.
    pub enterprise_name: String,
    /// Its supervision area.
    pub area_code: String,
    /// By when (or since when) the action is due.
    pub due_on: NaiveDate,
    /// The record that raised it: `("certificate" | "accident" | "grading" | "hazard", id)`.
    pub subject: (&'static str, String),
    /// The rule, with its source.
    pub rule: String,
    /// What to do next.
    pub next_step: String,
}

impl Alert {
    /// The alert a domain rule raised about the current grade `g` of an enterprise in
    /// `area`.
    fn new(n: alerts::Notice, enterprise_id: EnterpriseId, g: &CurrentGrade, area: String) -> Self {
        Self {
            kind: n.kind,
            enterprise_id,
            enterprise_name: String::new(),
            area_code: area,
            due_on: n.due_on,
            subject: ("certificate", g.certificate.to_string()),
            rule: n.rule,
            next_step: n.next_step,
        }
    }
}

/// An enterprise's current grade as its summary keeps it: enterprise, certificate, grade,
/// number, issue date, last day of validity, area.
type CurrentGradeRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<NaiveDate>,
    Option<NaiveDate>,
    String,
);

/// The enterprise, its current grade and its area from a summary row; `None` for a summary
/// without a current certificate (the queries ask only for those with one).
fn current_grade(
    row: CurrentGradeRow,
) -> Result<Option<(EnterpriseId, CurrentGrade, String)>, StoreError> {
    let (enterprise, certificate, grade, number, issued_on, valid_until, area) = row;
    let (Some(certificate), Some(grade), Some(number), Some(issued_on), Some(valid_until)) =
        (certificate, grade, number, issued_on, valid_until)
    else {
        return Ok(None);
    };
    let corrupt = |column: &str| {
        StoreError::Other(format!("a stored grade_summaries.{column} is not valid").into())
    };
    Ok(Some((
        EnterpriseId::parse(&enterprise).ok_or_else(|| corrupt("enterprise_id"))?,
        CurrentGrade {
            certificate: CertificateId::parse(&certificate)
                .ok_or_else(|| corrupt("current_certificate_id"))?,
            grade: Grade::from_code(&grade).ok_or_else(|| corrupt("current_grade"))?,
            number,
            issued_on,
            valid_until,
        },
        area,
    )))
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
    /// Fills in the enterprises' names of `alerts` (a page of [`Store::alerts`]: naming only
    /// what is answered keeps a long list cheap).
    pub fn name_alerts(&self, alerts: &mut [Alert]) -> Result<(), StoreError> {
        self.with_read(|conn| name_enterprises(conn, alerts))
    }

    /// The alerts on `today` matching `filter`, ordered by due date, kind and subject.
    pub fn alerts(
        &self,
        filter: &AlertFilter,
        rules: &GradeRules,
        today: NaiveDate,
        window_months: u32,
    ) -> Result<Vec<Alert>, StoreError> {
        // Each enterprise's current grade and area, from its summary alone: the candidates
        // of the grade alerts.
        let current_grades = || {
            grade_summaries::table
                .filter(grade_summaries::current_certificate_id.is_not_null())
                .select((
                    grade_summaries::enterprise_id,
                    grade_summaries::current_certificate_id,
                    grade_summaries::current_grade,
                    grade_summaries::current_number,
                    grade_summaries::current_issued_on,
                    grade_summaries::grade_valid_until,
                    grade_summaries::area_code,
                ))
                .into_boxed()
        };
        self.with_list_read(|conn| {
            let mut out = Vec::new();
            if filter.wants(AlertKind::GradeExpiring) {
                // The enterprises whose current grade (from the summaries) ends within the
                // window, with that certificate.
                let q = current_grades()
                    .filter(grade_summaries::grade_valid_until.ge(today))
                    .filter(
                        grade_summaries::grade_valid_until
                            .le(GradeRules::expiring_until(today, window_months)),
                    );
                let rows: Vec<CurrentGradeRow> = scoped!(
                    q,
                    filter,
                    grade_summaries::area_code,
                    grade_summaries::enterprise_id
                )
                .load(conn)?;
                for row in rows {
                    if let Some((e, g, area)) = current_grade(row)? {
                        let notice = alerts::grade_expiring(rules, &g, today, window_months);
                        out.extend(notice.map(|n| Alert::new(n, e, &g, area)));
                    }
                }
            }
            if filter.wants(AlertKind::AnnualSelfAssessmentMissing) {
                // Enterprises with a grade in force, and when each last submitted a
                // self-assessment.
                let q = current_grades()
                    .filter(grade_summaries::grade_valid_until.ge(today))
                    .filter(grade_summaries::revoked_on.is_null())
                    .filter(
                        grade_summaries::current_issued_on
                            .lt(sub_months(today, rules.self_assessment_interval_months)),
                    );
                let rows: Vec<CurrentGradeRow> = scoped!(
                    q,
                    filter,
                    grade_summaries::area_code,
                    grade_summaries::enterprise_id
                )
                .load(conn)?;
                if !rows.is_empty() {
                    let q = assessments::table
                        .inner_join(enterprises::table)
                        .filter(assessments::kind.eq(AssessmentKind::SelfAssessment.as_str()))
                        .filter(assessments::state.eq(AssessmentState::Submitted.as_str()))
                        .select((assessments::enterprise_id, assessments::submitted_on))
                        .into_boxed();
                    let mut last: HashMap<String, NaiveDate> = HashMap::new();
                    for (e, on) in scoped!(
                        q,
                        filter,
                        enterprises::area_code,
                        assessments::enterprise_id
                    )
                    .load::<(String, Option<NaiveDate>)>(conn)?
                    {
                        if let Some(on) = on {
                            let l = last.entry(e).or_insert(on);
                            *l = (*l).max(on);
                        }
                    }
                    for row in rows {
                        let Some((e, g, area)) = current_grade(row)? else {
                            continue;
                        };
                        let last_self = last.get(&e.to_string()).copied();
                        out.extend(
                            alerts::annual_self_assessment_missing(rules, &g, last_self, today)
                                .map(|n| Alert::new(n, e, &g, area)),
                        );
                    }
                }
            }
            // Open major hazards past their deadline; a revocation trigger too for those of
            // an enterprise holding a grade in force.
            if filter.wants(AlertKind::MajorHazardOverdue)
                || filter.wants(AlertKind::RevocationTrigger)
            {
                use safegrade_domain::hazards::{HazardGrade, HazardState};
                let open = HazardState::OPEN.map(|s| s.as_str());
                let q = hazards::table
                    .inner_join(enterprises::table)
                    .left_join(
                        grade_summaries::table
                            .on(grade_summaries::enterprise_id.eq(hazards::enterprise_id)),
                    )
                    .filter(hazards::grade.eq(HazardGrade::Major.as_str()))
                    .filter(hazards::state.eq_any(open))
                    .filter(hazards::deadline.lt(today))
                    .select((
                        hazards::id,
                        hazards::enterprise_id,
                        enterprises::area_code,
                        hazards::description,
                        hazards::deadline.assume_not_null(),
                        grade_summaries::current_number.nullable(),
                        grade_summaries::grade_valid_until.nullable(),
                        grade_summaries::revoked_on.nullable(),
                    ))
                    .into_boxed();
                type Row = (
                    String,
                    String,
                    String,
                    String,
                    NaiveDate,
                    Option<String>,
                    Option<NaiveDate>,
                    Option<NaiveDate>,
                );
                let rows: Vec<Row> =
                    scoped!(q, filter, enterprises::area_code, hazards::enterprise_id)
                        .load(conn)?;
                for (id, ent, area, description, deadline, number, valid_until, revoked_on) in rows
                {
                    let Some(enterprise_id) = EnterpriseId::parse(&ent) else {
                        continue;
                    };
                    // The number of the grade in force, if there is one.
                    let number = number.filter(|_| {
                        revoked_on.is_none() && valid_until.is_some_and(|u| u >= today)
                    });
                    for n in alerts::major_hazard_overdue(
                        &description,
                        deadline,
                        today,
                        number.as_deref(),
                    ) {
                        if filter.wants(n.kind) {
                            out.push(Alert {
                                kind: n.kind,
                                enterprise_id,
                                enterprise_name: String::new(),
                                area_code: area.clone(),
                                due_on: n.due_on,
                                subject: ("hazard", id.clone()),
                                rule: n.rule,
                                next_step: n.next_step,
                            });
                        }
                    }
                }
            }
            if filter.wants(AlertKind::GradingStepOverdue) {
                // Open applications whose party that must act is late.
                let open = [
                    GradingState::Applied,
                    GradingState::Accepted,
                    GradingState::Rectifying,
                    GradingState::Verifying,
                ]
                .map(|s| s.as_str());
                let q = gradings::table
                    .inner_join(enterprises::table)
                    .filter(gradings::state.eq_any(open))
                    .select((
                        gradings::id,
                        gradings::enterprise_id,
                        enterprises::area_code,
                        gradings::state,
                        gradings::since,
                        gradings::applied_on,
                        gradings::corrected,
                        gradings::extended_by,
                    ))
                    .into_boxed();
                type Row = (
                    String,
                    String,
                    String,
                    String,
                    NaiveDate,
                    NaiveDate,
                    bool,
                    Option<i32>,
                );
                let rows: Vec<Row> =
                    scoped!(q, filter, enterprises::area_code, gradings::enterprise_id)
                        .load(conn)?;
                // The calendar only when there is a deadline to judge.
                let calendar = if rows.is_empty() {
                    Default::default()
                } else {
                    crate::calendar::calendar_of(conn)?
                };
                for (id, ent, area, state, since, applied_on, corrected, extended_by) in rows {
                    let (Some(enterprise_id), Some(state)) =
                        (EnterpriseId::parse(&ent), GradingState::from_code(&state))
                    else {
                        continue;
                    };
                    let progress = Progress {
                        state,
                        since,
                        applied_on,
                        corrected,
                        extended_by: extended_by.and_then(|d| u32::try_from(d).ok()),
                        false_commitment: false,
                    };
                    // A deadline in a year the calendar lacks cannot be judged late.
                    let Ok(Some(due)) = due_on(&progress, &calendar, &rules.grading_limits) else {
                        continue;
                    };
                    if let Some(n) = alerts::grading_step_overdue(state, due, today) {
                        out.push(Alert {
                            kind: n.kind,
                            enterprise_id,
                            enterprise_name: String::new(),
                            area_code: area,
                            due_on: n.due_on,
                            subject: ("grading", id),
                            rule: n.rule,
                            next_step: n.next_step,
                        });
                    }
                }
            }
            if filter.wants(AlertKind::GradeExpired) {
                // The enterprises whose current grade is past its validity, with no later
                // grade and not revoked, with that certificate — including those that must
                // restart after an accident during its validity (status
                // `restart_required`): their accident may lie further back than the
                // accident alerts look, and they must be told to restart all the same.
                let q = current_grades()
                    .filter(grade_summaries::grade_valid_until.lt(today))
                    .filter(grade_summaries::revoked_on.is_null());
                let rows: Vec<CurrentGradeRow> = scoped!(
                    q,
                    filter,
                    grade_summaries::area_code,
                    grade_summaries::enterprise_id
                )
                .load(conn)?;
                for row in rows {
                    if let Some((e, g, area)) = current_grade(row)? {
                        out.extend(
                            alerts::grade_expired(&g, today).map(|n| Alert::new(n, e, &g, area)),
                        );
                    }
                }
            }
            // The accident alerts are also needed when only renewal or self-assessment
            // reminders are asked for: an accident hides them (`alerts::hides`).
            if filter.wants(AlertKind::AccidentDuringValidity)
                || filter.wants(AlertKind::RevocationTrigger)
                || filter.wants(AlertKind::GradeExpiring)
                || filter.wants(AlertKind::AnnualSelfAssessmentMissing)
            {
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
                let rows: Vec<Row> =
                    scoped!(q, filter, enterprises::area_code, accidents::enterprise_id)
                        .load(conn)?;
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
                    let mine: &[Certificate] = certs.get(&enterprise_id).map_or(&[], Vec::as_slice);
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
                    for notice in alerts::accident(rules, &accident, &others, mine) {
                        out.push(Alert {
                            kind: notice.kind,
                            enterprise_id,
                            enterprise_name: String::new(),
                            area_code: area.clone(),
                            due_on: notice.due_on,
                            subject: ("accident", id.clone()),
                            rule: notice.rule,
                            next_step: notice.next_step,
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
                let rows: Vec<Row> = scoped!(
                    q,
                    filter,
                    enterprises::area_code,
                    guidance_visits::enterprise_id
                )
                .load(conn)?;
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
                    let (Some(enterprise_id), Some(due)) =
                        (EnterpriseId::parse(&ent), follow_up_on)
                    else {
                        continue;
                    };
                    let latest_visit = latest.get(&ent).copied().unwrap_or(visited_on);
                    if let Some(n) = alerts::follow_up_due(visited_on, due, latest_visit, today) {
                        out.push(Alert {
                            kind: n.kind,
                            enterprise_id,
                            enterprise_name: String::new(),
                            area_code: area,
                            due_on: n.due_on,
                            subject: ("visit", id),
                            rule: n.rule,
                            next_step: n.next_step,
                        });
                    }
                }
            }
            if filter.wants(AlertKind::UpgradeTargetDue) {
                let year = today.year();
                let q = drives::table
                    .inner_join(enterprises::table)
                    .left_join(
                        grade_summaries::table
                            .on(grade_summaries::enterprise_id.eq(drives::enterprise_id)),
                    )
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
                type Row = (
                    String,
                    Option<String>,
                    Option<i32>,
                    String,
                    Option<String>,
                    Option<NaiveDate>,
                );
                let rows: Vec<Row> =
                    scoped!(q, filter, enterprises::area_code, drives::enterprise_id).load(conn)?;
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
                    if let Some(n) = alerts::upgrade_target_due((target, y), in_force, today) {
                        out.push(Alert {
                            kind: n.kind,
                            enterprise_id,
                            enterprise_name: String::new(),
                            area_code: area,
                            due_on: n.due_on,
                            subject: ("enterprise", ent),
                            rule: n.rule,
                            next_step: n.next_step,
                        });
                    }
                }
            }
            // No two alerts of an enterprise contradict each other.
            let hidden: HashSet<(EnterpriseId, AlertKind)> = out
                .iter()
                .flat_map(|a| alerts::hides(a.kind).iter().map(|k| (a.enterprise_id, *k)))
                .collect();
            out.retain(|a| filter.wants(a.kind) && !hidden.contains(&(a.enterprise_id, a.kind)));
            out.sort_by(|a, b| {
                (a.due_on, a.kind.as_str(), &a.subject.1).cmp(&(
                    b.due_on,
                    b.kind.as_str(),
                    &b.subject.1,
                ))
            });
            Ok(out)
        })
    }
}

/// Fills in the enterprises' names (one query per 1,000 enterprises).
fn name_enterprises(
    conn: &mut crate::plumbing::db::DbConn,
    out: &mut [Alert],
) -> Result<(), StoreError> {
    let names = crate::ledger::enterprises::names_of(conn, out.iter().map(|a| a.enterprise_id))?;
    for a in out {
        if let Some(name) = names.get(&a.enterprise_id) {
            a.enterprise_name.clone_from(name);
        }
    }
    Ok(())
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
