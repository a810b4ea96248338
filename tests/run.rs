//! `slogate run` end to end: scenario files against real servers, the exit
//! code, and the files of the results directory.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::assert_exit;
use crate::support::server::{Reply, Server};

/// Writes `scenario` (and `files` beside it) into a fresh directory and
/// starts `slogate run` on it, results into `out/` there.
fn start(scenario: &str, files: &[(&str, &str)]) -> (Child, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scenario.yaml");
    std::fs::write(&file, scenario).unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let child = Command::new(env!("CARGO_BIN_EXE_slogate"))
        .args(["run", file.to_str().unwrap(), "--out"])
        .arg(dir.path().join("out"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    (child, dir)
}

/// Runs a scenario to its end; returns the output and the directory.
fn run(scenario: &str, files: &[(&str, &str)]) -> (Output, tempfile::TempDir) {
    let (child, dir) = start(scenario, files);
    (child.wait_with_output().unwrap(), dir)
}

fn json(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("out/summary.json")).unwrap()).unwrap()
}

fn text(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join("out").join(name)).unwrap()
}

#[test]
fn phases_run_back_to_back_with_the_right_counts() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::status(200));
    let scenario = format!(
        r#"
name: counts
targets:
  api: {}
requests:
  - {{name: a, url: "${{api}}/a", weight: 3}}
  - {{name: b, url: "${{api}}/b", weight: 1}}
phases:
  - name: open
    duration: 2s
    load: {{rate: 100/s, connections: 10}}
  - name: closed
    requests: 50
    load: {{concurrency: 2}}
  - name: ramp
    duration: 2s
    load: {{rate: {{from: 50/s, to: 150/s}}, connections: 10}}
    expect:
      - latency p99 < 10s
"#,
        server.url("")
    );
    let (output, dir) = run(&scenario, &[]);
    assert_exit(&output, 0);
    let summary = json(dir.path());
    let phases = summary["phases"].as_array().unwrap();
    let requests: Vec<u64> = phases
        .iter()
        .map(|p| p["requests"].as_u64().unwrap())
        .collect();
    assert_eq!(requests, vec![200, 50, 200]);
    assert_eq!(server.received(), 450);
    // The weights hold in every phase: 3 of every 4 requests are `a`.
    let open_a = phases[0]["per_request"][0]["requests"].as_u64().unwrap();
    assert_eq!(open_a, 150);
    assert_eq!(phases[1]["model"], "closed");
    // Phases follow each other: each starts after the previous one's length.
    let start = |i: usize| phases[i]["start_s"].as_f64().unwrap();
    assert!(
        start(1) >= 2.0 && start(2) > start(1),
        "starts {} {} {}",
        start(0),
        start(1),
        start(2)
    );
    assert_eq!(summary["ending"], "passed");
    crate::support::check_schema(&summary, include_str!("../reports/run.schema.json"));
    // Both open-model phases show their schedule, kept or not; every answer
    // was a 2xx, so there is no line of causes.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.matches("schedule ").count(), 2, "{stdout}");
    assert!(stdout.contains("schedule 100.0/s: 200 due"), "{stdout}");
    assert!(!stdout.contains("answers"), "{stdout}");
    // The ramp says the load its latency bound held up to.
    assert!(
        stdout.contains("p99 stayed under 10000 ms up to ≈ "),
        "{stdout}"
    );
    let md = text(dir.path(), "summary.md");
    assert!(
        md.contains("- ramp: p99 stayed under 10000 ms up to ≈ "),
        "{md}"
    );
}

