//! Prometheus's template functions (`template/template.go` of Prometheus
//! 3): `query` and what works on its result (`first label value strvalue
//! sortByLabel`), the `humanize*` family, `toTime toDuration now
//! parseDuration`, string helpers (`title toUpper toLower match
//! reReplaceAll stripPort stripDomain safeHtml`), links (`graphLink
//! tableLink pathPrefix externalURL urlQueryEscape`) and `args`.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::error::FuncError;
use super::funcs::{Func, Param, Run, query_escape};
use super::numbers::{
    float_to_time, go_f64_to_i64, humanize, humanize_1024, humanize_duration, parse_duration,
    to_float,
};
use super::strconv::go_g;
use super::text::{
    go_replacement, regex_error, simple_lower, simple_upper, split_host_port, strip_domain, title,
    url_path,
};
use super::value::Value;

/// Every function Prometheus adds for alert templates. (`tmpl` exists
/// only in HTML expansion, for consoles: an alert template cannot call it.)
pub(crate) const NAMES: &[&str] = &[
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

fn sample(v: &Value) -> Result<&super::value::QuerySample, FuncError> {
    match v {
        Value::Sample(s) => Ok(s),
        _ => Err(FuncError::NilPointer),
    }
}

pub(crate) fn lookup(name: &str) -> Option<Func> {
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
                _ => Err(FuncError::FirstOfEmpty),
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
        "value" => f(&[Sample], Box::new(|_, a| Ok(sample(&a[0])?.value()))),
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
                let re = crate::promql::regex_cache::regex(&pattern).map_err(|e| {
                    FuncError::Compile {
                        source: regex_error(&pattern, &e),
                        pattern: pattern.clone(),
                    }
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
                let re = crate::promql::regex_cache::regex(&pattern)
                    .map_err(|e| FuncError::Regexp(regex_error(&pattern, &e)))?;
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
                let key = |s: &Rc<super::value::QuerySample>| {
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
                    return Err(FuncError::NotFinite);
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
            Box::new(|env, _| {
                Ok(Value::str(url_path(
                    env.external_url.ok_or(FuncError::NilPointer)?,
                )))
            }),
        ),
        "externalURL" => f(
            &[],
            Box::new(|env, _| Ok(Value::str(env.external_url.ok_or(FuncError::NilPointer)?))),
        ),
        "parseDuration" => f(
            &[Str],
            Box::new(|_, a| Ok(Value::Float(parse_duration(&text(&a[0]))? as f64 / 1000.0))),
        ),
        _ => return None,
    })
}
