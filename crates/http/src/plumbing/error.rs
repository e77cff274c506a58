//! Every error the API answers, as RFC 9457 `application/problem+json`.
//!
//! `code` comes from the closed [`ErrorCode`] list published in the spec and documented in the
//! book (`book/src/errors.md`, one anchor per code; `tests/api/errors.rs` checks each code is
//! documented and used). 5xx bodies are generic; the cause is logged once, here.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use safegrade_domain::drives::DriveRefusal;
use safegrade_domain::grading::CertificateRefusal;
use safegrade_domain::{Refusal, Violation, ViolationCode, code_list};
use safegrade_store::{Constraint, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

code_list! {
    /// Why a request failed: the `code` member of every problem.
    pub enum ErrorCode {
        /// The body is not well-formed JSON, or not a JSON object.
        MalformedJson = ("malformed_json", "请求体不是合法的 JSON 对象"),
        /// The body is not `application/json` (or `application/merge-patch+json`).
        UnsupportedMediaType = ("unsupported_media_type", "不支持的内容类型"),
        /// The body is larger than the limit.
        PayloadTooLarge = ("payload_too_large", "请求体过大"),
        /// A query parameter is unknown, malformed or out of range.
        InvalidQuery = ("invalid_query", "查询参数无效"),
        /// A path segment is not a valid id.
        InvalidPath = ("invalid_path", "路径参数无效"),
        /// One or more fields are invalid; see `errors`.
        ValidationFailed = ("validation_failed", "字段校验未通过"),
        /// No valid token: missing, malformed, unknown, expired or revoked, or its principal
        /// is disabled. Sent with `WWW-Authenticate: Bearer`.
        Unauthenticated = ("unauthenticated", "未认证或令牌无效"),
        /// The caller's role may not perform this kind of operation, or may not place a record
        /// in that area.
        Forbidden = ("forbidden", "无权执行此操作"),
        /// The record does not exist, or lies outside the caller's jurisdiction.
        NotFound = ("not_found", "记录不存在"),
        /// No such route.
        RouteNotFound = ("route_not_found", "接口不存在"),
        /// The route exists but not with this method.
        MethodNotAllowed = ("method_not_allowed", "请求方法不允许"),
        /// Another enterprise already has this credit code.
        DuplicateCreditCode = ("duplicate_credit_code", "统一社会信用代码已存在"),
        /// The change would leave the city without an enabled `city_admin`.
        LastCityAdmin = ("last_city_admin", "须保留至少一个启用的市局管理员"),
        /// The token was revoked already.
        TokenAlreadyRevoked = ("token_already_revoked", "令牌已吊销"),
        /// Another certificate already has this number.
        DuplicateCertificateNumber = ("duplicate_certificate_number", "证书编号已存在"),
        /// The assessment is submitted or discarded: only a draft can be changed, submitted
        /// or discarded.
        AssessmentNotDraft = ("assessment_not_draft", "评分已提交或已作废"),
        /// The enterprise may not apply now; `detail` names each rule (an accident in the
        /// last year, a refusal or revocation less than a year ago, a false commitment less
        /// than three years ago, a renewal outside its window, an upgrade without a lower
        /// grade in force).
        GradingNotEligible = ("grading_not_eligible", "不符合定级申请条件"),
        /// The step does not apply to the application now (wrong state, a second correction
        /// request or extension, an announcement during publicity); `detail` says why.
        GradingStepNotAllowed = ("grading_step_not_allowed", "当前不能办理该步骤"),
        /// The hazard step does not apply now (wrong state, a major hazard without its
        /// 五落实 plan or post-rectification assessment, a second pending extension, a
        /// listing of a general hazard); `detail` says why.
        HazardStepNotAllowed = ("hazard_step_not_allowed", "当前不能办理该隐患治理步骤"),
        /// This version of this standard is stored already: a changed standard is a new
        /// version.
        DuplicateStandardVersion = ("duplicate_standard_version", "该版本的评定标准已存在"),
        /// The enterprise's grade was revoked less than a year ago; `detail` gives the date a
        /// new grade can be granted.
        RegradeBarred = ("regrade_barred", "撤销等级未满一年"),
        /// The certificate is revoked or superseded already, or had expired by the decision
        /// date (a grade no longer in force cannot be revoked).
        CertificateNotInForce = ("certificate_not_in_force", "证书已撤销、已被替代或已过期"),
        /// A same-grade renewal asked for the fast track, which the accidents during the
        /// validity period exclude; `detail` says why.
        FastTrackNotAllowed = ("fast_track_not_allowed", "不符合直接公示公告条件"),
        /// The certificate had expired by the new certificate's issue date: it cannot be
        /// renewed or upgraded, the enterprise must restart creation.
        RenewalClosed = ("renewal_closed", "证书已过期，须重新创建"),
        /// A new creation stage was dated before the current stage began.
        StageOutOfOrder = ("stage_out_of_order", "创建阶段日期早于当前阶段"),
        /// A date in working days needs a year whose holiday arrangement the calendar does
        /// not hold; `detail` names the year. Never guessed.
        CalendarYearUnknown = ("calendar_year_unknown", "工作日历缺少该年份"),
        /// `If-Match` is not a version this API issued.
        InvalidPrecondition = ("invalid_precondition", "If-Match 格式错误"),
        /// `Idempotency-Key` is empty, too long or not visible ASCII.
        InvalidIdempotencyKey = ("invalid_idempotency_key", "幂等键格式错误"),
        /// The record changed since the version in `If-Match`.
        VersionMismatch = ("version_mismatch", "版本不一致"),
        /// The `Idempotency-Key` was used before with another body.
        IdempotencyKeyReused = ("idempotency_key_reused", "幂等键已用于其他请求"),
        /// Too many requests to a public endpoint from one address; retry after `Retry-After`
        /// seconds.
        RateLimited = ("rate_limited", "请求过于频繁"),
        /// The database is unavailable or busy; retry after `Retry-After` seconds.
        ServiceUnavailable = ("service_unavailable", "服务暂不可用"),
        /// An unexpected error; the request id identifies it in the logs.
        Internal = ("internal", "内部错误"),
    }
}

impl ErrorCode {
    /// The HTTP status this code is answered with.
    pub fn status(self) -> StatusCode {
        match self {
            Self::MalformedJson
            | Self::InvalidQuery
            | Self::InvalidPath
            | Self::InvalidPrecondition
            | Self::InvalidIdempotencyKey => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::ValidationFailed | Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound | Self::RouteNotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::DuplicateCreditCode
            | Self::LastCityAdmin
            | Self::TokenAlreadyRevoked
            | Self::DuplicateCertificateNumber
            | Self::DuplicateStandardVersion
            | Self::AssessmentNotDraft
            | Self::GradingNotEligible
            | Self::GradingStepNotAllowed
            | Self::HazardStepNotAllowed
            | Self::RegradeBarred
            | Self::CertificateNotInForce
            | Self::FastTrackNotAllowed
            | Self::RenewalClosed
            | Self::StageOutOfOrder
            | Self::CalendarYearUnknown => StatusCode::CONFLICT,
            Self::VersionMismatch => StatusCode::PRECONDITION_FAILED,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short English title.
    pub fn title(self) -> &'static str {
        match self {
            Self::MalformedJson => "Malformed JSON body",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::PayloadTooLarge => "Payload too large",
            Self::InvalidQuery => "Invalid query",
            Self::InvalidPath => "Invalid path parameter",
            Self::ValidationFailed => "Validation failed",
            Self::Unauthenticated => "Unauthenticated",
            Self::Forbidden => "Forbidden",
            Self::NotFound => "Not found",
            Self::RouteNotFound => "Route not found",
            Self::MethodNotAllowed => "Method not allowed",
            Self::DuplicateCreditCode => "Duplicate credit code",
            Self::LastCityAdmin => "Last city administrator",
            Self::TokenAlreadyRevoked => "Token already revoked",
            Self::DuplicateCertificateNumber => "Duplicate certificate number",
            Self::DuplicateStandardVersion => "Duplicate standard version",
            Self::AssessmentNotDraft => "Assessment not a draft",
            Self::GradingNotEligible => "Not eligible to apply",
            Self::GradingStepNotAllowed => "Grading step not allowed",
            Self::HazardStepNotAllowed => "Hazard step not allowed",
            Self::RegradeBarred => "New grade barred after revocation",
            Self::CertificateNotInForce => "Certificate not in force",
            Self::FastTrackNotAllowed => "Fast track not allowed",
            Self::RenewalClosed => "Renewal closed",
            Self::StageOutOfOrder => "Creation stage out of order",
            Self::CalendarYearUnknown => "Calendar year unknown",
            Self::InvalidPrecondition => "Invalid If-Match header",
            Self::InvalidIdempotencyKey => "Invalid Idempotency-Key header",
            Self::VersionMismatch => "Version mismatch",
            Self::IdempotencyKeyReused => "Idempotency key reused",
            Self::RateLimited => "Too many requests",
            Self::ServiceUnavailable => "Service unavailable",
            Self::Internal => "Internal error",
        }
    }
}

/// Where the `type` URI of a problem points: the book's error page, one anchor per code.
/// A relative reference (RFC 3986 §4.2), resolved against the server that answered.
pub const PROBLEM_TYPE_BASE: &str = "/book/errors.html#";

/// One rejected field.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON Pointer (RFC 6901) to the field in the request body.
    #[schema(example = "/credit_code")]
    pub pointer: String,
    /// Why, from a closed list.
    #[schema(value_type = crate::plumbing::codes::ViolationCode)]
    pub code: ViolationCode,
    /// A sentence for people.
    #[schema(example = "check character should be 6, got 5")]
    pub message: String,
}

impl From<Violation> for FieldError {
    fn from(v: Violation) -> Self {
        Self {
            pointer: v.pointer,
            code: v.code,
            message: v.message,
        }
    }
}

/// An RFC 9457 problem (`application/problem+json`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// URI of the book entry for `code`.
    #[serde(rename = "type")]
    #[schema(example = "/book/errors.html#validation_failed")]
    pub type_uri: String,
    /// Short summary of the code.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What happened in this request.
    pub detail: String,
    /// The request path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Machine-readable reason, from a closed list.
    #[schema(value_type = crate::plumbing::codes::ErrorCode)]
    pub code: ErrorCode,
    /// Field errors (for `validation_failed`), every one at once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(default = json!([]))]
    pub errors: Vec<FieldError>,
    /// The request id (`X-Request-Id`), to quote when reporting a problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// An error answered as a problem.
#[derive(Debug)]
pub struct ApiError {
    /// The code (and through it the status).
    pub code: ErrorCode,
    /// What happened.
    pub detail: String,
    /// Field errors.
    pub errors: Vec<FieldError>,
    /// Headers to add (`Retry-After`, `Allow`).
    pub headers: Vec<(header::HeaderName, String)>,
    /// The cause, logged for 5xx and never sent.
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

impl ApiError {
    /// An error with a code and a detail.
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            errors: Vec::new(),
            headers: Vec::new(),
            source: None,
        }
    }

    /// A 422 listing every violation.
    pub fn invalid(violations: Vec<Violation>) -> Self {
        let n = violations.len();
        let mut e = Self::new(
            ErrorCode::ValidationFailed,
            match violations.first() {
                Some(v) if n == 1 => v.message.clone(),
                _ => format!("{n} 个字段有误，详见 errors"),
            },
        );
        e.errors = violations.into_iter().map(FieldError::from).collect();
        e
    }

    /// The outcome of validating input whose members were read with `member_errors` (wrong
    /// types, unknown or read-only fields): a 422 listing every problem, each field once (a
    /// member already refused is not reported again by validation, nor are its children).
    pub fn merge_validation<T>(
        mut member_errors: Vec<Violation>,
        validated: Result<T, Vec<Violation>>,
    ) -> Result<T, Self> {
        match validated {
            Ok(v) if member_errors.is_empty() => Ok(v),
            Ok(_) => Err(Self::invalid(member_errors)),
            Err(more) => {
                let seen: Vec<String> = member_errors.iter().map(|e| e.pointer.clone()).collect();
                member_errors.extend(more.into_iter().filter(|v| {
                    !seen
                        .iter()
                        .any(|s| v.pointer == *s || v.pointer.starts_with(&format!("{s}/")))
                }));
                Err(Self::invalid(member_errors))
            }
        }
    }

    /// `outcome`, with `extra` added to its field errors: a 422 lists every problem of the
    /// request at once, also those found apart (like an invalid `reason`).
    pub fn also_invalid<T>(extra: Option<Violation>, outcome: Result<T, Self>) -> Result<T, Self> {
        let Some(v) = extra else {
            return outcome;
        };
        match outcome {
            Ok(_) => Err(Self::invalid(vec![v])),
            Err(e) if e.code == ErrorCode::ValidationFailed => {
                let mut all = vec![v];
                all.extend(e.errors.into_iter().map(|f| Violation {
                    pointer: f.pointer,
                    code: f.code,
                    message: f.message,
                }));
                Err(Self::invalid(all))
            }
            Err(e) => Err(e),
        }
    }

    /// A 500 whose cause is logged, never sent.
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        let mut e = Self::new(
            ErrorCode::Internal,
            "an unexpected error occurred; quote the request id when reporting it",
        );
        e.source = Some(source.into());
        e
    }

    /// Adds a header.
    pub fn with_header(mut self, name: header::HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The problem body, with `instance` and `request_id` when known.
    pub fn problem(&self, instance: Option<String>, request_id: Option<String>) -> Problem {
        Problem {
            type_uri: format!("{PROBLEM_TYPE_BASE}{}", self.code),
            title: self.code.title().to_owned(),
            status: self.code.status().as_u16(),
            detail: self.detail.clone(),
            instance,
            code: self.code,
            errors: self.errors.clone(),
            request_id,
        }
    }
}

