//! The background worker of a node: lanes (threads) that claim due jobs from the job table
//! and run them: imports, and webhook deliveries. Any number of nodes may run one over the
//! same database; a job is held by one lane at a time (`safegrade_store::jobs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use safegrade_domain::CodeList;
use safegrade_domain::jobs::{JobKind, JobState};
use safegrade_store::StoreError;
use safegrade_store::jobs::{Job, Release, is_lease_lost};

use crate::plumbing::app::AppState;
use crate::plumbing::wake::Wake;

/// Claims of one job that failed on a database error before it is given up.
const MAX_ATTEMPTS: i32 = 5;

/// How many lanes of each kind, and how often an idle lane looks for work.
#[derive(Debug, Clone, Copy)]
pub struct WorkerConfig {
    /// Lanes running imports.
    pub import_lanes: usize,
    /// Lanes delivering webhooks (one subscription at a time each).
    pub webhook_lanes: usize,
    /// The wait of an idle lane between looks (it is woken earlier by this node's requests).
    pub poll: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            import_lanes: 1,
            webhook_lanes: 2,
            poll: Duration::from_millis(500),
        }
    }
}

/// A running worker; dropping it stops its lanes (after the job each is running).
pub struct Worker {
    stop: Arc<AtomicBool>,
    wake: Arc<Wake>,
    lanes: Vec<JoinHandle<()>>,
}

impl Worker {
    /// Starts the lanes over `state`'s store; `state.worker` wakes them.
    pub fn start(state: &AppState, config: WorkerConfig) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let node = uuid::Uuid::now_v7().simple().to_string();
        let kinds = std::iter::repeat_n(JobKind::Import, config.import_lanes)
            .chain(std::iter::repeat_n(JobKind::Webhook, config.webhook_lanes));
        let lanes = kinds
            .enumerate()
            .filter_map(|(n, kind)| {
                let lane = Lane {
                    state: state.clone(),
                    kind,
                    owner: format!("{node}-{n}"),
                    stop: stop.clone(),
                    poll: config.poll,
                };
                std::thread::Builder::new()
                    .name(format!("job-{}-{n}", kind.as_str()))
                    .spawn(move || lane.run())
                    .map_err(|e| tracing::error!(error = %e, "cannot start a worker lane"))
                    .ok()
            })
            .collect();
        Self {
            stop,
            wake: state.worker.clone(),
            lanes,
        }
    }

    /// Runs every due job of `kind` in the calling thread until none is left (a node's
    /// lane does the same, one job at a time); returns how many ran. For the command line
    /// and tests.
    pub fn drain(state: &AppState, kind: JobKind) -> Result<usize, StoreError> {
        let lane = Lane {
            state: state.clone(),
            kind,
            owner: format!("drain-{}", uuid::Uuid::now_v7().simple()),
            stop: Arc::new(AtomicBool::new(false)),
            poll: Duration::ZERO,
        };
        let mut n = 0;
        while let Some(job) = lane.next()? {
            lane.work(&job);
            n += 1;
        }
        Ok(n)
    }

    /// Stops the lanes and waits for them.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake.nudge();
        for lane in self.lanes.drain(..) {
            let _ = lane.join();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.halt();
    }
}

struct Lane {
    state: AppState,
    kind: JobKind,
    owner: String,
    stop: Arc<AtomicBool>,
    poll: Duration,
}

impl Lane {
    fn run(self) {
        while !self.stop.load(Ordering::SeqCst) {
            match self.next() {
                Ok(Some(job)) => self.work(&job),
                Ok(None) => self.state.worker.wait(self.poll),
                Err(e) => {
                    tracing::warn!(error = %e, kind = self.kind.as_str(), "looking for jobs failed");
                    self.state.worker.wait(self.poll * 4);
                }
            }
        }
    }

    /// Claims a due job, if any (a read first: an idle lane writes nothing).
    fn next(&self) -> Result<Option<Job>, StoreError> {
        let store = &self.state.store;
        if !store.job_due(self.kind)? {
            return Ok(None);
        }
        store.claim_job(self.kind, &self.owner)
    }

    fn work(&self, job: &Job) {
        let store = &self.state.store;
        let result = match self.kind {
            JobKind::Import => crate::ledger::imports::run(&self.state, job, &self.owner),
            JobKind::Webhook => crate::webhooks::deliver::run(store, job, &self.owner),
        };
        let Err(e) = result else { return };
        if is_lease_lost(&e) {
            tracing::warn!(job = %job.id, "a job's lease ran out while it ran; another lane has it");
            return;
        }
        tracing::error!(job = %job.id, error = %e, attempt = job.attempts, "a job failed");
        let at = (job.id.as_str(), self.owner.as_str());
        let how = if job.attempts >= MAX_ATTEMPTS && self.kind == JobKind::Import {
            Release::Finish(
                JobState::Failed,
                serde_json::json!({"error": format!("多次执行失败：{e}")}),
            )
        } else {
            Release::Later(safegrade_store::now() + chrono::Duration::seconds(30))
        };
        if let Err(e) = store.release_job(at, how) {
            tracing::warn!(job = %job.id, error = %e, "releasing a failed job failed; its lease will run out");
        }
    }
}
