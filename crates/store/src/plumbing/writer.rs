//! Writer threads: they own the write connections and commit queued write transactions
//! together (group commit), each in its own savepoint.
//!
//! Instead of every request paying its own commit (on SQLite a rewrite of the table and index
//! pages, on PostgreSQL a WAL flush), requests send their transaction as a job; a writer
//! thread takes every job waiting (up to [`MAX_BATCH`]), runs them inside one transaction,
//! each between `SAVEPOINT` and `RELEASE` (or `ROLLBACK TO` when it fails, which undoes that
//! job alone), and answers each job after the commit. A job's answer therefore always
//! describes committed data. SQLite has one writer thread (it allows one writer at a time);
//! PostgreSQL a few. See `docs/adr/0002-sqlite-single-writer.md`.
//!
//! A job sees a [`WriteTx`]: the connection, and [`WriteTx::record`] for the events of its
//! change. The events of the jobs that succeeded are appended just before the commit
//! ([`crate::plumbing::events`]), so a change and its event commit together or not at all.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};

use diesel::connection::SimpleConnection;

use crate::StoreError;
use crate::plumbing::counts::{self, CountChange};
use crate::plumbing::db::{DbConn, Pool};
use crate::plumbing::events::{self, NewEvent};

/// What the jobs of a batch leave for the end of the transaction: their events and their
/// changes to the attainment counters.
#[derive(Default)]
struct Pending {
    events: Vec<NewEvent>,
    counts: Vec<CountChange>,
}

impl Pending {
    /// Where a job's additions start.
    fn mark(&self) -> (usize, usize) {
        (self.events.len(), self.counts.len())
    }

    /// Drops a failed job's additions.
    fn truncate(&mut self, (events, counts): (usize, usize)) {
        self.events.truncate(events);
        self.counts.truncate(counts);
    }

    /// Ends the transaction: moves the attainment counters, appends the events (in that
    /// order: `crate::plumbing::locks`), commits. On failure, names the step that failed;
    /// the caller rolls back.
    fn commit(&self, conn: &mut DbConn) -> Result<(), (&'static str, StoreError)> {
        counts::apply(conn, &self.counts).map_err(|e| ("moving the attainment counters", e))?;
        events::append(conn, &self.events).map_err(|e| ("appending events", e))?;
        conn.batch_execute("COMMIT")
            .map_err(|e| ("committing", StoreError::from(e)))
    }
}

/// One job's view of the write transaction: the connection (through `Deref`), and the
/// events and counter changes it records.
pub struct WriteTx<'a> {
    conn: &'a mut DbConn,
    pending: &'a mut Pending,
}

impl WriteTx<'_> {
    /// Records how an enterprise's counted state changed; the attainment counters move in
    /// the same transaction (`crate::plumbing::counts`), or not at all if the job fails.
    pub fn count(&mut self, change: CountChange) {
        self.pending.counts.push(change);
    }

    /// Records an event of this job's change; it is appended in the same transaction, and
    /// dropped if the job fails. An event that could not be stored (a U+0000 in any of its
    /// texts, which PostgreSQL refuses) fails this job here, inside its savepoint, instead
    /// of failing the whole batch at commit.
    pub fn record(&mut self, event: NewEvent) -> Result<(), StoreError> {
        event.check_storable()?;
        self.pending.events.push(event);
        Ok(())
    }
}

impl std::ops::Deref for WriteTx<'_> {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        self.conn
    }
}

impl std::ops::DerefMut for WriteTx<'_> {
    fn deref_mut(&mut self) -> &mut DbConn {
        self.conn
    }
}

/// Most jobs committed in one transaction.
pub const MAX_BATCH: usize = 128;

/// Called after the batch's commit (or its failure) to hand a job its answer.
type Deliver = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A job: runs on the write connection, says whether it succeeded, and how to deliver.
type Job = Box<dyn for<'a, 'b> FnOnce(&'a mut WriteTx<'b>) -> (bool, Deliver) + Send>;

/// The handle requests use to reach the writer threads. Each thread has its own queue: jobs
/// with a key (the record they change) always go to the same thread, so two transactions
/// of one node never wait on each other's uncommitted row for the same record, which on
/// PostgreSQL could deadlock two batches (and fail a job with 503). Jobs without a key are
/// spread round-robin.
#[derive(Clone)]
pub struct Writer {
    queues: Arc<[mpsc::Sender<Job>]>,
    next: Arc<AtomicUsize>,
    stats: Arc<WriterStats>,
}

