//! The event feed (事件流): the audit trail and the change feed in one
//! (docs/API-DESIGN.md, Events). Follow it with `cursor=<next_cursor>`; nothing is skipped
//! (`docs/adr/0004-event-feed-ordering.md`).

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use safegrade_domain::{EventType, ResourceType, Role};
use safegrade_store::events::{Event, EventData, EventFilter, FeedPosition};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::plumbing::app::AppState;
use crate::plumbing::auth::Caller;
use crate::plumbing::error::{ApiError, ErrorCode};

/// Who made a change.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventActor {
    /// The principal; null for the command line (`safegrade principal create`, first start).
    pub principal_id: Option<String>,
    /// Its role at the time; null for the command line.
    #[schema(value_type = Option<crate::plumbing::codes::Role>)]
    pub role: Option<Role>,
}

/// The record a change is about.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventResource {
    /// Kind of record.
    #[serde(rename = "type")]
    #[schema(value_type = crate::plumbing::codes::ResourceType)]
    pub resource_type: ResourceType,
    /// Its id.
    pub id: String,
}

/// One change (事件). Events are never changed or deleted.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventResponse {
    /// Position in the feed: increasing in commit order, with gaps.
    pub seq: i64,
    /// What happened (`type`) and its payload (`data`), one schema per type.
    #[serde(flatten)]
    pub payload: EventData,
    /// When (RFC 3339, UTC, microseconds).
    #[serde(serialize_with = "crate::plumbing::instant::serialize")]
    pub occurred_at: DateTime<Utc>,
    /// Who.
    pub actor: EventActor,
    /// The request that made the change (`X-Request-Id`); null for the command line.
    pub request_id: Option<String>,
    /// The record.
    pub resource: EventResource,
    /// Supervision area of the record (after the change); null for principals and tokens.
    pub area_code: Option<String>,
    /// The enterprise the record belongs to (the enterprise itself, or the holder of a
    /// certificate); null for principals and tokens.
    pub enterprise_id: Option<String>,
    /// Why, as the caller said (`reason` of a patch or revocation).
    pub reason: Option<String>,
}

impl From<Event> for EventResponse {
    fn from(e: Event) -> Self {
        Self {
            seq: e.seq,
            payload: e.data,
            occurred_at: e.occurred_at,
            actor: EventActor {
                principal_id: e.actor_principal_id,
                role: e.actor_role,
            },
            request_id: e.request_id,
            resource: EventResource {
                resource_type: e.resource_type,
                id: e.resource_id,
            },
            area_code: e.area_code,
            enterprise_id: e.enterprise_id,
            reason: e.reason,
        }
    }
}

/// A page of the feed: the list shape of every list, `{items, next_cursor}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    /// Events in `seq` order.
    pub items: Vec<EventResponse>,
    /// Pass as `cursor` to continue. A feed never ends, so this is never null; after an
    /// empty page, ask again later with it. Opaque: it holds a position per supervision area.
    pub next_cursor: String,
    /// Deprecated: the last `seq` of this page for the `after` parameter. Use `next_cursor`:
    /// events are ordered per supervision area, and a single `seq` can pass over an event
    /// that committed late in another area; the cursor keeps a position per area.
    #[schema(deprecated)]
    pub next_after: i64,
}

const CURSOR_KIND: &str = "event";

/// Filters and paging of the feed. Unknown parameters are rejected (400).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventListQuery {
    /// `next_cursor` of the previous page; absent: from the start.
    pub cursor: Option<String>,
    /// Deprecated: only events with a greater `seq`. Use `cursor`, which never skips an
    /// event; following `after` can skip one that committed late in another area.
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// Only these types, comma-separated (`enterprise.created,enterprise.updated`).
    #[param(value_type = Option<Vec<crate::plumbing::codes::EventType>>, style = Form, explode = false)]
    pub types: Option<String>,
    /// Only events about this kind of record.
    #[param(value_type = Option<crate::plumbing::codes::ResourceType>)]
    pub resource_type: Option<ResourceType>,
    /// Only events about the record with this id (the audit trail of one record).
    pub resource_id: Option<String>,
    /// Only events about this enterprise and its records (its whole audit trail).
    pub enterprise_id: Option<uuid::Uuid>,
}

fn parse_types(raw: Option<&str>) -> Result<Vec<EventType>, ApiError> {
    raw.map(|t| {
        t.split(',')
            .map(|p| {
                p.trim()
                    .parse::<EventType>()
                    .map_err(|e| ApiError::new(ErrorCode::InvalidQuery, format!("types: {e}")))
            })
            .collect()
    })
    .unwrap_or_else(|| Ok(Vec::new()))
}

/// Follow the event feed (事件流): every change to the records inside the caller's
/// jurisdiction, in commit order.
///
/// Keep asking with `cursor` = the `next_cursor` of the previous page: no event is ever
/// skipped, also with concurrent writers on several nodes. Events are ordered per
/// supervision area (`seq` increases in commit order within an area); the cursor keeps a
/// position per area, so an event that committed late in one area is still delivered. City administrators also see
/// principal and token events.
#[utoipa::path(
    tag = "events",
    operation_id = "list_events",
    params(EventListQuery),
    responses(
        (status = 200, description = "One page", body = EventPage),
    )
)]
#[get("/events")]
pub async fn list_events(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<EventListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = crate::plumbing::list::limit(query.limit)?;
    let after: FeedPosition = match (&query.cursor, query.after) {
        (Some(_), Some(_)) => {
            return Err(ApiError::new(
                ErrorCode::InvalidQuery,
                "send either cursor or its deprecated alias after, not both",
            ));
        }
        (Some(c), None) => {
            crate::plumbing::list::id_cursor(CURSOR_KIND, Some(c.as_str()), FeedPosition::decode)?
                .unwrap_or_default()
        }
        (None, Some(a)) if a < 0 => {
            return Err(ApiError::new(
                ErrorCode::InvalidQuery,
                "after must be 0 or more",
            ));
        }
        (None, a) => FeedPosition::after(a.unwrap_or(0)),
    };
    let floor = after.floor();
    let filter = EventFilter {
        after,
        types: parse_types(query.types.as_deref())?,
        resource_type: query.resource_type,
        resource_id: query.resource_id.clone(),
        enterprise_id: query.enterprise_id.map(|u| u.to_string()),
    };
    let visibility = caller.event_visibility();
    let page = state
        .run(move |s| Ok(s.list_events(&visibility, &filter, i64::from(limit))?))
        .await?;
    let next_after = page.events.last().map_or(floor, |e| e.seq);
    Ok(HttpResponse::Ok().json(EventPage {
        items: page.events.into_iter().map(EventResponse::from).collect(),
        next_cursor: crate::plumbing::list::encode_cursor(CURSOR_KIND, &page.position.encode()),
        next_after,
    }))
}
