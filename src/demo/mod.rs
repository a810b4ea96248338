//! The embedded demo service: an instrumented HTTP service to drill against
//! with nothing else installed. `GET /data/process?records=N` (work and
//! latency grow with N), `GET /data/error` (500), `GET /health`,
//! `GET /metrics`, fault knobs at `POST /admin/faults`, and a login with
//! an item resource for user journeys (`POST /login`, `GET /me`,
//! `POST /items`, `GET /items`, `GET /items/N`).
//!
//! It runs standalone (`slogate demo --listen ADDR`) or in process for a
//! scenario whose target says `demo: true`.

mod accounts;
mod faults;
mod metrics;
mod native;
mod process;
mod protobuf;
mod store;
mod upstream;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

pub use faults::{Faults, KnobError, SetFaultsError, set_remote as set_faults_remote};
pub(crate) use metrics::exposition;
use metrics::{Metrics, RequestLabels, RouteLabels};

/// Records processed when `records` is not given.
const DEFAULT_RECORDS: u64 = 10;
/// The most records one request may ask for.
const MAX_RECORDS: u64 = 100_000;
/// Largest body `POST /admin/faults`, `POST /login` and `POST /items` read.
const MAX_BODY: usize = 64 * 1024;

struct State {
    metrics: Metrics,
    faults: faults::Knobs,
    store: store::Store,
    upstream: Option<upstream::Upstream>,
}

/// A running demo service; stops when dropped.
pub struct Demo {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Demo {
    /// Starts the service on `listen` (port 0 picks a free port) on its own
    /// thread and event loop.
    pub fn start(listen: SocketAddr) -> anyhow::Result<Demo> {
        Demo::start_with(listen, None)
    }

    /// Starts the service with a dependency: every `/data/process` first
    /// asks `upstream`'s `/data/process` (a second demo, or a proxy in
    /// front of one).
    pub fn start_with(listen: SocketAddr, upstream: Option<&str>) -> anyhow::Result<Demo> {
        let upstream = upstream.map(upstream::Upstream::new).transpose()?;
        let listener = std::net::TcpListener::bind(listen)
            .with_context(|| format!("cannot listen on {listen}"))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (stop_tx, stop_rx) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("slogate-demo".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => serve(listener, upstream, stop_rx).await,
                        Err(e) => eprintln!("demo service: {e}"),
                    }
                });
            })?;
        Ok(Demo {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    listener: tokio::net::TcpListener,
    upstream: Option<upstream::Upstream>,
    mut stop: oneshot::Receiver<()>,
) {
    let state = Arc::new(State {
        metrics: Metrics::new(),
        faults: faults::Knobs::default(),
        store: store::Store::default(),
        upstream,
    });
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: try again shortly.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = &mut stop => return,
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| handle(state.clone(), request));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    state: Arc<State>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let started = Instant::now();
    state.metrics.in_progress.inc();
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    let (endpoint, response) = match (method.as_str(), path.as_str()) {
        ("GET", "/health") => ("/health", text(StatusCode::OK, "ok\n")),
        ("GET", "/metrics") => {
            let accept = request
                .headers()
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let response = if protobuf::wants_protobuf(accept) {
                metrics_protobuf(&state)
            } else {
                metrics(&state, accept.contains("application/openmetrics-text"))
            };
            ("/metrics", response)
        }
        ("GET", "/data/process") => ("/data/process", data_process(&state, &query).await),
        ("GET", "/data/error") => ("/data/error", data_error(&state).await),
        ("GET", "/admin/faults") => ("/admin/faults", json(StatusCode::OK, &state.faults.get())),
        ("POST", "/admin/faults") => ("/admin/faults", set_faults(&state, request).await),
        (method, path) => match accounts::Call::route(method, path) {
            Some((endpoint, call)) => (endpoint, account(&state, call, request).await),
            None => ("other", text(StatusCode::NOT_FOUND, "not found\n")),
        },
    };
    let labels = RequestLabels {
        method: method.clone(),
        endpoint: endpoint.to_string(),
        status: response.status().as_u16().to_string(),
    };
    state.metrics.requests.get_or_create(&labels).inc();
    let route = RouteLabels {
        method,
        endpoint: endpoint.to_string(),
    };
    let elapsed = started.elapsed().as_secs_f64();
    state
        .metrics
        .duration
        .get_or_create(&route)
        .observe(elapsed);
    state.metrics.native_duration.observe(&route, elapsed);
    state.metrics.in_progress.dec();
    Ok(response)
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response
}

fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Response<Full<Bytes>> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// The protobuf exposition, for scrapers that prefer it.
fn metrics_protobuf(state: &State) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(state.metrics.encode_protobuf())));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(crate::metrics::protobuf::MEDIA_TYPE),
    );
    response
}

