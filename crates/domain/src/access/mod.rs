//! Who may do what: principals (API callers), their roles and jurisdiction, and the audit
//! events every change leaves behind.
//!
//! Rule: a county-level bureau regulates the enterprises of its own area (属地监管, notice
//! 绵应急函〔2020〕42号 part 1: each county and park zone keeps the ledger of its own
//! enterprises; see `book/src/access/index.md`). The role table is [`Role::may`]; the
//! jurisdiction test is [`Scope::covers`].

use chrono::{DateTime, Utc};

use crate::plumbing::validation::{Checker, Violation, ViolationCode as V};
use crate::{CodeList, EnterpriseId, PrincipalId, code_list, find_area};

code_list! {
    /// What a principal is (角色). Decides the kinds of operation it may perform
    /// ([`Role::may`]); its [`Scope`] decides on which records.
    pub enum Role {
        /// The city bureau's administrator: whole city, manages principals and tokens.
        CityAdmin = ("city_admin", "市局管理员"),
        /// A city bureau regulator: whole city.
        CityRegulator = ("city_regulator", "市局监管人员"),
        /// A county or park-zone regulator: the enterprises of one or more supervision areas.
        AreaRegulator = ("area_regulator", "县区（园区）监管人员"),
        /// An enterprise's own software: exactly one enterprise, read-only for now.
        Enterprise = ("enterprise", "企业"),
        /// A service account of another system, with explicit areas and a read-only or
        /// read-write flag.
        Integration = ("integration", "对接系统"),
        /// A review organisation (评审机构): the grading applications assigned to it and
        /// their enterprises; records the review and the rectification verification.
        Reviewer = ("reviewer", "评审机构"),
    }
}

code_list! {
    /// Kinds of operation, as checked by [`Role::may`].
    pub enum Action {
        /// Read the ledger, the reference data and the event feed.
        Read = ("read", "查询"),
        /// Create and change enterprises in the ledger.
        WriteLedger = ("write_ledger", "录入、变更企业台账"),
        /// Manage principals and tokens.
        ManageAccess = ("manage_access", "管理账号与令牌"),
        /// Maintain city-wide reference data (the working-day calendar, grading standards).
        ManageReference = ("manage_reference", "维护参考数据（工作日历、评定标准）"),
        /// Record an enterprise's dual-prevention work: its risk register, control measures
        /// and hidden hazards (the enterprise its own).
        RecordDualPrevention = ("record_dual_prevention", "登记风险管控与隐患排查"),
        /// Export the whole audit trail with its hashes (审计链), including events about
        /// principals and tokens.
        ExportAuditTrail = ("export_audit_trail", "导出审计链"),
    }
}

impl Role {
    /// Whether this role may perform `action` at all (the scope then decides on which
    /// records). `read_only` applies to integrations.
    pub fn may(self, action: Action, read_only: bool) -> bool {
        match action {
            Action::Read => true,
            Action::WriteLedger => match self {
                Self::CityAdmin | Self::CityRegulator | Self::AreaRegulator => true,
                Self::Integration => !read_only,
                Self::Enterprise | Self::Reviewer => false,
            },
            Action::RecordDualPrevention => match self {
                Self::CityAdmin | Self::CityRegulator | Self::AreaRegulator | Self::Enterprise => {
                    true
                }
                Self::Integration => !read_only,
                Self::Reviewer => false,
            },
            Action::ManageAccess | Action::ManageReference | Action::ExportAuditTrail => {
                self == Self::CityAdmin
            }
        }
    }

    /// Whether it is an emergency-management bureau's (the city's or a county's): the
    /// regulator roles that grade hazards, list them and decide for the bureau.
    pub fn is_regulator(self) -> bool {
        matches!(
            self,
            Self::CityAdmin | Self::CityRegulator | Self::AreaRegulator
        )
    }

    /// Whether the role is scoped by supervision areas (and so needs `area_codes`).
    pub fn has_areas(self) -> bool {
        matches!(self, Self::AreaRegulator | Self::Integration)
    }
}

