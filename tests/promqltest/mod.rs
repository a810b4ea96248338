//! Prometheus's own PromQL test suite (`tests/promql/promqltest/*.test`,
//! copied from the Prometheus repository, see its SOURCES) run against
//! slogate's evaluator and store.
//!
//! The test holds the figure reached and the exact list of evals that
//! still disagree (`known.txt`): it fails when an eval regresses and when
//! one is fixed without the list being updated. Print the report with
//! `cargo test --test main promqltest -- --nocapture`.
//!
//! What is compared: results (as `promqltest`'s `compareResult`), and that
//! an eval expected to fail fails. Not compared: the text of error
//! messages (slogate words its own) and warning/info annotations (slogate's
//! evaluator produces none); the report counts the evals that expect them.
//! Native-histogram evals (every eval of `native_histograms.test`, any
//! eval expecting a `{{...}}` histogram, any eval over data that held
//! native histograms or was loaded `load_with_nhcb`) are run like the
//! rest; the report counts them apart, and one that disagrees is listed as
//! `native`, not as a disagreement. `load_with_nhcb` also loads the
//! classic histograms as custom-bucket ones, as test.go does (`nhcb.rs`).

mod check;
mod nhcb;
mod script;
mod series;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use slogate::metrics::store::Store;

use script::Command;
use series::Refused;

/// What the suite gives today: `agree N` (evals agreeing, of all the
/// suite's, native-histogram ones included), `native N` (native-histogram
/// evals that disagree) and one `disagree file:line expr` per other eval
/// that disagrees. Rewrite it with `SLOGATE_BLESS=1`.
const KNOWN: &str = include_str!("known.txt");
const KNOWN_PATH: &str = "tests/promqltest/known.txt";

#[derive(Debug)]
enum Outcome {
    Agree,
    Disagree(String),
    /// A native-histogram eval that disagrees, and how.
    NativeHistogram(String),
}

struct Case {
    file: String,
    line: usize,
    expr: String,
    outcome: Outcome,
    annotations: bool,
    /// A native-histogram eval (whatever its outcome).
    native: bool,
}

fn run_file(name: &str, text: &str) -> Vec<Case> {
    let commands = match script::parse(text) {
        Ok(c) => c,
        Err((line, e)) => panic!("{name}:{line}: the runner cannot read the file: {e}"),
    };
    let native_file = name == "native_histograms.test";
    let mut store = Store::default();
    // Whether the loaded data held native histograms (left out of the store).
    let mut native_input = false;
    // A series line of a load this runner could not read.
    let mut load_error: Option<String> = None;
    let mut cases = Vec::new();
    for command in commands {
        match command {
            Command::Clear => {
                store = Store::default();
                native_input = false;
                load_error = None;
            }
            Command::Load {
                interval_ms,
                series,
                nhcb: with_nhcb,
                refused,
            } => {
                native_input |= with_nhcb;
                if let Some(Refused::Syntax(e)) = refused {
                    load_error.get_or_insert(e);
                }
                // A series defined twice in one load: the last definition
                // wins (test.go keeps its definitions in a map).
                let mut last: Vec<(slogate::metrics::store::Labels, Vec<series::Item>)> =
                    Vec::new();
                for (labels, items) in series {
                    last.retain(|(l, _)| *l != labels);
                    last.push((labels, items));
                }
                let native = if with_nhcb {
                    nhcb::convert(&last, interval_ms)
                } else {
                    Ok(Vec::new())
                };
                for (labels, items) in last {
                    let Ok(id) = store.series_id(&labels) else {
                        continue;
                    };
                    for (i, item) in items.iter().enumerate() {
                        let t = i as i64 * interval_ms;
                        match item {
                            series::Item::Value(v) => {
                                let _ = store.append(id, t, *v);
                            }
                            series::Item::Histogram(w) => {
                                native_input = true;
                                let _ = store.append_histogram(id, t, w.histogram.clone());
                            }
                            series::Item::Omitted => {}
                        }
                    }
                }
                match native {
                    Ok(native) => {
                        for (labels, samples) in native {
                            let Ok(id) = store.series_id(&labels) else {
                                continue;
                            };
                            for (t, h) in samples {
                                let _ = store.append_histogram(id, t, h);
                            }
                        }
                    }
                    Err(e) => {
                        load_error.get_or_insert(e);
                    }
                }
            }
            Command::Eval(eval) => {
                let native = native_file || native_input || expects_histogram(&eval);
                let outcome = if let Some(Refused::Syntax(e)) = &eval.refused {
                    Outcome::Disagree(format!("expectation unreadable: {e}"))
                } else if let Some(e) = &load_error {
                    Outcome::Disagree(format!("a loaded series unreadable: {e}"))
                } else {
                    match check::run(&store, &eval) {
                        Ok(()) => Outcome::Agree,
                        Err(e) => Outcome::Disagree(e),
                    }
                };
                let outcome = match outcome {
                    Outcome::Disagree(why) if native => Outcome::NativeHistogram(why),
                    other => other,
                };
                cases.push(Case {
                    file: name.to_string(),
                    line: eval.line,
                    expr: eval.expr.clone(),
                    outcome,
                    annotations: eval.annotations,
                    native,
                });
            }
        }
    }
    cases
}

fn expects_histogram(eval: &script::Eval) -> bool {
    match &eval.expected {
        script::Expected::Series(series) => series.iter().any(|(_, items, _)| {
            items
                .iter()
                .any(|i| matches!(i, series::Item::Histogram(_)))
        }),
        _ => false,
    }
}

fn suite() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/promql/promqltest");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the suite's directory")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 20,
        "the suite's files are in {}",
        dir.display()
    );
    files
        .iter()
        .flat_map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(path).expect("a readable test file");
            run_file(&name, &text)
        })
        .collect()
}

