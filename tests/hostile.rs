//! Hostile data on the request path: CSV cells with CR/LF (header
//! injection, request smuggling) and non-ASCII text in templates, over
//! HTTP/1.1 and HTTP/2, against servers that record what they received.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};

use crate::support::assert_exit;
use crate::support::server::{Call, Reply, Server};

/// Four rows: two clean (one non-ASCII), one injecting a header, one
/// smuggling a second request.
const USERS: &str = "name\nada\n\"a\r\nInjected: yes\"\n\"b\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n\"\nŁukasz\n";

fn scenario(url: &str, http2: bool, with_header: bool) -> String {
    let header = if with_header {
        "    headers:\n      X-User: \"{{ csv users.name }}\"\n"
    } else {
        ""
    };
    format!(
        r#"
name: hostile
targets:
  api: {url}
defaults:
  http2: {http2}
data:
  users: {{csv: users.csv}}
requests:
  - name: user
    url: "${{api}}/u?name={{{{ csv users.name }}}}"
{header}phases:
  - name: all
    requests: 8
    load: {{concurrency: 1}}
"#
    )
}

/// Runs the scenario with users.csv beside it; returns summary.json.
fn run(yaml: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("users.csv"), USERS).unwrap();
    let scenario = dir.path().join("scenario.yaml");
    std::fs::write(&scenario, yaml).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_slogate"))
        .args(["run", scenario.to_str().unwrap(), "--no-progress", "--out"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_exit(&output, 0);
    serde_json::from_slice(&std::fs::read(dir.path().join("out/summary.json")).unwrap()).unwrap()
}

fn errors(summary: &serde_json::Value, kind: &str) -> u64 {
    summary["run"]["errors"][kind]
        .as_u64()
        .unwrap_or_else(|| panic!("no run.errors.{kind} in {}", summary["run"]))
}

fn recording_server() -> (Server, Arc<Mutex<Vec<Call>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let server = Server::start(move |call| {
        seen2.lock().unwrap().push(call.clone());
        Reply::status(200)
    });
    (server, seen)
}

#[test]
fn crlf_in_a_header_from_data_is_refused_and_counted_never_sent() {
    let _serial = crate::support::serial();
    let (server, seen) = recording_server();
    let summary = run(&scenario(&server.url(""), false, true));
    // 8 requests over 4 rows in order: the two bad rows came up twice each.
    assert_eq!(errors(&summary, "invalid_request"), 4);
    assert_eq!(errors(&summary, "connection_reset"), 0);
    assert_eq!(summary["run"]["requests"], 8);
    assert_eq!(
        server.received(),
        4,
        "refused requests never reach the wire"
    );
    let seen = seen.lock().unwrap();
    for call in seen.iter() {
        assert!(
            call.headers.iter().all(|(name, _)| name != "injected"),
            "{call:?}"
        );
        assert!(!call.path.contains("smuggled"), "{call:?}");
    }
    let users: Vec<&str> = seen
        .iter()
        .map(|c| {
            c.headers
                .iter()
                .find(|(n, _)| n == "x-user")
                .map(|(_, v)| v.as_str())
                .unwrap()
        })
        .collect();
    // Non-ASCII in a header value goes out as its UTF-8 bytes (obs-text).
    assert_eq!(users, ["ada", "Łukasz", "ada", "Łukasz"]);
    let paths: Vec<&str> = seen.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/u?name=ada",
            "/u?name=%C5%81ukasz",
            "/u?name=ada",
            "/u?name=%C5%81ukasz"
        ]
    );
}

#[test]
fn crlf_in_a_url_from_data_is_percent_encoded() {
    let _serial = crate::support::serial();
    let (server, seen) = recording_server();
    let summary = run(&scenario(&server.url(""), false, false));
    assert_eq!(errors(&summary, "invalid_request"), 0);
    assert_eq!(summary["run"]["requests"], 8);
    // Exactly one request per request sent: nothing smuggled in.
    assert_eq!(server.received(), 8);
    let seen = seen.lock().unwrap();
    let paths: Vec<&str> = seen.iter().take(4).map(|c| c.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/u?name=ada",
            "/u?name=a%0D%0AInjected:%20yes",
            "/u?name=b%0D%0A%0D%0AGET%20/smuggled%20HTTP/1.1%0D%0AHost:%20x%0D%0A%0D%0A",
            "/u?name=%C5%81ukasz",
        ]
    );
    assert!(
        seen.iter()
            .all(|c| c.headers.iter().all(|(n, _)| n != "injected"))
    );
}

/// A request as the HTTP/2 server saw it: target, then headers.
type H2Request = (String, Vec<(String, Vec<u8>)>);

