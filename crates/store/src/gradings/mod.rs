//! Grading applications: scoped like their enterprise; submitted on a self-assessment,
//! checked for eligibility, then moved step by step (`domain::gradings::take`), each step kept
//! in order with an event; the announcement records the certificate.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use safegrade_domain::assessments::{AssessmentKind, AssessmentState};
use safegrade_domain::calendar::Calendar;
use safegrade_domain::grading::{
    AuthorityLevel, CertificateData, CertificateRefusal, Grade, GradeRules, RenewalTrack,
    add_months, sub_months,
};
use safegrade_domain::gradings::{
    Eligibility, GradingKind, GradingRefusal, GradingState, GradingStep, Progress, ReviewOutcome,
    Step, ineligible, take,
};
use safegrade_domain::{
    Actor, AssessmentId, CodeList, EnterpriseId, GradingId, ReviewOrganisation, Scope, Violation,
    ViolationCode,
};

use crate::grading::certificates::Succession;
use crate::now;
use crate::plumbing::events::payload::{GradingFields, GradingStepFields};
use crate::plumbing::events::{EventData, NewEvent};
use crate::plumbing::instant::utc;
use crate::plumbing::jurisdiction::enterprise_area;
use crate::plumbing::schema::{grade_summaries, grading_steps, gradings};
use crate::{DbConn, Store, StoreError, WriteTx, check_version};

/// A step as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRecord {
    /// The step.
    pub step: GradingStep,
    /// The day it was taken.
    pub taken_on: NaiveDate,
    /// What was said.
    pub note: Option<String>,
}

/// A stored application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grading {
    /// Id.
    pub id: GradingId,
    /// The enterprise.
    pub enterprise_id: EnterpriseId,
    /// Its area.
    pub area_code: String,
    /// What is applied for.
    pub kind: GradingKind,
    /// The grade applied for.
    pub grade: Grade,
    /// The self-assessment it rests on.
    pub self_assessment_id: AssessmentId,
    /// Where it stands.
    pub progress: Progress,
    /// The certificate the announcement created.
    pub certificate_id: Option<String>,
    /// The review organisation assigned (`assignment`).
    pub review_organisation: Option<ReviewOrganisation>,
    /// The review assessment the on-site review rests on.
    pub review_assessment_id: Option<AssessmentId>,
    /// Version.
    pub version: i64,
    /// The steps taken, in order.
    pub steps: Vec<StepRecord>,
    /// When it was submitted.
    pub created_at: DateTime<Utc>,
}

/// What an application asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGrading {
    /// The enterprise.
    pub enterprise_id: EnterpriseId,
    /// What is applied for.
    pub kind: GradingKind,
    /// The grade applied for.
    pub grade: Grade,
    /// The submitted self-assessment it rests on.
    pub self_assessment_id: AssessmentId,
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    NaiveDate,
    NaiveDate,
    bool,
    Option<i32>,
    bool,
    Option<String>,
    i64,
    NaiveDateTime,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn corrupt(what: &str) -> StoreError {
    StoreError::Other(format!("a stored grading is not valid: {what}").into())
}

fn invalid(field: &str, message: String) -> StoreError {
    StoreError::Invalid(vec![Violation::field(
        field,
        ViolationCode::InvalidValue,
        message,
    )])
}

/// The columns of an application, in [`Row`] order.
macro_rules! columns {
    () => {
        (
            gradings::id,
            gradings::enterprise_id,
            gradings::kind,
            gradings::grade,
            gradings::self_assessment_id,
            gradings::state,
            gradings::since,
            gradings::applied_on,
            gradings::corrected,
            gradings::extended_by,
            gradings::false_commitment,
            gradings::certificate_id,
            gradings::version,
            gradings::created_at,
            gradings::review_org_id,
            gradings::review_org_name,
            gradings::review_assessment_id,
        )
    };
}

