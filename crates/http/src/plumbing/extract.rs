//! Typed extractors for the API conventions, implemented once and used by every operation:
//! the JSON object body (with the NUL check), `If-Match`, `Idempotency-Key`. The conventions
//! are described in `docs/API-DESIGN.md`; `tests/api/conventions.rs` checks every operation
//! of the spec against them.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderMap};
use actix_web::{FromRequest, HttpRequest, web};
use safegrade_domain::{Violation, ViolationCode};
use serde_json::{Map, Value};

use crate::plumbing::error::{ApiError, ErrorCode};

/// A request body that is a JSON object (`application/json` or
/// `application/merge-patch+json`, at most 64 KiB), in which no string holds U+0000: a NUL
/// is refused with a 422 naming every member that holds one, the same on both backends
/// (PostgreSQL cannot store it).
#[derive(Debug, Clone)]
pub struct JsonObject(pub Map<String, Value>);

impl JsonObject {
    /// The members.
    pub fn into_inner(self) -> Map<String, Value> {
        self.0
    }
}

impl std::ops::Deref for JsonObject {
    type Target = Map<String, Value>;
    fn deref(&self) -> &Map<String, Value> {
        &self.0
    }
}

/// JSON Pointers (RFC 6901) of every string (key or value) under `v` that holds U+0000.
fn nul_pointers(v: &Value, at: &str, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.contains('\0') => out.push(at.to_owned()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                nul_pointers(item, &format!("{at}/{i}"), out);
            }
        }
        Value::Object(map) => nul_members(map, at, out),
        _ => {}
    }
}

/// The same for the members of an object at `at` (a key holding U+0000 names the member).
fn nul_members(map: &Map<String, Value>, at: &str, out: &mut Vec<String>) {
    for (k, item) in map {
        let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
        if k.contains('\0') {
            out.push(here);
        } else {
            nul_pointers(item, &here, out);
        }
    }
}

/// The 422 for a body holding NUL characters, or `None`.
pub(crate) fn refuse_nul(body: &Map<String, Value>) -> Option<ApiError> {
    let mut at = Vec::new();
    nul_members(body, "", &mut at);
    if at.is_empty() {
        return None;
    }
    Some(ApiError::invalid(
        at.into_iter()
            .map(|pointer| Violation {
                message: format!("{pointer} 含有空字符（U+0000），无法保存"),
                pointer,
                code: ViolationCode::NulCharacter,
            })
            .collect(),
    ))
}

impl FromRequest for JsonObject {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // No body at all (no Content-Type, no length) is an empty object: `POST …/tokens`
        // and `…/revocation` need nothing, and clients should not have to send `{}`.
        let empty = !req.headers().contains_key(header::CONTENT_TYPE)
            && req
                .headers()
                .get(header::CONTENT_LENGTH)
                .is_none_or(|l| l.as_bytes() == b"0")
            && !req.headers().contains_key(header::TRANSFER_ENCODING);
        if empty {
            return Box::pin(std::future::ready(Ok(Self(Map::new()))));
        }
        let json = web::Json::<Map<String, Value>>::from_request(req, payload);
        Box::pin(async move {
            let body = json.await?.into_inner();
            match refuse_nul(&body) {
                Some(e) => Err(e.into()),
                None => Ok(Self(body)),
            }
        })
    }
}

/// `If-Match: "<version>"` of a change: `Some(version)`, or `None` when absent or `*`
/// (optional: a client that sends none accepts overwriting a concurrent change). A value of
/// another shape is 400 `invalid_precondition`. A stale version is answered 412 only after
/// the body was validated (a request that could never succeed says why first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfMatch(pub Option<i64>);

impl IfMatch {
    /// Parses the header.
    pub fn parse(headers: &HeaderMap) -> Result<Self, ApiError> {
        let Some(v) = headers.get(header::IF_MATCH) else {
            return Ok(Self(None));
        };
        let bad = || {
            ApiError::new(
                ErrorCode::InvalidPrecondition,
                "If-Match must be the ETag of the record, like \"3\", or *",
            )
        };
        let s = v.to_str().map_err(|_| bad())?.trim();
        if s == "*" {
            return Ok(Self(None));
        }
        s.strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
            .filter(|n| !n.is_empty() && n.len() <= 18 && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse().ok())
            .map(|n| Self(Some(n)))
            .ok_or_else(bad)
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Self::parse(req.headers()))
    }
}

/// The `Idempotency-Key` of a POST, if any: 1–255 visible ASCII characters, else 400
/// `invalid_idempotency_key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(pub Option<String>);

impl IdempotencyKey {
    /// Parses the header.
    pub fn parse(headers: &HeaderMap) -> Result<Self, ApiError> {
        let Some(v) = headers.get("idempotency-key") else {
            return Ok(Self(None));
        };
        match v.to_str() {
            Ok(s) if !s.is_empty() && s.len() <= 255 && s.bytes().all(|b| b.is_ascii_graphic()) => {
                Ok(Self(Some(s.to_owned())))
            }
            _ => Err(ApiError::new(
                ErrorCode::InvalidIdempotencyKey,
                "Idempotency-Key must be 1-255 visible ASCII characters",
            )),
        }
    }
}

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Self::parse(req.headers()))
    }
}

