//! The enterprise ledger table: rows, conversions and queries.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use safegrade_domain::{
    Actor, CodeList, CreditCode, Enterprise, EnterpriseData, EnterpriseId, IndustryCode, MineKind,
    OperatingStatus, Ownership, Scale, Scope, Sector, Transfer,
};

use crate::drives::{DRIVE, DriveRow, drive_of};
use crate::grading::summaries::{SUMMARY, SummaryColumns, from_columns};
use crate::ledger::credit_codes::{self, CreditCodeRow};
use crate::plumbing::counts::CountChange;
use crate::plumbing::events::payload::{EnterpriseFields, TransferFields};
use crate::plumbing::events::{Changes, EventData, NewEvent};
use crate::plumbing::schema::{drives, enterprises, grade_summaries};
use crate::{Backend, DbConn, Store, StoreError, WriteTx, check_version};
use crate::{Page, now};
use safegrade_domain::drives::Drive;
use safegrade_domain::grading::{Grade, GradeSummary, StandardizationStatus};

/// A row of `enterprises`, in column order.
#[derive(Debug, Clone, Queryable, Insertable, AsChangeset)]
#[diesel(table_name = enterprises)]
// An absent value is NULL, not DEFAULT: the insert's text is then the same for every row,
// and diesel prepares a single-row insert once per connection.
#[diesel(treat_none_as_default_value = false)]
#[diesel(treat_none_as_null = true)]
pub struct EnterpriseRow {
    id: String,
    credit_code: String,
    name: String,
    area_code: String,
    address: Option<String>,
    industry_code: String,
    sector: String,
    mine_kind: Option<String>,
    scale: String,
    ownership: String,
    operating_status: String,
    principal_name: String,
    principal_phone: Option<String>,
    safety_manager_name: Option<String>,
    safety_manager_phone: Option<String>,
    employees: Option<i32>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    version: i64,
    #[diesel(deserialize_as = crate::plumbing::instant::StoredInstant)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::plumbing::instant::StoredInstant)]
    updated_at: NaiveDateTime,
}

fn corrupt(column: &str) -> StoreError {
    StoreError::Other(format!("a stored enterprises.{column} is not valid").into())
}

fn code<T: CodeList>(column: &str, value: &str) -> Result<T, StoreError> {
    T::from_code(value).ok_or_else(|| corrupt(column))
}

impl EnterpriseRow {
    fn new(
        id: EnterpriseId,
        d: &EnterpriseData,
        version: i64,
        created: NaiveDateTime,
        updated: NaiveDateTime,
    ) -> Self {
        Self {
            id: id.to_string(),
            credit_code: d.credit_code.to_string(),
            name: d.name.clone(),
            area_code: d.area_code.clone(),
            address: d.address.clone(),
            industry_code: d.industry_code.as_str().to_owned(),
            sector: d.sector.as_str().to_owned(),
            mine_kind: d.mine_kind.map(|k| k.as_str().to_owned()),
            scale: d.scale.as_str().to_owned(),
            ownership: d.ownership.as_str().to_owned(),
            operating_status: d.operating_status.as_str().to_owned(),
            principal_name: d.principal_name.clone(),
            principal_phone: d.principal_phone.clone(),
            safety_manager_name: d.safety_manager_name.clone(),
            safety_manager_phone: d.safety_manager_phone.clone(),
            employees: d.employees,
            latitude: d.latitude,
            longitude: d.longitude,
            version,
            created_at: created,
            updated_at: updated,
        }
    }

