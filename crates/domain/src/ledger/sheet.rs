//! Reading survey ledgers (摸底调查台账) kept in spreadsheets: which column is which, through a
//! table of the header names real templates use (domain research §16), and the values as
//! counties write them (grades as Ⅱ, 二级, 2 or 二; dates as text in the common forms or as
//! Excel serial numbers). Headers and values are normalised (full-width characters, stray
//! spaces); a header that matches nothing is reported, never guessed.

use chrono::NaiveDate;

use crate::CodeList;
use crate::grading::Grade;

crate::code_list! {
    /// A ledger column SafeGrade reads: its code (for an explicit header mapping) and its
    /// standard header.
    pub enum Column {
        /// 统一社会信用代码.
        CreditCode = ("credit_code", "统一社会信用代码"),
        /// 企业名称.
        Name = ("name", "企业名称"),
        /// 所属县（市、区）: an area code or its Chinese name.
        Area = ("area", "所属县（市、区）"),
        /// 注册地址 / 生产经营地址.
        Address = ("address", "生产经营地址"),
        /// 国民经济行业代码 (GB/T 4754).
        IndustryCode = ("industry_code", "国民经济行业代码"),
        /// 非煤矿山类型 (for non-coal mines).
        MineKind = ("mine_kind", "非煤矿山类型"),
        /// 企业规模.
        Scale = ("scale", "企业规模"),
        /// 主要负责人.
        PrincipalName = ("principal_name", "主要负责人"),
        /// 主要负责人联系电话.
        PrincipalPhone = ("principal_phone", "主要负责人联系电话"),
        /// 安全负责人.
        SafetyManagerName = ("safety_manager_name", "安全负责人"),
        /// 安全负责人联系电话.
        SafetyManagerPhone = ("safety_manager_phone", "安全负责人联系电话"),
        /// 从业人数.
        Employees = ("employees", "从业人数"),
        /// 安全生产标准化等级.
        Grade = ("grade", "安全生产标准化等级"),
        /// 标准化证书编号.
        CertificateNumber = ("certificate_number", "证书编号"),
        /// 发证日期.
        IssuedOn = ("issued_on", "发证日期"),
        /// 有效期至.
        ValidUntil = ("valid_until", "有效期至"),
        /// 定级部门 (发证机关), for certificates.
        AuthorityName = ("authority_name", "定级部门"),
        /// 评定标准, for certificates.
        Standard = ("standard", "评定标准"),
        /// 事故发生日期, for accidents.
        AccidentDate = ("accident_date", "事故发生日期"),
        /// 事故类别 (GB 6441-1986), for accidents.
        AccidentKind = ("accident_kind", "事故类别"),
        /// 死亡人数, for accidents.
        Deaths = ("deaths", "死亡人数"),
        /// 重伤人数, for accidents.
        SeriouslyInjured = ("seriously_injured", "重伤人数"),
        /// 直接经济损失（元）, for accidents.
        DirectLoss = ("direct_loss", "直接经济损失（元）"),
        /// 直接经济损失（万元）, for accidents.
        DirectLossTenThousand = ("direct_loss_10k", "直接经济损失（万元）"),
        /// 信息来源 (an investigation report, a notice), for accidents.
        Source = ("source", "信息来源"),
    }
}

