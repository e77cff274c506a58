//! The payload (`data`) of each event type, one Rust type per type, shared by the log (what
//! is stored), `GET /api/v1/events` (what is answered, documented in the spec as a `oneOf`
//! on `type`) and the webhooks to come. Member names are those of events already stored, so
//! every stored event stays readable; members added later are optional.

use std::collections::BTreeMap;

use safegrade_domain::grading::Certificate;
use safegrade_domain::{CodeList, Enterprise, EventType, Principal};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::StoreError;

/// The fields of an enterprise in the ledger, as `enterprise.created` records them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EnterpriseFields {
    /// Id.
    pub id: String,
    /// Unified social credit code.
    pub credit_code: String,
    /// Registered name.
    pub name: String,
    /// Supervision area.
    pub area_code: String,
    /// Address.
    pub address: Option<String>,
    /// GB/T 4754-2017 industry code.
    pub industry_code: String,
    /// Supervision sector.
    pub sector: String,
    /// Kind of mine, for non-coal mines.
    pub mine_kind: Option<String>,
    /// Scale.
    pub scale: String,
    /// Ownership level.
    pub ownership: String,
    /// Operating status.
    pub operating_status: String,
    /// Principal (主要负责人).
    pub principal_name: String,
    /// Their phone.
    pub principal_phone: Option<String>,
    /// Safety manager.
    pub safety_manager_name: Option<String>,
    /// Their phone.
    pub safety_manager_phone: Option<String>,
    /// Employees.
    pub employees: Option<i32>,
    /// Latitude.
    pub latitude: Option<f64>,
    /// Longitude.
    pub longitude: Option<f64>,
}

impl From<&Enterprise> for EnterpriseFields {
    fn from(e: &Enterprise) -> Self {
        let d = &e.data;
        Self {
            id: e.id.to_string(),
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
        }
    }
}

/// The fields of a principal, as `principal.created` records them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PrincipalFields {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: String,
    /// Supervision areas (area roles).
    pub area_codes: Vec<String>,
    /// The enterprise (enterprise role).
    pub enterprise_id: Option<String>,
    /// An integration that may only read.
    pub read_only: bool,
    /// The review organisation (reviewer role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_organisation: Option<ReviewOrganisationFields>,
    /// Disabled: its tokens stop working.
    pub disabled: bool,
}

/// A review organisation (评审机构): its unified social credit code and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReviewOrganisationFields {
    /// Unified social credit code.
    pub id: String,
    /// Name.
    pub name: String,
}

impl From<&safegrade_domain::ReviewOrganisation> for ReviewOrganisationFields {
    fn from(o: &safegrade_domain::ReviewOrganisation) -> Self {
        Self {
            id: o.id.clone(),
            name: o.name.clone(),
        }
    }
}

impl From<&Principal> for PrincipalFields {
    fn from(p: &Principal) -> Self {
        let d = &p.data;
        Self {
            id: p.id.to_string(),
            name: d.name.clone(),
            role: d.role.as_str().to_owned(),
            area_codes: d.area_codes.clone(),
            enterprise_id: d.enterprise_id.map(|e| e.to_string()),
            read_only: d.read_only,
            review_organisation: d.review_organisation.as_ref().map(Into::into),
            disabled: d.disabled,
        }
    }
}

/// A token's record in `token.created` and `token.revoked`: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenFields {
    /// The principal it authenticates.
    pub principal_id: String,
    /// When it stops working (RFC 3339); null: never.
    pub expires_at: Option<String>,
}

/// Any JSON value (a changed field is a text, a number, a flag, a list, an object or null):
/// every JSON type listed, since an empty schema does not survive the spec's post-processing.
fn any_json() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::Array(vec![
            Type::String,
            Type::Number,
            Type::Boolean,
            Type::Object,
            Type::Array,
            Type::Null,
        ]))
        .build()
}

/// One changed field: its value before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Change {
    /// Before (null: unset): any JSON value, as the field is on the wire.
    #[schema(schema_with = any_json)]
    pub old: serde_json::Value,
    /// After (null: cleared): any JSON value.
    #[schema(schema_with = any_json)]
    pub new: serde_json::Value,
}

