//! Creation and upgrade drives (创建达标、提档升级): what the bureaus do to push unattained
//! enterprises to create and attained ones to upgrade.
//!
//! Rule: notice 绵应急函〔2020〕42号 二（一） (enterprises that have not started or do not meet
//! the requirements become a supervision focus, with guidance to create) and 二（二） (model
//! enterprises; central, provincial and municipal-key enterprises aim at 一级 or 二级). See
//! `book/src/grades/drives.md`.

use chrono::{Datelike, NaiveDate};

use crate::code_list;
use crate::grading::Grade;

/// Why a change to a drive is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriveRefusal {
    /// A new creation stage dated before the current stage began: the stages are a
    /// history, each later than the one before.
    #[error("创建阶段自 {since} 起为 {current}：新阶段不能早于该日期开始（{asked}）")]
    StageBeforeCurrent {
        /// The current stage.
        current: CreationStage,
        /// Since when it holds.
        since: NaiveDate,
        /// The date asked for the new stage.
        asked: NaiveDate,
    },
}

/// Changing a drive: a new creation stage must begin on or after the current stage's date
/// (going back to an earlier stage, as after a refused application, is allowed, on a later
/// date). Everything else in a drive may change freely.
pub fn change(current: &Drive, new: &Drive) -> Result<(), DriveRefusal> {
    if new.creation_stage != current.creation_stage
        && let (Some(since), Some(asked)) = (current.stage_since, new.stage_since)
        && asked < since
    {
        return Err(DriveRefusal::StageBeforeCurrent {
            current: current.creation_stage,
            since,
            asked,
        });
    }
    Ok(())
}
use crate::plumbing::validation::{Checker, Violation, ViolationCode as V};

code_list! {
    /// Where an enterprise stands in creating its standardization system (创建阶段).
    pub enum CreationStage {
        /// Not started.
        NotStarted = ("not_started", "未启动"),
        /// Building the system.
        Creating = ("creating", "创建中"),
        /// Self-assessed (自评).
        SelfAssessed = ("self_assessed", "已自评"),
        /// Applied for grading (申请定级).
        Applied = ("applied", "已申请定级"),
    }
}

/// Limits of drive fields.
pub mod drive_limits {
    /// Reasons and notes.
    pub const NOTE: usize = 200;
    /// A visitor's name.
    pub const VISITOR: usize = 100;
    /// Findings of a visit.
    pub const FINDINGS: usize = 1000;
    /// Earliest and latest upgrade target year.
    pub const YEARS: (i64, i64) = (2020, 2100);
}

/// The drive record of one enterprise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drive {
    /// Supervision focus (纳入监管重点): why and since when, or `None`.
    pub focus: Option<(String, NaiveDate)>,
    /// Creation stage and since when.
    pub creation_stage: CreationStage,
    /// Since when the stage holds (`None` for `not_started`).
    pub stage_since: Option<NaiveDate>,
    /// A model enterprise (典型) with a note, or `None`.
    pub model: Option<String>,
    /// Upgrade target (提档升级目标): grade and year, or `None`.
    pub upgrade_target: Option<(Grade, i32)>,
}

impl Default for Drive {
    fn default() -> Self {
        Self {
            focus: None,
            creation_stage: CreationStage::NotStarted,
            stage_since: None,
            model: None,
            upgrade_target: None,
        }
    }
}

/// Unvalidated drive input (a merge patch applied to the current drive).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriveInput {
    /// Whether the enterprise is a supervision focus.
    pub supervision_focus: Option<bool>,
    /// Why (required with a focus).
    pub focus_reason: Option<String>,
    /// Since when (`YYYY-MM-DD`, required with a focus).
    pub focus_since: Option<String>,
    /// Creation stage (`not_started` when absent).
    pub creation_stage: Option<String>,
    /// Since when the stage holds (required unless `not_started`).
    pub stage_since: Option<String>,
    /// Whether it is a model enterprise.
    pub model_enterprise: Option<bool>,
    /// A note on why it is a model.
    pub model_note: Option<String>,
    /// Target grade (一级 or 二级 or 三级), with `upgrade_target_year`.
    pub upgrade_target_grade: Option<String>,
    /// Target year, with `upgrade_target_grade`.
    pub upgrade_target_year: Option<i64>,
}

