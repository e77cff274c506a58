//! Assessments: scoped like their enterprise; a draft's results change until it is submitted
//! (then never) or discarded; every change records an event. The score is computed on read
//! from the standard, the results and the enterprise's accidents (`domain::assessments`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use safegrade_domain::assessments::{
    AssessmentKind, AssessmentState, Results, Score, fits, score, transition,
};
use safegrade_domain::grading::AccidentFacts;
use safegrade_domain::grading::GradeRules;
use safegrade_domain::standards::StandardData;
use safegrade_domain::{
    Actor, AssessmentId, CodeList, EnterpriseId, GradingId, Scale, Scope, Sector, StandardId,
    Violation, ViolationCode,
};

use crate::now;
use crate::plumbing::events::payload::{AssessmentFields, AssessmentOutcomeFields};
use crate::plumbing::events::{Changes, EventData, NewEvent};
use crate::plumbing::instant::utc;
use crate::plumbing::jurisdiction::enterprise_area;
use crate::plumbing::schema::{assessments, enterprises, standards};
use crate::{DbConn, Store, StoreError, WriteTx, check_version};

/// A stored assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// Id.
    pub id: AssessmentId,
    /// The enterprise assessed.
    pub enterprise_id: EnterpriseId,
    /// The standard version.
    pub standard_id: StandardId,
    /// Which pass.
    pub kind: AssessmentKind,
    /// Where it stands.
    pub state: AssessmentState,
    /// Who assessed (the self-assessment working group, the review team).
    pub assessors: Option<String>,
    /// What was recorded.
    pub results: Results,
    /// Version.
    pub version: i64,
    /// When it was started.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// The day it was submitted (the day its safety performance is judged on).
    pub submitted_on: Option<NaiveDate>,
    /// The grading application a review or check belongs to.
    pub grading_id: Option<GradingId>,
}

/// An assessment with what its score needs: the standard and the enterprise's accidents.
#[derive(Debug, Clone, PartialEq)]
pub struct AssessmentWithFacts {
    /// The assessment.
    pub assessment: Assessment,
    /// Its standard.
    pub standard: StandardData,
    /// The enterprise's accidents.
    pub accidents: Vec<AccidentFacts>,
}

impl AssessmentWithFacts {
    /// The day its safety performance is judged on: the submission day, or `today` for a
    /// draft.
    pub fn judged_on(&self, today: NaiveDate) -> NaiveDate {
        self.assessment.submitted_on.unwrap_or(today)
    }

    /// Its score and grade reached, judged on [`Self::judged_on`].
    pub fn score(&self, today: NaiveDate, rules: &GradeRules) -> Score {
        score(
            &self.standard,
            &self.assessment.results,
            &self.accidents,
            self.judged_on(today),
            rules,
        )
    }
}

/// What starts an assessment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAssessment {
    /// The enterprise.
    pub enterprise_id: EnterpriseId,
    /// The standard version.
    pub standard_id: StandardId,
    /// Which pass.
    pub kind: AssessmentKind,
    /// Who assessed (the self-assessment working group, the review team).
    pub assessors: Option<String>,
    /// The grading application a review or check belongs to (in the caller's scope, of the
    /// same enterprise; not for a self-assessment).
    pub grading_id: Option<GradingId>,
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
    NaiveDateTime,
    NaiveDateTime,
    Option<NaiveDate>,
    Option<String>,
);

const COLUMNS: (
    assessments::id,
    assessments::enterprise_id,
    assessments::standard_id,
    assessments::kind,
    assessments::state,
    assessments::assessors,
    assessments::results,
    assessments::version,
    assessments::created_at,
    assessments::updated_at,
    assessments::submitted_on,
    assessments::grading_id,
) = (
    assessments::id,
    assessments::enterprise_id,
    assessments::standard_id,
    assessments::kind,
    assessments::state,
    assessments::assessors,
    assessments::results,
    assessments::version,
    assessments::created_at,
    assessments::updated_at,
    assessments::submitted_on,
    assessments::grading_id,
);

fn corrupt(what: &str) -> StoreError {
    StoreError::Other(format!("a stored assessment is not valid: {what}").into())
}

