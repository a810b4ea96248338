//! The one model every `hit` output format renders: the numbers of a run,
//! computed once, so text, JSON and CSV cannot disagree. Its JSON form is
//! documented by `reports/hit.schema.json`.

use std::collections::BTreeMap;
use std::time::UNIX_EPOCH;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::record::{RunResults, TimelineRow};

/// Identifies the JSON layout; bumped on any incompatible change.
pub const SCHEMA: &str = "slogate.hit/v1";

/// What was asked of the run, for the report's header.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub url: String,
    pub method: String,
    pub http2: bool,
    /// `--expect-status`: the statuses that count as success (default:
    /// below 400).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect_status: Option<Vec<u16>>,
}

/// Latency distribution, in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Distribution {
    pub count: u64,
    pub min: f64,
    pub mean: f64,
    pub stdev: f64,
    pub p50: f64,
    pub p75: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p99_9: f64,
    pub max: f64,
}

impl Distribution {
    /// None when the histogram is empty: no response, no latency.
    pub fn of(histogram: &Histogram<u64>) -> Option<Distribution> {
        if histogram.is_empty() {
            return None;
        }
        let ms = |us: u64| us as f64 / 1000.0;
        let at = |q: f64| ms(histogram.value_at_quantile(q));
        Some(Distribution {
            count: histogram.len(),
            min: ms(histogram.min()),
            mean: histogram.mean() / 1000.0,
            stdev: histogram.stdev() / 1000.0,
            p50: at(0.50),
            p75: at(0.75),
            p90: at(0.90),
            p95: at(0.95),
            p99: at(0.99),
            p99_9: at(0.999),
            max: ms(histogram.max()),
        })
    }

    /// `(label, value)` pairs in report order.
    pub fn fields(&self) -> [(&'static str, f64); 10] {
        [
            ("min", self.min),
            ("mean", self.mean),
            ("stdev", self.stdev),
            ("p50", self.p50),
            ("p75", self.p75),
            ("p90", self.p90),
            ("p95", self.p95),
            ("p99", self.p99),
            ("p99_9", self.p99_9),
            ("max", self.max),
        ]
    }
}

/// One bar of the latency histogram: responses with latency in
/// `(previous bar's up_to_ms, up_to_ms]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bar {
    pub up_to_ms: f64,
    pub count: u64,
}

/// How the open model kept its schedule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenModel {
    pub target_rate: f64,
    pub achieved_rate: f64,
    pub due: u64,
    pub started: u64,
    pub late_starts: u64,
    pub late_threshold_ms: f64,
    pub dropped: u64,
}

/// One second of the run (all endpoints together).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tick {
    pub second: u64,
    pub requests: u64,
    pub ok: u64,
    pub errors: u64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// Everything a `hit` report shows.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub schema: &'static str,
    pub slogate_version: &'static str,
    pub target: Target,
    /// `closed` or `open`.
    pub model: &'static str,
    pub connections: usize,
    pub started_at_unix_ms: u64,
    pub interrupted: bool,
    pub duration_s: f64,
    pub requests: u64,
    pub responses: u64,
    pub successes: u64,
    pub success_ratio: Option<f64>,
    pub requests_per_second: f64,
    pub bytes_received: u64,
    /// From the intended send time (coordinated-omission corrected).
    pub latency_ms: Option<Distribution>,
    /// From the actual send time.
    pub service_time_ms: Option<Distribution>,
    pub histogram: Vec<Bar>,
    pub status_codes: BTreeMap<String, u64>,
    pub errors: BTreeMap<&'static str, u64>,
    pub open_model: Option<OpenModel>,
    pub timeline: Vec<Tick>,
    /// `--expect` verdicts (and the implicit "some request succeeded").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<crate::expect::Verdict>,
}

