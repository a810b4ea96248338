//! One alerting rule's state machine, as Prometheus's `AlertingRule.Eval`:
//! each label set of the expression's result is an alert; a new one is
//! pending, and fires once it has been active for `for`; one that leaves
//! the result is resolved at once, unless it was firing and
//! `keep_firing_for` keeps it firing a while longer; a pending one that
//! leaves is forgotten. The active alerts become the `ALERTS` and
//! `ALERTS_FOR_STATE` series.

use std::collections::BTreeMap;
use std::rc::Rc;

use rustc_hash::FxHashMap;

use super::template::{self, Data, Env};
use super::value::Sampled;
use crate::metrics::store::{Labels, NAME};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Inactive,
    Pending,
    Firing,
}

impl State {
    pub fn label(self) -> &'static str {
        match self {
            State::Inactive => "inactive",
            State::Pending => "pending",
            State::Firing => "firing",
        }
    }
}

/// One alert (one label set of one rule).
#[derive(Debug, Clone)]
pub struct Alert {
    /// Including `alertname` and the rule's labels.
    pub labels: Labels,
    pub annotations: BTreeMap<String, String>,
    pub state: State,
    /// The expression's value at the last evaluation that returned it.
    pub value: f64,
    /// When it became pending (ms).
    pub active_at: i64,
    pub fired_at: Option<i64>,
    pub resolved_at: Option<i64>,
    keep_firing_since: Option<i64>,
}

/// A change of an alert's state, for the timeline.
#[derive(Debug, Clone)]
pub struct Transition {
    pub labels: Labels,
    pub to: State,
    pub t: i64,
    pub value: f64,
    pub annotations: BTreeMap<String, String>,
}

/// Labels and annotations shared by every alert of a deployment.
#[derive(Debug, Clone, Default)]
pub struct External {
    pub labels: BTreeMap<String, String>,
    pub url: String,
    /// The URL the `pathPrefix` and `externalURL` template functions
    /// read (a Prometheus server's `--web.external-url`). promtool's unit
    /// tests run with none, and there those functions fail with a nil
    /// pointer error, as they do in promtool.
    pub function_url: Option<String>,
}

/// An alerting rule and its alerts.
/// Two samples of a rule's result that are one alert once the rule's
/// labels are applied: the one way an evaluation of the alerts fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("vector contains metrics with the same labelset after applying alert labels")]
pub struct DuplicateAlert;

#[derive(Debug, Clone)]
pub struct AlertingRule {
    pub name: String,
    pending_for: i64,
    keep_firing_for: i64,
    /// The rule's label and annotation templates, parsed once when the
    /// rule is built (Prometheus parses them at every expansion; the
    /// result is the same) and shared by the rule's copies.
    labels: Rc<[(String, template::Prepared)]>,
    annotations: Rc<[(String, template::Prepared)]>,
    /// By label set (without `alertname`... with it: the full set).
    active: FxHashMap<Labels, Alert>,
}

impl AlertingRule {
    pub fn new(
        name: &str,
        pending_for_ms: i64,
        keep_firing_for_ms: i64,
        labels: BTreeMap<String, String>,
        annotations: BTreeMap<String, String>,
    ) -> AlertingRule {
        let prepare = |templates: BTreeMap<String, String>| {
            templates
                .into_iter()
                .map(|(key, text)| {
                    let prepared = template::Prepared::new(name, &text);
                    (key, prepared)
                })
                .collect()
        };
        AlertingRule {
            name: name.to_string(),
            pending_for: pending_for_ms,
            keep_firing_for: keep_firing_for_ms,
            labels: prepare(labels),
            annotations: prepare(annotations),
            active: FxHashMap::default(),
        }
    }

    /// Updates the alerts from the expression's result at `t` (ms);
    /// returns the transitions. An error (two samples with the same label
    /// set once the rule's labels are applied) leaves the alerts as they
    /// were, as Prometheus does. Templates that `query` find no data.
    pub fn eval(
        &mut self,
        result: &[(Labels, f64)],
        t: i64,
        external: &External,
    ) -> Result<Vec<Transition>, DuplicateAlert> {
        let result: Vec<(Labels, Sampled)> = result
            .iter()
            .map(|(labels, v)| (labels.clone(), Sampled::Float(*v)))
            .collect();
        self.eval_with_query(&result, t, external, &template::no_query)
    }