fn from_row(r: Row) -> Result<Assessment, StoreError> {
    let (
        id,
        ent,
        std,
        kind,
        state,
        assessors,
        results,
        version,
        created_at,
        updated_at,
        submitted_on,
        grading_id,
    ) = r;
    Ok(Assessment {
        id: AssessmentId::parse(&id).ok_or_else(|| corrupt("id"))?,
        enterprise_id: EnterpriseId::parse(&ent).ok_or_else(|| corrupt("enterprise"))?,
        standard_id: StandardId::parse(&std).ok_or_else(|| corrupt("standard"))?,
        kind: AssessmentKind::from_code(&kind).ok_or_else(|| corrupt("kind"))?,
        state: AssessmentState::from_code(&state).ok_or_else(|| corrupt("state"))?,
        assessors,
        results: serde_json::from_str(&results).map_err(|e| corrupt(&e.to_string()))?,
        version,
        created_at: utc(created_at),
        updated_at: utc(updated_at),
        submitted_on,
        grading_id: match grading_id {
            Some(g) => Some(GradingId::parse(&g).ok_or_else(|| corrupt("grading"))?),
            None => None,
        },
    })
}

fn standard_tree(conn: &mut DbConn, id: StandardId) -> Result<Option<StandardData>, StoreError> {
    let tree: Option<String> = standards::table
        .find(id.to_string())
        .select(standards::tree)
        .first(conn)
        .optional()?;
    tree.map(|t| serde_json::from_str(&t).map_err(|e| corrupt(&e.to_string())))
        .transpose()
}

/// The assessment inside `scope` (`NotFound` otherwise) and its area.
fn load(
    conn: &mut DbConn,
    id: AssessmentId,
    scope: &Scope,
) -> Result<(Assessment, String), StoreError> {
    let row: Row = assessments::table
        .find(id.to_string())
        .select(COLUMNS)
        .first(conn)?;
    let a = from_row(row)?;
    let area = enterprise_area(conn, a.enterprise_id, scope)?;
    if let (Scope::Organisation(org), Some(g)) = (scope, a.grading_id)
        && !crate::gradings::assigned_to(conn, g, org)?
    {
        // Another organisation's review: not there for this one.
        return Err(StoreError::NotFound);
    }
    Ok((a, area))
}

fn with_facts(conn: &mut DbConn, a: Assessment) -> Result<AssessmentWithFacts, StoreError> {
    let standard =
        standard_tree(conn, a.standard_id)?.ok_or_else(|| corrupt("its standard is gone"))?;
    let accidents = crate::grading::accidents::facts_between(conn, a.enterprise_id, None)?;
    Ok(AssessmentWithFacts {
        assessment: a,
        standard,
        accidents,
    })
}

fn results_json(r: &Results) -> Result<String, StoreError> {
    serde_json::to_string(r).map_err(|e| corrupt(&e.to_string()))
}

/// One assessment inside `scope` with what its score needs, in a transaction or a read.
pub(crate) fn load_facts(
    conn: &mut DbConn,
    id: AssessmentId,
    scope: &Scope,
) -> Result<AssessmentWithFacts, StoreError> {
    let (a, _) = load(conn, id, scope)?;
    with_facts(conn, a)
}

