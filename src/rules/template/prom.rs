//! Prometheus's template functions (`template/template.go` of Prometheus
//! 3): `query` and what works on its result (`first label value strvalue
//! sortByLabel`), the `humanize*` family, `toTime toDuration now
//! parseDuration`, string helpers (`title toUpper toLower match
//! reReplaceAll stripPort stripDomain safeHtml`), links (`graphLink
//! tableLink pathPrefix externalURL urlQueryEscape`) and `args`.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::funcs::{Func, Param, Run, query_escape};
use super::printf::go_g;
use super::time::Time;
use super::value::Value;

/// Every function Prometheus adds for alert templates. (`tmpl` exists
/// only in HTML expansion, for consoles: an alert template cannot call it.)
pub const NAMES: &[&str] = &[
    "query",
    "first",
    "label",
    "value",
    "strvalue",
    "args",
    "reReplaceAll",
    "safeHtml",
    "match",
    "title",
    "toUpper",
    "toLower",
    "graphLink",
    "tableLink",
    "sortByLabel",
    "stripPort",
    "stripDomain",
    "humanize",
    "humanize1024",
    "humanizeDuration",
    "humanizePercentage",
    "humanizeTimestamp",
    "toTime",
    "toDuration",
    "now",
    "pathPrefix",
    "externalURL",
    "parseDuration",
    "urlQueryEscape",
];

fn f(params: &'static [Param], run: Run) -> Func {
    Func {
        params,
        variadic: None,
        run,
    }
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or("").to_string()
}

const NIL_POINTER: &str = "runtime error: invalid memory address or nil pointer dereference";

fn sample(v: &Value) -> Result<&super::value::Sample, String> {
    match v {
        Value::Sample(s) => Ok(s),
        _ => Err(NIL_POINTER.into()),
    }
}

