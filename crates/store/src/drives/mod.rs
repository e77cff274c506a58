//! Creation and upgrade drives and guidance visits, per enterprise, scoped like the
//! enterprise; every change records an event.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use safegrade_domain::drives::{CreationStage, Drive, Visit};
use safegrade_domain::grading::Grade;
use safegrade_domain::{Actor, CodeList, EnterpriseId, Scope};

use crate::now;
use crate::plumbing::events::payload::VisitFields;
use crate::plumbing::events::{Changes, EventData, NewEvent};
use crate::plumbing::jurisdiction::enterprise_area;
use crate::plumbing::schema::{drives, guidance_visits};
use crate::{DbConn, Store, StoreError, WriteTx, check_version};

/// The stored columns of a drive, in [`DRIVE`] order.
pub(crate) type DriveRow = (
    bool,
    Option<String>,
    Option<NaiveDate>,
    String,
    Option<NaiveDate>,
    bool,
    Option<String>,
    Option<String>,
    Option<i32>,
    i64,
);

/// The columns of a drive.
pub(crate) const DRIVE: (
    drives::supervision_focus,
    drives::focus_reason,
    drives::focus_since,
    drives::creation_stage,
    drives::stage_since,
    drives::model_enterprise,
    drives::model_note,
    drives::upgrade_target_grade,
    drives::upgrade_target_year,
    drives::version,
) = (
    drives::supervision_focus,
    drives::focus_reason,
    drives::focus_since,
    drives::creation_stage,
    drives::stage_since,
    drives::model_enterprise,
    drives::model_note,
    drives::upgrade_target_grade,
    drives::upgrade_target_year,
    drives::version,
);

fn corrupt() -> StoreError {
    StoreError::Other("a stored drive is not valid".into())
}

fn from_row(r: DriveRow) -> Result<(Drive, i64), StoreError> {
    let (focus, reason, since, stage, stage_since, model, note, grade, year, version) = r;
    Ok((
        Drive {
            focus: if focus { reason.zip(since) } else { None },
            creation_stage: CreationStage::from_code(&stage).ok_or_else(corrupt)?,
            stage_since,
            model: if model { note } else { None },
            upgrade_target: match (grade.as_deref(), year) {
                (Some(g), Some(y)) => Some((Grade::from_code(g).ok_or_else(corrupt)?, y)),
                _ => None,
            },
        },
        version,
    ))
}

/// The fields of a drive as its events record them.
#[derive(serde::Serialize)]
struct DriveFields {
    supervision_focus: bool,
    focus_reason: Option<String>,
    focus_since: Option<String>,
    creation_stage: &'static str,
    stage_since: Option<String>,
    model_enterprise: bool,
    model_note: Option<String>,
    upgrade_target_grade: Option<&'static str>,
    upgrade_target_year: Option<i32>,
}

impl From<&Drive> for DriveFields {
    fn from(d: &Drive) -> Self {
        Self {
            supervision_focus: d.focus.is_some(),
            focus_reason: d.focus.as_ref().map(|(r, _)| r.clone()),
            focus_since: d.focus.as_ref().map(|(_, s)| s.to_string()),
            creation_stage: d.creation_stage.as_str(),
            stage_since: d.stage_since.map(|s| s.to_string()),
            model_enterprise: d.model.is_some(),
            model_note: d.model.clone(),
            upgrade_target_grade: d.upgrade_target.map(|(g, _)| g.as_str()),
            upgrade_target_year: d.upgrade_target.map(|(_, y)| y),
        }
    }
}

/// The drive of a joined row (`None`: never changed).
pub(crate) fn drive_of(row: Option<DriveRow>) -> Result<Drive, StoreError> {
    row.map_or_else(|| Ok(Drive::default()), |r| from_row(r).map(|(d, _)| d))
}

fn load(conn: &mut DbConn, id: EnterpriseId) -> Result<(Drive, i64), StoreError> {
    match drives::table
        .find(id.to_string())
        .select(DRIVE)
        .first::<DriveRow>(conn)
        .optional()?
    {
        Some(r) => from_row(r),
        None => Ok((Drive::default(), 0)),
    }
}

/// A stored guidance visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVisit {
    /// Id.
    pub id: String,
    /// The enterprise.
    pub enterprise_id: EnterpriseId,
    /// The visit.
    pub visit: Visit,
    /// When it was recorded.
    pub created_at: NaiveDateTime,
}

impl Store {
    /// The drive of an enterprise inside `scope` (`NotFound` otherwise) and its version (0
    /// before the first change).
    pub fn get_drive(&self, id: EnterpriseId, scope: &Scope) -> Result<(Drive, i64), StoreError> {
        self.with_read(|conn| {
            enterprise_area(conn, id, scope)?;
            load(conn, id)
        })
    }

