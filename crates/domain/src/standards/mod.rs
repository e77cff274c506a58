//! Grading standards (评定标准) as versioned element trees: first-level elements (一级要素) →
//! second-level elements (二级要素) → check items (评分项), each item with its points, its
//! deduction method, an optional extra deduction charged to its element (追加扣分) and an
//! optional veto (否决项) with its effect.
//!
//! Rule: 定级办法 art. 4 — the ministry writes grading standards per industry; where it has
//! none, a province writes its own or uses the standard accompanying GB/T 33000. No such file
//! is published for Sichuan's industry & trade enterprises, so a standard is always data the
//! bureau loads, never code. A version is immutable once stored: a change is a new version, and
//! a grade stays tied to the version it was scored under.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::grading::Grade;
use crate::{Scale, Sector, StandardId, Violation, ViolationCode as V, code_list};

code_list! {
    /// What hitting a veto item (否决项) does to the grade.
    pub enum VetoEffect {
        /// No grade at all.
        NoGrade = ("no_grade", "不予定级"),
        /// The grade is capped at `cap`.
        Cap = ("cap", "等级封顶"),
    }
}

/// A veto on a check item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Veto {
    /// The effect.
    pub effect: VetoEffect,
    /// For `cap`: the highest grade still possible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<Grade>,
}

/// A check item (评分项).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Its code, unique in the standard ("2.1.1").
    pub code: String,
    /// What is checked (考评内容).
    pub text: String,
    /// Its points.
    pub points: u32,
    /// How points are deducted (评分方法).
    pub method: String,
    /// The most a reviewer may deduct beyond the item, charged to its element (追加扣分).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_deduction_max: Option<u32>,
    /// A veto, when hitting this item decides the grade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub veto: Option<Veto>,
}

/// A second-level element (二级要素).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubElement {
    /// Its code ("2.1").
    pub code: String,
    /// Its title.
    pub title: String,
    /// Its check items (none in a frame).
    pub items: Vec<Item>,
}

/// A first-level element (一级要素).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Element {
    /// Its code ("2").
    pub code: String,
    /// Its title.
    pub title: String,
    /// Its points: the sum of its items' points.
    pub points: u32,
    /// The GB/T 33000 element it implements ("5.1").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implements: Option<String>,
    /// The lowest rate (earned ÷ applicable × 100) this element must reach for a grade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_rate: Option<f64>,
    /// Its second-level elements.
    pub sub_elements: Vec<SubElement>,
}

/// The total score (0–100) each grade needs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// 一级.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade_1: Option<f64>,
    /// 二级.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade_2: Option<f64>,
    /// 三级.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade_3: Option<f64>,
    /// 小微达标.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub small_micro: Option<f64>,
}

/// One version of a grading standard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandardData {
    /// Its code, the same across versions ("AQ/T 9006-2010-仓储物流").
    pub code: String,
    /// Its version ("2014").
    pub version: String,
    /// Its title.
    pub title: String,
    /// The sectors it applies to (empty: any).
    pub sectors: Vec<Sector>,
    /// The enterprise scales it applies to (empty: any).
    pub scales: Vec<Scale>,
    /// Full points: the sum of the elements' points (0 for a frame without items).
    pub full_points: u32,
    /// Total score per grade (none for a frame).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<Thresholds>,
    /// The safety-performance rule the standard refers to (安全绩效), as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performance_rule: Option<String>,
    /// How far back accidents count for the safety-performance grade, in months.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performance_lookback_months: Option<u32>,
    /// Where the standard comes from, and whether it is official.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The elements.
    pub elements: Vec<Element>,
}

impl StandardData {
    /// The number of check items.
    pub fn item_count(&self) -> usize {
        self.elements
            .iter()
            .flat_map(|e| &e.sub_elements)
            .map(|s| s.items.len())
            .sum()
    }
}

/// A stored standard version.
#[derive(Debug, Clone, PartialEq)]
pub struct Standard {
    /// Id.
    pub id: StandardId,
    /// The tree.
    pub data: StandardData,
}

