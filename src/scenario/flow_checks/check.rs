//! A step's `check:` validated: one subject per check, what it tests only
//! where that means something, statuses the step can succeed with, and
//! one report row per name.

use serde_saphyr::Spanned;

use super::{BodySizeSpec, CheckSpec, SUBJECTS, Scalar, StatusSpec};
use crate::flow::{Check, CheckKind, HeaderTest, JsonTest, Needle};
use crate::scenario::resolve::Validator;
use crate::scenario::{Position, nearest};

impl Validator<'_> {
    /// A step's `check:`; a check with an error is left out (the error
    /// recorded). `expect_status` is the step's: a status check it makes
    /// pointless (a response it passes fails the step anyway) is an error.
    pub(in crate::scenario) fn checks(
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
        let map = &spec.value;
        let subject = self.subject(spec)?;
        if !self.test_fits(map, subject) {
            return None;
        }
        let kind = match subject {
            "status" => self.status_check(map.status.as_ref()?, expect_status)?,
            "header" => self.header_check(map)?,
            "body_contains" => {
                CheckKind::BodyContains(Needle::new(&map.body_contains.as_ref()?.value))
            }
            "body_matches" => CheckKind::BodyMatches(
                self.bytes_regex(map.body_matches.as_ref()?, "check `body_matches`")?,
            ),
            "json" => self.json_check(map)?,
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

    /// The one subject of a check (a key of [`SUBJECTS`]); None (the error
    /// recorded) when it has none or several.
    fn subject(&mut self, spec: &Spanned<CheckSpec>) -> Option<&'static str> {
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
        match subjects.as_slice() {
            [] => {
                self.error(
                    Self::at(spec),
                    format!(
                        "a check needs a subject: one of `{}`",
                        SUBJECTS.join("`, `")
                    ),
                    Some(
                        "e.g. `- status: 200`, `- {json: \"$.id\"}` or `- {latency: 300ms}`".into(),
                    ),
                );
                None
            }
            [one] => Some(one),
            [first, second, ..] => {
                self.error(
                    Self::at(spec),
                    format!("a check has one subject; this one has `{first}` and `{second}`"),
                    Some("split it into two checks".into()),
                );
                None
            }
        }
    }

    /// False (the error recorded) when the check has two of `equals`,
    /// `matches` and `length`, or one its subject has no use for.
    fn test_fits(&mut self, map: &CheckSpec, subject: &str) -> bool {
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
        let (test, at) = match tests.as_slice() {
            [] => return true,
            [one] => *one,
            [(first, _), (second, at), ..] => {
                self.error(
                    *at,
                    format!("`{first}` and `{second}` do not go together"),
                    Some("a check tests one thing: split it into two checks".into()),
                );
                return false;
            }
        };
        let goes_with = match test {
            "length" if subject == "json" => return true,
            "length" => "`json`",
            _ if subject == "json" || subject == "header" => return true,
            _ => "`header` or `json`",
        };
        let hint = match (test, subject) {
            ("matches", "body_contains") => {
                Some("a regex over the body is `body_matches: '...'`".to_string())
            }
            ("equals", "status") => Some("name the status itself: `status: 200`".to_string()),
            _ => None,
        };
        self.error(
            at,
            format!("`{test}` goes with {goes_with}, not `{subject}`"),
            hint,
        );
        false
    }

    fn header_check(&mut self, map: &CheckSpec) -> Option<CheckKind> {
        let name = self.header_name(map.header.as_ref()?, "check")?;
        let test = if let Some(value) = &map.equals {
            // A number or boolean is the text it reads as: `equals: 3`.
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
        Some(CheckKind::Header { name, test })
    }

    fn json_check(&mut self, map: &CheckSpec) -> Option<CheckKind> {
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
        Some(CheckKind::Json { path, text, test })
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
    /// success of the step: such a response fails the step whatever its
    /// checks say, so the check could never pass a step.
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
                        "a response with a status outside `expect_status` fails the step whatever its checks say; add {} to `expect_status`",
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
                        "a response that is not a success fails the step whatever its checks say; the step's `expect_status` must list it, e.g. `expect_status: [{example}]`"
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
