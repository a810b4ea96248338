//! The run's own metrics in a real Prometheus: scraped from
//! `--metrics-listen` while the run goes, and remote-written
//! (`--remote-write`) into one started with
//! `--web.enable-remote-write-receiver`. Either way PromQL over slogate's
//! series gives summary.json's request counts, and the percentiles within
//! a bucket of its own; the series go stale when the run ends.

use std::collections::BTreeMap;

use crate::support::process::{Prometheus, free_port};
use crate::support::{self, run_scenario_with};

/// Two phases on the demo, the second with a fault: 503s and 40 ms more.
fn scenario(api: &str) -> String {
    format!(
        r#"name: telemetry
targets:
  api: {api}
requests:
  - {{name: process, url: "${{api}}/data/process"}}
  - {{name: health, url: "${{api}}/health"}}
phases:
  - name: calm
    duration: 4s
    load: {{rate: 80/s}}
  - name: degraded
    duration: 4s
    load: {{rate: 80/s}}
    faults:
      - demo: {{error_ratio: 25%, latency: 40ms}}
"#
    )
}

/// Per (phase, request): requests and failed, as summary.json has them.
fn summary_counts(out: &std::path::Path) -> BTreeMap<(String, String), (u64, u64)> {
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let mut counts = BTreeMap::new();
    for phase in summary["phases"].as_array().unwrap() {
        for request in phase["per_request"].as_array().unwrap() {
            counts.insert(
                (
                    phase["name"].as_str().unwrap().to_string(),
                    request["name"].as_str().unwrap().to_string(),
                ),
                (
                    request["requests"].as_u64().unwrap(),
                    request["failed"].as_u64().unwrap(),
                ),
            );
        }
    }
    counts
}

/// Per (phase, request): the newest value of `metric` over the last hour.
fn prometheus_counts(prometheus: &Prometheus, metric: &str) -> BTreeMap<(String, String), u64> {
    let result = prometheus.query(&format!(
        "max by (phase, request) (max_over_time({metric}{{scenario=\"telemetry\"}}[1h]))"
    ));
    result
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                (
                    s["metric"]["phase"].as_str().unwrap().to_string(),
                    s["metric"]["request"].as_str().unwrap().to_string(),
                ),
                s["value"][1].as_str().unwrap().parse::<f64>().unwrap() as u64,
            )
        })
        .collect()
}

/// Prometheus's counts against summary.json's: each request's total over
/// the run exactly; each phase's within the requests in flight at its
/// boundary (the series count a request in the phase that ran most of the
/// second it ended in).
fn assert_counts_agree(prometheus: &Prometheus, out: &std::path::Path) {
    let summary = summary_counts(out);
    for (metric, pick) in [
        ("slogate_requests_total", 0usize),
        ("slogate_requests_failed_total", 1),
    ] {
        let seen = prometheus_counts(prometheus, metric);
        let mut totals: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        for ((phase, request), counts) in &summary {
            let wanted = if pick == 0 { counts.0 } else { counts.1 };
            let got = seen
                .get(&(phase.clone(), request.clone()))
                .copied()
                .unwrap_or(0);
            let total = totals.entry(request).or_default();
            total.0 += wanted;
            total.1 += got;
            assert!(
                wanted.abs_diff(got) <= 8,
                "{metric} {phase}/{request}: summary.json {wanted}, Prometheus {got}"
            );
        }
        for (request, (wanted, got)) in totals {
            assert_eq!(wanted, got, "{metric} {request} over the run: {seen:?}");
        }
    }
}

