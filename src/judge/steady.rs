//! The steady state judged: its client checks over a run of phases (their
//! results merged, as one window), its PromQL checks over that window's
//! time, each verdict scoped `steady state before the faults` or `after`.

use std::time::{Duration, SystemTime};

use crate::backend::QueryBackend;
use crate::expect::{Observed, Verdict, failures, judge};
use crate::record::{PhaseResults, Stats, Window};
use crate::scenario::{Scenario, SteadyState};

/// `steady state before the faults` / `... after the faults`.
pub(crate) fn scope(before: bool) -> String {
    format!(
        "steady state {} the faults",
        if before { "before" } else { "after" }
    )
}

/// The client checks over `phases` (merged), requests named as in
/// `names` (the plan's endpoints, in order).
pub(crate) fn client(
    scenario: &Scenario,
    steady: &SteadyState,
    names: &[String],
    phases: &[PhaseResults],
    scope: &str,
) -> Vec<Verdict> {
    let requests = scenario.endpoint_requests();
    let mut per_endpoint = vec![Stats::default(); names.len()];
    let mut total = Stats::default();
    for phase in phases {
        total.merge(&phase.total.unpack());
        for (mine, theirs) in per_endpoint.iter_mut().zip(&phase.per_endpoint) {
            mine.merge(&theirs.unpack());
        }
    }
    let window = Window {
        elapsed: phases.iter().map(|p| p.elapsed).sum(),
        scheduled: phases.iter().map(|p| p.scheduled).sum(),
        cut_short: phases.iter().any(|p| p.cut_short),
    };
    steady
        .client
        .iter()
        .map(|e| {
            let (stats, failed, scope) = match &e.request {
                Some(name) => {
                    let index = names.iter().position(|n| n == name);
                    let stats = index.and_then(|i| per_endpoint.get(i));
                    let statuses = index
                        .and_then(|i| requests.get(i))
                        .and_then(|(r, _)| r.expect_status.as_deref());
                    let stats = stats.cloned().unwrap_or_default();
                    let failed = failures(&stats, statuses);
                    (stats, failed, format!("{scope}, request {name}"))
                }
                None => {
                    let failed = per_endpoint
                        .iter()
                        .zip(&requests)
                        .filter(|(_, (_, counts))| *counts)
                        .map(|(stats, (r, _))| failures(stats, r.expect_status.as_deref()))
                        .sum();
                    (total.clone(), failed, scope.to_string())
                }
            };
            let sample = Observed {
                stats: &stats,
                window,
                failures: failed,
                checks: [0, 0],
            };
            judge(e, Some(&sample), scope)
        })
        .collect()
}

/// The PromQL checks over `(start, end)` (ms since the epoch).
pub(crate) fn promql(
    scenario: &Scenario,
    steady: &SteadyState,
    backend: &dyn QueryBackend,
    window: (i64, i64),
    scope: &str,
) -> Vec<Verdict> {
    let step = scenario
        .metrics
        .as_ref()
        .map_or(Duration::from_secs(1), |m| m.default_step());
    steady
        .promql
        .iter()
        .map(|e| crate::expect::promql::judge(e, backend, window, step, scope.to_string()))
        .collect()
}

/// ms since the epoch of `offset` into a run that started at `started`.
pub(crate) fn at(started: SystemTime, offset: Duration) -> i64 {
    crate::metrics::scrape::system_ms(started + offset)
}
