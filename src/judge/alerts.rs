//! A scenario's alert expectations judged over its run: each phase's
//! window in wall-clock time, the expected detection time of a fault phase,
//! selectors that match nothing, and whether a firing reached the
//! Alertmanager.

use std::time::Duration;

use crate::backend::QueryBackend;
use crate::backend::receiver::{Received, Receiver};
use crate::expect::alert::{self, Context as AlertContext, Window};
use crate::expect::notify;
use crate::expect::{AlertExpectation, CheckOutcome, Verdict, When};
use crate::record::RunResults;
use crate::rules::run::RunAlerts;
use crate::scenario::Scenario;

/// Each phase that ran with its alert expectations and window, then the
/// run's with the whole run (`None`: the phase did not run).
fn windows<'a>(
    scenario: &'a Scenario,
    results: &RunResults,
) -> Vec<(String, &'a [AlertExpectation], Option<Window>)> {
    let ms = |offset: Duration| crate::metrics::scrape::system_ms(results.started_at + offset);
    let run_end = ms(results.elapsed);
    let mut out: Vec<_> = scenario
        .phases
        .iter()
        .enumerate()
        .map(|(index, phase)| {
            let window = results.phases.get(index).map(|ran| Window {
                start: ms(ran.start_offset),
                end: ms(ran.start_offset + ran.elapsed),
                run_end,
            });
            (format!("phase {}", phase.name), &phase.alerts[..], window)
        })
        .collect();
    out.push(("run".into(), &scenario.alerts[..], Some(whole(results))));
    out
}

fn whole(results: &RunResults) -> Window {
    let ms = |offset: Duration| crate::metrics::scrape::system_ms(results.started_at + offset);
    Window {
        start: ms(Duration::ZERO),
        end: ms(results.elapsed),
        run_end: ms(results.elapsed),
    }
}

/// Judges every alert expectation of `scenario` (phases', then the run's,
/// then `no_other_alerts`, the groupings and `no_other_notifications`)
/// against the alerts of its run.
pub(crate) fn judge_run(
    scenario: &Scenario,
    results: &RunResults,
    alerts: &RunAlerts,
    backend: &dyn QueryBackend,
) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    let received = alerts.received.as_ref();
    for (index, (scope, expectations, window)) in windows(scenario, results).into_iter().enumerate()
    {
        for e in expectations {
            let Some(window) = window else {
                verdicts.push(never_ran(e, scope.clone()));
                continue;
            };
            let fault = results
                .phases
                .get(index)
                .map(|ran| fault_seen(scenario, ran));
            let context = context(scenario, e, backend, window, fault, alerts);
            let mut verdict = alert::judge(
                e,
                &alerts.timeline,
                received,
                window,
                scope.clone(),
                &context,
            );
            // Rules evaluated over truncated data may have missed a firing.
            verdict.mark_truncated(&backend.losses(window.start, window.end), window.start);
            verdicts.push(verdict);
            verdicts.extend(at_alertmanager(e, alerts, window, &scope));
        }
    }
    let whole = whole(results);
    // The hypothesis's alert checks again, at the run's end, once the
    // phases after the last fault ran (those before it were judged as the
    // run went): the alerts the faults raised must have resolved by then.
    if let Some(steady) = &scenario.steady_state
        && results.phases.len() > steady.last_fault + 1
    {
        for mut verdict in crate::judge::steady::alerts(
            steady,
            &alerts.timeline,
            crate::judge::steady::at_end(whole.end),
            &crate::judge::steady::scope(false),
        ) {
            verdict.mark_truncated(&backend.losses(whole.start, whole.end), whole.start);
            verdicts.push(verdict);
        }
    }
    let every = || {
        scenario
            .alerts
            .iter()
            .chain(scenario.phases.iter().flat_map(|p| &p.alerts))
    };
    if let Some(source) = &scenario.no_other_alerts {
        let mut names: Vec<&str> = every()
            .filter(|e| !matches!(e.when, When::Notified { .. }))
            .map(|e| e.alert.as_str())
            .collect();
        names.sort();
        names.dedup();
        let mut verdict = alert::no_other_alerts(&alerts.timeline, &names, whole, source);
        verdict.mark_truncated(&backend.losses(whole.start, whole.end), whole.start);
        verdicts.push(verdict);
    }
    for grouping in &scenario.groupings {
        verdicts.push(notify::grouped(grouping, received, whole));
    }
    if let Some(source) = &scenario.no_other_notifications {
        let mut expected: Vec<(&str, &str)> = every()
            .filter(|e| matches!(e.when, When::Notified { .. }))
            .filter_map(|e| Some((e.receiver.as_deref()?, e.alert.as_str())))
            .chain(scenario.groupings.iter().flat_map(|g| {
                g.alerts
                    .iter()
                    .map(move |a| (g.receiver.as_str(), a.as_str()))
            }))
            .collect();
        expected.sort_unstable();
        expected.dedup();
        verdicts.push(notify::no_other_notifications(
            &expected, received, whole, source,
        ));
    }
    for (error, count) in &alerts.errors {
        crate::events::say(&format!(
            "warning: rule {} ({}) failed at {count} evaluation(s): {}",
            error.rule, error.source, error.message
        ));
    }
    verdicts
}