#[test]
fn csv_rows_templates_and_headers_reach_the_wire() {
    let _serial = crate::support::serial();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let server = Server::start(move |call| {
        seen2.lock().unwrap().push(call.clone());
        Reply::status(201)
    });
    let scenario = format!(
        r#"
name: csv
targets:
  api: {}
data:
  users: {{csv: users.csv}}
requests:
  - name: order
    method: POST
    url: "${{api}}/users/{{{{ csv users.id }}}}?n={{{{ rand 5 7 }}}}"
    headers:
      X-Email: "{{{{ csv users.email }}}}"
    body: '{{"seq": {{{{ counter }}}}, "id": {{{{ csv users.id }}}}}}'
    expect_status: [201]
phases:
  - name: all
    requests: 7
    load: {{concurrency: 1}}
    expect:
      - error_rate < 1%
"#,
        server.url("")
    );
    let csv = "id,email\n1,ada@example.com\n2,grace@example.com\n3,edsger@example.com\n";
    let (output, _dir) = run(&scenario, &[("users.csv", csv)]);
    assert_exit(&output, 0);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 7);
    for (i, call) in seen.iter().enumerate() {
        let id = i % 3 + 1;
        assert_eq!(call.method, "POST");
        let (path, query) = call.path.split_once('?').unwrap();
        assert_eq!(path, format!("/users/{id}"));
        let n: u32 = query.strip_prefix("n=").unwrap().parse().unwrap();
        assert!((5..=7).contains(&n), "{query}");
        let email = call
            .headers
            .iter()
            .find(|(k, _)| k == "x-email")
            .map(|(_, v)| v.as_str());
        let emails = ["ada@example.com", "grace@example.com", "edsger@example.com"];
        assert_eq!(email, Some(emails[i % 3]));
        // Rows are taken in order; the counter runs across the run.
        assert_eq!(
            String::from_utf8_lossy(&call.body),
            format!("{{\"seq\": {i}, \"id\": {id}}}")
        );
    }
}

#[test]
fn every_kind_of_expectation_can_fail_and_exits_1() {
    let _serial = crate::support::serial();
    let server = Server::start(|call| {
        Reply::delayed(
            if call.index % 2 == 0 { 200 } else { 500 },
            Duration::from_millis(20),
        )
    });
    let scenario = format!(
        r#"
name: failing
targets:
  api: {}
requests:
  - {{name: slow, url: "${{api}}/slow"}}
phases:
  - name: only
    requests: 40
    load: {{concurrency: 2}}
    expect:
      - latency p95 < 5ms
      - error_rate < 1%
      - availability >= 99%
      - throughput >= 1000/s
      - status 5xx < 1%
      - requests >= 1000
      - {{metric: latency max, at_most: 1ms, request: slow}}
"#,
        server.url("")
    );
    let (output, dir) = run(&scenario, &[]);
    assert_eq!(output.status.code(), Some(1));
    let checks = text(dir.path(), "checks.csv");
    let rows: Vec<&str> = checks.lines().skip(1).collect();
    assert_eq!(rows.len(), 7, "{checks}");
    assert!(rows.iter().all(|r| r.contains(",FAIL,")), "{checks}");
    assert!(
        checks.contains("error_rate < 1%,phase only,50%,0.5,< 1%,FAIL"),
        "{checks}"
    );
    assert!(
        checks.contains("requests >= 1000,phase only,40,40,>= 1000,FAIL"),
        "{checks}"
    );
    let junit = text(dir.path(), "junit.xml");
    assert_eq!(junit.matches(r#"type="FAIL""#).count(), 7, "{junit}");
    assert!(junit.contains("measured 50%, wanted &lt; 1%"), "{junit}");
    let summary = json(dir.path());
    assert_eq!(summary["ending"], "failed");
    crate::support::check_schema(&summary, include_str!("../reports/run.schema.json"));
    let p95 = summary["checks"][0]["measured"].as_f64().unwrap();
    assert!(p95 >= 20.0, "measured p95 {p95} ms");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("FAILED: 7 of 7 checks"), "{stdout}");
    // Why the requests failed, where people look: the terminal and the
    // job summary.
    assert!(stdout.contains("answers  2xx 20, 5xx 20"), "{stdout}");
    let md = text(dir.path(), "summary.md");
    assert!(md.contains("| 2xx 20, 5xx 20 |"), "{md}");
}

#[test]
fn an_abort_condition_stops_the_run_with_exit_3_and_reports() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::status(503));
    let scenario = format!(
        r#"
name: abort
targets:
  api: {}
requests:
  - {{name: x, url: "${{api}}/x"}}
phases:
  - name: long
    duration: 60s
    load: {{rate: 50/s}}
    expect:
      - throughput >= 40/s
  - name: never
    duration: 5s
    load: {{rate: 50/s}}
    expect:
      - error_rate < 1%
      - requests >= 1
abort:
  - error_rate > 50% for 2s
"#,
        server.url("")
    );
    let started = std::time::Instant::now();
    let (output, dir) = run(&scenario, &[]);
    assert_exit(&output, 3);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped early: {:?}",
        started.elapsed()
    );
    let summary = json(dir.path());
    assert_eq!(summary["ending"], "aborted");
    let reason = summary["abort_reason"].as_str().unwrap();
    assert!(reason.contains("error_rate > 50% for 2s"), "{reason}");
    assert_eq!(
        summary["phases"].as_array().unwrap().len(),
        1,
        "the second phase never started"
    );
    // The phase cut short: throughput over the seconds it ran, not its
    // scheduled 60 s, and said so.
    let long = &summary["phases"][0];
    assert_eq!(long["cut_short"], true);
    assert_eq!(long["scheduled_s"], 60.0);
    let throughput = &summary["checks"][0];
    assert_eq!(throughput["outcome"], "PASS", "{throughput}");
    let measured = throughput["measured"].as_f64().unwrap();
    assert!((40.0..=60.0).contains(&measured), "{throughput}");
    let shown = throughput["measured_text"].as_str().unwrap();
    assert!(shown.contains("(cut short after "), "{shown}");
    // The never-started phase's expectations are NO DATA, even a count.
    assert_eq!(summary["checks"][1]["outcome"], "NO_DATA");
    assert_eq!(summary["checks"][2]["outcome"], "NO_DATA");
    assert!(text(dir.path(), "junit.xml").contains("<error message=\"abort condition"));
    assert!(text(dir.path(), "timeline.csv").lines().count() >= 3);
    assert!(text(dir.path(), "summary.md").contains("ABORTED"));
}