/// Gives a `not_found` error the record's kind and id ("no certificate with id …"); other
/// errors pass through.
pub fn not_found_as(kind: &'static str, id: String) -> impl FnOnce(ApiError) -> ApiError {
    not_found_says(format!("no {kind} with id {id}"))
}

/// Gives a `not_found` error `detail` (what was looked for); other errors pass through.
pub fn not_found_says(detail: impl Into<String>) -> impl FnOnce(ApiError) -> ApiError {
    move |e| match e.code {
        ErrorCode::NotFound => ApiError::new(ErrorCode::NotFound, detail),
        _ => e,
    }
}

/// The detail of a `not_found` for a body's `enterprise_id` outside the caller's reach.
pub const NO_SUCH_ENTERPRISE: &str = "no enterprise with this enterprise_id in your jurisdiction";

impl From<Refusal> for ApiError {
    /// Every refusal has its code: the match is exhaustive, so a new refusal without one
    /// does not compile.
    fn from(r: Refusal) -> Self {
        let detail = r.to_string();
        let code = match r {
            Refusal::Certificate(c) => match c {
                CertificateRefusal::NotInForce { .. }
                | CertificateRefusal::RevokedAfterExpiry { .. } => ErrorCode::CertificateNotInForce,
                CertificateRefusal::Expired { .. } => ErrorCode::RenewalClosed,
                CertificateRefusal::RegradeBarred { .. } => ErrorCode::RegradeBarred,
                CertificateRefusal::FastTrackNotAllowed { .. } => ErrorCode::FastTrackNotAllowed,
            },
            Refusal::Drive(d) => match d {
                DriveRefusal::StageBeforeCurrent { .. } => ErrorCode::StageOutOfOrder,
            },
            Refusal::Grading(g) => match g {
                safegrade_domain::gradings::GradingRefusal::Ineligible { .. } => {
                    ErrorCode::GradingNotEligible
                }
                safegrade_domain::gradings::GradingRefusal::Calendar(_) => {
                    ErrorCode::CalendarYearUnknown
                }
                safegrade_domain::gradings::GradingRefusal::NotNow { .. }
                | safegrade_domain::gradings::GradingRefusal::SecondCorrection
                | safegrade_domain::gradings::GradingRefusal::Extension { .. }
                | safegrade_domain::gradings::GradingRefusal::PublicityRunning { .. } => {
                    ErrorCode::GradingStepNotAllowed
                }
            },
            Refusal::Hazard(_) => ErrorCode::HazardStepNotAllowed,
            Refusal::Assessment(a) => match a {
                safegrade_domain::assessments::AssessmentRefusal::NotDraft { .. } => {
                    ErrorCode::AssessmentNotDraft
                }
            },
            Refusal::LastCityAdmin => ErrorCode::LastCityAdmin,
            Refusal::TokenAlreadyRevoked => ErrorCode::TokenAlreadyRevoked,
        };
        Self::new(code, detail)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::new(ErrorCode::NotFound, "no such record"),
            StoreError::VersionMismatch { current } => Self::new(
                ErrorCode::VersionMismatch,
                format!("the record is at version {current}; fetch it again and retry with If-Match: \"{current}\""),
            )
            .with_header(header::ETAG, format!("\"{current}\"")),
            StoreError::Conflict(constraint) => match constraint {
                Constraint::EnterpriseCreditCode => Self::new(
                    ErrorCode::DuplicateCreditCode,
                    "台账中已有使用该统一社会信用代码的企业",
                ),
                Constraint::CertificateNumber => Self::new(
                    ErrorCode::DuplicateCertificateNumber,
                    "已登记过该编号的证书",
                ),
                Constraint::StandardVersion => Self::new(
                    ErrorCode::DuplicateStandardVersion,
                    "该评定标准的这一版本已经存在；版本一经导入不再修改，修订后的标准请用新的 version 导入",
                ),
                Constraint::IdempotencyKey => unavailable(StoreError::Conflict(constraint)),
                Constraint::Other(name) => Self::internal(StoreError::Conflict(Constraint::Other(name))),
            },
            StoreError::Refused(r) => Self::from(r),
            StoreError::Invalid(violations) => Self::invalid(violations),
            StoreError::MissingReference { field } => Self::invalid(vec![Violation::field(
                field,
                ViolationCode::UnknownReference,
                format!("{field} 指向的记录不存在"),
            )]),
            e @ (StoreError::Busy(_) | StoreError::Unavailable(_)) => unavailable(e),
            e @ StoreError::Other(_) => Self::internal(e),
        }
    }
}

