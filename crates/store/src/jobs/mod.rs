//! The job table: background work (imports, webhook deliveries) that survives a restart.
//!
//! A job is inserted in the transaction of the change that asks for it. A worker claims a due
//! job by taking its lease: the claim is one `UPDATE … RETURNING` of the oldest due job, on
//! PostgreSQL with `FOR UPDATE SKIP LOCKED` in its subquery, so several API nodes on one
//! database never take the same job (on SQLite the one writer serialises claims). While it
//! works, the worker writes progress and a checkpoint, each write renewing the lease and
//! failing with [`LeaseLost`] when another worker took the job meanwhile. A job whose lease
//! ran out (its node stopped) is due again: the next claim resumes it from its checkpoint.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamp};
use safegrade_domain::jobs::{JobKind, JobState};
use safegrade_domain::{CodeList, PrincipalId};

use crate::plumbing::instant::{StoredInstant, utc};
use crate::plumbing::schema::{job_inputs, jobs};
use crate::{DbConn, Store, StoreError};

/// How long a claim holds a job without a sign of life (progress, a checkpoint).
pub const LEASE_SECONDS: i64 = 60;

/// A job to insert.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// What it does.
    pub kind: JobKind,
    /// The record it works on, unique per kind (a webhook's delivery job), if any.
    pub subject: Option<String>,
    /// Who asked.
    pub principal_id: Option<PrincipalId>,
    /// Its parameters (JSON).
    pub params: serde_json::Value,
    /// Its input (an uploaded file).
    pub input: Option<Vec<u8>>,
}

/// A stored job (without its input).
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Id (UUIDv7).
    pub id: String,
    /// What it does.
    pub kind: JobKind,
    /// Where it is.
    pub state: JobState,
    /// The record it works on.
    pub subject: Option<String>,
    /// Who asked.
    pub principal_id: Option<String>,
    /// Its parameters.
    pub params: serde_json::Value,
    /// Units done.
    pub progress_done: i64,
    /// Units in all (0 while unknown).
    pub progress_total: i64,
    /// Where a resumed run starts from.
    pub checkpoint: Option<serde_json::Value>,
    /// What it did (when finished).
    pub report: Option<serde_json::Value>,
    /// How many times it was claimed.
    pub attempts: i32,
    /// Not to run before.
    pub run_after: DateTime<Utc>,
    /// The worker holding it.
    pub lease_owner: Option<String>,
    /// When asked.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// When it finished.
    pub finished_at: Option<DateTime<Utc>>,
}

/// The worker no longer holds the job (its lease ran out and another worker claimed it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the job's lease was lost")]
pub struct LeaseLost;

#[derive(Queryable, Selectable)]
#[diesel(table_name = jobs)]
struct JobRow {
    id: String,
    kind: String,
    state: String,
    subject: Option<String>,
    principal_id: Option<String>,
    params: String,
    progress_done: i64,
    progress_total: i64,
    checkpoint: Option<String>,
    report: Option<String>,
    attempts: i32,
    #[diesel(deserialize_as = StoredInstant)]
    run_after: NaiveDateTime,
    lease_owner: Option<String>,
    #[diesel(deserialize_as = StoredInstant)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredInstant)]
    updated_at: NaiveDateTime,
    finished_at: Option<NaiveDateTime>,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Other(format!("a stored jobs.{what} is not valid").into())
}

fn json(text: &str, what: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text).map_err(|_| corrupt(what))
}

impl JobRow {
    fn into_job(self) -> Result<Job, StoreError> {
        Ok(Job {
            kind: JobKind::from_code(&self.kind).ok_or_else(|| corrupt("kind"))?,
            state: JobState::from_code(&self.state).ok_or_else(|| corrupt("state"))?,
            params: json(&self.params, "params")?,
            checkpoint: self
                .checkpoint
                .as_deref()
                .map(|c| json(c, "checkpoint"))
                .transpose()?,
            report: self
                .report
                .as_deref()
                .map(|r| json(r, "report"))
                .transpose()?,
            id: self.id,
            subject: self.subject,
            principal_id: self.principal_id,
            progress_done: self.progress_done,
            progress_total: self.progress_total,
            attempts: self.attempts,
            run_after: utc(self.run_after),
            lease_owner: self.lease_owner,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
            finished_at: self.finished_at.map(utc),
        })
    }
}

