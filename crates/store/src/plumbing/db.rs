//! Connections, pools, migrations and the write-transaction helper.
//!
//! One binary runs on SQLite or PostgreSQL, chosen by the URL scheme. On SQLite there is one
//! writer connection and a pool of readers: concurrent writers queue in the process instead
//! of failing with `SQLITE_BUSY` (see `docs/adr/0002-sqlite-single-writer.md`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::StoreError;
use crate::plumbing::writer::Writer;

/// Writer threads (and write connections) per PostgreSQL node: commits are batched per
/// thread, and a few threads keep the server busy while one waits on a commit.
const PG_WRITER_THREADS: usize = 4;

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    /// PostgreSQL.
    Postgres(PgConnection),
    /// SQLite.
    Sqlite(SqliteConnection),
}

/// Runs `$body` with `$c` bound to the concrete connection of either backend, for the
/// statements the multi-connection cannot express (`ON CONFLICT`, per-backend SQL).
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::DbConn::Postgres($c) => $body,
            $crate::DbConn::Sqlite($c) => $body,
        }
    };
}

/// Inserts the rows of the slice `$rows` into `$table`: multi-row statements of at most
/// `$per` rows on PostgreSQL (a statement binds at most 65,535 values), one statement a row
/// on SQLite (diesel runs a SQLite multi-row insert in a transaction of its own, which cannot
/// open inside the writer's). The bulk path of enterprises and certificates. One row on
/// PostgreSQL (the everyday single write) is a single-row insert, which diesel prepares once
/// per connection; a multi-row insert's text depends on its length, so PostgreSQL parses
/// and plans it every time.
#[macro_export]
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr, $per:expr) => {
        match $conn {
            $crate::DbConn::Postgres(pg) => match &$rows[..] {
                [row] => {
                    diesel::insert_into($table).values(row).execute(pg)?;
                }
                rows => {
                    for chunk in rows.chunks($per) {
                        diesel::insert_into($table).values(chunk).execute(pg)?;
                    }
                }
            },
            $crate::DbConn::Sqlite(lite) => {
                for row in $rows.iter() {
                    diesel::insert_into($table).values(row).execute(lite)?;
                }
            }
        }
    };
}

/// Which backend a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl DbConn {
    /// The backend of this connection.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Migrations for SQLite, embedded in the binary.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
/// Migrations for PostgreSQL, embedded in the binary; same names as the SQLite ones.
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A parsed database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    /// `sqlite://<path>`: a file, created with its directory if missing.
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`.
    Postgres(String),
}

/// A database URL that SafeGrade does not accept.
#[derive(Debug, thiserror::Error)]
#[error(
    "unsupported database URL '{0}': use sqlite://<path> (for example sqlite://./data/safegrade.db) or postgres://user@host/db"
)]
pub struct UrlError(pub String);

impl DbUrl {
    /// Parses a URL by scheme; anything but `sqlite://`, `postgres://` and `postgresql://` is
    /// an error, so a typo never silently creates a file.
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(UrlError(url.to_owned()));
            }
            Ok(Self::Sqlite(PathBuf::from(path)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url.to_owned()))
        } else {
            Err(UrlError(url.to_owned()))
        }
    }

    /// The URL with any password masked, for logs.
    pub fn redacted(&self) -> String {
        match self {
            // Absolute, so a start from another folder is visible at once.
            Self::Sqlite(p) => format!(
                "sqlite://{}",
                std::path::absolute(p)
                    .unwrap_or_else(|_| p.clone())
                    .display()
            ),
            Self::Postgres(u) => match url::Url::parse(u) {
                Ok(mut parsed) if parsed.password().is_some() => {
                    let _ = parsed.set_password(Some("***"));
                    parsed.to_string()
                }
                _ => u.clone(),
            },
        }
    }
}

/// SQLite settings applied on every connection (checked by a test: `sql_query` with several
/// statements runs only the first, so this goes through `batch_execute`).
pub const SQLITE_PRAGMAS: &str = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
    PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;";

/// The r2d2 connection manager, choosing the backend by URL.
#[derive(Debug, Clone)]
pub struct ConnManager {
    url: DbUrl,
}

impl ConnManager {
    /// A manager for `url`.
    pub fn new(url: DbUrl) -> Self {
        Self { url }
    }
}

/// Why a connection could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    /// Connecting failed.
    #[error(transparent)]
    Connection(#[from] diesel::ConnectionError),
    /// A query on a fresh connection failed.
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

impl r2d2::ManageConnection for ConnManager {
    type Connection = DbConn;
    type Error = ConnError;

    fn connect(&self) -> Result<DbConn, ConnError> {
        match &self.url {
            DbUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
                conn.batch_execute(SQLITE_PRAGMAS)?;
                Ok(DbConn::Sqlite(conn))
            }
            DbUrl::Postgres(url) => Ok(DbConn::Postgres(PgConnection::establish(url)?)),
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), ConnError> {
        conn.batch_execute("SELECT 1").map_err(ConnError::from)
    }

    /// Diesel marks a connection broken when the server dropped it (or a transaction was
    /// left half-done); r2d2 then discards it instead of handing it out again. Tested by
    /// `lost_database_connections_answer_503_and_recover`.
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        diesel::r2d2::R2D2Connection::is_broken(conn)
    }
}

