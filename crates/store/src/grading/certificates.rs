//! Standardization certificates: rows, conversions and queries. Every change records an
//! event; every read and change is limited to the caller's scope (through the enterprise).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use safegrade_domain::grading::{
    AccidentFacts, AuthorityLevel, Certificate, CertificateData, CertificateStatus, Grade,
    GradeRules, Regime, RenewalTrack, Revocation, RevocationTrigger, transitions,
};
use safegrade_domain::{Actor, CertificateId, CodeList, EnterpriseId, Scope};

use crate::plumbing::error::check_version;
use crate::plumbing::events::payload::{self, CertificateFields};
use crate::plumbing::events::{EventData, NewEvent};
use crate::plumbing::jurisdiction::enterprise_area;
use crate::plumbing::schema::{certificates, enterprises};
use crate::{DbConn, Store, StoreError, WriteTx};
use crate::{Page, now};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = certificates)]
// An absent value is NULL, not DEFAULT: the insert's text is then the same for every row,
// and diesel prepares a single-row insert once per connection.
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct CertificateRow {
    id: String,
    enterprise_id: String,
    regime: String,
    grade: String,
    number: String,
    authority_level: String,
    authority_name: String,
    issued_on: NaiveDate,
    valid_until: NaiveDate,
    standard: String,
    revoked_on: Option<NaiveDate>,
    revocation_trigger: Option<String>,
    revocation_legal_basis: Option<String>,
    revocation_reason: Option<String>,
    superseded_by: Option<String>,
    superseded_on: Option<NaiveDate>,
    version: i64,
    #[diesel(deserialize_as = crate::plumbing::instant::StoredInstant)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::plumbing::instant::StoredInstant)]
    updated_at: NaiveDateTime,
    rules_version: String,
    revocation_rules_version: Option<String>,
    /// The enterprise's supervision area (docs/adr/0007).
    area_code: String,
}

fn corrupt(column: &str) -> StoreError {
    StoreError::Other(format!("a stored certificates.{column} is not valid").into())
}

fn code<T: CodeList>(column: &str, value: &str) -> Result<T, StoreError> {
    T::from_code(value).ok_or_else(|| corrupt(column))
}

impl CertificateRow {
    pub(crate) fn into_domain(self) -> Result<Certificate, StoreError> {
        let revocation = match (
            self.revoked_on,
            self.revocation_trigger.as_deref(),
            self.revocation_legal_basis,
            self.revocation_reason,
            self.revocation_rules_version,
        ) {
            (
                Some(decided_on),
                Some(trigger),
                Some(legal_basis),
                Some(reason),
                Some(rules_version),
            ) => Some(Revocation {
                trigger: code::<RevocationTrigger>("revocation_trigger", trigger)?,
                legal_basis,
                reason,
                decided_on,
                rules_version,
            }),
            (None, None, None, None, None) => None,
            _ => return Err(corrupt("revocation")),
        };
        Ok(Certificate {
            id: CertificateId::parse(&self.id).ok_or_else(|| corrupt("id"))?,
            data: CertificateData {
                enterprise_id: EnterpriseId::parse(&self.enterprise_id)
                    .ok_or_else(|| corrupt("enterprise_id"))?,
                regime: code::<Regime>("regime", &self.regime)?,
                grade: code::<Grade>("grade", &self.grade)?,
                number: self.number,
                authority_level: code::<AuthorityLevel>("authority_level", &self.authority_level)?,
                authority_name: self.authority_name,
                issued_on: self.issued_on,
                valid_until: self.valid_until,
                standard: self.standard,
            },
            revocation,
            superseded_by: match self.superseded_by.as_deref() {
                Some(s) => Some(CertificateId::parse(s).ok_or_else(|| corrupt("superseded_by"))?),
                None => None,
            },
            superseded_on: self.superseded_on,
            rules_version: self.rules_version,
            version: self.version,
            created_at: DateTime::from_naive_utc_and_offset(self.created_at, Utc),
            updated_at: DateTime::from_naive_utc_and_offset(self.updated_at, Utc),
        })
    }
}

