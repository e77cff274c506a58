//! The enterprise ledger (企业台账): one record per regulated enterprise.
//!
//! The notice 绵应急函〔2020〕42号 part 一(二) asks every bureau to survey its non-coal mines and
//! industry & trade enterprises and keep classified ledgers; the classification here (area,
//! sector, scale, ownership, operating status) is what those ledgers are sorted by.
//! See `book/src/ledger/index.md`.

use chrono::{DateTime, Utc};

use crate::plumbing::validation::{Checker, Violation, ViolationCode as V};
use crate::{CodeList, CreditCode, EnterpriseId, IndustryCode, Sector, SectorMapping, code_list};

code_list! {
    /// Kind of non-coal mine (非煤矿山类型), after the sections of 矿安〔2022〕88号.
    pub enum MineKind {
        /// 地下矿山
        Underground = ("underground", "地下矿山"),
        /// 露天矿山
        OpenPit = ("open_pit", "露天矿山"),
        /// 尾矿库
        TailingsPond = ("tailings_pond", "尾矿库"),
        /// 小型露天采石场
        SmallOpenPitQuarry = ("small_open_pit_quarry", "小型露天采石场"),
        /// 选矿厂
        Concentrator = ("concentrator", "选矿厂"),
    }
}

code_list! {
    /// Enterprise scale (企业规模), after the national SME classification; the notice singles
    /// out small and micro enterprises for operation-quality audits (三(三)).
    pub enum Scale {
        /// 大型
        Large = ("large", "大型"),
        /// 中型
        Medium = ("medium", "中型"),
        /// 小型
        Small = ("small", "小型"),
        /// 微型
        Micro = ("micro", "微型"),
    }
}

code_list! {
    /// Ownership level (隶属层级). The notice 二(二) asks central and provincial enterprises in
    /// Mianyang and the city's key enterprises to aim for grade 1 or 2.
    pub enum Ownership {
        /// 中央在绵企业
        Central = ("central", "中央在绵企业"),
        /// 省属在绵企业
        Provincial = ("provincial", "省属在绵企业"),
        /// 市属重点企业
        MunicipalKey = ("municipal_key", "市属重点企业"),
        /// 其他企业
        Other = ("other", "其他企业"),
    }
}

code_list! {
    /// Operating status (生产经营状态).
    pub enum OperatingStatus {
        /// 正常生产经营
        Operating = ("operating", "正常生产经营"),
        /// 停产停业
        Suspended = ("suspended", "停产停业"),
        /// 关闭
        Closed = ("closed", "关闭"),
    }
}

/// Limits on text fields, in characters.
pub mod limits {
    /// Enterprise name.
    pub const NAME: usize = 200;
    /// Address.
    pub const ADDRESS: usize = 300;
    /// A person's name.
    pub const PERSON: usize = 50;
    /// Most employees an enterprise can declare.
    pub const EMPLOYEES: i64 = 1_000_000;
    /// Latitude range of the mainland (rough bounding box).
    pub const LATITUDE: (f64, f64) = (3.0, 54.0);
    /// Longitude range of the mainland (rough bounding box).
    pub const LONGITUDE: (f64, f64) = (73.0, 136.0);
}

/// The validated facts of an enterprise that clients write.
#[derive(Debug, Clone, PartialEq)]
pub struct EnterpriseData {
    /// 统一社会信用代码.
    pub credit_code: CreditCode,
    /// Registered name (企业名称).
    pub name: String,
    /// Supervision area code (监管区域).
    pub area_code: String,
    /// Address (地址).
    pub address: Option<String>,
    /// GB/T 4754-2017 industry code (行业代码).
    pub industry_code: IndustryCode,
    /// Supervision sector, derived from the industry code.
    pub sector: Sector,
    /// Mine kind, for non-coal mines only.
    pub mine_kind: Option<MineKind>,
    /// Scale.
    pub scale: Scale,
    /// Ownership level.
    pub ownership: Ownership,
    /// Operating status.
    pub operating_status: OperatingStatus,
    /// Principal responsible person (主要负责人).
    pub principal_name: String,
    /// Their phone.
    pub principal_phone: Option<String>,
    /// Safety manager (安全管理人员).
    pub safety_manager_name: Option<String>,
    /// Their phone.
    pub safety_manager_phone: Option<String>,
    /// Number of employees (从业人员数).
    pub employees: Option<i32>,
    /// WGS-84 latitude.
    pub latitude: Option<f64>,
    /// WGS-84 longitude.
    pub longitude: Option<f64>,
}

