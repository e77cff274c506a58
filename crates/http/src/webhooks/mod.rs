//! Webhooks (事件推送): subscriptions to the event log, signed deliveries, their attempts,
//! and manual redelivery. City administrators and integration principals subscribe; a
//! subscription is sent only the events its principal may read in the feed.

pub mod deliver;
pub mod signature;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use safegrade_domain::jobs::WebhookStatus;
use safegrade_domain::{
    CodeList, DeliveryId, EventType, Role, Violation, ViolationCode as V, WebhookId,
};
use safegrade_store::StoreError;
use safegrade_store::webhooks::{Delivery, Webhook, WebhookData};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::plumbing::app::AppState;
use crate::plumbing::auth::Caller;
use crate::plumbing::error::{ApiError, ErrorCode, not_found_as};
use crate::plumbing::extract::{IdempotencyKey, IfMatch, JsonObject, PathId};
use crate::plumbing::list::{self, ListResponse};
use crate::plumbing::members::Reader;
use crate::plumbing::write::Answer;

/// Longest URL.
const URL_MAX: usize = 2000;
/// Longest description.
const DESCRIPTION_MAX: usize = 200;

/// A subscription (事件推送订阅). The secret is shown once, when it is made.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookResponse {
    /// Id.
    pub id: String,
    /// Where events are sent.
    pub url: String,
    /// The event types sent; empty: every type the principal may read.
    #[schema(value_type = Vec<crate::plumbing::codes::EventType>)]
    pub event_types: Vec<String>,
    /// A note.
    pub description: Option<String>,
    /// Whether events are sent.
    pub enabled: bool,
    /// `active`, or `failing` after a day of failed deliveries (enable it again to resume).
    #[schema(value_type = crate::plumbing::codes::WebhookStatus)]
    pub status: WebhookStatus,
    /// Every event up to this `seq` that concerns the subscription has been delivered
    /// (events of other types are passed over), in every supervision area. Deliveries are
    /// ordered per area, so in an area some events after it may have been delivered too.
    pub caught_up_to_seq: i64,
    /// Since when the current event's deliveries fail.
    pub failing_since: Option<DateTime<Utc>>,
    /// The principal whose jurisdiction decides what is sent.
    pub principal_id: String,
    /// The signing secret (`whsec_…`): only in the answer that made the subscription.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Version, also the `ETag`.
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl WebhookResponse {
    fn of(w: Webhook, show_secret: bool) -> Self {
        Self {
            id: w.id.to_string(),
            url: w.data.url,
            event_types: w
                .data
                .event_types
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            description: w.data.description,
            enabled: w.data.enabled,
            status: w.status,
            caught_up_to_seq: w.cursor.floor(),
            failing_since: w.failing_since,
            principal_id: w.principal_id,
            secret: show_secret.then_some(w.secret),
            version: w.version,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// A new subscription.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookCreate {
    /// Where to send (`https://…`; `http://…` inside the government network), up to 2,000
    /// characters.
    pub url: String,
    /// Only these event types (default: all).
    #[schema(value_type = Option<Vec<crate::plumbing::codes::EventType>>)]
    pub event_types: Option<Vec<String>>,
    /// A note, up to 200 characters.
    pub description: Option<String>,
    /// Default true.
    pub enabled: Option<bool>,
}

/// A JSON Merge Patch of a subscription: the members of [`WebhookCreate`]; `enabled: true`
/// on a failing subscription resumes delivery from where it stopped.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    /// See [`WebhookCreate::url`].
    pub url: Option<String>,
    /// See [`WebhookCreate::event_types`].
    #[schema(value_type = Option<Vec<crate::plumbing::codes::EventType>>)]
    pub event_types: Option<Vec<String>>,
    /// See [`WebhookCreate::description`].
    pub description: Option<String>,
    /// See [`WebhookCreate::enabled`].
    pub enabled: Option<bool>,
}

/// Reads a subscription's members (a new one, or the current one with a patch merged).
fn data_of(body: &Map<String, Value>) -> Result<WebhookData, ApiError> {
    let mut r = Reader::new(body);
    let url = r.required_text("url", URL_MAX, "推送地址");
    let mut types = Vec::new();
    if let Some(items) = r.array("event_types") {
        for (i, item) in items.iter().enumerate() {
            match item.as_str().and_then(EventType::from_code) {
                Some(t) if !types.contains(&t) => types.push(t),
                Some(_) => {}
                None => r.errors.push(Violation {
                    pointer: format!("/event_types/{i}"),
                    code: V::InvalidValue,
                    message: format!(
                        "{item} 不是事件类型；可选：{}",
                        EventType::codes().join(", ")
                    ),
                }),
            }
        }
    }
    let description = r.text("description", DESCRIPTION_MAX);
    let enabled = r.flag("enabled").unwrap_or(true);
    let mut errors = r.finish("事件推送订阅");
    if let Some(u) = &url {
        match url::Url::parse(u) {
            Ok(parsed)
                if matches!(parsed.scheme(), "http" | "https")
                    && parsed.host().is_some()
                    && parsed.username().is_empty()
                    && parsed.password().is_none() => {}
            _ => errors.push(Violation::field(
                "url",
                V::InvalidValue,
                "url 须为 http:// 或 https:// 地址（不含用户名和密码）",
            )),
        }
    }
    match url {
        Some(url) if errors.is_empty() => Ok(WebhookData {
            url,
            event_types: types,
            description,
            enabled,
        }),
        _ => Err(ApiError::invalid(errors)),
    }
}

/// 403 unless the caller may subscribe: a city administrator or an integration.
fn require_subscriber(caller: &Caller) -> Result<(), ApiError> {
    match caller.principal.data.role {
        Role::CityAdmin | Role::Integration => Ok(()),
        _ => Err(caller.forbidden("不能订阅事件推送（仅市局管理员和对接系统）")),
    }
}

/// The subscription if the caller may see it: its own, or any for a city administrator.
fn visible(caller: &Caller, w: Webhook) -> Result<Webhook, StoreError> {
    if caller.sees_owned_by(Some(&w.principal_id)) {
        Ok(w)
    } else {
        Err(StoreError::NotFound)
    }
}

fn with_webhook(w: Webhook) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", w.version)))
        .json(WebhookResponse::of(w, false))
}