/// Every certificate of these enterprises.
pub(crate) fn of_enterprises(
    conn: &mut DbConn,
    ids: &[String],
) -> Result<Vec<Certificate>, StoreError> {
    // In the order of the index (enterprise, id): ordered by id alone, PostgreSQL's generic
    // plan for this prepared statement walked the whole table in id order, once per
    // certificate recorded (the demo data's certificates took minutes).
    certificates::table
        .filter(certificates::enterprise_id.eq_any(ids))
        .order((certificates::enterprise_id.asc(), certificates::id.asc()))
        .load::<CertificateRow>(conn)?
        .into_iter()
        .map(CertificateRow::into_domain)
        .collect()
}

fn find(conn: &mut DbConn, id: CertificateId) -> Result<Certificate, StoreError> {
    certificates::table
        .find(id.to_string())
        .first::<CertificateRow>(conn)?
        .into_domain()
}

/// A certificate of an enterprise inside `scope` and that enterprise's area (`NotFound`
/// outside it, as for a missing certificate).
fn in_scope(
    conn: &mut DbConn,
    id: CertificateId,
    scope: &Scope,
) -> Result<(Certificate, String), StoreError> {
    let c = find(conn, id)?;
    let area = enterprise_area(conn, c.data.enterprise_id, scope)?;
    Ok((c, area))
}

/// The enterprise's certificate in force on `on` (its grade summary's current one, neither
/// revoked nor past its validity), if any.
pub(crate) fn in_force(
    conn: &mut DbConn,
    enterprise: EnterpriseId,
    on: NaiveDate,
) -> Result<Option<Certificate>, StoreError> {
    use crate::plumbing::schema::grade_summaries;
    let current: Option<Option<String>> = grade_summaries::table
        .find(enterprise.to_string())
        .filter(grade_summaries::revoked_on.is_null())
        .filter(grade_summaries::grade_valid_until.ge(on))
        .select(grade_summaries::current_certificate_id)
        .first(conn)
        .optional()?;
    match current.flatten().and_then(|id| CertificateId::parse(&id)) {
        Some(id) => find(conn, id).map(Some),
        None => Ok(None),
    }
}

/// The decision date of the enterprise's latest revocation, if any (a fact for
/// [`transitions::record`]).
pub(crate) fn latest_revocation(
    conn: &mut DbConn,
    enterprise: EnterpriseId,
) -> Result<Option<NaiveDate>, StoreError> {
    Ok(certificates::table
        .filter(certificates::enterprise_id.eq(enterprise.to_string()))
        .select(diesel::dsl::max(certificates::revoked_on))
        .first(conn)?)
}

fn event(
    c: &Certificate,
    area: &str,
    actor: &Actor,
    data: EventData,
    reason: Option<String>,
) -> NewEvent {
    NewEvent {
        actor: actor.clone(),
        resource_id: c.id.to_string(),
        area_code: Some(area.to_owned()),
        enterprise_id: Some(c.data.enterprise_id),
        data,
        reason,
    }
}

/// Filters of the certificate list; every given filter must hold, and only certificates of
/// enterprises inside `scope` are listed.
#[derive(Debug, Clone)]
pub struct CertificateFilter {
    /// The caller's jurisdiction.
    pub scope: Scope,
    /// Of this enterprise.
    pub enterprise_id: Option<EnterpriseId>,
    /// Of enterprises in this area.
    pub area_code: Option<String>,
    /// Of this grade.
    pub grade: Option<Grade>,
    /// With this derived status on `today`.
    pub status: Option<CertificateStatus>,
}

impl Store {
    /// Records a certificate of an enterprise inside `scope` (`NotFound` otherwise), unless
    /// the enterprise is still barred after a revocation (`Refused { regrade_barred }`), and
    /// records `certificate.recorded`.
    pub fn record_certificate(
        &self,
        data: CertificateData,
        scope: Scope,
        actor: Actor,
    ) -> impl Future<Output = Result<Certificate, StoreError>> + use<> {
        let key = data.enterprise_id.to_string();
        let rules = self.grade_rules();
        self.write_keyed(&key, move |tx| record(tx, &data, &scope, &actor, rules))
    }