/// Starts an assessment (a draft with no results) of an enterprise inside `scope`, on a
/// standard that fits it (422 at `standard_id` otherwise), and records `assessment.created`.
pub fn create(
    tx: &mut WriteTx<'_>,
    new: &NewAssessment,
    scope: &Scope,
    actor: &Actor,
) -> Result<AssessmentWithFacts, StoreError> {
    let area = enterprise_area(tx, new.enterprise_id, scope)?;
    let Some(standard) = standard_tree(tx, new.standard_id)? else {
        return Err(StoreError::MissingReference {
            field: "standard_id",
        });
    };
    let (sector, scale): (String, String) = enterprises::table
        .find(new.enterprise_id.to_string())
        .select((enterprises::sector, enterprises::scale))
        .first(&mut **tx)?;
    let sector = Sector::from_code(&sector).ok_or_else(|| corrupt("sector"))?;
    let scale = Scale::from_code(&scale).ok_or_else(|| corrupt("scale"))?;
    if let Err(why) = fits(&standard, sector, scale) {
        return Err(StoreError::Invalid(vec![Violation::field(
            "standard_id",
            ViolationCode::InvalidValue,
            why,
        )]));
    }
    if let Some(g) = new.grading_id {
        let grading = crate::gradings::load(tx, g, scope).map_err(|e| match e {
            StoreError::NotFound => StoreError::MissingReference {
                field: "grading_id",
            },
            other => other,
        })?;
        let why = if grading.enterprise_id != new.enterprise_id {
            Some("定级申请不是这家企业的")
        } else if new.kind == AssessmentKind::SelfAssessment {
            Some("自评不属于某次定级申请：申请通过 self_assessment_id 引用自评")
        } else {
            None
        };
        if let Some(why) = why {
            return Err(StoreError::Invalid(vec![Violation::field(
                "grading_id",
                ViolationCode::InvalidValue,
                why,
            )]));
        }
    }
    let id = AssessmentId::new();
    let at = now();
    diesel::insert_into(assessments::table)
        .values((
            assessments::id.eq(id.to_string()),
            assessments::enterprise_id.eq(new.enterprise_id.to_string()),
            assessments::standard_id.eq(new.standard_id.to_string()),
            assessments::kind.eq(new.kind.as_str()),
            assessments::state.eq(AssessmentState::Draft.as_str()),
            assessments::assessors.eq(&new.assessors),
            assessments::results.eq(results_json(&Results::default())?),
            assessments::version.eq(1i64),
            assessments::created_at.eq(at),
            assessments::updated_at.eq(at),
            assessments::grading_id.eq(new.grading_id.map(|g| g.to_string())),
            assessments::area_code.eq(&area),
        ))
        .execute(&mut **tx)?;
    tx.record(NewEvent {
        actor: actor.clone(),
        resource_id: id.to_string(),
        area_code: Some(area),
        enterprise_id: Some(new.enterprise_id),
        data: EventData::AssessmentCreated(AssessmentFields {
            id: id.to_string(),
            enterprise_id: new.enterprise_id.to_string(),
            standard_id: new.standard_id.to_string(),
            kind: new.kind.as_str().to_owned(),
            assessors: new.assessors.clone(),
            grading_id: new.grading_id.map(|g| g.to_string()),
        }),
        reason: None,
    })?;
    let (a, _) = load(tx, id, scope)?;
    with_facts(tx, a)
}

/// Filters of the assessment list.
#[derive(Debug, Clone)]
pub struct AssessmentFilter {
    /// The caller's jurisdiction.
    pub scope: Scope,
    /// Only this enterprise.
    pub enterprise_id: Option<EnterpriseId>,
    /// Only this pass.
    pub kind: Option<AssessmentKind>,
    /// Only this state.
    pub state: Option<AssessmentState>,
    /// Only those of this grading application.
    pub grading_id: Option<GradingId>,
}

impl Store {
    /// One assessment inside `scope`, with what its score needs.
    pub fn get_assessment(
        &self,
        id: AssessmentId,
        scope: &Scope,
    ) -> Result<AssessmentWithFacts, StoreError> {
        self.with_read(|conn| {
            let (a, _) = load(conn, id, scope)?;
            with_facts(conn, a)
        })
    }

    /// The assessments matching `filter`, oldest first, after the id `after`, at most `limit`.
    pub fn list_assessments(
        &self,
        filter: &AssessmentFilter,
        after: Option<String>,
        limit: i64,
    ) -> Result<Vec<Assessment>, StoreError> {
        self.with_read(|conn| {
            let q = assessments::table
                .inner_join(enterprises::table)
                .select(COLUMNS)
                .order(assessments::id.asc())
                .limit(limit)
                .into_boxed();
            let mut q = crate::scoped!(
                q,
                &filter.scope,
                enterprises::area_code,
                assessments::enterprise_id,
                &None
            );
            if let Scope::Organisation(org) = &filter.scope {
                // Not the reviews of other organisations' applications.
                use crate::plumbing::schema::gradings;
                q = q.filter(
                    assessments::grading_id
                        .is_null()
                        .or(assessments::grading_id.eq_any(
                            gradings::table
                                .filter(gradings::review_org_id.eq(org.clone()))
                                .select(gradings::id.nullable()),
                        )),
                );
            }
            if let Some(g) = filter.grading_id {
                q = q.filter(assessments::grading_id.eq(g.to_string()));
            }
            if let Some(e) = filter.enterprise_id {
                q = q.filter(assessments::enterprise_id.eq(e.to_string()));
            }
            if let Some(k) = filter.kind {
                q = q.filter(assessments::kind.eq(k.as_str()));
            }
            if let Some(s) = filter.state {
                q = q.filter(assessments::state.eq(s.as_str()));
            }
            if let Some(after) = after {
                q = q.filter(assessments::id.gt(after));
            }
            q.load::<Row>(conn)?.into_iter().map(from_row).collect()
        })
    }

