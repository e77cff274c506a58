//! Principals (API callers): rows, conversions and queries. Every change records an event.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use safegrade_domain::PrincipalFacts;
use safegrade_domain::{
    Actor, CodeList, EnterpriseId, Principal, PrincipalData, PrincipalId, ReviewOrganisation, Role,
};

use crate::plumbing::events::payload::PrincipalFields;
use crate::plumbing::events::{Changes, EventData, NewEvent};
use crate::plumbing::schema::{enterprises, principals};
use crate::{DbConn, Store, StoreError, WriteTx, check_version};
use crate::{Page, now};

#[derive(Debug, Clone, Queryable, Insertable, AsChangeset)]
#[diesel(table_name = principals)]
// An absent value is NULL, not DEFAULT: the insert's text is then the same for every row,
// and diesel prepares a single-row insert once per connection.
#[diesel(treat_none_as_default_value = false)]
#[diesel(treat_none_as_null = true)]
struct PrincipalRow {
    id: String,
    name: String,
    role: String,
    area_codes: String,
    enterprise_id: Option<String>,
    read_only: bool,
    disabled: bool,
    version: i64,
    #[diesel(deserialize_as = crate::plumbing::instant::StoredInstant)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::plumbing::instant::StoredInstant)]
    updated_at: NaiveDateTime,
    review_org_id: Option<String>,
    review_org_name: Option<String>,
}

fn corrupt(column: &str) -> StoreError {
    StoreError::Other(format!("a stored principals.{column} is not valid").into())
}

impl PrincipalRow {
    fn new(id: PrincipalId, d: &PrincipalData, version: i64, created: NaiveDateTime) -> Self {
        Self {
            id: id.to_string(),
            name: d.name.clone(),
            role: d.role.as_str().to_owned(),
            area_codes: d.area_codes.join(","),
            enterprise_id: d.enterprise_id.map(|e| e.to_string()),
            read_only: d.read_only,
            disabled: d.disabled,
            version,
            created_at: created,
            updated_at: now(),
            review_org_id: d.review_organisation.as_ref().map(|o| o.id.clone()),
            review_org_name: d.review_organisation.as_ref().map(|o| o.name.clone()),
        }
    }

    fn into_domain(self) -> Result<Principal, StoreError> {
        Ok(Principal {
            id: PrincipalId::parse(&self.id).ok_or_else(|| corrupt("id"))?,
            data: PrincipalData {
                name: self.name,
                role: Role::from_code(&self.role).ok_or_else(|| corrupt("role"))?,
                area_codes: self
                    .area_codes
                    .split(',')
                    .filter(|a| !a.is_empty())
                    .map(str::to_owned)
                    .collect(),
                enterprise_id: match self.enterprise_id.as_deref() {
                    Some(e) => {
                        Some(EnterpriseId::parse(e).ok_or_else(|| corrupt("enterprise_id"))?)
                    }
                    None => None,
                },
                read_only: self.read_only,
                review_organisation: match (self.review_org_id, self.review_org_name) {
                    (Some(id), Some(name)) => Some(ReviewOrganisation { id, name }),
                    _ => None,
                },
                disabled: self.disabled,
            },
            version: self.version,
            created_at: DateTime::from_naive_utc_and_offset(self.created_at, Utc),
            updated_at: DateTime::from_naive_utc_and_offset(self.updated_at, Utc),
        })
    }
}

fn event(p: &Principal, actor: &Actor, data: EventData) -> NewEvent {
    NewEvent {
        actor: actor.clone(),
        resource_id: p.id.to_string(),
        area_code: None,
        enterprise_id: None,
        data,
        reason: None,
    }
}

/// The facts of the access rules, from the write transaction.
struct Facts<'t, 'c>(&'t mut WriteTx<'c>);

impl PrincipalFacts for Facts<'_, '_> {
    type Error = StoreError;

    /// Counted under a lock, so two demotions (on two writer threads or two nodes) cannot
    /// both count "2 left".
    fn enabled_city_admins(&mut self) -> Result<i64, StoreError> {
        crate::plumbing::locks::hold(self.0, crate::plumbing::locks::Lock::CityAdmins)?;
        enabled_admins(self.0)
    }
}

/// Refuses an `enterprise_id` that names no enterprise.
fn check_enterprise(conn: &mut DbConn, d: &PrincipalData) -> Result<(), StoreError> {
    if let Some(id) = d.enterprise_id {
        let n: i64 = enterprises::table
            .filter(enterprises::id.eq(id.to_string()))
            .count()
            .get_result(conn)?;
        if n == 0 {
            return Err(StoreError::MissingReference {
                field: "enterprise_id",
            });
        }
    }
    Ok(())
}

/// Inserts a principal at version 1 and records `principal.created`.
pub fn insert(
    tx: &mut WriteTx<'_>,
    data: &PrincipalData,
    actor: &Actor,
) -> Result<Principal, StoreError> {
    check_enterprise(tx, data)?;
    let at = now();
    let mut row = PrincipalRow::new(PrincipalId::new(), data, 1, at);
    row.updated_at = at;
    diesel::insert_into(principals::table)
        .values(&row)
        .execute(&mut **tx)?;
    let p = row.into_domain()?;
    tx.record(event(
        &p,
        actor,
        EventData::PrincipalCreated(PrincipalFields::from(&p)),
    ))?;
    Ok(p)
}

