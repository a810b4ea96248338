//! What an SLI measured over a run: bad and all events per second, from
//! the load's own results or from PromQL counters.

use std::time::Duration;

use crate::backend::QueryBackend;
use crate::record::RunResults;

use super::budget::report;
use super::*;

/// What an SLI measured over the run.
pub(super) struct SliEvents {
    /// Bad and all events over the whole run.
    pub(super) bad: f64,
    pub(super) total: f64,
    /// Per second of the run (ending at second 1, 2, ...): bad and all
    /// events over each of [`WINDOWS`], windows cut at the run start.
    pub(super) windows: Vec<[Option<(f64, f64)>; WINDOWS.len()]>,
    /// Whether `bad` and `total` count events (not a ratio's stand-ins).
    pub(super) counted: bool,
}

/// Why an SLI has no measurement; the report's `problem` says it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(super) enum MeasureError {
    /// A PromQL SLI in a run without metrics to query.
    #[error("a PromQL SLI needs `metrics`")]
    NoMetrics,
    /// The backend refused the query or could not be asked.
    #[error(transparent)]
    Query(#[from] crate::backend::BackendError),
    /// A counter selector with no series that has two samples in the run,
    /// so no increase.
    #[error("`{0}` matches no series with two samples in the run")]
    NoSeries(String),
    /// An error ratio query that answered several series.
    #[error("`{0}` gives {1} series; an error ratio is one: aggregate it, e.g. with `sum`")]
    Grouped(String, usize),
    /// Measured, but no event at all: no ratio to speak of.
    #[error("no events during the run")]
    NoEvents,
}

/// Evaluates every SLO; `backend` answers PromQL SLIs (None: no metrics).
pub(crate) fn evaluate(
    slos: &[Slo],
    results: &RunResults,
    backend: Option<&dyn QueryBackend>,
) -> Vec<SloReport> {
    let thresholds = client_latency_thresholds(slos);
    slos.iter()
        .map(|slo| {
            let measured = match &slo.sli {
                Sli::ClientAvailability => Ok(client(results, None)),
                Sli::ClientLatency(t) => {
                    let i = thresholds.iter().position(|x| x == t).unwrap_or(0);
                    Ok(client(results, Some((i, *t))))
                }
                Sli::Promql {
                    events,
                    good,
                    total,
                } => match backend {
                    Some(backend) => promql(backend, results, events, *good, total),
                    None => Err(MeasureError::NoMetrics),
                },
                Sli::Windowed {
                    errors,
                    total,
                    counts,
                } => match backend {
                    Some(backend) => windowed(backend, results, errors, total, *counts),
                    None => Err(MeasureError::NoMetrics),
                },
                Sli::ErrorRatio(ratio) => match backend {
                    Some(backend) => error_ratio(backend, results, ratio),
                    None => Err(MeasureError::NoMetrics),
                },
            };
            report(slo, measured)
        })
        .collect()
}

/// The latency thresholds the engine must count under, per second, for
/// the client latency SLIs of `slos` (in this order).
pub(crate) fn client_latency_thresholds(slos: &[Slo]) -> Vec<Duration> {
    let mut out = Vec::new();
    for slo in slos {
        if let Sli::ClientLatency(t) = slo.sli
            && !out.contains(&t)
        {
            out.push(t);
        }
    }
    out
}

/// The client's requests, per second of the timeline: failures are bad,
/// or with a latency threshold, requests not answered within it.
pub(super) fn client(results: &RunResults, threshold: Option<(usize, Duration)>) -> SliEvents {
    let n = (results.elapsed.as_secs_f64().ceil() as usize).max(1);
    let mut seconds = vec![(0.0, 0.0); n];
    for row in &results.timeline {
        if let Some(slot) = seconds.get_mut(row.second as usize) {
            let good = match threshold {
                None => row.ok,
                Some((i, _)) => row.under.get(i).copied().unwrap_or(0),
            };
            slot.0 += row.requests.saturating_sub(good) as f64;
            slot.1 += row.requests as f64;
        }
    }
    from_seconds(&seconds)
}

/// From (bad, total) per second.
pub(super) fn from_seconds(seconds: &[(f64, f64)]) -> SliEvents {
    let mut prefix = vec![(0.0, 0.0)];
    for s in seconds {
        let last = *prefix.last().expect("starts with one");
        prefix.push((last.0 + s.0, last.1 + s.1));
    }
    let events = |end: usize, window: u64| -> Option<(f64, f64)> {
        let from = end.saturating_sub(window as usize);
        Some((
            prefix[end].0 - prefix[from].0,
            prefix[end].1 - prefix[from].1,
        ))
    };
    let n = seconds.len();
    SliEvents {
        counted: true,
        bad: prefix[n].0,
        total: prefix[n].1,
        windows: (1..=n)
            .map(|end| WINDOWS.map(|(w, _)| events(end, w)))
            .collect(),
    }
}

/// Bad and all events over `window` seconds ending at `t` (ms); None: no
/// data there. `strict` (the whole run): missing data is an error naming
/// the query that had none.
type Pair<'a> = dyn Fn(u64, i64, bool) -> Result<Option<(f64, f64)>, MeasureError> + 'a;