    fn into_domain(self, grading: GradeSummary, drive: Drive) -> Result<Enterprise, StoreError> {
        let data = EnterpriseData {
            credit_code: CreditCode::from_stored(self.credit_code)
                .ok_or_else(|| corrupt("credit_code"))?,
            industry_code: IndustryCode::from_stored(self.industry_code)
                .ok_or_else(|| corrupt("industry_code"))?,
            sector: code::<Sector>("sector", &self.sector)?,
            mine_kind: self
                .mine_kind
                .as_deref()
                .map(|k| code::<MineKind>("mine_kind", k))
                .transpose()?,
            scale: code::<Scale>("scale", &self.scale)?,
            ownership: code::<Ownership>("ownership", &self.ownership)?,
            operating_status: code::<OperatingStatus>("operating_status", &self.operating_status)?,
            name: self.name,
            area_code: self.area_code,
            address: self.address,
            principal_name: self.principal_name,
            principal_phone: self.principal_phone,
            safety_manager_name: self.safety_manager_name,
            safety_manager_phone: self.safety_manager_phone,
            employees: self.employees,
            latitude: self.latitude,
            longitude: self.longitude,
        };
        Ok(Enterprise {
            id: EnterpriseId::parse(&self.id).ok_or_else(|| corrupt("id"))?,
            data,
            version: self.version,
            created_at: DateTime::from_naive_utc_and_offset(self.created_at, Utc),
            updated_at: DateTime::from_naive_utc_and_offset(self.updated_at, Utc),
            grading,
            drive,
        })
    }
}

fn event(e: &Enterprise, actor: &Actor, data: EventData, reason: Option<String>) -> NewEvent {
    NewEvent {
        actor: actor.clone(),
        resource_id: e.id.to_string(),
        area_code: Some(e.data.area_code.clone()),
        enterprise_id: Some(e.id),
        data,
        reason,
    }
}