impl From<&Drive> for DriveInput {
    fn from(d: &Drive) -> Self {
        Self {
            supervision_focus: Some(d.focus.is_some()),
            focus_reason: d.focus.as_ref().map(|(r, _)| r.clone()),
            focus_since: d.focus.as_ref().map(|(_, s)| s.to_string()),
            creation_stage: Some(crate::CodeList::as_str(&d.creation_stage).to_owned()),
            stage_since: d.stage_since.map(|s| s.to_string()),
            model_enterprise: Some(d.model.is_some()),
            model_note: d.model.clone(),
            upgrade_target_grade: d
                .upgrade_target
                .map(|(g, _)| crate::CodeList::as_str(&g).to_owned()),
            upgrade_target_year: d.upgrade_target.map(|(_, y)| i64::from(y)),
        }
    }
}

fn date(c: &mut Checker, field: &str, raw: Option<&str>, today: NaiveDate) -> Option<NaiveDate> {
    let raw = raw?;
    match NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d") {
        Ok(d) if d <= today => Some(d),
        Ok(d) => {
            c.fail(
                field,
                V::OutOfRange,
                format!("{field} {d} 晚于今天（{today}）"),
            );
            None
        }
        Err(_) => {
            c.fail(
                field,
                V::InvalidValue,
                format!("{field} 须为日期 YYYY-MM-DD，实际为 '{raw}'"),
            );
            None
        }
    }
}

impl DriveInput {
    /// Checks every field at once: a focus needs its reason and date (and none without it),
    /// a stage after `not_started` its date, a model its note, an upgrade target both a grade
    /// (一级, 二级 or 三级) and a year.
    pub fn validate(&self, today: NaiveDate) -> Result<Drive, Vec<Violation>> {
        let mut c = Checker::default();
        let focus = match self.supervision_focus.unwrap_or(false) {
            true => {
                let reason = c
                    .required("focus_reason", &self.focus_reason)
                    .and_then(|v| c.text("focus_reason", Some(v), drive_limits::NOTE));
                let since = c
                    .required("focus_since", &self.focus_since)
                    .and_then(|v| date(&mut c, "focus_since", Some(v), today));
                reason.zip(since)
            }
            false => {
                for (f, v) in [
                    ("focus_reason", &self.focus_reason),
                    ("focus_since", &self.focus_since),
                ] {
                    if v.is_some() {
                        c.fail(
                            f,
                            V::NotApplicable,
                            format!("{f} 只在 supervision_focus 为 true 时填写"),
                        );
                    }
                }
                None
            }
        };
        let creation_stage: CreationStage = c
            .code(
                "creation_stage",
                Some(self.creation_stage.as_deref().unwrap_or("not_started")),
            )
            .unwrap_or(CreationStage::NotStarted);
        let stage_since = match (creation_stage, &self.stage_since) {
            (CreationStage::NotStarted, Some(_)) => {
                c.fail(
                    "stage_since",
                    V::NotApplicable,
                    "stage_since 只在开始创建后填写",
                );
                None
            }
            (CreationStage::NotStarted, None) => None,
            (_, raw) => c
                .required("stage_since", raw)
                .and_then(|v| date(&mut c, "stage_since", Some(v), today)),
        };
        let model = match self.model_enterprise.unwrap_or(false) {
            true => c
                .required("model_note", &self.model_note)
                .and_then(|v| c.text("model_note", Some(v), drive_limits::NOTE)),
            false => {
                if self.model_note.is_some() {
                    c.fail(
                        "model_note",
                        V::NotApplicable,
                        "model_note 只在 model_enterprise 为 true 时填写",
                    );
                }
                None
            }
        };
        let upgrade_target = match (&self.upgrade_target_grade, self.upgrade_target_year) {
            (None, None) => None,
            (grade, year) => {
                let g: Option<Grade> = c
                    .required("upgrade_target_grade", grade)
                    .and_then(|v| c.code("upgrade_target_grade", Some(v)));
                if g == Some(Grade::SmallMicro) {
                    c.fail(
                        "upgrade_target_grade",
                        V::InvalidValue,
                        "提档升级目标须为 grade_1、grade_2 或 grade_3",
                    );
                }
                let y = match year {
                    None => {
                        c.fail(
                            "upgrade_target_year",
                            V::Required,
                            "填写目标等级时 upgrade_target_year 为必填",
                        );
                        None
                    }
                    Some(y) if (drive_limits::YEARS.0..=drive_limits::YEARS.1).contains(&y) => {
                        i32::try_from(y).ok()
                    }
                    Some(y) => {
                        c.fail(
                            "upgrade_target_year",
                            V::OutOfRange,
                            format!(
                                "upgrade_target_year 须在 {} 到 {} 之间，实际为 {y}",
                                drive_limits::YEARS.0,
                                drive_limits::YEARS.1
                            ),
                        );
                        None
                    }
                };
                g.zip(y)
            }
        };
        if c.violations.is_empty() {
            Ok(Drive {
                focus,
                creation_stage,
                stage_since,
                model,
                upgrade_target,
            })
        } else {
            Err(c.violations)
        }
    }
}

