//! Rule files and unit tests read as promtool reads them (tests/rules/parity):
//! quoted keys, empty files, nulls, multi-line quoted scalars, literal
//! scalar text, duplicate input series, `exp_labels.alertname`, rule-file
//! globs, a ten-million-value series, and PrometheusRule resources (in
//! `slogate check` and in a scenario's `rules:`). Each verdict is confirmed
//! against Debian's promtool 2.42 where its behaviour is Prometheus 3's.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::{self, slogate};

fn file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/rules/parity")
        .join(name)
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr)
}

/// promtool's verdict, when Debian's promtool is installed.
fn promtool(args: &[&str], path: &Path) -> Option<(bool, String)> {
    let promtool = support::require_tool("promtool", "prometheus")?;
    let output = std::process::Command::new(promtool)
        .args(args)
        .arg(path)
        .current_dir(path.parent().unwrap())
        .output()
        .unwrap();
    Some((output.status.success(), stdout(&output)))
}

#[test]
fn rule_files_promtool_accepts_are_accepted_with_the_same_rule_count() {
    for (name, ours, theirs) in [
        (
            "quoted-keys.yml",
            "(rules: 1 group, 1 recording and 1 alerting rule)",
            "SUCCESS: 2 rules found",
        ),
        (
            "empty.yml",
            "(rules: 0 groups, 0 recording and 0 alerting rules)",
            "SUCCESS: 0 rules found",
        ),
        (
            "braces.yml",
            "(rules: 0 groups, 0 recording and 0 alerting rules)",
            "SUCCESS: 0 rules found",
        ),
        (
            "null.yml",
            "(rules: 0 groups, 0 recording and 0 alerting rules)",
            "SUCCESS: 0 rules found",
        ),
        (
            "nulls.yml",
            "(rules: 2 groups, 0 recording and 1 alerting rule)",
            "SUCCESS: 1 rules found",
        ),
        (
            "multiline-quoted.yml",
            "(rules: 1 group, 0 recording and 1 alerting rule)",
            "SUCCESS: 1 rules found",
        ),
    ] {
        let path = file(name);
        let output = slogate(&["check", path.to_str().unwrap()]);
        let text = stdout(&output);
        assert!(output.status.success(), "{name}: {text}");
        assert!(text.contains(ours), "{name}: {text}");
        if let Some((passed, text)) = promtool(&["check", "rules"], &path) {
            assert!(passed && text.contains(theirs), "{name}: promtool: {text}");
        }
    }
}

/// A PrometheusRule file is read for its spec.groups (Prometheus itself,
/// and so promtool, reads only plain rule files: this is for the files
/// kube-prometheus ships).
#[test]
fn prometheus_rule_resources_are_read_for_their_groups() {
    let path = file("prometheusrule.yml");
    let output = slogate(&["check", path.to_str().unwrap()]);
    support::assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("(rules: 3 groups, 2 recording and 1 alerting rule)"),
        "{}",
        stdout(&output)
    );
    // A scenario's `rules:` takes it too: its alert is known by name.
    let scenario = file("scenario-with-resource.yaml");
    let output = slogate(&["check", scenario.to_str().unwrap()]);
    support::assert_exit(&output, 0);
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&path, dir.path().join("prometheusrule.yml")).unwrap();
    let misspelt = std::fs::read_to_string(&scenario)
        .unwrap()
        .replace("DemoDown", "DemoDwn");
    std::fs::write(dir.path().join("s.yaml"), misspelt).unwrap();
    let output = slogate(&["check", dir.path().join("s.yaml").to_str().unwrap()]);
    support::assert_exit(&output, 2);
    assert!(
        stdout(&output).contains("did you mean `DemoDown`?"),
        "{}",
        stdout(&output)
    );
    // A resource of another kind among them is named.
    let other = std::fs::read_to_string(&path).unwrap().replacen(
        "kind: PrometheusRule\nmetadata:\n  name: more-rules",
        "kind: ConfigMap\nmetadata:\n  name: more-rules",
        1,
    );
    std::fs::write(dir.path().join("mixed.yml"), other).unwrap();
    let output = slogate(&["check", dir.path().join("mixed.yml").to_str().unwrap()]);
    support::assert_exit(&output, 2);
    assert!(
        stdout(&output).contains("mixed.yml:27:1: a `ConfigMap` among PrometheusRule resources"),
        "{}",
        stdout(&output)
    );
}

