//! The demo service's fault knobs: a share of requests answered with an
//! error status, and added latency with jitter. Set at runtime with
//! `POST /admin/faults`, read with `GET /admin/faults`. They apply to the
//! service's own endpoints (`/data/*`, `/login`, `/me`, `/items*`), not to
//! `/health`, `/metrics` or `/admin/*`.

use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use serde::{Deserialize, Serialize};

/// The knobs, as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    /// Share of requests answered with `error_status`, 0..=1.
    pub error_ratio: f64,
    pub error_status: u16,
    /// Added to every request.
    pub latency_ms: f64,
    /// Plus a uniform random 0..jitter_ms.
    pub jitter_ms: f64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            error_ratio: 0.0,
            error_status: 500,
            latency_ms: 0.0,
            jitter_ms: 0.0,
        }
    }
}

/// A knob out of its range; the message names the knob.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KnobError {
    #[error("error_ratio must be within 0..1, not {0}")]
    ErrorRatio(f64),
    #[error("error_status must be an HTTP status (100..599), not {0}")]
    ErrorStatus(u16),
    /// `latency_ms` or `jitter_ms` outside 0..600000.
    #[error("{name} must be within 0..{MAX_DELAY_MS}, not {value}")]
    Delay { name: &'static str, value: f64 },
}

/// The longest latency or jitter a knob adds, in ms (10 minutes).
const MAX_DELAY_MS: f64 = 600_000.0;

impl Faults {
    /// Checks the ranges; the error says which knob is out of range.
    pub fn validated(self) -> Result<Faults, KnobError> {
        if !(0.0..=1.0).contains(&self.error_ratio) {
            return Err(KnobError::ErrorRatio(self.error_ratio));
        }
        if !(100..=599).contains(&self.error_status) {
            return Err(KnobError::ErrorStatus(self.error_status));
        }
        for (name, value) in [
            ("latency_ms", self.latency_ms),
            ("jitter_ms", self.jitter_ms),
        ] {
            if !(0.0..=MAX_DELAY_MS).contains(&value) {
                return Err(KnobError::Delay { name, value });
            }
        }
        Ok(self)
    }
}

/// The current knobs and a random sequence for applying them.
#[derive(Default)]
pub(crate) struct Knobs {
    current: Mutex<Faults>,
    rng: crate::rng::SharedRng,
}

impl Knobs {
    pub(crate) fn get(&self) -> Faults {
        self.current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn set(&self, faults: Faults) {
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = faults;
    }

    /// Waits the injected latency; returns the injected error, if this
    /// request draws one.
    pub(crate) async fn apply(&self) -> Option<Response<Full<Bytes>>> {
        let faults = self.get();
        let delay = faults.latency_ms + faults.jitter_ms * self.rng.uniform();
        if delay > 0.0 {
            tokio::time::sleep(Duration::from_secs_f64(delay / 1000.0)).await;
        }
        if faults.error_ratio > 0.0 && self.rng.uniform() < faults.error_ratio {
            let mut response = Response::new(Full::new(Bytes::from_static(b"injected failure\n")));
            *response.status_mut() = StatusCode::from_u16(faults.error_status)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return Some(response);
        }
        None
    }
}

/// Why the demo's knobs could not be set over HTTP.
#[derive(Debug, thiserror::Error)]
pub enum SetFaultsError {
    #[error("{0}: the demo's fault knobs are set over plain http://")]
    NotHttp(String),
    #[error("{authority}: {source}")]
    Resolve {
        authority: String,
        source: std::io::Error,
    },
    #[error("{0}: no address")]
    NoAddress(String),
    #[error("cannot reach {base}: {source}")]
    Connect {
        base: String,
        source: std::io::Error,
    },
    #[error("{base}: {source}")]
    Send {
        base: String,
        source: std::io::Error,
    },
    /// Any answer but 200; the status line, or `no answer`.
    #[error("POST {base}/admin/faults: {answer}")]
    Refused { base: String, answer: String },
}

/// Sets the knobs of the demo service at `base` (`http://host:port`) with
/// `POST /admin/faults`, as a scenario's phase does when it starts. Plain
/// HTTP/1.1 over a std socket: it is called from the engine's control
/// loop between phases, and must not need an event loop of its own.
pub fn set_remote(base: &str, faults: &Faults) -> Result<(), SetFaultsError> {
    use std::io::{Read, Write};
    let authority = base
        .strip_prefix("http://")
        .ok_or_else(|| SetFaultsError::NotHttp(base.to_string()))?
        .trim_end_matches('/');
    let addr = std::net::ToSocketAddrs::to_socket_addrs(authority)
        .map_err(|source| SetFaultsError::Resolve {
            authority: authority.to_string(),
            source,
        })?
        .next()
        .ok_or_else(|| SetFaultsError::NoAddress(authority.to_string()))?;
    let timeout = Duration::from_secs(2);
    let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout).map_err(|source| {
        SetFaultsError::Connect {
            base: base.to_string(),
            source,
        }
    })?;
    stream.set_read_timeout(Some(timeout)).ok();
    stream.set_write_timeout(Some(timeout)).ok();
    // Four numbers: serializing them cannot fail.
    let body = serde_json::to_string(faults).expect("the knobs serialize");
    let request = format!(
        "POST /admin/faults HTTP/1.1\r\nHost: {authority}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|source| SetFaultsError::Send {
            base: base.to_string(),
            source,
        })?;
    let mut response = Vec::new();
    let _ = stream.take(64 * 1024).read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response);
    let status = text.split_whitespace().nth(1).unwrap_or("");
    if status == "200" {
        Ok(())
    } else {
        Err(SetFaultsError::Refused {
            base: base.to_string(),
            answer: text.lines().next().unwrap_or("no answer").to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knobs_out_of_range_are_named() {
        let knobs = |f: fn(&mut Faults)| {
            let mut faults = Faults::default();
            f(&mut faults);
            faults.validated()
        };
        assert_eq!(
            knobs(|f| f.error_ratio = 1.5).unwrap_err().to_string(),
            "error_ratio must be within 0..1, not 1.5"
        );
        assert_eq!(
            knobs(|f| f.error_status = 700).unwrap_err(),
            KnobError::ErrorStatus(700)
        );
        assert_eq!(
            knobs(|f| f.jitter_ms = -1.0).unwrap_err().to_string(),
            "jitter_ms must be within 0..600000, not -1"
        );
        assert!(knobs(|f| f.latency_ms = 600_000.0).is_ok());
    }

    #[test]
    fn knobs_are_set_over_plain_http_only() {
        let error = set_remote("https://127.0.0.1:1", &Faults::default()).unwrap_err();
        assert!(matches!(error, SetFaultsError::NotHttp(_)));
        assert_eq!(
            error.to_string(),
            "https://127.0.0.1:1: the demo's fault knobs are set over plain http://"
        );
    }
}
