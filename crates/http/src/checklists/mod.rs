//! List-based management (清单制管理): the responsibility and work lists of enterprises,
//! posts, governments and departments, and the performance records (履职记录) against them.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use safegrade_domain::checklists::{ChecklistType, OwnerScope};
use safegrade_domain::{
    Action, ChecklistId, CodeList, EnterpriseId, Violation, ViolationCode as V,
};
use safegrade_store::checklists::{
    Checklist, ChecklistData, ChecklistFilter, Duty, Item, create, load_for_write, record_duty,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::plumbing::app::AppState;
use crate::plumbing::auth::Caller;
use crate::plumbing::error::{ApiError, NO_SUCH_ENTERPRISE, not_found_as, not_found_says};
use crate::plumbing::extract::{IdempotencyKey, JsonObject, PathId};
use crate::plumbing::list::{self, ListResponse};
use crate::plumbing::members::Reader;
use crate::plumbing::write::Answer;

/// Longest free text, in characters.
const TEXT: usize = 2000;
/// Longest name, in characters.
const NAME: usize = 100;
/// Most items on one list.
const MAX_ITEMS: usize = 500;

/// One item of a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChecklistItemDoc {
    /// Its code within the list (unique there), up to 20 characters.
    pub code: String,
    /// What it says (a duty, a task, a problem, a measure), up to 2,000 characters.
    pub text: String,
    /// Who is responsible.
    pub responsible: Option<String>,
    /// How often or by when, as written (每日, 每月, 2025-12-31 前).
    pub frequency: Option<String>,
    /// The risk it controls (the enterprise's).
    pub risk_id: Option<String>,
    /// The hazard it tracks (the enterprise's).
    pub hazard_id: Option<String>,
}

/// A list (清单).
#[derive(Debug, Serialize, ToSchema)]
pub struct ChecklistResponse {
    /// Id.
    pub id: String,
    /// Its type.
    #[schema(value_type = crate::plumbing::codes::ChecklistType)]
    pub checklist_type: ChecklistType,
    /// Whose it is.
    #[schema(value_type = crate::plumbing::codes::OwnerScope)]
    pub owner_scope: OwnerScope,
    /// The enterprise (enterprise and post lists).
    pub enterprise_id: Option<String>,
    /// The supervision area.
    pub area_code: String,
    /// Title.
    pub title: String,
    /// The owner: the post, the department, the leader.
    pub owner: String,
    /// Items.
    pub items: Vec<ChecklistItemDoc>,
    /// Version.
    pub version: i64,
    /// Drawn up at (UTC).
    pub created_at: DateTime<Utc>,
}

impl From<Checklist> for ChecklistResponse {
    fn from(c: Checklist) -> Self {
        Self {
            id: c.id.to_string(),
            checklist_type: c.data.checklist_type,
            owner_scope: c.data.owner_scope,
            enterprise_id: c.data.enterprise_id.map(|e| e.to_string()),
            area_code: c.area_code,
            title: c.data.title,
            owner: c.data.owner,
            items: c
                .data
                .items
                .into_iter()
                .map(|i| ChecklistItemDoc {
                    code: i.code,
                    text: i.text,
                    responsible: i.responsible,
                    frequency: i.frequency,
                    risk_id: i.risk_id,
                    hazard_id: i.hazard_id,
                })
                .collect(),
            version: c.version,
            created_at: c.created_at,
        }
    }
}

/// Drawing up a list.
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct ChecklistCreate {
    /// Its type.
    #[schema(value_type = crate::plumbing::codes::ChecklistType)]
    pub checklist_type: String,
    /// Whose it is: `enterprise` and `post` lists name the enterprise, `government` and
    /// `department` lists the supervision area.
    #[schema(value_type = crate::plumbing::codes::OwnerScope)]
    pub owner_scope: String,
    /// The enterprise (enterprise and post lists).
    pub enterprise_id: Option<String>,
    /// The supervision area (government and department lists).
    pub area_code: Option<String>,
    /// Title, up to 100 characters.
    pub title: String,
    /// The owner: the post, the department, the leader.
    pub owner: String,
    /// Items, 1–500.
    pub items: Vec<ChecklistItemDoc>,
}

