//! Industry classification (国民经济行业分类, GB/T 4754-2017) and the supervision sector
//! (监管行业) derived from it.
//!
//! Rule: 应急厅〔2019〕17号 maps GB/T 4754-2017 codes to the eight industry & trade sectors;
//! non-coal mines are section B without 06 (coal) and 07 (oil and gas). Several rows are only
//! recalled or unconfirmed (应急厅〔2019〕17号, not checked against its text), so the mapping is data
//! (`data/sector-mapping.csv`, versioned), not code. See `book/src/ledger/sectors.md`.

use std::sync::OnceLock;

use crate::code_list;

code_list! {
    /// Supervision sector (监管行业): the eight industry & trade sectors, non-coal mines, other.
    pub enum Sector {
        /// 非煤矿山
        NonCoalMine = ("non_coal_mine", "非煤矿山"),
        /// 冶金
        Metallurgy = ("metallurgy", "冶金"),
        /// 有色
        Nonferrous = ("nonferrous", "有色"),
        /// 建材
        BuildingMaterials = ("building_materials", "建材"),
        /// 机械
        Machinery = ("machinery", "机械"),
        /// 轻工
        LightIndustry = ("light_industry", "轻工"),
        /// 纺织
        Textiles = ("textiles", "纺织"),
        /// 烟草
        Tobacco = ("tobacco", "烟草"),
        /// 商贸
        Commerce = ("commerce", "商贸"),
        /// Anything else (其他), including chemicals, which other rules regulate.
        Other = ("other", "其他"),
    }
}

/// GB/T 4754-2017 sections (门类) and the divisions (大类) each spans, inclusive.
pub const SECTIONS: &[(char, u8, u8, &str)] = &[
    ('A', 1, 5, "农、林、牧、渔业"),
    ('B', 6, 12, "采矿业"),
    ('C', 13, 43, "制造业"),
    ('D', 44, 46, "电力、热力、燃气及水生产和供应业"),
    ('E', 47, 50, "建筑业"),
    ('F', 51, 52, "批发和零售业"),
    ('G', 53, 60, "交通运输、仓储和邮政业"),
    ('H', 61, 62, "住宿和餐饮业"),
    ('I', 63, 65, "信息传输、软件和信息技术服务业"),
    ('J', 66, 69, "金融业"),
    ('K', 70, 70, "房地产业"),
    ('L', 71, 72, "租赁和商务服务业"),
    ('M', 73, 75, "科学研究和技术服务业"),
    ('N', 76, 79, "水利、环境和公共设施管理业"),
    ('O', 80, 82, "居民服务、修理和其他服务业"),
    ('P', 83, 83, "教育"),
    ('Q', 84, 85, "卫生和社会工作"),
    ('R', 86, 90, "文化、体育和娱乐业"),
    ('S', 91, 96, "公共管理、社会保障和社会组织"),
    ('T', 97, 97, "国际组织"),
];

/// A GB/T 4754-2017 industry code: the section letter and 2–4 digits (`C3011`, `B101`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IndustryCode(String);

/// Why an industry code is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndustryCodeError {
    /// Not a letter followed by 2–4 digits.
    #[error("行业代码由门类字母 A–T 加 2–4 位数字组成，如 C3011；实际为 '{0}'")]
    Format(String),
    /// The division does not belong to the section.
    #[error("大类 {division:02} 不属于门类 {section}（该门类的大类为 {first:02}–{last:02}）")]
    Section {
        /// Section letter given.
        section: char,
        /// Division given.
        division: u8,
        /// First division of the section.
        first: u8,
        /// Last division of the section.
        last: u8,
    },
}

impl IndustryCode {
    /// Parses `C3011` (upper-cases the letter, trims).
    pub fn parse(input: &str) -> Result<Self, IndustryCodeError> {
        let code = input.trim().to_uppercase();
        let format = || IndustryCodeError::Format(input.to_owned());
        let mut chars = code.chars();
        let section = chars.next().ok_or_else(format)?;
        let digits = chars.as_str();
        if !(2..=4).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(format());
        }
        let &(_, first, last, _) = SECTIONS
            .iter()
            .find(|s| s.0 == section)
            .ok_or_else(format)?;
        let division: u8 = digits[..2].parse().map_err(|_| format())?;
        if !(first..=last).contains(&division) {
            return Err(IndustryCodeError::Section {
                section,
                division,
                first,
                last,
            });
        }
        Ok(Self(code))
    }

    /// Re-creates a code read back from SafeGrade's own storage, which only ever holds codes
    /// that passed [`IndustryCode::parse`]: checks only the shape. `None` means the stored
    /// value was tampered with.
    pub fn from_stored(code: String) -> Option<Self> {
        let b = code.as_bytes();
        (matches!(b.len(), 3..=5)
            && b[0].is_ascii_uppercase()
            && b[1..].iter().all(u8::is_ascii_digit))
        .then_some(Self(code))
    }

    /// The code as stored (`C3011`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits after the section letter (`3011`).
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }
}

/// One row of the sector mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectorRule {
    /// Digit prefix of the industry code.
    pub prefix: String,
    /// Sector for codes with this prefix.
    pub sector: Sector,
    /// Confidence tag: C, R or U.
    pub confidence: char,
}

/// A versioned industry-to-sector mapping table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectorMapping {
    /// Version of the table; stored sectors are re-derived when it changes.
    pub version: String,
    /// Rules; the longest matching prefix wins.
    pub rules: Vec<SectorRule>,
}

