//! List-based management (清单制管理): responsibility and work lists of governments,
//! departments, enterprises and posts, their items, and the performance records (履职记录)
//! made against the items.
//!
//! Rules (domain research §6): Sichuan's 清单制 (川安委〔2020〕1号 and the 2020 three-year
//! campaign plan) has every enterprise keep four lists — main responsibility, post
//! responsibility, daily safety work (hazard investigation) and major-risk control — plus the
//! campaign's problem-and-hazard list and rules-and-measures list; governments keep
//! territorial and leadership lists and departments supervision lists. The types are an
//! extensible list; an item of a risk list may name a risk, one of a hazard list a hazard.

use crate::code_list;

code_list! {
    /// What kind of list (清单类型).
    pub enum ChecklistType {
        /// 《安全生产主体责任清单》.
        MainResponsibility = ("main_responsibility", "安全生产主体责任清单"),
        /// 《安全生产岗位责任清单》.
        PostResponsibility = ("post_responsibility", "安全生产岗位责任清单"),
        /// 《日常安全工作（隐患排查治理）清单》.
        DailyWork = ("daily_work", "日常安全工作（隐患排查治理）清单"),
        /// 《重大安全风险管控责任清单》.
        MajorRiskControl = ("major_risk_control", "重大安全风险管控责任清单"),
        /// 问题隐患清单 (the three-year campaign).
        ProblemsHazards = ("problems_hazards", "问题隐患清单"),
        /// 制度措施清单 (the three-year campaign).
        RulesMeasures = ("rules_measures", "制度措施清单"),
        /// 属地/领导责任清单 (governments).
        Territorial = ("territorial", "属地（领导）责任清单"),
        /// 监管责任清单 (departments).
        Supervision = ("supervision", "监管责任清单"),
        /// Any other list (工作清单, 检查清单, 救援清单…).
        Other = ("other", "其他清单"),
    }
}

code_list! {
    /// Whose list it is (清单主体).
    pub enum OwnerScope {
        /// 党委政府.
        Government = ("government", "党委政府"),
        /// 行业部门.
        Department = ("department", "行业部门"),
        /// 企业.
        Enterprise = ("enterprise", "企业"),
        /// 岗位.
        Post = ("post", "岗位"),
    }
}

impl OwnerScope {
    /// Whether lists of this owner belong to an enterprise (else to a supervision area).
    pub fn of_enterprise(self) -> bool {
        matches!(self, Self::Enterprise | Self::Post)
    }
}

impl ChecklistType {
    /// Whose lists of this type are: the enterprise lists and the campaign lists belong to
    /// enterprises or posts, the territorial lists to governments, the supervision lists to
    /// departments; `other` to anyone.
    pub fn fits(self, owner: OwnerScope) -> bool {
        match self {
            Self::Territorial => owner == OwnerScope::Government,
            Self::Supervision => owner == OwnerScope::Department,
            Self::Other => true,
            _ => owner.of_enterprise(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_belong_to_their_owners() {
        assert!(ChecklistType::PostResponsibility.fits(OwnerScope::Post));
        assert!(!ChecklistType::MainResponsibility.fits(OwnerScope::Government));
        assert!(ChecklistType::Supervision.fits(OwnerScope::Department));
        assert!(ChecklistType::Other.fits(OwnerScope::Government));
        assert!(!OwnerScope::Department.of_enterprise());
    }
}
