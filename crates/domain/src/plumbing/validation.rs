//! Field-level violations: what is wrong with which input field, as a JSON Pointer, a closed
//! code and a message. The HTTP layer turns a list of them into one 422 problem.

use crate::{CodeList, code_list};

code_list! {
    /// Why one input field was rejected. Each code is documented in the book (`errors.md`).
    pub enum ViolationCode {
        /// A required field is missing or null.
        Required = ("required", "必填字段缺失"),
        /// The JSON type is wrong (a number where text is expected, ...).
        InvalidType = ("invalid_type", "类型错误"),
        /// The field is not part of the resource.
        UnknownField = ("unknown_field", "未知字段"),
        /// The field is derived or managed by SafeGrade and cannot be written.
        ReadOnly = ("read_only", "只读字段"),
        /// Text is empty or only white space.
        Blank = ("blank", "不能为空"),
        /// Text is longer than allowed.
        TooLong = ("too_long", "超出长度"),
        /// A value outside its code list.
        InvalidValue = ("invalid_value", "取值不在代码表内"),
        /// A number outside its allowed range.
        OutOfRange = ("out_of_range", "超出取值范围"),
        /// A Unified Social Credit Code that fails GB 32100-2015.
        InvalidCreditCode = ("invalid_credit_code", "统一社会信用代码无效"),
        /// A GB/T 4754-2017 industry code that is malformed or inconsistent.
        InvalidIndustryCode = ("invalid_industry_code", "行业代码无效"),
        /// An area code that is not a supervision area.
        UnknownArea = ("unknown_area", "未知监管区域"),
        /// The city itself: enterprises belong to a county-level area or a park zone.
        AreaNotAssignable = ("area_not_assignable", "不能直接归属市级"),
        /// A non-coal mine without its mine kind.
        MineKindRequired = ("mine_kind_required", "非煤矿山须填写矿山类型"),
        /// A mine kind on an enterprise that is not a non-coal mine.
        MineKindNotApplicable = ("mine_kind_not_applicable", "非矿山企业不填矿山类型"),
        /// Not a mainland mobile or landline number.
        InvalidPhone = ("invalid_phone", "电话号码格式错误"),
        /// Latitude without longitude or the other way round.
        CoordinatesIncomplete = ("coordinates_incomplete", "经纬度须同时填写"),
        /// The field does not apply to this kind of record (areas on a city-wide role, ...).
        NotApplicable = ("not_applicable", "该字段不适用"),
        /// An id that names no existing record.
        UnknownReference = ("unknown_reference", "引用的记录不存在"),
        /// An instant that must lie in the future lies in the past.
        NotInFuture = ("not_in_future", "时间须晚于当前"),
        /// The text contains U+0000 (NUL), which no record may hold (PostgreSQL cannot
        /// store it; refused on both backends alike).
        NulCharacter = ("nul_character", "含有空字符（U+0000）"),
    }
}

/// One rejected field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON Pointer (RFC 6901) to the field in the request body, or the query parameter name.
    pub pointer: String,
    /// Why.
    pub code: ViolationCode,
    /// A sentence for people.
    pub message: String,
}

impl Violation {
    /// A violation of the top-level field `field`.
    pub fn field(field: &str, code: ViolationCode, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer_to(field),
            code,
            message: message.into(),
        }
    }
}

/// The JSON Pointer of a top-level member (RFC 6901 escaping of `~` and `/`).
pub fn pointer_to(field: &str) -> String {
    format!("/{}", field.replace('~', "~0").replace('/', "~1"))
}

/// Collects violations while fields are checked one by one.
#[derive(Default)]
pub(crate) struct Checker {
    pub(crate) violations: Vec<Violation>,
}

impl Checker {
    pub(crate) fn fail(&mut self, field: &str, code: ViolationCode, message: impl Into<String>) {
        self.violations.push(Violation::field(field, code, message));
    }

    pub(crate) fn required<'a>(
        &mut self,
        field: &str,
        value: &'a Option<String>,
    ) -> Option<&'a str> {
        if value.is_none() {
            self.fail(field, ViolationCode::Required, format!("{field} 为必填"));
        }
        value.as_deref()
    }

    /// Trimmed, non-blank text of at most `max` characters.
    pub(crate) fn text(&mut self, field: &str, value: Option<&str>, max: usize) -> Option<String> {
        let value = value?.trim();
        if value.is_empty() {
            self.fail(field, ViolationCode::Blank, format!("{field} 不能为空"));
            return None;
        }
        let len = value.chars().count();
        if len > max {
            self.fail(
                field,
                ViolationCode::TooLong,
                format!("{field} 有 {len} 个字符，最多 {max} 个"),
            );
            return None;
        }
        Some(value.to_owned())
    }

    pub(crate) fn code<T: CodeList + std::str::FromStr<Err = crate::UnknownCode>>(
        &mut self,
        field: &str,
        value: Option<&str>,
    ) -> Option<T> {
        match value?.parse() {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(field, ViolationCode::InvalidValue, e.to_string());
                None
            }
        }
    }

    pub(crate) fn phone(&mut self, field: &str, value: Option<&str>) -> Option<String> {
        let value = self.text(field, value, 20)?;
        if crate::is_phone(&value) {
            Some(value)
        } else {
            self.fail(
                field,
                ViolationCode::InvalidPhone,
                format!(
                    "'{value}' 不是大陆手机号（13–19 开头的 11 位数字）或固定电话（0XXX-XXXXXXX）"
                ),
            );
            None
        }
    }

    pub(crate) fn range(
        &mut self,
        field: &str,
        value: Option<f64>,
        (lo, hi): (f64, f64),
    ) -> Option<f64> {
        let v = value?;
        if v.is_finite() && (lo..=hi).contains(&v) {
            Some(v)
        } else {
            self.fail(
                field,
                ViolationCode::OutOfRange,
                format!("{field} 须在 {lo} 到 {hi} 之间，实际为 {v}"),
            );
            None
        }
    }
}
