//! Hostile input to `query` and `test-rules`: every bound ends the command
//! quickly with a usage error (exit 2) that names the bound, never a hang,
//! a panic or gigabytes of memory.

use std::time::{Duration, Instant};

use crate::support::server::{Reply, Server};
use crate::support::{self, assert_exit};

/// A /metrics endpoint with `up 1` and a series whose label is `long`.
fn metrics_server(long: &str) -> Server {
    let body = format!("# TYPE up gauge\nup 1\n# TYPE named gauge\nnamed{{long=\"{long}\"}} 2\n");
    Server::start(move |_| Reply::Respond {
        status: 200,
        delay: Duration::ZERO,
        body: body.clone().into_bytes(),
        chunked: false,
    })
}

/// Runs `slogate query EXPR --scrape URL ARGS…`, asserting it ended in `most`.
fn query(server: &Server, expr: &str, args: &[&str], most: Duration) -> std::process::Output {
    let url = server.url("/metrics");
    let mut all = vec!["query", expr, "--scrape", &url];
    all.extend_from_slice(args);
    let started = Instant::now();
    let output = support::slogate(&all);
    assert!(
        started.elapsed() < most,
        "{expr} {args:?} took {:?}",
        started.elapsed()
    );
    output
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn query_prints_a_series_name_longer_than_any_format_width() {
    let long = "x".repeat(70_000);
    let server = metrics_server(&long);
    let output = query(&server, "named", &[], Duration::from_secs(20));
    assert_exit(&output, 0);
    let text = String::from_utf8_lossy(&output.stdout);
    let row = text.lines().nth(1).unwrap();
    assert!(row.contains(&long) && row.ends_with("  2"), "{:.100}", row);
    // The header is padded to the capped column, not to 70,000.
    assert!(text.lines().next().unwrap().len() < 200);
}

#[test]
fn query_refuses_times_that_are_not_finite_or_out_of_range() {
    let server = metrics_server("a");
    for (time, says) in [
        ("NaN", "is not a time"),
        ("inf", "is not a time"),
        ("-NaN", "is not a time"),
        ("9223372036854775", "is out of range"),
        ("-99999999999999", "is out of range"),
    ] {
        let output = query(
            &server,
            "up",
            &["--time", time, "--range", "2s"],
            Duration::from_secs(20),
        );
        assert_exit(&output, 2);
        let err = stderr(&output);
        assert!(
            err.contains("--time") && err.contains(says),
            "{time}: {err}"
        );
    }
    // Before the latest sample, and a range ending there: answered.
    let output = query(
        &server,
        "up",
        &["--time", "-1s", "--range", "2s"],
        Duration::from_secs(20),
    );
    assert_exit(&output, 0);
    // In range, the far past answers (empty) at once.
    let output = query(
        &server,
        "up",
        &["--time", "-62135596800"],
        Duration::from_secs(20),
    );
    assert_exit(&output, 0);
    assert!(String::from_utf8_lossy(&output.stdout).contains("(empty result)"));
}

#[test]
fn query_refuses_a_range_of_more_than_11000_points() {
    let server = metrics_server("a");
    let output = query(
        &server,
        "up",
        &["--range", "1h", "--step", "100ms"],
        Duration::from_secs(20),
    );
    assert_exit(&output, 2);
    let err = stderr(&output);
    assert!(
        err.contains("36000 points per series")
            && err.contains("11000")
            && err.contains("hint: --step"),
        "{err}"
    );
    let output = query(
        &server,
        "up",
        &["--range", "1100s", "--step", "100ms"],
        Duration::from_secs(20),
    );
    assert_exit(&output, 0);
}

#[test]
fn query_ends_the_issues_heavy_queries_with_prometheus_errors() {
    let server = metrics_server("a");
    for expr in [
        "count_over_time(vector(1)[1d:1ms])",
        "count_over_time(vector(1)[1y:1ms])",
        "max_over_time(up[1y:1ms])",
    ] {
        let output = query(&server, expr, &[], Duration::from_secs(20));
        assert_exit(&output, 2);
        assert!(
            stderr(&output).contains("use a longer subquery step"),
            "{expr}: {}",
            stderr(&output)
        );
    }
    let mut doubling = r#"label_replace(vector(1), "a", "xxxxxxxxxxxxxxxx", "", "")"#.to_string();
    for _ in 0..30 {
        doubling = format!(r#"label_join({doubling}, "a", "", "a", "a")"#);
    }
    let output = query(&server, &doubling, &[], Duration::from_secs(20));
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("label_join would build a label value of 131072 bytes"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn query_refuses_deep_expressions_in_both_shapes() {
    let server = metrics_server("a");
    let nested = format!("{}up{}", "abs(".repeat(5000), ")".repeat(5000));
    let chain = vec!["1"; 10_000].join("+");
    for (expr, column) in [(nested, 1024), (chain, 512)] {
        let output = query(&server, &expr, &[], Duration::from_secs(20));
        assert_exit(&output, 2);
        let err = stderr(&output);
        assert!(
            err.contains(&format!("nests deeper than 256 levels at column {column}")),
            "{err:.300}"
        );
    }
}

/// Writes `files` (name, text) into a new directory.
fn files(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

const RULES: &str = "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: up * 2\n";

#[test]
fn test_rules_refuses_an_eval_time_of_billions_of_steps_at_its_line() {
    let test = "rule_files: [rules.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n      - series: up\n        values: 1x10\n    promql_expr_test:\n      - expr: r\n        eval_time: 4294967296m\n        exp_samples: [{labels: r, value: 2}]\n";
    let dir = files(&[("rules.yml", RULES), ("long.yml", test)]);
    let path = dir.path().join("long.yml");
    let started = Instant::now();
    let output = support::slogate(&["test-rules", path.to_str().unwrap()]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_exit(&output, 1);
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        out.contains(&format!(
            "{}:10:20: eval_time 4294967296m at evaluation_interval 1m is 4294967297 evaluation steps, more than the 1000000 a test group may take",
            path.display()
        )),
        "{out}"
    );
    // A day at one minute is 1,441 steps: run, and it passes.
    let day = test.replace("4294967296m", "1d").replace("1x10", "1x2000");
    std::fs::write(&path, day).unwrap();
    let output = support::slogate(&["test-rules", path.to_str().unwrap()]);
    assert_exit(&output, 0);
}

#[test]
fn no_command_reads_a_device_a_pipe_or_a_huge_file() {
    let dir = files(&[("zero.yml", "rule_files: [/dev/zero]\ntests: []\n")]);
    let zero = dir.path().join("zero.yml");
    let output = support::slogate(&["test-rules", zero.to_str().unwrap()]);
    assert_exit(&output, 1);
    assert!(
        String::from_utf8_lossy(&output.stdout).contains(
            "/dev/zero: cannot read the file: it is a character device, not a regular file"
        ),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let big = dir.path().join("big.yaml");
    std::fs::write(&big, vec![b'#'; 17 << 20]).unwrap();
    let fifo = dir.path().join("fifo.yaml");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for (path, says) in [
        (
            "/dev/zero".as_ref(),
            "it is a character device, not a regular file",
        ),
        (
            big.as_path(),
            "it is larger than the limit of 16 MiB for a source file",
        ),
        (fifo.as_path(), "it is a pipe, not a regular file"),
    ] {
        let path: &std::path::Path = path;
        for command in ["check", "run", "test-rules"] {
            let started = Instant::now();
            let output = support::slogate(&[command, path.to_str().unwrap()]);
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{command} {path:?}"
            );
            assert_ne!(output.status.code(), Some(0), "{command} {path:?}");
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            assert!(all.contains(says), "{command} {path:?}: {all}");
        }
    }
}

#[test]
fn a_scenario_cannot_read_its_csv_rows_from_a_device() {
    let scenario = "name: bad\ntargets:\n  api: http://127.0.0.1:8080\ndata:\n  users: {csv: /dev/zero}\nrequests:\n  - {name: process, url: \"${api}/data/process\"}\nphases:\n  - {name: a, duration: 5s, load: {rate: 10/s}}\n";
    let dir = files(&[("csv.yaml", scenario)]);
    let path = dir.path().join("csv.yaml");
    let output = support::slogate(&["check", path.to_str().unwrap()]);
    assert_exit(&output, 2);
    let err = stderr(&output);
    assert!(
        err.contains(
            ":5:16: cannot read CSV `/dev/zero`: it is a character device, not a regular file"
        ),
        "{err}"
    );
}

/// Found by the fuzzer (fuzz/regressions/promql/): promql-parser panics on
/// a number of seconds too large for a `Duration`.
#[test]
fn query_reports_a_duration_the_parser_cannot_hold_as_an_error() {
    let server = metrics_server("a");
    let found =
        std::fs::read_to_string("fuzz/regressions/promql/duration-too-large-for-from-secs-f64")
            .unwrap();
    // Prometheus's words, not Rust's; the fuzzer's find also names an
    // unknown function, which the parser now reports first.
    for (expr, said) in [
        (found.as_str(), "unknown function with name 'ratemll'"),
        ("up[1e400]", "duration out of range"),
        ("up offset 1e30", "duration out of range"),
    ] {
        let output = query(&server, expr, &[], Duration::from_secs(20));
        assert_exit(&output, 2);
        let err = stderr(&output);
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.contains(said), "{expr}: {err}");
    }
}

/// Found by the fuzzer (fuzz/regressions/rule_file/): a `)` starting a word
/// of a template action looped, pushing empty words until memory ran out.
#[test]
fn check_refuses_a_stray_paren_in_an_alert_template_at_once() {
    let rules = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        annotations:\n          summary: '{{ $value ) }}'\n";
    let dir = files(&[("rules.yml", rules)]);
    let path = dir.path().join("rules.yml");
    let started = Instant::now();
    let output = support::slogate(&["check", path.to_str().unwrap()]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("unexpected right paren"),
        "{}",
        stderr(&output)
    );
    let found =
        std::path::Path::new("fuzz/regressions/rule_file/stray-right-paren-in-template.yml");
    let output = support::slogate(&["check", found.to_str().unwrap()]);
    assert_exit(&output, 2);
}

/// Found by the fuzzer (fuzz/regressions/scenario/): a URL template whose
/// first character is not ASCII panicked the template compiler (a byte
/// index inside `܋`). Now it is an error at its line, like any bad URL.
#[test]
fn check_refuses_a_url_that_starts_with_non_ascii_text_without_a_panic() {
    let found =
        std::path::Path::new("fuzz/regressions/scenario/non-ascii-after-template-reference.yaml");
    let output = support::slogate(&["check", found.to_str().unwrap()]);
    assert_exit(&output, 2);
    let err = stderr(&output);
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains(
            "non-ascii-after-template-reference.yaml:5:23: `܋api}/health` must start with a target"
        ),
        "{err}"
    );
}