/// The records a principal may see and touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The whole city.
    City,
    /// The enterprises of these supervision areas.
    Areas(Vec<String>),
    /// One enterprise.
    Enterprise(EnterpriseId),
    /// The enterprises with a grading application assigned to this review organisation (by
    /// its id), and of gradings only those assigned to it. Which enterprises that is lives in
    /// storage, so [`Scope::covers`] cannot answer and the store decides.
    Organisation(String),
}

impl Scope {
    /// Whether a record of enterprise `enterprise` in `area_code` is inside this scope.
    /// Outside the scope a record does not exist for the caller (404, never 403).
    pub fn covers(&self, area_code: &str, enterprise: EnterpriseId) -> bool {
        match self {
            Self::City => true,
            Self::Areas(areas) => areas.iter().any(|a| a == area_code),
            Self::Enterprise(id) => *id == enterprise,
            // Decided by the store against the assignments (`jurisdiction::enterprise_area`).
            Self::Organisation(_) => false,
        }
    }

    /// Whether a new record may be placed in `area_code` (creating or moving an enterprise).
    pub fn covers_area(&self, area_code: &str) -> bool {
        match self {
            Self::City => true,
            Self::Areas(areas) => areas.iter().any(|a| a == area_code),
            Self::Enterprise(_) | Self::Organisation(_) => false,
        }
    }
}

/// A review organisation's id and name as given, before [`ReviewOrganisation::check`].
pub type OrganisationInput = (Option<String>, Option<String>);

/// The review organisation (评审机构) a `reviewer` principal speaks for, and a grading is
/// assigned to: its unified social credit code as the id, and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewOrganisation {
    /// Unified social credit code (统一社会信用代码), checked like an enterprise's.
    pub id: String,
    /// Its name.
    pub name: String,
}

impl ReviewOrganisation {
    /// Checks an organisation given as id and name, reporting violations under `at`
    /// (`/review_organisation`).
    pub fn check(at: &str, id: Option<&str>, name: Option<&str>) -> Result<Self, Vec<Violation>> {
        let mut violations = Vec::new();
        let id = match id.map(str::trim) {
            None | Some("") => {
                violations.push(Violation {
                    pointer: format!("{at}/id"),
                    code: V::Required,
                    message: "评审机构须填写统一社会信用代码（id）".into(),
                });
                None
            }
            Some(raw) => match crate::CreditCode::parse(raw) {
                Ok(c) => Some(c.as_str().to_owned()),
                Err(e) => {
                    violations.push(Violation {
                        pointer: format!("{at}/id"),
                        code: V::InvalidCreditCode,
                        message: e.to_string(),
                    });
                    None
                }
            },
        };
        let name = match name.map(str::trim) {
            None | Some("") => {
                violations.push(Violation {
                    pointer: format!("{at}/name"),
                    code: V::Required,
                    message: "评审机构须填写名称（name）".into(),
                });
                None
            }
            Some(n) if n.chars().count() > principal_limits::NAME => {
                violations.push(Violation {
                    pointer: format!("{at}/name"),
                    code: V::TooLong,
                    message: format!("名称最多 {} 个字符", principal_limits::NAME),
                });
                None
            }
            Some(n) => Some(n.to_owned()),
        };
        match (id, name) {
            (Some(id), Some(name)) => Ok(Self { id, name }),
            _ => Err(violations),
        }
    }
}

/// The validated facts of a principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalData {
    /// A name for people (the person, office or system).
    pub name: String,
    /// Role.
    pub role: Role,
    /// Supervision areas, for `area_regulator` and `integration`; empty otherwise.
    pub area_codes: Vec<String>,
    /// The enterprise of an `enterprise` principal.
    pub enterprise_id: Option<EnterpriseId>,
    /// For integrations: may only read.
    pub read_only: bool,
    /// The review organisation of a `reviewer`.
    pub review_organisation: Option<ReviewOrganisation>,
    /// A disabled principal's tokens stop working.
    pub disabled: bool,
}