/// The header names each column goes by in real templates (domain research §16, (C)),
/// compared after [`normalise_header`].
pub const SYNONYMS: &[(Column, &[&str])] = &[
    (
        Column::CreditCode,
        &["统一社会信用代码", "社会信用代码", "信用代码"],
    ),
    (Column::Name, &["企业名称", "单位名称", "企业（单位）名称"]),
    (
        Column::Area,
        &[
            "所属县（市、区）",
            "行政区划分",
            "所在区县",
            "县（市、区）",
            "所属区域",
            "监管区域",
        ],
    ),
    (
        Column::Address,
        &["注册地址", "生产经营地址", "企业地址", "地址"],
    ),
    (
        Column::IndustryCode,
        &["行业代码", "国民经济行业代码", "所属行业代码"],
    ),
    (Column::MineKind, &["矿山类型", "非煤矿山类型"]),
    (Column::Scale, &["企业规模", "单位规模"]),
    (
        Column::PrincipalName,
        &["主要负责人", "企业负责人", "单位负责人"],
    ),
    (
        Column::PrincipalPhone,
        &[
            "主要负责人联系电话",
            "负责人手机号",
            "主要负责人电话",
            "单位联系方式",
        ],
    ),
    (Column::SafetyManagerName, &["安全负责人", "安全管理人员"]),
    (
        Column::SafetyManagerPhone,
        &["安全负责人手机号", "安全负责人联系电话", "安全管理人员电话"],
    ),
    (
        Column::Employees,
        &[
            "从业人数",
            "从业人员人数",
            "员工总数",
            "总人数",
            "上年末从业人数",
        ],
    ),
    (
        Column::Grade,
        &["标准化等级", "安全生产标准化等级", "达标等级"],
    ),
    (
        Column::CertificateNumber,
        &["证书编号", "安全生产标准化证书编号"],
    ),
    (
        Column::IssuedOn,
        &["发证日期", "认证时间", "安全标准化等级认证时间"],
    ),
    (Column::ValidUntil, &["有效期至", "证书有效期"]),
    // The two below are SafeGrade's own names (R): certificate ledgers seen so far do not
    // carry them; without them an import says where the values are missing.
    (Column::AuthorityName, &["定级部门", "发证机关", "发证单位"]),
    (
        Column::Standard,
        &["评定标准", "标准化评定标准", "执行标准"],
    ),
    (
        Column::AccidentDate,
        &["事故发生日期", "事故发生时间", "发生日期", "事故日期"],
    ),
    (Column::AccidentKind, &["事故类别", "事故类型"]),
    (Column::Deaths, &["死亡人数", "死亡"]),
    (Column::SeriouslyInjured, &["重伤人数", "重伤"]),
    (Column::DirectLoss, &["直接经济损失（元）", "直接经济损失"]),
    (Column::DirectLossTenThousand, &["直接经济损失（万元）"]),
    (Column::Source, &["信息来源", "来源", "事故调查报告"]),
];

/// A header as compared: full-width ASCII letters, digits and punctuation made half-width,
/// the ideographic space and every other space removed, and the round brackets of either
/// width written full-width (as Chinese templates mostly do).
pub fn normalise_header(raw: &str) -> String {
    raw.chars()
        .filter_map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0),
            c if c.is_whitespace() || c == '\u{3000}' => None,
            c => Some(c),
        })
        .map(|c| match c {
            '(' => '（',
            ')' => '）',
            c => c,
        })
        .collect()
}

/// The column a header names, if any.
pub fn column_of(header: &str) -> Option<Column> {
    let h = normalise_header(header);
    SYNONYMS
        .iter()
        .find(|(_, names)| names.iter().any(|n| normalise_header(n) == h))
        .map(|(c, _)| *c)
}

/// How a sheet's header row maps onto columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMap {
    /// For each position, the column it holds (`None`: not read).
    pub columns: Vec<Option<Column>>,
    /// The headers that name no column, with their positions: reported, never dropped
    /// silently.
    pub unmapped: Vec<(usize, String)>,
}

/// Why a header row cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderProblem {
    /// Two headers name the same column.
    #[error("第 {first} 列“{a}”和第 {second} 列“{b}”都是同一项，无法确定用哪一列")]
    Twice {
        /// The first position (1-based).
        first: usize,
        /// Its header.
        a: String,
        /// The second position (1-based).
        second: usize,
        /// Its header.
        b: String,
    },
    /// A required column is missing.
    #[error("缺少“{0}”列")]
    Missing(&'static str),
}

/// Maps a header row: `explicit` (header → column, from the caller) first, then the synonym
/// table. The credit code is required (it says which enterprise a row is); what else a new
/// enterprise needs is checked row by row.
pub fn map_headers(
    headers: &[String],
    explicit: &[(String, Column)],
) -> Result<HeaderMap, Vec<HeaderProblem>> {
    let mut columns = Vec::with_capacity(headers.len());
    let mut unmapped = Vec::new();
    let mut problems = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let n = normalise_header(h);
        let column = explicit
            .iter()
            .find(|(e, _)| normalise_header(e) == n)
            .map(|(_, c)| *c)
            .or_else(|| column_of(h));
        if let Some(c) = column
            && let Some(j) = columns.iter().position(|x| *x == Some(c))
        {
            problems.push(HeaderProblem::Twice {
                first: j + 1,
                a: headers[j].trim().to_owned(),
                second: i + 1,
                b: h.trim().to_owned(),
            });
        }
        if column.is_none() && !n.is_empty() {
            unmapped.push((i, h.trim().to_owned()));
        }
        columns.push(column);
    }
    if !columns.contains(&Some(Column::CreditCode)) {
        problems.push(HeaderProblem::Missing("统一社会信用代码"));
    }
    if problems.is_empty() {
        Ok(HeaderMap { columns, unmapped })
    } else {
        Err(problems)
    }
}