/// What an `*.updated` event records: every changed field, and the new version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Changes {
    /// Field name → its old and new value.
    pub changes: BTreeMap<String, Change>,
    /// The record's version after the change.
    pub version: i64,
}

impl Changes {
    /// The fields of `new` that differ from `old` (both serialised the same way).
    pub fn between<T: Serialize>(old: &T, new: &T, version: i64) -> Result<Self, StoreError> {
        let as_map = |v: &T| -> Result<serde_json::Map<String, serde_json::Value>, StoreError> {
            match serde_json::to_value(v) {
                Ok(serde_json::Value::Object(m)) => Ok(m),
                _ => Err(StoreError::Other(
                    "an audit record is not a JSON object".into(),
                )),
            }
        };
        let (old, new) = (as_map(old)?, as_map(new)?);
        let mut changes = BTreeMap::new();
        for (k, v) in &new {
            let before = old.get(k).cloned().unwrap_or(serde_json::Value::Null);
            if before != *v {
                changes.insert(
                    k.clone(),
                    Change {
                        old: before,
                        new: v.clone(),
                    },
                );
            }
        }
        for (k, v) in &old {
            if !new.contains_key(k) {
                changes.insert(
                    k.clone(),
                    Change {
                        old: v.clone(),
                        new: serde_json::Value::Null,
                    },
                );
            }
        }
        Ok(Self { changes, version })
    }
}

/// The fields of a certificate, as `certificate.recorded` records them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CertificateFields {
    /// Id.
    pub id: String,
    /// Holder.
    pub enterprise_id: String,
    /// Regime.
    pub regime: String,
    /// Grade.
    pub grade: String,
    /// Certificate number.
    pub number: String,
    /// Level of the grading authority.
    pub authority_level: String,
    /// Its name.
    pub authority_name: String,
    /// Issued on.
    pub issued_on: String,
    /// Last valid day.
    pub valid_until: String,
    /// Grading standard.
    pub standard: String,
    /// The grade-rule set in force when recorded (absent on events before rule versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules_version: Option<String>,
}

impl From<&Certificate> for CertificateFields {
    fn from(c: &Certificate) -> Self {
        let d = &c.data;
        Self {
            id: c.id.to_string(),
            enterprise_id: d.enterprise_id.to_string(),
            regime: d.regime.as_str().to_owned(),
            grade: d.grade.as_str().to_owned(),
            number: d.number.clone(),
            authority_level: d.authority_level.as_str().to_owned(),
            authority_name: d.authority_name.clone(),
            issued_on: d.issued_on.to_string(),
            valid_until: d.valid_until.to_string(),
            standard: d.standard.clone(),
            rules_version: Some(c.rules_version.clone()),
        }
    }
}

/// A renewal or an upgrade: the new certificate, the one it replaced, and for a renewal the
/// procedure and why the fast track was or was not open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Succession {
    /// The new certificate.
    #[serde(flatten)]
    pub certificate: CertificateFields,
    /// The certificate it replaced.
    pub previous_id: String,
    /// Renewals: `fast_track` or `full_review`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track: Option<String>,
    /// Renewals: why the fast track was not open (empty: it was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fast_track_reasons: Option<Vec<String>>,
}

/// A revocation decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RevocationFields {
    /// The trigger of 定级办法.
    pub trigger: String,
    /// The legal basis cited.
    pub legal_basis: String,
    /// Date of the decision.
    pub decided_on: String,
    /// From this date a new grade can be granted.
    pub regrade_opens_on: String,
    /// The grade-rule set that decided it (absent on events before rule versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules_version: Option<String>,
}

/// What an accident meant for one certificate in force on its date, when recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImpactFields {
    /// The certificate.
    pub certificate_id: String,
    /// Revocation triggers met.
    pub triggers: Vec<String>,
    /// Whether the same-grade fast track was still open.
    pub fast_track_allowed: bool,
}

