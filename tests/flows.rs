//! Flows end to end against real servers: a journey that logs in once per
//! virtual user and carries the token and the session cookie, every
//! capture and check kind, a failed check or capture as its own error kind,
//! `before`/`after` once per run, two origins in one journey, and an
//! open-model flow under a server stall with the coordinated-omission
//! ground truth per step.

use std::time::Duration;

use crate::support::journey::Journey;
use crate::support::server::{Reply, Server};
use crate::support::{assert_exit, run_scenario};

fn summary(out: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap()
}

/// The flow's step named `step` in `summary.json`.
fn step<'a>(summary: &'a serde_json::Value, step: &str) -> &'a serde_json::Value {
    summary["flows"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == step)
        .unwrap_or_else(|| panic!("no step {step}: {}", summary["flows"]))
}

/// `(passed, failed)` of the check named `name` of step `step`.
fn check(summary: &serde_json::Value, step: &str, name: &str) -> (u64, u64) {
    let check = summary["flows"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["step"] == step && c["name"] == name)
        .unwrap_or_else(|| {
            panic!(
                "no check {step} › {name}: {}",
                summary["flows"][0]["checks"]
            )
        });
    (
        check["passed"].as_u64().unwrap(),
        check["failed"].as_u64().unwrap(),
    )
}

