//! A small stateful HTTP service for journey (flow) tests, on
//! [`Server`]: log in, use the token and the session cookie, create and
//! read items, plus a wrong answer, a slow one, reset and cleanup. It
//! counts what the tests assert on: logins per user, requests per path,
//! the session cookies each user sent back, cookies that reached another
//! user's requests, resets and deletes.
//!
//! | request | answer |
//! |---|---|
//! | `POST /login` `{"user": U, "password": "secret"}` | 200 `{"token": T, "user": U}`, `Set-Cookie: session=S; Path=/; HttpOnly`; another password 401; no such body 400 |
//! | `GET /me` with `Authorization: Bearer T` | 200 `{"user": U}`; an unknown or missing token 401 |
//! | `GET /session` with `Cookie: session=S` | 200 `{"user": U}`; an unknown or missing session 401 |
//! | `POST /items` (bearer) `{"label": L}` | 201 `{"id": N, "label": L}`, `Location: /items/N`; no label 400 |
//! | `GET /items/N` (bearer) | 200 `{"id": N, "label": L}`; not created (yet) 404 |
//! | `GET /items` (bearer) | 200 `{"items": [...]}` |
//! | `GET /wrong` | 200 `{"status": "error"}`: a deliberately wrong answer |
//! | `GET /stall?ms=N` | 200 `{"stalled_ms": N}` after N ms |
//! | `POST /reset` | 200 `{"reset": true}`: no items, ids from 1 again |
//! | `DELETE /items` | 200 `{"deleted": K}`: no items |
//! | anything else | 404 |
//!
//! Every answer is JSON (`Content-Type: application/json`).

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::BuildHasher;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Value, json};

use super::server::{Call, Reply, Server};

/// The password every user logs in with.
pub const PASSWORD: &str = "secret";

/// The longest `/stall` honours, so a mistyped test cannot hang a run.
const MAX_STALL_MS: u64 = 60_000;

/// A running journey service; stops when dropped.
pub struct Journey {
    server: Server,
    state: Arc<Mutex<State>>,
}

/// What the service holds and has counted.
#[derive(Default)]
struct State {
    /// Token -> user.
    tokens: HashMap<String, String>,
    /// Session id -> user.
    sessions: HashMap<String, String>,
    /// Id -> label.
    items: BTreeMap<u64, String>,
    last_id: u64,
    issued: u64,
    logins: HashMap<String, u64>,
    requests: HashMap<String, u64>,
    /// User -> the session ids of theirs that came back in a `Cookie`.
    cookies_seen: HashMap<String, BTreeSet<String>>,
    foreign_cookies: u64,
    resets: u64,
    deletes: u64,
}

impl Journey {
    /// Starts the service on 127.0.0.1, on a free port.
    pub fn start() -> Journey {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let keys = RandomState::new();
        let server = Server::start(move |call| answer(&mut lock(&shared), &keys, call));
        Journey { server, state }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        self.server.url("")
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// Successful logins of `user`.
    pub fn logins(&self, user: &str) -> u64 {
        lock(&self.state).logins.get(user).copied().unwrap_or(0)
    }

    /// The users who logged in at least once, sorted.
    pub fn users(&self) -> Vec<String> {
        let mut users: Vec<String> = lock(&self.state).logins.keys().cloned().collect();
        users.sort();
        users
    }

    /// Requests to `path` (without its query string), whatever their answer.
    pub fn requests(&self, path: &str) -> u64 {
        lock(&self.state).requests.get(path).copied().unwrap_or(0)
    }

    /// Requests received, on every path.
    pub fn total_requests(&self) -> u64 {
        self.server.received()
    }

    /// How many distinct session cookies of `user`'s came back to the
    /// service (in a `Cookie: session=...` on any request).
    pub fn session_cookies(&self, user: &str) -> usize {
        lock(&self.state)
            .cookies_seen
            .get(user)
            .map_or(0, BTreeSet::len)
    }

    /// Requests of one user (by bearer token, or by the login's body) that
    /// carried another user's session cookie: cookies shared between users.
    pub fn foreign_cookies(&self) -> u64 {
        lock(&self.state).foreign_cookies
    }

    /// Whether any request carried another user's session cookie.
    pub fn cookies_shared(&self) -> bool {
        self.foreign_cookies() > 0
    }

    /// `POST /reset` requests.
    pub fn resets(&self) -> u64 {
        lock(&self.state).resets
    }

    /// `DELETE /items` requests.
    pub fn deletes(&self) -> u64 {
        lock(&self.state).deletes
    }

    /// Items the service holds now.
    pub fn items(&self) -> usize {
        lock(&self.state).items.len()
    }
}

/// The state, even if a handler thread panicked while holding it.
fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The JSON answer `status` with `body` and extra `headers`.
fn reply(status: u16, body: Value, headers: Vec<(String, String)>) -> Reply {
    reply_after(status, body, headers, Duration::ZERO)
}

fn reply_after(
    status: u16,
    body: Value,
    mut headers: Vec<(String, String)>,
    delay: Duration,
) -> Reply {
    headers.push(("Content-Type".into(), "application/json".into()));
    Reply::Full {
        status,
        headers,
        body: body.to_string().into_bytes(),
        delay,
    }
}

fn error(status: u16, message: &str) -> Reply {
    reply(status, json!({ "error": message }), Vec::new())
}

/// The value of request header `name` (lower case), the first if repeated.
fn header<'a>(call: &'a Call, name: &str) -> Option<&'a str> {
    call.headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Every `session=` value in the request's `Cookie` headers.
fn session_ids(call: &Call) -> Vec<String> {
    call.headers
        .iter()
        .filter(|(name, _)| name == "cookie")
        .flat_map(|(_, value)| value.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix("session="))
        .map(str::to_string)
        .collect()
}

