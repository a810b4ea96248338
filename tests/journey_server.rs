//! The journey service of tests/support/journey.rs over raw HTTP: every
//! endpoint, its counters, and that it holds up under concurrent clients,
//! before the flow tests rely on it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::journey::{Journey, PASSWORD};
use crate::support::{http, http_request};

/// One HTTP/1.0 exchange: the status, the response's headers (names in
/// lower case) and its body.
fn exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[&str],
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(http_request(method, path, headers, body).as_bytes())
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a whole response");
    let mut lines = head.lines();
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    (status, headers, body.to_string())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// Logs `user` in; returns the token and the session cookie (`session=ID`).
fn login(journey: &Journey, user: &str) -> (String, String) {
    let body = format!(r#"{{"user": "{user}", "password": "{PASSWORD}"}}"#);
    let (status, headers, body) = exchange(
        journey.addr(),
        "POST",
        "/login",
        &["Content-Type: application/json"],
        &body,
    );
    assert_eq!(status, 200, "{body}");
    let answer = json(&body);
    assert_eq!(answer["user"], user, "{body}");
    let cookie = header(&headers, "set-cookie").expect("a Set-Cookie");
    let (pair, attributes) = cookie.split_once("; ").unwrap();
    assert_eq!(attributes, "Path=/; HttpOnly");
    assert!(pair.starts_with("session="), "{cookie}");
    (
        answer["token"].as_str().unwrap().to_string(),
        pair.to_string(),
    )
}

fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}")
}

#[test]
fn login_gives_a_fresh_token_and_session_and_a_wrong_password_401() {
    let journey = Journey::start();
    let (token1, cookie1) = login(&journey, "alice");
    let (token2, cookie2) = login(&journey, "alice");
    assert_ne!(token1, token2, "a token per login");
    assert_ne!(cookie1, cookie2, "a session per login");
    let (status, body) = http(
        journey.addr(),
        "POST",
        "/login",
        &[],
        r#"{"user": "alice", "password": "guess"}"#,
    );
    assert_eq!(status, 401, "{body}");
    let (status, _) = http(journey.addr(), "POST", "/login", &[], "not json");
    assert_eq!(status, 400);
    assert_eq!(journey.logins("alice"), 2, "only successful logins count");
    assert_eq!(journey.logins("bob"), 0);
    assert_eq!(journey.users(), ["alice"]);
    assert_eq!(journey.requests("/login"), 4);
}

#[test]
fn me_needs_a_known_bearer_token() {
    let journey = Journey::start();
    let (token, _) = login(&journey, "alice");
    let (status, body) = http(journey.addr(), "GET", "/me", &[&bearer(&token)], "");
    assert_eq!((status, json(&body)["user"].clone()), (200, "alice".into()));
    assert_eq!(http(journey.addr(), "GET", "/me", &[], "").0, 401);
    let forged = bearer(&format!("{token}x"));
    assert_eq!(http(journey.addr(), "GET", "/me", &[&forged], "").0, 401);
    assert_eq!(journey.requests("/me"), 3);
}

#[test]
fn session_needs_a_known_cookie_and_counts_the_cookies_that_came_back() {
    let journey = Journey::start();
    let (_, cookie) = login(&journey, "alice");
    let with_cookie = format!("Cookie: theme=dark; {cookie}");
    for _ in 0..3 {
        let (status, body) = http(journey.addr(), "GET", "/session", &[&with_cookie], "");
        assert_eq!((status, json(&body)["user"].clone()), (200, "alice".into()));
    }
    assert_eq!(
        journey.session_cookies("alice"),
        1,
        "one session, sent back 3 times"
    );
    let (_, second) = login(&journey, "alice");
    let with_second = format!("Cookie: {second}");
    assert_eq!(
        http(journey.addr(), "GET", "/session", &[&with_second], "").0,
        200
    );
    assert_eq!(journey.session_cookies("alice"), 2);
    assert_eq!(http(journey.addr(), "GET", "/session", &[], "").0, 401);
    let unknown = "Cookie: session=s0-0000000000000000";
    assert_eq!(
        http(journey.addr(), "GET", "/session", &[unknown], "").0,
        401
    );
    assert_eq!(journey.session_cookies("bob"), 0);
    assert!(!journey.cookies_shared());
}