#[test]
fn no_data_is_reported_and_fails_unless_optional() {
    let _serial = crate::support::serial();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let scenario = |optional: bool| {
        format!(
            r#"
name: nodata
targets:
  api: http://127.0.0.1:{port}
requests:
  - {{name: x, url: "${{api}}/x"}}
phases:
  - name: p
    requests: 5
    load: {{concurrency: 1}}
    expect:
      - {{check: "latency p95 < 1s", optional: {optional}}}
"#
        )
    };
    let (output, dir) = run(&scenario(false), &[]);
    assert_eq!(output.status.code(), Some(1));
    let checks = text(dir.path(), "checks.csv");
    assert!(
        checks.contains("latency p95 < 1s,phase p,no data,,< 1s,NO DATA,false"),
        "{checks}"
    );
    assert!(text(dir.path(), "junit.xml").contains(r#"type="NO DATA""#));
    let (output, dir) = run(&scenario(true), &[]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "optional NO DATA does not fail"
    );
    assert!(text(dir.path(), "junit.xml").contains("<skipped"));
}

#[test]
fn an_invalid_scenario_exits_2_and_runs_nothing() {
    let _serial = crate::support::serial();
    let (output, dir) = run(
        "name: x\ntargets: {api: http://127.0.0.1:1}\nrequests: []\nphases: []\n",
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("`requests` is empty"));
    assert!(
        !dir.path().join("out").exists(),
        "no results directory for a run that never started"
    );
}

#[test]
fn think_distributions_bound_the_load_and_spread_the_gaps() {
    let _serial = crate::support::serial();
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let seen = arrivals.clone();
    let server = Server::start(move |call| {
        seen.lock().unwrap().push(call.since_start);
        Reply::status(200)
    });
    let scenario = format!(
        r#"
name: think-distributions
targets:
  api: {}
requests:
  - {{name: x, url: "${{api}}/x"}}
phases:
  - name: uniform
    duration: 2s
    load: {{concurrency: 2, think: {{min: 80ms, max: 120ms}}}}
  - name: poisson
    duration: 1s
    load: {{concurrency: 1, think: {{mean: 100ms}}}}
"#,
        server.url("")
    );
    let (output, dir) = run(&scenario, &[]);
    assert_exit(&output, 0);
    let summary = json(dir.path());
    let phases = summary["phases"].as_array().unwrap();
    // A user sends at 0 and then once per cycle (answer + pause) while the
    // phase's 2 s last. Pauses are at least 80 ms: at most 1 + 24 requests
    // (24 × 80 ms = 1.92 s < 2 s, 25 × 80 ms is not). At most 120 ms, plus
    // up to 5 ms for a loopback answer and the timer: cycles of 125 ms
    // at most, so at least 1 + 15 (15 × 125 ms = 1.875 s). Two users.
    let uniform = phases[0]["requests"].as_u64().unwrap();
    assert!((2 * 16..=2 * 25).contains(&uniform), "uniform: {uniform}");
    // The last phase's requests are the server's last arrivals: one user,
    // so the gaps between them are answer + pause, drawn exponentially.
    let poisson = phases[1]["requests"].as_u64().unwrap() as usize;
    assert!(poisson >= 4, "poisson: {poisson}");
    let arrivals = arrivals.lock().unwrap();
    let last = &arrivals[arrivals.len() - poisson..];
    let gaps: Vec<f64> = last
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64() * 1e3)
        .collect();
    let (shortest, longest) = gaps.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), g| {
        (lo.min(*g), hi.max(*g))
    });
    // A constant 100 ms would give gaps within a few ms of each other; the
    // longest of several exponential draws is many times the shortest.
    assert!(longest > 2.0 * shortest, "gaps in ms: {gaps:?}");
    // The reports say which distribution each phase drew from.
    assert_eq!(phases[0]["think"], "80ms..120ms");
    assert_eq!(phases[1]["think"], "exp(mean 100ms)");
    let terminal = String::from_utf8_lossy(&output.stdout);
    assert!(terminal.contains("think    80ms..120ms"), "{terminal}");
}

