//! The embedded demo service: valid exposition (checked by Prometheus'
//! promtool), counters that agree exactly with what the client sent, fault
//! knobs that do what they say, `{demo: true}` targets in scenarios, and
//! the login and item resource user journeys will drive.

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
    let (token, _) = login(demo.addr(), "alice");
    let auth = format!("Authorization: Bearer {token}");
    exchange(
        demo.addr(),
        "POST",
        "/items",
        &[&auth],
        r#"{"name": "pen"}"#,
    );
    for path in ["/items/1", "/items/2", "/items", "/me"] {
        exchange(demo.addr(), "GET", path, &[&auth], "");
    }
    let (_, metrics) = http(demo.addr(), "GET", "/metrics", "");
    let output = crate::support::run_with_input(&promtool, &["check", "metrics"], &metrics);
    assert!(
        output.status.success(),
        "promtool check metrics: {}{}\n{metrics}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(metrics.contains(r#"status="500""#), "the 500s are counted");
    assert!(metrics.contains(r#"endpoint="/items/:id""#), "{metrics}");
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

/// One HTTP/1.0 exchange: status, the header block, the body. A server
/// that answers before reading the whole body may reset the connection
/// after its answer; what arrived before the reset is kept.
fn exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[&str],
    body: &str,
) -> (u16, String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let request = crate::support::http_request(method, path, headers, body);
    let _ = stream.write_all(request.as_bytes());
    let mut response = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    while let Ok(n) = stream.read(&mut buffer) {
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buffer[..n]);
    }
    let response = String::from_utf8_lossy(&response).to_string();
    let status = response
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (status, head.to_string(), body.to_string())
}

/// The value of header `name` (lowercase) in a header block.
fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.eq_ignore_ascii_case(name)).then(|| value.trim().to_string())
    })
}

