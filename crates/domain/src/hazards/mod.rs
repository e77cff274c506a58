//! Hidden hazards (事故隐患): registration, grade, and the closed loop of rectification as
//! pure transitions over a hazard's progress.
//!
//! Rules (domain research §5.3, §14): a hazard is **major** (重大事故隐患) when it matches an
//! item of the applicable determination standard ([`criteria`]), or when a regulator decides
//! so with a reason; otherwise general (一般). A general hazard may be fixed on the spot
//! (即查即改). A major hazard is rectified under a plan with the five implementations (五落实:
//! measures, responsibility, funds, deadline, contingency plan) organised by the principal
//! (主要负责人); closing needs acceptance by a named person with an opinion, and for a major
//! hazard the post-rectification assessment. Deadline extensions are requested with a reason
//! and decided by the regulator; a regulator may list a major hazard for supervision (挂牌督办)
//! and de-list it once closed. An open major hazard past its deadline is a revocation trigger
//! of a grade in force (定级办法 revocation item 8) and makes a grading application ineligible
//! (application condition 9).

pub mod criteria;

use chrono::NaiveDate;

use crate::{CodeList, code_list};

code_list! {
    /// A hazard's grade (隐患等级; national code in brackets).
    pub enum HazardGrade {
        /// 一般事故隐患 (0): low harm, easy to fix.
        General = ("general", "一般事故隐患"),
        /// 重大事故隐患 (1): matches a determination criterion, or so decided by a regulator.
        Major = ("major", "重大事故隐患"),
    }
}

code_list! {
    /// How the hazard was found (隐患来源; national codes 1–10).
    pub enum HazardSource {
        /// 1 日常排查.
        Routine = ("routine", "日常排查"),
        /// 2 综合性排查.
        Comprehensive = ("comprehensive", "综合性排查"),
        /// 3 专业性排查.
        Professional = ("professional", "专业性排查"),
        /// 4 季节性排查.
        Seasonal = ("seasonal", "季节性排查"),
        /// 5 重点时段及节假日前排查.
        KeyPeriod = ("key_period", "重点时段及节假日前排查"),
        /// 6 事故类比排查.
        AccidentAnalogy = ("accident_analogy", "事故类比排查"),
        /// 7 复产复工前排查.
        BeforeResumption = ("before_resumption", "复产复工前排查"),
        /// 8 外聘专家诊断式排查.
        ExpertDiagnosis = ("expert_diagnosis", "外聘专家诊断式排查"),
        /// 9 管控措施失效.
        MeasureFailed = ("measure_failed", "管控措施失效"),
        /// 10 其他.
        Other = ("other", "其他"),
    }
}

code_list! {
    /// The hazard's type (隐患类型; national codes 1–8).
    pub enum HazardType {
        /// 1 安全.
        Safety = ("safety", "安全"),
        /// 2 工艺.
        Process = ("process", "工艺"),
        /// 3 电气.
        Electrical = ("electrical", "电气"),
        /// 4 仪表.
        Instrumentation = ("instrumentation", "仪表"),
        /// 5 消防.
        Fire = ("fire", "消防"),
        /// 6 总图.
        Layout = ("layout", "总图"),
        /// 7 设备.
        Equipment = ("equipment", "设备"),
        /// 8 其他.
        Other = ("other", "其他"),
    }
}

code_list! {
    /// The management class (隐患管理类别; national codes 1–3).
    pub enum ManagementClass {
        /// 1 人的不安全行为.
        UnsafeAct = ("unsafe_act", "人的不安全行为"),
        /// 2 物的不安全状态.
        UnsafeCondition = ("unsafe_condition", "物的不安全状态"),
        /// 3 管理缺陷.
        ManagementDefect = ("management_defect", "管理缺陷"),
    }
}

code_list! {
    /// Where a hazard stands.
    pub enum HazardState {
        /// Registered (登记), not yet under rectification.
        Registered = ("registered", "已登记"),
        /// Under rectification (整改中).
        Rectifying = ("rectifying", "整改中"),
        /// Rectified, awaiting acceptance (待验收).
        AwaitingAcceptance = ("awaiting_acceptance", "待验收"),
        /// Accepted and closed (已销号).
        Closed = ("closed", "已销号"),
        /// A general hazard fixed at once when found (即查即改).
        FixedOnTheSpot = ("fixed_on_the_spot", "即查即改"),
    }
}

