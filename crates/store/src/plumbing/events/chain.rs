//! The audit chain (审计链): a regulator must be able to show, in an administrative review
//! (行政复议) or a dispute, that the event log was not edited afterwards
//! (`docs/adr/0006-audit-chain.md`).
//!
//! Every event stores `hash`, the SHA-256 of its canonical form, and `prev_hash`, the hash
//! of the previous event of its chain. There is one chain per supervision area, and one,
//! `city`, for events without an area (principals, tokens, standards, subscriptions): an area
//! is the unit a regulator exports and checks, and the unit a distributed database would
//! place on one node (docs/SCALE.md). The writer computes both hashes just before the
//! commit, with the events' final `seq`, and keeps each chain's head in `event_chains` in the
//! same transaction.
//!
//! The canonical form is the compact JSON array (no spaces, UTF-8, non-ASCII characters as
//! they are) of, in this order: the format tag [`FORMAT`], `seq`, `prev_hash`, `type`,
//! `occurred_at` (`YYYY-MM-DDTHH:MM:SS.ffffffZ`), `actor_principal_id`, `actor_role`,
//! `request_id`, `resource_type`, `resource_id`, `area_code`, `enterprise_id`, `data` (the
//! stored payload text, as a string) and `reason`; absent values are `null`. The first
//! event of a chain has [`GENESIS`] as `prev_hash`. The book's 审计链 chapter shows the same
//! algorithm in Python, over the export.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use safegrade_domain::{Actor, CodeList, EventType};
use serde::Serialize;

use super::NewEvent;
use super::payload::{ChainHeadFields, EventData};

use crate::plumbing::schema::{event_chains, events};
use crate::{DbConn, Store, StoreError};

/// The backend of [`DbConn`] (either database).
pub(crate) type DbBackend = <DbConn as diesel::Connection>::Backend;

/// The format tag, the first element of the canonical form.
pub const FORMAT: &str = "safegrade-event-v1";

/// The `prev_hash` of a chain's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The chain of events without a supervision area.
pub const CITY_CHAIN: &str = "city";

/// The chain an event with `area_code` belongs to.
pub fn chain_of(area_code: Option<&str>) -> &str {
    area_code.unwrap_or(CITY_CHAIN)
}

/// An event as stored, with its hashes: what the export sends and the verification reads.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = events)]
// An absent value is NULL, not DEFAULT: the insert's text is then the same for every row,
// and diesel prepares a single-row insert once per connection.
#[diesel(treat_none_as_default_value = false)]
pub struct StoredEvent {
    /// Position in the log.
    pub seq: i64,
    /// The previous event's hash in this chain ([`GENESIS`] for the first).
    pub prev_hash: Option<String>,
    /// This event's hash.
    pub hash: Option<String>,
    /// The type code.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When, in UTC.
    #[serde(serialize_with = "serialize_instant")]
    #[diesel(deserialize_as = crate::plumbing::instant::StoredInstant)]
    pub occurred_at: NaiveDateTime,
    /// The principal.
    pub actor_principal_id: Option<String>,
    /// Its role.
    pub actor_role: Option<String>,
    /// The request.
    pub request_id: Option<String>,
    /// The kind of record.
    pub resource_type: String,
    /// Its id.
    pub resource_id: String,
    /// Its supervision area.
    pub area_code: Option<String>,
    /// Its enterprise.
    pub enterprise_id: Option<String>,
    /// The payload as stored (JSON text).
    pub data: String,
    /// Why.
    pub reason: Option<String>,
}

fn serialize_instant<S: serde::Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&instant(*t))
}

