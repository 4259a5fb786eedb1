//! The direct client's connection pools: one per thread that sends.
//!
//! hyper's pooled client drives each connection in a task of its own,
//! spawned on the runtime of the request that opened it. With one pool for
//! the process, a request served on one thread often got a connection
//! whose task lived on another, so every exchange woke that thread and
//! back (seen in `strace` as an `eventfd` write per hop, on the connection
//! workers of `switchboard serve`). A pool per thread keeps a request and
//! its upstream connection on the thread that serves it. The cost is more
//! idle upstream connections (one set per thread), each closed after the
//! idle timeout as before. The pools go when the client does
//! ([`ThreadLocal`] owns them).

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use thread_local::ThreadLocal;

/// The hyper client every pool is built as.
pub(super) type Direct<C> = Client<C, Full<Bytes>>;

/// The pools of one [`HttpClient`](super::HttpClient).
pub(super) struct Pools<C: Send> {
    build: Box<dyn Fn() -> Direct<C> + Send + Sync>,
    clients: ThreadLocal<Direct<C>>,
}

impl<C: Clone + Send + Sync + 'static> Pools<C> {
    /// Pools of clients made by `build` (each call a new, empty pool).
    pub(super) fn new(build: impl Fn() -> Direct<C> + Send + Sync + 'static) -> Self {
        Pools {
            build: Box::new(build),
            clients: ThreadLocal::new(),
        }
    }

    /// This thread's client (its own pool), made on first use.
    pub(super) fn local(&self) -> &Direct<C> {
        self.clients.get_or(|| (self.build)())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;

    use super::*;

    #[test]
    fn one_pool_per_thread() {
        let built = Arc::new(AtomicUsize::new(0));
        let count = built.clone();
        let pools = Pools::new(move || {
            count.fetch_add(1, SeqCst);
            Client::builder(TokioExecutor::new()).build(HttpConnector::new())
        });
        let here = std::ptr::from_ref(pools.local()) as usize;
        assert_eq!(here, std::ptr::from_ref(pools.local()) as usize, "reused");
        assert_eq!(built.load(SeqCst), 1);
        let there = std::thread::scope(|s| {
            s.spawn(|| std::ptr::from_ref(pools.local()) as usize)
                .join()
                .expect("thread")
        });
        assert_ne!(here, there, "another thread, another pool");
        assert_eq!(built.load(SeqCst), 2);
        pools.local();
        assert_eq!(built.load(SeqCst), 2, "this thread's pool is kept");
    }
}
