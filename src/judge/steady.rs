//! The steady state judged: its client checks over a run of phases (their
//! results merged, as one window), its PromQL checks over that window's
//! time, each verdict scoped `steady state before the faults` or `after`.
//! Watched live: as the first faulted phase is about to start, its checks
//! are judged over the phases before it (PromQL over the time since the
//! run began, against slogate's own scrapes or the scenario's
//! Prometheus); if the hypothesis does not hold, the run stops there, no
//! fault is injected, and the failed checks are the verdict.

use std::time::{Duration, SystemTime};

use crate::backend::{Embedded, Prometheus, QueryBackend};
use crate::expect::{CheckOutcome, Observed, Verdict, failures, judge};
use crate::metrics::scrape::{Scraper, system_ms};
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

/// The watch over one run.
pub(crate) struct SteadyWatch<'a> {
    scenario: &'a Scenario,
    /// The plan's endpoints, in order.
    names: Vec<String>,
    run_start: Option<SystemTime>,
    /// The checks before the faults, once judged.
    pub verdicts: Vec<Verdict>,
    /// True when they did not hold: the run stopped before the faults.
    pub failed: bool,
}

impl<'a> SteadyWatch<'a> {
    pub(crate) fn new(scenario: &'a Scenario, names: Vec<String>) -> SteadyWatch<'a> {
        SteadyWatch {
            scenario,
            names,
            run_start: None,
            verdicts: Vec::new(),
            failed: false,
        }
    }

    /// Phase `index` is about to start after `done`: judges the steady
    /// state when it is the first faulted phase; returns why the run must
    /// stop, if it does not hold.
    pub(crate) fn enter(
        &mut self,
        index: usize,
        done: &[PhaseResults],
        scraper: Option<&Scraper>,
    ) -> Option<String> {
        let now = SystemTime::now();
        let run_start = *self.run_start.get_or_insert(now);
        let steady = self.scenario.steady_state.as_ref()?;
        if index != steady.first_fault {
            return None;
        }
        let scope = scope(true);
        let mut verdicts = client(self.scenario, steady, &self.names, done, &scope);
        if !steady.promql.is_empty() {
            let window = (system_ms(run_start), system_ms(now));
            let metrics = self.scenario.metrics.as_ref();
            let judged = match metrics.and_then(|m| m.prometheus.as_deref()) {
                Some(url) => Prometheus::new(url)
                    .map(|backend| promql(self.scenario, steady, &backend, window, &scope))
                    .map_err(|e| format!("{e:#}")),
                None => scraper
                    .and_then(|s| {
                        s.with_store(|store| {
                            let mut backend = Embedded::new(store);
                            if let Some(m) = metrics {
                                backend.lookback = m.lookback;
                            }
                            promql(self.scenario, steady, &backend, window, &scope)
                        })
                    })
                    .ok_or_else(|| "nothing was scraped".to_string()),
            };
            match judged {
                Ok(judged) => verdicts.extend(judged),
                Err(why) => verdicts.push(Verdict::not_judged(
                    &self.scenario.file,
                    &format!("the steady state's PromQL checks: {why}"),
                )),
            }
        }
        let failing: Vec<String> = verdicts
            .iter()
            .filter(|v| !matches!(v.outcome, CheckOutcome::Pass | CheckOutcome::Warn))
            .map(|v| format!("{}: {}", v.check, v.measured_text))
            .collect();
        self.verdicts = verdicts;
        if failing.is_empty() {
            return None;
        }
        self.failed = true;
        Some(format!(
            "the steady state did not hold before the faults ({}): no fault was injected",
            failing.join("; ")
        ))
    }
}