/// 503 with `Retry-After`: the database is unavailable or busy, and a retry may succeed.
fn unavailable(cause: StoreError) -> ApiError {
    let mut err = ApiError::new(
        ErrorCode::ServiceUnavailable,
        "the database is unavailable; retry shortly",
    )
    .with_header(header::RETRY_AFTER, "1");
    err.source = Some(Box::new(cause));
    err
}

impl From<safegrade_domain::calendar::CalendarYearUnknown> for ApiError {
    fn from(e: safegrade_domain::calendar::CalendarYearUnknown) -> Self {
        Self::new(ErrorCode::CalendarYearUnknown, e.to_string())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        if self.code.status().is_server_error() {
            let chain = source_chain(self.source.as_deref());
            tracing::error!(code = %self.code, detail = %self.detail, cause = %chain, "server error");
        }
        // `instance` and `request_id` are filled in by the request-id middleware, which
        // knows the request; this body is complete without them.
        let mut response = HttpResponse::build(self.code.status());
        response.content_type("application/problem+json");
        for (name, value) in &self.headers {
            response.insert_header((name.clone(), value.clone()));
        }
        response.extensions_mut().insert(ProblemMarker);
        response.json(self.problem(None, None))
    }
}

/// Marks a response whose body is a problem, so the middleware can add `instance` and
/// `request_id` to it.
#[derive(Debug, Clone, Copy)]
pub struct ProblemMarker;

fn source_chain(source: Option<&(dyn std::error::Error + Send + Sync + 'static)>) -> String {
    let mut parts = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = source.map(|s| s as _);
    while let Some(e) = next {
        parts.push(e.to_string());
        next = e.source();
    }
    parts.join(": ")
}
