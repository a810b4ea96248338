//! The layer-7 proxy: each request draws every live fault that matches it
//! (path prefix, header); latency is waited first, then an abort or a hang
//! answers instead of the upstream, and a bandwidth or close fault changes
//! the upstream's response body on its way back. Requests with no fault
//! are forwarded as they came (hop-by-hop headers dropped, Host rewritten),
//! bodies streamed both ways.

use std::sync::Arc;
use std::time::Duration;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::time::Instant;

use super::Shared;
use super::body::{BoxError, ProxyBody, Throttled, Truncated, Watched, full};
use super::fault::Action;

/// Where requests go.
pub(crate) struct Upstream {
    client: Client<HttpConnector, Watched<Incoming>>,
    scheme_authority: String,
    /// A base path to prefix (`http://host/api` forwards `/x` to `/api/x`).
    base_path: String,
    host: HeaderValue,
    timeout: Duration,
}

/// Why an http-mode proxy cannot forward to an upstream URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum UpstreamError {
    #[error("upstream `{0}` is not a URL")]
    NotAUrl(String),
    #[error(
        "upstream `{0}`: an http-mode proxy forwards to http:// only; put an https service behind a tcp-mode proxy (TLS passes through)"
    )]
    Https(String),
    /// No scheme, or one other than http and https.
    #[error("upstream `{0}` needs http://")]
    NotHttp(String),
    #[error("upstream `{0}` has no host")]
    NoHost(String),
    /// A host that is not a valid `Host` header value.
    #[error("upstream `{0}`: bad host")]
    BadHost(String),
}

impl Upstream {
    /// `http://host:port[/base]`.
    pub(crate) fn new(url: &str, timeout: Duration) -> Result<Upstream, UpstreamError> {
        let uri: Uri = url
            .parse()
            .map_err(|_| UpstreamError::NotAUrl(url.to_string()))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => return Err(UpstreamError::Https(url.to_string())),
            _ => return Err(UpstreamError::NotHttp(url.to_string())),
        }
        let authority = uri
            .authority()
            .ok_or_else(|| UpstreamError::NoHost(url.to_string()))?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Ok(Upstream {
            client,
            scheme_authority: format!("http://{authority}"),
            base_path: uri.path().trim_end_matches('/').to_string(),
            host: HeaderValue::from_str(authority.as_str())
                .map_err(|_| UpstreamError::BadHost(url.to_string()))?,
            timeout,
        })
    }
}

/// Hop-by-hop headers (RFC 9110 7.6.1): they describe one connection and
/// are not forwarded.
const HOP_BY_HOP: [HeaderName; 7] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in HOP_BY_HOP.iter().chain(&named) {
        headers.remove(name);
    }
}

/// Decrements a gauge when dropped: a hanging request whose client gave up
/// is dropped by the server.
struct Held<'a>(&'a prometheus_client::metrics::gauge::Gauge);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The error that closes a hanging request's connection.
#[derive(Debug)]
struct HangEnded;

impl std::fmt::Display for HangEnded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("hang fault ended; connection closed without a response")
    }
}

impl std::error::Error for HangEnded {}

/// What the faults drawn for one request do to it.
#[derive(Default)]
struct Drawn {
    delay: Duration,
    abort: Option<(u16, String, u64)>,
    hang: Option<u64>,
    bytes_per_second: Option<u64>,
    close_after: Option<u64>,
}

