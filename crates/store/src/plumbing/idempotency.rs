//! Stored answers for `Idempotency-Key` (docs/API-DESIGN.md, Writes): the same key and body
//! replays the first answer; the same key with another body is refused.
//!
//! A write with a key first *claims* it (inserts a placeholder row in its own transaction),
//! then does its work, then completes the row with its answer. A second request with the
//! same key at the same moment, on another writer thread or another node, waits on the
//! claim's uncommitted row (PostgreSQL) and then finds the committed answer: requests are
//! serialised on the key, never on whatever record they create. On SQLite the single writer
//! serialises them anyway. Answers expire after [`RETENTION_HOURS`] and are purged.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::now;
use crate::plumbing::schema::idempotency_keys;
use crate::{DbConn, Store, StoreError};

/// How long a stored answer is kept and replayed: 24 hours, long enough for any client's
/// retries, short enough that the table stays small.
pub const RETENTION_HOURS: i64 = 24;

/// The first answer given to a request with an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// The request body it answered (canonical JSON text).
    pub request_hash: String,
    /// HTTP status.
    pub status: u16,
    /// `Location` header, if any.
    pub location: Option<String>,
    /// Response body.
    pub body: String,
}

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new: this request goes ahead and must [`complete`] it.
    Claimed,
    /// The key was answered before (possibly by a request that committed while this one
    /// waited): replay this answer, or refuse if the bodies differ.
    Answered(StoredResponse),
}

fn cutoff() -> NaiveDateTime {
    now() - Duration::hours(RETENTION_HOURS)
}

/// The live stored answer for `key` in `scope` (method, path and principal), if any.
pub fn find_response(
    conn: &mut DbConn,
    scope: &str,
    key: &str,
) -> Result<Option<StoredResponse>, StoreError> {
    let row: Option<(String, i32, Option<String>, String)> = idempotency_keys::table
        .find((scope, key))
        .filter(idempotency_keys::created_at.ge(cutoff()))
        .filter(idempotency_keys::status.gt(0))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::status,
            idempotency_keys::location,
            idempotency_keys::body,
        ))
        .first(conn)
        .optional()?;
    Ok(
        row.map(|(request_hash, status, location, body)| StoredResponse {
            request_hash,
            status: u16::try_from(status).unwrap_or(500),
            location,
            body,
        }),
    )
}

/// Claims `key` in `scope` for a request with body `request`, in the caller's write
/// transaction: an expired answer is dropped first; a concurrent claim is waited for.
pub fn claim(
    conn: &mut DbConn,
    scope: &str,
    key: &str,
    request: &str,
) -> Result<Claim, StoreError> {
    if let Some(previous) = find_response(conn, scope, key)? {
        return Ok(Claim::Answered(previous));
    }
    diesel::delete(idempotency_keys::table.find((scope, key)))
        .filter(idempotency_keys::created_at.lt(cutoff()))
        .execute(conn)?;
    let row = (
        idempotency_keys::scope.eq(scope),
        idempotency_keys::key.eq(key),
        idempotency_keys::request_hash.eq(request),
        idempotency_keys::status.eq(0),
        idempotency_keys::location.eq(None::<String>),
        idempotency_keys::body.eq(""),
        idempotency_keys::created_at.eq(now()),
    );
    // ON CONFLICT DO NOTHING waits for a concurrent claim of the same key to commit (or
    // roll back) and then inserts nothing (or the row), without failing the transaction.
    let inserted = crate::on_backend!(conn, c => diesel::insert_into(idempotency_keys::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c)?);
    if inserted == 1 {
        return Ok(Claim::Claimed);
    }
    match find_response(conn, scope, key)? {
        Some(previous) => Ok(Claim::Answered(previous)),
        // The other request's claim is still there but unanswered: it cannot be, since a
        // claim commits with its answer; treat it as busy and let the client retry.
        None => Err(StoreError::Unavailable(
            "another request with this Idempotency-Key is in progress".into(),
        )),
    }
}

/// Stores the answer of a claimed key, in the same write transaction as the change.
pub fn complete(
    conn: &mut DbConn,
    scope: &str,
    key: &str,
    response: &StoredResponse,
) -> Result<(), StoreError> {
    diesel::update(idempotency_keys::table.find((scope, key)))
        .set((
            idempotency_keys::request_hash.eq(&response.request_hash),
            idempotency_keys::status.eq(i32::from(response.status)),
            idempotency_keys::location.eq(&response.location),
            idempotency_keys::body.eq(&response.body),
        ))
        .execute(conn)?;
    Ok(())
}

impl Store {
    /// Deletes the stored answers older than [`RETENTION_HOURS`]; returns how many. The
    /// server calls it hourly.
    pub fn purge_idempotency_keys(&self) -> Result<usize, StoreError> {
        self.with_write_tx(|tx| {
            Ok(diesel::delete(idempotency_keys::table)
                .filter(idempotency_keys::created_at.lt(cutoff()))
                .execute(&mut **tx)?)
        })
    }
}
