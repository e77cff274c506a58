//! The major-hazard determination criteria catalog (重大事故隐患判定标准): versioned data
//! shipped in `crates/domain/data/hazard-criteria.csv`, one row per numbered item.
//!
//! Rule: a hazard is major when it matches an item of the determination standard that applies
//! to the enterprise (工贸: 应急管理部令第10号, in force 2023-05-15; non-coal mines: 矿安〔2022〕88号,
//! in force 2022-09-01; domain research §4, §5.3, §13).

use std::sync::OnceLock;

use crate::{CodeList, Sector, code_list};

code_list! {
    /// A determination standard the catalog holds.
    pub enum CriteriaStandard {
        /// 《工贸企业重大事故隐患判定标准》（应急管理部令第10号）, by article.
        Mem2023No10 = ("MEM-2023-10", "工贸企业重大事故隐患判定标准（应急管理部令第10号）"),
        /// 《金属非金属矿山重大事故隐患判定标准》（矿安〔2022〕88号）, by section.
        Ka2022No88 = ("KA-2022-88", "金属非金属矿山重大事故隐患判定标准（矿安〔2022〕88号）"),
    }
}

/// One numbered item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criterion {
    /// The standard.
    pub standard: CriteriaStandard,
    /// Article (Order No. 10: "3" … "13") or section (88号: `underground`, `open_pit`,
    /// `tailings_pond`).
    pub article: String,
    /// Item number within it.
    pub item: u32,
    /// The industry or special area it covers: an enterprise sector code, or `general`,
    /// `dust_explosion`, `ammonia_refrigeration`, `confined_space`.
    pub sector: String,
    /// The topic in English (a paraphrase).
    pub topic_en: String,
    /// A short Chinese topic (a paraphrase, not the official wording).
    pub topic_zh: String,
    /// How sure the topic is: `C`, `R` or `U`.
    pub confidence: String,
}

impl Criterion {
    /// Its reference, like `MEM-2023-10/3/1`.
    pub fn reference(&self) -> String {
        format!("{}/{}/{}", self.standard.as_str(), self.article, self.item)
    }

    /// Whether it can apply to an enterprise of `sector`: 88号 to non-coal mines; Order No.
    /// 10's general and special-area items (dust, ammonia refrigeration, confined spaces) to
    /// every 工贸 enterprise, its industry articles to that industry (商贸 has none: only the
    /// general and special-area items, domain research §4.1).
    pub fn applies_to(&self, sector: Sector) -> bool {
        match self.standard {
            CriteriaStandard::Ka2022No88 => sector == Sector::NonCoalMine,
            CriteriaStandard::Mem2023No10 => {
                sector != Sector::NonCoalMine
                    && (SPECIAL.contains(&self.sector.as_str()) || self.sector == sector.as_str())
            }
        }
    }
}

/// Order No. 10's items for every 工贸 enterprise: the general article and the special areas.
const SPECIAL: [&str; 4] = [
    "general",
    "dust_explosion",
    "ammonia_refrigeration",
    "confined_space",
];

/// The catalog: its version and items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    /// The data version (the file's `version` line).
    pub version: String,
    /// The items, in file order.
    pub items: Vec<Criterion>,
}

impl Catalog {
    /// The item named by `standard`, `article` and `item`.
    pub fn find(&self, standard: CriteriaStandard, article: &str, item: u32) -> Option<&Criterion> {
        self.items
            .iter()
            .find(|c| c.standard == standard && c.article == article && c.item == item)
    }
}

/// The catalog shipped with SafeGrade.
pub fn builtin() -> &'static Catalog {
    static BUILTIN: OnceLock<Catalog> = OnceLock::new();
    #[expect(
        clippy::expect_used,
        reason = "the embedded file is checked by a unit test"
    )]
    BUILTIN.get_or_init(|| {
        parse(include_str!("../../data/hazard-criteria.csv")).expect("embedded catalog parses")
    })
}

/// Splits one CSV line into fields (double quotes around a field that holds commas, `""`
/// for a quote inside it).
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    out.push(field);
    out
}

/// Parses the catalog file: `#` comments, a `version,…` line, the header, one row per item.
pub fn parse(text: &str) -> Result<Catalog, String> {
    let mut version = None;
    let mut items = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("standard,") {
            continue;
        }
        let f = fields(line);
        if f[0] == "version" {
            version = f.get(1).cloned();
            continue;
        }
        let [
            standard,
            article,
            item,
            sector,
            topic_en,
            topic_zh,
            confidence,
        ] = f.as_slice()
        else {
            return Err(format!(
                "line {}: expected 7 fields, found {}",
                i + 1,
                f.len()
            ));
        };
        let standard = CriteriaStandard::from_code(standard)
            .ok_or_else(|| format!("line {}: unknown standard {standard}", i + 1))?;
        let item = item
            .parse()
            .map_err(|_| format!("line {}: item '{item}' is not a number", i + 1))?;
        items.push(Criterion {
            standard,
            article: article.clone(),
            item,
            sector: sector.clone(),
            topic_en: topic_en.clone(),
            topic_zh: topic_zh.clone(),
            confidence: confidence.clone(),
        });
    }
    Ok(Catalog {
        version: version.ok_or("no version line")?,
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalog_parses_with_its_known_gap() {
        let c = builtin();
        let count = |s| c.items.iter().filter(|i| i.standard == s).count();
        // The ministry counts 64 items in Order No. 10; the file has 63 (domain research §13).
        assert_eq!(count(CriteriaStandard::Mem2023No10), 63);
        assert_eq!(count(CriteriaStandard::Ka2022No88), 64);
        let general = c.find(CriteriaStandard::Mem2023No10, "3", 2);
        assert!(general.is_some_and(|g| g.topic_zh.contains("特种作业")));
        assert!(general.is_some_and(|g| g.applies_to(Sector::Commerce)));
        let tobacco = c.find(CriteriaStandard::Mem2023No10, "10", 1);
        assert!(tobacco.is_some_and(|t| t.applies_to(Sector::Tobacco)));
        assert!(tobacco.is_some_and(|t| !t.applies_to(Sector::Metallurgy)));
        assert!(
            c.items
                .iter()
                .filter(|i| i.applies_to(Sector::NonCoalMine))
                .all(|i| i.standard == CriteriaStandard::Ka2022No88)
        );
    }

    #[test]
    fn quoted_fields_keep_their_commas() {
        assert_eq!(fields(r#"a,"b, c",d"#), ["a", "b, c", "d"]);
        assert_eq!(fields(r#""say ""hi""",x"#), [r#"say "hi""#, "x"]);
    }
}
