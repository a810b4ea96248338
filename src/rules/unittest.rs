//! Prometheus rule unit tests (`promtool test rules` files), run with the
//! embedded evaluator the way promtool runs them: the input series loaded
//! at `i × interval` from time 0, every group evaluated at every
//! `evaluation_interval` up to the latest `eval_time` (in
//! `group_eval_order`, else file order), firing alerts compared at each
//! `alert_rule_test` (with the evaluation at or just before its time),
//! `promql_expr_test` queried at the end; values compared exactly, as
//! promtool does. The series notation (`0+10x100`, `1x5`, `_`, `_x3`,
//! `stale`) is expanded as Prometheus's parser expands it (by repeated
//! addition).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use promql_parser::label::MatchOp;
use promql_parser::parser::Expr;
use serde::Deserialize;

use super::alert::External;
use super::eval::{Options, RuleSet};
use crate::metrics::store::{Labels, NAME, Store, stale};
use crate::promql::{self, Evaluator, Value, format_value};
use crate::scenario::{Position, ScenarioError, StringOr, Text};

/// The most evaluation steps (`eval_time` / `evaluation_interval`) one test
/// group may take: every group of every rule file is evaluated at each.
/// Promtool has no bound; `eval_time: 4294967296m` would run for hours.
pub const MAX_EVAL_STEPS: i64 = 1_000_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    #[serde(default)]
    rule_files: Vec<String>,
    #[serde(default)]
    evaluation_interval: Option<String>,
    #[serde(default)]
    group_eval_order: Vec<String>,
    #[serde(default)]
    tests: Vec<GroupSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupSpec {
    #[serde(default)]
    interval: Option<String>,
    #[serde(default)]
    input_series: Vec<SeriesSpec>,
    #[serde(default)]
    alert_rule_test: Vec<AlertTest>,
    #[serde(default)]
    promql_expr_test: Vec<ExprTest>,
    #[serde(default)]
    external_labels: BTreeMap<String, Scalar>,
    #[serde(default)]
    external_url: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// A YAML scalar read as text (`500` and `"500"` alike).
type Scalar = StringOr<BTreeMap<String, String>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeriesSpec {
    series: String,
    #[serde(default)]
    values: Option<Scalar>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertTest {
    eval_time: Text,
    #[serde(default)]
    alertname: String,
    #[serde(default)]
    exp_alerts: Vec<ExpAlert>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpAlert {
    #[serde(default)]
    exp_labels: BTreeMap<String, Scalar>,
    #[serde(default)]
    exp_annotations: BTreeMap<String, Scalar>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExprTest {
    expr: String,
    eval_time: Text,
    #[serde(default)]
    exp_samples: Vec<ExpSample>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpSample {
    #[serde(default)]
    labels: String,
    value: f64,
}

/// The outcome of one test file.
#[derive(Debug, Clone)]
pub struct FileOutcome {
    pub path: PathBuf,
    pub groups: Vec<GroupOutcome>,
    /// Why the file could not be run at all.
    pub error: Option<String>,
}

/// The outcome of one test group (`tests:` entry).
#[derive(Debug, Clone)]
pub struct GroupOutcome {
    pub name: String,
    /// Each failure, as a readable block.
    pub failures: Vec<String>,
    /// Checks run (alert tests and expression tests).
    pub checks: usize,
}

impl FileOutcome {
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.groups.iter().all(|g| g.failures.is_empty())
    }
}

/// Runs one test file.
pub fn run_file(path: &Path) -> FileOutcome {
    let mut outcome = FileOutcome {
        path: path.to_path_buf(),
        groups: Vec::new(),
        error: None,
    };
    match load(path) {
        Err(e) => outcome.error = Some(e),
        Ok((file, rules, text)) => {
            let source = Source { path, text: &text };
            for (index, group) in file.tests.iter().enumerate() {
                let name = group
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("test {}", index + 1));
                outcome
                    .groups
                    .push(match run_group(source, &file, &rules, group) {
                        Ok(result) => GroupOutcome { name, ..result },
                        Err(e) => GroupOutcome {
                            name,
                            failures: vec![e],
                            checks: 0,
                        },
                    });
            }
        }
    }
    outcome
}

fn load(path: &Path) -> Result<(TestFile, Vec<super::RuleFile>, String), String> {
    let show = |errors: Vec<ScenarioError>| {
        errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let source = crate::scenario::read(path).map_err(show)?;
    let file: TestFile = serde_saphyr::from_str(&source).map_err(|e| {
        show(vec![crate::scenario::yaml_error_with_keys(
            path, &source, &e, KEYS,
        )])
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut rules = Vec::new();
    for name in &file.rule_files {
        let rule_path = dir.join(name);
        rules.push(super::load(&rule_path).map_err(show)?);
    }
    let mut seen = Vec::new();
    for name in &file.group_eval_order {
        if seen.contains(&name) {
            return Err(format!("group name repeated in evaluation order: {name}"));
        }
        seen.push(name);
    }
    Ok((file, rules, source))
}

const KEYS: &[&[&str]] = &[
    &[
        "rule_files",
        "evaluation_interval",
        "group_eval_order",
        "tests",
    ],
    &[
        "interval",
        "input_series",
        "alert_rule_test",
        "promql_expr_test",
        "external_labels",
        "external_url",
        "name",
    ],
    &["series", "values"],
    &["eval_time", "alertname", "exp_alerts"],
    &["exp_labels", "exp_annotations"],
    &["expr", "eval_time", "exp_samples"],
    &["labels", "value"],
];

fn duration(text: &str, what: &str) -> Result<i64, String> {
    super::duration(text)
        .map_err(|e| format!("{what}: {e}"))
        .and_then(|d| {
            i64::try_from(d.as_millis()).map_err(|_| format!("{what}: `{text}` is too long"))
        })
}

/// The test file being run, for errors that point into it.
#[derive(Clone, Copy)]
struct Source<'a> {
    path: &'a Path,
    text: &'a str,
}

fn scalar(value: &Scalar) -> Result<String, String> {
    match value {
        StringOr::String(s) => Ok(s.clone()),
        StringOr::Map(_) => Err("expected a string, found a map".into()),
    }
}

fn run_group(
    source: Source<'_>,
    file: &TestFile,
    rule_files: &[super::RuleFile],
    spec: &GroupSpec,
) -> Result<GroupOutcome, String> {
    let eval_interval = match &file.evaluation_interval {
        Some(text) => duration(text, "evaluation_interval")?,
        None => 60_000,
    };
    if eval_interval <= 0 {
        return Err("evaluation_interval must be positive".into());
    }
    let interval = match &spec.interval {
        Some(text) => duration(text, "interval")?,
        None => eval_interval,
    };
    let mut store = Store::default();
    for series in &spec.input_series {
        let labels = parse_series(&series.series)?;
        let values = match &series.values {
            Some(v) => scalar(v)?,
            None => String::new(),
        };
        for (i, value) in expand_values(&values)
            .map_err(|e| format!("series {}: values {values:?}: {e}", series.series))?
            .into_iter()
            .enumerate()
        {
            if let Some(v) = value {
                let _ = store.add(&labels, i as i64 * interval, v);
            }
        }
    }
    let external = External {
        labels: spec
            .external_labels
            .iter()
            .map(|(k, v)| Ok((k.clone(), scalar(v)?)))
            .collect::<Result<_, String>>()?,
        url: spec.external_url.clone().unwrap_or_default(),
        // promtool's rule manager has no external URL.
        function_url: None,
    };
    let mut set = RuleSet::new(
        rule_files,
        Options {
            default_interval: Duration::from_millis(eval_interval as u64),
            lookback: Duration::from_secs(300),
            external,
            legacy_rate_extrapolation: false,
        },
    )?;
    // Groups in `group_eval_order`, the others first in file order.
    let rank = |name: &str| {
        file.group_eval_order
            .iter()
            .position(|g| g == name)
            .unwrap_or(0)
    };
    let mut order: Vec<usize> = (0..set.groups.len()).collect();
    order.sort_by_key(|&i| rank(&set.groups[i].name));

    let mut alert_tests: Vec<(i64, &AlertTest)> = Vec::new();
    for test in &spec.alert_rule_test {
        if test.alertname.is_empty() {
            return Err(format!(
                "an item under alert_rule_test misses required attribute alertname at eval_time {}",
                test.eval_time.value
            ));
        }
        alert_tests.push((duration(&test.eval_time.value, "eval_time")?, test));
    }
    alert_tests.sort_by_key(|(t, _)| *t);
    let mut expr_tests = Vec::new();
    for test in &spec.promql_expr_test {
        expr_tests.push((duration(&test.eval_time.value, "eval_time")?, test));
    }
    let latest = alert_tests
        .iter()
        .map(|(t, test)| (*t, &test.eval_time))
        .chain(expr_tests.iter().map(|(t, test)| (*t, &test.eval_time)))
        .max_by_key(|(t, _)| *t);
    let max_t = latest.map_or(0, |(t, _)| t);
    if let Some((t, at)) = latest
        && t / eval_interval >= MAX_EVAL_STEPS
    {
        let message = format!(
            "eval_time {} at evaluation_interval {} is {} evaluation steps, more than the {MAX_EVAL_STEPS} a test group may take",
            at.value,
            show_duration(eval_interval),
            t / eval_interval + 1,
        );
        return Err(ScenarioError::at(
            source.path,
            source.text,
            Some(Position::from(at.referenced)),
            message,
        )
        .hint("a shorter eval_time or a longer evaluation_interval")
        .to_string());
    }

    let mut failures = Vec::new();
    let mut next_alert_test = 0;
    let mut ts = 0;
    while ts <= max_t {
        for &index in &order {
            set.eval_group(index, &mut store, ts);
        }
        if !set.errors.is_empty() {
            for e in set.errors.drain(..) {
                failures.push(format!(
                    "rule: {}, time: {}, err: {}",
                    e.rule,
                    show_duration(e.t),
                    e.message
                ));
            }
            return Ok(GroupOutcome {
                name: String::new(),
                failures,
                checks: 0,
            });
        }
        while let Some((t, test)) = alert_tests.get(next_alert_test)
            && *t >= ts
            && *t < ts + eval_interval
        {
            if let Some(failure) = check_alerts(&set, test) {
                failures.push(failure);
            }
            next_alert_test += 1;
        }
        ts += eval_interval;
    }
    for (t, test) in &expr_tests {
        if let Some(failure) = check_expr(&store, test, *t, eval_interval) {
            failures.push(failure);
        }
    }
    Ok(GroupOutcome {
        name: String::new(),
        failures,
        checks: alert_tests.len() + expr_tests.len(),
    })
}

/// Prometheus's duration format for messages (`10m`, `1h30m`, `0s`).
pub(super) fn show_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut rest = ms;
    let mut out = String::new();
    for (unit, size) in [
        ("y", 31_536_000_000),
        ("w", 604_800_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

type AlertView = (Labels, Labels);

fn check_alerts(set: &RuleSet, test: &AlertTest) -> Option<String> {
    let mut got: Vec<AlertView> = set
        .firing(&test.alertname)
        .into_iter()
        .map(|a| {
            let annotations = a
                .annotations
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            (a.labels.clone(), Labels::new(annotations))
        })
        .collect();
    let mut expected: Vec<AlertView> = Vec::new();
    for exp in &test.exp_alerts {
        let mut labels: Vec<(String, String)> = exp
            .exp_labels
            .iter()
            .map(|(k, v)| (k.clone(), scalar(v).unwrap_or_default()))
            .collect();
        labels.push(("alertname".into(), test.alertname.clone()));
        let annotations = exp
            .exp_annotations
            .iter()
            .map(|(k, v)| (k.clone(), scalar(v).unwrap_or_default()))
            .collect();
        expected.push((Labels::new(labels), Labels::new(annotations)));
    }
    got.sort();
    expected.sort();
    if got == expected {
        return None;
    }
    let show = |(labels, annotations): &AlertView| format!("{labels} annotations {annotations}");
    let missing: Vec<String> = expected
        .iter()
        .filter(|e| !got.contains(e))
        .map(show)
        .collect();
    let extra: Vec<String> = got
        .iter()
        .filter(|g| !expected.contains(g))
        .map(show)
        .collect();
    let mut text = format!(
        "alertname: {}, time: {}",
        test.alertname, test.eval_time.value
    );
    for line in &missing {
        text.push_str(&format!("\n    - expected, not firing: {line}"));
    }
    for line in &extra {
        text.push_str(&format!("\n    + firing, not expected: {line}"));
    }
    Some(text)
}

fn check_expr(store: &Store, test: &ExprTest, t: i64, eval_interval: i64) -> Option<String> {
    let head = format!("expr: {:?}, time: {}", test.expr, test.eval_time.value);
    let got = match promql::parse(&test.expr).and_then(|expr: Expr| {
        Evaluator::new(store)
            .with_default_step(Duration::from_millis(eval_interval as u64))
            .instant(&expr, t)
            .map(|value| match value {
                Value::Vector(samples) => {
                    Ok(samples.into_iter().map(|s| (s.labels, s.v)).collect())
                }
                Value::Scalar(v) => Ok(vec![(Labels::empty(), v)]),
                other => Err(format!(
                    "rule result is not a vector or scalar: {}",
                    other.kind()
                )),
            })
    }) {
        Ok(Ok(samples)) => samples,
        Ok(Err(e)) => return Some(format!("{head}, err: {e}")),
        Err(e) => return Some(format!("{head}, err: {e}")),
    };
    let mut expected: Vec<(Labels, f64)> = Vec::new();
    for sample in &test.exp_samples {
        match parse_series(&sample.labels) {
            Ok(labels) => expected.push((labels, sample.value)),
            Err(e) => return Some(format!("{head}, err: labels {:?}: {e}", sample.labels)),
        }
    }
    let mut got = got;
    got.sort_by(|a, b| a.0.cmp(&b.0));
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    // Exact, as promtool compares (so NaN never equals NaN).
    let same = got.len() == expected.len()
        && got
            .iter()
            .zip(&expected)
            .all(|(g, e)| g.0 == e.0 && g.1 == e.1);
    if same {
        return None;
    }
    let show = |samples: &[(Labels, f64)]| {
        if samples.is_empty() {
            "(nothing)".to_string()
        } else {
            samples
                .iter()
                .map(|(l, v)| format!("{l} {}", format_value(*v)))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    Some(format!(
        "{head}\n    expected: {}\n    got:      {}",
        show(&expected),
        show(&got)
    ))
}

/// `metric{a="b"}` (or `{__name__="m", a="b"}`) to labels.
pub fn parse_series(text: &str) -> Result<Labels, String> {
    if text.trim().is_empty() || text.trim() == "{}" {
        return Ok(Labels::empty());
    }
    let expr = promql::parse(text).map_err(|e| e.to_string())?;
    let Expr::VectorSelector(vs) = expr else {
        return Err(format!(
            "`{text}` is not a series (`metric{{label=\"value\"}}`)"
        ));
    };
    let mut pairs = Vec::new();
    if let Some(name) = &vs.name {
        pairs.push((NAME.to_string(), name.clone()));
    }
    for m in &vs.matchers.matchers {
        if m.op != MatchOp::Equal {
            return Err(format!("`{text}`: only `=` in a series' labels"));
        }
        pairs.push((m.name.clone(), m.value.clone()));
    }
    Ok(Labels::new(pairs))
}

/// Expands promtool's series notation into values by position (None:
/// no sample there).
pub fn expand_values(text: &str) -> Result<Vec<Option<f64>>, String> {
    let mut out = Vec::new();
    for token in text.split_whitespace() {
        if token == "_" {
            out.push(None);
            continue;
        }
        if token == "stale" {
            out.push(Some(stale()));
            continue;
        }
        let Some((head, times)) = token.rsplit_once('x') else {
            out.push(Some(number(token)?));
            continue;
        };
        let times: u64 = times
            .parse()
            .map_err(|_| format!("`{token}`: expected a count after `x`"))?;
        // A million values per series in all, not per token: a 16 MiB file
        // of `1x1000000` tokens would otherwise hold 10^12 of them.
        if times.saturating_add(out.len() as u64) > 1_000_000 {
            return Err(format!("`{token}`: more than a million values"));
        }
        if head == "_" {
            out.extend(std::iter::repeat_n(None, times as usize));
            continue;
        }
        // `a+b`, `a-b` (the sign of `a` and exponents are not the operator).
        let split = head
            .char_indices()
            .skip(1)
            .find(|(i, c)| {
                (*c == '+' || *c == '-') && !matches!(head.as_bytes()[i - 1], b'e' | b'E')
            })
            .map(|(i, _)| i);
        let (start, step) = match split {
            Some(i) => (number(&head[..i])?, number(&head[i..])?),
            None => (number(head)?, 0.0),
        };
        let mut value = start;
        for _ in 0..=times {
            out.push(Some(value));
            value += step;
        }
    }
    Ok(out)
}

fn number(text: &str) -> Result<f64, String> {
    let unsigned = text.trim_start_matches(['+', '-']);
    let v = match unsigned {
        "Inf" | "inf" => f64::INFINITY,
        "NaN" | "nan" => f64::NAN,
        _ => unsigned
            .parse::<f64>()
            .map_err(|_| format!("`{text}` is not a number"))?,
    };
    Ok(if text.starts_with('-') { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_notation_as_prometheus_expands_it() {
        let v = |text: &str| expand_values(text).unwrap();
        assert_eq!(v("0+10x3"), [Some(0.0), Some(10.0), Some(20.0), Some(30.0)]);
        assert_eq!(
            v("1x2 _ 5"),
            [Some(1.0), Some(1.0), Some(1.0), None, Some(5.0)]
        );
        assert_eq!(v("_x2 -1-1x1"), [None, None, Some(-1.0), Some(-2.0)]);
        assert_eq!(v("1e3+1e2x1"), [Some(1000.0), Some(1100.0)]);
        assert!(crate::metrics::store::is_stale(v("stale")[0].unwrap()));
        assert!(expand_values("1+x3").is_err());
        assert!(expand_values("abc").is_err());
        assert_eq!(
            parse_series(r#"up{job="a", instance="b"}"#).unwrap(),
            Labels::from_pairs(&[("__name__", "up"), ("instance", "b"), ("job", "a")])
        );
        assert!(parse_series(r#"up{job=~"a"}"#).is_err());
    }
}