/// An accident and its evaluation when recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccidentFields {
    /// GB 6441 kind.
    pub kind: String,
    /// Date.
    pub occurred_on: String,
    /// Deaths.
    pub deaths: u32,
    /// Seriously injured.
    pub seriously_injured: u32,
    /// Direct economic loss, CNY.
    pub direct_loss_cny: i64,
    /// Concealed or reported late.
    pub concealed: bool,
    /// Where the facts come from.
    pub source: Option<String>,
    /// The enterprise must restart creation.
    pub restart_required: bool,
    /// Each certificate in force on its date.
    pub certificates: Vec<ImpactFields>,
    /// The grade-rule set that evaluated it (absent on events before rule versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules_version: Option<String>,
}

/// A guidance visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VisitFields {
    /// Date of the visit.
    pub visited_on: String,
    /// Who visited.
    pub visitor: String,
    /// What was found.
    pub findings: String,
    /// When to follow up.
    pub follow_up_on: Option<String>,
}

/// One special day of a calendar year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CalendarDayFields {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// The holiday.
    pub name: String,
}

/// A year's holiday arrangement as loaded or corrected: all of it, not a difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CalendarYearFields {
    /// The year.
    pub year: i32,
    /// Days off.
    pub off: Vec<CalendarDayFields>,
    /// Adjusted working days (调休上班).
    pub work: Vec<CalendarDayFields>,
    /// Where it comes from (the notice), as given.
    pub source: Option<String>,
    /// The year's version after the change.
    pub version: i64,
}

/// A standard version as imported: its summary and its whole tree (the API's format).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StandardFields {
    /// Id.
    pub id: String,
    /// Code.
    pub code: String,
    /// Version.
    pub version: String,
    /// Title.
    pub title: String,
    /// Full points.
    pub full_points: u32,
    /// Check items.
    pub items: usize,
    /// The tree as imported.
    #[schema(value_type = Object)]
    pub tree: serde_json::Value,
}

/// An assessment as started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AssessmentFields {
    /// Id.
    pub id: String,
    /// The enterprise assessed.
    pub enterprise_id: String,
    /// The standard version scored against.
    pub standard_id: String,
    /// `self`, `review` or `regulator`.
    pub kind: String,
    /// Who assessed (the self-assessment working group, the review team), as given.
    pub assessors: Option<String>,
    /// The grading application a review or check belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grading_id: Option<String>,
}

/// An assessment's outcome when submitted (or that it was discarded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AssessmentOutcomeFields {
    /// `submitted` or `discarded`.
    pub state: String,
    /// The score then (submitted).
    pub score: Option<f64>,
    /// The grade reached then (submitted; null: none).
    pub grade_reached: Option<String>,
    /// The version after the change.
    pub version: i64,
}

/// A grading application as submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GradingFields {
    /// Id.
    pub id: String,
    /// The enterprise.
    pub enterprise_id: String,
    /// `first`, `renewal` or `upgrade`.
    pub kind: String,
    /// The grade applied for.
    pub grade: String,
    /// The self-assessment it rests on.
    pub self_assessment_id: String,
    /// The day of the application.
    pub applied_on: String,
}

/// A step taken on a grading application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GradingStepFields {
    /// The step.
    pub step: String,
    /// The day it was taken.
    pub taken_on: String,
    /// The state before.
    pub from: String,
    /// The state after.
    pub to: String,
    /// The certificate the announcement created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_id: Option<String>,
    /// The review organisation assigned (`assignment`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_organisation: Option<ReviewOrganisationFields>,
    /// The review assessment the review rests on (`review`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_assessment_id: Option<String>,
    /// The version after the step.
    pub version: i64,
}

/// A hidden hazard as registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HazardFields {
    /// Id.
    pub id: String,
    /// The enterprise.
    pub enterprise_id: String,
    /// Found on.
    pub found_on: String,
    /// `general` or `major`.
    pub grade: String,
    /// The determination criterion matched (`MEM-2023-10/3/2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criterion: Option<String>,
    /// What was found.
    pub description: String,
}