impl PrincipalData {
    /// The records this principal may see.
    pub fn scope(&self) -> Scope {
        match (self.role, self.enterprise_id) {
            (Role::Enterprise, Some(id)) => Scope::Enterprise(id),
            // Validation makes an enterprise principal name its enterprise; a record that
            // somehow lacks it sees nothing.
            (Role::Enterprise, None) => Scope::Areas(Vec::new()),
            (Role::Reviewer, _) => match &self.review_organisation {
                Some(o) => Scope::Organisation(o.id.clone()),
                None => Scope::Areas(Vec::new()),
            },
            (r, _) if r.has_areas() => Scope::Areas(self.area_codes.clone()),
            _ => Scope::City,
        }
    }

    /// Whether this principal may perform `action` at all.
    pub fn may(&self, action: Action) -> bool {
        self.role.may(action, self.read_only)
    }
}

/// A stored principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Id.
    pub id: PrincipalId,
    /// The facts.
    pub data: PrincipalData,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Limits of principal fields.
pub mod principal_limits {
    /// Name length in characters.
    pub const NAME: usize = 100;
    /// Most supervision areas one principal may hold.
    pub const AREAS: usize = 20;
}

/// Unvalidated principal input (create, or a merge patch applied to the current data).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrincipalInput {
    /// See [`PrincipalData::name`].
    pub name: Option<String>,
    /// See [`PrincipalData::role`].
    pub role: Option<String>,
    /// See [`PrincipalData::area_codes`].
    pub area_codes: Option<Vec<String>>,
    /// See [`PrincipalData::enterprise_id`].
    pub enterprise_id: Option<String>,
    /// See [`PrincipalData::read_only`].
    pub read_only: Option<bool>,
    /// See [`PrincipalData::review_organisation`]: its id and name as given.
    pub review_organisation: Option<OrganisationInput>,
    /// See [`PrincipalData::disabled`].
    pub disabled: Option<bool>,
}

impl From<&PrincipalData> for PrincipalInput {
    fn from(d: &PrincipalData) -> Self {
        Self {
            name: Some(d.name.clone()),
            role: Some(d.role.as_str().to_owned()),
            area_codes: Some(d.area_codes.clone()),
            enterprise_id: d.enterprise_id.map(|id| id.to_string()),
            read_only: Some(d.read_only),
            review_organisation: d
                .review_organisation
                .as_ref()
                .map(|o| (Some(o.id.clone()), Some(o.name.clone()))),
            disabled: Some(d.disabled),
        }
    }
}

