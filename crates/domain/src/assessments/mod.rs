//! Assessments (评分) against a grading standard, in three passes: the enterprise's
//! self-assessment (自评), the review organisation's on-site review (评审) and the regulator's
//! supervisory check (监督检查). Results are recorded item by item; the score and the grade
//! reached are computed here, by pure functions, every time they are read.
//!
//! Rules (the scoring method of the industry grading standards, domain research (C)): score =
//! earned ÷ (full points − points of not-applicable items) × 100, rounded half-up to one
//! decimal; an item never goes below zero; extra deductions (追加扣分) are charged to the item's
//! element, which never goes below zero either; the grade reached is the lower of the grade by
//! score and the safety-performance grade (accidents over the standard's look-back window:
//! 定级办法 application condition 4 — no death, fewer than 3 seriously injured and less than
//! CNY 1 million direct loss in total, the same totals as revocation trigger 2).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::grading::{AccidentFacts, Grade, GradeRules};
use crate::standards::{StandardData, VetoEffect};
use crate::{CodeList, Violation, ViolationCode as V, code_list};

code_list! {
    /// Which pass an assessment is.
    pub enum AssessmentKind {
        /// The enterprise's self-assessment (自评).
        SelfAssessment = ("self", "企业自评"),
        /// The review organisation's on-site review (现场评审).
        Review = ("review", "评审"),
        /// The regulator's supervisory check (监督检查).
        Regulator = ("regulator", "监督检查"),
    }
}

code_list! {
    /// Where an assessment stands.
    pub enum AssessmentState {
        /// Being filled in; can be changed or discarded.
        Draft = ("draft", "草稿"),
        /// Submitted: never changes again.
        Submitted = ("submitted", "已提交"),
        /// Discarded while a draft.
        Discarded = ("discarded", "已作废"),
    }
}

/// The result of one check item.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ItemResult {
    /// Points deducted (an item never goes below zero: more than its points counts as all).
    #[serde(default)]
    pub deducted: u32,
    /// Not applicable (空项), with the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_applicable: Option<String>,
    /// The item's veto was hit.
    #[serde(default)]
    pub veto_hit: bool,
    /// What was seen (evidence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

/// What an assessor recorded: results by item code, extra deductions by element code.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Results {
    /// Item code → its result (an item without one lost nothing).
    #[serde(default)]
    pub items: BTreeMap<String, ItemResult>,
    /// Element code → extra deductions charged to it (追加扣分).
    #[serde(default)]
    pub extra: BTreeMap<String, u32>,
}

/// Limits of what an assessor records.
pub mod limits {
    /// Characters of a not-applicable reason or an evidence note.
    pub const NOTE: usize = 1000;
}

