//! Grading applications (定级申请) as a state machine with working-day deadlines, as pure
//! functions over the application's history and the working-day calendar.
//!
//! Rule: 定级办法 — 自评 → 申请 → 受理/审核 → 评审 → 整改 → 公示 → 公告 (domain research §1.4,
//! the sequence (C), the time limits (R)): the organising unit tells the enterprise once, in
//! writing, everything to correct within 5 working days, checks and forwards within 10; the
//! on-site review takes at most 20; the enterprise rectifies within 20, extendable once by at
//! most 20 (late = failed); verification within 10; publicity at least 7 working days; the
//! announcement creates the certificate. A same-grade renewal whose conditions held through
//! the validity goes from acceptance straight to publicity (fast track). The working-day
//! limits are [`GradingLimits`], data the bureau may correct, never scattered constants.

use chrono::NaiveDate;

use crate::calendar::{Calendar, CalendarYearUnknown};
use crate::{CodeList, code_list};

code_list! {
    /// What an application asks for.
    pub enum GradingKind {
        /// A first grading (首次定级).
        First = ("first", "首次定级"),
        /// Re-applying for the same grade before expiry (复评、再次申请定级).
        Renewal = ("renewal", "复评"),
        /// Applying for a higher grade (提档升级).
        Upgrade = ("upgrade", "升级"),
    }
}

code_list! {
    /// Where an application stands.
    pub enum GradingState {
        /// Submitted; the organising unit checks it (受理审核).
        Applied = ("applied", "已申请，待受理"),
        /// The enterprise was told what to correct (补正), once.
        CorrectionRequested = ("correction_requested", "待补正"),
        /// Accepted and forwarded: the on-site review is due (待评审).
        Accepted = ("accepted", "已受理，待评审"),
        /// Non-conformities found: the enterprise rectifies (整改).
        Rectifying = ("rectifying", "整改中"),
        /// Rectification reported: the review team verifies (整改验证).
        Verifying = ("verifying", "整改验证中"),
        /// Publicised (公示); the announcement may follow once it has run its course.
        Publicity = ("publicity", "公示中"),
        /// Announced (公告): the certificate exists.
        Announced = ("announced", "已公告"),
        /// Not accepted (不予受理).
        Rejected = ("rejected", "不予受理"),
        /// Not passed (未通过): a new application waits a year (three after a false
        /// commitment).
        Refused = ("refused", "未通过"),
    }
}

code_list! {
    /// A step taken on an application (`POST /api/v1/gradings/{id}/{step}`).
    pub enum GradingStep {
        /// The organising unit asks, once, for everything to be corrected.
        CorrectionRequest = ("correction_request", "一次性告知补正"),
        /// The enterprise resubmits after a correction request.
        Resubmission = ("resubmission", "补正后重新提交"),
        /// The organising unit accepts, checks and forwards it.
        Acceptance = ("acceptance", "受理并报送"),
        /// The organising unit does not accept it, with reasons.
        Rejection = ("rejection", "不予受理"),
        /// A regulator assigns (or reassigns) the review organisation; the state and its
        /// deadline do not change.
        Assignment = ("assignment", "指派评审机构"),
        /// The on-site review: passed, passed with non-conformities, or failed.
        Review = ("review", "现场评审"),
        /// The enterprise reports its rectification.
        RectificationReport = ("rectification_report", "报告整改情况"),
        /// The rectification deadline is extended once.
        Extension = ("extension", "延长整改期限"),
        /// The review team verifies the rectification: passed or failed.
        RectificationVerification = ("rectification_verification", "整改验证"),
        /// The grading authority publicises the result.
        Publicity = ("publicity", "公示"),
        /// A complaint during publicity and its verification.
        Objection = ("objection", "异议核实"),
        /// The grading authority announces the grade.
        Announcement = ("announcement", "公告"),
        /// The grading authority tells the enterprise it did not pass.
        Refusal = ("refusal", "告知未通过"),
    }
}

impl GradingState {
    /// The states where the procedure has ended (announced, not accepted, not passed).
    pub const CLOSED: [Self; 3] = [Self::Announced, Self::Rejected, Self::Refused];

