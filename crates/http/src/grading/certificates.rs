//! Standardization certificates (标准化等级证书): record, read, list, revoke, renew, upgrade. The status is
//! derived from the dates and the history on the server's "today".

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use safegrade_domain::grading::{
    AuthorityLevel, Certificate, CertificateInput, CertificateStatus, Grade, Regime, RenewalTrack,
    RevocationInput, RevocationTrigger,
};
use safegrade_domain::{
    Action, CertificateId, CodeList, EnterpriseId, Violation, ViolationCode as V,
};
use safegrade_store::grading::certificates::{self as store, CertificateFilter, Succession};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::plumbing::app::AppState;
use crate::plumbing::auth::Caller;
use crate::plumbing::error::{ApiError, NO_SUCH_ENTERPRISE, not_found_as, not_found_says};
use crate::plumbing::export::{self, Cell, Format, Sheet};
use crate::plumbing::extract::{IdempotencyKey, IfMatch, JsonObject, PathId};
use crate::plumbing::list::{self, ListResponse};
use crate::plumbing::write::Answer;

/// The grading authority (定级部门): sent and returned in this one shape.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Authority {
    /// Its level.
    #[schema(value_type = crate::plumbing::codes::AuthorityLevel)]
    pub level: AuthorityLevel,
    /// Its name.
    #[schema(example = "绵阳市应急管理局")]
    pub name: String,
}

/// A revocation decision (撤销).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevocationResponse {
    /// Which trigger of the Grading Measures.
    #[schema(value_type = crate::plumbing::codes::RevocationTrigger)]
    pub trigger: RevocationTrigger,
    /// The legal basis cited.
    pub legal_basis: String,
    /// Why.
    pub reason: String,
    /// Date of the decision.
    pub decided_on: NaiveDate,
    /// From this date a new grade can be granted (1 year later).
    pub regrade_opens_on: NaiveDate,
    /// The grade-rule set in force when the revocation was decided.
    pub rules_version: String,
}

/// A standardization certificate (标准化等级证书).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CertificateResponse {
    /// Opaque id.
    pub id: String,
    /// The enterprise holding it.
    pub enterprise_id: String,
    /// Regime: `legacy_2014` before 2021-10-27, else `grading_2021` or `small_micro`.
    #[schema(value_type = crate::plumbing::codes::Regime)]
    pub regime: Regime,
    /// Grade (等级).
    #[schema(value_type = crate::plumbing::codes::Grade)]
    pub grade: Grade,
    /// Certificate number (证书编号).
    pub number: String,
    /// The grading authority.
    pub authority: Authority,
    /// Issued (announced) on.
    pub issued_on: NaiveDate,
    /// Last day of validity.
    pub valid_until: NaiveDate,
    /// The grading standard (code and version).
    pub standard: String,
    /// Derived on the server's today: `valid`, `expiring` (re-application window open),
    /// `expired`, `revoked`, `superseded`.
    #[schema(value_type = crate::plumbing::codes::CertificateStatus)]
    pub status: CertificateStatus,
    /// The revocation, when revoked.
    pub revocation: Option<RevocationResponse>,
    /// The certificate that replaced it.
    pub superseded_by: Option<String>,
    /// The grade-rule set in force when it was recorded (it set the default validity and
    /// the regime).
    #[schema(example = "定级办法2021-r1")]
    pub rules_version: String,
    /// Version (also the `ETag`).
    pub version: i64,
    /// When it was recorded.
    #[serde(serialize_with = "crate::plumbing::instant::serialize")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "crate::plumbing::instant::serialize")]
    pub updated_at: DateTime<Utc>,
}

