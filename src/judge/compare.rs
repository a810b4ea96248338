//! `compare`'s judging: two saved runs of one scenario set side by side,
//! phase by phase and request by request (latency quantiles, error rate,
//! throughput) and check by check (server-side values included), each
//! change judged against regression limits. It reads the saved read model
//! ([`crate::report::run::saved`]), not a live run as the rest of `judge`
//! does; [`crate::report::compare`] renders its rows.

use std::time::Duration;

use crate::report::run::saved::{SavedMeasured, SavedSummary};

/// One metric's allowed regression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    /// Latency quantile: at most this fraction slower.
    Slower(f64),
    /// Error rate: at most this many percentage points higher.
    Points(f64),
    /// Throughput: at most this fraction lower.
    Lower(f64),
}

/// Regression limits by metric name (`p50`, `p95`, `p99`, `error_rate`,
/// `throughput`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Limits(pub Vec<(String, Limit)>);

/// What is wrong with one `NAME=LIMIT` of `--max-regression`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("`{0}`: write NAME=LIMIT, e.g. p95=10%")]
    NotNameValue(String),
    /// Not a finite number >= 0 with the metric's unit (`%`, or `pp` for
    /// the error rate).
    #[error("`{part}`: the limit must be a number with {unit}")]
    Value { part: String, unit: &'static str },
    #[error("`{0}` is not a compared metric (p50, p95, p99, error_rate, throughput)")]
    UnknownMetric(String),
}

impl Limits {
    /// `p95=10%,error_rate=0.5pp,throughput=5%`.
    pub fn parse(text: &str) -> Result<Limits, LimitError> {
        let mut limits = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| LimitError::NotNameValue(part.to_string()))?;
            let number = |unit: &'static str| -> Result<f64, LimitError> {
                value
                    .strip_suffix(unit)
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .ok_or_else(|| LimitError::Value {
                        part: part.to_string(),
                        unit,
                    })
            };
            let limit = match name {
                "p50" | "p95" | "p99" => Limit::Slower(number("%")? / 100.0),
                "error_rate" => Limit::Points(number("pp")?),
                "throughput" => Limit::Lower(number("%")? / 100.0),
                _ => return Err(LimitError::UnknownMetric(name.to_string())),
            };
            limits.push((name.to_string(), limit));
        }
        Ok(Limits(limits))
    }

    fn get(&self, name: &str) -> Option<Limit> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, l)| *l)
    }
}

/// One compared value.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// `phase steady`, `phase steady, request home`, or a check's scope.
    pub scope: String,
    pub metric: String,
    pub base: Option<f64>,
    pub new: Option<f64>,
    /// `+12.3%`, `+0.40pp`.
    pub change: String,
    /// The limit it broke, if it did.
    pub regression: Option<String>,
}

fn metrics_of(m: &SavedMeasured, seconds: f64) -> Vec<(&'static str, Option<f64>)> {
    let latency = m.latency_ms.as_ref();
    vec![
        ("p50", latency.map(|d| d.p50)),
        ("p95", latency.map(|d| d.p95)),
        ("p99", latency.map(|d| d.p99)),
        (
            "error_rate",
            (m.requests > 0).then(|| m.failed as f64 * 100.0 / m.requests as f64),
        ),
        (
            "throughput",
            (seconds > 0.0).then(|| m.requests as f64 / seconds),
        ),
    ]
}

fn judge(
    metric: &str,
    base: Option<f64>,
    new: Option<f64>,
    limits: &Limits,
    min_ms: f64,
) -> (String, Option<String>) {
    let (Some(b), Some(n)) = (base, new) else {
        return ("-".into(), None);
    };
    let relative = |b: f64, n: f64| {
        if b == 0.0 {
            if n == 0.0 {
                "±0%".to_string()
            } else {
                "new".to_string()
            }
        } else {
            format!("{:+.1}%", (n - b) / b * 100.0)
        }
    };
    match (metric, limits.get(metric)) {
        ("error_rate", limit) => {
            let change = format!("{:+.2}pp", n - b);
            let broke = matches!(limit, Some(Limit::Points(pp)) if n - b > pp)
                .then(|| format!("more than +{}pp", limit_text(limit)));
            (change, broke)
        }
        ("throughput", limit) => {
            let broke = matches!(limit, Some(Limit::Lower(f)) if n < b * (1.0 - f))
                .then(|| format!("more than {} lower", limit_text(limit)));
            (relative(b, n), broke)
        }
        (_, limit) => {
            let broke =
                matches!(limit, Some(Limit::Slower(f)) if n > b * (1.0 + f) && n - b >= min_ms)
                    .then(|| format!("more than {} slower", limit_text(limit)));
            (relative(b, n), broke)
        }
    }
}