    /// Whether the procedure is still running.
    pub fn is_open(self) -> bool {
        !Self::CLOSED.contains(&self)
    }
}

/// The working-day limits of the procedure (定级办法, (R)): the bureau corrects them in the
/// grade rules file (`grading_limits`), like the other recalled figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradingLimits {
    /// Telling the enterprise, once, what to correct.
    pub correction_notice: u32,
    /// Checking and forwarding an application.
    pub acceptance: u32,
    /// The on-site review.
    pub review: u32,
    /// The enterprise's rectification.
    pub rectification: u32,
    /// The one extension of the rectification, at most.
    pub extension_max: u32,
    /// Verifying a rectification.
    pub verification: u32,
    /// Publicity, at least.
    pub publicity: u32,
}

impl GradingLimits {
    /// The limits as the research found them (domain research §1.4, (R)).
    pub const BUILTIN: Self = Self {
        correction_notice: 5,
        acceptance: 10,
        review: 20,
        rectification: 20,
        extension_max: 20,
        verification: 10,
        publicity: 7,
    };
}

/// What a review found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewOutcome {
    /// The grade applied for is reached without non-conformities.
    Passed,
    /// Reached once the non-conformities are rectified.
    NonConformities,
    /// Not reached.
    Failed,
}

/// A step with its facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// See [`GradingStep::CorrectionRequest`].
    CorrectionRequest,
    /// See [`GradingStep::Resubmission`].
    Resubmission,
    /// See [`GradingStep::Acceptance`]; `fast_track`: a same-grade renewal whose conditions
    /// held through the validity goes straight to publicity.
    Acceptance {
        /// Straight to publicity.
        fast_track: bool,
    },
    /// See [`GradingStep::Rejection`].
    Rejection,
    /// See [`GradingStep::Assignment`].
    Assignment,
    /// See [`GradingStep::Review`].
    Review(ReviewOutcome),
    /// See [`GradingStep::RectificationReport`].
    RectificationReport,
    /// See [`GradingStep::Extension`], by this many working days.
    Extension(u32),
    /// See [`GradingStep::RectificationVerification`]; `true`: passed.
    RectificationVerification(bool),
    /// See [`GradingStep::Publicity`].
    Publicity,
    /// See [`GradingStep::Objection`]; `true`: the complaint was upheld (the grade fails).
    Objection(bool),
    /// See [`GradingStep::Announcement`].
    Announcement,
    /// See [`GradingStep::Refusal`]; `true`: the commitment was false (3-year bar).
    Refusal(bool),
}

impl Step {
    /// Its code.
    pub fn code(self) -> GradingStep {
        match self {
            Self::CorrectionRequest => GradingStep::CorrectionRequest,
            Self::Resubmission => GradingStep::Resubmission,
            Self::Acceptance { .. } => GradingStep::Acceptance,
            Self::Rejection => GradingStep::Rejection,
            Self::Assignment => GradingStep::Assignment,
            Self::Review(_) => GradingStep::Review,
            Self::RectificationReport => GradingStep::RectificationReport,
            Self::Extension(_) => GradingStep::Extension,
            Self::RectificationVerification(_) => GradingStep::RectificationVerification,
            Self::Publicity => GradingStep::Publicity,
            Self::Objection(_) => GradingStep::Objection,
            Self::Announcement => GradingStep::Announcement,
            Self::Refusal(_) => GradingStep::Refusal,
        }
    }
}

/// Where an application stands and since when: what its deadline is counted from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The state.
    pub state: GradingState,
    /// The day it was entered.
    pub since: NaiveDate,
    /// The day the application was first submitted (the correction notice counts from it).
    pub applied_on: NaiveDate,
    /// A correction was requested already (only once).
    pub corrected: bool,
    /// Extra working days granted to the rectification (one extension).
    pub extended_by: Option<u32>,
    /// A false commitment was found (the 3-year bar).
    pub false_commitment: bool,
}

impl Progress {
    /// A new application submitted on `on`.
    pub fn applied(on: NaiveDate) -> Self {
        Self {
            state: GradingState::Applied,
            since: on,
            applied_on: on,
            corrected: false,
            extended_by: None,
            false_commitment: false,
        }
    }
}

