//! `compare`'s judging: two saved runs of one scenario set side by side,
//! phase by phase and request by request (latency quantiles, error rate,
//! throughput) and check by check (server-side values included), each
//! change judged against regression limits; a large slowdown of a quantile
//! no limit covers, and two runs that differ in scenario file or length,
//! are warnings. It reads the saved read model
//! ([`crate::report::run::saved`]), not a live run as the rest of `judge`
//! does; [`crate::report::compare`] renders its rows.

use std::fmt;
use std::time::Duration;

use crate::report::run::saved::{SavedMeasured, SavedSummary};

/// A latency quantile no `--max-regression` limit covers that got more than
/// this fraction slower (and by at least `--min-latency-delta`) is a
/// warning: half as slow again is no scheduling noise, yet the user chose
/// not to gate on it.
pub(crate) const LARGE_SLOWDOWN: f64 = 0.5;

/// Two runs whose lengths differ by more than this fraction of BASE's, and
/// by more than [`DURATION_FLOOR_S`], are a warning. A run lasts its phases
/// plus the drain of the requests in flight; a run cut short (abort,
/// signal) or a scenario whose phases changed differs by far more, and then
/// throughput and quantiles cover different loads.
pub(crate) const DURATION_TOLERANCE: f64 = 0.10;

/// The drain alone moves a short run's length: a 1 s phase lasted 1.05 s
/// against a 5 ms service and a 3 s one 3.29 s against a 300 ms one, so
/// under a second apart is never a warning.
pub(crate) const DURATION_FLOOR_S: f64 = 1.0;

/// The latency quantiles compared: what the read model of `summary.json`
/// holds.
pub(crate) const QUANTILES: [&str; 4] = ["p50", "p95", "p99", "max"];

/// One metric's allowed regression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Limit {
    /// Latency quantile: at most this fraction slower.
    Slower(f64),
    /// Error rate: at most this many percentage points higher.
    Points(f64),
    /// Throughput: at most this fraction lower.
    Lower(f64),
}

/// Regression limits by metric name (`p50`, `p95`, `p99`, `max`,
/// `error_rate`, `throughput`).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Limits(pub Vec<(String, Limit)>);

/// What is wrong with one `NAME=LIMIT` of `--max-regression`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LimitError {
    #[error("`{0}`: write NAME=LIMIT, e.g. p95=10%")]
    NotNameValue(String),
    /// Not a finite number >= 0 with the metric's unit (`%`, or `pp` for
    /// the error rate).
    #[error("`{part}`: the limit must be a number with {unit}")]
    Value { part: String, unit: &'static str },
    #[error("`{0}` is not a compared metric (p50, p95, p99, max, error_rate, throughput)")]
    UnknownMetric(String),
}

impl Limits {
    /// `p95=10%,error_rate=0.5pp,throughput=5%`.
    pub(crate) fn parse(text: &str) -> Result<Limits, LimitError> {
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
                _ if QUANTILES.contains(&name) => Limit::Slower(number("%")? / 100.0),
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

/// What a compared value is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    /// Latency, in milliseconds.
    Ms,
    /// Error rate, in percent of the requests; its change in points.
    Percent,
    /// Throughput, in requests per second.
    PerSecond,
    /// A PromQL check's value: whatever its query returns.
    Query,
}

/// How a compared value came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mark {
    /// Within its limit, or not judged here (PromQL checks).
    Held,
    /// No limit covers it but it changed a lot: said, never a failure.
    Warning(String),
    /// It broke this limit: `compare` exits 1.
    Regression(String),
}

/// One compared value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// `phase steady`, `phase steady, request home`, or a check's scope.
    pub scope: String,
    pub metric: String,
    pub unit: Unit,
    pub base: Option<f64>,
    pub new: Option<f64>,
    pub mark: Mark,
}