/// A guidance visit (督促指导).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    /// When.
    pub visited_on: NaiveDate,
    /// Who visited.
    pub visitor: String,
    /// What was found and asked.
    pub findings: String,
    /// When to follow up, if a follow-up is due.
    pub follow_up_on: Option<NaiveDate>,
}

/// Unvalidated visit input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VisitInput {
    /// `YYYY-MM-DD`, not after today.
    pub visited_on: Option<String>,
    /// Who visited.
    pub visitor: Option<String>,
    /// What was found and asked.
    pub findings: Option<String>,
    /// `YYYY-MM-DD`, after the visit.
    pub follow_up_on: Option<String>,
}

impl VisitInput {
    /// Checks every field at once.
    pub fn validate(&self, today: NaiveDate) -> Result<Visit, Vec<Violation>> {
        let mut c = Checker::default();
        let visited_on = c
            .required("visited_on", &self.visited_on)
            .and_then(|v| date(&mut c, "visited_on", Some(v), today));
        let visitor = c
            .required("visitor", &self.visitor)
            .and_then(|v| c.text("visitor", Some(v), drive_limits::VISITOR));
        let findings = c
            .required("findings", &self.findings)
            .and_then(|v| c.text("findings", Some(v), drive_limits::FINDINGS));
        let follow_up_on = match &self.follow_up_on {
            Some(raw) => match NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d") {
                Ok(d) if visited_on.is_none_or(|v| d > v) => Some(d),
                Ok(d) => {
                    c.fail(
                        "follow_up_on",
                        V::OutOfRange,
                        format!("follow_up_on {d} 须晚于本次督促指导日期"),
                    );
                    None
                }
                Err(_) => {
                    c.fail(
                        "follow_up_on",
                        V::InvalidValue,
                        format!("follow_up_on 须为日期 YYYY-MM-DD，实际为 '{raw}'"),
                    );
                    None
                }
            },
            None => None,
        };
        match (visited_on, visitor, findings) {
            (Some(visited_on), Some(visitor), Some(findings)) if c.violations.is_empty() => {
                Ok(Visit {
                    visited_on,
                    visitor,
                    findings,
                    follow_up_on,
                })
            }
            _ => Err(c.violations),
        }
    }
}

