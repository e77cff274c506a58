//! Instants on the wire: RFC 3339 in UTC with exactly six fractional digits
//! (`2026-11-28T13:40:45.208783Z`), written without chrono's general formatter, which showed
//! up in list profiles (docs/BENCHMARKS.md). Storage keeps microseconds, so nothing is lost.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serializer;

/// `t` as the 27 ASCII bytes of `YYYY-MM-DDTHH:MM:SS.ffffffZ` (years 0–9999).
fn encode(t: &DateTime<Utc>) -> [u8; 27] {
    let mut buf = [b'0'; 27];
    let mut put = |at: usize, value: u32, width: usize| {
        let mut v = value;
        for i in (0..width).rev() {
            buf[at + i] = b'0' + u8::try_from(v % 10).unwrap_or(0);
            v /= 10;
        }
    };
    put(0, u32::try_from(t.year()).unwrap_or(0), 4);
    put(5, t.month(), 2);
    put(8, t.day(), 2);
    put(11, t.hour(), 2);
    put(14, t.minute(), 2);
    put(17, t.second(), 2);
    put(20, t.nanosecond() / 1_000 % 1_000_000, 6);
    buf[4] = b'-';
    buf[7] = b'-';
    buf[10] = b'T';
    buf[13] = b':';
    buf[16] = b':';
    buf[19] = b'.';
    buf[26] = b'Z';
    buf
}

/// Writes `t` as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
pub fn format(t: &DateTime<Utc>) -> String {
    String::from_utf8_lossy(&encode(t)).into_owned()
}

/// `serialize_with` for `DateTime<Utc>` fields.
pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let buf = encode(t);
    s.serialize_str(std::str::from_utf8(&buf).map_err(serde::ser::Error::custom)?)
}

/// `serialize_with` for optional `DateTime<Utc>` fields (`null` when absent).
pub fn serialize_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => serialize(t, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    #[test]
    fn six_fraction_digits_and_a_z() {
        let t = Utc
            .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
            .single()
            .unwrap_or_default();
        assert_eq!(super::format(&t), "2026-01-02T03:04:05.000000Z");
        let t = t + chrono::Duration::microseconds(208_783);
        assert_eq!(super::format(&t), "2026-01-02T03:04:05.208783Z");
        assert!(chrono::DateTime::parse_from_rfc3339(&super::format(&t)).is_ok());
    }
}