/// Why two runs of one scenario may not compare well: said, never a
/// failure.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RunsDiffer {
    /// `file` in their `summary.json`: the scenario may have changed.
    File { base: String, new: String },
    /// `duration_s`, more than [`DURATION_TOLERANCE`] apart.
    Duration { base_s: f64, new_s: f64 },
}

impl RunsDiffer {
    /// The sentence, with the file names as `quote` renders them (the rest
    /// is digits and plain words, safe in every format).
    pub(crate) fn sentence(&self, quote: impl Fn(&str) -> String) -> String {
        match self {
            RunsDiffer::File { base, new } => format!(
                "BASE ran scenario file {}, NEW ran {}: check that the scenario did not change between the runs",
                quote(base),
                quote(new)
            ),
            RunsDiffer::Duration { base_s, new_s } => format!(
                "BASE ran {base_s:.2} s, NEW ran {new_s:.2} s ({:+.1}%, more than {}% and {} s apart): throughput and latency cover different loads",
                (new_s - base_s) / base_s * 100.0,
                short(DURATION_TOLERANCE * 100.0),
                short(DURATION_FLOOR_S)
            ),
        }
    }
}

impl fmt::Display for RunsDiffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sentence(|name| format!("`{name}`")))
    }
}

/// Two runs compared.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Comparison {
    pub rows: Vec<Row>,
    pub warnings: Vec<RunsDiffer>,
}

impl Comparison {
    pub(crate) fn regressions(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r.mark, Mark::Regression(_)))
            .count()
    }

    /// Warned rows and the runs' own differences.
    pub(crate) fn warning_count(&self) -> usize {
        let rows = self.rows.iter();
        rows.filter(|r| matches!(r.mark, Mark::Warning(_))).count() + self.warnings.len()
    }
}

fn metrics_of(m: &SavedMeasured, seconds: f64) -> Vec<(&'static str, Unit, Option<f64>)> {
    let latency = m.latency_ms.as_ref();
    vec![
        ("p50", Unit::Ms, latency.map(|d| d.p50)),
        ("p95", Unit::Ms, latency.map(|d| d.p95)),
        ("p99", Unit::Ms, latency.map(|d| d.p99)),
        ("max", Unit::Ms, latency.map(|d| d.max)),
        (
            "error_rate",
            Unit::Percent,
            (m.requests > 0).then(|| m.failed as f64 * 100.0 / m.requests as f64),
        ),
        (
            "throughput",
            Unit::PerSecond,
            (seconds > 0.0).then(|| m.requests as f64 / seconds),
        ),
    ]
}

/// One value judged: against its limit when it has one; a latency quantile
/// without one warns when more than [`LARGE_SLOWDOWN`] slower and by at
/// least `min_ms`.
fn judge(metric: &str, base: Option<f64>, new: Option<f64>, limits: &Limits, min_ms: f64) -> Mark {
    let (Some(b), Some(n)) = (base, new) else {
        return Mark::Held;
    };
    let slower = |f: f64| n > b * (1.0 + f) && n - b >= min_ms;
    match limits.get(metric) {
        Some(Limit::Points(pp)) if n - b > pp => {
            Mark::Regression(format!("more than +{}pp", short(pp)))
        }
        Some(Limit::Lower(f)) if n < b * (1.0 - f) => {
            Mark::Regression(format!("more than {}% lower", short(f * 100.0)))
        }
        Some(Limit::Slower(f)) if slower(f) => {
            Mark::Regression(format!("more than {}% slower", short(f * 100.0)))
        }
        None if QUANTILES.contains(&metric) && slower(LARGE_SLOWDOWN) => Mark::Warning(format!(
            "more than {}% slower, no limit set",
            short(LARGE_SLOWDOWN * 100.0)
        )),
        _ => Mark::Held,
    }
}

fn short(v: f64) -> String {
    crate::units::format_significant(v)
}