/// A risk analysis unit as added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RiskUnitFields {
    /// Id.
    pub id: String,
    /// The enterprise.
    pub enterprise_id: String,
    /// `post`, `process_step`, `equipment`, `place` or `activity`.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Where it is controlled.
    pub control_level: String,
}

/// A stop period added to a unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StopFields {
    /// From.
    pub from: String,
    /// To.
    pub to: String,
    /// Why.
    pub reason: String,
    /// The unit's version after.
    pub version: i64,
}

/// A risk as registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RiskFields {
    /// Id.
    pub id: String,
    /// Its unit.
    pub unit_id: String,
    /// Name.
    pub name: String,
    /// The inherent level.
    pub inherent_level: String,
    /// The residual level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residual_level: Option<String>,
    /// The determination criterion that forces 重大.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criterion: Option<String>,
}

/// A control measure as added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MeasureFields {
    /// Id.
    pub id: String,
    /// Its risk.
    pub risk_id: String,
    /// What it does.
    pub description: String,
    /// `monitoring` or `inspection`.
    pub mode: String,
}

/// An inspection task as set up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TaskFields {
    /// Id.
    pub id: String,
    /// Its unit.
    pub unit_id: String,
    /// What to inspect.
    pub content: String,
    /// The cycle, like `1 day`.
    pub cycle: String,
    /// Which days.
    pub day_type: String,
}

/// An inspection as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InspectionFields {
    /// Id.
    pub id: String,
    /// Its task.
    pub task_id: String,
    /// When (Beijing time, RFC 3339 with +08:00).
    pub performed_at: String,
    /// By whom.
    pub performed_by: String,
    /// The result.
    pub result: String,
}

/// A list as drawn up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChecklistFields {
    /// Id.
    pub id: String,
    /// Its type.
    pub checklist_type: String,
    /// Whose it is.
    pub owner_scope: String,
    /// Title.
    pub title: String,
    /// How many items.
    pub items: usize,
}

/// A performance record (履职记录) as made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DutyFields {
    /// The record's id.
    pub id: String,
    /// The item's code.
    pub item_code: String,
    /// Performed on.
    pub performed_on: String,
    /// By whom.
    pub performed_by: String,
}

/// A ledger file imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportFields {
    /// What was imported: `enterprises`.
    pub kind: String,
    /// The file's name as given.
    pub file_name: String,
    /// The SHA-256 of the file's bytes, hexadecimal.
    pub sha256: String,
    /// Rows imported.
    pub rows: i64,
    /// Records created.
    pub created: i64,
    /// Records updated.
    pub updated: i64,
    /// Rows that changed nothing.
    pub unchanged: i64,
}

/// A webhook subscription as made or changed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookFields {
    /// Its id.
    pub id: String,
    /// Where events are sent.
    pub url: String,
    /// The event types sent (empty: all).
    pub event_types: Vec<String>,
    /// Whether events are sent.
    pub enabled: bool,
    /// `active` or `failing`.
    pub status: String,
}

/// An enterprise's move to another supervision area (`enterprise.transferred`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TransferFields {
    /// The area it left.
    pub from_area: String,
    /// The area it joined.
    pub to_area: String,
    /// The enterprise's version after the move.
    pub version: i64,
}

/// The head of an audit chain as recorded once a day (`audit.chain_head`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChainHeadFields {
    /// The chain: a supervision area's code, or `city` for events without an area.
    pub chain: String,
    /// The day (China Standard Time) the head was recorded; it names the chain's last
    /// event of the day before.
    pub recorded_on: String,
    /// That event.
    pub seq: i64,
    /// That event's hash (SHA-256, hexadecimal).
    pub hash: String,
}

/// A step taken on a hazard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HazardStepFields {
    /// The step.
    pub step: String,
    /// The day it was taken.
    pub taken_on: String,
    /// The state before.
    pub from: String,
    /// The state after.
    pub to: String,
    /// The grade after.
    pub grade: String,
    /// The deadline in force after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    /// The version after the step.
    pub version: i64,
}

