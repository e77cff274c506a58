//! The actix-web application: state, extractor configuration, middleware, routes and the
//! fallback for unknown routes and methods.

use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{App, HttpMessage, HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use safegrade_domain::SectorMapping;
use safegrade_domain::grading::GradeRules;
use safegrade_store::Store;
use tracing_actix_web::{RootSpanBuilder, TracingLogger};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::plumbing::auth::{Authenticator, DEFAULT_CACHE_TTL};
use crate::plumbing::error::{ApiError, ErrorCode, ProblemMarker};
use crate::plumbing::openapi::{self, RouteTable};
use crate::plumbing::ratelimit::RateLimiter;

/// Largest accepted request body, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Shared state of the application, one per process.
#[derive(Clone)]
pub struct AppState {
    /// Database access.
    pub store: Store,
    /// The industry-to-sector mapping in force.
    pub mapping: &'static SectorMapping,
    /// Token checks and their cache.
    pub auth: Arc<Authenticator>,
    /// The rules of grades over time.
    pub grade_rules: &'static GradeRules,
    /// Months before expiry from which a certificate counts as expiring (default: the
    /// renewal window of the rules).
    pub expiring_window_months: u32,
    /// A pinned "today" (`SAFEGRADE_TODAY`, for tests and demos); `None`: the current date
    /// in China.
    pub pinned_today: Option<NaiveDate>,
    /// The per-address limit of the public register.
    pub public_limit: Arc<RateLimiter>,
    /// The docs site served at `/book/` (published by the server once built).
    pub site: Arc<crate::plumbing::site::Site>,
    /// The server's public address (`https://safegrade.example.gov.cn`), when configured:
    /// problem `type` links are then absolute.
    pub public_url: Option<Arc<str>>,
    /// Wakes this node's background worker when a request queued work for it.
    pub worker: Arc<crate::plumbing::wake::Wake>,
    /// Request counters and latencies for `/metrics`.
    pub metrics: Arc<crate::plumbing::metrics::Metrics>,
    /// A token that may read `/metrics` besides a city administrator's (setting
    /// `metrics_token`).
    pub metrics_token: Option<Arc<str>>,
    /// The threads of reads that build a large answer in memory ([`AppState::run_heavy`]).
    pub heavy: Arc<crate::plumbing::lane::Lane>,
}

impl AppState {
    /// State over `store` with the built-in sector mapping.
    pub fn new(store: Store) -> Self {
        Self::with_auth_cache(store, DEFAULT_CACHE_TTL)
    }

    /// State whose token checks are cached for `ttl` (the bound on how late a revocation on
    /// another node takes effect here).
    pub fn with_auth_cache(store: Store, ttl: std::time::Duration) -> Self {
        // The rules the store decides with: one rule set in force, never the built-in
        // one behind a configured one.
        let grade_rules = store.grade_rules();
        Self {
            store,
            mapping: SectorMapping::builtin(),
            auth: Arc::new(Authenticator::new(ttl)),
            grade_rules,
            expiring_window_months: grade_rules.renewal_window_months,
            pinned_today: None,
            public_limit: Arc::new(RateLimiter::new(
                crate::plumbing::ratelimit::DEFAULT_PER_MINUTE,
            )),
            site: Arc::default(),
            public_url: None,
            worker: Arc::default(),
            metrics: Arc::default(),
            metrics_token: None,
            heavy: Arc::default(),
        }
    }

    /// Today in China (UTC+8, no daylight saving), or the pinned date. Dates of grades,
    /// accidents and deadlines are Beijing dates.
    pub fn today(&self) -> NaiveDate {
        self.pinned_today.unwrap_or_else(china_today)
    }

    /// Runs a blocking store call on the blocking thread pool, inside the current span.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, ApiError> + Send + 'static,
    {
        let store = self.store.clone();
        let span = tracing::Span::current();
        web::block(move || span.in_scope(|| f(&store)))
            .await
            .map_err(ApiError::internal)?
    }

    /// [`AppState::run`] for a read that builds a large answer in memory before paging it
    /// (the alerts): on the node's two heavy-read threads (`crate::plumbing::lane`).
    pub async fn run_heavy<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, ApiError> + Send + 'static,
    {
        let store = self.store.clone();
        let span = tracing::Span::current();
        self.heavy.run(move || span.in_scope(|| f(&store))).await?
    }
}

/// Today's date in China (UTC+8; China has no daylight saving).
pub fn china_today() -> NaiveDate {
    let now = chrono::Utc::now();
    chrono::FixedOffset::east_opt(8 * 3600).map_or_else(
        || now.date_naive(),
        |beijing| now.with_timezone(&beijing).date_naive(),
    )
}

/// The request id of a request (`X-Request-Id`), accepted from the client or generated.
#[derive(Debug, Clone)]
pub struct RequestId(pub Arc<str>);

/// The `X-Request-Id` header.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn accept_request_id(value: Option<&HeaderValue>) -> Option<String> {
    let v = value?.to_str().ok()?;
    let ok = !v.is_empty()
        && v.len() <= 128
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    ok.then(|| v.to_owned())
}