impl CertificateResponse {
    fn new(c: &Certificate, state: &AppState) -> Self {
        let d = &c.data;
        Self {
            id: c.id.to_string(),
            enterprise_id: d.enterprise_id.to_string(),
            regime: d.regime,
            grade: d.grade,
            number: d.number.clone(),
            authority: Authority {
                level: d.authority_level,
                name: d.authority_name.clone(),
            },
            issued_on: d.issued_on,
            valid_until: d.valid_until,
            standard: d.standard.clone(),
            status: c.status(
                state.grade_rules,
                state.today(),
                state.expiring_window_months,
            ),
            revocation: c.revocation.as_ref().map(|r| RevocationResponse {
                trigger: r.trigger,
                legal_basis: r.legal_basis.clone(),
                reason: r.reason.clone(),
                decided_on: r.decided_on,
                regrade_opens_on: state.grade_rules.regrade_opens_on(r.decided_on),
                rules_version: r.rules_version.clone(),
            }),
            rules_version: c.rules_version.clone(),
            superseded_by: c.superseded_by.map(|s| s.to_string()),
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// Recording a certificate. Unknown fields are rejected; every invalid field is reported.
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct CertificateCreate {
    /// The enterprise (in the caller's jurisdiction).
    pub enterprise_id: String,
    /// Grade.
    #[schema(value_type = crate::plumbing::codes::Grade)]
    pub grade: String,
    /// Certificate number, unique, up to 50 characters.
    pub number: String,
    /// The grading authority, as certificates return it. Required (or the deprecated flat
    /// pair `authority_level` and `authority_name`).
    pub authority: Option<Authority>,
    /// Deprecated: use `authority.level`.
    #[schema(value_type = Option<crate::plumbing::codes::AuthorityLevel>)]
    #[deprecated = "use authority.level"]
    pub authority_level: Option<String>,
    /// Deprecated: use `authority.name`.
    #[deprecated = "use authority.name"]
    pub authority_name: Option<String>,
    /// Issued (announced) on, `YYYY-MM-DD`, not after today.
    pub issued_on: NaiveDate,
    /// Last day of validity; default: issued_on + 3 years.
    pub valid_until: Option<NaiveDate>,
    /// The grading standard (code and version).
    pub standard: String,
    /// Regime; default from the issue date and grade.
    #[schema(value_type = Option<crate::plumbing::codes::Regime>)]
    pub regime: Option<String>,
}

/// A revocation decision.
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct RevocationCreate {
    /// The trigger, from the closed list of the Grading Measures.
    #[schema(value_type = crate::plumbing::codes::RevocationTrigger)]
    pub trigger: String,
    /// The legal basis cited in the decision, up to 200 characters.
    pub legal_basis: String,
    /// Why, up to 500 characters.
    pub reason: String,
    /// Date of the decision, between the issue date and today.
    pub decided_on: NaiveDate,
}

/// How a body gave the grading authority: nested, as certificates return it
/// (`"authority": {"level": …, "name": …}`), or as the flat pair `authority_level` and
/// `authority_name` of the first release (deprecated, still accepted). The member reader
/// sees the flat pair either way; field errors point where the caller put the value.
struct AuthorityForm {
    nested: bool,
    /// Any of the flat pair given.
    flat: bool,
    violations: Vec<Violation>,
}

impl AuthorityForm {
    const MOVES: [(&'static str, &'static str); 2] = [
        ("/authority_level", "/authority/level"),
        ("/authority_name", "/authority/name"),
    ];

    fn read(
        body: &serde_json::Map<String, serde_json::Value>,
    ) -> (serde_json::Map<String, serde_json::Value>, Self) {
        use serde_json::Value;
        let mut members = body.clone();
        let mut form = Self {
            nested: false,
            flat: ["authority_level", "authority_name"]
                .iter()
                .any(|f| !matches!(body.get(*f), None | Some(Value::Null))),
            violations: Vec::new(),
        };
        match members.remove("authority") {
            None | Some(Value::Null) => {}
            Some(Value::Object(authority)) => {
                form.nested = true;
                for flat in ["authority_level", "authority_name"] {
                    if members.remove(flat).is_some() {
                        form.violations.push(Violation::field(
                            flat,
                            V::NotApplicable,
                            format!("{flat} 与 authority 不能同时提供，请只用 authority"),
                        ));
                    }
                }
                for (key, value) in authority {
                    match key.as_str() {
                        "level" => members.insert("authority_level".into(), value),
                        "name" => members.insert("authority_name".into(), value),
                        _ => {
                            form.violations.push(Violation {
                                pointer: format!(
                                    "/authority{}",
                                    safegrade_domain::pointer_to(&key)
                                ),
                                code: V::UnknownField,
                                message: format!(
                                    "{key} 不是定级部门（authority）的字段，只有 level 和 name"
                                ),
                            });
                            None
                        }
                    };
                }
            }
            Some(_) => form.violations.push(Violation::field(
                "authority",
                V::InvalidType,
                "authority 须为对象，例如 {\"level\": \"city\", \"name\": \"绵阳市应急管理局\"}",
            )),
        }
        (members, form)
    }

    /// Where an error about the flat pair belongs: inside `authority` when it was nested, at
    /// `authority` itself when neither form was given (one "required" for the object).
    fn pointer(&self, pointer: &mut String) {
        if let Some((_, to)) = Self::MOVES.iter().find(|(from, _)| pointer == from) {
            if self.nested {
                *pointer = (*to).to_owned();
            } else if !self.flat {
                *pointer = "/authority".to_owned();
            }
        }
    }

    /// `violations` with their pointers moved as [`Self::pointer`] says (the form's own
    /// violations stay where they are), once per place.
    fn moved(&self, violations: Vec<Violation>) -> Vec<Violation> {
        let mut out: Vec<Violation> = Vec::with_capacity(violations.len());
        for mut v in violations {
            if !self.violations.contains(&v) {
                self.pointer(&mut v.pointer);
            }
            if !out.iter().any(|o| o.pointer == v.pointer) {
                out.push(v);
            }
        }
        out
    }

    /// The form's own errors, then the member reader's, moved.
    fn errors(&self, member_errors: Vec<Violation>) -> Vec<Violation> {
        let mut all = self.violations.clone();
        all.extend(member_errors);
        self.moved(all)
    }

    /// A validation problem's pointers, moved.
    fn repoint(&self, e: ApiError) -> ApiError {
        if e.errors.is_empty() {
            return e;
        }
        let violations: Vec<Violation> = e
            .errors
            .into_iter()
            .map(|f| Violation {
                pointer: f.pointer,
                code: f.code,
                message: f.message,
            })
            .collect();
        ApiError::invalid(self.moved(violations))
    }
}

fn with_certificate(
    mut res: actix_web::HttpResponseBuilder,
    c: &Certificate,
    state: &AppState,
) -> HttpResponse {
    res.insert_header((header::ETAG, format!("\"{}\"", c.version)))
        .json(CertificateResponse::new(c, state))
}

/// Record a certificate (登记等级证书): a grade given by the city, the province or the
/// ministry, or a legacy (2014-regime) certificate.
///
/// The enterprise must be in the caller's jurisdiction (else 404). A grade granted less than
/// a year after the enterprise's last revocation is refused (409 `regrade_barred`, with the
/// date it opens).
#[utoipa::path(
    tag = "certificates",
    operation_id = "create_certificate",
    request_body(content = CertificateCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Recorded", body = CertificateResponse,
            headers(("Location" = String, description = "URL of the certificate"), ("ETag" = String, description = "Version, quoted"))),
    )
)]
#[post("/certificates")]
pub async fn create_certificate(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::WriteLedger)?;
    let mut input = CertificateInput::default();
    let (members, authority) = AuthorityForm::read(&body);
    let errors = authority.errors(crate::plumbing::members::texts(
        &members,
        &mut [
            ("enterprise_id", &mut input.enterprise_id),
            ("grade", &mut input.grade),
            ("number", &mut input.number),
            ("authority_level", &mut input.authority_level),
            ("authority_name", &mut input.authority_name),
            ("issued_on", &mut input.issued_on),
            ("valid_until", &mut input.valid_until),
            ("standard", &mut input.standard),
            ("regime", &mut input.regime),
        ],
        "证书",
    ));
    let data = ApiError::merge_validation(errors, input.validate(state.grade_rules, state.today()))
        .map_err(|e| authority.repoint(e))?;
    let (scope, actor, st) = (caller.scope(), caller.actor(), state.clone());
    let thread_key = data.enterprise_id.to_string();
    crate::plumbing::write::post(&state, &caller, &req, key, &body, &thread_key, move |tx| {
        let c = store::record(tx, &data, &scope, &actor, st.grade_rules)
            .map_err(ApiError::from)
            .map_err(not_found_says(NO_SUCH_ENTERPRISE))?;
        Ok(Answer::created(location(&c), &CertificateResponse::new(&c, &st))?.versioned(c.version))
    })
    .await
}

