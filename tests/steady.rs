//! The game day's guard rails. The steady state is checked over the
//! phases before the first fault and again after the last; when it does
//! not hold at the start, the run ends there with its failed checks as the
//! verdict, and no fault is injected (the demo's own knobs prove it). A
//! stop condition on the service's metrics removes the fault and stops
//! the run.

use crate::support::{self, checks, outcome_of, run_scenario};

fn scenario(api: &str) -> String {
    format!(
        r#"name: steady
targets:
  api: {api}
metrics:
  scrape: ["${{api}}/metrics"]
requests:
  - {{name: process, url: "${{api}}/data/process"}}
steady_state:
  - error_rate < 1%
  - latency p95 < 250ms
  - {{promql: 'sum(rate(http_requests_total{{status=~"5.."}}[3s])) or vector(0)', below: 0.5}}
phases:
  - name: healthy
    duration: 4s
    load: {{rate: 50/s}}
  - name: inject
    duration: 4s
    load: {{rate: 50/s}}
    faults:
      - demo: {{latency: 300ms}}
    expect:
      - latency p50 > 250ms
  - name: recover
    duration: 5s
    load: {{rate: 50/s}}
"#
    )
}

#[test]
fn a_steady_state_that_holds_is_checked_before_and_after_the_faults() {
    let demo = slogate::demo::Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    let (_dir, out, output) = run_scenario(&scenario(&demo.url()), &[]);
    let text = String::from_utf8_lossy(&output.stdout);
    support::assert_exit(&output, 0);
    let rows = checks(&out);
    let scoped = |scope: &str| -> Vec<(String, String)> {
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap())
                .unwrap();
        summary["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["scope"] == scope)
            .map(|c| {
                (
                    c["check"].as_str().unwrap().to_string(),
                    c["outcome"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    for scope in [
        "steady state before the faults",
        "steady state after the faults",
    ] {
        let judged = scoped(scope);
        assert_eq!(judged.len(), 3, "{scope}: {judged:?}\n{text}");
        assert!(
            judged.iter().all(|(_, outcome)| outcome == "PASS"),
            "{scope}: {judged:?}"
        );
    }
    // The fault went in: the phase between saw it.
    let slow = outcome_of(&rows, "latency p50 > 250ms");
    assert_eq!(slow.1, "PASS", "{slow:?}");
}

#[test]
fn a_steady_state_that_does_not_hold_injects_no_fault() {
    let demo = slogate::demo::Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    // The service is already failing before the game day starts.
    let failing = slogate::demo::Faults {
        error_ratio: 0.3,
        ..Default::default()
    };
    slogate::demo::set_faults_remote(&demo.url(), &failing).unwrap();
    let (_dir, out, output) = run_scenario(&scenario(&demo.url()), &[]);
    let said = String::from_utf8_lossy(&output.stderr);
    // A failed hypothesis is a failed check (exit 1), not an abort (3).
    support::assert_exit(&output, 1);
    assert!(
        said.contains("the steady state did not hold before the faults (error_rate < 1%: ")
            && said.contains("no fault was injected"),
        "{said}"
    );
    let rows = checks(&out);
    let before = rows
        .iter()
        .find(|r| r.0 == "error_rate < 1%")
        .unwrap_or_else(|| panic!("{rows:?}"));
    assert_eq!(before.1, "FAIL", "{before:?}");
    // Nothing ran after the healthy phase...
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let phases: Vec<&str> = summary["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(phases, ["healthy"], "{summary}");
    // ... and the demo's knobs are as the test left them: the phase's 300 ms
    // was never switched on (switched on, then off at the end, it would
    // have reset every knob).
    let knobs = support::demo_knobs(&demo);
    assert_eq!(knobs["error_ratio"], 0.3, "{knobs}");
    assert_eq!(knobs["latency_ms"], 0.0, "{knobs}");
}

/// The same hypothesis failing in front of a fault proxy: the proxy's own
/// counters, scraped with the service's and read back from the results
/// directory, say that requests went through it and that not one fault was
/// injected.
#[test]
fn a_steady_state_that_does_not_hold_injects_nothing_at_the_proxy() {
    let demo = slogate::demo::Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    let failing = slogate::demo::Faults {
        error_ratio: 0.3,
        ..Default::default()
    };
    slogate::demo::set_faults_remote(&demo.url(), &failing).unwrap();
    let yaml = format!(
        r#"name: steady-proxy
targets:
  api: {api}
proxies:
  front: {{upstream: api}}
metrics:
  scrape: [{{url: "${{api}}/metrics", interval: 250ms}}]
requests:
  - {{name: process, url: "${{front}}/data/process"}}
steady_state:
  - error_rate < 1%
phases:
  - name: healthy
    duration: 3s
    load: {{rate: 50/s}}
  - name: inject
    duration: 3s
    load: {{rate: 50/s}}
    faults:
      - {{proxy: front, kind: abort, status: 503, probability: 100%}}
  - name: recover
    duration: 2s
    load: {{rate: 50/s}}
"#,
        api = demo.url()
    );
    let (_dir, out, output) = run_scenario(&yaml, &[]);
    support::assert_exit(&output, 1);
    let query = |expr: &str| -> serde_json::Value {
        let run = out.to_str().unwrap();
        let answer = support::slogate(&["query", "--run", run, expr, "--output", "json"]);
        support::assert_exit(&answer, 0);
        serde_json::from_slice(&answer.stdout).unwrap()
    };
    // The proxy was scraped and forwarded the healthy phase's requests...
    let forwarded = query("sum(max_over_time(slogate_proxy_requests_total[1h]))");
    let forwarded: f64 = forwarded["result"][0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{forwarded}"));
    assert!(forwarded >= 100.0, "{forwarded} requests through the proxy");
    // ... and injected nothing: no fault ever counted, none ever active.
    for expr in [
        "max_over_time(slogate_proxy_faults_injected_total[1h])",
        "max_over_time(slogate_proxy_faults_active[1h]) > 0",
    ] {
        let answer = query(expr);
        assert_eq!(answer["result"], serde_json::json!([]), "{expr}: {answer}");
    }
    assert!(
        !out.join("faults.json").exists() || {
            let windows: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(out.join("faults.json")).unwrap())
                    .unwrap();
            windows.as_array().is_none_or(|w| w.is_empty())
        }
    );
}

/// A stop condition on the service's side: the demo's own 503s, read from
/// slogate's scrapes, trip it; the fault comes off at once (its window in
/// faults.json ends within a second of the run's stop), the load stops,
/// the reports are written, exit 3.
#[test]
fn a_stop_condition_on_the_services_metrics_removes_the_fault_and_stops_the_run() {
    let demo = slogate::demo::Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    let yaml = format!(
        r#"name: stop
targets:
  api: {}
metrics:
  scrape: [{{url: "${{api}}/metrics", interval: 250ms}}]
requests:
  - {{name: process, url: "${{api}}/data/process"}}
abort:
  - {{promql: 'sum(rate(http_requests_total{{status="503"}}[2s])) or vector(0)', above: 5, for: 1s}}
phases:
  - name: healthy
    duration: 3s
    load: {{rate: 50/s}}
  - name: inject
    duration: 30s
    load: {{rate: 50/s}}
    faults:
      - demo: {{error_ratio: 50%, error_status: 503}}
  - name: recover
    duration: 3s
    load: {{rate: 50/s}}
"#,
        demo.url()
    );
    let started = std::time::Instant::now();
    let (_dir, out, output) = run_scenario(&yaml, &[]);
    let took = started.elapsed();
    support::assert_exit(&output, 3);
    assert!(took < std::time::Duration::from_secs(20), "took {took:?}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let reason = summary["abort_reason"].as_str().unwrap();
    assert!(
        reason.starts_with(
            "stop condition `sum(rate(http_requests_total{status=\"503\"}[2s])) or vector(0) > 5 for 1s` held for "
        ) && reason.ends_with("faults removed, load stopped"),
        "{reason}"
    );
    let faults: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("faults.json")).unwrap()).unwrap();
    let window = &faults[0];
    assert_eq!(window["demo"], "api", "{faults}");
    assert_eq!(window["phase"], "inject", "{faults}");
    let stopped = summary["duration_s"].as_f64().unwrap();
    let off = window["end_offset_seconds"].as_f64().unwrap();
    eprintln!("fault off at +{off:.3}s, run stopped at +{stopped:.3}s");
    assert!(
        (off - stopped).abs() < 1.0,
        "off at {off}, stopped at {stopped}"
    );
    // It tripped on the fault, not before: 1 s of 503s at 25/s.
    let on = window["start_offset_seconds"].as_f64().unwrap();
    assert!(off - on > 1.0, "{faults}");
    // The demo's knobs are back to healthy.
    let knobs = support::demo_knobs(&demo);
    assert_eq!(knobs["error_ratio"], 0.0, "{knobs}");
}

/// Rules evaluated in process as the scrapes come in: a stop condition on
/// an alert trips with no Prometheus, once the rule's `for` has passed
/// (not before: the alert was pending first), and the fault comes off.
#[test]
fn a_stop_condition_on_an_alert_trips_on_the_in_process_evaluation() {
    let demo = slogate::demo::Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("errors.yml");
    std::fs::write(
        &rules,
        "groups:\n  - name: errors\n    interval: 500ms\n    rules:\n      - alert: Failing\n        expr: sum(rate(http_requests_total{status=\"503\"}[2s])) > 5\n        for: 2s\n",
    )
    .unwrap();
    let yaml = format!(
        r#"name: stop-on-alert
targets:
  api: {}
metrics:
  scrape: [{{url: "${{api}}/metrics", interval: 250ms}}]
rules: ["{}"]
requests:
  - {{name: process, url: "${{api}}/data/process"}}
abort:
  - {{alert: Failing, firing: true}}
phases:
  - name: healthy
    duration: 3s
    load: {{rate: 50/s}}
  - name: inject
    duration: 30s
    load: {{rate: 50/s}}
    faults:
      - demo: {{error_ratio: 50%, error_status: 503}}
  - name: recover
    duration: 3s
    load: {{rate: 50/s}}
"#,
        demo.url(),
        rules.display()
    );
    let (_dir, out, output) = run_scenario(&yaml, &[]);
    support::assert_exit(&output, 3);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let reason = summary["abort_reason"].as_str().unwrap();
    assert!(
        reason.starts_with("stop condition `alert Failing firing` held for ")
            && reason.ends_with("faults removed, load stopped"),
        "{reason}"
    );
    let faults: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("faults.json")).unwrap()).unwrap();
    let window = &faults[0];
    let (on, off) = (
        window["start_offset_seconds"].as_f64().unwrap(),
        window["end_offset_seconds"].as_f64().unwrap(),
    );
    let stopped = summary["duration_s"].as_f64().unwrap();
    // The run's own evaluation after it: when the alert fired.
    let alerts: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("alerts.json")).unwrap()).unwrap();
    let started_ms = summary["started_at_unix_ms"].as_f64().unwrap();
    let fired = crate::drill::episodes(&alerts)
        .into_iter()
        .find(|e| e.0 == "Failing")
        .and_then(|e| e.2)
        .map(|t| (t as f64 - started_ms) / 1000.0)
        .unwrap_or_else(|| panic!("Failing never fired: {alerts}"));
    eprintln!(
        "fault on at +{on:.3}s, Failing fired at +{fired:.3}s, fault off at +{off:.3}s, run stopped at +{stopped:.3}s"
    );
    // Not before the rule fired (2 s of `for` after the fault), and within
    // a second of it: a 250 ms scrape, a 500 ms evaluation, the guard's
    // 250 ms and the run's 100 ms.
    assert!(off - on > 2.0, "{faults}");
    assert!(off >= fired - 0.001, "off at {off}, fired at {fired}");
    assert!(off - fired < 1.5, "off at {off}, fired at {fired}");
    assert!((off - stopped).abs() < 1.0, "off {off}, stopped {stopped}");
    let knobs = support::demo_knobs(&demo);
    assert_eq!(knobs["error_ratio"], 0.0, "{knobs}");
}

/// The hypothesis "nothing alerts": `{alert: NAME, stays: inactive}` and
/// `{no_other_alerts: true}` judged before the faults on the rules
/// evaluated so far, and after them on the run's evaluation. An alert
/// already firing before the game day stops it there, with no fault in.
#[test]
fn a_steady_state_with_alert_checks_is_judged_before_and_after_the_faults() {
    let demo = slogate::demo::Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("alerts.yml");
    std::fs::write(
        &rules,
        "groups:\n  - name: demo\n    interval: 500ms\n    rules:\n      - alert: Errors\n        expr: sum(rate(http_requests_total{status=~\"5..\"}[2s])) > 1\n        for: 1s\n      - alert: Slow\n        expr: histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket[2s]))) > 0.2\n",
    )
    .unwrap();
    let yaml = |api: &str| {
        format!(
            r#"name: steady-alerts
targets:
  api: {api}
metrics:
  scrape: [{{url: "${{api}}/metrics", interval: 250ms}}]
rules: ["{}"]
requests:
  - {{name: process, url: "${{api}}/data/process"}}
steady_state:
  - {{alert: Errors, stays: inactive}}
  - {{no_other_alerts: true}}
phases:
  - name: healthy
    duration: 4s
    load: {{rate: 50/s}}
  - name: inject
    duration: 4s
    load: {{rate: 50/s}}
    faults:
      - demo: {{latency: 300ms}}
    expect:
      - {{alert: Slow, fires_within: 4s}}
  - name: recover
    duration: 5s
    load: {{rate: 50/s}}
"#,
            rules.display()
        )
    };
    let (_dir, out, output) = run_scenario(&yaml(&demo.url()), &[]);
    let text = String::from_utf8_lossy(&output.stdout);
    support::assert_exit(&output, 0);
    let rows = checks(&out);
    let steady: Vec<_> = rows
        .iter()
        .filter(|r| r.0 == "alert Errors stays inactive" || r.0 == "no alert fires")
        .collect();
    // Both checks, before and after the faults, all held; Slow fired in
    // between and is no "other alert" of either window.
    assert_eq!(steady.len(), 4, "{rows:?}\n{text}");
    assert!(steady.iter().all(|r| r.1 == "PASS"), "{steady:?}");
    assert_eq!(outcome_of(&rows, "alert Slow fires within 4s").1, "PASS");

    // Errors already firing before the game day: the hypothesis fails, the
    // run stops before the latency goes in.
    let failing = slogate::demo::Faults {
        error_ratio: 0.3,
        ..Default::default()
    };
    slogate::demo::set_faults_remote(&demo.url(), &failing).unwrap();
    let (_dir, out, output) = run_scenario(&yaml(&demo.url()), &[]);
    let said = String::from_utf8_lossy(&output.stderr);
    support::assert_exit(&output, 1);
    assert!(
        said.contains(
            "the steady state did not hold before the faults (alert Errors stays inactive: "
        ) && said.contains("no fault was injected"),
        "{said}"
    );
    let rows = checks(&out);
    let quiet = outcome_of(&rows, "no alert fires");
    assert_eq!(quiet.1, "FAIL", "{rows:?}");
    assert!(quiet.2.contains("Errors"), "{quiet:?}");
    let knobs = support::demo_knobs(&demo);
    assert_eq!(knobs["latency_ms"], 0.0, "{knobs}");
}
