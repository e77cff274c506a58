//! Transaction-scoped locks on PostgreSQL, one place for their keys. SQLite needs none: its
//! single writer thread already runs one transaction at a time.
//!
//! A lock is held until the writer's batch commits or rolls back, so a check made under it
//! (how many enabled administrators are left, the next event `seq`) cannot be raced by a
//! writer on another thread or another node.
//!
//! Order: a job in a batch may take `Bootstrap`, `CityAdmins` or `Applications`; the commit
//! then takes `AttainmentCounts` (shared), `Events` (shared, or exclusively to start a chain)
//! and last the batch's chain locks ([`chain_key`]) in increasing key order. A transaction that takes
//! `AttainmentCounts` or `Events` in its body (a recount, the daily chain heads) runs alone
//! (`Store::with_own_write_tx`), never in a batch, so no two transactions take these locks
//! in opposite orders.

use crate::{DbConn, StoreError};

/// The session-level advisory lock that runs migrations on one node at a time ("SGMIGR");
/// held around the migrations, not a transaction (`crate::plumbing::db::run_migrations`).
pub(crate) const MIGRATIONS: i64 = 0x5347_4d49_4752;

/// What a lock protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lock {
    /// Event appends: held shared by every append, exclusively by the append that starts a
    /// chain and by the transactions that read the whole log under it (the daily chain
    /// heads, the chain backfill) (docs/adr/0004).
    Events,
    /// The first-start bootstrap of a city administrator: once, even when several nodes
    /// start together.
    Bootstrap,
    /// Changes that could leave the city without an enabled `city_admin`.
    CityAdmins,
    /// The attainment counters: held shared by transactions that move them, exclusively
    /// by a recount (`crate::plumbing::counts`).
    AttainmentCounts,
    /// Submitting a grading application: one open application per enterprise, checked
    /// under it (applications are few, so one lock for all is cheap).
    Applications,
}

impl Lock {
    /// The advisory lock key: the lock's name as ASCII bytes.
    pub(crate) fn key(self) -> i64 {
        match self {
            Self::Events => 0x5347_4556_454e_5453,      // "SGEVENTS"
            Self::Bootstrap => 0x5347_424f_4f54,        // "SGBOOT"
            Self::CityAdmins => 0x5347_4144_4d4e,       // "SGADMN"
            Self::Applications => 0x5347_4150_504c,     // "SGAPPL"
            Self::AttainmentCounts => 0x5347_4354_4e54, // "SGCTNT"
        }
    }
}

/// The advisory lock key of the audit chain `chain` ("SGC" and 40 bits of the name's
/// SHA-256): appends to a chain hold it from drawing their `seq` values to their commit, so
/// within a chain `seq` values become visible in order (docs/adr/0004). Two chains sharing a
/// key would only wait for each other.
pub fn chain_key(chain: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(chain.as_bytes());
    digest[..5]
        .iter()
        .fold(0x53_4743_i64, |key, b| (key << 8) | i64::from(*b))
}

/// For each of `keys`, whether nobody held it exclusively: each is tried shared and, if
/// taken, let go at once (a session-level lock, so also inside a transaction). All free on
/// SQLite, where nothing is in flight while a reader looks.
pub(crate) fn free(conn: &mut DbConn, keys: Vec<i64>) -> Result<Vec<bool>, StoreError> {
    match conn {
        DbConn::Postgres(pg) => Ok(diesel::RunQueryDsl::load(TryShared(keys), pg)?),
        DbConn::Sqlite(_) => Ok(vec![true; keys.len()]),
    }
}

/// `pg_try_advisory_lock_shared` of every key, in order, each let go at once.
struct TryShared(Vec<i64>);

crate::plumbing::prepared::cached_by_type!(TryShared);

impl diesel::query_builder::Query for TryShared {
    type SqlType = diesel::sql_types::Bool;
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for TryShared {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        out.push_sql(
            "SELECT CASE WHEN pg_try_advisory_lock_shared(k) \
             THEN pg_advisory_unlock_shared(k) ELSE false END FROM unnest(",
        );
        out.push_bind_param::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(&self.0)?;
        out.push_sql(") WITH ORDINALITY AS t (k, i) ORDER BY i");
        Ok(())
    }
}

/// Takes `lock` until the end of the current transaction (no-op on SQLite).
pub(crate) fn hold(conn: &mut DbConn, lock: Lock) -> Result<(), StoreError> {
    take::<false>(conn, lock)
}

/// Takes `lock` shared until the end of the current transaction (no-op on SQLite): many
/// holders at once, none while someone holds it with [`hold`].
pub(crate) fn hold_shared(conn: &mut DbConn, lock: Lock) -> Result<(), StoreError> {
    take::<true>(conn, lock)
}

fn take<const SHARED: bool>(conn: &mut DbConn, lock: Lock) -> Result<(), StoreError> {
    if let DbConn::Postgres(pg) = conn {
        diesel::RunQueryDsl::execute(Take::<SHARED>(lock.key()), pg)?;
    }
    Ok(())
}

/// `SELECT pg_advisory_xact_lock[_shared](key)`, prepared once per connection
/// ([`crate::plumbing::prepared`]): locks are taken in every write transaction that moves
/// counters or appends events.
struct Take<const SHARED: bool>(i64);

crate::plumbing::prepared::cached_by_type!([const SHARED: bool] Take<SHARED>);

impl<const SHARED: bool> diesel::query_builder::QueryFragment<diesel::pg::Pg> for Take<SHARED> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        out.push_sql(if SHARED {
            "SELECT pg_advisory_xact_lock_shared("
        } else {
            "SELECT pg_advisory_xact_lock("
        });
        out.push_bind_param::<diesel::sql_types::BigInt, _>(&self.0)?;
        out.push_sql(")");
        Ok(())
    }
}