/// Why a step is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GradingRefusal {
    /// The step does not apply in this state.
    #[error("定级申请{}，不能{}", state.label_zh(), step.label_zh())]
    NotNow {
        /// The state.
        state: GradingState,
        /// The step asked.
        step: GradingStep,
    },
    /// A correction was requested already: the rule allows one.
    #[error("已经一次性告知过补正，不能再次要求补正")]
    SecondCorrection,
    /// The rectification was extended already, or by more than allowed.
    #[error("整改期限只能延长一次，且不超过 {max} 个工作日")]
    Extension {
        /// The most allowed.
        max: u32,
    },
    /// The announcement may not come before publicity has run its course.
    #[error("公示不少于 {days} 个工作日，{ends_on} 之后才能公告")]
    PublicityRunning {
        /// The minimum.
        days: u32,
        /// The last day of publicity.
        ends_on: NaiveDate,
    },
    /// A date needs a year the calendar does not know.
    #[error(transparent)]
    Calendar(#[from] CalendarYearUnknown),
    /// The enterprise may not apply now ([`ineligible`]).
    #[error("不能提交定级申请：{}", reasons.join("；"))]
    Ineligible {
        /// Each reason, naming its rule.
        reasons: Vec<String>,
    },
}

/// The day by which the party that must act has to act in `p`, if the state has a deadline
/// (for publicity: its last day, after which the announcement may come).
pub fn due_on(
    p: &Progress,
    cal: &Calendar,
    limits: &GradingLimits,
) -> Result<Option<NaiveDate>, CalendarYearUnknown> {
    let days = match p.state {
        // Checked and forwarded within 10 working days (the correction notice, within 5 of
        // the first submission, is [`correction_due_on`]).
        GradingState::Applied => limits.acceptance,
        GradingState::CorrectionRequested => return Ok(None),
        GradingState::Accepted => limits.review,
        GradingState::Rectifying => limits.rectification + p.extended_by.unwrap_or(0),
        GradingState::Verifying => limits.verification,
        GradingState::Publicity => limits.publicity,
        GradingState::Announced | GradingState::Rejected | GradingState::Refused => {
            return Ok(None);
        }
    };
    cal.add_working_days(p.since, days).map(Some)
}

/// The last day the organising unit may still ask for corrections (5 working days from the
/// application).
pub fn correction_due_on(
    p: &Progress,
    cal: &Calendar,
    limits: &GradingLimits,
) -> Result<NaiveDate, CalendarYearUnknown> {
    cal.add_working_days(p.applied_on, limits.correction_notice)
}

/// Whether the party that must act is late on `today`.
pub fn overdue(
    p: &Progress,
    today: NaiveDate,
    cal: &Calendar,
    limits: &GradingLimits,
) -> Result<bool, CalendarYearUnknown> {
    Ok(p.state != GradingState::Publicity && due_on(p, cal, limits)?.is_some_and(|d| today > d))
}