/// A grade as counties write it: 一级 / Ⅰ / I / 1 / 一 (and likewise for 二级, 三级), or
/// 小微 / 小微企业达标; `None` for anything else (reported, not guessed).
pub fn parse_grade(raw: &str) -> Option<Grade> {
    let s = normalise_header(raw);
    let s = s.trim_end_matches("企业").trim_end_matches('级');
    match s {
        "1" | "一" | "Ⅰ" | "I" => Some(Grade::Grade1),
        "2" | "二" | "Ⅱ" | "II" => Some(Grade::Grade2),
        "3" | "三" | "Ⅲ" | "III" => Some(Grade::Grade3),
        "小微" | "小微达标" | "小微企业达标" => Some(Grade::SmallMicro),
        code => <Grade as crate::CodeList>::from_code(code),
    }
}

/// A date as spreadsheets hold it: `2021-03-05`, `2021/3/5`, `2021.3.5`, `2021年3月5日`,
/// `20210305`, or an Excel serial number (days since 1899-12-30, the 1900 date system;
/// 1–60 are the dates before the system's fictitious 1900-02-29 and are not accepted).
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    let s = normalise_header(raw);
    if let Ok(serial) = s.parse::<f64>()
        && s.len() != 8
    {
        if !(61.0..=2_958_465.0).contains(&serial) {
            return None;
        }
        // Whole days; a time of day in the fraction is dropped.
        let days = serial.trunc() as i64;
        return NaiveDate::from_ymd_opt(1899, 12, 30)
            .and_then(|base| base.checked_add_signed(chrono::Duration::days(days)));
    }
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(&s, "%Y%m%d").ok();
    }
    let unified: String = s
        .trim_end_matches('日')
        .chars()
        .map(|c| match c {
            '/' | '.' | '年' | '月' => '-',
            c => c,
        })
        .collect();
    NaiveDate::parse_from_str(&unified, "%Y-%m-%d").ok()
}

/// A problem with one cell (or a whole row) of a ledger: the row number as the spreadsheet
/// shows it (the header is row 1), the header of the column, and the same code and message
/// the API gives for the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellProblem {
    /// Row number in the sheet (the header row is 1).
    pub row: usize,
    /// The column's header as written; empty for the row as a whole.
    pub header: String,
    /// Why.
    pub code: crate::ViolationCode,
    /// A sentence for people.
    pub message: String,
}

/// The area named by `raw`: its code (`510703`) or its Chinese name, with or without the
/// city's name before it (`涪城区`, `绵阳市涪城区`).
pub fn area_code_of(raw: &str) -> Option<&'static str> {
    let s = normalise_header(raw);
    let s = s.strip_prefix("绵阳市").unwrap_or(&s);
    crate::AREAS
        .iter()
        .filter(|a| a.holds_enterprises())
        .find(|a| a.code == s || a.name_zh == s)
        .map(|a| a.code)
}

/// A code list value written as its code or its Chinese label (`small` or 小型).
fn code_or_label<T: crate::CodeList>(raw: &str) -> String {
    let s = normalise_header(raw);
    T::ALL
        .iter()
        .find(|v| v.label_zh() == s || v.as_str() == s)
        .map_or(s, |v| v.as_str().to_owned())
}

/// The cells of a row that hold a value, each with its column and its header as written.
fn filled<'a>(
    map: &'a HeaderMap,
    headers: &'a [String],
    cells: &'a [String],
) -> impl Iterator<Item = (Column, &'a str, &'a str)> {
    map.columns
        .iter()
        .enumerate()
        .filter_map(move |(i, column)| {
            let value = cells.get(i)?.trim();
            let header = headers.get(i).map_or("", |h| h.trim());
            Some((*column)?)
                .filter(|_| !value.is_empty())
                .map(|c| (c, value, header))
        })
}

/// The header `column` is read from, as written (empty when the sheet lacks it).
fn header_of<'a>(map: &HeaderMap, headers: &'a [String], column: Column) -> &'a str {
    map.columns
        .iter()
        .position(|c| *c == Some(column))
        .and_then(|i| headers.get(i))
        .map_or("", |h| h.trim())
}

