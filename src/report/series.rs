//! Server-side series for the report: every PromQL expectation's expression
//! evaluated over the whole run (by the backend that judged it, embedded or
//! Prometheus) and saved as `promql.json`, so the HTML report draws each
//! with its threshold line and `slogate report` can draw it again later.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::backend::QueryBackend;
use crate::expect::{Compare, PromqlExpectation};
use crate::record::RunResults;
use crate::scenario::Scenario;

/// The file in the results directory.
pub(crate) const FILE: &str = "promql.json";

/// Series drawn per check: the ones furthest from holding.
pub(crate) const MAX_SERIES: usize = 8;

/// Points per series at most: the step grows on long runs to keep the page small.
pub(crate) const MAX_POINTS: i64 = 600;

/// One PromQL check's expression over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CheckSeries {
    /// As the verdict names it (`promql: EXPR < 0.01`).
    pub check: String,
    pub scope: String,
    pub expr: String,
    /// `<`, `>=`, ...
    pub compare: String,
    pub threshold: f64,
    pub step_s: f64,
    /// The series furthest from holding, at most [`MAX_SERIES`].
    pub series: Vec<Line>,
    /// Series left out.
    pub more_series: usize,
    /// Why there are no series, when the query failed.
    pub error: Option<String>,
}

/// One series: its labels and (seconds since the run's start, value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Line {
    pub labels: String,
    pub points: Vec<(f64, f64)>,
}

/// Every PromQL expectation of `scenario`, phases' first, over the whole run.
pub(crate) fn collect(
    scenario: &Scenario,
    results: &RunResults,
    backend: &dyn QueryBackend,
) -> Vec<CheckSeries> {
    let default_step = scenario
        .metrics
        .as_ref()
        .map_or(Duration::from_secs(1), |m| m.default_step());
    let start = crate::metrics::scrape::system_ms(results.started_at);
    let end = crate::metrics::scrape::system_ms(results.started_at + results.elapsed);
    let phases = scenario.phases.iter().flat_map(|p| {
        p.promql
            .iter()
            .map(move |e| (format!("phase {}", p.name), e))
    });
    let run = scenario.promql.iter().map(|e| ("run".to_string(), e));
    phases
        .chain(run)
        .map(|(scope, e)| one(e, scope, backend, (start, end), default_step))
        .collect()
}

fn one(
    e: &PromqlExpectation,
    scope: String,
    backend: &dyn QueryBackend,
    (start, end): (i64, i64),
    default_step: Duration,
) -> CheckSeries {
    let step = (e.step.unwrap_or(default_step).as_millis().max(1) as i64)
        .max((end - start) / MAX_POINTS + 1);
    let mut out = CheckSeries {
        check: e.check_text(),
        scope,
        expr: e.expr.clone(),
        compare: e.compare.symbol().to_string(),
        threshold: e.threshold,
        step_s: step as f64 / 1000.0,
        series: Vec::new(),
        more_series: 0,
        error: None,
    };
    let mut series = match backend.range(&e.expr, start, end, step) {
        Ok(series) => series,
        Err(why) => {
            out.error = Some(why.to_string());
            return out;
        }
    };
    // The furthest from holding first: highest for `<`, lowest for `>`.
    let worst = |s: &crate::promql::Series| {
        let values = s.points.iter().map(|p| p.v).filter(|v| v.is_finite());
        match e.compare {
            Compare::Gt | Compare::Ge => -values.fold(f64::INFINITY, f64::min),
            _ => values.fold(f64::NEG_INFINITY, f64::max),
        }
    };
    series.sort_by(|a, b| worst(b).total_cmp(&worst(a)));
    out.more_series = series.len().saturating_sub(MAX_SERIES);
    out.series = series
        .iter()
        .take(MAX_SERIES)
        .map(|s| Line {
            labels: s.labels.to_string(),
            points: s
                .points
                .iter()
                .filter(|p| p.v.is_finite())
                .map(|p| ((p.t - start) as f64 / 1000.0, p.v))
                .collect(),
        })
        .collect();
    out
}