fn location(c: &Certificate) -> String {
    format!("/api/v1/certificates/{}", c.id)
}

/// The writer key of a certificate's enterprise (see `Store::enterprise_key_of_certificate`).
async fn enterprise_key(state: &AppState, id: CertificateId) -> Result<String, ApiError> {
    state
        .run(move |s| Ok(s.enterprise_key_of_certificate(id)))
        .await
}

/// Filters of the certificate list and its export.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CertificateFilters {
    /// Of this enterprise.
    pub enterprise_id: Option<uuid::Uuid>,
    /// Of enterprises in this supervision area.
    pub area_code: Option<String>,
    /// Of this grade.
    #[param(value_type = Option<crate::plumbing::codes::Grade>)]
    pub grade: Option<Grade>,
    /// With this status on the server's today.
    #[param(value_type = Option<crate::plumbing::codes::CertificateStatus>)]
    pub status: Option<CertificateStatus>,
}

impl CertificateFilters {
    fn filter(&self, caller: &Caller) -> Result<CertificateFilter, ApiError> {
        Ok(CertificateFilter {
            scope: caller.scope(),
            enterprise_id: self
                .enterprise_id
                .and_then(|u| EnterpriseId::parse(&u.to_string())),
            area_code: list::area_filter(self.area_code.as_deref())?,
            grade: self.grade,
            status: self.status,
        })
    }
}