/// A cell whose value cannot be read.
fn invalid_cell(row: usize, header: &str, message: String) -> CellProblem {
    CellProblem {
        row,
        header: header.to_owned(),
        code: crate::ViolationCode::InvalidValue,
        message,
    }
}

/// A date cell, or why not.
fn date_cell(value: &str) -> Result<NaiveDate, String> {
    parse_date(value).ok_or_else(|| format!("“{value}”不是日期（如 2021-03-05 或 2021年3月5日）"))
}

/// A grade cell, or why not.
fn grade_cell(value: &str) -> Result<Grade, String> {
    parse_grade(value).ok_or_else(|| {
        format!("“{value}”不是标准化等级（一级、二级、三级、小微，或写作 Ⅰ、2、二）")
    })
}

/// The enterprise a ledger row describes, read through `map` (row `row` of the sheet), as
/// the API would take it; cells that cannot be read are problems at their headers. The
/// enterprise's own checks (credit code, industry, …) come after, from
/// [`crate::EnterpriseInput::validate`], and [`problems_at`] puts them at the headers.
pub fn row_input(
    map: &HeaderMap,
    headers: &[String],
    row: usize,
    cells: &[String],
) -> (crate::EnterpriseInput, Vec<CellProblem>) {
    let mut input = crate::EnterpriseInput::default();
    let mut problems = Vec::new();
    for (column, value, header) in filled(map, headers, cells) {
        let mut fail = |message: String| problems.push(invalid_cell(row, header, message));
        let text = Some(value.to_owned());
        match column {
            Column::CreditCode => input.credit_code = text,
            Column::Name => input.name = text,
            Column::Area => match area_code_of(value) {
                Some(code) => input.area_code = Some(code.to_owned()),
                None => fail(format!("“{value}”不是绵阳市的县（市、区）或园区名称、代码")),
            },
            Column::Address => input.address = text,
            Column::IndustryCode => input.industry_code = Some(normalise_header(value)),
            Column::MineKind => {
                input.mine_kind = Some(code_or_label::<crate::MineKind>(value));
            }
            Column::Scale => input.scale = Some(code_or_label::<crate::Scale>(value)),
            Column::PrincipalName => input.principal_name = text,
            Column::PrincipalPhone => input.principal_phone = Some(normalise_header(value)),
            Column::SafetyManagerName => input.safety_manager_name = text,
            Column::SafetyManagerPhone => {
                input.safety_manager_phone = Some(normalise_header(value));
            }
            Column::Employees => match normalise_header(value).parse::<f64>() {
                Ok(n) if n.fract() == 0.0 && (0.0..1e9).contains(&n) => {
                    input.employees = Some(n as i64);
                }
                _ => fail(format!("从业人数须为整数，实际为“{value}”")),
            },
            Column::Grade => {
                if let Err(why) = grade_cell(value) {
                    fail(why);
                }
            }
            Column::IssuedOn | Column::ValidUntil => {
                if let Err(why) = date_cell(value) {
                    fail(why);
                }
            }
            Column::CertificateNumber
            | Column::AuthorityName
            | Column::Standard
            | Column::AccidentDate
            | Column::AccidentKind
            | Column::Deaths
            | Column::SeriouslyInjured
            | Column::DirectLoss
            | Column::DirectLossTenThousand
            | Column::Source => {}
        }
    }
    (input, problems)
}

/// The enterprise a row describes over what is known of it: each cell the row gives
/// replaces the known value; a column the sheet does not have, or a blank cell, keeps it (a
/// partial ledger never wipes what it does not mention).
pub fn overlay(
    known: crate::EnterpriseInput,
    row: &crate::EnterpriseInput,
) -> crate::EnterpriseInput {
    let r = row.clone();
    crate::EnterpriseInput {
        credit_code: r.credit_code.or(known.credit_code),
        name: r.name.or(known.name),
        area_code: r.area_code.or(known.area_code),
        address: r.address.or(known.address),
        industry_code: r.industry_code.or(known.industry_code),
        mine_kind: r.mine_kind.or(known.mine_kind),
        scale: r.scale.or(known.scale),
        ownership: r.ownership.or(known.ownership),
        operating_status: r.operating_status.or(known.operating_status),
        principal_name: r.principal_name.or(known.principal_name),
        principal_phone: r.principal_phone.or(known.principal_phone),
        safety_manager_name: r.safety_manager_name.or(known.safety_manager_name),
        safety_manager_phone: r.safety_manager_phone.or(known.safety_manager_phone),
        employees: r.employees.or(known.employees),
        latitude: r.latitude.or(known.latitude),
        longitude: r.longitude.or(known.longitude),
    }
}

