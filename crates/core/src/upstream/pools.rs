//! The direct client's connection pools: one per thread that sends.
//!
//! hyper's pooled client drives each connection in a task of its own,
//! spawned on the runtime of the request that opened it. With one pool for
//! the process, a request served on one thread often got a connection
//! whose task lived on another, so every exchange woke that thread and
//! back (measured: an `eventfd` write per hop in `strace`, on the
//! per-thread connection workers of `switchboard serve`). A pool per thread
//! keeps a request and its upstream connection on the thread that serves
//! it. The cost is more idle upstream connections (one set per thread),
//! each closed after the idle timeout as before.

use std::cell::RefCell;
use std::sync::{Arc, Weak};

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;

/// The hyper client every pool is built as.
pub(super) type Direct<C> = Client<C, Full<Bytes>>;

/// Builds a client with a new, empty pool.
type Build<C> = Arc<dyn Fn() -> Direct<C> + Send + Sync>;

/// The pools of one [`HttpClient`](super::HttpClient): this thread's is
/// made on first use.
pub(super) struct Pools<C> {
    build: Build<C>,
    /// Alive while the client is: threads forget pools whose client is gone.
    alive: Arc<()>,
}

/// Type-erased per-thread entries: (owner, client), for any connector.
struct Entry {
    owner: Weak<()>,
    client: Box<dyn std::any::Any>,
}

thread_local! {
    static LOCAL: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
}

impl<C: Clone + Send + Sync + 'static> Pools<C> {
    /// Pools of clients made by `build`.
    pub(super) fn new(build: impl Fn() -> Direct<C> + Send + Sync + 'static) -> Self {
        Pools {
            build: Arc::new(build),
            alive: Arc::new(()),
        }
    }

    /// Calls `f` with this thread's client (its own pool).
    pub(super) fn with<R>(&self, f: impl FnOnce(&Direct<C>) -> R) -> R {
        LOCAL.with(|local| {
            let mut local = local.borrow_mut();
            let owner = Arc::as_ptr(&self.alive);
            let found = local
                .iter()
                .position(|e| std::ptr::eq(e.owner.as_ptr(), owner));
            let index = match found {
                Some(i) => i,
                None => {
                    // A new pool here: drop those of clients that are gone.
                    local.retain(|e| e.owner.strong_count() > 0);
                    local.push(Entry {
                        owner: Arc::downgrade(&self.alive),
                        client: Box::new((self.build)()),
                    });
                    local.len() - 1
                }
            };
            match local[index].client.downcast_ref::<Direct<C>>() {
                Some(client) => f(client),
                // Unreachable: an owner's entry holds its own client type.
                None => f(&(self.build)()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;

    fn pools() -> (Pools<HttpConnector>, Arc<std::sync::atomic::AtomicUsize>) {
        let built = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = built.clone();
        let pools = Pools::new(move || {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Client::builder(TokioExecutor::new()).build(HttpConnector::new())
        });
        (pools, built)
    }

    #[test]
    fn one_pool_per_thread_and_client_and_gone_clients_are_forgotten() {
        use std::sync::atomic::Ordering::SeqCst;
        let (a, built_a) = pools();
        a.with(|_| ());
        a.with(|_| ());
        assert_eq!(built_a.load(SeqCst), 1, "reused on this thread");
        std::thread::scope(|s| {
            s.spawn(|| a.with(|_| ()));
        });
        assert_eq!(built_a.load(SeqCst), 2, "another thread, another pool");
        let (b, built_b) = pools();
        b.with(|_| ());
        assert_eq!((built_a.load(SeqCst), built_b.load(SeqCst)), (2, 1));
        drop(a);
        let (c, _) = pools();
        c.with(|_| ());
        let live = LOCAL.with(|l| l.borrow().len());
        assert_eq!(live, 2, "a's pool on this thread was dropped when c's came");
    }
}
