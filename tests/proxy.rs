//! The fault proxy: every fault kind seen from the client (what `hit`
//! measured) and from the server (what the upstream received), ratios
//! within binomial bounds; the proxy staying up and bounded under hostile
//! clients and a dead upstream.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use slogate::proxy::fault::parse_words;
use slogate::proxy::{Config, Fault, Mode, Proxy};
use slogate::record::ErrorKind;

use crate::support::hit;
use crate::support::server::{Reply, Server};

fn proxy(mode: Mode, upstream: &str, faults: &[&str]) -> Proxy {
    let config = Config::new(
        "test",
        mode,
        SocketAddr::from(([127, 0, 0, 1], 0)),
        upstream,
    );
    start(config, faults)
}

fn start(config: Config, faults: &[&str]) -> Proxy {
    let mode = config.mode;
    let proxy = Proxy::start(config).expect("the proxy starts");
    for words in faults {
        add(&proxy, mode, words);
    }
    proxy
}

fn add(proxy: &Proxy, mode: Mode, words: &str) -> u64 {
    let spec = parse_words(words).unwrap();
    let fault = Fault::new(&spec, mode).unwrap();
    proxy.table().add(spec, fault, Duration::from_secs(120)).id
}

/// `k` of `n` draws at probability `p` lies within 4.5 standard
/// deviations (a false failure about once in 150,000 runs).
fn assert_binomial(k: u64, n: u64, p: f64) {
    let mean = n as f64 * p;
    let sigma = (n as f64 * p * (1.0 - p)).sqrt();
    assert!(
        (k as f64 - mean).abs() <= 4.5 * sigma,
        "{k} of {n}: expected {mean:.0} ± {:.0} (4.5 sigma)",
        4.5 * sigma
    );
}

fn metric(proxy: &Proxy, series: &str) -> f64 {
    let text = crate::support::http(
        proxy
            .control_url()
            .strip_prefix("http://")
            .unwrap()
            .parse()
            .unwrap(),
        "GET",
        "/metrics",
        &[],
        "",
    )
    .1;
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

#[test]
fn abort_hits_its_ratio_as_seen_by_client_server_and_metrics() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::status(200));
    let proxy = proxy(
        Mode::Http,
        &server.url(""),
        &["abort status=503 probability=20%"],
    );
    let n = 4_000;
    let results = hit(&[&format!("{}/x", proxy.url()), "-n", "4000", "-c", "8"]);
    let aborted = results.total.statuses.in_range(503, 503);
    assert_eq!(results.total.requests, n);
    assert_eq!(results.total.statuses.in_range(200, 200) + aborted, n);
    assert_binomial(aborted, n, 0.2);
    // Server side: every request the proxy did not abort, and only those.
    assert_eq!(server.received(), n - aborted);
    assert_eq!(
        metric(
            &proxy,
            r#"slogate_proxy_faults_injected_total{proxy="test",kind="abort"}"#
        ),
        aborted as f64
    );
    assert_eq!(
        metric(
            &proxy,
            r#"slogate_proxy_requests_total{proxy="test",code="503"}"#
        ),
        aborted as f64
    );
    let listed = proxy.table().snapshot();
    assert_eq!(
        listed[0].matched.load(std::sync::atomic::Ordering::Relaxed),
        n
    );
}

#[test]
fn path_and_header_filters_narrow_a_fault() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::status(200));
    let proxy = proxy(
        Mode::Http,
        &server.url(""),
        &[
            "abort status=500 path=/api",
            "abort status=418 header=x-tenant: blue",
        ],
    );
    let status_of = |path: &str, headers: &[&str]| {
        crate::support::http(proxy.addr(), "GET", path, headers, "").0
    };
    assert_eq!(status_of("/api/users", &[]), 500);
    assert_eq!(status_of("/health", &[]), 200);
    assert_eq!(status_of("/health", &["x-tenant: blue"]), 418);
    assert_eq!(status_of("/health", &["x-tenant: green"]), 200);
    assert_eq!(server.received(), 2);
}

