//! The public register (公开查询): grades in force and certificate verification, with no
//! token, so a bank, an insurer or a citizen can check a plaque. Nothing else is public;
//! requests are limited per client address (429 with `Retry-After`).

use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use safegrade_domain::grading::{CertificateStatus, Grade};
use safegrade_domain::{CertificateId, Sector};
use safegrade_store::grading::certificates::{RegisterEntry, RegisterFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::plumbing::app::AppState;
use crate::plumbing::error::{ApiError, ErrorCode};
use crate::plumbing::list::{self, ListResponse};

/// A grade in force, as the public register shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegisterEntryResponse {
    /// Registered name of the enterprise.
    pub enterprise_name: String,
    /// Its Unified Social Credit Code.
    pub credit_code: String,
    /// Its supervision area.
    pub area_code: String,
    /// Its supervision sector.
    #[schema(value_type = crate::plumbing::codes::Sector)]
    pub sector: String,
    /// Grade.
    #[schema(value_type = crate::plumbing::codes::Grade)]
    pub grade: Grade,
    /// Certificate number.
    pub certificate_number: String,
    /// Last day of validity.
    pub valid_until: NaiveDate,
}

impl From<RegisterEntry> for RegisterEntryResponse {
    fn from(e: RegisterEntry) -> Self {
        Self {
            enterprise_name: e.enterprise_name,
            credit_code: e.credit_code,
            area_code: e.area_code,
            sector: e.sector,
            grade: e.certificate.data.grade,
            certificate_number: e.certificate.data.number,
            valid_until: e.certificate.data.valid_until,
        }
    }
}

/// The answer to "is this certificate genuine and in force?".
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VerificationResponse {
    /// The number asked about.
    pub number: String,
    /// `valid` (in force today), `expired`, `revoked`, or `superseded` (replaced by a
    /// renewal or an upgrade: ask about the new number).
    #[schema(value_type = VerificationStatusSchema)]
    pub status: VerificationStatus,
    /// The enterprise's registered name.
    pub enterprise_name: String,
    /// Grade.
    #[schema(value_type = crate::plumbing::codes::Grade)]
    pub grade: Grade,
    /// Issued on.
    pub issued_on: NaiveDate,
    /// Last day of validity.
    pub valid_until: NaiveDate,
}

safegrade_domain::code_list! {
    /// What public verification answers.
    pub enum VerificationStatus {
        /// In force today.
        Valid = ("valid", "有效"),
        /// Past its validity.
        Expired = ("expired", "已过期"),
        /// Revoked.
        Revoked = ("revoked", "已撤销"),
        /// Replaced by a renewal or an upgrade.
        Superseded = ("superseded", "已被替代"),
    }
}

crate::plumbing::codes::code_list_schemas! {
    /// What public verification of a certificate answers.
    VerificationStatusSchema => VerificationStatus,
}

/// Filters and paging of the public register.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RegisterQuery {
    /// Supervision area.
    pub area_code: Option<String>,
    /// Supervision sector.
    #[param(value_type = Option<crate::plumbing::codes::Sector>)]
    pub sector: Option<Sector>,
    /// Grade.
    #[param(value_type = Option<crate::plumbing::codes::Grade>)]
    pub grade: Option<Grade>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const CURSOR_KIND: &str = "register";

/// The public register of grades in force (公开查询, no token).
///
/// Every enterprise grade that is in force today (not revoked or replaced, within its
/// validity), with the enterprise's name, credit code, area and sector. Limited per client
/// address (429 `rate_limited` with `Retry-After`).
#[utoipa::path(
    tag = "register",
    operation_id = "list_register",
    params(RegisterQuery),
    responses(
        (status = 200, description = "One page", body = ListResponse<RegisterEntryResponse>,
            headers(("RateLimit-Limit" = String, description = "Requests allowed per client and minute"), ("RateLimit-Remaining" = String, description = "Requests left now"), ("Access-Control-Allow-Origin" = String, description = "`*`: any web page may call it"))),
    )
)]
#[get("/register")]
pub async fn list_register(
    state: web::Data<AppState>,
    query: web::Query<RegisterQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = list::limit(query.limit)?;
    let after = list::id_cursor(CURSOR_KIND, query.cursor.as_deref(), CertificateId::parse)?;
    let area_code = list::area_filter(query.area_code.as_deref())?;
    let filter = RegisterFilter {
        area_code,
        sector: query
            .sector
            .map(|s| safegrade_domain::CodeList::as_str(&s).to_owned()),
        grade: query.grade,
    };
    let today = state.today();
    let page = state
        .run(move |s| Ok(s.register(&filter, today, after, i64::from(limit))?))
        .await?;
    let next_cursor = list::next_cursor(
        CURSOR_KIND,
        page.has_more,
        page.items.last().map(|e| e.certificate.id.to_string()),
    );
    let items = page
        .items
        .into_iter()
        .map(RegisterEntryResponse::from)
        .collect();
    Ok(ListResponse { items, next_cursor }.into_response())
}

/// Verify a certificate by its number (证书核验, no token): `valid`, `expired`, `revoked`,
/// `superseded`, or 404 when no certificate has this number.
#[utoipa::path(
    tag = "register",
    operation_id = "verify_certificate",
    params(("number" = String, Path, description = "Certificate number, as printed")),
    responses(
        (status = 200, description = "The certificate's standing", body = VerificationResponse,
            headers(("RateLimit-Limit" = String, description = "Requests allowed per client and minute"), ("RateLimit-Remaining" = String, description = "Requests left now"), ("Access-Control-Allow-Origin" = String, description = "`*`: any web page may call it"))),
    )
)]
#[get("/register/certificates/{number}")]
pub async fn verify_certificate(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let number = path.into_inner();
    let n = number.clone();
    let (c, enterprise_name) = state
        .run(move |s| Ok(s.certificate_by_number(&n)?))
        .await
        .map_err(|e| match e.code {
            ErrorCode::NotFound => ApiError::new(
                ErrorCode::NotFound,
                format!("no certificate with number {number}"),
            ),
            _ => e,
        })?;
    let status = match c.status(state.grade_rules, state.today(), 0) {
        CertificateStatus::Valid | CertificateStatus::Expiring => VerificationStatus::Valid,
        CertificateStatus::Expired => VerificationStatus::Expired,
        CertificateStatus::Revoked => VerificationStatus::Revoked,
        CertificateStatus::Superseded => VerificationStatus::Superseded,
    };
    Ok(HttpResponse::Ok().json(VerificationResponse {
        number: c.data.number,
        status,
        enterprise_name,
        grade: c.data.grade,
        issued_on: c.data.issued_on,
        valid_until: c.data.valid_until,
    }))
}
