//! Principals, tokens and the caller.

pub mod principals;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the access operations.
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(principals::get_me)
        .service(principals::create_principal)
        .service(principals::list_principals)
        .service(principals::get_principal)
        .service(principals::update_principal)
        .service(principals::create_token)
        .service(principals::list_tokens)
        .service(principals::revoke_token);
}
