//! What every capability's storage builds on, knowing none of them: connections and pools,
//! migrations, the writer threads, digests, errors, stored instants, locks, the event log,
//! idempotency, pages, prepared statements, the jurisdiction filter and the schema. `tests/arch.rs` checks that
//! nothing here imports a capability module.

pub mod backup;
pub mod counts;
pub(crate) mod db;
pub mod digest;
pub(crate) mod error;
pub mod events;
pub mod idempotency;
pub(crate) mod instant;
pub(crate) mod jurisdiction;
pub(crate) mod locks;
pub(crate) mod page;
pub(crate) mod prepared;
pub mod schema;
pub(crate) mod time;
pub mod writer;