fn report(cases: &[Case]) -> String {
    let mut out = String::new();
    let mut files: Vec<&str> = cases.iter().map(|c| c.file.as_str()).collect();
    files.dedup();
    for file in files {
        let of_file: Vec<&Case> = cases.iter().filter(|c| c.file == file).collect();
        let agree = of_file
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Agree))
            .count();
        let _ = writeln!(out, "{file}: {agree} / {} agree", of_file.len());
        for c in of_file {
            match &c.outcome {
                Outcome::Disagree(why) => {
                    let _ = writeln!(out, "  {}:{} {}\n      {why}", c.file, c.line, c.expr);
                }
                Outcome::NativeHistogram(why) => {
                    let _ = writeln!(
                        out,
                        "  native {}:{} {}\n      {why}",
                        c.file, c.line, c.expr
                    );
                }
                Outcome::Agree => {}
            }
        }
    }
    let total = cases.len();
    let agree = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Agree))
        .count();
    let native = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::NativeHistogram(_)))
        .count();
    let annotations = cases.iter().filter(|c| c.annotations).count();
    let native_evals = cases.iter().filter(|c| c.native).count();
    let native_agree = cases
        .iter()
        .filter(|c| c.native && matches!(c.outcome, Outcome::Agree))
        .count();
    let _ = writeln!(
        out,
        "\nall: {agree} / {total} agree ({:.1} %); native-histogram evals: {native_agree} / \
         {native_evals} agree, {native} do not; without those {native}: {agree} / {} ({:.1} %); \
         {annotations} evals expect annotations (not compared)",
        100.0 * agree as f64 / total as f64,
        total - native,
        100.0 * agree as f64 / (total - native) as f64,
    );
    out
}

#[test]
fn prometheus_suite_agrees_as_recorded() {
    let cases = suite();
    println!("{}", report(&cases));
    let agree = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Agree))
        .count();
    let native = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::NativeHistogram(_)))
        .count();
    let disagreeing: Vec<&Case> = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Disagree(_)))
        .collect();
    if std::env::var_os("SLOGATE_BLESS").is_some() {
        let mut text = String::from(
            "# Prometheus's PromQL test suite against slogate: written by\n\
             # `SLOGATE_BLESS=1 cargo test --test main promqltest`, checked by it.\n",
        );
        let _ = writeln!(text, "agree {agree}\nnative {native}");
        for c in &disagreeing {
            let _ = writeln!(text, "disagree {}:{} {}", c.file, c.line, c.expr);
        }
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(KNOWN_PATH);
        std::fs::write(path, text).expect("known.txt written");
        return;
    }
    let field = |key: &str| -> usize {
        KNOWN
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{KNOWN_PATH} has no `{key} N` line"))
    };
    let known: BTreeSet<&str> = KNOWN
        .lines()
        .filter_map(|l| l.strip_prefix("disagree ")?.split_whitespace().next())
        .collect();
    let now: BTreeSet<String> = disagreeing
        .iter()
        .map(|c| format!("{}:{}", c.file, c.line))
        .collect();
    let regressed: Vec<&String> = now.iter().filter(|c| !known.contains(c.as_str())).collect();
    let fixed: Vec<&&str> = known.iter().filter(|k| !now.contains(**k)).collect();
    assert!(
        regressed.is_empty() && fixed.is_empty(),
        "the suite's disagreements changed: now disagreeing {regressed:?}; now agreeing {fixed:?} \
         (rewrite {KNOWN_PATH} with SLOGATE_BLESS=1 when that is progress)"
    );
    assert_eq!(native, field("native"), "native-histogram evals");
    assert!(
        agree >= field("agree"),
        "{agree} evals agree, fewer than {}",
        field("agree")
    );
}

#[test]
fn series_notation_expands_as_prometheus_does() {
    use series::Item::{Omitted, Value};
    let line = series::line(r#"m{a="b c"} 1+2x2 _x2 5 -1-1x1 stale"#).unwrap();
    assert_eq!(line.labels.to_string(), r#"m{a="b c"}"#);
    assert_eq!(
        line.items[..8],
        [
            Value(1.0),
            Value(3.0),
            Value(5.0),
            Omitted,
            Omitted,
            Value(5.0),
            Value(-1.0),
            Value(-2.0)
        ]
    );
    assert!(slogate::metrics::store::is_stale(match line.items[8] {
        Value(v) => v,
        _ => 0.0,
    }));
    let line = series::line("h {{schema:0 sum:1 count:1}}x1 _ {{sum:2 count:2}}").unwrap();
    assert_eq!(line.items.len(), 4);
    assert!(matches!(&line.items[3], series::Item::Histogram(w) if w.histogram.sum == 2.0));
    assert!(matches!(
        series::line("h {{schema:0 sum:1 sum:2}}").unwrap_err(),
        Refused::Syntax(e) if e.contains("duplicate key")
    ));
    assert_eq!(script::duration("1h30m").unwrap(), 5_400_000);
    assert_eq!(script::duration("0").unwrap(), 0);
    assert!(script::duration("5x").is_err());
}

#[test]
fn loads_refuse_histograms_prometheus_would_not_append() {
    let text = "load 1m\n  ok {{schema:0 count:1 buckets:[1]}}x2\n  \
                bad {{schema:9 count:4 buckets:[1 2 1]}}x2\n";
    let commands = script::parse(text).unwrap();
    let Some(script::Command::Load {
        series, refused, ..
    }) = commands.first()
    else {
        panic!("not a load");
    };
    assert_eq!(series.len(), 1);
    assert!(matches!(
        refused,
        Some(Refused::Syntax(e)) if e.ends_with("got schema 9")
    ));
}
