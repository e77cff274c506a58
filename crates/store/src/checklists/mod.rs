//! Lists (清单制管理): an enterprise's (or post's) lists are scoped like the enterprise; a
//! government's or department's lists belong to a supervision area and are seen by the
//! regulators of that area and the city. Items are kept as JSON; performance records as rows.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use safegrade_domain::checklists::{ChecklistType, OwnerScope};
use safegrade_domain::{
    Actor, ChecklistId, CodeList, EnterpriseId, Scope, Violation, ViolationCode,
};
use serde::{Deserialize, Serialize};

use crate::now;
use crate::plumbing::events::payload::{ChecklistFields, DutyFields};
use crate::plumbing::events::{EventData, NewEvent};
use crate::plumbing::instant::utc;
use crate::plumbing::jurisdiction::enterprise_area;
use crate::plumbing::schema::{checklist_records, checklists, gradings, hazards, risks};
use crate::{DbConn, Store, StoreError, WriteTx};

fn corrupt(what: &str) -> StoreError {
    StoreError::Other(format!("a stored list is not valid: {what}").into())
}

/// One item of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Its code within the list (unique there).
    pub code: String,
    /// What it says (a duty, a task, a problem, a measure).
    pub text: String,
    /// Who is responsible.
    pub responsible: Option<String>,
    /// How often or by when, as written.
    pub frequency: Option<String>,
    /// The risk it controls (risk lists; the enterprise's).
    pub risk_id: Option<String>,
    /// The hazard it tracks (hazard lists; the enterprise's).
    pub hazard_id: Option<String>,
}

/// What a list says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistData {
    /// Its type.
    pub checklist_type: ChecklistType,
    /// Whose it is.
    pub owner_scope: OwnerScope,
    /// The enterprise (enterprise and post lists).
    pub enterprise_id: Option<EnterpriseId>,
    /// The supervision area (government and department lists; an enterprise list's is its
    /// enterprise's).
    pub area_code: Option<String>,
    /// Title.
    pub title: String,
    /// The owner: the post, the department, the leader.
    pub owner: String,
    /// Items.
    pub items: Vec<Item>,
}

/// A stored list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checklist {
    /// Id.
    pub id: ChecklistId,
    /// Its area.
    pub area_code: String,
    /// The facts.
    pub data: ChecklistData,
    /// Version.
    pub version: i64,
    /// Drawn up at.
    pub created_at: DateTime<Utc>,
}

type Row = (
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    i64,
    NaiveDateTime,
);

const COLUMNS: (
    checklists::id,
    checklists::checklist_type,
    checklists::owner_scope,
    checklists::enterprise_id,
    checklists::area_code,
    checklists::title,
    checklists::owner,
    checklists::items,
    checklists::version,
    checklists::created_at,
) = (
    checklists::id,
    checklists::checklist_type,
    checklists::owner_scope,
    checklists::enterprise_id,
    checklists::area_code,
    checklists::title,
    checklists::owner,
    checklists::items,
    checklists::version,
    checklists::created_at,
);

fn of_row(r: Row) -> Result<Checklist, StoreError> {
    Ok(Checklist {
        id: ChecklistId::parse(&r.0).ok_or_else(|| corrupt("id"))?,
        area_code: r.4.clone(),
        data: ChecklistData {
            checklist_type: ChecklistType::from_code(&r.1).ok_or_else(|| corrupt("type"))?,
            owner_scope: OwnerScope::from_code(&r.2).ok_or_else(|| corrupt("owner scope"))?,
            enterprise_id: r.3.and_then(|e| EnterpriseId::parse(&e)),
            area_code: Some(r.4),
            title: r.5,
            owner: r.6,
            items: serde_json::from_str(&r.7).map_err(|e| corrupt(&e.to_string()))?,
        },
        version: r.8,
        created_at: utc(r.9),
    })
}

/// Whether a list is inside `scope`: an enterprise's like its enterprise; an area's for the
/// regulators of that area and the city.
fn visible(conn: &mut DbConn, c: &Checklist, scope: &Scope) -> Result<bool, StoreError> {
    match (c.data.enterprise_id, scope) {
        (Some(e), _) => Ok(enterprise_area(conn, e, scope).is_ok()),
        (None, Scope::City) => Ok(true),
        (None, Scope::Areas(a)) => Ok(a.contains(&c.area_code)),
        (None, Scope::Enterprise(_) | Scope::Organisation(_)) => Ok(false),
    }
}

