//! Captures: a value a step takes from its response into a variable, for
//! the steps after it (`{{ token }}`).

use std::fmt::Write as _;

use super::Response;

/// `NAME: {json|regex|header|cookie|status}` of a step's `capture:`.
#[derive(Debug, Clone)]
pub struct Capture {
    /// The variable it sets.
    pub var: String,
    pub source: CaptureSource,
}

/// Where in the response a capture looks.
#[derive(Debug, Clone)]
pub enum CaptureSource {
    /// The first node the path selects in the body read as JSON; `text` is
    /// the path as written.
    Json {
        path: serde_json_path::JsonPath,
        text: String,
    },
    /// Group `group` (0: the whole match) of the regex's first match in
    /// the body.
    Regex {
        regex: regex::bytes::Regex,
        group: usize,
    },
    /// The first value of this header (lower-case name).
    Header(String),
    /// The value of the cookie of this name that the response sets.
    Cookie(String),
    /// The status code, as digits.
    Status,
}

impl Capture {
    /// Writes the captured value into `out` (cleared first); false when the
    /// response has none: a path that selects nothing or a body that is not
    /// JSON (or was cut), a regex without a match or whose group did not
    /// take part, a header or cookie the response lacks. A value that is
    /// not UTF-8 (a header's, a regex group's) counts as none: variables
    /// are text.
    ///
    /// A JSON string is taken without its quotes; numbers, booleans and
    /// null as their JSON text; arrays and objects as compact JSON.
    pub fn take(&self, response: &Response<'_>, out: &mut String) -> bool {
        out.clear();
        let view = response.view();
        match &self.source {
            CaptureSource::Json { path, .. } => {
                let Some(json) = response.json() else {
                    return false;
                };
                let Some(node) = path.query(json).first() else {
                    return false;
                };
                match node {
                    serde_json::Value::String(s) => out.push_str(s),
                    other => {
                        // Writing into a String cannot fail.
                        let _ = write!(out, "{other}");
                    }
                }
                true
            }
            CaptureSource::Regex { regex, group } => {
                let Some(found) = regex
                    .captures(view.body)
                    .and_then(|captures| captures.get(*group))
                else {
                    return false;
                };
                push_utf8(out, found.as_bytes())
            }
            CaptureSource::Header(name) => {
                view.header(name).is_some_and(|value| push_utf8(out, value))
            }
            CaptureSource::Cookie(name) => {
                // The last `set-cookie` of the name wins, as in a cookie jar.
                let value = view
                    .headers_named("set-cookie")
                    .filter_map(|header| std::str::from_utf8(header).ok())
                    .filter_map(|header| cookie::Cookie::parse(header).ok())
                    .filter(|cookie| cookie.name() == name)
                    .last();
                match value {
                    Some(cookie) => {
                        out.push_str(cookie.value());
                        true
                    }
                    None => false,
                }
            }
            CaptureSource::Status => {
                let _ = write!(out, "{}", view.status);
                true
            }
        }
    }
}