    /// The writer key of the enterprise a certificate belongs to: every change to one
    /// enterprise's grade summary runs on that enterprise's writer thread, so two of them
    /// never race on the summary row. An unknown id keys on itself (the job answers 404).
    pub fn enterprise_key_of_certificate(&self, id: CertificateId) -> String {
        self.with_read(|conn| {
            Ok::<_, StoreError>(
                certificates::table
                    .find(id.to_string())
                    .select(certificates::enterprise_id)
                    .first::<String>(conn)
                    .optional()?,
            )
        })
        .ok()
        .flatten()
        .unwrap_or_else(|| id.to_string())
    }
}

/// Which succession replaces a certificate in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Succession {
    /// Same grade, by this procedure (复评).
    Renewal(RenewalTrack),
    /// A higher grade (提档升级).
    Upgrade,
}

/// Replaces a certificate in force with a new one (a renewal of the same grade, or an
/// upgrade), in the caller's write transaction: `validate` builds the new certificate's data
/// from the input and the current certificate (422s); the domain decides the transition
/// ([`transitions::renew`] with the accidents during the current validity, or
/// [`transitions::upgrade`]); `if_match` is checked; then the new certificate is inserted,
/// the current one points to it (`superseded`), and `certificate.renewed` or
/// `certificate.upgraded` is recorded on the new one with `previous_id` and the rule-set
/// version.
pub fn supersede<E>(
    tx: &mut WriteTx<'_>,
    id: CertificateId,
    access: (&Scope, &Actor),
    if_match: Option<i64>,
    succession: Succession,
    rules: &GradeRules,
    validate: impl FnOnce(&Certificate) -> Result<CertificateData, E>,
) -> Result<Certificate, E>
where
    E: From<StoreError>,
{
    let (scope, actor) = access;
    let (current, area) = in_scope(tx, id, scope)?;
    let data = validate(&current)?;
    let (track, fast_track_reasons) = match succession {
        Succession::Renewal(track) => {
            let during: Vec<AccidentFacts> = crate::grading::accidents::facts_between(
                tx,
                current.data.enterprise_id,
                Some((current.data.issued_on, current.data.valid_until)),
            )?;
            let fast = transitions::renew(rules, &current, &data, track, &during)
                .map_err(StoreError::from)?;
            (Some(track.as_str().to_owned()), Some(fast.reasons))
        }
        Succession::Upgrade => {
            transitions::upgrade(&current, &data).map_err(StoreError::from)?;
            (None, None)
        }
    };
    check_version(if_match, current.version)?;
    let new = insert(tx, &data, &area, rules)?;
    let n = diesel::update(certificates::table.find(id.to_string()))
        .filter(certificates::version.eq(current.version))
        .set((
            certificates::superseded_by.eq(Some(new.id.to_string())),
            certificates::superseded_on.eq(Some(new.data.issued_on)),
            certificates::version.eq(current.version + 1),
            certificates::updated_at.eq(now()),
        ))
        .execute(&mut **tx)
        .map_err(StoreError::from)?;
    crate::plumbing::error::written_once(n, current.version)?;
    crate::grading::summaries::refresh(tx, new.data.enterprise_id)?;
    let payload = payload::Succession {
        certificate: CertificateFields::from(&new),
        previous_id: current.id.to_string(),
        track,
        fast_track_reasons,
    };
    let data = match succession {
        Succession::Renewal(_) => EventData::CertificateRenewed(payload),
        Succession::Upgrade => EventData::CertificateUpgraded(payload),
    };
    tx.record(event(&new, &area, actor, data, None))?;
    Ok(new)
}

