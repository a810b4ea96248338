//! hey's, wrk's and wrk2's flags on `slogate hit`: those that would mean
//! something else here are refused before any request, naming slogate's
//! flag; those that mean the same are accepted; the small flags hey users
//! reach for put their headers on the wire; `hit … | head` ends as a pipe
//! reader closing ends `cat`.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use crate::support::server::{Call, Reply, Server};
use crate::support::slogate;

#[test]
fn other_tools_flags_are_refused_with_their_slogate_name_before_any_request() {
    let server = Server::start(|_| Reply::status(200));
    let url = server.url("/");
    let cases: &[(&[&str], &[&str])] = &[
        // wrk: -d is a duration, -t threads.
        (
            &["-d", "3s"],
            &["looks like a duration", "did you mean `-z 3s`"],
        ),
        (&["-d3s"], &["did you mean `-z 3s`"]),
        (&["-d", "30"], &["did you mean `-z 30s`"]),
        (
            &["-t", "2"],
            &["-t is the per-request timeout", "--workers 2"],
        ),
        (&["-s", "post.lua"], &["wrk's Lua scripts"]),
        // hey: single-dash long flags.
        (
            &["-cpus", "2"],
            &["`-cpus` is hey's", "did you mean `--workers 2`?"],
        ),
        (
            &["-disable-keepalive"],
            &["did you mean `--disable-keepalive`?"],
        ),
        (&["-h2"], &["did you mean `--http2`?"]),
        (&["-host", "api.test"], &["did you mean `--host api.test`?"]),
        (&["-disable-redirects"], &["never follows redirects"]),
        // A mistyped flag gets clap's nearest and the subcommand's help.
        (
            &["--conections", "2"],
            &["did you mean `--connections`?", "slogate hit --help"],
        ),
        // Bad numbers are bad input, not a flag or a silent run.
        (&["-q", "-5"], &["--rate", "positive"]),
        (&["-a", "nocolon"], &["-a/--basic-auth", "user:password"]),
        (&["--host", "api.test", "--http2"], &["--host", "HTTP/2"]),
    ];
    for (flags, wanted) in cases {
        let mut args = vec!["hit", url.as_str(), "-n", "3", "--no-progress"];
        args.extend_from_slice(flags);
        let output = slogate(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flags:?}: {stderr}");
        for text in *wanted {
            assert!(stderr.contains(text), "{flags:?}: no `{text}` in {stderr}");
        }
        assert!(!stderr.contains("panicked"), "{flags:?}: {stderr}");
    }
    let output = slogate(&["hit", "http://127.0.0.1:99999/", "-n", "1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("port 99999, out of range"));
    assert_eq!(server.received(), 0, "nothing was sent");
}

#[test]
fn wrk2_rate_and_heys_header_flags_are_accepted_and_sent() {
    let seen: Arc<Mutex<Vec<Call>>> = Arc::default();
    let record = seen.clone();
    let server = Server::start(move |call| {
        record.lock().unwrap().push(call.clone());
        Reply::status(200)
    });
    let url = server.url("/");
    let output = slogate(&[
        "hit",
        &url,
        "-R",
        "200",
        "-n",
        "10",
        "--latency-correction",
        "--disable-compression",
        "-A",
        "application/json",
        "-a",
        "ann:s3cret",
        "--host",
        "api.test",
        "--no-progress",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("open"),
        "-R is the open model's rate: {stdout}"
    );
    assert!(
        stderr.contains("--latency-correction changes nothing"),
        "{stderr}"
    );
    let calls = seen.lock().unwrap().clone();
    assert_eq!(calls.len(), 10);
    let header = |name: &str| {
        calls[0]
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header("accept").as_deref(), Some("application/json"));
    // base64("ann:s3cret")
    assert_eq!(
        header("authorization").as_deref(),
        Some("Basic YW5uOnMzY3JldA==")
    );
    assert_eq!(header("host").as_deref(), Some("api.test"));
    assert_eq!(header("accept-encoding"), None);
    // A body that starts with a dash is a body.
    let post = |body: &str| {
        slogate(&[
            "hit",
            &url,
            "-n",
            "1",
            "-m",
            "POST",
            "-d",
            body,
            "--no-progress",
        ])
    };
    let output = post("-h2");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(seen.lock().unwrap().last().unwrap().body, b"-h2");
    // A body that looks like a duration is sent when a method says so.
    let output = post("3s");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(seen.lock().unwrap().last().unwrap().body, b"3s");
}

#[test]
fn a_closed_pipe_ends_hit_quietly_with_the_pipes_status() {
    let server = Server::start(|_| Reply::status(200));
    for format in ["text", "json", "csv"] {
        closed_pipe(&server, format);
    }
}

fn closed_pipe(server: &Server, format: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_slogate"))
        .args([
            "hit",
            &server.url("/"),
            "-n",
            "20",
            "--no-progress",
            "-o",
            format,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before the report is written, as `| head -0`.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGPIPE),
        "-o {format}: {:?} {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