/// Subscribe to events (订阅事件推送). The answer is the only time the secret is shown.
///
/// Deliveries start with the next event. Each is a `POST` of the event as the feed shows it,
/// signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
#[utoipa::path(
    tag = "webhooks",
    operation_id = "create_webhook",
    request_body(content = WebhookCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Subscribed; the secret is in this answer only", body = WebhookResponse,
            headers(("Location" = String, description = "URL of the subscription"), ("ETag" = String, description = "Version, quoted"))),
    )
)]
#[post("/webhooks")]
pub async fn create_webhook(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    require_subscriber(&caller)?;
    let body = body.into_inner();
    let data = data_of(&body)?;
    let secret = signature::new_secret().map_err(|e| ApiError::internal(e.to_string()))?;
    let (principal, actor) = (caller.principal.id, caller.actor());
    let wake = state.worker.clone();
    let answer =
        crate::plumbing::write::post(&state, &caller, &req, key, &body, "webhooks", move |tx| {
            let w = safegrade_store::webhooks::create(tx, (principal, &actor), &data, &secret)?;
            let version = w.version;
            let location = format!("/api/v1/webhooks/{}", w.id);
            Ok(Answer::created(location, &WebhookResponse::of(w, true))?.versioned(version))
        })
        .await?;
    wake.nudge();
    Ok(answer)
}