/// Revokes a certificate of an enterprise inside `scope`, in the caller's write
/// transaction: `decide` validates the decision against it (422s), the domain refuses unless
/// it is in force on the decision date ([`transitions::revoke`]), `if_match` is checked.
/// Records `certificate.revoked` with the rule-set version that set the bar.
pub fn revoke<E>(
    tx: &mut WriteTx<'_>,
    id: CertificateId,
    access: (&Scope, &Actor),
    if_match: Option<i64>,
    rules: &GradeRules,
    decide: impl FnOnce(&Certificate) -> Result<Revocation, E>,
) -> Result<Certificate, E>
where
    E: From<StoreError>,
{
    let (scope, actor) = access;
    let (current, area) = in_scope(tx, id, scope)?;
    let decision = decide(&current)?;
    let r = transitions::revoke(rules, &current, decision).map_err(StoreError::from)?;
    check_version(if_match, current.version)?;
    let n = diesel::update(certificates::table.find(id.to_string()))
        .filter(certificates::version.eq(current.version))
        .set((
            certificates::revoked_on.eq(Some(r.decided_on)),
            certificates::revocation_trigger.eq(Some(r.trigger.as_str())),
            certificates::revocation_legal_basis.eq(Some(&r.legal_basis)),
            certificates::revocation_reason.eq(Some(&r.reason)),
            certificates::revocation_rules_version.eq(Some(&r.rules_version)),
            certificates::version.eq(current.version + 1),
            certificates::updated_at.eq(now()),
        ))
        .execute(&mut **tx)
        .map_err(StoreError::from)?;
    crate::plumbing::error::written_once(n, current.version)?;
    let revoked = find(tx, id)?;
    crate::grading::summaries::refresh(tx, revoked.data.enterprise_id)?;
    let data = EventData::CertificateRevoked(payload::RevocationFields {
        trigger: r.trigger.as_str().to_owned(),
        legal_basis: r.legal_basis.clone(),
        decided_on: r.decided_on.to_string(),
        regrade_opens_on: rules.regrade_opens_on(r.decided_on).to_string(),
        rules_version: Some(r.rules_version.clone()),
    });
    tx.record(event(&revoked, &area, actor, data, Some(r.reason.clone())))?;
    Ok(revoked)
}

