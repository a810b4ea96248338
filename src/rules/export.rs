//! A finished drill as a promtool unit-test file (`--export-promtool-test`):
//! the scraped series the rules read, moved onto a grid of the scrape
//! interval and written in `input_series` notation (runs compacted to
//! `a+bxN`, gaps to `_xN`), and alert tests at the times the alerts
//! changed, computed with promtool's own semantics on exactly the exported
//! samples — so `promtool test rules` on the file passes, and keeps
//! passing until someone changes the rules.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::eval::{BadExpr, Options, RuleSet};
use super::unittest::show_duration;
use super::{RuleFile, RuleKind, estimate};
use crate::metrics::store::{Labels, NAME, Store, is_stale, stale};

/// At most this many alert tests per alert name.
const TESTS_PER_ALERT: usize = 12;

/// Why a drill could not be exported as a promtool test file, or the file
/// fails under the promtool here.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ExportError {
    #[error("nothing was scraped (the scenario has no `metrics.scrape`)")]
    NothingScraped,
    #[error("the rules read no series that were scraped: nothing to export")]
    NothingRead,
    /// A rule's expression does not parse while its selectors are read.
    #[error("{rule}: {source}")]
    Selectors {
        rule: String,
        source: crate::promql::Error,
    },
    #[error(transparent)]
    Rules(#[from] BadExpr),
    /// A rule fails when replayed on the exported samples.
    #[error("rule {rule} ({source_at}) fails on the exported data at {at}: {message}")]
    RuleFails {
        rule: String,
        source_at: String,
        /// The evaluation time, as promtool shows a duration.
        at: String,
        message: String,
    },
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} fails under {version}:\n{source}", .path.display())]
    FailsUnderPromtool {
        path: PathBuf,
        version: String,
        source: PromtoolFailure,
    },
}

/// Why `promtool test rules` did not pass a file.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PromtoolFailure {
    #[error("cannot run promtool: {0}")]
    CannotRun(std::io::Error),
    /// Its stdout and stderr.
    #[error("{output}")]
    Failed { output: String },
}

/// What went into an exported file.
#[derive(Debug)]
pub(crate) struct Exported {
    pub series: usize,
    pub samples: usize,
    pub alert_tests: usize,
    /// The exported time span.
    pub span: Duration,
}

/// One grid slot of an exported series.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    Missing,
    Stale,
    Value(f64),
}

