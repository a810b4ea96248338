//! The binary as a user runs it.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::server::{Reply, Server};
use crate::support::slogate;

#[test]
fn bad_input_is_one_line_naming_the_flag_with_exit_code_2() {
    let _serial = crate::support::serial();
    let cases: &[(&[&str], &str)] = &[
        (&["hit", "not a url"], "URL"),
        (&["hit", "ftp://127.0.0.1/"], "use http:// or https://"),
        (&["hit", "127.0.0.1:8080/"], "URL"),
        (
            &["hit", "http://127.0.0.1:1/", "-H", "NoColon"],
            "-H/--header",
        ),
        (
            &["hit", "http://127.0.0.1:1/", "-H", "Bad Name: x"],
            "-H/--header",
        ),
        (&["hit", "http://127.0.0.1:1/", "-z", "10"], "--duration"),
        (&["hit", "http://127.0.0.1:1/", "-z", "0s"], "-z/--duration"),
        (&["hit", "http://127.0.0.1:1/", "-c", "0"], "--connections"),
        (&["hit", "http://127.0.0.1:1/", "-n", "0"], "--requests"),
        (&["hit", "http://127.0.0.1:1/", "-q", "fast"], "--rate"),
        (&["hit", "http://127.0.0.1:1/", "-m", "GE T"], "-m/--method"),
        (
            &["hit", "http://127.0.0.1:1/", "-d", "x", "-D", "f"],
            "--body",
        ),
        (
            &["hit", "http://127.0.0.1:1/", "-D", "/nonexistent/body"],
            "-D/--body-file",
        ),
        (&["hit", "http://127.0.0.1:1/", "-o", "yaml"], "--output"),
        (&["hit", "http://127.0.0.1:1/", "--bogus"], "--bogus"),
        (&["hit"], "URL"),
    ];
    for (args, flag) in cases {
        let output = slogate(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{args:?}: one line, got {stderr}"
        );
        assert!(
            stderr.contains(flag),
            "{args:?}: `{flag}` not named in {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}: nothing was run");
    }
}