/// The process request's p95 in the degraded phase, from Prometheus's
/// histogram, lies in the bucket that holds summary.json's p95.
fn assert_p95_within_its_bucket(prometheus: &Prometheus, out: &std::path::Path, bounds: &[f64]) {
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let phase = summary["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "degraded")
        .unwrap();
    let request = phase["per_request"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "process")
        .unwrap();
    let exact = request["latency_ms"]["p95"].as_f64().unwrap() / 1000.0;
    let result = prometheus.query(
        r#"histogram_quantile(0.95, sum by (le) (max_over_time(slogate_request_latency_seconds_bucket{scenario="telemetry", phase="degraded", request="process"}[1h])))"#,
    );
    let estimate: f64 = result[0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{result}"));
    let upper = bounds.iter().copied().find(|b| *b >= estimate).unwrap();
    let lower = bounds
        .iter()
        .copied()
        .rev()
        .find(|b| *b < estimate)
        .unwrap_or(0.0);
    // 1 % either side: the per-second histograms' 2 significant digits.
    assert!(
        exact >= lower * 0.99 && exact <= upper * 1.01,
        "p95: summary.json {exact}s, Prometheus {estimate}s in ({lower}, {upper}]"
    );
    eprintln!(
        "p95 degraded/process: summary.json {exact:.4}s, Prometheus {estimate:.4}s in ({lower}, {upper}]"
    );
}

/// Nothing of the run's left at now: its series went stale.
fn assert_stale(prometheus: &Prometheus) {
    let now = prometheus.query(r#"slogate_requests_total{scenario="telemetry"}"#);
    assert_eq!(now, serde_json::json!([]), "still there: {now}");
}

const BOUNDS: [f64; 9] = [0.002, 0.005, 0.01, 0.02, 0.04, 0.045, 0.05, 0.06, 0.1];

fn bounds_flag() -> String {
    BOUNDS.map(|b| b.to_string()).join(",")
}

#[test]
fn a_real_prometheus_scraping_the_run_sees_its_counts() {
    let Some(binary) = support::require_tool("prometheus", "prometheus") else {
        return;
    };
    let demo = slogate::demo::Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    let port = free_port();
    let prometheus = Prometheus::start(
        &binary,
        &format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: slogate\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        ),
    );
    let listen = format!("127.0.0.1:{port}");
    let bounds = bounds_flag();
    let (_dir, out, output) = run_scenario_with(
        &scenario(&demo.url()),
        &[],
        &[
            "--metrics-listen",
            &listen,
            "--metrics-buckets",
            &bounds,
            "--metrics-grace",
            "20s",
        ],
    );
    support::assert_exit(&output, 0);
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains(&format!("the run's metrics: http://{listen}/metrics")),
        "{said}"
    );
    assert_counts_agree(&prometheus, &out);
    assert_p95_within_its_bucket(&prometheus, &out, &BOUNDS);
    // The phases and the fault, as Grafana's annotations would read them.
    let phases = prometheus
        .query(r#"max by (phase) (max_over_time(slogate_phase_info{scenario="telemetry"}[1h]))"#);
    assert_eq!(phases.as_array().unwrap().len(), 2, "{phases}");
    let fault = prometheus.query(r#"max_over_time(slogate_fault_active{scenario="telemetry", source="demo", target="api", kind="errors"}[1h])"#);
    assert_eq!(fault[0]["value"][1], "1", "{fault}");
    // After the grace period's last scrape the endpoint closed: the next
    // scrape failed and Prometheus marked every series stale.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert_stale(&prometheus);
}

#[test]
fn remote_write_into_a_real_prometheus_gives_summary_json_s_counts() {
    let Some(binary) = support::require_tool("prometheus", "prometheus") else {
        return;
    };
    let demo = slogate::demo::Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    // Its own scrapes are not needed: the samples come with their times.
    let prometheus = Prometheus::start_with(
        &binary,
        "global:\n  scrape_interval: 1h\n",
        &["--web.enable-remote-write-receiver"],
    );
    let url = format!("{}/api/v1/write", prometheus.url());
    let bounds = bounds_flag();
    let (_dir, out, output) = run_scenario_with(
        &scenario(&demo.url()),
        &[],
        &["--remote-write", &url, "--metrics-buckets", &bounds],
    );
    support::assert_exit(&output, 0);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let written = &summary["remote_write"];
    assert_eq!(written["retries"], 0, "{written}");
    assert_eq!(written["samples_rejected"], 0, "{written}");
    assert_eq!(written["snapshots_unsent"], 0, "{written}");
    assert!(written["requests_sent"].as_u64().unwrap() >= 8, "{written}");
    support::check_schema(&summary, include_str!("../reports/run.schema.json"));
    assert_counts_agree(&prometheus, &out);
    assert_p95_within_its_bucket(&prometheus, &out, &BOUNDS);
    // A new series starts from a zero one snapshot before its first
    // sample, so increase() over the run misses none of the 503s (whose
    // series appear only once the fault is on).
    let failed: u64 = summary_counts(&out)
        .iter()
        .filter(|((_, request), _)| request == "process")
        .map(|(_, counts)| counts.1)
        .sum();
    let answered = prometheus.query(
        r#"sum(increase(slogate_responses_total{scenario="telemetry", request="process", status_class="5xx"}[1h]))"#,
    );
    let answered: f64 = answered[0]["value"][1].as_str().unwrap().parse().unwrap();
    assert!(failed > 20, "{failed}");
    // increase() extrapolates to the window's edges a little; never less.
    assert!(
        answered >= failed as f64,
        "503s: increase() {answered}, summary.json {failed}"
    );
    let first = prometheus.query(
        r#"min_over_time(slogate_responses_total{scenario="telemetry", request="process", status_class="5xx"}[1h])"#,
    );
    assert_eq!(first[0]["value"][1], "0", "{first}");
    assert_stale(&prometheus);
}

#[test]
fn remote_write_to_a_receiver_that_is_down_never_holds_up_the_run() {
    let demo = slogate::demo::Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    // Nothing listens there.
    let url = format!("http://127.0.0.1:{}/api/v1/write", free_port());
    // Said in the scenario this time, as `slogate check` reports it.
    let yaml = format!("{}outputs:\n  remote_write: {url}\n", scenario(&demo.url()));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scenario.yaml");
    std::fs::write(&file, &yaml).unwrap();
    let checked = support::slogate(&["check", file.to_str().unwrap()]);
    support::assert_exit(&checked, 0);
    let text = String::from_utf8_lossy(&checked.stdout);
    assert!(
        text.contains(&format!("the run's own metrics: remote-written to {url}")),
        "{text}"
    );
    let started = std::time::Instant::now();
    let (_dir, out, output) = run_scenario_with(&yaml, &[], &[]);
    support::assert_exit(&output, 0);
    // 8 s of load, then at most the 10 s the end gives the queue.
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let written = &summary["remote_write"];
    assert_eq!(written["samples_sent"], 0, "{written}");
    assert!(written["retries"].as_u64().unwrap() >= 3, "{written}");
    assert!(
        written["snapshots_unsent"].as_u64().unwrap() >= 1,
        "{written}"
    );
    assert!(
        written["last_error"]
            .as_str()
            .unwrap()
            .contains("error sending request"),
        "{written}"
    );
    // The counts are the load's, whatever became of the metrics.
    let phases = summary["phases"].as_array().unwrap();
    assert!(
        phases
            .iter()
            .all(|p| p["requests"].as_u64().unwrap() >= 300),
        "{summary}"
    );
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("remote write to http://127.0.0.1:"), "{said}");
}

#[test]
fn the_metrics_flags_are_checked_before_anything_runs() {
    for (args, said) in [
        (
            &["--metrics-listen", "10.1.2.3:9464"][..],
            "refusing to serve metrics on 10.1.2.3:9464: not a loopback address",
        ),
        (
            &["--metrics-grace", "5s"][..],
            "give --metrics-listen ADDR or --remote-write URL too",
        ),
        (
            &[
                "--metrics-listen",
                "127.0.0.1:0",
                "--metrics-buckets",
                "0.1,-1",
            ][..],
            "--metrics-buckets: `-1`: each bound is a number of seconds of at least 0.000001",
        ),
        (
            &["--remote-write", "ftp://example/write"][..],
            "needs http:// or https:// and a host",
        ),
    ] {
        let mut all = vec!["hit", "http://127.0.0.1:9/", "-n", "1"];
        all.extend_from_slice(args);
        let output = support::slogate(&all);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(said), "{args:?}: {stderr}");
        assert_ne!(output.status.code(), Some(0), "{args:?}");
    }
}

#[test]
fn hit_serves_its_metrics_and_the_proxy_its_own() {
    let demo = slogate::demo::Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let url = format!("{}/health", demo.url());
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_slogate"))
        .args([
            "hit",
            &url,
            "-z",
            "3s",
            "-q",
            "50",
            "--metrics-listen",
            &listen,
            "--metrics-grace",
            "10s",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let child = support::process::Process(child);
    let addr: std::net::SocketAddr = listen.parse().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2000));
    let (status, text) = support::http(addr, "GET", "/metrics", &[], "");
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains("# TYPE slogate_requests_total counter"),
        "{text}"
    );
    assert!(
        text.contains(r#"slogate_phase_info{scenario="hit""#),
        "{text}"
    );
    drop(child);

    let (listen, control, metrics) = (free_port(), free_port(), free_port());
    let ports = [listen, control, metrics].map(|p| format!("127.0.0.1:{p}"));
    let proxy = std::process::Command::new(env!("CARGO_BIN_EXE_slogate"))
        .args([
            "proxy",
            "--upstream",
            &demo.url(),
            "--listen",
            &ports[0],
            "--control",
        ])
        .args([&ports[1], "--metrics-listen", &ports[2]])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _proxy = support::process::Process(proxy);
    let addr: std::net::SocketAddr = ports[2].parse().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(addr).is_err() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let through: std::net::SocketAddr = ports[0].parse().unwrap();
    assert_eq!(support::http(through, "GET", "/health", &[], "").0, 200);
    let (status, text) = support::http(addr, "GET", "/metrics", &[], "");
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains(r#"slogate_proxy_requests_total{proxy="proxy",code="200"} 1"#),
        "{text}"
    );
}

/// `logs: {format: json}`: every line on stderr is one JSON object with a
/// timestamp, a level and an event; a drill with a fault, an alert, a
/// stop condition and a target that cannot be scraped gives every kind.
#[test]
fn json_logs_cover_every_event_of_a_drill() {
    let demo = slogate::demo::Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("alerts.yml");
    std::fs::write(
        &rules,
        "groups:\n  - name: demo\n    interval: 250ms\n    rules:\n      - alert: Errors\n        expr: sum(rate(http_requests_total{status=\"503\"}[1s])) > 1\n",
    )
    .unwrap();
    let yaml = format!(
        r#"name: logged
logs: {{format: json}}
targets:
  api: {api}
metrics:
  scrape:
    - {{url: "${{api}}/metrics", interval: 250ms}}
    - {{url: "${{api}}/no-metrics-here", interval: 250ms}}
rules: ["{rules}"]
requests:
  - {{name: process, url: "${{api}}/data/process"}}
abort:
  - {{alert: Errors, firing: true}}
phases:
  - name: calm
    duration: 2s
    load: {{rate: 50/s}}
    expect: [error_rate < 1%]
  - name: inject
    duration: 20s
    load: {{rate: 50/s}}
    faults:
      - demo: {{error_ratio: 50%, error_status: 503}}
  - name: recover
    duration: 2s
    load: {{rate: 50/s}}
"#,
        api = demo.url(),
        rules = rules.display()
    );
    let (_dir, _out, output) = support::run_scenario(&yaml, &[]);
    support::assert_exit(&output, 3);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut kinds = std::collections::BTreeSet::new();
    let mut alert_states = Vec::new();
    for line in stderr.lines() {
        let event: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {line}\n{stderr}"));
        assert!(
            event["timestamp"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z')),
            "{line}"
        );
        assert!(
            ["INFO", "WARN", "ERROR"].contains(&event["level"].as_str().unwrap()),
            "{line}"
        );
        assert_eq!(
            event["scenario"].as_str().unwrap_or("logged"),
            "logged",
            "{line}"
        );
        kinds.insert(event["event"].as_str().unwrap().to_string());
        if event["event"] == "alert" {
            alert_states.push(event["state"].as_str().unwrap().to_string());
        }
        if event["event"] == "alert" && event["state"] == "firing" {
            assert!(event["at"].as_str().unwrap().ends_with('Z'), "{line}");
            assert!(event["offset_s"].as_f64().unwrap() > 2.0, "{line}");
        }
    }
    let every = [
        "run_start",
        "phase_start",
        "fault_on",
        "fault_off",
        "alert",
        "verdict",
        "abort",
        "run_end",
        "message",
    ];
    for kind in every {
        assert!(kinds.contains(kind), "no `{kind}` event in\n{stderr}");
    }
    // In the order they happened, pending first even at the same instant.
    assert_eq!(alert_states[..2], ["pending", "firing"], "{stderr}");
}

/// Every PromQL expression of the shipped Grafana dashboard (panels and
/// annotations), with Grafana's variables filled in as Grafana would.
fn dashboard_queries(scenario: &str, job: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ci/grafana/slogate-dashboard.json"),
    )
    .unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    // What Grafana needs to import it (the Classic JSON model).
    assert_eq!(dashboard["uid"], "slogate-run");
    assert!(dashboard["title"].is_string());
    assert!(dashboard["schemaVersion"].as_u64().unwrap() >= 36);
    assert!(dashboard["time"]["from"].is_string() && dashboard["time"]["to"].is_string());
    let variables: Vec<&str> = dashboard["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(variables, ["datasource", "scenario", "job"]);
    let fill = |expr: &str| {
        expr.replace("$scenario", scenario)
            .replace("$job", job)
            .replace("$__rate_interval", "4s")
    };
    let mut queries = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        let title = panel["title"].as_str().unwrap();
        assert!(
            ids.insert(panel["id"].as_u64().unwrap()),
            "{title}: id taken"
        );
        let grid = &panel["gridPos"];
        let (x, w) = (grid["x"].as_u64().unwrap(), grid["w"].as_u64().unwrap());
        assert!(
            grid["h"].as_u64().unwrap() > 0 && x + w <= 24,
            "{title}: {grid}"
        );
        if panel["type"] == "row" {
            continue;
        }
        assert_eq!(panel["datasource"]["uid"], "${datasource}", "{title}");
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{title}");
        let refs: std::collections::BTreeSet<&str> = targets
            .iter()
            .map(|t| t["refId"].as_str().unwrap())
            .collect();
        assert_eq!(refs.len(), targets.len(), "{title}: refIds");
        for target in targets {
            let legend = target["legendFormat"].as_str().unwrap();
            queries.push((
                format!("{title} ({legend})"),
                fill(target["expr"].as_str().unwrap()),
            ));
        }
    }
    for annotation in dashboard["annotations"]["list"].as_array().unwrap() {
        if let Some(expr) = annotation["expr"].as_str() {
            let name = annotation["name"].as_str().unwrap();
            queries.push((format!("annotation {name}"), fill(expr)));
        }
    }
    queries
}

/// A range query's series with at least one number.
fn has_data(result: &serde_json::Value) -> bool {
    result.as_array().is_some_and(|series| {
        series.iter().any(|s| {
            s["values"].as_array().is_some_and(|values| {
                values.iter().any(|v| {
                    v[1].as_str()
                        .is_some_and(|x| x.parse::<f64>().is_ok_and(f64::is_finite))
                })
            })
        })
    })
}

/// The shipped dashboard, with no Grafana here: each panel's and
/// annotation's PromQL returns data from a real Prometheus that scraped a
/// run (the demo and slogate's own metrics), and parses and returns data
/// in slogate's own evaluator over the run's saved metrics (but the checks,
/// judged after the run's last scrape).
#[test]
fn every_dashboard_query_returns_data_for_a_run() {
    let Some(binary) = support::require_tool("prometheus", "prometheus") else {
        return;
    };
    let demo = slogate::demo::Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    let port = free_port();
    let demo_addr = demo.url().trim_start_matches("http://").to_string();
    let prometheus = Prometheus::start(
        &binary,
        &format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: slogate\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n  - job_name: demo\n    static_configs:\n      - targets: ['{demo_addr}']\n"
        ),
    );
    let listen = format!("127.0.0.1:{port}");
    // A request nothing answers, for the errors panel.
    let gone = format!(
        "requests:\n  - {{name: gone, url: \"http://127.0.0.1:{}/\", weight: 1}}\n",
        free_port()
    );
    let yaml = format!(
        "{}metrics:\n  scrape: [{{url: \"${{api}}/metrics\", job: demo, interval: 1s}}]\nexpect: [error_rate < 50%]\n",
        scenario(&demo.url()).replacen("requests:\n", &gone, 1)
    );
    let started = std::time::SystemTime::now();
    let (_dir, out, output) = run_scenario_with(
        &yaml,
        &[],
        &["--metrics-listen", &listen, "--metrics-grace", "20s"],
    );
    support::assert_exit(&output, 0);
    let span = started.elapsed().unwrap().as_secs() + 2;
    let client = slogate::backend::http_client(std::time::Duration::from_secs(30)).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let start = format!("{:.3}", now - span as f64);
    let end = format!("{now:.3}");
    let mut without_data = Vec::new();
    for (name, expr) in dashboard_queries("telemetry", "demo") {
        let body = client
            .get(format!("{}/api/v1/query_range", prometheus.url()))
            .query(&[
                ("query", expr.as_str()),
                ("start", &start),
                ("end", &end),
                ("step", "1"),
            ])
            .send()
            .and_then(|r| r.text())
            .unwrap();
        let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(answer["status"], "success", "{name}: {expr}: {answer}");
        if !has_data(&answer["data"]["result"]) {
            without_data.push(format!("Prometheus: {name}: {expr}"));
        }
        // slogate's evaluator over the saved scrapes (its own job there is
        // `slogate_run`, the demo's `demo`).
        let run = out.to_str().unwrap();
        let range = format!("{span}s");
        let answer = support::slogate(&[
            "query", "--run", run, &expr, "--range", &range, "--output", "json",
        ]);
        support::assert_exit(&answer, 0);
        let answer: serde_json::Value = serde_json::from_slice(&answer.stdout).unwrap();
        if !has_data(&answer["result"]) && !expr.contains("slogate_check_passed") {
            without_data.push(format!("saved: {name}: {expr}"));
        }
    }
    assert!(
        without_data.is_empty(),
        "no data:\n{}",
        without_data.join("\n")
    );
}

