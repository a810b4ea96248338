//! The demo service's login and item resource, for user journeys:
//! `POST /login` (any user, password `demo`) answers a token and a
//! `session` cookie; `GET /me`, `POST /items`, `GET /items` and
//! `GET /items/N` need either. Answers are JSON; errors are
//! `{"error": "..."}` in our own words.

use bytes::Bytes;
use http::HeaderMap;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use serde::Deserialize;

use super::store::{Lookup, Store};

/// The password every demo user has.
pub(crate) const PASSWORD: &str = "demo";
/// The longest user name, in bytes.
const MAX_USER: usize = 64;
/// The longest item name, in bytes.
const MAX_NAME: usize = 256;

/// A request to one of these endpoints.
#[derive(Debug, PartialEq)]
pub(crate) enum Call {
    Login,
    /// Any of the others: they need a session.
    Authorized(Authorized),
}

/// The calls that need a session.
#[derive(Debug, PartialEq)]
pub(crate) enum Authorized {
    Me,
    CreateItem,
    ListItems,
    /// `GET /items/<segment>`; a segment that is not an id is a 404.
    GetItem(String),
}

impl Call {
    /// The call and its metrics label, or None when it is not one of ours.
    /// Every `/items/<one segment>` is labelled `/items/:id`.
    pub(crate) fn route(method: &str, path: &str) -> Option<(&'static str, Call)> {
        match (method, path) {
            ("POST", "/login") => Some(("/login", Call::Login)),
            ("GET", "/me") => Some(("/me", Call::Authorized(Authorized::Me))),
            ("POST", "/items") => Some(("/items", Call::Authorized(Authorized::CreateItem))),
            ("GET", "/items") => Some(("/items", Call::Authorized(Authorized::ListItems))),
            ("GET", _) => {
                let segment = path.strip_prefix("/items/")?;
                (!segment.is_empty() && !segment.contains('/')).then(|| {
                    let call = Authorized::GetItem(segment.to_string());
                    ("/items/:id", Call::Authorized(call))
                })
            }
            _ => None,
        }
    }

    /// Whether it reads a body.
    pub(crate) fn has_body(&self) -> bool {
        matches!(self, Call::Login | Call::Authorized(Authorized::CreateItem))
    }
}

#[derive(Deserialize)]
struct Login {
    user: String,
    password: String,
}

#[derive(Deserialize)]
struct NewItem {
    name: String,
}

/// Answers `call`, its body already read (and bounded).
pub(crate) fn answer(
    store: &Store,
    call: Call,
    headers: &HeaderMap,
    body: &[u8],
) -> Response<Full<Bytes>> {
    let call = match call {
        Call::Login => return login(store, body),
        Call::Authorized(call) => call,
    };
    let Some(user) = authenticated(store, headers) else {
        let mut response = error(
            StatusCode::UNAUTHORIZED,
            "log in first: POST /login, then send Authorization: Bearer <token> or the session cookie",
        );
        response.headers_mut().insert(
            http::header::WWW_AUTHENTICATE,
            http::HeaderValue::from_static("Bearer"),
        );
        return response;
    };
    match call {
        Authorized::Me => super::json(StatusCode::OK, &serde_json::json!({"user": user})),
        Authorized::ListItems => super::json(StatusCode::OK, &store.list(&user)),
        Authorized::CreateItem => create(store, &user, body),
        Authorized::GetItem(segment) => {
            let Ok(id) = segment.parse::<u64>() else {
                return error(StatusCode::NOT_FOUND, "no such item");
            };
            match store.get(&user, id) {
                Lookup::Found(item) => super::json(StatusCode::OK, &item),
                Lookup::NotFound => error(StatusCode::NOT_FOUND, "no such item"),
                Lookup::Forbidden => error(StatusCode::FORBIDDEN, "this item is not yours"),
            }
        }
    }
}