/// Why a mapping table does not load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sector mapping line {line}: {message}")]
pub struct MappingError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl SectorMapping {
    /// Parses the CSV form (`version,<v>` line, header, `prefix,sector,confidence,note` rows;
    /// `#` comments).
    pub fn parse(text: &str) -> Result<Self, MappingError> {
        let mut version = None;
        let mut rules: Vec<SectorRule> = Vec::new();
        let lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
        for (line, content) in lines.filter(|(_, l)| !l.is_empty() && !l.starts_with('#')) {
            let err = |message: String| MappingError { line, message };
            let cols: Vec<&str> = content.splitn(4, ',').collect();
            match cols.as_slice() {
                ["version", v, ..] => version = Some((*v).to_owned()),
                ["prefix", ..] => {}
                [prefix, sector, confidence, ..] => {
                    if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_digit()) {
                        return Err(err(format!("prefix '{prefix}' is not digits")));
                    }
                    if rules.iter().any(|r| r.prefix == *prefix) {
                        return Err(err(format!("prefix '{prefix}' appears twice")));
                    }
                    let sector = sector
                        .parse()
                        .map_err(|e: crate::UnknownCode| err(e.to_string()))?;
                    let confidence = match *confidence {
                        "C" => 'C',
                        "R" => 'R',
                        "U" => 'U',
                        other => return Err(err(format!("confidence '{other}' is not C, R or U"))),
                    };
                    rules.push(SectorRule {
                        prefix: (*prefix).to_owned(),
                        sector,
                        confidence,
                    });
                }
                _ => return Err(err(format!("expected 4 columns, got '{content}'"))),
            }
        }
        let version = version.ok_or_else(|| MappingError {
            line: 1,
            message: "no version line".into(),
        })?;
        Ok(Self { version, rules })
    }

    /// The table shipped with SafeGrade (`crates/domain/data/sector-mapping.csv`).
    pub fn builtin() -> &'static Self {
        static BUILTIN: OnceLock<SectorMapping> = OnceLock::new();
        #[expect(
            clippy::expect_used,
            reason = "the embedded table is checked by a unit test"
        )]
        BUILTIN.get_or_init(|| {
            Self::parse(include_str!("../../data/sector-mapping.csv"))
                .expect("embedded sector mapping parses")
        })
    }

    /// The sector of an industry code: the longest matching prefix, else `other`.
    pub fn sector_of(&self, code: &IndustryCode) -> Sector {
        let digits = code.digits();
        self.rules
            .iter()
            .filter(|r| digits.starts_with(&r.prefix))
            .max_by_key(|r| r.prefix.len())
            .map_or(Sector::Other, |r| r.sector)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sector(code: &str) -> Sector {
        let code = IndustryCode::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"));
        SectorMapping::builtin().sector_of(&code)
    }

    #[test]
    fn builtin_table_loads() {
        let m = SectorMapping::builtin();
        assert_eq!(m.version, "2019-17.1");
        assert_eq!(m.rules.len(), 40);
    }

    #[test]
    fn maps_codes_with_exceptions() {
        assert_eq!(sector("B1011"), Sector::NonCoalMine);
        assert_eq!(
            sector("B0610"),
            Sector::Other,
            "coal mines are not non-coal mines"
        );
        assert_eq!(
            sector("B0711"),
            Sector::Other,
            "oil and gas are regulated separately"
        );
        assert_eq!(sector("C3011"), Sector::BuildingMaterials);
        assert_eq!(
            sector("C3051"),
            Sector::LightIndustry,
            "305 glass goes to light industry"
        );
        assert_eq!(sector("C3074"), Sector::LightIndustry);
        assert_eq!(sector("C3071"), Sector::BuildingMaterials);
        assert_eq!(sector("C31"), Sector::Metallurgy);
        assert_eq!(sector("C3211"), Sector::Nonferrous);
        assert_eq!(sector("C3311"), Sector::Machinery);
        assert_eq!(sector("C1610"), Sector::Tobacco);
        assert_eq!(sector("C1711"), Sector::Textiles);
        assert_eq!(sector("F5211"), Sector::Commerce);
        assert_eq!(
            sector("C2611"),
            Sector::Other,
            "chemicals are outside the eight sectors"
        );
    }

    #[test]
    fn rejects_bad_codes() {
        let err = |c: &str| IndustryCode::parse(c).err().map(|e| e.to_string());
        assert_eq!(
            err("C0811").as_deref(),
            Some("大类 08 不属于门类 C（该门类的大类为 13–43）")
        );
        for bad in ["3011", "C3", "C30111", "Z3011", "C30a1", ""] {
            assert!(err(bad).is_some(), "{bad} accepted");
        }
        assert_eq!(
            IndustryCode::parse(" c3011 ").map(|c| c.as_str().to_owned()),
            Ok("C3011".into())
        );
    }

    #[test]
    fn table_errors_name_the_line() {
        let e = SectorMapping::parse("version,1\nprefix,sector,confidence,note\n31,steel,C,x\n");
        assert_eq!(e.map_err(|e| e.line), Err(3));
        assert!(
            SectorMapping::parse("31,metallurgy,C,x").is_err(),
            "no version"
        );
        assert!(SectorMapping::parse("version,1\n31,metallurgy,C,x\n31,nonferrous,C,y").is_err());
    }
}
