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
    /// Rebuilds a timeline from the raw samples of `ALERTS` and
    /// `ALERTS_FOR_STATE` as a real Prometheus stores them: one sample per
    /// evaluation of the rule's group while the alert is active, stamped
    /// with that evaluation's time. `interval_of(alertname)` is the group's
    /// evaluation interval (ms); `evaluated_until` is the group's last
    /// evaluation (ms), when known.
    ///
    /// An episode's samples are one interval apart; a longer gap (more
    /// than 1.5 intervals: an evaluation without the alert) splits
    /// episodes. Pending start = its first sample, or `ALERTS_FOR_STATE`'s
    /// value (the alert's `activeAt`) when that is earlier by a second or
    /// more; fired = its first `firing`
    /// sample; resolved = the evaluation after its last sample (last +
    /// interval), if the group has evaluated past it (else still active).
    pub fn from_samples(
        alerts: &[crate::promql::Series],
        for_state: &[crate::promql::Series],
        interval_of: &dyn Fn(&str) -> (i64, Option<i64>),
        source: &str,
    ) -> AlertTimeline {
        use std::collections::BTreeMap as Map;
        // Per alert label set: per evaluation time, its state.
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
            let at = states.entry(labels).or_default();
            for p in series.points.iter().filter(|p| !p.v.is_nan()) {
                let slot = at.entry(p.t).or_insert(state);
                if state == State::Firing {
                    *slot = State::Firing;
                }
            }
        }
        let active_since: Map<Labels, &crate::promql::Series> = for_state
            .iter()
            .map(|s| (s.labels.without_name(), s))
            .collect();
        let mut timeline = AlertTimeline::default();
        for (labels, samples) in states {
            let name = labels.get("alertname").unwrap_or("");
            let (interval, evaluated_until) = interval_of(name);
            let interval = interval.max(1);
            // `activeAt` as ALERTS_FOR_STATE holds it during [first, last]:
            // whole seconds (Prometheus stores `ActiveAt.Unix()`), so the
            // first sample, the evaluation that found the alert active, is
            // the exact time unless the alert was active before it (state
            // restored, or activity before the window read).
            let active_at = |first: i64, last: i64| {
                active_since
                    .get(&labels)
                    .and_then(|s| s.points.iter().find(|p| p.t >= first && p.t <= last))
                    .filter(|p| p.v.is_finite())
                    .map(|p| (p.v * 1000.0).round() as i64)
                    .filter(|&t| first - t >= 1000)
                    .unwrap_or(first)
            };
            let history = AlertHistory {
                name: name.to_string(),
                labels: labels.clone(),
                source: source.to_string(),
                episodes: Vec::new(),
            };
            let mut episodes: Vec<Episode> = Vec::new();
            // (first sample, last sample, first firing sample) per episode.
            let mut spans: Vec<(i64, i64, Option<i64>)> = Vec::new();
            for (&t, &state) in &samples {
                match spans.last_mut() {
                    Some(span) if t - span.1 <= interval + interval / 2 => {
                        span.1 = t;
                        if state == State::Firing && span.2.is_none() {
                            span.2 = Some(t);
                        }
                    }
                    _ => spans.push((t, t, (state == State::Firing).then_some(t))),
                }
            }
            for (first, last, fired) in spans {
                let resolved = last + interval;
                episodes.push(Episode {
                    pending_at: active_at(first, last),
                    fired_at: fired,
                    resolved_at: evaluated_until
                        .is_some_and(|until| until >= resolved)
                        .then_some(resolved),
                    annotations: BTreeMap::new(),
                    value: f64::NAN,
                });
            }
            timeline.alerts.push(AlertHistory {
                episodes,
                ..history
            });
        }
        timeline
            .alerts
            .sort_by(|a, b| (a.name.as_str(), &a.labels).cmp(&(b.name.as_str(), &b.labels)));
        timeline
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promql::{Point, Series};

    const S: i64 = 15_000;

    fn series(name: &str, state: Option<&str>, points: &[(i64, f64)]) -> Series {
        let mut labels = vec![
            ("__name__".to_string(), name.to_string()),
            ("alertname".to_string(), "Errors".to_string()),
        ];
        if let Some(state) = state {
            labels.push(("alertstate".to_string(), state.to_string()));
        }
        Series {
            labels: Labels::new(labels),
            points: points.iter().map(|&(t, v)| Point { t, v }).collect(),
        }
    }

    fn at(times: &[i64]) -> Vec<(i64, f64)> {
        times.iter().map(|&t| (t, 1.0)).collect()
    }

    fn episodes(alerts: &[Series], for_state: &[Series], until: Option<i64>) -> Vec<Episode> {
        let timeline = AlertTimeline::from_samples(alerts, for_state, &|_| (S, until), "p");
        assert_eq!(timeline.alerts.len(), 1);
        assert_eq!(timeline.alerts[0].name, "Errors");
        timeline.alerts[0].episodes.clone()
    }

    fn episode(pending: i64, fired: Option<i64>, resolved: Option<i64>) -> Episode {
        Episode {
            pending_at: pending,
            fired_at: fired,
            resolved_at: resolved,
            annotations: BTreeMap::new(),
            value: f64::NAN,
        }
    }

    fn same(got: &[Episode], want: &[Episode]) {
        let key = |e: &Episode| (e.pending_at, e.fired_at, e.resolved_at);
        assert_eq!(
            got.iter().map(key).collect::<Vec<_>>(),
            want.iter().map(key).collect::<Vec<_>>()
        );
    }

    #[test]
    fn pending_firing_resolved_at_evaluation_timestamps() {
        // Active from the evaluation at 100.5 s (activeAt 100, whole seconds), `for: 15s`:
        // firing from 115.5 s, last active at 145.5 s, resolved at 160.5 s.
        let t0 = 100_500;
        let alerts = [
            series("ALERTS", Some("pending"), &at(&[t0])),
            series(
                "ALERTS",
                Some("firing"),
                &at(&[t0 + S, t0 + 2 * S, t0 + 3 * S]),
            ),
        ];
        let for_state = [series(
            "ALERTS_FOR_STATE",
            None,
            &[t0, t0 + S, t0 + 2 * S, t0 + 3 * S].map(|t| (t, 100.0)),
        )];
        let got = episodes(&alerts, &for_state, Some(t0 + 10 * S));
        same(&got, &[episode(t0, Some(t0 + S), Some(t0 + 4 * S))]);
    }

    #[test]
    fn two_episodes_split_at_a_missing_evaluation() {
        let t0 = 10_000;
        let alerts = [
            series("ALERTS", Some("pending"), &at(&[t0, t0 + 4 * S])),
            series(
                "ALERTS",
                Some("firing"),
                &at(&[t0 + S, t0 + 5 * S, t0 + 6 * S]),
            ),
        ];
        // activeAt differs per episode (whole seconds are what it holds).
        let for_state = [series(
            "ALERTS_FOR_STATE",
            None,
            &[
                (t0, 10.0),
                (t0 + S, 10.0),
                (t0 + 4 * S, 70.0),
                (t0 + 5 * S, 70.0),
            ],
        )];
        let got = episodes(&alerts, &for_state, Some(t0 + 20 * S));
        same(
            &got,
            &[
                episode(t0, Some(t0 + S), Some(t0 + 2 * S)),
                episode(t0 + 4 * S, Some(t0 + 5 * S), Some(t0 + 7 * S)),
            ],
        );
    }

    #[test]
    fn still_firing_when_the_group_has_not_evaluated_past_it() {
        let t0 = 30_000;
        let alerts = [
            series("ALERTS", Some("pending"), &at(&[t0])),
            series("ALERTS", Some("firing"), &at(&[t0 + S, t0 + 2 * S])),
        ];
        // The group's last evaluation is the alert's last sample.
        let got = episodes(&alerts, &[], Some(t0 + 2 * S));
        same(&got, &[episode(t0, Some(t0 + S), None)]);
        // Nothing known about the group: not resolved either.
        same(
            &episodes(&alerts, &[], None),
            &[episode(t0, Some(t0 + S), None)],
        );
    }

    #[test]
    fn only_pending_then_gone() {
        let t0 = 45_000;
        let alerts = [series("ALERTS", Some("pending"), &at(&[t0, t0 + S]))];
        let for_state = [series("ALERTS_FOR_STATE", None, &[(t0, 44.0)])];
        // activeAt 44 s: before the first sample at 45 s (a sample taken
        // within the group's evaluation), kept.
        let got = episodes(&alerts, &for_state, Some(t0 + 5 * S));
        same(&got, &[episode(44_000, None, Some(t0 + 2 * S))]);
    }
}