/// The caller's subscriptions, oldest first (a city administrator sees all).
#[utoipa::path(
    tag = "webhooks",
    operation_id = "list_webhooks",
    params(list::PageParams),
    responses(
        (status = 200, description = "A page of subscriptions", body = ListResponse<WebhookResponse>),
    )
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<list::PageParams>,
) -> Result<HttpResponse, ApiError> {
    require_subscriber(&caller)?;
    let q = query.into_inner();
    let (limit, after) = list::paging(q.limit, q.cursor.as_deref(), "webhooks")?;
    let principal = caller.owner_filter();
    let hooks = state
        .run(move |s| {
            Ok(s.list_webhooks(principal.as_deref(), after.as_deref(), i64::from(limit) + 1)?)
        })
        .await?;
    let items = hooks
        .into_iter()
        .map(|w| WebhookResponse::of(w, false))
        .collect();
    Ok(HttpResponse::Ok().json(list::page(items, limit, "webhooks", |w| w.id.clone())))
}

/// One subscription.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "get_webhook",
    params(("id" = uuid::Uuid, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "The subscription", body = WebhookResponse, headers(("ETag" = String, description = "Version, quoted"))),
    )
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<WebhookId>,
) -> Result<HttpResponse, ApiError> {
    require_subscriber(&caller)?;
    let c = caller.clone();
    let w = state
        .run(move |s| Ok(visible(&c, s.get_webhook(id)?)?))
        .await
        .map_err(not_found_as("webhook", raw))?;
    Ok(with_webhook(w))
}

/// Change a subscription with a JSON Merge Patch; `enabled: true` resumes a failing one
/// from where it stopped. `If-Match` as for enterprises.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "update_webhook",
    params(("id" = uuid::Uuid, Path, description = "Subscription id")),
    request_body(content = WebhookPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed subscription", body = WebhookResponse, headers(("ETag" = String, description = "New version, quoted"))),
    )
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<WebhookId>,
    IfMatch(expected): IfMatch,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    require_subscriber(&caller)?;
    let patch = body.into_inner();
    let (c, actor) = (caller.clone(), caller.actor());
    let w = state
        .store
        .write_keyed(&id.to_string(), move |tx| {
            let current = visible(&c, safegrade_store::webhooks::find(tx, id)?)?;
            let mut merged = Map::new();
            merged.insert("url".into(), current.data.url.clone().into());
            merged.insert(
                "event_types".into(),
                current
                    .data
                    .event_types
                    .iter()
                    .map(|t| t.as_str())
                    .collect(),
            );
            if let Some(d) = &current.data.description {
                merged.insert("description".into(), d.clone().into());
            }
            merged.insert("enabled".into(), current.data.enabled.into());
            for (k, v) in patch {
                if v.is_null() {
                    merged.remove(&k);
                } else {
                    merged.insert(k, v);
                }
            }
            let data = data_of(&merged)?;
            Ok::<_, ApiError>(safegrade_store::webhooks::update(
                tx,
                current,
                data,
                (&actor, expected),
            )?)
        })
        .await
        .map_err(not_found_as("webhook", raw))?;
    state.worker.nudge();
    Ok(with_webhook(w))
}

/// A delivery attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryResponse {
    /// Id.
    pub id: String,
    /// The event sent (its `seq` in the feed).
    pub event_seq: i64,
    /// The `webhook-id` it was sent with (the same on every attempt of the event).
    pub message_id: String,
    /// Attempt number for this event.
    pub attempt: i32,
    /// A manual redelivery.
    pub manual: bool,
    /// When.
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status; null when it could not be reached.
    pub status_code: Option<i32>,
    /// Milliseconds to the answer.
    pub latency_ms: i64,
    /// Whether the receiver took it (2xx).
    pub succeeded: bool,
    /// Why not, in Chinese.
    pub error: Option<String>,
}

impl From<Delivery> for DeliveryResponse {
    fn from(d: Delivery) -> Self {
        Self {
            message_id: deliver::message_id(d.event_seq),
            id: d.id,
            event_seq: d.event_seq,
            attempt: d.attempt,
            manual: d.manual,
            attempted_at: d.attempted_at,
            status_code: d.status_code,
            latency_ms: d.latency_ms,
            succeeded: d.succeeded,
            error: d.error,
        }
    }
}