pub fn lookup(name: &str) -> Option<Func> {
    use Param::*;
    Some(match name {
        "query" => f(
            &[Str],
            Box::new(|env, a| {
                let samples = (env.query)(&text(&a[0]))?;
                Ok(Value::Samples(Rc::new(
                    samples.into_iter().map(Rc::new).collect(),
                )))
            }),
        ),
        "first" => f(
            &[Samples],
            Box::new(|_, a| match &a[0] {
                Value::Samples(l) if !l.is_empty() => Ok(Value::Sample(l[0].clone())),
                _ => Err("first() called on vector with no elements".into()),
            }),
        ),
        "label" => f(
            &[Str, Sample],
            Box::new(|_, a| {
                let s = sample(&a[1])?;
                Ok(Value::str(
                    s.labels.get(&text(&a[0])).map_or("", String::as_str),
                ))
            }),
        ),
        "value" => f(
            &[Sample],
            Box::new(|_, a| Ok(Value::Float(sample(&a[0])?.value))),
        ),
        "strvalue" => f(
            &[Sample],
            Box::new(|_, a| {
                let s = sample(&a[0])?;
                Ok(Value::str(
                    s.labels.get("__value__").map_or("", String::as_str),
                ))
            }),
        ),
        "args" => Func {
            params: &[],
            variadic: Some(Any),
            run: Box::new(|_, a| {
                let map: BTreeMap<String, Value> = a
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (format!("arg{i}"), v.clone()))
                    .collect();
                Ok(Value::Map(Rc::new(map)))
            }),
        },
        "reReplaceAll" => f(
            &[Str, Str, Str],
            Box::new(|_, a| {
                let pattern = text(&a[0]);
                let re = regex::Regex::new(&pattern).map_err(|e| {
                    format!(
                        "regexp: Compile({}): {}",
                        go_backquote(&pattern),
                        regex_error(&pattern, &e)
                    )
                })?;
                let replacement = go_replacement(&text(&a[1]));
                Ok(Value::str(
                    &re.replace_all(&text(&a[2]), replacement.as_str()),
                ))
            }),
        ),
        "safeHtml" => f(
            &[Str],
            Box::new(|_, a| Ok(Value::Html(Rc::from(text(&a[0]).as_str())))),
        ),
        "match" => f(
            &[Str, Str],
            Box::new(|_, a| {
                let pattern = text(&a[0]);
                let re = regex::Regex::new(&pattern).map_err(|e| regex_error(&pattern, &e))?;
                Ok(Value::Bool(re.is_match(&text(&a[1]))))
            }),
        ),
        "title" => f(
            &[Str],
            Box::new(|_, a| Ok(Value::str(&title(&text(&a[0]))))),
        ),
        "toUpper" => f(
            &[Str],
            Box::new(|_, a| {
                Ok(Value::str(
                    &text(&a[0]).chars().map(simple_upper).collect::<String>(),
                ))
            }),
        ),
        "toLower" => f(
            &[Str],
            Box::new(|_, a| {
                Ok(Value::str(
                    &text(&a[0]).chars().map(simple_lower).collect::<String>(),
                ))
            }),
        ),
        "graphLink" => f(
            &[Str],
            Box::new(|_, a| {
                Ok(Value::str(&format!(
                    "/graph?g0.expr={}&g0.tab=0",
                    query_escape(&text(&a[0]))
                )))
            }),
        ),
        "tableLink" => f(
            &[Str],
            Box::new(|_, a| {
                Ok(Value::str(&format!(
                    "/graph?g0.expr={}&g0.tab=1",
                    query_escape(&text(&a[0]))
                )))
            }),
        ),
        "urlQueryEscape" => f(
            &[Str],
            Box::new(|_, a| Ok(Value::str(&query_escape(&text(&a[0]))))),
        ),
        "sortByLabel" => f(
            &[Str, Samples],
            Box::new(|_, a| {
                let label = text(&a[0]);
                let mut samples = match &a[1] {
                    Value::Samples(l) => l.to_vec(),
                    _ => Vec::new(),
                };
                let key = |s: &Rc<super::value::Sample>| {
                    s.labels.get(&label).cloned().unwrap_or_default()
                };
                samples.sort_by_key(key);
                Ok(Value::Samples(Rc::new(samples)))
            }),
        ),
        "stripPort" => f(
            &[Str],
            Box::new(|_, a| {
                let host_port = text(&a[0]);
                Ok(Value::str(
                    split_host_port(&host_port).map_or(host_port.as_str(), |(h, _)| h),
                ))
            }),
        ),
        "stripDomain" => f(
            &[Str],
            Box::new(|_, a| Ok(Value::str(&strip_domain(&text(&a[0]))))),
        ),
        "humanize" => f(
            &[Any],
            Box::new(|_, a| Ok(Value::str(&humanize(to_float(&a[0])?)))),
        ),
        "humanize1024" => f(
            &[Any],
            Box::new(|_, a| Ok(Value::str(&humanize_1024(to_float(&a[0])?)))),
        ),
        "humanizeDuration" => f(
            &[Any],
            Box::new(|_, a| Ok(Value::str(&humanize_duration(to_float(&a[0])?)))),
        ),
        "humanizePercentage" => f(
            &[Any],
            Box::new(|_, a| {
                Ok(Value::str(&format!(
                    "{}%",
                    go_g(to_float(&a[0])? * 100.0, 4)
                )))
            }),
        ),
        "humanizeTimestamp" => f(
            &[Any],
            Box::new(|_, a| {
                let v = to_float(&a[0])?;
                if !v.is_finite() {
                    return Ok(Value::str(&go_g(v, 4)));
                }
                Ok(Value::str(&float_to_time(v)?.to_string()))
            }),
        ),
        "toTime" => f(
            &[Any],
            Box::new(|_, a| {
                let v = to_float(&a[0])?;
                if !v.is_finite() {
                    return Err("value is NaN or Inf".into());
                }
                Ok(Value::Time(float_to_time(v)?, true))
            }),
        ),
        "toDuration" => f(
            &[Any],
            Box::new(|_, a| {
                let v = to_float(&a[0])?;
                Ok(Value::Duration(
                    super::time::Duration(go_f64_to_i64(v * 1e9)),
                    true,
                ))
            }),
        ),
        "now" => f(
            &[],
            Box::new(|env, _| Ok(Value::Float(env.now_ms as f64 / 1000.0))),
        ),
        "pathPrefix" => f(
            &[],
            Box::new(|env, _| Ok(Value::str(url_path(env.external_url.ok_or(NIL_POINTER)?)))),
        ),
        "externalURL" => f(
            &[],
            Box::new(|env, _| Ok(Value::str(env.external_url.ok_or(NIL_POINTER)?))),
        ),
        "parseDuration" => f(
            &[Str],
            Box::new(|_, a| Ok(Value::Float(parse_duration(&text(&a[0]))? as f64 / 1000.0))),
        ),
        _ => return None,
    })
}

/// Go's conversion of a float to int64 on amd64: out of range gives the
/// minimum.
fn go_f64_to_i64(v: f64) -> i64 {
    if v.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&v) {
        i64::MIN
    } else {
        v as i64
    }
}

