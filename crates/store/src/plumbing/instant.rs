//! Reading stored instants cheaply. Diesel decodes a SQLite `TIMESTAMP` (stored as text) by
//! trying several chrono format strings in turn, which showed up at ~8 % of list CPU
//! (docs/BENCHMARKS.md). SafeGrade writes them in one known form, `YYYY-MM-DD HH:MM:SS[.f…]`,
//! so this reads that form directly and falls back to diesel for anything else. PostgreSQL's
//! binary timestamps go through diesel unchanged.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::sql_types::Timestamp;
use diesel::sqlite::Sqlite;

use crate::DbConn;

type MultiBackend = <DbConn as diesel::Connection>::Backend;

/// A stored instant (UTC, without its zone) as the instant it is.
pub(crate) fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(at, Utc)
}

/// A stored instant, decoded as described in the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::deserialize::FromSqlRow)]
pub struct StoredInstant(pub NaiveDateTime);

impl From<StoredInstant> for NaiveDateTime {
    fn from(i: StoredInstant) -> Self {
        i.0
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// Parses `YYYY-MM-DD HH:MM:SS` with an optional `.` and 1–9 fraction digits.
pub fn parse(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(digits(&b[0..4])?).ok()?,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
    )?;
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
            digits(fraction)? * 10u32.pow(u32::try_from(9 - fraction.len()).ok()?)
        }
        _ => return None,
    };
    let time = NaiveTime::from_hms_nano_opt(
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
        nanos,
    )?;
    Some(NaiveDateTime::new(date, time))
}

impl FromSql<Timestamp, Sqlite> for StoredInstant {
    fn from_sql(mut value: diesel::sqlite::SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        if let Some(t) = parse(value.read_text()) {
            return Ok(Self(t));
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Self)
    }
}

impl FromSql<Timestamp, Pg> for StoredInstant {
    fn from_sql(value: diesel::pg::PgValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Self)
    }
}

impl FromSql<Timestamp, MultiBackend> for StoredInstant {
    fn from_sql(
        value: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn reads_the_stored_forms() {
        let t = |s: &str| parse(s).map(|t| t.to_string());
        assert_eq!(
            t("2026-11-28 13:40:45.208783").as_deref(),
            Some("2026-11-28 13:40:45.208783")
        );
        assert_eq!(
            t("2026-11-28 13:40:45").as_deref(),
            Some("2026-11-28 13:40:45")
        );
        assert_eq!(
            t("2026-11-28 13:40:45.2").as_deref(),
            Some("2026-11-28 13:40:45.200")
        );
        for bad in [
            "2026-11-28T13:40:45",
            "2026-13-28 13:40:45",
            "2026-11-28 13:40",
            "2026-11-28 13:40:45.",
            "2026-11-28 13:40:45.1234567890",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