const CURSOR_KIND: &str = "certificate";

/// List certificates in the caller's jurisdiction, in recording order.
#[utoipa::path(
    tag = "certificates",
    operation_id = "list_certificates",
    params(CertificateFilters, list::PageParams),
    responses(
        (status = 200, description = "One page", body = ListResponse<CertificateResponse>),
    )
)]
#[get("/certificates")]
pub async fn list_certificates(
    caller: Caller,
    state: web::Data<AppState>,
    query: list::Paged<CertificateFilters>,
) -> Result<HttpResponse, ApiError> {
    let limit = list::limit(query.limit)?;
    let after = list::id_cursor(CURSOR_KIND, query.cursor.as_deref(), CertificateId::parse)?;
    let filter = query.filters.filter(&caller)?;
    let (today, window) = (state.today(), state.expiring_window_months);
    let page = state
        .run(move |s| Ok(s.list_certificates(&filter, today, window, after, i64::from(limit))?))
        .await?;
    let next_cursor = list::next_cursor(
        CURSOR_KIND,
        page.has_more,
        page.items.last().map(|c| c.id.to_string()),
    );
    let items = page
        .items
        .iter()
        .map(|c| CertificateResponse::new(c, &state))
        .collect();
    Ok(ListResponse { items, next_cursor }.into_response())
}

/// Headers of the certificate export, in the order of [`export_row`].
const EXPORT_HEADERS: &[&str] = &[
    "证书编号",
    "企业名称",
    "等级",
    "定级制度",
    "定级部门层级",
    "定级部门",
    "发证日期",
    "有效期至",
    "评定标准",
    "状态",
    "撤销情形",
    "撤销决定日期",
    "可重新申请日期",
    "企业编号",
    "证书编号（系统）",
];

fn export_row(c: CertificateResponse, name: Option<String>) -> Vec<Cell> {
    let revocation = c.revocation.as_ref();
    vec![
        c.number.into(),
        name.into(),
        c.grade.label_zh().into(),
        c.regime.label_zh().into(),
        c.authority.level.label_zh().into(),
        c.authority.name.into(),
        c.issued_on.into(),
        c.valid_until.into(),
        c.standard.into(),
        c.status.label_zh().into(),
        revocation.map(|r| r.trigger.label_zh()).into(),
        revocation.map(|r| r.decided_on).into(),
        revocation.map(|r| r.regrade_opens_on).into(),
        c.enterprise_id.into(),
        c.id.into(),
    ]
}

