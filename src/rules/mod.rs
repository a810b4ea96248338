//! Prometheus rule files as teams write them (`groups:` of recording and
//! alerting rules), read and validated as `promtool check rules` does:
//! unknown keys, a rule that is neither or both `record` and `alert`,
//! empty or unparsable `expr`, bad durations (Prometheus's own format:
//! `90s`, `1h30m`, `1d`, no fractions), invalid metric and label names,
//! keys that only alerting rules take, duplicate group names. Every error
//! has file, line and column. `spec` is the file as written (a `groups:`
//! file or PrometheusRule resources), `nullable` reads YAML values as Go
//! does, `eval` evaluates the groups over a store, `alert` is the alert
//! state machine, `template` expands labels and annotations, `timeline` is
//! what the alerts did, `unittest` runs promtool's unit tests.

pub(crate) mod alert;
pub(crate) mod both;
pub(crate) mod estimate;
pub(crate) mod eval;
pub(crate) mod export;
mod glob;
pub(crate) mod live;
pub(crate) mod nullable;
pub(crate) mod run;
mod spec;
pub(crate) mod template;
pub(crate) mod timeline;
pub mod unittest;
pub(crate) mod value;

pub use alert::{External, State};
pub use eval::{Options, RuleError, RuleSet};
pub use timeline::{AlertHistory, AlertTimeline, Episode};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::diag::{Position, ScenarioError};
pub use crate::promql::features::Features;
use spec::Text;

/// A validated rule file.
#[derive(Debug, Clone)]
pub struct RuleFile {
    pub path: PathBuf,
    pub groups: Vec<Group>,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    /// None: the scenario's (or Prometheus's global) evaluation interval.
    pub interval: Option<Duration>,
    /// Evaluate this much in the past (for data that arrives late).
    pub query_offset: Option<Duration>,
    pub labels: BTreeMap<String, String>,
    /// `limit`: the most series a recording rule, or alerts an alerting
    /// rule, may produce at one evaluation; 0 for no limit.
    pub limit: u64,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub kind: RuleKind,
    pub expr: String,
    /// `expr` as parsed when the file was checked (so evaluation does not
    /// parse it again); `None` when it did not parse, and then the file
    /// is refused.
    pub parsed: Option<Arc<promql_parser::parser::Expr>>,
    pub labels: BTreeMap<String, String>,
    /// `file:line:col` of the rule.
    pub source: String,
}

#[derive(Debug, Clone)]
pub enum RuleKind {
    Recording {
        record: String,
    },
    Alerting {
        alert: String,
        pending_for: Duration,
        keep_firing_for: Duration,
        annotations: BTreeMap<String, String>,
    },
}

impl RuleFile {
    pub fn rule_count(&self) -> (usize, usize) {
        let rules = self.groups.iter().flat_map(|g| &g.rules);
        let alerts = rules
            .clone()
            .filter(|r| matches!(r.kind, RuleKind::Alerting { .. }))
            .count();
        (rules.count() - alerts, alerts)
    }
}

/// Whether `source` is a rule file: its top-level keys hold `groups` (the
/// spelling does not matter: `"groups":` is the same key), it is a
/// `PrometheusRule` resource, or it is empty (`{}`, `null`, nothing: a
/// valid file of no rules, as promtool says).
pub fn is_rule_file(source: &str) -> bool {
    spec::is_rule_file(source)
}

/// Reads and validates a rule file.
pub fn load(path: &Path) -> Result<RuleFile, Vec<ScenarioError>> {
    resolve(path, &crate::diag::read(path)?)
}

/// How a rule file is read: promtool's `--ignore-unknown-fields` and
/// `--enable-feature`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// Read past unknown keys.
    pub ignore_unknown: bool,
    /// The experimental PromQL a rule may use.
    pub features: Features,
}

impl ReadOptions {
    /// As a scenario reads its rules: strict keys, all of PromQL.
    pub const SCENARIO: ReadOptions = ReadOptions {
        ignore_unknown: false,
        features: Features::ALL,
    };
}