/// A stored enterprise.
#[derive(Debug, Clone, PartialEq)]
pub struct Enterprise {
    /// Id.
    pub id: EnterpriseId,
    /// The facts.
    pub data: EnterpriseData,
    /// Optimistic-concurrency version, 1 on creation, +1 per change.
    pub version: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// What its certificates and accidents say about its grade (kept by the store).
    pub grading: crate::grading::GradeSummary,
    /// Its creation and upgrade drive.
    pub drive: crate::drives::Drive,
}

/// Unvalidated input, field by field, as a client sent it (after JSON decoding).
/// [`EnterpriseInput::validate`] turns it into [`EnterpriseData`] or every violation at once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnterpriseInput {
    /// See [`EnterpriseData::credit_code`].
    pub credit_code: Option<String>,
    /// See [`EnterpriseData::name`].
    pub name: Option<String>,
    /// See [`EnterpriseData::area_code`].
    pub area_code: Option<String>,
    /// See [`EnterpriseData::address`].
    pub address: Option<String>,
    /// See [`EnterpriseData::industry_code`].
    pub industry_code: Option<String>,
    /// See [`EnterpriseData::mine_kind`].
    pub mine_kind: Option<String>,
    /// See [`EnterpriseData::scale`].
    pub scale: Option<String>,
    /// See [`EnterpriseData::ownership`]; `other` when absent.
    pub ownership: Option<String>,
    /// See [`EnterpriseData::operating_status`]; `operating` when absent.
    pub operating_status: Option<String>,
    /// See [`EnterpriseData::principal_name`].
    pub principal_name: Option<String>,
    /// See [`EnterpriseData::principal_phone`].
    pub principal_phone: Option<String>,
    /// See [`EnterpriseData::safety_manager_name`].
    pub safety_manager_name: Option<String>,
    /// See [`EnterpriseData::safety_manager_phone`].
    pub safety_manager_phone: Option<String>,
    /// See [`EnterpriseData::employees`].
    pub employees: Option<i64>,
    /// See [`EnterpriseData::latitude`].
    pub latitude: Option<f64>,
    /// See [`EnterpriseData::longitude`].
    pub longitude: Option<f64>,
}

impl From<&EnterpriseData> for EnterpriseInput {
    fn from(d: &EnterpriseData) -> Self {
        Self {
            credit_code: Some(d.credit_code.to_string()),
            name: Some(d.name.clone()),
            area_code: Some(d.area_code.clone()),
            address: d.address.clone(),
            industry_code: Some(d.industry_code.as_str().to_owned()),
            mine_kind: d.mine_kind.map(|k| k.as_str().to_owned()),
            scale: Some(d.scale.as_str().to_owned()),
            ownership: Some(d.ownership.as_str().to_owned()),
            operating_status: Some(d.operating_status.as_str().to_owned()),
            principal_name: Some(d.principal_name.clone()),
            principal_phone: d.principal_phone.clone(),
            safety_manager_name: d.safety_manager_name.clone(),
            safety_manager_phone: d.safety_manager_phone.clone(),
            employees: d.employees.map(i64::from),
            latitude: d.latitude,
            longitude: d.longitude,
        }
    }
}

/// Mainland mobile (`1[3-9]` and 9 digits) or landline (`0` + 2–3 digit area code, optional
/// `-`, 7–8 digits, optional `-` extension of 1–6 digits).
pub fn is_phone(s: &str) -> bool {
    let digits = |t: &str, lo: usize, hi: usize| {
        (lo..=hi).contains(&t.len()) && t.chars().all(|c| c.is_ascii_digit())
    };
    let b = s.as_bytes();
    if b.first() == Some(&b'1') {
        return digits(s, 11, 11) && (b'3'..=b'9').contains(&b[1]);
    }
    if b.first() != Some(&b'0') {
        return false;
    }
    let mut parts = s.split('-');
    let (first, second, third) = (parts.next(), parts.next(), parts.next());
    if parts.next().is_some() {
        return false;
    }
    match (first, second, third) {
        (Some(all), None, None) => digits(all, 10, 12),
        (Some(area), Some(local), ext) => {
            digits(area, 3, 4) && digits(local, 7, 8) && ext.is_none_or(|e| digits(e, 1, 6))
        }
        _ => false,
    }
}

