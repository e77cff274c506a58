//! The event log: one row per change, appended in the transaction of the change, read as the
//! audit trail and as the change feed (docs/API-DESIGN.md, Events).
//!
//! Appends are collected per write transaction ([`crate::WriteTx::record`]) and inserted
//! just before the commit; on PostgreSQL under transaction-scoped advisory locks, one per
//! audit chain (supervision area), so within a chain `seq` values become visible in order,
//! and a reader that keeps a position per chain ([`FeedPosition`]) never skips one
//! (`docs/adr/0004-event-feed-ordering.md`). On SQLite the one writer gives one order for
//! the whole log.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use safegrade_domain::{
    Actor, CodeList, EnterpriseId, EventType, PrincipalId, ResourceType, Role, Scope,
};
pub mod chain;
pub mod payload;
mod position;
mod statements;

pub use crate::plumbing::locks::chain_key;
pub use chain::StoredEvent;
pub use payload::{Changes, EventData};
pub use position::FeedPosition;

use crate::plumbing::schema::{event_chains, events};
use crate::{DbConn, Store, StoreError};

/// An event about to be appended.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Who did it.
    pub actor: Actor,
    /// The record's id.
    pub resource_id: String,
    /// The supervision area of the record, for regulated records (enterprises and what
    /// hangs off them); `None` for principals and tokens.
    pub area_code: Option<String>,
    /// The enterprise the record belongs to, if any.
    pub enterprise_id: Option<EnterpriseId>,
    /// What happened: the type and its payload.
    pub data: EventData,
    /// Why, as the caller said.
    pub reason: Option<String>,
}

impl NewEvent {
    /// The event's type.
    pub fn event_type(&self) -> EventType {
        self.data.event_type()
    }

    /// Refuses an event that no backend could store: a U+0000 in a text column (PostgreSQL
    /// cannot hold it; `data` is JSON text, where it is escaped and harmless).
    pub(crate) fn check_storable(&self) -> Result<(), StoreError> {
        let texts = [
            Some(self.resource_id.as_str()),
            self.area_code.as_deref(),
            self.reason.as_deref(),
            self.actor.request_id.as_deref(),
        ];
        if texts.into_iter().flatten().any(|t| t.contains('\0')) {
            return Err(StoreError::Other(
                format!(
                    "an event of {} holds U+0000 and cannot be stored",
                    self.event_type().as_str()
                )
                .into(),
            ));
        }
        Ok(())
    }
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Position in the log, increasing in commit order (with gaps).
    pub seq: i64,
    /// What happened.
    pub event_type: EventType,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// The principal, `None` for the command line.
    pub actor_principal_id: Option<String>,
    /// Its role at the time.
    pub actor_role: Option<Role>,
    /// The API request.
    pub request_id: Option<String>,
    /// Kind of record.
    pub resource_type: ResourceType,
    /// Its id.
    pub resource_id: String,
    /// Supervision area of the record.
    pub area_code: Option<String>,
    /// Enterprise of the record.
    pub enterprise_id: Option<String>,
    /// What happened: the type and its payload.
    pub data: EventData,
    /// Why.
    pub reason: Option<String>,
}

fn corrupt(column: &str) -> StoreError {
    StoreError::Other(format!("a stored events.{column} is not valid").into())
}

impl StoredEvent {
    fn into_event(self) -> Result<Event, StoreError> {
        let event_type =
            EventType::from_code(&self.event_type).ok_or_else(|| corrupt("event_type"))?;
        Ok(Event {
            seq: self.seq,
            event_type,
            occurred_at: DateTime::from_naive_utc_and_offset(self.occurred_at, Utc),
            actor_principal_id: self.actor_principal_id,
            actor_role: match self.actor_role.as_deref() {
                Some(r) => Some(Role::from_code(r).ok_or_else(|| corrupt("actor_role"))?),
                None => None,
            },
            request_id: self.request_id,
            resource_type: ResourceType::from_code(&self.resource_type)
                .ok_or_else(|| corrupt("resource_type"))?,
            resource_id: self.resource_id,
            area_code: self.area_code,
            enterprise_id: self.enterprise_id,
            data: EventData::from_stored(event_type, &self.data)?,
            reason: self.reason,
        })
    }
}

impl NewEvent {
    fn row(&self, seq: i64, at: NaiveDateTime) -> Result<StoredEvent, StoreError> {
        let event_type = self.event_type();
        Ok(StoredEvent {
            seq,
            prev_hash: None,
            hash: None,
            event_type: event_type.as_str().to_owned(),
            occurred_at: at,
            actor_principal_id: self.actor.principal_id.map(|p| p.to_string()),
            actor_role: self.actor.role.map(|r| r.as_str().to_owned()),
            request_id: self.actor.request_id.clone(),
            resource_type: event_type.resource_type().as_str().to_owned(),
            resource_id: self.resource_id.clone(),
            area_code: self.area_code.clone(),
            enterprise_id: self.enterprise_id.map(|e| e.to_string()),
            data: self.data.to_stored()?,
            reason: self.reason.clone(),
        })
    }
}

