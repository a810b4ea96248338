//! A flow step's `capture:` and `check:` as written, and their validation
//! into [`crate::flow::Capture`] and [`crate::flow::Check`]: JSONPaths and
//! regexes compiled, variable names checked, one subject per check, and no
//! status check that the step's `expect_status` makes pointless. Part of
//! [`super::resolve`].

// Nothing reads flows yet: `resolve` calls `captures` and `checks` (and
// adds `KEYS` to its own) once it parses `flows:`; then this goes.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::model::Text;
use super::resolve::Validator;
use super::{Position, nearest};
use crate::flow::{Capture, CaptureSource, Check, CheckKind, HeaderTest, JsonTest, Needle};

/// The keys of a capture, a check and a check's `body_size`, for "did you
/// mean" on unknown keys (the YAML error's `keys`).
pub(super) const KEYS: [&[&str]; 3] = [CAPTURE_KEYS, CHECK_KEYS, BODY_SIZE_KEYS];
const CAPTURE_KEYS: &[&str] = &["json", "regex", "group", "header", "cookie", "status"];
const CHECK_KEYS: &[&str] = &[
    "status",
    "header",
    "body_contains",
    "body_matches",
    "json",
    "body_size",
    "latency",
    "equals",
    "matches",
    "length",
    "name",
];
const BODY_SIZE_KEYS: &[&str] = &["min", "max"];

/// `NAME: {json: PATH}`, `{regex: RE, group: N}`, `{header: NAME}`,
/// `{cookie: NAME}` or `{status: true}`: exactly one source.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CaptureSpec {
    #[serde(default)]
    pub json: Option<Text>,
    #[serde(default)]
    pub regex: Option<Text>,
    /// The regex's group (default 1; 0 is the whole match).
    #[serde(default)]
    pub group: Option<Spanned<u32>>,
    #[serde(default)]
    pub header: Option<Text>,
    #[serde(default)]
    pub cookie: Option<Text>,
    #[serde(default)]
    pub status: Option<Spanned<bool>>,
}

/// One check of a step: one subject (`status`, `header`, `body_contains`,
/// `body_matches`, `json`, `body_size`, `latency`), what to test of it
/// (`equals`, `matches`, `length`) where that means something, and an
/// optional `name`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckSpec {
    /// `201`, `2xx`, or a list of them.
    #[serde(default)]
    pub status: Option<Spanned<StatusSpec>>,
    #[serde(default)]
    pub header: Option<Text>,
    #[serde(default)]
    pub body_contains: Option<Text>,
    #[serde(default)]
    pub body_matches: Option<Text>,
    #[serde(default)]
    pub json: Option<Text>,
    #[serde(default)]
    pub body_size: Option<Spanned<BodySizeSpec>>,
    #[serde(default)]
    pub latency: Option<Text>,
    /// Any YAML value, compared as JSON; `equals: null` is null, not absent.
    #[serde(default, deserialize_with = "present")]
    pub equals: Option<Spanned<serde_json::Value>>,
    #[serde(default)]
    pub matches: Option<Text>,
    #[serde(default)]
    pub length: Option<Spanned<u64>>,
    /// The check's row in the report (default: the check as it reads).
    #[serde(default)]
    pub name: Option<Text>,
}

/// `body_size: {min, max}`: bytes, or a size such as `64KiB`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BodySizeSpec {
    #[serde(default)]
    pub min: Option<Spanned<Scalar>>,
    #[serde(default)]
    pub max: Option<Spanned<Scalar>>,
}

/// A check's `status`: one code or class, or a list of them.
#[derive(Debug)]
pub(crate) enum StatusSpec {
    One(Scalar),
    List(Vec<Spanned<Scalar>>),
}

/// A scalar as written: a whole number (`201`, `65536`) or text (`2xx`,
/// `64KiB`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    Number(u64),
    Text(String),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Number(n) => write!(f, "{n}"),
            Scalar::Text(text) => f.write_str(text),
        }
    }
}