/// `raw` as the area an enterprise can be registered in: a supervision area below the city
/// (a county-level area or a park zone, §7), or a violation of `area_code`.
fn assignable_area(c: &mut Checker, raw: &str) -> Option<String> {
    match crate::find_area(raw.trim()) {
        None => c.fail(
            "area_code",
            V::UnknownArea,
            format!("'{raw}' 不是监管区域（区域列表见参考数据 areas）"),
        ),
        Some(a) if !a.holds_enterprises() => c.fail(
            "area_code",
            V::AreaNotAssignable,
            format!(
                "{}（{}）是全市，企业须登记在所在的县（市、区）或园区",
                a.code, a.name_zh
            ),
        ),
        Some(a) => return Some(a.code.to_owned()),
    }
    None
}

/// A transfer (跨区域移交) as sent: the area an enterprise moves to, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransferInput {
    /// The supervision area it moves to.
    pub area_code: Option<String>,
    /// Why (recorded on both areas' events).
    pub reason: Option<String>,
}

/// A checked transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// The supervision area it moves to.
    pub area_code: String,
    /// Why.
    pub reason: String,
}

/// Longest transfer reason, in characters.
pub const TRANSFER_REASON: usize = 500;

impl TransferInput {
    /// Checks a transfer of an enterprise now in `from`: an area an enterprise can be
    /// registered in, other than `from`, and a reason (both required).
    pub fn validate(&self, from: &str) -> Result<Transfer, Vec<Violation>> {
        let mut c = Checker::default();
        let area_code = c
            .required("area_code", &self.area_code)
            .and_then(|raw| assignable_area(&mut c, raw));
        if area_code.as_deref() == Some(from) {
            c.fail(
                "area_code",
                V::InvalidValue,
                format!("企业已在 {from}，移交须到另一个监管区域"),
            );
        }
        let reason = c
            .required("reason", &self.reason)
            .and_then(|raw| c.text("reason", Some(raw), TRANSFER_REASON));
        match (area_code, reason) {
            (Some(area_code), Some(reason)) if c.violations.is_empty() => {
                Ok(Transfer { area_code, reason })
            }
            _ => Err(c.violations),
        }
    }
}