/// The payload of an event, by type: `{"type": …, "data": …}` on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", content = "data")]
pub enum EventData {
    /// `enterprise.created`: the new record's fields.
    #[serde(rename = "enterprise.created")]
    EnterpriseCreated(EnterpriseFields),
    /// `enterprise.updated`: the changed fields.
    #[serde(rename = "enterprise.updated")]
    EnterpriseUpdated(Changes),
    /// `enterprise.transferred`: the areas it left and joined; recorded once in each of them.
    #[serde(rename = "enterprise.transferred")]
    EnterpriseTransferred(TransferFields),
    /// `principal.created`: the new principal's fields.
    #[serde(rename = "principal.created")]
    PrincipalCreated(PrincipalFields),
    /// `principal.updated`: the changed fields.
    #[serde(rename = "principal.updated")]
    PrincipalUpdated(Changes),
    /// `token.created`.
    #[serde(rename = "token.created")]
    TokenCreated(TokenFields),
    /// `token.revoked`.
    #[serde(rename = "token.revoked")]
    TokenRevoked(TokenFields),
    /// `certificate.recorded`: the certificate's fields.
    #[serde(rename = "certificate.recorded")]
    CertificateRecorded(CertificateFields),
    /// `certificate.revoked`: the decision.
    #[serde(rename = "certificate.revoked")]
    CertificateRevoked(RevocationFields),
    /// `certificate.renewed`: the new certificate and the one it replaced.
    #[serde(rename = "certificate.renewed")]
    CertificateRenewed(Succession),
    /// `certificate.upgraded`: the new certificate and the one it replaced.
    #[serde(rename = "certificate.upgraded")]
    CertificateUpgraded(Succession),
    /// `enterprise.drive_updated`: the changed fields of the drive.
    #[serde(rename = "enterprise.drive_updated")]
    DriveUpdated(Changes),
    /// `visit.recorded`.
    #[serde(rename = "visit.recorded")]
    VisitRecorded(VisitFields),
    /// `accident.recorded`: the accident and its evaluation then.
    #[serde(rename = "accident.recorded")]
    AccidentRecorded(AccidentFields),
    /// `calendar.year_set`: the year's whole arrangement.
    #[serde(rename = "calendar.year_set")]
    CalendarYearSet(CalendarYearFields),
    /// `standard.created`: the version imported.
    #[serde(rename = "standard.created")]
    StandardCreated(StandardFields),
    /// `assessment.created`.
    #[serde(rename = "assessment.created")]
    AssessmentCreated(AssessmentFields),
    /// `assessment.updated`: the changed results.
    #[serde(rename = "assessment.updated")]
    AssessmentUpdated(Changes),
    /// `assessment.submitted`: the outcome then.
    #[serde(rename = "assessment.submitted")]
    AssessmentSubmitted(AssessmentOutcomeFields),
    /// `assessment.discarded`.
    #[serde(rename = "assessment.discarded")]
    AssessmentDiscarded(AssessmentOutcomeFields),
    /// `grading.applied`.
    #[serde(rename = "grading.applied")]
    GradingApplied(GradingFields),
    /// `grading.step_taken`.
    #[serde(rename = "grading.step_taken")]
    GradingStepTaken(GradingStepFields),
    /// `hazard.registered`: the hazard as registered.
    #[serde(rename = "hazard.registered")]
    HazardRegistered(HazardFields),
    /// `hazard.step_taken`: the step, the day, the states before and after.
    #[serde(rename = "hazard.step_taken")]
    HazardStepTaken(HazardStepFields),
    /// `risk_unit.created`: the unit.
    #[serde(rename = "risk_unit.created")]
    RiskUnitCreated(RiskUnitFields),
    /// `risk_unit.stop_added`: the stop period.
    #[serde(rename = "risk_unit.stop_added")]
    UnitStopped(StopFields),
    /// `risk.created`: the risk and its levels.
    #[serde(rename = "risk.created")]
    RiskCreated(RiskFields),
    /// `risk_measure.created`: the measure.
    #[serde(rename = "risk_measure.created")]
    MeasureCreated(MeasureFields),
    /// `inspection_task.created`: the task.
    #[serde(rename = "inspection_task.created")]
    TaskCreated(TaskFields),
    /// `inspection.recorded`: the record.
    #[serde(rename = "inspection.recorded")]
    InspectionRecorded(InspectionFields),
    /// `checklist.created`: the list.
    #[serde(rename = "checklist.created")]
    ChecklistCreated(ChecklistFields),
    /// `checklist.duty_recorded`: the item and the performance.
    #[serde(rename = "checklist.duty_recorded")]
    DutyRecorded(DutyFields),
    /// `import.completed`: the file (by its SHA-256) and what its import wrote.
    #[serde(rename = "import.completed")]
    ImportCompleted(ImportFields),
    /// `webhook.created`: the subscription.
    #[serde(rename = "webhook.created")]
    WebhookCreated(WebhookFields),
    /// `webhook.updated`: the subscription as changed.
    #[serde(rename = "webhook.updated")]
    WebhookUpdated(WebhookFields),
    /// `audit.chain_head`: a chain's last event and its hash, as of a day.
    #[serde(rename = "audit.chain_head")]
    ChainHeadRecorded(ChainHeadFields),
}

