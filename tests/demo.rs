//! The embedded demo service: valid exposition (checked by Prometheus'
//! promtool), counters that agree exactly with what the client sent, fault
//! knobs that do what they say, and `{demo: true}` targets in scenarios.

use std::net::SocketAddr;

use slogate::demo::Demo;

use crate::support::hit;

fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    crate::support::http(addr, method, path, &[], body)
}

/// The value of the series whose line starts with `series ` in `text`.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| {
            line.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
        })
        .map(|v| v.trim().parse().unwrap())
}

#[test]
fn counters_agree_exactly_with_what_the_client_sent() {
    let _serial = crate::support::serial();
    let demo = Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    let url = format!("{}/data/process?records=7", demo.url());
    let results = hit(&[&url, "-n", "500", "-c", "5"]);
    assert_eq!(
        results.total.statuses.iter().collect::<Vec<_>>(),
        vec![(200, 500)]
    );
    let (status, metrics) = http(demo.addr(), "GET", "/metrics", "");
    assert_eq!(status, 200);
    let series = r#"http_requests_total{method="GET",endpoint="/data/process",status="200"}"#;
    assert_eq!(value(&metrics, series), Some(500.0), "{metrics}");
    assert_eq!(
        value(&metrics, "pipeline_records_processed_total"),
        Some(3500.0)
    );
    let count = r#"http_request_duration_seconds_count{method="GET",endpoint="/data/process"}"#;
    assert_eq!(value(&metrics, count), Some(500.0));
    // The server's own view of latency agrees with the client's: every
    // request took at least the 1 ms + 7 × 50 µs of its work.
    let fast =
        r#"http_request_duration_seconds_bucket{le="0.005",method="GET",endpoint="/data/process"}"#;
    assert!(value(&metrics, fast).unwrap() > 0.0);
    assert!(
        results.total.latency_us.min() >= 1350,
        "client min {} µs",
        results.total.latency_us.min()
    );
}

#[test]
fn metrics_are_valid_exposition_for_promtool() {
    let _serial = crate::support::serial();
    let Some(promtool) = crate::support::require_tool("promtool", "prometheus") else {
        return;
    };
    let demo = Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    hit(&[
        &format!("{}/data/process", demo.url()),
        "-n",
        "50",
        "-c",
        "2",
    ]);
    hit(&[&format!("{}/data/error", demo.url()), "-n", "5", "-c", "1"]);
    let (_, metrics) = http(demo.addr(), "GET", "/metrics", "");
    let output = crate::support::run_with_input(&promtool, &["check", "metrics"], &metrics);
    assert!(
        output.status.success(),
        "promtool check metrics: {}{}\n{metrics}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(metrics.contains(r#"status="500""#), "the 500s are counted");
    assert!(metrics.contains("process_resident_memory_bytes "));
}

#[test]
fn fault_knobs_inject_errors_and_latency() {
    let _serial = crate::support::serial();
    let demo = Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    let (status, body) = http(
        demo.addr(),
        "POST",
        "/admin/faults",
        r#"{"error_ratio": 0.3, "error_status": 503}"#,
    );
    assert_eq!(status, 200, "{body}");
    let results = hit(&[
        &format!("{}/data/process?records=0", demo.url()),
        "-n",
        "2000",
        "-c",
        "10",
    ]);
    let injected = results.total.statuses.in_range(503, 503) as f64 / 2000.0;
    // 2000 draws at p = 0.3: the standard deviation is 1 %; 4 of them is 4 %.
    assert!((injected - 0.3).abs() < 0.04, "injected {injected}");
    let (_, body) = http(demo.addr(), "GET", "/admin/faults", "");
    assert!(body.contains(r#""error_status":503"#), "{body}");

    let (status, _) = http(
        demo.addr(),
        "POST",
        "/admin/faults",
        r#"{"latency_ms": 30}"#,
    );
    assert_eq!(status, 200);
    let results = hit(&[
        &format!("{}/data/process?records=0", demo.url()),
        "-n",
        "20",
        "-c",
        "2",
    ]);
    assert_eq!(
        results.total.statuses.iter().collect::<Vec<_>>(),
        vec![(200, 20)],
        "setting latency reset the errors"
    );
    assert!(
        results.total.latency_us.min() >= 31_000,
        "min {} µs",
        results.total.latency_us.min()
    );

    for bad in [r#"{"error_ratio": 2}"#, r#"{"latency": 5}"#, "not json"] {
        let (status, body) = http(demo.addr(), "POST", "/admin/faults", bad);
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body.contains("error"), "{body}");
    }
}

#[test]
fn a_scenario_can_target_the_embedded_demo() {
    let _serial = crate::support::serial();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("demo.yaml");
    std::fs::write(
        &file,
        r#"
name: tiny-demo
targets:
  api: {demo: true}
requests:
  - {name: process, url: "${api}/data/process?records={{ rand 1 20 }}"}
  - {name: error, url: "${api}/data/error", expect_status: [500]}
phases:
  - name: steady
    duration: 2s
    load: {rate: 100/s}
    expect:
      - error_rate < 1%
      - latency p99 < 200ms
      - {check: "status 500 >= 99%", request: error}
"#,
    )
    .unwrap();
    let out = dir.path().join("out");
    let output = crate::support::slogate(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    crate::support::assert_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("PASSED: 3 checks held"), "{stdout}");
}