/// Takes `step` on `on`: the new progress, or why not. A rectification reported after its
/// deadline counts as failed (定级办法: 视为整改不合格).
pub fn take(
    p: &Progress,
    step: Step,
    on: NaiveDate,
    cal: &Calendar,
    limits: &GradingLimits,
) -> Result<Progress, GradingRefusal> {
    use GradingState as S;
    let not_now = || GradingRefusal::NotNow {
        state: p.state,
        step: step.code(),
    };
    let to = |state: S| Progress {
        state,
        since: on,
        ..p.clone()
    };
    Ok(match (p.state, step) {
        (S::Applied, Step::CorrectionRequest) if p.corrected => {
            return Err(GradingRefusal::SecondCorrection);
        }
        (S::Applied, Step::CorrectionRequest) => Progress {
            corrected: true,
            ..to(S::CorrectionRequested)
        },
        (S::CorrectionRequested, Step::Resubmission) => to(S::Applied),
        (S::Applied, Step::Acceptance { fast_track: true }) => to(S::Publicity),
        (S::Applied, Step::Acceptance { fast_track: false }) => to(S::Accepted),
        (S::Applied | S::CorrectionRequested, Step::Rejection) => to(S::Rejected),
        // Until the review work is done: before the review, during rectification and its
        // verification. The deadline keeps counting from where it was.
        (
            S::Applied | S::CorrectionRequested | S::Accepted | S::Rectifying | S::Verifying,
            Step::Assignment,
        ) => p.clone(),
        (S::Accepted, Step::Review(ReviewOutcome::Passed)) => to(S::Publicity),
        (S::Accepted, Step::Review(ReviewOutcome::NonConformities)) => to(S::Rectifying),
        (S::Accepted, Step::Review(ReviewOutcome::Failed)) => to(S::Refused),
        (S::Rectifying, Step::Extension(days)) => {
            if p.extended_by.is_some() || days == 0 || days > limits.extension_max {
                return Err(GradingRefusal::Extension {
                    max: limits.extension_max,
                });
            }
            Progress {
                extended_by: Some(days),
                ..p.clone()
            }
        }
        (S::Rectifying, Step::RectificationReport) => {
            let due = due_on(p, cal, limits)?.unwrap_or(on);
            if on > due {
                to(S::Refused)
            } else {
                to(S::Verifying)
            }
        }
        (S::Verifying, Step::RectificationVerification(true)) => to(S::Publicity),
        (S::Verifying, Step::RectificationVerification(false)) => to(S::Refused),
        (S::Publicity, Step::Objection(true)) => to(S::Refused),
        (S::Publicity, Step::Objection(false)) => p.clone(),
        (S::Publicity, Step::Announcement) => {
            let ends_on = cal.add_working_days(p.since, limits.publicity)?;
            if on <= ends_on {
                return Err(GradingRefusal::PublicityRunning {
                    days: limits.publicity,
                    ends_on,
                });
            }
            to(S::Announced)
        }
        (
            S::Applied | S::Accepted | S::Rectifying | S::Verifying | S::Publicity,
            Step::Refusal(false_commitment),
        ) => Progress {
            false_commitment,
            ..to(S::Refused)
        },
        _ => return Err(not_now()),
    })
}

/// The grading authorities (定级部门) that may announce `grade` (定级办法 on grading
/// authorities, (R); domain research §1.3): the ministry grades 一级, the provincial department
/// 二级, the city department 三级; small and micro enterprises the city, or the county where
/// the province allows it. SafeGrade records a 一级 or 二级 announcement as decided by the
/// ministry or the province.
pub fn announcing_authorities(
    grade: crate::grading::Grade,
) -> &'static [crate::grading::AuthorityLevel] {
    use crate::grading::{AuthorityLevel as A, Grade as G};
    match grade {
        G::Grade1 => &[A::Ministry],
        G::Grade2 => &[A::Province],
        G::Grade3 => &[A::City],
        G::SmallMicro => &[A::City, A::County],
    }
}

/// Who may submit an application: the enterprise itself, its software (a read-write
/// integration) and the regulators.
pub fn may_apply(role: crate::Role, read_only: bool) -> bool {
    use crate::Role as R;
    match role {
        R::CityAdmin | R::CityRegulator | R::AreaRegulator | R::Enterprise => true,
        R::Integration => !read_only,
        R::Reviewer => false,
    }
}

/// Who may take `step`: the enterprise (or its software) resubmits and reports its
/// rectification; the review organisation assigned (`reviewer`) records the review and the
/// verification, as may a read-write integration; the regulators take the organising unit's
/// steps (定级办法: the organising unit acts for the bureau here), and only they assign the
/// review organisation; the grading authority's steps — publicity, objections, the
/// announcement and the refusal — are the city bureau's (county bureaus have no grading
/// power, domain research §1.3).
pub fn may_take(role: crate::Role, read_only: bool, step: GradingStep) -> bool {
    use crate::Role as R;
    use GradingStep as G;
    match role {
        R::CityAdmin | R::CityRegulator => true,
        R::AreaRegulator => !matches!(
            step,
            G::Publicity | G::Objection | G::Announcement | G::Refusal
        ),
        R::Enterprise => matches!(step, G::Resubmission | G::RectificationReport),
        R::Reviewer => matches!(step, G::Review | G::RectificationVerification),
        R::Integration => {
            !read_only
                && matches!(
                    step,
                    G::Resubmission
                        | G::RectificationReport
                        | G::Review
                        | G::RectificationVerification
                )
        }
    }
}

