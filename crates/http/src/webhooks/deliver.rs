//! Delivering a subscription's events: the worker lane holding its job sends the events
//! after the cursor in `seq` order, one at a time, each signed (`super::signature`). A
//! receiver that answers 2xx moves the cursor; any other answer (or none within 10 s) is
//! retried with exponential backoff and jitter (`domain::jobs::webhook_backoff_seconds`),
//! the same event first, so order holds. When one event has failed for
//! [`WEBHOOK_RETRY_HOURS`] hours the subscription is marked failing and delivery stops
//! until it is enabled again; nothing after the cursor is lost meanwhile.

use std::time::{Duration, Instant};

use safegrade_domain::jobs::{
    JobState, WEBHOOK_RETRY_HOURS, WebhookStatus, webhook_backoff_seconds,
};
use safegrade_domain::{Action, PrincipalId, WebhookId};
use safegrade_store::events::{Event, EventFilter, EventVisibility};
use safegrade_store::jobs::{Job, Release};
use safegrade_store::webhooks::{Attempt, Webhook};
use safegrade_store::{Store, StoreError};

use crate::audit::events::EventResponse;

/// How long a receiver has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How soon an idle subscription looks for new events again.
const IDLE: chrono::Duration = chrono::Duration::milliseconds(500);
/// How long a lane keeps one subscription before letting the others have a turn.
const TURN: Duration = Duration::from_secs(20);
/// Events read per query.
const PAGE: i64 = 100;

/// The HTTP client of every delivery of this process: built once, so its connections (and
/// TLS setup) are reused from one delivery and one round to the next.
fn agent() -> &'static ureq::Agent {
    static AGENT: std::sync::OnceLock<ureq::Agent> = std::sync::OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent("SafeGrade-Webhooks/1")
            .build()
            .into()
    })
}

/// The message id of an event: the same on every attempt, so receivers can drop repeats.
pub fn message_id(seq: i64) -> String {
    format!("evt_{seq}")
}

