//! SafeGrade's HTTP API: actix-web handlers, wire types (`…Response`, `…Create`, `…Patch`),
//! RFC 9457 problems and the OpenAPI document.
//!
//! Depends on `safegrade_domain` and `safegrade_store`; the server binary depends on it.
//! Wire types are built from domain types with `From`; diesel rows never reach this crate.
//!
//! A folder per capability (`ledger`, `access`, `audit`, `grading`, `drives`, `insights`),
//! each registering its own routes (`routes.rs` composes them); `plumbing` holds what they
//! share and imports none of them.
//!
//! Entry points: [`app`] (the whole application), [`openapi()`] and [`openapi_json`] (the
//! contract), [`apidoc::render`] (the book's API reference).

pub mod access;
pub mod assessments;
pub mod audit;
pub mod calendar;
pub mod checklists;
pub mod drives;
pub mod grading;
pub mod gradings;
pub mod hazards;
pub mod insights;
pub mod inspections;
pub mod ledger;
pub mod plumbing;
pub mod risks;
mod routes;
pub mod standards;
pub mod webhooks;
pub mod worker;

pub use plumbing::app::{AppState, MAX_BODY_BYTES, RequestId, app, china_today};
pub use plumbing::error::{ApiError, ErrorCode, Problem};
pub use plumbing::openapi::{OPEN_LISTS, PROBLEM_JSON, RouteTable, openapi, openapi_json};
pub use plumbing::{apidoc, auth, codes, error, extract, instant, list, ratelimit, write};