/// Root span with the request id, taken from `X-Request-Id` when it is sane, else a new
/// UUIDv7.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> tracing::Span {
        let id = accept_request_id(request.headers().get(&X_REQUEST_ID))
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        request
            .extensions_mut()
            .insert(RequestId(id.clone().into()));
        request
            .extensions_mut()
            .insert(StartedAt(std::time::Instant::now()));
        tracing::info_span!(
            "request",
            method = %request.method(),
            path = %request.path(),
            request_id = %id,
        )
    }

    fn on_request_end<B: MessageBody>(
        span: tracing::Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        let status = match outcome {
            Ok(res) => res.status(),
            Err(e) => e.as_response_error().status_code(),
        };
        let request = outcome.as_ref().ok().map(ServiceResponse::request);
        let elapsed_ms = request
            .and_then(|r| r.extensions().get::<StartedAt>().map(|s| s.0))
            .map(|at| (at.elapsed().as_secs_f64() * 10_000.0).round() / 10.0);
        // The route template (`/api/v1/enterprises/{id}`), for counting by endpoint; the
        // span carries the method, the path and the request id.
        let route = request.and_then(|r| r.match_pattern());
        let route = route.as_deref().unwrap_or("-");
        if let (Some(r), Some(secs)) = (
            request,
            request.and_then(|r| r.extensions().get::<StartedAt>().map(|s| s.0.elapsed())),
        ) && let Some(state) = r.app_data::<web::Data<AppState>>()
        {
            state.metrics.observe(
                route,
                r.method().as_str(),
                status.as_u16(),
                secs.as_secs_f64(),
            );
        }
        // One line per request at INFO (measured: no cost to list throughput with the
        // non-blocking writer, docs/BENCHMARKS.md); a refused request is this one line, with
        // its status and no debug dump; a 5xx also logs its cause where it arises.
        let code = status.as_u16();
        span.in_scope(|| {
            if status.is_server_error() {
                tracing::warn!(status = code, route, elapsed_ms, "request failed");
            } else if status.is_client_error() {
                tracing::info!(status = code, route, elapsed_ms, "request refused");
            } else {
                tracing::info!(status = code, route, elapsed_ms, "request done");
            }
        });
    }
}

/// When a request arrived, for its log line.
#[derive(Debug, Clone, Copy)]
struct StartedAt(std::time::Instant);

