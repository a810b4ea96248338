//! Expectations: what a run must show, where (whole run, a phase, a request
//! name), and the abort conditions that stop a run early.

mod abort;
pub mod alert;
mod check;
pub(crate) mod promql;
mod verdict;

use std::time::Duration;

pub use abort::AbortWatch;
pub use alert::{AlertExpectation, When};
pub use check::{
    Check, LatencyStat, METRIC_NAMES, Metric, Op, StatusMatch, parse_check, parse_metric,
    parse_threshold,
};
pub use promql::{Compare, Holds, PromqlExpectation, split_comparison};
pub use verdict::{CheckOutcome, Observed, Verdict, failures, judge};

/// A check with its scope, as the scenario states it.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    pub check: Check,
    /// Only requests of this name; None: all.
    pub request: Option<String>,
    /// No data is reported but does not fail the run.
    pub optional: bool,
    /// Where it was written, `file:line:col`, for reports.
    pub source: String,
}

/// Stop the run when a check holds for a while, e.g. `error_rate > 50% for 15s`.
#[derive(Debug, Clone, PartialEq)]
pub struct Abort {
    pub check: Check,
    /// How long it must hold, evaluated once a second over that second.
    pub sustained: Duration,
    pub text: String,
}

/// Parses `CHECK for DURATION`.
pub fn parse_abort(text: &str) -> Result<Abort, String> {
    let (condition, sustained) = match text.rsplit_once(" for ") {
        Some((condition, duration)) => (
            condition,
            crate::units::parse_duration(duration).map_err(|e| format!("after `for`: {e}"))?,
        ),
        None => (text, Duration::from_secs(1)),
    };
    let check = parse_check(condition)?;
    if matches!(check.metric, Metric::Requests | Metric::Throughput) {
        return Err(format!(
            "`{}` cannot be an abort condition; use error_rate, availability, status or latency",
            check.metric
        ));
    }
    // The per-second timeline keeps p50, p95 and p99, and status classes.
    match check.metric {
        Metric::Latency(LatencyStat::Quantile(q)) if [0.5, 0.95, 0.99].contains(&q) => {}
        Metric::Latency(_) => {
            return Err("an abort condition on latency uses p50, p95 or p99".into());
        }
        Metric::StatusShare(StatusMatch::Code(_)) => {
            return Err(
                "an abort condition on status uses a class (e.g. `status 5xx > 20%`)".into(),
            );
        }
        _ => {}
    }
    if sustained < Duration::from_secs(1) {
        return Err(
            "an abort condition must hold for at least 1s (it is checked once a second)".into(),
        );
    }
    Ok(Abort {
        check,
        sustained,
        text: text.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abort_conditions() {
        let abort = parse_abort("error_rate > 50% for 15s").unwrap();
        assert_eq!(abort.sustained, Duration::from_secs(15));
        assert_eq!(abort.check.threshold, 0.5);
        assert!(parse_abort("throughput < 10/s for 5s").is_err());
        assert!(
            parse_abort("error_rate > 5% for 10")
                .unwrap_err()
                .contains("after `for`")
        );
        assert_eq!(
            parse_abort("latency p99 > 2s").unwrap().sustained,
            Duration::from_secs(1)
        );
    }
}