/// An HTTP/2 cleartext server recording each request's target and headers.
fn h2_server() -> (SocketAddr, Arc<Mutex<Vec<H2Request>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let seen = seen2.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request: hyper::Request<_>| {
                        let target = request
                            .uri()
                            .path_and_query()
                            .map_or(String::new(), |pq| pq.to_string());
                        let headers = request
                            .headers()
                            .iter()
                            .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                            .collect();
                        seen.lock().unwrap().push((target, headers));
                        async {
                            Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from("ok"))))
                        }
                    });
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    (rx.recv().unwrap(), seen)
}

#[test]
fn http2_refuses_the_same_headers_and_encodes_the_same_urls() {
    let _serial = crate::support::serial();
    let (addr, seen) = h2_server();
    let summary = run(&scenario(&format!("http://{addr}"), true, true));
    assert_eq!(errors(&summary, "invalid_request"), 4);
    assert_eq!(summary["run"]["requests"], 8);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 4, "{seen:?}");
    for (target, headers) in seen.iter() {
        assert!(headers.iter().all(|(n, _)| n != "injected"), "{headers:?}");
        let user = &headers.iter().find(|(n, _)| n == "x-user").unwrap().1;
        match target.as_str() {
            "/u?name=ada" => assert_eq!(user, b"ada"),
            "/u?name=%C5%81ukasz" => assert_eq!(user, "Łukasz".as_bytes()),
            other => panic!("unexpected target {other}"),
        }
    }
    // Without the header, every row is sent, its URL encoded.
    drop(seen);
    let (addr, seen) = h2_server();
    let summary = run(&scenario(&format!("http://{addr}"), true, false));
    assert_eq!(errors(&summary, "invalid_request"), 0);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 8);
    assert_eq!(seen[1].0, "/u?name=a%0D%0AInjected:%20yes");
}

#[test]
fn non_ascii_template_text_runs_in_url_header_and_body() {
    let _serial = crate::support::serial();
    let (server, seen) = recording_server();
    let yaml = format!(
        r#"
name: non-ascii
targets:
  api: {}
requests:
  - name: static
    method: POST
    url: "${{api}}/ścieżka?q=żółw"
    headers: {{X-User: "Łukasz"}}
    body: "é"
  - name: templated
    method: POST
    url: "${{api}}/{{{{ counter }}}}é"
    headers: {{X-User: "{{{{ counter }}}}Ł", X-Lead: "ü{{{{ counter }}}}"}}
    body: "é{{{{ counter }}}}ß"
phases:
  - name: all
    requests: 4
    load: {{concurrency: 1}}
"#,
        server.url("")
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scenario.yaml");
    std::fs::write(&file, yaml).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_slogate"))
        .args(["run", file.to_str().unwrap(), "--no-progress", "--out"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 4);
    let header = |call: &Call, name: &str| {
        call.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let statics: Vec<&Call> = seen.iter().filter(|c| c.path.contains("cie")).collect();
    assert!(!statics.is_empty(), "{seen:?}");
    for call in statics {
        assert_eq!(call.path, "/%C5%9Bcie%C5%BCka?q=%C5%BC%C3%B3%C5%82w");
        assert_eq!(header(call, "x-user"), "Łukasz");
        assert_eq!(call.body, "é".as_bytes());
    }
    for call in seen.iter().filter(|c| !c.path.contains("cie")) {
        let n = call.path.strip_prefix('/').unwrap();
        let n = n.strip_suffix("%C3%A9").unwrap();
        assert!(n.parse::<u64>().is_ok(), "{}", call.path);
        assert!(header(call, "x-user").ends_with('Ł'));
        assert!(header(call, "x-lead").starts_with('ü'));
        let body = String::from_utf8(call.body.clone()).unwrap();
        assert!(body.starts_with('é') && body.ends_with('ß'), "{body}");
    }
}

#[test]
fn check_and_errors_show_terminal_escapes_instead_of_sending_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scenario.yaml");
    let scenario = "name: \"x\\e]0;pwned\\a\"\ntargets:\n  api: http://127.0.0.1:9\nrequests:\n  - {name: home, url: \"${api}/\"}\nphases:\n  - name: p\n    requests: 1\n    load: {concurrency: 1}\n";
    std::fs::write(&file, scenario).unwrap();
    let output = crate::support::slogate(&["check", file.to_str().unwrap()]);
    assert_exit(&output, 0);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("(x\\x1b]0;pwned\\x07: 1 phase, 1 request)"),
        "{stdout}"
    );
    assert!(!stdout.contains('\u{1b}') && !stdout.contains('\u{7}'));
    // An error names the character, and its excerpt of the line shows it as
    // U+FFFD (one column, so the caret stays under it), never sends it.
    std::fs::write(&file, scenario.replace("load", "\u{1b}[2Jload")).unwrap();
    let output = crate::support::slogate(&["check", file.to_str().unwrap()]);
    assert_exit(&output, 2);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("unexpected character: `\\u{1b}'"),
        "{stderr}"
    );
    assert!(stderr.contains(" 9 |     \u{fffd}[2Jload"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
}