    /// Changes a draft's results: `change` gets the current results and gives the new ones
    /// (checked against the standard), over version `if_match`; records `assessment.updated`.
    pub fn update_assessment<E, C>(
        &self,
        id: AssessmentId,
        access: (Scope, Actor),
        if_match: Option<i64>,
        change: C,
    ) -> impl Future<Output = Result<AssessmentWithFacts, E>> + use<E, C>
    where
        E: From<StoreError> + Send + 'static,
        C: FnOnce(&Results, &StandardData) -> Result<Results, E> + Send + 'static,
    {
        let (scope, actor) = access;
        self.write_keyed(&id.to_string(), move |tx| {
            let (a, area) = load(tx, id, &scope)?;
            transition(a.state).map_err(|r| StoreError::Refused(r.into()))?;
            let standard =
                standard_tree(tx, a.standard_id)?.ok_or_else(|| corrupt("its standard is gone"))?;
            let new = change(&a.results, &standard)?;
            if let Err(v) = new.check(&standard) {
                return Err(StoreError::Invalid(v).into());
            }
            check_version(if_match, a.version)?;
            if new != a.results {
                let written = diesel::update(assessments::table.find(id.to_string()))
                    .filter(assessments::version.eq(a.version))
                    .set((
                        assessments::results.eq(results_json(&new)?),
                        assessments::version.eq(a.version + 1),
                        assessments::updated_at.eq(now()),
                    ))
                    .execute(&mut **tx)
                    .map_err(StoreError::from)?;
                crate::plumbing::error::written_once(written, a.version)?;
                tx.record(NewEvent {
                    actor,
                    resource_id: id.to_string(),
                    area_code: Some(area),
                    enterprise_id: Some(a.enterprise_id),
                    data: EventData::AssessmentUpdated(Changes::between(
                        &a.results,
                        &new,
                        a.version + 1,
                    )?),
                    reason: None,
                })?;
            }
            let (a, _) = load(tx, id, &scope)?;
            Ok(with_facts(tx, a)?)
        })
    }
}

/// Submits (`to` = submitted, on `today`) or discards a draft in `tx`, over version
/// `if_match`; `outcome` gives the score and grade recorded on the event. Writers use the
/// assessment's id as key.
pub fn settle<F>(
    tx: &mut WriteTx<'_>,
    id: AssessmentId,
    (scope, actor, reason): (&Scope, &Actor, Option<String>),
    if_match: Option<i64>,
    (to, today): (AssessmentState, NaiveDate),
    outcome: F,
) -> Result<AssessmentWithFacts, StoreError>
where
    F: FnOnce(&AssessmentWithFacts) -> (Option<f64>, Option<String>),
{
    let (a, area) = load(tx, id, scope)?;
    transition(a.state).map_err(|r| StoreError::Refused(r.into()))?;
    check_version(if_match, a.version)?;
    let submitted_on = (to == AssessmentState::Submitted).then_some(today);
    let written = diesel::update(assessments::table.find(id.to_string()))
        .filter(assessments::version.eq(a.version))
        .set((
            assessments::state.eq(to.as_str()),
            assessments::submitted_on.eq(submitted_on),
            assessments::version.eq(a.version + 1),
            assessments::updated_at.eq(now()),
        ))
        .execute(&mut **tx)?;
    crate::plumbing::error::written_once(written, a.version)?;
    let (a, _) = load(tx, id, scope)?;
    let settled = with_facts(tx, a)?;
    let (score, grade_reached) = if to == AssessmentState::Submitted {
        outcome(&settled)
    } else {
        (None, None)
    };
    let fields = AssessmentOutcomeFields {
        state: to.as_str().to_owned(),
        score,
        grade_reached,
        version: settled.assessment.version,
    };
    tx.record(NewEvent {
        actor: actor.clone(),
        resource_id: id.to_string(),
        area_code: Some(area),
        enterprise_id: Some(settled.assessment.enterprise_id),
        data: if to == AssessmentState::Submitted {
            EventData::AssessmentSubmitted(fields)
        } else {
            EventData::AssessmentDiscarded(fields)
        },
        reason,
    })?;
    Ok(settled)
}
