//! Checks: what a step demands of its response (`status: 201`, `{json:
//! "$.id"}`, `{latency: 300ms}`). Each has a name, the row of the checks
//! report; the default one says the check as it reads (`status 201`,
//! `$.label == "x"`), a `name:` in the file replaces it.

use std::fmt;
use std::time::Duration;

use super::Response;

/// One check of a step.
#[derive(Debug, Clone)]
pub struct Check {
    /// The row it is counted under: `name:` as written, else the kind's
    /// text ([`CheckKind`]'s `Display`).
    pub name: String,
    pub kind: CheckKind,
}

/// What a check tests.
#[derive(Debug, Clone)]
pub enum CheckKind {
    /// The status is one of `codes` or of `classes` (2 for `2xx`).
    Status { codes: Vec<u16>, classes: Vec<u8> },
    /// A header (lower-case name): some value of it passes `test`.
    Header { name: String, test: HeaderTest },
    /// The body (the part kept of it) contains this text.
    BodyContains(Needle),
    /// The body (the part kept of it) has a match of the regex.
    BodyMatches(regex::bytes::Regex),
    /// The first node the path selects in the body read as JSON passes
    /// `test`; `text` is the path as written. A body that is not JSON, or
    /// was cut, fails.
    Json {
        path: serde_json_path::JsonPath,
        text: String,
        test: JsonTest,
    },
    /// The whole body's size in bytes is within the bounds (inclusive).
    BodySize { min: Option<u64>, max: Option<u64> },
    /// The step's latency is at most this.
    Latency(Duration),
}

/// What a header check asks of the header's values.
#[derive(Debug, Clone)]
pub enum HeaderTest {
    /// The response has it.
    Present,
    /// Some value is exactly this (bytes compared; case matters).
    Equals(String),
    /// Some value has a match of the regex.
    Matches(regex::bytes::Regex),
}

/// What a JSON check asks of the node its path selects.
#[derive(Debug, Clone)]
pub enum JsonTest {
    /// The path selects something (null included).
    Exists,
    /// The node equals this as JSON: the string `"1"` is not the number
    /// 1, and 1 is 1.0.
    Equals(serde_json::Value),
    /// A string node (a number or boolean as its JSON text) has a match of
    /// the regex; null, arrays and objects fail.
    Matches(regex::Regex),
    /// An array's items, an object's keys or a string's characters number
    /// exactly this.
    Length(usize),
}

/// A literal searched in a body: the text, and its searcher (a regex of the
/// escaped literal, which searches with `memchr`'s substring finder).
#[derive(Debug, Clone)]
pub struct Needle {
    text: String,
    finder: regex::bytes::Regex,
}

impl Needle {
    /// Searches for `text` as it is.
    pub fn new(text: &str) -> Needle {
        let finder = regex::bytes::Regex::new(&regex::escape(text))
            .expect("an escaped literal is a valid regex");
        Needle {
            text: text.to_string(),
            finder,
        }
    }

    /// The text searched for.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True when `haystack` contains the text.
    pub fn is_in(&self, haystack: &[u8]) -> bool {
        self.finder.is_match(haystack)
    }
}

impl Check {
    /// A check named by `name`, or by what it tests when `name` is None.
    pub fn new(kind: CheckKind, name: Option<String>) -> Check {
        Check {
            name: name.unwrap_or_else(|| kind.to_string()),
            kind,
        }
    }

    /// True when the response passes. Status, header, body, size and
    /// latency checks allocate nothing; a JSON check reads the body as
    /// JSON once per response ([`Response::json`]).
    pub fn passes(&self, response: &Response<'_>) -> bool {
        let view = response.view();
        match &self.kind {
            CheckKind::Status { codes, classes } => {
                codes.contains(&view.status)
                    || u8::try_from(view.status / 100).is_ok_and(|class| classes.contains(&class))
            }
            CheckKind::Header { name, test } => {
                let mut values = view.headers_named(name);
                match test {
                    HeaderTest::Present => values.next().is_some(),
                    HeaderTest::Equals(wanted) => values.any(|v| v == wanted.as_bytes()),
                    HeaderTest::Matches(regex) => values.any(|v| regex.is_match(v)),
                }
            }
            CheckKind::BodyContains(needle) => needle.is_in(view.body),
            CheckKind::BodyMatches(regex) => regex.is_match(view.body),
            CheckKind::Json { path, test, .. } => {
                let Some(node) = response.json().and_then(|json| path.query(json).first()) else {
                    return false;
                };
                json_passes(node, test)
            }
            CheckKind::BodySize { min, max } => {
                min.is_none_or(|min| view.body_size >= min)
                    && max.is_none_or(|max| view.body_size <= max)
            }
            CheckKind::Latency(bound) => view.latency <= *bound,
        }
    }
}

