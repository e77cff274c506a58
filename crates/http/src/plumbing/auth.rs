//! Authentication (`Authorization: Bearer sg_…`) and the caller's rights
//! (docs/API-DESIGN.md, Authentication and jurisdiction).
//!
//! A middleware authenticates every request under `/api/v1` before any handler runs, so a
//! route cannot forget it; handlers take the [`Caller`] and ask it [`Caller::require`] for
//! the kind of operation (403) and its scope for the records (404 outside it).
//!
//! Token checks are cached per process for [`DEFAULT_CACHE_TTL`]: a request costs a hash
//! and a map lookup, not a database round trip. Revoking a token, or disabling or changing
//! a principal, takes effect at once on the node that did it and within the cache lifetime
//! on every other node. `last_used_at` is written once per cache refresh, off the request
//! path, so it is accurate to within that lifetime.

use std::sync::Arc;
use std::time::Duration;

use actix_web::body::BoxBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::Utc;
use safegrade_domain::{
    Action, Actor, CodeList, Principal, PrincipalId, Scope, TokenId, token_live,
};
use safegrade_store::Store;
use safegrade_store::access::tokens::{TokenInfo, hash_secret, looks_like_token};
use safegrade_store::events::EventVisibility;

use crate::plumbing::app::{AppState, RequestId};
use crate::plumbing::error::{ApiError, ErrorCode};

/// How long a token check is reused before the database is asked again; the bound on how
/// late a revocation elsewhere takes effect.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(5);

/// Most cached token checks per process (least recently used ones go first).
const MAX_CACHED: u64 = 10_000;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Its principal, as of the last cache refresh.
    pub principal: Arc<Principal>,
    /// The token it used.
    pub token: Arc<TokenInfo>,
    /// The request id, carried into events.
    pub request_id: Option<String>,
}

impl Caller {
    /// The records the caller may see.
    pub fn scope(&self) -> Scope {
        self.principal.data.scope()
    }

    /// 403 unless the caller's role may perform `action`.
    pub fn require(&self, action: Action) -> Result<(), ApiError> {
        if self.principal.data.may(action) {
            Ok(())
        } else {
            Err(self.forbidden(&format!("无权{}", action.label_zh())))
        }
    }

    /// The 403 for what the caller's role may not do (`what` starts with its verb, "无权…",
    /// "不能…"), naming the role: "只读的 integration 账号不能做评审".
    pub fn forbidden(&self, what: &str) -> ApiError {
        let d = &self.principal.data;
        ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "{}{} 账号{what}",
                if d.read_only { "只读的 " } else { "" },
                d.role
            ),
        )
    }

    /// 403 unless a record may be placed in `area_code` (creating or moving an enterprise).
    pub fn require_area(&self, area_code: &str) -> Result<(), ApiError> {
        if self.scope().covers_area(area_code) {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("区域 {area_code} 不在你的管辖范围内"),
            ))
        }
    }

    /// Who to name in events.
    pub fn actor(&self) -> Actor {
        Actor {
            principal_id: Some(self.principal.id),
            role: Some(self.principal.data.role),
            request_id: self.request_id.clone(),
        }
    }

    /// The principal whose own records (imports, webhook subscriptions) a list is limited
    /// to: the caller's, or `None` for a city administrator, who sees everyone's.
    pub fn owner_filter(&self) -> Option<String> {
        (!self.principal.data.may(Action::ManageAccess)).then(|| self.principal.id.to_string())
    }

    /// Whether the caller may see a record owned by principal `owner`: its own, or any for
    /// a city administrator.
    pub fn sees_owned_by(&self, owner: Option<&str>) -> bool {
        self.owner_filter()
            .is_none_or(|me| owner == Some(me.as_str()))
    }

    /// Which events the caller may read.
    pub fn event_visibility(&self) -> EventVisibility {
        EventVisibility::of(&self.scope(), self.principal.data.may(Action::ManageAccess))
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(req.extensions().get::<Self>().cloned().ok_or_else(|| {
            ApiError::internal("a handler asked for the caller of an unauthenticated route")
        }))
    }
}

