//! Rule groups evaluated over a store, as Prometheus's rule manager does:
//! each group at its interval, its rules in order, so a recording rule's
//! output is read by the rules after it (and by later evaluations); a
//! series a rule returned last time and not this time gets a staleness
//! marker; alerting rules add their `ALERTS` and `ALERTS_FOR_STATE`
//! series. The result is the alert timeline, and the store holds every
//! series the rules wrote, for PromQL expectations to read.

use std::sync::Arc;
use std::time::Duration;

use promql_parser::parser::Expr;
use rustc_hash::FxHashSet;

use super::alert::{AlertingRule, DuplicateAlert, External, State};
use super::template::QueryError;
use super::timeline::AlertTimeline;
use super::value::Sampled;
use super::{RuleFile, RuleKind};
use crate::metrics::store::{Labels, NAME, Store, stale};
use crate::promql::{self, Evaluator, Value};

/// How rules are evaluated.
#[derive(Debug, Clone)]
pub struct Options {
    /// For groups that name no `interval`.
    pub default_interval: Duration,
    pub lookback: Duration,
    pub external: External,
    /// See [`crate::promql::Evaluator::with_legacy_rate_extrapolation`].
    pub legacy_rate_extrapolation: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            default_interval: Duration::from_secs(60),
            lookback: Duration::from_secs(300),
            external: External::default(),
            legacy_rate_extrapolation: false,
        }
    }
}

/// Every group of some rule files, ready to evaluate.
pub struct RuleSet {
    pub groups: Vec<GroupState>,
    options: Options,
    pub timeline: AlertTimeline,
    pub errors: Vec<RuleError>,
}

/// Rule files parsed once (expressions, label and annotation templates),
/// for any number of fresh [`RuleSet`]s: a unit-test file builds one for
/// each of its test groups.
#[derive(Clone)]
pub struct ParsedRules {
    groups: Vec<GroupState>,
}

/// One group and the state of its rules.
#[derive(Clone)]
pub struct GroupState {
    pub name: String,
    pub file: String,
    pub interval_ms: i64,
    offset_ms: i64,
    /// The group's `limit` (0: none).
    limit: usize,
    pub rules: Vec<RuleState>,
}

#[derive(Clone)]
pub struct RuleState {
    pub name: String,
    pub source: String,
    /// The expression's text, for messages.
    pub expr_text: String,
    expr: Arc<Expr>,
    kind: Kind,
    /// Series written at the previous evaluation (for staleness markers).
    previous: FxHashSet<Labels>,
}

#[derive(Clone)]
enum Kind {
    Recording(Labels),
    Alerting(AlertingRule),
}

/// Why a rule failed at one evaluation, in Prometheus's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum EvalError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("vector contains metrics with the same labelset after applying rule labels")]
    DuplicateSeries,
    #[error(transparent)]
    DuplicateAlert(#[from] DuplicateAlert),
    #[error("exceeded limit of {limit} with {count} series")]
    SeriesLimit { limit: usize, count: usize },
    #[error("exceeded limit of {limit} with {count} alerts")]
    AlertLimit { limit: usize, count: usize },
}

/// A rule that failed at one evaluation (the others go on).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RuleError {
    pub rule: String,
    pub source: String,
    pub t: i64,
    pub message: String,
}

/// A rule whose expression does not parse: the one way building a rule
/// set fails (rule files that were read have every other field checked).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{rule}: expr: {source}")]
pub struct BadExpr {
    /// The rule's place and name, as [`super::Rule`]'s `source`.
    pub rule: String,
    pub source: promql::Error,
}