/// Reads a key that is there as `Some`, even when its value is null.
fn present<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Spanned<serde_json::Value>>, D::Error> {
    Spanned::deserialize(deserializer).map(Some)
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a whole number or text")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(u64::try_from(v).map_or_else(|_| Scalar::Text(v.to_string()), Scalar::Number))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_string()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_string()))
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

impl<'de> Deserialize<'de> for StatusSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Either;
        impl<'de> Visitor<'de> for Either {
            type Value = StatusSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a status code (200), a class (2xx) or a list of them")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StatusSpec, E> {
                ScalarVisitor.visit_u64(v).map(StatusSpec::One)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StatusSpec, E> {
                ScalarVisitor.visit_i64(v).map(StatusSpec::One)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<StatusSpec, E> {
                ScalarVisitor.visit_f64(v).map(StatusSpec::One)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StatusSpec, E> {
                ScalarVisitor.visit_str(v).map(StatusSpec::One)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StatusSpec, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(StatusSpec::List(items))
            }
        }
        deserializer.deserialize_any(Either)
    }
}

const CAPTURE_FORMS: &str = "give one of `json: \"$.id\"`, `regex: 'id\":(\\d+)'`, `header: Location`, `cookie: session` or `status: true`";
const JSONPATH_FORMS: &str =
    "a JSONPath (RFC 9535) starts at `$`: e.g. `$.id`, `$.items[0].name`, `$['a key']`";
const SUBJECTS: [&str; 7] = [
    "status",
    "header",
    "body_contains",
    "body_matches",
    "json",
    "body_size",
    "latency",
];

impl Validator<'_> {
    /// A step's `capture:`, each entry a variable and where to find it; an
    /// entry with an error is left out (the error recorded).
    pub(super) fn captures(
        &mut self,
        specs: &BTreeMap<String, Spanned<CaptureSpec>>,
    ) -> Vec<Capture> {
        specs
            .iter()
            .filter_map(|(var, spec)| self.capture(var, spec))
            .collect()
    }

    fn capture(&mut self, var: &str, spec: &Spanned<CaptureSpec>) -> Option<Capture> {
        let at = Self::at(spec);
        let mut ok = self.variable_name(var, at);
        let map = &spec.value;
        let given: Vec<&str> = [
            ("json", map.json.is_some()),
            ("regex", map.regex.is_some()),
            ("header", map.header.is_some()),
            ("cookie", map.cookie.is_some()),
            ("status", map.status.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, given)| given.then_some(key))
        .collect();
        let what = format!("capture `{var}`");
        match given.as_slice() {
            [] => {
                self.error(
                    at,
                    format!("{what}: nothing to capture from"),
                    Some(CAPTURE_FORMS.into()),
                );
                return None;
            }
            [_] => {}
            [first, second, ..] => {
                self.error(
                    at,
                    format!("{what} has `{first}` and `{second}`; a capture takes one of them"),
                    Some("one value per variable: split it into two captures".into()),
                );
                return None;
            }
        }
        if let Some(group) = &map.group
            && map.regex.is_none()
        {
            self.error(
                Self::at(group),
                format!("{what}: `group` goes with `regex`"),
                Some("remove `group`, or capture with `regex: '...'`".into()),
            );
            ok = false;
        }
        let source = if let Some(path) = &map.json {
            let (path, text) = self.json_path(path, &what)?;
            CaptureSource::Json { path, text }
        } else if let Some(pattern) = &map.regex {
            let regex = self.bytes_regex(pattern, &what)?;
            let group = map.group.as_ref().map_or(1, |g| g.value);
            // captures_len counts group 0, the whole match.
            let groups = regex.captures_len() - 1;
            if group as usize > groups {
                let at = map.group.as_ref().map_or(Self::at(pattern), Self::at);
                let hint = if groups == 0 {
                    "put the part to capture in parentheses, e.g. `id\":(\\d+)`, or write `group: 0` for the whole match".to_string()
                } else {
                    format!(
                        "groups count from 1 (0 is the whole match); this regex has 1 to {groups}"
                    )
                };
                self.error(
                    at,
                    format!(
                        "{what}: the regex has no group {group} ({})",
                        crate::units::count(groups, "group")
                    ),
                    Some(hint),
                );
                return None;
            }
            CaptureSource::Regex {
                regex,
                group: group as usize,
            }
        } else if let Some(name) = &map.header {
            CaptureSource::Header(self.header_name(name, &what)?)
        } else if let Some(name) = &map.cookie {
            let text = name.value.trim();
            if text.is_empty() || text.contains(|c: char| "=;, \t\"".contains(c) || c.is_control())
            {
                self.error(
                    Self::at(name),
                    format!("{what}: `{}` is not a cookie name", name.value),
                    Some("the name before `=` in the response's `Set-Cookie`, e.g. `cookie: session`".into()),
                );
                return None;
            }
            CaptureSource::Cookie(text.to_string())
        } else {
            let status = map.status.as_ref().expect("the one source given");
            if !status.value {
                self.error(
                    Self::at(status),
                    format!("{what}: `status: false` captures nothing"),
                    Some("write `status: true` to capture the status code".into()),
                );
                return None;
            }
            CaptureSource::Status
        };
        ok.then(|| Capture {
            var: var.to_string(),
            source,
        })
    }

    /// True when `var` can be a variable: an identifier that is not a
    /// template function's name (`{{ uuid }}` would be ambiguous).
    fn variable_name(&mut self, var: &str, at: Option<Position>) -> bool {
        let mut chars = var.chars();
        let identifier = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !identifier {
            self.error(
                at,
                format!("capture `{var}`: a variable's name is a letter or `_`, then letters, digits or `_`"),
                Some("e.g. `token`, `item_id`".into()),
            );
            return false;
        }
        if crate::plan::template::FUNCTIONS.contains(&var) {
            self.error(
                at,
                format!("capture `{var}`: `{var}` is a template function (`{{{{ {var} }}}}`)"),
                Some(format!("name the variable otherwise, e.g. `{var}_value`")),
            );
            return false;
        }
        true
    }

    /// A compiled JSONPath and its text; None (the error recorded) when it
    /// does not compile.
    fn json_path(
        &mut self,
        text: &Text,
        what: &str,
    ) -> Option<(serde_json_path::JsonPath, String)> {
        let path = &text.value;
        if path.trim().is_empty() {
            self.error(
                Self::at(text),
                format!("{what}: the JSONPath is empty"),
                Some(JSONPATH_FORMS.into()),
            );
            return None;
        }
        match serde_json_path::JsonPath::parse(path) {
            Ok(compiled) => Some((compiled, path.clone())),
            Err(e) => {
                self.error(
                    Self::at(text),
                    format!(
                        "{what}: `{path}` is not a JSONPath: {}",
                        jsonpath_problem(path, &e)
                    ),
                    Some(JSONPATH_FORMS.into()),
                );
                None
            }
        }
    }

    fn bytes_regex(&mut self, text: &Text, what: &str) -> Option<regex::bytes::Regex> {
        match regex::bytes::Regex::new(&text.value) {
            Ok(regex) => Some(regex),
            Err(e) => {
                self.regex_error(text, what, &e);
                None
            }
        }
    }

    fn text_regex(&mut self, text: &Text, what: &str) -> Option<regex::Regex> {
        match regex::Regex::new(&text.value) {
            Ok(regex) => Some(regex),
            Err(e) => {
                self.regex_error(text, what, &e);
                None
            }
        }
    }

    fn regex_error(&mut self, text: &Text, what: &str, e: &regex::Error) {
        self.error(
            Self::at(text),
            format!("{what}: not a regular expression: {e}"),
            Some("regexes are searched in the text (Rust regex syntax); quote them in single quotes: `'id\":(\\d+)'`".into()),
        );
    }

    /// A header's name, lower case; None (the error recorded) when it is
    /// not one.
    fn header_name(&mut self, name: &Text, what: &str) -> Option<String> {
        match http::HeaderName::from_bytes(name.value.as_bytes()) {
            Ok(header) => Some(header.as_str().to_string()),
            Err(_) => {
                self.error(
                    Self::at(name),
                    format!("{what}: `{}` is not a header name", name.value),
                    None,
                );
                None
            }
        }
    }
}