/// At each second, the events over each window (cut at the run start),
/// and over the whole run, as `pair` gives them.
fn over_windows(
    results: &RunResults,
    pair: &Pair<'_>,
    counted: bool,
) -> Result<SliEvents, MeasureError> {
    let start = crate::metrics::scrape::system_ms(results.started_at);
    let n = (results.elapsed.as_secs_f64().ceil() as u64).max(1);
    let mut windows = Vec::new();
    for end in 1..=n {
        let t = start + end as i64 * 1000;
        let mut row = [None; WINDOWS.len()];
        for i in 0..WINDOWS.len() {
            let window = WINDOWS[i].0.min(end);
            // Windows past the run start are the same window: asked once.
            row[i] = match (0..i).find(|&j| WINDOWS[j].0.min(end) == window) {
                Some(j) => row[j],
                None => pair(window, t, false)?,
            };
        }
        windows.push(row);
    }
    // Data but no events in it (a ratio of 0/0): nothing to judge.
    let (bad, total) = pair(n, start + n as i64 * 1000, true)?.ok_or(MeasureError::NoEvents)?;
    Ok(SliEvents {
        bad,
        total,
        windows,
        counted,
    })
}

/// One value of `query` at `t`: the sum of its series (None: no series).
fn value(backend: &dyn QueryBackend, query: &str, t: i64) -> Result<Option<f64>, MeasureError> {
    let answer = backend.instant(query, t)?;
    Ok((!answer.is_empty()).then(|| answer.iter().map(|(_, v)| v).sum()))
}

/// Counter selectors, as Prometheus would evaluate a burn-rate rule: at
/// each second, `increase` of the errors over the window divided by that
/// of the total, the window cut at the run start.
pub(super) fn promql(
    backend: &dyn QueryBackend,
    results: &RunResults,
    events: &str,
    good: bool,
    total: &str,
) -> Result<SliEvents, MeasureError> {
    let increase = |selector: &str, window: u64, t: i64| {
        value(backend, &format!("sum(increase({selector}[{window}s]))"), t)
    };
    let pair = |window: u64, t: i64, strict: bool| {
        let Some(all) = increase(total, window, t)? else {
            return match strict {
                true => Err(MeasureError::NoSeries(total.to_string())),
                false => Ok(None),
            };
        };
        // No error series (yet): no errors; no good series: all bad.
        let counted = match increase(events, window, t)? {
            Some(c) => c,
            None if strict && good => return Err(MeasureError::NoSeries(events.to_string())),
            None => 0.0,
        };
        Ok(Some((
            if good {
                (all - counted).max(0.0)
            } else {
                counted
            },
            all,
        )))
    };
    over_windows(results, &pair, true)
}

/// `query` with its window placeholder for `window` seconds.
fn at_window(query: &str, window: u64) -> String {
    query.replace(WINDOW_PLACEHOLDER, &format!("{window}s"))
}

/// Sloth's `events`: the error and total queries at each window; their
/// values made counts as `counts` says.
pub(super) fn windowed(
    backend: &dyn QueryBackend,
    results: &RunResults,
    errors: &str,
    total: &str,
    counts: Counts,
) -> Result<SliEvents, MeasureError> {
    let scale = |window: u64| match counts {
        Counts::Rate => window as f64,
        Counts::Increase | Counts::RatioOnly => 1.0,
    };
    let pair = |window: u64, t: i64, strict: bool| {
        let Some(all) = value(backend, &at_window(total, window), t)? else {
            return match strict {
                true => Err(MeasureError::NoSeries(total.to_string())),
                false => Ok(None),
            };
        };
        // No error series (yet): no errors.
        let bad = value(backend, &at_window(errors, window), t)?.unwrap_or(0.0);
        if counts == Counts::RatioOnly {
            // A ratio alone, weighed as the ratio SLI's are.
            let w = window as f64;
            return Ok((all > 0.0).then(|| ((bad / all).clamp(0.0, 1.0) * w, w)));
        }
        Ok(Some((bad * scale(window), all * scale(window))))
    };
    over_windows(results, &pair, counts != Counts::RatioOnly)
}

/// Sloth's `raw`: an error ratio per window, as events of one per second
/// (so a window's ratio weighs as its length).
pub(super) fn error_ratio(
    backend: &dyn QueryBackend,
    results: &RunResults,
    ratio: &str,
) -> Result<SliEvents, MeasureError> {
    let pair = |window: u64, t: i64, strict: bool| {
        let answer = backend.instant(&at_window(ratio, window), t)?;
        match answer.as_slice() {
            [] if strict => Err(MeasureError::NoSeries(ratio.to_string())),
            [] => Ok(None),
            [(_, r)] if r.is_finite() => {
                Ok(Some((r.clamp(0.0, 1.0) * window as f64, window as f64)))
            }
            // 0/0: no traffic in the window.
            [_] => Ok(None),
            many => Err(MeasureError::Grouped(ratio.to_string(), many.len())),
        }
    };
    over_windows(results, &pair, false)
}