/// The attempts of a subscription, newest first.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "list_deliveries",
    params(("id" = uuid::Uuid, Path, description = "Subscription id"), list::PageParams),
    responses(
        (status = 200, description = "A page of attempts", body = ListResponse<DeliveryResponse>),
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<WebhookId>,
    query: web::Query<list::PageParams>,
) -> Result<HttpResponse, ApiError> {
    require_subscriber(&caller)?;
    let q = query.into_inner();
    let (limit, before) = list::paging(q.limit, q.cursor.as_deref(), "deliveries")?;
    let c = caller.clone();
    let items = state
        .run(move |s| {
            visible(&c, s.get_webhook(id)?)?;
            Ok(s.list_deliveries(id, before.as_deref(), i64::from(limit) + 1)?)
        })
        .await
        .map_err(not_found_as("webhook", raw))?;
    let items = items.into_iter().map(DeliveryResponse::from).collect();
    Ok(HttpResponse::Ok().json(list::page(items, limit, "deliveries", |d| d.id.clone())))
}

/// Path of one attempt.
#[derive(Debug, Deserialize)]
pub struct DeliveryPath {
    id: String,
    delivery_id: String,
}

/// Why an event is sent again (optional; `{}` or no body will do).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeliveryRequest {
    /// Why, up to 500 characters (kept with the job).
    pub reason: Option<String>,
}

/// A queued redelivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct RedeliveryResponse {
    /// The subscription.
    pub webhook_id: String,
    /// The event to be sent again.
    pub event_seq: i64,
    /// The background job sending it.
    pub job_id: String,
}

/// Send an attempt's event once more (手动重新推送), now, outside the subscription's order
/// and without moving it: answered 202; the new attempt appears in the deliveries.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "redeliver",
    params(
        ("id" = uuid::Uuid, Path, description = "Subscription id"),
        ("delivery_id" = uuid::Uuid, Path, description = "Attempt id"),
    ),
    request_body(content = RedeliveryRequest, content_type = "application/json", description = "`{}` or a reason"),
    responses(
        (status = 202, description = "Queued", body = RedeliveryResponse),
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/redelivery")]
pub async fn redeliver(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<DeliveryPath>,
    key: IdempotencyKey,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    require_subscriber(&caller)?;
    let p = path.into_inner();
    let bad = |what: &str, raw: &str| {
        ApiError::new(
            ErrorCode::InvalidPath,
            format!("'{raw}' is not {what} id (a UUID)"),
        )
    };
    let id = WebhookId::parse(&p.id).ok_or_else(|| bad("a webhook", &p.id))?;
    let delivery =
        DeliveryId::parse(&p.delivery_id).ok_or_else(|| bad("a delivery", &p.delivery_id))?;
    let body = body.into_inner();
    let mut r = Reader::new(&body);
    let reason = r.text("reason", 500);
    let errors = r.finish("重新推送请求");
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let (c, principal) = (caller.clone(), caller.principal.id);
    let raw = p.delivery_id.clone();
    let answer =
        crate::plumbing::write::post(&state, &caller, &req, key, &body, &p.id, move |tx| {
            let found = visible(&c, safegrade_store::webhooks::find(tx, id)?)
                .and_then(|_| safegrade_store::webhooks::find_delivery(tx, id, delivery));
            let d = found
                .map_err(ApiError::from)
                .map_err(not_found_as("delivery", raw))?;
            let job = safegrade_store::webhooks::queue_redelivery(tx, id, &d, (principal, reason))?;
            Answer::new(
                StatusCode::ACCEPTED,
                &RedeliveryResponse {
                    webhook_id: id.to_string(),
                    event_seq: d.event_seq,
                    job_id: job.id,
                },
            )
        })
        .await?;
    state.worker.nudge();
    Ok(answer)
}

/// Registers the webhook operations.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(create_webhook)
        .service(list_webhooks)
        .service(get_webhook)
        .service(update_webhook)
        .service(list_deliveries)
        .service(redeliver);
}