fn items_of(r: &mut Reader<'_>) -> Vec<Item> {
    let Some(values) = r.required("items", "清单条目", |r| r.array("items")) else {
        return Vec::new();
    };
    if values.is_empty() || values.len() > MAX_ITEMS {
        r.errors.push(Violation::field(
            "items",
            V::OutOfRange,
            format!("清单条目须为 1–{MAX_ITEMS} 条"),
        ));
    }
    let mut out = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let at = format!("/items/{i}");
        let Some(o) = v.as_object() else {
            r.errors.push(Violation {
                pointer: at,
                code: V::InvalidType,
                message: "条目须为对象".into(),
            });
            continue;
        };
        let mut m = Reader::nested(o, &at);
        let code = m.required_text("code", 20, "条目编号");
        let text = m.required_text("text", TEXT, "条目内容");
        let responsible = m.text("responsible", NAME);
        let frequency = m.text("frequency", NAME);
        let risk_id = m.text("risk_id", NAME);
        let hazard_id = m.text("hazard_id", NAME);
        r.errors.extend(m.finish("清单条目"));
        if let (Some(code), Some(text)) = (code, text) {
            out.push(Item {
                code,
                text,
                responsible,
                frequency,
                risk_id,
                hazard_id,
            });
        }
    }
    out
}

/// Draw up a list (制定清单): an enterprise's or a post's (the enterprise records its own), or
/// a government's or a department's in a supervision area (regulators of that area).
#[utoipa::path(
    tag = "checklists",
    operation_id = "create_checklist",
    request_body(content = ChecklistCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Drawn up", body = ChecklistResponse,
            headers(("Location" = String, description = "URL of the list"), ("ETag" = String, description = "Version, quoted"))),
    )
)]
#[post("/checklists")]
pub async fn create_checklist(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::RecordDualPrevention)?;
    let mut r = Reader::new(&body);
    let checklist_type = r.required("checklist_type", "清单类型", |r| {
        r.code::<ChecklistType>("checklist_type")
    });
    let owner_scope = r.required("owner_scope", "清单主体", |r| {
        r.code::<OwnerScope>("owner_scope")
    });
    let enterprise = r.id("enterprise_id", "企业", EnterpriseId::parse);
    let area = r.text("area_code", 20);
    let title = r.required_text("title", NAME, "清单名称");
    let owner = r.required_text("owner", NAME, "责任主体（岗位、部门或领导）");
    let items = items_of(&mut r);
    let mut errors = r.finish("清单");
    if let (Some(t), Some(o)) = (checklist_type, owner_scope) {
        if !t.fits(o) {
            errors.push(Violation::field(
                "owner_scope",
                V::InvalidValue,
                format!("{}不是{}的清单", t.label_zh(), o.label_zh()),
            ));
        }
        match (o.of_enterprise(), enterprise.is_some(), area.is_some()) {
            (true, false, _) => errors.push(Violation::field(
                "enterprise_id",
                V::Required,
                "企业和岗位的清单须写明企业",
            )),
            (true, _, true) => errors.push(Violation::field(
                "area_code",
                V::NotApplicable,
                "企业和岗位的清单属于企业所在区域，不写 area_code",
            )),
            (false, _, false) => errors.push(Violation::field(
                "area_code",
                V::Required,
                "党委政府和行业部门的清单须写明监管区域",
            )),
            (false, true, _) => errors.push(Violation::field(
                "enterprise_id",
                V::NotApplicable,
                "党委政府和行业部门的清单不属于企业",
            )),
            _ => {}
        }
    }
    if let Some(a) = &area
        && safegrade_domain::find_area(a).is_none()
    {
        errors.push(Violation::field(
            "area_code",
            V::UnknownArea,
            format!("'{a}' 不是监管区域"),
        ));
    }
    let (Some(checklist_type), Some(owner_scope), Some(title), Some(owner), true) =
        (checklist_type, owner_scope, title, owner, errors.is_empty())
    else {
        return Err(ApiError::invalid(errors));
    };
    if let Some(a) = &area {
        if !caller.principal.data.role.is_regulator() {
            return Err(caller.forbidden("不能制定党委政府或行业部门的清单"));
        }
        caller.require_area(a)?;
    }
    let data = ChecklistData {
        checklist_type,
        owner_scope,
        enterprise_id: enterprise,
        area_code: area,
        title,
        owner,
        items,
    };
    let key_of = data.enterprise_id.map_or_else(
        || data.area_code.clone().unwrap_or_default(),
        |e| e.to_string(),
    );
    let (scope, actor) = (caller.scope(), caller.actor());
    crate::plumbing::write::post(&state, &caller, &req, key, &body, &key_of, move |tx| {
        let c = create(tx, &data, &scope, &actor)
            .map_err(ApiError::from)
            .map_err(not_found_says(NO_SUCH_ENTERPRISE))?;
        let (location, version) = (format!("/api/v1/checklists/{}", c.id), c.version);
        Ok(Answer::created(location, &ChecklistResponse::from(c))?.versioned(version))
    })
    .await
}