impl ParsedRules {
    /// Parses every rule's expression and templates; errors name the rule.
    /// Groups without an `interval` take `default_interval`.
    pub fn new(files: &[RuleFile], default_interval: Duration) -> Result<ParsedRules, BadExpr> {
        let mut groups = Vec::new();
        for file in files {
            for group in &file.groups {
                let interval = group.interval.unwrap_or(default_interval);
                let mut rules = Vec::new();
                for rule in &group.rules {
                    let expr = match &rule.parsed {
                        Some(expr) => Arc::clone(expr),
                        None => Arc::new(promql::parse(&rule.expr).map_err(|source| BadExpr {
                            rule: rule.source.clone(),
                            source,
                        })?),
                    };
                    let mut labels = group.labels.clone();
                    labels.extend(rule.labels.clone());
                    let (name, kind) = match &rule.kind {
                        RuleKind::Recording { record } => {
                            let pairs = labels.into_iter().collect::<Vec<_>>();
                            (record.clone(), Kind::Recording(Labels::new(pairs)))
                        }
                        RuleKind::Alerting {
                            alert,
                            pending_for,
                            keep_firing_for,
                            annotations,
                        } => (
                            alert.clone(),
                            Kind::Alerting(AlertingRule::new(
                                alert,
                                pending_for.as_millis() as i64,
                                keep_firing_for.as_millis() as i64,
                                labels,
                                annotations.clone(),
                            )),
                        ),
                    };
                    rules.push(RuleState {
                        name,
                        source: rule.source.clone(),
                        expr_text: rule.expr.clone(),
                        expr,
                        kind,
                        previous: FxHashSet::default(),
                    });
                }
                groups.push(GroupState {
                    name: group.name.clone(),
                    file: file.path.display().to_string(),
                    interval_ms: (interval.as_millis() as i64).max(1),
                    offset_ms: group.query_offset.map_or(0, |d| d.as_millis() as i64),
                    limit: usize::try_from(group.limit).unwrap_or(usize::MAX),
                    rules,
                });
            }
        }
        Ok(ParsedRules { groups })
    }
}

impl RuleSet {
    /// Parses every rule's expression; errors name the rule.
    pub fn new(files: &[RuleFile], options: Options) -> Result<RuleSet, BadExpr> {
        let parsed = ParsedRules::new(files, options.default_interval)?;
        Ok(RuleSet::from_parsed(parsed, options))
    }

    /// Rules parsed before, with no evaluation yet. `options`'s
    /// `default_interval` is the one `parsed` was built with.
    pub fn from_parsed(parsed: ParsedRules, options: Options) -> RuleSet {
        RuleSet {
            groups: parsed.groups,
            options,
            timeline: AlertTimeline::default(),
            errors: Vec::new(),
        }
    }

    /// Evaluates every group at its interval over `(from, to]`, groups
    /// interleaved in time order (ties in file order), writing into
    /// `store`. Evaluation times are multiples of each group's interval.
    pub fn run(&mut self, store: &mut Store, from: i64, to: i64) {
        let mut next: Vec<i64> = self
            .groups
            .iter()
            .map(|g| (from.div_euclid(g.interval_ms) + 1) * g.interval_ms)
            .collect();
        while let Some((index, &t)) = next
            .iter()
            .enumerate()
            .filter(|(_, t)| **t <= to)
            .min_by_key(|(i, t)| (**t, *i))
        {
            self.eval_group(index, store, t);
            next[index] = t + self.groups[index].interval_ms;
        }
    }

    /// Evaluates one group at `t` (ms), writing its series into `store`.
    pub fn eval_group(&mut self, index: usize, store: &mut Store, t: i64) {
        let group = &mut self.groups[index];
        let query_at = t - group.offset_ms;
        let interval_ms = group.interval_ms;
        let limit = group.limit;
        let options = &self.options;
        let timeline = &mut self.timeline;
        for rule in &mut group.rules {
            let result = instant(store, options, interval_ms, &rule.expr, query_at);
            let written: Result<Vec<(Labels, Sampled)>, EvalError> = result
                .map_err(EvalError::from)
                .and_then(|samples: Vec<(Labels, Sampled)>| match &mut rule.kind {
                    Kind::Recording(labels) => {
                        let recorded = record(&rule.name, labels, samples)?;
                        // Prometheus's `RecordingRule.Eval`: too many
                        // series fail the rule, and none is written.
                        if limit > 0 && recorded.len() > limit {
                            return Err(EvalError::SeriesLimit {
                                limit,
                                count: recorded.len(),
                            });
                        }
                        Ok(recorded)
                    }
                    Kind::Alerting(alerting) => {
                        // A template's `query` runs at the evaluation time
                        // (not offset), as Prometheus's does.
                        let query =
                            |text: &str| template_query(store, options, interval_ms, text, t);
                        let transitions =
                            alerting.eval_with_query(&samples, t, &options.external, &query)?;
                        for transition in transitions {
                            timeline.record(&rule.source, &transition);
                        }
                        // Prometheus's `AlertingRule.Eval`: too many
                        // pending and firing alerts fail the rule and drop
                        // every alert it had (they start afresh, pending,
                        // at the next evaluation under the limit).
                        let active = alerting.alerts().len();
                        if limit > 0 && active > limit {
                            for transition in alerting.drop_all(t) {
                                timeline.record(&rule.source, &transition);
                            }
                            return Err(EvalError::AlertLimit {
                                limit,
                                count: active,
                            });
                        }
                        Ok(alerting
                            .series()
                            .into_iter()
                            .map(|(labels, v)| (labels, Sampled::Float(v)))
                            .collect())
                    }
                });
            let written = match written {
                Ok(written) => written,
                Err(e) => {
                    self.errors.push(RuleError {
                        rule: rule.name.clone(),
                        source: rule.source.clone(),
                        t,
                        message: e.to_string(),
                    });
                    continue;
                }
            };
            let mut now = FxHashSet::default();
            for (labels, value) in written {
                // A histogram is stored with the hint Prometheus's TSDB
                // gives it back, as `test-rules` compares it.
                let stored = match value {
                    Sampled::Float(v) => store.add(&labels, t, v),
                    Sampled::Histogram(h) => store
                        .series_id(&labels)
                        .and_then(|id| store.append_histogram(id, t, Arc::unwrap_or_clone(h))),
                };
                if let Err(e) = stored {
                    self.errors.push(RuleError {
                        rule: rule.name.clone(),
                        source: rule.source.clone(),
                        t,
                        message: e.to_string(),
                    });
                    break;
                }
                now.insert(labels);
            }
            for gone in rule.previous.difference(&now) {
                let _ = store.add(gone, t, stale());
            }
            rule.previous = now;
        }
    }