/// Reads and validates a rule file as `options` say.
pub fn load_with(path: &Path, options: ReadOptions) -> Result<RuleFile, Vec<ScenarioError>> {
    resolve_with(path, &crate::diag::read(path)?, options)
}

/// Validates `source`, the text of `path`: a Prometheus rule file, or
/// `PrometheusRule` resources (their `spec.groups`).
pub fn resolve(path: &Path, source: &str) -> Result<RuleFile, Vec<ScenarioError>> {
    resolve_with(path, source, ReadOptions::SCENARIO)
}

/// [`resolve`], as `options` say.
pub fn resolve_with(
    path: &Path,
    source: &str,
    options: ReadOptions,
) -> Result<RuleFile, Vec<ScenarioError>> {
    let spec = spec::read(path, source, options.ignore_unknown)?;
    let mut errors = Vec::new();
    let mut error = |at: Option<Position>, message: String, hint: Option<&str>| {
        let mut e = ScenarioError::at(path, source, at, message);
        if let Some(hint) = hint {
            e = e.hint(hint);
        }
        errors.push(e);
    };
    let at = |location: &serde_saphyr::Location| Some(Position::from(*location));
    let mut groups = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    for group in &spec.groups {
        let g = &group.value;
        if g.name.value.trim().is_empty() {
            error(
                at(&g.name.referenced),
                "a group needs a name".into(),
                Some("name: SOMETHING, unique within the file"),
            );
        } else if names.contains(&g.name.value.as_str()) {
            error(
                at(&g.name.referenced),
                format!("a second group named `{}`", g.name.value),
                Some("group names must be unique within a file"),
            );
        }
        names.push(&g.name.value);
        let interval = g.interval.as_ref().and_then(|text| {
            duration(&text.value)
                .map_err(|e| error(at(&text.referenced), format!("interval: {e}"), None))
                .ok()
        });
        let query_offset = g.query_offset.as_ref().and_then(|text| {
            duration(&text.value)
                .map_err(|e| error(at(&text.referenced), format!("query_offset: {e}"), None))
                .ok()
        });
        for (name, value) in &g.labels {
            if !is_label_name(name) || name == "__name__" {
                error(
                    at(&value.referenced),
                    format!("invalid label name `{name}`"),
                    Some(LABEL_NAMES),
                );
            }
        }
        let mut rules = Vec::new();
        for rule in &g.rules {
            let r = &rule.value;
            let rule_at = at(&rule.referenced);
            let source_text = rule_at.map_or(path.display().to_string(), |p| {
                format!("{}:{}:{}", path.display(), p.line, p.column)
            });
            let Some(expr_text) = &r.expr else {
                error(
                    rule_at,
                    "a rule needs `expr: PROMQL`".into(),
                    Some("the PromQL expression the rule evaluates, such as `expr: up == 0`"),
                );
                continue;
            };
            let expr = expr_text.value.as_str().trim().to_string();
            let mut parsed = None;
            if expr.is_empty() {
                error(at(&expr_text.referenced), "`expr` is empty".into(), None);
            } else {
                match crate::promql::parse(&expr) {
                    Ok(tree) => match options.features.refuse(&tree) {
                        None => parsed = Some(Arc::new(tree)),
                        Some(refused) => error(
                            at(&expr_text.referenced),
                            format!("expr: {}", refused.message),
                            Some(&format!(
                                "Prometheus 3 loads this only with --enable-feature={}; \
                                 so does slogate (`slogate check --enable-feature={0}`)",
                                refused.flag
                            )),
                        ),
                    },
                    Err(e) => error(
                        at(&expr_text.referenced),
                        format!("expr: {e}"),
                        Some(
                            "quote an expression that holds `: ` or starts with `{`, or use `expr: |`",
                        ),
                    ),
                }
            }
            let mut labels = BTreeMap::new();
            for (name, value) in &r.labels {
                if !is_label_name(name) || name == "__name__" {
                    error(
                        at(&value.referenced),
                        format!("invalid label name `{name}`"),
                        Some(LABEL_NAMES),
                    );
                }
                if r.alert.is_some()
                    && let Err(e) = template::check(&value.value)
                {
                    error(
                        at(&value.referenced),
                        format!("label `{name}`: template: {e}"),
                        e.hint().as_deref(),
                    );
                }
                labels.insert(name.clone(), value.value.0.clone());
            }
            let kind = match (&r.record, &r.alert) {
                (Some(_), Some(alert)) => {
                    error(
                        at(&alert.referenced),
                        "a rule is either `record` or `alert`, not both".into(),
                        None,
                    );
                    continue;
                }
                (None, None) => {
                    error(
                        rule_at,
                        "a rule needs `record: NAME` or `alert: NAME`".into(),
                        None,
                    );
                    continue;
                }
                (Some(record), None) => {
                    if !is_metric_name(&record.value) {
                        error(
                            at(&record.referenced),
                            format!("invalid recording rule name `{}`", record.value),
                            Some("a metric name is any non-empty UTF-8 text"),
                        );
                    } else if record.value.contains(['{', '}']) {
                        // Prometheus 3's check: a valid UTF-8 name, but
                        // most likely PromQL put in the wrong field.
                        error(
                            at(&record.referenced),
                            format!(
                                "braces present in the recording rule name `{}`",
                                record.value
                            ),
                            Some(
                                "should it be in `expr:`? `record:` names the series the rule writes",
                            ),
                        );
                    }
                    for (key, given) in [
                        ("for", r.for_.as_ref()),
                        ("keep_firing_for", r.keep_firing_for.as_ref()),
                    ] {
                        if let Some(text) = given {
                            error(
                                at(&text.referenced),
                                format!("`{key}` applies to alerting rules only"),
                                None,
                            );
                        }
                    }
                    if let Some((_, value)) = r.annotations.iter().next() {
                        error(
                            at(&value.referenced),
                            "`annotations` apply to alerting rules only".into(),
                            None,
                        );
                    }
                    RuleKind::Recording {
                        record: record.value.0.clone(),
                    }
                }
                (None, Some(alert)) => {
                    if alert.value.trim().is_empty() {
                        error(at(&alert.referenced), "`alert` is empty".into(), None);
                    }
                    let mut read = |text: Option<&Text>, key: &str| match text {
                        None => Duration::ZERO,
                        Some(text) => duration(&text.value).unwrap_or_else(|e| {
                            error(at(&text.referenced), format!("{key}: {e}"), None);
                            Duration::ZERO
                        }),
                    };
                    let pending_for = read(r.for_.as_ref(), "for");
                    let keep_firing_for = read(r.keep_firing_for.as_ref(), "keep_firing_for");
                    let mut annotations = BTreeMap::new();
                    for (name, value) in &r.annotations {
                        if !is_label_name(name) {
                            error(
                                at(&value.referenced),
                                format!("invalid annotation name `{name}`"),
                                None,
                            );
                        }
                        if let Err(e) = template::check(&value.value) {
                            error(
                                at(&value.referenced),
                                format!("annotation `{name}`: template: {e}"),
                                e.hint().as_deref(),
                            );
                        }
                        annotations.insert(name.clone(), value.value.0.clone());
                    }
                    RuleKind::Alerting {
                        alert: alert.value.0.clone(),
                        pending_for,
                        keep_firing_for,
                        annotations,
                    }
                }
            };
            rules.push(Rule {
                kind,
                expr,
                parsed,
                labels,
                source: source_text,
            });
        }
        groups.push(Group {
            name: g.name.value.0.clone(),
            interval,
            query_offset,
            labels: g
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.value.0.clone()))
                .collect(),
            // Go's `int`: zero or below is no limit.
            limit: u64::try_from(g.limit.unwrap_or(0)).unwrap_or(0),
            rules,
        });
    }
    if errors.is_empty() {
        Ok(RuleFile {
            path: path.to_path_buf(),
            groups,
        })
    } else {
        Err(errors)
    }
}