fn load(conn: &mut DbConn, id: ChecklistId, scope: &Scope) -> Result<Checklist, StoreError> {
    let row: Row = checklists::table
        .find(id.to_string())
        .select(COLUMNS)
        .first(conn)?;
    let c = of_row(row)?;
    if visible(conn, &c, scope)? {
        Ok(c)
    } else {
        Err(StoreError::NotFound)
    }
}

/// Refuses items whose risk or hazard is not the enterprise's, and repeated codes (422 at
/// the item).
fn check_items(
    conn: &mut DbConn,
    enterprise: Option<EnterpriseId>,
    items: &[Item],
) -> Result<(), StoreError> {
    let mut bad = Vec::new();
    let e = enterprise.map(|e| e.to_string()).unwrap_or_default();
    for (i, item) in items.iter().enumerate() {
        if items[..i].iter().any(|o| o.code == item.code) {
            bad.push(Violation {
                pointer: format!("/items/{i}/code"),
                code: ViolationCode::InvalidValue,
                message: format!("条目编号 {} 重复", item.code),
            });
        }
        if let Some(r) = &item.risk_id {
            let n: i64 = risks::table
                .filter(risks::id.eq(r))
                .filter(risks::enterprise_id.eq(&e))
                .count()
                .get_result(conn)?;
            if n == 0 {
                bad.push(Violation {
                    pointer: format!("/items/{i}/risk_id"),
                    code: ViolationCode::UnknownReference,
                    message: "须为本企业的风险".into(),
                });
            }
        }
        if let Some(h) = &item.hazard_id {
            let n: i64 = hazards::table
                .filter(hazards::id.eq(h))
                .filter(hazards::enterprise_id.eq(&e))
                .count()
                .get_result(conn)?;
            if n == 0 {
                bad.push(Violation {
                    pointer: format!("/items/{i}/hazard_id"),
                    code: ViolationCode::UnknownReference,
                    message: "须为本企业的隐患".into(),
                });
            }
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(bad))
    }
}

/// Draws up a list: an enterprise's inside `scope` (`NotFound` otherwise), or an area's;
/// records `checklist.created`.
pub fn create(
    tx: &mut WriteTx<'_>,
    d: &ChecklistData,
    scope: &Scope,
    actor: &Actor,
) -> Result<Checklist, StoreError> {
    let area = match d.enterprise_id {
        Some(e) => enterprise_area(tx, e, scope)?,
        None => d.area_code.clone().ok_or(StoreError::NotFound)?,
    };
    check_items(tx, d.enterprise_id, &d.items)?;
    let id = ChecklistId::new();
    diesel::insert_into(checklists::table)
        .values((
            checklists::id.eq(id.to_string()),
            checklists::checklist_type.eq(d.checklist_type.as_str()),
            checklists::owner_scope.eq(d.owner_scope.as_str()),
            checklists::enterprise_id.eq(d.enterprise_id.map(|e| e.to_string())),
            checklists::area_code.eq(&area),
            checklists::title.eq(&d.title),
            checklists::owner.eq(&d.owner),
            checklists::items
                .eq(serde_json::to_string(&d.items).map_err(|e| corrupt(&e.to_string()))?),
            checklists::version.eq(1i64),
            checklists::created_at.eq(now()),
        ))
        .execute(&mut **tx)?;
    tx.record(NewEvent {
        actor: actor.clone(),
        resource_id: id.to_string(),
        area_code: Some(area),
        enterprise_id: d.enterprise_id,
        data: EventData::ChecklistCreated(ChecklistFields {
            id: id.to_string(),
            checklist_type: d.checklist_type.as_str().to_owned(),
            owner_scope: d.owner_scope.as_str().to_owned(),
            title: d.title.clone(),
            items: d.items.len(),
        }),
        reason: None,
    })?;
    load(tx, id, scope)
}

/// A performance record (履职记录).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duty {
    /// Id.
    pub id: String,
    /// The item's code.
    pub item_code: String,
    /// Performed on.
    pub performed_on: NaiveDate,
    /// By whom.
    pub performed_by: String,
    /// What was done.
    pub note: Option<String>,
    /// Recorded at.
    pub created_at: DateTime<Utc>,
}

/// One list inside `scope` in the caller's write transaction (`NotFound` otherwise), for a
/// change to it.
pub fn load_for_write(
    tx: &mut WriteTx<'_>,
    id: ChecklistId,
    scope: &Scope,
) -> Result<Checklist, StoreError> {
    load(tx, id, scope)
}

