//! Storage errors, mapped once from diesel and r2d2.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// What went wrong in storage, in terms the HTTP layer can answer honestly.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such record.
    #[error("not found")]
    NotFound,
    /// A unique or foreign-key constraint refused the write; `constraint` is the
    /// constraint's name (`enterprises_credit_code_key`), the same on both backends.
    #[error("conflict on {constraint}")]
    Conflict {
        /// Constraint name.
        constraint: String,
    },
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
    /// A rule refused the change (`rule` names it, like `regrade_barred`).
    #[error("{detail}")]
    Refused {
        /// The rule.
        rule: &'static str,
        /// What the caller should know, including any date that matters.
        detail: String,
    },
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
                        Self::Conflict { constraint }
                    }
                    DatabaseErrorKind::ClosedConnection => Self::Unavailable(message),
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
            other => Self::Other(Box::new(other)),
        }
    }
}

/// `VersionMismatch` unless `if_match` is absent or names `current` (optimistic concurrency,
/// `shared/api.md`, Writes).
pub fn check_version(if_match: Option<i64>, current: i64) -> Result<(), StoreError> {
    match if_match {
        Some(v) if v != current => Err(StoreError::VersionMismatch { current }),
        _ => Ok(()),
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
    fn sqlite_unique_message_becomes_constraint_name() {
        assert_eq!(
            sqlite_constraint("UNIQUE constraint failed: enterprises.credit_code").as_deref(),
            Some("enterprises_credit_code_key")
        );
        assert_eq!(sqlite_constraint("FOREIGN KEY constraint failed"), None);
    }
}