/// Appends `bytes` to `out` when they are UTF-8; false (nothing appended)
/// when not.
fn push_utf8(out: &mut String, bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            out.push_str(text);
            true
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::flow::ResponseView;

    fn headers() -> Vec<(String, Vec<u8>)> {
        vec![
            ("content-type".into(), b"application/json".to_vec()),
            ("location".into(), b"/items/7".to_vec()),
            ("location".into(), b"/second".to_vec()),
            ("x-latin1".into(), b"caf\xe9".to_vec()),
            (
                "set-cookie".into(),
                b"session=abc123; Path=/; HttpOnly".to_vec(),
            ),
            ("set-cookie".into(), b"theme=dark".to_vec()),
            ("set-cookie".into(), b"session=def456; Path=/".to_vec()),
            ("set-cookie".into(), b"bad=\xff".to_vec()),
        ]
    }

    fn view<'a>(headers: &'a [(String, Vec<u8>)], body: &'a [u8]) -> ResponseView<'a> {
        ResponseView {
            status: 201,
            headers,
            body,
            body_size: body.len() as u64,
            latency: Duration::from_millis(12),
        }
    }

    fn json(path: &str) -> Capture {
        Capture {
            var: "v".into(),
            source: CaptureSource::Json {
                path: serde_json_path::JsonPath::parse(path).unwrap(),
                text: path.into(),
            },
        }
    }

    fn regex(pattern: &str, group: usize) -> Capture {
        Capture {
            var: "v".into(),
            source: CaptureSource::Regex {
                regex: regex::bytes::Regex::new(pattern).unwrap(),
                group,
            },
        }
    }

    fn of(source: CaptureSource) -> Capture {
        Capture {
            var: "v".into(),
            source,
        }
    }

    /// What `capture` takes from `response`, None when it finds nothing
    /// (and then `out` is left empty).
    fn take(capture: &Capture, response: &Response<'_>) -> Option<String> {
        let mut out = String::from("left over");
        let found = capture.take(response, &mut out);
        if !found {
            assert_eq!(out, "", "nothing found leaves `out` empty");
        }
        found.then_some(out)
    }

    const BODY: &[u8] =
        br#"{"id": 7, "token": "t-\"1\"", "price": 1.50, "ok": true, "none": null, "tags": ["a", "b"], "owner": {"name": "ann"}}"#;

    #[test]
    fn json_strings_lose_their_quotes_and_the_rest_is_json_text() {
        let headers = headers();
        let response = Response::new(view(&headers, BODY));
        assert_eq!(
            take(&json("$.token"), &response).as_deref(),
            Some(r#"t-"1""#)
        );
        assert_eq!(take(&json("$.id"), &response).as_deref(), Some("7"));
        assert_eq!(take(&json("$.price"), &response).as_deref(), Some("1.5"));
        assert_eq!(take(&json("$.ok"), &response).as_deref(), Some("true"));
        assert_eq!(take(&json("$.none"), &response).as_deref(), Some("null"));
        assert_eq!(
            take(&json("$.tags"), &response).as_deref(),
            Some(r#"["a","b"]"#)
        );
        assert_eq!(
            take(&json("$.owner"), &response).as_deref(),
            Some(r#"{"name":"ann"}"#)
        );
        // The first of several nodes.
        assert_eq!(take(&json("$.tags[*]"), &response).as_deref(), Some("a"));
    }

    #[test]
    fn json_finds_nothing_without_a_match_or_without_json() {
        let headers = headers();
        let response = Response::new(view(&headers, BODY));
        assert_eq!(take(&json("$.missing"), &response), None);
        assert_eq!(take(&json("$.tags[5]"), &response), None);
        let html = Response::new(view(&headers, b"<html>id 7</html>"));
        assert_eq!(take(&json("$.id"), &html), None);
        let mut cut = view(&headers, &BODY[..20]);
        cut.body_size = BODY.len() as u64;
        assert_eq!(take(&json("$.id"), &Response::new(cut)), None);
    }

    #[test]
    fn regex_takes_its_group_or_the_whole_match() {
        let headers = headers();
        let response = Response::new(view(&headers, BODY));
        assert_eq!(
            take(&regex(r#""id": (\d+)"#, 1), &response).as_deref(),
            Some("7")
        );
        assert_eq!(
            take(&regex(r#""id": \d+"#, 0), &response).as_deref(),
            Some(r#""id": 7"#)
        );
        assert_eq!(take(&regex(r#""nope": (\d+)"#, 1), &response), None);
        // The group exists but did not take part in the match.
        assert_eq!(take(&regex(r#""id": (\d+)|(zzz)"#, 2), &response), None);
        // A group that is not UTF-8 is not a variable's text.
        let latin1 = Response::new(view(&headers, b"name=caf\xe9;"));
        assert_eq!(take(&regex(r"(?-u)name=([^;]+)", 1), &latin1), None);
        assert_eq!(
            take(&regex(r"(?-u)name=(c)", 1), &latin1).as_deref(),
            Some("c")
        );
    }

    #[test]
    fn header_takes_the_first_value_when_it_is_utf8() {
        let headers = headers();
        let response = Response::new(view(&headers, b""));
        let header = |name: &str| of(CaptureSource::Header(name.into()));
        assert_eq!(
            take(&header("location"), &response).as_deref(),
            Some("/items/7")
        );
        assert_eq!(take(&header("x-missing"), &response), None);
        assert_eq!(take(&header("x-latin1"), &response), None);
    }

    #[test]
    fn cookie_takes_the_last_set_cookie_of_its_name() {
        let headers = headers();
        let response = Response::new(view(&headers, b""));
        let cookie = |name: &str| of(CaptureSource::Cookie(name.into()));
        assert_eq!(
            take(&cookie("session"), &response).as_deref(),
            Some("def456")
        );
        assert_eq!(take(&cookie("theme"), &response).as_deref(), Some("dark"));
        assert_eq!(take(&cookie("missing"), &response), None);
        assert_eq!(take(&cookie("bad"), &response), None);
        assert_eq!(take(&cookie("Path"), &response), None);
    }

    #[test]
    fn status_is_always_there() {
        let response = Response::new(view(&[], b""));
        assert_eq!(
            take(&of(CaptureSource::Status), &response).as_deref(),
            Some("201")
        );
    }

    #[test]
    fn only_json_captures_parse_the_body() {
        let headers = headers();
        let response = Response::new(view(&headers, BODY));
        let mut out = String::new();
        assert!(regex(r"(\d)", 1).take(&response, &mut out));
        assert!(of(CaptureSource::Header("location".into())).take(&response, &mut out));
        // Not parsed yet: the cell is still empty.
        assert!(response.json_parsed().is_none());
        assert!(json("$.id").take(&response, &mut out));
        assert!(response.json_parsed().is_some());
    }
}