#[test]
fn think_time_and_steps_shape_the_load() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::status(200));
    let scenario = format!(
        r#"
name: shapes
targets:
  api: {}
requests:
  - {{name: x, url: "${{api}}/x"}}
phases:
  - name: thinking
    duration: 1s
    load: {{concurrency: 2, think: 100ms}}
  - name: steps
    load:
      steps:
        - {{rate: 50/s, duration: 1s}}
        - {{rate: 150/s, duration: 1s}}
"#,
        server.url("")
    );
    let (output, dir) = run(&scenario, &[]);
    assert_exit(&output, 0);
    let summary = json(dir.path());
    let phases = summary["phases"].as_array().unwrap();
    // Two users, each sending every ~100 ms for 1 s: 2 × 10, give or take one each.
    let thinking = phases[0]["requests"].as_u64().unwrap();
    assert!((18..=22).contains(&thinking), "thinking: {thinking}");
    assert_eq!(phases[1]["requests"], 200);
    assert_eq!(phases[1]["schedule"]["due"], 200);
    let steps: Vec<u64> = phases[1]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["requests"].as_u64().unwrap())
        .collect();
    assert_eq!(steps, vec![50, 150]);
    assert!(
        phases[0].get("steps").is_none(),
        "the closed model has none"
    );
}

