//! `judge: both`: the scenario's Prometheus judges, and slogate evaluates
//! the same rules over its own scrapes of the same run; the two alert
//! timelines side by side, first firing and resolve of each alert, show
//! what the Prometheus's scrape and evaluation intervals cost in detection
//! time (slogate's 1 s evaluation fires earlier than a 15 s Prometheus).

use serde::Serialize;

use crate::rules::AlertTimeline;

/// One alert (label set) as each evaluator saw it first: ms since the
/// epoch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Difference {
    pub alert: String,
    pub labels: String,
    pub prometheus_fired: Option<i64>,
    pub in_process_fired: Option<i64>,
    pub prometheus_resolved: Option<i64>,
    pub in_process_resolved: Option<i64>,
}

/// Every alert that fired on either side, matched by its labels.
pub(crate) fn compare(prometheus: &AlertTimeline, in_process: &AlertTimeline) -> Vec<Difference> {
    let first = |t: &AlertTimeline, labels: &crate::metrics::store::Labels| {
        let history = t.alerts.iter().find(|h| h.labels == *labels)?;
        let episode = history.episodes.iter().find(|ep| ep.fired_at.is_some())?;
        Some((episode.fired_at, episode.resolved_at))
    };
    let mut out: Vec<Difference> = Vec::new();
    for history in prometheus.alerts.iter().chain(&in_process.alerts) {
        let labels = history.labels.to_string();
        if out.iter().any(|d| d.labels == labels) {
            continue;
        }
        let theirs = first(prometheus, &history.labels);
        let ours = first(in_process, &history.labels);
        if theirs.is_none() && ours.is_none() {
            continue;
        }
        out.push(Difference {
            alert: history.name.clone(),
            labels,
            prometheus_fired: theirs.and_then(|t| t.0),
            in_process_fired: ours.and_then(|t| t.0),
            prometheus_resolved: theirs.and_then(|t| t.1),
            in_process_resolved: ours.and_then(|t| t.1),
        });
    }
    out
}

impl Difference {
    /// `HighErrorRate fired at +9.7s in process, +16.2s by Prometheus (6.5s later)`.
    pub(crate) fn line(&self, origin: i64) -> String {
        let at = |t: Option<i64>| {
            t.map_or_else(
                || "never".to_string(),
                |t| format!("+{:.1}s", (t - origin) as f64 / 1000.0),
            )
        };
        let apart = |ours: Option<i64>, theirs: Option<i64>| match (ours, theirs) {
            (Some(a), Some(b)) if b >= a => {
                format!(" (Prometheus {:.1}s later)", (b - a) as f64 / 1000.0)
            }
            (Some(a), Some(b)) => format!(" (Prometheus {:.1}s earlier)", (a - b) as f64 / 1000.0),
            _ => String::new(),
        };
        format!(
            "{} {}: fired {} in process, {} by Prometheus{}; resolved {} in process, {} by Prometheus{}",
            self.alert,
            self.labels,
            at(self.in_process_fired),
            at(self.prometheus_fired),
            apart(self.in_process_fired, self.prometheus_fired),
            at(self.in_process_resolved),
            at(self.prometheus_resolved),
            apart(self.in_process_resolved, self.prometheus_resolved),
        )
    }
}