/// Whether an upgrade target of `target` for `year` is due on `today` without the grade:
/// the target year has begun and the grade in force (if any) is below the target.
/// Rule: notice 二（二） (upgrade drive).
pub fn upgrade_due(target: (Grade, i32), in_force: Option<Grade>, today: NaiveDate) -> bool {
    today.year() >= target.1 && in_force.is_none_or(|g| g.rank() < target.0.rank())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or(NaiveDate::MIN)
    }

    fn pointers(r: Result<Drive, Vec<Violation>>) -> Vec<String> {
        r.err()
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.pointer)
            .collect()
    }

    #[test]
    fn drives_need_their_reasons_and_dates() {
        let today = day("2024-06-01");
        let focus = DriveInput {
            supervision_focus: Some(true),
            ..Default::default()
        };
        assert_eq!(
            pointers(focus.validate(today)),
            vec!["/focus_reason", "/focus_since"]
        );
        let stray = DriveInput {
            focus_reason: Some("x".into()),
            ..Default::default()
        };
        assert_eq!(pointers(stray.validate(today)), vec!["/focus_reason"]);
        let stage = DriveInput {
            creation_stage: Some("creating".into()),
            ..Default::default()
        };
        assert_eq!(pointers(stage.validate(today)), vec!["/stage_since"]);
        let target = DriveInput {
            upgrade_target_grade: Some("small_micro".into()),
            ..Default::default()
        };
        assert_eq!(
            pointers(target.validate(today)),
            vec!["/upgrade_target_grade", "/upgrade_target_year"]
        );
        let ok = DriveInput {
            supervision_focus: Some(true),
            focus_reason: Some("未开展创建".into()),
            focus_since: Some("2024-01-02".into()),
            creation_stage: Some("self_assessed".into()),
            stage_since: Some("2024-05-01".into()),
            upgrade_target_grade: Some("grade_2".into()),
            upgrade_target_year: Some(2025),
            ..Default::default()
        };
        let d = ok.validate(today).unwrap_or_default();
        assert_eq!(d.upgrade_target, Some((Grade::Grade2, 2025)));
        assert_eq!(DriveInput::from(&d).validate(today), Ok(d), "round trip");
    }

    #[test]
    fn upgrade_targets_fall_due_in_their_year_without_the_grade() {
        let t = (Grade::Grade2, 2025);
        assert!(!upgrade_due(t, None, day("2024-12-31")));
        assert!(upgrade_due(t, None, day("2025-01-01")));
        assert!(upgrade_due(t, Some(Grade::Grade3), day("2025-06-01")));
        assert!(!upgrade_due(t, Some(Grade::Grade2), day("2025-06-01")));
        assert!(!upgrade_due(t, Some(Grade::Grade1), day("2025-06-01")));
    }
}

#[cfg(test)]
mod stage_tests {
    use super::*;

    fn at(stage: CreationStage, since: Option<&str>) -> Drive {
        Drive {
            creation_stage: stage,
            stage_since: since.and_then(|s| s.parse().ok()),
            ..Drive::default()
        }
    }

    #[test]
    fn a_new_stage_cannot_begin_before_the_current_one() {
        let applied = at(CreationStage::Applied, Some("2025-05-01"));
        assert!(change(&applied, &at(CreationStage::Creating, Some("2025-05-01"))).is_ok());
        assert!(change(&applied, &at(CreationStage::Creating, Some("2025-06-01"))).is_ok());
        assert!(matches!(
            change(&applied, &at(CreationStage::Creating, Some("2025-01-01"))),
            Err(DriveRefusal::StageBeforeCurrent { .. })
        ));
        // The same stage with a corrected date is a correction, not a new stage.
        assert!(change(&applied, &at(CreationStage::Applied, Some("2025-04-01"))).is_ok());
        assert!(
            change(
                &Drive::default(),
                &at(CreationStage::Creating, Some("2020-01-01"))
            )
            .is_ok()
        );
    }
}