/// Limits of a standard as the API takes it.
pub mod limits {
    /// Characters of a code (standard, element, item).
    pub const CODE: usize = 50;
    /// Characters of a version.
    pub const VERSION: usize = 30;
    /// Characters of a title.
    pub const TITLE: usize = 200;
    /// Characters of an item's text or method, of the performance rule and of the source.
    pub const TEXT: usize = 2000;
    /// Elements of a standard.
    pub const ELEMENTS: usize = 30;
    /// Check items of a standard.
    pub const ITEMS: usize = 1000;
    /// Points of one item.
    pub const ITEM_POINTS: u32 = 1000;
    /// An extra deduction, at most.
    pub const EXTRA_DEDUCTION: u32 = 100;
}

/// A veto as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VetoInput {
    /// `no_grade` or `cap`.
    pub effect: Option<String>,
    /// For `cap`: the highest grade still possible.
    pub cap: Option<String>,
}

/// A check item as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    /// See [`Item::code`].
    pub code: Option<String>,
    /// See [`Item::text`].
    pub text: Option<String>,
    /// See [`Item::points`].
    pub points: Option<u32>,
    /// See [`Item::method`].
    pub method: Option<String>,
    /// See [`Item::extra_deduction_max`].
    pub extra_deduction_max: Option<u32>,
    /// See [`Item::veto`].
    pub veto: Option<VetoInput>,
}

/// A second-level element as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubElementInput {
    /// See [`SubElement::code`].
    pub code: Option<String>,
    /// See [`SubElement::title`].
    pub title: Option<String>,
    /// See [`SubElement::items`].
    #[serde(default)]
    pub items: Vec<ItemInput>,
}

/// A first-level element as sent.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElementInput {
    /// See [`Element::code`].
    pub code: Option<String>,
    /// See [`Element::title`].
    pub title: Option<String>,
    /// See [`Element::points`].
    pub points: Option<u32>,
    /// See [`Element::implements`].
    pub implements: Option<String>,
    /// See [`Element::min_rate`].
    pub min_rate: Option<f64>,
    /// See [`Element::sub_elements`].
    #[serde(default)]
    pub sub_elements: Vec<SubElementInput>,
}

/// Thresholds as sent.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdsInput {
    /// See [`Thresholds::grade_1`].
    pub grade_1: Option<f64>,
    /// See [`Thresholds::grade_2`].
    pub grade_2: Option<f64>,
    /// See [`Thresholds::grade_3`].
    pub grade_3: Option<f64>,
    /// See [`Thresholds::small_micro`].
    pub small_micro: Option<f64>,
}

/// A standard as sent (`POST /api/v1/standards`, `safegrade standard import`), unvalidated.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StandardInput {
    /// See [`StandardData::code`].
    pub code: Option<String>,
    /// See [`StandardData::version`].
    pub version: Option<String>,
    /// See [`StandardData::title`].
    pub title: Option<String>,
    /// See [`StandardData::sectors`].
    #[serde(default)]
    pub sectors: Vec<String>,
    /// See [`StandardData::scales`].
    #[serde(default)]
    pub scales: Vec<String>,
    /// See [`StandardData::full_points`].
    pub full_points: Option<u32>,
    /// See [`StandardData::thresholds`].
    pub thresholds: Option<ThresholdsInput>,
    /// See [`StandardData::performance_rule`].
    pub performance_rule: Option<String>,
    /// See [`StandardData::performance_lookback_months`].
    pub performance_lookback_months: Option<u32>,
    /// See [`StandardData::source`].
    pub source: Option<String>,
    /// See [`StandardData::elements`].
    #[serde(default)]
    pub elements: Vec<ElementInput>,
}

/// Collects violations at JSON Pointers.
struct At(Vec<Violation>);

impl At {
    fn fail(&mut self, pointer: String, code: V, message: String) {
        self.0.push(Violation {
            pointer,
            code,
            message,
        });
    }

    /// Trimmed, non-blank text of at most `max` characters, or a violation at `pointer`.
    fn text(&mut self, pointer: String, value: Option<&str>, max: usize) -> String {
        let field = pointer.rsplit('/').next().unwrap_or_default().to_owned();
        match value.map(str::trim) {
            None => {
                self.fail(pointer, V::Required, format!("{field} 为必填"));
                String::new()
            }
            Some("") => {
                self.fail(pointer, V::Blank, format!("{field} 不能为空"));
                String::new()
            }
            Some(t) if t.chars().count() > max => {
                self.fail(pointer, V::TooLong, format!("{field} 最多 {max} 个字符"));
                String::new()
            }
            Some(t) => t.to_owned(),
        }
    }