/// Echoes `X-Request-Id` and completes problem bodies with `instance` and `request_id`.
async fn finish_response(
    req: ServiceRequest,
    next: actix_web::middleware::Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let id = req.extensions().get::<RequestId>().cloned();
    let mut res = next.call(req).await?;
    if let Some(RequestId(id)) = &id
        && let Ok(v) = HeaderValue::from_str(id)
    {
        res.headers_mut().insert(X_REQUEST_ID.clone(), v);
    }
    if res.response().extensions().get::<ProblemMarker>().is_none() {
        return Ok(res);
    }
    let (req, response) = res.into_parts();
    let (head, body) = response.into_parts();
    let bytes = actix_web::body::to_bytes(body).await.unwrap_or_default();
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut map)) => {
            map.insert("instance".into(), req.path().into());
            // Absolute `type` links when the server knows its public address.
            if let Some(base) = req
                .app_data::<web::Data<AppState>>()
                .and_then(|s| s.public_url.clone())
                && let Some(serde_json::Value::String(t)) = map.get_mut("type")
                && t.starts_with('/')
            {
                *t = format!("{}{t}", base.trim_end_matches('/'));
            }
            if let Some(RequestId(id)) = id {
                map.insert("request_id".into(), id.to_string().into());
            }
            serde_json::to_vec(&map).unwrap_or_else(|_| bytes.to_vec())
        }
        _ => bytes.to_vec(),
    };
    let response = head.set_body(BoxBody::new(body));
    Ok(ServiceResponse::new(req, response))
}

/// Percent-decodes `raw` into bytes (`%zz` that is not hex stays as it is).
fn percent_decode(raw: &str) -> Vec<u8> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push(u8::try_from(h * 16 + l).unwrap_or(0));
                i += 3;
            }
            (b, ..) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Refuses, before any routing, a path or query that no handler could read honestly: a
/// U+0000 anywhere (400 `invalid_path` / `invalid_query`; PostgreSQL cannot compare it, so
/// both backends refuse it here alike), or a query that is not UTF-8 once decoded.
fn check_target(req: &ServiceRequest) -> Result<(), ApiError> {
    if percent_decode(req.path()).contains(&0) {
        return Err(ApiError::new(
            ErrorCode::InvalidPath,
            "the path contains U+0000 (NUL)",
        ));
    }
    let query = percent_decode(&req.query_string().replace('+', " "));
    match std::str::from_utf8(&query) {
        Err(_) => Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "the query is not valid UTF-8 once percent-decoded",
        )),
        Ok(q) if q.contains('\0') => Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "the query contains U+0000 (NUL)",
        )),
        Ok(_) => Ok(()),
    }
}

async fn screen_request(
    req: ServiceRequest,
    next: actix_web::middleware::Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    match check_target(&req) {
        Ok(()) => next.call(req).await,
        Err(e) => Ok(req.error_response(e)),
    }
}

/// Answers `304 Not Modified` (no body) to a GET whose `If-None-Match` names the `ETag` the
/// answer carries (or is `*`), so clients re-reading a record they hold pay no transfer.
async fn not_modified(
    req: ServiceRequest,
    next: actix_web::middleware::Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let wanted = (req.method() == actix_web::http::Method::GET)
        .then(|| req.headers().get(header::IF_NONE_MATCH).cloned())
        .flatten();
    let res = next.call(req).await?;
    let Some(wanted) = wanted else {
        return Ok(res);
    };
    let matches = |etag: &HeaderValue| {
        wanted.to_str().is_ok_and(|w| {
            w.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == "*" || etag.to_str().is_ok_and(|e| e == t))
        })
    };
    match res.headers().get(header::ETAG).cloned() {
        Some(etag) if res.status() == actix_web::http::StatusCode::OK && matches(&etag) => {
            let (req, _) = res.into_parts();
            let response = HttpResponse::NotModified()
                .insert_header((header::ETAG, etag))
                .finish();
            Ok(ServiceResponse::new(req, response))
        }
        _ => Ok(res),
    }
}