/// A connection pool.
pub type Pool = r2d2::Pool<ConnManager>;
/// A connection taken from a pool.
pub type PooledConn = r2d2::PooledConnection<ConnManager>;

/// Pool sizes and timeouts.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Read connections (and, on PostgreSQL, write connections too).
    pub size: u32,
    /// How long a request waits for a connection before the database counts as unavailable.
    pub timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            size: 8,
            timeout: Duration::from_secs(5),
        }
    }
}

/// Access to the database: a reader pool, and writer threads with their own connections
/// (one on SQLite, four on PostgreSQL) that commit writes in batches.
#[derive(Clone)]
pub struct Store {
    readers: Pool,
    /// A streaming replica for lists and statistics (`database_read_url`), if any.
    replica: Option<Pool>,
    writer: Pool,
    backend: Backend,
    write_queue: crate::plumbing::writer::Writer,
    rules: &'static safegrade_domain::grading::GradeRules,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

fn build_pool(url: &DbUrl, size: u32, timeout: Duration) -> Result<Pool, StoreError> {
    Ok(r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(timeout)
        .test_on_check_out(false)
        .build(ConnManager::new(url.clone()))?)
}

fn create_parent(path: &Path) -> Result<(), StoreError> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))),
        _ => Ok(()),
    }
}

impl Store {
    /// Opens pools on `url` (creating a SQLite file and its folder if missing). Does not
    /// migrate: call [`Store::migrate`].
    pub fn open(url: &DbUrl, config: &PoolConfig) -> Result<Self, StoreError> {
        match url {
            DbUrl::Sqlite(path) => {
                create_parent(path)?;
                // The writer comes first, so it creates the file and switches it to WAL
                // before any reader opens it.
                let writer = build_pool(url, 1, config.timeout)?;
                let readers = build_pool(url, config.size, config.timeout)?;
                let write_queue = Writer::start(writer.clone(), 1, "BEGIN IMMEDIATE")?;
                Ok(Self {
                    readers,
                    replica: None,
                    writer,
                    backend: Backend::Sqlite,
                    write_queue,
                    rules: safegrade_domain::grading::GradeRules::builtin(),
                })
            }
            DbUrl::Postgres(_) => {
                let threads = PG_WRITER_THREADS;
                let writer = build_pool(url, u32::try_from(threads).unwrap_or(4), config.timeout)?;
                let readers = build_pool(url, config.size, config.timeout)?;
                let write_queue = Writer::start(writer.clone(), threads, "BEGIN")?;
                Ok(Self {
                    readers,
                    replica: None,
                    writer,
                    backend: Backend::Postgres,
                    write_queue,
                    rules: safegrade_domain::grading::GradeRules::builtin(),
                })
            }
        }
    }

    /// This store with the grade rules in force replaced (the bureau's configured rule
    /// set); every decision the store makes uses them.
    #[must_use]
    pub fn with_grade_rules(
        mut self,
        rules: &'static safegrade_domain::grading::GradeRules,
    ) -> Self {
        self.rules = rules;
        self
    }

    /// The grade rules in force.
    pub fn grade_rules(&self) -> &'static safegrade_domain::grading::GradeRules {
        self.rules
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// What the writer threads did since start (for `/metrics`).
    pub fn writer_stats(&self) -> &crate::plumbing::writer::WriterStats {
        self.write_queue.stats()
    }

    /// Connections of the read and write pools: (open, idle) each.
    pub fn pool_state(&self) -> ((u32, u32), (u32, u32)) {
        let (r, w) = (self.readers.state(), self.writer.state());
        (
            (r.connections, r.idle_connections),
            (w.connections, w.idle_connections),
        )
    }

    /// A read connection.
    pub fn read(&self) -> Result<PooledConn, StoreError> {
        Ok(self.readers.get()?)
    }

    /// This store with lists and statistics read from a streaming replica of its PostgreSQL
    /// database at `url` (`database_read_url`, docs/SCALE.md); everything else keeps
    /// reading the primary. Refused for SQLite, which has no replicas.
    pub fn with_replica(mut self, url: &DbUrl, config: &PoolConfig) -> Result<Self, StoreError> {
        if self.backend != Backend::Postgres || !matches!(url, DbUrl::Postgres(_)) {
            return Err(StoreError::Other(
                "database_read_url needs PostgreSQL for both the database and its replica".into(),
            ));
        }
        self.replica = Some(build_pool(url, config.size, config.timeout)?);
        Ok(self)
    }