/// An application from its row, its area and its steps.
fn assemble(r: Row, area_code: String, steps: Vec<StepRecord>) -> Result<Grading, StoreError> {
    Ok(Grading {
        id: GradingId::parse(&r.0).ok_or_else(|| corrupt("id"))?,
        enterprise_id: EnterpriseId::parse(&r.1).ok_or_else(|| corrupt("enterprise"))?,
        area_code,
        kind: GradingKind::from_code(&r.2).ok_or_else(|| corrupt("kind"))?,
        grade: Grade::from_code(&r.3).ok_or_else(|| corrupt("grade"))?,
        self_assessment_id: AssessmentId::parse(&r.4).ok_or_else(|| corrupt("assessment"))?,
        progress: Progress {
            state: GradingState::from_code(&r.5).ok_or_else(|| corrupt("state"))?,
            since: r.6,
            applied_on: r.7,
            corrected: r.8,
            extended_by: r.9.and_then(|d| u32::try_from(d).ok()),
            false_commitment: r.10,
        },
        certificate_id: r.11,
        review_organisation: match (r.14, r.15) {
            (Some(id), Some(name)) => Some(ReviewOrganisation { id, name }),
            _ => None,
        },
        review_assessment_id: match r.16 {
            Some(a) => Some(AssessmentId::parse(&a).ok_or_else(|| corrupt("review"))?),
            None => None,
        },
        version: r.12,
        steps,
        created_at: utc(r.13),
    })
}

/// The steps of these applications, by application id, in order.
fn steps_of(
    conn: &mut DbConn,
    ids: &[String],
) -> Result<std::collections::HashMap<String, Vec<StepRecord>>, StoreError> {
    let mut out: std::collections::HashMap<String, Vec<StepRecord>> =
        std::collections::HashMap::new();
    for chunk in ids.chunks(1000) {
        let rows = grading_steps::table
            .filter(grading_steps::grading_id.eq_any(chunk))
            .order((grading_steps::grading_id.asc(), grading_steps::seq.asc()))
            .select((
                grading_steps::grading_id,
                grading_steps::step,
                grading_steps::taken_on,
                grading_steps::note,
            ))
            .load::<(String, String, NaiveDate, Option<String>)>(conn)?;
        for (id, step, taken_on, note) in rows {
            out.entry(id).or_default().push(StepRecord {
                step: GradingStep::from_code(&step).ok_or_else(|| corrupt("step"))?,
                taken_on,
                note,
            });
        }
    }
    Ok(out)
}

/// Whether application `id` is assigned to review organisation `org`.
pub(crate) fn assigned_to(conn: &mut DbConn, id: GradingId, org: &str) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(
        gradings::table
            .find(id.to_string())
            .filter(gradings::review_org_id.eq(org)),
    ))
    .get_result(conn)?)
}

/// One application inside `scope` (for a review organisation: assigned to it), with its
/// steps; `NotFound` otherwise.
pub(crate) fn load(conn: &mut DbConn, id: GradingId, scope: &Scope) -> Result<Grading, StoreError> {
    let r: Row = gradings::table
        .find(id.to_string())
        .select(columns!())
        .first(conn)?;
    if let Scope::Organisation(org) = scope
        && r.14.as_deref() != Some(org.as_str())
    {
        return Err(StoreError::NotFound);
    }
    let enterprise_id = EnterpriseId::parse(&r.1).ok_or_else(|| corrupt("enterprise"))?;
    let area_code = enterprise_area(conn, enterprise_id, scope)?;
    let steps = steps_of(conn, std::slice::from_ref(&r.0))?
        .remove(&r.0)
        .unwrap_or_default();
    assemble(r, area_code, steps)
}

