//! Client-side checks: what is measured (`latency p95`, `error_rate`, ...),
//! how it is compared, and the compact syntax people write them in:
//! `latency p95 < 500ms`, `error_rate < 1%`, `throughput >= 190/s`,
//! `availability >= 99.9%`, `status 5xx < 1%`, `requests >= 1000`.

use crate::units::{Rate, Ratio, parse_duration};
use std::fmt;

/// A statistic of the latency distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LatencyStat {
    /// A quantile in 0..1 (p95 = 0.95).
    Quantile(f64),
    Min,
    Mean,
    Max,
}

/// Which responses a status share counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusMatch {
    /// `5xx`: the hundreds digit.
    Class(u16),
    /// `503`: one code.
    Code(u16),
}

impl StatusMatch {
    pub fn matches(self, status: u16) -> bool {
        match self {
            StatusMatch::Class(class) => status / 100 == class,
            StatusMatch::Code(code) => status == code,
        }
    }
}

/// What is measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    /// Latency from the intended send time, in ms.
    Latency(LatencyStat),
    /// Failed requests / requests (transport errors and unexpected statuses).
    ErrorRate,
    /// 1 − error rate.
    Availability,
    /// Requests ended per second.
    Throughput,
    /// Share of requests with a matching status.
    StatusShare(StatusMatch),
    /// Number of requests ended.
    Requests,
    /// Evaluations of flow steps' checks that passed / all evaluations.
    ChecksPassed,
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    pub fn holds(self, measured: f64, wanted: f64) -> bool {
        match self {
            Op::Lt => measured < wanted,
            Op::Le => measured <= wanted,
            Op::Gt => measured > wanted,
            Op::Ge => measured >= wanted,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// A metric compared with a threshold, in the metric's unit (ms, fraction,
/// per second, count).
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub metric: Metric,
    pub op: Op,
    pub threshold: f64,
}

impl Check {
    /// Formats a measured (or wanted) value in the metric's unit.
    pub fn format_value(&self, value: f64) -> String {
        match self.metric {
            Metric::Latency(_) => format_ms(value),
            Metric::ErrorRate
            | Metric::Availability
            | Metric::StatusShare(_)
            | Metric::ChecksPassed => {
                format!("{}%", trim(value * 100.0))
            }
            Metric::Throughput => format!("{}/s", trim(value)),
            Metric::Requests => format!("{value:.0}"),
        }
    }

    /// The wanted side, e.g. `< 500ms`.
    pub fn wanted(&self) -> String {
        format!("{} {}", self.op.symbol(), self.format_value(self.threshold))
    }
}

/// Milliseconds as people write them: `850µs`, `312.5ms`, `1.25s`.
fn format_ms(ms: f64) -> String {
    if ms < 1.0 {
        format!("{:.0}µs", ms * 1000.0)
    } else if ms < 1000.0 {
        format!("{}ms", trim(ms))
    } else {
        format!("{}s", trim(ms / 1000.0))
    }
}

fn trim(value: f64) -> String {
    crate::units::format_decimals(value, 3)
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Metric::Latency(LatencyStat::Quantile(q)) => write!(f, "latency p{}", trim(q * 100.0)),
            Metric::Latency(LatencyStat::Min) => write!(f, "latency min"),
            Metric::Latency(LatencyStat::Mean) => write!(f, "latency mean"),
            Metric::Latency(LatencyStat::Max) => write!(f, "latency max"),
            Metric::ErrorRate => write!(f, "error_rate"),
            Metric::Availability => write!(f, "availability"),
            Metric::Throughput => write!(f, "throughput"),
            Metric::StatusShare(StatusMatch::Class(c)) => write!(f, "status {c}xx"),
            Metric::StatusShare(StatusMatch::Code(c)) => write!(f, "status {c}"),
            Metric::Requests => write!(f, "requests"),
            Metric::ChecksPassed => write!(f, "checks passed"),
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.metric, self.wanted())
    }
}

/// The metric names the compact syntax knows, for "did you mean".
const METRIC_NAMES: [&str; 7] = [
    "latency",
    "error_rate",
    "availability",
    "throughput",
    "status",
    "requests",
    "checks",
];