/// Writes the promtool unit-test file `dest` for the rules of `files` over
/// the samples of `store` (what was scraped, before any rule ran).
/// `step` is the input series' spacing (the scrape interval), `every` the
/// evaluation interval.
/// `legacy`: compute the expectations with the rate extrapolation of
/// Prometheus before 2024 (see [`Promtool::probe`]).
pub(crate) fn promtool_test(
    files: &[RuleFile],
    store: &Store,
    step: Duration,
    every: Duration,
    dest: &Path,
    title: &str,
    legacy: bool,
) -> Result<Exported, ExportError> {
    let step_ms = step.as_millis().max(1) as i64;
    let every_ms = every.as_millis().max(1) as i64;
    let inputs = read_series(files, store)?;
    if inputs.is_empty() {
        return Err(ExportError::NothingRead);
    }
    let t0 = inputs
        .iter()
        .filter_map(|&id| store.series()[id].points.first())
        .map(|p| p.t)
        .min()
        .unwrap_or(0);
    let grid: Vec<(Labels, Vec<Slot>)> = inputs
        .iter()
        .map(|&id| {
            let series = &store.series()[id];
            (series.labels.clone(), quantize(&series.points, t0, step_ms))
        })
        .collect();
    let slots = grid.iter().map(|(_, s)| s.len()).max().unwrap_or(0);
    let last_slot = (slots.max(1) as i64 - 1) * step_ms;
    // Samples half a unit off the evaluation grid: a range window's edge
    // then never falls on a sample, where Prometheus 2 (window closed on
    // the left) and 3 (open) disagree; the file passes under both.
    let unit = gcd(step_ms, every_ms) / 2;
    let (unit, offset) = if unit > 0 && step_ms % unit == 0 {
        (unit, unit)
    } else {
        (step_ms, 0)
    };
    // Up to the last sample.
    let end = last_slot + offset;
    let per_step = (step_ms / unit) as usize;
    let spread = |values: &[Slot]| -> Vec<Slot> {
        let mut out = vec![Slot::Missing; values.len() * per_step + 1];
        for (k, slot) in values.iter().enumerate() {
            out[k * per_step + (offset / unit) as usize] = *slot;
        }
        while out.last() == Some(&Slot::Missing) {
            out.pop();
        }
        out
    };

    // The rules on exactly the exported samples, as promtool evaluates
    // them: every group at every evaluation, in file order.
    let mut replay = Store::default();
    for (labels, values) in &grid {
        for (k, slot) in values.iter().enumerate() {
            let value = match *slot {
                Slot::Missing => continue,
                Slot::Stale => stale(),
                Slot::Value(v) => v,
            };
            let _ = replay.add(labels, k as i64 * step_ms + offset, value);
        }
    }
    let mut set = RuleSet::new(
        files,
        Options {
            default_interval: every,
            lookback: Duration::from_secs(300),
            legacy_rate_extrapolation: legacy,
            ..Options::default()
        },
    )?;
    let names: Vec<String> = unique(set.alerting_rules().map(|r| r.name.clone()));
    // Per alert name, what fired at every evaluation.
    let mut history: BTreeMap<&str, Vec<(i64, Vec<Firing>)>> = BTreeMap::new();
    let mut ts = 0;
    while ts <= end {
        for group in 0..set.groups.len() {
            set.eval_group(group, &mut replay, ts);
        }
        if let Some(e) = set.errors.first() {
            return Err(ExportError::RuleFails {
                rule: e.rule.clone(),
                source_at: e.source.clone(),
                at: show_duration(e.t),
                message: e.message.clone(),
            });
        }
        for name in &names {
            history
                .entry(name)
                .or_default()
                .push((ts, firing(&set, name)));
        }
        ts += every_ms;
    }

    let mut text = String::new();
    let _ = writeln!(
        text,
        "# {title}\n# Written by slogate {} --export-promtool-test: the scraped series the\n\
         # rules read (one sample every {}, the first scrape at {}) and the\n\
         # alerts observed on them at the evaluations where they changed.\n\
         # Check it with\n\
         #   promtool test rules {}",
        env!("CARGO_PKG_VERSION"),
        show_duration(step_ms),
        show_duration(offset),
        dest.file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned())
    );
    text.push_str("rule_files:\n");
    for file in files {
        let _ = writeln!(text, "  - {}", quote(&relative_to(dest, &file.path)));
    }
    let _ = writeln!(text, "evaluation_interval: {}", show_duration(every_ms));
    // promtool orders groups it is not told about at random.
    let groups: Vec<&str> = files
        .iter()
        .flat_map(|f| &f.groups)
        .map(|g| g.name.as_str())
        .collect();
    if unique(groups.iter().copied()).len() == groups.len() {
        text.push_str("group_eval_order:\n");
        for group in &groups {
            let _ = writeln!(text, "  - {}", quote(group));
        }
    }
    text.push_str("tests:\n");
    let _ = writeln!(text, "  - interval: {}", show_duration(unit));
    text.push_str("    input_series:\n");
    let mut samples = 0;
    for (labels, values) in &grid {
        samples += values.iter().filter(|s| **s != Slot::Missing).count();
        let _ = writeln!(
            text,
            "      - series: {}\n        values: {}",
            quote(&series_text(labels)),
            quote(&compact(&spread(values)))
        );
    }
    text.push_str("    alert_rule_test:\n");
    let mut alert_tests = 0;
    for (name, evaluations) in &history {
        // The start, each change (and the evaluation before the first),
        // and the end.
        let mut picked: Vec<usize> = vec![0];
        for i in 1..evaluations.len() {
            if !same_alerts(&evaluations[i - 1].1, &evaluations[i].1) {
                if picked.len() == 1 {
                    picked.push(i - 1);
                }
                picked.push(i);
            }
        }
        picked.push(evaluations.len() - 1);
        picked.dedup();
        picked.truncate(TESTS_PER_ALERT);
        for (t, firing) in picked.into_iter().map(|i| &evaluations[i]) {
            alert_tests += 1;
            let _ = writeln!(
                text,
                "      - eval_time: {}\n        alertname: {}",
                show_duration(*t),
                quote(name)
            );
            if firing.is_empty() {
                text.push_str("        exp_alerts: []\n");
                continue;
            }
            text.push_str("        exp_alerts:\n");
            for (labels, annotations) in firing {
                text.push_str("          - exp_labels:\n");
                for (k, v) in labels.iter().filter(|(k, _)| *k != "alertname") {
                    let _ = writeln!(text, "              {}: {}", quote(k), quote(v));
                }
                if !annotations.is_empty() {
                    text.push_str("            exp_annotations:\n");
                    for (k, v) in annotations {
                        let _ = writeln!(text, "              {}: {}", quote(k), quote(v));
                    }
                }
            }
        }
    }
    std::fs::write(dest, &text).map_err(|source| ExportError::Write {
        path: dest.to_path_buf(),
        source,
    })?;
    Ok(Exported {
        series: grid.len(),
        samples,
        alert_tests,
        span: Duration::from_millis(end.max(0) as u64),
    })
}