/// Records a certificate of an enterprise inside `scope` in the caller's write transaction:
/// the one-year bar, the row, the enterprise's grade summary and `certificate.recorded`.
pub fn record(
    tx: &mut WriteTx<'_>,
    data: &CertificateData,
    scope: &Scope,
    actor: &Actor,
    rules: &GradeRules,
) -> Result<Certificate, StoreError> {
    record_many(tx, std::slice::from_ref(data), scope, actor, rules)?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// [`record`] for several certificates at once (the bulk path of imports and demo data):
/// the same checks, rows and events, with one query per kind of fact, multi-row inserts on
/// PostgreSQL and one summary refresh for all their enterprises. Fails as a whole at the
/// first certificate refused.
pub fn record_many(
    tx: &mut WriteTx<'_>,
    items: &[CertificateData],
    scope: &Scope,
    actor: &Actor,
    rules: &GradeRules,
) -> Result<Vec<Certificate>, StoreError> {
    let conn: &mut DbConn = tx;
    let mut enterprises_of: Vec<String> =
        items.iter().map(|d| d.enterprise_id.to_string()).collect();
    enterprises_of.sort_unstable();
    enterprises_of.dedup();
    let areas: std::collections::HashMap<String, String> = enterprises::table
        .filter(enterprises::id.eq_any(&enterprises_of))
        .select((enterprises::id, enterprises::area_code))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let revoked: std::collections::HashMap<String, Option<NaiveDate>> = certificates::table
        .filter(certificates::enterprise_id.eq_any(&enterprises_of))
        .group_by(certificates::enterprise_id)
        .select((
            certificates::enterprise_id,
            diesel::dsl::max(certificates::revoked_on),
        ))
        .load::<(String, Option<NaiveDate>)>(conn)?
        .into_iter()
        .collect();
    let mut rows = Vec::with_capacity(items.len());
    let mut places = Vec::with_capacity(items.len());
    for data in items {
        let id = data.enterprise_id.to_string();
        let area = areas.get(&id).ok_or(StoreError::NotFound)?;
        if !crate::plumbing::jurisdiction::covers(conn, scope, area, data.enterprise_id)? {
            return Err(StoreError::NotFound);
        }
        transitions::record(rules, revoked.get(&id).copied().flatten(), data)?;
        rows.push(row(data, area, rules));
        places.push(area.clone());
    }
    let recorded = insert_rows(conn, rows)?;
    let ids: Vec<EnterpriseId> = enterprises_of
        .iter()
        .filter_map(|e| EnterpriseId::parse(e))
        .collect();
    crate::grading::summaries::refresh_many(tx, &ids)?;
    for (c, area) in recorded.iter().zip(places) {
        let fields = EventData::CertificateRecorded(CertificateFields::from(c));
        tx.record(event(c, &area, actor, fields, None))?;
    }
    Ok(recorded)
}

/// A new certificate's row at version 1 in `area` (its enterprise's), decided under `rules`.
fn row(data: &CertificateData, area: &str, rules: &GradeRules) -> CertificateRow {
    let at = now();
    CertificateRow {
        id: CertificateId::new().to_string(),
        enterprise_id: data.enterprise_id.to_string(),
        regime: data.regime.as_str().to_owned(),
        grade: data.grade.as_str().to_owned(),
        number: data.number.clone(),
        authority_level: data.authority_level.as_str().to_owned(),
        authority_name: data.authority_name.clone(),
        issued_on: data.issued_on,
        valid_until: data.valid_until,
        standard: data.standard.clone(),
        revoked_on: None,
        revocation_trigger: None,
        revocation_legal_basis: None,
        revocation_reason: None,
        superseded_by: None,
        superseded_on: None,
        version: 1,
        created_at: at,
        updated_at: at,
        rules_version: rules.version.to_owned(),
        revocation_rules_version: None,
        area_code: area.to_owned(),
    }
}

/// Certificate rows written by one multi-row insert on PostgreSQL (each binds 21 values).
const CERTIFICATES_PER_INSERT: usize = 1000;

/// Inserts new certificate rows (`insert_rows!`).
fn insert_rows(
    conn: &mut DbConn,
    rows: Vec<CertificateRow>,
) -> Result<Vec<Certificate>, StoreError> {
    crate::insert_rows!(conn, certificates::table, rows, CERTIFICATES_PER_INSERT);
    rows.into_iter().map(CertificateRow::into_domain).collect()
}

/// Inserts a certificate at version 1 in `area`, decided under `rules`.
fn insert(
    conn: &mut DbConn,
    data: &CertificateData,
    area: &str,
    rules: &GradeRules,
) -> Result<Certificate, StoreError> {
    insert_rows(conn, vec![row(data, area, rules)])?
        .pop()
        .ok_or(StoreError::NotFound)
}

impl Store {
    /// Loads one certificate of an enterprise inside `scope` (`NotFound` otherwise).
    pub fn get_certificate(
        &self,
        id: CertificateId,
        scope: &Scope,
    ) -> Result<Certificate, StoreError> {
        self.with_read(|conn| Ok(in_scope(conn, id, scope)?.0))
    }

    /// Certificates matching `filter` in id (recording) order after `after`, at most `limit`.
    /// A status filter becomes date conditions for `today` and `window_months`.
    pub fn list_certificates(
        &self,
        filter: &CertificateFilter,
        today: NaiveDate,
        window_months: u32,
        after: Option<CertificateId>,
        limit: i64,
    ) -> Result<Page<Certificate>, StoreError> {
        self.with_list_read(|conn| {
            let mut q = certificates::table
                .inner_join(enterprises::table)
                .select(certificates::all_columns)
                .into_boxed();
            q = crate::scoped!(
                q,
                &filter.scope,
                enterprises::area_code,
                certificates::enterprise_id,
                &filter.area_code
            );
            if let Some(id) = filter.enterprise_id {
                q = q.filter(certificates::enterprise_id.eq(id.to_string()));
            }
            if let Some(g) = filter.grade {
                q = q.filter(certificates::grade.eq(g.as_str()));
            }
            if let Some(status) = filter.status {
                // The inverse of `GradeRules::status`: in force means neither revoked nor
                // superseded; expiring from `window_months` before the last valid day.
                let in_force = certificates::revoked_on
                    .is_null()
                    .and(certificates::superseded_by.is_null());
                let window_end = GradeRules::expiring_until(today, window_months);
                q = match status {
                    CertificateStatus::Revoked => q.filter(certificates::revoked_on.is_not_null()),
                    CertificateStatus::Superseded => q
                        .filter(certificates::revoked_on.is_null())
                        .filter(certificates::superseded_by.is_not_null()),
                    CertificateStatus::Expired => q
                        .filter(in_force)
                        .filter(certificates::valid_until.lt(today)),
                    CertificateStatus::Expiring => q
                        .filter(in_force)
                        .filter(certificates::valid_until.ge(today))
                        .filter(certificates::valid_until.le(window_end)),
                    CertificateStatus::Valid => q
                        .filter(in_force)
                        .filter(certificates::valid_until.gt(window_end)),
                };
            }
            if let Some(a) = after {
                q = q.filter(certificates::id.gt(a.to_string()));
            }
            let rows: Vec<CertificateRow> = q
                .order(certificates::id.asc())
                .limit(limit + 1)
                .load(conn)?;
            let has_more = rows.len() as i64 > limit;
            let items = rows
                .into_iter()
                .take(usize::try_from(limit).unwrap_or(usize::MAX))
                .map(CertificateRow::into_domain)
                .collect::<Result<_, _>>()?;
            Ok(Page { items, has_more })
        })
    }

    /// The public register: certificates in force and within validity on `today`, with
    /// their enterprise, optionally of one area, sector or grade, in id order after `after`.
    pub fn register(
        &self,
        filter: &RegisterFilter,
        today: NaiveDate,
        after: Option<CertificateId>,
        limit: i64,
    ) -> Result<Page<RegisterEntry>, StoreError> {
        self.with_read(|conn| {
            let mut q = certificates::table
                .inner_join(enterprises::table)
                .filter(certificates::revoked_on.is_null())
                .filter(certificates::superseded_by.is_null())
                .filter(certificates::issued_on.le(today))
                .filter(certificates::valid_until.ge(today))
                .select((
                    certificates::all_columns,
                    enterprises::name,
                    enterprises::credit_code,
                    enterprises::area_code,
                    enterprises::sector,
                ))
                .into_boxed();
            if let Some(area) = &filter.area_code {
                q = q.filter(enterprises::area_code.eq(area.clone()));
            }
            if let Some(sector) = &filter.sector {
                q = q.filter(enterprises::sector.eq(sector.clone()));
            }
            if let Some(g) = filter.grade {
                q = q.filter(certificates::grade.eq(g.as_str()));
            }
            if let Some(a) = after {
                q = q.filter(certificates::id.gt(a.to_string()));
            }
            let rows: Vec<(CertificateRow, String, String, String, String)> = q
                .order(certificates::id.asc())
                .limit(limit + 1)
                .load(conn)?;
            let has_more = rows.len() as i64 > limit;
            let items = rows
                .into_iter()
                .take(usize::try_from(limit).unwrap_or(usize::MAX))
                .map(|(row, name, credit_code, area_code, sector)| {
                    Ok(RegisterEntry {
                        certificate: row.into_domain()?,
                        enterprise_name: name,
                        credit_code,
                        area_code,
                        sector,
                    })
                })
                .collect::<Result<_, StoreError>>()?;
            Ok(Page { items, has_more })
        })
    }

    /// A certificate by its number, with its enterprise's name (for public verification).
    pub fn certificate_by_number(&self, number: &str) -> Result<(Certificate, String), StoreError> {
        self.with_read(|conn| {
            let (row, name): (CertificateRow, String) = certificates::table
                .inner_join(enterprises::table)
                .filter(certificates::number.eq(number))
                .select((certificates::all_columns, enterprises::name))
                .first(conn)?;
            Ok((row.into_domain()?, name))
        })
    }
}

/// Filters of the public register.
#[derive(Debug, Clone, Default)]
pub struct RegisterFilter {
    /// Supervision area.
    pub area_code: Option<String>,
    /// Supervision sector (wire value).
    pub sector: Option<String>,
    /// Grade.
    pub grade: Option<Grade>,
}

/// One line of the public register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterEntry {
    /// The certificate.
    pub certificate: Certificate,
    /// Its enterprise's registered name.
    pub enterprise_name: String,
    /// Its enterprise's credit code.
    pub credit_code: String,
    /// Its enterprise's area.
    pub area_code: String,
    /// Its enterprise's sector.
    pub sector: String,
}