/// A `steps:` phase's steps in every report: each step's requests are
/// those due in it, with their own latency and failures.
#[test]
fn each_step_of_a_steps_phase_is_reported() {
    let _serial = crate::support::serial();
    // Step 1's 20 requests take 30 ms; of step 2's 40, every 4th is a 503.
    let server = Server::start(|call| match call.index {
        0..20 => Reply::delayed(200, Duration::from_millis(30)),
        i if i % 4 == 0 => Reply::status(503),
        _ => Reply::status(200),
    });
    let scenario = format!(
        r#"
name: stepped
targets:
  api: {}
requests:
  - {{name: x, url: "${{api}}/x"}}
phases:
  - name: stairs
    load: {{steps: [{{rate: 20/s, duration: 1s}}, {{rate: 40/s, duration: 1s}}], connections: 8}}
    expect:
      - latency p99 < 10s
"#,
        server.url("")
    );
    let (output, dir) = run(&scenario, &[]);
    assert_exit(&output, 0);
    let summary = json(dir.path());
    crate::support::check_schema(&summary, include_str!("../reports/run.schema.json"));
    let phase = &summary["phases"][0];
    let steps = phase["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    let field = |i: usize, key: &str| steps[i][key].as_f64().unwrap();
    assert_eq!((field(0, "requests"), field(1, "requests")), (20.0, 40.0));
    assert_eq!(
        (field(0, "target_rate"), field(1, "target_rate_end")),
        (20.0, 40.0)
    );
    assert_eq!(field(1, "requests_per_second"), 40.0);
    assert_eq!(field(1, "scheduled_s"), 1.0);
    let start = phase["start_s"].as_f64().unwrap();
    assert!((field(1, "start_s") - start - 1.0).abs() < 1e-6);
    assert_eq!((field(0, "failed"), field(1, "failed")), (0.0, 10.0));
    assert_eq!(
        steps[1]["status_codes"],
        serde_json::json!({"200": 30, "503": 10})
    );
    let p50 = |i: usize| steps[i]["latency_ms"]["p50"].as_f64().unwrap();
    assert!(
        p50(0) >= 30.0 && p50(1) < 20.0,
        "p50s {} {}",
        p50(0),
        p50(1)
    );
    assert!(!steps[0]["latency_histogram"].as_str().unwrap().is_empty());

    let stdout = String::from_utf8_lossy(&output.stdout);
    let row = |label: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no {label:?} row: {stdout}"))
            .to_string()
    };
    let second = row("  step 2 (1s)");
    assert!(
        second.contains("40/s") && second.contains("answers 2xx 30, 5xx 10"),
        "{second}"
    );
    assert!(row("  step 1 (1s)").split_whitespace().nth(4) == Some("20"));
    let markdown = text(dir.path(), "summary.md");
    assert!(
        markdown.contains("| ↳ step 2 (1s) (40 due) | 40/s | 40 | 40.0 | 10 |"),
        "{markdown}"
    );
    // What the schedule made due, all of it sent.
    assert_eq!((field(0, "due"), field(1, "due")), (20.0, 40.0));
    assert_eq!((field(0, "dropped"), field(1, "dropped")), (0.0, 0.0));
    assert!(
        second.contains("due 40") && !second.contains("dropped"),
        "{second}"
    );
    let page = text(dir.path(), "index.html");
    assert!(page.contains("<h3 id=\"steps\">Steps</h3>"));
    assert!(page.contains("<th>due</th><th>count</th><th>req/s</th><th>dropped</th>"));
    assert!(page.contains("<td>step 2 (1s)</td>"));
}

#[test]
fn sigterm_stops_a_run_with_exit_3_and_writes_the_reports() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::status(200));
    let scenario = format!(
        "name: long\ntargets: {{api: \"{}\"}}\nrequests: [{{name: x, url: \"${{api}}/x\"}}]\nphases:\n  - {{name: p, duration: 60s, load: {{rate: 100/s}}, expect: [error_rate < 1%]}}\n",
        server.url("")
    );
    let (child, dir) = start(&scenario, &[]);
    std::thread::sleep(Duration::from_millis(2500));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let output = child.wait_with_output().unwrap();
    assert_exit(&output, 3);
    let summary = json(dir.path());
    assert_eq!(summary["ending"], "interrupted");
    let requests = summary["run"]["requests"].as_u64().unwrap();
    assert!((150..=300).contains(&requests), "{requests}");
    assert!(text(dir.path(), "junit.xml").contains("interrupted by a signal"));
    assert!(text(dir.path(), "timeline.csv").lines().count() >= 3);
}

