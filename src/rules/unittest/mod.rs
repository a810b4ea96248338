//! Prometheus rule unit tests (`promtool test rules` files), run with the
//! embedded evaluator the way promtool 3 runs them: the input series loaded
//! at `start_timestamp + i × interval`, each sample only once the
//! evaluation reaches its time (promtool's lazy loader), every group
//! evaluated at every `evaluation_interval` up to the latest `eval_time`
//! (in `group_eval_order`, else file order), firing alerts compared at each
//! `alert_rule_test` (with the evaluation at or just before its time),
//! `promql_expr_test` queried at the end. A series defined twice keeps its
//! last definition, as promtool's loader keeps it. `model` is the file,
//! `inputs` the input series, `series` the values' notation, `compare` the
//! verdicts, `junit` the `--junit` file.

mod compare;
mod error;
mod inputs;
pub(crate) mod junit;
mod model;
mod series;
mod timestamp;

pub use inputs::{SeriesError, parse_series};
pub use series::{ExpandError, Values, expand};

use std::cell::OnceCell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use regex::Regex;
use serde_saphyr::Spanned;

use super::alert::External;
use super::eval::{BadExpr, Options, ParsedRules, RuleSet};
use super::glob::BadPattern;
use super::nullable::Str;
use crate::diag::{Position, ScenarioError};
use crate::metrics::store::Store;
use error::TestError;
use model::{AlertTest, GroupSpec, KEYS, TestFile};

/// The most evaluation steps (`eval_time` / `evaluation_interval`) one test
/// group may take: every group of every rule file is evaluated at each.
/// Promtool has no bound; `eval_time: 4294967296m` would run for hours.
pub const MAX_EVAL_STEPS: i64 = 1_000_000;

/// How a run is asked for (`promtool test rules` flags).
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// `--run`: only test groups whose name this matches (searched, not
    /// anchored, as Go's `MatchString`).
    pub run: Option<Regex>,
    /// `--ignore-unknown-fields`: the rule files (not the test file, which
    /// promtool always reads strictly) may carry keys of their own.
    pub ignore_unknown_fields: bool,
    /// `--enable-feature`: the experimental PromQL rules and `expr`s may
    /// use (none by default, as promtool).
    pub features: super::Features,
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
    /// The group's `name`, else promtool's `unnamed#N` (N from 0).
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

/// Runs one test file with promtool's defaults.
pub fn run_file(path: &Path) -> FileOutcome {
    run_file_with(path, &RunOptions::default())
}

/// Runs one test file.
pub fn run_file_with(path: &Path, options: &RunOptions) -> FileOutcome {
    let mut outcome = FileOutcome {
        path: path.to_path_buf(),
        groups: Vec::new(),
        error: None,
    };
    let read = super::ReadOptions {
        ignore_unknown: options.ignore_unknown_fields,
        features: options.features,
    };
    match load(path, read) {
        Err(e) => outcome.error = Some(e.to_string()),
        Ok((file, rules, text)) => {
            let source = Source { path, text: &text };
            // The rule files are parsed once, for every test group.
            let parsed = OnceCell::new();
            for (index, group) in file.tests.iter().enumerate() {
                if let Some(run) = &options.run
                    && !run.is_match(group.name.as_str())
                {
                    continue;
                }
                let name = if group.name.0.is_empty() {
                    format!("unnamed#{index}")
                } else {
                    group.name.0.clone()
                };
                outcome.groups.push(
                    match run_group(source, &file, &rules, &parsed, group, options.features) {
                        Ok(result) => GroupOutcome { name, ..result },
                        Err(e) => GroupOutcome {
                            name,
                            failures: vec![e.to_string()],
                            checks: 0,
                        },
                    },
                );
            }
        }
    }
    outcome
}