    fn optional_text(
        &mut self,
        pointer: String,
        value: Option<&str>,
        max: usize,
    ) -> Option<String> {
        value
            .filter(|t| !t.trim().is_empty())
            .map(|t| self.text(pointer, Some(t), max))
    }

    fn rate(&mut self, pointer: String, value: Option<f64>) -> Option<f64> {
        let v = value?;
        if v.is_finite() && (0.0..=100.0).contains(&v) {
            Some(v)
        } else {
            self.fail(
                pointer,
                V::OutOfRange,
                format!("须在 0 到 100 之间，实际为 {v}"),
            );
            None
        }
    }

    fn unique(&mut self, seen: &mut HashSet<String>, pointer: String, code: &str) {
        if !code.is_empty() && !seen.insert(code.to_owned()) {
            self.fail(
                pointer,
                V::InvalidValue,
                format!("代码 {code} 在本标准中重复"),
            );
        }
    }
}

impl StandardInput {
    /// Validates the tree: texts present and within limits, codes unique in the standard,
    /// each element's points the sum of its items' points and the full points the sum of the
    /// elements' (422 with a pointer at each that does not add up), thresholds between 0 and
    /// 100 and falling from 一级 to 三级, a capping veto naming its cap.
    pub fn validate(&self) -> Result<StandardData, Vec<Violation>> {
        let mut at = At(Vec::new());
        let code = at.text("/code".into(), self.code.as_deref(), limits::CODE);
        let version = at.text("/version".into(), self.version.as_deref(), limits::VERSION);
        let title = at.text("/title".into(), self.title.as_deref(), limits::TITLE);
        let mut sectors = Vec::new();
        for (i, s) in self.sectors.iter().enumerate() {
            match s.parse::<Sector>() {
                Ok(s) if !sectors.contains(&s) => sectors.push(s),
                Ok(_) => {}
                Err(e) => at.fail(format!("/sectors/{i}"), V::InvalidValue, e.to_string()),
            }
        }
        let mut scales = Vec::new();
        for (i, s) in self.scales.iter().enumerate() {
            match s.parse::<Scale>() {
                Ok(s) if !scales.contains(&s) => scales.push(s),
                Ok(_) => {}
                Err(e) => at.fail(format!("/scales/{i}"), V::InvalidValue, e.to_string()),
            }
        }
        let thresholds = self.thresholds.as_ref().map(|t| Thresholds {
            grade_1: at.rate("/thresholds/grade_1".into(), t.grade_1),
            grade_2: at.rate("/thresholds/grade_2".into(), t.grade_2),
            grade_3: at.rate("/thresholds/grade_3".into(), t.grade_3),
            small_micro: at.rate("/thresholds/small_micro".into(), t.small_micro),
        });
        if let Some(t) = thresholds {
            let ordered = [
                ("grade_1", t.grade_1),
                ("grade_2", t.grade_2),
                ("grade_3", t.grade_3),
            ];
            let given: Vec<(&str, f64)> = ordered
                .iter()
                .filter_map(|(n, v)| v.map(|v| (*n, v)))
                .collect();
            for pair in given.windows(2) {
                if pair[0].1 <= pair[1].1 {
                    at.fail(
                        format!("/thresholds/{}", pair[1].0),
                        V::OutOfRange,
                        format!(
                            "{} 的分数线（{}）须低于 {} 的（{}）",
                            pair[1].0, pair[1].1, pair[0].0, pair[0].1
                        ),
                    );
                }
            }
        }
        let performance_rule = at.optional_text(
            "/performance_rule".into(),
            self.performance_rule.as_deref(),
            limits::TEXT,
        );
        let source = at.optional_text("/source".into(), self.source.as_deref(), limits::TEXT);
        if self.elements.len() > limits::ELEMENTS {
            at.fail(
                "/elements".into(),
                V::TooLong,
                format!("最多 {} 个一级要素", limits::ELEMENTS),
            );
        }
        let items: usize = self
            .elements
            .iter()
            .flat_map(|e| &e.sub_elements)
            .map(|s| s.items.len())
            .sum();
        if items > limits::ITEMS {
            at.fail(
                "/elements".into(),
                V::TooLong,
                format!("最多 {} 个评分项，实际为 {items} 个", limits::ITEMS),
            );
        }
        let mut seen = HashSet::new();
        let mut elements = Vec::with_capacity(self.elements.len());
        for (ei, e) in self.elements.iter().enumerate() {
            let p = format!("/elements/{ei}");
            let e_code = at.text(format!("{p}/code"), e.code.as_deref(), limits::CODE);
            at.unique(&mut seen, format!("{p}/code"), &e_code);
            let e_title = at.text(format!("{p}/title"), e.title.as_deref(), limits::TITLE);
            let implements = at.optional_text(
                format!("{p}/implements"),
                e.implements.as_deref(),
                limits::CODE,
            );
            let min_rate = at.rate(format!("{p}/min_rate"), e.min_rate);
            let mut sum = 0u32;
            let mut subs = Vec::with_capacity(e.sub_elements.len());
            for (si, s) in e.sub_elements.iter().enumerate() {
                let sp = format!("{p}/sub_elements/{si}");
                let s_code = at.text(format!("{sp}/code"), s.code.as_deref(), limits::CODE);
                at.unique(&mut seen, format!("{sp}/code"), &s_code);
                let s_title = at.text(format!("{sp}/title"), s.title.as_deref(), limits::TITLE);
                let mut list = Vec::with_capacity(s.items.len());
                for (ii, item) in s.items.iter().enumerate() {
                    let ip = format!("{sp}/items/{ii}");
                    let i_code = at.text(format!("{ip}/code"), item.code.as_deref(), limits::CODE);
                    at.unique(&mut seen, format!("{ip}/code"), &i_code);
                    let text = at.text(format!("{ip}/text"), item.text.as_deref(), limits::TEXT);
                    let method =
                        at.text(format!("{ip}/method"), item.method.as_deref(), limits::TEXT);
                    let points = match item.points {
                        None => {
                            at.fail(format!("{ip}/points"), V::Required, "points 为必填".into());
                            0
                        }
                        Some(0) => {
                            at.fail(
                                format!("{ip}/points"),
                                V::OutOfRange,
                                "评分项的分值至少为 1".into(),
                            );
                            0
                        }
                        Some(n) if n > limits::ITEM_POINTS => {
                            at.fail(
                                format!("{ip}/points"),
                                V::OutOfRange,
                                format!("评分项的分值最多 {}", limits::ITEM_POINTS),
                            );
                            0
                        }
                        Some(n) => n,
                    };
                    sum += points;
                    if let Some(x) = item
                        .extra_deduction_max
                        .filter(|x| *x == 0 || *x > limits::EXTRA_DEDUCTION)
                    {
                        at.fail(
                            format!("{ip}/extra_deduction_max"),
                            V::OutOfRange,
                            format!(
                                "追加扣分上限须在 1 到 {} 之间，实际为 {x}",
                                limits::EXTRA_DEDUCTION
                            ),
                        );
                    }
                    let veto = item.veto.as_ref().and_then(|v| {
                        let effect = match v.effect.as_deref().map(str::parse::<VetoEffect>) {
                            None => {
                                at.fail(
                                    format!("{ip}/veto/effect"),
                                    V::Required,
                                    "effect 为必填：no_grade 或 cap".into(),
                                );
                                return None;
                            }
                            Some(Err(e)) => {
                                at.fail(
                                    format!("{ip}/veto/effect"),
                                    V::InvalidValue,
                                    e.to_string(),
                                );
                                return None;
                            }
                            Some(Ok(e)) => e,
                        };
                        let cap = match (effect, v.cap.as_deref().map(str::parse::<Grade>)) {
                            (VetoEffect::Cap, None) => {
                                at.fail(
                                    format!("{ip}/veto/cap"),
                                    V::Required,
                                    "封顶的否决项须写明 cap（最高可定的等级）".into(),
                                );
                                return None;
                            }
                            (VetoEffect::NoGrade, Some(_)) => {
                                at.fail(
                                    format!("{ip}/veto/cap"),
                                    V::NotApplicable,
                                    "不予定级的否决项不填 cap".into(),
                                );
                                return None;
                            }
                            (_, Some(Err(e))) => {
                                at.fail(format!("{ip}/veto/cap"), V::InvalidValue, e.to_string());
                                return None;
                            }
                            (_, Some(Ok(g))) => Some(g),
                            (_, None) => None,
                        };
                        Some(Veto { effect, cap })
                    });
                    list.push(Item {
                        code: i_code,
                        text,
                        points,
                        method,
                        extra_deduction_max: item.extra_deduction_max,
                        veto,
                    });
                }
                subs.push(SubElement {
                    code: s_code,
                    title: s_title,
                    items: list,
                });
            }
            let points = match e.points {
                None => {
                    at.fail(format!("{p}/points"), V::Required, "points 为必填".into());
                    0
                }
                Some(n) if n != sum => {
                    at.fail(
                        format!("{p}/points"),
                        V::OutOfRange,
                        format!("一级要素 {e_code} 的分值为 {n}，但其评分项合计 {sum} 分"),
                    );
                    n
                }
                Some(n) => n,
            };
            elements.push(Element {
                code: e_code,
                title: e_title,
                points,
                implements,
                min_rate,
                sub_elements: subs,
            });
        }
        let total: u32 = elements.iter().map(|e| e.points).sum();
        let full_points = match self.full_points {
            None => {
                at.fail(
                    "/full_points".into(),
                    V::Required,
                    "full_points 为必填".into(),
                );
                0
            }
            Some(n) if n != total => {
                at.fail(
                    "/full_points".into(),
                    V::OutOfRange,
                    format!("满分为 {n}，但各一级要素合计 {total} 分"),
                );
                n
            }
            Some(n) => n,
        };
        if thresholds.is_some() && full_points == 0 {
            at.fail(
                "/thresholds".into(),
                V::NotApplicable,
                "没有评分项的框架不设分数线".into(),
            );
        }
        if !at.0.is_empty() {
            return Err(at.0);
        }
        Ok(StandardData {
            code,
            version,
            title,
            sectors,
            scales,
            full_points,
            thresholds,
            performance_rule,
            performance_lookback_months: self.performance_lookback_months,
            source,
            elements,
        })
    }
}

