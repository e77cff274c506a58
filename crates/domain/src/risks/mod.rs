//! Risk graded control (安全风险分级管控): analysis units per post, process step, device,
//! place or activity; risks scored by a method (LEC, LS, or a direct judgement) into four
//! levels through a versioned band table; control measures.
//!
//! Rules (domain research §5.2, §14): four levels 重大 / 较大 / 一般 / 低 shown red / orange /
//! yellow / blue (安委办〔2016〕11号); LEC D = L × E × C with its factor tables, LS R = L × S
//! on 1–5 scales; how scores map to levels is not fixed nationally, so the band tables are
//! data with a version, two LEC variants among them; a risk that matches a major-hazard
//! determination item is 重大 whatever its score; the residual risk (after measures) is never
//! above the inherent one. The notice 绵应急函〔2020〕42号 三（一） asks for risks identified at
//! every post, process and step (逐个岗位、逐项工艺、逐个环节).

use crate::{CodeList, code_list};

code_list! {
    /// What an analysis unit (风险分析单元) is.
    pub enum UnitKind {
        /// 岗位.
        Post = ("post", "岗位"),
        /// 工艺步骤 / 作业环节.
        ProcessStep = ("process_step", "工艺步骤"),
        /// 设备设施.
        Equipment = ("equipment", "设备设施"),
        /// 场所.
        Place = ("place", "场所"),
        /// 作业活动.
        Activity = ("activity", "作业活动"),
    }
}

/// A control level (管控层级): where a risk is controlled. The list is the city's
/// (`control_levels` in the rules file); the built-in one is common practice by level —
/// 重大 company, 较大 department, 一般 team, 低 post (domain research §5.2).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlLevel {
    /// The wire value, like `team`.
    pub code: String,
    /// Its Chinese name, like 班组级.
    pub label_zh: String,
}

impl ControlLevel {
    /// The built-in list: company, department (workshop), team, post.
    pub fn builtin() -> Vec<Self> {
        [
            ("company", "公司级"),
            ("department", "部门（车间）级"),
            ("team", "班组级"),
            ("post", "岗位级"),
        ]
        .into_iter()
        .map(|(code, label)| Self {
            code: code.to_owned(),
            label_zh: label.to_owned(),
        })
        .collect()
    }

    /// Why a city's list cannot be used: empty, a code not in snake case (up to 32
    /// characters), a label missing, or a code twice.
    pub fn check_list(list: &[Self]) -> Result<(), String> {
        if list.is_empty() {
            return Err("control_levels: at least one level".into());
        }
        for (i, l) in list.iter().enumerate() {
            let code_ok = !l.code.is_empty()
                && l.code.len() <= 32
                && l.code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !code_ok || l.label_zh.trim().is_empty() {
                return Err(format!(
                    "control_levels: '{}' needs a snake_case code of up to 32 characters and a label_zh",
                    l.code
                ));
            }
            if list[..i].iter().any(|o| o.code == l.code) {
                return Err(format!("control_levels: '{}' appears twice", l.code));
            }
        }
        Ok(())
    }
}

code_list! {
    /// A risk level (风险等级; national codes 1–4) and its colour.
    pub enum RiskLevel {
        /// 1 重大风险, red.
        Major = ("major", "重大风险"),
        /// 2 较大风险, orange.
        Significant = ("significant", "较大风险"),
        /// 3 一般风险, yellow.
        General = ("general", "一般风险"),
        /// 4 低风险, blue.
        Low = ("low", "低风险"),
    }
}

impl RiskLevel {
    /// Its colour on the four-colour map (红 / 橙 / 黄 / 蓝).
    pub fn colour(self) -> &'static str {
        match self {
            Self::Major => "red",
            Self::Significant => "orange",
            Self::General => "yellow",
            Self::Low => "blue",
        }
    }

    /// Severity, 4 for 重大 down to 1 for 低.
    pub fn rank(self) -> u8 {
        match self {
            Self::Major => 4,
            Self::Significant => 3,
            Self::General => 2,
            Self::Low => 1,
        }
    }
}

code_list! {
    /// How a risk is scored.
    pub enum RiskMethod {
        /// 作业条件危险性评价法: D = L × E × C.
        Lec = ("lec", "作业条件危险性评价法（LEC）"),
        /// 风险矩阵法: R = L × S, each 1–5.
        Ls = ("ls", "风险矩阵法（LS）"),
        /// MES: R = M × E × S (control measures, exposure, severity).
        Mes = ("mes", "MES 评价法"),
        /// A direct judgement of the level, with a reason.
        Direct = ("direct", "直接判定"),
    }
}

