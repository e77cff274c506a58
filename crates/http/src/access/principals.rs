//! Principals and tokens (账号与令牌): who may call the API. City administrators only,
//! except `GET /api/v1/me`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use safegrade_domain::{
    Action, Principal, PrincipalId, PrincipalInput, Role, TokenId, Violation, ViolationCode as V,
    check_expiry,
};
use safegrade_store::access::tokens::TokenInfo;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::plumbing::app::AppState;
use crate::plumbing::auth::Caller;
use crate::plumbing::error::{ApiError, not_found_as};
use crate::plumbing::extract::{IdempotencyKey, IfMatch, JsonObject, PathId};
use crate::plumbing::list::{self, ListResponse};
use crate::plumbing::members::{boolean, text};
use crate::plumbing::write::Answer;

/// A principal: a person, office or system that calls the API with its tokens.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PrincipalResponse {
    /// Opaque id.
    pub id: String,
    /// A name for people.
    #[schema(example = "涪城区应急管理局")]
    pub name: String,
    /// Role (角色).
    #[schema(value_type = crate::plumbing::codes::Role)]
    pub role: Role,
    /// Supervision areas of an `area_regulator` or `integration`; empty otherwise.
    #[schema(example = json!(["510703"]))]
    pub area_codes: Vec<String>,
    /// The enterprise of an `enterprise` principal.
    pub enterprise_id: Option<String>,
    /// An integration that may only read.
    pub read_only: bool,
    /// The review organisation of a `reviewer`; null otherwise.
    pub review_organisation: Option<ReviewOrganisationDoc>,
    /// A disabled principal's tokens stop working.
    pub disabled: bool,
    /// Version for `If-Match`; also sent as the `ETag`.
    pub version: i64,
    /// When it was created.
    #[serde(serialize_with = "crate::plumbing::instant::serialize")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "crate::plumbing::instant::serialize")]
    pub updated_at: DateTime<Utc>,
}

impl From<&Principal> for PrincipalResponse {
    fn from(p: &Principal) -> Self {
        let d = &p.data;
        Self {
            id: p.id.to_string(),
            name: d.name.clone(),
            role: d.role,
            area_codes: d.area_codes.clone(),
            enterprise_id: d.enterprise_id.map(|e| e.to_string()),
            read_only: d.read_only,
            review_organisation: d.review_organisation.as_ref().map(Into::into),
            disabled: d.disabled,
            version: p.version,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A new principal. Unknown fields are rejected; every invalid field is reported at once.
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct PrincipalCreate {
    /// A name for people, 1–100 characters.
    #[schema(example = "涪城区应急管理局")]
    pub name: String,
    /// Role.
    #[schema(value_type = crate::plumbing::codes::Role)]
    pub role: String,
    /// Required (at least one, at most 20) for `area_regulator` and `integration`; refused
    /// for other roles. Areas below the city only.
    #[schema(example = json!(["510703"]))]
    pub area_codes: Option<Vec<String>>,
    /// Required for `enterprise`, refused otherwise: an enterprise in the ledger.
    pub enterprise_id: Option<String>,
    /// Required for `integration` (true: read-only); refused as `true` for other roles.
    pub read_only: Option<bool>,
    /// Required for `reviewer`, refused otherwise: the review organisation it speaks for
    /// (its unified social credit code and name). It sees only the grading applications a
    /// regulator assigned to that organisation.
    pub review_organisation: Option<ReviewOrganisationDoc>,
    /// Starts disabled; default false.
    pub disabled: Option<bool>,
}

/// A review organisation (评审机构).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewOrganisationDoc {
    /// Unified social credit code (统一社会信用代码, 18 characters, check character verified).
    #[schema(example = "91510700MA6ABCDE1X")]
    pub id: String,
    /// Name, up to 100 characters.
    #[schema(example = "四川某安全技术评审有限公司")]
    pub name: String,
}

impl From<&safegrade_domain::ReviewOrganisation> for ReviewOrganisationDoc {
    fn from(o: &safegrade_domain::ReviewOrganisation) -> Self {
        Self {
            id: o.id.clone(),
            name: o.name.clone(),
        }
    }
}

/// Reads a `review_organisation` member (`{"id", "name"}`, or null) as given; the domain
/// checks the values.
pub(crate) fn organisation_member(
    k: &str,
    v: &Value,
) -> Result<Option<safegrade_domain::OrganisationInput>, Violation> {
    let shape = || {
        Violation::field(
            k,
            V::InvalidType,
            format!("{k} 须为对象：{{\"id\": 统一社会信用代码, \"name\": 名称}}"),
        )
    };
    match v {
        Value::Null => Ok(None),
        Value::Object(o) => {
            if let Some(extra) = o.keys().find(|m| !["id", "name"].contains(&m.as_str())) {
                return Err(Violation {
                    pointer: format!("/{k}/{extra}"),
                    code: V::UnknownField,
                    message: format!("{extra} 不是评审机构的字段（只有 id 和 name）"),
                });
            }
            let member = |m: &str| match o.get(m) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(t)) => Ok(Some(t.clone())),
                Some(_) => Err(shape()),
            };
            Ok(Some((member("id")?, member("name")?)))
        }
        _ => Err(shape()),
    }
}

