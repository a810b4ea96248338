use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

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
    // POST is not idempotent: a reset after the server read it is counted,
    // never sent again.
    let results = hit(&[&server.url("/"), "-n", "500", "-c", "1", "-m", "POST"]);
    assert_eq!(results.total.requests, 500);
    assert_eq!(server.received(), 500, "a reset POST is not retried");
    assert_eq!(results.total.errors_of(ErrorKind::ConnectionReset), 100);
    assert_eq!(results.total.statuses.in_range(200, 200), 400);
}

#[test]
fn a_get_reset_on_a_reused_connection_is_sent_once_more_on_a_fresh_one() {
    let _serial = crate::support::serial();
    // Every 5th request the server reads is answered with a reset: each
    // lands on a kept-alive connection before a byte of response, which is
    // what a server closing after every response looks like, so an
    // idempotent request is retried once (as Go's client and browsers do)
    // and that retry, being the server's next request, is answered.
    let server = Server::start(|call| {
        if call.index % 5 == 4 {
            Reply::Reset
        } else {
            Reply::status(200)
        }
    });
    let results = hit(&[&server.url("/"), "-n", "400", "-c", "1"]);
    assert_eq!(results.total.requests, 400);
    assert_eq!(results.total.errors_of(ErrorKind::ConnectionReset), 0);
    assert_eq!(results.total.statuses.in_range(200, 200), 400);
    // The 400th answer is the server's 499th request: 99 resets before it,
    // each followed by its retry.
    assert_eq!(server.received(), 499, "each reset retried once");
    // A reset on a fresh connection is never retried.
    let results = hit(&[
        &server.url("/"),
        "-n",
        "50",
        "-c",
        "1",
        "--disable-keepalive",
    ]);
    assert_eq!(results.total.errors_of(ErrorKind::ConnectionReset), 10);
}

/// A server that answers every request with 200 and a Content-Length, then
/// closes the connection without saying `Connection: close`. With `unread`
/// it first waits for the client's next request and closes with it unread,
/// so its kernel sends RST (what a server racing its close against a fast
/// client does); otherwise it closes at once (FIN). Returns its address and
/// the number of responses it sent.
fn closing_server(unread: bool) -> (std::net::SocketAddr, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let answered = Arc::new(AtomicU64::new(0));
    let answered2 = answered.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let answered = answered2.clone();
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                if stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    .is_err()
                {
                    return;
                }
                answered.fetch_add(1, Ordering::SeqCst);
                if unread {
                    let _ = stream.peek(&mut byte);
                }
            });
        }
    });
    (addr, answered)
}

#[test]
fn a_server_closing_after_each_response_causes_no_false_resets() {
    let _serial = crate::support::serial();
    for unread in [false, true] {
        let (addr, answered) = closing_server(unread);
        let results = hit(&[&format!("http://{addr}/"), "-n", "400", "-c", "4"]);
        assert_eq!(results.total.requests, 400, "unread {unread}");
        assert_eq!(
            results.total.errors_of(ErrorKind::ConnectionReset),
            0,
            "unread {unread}"
        );
        assert_eq!(results.total.statuses.in_range(200, 200), 400);
        assert_eq!(answered.load(Ordering::SeqCst), 400, "unread {unread}");
    }
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
