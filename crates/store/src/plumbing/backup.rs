//! Backing up and restoring an embedded (SQLite) database. A backup is taken online with
//! `VACUUM INTO`, a consistent copy of the database as of one read transaction, while the
//! server keeps serving. Restoring checks that the file is a SafeGrade database and replaces
//! the target (with the server stopped). On PostgreSQL, `pg_dump` and `pg_restore` do this
//! (the book's 运维 chapter).

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::{DbConn, DbUrl, Store, StoreError};

fn refuse(why: impl Into<String>) -> StoreError {
    StoreError::Other(why.into().into())
}

/// What a backup or restore found in the database it wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Migrations it has applied.
    pub migrations: i64,
    /// Enterprises in it.
    pub enterprises: i64,
    /// Events in it.
    pub events: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Check {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

/// Opens `path` as a SQLite database and summarises it, refusing a file that is not an
/// intact SafeGrade database.
fn summarise(path: &Path) -> Result<BackupSummary, StoreError> {
    let url = format!("sqlite://{}", path.display());
    let mut conn = diesel::SqliteConnection::establish(&url)
        .map_err(|e| refuse(format!("{} cannot be opened: {e}", path.display())))?;
    let count = |conn: &mut diesel::SqliteConnection, sql: &str| {
        diesel::sql_query(sql)
            .get_result::<Count>(conn)
            .map(|c| c.n)
            .map_err(|_| refuse(format!("{} is not a SafeGrade database", path.display())))
    };
    let check = diesel::sql_query("PRAGMA integrity_check")
        .get_result::<Check>(&mut conn)
        .map_err(|e| refuse(format!("{} is not a SQLite database: {e}", path.display())))?;
    if check.integrity_check != "ok" {
        return Err(refuse(format!(
            "{} is damaged: {}",
            path.display(),
            check.integrity_check
        )));
    }
    Ok(BackupSummary {
        path: path.to_owned(),
        bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        migrations: count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM __diesel_schema_migrations",
        )?,
        enterprises: count(&mut conn, "SELECT COUNT(*) AS n FROM enterprises")?,
        events: count(&mut conn, "SELECT COUNT(*) AS n FROM events")?,
    })
}

impl Store {
    /// Writes a consistent copy of this (SQLite) database to `to`, which must not exist,
    /// while the database stays in use.
    pub fn backup_to(&self, to: &Path) -> Result<BackupSummary, StoreError> {
        if self.backend() != crate::Backend::Sqlite {
            return Err(refuse(
                "backup is for the embedded SQLite database; for PostgreSQL use pg_dump (see the book, 运维)",
            ));
        }
        if to.exists() {
            return Err(refuse(format!(
                "{} exists already; a backup never overwrites a file",
                to.display()
            )));
        }
        let target = to.to_string_lossy().replace('\'', "''");
        self.with_read(|conn| {
            let DbConn::Sqlite(lite) = conn else {
                return Err(refuse("not a SQLite connection"));
            };
            lite.batch_execute(&format!("VACUUM INTO '{target}'"))?;
            Ok(())
        })?;
        summarise(to)
    }
}

/// Replaces the SQLite database at `url` with the backup `from` (the server must be
/// stopped): checks the backup, copies it beside the target and renames it over it, and
/// removes the target's write-ahead log. The target must not exist unless `force`.
pub fn restore_sqlite(from: &Path, url: &DbUrl, force: bool) -> Result<BackupSummary, StoreError> {
    let DbUrl::Sqlite(target) = url else {
        return Err(refuse(
            "restore is for the embedded SQLite database; for PostgreSQL use pg_restore (see the book, 运维)",
        ));
    };
    summarise(from)?;
    if target.exists() && !force {
        return Err(refuse(format!(
            "{} exists; stop the server and pass --force to replace it",
            target.display()
        )));
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| refuse(e.to_string()))?;
    }
    let staging = target.with_extension("restoring");
    std::fs::copy(from, &staging).map_err(|e| refuse(format!("copying the backup: {e}")))?;
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", target.display()));
        if side.exists() {
            std::fs::remove_file(&side).map_err(|e| refuse(e.to_string()))?;
        }
    }
    std::fs::rename(&staging, target)
        .map_err(|e| refuse(format!("replacing the database: {e}")))?;
    summarise(target)
}