/// A JSON Merge Patch of a principal; the result is validated as a whole. Changing the role
/// or scope, or disabling, takes effect on this node at once and on every node within the
/// token cache lifetime (5 seconds).
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct PrincipalPatch {
    /// See the create request.
    pub name: Option<String>,
    /// See the create request.
    #[schema(value_type = Option<crate::plumbing::codes::Role>)]
    pub role: Option<String>,
    /// See the create request.
    pub area_codes: Option<Vec<String>>,
    /// See the create request.
    pub enterprise_id: Option<String>,
    /// See the create request.
    pub read_only: Option<bool>,
    /// See the create request; replaced as a whole (null removes it).
    pub review_organisation: Option<ReviewOrganisationDoc>,
    /// See the create request.
    pub disabled: Option<bool>,
}

/// What is kept of a token: never the token itself.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Opaque id (for revocation).
    pub id: String,
    /// The principal it authenticates.
    pub principal_id: String,
    /// The first characters of the token, to recognise it (`sg_AbCd`).
    pub hint: String,
    /// When it was issued.
    #[serde(serialize_with = "crate::plumbing::instant::serialize")]
    pub created_at: DateTime<Utc>,
    /// When it stops working; null: never.
    #[serde(serialize_with = "crate::plumbing::instant::serialize_opt")]
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked; null: not revoked.
    #[serde(serialize_with = "crate::plumbing::instant::serialize_opt")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last used, to within 5 seconds; null: never.
    #[serde(serialize_with = "crate::plumbing::instant::serialize_opt")]
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<&TokenInfo> for TokenResponse {
    fn from(t: &TokenInfo) -> Self {
        Self {
            id: t.id.to_string(),
            principal_id: t.principal_id.to_string(),
            hint: t.hint.clone(),
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
            last_used_at: t.last_used_at,
        }
    }
}

/// Issuing a token.
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct TokenCreate {
    /// When the token stops working (RFC 3339, in the future); absent: never.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A token just issued. `token` appears in this answer only: store it now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenIssued {
    /// Token id (for revocation).
    pub id: String,
    /// The token: send it as `Authorization: Bearer <token>`.
    #[schema(example = "sg_3q2-7wDJ0bQy0pWl8mXgA1c5u9Zr4tHk6nVe2sPjLfo")]
    pub token: String,
    /// When it stops working; null: never.
    #[serde(serialize_with = "crate::plumbing::instant::serialize_opt")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// Revoking a token.
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct RevocationRequest {
    /// Why (kept on the `token.revoked` event), up to 500 characters.
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// The caller: its principal and the token it used.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeResponse {
    /// The principal.
    pub principal: PrincipalResponse,
    /// The token of this request.
    pub token: TokenResponse,
}

/// Writes the members of a JSON object onto `input` and returns those that could not be
/// taken.
fn apply_members(input: &mut PrincipalInput, body: &Map<String, Value>) -> Vec<Violation> {
    let mut errors = Vec::new();
    for (key, v) in body {
        let k = key.as_str();
        let result = match k {
            "name" => text(k, v).map(|x| input.name = x),
            "role" => text(k, v).map(|x| input.role = x),
            "enterprise_id" => text(k, v).map(|x| input.enterprise_id = x),
            "read_only" => boolean(k, v).map(|x| input.read_only = x),
            "review_organisation" => {
                organisation_member(k, v).map(|x| input.review_organisation = x)
            }
            "disabled" => boolean(k, v).map(|x| input.disabled = x),
            "area_codes" => match v {
                Value::Null => {
                    input.area_codes = None;
                    Ok(())
                }
                Value::Array(items) if items.iter().all(Value::is_string) => {
                    input.area_codes = Some(
                        items
                            .iter()
                            .filter_map(|i| i.as_str().map(str::to_owned))
                            .collect(),
                    );
                    Ok(())
                }
                _ => Err(Violation::field(
                    k,
                    V::InvalidType,
                    "area_codes 须为区域代码数组",
                )),
            },
            "id" | "version" | "created_at" | "updated_at" => Err(Violation::field(
                k,
                V::ReadOnly,
                format!("{k} 由系统维护，不能写入"),
            )),
            _ => Err(Violation::field(
                k,
                V::UnknownField,
                format!("{k} 不是账号的字段"),
            )),
        };
        if let Err(e) = result {
            errors.push(e);
        }
    }
    errors
}

fn build(
    mut input: PrincipalInput,
    body: &Map<String, Value>,
) -> Result<safegrade_domain::PrincipalData, ApiError> {
    let errors = apply_members(&mut input, body);
    ApiError::merge_validation(errors, input.validate())
}

fn with_principal(mut res: actix_web::HttpResponseBuilder, p: &Principal) -> HttpResponse {
    res.insert_header((header::ETAG, format!("\"{}\"", p.version)))
        .json(PrincipalResponse::from(p))
}

/// Create a principal (新建账号). City administrators only.
#[utoipa::path(
    tag = "access",
    operation_id = "create_principal",
    request_body(content = PrincipalCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = PrincipalResponse,
            headers(("Location" = String, description = "URL of the new principal"), ("ETag" = String, description = "Version, quoted"))),
    )
)]
#[post("/principals")]
pub async fn create_principal(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::ManageAccess)?;
    let data = build(PrincipalInput::default(), &body)?;
    let actor = caller.actor();
    crate::plumbing::write::post(&state, &caller, &req, key, &body, "principals", move |tx| {
        let p = safegrade_store::access::principals::insert(tx, &data, &actor)?;
        Ok(Answer::created(
            format!("/api/v1/principals/{}", p.id),
            &PrincipalResponse::from(&p),
        )?
        .versioned(p.version))
    })
    .await
}