code_list! {
    /// How a control measure works (管控方式; national codes 1–2).
    pub enum MeasureMode {
        /// 1 自动化监控.
        Monitoring = ("monitoring", "自动化监控"),
        /// 2 隐患排查.
        Inspection = ("inspection", "隐患排查"),
    }
}

code_list! {
    /// A control measure's first class (管控措施分类1; national codes 1–4).
    pub enum MeasureClass {
        /// 1 工程技术.
        Engineering = ("engineering", "工程技术"),
        /// 2 维护保养.
        Maintenance = ("maintenance", "维护保养"),
        /// 3 操作行为.
        Operation = ("operation", "操作行为"),
        /// 4 应急措施.
        Emergency = ("emergency", "应急措施"),
    }
}

/// LEC factor tables (domain research §5.2, (C)): likelihood, exposure, consequence.
pub const LEC_L: [f64; 7] = [10.0, 6.0, 3.0, 1.0, 0.5, 0.2, 0.1];
/// Exposure values.
pub const LEC_E: [f64; 6] = [10.0, 6.0, 3.0, 2.0, 1.0, 0.5];
/// Consequence values.
pub const LEC_C: [f64; 6] = [100.0, 40.0, 15.0, 7.0, 3.0, 1.0];
/// LS scales: likelihood and severity 1–5 (domain research §5.2, (C)).
pub const LS_SCALE: [f64; 5] = [1.0, 2.0, 3.0, 4.0, 5.0];
/// MES control measures M: 5 none, 3 mitigating only (alarms, PPE), 1 effective preventive
/// measures (domain research §14, (C)).
pub const MES_M: [f64; 3] = [5.0, 3.0, 1.0];
/// MES exposure E: 10 continuous, 6 daily in working hours, 3 weekly or occasional, 2
/// monthly, 1 a few times a year, 0.5 rarer (domain research §14, (C)).
pub const MES_E: [f64; 6] = [10.0, 6.0, 3.0, 2.0, 1.0, 0.5];
/// MES severity S: 10, 8, 4, 2, 1 (domain research §14, (R): recalled, to be checked).
pub const MES_S: [f64; 5] = [10.0, 8.0, 4.0, 2.0, 1.0];

/// A band table: scores above each threshold (highest first) get its level; the rest the
/// last level. Versioned data: the shipped tables are [`builtin_band_tables`]; a city adds
/// or replaces tables in its rules file (`dual_prevention.band_tables`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandTable {
    /// Its id, with the version (`lec-a@2026-12-05`).
    pub id: String,
    /// The method it grades.
    pub method: RiskMethod,
    /// What it is, in Chinese.
    pub title: String,
    /// `[above, level]`, highest first: a score strictly above `above` gets `level`.
    pub bands: Vec<(u32, RiskLevel)>,
    /// The level of scores not above any threshold.
    pub rest: RiskLevel,
}

impl BandTable {
    /// The level of `score`.
    pub fn level(&self, score: f64) -> RiskLevel {
        self.bands
            .iter()
            .find(|(above, _)| score > f64::from(*above))
            .map_or(self.rest, |(_, l)| *l)
    }

    /// Why the table cannot be used: a method without a score, thresholds not strictly
    /// falling, levels not falling with them, or an id without its version (`name@version`).
    pub fn check(&self) -> Result<(), String> {
        if self.method == RiskMethod::Direct {
            return Err(format!("{}: a direct judgement has no band table", self.id));
        }
        let Some((name, version)) = self.id.split_once('@') else {
            return Err(format!(
                "{}: the id needs its version, like lec-c@2027-01-01",
                self.id
            ));
        };
        if name.is_empty() || version.is_empty() || self.title.trim().is_empty() {
            return Err(format!(
                "{}: the id's name and version and the title are required",
                self.id
            ));
        }
        let thresholds_fall = self.bands.windows(2).all(|w| w[0].0 > w[1].0);
        let levels: Vec<u8> = self
            .bands
            .iter()
            .map(|(_, l)| l.rank())
            .chain(std::iter::once(self.rest.rank()))
            .collect();
        let falling = thresholds_fall && levels.windows(2).all(|w| w[0] > w[1]);
        if self.bands.is_empty() || !falling {
            return Err(format!(
                "{}: the thresholds must fall strictly, each band a lower level than the one above",
                self.id
            ));
        }
        Ok(())
    }
}

