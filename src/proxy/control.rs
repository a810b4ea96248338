//! The control API, on the proxy's second address (the toxiproxy habit):
//!
//! ```text
//! GET    /faults        the faults in effect, with what each has done
//! POST   /faults        add one: the JSON of a fault (`kind`, ..., `for`)
//! DELETE /faults/ID     remove one
//! DELETE /faults        remove all
//! GET    /metrics       the proxy's metrics (OpenMetrics if asked for)
//! GET    /health        ok
//! ```

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use super::Shared;
use super::fault::{DEFAULT_BOUND, Fault, FaultSpec};

/// Largest body `POST /faults` reads.
const MAX_BODY: usize = 64 * 1024;

pub(crate) async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |request| handle(shared.clone(), request));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    response
}

fn json(status: StatusCode, value: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    respond(status, "application/json", text)
}

fn problem(status: StatusCode, message: impl Into<String>) -> Response<Full<Bytes>> {
    json(status, &serde_json::json!({"error": message.into()}))
}

async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().trim_end_matches('/').to_string();
    let response = match (request.method().clone(), path.as_str()) {
        (Method::GET, "/health") => respond(StatusCode::OK, "text/plain", "ok\n"),
        (Method::GET, "/metrics") => {
            let openmetrics = request
                .headers()
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|accept| accept.contains("application/openmetrics-text"));
            let text = shared.metrics.encode_openmetrics();
            let (body, content_type) = crate::demo::exposition(text, openmetrics);
            respond(StatusCode::OK, content_type, body)
        }
        (Method::GET, "/faults") => json(StatusCode::OK, &listing(&shared)),
        (Method::POST, "/faults") => add(&shared, request).await,
        (Method::DELETE, "/faults") => {
            let removed =
                shared
                    .table
                    .replace(Vec::new(), Duration::ZERO, tokio::time::Instant::now());
            json(
                StatusCode::OK,
                &serde_json::json!({"removed": removed.len()}),
            )
        }
        (Method::DELETE, path) if path.starts_with("/faults/") => {
            match path["/faults/".len()..].parse::<u64>() {
                Ok(id) => match shared.table.remove(id) {
                    Some(active) => {
                        json(StatusCode::OK, &active.listing(tokio::time::Instant::now()))
                    }
                    None => problem(StatusCode::NOT_FOUND, format!("no fault with id {id}")),
                },
                Err(_) => problem(
                    StatusCode::NOT_FOUND,
                    "fault ids are numbers: DELETE /faults/ID",
                ),
            }
        }
        (_, "/faults" | "/metrics" | "/health") => problem(
            StatusCode::METHOD_NOT_ALLOWED,
            "see GET /faults, POST /faults, DELETE /faults[/ID]",
        ),
        _ => problem(
            StatusCode::NOT_FOUND,
            "the control API has /faults, /metrics and /health",
        ),
    };
    Ok(response)
}

fn listing(shared: &Shared) -> serde_json::Value {
    let now = tokio::time::Instant::now();
    let faults: Vec<serde_json::Value> = shared
        .table
        .snapshot()
        .iter()
        .filter(|f| f.live(now))
        .map(|f| f.listing(now))
        .collect();
    serde_json::json!({"proxy": shared.name, "mode": shared.mode, "faults": faults})
}

async fn add(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return problem(StatusCode::PAYLOAD_TOO_LARGE, "body too large"),
    };
    let spec: FaultSpec = match serde_json::from_slice(&body) {
        Ok(spec) => spec,
        Err(e) => {
            return problem(
                StatusCode::BAD_REQUEST,
                format!(
                    "{}; e.g. {{\"kind\": \"abort\", \"status\": 503, \"probability\": \"20%\", \"for\": \"5m\"}}",
                    crate::diag::plain(&e.to_string())
                ),
            );
        }
    };
    match Fault::new(&spec, shared.mode) {
        Ok(fault) => {
            let bound = fault.bound.unwrap_or(DEFAULT_BOUND);
            let active = shared.table.add(spec, fault, bound);
            json(
                StatusCode::CREATED,
                &active.listing(tokio::time::Instant::now()),
            )
        }
        Err(e) => problem(StatusCode::BAD_REQUEST, format!("`{}`: {e}", e.key)),
    }
}
