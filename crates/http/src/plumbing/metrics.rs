//! `GET /metrics` in the Prometheus text format (version 0.0.4): requests by route, method
//! and status with a latency histogram, the database pools, the writer threads' queue and
//! batches, the job table and webhook deliveries, and the token cache. Read with the
//! `metrics_token` setting or a city administrator's token; not part of `/api/v1`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use safegrade_domain::Action;

use crate::plumbing::app::AppState;
use crate::plumbing::error::{ApiError, ErrorCode};

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Debug, Default, Clone)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Counters of this process.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    /// Counts a request to `route` (the template, like `/api/v1/enterprises/{id}`).
    pub fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let Ok(mut map) = self.requests.lock() else {
            return;
        };
        let s = map
            .entry((route.to_owned(), method.to_owned(), status))
            .or_default();
        s.count += 1;
        s.sum += seconds;
        for (bound, n) in BUCKETS.iter().zip(s.buckets.iter_mut()) {
            if seconds <= *bound {
                *n += 1;
            }
        }
    }

    fn requests(&self) -> BTreeMap<(String, String, u16), Series> {
        self.requests.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

/// A label value, escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// The exposition of `state`'s process and database.
pub fn render(state: &AppState) -> Result<String, safegrade_store::StoreError> {
    let mut out = String::new();
    let m = &state.metrics;
    family(
        &mut out,
        "safegrade_http_requests_total",
        "counter",
        "HTTP requests by route template, method and status.",
    );
    let requests = m.requests();
    for ((route, method, status), s) in &requests {
        let _ = writeln!(
            out,
            "safegrade_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {}",
            label(route),
            s.count
        );
    }
    family(
        &mut out,
        "safegrade_http_request_duration_seconds",
        "histogram",
        "Time to answer, by route template and method.",
    );
    let mut by_route: BTreeMap<(String, String), Series> = BTreeMap::new();
    for ((route, method, _), s) in requests {
        let t = by_route.entry((route, method)).or_default();
        t.count += s.count;
        t.sum += s.sum;
        for (a, b) in t.buckets.iter_mut().zip(s.buckets) {
            *a += b;
        }
    }
    for ((route, method), s) in &by_route {
        let l = format!("route=\"{}\",method=\"{method}\"", label(route));
        for (bound, n) in BUCKETS.iter().zip(s.buckets) {
            let _ = writeln!(
                out,
                "safegrade_http_request_duration_seconds_bucket{{{l},le=\"{bound}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "safegrade_http_request_duration_seconds_bucket{{{l},le=\"+Inf\"}} {}",
            s.count
        );
        let _ = writeln!(
            out,
            "safegrade_http_request_duration_seconds_sum{{{l}}} {}",
            s.sum
        );
        let _ = writeln!(
            out,
            "safegrade_http_request_duration_seconds_count{{{l}}} {}",
            s.count
        );
    }

    let ((r_open, r_idle), (w_open, w_idle)) = state.store.pool_state();
    family(
        &mut out,
        "safegrade_db_pool_connections",
        "gauge",
        "Open database connections by pool and state.",
    );
    for (pool, open, idle) in [("read", r_open, r_idle), ("write", w_open, w_idle)] {
        let _ = writeln!(
            out,
            "safegrade_db_pool_connections{{pool=\"{pool}\",state=\"idle\"}} {idle}"
        );
        let _ = writeln!(
            out,
            "safegrade_db_pool_connections{{pool=\"{pool}\",state=\"in_use\"}} {}",
            open.saturating_sub(idle)
        );
    }
    let w = state.store.writer_stats();
    family(
        &mut out,
        "safegrade_writer_queue_depth",
        "gauge",
        "Write transactions waiting for a writer thread.",
    );
    let _ = writeln!(
        out,
        "safegrade_writer_queue_depth {}",
        w.queued.load(Ordering::Relaxed)
    );
    family(
        &mut out,
        "safegrade_writer_batch_size",
        "histogram",
        "Write transactions committed together per batch (group commit).",
    );
    let batches = w.batches.load(Ordering::Relaxed);
    for (bound, n) in safegrade_store::writer::BATCH_BUCKETS
        .iter()
        .zip(&w.batch_sizes)
    {
        let _ = writeln!(
            out,
            "safegrade_writer_batch_size_bucket{{le=\"{bound}\"}} {}",
            n.load(Ordering::Relaxed)
        );
    }
    let _ = writeln!(
        out,
        "safegrade_writer_batch_size_bucket{{le=\"+Inf\"}} {batches}"
    );
    let _ = writeln!(
        out,
        "safegrade_writer_batch_size_sum {}",
        w.jobs.load(Ordering::Relaxed)
    );
    let _ = writeln!(out, "safegrade_writer_batch_size_count {batches}");

    let jobs = state.store.job_stats()?;
    family(
        &mut out,
        "safegrade_jobs",
        "gauge",
        "Background jobs by kind and state.",
    );
    for (kind, st, n) in &jobs.jobs {
        let _ = writeln!(out, "safegrade_jobs{{kind=\"{kind}\",state=\"{st}\"}} {n}");
    }
    family(
        &mut out,
        "safegrade_job_lag_seconds",
        "gauge",
        "How long the oldest due job of each kind has waited.",
    );
    for (kind, secs) in &jobs.oldest_due_seconds {
        let _ = writeln!(out, "safegrade_job_lag_seconds{{kind=\"{kind}\"}} {secs}");
    }
    family(
        &mut out,
        "safegrade_webhooks",
        "gauge",
        "Enabled webhook subscriptions by status.",
    );
    for (status, n) in &jobs.webhooks {
        let _ = writeln!(out, "safegrade_webhooks{{status=\"{status}\"}} {n}");
    }
    family(
        &mut out,
        "safegrade_webhook_deliveries_total",
        "counter",
        "Webhook delivery attempts by outcome.",
    );
    let _ = writeln!(
        out,
        "safegrade_webhook_deliveries_total{{outcome=\"succeeded\"}} {}",
        jobs.deliveries.0
    );
    let _ = writeln!(
        out,
        "safegrade_webhook_deliveries_total{{outcome=\"failed\"}} {}",
        jobs.deliveries.1
    );
    family(
        &mut out,
        "safegrade_webhook_lag_events",
        "gauge",
        "Event sequence numbers between the log's last event and the furthest-behind enabled subscription.",
    );
    let _ = writeln!(
        out,
        "safegrade_webhook_lag_events {}",
        jobs.webhook_events_behind
    );

    family(
        &mut out,
        "safegrade_token_cache_requests_total",
        "counter",
        "Token checks by whether the cache answered.",
    );
    let _ = writeln!(
        out,
        "safegrade_token_cache_requests_total{{result=\"hit\"}} {}",
        state.auth.cache_hits.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "safegrade_token_cache_requests_total{{result=\"miss\"}} {}",
        state.auth.cache_misses.load(Ordering::Relaxed)
    );
    Ok(out)
}

/// `GET /metrics`: the configured metrics token, or a city administrator's token.
pub async fn scrape(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let token = crate::plumbing::auth::bearer_token(req.headers())?;
    let allowed = match &state.metrics_token {
        Some(t) if crate::plumbing::auth::same_secret(t, &token) => true,
        _ => {
            let (_, principal) = state.auth.check(&state.store, &token).await?;
            principal.data.may(Action::ManageAccess)
        }
    };
    if !allowed {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "只有市局管理员或配置的监控令牌可以读取 /metrics",
        ));
    }
    let st = state.clone();
    let text = state.run(move |_| Ok(render(&st)?)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        ))
        .body(text))
}