/// The band tables shipped (domain research §5.2, §14): LEC variants A and B (the 5 D bands
/// mapped to 4 levels two ways, both in use), the common LS scheme, and MES (its 5 bands,
/// > 180 … ≤ 18, mapped to 4 levels: 1 重大, 2 较大, 3 一般, 4–5 低; (R)).
pub fn builtin_band_tables() -> Vec<BandTable> {
    let table = |id: &str, method, title: &str, bands: &[(u32, RiskLevel)]| BandTable {
        id: id.to_owned(),
        method,
        title: title.to_owned(),
        bands: bands.to_vec(),
        rest: RiskLevel::Low,
    };
    vec![
        table(
            "lec-a@2026-12-05",
            RiskMethod::Lec,
            "LEC 分级（甲）：D>320 重大，160–320 较大，70–160 一般，≤70 低",
            &[
                (320, RiskLevel::Major),
                (160, RiskLevel::Significant),
                (70, RiskLevel::General),
            ],
        ),
        table(
            "lec-b@2026-12-05",
            RiskMethod::Lec,
            "LEC 分级（乙）：D>160 重大，70–160 较大，20–70 一般，≤20 低",
            &[
                (160, RiskLevel::Major),
                (70, RiskLevel::Significant),
                (20, RiskLevel::General),
            ],
        ),
        table(
            "ls-a@2026-12-05",
            RiskMethod::Ls,
            "LS 风险矩阵分级：20–25 重大，15–16 较大，9–12 一般，1–8 低",
            &[
                (19, RiskLevel::Major),
                (14, RiskLevel::Significant),
                (8, RiskLevel::General),
            ],
        ),
        table(
            "mes-a@2026-12-05",
            RiskMethod::Mes,
            "MES 分级：R>180 重大（一级），90–180 较大（二级），48–90 一般（三级），≤48 低（四、五级）",
            &[
                (180, RiskLevel::Major),
                (90, RiskLevel::Significant),
                (48, RiskLevel::General),
            ],
        ),
    ]
}

/// What an assessment of a risk says.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Assessed {
    /// The method.
    pub method: String,
    /// The factors as given (`l`, `e`, `c` or `l`, `s`); empty for a direct judgement.
    pub factors: Vec<(String, f64)>,
    /// The score (none for a direct judgement).
    pub score: Option<f64>,
    /// The level.
    pub level: RiskLevel,
    /// The band table used (none for a direct judgement).
    pub band_table: Option<String>,
    /// Forced to 重大 by a determination criterion.
    pub forced_major: bool,
}

/// Why an assessment is refused (422 at the field named).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The member, like `l`, `band_table`.
    pub field: &'static str,
    /// Why, in Chinese.
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> Invalid {
    Invalid {
        field,
        message: message.into(),
    }
}

/// What is asked to score a risk.
#[derive(Debug, Clone, PartialEq)]
pub struct Scoring {
    /// The method.
    pub method: RiskMethod,
    /// LEC: L, E, C; LS: L, S; MES: M, E, S (in the `l`, `e`, `c`, `s`, `m` members).
    pub l: Option<f64>,
    /// Control measures (MES).
    pub m: Option<f64>,
    /// Exposure (LEC).
    pub e: Option<f64>,
    /// Consequence (LEC).
    pub c: Option<f64>,
    /// Severity (LS).
    pub s: Option<f64>,
    /// The band table (default: the method's first).
    pub band_table: Option<String>,
    /// The level of a direct judgement.
    pub level: Option<RiskLevel>,
}

impl Scoring {
    /// An LEC scoring with factors `l`, `e`, `c` through `band_table` (default: LEC's).
    pub fn lec(l: f64, e: f64, c: f64, band_table: Option<&str>) -> Self {
        Self {
            method: RiskMethod::Lec,
            l: Some(l),
            m: None,
            e: Some(e),
            c: Some(c),
            s: None,
            band_table: band_table.map(str::to_owned),
            level: None,
        }
    }
}