/// The user of the request's bearer token, if the service issued it.
fn bearer_user(state: &State, call: &Call) -> Option<String> {
    let token = header(call, "authorization")?.strip_prefix("Bearer ")?;
    state.tokens.get(token.trim()).cloned()
}

/// A fresh identifier no other login had: a counter and 64 random bits.
fn fresh(state: &mut State, keys: &RandomState, prefix: &str) -> String {
    state.issued += 1;
    let random = keys.hash_one((state.issued, prefix));
    format!("{prefix}{}-{random:016x}", state.issued)
}

fn answer(state: &mut State, keys: &RandomState, call: &Call) -> Reply {
    let (path, query) = call
        .path
        .split_once('?')
        .unwrap_or((call.path.as_str(), ""));
    *state.requests.entry(path.to_string()).or_default() += 1;
    let body: Option<Value> = serde_json::from_slice(&call.body).ok();
    // Whose request this is: the bearer token's user, or who logs in.
    let user = bearer_user(state, call).or_else(|| {
        (call.method == "POST" && path == "/login")
            .then(|| body.as_ref()?.get("user")?.as_str().map(str::to_string))
            .flatten()
    });
    note_cookies(state, call, user.as_deref());
    match (call.method.as_str(), path) {
        ("POST", "/login") => login(state, keys, body.as_ref()),
        ("GET", "/me") => match bearer_user(state, call) {
            Some(user) => reply(200, json!({ "user": user }), Vec::new()),
            None => error(401, "no known bearer token"),
        },
        ("GET", "/session") => {
            let owner = session_ids(call)
                .iter()
                .find_map(|id| state.sessions.get(id).cloned());
            match owner {
                Some(user) => reply(200, json!({ "user": user }), Vec::new()),
                None => error(401, "no known session cookie"),
            }
        }
        ("GET", "/wrong") => reply(200, json!({ "status": "error" }), Vec::new()),
        ("GET", "/stall") => stall(query),
        ("POST", "/reset") => {
            state.resets += 1;
            state.items.clear();
            state.last_id = 0;
            reply(200, json!({ "reset": true }), Vec::new())
        }
        ("DELETE", "/items") => {
            state.deletes += 1;
            let deleted = state.items.len();
            state.items.clear();
            reply(200, json!({ "deleted": deleted }), Vec::new())
        }
        (method, _) if path == "/items" || path.starts_with("/items/") => {
            if bearer_user(state, call).is_none() {
                return error(401, "no known bearer token");
            }
            items(state, method, path, body.as_ref())
        }
        _ => error(404, "no such endpoint"),
    }
}

/// Counts the session cookies that came back, by their owner, and those
/// that came with another user's request.
fn note_cookies(state: &mut State, call: &Call, user: Option<&str>) {
    for id in session_ids(call) {
        let Some(owner) = state.sessions.get(&id).cloned() else {
            continue;
        };
        if user.is_some_and(|user| user != owner) {
            state.foreign_cookies += 1;
        }
        state.cookies_seen.entry(owner).or_default().insert(id);
    }
}

fn login(state: &mut State, keys: &RandomState, body: Option<&Value>) -> Reply {
    let field = |name: &str| body.and_then(|b| b.get(name)).and_then(Value::as_str);
    let (Some(user), Some(password)) = (field("user"), field("password")) else {
        return error(400, r#"expected {"user": "...", "password": "..."}"#);
    };
    if password != PASSWORD {
        return error(401, "wrong password");
    }
    let token = fresh(state, keys, "t");
    let session = fresh(state, keys, "s");
    state.tokens.insert(token.clone(), user.to_string());
    state.sessions.insert(session.clone(), user.to_string());
    *state.logins.entry(user.to_string()).or_default() += 1;
    reply(
        200,
        json!({ "token": token, "user": user }),
        vec![(
            "Set-Cookie".into(),
            format!("session={session}; Path=/; HttpOnly"),
        )],
    )
}

fn stall(query: &str) -> Reply {
    let ms = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("ms="))
        .and_then(|v| v.parse::<u64>().ok());
    match ms {
        Some(ms) if ms <= MAX_STALL_MS => reply_after(
            200,
            json!({ "stalled_ms": ms }),
            Vec::new(),
            Duration::from_millis(ms),
        ),
        _ => error(400, "expected ?ms=N, N at most 60000"),
    }
}

/// `/items` and `/items/N`, for a request with a known token.
fn items(state: &mut State, method: &str, path: &str, body: Option<&Value>) -> Reply {
    if path == "/items" {
        return match method {
            "POST" => {
                let Some(label) = body.and_then(|b| b.get("label")).and_then(Value::as_str) else {
                    return error(400, r#"expected {"label": "..."}"#);
                };
                state.last_id += 1;
                let id = state.last_id;
                state.items.insert(id, label.to_string());
                reply(
                    201,
                    json!({ "id": id, "label": label }),
                    vec![("Location".into(), format!("/items/{id}"))],
                )
            }
            "GET" => {
                let items: Vec<Value> = state
                    .items
                    .iter()
                    .map(|(id, label)| json!({ "id": id, "label": label }))
                    .collect();
                reply(200, json!({ "items": items }), Vec::new())
            }
            _ => error(405, "POST, GET or DELETE"),
        };
    }
    let id = path
        .strip_prefix("/items/")
        .and_then(|id| id.parse::<u64>().ok());
    match (method, id.and_then(|id| Some((id, state.items.get(&id)?)))) {
        ("GET", Some((id, label))) => reply(200, json!({ "id": id, "label": label }), Vec::new()),
        ("GET", None) => error(404, "no such item"),
        _ => error(405, "GET"),
    }
}