fn draw(shared: &Shared, request: &Request<Incoming>) -> Drawn {
    let now = Instant::now();
    let mut drawn = Drawn::default();
    let faults = shared.table.snapshot();
    for active in faults.iter() {
        if !active.live(now)
            || !active
                .fault
                .filter
                .matches(request.uri().path(), request.headers())
            || !active.draw(&shared.table.rng, now)
        {
            continue;
        }
        shared.metrics.injected(active.fault.action.kind());
        match &active.fault.action {
            Action::Latency(delay) => drawn.delay += delay.sample(&shared.table.rng),
            Action::Abort { status, body } => {
                drawn
                    .abort
                    .get_or_insert((*status, body.clone(), active.id));
            }
            Action::Hang => {
                drawn.hang.get_or_insert(active.id);
            }
            Action::Bandwidth { bytes_per_second } => {
                drawn.bytes_per_second = Some(
                    drawn
                        .bytes_per_second
                        .map_or(*bytes_per_second, |b| b.min(*bytes_per_second)),
                );
            }
            Action::Close { after_bytes } => {
                drawn.close_after = Some(
                    drawn
                        .close_after
                        .map_or(*after_bytes, |a| a.min(*after_bytes)),
                );
            }
            Action::Reset { .. } | Action::Blackhole | Action::Refuse => {}
        }
    }
    drawn
}

/// Handles one request.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    upstream: Arc<Upstream>,
    request: Request<Incoming>,
) -> Result<Response<ProxyBody>, BoxError> {
    let drawn = draw(&shared, &request);
    if !drawn.delay.is_zero() {
        tokio::time::sleep(drawn.delay).await;
    }
    if let Some(id) = drawn.hang {
        shared.metrics.hanging.inc();
        let _held = Held(&shared.metrics.hanging);
        shared.table.until_gone(id).await;
        shared.metrics.request("closed");
        return Err(Box::new(HangEnded));
    }
    if let Some((status, body, id)) = drawn.abort {
        shared.metrics.request(&status.to_string());
        let mut response = Response::new(full(body));
        *response.status_mut() =
            StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        response.headers_mut().insert(
            HeaderName::from_static("x-slogate-fault"),
            HeaderValue::from_str(&format!("abort; id={id}"))
                .unwrap_or(HeaderValue::from_static("abort")),
        );
        return Ok(response);
    }
    let response = match forward(&upstream, request).await {
        Ok(response) => response,
        Err(error) => {
            if let Some(reason) = error.upstream_reason() {
                shared.metrics.upstream_error(reason);
            }
            let status = error.status();
            shared.metrics.request(status.as_str());
            let mut response = Response::new(full(format!("slogate proxy: {error}\n")));
            *response.status_mut() = status;
            return Ok(response);
        }
    };
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    let body: ProxyBody = match drawn.bytes_per_second {
        Some(rate) => Throttled::new(body, rate).boxed(),
        None => body.map_err(BoxError::from).boxed(),
    };
    let body = match drawn.close_after {
        Some(after) => {
            shared.metrics.request("closed");
            Truncated::new(body, after).boxed()
        }
        None => {
            shared.metrics.request(parts.status.as_str());
            body
        }
    };
    Ok(Response::from_parts(parts, body))
}

/// Why a request was not forwarded, or got no answer; the message is the
/// body the client gets.
#[derive(Debug, thiserror::Error)]
enum ForwardError {
    #[error("cannot forward to {0}")]
    Target(String),
    /// The client's own body was malformed or cut short.
    #[error("the request body could not be read (malformed chunked encoding, or cut short)")]
    ClientBody,
    #[error("cannot connect to upstream {authority}: {cause}")]
    Connect { authority: String, cause: String },
    /// Connected, but the exchange failed.
    #[error("upstream {authority} failed: {cause}")]
    Response { authority: String, cause: String },
    #[error("upstream {authority} did not answer within {}", crate::units::format_duration(*timeout))]
    Timeout {
        authority: String,
        timeout: Duration,
    },
}