fn json_passes(node: &serde_json::Value, test: &JsonTest) -> bool {
    use serde_json::Value;
    match test {
        JsonTest::Exists => true,
        JsonTest::Equals(wanted) => json_equal(node, wanted),
        JsonTest::Matches(regex) => match node {
            Value::String(s) => regex.is_match(s),
            Value::Number(n) => regex.is_match(&n.to_string()),
            Value::Bool(b) => regex.is_match(if *b { "true" } else { "false" }),
            Value::Null | Value::Array(_) | Value::Object(_) => false,
        },
        JsonTest::Length(length) => match node {
            Value::Array(items) => items.len() == *length,
            Value::Object(map) => map.len() == *length,
            Value::String(s) => s.chars().count() == *length,
            Value::Null | Value::Bool(_) | Value::Number(_) => false,
        },
    }
}

/// JSON equality where numbers compare by value (1 == 1.0), integers
/// exactly, and nothing else converts (`"1"` is not 1).
fn json_equal(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => {
            let int = |n: &serde_json::Number| {
                n.as_i64()
                    .map(i128::from)
                    .or_else(|| n.as_u64().map(i128::from))
            };
            match (int(a), int(b)) {
                (Some(a), Some(b)) => a == b,
                _ => a.as_f64() == b.as_f64(),
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, a)| b.get(key).is_some_and(|b| json_equal(a, b)))
        }
        _ => a == b,
    }
}

impl fmt::Display for CheckKind {
    /// The check as it reads: `status 201`, `header x-cache == "HIT"`,
    /// `$.tags length 2`, `latency <= 300ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckKind::Status { codes, classes } => {
                let mut items = codes
                    .iter()
                    .map(u16::to_string)
                    .chain(classes.iter().map(|c| format!("{c}xx")));
                if codes.len() + classes.len() == 1 {
                    write!(f, "status {}", items.next().unwrap_or_default())
                } else {
                    write!(f, "status in [{}]", items.collect::<Vec<_>>().join(", "))
                }
            }
            CheckKind::Header { name, test } => match test {
                HeaderTest::Present => write!(f, "header {name} present"),
                HeaderTest::Equals(value) => write!(f, "header {name} == {value:?}"),
                HeaderTest::Matches(regex) => {
                    write!(f, "header {name} =~ /{}/", slashed(regex.as_str()))
                }
            },
            CheckKind::BodyContains(needle) => write!(f, "body contains {:?}", needle.as_str()),
            CheckKind::BodyMatches(regex) => write!(f, "body =~ /{}/", slashed(regex.as_str())),
            CheckKind::Json { text, test, .. } => {
                let path = visible(text);
                match test {
                    JsonTest::Exists => write!(f, "{path} exists"),
                    JsonTest::Equals(value) => write!(f, "{path} == {value}"),
                    JsonTest::Matches(regex) => {
                        write!(f, "{path} =~ /{}/", slashed(regex.as_str()))
                    }
                    JsonTest::Length(length) => write!(f, "{path} length {length}"),
                }
            }
            CheckKind::BodySize { min, max } => match (min, max) {
                (Some(min), Some(max)) => write!(f, "body size >= {min} B and <= {max} B"),
                (Some(min), None) => write!(f, "body size >= {min} B"),
                (None, Some(max)) => write!(f, "body size <= {max} B"),
                (None, None) => write!(f, "body size any"),
            },
            CheckKind::Latency(bound) => write!(f, "latency <= {}", duration_text(*bound)),
        }
    }
}

/// A bound as people write it: `850µs`, `300ms`, `1.5s` (at most three
/// decimals, none trailing).
fn duration_text(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    let decimals = |value: f64| crate::units::format_decimals(value, 3);
    if us < 1e3 {
        format!("{}µs", decimals(us))
    } else if us < 1e6 {
        format!("{}ms", decimals(us / 1e3))
    } else {
        format!("{}s", decimals(us / 1e6))
    }
}