/// Prometheus's `floatToTime`: seconds to a time, millisecond precision.
fn float_to_time(v: f64) -> Result<Time, String> {
    let nanos = v * 1e9;
    if nanos > i64::MAX as f64 || nanos < i64::MIN as f64 {
        return Err(format!(
            "{} cannot be represented as a nanoseconds timestamp since it overflows int64",
            super::printf::go_float(v)
        ));
    }
    // model.TimeFromUnixNano keeps milliseconds (truncating toward zero).
    let ms = go_f64_to_i64(nanos) / 1_000_000;
    Ok(Time(ms as i128 * 1_000_000))
}

/// The path of a URL (`http://host:9090/prefix` → `/prefix`).
fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    match rest.find('/') {
        Some(i) => {
            let path = &rest[i..];
            path.split(['?', '#']).next().unwrap_or("")
        }
        None => "",
    }
}

/// Prometheus's `ConvertToFloat`.
pub fn to_float(v: &Value) -> Result<f64, String> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) | Value::Int64(i) => Ok(*i as f64),
        Value::Uint64(u) => Ok(*u as f64),
        Value::Str(s) => parse_float(s),
        Value::Nil | Value::Invalid => Err("can't convert <nil> to float".into()),
        other => Err(format!("can't convert {} to float", other.type_name())),
    }
}