code_list! {
    /// A step taken on a hazard (`POST /api/v1/hazards/{id}/{step}`).
    pub enum HazardStep {
        /// A general hazard fixed at once (即查即改).
        FixOnTheSpot = ("fix_on_the_spot", "即查即改"),
        /// Rectification starts: a deadline; for a major hazard the 五落实 plan and the
        /// principal.
        Rectification = ("rectification", "开始整改"),
        /// The enterprise reports the rectification done and asks for acceptance.
        Completion = ("completion", "整改完成"),
        /// Acceptance by a named person: passed (closed) or not (back to rectifying).
        Acceptance = ("acceptance", "验收"),
        /// A regulator grades the hazard major, with a reason (or a criterion).
        Regrade = ("regrade", "认定为重大事故隐患"),
        /// The enterprise asks for a later deadline, with a reason.
        ExtensionRequest = ("extension_request", "申请延期"),
        /// The regulator decides on the extension asked.
        ExtensionDecision = ("extension_decision", "延期审批"),
        /// A regulator lists a major hazard for supervision (挂牌督办).
        Listing = ("listing", "挂牌督办"),
        /// A regulator de-lists it once closed (摘牌).
        Delisting = ("delisting", "摘牌"),
    }
}

impl HazardState {
    /// The states still to be rectified or accepted.
    pub const OPEN: [Self; 3] = [Self::Registered, Self::Rectifying, Self::AwaitingAcceptance];

    /// Still to be rectified or accepted.
    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }
}

/// The five implementations (五落实) of a major hazard's rectification plan, with the
/// principal who organises it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Plan {
    /// 措施: the rectification measures.
    pub measures: String,
    /// 责任: the responsible person (or body).
    pub responsible: String,
    /// 资金: the funds, in CNY.
    pub funds_cny: i64,
    /// 时限: the deadline.
    pub deadline: NaiveDate,
    /// 预案: the safety measures and contingency plan during rectification.
    pub contingency: String,
    /// The principal (主要负责人) who organises it.
    pub principal: String,
}

/// Listed supervision (挂牌督办) of a major hazard.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Listing {
    /// The level, like 市级 or 县级.
    pub level: String,
    /// The supervising authority.
    pub authority: String,
    /// The listing document number.
    pub document_no: String,
    /// Listed on.
    pub listed_on: NaiveDate,
    /// The rectification deadline the listing sets.
    pub deadline: NaiveDate,
    /// The public notice of the listing, when given.
    pub notice_on: Option<NaiveDate>,
    /// De-listed on (摘牌).
    pub delisted_on: Option<NaiveDate>,
    /// The public notice of the de-listing, when given.
    pub delisting_notice_on: Option<NaiveDate>,
}

/// The parameters of listed supervision (挂牌督办) a city sets (`listed_supervision` in the
/// rules file). The built-in values are one published municipal scheme's (domain research
/// §14, (R)): an example of what must be configurable, not a Sichuan rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListedSupervision {
    /// The longest rectification period a listing may set, in months (≤ 1 year).
    pub max_rectification_months: u32,
    /// Working days within which the listing and the de-listing are publicly noticed.
    pub notice_working_days: u32,
    /// Working days before the deadline by which a listed hazard's extension is requested.
    pub extension_lead_working_days: u32,
}

impl ListedSupervision {
    /// The example scheme's values: 12 months, notices within 5 working days, extensions
    /// asked at least 20 working days before the deadline.
    pub const BUILTIN: Self = Self {
        max_rectification_months: 12,
        notice_working_days: 5,
        extension_lead_working_days: 20,
    };