    /// The firing alerts of every rule named `alertname`.
    pub fn firing(&self, alertname: &str) -> Vec<&super::alert::Alert> {
        self.alerting_rules()
            .filter(|rule| rule.name == alertname)
            .flat_map(|rule| rule.alerts())
            .filter(|alert| alert.state == State::Firing)
            .collect()
    }

    /// Every alerting rule, in file and group order.
    pub fn alerting_rules(&self) -> impl Iterator<Item = &AlertingRule> {
        self.groups
            .iter()
            .flat_map(|g| &g.rules)
            .filter_map(|rule| match &rule.kind {
                Kind::Alerting(a) => Some(a),
                Kind::Recording(_) => None,
            })
    }

    /// The alerting rules' names and expressions.
    pub fn alert_exprs(&self) -> Vec<(&str, &str, &str)> {
        self.groups
            .iter()
            .flat_map(|g| &g.rules)
            .filter(|r| matches!(r.kind, Kind::Alerting(_)))
            .map(|r| (r.name.as_str(), r.expr_text.as_str(), r.source.as_str()))
            .collect()
    }

    /// Every rule's expression.
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        self.groups.iter().flat_map(|g| &g.rules).map(|r| &*r.expr)
    }

    /// Names the recording rules write.
    pub fn recorded_names(&self) -> FxHashSet<&str> {
        self.groups
            .iter()
            .flat_map(|g| &g.rules)
            .filter(|r| matches!(r.kind, Kind::Recording(_)))
            .map(|r| r.name.as_str())
            .collect()
    }
}

/// `expr` at `t` as a rule reads it: a vector, or a scalar as one sample
/// without labels (Prometheus's `EngineQueryFunc`); histograms resolved,
/// so they outlive the query that computed them.
fn instant(
    store: &Store,
    options: &Options,
    interval_ms: i64,
    expr: &Expr,
    t: i64,
) -> Result<Vec<(Labels, Sampled)>, QueryError> {
    let mut evaluator = Evaluator::new(store)
        .with_lookback(options.lookback)
        .with_legacy_rate_extrapolation(options.legacy_rate_extrapolation)
        .with_default_step(Duration::from_millis(interval_ms as u64));
    let value = evaluator.instant(expr, t);
    let sampled = |v: f64| match evaluator.histogram(v) {
        Some(h) => Sampled::Histogram(h),
        None => Sampled::Float(v),
    };
    match value {
        Ok(Value::Vector(samples)) => Ok(samples
            .into_iter()
            .map(|s| (s.labels, sampled(s.v)))
            .collect()),
        Ok(Value::Scalar(v)) => Ok(vec![(Labels::empty(), Sampled::Float(v))]),
        // Prometheus's `EngineQueryFunc` says no more than this.
        Ok(_) => Err(QueryError::NotVectorOrScalar),
        Err(e) => Err(e.into()),
    }
}

