//! What every capability's HTTP layer builds on, knowing none of them: the application
//! (state, middleware, fallbacks), errors, authentication, the convention extractors and
//! the write helper, lists, member readers, the OpenAPI document and the book's API
//! reference, code-list schemas, instants, the public rate limit, health. `tests/arch.rs`
//! checks that nothing here imports a capability module.

pub mod apidoc;
pub mod app;
pub mod auth;
pub mod codes;
pub mod error;
pub mod export;
pub mod extract;
pub mod health;
pub mod instant;
pub mod lane;
pub mod list;
pub(crate) mod members;
pub mod metrics;
pub(crate) mod openapi;
pub mod ratelimit;
pub mod site;
pub mod wake;
pub mod write;
