//! Connection workers: threads that each run a single-threaded tokio
//! runtime and serve the connections handed to them, start to end.
//!
//! On the default multi-threaded runtime every request crosses threads: the
//! worker that reads it schedules work that wakes a parked worker
//! (`futex`), the upstream connection's task may run on the other thread,
//! and answers hop back. On a 2-core machine those wake-ups were the
//! largest single kernel cost in a profile of the gateway under load. A
//! worker owns its connections' sockets (registered with its own reactor),
//! their requests and the upstream connections they open (see
//! [`HttpClient`](switchboard_core::upstream::HttpClient)'s per-thread
//! pools), so a request runs on one thread with no hand-off; the accept
//! loop gives each new connection to the worker serving the fewest.
//!
//! A worker may spin a moment before it sleeps (`server.idle_spin_us`, off
//! by default): on a virtual machine each sleep and wake-up costs tens of
//! microseconds, twice per proxied request, and an answer that arrives
//! while the worker spins is read with none.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

/// A connection's work, built on the worker that runs it (so its socket is
/// registered with that worker's reactor).
pub(crate) type Job = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// One worker: where to send it jobs, and how many it is running.
struct Worker {
    jobs: mpsc::UnboundedSender<Job>,
    running: Arc<AtomicUsize>,
}

/// Counts a connection as running on its worker until dropped (also when
/// its task panics or is aborted).
struct Running(Arc<AtomicUsize>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The connection workers of a running server. Dropping it (when the
/// server has drained, or its grace period is over) closes the connections
/// still open and ends the threads.
pub(crate) struct Workers {
    workers: Vec<Worker>,
}

impl Workers {
    /// Starts `n` (at least 1) worker threads, each spinning up to `spin`
    /// before it sleeps.
    pub(crate) fn start(n: usize, spin: Duration) -> std::io::Result<Workers> {
        let mut workers = Vec::with_capacity(n.max(1));
        for i in 0..n.max(1) {
            let mut builder = tokio::runtime::Builder::new_current_thread();
            builder.enable_all();
            if !spin.is_zero() {
                // Before the runtime sleeps in `epoll_wait`: if what it waits
                // for (an upstream's answer, a client's next request) arrives
                // within `spin`, that call returns at once, with no sleep and
                // wake-up (see `server.idle_spin_us`).
                builder.on_thread_park(move || {
                    let until = Instant::now() + spin;
                    while Instant::now() < until {
                        std::hint::spin_loop();
                    }
                });
            }
            let runtime = builder.build()?;
            let (jobs, mut rx) = mpsc::unbounded_channel::<Job>();
            let running = Arc::new(AtomicUsize::new(0));
            let count = running.clone();
            std::thread::Builder::new()
                .name(format!("switchboard-worker-{i}"))
                .spawn(move || {
                    runtime.block_on(async move {
                        let mut tasks = tokio::task::JoinSet::new();
                        loop {
                            tokio::select! {
                                job = rx.recv() => match job {
                                    Some(job) => {
                                        let running = Running(count.clone());
                                        let work = job();
                                        tasks.spawn(async move {
                                            work.await;
                                            drop(running);
                                        });
                                    }
                                    None => break,
                                },
                                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                            }
                        }
                        // The server stopped (after draining, or its grace
                        // period): close what is still open.
                        tasks.shutdown().await;
                    });
                })?;
            workers.push(Worker { jobs, running });
        }
        Ok(Workers { workers })
    }

    /// Hands `job` to the worker running the fewest connections.
    pub(crate) fn run(&self, job: Job) {
        let Some(worker) = self
            .workers
            .iter()
            .min_by_key(|w| w.running.load(Ordering::Acquire))
        else {
            return;
        };
        worker.running.fetch_add(1, Ordering::AcqRel);
        if worker.jobs.send(job).is_err() {
            worker.running.fetch_sub(1, Ordering::AcqRel);
        }
    }
}
