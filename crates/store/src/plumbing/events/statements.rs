//! The PostgreSQL statements of an event append, prepared once per connection
//! ([`crate::plumbing::prepared`]): appends run under the events lock, where every parse
//! and plan delays the other writers.

use chrono::NaiveDateTime;
use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment};
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamp};

use crate::plumbing::prepared::{cached_by_type, push_binds};

/// Gives chains their head row if they have none (an empty head, length 0, after
/// `genesis`), then takes the advisory lock `lock`: exclusively when a chain was new, shared
/// otherwise.
pub(crate) struct EnsureHeads {
    pub chains: Vec<String>,
    pub genesis: &'static str,
    pub lock: i64,
}

cached_by_type!(EnsureHeads);

impl QueryFragment<Pg> for EnsureHeads {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "WITH made AS (INSERT INTO event_chains (chain, last_seq, last_hash, length) \
             SELECT chain, 0, ",
        );
        out.push_bind_param::<Text, _>(&self.genesis)?;
        out.push_sql(", 0 FROM unnest(");
        out.push_bind_param::<Array<Text>, _>(&self.chains)?;
        out.push_sql(
            ") AS chain ON CONFLICT (chain) DO NOTHING RETURNING chain) \
             SELECT CASE WHEN EXISTS (SELECT 1 FROM made) THEN pg_advisory_xact_lock(",
        );
        out.push_bind_param::<BigInt, _>(&self.lock)?;
        out.push_sql(") ELSE pg_advisory_xact_lock_shared(");
        out.push_bind_param::<BigInt, _>(&self.lock)?;
        out.push_sql(") END");
        Ok(())
    }
}

/// Takes the advisory locks `locks` (in increasing order, so two appends never wait for each
/// other in a circle), then draws `n` values of the `seq` sequence (rows with a null chain)
/// and reads the heads of `chains` `FOR UPDATE` (rows with their chain).
pub(crate) struct LockDrawHeads {
    pub locks: Vec<i64>,
    pub n: i64,
    pub chains: Vec<String>,
}

cached_by_type!(LockDrawHeads);

/// A row of [`LockDrawHeads`]: a drawn `seq` (the rest null), or a head's last `seq`,
/// chain, last hash and length.
pub(crate) type Drawn = (i64, Option<String>, Option<String>, Option<i64>);

impl Query for LockDrawHeads {
    type SqlType = (BigInt, Nullable<Text>, Nullable<Text>, Nullable<BigInt>);
}

impl QueryFragment<Pg> for LockDrawHeads {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "WITH locked AS MATERIALIZED (SELECT count(pg_advisory_xact_lock(k)) \
             FROM (SELECT k FROM unnest(",
        );
        out.push_bind_param::<Array<BigInt>, _>(&self.locks)?;
        out.push_sql(
            ") AS k ORDER BY k) AS ordered), head AS MATERIALIZED (\
             SELECT c.last_seq, c.chain, c.last_hash, c.length \
             FROM event_chains c, locked WHERE c.chain = ANY(",
        );
        out.push_bind_param::<Array<Text>, _>(&self.chains)?;
        out.push_sql(
            ") ORDER BY c.chain FOR UPDATE OF c) \
             SELECT nextval(pg_get_serial_sequence('events', 'seq')), \
             NULL::text, NULL::text, NULL::bigint \
             FROM generate_series(1, ",
        );
        out.push_bind_param::<BigInt, _>(&self.n)?;
        out.push_sql("), locked UNION ALL SELECT last_seq, chain, last_hash, length FROM head");
        Ok(())
    }
}

/// Inserts events (one array per column, in the events table's column order) and moves
/// their chains' heads, whose rows exist.
#[derive(Default)]
pub(crate) struct InsertLinked {
    pub seq: Vec<i64>,
    pub prev_hash: Vec<Option<String>>,
    pub hash: Vec<Option<String>>,
    pub event_type: Vec<String>,
    pub occurred_at: Vec<NaiveDateTime>,
    pub actor_principal_id: Vec<Option<String>>,
    pub actor_role: Vec<Option<String>>,
    pub request_id: Vec<Option<String>>,
    pub resource_type: Vec<String>,
    pub resource_id: Vec<String>,
    pub area_code: Vec<Option<String>>,
    pub enterprise_id: Vec<Option<String>>,
    pub data: Vec<String>,
    pub reason: Vec<Option<String>>,
    pub head_chain: Vec<String>,
    pub head_last_seq: Vec<i64>,
    pub head_last_hash: Vec<String>,
    pub head_length: Vec<i64>,
}

cached_by_type!(InsertLinked);

impl QueryFragment<Pg> for InsertLinked {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "WITH appended AS (INSERT INTO events (seq, prev_hash, hash, event_type, \
             occurred_at, actor_principal_id, actor_role, request_id, resource_type, \
             resource_id, area_code, enterprise_id, data, reason) SELECT * FROM unnest(",
        );
        push_binds!(
            out,
            Array<BigInt> => &self.seq,
            Array<Nullable<Text>> => &self.prev_hash,
            Array<Nullable<Text>> => &self.hash,
            Array<Text> => &self.event_type,
            Array<Timestamp> => &self.occurred_at,
            Array<Nullable<Text>> => &self.actor_principal_id,
            Array<Nullable<Text>> => &self.actor_role,
            Array<Nullable<Text>> => &self.request_id,
            Array<Text> => &self.resource_type,
            Array<Text> => &self.resource_id,
            Array<Nullable<Text>> => &self.area_code,
            Array<Nullable<Text>> => &self.enterprise_id,
            Array<Text> => &self.data,
            Array<Nullable<Text>> => &self.reason,
        );
        out.push_sql(
            ")) UPDATE event_chains AS c \
             SET last_seq = h.last_seq, last_hash = h.last_hash, length = h.length \
             FROM unnest(",
        );
        push_binds!(
            out,
            Array<Text> => &self.head_chain,
            Array<BigInt> => &self.head_last_seq,
            Array<Text> => &self.head_last_hash,
            Array<BigInt> => &self.head_length,
        );
        out.push_sql(") AS h (chain, last_seq, last_hash, length) WHERE c.chain = h.chain");
        Ok(())
    }
}
