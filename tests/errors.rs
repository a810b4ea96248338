use std::net::TcpListener;
use std::time::Instant;

use slogate::record::ErrorKind;

use crate::support::hit;
use crate::support::server::{Reply, Server};

#[test]
fn a_refused_port_is_counted_as_connect_refused() {
    let _serial = crate::support::serial();
    // Bind then drop: nothing listens on the port any more.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let results = hit(&[&format!("http://127.0.0.1:{port}/"), "-n", "50", "-c", "5"]);
    assert_eq!(results.total.requests, 50);
    assert_eq!(results.total.errors_of(ErrorKind::ConnectRefused), 50);
    assert_eq!(results.total.statuses.total(), 0);
    assert!(
        results.total.latency_us.is_empty(),
        "no response, no latency"
    );
}

#[test]
fn a_reset_on_accept_is_counted_as_connection_reset() {
    let _serial = crate::support::serial();
    let server = Server::reset_on_accept();
    let results = hit(&[&server.url("/"), "-n", "40", "-c", "4"]);
    assert_eq!(results.total.requests, 40);
    assert_eq!(results.total.errors_of(ErrorKind::ConnectionReset), 40);
}

#[test]
fn a_reset_mid_run_is_counted_and_the_run_goes_on() {
    let _serial = crate::support::serial();
    // Every 5th request is answered with a reset, the rest with 200.
    let server = Server::start(|call| {
        if call.index % 5 == 4 {
            Reply::Reset
        } else {
            Reply::status(200)
        }
    });
    let results = hit(&[&server.url("/"), "-n", "500", "-c", "1"]);
    assert_eq!(results.total.requests, 500);
    assert_eq!(server.received(), 500, "a reset is not retried");
    assert_eq!(results.total.errors_of(ErrorKind::ConnectionReset), 100);
    assert_eq!(results.total.statuses.in_range(200, 200), 400);
}

#[test]
fn a_hanging_server_times_out_and_the_run_completes() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::Hang);
    let started = Instant::now();
    let results = hit(&[&server.url("/"), "-n", "6", "-c", "3", "-t", "300ms"]);
    assert_eq!(results.total.requests, 6);
    assert_eq!(results.total.errors_of(ErrorKind::RequestTimeout), 6);
    let secs = started.elapsed().as_secs_f64();
    // Two rounds of 3 requests, each cut at 300 ms.
    assert!((0.55..2.0).contains(&secs), "took {secs} s");
}

#[test]
fn garbage_is_counted_as_invalid_http() {
    let _serial = crate::support::serial();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for stream in listener.incoming().take(10) {
            let mut stream = stream.unwrap();
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.2\r\nnot http at all\r\n\r\n");
        }
    });
    let results = hit(&[&format!("http://{addr}/"), "-n", "10", "-c", "1"]);
    assert_eq!(results.total.errors_of(ErrorKind::InvalidHttp), 10);
}