/// Submits an application on `on` for an enterprise inside `scope`: the self-assessment must
/// be the enterprise's, submitted within the last 12 months and reach the grade applied for
/// (422 at `self_assessment_id` otherwise); eligibility is checked (409
/// `grading_not_eligible`, each reason naming its rule), including that no other application
/// of the enterprise is still open; records `grading.applied`.
pub fn apply(
    tx: &mut WriteTx<'_>,
    new: &NewGrading,
    (scope, actor, on, rules): (&Scope, &Actor, NaiveDate, &GradeRules),
) -> Result<Grading, StoreError> {
    let area = enterprise_area(tx, new.enterprise_id, scope)?;
    let assessment =
        crate::assessments::load_facts(tx, new.self_assessment_id, scope).map_err(|e| match e {
            StoreError::NotFound => StoreError::MissingReference {
                field: "self_assessment_id",
            },
            other => other,
        })?;
    let a = &assessment.assessment;
    if a.enterprise_id != new.enterprise_id || a.kind != AssessmentKind::SelfAssessment {
        return Err(invalid("self_assessment_id", "须为本企业的自评".into()));
    }
    let Some(submitted_on) = a
        .submitted_on
        .filter(|_| a.state == AssessmentState::Submitted)
    else {
        return Err(invalid("self_assessment_id", "自评尚未提交".into()));
    };
    if submitted_on <= sub_months(on, 12) {
        return Err(invalid(
            "self_assessment_id",
            format!("自评提交于 {submitted_on}，已超过 12 个月，请重新自评"),
        ));
    }
    let reached = assessment.score(on, rules).grade_reached;
    if reached.is_none_or(|g| g.rank() < new.grade.rank()) {
        return Err(invalid(
            "self_assessment_id",
            format!(
                "自评达到的等级（{}）低于申请的{}",
                reached.map_or("未达到任何等级", |g| g.label_zh()),
                new.grade.label_zh()
            ),
        ));
    }
    let in_force: Option<(Option<String>, Option<NaiveDate>, Option<NaiveDate>)> =
        grade_summaries::table
            .find(new.enterprise_id.to_string())
            .select((
                grade_summaries::current_grade,
                grade_summaries::grade_valid_until,
                grade_summaries::revoked_on,
            ))
            .first(&mut **tx)
            .optional()?;
    let in_force = in_force.and_then(|(g, until, revoked)| {
        revoked.is_none().then_some(())?;
        Some((Grade::from_code(&g?)?, until?))
    });
    let last_revocation = crate::grading::certificates::latest_revocation(tx, new.enterprise_id)?;
    let last_refusal: Option<(NaiveDate, bool)> = gradings::table
        .filter(gradings::enterprise_id.eq(new.enterprise_id.to_string()))
        // Item 7 bars after "told not passed"; a rejection of incomplete materials
        // (不予受理) does not.
        .filter(gradings::state.eq(GradingState::Refused.as_str()))
        .order(gradings::since.desc())
        .select((gradings::since, gradings::false_commitment))
        .first(&mut **tx)
        .optional()?;
    // One open application per enterprise, even with writers on several nodes.
    crate::plumbing::locks::hold(tx, crate::plumbing::locks::Lock::Applications)?;
    let closed: Vec<&str> = GradingState::CLOSED.iter().map(|s| s.as_str()).collect();
    let open: Option<(String, NaiveDate)> = gradings::table
        .filter(gradings::enterprise_id.eq(new.enterprise_id.to_string()))
        .filter(gradings::state.ne_all(closed))
        .select((gradings::state, gradings::applied_on))
        .first(&mut **tx)
        .optional()?;
    let open = open
        .map(|(s, on)| {
            Ok::<_, StoreError>((
                GradingState::from_code(&s).ok_or_else(|| corrupt("state"))?,
                on,
            ))
        })
        .transpose()?;
    let facts = Eligibility {
        kind: new.kind,
        grade: new.grade,
        on,
        in_force,
        accidents: crate::grading::accidents::facts_between(tx, new.enterprise_id, None)?,
        last_refusal,
        last_revocation,
        open,
        open_major_hazards: crate::hazards::open_major(tx, new.enterprise_id)?,
    };
    let reasons = ineligible(&facts, rules);
    if !reasons.is_empty() {
        return Err(StoreError::Refused(
            GradingRefusal::Ineligible { reasons }.into(),
        ));
    }
    let id = GradingId::new();
    let at = now();
    diesel::insert_into(gradings::table)
        .values((
            gradings::id.eq(id.to_string()),
            gradings::enterprise_id.eq(new.enterprise_id.to_string()),
            gradings::kind.eq(new.kind.as_str()),
            gradings::grade.eq(new.grade.as_str()),
            gradings::self_assessment_id.eq(new.self_assessment_id.to_string()),
            gradings::state.eq(GradingState::Applied.as_str()),
            gradings::since.eq(on),
            gradings::applied_on.eq(on),
            gradings::corrected.eq(false),
            gradings::false_commitment.eq(false),
            gradings::version.eq(1i64),
            gradings::created_at.eq(at),
            gradings::updated_at.eq(at),
            gradings::area_code.eq(&area),
        ))
        .execute(&mut **tx)?;
    tx.record(NewEvent {
        actor: actor.clone(),
        resource_id: id.to_string(),
        area_code: Some(area),
        enterprise_id: Some(new.enterprise_id),
        data: EventData::GradingApplied(GradingFields {
            id: id.to_string(),
            enterprise_id: new.enterprise_id.to_string(),
            kind: new.kind.as_str().to_owned(),
            grade: new.grade.as_str().to_owned(),
            self_assessment_id: new.self_assessment_id.to_string(),
            applied_on: on.to_string(),
        }),
        reason: None,
    })?;
    load(tx, id, scope)
}

