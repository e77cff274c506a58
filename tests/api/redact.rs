//! insta redactions that check the shape of a value before hiding it.

use insta::internals::{Content, ContentPath};

/// A UUIDv7 id, redacted to `[id]`.
pub fn id(value: Content, _path: ContentPath<'_>) -> &'static str {
    let text = value.as_str().unwrap_or_default();
    let parsed = uuid::Uuid::try_parse(text).unwrap_or_else(|_| panic!("'{text}' is not a UUID"));
    assert_eq!(parsed.get_version_num(), 7, "'{text}' is not a UUIDv7");
    "[id]"
}

/// An RFC 3339 UTC instant (`…Z`), redacted to `[datetime]`.
pub fn datetime(value: Content, _path: ContentPath<'_>) -> &'static str {
    let text = value.as_str().unwrap_or_default();
    assert!(text.ends_with('Z'), "'{text}' is not UTC");
    assert!(
        chrono::DateTime::parse_from_rfc3339(text).is_ok(),
        "'{text}' is not RFC 3339"
    );
    "[datetime]"
}

/// A request id (generated: a UUID), redacted to `[request_id]`.
pub fn request_id(value: Content, _path: ContentPath<'_>) -> &'static str {
    let text = value.as_str().unwrap_or_default();
    assert!(
        uuid::Uuid::try_parse(text).is_ok(),
        "'{text}' is not a generated request id"
    );
    "[request_id]"
}

/// An opaque cursor (URL-safe base64), redacted to `[cursor]`.
pub fn cursor(value: Content, _path: ContentPath<'_>) -> &'static str {
    let text = value.as_str().unwrap_or_default();
    assert!(
        !text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "'{text}' is not a cursor"
    );
    "[cursor]"
}

/// Asserts a JSON snapshot of an enterprise-shaped value, with ids and instants redacted.
#[macro_export]
macro_rules! assert_record_snapshot {
    ($name:expr, $value:expr) => {
        insta::assert_json_snapshot!($name, $value, {
            ".id" => insta::dynamic_redaction($crate::redact::id),
            ".created_at" => insta::dynamic_redaction($crate::redact::datetime),
            ".updated_at" => insta::dynamic_redaction($crate::redact::datetime),
            ".items[].id" => insta::dynamic_redaction($crate::redact::id),
            ".items[].created_at" => insta::dynamic_redaction($crate::redact::datetime),
            ".items[].updated_at" => insta::dynamic_redaction($crate::redact::datetime),
            ".next_cursor" => insta::dynamic_redaction($crate::redact::cursor),
            ".request_id" => insta::dynamic_redaction($crate::redact::request_id),
        })
    };
}
