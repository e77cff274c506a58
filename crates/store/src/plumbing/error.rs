//! Storage errors, mapped once from diesel and r2d2.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use safegrade_domain::Refusal;
use safegrade_domain::grading::CertificateRefusal;

/// The unique constraints whose violation means something to a caller, parsed once from the
/// constraint name (PostgreSQL) or the message (SQLite).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    /// `credit_codes_credit_code_key` (the lookup table's key, docs/adr/0007), or
    /// `enterprises_credit_code_key` (SQLite keeps that one too): another enterprise has this
    /// credit code.
    EnterpriseCreditCode,
    /// `certificates_number_key`: another certificate has this number.
    CertificateNumber,
    /// `standards_code_key`: this version of this standard is stored already.
    StandardVersion,
    /// `idempotency_keys_pkey`: another request with the same key is committing right now.
    IdempotencyKey,
    /// Any other constraint (a defect: the code should have prevented it).
    Other(String),
}

impl Constraint {
    /// The constraint of this name.
    pub fn from_name(name: &str) -> Self {
        match name {
            "credit_codes_credit_code_key" | "enterprises_credit_code_key" => {
                Self::EnterpriseCreditCode
            }
            "certificates_number_key" => Self::CertificateNumber,
            "standards_code_key" => Self::StandardVersion,
            "idempotency_keys_pkey" | "idempotency_keys_scope_key" => Self::IdempotencyKey,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl From<CertificateRefusal> for StoreError {
    fn from(r: CertificateRefusal) -> Self {
        Self::Refused(Refusal::Certificate(r))
    }
}

/// What went wrong in storage, in terms the HTTP layer can answer honestly.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such record.
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write, named once from the database's constraint
    /// (the same on both backends).
    #[error("conflict on {0:?}")]
    Conflict(Constraint),
    /// The record changed since the version the caller based its change on.
    #[error("version mismatch: the record is at version {current}")]
    VersionMismatch {
        /// The record's current version.
        current: i64,
    },
    /// The database is busy (SQLite lock timeout); retrying may succeed.
    #[error("database busy")]
    Busy(#[source] DieselError),
    /// The database cannot be reached (pool timeout, closed connection).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The input names a record that does not exist (`field` is the input field).
    #[error("{field} names no existing record")]
    MissingReference {
        /// The input field, like `enterprise_id`.
        field: &'static str,
    },
    /// A rule of the domain refused the change.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The input does not fit what is stored (results for items the standard lacks, a
    /// standard that does not apply to the enterprise): field violations, as a 422.
    #[error("invalid input: {0:?}")]
    Invalid(Vec<safegrade_domain::Violation>),
    /// Anything else.
    #[error("database error")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Maps SQLite's "UNIQUE constraint failed: enterprises.credit_code" to the PostgreSQL-style
/// name `enterprises_credit_code_key`, so callers match one name on both backends.
fn sqlite_constraint(message: &str) -> Option<String> {
    let cols = message.strip_prefix("UNIQUE constraint failed: ")?;
    let first = cols.split(", ").next()?;
    let (table, column) = first.split_once('.')?;
    Some(format!("{table}_{column}_key"))
}

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => Self::NotFound,
            DieselError::DatabaseError(kind, info) => {
                let message = info.message().to_owned();
                match kind {
                    DatabaseErrorKind::UniqueViolation | DatabaseErrorKind::ForeignKeyViolation => {
                        let constraint = info
                            .constraint_name()
                            .map(str::to_owned)
                            .or_else(|| sqlite_constraint(&message))
                            .unwrap_or(message);
                        Self::Conflict(Constraint::from_name(&constraint))
                    }
                    DatabaseErrorKind::ClosedConnection => Self::Unavailable(message),
                    // The server went away or is going (shutdown, restart, failover,
                    // `pg_terminate_backend`): a retry on a fresh connection may succeed.
                    _ if connection_lost(&message) => Self::Unavailable(message),
                    // SQLite lock timeouts, and on PostgreSQL a deadlock or serialization
                    // failure between writer threads: retrying succeeds, so 503 + Retry-After.
                    DatabaseErrorKind::SerializationFailure => {
                        Self::Busy(DieselError::DatabaseError(kind, info))
                    }
                    _ if message.contains("database is locked")
                        || message.contains("busy")
                        || message.contains("deadlock detected") =>
                    {
                        Self::Busy(DieselError::DatabaseError(kind, info))
                    }
                    _ => Self::Other(Box::new(DieselError::DatabaseError(kind, info))),
                }
            }
            DieselError::BrokenTransactionManager => {
                Self::Unavailable("the connection's transaction state was lost".into())
            }
            other => Self::Other(Box::new(other)),
        }
    }
}

/// Whether a database error message says the connection was lost or the server is
/// unavailable (PostgreSQL SQLSTATE classes 08 and 57P0x, in libpq's words).
fn connection_lost(message: &str) -> bool {
    const SIGNS: [&str; 8] = [
        "terminating connection",
        "server closed the connection",
        "the database system is shutting down",
        "the database system is starting up",
        "the database system is in recovery mode",
        "no connection to the server",
        "could not connect to server",
        "connection to server",
    ];
    SIGNS.iter().any(|s| message.contains(s))
}

/// `VersionMismatch` unless `if_match` is absent or names `current` (optimistic concurrency,
/// docs/API-DESIGN.md, Writes).
pub fn check_version(if_match: Option<i64>, current: i64) -> Result<(), StoreError> {
    match if_match {
        Some(v) if v != current => Err(StoreError::VersionMismatch { current }),
        _ => Ok(()),
    }
}

/// The outcome of a write guarded by the version that was read (`WHERE version = read`):
/// one row written, or `VersionMismatch` (a change committed meanwhile, possibly on another
/// node; the record is at least at `read + 1`).
pub fn written_once(rows: usize, read: i64) -> Result<(), StoreError> {
    if rows == 1 {
        Ok(())
    } else {
        Err(StoreError::VersionMismatch { current: read + 1 })
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> Self {
        Self::Unavailable(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_connection_is_unavailable_not_internal() {
        for message in [
            "terminating connection due to administrator command",
            "FATAL:  the database system is shutting down",
            "server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally",
            "no connection to the server",
            "connection to server at \"127.0.0.1\", port 5432 failed: Connection refused",
        ] {
            let e = StoreError::from(DieselError::DatabaseError(
                DatabaseErrorKind::Unknown,
                Box::new(message.to_owned()),
            ));
            assert!(matches!(e, StoreError::Unavailable(_)), "{message}: {e:?}");
        }
        let other = StoreError::from(DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("syntax error at or near \"SELEC\"".to_owned()),
        ));
        assert!(matches!(other, StoreError::Other(_)), "{other:?}");
        assert!(matches!(
            StoreError::from(DieselError::BrokenTransactionManager),
            StoreError::Unavailable(_)
        ));
    }

    #[test]
    fn sqlite_unique_message_becomes_constraint_name() {
        assert_eq!(
            sqlite_constraint("UNIQUE constraint failed: enterprises.credit_code").as_deref(),
            Some("enterprises_credit_code_key")
        );
        assert_eq!(sqlite_constraint("FOREIGN KEY constraint failed"), None);
    }
}
