//! The alert rules, one per [`AlertKind`]: each takes the facts of one candidate and says
//! whether it is due and, if so, its due date, its rule with the source, and the next step.

use chrono::NaiveDate;

use crate::CodeList;
use crate::grading::{
    AccidentFacts, AlertKind, Certificate, CurrentGrade, Grade, GradeRules, during_validity,
    in_force_on,
};

/// The notice's short name in alert texts: 《绵阳市应急管理局关于进一步加强非煤矿山和工贸企业
/// 安全生产标准化工作的通知》.
const NOTICE: &str = "42号文（绵应急函〔2020〕42号）";
/// The Grading Measures' short name in alert texts.
const MEASURES: &str = "定级办法（应急〔2021〕83号）";

/// What an alert says: its kind, when it is (or was) due, the rule with its source, and
/// what to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Kind.
    pub kind: AlertKind,
    /// By when (or since when) the action is due.
    pub due_on: NaiveDate,
    /// The rule, with its source.
    pub rule: String,
    /// What to do next.
    pub next_step: String,
}

/// `grade_expiring`: the enterprise's current grade `g` is in its renewal window on `today`.
/// Rule: 定级办法 (re-application from the window's start) and notice 绵应急函〔2020〕42号
/// 二（三） (remind early).
pub fn grade_expiring(
    rules: &GradeRules,
    g: &CurrentGrade,
    today: NaiveDate,
    window_months: u32,
) -> Option<Notice> {
    let until = g.valid_until;
    (until >= today && until <= GradeRules::expiring_until(today, window_months)).then(|| Notice {
        kind: AlertKind::GradeExpiring,
        due_on: until,
        rule: format!(
            "{MEASURES}：有效期届满前 {} 个月内可再次申请定级（本证书自 {} 起）；{NOTICE}二（三）：及早提醒复评",
            rules.renewal_window_months,
            rules.renewal_opens_on(until)
        ),
        next_step: format!(
            "提醒企业在 {until} 前申请复评（{}，证书编号 {}）",
            g.grade.label_zh(),
            g.number
        ),
    })
}

/// `grade_expired`: the enterprise's current grade `g` (its latest certificate, not revoked:
/// the candidates) is past its validity on `today` — also when the enterprise must restart
/// after an accident during that validity, however long ago. Rule: notice 绵应急函〔2020〕42号
/// 二（三）.
pub fn grade_expired(g: &CurrentGrade, today: NaiveDate) -> Option<Notice> {
    (g.valid_until < today).then(|| Notice {
        kind: AlertKind::GradeExpired,
        due_on: g.valid_until,
        rule: format!("{NOTICE}二（三）：等级证书已过期的企业须重新创建"),
        next_step: format!(
            "{}证书（编号 {}）有效期已于 {} 届满：督促企业重新创建",
            g.grade.label_zh(),
            g.number,
            g.valid_until
        ),
    })
}

/// `accident_during_validity` and `revocation_trigger` for one `accident` of an enterprise
/// with these `certificates` and `others` (its other accidents): open while a certificate
/// in force on the accident's date still stands (neither revoked nor replaced) and no grade
/// was granted since. Rules: notice 绵应急函〔2020〕42号 二（三） (restart creation); 定级办法
/// revocation items 1, 2 and 4 (the grading authority decides).
pub fn accident(
    rules: &GradeRules,
    accident: &AccidentFacts,
    others: &[AccidentFacts],
    certificates: &[Certificate],
) -> Vec<Notice> {
    let on = accident.occurred_on;
    let standing: Vec<&Certificate> = certificates
        .iter()
        .filter(|c| in_force_on(c, on) && c.revocation.is_none() && c.superseded_by.is_none())
        .collect();
    let regraded = certificates
        .iter()
        .any(|c| c.data.issued_on > on && c.revocation.is_none());
    if standing.is_empty() || regraded {
        return Vec::new();
    }
    let numbers: Vec<&str> = standing.iter().map(|c| c.data.number.as_str()).collect();
    let mut out = vec![Notice {
        kind: AlertKind::AccidentDuringValidity,
        due_on: on,
        rule: format!("{NOTICE}二（三）：等级有效期内发生生产安全事故的企业须重新创建"),
        next_step: format!(
            "{on} 发生的事故在证书（编号 {}）有效期内：督促企业重新创建，并请定级部门决定是否撤销等级",
            numbers.join("、")
        ),
    }];
    let triggers = rules.triggers_of(accident, others);
    if !triggers.is_empty() {
        let list: Vec<&str> = triggers.iter().map(CodeList::label_zh).collect();
        out.push(Notice {
            kind: AlertKind::RevocationTrigger,
            due_on: on,
            rule: format!("{MEASURES}撤销情形：{}", list.join("；")),
            next_step: format!(
                "由定级部门决定是否撤销证书（编号 {}），并登记撤销决定",
                numbers.join("、")
            ),
        });
    }
    out
}

