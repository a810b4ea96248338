//! Paging checked at the end of the chain: the demo service, a real
//! Prometheus evaluating the drill's rules and sending to a real
//! Alertmanager, whose routing tree sends critical alerts to
//! `pagerduty-critical` (grouped by severity) and warnings to
//! `slack-warnings` and info to `team-email`, all webhooks pointed at slogate's own receiver. The
//! page, its grouping and the resolved notification pass; an expectation
//! that is wrong on purpose (the warning paged to `pagerduty-critical`)
//! fails with where it went, and "nothing else paged" fails on the alert
//! no expectation names.

use crate::support::{self, checks, outcome_of, process, run_scenario};

const RULES: &str = "groups:
  - name: paging
    interval: 1s
    rules:
      - alert: ErrorsA
        expr: sum(rate(http_requests_total{status=~\"5..\"}[5s])) / sum(rate(http_requests_total[5s])) > 0.1
        for: 2s
        labels: {severity: critical}
        annotations: {summary: 'errors are {{ $value | humanizePercentage }}'}
      - alert: ErrorsB
        expr: sum(rate(http_requests_total{status=~\"5..\"}[5s])) / sum(rate(http_requests_total[5s])) > 0.1
        for: 2s
        labels: {severity: critical}
      - alert: ErrorsWarning
        expr: sum(rate(http_requests_total{status=~\"5..\"}[5s])) / sum(rate(http_requests_total[5s])) > 0.1
        for: 2s
        labels: {severity: warning}
      - alert: ErrorsInfo
        expr: sum(rate(http_requests_total{status=~\"5..\"}[5s])) / sum(rate(http_requests_total[5s])) > 0.1
        for: 2s
        labels: {severity: info}
";

#[test]
fn notifications_are_checked_at_slogates_webhook_receiver_through_a_real_routing_tree() {
    let Some((prometheus_bin, alertmanager_bin)) = process::prometheus_and_alertmanager() else {
        return;
    };
    let demo = slogate::demo::Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("paging.yml");
    std::fs::write(&rules, RULES).unwrap();
    let receiver_port = process::free_port();
    let hook = format!(
        "webhook_configs: [{{url: \"http://127.0.0.1:{receiver_port}/\", send_resolved: true}}]"
    );
    let alertmanager = process::Alertmanager::start(
        &alertmanager_bin,
        &format!(
            "route:\n  receiver: blackhole\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 2s\n  repeat_interval: 1h\n  routes:\n    - matchers: ['severity=\"critical\"']\n      receiver: pagerduty-critical\n      group_by: [severity]\n    - matchers: ['severity=\"warning\"']\n      receiver: slack-warnings\n    - matchers: ['severity=\"info\"']\n      receiver: team-email\nreceivers:\n  - name: blackhole\n  - name: pagerduty-critical\n    {hook}\n  - name: slack-warnings\n    {hook}\n  - name: team-email\n    {hook}\n"
        ),
    );
    let am_addr = alertmanager.addr;
    let prometheus = process::Prometheus::start(
        &prometheus_bin,
        &format!(
            "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\n\
             rule_files: [{}]\n\
             alerting:\n  alertmanagers:\n    - static_configs: [{{targets: [\"{am_addr}\"]}}]\n\
             scrape_configs:\n  - job_name: demo\n    static_configs: [{{targets: [\"{}\"]}}]\n",
            rules.display(),
            demo.addr()
        ),
    );
    let yaml = format!(
        "name: paging
targets:
  api: {}
metrics:
  prometheus: {}
  receiver: 127.0.0.1:{receiver_port}
rules: [{}]
requests:
  - {{name: process, url: \"${{api}}/data/process\"}}
phases:
  - name: healthy
    duration: 8s
    load: {{rate: 50/s}}
  - name: errors
    duration: 12s
    load: {{rate: 50/s}}
    faults:
      - demo: {{error_ratio: 50%}}
    expect:
      - {{alert: ErrorsA, fires_within: 12s}}
      - {{alert: ErrorsA, notified: pagerduty-critical, within: 10s, annotations: {{summary: '^errors are'}}}}
      - {{alert: ErrorsWarning, notified: slack-warnings, within: 10s}}
      # Wrong on purpose: warnings go to slack-warnings.
      - {{alert: ErrorsWarning, notified: pagerduty-critical, within: 10s}}
  - name: recover
    duration: 20s
    load: {{rate: 50/s}}
    expect:
      - {{alert: ErrorsA, resolved_notified: pagerduty-critical, within: 15s}}
expect:
  - {{notified: pagerduty-critical, grouped: [ErrorsA, ErrorsB]}}
  - {{no_other_notifications: true}}
",
        demo.url(),
        prometheus.url(),
        rules.display()
    );
    let (_dir, out, output) = run_scenario(&yaml, &[]);
    let said = String::from_utf8_lossy(&output.stderr);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        said.contains(&format!("listening on http://127.0.0.1:{receiver_port}/")),
        "{said}"
    );
    support::assert_exit(&output, 1);
    let rows = checks(&out);
    let row = |check: &str| outcome_of(&rows, check).clone();
    let paged = row("alert ErrorsA notified pagerduty-critical within 10s");
    assert_eq!(paged.1, "PASS", "{paged:?}\n{text}");
    assert!(
        paged.2.contains("group {severity=\"critical\"}"),
        "{paged:?}"
    );
    assert!(paged.2.contains("with ErrorsB"), "{paged:?}");
    let warned = row("alert ErrorsWarning notified slack-warnings within 10s");
    assert_eq!(warned.1, "PASS", "{warned:?}");
    let wrong = row("alert ErrorsWarning notified pagerduty-critical within 10s");
    assert_eq!(wrong.1, "FAIL", "{wrong:?}");
    assert!(
        wrong
            .2
            .contains("never notified pagerduty-critical: notified slack-warnings at +"),
        "{wrong:?}"
    );
    let resolved = row("alert ErrorsA resolved notified pagerduty-critical within 15s");
    assert_eq!(resolved.1, "PASS", "{resolved:?}\n{text}");
    let grouped = row("alerts ErrorsA, ErrorsB notified together to pagerduty-critical");
    assert_eq!(grouped.1, "PASS", "{grouped:?}");
    let others = row("no other notifications");
    assert_eq!(others.1, "FAIL", "{others:?}");
    assert!(
        !others.2.contains("ErrorsB to pagerduty-critical")
            && !others.2.contains("ErrorsWarning to slack-warnings")
            && others.2.contains("ErrorsInfo to team-email at +"),
        "{others:?}"
    );
    // Every notification in alerts.json, with its receiver and arrival
    // time; the page came after the firing Prometheus recorded.
    let alerts: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("alerts.json")).unwrap()).unwrap();
    let notifications = alerts["receiver"]["notifications"].as_array().unwrap();
    let receivers: Vec<&str> = notifications
        .iter()
        .map(|n| n["receiver"].as_str().unwrap())
        .collect();
    assert!(receivers.contains(&"pagerduty-critical"), "{receivers:?}");
    assert!(receivers.contains(&"slack-warnings"), "{receivers:?}");
    assert!(!receivers.contains(&"blackhole"), "{receivers:?}");
    let fired = alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "ErrorsA")
        .and_then(|a| a["episodes"][0]["pending_at"].as_i64())
        .unwrap();
    let first_page = notifications
        .iter()
        .filter(|n| n["receiver"] == "pagerduty-critical")
        .map(|n| n["at"].as_i64().unwrap())
        .min()
        .unwrap();
    assert!(
        first_page > fired,
        "paged at {first_page}, pending at {fired}"
    );
    // The detection report times the page from the fault's start: after
    // the firing, and the same instant the receiver recorded.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let row = summary["detection"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["alert"] == "ErrorsA")
        .unwrap_or_else(|| panic!("{summary}"));
    let fault_start = summary["started_at_unix_ms"].as_f64().unwrap()
        + row["fault_start_s"].as_f64().unwrap() * 1000.0;
    let paged = row["notified_s"].as_f64().unwrap();
    assert!(paged >= row["fired_s"].as_f64().unwrap(), "{row}");
    assert!(
        (fault_start + paged * 1000.0 - first_page as f64).abs() < 2.0,
        "{row} vs {first_page}"
    );
    assert!(row["resolved_notified_s"].as_f64().is_some(), "{row}");
    assert!(text.contains("\ndetection\n"), "{text}");
}
