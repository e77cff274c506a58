//! Liveness and readiness probes for load balancers.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::plumbing::app::AppState;
use crate::plumbing::error::ApiError;

/// A probe's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when healthy.
    #[schema(example = "ok")]
    pub status: String,
}

/// Liveness: the process answers. Never touches the database.
#[utoipa::path(tag = "health", operation_id = "get_health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".into(),
    })
}

/// Readiness: the database answers a query; 503 with `Retry-After` when it does not.
#[utoipa::path(tag = "health", operation_id = "get_readiness", responses((status = 200, body = Health)))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state
        .run(|store| store.ping().map_err(ApiError::from))
        .await?;
    Ok(HttpResponse::Ok().json(Health {
        status: "ok".into(),
    }))
}