/// Logs `user` in; the token and the `session=...` cookie pair.
fn login(addr: SocketAddr, user: &str) -> (String, String) {
    let (status, head, body) = exchange(
        addr,
        "POST",
        "/login",
        &["Content-Type: application/json"],
        &format!(r#"{{"user": "{user}", "password": "demo"}}"#),
    );
    assert_eq!(status, 200, "{head}\n{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["user"], user);
    let token = answer["token"].as_str().unwrap().to_string();
    let cookie = header(&head, "set-cookie").unwrap();
    let pair = cookie.split(';').next().unwrap().to_string();
    (token, pair)
}

#[test]
fn login_answers_a_token_and_a_cookie_and_refuses_the_rest() {
    let demo = Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    let addr = demo.addr();
    let (token, cookie) = login(addr, "alice");
    assert_eq!(token.len(), 32, "{token}");
    let (_, head, _) = exchange(
        addr,
        "POST",
        "/login",
        &[],
        r#"{"user": "alice", "password": "demo"}"#,
    );
    let set_cookie = header(&head, "set-cookie").unwrap();
    assert!(set_cookie.starts_with("session="), "{set_cookie}");
    assert!(set_cookie.ends_with("; Path=/; HttpOnly"), "{set_cookie}");
    assert_ne!(
        set_cookie.split(';').next().unwrap(),
        cookie,
        "every login is a new session"
    );

    let (status, _, body) = exchange(
        addr,
        "POST",
        "/login",
        &[],
        r#"{"user": "alice", "password": "secret"}"#,
    );
    assert_eq!(status, 401);
    assert!(body.starts_with(r#"{"error":"wrong password"#), "{body}");
    for bad in [
        "not json",
        r#"{"user": "alice"}"#,
        r#"{"user": 7, "password": "demo"}"#,
        r#"{"user": "", "password": "demo"}"#,
        "",
        r#"["alice", "demo"]"#,
    ] {
        let (status, head, body) = exchange(addr, "POST", "/login", &[], bad);
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(
            header(&head, "content-type").as_deref(),
            Some("application/json")
        );
        assert!(body.starts_with(r#"{"error":""#), "{bad}: {body}");
        assert!(!body.contains("line 1"), "no serde message: {body}");
    }
    let oversized = format!(
        r#"{{"user": "alice", "password": "demo", "pad": "{}"}}"#,
        "x".repeat(70 * 1024)
    );
    let (status, _, body) = exchange(addr, "POST", "/login", &[], &oversized);
    assert_eq!(status, 413, "{body}");

    let me = |headers: &[&str]| exchange(addr, "GET", "/me", headers, "");
    let (status, _, body) = me(&[&format!("Authorization: Bearer {token}")]);
    assert_eq!((status, body.as_str()), (200, r#"{"user":"alice"}"#));
    let (status, _, body) = me(&[&format!("Authorization: bearer {token}")]);
    assert_eq!(status, 200, "the scheme is case-insensitive: {body}");
    let (status, _, body) = me(&[&format!("Cookie: theme=dark; {cookie}")]);
    assert_eq!((status, body.as_str()), (200, r#"{"user":"alice"}"#));
    for headers in [
        &[][..],
        &["Authorization: Bearer 0123456789abcdef0123456789abcdef"][..],
        &[&*format!("Authorization: Basic {token}")][..],
        &["Cookie: session=nope"][..],
    ] {
        let (status, head, body) = me(headers);
        assert_eq!(status, 401, "{headers:?}: {body}");
        assert_eq!(header(&head, "www-authenticate").as_deref(), Some("Bearer"));
    }
    // Still alive after all that.
    let (status, _, _) = exchange(addr, "GET", "/health", &[], "");
    assert_eq!(status, 200);
}

#[test]
fn items_are_created_listed_and_read_by_their_owner_only() {
    let demo = Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    let addr = demo.addr();
    let (alice, _) = login(addr, "alice");
    let (_, bob_cookie) = login(addr, "bob");
    let alice_auth = format!("Authorization: Bearer {alice}");
    let bob_auth = format!("Cookie: {bob_cookie}");

    let (status, head, body) =
        exchange(addr, "POST", "/items", &[&alice_auth], r#"{"name": "pen"}"#);
    assert_eq!(status, 201, "{body}");
    assert_eq!(body, r#"{"id":1,"name":"pen","owner":"alice"}"#);
    let location = header(&head, "location").unwrap();
    assert_eq!(location, "/items/1");
    let (status, _, body) = exchange(addr, "POST", "/items", &[&bob_auth], r#"{"name": "cup"}"#);
    assert_eq!(
        (status, body.as_str()),
        (201, r#"{"id":2,"name":"cup","owner":"bob"}"#)
    );
    exchange(addr, "POST", "/items", &[&alice_auth], r#"{"name": "ink"}"#);

    let (status, _, body) = exchange(addr, "GET", &location, &[&alice_auth], "");
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"id":1,"name":"pen","owner":"alice"}"#)
    );
    let (status, _, body) = exchange(addr, "GET", &location, &[&bob_auth], "");
    assert_eq!(status, 403, "bob cannot read alice's item: {body}");
    assert!(!body.contains("pen"), "{body}");
    for unknown in [
        "/items/4",
        "/items/0",
        "/items/x",
        "/items/99999999999999999999",
    ] {
        let (status, _, _) = exchange(addr, "GET", unknown, &[&alice_auth], "");
        assert_eq!(status, 404, "{unknown}");
    }
    let (status, _, body) = exchange(addr, "GET", "/items", &[&alice_auth], "");
    assert_eq!(status, 200);
    assert_eq!(
        body,
        r#"[{"id":1,"name":"pen","owner":"alice"},{"id":3,"name":"ink","owner":"alice"}]"#
    );
    let (_, _, body) = exchange(addr, "GET", "/items", &[&bob_auth], "");
    assert_eq!(body, r#"[{"id":2,"name":"cup","owner":"bob"}]"#);

    for (method, path, body) in [
        ("GET", "/items", ""),
        ("GET", "/items/1", ""),
        ("POST", "/items", r#"{"name": "x"}"#),
    ] {
        let (status, _, _) = exchange(addr, method, path, &[], body);
        assert_eq!(status, 401, "{method} {path} without auth");
    }
    for bad in ["{}", "name=pen", r#"{"name": null}"#, r#"["pen"]"#] {
        let (status, _, body) = exchange(addr, "POST", "/items", &[&alice_auth], bad);
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (status, _, _) = exchange(
        addr,
        "POST",
        "/items",
        &[&alice_auth],
        &format!(r#"{{"name": "{}"}}"#, "x".repeat(100 * 1024)),
    );
    assert_eq!(status, 413);
    let (_, _, body) = exchange(addr, "GET", "/items", &[&alice_auth], "");
    assert_eq!(
        body.matches(r#""id""#).count(),
        2,
        "the refused ones made nothing"
    );
}

#[test]
fn account_endpoints_are_counted_by_route_not_by_id() {
    let demo = Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    let addr = demo.addr();
    let (token, _) = login(addr, "alice");
    let auth = format!("Authorization: Bearer {token}");
    exchange(addr, "POST", "/items", &[&auth], r#"{"name": "pen"}"#);
    for path in ["/items/1", "/items/1", "/items/2", "/items/x"] {
        exchange(addr, "GET", path, &[&auth], "");
    }
    exchange(addr, "GET", "/me", &[], "");
    let (_, metrics) = http(addr, "GET", "/metrics", "");
    let count = |labels: &str| value(&metrics, &format!("http_requests_total{{{labels}}}"));
    assert_eq!(
        count(r#"method="GET",endpoint="/items/:id",status="200""#),
        Some(2.0),
        "{metrics}"
    );
    assert_eq!(
        count(r#"method="GET",endpoint="/items/:id",status="404""#),
        Some(2.0)
    );
    assert_eq!(
        count(r#"method="POST",endpoint="/items",status="201""#),
        Some(1.0)
    );
    assert_eq!(
        count(r#"method="POST",endpoint="/login",status="200""#),
        Some(1.0)
    );
    assert_eq!(
        count(r#"method="GET",endpoint="/me",status="401""#),
        Some(1.0)
    );
    assert!(!metrics.contains(r#"endpoint="/items/1""#), "{metrics}");
    let histogram = r#"http_request_duration_seconds_count{method="GET",endpoint="/items/:id"}"#;
    assert_eq!(value(&metrics, histogram), Some(4.0));
}

#[test]
fn the_oldest_session_goes_past_ten_thousand_and_logins_under_load_all_count() {
    let _serial = crate::support::serial();
    let demo = Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    let addr = demo.addr();
    let (first, first_cookie) = login(addr, "first");
    let results = hit(&[
        &format!("{}/login", demo.url()),
        "-n",
        "10000",
        "-c",
        "8",
        "-m",
        "POST",
        "-d",
        r#"{"user": "load", "password": "demo"}"#,
    ]);
    assert_eq!(
        results.total.statuses.iter().collect::<Vec<_>>(),
        vec![(200, 10000)]
    );
    for auth in [
        format!("Authorization: Bearer {first}"),
        format!("Cookie: {first_cookie}"),
    ] {
        let (status, _, _) = exchange(addr, "GET", "/me", &[&auth], "");
        assert_eq!(status, 401, "10,000 later logins evicted the first session");
    }
    let (last, _) = login(addr, "last");
    let auth = format!("Authorization: Bearer {last}");
    let results = hit(&[
        &format!("{}/items", demo.url()),
        "-n",
        "2000",
        "-c",
        "8",
        "-m",
        "POST",
        "-H",
        &auth,
        "-d",
        r#"{"name": "thing"}"#,
    ]);
    assert_eq!(
        results.total.statuses.iter().collect::<Vec<_>>(),
        vec![(201, 2000)]
    );
    let (status, _, body) = exchange(addr, "GET", "/items", &[&auth], "");
    assert_eq!(status, 200);
    let items: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    let ids: Vec<u64> = items.iter().map(|i| i["id"].as_u64().unwrap()).collect();
    assert_eq!(
        ids,
        (1..=2000).collect::<Vec<u64>>(),
        "no id lost or repeated"
    );
}

#[test]
fn fault_knobs_apply_to_login_and_items_as_to_data() {
    let demo = Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    let addr = demo.addr();
    let (token, _) = login(addr, "alice");
    let auth = format!("Authorization: Bearer {token}");
    let (status, _) = http(
        addr,
        "POST",
        "/admin/faults",
        r#"{"error_ratio": 1, "error_status": 503}"#,
    );
    assert_eq!(status, 200);
    for (method, path, body) in [
        ("POST", "/login", r#"{"user": "bob", "password": "demo"}"#),
        ("GET", "/me", ""),
        ("POST", "/items", r#"{"name": "pen"}"#),
        ("GET", "/items", ""),
        ("GET", "/items/1", ""),
        ("GET", "/data/error", ""),
    ] {
        let (status, _, _) = exchange(addr, method, path, &[&auth], body);
        assert_eq!(status, 503, "{method} {path}");
    }
    for path in ["/health", "/metrics", "/admin/faults"] {
        assert_eq!(http(addr, "GET", path, "").0, 200, "{path} is spared");
    }
    let (status, _) = http(addr, "POST", "/admin/faults", r#"{"latency_ms": 40}"#);
    assert_eq!(status, 200);
    let started = std::time::Instant::now();
    let (status, _, _) = exchange(addr, "GET", "/me", &[&auth], "");
    assert_eq!(status, 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(40));
}
