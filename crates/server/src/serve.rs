//! Accepting connections: a bounded number of them, each with a deadline
//! for its first request (protocol detection and the HTTP/2 preface
//! included), an idle deadline, a write timeout against clients that stop
//! reading, TCP keepalive and TCP_NODELAY; graceful shutdown that drains
//! in-flight requests within a deadline.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use switchboard_core::wire_time::{self, TimedIo};
use switchboard_gateway::Switchboard;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

use crate::conn::{ConnShared, CountedBody, Deadline, RequestGuard, WriteTimeout};
use crate::overhead::{Arrival, OverheadTimer};
use crate::state::{AppState, SharedState};
use crate::workers::Workers;

/// The longest `server.idle_spin_us` honoured (1 ms).
const MAX_SPIN_US: u64 = 1000;

/// How long an accepted socket may be silent before the kernel probes it.
const TCP_KEEPALIVE: Duration = Duration::from_secs(60);

/// A bound gateway, ready to [`run`](Server::run).
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    state: SharedState,
    shutdown_tx: watch::Sender<bool>,
    /// Connection worker threads; 0: connections run on the caller's runtime.
    workers: usize,
}

/// Triggers a graceful shutdown of a running [`Server`].
#[derive(Debug, Clone)]
pub struct ShutdownHandle(watch::Sender<bool>);

impl ShutdownHandle {
    /// Stops accepting connections and drains in-flight requests.
    pub fn shutdown(&self) {
        let _ = self.0.send(true);
    }
}

impl Server {
    /// Binds `addr` (port 0 picks a free port).
    ///
    /// Refuses (`InvalidInput`) a non-loopback address when no client keys
    /// are configured (`server.api_keys`) unless
    /// `server.allow_unauthenticated = true`: anyone who can reach such a
    /// listener could spend the provider keys.
    pub async fn bind(sb: Arc<Switchboard>, addr: SocketAddr) -> std::io::Result<Server> {
        {
            let config = sb.config();
            let server = &config.server;
            if !addr.ip().is_loopback()
                && server.api_keys.is_empty()
                && !server.allow_unauthenticated
            {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "refusing to listen on {addr} without client keys: anyone who can reach \
                         it could spend your provider keys. Configure `server.api_keys`, listen \
                         on a loopback address (127.0.0.1), or set \
                         `server.allow_unauthenticated = true` if something in front of the \
                         gateway authenticates its clients"
                    ),
                ));
            }
        }
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let (shutdown_tx, _) = watch::channel(false);
        Ok(Server {
            listener,
            state: Arc::new(AppState::for_server(sb, local)),
            shutdown_tx,
            workers: 0,
        })
    }

    /// Serves connections on `n` worker threads, each with a runtime of its
    /// own (see `workers.rs`), instead of on the runtime that calls
    /// [`run`](Self::run); `0` keeps them there (the default: a library
    /// user's runtime, a test's paused clock). `switchboard serve` uses
    /// `server.worker_threads`, one per core by default.
    #[must_use]
    pub fn with_workers(mut self, n: usize) -> Self {
        self.workers = n;
        self
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// A handle that shuts the server down gracefully.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.shutdown_tx.clone())
    }

    /// Serves until `shutdown` completes (or a [`ShutdownHandle`] fires),
    /// then stops accepting, marks itself not ready, and waits for in-flight
    /// requests up to `server.shutdown_grace_ms`.
    ///
    /// At most `server.max_connections` connections are open at once; past
    /// it the server stops accepting, so new connections wait in the
    /// kernel's listen backlog (bounded; beyond it the kernel refuses them)
    /// until one closes. A silent connection holds its slot at most
    /// `server.client_timeout_ms`.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> std::io::Result<()> {
        let Server {
            listener,
            state,
            shutdown_tx,
            workers,
        } = self;
        let config = state.sb.config();
        let spin = Duration::from_micros(config.server.idle_spin_us.min(MAX_SPIN_US));
        let workers = match workers {
            0 => None,
            n => Some(Workers::start(n, spin)?),
        };
        let client_timeout = Duration::from_millis(config.server.client_timeout_ms.max(1));
        let write_timeout = Duration::from_millis(config.server.write_timeout_ms.max(1));
        let grace = Duration::from_millis(config.server.shutdown_grace_ms);
        let max_connections = config
            .server
            .max_connections
            .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
        if config.server.admin_token.is_none() {
            tracing::warn!("management API disabled: no `server.admin_token` configured");
        }
        drop(config);
        let app = crate::router::app(state.clone());
        let mut builder = Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            // Slow clients: headers must arrive within the client timeout;
            // an idle keep-alive connection waits for its next request's
            // headers, so this also closes it after the client timeout.
            .header_read_timeout(client_timeout)
            .keep_alive(true);
        builder
            .http2()
            .timer(TokioTimer::new())
            // A peer that stops answering pings is gone.
            .keep_alive_interval(Some(Duration::from_secs(30)))
            .keep_alive_timeout(client_timeout.min(Duration::from_secs(20)))
            .max_concurrent_streams(256);
        let slots = Arc::new(Semaphore::new(max_connections));
        let mut stop = shutdown_tx.subscribe();
        tokio::pin!(shutdown);
        let mut full = false;
        loop {
            let permit = match slots.clone().try_acquire_owned() {
                Ok(p) => {
                    full = false;
                    p
                }
                Err(_) => {
                    if !full {
                        full = true;
                        tracing::warn!(
                            max_connections,
                            "connection limit reached (server.max_connections); new \
                             connections wait until one closes"
                        );
                    }
                    tokio::select! {
                        p = slots.clone().acquire_owned() => match p {
                            Ok(p) => p,
                            Err(_) => break,
                        },
                        () = &mut shutdown => break,
                        _ = stop.changed() => break,
                    }
                }
            };
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and the like: back off, keep serving.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
                _ = stop.changed() => break,
            };
            let conn = Connection {
                state: state.clone(),
                app: app.clone(),
                builder: builder.clone(),
                client_timeout,
                write_timeout,
                stop: shutdown_tx.subscribe(),
            };
            match &workers {
                Some(workers) => {
                    // The socket moves to the worker's reactor.
                    let Ok(stream) = stream.into_std() else {
                        continue;
                    };
                    workers.run(Box::new(move || {
                        Box::pin(async move {
                            if let Ok(stream) = TcpStream::from_std(stream) {
                                conn.serve(stream, peer).await;
                            }
                            drop(permit);
                        })
                    }));
                }
                None => {
                    let task = conn.serve(stream, peer);
                    tokio::spawn(async move {
                        task.await;
                        drop(permit);
                    });
                }
            }
        }
        drop(listener);
        state.ready.store(false, Ordering::Relaxed);
        // Tell every connection to finish what it has in flight and close.
        shutdown_tx.send_replace(true);
        tracing::info!(
            grace_ms = grace.as_millis() as u64,
            "shutting down: draining in-flight requests"
        );
        // Every slot back means every connection closed.
        let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
        tokio::select! {
            _ = slots.acquire_many(all) => tracing::info!("all connections drained"),
            () = tokio::time::sleep(grace) => tracing::warn!("grace period over; closing the remaining connections"),
        }
        state.sb.shutdown().await;
        Ok(())
    }
}

