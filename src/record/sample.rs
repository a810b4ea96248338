//! One measured request. Coordinated omission lives here: a sample keeps the
//! time it was *due*, the time it was actually sent and the time it ended, and
//! the two latencies are computed from those in one place.

use std::time::{Duration, Instant};

use super::Outcome;

/// Timing and outcome of one request.
#[derive(Debug, Clone, Copy)]
pub struct RequestSample {
    /// Index of the request definition (endpoint) this request came from.
    pub endpoint: usize,
    /// When the schedule wanted it sent. Equals `started` in the closed model.
    pub intended: Instant,
    /// When the first byte was about to be written (connection set-up included).
    pub started: Instant,
    /// When the response was complete, or the failure was seen.
    pub ended: Instant,
    /// Status code or failure kind.
    pub outcome: super::Outcome,
    /// Bytes of the response body (head and chunk framing not counted).
    pub bytes_received: u64,
}

impl RequestSample {
    /// What a user of the service waited: from the intended send time to the
    /// end. Includes time spent queued behind a slow service (coordinated
    /// omission corrected).
    pub fn latency(&self) -> Duration {
        self.ended.saturating_duration_since(self.intended)
    }

    /// What the service took once the request was on its way: from the actual
    /// send to the end.
    pub fn service_time(&self) -> Duration {
        self.ended.saturating_duration_since(self.started)
    }

    /// How long the request waited for a free connection after it was due.
    pub fn start_delay(&self) -> Duration {
        self.started.saturating_duration_since(self.intended)
    }

    /// True when the request got an HTTP response (of any status).
    pub fn has_response(&self) -> bool {
        matches!(self.outcome, Outcome::Response { .. })
    }
}