impl ForwardError {
    /// The status the client is answered with.
    fn status(&self) -> StatusCode {
        match self {
            ForwardError::Target(_) | ForwardError::ClientBody => StatusCode::BAD_REQUEST,
            ForwardError::Connect { .. } | ForwardError::Response { .. } => StatusCode::BAD_GATEWAY,
            ForwardError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    /// The `reason` label of the upstream-error counter; None for the
    /// client's own malformed body, which is not an upstream error.
    fn upstream_reason(&self) -> Option<&'static str> {
        match self {
            ForwardError::Target(_) => Some("bad_request"),
            ForwardError::ClientBody => None,
            ForwardError::Connect { .. } => Some("connect"),
            ForwardError::Response { .. } => Some("response"),
            ForwardError::Timeout { .. } => Some("timeout"),
        }
    }
}

/// Sends the request upstream.
async fn forward(
    upstream: &Upstream,
    request: Request<Incoming>,
) -> Result<Response<Incoming>, ForwardError> {
    let (mut parts, body) = request.into_parts();
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let target = format!(
        "{}{}{}",
        upstream.scheme_authority, upstream.base_path, path_and_query
    );
    parts.uri = target
        .parse()
        .map_err(|_| ForwardError::Target(target.clone()))?;
    strip_hop_by_hop(&mut parts.headers);
    parts.headers.insert(header::HOST, upstream.host.clone());
    // The upstream is asked over HTTP/1.1 whatever the client spoke.
    parts.version = http::Version::HTTP_11;
    let (body, client_body_failed) = Watched::new(body);
    let request = Request::from_parts(parts, body);
    let answer = tokio::time::timeout(upstream.timeout, upstream.client.request(request)).await;
    if client_body_failed.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(ForwardError::ClientBody);
    }
    match answer {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(e)) if e.is_connect() => Err(ForwardError::Connect {
            authority: upstream.scheme_authority.clone(),
            cause: source_text(&e),
        }),
        Ok(Err(e)) => Err(ForwardError::Response {
            authority: upstream.scheme_authority.clone(),
            cause: source_text(&e),
        }),
        Err(_) => Err(ForwardError::Timeout {
            authority: upstream.scheme_authority.clone(),
            timeout: upstream.timeout,
        }),
    }
}

/// The innermost cause: "Connection refused (os error 111)" rather than
/// "client error (Connect)".
fn source_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = error;
    while let Some(next) = inner.source() {
        inner = next;
    }
    inner.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstreams_an_http_proxy_cannot_use_say_why() {
        let error = |url: &str| Upstream::new(url, Duration::from_secs(1)).err();
        assert_eq!(
            error("https://127.0.0.1:8443"),
            Some(UpstreamError::Https("https://127.0.0.1:8443".into()))
        );
        assert_eq!(
            error("ftp://127.0.0.1").map(|e| e.to_string()).as_deref(),
            Some("upstream `ftp://127.0.0.1` needs http://")
        );
        assert_eq!(
            error("http://exa mple").map(|e| e.to_string()).as_deref(),
            Some("upstream `http://exa mple` is not a URL")
        );
        assert_eq!(
            error("/just/a/path"),
            Some(UpstreamError::NotHttp("/just/a/path".into()))
        );
    }

    #[test]
    fn a_failure_is_answered_with_its_status_and_counted_by_its_reason() {
        let authority = "http://127.0.0.1:1".to_string();
        let timeout = ForwardError::Timeout {
            authority: authority.clone(),
            timeout: Duration::from_secs(5),
        };
        assert_eq!(timeout.status(), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(timeout.upstream_reason(), Some("timeout"));
        assert_eq!(
            timeout.to_string(),
            "upstream http://127.0.0.1:1 did not answer within 5.000s"
        );
        let connect = ForwardError::Connect {
            authority,
            cause: "Connection refused (os error 111)".into(),
        };
        assert_eq!(connect.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(connect.upstream_reason(), Some("connect"));
        assert_eq!(ForwardError::ClientBody.status(), StatusCode::BAD_REQUEST);
        assert_eq!(ForwardError::ClientBody.upstream_reason(), None);
        assert_eq!(
            ForwardError::Target("x".into()).upstream_reason(),
            Some("bad_request")
        );
    }
}
