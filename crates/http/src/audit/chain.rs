//! The audit chain's export (审计链导出): events with their hashes, one JSON object a line,
//! for anyone to check offline that the log was not edited afterwards
//! (`docs/adr/0006-audit-chain.md`; the algorithm is in the book's 审计链 chapter and in
//! `safegrade_store::events::chain`).

use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use safegrade_domain::Action;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::plumbing::app::AppState;
use crate::plumbing::auth::Caller;
use crate::plumbing::error::{ApiError, ErrorCode};
use crate::plumbing::export::{FileBody, send};
use safegrade_store::china_day_start;
use safegrade_store::events::chain::CITY_CHAIN;

/// Which events to export. Unknown parameters are rejected (400).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChainExportQuery {
    /// One chain: a supervision area's code, or `city` for the events without an area
    /// (principals, tokens, standards, subscriptions); absent: every chain.
    pub area_code: Option<String>,
    /// The first day (China Standard Time) whose events are exported; absent: from the
    /// first event.
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// The last day (China Standard Time) whose events are exported; absent: up to the
    /// last event.
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
}

/// Events read per page while streaming.
const PAGE: i64 = 2000;

/// Export the audit trail with its hashes (审计链导出), one event a line, to verify offline.
///
/// Every event carries `hash`, the SHA-256 of its canonical form, and `prev_hash`, the hash
/// of the previous event of its chain (one chain per supervision area, and `city` for
/// events without an area). The response is newline-delimited JSON
/// (`application/x-ndjson`), in `seq` order, streamed; each line holds `seq`, `prev_hash`,
/// `hash`, `type`, `occurred_at`, `actor_principal_id`, `actor_role`, `request_id`,
/// `resource_type`, `resource_id`, `area_code`, `enterprise_id`, `data` (the payload's
/// stored JSON text, as a string: hash it as it is) and `reason`. The book's 审计链 chapter
/// gives the canonical form and a Python script that checks an export. Only city
/// administrators may export: the trail includes events about principals and tokens.
#[utoipa::path(
    tag = "events",
    operation_id = "export_audit_chain",
    params(ChainExportQuery),
    responses(
        (status = 200, description = "The events with their hashes, one JSON object a line",
         content_type = "application/x-ndjson", body = FileBody),
    )
)]
#[get("/events/export")]
pub async fn export_audit_chain(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<ChainExportQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::ExportAuditTrail)?;
    let query = query.into_inner();
    let chain = match query.area_code.as_deref().map(str::trim) {
        Some(CITY_CHAIN) => Some(CITY_CHAIN.to_owned()),
        other => crate::plumbing::list::area_filter(other).map_err(|_| {
            ApiError::new(
                ErrorCode::InvalidQuery,
                format!(
                    "area_code '{}' is neither a supervision area nor city",
                    other.unwrap_or_default()
                ),
            )
        })?,
    };
    let day = |name: &str, raw: Option<&str>| {
        raw.map(|r| {
            NaiveDate::parse_from_str(r.trim(), "%Y-%m-%d").map_err(|_| {
                ApiError::new(
                    ErrorCode::InvalidQuery,
                    format!("{name} '{r}' is not a date like 2026-01-31"),
                )
            })
        })
        .transpose()
    };
    let (from, to) = (
        day("from", query.from.as_deref())?,
        day("to", query.to.as_deref())?,
    );
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!("from ({from}) is after to ({to})"),
        ));
    }
    let bounds = (
        from.map(china_day_start),
        to.and_then(|d| d.succ_opt()).map(china_day_start),
    );
    let file = format!(
        "审计链-{}-{}.ndjson",
        chain.as_deref().unwrap_or("all"),
        state.today()
    );
    Ok(crate::plumbing::export::stream(
        &state,
        "application/x-ndjson",
        "ndjson",
        &file,
        move |store, tx| {
            let mut after = 0;
            loop {
                let rows = store
                    .chained_events(chain.as_deref(), after, bounds, PAGE)
                    .map_err(|e| e.to_string())?;
                let Some(last) = rows.last().map(|r| r.seq) else {
                    return Ok(());
                };
                let mut out = Vec::with_capacity(rows.len() * 512);
                for row in &rows {
                    serde_json::to_writer(&mut out, row).map_err(|e| e.to_string())?;
                    out.push(b'\n');
                }
                send(tx, out)?;
                after = last;
            }
        },
    ))
}