#[test]
fn expected_error_statuses_count_as_success_everywhere() {
    let _serial = crate::support::serial();
    // A service that answers 503 by design (a maintenance page, say).
    let server = Server::start(|_| Reply::status(503));
    let scenario = format!(
        r#"
name: expected
targets:
  api: {}
requests:
  - {{name: maintenance, url: "${{api}}/m", expect_status: [503]}}
phases:
  - name: p
    duration: 3s
    load: {{rate: 50/s}}
    expect:
      - error_rate < 1%
abort:
  - error_rate > 50% for 2s
"#,
        server.url("")
    );
    let (output, dir) = run(&scenario, &[]);
    assert_exit(&output, 0);
    // The per-second timeline (which abort conditions watch) agrees.
    let timeline = text(dir.path(), "timeline.csv");
    let (mut requests, mut ok) = (0u64, 0u64);
    for line in timeline.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        requests += fields[2].parse::<u64>().unwrap();
        ok += fields[3].parse::<u64>().unwrap();
    }
    assert_eq!((requests, ok), (150, 150), "{timeline}");
}

#[test]
fn out_into_a_results_directory_is_refused_unless_force() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::status(200));
    let scenario = format!(
        r#"
name: twice
targets:
  api: {}
requests:
  - {{name: x, url: "${{api}}/x"}}
phases:
  - name: a
    requests: 5
    load: {{concurrency: 1}}
"#,
        server.url("")
    );
    let (output, dir) = run(&scenario, &[]);
    assert_exit(&output, 0);
    let out = dir.path().join("out");
    // What `slogate compare` left beside the first run's results.
    std::fs::write(out.join("compare.md"), "stale").unwrap();
    let again = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_slogate"))
            .args([
                "run",
                dir.path().join("scenario.yaml").to_str().unwrap(),
                "--out",
            ])
            .arg(&out)
            .args(extra)
            .output()
            .unwrap()
    };
    let output = again(&[]);
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("already holds results (summary.json,"),
        "{stderr}"
    );
    assert!(stderr.contains("pass --force to replace them"), "{stderr}");
    assert_eq!(server.received(), 5, "the refused run sent nothing");
    assert_eq!(
        std::fs::read_to_string(out.join("compare.md")).unwrap(),
        "stale"
    );

    let output = again(&["--force"]);
    assert_exit(&output, 0);
    assert_eq!(server.received(), 10);
    assert!(
        !out.join("compare.md").exists(),
        "no stale comparison beside new results"
    );
    assert!(out.join("summary.json").exists());
}

#[test]
fn the_load_s_results_are_on_disk_before_server_side_judging() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::status(200));
    // Nothing listens there: judging waits for it, then finds it down.
    let prometheus = format!("http://127.0.0.1:{}", crate::support::process::free_port());
    let scenario = format!(
        r#"
name: early
targets:
  api: {}
metrics:
  prometheus: {prometheus}
requests:
  - {{name: x, url: "${{api}}/x"}}
phases:
  - name: a
    requests: 10
    load: {{concurrency: 1}}
    expect:
      - {{promql: 'up == 1', holds: always}}
"#,
        server.url("")
    );
    let (mut child, dir) = start(&scenario, &[]);
    let summary = dir.path().join("out/summary.json");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let complete = || {
        std::fs::read(&summary)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .is_some()
    };
    while !complete() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    // As if judging had crashed: killed the moment the first results land.
    child.kill().unwrap();
    child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let json = json(dir.path());
    assert_eq!(json["run"]["requests"], 10);
    assert_eq!(json["ending"], "failed", "{json}");
    let pending = json["checks"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        pending["check"],
        "server-side checks (PromQL, alerts, SLOs)"
    );
    assert_eq!(pending["outcome"], "NO_DATA");
    assert!(
        pending["measured_text"]
            .as_str()
            .unwrap()
            .contains("slogate stopped before it judged them"),
        "{pending}"
    );
}