#[test]
fn latency_faults_add_their_delay_fixed_and_as_a_distribution() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::status(200));
    let proxy = proxy(
        Mode::Http,
        &server.url(""),
        &["latency latency=40ms jitter=20ms"],
    );
    let results = hit(&[&proxy.url(), "-n", "300", "-c", "20"]);
    let latency = &results.total.latency_us;
    assert_eq!(results.total.statuses.in_range(200, 200), 300);
    // 40 ms + uniform 0..20 ms: nothing under 40 ms, the median near 50.
    assert!(ms(latency.min()) >= 40.0, "min {}", ms(latency.min()));
    let p50 = ms(latency.value_at_quantile(0.5));
    assert!((46.0..=56.0).contains(&p50), "p50 {p50}");
    assert_eq!(server.received(), 300);

    let proxy = self::proxy(Mode::Http, &server.url(""), &["latency p50=20ms p99=200ms"]);
    let results = hit(&[&proxy.url(), "-n", "2000", "-c", "50"]);
    let latency = &results.total.latency_us;
    let p50 = ms(latency.value_at_quantile(0.5));
    let p99 = ms(latency.value_at_quantile(0.99));
    // Log-normal with the written median and 99th percentile, plus the
    // round trip (well under a millisecond here, a few on a busy host).
    assert!((18.0..=25.0).contains(&p50), "p50 {p50}");
    assert!((150.0..=280.0).contains(&p99), "p99 {p99}");
}

#[test]
fn close_cuts_responses_mid_body_at_its_ratio() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::Respond {
        status: 200,
        delay: Duration::ZERO,
        body: vec![b'x'; 10_000],
        chunked: false,
    });
    let proxy = proxy(
        Mode::Http,
        &server.url(""),
        &["close after=1000 probability=50%"],
    );
    let n = 1_000;
    let results = hit(&[&proxy.url(), "-n", "1000", "-c", "4"]);
    let cut = results.total.errors_of(ErrorKind::ConnectionReset);
    assert_binomial(cut, n, 0.5);
    assert_eq!(results.total.statuses.in_range(200, 200), n - cut);
    // Every request reached the server: the cut is on the way back.
    assert_eq!(server.received(), n);
    assert_eq!(
        metric(
            &proxy,
            r#"slogate_proxy_requests_total{proxy="test",code="closed"}"#
        ),
        cut as f64
    );
    // A chunked body is cut too (it never gets its last chunk).
    let chunked = Server::start(|_| Reply::Respond {
        status: 200,
        delay: Duration::ZERO,
        body: b"0123456789".to_vec(),
        chunked: true,
    });
    let proxy = self::proxy(Mode::Http, &chunked.url(""), &["close after=100000"]);
    let results = hit(&[&proxy.url(), "-n", "20", "-c", "2"]);
    assert_eq!(results.total.errors_of(ErrorKind::ConnectionReset), 20);
}

