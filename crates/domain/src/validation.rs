//! Field-level violations: what is wrong with which input field, as a JSON Pointer, a closed
//! code and a message. The HTTP layer turns a list of them into one 422 problem.

use crate::code_list;

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