/// Text that is not a Prometheus duration: the one way [`duration`] fails
/// (a bad unit, order or number and an overflow read the same).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{text}` is not a Prometheus duration (whole numbers with units y, w, d, h, m, s, ms, largest first: `90s`, `1h30m`)"
)]
pub struct BadDuration {
    pub text: String,
}

/// A duration in Prometheus's format: units ms, s, m, h, d, w, y, each at
/// most once, largest first, whole numbers only (`1h30m`, `90s`, `0`).
pub fn duration(text: &str) -> Result<Duration, BadDuration> {
    let bad = || BadDuration {
        text: text.to_string(),
    };
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    const UNITS: [(&str, u64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];
    let mut rest = text;
    let mut next_unit = 0;
    let mut ms: u64 = 0;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        // "ms" before "m": the longer unit name wins.
        let unit = if rest.starts_with("ms") {
            "ms"
        } else {
            rest.get(..1).ok_or_else(bad)?
        };
        let index = UNITS.iter().position(|(u, _)| *u == unit).ok_or_else(bad)?;
        if index < next_unit {
            return Err(bad());
        }
        next_unit = index + 1;
        ms = number
            .checked_mul(UNITS[index].1)
            .and_then(|v| v.checked_add(ms))
            .ok_or_else(bad)?;
        rest = &rest[unit.len()..];
    }
    Ok(Duration::from_millis(ms))
}