/// Filters and paging of the principal list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PrincipalListQuery {
    /// Only principals of this role.
    #[param(value_type = Option<crate::plumbing::codes::Role>)]
    pub role: Option<Role>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const CURSOR_KIND: &str = "principal";

/// List principals in creation order. City administrators only.
#[utoipa::path(
    tag = "access",
    operation_id = "list_principals",
    params(PrincipalListQuery),
    responses(
        (status = 200, description = "One page", body = ListResponse<PrincipalResponse>),
    )
)]
#[get("/principals")]
pub async fn list_principals(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<PrincipalListQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::ManageAccess)?;
    let limit = list::limit(query.limit)?;
    let after = list::id_cursor(CURSOR_KIND, query.cursor.as_deref(), PrincipalId::parse)?;
    let role = query.role;
    let page = state
        .run(move |s| Ok(s.list_principals(role, after, i64::from(limit))?))
        .await?;
    let next_cursor = list::next_cursor(
        CURSOR_KIND,
        page.has_more,
        page.items.last().map(|p| p.id.to_string()),
    );
    let items = page.items.iter().map(PrincipalResponse::from).collect();
    Ok(ListResponse { items, next_cursor }.into_response())
}

/// Get one principal, with its version as `ETag`. City administrators only.
#[utoipa::path(
    tag = "access",
    operation_id = "get_principal",
    params(("id" = uuid::Uuid, Path, description = "Principal id")),
    responses(
        (status = 200, description = "The principal", body = PrincipalResponse, headers(("ETag" = String, description = "Version, quoted"))),
    )
)]
#[get("/principals/{id}")]
pub async fn get_principal(
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<PrincipalId>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::ManageAccess)?;
    let p = state
        .run(move |s| Ok(s.get_principal(id)?))
        .await
        .map_err(not_found_as("principal", raw))?;
    Ok(with_principal(HttpResponse::Ok(), &p))
}

/// Change a principal with a JSON Merge Patch (role, areas, enterprise, name, disabled).
/// City administrators only; `If-Match` as for enterprises. The last enabled `city_admin`
/// cannot be disabled or demoted (409).
#[utoipa::path(
    tag = "access",
    operation_id = "update_principal",
    params(
        ("id" = uuid::Uuid, Path, description = "Principal id"),
    ),
    request_body(content = PrincipalPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed principal", body = PrincipalResponse, headers(("ETag" = String, description = "New version, quoted"))),
    )
)]
#[patch("/principals/{id}")]
pub async fn update_principal(
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<PrincipalId>,
    IfMatch(expected): IfMatch,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::ManageAccess)?;
    let body = body.into_inner();
    let p = state
        .store
        .update_principal(id, caller.actor(), expected, move |current: &Principal| {
            build(PrincipalInput::from(&current.data), &body)
        })
        .await
        .map_err(not_found_as("principal", raw))?;
    state.auth.forget_principal(p.id);
    Ok(with_principal(HttpResponse::Ok(), &p))
}

