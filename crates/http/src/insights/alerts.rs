//! Alerts (提醒): due actions derived from certificates and accidents on the server's today,
//! scoped to the caller's jurisdiction.

use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use safegrade_domain::grading::AlertKind;
use safegrade_domain::{CodeList, EnterpriseId};
use safegrade_store::insights::alerts::{Alert, AlertFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::plumbing::app::AppState;
use crate::plumbing::auth::Caller;
use crate::plumbing::error::{ApiError, ErrorCode};
use crate::plumbing::export::{self, Cell, Format, Sheet};
use crate::plumbing::list::{self, ListResponse};

/// The record that raised an alert.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertSubject {
    /// `certificate`, `accident`, `grading` or `hazard` (more may come: treat others as
    /// opaque).
    #[serde(rename = "type")]
    pub subject_type: String,
    /// Its id.
    pub id: String,
}

/// A due action (提醒).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertResponse {
    /// Kind.
    #[schema(value_type = crate::plumbing::codes::AlertKind)]
    pub kind: AlertKind,
    /// The enterprise concerned.
    pub enterprise_id: String,
    /// Its name (企业名称).
    pub enterprise_name: String,
    /// Its supervision area.
    pub area_code: String,
    /// Due by (expiring), or due since (expired, accident date).
    pub due_on: NaiveDate,
    /// The record that raised it.
    pub subject: AlertSubject,
    /// The rule and its source, in Chinese (document and article).
    pub rule: String,
    /// What to do next, in Chinese, for the regulator.
    pub next_step: String,
}

impl From<Alert> for AlertResponse {
    fn from(a: Alert) -> Self {
        Self {
            kind: a.kind,
            enterprise_id: a.enterprise_id.to_string(),
            enterprise_name: a.enterprise_name,
            area_code: a.area_code,
            due_on: a.due_on,
            subject: AlertSubject {
                subject_type: a.subject.0.to_owned(),
                id: a.subject.1,
            },
            rule: a.rule,
            next_step: a.next_step,
        }
    }
}

/// Filters of the alert list and its export.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertFilters {
    /// Only this supervision area (`area` is accepted too).
    #[serde(alias = "area")]
    pub area_code: Option<String>,
    /// Only these kinds, comma-separated.
    pub kind: Option<String>,
    /// Only this enterprise.
    pub enterprise_id: Option<uuid::Uuid>,
}

impl AlertFilters {
    fn filter(&self, caller: &Caller) -> Result<AlertFilter, ApiError> {
        let kinds = match self.kind.as_deref() {
            Some(k) => k
                .split(',')
                .map(|p| {
                    p.trim()
                        .parse::<AlertKind>()
                        .map_err(|e| ApiError::new(ErrorCode::InvalidQuery, format!("kind: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        Ok(AlertFilter {
            scope: caller.scope(),
            area_code: list::area_filter(self.area_code.as_deref())?,
            enterprise_id: self
                .enterprise_id
                .and_then(|u| EnterpriseId::parse(&u.to_string())),
            kinds,
        })
    }
}

const CURSOR_KIND: &str = "alert";

fn position(a: &Alert) -> String {
    format!("{}|{}|{}", a.due_on, a.kind.as_str(), a.subject.1)
}

/// The due actions in the caller's jurisdiction (提醒), oldest due first: grades whose
/// renewal window is open, expired grades, accidents during a grade's validity, and
/// revocation triggers awaiting a decision. Derived from the records on the server's today;
/// an alert disappears once its cause is resolved.
#[utoipa::path(
    tag = "alerts",
    operation_id = "list_alerts",
    params(AlertFilters, list::PageParams),
    responses(
        (status = 200, description = "One page", body = ListResponse<AlertResponse>),
    )
)]
#[get("/alerts")]
pub async fn list_alerts(
    caller: Caller,
    state: web::Data<AppState>,
    query: list::Paged<AlertFilters>,
) -> Result<HttpResponse, ApiError> {
    let limit = usize::try_from(list::limit(query.limit)?).unwrap_or(50);
    let after = match &query.cursor {
        Some(c) => Some(list::decode_cursor(CURSOR_KIND, c)?),
        None => None,
    };
    let filter = query.filters.filter(&caller)?;
    let (rules, today, window) = (
        state.grade_rules,
        state.today(),
        state.expiring_window_months,
    );
    let all = state
        .run_heavy(move |s| Ok(s.alerts(&filter, rules, today, window)?))
        .await?;
    let start = match &after {
        Some(p) => all
            .iter()
            .position(|a| position(a) > *p)
            .unwrap_or(all.len()),
        None => 0,
    };
    let mut page: Vec<Alert> = all.iter().skip(start).take(limit).cloned().collect();
    let next_cursor = (start + page.len() < all.len())
        .then(|| {
            page.last()
                .map(|a| list::encode_cursor(CURSOR_KIND, &position(a)))
        })
        .flatten();
    let page = state
        .run(move |s| {
            s.name_alerts(&mut page)?;
            Ok(page)
        })
        .await?;
    let items = page.into_iter().map(AlertResponse::from).collect();
    Ok(ListResponse { items, next_cursor }.into_response())
}

/// Headers of the alert export.
const EXPORT_HEADERS: &[&str] = &[
    "提醒类型",
    "企业名称",
    "所属县（市、区）",
    "日期",
    "下一步",
    "依据",
    "相关记录",
    "企业编号",
];

/// Export the alerts (导出提醒) as Excel (`export.xlsx`) or CSV (`export.csv`): the list's
/// filters, the caller's jurisdiction, oldest due first, in Chinese, for a meeting or a
/// work plan.
#[utoipa::path(
    tag = "alerts",
    operation_id = "export_alerts",
    params(
        ("format" = String, Path, description = "`xlsx` or `csv`"),
        AlertFilters,
    ),
    responses(
        (status = 200, description = "The alerts as a file", content(
            (crate::plumbing::export::FileBody = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (String = "text/csv"),
        )),
    )
)]
#[get("/alerts/export.{format}")]
pub async fn export_alerts(
    caller: Caller,
    state: web::Data<AppState>,
    format: web::Path<String>,
    query: web::Query<AlertFilters>,
) -> Result<HttpResponse, ApiError> {
    let format = Format::parse(&format)?;
    let filter = query.filter(&caller)?;
    let (rules, today, window) = (
        state.grade_rules,
        state.today(),
        state.expiring_window_months,
    );
    let mut left: Option<std::vec::IntoIter<Alert>> = None;
    let pages = export::paged(move |store, _: Option<()>| {
        let all = match left.as_mut() {
            Some(all) => all,
            None => left.insert(store.alerts(&filter, rules, today, window)?.into_iter()),
        };
        let mut page: Vec<Alert> = all.by_ref().take(1000).collect();
        store.name_alerts(&mut page)?;
        let more = all.len() > 0;
        let rows = page
            .into_iter()
            .map(|a| {
                vec![
                    Cell::from(a.kind.label_zh()),
                    a.enterprise_name.into(),
                    safegrade_domain::find_area(&a.area_code)
                        .map_or(a.area_code.as_str(), |x| x.name_zh)
                        .into(),
                    a.due_on.into(),
                    a.next_step.into(),
                    a.rule.into(),
                    a.subject.1.into(),
                    a.enterprise_id.to_string().into(),
                ]
            })
            .collect();
        Ok((rows, more.then_some(())))
    });
    Ok(export::respond(
        &state,
        format,
        Sheet {
            name: "提醒",
            headers: EXPORT_HEADERS,
            pages,
        },
    ))
}
