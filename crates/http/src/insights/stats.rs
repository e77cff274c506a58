//! Attainment statistics (达标情况统计) per supervision area and sector, for the city and
//! the counties (notice 绵应急函〔2020〕42号 一（二）: know the attainment picture of the area).

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use safegrade_domain::{CodeList, Sector};
use safegrade_store::insights::stats::{Cell, StatsFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::plumbing::app::AppState;
use crate::plumbing::auth::Caller;
use crate::plumbing::error::{ApiError, ErrorCode};
use crate::plumbing::list;

/// The figures of one area and sector (or of all of them, in `total`).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct AttainmentRow {
    /// Supervision area (absent in `total`).
    pub area_code: Option<String>,
    /// Supervision sector (absent in `total`).
    pub sector: Option<String>,
    /// Enterprises in the ledger (as it is now).
    pub enterprises: i64,
    /// Enterprises holding a grade in force on `as_of`.
    pub attained: i64,
    /// `attained / enterprises`, 0 when there are none.
    pub attainment_rate: f64,
    /// Attained enterprises per grade.
    #[schema(value_type = Object)]
    pub by_grade: BTreeMap<String, i64>,
    /// Enterprises whose grade in force expires within the window (re-application open).
    pub expiring: i64,
    /// Enterprises with a grade revoked from 1 January to `as_of`.
    pub revoked_this_year: i64,
    /// Enterprises per standardization status; only when `as_of` is today (null otherwise).
    #[schema(value_type = Option<Object>)]
    pub by_status: Option<BTreeMap<String, i64>>,
}

impl AttainmentRow {
    fn add(&mut self, c: &Cell) {
        self.enterprises += c.enterprises;
        self.attained += c.attained;
        self.expiring += c.expiring;
        self.revoked_this_year += c.revoked_this_year;
        for (g, n) in &c.by_grade {
            *self.by_grade.entry((*g).to_owned()).or_default() += n;
        }
        if let Some(s) = &c.by_status {
            let mine = self.by_status.get_or_insert_with(BTreeMap::new);
            for (k, n) in s {
                *mine.entry(k.clone()).or_default() += n;
            }
        }
    }

    fn finish(mut self) -> Self {
        #[expect(clippy::cast_precision_loss, reason = "counts are far below 2^52")]
        let rate = if self.enterprises > 0 {
            self.attained as f64 / self.enterprises as f64
        } else {
            0.0
        };
        self.attainment_rate = (rate * 10_000.0).round() / 10_000.0;
        self
    }
}

/// Attainment statistics.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttainmentResponse {
    /// The day counted.
    pub as_of: NaiveDate,
    /// The window of `expiring`, in months.
    pub window_months: u32,
    /// One row per area and sector with enterprises, in area then sector order.
    pub rows: Vec<AttainmentRow>,
    /// All rows added up.
    pub total: AttainmentRow,
}

/// Filters of the statistics. Unknown parameters are rejected (400).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AttainmentQuery {
    /// Only this supervision area (`area` is accepted too).
    #[serde(alias = "area")]
    pub area_code: Option<String>,
    /// Only this sector.
    #[param(value_type = Option<crate::plumbing::codes::Sector>)]
    pub sector: Option<Sector>,
    /// Count on this day (default today; not in the future). Past days are answered from
    /// the certificate history; the status breakdown only for today.
    pub as_of: Option<NaiveDate>,
}

/// Attainment statistics (达标情况统计) per area and sector, in the caller's jurisdiction:
/// enterprises, attained and the rate, per grade, expiring within the window, revoked this
/// year, and (for today) per standardization status.
#[utoipa::path(
    tag = "statistics",
    operation_id = "get_attainment_stats",
    params(AttainmentQuery),
    responses(
        (status = 200, description = "The figures", body = AttainmentResponse),
    )
)]
#[get("/stats/attainment")]
pub async fn get_attainment_stats(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<AttainmentQuery>,
) -> Result<HttpResponse, ApiError> {
    let invalid = |m: String| ApiError::new(ErrorCode::InvalidQuery, m);
    let today = state.today();
    let as_of = query.as_of.unwrap_or(today);
    if as_of > today {
        return Err(invalid(format!("as_of {as_of} is after today ({today})")));
    }
    let area_code = list::area_filter(query.area_code.as_deref())?;
    let filter = StatsFilter {
        scope: caller.scope(),
        area_code,
        sector: query.sector.map(|s| s.as_str().to_owned()),
    };
    let window = state.expiring_window_months;
    let found = state
        .run(move |s| Ok(s.attainment(&filter, as_of, window, as_of == today)?))
        .await?;
    if found.recount_due {
        // Answered from the summaries this time; count for the next request, off this one.
        let store = state.store.clone();
        actix_web::rt::spawn(async move {
            let counted =
                actix_web::web::block(move || store.recount_attainment_if_due(today, window)).await;
            if let Ok(Err(e)) = counted {
                tracing::warn!(error = %e, "counting the attainment counters failed");
            }
        });
    }
    let cells = found.cells;
    let mut total = AttainmentRow::default();
    let rows = cells
        .iter()
        .map(|((area, sector), cell)| {
            total.add(cell);
            let mut row = AttainmentRow {
                area_code: Some(area.clone()),
                sector: Some(sector.clone()),
                ..AttainmentRow::default()
            };
            row.add(cell);
            row.finish()
        })
        .collect();
    Ok(HttpResponse::Ok().json(AttainmentResponse {
        as_of,
        window_months: window,
        rows,
        total: total.finish(),
    }))
}
