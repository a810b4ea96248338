//! The alert timeline: for each alert (rule and label set), the episodes
//! in which it was active: when it went pending, when it fired, when it
//! resolved. Built from the embedded rule evaluation or rebuilt from a
//! real Prometheus's `ALERTS` series; what alert expectations judge and
//! what reports draw.

use std::collections::BTreeMap;

use serde::Serialize;

use super::alert::{State, Transition};
use crate::metrics::store::Labels;

#[derive(Debug, Clone, Default, Serialize)]
pub struct AlertTimeline {
    /// Sorted by alert name, then labels.
    pub alerts: Vec<AlertHistory>,
}

/// One alert's episodes.
#[derive(Debug, Clone, Serialize)]
pub struct AlertHistory {
    pub name: String,
    /// Including `alertname`.
    #[serde(serialize_with = "labels_map")]
    pub labels: Labels,
    /// The rule's `file:line:col`, or the Prometheus it was read from.
    pub source: String,
    pub episodes: Vec<Episode>,
}

/// From pending to resolved (or to the end of the run).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Episode {
    /// ms since the epoch.
    pub pending_at: i64,
    pub fired_at: Option<i64>,
    /// When it left the active state (resolved, or a pending alert's
    /// expression stopped holding); None: still active at the end.
    pub resolved_at: Option<i64>,
    /// As last expanded.
    pub annotations: BTreeMap<String, String>,
    /// The expression's value when it fired (or last, if it never did).
    pub value: f64,
}

fn labels_map<S: serde::Serializer>(labels: &Labels, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(labels.len()))?;
    for (k, v) in labels.iter() {
        map.serialize_entry(k, v)?;
    }
    map.end()
}

impl AlertTimeline {
    /// Applies one transition of the rule at `source`.
    pub fn record(&mut self, source: &str, transition: &Transition) {
        let name = transition.labels.get("alertname").unwrap_or("").to_string();
        let key = (name.as_str(), &transition.labels);
        let index = match self
            .alerts
            .binary_search_by(|a| (a.name.as_str(), &a.labels).cmp(&key))
        {
            Ok(i) => i,
            Err(i) => {
                self.alerts.insert(
                    i,
                    AlertHistory {
                        name: name.clone(),
                        labels: transition.labels.clone(),
                        source: source.to_string(),
                        episodes: Vec::new(),
                    },
                );
                i
            }
        };
        let episodes = &mut self.alerts[index].episodes;
        match transition.to {
            State::Pending => episodes.push(Episode {
                pending_at: transition.t,
                fired_at: None,
                resolved_at: None,
                annotations: transition.annotations.clone(),
                value: transition.value,
            }),
            State::Firing => {
                if let Some(open) = episodes.last_mut().filter(|e| e.resolved_at.is_none()) {
                    open.fired_at = Some(transition.t);
                    open.value = transition.value;
                    open.annotations = transition.annotations.clone();
                }
            }
            State::Inactive => {
                if let Some(open) = episodes.last_mut().filter(|e| e.resolved_at.is_none()) {
                    open.resolved_at = Some(transition.t);
                    if open.fired_at.is_none() {
                        open.value = transition.value;
                    }
                }
            }
        }
    }

    /// The histories of alerts named `name`.
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a AlertHistory> + 'a {
        self.alerts.iter().filter(move |a| a.name == name)
    }
}

impl Episode {
    /// Whether it was firing at some time in `[from, to)`.
    pub fn fired_within(&self, from: i64, to: i64) -> bool {
        self.fired_at
            .is_some_and(|fired| fired < to && self.resolved_at.is_none_or(|r| r > from))
    }

    /// Whether it was pending or firing at some time in `[from, to)`.
    pub fn active_within(&self, from: i64, to: i64) -> bool {
        self.pending_at < to && self.resolved_at.is_none_or(|r| r > from)
    }
}

impl AlertTimeline {
    /// Rebuilds a timeline from range queries of `ALERTS` and
    /// `ALERTS_FOR_STATE` (as a real Prometheus answers them), sampled
    /// every `step` ms over the run: an alert is pending or firing at the
    /// steps where its series has a value. Times are those of the steps,
    /// except the pending start, which `ALERTS_FOR_STATE` gives exactly
    /// (to the second). `end` is the range's last step.
    pub fn from_series(
        alerts: &[crate::promql::Series],
        for_state: &[crate::promql::Series],
        step: i64,
        end: i64,
        source: &str,
    ) -> AlertTimeline {
        use std::collections::BTreeMap as Map;
        // Per alert label set: per step, its state.
        let mut states: Map<Labels, Map<i64, State>> = Map::new();
        for series in alerts {
            let state = match series.labels.get("alertstate") {
                Some("firing") => State::Firing,
                Some("pending") => State::Pending,
                _ => continue,
            };
            let labels = series
                .labels
                .filter(|n| n != crate::metrics::store::NAME && n != "alertstate");
            let steps = states.entry(labels).or_default();
            for p in &series.points {
                let at = steps.entry(p.t).or_insert(state);
                if state == State::Firing {
                    *at = State::Firing;
                }
            }
        }
        let active_since: Map<Labels, &crate::promql::Series> = for_state
            .iter()
            .map(|s| (s.labels.without_name(), s))
            .collect();
        let mut timeline = AlertTimeline::default();
        for (labels, steps) in states {
            let mut previous: Option<(i64, State)> = None;
            let pending_at = |t: i64| {
                active_since
                    .get(&labels)
                    .and_then(|s| s.points.iter().find(|p| p.t == t))
                    .map_or(t, |p| (p.v * 1000.0) as i64)
            };
            let mut emit = |to: State, t: i64| {
                timeline.record(
                    source,
                    &Transition {
                        labels: labels.clone(),
                        to,
                        t,
                        value: f64::NAN,
                        annotations: BTreeMap::new(),
                    },
                );
            };
            for (&t, &state) in &steps {
                // A gap of more than one step: the alert was inactive between.
                if let Some((last, _)) = previous
                    && t - last > step
                {
                    emit(State::Inactive, last + step);
                    previous = None;
                }
                match (previous.map(|p| p.1), state) {
                    (None, State::Pending) => emit(State::Pending, pending_at(t)),
                    (None, State::Firing) => {
                        emit(State::Pending, pending_at(t));
                        emit(State::Firing, t);
                    }
                    (Some(State::Pending), State::Firing) => emit(State::Firing, t),
                    (Some(State::Firing), State::Pending) => {
                        emit(State::Inactive, t);
                        emit(State::Pending, pending_at(t));
                    }
                    _ => {}
                }
                previous = Some((t, state));
            }
            if let Some((last, _)) = previous
                && last < end
            {
                emit(State::Inactive, last + step);
            }
        }
        timeline
    }
}
