//! Secrets never reach an output: a target URL's userinfo, secret query
//! values (built in, and named by `redact:` / `--redact`) and a header set
//! from the environment are absent from every file of a results directory,
//! from `hit`'s text, JSON and CSV, and from stdout and stderr, while the
//! requests themselves carried them.

use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::support::assert_exit;
use crate::support::server::{Call, Reply, Server};

const SECRETS: [&str; 4] = ["s3cret", "k3y", "t0k3n", "acme9"];

/// Every secret found in `text`, for the assertion message.
fn leaked<'a>(text: &str) -> Vec<&'a str> {
    SECRETS.into_iter().filter(|s| text.contains(s)).collect()
}

/// Every file under `dir`, with the secrets it holds.
fn leaks_in(dir: &Path) -> Vec<(String, Vec<&'static str>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let secrets = leaked(&text);
        if !secrets.is_empty() {
            found.push((path.display().to_string(), secrets));
        }
    }
    found
}

fn recording_server() -> (Server, Arc<Mutex<Vec<Call>>>) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = calls.clone();
    let server = Server::start(move |call| {
        seen.lock().unwrap().push(call.clone());
        match call.path.split('?').next().unwrap_or("") {
            "/broken" => Reply::status(500),
            "/metrics" => Reply::Respond {
                status: 200,
                delay: std::time::Duration::ZERO,
                body: b"# TYPE hits counter\nhits_total 3\n".to_vec(),
                chunked: false,
            },
            _ => Reply::status(200),
        }
    });
    (server, calls)
}

fn header<'a>(call: &'a Call, name: &str) -> Option<&'a str> {
    call.headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn a_run_writes_no_secret_anywhere_yet_sends_them() {
    let _serial = crate::support::serial();
    let (server, calls) = recording_server();
    let base = format!("http://user:s3cret@{}", server.addr);
    let yaml = format!(
        r#"
name: secrets
targets:
  api: {base}
redact: [tenant]
metrics:
  scrape:
    - {{url: "${{api}}/metrics?api_key=k3y&x=1", interval: 500ms, job: good}}
    - {{url: "${{api}}/broken?api_key=k3y&token=k3y", interval: 500ms, job: broken}}
requests:
  - name: data
    url: "${{api}}/path?api_key=k3y&x=1&tenant=acme9"
    headers: {{Authorization: "Bearer ${{SLOGATE_SECRET_TOKEN}}"}}
phases:
  - name: steady
    duration: 1s
    load: {{rate: 10/s}}
    expect:
      - error_rate < 1%
      - promql: sum(hits_total) >= 1
"#
    );
    let (_dir, out, output) =
        crate::support::run_scenario(&yaml, &[("SLOGATE_SECRET_TOKEN", "t0k3n".to_string())]);
    assert_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(leaked(&stdout).is_empty(), "stdout: {stdout}");
    assert!(leaked(&stderr).is_empty(), "stderr: {stderr}");
    // The failing scrape was reported, without its secrets.
    let masked = format!(
        "scrape of http://user:***@{}/broken?api_key=***&token=*** failed: server returned HTTP status 500",
        server.addr
    );
    assert!(stderr.contains(&masked), "{stderr}");
    let files = leaks_in(&out);
    assert!(files.is_empty(), "secrets in {files:?}");
    let written: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for name in [
        "summary.json",
        "summary.md",
        "index.html",
        "junit.xml",
        "checks.csv",
        "timeline.csv",
        "metrics.jsonl",
        "promql.json",
    ] {
        assert!(written.iter().any(|w| w == name), "{name} in {written:?}");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        summary["targets"]["api"],
        format!("http://user:***@{}", server.addr)
    );
    // What the server saw: the query values and the header, and Basic
    // credentials on the scrapes (reqwest sends a URL's userinfo so).
    let calls = calls.lock().unwrap();
    let load: Vec<&Call> = calls
        .iter()
        .filter(|c| c.path.starts_with("/path"))
        .collect();
    assert_eq!(load.len(), 10);
    assert!(load.iter().all(|c| {
        c.path == "/path?api_key=k3y&x=1&tenant=acme9"
            && header(c, "authorization") == Some("Bearer t0k3n")
    }));
    let scrape = calls
        .iter()
        .find(|c| c.path == "/metrics?api_key=k3y&x=1")
        .expect("scraped");
    // base64("user:s3cret")
    assert_eq!(
        header(scrape, "authorization"),
        Some("Basic dXNlcjpzM2NyZXQ=")
    );
}

#[test]
fn hit_prints_no_secret_in_any_format_yet_sends_them() {
    let _serial = crate::support::serial();
    let (server, calls) = recording_server();
    let url = format!(
        "http://user:s3cret@{}/path?api_key=k3y&x=1&tenant=acme9",
        server.addr
    );
    let dir = tempfile::tempdir().unwrap();
    for format in ["text", "json", "csv"] {
        let file = dir.path().join(format!("out.{format}"));
        let output = crate::support::slogate(&[
            "hit",
            &url,
            "-n",
            "3",
            "-c",
            "1",
            "-o",
            format,
            "--redact",
            "tenant",
            "--output-file",
            file.to_str().unwrap(),
        ]);
        assert_exit(&output, 0);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(leaked(&text).is_empty(), "{format}: {text}");
        assert!(text.contains("user:***@"), "{format}: {text}");
        let output = crate::support::slogate(&["hit", &url, "-n", "1", "-o", format]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        // Without --redact, `tenant` is shown; the built-in names are not.
        assert!(stdout.contains("tenant=acme9"), "{format}: {stdout}");
        assert_eq!(leaked(&stdout), ["acme9"], "{format}: {stdout}");
        assert!(leaked(&stderr).is_empty(), "{stderr}");
    }
    let sent = calls.lock().unwrap();
    assert_eq!(sent.len(), 12);
    assert!(
        sent.iter()
            .all(|c| c.path == "/path?api_key=k3y&x=1&tenant=acme9")
    );
    // An error message names the URL, redacted.
    let output = crate::support::slogate(&["hit", "ftp://user:s3cret@127.0.0.1/?token=k3y"]);
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("ftp://user:***@127.0.0.1/?token=***") && leaked(&stderr).is_empty(),
        "{stderr}"
    );
}