/// Two runs of different scenarios: their phases and checks do not
/// correspond.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("BASE ran scenario `{base}`, NEW ran `{new}`: compare two runs of the same scenario")]
pub(crate) struct DifferentScenarios {
    pub base: String,
    pub new: String,
}

/// How two runs of one scenario differ in what they ran: file and length.
pub(crate) fn runs_differ(base: &SavedSummary, new: &SavedSummary) -> Vec<RunsDiffer> {
    let mut warnings = Vec::new();
    if base.file != new.file {
        warnings.push(RunsDiffer::File {
            base: base.file.clone(),
            new: new.file.clone(),
        });
    }
    let (base_s, new_s) = (base.duration_s, new.duration_s);
    let apart = (new_s - base_s).abs();
    if apart > base_s * DURATION_TOLERANCE && apart > DURATION_FLOOR_S {
        warnings.push(RunsDiffer::Duration { base_s, new_s });
    }
    warnings
}

/// Compares two runs; an error when they are not runs of one scenario.
pub(crate) fn compare(
    base: &SavedSummary,
    new: &SavedSummary,
    limits: &Limits,
    min_latency: Duration,
) -> Result<Comparison, DifferentScenarios> {
    if base.scenario != new.scenario {
        return Err(DifferentScenarios {
            base: base.scenario.clone(),
            new: new.scenario.clone(),
        });
    }
    let min_ms = min_latency.as_secs_f64() * 1000.0;
    let mut rows = Vec::new();
    let mut push = |scope: &str, new: &SavedMeasured, new_s, old: &SavedMeasured, old_s| {
        for ((metric, unit, n), (_, _, b)) in metrics_of(new, new_s)
            .into_iter()
            .zip(metrics_of(old, old_s))
        {
            rows.push(Row {
                scope: scope.to_string(),
                metric: metric.to_string(),
                unit,
                base: b,
                new: n,
                mark: judge(metric, b, n, limits, min_ms),
            });
        }
    };
    for phase in &new.phases {
        let Some(old) = base.phases.iter().find(|p| p.name == phase.name) else {
            continue;
        };
        let scope = format!("phase {}", phase.name);
        push(
            &scope,
            &phase.measured,
            phase.duration_s,
            &old.measured,
            old.duration_s,
        );
        for request in &phase.per_request {
            let Some(before) = old.per_request.iter().find(|r| r.name == request.name) else {
                continue;
            };
            let scope = format!("phase {}, request {}", phase.name, request.name);
            push(
                &scope,
                &request.measured,
                phase.duration_s,
                &before.measured,
                old.duration_s,
            );
        }
    }
    // Server-side values (PromQL checks): shown with their change, judged
    // by their own verdicts, not here.
    for check in &new.checks {
        if !check.check.starts_with("promql") {
            continue;
        }
        let before = base
            .checks
            .iter()
            .find(|c| c.check == check.check && c.scope == check.scope);
        rows.push(Row {
            scope: check.scope.clone(),
            metric: check.check.clone(),
            unit: Unit::Query,
            base: before.and_then(|c| c.measured),
            new: check.measured,
            mark: Mark::Held,
        });
    }
    Ok(Comparison {
        rows,
        warnings: runs_differ(base, new),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_and_say_what_is_wrong() {
        assert_eq!(
            Limits::parse("p95=10%, error_rate=0.5pp, max=200%").unwrap(),
            Limits(vec![
                ("p95".into(), Limit::Slower(0.1)),
                ("error_rate".into(), Limit::Points(0.5)),
                ("max".into(), Limit::Slower(2.0)),
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
            "`p90` is not a compared metric (p50, p95, p99, max, error_rate, throughput)"
        );
        assert_eq!(
            Limits::parse("p95").unwrap_err(),
            LimitError::NotNameValue("p95".into())
        );
    }

    #[test]
    fn regressions_respect_the_limits_and_the_latency_floor() {
        let limits = Limits::parse("p95=10%,error_rate=0.5pp,throughput=5%").unwrap();
        let broke = |m, b, n| {
            matches!(
                judge(m, Some(b), Some(n), &limits, 1.0),
                Mark::Regression(_)
            )
        };
        assert!(broke("p95", 100.0, 111.0));
        assert!(!broke("p95", 100.0, 109.0));
        // +50 % but only 0.5 ms: noise.
        assert!(!broke("p95", 1.0, 1.5));
        assert!(broke("error_rate", 0.1, 0.7));
        assert!(!broke("error_rate", 0.1, 0.5));
        assert!(broke("throughput", 100.0, 94.0));
        assert!(!broke("throughput", 100.0, 96.0));
        // No limit, no regression.
        assert!(!broke("p50", 1.0, 100.0));
    }

    #[test]
    fn a_large_slowdown_without_a_limit_warns_and_a_limit_still_fails() {
        let judged = |limits: &str, b, n| {
            judge(
                "p99",
                Some(b),
                Some(n),
                &Limits::parse(limits).unwrap(),
                1.0,
            )
        };
        assert_eq!(
            judged("p95=10%", 100.0, 160.0),
            Mark::Warning("more than 50% slower, no limit set".into())
        );
        assert_eq!(judged("p95=10%", 100.0, 120.0), Mark::Held);
        // +60 % of 1 ms is under --min-latency-delta: noise, not a warning.
        assert_eq!(judged("p95=10%", 1.0, 1.6), Mark::Held);
        // A configured limit decides alone: broken, a failure; held, silent.
        assert_eq!(
            judged("p99=20%", 100.0, 160.0),
            Mark::Regression("more than 20% slower".into())
        );
        assert_eq!(judged("p99=100%", 100.0, 160.0), Mark::Held);
        // Faster is never a warning; error rate and throughput have none.
        assert_eq!(judged("", 160.0, 100.0), Mark::Held);
        let limits = Limits::default();
        assert_eq!(
            judge("error_rate", Some(0.0), Some(90.0), &limits, 1.0),
            Mark::Held
        );
        assert_eq!(
            judge("max", Some(10.0), Some(20.0), &limits, 1.0),
            judged("", 10.0, 20.0)
        );
    }

    fn summary(file: &str, duration_s: f64) -> SavedSummary {
        serde_json::from_value(serde_json::json!({
            "slogate_version": "0", "scenario": "s", "file": file,
            "started_at_unix_ms": 0, "duration_s": duration_s, "ending": "passed",
            "phases": [], "run": {"requests": 0, "failed": 0},
            "checks": [], "timeline": [], "request_names": [],
        }))
        .expect("a summary")
    }

    #[test]
    fn runs_of_other_files_or_lengths_warn() {
        let base = summary("smoke.yaml", 30.0);
        assert_eq!(runs_differ(&base, &summary("smoke.yaml", 32.9)), vec![]);
        assert_eq!(runs_differ(&base, &summary("smoke.yaml", 27.1)), vec![]);
        // 20 % apart but 0.6 s: the drain of a short run, not a warning.
        assert_eq!(runs_differ(&summary("a", 3.0), &summary("a", 3.6)), vec![]);
        assert_eq!(
            runs_differ(&base, &summary("smoke.yaml", 33.5)),
            vec![RunsDiffer::Duration {
                base_s: 30.0,
                new_s: 33.5
            }]
        );
        let moved = runs_differ(&base, &summary("ci/smoke.yaml", 30.0));
        assert_eq!(
            moved.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "BASE ran scenario file `smoke.yaml`, NEW ran `ci/smoke.yaml`: check that the scenario did not change between the runs"
            ]
        );
        assert_eq!(
            runs_differ(&base, &summary("smoke.yaml", 15.0))[0].to_string(),
            "BASE ran 30.00 s, NEW ran 15.00 s (-50.0%, more than 10% and 1 s apart): throughput and latency cover different loads"
        );
    }
}