impl Summary {
    /// Computes the summary of `results`.
    pub fn new(results: &RunResults, target: Target) -> Summary {
        let total = &results.total;
        let responses = total.statuses.total();
        let successes =
            total.requests - crate::expect::failures(total, target.expect_status.as_deref());
        Summary {
            schema: SCHEMA,
            slogate_version: env!("CARGO_PKG_VERSION"),
            target,
            model: if results.open.is_some() {
                "open"
            } else {
                "closed"
            },
            connections: results.connections,
            started_at_unix_ms: results
                .started_at
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            interrupted: results.interrupted,
            duration_s: results.elapsed.as_secs_f64(),
            requests: total.requests,
            responses,
            successes,
            success_ratio: (total.requests > 0).then(|| successes as f64 / total.requests as f64),
            requests_per_second: results.achieved_rate(),
            bytes_received: total.bytes_received,
            latency_ms: Distribution::of(&total.latency_us),
            service_time_ms: Distribution::of(&total.service_us),
            histogram: bars(&total.latency_us, 10),
            status_codes: total.statuses_by_code(),
            errors: total.errors_by_name(),
            open_model: results.open.as_ref().map(|open| OpenModel {
                target_rate: open.target_rate.as_per_second(),
                achieved_rate: results.achieved_rate(),
                due: open.due,
                started: open.started,
                late_starts: total.late_starts,
                late_threshold_ms: crate::record::LATE_THRESHOLD.as_secs_f64() * 1000.0,
                dropped: open.dropped,
            }),
            timeline: ticks(&results.timeline),
            checks: Vec::new(),
        }
    }

    /// The summary with its verdicts.
    pub fn with_checks(self, checks: Vec<crate::expect::Verdict>) -> Summary {
        Summary { checks, ..self }
    }

    /// Verdicts that fail the run.
    pub fn failed_checks(&self) -> usize {
        self.checks.iter().filter(|c| c.fails_run()).count()
    }
}

/// hey's histogram: `buckets` equal-width bars from the fastest to the slowest.
/// The first bar, labelled with the fastest, holds the fastest responses: a
/// recorded value is placed by the lowest value HdrHistogram holds as
/// equal to it, which [`Histogram::min`] also reports.
fn bars(histogram: &Histogram<u64>, buckets: usize) -> Vec<Bar> {
    if histogram.is_empty() {
        return Vec::new();
    }
    // Both ends as lowest equivalents, as the values are placed below: the
    // slowest then lands in the last bar.
    let low = histogram.min() as f64;
    let high = histogram.lowest_equivalent(histogram.max()) as f64;
    let width = (high - low) / buckets as f64;
    let mut bars: Vec<Bar> = (0..=buckets)
        .map(|i| Bar {
            up_to_ms: (low + width * i as f64).round() / 1000.0,
            count: 0,
        })
        .collect();
    for value in histogram.iter_recorded() {
        let us = histogram.lowest_equivalent(value.value_iterated_to()) as f64;
        let index = if width > 0.0 {
            (((us - low) / width).ceil().max(0.0) as usize).min(buckets)
        } else {
            0
        };
        bars[index].count += value.count_at_value();
    }
    bars
}

fn ticks(rows: &[TimelineRow]) -> Vec<Tick> {
    let mut ticks: Vec<Tick> = Vec::new();
    for row in rows {
        // Failures: transport errors and responses with status >= 400.
        let errors = row.requests - row.ok;
        match ticks.last_mut() {
            Some(tick) if tick.second == row.second => {
                // Several endpoints: counts add up; percentiles cannot, so
                // the tick shows the slowest endpoint's (documented in the schema).
                tick.requests += row.requests;
                tick.ok += row.ok;
                tick.errors += errors;
                tick.p50_ms = max_option(tick.p50_ms, row.p50_ms);
                tick.p95_ms = max_option(tick.p95_ms, row.p95_ms);
                tick.p99_ms = max_option(tick.p99_ms, row.p99_ms);
            }
            _ => ticks.push(Tick {
                second: row.second,
                requests: row.requests,
                ok: row.ok,
                errors,
                p50_ms: row.p50_ms,
                p95_ms: row.p95_ms,
                p99_ms: row.p99_ms,
            }),
        }
    }
    ticks
}

fn max_option(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_bar_holds_the_fastest_and_the_last_the_slowest() {
        let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
        // 4.123 ms twice, 5 ms, 14.123 ms: HdrHistogram keeps 4.123 ms as the
        // range 4.120–4.123, whose top is above the minimum it reports.
        for us in [4_123, 4_123, 5_000, 14_123] {
            histogram.record(us).unwrap();
        }
        let bars = bars(&histogram, 10);
        assert_eq!(bars.len(), 11);
        assert_eq!(bars[0].up_to_ms, histogram.min() as f64 / 1000.0);
        assert_eq!(bars[0].count, 2, "{bars:?}");
        assert_eq!(bars[1].count, 1, "{bars:?}");
        assert_eq!(bars[10].count, 1, "{bars:?}");
        assert_eq!(bars.iter().map(|b| b.count).sum::<u64>(), 4);
    }
}
