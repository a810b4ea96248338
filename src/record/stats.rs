//! Mergeable counts and latency histograms for one endpoint (or a whole run).
//! Recording touches only fixed-size arrays and pre-allocated histograms.

use std::time::Duration;

use hdrhistogram::Histogram;

use super::{ErrorKind, Outcome, RequestSample};

/// Highest latency a histogram holds (one hour, in microseconds); longer
/// values are clamped to it rather than dropped.
pub(crate) const MAX_TRACKABLE_US: u64 = 3_600_000_000;

/// A request that starts more than this after its due time counts as late.
/// The pacer's timer wakes within tens of microseconds; a millisecond of
/// slack keeps scheduler noise out of the count.
pub const LATE_THRESHOLD: Duration = Duration::from_millis(1);

/// Creates a latency histogram in microseconds, 1 µs .. 1 h, with the given
/// number of significant digits.
pub fn latency_histogram(significant_digits: u8) -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_TRACKABLE_US, significant_digits)
        .expect("constant histogram bounds are valid")
}

/// Records a duration into a microsecond histogram, clamped to its range.
pub(crate) fn record_us(histogram: &mut Histogram<u64>, value: Duration) {
    let us = (value.as_micros() as u64).clamp(1, MAX_TRACKABLE_US);
    histogram.saturating_record(us);
}

/// Which status codes count as success for one endpoint, indexed by status.
pub type SuccessTable = Box<[bool; 1000]>;

/// The table for `expect_status` (None: every status below 400).
pub fn success_table(expect_status: Option<&[u16]>) -> SuccessTable {
    let mut table = Box::new([false; 1000]);
    for (status, success) in table.iter_mut().enumerate() {
        *success = match expect_status {
            Some(expected) => expected.iter().any(|s| usize::from(*s) == status),
            None => (100..400).contains(&status),
        };
    }
    table
}

/// Exact count of responses per status code (100..=999).
#[derive(Debug, Clone)]
pub struct StatusCounts(Box<[u64; 1000]>);

impl Default for StatusCounts {
    fn default() -> Self {
        StatusCounts(Box::new([0; 1000]))
    }
}

impl StatusCounts {
    fn add(&mut self, status: u16) {
        self.0[usize::from(status).min(999)] += 1;
    }

    /// Adds `count` responses of `status` (100..=999).
    pub fn add_count(&mut self, status: u16, count: u64) {
        self.0[usize::from(status).min(999)] += count;
    }

    fn merge(&mut self, other: &StatusCounts) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0.iter()) {
            *mine += theirs;
        }
    }

    /// `(status, count)` for every status seen, ascending.
    pub fn iter(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.0
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
            .map(|(status, count)| (status as u16, *count))
    }

    /// Responses with a status in `low..=high`.
    pub fn in_range(&self, low: u16, high: u16) -> u64 {
        self.0[usize::from(low)..=usize::from(high)].iter().sum()
    }

    /// Responses of any status.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

/// Everything measured about a set of requests.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Requests that ended (with a response or an error).
    pub requests: u64,
    /// Responses by status code.
    pub statuses: StatusCounts,
    /// Failures without a response, indexed by [`ErrorKind::index`].
    pub errors: [u64; ErrorKind::COUNT],
    /// Latency from the intended send time, µs, responses only.
    pub latency_us: Histogram<u64>,
    /// Service time from the actual send, µs, responses only.
    pub service_us: Histogram<u64>,
    /// Response body bytes (see `RequestSample::bytes_received`).
    pub bytes_received: u64,
    /// Requests that started more than [`LATE_THRESHOLD`] after they were due.
    pub late_starts: u64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            requests: 0,
            statuses: StatusCounts::default(),
            errors: [0; ErrorKind::COUNT],
            latency_us: latency_histogram(3),
            service_us: latency_histogram(3),
            bytes_received: 0,
            late_starts: 0,
        }
    }
}

