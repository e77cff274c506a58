//! The caller's jurisdiction applied to storage: every read and change of a record goes
//! through here or through [`scoped!`](crate::scoped), so a query cannot forget the scope
//! (the jurisdiction matrix in `tests/api/access.rs` is the safety net).

use diesel::prelude::*;
use safegrade_domain::{EnterpriseId, Scope};

use crate::plumbing::db::DbConn;
use crate::plumbing::error::StoreError;
use crate::plumbing::schema::{enterprises, gradings};

/// The area of an enterprise inside `scope`, or `NotFound` (outside it, or missing): the
/// check before reading or changing anything that belongs to one enterprise.
pub fn enterprise_area(
    conn: &mut DbConn,
    id: EnterpriseId,
    scope: &Scope,
) -> Result<String, StoreError> {
    let area: String = enterprises::table
        .find(id.to_string())
        .select(enterprises::area_code)
        .first(conn)?;
    if covers(conn, scope, &area, id)? {
        Ok(area)
    } else {
        Err(StoreError::NotFound)
    }
}

/// Whether enterprise `id` of `area` is inside `scope`: [`Scope::covers`], and for a review
/// organisation whether an application of the enterprise is assigned to it.
pub fn covers(
    conn: &mut DbConn,
    scope: &Scope,
    area: &str,
    id: EnterpriseId,
) -> Result<bool, StoreError> {
    Ok(match scope {
        Scope::Organisation(org) => diesel::select(diesel::dsl::exists(
            gradings::table
                .filter(gradings::review_org_id.eq(org))
                .filter(gradings::enterprise_id.eq(id.to_string())),
        ))
        .get_result(conn)?,
        _ => scope.covers(area, id),
    })
}

/// Limits a boxed query to `scope` (and an optional area filter inside it), given the
/// columns that hold the record's area and its enterprise id. An area scope of one area
/// becomes an equality, so an index on `(area, id)` keeps its order.
#[macro_export]
macro_rules! scoped {
    ($q:expr, $scope:expr, $area_col:expr, $enterprise_col:expr, $area_filter:expr) => {{
        let mut q = $q;
        let area_filter: &Option<String> = $area_filter;
        match ($scope, area_filter) {
            (safegrade_domain::Scope::City, Some(area)) => q = q.filter($area_col.eq(area.clone())),
            (safegrade_domain::Scope::City, None) => {}
            // An area filter inside the scope replaces it (an equality keeps the index
            // order); one outside it matches nothing.
            (safegrade_domain::Scope::Areas(areas), Some(area)) if areas.contains(area) => {
                q = q.filter($area_col.eq(area.clone()))
            }
            (safegrade_domain::Scope::Areas(_), Some(_)) => {
                q = q.filter($area_col.eq_any(Vec::<String>::new()))
            }
            (safegrade_domain::Scope::Areas(areas), None) => match areas.as_slice() {
                [one] => q = q.filter($area_col.eq(one.clone())),
                _ => q = q.filter($area_col.eq_any(areas.clone())),
            },
            (safegrade_domain::Scope::Enterprise(id), area) => {
                q = q.filter($enterprise_col.eq(id.to_string()));
                if let Some(area) = area {
                    q = q.filter($area_col.eq(area.clone()));
                }
            }
            // The enterprises with an application assigned to the review organisation.
            (safegrade_domain::Scope::Organisation(org), area) => {
                // An alias, so queries that already read `gradings` can hold it too.
                use $crate::plumbing::schema::gradings;
                let assigned = diesel::alias!(gradings as assigned_gradings);
                q = q.filter(
                    $enterprise_col.eq_any(
                        assigned
                            .filter(assigned.field(gradings::review_org_id).eq(org.clone()))
                            .select(assigned.field(gradings::enterprise_id)),
                    ),
                );
                if let Some(area) = area {
                    q = q.filter($area_col.eq(area.clone()));
                }
            }
        }
        q
    }};
}

/// The same limits as raw SQL for the statistics' hand-written query: a condition on the
/// `area` and `enterprise` column expressions, with one placeholder per value (`mark` makes
/// them), and the values in order.
pub fn sql_condition(
    scope: &Scope,
    area_filter: Option<&str>,
    (area, enterprise): (&str, &str),
    mut mark: impl FnMut() -> String,
) -> (String, Vec<String>) {
    let mut sql = String::new();
    let mut values = Vec::new();
    match scope {
        Scope::City => {}
        Scope::Areas(areas) => {
            let marks: Vec<String> = areas.iter().map(|_| mark()).collect();
            sql.push_str(&format!(" AND {area} IN ({})", marks.join(", ")));
            values.extend(areas.iter().cloned());
        }
        Scope::Enterprise(id) => {
            sql.push_str(&format!(" AND {enterprise} = {}", mark()));
            values.push(id.to_string());
        }
        Scope::Organisation(org) => {
            sql.push_str(&format!(
                " AND {enterprise} IN (SELECT enterprise_id FROM gradings WHERE review_org_id = {})",
                mark()
            ));
            values.push(org.clone());
        }
    }
    if let Some(a) = area_filter {
        sql.push_str(&format!(" AND {area} = {}", mark()));
        values.push(a.to_owned());
    }
    (sql, values)
}
