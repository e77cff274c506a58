//! Typed reading of one member of a JSON request body, for the handlers that take bodies as
//! maps so every field error is reported at once (422 with one entry per field): `null` is
//! "absent", a value of the wrong JSON type is an `invalid_type` violation at that member.

use safegrade_domain::{Violation, ViolationCode};
use serde_json::{Map, Value};

fn type_error(key: &str, expected: &str) -> Violation {
    Violation::field(
        key,
        ViolationCode::InvalidType,
        format!("{key} 须为{expected}"),
    )
}

/// A string member.
pub fn text(key: &str, v: &Value) -> Result<Option<String>, Violation> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(type_error(key, "字符串")),
    }
}

/// An integer member.
pub fn integer(key: &str, v: &Value) -> Result<Option<i64>, Violation> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n.as_i64().map(Some).ok_or_else(|| type_error(key, "整数")),
        _ => Err(type_error(key, "整数")),
    }
}

/// A number member.
pub fn number(key: &str, v: &Value) -> Result<Option<f64>, Violation> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n.as_f64().map(Some).ok_or_else(|| type_error(key, "数字")),
        _ => Err(type_error(key, "数字")),
    }
}

/// A boolean member.
pub fn boolean(key: &str, v: &Value) -> Result<Option<bool>, Violation> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        _ => Err(type_error(key, " true 或 false")),
    }
}

/// Reads a body whose members are all strings into named slots; unknown and mistyped members
/// come back as violations (`kind` names the record in Chinese, "督促指导记录").
pub fn texts(
    body: &Map<String, Value>,
    slots: &mut [(&str, &mut Option<String>)],
    kind: &str,
) -> Vec<Violation> {
    let mut errors = Vec::new();
    for (key, v) in body {
        let result = match slots.iter_mut().find(|(name, _)| name == key) {
            Some((_, slot)) => text(key, v).map(|x| **slot = x),
            None => Err(Violation::field(
                key,
                ViolationCode::UnknownField,
                format!("{key} 不是{kind}的字段"),
            )),
        };
        if let Err(e) = result {
            errors.push(e);
        }
    }
    errors
}

/// Longest `reason` on a change, in characters.
pub const MAX_REASON: usize = 500;

/// Takes the optional `reason` member out of a change's body: why the change is made, kept
/// on its event in the audit trail, not a field of the record. Up to [`MAX_REASON`]
/// characters, not blank; trimmed.
pub fn reason(body: &mut Map<String, Value>) -> Result<Option<String>, Violation> {
    let invalid = |code, message: String| Err(Violation::field("reason", code, message));
    match body.remove("reason") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => {
            invalid(ViolationCode::Blank, "reason 不能为空".into())
        }
        Some(Value::String(s)) if s.chars().count() > MAX_REASON => invalid(
            ViolationCode::TooLong,
            format!(
                "reason 有 {} 个字符，最多 {MAX_REASON} 个",
                s.chars().count()
            ),
        ),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(_) => invalid(ViolationCode::InvalidType, "reason 须为字符串".into()),
    }
}

/// A body that may only say why (`reason`), as transitions take it: the reason, or 422 for
/// a bad reason and for any other member (`kind` names the request in Chinese, "吊销请求").
pub fn reason_only(
    body: &Map<String, Value>,
    kind: &str,
) -> Result<Option<String>, crate::plumbing::error::ApiError> {
    let mut members = body.clone();
    let reason = reason(&mut members);
    let mut errors: Vec<Violation> = members
        .keys()
        .map(|k| {
            Violation::field(
                k,
                ViolationCode::UnknownField,
                format!("{k} 不是{kind}的字段"),
            )
        })
        .collect();
    let reason = match reason {
        Ok(r) => r,
        Err(v) => {
            errors.insert(0, v);
            None
        }
    };
    if errors.is_empty() {
        Ok(reason)
    } else {
        Err(crate::plumbing::error::ApiError::invalid(errors))
    }
}
