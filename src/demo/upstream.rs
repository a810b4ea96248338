//! The demo service's optional dependency (`--upstream URL`): each
//! `/data/process` asks the dependency's `/data/process` for the same
//! records first, so a fault between the two (a proxy) shows in the demo's
//! own metrics: a failed dependency is a 502, a slow one a slow request.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full, Limited};
use hyper::{Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::metrics::{Metrics, UpstreamLabels};

/// How long the dependency has to answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Largest dependency answer read.
const MAX_BODY: usize = 1024 * 1024;

pub(crate) struct Upstream {
    client: Client<HttpConnector, Empty<Bytes>>,
    base: String,
}

/// Why `--upstream` cannot be the demo's dependency.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum UpstreamError {
    #[error("--upstream `{0}`: the demo's dependency is asked over http://")]
    NotHttp(String),
    #[error("--upstream `{0}` is not a URL")]
    NotAUrl(String),
}

impl Upstream {
    pub(crate) fn new(base: &str) -> Result<Upstream, UpstreamError> {
        let base = base.trim_end_matches('/');
        if !base.starts_with("http://") {
            return Err(UpstreamError::NotHttp(base.to_string()));
        }
        base.parse::<hyper::Uri>()
            .map_err(|_| UpstreamError::NotAUrl(base.to_string()))?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(2)));
        Ok(Upstream {
            client: Client::builder(TokioExecutor::new()).build(connector),
            base: base.to_string(),
        })
    }

    /// Asks the dependency to process `records`; the error is the response
    /// to give instead (502, or 504 after the timeout).
    pub(crate) async fn process(
        &self,
        records: u64,
        metrics: &Metrics,
    ) -> Result<(), Response<Full<Bytes>>> {
        let started = Instant::now();
        let uri = format!("{}/data/process?records={records}", self.base);
        let request = hyper::Request::get(uri)
            .body(Empty::new())
            .map_err(|e| failure(StatusCode::BAD_GATEWAY, &e.to_string()))?;
        let answer = tokio::time::timeout(TIMEOUT, async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status();
            // Read the whole answer: a dependency that breaks off mid-body
            // has failed too.
            Limited::new(response.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|e| format!("{status}, then {e}"))?;
            Ok::<StatusCode, String>(status)
        })
        .await;
        metrics
            .upstream_duration
            .observe(started.elapsed().as_secs_f64());
        let (label, outcome) = match answer {
            Ok(Ok(status)) if status.is_success() => (status.as_str().to_string(), Ok(())),
            Ok(Ok(status)) => (
                status.as_str().to_string(),
                Err(failure(
                    StatusCode::BAD_GATEWAY,
                    &format!("dependency answered {status}"),
                )),
            ),
            Ok(Err(e)) => (
                "error".to_string(),
                Err(failure(
                    StatusCode::BAD_GATEWAY,
                    &format!("dependency failed: {e}"),
                )),
            ),
            Err(_) => (
                "timeout".to_string(),
                Err(failure(
                    StatusCode::GATEWAY_TIMEOUT,
                    "dependency did not answer within 10s",
                )),
            ),
        };
        metrics
            .upstream_requests
            .get_or_create(&UpstreamLabels { status: label })
            .inc();
        outcome
    }
}

fn failure(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!("{message}\n"))));
    *response.status_mut() = status;
    response
}
