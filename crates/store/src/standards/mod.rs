//! Grading standards: one row per version with its tree as JSON text (the API's format),
//! immutable once stored; the shipped ones (the GB/T 33000-2016 frame and a demonstration
//! standard) seeded at start-up.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use safegrade_domain::standards::{BUILTIN, Standard, StandardData, StandardInput};
use safegrade_domain::{Actor, StandardId, Violation, ViolationCode};

use crate::now;
use crate::plumbing::events::payload::StandardFields;
use crate::plumbing::events::{EventData, NewEvent};
use crate::plumbing::instant::utc;
use crate::plumbing::schema::standards;
use crate::{DbConn, Store, StoreError, WriteTx};

/// A stored standard version and its record-keeping.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredStandard {
    /// The standard.
    pub standard: Standard,
    /// Shipped with SafeGrade (the frame, the demonstration standard).
    pub builtin: bool,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

/// A standard version without its tree, for lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardSummary {
    /// Id.
    pub id: StandardId,
    /// Code.
    pub code: String,
    /// Version.
    pub version: String,
    /// Title.
    pub title: String,
    /// Full points.
    pub full_points: u32,
    /// Check items.
    pub item_count: u32,
    /// Shipped with SafeGrade.
    pub builtin: bool,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

/// The columns of a list row: id, code, version, title, full points, items, builtin, stored.
type SummaryRow = (
    String,
    String,
    String,
    String,
    i32,
    i32,
    bool,
    NaiveDateTime,
);

fn corrupt(what: &str) -> StoreError {
    StoreError::Other(format!("a stored standard is not valid: {what}").into())
}

/// Parses a standard in the API's JSON format and validates it (the shipped files, the
/// command line's import). Errors name the JSON Pointer of each problem.
pub fn parse(json: &str) -> Result<StandardData, Vec<Violation>> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
        vec![Violation {
            pointer: String::new(),
            code: ViolationCode::InvalidType,
            message: format!(
                "不是合法的 JSON（第 {} 行第 {} 列）：{e}",
                e.line(),
                e.column()
            ),
        }]
    })?;
    from_value(value)
}

/// [`parse`] for a JSON value (an API body). A member of the wrong type or outside the
/// format is reported at its pointer (`/elements/2/sub_elements/0/items/3/points`); the tree
/// is then validated as a whole ([`StandardInput::validate`]).
pub fn from_value(mut value: serde_json::Value) -> Result<StandardData, Vec<Violation>> {
    // Every unknown top-level member at once (the tree's own are reported one at a time).
    let mut unknown = Vec::new();
    if let Some(members) = value.as_object_mut() {
        let names: Vec<String> = members.keys().cloned().collect();
        for name in names {
            if !MEMBERS.contains(&name.as_str()) {
                members.remove(&name);
                unknown.push(Violation::field(
                    &name,
                    ViolationCode::UnknownField,
                    format!("{name} 不是评定标准的字段"),
                ));
            }
        }
    }
    let parsed = parse_members(value);
    match (unknown.is_empty(), parsed) {
        (true, parsed) => parsed,
        (false, Ok(_)) => Err(unknown),
        (false, Err(more)) => Err(unknown.into_iter().chain(more).collect()),
    }
}

/// The top-level members of the format.
pub const MEMBERS: [&str; 11] = [
    "code",
    "version",
    "title",
    "sectors",
    "scales",
    "full_points",
    "thresholds",
    "performance_rule",
    "performance_lookback_months",
    "source",
    "elements",
];

fn parse_members(value: serde_json::Value) -> Result<StandardData, Vec<Violation>> {
    let input: StandardInput = serde_path_to_error::deserialize(value).map_err(|e| {
        let pointer: String = e
            .path()
            .iter()
            .map(|segment| match segment {
                serde_path_to_error::Segment::Seq { index } => format!("/{index}"),
                serde_path_to_error::Segment::Map { key } => safegrade_domain::pointer_to(key),
                _ => String::new(),
            })
            .collect();
        let message = e.inner().to_string();
        let code = if message.starts_with("unknown field") {
            ViolationCode::UnknownField
        } else {
            ViolationCode::InvalidType
        };
        vec![Violation {
            pointer,
            code,
            message: format!("格式不符：{message}"),
        }]
    })?;
    input.validate()
}