/// Filters and paging of the lists.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChecklistQuery {
    /// Only this enterprise's.
    pub enterprise_id: Option<uuid::Uuid>,
    /// Only this supervision area's (its enterprises' and its own).
    pub area_code: Option<String>,
    /// Only this type.
    #[param(value_type = Option<crate::plumbing::codes::ChecklistType>)]
    pub checklist_type: Option<ChecklistType>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The lists in the caller's jurisdiction, oldest first.
#[utoipa::path(
    tag = "checklists",
    operation_id = "list_checklists",
    params(ChecklistQuery),
    responses(
        (status = 200, description = "One page", body = ListResponse<ChecklistResponse>),
    )
)]
#[get("/checklists")]
pub async fn list_checklists(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<ChecklistQuery>,
) -> Result<HttpResponse, ApiError> {
    const KIND: &str = "checklist";
    let q = query.into_inner();
    let (limit, after) = list::paging(q.limit, q.cursor.as_deref(), KIND)?;
    let filter = ChecklistFilter {
        scope: caller.scope(),
        area_code: q.area_code,
        enterprise_id: q
            .enterprise_id
            .and_then(|u| EnterpriseId::parse(&u.to_string())),
        checklist_type: q.checklist_type,
    };
    let rows = state
        .run(move |s| Ok(s.list_checklists(&filter, after, i64::from(limit) + 1)?))
        .await?;
    let rows = rows.into_iter().map(ChecklistResponse::from).collect();
    Ok(
        HttpResponse::Ok().json(list::page(rows, limit, KIND, |c: &ChecklistResponse| {
            c.id.clone()
        })),
    )
}

/// One list with its items.
#[utoipa::path(
    tag = "checklists",
    operation_id = "get_checklist",
    params(("id" = uuid::Uuid, Path, description = "List id")),
    responses(
        (status = 200, description = "The list", body = ChecklistResponse, headers(("ETag" = String, description = "Version, quoted"))),
    )
)]
#[get("/checklists/{id}")]
pub async fn get_checklist(
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<ChecklistId>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.scope();
    let c = state
        .run(move |s| Ok(s.get_checklist(id, &scope)?))
        .await
        .map_err(not_found_as("checklist", raw))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", c.version)))
        .json(ChecklistResponse::from(c)))
}