/// After the run, waits at `receiver` for the notifications still due:
/// those of alerts that fired (or resolved) whose `within` has not run
/// out. Returns everything it got.
pub(crate) fn await_notifications(
    scenario: &Scenario,
    results: &RunResults,
    timeline: &crate::rules::AlertTimeline,
    receiver: Receiver,
) -> Received {
    let now = || crate::metrics::scrape::system_ms(std::time::SystemTime::now());
    let due = |received: &Received| -> Option<i64> {
        windows(scenario, results)
            .into_iter()
            .filter_map(|(_, expectations, window)| Some((expectations, window?)))
            .flat_map(|(expectations, window)| {
                expectations
                    .iter()
                    .filter_map(move |e| notify::waiting_until(e, timeline, received, window))
            })
            .max()
    };
    let started = now();
    // Bounded twice: by the longest `within` from now, and by the
    // deadlines, which only shrink as notifications arrive.
    let bound = started + notify::MAX_WITHIN.as_millis() as i64;
    let mut told = false;
    loop {
        let received = receiver.snapshot();
        let Some(deadline) = due(&received).filter(|d| *d > now()) else {
            break;
        };
        if !told && deadline - now() > 1000 {
            crate::events::say(&format!(
                "waiting up to {}s for notifications at the webhook receiver",
                (deadline.min(bound) - now() + 999) / 1000
            ));
            told = true;
        }
        if now() >= bound {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    receiver.stop()
}

/// What phase `ran` of `scenario` showed the client, for the estimates.
pub(super) fn fault_seen(
    scenario: &Scenario,
    ran: &crate::record::PhaseResults,
) -> crate::rules::estimate::FaultSeen {
    let failures = crate::expect::failures(&ran.total.unpack(), None) as f64;
    crate::rules::estimate::FaultSeen {
        error_ratio: failures / ran.total.requests.max(1) as f64,
        errors_per_s: failures / ran.elapsed.as_secs_f64().max(1e-3),
        scrape_interval: scenario
            .metrics
            .as_ref()
            .map_or(Duration::from_secs(1), |m| m.default_step()),
    }
}

/// The expected detection time (for a fault phase) and, for an alert
/// that must fire, the selectors that match nothing.
fn context(
    scenario: &Scenario,
    e: &AlertExpectation,
    backend: &dyn QueryBackend,
    window: Window,
    fault: Option<crate::rules::estimate::FaultSeen>,
    alerts: &RunAlerts,
) -> AlertContext {
    let mut context = AlertContext {
        annotations_unknown: alerts.without_annotations,
        ..AlertContext::default()
    };
    if !matches!(e.when, When::Fires { .. }) {
        return context;
    }
    if let Some(fault) = fault.filter(|f| f.error_ratio > 0.0) {
        context.expected = crate::rules::estimate::detection(&scenario.rules, &e.alert, &fault);
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
