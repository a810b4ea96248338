//! The detection report of a game day: per fault window, how long each
//! alert took from the fault's start to pending, firing and its first
//! notification at the receiver, and from the fault's end to resolved and
//! the resolved notification — beside what the rule could do at best
//! where that can be worked out, and which alerts never fired.

use std::time::Duration;

use crate::gameday::{FaultChange, ProxyWindow, demo_windows};
use crate::record::RunResults;
use crate::report::run::detection::DetectionRow;
use crate::rules::run::RunAlerts;
use crate::scenario::Scenario;

/// A fault window in ms since the epoch.
struct Span {
    fault: String,
    phase: String,
    start: i64,
    end: i64,
}

fn spans(proxy: &[ProxyWindow], demo: &[FaultChange], run_end: i64) -> Vec<Span> {
    let ms = crate::metrics::scrape::system_ms;
    let mut spans: Vec<Span> = proxy
        .iter()
        .map(|w| Span {
            fault: format!("proxy {}: {}", w.proxy, w.describe),
            phase: w.phase.clone(),
            start: ms(w.start),
            end: ms(w.end),
        })
        .chain(demo_windows(demo, run_end).into_iter().map(|w| Span {
            fault: format!("demo {}: {}", w.demo, w.describe),
            phase: w.phase,
            start: w.start_ms,
            end: w.end_ms,
        }))
        .collect();
    spans.sort_by_key(|s| s.start);
    spans
}

/// The rows of a run: for each fault window, every alert a `fires`
/// expectation of its phase names (fired or not), and every other alert
/// that fired while it was in effect.
pub(crate) fn detect(
    scenario: &Scenario,
    results: &RunResults,
    alerts: &RunAlerts,
    proxy: &[ProxyWindow],
    demo: &[FaultChange],
) -> Vec<DetectionRow> {
    let ms = |offset: Duration| crate::metrics::scrape::system_ms(results.started_at + offset);
    let origin = ms(Duration::ZERO);
    let run_end = ms(results.elapsed);
    let secs = |from: i64, t: i64| (t - from) as f64 / 1000.0;
    let mut rows = Vec::new();
    for span in spans(proxy, demo, run_end) {
        let index = scenario.phases.iter().position(|p| p.name == span.phase);
        let mut names: Vec<String> = Vec::new();
        for e in index
            .map(|i| &scenario.phases[i].alerts)
            .into_iter()
            .flatten()
        {
            if matches!(e.when, crate::expect::When::Fires { .. }) && !names.contains(&e.alert) {
                names.push(e.alert.clone());
            }
        }
        for history in &alerts.timeline.alerts {
            let fired_in = history.episodes.iter().any(|ep| {
                ep.fired_at
                    .is_some_and(|f| f >= span.start && f <= span.end)
            });
            if fired_in && !names.contains(&history.name) {
                names.push(history.name.clone());
            }
        }
        let fault_seen = index
            .and_then(|i| results.phases.get(i))
            .map(|ran| super::alerts::fault_seen(scenario, ran));
        for name in names {
            // The episode the fault caused: the first still active at its
            // start or begun while it was in effect.
            let episode = alerts
                .timeline
                .named(&name)
                .flat_map(|h| &h.episodes)
                .filter(|ep| {
                    ep.fired_at.is_some()
                        && ep.pending_at <= span.end
                        && ep.resolved_at.is_none_or(|r| r > span.start)
                })
                .min_by_key(|ep| ep.pending_at);
            let received = alerts.received.as_ref();
            let notified = |status: &str, since: i64| {
                received
                    .into_iter()
                    .flat_map(|r| &r.notifications)
                    .filter(|n| n.at >= since && n.alerts_named(&name, status).next().is_some())
                    .map(|n| n.at)
                    .min()
            };
            let best = fault_seen
                .filter(|f| f.error_ratio > 0.0)
                .and_then(|f| crate::rules::estimate::detection(&scenario.rules, &name, &f));
            rows.push(DetectionRow {
                fault: span.fault.clone(),
                phase: span.phase.clone(),
                fault_start_s: secs(origin, span.start),
                fault_end_s: secs(origin, span.end),
                alert: name.clone(),
                pending_s: episode.map(|ep| secs(span.start, ep.pending_at)),
                fired_s: episode
                    .and_then(|ep| ep.fired_at)
                    .map(|f| secs(span.start, f)),
                notified_s: episode
                    .and_then(|ep| notified("firing", ep.pending_at))
                    .map(|t| secs(span.start, t)),
                resolved_s: episode
                    .and_then(|ep| ep.resolved_at)
                    .map(|r| secs(span.end, r)),
                resolved_notified_s: episode
                    .and_then(|ep| notified("resolved", ep.fired_at?))
                    .map(|t| secs(span.end, t)),
                best_s: best.as_ref().map(|(t, _)| *t).filter(|t| t.is_finite()),
                best: best.map(|(_, how)| how),
                receiver: received.is_some(),
            });
        }
    }
    rows
}
