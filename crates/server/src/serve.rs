//! Accepting connections: timeouts against slow clients, TCP_NODELAY,
//! graceful shutdown that drains in-flight requests within a deadline.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use switchboard_core::wire_time::{self, TimedIo};
use switchboard_gateway::Switchboard;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::overhead::{Arrival, OverheadTimer};
use crate::state::{AppState, SharedState};

/// A bound gateway, ready to [`run`](Server::run).
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    state: SharedState,
    shutdown_tx: watch::Sender<bool>,
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
    pub async fn bind(sb: Arc<Switchboard>, addr: SocketAddr) -> std::io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        let (shutdown_tx, _) = watch::channel(false);
        Ok(Server {
            listener,
            state: Arc::new(AppState::new(sb)),
            shutdown_tx,
        })
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
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> std::io::Result<()> {
        let Server {
            listener,
            state,
            shutdown_tx,
        } = self;
        let config = state.sb.config();
        let client_timeout = Duration::from_millis(config.server.client_timeout_ms);
        let grace = Duration::from_millis(config.server.shutdown_grace_ms);
        if config.server.admin_token.is_none() {
            tracing::warn!("management API disabled: no `server.admin_token` configured");
        }
        let app = crate::router::app(state.clone());
        let mut builder = Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            // Slow clients: headers must arrive within the client timeout.
            .header_read_timeout(client_timeout)
            .keep_alive(true);
        builder
            .http2()
            .timer(TokioTimer::new())
            .keep_alive_interval(Some(Duration::from_secs(30)));
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut stop = shutdown_tx.subscribe();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            // Out of file descriptors and the like: back off, keep serving.
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    // The socket's clock dates each HTTP/1 request from its
                    // first byte (see `Arrival`), and its overhead measure
                    // ends when the answer is written (see `OverheadTimer`).
                    let timer = Arc::new(OverheadTimer::new(state.clone()));
                    let stream = TimedIo::with_listener(stream, timer.clone());
                    let clock = stream.clock().clone();
                    let service = TowerToHyperService::new(app.clone().map_request(
                        move |mut req: hyper::Request<hyper::body::Incoming>| {
                            let read_start = clock.read_start();
                            if req.version() <= hyper::Version::HTTP_11 && read_start > 0 {
                                req.extensions_mut().insert(Arrival {
                                    at: wire_time::instant(read_start),
                                    timer: Some(timer.clone()),
                                });
                            }
                            req
                        },
                    ));
                    let conn = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .into_owned();
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                    });
                }
                () = &mut shutdown => break,
                _ = stop.changed() => break,
            }
        }
        drop(listener);
        state.ready.store(false, Ordering::Relaxed);
        tracing::info!(
            grace_ms = grace.as_millis() as u64,
            "shutting down: draining in-flight requests"
        );
        tokio::select! {
            () = graceful.shutdown() => tracing::info!("all connections drained"),
            () = tokio::time::sleep(grace) => tracing::warn!("grace period over; closing the remaining connections"),
        }
        state.sb.shutdown().await;
        Ok(())
    }
}

/// Completes on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Reloads the configuration file on every `SIGHUP` (unix only).
pub fn reload_on_sighup(sb: Arc<Switchboard>) {
    #[cfg(unix)]
    tokio::spawn(async move {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            tracing::warn!("cannot listen for SIGHUP; reload with POST /plugins/discover instead");
            return;
        };
        while hup.recv().await.is_some() {
            match sb.reload_from_file().await {
                Ok(report) => tracing::info!(?report, "SIGHUP: configuration reloaded"),
                Err(error) => {
                    tracing::warn!(%error, "SIGHUP: reload failed; keeping the running configuration")
                }
            }
        }
    });
    #[cfg(not(unix))]
    let _ = sb;
}