#[test]
fn text_report_shows_percentiles_histogram_statuses_and_errors() {
    let _serial = crate::support::serial();
    let server = Server::start(|call| Reply::status(if call.index % 4 == 0 { 500 } else { 200 }));
    let output = slogate(&["hit", &server.url("/"), "-n", "400", "-c", "4"]);
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    for needle in [
        "Requests:\t400",
        "Success ratio:\t75.00 %",
        "p99.9",
        "Latency histogram (ms):",
        "[200]\t300 responses",
        "[500]\t100 responses",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
    assert!(output.stderr.is_empty(), "no progress line when not a TTY");
}

#[test]
fn json_and_csv_carry_the_same_numbers() {
    let _serial = crate::support::serial();
    let server = Server::start(|call| Reply::status(if call.index % 5 == 0 { 404 } else { 200 }));
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("out.json");
    let output = slogate(&[
        "hit",
        &server.url("/"),
        "-n",
        "500",
        "-q",
        "1000",
        "-o",
        "json",
        "--output-file",
        json_path.to_str().unwrap(),
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.is_empty(), "the report went to the file");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    assert_eq!(json["schema"], "slogate.hit/v1");
    assert_eq!(json["requests"], 500);
    assert_eq!(json["status_codes"]["200"], 400);
    assert_eq!(json["status_codes"]["404"], 100);
    assert_eq!(json["model"], "open");
    assert_eq!(json["open_model"]["due"], 500);
    assert_eq!(json["open_model"]["target_rate"], 1000.0);
    let p99 = json["latency_ms"]["p99"].as_f64().unwrap();
    crate::support::check_schema(&json, include_str!("../reports/hit.schema.json"));

    let output = slogate(&["hit", &server.url("/"), "-n", "500", "-o", "csv"]);
    let mut reader = csv::Reader::from_reader(output.stdout.as_slice());
    let rows: Vec<(String, String, String)> = reader
        .deserialize()
        .collect::<Result<_, _>>()
        .expect("valid CSV");
    let get = |section: &str, key: &str| {
        rows.iter()
            .find(|(s, k, _)| s == section && k == key)
            .map(|(_, _, v)| v.clone())
    };
    assert_eq!(get("summary", "requests").as_deref(), Some("500"));
    assert_eq!(get("status_codes", "200").as_deref(), Some("400"));
    assert_eq!(get("status_codes", "404").as_deref(), Some("100"));
    assert!(get("latency_ms", "p99").is_some());
    assert!(p99 > 0.0);
}

#[test]
fn sigterm_stops_the_run_within_a_second_and_still_reports() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::delayed(200, Duration::from_millis(5)));
    let child = Command::new(env!("CARGO_BIN_EXE_slogate"))
        .args([
            "hit",
            &server.url("/"),
            "-z",
            "60s",
            "-c",
            "4",
            "-o",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let signalled = Instant::now();
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let output = child.wait_with_output().unwrap();
    let stopped_in = signalled.elapsed();
    assert!(
        stopped_in < Duration::from_secs(1),
        "stopped in {stopped_in:?}"
    );
    assert_eq!(output.status.code(), Some(3), "interrupted runs exit 3");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["interrupted"], true);
    assert!(json["requests"].as_u64().unwrap() > 100);
    let duration = json["duration_s"].as_f64().unwrap();
    assert!((1.4..2.5).contains(&duration), "duration {duration}");
}

#[test]
fn hit_exits_1_when_no_request_succeeded() {
    let _serial = crate::support::serial();
    // Refused: nothing listens on a port just freed.
    let port = crate::support::process::free_port();
    let refused = format!("http://127.0.0.1:{port}/");
    let reset = Server::reset_on_accept();
    let failing = Server::start(|_| Reply::status(503));
    for url in [refused, reset.url("/"), failing.url("/")] {
        let output = slogate(&["hit", &url, "-n", "20", "-c", "2", "--no-progress"]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(1), "{url}: {stdout}");
        assert!(
            stdout.contains("FAIL     some request succeeded (availability > 0%)\tmeasured 0%"),
            "{url}: {stdout}"
        );
        assert!(stdout.contains("FAILED: 1 of 1 checks"), "{url}: {stdout}");
    }
    // HTTP/2 against an HTTP/1.1-only server: every request fails too.
    let h1 = Server::start(|_| Reply::status(200));
    let output = slogate(&[
        "hit",
        &h1.url("/"),
        "-n",
        "5",
        "-c",
        "1",
        "--http2",
        "-t",
        "300ms",
    ]);
    assert_eq!(output.status.code(), Some(1));
    // Statuses the caller expects are successes.
    let output = slogate(&[
        "hit",
        &failing.url("/"),
        "-n",
        "20",
        "--expect-status",
        "503",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("(20 of 20 with status 503)"), "{stdout}");
    assert!(!stdout.contains("Checks:"), "{stdout}");
}

#[test]
fn hit_expectations_gate_the_exit_code() {
    let _serial = crate::support::serial();
    // One request in ten answers 500, each after 30 ms.
    let server = Server::start(|call| {
        let status = if call.index % 10 == 0 { 500 } else { 200 };
        Reply::delayed(status, Duration::from_millis(30))
    });
    let url = server.url("/");
    let hit = |expects: &[&str]| {
        let mut args = vec!["hit", url.as_str(), "-n", "100", "-c", "5", "-o", "json"];
        for e in expects {
            args.extend(["--expect", e]);
        }
        let output = slogate(&args);
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        crate::support::check_schema(&json, include_str!("../reports/hit.schema.json"));
        (output.status.code(), json)
    };
    let (code, json) = hit(&["p99 < 2s", "error_rate < 20%", "requests >= 100"]);
    assert_eq!(code, Some(0), "{json}");
    let checks = json["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 4, "three asked, and some request succeeded");
    assert!(checks.iter().all(|c| c["outcome"] == "PASS"), "{json}");
    assert_eq!(checks[1]["measured"], 0.1);
    assert_eq!(checks[0]["source"], "--expect #1");

    let (code, json) = hit(&["latency p50 < 10ms", "error_rate < 1%"]);
    assert_eq!(code, Some(1), "{json}");
    let checks = json["checks"].as_array().unwrap();
    assert_eq!(checks[0]["outcome"], "FAIL", "30 ms is not under 10 ms");
    assert_eq!(checks[1]["outcome"], "FAIL", "10% is not under 1%");
    assert_eq!(checks[2]["outcome"], "PASS", "90 of 100 succeeded");

    // The scenario's rules: a bare ratio is refused before anything is sent.
    let output = slogate(&["hit", &url, "-n", "5", "--expect", "error_rate < 1"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--expect: `error_rate < 1`: `1` is a bare number"),
        "{stderr}"
    );
    assert_eq!(server.received(), 200, "the refused run sent nothing");
}