    /// [`AlertingRule::eval`], with `query` answering the templates'
    /// `query` calls (PromQL at `t`, on the data the rule sees). A
    /// histogram sample is an alert of value 0 whose templates see the
    /// histogram as `$value`, as Prometheus's `AlertTemplateData` gives it.
    pub fn eval_with_query(
        &mut self,
        result: &[(Labels, Sampled)],
        t: i64,
        external: &External,
        query: &dyn Fn(&str) -> Result<Vec<template::QuerySample>, template::QueryError>,
    ) -> Result<Vec<Transition>, DuplicateAlert> {
        let env = Env {
            query,
            now_ms: t,
            external_url: external.function_url.as_deref(),
        };
        let mut seen: FxHashMap<Labels, (BTreeMap<String, String>, f64)> = FxHashMap::default();
        for (labels, value) in result {
            let data = Data {
                labels: labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                external_labels: &external.labels,
                external_url: &external.url,
                value: value.float(),
                histogram: value.histogram().cloned(),
            };
            let root = data.root();
            let mut alert_labels = labels.filter(|n| n != NAME);
            for (name, prepared) in self.labels.iter() {
                alert_labels = alert_labels.with(name, &prepared.expand_root(&root, &env));
            }
            alert_labels = alert_labels.with("alertname", &self.name);
            let annotations = self
                .annotations
                .iter()
                .map(|(name, prepared)| (name.clone(), prepared.expand_root(&root, &env)))
                .collect();
            if seen
                .insert(alert_labels, (annotations, value.float()))
                .is_some()
            {
                return Err(DuplicateAlert);
            }
        }
        let mut transitions = Vec::new();
        for (labels, (annotations, value)) in seen.iter() {
            match self.active.get_mut(labels) {
                Some(alert) if alert.state != State::Inactive => {
                    alert.value = *value;
                    alert.annotations = annotations.clone();
                }
                _ => {
                    self.active.insert(
                        labels.clone(),
                        Alert {
                            labels: labels.clone(),
                            annotations: annotations.clone(),
                            state: State::Pending,
                            value: *value,
                            active_at: t,
                            fired_at: None,
                            resolved_at: None,
                            keep_firing_since: None,
                        },
                    );
                    transitions.push(Transition {
                        labels: labels.clone(),
                        to: State::Pending,
                        t,
                        value: *value,
                        annotations: annotations.clone(),
                    });
                }
            }
        }
        let mut forget = Vec::new();
        for (labels, alert) in self.active.iter_mut() {
            if !seen.contains_key(labels) {
                let mut keep_firing = false;
                if alert.state == State::Firing && self.keep_firing_for > 0 {
                    let since = *alert.keep_firing_since.get_or_insert(t);
                    keep_firing = t - since < self.keep_firing_for;
                }
                if alert.state == State::Pending {
                    forget.push(labels.clone());
                }
                if alert.state != State::Inactive && !keep_firing {
                    alert.state = State::Inactive;
                    alert.resolved_at = Some(t);
                    transitions.push(Transition {
                        labels: labels.clone(),
                        to: State::Inactive,
                        t,
                        value: alert.value,
                        annotations: alert.annotations.clone(),
                    });
                }
                if !keep_firing {
                    continue;
                }
            } else {
                alert.keep_firing_since = None;
            }
            if alert.state == State::Pending && t - alert.active_at >= self.pending_for {
                alert.state = State::Firing;
                alert.fired_at = Some(t);
                transitions.push(Transition {
                    labels: labels.clone(),
                    to: State::Firing,
                    t,
                    value: alert.value,
                    annotations: alert.annotations.clone(),
                });
            }
        }
        for labels in forget {
            self.active.remove(&labels);
        }
        // Resolved alerts are kept only until they come back (Prometheus
        // keeps them 15 minutes to tell Alertmanager; nothing here needs it).
        self.active.retain(|_, a| a.state != State::Inactive);
        transitions.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(transitions)
    }

    /// Forgets every alert, as Prometheus does when a rule exceeds its
    /// group's `limit`; the alerts that were pending or firing end at `t`
    /// (the transitions, for the timeline).
    pub fn drop_all(&mut self, t: i64) -> Vec<Transition> {
        let transitions = self
            .alerts()
            .into_iter()
            .map(|alert| Transition {
                labels: alert.labels.clone(),
                to: State::Inactive,
                t,
                value: alert.value,
                annotations: alert.annotations.clone(),
            })
            .collect();
        self.active.clear();
        transitions
    }

    /// Pending and firing alerts, sorted by labels.
    pub fn alerts(&self) -> Vec<&Alert> {
        let mut alerts: Vec<&Alert> = self
            .active
            .values()
            .filter(|a| a.state != State::Inactive)
            .collect();
        alerts.sort_by(|a, b| a.labels.cmp(&b.labels));
        alerts
    }