impl EventData {
    /// The event's type.
    pub fn event_type(&self) -> EventType {
        match self {
            Self::EnterpriseCreated(_) => EventType::EnterpriseCreated,
            Self::EnterpriseUpdated(_) => EventType::EnterpriseUpdated,
            Self::EnterpriseTransferred(_) => EventType::EnterpriseTransferred,
            Self::PrincipalCreated(_) => EventType::PrincipalCreated,
            Self::PrincipalUpdated(_) => EventType::PrincipalUpdated,
            Self::TokenCreated(_) => EventType::TokenCreated,
            Self::TokenRevoked(_) => EventType::TokenRevoked,
            Self::CertificateRecorded(_) => EventType::CertificateRecorded,
            Self::CertificateRevoked(_) => EventType::CertificateRevoked,
            Self::CertificateRenewed(_) => EventType::CertificateRenewed,
            Self::CertificateUpgraded(_) => EventType::CertificateUpgraded,
            Self::DriveUpdated(_) => EventType::DriveUpdated,
            Self::VisitRecorded(_) => EventType::VisitRecorded,
            Self::AccidentRecorded(_) => EventType::AccidentRecorded,
            Self::CalendarYearSet(_) => EventType::CalendarYearSet,
            Self::StandardCreated(_) => EventType::StandardCreated,
            Self::AssessmentCreated(_) => EventType::AssessmentCreated,
            Self::AssessmentUpdated(_) => EventType::AssessmentUpdated,
            Self::AssessmentSubmitted(_) => EventType::AssessmentSubmitted,
            Self::AssessmentDiscarded(_) => EventType::AssessmentDiscarded,
            Self::GradingApplied(_) => EventType::GradingApplied,
            Self::GradingStepTaken(_) => EventType::GradingStepTaken,
            Self::HazardRegistered(_) => EventType::HazardRegistered,
            Self::HazardStepTaken(_) => EventType::HazardStepTaken,
            Self::RiskUnitCreated(_) => EventType::RiskUnitCreated,
            Self::UnitStopped(_) => EventType::UnitStopped,
            Self::RiskCreated(_) => EventType::RiskCreated,
            Self::MeasureCreated(_) => EventType::MeasureCreated,
            Self::TaskCreated(_) => EventType::TaskCreated,
            Self::InspectionRecorded(_) => EventType::InspectionRecorded,
            Self::ChecklistCreated(_) => EventType::ChecklistCreated,
            Self::DutyRecorded(_) => EventType::DutyRecorded,
            Self::ImportCompleted(_) => EventType::ImportCompleted,
            Self::WebhookCreated(_) => EventType::WebhookCreated,
            Self::WebhookUpdated(_) => EventType::WebhookUpdated,
            Self::ChainHeadRecorded(_) => EventType::ChainHeadRecorded,
        }
    }