impl Results {
    /// Checks the results against the standard: every item and element code exists, no
    /// deduction beyond the item's points, a not-applicable reason given, a veto only on an
    /// item that has one, extra deductions within the sum of the element's items' caps.
    pub fn check(&self, standard: &StandardData) -> Result<(), Vec<Violation>> {
        let mut errors = Vec::new();
        let items: BTreeMap<&str, &crate::standards::Item> = standard
            .elements
            .iter()
            .flat_map(|e| &e.sub_elements)
            .flat_map(|s| &s.items)
            .map(|i| (i.code.as_str(), i))
            .collect();
        for (code, r) in &self.items {
            let at = |m: &str| format!("/items{}/{m}", crate::pointer_to(code));
            let Some(item) = items.get(code.as_str()) else {
                errors.push(Violation {
                    pointer: format!("/items{}", crate::pointer_to(code)),
                    code: V::UnknownReference,
                    message: format!("评定标准中没有评分项 {code}"),
                });
                continue;
            };
            if r.deducted > item.points {
                errors.push(Violation {
                    pointer: at("deducted"),
                    code: V::OutOfRange,
                    message: format!(
                        "评分项 {code} 满分 {} 分，最多扣 {} 分（追加扣分记在一级要素上）",
                        item.points, item.points
                    ),
                });
            }
            match r.not_applicable.as_deref().map(str::trim) {
                Some("") => errors.push(Violation {
                    pointer: at("not_applicable"),
                    code: V::Blank,
                    message: "空项须写明理由".into(),
                }),
                Some(t) if t.chars().count() > limits::NOTE => errors.push(Violation {
                    pointer: at("not_applicable"),
                    code: V::TooLong,
                    message: format!("理由最多 {} 个字符", limits::NOTE),
                }),
                _ => {}
            }
            if r.evidence
                .as_deref()
                .is_some_and(|t| t.chars().count() > limits::NOTE)
            {
                errors.push(Violation {
                    pointer: at("evidence"),
                    code: V::TooLong,
                    message: format!("evidence 最多 {} 个字符", limits::NOTE),
                });
            }
            if r.veto_hit && item.veto.is_none() {
                errors.push(Violation {
                    pointer: at("veto_hit"),
                    code: V::NotApplicable,
                    message: format!("评分项 {code} 不是否决项"),
                });
            }
        }
        for (code, points) in &self.extra {
            let Some(element) = standard.elements.iter().find(|e| &e.code == code) else {
                errors.push(Violation {
                    pointer: format!("/extra{}", crate::pointer_to(code)),
                    code: V::UnknownReference,
                    message: format!("评定标准中没有一级要素 {code}"),
                });
                continue;
            };
            let cap: u32 = element
                .sub_elements
                .iter()
                .flat_map(|s| &s.items)
                .filter_map(|i| i.extra_deduction_max)
                .sum();
            if *points > cap {
                errors.push(Violation {
                    pointer: format!("/extra{}", crate::pointer_to(code)),
                    code: V::OutOfRange,
                    message: format!("一级要素 {code} 的追加扣分最多 {cap} 分（其评分项的追加扣分上限之和），实际为 {points}"),
                });
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// Why a change to an assessment is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssessmentRefusal {
    /// Only a draft can be changed, submitted or discarded.
    #[error("评分已{}，不能再修改、提交或作废（只有草稿可以）", state.label_zh())]
    NotDraft {
        /// Where it stands.
        state: AssessmentState,
    },
}

/// A draft may become `to` (submitted or discarded); anything else is refused.
pub fn transition(current: AssessmentState) -> Result<(), AssessmentRefusal> {
    match current {
        AssessmentState::Draft => Ok(()),
        state => Err(AssessmentRefusal::NotDraft { state }),
    }
}

/// Who may record an assessment of this kind (the scope then decides which enterprises):
/// the enterprise its own self-assessment, regulators every kind, a read-write integration
/// (an enterprise's or a county platform's software) self-assessments and reviews, a review
/// organisation (`reviewer`) reviews of the applications assigned to it.
/// Rule: 定级办法 — the enterprise self-assesses, the review organisation reviews, the
/// grading authority and the regulators check (notice 三（三）: 运行质量审计).
pub fn may_assess(role: crate::Role, read_only: bool, kind: AssessmentKind) -> bool {
    use crate::Role as R;
    match role {
        R::CityAdmin | R::CityRegulator | R::AreaRegulator => true,
        R::Enterprise => kind == AssessmentKind::SelfAssessment,
        R::Integration => !read_only && kind != AssessmentKind::Regulator,
        R::Reviewer => kind == AssessmentKind::Review,
    }
}

/// Whether `standard` applies to an enterprise of `sector` and `scale`, and can score at all
/// (a frame without items cannot); the reason when not.
pub fn fits(
    standard: &StandardData,
    sector: crate::Sector,
    scale: crate::Scale,
) -> Result<(), String> {
    use crate::CodeList as _;
    if standard.full_points == 0 {
        return Err(format!(
            "{} 是没有评分项的框架，不能用来评分",
            standard.title
        ));
    }
    if !standard.sectors.is_empty() && !standard.sectors.contains(&sector) {
        return Err(format!(
            "{} 不适用于{}行业的企业",
            standard.title,
            sector.label_zh()
        ));
    }
    if !standard.scales.is_empty() && !standard.scales.contains(&scale) {
        return Err(format!(
            "{} 不适用于{}企业",
            standard.title,
            scale.label_zh()
        ));
    }
    Ok(())
}

code_list! {
    /// What comparing the passes of one enterprise on one standard can show.
    pub enum ComparisonFlag {
        /// The review scored an element well above the regulator's check (评审偏宽).
        LenientReview = ("lenient_review", "评审偏宽"),
        /// The self-assessment scored an element well above the review, or above the
        /// regulator's check when there is no review (自评偏高).
        OptimisticSelf = ("optimistic_self", "自评偏高"),
    }
}

/// The default margin, in rate points, from which a difference is flagged.
pub const DEFAULT_MARGIN: f64 = 15.0;

/// A difference worth a look.
#[derive(Debug, Clone, PartialEq)]
pub struct Flag {
    /// What it shows.
    pub kind: ComparisonFlag,
    /// The element.
    pub element: String,
    /// The pass that scored higher, and the one it is compared with.
    pub passes: (AssessmentKind, AssessmentKind),
    /// The difference in rate points.
    pub difference: f64,
}

/// Flags elements where a pass rates at least `margin` points above the stricter one:
/// review above regulator (`lenient_review`), self above review — or above the regulator
/// when there is no review — (`optimistic_self`). Rule: notice 二、三（一） asks that
/// self-assessments and reviews be strict (严格把关); the margin is a setting of the call.
pub fn flags(
    elements: &[(String, BTreeMap<AssessmentKind, Option<f64>>)],
    margin: f64,
) -> Vec<Flag> {
    use AssessmentKind::{Regulator, Review, SelfAssessment};
    let mut out = Vec::new();
    for (code, rates) in elements {
        let rate = |k| rates.get(&k).copied().flatten();
        let mut check = |kind, high, low| {
            if let (Some(h), Some(l)) = (rate(high), rate(low)) {
                let difference = ((h - l) * 10.0).round() / 10.0;
                if difference >= margin {
                    out.push(Flag {
                        kind,
                        element: code.clone(),
                        passes: (high, low),
                        difference,
                    });
                }
            }
        };
        check(ComparisonFlag::LenientReview, Review, Regulator);
        if rates.contains_key(&Review) {
            check(ComparisonFlag::OptimisticSelf, SelfAssessment, Review);
        } else {
            check(ComparisonFlag::OptimisticSelf, SelfAssessment, Regulator);
        }
    }
    out
}

/// One element's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct ElementScore {
    /// Its code.
    pub code: String,
    /// Points of its applicable items.
    pub applicable: u32,
    /// Points earned (after extra deductions, never below zero).
    pub earned: u32,
    /// earned ÷ applicable × 100, one decimal; `None` when nothing applies.
    pub rate: Option<f64>,
    /// Below the standard's minimum rate for it.
    pub below_minimum: bool,
}

/// The outcome of an assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// Full points of the standard.
    pub full: u32,
    /// Points of the items marked not applicable.
    pub not_applicable: u32,
    /// Points earned.
    pub earned: u32,
    /// earned ÷ (full − not applicable) × 100, rounded half-up to one decimal.
    pub score: f64,
    /// Per element.
    pub elements: Vec<ElementScore>,
    /// The grade the score reaches (thresholds, element minimums), before vetoes.
    pub grade_by_score: Option<Grade>,
    /// The vetoes hit: item code and effect.
    pub vetoes: Vec<(String, VetoEffect, Option<Grade>)>,
    /// The safety-performance grade: `None` when the accidents in the look-back window
    /// exclude any grade; otherwise no limit (`Grade1`).
    pub performance_grade: Option<Grade>,
    /// Why the safety performance excludes a grade (empty when it does not).
    pub performance_reasons: Vec<String>,
    /// The lower of the grade by score (capped by vetoes) and the performance grade.
    pub grade_reached: Option<Grade>,
}

/// `numerator ÷ denominator × 100`, rounded half-up to one decimal (in tenths, exactly).
pub fn percent_half_up(numerator: u32, denominator: u32) -> Option<f64> {
    if denominator == 0 {
        return None;
    }
    let (n, d) = (u64::from(numerator), u64::from(denominator));
    let tenths = (2 * n * 1000 + d) / (2 * d);
    #[expect(
        clippy::cast_precision_loss,
        reason = "tenths of a percentage fit in f64 exactly"
    )]
    Some(tenths as f64 / 10.0)
}