/// The `promtool` on PATH, and which rate extrapolation it implements.
#[derive(Debug)]
pub(crate) struct Promtool {
    pub version: String,
    /// Extrapolates as Prometheus before its 2024 fix (commit 7f912db).
    pub legacy: bool,
}

/// A rate the two extrapolations disagree on: a counter that starts in
/// the window with its zero point between half and 1.1 sampling intervals
/// before its first sample (0.6667 before the fix, 0.5 after).
const PROBE: &str = "rule_files: []\nevaluation_interval: 1s\ntests:\n  - interval: 1s\n    \
    input_series:\n      - {series: probe_total, values: '_x10 10 20'}\n    \
    promql_expr_test:\n      - expr: rate(probe_total[30s])\n        eval_time: 11s\n        \
    exp_samples: [{labels: '{}', value: 0.5}]\n";

impl Promtool {
    /// Runs `promtool` from PATH on a probe file in `scratch`; None when
    /// there is no promtool or its answer is neither extrapolation.
    pub(crate) fn probe(scratch: &Path) -> Option<Promtool> {
        let output = std::process::Command::new("promtool")
            .arg("--version")
            .output()
            .ok()?;
        let version = String::from_utf8_lossy(&output.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        let probe = scratch.join(".slogate-promtool-probe.yml");
        std::fs::write(&probe, PROBE).ok()?;
        let result = std::process::Command::new("promtool")
            .args(["test", "rules"])
            .arg(&probe)
            .output();
        let _ = std::fs::remove_file(&probe);
        let result = result.ok()?;
        let said = String::from_utf8_lossy(&result.stdout).into_owned()
            + &String::from_utf8_lossy(&result.stderr);
        if result.status.success() {
            Some(Promtool {
                version,
                legacy: false,
            })
        } else if said.contains("6.666666666666666E-01") {
            Some(Promtool {
                version,
                legacy: true,
            })
        } else {
            None
        }
    }

    /// `promtool test rules FILE`: Ok, or its output.
    pub(crate) fn check(file: &Path) -> Result<(), PromtoolFailure> {
        let output = std::process::Command::new("promtool")
            .args(["test", "rules"])
            .arg(file)
            .output()
            .map_err(PromtoolFailure::CannotRun)?;
        if output.status.success() {
            return Ok(());
        }
        Err(PromtoolFailure::Failed {
            output: String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr),
        })
    }
}

/// An alert as promtool compares it: labels and annotations.
type Firing = (Labels, BTreeMap<String, String>);

fn firing(set: &RuleSet, name: &str) -> Vec<Firing> {
    let mut alerts: Vec<Firing> = set
        .firing(name)
        .into_iter()
        .map(|a| {
            (
                a.labels.clone(),
                a.annotations.clone().into_iter().collect(),
            )
        })
        .collect();
    alerts.sort();
    alerts
}

/// The same alerts by label set (annotations with `$value` change every
/// evaluation; they are not a change of state).
fn same_alerts(a: &[Firing], b: &[Firing]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.0 == y.0)
}

