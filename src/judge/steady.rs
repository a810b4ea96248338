//! The steady state judged: its client checks over a run of phases (their
//! results merged, as one window), its PromQL and alert checks over that
//! window's time, each verdict scoped `steady state before the faults` or `after`.
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

/// The alert checks over `window`: each `stays: inactive`, and with
/// `{no_other_alerts: true}`, that no alert fired at all.
pub(crate) fn alerts(
    steady: &SteadyState,
    timeline: &crate::rules::AlertTimeline,
    window: crate::expect::alert::Window,
    scope: &str,
) -> Vec<Verdict> {
    let context = crate::expect::alert::Context::default();
    let mut verdicts: Vec<Verdict> = steady
        .alerts
        .iter()
        .map(|e| {
            crate::expect::alert::judge(e, timeline, None, window, scope.to_string(), &context)
        })
        .collect();
    if let Some(source) = &steady.quiet {
        let mut verdict = crate::expect::alert::no_other_alerts(timeline, &[], window, source);
        verdict.check = "no alert fires".into();
        verdict.wanted = "none".into();
        verdict.scope = scope.to_string();
        verdicts.push(verdict);
    }
    verdicts
}

/// The window of the alert checks after the faults: the run's last
/// millisecond (`end`, ms), the half-open `[end, end + 1)`.
pub(crate) fn at_end(end: i64) -> crate::expect::alert::Window {
    crate::expect::alert::Window {
        start: end,
        end: end + 1,
        run_end: end + 1,
    }
}

/// The rules' alerts from the run's start to `now` (ms), as the first
/// fault is about to go in: read back from the scenario's Prometheus, or
/// the rules evaluated over a copy of slogate's scrapes so far.
fn alerts_so_far(
    scenario: &Scenario,
    scraper: Option<&Scraper>,
    start: i64,
    now: i64,
) -> Result<crate::rules::AlertTimeline, String> {
    let metrics = scenario
        .metrics
        .as_ref()
        .ok_or_else(|| "no metrics".to_string())?;
    if let Some(url) = metrics.prometheus.as_deref() {
        let prometheus = Prometheus::new(url).map_err(|e| format!("{e:#}"))?;
        let groups = prometheus.rule_groups().unwrap_or_default();
        return crate::rules::run::read_back(
            &prometheus,
            &groups,
            start,
            now,
            metrics.evaluation_interval,
        )
        .map(|alerts| alerts.timeline)
        .map_err(|e| e.to_string());
    }
    let scraper = scraper.ok_or_else(|| "nothing was scraped".to_string())?;
    let mut copy = scraper
        .with_store(Clone::clone)
        .ok_or_else(|| "the scrapes are lost".to_string())?;
    crate::rules::run::evaluate(
        &scenario.rules,
        metrics.evaluation_interval,
        metrics.lookback,
        &mut copy,
    )
    .map(|alerts| alerts.timeline)
    .map_err(|e| format!("{e:#}"))
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
        if !steady.alerts.is_empty() || steady.quiet.is_some() {
            let (start, end) = (system_ms(run_start), system_ms(now));
            match alerts_so_far(self.scenario, scraper, start, end) {
                Ok(timeline) => {
                    let window = crate::expect::alert::Window {
                        start,
                        end,
                        run_end: end,
                    };
                    verdicts.extend(alerts(steady, &timeline, window, &scope));
                }
                Err(why) => verdicts.push(Verdict::not_judged(
                    &self.scenario.file,
                    &format!("the steady state's alert checks: {why}"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expect::{AlertExpectation, When};
    use crate::metrics::store::Labels;
    use crate::rules::{AlertHistory, AlertTimeline, Episode};

    fn timeline(resolved_at: Option<i64>) -> AlertTimeline {
        AlertTimeline {
            alerts: vec![AlertHistory {
                name: "Errors".into(),
                labels: Labels::from_pairs(&[("alertname", "Errors")]),
                source: "rules.yml:4:9".into(),
                episodes: vec![Episode {
                    pending_at: 1_000,
                    fired_at: Some(2_000),
                    resolved_at,
                    annotations: Default::default(),
                    value: 1.0,
                }],
            }],
        }
    }

    #[test]
    fn after_the_faults_an_alert_still_firing_at_the_end_fails_and_a_resolved_one_does_not() {
        let steady = SteadyState {
            client: Vec::new(),
            promql: Vec::new(),
            alerts: vec![AlertExpectation {
                alert: "Errors".into(),
                when: When::StaysInactive,
                labels: Default::default(),
                annotations: Vec::new(),
                receiver: None,
                source: "s.yaml:3:5".into(),
            }],
            quiet: Some("s.yaml:4:5".into()),
            first_fault: 1,
            last_fault: 1,
            source: "s.yaml:2:3".into(),
        };
        let outcomes = |resolved_at| -> Vec<(String, CheckOutcome)> {
            alerts(
                &steady,
                &timeline(resolved_at),
                at_end(9_000),
                &scope(false),
            )
            .into_iter()
            .map(|v| (v.check, v.outcome))
            .collect()
        };
        let firing = outcomes(None);
        assert_eq!(firing.len(), 2);
        assert!(
            firing.iter().all(|(_, o)| *o == CheckOutcome::Fail),
            "{firing:?}"
        );
        assert_eq!(firing[1].0, "no alert fires");
        // Resolved during the recovery, before the run's last millisecond.
        let resolved = outcomes(Some(8_999));
        assert!(
            resolved.iter().all(|(_, o)| *o == CheckOutcome::Pass),
            "{resolved:?}"
        );
        let at_the_end = outcomes(Some(9_001));
        assert!(
            at_the_end.iter().all(|(_, o)| *o == CheckOutcome::Fail),
            "{at_the_end:?}"
        );
    }
}