/// What serving one accepted connection needs.
struct Connection {
    state: SharedState,
    app: axum::Router,
    builder: Builder<TokioExecutor>,
    client_timeout: Duration,
    write_timeout: Duration,
    stop: watch::Receiver<bool>,
}

impl Connection {
    /// The connection's task: hyper serving it, under its deadlines and the
    /// shutdown signal.
    fn serve(self, stream: TcpStream, peer: SocketAddr) -> impl Future<Output = ()> + Send + use<> {
        let _ = stream.set_nodelay(true);
        let keepalive = socket2::TcpKeepalive::new().with_time(TCP_KEEPALIVE);
        let _ = socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive);
        let shared = ConnShared::new(self.state.metrics.in_flight().clone());
        // The socket's clock dates each HTTP/1 request from its first byte
        // (see `Arrival`), and its overhead measure ends when the answer is
        // written (see `OverheadTimer`).
        let timer = Arc::new(OverheadTimer::new(self.state));
        let io = TimedIo::with_listener(stream, timer.clone());
        let clock = io.clock().clone();
        let io = WriteTimeout::new(io, self.write_timeout);
        let app = self.app;
        let requests = shared.clone();
        let service =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                let read_start = clock.read_start();
                if req.version() <= hyper::Version::HTTP_11 && read_start > 0 {
                    req.extensions_mut().insert(Arrival {
                        at: wire_time::instant(read_start),
                        timer: Some(timer.clone()),
                        h2: false,
                    });
                }
                // Held by this future, then by the answer's body: dropped when
                // the answer is written or the client goes away.
                let guard = RequestGuard::enter(&requests);
                let answer = app.clone().oneshot(req);
                async move {
                    let response = answer.await?;
                    Ok::<_, std::convert::Infallible>(
                        response.map(|body| CountedBody::new(body, guard)),
                    )
                }
            });
        let conn = self
            .builder
            .serve_connection(TokioIo::new(io), service)
            .into_owned();
        let timeout = self.client_timeout;
        let mut stop = self.stop;
        async move {
            tokio::pin!(conn);
            let deadline = tokio::time::sleep(timeout);
            tokio::pin!(deadline);
            let mut closing = false;
            loop {
                tokio::select! {
                    ended = conn.as_mut() => {
                        if let Err(e) = ended {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                        return;
                    }
                    _ = stop.wait_for(|stop| *stop), if !closing => {
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                    }
                    () = &mut deadline => match shared.check(timeout, std::time::Instant::now()) {
                        Deadline::Later(at) => deadline.as_mut().reset(at.into()),
                        Deadline::NoRequest => {
                            tracing::debug!(%peer, "no request within the client timeout; closing");
                            return;
                        }
                        // Said goodbye a timeout ago and still open: drop it.
                        Deadline::Idle if closing => return,
                        Deadline::Idle => {
                            conn.as_mut().graceful_shutdown();
                            closing = true;
                            deadline.as_mut().reset((std::time::Instant::now() + timeout).into());
                        }
                    },
                }
            }
        }
    }
}

/// Completes on ctrl-c or SIGTERM. The handlers are installed when this is
/// called, not when the future is first polled: a signal that arrives in
/// between (say, right after the "ready" line a supervisor waits for) is
/// caught, not the default action that ends the process at once. Call it
/// from within a Tokio runtime.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            let wait = |s: std::io::Result<tokio::signal::unix::Signal>| async move {
                match s {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(_) => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(interrupt) => {},
                () = wait(terminate) => {},
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Reloads the configuration file on every `SIGHUP` (unix only).
///
/// The handler is installed before this returns, so a `SIGHUP` sent as soon
/// as the gateway says it is ready reloads it rather than ending it.
pub fn reload_on_sighup(sb: Arc<Switchboard>) {
    #[cfg(unix)]
    {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            tracing::warn!("cannot listen for SIGHUP; reload with POST /plugins/discover instead");
            return;
        };
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                match sb.reload_from_file().await {
                    Ok(report) => tracing::info!(?report, "SIGHUP: configuration reloaded"),
                    Err(error) => {
                        tracing::warn!(%error, "SIGHUP: reload failed; keeping the running configuration")
                    }
                }
            }
        });
    }
    #[cfg(not(unix))]
    let _ = sb;
}