impl PrincipalInput {
    /// Checks every field and reports every violation at once. Area-scoped roles
    /// (`area_regulator`, `integration`) need at least one supervision area below the city;
    /// an `enterprise` principal needs its enterprise; an `integration` must say whether it
    /// is read-only. Fields that do not apply to the role are refused rather than ignored.
    pub fn validate(&self) -> Result<PrincipalData, Vec<Violation>> {
        let mut c = Checker::default();
        let name = c
            .required("name", &self.name)
            .and_then(|v| c.text("name", Some(v), principal_limits::NAME));
        let role: Option<Role> = c
            .required("role", &self.role)
            .and_then(|v| c.code("role", Some(v)));
        let areas = self.area_codes.clone().unwrap_or_default();
        let mut area_codes = Vec::new();
        for (i, raw) in areas.iter().enumerate() {
            let pointer = format!("/area_codes/{i}");
            match find_area(raw.trim()) {
                None => c.violations.push(Violation {
                    pointer,
                    code: V::UnknownArea,
                    message: format!("'{raw}' 不是监管区域（区域列表见参考数据 areas）"),
                }),
                Some(a) if !a.holds_enterprises() => c.violations.push(Violation {
                    pointer,
                    code: V::AreaNotAssignable,
                    message: format!(
                        "{}（{}）是全市：全市范围的权限请用 city_regulator 角色",
                        a.code, a.name_zh
                    ),
                }),
                Some(a) if !area_codes.contains(&a.code.to_owned()) => {
                    area_codes.push(a.code.to_owned());
                }
                Some(_) => {}
            }
        }
        if areas.len() > principal_limits::AREAS {
            c.fail(
                "area_codes",
                V::TooLong,
                format!(
                    "最多 {} 个区域，实际为 {} 个",
                    principal_limits::AREAS,
                    areas.len()
                ),
            );
        }
        let enterprise_id = match &self.enterprise_id {
            Some(raw) => {
                let id = EnterpriseId::parse(raw.trim());
                if id.is_none() {
                    c.fail(
                        "enterprise_id",
                        V::InvalidValue,
                        format!("'{raw}' 不是企业 id"),
                    );
                }
                id
            }
            None => None,
        };
        if let Some(role) = role {
            match (role.has_areas(), areas.is_empty()) {
                (true, true) => c.fail(
                    "area_codes",
                    V::Required,
                    format!("{role} 账号至少需要一个监管区域"),
                ),
                (false, false) => c.fail(
                    "area_codes",
                    V::NotApplicable,
                    format!(
                        "{role} 账号不设区域：其范围是{}",
                        match role {
                            Role::Enterprise => "本企业",
                            Role::Reviewer => "指派给本机构的定级申请",
                            _ => "全市",
                        }
                    ),
                ),
                _ => {}
            }
            match (role == Role::Enterprise, self.enterprise_id.is_some()) {
                (true, false) => {
                    c.fail("enterprise_id", V::Required, "企业账号须填写 enterprise_id")
                }
                (false, true) => c.fail(
                    "enterprise_id",
                    V::NotApplicable,
                    format!("enterprise_id 只适用于企业账号，不适用于 {role}"),
                ),
                _ => {}
            }
            match (role == Role::Integration, self.read_only) {
                (true, None) => c.fail(
                    "read_only",
                    V::Required,
                    "对接账号须说明是只读（true）还是可写（false）",
                ),
                (false, Some(true)) => c.fail(
                    "read_only",
                    V::NotApplicable,
                    format!("read_only 只适用于对接账号；{role} 的权限由角色决定"),
                ),
                _ => {}
            }
        }
        let organisation = match (role, &self.review_organisation) {
            (Some(Role::Reviewer), Some((id, name))) => {
                match ReviewOrganisation::check(
                    "/review_organisation",
                    id.as_deref(),
                    name.as_deref(),
                ) {
                    Ok(o) => Some(o),
                    Err(v) => {
                        c.violations.extend(v);
                        None
                    }
                }
            }
            (Some(Role::Reviewer), None) => {
                c.fail(
                    "review_organisation",
                    V::Required,
                    "评审机构账号须填写所属评审机构（review_organisation 的 id 和 name）",
                );
                None
            }
            (Some(role), Some(_)) => {
                c.fail(
                    "review_organisation",
                    V::NotApplicable,
                    format!("review_organisation 只适用于评审机构账号，不适用于 {role}"),
                );
                None
            }
            _ => None,
        };
        match (name, role) {
            (Some(name), Some(role)) if c.violations.is_empty() => Ok(PrincipalData {
                name,
                role,
                area_codes: if role.has_areas() {
                    area_codes
                } else {
                    Vec::new()
                },
                enterprise_id: if role == Role::Enterprise {
                    enterprise_id
                } else {
                    None
                },
                read_only: role == Role::Integration && self.read_only == Some(true),
                review_organisation: organisation,
                disabled: self.disabled.unwrap_or(false),
            }),
            _ => Err(c.violations),
        }
    }
}