/// `focus_follow_up_due`: the follow-up date of a guidance visit of `visited_on` passed on
/// `today` and no later visit followed (`latest_visit`). Rule: notice 二（一） (guide the
/// enterprises under supervision focus).
pub fn follow_up_due(
    visited_on: NaiveDate,
    follow_up_on: NaiveDate,
    latest_visit: NaiveDate,
    today: NaiveDate,
) -> Option<Notice> {
    (follow_up_on < today && latest_visit <= visited_on).then(|| Notice {
        kind: AlertKind::FocusFollowUpDue,
        due_on: follow_up_on,
        rule: format!("{NOTICE}二（一）：对列入监管重点的企业督促指导，直至创建达标"),
        next_step: format!(
            "{visited_on} 督促指导后约定 {follow_up_on} 回访，至今未回访：再次上门督促指导并登记"
        ),
    })
}

/// `upgrade_target_due`: the target `(grade, year)` has come on `today` without that grade
/// (or a higher one) in force. Rule: notice 二（二） (push key enterprises to 一级 or 二级).
pub fn upgrade_target_due(
    target: (Grade, i32),
    in_force: Option<Grade>,
    today: NaiveDate,
) -> Option<Notice> {
    let (grade, year) = target;
    crate::drives::upgrade_due(target, in_force, today).then(|| Notice {
        kind: AlertKind::UpgradeTargetDue,
        due_on: NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(today),
        rule: format!("{NOTICE}二（二）：推动中央、省属在绵企业和市属重点企业创建一级、二级"),
        next_step: format!(
            "{year} 年达到{}的目标尚未实现：跟进企业提档升级",
            grade.label_zh()
        ),
    })
}

/// `annual_self_assessment_missing`: the current grade `g` is in force on `today` and the
/// enterprise's last submitted self-assessment (`last_self`; the grade's issue date when there
/// is none since) is more than the interval old. Rule: 定级办法 — the enterprise
/// self-assesses at least once a year ((R), the interval is the grade rules').
pub fn annual_self_assessment_missing(
    rules: &GradeRules,
    g: &CurrentGrade,
    last_self: Option<NaiveDate>,
    today: NaiveDate,
) -> Option<Notice> {
    let from = last_self.map_or(g.issued_on, |d| d.max(g.issued_on));
    let due = crate::grading::add_months(from, rules.self_assessment_interval_months);
    (during_validity(g.issued_on, g.valid_until, today) && due < today).then(|| Notice {
        kind: AlertKind::AnnualSelfAssessmentMissing,
        due_on: due,
        rule: format!(
            "{MEASURES}：企业每年至少开展一次自评（每 {} 个月）",
            rules.self_assessment_interval_months
        ),
        next_step: match last_self {
            Some(d) => {
                format!("上次提交自评是 {d}，已超过一年：督促企业开展年度自评并在系统中提交")
            }
            None => format!(
                "取得{}（证书编号 {}）后系统中没有提交过自评：督促企业开展年度自评并在系统中提交",
                g.grade.label_zh(),
                g.number
            ),
        },
    })
}

/// `grading_step_overdue`: the grading application in `state` was due on `due_on` and
/// `today` is later; the party that must act is named. Rule: 定级办法's working-day limits
/// (the grade rules' `grading_limits`).
pub fn grading_step_overdue(
    state: crate::gradings::GradingState,
    due_on: NaiveDate,
    today: NaiveDate,
) -> Option<Notice> {
    use crate::gradings::GradingState as S;
    let (who, what) = match state {
        S::Applied => ("组织单位", "审核并报送定级申请（或一次性告知补正）"),
        S::Accepted => ("评审单位", "完成现场评审"),
        S::Rectifying => ("企业", "报告整改情况（逾期视为整改不合格）"),
        S::Verifying => ("评审组", "完成整改验证"),
        _ => return None,
    };
    (today > due_on).then(|| Notice {
        kind: AlertKind::GradingStepOverdue,
        due_on,
        rule: format!("{MEASURES}：定级各环节按工作日时限办理"),
        next_step: format!("应由{who}在 {due_on} 前{what}，已超期：督促办理"),
    })
}

