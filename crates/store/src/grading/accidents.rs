//! Production-safety accidents (生产安全事故): recorded per enterprise and evaluated, on every
//! read, against the enterprise's certificates and other accidents (the evaluation of an old
//! accident can change when a later one is recorded: the 12-month totals include both).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use safegrade_domain::grading::{
    AccidentData, AccidentFacts, AccidentKind, Evaluation, GradeRules,
};
use safegrade_domain::{AccidentId, Actor, CodeList, EnterpriseId, Scope};

use crate::grading::certificates::of_enterprises;
use crate::plumbing::events::payload::{AccidentFields, ImpactFields};
use crate::plumbing::events::{EventData, NewEvent};
use crate::plumbing::jurisdiction::enterprise_area;
use crate::plumbing::schema::{accidents, enterprises};
use crate::{DbConn, Store, StoreError, WriteTx};
use crate::{Page, now};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = accidents)]
// An absent value is NULL, not DEFAULT: the insert's text is then the same for every row,
// and diesel prepares a single-row insert once per connection.
#[diesel(treat_none_as_default_value = false)]
struct AccidentRow {
    id: String,
    enterprise_id: String,
    occurred_on: NaiveDate,
    kind: String,
    deaths: i32,
    seriously_injured: i32,
    direct_loss_cny: i64,
    concealed: bool,
    source: Option<String>,
    #[diesel(deserialize_as = crate::plumbing::instant::StoredInstant)]
    created_at: NaiveDateTime,
    rules_version: String,
    /// The enterprise's supervision area (docs/adr/0007).
    area_code: String,
}

/// A stored accident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accident {
    /// Id.
    pub id: AccidentId,
    /// The facts.
    pub data: AccidentData,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// The grade-rule set in force when it was recorded (its evaluation then is in the
    /// `accident.recorded` event; the answer's evaluation uses the rules in force now).
    pub rules_version: String,
}

/// An accident with its evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccidentRecord {
    /// The accident.
    pub accident: Accident,
    /// What it means for the enterprise's certificates.
    pub evaluation: Evaluation,
}

fn corrupt(column: &str) -> StoreError {
    StoreError::Other(format!("a stored accidents.{column} is not valid").into())
}

impl AccidentRow {
    fn into_domain(self) -> Result<Accident, StoreError> {
        Ok(Accident {
            id: AccidentId::parse(&self.id).ok_or_else(|| corrupt("id"))?,
            data: AccidentData {
                enterprise_id: EnterpriseId::parse(&self.enterprise_id)
                    .ok_or_else(|| corrupt("enterprise_id"))?,
                kind: AccidentKind::from_code(&self.kind).ok_or_else(|| corrupt("kind"))?,
                facts: AccidentFacts {
                    occurred_on: self.occurred_on,
                    deaths: u32::try_from(self.deaths).map_err(|_| corrupt("deaths"))?,
                    seriously_injured: u32::try_from(self.seriously_injured)
                        .map_err(|_| corrupt("seriously_injured"))?,
                    direct_loss_cny: self.direct_loss_cny,
                    concealed: self.concealed,
                },
                source: self.source,
            },
            created_at: DateTime::from_naive_utc_and_offset(self.created_at, Utc),
            rules_version: self.rules_version,
        })
    }
}

pub(crate) fn of(conn: &mut DbConn, ids: &[String]) -> Result<Vec<Accident>, StoreError> {
    accidents::table
        .filter(accidents::enterprise_id.eq_any(ids))
        .order(accidents::id.asc())
        .load::<AccidentRow>(conn)?
        .into_iter()
        .map(AccidentRow::into_domain)
        .collect()
}

/// The facts of an enterprise's accidents, between two dates (both included) when given.
pub(crate) fn facts_between(
    conn: &mut DbConn,
    enterprise: EnterpriseId,
    range: Option<(NaiveDate, NaiveDate)>,
) -> Result<Vec<AccidentFacts>, StoreError> {
    let mut q = accidents::table
        .filter(accidents::enterprise_id.eq(enterprise.to_string()))
        .into_boxed();
    if let Some((from, to)) = range {
        q = q
            .filter(accidents::occurred_on.ge(from))
            .filter(accidents::occurred_on.le(to));
    }
    q.load::<AccidentRow>(conn)?
        .into_iter()
        .map(|r| r.into_domain().map(|a| a.data.facts))
        .collect()
}

/// Evaluates each accident against its enterprise's certificates and accidents.
fn evaluate_all(
    conn: &mut DbConn,
    items: Vec<Accident>,
    rules: &GradeRules,
) -> Result<Vec<AccidentRecord>, StoreError> {
    let mut ids: Vec<String> = items
        .iter()
        .map(|a| a.data.enterprise_id.to_string())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let certificates = of_enterprises(conn, &ids)?;
    let all = of(conn, &ids)?;
    Ok(items
        .into_iter()
        .map(|a| {
            let e = a.data.enterprise_id;
            let facts: Vec<AccidentFacts> = all
                .iter()
                .filter(|o| o.data.enterprise_id == e)
                .map(|o| o.data.facts)
                .collect();
            let certs: Vec<_> = certificates
                .iter()
                .filter(|c| c.data.enterprise_id == e)
                .cloned()
                .collect();
            let evaluation = rules.evaluate(&a.data.facts, &facts, &certs);
            AccidentRecord {
                accident: a,
                evaluation,
            }
        })
        .collect())
}

