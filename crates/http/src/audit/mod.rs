//! The audit trail and change feed (事件流).

pub mod chain;
pub mod events;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the event feed and the audit chain's export.
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(events::list_events)
        .service(chain::export_audit_chain);
}