/// Export the certificates (导出等级证书) as Excel (`export.xlsx`) or CSV (`export.csv`): the
/// list's filters, only the caller's jurisdiction, Chinese headers and labels, statuses on
/// the server's today. Streamed: any size.
#[utoipa::path(
    tag = "certificates",
    operation_id = "export_certificates",
    params(
        ("format" = String, Path, description = "`xlsx` or `csv`"),
        CertificateFilters,
    ),
    responses(
        (status = 200, description = "The certificates as a file", content(
            (crate::plumbing::export::FileBody = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (String = "text/csv"),
        )),
    )
)]
#[get("/certificates/export.{format}")]
pub async fn export_certificates(
    caller: Caller,
    state: web::Data<AppState>,
    format: web::Path<String>,
    query: web::Query<CertificateFilters>,
) -> Result<HttpResponse, ApiError> {
    let format = Format::parse(&format)?;
    let filter = query.filter(&caller)?;
    let (today, window) = (state.today(), state.expiring_window_months);
    let app = state.get_ref().clone();
    let pages = export::paged(move |store, after| {
        let page = store.list_certificates(&filter, today, window, after, 1000)?;
        let next = page
            .has_more
            .then(|| page.items.last().map(|c| c.id))
            .flatten();
        let ids: Vec<EnterpriseId> = page.items.iter().map(|c| c.data.enterprise_id).collect();
        let names = store.enterprise_names(&ids)?;
        let rows = page
            .items
            .iter()
            .map(|c| {
                let name = names.get(&c.data.enterprise_id).cloned();
                export_row(CertificateResponse::new(c, &app), name)
            })
            .collect();
        Ok((rows, next))
    });
    Ok(export::respond(
        &state,
        format,
        Sheet {
            name: "等级证书",
            headers: EXPORT_HEADERS,
            pages,
        },
    ))
}

/// Get one certificate, with its derived status.
#[utoipa::path(
    tag = "certificates",
    operation_id = "get_certificate",
    params(("id" = uuid::Uuid, Path, description = "Certificate id")),
    responses(
        (status = 200, description = "The certificate", body = CertificateResponse, headers(("ETag" = String, description = "Version, quoted"))),
    )
)]
#[get("/certificates/{id}")]
pub async fn get_certificate(
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<CertificateId>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.scope();
    let c = state
        .run(move |s| Ok(s.get_certificate(id, &scope)?))
        .await
        .map_err(not_found_as("certificate", raw))?;
    Ok(with_certificate(HttpResponse::Ok(), &c, &state))
}

/// Revoke a grade (撤销等级) on one of the triggers of the Grading Measures, with the legal
/// basis, the reason and the decision date. A new grade can be granted one year after the
/// decision.
#[utoipa::path(
    tag = "certificates",
    operation_id = "revoke_certificate",
    params(("id" = uuid::Uuid, Path, description = "Certificate id")),
    request_body(content = RevocationCreate, content_type = "application/json"),
    responses(
        (status = 200, description = "The revoked certificate", body = CertificateResponse),
    )
)]
#[post("/certificates/{id}/revocation")]
pub async fn revoke_certificate(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<CertificateId>,
    key: IdempotencyKey,
    IfMatch(expected): IfMatch,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::WriteLedger)?;
    let mut input = RevocationInput::default();
    let errors = crate::plumbing::members::texts(
        &body,
        &mut [
            ("trigger", &mut input.trigger),
            ("legal_basis", &mut input.legal_basis),
            ("reason", &mut input.reason),
            ("decided_on", &mut input.decided_on),
        ],
        "撤销决定",
    );
    let (scope, actor, st) = (caller.scope(), caller.actor(), state.clone());
    let thread_key = enterprise_key(&state, id).await?;
    crate::plumbing::write::post(&state, &caller, &req, key, &body, &thread_key, move |tx| {
        let today = st.today();
        let c = store::revoke(
            tx,
            id,
            (&scope, &actor),
            expected,
            st.grade_rules,
            |current: &Certificate| {
                ApiError::merge_validation(errors, input.validate(current.data.issued_on, today))
            },
        )
        .map_err(not_found_as("certificate", raw))?;
        Ok(Answer::ok(&CertificateResponse::new(&c, &st))?.versioned(c.version))
    })
    .await
}