/// Puts the API's violations of a row's enterprise at the headers of their columns (the
/// header of the first column of that kind; the row as a whole when no column holds it).
pub fn problems_at(
    map: &HeaderMap,
    headers: &[String],
    row: usize,
    violations: Vec<crate::Violation>,
) -> Vec<CellProblem> {
    let column_of_member = |member: &str| match member {
        "credit_code" => Some(Column::CreditCode),
        "name" => Some(Column::Name),
        "area_code" => Some(Column::Area),
        "address" => Some(Column::Address),
        "industry_code" => Some(Column::IndustryCode),
        "mine_kind" => Some(Column::MineKind),
        "scale" => Some(Column::Scale),
        "principal_name" => Some(Column::PrincipalName),
        "principal_phone" => Some(Column::PrincipalPhone),
        "safety_manager_name" => Some(Column::SafetyManagerName),
        "safety_manager_phone" => Some(Column::SafetyManagerPhone),
        "employees" => Some(Column::Employees),
        // A certificate's members (a certificate import).
        "enterprise_id" => Some(Column::CreditCode),
        "grade" | "authority_level" => Some(Column::Grade),
        "number" => Some(Column::CertificateNumber),
        "issued_on" | "regime" => Some(Column::IssuedOn),
        "valid_until" => Some(Column::ValidUntil),
        "authority_name" => Some(Column::AuthorityName),
        "standard" => Some(Column::Standard),
        // An accident's members (an accident import).
        "occurred_on" => Some(Column::AccidentDate),
        "kind" => Some(Column::AccidentKind),
        "deaths" => Some(Column::Deaths),
        "seriously_injured" => Some(Column::SeriouslyInjured),
        "direct_loss_cny" => Some(Column::DirectLoss),
        "source" => Some(Column::Source),
        _ => None,
    };
    violations
        .into_iter()
        .map(|v| {
            let member = v.pointer.trim_start_matches('/');
            let column = column_of_member(member);
            let in_file = column
                .and_then(|c| map.columns.iter().position(|x| *x == Some(c)))
                .and_then(|i| headers.get(i));
            match (in_file, column) {
                (Some(h), _) => CellProblem {
                    row,
                    header: h.trim().to_owned(),
                    code: v.code,
                    message: v.message,
                },
                // The file has no such column: name it by its standard header.
                (None, Some(c)) => CellProblem {
                    row,
                    header: c.label_zh().to_owned(),
                    code: v.code,
                    message: format!("{}（表中没有「{}」列）", v.message, c.label_zh()),
                },
                (None, None) => CellProblem {
                    row,
                    header: member.to_owned(),
                    code: v.code,
                    message: v.message,
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_matched_through_synonyms_after_normalising() {
        assert_eq!(column_of(" 社会信用代码　"), Some(Column::CreditCode));
        assert_eq!(column_of("所属县(市、区)"), Some(Column::Area));
        assert_eq!(column_of("从业人员人数 "), Some(Column::Employees));
        assert_eq!(column_of("经营范围"), None);
        let headers: Vec<String> = ["企业名称", "信用代码", "经营范围", "达标等级", ""]
            .map(str::to_owned)
            .to_vec();
        let map = map_headers(&headers, &[]).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            map.columns,
            [
                Some(Column::Name),
                Some(Column::CreditCode),
                None,
                Some(Column::Grade),
                None
            ]
        );
        assert_eq!(map.unmapped, [(2, "经营范围".to_owned())]);
        // A header the caller maps explicitly.
        let map = map_headers(&headers, &[("经营范围".into(), Column::Address)]);
        assert_eq!(map.map(|m| m.unmapped), Ok(Vec::new()));
        // Two columns for one item, and a required one missing.
        let twice: Vec<String> = ["企业名称", "信用代码", "社会信用代码"]
            .map(str::to_owned)
            .to_vec();
        assert!(matches!(
            map_headers(&twice, &[]).as_ref().map_err(Vec::as_slice),
            Err([HeaderProblem::Twice {
                first: 2,
                second: 3,
                ..
            }])
        ));
        let missing: Vec<String> = ["企业名称", "员工总数"].map(str::to_owned).to_vec();
        assert_eq!(
            map_headers(&missing, &[]),
            Err(vec![HeaderProblem::Missing("统一社会信用代码")])
        );
    }

    #[test]
    fn grades_and_dates_as_counties_write_them() {
        for (raw, grade) in [
            ("二级", Some(Grade::Grade2)),
            ("Ⅱ", Some(Grade::Grade2)),
            ("２", Some(Grade::Grade2)),
            ("二", Some(Grade::Grade2)),
            ("三级 ", Some(Grade::Grade3)),
            ("小微企业达标", Some(Grade::SmallMicro)),
            ("grade_1", Some(Grade::Grade1)),
            ("四级", None),
            ("", None),
        ] {
            assert_eq!(parse_grade(raw), grade, "{raw}");
        }
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        for (raw, day) in [
            ("2021-03-05", d(2021, 3, 5)),
            ("2021/3/5", d(2021, 3, 5)),
            ("2021.3.5", d(2021, 3, 5)),
            ("2021年3月5日", d(2021, 3, 5)),
            ("20210305", d(2021, 3, 5)),
            // Excel serial 44260 is 2021-03-05; 44260.5 is noon that day.
            ("44260", d(2021, 3, 5)),
            ("44260.5", d(2021, 3, 5)),
            ("2021-02-30", None),
            ("45", None),
            ("下月", None),
        ] {
            assert_eq!(parse_date(raw), day, "{raw}");
        }
    }

    #[test]
    fn a_row_reads_like_the_api_and_problems_sit_at_their_headers() {
        let headers: Vec<String> = [
            "企业名称",
            "社会信用代码 ",
            "所在区县",
            "单位规模",
            "员工总数",
            "达标等级",
        ]
        .map(str::to_owned)
        .to_vec();
        let map = map_headers(&headers, &[]).unwrap_or_else(|e| panic!("{e:?}"));
        let cells: Vec<String> = [
            "绵阳示例有限公司",
            "91510703MA0000000X",
            "绵阳市涪城区",
            "小型",
            "１２",
            "二级",
        ]
        .map(str::to_owned)
        .to_vec();
        let (input, problems) = row_input(&map, &headers, 2, &cells);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            (
                input.area_code.as_deref(),
                input.scale.as_deref(),
                input.employees
            ),
            (Some("510703"), Some("small"), Some(12))
        );
        let bad: Vec<String> = ["某公司", "X", "火星区", "小型", "十二", "四级"]
            .map(str::to_owned)
            .to_vec();
        let (_, problems) = row_input(&map, &headers, 3, &bad);
        let at: Vec<&str> = problems.iter().map(|p| p.header.as_str()).collect();
        assert_eq!(at, ["所在区县", "员工总数", "达标等级"]);
        let violations = vec![crate::Violation::field(
            "credit_code",
            crate::ViolationCode::InvalidCreditCode,
            "校验码不符",
        )];
        let placed = problems_at(&map, &headers, 3, violations);
        assert_eq!(
            (placed[0].row, placed[0].header.as_str()),
            (3, "社会信用代码")
        );
    }
}

/// A standardization certificate number of the 2014 (and 2008) regimes, read apart: an
/// optional province abbreviation, `AQB`, the industry code, the grade in Roman numerals, the
/// year of issue and a sequence (domain research §15, (C)): `AQBJXⅠ201400001`,
/// `京AQBJXⅡ201400001`; 2008-era numbers have a one-letter industry (`AQBK` mines, with five
/// grades Ⅰ–Ⅴ). Numbers of the 2021 regime are free text and read as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyNumber {
    /// The province abbreviation (none for 一级).
    pub province: Option<char>,
    /// The industry code (`JX`, `KS`, … or `K`, `Y`, `H`, `W`).
    pub industry: String,
    /// The grade as written, 1–5 (Ⅳ and Ⅴ: old mine grades).
    pub grade: u8,
    /// Year of issue.
    pub year: i32,
    /// The sequence number.
    pub sequence: String,
}

/// Industry codes of 2014-regime numbers (§15, (C)).
const LEGACY_INDUSTRIES: &[&str] = &[
    "KS", "SY", "XK", "CJ", "DZ", "WH", "HG", "YY", "YH", "YJ", "YS", "JC", "JX", "QG", "FZ", "YC",
    "SM", "Y", "H", "W", "K",
];

/// Reads `raw` as a 2014- or 2008-regime number; `None` when it is not one.
pub fn legacy_number(raw: &str) -> Option<LegacyNumber> {
    let s: String = normalise_header(raw).to_uppercase();
    let at = s.find("AQB")?;
    let prefix = &s[..at];
    let province = match prefix.chars().count() {
        0 => None,
        1 => prefix.chars().next().filter(|c| !c.is_ascii()),
        _ => return None,
    };
    if prefix.chars().count() == 1 && province.is_none() {
        return None;
    }
    let rest = &s[at + 3..];
    // The longest industry code that fits, then the Roman numerals.
    let mut found = None;
    for code in LEGACY_INDUSTRIES {
        if let Some(after) = rest.strip_prefix(code)
            && let Some((grade, tail)) = roman(after)
            && found.is_none()
        {
            found = Some(((*code).to_owned(), grade, tail));
        }
    }
    let (industry, grade, tail) = found?;
    let year: i32 = tail.get(..4)?.parse().ok()?;
    let sequence = tail.get(4..)?;
    if !(1990..=2030).contains(&year)
        || sequence.is_empty()
        || !sequence.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Some(LegacyNumber {
        province,
        industry,
        grade,
        year,
        sequence: sequence.to_owned(),
    })
}

/// A leading Roman numeral Ⅰ–Ⅴ (one character, or ASCII letters), and what follows.
fn roman(s: &str) -> Option<(u8, &str)> {
    for (n, glyph) in [(1, "Ⅰ"), (2, "Ⅱ"), (3, "Ⅲ"), (4, "Ⅳ"), (5, "Ⅴ")] {
        if let Some(rest) = s.strip_prefix(glyph) {
            return Some((n, rest));
        }
    }
    for (n, letters) in [(3, "III"), (2, "II"), (4, "IV"), (1, "I"), (5, "V")] {
        if let Some(rest) = s.strip_prefix(letters)
            && rest.starts_with(|c: char| c.is_ascii_digit())
        {
            return Some((n, rest));
        }
    }
    None
}

/// The certificate a ledger row describes (a certificate ledger, or the certificate columns
/// of a survey ledger), as read; blank cells are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateCells {
    /// The holder's credit code.
    pub credit_code: Option<String>,
    /// The grade, from its column, or else from a legacy number.
    pub grade: Option<Grade>,
    /// The certificate number as written.
    pub number: Option<String>,
    /// Issued on.
    pub issued_on: Option<NaiveDate>,
    /// Valid until.
    pub valid_until: Option<NaiveDate>,
    /// The grading authority's name.
    pub authority_name: Option<String>,
    /// The standard graded against.
    pub standard: Option<String>,
}