/// Scores a risk: the factors checked against the method's tables, the product, the level
/// from the band table (one of `tables`, by default the first of the method);
/// `forced_major` (a determination criterion matched) makes it 重大.
pub fn assess(
    s: &Scoring,
    forced_major: bool,
    tables: &[BandTable],
) -> Result<Assessed, Vec<Invalid>> {
    let mut bad = Vec::new();
    let mut factor = |name: &'static str, v: Option<f64>, allowed: &[f64]| -> Option<f64> {
        match v {
            None => {
                bad.push(invalid(name, format!("{name} 为必填")));
                None
            }
            Some(x) if allowed.iter().any(|a| (a - x).abs() < 1e-9) => Some(x),
            Some(x) => {
                let list: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
                bad.push(invalid(
                    name,
                    format!("{name} = {x} 不在取值表中（{}）", list.join("、")),
                ));
                None
            }
        }
    };
    let (factors, score) = match s.method {
        RiskMethod::Lec => {
            let (l, e, c) = (
                factor("l", s.l, &LEC_L),
                factor("e", s.e, &LEC_E),
                factor("c", s.c, &LEC_C),
            );
            match (l, e, c) {
                (Some(l), Some(e), Some(c)) => (
                    vec![("l".into(), l), ("e".into(), e), ("c".into(), c)],
                    Some(l * e * c),
                ),
                _ => (Vec::new(), None),
            }
        }
        RiskMethod::Ls => {
            let (l, sv) = (factor("l", s.l, &LS_SCALE), factor("s", s.s, &LS_SCALE));
            match (l, sv) {
                (Some(l), Some(sv)) => (vec![("l".into(), l), ("s".into(), sv)], Some(l * sv)),
                _ => (Vec::new(), None),
            }
        }
        RiskMethod::Mes => {
            let (m, e, sv) = (
                factor("m", s.m, &MES_M),
                factor("e", s.e, &MES_E),
                factor("s", s.s, &MES_S),
            );
            match (m, e, sv) {
                (Some(m), Some(e), Some(sv)) => (
                    vec![("m".into(), m), ("e".into(), e), ("s".into(), sv)],
                    Some(m * e * sv),
                ),
                _ => (Vec::new(), None),
            }
        }
        RiskMethod::Direct => (Vec::new(), None),
    };
    let table = match s.method {
        RiskMethod::Direct => None,
        method => match s.band_table.as_deref() {
            None => {
                let default = tables.iter().find(|t| t.method == method);
                if default.is_none() {
                    bad.push(invalid(
                        "method",
                        format!("本市规则未配置{}的分级表", method.label_zh()),
                    ));
                }
                default
            }
            Some(id) => match tables.iter().find(|t| t.id == id) {
                Some(t) if t.method == method => Some(t),
                Some(t) => {
                    bad.push(invalid(
                        "band_table",
                        format!(
                            "{id} 是{}的分级表，不能用于{}",
                            t.method.label_zh(),
                            method.label_zh()
                        ),
                    ));
                    None
                }
                None => {
                    let ids: Vec<&str> = tables.iter().map(|t| t.id.as_str()).collect();
                    bad.push(invalid(
                        "band_table",
                        format!("没有分级表 {id}（可用：{}）", ids.join("、")),
                    ));
                    None
                }
            },
        },
    };
    if s.method == RiskMethod::Direct && s.level.is_none() && !forced_major {
        bad.push(invalid("level", "直接判定须写明风险等级（level）"));
    }
    if !bad.is_empty() {
        return Err(bad);
    }
    let by_score = match (score, table) {
        (Some(x), Some(t)) => Some(t.level(x)),
        _ => s.level,
    };
    let level = if forced_major {
        RiskLevel::Major
    } else {
        by_score.unwrap_or(RiskLevel::Low)
    };
    Ok(Assessed {
        method: s.method.as_str().to_owned(),
        factors,
        score,
        level,
        band_table: table.map(|t| t.id.clone()),
        forced_major,
    })
}