fn lower(a: Option<Grade>, b: Option<Grade>) -> Option<Grade> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if a.rank() <= b.rank() { a } else { b }),
        _ => None,
    }
}

/// Scores `results` against `standard` on `on`, with the enterprise's `accidents`.
pub fn score(
    standard: &StandardData,
    results: &Results,
    accidents: &[AccidentFacts],
    on: NaiveDate,
    rules: &GradeRules,
) -> Score {
    let mut elements = Vec::with_capacity(standard.elements.len());
    let mut vetoes = Vec::new();
    let (mut earned, mut na) = (0u32, 0u32);
    for e in &standard.elements {
        let (mut applicable, mut got) = (0u32, 0u32);
        for item in e.sub_elements.iter().flat_map(|s| &s.items) {
            let r = results.items.get(&item.code);
            if r.is_some_and(|r| r.not_applicable.is_some()) {
                na += item.points;
                continue;
            }
            applicable += item.points;
            got += item.points - r.map_or(0, |r| r.deducted.min(item.points));
            if let (Some(r), Some(v)) = (r, &item.veto)
                && r.veto_hit
            {
                vetoes.push((item.code.clone(), v.effect, v.cap));
            }
        }
        let got = got.saturating_sub(results.extra.get(&e.code).copied().unwrap_or(0));
        let rate = percent_half_up(got, applicable);
        earned += got;
        elements.push(ElementScore {
            code: e.code.clone(),
            applicable,
            earned: got,
            rate,
            below_minimum: matches!((e.min_rate, rate), (Some(min), Some(r)) if r < min),
        });
    }
    let score = percent_half_up(earned, standard.full_points.saturating_sub(na)).unwrap_or(0.0);
    let grade_by_score = standard.thresholds.and_then(|t| {
        if elements.iter().any(|e| e.below_minimum) {
            return None;
        }
        [
            (Grade::Grade1, t.grade_1),
            (Grade::Grade2, t.grade_2),
            (Grade::Grade3, t.grade_3),
            (Grade::SmallMicro, t.small_micro),
        ]
        .into_iter()
        .find_map(|(g, min)| min.filter(|m| score >= *m).map(|_| g))
    });
    let capped = vetoes
        .iter()
        .fold(grade_by_score, |g, (_, effect, cap)| match effect {
            VetoEffect::NoGrade => None,
            VetoEffect::Cap => lower(g, *cap),
        });
    let (deaths, injured, loss) = crate::grading::totals_before(
        accidents,
        on,
        standard.performance_lookback_months.unwrap_or(12),
    );
    let mut performance_reasons = Vec::new();
    if deaths > 0 {
        performance_reasons.push(format!("回溯期内发生死亡事故（死亡 {deaths} 人）"));
    }
    if rules.revocation_limits.reached(injured, loss) {
        performance_reasons.push(format!(
            "回溯期内累计重伤 {injured} 人、直接经济损失 {loss} 元，达到定级办法申请条件第 4 项的限值（重伤 {} 人或损失 {} 元）",
            rules.revocation_limits.seriously_injured, rules.revocation_limits.direct_loss_cny
        ));
    }
    let performance_grade = performance_reasons.is_empty().then_some(Grade::Grade1);
    Score {
        full: standard.full_points,
        not_applicable: na,
        earned,
        score,
        elements,
        grade_by_score,
        vetoes,
        performance_grade,
        performance_reasons,
        grade_reached: lower(capped, performance_grade),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::standards::{Element, Item, SubElement, Thresholds, Veto};

    fn element(code: &str, points: u32, extra: Option<u32>) -> Element {
        Element {
            code: code.into(),
            title: code.into(),
            points,
            implements: None,
            min_rate: None,
            sub_elements: vec![SubElement {
                code: format!("{code}.1"),
                title: code.into(),
                items: vec![Item {
                    code: format!("{code}.1.1"),
                    text: "检查".into(),
                    points,
                    method: "扣分".into(),
                    extra_deduction_max: extra,
                    veto: None,
                }],
            }],
        }
    }

    fn standard() -> StandardData {
        StandardData {
            code: "T".into(),
            version: "1".into(),
            title: "T".into(),
            sectors: vec![],
            scales: vec![],
            full_points: 1000,
            thresholds: Some(Thresholds {
                grade_1: Some(90.0),
                grade_2: Some(75.0),
                grade_3: Some(60.0),
                small_micro: None,
            }),
            performance_rule: None,
            performance_lookback_months: Some(12),
            source: None,
            elements: vec![
                element("A", 500, Some(10)),
                element("B", 460, None),
                element("C", 40, None),
            ],
        }
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap_or(NaiveDate::MIN)
    }

    /// The worked example: element C (40 points) not applicable, 830 earned of 960 after a
    /// −10 extra deduction on A → 86.458… → 86.5 → 二级 by score.
    #[test]
    fn the_worked_example() {
        let mut r = Results::default();
        r.items.insert(
            "A.1.1".into(),
            ItemResult {
                deducted: 50,
                ..ItemResult::default()
            },
        );
        r.items.insert(
            "B.1.1".into(),
            ItemResult {
                deducted: 70,
                ..ItemResult::default()
            },
        );
        r.items.insert(
            "C.1.1".into(),
            ItemResult {
                not_applicable: Some("无重大危险源".into()),
                ..ItemResult::default()
            },
        );
        r.extra.insert("A".into(), 10);
        assert_eq!(r.check(&standard()), Ok(()));
        let s = score(&standard(), &r, &[], d("2026-01-01"), GradeRules::builtin());
        assert_eq!((s.earned, s.not_applicable, s.score), (830, 40, 86.5));
        assert_eq!(s.grade_by_score, Some(Grade::Grade2));
        assert_eq!(s.grade_reached, Some(Grade::Grade2));
        assert_eq!(s.elements[0].rate, Some(88.0));
        assert_eq!(s.elements[2].rate, None);
    }

    #[test]
    fn floors_vetoes_and_performance() {
        let mut std = standard();
        std.elements[1].sub_elements[0].items[0].veto = Some(Veto {
            effect: VetoEffect::Cap,
            cap: Some(Grade::Grade3),
        });
        let mut r = Results::default();
        // An element never goes below zero, however large its extra deduction.
        r.items.insert(
            "A.1.1".into(),
            ItemResult {
                deducted: 500,
                ..ItemResult::default()
            },
        );
        r.extra.insert("A".into(), 10);
        r.items.insert(
            "B.1.1".into(),
            ItemResult {
                veto_hit: true,
                ..ItemResult::default()
            },
        );
        let s = score(&std, &r, &[], d("2026-01-01"), GradeRules::builtin());
        assert_eq!(s.elements[0].earned, 0);
        assert_eq!(s.earned, 500);
        assert_eq!(s.grade_by_score, None, "50.0 is below 三级");
        // A fatal accident within the look-back window excludes any grade.
        let clean = Results::default();
        let fatal = AccidentFacts {
            occurred_on: d("2025-06-01"),
            deaths: 1,
            seriously_injured: 0,
            direct_loss_cny: 0,
            concealed: false,
        };
        let s = score(
            &std,
            &clean,
            &[fatal],
            d("2026-01-01"),
            GradeRules::builtin(),
        );
        assert_eq!(s.grade_by_score, Some(Grade::Grade1));
        assert_eq!(s.grade_reached, None);
        assert_eq!(s.performance_reasons.len(), 1);
        let s = score(
            &std,
            &clean,
            &[fatal],
            d("2026-07-01"),
            GradeRules::builtin(),
        );
        assert_eq!(
            s.grade_reached,
            Some(Grade::Grade1),
            "outside the 12-month window"
        );
        // A capping veto caps.
        let mut hit = Results::default();
        hit.items.insert(
            "B.1.1".into(),
            ItemResult {
                veto_hit: true,
                ..ItemResult::default()
            },
        );
        let s = score(&std, &hit, &[], d("2026-01-01"), GradeRules::builtin());
        assert_eq!(
            (s.grade_by_score, s.grade_reached),
            (Some(Grade::Grade1), Some(Grade::Grade3))
        );
    }

    #[test]
    fn lenient_reviews_and_optimistic_self_assessments_are_flagged() {
        use AssessmentKind::{Regulator, Review, SelfAssessment};
        let rates = |s: Option<f64>, r: Option<f64>, g: Option<f64>| {
            let mut m = BTreeMap::new();
            for (k, v) in [(SelfAssessment, s), (Review, r), (Regulator, g)] {
                if v.is_some() {
                    m.insert(k, v);
                }
            }
            m
        };
        let elements = vec![
            ("1".to_owned(), rates(Some(95.0), Some(90.0), Some(70.0))),
            ("2".to_owned(), rates(Some(95.0), Some(80.0), Some(79.9))),
            ("3".to_owned(), rates(Some(90.0), None, Some(74.9))),
        ];
        let f = flags(&elements, DEFAULT_MARGIN);
        let seen: Vec<(ComparisonFlag, &str, f64)> = f
            .iter()
            .map(|x| (x.kind, x.element.as_str(), x.difference))
            .collect();
        assert_eq!(
            seen,
            [
                (ComparisonFlag::LenientReview, "1", 20.0),
                (ComparisonFlag::OptimisticSelf, "2", 15.0),
                (ComparisonFlag::OptimisticSelf, "3", 15.1),
            ]
        );
    }

    #[test]
    fn results_are_checked_against_the_standard() {
        let mut r = Results::default();
        r.items.insert(
            "A.1.1".into(),
            ItemResult {
                deducted: 501,
                veto_hit: true,
                ..ItemResult::default()
            },
        );
        r.items.insert("Z.9".into(), ItemResult::default());
        r.items.insert(
            "B.1.1".into(),
            ItemResult {
                not_applicable: Some(" ".into()),
                ..ItemResult::default()
            },
        );
        r.extra.insert("A".into(), 11);
        r.extra.insert("B".into(), 1);
        let errors = r.check(&standard()).err().unwrap_or_default();
        let pointers: Vec<&str> = errors.iter().map(|v| v.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/items/A.1.1/deducted",
                "/items/A.1.1/veto_hit",
                "/items/B.1.1/not_applicable",
                "/items/Z.9",
                "/extra/A",
                "/extra/B"
            ]
        );
        assert_eq!(percent_half_up(2, 3), Some(66.7));
        assert_eq!(percent_half_up(1, 8), Some(12.5));
    }
}
