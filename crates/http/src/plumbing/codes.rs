//! OpenAPI schemas for the domain's closed code lists: each is a named string enum whose
//! description carries the Chinese labels. The domain stays free of utoipa; these marker
//! types stand in for the domain enums in `#[schema(value_type = …)]`.

use safegrade_domain::CodeList;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// The schema of a code list: `type: string`, `enum` of its wire values, and a description
/// listing every value with its Chinese label.
pub fn code_list_schema<T: CodeList>() -> RefOr<Schema> {
    let labels: Vec<String> = T::ALL
        .iter()
        .map(|v| format!("`{}` {}", v.as_str(), v.label_zh()))
        .collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(T::codes()))
        .description(Some(labels.join("; ")))
        .into()
}

/// Declares marker types whose OpenAPI schema is [`code_list_schema`] of a code list (usable
/// by capabilities for their own lists).
macro_rules! code_list_schemas {
    ($($(#[$meta:meta])* $name:ident => $ty:ty),+ $(,)?) => {$(
        $(#[$meta])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::plumbing::codes::code_list_schema::<$ty>()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(<$ty as safegrade_domain::CodeList>::NAME)
            }
        }
    )+};
}

pub(crate) use code_list_schemas;

code_list_schemas! {
    /// Supervision sector.
    Sector => safegrade_domain::Sector,
    /// Mine kind.
    MineKind => safegrade_domain::MineKind,
    /// Scale.
    Scale => safegrade_domain::Scale,
    /// Ownership level.
    Ownership => safegrade_domain::Ownership,
    /// Operating status.
    OperatingStatus => safegrade_domain::OperatingStatus,
    /// Area kind.
    AreaKind => safegrade_domain::AreaKind,
    /// Field violation code.
    ViolationCode => safegrade_domain::ViolationCode,
    /// Problem code.
    ErrorCode => crate::plumbing::error::ErrorCode,
    /// Role of a principal (角色).
    Role => safegrade_domain::Role,
    /// Type of an event.
    EventType => safegrade_domain::EventType,
    /// Kind of record an event is about.
    ResourceType => safegrade_domain::ResourceType,
    /// Regime of a certificate.
    Regime => safegrade_domain::grading::Regime,
    /// Standardization grade.
    Grade => safegrade_domain::grading::Grade,
    /// Derived status of a certificate.
    CertificateStatus => safegrade_domain::grading::CertificateStatus,
    /// Revocation trigger of the Grading Measures.
    RevocationTrigger => safegrade_domain::grading::RevocationTrigger,
    /// Level of a grading authority.
    AuthorityLevel => safegrade_domain::grading::AuthorityLevel,
    /// Standardization status of an enterprise.
    StandardizationStatus => safegrade_domain::grading::StandardizationStatus,
    /// Creation stage of an enterprise.
    CreationStage => safegrade_domain::drives::CreationStage,
    /// Which pass an assessment is (自评、评审、监督检查).
    AssessmentKind => safegrade_domain::assessments::AssessmentKind,
    /// Where an assessment stands.
    AssessmentState => safegrade_domain::assessments::AssessmentState,
    /// What hitting a veto item does.
    VetoEffect => safegrade_domain::standards::VetoEffect,
    /// What comparing assessment passes shows.
    ComparisonFlag => safegrade_domain::assessments::ComparisonFlag,
    /// What a grading application asks for.
    GradingKind => safegrade_domain::gradings::GradingKind,
    /// Where a grading application stands.
    GradingState => safegrade_domain::gradings::GradingState,
    /// A step of a grading application.
    GradingStep => safegrade_domain::gradings::GradingStep,
    /// Kind of alert.
    AlertKind => safegrade_domain::grading::AlertKind,
    /// A hazard's grade.
    HazardGrade => safegrade_domain::hazards::HazardGrade,
    /// How a hazard was found.
    HazardSource => safegrade_domain::hazards::HazardSource,
    /// A hazard's type.
    HazardType => safegrade_domain::hazards::HazardType,
    /// A hazard's management class.
    ManagementClass => safegrade_domain::hazards::ManagementClass,
    /// Where a hazard stands.
    HazardState => safegrade_domain::hazards::HazardState,
    /// A step of a hazard's rectification.
    HazardStep => safegrade_domain::hazards::HazardStep,
    /// What a risk analysis unit is.
    UnitKind => safegrade_domain::risks::UnitKind,
    /// A risk level and its colour.
    RiskLevel => safegrade_domain::risks::RiskLevel,
    /// How a risk is scored.
    RiskMethod => safegrade_domain::risks::RiskMethod,
    /// How a control measure works.
    MeasureMode => safegrade_domain::risks::MeasureMode,
    /// A control measure's first class.
    MeasureClass => safegrade_domain::risks::MeasureClass,
    /// The unit of an inspection cycle.
    CycleUnit => safegrade_domain::inspections::CycleUnit,
    /// Which days an inspection task is due on.
    DayType => safegrade_domain::inspections::DayType,
    /// Whose inspection task it is.
    TaskType => safegrade_domain::inspections::TaskType,
    /// What an inspection found.
    InspectionResult => safegrade_domain::inspections::InspectionResult,
    /// Where a due occurrence stands.
    OccurrenceStatus => safegrade_domain::inspections::OccurrenceStatus,
    /// A list's type (清单制).
    ChecklistType => safegrade_domain::checklists::ChecklistType,
    /// Whose a list is.
    OwnerScope => safegrade_domain::checklists::OwnerScope,
    /// Procedure of a same-grade renewal.
    RenewalTrack => safegrade_domain::grading::RenewalTrack,
    /// Kind of accident (GB 6441-1986).
    AccidentKind => safegrade_domain::grading::AccidentKind,
    /// A ledger column an import reads (for an explicit header mapping).
    Column => safegrade_domain::ledger::sheet::Column,
    /// What a job does.
    JobKind => safegrade_domain::jobs::JobKind,
    /// Where a job (an import) is.
    JobState => safegrade_domain::jobs::JobState,
    /// What an import reads.
    ImportKind => safegrade_domain::jobs::ImportKind,
    /// Whether an import writes only when every row can be imported.
    ImportMode => safegrade_domain::jobs::ImportMode,
    /// How an import ended.
    ImportOutcome => safegrade_domain::jobs::ImportOutcome,
    /// Whether a webhook subscription's deliveries get through.
    WebhookStatus => safegrade_domain::jobs::WebhookStatus,
}

/// A control level (管控层级): a code of the city's configured list, not a closed enum.
pub struct ControlLevel;

impl utoipa::PartialSchema for ControlLevel {
    fn schema() -> RefOr<Schema> {
        let builtin: Vec<String> = safegrade_domain::risks::ControlLevel::builtin()
            .iter()
            .map(|l| format!("`{}` {}", l.code, l.label_zh))
            .collect();
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(format!(
                "管控层级：本市规则文件（control_levels）配置的代码，GET /api/v1/reference/control-levels 列出在用的代码和中文名称。内置：{}",
                builtin.join("; ")
            )))
            .into()
    }
}

impl utoipa::ToSchema for ControlLevel {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("ControlLevel")
    }
}