/// A step and what it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRequest {
    /// The step with its facts.
    pub step: Step,
    /// The day it is taken.
    pub on: NaiveDate,
    /// What is said (reasons, non-conformities, the complaint).
    pub note: Option<String>,
    /// For an announcement: the certificate's number, authority and standard (its
    /// enterprise, grade, regime and dates come from the application and the day).
    pub certificate: Option<Announced>,
    /// For an assignment: the review organisation.
    pub review_organisation: Option<ReviewOrganisation>,
    /// For a review: the submitted review assessment of this application it rests on.
    pub review_assessment_id: Option<AssessmentId>,
}

/// What an announcement says of the certificate it creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announced {
    /// Certificate number.
    pub number: String,
    /// The grading authority.
    pub authority: (AuthorityLevel, String),
    /// The standard the grade was scored under.
    pub standard: String,
}

/// Takes a step on an application inside `scope` over version `if_match`; the announcement
/// records the certificate (issued on the announcement day). Records `grading.step_taken`.
pub fn step(
    tx: &mut WriteTx<'_>,
    id: GradingId,
    (scope, actor, if_match): (&Scope, &Actor, Option<i64>),
    request: StepRequest,
    (calendar, rules): (&Calendar, &GradeRules),
) -> Result<Grading, StoreError> {
    let g = load(tx, id, scope)?;
    let next = take(
        &g.progress,
        request.step,
        request.on,
        calendar,
        &rules.grading_limits,
    )
    .map_err(|r| StoreError::Refused(r.into()))?;
    check_version(if_match, g.version)?;
    if request.step == (Step::Acceptance { fast_track: true }) {
        fast_track(tx, &g, request.on, rules)?;
    }
    let organisation = match request.step {
        Step::Assignment => Some(request.review_organisation.clone().ok_or_else(|| {
            StoreError::Invalid(vec![Violation::field(
                "review_organisation",
                ViolationCode::Required,
                "指派须写明评审机构（review_organisation 的 id 和 name）",
            )])
        })?),
        _ => g.review_organisation.clone(),
    };
    let review_assessment_id = match request.step {
        Step::Review(outcome) => Some(review_basis(
            tx,
            &g,
            request.review_assessment_id,
            (scope, outcome, request.on, rules),
        )?),
        _ => g.review_assessment_id,
    };
    let mut certificate_id = g.certificate_id.clone();
    if next.state == GradingState::Announced {
        let Some(announced) = request.certificate.clone() else {
            return Err(StoreError::Invalid(vec![Violation::field(
                "certificate",
                ViolationCode::Required,
                "公告须写明证书编号和定级部门（certificate）",
            )]));
        };
        let allowed = safegrade_domain::gradings::announcing_authorities(g.grade);
        if !allowed.contains(&announced.authority.0) {
            let names: Vec<&str> = allowed.iter().map(|a| a.label_zh()).collect();
            return Err(StoreError::Invalid(vec![Violation {
                pointer: "/certificate/authority/level".into(),
                code: ViolationCode::InvalidValue,
                message: format!(
                    "{}由{}定级，不是{}（定级办法关于定级部门的规定）",
                    g.grade.label_zh(),
                    names.join("或"),
                    announced.authority.0.label_zh()
                ),
            }]));
        }
        // Valid from the announcement, for the validity of the rules (domain research §1.6,
        // §15: the announcement, not the review, creates the certificate).
        let data = CertificateData {
            enterprise_id: g.enterprise_id,
            regime: rules.regime_for(request.on, g.grade == Grade::SmallMicro),
            grade: g.grade,
            number: announced.number,
            authority_level: announced.authority.0,
            authority_name: announced.authority.1,
            issued_on: request.on,
            valid_until: add_months(request.on, rules.validity_months),
            standard: announced.standard,
        };
        // A renewal or an upgrade replaces the grade in force (certificate.renewed /
        // upgraded, by the procedure the application went through); otherwise a new grade.
        let current = crate::grading::certificates::in_force(tx, g.enterprise_id, request.on)?;
        let succession = match g.kind {
            GradingKind::Renewal if g.steps.iter().any(|s| s.step == GradingStep::Review) => {
                Some(Succession::Renewal(RenewalTrack::FullReview))
            }
            GradingKind::Renewal => Some(Succession::Renewal(RenewalTrack::FastTrack)),
            GradingKind::Upgrade => Some(Succession::Upgrade),
            GradingKind::First => None,
        };
        let c = match (current, succession) {
            (Some(current), Some(succession)) => crate::grading::certificates::supersede(
                tx,
                current.id,
                (scope, actor),
                None,
                succession,
                rules,
                |_| Ok::<_, StoreError>(data),
            )?,
            _ => crate::grading::certificates::record(tx, &data, scope, actor, rules)?,
        };
        certificate_id = Some(c.id.to_string());
    }
    let written = diesel::update(gradings::table.find(id.to_string()))
        .filter(gradings::version.eq(g.version))
        .set((
            gradings::state.eq(next.state.as_str()),
            gradings::since.eq(next.since),
            gradings::corrected.eq(next.corrected),
            gradings::extended_by.eq(next.extended_by.and_then(|d| i32::try_from(d).ok())),
            gradings::false_commitment.eq(next.false_commitment),
            gradings::certificate_id.eq(&certificate_id),
            gradings::review_org_id.eq(organisation.as_ref().map(|o| o.id.clone())),
            gradings::review_org_name.eq(organisation.as_ref().map(|o| o.name.clone())),
            gradings::review_assessment_id.eq(review_assessment_id.map(|a| a.to_string())),
            gradings::version.eq(g.version + 1),
            gradings::updated_at.eq(now()),
        ))
        .execute(&mut **tx)?;
    crate::plumbing::error::written_once(written, g.version)?;
    diesel::insert_into(grading_steps::table)
        .values((
            grading_steps::grading_id.eq(id.to_string()),
            grading_steps::seq.eq(i32::try_from(g.steps.len() + 1).unwrap_or(i32::MAX)),
            grading_steps::step.eq(request.step.code().as_str()),
            grading_steps::taken_on.eq(request.on),
            grading_steps::note.eq(&request.note),
            grading_steps::created_at.eq(now()),
            grading_steps::area_code.eq(&g.area_code),
        ))
        .execute(&mut **tx)?;
    tx.record(NewEvent {
        actor: actor.clone(),
        resource_id: id.to_string(),
        area_code: Some(g.area_code.clone()),
        enterprise_id: Some(g.enterprise_id),
        data: EventData::GradingStepTaken(GradingStepFields {
            step: request.step.code().as_str().to_owned(),
            taken_on: request.on.to_string(),
            from: g.progress.state.as_str().to_owned(),
            to: next.state.as_str().to_owned(),
            certificate_id: certificate_id.clone(),
            review_organisation: (request.step == Step::Assignment)
                .then(|| organisation.as_ref().map(Into::into))
                .flatten(),
            review_assessment_id: matches!(request.step, Step::Review(_))
                .then(|| review_assessment_id.map(|a| a.to_string()))
                .flatten(),
            version: g.version + 1,
        }),
        reason: request.note.clone(),
    })?;
    load(tx, id, scope)
}