/// Answers a request that matched no route: 405 with `Allow` when the path is an API path
/// with other methods, else 404.
async fn fallback(
    req: HttpRequest,
    routes: web::Data<RouteTable>,
) -> Result<HttpResponse, ApiError> {
    match routes.methods_for(req.path()) {
        Some(methods) => Err(ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!(
                "{} is not allowed on {}; allowed: {}",
                req.method(),
                req.path(),
                methods.join(", ")
            ),
        )
        .with_header(header::ALLOW, methods.join(", "))),
        None => Err(ApiError::new(
            ErrorCode::RouteNotFound,
            format!("no route {}; see /api/openapi.json", req.path()),
        )),
    }
}

fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_BODY_BYTES)
        .content_type_required(true)
        .content_type(|mime| {
            mime.type_() == actix_web::mime::APPLICATION
                && (mime.subtype() == actix_web::mime::JSON || mime.subtype().as_str() == "merge-patch+json")
        })
        .error_handler(|err, _req| {
            use actix_web::error::JsonPayloadError as E;
            let e = match &err {
                E::OverflowKnownLength { .. } | E::Overflow { .. } => ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    format!("the body is larger than {MAX_BODY_BYTES} bytes"),
                ),
                E::ContentType => ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "send the body as Content-Type: application/json (or application/merge-patch+json for PATCH)",
                ),
                E::Deserialize(e) if e.is_data() => {
                    ApiError::new(ErrorCode::MalformedJson, "the body must be a JSON object")
                }
                other => ApiError::new(ErrorCode::MalformedJson, format!("the body is not valid JSON: {other}")),
            };
            e.into()
        })
}

fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|err, _req| ApiError::new(ErrorCode::InvalidQuery, err.to_string()).into())
}

fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|err, _req| ApiError::new(ErrorCode::InvalidPath, err.to_string()).into())
}

/// The whole application over `state`, ready for `HttpServer` or `actix_web::test`.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, spec) = openapi::register(App::new().into_utoipa_app()).split_for_parts();
    let spec = openapi::finish(spec);
    let routes = RouteTable::from_spec(&spec);
    app.app_data(web::Data::new(state))
        .app_data(web::Data::new(routes))
        .app_data(json_config())
        .app_data(query_config())
        .app_data(path_config())
        .service(
            SwaggerUi::new("/api/docs/{_:.*}")
                .url("/api/openapi.json", spec)
                .config(
                    utoipa_swagger_ui::Config::default()
                        .validator_url("none")
                        .try_it_out_enabled(true),
                ),
        )
        .route(
            "/",
            web::get().to(crate::plumbing::site::redirect("/book/")),
        )
        .route(
            "/book",
            web::get().to(crate::plumbing::site::redirect("/book/")),
        )
        .route("/metrics", web::get().to(crate::plumbing::metrics::scrape))
        .route(
            "/api/docs",
            web::get().to(crate::plumbing::site::redirect("/api/docs/")),
        )
        .route(
            "/book/{path:.*}",
            web::get().to(crate::plumbing::site::page),
        )
        .default_service(web::to(fallback))
        .wrap(actix_web::middleware::from_fn(
            crate::plumbing::auth::authenticate,
        ))
        .wrap(actix_web::middleware::from_fn(screen_request))
        .wrap(actix_web::middleware::from_fn(not_modified))
        .wrap(actix_web::middleware::from_fn(finish_response))
        // gzip when the client asks (Accept-Encoding); lists of 200 records shrink ~10×.
        .wrap(actix_web::middleware::Compress::default())
        .wrap(TracingLogger::<RequestSpan>::new())
}

#[cfg(test)]
mod tests {
    use super::accept_request_id;
    use actix_web::http::header::HeaderValue;

    #[test]
    fn request_ids_are_sane_or_replaced() {
        let v = |s: &'static str| accept_request_id(Some(&HeaderValue::from_static(s)));
        assert_eq!(v("abc-123_x.y:z").as_deref(), Some("abc-123_x.y:z"));
        assert_eq!(v("has space"), None);
        assert_eq!(v(""), None);
        assert_eq!(
            accept_request_id(Some(&HeaderValue::from_static(Box::leak(
                "a".repeat(129).into_boxed_str()
            )))),
            None
        );
    }
}