/// The standards shipped with SafeGrade, as JSON in the API's format: the GB/T 33000-2016
/// element frame (8 elements, their second-level elements, no items) and a demonstration
/// standard built from real check items of a published 仓储物流 scoring standard (an excerpt,
/// not an official standard: the book says so).
pub const BUILTIN: [&str; 2] = [
    include_str!("../../data/standards/gbt33000-2016-frame.json"),
    include_str!("../../data/standards/demo-warehousing.json"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn item(code: &str, points: u32) -> ItemInput {
        ItemInput {
            code: Some(code.into()),
            text: Some("检查内容".into()),
            points: Some(points),
            method: Some("扣分方法".into()),
            ..ItemInput::default()
        }
    }

    fn standard(element_points: u32, full: u32) -> StandardInput {
        StandardInput {
            code: Some("TEST".into()),
            version: Some("1".into()),
            title: Some("测试标准".into()),
            full_points: Some(full),
            thresholds: Some(ThresholdsInput {
                grade_1: Some(90.0),
                grade_2: Some(75.0),
                grade_3: Some(60.0),
                small_micro: None,
            }),
            elements: vec![ElementInput {
                code: Some("1".into()),
                title: Some("目标职责".into()),
                points: Some(element_points),
                sub_elements: vec![SubElementInput {
                    code: Some("1.1".into()),
                    title: Some("目标".into()),
                    items: vec![item("1.1.1", 4), item("1.1.2", 6)],
                }],
                ..ElementInput::default()
            }],
            ..StandardInput::default()
        }
    }

    #[test]
    fn points_must_add_up() {
        assert_eq!(standard(10, 10).validate().map(|s| s.item_count()), Ok(2));
        let errors = standard(12, 10).validate().err().unwrap_or_default();
        let pointers: Vec<&str> = errors.iter().map(|v| v.pointer.as_str()).collect();
        assert_eq!(pointers, ["/elements/0/points", "/full_points"]);
    }

    #[test]
    fn codes_are_unique_and_thresholds_fall() {
        let mut s = standard(10, 10);
        s.elements[0].sub_elements[0].items[1].code = Some("1.1.1".into());
        if let Some(t) = s.thresholds.as_mut() {
            t.grade_2 = Some(95.0);
        }
        s.elements[0].sub_elements[0].items[0].veto = Some(VetoInput {
            effect: Some("cap".into()),
            cap: None,
        });
        let errors = s.validate().err().unwrap_or_default();
        let pointers: Vec<&str> = errors.iter().map(|v| v.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/thresholds/grade_2",
                "/elements/0/sub_elements/0/items/0/veto/cap",
                "/elements/0/sub_elements/0/items/1/code"
            ]
        );
    }
}