/// Records the performance of an item of list `c` (loaded with [`load_for_write`]; 422 at
/// `item_code` for an item the list does not have); records `checklist.duty_recorded`.
pub fn record_duty(
    tx: &mut WriteTx<'_>,
    c: &Checklist,
    (item_code, performed_on, performed_by, note): (String, NaiveDate, String, Option<String>),
    actor: &Actor,
) -> Result<Duty, StoreError> {
    let list = c.id;
    if !c.data.items.iter().any(|i| i.code == item_code) {
        return Err(StoreError::Invalid(vec![Violation::field(
            "item_code",
            ViolationCode::InvalidValue,
            format!("清单中没有条目 {item_code}"),
        )]));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let at = now();
    diesel::insert_into(checklist_records::table)
        .values((
            checklist_records::id.eq(&id),
            checklist_records::checklist_id.eq(list.to_string()),
            checklist_records::item_code.eq(&item_code),
            checklist_records::performed_on.eq(performed_on),
            checklist_records::performed_by.eq(&performed_by),
            checklist_records::note.eq(&note),
            checklist_records::created_at.eq(at),
            checklist_records::area_code.eq(&c.area_code),
        ))
        .execute(&mut **tx)?;
    tx.record(NewEvent {
        actor: actor.clone(),
        resource_id: list.to_string(),
        area_code: Some(c.area_code.clone()),
        enterprise_id: c.data.enterprise_id,
        data: EventData::DutyRecorded(DutyFields {
            id: id.clone(),
            item_code: item_code.clone(),
            performed_on: performed_on.to_string(),
            performed_by: performed_by.clone(),
        }),
        reason: None,
    })?;
    Ok(Duty {
        id,
        item_code,
        performed_on,
        performed_by,
        note,
        created_at: utc(at),
    })
}

/// Filters of the list of lists.
#[derive(Debug, Clone)]
pub struct ChecklistFilter {
    /// The caller's jurisdiction.
    pub scope: Scope,
    /// Only this area.
    pub area_code: Option<String>,
    /// Only this enterprise's.
    pub enterprise_id: Option<EnterpriseId>,
    /// Only this type.
    pub checklist_type: Option<ChecklistType>,
}

impl Store {
    /// One list inside `scope`.
    pub fn get_checklist(&self, id: ChecklistId, scope: &Scope) -> Result<Checklist, StoreError> {
        self.with_read(|conn| load(conn, id, scope))
    }

    /// The lists matching `filter`, in id order after `after`, at most `limit`.
    pub fn list_checklists(
        &self,
        filter: &ChecklistFilter,
        after: Option<String>,
        limit: i64,
    ) -> Result<Vec<Checklist>, StoreError> {
        self.with_read(|conn| {
            let mut q = checklists::table
                .select(COLUMNS)
                .order(checklists::id.asc())
                .limit(limit)
                .into_boxed();
            q = match &filter.scope {
                Scope::City => q,
                Scope::Areas(a) => q.filter(checklists::area_code.eq_any(a.clone())),
                Scope::Enterprise(e) => q.filter(checklists::enterprise_id.eq(e.to_string())),
                Scope::Organisation(org) => q.filter(
                    checklists::enterprise_id.eq_any(
                        gradings::table
                            .filter(gradings::review_org_id.eq(org.clone()))
                            .select(gradings::enterprise_id.nullable()),
                    ),
                ),
            };
            if let Some(a) = &filter.area_code {
                q = q.filter(checklists::area_code.eq(a.clone()));
            }
            if let Some(e) = filter.enterprise_id {
                q = q.filter(checklists::enterprise_id.eq(e.to_string()));
            }
            if let Some(t) = filter.checklist_type {
                q = q.filter(checklists::checklist_type.eq(t.as_str()));
            }
            if let Some(after) = after {
                q = q.filter(checklists::id.gt(after));
            }
            q.load::<Row>(conn)?.into_iter().map(of_row).collect()
        })
    }

    /// The performance records of a list inside `scope`, oldest first.
    pub fn list_duties(&self, id: ChecklistId, scope: &Scope) -> Result<Vec<Duty>, StoreError> {
        self.with_read(|conn| {
            load(conn, id, scope)?;
            checklist_records::table
                .filter(checklist_records::checklist_id.eq(id.to_string()))
                .order(checklist_records::id.asc())
                .select((
                    checklist_records::id,
                    checklist_records::item_code,
                    checklist_records::performed_on,
                    checklist_records::performed_by,
                    checklist_records::note,
                    checklist_records::created_at,
                ))
                .load::<(
                    String,
                    String,
                    NaiveDate,
                    String,
                    Option<String>,
                    NaiveDateTime,
                )>(conn)?
                .into_iter()
                .map(|(id, item_code, performed_on, performed_by, note, at)| {
                    Ok(Duty {
                        id,
                        item_code,
                        performed_on,
                        performed_by,
                        note,
                        created_at: utc(at),
                    })
                })
                .collect()
        })
    }
}