fn login(store: &Store, body: &[u8]) -> Response<Full<Bytes>> {
    let Some(login) = object::<Login>(body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "the body must be JSON {\"user\": \"...\", \"password\": \"...\"}",
        );
    };
    if login.user.is_empty() || login.user.len() > MAX_USER {
        return error(StatusCode::BAD_REQUEST, "user must be 1 to 64 bytes long");
    }
    if login.password != PASSWORD {
        return error(
            StatusCode::UNAUTHORIZED,
            "wrong password (every demo user's is \"demo\")",
        );
    }
    let token = store.login(&login.user);
    let mut response = super::json(
        StatusCode::OK,
        &serde_json::json!({"token": token, "user": login.user}),
    );
    // 32 hex digits: always a valid header value.
    if let Ok(cookie) = http::HeaderValue::from_str(&format!("session={token}; Path=/; HttpOnly")) {
        response
            .headers_mut()
            .insert(http::header::SET_COOKIE, cookie);
    }
    response
}

fn create(store: &Store, user: &str, body: &[u8]) -> Response<Full<Bytes>> {
    let Some(new) = object::<NewItem>(body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "the body must be JSON {\"name\": \"...\"}",
        );
    };
    if new.name.len() > MAX_NAME {
        return error(
            StatusCode::BAD_REQUEST,
            "name must be at most 256 bytes long",
        );
    }
    match store.create(user, &new.name) {
        Ok(item) => {
            let mut response = super::json(StatusCode::CREATED, &item);
            if let Ok(location) = http::HeaderValue::from_str(&format!("/items/{}", item.id)) {
                response
                    .headers_mut()
                    .insert(http::header::LOCATION, location);
            }
            response
        }
        Err(full) => error(StatusCode::SERVICE_UNAVAILABLE, &full.to_string()),
    }
}

/// The body as a JSON object of `T`'s fields (serde alone would also
/// take a list of the values in order).
fn object<T: serde::de::DeserializeOwned>(body: &[u8]) -> Option<T> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value @ serde_json::Value::Object(_)) => serde_json::from_value(value).ok(),
        _ => None,
    }
}

/// The user of the request's bearer token, else of its `session` cookie.
fn authenticated(store: &Store, headers: &HeaderMap) -> Option<String> {
    let bearer = headers
        .get_all(http::header::AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .find_map(|(_, token)| store.user(token.trim()));
    bearer.or_else(|| {
        headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().strip_prefix("session="))
            .find_map(|token| store.user(token))
    })
}

fn error(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    super::json(status, &serde_json::json!({"error": message}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(response: Response<Full<Bytes>>) -> (StatusCode, String) {
        use http_body_util::BodyExt;
        let status = response.status();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let bytes = runtime
            .block_on(response.into_body().collect())
            .unwrap()
            .to_bytes();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[test]
    fn routes_label_every_item_id_alike() {
        assert_eq!(
            Call::route("GET", "/items/17"),
            Some((
                "/items/:id",
                Call::Authorized(Authorized::GetItem("17".into()))
            ))
        );
        assert_eq!(
            Call::route("GET", "/items/x"),
            Some((
                "/items/:id",
                Call::Authorized(Authorized::GetItem("x".into()))
            ))
        );
        assert_eq!(Call::route("GET", "/items/1/2"), None);
        assert_eq!(Call::route("GET", "/items/"), None);
        assert_eq!(Call::route("DELETE", "/items/1"), None);
        assert_eq!(Call::route("GET", "/login"), None);
    }

    #[test]
    fn a_full_store_answers_503() {
        let store = Store::with_limits(10, 1);
        let token = store.login("a");
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        let create = |store: &Store| {
            body(answer(
                store,
                Call::Authorized(Authorized::CreateItem),
                &headers,
                br#"{"name": "x"}"#,
            ))
        };
        assert_eq!(create(&store).0, StatusCode::CREATED);
        let (status, text) = create(&store);
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(text, r#"{"error":"the demo keeps at most 1 items"}"#);
    }

    #[test]
    fn long_names_are_refused() {
        let store = Store::default();
        let user = "u".repeat(65);
        let (status, _) = body(answer(
            &store,
            Call::Login,
            &HeaderMap::new(),
            format!(r#"{{"user": "{user}", "password": "demo"}}"#).as_bytes(),
        ));
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let token = store.login("a");
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            format!("x=1; session={token}").parse().unwrap(),
        );
        let name = "n".repeat(257);
        let (status, text) = body(answer(
            &store,
            Call::Authorized(Authorized::CreateItem),
            &headers,
            format!(r#"{{"name": "{name}"}}"#).as_bytes(),
        ));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
        assert_eq!(store.list("a"), vec![]);
    }
}