fn load(
    path: &Path,
    read: super::ReadOptions,
) -> Result<(TestFile, Vec<super::RuleFile>, String), TestError> {
    let source = crate::diag::read(path).map_err(TestError::At)?;
    let file: Option<TestFile> = serde_saphyr::from_str(&source)
        .map_err(|e| crate::diag::yaml::error_with_keys(path, &source, &e, KEYS))?;
    let file = file.unwrap_or(TestFile {
        rule_files: Vec::new(),
        evaluation_interval: None,
        group_eval_order: Vec::new(),
        tests: Vec::new(),
        fuzzy_compare: false,
    });
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut rules = Vec::new();
    for rule_path in rule_paths(dir, &file.rule_files)? {
        rules.push(super::load_with(&rule_path, read).map_err(TestError::At)?);
    }
    let mut seen = Vec::new();
    for name in &file.group_eval_order {
        if seen.contains(&name) {
            return Err(TestError::RepeatedGroup {
                name: name.as_str().to_string(),
            });
        }
        seen.push(name);
    }
    Ok((file, rules, source))
}

/// `rule_files` relative to the test file, each a glob (`rules/*.yml`), as
/// promtool resolves them; a name that is no pattern is taken as it is (so
/// a missing file is an error that names it).
fn rule_paths(dir: &Path, names: &[Str]) -> Result<Vec<PathBuf>, BadPattern> {
    let mut out = Vec::new();
    for name in names {
        let name = name.as_str();
        if name.is_empty() {
            continue;
        }
        let path = dir.join(name);
        if !name.contains(['*', '?', '[']) {
            out.push(path);
            continue;
        }
        let matched = super::glob::matches(&path)?;
        if matched.is_empty() {
            eprintln!("  WARNING: no file match pattern {}", path.display());
        }
        out.extend(matched);
    }
    Ok(out)
}

/// Why a test file's duration field does not read.
#[derive(Debug, thiserror::Error)]
enum FieldDuration {
    #[error("{what}: {source}")]
    Bad {
        what: &'static str,
        source: super::BadDuration,
    },
    /// A Prometheus duration past the milliseconds an `i64` holds.
    #[error("{what}: `{text}` is too long")]
    TooLong { what: &'static str, text: String },
}

fn duration(text: &str, what: &'static str) -> Result<i64, FieldDuration> {
    let d = super::duration(text).map_err(|source| FieldDuration::Bad { what, source })?;
    i64::try_from(d.as_millis()).map_err(|_| FieldDuration::TooLong {
        what,
        text: text.to_string(),
    })
}

/// An optional duration field: its milliseconds, 0 when absent; an error
/// points at the field in the test file.
fn duration_or_zero(
    source: Source<'_>,
    field: &Option<Spanned<Str>>,
    what: &'static str,
) -> Result<i64, ScenarioError> {
    match field {
        Some(text) => duration(text.value.as_str(), what).map_err(|e| {
            source.error(
                text,
                e.to_string(),
                "whole numbers with units, largest first: `90s`, `1h30m`, `0`",
            )
        }),
        None => Ok(0),
    }
}

/// The test file being run, for errors that point into it.
#[derive(Clone, Copy)]
struct Source<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    /// `message` at `field`'s line and column, with `hint`.
    fn error<T>(&self, field: &Spanned<T>, message: String, hint: &str) -> ScenarioError {
        ScenarioError::at(
            self.path,
            self.text,
            Some(Position::from(field.referenced)),
            message,
        )
        .hint(hint)
    }

    /// `message` at byte `offset` of `field`'s text, with `hint`: the
    /// column of that byte when the scalar sits on one line as written
    /// (plain or quoted, no escapes before it), else the scalar's start.
    fn error_in(
        &self,
        field: &Spanned<Str>,
        offset: usize,
        message: String,
        hint: &str,
    ) -> ScenarioError {
        let mut position = Position::from(field.referenced);
        let value = field.value.as_str();
        let line = self
            .text
            .lines()
            .nth((position.line as usize).saturating_sub(1))
            .unwrap_or("");
        let start = line
            .char_indices()
            .nth((position.column as usize).saturating_sub(1))
            .map_or(line.len(), |(i, _)| i);
        let mut written = &line[start..];
        let mut quote = 0;
        if written.starts_with(['\'', '"']) {
            written = &written[1..];
            quote = 1;
        }
        let prefix = value.get(..offset).unwrap_or(value);
        if written.starts_with(prefix) {
            position.column += quote + prefix.chars().count() as u64;
        }
        ScenarioError::at(self.path, self.text, Some(position), message).hint(hint)
    }
}