/// Upper bounds of the batch-size histogram.
pub const BATCH_BUCKETS: [usize; 8] = [1, 2, 4, 8, 16, 32, 64, 128];

/// What the writer threads did since start (for `/metrics`).
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Jobs queued and not yet taken into a batch.
    pub queued: AtomicUsize,
    /// Batches committed or rolled back.
    pub batches: AtomicU64,
    /// Jobs run in them.
    pub jobs: AtomicU64,
    /// Batches of at most each [`BATCH_BUCKETS`] size (cumulative, as Prometheus counts).
    pub batch_sizes: [AtomicU64; BATCH_BUCKETS.len()],
}

impl WriterStats {
    fn batch(&self, n: usize) {
        self.queued.fetch_sub(n, Ordering::Relaxed);
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.jobs.fetch_add(n as u64, Ordering::Relaxed);
        for (bound, count) in BATCH_BUCKETS.iter().zip(&self.batch_sizes) {
            if n <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// FNV-1a, to spread keys over the writer threads.
fn spread(key: &str) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    usize::try_from(h >> 32).unwrap_or(0)
}

impl Writer {
    /// Starts `threads` writer threads over `pool`; each batch opens with `begin`.
    pub fn start(pool: Pool, threads: usize, begin: &'static str) -> Result<Self, StoreError> {
        let mut queues = Vec::new();
        let stats = Arc::new(WriterStats::default());
        for n in 0..threads.max(1) {
            let (jobs, queue) = mpsc::channel::<Job>();
            let pool = pool.clone();
            let counted = stats.clone();
            std::thread::Builder::new()
                .name(format!("db-writer-{n}"))
                .spawn(move || run(&pool, &queue, begin, &counted))
                .map_err(|e| {
                    StoreError::Unavailable(format!("cannot start a writer thread: {e}"))
                })?;
            queues.push(jobs);
        }
        Ok(Self {
            queues: queues.into(),
            next: Arc::new(AtomicUsize::new(0)),
            stats,
        })
    }

    /// What the writer threads did since start.
    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }

    fn queue(&self, key: Option<&str>) -> &mpsc::Sender<Job> {
        let n = match key {
            Some(k) => spread(k),
            None => self.next.fetch_add(1, Ordering::Relaxed),
        };
        &self.queues[n % self.queues.len()]
    }

    /// Queues `f` as a write transaction; `reply` gets its committed answer.
    fn enqueue<T, E, F>(
        &self,
        key: Option<&str>,
        f: F,
        reply: impl FnOnce(Result<T, E>) + Send + 'static,
    ) -> Result<(), StoreError>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut WriteTx<'_>) -> Result<T, E> + Send + 'static,
    {
        let job: Job = Box::new(move |tx| {
            let result = f(tx);
            let ok = result.is_ok();
            let deliver: Deliver = Box::new(move |commit| {
                reply(match (result, commit) {
                    (Ok(v), Ok(())) => Ok(v),
                    (Ok(_), Err(e)) => Err(E::from(e)),
                    (Err(e), _) => Err(e),
                });
            });
            (ok, deliver)
        });
        self.queue(key).send(job).map_err(|_| stopped())?;
        self.stats.queued.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Runs `f` as one write transaction on a writer thread and blocks until its committed
    /// answer.
    pub fn execute<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut WriteTx<'_>) -> Result<T, E> + Send + 'static,
    {
        let (answer, reply) = mpsc::sync_channel::<Result<T, E>>(1);
        self.enqueue(None, f, move |r| {
            let _ = answer.send(r);
        })?;
        reply.recv().map_err(|_| E::from(stopped()))?
    }

    /// Runs `f` as one write transaction on a writer thread (the one for `key`, if given);
    /// the future resolves with its committed answer. Awaiting it holds no thread.
    pub fn submit<T, E, F>(
        &self,
        key: Option<&str>,
        f: F,
    ) -> impl Future<Output = Result<T, E>> + use<T, E, F>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut WriteTx<'_>) -> Result<T, E> + Send + 'static,
    {
        let (answer, reply) = futures_channel::oneshot::channel::<Result<T, E>>();
        let queued = self.enqueue(key, f, move |r| {
            let _ = answer.send(r);
        });
        async move {
            queued?;
            reply.await.map_err(|_| E::from(stopped()))?
        }
    }
}

/// Runs `f` in a transaction of its own on `conn`, not batched with other jobs, with its
/// counter changes and events written before the commit as in a batch. For maintenance that
/// takes a lock of [`crate::plumbing::locks`] in its body (a recount, the daily chain heads):
/// batched with other jobs, such a lock taken in the middle of a batch could be taken in the
/// opposite order from the locks of the commit, and deadlock with another node's batch.
pub(crate) fn run_alone<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    E: From<StoreError>,
    F: FnOnce(&mut WriteTx<'_>) -> Result<T, E>,
{
    conn.batch_execute("BEGIN")
        .map_err(|e| E::from(StoreError::from(e)))?;
    let mut pending = Pending::default();
    let result = f(&mut WriteTx {
        conn,
        pending: &mut pending,
    });
    let commit = match &result {
        Ok(_) => pending.commit(conn).map_err(|(_, e)| e),
        Err(_) => Ok(()),
    };
    if result.is_err() || commit.is_err() {
        let _ = conn.batch_execute("ROLLBACK");
    }
    commit.map_err(E::from)?;
    result
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the database writer threads have stopped".into())
}

/// Takes the next batch: waits for one job, then every job already waiting.
fn next_batch(queue: &mpsc::Receiver<Job>) -> Option<Vec<Job>> {
    let first = queue.recv().ok()?;
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match queue.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    Some(batch)
}

fn run(pool: &Pool, queue: &mpsc::Receiver<Job>, begin: &str, stats: &WriterStats) {
    while let Some(batch) = next_batch(queue) {
        stats.batch(batch.len());
        let mut conn = match pool.get() {
            Ok(c) => c,
            Err(e) => {
                fail_all(batch, &StoreError::from(e).to_string());
                continue;
            }
        };
        commit_batch(&mut conn, batch, begin);
    }
}

/// Drops jobs that could not run: dropping a job drops its answer channel, which its caller
/// reads as "database unavailable" (503), and nothing was written.
fn fail_all(batch: Vec<Job>, why: &str) {
    tracing::error!(
        jobs = batch.len(),
        error = why,
        "write batch could not start"
    );
    drop(batch);
}

fn commit_batch(conn: &mut DbConn, batch: Vec<Job>, begin: &str) {
    if let Err(e) = conn.batch_execute(begin) {
        fail_all(batch, &e.to_string());
        return;
    }
    let mut deliveries = Vec::with_capacity(batch.len());
    let mut pending = Pending::default();
    // Set when a savepoint statement fails: the transaction's state is then unknown (a
    // failed job's writes might not be undone), so the whole batch is rolled back.
    let mut broken: Option<String> = None;
    let mut jobs = batch.into_iter();
    for job in jobs.by_ref() {
        if let Err(e) = conn.batch_execute("SAVEPOINT job") {
            broken = Some(format!("SAVEPOINT failed: {e}"));
            drop(job);
            break;
        }
        let mark = pending.mark();
        let outcome = {
            let mut tx = WriteTx {
                conn,
                pending: &mut pending,
            };
            catch_unwind(AssertUnwindSafe(|| job(&mut tx)))
        };
        let (closing, deliver) = match outcome {
            Ok((true, deliver)) => ("RELEASE job", Some(deliver)),
            Ok((false, deliver)) => {
                pending.truncate(mark);
                ("ROLLBACK TO job; RELEASE job", Some(deliver))
            }
            Err(_) => {
                // A panicking job is undone; its caller sees the writer's answer channel
                // closed (503). The others go on.
                tracing::error!("a write job panicked; it was rolled back");
                pending.truncate(mark);
                ("ROLLBACK TO job; RELEASE job", None)
            }
        };
        deliveries.extend(deliver);
        if let Err(e) = conn.batch_execute(closing) {
            broken = Some(format!("{closing} failed: {e}"));
            break;
        }
    }
    // Jobs after a broken savepoint never ran: dropping them answers their callers 503.
    drop(jobs);
    let commit = match broken {
        Some(e) => Err(e),
        None => pending
            .commit(conn)
            .map_err(|(step, e)| format!("{step}: {e:?}")),
    };
    let commit = commit.map_err(|e| {
        tracing::error!(error = %e, jobs = deliveries.len(), "write batch failed; rolled back");
        let _ = conn.batch_execute("ROLLBACK");
        e
    });
    for deliver in deliveries {
        deliver(commit.clone().map_err(StoreError::Unavailable));
    }
}