code_list! {
    /// What happened, the `type` of an event.
    pub enum EventType {
        /// An enterprise was added to the ledger; `data` is the record.
        EnterpriseCreated = ("enterprise.created", "录入企业"),
        /// An enterprise changed; `data.changes` holds each changed field's old and new value.
        EnterpriseUpdated = ("enterprise.updated", "变更企业信息"),
        /// An enterprise moved to another supervision area: recorded in the area it left
        /// (its `enterprise.updated` is in the area it joined), so each area's trail is whole.
        EnterpriseTransferred = ("enterprise.transferred", "企业迁出本区域"),
        /// A principal was created; `data` is the principal.
        PrincipalCreated = ("principal.created", "新建账号"),
        /// A principal changed (role, scope, name, disabled); `data.changes` as above.
        PrincipalUpdated = ("principal.updated", "变更账号"),
        /// A token was issued; `data` names the token and its expiry, never the secret.
        TokenCreated = ("token.created", "签发令牌"),
        /// A token was revoked.
        TokenRevoked = ("token.revoked", "吊销令牌"),
        /// A certificate was recorded; `data` is the certificate.
        CertificateRecorded = ("certificate.recorded", "登记等级证书"),
        /// A certificate was revoked; `data` is the revocation decision.
        CertificateRevoked = ("certificate.revoked", "撤销等级"),
        /// A certificate was renewed: `data.previous_id` is the certificate it supersedes,
        /// `data.track` the procedure.
        CertificateRenewed = ("certificate.renewed", "复评换证"),
        /// A certificate was upgraded to a higher grade: `data.previous_id` as above.
        CertificateUpgraded = ("certificate.upgraded", "提档升级"),
        /// An enterprise's creation or upgrade drive changed (focus, stage, model, target);
        /// `data.changes` as for updates.
        DriveUpdated = ("enterprise.drive_updated", "变更创建与提档升级记录"),
        /// A guidance visit was recorded; `data` is the visit.
        VisitRecorded = ("visit.recorded", "登记督促指导"),
        /// An accident was recorded; `data` is the accident and its evaluation.
        AccidentRecorded = ("accident.recorded", "登记生产安全事故"),
        /// A year's holiday arrangement was loaded or corrected (工作日历).
        CalendarYearSet = ("calendar.year_set", "设定工作日历"),
        /// A version of a grading standard was imported (评定标准).
        StandardCreated = ("standard.created", "导入评定标准"),
        /// An assessment was started (自评、评审、监督检查).
        AssessmentCreated = ("assessment.created", "开始评分"),
        /// A draft assessment's results changed.
        AssessmentUpdated = ("assessment.updated", "填写评分结果"),
        /// An assessment was submitted; it never changes again.
        AssessmentSubmitted = ("assessment.submitted", "提交评分"),
        /// A draft assessment was discarded.
        AssessmentDiscarded = ("assessment.discarded", "作废评分草稿"),
        /// A grading application was submitted (定级申请).
        GradingApplied = ("grading.applied", "提交定级申请"),
        /// A step of a grading application was taken.
        GradingStepTaken = ("grading.step_taken", "定级办理"),
        /// A hidden hazard was registered (隐患登记).
        HazardRegistered = ("hazard.registered", "登记隐患"),
        /// A step of a hazard's rectification was taken (整改、验收、延期、挂牌督办…).
        HazardStepTaken = ("hazard.step_taken", "隐患治理"),
        /// A risk analysis unit was added (风险分析单元).
        RiskUnitCreated = ("risk_unit.created", "新增风险分析单元"),
        /// A stop period (检维修、停用) was added to a unit.
        UnitStopped = ("risk_unit.stop_added", "登记单元停用时段"),
        /// A risk was assessed and registered (风险辨识评价).
        RiskCreated = ("risk.created", "登记风险"),
        /// A control measure was added to a risk (管控措施).
        MeasureCreated = ("risk_measure.created", "新增管控措施"),
        /// An inspection task was set up (隐患排查任务).
        TaskCreated = ("inspection_task.created", "新增排查任务"),
        /// An inspection was recorded (排查记录).
        InspectionRecorded = ("inspection.recorded", "登记排查记录"),
        /// A list was drawn up (清单制).
        ChecklistCreated = ("checklist.created", "制定清单"),
        /// A duty on a list was performed (履职记录).
        DutyRecorded = ("checklist.duty_recorded", "登记履职记录"),
        /// A ledger file was imported (台账导入), after the events of the records it wrote.
        ImportCompleted = ("import.completed", "台账导入完成"),
        /// A webhook subscription was made (事件推送订阅).
        WebhookCreated = ("webhook.created", "新建事件推送订阅"),
        /// A webhook subscription was changed (its URL, types, enabling), or resumed.
        WebhookUpdated = ("webhook.updated", "变更事件推送订阅"),
        /// The head of an audit chain (its last event of the day before, and that event's
        /// hash), recorded once a day for each chain that grew (审计链头).
        ChainHeadRecorded = ("audit.chain_head", "记录审计链头"),
    }
}

