//! Expectations against results: each gives a verdict with the measured
//! value, the wanted value and where it was measured. No data is NO DATA,
//! never a pass.

use serde::{Deserialize, Serialize};

use super::{Check, Expectation, LatencyStat, Metric};
use crate::record::{Stats, Window};

/// The outcome of one expectation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CheckOutcome {
    Pass,
    /// Passed, with something to look at (an alert that was pending in a
    /// phase where it must stay quiet); does not fail the run.
    Warn,
    Fail,
    NoData,
}

impl CheckOutcome {
    pub fn label(self) -> &'static str {
        match self {
            CheckOutcome::Pass => "PASS",
            CheckOutcome::Warn => "WARN",
            CheckOutcome::Fail => "FAIL",
            CheckOutcome::NoData => "NO DATA",
        }
    }
}

/// One expectation, judged.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Verdict {
    /// The check as written back, e.g. `latency p95 < 500.00ms`.
    pub check: String,
    /// Where it applies: `phase steady`, `phase steady, request health`, `run`.
    pub scope: String,
    /// The measured value in the metric's unit, if there was data.
    pub measured: Option<f64>,
    /// The measured value for people, e.g. `312.5ms`; `no data` without.
    pub measured_text: String,
    /// The wanted side, e.g. `< 500.00ms`.
    pub wanted: String,
    pub outcome: CheckOutcome,
    /// NO DATA of an optional expectation does not fail the run.
    pub optional: bool,
    /// `file:line:col` of the expectation.
    pub source: String,
    /// It read data that a limit truncated (a series or sample limit, a
    /// scrape that failed for its size or sample count): never a pass.
    #[serde(default)]
    pub truncated: bool,
}

impl Verdict {
    /// Stands for the server-side checks (PromQL, alerts, SLOs) until they
    /// are judged, or when judging them failed (`why`): NO DATA, which
    /// fails the run, so results written before judging never read as a
    /// pass.
    pub fn not_judged(file: &std::path::Path, why: &str) -> Verdict {
        Verdict {
            check: "server-side checks (PromQL, alerts, SLOs)".into(),
            scope: "run".into(),
            measured: None,
            measured_text: format!("not judged: {why}"),
            wanted: "judged".into(),
            outcome: CheckOutcome::NoData,
            optional: false,
            source: file.display().to_string(),
            truncated: false,
        }
    }

    /// Marks a verdict that read over `losses`: a pass becomes a FAIL
    /// (what was lost may be what would have failed it), and the measured
    /// text says what was lost; `origin_ms` is the window's start, for the
    /// times. Without losses, nothing changes.
    pub fn mark_truncated(&mut self, losses: &[crate::metrics::loss::Loss], origin_ms: i64) {
        let Some(first) = losses.first() else {
            return;
        };
        self.truncated = true;
        if matches!(self.outcome, CheckOutcome::Pass | CheckOutcome::Warn) {
            self.outcome = CheckOutcome::Fail;
        }
        let more = match losses.len() {
            1 => String::new(),
            n => format!(" (+{} more)", n - 1),
        };
        self.measured_text = format!(
            "{} — TRUNCATED DATA, cannot pass: {}{more}",
            self.measured_text,
            first.text(origin_ms)
        );
    }

    /// True when this verdict fails the run.
    pub fn fails_run(&self) -> bool {
        match self.outcome {
            CheckOutcome::Pass | CheckOutcome::Warn => false,
            CheckOutcome::Fail => true,
            CheckOutcome::NoData => !self.optional,
        }
    }
}

/// What an expectation is measured over: a request kind's stats, the
/// window its throughput counts, its failures.
pub(crate) struct Observed<'a> {
    pub stats: &'a Stats,
    /// The time throughput is measured over.
    pub window: Window,
    /// Failed requests, counted per request kind with its own idea of
    /// success (see [`failures`]) before they are added up.
    pub failures: u64,
    /// Flow steps' checks in scope: evaluations passed, failed.
    pub checks: [u64; 2],
}

/// Requests in `stats` that failed: no response, or a status outside
/// `expect_status` (below 400 when None).
pub(crate) fn failures(stats: &Stats, expect_status: Option<&[u16]>) -> u64 {
    let unexpected: u64 = stats
        .statuses
        .iter()
        .filter(|(status, _)| match expect_status {
            Some(expected) => !expected.contains(status),
            None => *status >= 400,
        })
        .map(|(_, count)| count)
        .sum();
    stats.transport_errors() + unexpected
}

/// Judges `expectation` over `sample`, in `scope`; None: the scope never
/// ran (a phase after an abort), which is NO DATA whatever the metric.
pub(crate) fn judge(
    expectation: &Expectation,
    sample: Option<&Observed>,
    scope: String,
) -> Verdict {
    let measured = sample.and_then(|sample| measure(&expectation.check, sample));
    let check = &expectation.check;
    let outcome = match measured {
        None => CheckOutcome::NoData,
        Some(value) if check.op.holds(value, check.threshold) => CheckOutcome::Pass,
        Some(_) => CheckOutcome::Fail,
    };
    Verdict {
        check: check.to_string(),
        scope,
        measured,
        measured_text: match (measured, sample) {
            (None, _) => "no data".to_string(),
            (Some(v), Some(sample))
                if check.metric == Metric::Throughput && sample.window.cut_short =>
            {
                format!(
                    "{} (cut short after {})",
                    check.format_value(v),
                    crate::units::format_duration(sample.window.elapsed)
                )
            }
            (Some(v), _) => check.format_value(v),
        },
        wanted: check.wanted(),
        outcome,
        optional: expectation.optional,
        source: expectation.source.clone(),
        truncated: false,
    }
}

fn measure(check: &Check, sample: &Observed) -> Option<f64> {
    let stats = sample.stats;
    let requests = stats.requests;
    let ratio = |count: u64| (requests > 0).then(|| count as f64 / requests as f64);
    match check.metric {
        Metric::Latency(stat) => {
            let h = &stats.latency_us;
            if h.is_empty() {
                return None;
            }
            let us = match stat {
                LatencyStat::Quantile(q) => h.value_at_quantile(q) as f64,
                LatencyStat::Min => h.min() as f64,
                LatencyStat::Max => h.max() as f64,
                LatencyStat::Mean => h.mean(),
            };
            Some(us / 1000.0)
        }
        Metric::ErrorRate => ratio(sample.failures),
        Metric::Availability => ratio(requests - sample.failures.min(requests)),
        Metric::StatusShare(which) => ratio(
            stats
                .statuses
                .iter()
                .filter(|(status, _)| which.matches(*status))
                .map(|(_, count)| count)
                .sum(),
        ),
        // Zero requests over a whole phase is a throughput of zero.
        Metric::Throughput => sample.window.rate(requests),
        // A count is data even when it is zero.
        Metric::Requests => Some(requests as f64),
        Metric::ChecksPassed => {
            let [passed, failed] = sample.checks;
            (passed + failed > 0).then(|| passed as f64 / (passed + failed) as f64)
        }
    }
}