fn insert(
    conn: &mut DbConn,
    id: StandardId,
    data: &StandardData,
    builtin: bool,
) -> Result<String, StoreError> {
    let tree = serde_json::to_string(data).map_err(|e| corrupt(&e.to_string()))?;
    diesel::insert_into(standards::table)
        .values((
            standards::id.eq(id.to_string()),
            standards::code.eq(&data.code),
            standards::version.eq(&data.version),
            standards::title.eq(&data.title),
            standards::full_points.eq(i32::try_from(data.full_points).unwrap_or(i32::MAX)),
            standards::item_count.eq(i32::try_from(data.item_count()).unwrap_or(i32::MAX)),
            standards::tree.eq(&tree),
            standards::builtin.eq(builtin),
            standards::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(tree)
}

impl Store {
    /// Stores the shipped standards whose version is not stored yet. Returns how many.
    pub fn sync_standards(&self) -> Result<usize, StoreError> {
        let shipped = BUILTIN
            .iter()
            .map(|json| parse(json).map_err(|v| corrupt(&format!("a shipped standard: {v:?}"))))
            .collect::<Result<Vec<_>, _>>()?;
        self.with_write_tx(move |tx| {
            let conn: &mut DbConn = tx;
            let mut written = 0;
            for data in &shipped {
                let stored: i64 = standards::table
                    .filter(standards::code.eq(&data.code))
                    .filter(standards::version.eq(&data.version))
                    .count()
                    .get_result(conn)?;
                if stored == 0 {
                    insert(conn, StandardId::new(), data, true)?;
                    written += 1;
                }
            }
            Ok(written)
        })
    }

    /// Every stored version, by code then storing order.
    pub fn list_standards(&self) -> Result<Vec<StandardSummary>, StoreError> {
        self.with_read(|conn| {
            let rows: Vec<SummaryRow> = standards::table
                .select((
                    standards::id,
                    standards::code,
                    standards::version,
                    standards::title,
                    standards::full_points,
                    standards::item_count,
                    standards::builtin,
                    standards::created_at,
                ))
                .order((
                    standards::code.asc(),
                    standards::created_at.asc(),
                    standards::id.asc(),
                ))
                .load(conn)?;
            rows.into_iter()
                .map(
                    |(id, code, version, title, full, items, builtin, created_at)| {
                        Ok(StandardSummary {
                            id: StandardId::parse(&id).ok_or_else(|| corrupt("id"))?,
                            code,
                            version,
                            title,
                            full_points: u32::try_from(full).unwrap_or(0),
                            item_count: u32::try_from(items).unwrap_or(0),
                            builtin,
                            created_at: utc(created_at),
                        })
                    },
                )
                .collect()
        })
    }

    /// One version with its tree.
    pub fn get_standard(&self, id: StandardId) -> Result<StoredStandard, StoreError> {
        self.with_read(|conn| load(conn, id))
    }
}

/// Stores a new standard version in `tx` and records `standard.created` (a version stored
/// already is `Conflict(StandardVersion)`). Writers use the key `standard:<code>`.
pub fn create(
    tx: &mut WriteTx<'_>,
    data: &StandardData,
    actor: &Actor,
) -> Result<StoredStandard, StoreError> {
    let id = StandardId::new();
    let tree = insert(tx, id, data, false)?;
    tx.record(NewEvent {
        actor: actor.clone(),
        resource_id: id.to_string(),
        area_code: None,
        enterprise_id: None,
        data: EventData::StandardCreated(StandardFields {
            id: id.to_string(),
            code: data.code.clone(),
            version: data.version.clone(),
            title: data.title.clone(),
            full_points: data.full_points,
            items: data.item_count(),
            tree: serde_json::from_str(&tree).map_err(|e| corrupt(&e.to_string()))?,
        }),
        reason: None,
    })?;
    load(tx, id)
}

/// The writer key of a standard's versions.
pub fn writer_key(data: &StandardData) -> String {
    format!("standard:{}", data.code)
}

fn load(conn: &mut DbConn, id: StandardId) -> Result<StoredStandard, StoreError> {
    let (tree, builtin, created_at): (String, bool, NaiveDateTime) = standards::table
        .find(id.to_string())
        .select((standards::tree, standards::builtin, standards::created_at))
        .first(conn)?;
    let data: StandardData = serde_json::from_str(&tree).map_err(|e| corrupt(&e.to_string()))?;
    Ok(StoredStandard {
        standard: Standard { id, data },
        builtin,
        created_at: utc(created_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_errors_point_at_the_member() {
        let errors = from_value(serde_json::json!({
            "code": "X", "elements": [{"code": "1", "points": "ten", "sub_elements": []}]
        }))
        .err()
        .unwrap_or_default();
        assert_eq!(errors[0].pointer, "/elements/0/points");
        assert_eq!(errors[0].code, ViolationCode::InvalidType);
        let errors = from_value(serde_json::json!({"code": "X", "colour": 1}))
            .err()
            .unwrap_or_default();
        assert_eq!(errors[0].pointer, "/colour");
        assert_eq!(errors[0].code, ViolationCode::UnknownField);
    }

    #[test]
    fn the_shipped_standards_are_valid() {
        let frame = parse(BUILTIN[0]).unwrap_or_else(|v| panic!("{v:?}"));
        assert_eq!(frame.elements.len(), 8, "GB/T 33000-2016 has 8 elements");
        assert_eq!(frame.full_points, 0);
        let demo = parse(BUILTIN[1]).unwrap_or_else(|v| panic!("{v:?}"));
        assert!(demo.title.contains("演示"), "the demonstration is labelled");
        assert_eq!(demo.item_count(), 20);
        assert_eq!(demo.full_points, 179);
    }
}
