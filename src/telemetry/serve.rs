//! `--metrics-listen ADDR`: the run's metrics for a Prometheus to scrape,
//! OpenMetrics when the scrape asks for it (`Accept:
//! application/openmetrics-text`), the classic text format otherwise, as
//! the demo serves its own. On a thread of its own with a one-thread event
//! loop, so it never competes with the workers for theirs.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

/// What the endpoint serves: the metrics in the OpenMetrics text format.
pub type Source = Arc<dyn Fn() -> String + Send + Sync>;

/// A running endpoint; stops when dropped.
pub struct Server {
    addr: SocketAddr,
    scrapes: Arc<AtomicU64>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Listens on `addr` (loopback unless `allow_remote`) and serves
    /// `source` at `/metrics`.
    pub fn start(addr: SocketAddr, allow_remote: bool, source: Source) -> anyhow::Result<Server> {
        if !addr.ip().is_loopback() && !allow_remote {
            anyhow::bail!(
                "refusing to serve metrics on {addr}: not a loopback address (listen on 127.0.0.1, or allow remote addresses to mean it: `run`/`hit` --metrics-allow-remote, `proxy` --allow-remote)"
            );
        }
        let listener = std::net::TcpListener::bind(addr)
            .with_context(|| format!("cannot serve metrics on {addr}"))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let scrapes = Arc::new(AtomicU64::new(0));
        let counted = scrapes.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop_tx, stop_rx) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("slogate-metrics".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    tokio::select! {
                        () = accept(listener, source, counted) => {}
                        _ = stop_rx => {}
                    }
                });
            })?;
        Ok(Server {
            addr,
            scrapes,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The address it listens on (the port chosen when asked for 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `GET /metrics` answered so far, but slogate's own.
    pub fn scrapes(&self) -> u64 {
        self.scrapes.load(Ordering::Relaxed)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept(listener: tokio::net::TcpListener, source: Source, scrapes: Arc<AtomicU64>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let source = source.clone();
        let scrapes = scrapes.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let answer = handle(&source, &scrapes, &request);
                async move { Ok::<_, Infallible>(answer) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn handle(
    source: &Source,
    scrapes: &AtomicU64,
    request: &Request<Incoming>,
) -> Response<Full<Bytes>> {
    let path = request.uri().path();
    if request.method() != Method::GET || (path != "/metrics" && path != "/") {
        return respond(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "slogate serves the run's metrics at GET /metrics\n".into(),
        );
    }
    if path == "/" {
        return respond(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            "slogate: the run's metrics are at /metrics\n".into(),
        );
    }
    let openmetrics = request
        .headers()
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/openmetrics-text"));
    let text = source();
    // slogate's own scraper (the scenario's `metrics.scrape` saving these
    // series too) is not the Prometheus a last scrape is waited for.
    let ours = request
        .headers()
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|agent| agent.starts_with("slogate/"));
    if !ours {
        scrapes.fetch_add(1, Ordering::Relaxed);
    }
    let (body, content_type) = crate::demo::exposition(text, openmetrics);
    respond(StatusCode::OK, content_type, body)
}

fn respond(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    response
}
