//! Several origins in one run and per-phase mixes, end to end: `slogate
//! check` and `run` agree, each server receives exactly its share, and
//! `summary.json` says each request's origin and, per phase, only the
//! requests the phase sends. (HTTP/2 and TLS to several origins: see
//! `transport.rs`.)

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::support::server::{Call, Reply, Server};
use crate::support::{assert_exit, run_scenario};

/// A server answering 200 (500 under `/error`) that counts requests by path.
fn counting_server() -> (Server, Arc<Mutex<BTreeMap<String, u64>>>) {
    let counts = Arc::new(Mutex::new(BTreeMap::new()));
    let seen = counts.clone();
    let server = Server::start(move |call: &Call| {
        let path = call.path.split('?').next().unwrap_or("").to_string();
        let status = if path.starts_with("/error") { 500 } else { 200 };
        *seen.lock().unwrap().entry(path).or_insert(0) += 1;
        Reply::status(status)
    });
    (server, counts)
}

fn summary(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap()
}

/// `{name: (requests, origin)}` of a phase's request rows.
fn rows(phase: &serde_json::Value) -> BTreeMap<String, (u64, String)> {
    crate::support::request_rows(phase)
        .into_iter()
        .map(|(name, requests, origin)| (name, (requests, origin)))
        .collect()
}

fn check(yaml: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scenario.yaml");
    std::fs::write(&file, yaml).unwrap();
    crate::support::slogate(&["check", file.to_str().unwrap()])
}

#[test]
fn requests_to_two_servers_each_reach_their_own() {
    let _serial = crate::support::serial();
    let (auth, auth_counts) = counting_server();
    let (api, api_counts) = counting_server();
    // `items` is templated: it takes the dynamic path to its origin.
    let yaml = format!(
        r#"
name: two-origins
targets:
  auth: {}
  api: {}
requests:
  - {{name: login, method: POST, url: "${{auth}}/login", body: "u"}}
  - {{name: data, url: "${{api}}/data", weight: 2}}
  - {{name: items, url: "${{api}}/items?n={{{{ counter }}}}"}}
phases:
  - name: open
    duration: 2s
    load: {{rate: 100/s, connections: 4}}
  - name: closed
    requests: 40
    load: {{concurrency: 3}}
"#,
        auth.url(""),
        api.url("")
    );
    assert_exit(&check(&yaml), 0);
    let (_dir, out, output) = run_scenario(&yaml, &[]);
    assert_exit(&output, 0);
    // 200 + 40 requests, 1:2:1.
    assert_eq!(auth.received(), 60);
    assert_eq!(api.received(), 180);
    assert_eq!(
        *auth_counts.lock().unwrap(),
        BTreeMap::from([("/login".to_string(), 60)])
    );
    assert_eq!(
        *api_counts.lock().unwrap(),
        BTreeMap::from([("/data".to_string(), 120), ("/items".to_string(), 60)])
    );
    let summary = summary(&out);
    let auth_origin = format!("http://{}", auth.addr);
    let api_origin = format!("http://{}", api.addr);
    assert_eq!(
        rows(&summary["phases"][0]),
        BTreeMap::from([
            ("login".to_string(), (50, auth_origin.clone())),
            ("data".to_string(), (100, api_origin.clone())),
            ("items".to_string(), (50, api_origin.clone())),
        ])
    );
    assert_eq!(
        rows(&summary["phases"][1]),
        BTreeMap::from([
            ("login".to_string(), (10, auth_origin)),
            ("data".to_string(), (20, api_origin.clone())),
            ("items".to_string(), (10, api_origin)),
        ])
    );
    assert_eq!(summary["run"]["failed"], 0);
    crate::support::check_schema(&summary, include_str!("../reports/run.schema.json"));
    // Connections are kept alive per origin: at most one per slot and origin.
    assert!(auth.accepted() <= 4, "auth accepted {}", auth.accepted());
    assert!(api.accepted() <= 4, "api accepted {}", api.accepted());
}

#[test]
fn a_second_origin_that_does_not_resolve_fails_before_the_run() {
    let _serial = crate::support::serial();
    let (api, _) = counting_server();
    // A 64-byte label: no resolver accepts it, so the lookup fails on this
    // machine without a DNS query leaving it.
    let host = format!("{}.invalid", "x".repeat(64));
    let yaml = format!(
        r#"
name: unresolvable
targets:
  api: {}
requests:
  - {{name: data, url: "${{api}}/data"}}
  - {{name: audit, url: "http://{host}:8080/audit"}}
phases:
  - name: p
    duration: 1s
    load: {{rate: 20/s}}
"#,
        api.url("")
    );
    // Valid as written: only resolving tells.
    assert_exit(&check(&yaml), 0);
    let (_dir, out, output) = run_scenario(&yaml, &[]);
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "request `audit` goes to http://{host}:8080: cannot resolve `{host}`"
        )),
        "{stderr}"
    );
    assert_eq!(api.received(), 0, "nothing is sent");
    assert!(!out.join("summary.json").exists());
}

#[test]
fn each_phase_sends_its_own_mix() {
    let _serial = crate::support::serial();
    let (api, counts) = counting_server();
    let yaml = format!(
        r#"
name: mixes
targets:
  api: {}
requests:
  - {{name: process, url: "${{api}}/process", weight: 9}}
  - {{name: error, url: "${{api}}/error", expect_status: [500]}}
phases:
  - name: healthy
    duration: 2s
    load: {{rate: 50/s}}
    mix: [process]
  - name: inject
    duration: 2s
    load: {{rate: 50/s}}
    mix: [{{request: process, weight: 1}}, error]
    expect:
      - {{check: availability >= 100%, request: error}}
  - name: default
    requests: 20
    load: {{concurrency: 2}}
"#,
        api.url("")
    );
    assert_exit(&check(&yaml), 0);
    let (_dir, out, output) = run_scenario(&yaml, &[]);
    assert_exit(&output, 0);
    // healthy: 100 process; inject: 50 and 50; default: the top-level
    // weights, 9:1 of 20.
    assert_eq!(
        *counts.lock().unwrap(),
        BTreeMap::from([("/process".to_string(), 168), ("/error".to_string(), 52)])
    );
    let summary = summary(&out);
    let origin = format!("http://{}", api.addr);
    let phases = summary["phases"].as_array().unwrap();
    // A request the phase does not send has no row in it.
    assert_eq!(
        rows(&phases[0]),
        BTreeMap::from([("process".to_string(), (100, origin.clone()))])
    );
    assert_eq!(
        rows(&phases[1]),
        BTreeMap::from([
            ("process".to_string(), (50, origin.clone())),
            ("error".to_string(), (50, origin.clone())),
        ])
    );
    assert_eq!(
        rows(&phases[2]),
        BTreeMap::from([
            ("process".to_string(), (18, origin.clone())),
            ("error".to_string(), (2, origin)),
        ])
    );
    assert_eq!(phases[1]["failed"], 0, "500 is what `error` expects");
    let checks = crate::support::checks(&out);
    assert_eq!(checks.len(), 1, "{checks:?}");
    assert_eq!(checks[0].1, "PASS", "{checks:?}");
}