/// A performance record (履职记录).
#[derive(Debug, Serialize, ToSchema)]
pub struct DutyResponse {
    /// Id.
    pub id: String,
    /// The item's code.
    pub item_code: String,
    /// Performed on.
    pub performed_on: NaiveDate,
    /// By whom.
    pub performed_by: String,
    /// What was done.
    pub note: Option<String>,
    /// Recorded at (UTC).
    pub created_at: DateTime<Utc>,
}

impl From<Duty> for DutyResponse {
    fn from(d: Duty) -> Self {
        Self {
            id: d.id,
            item_code: d.item_code,
            performed_on: d.performed_on,
            performed_by: d.performed_by,
            note: d.note,
            created_at: d.created_at,
        }
    }
}

/// Recording a performance.
///
/// The request body as documented: the handler reads it member by member (so every
/// invalid field is reported at once); the conventions test checks it reads exactly these.
#[derive(Debug, ToSchema)]
pub struct DutyCreate {
    /// The item's code on the list.
    pub item_code: String,
    /// Performed on, not after today.
    pub performed_on: NaiveDate,
    /// By whom.
    pub performed_by: String,
    /// What was done, up to 2,000 characters.
    pub note: Option<String>,
}

/// Record the performance of an item of a list (登记履职记录).
#[utoipa::path(
    tag = "checklists",
    operation_id = "create_duty_record",
    params(("id" = uuid::Uuid, Path, description = "List id")),
    request_body(content = DutyCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Recorded", body = DutyResponse,
            headers(("Location" = String, description = "URL of the list's records"))),
    )
)]
#[post("/checklists/{id}/duties")]
pub async fn create_duty_record(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<ChecklistId>,
    key: IdempotencyKey,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::RecordDualPrevention)?;
    let today = state.today();
    let mut r = Reader::new(&body);
    let item = r.required_text("item_code", 20, "条目编号");
    let on = r.required("performed_on", "履职日期", |r| {
        r.date_not_after("performed_on", today)
    });
    let by = r.required_text("performed_by", NAME, "履职人");
    let note = r.text("note", TEXT);
    let errors = r.finish("履职记录");
    let (Some(item), Some(on), Some(by), true) = (item, on, by, errors.is_empty()) else {
        return Err(ApiError::invalid(errors));
    };
    let (scope, actor) = (caller.scope(), caller.actor());
    let regulator = caller.principal.data.role.is_regulator();
    let forbidden = caller.forbidden("不能登记党委政府或行业部门清单的履职记录");
    crate::plumbing::write::post(
        &state,
        &caller,
        &req,
        key,
        &body,
        &id.to_string(),
        move |tx| {
            let c = load_for_write(tx, id, &scope)
                .map_err(ApiError::from)
                .map_err(not_found_as("checklist", raw))?;
            // A government's or department's list is the regulators' to perform.
            if c.data.enterprise_id.is_none() && !regulator {
                return Err(forbidden);
            }
            let d = record_duty(tx, &c, (item, on, by, note), &actor)?;
            let location = format!("/api/v1/checklists/{id}/duties");
            Answer::created(location, &DutyResponse::from(d))
        },
    )
    .await
}

/// The performance records of a list, oldest first.
#[utoipa::path(
    tag = "checklists",
    operation_id = "list_duty_records",
    params(("id" = uuid::Uuid, Path, description = "List id")),
    responses(
        (status = 200, description = "All of them (one page)", body = ListResponse<DutyResponse>),
    )
)]
#[get("/checklists/{id}/duties")]
pub async fn list_duty_records(
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<ChecklistId>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.scope();
    let items = state
        .run(move |s| Ok(s.list_duties(id, &scope)?))
        .await
        .map_err(not_found_as("checklist", raw))?;
    Ok(ListResponse::whole(items.into_iter().map(DutyResponse::from).collect()).into_response())
}

/// The lists' operations.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(list_checklists)
        .service(create_checklist)
        .service(get_checklist)
        .service(list_duty_records)
        .service(create_duty_record);
}