/// OpenMetrics when the scraper asks for it (Prometheus does), else the
/// classic text format.
fn metrics(state: &State, openmetrics: bool) -> Response<Full<Bytes>> {
    let (body, content_type) = metrics::exposition(state.metrics.encode_openmetrics(), openmetrics);
    let mut response = Response::new(Full::new(Bytes::from(body)));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    response
}

/// Processes N records: CPU work and a wait that grow with N (1 ms + 50 µs
/// per record), after the injected faults and, with a dependency, after
/// the dependency has processed them too.
async fn data_process(state: &State, query: &str) -> Response<Full<Bytes>> {
    let records = match query
        .split('&')
        .find_map(|pair| pair.strip_prefix("records="))
    {
        None => DEFAULT_RECORDS,
        Some(value) => match value.parse::<u64>() {
            Ok(n) if n <= MAX_RECORDS => n,
            _ => {
                return text(
                    StatusCode::BAD_REQUEST,
                    "records must be a whole number from 0 to 100000\n",
                );
            }
        },
    };
    if let Some(failure) = state.faults.apply().await {
        return failure;
    }
    if let Some(upstream) = &state.upstream
        && let Err(failure) = upstream.process(records, &state.metrics).await
    {
        return failure;
    }
    let mut checksum: u64 = 0xcbf2_9ce4_8422_2325;
    for record in 0..records {
        // FNV-1a over the record numbers: real work the optimizer cannot drop.
        for byte in record.to_le_bytes() {
            checksum = (checksum ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    tokio::time::sleep(Duration::from_micros(1000 + 50 * records)).await;
    state.metrics.records.inc_by(records);
    json(
        StatusCode::OK,
        &serde_json::json!({"records": records, "checksum": format!("{checksum:016x}")}),
    )
}

async fn data_error(state: &State) -> Response<Full<Bytes>> {
    if let Some(failure) = state.faults.apply().await {
        return failure;
    }
    text(StatusCode::INTERNAL_SERVER_ERROR, "simulated failure\n")
}

/// The body, at most `MAX_BODY` bytes; else the 413 to answer.
async fn read_body(body: Incoming) -> Result<Bytes, Response<Full<Bytes>>> {
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(body) => Ok(body.to_bytes()),
        Err(_) => Err(text(StatusCode::PAYLOAD_TOO_LARGE, "body too large\n")),
    }
}

/// The login and item endpoints: the body is read (bounded), then the
/// fault knobs apply as they do to `/data/*`, then the call is answered.
async fn account(
    state: &State,
    call: accounts::Call,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = if call.has_body() {
        match read_body(body).await {
            Ok(body) => body,
            Err(too_large) => return too_large,
        }
    } else {
        Bytes::new()
    };
    if let Some(failure) = state.faults.apply().await {
        return failure;
    }
    accounts::answer(&state.store, call, &parts.headers, &body)
}

async fn set_faults(state: &State, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let body = match read_body(request.into_body()).await {
        Ok(body) => body,
        Err(too_large) => return too_large,
    };
    match serde_json::from_slice::<Faults>(&body)
        .map_err(|e| e.to_string())
        .and_then(|f| f.validated().map_err(|e| e.to_string()))
    {
        Ok(faults) => {
            state.faults.set(faults.clone());
            json(StatusCode::OK, &faults)
        }
        Err(message) => json(
            StatusCode::BAD_REQUEST,
            &serde_json::json!({"error": message}),
        ),
    }
}

/// Runs the demo service on `listen` until Ctrl-C or SIGTERM.
pub fn run_standalone(listen: SocketAddr, upstream: Option<&str>) -> anyhow::Result<()> {
    let demo = Demo::start_with(listen, upstream)?;
    println!("demo service listening on {}", demo.url());
    if let Some(upstream) = upstream {
        println!("  depends on {}/data/process", crate::redact::url(upstream));
    }
    println!("  GET  {}/data/process?records=N", demo.url());
    println!("  GET  {}/data/error", demo.url());
    println!("  GET  {}/health", demo.url());
    println!("  GET  {}/metrics", demo.url());
    println!(
        "  POST {}/login  {{\"user\": \"alice\", \"password\": \"{}\"}}, then with its token or cookie:",
        demo.url(),
        accounts::PASSWORD
    );
    println!("  GET  {}/me", demo.url());
    println!("  POST {}/items  {{\"name\": \"pen\"}}", demo.url());
    println!("  GET  {}/items, {}/items/N", demo.url(), demo.url());
    println!(
        "  POST {}/admin/faults  {{\"error_ratio\": 0.2, \"error_status\": 503, \"latency_ms\": 100, \"jitter_ms\": 50}}",
        demo.url()
    );
    crate::net::wait_for_signal()?;
    drop(demo);
    Ok(())
}