impl Stats {
    /// Adds one sample.
    pub fn record(&mut self, sample: &RequestSample) {
        self.requests += 1;
        self.bytes_received += sample.bytes_received;
        if sample.start_delay() > LATE_THRESHOLD {
            self.late_starts += 1;
        }
        match sample.outcome {
            Outcome::Response { status } => {
                self.statuses.add(status);
                record_us(&mut self.latency_us, sample.latency());
                record_us(&mut self.service_us, sample.service_time());
            }
            Outcome::Error(kind) => {
                self.errors[kind.index()] += 1;
                // A flow step's answer that failed a check still took
                // its time: latency gates see it.
                if kind.had_response() {
                    record_us(&mut self.latency_us, sample.latency());
                    record_us(&mut self.service_us, sample.service_time());
                }
            }
        }
    }

    /// Adds everything in `other`.
    pub fn merge(&mut self, other: &Stats) {
        self.requests += other.requests;
        self.statuses.merge(&other.statuses);
        for (mine, theirs) in self.errors.iter_mut().zip(other.errors) {
            *mine += theirs;
        }
        // Both histograms share bounds, so adding cannot fail.
        self.latency_us
            .add(&other.latency_us)
            .expect("histograms share bounds");
        self.service_us
            .add(&other.service_us)
            .expect("histograms share bounds");
        self.bytes_received += other.bytes_received;
        self.late_starts += other.late_starts;
    }

    /// Responses with a status below 400.
    pub fn successes(&self) -> u64 {
        self.statuses.in_range(100, 399)
    }

    /// Requests that failed without a response.
    pub fn transport_errors(&self) -> u64 {
        self.errors.iter().sum()
    }

    /// Count of one failure kind.
    pub fn errors_of(&self, kind: ErrorKind) -> u64 {
        self.errors[kind.index()]
    }

    /// Failure counts keyed by kind name, every kind present: the form the
    /// JSON reports use.
    pub fn errors_by_name(&self) -> std::collections::BTreeMap<&'static str, u64> {
        ErrorKind::ALL
            .iter()
            .map(|kind| (kind.name(), self.errors_of(*kind)))
            .collect()
    }

    /// Response counts keyed by status code (as text, as JSON object keys).
    pub fn statuses_by_code(&self) -> std::collections::BTreeMap<String, u64> {
        self.statuses
            .iter()
            .map(|(status, count)| (status.to_string(), count))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn sample(outcome: Outcome, wait_ms: u64, service_ms: u64) -> RequestSample {
        let intended = Instant::now();
        let started = intended + Duration::from_millis(wait_ms);
        RequestSample {
            endpoint: 0,
            intended,
            started,
            ended: started + Duration::from_millis(service_ms),
            outcome,
            bytes_received: 100,
        }
    }

    #[test]
    fn records_latency_service_and_lateness_separately() {
        let mut stats = Stats::default();
        stats.record(&sample(Outcome::Response { status: 200 }, 0, 10));
        stats.record(&sample(Outcome::Response { status: 503 }, 50, 10));
        stats.record(&sample(Outcome::Error(ErrorKind::ConnectRefused), 0, 1));
        assert_eq!(stats.requests, 3);
        assert_eq!(stats.successes(), 1);
        assert_eq!(stats.transport_errors(), 1);
        assert_eq!(stats.late_starts, 1);
        assert_eq!(stats.latency_us.len(), 2);
        assert!(stats.latency_us.max() >= 59_000);
        assert!(stats.service_us.max() < 11_000);
        assert_eq!(stats.bytes_received, 300);
    }

    #[test]
    fn merge_adds_everything() {
        let mut a = Stats::default();
        let mut b = Stats::default();
        a.record(&sample(Outcome::Response { status: 200 }, 0, 1));
        b.record(&sample(Outcome::Response { status: 200 }, 0, 2));
        b.record(&sample(Outcome::Error(ErrorKind::Tls), 0, 2));
        a.merge(&b);
        assert_eq!(a.requests, 3);
        assert_eq!(a.statuses.iter().collect::<Vec<_>>(), vec![(200, 2)]);
        assert_eq!(a.errors_of(ErrorKind::Tls), 1);
        assert_eq!(a.latency_us.len(), 2);
    }
}
