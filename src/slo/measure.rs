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
        bad: prefix[n].0,
        total: prefix[n].1,
        windows: (1..=n)
            .map(|end| WINDOWS.map(|(w, _)| events(end, w)))
            .collect(),
    }
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
    let start = crate::metrics::scrape::system_ms(results.started_at);
    let n = (results.elapsed.as_secs_f64().ceil() as u64).max(1);
    let increase = |selector: &str, window: u64, t: i64| -> Result<Option<f64>, MeasureError> {
        let answer = backend.instant(&format!("sum(increase({selector}[{window}s]))"), t)?;
        Ok(answer.first().map(|(_, v)| *v))
    };
    let mut windows = Vec::new();
    for end in 1..=n {
        let t = start + end as i64 * 1000;
        let mut row = [None; WINDOWS.len()];
        for i in 0..WINDOWS.len() {
            let window = WINDOWS[i].0.min(end);
            // Windows past the run start are the same window: asked once.
            if let Some(j) = (0..i).find(|&j| WINDOWS[j].0.min(end) == window) {
                row[i] = row[j];
                continue;
            }
            let slot = &mut row[i];
            let all = increase(total, window, t)?;
            // No error series (yet): no errors; no good series: all bad.
            let counted = increase(events, window, t)?.unwrap_or(0.0);
            *slot = all.map(|a| {
                (
                    if good {
                        (a - counted).max(0.0)
                    } else {
                        counted
                    },
                    a,
                )
            });
        }
        windows.push(row);
    }
    let t = start + n as i64 * 1000;
    let all = increase(total, n, t)?.ok_or_else(|| MeasureError::NoSeries(total.to_string()))?;
    let counted = increase(events, n, t)?;
    let bad = if good {
        let counted = counted.ok_or_else(|| MeasureError::NoSeries(events.to_string()))?;
        (all - counted).max(0.0)
    } else {
        counted.unwrap_or(0.0)
    };
    Ok(SliEvents {
        bad,
        total: all,
        windows,
    })
}