/// A template's `query`: PromQL text at `t`, as samples with their labels.
fn template_query(
    store: &Store,
    options: &Options,
    interval_ms: i64,
    text: &str,
    t: i64,
) -> Result<Vec<super::template::QuerySample>, QueryError> {
    let expr = promql::parse(text)?;
    let samples = instant(store, options, interval_ms, &expr, t)?;
    Ok(samples
        .into_iter()
        .map(|(labels, value)| super::template::QuerySample {
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value: value.float(),
            histogram: value.histogram().cloned(),
        })
        .collect())
}

/// A recording rule's output: the result renamed, the rule's labels set.
fn record(
    name: &str,
    rule_labels: &Labels,
    samples: Vec<(Labels, Sampled)>,
) -> Result<Vec<(Labels, Sampled)>, EvalError> {
    let mut seen = FxHashSet::default();
    let mut out = Vec::with_capacity(samples.len());
    for (labels, value) in samples {
        let mut labels = labels.with(NAME, name);
        for (k, v) in rule_labels.iter() {
            labels = labels.with(k, v);
        }
        if !seen.insert(labels.clone()) {
            return Err(EvalError::DuplicateSeries);
        }
        out.push((labels, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn rules(yaml: &str) -> RuleSet {
        let file = super::super::resolve(Path::new("t.yml"), yaml).unwrap();
        RuleSet::new(
            &[file],
            Options {
                default_interval: Duration::from_secs(1),
                ..Options::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn recording_rules_feed_later_rules_and_alerts_become_series() {
        let mut set = rules(
            "groups:\n  - name: g\n    rules:\n      - record: job:x:doubled\n        expr: x * 2\n      - alert: Big\n        expr: job:x:doubled > 10\n        for: 2s\n",
        );
        let mut store = Store::default();
        let x = Labels::from_pairs(&[("__name__", "x"), ("job", "a")]);
        for s in 0..10 {
            store
                .add(&x, s * 1000, if s < 5 { 1.0 } else { 6.0 })
                .unwrap();
        }
        set.run(&mut store, 0, 9_000);
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        let history = &set.timeline.alerts[0];
        let episode = &history.episodes[0];
        assert_eq!(episode.pending_at, 5_000);
        assert_eq!(episode.fired_at, Some(7_000));
        assert_eq!(episode.resolved_at, None);
        let recorded = Labels::from_pairs(&[("__name__", "job:x:doubled"), ("job", "a")]);
        let id = store.series_id(&recorded).unwrap();
        assert_eq!(store.series()[id].points.len(), 9);
        let firing = Labels::from_pairs(&[
            ("__name__", "ALERTS"),
            ("alertname", "Big"),
            ("alertstate", "firing"),
            ("job", "a"),
        ]);
        let id = store.series_id(&firing).unwrap();
        assert_eq!(store.series()[id].points[0].t, 7_000);
        let pending = firing.with("alertstate", "pending");
        let id = store.series_id(&pending).unwrap();
        let points = &store.series()[id].points;
        // Pending at 5 s and 6 s, then a staleness marker when it fired.
        assert_eq!(points.len(), 3);
        assert!(crate::metrics::store::is_stale(points[2].v));
    }

    #[test]
    fn a_failing_rule_is_reported_and_the_others_go_on() {
        let mut set = rules(
            "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: x\n        labels: {job: same}\n      - alert: Up\n        expr: vector(1)\n",
        );
        let mut store = Store::default();
        store
            .add(
                &Labels::from_pairs(&[("__name__", "x"), ("job", "a")]),
                0,
                1.0,
            )
            .unwrap();
        store
            .add(
                &Labels::from_pairs(&[("__name__", "x"), ("job", "b")]),
                0,
                1.0,
            )
            .unwrap();
        set.run(&mut store, 0, 1_000);
        assert_eq!(set.errors.len(), 1);
        assert!(set.errors[0].message.contains("same labelset"));
        assert_eq!(set.firing("Up").len(), 1);
    }

    /// Rule sets built from one parse start from nothing: an alert one of
    /// them fired is not in the next (a unit-test file's groups share the
    /// parse), and each expands the templates with its own labels.
    #[test]
    fn rule_sets_from_one_parse_share_no_state() {
        let file = super::super::resolve(
            Path::new("t.yml"),
            "groups:\n  - name: g\n    rules:\n      - alert: Up\n        expr: x > 0\n        annotations:\n          s: '{{ $labels.job }} {{ $externalLabels.c }}'\n",
        )
        .unwrap();
        assert!(file.groups[0].rules[0].parsed.is_some());
        let parsed = ParsedRules::new(&[file], Duration::from_secs(1)).unwrap();
        let options = |c: &str| Options {
            default_interval: Duration::from_secs(1),
            external: External {
                labels: [("c".to_string(), c.to_string())].into(),
                ..External::default()
            },
            ..Options::default()
        };
        let x = Labels::from_pairs(&[("__name__", "x"), ("job", "a")]);
        let mut first = RuleSet::from_parsed(parsed.clone(), options("one"));
        let mut store = Store::default();
        store.add(&x, 0, 1.0).unwrap();
        first.run(&mut store, -1, 0);
        assert_eq!(first.firing("Up")[0].annotations["s"], "a one");
        let mut second = RuleSet::from_parsed(parsed.clone(), options("two"));
        assert!(second.firing("Up").is_empty());
        let mut store = Store::default();
        store.add(&x.with("job", "b"), 0, 1.0).unwrap();
        second.run(&mut store, -1, 0);
        let firing = second.firing("Up");
        assert_eq!(firing.len(), 1);
        assert_eq!(firing[0].annotations["s"], "b two");
    }

    /// A group's `limit`, as Prometheus enforces it: a recording rule
    /// with more series fails and writes none; an alerting rule with more
    /// pending and firing alerts fails and forgets them all, so they start
    /// pending again once under the limit. The group's other rules go on.
    #[test]
    fn group_limit_fails_the_rule_that_exceeds_it() {
        let mut set = rules(
            "groups:\n  - name: g\n    limit: 1\n    rules:\n      - record: r\n        expr: x\n      - alert: Many\n        expr: x > 0\n        for: 1s\n      - record: one\n        expr: sum(x)\n",
        );
        let mut store = Store::default();
        let a = Labels::from_pairs(&[("__name__", "x"), ("job", "a")]);
        let b = a.with("job", "b");
        for s in 0..4 {
            store.add(&a, s * 1000, 1.0).unwrap();
        }
        // `b` is there at 1 s and 2 s only.
        store.add(&b, 1000, 1.0).unwrap();
        store.add(&b, 2000, 1.0).unwrap();
        store.add(&b, 3000, crate::metrics::store::stale()).unwrap();
        set.run(&mut store, -1, 3_000);
        let messages: Vec<(&str, i64, &str)> = set
            .errors
            .iter()
            .map(|e| (e.rule.as_str(), e.t, e.message.as_str()))
            .collect();
        assert_eq!(
            messages,
            [
                ("r", 1000, "exceeded limit of 1 with 2 series"),
                ("Many", 1000, "exceeded limit of 1 with 2 alerts"),
                ("r", 2000, "exceeded limit of 1 with 2 series"),
                ("Many", 2000, "exceeded limit of 1 with 2 alerts"),
            ]
        );
        // `r` wrote nothing while over the limit.
        let r = store.series_id(&a.with("__name__", "r")).unwrap();
        let times: Vec<i64> = store.series()[r].points.iter().map(|p| p.t).collect();
        assert_eq!(times, [0, 3000]);
        // The alert on `a` fired at 1 s (pending at 0 s, `for: 1s`) but
        // was dropped there; at 3 s it starts again, pending.
        let history = &set.timeline.alerts[0];
        let episodes: Vec<(i64, Option<i64>, Option<i64>)> = history
            .episodes
            .iter()
            .map(|e| (e.pending_at, e.fired_at, e.resolved_at))
            .collect();
        assert_eq!(episodes[0].0, 0);
        assert_eq!(
            episodes.last().unwrap(),
            &(3000, None, None),
            "{episodes:?}"
        );
        let alerts = set.alerting_rules().next().unwrap().alerts();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].state, State::Pending);
        assert_eq!(alerts[0].active_at, 3000);
        // `one` (one series) is within the limit at every evaluation.
        let one = Labels::from_pairs(&[("__name__", "one")]);
        let id = store.series_id(&one).unwrap();
        assert_eq!(store.series()[id].points.len(), 4);
    }
}
