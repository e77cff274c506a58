//! SafeGrade's HTTP API: actix-web handlers, wire types (`…Response`, `…Create`, `…Patch`),
//! RFC 9457 problems and the OpenAPI document.
//!
//! Depends on `safegrade_domain` and `safegrade_store`; the server binary depends on it.
//! Wire types are built from domain types with `From`; diesel rows never reach this crate.
//!
//! Entry points: [`app`] (the whole application), [`openapi()`] and [`openapi_json`] (the
//! contract), [`apidoc::render`] (the book's API reference).

pub mod accidents;
pub mod alerts;
pub mod apidoc;
mod app;
pub mod auth;
pub mod certificates;
pub mod codes;
pub mod drives;
pub mod enterprises;
pub mod error;
pub mod events;
pub mod extract;
mod health;
pub mod instant;
pub mod list;
mod members;
mod openapi;
pub mod principals;
pub mod ratelimit;
pub mod reference;
pub mod register;
pub mod stats;
pub mod write;

pub use app::{AppState, MAX_BODY_BYTES, RequestId, app, china_today};
pub use error::{ApiError, ErrorCode, Problem};
pub use openapi::{PROBLEM_JSON, RouteTable, openapi, openapi_json};
