//! Where the capabilities meet: each registers its own operations under `/api/v1`.

use actix_web::dev::{ServiceFactory, ServiceRequest};
use utoipa_actix_web::{UtoipaApp, scope};

use crate::plumbing::health;

/// Registers every capability's routes and the health checks on a utoipa app.
pub fn register<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.service(health::healthz)
        .service(health::readyz)
        .service(scope("/api/v1").configure(|cfg| {
            crate::ledger::routes(cfg);
            crate::access::routes(cfg);
            crate::audit::routes(cfg);
            crate::calendar::routes(cfg);
            crate::grading::routes(cfg);
            crate::standards::routes(cfg);
            crate::assessments::routes(cfg);
            crate::gradings::routes(cfg);
            crate::hazards::routes(cfg);
            crate::risks::routes(cfg);
            crate::inspections::routes(cfg);
            crate::checklists::routes(cfg);
            crate::drives::routes(cfg);
            crate::insights::routes(cfg);
            crate::webhooks::routes(cfg);
        }))
}
