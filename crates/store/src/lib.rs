//! SafeGrade's persistence: diesel over SQLite (embedded default) and PostgreSQL, chosen by
//! the database URL, with embedded per-backend migrations.
//!
//! Depends on `safegrade_domain` and diesel; nothing HTTP. Diesel rows (`…Row`) never leave
//! this crate: repositories take and return domain types.
//!
//! Entry points: [`DbUrl::parse`], [`Store::open`], [`Store::migrate`],
//! [`Store::sync_reference_data`], the enterprise repository methods on [`Store`], and
//! [`Store::with_write_tx`] for every multi-row write.

pub mod accidents;
pub mod alerts;
pub mod certificates;
mod db;
pub mod drives;
pub mod enterprises;
mod error;
pub mod events;
pub mod idempotency;
mod instant;
mod locks;
pub mod principals;
mod reference;
pub mod schema;
pub mod stats;
mod summaries;
pub mod tokens;
pub mod writer;

pub use writer::WriteTx;

pub use db::{
    Backend, ConnError, ConnManager, DbConn, DbUrl, POSTGRES_MIGRATIONS, Pool, PoolConfig,
    PooledConn, SQLITE_MIGRATIONS, SQLITE_PRAGMAS, Store, UrlError, run_migrations,
};
pub use enterprises::{EnterpriseFilter, Page, now};
pub use error::{Constraint, StoreError, check_version};
pub use idempotency::StoredResponse;
pub use reference::SyncReport;