code_list! {
    /// The kind of record an event is about.
    pub enum ResourceType {
        /// An enterprise in the ledger.
        Enterprise = ("enterprise", "企业"),
        /// A principal.
        Principal = ("principal", "账号"),
        /// A token.
        Token = ("token", "令牌"),
        /// A standardization certificate.
        Certificate = ("certificate", "等级证书"),
        /// A production-safety accident.
        Accident = ("accident", "生产安全事故"),
        /// A guidance visit.
        Visit = ("visit", "督促指导"),
        /// A year of the working-day calendar.
        CalendarYear = ("calendar_year", "工作日历年度"),
        /// A version of a grading standard.
        Standard = ("standard", "评定标准"),
        /// An assessment.
        Assessment = ("assessment", "评分"),
        /// A grading application.
        Grading = ("grading", "定级申请"),
        /// A hidden hazard.
        Hazard = ("hazard", "事故隐患"),
        /// A risk analysis unit.
        RiskUnit = ("risk_unit", "风险分析单元"),
        /// A risk.
        Risk = ("risk", "风险"),
        /// A control measure.
        RiskMeasure = ("risk_measure", "管控措施"),
        /// An inspection task.
        InspectionTask = ("inspection_task", "排查任务"),
        /// An inspection record.
        InspectionRecord = ("inspection_record", "排查记录"),
        /// A list (清单).
        Checklist = ("checklist", "清单"),
        /// An import of a ledger file (its SHA-256 is the id).
        Import = ("import", "台账导入"),
        /// A webhook subscription.
        Webhook = ("webhook", "事件推送订阅"),
        /// An audit chain: the events of one supervision area, or of the city (审计链).
        AuditChain = ("audit_chain", "审计链"),
    }
}

impl EventType {
    /// The kind of record events of this type are about.
    pub fn resource_type(self) -> ResourceType {
        match self {
            Self::EnterpriseCreated
            | Self::EnterpriseUpdated
            | Self::EnterpriseTransferred
            | Self::DriveUpdated => ResourceType::Enterprise,
            Self::VisitRecorded => ResourceType::Visit,
            Self::PrincipalCreated | Self::PrincipalUpdated => ResourceType::Principal,
            Self::TokenCreated | Self::TokenRevoked => ResourceType::Token,
            Self::CertificateRecorded
            | Self::CertificateRevoked
            | Self::CertificateRenewed
            | Self::CertificateUpgraded => ResourceType::Certificate,
            Self::AccidentRecorded => ResourceType::Accident,
            Self::CalendarYearSet => ResourceType::CalendarYear,
            Self::StandardCreated => ResourceType::Standard,
            Self::AssessmentCreated
            | Self::AssessmentUpdated
            | Self::AssessmentSubmitted
            | Self::AssessmentDiscarded => ResourceType::Assessment,
            Self::GradingApplied | Self::GradingStepTaken => ResourceType::Grading,
            Self::HazardRegistered | Self::HazardStepTaken => ResourceType::Hazard,
            Self::RiskUnitCreated | Self::UnitStopped => ResourceType::RiskUnit,
            Self::RiskCreated => ResourceType::Risk,
            Self::MeasureCreated => ResourceType::RiskMeasure,
            Self::TaskCreated => ResourceType::InspectionTask,
            Self::InspectionRecorded => ResourceType::InspectionRecord,
            Self::ChecklistCreated | Self::DutyRecorded => ResourceType::Checklist,
            Self::ImportCompleted => ResourceType::Import,
            Self::WebhookCreated | Self::WebhookUpdated => ResourceType::Webhook,
            Self::ChainHeadRecorded => ResourceType::AuditChain,
        }
    }
}

