//! SafeGrade's persistence: diesel over SQLite (embedded default) and PostgreSQL, chosen by
//! the database URL, with embedded per-backend migrations.
//!
//! Depends on `safegrade_domain` and diesel; nothing HTTP. Diesel rows (`…Row`) never leave
//! this crate: repositories take and return domain types.
//!
//! Entry points: [`DbUrl::parse`], [`Store::open`], [`Store::migrate`],
//! [`Store::sync_reference_data`], the enterprise repository methods on [`Store`], and
//! [`Store::with_write_tx`] for every multi-row write.

pub mod access;
pub mod assessments;
pub mod calendar;
pub mod checklists;
pub mod drives;
pub mod grading;
pub mod gradings;
pub mod hazards;
pub mod insights;
pub mod inspections;
pub mod jobs;
pub mod ledger;
pub mod plumbing;
pub mod risks;
pub mod standards;
pub mod webhooks;

pub use plumbing::writer::WriteTx;
pub use plumbing::{backup, digest, events, idempotency, schema, writer};

pub use ledger::enterprises::EnterpriseFilter;
pub use ledger::reference::SyncReport;
pub use plumbing::db::{
    Backend, ConnError, ConnManager, DbConn, DbUrl, POSTGRES_MIGRATIONS, Pool, PoolConfig,
    PooledConn, SQLITE_MIGRATIONS, SQLITE_PRAGMAS, Store, UrlError, run_migrations,
};
pub use plumbing::error::{Constraint, StoreError, check_version};
pub use plumbing::idempotency::StoredResponse;
pub use plumbing::page::Page;
pub use plumbing::time::{china_day_start, now};
