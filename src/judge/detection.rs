//! The detection report of a game day: per fault window, how long each
//! alert took from the fault's start to pending, firing and its first
//! notification at the receiver, and from the fault's end to resolved and
//! the resolved notification — beside what the rule could do at best
//! where that can be worked out, and which alerts never fired.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::gameday::{FaultChange, ProxyWindow, demo_windows};
use crate::record::RunResults;
use crate::rules::run::RunAlerts;
use crate::scenario::Scenario;

/// One alert against one fault window; times in seconds (`*_s` from the
/// fault's start, `resolved*_s` from its end).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DetectionRow {
    /// `proxy db: abort 503 25%` or `demo api: error_ratio 20%`.
    pub fault: String,
    pub phase: String,
    /// The window, seconds from the run's start.
    pub fault_start_s: f64,
    pub fault_end_s: f64,
    pub alert: String,
    pub pending_s: Option<f64>,
    pub fired_s: Option<f64>,
    pub notified_s: Option<f64>,
    pub resolved_s: Option<f64>,
    pub resolved_notified_s: Option<f64>,
    /// The soonest the rule could fire, and how that was worked out.
    pub best_s: Option<f64>,
    pub best: Option<String>,
    /// slogate's webhook receiver ran: `paged` columns mean something.
    #[serde(default)]
    pub receiver: bool,
}

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
            .map(|ran| crate::rules::estimate::FaultSeen::of(scenario, ran));
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

/// `+8.6s`, or `never`.
pub(crate) fn when(t: Option<f64>) -> String {
    t.map_or_else(|| "never".into(), |t| format!("{t:+.1}s"))
}

/// The report's columns: heading, then each row's cells.
pub(crate) const HEADINGS: [&str; 8] = [
    "fault",
    "alert",
    "pending",
    "fired",
    "paged",
    "resolved",
    "resolve paged",
    "at best",
];

impl DetectionRow {
    /// The cells under [`HEADINGS`]; times as [`when`] writes them
    /// (`resolved`, `resolve paged`: from the fault's end).
    pub(crate) fn cells(&self) -> [String; 8] {
        let fired = self.fired_s.is_some();
        let paged = |t: Option<f64>| if self.receiver { when(t) } else { "-".into() };
        [
            self.fault.clone(),
            self.alert.clone(),
            when(self.pending_s),
            when(self.fired_s),
            paged(self.notified_s),
            if fired {
                when(self.resolved_s)
            } else {
                "-".into()
            },
            if fired {
                paged(self.resolved_notified_s)
            } else {
                "-".into()
            },
            self.best_s
                .map_or_else(|| "-".into(), |t| format!("{t:+.1}s")),
        ]
    }
}

/// One line under the table: what the times count from.
pub(crate) const LEGEND: &str = "pending, fired, paged: from the fault's start; resolved, resolve paged: from its end; paged: at slogate's webhook receiver (`-`: none ran); at best: what the rule could do (windows, `for`), where it can be worked out";