/// Sends `event` to `hook` once; what happened.
fn send(
    agent: &ureq::Agent,
    hook: &Webhook,
    event: Event,
    (attempt, manual): (i32, bool),
) -> Attempt {
    let seq = event.seq;
    let chain = safegrade_store::events::chain::chain_of(event.area_code.as_deref()).to_owned();
    let body = serde_json::to_vec(&EventResponse::from(event)).unwrap_or_default();
    let id = message_id(seq);
    let ts = chrono::Utc::now().timestamp();
    let signature = super::signature::sign(&hook.secret, &id, ts, &body);
    let started = Instant::now();
    let answer = agent
        .post(&hook.data.url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", &signature)
        .send(&body[..]);
    let latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let (status_code, error) = match answer {
        Ok(r) => {
            let status = r.status().as_u16();
            let error =
                (!(200..300).contains(&status)).then(|| format!("接收方返回 HTTP {status}"));
            (Some(i32::from(status)), error)
        }
        Err(e) => (None, Some(format!("无法送达：{e}"))),
    };
    Attempt {
        event_seq: seq,
        event_chain: chain,
        attempt,
        manual,
        status_code,
        latency_ms,
        succeeded: error.is_none(),
        error,
    }
}

/// What the subscriber may see: its principal's jurisdiction now (`None`: it may see
/// nothing any more, a disabled principal).
fn visibility(store: &Store, hook: &Webhook) -> Result<Option<EventVisibility>, StoreError> {
    let Some(id) = PrincipalId::parse(&hook.principal_id) else {
        return Ok(None);
    };
    let p = match store.get_principal(id) {
        Ok(p) => p,
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    if p.data.disabled {
        return Ok(None);
    }
    Ok(Some(EventVisibility::of(
        &p.data.scope(),
        p.data.may(Action::ManageAccess),
    )))
}

fn park(store: &Store, at: (&str, &str), why: &str) -> Result<(), StoreError> {
    store.release_job(
        at,
        Release::Finish(JobState::Succeeded, serde_json::json!({ "parked": why })),
    )
}

/// Runs delivery job `job` held by `owner` for one turn.
pub fn run(store: &Store, job: &Job, owner: &str) -> Result<(), StoreError> {
    let at = (job.id.as_str(), owner);
    let agent = agent();
    if let Some(seq) = job
        .params
        .get("redeliver")
        .and_then(serde_json::Value::as_i64)
    {
        return redeliver(store, job, owner, seq, agent);
    }
    let Some(id) = job.subject.as_deref().and_then(WebhookId::parse) else {
        return park(store, at, "no_subscription");
    };
    let mut hook = match store.get_webhook(id) {
        Ok(h) => h,
        Err(StoreError::NotFound) => return park(store, at, "no_subscription"),
        Err(e) => return Err(e),
    };
    if !hook.data.enabled || hook.status == WebhookStatus::Failing {
        return park(
            store,
            at,
            if hook.data.enabled {
                "failing"
            } else {
                "disabled"
            },
        );
    }
    let Some(visibility) = visibility(store, &hook)? else {
        return park(store, at, "principal_disabled");
    };
    let started = Instant::now();
    while started.elapsed() < TURN {
        let filter = EventFilter {
            after: hook.cursor.clone(),
            types: hook.data.event_types.clone(),
            ..EventFilter::default()
        };
        // The page's position is past what it holds and past what could not be in it
        // (per audit chain, `FeedPosition`): when the page is empty, the cursor passes over
        // to it.
        let page = store.list_events(&visibility, &filter, PAGE)?;
        if page.events.is_empty() {
            return store.webhook_idle(at, id, (page.position, safegrade_store::now() + IDLE));
        }
        for event in page.events {
            let seq = event.seq;
            // Earlier attempts can only be of the first event after the cursor, and only when
            // it has been failing (a success clears `failing_since`).
            let attempt = if hook.failing_since.is_some() {
                store.delivery_attempts(id, seq)? + 1
            } else {
                1
            };
            let outcome = send(agent, &hook, event, (attempt, false));
            let failed = !outcome.succeeded;
            hook = store.record_delivery(at, id, outcome)?;
            if failed {
                let since = hook.failing_since.unwrap_or_else(chrono::Utc::now);
                if chrono::Utc::now() - since >= chrono::Duration::hours(WEBHOOK_RETRY_HOURS) {
                    tracing::warn!(webhook = %id, seq, "deliveries failed for the whole retry period; the subscription is failing");
                    return store.park_failing_webhook(at, id);
                }
                let jitter = f64::from(uuid::Uuid::now_v7().as_bytes()[15]) / 255.0;
                let wait =
                    webhook_backoff_seconds(u32::try_from(attempt).unwrap_or(u32::MAX), jitter);
                return store.release_job(
                    at,
                    Release::Later(safegrade_store::now() + chrono::Duration::seconds(wait)),
                );
            }
        }
    }
    store.release_job(at, Release::Later(safegrade_store::now()))
}

/// Sends event `seq` once more to the subscription the job names (a manual redelivery).
fn redeliver(
    store: &Store,
    job: &Job,
    owner: &str,
    seq: i64,
    agent: &ureq::Agent,
) -> Result<(), StoreError> {
    let at = (job.id.as_str(), owner);
    let id = job
        .params
        .get("webhook_id")
        .and_then(serde_json::Value::as_str)
        .and_then(WebhookId::parse);
    let Some(hook) = id.map(|id| store.get_webhook(id)).transpose()? else {
        return park(store, at, "no_subscription");
    };
    let Some(visibility) = visibility(store, &hook)? else {
        return park(store, at, "principal_disabled");
    };
    let filter = EventFilter {
        after: safegrade_store::events::FeedPosition::after(seq - 1),
        ..EventFilter::default()
    };
    let event = store
        .list_events(&visibility, &filter, 1)?
        .events
        .into_iter()
        .find(|e| e.seq == seq);
    let Some(event) = event else {
        return park(store, at, "event_not_visible");
    };
    let attempt = store.delivery_attempts(hook.id, seq)? + 1;
    let outcome = send(agent, &hook, event, (attempt, true));
    let report =
        serde_json::json!({"succeeded": outcome.succeeded, "status_code": outcome.status_code});
    store.record_delivery(at, hook.id, outcome)?;
    store.release_job(at, Release::Finish(JobState::Succeeded, report))
}
