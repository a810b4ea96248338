//! Expectations: what a run must show, where (whole run, a phase, a request
//! name), and the abort conditions that stop a run early.

mod abort;
pub(crate) mod alert;
mod check;
pub(crate) mod notify;
pub(crate) mod promql;
pub(crate) mod stop;
mod verdict;

use std::time::Duration;

pub(crate) use abort::AbortWatch;
pub(crate) use alert::{AlertExpectation, When};
pub(crate) use check::{
    Check, CheckSyntaxError, LatencyStat, Metric, Op, StatusMatch, parse_check, parse_metric,
    parse_threshold,
};
pub(crate) use promql::{Compare, ComparisonError, Holds, PromqlExpectation, split_comparison};
pub(crate) use verdict::{CheckOutcome, Observed, Verdict, failures, judge};

/// A check with its scope, as the scenario states it.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    pub check: Check,
    /// Only requests of this name (a flow's step: `FLOW/STEP`); None: all.
    pub request: Option<String>,
    /// A flow's iterations (with `request` None), or its checks
    /// (`checks passed`, its step's with `request`).
    pub flow: Option<String>,
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

/// Why a text is not an abort condition.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum AbortError {
    /// The check itself does not parse.
    #[error(transparent)]
    Check(#[from] CheckSyntaxError),
    #[error("after `for`: {0}")]
    Sustained(crate::units::UnitError),
    /// Requests and throughput only grow over a run: no per-second share.
    #[error("`{0}` cannot be an abort condition; use error_rate, availability, status or latency")]
    NotPerSecond(Metric),
    /// The per-second timeline keeps p50, p95 and p99 only.
    #[error("an abort condition on latency uses p50, p95 or p99")]
    LatencyStat,
    /// The per-second timeline keeps status classes, not codes.
    #[error("an abort condition on status uses a class (e.g. `status 5xx > 20%`)")]
    StatusCode,
    #[error("an abort condition must hold for at least 1s (it is checked once a second)")]
    TooShort,
}

/// Parses `CHECK for DURATION`.
pub(crate) fn parse_abort(text: &str) -> Result<Abort, AbortError> {
    let (condition, sustained) = match text.rsplit_once(" for ") {
        Some((condition, duration)) => (
            condition,
            crate::units::parse_duration(duration).map_err(AbortError::Sustained)?,
        ),
        None => (text, Duration::from_secs(1)),
    };
    let check = parse_check(condition)?;
    if matches!(
        check.metric,
        Metric::Requests | Metric::Throughput | Metric::ChecksPassed
    ) {
        return Err(AbortError::NotPerSecond(check.metric));
    }
    match check.metric {
        Metric::Latency(LatencyStat::Quantile(q)) if [0.5, 0.95, 0.99].contains(&q) => {}
        Metric::Latency(_) => return Err(AbortError::LatencyStat),
        Metric::StatusShare(StatusMatch::Code(_)) => return Err(AbortError::StatusCode),
        _ => {}
    }
    if sustained < Duration::from_secs(1) {
        return Err(AbortError::TooShort);
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
        assert_eq!(
            parse_abort("throughput < 10/s for 5s")
                .unwrap_err()
                .to_string(),
            "`throughput` cannot be an abort condition; use error_rate, availability, status or latency"
        );
        let error = parse_abort("error_rate > 5% for 10").unwrap_err();
        assert!(matches!(error, AbortError::Sustained(_)));
        assert!(error.to_string().starts_with("after `for`: "));
        assert_eq!(
            parse_abort("latency p90 > 1s").unwrap_err(),
            AbortError::LatencyStat
        );
        assert_eq!(
            parse_abort("status 503 > 1%").unwrap_err(),
            AbortError::StatusCode
        );
        assert_eq!(
            parse_abort("error_rate > 5% for 500ms").unwrap_err(),
            AbortError::TooShort
        );
        assert!(matches!(
            parse_abort("eror_rate > 5%").unwrap_err(),
            AbortError::Check(CheckSyntaxError::UnknownMetric { .. })
        ));
        assert_eq!(
            parse_abort("latency p99 > 2s").unwrap().sustained,
            Duration::from_secs(1)
        );
    }
}
