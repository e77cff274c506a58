//! Supervision areas and the code lists, each value with its Chinese label.

use actix_web::{HttpResponse, get};
use safegrade_domain::{
    AREAS, Area, AreaKind, CodeList, MineKind, OperatingStatus, Ownership, Scale, Sector,
};
use serde::Serialize;
use utoipa::ToSchema;

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

fn code_list<T: CodeList>() -> HttpResponse {
    let items = T::ALL
        .iter()
        .map(|v| CodeLabel {
            code: v.as_str().to_owned(),
            label_zh: v.label_zh().to_owned(),
        })
        .collect();
    HttpResponse::Ok().json(ListResponse {
        items,
        next_cursor: None,
    })
}

/// List the supervision areas: the city, its 9 statutory divisions and the park zones.
/// Not paginated (one page, `next_cursor` null); ordered city, divisions by code, zones.
#[utoipa::path(tag = "reference", operation_id = "list_areas",
    responses((status = 200, body = ListResponse<AreaResponse>)))]
#[get("/areas")]
pub async fn list_areas() -> HttpResponse {
    let items = AREAS.iter().map(AreaResponse::from).collect();
    HttpResponse::Ok().json(ListResponse::<AreaResponse> {
        items,
        next_cursor: None,
    })
}

/// List the supervision sectors (监管行业) with their Chinese labels.
#[utoipa::path(tag = "reference", operation_id = "list_sectors",
    responses((status = 200, body = ListResponse<CodeLabel>)))]
#[get("/reference/sectors")]
pub async fn list_sectors() -> HttpResponse {
    code_list::<Sector>()
}

/// List the enterprise scales (企业规模).
#[utoipa::path(tag = "reference", operation_id = "list_scales",
    responses((status = 200, body = ListResponse<CodeLabel>)))]
#[get("/reference/scales")]
pub async fn list_scales() -> HttpResponse {
    code_list::<Scale>()
}

/// List the ownership levels (隶属层级).
#[utoipa::path(tag = "reference", operation_id = "list_ownership_levels",
    responses((status = 200, body = ListResponse<CodeLabel>)))]
#[get("/reference/ownership-levels")]
pub async fn list_ownership_levels() -> HttpResponse {
    code_list::<Ownership>()
}

/// List the kinds of non-coal mine (非煤矿山类型).
#[utoipa::path(tag = "reference", operation_id = "list_mine_kinds",
    responses((status = 200, body = ListResponse<CodeLabel>)))]
#[get("/reference/mine-kinds")]
pub async fn list_mine_kinds() -> HttpResponse {
    code_list::<MineKind>()
}

/// List the operating statuses (生产经营状态).
#[utoipa::path(tag = "reference", operation_id = "list_operating_statuses",
    responses((status = 200, body = ListResponse<CodeLabel>)))]
#[get("/reference/operating-statuses")]
pub async fn list_operating_statuses() -> HttpResponse {
    code_list::<OperatingStatus>()
}
