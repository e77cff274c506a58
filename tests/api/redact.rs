//! insta redactions that check the shape of a value before hiding it.

use insta::internals::{Content, ContentPath};

/// A UUIDv7 id, redacted to `[id]`.
pub fn id(value: Content, _path: ContentPath<'_>) -> &'static str {
    let text = value.as_str().unwrap_or_default();
    let parsed = uuid::Uuid::try_parse(text).unwrap_or_else(|_| panic!("'{text}' is not a UUID"));
    assert_eq!(parsed.get_version_num(), 7, "'{text}' is not a UUIDv7");
    "[id]"
}

/// A UUIDv7 id or null, redacted to `[id]` or kept null.
pub fn maybe_id(value: Content, path: ContentPath<'_>) -> Content {
    if value.as_str().is_some() {
        Content::from(id(value, path))
    } else {
        value
    }
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

/// A request id: a generated one (a UUID) is redacted to `[request_id]`, one the test sent
/// (`req-…`) is kept.
pub fn request_id(value: Content, _path: ContentPath<'_>) -> Content {
    let text = value.as_str().unwrap_or_default();
    if text.starts_with("req-") {
        return value;
    }
    assert!(
        uuid::Uuid::try_parse(text).is_ok(),
        "'{text}' is not a generated request id"
    );
    Content::from("[request_id]")
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

/// An instant or null (`last_used_at`), redacted to `[datetime]` or kept null.
pub fn maybe_datetime(value: Content, path: ContentPath<'_>) -> Content {
    if value.as_str().is_some() {
        Content::from(datetime(value, path))
    } else {
        assert!(
            matches!(value, Content::None | Content::Unit),
            "{value:?} is neither an instant nor null"
        );
        value
    }
}

/// An event position (a positive integer), redacted to `[seq]`.
pub fn seq(value: Content, _path: ContentPath<'_>) -> &'static str {
    assert!(
        value.as_i64().is_some_and(|n| n > 0) || value.as_u64().is_some_and(|n| n > 0),
        "{value:?} is not a seq"
    );
    "[seq]"
}

/// A SafeGrade token (`sg_` and 43 base64url characters), redacted to `[token]`.
pub fn token(value: Content, _path: ContentPath<'_>) -> &'static str {
    let text = value.as_str().unwrap_or_default();
    assert!(
        safegrade_store::access::tokens::looks_like_token(text),
        "'{text}' is not a token"
    );
    "[token]"
}

/// The hint of a token (its first 7 characters), redacted to `[hint]`.
pub fn hint(value: Content, _path: ContentPath<'_>) -> &'static str {
    let text = value.as_str().unwrap_or_default();
    assert!(
        text.len() == 7 && text.starts_with("sg_"),
        "'{text}' is not a token hint"
    );
    "[hint]"
}

/// Asserts a JSON snapshot of an API value (a record, a page, an event, `/me`), with ids,
/// instants and event positions redacted after their shape is checked.
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
            ".seq" => insta::dynamic_redaction($crate::redact::seq),
            ".occurred_at" => insta::dynamic_redaction($crate::redact::datetime),
            ".actor.principal_id" => insta::dynamic_redaction($crate::redact::id),
            ".resource.id" => insta::dynamic_redaction($crate::redact::id),
            ".subject.id" => insta::dynamic_redaction($crate::redact::id),
            ".enterprise_id" => insta::dynamic_redaction($crate::redact::maybe_id),
            ".evaluation.certificates[].certificate_id" => insta::dynamic_redaction($crate::redact::id),
            ".items[].seq" => insta::dynamic_redaction($crate::redact::seq),
            ".items[].occurred_at" => insta::dynamic_redaction($crate::redact::datetime),
            ".items[].actor.principal_id" => insta::dynamic_redaction($crate::redact::id),
            ".items[].resource.id" => insta::dynamic_redaction($crate::redact::id),
            ".next_after" => insta::dynamic_redaction($crate::redact::seq),
            ".principal.id" => insta::dynamic_redaction($crate::redact::id),
            ".principal.created_at" => insta::dynamic_redaction($crate::redact::datetime),
            ".principal.updated_at" => insta::dynamic_redaction($crate::redact::datetime),
            ".token.id" => insta::dynamic_redaction($crate::redact::id),
            ".token.principal_id" => insta::dynamic_redaction($crate::redact::id),
            ".token.created_at" => insta::dynamic_redaction($crate::redact::datetime),
            ".token.hint" => insta::dynamic_redaction($crate::redact::hint),
            ".token.last_used_at" => insta::dynamic_redaction($crate::redact::maybe_datetime),
        })
    };
}
