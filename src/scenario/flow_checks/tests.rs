//! The validation of captures and checks, message by message.

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
        paging: false,
        clock: None,
        soonest_fire: BTreeMap::new(),
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
        ["1:18: invalid type: map, expected a status code (200), a class (2xx) or a list of them"]
    );
}

#[test]
fn a_status_check_must_name_a_success_of_the_step() {
    assert_eq!(
        errors("check: [{status: 404}, {status: 4xx}, {status: [200, 503]}]"),
        [
            "1:18: check `status 404`: 404 is not a success of this step (without `expect_status`, success is a status below 400) (hint: a response that is not a success fails the step whatever its checks say; the step's `expect_status` must list it, e.g. `expect_status: [404]`)",
            "1:33: check `status 4xx`: 4xx is not a success of this step (without `expect_status`, success is a status below 400) (hint: a response that is not a success fails the step whatever its checks say; the step's `expect_status` must list it, e.g. `expect_status: [404]`)",
            "1:54: check `status 503`: 503 is not a success of this step (without `expect_status`, success is a status below 400) (hint: a response that is not a success fails the step whatever its checks say; the step's `expect_status` must list it, e.g. `expect_status: [503]`)",
        ]
    );
    assert_eq!(
        errors(
            "expect_status: [201, 404]\ncheck: [{status: 200}, {status: 3xx}, {status: 4xx}, {status: 404}]"
        ),
        [
            "2:18: check `status 200`: the step's `expect_status` ([201, 404]) leaves out 200 (hint: a response with a status outside `expect_status` fails the step whatever its checks say; add 200 to `expect_status`)",
            "2:33: check `status 3xx`: the step's `expect_status` ([201, 404]) leaves out 3xx (hint: a response with a status outside `expect_status` fails the step whatever its checks say; add the statuses you expect to `expect_status`)",
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
        errors("check: [{json: $.a}, {json: $.a}, {latency: 1s, name: x}, {status: 200, name: x}]"),
        [
            "1:22: a second check named `$.a exists` in this step (hint: each check is a row of the checks report: give one of them a `name:`, or remove the repeat)",
            "1:79: a second check named `x` in this step (hint: each check is a row of the checks report: give one of them a `name:`, or remove the repeat)",
        ]
    );
}
