//! The enterprise ledger (企业台账) and its reference lists.

pub mod enterprises;
pub mod import;
pub mod imports;
pub mod reference;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the ledger's operations.
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(enterprises::create_enterprise)
        .service(enterprises::list_enterprises)
        .service(enterprises::export_enterprises)
        .service(enterprises::get_enterprise)
        .service(enterprises::update_enterprise)
        .service(enterprises::transfer_enterprise)
        .service(reference::list_areas)
        .service(reference::list_reference_lists)
        .service(reference::list_reference)
        .service(imports::get_import_template)
        .service(imports::create_import)
        .service(imports::list_imports)
        .service(imports::get_import);
}