/// The residual risk (after the control measures) may not be above the inherent one: not a
/// higher level, and with the same method not a higher score.
pub fn check_residual(inherent: &Assessed, residual: &Assessed) -> Result<(), Invalid> {
    let higher_level = residual.level.rank() > inherent.level.rank();
    let higher_score = inherent.method == residual.method
        && matches!((inherent.score, residual.score), (Some(i), Some(r)) if r > i);
    if higher_level || higher_score {
        Err(invalid(
            "residual",
            format!(
                "剩余风险（{}{}）高于固有风险（{}{}）：管控措施落实后风险不应升高",
                residual.level.label_zh(),
                residual.score.map(|s| format!("，{s}")).unwrap_or_default(),
                inherent.level.label_zh(),
                inherent.score.map(|s| format!("，{s}")).unwrap_or_default(),
            ),
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assess_builtin(s: &Scoring, forced: bool) -> Result<Assessed, Vec<Invalid>> {
        assess(s, forced, &builtin_band_tables())
    }

    fn lec(l: f64, e: f64, c: f64, table: Option<&str>) -> Scoring {
        Scoring::lec(l, e, c, table)
    }

    #[test]
    fn an_lec_risk_under_both_band_variants() {
        // D = 3 × 6 × 15 = 270: 较大 under variant A, 重大 under variant B.
        let a = assess_builtin(&lec(3.0, 6.0, 15.0, Some("lec-a@2026-12-05")), false);
        let b = assess_builtin(&lec(3.0, 6.0, 15.0, Some("lec-b@2026-12-05")), false);
        assert_eq!(
            a.map(|x| (x.score, x.level)),
            Ok((Some(270.0), RiskLevel::Significant))
        );
        assert_eq!(b.map(|x| x.level), Ok(RiskLevel::Major));
        // Band edges: D = 160 is not above 160.
        let tables = builtin_band_tables();
        assert_eq!(tables[0].level(160.0), RiskLevel::General);
        assert_eq!(tables[0].level(160.5), RiskLevel::Significant);
        assert!(tables.iter().all(|t| t.check().is_ok()));
    }

    #[test]
    fn factors_come_from_the_tables_and_criteria_force_major() {
        let bad = assess_builtin(&lec(4.0, 6.0, 15.0, None), false);
        assert!(bad.is_err_and(|v| v[0].field == "l"));
        let wrong = assess_builtin(&lec(3.0, 6.0, 15.0, Some("ls-a@2026-12-05")), false);
        assert!(wrong.is_err_and(|v| v[0].field == "band_table"));
        let low = assess_builtin(&lec(0.5, 1.0, 1.0, None), true);
        assert_eq!(
            low.map(|x| (x.level, x.forced_major)),
            Ok((RiskLevel::Major, true))
        );
        let ls = Scoring {
            method: RiskMethod::Ls,
            l: Some(4.0),
            m: None,
            s: Some(4.0),
            e: None,
            c: None,
            band_table: None,
            level: None,
        };
        assert_eq!(
            assess_builtin(&ls, false).map(|x| x.level),
            Ok(RiskLevel::Significant)
        );
    }

    #[test]
    fn the_residual_risk_is_never_above_the_inherent() {
        let inherent =
            assess_builtin(&lec(3.0, 6.0, 15.0, None), false).unwrap_or_else(|e| panic!("{e:?}"));
        let lower =
            assess_builtin(&lec(1.0, 6.0, 15.0, None), false).unwrap_or_else(|e| panic!("{e:?}"));
        let higher =
            assess_builtin(&lec(6.0, 6.0, 15.0, None), false).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(check_residual(&inherent, &lower).is_ok());
        assert!(check_residual(&inherent, &higher).is_err());
        assert_eq!(RiskLevel::Major.colour(), "red");
        assert!(ControlLevel::check_list(&ControlLevel::builtin()).is_ok());
    }

    #[test]
    fn mes_scores_through_its_table_and_a_city_table_must_fall() {
        let mes = |m: f64, e: f64, s: f64| Scoring {
            method: RiskMethod::Mes,
            l: None,
            m: Some(m),
            e: Some(e),
            c: None,
            s: Some(s),
            band_table: None,
            level: None,
        };
        // R = 3 × 6 × 8 = 144: 二级, 较大.
        let a = assess_builtin(&mes(3.0, 6.0, 8.0), false);
        assert_eq!(
            a.map(|x| (x.score, x.level, x.band_table)),
            Ok((
                Some(144.0),
                RiskLevel::Significant,
                Some("mes-a@2026-12-05".to_owned())
            ))
        );
        // M = 4 is not on the MES scale.
        assert!(assess_builtin(&mes(4.0, 6.0, 8.0), false).is_err_and(|v| v[0].field == "m"));
        // A city that configured no MES table cannot score with it.
        let lec_only: Vec<BandTable> = builtin_band_tables()
            .into_iter()
            .filter(|t| t.method == RiskMethod::Lec)
            .collect();
        assert!(
            assess(&mes(3.0, 6.0, 8.0), false, &lec_only).is_err_and(|v| v[0].field == "method")
        );
        // A table whose thresholds or levels do not fall is refused.
        let mut bad = builtin_band_tables().remove(0);
        bad.bands.swap(0, 1);
        assert!(bad.check().is_err());
        bad.bands.swap(0, 1);
        bad.id = "lec-c".into();
        assert!(bad.check().is_err(), "an id without its version");
    }
}