/// The `data` of an `accident.recorded` event: the facts and what they mean.
fn event_data(r: &AccidentRecord) -> EventData {
    let d = &r.accident.data;
    EventData::AccidentRecorded(AccidentFields {
        kind: d.kind.as_str().to_owned(),
        occurred_on: d.facts.occurred_on.to_string(),
        deaths: d.facts.deaths,
        seriously_injured: d.facts.seriously_injured,
        direct_loss_cny: d.facts.direct_loss_cny,
        concealed: d.facts.concealed,
        source: d.source.clone(),
        restart_required: r.evaluation.restart_required,
        certificates: r
            .evaluation
            .certificates
            .iter()
            .map(|c| ImpactFields {
                certificate_id: c.certificate_id.to_string(),
                triggers: c.triggers.iter().map(|t| t.as_str().to_owned()).collect(),
                fast_track_allowed: c.fast_track.allowed,
            })
            .collect(),
        rules_version: Some(r.evaluation.rules_version.clone()),
    })
}

/// Filters of the accident list.
#[derive(Debug, Clone)]
pub struct AccidentFilter {
    /// The caller's jurisdiction.
    pub scope: Scope,
    /// Of this enterprise.
    pub enterprise_id: Option<EnterpriseId>,
    /// Of enterprises in this area.
    pub area_code: Option<String>,
}

impl Store {
    /// Records an accident of an enterprise inside `scope` (`NotFound` otherwise), evaluates
    /// it and records `accident.recorded` with the evaluation ([`record`] in a transaction
    /// of its own).
    pub fn record_accident(
        &self,
        data: AccidentData,
        scope: Scope,
        actor: Actor,
    ) -> impl Future<Output = Result<AccidentRecord, StoreError>> + use<> {
        let key = data.enterprise_id.to_string();
        let rules = self.grade_rules();
        self.write_keyed(&key, move |tx| record(tx, &data, &scope, &actor, rules))
    }

    /// Accidents matching `filter`, in recording order after `after`, at most `limit`, each
    /// with its evaluation.
    pub fn list_accidents(
        &self,
        filter: &AccidentFilter,
        rules: &GradeRules,
        after: Option<AccidentId>,
        limit: i64,
    ) -> Result<Page<AccidentRecord>, StoreError> {
        self.with_read(|conn| {
            let mut q = accidents::table
                .inner_join(enterprises::table)
                .select(accidents::all_columns)
                .into_boxed();
            q = crate::scoped!(
                q,
                &filter.scope,
                enterprises::area_code,
                accidents::enterprise_id,
                &filter.area_code
            );
            if let Some(id) = filter.enterprise_id {
                q = q.filter(accidents::enterprise_id.eq(id.to_string()));
            }
            if let Some(a) = after {
                q = q.filter(accidents::id.gt(a.to_string()));
            }
            let rows: Vec<AccidentRow> =
                q.order(accidents::id.asc()).limit(limit + 1).load(conn)?;
            let has_more = rows.len() as i64 > limit;
            let items = rows
                .into_iter()
                .take(usize::try_from(limit).unwrap_or(usize::MAX))
                .map(AccidentRow::into_domain)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page {
                items: evaluate_all(conn, items, rules)?,
                has_more,
            })
        })
    }
}

/// Records an accident of an enterprise inside `scope` (`NotFound` otherwise) in the caller's
/// write transaction, evaluates it under `rules` and records `accident.recorded` with the
/// evaluation and the rule-set version.
pub fn record(
    tx: &mut WriteTx<'_>,
    data: &AccidentData,
    scope: &Scope,
    actor: &Actor,
    rules: &GradeRules,
) -> Result<AccidentRecord, StoreError> {
    let area = enterprise_area(tx, data.enterprise_id, scope)?;
    let row = AccidentRow {
        id: AccidentId::new().to_string(),
        enterprise_id: data.enterprise_id.to_string(),
        occurred_on: data.facts.occurred_on,
        kind: data.kind.as_str().to_owned(),
        deaths: i32::try_from(data.facts.deaths).unwrap_or(i32::MAX),
        seriously_injured: i32::try_from(data.facts.seriously_injured).unwrap_or(i32::MAX),
        direct_loss_cny: data.facts.direct_loss_cny,
        concealed: data.facts.concealed,
        source: data.source.clone(),
        created_at: now(),
        rules_version: rules.version.to_owned(),
        area_code: area.clone(),
    };
    diesel::insert_into(accidents::table)
        .values(&row)
        .execute(&mut **tx)?;
    let accident = row.into_domain()?;
    crate::grading::summaries::refresh(tx, accident.data.enterprise_id)?;
    let mut records = evaluate_all(tx, vec![accident], rules)?;
    let record = records.pop().ok_or(StoreError::NotFound)?;
    tx.record(NewEvent {
        actor: actor.clone(),
        resource_id: record.accident.id.to_string(),
        area_code: Some(area),
        enterprise_id: Some(record.accident.data.enterprise_id),
        data: event_data(&record),
        reason: None,
    })?;
    Ok(record)
}