/// The hint for a refused label name.
const LABEL_NAMES: &str = "a label name is any non-empty UTF-8 text but `__name__`";

/// Prometheus 3 checks rule files with its UTF-8 name validation
/// (`model.UTF8Validation` in promtool and the rule manager): a name is
/// valid when it is non-empty UTF-8, which every YAML string is. So
/// `record: promql-experimental-functions` and a label `team.name` are
/// valid, as promtool 3 says (promtool 2 refused both).
fn is_label_name(name: &str) -> bool {
    !name.is_empty()
}

/// As `is_label_name`: Prometheus 3's `IsValidMetricName` under UTF-8
/// validation.
fn is_metric_name(name: &str) -> bool {
    !name.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_durations() {
        assert_eq!(duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(duration("1m500ms"), Ok(Duration::from_millis(60_500)));
        assert_eq!(duration("2d"), Ok(Duration::from_secs(172_800)));
        assert_eq!(duration("0"), Ok(Duration::ZERO));
        for bad in ["1.5m", "30m1h", "5", "m", "", "5 m", "1x", "1s1s"] {
            assert_eq!(
                duration(bad),
                Err(BadDuration { text: bad.into() }),
                "{bad}"
            );
        }
        assert_eq!(
            duration("1x").unwrap_err().to_string(),
            "`1x` is not a Prometheus duration (whole numbers with units y, w, d, h, m, s, ms, largest first: `90s`, `1h30m`)"
        );
    }

    /// A group's `limit` is Go's `int`: a negative one means no limit, as
    /// zero does (promtool accepts `limit: -1`).
    #[test]
    fn a_negative_group_limit_is_no_limit() {
        let file = resolve(
            Path::new("r.yml"),
            "groups:\n  - name: g\n    limit: -1\n    rules:\n      - record: r\n        expr: up\n",
        )
        .unwrap();
        assert_eq!(file.groups[0].limit, 0);
    }

    /// Prometheus 3 validates names as UTF-8: dashes and dots are fine,
    /// braces in a record name, `__name__` as a label and empty names are not.
    #[test]
    fn names_are_checked_as_prometheus_3_does() {
        let file = |rule: &str| {
            resolve(
                Path::new("r.yml"),
                &format!("groups:\n  - name: g\n    rules:\n{rule}"),
            )
        };
        assert!(file("      - record: promql-experimental-functions\n        expr: up\n").is_ok());
        assert!(file("      - alert: A\n        expr: up\n        labels: {team.name: x}\n        annotations: {run-book: y}\n").is_ok());
        for bad in [
            "      - record: 'sum(x{a=\"b\"})'\n        expr: up\n",
            "      - alert: A\n        expr: up\n        labels: {__name__: x}\n",
            "      - alert: A\n        expr: up\n        labels: {'': x}\n",
        ] {
            assert!(file(bad).is_err(), "{bad}");
        }
    }
}
