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

/// Reads the members of a JSON object one by one, collecting every violation (pointers under
/// `prefix`, so a nested object reports `/plan/deadline`), and refusing members it was never
/// asked for ([`Reader::finish`]).
#[derive(Debug)]
pub struct Reader<'a> {
    body: &'a Map<String, Value>,
    prefix: String,
    read: Vec<&'static str>,
    /// The violations so far.
    pub errors: Vec<Violation>,
}

impl<'a> Reader<'a> {
    /// A reader of `body`, a top-level object.
    pub fn new(body: &'a Map<String, Value>) -> Self {
        Self::nested(body, "")
    }

    /// A reader of `body` found at `prefix` (like `/plan`).
    pub fn nested(body: &'a Map<String, Value>, prefix: &str) -> Self {
        Self {
            body,
            prefix: prefix.to_owned(),
            read: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn fail(&mut self, key: &str, code: ViolationCode, message: String) {
        self.errors.push(Violation {
            pointer: format!("{}{}", self.prefix, safegrade_domain::pointer_to(key)),
            code,
            message,
        });
    }

    fn get(&mut self, key: &'static str) -> Option<&'a Value> {
        self.read.push(key);
        self.body.get(key).filter(|v| !v.is_null())
    }

    /// A string member, trimmed; blank is absent; at most `max` characters.
    pub fn text(&mut self, key: &'static str, max: usize) -> Option<String> {
        match self.get(key) {
            None => None,
            Some(Value::String(s)) if s.chars().count() > max => {
                self.fail(
                    key,
                    ViolationCode::TooLong,
                    format!("{key} 最多 {max} 个字符"),
                );
                None
            }
            Some(Value::String(s)) => Some(s.trim().to_owned()).filter(|t| !t.is_empty()),
            Some(_) => {
                self.fail(key, ViolationCode::InvalidType, format!("{key} 须为字符串"));
                None
            }
        }
    }

    /// A member that must be given, read by `read` (one of the readers here): absent (or
    /// null) it is reported as required, unless `read` already reported it (`what` says what
    /// it is, in Chinese).
    pub fn required<T>(
        &mut self,
        key: &'static str,
        what: &str,
        read: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<T> {
        let before = self.errors.len();
        let v = read(self);
        if v.is_none() && self.errors.len() == before {
            self.require(key, what);
        }
        v
    }

    /// A string member that must be given (`what` says what it is, in Chinese).
    pub fn required_text(&mut self, key: &'static str, max: usize, what: &str) -> Option<String> {
        self.required(key, what, |r| r.text(key, max))
    }

    /// A date member (`YYYY-MM-DD`).
    pub fn date(&mut self, key: &'static str) -> Option<chrono::NaiveDate> {
        match self.get(key) {
            None => None,
            Some(Value::String(s)) => match s.parse() {
                Ok(d) => Some(d),
                Err(_) => {
                    self.fail(
                        key,
                        ViolationCode::InvalidValue,
                        format!("{key} 须为日期 YYYY-MM-DD，实际为 '{s}'"),
                    );
                    None
                }
            },
            Some(_) => {
                self.fail(
                    key,
                    ViolationCode::InvalidType,
                    format!("{key} 须为字符串（YYYY-MM-DD）"),
                );
                None
            }
        }
    }

    /// A boolean member.
    pub fn flag(&mut self, key: &'static str) -> Option<bool> {
        match self.get(key) {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.fail(
                    key,
                    ViolationCode::InvalidType,
                    format!("{key} 须为 true 或 false"),
                );
                None
            }
        }
    }

    /// An integer member.
    pub fn integer(&mut self, key: &'static str) -> Option<i64> {
        match self.get(key) {
            None => None,
            Some(Value::Number(n)) if n.as_i64().is_some() => n.as_i64(),
            Some(_) => {
                self.fail(key, ViolationCode::InvalidType, format!("{key} 须为整数"));
                None
            }
        }
    }

    /// A member holding a code of list `T`.
    pub fn code<T: std::str::FromStr>(&mut self, key: &'static str) -> Option<T>
    where
        T::Err: std::fmt::Display,
    {
        let raw = self.text(key, 100)?;
        match raw.parse() {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(key, ViolationCode::InvalidValue, format!("{e}"));
                None
            }
        }
    }

    /// A code member from a configured list (`allowed`, the codes in force).
    pub fn one_of(&mut self, key: &'static str, allowed: &[&str]) -> Option<String> {
        let raw = self.text(key, 100)?;
        if allowed.contains(&raw.as_str()) {
            return Some(raw);
        }
        self.fail(
            key,
            ViolationCode::InvalidValue,
            format!("{key} 须为 {} 之一，实际为 '{raw}'", allowed.join("、")),
        );
        None
    }

    /// A record id member (`what` names the record in Chinese), parsed with `parse`.
    pub fn id<T>(
        &mut self,
        key: &'static str,
        what: &str,
        parse: fn(&str) -> Option<T>,
    ) -> Option<T> {
        let raw = self.text(key, 100)?;
        let id = parse(&raw);
        if id.is_none() {
            self.fail(
                key,
                ViolationCode::InvalidValue,
                format!("'{raw}' 不是{what} id"),
            );
        }
        id
    }

    /// A number member.
    pub fn number(&mut self, key: &'static str) -> Option<f64> {
        match self.get(key) {
            None => None,
            Some(Value::Number(n)) => n.as_f64(),
            Some(_) => {
                self.fail(key, ViolationCode::InvalidType, format!("{key} 须为数字"));
                None
            }
        }
    }

    /// An array member.
    pub fn array(&mut self, key: &'static str) -> Option<&'a Vec<Value>> {
        match self.get(key) {
            None => None,
            Some(Value::Array(a)) => Some(a),
            Some(_) => {
                self.fail(key, ViolationCode::InvalidType, format!("{key} 须为数组"));
                None
            }
        }
    }

    /// An object member, for a nested reader.
    pub fn object(&mut self, key: &'static str) -> Option<&'a Map<String, Value>> {
        match self.get(key) {
            None => None,
            Some(Value::Object(o)) => Some(o),
            Some(_) => {
                self.fail(key, ViolationCode::InvalidType, format!("{key} 须为对象"));
                None
            }
        }
    }

    /// Marks `keys` as known: members read elsewhere, not refused by [`Reader::finish`].
    pub fn known(&mut self, keys: &[&'static str]) {
        self.read.extend_from_slice(keys);
    }

    /// A date member not after `today` (a later one is `out_of_range`).
    pub fn date_not_after(
        &mut self,
        key: &'static str,
        today: chrono::NaiveDate,
    ) -> Option<chrono::NaiveDate> {
        let d = self.date(key)?;
        if d > today {
            self.fail(
                key,
                ViolationCode::OutOfRange,
                format!("{key} {d} 晚于今天（{today}）"),
            );
            return None;
        }
        Some(d)
    }

    /// The day a step is taken: `on`, not after `today`; `today` when not given.
    pub fn step_day(&mut self, today: chrono::NaiveDate) -> chrono::NaiveDate {
        self.date_not_after("on", today).unwrap_or(today)
    }

    /// Refuses member `key`, if given, as not applicable here (`why` says why).
    pub fn not_applicable(&mut self, key: &'static str, why: &str) {
        if self.get(key).is_some() {
            self.fail(key, ViolationCode::NotApplicable, format!("{key} {why}"));
        }
    }

    /// Records that `key` must be given.
    pub fn require(&mut self, key: &'static str, what: &str) {
        self.fail(
            key,
            ViolationCode::Required,
            format!("{key} 为必填：{what}"),
        );
    }

    /// Refuses the members never read (`kind` names the record in Chinese) and hands back
    /// every violation.
    pub fn finish(mut self, kind: &str) -> Vec<Violation> {
        let unknown: Vec<String> = self
            .body
            .keys()
            .filter(|k| !self.read.contains(&k.as_str()))
            .cloned()
            .collect();
        for k in unknown {
            self.errors.push(Violation {
                pointer: format!("{}{}", self.prefix, safegrade_domain::pointer_to(&k)),
                code: ViolationCode::UnknownField,
                message: format!("{k} 不是{kind}的字段"),
            });
        }
        self.errors
    }
}