/// Inserts `new` as a queued job, due now, inside the caller's transaction.
pub fn insert(conn: &mut DbConn, new: NewJob) -> Result<Job, StoreError> {
    let now = crate::now();
    let id = uuid::Uuid::now_v7().to_string();
    diesel::insert_into(jobs::table)
        .values((
            jobs::id.eq(&id),
            jobs::kind.eq(new.kind.as_str()),
            jobs::state.eq(JobState::Queued.as_str()),
            jobs::subject.eq(new.subject),
            jobs::principal_id.eq(new.principal_id.map(|p| p.to_string())),
            jobs::params.eq(new.params.to_string()),
            jobs::progress_done.eq(0_i64),
            jobs::progress_total.eq(0_i64),
            jobs::attempts.eq(0),
            jobs::run_after.eq(now),
            jobs::created_at.eq(now),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)?;
    if let Some(bytes) = new.input {
        diesel::insert_into(job_inputs::table)
            .values((job_inputs::job_id.eq(&id), job_inputs::bytes.eq(bytes)))
            .execute(conn)?;
    }
    find(conn, &id)
}

/// The job `id`.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Job, StoreError> {
    jobs::table
        .find(id)
        .select(JobRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)?
        .into_job()
}

/// Makes the job of `kind` about `subject` due now (queued, unless a worker holds it: it
/// then finds the new work on its next round).
pub fn wake(conn: &mut DbConn, kind: JobKind, subject: &str) -> Result<(), StoreError> {
    let now = crate::now();
    diesel::update(
        jobs::table
            .filter(jobs::kind.eq(kind.as_str()))
            .filter(jobs::subject.eq(subject))
            .filter(jobs::state.ne(JobState::Running.as_str())),
    )
    .set((
        jobs::state.eq(JobState::Queued.as_str()),
        jobs::run_after.eq(now),
        jobs::updated_at.eq(now),
        jobs::finished_at.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(())
}

/// Checks, inside the caller's transaction, that `owner` still holds job `id`, and renews
/// its lease; writes the progress and checkpoint given. Written in the transaction of the
/// work the checkpoint describes, a resumed run never redoes or skips a committed step.
pub fn checkpoint(
    conn: &mut DbConn,
    (id, owner): (&str, &str),
    (done, total): (i64, i64),
    checkpoint: Option<&serde_json::Value>,
) -> Result<(), StoreError> {
    let now = crate::now();
    let until = now + chrono::Duration::seconds(LEASE_SECONDS);
    let n = diesel::update(
        jobs::table
            .find(id)
            .filter(jobs::lease_owner.eq(owner))
            .filter(jobs::state.eq(JobState::Running.as_str())),
    )
    .set((
        jobs::progress_done.eq(done),
        jobs::progress_total.eq(total),
        jobs::lease_until.eq(until),
        jobs::updated_at.eq(now),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(StoreError::Other(Box::new(LeaseLost)));
    }
    if let Some(c) = checkpoint {
        diesel::update(jobs::table.find(id))
            .set(jobs::checkpoint.eq(c.to_string()))
            .execute(conn)?;
    }
    Ok(())
}

/// How a worker leaves a job it holds.
#[derive(Debug, Clone)]
pub enum Release {
    /// Finished (succeeded or failed) with its report.
    Finish(JobState, serde_json::Value),
    /// Back to the queue, due at that instant (a webhook's next round or retry).
    Later(NaiveDateTime),
}

/// Leaves job `id` held by `owner` as `release` says, inside the caller's transaction.
pub fn release(
    conn: &mut DbConn,
    (id, owner): (&str, &str),
    release: Release,
) -> Result<(), StoreError> {
    let now = crate::now();
    let held = jobs::table
        .find(id)
        .filter(jobs::lease_owner.eq(owner))
        .filter(jobs::state.eq(JobState::Running.as_str()));
    let finished = matches!(release, Release::Finish(..));
    let n = match release {
        Release::Finish(state, report) => diesel::update(held)
            .set((
                jobs::state.eq(state.as_str()),
                jobs::progress_done.eq(jobs::progress_total),
                jobs::report.eq(report.to_string()),
                jobs::lease_owner.eq(None::<String>),
                jobs::lease_until.eq(None::<NaiveDateTime>),
                jobs::updated_at.eq(now),
                jobs::finished_at.eq(now),
            ))
            .execute(conn)?,
        Release::Later(at) => diesel::update(held)
            .set((
                jobs::state.eq(JobState::Queued.as_str()),
                jobs::run_after.eq(at),
                jobs::lease_owner.eq(None::<String>),
                jobs::lease_until.eq(None::<NaiveDateTime>),
                jobs::updated_at.eq(now),
            ))
            .execute(conn)?,
    };
    if n == 0 {
        return Err(StoreError::Other(Box::new(LeaseLost)));
    }
    if finished {
        // A finished job's file is no longer needed.
        diesel::delete(job_inputs::table.find(id)).execute(conn)?;
    }
    Ok(())
}

/// The SQL condition of a due job, `now` being the parameter holding the current instant:
/// queued and its time has come, or running with its lease run out (its worker stopped).
fn due(now: &str) -> String {
    format!(
        "((state = 'queued' AND run_after <= {now}) OR (state = 'running' AND lease_until < {now}))"
    )
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = Text)]
    id: String,
}

/// Claims the oldest due job of `kind` for `owner`: a queued job whose time has come, or a
/// running one whose lease ran out (its worker stopped).
fn claim(conn: &mut DbConn, kind: JobKind, owner: &str) -> Result<Option<Job>, StoreError> {
    let now = crate::now();
    let until = now + chrono::Duration::seconds(LEASE_SECONDS);
    // The subquery picks the job; on PostgreSQL it skips rows another node is claiming.
    let lock = match conn {
        DbConn::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        DbConn::Sqlite(_) => "",
    };
    let sql = format!(
        "UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = $2, \
         attempts = attempts + 1, updated_at = $3 \
         WHERE id = (SELECT id FROM jobs WHERE kind = $4 AND {due} \
         ORDER BY run_after, id LIMIT 1{lock}) RETURNING id",
        due = due("$3"),
    );
    let claimed: Option<Claimed> = diesel::sql_query(sql)
        .bind::<Text, _>(owner)
        .bind::<Timestamp, _>(until)
        .bind::<Timestamp, _>(now)
        .bind::<Text, _>(kind.as_str())
        .get_result(conn)
        .optional()?;
    claimed.map(|c| find(conn, &c.id)).transpose()
}

#[derive(QueryableByName)]
struct Due {
    #[diesel(sql_type = Integer)]
    n: i32,
}

impl Store {
    /// The job `id`.
    pub fn get_job(&self, id: &str) -> Result<Job, StoreError> {
        self.with_read(|conn| find(conn, id))
    }

    /// The input (uploaded file) of job `id`, kept until it finishes.
    pub fn job_input(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.with_read(|conn| {
            Ok(job_inputs::table
                .find(id)
                .select(job_inputs::bytes)
                .first::<Vec<u8>>(conn)
                .optional()?)
        })
    }

    /// Whether a job of `kind` is due (read only: a worker claims only when one is).
    pub fn job_due(&self, kind: JobKind) -> Result<bool, StoreError> {
        let now = crate::now();
        self.with_read(|conn| {
            let due: Option<Due> = diesel::sql_query(format!(
                "SELECT 1 AS n FROM jobs WHERE kind = $1 AND {} LIMIT 1",
                due("$2")
            ))
            .bind::<Text, _>(kind.as_str())
            .bind::<Timestamp, _>(now)
            .get_result(conn)
            .optional()?;
            Ok(due.is_some_and(|d| d.n == 1))
        })
    }

    /// Claims the oldest due job of `kind` for `owner` (see the module documentation).
    pub fn claim_job(&self, kind: JobKind, owner: &str) -> Result<Option<Job>, StoreError> {
        let owner = owner.to_owned();
        self.with_write_tx(move |tx| claim(tx, kind, &owner))
    }

    /// Writes progress (and renews the lease) of job `id` held by `owner`.
    pub fn job_progress(
        &self,
        (id, owner): (&str, &str),
        done: i64,
        total: i64,
    ) -> Result<(), StoreError> {
        let (id, owner) = (id.to_owned(), owner.to_owned());
        self.with_write_tx(move |tx| checkpoint(tx, (&id, &owner), (done, total), None))
    }

    /// Leaves job `id` held by `owner` as `how` says.
    pub fn release_job(&self, (id, owner): (&str, &str), how: Release) -> Result<(), StoreError> {
        let (id, owner) = (id.to_owned(), owner.to_owned());
        self.with_write_tx(move |tx| release(tx, (&id, &owner), how))
    }

    /// Jobs of `kind` asked by `principal`, newest first, after `cursor` (an id).
    pub fn list_jobs(
        &self,
        kind: JobKind,
        principal: Option<&str>,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Job>, StoreError> {
        self.with_read(|conn| {
            let mut q = jobs::table
                .filter(jobs::kind.eq(kind.as_str()))
                .select(JobRow::as_select())
                .into_boxed();
            if let Some(p) = principal {
                q = q.filter(jobs::principal_id.eq(p.to_owned()));
            }
            if let Some(c) = cursor {
                q = q.filter(jobs::id.lt(c.to_owned()));
            }
            q.order(jobs::id.desc())
                .limit(limit)
                .load::<JobRow>(conn)?
                .into_iter()
                .map(JobRow::into_job)
                .collect()
        })
    }
}

/// Whether `e` says the worker lost its lease.
pub fn is_lease_lost(e: &StoreError) -> bool {
    matches!(e, StoreError::Other(inner) if inner.downcast_ref::<LeaseLost>().is_some())
}

/// Figures of the job table and the webhook deliveries (for `/metrics`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobStats {
    /// Jobs by kind and state.
    pub jobs: Vec<(String, String, i64)>,
    /// Per kind, how long the oldest due job has waited, in seconds.
    pub oldest_due_seconds: Vec<(String, f64)>,
    /// Webhook subscriptions by status (enabled ones).
    pub webhooks: Vec<(String, i64)>,
    /// Events the furthest-behind enabled subscription has still to be sent (by `seq`).
    pub webhook_events_behind: i64,
    /// Delivery attempts that succeeded and that failed.
    pub deliveries: (i64, i64),
}

impl Store {
    /// Figures of the job table and the webhook deliveries.
    pub fn job_stats(&self) -> Result<JobStats, StoreError> {
        use crate::plumbing::schema::{webhook_deliveries, webhooks};
        let now = crate::now();
        self.with_read(|conn| {
            let jobs_by: Vec<(String, String, i64)> = jobs::table
                .group_by((jobs::kind, jobs::state))
                .select((jobs::kind, jobs::state, diesel::dsl::count_star()))
                .load(conn)?;
            let due: Vec<(String, Option<NaiveDateTime>)> = jobs::table
                .filter(jobs::state.eq(JobState::Queued.as_str()))
                .filter(jobs::run_after.le(now))
                .group_by(jobs::kind)
                .select((jobs::kind, diesel::dsl::min(jobs::run_after)))
                .load(conn)?;
            let hooks: Vec<(String, i64)> = webhooks::table
                .filter(webhooks::enabled.eq(true))
                .group_by(webhooks::status)
                .select((webhooks::status, diesel::dsl::count_star()))
                .load(conn)?;
            let last = crate::plumbing::events::last_seq(conn)?;
            let slowest: Option<i64> = webhooks::table
                .filter(webhooks::enabled.eq(true))
                .select(diesel::dsl::min(webhooks::cursor))
                .first(conn)?;
            let tried: Vec<(bool, i64)> = webhook_deliveries::table
                .group_by(webhook_deliveries::succeeded)
                .select((webhook_deliveries::succeeded, diesel::dsl::count_star()))
                .load(conn)?;
            let count = |ok: bool| tried.iter().find(|t| t.0 == ok).map_or(0, |t| t.1);
            #[expect(clippy::cast_precision_loss, reason = "waits in milliseconds")]
            let waited =
                |since: NaiveDateTime| (now - since).num_milliseconds().max(0) as f64 / 1000.0;
            Ok(JobStats {
                jobs: jobs_by,
                oldest_due_seconds: due
                    .into_iter()
                    .filter_map(|(k, at)| at.map(|at| (k, waited(at))))
                    .collect(),
                webhooks: hooks,
                webhook_events_behind: slowest.map_or(0, |s| (last - s).max(0)),
                deliveries: (count(true), count(false)),
            })
        })
    }
}
