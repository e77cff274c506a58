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

/// Filters and paging of the alert list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// Only this supervision area (`area` is accepted too).
    #[serde(alias = "area")]
    pub area_code: Option<String>,
    /// Only these kinds, comma-separated.
    pub kind: Option<String>,
    /// Only this enterprise.
    pub enterprise_id: Option<uuid::Uuid>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
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
    params(AlertQuery),
    responses(
        (status = 200, description = "One page", body = ListResponse<AlertResponse>),
    )
)]
#[get("/alerts")]
pub async fn list_alerts(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<AlertQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = usize::try_from(list::limit(query.limit)?).unwrap_or(50);
    let invalid = |m: String| ApiError::new(ErrorCode::InvalidQuery, m);
    let after = match &query.cursor {
        Some(c) => Some(list::decode_cursor(CURSOR_KIND, c)?),
        None => None,
    };
    let area_code = list::area_filter(query.area_code.as_deref())?;
    let kinds = match query.kind.as_deref() {
        Some(k) => k
            .split(',')
            .map(|p| {
                p.trim()
                    .parse::<AlertKind>()
                    .map_err(|e| invalid(format!("kind: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let filter = AlertFilter {
        scope: caller.scope(),
        area_code,
        enterprise_id: query
            .enterprise_id
            .and_then(|u| EnterpriseId::parse(&u.to_string())),
        kinds,
    };
    let (rules, today, window) = (
        state.grade_rules,
        state.today(),
        state.expiring_window_months,
    );
    let all = state
        .run(move |s| Ok(s.alerts(&filter, rules, today, window)?))
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
    Ok(HttpResponse::Ok().json(ListResponse { items, next_cursor }))
}