#[test]
fn hang_holds_requests_until_the_client_gives_up_or_the_fault_ends() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::status(200));
    let proxy = proxy(Mode::Http, &server.url(""), &["hang"]);
    let results = hit(&[&proxy.url(), "-n", "6", "-c", "3", "-t", "300ms"]);
    assert_eq!(results.total.errors_of(ErrorKind::RequestTimeout), 6);
    assert_eq!(server.received(), 0);
    // The clients gave up; the proxy lets go of what it held.
    let deadline = Instant::now() + Duration::from_secs(5);
    while metric(&proxy, r#"slogate_proxy_hanging{proxy="test"}"#) != 0.0 {
        assert!(
            Instant::now() < deadline,
            "hanging requests were never released"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Removing the fault ends a hang: the client sees the connection close.
    // Held until the removal, then let go: the close comes after the
    // fault is removed (an order, not a duration, so a busy machine cannot
    // fail it), and soon after.
    let waiting = std::thread::spawn({
        let addr = proxy.addr();
        move || {
            let mut stream = TcpStream::connect(addr).unwrap();
            stream
                .write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
                .unwrap();
            let mut buffer = Vec::new();
            let _ = stream.read_to_end(&mut buffer);
            (Instant::now(), buffer.len())
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let id = proxy.table().snapshot()[0].id;
    let removed = Instant::now();
    proxy.table().remove(id);
    let (closed, received) = waiting.join().unwrap();
    assert!(
        closed >= removed,
        "closed {:?} before the fault was removed",
        removed - closed
    );
    assert!(
        closed - removed < Duration::from_secs(3),
        "{:?}",
        closed - removed
    );
    assert_eq!(received, 0, "no response, just the close");
    let results = hit(&[&proxy.url(), "-n", "10", "-c", "2"]);
    assert_eq!(results.total.statuses.in_range(200, 200), 10);
}

#[test]
fn bandwidth_slows_the_response_body_to_its_rate() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::Respond {
        status: 200,
        delay: Duration::ZERO,
        body: vec![b'x'; 100_000],
        chunked: false,
    });
    let proxy = proxy(Mode::Http, &server.url(""), &["bandwidth rate=200KB/s"]);
    let results = hit(&[&proxy.url(), "-n", "4", "-c", "4"]);
    assert_eq!(results.total.statuses.in_range(200, 200), 4);
    // Bodies and heads.
    assert!((400_000..401_000).contains(&results.total.bytes_received));
    // 100 kB at 200 kB/s: 0.5 s each (the last 10 kB piece goes at 0.45 s).
    let p50 = ms(results.total.latency_us.value_at_quantile(0.5));
    assert!((440.0..=700.0).contains(&p50), "p50 {p50}");
}

#[test]
fn tcp_resets_a_share_of_connections_after_n_bytes() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::status(200));
    let proxy = proxy(
        Mode::Tcp,
        &server.addr.to_string(),
        &["reset after=0 probability=30%"],
    );
    let n = 2_000;
    let mut reset = 0;
    for _ in 0..n {
        let mut stream = TcpStream::connect(proxy.addr()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let _ = stream.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
        let mut buffer = Vec::new();
        match stream.read_to_end(&mut buffer) {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => reset += 1,
            Ok(_) if buffer.starts_with(b"HTTP/1.1 200") => {}
            other => panic!("neither a response nor a reset: {other:?} {buffer:?}"),
        }
    }
    assert_binomial(reset, n, 0.3);
    // The reset connections sent nothing on: the server saw the others only.
    assert_eq!(server.received(), n - reset);
    assert_eq!(
        metric(
            &proxy,
            r#"slogate_proxy_faults_injected_total{proxy="test",kind="reset"}"#
        ),
        reset as f64
    );
}

#[test]
fn tcp_latency_and_bandwidth_apply_per_direction() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::Respond {
        status: 200,
        delay: Duration::ZERO,
        body: vec![b'x'; 50_000],
        chunked: false,
    });
    let upstream = server.addr.to_string();
    for direction in ["upstream", "downstream"] {
        let proxy = proxy(
            Mode::Tcp,
            &upstream,
            &[&format!("latency latency=30ms direction={direction}")],
        );
        let results = hit(&[&proxy.url(), "-n", "20", "-c", "1"]);
        let p50 = ms(results.total.latency_us.value_at_quantile(0.5));
        assert!((30.0..=45.0).contains(&p50), "{direction}: p50 {p50}");
    }
    // 50 kB at 100 kB/s on the way back: 0.5 s; on the way out it costs
    // nothing (the request is small).
    let proxy = proxy(
        Mode::Tcp,
        &upstream,
        &["bandwidth rate=100KB/s direction=downstream"],
    );
    let results = hit(&[&proxy.url(), "-n", "2", "-c", "1"]);
    let p50 = ms(results.total.latency_us.value_at_quantile(0.5));
    assert!((440.0..=700.0).contains(&p50), "p50 {p50}");
    let proxy = self::proxy(
        Mode::Tcp,
        &upstream,
        &["bandwidth rate=100KB/s direction=upstream"],
    );
    let results = hit(&[&proxy.url(), "-n", "2", "-c", "1"]);
    let p50 = ms(results.total.latency_us.value_at_quantile(0.5));
    assert!(p50 < 50.0, "p50 {p50}");
}