type Found = Option<(Arc<TokenInfo>, Arc<Principal>)>;

/// Token checks with a bounded, short-lived cache (moka: time to live, capacity, and
/// eviction of one token's or one principal's entries without clearing the rest).
pub struct Authenticator {
    ttl: Duration,
    cache: moka::sync::Cache<String, Found>,
    /// Token checks the cache answered (for `/metrics`).
    pub cache_hits: std::sync::atomic::AtomicU64,
    /// Token checks that asked the database.
    pub cache_misses: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

fn unauthenticated(detail: impl Into<String>, invalid: bool) -> ApiError {
    ApiError::new(ErrorCode::Unauthenticated, detail).with_header(
        header::WWW_AUTHENTICATE,
        if invalid {
            "Bearer realm=\"safegrade\", error=\"invalid_token\""
        } else {
            "Bearer realm=\"safegrade\""
        },
    )
}

impl Authenticator {
    /// An authenticator whose checks are reused for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            cache: moka::sync::Cache::builder()
                .max_capacity(MAX_CACHED)
                .time_to_live(ttl.max(Duration::from_millis(1)))
                .support_invalidation_closures()
                .build(),
            cache_hits: std::sync::atomic::AtomicU64::new(0),
            cache_misses: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The cache lifetime.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn cached(&self, hash: &str) -> Option<Found> {
        if self.ttl.is_zero() {
            return None;
        }
        self.cache.get(hash)
    }

    fn remember(&self, hash: String, found: Found) {
        if !self.ttl.is_zero() {
            self.cache.insert(hash, found);
        }
    }

    fn forget_where(
        &self,
        matches: impl Fn(&TokenInfo, &Principal) -> bool + Send + Sync + 'static,
    ) {
        // Invalidation closures only fail when not enabled, which the builder does.
        let _ = self.cache.invalidate_entries_if(move |_, found| {
            found.as_ref().is_some_and(|(t, p)| matches(t, p))
        });
    }

    /// Forgets cached checks of this token (after revoking it on this node).
    pub fn forget_token(&self, id: TokenId) {
        self.forget_where(move |t, _| t.id == id);
    }

    /// Forgets cached checks of this principal's tokens (after changing it on this node).
    pub fn forget_principal(&self, id: PrincipalId) {
        self.forget_where(move |_, p| p.id == id);
    }

    /// Checks a bearer token: known, not revoked, not expired, principal enabled.
    pub async fn check(
        &self,
        store: &Store,
        token: &str,
    ) -> Result<(Arc<TokenInfo>, Arc<Principal>), ApiError> {
        if !looks_like_token(token) {
            return Err(unauthenticated(
                "this is not a SafeGrade token (sg_ followed by 43 characters)",
                true,
            ));
        }
        let hash = hash_secret(token);
        let found = match self.cached(&hash) {
            Some(found) => {
                self.cache_hits
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                found
            }
            None => {
                self.cache_misses
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let s = store.clone();
                let h = hash.clone();
                let span = tracing::Span::current();
                let found = web::block(move || span.in_scope(|| s.find_token(&h)))
                    .await
                    .map_err(ApiError::internal)??
                    .map(|(t, p)| (Arc::new(t), Arc::new(p)));
                if let Some((t, _)) = &found {
                    store.touch_token(t.id, Utc::now());
                }
                self.remember(hash, found.clone());
                found
            }
        };
        let Some((token, principal)) = found else {
            return Err(unauthenticated("unknown token", true));
        };
        if let Some(at) = token.revoked_at {
            return Err(unauthenticated(
                format!("this token was revoked at {}", at.to_rfc3339()),
                true,
            ));
        }
        if !token_live(token.expires_at, Utc::now()) {
            let at = token.expires_at.map(|a| a.to_rfc3339()).unwrap_or_default();
            return Err(unauthenticated(format!("this token expired at {at}"), true));
        }
        if principal.data.disabled {
            return Err(unauthenticated(
                "the principal of this token is disabled",
                true,
            ));
        }
        Ok((token, principal))
    }
}

/// Whether a path is public (no token, rate-limited per client address): the register of
/// grades and certificate verification.
pub fn is_public(path: &str) -> bool {
    path == "/api/v1/register" || path.starts_with("/api/v1/register/")
}

/// Whether a path needs a token: everything under `/api/v1` except the public register.
pub fn is_protected(path: &str) -> bool {
    (path == "/api/v1" || path.starts_with("/api/v1/")) && !is_public(path)
}

/// The bearer token of a request, or the 401 that explains what is missing.
fn bearer(req: &ServiceRequest) -> Result<String, ApiError> {
    bearer_token(req.headers())
}

/// Whether two secrets are equal, compared in constant time (their SHA-256).
pub fn same_secret(a: &str, b: &str) -> bool {
    hash_secret(a)
        .as_bytes()
        .iter()
        .zip(hash_secret(b).as_bytes())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// The bearer token of `headers`, or the 401 that explains what is missing.
pub fn bearer_token(headers: &actix_web::http::header::HeaderMap) -> Result<String, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(unauthenticated(
            "this route needs a token: send Authorization: Bearer <token>",
            false,
        ));
    };
    let text = value.to_str().unwrap_or_default().trim();
    match text.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            Ok(token.trim().to_owned())
        }
        _ => Err(unauthenticated(
            "the Authorization header must be: Bearer <token>",
            false,
        )),
    }
}

