//! Derived views: alerts (提醒) and attainment statistics (达标情况统计).

pub mod alerts;
pub mod stats;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the insights.
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(alerts::list_alerts)
        .service(alerts::export_alerts)
        .service(stats::get_attainment_stats);
}