/// Issue a token for a principal (签发令牌). The answer is the only time the token is shown.
/// City administrators only.
#[utoipa::path(
    tag = "access",
    operation_id = "create_token",
    params(("id" = uuid::Uuid, Path, description = "Principal id")),
    request_body(content = TokenCreate, content_type = "application/json", description = "`{}` for a token that never expires"),
    responses(
        (status = 201, description = "Issued", body = TokenIssued),
    )
)]
#[post("/principals/{id}/tokens")]
pub async fn create_token(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<PrincipalId>,
    key: IdempotencyKey,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::ManageAccess)?;
    let mut raw_expiry = None;
    let mut errors = crate::plumbing::members::texts(
        &body,
        &mut [("expires_at", &mut raw_expiry)],
        "a token request",
    );
    let expires_at = match raw_expiry.as_deref().map(DateTime::parse_from_rfc3339) {
        None => None,
        Some(Ok(at)) => Some(at.with_timezone(&Utc)),
        Some(Err(e)) => {
            errors.push(Violation::field(
                "expires_at",
                V::InvalidValue,
                format!("expires_at 须为带时区的 RFC 3339 时间（如 2027-12-31T16:00:00Z）：{e}"),
            ));
            None
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    check_expiry(expires_at, Utc::now()).map_err(|v| ApiError::invalid(vec![v]))?;
    let actor = caller.actor();
    crate::plumbing::write::post(
        &state,
        &caller,
        &req,
        key,
        &body,
        &id.to_string(),
        move |tx| {
            let issued = safegrade_store::access::tokens::issue(tx, id, expires_at, &actor)
                .map_err(ApiError::from)
                .map_err(not_found_as("principal", raw))?;
            Answer::created(
                format!("/api/v1/principals/{id}/tokens"),
                &TokenIssued {
                    id: issued.info.id.to_string(),
                    token: issued.secret,
                    expires_at: issued.info.expires_at,
                },
            )
        },
    )
    .await
}

/// List a principal's tokens, oldest first; never the tokens themselves. City
/// administrators only.
#[utoipa::path(
    tag = "access",
    operation_id = "list_tokens",
    params(("id" = uuid::Uuid, Path, description = "Principal id")),
    responses(
        (status = 200, description = "Every token of the principal, in one page (`next_cursor` null)", body = ListResponse<TokenResponse>),
    )
)]
#[get("/principals/{id}/tokens")]
pub async fn list_tokens(
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<PrincipalId>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::ManageAccess)?;
    let tokens = state
        .run(move |s| Ok(s.list_tokens(id)?))
        .await
        .map_err(not_found_as("principal", raw))?;
    Ok(ListResponse::whole(tokens.iter().map(TokenResponse::from).collect()).into_response())
}

/// Revoke a token (吊销令牌): it stops working at once on this node and within 5 seconds on
/// every node. City administrators only.
#[utoipa::path(
    tag = "access",
    operation_id = "revoke_token",
    params(("id" = uuid::Uuid, Path, description = "Token id")),
    request_body(content = RevocationRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The revoked token", body = TokenResponse),
    )
)]
#[post("/tokens/{id}/revocation")]
pub async fn revoke_token(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<TokenId>,
    key: IdempotencyKey,
    IfMatch(expected): IfMatch,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::ManageAccess)?;
    let reason = crate::plumbing::members::reason_only(&body, "吊销请求")?;
    let actor = caller.actor();
    let answer = crate::plumbing::write::post(
        &state,
        &caller,
        &req,
        key,
        &body,
        &id.to_string(),
        move |tx| {
            let t = safegrade_store::access::tokens::revoke(tx, id, &actor, expected, reason)
                .map_err(ApiError::from)
                .map_err(not_found_as("token", raw))?;
            Ok(Answer::ok(&TokenResponse::from(&t))?.versioned(t.version()))
        },
    )
    .await?;
    state.auth.forget_token(id);
    Ok(answer)
}

/// Who am I: the caller's principal and token. Any valid token.
#[utoipa::path(
    tag = "access",
    operation_id = "get_me",
    responses((status = 200, description = "The caller", body = MeResponse))
)]
#[get("/me")]
pub async fn get_me(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(MeResponse {
        principal: PrincipalResponse::from(caller.principal.as_ref()),
        token: TokenResponse::from(caller.token.as_ref()),
    })
}
