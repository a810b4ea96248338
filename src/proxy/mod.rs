//! The fault proxy: listens on a local address and forwards to an
//! upstream, in http mode (per-request faults) or tcp mode (per-connection
//! faults), with faults switched by a scenario's phases, the command line
//! or the control API. Its own metrics and the control API are served on a
//! second address (`control`), so the proxied port stays transparent.
//!
//! Each proxy runs on its own thread and event loop, like the demo
//! service; dropping it stops it, closing every connection.

mod body;
mod control;
pub mod fault;
mod http;
mod metrics;
mod silent;
pub(crate) mod table;
mod tcp;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::sync::{Semaphore, oneshot};

pub use fault::{Fault, FaultSpec, Mode};
pub use metrics::Metrics;
pub use table::{FaultCount, Table};

/// How a proxy is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Names it in metrics (`proxy` label) and reports.
    pub name: String,
    pub mode: Mode,
    pub listen: SocketAddr,
    /// http mode: `http://host:port[/base]`; tcp mode: `host:port` (a URL's
    /// authority is taken).
    pub upstream: String,
    /// The control API and metrics (port 0: any free port).
    pub control: SocketAddr,
    /// Listening on a non-loopback address needs this.
    pub allow_remote: bool,
    /// Client connections open at once; more are closed at accept.
    pub max_connections: usize,
    /// http mode: how long the upstream has to answer (504 after).
    pub upstream_timeout: Duration,
    /// How long a client connection may stay silent. http mode: a client
    /// has this long to start a request and this long again for its
    /// headers (silent and slowloris clients, and keep-alive connections
    /// idle this long, are closed). tcp mode: a connection on which neither
    /// side sent a byte this long after accept is closed.
    pub header_timeout: Duration,
}

impl Config {
    pub fn new(name: &str, mode: Mode, listen: SocketAddr, upstream: &str) -> Config {
        Config {
            name: name.to_string(),
            mode,
            listen,
            upstream: upstream.to_string(),
            control: SocketAddr::from(([127, 0, 0, 1], 0)),
            allow_remote: false,
            max_connections: default_max_connections(),
            upstream_timeout: Duration::from_secs(60),
            header_timeout: Duration::from_secs(10),
        }
    }
}

/// The most client connections a proxy holds by default.
pub const MAX_CONNECTIONS: usize = 10_000;

/// [`MAX_CONNECTIONS`], or fewer when the process may not open enough files:
/// a proxied connection takes two descriptors (client and upstream), and a
/// flood that exhausts them would stop the proxy accepting anyone. Keeps 64
/// for listeners, the control API and the run around it.
pub fn default_max_connections() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct it is given.
    let known = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    if !known || limit.rlim_cur == libc::RLIM_INFINITY {
        return MAX_CONNECTIONS;
    }
    let files = usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX);
    (files.saturating_sub(64) / 2).clamp(1, MAX_CONNECTIONS)
}

/// What connections and requests share.
pub struct Shared {
    pub name: String,
    pub mode: Mode,
    pub table: Table,
    pub metrics: Metrics,
}