    /// Runs `f` for a list or a statistic: on the replica when there is one (it may lag the
    /// primary by the replication delay), else like [`Store::with_read`].
    pub fn with_list_read<T>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match &self.replica {
            Some(replica) => {
                let mut conn = replica.get()?;
                f(&mut conn)
            }
            None => self.with_read(f),
        }
    }

    /// Runs `f` on a read connection.
    pub fn with_read<T>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.read()?;
        f(&mut conn)
    }

    /// Runs `f` in one write transaction and returns its result once committed. Any error
    /// from `f` undoes everything `f` wrote. `f` must not open transactions of its own, nor
    /// call `with_write_tx` (on SQLite it would wait for the writer thread it runs on).
    ///
    /// `f` runs on a writer thread, batched with other waiting writes into one transaction
    /// (`BEGIN IMMEDIATE` on SQLite, one writer; `BEGIN` on PostgreSQL, a few writers), inside
    /// a savepoint of its own ([`crate::plumbing::writer`]).
    pub fn with_write_tx<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut crate::WriteTx<'_>) -> Result<T, E> + Send + 'static,
    {
        self.write_queue.execute(f)
    }

    /// Runs `f` in a write transaction of its own, not batched with other writes: for
    /// maintenance that takes a lock in its body (`crate::plumbing::writer::run_alone`). On
    /// SQLite it is an ordinary write (one writer, no locks to order).
    pub fn with_own_write_tx<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut crate::WriteTx<'_>) -> Result<T, E> + Send + 'static,
    {
        match self.backend {
            Backend::Sqlite => self.with_write_tx(f),
            Backend::Postgres => {
                let mut conn = self.readers.get().map_err(|e| E::from(e.into()))?;
                crate::plumbing::writer::run_alone(&mut conn, f)
            }
        }
    }

    /// [`Store::with_write_tx`] for async callers: the future resolves once the transaction
    /// committed (or failed), without holding a thread while it waits.
    pub fn write<T, E, F>(&self, f: F) -> impl Future<Output = Result<T, E>> + use<T, E, F>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut crate::WriteTx<'_>) -> Result<T, E> + Send + 'static,
    {
        self.write_queue.submit(None, f)
    }

    /// [`Store::write`] for a change to the record named `key` (its id, or the unique value
    /// it creates): changes with the same key run on the same writer thread, one after the
    /// other, so they never deadlock each other on PostgreSQL.
    pub fn write_keyed<T, E, F>(
        &self,
        key: &str,
        f: F,
    ) -> impl Future<Output = Result<T, E>> + use<T, E, F>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut crate::WriteTx<'_>) -> Result<T, E> + Send + 'static,
    {
        self.write_queue.submit(Some(key), f)
    }

    /// Runs the pending migrations of this backend, then chains the events stored before
    /// the audit chain existed (`crate::events::chain`).
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let applied = {
            let mut conn = self.writer.get()?;
            run_migrations(&mut conn)?
        };
        let chained = self.with_own_write_tx(|tx| crate::plumbing::events::chain::backfill(tx))?;
        if chained > 0 {
            tracing::info!(chained, "events stored before the audit chain were chained");
        }
        Ok(applied)
    }

    /// Refreshes the planner's statistics (`ANALYZE`) after a bulk load. A table that grew
    /// from nothing inside one process otherwise keeps the plans its prepared statements got
    /// while it was empty (on PostgreSQL a sequential scan per lookup, until autovacuum
    /// analyzes it, if it runs at all); `ANALYZE` also makes the cached plans be made again.
    pub fn analyze(&self) -> Result<(), StoreError> {
        self.with_write_tx(|tx| {
            let conn: &mut DbConn = tx;
            conn.batch_execute("ANALYZE")?;
            Ok(())
        })
    }

    /// Checks that the database answers (for `/readyz`).
    pub fn ping(&self) -> Result<(), StoreError> {
        self.with_read(|c| c.batch_execute("SELECT 1").map_err(StoreError::from))
    }
}

/// Runs the pending migrations on one connection and names the ones applied.
///
/// On PostgreSQL under a session-level advisory lock, so nodes that start together migrate
/// one after the other: the first applies, the others find nothing pending.
pub fn run_migrations(conn: &mut DbConn) -> Result<Vec<String>, StoreError> {
    let applied = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(names),
        DbConn::Postgres(c) => {
            let lock = |c: &mut PgConnection, sql: &str| {
                diesel::sql_query(sql)
                    .bind::<diesel::sql_types::BigInt, _>(crate::plumbing::locks::MIGRATIONS)
                    .execute(c)
            };
            lock(c, "SELECT pg_advisory_lock($1)")?;
            let applied = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(names);
            lock(c, "SELECT pg_advisory_unlock($1)")?;
            applied
        }
    };
    applied.map_err(StoreError::Other)
}

fn names(versions: Vec<diesel::migration::MigrationVersion<'_>>) -> Vec<String> {
    versions.into_iter().map(|v| v.to_string()).collect()
}