/// Renewing a certificate: the new certificate of the same grade.
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct RenewalCreate {
    /// The procedure followed.
    #[schema(value_type = crate::plumbing::codes::RenewalTrack)]
    pub track: String,
    /// The new certificate's number.
    pub number: String,
    /// Issued (announced) on, after the current one's issue date and not after today.
    pub issued_on: NaiveDate,
    /// Last day of validity; default: issued_on + 3 years.
    pub valid_until: Option<NaiveDate>,
    /// Default: the current certificate's.
    pub authority: Option<Authority>,
    /// Deprecated: use `authority.level`.
    #[schema(value_type = Option<crate::plumbing::codes::AuthorityLevel>)]
    #[deprecated = "use authority.level"]
    pub authority_level: Option<String>,
    /// Deprecated: use `authority.name`.
    #[deprecated = "use authority.name"]
    pub authority_name: Option<String>,
    /// Default: the current certificate's.
    pub standard: Option<String>,
}

/// Upgrading a certificate: the new certificate of a higher grade.
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct UpgradeCreate {
    /// The new, higher grade.
    #[schema(value_type = crate::plumbing::codes::Grade)]
    pub grade: String,
    /// The new certificate's number.
    pub number: String,
    /// Issued (announced) on.
    pub issued_on: NaiveDate,
    /// Last day of validity; default: issued_on + 3 years.
    pub valid_until: Option<NaiveDate>,
    /// The authority of the new grade. Required (or the deprecated flat pair).
    pub authority: Option<Authority>,
    /// Deprecated: use `authority.level`.
    #[schema(value_type = Option<crate::plumbing::codes::AuthorityLevel>)]
    #[deprecated = "use authority.level"]
    pub authority_level: Option<String>,
    /// Deprecated: use `authority.name`.
    #[deprecated = "use authority.name"]
    pub authority_name: Option<String>,
    /// Default: the current certificate's.
    pub standard: Option<String>,
}

/// Fills `input` from the certificate it replaces where the body left a field out, and
/// validates it against the replaced one (a later issue date).
fn successor(
    mut input: CertificateInput,
    errors: Vec<Violation>,
    current: &Certificate,
    state: &AppState,
) -> Result<safegrade_domain::grading::CertificateData, ApiError> {
    let d = &current.data;
    input.enterprise_id = Some(d.enterprise_id.to_string());
    input
        .grade
        .get_or_insert_with(|| d.grade.as_str().to_owned());
    input
        .authority_level
        .get_or_insert_with(|| d.authority_level.as_str().to_owned());
    input
        .authority_name
        .get_or_insert_with(|| d.authority_name.clone());
    input.standard.get_or_insert_with(|| d.standard.clone());
    let data =
        ApiError::merge_validation(errors, input.validate(state.grade_rules, state.today()))?;
    if data.issued_on <= d.issued_on {
        return Err(ApiError::invalid(vec![Violation::field(
            "issued_on",
            V::OutOfRange,
            format!("issued_on 须晚于现行证书的颁发日期 {}", d.issued_on),
        )]));
    }
    Ok(data)
}

/// Renew a grade (复评 / 再次申请同一等级): record the new certificate of the same grade; the
/// current one becomes `superseded`.
///
/// `track` says which procedure was followed. `fast_track` (straight to publicity and
/// announcement) is refused with the reasons (409 `fast_track_not_allowed`) when the
/// enterprise's accidents during the validity period exclude it (a death; for 一级 ≥3
/// seriously injured or CNY 1 million in total, else ≥5 or CNY 5 million). An expired
/// certificate cannot be renewed: the enterprise restarts creation (409 `renewal_closed`).
#[utoipa::path(
    tag = "certificates",
    operation_id = "renew_certificate",
    params(("id" = uuid::Uuid, Path, description = "Id of the certificate in force")),
    request_body(content = RenewalCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "The new certificate", body = CertificateResponse,
            headers(("Location" = String, description = "URL of the new certificate"))),
    )
)]
#[post("/certificates/{id}/renewal")]
pub async fn renew_certificate(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<CertificateId>,
    key: IdempotencyKey,
    IfMatch(expected): IfMatch,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::WriteLedger)?;
    let mut input = CertificateInput::default();
    let mut track = None;
    let (members, authority) = AuthorityForm::read(&body);
    let mut errors = authority.errors(crate::plumbing::members::texts(
        &members,
        &mut [
            ("track", &mut track),
            ("number", &mut input.number),
            ("issued_on", &mut input.issued_on),
            ("valid_until", &mut input.valid_until),
            ("authority_level", &mut input.authority_level),
            ("authority_name", &mut input.authority_name),
            ("standard", &mut input.standard),
        ],
        "复评",
    ));
    let track = match track.as_deref().map(str::parse::<RenewalTrack>) {
        Some(Ok(t)) => t,
        Some(Err(e)) => {
            errors.push(Violation::field("track", V::InvalidValue, e.to_string()));
            RenewalTrack::FullReview
        }
        None => {
            errors.push(Violation::field(
                "track",
                V::Required,
                "track 为必填：fast_track（直接公示公告）或 full_review（完整评审）",
            ));
            RenewalTrack::FullReview
        }
    };
    succeed(
        (req, caller, state, key, body),
        (id, raw, expected),
        Succession::Renewal(track),
        move |current, st| successor(input, errors, current, st).map_err(|e| authority.repoint(e)),
    )
    .await
}