/// Go's `strconv.ParseFloat(s, 64)`.
pub fn parse_float(s: &str) -> Result<f64, String> {
    let syntax = || {
        format!(
            "strconv.ParseFloat: parsing {}: invalid syntax",
            super::printf::go_quote(s)
        )
    };
    let lower = s.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    let negative = lower.starts_with('-');
    if matches!(unsigned, "inf" | "infinity") && lower.len() - unsigned.len() <= 1 {
        return Ok(if negative {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if lower == "nan" {
        return Ok(f64::NAN);
    }
    if unsigned.is_empty()
        || unsigned.contains(['x', 'n', 'i', '_'])
        || lower.len() - unsigned.len() > 1
    {
        return Err(syntax());
    }
    let v: f64 = s.parse().map_err(|_| syntax())?;
    if v.is_infinite() {
        return Err(format!(
            "strconv.ParseFloat: parsing {}: value out of range",
            super::printf::go_quote(s)
        ));
    }
    Ok(v)
}

/// Go's `net.SplitHostPort`.
fn split_host_port(host_port: &str) -> Option<(&str, &str)> {
    let i = host_port.rfind(':')?;
    let (host, j, k) = if host_port.starts_with('[') {
        let end = host_port.find(']')?;
        if end + 1 != i {
            return None;
        }
        (&host_port[1..end], 1, end + 1)
    } else {
        let host = &host_port[..i];
        if host.contains(':') {
            return None;
        }
        (host, 0, 0)
    };
    if host_port[j..].contains('[') || host_port[k..].contains(']') {
        return None;
    }
    Some((host, &host_port[i + 1..]))
}

fn strip_domain(host_port: &str) -> String {
    let (host, port) = split_host_port(host_port).unwrap_or((host_port, ""));
    if host.parse::<std::net::IpAddr>().is_ok() {
        return host_port.to_string();
    }
    let host = host.split('.').next().unwrap_or("");
    if port.is_empty() {
        host.to_string()
    } else if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Prometheus's `model.ParseDurationAllowNegative`, in milliseconds.
fn parse_duration(text: &str) -> Result<i64, String> {
    if text.is_empty() {
        return Err("empty duration string".into());
    }
    let bad = || {
        format!(
            "not a valid duration string: {}",
            super::printf::go_quote(text)
        )
    };
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    const UNITS: [(&str, i64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];
    let mut next = 0;
    let mut total: i64 = 0;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let n: i64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        // `ms` before `m`: the longest unit that matches.
        let unit = UNITS[next..]
            .iter()
            .enumerate()
            .filter(|(_, (u, _))| rest.starts_with(u))
            .max_by_key(|(_, (u, _))| u.len())
            .map(|(i, u)| (i + next, *u));
        let Some((i, (name, ms))) = unit else {
            return Err(bad());
        };
        rest = &rest[name.len()..];
        total = n
            .checked_mul(ms)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| "duration out of range".to_string())?;
        next = i + 1;
    }
    Ok(if negative { -total } else { total })
}

/// Go's `$1` replacement syntax to the regex crate's `${1}`.
fn go_replacement(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$'
            && chars
                .peek()
                .is_some_and(|d| d.is_ascii_alphanumeric() || *d == '_')
        {
            let mut name = String::new();
            while let Some(d) = chars
                .peek()
                .copied()
                .filter(|d| d.is_ascii_alphanumeric() || *d == '_')
            {
                name.push(d);
                chars.next();
            }
            out.push_str(&format!("${{{name}}}"));
        } else {
            out.push(c);
        }
    }
    out
}

/// Go's `regexp` error for a pattern the regex crate refuses, in Go's
/// words for the common mistakes (RE2 and the regex crate accept the same
/// syntax, so they refuse the same patterns).
fn regex_error(pattern: &str, e: &regex::Error) -> String {
    let text = e.to_string();
    let detail = text
        .lines()
        .rfind(|l| l.starts_with("error:"))
        .unwrap_or(&text)
        .trim_start_matches("error: ");
    let go = match detail {
        "unclosed group" => format!("missing closing ): `{pattern}`"),
        "unopened group" => format!("unexpected ): `{pattern}`"),
        "unclosed character class" => {
            let class = pattern.rfind('[').map_or(pattern, |i| &pattern[i..]);
            format!("missing closing ]: `{class}`")
        }
        "repetition operator missing expression" => {
            let op = pattern
                .chars()
                .find(|c| matches!(c, '*' | '+' | '?'))
                .unwrap_or('*');
            format!("missing argument to repetition operator: `{op}`")
        }
        other => other.to_string(),
    };
    format!("error parsing regexp: {go}")
}

/// Go's `regexp` quoting of a pattern: backquoted when it can be.
fn go_backquote(text: &str) -> String {
    if text
        .chars()
        .all(|c| c != '`' && c != '\u{feff}' && (c == '\t' || !c.is_control()))
    {
        format!("`{text}`")
    } else {
        super::printf::go_quote(text)
    }
}

/// `cases.Title(language.AmericanEnglish, cases.NoLower)`: the first
/// letter after anything but a letter, digit or `_` (an apostrophe too:
/// promtool writes `Don'T`) goes to title case, the rest is kept.
fn title(text: &str) -> String {
    let mut out = String::new();
    let mut start = true;
    for c in text.chars() {
        if start && c.is_alphabetic() {
            out.push(title_case(c));
        } else {
            out.push(c);
        }
        start = !c.is_alphanumeric() && c != '_';
    }
    out
}

/// Unicode's title case of one letter: its upper case but for the
/// digraphs that have a title form of their own (`ǆ` → `ǅ`).
fn title_case(c: char) -> char {
    match c {
        'Ǆ' | 'ǅ' | 'ǆ' => 'ǅ',
        'Ǉ' | 'ǈ' | 'ǉ' => 'ǈ',
        'Ǌ' | 'ǋ' | 'ǌ' => 'ǋ',
        'Ǳ' | 'ǲ' | 'ǳ' => 'ǲ',
        c => simple_upper(c),
    }
}

/// Go's `unicode.ToUpper`: the simple (one-letter) mapping, so `ß` stays.
fn simple_upper(c: char) -> char {
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// Go's `unicode.ToLower`: the simple mapping (`İ` → `i`).
fn simple_lower(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        (Some(l), Some(_)) if c == 'İ' => l,
        _ => c,
    }
}

/// Prometheus's `humanize`: SI prefixes, four significant digits.
pub fn humanize(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return go_g(v, 4);
    }
    let mut v = v;
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", go_g(v, 4))
}

fn humanize_1024(v: f64) -> String {
    if v.abs() <= 1.0 || !v.is_finite() {
        return go_g(v, 4);
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    format!("{}{prefix}", go_g(v, 4))
}

/// Prometheus's `humanizeDuration`: `1d 2h 3m 4s`, or `1.5s`, `250ms`.
pub fn humanize_duration(v: f64) -> String {
    if !v.is_finite() {
        return go_g(v, 4);
    }
    if v == 0.0 {
        return format!("{}s", go_g(v, 4));
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        let v = v.abs();
        let whole = v as i64;
        let (days, hours, minutes, seconds) = (
            whole / 86_400,
            whole / 3600 % 24,
            whole / 60 % 60,
            whole % 60,
        );
        return if days != 0 {
            format!("{sign}{days}d {hours}h {minutes}m {seconds}s")
        } else if hours != 0 {
            format!("{sign}{hours}h {minutes}m {seconds}s")
        } else if minutes != 0 {
            format!("{sign}{minutes}m {seconds}s")
        } else {
            format!("{sign}{}s", go_g(v, 4))
        };
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", go_g(v, 4))
}
