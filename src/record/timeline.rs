//! Per-second buckets. Workers fill a [`Second`] per endpoint and hand it over
//! when the second is over; the [`Timeline`] merges the buckets of all workers
//! and keeps only the finished numbers, so memory grows with the duration of a
//! run, never with its request count.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::stats::{LATE_THRESHOLD, latency_histogram, record_us};
use super::{ErrorKind, Outcome, RequestSample};

/// One endpoint's requests that ended within one second of the run.
#[derive(Debug, Clone)]
pub struct Second {
    /// Requests that ended.
    pub requests: u64,
    /// Requests that succeeded (an expected status: below 400 unless the
    /// request lists `expect_status`).
    pub ok: u64,
    /// Responses by status class: 1xx .. 5xx at index 0 .. 4.
    pub status_classes: [u64; 5],
    /// Failures by [`ErrorKind::index`].
    pub errors: [u64; ErrorKind::COUNT],
    /// Requests that started more than [`LATE_THRESHOLD`] after their due time.
    pub late: u64,
    /// Latency (from intended send) of the responses, µs, 2 significant digits:
    /// enough for a per-second p99 and 1/16 of the size of a 3-digit one.
    pub latency_us: Histogram<u64>,
    /// Service time (from the actual send) of the responses, µs, likewise.
    pub service_us: Histogram<u64>,
}

impl Default for Second {
    fn default() -> Self {
        Second {
            requests: 0,
            ok: 0,
            status_classes: [0; 5],
            errors: [0; ErrorKind::COUNT],
            late: 0,
            latency_us: latency_histogram(2),
            service_us: latency_histogram(2),
        }
    }
}

impl Second {
    /// Adds one sample; `ok` says whether it succeeded.
    pub fn record(&mut self, sample: &RequestSample, ok: bool) {
        self.requests += 1;
        if ok {
            self.ok += 1;
        }
        if sample.start_delay() > LATE_THRESHOLD {
            self.late += 1;
        }
        match sample.outcome {
            Outcome::Response { status } => {
                let class = usize::from(status / 100).clamp(1, 5) - 1;
                self.status_classes[class] += 1;
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

    fn merge(&mut self, other: &Second) {
        self.requests += other.requests;
        self.ok += other.ok;
        for (mine, theirs) in self.status_classes.iter_mut().zip(other.status_classes) {
            *mine += theirs;
        }
        for (mine, theirs) in self.errors.iter_mut().zip(other.errors) {
            *mine += theirs;
        }
        self.late += other.late;
        self.latency_us
            .add(&other.latency_us)
            .expect("histograms share bounds");
        self.service_us
            .add(&other.service_us)
            .expect("histograms share bounds");
    }
}

/// The finished numbers for one second × endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineRow {
    /// Seconds since the run started (the row covers `[second, second+1)`).
    pub second: u64,
    /// Index of the endpoint.
    pub endpoint: usize,
    /// Requests that ended in this second.
    pub requests: u64,
    /// Of which succeeded (an expected status).
    pub ok: u64,
    /// Responses by status class, 1xx .. 5xx.
    pub status_classes: [u64; 5],
    /// Failures by kind, in [`ErrorKind::ALL`] order.
    pub errors: [u64; ErrorKind::COUNT],
    /// Latency percentiles of the responses in this second, ms (None when no response).
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// Service time percentiles of the responses in this second, ms.
    pub service_p50_ms: Option<f64>,
    pub service_p95_ms: Option<f64>,
    pub service_p99_ms: Option<f64>,
    /// Responses at or under each of the plan's latency thresholds (the
    /// client latency SLIs'), so `merge` can judge them again.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub under: Vec<u64>,
    /// The second's histograms on fixed bucket bounds, for the run's live
    /// metrics ([`Timeline::with_buckets`]); None when nobody asked.
    #[serde(skip)]
    pub buckets: Option<Box<RowBuckets>>,
}

/// One second × endpoint on a histogram's bucket bounds, as a Prometheus
/// histogram adds it up.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RowBuckets {
    /// Requests that started late ([`LATE_THRESHOLD`]).
    pub late: u64,
    /// Latency from the intended send.
    pub latency: Bucketed,
    /// Service time from the actual send.
    pub service: Bucketed,
}

/// Counts per bucket (not cumulative; the last is `+Inf`'s), the sum in
/// seconds and the count. Read off the second's histogram: its 2
/// significant digits put a value within 1 % of a bound on either side.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Bucketed {
    pub counts: Vec<u64>,
    pub sum_seconds: f64,
    pub count: u64,
}

impl Bucketed {
    /// `histogram` (µs) on `bounds` (µs, ascending), plus `+Inf`.
    pub fn of(histogram: &Histogram<u64>, bounds: &[u64]) -> Bucketed {
        let mut counts = vec![0; bounds.len() + 1];
        let mut sum_us = 0.0;
        for value in histogram.iter_recorded() {
            let at = value.value_iterated_to();
            let n = value.count_at_value();
            // A value recorded at a bound is at or under it (`le`).
            let lowest = histogram.lowest_equivalent(at);
            counts[bounds.partition_point(|&bound| bound < lowest)] += n;
            sum_us += histogram.median_equivalent(at) as f64 * n as f64;
        }
        Bucketed {
            counts,
            sum_seconds: sum_us / 1e6,
            count: histogram.len(),
        }
    }
}