/// The stored series the rules' selectors match (through recording rules),
/// never the rules' own output.
fn read_series(files: &[RuleFile], store: &Store) -> Result<Vec<usize>, ExportError> {
    let produced: Vec<&str> = files
        .iter()
        .flat_map(|f| &f.groups)
        .flat_map(|g| &g.rules)
        .map(|r| match &r.kind {
            RuleKind::Recording { record } => record.as_str(),
            RuleKind::Alerting { .. } => "ALERTS",
        })
        .chain(["ALERTS", "ALERTS_FOR_STATE"])
        .collect();
    let mut ids = Vec::new();
    for rule in files.iter().flat_map(|f| &f.groups).flat_map(|g| &g.rules) {
        let expr = crate::promql::parse(&rule.expr).map_err(|source| ExportError::Selectors {
            rule: rule.source.clone(),
            source,
        })?;
        for selector in estimate::selectors(files, &expr) {
            let Ok(promql_parser::parser::Expr::VectorSelector(vs)) =
                crate::promql::parse(&selector)
            else {
                continue;
            };
            for id in crate::promql::select(store, &vs) {
                let name = store.series()[id].labels.name().unwrap_or("");
                if !produced.contains(&name) && !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
    }
    ids.sort_by(|a, b| store.series()[*a].labels.cmp(&store.series()[*b].labels));
    Ok(ids)
}

/// The points on a grid of `step` from `t0`, each in its nearest slot
/// (a later point wins a slot).
fn quantize(points: &[crate::metrics::store::Point], t0: i64, step: i64) -> Vec<Slot> {
    let mut slots = Vec::new();
    for p in points {
        let k = ((p.t - t0) as f64 / step as f64).round().max(0.0) as usize;
        if slots.len() <= k {
            slots.resize(k + 1, Slot::Missing);
        }
        slots[k] = if is_stale(p.v) {
            Slot::Stale
        } else {
            Slot::Value(p.v)
        };
    }
    slots
}

/// The `values` notation: runs of an exact step become `a+bxN`, repeats
/// `axN`, gaps `_xN`. promtool expands `a+bxN` by repeated addition, so a
/// run is only written that way when repeated addition gives back every
/// value bit for bit.
fn compact(slots: &[Slot]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < slots.len() {
        match slots[i] {
            Slot::Missing => {
                let n = slots[i..]
                    .iter()
                    .take_while(|s| **s == Slot::Missing)
                    .count();
                parts.push(if n == 1 { "_".into() } else { format!("_x{n}") });
                i += n;
            }
            Slot::Stale => {
                parts.push("stale".into());
                i += 1;
            }
            Slot::Value(a) => {
                let run = match slots.get(i + 1) {
                    Some(Slot::Value(b)) if a.is_finite() && b.is_finite() => {
                        let step = b - a;
                        let mut value = a;
                        let mut n = 0;
                        while let Some(Slot::Value(v)) = slots.get(i + n + 1) {
                            value += step;
                            if value.to_bits() != v.to_bits() {
                                break;
                            }
                            n += 1;
                        }
                        (n >= 2).then_some((step, n))
                    }
                    _ => None,
                };
                match run {
                    Some((step, n)) => {
                        let op = if step < 0.0 { "-" } else { "+" };
                        if step == 0.0 {
                            parts.push(format!("{}x{n}", number(a)));
                        } else {
                            parts.push(format!("{}{op}{}x{n}", number(a), number(step.abs())));
                        }
                        i += n + 1;
                    }
                    None => {
                        parts.push(number(a));
                        i += 1;
                    }
                }
            }
        }
    }
    parts.join(" ")
}

/// A value as the PromQL lexer reads it back exactly.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "Inf".into() } else { "-Inf".into() }
    } else {
        // Rust prints the shortest text that reads back to the same bits.
        format!("{v}")
    }
}

/// `name{a="1",b="2"}` with PromQL string escapes.
fn series_text(labels: &Labels) -> String {
    let mut text = labels.name().unwrap_or("").to_string();
    text.push('{');
    let pairs: Vec<String> = labels
        .iter()
        .filter(|(n, _)| *n != NAME)
        .map(|(n, v)| {
            let escaped = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{n}=\"{escaped}\"")
        })
        .collect();
    text.push_str(&pairs.join(","));
    text.push('}');
    text
}

/// A YAML double-quoted scalar (JSON's string syntax is valid YAML).
fn quote(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialize")
}