    /// The `ALERTS` and `ALERTS_FOR_STATE` samples of the active alerts.
    pub fn series(&self) -> Vec<(Labels, f64)> {
        let mut out = Vec::new();
        for alert in self.alerts() {
            out.push((
                alert
                    .labels
                    .with(NAME, "ALERTS")
                    .with("alertstate", alert.state.label()),
                1.0,
            ));
            out.push((
                alert.labels.with(NAME, "ALERTS_FOR_STATE"),
                (alert.active_at.div_euclid(1000)) as f64,
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(pending_for: i64, keep_firing_for: i64) -> AlertingRule {
        AlertingRule::new(
            "HighErrorRate",
            pending_for,
            keep_firing_for,
            BTreeMap::from([("severity".into(), "critical".into())]),
            BTreeMap::from([(
                "summary".into(),
                "{{ $labels.job }} {{ $value | humanizePercentage }}".into(),
            )]),
        )
    }

    fn states(rule: &AlertingRule) -> Vec<State> {
        rule.alerts().iter().map(|a| a.state).collect()
    }

    #[test]
    fn pending_then_firing_then_resolved() {
        let mut rule = rule(10_000, 0);
        let hit = vec![(
            Labels::from_pairs(&[("__name__", "x"), ("job", "api")]),
            0.2,
        )];
        let ext = External::default();
        let t = rule.eval(&hit, 0, &ext).unwrap();
        assert_eq!(t[0].to, State::Pending);
        assert_eq!(
            t[0].labels,
            Labels::from_pairs(&[
                ("alertname", "HighErrorRate"),
                ("job", "api"),
                ("severity", "critical")
            ])
        );
        assert_eq!(t[0].annotations["summary"], "api 20%");
        rule.eval(&hit, 9_000, &ext).unwrap();
        assert_eq!(states(&rule), [State::Pending]);
        let t = rule.eval(&hit, 10_000, &ext).unwrap();
        assert_eq!((t[0].to, t[0].t), (State::Firing, 10_000));
        let series = rule.series();
        assert_eq!(series[0].0.get("alertstate"), Some("firing"));
        assert_eq!(series[1], (series[1].0.clone(), 0.0));
        let t = rule.eval(&[], 11_000, &ext).unwrap();
        assert_eq!((t[0].to, t[0].t), (State::Inactive, 11_000));
        assert!(rule.alerts().is_empty());
    }

    #[test]
    fn pending_that_goes_away_is_forgotten_and_for_zero_fires_at_once() {
        let ext = External::default();
        let hit = vec![(Labels::from_pairs(&[("job", "api")]), 1.0)];
        let mut slow = rule(10_000, 0);
        slow.eval(&hit, 0, &ext).unwrap();
        slow.eval(&[], 1_000, &ext).unwrap();
        slow.eval(&hit, 2_000, &ext).unwrap();
        assert_eq!(slow.alerts()[0].active_at, 2_000);
        let mut fast = rule(0, 0);
        let t = fast.eval(&hit, 0, &ext).unwrap();
        assert_eq!(
            t.iter().map(|t| t.to).collect::<Vec<_>>(),
            [State::Pending, State::Firing]
        );
    }

    #[test]
    fn keep_firing_for_holds_a_firing_alert() {
        let ext = External::default();
        let hit = vec![(Labels::from_pairs(&[("job", "api")]), 1.0)];
        let mut rule = rule(0, 3_000);
        rule.eval(&hit, 0, &ext).unwrap();
        for t in [1_000, 2_000, 3_000] {
            assert!(rule.eval(&[], t, &ext).unwrap().is_empty(), "{t}");
            assert_eq!(states(&rule), [State::Firing]);
        }
        let t = rule.eval(&[], 4_000, &ext).unwrap();
        assert_eq!((t[0].to, t[0].t), (State::Inactive, 4_000));
    }

    #[test]
    fn duplicate_label_sets_are_an_error() {
        let mut rule = rule(0, 0);
        let result = vec![
            (Labels::from_pairs(&[("__name__", "a"), ("job", "x")]), 1.0),
            (Labels::from_pairs(&[("__name__", "b"), ("job", "x")]), 1.0),
        ];
        assert_eq!(
            rule.eval(&result, 0, &External::default())
                .unwrap_err()
                .to_string(),
            "vector contains metrics with the same labelset after applying alert labels"
        );
    }
}
