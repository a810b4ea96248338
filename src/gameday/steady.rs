//! The steady state watched live: as the first faulted phase is about to
//! start, its checks are judged over the phases before it (PromQL over the
//! time since the run began, against slogate's own scrapes or the
//! scenario's Prometheus). If the hypothesis does not hold, the run stops
//! there: no fault is injected, and the failed checks are the verdict.

use std::time::SystemTime;

use crate::backend::{Embedded, Prometheus};
use crate::expect::{CheckOutcome, Verdict};
use crate::judge::steady;
use crate::metrics::scrape::{Scraper, system_ms};
use crate::record::PhaseResults;
use crate::scenario::Scenario;

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
        let scope = steady::scope(true);
        let mut verdicts = steady::client(self.scenario, steady, &self.names, done, &scope);
        if !steady.promql.is_empty() {
            let window = (system_ms(run_start), system_ms(now));
            let metrics = self.scenario.metrics.as_ref();
            let judged = match metrics.and_then(|m| m.prometheus.as_deref()) {
                Some(url) => Prometheus::new(url)
                    .map(|backend| steady::promql(self.scenario, steady, &backend, window, &scope))
                    .map_err(|e| format!("{e:#}")),
                None => scraper
                    .and_then(|s| {
                        s.with_store(|store| {
                            let mut backend = Embedded::new(store);
                            if let Some(m) = metrics {
                                backend.lookback = m.lookback;
                            }
                            steady::promql(self.scenario, steady, &backend, window, &scope)
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
