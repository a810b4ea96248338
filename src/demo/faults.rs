//! The demo service's fault knobs: a share of requests answered with an
//! error status, and added latency with jitter. Set at runtime with
//! `POST /admin/faults`, read with `GET /admin/faults`.

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
    /// Share of /data requests answered with `error_status`, 0..=1.
    pub error_ratio: f64,
    pub error_status: u16,
    /// Added to every /data request.
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

impl Faults {
    /// Checks the ranges; the error says which knob is out of range.
    pub fn validated(self) -> Result<Faults, String> {
        if !(0.0..=1.0).contains(&self.error_ratio) {
            return Err(format!(
                "error_ratio must be within 0..1, not {}",
                self.error_ratio
            ));
        }
        if !(100..=599).contains(&self.error_status) {
            return Err(format!(
                "error_status must be an HTTP status (100..599), not {}",
                self.error_status
            ));
        }
        for (name, value) in [
            ("latency_ms", self.latency_ms),
            ("jitter_ms", self.jitter_ms),
        ] {
            if !(0.0..=600_000.0).contains(&value) {
                return Err(format!("{name} must be within 0..600000, not {value}"));
            }
        }
        Ok(self)
    }
}

/// The current knobs and a random sequence for applying them.
#[derive(Default)]
pub struct Knobs {
    current: Mutex<Faults>,
    rng: crate::rng::SharedRng,
}

impl Knobs {
    pub fn get(&self) -> Faults {
        self.current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn set(&self, faults: Faults) {
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = faults;
    }

    /// Waits the injected latency; returns the injected error, if this
    /// request draws one.
    pub async fn apply(&self) -> Option<Response<Full<Bytes>>> {
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

/// Sets the knobs of the demo service at `base` (`http://host:port`) with
/// `POST /admin/faults`, as a scenario's phase does when it starts. Plain
/// HTTP/1.1 over a std socket: it is called from the engine's control
/// loop between phases, and must not need an event loop of its own.
pub fn set_remote(base: &str, faults: &Faults) -> Result<(), String> {
    use std::io::{Read, Write};
    let authority = base
        .strip_prefix("http://")
        .ok_or_else(|| format!("{base}: the demo's fault knobs are set over plain http://"))?
        .trim_end_matches('/');
    let addr = std::net::ToSocketAddrs::to_socket_addrs(authority)
        .map_err(|e| format!("{authority}: {e}"))?
        .next()
        .ok_or_else(|| format!("{authority}: no address"))?;
    let timeout = Duration::from_secs(2);
    let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("cannot reach {base}: {e}"))?;
    stream.set_read_timeout(Some(timeout)).ok();
    stream.set_write_timeout(Some(timeout)).ok();
    let body = serde_json::to_string(faults).map_err(|e| e.to_string())?;
    let request = format!(
        "POST /admin/faults HTTP/1.1\r\nHost: {authority}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("{base}: {e}"))?;
    let mut response = Vec::new();
    let _ = stream.take(64 * 1024).read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response);
    let status = text.split_whitespace().nth(1).unwrap_or("");
    if status == "200" {
        Ok(())
    } else {
        let first = text.lines().next().unwrap_or("no answer");
        Err(format!("POST {base}/admin/faults: {first}"))
    }
}