/// Who did something: the principal and its role, or nobody for the command line
/// (`safegrade principal create`, the first start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The principal, `None` for the command line.
    pub principal_id: Option<PrincipalId>,
    /// Its role at the time.
    pub role: Option<Role>,
    /// The request id (`X-Request-Id`), when it came through the API.
    pub request_id: Option<String>,
}

impl Actor {
    /// The command line, outside any request.
    pub fn command_line() -> Self {
        Self {
            principal_id: None,
            role: None,
            request_id: None,
        }
    }
}

/// Expiry of a token: `None` never expires.
pub fn token_live(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    expires_at.is_none_or(|at| now < at)
}

/// Checks a requested token expiry: it must lie in the future.
pub fn check_expiry(
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), Violation> {
    match expires_at {
        Some(at) if at <= now => Err(Violation::field(
            "expires_at",
            V::NotInFuture,
            format!("expires_at {} 不晚于当前时间", at.to_rfc3339()),
        )),
        _ => Ok(()),
    }
}

/// Facts about principals that the access rules need from storage (the store implements it
/// over its transaction).
pub trait PrincipalFacts {
    /// The store's error; a refusal converts into it.
    type Error: From<crate::Refusal>;
    /// How many enabled city administrators there are, counted so that no concurrent change
    /// can alter the count before this change commits.
    fn enabled_city_admins(&mut self) -> Result<i64, Self::Error>;
}