#[test]
fn tcp_refuse_and_blackhole() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::status(200));
    let upstream = server.addr.to_string();
    let proxy = proxy(Mode::Tcp, &upstream, &[]);
    let id = add(&proxy, Mode::Tcp, "refuse");
    std::thread::sleep(Duration::from_millis(100));
    let results = hit(&[&proxy.url(), "-n", "20", "-c", "2"]);
    assert_eq!(results.total.errors_of(ErrorKind::ConnectRefused), 20);
    // When the fault ends the port listens again.
    proxy.table().remove(id);
    std::thread::sleep(Duration::from_millis(200));
    let results = hit(&[&proxy.url(), "-n", "20", "-c", "2"]);
    assert_eq!(results.total.statuses.in_range(200, 200), 20);
    let accepted = server.accepted();
    add(&proxy, Mode::Tcp, "blackhole");
    let results = hit(&[
        &proxy.url(),
        "-n",
        "4",
        "-c",
        "2",
        "-t",
        "300ms",
        "--disable-keepalive",
    ]);
    assert_eq!(results.total.errors_of(ErrorKind::RequestTimeout), 4);
    assert_eq!(
        server.accepted(),
        accepted,
        "a blackhole never connects upstream"
    );
    // Refuse below 100%: accepted, then reset.
    let proxy = self::proxy(Mode::Tcp, &upstream, &["refuse probability=50%"]);
    let results = hit(&[&proxy.url(), "-n", "400", "-c", "1", "--disable-keepalive"]);
    let reset = results.total.errors_of(ErrorKind::ConnectionReset);
    assert_binomial(reset, 400, 0.5);
    assert_eq!(results.total.statuses.in_range(200, 200), 400 - reset);
}

#[test]
fn a_dead_upstream_is_a_502_and_a_slow_one_a_504() {
    let _serial = crate::support::serial();
    // Nothing listens on it.
    let port = crate::support::process::free_port();
    let proxy = proxy(Mode::Http, &format!("http://127.0.0.1:{port}"), &[]);
    let results = hit(&[&proxy.url(), "-n", "50", "-c", "5"]);
    assert_eq!(results.total.statuses.in_range(502, 502), 50);
    assert_eq!(
        metric(
            &proxy,
            r#"slogate_proxy_upstream_errors_total{proxy="test",reason="connect"}"#
        ),
        50.0
    );
    let (status, body) = crate::support::http(proxy.addr(), "GET", "/", &[], "");
    assert_eq!(status, 502);
    assert!(body.contains("cannot connect to upstream"), "{body}");
    let server = Server::start(|_| Reply::Hang);
    let mut config = Config::new(
        "test",
        Mode::Http,
        SocketAddr::from(([127, 0, 0, 1], 0)),
        &server.url(""),
    );
    config.upstream_timeout = Duration::from_millis(200);
    let proxy = start(config, &[]);
    let results = hit(&[&proxy.url(), "-n", "4", "-c", "2"]);
    assert_eq!(results.total.statuses.in_range(504, 504), 4);
}

