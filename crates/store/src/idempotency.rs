//! Stored answers for `Idempotency-Key` (see `shared/api.md`, Writes): the same key and body
//! replays the first answer; the same key with another body is refused.

use diesel::prelude::*;

use crate::enterprises::now;
use crate::schema::idempotency_keys;
use crate::{DbConn, StoreError};

/// The first answer given to a request with an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// Hash of the request body it answered.
    pub request_hash: String,
    /// HTTP status.
    pub status: u16,
    /// `Location` header, if any.
    pub location: Option<String>,
    /// Response body.
    pub body: String,
}

/// Looks up the stored answer for `key` in `scope` (method and path).
pub fn find_response(
    conn: &mut DbConn,
    scope: &str,
    key: &str,
) -> Result<Option<StoredResponse>, StoreError> {
    let row: Option<(String, i32, Option<String>, String)> = idempotency_keys::table
        .find((scope, key))
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

/// Stores the answer for `key` in `scope`, in the caller's write transaction.
pub fn save_response(
    conn: &mut DbConn,
    scope: &str,
    key: &str,
    response: &StoredResponse,
) -> Result<(), StoreError> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::scope.eq(scope),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(&response.request_hash),
            idempotency_keys::status.eq(i32::from(response.status)),
            idempotency_keys::location.eq(&response.location),
            idempotency_keys::body.eq(&response.body),
            idempotency_keys::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}
