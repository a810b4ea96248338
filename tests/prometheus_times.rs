//! Alert times read back from a real Prometheus at 15 s scrape and
//! evaluation intervals: the pending, firing and resolved times slogate writes in
//! alerts.json are Prometheus's own, checked against what its
//! `/api/v1/alerts` said while the run went on (polled every 250 ms by
//! the test itself), not against a grid from the run's start.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::support::{self, process, run_scenario};

const POLL_MS: i64 = 250;
const INTERVAL_MS: i64 = 15_000;

const RULES: &str = "groups:
  - name: times
    rules:
      - alert: DemoErrors
        expr: sum(rate(http_requests_total{status=~\"5..\"}[40s])) / sum(rate(http_requests_total[40s])) > 0.1
        for: 15s
";

/// What `/api/v1/alerts` said about DemoErrors: its `activeAt` (ms),
/// when the test first saw it firing and first saw it gone after that
/// (ms, wall clock: the API lists pending and firing alerts only).
#[derive(Debug, Default, Clone, Copy)]
struct Seen {
    active_at: Option<i64>,
    firing_seen: Option<i64>,
    gone_seen: Option<i64>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn watch(addr: std::net::SocketAddr, stop: Arc<AtomicBool>, seen: Arc<Mutex<Seen>>) {
    // Bounded: the run is a few minutes at most.
    for _ in 0..(10 * 60 * 1000 / POLL_MS) {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let (status, body) = support::http(addr, "GET", "/api/v1/alerts", &[], "");
        let at = now_ms();
        if status == 200 {
            let json: serde_json::Value = serde_json::from_str(&body).unwrap();
            let listed = json["data"]["alerts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["labels"]["alertname"] == "DemoErrors");
            {
                let mut seen = seen.lock().unwrap();
                if !listed && seen.firing_seen.is_some() && seen.gone_seen.is_none() {
                    seen.gone_seen = Some(at);
                }
            }
            for alert in json["data"]["alerts"].as_array().unwrap() {
                if alert["labels"]["alertname"] != "DemoErrors" {
                    continue;
                }
                let mut seen = seen.lock().unwrap();
                let active_at = alert["activeAt"]
                    .as_str()
                    .and_then(slogate::backend::prometheus_state::rfc3339_ms);
                if seen.active_at.is_none() {
                    seen.active_at = active_at;
                }
                if alert["state"] == "firing" && seen.firing_seen.is_none() {
                    seen.firing_seen = Some(at);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(POLL_MS as u64));
    }
}

#[test]
fn pending_firing_and_resolved_times_are_prometheus_evaluation_timestamps() {
    let Some(prometheus_bin) = support::require_tool("prometheus", "prometheus") else {
        return;
    };
    let demo = slogate::demo::Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("times.yml");
    std::fs::write(&rules, RULES).unwrap();
    let prometheus = process::Prometheus::start(
        &prometheus_bin,
        &format!(
            "global: {{scrape_interval: 15s, evaluation_interval: 15s}}\n\
             rule_files: [{}]\n\
             scrape_configs:\n  - job_name: demo\n    static_configs: [{{targets: [\"{}\"]}}]\n",
            rules.display(),
            demo.addr()
        ),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let watcher = {
        let (stop, seen, addr) = (stop.clone(), seen.clone(), prometheus.addr);
        std::thread::spawn(move || watch(addr, stop, seen))
    };
    // The 5xx series appears at the first scrape after the fault, its rate
    // one scrape later, the alert at the next evaluation (≤ 45 s), firing
    // one evaluation after that. After the fault the ratio is 0 once the
    // 40 s window holds no scrape from before its end: resolved at an
    // evaluation at most 40 + 15 + 15 s later, inside the last phase.
    let yaml = format!(
        "name: times
targets:
  api: {}
metrics:
  prometheus: {}
rules: [{}]
requests:
  - {{name: process, url: \"${{api}}/data/process\"}}
phases:
  - name: healthy
    duration: 10s
    load: {{rate: 20/s}}
  - name: errors
    duration: 60s
    load: {{rate: 20/s}}
    faults:
      - demo: {{error_ratio: 50%}}
    expect:
      - {{alert: DemoErrors, fires_within: 60s}}
  - name: after
    duration: 75s
    load: {{rate: 20/s}}
",
        demo.url(),
        prometheus.url(),
        rules.display()
    );
    let started = Instant::now();
    let (_dir, out, output) = run_scenario(&yaml, &[]);
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    let seen = *seen.lock().unwrap();
    // The wait fits this Prometheus: 15 s scrape + 15 s group + 5 s at most.
    assert!(
        said.contains("for Prometheus to scrape and evaluate past the run's end"),
        "{said}"
    );
    assert!(started.elapsed() < Duration::from_secs(145 + 60), "{said}");

    let alerts: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("alerts.json")).unwrap()).unwrap();
    let by = alerts["evaluated_by"].as_str().unwrap();
    assert!(
        by.contains("resolved = last active evaluation + group interval 15s"),
        "{by}"
    );
    let episodes = crate::drill::episodes(&alerts);
    let demo_errors: Vec<_> = episodes.iter().filter(|e| e.0 == "DemoErrors").collect();
    assert_eq!(demo_errors.len(), 1, "{episodes:?}\n{seen:?}");
    let (_, pending_at, fired_at, resolved_at) = demo_errors[0].clone();
    let fired_at = fired_at.expect("DemoErrors fired");
    let active_at = seen.active_at.expect("the test saw DemoErrors active");
    let firing_seen = seen.firing_seen.expect("the test saw DemoErrors firing");
    let resolved_at = resolved_at.expect("DemoErrors resolved within the run");
    let gone_seen = seen.gone_seen.expect("the test saw DemoErrors resolve");
    eprintln!(
        "pending_at {pending_at} activeAt {active_at} ({:+} ms); fired_at {fired_at} first seen firing {firing_seen} ({:+} ms after it); resolved_at {resolved_at} first seen gone {gone_seen} ({:+} ms after it); run took {:?}",
        pending_at - active_at,
        firing_seen - fired_at,
        gone_seen - resolved_at,
        started.elapsed()
    );
    assert!(
        (pending_at - active_at).abs() <= 1000,
        "pending {pending_at} vs activeAt {active_at}"
    );
    assert!(
        (fired_at - (firing_seen - POLL_MS)).abs() <= 1000,
        "fired {fired_at} vs first seen firing {firing_seen} - {POLL_MS} ms"
    );
    assert!(
        (resolved_at - (gone_seen - POLL_MS)).abs() <= 1000,
        "resolved {resolved_at} vs first seen gone {gone_seen} - {POLL_MS} ms"
    );
    // Firing and resolved at evaluations of the group: on activeAt's 15 s
    // grid, firing at or after activeAt + for.
    let after = fired_at - active_at;
    assert!(after >= 15_000 - 1, "fired {after} ms after activeAt");
    for (what, at) in [("fired", fired_at), ("resolved", resolved_at)] {
        let off_grid = (at - active_at).rem_euclid(INTERVAL_MS);
        assert!(
            off_grid <= 1 || off_grid >= INTERVAL_MS - 1,
            "{what} {} ms after activeAt: not an evaluation timestamp",
            at - active_at
        );
    }
}
