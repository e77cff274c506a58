//! The store's clock.

use chrono::{NaiveDate, NaiveDateTime, SubsecRound, Utc};

/// The current instant in UTC, truncated to microseconds (PostgreSQL keeps microseconds,
/// SQLite would keep nanoseconds: both must read back the same value).
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// The first instant (UTC) of `day` in China Standard Time (UTC+8, no daylight saving): the
/// bound of "the events of a day" in China, as regulators count days.
pub fn china_day_start(day: NaiveDate) -> NaiveDateTime {
    day.and_time(chrono::NaiveTime::MIN) - chrono::Duration::hours(8)
}