/// Loads one principal.
pub fn find(conn: &mut DbConn, id: PrincipalId) -> Result<Principal, StoreError> {
    principals::table
        .find(id.to_string())
        .first::<PrincipalRow>(conn)?
        .into_domain()
}

fn enabled_admins(conn: &mut DbConn) -> Result<i64, StoreError> {
    Ok(principals::table
        .filter(principals::role.eq(Role::CityAdmin.as_str()))
        .filter(principals::disabled.eq(false))
        .count()
        .get_result(conn)?)
}

impl Store {
    /// On a database without an enabled `city_admin` (a new one, or one where only other
    /// principals were created from the command line), creates one named `name` and issues
    /// its first token; otherwise does nothing. Safe when several nodes start at once.
    pub fn bootstrap_admin(
        &self,
        name: &str,
    ) -> Result<Option<(Principal, crate::access::tokens::IssuedToken)>, StoreError> {
        let data = PrincipalData {
            name: name.to_owned(),
            role: Role::CityAdmin,
            area_codes: Vec::new(),
            enterprise_id: None,
            read_only: false,
            review_organisation: None,
            disabled: false,
        };
        self.with_write_tx(move |tx| {
            crate::plumbing::locks::hold(tx, crate::plumbing::locks::Lock::Bootstrap)?;
            if enabled_admins(tx)? > 0 {
                return Ok(None);
            }
            let actor = Actor::command_line();
            let p = insert(tx, &data, &actor)?;
            let token = crate::access::tokens::issue(tx, p.id, None, &actor)?;
            Ok(Some((p, token)))
        })
    }

    /// Creates a principal.
    pub fn create_principal(
        &self,
        data: &PrincipalData,
        actor: &Actor,
    ) -> Result<Principal, StoreError> {
        let (data, actor) = (data.clone(), actor.clone());
        self.with_write_tx(move |tx| insert(tx, &data, &actor))
    }

    /// Loads one principal.
    pub fn get_principal(&self, id: PrincipalId) -> Result<Principal, StoreError> {
        self.with_read(|conn| find(conn, id))
    }

    /// Whether any principal exists (the first start creates one when none does).
    pub fn has_principals(&self) -> Result<bool, StoreError> {
        self.with_read(|conn| {
            let n: i64 = principals::table.count().get_result(conn)?;
            Ok(n > 0)
        })
    }

    /// Principals in id (creation) order after `after`, at most `limit`, optionally of one
    /// role.
    pub fn list_principals(
        &self,
        role: Option<Role>,
        after: Option<PrincipalId>,
        limit: i64,
    ) -> Result<Page<Principal>, StoreError> {
        self.with_read(|conn| {
            let mut q = principals::table.into_boxed();
            if let Some(r) = role {
                q = q.filter(principals::role.eq(r.as_str()));
            }
            if let Some(a) = after {
                q = q.filter(principals::id.gt(a.to_string()));
            }
            let rows: Vec<PrincipalRow> =
                q.order(principals::id.asc()).limit(limit + 1).load(conn)?;
            let has_more = rows.len() as i64 > limit;
            let items = rows
                .into_iter()
                .take(usize::try_from(limit).unwrap_or(usize::MAX))
                .map(PrincipalRow::into_domain)
                .collect::<Result<_, _>>()?;
            Ok(Page { items, has_more })
        })
    }

    /// Changes a principal: checks `if_match`, asks `change` for the new data, refuses to
    /// leave the city without an enabled `city_admin` (`Conflict { last_city_admin }`),
    /// writes it and records `principal.updated`.
    pub fn update_principal<E, C>(
        &self,
        id: PrincipalId,
        actor: Actor,
        if_match: Option<i64>,
        change: C,
    ) -> impl Future<Output = Result<Principal, E>> + use<E, C>
    where
        E: From<StoreError> + Send + 'static,
        C: FnOnce(&Principal) -> Result<PrincipalData, E> + Send + 'static,
    {
        self.write_keyed(&id.to_string(), move |tx| {
            let current = find(tx, id)?;
            let data = change(&current)?;
            check_version(if_match, current.version)?;
            if data == current.data {
                return Ok(current);
            }
            check_enterprise(tx, &data)?;
            safegrade_domain::change_principal(&mut Facts(tx), &current.data, &data)?;
            let created = current.created_at.naive_utc();
            let row = PrincipalRow::new(id, &data, current.version + 1, created);
            let n = diesel::update(principals::table.find(id.to_string()))
                .filter(principals::version.eq(current.version))
                .set(&row)
                .execute(&mut **tx)
                .map_err(StoreError::from)?;
            crate::plumbing::error::written_once(n, current.version)?;
            let new = row.into_domain()?;
            let changes = Changes::between(
                &PrincipalFields::from(&current),
                &PrincipalFields::from(&new),
                new.version,
            )?;
            tx.record(event(&new, &actor, EventData::PrincipalUpdated(changes)))?;
            Ok(new)
        })
    }
}