impl EnterpriseInput {
    /// Checks every field and reports every violation at once.
    ///
    /// Rules: credit code per GB 32100-2015 (§8.1); area from the supervision-area list (§7);
    /// industry code per GB/T 4754-2017 and sector from `mapping` (§8.2); a non-coal mine must
    /// say its mine kind, and only non-coal mines may.
    pub fn validate(&self, mapping: &SectorMapping) -> Result<EnterpriseData, Vec<Violation>> {
        let mut c = Checker::default();

        let credit_code = c
            .required("credit_code", &self.credit_code)
            .and_then(|raw| {
                CreditCode::parse(raw)
                    .map_err(|e| c.fail("credit_code", V::InvalidCreditCode, e.to_string()))
                    .ok()
            });
        let name = c
            .required("name", &self.name)
            .and_then(|v| c.text("name", Some(v), limits::NAME));
        let area_code = c
            .required("area_code", &self.area_code)
            .and_then(|raw| assignable_area(&mut c, raw));
        let address = c.text("address", self.address.as_deref(), limits::ADDRESS);
        let industry_code = c
            .required("industry_code", &self.industry_code)
            .and_then(|raw| {
                IndustryCode::parse(raw)
                    .map_err(|e| c.fail("industry_code", V::InvalidIndustryCode, e.to_string()))
                    .ok()
            });
        let sector = industry_code.as_ref().map(|code| mapping.sector_of(code));
        let mine_kind: Option<MineKind> = c.code("mine_kind", self.mine_kind.as_deref());
        match (sector, self.mine_kind.is_some()) {
            (Some(Sector::NonCoalMine), false) => c.fail(
                "mine_kind",
                V::MineKindRequired,
                format!(
                    "非煤矿山须填写 mine_kind，可选值：{}",
                    MineKind::codes().join(", ")
                ),
            ),
            (Some(s), true) if s != Sector::NonCoalMine => c.fail(
                "mine_kind",
                V::MineKindNotApplicable,
                format!("mine_kind 只适用于非煤矿山；该行业代码属于 {s} 行业"),
            ),
            _ => {}
        }
        let scale = c
            .required("scale", &self.scale)
            .and_then(|v| c.code("scale", Some(v)));
        let ownership = c.code(
            "ownership",
            Some(self.ownership.as_deref().unwrap_or("other")),
        );
        let operating_status = c.code(
            "operating_status",
            Some(self.operating_status.as_deref().unwrap_or("operating")),
        );
        let principal_name = c
            .required("principal_name", &self.principal_name)
            .and_then(|v| c.text("principal_name", Some(v), limits::PERSON));
        let principal_phone = c.phone("principal_phone", self.principal_phone.as_deref());
        let safety_manager_name = c.text(
            "safety_manager_name",
            self.safety_manager_name.as_deref(),
            limits::PERSON,
        );
        let safety_manager_phone =
            c.phone("safety_manager_phone", self.safety_manager_phone.as_deref());
        let employees = self.employees.and_then(|n| match i32::try_from(n) {
            Ok(v) if (0..=limits::EMPLOYEES).contains(&n) => Some(v),
            _ => {
                c.fail(
                    "employees",
                    V::OutOfRange,
                    format!("employees 须在 0 到 {} 之间，实际为 {n}", limits::EMPLOYEES),
                );
                None
            }
        });
        let latitude = c.range("latitude", self.latitude, limits::LATITUDE);
        let longitude = c.range("longitude", self.longitude, limits::LONGITUDE);
        if self.latitude.is_some() != self.longitude.is_some() {
            let missing = if self.latitude.is_none() {
                "latitude"
            } else {
                "longitude"
            };
            c.fail(
                missing,
                V::CoordinatesIncomplete,
                "经度和纬度须同时填写或同时不填",
            );
        }

        match (
            credit_code,
            name,
            area_code,
            industry_code,
            sector,
            scale,
            ownership,
            operating_status,
            principal_name,
        ) {
            (
                Some(credit_code),
                Some(name),
                Some(area_code),
                Some(industry_code),
                Some(sector),
                Some(scale),
                Some(ownership),
                Some(operating_status),
                Some(principal_name),
            ) if c.violations.is_empty() => Ok(EnterpriseData {
                credit_code,
                name,
                area_code,
                address,
                industry_code,
                sector,
                mine_kind,
                scale,
                ownership,
                operating_status,
                principal_name,
                principal_phone,
                safety_manager_name,
                safety_manager_phone,
                employees,
                latitude,
                longitude,
            }),
            _ => Err(c.violations),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> EnterpriseInput {
        EnterpriseInput {
            credit_code: Some("914403001922038216".into()),
            name: Some("绵阳示例建材有限公司".into()),
            area_code: Some("510703".into()),
            industry_code: Some("C3011".into()),
            scale: Some("small".into()),
            principal_name: Some("张三".into()),
            principal_phone: Some("13800000000".into()),
            ..Default::default()
        }
    }

    fn codes(input: &EnterpriseInput) -> Vec<(String, V)> {
        match input.validate(SectorMapping::builtin()) {
            Ok(_) => vec![],
            Err(v) => v.into_iter().map(|v| (v.pointer, v.code)).collect(),
        }
    }

    #[test]
    fn valid_input_gets_defaults_and_sector() {
        let data = valid().validate(SectorMapping::builtin());
        let data = data.unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(data.sector, Sector::BuildingMaterials);
        assert_eq!(data.ownership, Ownership::Other);
        assert_eq!(data.operating_status, OperatingStatus::Operating);
        assert_eq!(
            EnterpriseInput::from(&data).validate(SectorMapping::builtin()),
            Ok(data)
        );
    }

    #[test]
    fn reports_every_violation_at_once() {
        let input = EnterpriseInput {
            credit_code: Some("914403001922038215".into()),
            name: Some("  ".into()),
            area_code: Some(crate::CITY_CODE.into()),
            industry_code: Some("B1011".into()),
            scale: Some("huge".into()),
            principal_name: None,
            principal_phone: Some("12345".into()),
            employees: Some(-1),
            latitude: Some(31.4),
            ..Default::default()
        };
        let got = codes(&input);
        let want = [
            ("/credit_code", V::InvalidCreditCode),
            ("/name", V::Blank),
            ("/area_code", V::AreaNotAssignable),
            ("/mine_kind", V::MineKindRequired),
            ("/scale", V::InvalidValue),
            ("/principal_name", V::Required),
            ("/principal_phone", V::InvalidPhone),
            ("/employees", V::OutOfRange),
            ("/longitude", V::CoordinatesIncomplete),
        ];
        let want: Vec<(String, V)> = want.iter().map(|(p, c)| ((*p).to_owned(), *c)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn mine_kind_only_for_non_coal_mines() {
        let mut mine = EnterpriseInput {
            industry_code: Some("B1012".into()),
            mine_kind: Some("open_pit".into()),
            ..valid()
        };
        assert_eq!(codes(&mine), vec![]);
        mine.industry_code = Some("C3011".into());
        assert_eq!(
            codes(&mine),
            vec![("/mine_kind".to_owned(), V::MineKindNotApplicable)]
        );
    }

    #[test]
    fn phones() {
        for ok in [
            "13800000000",
            "0816-2345678",
            "08162345678",
            "0816-2345678-123",
            "010-12345678",
        ] {
            assert!(is_phone(ok), "{ok}");
        }
        for bad in [
            "12800000000",
            "1380000000",
            "816-2345678",
            "0816-234",
            "0816-2345678-",
            "abc",
            "",
        ] {
            assert!(!is_phone(bad), "{bad}");
        }
    }

    #[test]
    fn text_limits_count_characters_not_bytes() {
        let long = "企".repeat(limits::NAME);
        assert_eq!(
            codes(&EnterpriseInput {
                name: Some(long.clone()),
                ..valid()
            }),
            vec![]
        );
        let too_long = format!("{long}业");
        assert_eq!(
            codes(&EnterpriseInput {
                name: Some(too_long),
                ..valid()
            }),
            vec![("/name".to_owned(), V::TooLong)]
        );
    }
}

#[cfg(test)]
mod transfer_tests {
    use super::*;

    fn codes(r: Result<Transfer, Vec<Violation>>) -> Vec<(String, V)> {
        r.err()
            .unwrap_or_default()
            .into_iter()
            .map(|v| (v.pointer, v.code))
            .collect()
    }

    #[test]
    fn a_transfer_needs_another_assignable_area_and_a_reason() {
        let input = |area: Option<&str>, reason: Option<&str>| TransferInput {
            area_code: area.map(str::to_owned),
            reason: reason.map(str::to_owned),
        };
        assert_eq!(
            input(Some(" 510704 "), Some("迁址")).validate("510703"),
            Ok(Transfer {
                area_code: "510704".into(),
                reason: "迁址".into()
            })
        );
        assert_eq!(
            codes(input(None, None).validate("510703")),
            vec![
                ("/area_code".into(), V::Required),
                ("/reason".into(), V::Required)
            ]
        );
        assert_eq!(
            codes(input(Some("510703"), Some(" ")).validate("510703")),
            vec![
                ("/area_code".into(), V::InvalidValue),
                ("/reason".into(), V::Blank)
            ]
        );
        assert_eq!(
            codes(input(Some("510700"), Some("x")).validate("510703")),
            vec![("/area_code".into(), V::AreaNotAssignable)]
        );
        assert_eq!(
            codes(input(Some("999999"), Some("x")).validate("510703")),
            vec![("/area_code".into(), V::UnknownArea)]
        );
    }
}