/// A running proxy; stops when dropped.
pub struct Proxy {
    config: Config,
    addr: SocketAddr,
    control_addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Refuses a non-loopback address unless allowed.
fn check_local(what: &str, addr: SocketAddr, allow_remote: bool) -> anyhow::Result<()> {
    if addr.ip().is_loopback() || allow_remote {
        return Ok(());
    }
    anyhow::bail!(
        "refusing to {what} on {addr}: not a loopback address, and a fault proxy reachable from other machines can disrupt them (listen on 127.0.0.1, or pass --allow-remote / `allow_remote: true` to mean it)"
    )
}

/// The `host:port` a tcp-mode proxy connects to.
fn tcp_upstream(upstream: &str) -> anyhow::Result<String> {
    let rest = upstream
        .split_once("://")
        .map_or(upstream, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    if authority
        .rsplit_once(':')
        .is_none_or(|(_, port)| port.parse::<u16>().is_err())
    {
        anyhow::bail!("upstream `{upstream}`: a tcp-mode proxy needs host:port");
    }
    Ok(authority.to_string())
}

impl Proxy {
    /// Binds both addresses, then serves on a thread of its own.
    pub fn start(config: Config) -> anyhow::Result<Proxy> {
        check_local("listen", config.listen, config.allow_remote)?;
        check_local("serve the control API", config.control, config.allow_remote)?;
        let upstream = match config.mode {
            Mode::Http => Upstream::Http(Arc::new(http::Upstream::new(
                &config.upstream,
                config.upstream_timeout,
            )?)),
            Mode::Tcp => Upstream::Tcp(tcp_upstream(&config.upstream)?),
        };
        let listener = std::net::TcpListener::bind(config.listen).with_context(|| {
            format!(
                "proxy `{}`: cannot listen on {}",
                config.name, config.listen
            )
        })?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let control = std::net::TcpListener::bind(config.control).with_context(|| {
            format!(
                "proxy `{}`: cannot serve the control API on {}",
                config.name, config.control
            )
        })?;
        control.set_nonblocking(true)?;
        let control_addr = control.local_addr()?;
        let shared = Arc::new(Shared {
            name: config.name.clone(),
            mode: config.mode,
            table: Table::default(),
            metrics: Metrics::new(&config.name),
        });
        let (stop_tx, stop_rx) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let serving = shared.clone();
        let max_connections = config.max_connections;
        let header_timeout = config.header_timeout;
        let thread = std::thread::Builder::new()
            .name(format!("slogate-proxy-{}", config.name))
            .spawn(move || {
                runtime.block_on(async move {
                    let (listener, control) = match (
                        tokio::net::TcpListener::from_std(listener),
                        tokio::net::TcpListener::from_std(control),
                    ) {
                        (Ok(l), Ok(c)) => (l, c),
                        (Err(e), _) | (_, Err(e)) => {
                            eprintln!("proxy: {e}");
                            return;
                        }
                    };
                    tokio::spawn(control::serve(control, serving.clone()));
                    tokio::spawn(prune(serving.clone()));
                    let limit = Arc::new(Semaphore::new(max_connections));
                    tokio::select! {
                        _ = accept(listener, addr, serving, upstream, limit, header_timeout) => {}
                        _ = stop_rx => {}
                    }
                });
            })?;
        Ok(Proxy {
            config,
            addr,
            control_addr,
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    pub fn mode(&self) -> Mode {
        self.config.mode
    }

    pub fn upstream(&self) -> &str {
        &self.config.upstream
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` (in tcp mode too: what a client of an HTTP service
    /// behind it would use).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://CONTROL`: `/faults`, `/metrics`, `/health`.
    pub fn control_url(&self) -> String {
        format!("http://{}", self.control_addr)
    }

    /// The proxy's metrics in the OpenMetrics text format.
    pub fn encode_openmetrics(&self) -> String {
        self.shared.metrics.encode_openmetrics()
    }

    pub fn table(&self) -> &Table {
        &self.shared.table
    }

    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // Faults off first, so nothing hangs on them while closing.
        self.shared
            .table
            .replace(Vec::new(), Duration::ZERO, tokio::time::Instant::now());
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

enum Upstream {
    Http(Arc<http::Upstream>),
    Tcp(String),
}

/// Drops faults past their end every 100 ms, keeping the gauge current.
async fn prune(shared: Arc<Shared>) {
    loop {
        let now = tokio::time::Instant::now();
        shared.table.prune(now);
        shared
            .metrics
            .faults_active
            .set(shared.table.snapshot().len() as i64);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn accept(
    mut listener: tokio::net::TcpListener,
    addr: SocketAddr,
    shared: Arc<Shared>,
    upstream: Upstream,
    limit: Arc<Semaphore>,
    header_timeout: Duration,
) {
    let mut changes = shared.table.subscribe();
    loop {
        if shared.mode == Mode::Tcp
            && let Some(id) = tcp::refusing_all(&shared)
        {
            // Refused for real: nothing listens until the fault ends.
            drop(listener);
            shared.metrics.injected("refuse");
            shared.table.until_gone(id).await;
            listener = loop {
                match tokio::net::TcpListener::bind(addr).await {
                    Ok(listener) => break listener,
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            };
            continue;
        }
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: try again shortly.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = changes.changed() => continue,
        };
        shared.metrics.connections.inc();
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            shared.metrics.connections_rejected.inc();
            tcp::reset(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        shared.metrics.connections_open.inc();
        match &upstream {
            Upstream::Http(upstream) => {
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    if !silent::spoke_in_time(&stream, header_timeout).await {
                        shared.metrics.connections_open.dec();
                        drop(permit);
                        return;
                    }
                    let service = hyper::service::service_fn({
                        let shared = shared.clone();
                        move |request| http::handle(shared.clone(), upstream.clone(), request)
                    });
                    let mut builder =
                        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    builder
                        .http1()
                        .timer(TokioTimer::new())
                        // Slowloris: a client gets this long for its headers.
                        .header_read_timeout(header_timeout);
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                    shared.metrics.connections_open.dec();
                    drop(permit);
                });
            }
            Upstream::Tcp(upstream) => {
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    tcp::connection(shared.clone(), upstream, stream, header_timeout).await;
                    shared.metrics.connections_open.dec();
                    drop(permit);
                });
            }
        }
    }
}