/// An instant as the canonical form writes it.
fn instant(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

impl StoredEvent {
    /// The chain the event belongs to.
    pub fn chain(&self) -> &str {
        chain_of(self.area_code.as_deref())
    }

    /// The canonical form of the event, with `prev_hash` as given.
    pub fn canonical(&self, prev_hash: &str) -> String {
        // A tuple serialises as a JSON array; serde_json writes it compactly and leaves
        // non-ASCII characters as they are.
        serde_json::to_string(&(
            FORMAT,
            self.seq,
            prev_hash,
            &self.event_type,
            instant(self.occurred_at),
            &self.actor_principal_id,
            &self.actor_role,
            &self.request_id,
            &self.resource_type,
            &self.resource_id,
            &self.area_code,
            &self.enterprise_id,
            &self.data,
            &self.reason,
        ))
        .unwrap_or_default()
    }

    /// The hash the event must have after `prev_hash`.
    pub fn expected_hash(&self, prev_hash: &str) -> String {
        crate::plumbing::digest::sha256_hex(self.canonical(prev_hash).as_bytes())
    }
}

/// A chain's head: its last event, that event's hash, and how many events it holds.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Insertable, Serialize)]
#[diesel(table_name = event_chains)]
pub struct ChainHead {
    /// The chain.
    pub chain: String,
    /// Its last event.
    pub last_seq: i64,
    /// That event's hash.
    pub last_hash: String,
    /// Its length.
    pub length: i64,
}

/// The heads of chains, by chain.
pub(crate) type Heads = HashMap<String, ChainHead>;

/// Takes the locks of an append, draws `n` new `seq` values in increasing order and reads
/// the heads of `chains`.
///
/// The locks (docs/adr/0004): each chain's own lock ([`crate::plumbing::locks::chain_key`]),
/// held to the commit, so within a chain `seq` values become visible in order; before them
/// the events lock (`Lock::Events`), shared, or exclusively when the batch starts a chain, so
/// a new chain's first event is numbered after every event visible before it commits (which
/// is what lets a reader's position start chains it has not seen at the newest head,
/// [`super::FeedPosition`]).
///
/// On PostgreSQL every round trip under a chain lock delays that chain's other writers, so
/// the chain locks, the draw and the heads are one statement: the locks first (the draw and
/// the heads are joined to them), then the column's sequence, then the heads `FOR UPDATE`.
/// The statement's snapshot is older than the locks, so the heads are read `FOR UPDATE`,
/// which returns the newest committed version of a row. That covers rows that existed when
/// the statement started; a first statement makes sure, before the chain locks, that every
/// chain of the batch has its row by then: an empty head ([`GENESIS`], length 0) inserted in
/// this transaction for a chain without one (two transactions starting the same chain wait
/// there for the first to commit), and it takes the events lock. Both are prepared once per
/// connection ([`super::statements`]). On SQLite: after the largest stored `seq` (its one
/// writer appends one transaction at a time).
pub(crate) fn seqs_and_heads(
    conn: &mut DbConn,
    n: usize,
    chains: Vec<String>,
) -> Result<(Vec<i64>, Heads), StoreError> {
    let n = i64::try_from(n).map_err(|e| StoreError::Other(e.into()))?;
    match conn {
        DbConn::Postgres(pg) => {
            diesel::RunQueryDsl::execute(
                super::statements::EnsureHeads {
                    chains: chains.clone(),
                    genesis: GENESIS,
                    lock: crate::plumbing::locks::Lock::Events.key(),
                },
                pg,
            )?;
            let drawn: Vec<super::statements::Drawn> = diesel::RunQueryDsl::load(
                super::statements::LockDrawHeads {
                    locks: chains
                        .iter()
                        .map(|c| crate::plumbing::locks::chain_key(c))
                        .collect(),
                    n,
                    chains,
                },
                pg,
            )?;
            let mut seqs = Vec::new();
            let mut heads = Heads::new();
            for (seq, chain, last_hash, length) in drawn {
                match (chain, last_hash, length) {
                    (Some(chain), Some(last_hash), Some(length)) => {
                        heads.insert(
                            chain.clone(),
                            ChainHead {
                                chain,
                                last_seq: seq,
                                last_hash,
                                length,
                            },
                        );
                    }
                    _ => seqs.push(seq),
                }
            }
            seqs.sort_unstable();
            Ok((seqs, heads))
        }
        DbConn::Sqlite(_) => {
            let last = super::last_seq(conn)?;
            Ok(((1..=n).map(|i| last + i).collect(), heads(conn, chains)?))
        }
    }
}

/// The chains `rows` belong to, each once.
pub(crate) fn chains_of(rows: impl Iterator<Item = String>) -> Vec<String> {
    let mut chains: Vec<String> = rows.collect();
    chains.sort_unstable();
    chains.dedup();
    chains
}

/// The heads of `chains`, by chain.
fn heads(conn: &mut DbConn, chains: Vec<String>) -> Result<Heads, StoreError> {
    Ok(event_chains::table
        .filter(event_chains::chain.eq_any(chains))
        .load::<ChainHead>(conn)?
        .into_iter()
        .map(|h| (h.chain.clone(), h))
        .collect())
}

/// Links `rows` (in `seq` order) onto their chains, whose current `heads` are given: sets
/// each one's `prev_hash` and `hash` and stores the new heads. Runs in the transaction that
/// inserts them.
pub(crate) fn link(
    conn: &mut DbConn,
    rows: &mut [StoredEvent],
    heads: Heads,
) -> Result<(), StoreError> {
    let heads = link_rows(rows, heads);
    store_heads(conn, &heads)
}

/// Sets the `prev_hash` and `hash` of `rows` (in `seq` order) after the chains' current
/// `heads`; the chains' new heads, by chain.
pub(crate) fn link_rows(rows: &mut [StoredEvent], mut heads: Heads) -> Vec<ChainHead> {
    for row in rows.iter_mut() {
        let chain = row.chain().to_owned();
        let prev = heads
            .get(&chain)
            .map_or_else(|| GENESIS.to_owned(), |h| h.last_hash.clone());
        let hash = row.expected_hash(&prev);
        row.prev_hash = Some(prev);
        row.hash = Some(hash.clone());
        let head = heads.entry(chain.clone()).or_insert(ChainHead {
            chain,
            last_seq: 0,
            last_hash: String::new(),
            length: 0,
        });
        head.last_seq = row.seq;
        head.last_hash = hash;
        head.length += 1;
    }
    let mut heads: Vec<ChainHead> = heads.into_values().collect();
    heads.sort_unstable_by(|a, b| a.chain.cmp(&b.chain));
    heads
}

/// Stores the chains' new `heads`.
fn store_heads(conn: &mut DbConn, heads: &[ChainHead]) -> Result<(), StoreError> {
    let set = || {
        use diesel::upsert::excluded;
        (
            event_chains::last_seq.eq(excluded(event_chains::last_seq)),
            event_chains::last_hash.eq(excluded(event_chains::last_hash)),
            event_chains::length.eq(excluded(event_chains::length)),
        )
    };
    match conn {
        // One statement for every chain of the batch.
        DbConn::Postgres(pg) => {
            diesel::insert_into(event_chains::table)
                .values(heads)
                .on_conflict(event_chains::chain)
                .do_update()
                .set(set())
                .execute(pg)?;
        }
        DbConn::Sqlite(lite) => {
            for head in heads {
                diesel::insert_into(event_chains::table)
                    .values(head)
                    .on_conflict(event_chains::chain)
                    .do_update()
                    .set(set())
                    .execute(lite)?;
            }
        }
    }
    Ok(())
}

/// Inserts linked `rows` and moves their chains to the new `heads` in one statement on
/// PostgreSQL (the last round trip before the commit, under the events lock; the heads' rows
/// exist: [`seqs_and_heads`]). The rows go in as one array per column, so the statement's
/// text is the same for any number of events, and it is prepared once per connection.
pub(crate) fn insert_linked(
    pg: &mut diesel::PgConnection,
    rows: Vec<StoredEvent>,
    heads: &[ChainHead],
) -> Result<(), StoreError> {
    let mut q = super::statements::InsertLinked::default();
    for r in rows {
        q.seq.push(r.seq);
        q.prev_hash.push(r.prev_hash);
        q.hash.push(r.hash);
        q.event_type.push(r.event_type);
        q.occurred_at.push(r.occurred_at);
        q.actor_principal_id.push(r.actor_principal_id);
        q.actor_role.push(r.actor_role);
        q.request_id.push(r.request_id);
        q.resource_type.push(r.resource_type);
        q.resource_id.push(r.resource_id);
        q.area_code.push(r.area_code);
        q.enterprise_id.push(r.enterprise_id);
        q.data.push(r.data);
        q.reason.push(r.reason);
    }
    for h in heads {
        q.head_chain.push(h.chain.clone());
        q.head_last_seq.push(h.last_seq);
        q.head_last_hash.push(h.last_hash.clone());
        q.head_length.push(h.length);
    }
    let updated = diesel::RunQueryDsl::execute(q, pg)?;
    if updated != heads.len() {
        return Err(StoreError::Other(
            format!(
                "moved {updated} of {} audit chain heads: a head row is missing",
                heads.len()
            )
            .into(),
        ));
    }
    Ok(())
}

/// Events per page when reading the log through.
const PAGE: i64 = 5000;

/// Chains the events stored before the chain existed (migration 20), in `seq` order; a
/// no-op once every event has its hash. Runs in one write transaction.
pub(crate) fn backfill(conn: &mut DbConn) -> Result<u64, StoreError> {
    crate::plumbing::locks::hold(conn, crate::plumbing::locks::Lock::Events)?;
    let mut done = 0;
    loop {
        let mut rows: Vec<StoredEvent> = events::table
            .filter(events::hash.is_null())
            .order(events::seq.asc())
            .limit(PAGE)
            .select(StoredEvent::as_select())
            .load(conn)?;
        if rows.is_empty() {
            return Ok(done);
        }
        let current = heads(conn, chains_of(rows.iter().map(|r| r.chain().to_owned())))?;
        link(conn, &mut rows, current)?;
        for row in &rows {
            diesel::update(events::table.find(row.seq))
                .set((
                    events::prev_hash.eq(&row.prev_hash),
                    events::hash.eq(&row.hash),
                ))
                .execute(conn)?;
            done += 1;
        }
    }
}

/// Where the chain is broken, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    /// The chain.
    pub chain: String,
    /// The event where it breaks (for a head that names a missing event: the head's).
    pub seq: i64,
    /// What is wrong.
    pub problem: String,
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Events checked.
    pub events: u64,
    /// The chains seen, with their last event checked and its hash.
    pub chains: BTreeMap<String, (i64, String)>,
    /// The first break in `seq` order, if any.
    pub first_break: Option<ChainBreak>,
}