/// Middleware: authenticates requests to `/api/v1` and puts the [`Caller`] in the request.
pub async fn authenticate(
    req: ServiceRequest,
    next: actix_web::middleware::Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Err(ApiError::internal("no application state").into());
    };
    if is_public(req.path()) {
        let addr = req.peer_addr().map(|a| a.ip());
        let limit = state.public_limit.per_minute().to_string();
        let mut res = match state.public_limit.check(addr) {
            Err(retry) => {
                let e = ApiError::new(
                    ErrorCode::RateLimited,
                    format!(
                        "too many requests to the public register from this address; retry in {retry} s"
                    ),
                )
                .with_header(header::RETRY_AFTER, retry.to_string())
                .with_header(header::HeaderName::from_static("ratelimit-remaining"), "0")
                .with_header(header::HeaderName::from_static("ratelimit-reset"), retry.to_string());
                let (req, _) = req.into_parts();
                ServiceResponse::new(req, actix_web::ResponseError::error_response(&e))
            }
            Ok(remaining) => {
                let mut res = next.call(req).await?;
                if let Ok(v) = header::HeaderValue::from_str(&remaining.to_string()) {
                    res.headers_mut()
                        .insert(header::HeaderName::from_static("ratelimit-remaining"), v);
                }
                res
            }
        };
        // The register is public: a bank's or a citizen's web page may verify a certificate
        // from the browser, and read the limit headers.
        let headers = res.headers_mut();
        if let Ok(v) = header::HeaderValue::from_str(&limit) {
            headers.insert(header::HeaderName::from_static("ratelimit-limit"), v);
        }
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            header::HeaderValue::from_static("*"),
        );
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            header::HeaderValue::from_static(
                "RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, X-Request-Id",
            ),
        );
        return Ok(res);
    }
    if !is_protected(req.path()) {
        return next.call(req).await;
    }
    let checked = match bearer(&req) {
        Ok(token) => state.auth.check(&state.store, &token).await,
        Err(e) => Err(e),
    };
    match checked {
        Ok((token, principal)) => {
            let request_id = req.extensions().get::<RequestId>().map(|r| r.0.to_string());
            req.extensions_mut().insert(Caller {
                principal,
                token,
                request_id,
            });
            next.call(req).await
        }
        Err(e) => {
            let (req, _) = req.into_parts();
            Ok(ServiceResponse::new(
                req,
                actix_web::ResponseError::error_response(&e),
            ))
        }
    }
}
