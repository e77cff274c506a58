//! Webhook subscriptions (事件推送) and their delivery attempts.
//!
//! A subscription follows the event log from the event after the one current when it was
//! made: its `cursor` is the last event delivered (or passed over as not matching). Each
//! subscription has one delivery job in the job table, inserted with it in one transaction;
//! the worker holding that job sends the events after the cursor one by one, in `seq` order,
//! and moves the cursor in the transaction that records the successful attempt. The event
//! log is written in the transaction of every change and its `seq` values become visible in
//! order (`docs/adr/0004-event-feed-ordering.md`), so no event can be missed between a
//! change's commit and its delivery.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use safegrade_domain::jobs::{JobKind, WebhookStatus};
use safegrade_domain::{Actor, CodeList, DeliveryId, EventType, PrincipalId, WebhookId};

use crate::jobs::NewJob;
use crate::plumbing::events::payload::WebhookFields;
use crate::plumbing::events::{EventData, FeedPosition, NewEvent};
use crate::plumbing::instant::{StoredInstant, utc};
use crate::plumbing::schema::{webhook_deliveries, webhooks};
use crate::{DbConn, Store, StoreError, WriteTx};

/// What a subscriber sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookData {
    /// Where events are sent (`https://…`, or `http://…`).
    pub url: String,
    /// The event types sent; empty: every type.
    pub event_types: Vec<EventType>,
    /// A note.
    pub description: Option<String>,
    /// Whether events are sent.
    pub enabled: bool,
}

/// A stored subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Id.
    pub id: WebhookId,
    /// The principal whose jurisdiction decides which events are sent.
    pub principal_id: String,
    /// What the subscriber set.
    pub data: WebhookData,
    /// The signing secret (`whsec_` and base64).
    pub secret: String,
    /// Whether deliveries get through.
    pub status: WebhookStatus,
    /// Where it stands in the log, per audit chain: the last event delivered or passed
    /// over.
    pub cursor: FeedPosition,
    /// Since when deliveries of the current event fail (none while they succeed).
    pub failing_since: Option<DateTime<Utc>>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Id.
    pub id: String,
    /// The subscription.
    pub webhook_id: String,
    /// The event sent.
    pub event_seq: i64,
    /// Attempt number for this event (1, 2, …).
    pub attempt: i32,
    /// A manual redelivery.
    pub manual: bool,
    /// When.
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status, if it answered.
    pub status_code: Option<i32>,
    /// Time to the answer (or the failure), in milliseconds.
    pub latency_ms: i64,
    /// Whether the receiver took it (2xx).
    pub succeeded: bool,
    /// Why not.
    pub error: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = webhooks)]
struct WebhookRow {
    id: String,
    principal_id: String,
    url: String,
    event_types: String,
    description: Option<String>,
    secret: String,
    enabled: bool,
    status: String,
    failing_since: Option<NaiveDateTime>,
    version: i64,
    #[diesel(deserialize_as = StoredInstant)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredInstant)]
    updated_at: NaiveDateTime,
    position: String,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Other(format!("a stored webhooks.{what} is not valid").into())
}