impl Store {
    /// Checks the chains from event `from` on (1: the whole log): every event's hash is
    /// that of its canonical form after the previous event's hash in its chain, and each
    /// chain ends where `event_chains` says. A chain's first event checked links to the
    /// stored hash of its event before `from`. Stops at the first break.
    pub fn verify_chain(&self, from: i64) -> Result<Verification, StoreError> {
        self.with_read(|conn| {
            let mut found = Verification {
                events: 0,
                chains: BTreeMap::new(),
                first_break: None,
            };
            let mut last: HashMap<String, String> = HashMap::new();
            let mut after = from.saturating_sub(1);
            loop {
                let rows: Vec<StoredEvent> = events::table
                    .filter(events::seq.gt(after))
                    .order(events::seq.asc())
                    .limit(PAGE)
                    .select(StoredEvent::as_select())
                    .load(conn)?;
                let Some(end) = rows.last().map(|r| r.seq) else {
                    break;
                };
                for row in rows {
                    let chain = row.chain().to_owned();
                    let prev = match last.get(&chain) {
                        Some(p) => p.clone(),
                        None => hash_before(conn, row.area_code.as_deref(), row.seq)?,
                    };
                    let problem = match (&row.prev_hash, &row.hash) {
                        (None, _) | (_, None) => Some("the event has no hash (it was never chained)".to_owned()),
                        (Some(p), _) if *p != prev => Some(format!(
                            "its prev_hash is {p}, but the chain's previous event hashes to {prev}: an event before it was deleted, inserted or changed"
                        )),
                        (_, Some(h)) if *h != row.expected_hash(&prev) => Some(
                            "its content does not match its hash: the event was changed after it was recorded".to_owned(),
                        ),
                        _ => None,
                    };
                    if let Some(problem) = problem {
                        found.first_break = Some(ChainBreak {
                            chain,
                            seq: row.seq,
                            problem,
                        });
                        return Ok(found);
                    }
                    let hash = row.hash.unwrap_or_default();
                    found.chains.insert(chain.clone(), (row.seq, hash.clone()));
                    last.insert(chain, hash);
                    found.events += 1;
                }
                after = end;
            }
            found.first_break = head_mismatch(conn, &found.chains, from)?;
            Ok(found)
        })
    }