/// Appends the events of one write transaction, just before its commit. On PostgreSQL it
/// first takes the locks of the batch's chains ([`chain::seqs_and_heads`]): transactions
/// appending to a chain draw their `seq` values one after another, each holding the chain's
/// lock until its commit is visible, so within a chain a later `seq` never becomes visible
/// before an earlier one (SQLite has one writer). Each event is linked onto its area's audit
/// chain ([`chain`]) before it is inserted. On PostgreSQL the chain locks are held for two
/// statements and the commit: the locks with the draw and the heads
/// ([`chain::seqs_and_heads`]), the insert with the new heads ([`chain::insert_linked`]).
pub(crate) fn append(conn: &mut DbConn, batch: &[NewEvent]) -> Result<(), StoreError> {
    if batch.is_empty() {
        return Ok(());
    }
    let at = crate::now();
    let chains = chain::chains_of(
        batch
            .iter()
            .map(|e| chain::chain_of(e.area_code.as_deref()).to_owned()),
    );
    let (seqs, heads) = chain::seqs_and_heads(conn, batch.len(), chains)?;
    let mut rows: Vec<StoredEvent> = batch
        .iter()
        .zip(seqs)
        .map(|(e, seq)| e.row(seq, at))
        .collect::<Result<_, _>>()?;
    if let DbConn::Postgres(pg) = conn {
        let heads = chain::link_rows(&mut rows, heads);
        return chain::insert_linked(pg, rows, &heads);
    }
    chain::link(conn, &mut rows, heads)?;
    // SQLite (PostgreSQL returned above): one statement a row, in the writer's transaction.
    crate::insert_rows!(conn, events::table, rows, 1);
    Ok(())
}

/// The last event's `seq` (0 for an empty log).
pub fn last_seq(conn: &mut DbConn) -> Result<i64, StoreError> {
    Ok(events::table
        .select(diesel::dsl::max(events::seq))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0))
}

/// Which events a caller may read: those about records inside its jurisdiction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventVisibility {
    /// Everything (city administrators: including principals and tokens).
    All,
    /// Events about regulated records anywhere in the city (city regulators).
    Regulated,
    /// Events about records in these areas.
    Areas(Vec<String>),
    /// Events about this enterprise and its records.
    Enterprise(EnterpriseId),
    /// Events about the enterprises with an application assigned to this review
    /// organisation, except those about other applications and their reviews.
    Organisation(String),
}

impl EventVisibility {
    /// The visibility of a caller with `scope` who may (or may not) manage access.
    pub fn of(scope: &Scope, manages_access: bool) -> Self {
        match scope {
            Scope::City if manages_access => Self::All,
            Scope::City => Self::Regulated,
            Scope::Areas(a) => Self::Areas(a.clone()),
            Scope::Enterprise(id) => Self::Enterprise(*id),
            Scope::Organisation(org) => Self::Organisation(org.clone()),
        }
    }
}

impl EventVisibility {
    /// The chains whose events this visibility can include (`None`: any).
    fn chains(&self) -> Option<&[String]> {
        match self {
            Self::Areas(areas) => Some(areas),
            _ => None,
        }
    }
}

/// Filters of the event feed.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Only events after this position (per chain).
    pub after: FeedPosition,
    /// Only these types (any when empty).
    pub types: Vec<EventType>,
    /// Only events about this kind of record.
    pub resource_type: Option<ResourceType>,
    /// Only events about the record with this id.
    pub resource_id: Option<String>,
    /// Only events about this enterprise and its records.
    pub enterprise_id: Option<String>,
}

/// A page of the feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedPage {
    /// The events, in `seq` order.
    pub events: Vec<Event>,
    /// Where to continue: past these events, and past what could not have been in them.
    pub position: FeedPosition,
}

/// Events after `position`: per chain named, after its position; in any other chain, after
/// the default.
fn after_position(position: &FeedPosition) -> chain::EventCondition {
    use chain::{CITY_CHAIN, EventCondition};
    let (named, rest) = position.parts();
    let areas: Vec<String> = named.keys().filter(|c| *c != CITY_CHAIN).cloned().collect();
    let unnamed_area = events::area_code
        .is_not_null()
        .nullable()
        .and(events::area_code.ne_all(areas));
    let unnamed: EventCondition = if named.contains_key(CITY_CHAIN) {
        Box::new(unnamed_area)
    } else {
        Box::new(unnamed_area.or(events::area_code.is_null().nullable()))
    };
    let mut condition: EventCondition = Box::new(unnamed.and(events::seq.gt(rest).nullable()));
    for (chain, seq) in named {
        let in_chain = chain::of_chain(chain).and(events::seq.gt(*seq).nullable());
        condition = Box::new(condition.or(in_chain));
    }
    condition
}

