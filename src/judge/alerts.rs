//! A scenario's alert expectations judged over its run: each phase's
//! window in wall-clock time, the expected detection time of a fault phase,
//! selectors that match nothing, and whether a firing reached the
//! Alertmanager.

use std::time::Duration;

use crate::backend::QueryBackend;
use crate::expect::alert::{self, Context as AlertContext, Window};
use crate::expect::{AlertExpectation, CheckOutcome, Verdict, When};
use crate::record::RunResults;
use crate::rules::run::RunAlerts;
use crate::scenario::Scenario;

/// Judges every alert expectation of `scenario` (phases', then the run's,
/// then `no_other_alerts`) against the alerts of its run.
pub(crate) fn judge_run(
    scenario: &Scenario,
    results: &RunResults,
    alerts: &RunAlerts,
    backend: &dyn QueryBackend,
) -> Vec<Verdict> {
    let ms = |offset: Duration| crate::metrics::scrape::system_ms(results.started_at + offset);
    let run_end = ms(results.elapsed);
    let mut verdicts = Vec::new();
    for (index, phase) in scenario.phases.iter().enumerate() {
        let scope = format!("phase {}", phase.name);
        for e in &phase.alerts {
            let Some(ran) = results.phases.get(index) else {
                verdicts.push(never_ran(e, scope.clone()));
                continue;
            };
            let window = Window {
                start: ms(ran.start_offset),
                end: ms(ran.start_offset + ran.elapsed),
                run_end,
            };
            let error_ratio = crate::expect::failures(&ran.total.unpack(), None) as f64
                / ran.total.requests.max(1) as f64;
            let context = context(scenario, e, backend, window, Some(error_ratio), alerts);
            let mut verdict = alert::judge(e, &alerts.timeline, window, scope.clone(), &context);
            // Rules evaluated over truncated data may have missed a firing.
            verdict.mark_truncated(&backend.losses(window.start, window.end), window.start);
            verdicts.push(verdict);
            verdicts.extend(at_alertmanager(e, alerts, window, &scope));
        }
    }
    let whole = Window {
        start: ms(Duration::ZERO),
        end: run_end,
        run_end,
    };
    for e in &scenario.alerts {
        let context = context(scenario, e, backend, whole, None, alerts);
        let mut verdict = alert::judge(e, &alerts.timeline, whole, "run".into(), &context);
        verdict.mark_truncated(&backend.losses(whole.start, whole.end), whole.start);
        verdicts.push(verdict);
        verdicts.extend(at_alertmanager(e, alerts, whole, "run"));
    }
    if let Some(source) = &scenario.no_other_alerts {
        let mut names: Vec<&str> = scenario
            .alerts
            .iter()
            .chain(scenario.phases.iter().flat_map(|p| &p.alerts))
            .map(|e| e.alert.as_str())
            .collect();
        names.sort();
        names.dedup();
        let mut verdict = alert::no_other_alerts(&alerts.timeline, &names, whole, source);
        verdict.mark_truncated(&backend.losses(whole.start, whole.end), whole.start);
        verdicts.push(verdict);
    }
    for (error, count) in &alerts.errors {
        eprintln!(
            "warning: rule {} ({}) failed at {count} evaluation(s): {}",
            error.rule, error.source, error.message
        );
    }
    verdicts
}

/// The expected detection time (for a fault phase) and, for an alert
/// that must fire, the selectors that match nothing.
fn context(
    scenario: &Scenario,
    e: &AlertExpectation,
    backend: &dyn QueryBackend,
    window: Window,
    error_ratio: Option<f64>,
    alerts: &RunAlerts,
) -> AlertContext {
    let mut context = AlertContext {
        annotations_unknown: alerts.without_annotations,
        ..AlertContext::default()
    };
    if !matches!(e.when, When::Fires { .. }) {
        return context;
    }
    if let Some(r) = error_ratio.filter(|r| *r > 0.0) {
        context.expected = crate::rules::estimate::detection(&scenario.rules, &e.alert, r);
    }
    if let Some(expr) = crate::rules::estimate::alert_expr(&scenario.rules, &e.alert) {
        let seconds = ((window.run_end - window.start) / 1000).max(1) + 60;
        let empty: Vec<String> = crate::rules::estimate::selectors(&scenario.rules, &expr)
            .into_iter()
            .filter(|s| {
                let probe = format!("count(last_over_time({s}[{seconds}s]))");
                backend
                    .instant(&probe, window.run_end)
                    .is_ok_and(|answer| answer.is_empty())
            })
            .collect();
        if !empty.is_empty() {
            context.hint = Some(format!(
                "the selector{} `{}` match{} no series in the data (a typo in a metric or label name?)",
                if empty.len() > 1 { "s" } else { "" },
                empty.join("`, `"),
                if empty.len() > 1 { "" } else { "es" }
            ));
        }
    }
    context
}

/// For an alert that must fire, with an Alertmanager watched: whether it
/// got there.
fn at_alertmanager(
    e: &AlertExpectation,
    alerts: &RunAlerts,
    window: Window,
    scope: &str,
) -> Option<Verdict> {
    let watched = alerts.alertmanager.as_ref()?;
    matches!(e.when, When::Fires { .. })
        .then(|| alert::reached_alertmanager(e, watched, window, scope.to_string()))
}

fn never_ran(e: &AlertExpectation, scope: String) -> Verdict {
    Verdict {
        check: e.describe(),
        scope,
        measured: None,
        measured_text: "no data (the phase did not run)".into(),
        wanted: String::new(),
        outcome: CheckOutcome::NoData,
        optional: false,
        source: e.source.clone(),
        truncated: false,
    }
}