    /// Records, once a day, the head of each chain as it stood at the end of the day before
    /// (China Standard Time): `audit.chain_head`, in the chain itself, naming the chain's last
    /// event of that day and its hash. A chain with nothing new since its last recorded head
    /// gets none. The heads are daily anchors a regulator can copy out of the system, so that
    /// rewriting the log afterwards would also have to rewrite every copy. Returns how many
    /// heads were recorded. Safe to call from several nodes: the check runs under the events
    /// lock, in a transaction of its own.
    pub fn record_chain_heads(&self, today: NaiveDate) -> Result<usize, StoreError> {
        let start_of_today = crate::china_day_start(today);
        self.with_own_write_tx(move |tx| {
            crate::plumbing::locks::hold(tx, crate::plumbing::locks::Lock::Events)?;
            let chains = event_chains::table
                .order(event_chains::chain.asc())
                .select(event_chains::chain)
                .load::<String>(&mut **tx)?;
            let mut recorded = 0;
            for chain in chains {
                let area_code = (chain != CITY_CHAIN).then(|| chain.clone());
                let q = events::table
                    .filter(events::occurred_at.lt(start_of_today))
                    .order(events::seq.desc())
                    .select((events::seq, events::event_type, events::hash))
                    .into_boxed();
                let Some((seq, event_type, Some(hash))) = in_chain(q, &chain)
                    .first::<(i64, String, Option<String>)>(&mut **tx)
                    .optional()?
                else {
                    continue;
                };
                if event_type == EventType::ChainHeadRecorded.as_str() {
                    continue;
                }
                tx.record(NewEvent {
                    actor: Actor::command_line(),
                    resource_id: chain.clone(),
                    area_code,
                    enterprise_id: None,
                    data: EventData::ChainHeadRecorded(ChainHeadFields {
                        chain,
                        recorded_on: today.to_string(),
                        seq,
                        hash,
                    }),
                    reason: None,
                })?;
                recorded += 1;
            }
            Ok(recorded)
        })
    }

