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
    assert!(started.elapsed() < most, "{expr} {args:?} took {:?}", started.elapsed());
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
        let output = query(&server, "up", &["--time", time, "--range", "2s"], Duration::from_secs(20));
        assert_exit(&output, 2);
        let err = stderr(&output);
        assert!(err.contains("--time") && err.contains(says), "{time}: {err}");
    }
    // In range, the far past answers (empty) at once.
    let output = query(&server, "up", &["--time", "-62135596800"], Duration::from_secs(20));
    assert_exit(&output, 0);
    assert!(String::from_utf8_lossy(&output.stdout).contains("(empty result)"));
}

#[test]
fn query_refuses_a_range_of_more_than_11000_points() {
    let server = metrics_server("a");
    let output = query(&server, "up", &["--range", "1h", "--step", "100ms"], Duration::from_secs(20));
    assert_exit(&output, 2);
    let err = stderr(&output);
    assert!(
        err.contains("36000 points per series") && err.contains("11000") && err.contains("hint: --step"),
        "{err}"
    );
    let output = query(&server, "up", &["--range", "1100s", "--step", "100ms"], Duration::from_secs(20));
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
        assert!(stderr(&output).contains("use a longer subquery step"), "{expr}: {}", stderr(&output));
    }
    let mut doubling = r#"label_replace(vector(1), "a", "xxxxxxxxxxxxxxxx", "", "")"#.to_string();
    for _ in 0..30 {
        doubling = format!(r#"label_join({doubling}, "a", "", "a", "a")"#);
    }
    let output = query(&server, &doubling, &[], Duration::from_secs(20));
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("label_join would build a label value of 131072 bytes"), "{}", stderr(&output));
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
