//! A lane of two threads of its own for reads that build a large answer in memory before
//! paging it (the alerts: thousands of candidates built, sorted and paged per request).
//!
//! On the shared blocking pool such a request runs on whichever of dozens of threads is
//! free, and glibc's allocator keeps the megabytes it freed in that thread's arena: after
//! the alerts workload on PostgreSQL the server's resident memory had grown by about
//! 50 MiB, past the 100 MiB it is held to (docs/BENCHMARKS.md). Two threads touch at most
//! two arenas. Two also bounds how many such requests compute at once on this node.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, OnceLock, mpsc};

use crate::plumbing::error::ApiError;

/// Threads of the lane.
const THREADS: usize = 2;

type Job = Box<dyn FnOnce() + Send>;

/// The lane; its threads start with its first job and stop when it is dropped.
#[derive(Default)]
pub struct Lane {
    jobs: OnceLock<mpsc::Sender<Job>>,
}

impl Lane {
    /// Runs `f` on one of the lane's threads and waits (asynchronously) for its result.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (answer, result) = futures_channel::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = answer.send(f());
        });
        self.jobs()
            .send(job)
            .map_err(|_| ApiError::internal("the heavy-read lane has stopped"))?;
        // A job that panicked dropped its answer: a 500 for its request alone.
        result
            .await
            .map_err(|_| ApiError::internal("a heavy read failed"))
    }

    fn jobs(&self) -> &mpsc::Sender<Job> {
        self.jobs.get_or_init(|| {
            let (jobs, queue) = mpsc::channel::<Job>();
            let queue = Arc::new(Mutex::new(queue));
            for n in 0..THREADS {
                let queue = queue.clone();
                let started = std::thread::Builder::new()
                    .name(format!("heavy-read-{n}"))
                    .spawn(move || {
                        loop {
                            let job = match queue.lock() {
                                Ok(q) => q.recv(),
                                Err(_) => return,
                            };
                            match job {
                                Ok(job) => {
                                    let _ = catch_unwind(AssertUnwindSafe(job));
                                }
                                Err(_) => return,
                            }
                        }
                    });
                if let Err(e) = started {
                    tracing::error!(error = %e, "cannot start a heavy-read thread");
                }
            }
            jobs
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Lane;

    #[actix_web::test]
    async fn a_panicking_job_fails_alone_and_the_lane_goes_on() {
        let lane = Lane::default();
        let names = lane
            .run(|| std::thread::current().name().map(str::to_owned))
            .await;
        assert!(
            names
                .ok()
                .flatten()
                .is_some_and(|n| n.starts_with("heavy-read-")),
            "runs on the lane's own threads"
        );
        let failed = lane.run(|| -> u32 { panic!("a broken read") }).await;
        assert!(failed.is_err());
        for n in 0..4u32 {
            assert_eq!(lane.run(move || n * 2).await.ok(), Some(n * 2));
        }
    }
}