    /// The `data` as stored: the payload's JSON text, without the type (a column of its own).
    pub(crate) fn to_stored(&self) -> Result<String, StoreError> {
        let tagged = serde_json::to_value(self).map_err(|e| {
            StoreError::Other(format!("an event payload did not serialise: {e}").into())
        })?;
        Ok(tagged
            .get("data")
            .map(ToString::to_string)
            .unwrap_or_else(|| "{}".into()))
    }

    /// Reads a stored payload of `event_type`.
    pub(crate) fn from_stored(event_type: EventType, data: &str) -> Result<Self, StoreError> {
        let data: serde_json::Value = serde_json::from_str(data)
            .map_err(|e| StoreError::Other(format!("a stored event is not JSON: {e}").into()))?;
        serde_json::from_value(serde_json::json!({"type": event_type.as_str(), "data": data}))
            .map_err(|e| {
                StoreError::Other(
                    format!(
                        "a stored {} event is not readable: {e}",
                        event_type.as_str()
                    )
                    .into(),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_stored_before_typed_payloads_stay_readable() {
        // As written by the earlier code (no rules_version; every member as then).
        let revoked = r#"{"trigger":"fatal_accident","legal_basis":"定级办法","decided_on":"2024-02-01","regrade_opens_on":"2025-02-01"}"#;
        let e = EventData::from_stored(EventType::CertificateRevoked, revoked);
        assert!(
            matches!(
                e,
                Ok(EventData::CertificateRevoked(RevocationFields {
                    rules_version: None,
                    ..
                }))
            ),
            "{e:?}"
        );
        let updated = r#"{"changes":{"employees":{"old":120,"new":121}},"version":2}"#;
        let e = EventData::from_stored(EventType::EnterpriseUpdated, updated);
        let Ok(EventData::EnterpriseUpdated(c)) = e else {
            panic!("{e:?}")
        };
        assert_eq!(c.changes["employees"].new, serde_json::json!(121));
        let renewed = r#"{"id":"a","enterprise_id":"b","regime":"grading_2021","grade":"grade_3","number":"N","authority_level":"city","authority_name":"绵阳市应急管理局","issued_on":"2024-11-01","valid_until":"2027-11-01","standard":"S","previous_id":"c","track":"full_review","fast_track_reasons":[]}"#;
        let e = EventData::from_stored(EventType::CertificateRenewed, renewed);
        let Ok(EventData::CertificateRenewed(s)) = e else {
            panic!("{e:?}")
        };
        assert_eq!(
            (s.previous_id.as_str(), s.track.as_deref()),
            ("c", Some("full_review"))
        );
        // And back: the stored text carries the payload only.
        let text = EventData::CertificateRenewed(s.clone())
            .to_stored()
            .unwrap_or_default();
        let stored: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(stored["previous_id"], "c", "{text}");
        assert!(
            stored.get("type").is_none() && stored.get("data").is_none(),
            "{text}"
        );
    }

    #[test]
    fn changes_name_each_changed_field_with_old_and_new() {
        #[derive(Serialize)]
        struct R {
            a: i32,
            b: &'static str,
            c: Option<i32>,
        }
        let c = Changes::between(
            &R {
                a: 1,
                b: "x",
                c: None,
            },
            &R {
                a: 1,
                b: "y",
                c: Some(2),
            },
            4,
        );
        let Ok(c) = c else { panic!("{c:?}") };
        assert_eq!(c.version, 4);
        assert_eq!(c.changes.keys().collect::<Vec<_>>(), ["b", "c"]);
        assert_eq!(c.changes["b"].old, serde_json::json!("x"));
        assert_eq!(c.changes["c"].new, serde_json::json!(2));
    }

    #[test]
    fn an_unreadable_payload_is_an_error_not_a_panic() {
        assert!(EventData::from_stored(EventType::TokenCreated, "{\"principal\":1}").is_err());
    }
}