impl Store {
    /// Events after `filter.after` in `seq` order, at most `limit`, that `visibility` allows,
    /// and the position after them. The chains' heads are read first: a chain moves to its
    /// head (but not past the page's end when the page is full), so a reader of one area does
    /// not keep scanning past the others' events, and a quiet chain does not hold anyone back
    /// (`FeedPosition::advanced`).
    pub fn list_events(
        &self,
        visibility: &EventVisibility,
        filter: &EventFilter,
        limit: i64,
    ) -> Result<FeedPage, StoreError> {
        self.with_read(|conn| {
            let heads = settled_heads(conn)?;
            let mut q = events::table
                .filter(events::seq.gt(filter.after.floor()))
                .into_boxed();
            if !filter.after.parts().0.is_empty() {
                q = q.filter(after_position(&filter.after));
            }
            q = match visibility {
                EventVisibility::All => q,
                EventVisibility::Regulated => q.filter(events::area_code.is_not_null()),
                EventVisibility::Areas(areas) => q.filter(events::area_code.eq_any(areas.clone())),
                EventVisibility::Enterprise(id) => {
                    q.filter(events::enterprise_id.eq(id.to_string()))
                }
                EventVisibility::Organisation(org) => {
                    use crate::plumbing::schema::{assessments, gradings};
                    let assigned =
                        || gradings::table.filter(gradings::review_org_id.eq(org.clone()));
                    let enterprises = assigned().select(gradings::enterprise_id.nullable());
                    let others_reviews = assessments::table
                        .filter(assessments::grading_id.is_not_null())
                        .filter(
                            assessments::grading_id
                                .ne_all(assigned().select(gradings::id.nullable())),
                        )
                        .select(assessments::id);
                    q.filter(events::enterprise_id.eq_any(enterprises))
                        .filter(
                            events::resource_type
                                .ne(ResourceType::Grading.as_str())
                                .or(events::resource_id.eq_any(assigned().select(gradings::id))),
                        )
                        .filter(
                            events::resource_type
                                .ne(ResourceType::Assessment.as_str())
                                .or(events::resource_id.ne_all(others_reviews)),
                        )
                }
            };
            if !filter.types.is_empty() {
                let types: Vec<&str> = filter.types.iter().map(|t| t.as_str()).collect();
                q = q.filter(events::event_type.eq_any(types));
            }
            if let Some(t) = filter.resource_type {
                q = q.filter(events::resource_type.eq(t.as_str()));
            }
            if let Some(id) = &filter.resource_id {
                q = q.filter(events::resource_id.eq(id.clone()));
            }
            if let Some(id) = &filter.enterprise_id {
                q = q.filter(events::enterprise_id.eq(id.clone()));
            }
            let events: Vec<Event> = q
                .order(events::seq.asc())
                .limit(limit)
                .select(StoredEvent::as_select())
                .load::<StoredEvent>(conn)?
                .into_iter()
                .map(StoredEvent::into_event)
                .collect::<Result<_, _>>()?;
            let mut position = filter.after.clone();
            for e in &events {
                position.passed(chain::chain_of(e.area_code.as_deref()), e.seq);
            }
            let full = i64::try_from(events.len()).is_ok_and(|n| n >= limit);
            let page_end = full.then(|| events.last().map_or(0, |e| e.seq));
            let position = position.advanced(&heads, page_end, visibility.chains());
            Ok(FeedPage { events, position })
        })
    }
}

/// Every chain's last `seq`, then whether the chain had no append in flight: its lock
/// ([`crate::plumbing::locks::chain_key`]) was free when looked at, after the heads were
/// read (`FeedPosition::advanced`).
fn settled_heads(conn: &mut DbConn) -> Result<Vec<(String, i64, bool)>, StoreError> {
    let heads: Vec<(String, i64)> = event_chains::table
        .select((event_chains::chain, event_chains::last_seq))
        .load(conn)?;
    let keys = heads
        .iter()
        .map(|h| crate::plumbing::locks::chain_key(&h.0))
        .collect();
    let free = crate::plumbing::locks::free(conn, keys)?;
    Ok(heads
        .into_iter()
        .zip(free)
        .map(|((chain, seq), free)| (chain, seq, free))
        .collect())
}

/// The position of a reader who starts now: after every event committed so far, per chain.
pub(crate) fn feed_now(conn: &mut DbConn) -> Result<FeedPosition, StoreError> {
    Ok(FeedPosition::default().advanced(&settled_heads(conn)?, None, None))
}

/// The actor of `principal` in a request.
pub fn actor(principal: PrincipalId, role: Role, request_id: Option<String>) -> Actor {
    Actor {
        principal_id: Some(principal),
        role: Some(role),
        request_id,
    }
}