/// What eligibility is judged on, as the system knows it when an application is submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eligibility {
    /// What is applied for.
    pub kind: GradingKind,
    /// The grade applied for.
    pub grade: crate::grading::Grade,
    /// The day of the application.
    pub on: NaiveDate,
    /// The grade in force and its last valid day, if any.
    pub in_force: Option<(crate::grading::Grade, NaiveDate)>,
    /// The enterprise's accidents.
    pub accidents: Vec<crate::grading::AccidentFacts>,
    /// The latest application not passed (refused, not a rejection of incomplete
    /// materials): when, and whether for a false commitment.
    pub last_refusal: Option<(NaiveDate, bool)>,
    /// An application still in progress: its state and the day it was submitted.
    pub open: Option<(GradingState, NaiveDate)>,
    /// How many major hazards of the enterprise are not yet rectified and closed.
    pub open_major_hazards: usize,
    /// The latest revocation of a grade.
    pub last_revocation: Option<NaiveDate>,
}

/// Why an application cannot be submitted, each naming its rule (定级办法 application
/// conditions, (R)); empty when it can. The conditions the system cannot check are the
/// applicant's written commitments.
pub fn ineligible(e: &Eligibility, rules: &crate::grading::GradeRules) -> Vec<String> {
    use crate::grading::add_months;
    let mut why = Vec::new();
    if let Some((state, applied_on)) = e.open {
        why.push(format!(
            "企业 {applied_on} 提交的定级申请仍在办理（{}），办结前不能再次申请",
            state.label_zh()
        ));
    }
    if e.open_major_hazards > 0 {
        why.push(format!(
            "有 {} 项重大事故隐患尚未整改销号（定级办法申请条件第 9 项：发现的重大事故隐患均已整改到位）",
            e.open_major_hazards
        ));
    }
    let (deaths, injured, loss) = crate::grading::totals_before(&e.accidents, e.on, 12);
    if deaths > 0 || rules.revocation_limits.reached(injured, loss) {
        why.push(format!(
            "申请前 1 年内发生死亡事故或累计重伤 {injured} 人、直接经济损失 {loss} 元，达到限值（定级办法申请条件第 4 项）"
        ));
    }
    match e.last_refusal {
        Some((on, true)) if add_months(on, 36) > e.on => why.push(format!(
            "{on} 因承诺不实被终止定级，3 年内不受理申请（{} 起可以申请）",
            add_months(on, 36)
        )),
        Some((on, false)) if add_months(on, 12) > e.on => why.push(format!(
            "{on} 被告知未通过，满 1 年后方可再次申请（{} 起，定级办法申请条件第 7 项）",
            add_months(on, 12)
        )),
        _ => {}
    }
    if let Some(on) = e.last_revocation
        && add_months(on, rules.bar_after_revocation_months) > e.on
    {
        why.push(format!(
            "{on} 被撤销等级，满 {} 个月后方可申请（{} 起，定级办法申请条件第 8 项）",
            rules.bar_after_revocation_months,
            add_months(on, rules.bar_after_revocation_months)
        ));
    }
    let in_force = e.in_force.filter(|(_, until)| *until >= e.on);
    match (e.kind, in_force) {
        (GradingKind::First, Some((g, _))) => why.push(format!(
            "企业已有现行有效的{}，请申请复评或升级",
            g.label_zh()
        )),
        (GradingKind::Renewal, Some((g, until))) => {
            if g != e.grade {
                why.push(format!("复评须申请现行的{}", g.label_zh()));
            }
            let opens = rules.renewal_opens_on(until);
            if e.on < opens {
                why.push(format!(
                    "复评自 {opens} 起才能申请（有效期届满前 {} 个月）",
                    rules.renewal_window_months
                ));
            }
        }
        (GradingKind::Renewal, None) => {
            why.push("没有现行有效的等级，不能复评，须重新创建并申请首次定级".into())
        }
        (GradingKind::Upgrade, Some((g, _))) if e.grade.rank() <= g.rank() => {
            why.push(format!("升级须申请高于现行{}的等级", g.label_zh()));
        }
        (GradingKind::Upgrade, None) => why.push("没有现行有效的等级，不能申请升级".into()),
        _ => {}
    }
    why
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap_or(NaiveDate::MIN)
    }

    fn cal() -> Calendar {
        Calendar::new(crate::calendar::builtin().arrangements.clone())
    }

    const L: GradingLimits = GradingLimits::BUILTIN;

    /// A first grading across the 2024 National Day holiday (10-01 to 10-07 off, Sunday
    /// 09-29 and Saturday 10-12 working days), with the exact due date of each step.
    #[test]
    fn a_first_grading_across_national_day_2024() {
        let c = cal();
        let p = Progress::applied(d("2024-09-25"));
        assert_eq!(correction_due_on(&p, &c, &L), Ok(d("2024-10-08")));
        assert_eq!(due_on(&p, &c, &L), Ok(Some(d("2024-10-14"))));
        let p = take(&p, Step::CorrectionRequest, d("2024-09-30"), &c, &L)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.state, GradingState::CorrectionRequested);
        assert!(take(&p, Step::CorrectionRequest, d("2024-09-30"), &c, &L).is_err());
        let p =
            take(&p, Step::Resubmission, d("2024-10-09"), &c, &L).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            take(&p, Step::CorrectionRequest, d("2024-10-09"), &c, &L),
            Err(GradingRefusal::SecondCorrection)
        );
        // Checked and forwarded within 10 working days of the resubmission.
        assert_eq!(due_on(&p, &c, &L), Ok(Some(d("2024-10-22"))));
        let p = take(
            &p,
            Step::Acceptance { fast_track: false },
            d("2024-10-10"),
            &c,
            &L,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            due_on(&p, &c, &L),
            Ok(Some(d("2024-11-06"))),
            "review within 20"
        );
        assert_eq!(overdue(&p, d("2024-11-06"), &c, &L), Ok(false));
        assert_eq!(overdue(&p, d("2024-11-07"), &c, &L), Ok(true));
        let p = take(
            &p,
            Step::Review(ReviewOutcome::NonConformities),
            d("2024-11-01"),
            &c,
            &L,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            due_on(&p, &c, &L),
            Ok(Some(d("2024-11-29"))),
            "rectification within 20"
        );
        let p = take(&p, Step::Extension(10), d("2024-11-20"), &c, &L)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            due_on(&p, &c, &L),
            Ok(Some(d("2024-12-13"))),
            "extended by 10"
        );
        assert_eq!(
            take(&p, Step::Extension(5), d("2024-11-21"), &c, &L),
            Err(GradingRefusal::Extension { max: 20 })
        );
        let p = take(&p, Step::RectificationReport, d("2024-12-10"), &c, &L)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.state, GradingState::Verifying);
        let p = take(
            &p,
            Step::RectificationVerification(true),
            d("2024-12-16"),
            &c,
            &L,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.state, GradingState::Publicity);
        // Publicity of 7 working days from Mon 12-16: the announcement from 12-26.
        assert_eq!(
            take(&p, Step::Announcement, d("2024-12-25"), &c, &L),
            Err(GradingRefusal::PublicityRunning {
                days: 7,
                ends_on: d("2024-12-25")
            })
        );
        let p = take(&p, Step::Objection(false), d("2024-12-20"), &c, &L)
            .unwrap_or_else(|e| panic!("{e}"));
        let p =
            take(&p, Step::Announcement, d("2024-12-26"), &c, &L).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.state, GradingState::Announced);
    }

    #[test]
    fn late_rectification_fails_and_the_fast_track_skips_the_review() {
        let c = cal();
        let p = Progress {
            state: GradingState::Rectifying,
            since: d("2024-09-02"),
            ..Progress::applied(d("2024-08-01"))
        };
        assert_eq!(due_on(&p, &c, &L), Ok(Some(d("2024-09-30"))));
        let late = take(&p, Step::RectificationReport, d("2024-10-08"), &c, &L)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(late.state, GradingState::Refused, "late = failed");
        let renewal = take(
            &Progress::applied(d("2024-05-06")),
            Step::Acceptance { fast_track: true },
            d("2024-05-08"),
            &c,
            &L,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(renewal.state, GradingState::Publicity);
        assert_eq!(
            take(
                &renewal,
                Step::Review(ReviewOutcome::Passed),
                d("2024-05-09"),
                &c,
                &L
            ),
            Err(GradingRefusal::NotNow {
                state: GradingState::Publicity,
                step: GradingStep::Review
            })
        );
        let refused = take(&renewal, Step::Refusal(true), d("2024-05-10"), &c, &L)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(refused.false_commitment && refused.state == GradingState::Refused);
    }

    #[test]
    fn assignment_keeps_the_state_and_only_regulators_assign() {
        use crate::Role;
        let c = cal();
        let p = Progress {
            state: GradingState::Accepted,
            since: d("2024-09-02"),
            ..Progress::applied(d("2024-08-01"))
        };
        assert_eq!(
            take(&p, Step::Assignment, d("2024-09-10"), &c, &L),
            Ok(p.clone())
        );
        let public = Progress {
            state: GradingState::Publicity,
            ..p
        };
        assert!(take(&public, Step::Assignment, d("2024-09-10"), &c, &L).is_err());
        assert!(may_take(
            Role::AreaRegulator,
            false,
            GradingStep::Assignment
        ));
        assert!(!may_take(Role::Reviewer, false, GradingStep::Assignment));
        assert!(may_take(Role::Reviewer, false, GradingStep::Review));
        assert!(!may_take(Role::Reviewer, false, GradingStep::Acceptance));
        assert!(!may_apply(Role::Reviewer, false));
        assert!(may_take(
            Role::AreaRegulator,
            false,
            GradingStep::Acceptance
        ));
        assert!(!may_take(
            Role::AreaRegulator,
            false,
            GradingStep::Announcement
        ));
        assert!(may_take(
            Role::CityRegulator,
            false,
            GradingStep::Announcement
        ));
        use crate::grading::{AuthorityLevel, Grade};
        assert_eq!(
            announcing_authorities(Grade::Grade2),
            [AuthorityLevel::Province]
        );
    }

    #[test]
    fn eligibility_names_each_rule() {
        use crate::grading::{AccidentFacts, Grade, GradeRules};
        let rules = GradeRules::builtin();
        let base = Eligibility {
            kind: GradingKind::First,
            grade: Grade::Grade3,
            on: d("2024-10-10"),
            in_force: None,
            accidents: vec![],
            last_refusal: None,
            last_revocation: None,
            open: None,
            open_major_hazards: 0,
        };
        assert!(ineligible(&base, rules).is_empty());
        let busy = Eligibility {
            open: Some((GradingState::Rectifying, d("2024-06-03"))),
            ..base.clone()
        };
        assert!(ineligible(&busy, rules)[0].contains("2024-06-03"));
        let hazardous = Eligibility {
            open_major_hazards: 2,
            ..base.clone()
        };
        assert!(ineligible(&hazardous, rules)[0].contains("第 9 项"));
        let blocked = Eligibility {
            accidents: vec![AccidentFacts {
                occurred_on: d("2024-03-01"),
                deaths: 1,
                seriously_injured: 0,
                direct_loss_cny: 0,
                concealed: false,
            }],
            last_refusal: Some((d("2024-01-01"), false)),
            last_revocation: Some(d("2024-02-01")),
            ..base.clone()
        };
        let why = ineligible(&blocked, rules);
        assert_eq!(why.len(), 3, "{why:?}");
        assert!(
            why[1].contains("2025-01-01") && why[2].contains("2025-02-01"),
            "{why:?}"
        );
        let early = Eligibility {
            kind: GradingKind::Renewal,
            in_force: Some((Grade::Grade3, d("2025-06-01"))),
            ..base.clone()
        };
        assert!(ineligible(&early, rules)[0].contains("2025-03-01"));
        let upgrade = Eligibility {
            kind: GradingKind::Upgrade,
            in_force: Some((Grade::Grade2, d("2025-06-01"))),
            ..base
        };
        assert_eq!(ineligible(&upgrade, rules).len(), 1);
    }

    #[test]
    fn a_deadline_in_an_unknown_year_is_refused() {
        let p = Progress::applied(d("2026-12-24"));
        assert_eq!(
            due_on(&p, &cal(), &L),
            Err(CalendarYearUnknown { year: 2027 })
        );
    }
}