impl WebhookRow {
    fn into_webhook(self) -> Result<Webhook, StoreError> {
        let codes: Vec<String> =
            serde_json::from_str(&self.event_types).map_err(|_| corrupt("event_types"))?;
        let event_types = codes
            .iter()
            .map(|c| EventType::from_code(c).ok_or_else(|| corrupt("event_types")))
            .collect::<Result<_, _>>()?;
        Ok(Webhook {
            id: WebhookId::parse(&self.id).ok_or_else(|| corrupt("id"))?,
            principal_id: self.principal_id,
            data: WebhookData {
                url: self.url,
                event_types,
                description: self.description,
                enabled: self.enabled,
            },
            secret: self.secret,
            status: WebhookStatus::from_code(&self.status).ok_or_else(|| corrupt("status"))?,
            cursor: FeedPosition::decode(&self.position).ok_or_else(|| corrupt("position"))?,
            failing_since: self.failing_since.map(utc),
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
struct DeliveryRow {
    id: String,
    webhook_id: String,
    event_seq: i64,
    attempt: i32,
    manual: bool,
    #[diesel(deserialize_as = StoredInstant)]
    attempted_at: NaiveDateTime,
    status_code: Option<i32>,
    latency_ms: i64,
    succeeded: bool,
    error: Option<String>,
}

impl From<DeliveryRow> for Delivery {
    fn from(r: DeliveryRow) -> Self {
        Self {
            id: r.id,
            webhook_id: r.webhook_id,
            event_seq: r.event_seq,
            attempt: r.attempt,
            manual: r.manual,
            attempted_at: utc(r.attempted_at),
            status_code: r.status_code,
            latency_ms: r.latency_ms,
            succeeded: r.succeeded,
            error: r.error,
        }
    }
}

fn types_json(types: &[EventType]) -> String {
    serde_json::Value::from(types.iter().map(|t| t.as_str()).collect::<Vec<_>>()).to_string()
}

/// The subscription `id`.
pub fn find(conn: &mut DbConn, id: WebhookId) -> Result<Webhook, StoreError> {
    webhooks::table
        .find(id.to_string())
        .select(WebhookRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)?
        .into_webhook()
}

fn fields(w: &Webhook) -> WebhookFields {
    WebhookFields {
        id: w.id.to_string(),
        url: w.data.url.clone(),
        event_types: w
            .data
            .event_types
            .iter()
            .map(|t| t.as_str().to_owned())
            .collect(),
        enabled: w.data.enabled,
        status: w.status.as_str().to_owned(),
    }
}

fn record(
    tx: &mut WriteTx<'_>,
    w: &Webhook,
    actor: &Actor,
    created: bool,
) -> Result<(), StoreError> {
    let f = fields(w);
    tx.record(NewEvent {
        actor: actor.clone(),
        resource_id: w.id.to_string(),
        area_code: None,
        enterprise_id: None,
        data: if created {
            EventData::WebhookCreated(f)
        } else {
            EventData::WebhookUpdated(f)
        },
        reason: None,
    })
}

/// Creates a subscription for `principal` with `secret`, following the log from now on,
/// with its delivery job, inside the caller's transaction.
pub fn create(
    tx: &mut WriteTx<'_>,
    (principal, actor): (PrincipalId, &Actor),
    data: &WebhookData,
    secret: &str,
) -> Result<Webhook, StoreError> {
    let now = crate::now();
    let id = WebhookId::new();
    let cursor = crate::plumbing::events::feed_now(tx)?;
    diesel::insert_into(webhooks::table)
        .values((
            webhooks::id.eq(id.to_string()),
            webhooks::principal_id.eq(principal.to_string()),
            webhooks::url.eq(&data.url),
            webhooks::event_types.eq(types_json(&data.event_types)),
            webhooks::description.eq(&data.description),
            webhooks::secret.eq(secret),
            webhooks::enabled.eq(data.enabled),
            webhooks::status.eq(WebhookStatus::Active.as_str()),
            webhooks::cursor.eq(cursor.floor()),
            webhooks::position.eq(cursor.encode()),
            webhooks::version.eq(1_i64),
            webhooks::created_at.eq(now),
            webhooks::updated_at.eq(now),
        ))
        .execute(&mut **tx)?;
    crate::jobs::insert(
        tx,
        NewJob {
            kind: JobKind::Webhook,
            subject: Some(id.to_string()),
            principal_id: Some(principal),
            params: serde_json::json!({}),
            input: None,
        },
    )?;
    let w = find(tx, id)?;
    record(tx, &w, actor, true)?;
    Ok(w)
}

/// Changes a subscription (a merged `data`), inside the caller's transaction; enabling a
/// failing one makes it active again and resumes delivery where it stopped.
pub fn update(
    tx: &mut WriteTx<'_>,
    current: Webhook,
    data: WebhookData,
    (actor, expected): (&Actor, Option<i64>),
) -> Result<Webhook, StoreError> {
    crate::check_version(expected, current.version)?;
    let resumes =
        data.enabled && (!current.data.enabled || current.status == WebhookStatus::Failing);
    if data == current.data && !resumes {
        return Ok(current);
    }
    let (status, failing_since) = if resumes {
        (WebhookStatus::Active, None)
    } else {
        (current.status, current.failing_since.map(|t| t.naive_utc()))
    };
    diesel::update(webhooks::table.find(current.id.to_string()))
        .set((
            webhooks::url.eq(&data.url),
            webhooks::event_types.eq(types_json(&data.event_types)),
            webhooks::description.eq(&data.description),
            webhooks::enabled.eq(data.enabled),
            webhooks::status.eq(status.as_str()),
            webhooks::failing_since.eq(failing_since),
            webhooks::version.eq(current.version + 1),
            webhooks::updated_at.eq(crate::now()),
        ))
        .execute(&mut **tx)?;
    if resumes {
        crate::jobs::wake(tx, JobKind::Webhook, &current.id.to_string())?;
    }
    let w = find(tx, current.id)?;
    record(tx, &w, actor, false)?;
    Ok(w)
}

/// How an attempt went.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The event sent.
    pub event_seq: i64,
    /// Its audit chain (`city` or its supervision area).
    pub event_chain: String,
    /// Attempt number.
    pub attempt: i32,
    /// A manual redelivery (it does not move the cursor).
    pub manual: bool,
    /// The receiver's status, if it answered.
    pub status_code: Option<i32>,
    /// Milliseconds to the answer.
    pub latency_ms: i64,
    /// 2xx.
    pub succeeded: bool,
    /// Why not.
    pub error: Option<String>,
}

/// Records an attempt of subscription `id` inside the caller's transaction: a successful
/// one (not manual) moves the cursor to its event and clears `failing_since`; a failed one
/// sets `failing_since` if unset. Returns the subscription as it now is.
pub fn record_attempt(
    conn: &mut DbConn,
    id: WebhookId,
    a: &Attempt,
) -> Result<Webhook, StoreError> {
    let now = crate::now();
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::id.eq(DeliveryId::new().to_string()),
            webhook_deliveries::webhook_id.eq(id.to_string()),
            webhook_deliveries::event_seq.eq(a.event_seq),
            webhook_deliveries::attempt.eq(a.attempt),
            webhook_deliveries::manual.eq(a.manual),
            webhook_deliveries::attempted_at.eq(now),
            webhook_deliveries::status_code.eq(a.status_code),
            webhook_deliveries::latency_ms.eq(a.latency_ms),
            webhook_deliveries::succeeded.eq(a.succeeded),
            webhook_deliveries::error.eq(&a.error),
        ))
        .execute(conn)?;
    let row = webhooks::table.find(id.to_string());
    if a.manual {
        // A manual redelivery moves nothing.
    } else if a.succeeded {
        let mut passed = FeedPosition::after(0);
        passed.passed(&a.event_chain, a.event_seq);
        move_position(conn, id, &passed)?;
        diesel::update(row)
            .set(webhooks::failing_since.eq(None::<NaiveDateTime>))
            .execute(conn)?;
    } else {
        diesel::update(row.filter(webhooks::failing_since.is_null()))
            .set(webhooks::failing_since.eq(now))
            .execute(conn)?;
    }
    find(conn, id)
}

/// Moves the cursor of subscription `id` to `to`, chain by chain, where that is further
/// on (`FeedPosition::max`): past an event delivered, or past events that do not concern it.
/// `cursor` keeps the position's lowest `seq`.
pub fn move_position(
    conn: &mut DbConn,
    id: WebhookId,
    to: &FeedPosition,
) -> Result<(), StoreError> {
    let stored: String = webhooks::table
        .find(id.to_string())
        .select(webhooks::position)
        .first(conn)?;
    let at = FeedPosition::decode(&stored).ok_or_else(|| corrupt("position"))?;
    let moved = at.max(to);
    if moved != at {
        diesel::update(webhooks::table.find(id.to_string()))
            .set((
                webhooks::position.eq(moved.encode()),
                webhooks::cursor.eq(moved.floor()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Marks subscription `id` failing (its deliveries failed for the whole retry period).
pub fn mark_failing(conn: &mut DbConn, id: WebhookId) -> Result<(), StoreError> {
    diesel::update(webhooks::table.find(id.to_string()))
        .set((
            webhooks::status.eq(WebhookStatus::Failing.as_str()),
            webhooks::updated_at.eq(crate::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Attempts of the current event of subscription `id` so far (automatic ones).
pub fn attempts_of(conn: &mut DbConn, id: WebhookId, seq: i64) -> Result<i32, StoreError> {
    let n: i64 = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(id.to_string()))
        .filter(webhook_deliveries::event_seq.eq(seq))
        .filter(webhook_deliveries::manual.eq(false))
        .count()
        .get_result(conn)?;
    Ok(i32::try_from(n).unwrap_or(i32::MAX))
}

impl Store {
    /// Records attempt `a` of subscription `id` by the worker holding job `job` (checking
    /// and renewing its lease in the same transaction); see [`record_attempt`].
    pub fn record_delivery(
        &self,
        job: (&str, &str),
        id: WebhookId,
        a: Attempt,
    ) -> Result<Webhook, StoreError> {
        let (job, owner) = (job.0.to_owned(), job.1.to_owned());
        self.with_write_tx(move |tx| {
            crate::jobs::checkpoint(tx, (&job, &owner), (0, 0), None)?;
            record_attempt(tx, id, &a)
        })
    }

    /// Ends an idle round of subscription `id`'s delivery job (held by `job`): nothing after
    /// the cursor concerned it up to `end` (the position a read of the feed that found
    /// nothing returned), so the cursor passes over to `end`, and the job is due again at
    /// `next`.
    pub fn webhook_idle(
        &self,
        job: (&str, &str),
        id: WebhookId,
        (end, next): (FeedPosition, NaiveDateTime),
    ) -> Result<(), StoreError> {
        let (job, owner) = (job.0.to_owned(), job.1.to_owned());
        self.with_write_tx(move |tx| {
            move_position(tx, id, &end)?;
            crate::jobs::release(tx, (&job, &owner), crate::jobs::Release::Later(next))
        })
    }

    /// Marks subscription `id` failing and parks its delivery job (held by `job`).
    pub fn park_failing_webhook(&self, job: (&str, &str), id: WebhookId) -> Result<(), StoreError> {
        let (job, owner) = (job.0.to_owned(), job.1.to_owned());
        self.with_write_tx(move |tx| {
            mark_failing(tx, id)?;
            crate::jobs::release(
                tx,
                (&job, &owner),
                crate::jobs::Release::Finish(
                    safegrade_domain::jobs::JobState::Succeeded,
                    serde_json::json!({"parked": "failing"}),
                ),
            )
        })
    }

    /// Attempts so far of event `seq` to subscription `id` (automatic ones).
    pub fn delivery_attempts(&self, id: WebhookId, seq: i64) -> Result<i32, StoreError> {
        self.with_read(|conn| attempts_of(conn, id, seq))
    }

    /// The subscription `id`.
    pub fn get_webhook(&self, id: WebhookId) -> Result<Webhook, StoreError> {
        self.with_read(|conn| find(conn, id))
    }

    /// Subscriptions, oldest first, after `cursor` (an id); only `principal`'s when given.
    pub fn list_webhooks(
        &self,
        principal: Option<&str>,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Webhook>, StoreError> {
        self.with_read(|conn| {
            let mut q = webhooks::table.select(WebhookRow::as_select()).into_boxed();
            if let Some(p) = principal {
                q = q.filter(webhooks::principal_id.eq(p.to_owned()));
            }
            if let Some(c) = cursor {
                q = q.filter(webhooks::id.gt(c.to_owned()));
            }
            q.order(webhooks::id.asc())
                .limit(limit)
                .load::<WebhookRow>(conn)?
                .into_iter()
                .map(WebhookRow::into_webhook)
                .collect()
        })
    }

    /// Attempts of subscription `id`, newest first, before `cursor` (an id).
    pub fn list_deliveries(
        &self,
        id: WebhookId,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.with_read(|conn| {
            let mut q = webhook_deliveries::table
                .filter(webhook_deliveries::webhook_id.eq(id.to_string()))
                .select(DeliveryRow::as_select())
                .into_boxed();
            if let Some(c) = cursor {
                q = q.filter(webhook_deliveries::id.lt(c.to_owned()));
            }
            Ok(q.order(webhook_deliveries::id.desc())
                .limit(limit)
                .load::<DeliveryRow>(conn)?
                .into_iter()
                .map(Delivery::from)
                .collect())
        })
    }
}

/// The attempt `delivery` of subscription `id`.
pub fn find_delivery(
    conn: &mut DbConn,
    id: WebhookId,
    delivery: DeliveryId,
) -> Result<Delivery, StoreError> {
    webhook_deliveries::table
        .find(delivery.to_string())
        .filter(webhook_deliveries::webhook_id.eq(id.to_string()))
        .select(DeliveryRow::as_select())
        .first::<DeliveryRow>(conn)
        .optional()?
        .map(Delivery::from)
        .ok_or(StoreError::NotFound)
}

/// Queues a manual redelivery of `delivery`'s event to subscription `id` (sent once, moving
/// nothing), inside the caller's transaction.
pub fn queue_redelivery(
    conn: &mut DbConn,
    id: WebhookId,
    delivery: &Delivery,
    (principal, reason): (PrincipalId, Option<String>),
) -> Result<crate::jobs::Job, StoreError> {
    crate::jobs::insert(
        conn,
        NewJob {
            kind: JobKind::Webhook,
            subject: Some(format!("redelivery:{}", uuid::Uuid::now_v7())),
            principal_id: Some(principal),
            params: serde_json::json!({
                "webhook_id": id.to_string(), "redeliver": delivery.event_seq, "reason": reason,
            }),
            input: None,
        },
    )
}