/// What is wrong with a check in the compact syntax, each case with the
/// message the user reads.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum CheckSyntaxError {
    #[error("empty expectation")]
    Empty,
    /// No `<`, `<=`, `>` or `>=` in the text.
    #[error("`{0}` has no comparison; write e.g. `latency p95 < 500ms` or `error_rate < 1%`")]
    NoComparison(String),
    /// The comparison ends the text.
    #[error("`{text}` has nothing after `{}`", op.symbol())]
    NoThreshold { text: String, op: Op },
    #[error("unknown metric `{name}`{}", unknown_metric_tail(*nearest))]
    UnknownMetric {
        name: String,
        /// The known name closest to it, for "did you mean".
        nearest: Option<&'static str>,
    },
    #[error("`latency` needs a statistic: p50, p90, p95, p99, p99.9, min, mean or max")]
    LatencyWithoutStat,
    #[error("`{0}` is not a latency statistic (p50, p95, p99.9, min, mean, max)")]
    LatencyStat(String),
    #[error("`status` needs a code or class, e.g. `status 5xx < 1%` or `status 200 >= 99%`")]
    StatusWithoutCode,
    #[error("`{0}` is not a status code or class (e.g. 503 or 5xx)")]
    Status(String),
    /// A duration, share or rate threshold that does not parse.
    #[error(transparent)]
    Threshold(#[from] crate::units::UnitError),
    #[error("`{0}` is not a number of requests")]
    RequestCount(String),
}

fn unknown_metric_tail(nearest: Option<&str>) -> String {
    match nearest {
        Some(name) => format!("; did you mean `{name}`?"),
        None => format!(" (known: {})", METRIC_NAMES.join(", ")),
    }
}

/// Parses the metric part: `latency p95`, `error_rate`, `status 5xx`, ...
pub(crate) fn parse_metric(text: &str) -> Result<Metric, CheckSyntaxError> {
    let words: Vec<&str> = text.split_whitespace().collect();
    match words.as_slice() {
        ["latency", stat] => parse_latency_stat(stat).map(Metric::Latency),
        ["latency"] => Err(CheckSyntaxError::LatencyWithoutStat),
        ["error_rate"] => Ok(Metric::ErrorRate),
        ["availability"] => Ok(Metric::Availability),
        ["throughput"] => Ok(Metric::Throughput),
        ["requests"] => Ok(Metric::Requests),
        ["checks", "passed"] | ["checks"] => Ok(Metric::ChecksPassed),
        ["status", which] => parse_status(which).map(Metric::StatusShare),
        ["status"] => Err(CheckSyntaxError::StatusWithoutCode),
        // `p99 < 200ms`, as hey and oha users write it: a latency quantile.
        [stat] if stat.starts_with('p') && stat[1..].starts_with(|c: char| c.is_ascii_digit()) => {
            parse_latency_stat(stat).map(Metric::Latency)
        }
        [first, ..] => Err(CheckSyntaxError::UnknownMetric {
            name: first.to_string(),
            nearest: crate::diag::nearest(first, METRIC_NAMES),
        }),
        [] => Err(CheckSyntaxError::Empty),
    }
}

fn parse_latency_stat(stat: &str) -> Result<LatencyStat, CheckSyntaxError> {
    match stat {
        "min" => Ok(LatencyStat::Min),
        "mean" | "avg" => Ok(LatencyStat::Mean),
        "max" => Ok(LatencyStat::Max),
        _ => {
            let percent = stat
                .strip_prefix('p')
                .and_then(|p| p.parse::<f64>().ok())
                .filter(|p| *p > 0.0 && *p < 100.0)
                .ok_or_else(|| CheckSyntaxError::LatencyStat(stat.to_string()))?;
            // Rounded so p99.9 is exactly 0.999, not 0.9990000000000001.
            Ok(LatencyStat::Quantile((percent * 1e7).round() / 1e9))
        }
    }
}

fn parse_status(which: &str) -> Result<StatusMatch, CheckSyntaxError> {
    let bad = || CheckSyntaxError::Status(which.to_string());
    if let Some(class) = which.strip_suffix("xx") {
        let class: u16 = class.parse().map_err(|_| bad())?;
        return (1..=5)
            .contains(&class)
            .then_some(StatusMatch::Class(class))
            .ok_or_else(bad);
    }
    let code: u16 = which.parse().map_err(|_| bad())?;
    (100..=599)
        .contains(&code)
        .then_some(StatusMatch::Code(code))
        .ok_or_else(bad)
}

/// Parses a threshold in the metric's unit.
pub(crate) fn parse_threshold(metric: Metric, text: &str) -> Result<f64, CheckSyntaxError> {
    let text = text.trim();
    Ok(match metric {
        Metric::Latency(_) => parse_duration(text)?.as_secs_f64() * 1000.0,
        Metric::ErrorRate
        | Metric::Availability
        | Metric::StatusShare(_)
        | Metric::ChecksPassed => text.parse::<Ratio>()?.fraction(),
        Metric::Throughput => text.parse::<Rate>()?.as_per_second(),
        Metric::Requests => {
            text.parse::<u64>()
                .map_err(|_| CheckSyntaxError::RequestCount(text.to_string()))? as f64
        }
    })
}