/// `major_hazard_overdue` for an open major hazard past its `deadline` on `today`, and, when
/// the enterprise holds a grade in force (`certificate` names it), `revocation_trigger`.
/// Rules: 安全生产事故隐患排查治理 (major hazards rectified within the plan's deadline, domain
/// research §5.3); 定级办法 revocation item 8 (a major hazard not rectified in time).
pub fn major_hazard_overdue(
    description: &str,
    deadline: NaiveDate,
    today: NaiveDate,
    certificate: Option<&str>,
) -> Vec<Notice> {
    if today <= deadline {
        return Vec::new();
    }
    let mut out = vec![Notice {
        kind: AlertKind::MajorHazardOverdue,
        due_on: deadline,
        rule: format!(
            "重大事故隐患须在治理方案确定的期限内整改到位（事故隐患排查治理规定）；{NOTICE}三（二）：对照重大事故隐患判定标准排查治理"
        ),
        next_step: format!(
            "重大事故隐患“{description}”整改期限 {deadline} 已过仍未销号：督促整改，必要时挂牌督办或责令停产"
        ),
    }];
    if let Some(number) = certificate {
        out.push(Notice {
            kind: AlertKind::RevocationTrigger,
            due_on: deadline,
            rule: format!(
                "{MEASURES}撤销情形：{}",
                crate::grading::RevocationTrigger::OverdueMajorHazard.label_zh()
            ),
            next_step: format!("由定级部门决定是否撤销证书（编号 {number}），并登记撤销决定"),
        });
    }
    out
}

/// The kinds an enterprise's alert of `kind` hides for the same enterprise, so no two of its
/// alerts contradict each other: after an accident during the validity of its grade the
/// enterprise must restart creation (notice 二（三）), so a reminder to renew that grade, or
/// to self-assess under it, would say the opposite.
pub fn hides(kind: AlertKind) -> &'static [AlertKind] {
    match kind {
        AlertKind::AccidentDuringValidity => &[
            AlertKind::GradeExpiring,
            AlertKind::AnnualSelfAssessmentMissing,
        ],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::grading::{AuthorityLevel, CertificateData, Regime};
    use crate::{CertificateId, EnterpriseId};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap_or(NaiveDate::MIN)
    }

    fn cert(issued_on: &str, valid_until: &str) -> Certificate {
        let at = Utc.timestamp_opt(0, 0).single().unwrap_or_default();
        Certificate {
            id: CertificateId::new(),
            data: CertificateData {
                enterprise_id: EnterpriseId::new(),
                regime: Regime::Grading2021,
                grade: Grade::Grade3,
                number: "N".into(),
                authority_level: AuthorityLevel::City,
                authority_name: "绵阳市应急管理局".into(),
                issued_on: d(issued_on),
                valid_until: d(valid_until),
                standard: "S".into(),
            },
            revocation: None,
            superseded_by: None,
            superseded_on: None,
            rules_version: "r".into(),
            version: 1,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn expiring_agrees_with_the_status_at_month_ends() {
        let rules = GradeRules::builtin();
        let c = CurrentGrade::of(&cert("2022-05-31", "2025-05-31"))
            .unwrap_or_else(|| panic!("a current grade"));
        assert!(grade_expiring(rules, &c, d("2025-02-27"), 3).is_none());
        let n = grade_expiring(rules, &c, d("2025-02-28"), 3);
        assert_eq!(n.map(|n| n.due_on), Some(d("2025-05-31")));
        assert!(grade_expiring(rules, &c, d("2025-06-01"), 3).is_none());
    }

    #[test]
    fn an_expired_grade_is_due_from_its_last_day() {
        let c = CurrentGrade::of(&cert("2019-06-01", "2022-06-01"))
            .unwrap_or_else(|| panic!("a current grade"));
        assert!(grade_expired(&c, d("2022-06-01")).is_none());
        assert_eq!(
            grade_expired(&c, d("2023-01-01")).map(|n| n.kind),
            Some(AlertKind::GradeExpired)
        );
    }

    #[test]
    fn an_accident_alert_closes_once_a_grade_is_granted_after_it() {
        let rules = GradeRules::builtin();
        let fatal = AccidentFacts {
            occurred_on: d("2023-03-01"),
            deaths: 1,
            seriously_injured: 0,
            direct_loss_cny: 0,
            concealed: false,
        };
        let old = cert("2022-01-10", "2025-01-10");
        let kinds: Vec<AlertKind> = accident(rules, &fatal, &[], std::slice::from_ref(&old))
            .into_iter()
            .map(|n| n.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                AlertKind::AccidentDuringValidity,
                AlertKind::RevocationTrigger
            ]
        );
        let later = cert("2023-09-01", "2026-09-01");
        assert!(accident(rules, &fatal, &[], &[old, later]).is_empty());
    }

    #[test]
    fn a_follow_up_is_resolved_by_a_later_visit() {
        let (visited, due) = (d("2025-01-10"), d("2025-02-10"));
        assert!(follow_up_due(visited, due, visited, d("2025-02-10")).is_none());
        assert!(follow_up_due(visited, due, visited, d("2025-02-11")).is_some());
        assert!(follow_up_due(visited, due, d("2025-02-01"), d("2025-02-11")).is_none());
    }
}