    /// The heads of every chain.
    pub fn chain_heads(&self) -> Result<Vec<ChainHead>, StoreError> {
        self.with_read(|conn| {
            Ok(event_chains::table
                .order(event_chains::chain.asc())
                .load::<ChainHead>(conn)?)
        })
    }

    /// Events of one chain (`Some(chain)`) or of all, with `seq` after `after` and
    /// `occurred_at` in `[from, to)`, in `seq` order, at most `limit`: the export.
    pub fn chained_events(
        &self,
        chain: Option<&str>,
        after: i64,
        (from, to): (Option<NaiveDateTime>, Option<NaiveDateTime>),
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.with_read(|conn| {
            let mut q = events::table
                .filter(events::seq.gt(after))
                .select(StoredEvent::as_select())
                .into_boxed();
            if let Some(chain) = chain {
                q = in_chain(q, chain);
            }
            if let Some(from) = from {
                q = q.filter(events::occurred_at.ge(from));
            }
            if let Some(to) = to {
                q = q.filter(events::occurred_at.lt(to));
            }
            Ok(q.order(events::seq.asc()).limit(limit).load(conn)?)
        })
    }
}

/// A boolean condition on events of either backend.
pub(crate) type EventCondition = Box<
    dyn BoxableExpression<
            events::table,
            DbBackend,
            SqlType = diesel::sql_types::Nullable<diesel::sql_types::Bool>,
        >,
>;

/// The events of `chain`: an area's, or the city chain's (no area).
pub(crate) fn of_chain(chain: &str) -> EventCondition {
    match chain {
        CITY_CHAIN => Box::new(events::area_code.is_null().nullable()),
        area => Box::new(events::area_code.eq(area.to_owned())),
    }
}

/// `q` narrowed to the events of `chain` ([`of_chain`]).
fn in_chain<'a, ST: 'a>(
    q: events::BoxedQuery<'a, DbBackend, ST>,
    chain: &str,
) -> events::BoxedQuery<'a, DbBackend, ST> {
    q.filter(of_chain(chain))
}

/// The stored hash of the last event before `seq` in the chain of `area_code`
/// ([`GENESIS`] if there is none).
fn hash_before(conn: &mut DbConn, area_code: Option<&str>, seq: i64) -> Result<String, StoreError> {
    let q = events::table
        .filter(events::seq.lt(seq))
        .select(events::hash)
        .order(events::seq.desc())
        .into_boxed();
    Ok(in_chain(q, chain_of(area_code))
        .first::<Option<String>>(conn)
        .optional()?
        .flatten()
        .unwrap_or_else(|| GENESIS.to_owned()))
}

/// A chain whose recorded head is not the last event checked: its last events were deleted
/// (or a head was recorded for events that are not there).
fn head_mismatch(
    conn: &mut DbConn,
    seen: &BTreeMap<String, (i64, String)>,
    from: i64,
) -> Result<Option<ChainBreak>, StoreError> {
    let heads = event_chains::table
        .order(event_chains::last_seq.asc())
        .load::<ChainHead>(conn)?;
    for head in heads {
        let matches = match seen.get(&head.chain) {
            Some((seq, hash)) => *seq == head.last_seq && *hash == head.last_hash,
            None => head.last_seq < from,
        };
        if !matches {
            return Ok(Some(ChainBreak {
                problem: format!(
                    "the chain's head names event {} as its last, but the log does not end there: its last events were deleted or changed",
                    head.last_seq
                ),
                chain: head.chain,
                seq: head.last_seq,
            }));
        }
    }
    Ok(None)
}