fn limit_text(limit: Option<Limit>) -> String {
    match limit {
        Some(Limit::Slower(f)) | Some(Limit::Lower(f)) => {
            format!("{}%", crate::promql::format_short(f * 100.0))
        }
        Some(Limit::Points(pp)) => crate::promql::format_short(pp),
        None => String::new(),
    }
}

/// Two runs of different scenarios: their phases and checks do not
/// correspond.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("BASE ran scenario `{base}`, NEW ran `{new}`: compare two runs of the same scenario")]
pub struct DifferentScenarios {
    pub base: String,
    pub new: String,
}

/// Compares two runs; an error when they are not runs of one scenario.
pub fn compare(
    base: &SavedSummary,
    new: &SavedSummary,
    limits: &Limits,
    min_latency: Duration,
) -> Result<Vec<Row>, DifferentScenarios> {
    if base.scenario != new.scenario {
        return Err(DifferentScenarios {
            base: base.scenario.clone(),
            new: new.scenario.clone(),
        });
    }
    let min_ms = min_latency.as_secs_f64() * 1000.0;
    let mut rows = Vec::new();
    let mut push = |scope: String, metric: &str, b: Option<f64>, n: Option<f64>| {
        let (change, regression) = judge(metric, b, n, limits, min_ms);
        rows.push(Row {
            scope,
            metric: metric.to_string(),
            base: b,
            new: n,
            change,
            regression,
        });
    };
    for phase in &new.phases {
        let Some(old) = base.phases.iter().find(|p| p.name == phase.name) else {
            continue;
        };
        let scope = format!("phase {}", phase.name);
        for ((metric, n), (_, b)) in metrics_of(&phase.measured, phase.duration_s)
            .into_iter()
            .zip(metrics_of(&old.measured, old.duration_s))
        {
            push(scope.clone(), metric, b, n);
        }
        for request in &phase.per_request {
            let Some(before) = old.per_request.iter().find(|r| r.name == request.name) else {
                continue;
            };
            let scope = format!("phase {}, request {}", phase.name, request.name);
            for ((metric, n), (_, b)) in metrics_of(&request.measured, phase.duration_s)
                .into_iter()
                .zip(metrics_of(&before.measured, old.duration_s))
            {
                push(scope.clone(), metric, b, n);
            }
        }
    }
    // Server-side values (PromQL checks) and the rest of the checks:
    // shown with their change, judged by their own verdicts, not here.
    for check in &new.checks {
        if !check.check.starts_with("promql") {
            continue;
        }
        let before = base
            .checks
            .iter()
            .find(|c| c.check == check.check && c.scope == check.scope);
        let b = before.and_then(|c| c.measured);
        let change = match (b, check.measured) {
            (Some(b), Some(n)) if b != 0.0 => format!("{:+.1}%", (n - b) / b * 100.0),
            (Some(b), Some(n)) => format!("{:+}", n - b),
            _ => "-".into(),
        };
        rows.push(Row {
            scope: check.scope.clone(),
            metric: check.check.clone(),
            base: b,
            new: check.measured,
            change,
            regression: None,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_and_say_what_is_wrong() {
        assert_eq!(
            Limits::parse("p95=10%, error_rate=0.5pp").unwrap(),
            Limits(vec![
                ("p95".into(), Limit::Slower(0.1)),
                ("error_rate".into(), Limit::Points(0.5)),
            ])
        );
        assert_eq!(
            Limits::parse("p95=10").unwrap_err().to_string(),
            "`p95=10`: the limit must be a number with %"
        );
        assert_eq!(
            Limits::parse("error_rate=-1pp").unwrap_err(),
            LimitError::Value {
                part: "error_rate=-1pp".into(),
                unit: "pp"
            }
        );
        assert_eq!(
            Limits::parse("p90=1%").unwrap_err().to_string(),
            "`p90` is not a compared metric (p50, p95, p99, error_rate, throughput)"
        );
        assert_eq!(
            Limits::parse("p95").unwrap_err(),
            LimitError::NotNameValue("p95".into())
        );
    }

    #[test]
    fn regressions_respect_the_limits_and_the_latency_floor() {
        let limits = Limits::parse("p95=10%,error_rate=0.5pp,throughput=5%").unwrap();
        let judge = |m, b, n| judge(m, Some(b), Some(n), &limits, 1.0).1.is_some();
        assert!(judge("p95", 100.0, 111.0));
        assert!(!judge("p95", 100.0, 109.0));
        // +50 % but only 0.5 ms: noise.
        assert!(!judge("p95", 1.0, 1.5));
        assert!(judge("error_rate", 0.1, 0.7));
        assert!(!judge("error_rate", 0.1, 0.5));
        assert!(judge("throughput", 100.0, 94.0));
        assert!(!judge("throughput", 100.0, 96.0));
        // No limit, no regression.
        assert!(!judge("p50", 1.0, 100.0));
    }
}