    /// Checks a listing, a de-listing or a listed hazard's extension request taken on `on`
    /// against these parameters; a day the calendar does not know is not held against the
    /// request (the working days cannot be counted).
    pub fn check(
        &self,
        p: &Progress,
        step: &Step,
        on: NaiveDate,
        calendar: &crate::calendar::Calendar,
    ) -> Result<(), HazardRefusal> {
        let notice_late = |notice: Option<NaiveDate>| {
            let due = calendar.add_working_days(on, self.notice_working_days).ok();
            matches!((notice, due), (Some(n), Some(d)) if n > d || n < on)
        };
        match step {
            Step::Listing(l) => {
                let latest = on
                    .checked_add_months(chrono::Months::new(self.max_rectification_months))
                    .unwrap_or(NaiveDate::MAX);
                if l.deadline > latest {
                    return Err(HazardRefusal::ListingTooLong {
                        months: self.max_rectification_months,
                        latest,
                    });
                }
                if notice_late(l.notice_on) {
                    return Err(HazardRefusal::NoticeLate {
                        days: self.notice_working_days,
                    });
                }
            }
            Step::Delisting { notice_on } if notice_late(*notice_on) => {
                return Err(HazardRefusal::NoticeLate {
                    days: self.notice_working_days,
                });
            }
            Step::ExtensionRequest { .. } => {
                let listed = p.listing.as_ref().is_some_and(|l| l.delisted_on.is_none());
                let left = p
                    .effective_deadline()
                    .and_then(|d| calendar.working_days_between(on, d).ok());
                if let (true, Some(left)) = (listed, left)
                    && left < i64::from(self.extension_lead_working_days)
                {
                    return Err(HazardRefusal::ExtensionTooLate {
                        days: self.extension_lead_working_days,
                        left,
                    });
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// A request for a later deadline.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Extension {
    /// The deadline asked for.
    pub deadline: NaiveDate,
    /// Why.
    pub reason: String,
    /// Asked on.
    pub requested_on: NaiveDate,
    /// The decision: `None` while pending.
    pub approved: Option<bool>,
    /// Decided on.
    pub decided_on: Option<NaiveDate>,
}

/// The acceptance that closed (or returned) a hazard.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Acceptance {
    /// Who accepted (a named person).
    pub by: String,
    /// On.
    pub on: NaiveDate,
    /// The opinion.
    pub opinion: String,
    /// Passed: closed; otherwise back to rectification.
    pub passed: bool,
    /// For a major hazard: the post-rectification assessment (整改后评估).
    pub assessment: Option<String>,
}

/// What the lifecycle needs of a hazard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// State.
    pub state: HazardState,
    /// Grade.
    pub grade: HazardGrade,
    /// The rectification deadline, once set.
    pub deadline: Option<NaiveDate>,
    /// The 五落实 plan (major hazards).
    pub plan: Option<Plan>,
    /// Listed supervision.
    pub listing: Option<Listing>,
    /// The extensions asked, in order (the last may be pending).
    pub extensions: Vec<Extension>,
    /// The last acceptance.
    pub acceptance: Option<Acceptance>,
}

impl Progress {
    /// A hazard just registered with `grade`.
    pub fn registered(grade: HazardGrade) -> Self {
        Self {
            state: HazardState::Registered,
            grade,
            deadline: None,
            plan: None,
            listing: None,
            extensions: Vec::new(),
            acceptance: None,
        }
    }

    /// Whether it is open and past its deadline on `today` (a listing's deadline counts
    /// when earlier).
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.state.is_open() && self.effective_deadline().is_some_and(|d| today > d)
    }

    /// The deadline in force: the rectification deadline, or a listing's if earlier.
    pub fn effective_deadline(&self) -> Option<NaiveDate> {
        let listed = self
            .listing
            .as_ref()
            .filter(|l| l.delisted_on.is_none())
            .map(|l| l.deadline);
        match (self.deadline, listed) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// A step with its facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// See [`HazardStep::FixOnTheSpot`].
    FixOnTheSpot,
    /// See [`HazardStep::Rectification`]: a general hazard's deadline, or a major hazard's
    /// plan (its deadline is the plan's).
    Rectification {
        /// The deadline (general hazards).
        deadline: Option<NaiveDate>,
        /// The plan (major hazards).
        plan: Option<Plan>,
    },
    /// See [`HazardStep::Completion`].
    Completion,
    /// See [`HazardStep::Acceptance`].
    Acceptance(Acceptance),
    /// See [`HazardStep::Regrade`].
    Regrade,
    /// See [`HazardStep::ExtensionRequest`].
    ExtensionRequest {
        /// The deadline asked for.
        deadline: NaiveDate,
        /// Why.
        reason: String,
    },
    /// See [`HazardStep::ExtensionDecision`].
    ExtensionDecision {
        /// Approved.
        approved: bool,
    },
    /// See [`HazardStep::Listing`].
    Listing(Listing),
    /// See [`HazardStep::Delisting`]: on, and the notice day.
    Delisting {
        /// The notice of the de-listing.
        notice_on: Option<NaiveDate>,
    },
}

impl Step {
    /// Its code.
    pub fn code(&self) -> HazardStep {
        match self {
            Self::FixOnTheSpot => HazardStep::FixOnTheSpot,
            Self::Rectification { .. } => HazardStep::Rectification,
            Self::Completion => HazardStep::Completion,
            Self::Acceptance(_) => HazardStep::Acceptance,
            Self::Regrade => HazardStep::Regrade,
            Self::ExtensionRequest { .. } => HazardStep::ExtensionRequest,
            Self::ExtensionDecision { .. } => HazardStep::ExtensionDecision,
            Self::Listing(_) => HazardStep::Listing,
            Self::Delisting { .. } => HazardStep::Delisting,
        }
    }
}

/// Why a step is refused (409 `hazard_step_not_allowed`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HazardRefusal {
    /// The step does not apply in this state.
    #[error("隐患{}，不能{}", state.label_zh(), step.label_zh())]
    NotNow {
        /// The state.
        state: HazardState,
        /// The step asked.
        step: HazardStep,
    },
    /// Only a general hazard is fixed on the spot.
    #[error("重大事故隐患不能即查即改，须按五落实方案整改")]
    MajorOnTheSpot,
    /// A major hazard needs its 五落实 plan and principal to start rectifying.
    #[error(
        "重大事故隐患须先制定五落实方案（措施、责任、资金、时限、预案）并写明主要负责人，才能开始整改"
    )]
    NoPlan,
    /// A general hazard needs a deadline.
    #[error("限期整改须写明整改期限（deadline）")]
    NoDeadline,
    /// A deadline before the day.
    #[error("整改期限 {deadline} 早于办理日期 {on}")]
    PastDeadline {
        /// The deadline.
        deadline: NaiveDate,
        /// The day.
        on: NaiveDate,
    },
    /// A major hazard closes only with the post-rectification assessment.
    #[error("重大事故隐患验收销号须附整改后评估（assessment）")]
    NoAssessment,
    /// An extension must ask for a later deadline, one at a time.
    #[error("延期须晚于现行期限 {current}，且同一时间只能有一项待审批的延期申请")]
    Extension {
        /// The deadline in force.
        current: NaiveDate,
    },
    /// No extension is pending.
    #[error("没有待审批的延期申请")]
    NoPendingExtension,
    /// Listing is for open major hazards, once.
    #[error("只有未销号的重大事故隐患可以挂牌督办，且不能重复挂牌")]
    Listing,
    /// De-listing needs a listing and a closed hazard.
    #[error("摘牌须先挂牌，且隐患已验收销号")]
    Delisting,
    /// A listing's deadline beyond the longest rectification period.
    #[error("挂牌督办的整改期限最长 {months} 个月，不能晚于 {latest}")]
    ListingTooLong {
        /// The longest period.
        months: u32,
        /// The latest deadline.
        latest: NaiveDate,
    },
    /// A public notice later than the notice period (or before the listing).
    #[error("挂牌和摘牌须在 {days} 个工作日内公示，公示日期不在此期间")]
    NoticeLate {
        /// The notice period in working days.
        days: u32,
    },
    /// A listed hazard's extension asked too close to the deadline.
    #[error("挂牌督办隐患须在整改期限前至少 {days} 个工作日申请延期，现仅剩 {left} 个工作日")]
    ExtensionTooLate {
        /// The lead required.
        days: u32,
        /// Working days left.
        left: i64,
    },
    /// A regulator grades only a general hazard major.
    #[error("隐患已是重大事故隐患")]
    AlreadyMajor,
}