impl Validator<'_> {
    /// A step's `check:`; a check with an error is left out (the error
    /// recorded). `expect_status` is the step's: a status check it makes
    /// pointless (the response would already have failed the step) is an
    /// error.
    pub(super) fn checks(
        &mut self,
        specs: &[Spanned<CheckSpec>],
        expect_status: Option<&[u16]>,
    ) -> Vec<Check> {
        let mut out: Vec<Check> = Vec::new();
        for spec in specs {
            let Some(check) = self.check(spec, expect_status) else {
                continue;
            };
            if out.iter().any(|c| c.name == check.name) {
                let at = spec.value.name.as_ref().map_or(Self::at(spec), Self::at);
                self.error(
                    at,
                    format!("a second check named `{}` in this step", check.name),
                    Some("each check is a row of the checks report: give one of them a `name:`, or remove the repeat".into()),
                );
                continue;
            }
            out.push(check);
        }
        out
    }

    fn check(&mut self, spec: &Spanned<CheckSpec>, expect_status: Option<&[u16]>) -> Option<Check> {
        let at = Self::at(spec);
        let map = &spec.value;
        let subjects: Vec<&str> = SUBJECTS
            .into_iter()
            .zip([
                map.status.is_some(),
                map.header.is_some(),
                map.body_contains.is_some(),
                map.body_matches.is_some(),
                map.json.is_some(),
                map.body_size.is_some(),
                map.latency.is_some(),
            ])
            .filter_map(|(key, given)| given.then_some(key))
            .collect();
        let subject = match subjects.as_slice() {
            [] => {
                self.error(
                    at,
                    format!(
                        "a check needs a subject: one of `{}`",
                        SUBJECTS.join("`, `")
                    ),
                    Some(
                        "e.g. `- status: 200`, `- {json: \"$.id\"}` or `- {latency: 300ms}`".into(),
                    ),
                );
                return None;
            }
            [one] => *one,
            [first, second, ..] => {
                self.error(
                    at,
                    format!("a check has one subject; this one has `{first}` and `{second}`"),
                    Some("split it into two checks".into()),
                );
                return None;
            }
        };
        let tests: Vec<(&str, Option<Position>)> = [
            ("equals", map.equals.as_ref().and_then(Self::at)),
            ("matches", map.matches.as_ref().and_then(Self::at)),
            ("length", map.length.as_ref().and_then(Self::at)),
        ]
        .into_iter()
        .zip([
            map.equals.is_some(),
            map.matches.is_some(),
            map.length.is_some(),
        ])
        .filter_map(|(test, given)| given.then_some(test))
        .collect();
        if let [(first, _), (second, at), ..] = tests.as_slice() {
            self.error(
                *at,
                format!("`{first}` and `{second}` do not go together"),
                Some("a check tests one thing: split it into two checks".into()),
            );
            return None;
        }
        if let Some((test, test_at)) = tests.first() {
            let fits = match *test {
                "length" => subject == "json",
                _ => subject == "json" || subject == "header",
            };
            if !fits {
                let goes_with = if *test == "length" {
                    "`json`"
                } else {
                    "`header` or `json`"
                };
                let hint = match (*test, subject) {
                    ("matches", "body_contains") => {
                        Some("a regex over the body is `body_matches: '...'`".to_string())
                    }
                    ("equals", "status") => {
                        Some("name the status itself: `status: 200`".to_string())
                    }
                    _ => None,
                };
                self.error(
                    *test_at,
                    format!("`{test}` goes with {goes_with}, not `{subject}`"),
                    hint,
                );
                return None;
            }
        }
        let kind = match subject {
            "status" => self.status_check(map.status.as_ref()?, expect_status)?,
            "header" => {
                let name = self.header_name(map.header.as_ref()?, "check")?;
                let test = if let Some(value) = &map.equals {
                    let text = match &value.value {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Number(n) => n.to_string(),
                        serde_json::Value::Bool(b) => b.to_string(),
                        _ => {
                            self.error(
                                Self::at(value),
                                "a header's `equals` is text, not a list, a map or null",
                                Some("e.g. `{header: x-cache, equals: HIT}`".into()),
                            );
                            return None;
                        }
                    };
                    HeaderTest::Equals(text)
                } else if let Some(pattern) = &map.matches {
                    HeaderTest::Matches(self.bytes_regex(pattern, "check `matches`")?)
                } else {
                    HeaderTest::Present
                };
                CheckKind::Header { name, test }
            }
            "body_contains" => {
                CheckKind::BodyContains(Needle::new(&map.body_contains.as_ref()?.value))
            }
            "body_matches" => CheckKind::BodyMatches(
                self.bytes_regex(map.body_matches.as_ref()?, "check `body_matches`")?,
            ),
            "json" => {
                let (path, text) = self.json_path(map.json.as_ref()?, "check")?;
                let test = if let Some(value) = &map.equals {
                    JsonTest::Equals(value.value.clone())
                } else if let Some(pattern) = &map.matches {
                    JsonTest::Matches(self.text_regex(pattern, "check `matches`")?)
                } else if let Some(length) = &map.length {
                    let Ok(length) = usize::try_from(length.value) else {
                        self.error(Self::at(length), "`length` is too large", None);
                        return None;
                    };
                    JsonTest::Length(length)
                } else {
                    JsonTest::Exists
                };
                CheckKind::Json { path, text, test }
            }
            "body_size" => self.body_size(map.body_size.as_ref()?)?,
            _ => CheckKind::Latency(self.duration(map.latency.as_ref()?, "check `latency`")?),
        };
        let name = match &map.name {
            Some(name) if name.value.trim().is_empty() => {
                self.error(
                    Self::at(name),
                    "a check's `name` is empty",
                    Some("name it, or leave `name` out for the check's own text".into()),
                );
                return None;
            }
            Some(name) => Some(name.value.trim().to_string()),
            None => None,
        };
        Some(Check::new(kind, name))
    }

    fn status_check(
        &mut self,
        spec: &Spanned<StatusSpec>,
        expect_status: Option<&[u16]>,
    ) -> Option<CheckKind> {
        let items: Vec<(&Scalar, Option<Position>)> = match &spec.value {
            StatusSpec::One(item) => vec![(item, Self::at(spec))],
            StatusSpec::List(items) => items.iter().map(|i| (&i.value, Self::at(i))).collect(),
        };
        if items.is_empty() {
            self.error(
                Self::at(spec),
                "`status: []` names no status",
                Some("e.g. `status: 200`, `status: [200, 201]` or `status: 2xx`".into()),
            );
            return None;
        }
        let (mut codes, mut classes) = (Vec::new(), Vec::new());
        let mut ok = true;
        for (item, at) in items {
            match status_item(item) {
                Ok(Status::Code(code)) => {
                    if !self.status_can_succeed(&code.to_string(), at, expect_status, |s| s == code)
                    {
                        ok = false;
                    }
                    codes.push(code);
                }
                Ok(Status::Class(class)) => {
                    let text = format!("{class}xx");
                    let of_class = |s: u16| s / 100 == u16::from(class);
                    if !self.status_can_succeed(&text, at, expect_status, of_class) {
                        ok = false;
                    }
                    classes.push(class);
                }
                Err(message) => {
                    self.error(
                        at,
                        message,
                        Some("e.g. `status: 200`, `status: [200, 201]` or `status: 2xx`".into()),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(CheckKind::Status { codes, classes })
    }

    /// False (the error recorded) when no status `wanted` takes is a
    /// success of the step: such a response fails the step before its
    /// checks run, so the check could never see it.
    fn status_can_succeed(
        &mut self,
        text: &str,
        at: Option<Position>,
        expect_status: Option<&[u16]>,
        wanted: impl Fn(u16) -> bool,
    ) -> bool {
        match expect_status {
            Some(expected) if !expected.iter().any(|s| wanted(*s)) => {
                let listed = expected
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                self.error(
                    at,
                    format!("check `status {text}`: the step's `expect_status` ([{listed}]) leaves out {text}"),
                    Some(format!(
                        "a response with a status outside `expect_status` fails the step before its checks run; add {} to `expect_status`",
                        if text.ends_with("xx") { "the statuses you expect" } else { text }
                    )),
                );
                false
            }
            None if !(100..400).any(&wanted) => {
                let example = if text.ends_with("xx") {
                    "404".to_string()
                } else {
                    text.to_string()
                };
                self.error(
                    at,
                    format!("check `status {text}`: {text} is not a success of this step (without `expect_status`, success is a status below 400)"),
                    Some(format!(
                        "a response that is not a success fails the step before its checks run; the step's `expect_status` must list it, e.g. `expect_status: [{example}]`"
                    )),
                );
                false
            }
            _ => true,
        }
    }

    fn body_size(&mut self, spec: &Spanned<BodySizeSpec>) -> Option<CheckKind> {
        let map = &spec.value;
        if map.min.is_none() && map.max.is_none() {
            self.error(
                Self::at(spec),
                "`body_size` needs `min` or `max` (bytes)",
                Some(
                    "e.g. `{body_size: {max: 65536}}` or `{body_size: {min: 1, max: 64KiB}}`"
                        .into(),
                ),
            );
            return None;
        }
        let bound = |v: &mut Self, key: &str, value: &Option<Spanned<Scalar>>| match value {
            None => Some(None),
            Some(value) => match &value.value {
                Scalar::Number(n) => Some(Some(*n)),
                Scalar::Text(text) => match crate::units::parse_bytes(text) {
                    Ok(bytes) => Some(Some(bytes)),
                    Err(e) => {
                        v.error(
                            Self::at(value),
                            format!("`body_size` `{key}`: {e}"),
                            Some("a number of bytes (65536) or a size (64KiB)".into()),
                        );
                        None
                    }
                },
            },
        };
        let min = bound(self, "min", &map.min);
        let max = bound(self, "max", &map.max);
        let (min, max) = (min?, max?);
        if let (Some(low), Some(high)) = (min, max)
            && low > high
        {
            self.error(
                map.min.as_ref().and_then(Self::at),
                format!("`body_size` `min` ({low} B) is more than `max` ({high} B)"),
                Some("swap them: `min` is the smallest size".into()),
            );
            return None;
        }
        Some(CheckKind::BodySize { min, max })
    }
}

/// What serde_json_path found wrong, and where: its message (unless it
/// is the bare "parser error") and the character it stopped at, with the
/// text from there.
fn jsonpath_problem(path: &str, error: &serde_json_path::ParseError) -> String {
    // The position is a byte offset from 0.
    let offset = error.position().min(path.len());
    let (before, rest) = match (path.get(..offset), path.get(offset..)) {
        (Some(before), Some(rest)) => (before, rest),
        _ => (path, ""),
    };
    let character = before.chars().count() + 1;
    let problem = match error.message() {
        "parser error" => "it cannot be read",
        message => message,
    };
    if rest.is_empty() {
        format!("{problem}, at its end")
    } else {
        format!("{problem}, at character {character} (`{rest}`)")
    }
}

/// One entry of a status check.
enum Status {
    Code(u16),
    /// 2 for `2xx`.
    Class(u8),
}

/// A status code (100 to 599) or class (`1xx` to `5xx`), or the message
/// saying why not.
fn status_item(item: &Scalar) -> Result<Status, String> {
    let text = match item {
        Scalar::Number(n) => {
            return u16::try_from(*n)
                .ok()
                .filter(|code| (100..=599).contains(code))
                .map(Status::Code)
                .ok_or_else(|| format!("{n} is not an HTTP status code (100 to 599)"));
        }
        Scalar::Text(text) => text.trim(),
    };
    if let Ok(n) = text.parse::<u64>() {
        return status_item(&Scalar::Number(n));
    }
    let lower = text.to_ascii_lowercase();
    if let Some(digit) = lower.strip_suffix("xx")
        && digit.len() == 1
        && let Some(class) = digit.chars().next().and_then(|c| c.to_digit(10))
    {
        return if (1..=5).contains(&class) {
            Ok(Status::Class(class as u8))
        } else {
            Err(format!("`{text}` is not a status class (1xx to 5xx)"))
        };
    }
    let near = nearest(&lower, ["1xx", "2xx", "3xx", "4xx", "5xx"]);
    Err(match near {
        Some(class) => format!("`{text}` is not a status code or class; did you mean `{class}`?"),
        None => format!("`{text}` is not a status code or class"),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::time::Duration;

    use serde::Deserialize;
    use serde_saphyr::Spanned;

    use super::{CaptureSpec, CheckSpec, KEYS};
    use crate::flow::{Capture, CaptureSource, Check, CheckKind, HeaderTest, JsonTest};
    use crate::scenario::ScenarioError;
    use crate::scenario::resolve::Validator;

    /// The part of a step these validate, as a step has it.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Step {
        #[serde(default)]
        capture: BTreeMap<String, Spanned<CaptureSpec>>,
        #[serde(default)]
        check: Vec<Spanned<CheckSpec>>,
        #[serde(default)]
        expect_status: Option<Vec<u16>>,
    }

    /// An error as `line:column: message (hint: ...)`.
    fn said(error: &ScenarioError) -> String {
        let at = error
            .position
            .map_or(String::new(), |p| format!("{}:{}: ", p.line, p.column));
        let hint = error
            .hint
            .as_ref()
            .map_or(String::new(), |h| format!(" (hint: {h})"));
        format!("{at}{}{hint}", error.message)
    }

    /// Validates `source` (a step's `capture`, `check`, `expect_status`).
    fn step(source: &str) -> Result<(Vec<Capture>, Vec<Check>), Vec<String>> {
        let file = Path::new("s.yaml");
        let parsed: Step = serde_saphyr::from_str(source).map_err(|e| {
            vec![said(&crate::diag::yaml::error_with_keys(
                file, source, &e, &KEYS,
            ))]
        })?;
        let mut v = Validator {
            file,
            source,
            errors: Vec::new(),
            alert_names: None,
            proxy_modes: BTreeMap::new(),
        };
        let captures = v.captures(&parsed.capture);
        let checks = v.checks(&parsed.check, parsed.expect_status.as_deref());
        if v.errors.is_empty() {
            Ok((captures, checks))
        } else {
            Err(v.errors.iter().map(said).collect())
        }
    }

    fn errors(source: &str) -> Vec<String> {
        match step(source) {
            Ok(_) => panic!("no error for {source}"),
            Err(errors) => errors,
        }
    }

    fn checks(source: &str) -> Vec<Check> {
        step(source).unwrap_or_else(|e| panic!("{source}: {e:?}")).1
    }

    fn captures(source: &str) -> Vec<Capture> {
        step(source).unwrap_or_else(|e| panic!("{source}: {e:?}")).0
    }

    fn source(capture: &Capture) -> String {
        match &capture.source {
            CaptureSource::Json { text, .. } => format!("json {text}"),
            CaptureSource::Regex { regex, group } => {
                format!("regex {} group {group}", regex.as_str())
            }
            CaptureSource::Header(name) => format!("header {name}"),
            CaptureSource::Cookie(name) => format!("cookie {name}"),
            CaptureSource::Status => "status".into(),
        }
    }

    #[test]
    fn each_capture_form_reads_as_its_source() {
        let got: Vec<(String, String)> = captures(
            r#"capture:
  id: {json: "$.id"}
  where: {header: Location}
  sid: {cookie: session}
  code: {status: true}
  num: {regex: 'id":(\d+)'}
  whole: {regex: 'id":\d+', group: 0}
  _second: {regex: '(a)(b)', group: 2}
"#,
        )
        .iter()
        .map(|c| (c.var.clone(), source(c)))
        .collect();
        let want = [
            ("_second", "regex (a)(b) group 2"),
            ("code", "status"),
            ("id", "json $.id"),
            ("num", r#"regex id":(\d+) group 1"#),
            ("sid", "cookie session"),
            ("where", "header location"),
            ("whole", r#"regex id":\d+ group 0"#),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_capture_name_is_an_identifier_and_not_a_template_function() {
        assert_eq!(
            errors("capture: {1x: {status: true}, a-b: {status: true}, uuid: {status: true}}"),
            [
                "1:15: capture `1x`: a variable's name is a letter or `_`, then letters, digits or `_` (hint: e.g. `token`, `item_id`)",
                "1:36: capture `a-b`: a variable's name is a letter or `_`, then letters, digits or `_` (hint: e.g. `token`, `item_id`)",
                "1:58: capture `uuid`: `uuid` is a template function (`{{ uuid }}`) (hint: name the variable otherwise, e.g. `uuid_value`)",
            ]
        );
    }

    #[test]
    fn a_capture_takes_exactly_one_source() {
        assert_eq!(
            errors("capture: {x: {}}"),
            [
                "1:14: capture `x`: nothing to capture from (hint: give one of `json: \"$.id\"`, `regex: 'id\":(\\d+)'`, `header: Location`, `cookie: session` or `status: true`)"
            ]
        );
        assert_eq!(
            errors("capture: {x: {json: $.id, header: Location}}"),
            [
                "1:14: capture `x` has `json` and `header`; a capture takes one of them (hint: one value per variable: split it into two captures)"
            ]
        );
        assert_eq!(
            errors("capture: {x: {status: false}}"),
            [
                "1:23: capture `x`: `status: false` captures nothing (hint: write `status: true` to capture the status code)"
            ]
        );
        assert_eq!(
            errors("capture: {x: {json: $.id, group: 1}}"),
            [
                "1:34: capture `x`: `group` goes with `regex` (hint: remove `group`, or capture with `regex: '...'`)"
            ]
        );
    }

    #[test]
    fn capture_paths_regexes_and_groups_must_compile() {
        assert_eq!(
            errors(r#"capture: {x: {json: "$.a["}}"#),
            [
                "1:21: capture `x`: `$.a[` is not a JSONPath: it cannot be read, at character 4 (`[`) (hint: a JSONPath (RFC 9535) starts at `$`: e.g. `$.id`, `$.items[0].name`, `$['a key']`)"
            ]
        );
        assert_eq!(
            errors(r#"capture: {x: {json: "$.a[?@.x ==]"}}"#),
            [
                "1:21: capture `x`: `$.a[?@.x ==]` is not a JSONPath: in long-hand segment, expected closing ']', at character 10 (`==]`) (hint: a JSONPath (RFC 9535) starts at `$`: e.g. `$.id`, `$.items[0].name`, `$['a key']`)"
            ]
        );
        assert_eq!(
            errors(r#"capture: {x: {json: ""}}"#),
            [
                "1:21: capture `x`: the JSONPath is empty (hint: a JSONPath (RFC 9535) starts at `$`: e.g. `$.id`, `$.items[0].name`, `$['a key']`)"
            ]
        );
        assert_eq!(
            errors("capture: {x: {regex: '(a'}}"),
            [
                "1:22: capture `x`: not a regular expression: regex parse error:\n    (a\n    ^\nerror: unclosed group (hint: regexes are searched in the text (Rust regex syntax); quote them in single quotes: `'id\":(\\d+)'`)"
            ]
        );
        assert_eq!(
            errors(r#"capture: {x: {regex: 'id":\d+'}}"#),
            [
                "1:22: capture `x`: the regex has no group 1 (0 groups) (hint: put the part to capture in parentheses, e.g. `id\":(\\d+)`, or write `group: 0` for the whole match)"
            ]
        );
        assert_eq!(
            errors("capture: {x: {regex: '(a)', group: 2}}"),
            [
                "1:36: capture `x`: the regex has no group 2 (1 group) (hint: groups count from 1 (0 is the whole match); this regex has 1 to 1)"
            ]
        );
    }

    #[test]
    fn capture_header_and_cookie_names_must_be_names() {
        assert_eq!(
            errors(r#"capture: {x: {header: "bad name"}, y: {cookie: "a=b"}, z: {cookie: ""}}"#),
            [
                "1:23: capture `x`: `bad name` is not a header name",
                "1:48: capture `y`: `a=b` is not a cookie name (hint: the name before `=` in the response's `Set-Cookie`, e.g. `cookie: session`)",
                "1:68: capture `z`: `` is not a cookie name (hint: the name before `=` in the response's `Set-Cookie`, e.g. `cookie: session`)",
            ]
        );
    }

    #[test]
    fn unknown_keys_say_the_nearest() {
        assert_eq!(
            errors("capture: {x: {jsn: $.a}}"),
            [
                "1:15: unknown key `jsn`, expected one of json, regex, group, header, cookie, status (hint: did you mean `json`?)"
            ]
        );
        assert_eq!(
            errors("check: [{json: $.a, equal: 1}]"),
            [
                "1:21: unknown key `equal`, expected one of status, header, body_contains, body_matches, json, body_size, latency, equals, matches, length, name (hint: did you mean `equals`?)"
            ]
        );
        assert_eq!(
            errors("check: [{body_size: {maxi: 1}}]"),
            ["1:22: unknown key `maxi`, expected one of min, max (hint: did you mean `max`?)"]
        );
    }

    #[test]
    fn keys_are_the_models_fields() {
        // serde lists a struct's fields on an unknown key: KEYS must say the same.
        for (source, keys) in [
            ("capture: {x: {zzz: 1}}", KEYS[0]),
            ("check: [{zzz: 1}]", KEYS[1]),
            ("check: [{body_size: {zzz: 1}}]", KEYS[2]),
        ] {
            let error = &errors(source)[0];
            let listed = error
                .split_once("expected one of ")
                .map(|(_, rest)| rest.split(" (hint").next().unwrap_or(rest))
                .unwrap_or_else(|| panic!("{error}"));
            assert_eq!(listed, keys.join(", "), "{source}");
        }
    }

    /// The checks of `check:` lines as (name, kind's text).
    fn named(source: &str) -> Vec<(String, String)> {
        checks(source)
            .into_iter()
            .map(|c| (c.name, c.kind.to_string()))
            .collect()
    }

    #[test]
    fn each_check_form_reads_as_its_kind_and_default_name() {
        let got = named(
            r#"expect_status: [200, 201, 204]
check:
  - status: 201
  - status: [200, 201]
  - status: 2xx
  - status: "204"
  - {body_contains: '"label"'}
  - {header: Content-Type, matches: "^application/json"}
  - {json: "$.tags", length: 2}
  - {json: "$.id"}
  - {json: "$.label", matches: "^x"}
  - {json: "$.label", equals: "x"}
  - {json: "$.n", equals: 1}
  - {json: "$.s", equals: "1"}
  - {json: "$.none", equals: null}
  - {json: "$.tags", equals: [a, 1]}
  - {body_size: {max: 65536}}
  - {body_size: {min: 1, max: 64KiB}}
  - {body_matches: 'id":\d+'}
  - {header: x-cache}
  - {header: x-cache, equals: HIT}
  - {header: x-count, equals: 3}
  - {latency: 300ms, name: "read is fast"}
  - {latency: 1.5s}
"#,
        );
        let want = [
            "status 201",
            "status in [200, 201]",
            "status 2xx",
            "status 204",
            r#"body contains "\"label\"""#,
            r"header content-type =~ /^application\/json/",
            "$.tags length 2",
            "$.id exists",
            "$.label =~ /^x/",
            r#"$.label == "x""#,
            "$.n == 1",
            r#"$.s == "1""#,
            "$.none == null",
            r#"$.tags == ["a",1]"#,
            "body size <= 65536 B",
            "body size >= 1 B and <= 65536 B",
            r#"body =~ /id":\d+/"#,
            "header x-cache present",
            r#"header x-cache == "HIT""#,
            r#"header x-count == "3""#,
            "latency <= 300ms",
            "latency <= 1.5s",
        ];
        let names: Vec<&str> = got.iter().map(|(name, _)| name.as_str()).collect();
        let kinds: Vec<&str> = got.iter().map(|(_, kind)| kind.as_str()).collect();
        assert_eq!(kinds, want);
        let mut named_want = want.to_vec();
        named_want[20] = "read is fast";
        assert_eq!(names, named_want);
    }

    #[test]
    fn yaml_types_are_json_types() {
        let kinds: Vec<CheckKind> = checks(
            "check: [{json: $.a, equals: 1}, {json: $.b, equals: '1'}, {json: $.c, equals: 1.5}, {json: $.d, equals: ~}, {json: $.e, equals: true}]",
        )
        .into_iter()
        .map(|c| c.kind)
        .collect();
        let values: Vec<serde_json::Value> = kinds
            .into_iter()
            .map(|kind| match kind {
                CheckKind::Json {
                    test: JsonTest::Equals(value),
                    ..
                } => value,
                other => panic!("{other}"),
            })
            .collect();
        assert_eq!(
            values,
            [
                serde_json::json!(1),
                serde_json::json!("1"),
                serde_json::json!(1.5),
                serde_json::Value::Null,
                serde_json::json!(true)
            ]
        );
        match &checks("check: [{header: X-A, equals: 'v 1'}]")[0].kind {
            CheckKind::Header {
                name,
                test: HeaderTest::Equals(value),
            } => assert_eq!((name.as_str(), value.as_str()), ("x-a", "v 1")),
            other => panic!("{other}"),
        }
        match &checks("check: [{latency: 250ms}]")[0].kind {
            CheckKind::Latency(bound) => assert_eq!(*bound, Duration::from_millis(250)),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn a_check_has_exactly_one_subject() {
        assert_eq!(
            errors("check: [{name: x}]"),
            [
                "1:9: a check needs a subject: one of `status`, `header`, `body_contains`, `body_matches`, `json`, `body_size`, `latency` (hint: e.g. `- status: 200`, `- {json: \"$.id\"}` or `- {latency: 300ms}`)"
            ]
        );
        assert_eq!(
            errors("check: [{header: x-a, json: $.a}]"),
            [
                "1:9: a check has one subject; this one has `header` and `json` (hint: split it into two checks)"
            ]
        );
    }

    #[test]
    fn equals_matches_and_length_go_where_they_mean_something() {
        assert_eq!(
            errors("check: [{json: $.a, equals: 1, matches: x}]"),
            [
                "1:41: `equals` and `matches` do not go together (hint: a check tests one thing: split it into two checks)"
            ]
        );
        assert_eq!(
            errors("check: [{json: $.a, matches: x, length: 2}]"),
            [
                "1:41: `matches` and `length` do not go together (hint: a check tests one thing: split it into two checks)"
            ]
        );
        assert_eq!(
            errors("check: [{status: 200, equals: 200}]"),
            [
                "1:31: `equals` goes with `header` or `json`, not `status` (hint: name the status itself: `status: 200`)"
            ]
        );
        assert_eq!(
            errors("check: [{body_contains: ok, matches: o+}]"),
            [
                "1:38: `matches` goes with `header` or `json`, not `body_contains` (hint: a regex over the body is `body_matches: '...'`)"
            ]
        );
        assert_eq!(
            errors("check: [{header: x-a, length: 2}]"),
            ["1:31: `length` goes with `json`, not `header`"]
        );
        assert_eq!(
            errors("check: [{header: x-a, equals: [a]}]"),
            [
                "1:31: a header's `equals` is text, not a list, a map or null (hint: e.g. `{header: x-cache, equals: HIT}`)"
            ]
        );
    }

    #[test]
    fn check_paths_and_regexes_must_compile() {
        assert_eq!(
            errors("check: [{json: '$.a b'}]"),
            [
                "1:16: check: `$.a b` is not a JSONPath: it cannot be read, at character 4 (` b`) (hint: a JSONPath (RFC 9535) starts at `$`: e.g. `$.id`, `$.items[0].name`, `$['a key']`)"
            ]
        );
        let regex_hint = " (hint: regexes are searched in the text (Rust regex syntax); quote them in single quotes: `'id\":(\\d+)'`)";
        assert_eq!(
            errors("check: [{body_matches: 'a{2,1}'}]"),
            [format!(
                "1:24: check `body_matches`: not a regular expression: regex parse error:\n    a{{2,1}}\n     ^^^^^\nerror: invalid repetition count range, the start must be <= the end{regex_hint}"
            )]
        );
        assert_eq!(
            errors("check: [{header: x-a, matches: '['}]"),
            [format!(
                "1:32: check `matches`: not a regular expression: regex parse error:\n    [\n    ^\nerror: unclosed character class{regex_hint}"
            )]
        );
        assert_eq!(
            errors("check: [{json: $.a, matches: '('}]"),
            [format!(
                "1:30: check `matches`: not a regular expression: regex parse error:\n    (\n    ^\nerror: unclosed group{regex_hint}"
            )]
        );
        assert_eq!(
            errors("check: [{header: 'x a'}]"),
            ["1:18: check: `x a` is not a header name"]
        );
    }

    #[test]
    fn statuses_are_codes_or_classes() {
        let hint = " (hint: e.g. `status: 200`, `status: [200, 201]` or `status: 2xx`)";
        assert_eq!(
            errors(
                "check: [{status: 6xx}, {status: 0xx}, {status: 99}, {status: 600}, {status: abc}, {status: 2x}, {status: []}, {status: 2.5}]"
            ),
            [
                format!("1:18: `6xx` is not a status class (1xx to 5xx){hint}"),
                format!("1:33: `0xx` is not a status class (1xx to 5xx){hint}"),
                format!("1:48: 99 is not an HTTP status code (100 to 599){hint}"),
                format!("1:62: 600 is not an HTTP status code (100 to 599){hint}"),
                format!("1:77: `abc` is not a status code or class{hint}"),
                format!("1:92: `2x` is not a status code or class; did you mean `2xx`?{hint}"),
                format!("1:106: `status: []` names no status{hint}"),
                format!("1:120: `2.5` is not a status code or class{hint}"),
            ]
        );
        assert_eq!(
            errors("check: [{status: {a: 1}}]"),
            [
                "1:18: invalid type: map, expected a status code (200), a class (2xx) or a list of them"
            ]
        );
    }

    #[test]
    fn a_status_check_must_name_a_success_of_the_step() {
        assert_eq!(
            errors("check: [{status: 404}, {status: 4xx}, {status: [200, 503]}]"),
            [
                "1:18: check `status 404`: 404 is not a success of this step (without `expect_status`, success is a status below 400) (hint: a response that is not a success fails the step before its checks run; the step's `expect_status` must list it, e.g. `expect_status: [404]`)",
                "1:33: check `status 4xx`: 4xx is not a success of this step (without `expect_status`, success is a status below 400) (hint: a response that is not a success fails the step before its checks run; the step's `expect_status` must list it, e.g. `expect_status: [404]`)",
                "1:54: check `status 503`: 503 is not a success of this step (without `expect_status`, success is a status below 400) (hint: a response that is not a success fails the step before its checks run; the step's `expect_status` must list it, e.g. `expect_status: [503]`)",
            ]
        );
        assert_eq!(
            errors(
                "expect_status: [201, 404]\ncheck: [{status: 200}, {status: 3xx}, {status: 4xx}, {status: 404}]"
            ),
            [
                "2:18: check `status 200`: the step's `expect_status` ([201, 404]) leaves out 200 (hint: a response with a status outside `expect_status` fails the step before its checks run; add 200 to `expect_status`)",
                "2:33: check `status 3xx`: the step's `expect_status` ([201, 404]) leaves out 3xx (hint: a response with a status outside `expect_status` fails the step before its checks run; add the statuses you expect to `expect_status`)",
            ]
        );
        assert_eq!(named("check: [{status: 3xx}, {status: 302}]").len(), 2);
    }

    #[test]
    fn latency_is_a_duration_and_body_size_a_range() {
        assert_eq!(
            errors("check: [{latency: 5}, {latency: 0s}, {latency: fast}]"),
            [
                "1:19: check `latency`: `5` has no unit; write e.g. 5s or 5ms",
                "1:33: check `latency` must be longer than 0s",
                "1:48: check `latency`: expected a number at `fast` (durations look like 30s, 250ms, 1m30s)",
            ]
        );
        assert_eq!(
            errors(
                "check: [{body_size: {min: 10, max: 5}}, {body_size: {}}, {body_size: {max: 64 KB/s}}]"
            ),
            [
                "1:27: `body_size` `min` (10 B) is more than `max` (5 B) (hint: swap them: `min` is the smallest size)",
                "1:53: `body_size` needs `min` or `max` (bytes) (hint: e.g. `{body_size: {max: 65536}}` or `{body_size: {min: 1, max: 64KiB}}`)",
                "1:76: `body_size` `max`: unknown size unit `KB/s` (expected B, KiB, MiB, GiB, TiB) (hint: a number of bytes (65536) or a size (64KiB))",
            ]
        );
    }

    #[test]
    fn names_are_not_empty_and_not_repeated() {
        assert_eq!(
            errors("check: [{json: $.a, name: ' '}]"),
            [
                "1:27: a check's `name` is empty (hint: name it, or leave `name` out for the check's own text)"
            ]
        );
        assert_eq!(
            errors(
                "check: [{json: $.a}, {json: $.a}, {latency: 1s, name: x}, {status: 200, name: x}]"
            ),
            [
                "1:22: a second check named `$.a exists` in this step (hint: each check is a row of the checks report: give one of them a `name:`, or remove the repeat)",
                "1:79: a second check named `x` in this step (hint: each check is a row of the checks report: give one of them a `name:`, or remove the repeat)",
            ]
        );
    }
}