/// The review assessment a review step rests on: given, one of this application's reviews
/// (its `grading_id`), submitted; a `passed` outcome needs its score to reach the grade
/// applied for (定级办法: the review team scores the enterprise against the standard). 422 at
/// `assessment_id` otherwise.
fn review_basis(
    tx: &mut WriteTx<'_>,
    g: &Grading,
    given: Option<AssessmentId>,
    (scope, outcome, on, rules): (&Scope, ReviewOutcome, NaiveDate, &GradeRules),
) -> Result<AssessmentId, StoreError> {
    let field = "assessment_id";
    let Some(id) = given else {
        return Err(StoreError::Invalid(vec![Violation::field(
            field,
            ViolationCode::Required,
            "现场评审须附评审评分（assessment_id：本申请的已提交评审）",
        )]));
    };
    let review = crate::assessments::load_facts(tx, id, scope).map_err(|e| match e {
        StoreError::NotFound => StoreError::MissingReference { field },
        other => other,
    })?;
    let a = &review.assessment;
    let why = if a.kind != AssessmentKind::Review || a.grading_id != Some(g.id) {
        Some("须为本申请的评审评分（kind 为 review、grading_id 为本申请）".to_owned())
    } else if a.state != AssessmentState::Submitted {
        Some("评审评分尚未提交".to_owned())
    } else {
        let reached = review.score(on, rules).grade_reached;
        (outcome == ReviewOutcome::Passed && reached.is_none_or(|r| r.rank() < g.grade.rank()))
            .then(|| {
                format!(
                    "评审评分达到的等级（{}）低于申请的{}，不能判定为通过",
                    reached.map_or("未达到任何等级", |r| r.label_zh()),
                    g.grade.label_zh()
                )
            })
    };
    match why {
        Some(why) => Err(invalid(field, why)),
        None => Ok(id),
    }
}