#[test]
fn a_non_loopback_listen_address_is_refused_without_allow_remote() {
    let config = Config::new(
        "test",
        Mode::Http,
        "0.0.0.0:0".parse().unwrap(),
        "http://127.0.0.1:1",
    );
    let error = Proxy::start(config).err().expect("refused");
    assert!(
        error
            .to_string()
            .contains("refusing to listen on 0.0.0.0:0: not a loopback address"),
        "{error}"
    );
    let output = crate::support::slogate(&[
        "proxy",
        "--listen",
        "0.0.0.0:0",
        "--upstream",
        "http://127.0.0.1:1",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--allow-remote"), "{stderr}");
}

/// Runs `slogate proxy --upstream UPSTREAM EXTRA...` on free ports until
/// its control API answers; returns the process, its listen and control
/// addresses.
fn spawn_proxy(upstream: &str, extra: &[&str]) -> (std::process::Child, SocketAddr, SocketAddr) {
    let listen: SocketAddr = format!("127.0.0.1:{}", crate::support::process::free_port())
        .parse()
        .unwrap();
    let control: SocketAddr = format!("127.0.0.1:{}", crate::support::process::free_port())
        .parse()
        .unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_slogate"))
        .args([
            "proxy",
            "--listen",
            &listen.to_string(),
            "--control",
            &control.to_string(),
        ])
        .args(["--upstream", upstream])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(control).is_err() {
        assert!(Instant::now() < deadline, "the proxy never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The command line's faults are added once the proxy listens: wait
    // until its control API lists them all, or a first request can come
    // before them.
    let wanted = extra.iter().filter(|a| **a == "--fault").count();
    let mut listed = 0;
    while listed < wanted {
        let (status, body) = crate::support::http(control, "GET", "/faults", &[], "");
        listed = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| {
                v.as_array()
                    .or_else(|| v["faults"].as_array())
                    .map(Vec::len)
            })
            .unwrap_or(0);
        if status == 200 && listed >= wanted {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the proxy never listed its faults: {body}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, listen, control)
}

/// Peak resident memory of a process, from /proc.
fn peak_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn hostile_clients_and_huge_bodies_leave_the_proxy_up_and_small() {
    let _serial = crate::support::serial();
    let big = 64 * 1024 * 1024;
    let server = Server::start(move |call| Reply::Respond {
        status: 200,
        delay: Duration::ZERO,
        body: if call.path == "/big" {
            vec![b'x'; big]
        } else {
            format!("{}", call.body.len()).into_bytes()
        },
        chunked: false,
    });
    let (mut child, addr, _) = spawn_proxy(&server.url(""), &[]);
    // A 64 MiB upload and a 64 MiB download, streamed through.
    let mut stream = TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST /up HTTP/1.1\r\nhost: x\r\ncontent-length: {big}\r\nconnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let chunk = vec![b'y'; 1024 * 1024];
    for _ in 0..64 {
        stream.write_all(&chunk).unwrap();
    }
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(
        answer.ends_with(&big.to_string()),
        "{}",
        &answer[..answer.len().min(200)]
    );
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(b"GET /big HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut received = 0usize;
    let mut buffer = vec![0u8; 1024 * 1024];
    loop {
        let n = stream.read(&mut buffer).unwrap();
        if n == 0 {
            break;
        }
        received += n;
    }
    assert!(received > big, "{received}");
    // Clients that disconnect mid-request, and slowloris clients that
    // send a byte at a time and never finish their headers.
    for _ in 0..200 {
        let mut stream = TcpStream::connect(addr).unwrap();
        let _ =
            stream.write_all(b"POST /up HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\nabc");
    }
    let slow: Vec<TcpStream> = (0..200)
        .map(|_| {
            let mut stream = TcpStream::connect(addr).unwrap();
            let _ = stream.write_all(b"GET / HTTP/1.1\r\nx-slow: ");
            stream
        })
        .collect();
    // The proxy still answers while they hold their connections.
    let results = hit(&[&format!("http://{addr}/"), "-n", "500", "-c", "10"]);
    assert_eq!(results.total.statuses.in_range(200, 200), 500);
    // After the 10 s header timeout the slow clients are closed.
    let closed_by = Instant::now() + Duration::from_secs(15);
    for mut stream in slow {
        stream
            .set_read_timeout(Some(
                closed_by
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(1)),
            ))
            .unwrap();
        let mut rest = Vec::new();
        let outcome = stream.read_to_end(&mut rest);
        assert!(
            !matches!(&outcome, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "a slowloris connection was still open after 15 s"
        );
    }
    let peak = peak_rss_kb(child.id());
    let _ = child.kill();
    let _ = child.wait();
    // 128 MiB went through; the proxy never held more than a few buffers.
    assert!(peak < 40 * 1024, "peak RSS {peak} kB");
    eprintln!("proxy peak RSS after 128 MiB of bodies and 400 hostile clients: {peak} kB");
}

#[test]
fn a_scenario_switches_proxy_faults_exactly_at_phase_boundaries_and_ramps_them() {
    let _serial = crate::support::serial();
    let yaml = r#"
name: proxied
targets:
  backend: {demo: true}
proxies:
  front: {upstream: backend}
requests:
  - name: health
    url: "${front}/health"
phases:
  - name: calm
    duration: 3s
    load: {rate: 300/s}
    expect: [error_rate < 0.01%]
  - name: ramp
    duration: 6s
    load: {rate: 300/s}
    faults:
      - {proxy: front, kind: abort, status: 503, probability: {from: 0%, to: 30%}}
    expect: [error_rate > 10%, error_rate < 20%]
  - name: after
    duration: 3s
    load: {rate: 300/s}
    expect: [error_rate < 0.01%]
"#;
    let (_dir, out, output) = crate::support::run_scenario(yaml, &[]);
    crate::support::assert_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    crate::support::check_schema(&summary, include_str!("../reports/run.schema.json"));
    let phases = summary["phases"].as_array().unwrap();
    let phase = |name: &str| phases.iter().find(|p| p["name"] == name).unwrap();
    // The reports show the window: summary.json, summary.md, the terminal.
    let reported = &summary["fault_windows"][0];
    assert_eq!(reported["fault"], "abort 503 0%..30%");
    let markdown = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        markdown.contains("| front | ramp | ") && markdown.contains("`abort 503 0%..30%`"),
        "{markdown}"
    );
    assert!(stdout.contains("abort 503 0%..30%"), "{stdout}");
    // Not one error outside the fault's phase: the switch happens before
    // the phase's first request and after the last one of the phase before.
    assert_eq!(phase("calm")["failed"], 0);
    assert_eq!(phase("after")["failed"], 0);
    let windows: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("faults.json")).unwrap()).unwrap();
    let window = &windows[0];
    assert_eq!(window["phase"], "ramp");
    let ramp = phase("ramp");
    let start = window["start_offset_seconds"].as_f64().unwrap();
    let phase_start = ramp["start_s"].as_f64().unwrap();
    assert!(
        start <= phase_start && phase_start - start < 0.01,
        "window from {start}, phase from {phase_start}"
    );
    // Every request of the phase drew, and the injected ones are its 503s.
    assert_eq!(window["matched"], ramp["requests"]);
    assert_eq!(window["injected"], ramp["failed"]);
    let n = ramp["requests"].as_u64().unwrap();
    let injected = window["injected"].as_u64().unwrap();
    // The ramp 0 → 30 % averages 15 %; the variance of a sum of
    // Bernoulli draws is at most that of a binomial at 15 %.
    assert_binomial(injected, n, 0.15);
    // It ramped: the phase's last second (8) has several times the errors
    // of its first (3).
    let mut timeline = csv::Reader::from_path(out.join("timeline.csv")).unwrap();
    let headers = timeline.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (second_col, errors_col) = (column("second"), column("status_5xx"));
    let rows: Vec<(u64, u64)> = timeline
        .records()
        .map(|r| r.unwrap())
        .map(|r| {
            (
                r[second_col].parse().unwrap(),
                r[errors_col].parse().unwrap(),
            )
        })
        .collect();
    let errors_in = |second: u64| {
        rows.iter()
            .filter(|r| r.0 == second)
            .map(|r| r.1)
            .sum::<u64>()
    };
    let (first, last) = (errors_in(3), errors_in(8));
    let ramp_errors: Vec<u64> = (3..9).map(errors_in).collect();
    assert!(
        last > 4 * first.max(1),
        "errors per second over the ramp: {ramp_errors:?}"
    );
}

#[test]
fn slogate_proxy_takes_faults_from_the_command_line_and_the_control_api() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::status(200));
    let output = crate::support::slogate(&[
        "proxy",
        "--upstream",
        &server.url(""),
        "--fault",
        "abort stauts=503",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim(),
        "error: --fault: `abort stauts=503`: unknown fault setting `stauts`; did you mean `status`?"
    );
    let (child, addr, api) = spawn_proxy(
        &server.url(""),
        &["--fault", "abort status=418 path=/teapot for=1m"],
    );
    let http = crate::support::http;
    assert_eq!(http(addr, "GET", "/teapot", &[], "").0, 418);
    assert_eq!(http(addr, "GET", "/", &[], "").0, 200);
    let (status, body) = http(
        api,
        "POST",
        "/faults",
        &[],
        r#"{"kind": "abort", "status": 502, "path": "/", "for": "1m"}"#,
    );
    assert_eq!(status, 201, "{body}");
    let added: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(http(addr, "GET", "/", &[], "").0, 502);
    let (status, body) = http(api, "GET", "/faults", &[], "");
    assert_eq!(status, 200);
    let listed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(listed["faults"].as_array().unwrap().len(), 2, "{listed}");
    assert_eq!(listed["faults"][0]["injected"], 1, "{listed}");
    let (status, body) = http(api, "POST", "/faults", &[], r#"{"kind": "reset"}"#);
    assert_eq!(status, 400);
    assert!(
        body.contains("a `reset` fault needs a proxy in tcp mode"),
        "{body}"
    );
    // A body of the wrong shape is told in JSON's terms, not Rust's.
    let (status, body) = http(api, "POST", "/faults", &[], "[]");
    assert_eq!(status, 400);
    assert!(body.contains("expected a map (`key: value`)"), "{body}");
    assert!(!body.contains("struct"), "{body}");
    let path = format!("/faults/{}", added["id"]);
    assert_eq!(http(api, "DELETE", &path, &[], "").0, 200);
    assert_eq!(http(api, "DELETE", &path, &[], "").0, 404);
    assert_eq!(http(addr, "GET", "/", &[], "").0, 200);
    // SIGTERM: the faults go, the process ends cleanly.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("fault 1: abort 418 100% path /teapot* for 1m00s"),
        "{stdout}"
    );
    assert!(stdout.contains("stopped; 1 fault(s) removed"), "{stdout}");
}

/// Reads until the proxy closes `stream` (EOF or reset) or `deadline`
/// passes; returns when it closed, None if it was still open.
fn closed_at(stream: &mut TcpStream, deadline: Instant) -> Option<Instant> {
    let mut buffer = [0u8; 512];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buffer) {
            Ok(0) => return Some(Instant::now()),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return None;
            }
            Err(_) => return Some(Instant::now()),
        }
    }
}

