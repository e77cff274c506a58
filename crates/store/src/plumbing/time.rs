//! The store's clock.

use chrono::{NaiveDateTime, SubsecRound, Utc};

/// The current instant in UTC, truncated to microseconds (PostgreSQL keeps microseconds,
/// SQLite would keep nanoseconds: both must read back the same value).
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}
