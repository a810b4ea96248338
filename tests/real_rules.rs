//! The real-world corpus (tests/rules/real: published rule files and
//! promtool unit tests from public repositories, byte for byte, listed in
//! SOURCES): `slogate check` and `slogate test-rules` give the verdict
//! EXPECTED records for each file, which is Debian's promtool 2.42 or, where
//! 2.42 is too old, Prometheus 3's (EXPECTED says why, per file).
//!
//! The files slogate still gets wrong are listed in `KNOWN_DISAGREEMENTS`,
//! each with the class of issue #16 it falls in. The test fails on any other
//! disagreement, and also when a listed file starts agreeing, so the list
//! shrinks as the fixes land.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Files whose verdict slogate does not give yet, with the class of issue #16
/// that explains the first difference (a file may hide a second one behind
/// it). Paths are relative to tests/rules/real.
const KNOWN_DISAGREEMENTS: &[(&str, &str)] = &[];

/// At most this long for the whole corpus; it takes a few seconds.
const TIME_LIMIT: Duration = Duration::from_secs(60);

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rules/real")
}

/// One line of EXPECTED.
#[derive(Debug)]
struct Expected {
    /// `rules` or `test`.
    kind: String,
    /// Relative to tests/rules/real.
    path: String,
    passes: bool,
    /// For a test expected to fail: text its failure report must contain.
    must_contain: Option<String>,
}

fn manifest() -> Vec<Expected> {
    let text = std::fs::read_to_string(corpus().join("EXPECTED")).unwrap();
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 6, "EXPECTED line: {line}");
            assert!(matches!(fields[0], "rules" | "test"), "{line}");
            assert!(matches!(fields[2], "pass" | "fail"), "{line}");
            assert!(
                matches!(fields[3], "promtool-2.42" | "prometheus-3"),
                "{line}"
            );
            Expected {
                kind: fields[0].to_string(),
                path: fields[1].to_string(),
                passes: fields[2] == "pass",
                must_contain: (fields[4] != "-").then(|| fields[4].to_string()),
            }
        })
        .collect()
}

/// Runs slogate on one corpus file as a user would: `check FILE`, or
/// `test-rules FILE` from the file's directory (rule_files are relative).
fn run_slogate(expected: &Expected) -> std::process::Output {
    let path = corpus().join(&expected.path);
    let mut command = Command::new(env!("CARGO_BIN_EXE_slogate"));
    if expected.kind == "rules" {
        command.arg("check").arg(&path);
    } else {
        command
            .arg("test-rules")
            .arg(path.file_name().unwrap())
            .current_dir(path.parent().unwrap());
    }
    command.output().expect("slogate runs")
}

/// Where slogate's verdict differs from the manifest's: the first lines of
/// what it printed.
fn disagreement(expected: &Expected, output: &std::process::Output) -> Option<String> {
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    let agrees = match (&expected.must_contain, expected.passes) {
        (_, true) => output.status.success(),
        (Some(needle), false) => output.status.code() == Some(1) && text.contains(needle),
        (None, false) => output.status.code().is_some_and(|c| c != 0),
    };
    let head: String = text.lines().take(4).collect::<Vec<_>>().join(" | ");
    (!agrees).then(|| {
        format!(
            "expected {}, slogate exits {:?}: {head}",
            if expected.passes { "pass" } else { "fail" },
            output.status.code()
        )
    })
}

#[test]
fn real_world_rule_files_and_unit_tests_get_the_reference_verdicts() {
    let entries = manifest();
    let rule_files = entries.iter().filter(|e| e.kind == "rules").count();
    let unit_tests = entries.iter().filter(|e| e.kind == "test").count();
    assert!(rule_files >= 100, "{rule_files} rule files");
    assert!(unit_tests >= 20, "{unit_tests} unit-test files");
    assert_sources_match(&entries);

    let began = Instant::now();
    let next = AtomicUsize::new(0);
    let found = Mutex::new(BTreeMap::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get() * 2);
    std::thread::scope(|scope| {
        for _ in 0..workers.min(8) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(expected) = entries.get(i) else {
                        break;
                    };
                    assert!(began.elapsed() < TIME_LIMIT, "over {TIME_LIMIT:?}");
                    let output = run_slogate(expected);
                    if let Some(why) = disagreement(expected, &output) {
                        found.lock().unwrap().insert(expected.path.clone(), why);
                    }
                }
            });
        }
    });
    let found = found.into_inner().unwrap();
    eprintln!(
        "{} files in {:.2} s, {} disagreements",
        entries.len(),
        began.elapsed().as_secs_f64(),
        found.len()
    );

    let known: BTreeMap<&str, &str> = KNOWN_DISAGREEMENTS.iter().copied().collect();
    assert_eq!(
        known.len(),
        KNOWN_DISAGREEMENTS.len(),
        "a file listed twice"
    );
    for path in known.keys() {
        assert!(
            entries.iter().any(|e| e.path == *path),
            "{path} is listed in KNOWN_DISAGREEMENTS but not in EXPECTED"
        );
    }
    let new: Vec<String> = found
        .iter()
        .filter(|(path, _)| !known.contains_key(path.as_str()))
        .map(|(path, why)| format!("  {path}: {why}"))
        .collect();
    let fixed: Vec<String> = known
        .iter()
        .filter(|(path, _)| !found.contains_key(**path))
        .map(|(path, class)| format!("  {path} (class {class})"))
        .collect();
    assert!(
        new.is_empty() && fixed.is_empty(),
        "new disagreements with EXPECTED:\n{}\nnow agreeing (remove from KNOWN_DISAGREEMENTS):\n{}",
        new.join("\n"),
        fixed.join("\n")
    );
}

/// Every file SOURCES lists is in EXPECTED once, and exists.
fn assert_sources_match(entries: &[Expected]) {
    let sources = std::fs::read_to_string(corpus().join("SOURCES")).unwrap();
    let mut listed: Vec<&str> = sources
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| line.split('\t').nth(4).expect("five fields in SOURCES"))
        .collect();
    let mut manifest: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
    listed.sort_unstable();
    manifest.sort_unstable();
    assert_eq!(
        listed, manifest,
        "SOURCES and EXPECTED list different files"
    );
    for path in manifest {
        assert!(corpus().join(path).is_file(), "{path} is missing");
    }
}

/// The manifest's promtool-2.42 verdicts are what Debian's promtool says
/// today (40 s of promtool runs here, so not in CI: run it with `--ignored`
/// after changing the corpus).
#[test]
#[ignore = "runs promtool on 270 files: about 40 s"]
fn manifest_matches_debian_promtool() {
    let Some(promtool) = crate::support::require_tool("promtool", "prometheus") else {
        return;
    };
    let entries = manifest();
    let text = std::fs::read_to_string(corpus().join("EXPECTED")).unwrap();
    let mut differ = Vec::new();
    for (expected, line) in entries.iter().zip(
        text.lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty()),
    ) {
        if !line.contains("\tpromtool-2.42\t") {
            continue;
        }
        let path = corpus().join(&expected.path);
        let mut command = Command::new(&promtool);
        if expected.kind == "rules" {
            command.args(["check", "rules"]).arg(&path);
        } else {
            command
                .args(["test", "rules"])
                .arg(path.file_name().unwrap())
                .current_dir(path.parent().unwrap());
        }
        let output = command.output().unwrap();
        if output.status.success() != expected.passes {
            differ.push(expected.path.clone());
        }
    }
    assert!(differ.is_empty(), "promtool differs on {differ:?}");
}