/// The certificate of row `row` of a sheet read through `map`; cells that cannot be read are
/// problems at their headers. A legacy number gives the grade when the grade column is
/// missing or blank; a legacy number of an old mine grade (Ⅳ, Ⅴ) needs the grade written.
pub fn certificate_cells(
    map: &HeaderMap,
    headers: &[String],
    row: usize,
    cells: &[String],
) -> (CertificateCells, Vec<CellProblem>) {
    let mut out = CertificateCells::default();
    let mut problems = Vec::new();
    for (column, value, header) in filled(map, headers, cells) {
        let mut fail = |message: String| problems.push(invalid_cell(row, header, message));
        match column {
            Column::CreditCode => out.credit_code = Some(value.to_owned()),
            Column::Grade => out.grade = grade_cell(value).map_err(&mut fail).ok(),
            Column::CertificateNumber => out.number = Some(value.to_owned()),
            Column::IssuedOn => out.issued_on = date_cell(value).map_err(&mut fail).ok(),
            Column::ValidUntil => out.valid_until = date_cell(value).map_err(&mut fail).ok(),
            Column::AuthorityName => out.authority_name = Some(value.to_owned()),
            Column::Standard => out.standard = Some(value.to_owned()),
            _ => {}
        }
    }
    let grade_header = header_of(map, headers, Column::Grade);
    let written = out.grade.is_some()
        || (!grade_header.is_empty() && problems.iter().any(|p| p.header == grade_header));
    if !written && let Some(legacy) = out.number.as_deref().and_then(legacy_number) {
        match legacy.grade {
            1 => out.grade = Some(Grade::Grade1),
            2 => out.grade = Some(Grade::Grade2),
            3 => out.grade = Some(Grade::Grade3),
            n => problems.push(CellProblem {
                row,
                header: if grade_header.is_empty() {
                    header_of(map, headers, Column::CertificateNumber).to_owned()
                } else {
                    grade_header.to_owned()
                },
                code: crate::ViolationCode::Required,
                message: format!(
                    "旧矿山证书的 {} 级没有对应的现行等级，请在等级列写明",
                    ["Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ"][usize::from(n.clamp(1, 5)) - 1]
                ),
            }),
        }
    }
    (out, problems)
}

