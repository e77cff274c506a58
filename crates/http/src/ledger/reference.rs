//! Supervision areas and the code lists, each value with its Chinese label.

use actix_web::{HttpResponse, get, web};
use safegrade_domain::grading::GradeRules;
use safegrade_domain::{
    AREAS, Area, AreaKind, CodeList, MineKind, OperatingStatus, Ownership, Scale,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::plumbing::error::{ApiError, ErrorCode};
use crate::plumbing::list::ListResponse;

/// A supervision area (监管区域).
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaResponse {
    /// SafeGrade's area code: the GB/T 2260 code of a statutory division, `510700-XX` for a
    /// park zone (which has no GB/T 2260 code).
    #[schema(example = "510703")]
    pub code: String,
    /// Chinese name (名称).
    #[schema(example = "涪城区")]
    pub name_zh: String,
    /// `city`, `statutory` (县级行政区) or `zone` (园区).
    #[schema(value_type = crate::plumbing::codes::AreaKind)]
    pub kind: AreaKind,
    /// GB/T 2260 administrative division code, null for park zones.
    #[schema(example = "510703")]
    pub gb2260_code: Option<String>,
    /// The enclosing area (the city), null for the city.
    #[schema(example = "510700")]
    pub parent_code: Option<String>,
}

impl From<&Area> for AreaResponse {
    fn from(a: &Area) -> Self {
        Self {
            code: a.code.to_owned(),
            name_zh: a.name_zh.to_owned(),
            kind: a.kind,
            gb2260_code: a.gb2260_code.map(str::to_owned),
            parent_code: a.parent_code.map(str::to_owned),
        }
    }
}

/// One value of a code list.
#[derive(Debug, Serialize, ToSchema)]
pub struct CodeLabel {
    /// The wire value.
    #[schema(example = "non_coal_mine")]
    pub code: String,
    /// Chinese label (中文名称).
    #[schema(example = "非煤矿山")]
    pub label_zh: String,
}

fn values<T: CodeList>(_: &GradeRules) -> Vec<CodeLabel> {
    T::ALL
        .iter()
        .map(|v| CodeLabel {
            code: v.as_str().to_owned(),
            label_zh: v.label_zh().to_owned(),
        })
        .collect()
}

/// A code list served at `/api/v1/reference/{list}`.
struct Reference {
    list: &'static str,
    schema: &'static str,
    label_zh: &'static str,
    values: fn(&GradeRules) -> Vec<CodeLabel>,
}

/// The city's control levels (`control_levels` in the rules file): a list the bureau
/// configures, not a closed enum.
fn control_levels(rules: &GradeRules) -> Vec<CodeLabel> {
    rules
        .control_levels
        .iter()
        .map(|l| CodeLabel {
            code: l.code.clone(),
            label_zh: l.label_zh.clone(),
        })
        .collect()
}

macro_rules! references {
    ($($list:literal => $t:ty, $label:literal;)+
     configured: $($clist:literal => $values:path, $schema:literal, $clabel:literal;)+) => {
        &[$(Reference {
            list: $list,
            schema: <$t as CodeList>::NAME,
            label_zh: $label,
            values: values::<$t>,
        }),+
        $(, Reference {
            list: $clist,
            schema: $schema,
            label_zh: $clabel,
            values: $values,
        })+]
    };
}

/// Every code list a person sees, one shape for all: each enum of the spec is here (a test
/// keeps it so).
const REFERENCES: &[Reference] = references! {
    "sectors" => safegrade_domain::Sector, "监管行业";
    "scales" => Scale, "企业规模";
    "ownership-levels" => Ownership, "隶属层级";
    "mine-kinds" => MineKind, "非煤矿山类型";
    "operating-statuses" => OperatingStatus, "生产经营状态";
    "area-kinds" => AreaKind, "区域类型";
    "grades" => safegrade_domain::grading::Grade, "标准化等级";
    "regimes" => safegrade_domain::grading::Regime, "定级制度";
    "certificate-statuses" => safegrade_domain::grading::CertificateStatus, "证书状态";
    "revocation-triggers" => safegrade_domain::grading::RevocationTrigger, "撤销情形";
    "authority-levels" => safegrade_domain::grading::AuthorityLevel, "定级部门层级";
    "standardization-statuses" => safegrade_domain::grading::StandardizationStatus, "标准化状态";
    "accident-kinds" => safegrade_domain::grading::AccidentKind, "事故类别";
    "renewal-tracks" => safegrade_domain::grading::RenewalTrack, "复评程序";
    "alert-kinds" => safegrade_domain::grading::AlertKind, "提醒类型";
    "creation-stages" => safegrade_domain::drives::CreationStage, "创建阶段";
    "assessment-kinds" => safegrade_domain::assessments::AssessmentKind, "评分类型";
    "assessment-states" => safegrade_domain::assessments::AssessmentState, "评分状态";
    "veto-effects" => safegrade_domain::standards::VetoEffect, "否决项效果";
    "comparison-flags" => safegrade_domain::assessments::ComparisonFlag, "评分比对标记";
    "grading-kinds" => safegrade_domain::gradings::GradingKind, "定级申请类型";
    "grading-states" => safegrade_domain::gradings::GradingState, "定级申请状态";
    "grading-steps" => safegrade_domain::gradings::GradingStep, "定级办理步骤";
    "hazard-grades" => safegrade_domain::hazards::HazardGrade, "隐患等级";
    "hazard-sources" => safegrade_domain::hazards::HazardSource, "隐患来源";
    "hazard-types" => safegrade_domain::hazards::HazardType, "隐患类型";
    "management-classes" => safegrade_domain::hazards::ManagementClass, "隐患管理类别";
    "hazard-states" => safegrade_domain::hazards::HazardState, "隐患状态";
    "hazard-steps" => safegrade_domain::hazards::HazardStep, "隐患治理步骤";
    "risk-unit-kinds" => safegrade_domain::risks::UnitKind, "风险分析单元类型";
    "risk-levels" => safegrade_domain::risks::RiskLevel, "风险等级";
    "risk-methods" => safegrade_domain::risks::RiskMethod, "风险评价方法";
    "measure-modes" => safegrade_domain::risks::MeasureMode, "管控方式";
    "measure-classes" => safegrade_domain::risks::MeasureClass, "管控措施分类";
    "cycle-units" => safegrade_domain::inspections::CycleUnit, "排查周期单位";
    "day-types" => safegrade_domain::inspections::DayType, "工作日类型";
    "task-types" => safegrade_domain::inspections::TaskType, "排查任务类型";
    "inspection-results" => safegrade_domain::inspections::InspectionResult, "排查结果";
    "occurrence-statuses" => safegrade_domain::inspections::OccurrenceStatus, "排查完成情况";
    "checklist-types" => safegrade_domain::checklists::ChecklistType, "清单类型";
    "owner-scopes" => safegrade_domain::checklists::OwnerScope, "清单主体";
    "roles" => safegrade_domain::Role, "账号角色";
    "event-types" => safegrade_domain::EventType, "事件类型";
    "resource-types" => safegrade_domain::ResourceType, "记录类型";
    "error-codes" => crate::plumbing::error::ErrorCode, "错误码";
    "violation-codes" => safegrade_domain::ViolationCode, "字段错误码";
    "verification-statuses" => crate::grading::register::VerificationStatus, "证书核验结果";
    "ledger-columns" => safegrade_domain::ledger::sheet::Column, "台账列";
    "job-kinds" => safegrade_domain::jobs::JobKind, "后台任务类型";
    "job-states" => safegrade_domain::jobs::JobState, "后台任务状态";
    "import-kinds" => safegrade_domain::jobs::ImportKind, "导入内容";
    "import-modes" => safegrade_domain::jobs::ImportMode, "导入方式";
    "import-outcomes" => safegrade_domain::jobs::ImportOutcome, "导入结果";
    "webhook-statuses" => safegrade_domain::jobs::WebhookStatus, "推送订阅状态";
    configured:
    "control-levels" => control_levels, "ControlLevel", "管控层级";
};

/// The name of a reference list (`/api/v1/reference/{list}`).
pub struct ReferenceListName;

impl utoipa::PartialSchema for ReferenceListName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(REFERENCES.iter().map(|r| r.list)))
            .into()
    }
}