#[test]
fn a_journey_logs_in_once_per_user_and_carries_its_token_and_cookie() {
    let _serial = crate::support::serial();
    let journey = Journey::start();
    let yaml = format!(
        r#"
name: journey
targets:
  api: {}
flows:
  - name: shop
    setup:
      - name: login
        method: POST
        url: "${{api}}/login"
        headers: {{Content-Type: application/json}}
        body: '{{"user": "u{{{{ counter }}}}", "password": "secret"}}'
        capture:
          token: {{json: "$.token"}}
        check:
          - status: 200
          - {{header: set-cookie}}
    steps:
      - name: me
        url: "${{api}}/me"
        headers: {{Authorization: "Bearer {{{{ token }}}}"}}
        check:
          - {{json: "$.user", matches: "^u[0-9]+$"}}
      - name: session
        url: "${{api}}/session"
        check:
          - status: 2xx
      - name: create
        method: POST
        url: "${{api}}/items"
        headers: {{Authorization: "Bearer {{{{ token }}}}"}}
        body: '{{"label": "x"}}'
        capture:
          id: {{json: "$.id"}}
        check:
          - status: 201
          - {{json: "$.label", equals: "x"}}
      - name: read
        url: "${{api}}/items/{{{{ id }}}}"
        headers: {{Authorization: "Bearer {{{{ token }}}}"}}
        check:
          - {{body_contains: '"label":"x"'}}
          - {{latency: 5s}}
      - name: wrong
        url: "${{api}}/wrong"
        continue: true
        check:
          - {{json: "$.status", equals: "ok", name: the service says ok}}
phases:
  - name: loop
    requests: 30
    load: {{concurrency: 3}}
expect:
  - {{check: "error_rate < 1%", flow: shop, step: read}}
  - "checks passed >= 99%"
"#,
        journey.url()
    );
    let (_dir, out, output) = run_scenario(&yaml, &[]);
    // The wrong answer fails `checks passed`: exit 1.
    assert_exit(&output, 1);
    // Setup ran once per virtual user: three logins, one each.
    let users = journey.users();
    assert_eq!(users.len(), 3, "{users:?}");
    for user in &users {
        assert_eq!(journey.logins(user), 1, "{user}");
        // Each user sent back its own session cookie, only its own.
        assert_eq!(journey.session_cookies(user), 1, "{user}");
    }
    assert!(!journey.cookies_shared());
    // Thirty iterations, each created an item and read it back.
    assert_eq!(journey.items(), 30);
    assert_eq!(journey.requests("/session"), 30);
    let summary = summary(&out);
    let flow = &summary["flows"][0];
    assert_eq!(flow["name"], "shop");
    assert_eq!(flow["iterations"]["requests"], 30);
    // The wrong answer goes on, but the iteration failed.
    assert_eq!(flow["iterations"]["failed"], 30);
    for name in ["me", "session", "create", "read"] {
        assert_eq!(step(&summary, name)["requests"], 30, "{name}");
        assert_eq!(step(&summary, name)["failed"], 0, "{name}");
    }
    let login = step(&summary, "login");
    assert_eq!(
        (login["requests"].as_u64(), login["setup"].as_bool()),
        (Some(3), Some(true))
    );
    let wrong = step(&summary, "wrong");
    assert_eq!(wrong["failed"], 30);
    assert_eq!(wrong["errors"]["check_failed"], 30);
    assert_eq!(check(&summary, "login", "status 200"), (3, 0));
    assert_eq!(check(&summary, "create", r#"$.label == "x""#), (30, 0));
    assert_eq!(check(&summary, "read", "latency <= 5s"), (30, 0));
    assert_eq!(check(&summary, "wrong", "the service says ok"), (0, 30));
    // Setup's requests are not the phase's: 5 steps × 30 iterations.
    assert_eq!(summary["phases"][0]["requests"], 150);
    assert_eq!(summary["run"]["requests"], 150);
    assert_eq!(summary["run"]["failed"], 30);
    crate::support::check_schema(&summary, include_str!("../reports/run.schema.json"));
    let rows = crate::support::checks(&out);
    assert_eq!(crate::support::outcome_of(&rows, "error_rate").1, "PASS");
    assert_eq!(crate::support::outcome_of(&rows, "checks passed").1, "FAIL");
    // The terminal and summary.md show the checks.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("flow shop: 30 iterations, 30 failed"),
        "{stdout}"
    );
    assert!(stdout.contains("✗ wrong › the service says ok"), "{stdout}");
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(page.contains(r#"<h2 id="flows">Flows</h2>"#));
    assert!(page.contains("the service says ok"));
    let csv = std::fs::read_to_string(out.join("flows.csv")).unwrap();
    assert!(
        csv.contains("shop,check,wrong,the service says ok,30,30,0,,,"),
        "{csv}"
    );
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(junit.contains("passed 0, failed 30"), "{junit}");
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        md.contains("| ✗ | the service says ok | wrong | 0 | 30 | 0.00% |"),
        "{md}"
    );
}

#[test]
fn every_capture_kind_feeds_the_next_steps() {
    let _serial = crate::support::serial();
    let journey = Journey::start();
    // No cookie jar: the session goes back only because it was captured.
    let yaml = format!(
        r#"
name: captures
targets:
  api: {}
flows:
  - name: c
    cookies: false
    steps:
      - name: login
        method: POST
        url: "${{api}}/login"
        body: '{{"user": "ann", "password": "secret"}}'
        capture:
          token: {{regex: '"token":"([^"]+)"'}}
          sid: {{cookie: session}}
          kind: {{header: content-type}}
        check:
          - {{header: content-type, equals: application/json}}
          - {{body_matches: '"user":"ann"'}}
          - {{json: "$.token"}}
          - {{json: "$.user", length: 3}}
      - name: again
        url: "${{api}}/me"
        headers: {{Authorization: "Bearer {{{{ token }}}}"}}
        repeat: 3
      - name: session
        url: "${{api}}/session"
        headers: {{Cookie: "session={{{{ sid }}}}", X-Kind: "{{{{ kind }}}}"}}
        check:
          - status: 200
      - name: create
        method: POST
        url: "${{api}}/items"
        headers: {{Authorization: "Bearer {{{{ token }}}}"}}
        body: '{{"label": "y"}}'
        capture:
          where: {{header: location}}
          code: {{status: true}}
      - name: read
        if: {{var: code, equals: "201"}}
        url: "${{api}}{{{{ where }}}}"
        headers: {{Authorization: "Bearer {{{{ token }}}}"}}
        check:
          - {{json: "$.label", equals: "y"}}
          - {{header: content-type, matches: "^application/json"}}
          - {{body_size: {{max: 100}}}}
      - name: never
        if: {{var: code, equals: "500"}}
        url: "${{api}}/wrong"
phases:
  - name: once
    requests: 4
    load: {{concurrency: 1}}
expect:
  - "checks passed >= 100%"
  - "error_rate < 1%"
"#,
        journey.url()
    );
    let (_dir, out, output) = run_scenario(&yaml, &[]);
    assert_exit(&output, 0);
    assert_eq!(journey.requests("/session"), 4);
    assert_eq!(journey.items(), 4);
    // `repeat: 3`, four iterations.
    assert_eq!(journey.requests("/me"), 12);
    // `if` skipped the step whose condition did not hold.
    assert_eq!(journey.requests("/wrong"), 0);
    let summary = summary(&out);
    assert_eq!(step(&summary, "read")["requests"], 4);
    assert_eq!(check(&summary, "session", "status 200"), (4, 0));
    for name in [
        r#"header content-type == "application/json""#,
        r#"$.token exists"#,
        r#"$.user length 3"#,
    ] {
        assert_eq!(check(&summary, "login", name), (4, 0), "{name}");
    }
    assert_eq!(check(&summary, "read", r#"$.label == "y""#), (4, 0));
}

#[test]
fn a_capture_that_finds_nothing_ends_the_iteration() {
    let _serial = crate::support::serial();
    let journey = Journey::start();
    let yaml = format!(
        r#"
name: capture-fails
targets:
  api: {}
flows:
  - name: f
    steps:
      - name: me
        url: "${{api}}/wrong"
        capture:
          user: {{json: "$.user"}}
      - name: after
        url: "${{api}}/me"
phases:
  - name: once
    requests: 5
    load: {{concurrency: 1}}
"#,
        journey.url()
    );
    let (_dir, out, output) = run_scenario(&yaml, &[]);
    assert_exit(&output, 0);
    // The iteration ended at the failed capture: the next step never went.
    assert_eq!(journey.requests("/wrong"), 5);
    assert_eq!(journey.requests("/me"), 0);
    let summary = summary(&out);
    assert_eq!(step(&summary, "me")["errors"]["capture_failed"], 5);
    assert_eq!(step(&summary, "after")["requests"], 0);
    assert_eq!(summary["flows"][0]["iterations"]["failed"], 5);
    assert_eq!(summary["run"]["errors"]["capture_failed"], 5);
}

#[test]
fn before_and_after_run_once_and_a_journey_spans_two_origins() {
    let _serial = crate::support::serial();
    let auth = Journey::start();
    let api = Server::start(|_| Reply::status(200));
    let yaml = format!(
        r#"
name: around
targets:
  auth: {}
  api: {}
before:
  - name: seed
    steps: [{{name: reset, method: POST, url: "${{auth}}/reset"}}]
after:
  - name: cleanup
    steps: [{{name: wipe, method: DELETE, url: "${{auth}}/items"}}]
flows:
  - name: two
    setup:
      - name: login
        method: POST
        url: "${{auth}}/login"
        body: '{{"user": "bo", "password": "secret"}}'
        capture:
          token: {{json: "$.token"}}
    steps:
      - name: data
        url: "${{api}}/data?t={{{{ token }}}}"
phases:
  - name: a
    requests: 10
    load: {{concurrency: 2}}
  - name: b
    requests: 10
    load: {{concurrency: 2}}
"#,
        auth.url(),
        api.url("")
    );
    let (_dir, out, output) = run_scenario(&yaml, &[]);
    assert_exit(&output, 0);
    assert_eq!((auth.resets(), auth.deletes()), (1, 1));
    // Two users, each set up once across both phases.
    assert_eq!(auth.logins("bo"), 2);
    assert_eq!(api.received(), 20);
    let summary = summary(&out);
    // Neither `before`/`after` nor setup requests count in the phases.
    assert_eq!(summary["run"]["requests"], 20);
    assert_eq!(summary["phases"][0]["requests"], 10);
    let origins: Vec<&str> = summary["phases"][0]["per_request"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["origin"].as_str().unwrap())
        .collect();
    assert!(
        origins.contains(&format!("http://{}", auth.addr()).as_str()),
        "{origins:?}"
    );
    assert!(
        origins.contains(&format!("http://{}", api.addr).as_str()),
        "{origins:?}"
    );
}

#[test]
fn an_open_model_flow_under_a_stall_charges_the_wait_to_the_step_that_waited() {
    let _serial = crate::support::serial();
    // Step `a` freezes from 1.5 s to 2.5 s after the server starts; `b`
    // never does.
    let server = Server::start(|call| {
        let (from, to) = (Duration::from_millis(1500), Duration::from_millis(2500));
        if call.path.starts_with("/a") && call.since_start >= from && call.since_start < to {
            Reply::delayed(200, to - call.since_start)
        } else {
            Reply::status(200)
        }
    });
    // 100 iterations/s for 4 s on 2 connections: both are stuck in the
    // stall, and the ~100 iterations due meanwhile wait for them.
    let yaml = format!(
        r#"
name: stall
targets:
  api: {}
flows:
  - name: f
    steps:
      - {{name: a, url: "${{api}}/a"}}
      - {{name: b, url: "${{api}}/b"}}
phases:
  - name: open
    duration: 4s
    load: {{rate: 100/s, connections: 2}}
"#,
        server.url("")
    );
    let (_dir, out, output) = run_scenario(&yaml, &[]);
    assert_exit(&output, 0);
    let summary = summary(&out);
    let ms = |step: &serde_json::Value, key: &str, q: &str| step[key][q].as_f64().unwrap();
    let (a, b) = (step(&summary, "a"), step(&summary, "b"));
    assert_eq!(a["requests"], 400);
    assert_eq!(b["requests"], 400);
    // A quarter of `a` was due during the stall: its p99 from the due time
    // sits near the stall's 1 s; from the send it does not.
    assert!(ms(a, "latency_ms", "p99") >= 800.0, "{a}");
    assert!(ms(a, "service_time_ms", "p99") < 50.0, "{a}");
    // `b` is due when `a` answered: it waited for nothing.
    assert!(ms(b, "latency_ms", "p99") < 50.0, "{b}");
    let iterations = &summary["flows"][0]["iterations"];
    assert!(
        iterations["latency_ms"]["p99"].as_f64().unwrap() >= 800.0,
        "{iterations}"
    );
    assert_eq!(summary["phases"][0]["schedule"]["due"], 400);
    assert_eq!(summary["phases"][0]["schedule"]["dropped"], 0);
}

/// What a hostile review found passing when it should fail: users who
/// cannot log in, checks on answers that never came, a failed `before`,
/// slow answers that failed a latency check, a think past the phase's end.
#[test]
fn failures_around_the_steps_still_fail_the_gates() {
    let _serial = crate::support::serial();
    let journey = Journey::start();
    let yaml = format!(
        r#"
name: hostile
targets:
  api: {}
defaults:
  timeout: 2s
before:
  - name: seed
    steps: [{{name: reset, url: "${{api}}/nope", check: [status: 200]}}]
flows:
  - name: locked
    setup:
      - {{name: login, method: POST, url: "${{api}}/login", body: '{{"user": "x", "password": "wrong"}}'}}
    steps: [{{name: me, url: "${{api}}/me"}}]
  - name: slow
    steps:
      - name: wait
        url: "${{api}}/stall?ms=150"
        continue: true
        check: [{{latency: 100ms}}]
      - {{name: gone, url: "http://127.0.0.1:1/", check: [status: 200]}}
      - {{name: nap, url: "${{api}}/session", think: 30s}}
phases:
  - name: p
    duration: 2s
    load: {{concurrency: 2}}
"#,
        journey.url()
    );
    let started = std::time::Instant::now();
    let (_dir, out, output) = run_scenario(&yaml, &[]);
    // A 30 s think is not waited for after the phase's 2 s.
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert_exit(&output, 1);
    let rows = crate::support::checks(&out);
    assert_eq!(
        crate::support::outcome_of(&rows, "`before` flow seed went through").1,
        "FAIL"
    );
    assert_eq!(
        crate::support::outcome_of(&rows, "flow locked: some user got through setup").1,
        "FAIL"
    );
    let summary = summary(&out);
    let flows = summary["flows"].as_array().unwrap();
    let flow = |name: &str| flows.iter().find(|f| f["name"] == name).unwrap();
    // Users who cannot log in: failed iterations of their flow.
    let locked = flow("locked");
    assert_eq!(locked["setups"], locked["setups_failed"]);
    assert!(locked["setups"].as_u64().unwrap() > 0, "{locked}");
    assert_eq!(
        locked["iterations"]["failed"],
        locked["iterations"]["requests"]
    );
    // A check on an answer that never came failed; the slow answers that
    // failed their latency check are in the step's percentiles.
    let slow = flow("slow");
    let check = |step: &str| {
        slow["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["step"] == step)
            .unwrap()
            .clone()
    };
    assert_eq!(check("gone")["passed"], 0);
    assert!(check("gone")["failed"].as_u64().unwrap() > 0);
    assert!(check("wait")["failed"].as_u64().unwrap() > 0);
    let wait = slow["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "wait")
        .unwrap();
    assert!(
        wait["latency_ms"]["p50"].as_f64().unwrap() >= 150.0,
        "{wait}"
    );
    // The `before` flow is reported with its run, not in a phase.
    assert_eq!(flow("seed")["run"], "before");
    assert!(
        summary["phases"][0]["per_request"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["name"] != "seed/reset")
    );
}

/// The shipped journey passes on the embedded demo, every check held.
#[test]
fn the_shipped_journey_passes_on_the_demo() {
    let _serial = crate::support::serial();
    let scenario = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/journey.yaml");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = crate::support::slogate(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_exit(&output, 0);
    let summary = summary(&out);
    let flow = &summary["flows"][0];
    assert!(
        flow["iterations"]["requests"].as_u64().unwrap() > 100,
        "{flow}"
    );
    assert_eq!(flow["iterations"]["failed"], 0);
    for check in flow["checks"].as_array().unwrap() {
        assert_eq!(check["failed"], 0, "{check}");
        assert!(check["passed"].as_u64().unwrap() > 0, "{check}");
    }
}

/// A step cut short by its timeout leaves the user's variables whole: the
/// steps after it, and the next iterations, still send the token.
#[test]
fn a_timed_out_step_keeps_the_users_variables() {
    let _serial = crate::support::serial();
    let journey = Journey::start();
    let yaml = format!(
        r#"
name: timeout-vars
targets:
  api: {}
defaults:
  timeout: 100ms
flows:
  - name: f
    setup:
      - name: login
        method: POST
        url: "${{api}}/login"
        body: '{{"user": "tim", "password": "secret"}}'
        capture: {{token: {{json: "$.token"}}}}
    steps:
      - {{name: slow, url: "${{api}}/stall?ms=300&t={{{{ token }}}}", continue: true}}
      - name: me
        url: "${{api}}/me"
        headers: {{Authorization: "Bearer {{{{ token }}}}"}}
phases:
  - name: p
    requests: 6
    load: {{concurrency: 2}}
"#,
        journey.url()
    );
    let (_dir, out, output) = run_scenario(&yaml, &[]);
    assert_exit(&output, 0);
    let summary = summary(&out);
    let (slow, me) = (step(&summary, "slow"), step(&summary, "me"));
    assert_eq!(slow["errors"]["request_timeout"], 6, "{slow}");
    assert_eq!(
        (me["requests"].as_u64(), me["failed"].as_u64()),
        (Some(6), Some(0)),
        "{me}"
    );
    assert_eq!(summary["flows"][0]["iterations"]["requests"], 6);
    assert_eq!(journey.requests("/me"), 6);
}