#[cfg(test)]
mod legacy_tests {
    use super::*;

    #[test]
    fn legacy_numbers_of_both_old_regimes_are_read() {
        let n = legacy_number("AQBJXⅠ201400001").unwrap_or_else(|| panic!("一级"));
        assert_eq!(
            (n.province, n.industry.as_str(), n.grade, n.year),
            (None, "JX", 1, 2014)
        );
        let n = legacy_number("京AQBJXⅡ201400001").unwrap_or_else(|| panic!("二级"));
        assert_eq!((n.province, n.grade), (Some('京'), 2));
        let n = legacy_number("川AQBWHⅢ201700123").unwrap_or_else(|| panic!("三级"));
        assert_eq!(
            (n.industry.as_str(), n.grade, n.sequence.as_str()),
            ("WH", 3, "00123")
        );
        // ASCII numerals and full-width letters, as typed in spreadsheets.
        assert_eq!(
            legacy_number("川ＡＱＢJXIII201600002").map(|n| n.grade),
            Some(3)
        );
        // 2008: one-letter industries, and mines with five grades.
        let n = legacy_number("川AQBKⅤ200800007").unwrap_or_else(|| panic!("mine"));
        assert_eq!((n.industry.as_str(), n.grade, n.year), ("K", 5, 2008));
        assert_eq!(legacy_number("川AQBYⅣ200900001").map(|n| n.grade), Some(4));
        for not in [
            "2022-绵-0001",
            "AQB",
            "川AQBJX201400001",
            "川AQBJXⅡ20140000x",
            "川绵AQBJXⅡ201400001",
        ] {
            assert_eq!(legacy_number(not), None, "{not}");
        }
    }
}

