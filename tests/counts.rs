use std::sync::Mutex;

use crate::support::hit;
use crate::support::server::{Reply, Server};

#[test]
fn counts_and_status_distribution_are_exact() {
    let _serial = crate::support::serial();
    // Of every 10 requests: 6 × 200, 1 × 302, 1 × 404, 1 × 500, 1 × 503.
    let server = Server::start(|call| {
        Reply::status(match call.index % 10 {
            0..=5 => 200,
            6 => 302,
            7 => 404,
            8 => 500,
            _ => 503,
        })
    });
    let results = hit(&[&server.url("/mix"), "-n", "2000", "-c", "16"]);
    assert_eq!(results.total.requests, 2000);
    assert_eq!(
        server.received(),
        2000,
        "exactly -n requests reach the server"
    );
    let statuses: Vec<_> = results.total.statuses.iter().collect();
    assert_eq!(
        statuses,
        vec![(200, 1200), (302, 200), (404, 200), (500, 200), (503, 200)]
    );
    assert_eq!(results.total.successes(), 1400);
    assert_eq!(results.total.transport_errors(), 0);
    assert_eq!(results.total.latency_us.len(), 2000);
    // The per-second timeline accounts for every request.
    let timeline_total: u64 = results.timeline.iter().map(|row| row.requests).sum();
    let timeline_ok: u64 = results.timeline.iter().map(|row| row.ok).sum();
    assert_eq!((timeline_total, timeline_ok), (2000, 1400));
    assert!(!results.interrupted);
}

#[test]
fn method_headers_and_body_reach_the_wire() {
    let _serial = crate::support::serial();
    let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let server = Server::start(move |call| {
        seen2.lock().unwrap().push(call.clone());
        Reply::status(201)
    });
    let results = hit(&[
        &server.url("/submit?x=1"),
        "-n",
        "3",
        "-c",
        "1",
        "-m",
        "post",
        "-H",
        "X-Token: abc",
        "-d",
        "{\"a\":1}",
        "-T",
        "application/json",
    ]);
    assert_eq!(
        results.total.statuses.iter().collect::<Vec<_>>(),
        vec![(201, 3)]
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    let call = &seen[0];
    assert_eq!(
        (call.method.as_str(), call.path.as_str()),
        ("POST", "/submit?x=1")
    );
    assert_eq!(call.body, b"{\"a\":1}");
    let header = |name: &str| {
        call.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("x-token"), Some("abc"));
    assert_eq!(header("content-type"), Some("application/json"));
    assert_eq!(header("host"), Some(server.addr.to_string().as_str()));
}

#[test]
fn duration_bounded_closed_run_stops_on_time() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::status(200));
    let results = hit(&[&server.url("/"), "-z", "1s", "-c", "4"]);
    assert!(results.total.requests > 100, "{}", results.total.requests);
    assert_eq!(server.received(), results.total.requests);
    let secs = results.elapsed.as_secs_f64();
    assert!((1.0..1.2).contains(&secs), "ran {secs} s");
}