/// Takes `step` on `on`: the new progress, or why not.
pub fn take(p: &Progress, step: Step, on: NaiveDate) -> Result<Progress, HazardRefusal> {
    use HazardState as S;
    let code = step.code();
    let not_now = || HazardRefusal::NotNow {
        state: p.state,
        step: code,
    };
    let mut next = p.clone();
    match step {
        Step::FixOnTheSpot => match (p.state, p.grade) {
            (S::Registered, HazardGrade::General) => next.state = S::FixedOnTheSpot,
            (S::Registered, HazardGrade::Major) => return Err(HazardRefusal::MajorOnTheSpot),
            _ => return Err(not_now()),
        },
        Step::Rectification { deadline, plan } => {
            if p.state != S::Registered {
                return Err(not_now());
            }
            let deadline = match p.grade {
                HazardGrade::Major => {
                    let plan = plan.filter(complete).ok_or(HazardRefusal::NoPlan)?;
                    let d = plan.deadline;
                    next.plan = Some(plan);
                    d
                }
                HazardGrade::General => deadline.ok_or(HazardRefusal::NoDeadline)?,
            };
            if deadline < on {
                return Err(HazardRefusal::PastDeadline { deadline, on });
            }
            next.deadline = Some(deadline);
            next.state = S::Rectifying;
        }
        Step::Completion if p.state == S::Rectifying => next.state = S::AwaitingAcceptance,
        Step::Acceptance(a) if p.state == S::AwaitingAcceptance => {
            if a.passed && p.grade == HazardGrade::Major && a.assessment.is_none() {
                return Err(HazardRefusal::NoAssessment);
            }
            next.state = if a.passed { S::Closed } else { S::Rectifying };
            next.acceptance = Some(a);
        }
        Step::Regrade if p.state.is_open() => {
            if p.grade == HazardGrade::Major {
                return Err(HazardRefusal::AlreadyMajor);
            }
            next.grade = HazardGrade::Major;
        }
        Step::ExtensionRequest { deadline, reason } if p.state == S::Rectifying => {
            let current = p.deadline.unwrap_or(on);
            let pending = p.extensions.last().is_some_and(|e| e.approved.is_none());
            if deadline <= current || pending {
                return Err(HazardRefusal::Extension { current });
            }
            next.extensions.push(Extension {
                deadline,
                reason,
                requested_on: on,
                approved: None,
                decided_on: None,
            });
        }
        Step::ExtensionDecision { approved } => {
            let Some(last) = next.extensions.last_mut().filter(|e| e.approved.is_none()) else {
                return Err(HazardRefusal::NoPendingExtension);
            };
            last.approved = Some(approved);
            last.decided_on = Some(on);
            if approved {
                let d = last.deadline;
                next.deadline = Some(d);
                if let Some(plan) = next.plan.as_mut() {
                    plan.deadline = d;
                }
                if let Some(l) = next.listing.as_mut().filter(|l| l.delisted_on.is_none()) {
                    l.deadline = l.deadline.max(d);
                }
            }
        }
        Step::Listing(l) => {
            if p.grade != HazardGrade::Major || !p.state.is_open() || p.listing.is_some() {
                return Err(HazardRefusal::Listing);
            }
            next.listing = Some(l);
        }
        Step::Delisting { notice_on } => {
            let Some(l) = next
                .listing
                .as_mut()
                .filter(|l| l.delisted_on.is_none() && p.state == S::Closed)
            else {
                return Err(HazardRefusal::Delisting);
            };
            l.delisted_on = Some(on);
            l.delisting_notice_on = notice_on;
        }
        _ => return Err(not_now()),
    }
    Ok(next)
}