/// The accident a ledger row describes (an accident ledger, 事故台账), as read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccidentCells {
    /// The enterprise's credit code.
    pub credit_code: Option<String>,
    /// The day it happened.
    pub occurred_on: Option<NaiveDate>,
    /// Its kind, as a code (written as the code or the Chinese name of GB 6441-1986).
    pub kind: Option<String>,
    /// Deaths.
    pub deaths: Option<i64>,
    /// Seriously injured.
    pub seriously_injured: Option<i64>,
    /// Direct loss in CNY (a 万元 column is converted).
    pub direct_loss_cny: Option<i64>,
    /// Where the record comes from.
    pub source: Option<String>,
}

/// The accident of row `row` of a sheet read through `map`; cells that cannot be read are
/// problems at their headers.
pub fn accident_cells(
    map: &HeaderMap,
    headers: &[String],
    row: usize,
    cells: &[String],
) -> (AccidentCells, Vec<CellProblem>) {
    let mut out = AccidentCells::default();
    let mut problems = Vec::new();
    for (column, value, header) in filled(map, headers, cells) {
        let mut fail = |message: String| problems.push(invalid_cell(row, header, message));
        let number = normalise_header(value).parse::<f64>().ok();
        #[expect(
            clippy::cast_possible_truncation,
            reason = "checked to be whole and in range"
        )]
        let whole = |scale: f64| {
            number
                .map(|n| (n * scale).round())
                .filter(|n| (0.0..1e15).contains(n))
                .map(|n| n as i64)
        };
        match column {
            Column::CreditCode => out.credit_code = Some(value.to_owned()),
            Column::AccidentDate => out.occurred_on = date_cell(value).map_err(&mut fail).ok(),
            Column::AccidentKind => {
                out.kind = Some(code_or_label::<crate::grading::AccidentKind>(value));
            }
            Column::Deaths | Column::SeriouslyInjured => {
                match whole(1.0).filter(|_| number.is_some_and(|n| n.fract() == 0.0)) {
                    Some(n) if column == Column::Deaths => out.deaths = Some(n),
                    Some(n) => out.seriously_injured = Some(n),
                    None => fail(format!("人数须为整数，实际为“{value}”")),
                }
            }
            Column::DirectLoss | Column::DirectLossTenThousand => {
                let scale = if column == Column::DirectLoss {
                    1.0
                } else {
                    10_000.0
                };
                match whole(scale) {
                    Some(n) => out.direct_loss_cny = Some(n),
                    None => fail(format!("直接经济损失须为数字，实际为“{value}”")),
                }
            }
            Column::Source => out.source = Some(value.to_owned()),
            _ => {}
        }
    }
    (out, problems)
}