/// An open model the service cannot keep up with: the schedule's lag, on
/// the endpoint while the run goes, grows with the backlog; one request
/// is in flight on the one connection.
#[test]
fn the_schedule_lag_and_in_flight_are_live() {
    let demo = slogate::demo::Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    let slow = slogate::demo::Faults {
        latency_ms: 20.0,
        ..Default::default()
    };
    slogate::demo::set_faults_remote(&demo.url(), &slow).unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let url = format!("{}/data/process", demo.url());
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_slogate"))
        .args([
            "hit",
            &url,
            "-z",
            "4s",
            "-q",
            "200",
            "-c",
            "1",
            "--metrics-listen",
            &listen,
        ])
        .args(["--metrics-grace", "1s"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _child = support::process::Process(child);
    // 200/s due, at most 50/s answered: after 2.5 s about 1.9 s behind.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let (status, text) = support::http(listen.parse().unwrap(), "GET", "/metrics", &[], "");
    assert_eq!(status, 200, "{text}");
    let value = |series: &str| -> f64 {
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
    };
    let lag = value(r#"slogate_schedule_lag_seconds{scenario="hit"}"#);
    assert!((0.8..2.6).contains(&lag), "lag {lag} s");
    let in_flight = value(r#"slogate_in_flight{scenario="hit"}"#);
    assert!(in_flight <= 1.0, "{in_flight} in flight on one connection");
}