/// Merges the per-second buckets of all workers into rows.
#[derive(Debug)]
pub struct Timeline {
    endpoints: usize,
    /// For each worker, every second before this one is complete.
    closed_through: Vec<u64>,
    /// µs: responses at or under each are counted per row.
    thresholds: Vec<u64>,
    open: BTreeMap<u64, Vec<Second>>,
    rows: Vec<TimelineRow>,
    /// µs: when set, each row carries its histograms on these bounds.
    buckets: Option<Vec<u64>>,
}

impl Timeline {
    /// A timeline fed by `workers` workers measuring `endpoints` endpoints.
    pub fn new(workers: usize, endpoints: usize, thresholds: Vec<u64>) -> Timeline {
        Timeline {
            endpoints,
            closed_through: vec![0; workers],
            thresholds,
            open: BTreeMap::new(),
            rows: Vec::new(),
            buckets: None,
        }
    }

    /// Rows that carry their histograms on `bounds` (µs, ascending).
    pub fn with_buckets(mut self, bounds: Option<Vec<u64>>) -> Timeline {
        self.buckets = bounds;
        self
    }

    /// Takes a worker's buckets for `second`, and the news that the worker
    /// is done with every second before `closed_through`.
    pub fn add(&mut self, worker: usize, second: u64, buckets: &[Second], closed_through: u64) {
        let merged = self
            .open
            .entry(second)
            .or_insert_with(|| vec![Second::default(); self.endpoints]);
        for (mine, theirs) in merged.iter_mut().zip(buckets) {
            mine.merge(theirs);
        }
        self.mark_closed(worker, closed_through);
    }

    /// Records that `worker` will send nothing more for seconds before `closed_through`.
    pub fn mark_closed(&mut self, worker: usize, closed_through: u64) {
        let slot = &mut self.closed_through[worker];
        *slot = (*slot).max(closed_through);
        let complete_before = self.closed_through.iter().copied().min().unwrap_or(0);
        self.finish_before(complete_before);
    }

    /// Finishes every open second and returns all rows, ordered by second then endpoint.
    pub fn finish(mut self) -> Vec<TimelineRow> {
        self.finish_before(u64::MAX);
        self.rows
    }

    /// Rows finished so far.
    pub fn rows(&self) -> &[TimelineRow] {
        &self.rows
    }

    fn finish_before(&mut self, limit: u64) {
        while let Some(entry) = self.open.first_entry() {
            if *entry.key() >= limit {
                break;
            }
            let (second, buckets) = entry.remove_entry();
            for (endpoint, bucket) in buckets.iter().enumerate() {
                let quantile_of = |histogram: &Histogram<u64>, q: f64| {
                    (!histogram.is_empty()).then(|| histogram.value_at_quantile(q) as f64 / 1000.0)
                };
                let quantile = |q: f64| quantile_of(&bucket.latency_us, q);
                let service = |q: f64| quantile_of(&bucket.service_us, q);
                self.rows.push(TimelineRow {
                    second,
                    endpoint,
                    requests: bucket.requests,
                    ok: bucket.ok,
                    status_classes: bucket.status_classes,
                    errors: bucket.errors,
                    p50_ms: quantile(0.50),
                    p95_ms: quantile(0.95),
                    p99_ms: quantile(0.99),
                    service_p50_ms: service(0.50),
                    service_p95_ms: service(0.95),
                    service_p99_ms: service(0.99),
                    under: self
                        .thresholds
                        .iter()
                        .map(|&t| {
                            bucket
                                .latency_us
                                .iter_recorded()
                                .take_while(|v| v.value_iterated_to() <= t)
                                .map(|v| v.count_at_value())
                                .sum()
                        })
                        .collect(),
                    buckets: self.buckets.as_deref().map(|bounds| {
                        Box::new(RowBuckets {
                            late: bucket.late,
                            latency: Bucketed::of(&bucket.latency_us, bounds),
                            service: Bucketed::of(&bucket.service_us, bounds),
                        })
                    }),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    fn bucket(requests: u64, latency_ms: u64) -> Second {
        let mut second = Second::default();
        let now = Instant::now();
        for _ in 0..requests {
            let ok = true;
            second.record(
                &RequestSample {
                    endpoint: 0,
                    intended: now,
                    started: now,
                    ended: now + Duration::from_millis(latency_ms),
                    outcome: Outcome::Response { status: 200 },
                    bytes_received: 0,
                },
                ok,
            );
        }
        second
    }

    #[test]
    fn a_second_is_finished_only_when_every_worker_is_past_it() {
        let mut timeline = Timeline::new(2, 1, Vec::new());
        timeline.add(0, 0, &[bucket(3, 10)], 1);
        assert!(
            timeline.rows().is_empty(),
            "worker 1 has not reported second 0"
        );
        timeline.add(1, 0, &[bucket(2, 20)], 1);
        assert_eq!(timeline.rows().len(), 1);
        let row = &timeline.rows()[0];
        assert_eq!((row.second, row.requests, row.ok), (0, 5, 5));
        assert!((row.p50_ms.unwrap() - 10.0).abs() < 0.1);
        assert!((row.p99_ms.unwrap() - 20.0).abs() < 0.2);
    }

    #[test]
    fn finish_flushes_the_rest_in_order() {
        let mut timeline = Timeline::new(2, 1, Vec::new());
        timeline.add(0, 3, &[bucket(1, 1)], 4);
        timeline.add(0, 1, &[bucket(1, 1)], 4);
        let rows = timeline.finish();
        assert_eq!(
            rows.iter().map(|r| r.second).collect::<Vec<_>>(),
            vec![1, 3]
        );
    }
}
