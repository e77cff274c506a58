//! Grades over time: certificates, accidents, and the public register.

pub mod accidents;
pub mod certificates;
pub mod register;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the grading operations.
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(certificates::create_certificate)
        .service(certificates::list_certificates)
        .service(certificates::export_certificates)
        .service(certificates::get_certificate)
        .service(certificates::revoke_certificate)
        .service(certificates::renew_certificate)
        .service(certificates::upgrade_certificate)
        .service(accidents::create_accident)
        .service(accidents::list_accidents)
        .service(register::list_register)
        .service(register::verify_certificate);
}