/// The fast track (直接公示公告) is for a same-grade renewal whose conditions held through the
/// validity of the grade in force: the rule of [`GradeRules::fast_track`] over the accidents
/// during that validity, the one renewals of certificates use (定级办法 same-grade
/// re-application). 409 `fast_track_not_allowed` with the reasons otherwise.
fn fast_track(
    tx: &mut WriteTx<'_>,
    g: &Grading,
    on: NaiveDate,
    rules: &GradeRules,
) -> Result<(), StoreError> {
    let refused = |reasons: Vec<String>| {
        StoreError::from(CertificateRefusal::FastTrackNotAllowed { reasons })
    };
    if g.kind != GradingKind::Renewal {
        return Err(refused(vec![format!(
            "只有同一等级的复评可以直接公示公告，本申请是{}",
            g.kind.label_zh()
        )]));
    }
    let Some(current) = crate::grading::certificates::in_force(tx, g.enterprise_id, on)? else {
        return Err(refused(vec!["企业没有现行有效的等级".into()]));
    };
    let during = crate::grading::accidents::facts_between(
        tx,
        g.enterprise_id,
        Some((current.data.issued_on, current.data.valid_until)),
    )?;
    let fast = rules.fast_track(current.data.grade, &during);
    if fast.allowed {
        Ok(())
    } else {
        Err(refused(fast.reasons))
    }
}

/// Filters of the application list.
#[derive(Debug, Clone)]
pub struct GradingFilter {
    /// The caller's jurisdiction.
    pub scope: Scope,
    /// Only this area.
    pub area_code: Option<String>,
    /// Only this enterprise.
    pub enterprise_id: Option<EnterpriseId>,
    /// Only this state.
    pub state: Option<GradingState>,
}

impl Store {
    /// One application inside `scope`, with its steps.
    pub fn get_grading(&self, id: GradingId, scope: &Scope) -> Result<Grading, StoreError> {
        self.with_read(|conn| load(conn, id, scope))
    }

    /// The applications matching `filter`, oldest first: one query for them, one for their
    /// steps.
    pub fn list_gradings(&self, filter: &GradingFilter) -> Result<Vec<Grading>, StoreError> {
        use crate::plumbing::schema::enterprises;
        self.with_read(|conn| {
            let q = gradings::table
                .inner_join(enterprises::table)
                .select((columns!(), enterprises::area_code))
                .order(gradings::id.asc())
                .into_boxed();
            let mut q = crate::scoped!(
                q,
                &filter.scope,
                enterprises::area_code,
                gradings::enterprise_id,
                &filter.area_code
            );
            if let Scope::Organisation(org) = &filter.scope {
                q = q.filter(gradings::review_org_id.eq(org.clone()));
            }
            if let Some(e) = filter.enterprise_id {
                q = q.filter(gradings::enterprise_id.eq(e.to_string()));
            }
            if let Some(s) = filter.state {
                q = q.filter(gradings::state.eq(s.as_str()));
            }
            let rows: Vec<(Row, String)> = q.load(conn)?;
            let ids: Vec<String> = rows.iter().map(|(r, _)| r.0.clone()).collect();
            let mut steps = steps_of(conn, &ids)?;
            rows.into_iter()
                .map(|(r, area)| {
                    let s = steps.remove(&r.0).unwrap_or_default();
                    assemble(r, area, s)
                })
                .collect()
        })
    }
}