/// Records the successor of certificate `id` (renewal or upgrade) through the conventions
/// of every POST.
async fn succeed<V>(
    request: (
        HttpRequest,
        Caller,
        web::Data<AppState>,
        IdempotencyKey,
        JsonObject,
    ),
    target: (CertificateId, String, Option<i64>),
    succession: Succession,
    validate: V,
) -> Result<HttpResponse, ApiError>
where
    V: FnOnce(
            &Certificate,
            &AppState,
        ) -> Result<safegrade_domain::grading::CertificateData, ApiError>
        + Send
        + 'static,
{
    let (req, caller, state, key, body) = request;
    let (id, raw, expected) = target;
    let (scope, actor, st) = (caller.scope(), caller.actor(), state.clone());
    let thread_key = enterprise_key(&state, id).await?;
    crate::plumbing::write::post(&state, &caller, &req, key, &body, &thread_key, move |tx| {
        let c = store::supersede(
            tx,
            id,
            (&scope, &actor),
            expected,
            succession,
            st.grade_rules,
            |current: &Certificate| validate(current, &st),
        )
        .map_err(not_found_as("certificate", raw))?;
        Ok(Answer::created(location(&c), &CertificateResponse::new(&c, &st))?.versioned(c.version))
    })
    .await
}

/// Upgrade a grade (提档升级): record the new certificate of a higher grade; the current one
/// becomes `superseded`.
#[utoipa::path(
    tag = "certificates",
    operation_id = "upgrade_certificate",
    params(("id" = uuid::Uuid, Path, description = "Id of the certificate in force")),
    request_body(content = UpgradeCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "The new certificate", body = CertificateResponse,
            headers(("Location" = String, description = "URL of the new certificate"))),
    )
)]
#[post("/certificates/{id}/upgrade")]
pub async fn upgrade_certificate(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<CertificateId>,
    key: IdempotencyKey,
    IfMatch(expected): IfMatch,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::WriteLedger)?;
    let mut input = CertificateInput::default();
    let (members, authority) = AuthorityForm::read(&body);
    let mut errors = crate::plumbing::members::texts(
        &members,
        &mut [
            ("grade", &mut input.grade),
            ("number", &mut input.number),
            ("issued_on", &mut input.issued_on),
            ("valid_until", &mut input.valid_until),
            ("authority_level", &mut input.authority_level),
            ("authority_name", &mut input.authority_name),
            ("standard", &mut input.standard),
        ],
        "升级",
    );
    errors.extend(
        [
            ("grade", input.grade.is_none()),
            ("authority_level", input.authority_level.is_none()),
            ("authority_name", input.authority_name.is_none()),
        ]
        .into_iter()
        .filter(|(_, absent)| *absent)
        .map(|(f, _)| Violation::field(f, V::Required, format!("{f} 为必填"))),
    );
    let errors = authority.errors(errors);
    succeed(
        (req, caller, state, key, body),
        (id, raw, expected),
        Succession::Upgrade,
        move |current, st| {
            let data = successor(input, errors, current, st).map_err(|e| authority.repoint(e))?;
            if data.grade.rank() <= current.data.grade.rank() {
                return Err(ApiError::invalid(vec![Violation::field(
                    "grade",
                    V::OutOfRange,
                    format!("升级须高于现行等级（{}）", current.data.grade.label_zh()),
                )]));
            }
            Ok(data)
        },
    )
    .await
}
