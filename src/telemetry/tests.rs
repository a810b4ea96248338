use std::time::{Duration, Instant, SystemTime};

use super::*;
use crate::record::{Bucketed, ErrorKind, RowBuckets};

fn row(second: u64, endpoint: usize, requests: u64, ok: u64) -> TimelineRow {
    let mut status_classes = [0; 5];
    status_classes[1] = ok;
    status_classes[4] = requests - ok;
    TimelineRow {
        second,
        endpoint,
        requests,
        ok,
        status_classes,
        errors: [0; ErrorKind::COUNT],
        p50_ms: None,
        p95_ms: None,
        p99_ms: None,
        service_p50_ms: None,
        service_p95_ms: None,
        service_p99_ms: None,
        under: Vec::new(),
        buckets: None,
    }
}

fn telemetry() -> Telemetry {
    let requests = vec![("api".to_string(), false), ("login".to_string(), true)];
    Telemetry::new("s", requests, &[0.2, 0.1, 0.1, -1.0])
}

/// Starts the run now, as the engine's first progress moment says it.
fn begin(t: &Telemetry) -> Instant {
    let start = Instant::now();
    t.start(SystemTime::now());
    t.progress(&Snapshot {
        elapsed: Duration::ZERO,
        requests: 0,
        failed: 0,
        started: 0,
        tickets: 0,
        lag: Duration::ZERO,
    });
    start
}

fn has(text: &str, line: &str) {
    assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
}

#[test]
fn each_second_counts_in_the_phase_that_ran_most_of_it() {
    let t = telemetry();
    let start = begin(&t);
    t.enter_phase("a", start);
    t.enter_phase("b", start + Duration::from_millis(2300));
    t.rows(&[
        row(0, 0, 10, 10),
        row(1, 0, 10, 9),
        row(2, 0, 7, 7),
        row(2, 1, 1, 1),
    ]);
    let text = t.encode_openmetrics();
    has(
        &text,
        r#"slogate_requests_total{scenario="s",phase="a",request="api"} 20"#,
    );
    has(
        &text,
        r#"slogate_requests_failed_total{scenario="s",phase="a",request="api"} 1"#,
    );
    has(
        &text,
        r#"slogate_responses_total{scenario="s",phase="a",request="api",status_class="5xx"} 1"#,
    );
    has(
        &text,
        r#"slogate_requests_total{scenario="s",phase="b",request="api"} 7"#,
    );
    // A `before`/`after` flow's step belongs to no phase.
    has(
        &text,
        r#"slogate_requests_total{scenario="s",phase="-",request="login"} 1"#,
    );
    has(&text, r#"slogate_phase_info{scenario="s",phase="a"} 0"#);
    has(&text, r#"slogate_phase_info{scenario="s",phase="b"} 1"#);
    has(&text, r#"slogate_run_active{scenario="s"} 1"#);
}

#[test]
fn the_rest_of_the_timeline_is_counted_once() {
    let t = telemetry();
    let start = begin(&t);
    t.enter_phase("a", start);
    let all = [row(0, 0, 5, 5), row(1, 0, 6, 6), row(2, 0, 7, 7)];
    t.rows(&all[..2]);
    t.rest(&all);
    t.rest(&all);
    has(
        &t.encode_openmetrics(),
        r#"slogate_requests_total{scenario="s",phase="a",request="api"} 18"#,
    );
}

#[test]
fn histograms_add_whole_seconds_on_sorted_positive_bounds() {
    let t = telemetry();
    assert_eq!(t.buckets_us(), [100_000, 200_000]);
    t.enter_phase("a", Instant::now());
    let mut second = row(0, 0, 6, 6);
    let bucketed = Bucketed {
        counts: vec![3, 2, 1],
        sum_seconds: 0.5,
        count: 6,
    };
    second.buckets = Some(Box::new(RowBuckets {
        late: 2,
        latency: bucketed.clone(),
        service: bucketed,
    }));
    t.rows(&[second.clone(), {
        second.second = 1;
        second
    }]);
    let text = t.encode_openmetrics();
    let series = r#"scenario="s",phase="a",request="api""#;
    has(
        &text,
        &format!(r#"slogate_request_latency_seconds_bucket{{le="0.1",{series}}} 6"#),
    );
    has(
        &text,
        &format!(r#"slogate_request_latency_seconds_bucket{{le="0.2",{series}}} 10"#),
    );
    has(
        &text,
        &format!(r#"slogate_request_latency_seconds_bucket{{le="+Inf",{series}}} 12"#),
    );
    has(
        &text,
        &format!(r#"slogate_request_latency_seconds_count{{{series}}} 12"#),
    );
    has(
        &text,
        &format!(r#"slogate_request_latency_seconds_sum{{{series}}} 1.0"#),
    );
    has(
        &text,
        &format!(r#"slogate_service_time_seconds_count{{{series}}} 12"#),
    );
    has(
        &text,
        &format!(r#"slogate_late_starts_total{{{series}}} 4"#),
    );
}

#[test]
fn a_seconds_histogram_is_read_onto_bounds_as_le_counts_it() {
    let mut histogram = crate::record::latency_histogram(2);
    for (value, n) in [(1_000, 3), (100_000, 1), (150_000, 1), (5_000_000, 1)] {
        histogram.record_n(value, n).unwrap();
    }
    let bucketed = Bucketed::of(&histogram, &[100_000, 200_000]);
    // 100 ms exactly is at or under the 0.1 bound.
    assert_eq!(bucketed.counts, [4, 1, 1]);
    assert_eq!(bucketed.count, 6);
    assert!(
        (bucketed.sum_seconds - 5.253).abs() < 0.06,
        "{}",
        bucketed.sum_seconds
    );
}

#[test]
fn faults_and_checks() {
    let t = telemetry();
    let start = begin(&t);
    t.enter_phase("a", start);
    let fault = |source, target: &str, kind: &str| Fault {
        source,
        target: target.into(),
        kind: kind.into(),
    };
    t.faults(&[
        fault("proxy", "db", "abort"),
        fault("demo", "api", "latency"),
    ]);
    let text = t.encode_openmetrics();
    has(
        &text,
        r#"slogate_fault_active{scenario="s",source="proxy",target="db",kind="abort"} 1"#,
    );
    t.faults(&[fault("demo", "api", "latency")]);
    let text = t.encode_openmetrics();
    has(
        &text,
        r#"slogate_fault_active{scenario="s",source="proxy",target="db",kind="abort"} 0"#,
    );
    has(
        &text,
        r#"slogate_fault_active{scenario="s",source="demo",target="api",kind="latency"} 1"#,
    );
    let verdict = |check: &str, outcome| Verdict {
        check: check.into(),
        scope: "run".into(),
        measured: None,
        measured_text: String::new(),
        wanted: String::new(),
        outcome,
        optional: false,
        source: String::new(),
        truncated: false,
    };
    t.verdicts(&[
        verdict("error_rate < 1%", CheckOutcome::Pass),
        verdict("p95 < 1s", CheckOutcome::NoData),
    ]);
    t.end();
    let text = t.encode_openmetrics();
    has(
        &text,
        r#"slogate_check_passed{scenario="s",scope="run",check="error_rate < 1%"} 1"#,
    );
    has(
        &text,
        r#"slogate_check_passed{scenario="s",scope="run",check="p95 < 1s"} 0"#,
    );
    has(&text, r#"slogate_phase_info{scenario="s",phase="a"} 0"#);
    has(&text, r#"slogate_run_active{scenario="s"} 0"#);
    assert!(t.ended());
}