/// Whether every part of a plan is given (five implementations and the principal).
fn complete(p: &Plan) -> bool {
    [&p.measures, &p.responsible, &p.contingency, &p.principal]
        .iter()
        .all(|t| !t.trim().is_empty())
        && p.funds_cny >= 0
}

/// Who may take `step`: the enterprise (and its software) runs its own hazards — fixes,
/// rectifies, reports, accepts with a named person, asks for extensions; regulators take
/// every step, and only they grade a hazard major, list and de-list, and decide extensions.
pub fn may_take(role: crate::Role, read_only: bool, step: HazardStep) -> bool {
    use HazardStep as H;
    let regulator_only = matches!(
        step,
        H::Regrade | H::ExtensionDecision | H::Listing | H::Delisting
    );
    role.may(crate::Action::RecordDualPrevention, read_only)
        && (role.is_regulator() || !regulator_only)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap_or(NaiveDate::MIN)
    }

    fn plan(deadline: &str) -> Plan {
        Plan {
            measures: "加装防爆型电气设备".into(),
            responsible: "设备部 张三".into(),
            funds_cny: 80_000,
            deadline: d(deadline),
            contingency: "停止该区域作业，设置警戒".into(),
            principal: "李四".into(),
        }
    }

    #[test]
    fn a_general_hazard_is_fixed_on_the_spot_a_major_one_is_not() {
        let general = Progress::registered(HazardGrade::General);
        let fixed = take(&general, Step::FixOnTheSpot, d("2025-03-01"));
        assert_eq!(fixed.map(|p| p.state), Ok(HazardState::FixedOnTheSpot));
        let major = Progress::registered(HazardGrade::Major);
        assert_eq!(
            take(&major, Step::FixOnTheSpot, d("2025-03-01")),
            Err(HazardRefusal::MajorOnTheSpot)
        );
    }

    #[test]
    fn a_major_hazard_from_plan_to_closure() {
        let on = d("2025-03-01");
        let p = Progress::registered(HazardGrade::Major);
        let no_plan = Step::Rectification {
            deadline: Some(d("2025-05-01")),
            plan: None,
        };
        assert_eq!(take(&p, no_plan, on), Err(HazardRefusal::NoPlan));
        let mut half = plan("2025-05-01");
        half.principal = " ".into();
        let half = Step::Rectification {
            deadline: None,
            plan: Some(half),
        };
        assert_eq!(take(&p, half, on), Err(HazardRefusal::NoPlan));
        let p = take(
            &p,
            Step::Rectification {
                deadline: None,
                plan: Some(plan("2025-05-01")),
            },
            on,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (p.state, p.deadline),
            (HazardState::Rectifying, Some(d("2025-05-01")))
        );
        assert!(!p.overdue(d("2025-05-01")) && p.overdue(d("2025-05-02")));
        let listing = Listing {
            level: "市级".into(),
            authority: "绵阳市应急管理局".into(),
            document_no: "绵应急督〔2025〕1号".into(),
            listed_on: d("2025-03-05"),
            deadline: d("2025-04-30"),
            notice_on: Some(d("2025-03-10")),
            delisted_on: None,
            delisting_notice_on: None,
        };
        let p = take(&p, Step::Listing(listing), d("2025-03-05")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.effective_deadline(), Some(d("2025-04-30")), "the earlier");
        let asked = Step::ExtensionRequest {
            deadline: d("2025-06-01"),
            reason: "设备到货延迟".into(),
        };
        let p = take(&p, asked.clone(), d("2025-04-01")).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            take(&p, asked, d("2025-04-02")),
            Err(HazardRefusal::Extension { .. })
        ));
        let p = take(
            &p,
            Step::ExtensionDecision { approved: true },
            d("2025-04-03"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.effective_deadline(), Some(d("2025-06-01")));
        assert_eq!(
            take(&p, Step::Delisting { notice_on: None }, d("2025-04-03")),
            Err(HazardRefusal::Delisting),
            "not before closure"
        );
        let p = take(&p, Step::Completion, d("2025-05-20")).unwrap_or_else(|e| panic!("{e}"));
        let accept = |assessment: Option<&str>| Acceptance {
            by: "王五".into(),
            on: d("2025-05-25"),
            opinion: "整改到位".into(),
            passed: true,
            assessment: assessment.map(str::to_owned),
        };
        assert_eq!(
            take(&p, Step::Acceptance(accept(None)), d("2025-05-25")),
            Err(HazardRefusal::NoAssessment)
        );
        let p = take(
            &p,
            Step::Acceptance(accept(Some("整改后评估：风险已消除"))),
            d("2025-05-25"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.state, HazardState::Closed);
        assert!(!p.overdue(d("2026-01-01")));
        let p = take(
            &p,
            Step::Delisting {
                notice_on: Some(d("2025-06-01")),
            },
            d("2025-05-28"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            p.listing
                .is_some_and(|l| l.delisted_on == Some(d("2025-05-28")))
        );
    }

    #[test]
    fn only_regulators_grade_list_and_decide() {
        use crate::Role;
        assert!(may_take(
            Role::Enterprise,
            false,
            HazardStep::ExtensionRequest
        ));
        assert!(!may_take(
            Role::Enterprise,
            false,
            HazardStep::ExtensionDecision
        ));
        assert!(!may_take(Role::Integration, false, HazardStep::Listing));
        assert!(!may_take(Role::Integration, true, HazardStep::Completion));
        assert!(may_take(Role::AreaRegulator, false, HazardStep::Regrade));
        assert!(!may_take(Role::Reviewer, false, HazardStep::Completion));
    }
}