/// Filters of the ledger list; `None` means any. All given filters must hold, and only
/// records inside `scope` are listed.
#[derive(Debug, Clone)]
pub struct EnterpriseFilter {
    /// The caller's jurisdiction: nothing outside it is ever listed.
    pub scope: Scope,
    /// Supervision area.
    pub area_code: Option<String>,
    /// Sector.
    pub sector: Option<Sector>,
    /// Industry code, exact (`C3011`).
    pub industry_code: Option<String>,
    /// Scale.
    pub scale: Option<Scale>,
    /// Ownership level.
    pub ownership: Option<Ownership>,
    /// Operating status.
    pub operating_status: Option<OperatingStatus>,
    /// Credit code, exact (normalised).
    pub credit_code: Option<String>,
    /// Name contains this text.
    pub name_contains: Option<String>,
    /// Standardization status on `today`.
    pub standardization_status: Option<StandardizationStatus>,
    /// Grade in force on `today`.
    pub current_grade: Option<Grade>,
    /// The day the status filters are evaluated on.
    pub today: chrono::NaiveDate,
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn like_contains(text: &str) -> String {
    format!("%{}%", like_escape(text))
}

impl EnterpriseFilter {
    /// No filter but the scope.
    pub fn within(scope: Scope) -> Self {
        Self {
            scope,
            area_code: None,
            sector: None,
            industry_code: None,
            scale: None,
            ownership: None,
            operating_status: None,
            credit_code: None,
            name_contains: None,
            standardization_status: None,
            current_grade: None,
            today: chrono::NaiveDate::MIN,
        }
    }
}

/// Where an enterprise is counted: its area and sector.
fn place_of(e: &Enterprise) -> crate::plumbing::counts::Place {
    (e.data.area_code.clone(), e.data.sector.as_str().to_owned())
}

/// Inserts a new enterprise at version 1 and records `enterprise.created`, inside the
/// caller's write transaction.
pub fn insert(
    tx: &mut WriteTx<'_>,
    data: &EnterpriseData,
    actor: &Actor,
) -> Result<Enterprise, StoreError> {
    insert_many(tx, std::slice::from_ref(data), actor)?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// Enterprise rows written by one multi-row insert on PostgreSQL (each binds about 20
/// values).
const ENTERPRISES_PER_INSERT: usize = 1000;

/// [`insert`] for several enterprises at once (the bulk path of imports and demo data):
/// the same rows, events and counter changes, with multi-row inserts on PostgreSQL.
pub fn insert_many(
    tx: &mut WriteTx<'_>,
    items: &[EnterpriseData],
    actor: &Actor,
) -> Result<Vec<Enterprise>, StoreError> {
    let at = now();
    let ids: Vec<EnterpriseId> = items.iter().map(|_| EnterpriseId::new()).collect();
    let codes: Vec<CreditCodeRow> = ids
        .iter()
        .zip(items)
        .map(|(id, data)| CreditCodeRow::of(*id, data))
        .collect();
    let rows: Vec<EnterpriseRow> = ids
        .iter()
        .zip(items)
        .map(|(id, data)| EnterpriseRow::new(*id, data, 1, at, at))
        .collect();
    let conn: &mut DbConn = tx;
    // The lookup table first: its key refuses a credit code taken already.
    credit_codes::claim(conn, &codes)?;
    crate::insert_rows!(conn, enterprises::table, rows, ENTERPRISES_PER_INSERT);
    let mut created = Vec::with_capacity(rows.len());
    for row in rows {
        let e = row.into_domain(GradeSummary::default(), Drive::default())?;
        tx.count(CountChange {
            before: None,
            after: Some((place_of(&e), GradeSummary::default())),
        });
        let data = EventData::EnterpriseCreated(EnterpriseFields::from(&e));
        tx.record(event(&e, actor, data, None))?;
        created.push(e);
    }
    Ok(created)
}

/// Writes `data` over `current` inside the caller's transaction, with the version
/// incremented, and records `enterprise.updated` with the changed fields and `reason`; data
/// equal to the current writes nothing. A change of area is the transfer transition
/// ([`transfer`]), made after the other changes. Moves the statistics counters and the grade
/// summary along when the sector changes.
pub fn update(
    tx: &mut WriteTx<'_>,
    current: Enterprise,
    data: EnterpriseData,
    actor: &Actor,
    reason: Option<String>,
) -> Result<Enterprise, StoreError> {
    if data.area_code != current.data.area_code {
        let to = data.area_code.clone();
        let staying = EnterpriseData {
            area_code: current.data.area_code.clone(),
            ..data
        };
        let changed = update(tx, current, staying, actor, reason.clone())?;
        return transfer(tx, changed, &to, actor, reason);
    }
    if data == current.data {
        return Ok(current);
    }
    let new = rewrite(tx, &current, &data)?;
    let changes = Changes::between(
        &EnterpriseFields::from(&current),
        &EnterpriseFields::from(&new),
        new.version,
    )?;
    tx.record(event(
        &new,
        actor,
        EventData::EnterpriseUpdated(changes),
        reason,
    ))?;
    Ok(new)
}

/// Moves enterprise `current` to supervision area `to` inside the caller's transaction (a
/// transfer, 跨区域移交; docs/adr/0007): the enterprise and every row of it that carries the
/// area (its credit-code entry, grade summary, counters and the rows of the area-owned
/// tables, [`crate::ledger::area_owned`]) move together, the version is
/// incremented, and both areas record `enterprise.transferred` in their own audit chain and
/// feed: the area it left, that it went, and the area it joined, that it came. This is the one
/// place an enterprise changes area; a distributed database that cannot update its
/// distribution column would rewrite it as a delete and an insert. A move to its own area
/// writes nothing.
pub fn transfer(
    tx: &mut WriteTx<'_>,
    current: Enterprise,
    to: &str,
    actor: &Actor,
    reason: Option<String>,
) -> Result<Enterprise, StoreError> {
    if current.data.area_code == to {
        return Ok(current);
    }
    let data = EnterpriseData {
        area_code: to.to_owned(),
        ..current.data.clone()
    };
    let new = rewrite(tx, &current, &data)?;
    let moved = EventData::EnterpriseTransferred(TransferFields {
        from_area: current.data.area_code.clone(),
        to_area: new.data.area_code.clone(),
        version: new.version,
    });
    tx.record(event(&current, actor, moved.clone(), reason.clone()))?;
    tx.record(event(&new, actor, moved, reason))?;
    Ok(new)
}

/// Writes `data` over `current` with the version incremented (refused if the stored version
/// moved on), keeping the credit-code entry, and, when the area or sector changed, the
/// counters and the grade summary along. Records nothing.
fn rewrite(
    tx: &mut WriteTx<'_>,
    current: &Enterprise,
    data: &EnterpriseData,
) -> Result<Enterprise, StoreError> {
    let id = current.id;
    if data.credit_code != current.data.credit_code || data.area_code != current.data.area_code {
        credit_codes::follow(tx, (id, &current.data.credit_code.to_string()), data)?;
    }
    let created = current.created_at.naive_utc();
    let row = EnterpriseRow::new(id, data, current.version + 1, created, now());
    let updated = diesel::update(enterprises::table.find(id.to_string()))
        .filter(enterprises::version.eq(current.version))
        .set(&row)
        .execute(&mut **tx)
        .map_err(StoreError::from)?;
    crate::plumbing::error::written_once(updated, current.version)?;
    let new = row.into_domain(current.grading.clone(), current.drive.clone())?;
    if new.data.area_code != current.data.area_code {
        crate::ledger::area_owned::move_enterprise(tx, id, &new.data.area_code)?;
    }
    if new.data.area_code != current.data.area_code || new.data.sector != current.data.sector {
        let (from, to) = (place_of(current), place_of(&new));
        crate::hazards::counts::enterprise_moved(tx, id, &from, &to)?;
        crate::grading::summaries::follow_enterprise(
            tx,
            id,
            &new.data.area_code,
            new.data.sector.as_str(),
        )?;
        tx.count(CountChange {
            before: Some((from, current.grading.clone())),
            after: Some((to, new.grading.clone())),
        });
    }
    Ok(new)
}

/// Transfers enterprise `id` to another area inside the caller's transaction (the transfer
/// operation): loads it (`NotFound` outside `scope`), asks `decide` where to and why (it may
/// refuse), checks `if_match` against its version (`VersionMismatch`), and moves it
/// ([`transfer`]).
pub fn transfer_in_scope<E: From<StoreError>>(
    tx: &mut WriteTx<'_>,
    id: EnterpriseId,
    access: (&Scope, &Actor),
    if_match: Option<i64>,
    decide: impl FnOnce(&Enterprise) -> Result<Transfer, E>,
) -> Result<Enterprise, E> {
    let (scope, actor) = access;
    let current = find_in_scope(tx, id, scope)?;
    let to = decide(&current)?;
    check_version(if_match, current.version)?;
    Ok(transfer(
        tx,
        current,
        &to.area_code,
        actor,
        Some(to.reason),
    )?)
}

/// Loads one enterprise inside `scope` (`NotFound` outside it).
fn find_in_scope(
    conn: &mut DbConn,
    id: EnterpriseId,
    scope: &Scope,
) -> Result<Enterprise, StoreError> {
    let e = find(conn, id)?;
    if crate::plumbing::jurisdiction::covers(conn, scope, &e.data.area_code, e.id)? {
        Ok(e)
    } else {
        Err(StoreError::NotFound)
    }
}

/// Loads one enterprise.
pub fn find(conn: &mut DbConn, id: EnterpriseId) -> Result<Enterprise, StoreError> {
    let (row, summary, drive): (EnterpriseRow, Option<SummaryColumns>, Option<DriveRow>) =
        enterprises::table
            .left_join(grade_summaries::table)
            .left_join(drives::table)
            .filter(enterprises::id.eq(id.to_string()))
            .select((
                enterprises::all_columns,
                SUMMARY.nullable(),
                DRIVE.nullable(),
            ))
            .first(conn)?;
    row.into_domain(from_columns(summary)?, drive_of(drive)?)
}

/// The names (企业名称) of these enterprises, by id, in chunks of 1,000.
pub(crate) fn names_of(
    conn: &mut DbConn,
    ids: impl IntoIterator<Item = EnterpriseId>,
) -> Result<std::collections::HashMap<EnterpriseId, String>, StoreError> {
    let mut ids: Vec<String> = ids.into_iter().map(|i| i.to_string()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut names = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(1000) {
        for (id, name) in enterprises::table
            .filter(enterprises::id.eq_any(chunk))
            .select((enterprises::id, enterprises::name))
            .load::<(String, String)>(conn)?
        {
            if let Some(id) = EnterpriseId::parse(&id) {
                names.insert(id, name);
            }
        }
    }
    Ok(names)
}

impl Store {
    /// The names of these enterprises, by id (for lists that show them).
    pub fn enterprise_names(
        &self,
        ids: &[EnterpriseId],
    ) -> Result<std::collections::HashMap<EnterpriseId, String>, StoreError> {
        self.with_read(|conn| names_of(conn, ids.iter().copied()))
    }

    /// Adds an enterprise at version 1. A second enterprise with the same credit code is
    /// `Conflict(EnterpriseCreditCode)` (the key of `credit_codes`).
    pub fn create_enterprise(
        &self,
        data: &EnterpriseData,
        actor: &Actor,
    ) -> Result<Enterprise, StoreError> {
        let (data, actor) = (data.clone(), actor.clone());
        self.with_write_tx(move |tx| insert(tx, &data, &actor))
    }

    /// Loads one enterprise; `NotFound` when it is outside `scope`.
    pub fn get_enterprise(
        &self,
        id: EnterpriseId,
        scope: &Scope,
    ) -> Result<Enterprise, StoreError> {
        self.with_read(|conn| find_in_scope(conn, id, scope))
    }

    /// Changes an enterprise in one transaction: loads it (`NotFound` outside `scope`),
    /// asks `change` for the new data, checks `if_match` against its version
    /// (`VersionMismatch` if it differs), writes it with the version incremented and records
    /// `enterprise.updated` with the changed fields and `reason`. Errors from `change` roll
    /// everything back; a change that changes nothing writes nothing.
    pub fn update_enterprise<E, C>(
        &self,
        id: EnterpriseId,
        access: (Scope, Actor),
        if_match: Option<i64>,
        reason: Option<String>,
        change: C,
    ) -> impl Future<Output = Result<Enterprise, E>> + use<E, C>
    where
        E: From<StoreError> + Send + 'static,
        C: FnOnce(&Enterprise) -> Result<EnterpriseData, E> + Send + 'static,
    {
        let (scope, actor) = access;
        self.write_keyed(&id.to_string(), move |tx| {
            let current = find_in_scope(tx, id, &scope)?;
            // The body is judged before the version: a request that can never succeed
            // says why (422) rather than asking for a retry (412).
            let data = change(&current)?;
            check_version(if_match, current.version)?;
            Ok(update(tx, current, data, &actor, reason)?)
        })
    }

    /// How many enterprises there are.
    pub fn count_enterprises(&self) -> Result<i64, StoreError> {
        self.with_read(|conn| Ok(enterprises::table.count().get_result(conn)?))
    }

    /// How many enterprises there are whose name does not start with `prefix` (the demo
    /// loader's mark of synthetic records).
    pub fn count_enterprises_not_named(&self, prefix: &str) -> Result<i64, StoreError> {
        let pattern = format!("{}%", like_escape(prefix));
        self.with_read(|conn| {
            Ok(enterprises::table
                .filter(enterprises::name.not_like(pattern).escape('\\'))
                .count()
                .get_result(conn)?)
        })
    }

    /// Lists enterprises matching `filter` in id order (creation order: ids are UUIDv7),
    /// starting after `after`, at most `limit`.
    pub fn list_enterprises(
        &self,
        filter: &EnterpriseFilter,
        after: Option<EnterpriseId>,
        limit: i64,
    ) -> Result<Page<Enterprise>, StoreError> {
        self.with_list_read(|conn| {
            if let Some(area) = plain_area(filter) {
                return plain_page(conn, area, after, limit);
            }
            let mut q = enterprises::table
                .left_join(grade_summaries::table)
                .left_join(drives::table)
                .select((
                    enterprises::all_columns,
                    SUMMARY.nullable(),
                    DRIVE.nullable(),
                ))
                .into_boxed();
            // The scope as the narrowest condition, so the planners keep walking the
            // (area_code, id) index in id order: an area filter inside the scope replaces it,
            // one outside it lists nothing, and one scope area is an equality, not `IN`.
            if let (Scope::Areas(areas), Some(area)) = (&filter.scope, &filter.area_code)
                && !areas.contains(area)
            {
                return Ok(Page {
                    items: Vec::new(),
                    has_more: false,
                });
            }
            q = crate::scoped!(
                q,
                &filter.scope,
                enterprises::area_code,
                enterprises::id,
                &filter.area_code
            );
            if let Some(v) = filter.sector {
                q = q.filter(enterprises::sector.eq(v.as_str()));
            }
            if let Some(v) = &filter.industry_code {
                q = q.filter(enterprises::industry_code.eq(v.clone()));
            }
            if let Some(v) = filter.scale {
                q = q.filter(enterprises::scale.eq(v.as_str()));
            }
            if let Some(v) = filter.ownership {
                q = q.filter(enterprises::ownership.eq(v.as_str()));
            }
            if let Some(v) = filter.operating_status {
                q = q.filter(enterprises::operating_status.eq(v.as_str()));
            }
            if let Some(v) = &filter.credit_code {
                q = q.filter(enterprises::credit_code.eq(v.clone()));
            }
            if let Some(v) = &filter.name_contains {
                q = q.filter(enterprises::name.like(like_contains(v)).escape('\\'));
            }
            if let Some(status) = filter.standardization_status {
                use grade_summaries as g;
                let today = filter.today;
                // Mirrors `GradeSummary::status` (order: in force; creating; revoked; restart;
                // expired; not started).
                let in_force = g::grade_valid_until.ge(today);
                let lapsed = g::grade_valid_until
                    .is_null()
                    .or(g::grade_valid_until.lt(today));
                let creating = g::creating.nullable().eq(true);
                let idle = g::creating.nullable().eq(false);
                q = match status {
                    StandardizationStatus::Attained => q
                        .filter(in_force)
                        .filter(g::restart_required.nullable().eq(false)),
                    StandardizationStatus::RestartRequired => q.filter(
                        in_force
                            .and(g::restart_required.nullable().eq(true))
                            .or(lapsed
                                .and(idle)
                                .and(g::revoked_on.is_null())
                                .and(g::restart_required.nullable().eq(true))),
                    ),
                    StandardizationStatus::Creating => q.filter(lapsed).filter(creating),
                    StandardizationStatus::Revoked => q
                        .filter(lapsed)
                        .filter(idle)
                        .filter(g::revoked_on.is_not_null()),
                    StandardizationStatus::Expired => q
                        .filter(g::grade_valid_until.lt(today))
                        .filter(idle)
                        .filter(g::revoked_on.is_null())
                        .filter(g::restart_required.nullable().eq(false)),
                    StandardizationStatus::NotStarted => q.filter(
                        g::enterprise_id.is_null().or(g::grade_valid_until
                            .is_null()
                            .and(idle)
                            .and(g::revoked_on.is_null())
                            .and(g::restart_required.nullable().eq(false))),
                    ),
                };
            }
            if let Some(grade) = filter.current_grade {
                q = q
                    .filter(grade_summaries::current_grade.eq(grade.as_str()))
                    .filter(grade_summaries::grade_valid_until.ge(filter.today));
            }
            if let Some(after) = after {
                q = q.filter(enterprises::id.gt(after.to_string()));
            }
            let take = usize::try_from(limit + 1).unwrap_or(usize::MAX);
            let q = q.order(enterprises::id.asc());
            let rows: Vec<ListRow> = match conn.backend() {
                // SQLite streams rows lazily in index order, so reading `limit + 1` rows and
                // stopping is a LIMIT. A bound `LIMIT ?` would make SQLite recompile the
                // statement on every execution (its planner looks at the bound value).
                Backend::Sqlite => q
                    .load_iter::<ListRow, diesel::connection::DefaultLoadingMode>(conn)?
                    .take(take)
                    .collect::<Result<_, _>>()?,
                Backend::Postgres => q.limit(limit + 1).load(conn)?,
            };
            page_of(rows, limit)
        })
    }
}

/// A ledger list row: the enterprise, its grade summary and its drive (either may be
/// missing).
type ListRow = (EnterpriseRow, Option<SummaryColumns>, Option<DriveRow>);

/// At most `limit` enterprises of `rows` (read with a limit of `limit + 1`), and whether
/// more follow.
fn page_of(rows: Vec<ListRow>, limit: i64) -> Result<Page<Enterprise>, StoreError> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let has_more = rows.len() > limit;
    let items = rows
        .into_iter()
        .take(limit)
        .map(|(row, summary, drive)| row.into_domain(from_columns(summary)?, drive_of(drive)?))
        .collect::<Result<_, StoreError>>()?;
    Ok(Page { items, has_more })
}

/// The area a list with no filter but its area reads (`Some(None)`: the whole city), or
/// `None` when it has other filters or a wider or narrower scope: the lists the ledger is
/// paged through most, which [`plain_page`] reads.
fn plain_area(filter: &EnterpriseFilter) -> Option<Option<&str>> {
    let EnterpriseFilter {
        scope,
        area_code,
        sector: None,
        industry_code: None,
        scale: None,
        ownership: None,
        operating_status: None,
        credit_code: None,
        name_contains: None,
        standardization_status: None,
        current_grade: None,
        today: _,
    } = filter
    else {
        return None;
    };
    match (scope, area_code.as_deref()) {
        (Scope::City, area) => Some(area),
        (Scope::Areas(areas), None) if areas.len() == 1 => Some(areas.first().map(String::as_str)),
        (Scope::Areas(areas), Some(area)) if areas.iter().any(|a| a == area) => Some(Some(area)),
        _ => None,
    }
}

/// `$q` narrowed to `$area` (if any) and to ids after `$after` (if any), as `$s` in `$run`:
/// four query types, one per shape.
macro_rules! shaped {
    ($q:expr, $area:expr, $after:expr, |$s:ident| $run:expr) => {
        match ($area, $after) {
            (Some(area), Some(after)) => {
                let $s = $q
                    .filter(enterprises::area_code.eq(area))
                    .filter(enterprises::id.gt(after));
                $run
            }
            (Some(area), None) => {
                let $s = $q.filter(enterprises::area_code.eq(area));
                $run
            }
            (None, Some(after)) => {
                let $s = $q.filter(enterprises::id.gt(after));
                $run
            }
            (None, None) => {
                let $s = $q;
                $run
            }
        }
    };
}

/// A page of the ledger in `area` (or the whole city): one unboxed query per shape (area or
/// not, cursor or not), so each is prepared once per connection by its type (a boxed
/// query's SQL text is rebuilt and looked up on every call), and loaded on the backend's
/// own connection (no decoding through the two-backend connection). The same query as the
/// general path.
fn plain_page(
    conn: &mut DbConn,
    area: Option<&str>,
    after: Option<EnterpriseId>,
    limit: i64,
) -> Result<Page<Enterprise>, StoreError> {
    let base = enterprises::table
        .left_join(grade_summaries::table)
        .left_join(drives::table)
        .select((
            enterprises::all_columns,
            SUMMARY.nullable(),
            DRIVE.nullable(),
        ))
        .order(enterprises::id.asc());
    let after = after.map(|a| a.to_string());
    let rows: Vec<ListRow> = match conn {
        DbConn::Postgres(pg) => shaped!(base.limit(limit + 1), area, after, |q| q.load(pg)?),
        // As in the general path: `limit + 1` rows read in index order, no bound LIMIT.
        DbConn::Sqlite(lite) => shaped!(base, area, after, |q| q
            .load_iter::<ListRow, diesel::connection::DefaultLoadingMode>(lite)?
            .take(usize::try_from(limit + 1).unwrap_or(usize::MAX))
            .collect::<Result<_, _>>()?),
    };
    page_of(rows, limit)
}

#[cfg(test)]
mod tests {
    use super::like_contains;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_contains("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