/// Parses `METRIC OP VALUE`, e.g. `latency p95 < 500ms`.
pub(crate) fn parse_check(text: &str) -> Result<Check, CheckSyntaxError> {
    let (at, op, width) =
        find_op(text).ok_or_else(|| CheckSyntaxError::NoComparison(text.to_string()))?;
    let metric = parse_metric(&text[..at])?;
    let value = text[at + width..].trim();
    if value.is_empty() {
        return Err(CheckSyntaxError::NoThreshold {
            text: text.to_string(),
            op,
        });
    }
    let threshold = parse_threshold(metric, value)?;
    Ok(Check {
        metric,
        op,
        threshold,
    })
}

fn find_op(text: &str) -> Option<(usize, Op, usize)> {
    let at = text.find(['<', '>'])?;
    let rest = &text[at..];
    Some(if rest.starts_with("<=") {
        (at, Op::Le, 2)
    } else if rest.starts_with(">=") {
        (at, Op::Ge, 2)
    } else if rest.starts_with('<') {
        (at, Op::Lt, 1)
    } else {
        (at, Op::Gt, 1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_checks() {
        let check = parse_check("latency p95 < 500ms").unwrap();
        assert_eq!(check.metric, Metric::Latency(LatencyStat::Quantile(0.95)));
        assert_eq!((check.op, check.threshold), (Op::Lt, 500.0));
        assert_eq!(check.to_string(), "latency p95 < 500ms");
        let check = parse_check("latency p99.9 <= 1s").unwrap();
        assert_eq!(check.metric, Metric::Latency(LatencyStat::Quantile(0.999)));
        assert_eq!(check.to_string(), "latency p99.9 <= 1s");
        assert_eq!(parse_check("error_rate < 1%").unwrap().threshold, 0.01);
        assert_eq!(parse_check("throughput >= 190/s").unwrap().threshold, 190.0);
        assert_eq!(
            parse_check("status 5xx < 0.5%").unwrap().metric,
            Metric::StatusShare(StatusMatch::Class(5))
        );
        assert_eq!(parse_check("requests >= 1000").unwrap().threshold, 1000.0);
        let checks = parse_check("checks passed >= 99.9%").unwrap();
        assert_eq!(
            (checks.metric, checks.threshold),
            (Metric::ChecksPassed, 0.999)
        );
        // Exactly 999 of 1000 meets `>= 99.9%`.
        assert!(checks.op.holds(999.0 / 1000.0, checks.threshold));
        let availability = parse_check("availability >= 99.99%").unwrap();
        assert!(
            availability
                .op
                .holds(9999.0 / 10000.0, availability.threshold)
        );
        assert_eq!(checks.to_string(), "checks passed >= 99.9%");
        // The short form of a latency quantile.
        assert_eq!(
            parse_check("p99 < 200ms").unwrap(),
            parse_check("latency p99 < 200ms").unwrap()
        );
        assert!(parse_check("p1000 < 2ms").is_err());
        assert_eq!(
            parse_check("availability >= 99.9%").unwrap().to_string(),
            "availability >= 99.9%"
        );
    }

    #[test]
    fn mistakes_say_what_is_wrong() {
        use CheckSyntaxError as E;
        let error = |text: &str| parse_check(text).unwrap_err();
        assert_eq!(
            error("latency p95 500ms"),
            E::NoComparison("latency p95 500ms".into())
        );
        assert_eq!(
            error("latncy p95 < 5ms").to_string(),
            "unknown metric `latncy`; did you mean `latency`?"
        );
        assert_eq!(
            error("bogus < 5ms").to_string(),
            "unknown metric `bogus` (known: latency, error_rate, availability, throughput, status, requests, checks)"
        );
        assert!(matches!(error("latency p95 < 500"), E::Threshold(_)));
        assert!(
            error("latency p95 < 500")
                .to_string()
                .contains("has no unit")
        );
        assert_eq!(
            error("latency p200 < 5ms").to_string(),
            "`p200` is not a latency statistic (p50, p95, p99.9, min, mean, max)"
        );
        assert!(matches!(error("latency < 5ms"), E::LatencyWithoutStat));
        assert!(matches!(error("error_rate < 150%"), E::Threshold(_)));
        assert!(error("error_rate < 150%").to_string().contains("outside"));
        assert_eq!(
            error("status 7xx < 1%").to_string(),
            "`7xx` is not a status code or class (e.g. 503 or 5xx)"
        );
        assert!(matches!(error("status < 1%"), E::StatusWithoutCode));
        assert_eq!(
            error("requests >= many").to_string(),
            "`many` is not a number of requests"
        );
        assert_eq!(
            error("error_rate <").to_string(),
            "`error_rate <` has nothing after `<`"
        );
        assert_eq!(error(" < 1%"), E::Empty);
    }
}