/// A regex's source between slashes: an unescaped `/` escaped, control
/// characters shown as escapes (a name reaches terminals).
fn slashed(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut escaped = false;
    for c in source.chars() {
        if c == '/' && !escaped {
            out.push('\\');
        }
        escaped = c == '\\' && !escaped;
        push_visible(&mut out, c);
    }
    out
}

/// `text` with control characters shown as escapes.
fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_visible(&mut out, c);
    }
    out
}

fn push_visible(out: &mut String, c: char) {
    if c.is_control() {
        out.extend(c.escape_default());
    } else {
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::flow::ResponseView;

    fn headers() -> Vec<(String, Vec<u8>)> {
        vec![
            (
                "content-type".into(),
                b"application/json; charset=utf-8".to_vec(),
            ),
            ("x-cache".into(), b"MISS".to_vec()),
            ("x-cache".into(), b"HIT".to_vec()),
            ("x-latin1".into(), b"caf\xe9".to_vec()),
        ]
    }

    const BODY: &[u8] = br#"{"id": 7, "label": "x-1", "n": "1", "price": 1.0, "ok": false, "none": null, "tags": ["a", "b"], "owner": {"name": "ann", "age": 30}, "word": "h\u00e9llo"}"#;

    fn view<'a>(headers: &'a [(String, Vec<u8>)], body: &'a [u8]) -> ResponseView<'a> {
        ResponseView {
            status: 201,
            headers,
            body,
            body_size: body.len() as u64,
            latency: Duration::from_millis(300),
        }
    }

    fn check(kind: CheckKind) -> Check {
        Check::new(kind, None)
    }

    fn status(codes: &[u16], classes: &[u8]) -> Check {
        check(CheckKind::Status {
            codes: codes.to_vec(),
            classes: classes.to_vec(),
        })
    }

    fn header(name: &str, test: HeaderTest) -> Check {
        check(CheckKind::Header {
            name: name.into(),
            test,
        })
    }

    fn bytes_re(pattern: &str) -> regex::bytes::Regex {
        regex::bytes::Regex::new(pattern).unwrap()
    }

    fn json_check(path: &str, test: JsonTest) -> Check {
        check(CheckKind::Json {
            path: serde_json_path::JsonPath::parse(path).unwrap(),
            text: path.into(),
            test,
        })
    }

    fn equals(path: &str, value: serde_json::Value) -> Check {
        json_check(path, JsonTest::Equals(value))
    }

    #[test]
    fn checks_and_captures_can_be_shared_by_worker_threads() {
        fn shareable<T: Send + Sync + Clone>() {}
        shareable::<Check>();
        shareable::<crate::flow::Capture>();
    }

    #[test]
    fn status_passes_for_its_codes_and_classes() {
        let response = Response::new(view(&[], b""));
        assert!(status(&[201], &[]).passes(&response));
        assert!(status(&[200, 201], &[]).passes(&response));
        assert!(status(&[], &[2]).passes(&response));
        assert!(status(&[204], &[3, 2]).passes(&response));
        assert!(!status(&[200], &[]).passes(&response));
        assert!(!status(&[200, 204], &[]).passes(&response));
        assert!(!status(&[], &[3]).passes(&response));
        assert!(!status(&[], &[]).passes(&response));
    }

    #[test]
    fn header_checks_look_at_every_value() {
        let headers = headers();
        let response = Response::new(view(&headers, b""));
        assert!(header("content-type", HeaderTest::Present).passes(&response));
        assert!(!header("x-missing", HeaderTest::Present).passes(&response));
        assert!(header("x-cache", HeaderTest::Equals("HIT".into())).passes(&response));
        assert!(header("x-cache", HeaderTest::Equals("MISS".into())).passes(&response));
        assert!(!header("x-cache", HeaderTest::Equals("hit".into())).passes(&response));
        assert!(!header("x-missing", HeaderTest::Equals("".into())).passes(&response));
        let json = HeaderTest::Matches(bytes_re("^application/json"));
        assert!(header("content-type", json.clone()).passes(&response));
        assert!(!header("x-cache", json).passes(&response));
        // A value that is not UTF-8 equals no text, yet a regex can match it.
        assert!(!header("x-latin1", HeaderTest::Equals("café".into())).passes(&response));
        assert!(!header("x-latin1", HeaderTest::Equals("caf\u{e9}".into())).passes(&response));
        assert!(header("x-latin1", HeaderTest::Matches(bytes_re("^caf"))).passes(&response));
        assert!(
            header("x-latin1", HeaderTest::Matches(bytes_re(r"(?-u)^caf\xe9$"))).passes(&response)
        );
    }

    #[test]
    fn body_checks_search_the_kept_body() {
        let response = Response::new(view(&[], BODY));
        assert!(check(CheckKind::BodyContains(Needle::new(r#""label""#))).passes(&response));
        assert!(!check(CheckKind::BodyContains(Needle::new("absent"))).passes(&response));
        // A literal, not a pattern.
        assert!(!check(CheckKind::BodyContains(Needle::new(r"\d+"))).passes(&response));
        assert!(check(CheckKind::BodyMatches(bytes_re(r#"id": ?\d+"#))).passes(&response));
        assert!(!check(CheckKind::BodyMatches(bytes_re(r#"id":\d{3}"#))).passes(&response));
        // A cut body: what was kept is searched, the rest is not there.
        let mut cut = view(&[], &BODY[..30]);
        cut.body_size = BODY.len() as u64;
        let cut = Response::new(cut);
        assert!(check(CheckKind::BodyContains(Needle::new(r#""label""#))).passes(&cut));
        assert!(!check(CheckKind::BodyContains(Needle::new(r#""tags""#))).passes(&cut));
        // Bytes that are not UTF-8 are searched too.
        let binary = Response::new(view(&[], b"\xff\xfeok\x00"));
        assert!(check(CheckKind::BodyContains(Needle::new("ok"))).passes(&binary));
    }

    #[test]
    fn json_exists_and_equals_compare_as_json() {
        let response = Response::new(view(&[], BODY));
        assert!(json_check("$.id", JsonTest::Exists).passes(&response));
        assert!(json_check("$.none", JsonTest::Exists).passes(&response));
        assert!(!json_check("$.missing", JsonTest::Exists).passes(&response));
        assert!(equals("$.id", json!(7)).passes(&response));
        assert!(equals("$.id", json!(7.0)).passes(&response));
        assert!(!equals("$.id", json!("7")).passes(&response));
        assert!(!equals("$.id", json!(8)).passes(&response));
        assert!(equals("$.n", json!("1")).passes(&response));
        assert!(!equals("$.n", json!(1)).passes(&response));
        assert!(equals("$.price", json!(1)).passes(&response));
        assert!(!equals("$.price", json!(1.5)).passes(&response));
        assert!(equals("$.ok", json!(false)).passes(&response));
        assert!(!equals("$.ok", json!("false")).passes(&response));
        assert!(equals("$.none", json!(null)).passes(&response));
        assert!(equals("$.tags", json!(["a", "b"])).passes(&response));
        assert!(!equals("$.tags", json!(["b", "a"])).passes(&response));
        assert!(equals("$.owner", json!({"age": 30.0, "name": "ann"})).passes(&response));
        assert!(!equals("$.owner", json!({"name": "ann"})).passes(&response));
        assert!(
            equals("$.tags[*]", json!("a")).passes(&response),
            "first node"
        );
        assert!(equals("$.label", json!("x-1")).passes(&response));
    }

    #[test]
    fn json_matches_and_length() {
        let response = Response::new(view(&[], BODY));
        let matches = |path: &str, pattern: &str| {
            json_check(path, JsonTest::Matches(regex::Regex::new(pattern).unwrap()))
                .passes(&response)
        };
        assert!(matches("$.label", "^x-"));
        assert!(!matches("$.label", "^y"));
        assert!(matches("$.id", r"^\d+$"), "a number as its text");
        assert!(matches("$.price", r"^1\.0$"), "a float as its JSON text");
        assert!(matches("$.ok", "^false$"));
        assert!(!matches("$.none", ".*"));
        assert!(!matches("$.tags", ".*"));
        assert!(!matches("$.missing", ".*"));
        let length = |path: &str, n: usize| json_check(path, JsonTest::Length(n)).passes(&response);
        assert!(length("$.tags", 2));
        assert!(!length("$.tags", 3));
        assert!(length("$.owner", 2));
        assert!(length("$.word", 5), "characters, not bytes");
        assert!(!length("$.word", 6));
        assert!(!length("$.id", 1));
        assert!(!length("$.missing", 0));
    }

    #[test]
    fn json_checks_fail_on_a_body_that_is_not_whole_json() {
        let html = Response::new(view(&[], b"<p>{\"id\": 7}</p>"));
        assert!(!json_check("$.id", JsonTest::Exists).passes(&html));
        let mut cut = view(&[], b"7");
        cut.body_size = 3;
        assert!(!json_check("$", JsonTest::Exists).passes(&Response::new(cut)));
    }

    #[test]
    fn body_size_uses_the_whole_size_and_latency_its_bound() {
        let mut cut = view(&[], b"abc");
        cut.body_size = 100;
        let response = Response::new(cut);
        let size = |min, max| check(CheckKind::BodySize { min, max }).passes(&response);
        assert!(size(None, Some(100)));
        assert!(!size(None, Some(99)));
        assert!(size(Some(100), None));
        assert!(!size(Some(101), None));
        assert!(size(Some(50), Some(150)));
        let latency = |ms| check(CheckKind::Latency(Duration::from_millis(ms))).passes(&response);
        assert!(latency(300), "the bound itself passes");
        assert!(latency(301));
        assert!(!latency(299));
    }

    #[test]
    fn only_json_checks_parse_the_body() {
        let headers = headers();
        let response = Response::new(view(&headers, BODY));
        assert!(status(&[201], &[]).passes(&response));
        assert!(check(CheckKind::BodyContains(Needle::new("id"))).passes(&response));
        assert!(response.json_parsed().is_none());
        assert!(json_check("$.id", JsonTest::Exists).passes(&response));
        assert!(response.json_parsed().is_some());
    }

    #[test]
    fn default_names_read_as_the_check() {
        let name = |check: Check| check.name;
        assert_eq!(name(status(&[201], &[])), "status 201");
        assert_eq!(name(status(&[], &[2])), "status 2xx");
        assert_eq!(name(status(&[200, 201], &[])), "status in [200, 201]");
        assert_eq!(name(status(&[200], &[3])), "status in [200, 3xx]");
        assert_eq!(
            name(header("content-type", HeaderTest::Present)),
            "header content-type present"
        );
        assert_eq!(
            name(header("x-cache", HeaderTest::Equals("HIT".into()))),
            r#"header x-cache == "HIT""#
        );
        assert_eq!(
            name(header(
                "content-type",
                HeaderTest::Matches(bytes_re("^application/json"))
            )),
            r"header content-type =~ /^application\/json/"
        );
        assert_eq!(
            name(check(CheckKind::BodyContains(Needle::new("ok")))),
            r#"body contains "ok""#
        );
        assert_eq!(
            name(check(CheckKind::BodyContains(Needle::new("\"a\"\n")))),
            r#"body contains "\"a\"\n""#
        );
        assert_eq!(
            name(check(CheckKind::BodyMatches(bytes_re(r#"id":\d+"#)))),
            r#"body =~ /id":\d+/"#
        );
        // An escaped slash stays as written; a control character shows as an escape.
        assert_eq!(
            name(check(CheckKind::BodyMatches(bytes_re("a\\/b/c\t")))),
            r"body =~ /a\/b\/c\t/"
        );
        assert_eq!(name(equals("$.label", json!("x"))), r#"$.label == "x""#);
        assert_eq!(name(equals("$.id", json!(7))), "$.id == 7");
        assert_eq!(
            name(equals("$.tags", json!(["a", 1]))),
            r#"$.tags == ["a",1]"#
        );
        assert_eq!(name(json_check("$.id", JsonTest::Exists)), "$.id exists");
        assert_eq!(
            name(json_check("$.tags", JsonTest::Length(2))),
            "$.tags length 2"
        );
        assert_eq!(
            name(json_check(
                "$.label",
                JsonTest::Matches(regex::Regex::new("^x").unwrap())
            )),
            "$.label =~ /^x/"
        );
        let size = |min, max| name(check(CheckKind::BodySize { min, max }));
        assert_eq!(size(None, Some(65536)), "body size <= 65536 B");
        assert_eq!(size(Some(10), None), "body size >= 10 B");
        assert_eq!(size(Some(10), Some(20)), "body size >= 10 B and <= 20 B");
        let latency = |d| name(check(CheckKind::Latency(d)));
        assert_eq!(latency(Duration::from_millis(300)), "latency <= 300ms");
        assert_eq!(latency(Duration::from_micros(1500)), "latency <= 1.5ms");
        assert_eq!(latency(Duration::from_millis(2500)), "latency <= 2.5s");
        assert_eq!(latency(Duration::from_micros(250)), "latency <= 250µs");
        assert_eq!(
            Check::new(
                CheckKind::Latency(Duration::from_millis(300)),
                Some("fast".into())
            )
            .name,
            "fast"
        );
    }
}