impl ToSchema for ReferenceListName {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("ReferenceListName")
    }
}

/// A code list: its path name, the spec schema it lists, and its Chinese name.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferenceListInfo {
    /// Path name: `GET /api/v1/reference/{list}`.
    #[schema(example = "grades")]
    pub list: String,
    /// The schema of the spec whose values it lists.
    #[schema(example = "Grade")]
    pub schema: String,
    /// Chinese name (中文名称).
    #[schema(example = "标准化等级")]
    pub label_zh: String,
}

/// List the code lists (代码表): every closed list of values in the API, with where to get
/// its values and Chinese labels. Not paginated.
#[utoipa::path(tag = "reference", operation_id = "list_reference_lists",
    responses((status = 200, body = ListResponse<ReferenceListInfo>)))]
#[get("/reference")]
pub async fn list_reference_lists() -> HttpResponse {
    ListResponse::whole(
        REFERENCES
            .iter()
            .map(|r| ReferenceListInfo {
                list: r.list.to_owned(),
                schema: r.schema.to_owned(),
                label_zh: r.label_zh.to_owned(),
            })
            .collect(),
    )
    .into_response()
}

/// List the values of one code list with their Chinese labels (`label_zh`): grades, accident
/// kinds, revocation triggers, alert kinds, statuses, creation stages, roles, event types, …
/// (`GET /api/v1/reference` names them all). Not paginated.
#[utoipa::path(tag = "reference", operation_id = "list_reference",
    params(("list" = inline(ReferenceListName), Path, description = "Which code list")),
    responses((status = 200, body = ListResponse<CodeLabel>)))]
#[get("/reference/{list}")]
pub async fn list_reference(
    list: web::Path<String>,
    state: web::Data<crate::AppState>,
) -> Result<HttpResponse, ApiError> {
    let name = list.into_inner();
    let found = REFERENCES.iter().find(|r| r.list == name).ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            format!("no code list '{name}'; GET /api/v1/reference names them"),
        )
    })?;
    Ok(ListResponse::whole((found.values)(state.grade_rules)).into_response())
}

/// List the supervision areas: the city, its 9 statutory divisions and the park zones.
/// Not paginated (one page, `next_cursor` null); ordered city, divisions by code, zones.
#[utoipa::path(tag = "reference", operation_id = "list_areas",
    responses((status = 200, body = ListResponse<AreaResponse>)))]
#[get("/areas")]
pub async fn list_areas() -> HttpResponse {
    ListResponse::whole(AREAS.iter().map(AreaResponse::from).collect()).into_response()
}