/// Changing a principal from `current` to `new`: refused when it would leave the city
/// without an enabled `city_admin` (someone must always be able to manage access). The count
/// is asked for only when this change demotes or disables an enabled administrator.
pub fn change_principal<F: PrincipalFacts>(
    facts: &mut F,
    current: &PrincipalData,
    new: &PrincipalData,
) -> Result<(), F::Error> {
    let admin = |d: &PrincipalData| d.role == Role::CityAdmin && !d.disabled;
    if admin(current) && !admin(new) && facts.enabled_city_admins()? <= 1 {
        return Err(crate::Refusal::LastCityAdmin.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(role: &str) -> PrincipalInput {
        PrincipalInput {
            name: Some("涪城区应急管理局".into()),
            role: Some(role.into()),
            ..Default::default()
        }
    }

    fn codes(r: Result<PrincipalData, Vec<Violation>>) -> Vec<(String, V)> {
        r.err()
            .unwrap_or_default()
            .into_iter()
            .map(|v| (v.pointer, v.code))
            .collect()
    }

    #[test]
    fn roles_and_actions() {
        use Action::*;
        use Role::*;
        for role in Role::ALL {
            assert!(role.may(Read, true));
        }
        assert!(CityAdmin.may(ManageAccess, false));
        assert!(!CityRegulator.may(ManageAccess, false));
        assert!(!Enterprise.may(WriteLedger, false));
        assert!(Integration.may(WriteLedger, false));
        assert!(!Integration.may(WriteLedger, true));
        assert!(AreaRegulator.may(WriteLedger, false));
    }

    #[test]
    fn area_roles_need_areas_and_city_roles_refuse_them() {
        assert_eq!(
            codes(input("area_regulator").validate()),
            vec![("/area_codes".into(), V::Required)]
        );
        let mut i = input("city_regulator");
        i.area_codes = Some(vec!["510703".into()]);
        assert_eq!(
            codes(i.validate()),
            vec![("/area_codes".into(), V::NotApplicable)]
        );
        let mut i = input("area_regulator");
        i.area_codes = Some(vec!["510700".into(), "999999".into(), "510703".into()]);
        assert_eq!(
            codes(i.validate()),
            vec![
                ("/area_codes/0".into(), V::AreaNotAssignable),
                ("/area_codes/1".into(), V::UnknownArea)
            ]
        );
        i.area_codes = Some(vec!["510703".into(), " 510703 ".into(), "510704".into()]);
        let d = i.validate().unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            d.area_codes,
            vec!["510703", "510704"],
            "trimmed and deduplicated"
        );
        assert_eq!(
            d.scope(),
            Scope::Areas(vec!["510703".into(), "510704".into()])
        );
    }

    #[test]
    fn integrations_state_read_only_and_enterprises_name_theirs() {
        let mut i = input("integration");
        i.area_codes = Some(vec!["510703".into()]);
        assert_eq!(
            codes(i.validate()),
            vec![("/read_only".into(), V::Required)]
        );
        i.read_only = Some(true);
        assert!(
            i.validate()
                .is_ok_and(|d| d.read_only && !d.may(Action::WriteLedger))
        );
        assert_eq!(
            codes(input("enterprise").validate()),
            vec![("/enterprise_id".into(), V::Required)]
        );
        let mut e = input("enterprise");
        e.enterprise_id = Some("not-an-id".into());
        assert_eq!(
            codes(e.validate()),
            vec![("/enterprise_id".into(), V::InvalidValue)]
        );
        let id = EnterpriseId::new();
        e.enterprise_id = Some(id.to_string());
        assert_eq!(e.validate().map(|d| d.scope()), Ok(Scope::Enterprise(id)));
        let mut r = input("city_admin");
        r.read_only = Some(true);
        assert_eq!(
            codes(r.validate()),
            vec![("/read_only".into(), V::NotApplicable)]
        );
    }

    #[test]
    fn reviewers_name_a_valid_organisation_and_nobody_else_does() {
        let mut r = input("reviewer");
        assert_eq!(
            codes(r.validate()),
            vec![("/review_organisation".into(), V::Required)]
        );
        r.review_organisation = Some((Some("91510703MA00000000".into()), None));
        assert_eq!(
            codes(r.validate()),
            vec![
                ("/review_organisation/id".into(), V::InvalidCreditCode),
                ("/review_organisation/name".into(), V::Required)
            ]
        );
        let code = {
            let first17 = "91510703000000970";
            let check = crate::ledger::credit_code::check_character(first17).unwrap_or('0');
            format!("{first17}{check}")
        };
        r.review_organisation = Some((Some(code.to_lowercase()), Some(" 甲评审公司 ".into())));
        let d = r.validate().unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(d.scope(), Scope::Organisation(code.clone()), "normalised");
        assert!(!d.may(Action::WriteLedger) && d.may(Action::Read));
        let mut other = input("city_regulator");
        other.review_organisation = Some((Some(code), Some("甲".into())));
        assert_eq!(
            codes(other.validate()),
            vec![("/review_organisation".into(), V::NotApplicable)]
        );
        assert!(!Scope::Organisation("x".into()).covers("510703", EnterpriseId::new()));
    }

    #[test]
    fn scopes_cover_their_records_only() {
        let (a, b) = (EnterpriseId::new(), EnterpriseId::new());
        assert!(Scope::City.covers("510704", a));
        let areas = Scope::Areas(vec!["510703".into()]);
        assert!(areas.covers("510703", a) && !areas.covers("510704", a));
        assert!(areas.covers_area("510703") && !areas.covers_area("510704"));
        let own = Scope::Enterprise(a);
        assert!(own.covers("510704", a) && !own.covers("510704", b));
        assert!(!own.covers_area("510704"));
    }

    #[test]
    fn expiry_must_be_in_the_future() {
        let now = Utc::now();
        assert!(check_expiry(Some(now), now).is_err());
        assert!(check_expiry(Some(now + chrono::Duration::seconds(1)), now).is_ok());
        assert!(check_expiry(None, now).is_ok());
        assert!(token_live(None, now));
        assert!(!token_live(Some(now), now));
    }
}