fn run_group(
    source: Source<'_>,
    file: &TestFile,
    rule_files: &[super::RuleFile],
    parsed: &OnceCell<Result<ParsedRules, BadExpr>>,
    spec: &GroupSpec,
    features: super::Features,
) -> Result<GroupOutcome, TestError> {
    let mut eval_interval =
        duration_or_zero(source, &file.evaluation_interval, "evaluation_interval")?;
    if eval_interval == 0 {
        eval_interval = 60_000;
    }
    let mut interval = duration_or_zero(source, &spec.interval, "interval")?;
    if interval == 0 {
        interval = eval_interval;
    }
    let start = match &spec.start_timestamp {
        Some(text) => timestamp::parse(text.value.as_str()).map_err(|e| {
            source.error(
                text,
                format!("start_timestamp: {e}"),
                "Unix seconds (`1609459200`) or RFC 3339 (`2024-01-01T00:00:00Z`)",
            )
        })?,
        None => 0,
    };
    let mut store = Store::default();
    let defined = inputs::Defined::read(&spec.input_series, source)?;
    let mut inputs = defined.load(&mut store, start, interval)?;
    let external = External {
        labels: spec
            .external_labels
            .iter()
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect(),
        url: spec.external_url.0.clone(),
        // promtool's rule manager has no external URL.
        function_url: None,
    };
    // `eval_interval` is the file's, the same for every group.
    let default_interval = Duration::from_millis(eval_interval as u64);
    let parsed = parsed
        .get_or_init(|| ParsedRules::new(rule_files, default_interval))
        .clone()?;
    let mut set = RuleSet::from_parsed(
        parsed,
        Options {
            default_interval,
            lookback: Duration::from_secs(300),
            external,
            legacy_rate_extrapolation: false,
        },
    );
    // Groups in `group_eval_order`, the others first in file order.
    let rank = |name: &str| {
        file.group_eval_order
            .iter()
            .position(|g| g.as_str() == name)
            .unwrap_or(0)
    };
    let mut order: Vec<usize> = (0..set.groups.len()).collect();
    order.sort_by_key(|&i| rank(&set.groups[i].name));

    let mut alert_tests: Vec<(i64, &AlertTest)> = Vec::new();
    for test in &spec.alert_rule_test {
        let at = duration_or_zero(source, &test.eval_time, "eval_time")?;
        if test.alertname.0.is_empty() {
            let in_group = if spec.name.0.is_empty() {
                String::new()
            } else {
                format!(" (in TestGroup {})", spec.name.as_str())
            };
            return Err(TestError::NoAlertname {
                eval_time: show_duration(at),
                in_group,
            });
        }
        alert_tests.push((at, test));
    }
    alert_tests.sort_by_key(|(t, _)| *t);
    let mut expr_tests = Vec::new();
    for test in &spec.promql_expr_test {
        expr_tests.push((
            duration_or_zero(source, &test.eval_time, "eval_time")?,
            test,
        ));
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
            at.as_ref()
                .map_or_else(|| show_duration(t), |at| at.value.0.clone()),
            show_duration(eval_interval),
            t / eval_interval + 1,
        );
        let position = at.as_ref().map(|at| Position::from(at.referenced));
        return Err(
            ScenarioError::at(source.path, source.text, position, message)
                .hint("a shorter eval_time or a longer evaluation_interval")
                .into(),
        );
    }

    let mut failures = Vec::new();
    let mut next_alert_test = 0;
    let mut offset = 0;
    while offset <= max_t {
        let ts = start + offset;
        inputs.load_till(&mut store, ts)?;
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
            && *t >= offset
            && *t < offset + eval_interval
        {
            if let Some(failure) = compare::alerts(&set, test) {
                failures.push(failure);
            }
            next_alert_test += 1;
        }
        offset += eval_interval;
    }
    for (t, test) in &expr_tests {
        if let Some(failure) = compare::expr(
            &store,
            test,
            start + t,
            eval_interval,
            file.fuzzy_compare,
            features,
        ) {
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