/// An id type that names records in paths.
pub trait RecordId: Sized {
    /// What it names, for the 400 detail ("an enterprise").
    const KIND: &'static str;
    /// Parses the path segment.
    fn parse_segment(raw: &str) -> Option<Self>;
}

macro_rules! record_ids {
    ($($t:ty => $kind:literal),+ $(,)?) => {$(
        impl RecordId for $t {
            const KIND: &'static str = $kind;
            fn parse_segment(raw: &str) -> Option<Self> {
                <$t>::parse(raw)
            }
        }
    )+};
}

record_ids!(
    safegrade_domain::EnterpriseId => "an enterprise",
    safegrade_domain::CertificateId => "a certificate",
    safegrade_domain::StandardId => "a standard",
    safegrade_domain::AssessmentId => "an assessment",
    safegrade_domain::GradingId => "a grading application",
    safegrade_domain::HazardId => "a hazard",
    safegrade_domain::RiskUnitId => "a risk analysis unit",
    safegrade_domain::RiskId => "a risk",
    safegrade_domain::TaskId => "an inspection task",
    safegrade_domain::ChecklistId => "a list",
    safegrade_domain::PrincipalId => "a principal",
    safegrade_domain::TokenId => "a token",
    safegrade_domain::JobId => "an import",
    safegrade_domain::WebhookId => "a webhook",
    safegrade_domain::DeliveryId => "a delivery",
);

/// The record id in the path (`{id}`): the parsed id and the segment as sent (for the 404
/// detail), or 400 `invalid_path` naming what it should have been.
#[derive(Debug, Clone)]
pub struct PathId<T>(pub T, pub String);

impl<T: RecordId> PathId<T> {
    /// Parses `raw` as an id of `T`.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        T::parse_segment(raw)
            .map(|id| Self(id, raw.to_owned()))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidPath,
                    format!("'{raw}' is not {} id", T::KIND),
                )
            })
    }
}

/// The record and the step of a transition path (`/…/{id}/{step}`), for a caller whose role
/// may take that step (`may` asks the domain's rule with the role and the read-only flag): 400
/// `invalid_path` for a bad id or an unknown step, 403 naming the step otherwise.
pub fn step_path<T, S>(
    (raw, step): (String, String),
    caller: &crate::plumbing::auth::Caller,
    may: impl FnOnce(safegrade_domain::Role, bool, S) -> bool,
) -> Result<(PathId<T>, S), ApiError>
where
    T: RecordId,
    S: std::str::FromStr + safegrade_domain::CodeList,
    S::Err: std::fmt::Display,
{
    let id = PathId::<T>::parse(&raw)?;
    let kind = step
        .parse::<S>()
        .map_err(|e| ApiError::new(ErrorCode::InvalidPath, e.to_string()))?;
    let d = &caller.principal.data;
    if may(d.role, d.read_only, kind) {
        Ok((id, kind))
    } else {
        Err(caller.forbidden(&format!("不能办理“{}”", kind.label_zh())))
    }
}

impl<T: RecordId> FromRequest for PathId<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Self::parse(req.match_info().get("id").unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    #[test]
    fn if_match_forms() {
        let parse = |v: &'static str| {
            let mut m = HeaderMap::new();
            m.insert(header::IF_MATCH, HeaderValue::from_static(v));
            IfMatch::parse(&m).map(|m| m.0).map_err(|e| e.code)
        };
        assert_eq!(parse("\"3\""), Ok(Some(3)));
        assert_eq!(parse("*"), Ok(None));
        for bad in [
            "3",
            "\"\"",
            "\"-1\"",
            "\"+1\"",
            "W/\"3\"",
            "\"1234567890123456789\"",
        ] {
            assert_eq!(parse(bad), Err(ErrorCode::InvalidPrecondition), "{bad}");
        }
        assert_eq!(
            IfMatch::parse(&HeaderMap::new())
                .map(|m| m.0)
                .map_err(|e| e.code),
            Ok(None)
        );
    }

    #[test]
    fn path_ids_say_what_they_should_be() {
        let e = PathId::<safegrade_domain::CertificateId>::parse("x")
            .map(|p| p.0)
            .err();
        assert_eq!(e.as_ref().map(|e| e.code), Some(ErrorCode::InvalidPath));
        assert_eq!(
            e.map(|e| e.detail).as_deref(),
            Some("'x' is not a certificate id")
        );
    }

    #[test]
    fn nul_is_found_anywhere() {
        let body = serde_json::json!({"a": "x\u{0}", "b": ["ok", {"c/d": "\u{0}"}], "e": 1});
        let Value::Object(map) = body else {
            panic!("object")
        };
        let Some(e) = refuse_nul(&map) else {
            panic!("refused")
        };
        let at: Vec<&str> = e.errors.iter().map(|f| f.pointer.as_str()).collect();
        assert_eq!(at, ["/a", "/b/1/c~1d"]);
        assert!(
            e.errors
                .iter()
                .all(|f| f.code == ViolationCode::NulCharacter)
        );
    }
}