    /// Changes the drive of an enterprise inside `scope`: checks `if_match`, asks `change`
    /// for the new drive, stores it and records `enterprise.drive_updated` with the changes.
    pub fn update_drive<E, C>(
        &self,
        id: EnterpriseId,
        access: (Scope, Actor),
        if_match: Option<i64>,
        change: C,
    ) -> impl Future<Output = Result<(Drive, i64), E>> + use<E, C>
    where
        E: From<StoreError> + Send + 'static,
        C: FnOnce(&Drive) -> Result<Drive, E> + Send + 'static,
    {
        let (scope, actor) = access;
        self.write_keyed(&id.to_string(), move |tx| {
            let area = enterprise_area(tx, id, &scope)?;
            let (current, version) = load(tx, id)?;
            let new = change(&current)?;
            safegrade_domain::drives::change(&current, &new)
                .map_err(|r| StoreError::Refused(r.into()))?;
            check_version(if_match, version)?;
            if new == current {
                return Ok((current, version));
            }
            let values = (
                drives::enterprise_id.eq(id.to_string()),
                drives::area_code.eq(&area),
                drives::supervision_focus.eq(new.focus.is_some()),
                drives::focus_reason.eq(new.focus.as_ref().map(|(r, _)| r.clone())),
                drives::focus_since.eq(new.focus.as_ref().map(|(_, s)| *s)),
                drives::creation_stage.eq(new.creation_stage.as_str()),
                drives::stage_since.eq(new.stage_since),
                drives::model_enterprise.eq(new.model.is_some()),
                drives::model_note.eq(new.model.clone()),
                drives::upgrade_target_grade.eq(new.upgrade_target.map(|(g, _)| g.as_str())),
                drives::upgrade_target_year.eq(new.upgrade_target.map(|(_, y)| y)),
                drives::version.eq(version + 1),
                drives::updated_at.eq(now()),
            );
            // Written only over the version that was read: a change made meanwhile (on
            // another node) makes this one a version mismatch, never a lost update; the
            // first change inserts, and a concurrent first change loses the same way.
            let written = if version == 0 {
                crate::on_backend!(&mut **tx, c => diesel::insert_into(drives::table)
                    .values(values)
                    .on_conflict_do_nothing()
                    .execute(c))
            } else {
                diesel::update(drives::table.find(id.to_string()))
                    .filter(drives::version.eq(version))
                    .set(values)
                    .execute(&mut **tx)
            }
            .map_err(StoreError::from)?;
            crate::plumbing::error::written_once(written, version)?;
            crate::grading::summaries::refresh(tx, id)?;
            let changes = Changes::between(
                &DriveFields::from(&current),
                &DriveFields::from(&new),
                version + 1,
            )?;
            tx.record(NewEvent {
                actor,
                resource_id: id.to_string(),
                area_code: Some(area),
                enterprise_id: Some(id),
                data: EventData::DriveUpdated(changes),
                reason: None,
            })?;
            Ok((new, version + 1))
        })
    }

    /// The guidance visits of an enterprise inside `scope`, oldest first.
    pub fn list_visits(
        &self,
        id: EnterpriseId,
        scope: &Scope,
    ) -> Result<Vec<StoredVisit>, StoreError> {
        self.with_read(|conn| {
            enterprise_area(conn, id, scope)?;
            let rows: Vec<(
                String,
                NaiveDate,
                String,
                String,
                Option<NaiveDate>,
                NaiveDateTime,
            )> = guidance_visits::table
                .filter(guidance_visits::enterprise_id.eq(id.to_string()))
                .order((guidance_visits::visited_on.asc(), guidance_visits::id.asc()))
                .select((
                    guidance_visits::id,
                    guidance_visits::visited_on,
                    guidance_visits::visitor,
                    guidance_visits::findings,
                    guidance_visits::follow_up_on,
                    guidance_visits::created_at,
                ))
                .load(conn)?;
            Ok(rows
                .into_iter()
                .map(
                    |(vid, visited_on, visitor, findings, follow_up_on, created_at)| StoredVisit {
                        id: vid,
                        enterprise_id: id,
                        visit: Visit {
                            visited_on,
                            visitor,
                            findings,
                            follow_up_on,
                        },
                        created_at,
                    },
                )
                .collect())
        })
    }
}

/// Records a guidance visit of an enterprise inside `scope` and `visit.recorded`, in the
/// caller's write transaction.
pub fn record_visit(
    tx: &mut WriteTx<'_>,
    id: EnterpriseId,
    visit: Visit,
    scope: &Scope,
    actor: &Actor,
) -> Result<StoredVisit, StoreError> {
    let area = enterprise_area(tx, id, scope)?;
    let stored = StoredVisit {
        id: uuid::Uuid::now_v7().to_string(),
        enterprise_id: id,
        visit,
        created_at: now(),
    };
    diesel::insert_into(guidance_visits::table)
        .values((
            guidance_visits::id.eq(&stored.id),
            guidance_visits::enterprise_id.eq(id.to_string()),
            guidance_visits::visited_on.eq(stored.visit.visited_on),
            guidance_visits::visitor.eq(&stored.visit.visitor),
            guidance_visits::findings.eq(&stored.visit.findings),
            guidance_visits::follow_up_on.eq(stored.visit.follow_up_on),
            guidance_visits::created_at.eq(stored.created_at),
            guidance_visits::area_code.eq(&area),
        ))
        .execute(&mut **tx)?;
    tx.record(NewEvent {
        actor: actor.clone(),
        resource_id: stored.id.clone(),
        area_code: Some(area),
        enterprise_id: Some(id),
        data: EventData::VisitRecorded(VisitFields {
            visited_on: stored.visit.visited_on.to_string(),
            visitor: stored.visit.visitor.clone(),
            findings: stored.visit.findings.clone(),
            follow_up_on: stored.visit.follow_up_on.map(|d| d.to_string()),
        }),
        reason: None,
    })?;
    Ok(stored)
}