#[test]
fn another_users_cookie_on_a_request_is_counted() {
    let journey = Journey::start();
    let (alice, alice_cookie) = login(&journey, "alice");
    let (_, bob_cookie) = login(&journey, "bob");
    let own = format!("Cookie: {alice_cookie}");
    assert_eq!(
        http(journey.addr(), "GET", "/me", &[&bearer(&alice), &own], "").0,
        200
    );
    assert!(!journey.cookies_shared(), "her own cookie is not shared");
    let theirs = format!("Cookie: {bob_cookie}");
    assert_eq!(
        http(
            journey.addr(),
            "GET",
            "/me",
            &[&bearer(&alice), &theirs],
            ""
        )
        .0,
        200
    );
    assert_eq!(journey.foreign_cookies(), 1);
    // Logging in as alice with bob's cookie in the jar is sharing too.
    let (status, _) = http(
        journey.addr(),
        "POST",
        "/login",
        &[&theirs],
        &format!(r#"{{"user": "alice", "password": "{PASSWORD}"}}"#),
    );
    assert_eq!(status, 200);
    assert_eq!(journey.foreign_cookies(), 2);
    assert!(journey.cookies_shared());
    assert_eq!(journey.session_cookies("bob"), 1);
}

#[test]
fn items_are_created_in_order_and_read_back_with_a_token() {
    let journey = Journey::start();
    let (token, _) = login(&journey, "alice");
    let auth = bearer(&token);
    assert_eq!(http(journey.addr(), "GET", "/items/1", &[&auth], "").0, 404);
    for (n, label) in [(1, "first"), (2, "second")] {
        let body = format!(r#"{{"label": "{label}"}}"#);
        let (status, headers, body) = exchange(journey.addr(), "POST", "/items", &[&auth], &body);
        assert_eq!(status, 201, "{body}");
        assert_eq!(
            header(&headers, "location"),
            Some(format!("/items/{n}").as_str())
        );
        assert_eq!(header(&headers, "content-type"), Some("application/json"));
        let item = json(&body);
        assert_eq!(
            (item["id"].as_u64(), item["label"].as_str()),
            (Some(n), Some(label))
        );
    }
    let (status, body) = http(journey.addr(), "GET", "/items/2", &[&auth], "");
    assert_eq!(
        (status, json(&body)["label"].clone()),
        (200, "second".into())
    );
    assert_eq!(http(journey.addr(), "GET", "/items/3", &[&auth], "").0, 404);
    assert_eq!(http(journey.addr(), "GET", "/items/1", &[], "").0, 401);
    assert_eq!(
        http(journey.addr(), "POST", "/items", &[], r#"{"label": "x"}"#).0,
        401
    );
    assert_eq!(
        http(journey.addr(), "POST", "/items", &[&auth], "{}").0,
        400
    );
    let (status, body) = http(journey.addr(), "GET", "/items", &[&auth], "");
    assert_eq!(status, 200);
    assert_eq!(json(&body)["items"].as_array().unwrap().len(), 2, "{body}");
    assert_eq!(journey.items(), 2);
    assert_eq!(journey.requests("/items/2"), 1);
}

#[test]
fn reset_and_delete_empty_the_items_and_are_counted() {
    let journey = Journey::start();
    let (token, _) = login(&journey, "alice");
    let auth = bearer(&token);
    for _ in 0..3 {
        http(
            journey.addr(),
            "POST",
            "/items",
            &[&auth],
            r#"{"label": "x"}"#,
        );
    }
    let (status, body) = http(journey.addr(), "DELETE", "/items", &[], "");
    assert_eq!((status, json(&body)["deleted"].clone()), (200, 3.into()));
    assert_eq!((journey.items(), journey.deletes()), (0, 1));
    http(
        journey.addr(),
        "POST",
        "/items",
        &[&auth],
        r#"{"label": "y"}"#,
    );
    let (status, body) = http(journey.addr(), "POST", "/reset", &[], "");
    assert_eq!((status, json(&body)["reset"].clone()), (200, true.into()));
    assert_eq!((journey.items(), journey.resets()), (0, 1));
    let (_, body) = http(
        journey.addr(),
        "POST",
        "/items",
        &[&auth],
        r#"{"label": "z"}"#,
    );
    assert_eq!(json(&body)["id"], 1, "ids start again after a reset");
    assert_eq!(
        http(journey.addr(), "GET", "/me", &[&auth], "").0,
        200,
        "logins survive a reset"
    );
}

#[test]
fn wrong_answers_wrongly_and_stall_waits() {
    let journey = Journey::start();
    assert_eq!(journey.url(), format!("http://{}", journey.addr()));
    let (status, body) = http(journey.addr(), "GET", "/wrong", &[], "");
    assert_eq!(
        (status, json(&body)),
        (200, serde_json::json!({"status": "error"}))
    );
    let started = Instant::now();
    let (status, body) = http(journey.addr(), "GET", "/stall?ms=300", &[], "");
    let took = started.elapsed();
    assert_eq!(
        (status, json(&body)["stalled_ms"].clone()),
        (200, 300.into())
    );
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(http(journey.addr(), "GET", "/stall", &[], "").0, 400);
    assert_eq!(
        http(journey.addr(), "GET", "/stall?ms=999999", &[], "").0,
        400
    );
    assert_eq!(http(journey.addr(), "GET", "/nowhere", &[], "").0, 404);
    assert_eq!(journey.requests("/stall"), 3, "counted without the query");
    assert_eq!(journey.requests("/nowhere"), 1);
    assert_eq!(journey.total_requests(), 5);
}

#[test]
fn http11_keeps_the_connection_for_the_next_request() {
    let journey = Journey::start();
    let stream = TcpStream::connect(journey.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    for _ in 0..3 {
        writer
            .write_all(b"GET /wrong HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(line.starts_with("HTTP/1.1 200"), "{line:?}");
        let mut length = 0;
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        assert_eq!(body, br#"{"status":"error"}"#);
    }
    assert_eq!(journey.total_requests(), 3);
}

#[test]
fn concurrent_users_are_counted_exactly() {
    let journey = Journey::start();
    std::thread::scope(|scope| {
        for u in 0..8 {
            let journey = &journey;
            scope.spawn(move || {
                let user = format!("u{u}");
                let (token, cookie) = login(journey, &user);
                let headers = [bearer(&token), format!("Cookie: {cookie}")];
                let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
                for _ in 0..25 {
                    assert_eq!(http(journey.addr(), "GET", "/me", &headers, "").0, 200);
                    let (status, _) = http(
                        journey.addr(),
                        "POST",
                        "/items",
                        &headers,
                        r#"{"label": "c"}"#,
                    );
                    assert_eq!(status, 201);
                }
            });
        }
    });
    assert_eq!(journey.users().len(), 8);
    for u in 0..8 {
        assert_eq!(journey.logins(&format!("u{u}")), 1);
        assert_eq!(journey.session_cookies(&format!("u{u}")), 1);
    }
    assert!(!journey.cookies_shared());
    assert_eq!(journey.requests("/me"), 200);
    assert_eq!(journey.requests("/items"), 200);
    assert_eq!(journey.items(), 200);
    assert_eq!(journey.total_requests(), 408);
}
