//! A flow step's `capture:` and `check:` as written, and their validation
//! into [`crate::flow::Capture`] and [`crate::flow::Check`]: JSONPaths and
//! regexes compiled, variable names checked, one subject per check, and no
//! status check that the step's `expect_status` makes pointless. Part of
//! [`super::resolve`].

mod capture;
mod check;
#[cfg(test)]
mod tests;

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::model::Text;
use super::resolve::Validator;

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