/// `target` as a path relative to the directory of `file` (promtool reads
/// `rule_files` relative to the test file), or absolute when no relative
/// path exists.
fn relative_to(file: &Path, target: &Path) -> String {
    let absolute =
        |p: &Path| -> PathBuf { std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()) };
    let base = absolute(file.parent().unwrap_or(Path::new(".")));
    let target = absolute(target);
    let base: Vec<_> = base.components().collect();
    let to: Vec<_> = target.components().collect();
    let common = base.iter().zip(&to).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return target.display().to_string();
    }
    let mut path = PathBuf::new();
    for _ in common..base.len() {
        path.push("..");
    }
    for part in &to[common..] {
        path.push(part);
    }
    path.display().to_string()
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

fn unique<T: PartialEq>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::unittest::expand;

    fn expanded(slots: &[Slot]) -> Vec<Option<f64>> {
        slots
            .iter()
            .map(|s| match s {
                Slot::Missing => None,
                Slot::Stale => Some(stale()),
                Slot::Value(v) => Some(*v),
            })
            .collect()
    }

    #[test]
    fn compact_notation_expands_back_to_the_same_values() {
        use Slot::{Missing as M, Stale as S, Value as V};
        let cases: Vec<(Vec<Slot>, &str)> = vec![
            (vec![V(0.0), V(10.0), V(20.0), V(30.0)], "0+10x3"),
            (vec![V(5.0), V(5.0), V(5.0)], "5x2"),
            (vec![V(3.0), V(2.0), V(1.0), V(0.0)], "3-1x3"),
            (vec![M, M, V(12.0), V(24.0)], "_x2 12 24"),
            (vec![V(1.0), V(2.0), M, V(4.0), S], "1 2 _ 4 stale"),
            (
                vec![V(0.1), V(0.2), V(0.30000000000000004), V(0.4)],
                "0.1+0.1x3",
            ),
            // 0.1 + 0.1 + 0.1 is not 0.3: no run.
            (vec![V(0.1), V(0.2), V(0.3), V(0.4)], "0.1 0.2 0.3 0.4"),
            (vec![V(-1.5), V(-3.0), V(-4.5)], "-1.5-1.5x2"),
        ];
        for (slots, want) in cases {
            let text = compact(&slots);
            assert_eq!(text, want);
            let back = expand(&text, 1_000_000).unwrap();
            let same = back.len() == slots.len()
                && back
                    .iter()
                    .zip(expanded(&slots))
                    .all(|(a, b)| match (a, b) {
                        (Some(x), Some(y)) => x.to_bits() == y.to_bits(),
                        (None, None) => true,
                        _ => false,
                    });
            assert!(same, "{text}: {back:?}");
        }
    }

    #[test]
    fn points_land_in_their_nearest_slot() {
        let p = |t, v| crate::metrics::store::Point { t, v };
        let slots = quantize(&[p(1_003, 1.0), p(1_998, 2.0), p(4_001, 4.0)], 1_003, 1_000);
        assert_eq!(
            slots,
            [
                Slot::Value(1.0),
                Slot::Value(2.0),
                Slot::Missing,
                Slot::Value(4.0)
            ]
        );
    }

    #[test]
    fn rules_that_read_nothing_scraped_export_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let rules = dir.path().join("rules.yml");
        std::fs::write(
            &rules,
            "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n",
        )
        .unwrap();
        let files = [crate::rules::load(&rules).unwrap()];
        let second = Duration::from_secs(1);
        let got = promtool_test(
            &files,
            &Store::default(),
            second,
            second,
            &dir.path().join("test.yml"),
            "t",
            false,
        );
        let Err(e) = got else {
            panic!("exported from nothing");
        };
        assert!(matches!(e, ExportError::NothingRead), "{e:?}");
        assert_eq!(
            e.to_string(),
            "the rules read no series that were scraped: nothing to export"
        );
    }

    #[test]
    fn rule_files_are_named_relative_to_the_test_file() {
        assert_eq!(
            relative_to(
                Path::new("/a/b/out/test.yml"),
                Path::new("/a/b/rules/x.yml")
            ),
            "../rules/x.yml"
        );
        assert_eq!(
            relative_to(Path::new("/a/test.yml"), Path::new("/a/x.yml")),
            "x.yml"
        );
    }
}