#[test]
fn silent_and_dribbling_clients_are_closed_after_the_header_timeout() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::status(200));
    let timeout = Duration::from_millis(500);
    let slack = Duration::from_millis(50);
    for mode in [Mode::Tcp, Mode::Http] {
        let upstream = match mode {
            Mode::Http => server.url(""),
            Mode::Tcp => server.addr.to_string(),
        };
        let mut config = Config::new(
            "test",
            mode,
            SocketAddr::from(([127, 0, 0, 1], 0)),
            &upstream,
        );
        config.header_timeout = timeout;
        // Below the listen backlog (128), so every connect is accepted at once.
        config.max_connections = 100;
        let limited = start(config, &[]);
        // Fill every slot: one more is turned away at once, not queued.
        let opened = Instant::now();
        let silent: Vec<TcpStream> = (0..100)
            .map(|_| TcpStream::connect(limited.addr()).unwrap())
            .collect();
        let open = r#"slogate_proxy_connections_open{proxy="test"}"#;
        while metric(&limited, open) < 100.0 {
            assert!(opened.elapsed() < timeout, "{mode:?}: accepts too slow");
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut turned_away = TcpStream::connect(limited.addr()).unwrap();
        let _ = turned_away.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n");
        let asked = Instant::now();
        let closed = closed_at(&mut turned_away, asked + Duration::from_secs(2));
        assert!(
            closed.is_some_and(|at| at - asked < timeout / 2),
            "{mode:?}: a client over the limit is closed at accept ({:?})",
            closed.map(|at| at - asked)
        );
        // Every silent one is closed once its time is up, not before.
        let all_closed = |silent: Vec<TcpStream>, opened: Instant| {
            for mut stream in silent {
                let closed = closed_at(&mut stream, opened + Duration::from_secs(5))
                    .unwrap_or_else(|| {
                        panic!("{mode:?}: a silent connection was still open after 5 s")
                    });
                let after = closed - opened;
                assert!(after >= timeout - slack, "{mode:?}: closed after {after:?}");
            }
        };
        all_closed(silent, opened);
        assert_eq!(metric(&limited, open), 0.0, "{mode:?}");
        let results = hit(&[&limited.url(), "-n", "20", "-c", "2"]);
        assert_eq!(results.total.statuses.in_range(200, 200), 20, "{mode:?}");
        // With 300 silent ones holding connections, others are served.
        let mut config = Config::new(
            "test",
            mode,
            SocketAddr::from(([127, 0, 0, 1], 0)),
            &upstream,
        );
        config.header_timeout = timeout;
        let proxy = start(config, &[]);
        let opened = Instant::now();
        let silent: Vec<TcpStream> = (0..300)
            .map(|_| TcpStream::connect(proxy.addr()).unwrap())
            .collect();
        let results = hit(&[&proxy.url(), "-n", "50", "-c", "5"]);
        assert_eq!(results.total.statuses.in_range(200, 200), 50, "{mode:?}");
        all_closed(silent, opened);
    }
    let mut config = Config::new(
        "test",
        Mode::Http,
        SocketAddr::from(([127, 0, 0, 1], 0)),
        &server.url(""),
    );
    config.header_timeout = timeout;
    let proxy = start(config, &[]);
    // A client dribbling its headers a byte every 50 ms gets no longer.
    let mut dribbler = TcpStream::connect(proxy.addr()).unwrap();
    let started = Instant::now();
    let mut writer = dribbler.try_clone().unwrap();
    std::thread::spawn(move || {
        for byte in b"GET / HTTP/1.1\r\nx-slow: "
            .iter()
            .chain([b'a'; 200].iter())
        {
            if writer.write_all(&[*byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    let closed = closed_at(&mut dribbler, started + Duration::from_secs(5))
        .expect("a dribbling client is closed");
    let after = closed - started;
    assert!(
        after >= timeout - slack && after < 3 * timeout,
        "dribbler closed after {after:?}"
    );
    // So is a kept-alive connection left idle after its response.
    let mut idle = TcpStream::connect(proxy.addr()).unwrap();
    idle.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        .unwrap();
    let mut head = [0u8; 12];
    idle.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    let answered = Instant::now();
    let closed = closed_at(&mut idle, answered + Duration::from_secs(5))
        .expect("an idle keep-alive connection is closed");
    assert!(
        closed - answered < 3 * timeout,
        "idle closed after {:?}",
        closed - answered
    );
}

#[test]
fn the_header_timeout_is_set_by_flag_and_by_scenario() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::status(200));
    let silent_for = |addr: SocketAddr| {
        let mut stream = TcpStream::connect(addr).unwrap();
        let opened = Instant::now();
        closed_at(&mut stream, opened + Duration::from_secs(5)).map(|at| at - opened)
    };
    let (mut child, addr, _) = spawn_proxy(&server.url(""), &["--header-timeout", "300ms"]);
    let closed = silent_for(addr);
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        closed.is_some_and(
            |after| after >= Duration::from_millis(250) && after < Duration::from_secs(2)
        ),
        "{closed:?}"
    );
    // The same from a scenario's `proxies:`, while a run sends through it.
    let port = crate::support::process::free_port();
    let yaml = format!(
        r#"
name: proxied
targets:
  backend: {}
requests:
  - {{name: home, url: "${{front}}/"}}
proxies:
  front: {{upstream: backend, listen: "127.0.0.1:{port}", header_timeout: 300ms, max_connections: 50}}
phases:
  - name: steady
    duration: 3s
    load: {{rate: 20/s}}
"#,
        server.url("")
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scenario.yaml");
    std::fs::write(&file, yaml).unwrap();
    let mut run = std::process::Command::new(env!("CARGO_BIN_EXE_slogate"))
        .args(["run", file.to_str().unwrap(), "--no-progress", "--out"])
        .arg(dir.path().join("out"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "the run's proxy never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
    let closed = silent_for(addr);
    let status = run.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(
        closed.is_some_and(
            |after| after >= Duration::from_millis(250) && after < Duration::from_secs(2)
        ),
        "{closed:?}"
    );
}

#[test]
fn a_malformed_client_body_is_the_client_s_400_not_an_upstream_502() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::status(200));
    let proxy = proxy(Mode::Http, &server.url(""), &[]);
    let mut stream = TcpStream::connect(proxy.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // A chunk size that is not hexadecimal.
    stream
        .write_all(b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\nxx\r\n0\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("the request body could not be read"),
        "{answer}"
    );
    for reason in ["response", "connect", "timeout", "client_body"] {
        let series =
            format!(r#"slogate_proxy_upstream_errors_total{{proxy="test",reason="{reason}"}}"#);
        assert_eq!(metric(&proxy, &series), 0.0, "{series}");
    }
    // A well-formed chunked body still goes through.
    let mut stream = TcpStream::connect(proxy.addr()).unwrap();
    stream
        .write_all(b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
}