/// Nulls, an omitted `eval_time`, literal label text, a duplicate series
/// (the last wins), `exp_labels.alertname` overwritten, `rule_files` globs,
/// samples loaded only as the evaluation reaches them: each passes, in
/// slogate and in promtool.
#[test]
fn unit_tests_promtool_passes_pass() {
    for name in [
        "nulls-test.yml",
        "scalars-test.yml",
        "lazy-loading-test.yml",
    ] {
        let path = file(name);
        let output = slogate(&["test-rules", path.to_str().unwrap()]);
        assert!(output.status.success(), "{name}: {}", stdout(&output));
        if let Some((passed, text)) = promtool(&["test", "rules"], &path) {
            assert!(passed, "{name}: promtool: {text}");
        }
    }
    // The same file with the first definition of `y` expected fails in both.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("globbed")).unwrap();
    for rules in ["a.yml", "b.yml"] {
        std::fs::copy(
            file("globbed").join(rules),
            dir.path().join("globbed").join(rules),
        )
        .unwrap();
    }
    let first = std::fs::read_to_string(file("scalars-test.yml"))
        .unwrap()
        .replace("            value: 7", "            value: 5");
    let path = dir.path().join("first.yml");
    std::fs::write(&path, first).unwrap();
    let output = slogate(&["test-rules", path.to_str().unwrap()]);
    support::assert_exit(&output, 1);
    assert!(
        stdout(&output).contains(r#"got:      y{bucket="1.0"} 7"#),
        "{}",
        stdout(&output)
    );
    if let Some((passed, text)) = promtool(&["test", "rules"], &path) {
        assert!(!passed, "promtool: {text}");
    }
}

/// `values: '0x10000000'` (ten million and one zeros) runs at once, in
/// bounded memory: only the samples up to the last eval_time are made.
#[test]
fn a_ten_million_value_series_runs_in_moments() {
    let path = file("huge-test.yml");
    let started = Instant::now();
    let output = slogate(&["test-rules", path.to_str().unwrap()]);
    let took = started.elapsed();
    assert!(output.status.success(), "{}", stdout(&output));
    assert!(took < Duration::from_secs(5), "{took:?}");
}

/// A unit-test file's bad values are named at their line and column, in
/// slogate's words (no deserializer message), and promtool refuses them
/// too; a bad `--run` pattern is a usage error.
#[test]
fn bad_unit_test_values_are_named_at_their_line() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, want) in [
        (
            "start.yml",
            "tests:\n- start_timestamp: yesterday\n",
            "start.yml:2:20: start_timestamp: cannot parse \"yesterday\" to a valid timestamp",
        ),
        (
            "value.yml",
            "tests:\n- promql_expr_test:\n  - expr: up\n    exp_samples:\n    - value: abc\n",
            "value.yml:5:14: `abc` is not a number",
        ),
        (
            "interval.yml",
            "tests:\n- interval: 1.5m\n",
            "interval.yml:2:13: interval: `1.5m` is not a Prometheus duration",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let output = slogate(&["test-rules", path.to_str().unwrap()]);
        support::assert_exit(&output, 1);
        let text = stdout(&output);
        assert!(text.contains(want), "{name}: {text}");
        assert!(
            !text.contains("invalid type") && !text.contains("floating point"),
            "{text}"
        );
        // promtool 2.42 refuses each too (it has no start_timestamp at all).
        if let Some((passed, theirs)) = promtool(&["test", "rules"], &path) {
            assert!(!passed, "{name}: promtool accepts it: {theirs}");
        }
    }
    let path = dir.path().join("interval.yml");
    let output = slogate(&["test-rules", "--run", "(", path.to_str().unwrap()]);
    support::assert_exit(&output, 2);
    assert!(
        stdout(&output).contains("--run: not a regular expression"),
        "{}",
        stdout(&output)
    );
}
