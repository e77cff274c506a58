//! Supervision areas (监管区域) of the Mianyang bureau.
//!
//! Source: GB/T 2260 and Mianyang's published divisions — the 9 statutory county-level divisions with their GB/T 2260
//! codes (NBS division list, confirmed), and the park zones, which are not administrative
//! divisions and have no GB/T 2260 code, so SafeGrade gives them internal codes under the city.
//! The notice 绵应急函〔2020〕42号 is addressed to the county bureaus and the park safety offices
//! (园区安办), which is why both kinds are supervision areas.

use crate::code_list;

code_list! {
    /// Whether an area is a GB/T 2260 division or a functional zone (功能区).
    pub enum AreaKind {
        /// The prefecture-level city itself (地级市).
        City = ("city", "地级市"),
        /// A county-level statutory division (县级行政区).
        Statutory = ("statutory", "县级行政区"),
        /// A park or functional zone with a management committee (园区/功能区).
        Zone = ("zone", "园区"),
    }
}

/// One supervision area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Area {
    /// SafeGrade's area code: the GB/T 2260 code for statutory divisions, `510700-XX` for zones.
    pub code: &'static str,
    /// Chinese name.
    pub name_zh: &'static str,
    /// Statutory or zone.
    pub kind: AreaKind,
    /// GB/T 2260 code, where one exists.
    pub gb2260_code: Option<&'static str>,
    /// The enclosing area (the city), if any.
    pub parent_code: Option<&'static str>,
}

impl Area {
    /// Whether enterprises can be registered in this area (every area but the city itself).
    pub fn holds_enterprises(&self) -> bool {
        self.kind != AreaKind::City
    }
}

/// The city's code (绵阳市).
pub const CITY_CODE: &str = "510700";

const fn statutory(code: &'static str, name_zh: &'static str) -> Area {
    Area {
        code,
        name_zh,
        kind: AreaKind::Statutory,
        gb2260_code: Some(code),
        parent_code: Some(CITY_CODE),
    }
}

const fn zone(code: &'static str, name_zh: &'static str) -> Area {
    Area {
        code,
        name_zh,
        kind: AreaKind::Zone,
        gb2260_code: None,
        parent_code: Some(CITY_CODE),
    }
}

/// Every supervision area, the city first, then the divisions by code, then the zones.
pub const AREAS: &[Area] = &[
    Area {
        code: CITY_CODE,
        name_zh: "绵阳市",
        kind: AreaKind::City,
        gb2260_code: Some(CITY_CODE),
        parent_code: None,
    },
    statutory("510703", "涪城区"),
    statutory("510704", "游仙区"),
    statutory("510705", "安州区"),
    statutory("510722", "三台县"),
    statutory("510723", "盐亭县"),
    statutory("510725", "梓潼县"),
    statutory("510726", "北川羌族自治县"),
    statutory("510727", "平武县"),
    statutory("510781", "江油市"),
    zone("510700-GX", "绵阳高新技术产业开发区"),
    zone("510700-JK", "绵阳经济技术开发区"),
    zone("510700-KJC", "绵阳科技城新区"),
    zone("510700-XH", "仙海区"),
    zone("510700-KXC", "四川省科学城"),
];

/// Looks an area up by its SafeGrade code.
pub fn find_area(code: &str) -> Option<&'static Area> {
    AREAS.iter().find(|a| a.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nine_statutory_divisions_and_five_zones() {
        let count = |k| AREAS.iter().filter(|a| a.kind == k).count();
        assert_eq!(count(AreaKind::City), 1);
        assert_eq!(count(AreaKind::Statutory), 9);
        assert_eq!(count(AreaKind::Zone), 5);
        assert!(
            AREAS
                .iter()
                .all(|a| (a.kind == AreaKind::Zone) == a.gb2260_code.is_none())
        );
        assert!(AREAS.iter().all(|a| a.code.starts_with("5107")));
    }

    #[test]
    fn codes_are_unique_and_found() {
        for a in AREAS {
            assert_eq!(find_area(a.code), Some(a));
        }
        assert_eq!(find_area("510724"), None, "安县 became 安州区 510705");
        assert!(!find_area(CITY_CODE).is_some_and(Area::holds_enterprises));
    }
}
