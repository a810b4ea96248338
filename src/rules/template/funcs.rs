//! The functions a template can call: Go's builtins (`and or not len
//! index slice print printf println html js urlquery call eq ne lt le gt
//! ge`), Prometheus's (in `prom.rs`), and the methods of the values
//! Prometheus's functions return (`Format` on a time, `String` on a
//! duration). Each has Go's parameter types, which decide how its
//! arguments are checked.

use super::compare::{eq, le, lt};
use super::error::{FuncError, QueryError};
use super::printf::sprintf;
use super::prom;
use super::value::{Kind, QuerySample, Value};

/// What Prometheus's functions need from the rule evaluation.
pub(crate) struct Env<'a> {
    /// Runs a PromQL instant query at the rule's evaluation time.
    pub query: &'a dyn Fn(&str) -> Result<Vec<QuerySample>, QueryError>,
    /// The evaluation time, in ms since the epoch (what `now` returns).
    pub now_ms: i64,
    /// Prometheus's `--web.external-url`, which `pathPrefix` and
    /// `externalURL` read; `None` where Prometheus has none (promtool's
    /// unit tests), and they fail as Go fails on a nil `*url.URL`.
    pub external_url: Option<&'a str>,
}

/// A parameter's Go type, as far as calls tell types apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Param {
    /// `interface{}`.
    Any,
    /// `reflect.Value` (the builtins that look at any value).
    Reflect,
    Str,
    /// `*template.sample`.
    Sample,
    /// `template.queryResult`.
    Samples,
    /// `time.Duration`.
    Duration,
}

impl Param {
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            Param::Any => "interface {}",
            Param::Reflect => "reflect.Value",
            Param::Str => "string",
            Param::Sample => "*template.sample",
            Param::Samples => "template.queryResult",
            Param::Duration => "time.Duration",
        }
    }

    pub(crate) fn can_be_nil(self) -> bool {
        matches!(
            self,
            Param::Any | Param::Reflect | Param::Sample | Param::Samples
        )
    }
}

pub(crate) type Run = Box<dyn Fn(&Env, &[Value]) -> Result<Value, FuncError>>;

/// A function or method: fixed parameters, an optional variadic one.
pub(crate) struct Func {
    pub params: &'static [Param],
    pub variadic: Option<Param>,
    pub run: Run,
}

fn func(
    params: &'static [Param],
    variadic: Option<Param>,
    run: impl Fn(&Env, &[Value]) -> Result<Value, FuncError> + 'static,
) -> Func {
    Func {
        params,
        variadic,
        run: Box::new(run),
    }
}

const BUILTINS: &[&str] = &[
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
    "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
];

/// Every function a rule's template may call.
pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    BUILTINS.iter().chain(prom::NAMES).copied()
}

/// Whether `name` is a function a rule's template may call.
pub(crate) fn is_function(name: &str) -> bool {
    BUILTINS.contains(&name) || prom::NAMES.contains(&name)
}

/// The function `name`, or `None` when templates have none of that name.
pub(crate) fn lookup(name: &str) -> Option<Func> {
    use Param::*;
    Some(match name {
        "and" | "or" => func(&[Reflect], Some(Reflect), |_, _| Ok(Value::Invalid)),
        "not" => func(&[Reflect], None, |_, a| Ok(Value::Bool(!a[0].truth()))),
        "len" => func(&[Reflect], None, |_, a| length(&a[0])),
        "index" => func(&[Reflect], Some(Reflect), |_, a| index(&a[0], &a[1..])),
        "slice" => func(&[Reflect], Some(Reflect), |_, a| slice(&a[0], &a[1..])),
        "print" => func(&[], Some(Any), |_, a| Ok(Value::str(&sprint(a)))),
        "println" => func(&[], Some(Any), |_, a| {
            let items: Vec<String> = a.iter().map(print_text).collect();
            Ok(Value::str(&format!("{}\n", items.join(" "))))
        }),
        "printf" => func(&[Str], Some(Any), |_, a| {
            Ok(Value::str(&sprintf(a[0].as_str().unwrap_or(""), &a[1..])))
        }),
        "html" => func(&[], Some(Any), |_, a| {
            Ok(Value::str(&html_escape(&eval_args(a))))
        }),
        "js" => func(&[], Some(Any), |_, a| {
            Ok(Value::str(&js_escape(&eval_args(a))))
        }),
        "urlquery" => func(&[], Some(Any), |_, a| {
            Ok(Value::str(&query_escape(&eval_args(a))))
        }),
        // The callee's name comes first (exec inserts it).
        "call" => func(&[Reflect], Some(Reflect), |_, a| {
            let name = a[0].as_str().unwrap_or("").to_string();
            match a.get(1) {
                None | Some(Value::Invalid | Value::Nil) => Err(FuncError::CallOfNil),
                Some(v) => Err(FuncError::NonFunction {
                    name,
                    type_name: v.type_name(),
                }),
            }
        }),
        "eq" => func(&[Reflect], Some(Reflect), |_, a| {
            eq(&a[0], &a[1..]).map(Value::Bool)
        }),
        "ne" => func(&[Reflect, Reflect], None, |_, a| {
            eq(&a[0], &a[1..2]).map(|b| Value::Bool(!b))
        }),
        "lt" => func(&[Reflect, Reflect], None, |_, a| {
            lt(&a[0], &a[1]).map(Value::Bool)
        }),
        "le" => func(&[Reflect, Reflect], None, |_, a| {
            le(&a[0], &a[1]).map(Value::Bool)
        }),
        "gt" => func(&[Reflect, Reflect], None, |_, a| {
            le(&a[0], &a[1]).map(|b| Value::Bool(!b))
        }),
        "ge" => func(&[Reflect, Reflect], None, |_, a| {
            lt(&a[0], &a[1]).map(|b| Value::Bool(!b))
        }),
        other => return prom::lookup(other),
    })
}

/// The method `name` of `receiver`, if its type has one.
pub(crate) fn method(receiver: &Value, name: &str) -> Option<Func> {
    use Param::*;
    match receiver {
        Value::Time(t, _) => {
            let t = *t;
            Some(match name {
                "Format" => func(&[Str], None, move |_, a| {
                    Ok(Value::str(&t.format(a[0].as_str().unwrap_or(""))))
                }),
                "String" => func(&[], None, move |_, _| Ok(Value::str(&t.to_string()))),
                "Add" => func(&[Duration], None, move |_, a| match &a[0] {
                    Value::Duration(d, _) => Ok(Value::Time(t.add(*d), false)),
                    _ => Ok(Value::Time(t, false)),
                }),
                "Unix" => func(&[], None, move |_, _| Ok(Value::Int64(t.unix()))),
                "UnixMilli" => func(&[], None, move |_, _| Ok(Value::Int64(t.unix_milli()))),
                "UTC" | "Local" => func(&[], None, move |_, _| Ok(Value::Time(t, false))),
                "Year" => func(&[], None, move |_, _| {
                    Ok(Value::Int(t.format("2006").parse().unwrap_or(0)))
                }),
                _ => return None,
            })
        }
        Value::Duration(d, _) => {
            let d: super::time::Duration = *d;
            let secs = d.0 as f64 / 1e9;
            Some(match name {
                "String" => func(&[], None, move |_, _| Ok(Value::str(&d.to_string()))),
                "Seconds" => func(&[], None, move |_, _| Ok(Value::Float(secs))),
                "Minutes" => func(&[], None, move |_, _| Ok(Value::Float(secs / 60.0))),
                "Hours" => func(&[], None, move |_, _| Ok(Value::Float(secs / 3600.0))),
                "Milliseconds" => func(&[], None, move |_, _| Ok(Value::Int64(d.0 / 1_000_000))),
                _ => return None,
            })
        }
        _ => None,
    }
}

/// What `print` writes for one argument: nil interfaces print `<nil>`.
fn print_text(v: &Value) -> String {
    match v {
        Value::Invalid | Value::Nil => "<nil>".into(),
        v => v.display(),
    }
}

/// Go's `fmt.Sprint`: a space between operands when neither is a string.
fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        let is_string = |v: &Value| matches!(v, Value::Str(_) | Value::Html(_));
        if i > 0 && !is_string(arg) && !is_string(&args[i - 1]) {
            out.push(' ');
        }
        out.push_str(&print_text(arg));
    }
    out
}

/// text/template's `evalArgs`: one string as is, else `fmt.Sprint`, with
/// missing values as `<no value>`.
fn eval_args(args: &[Value]) -> String {
    if let [Value::Str(s)] = args {
        return s.to_string();
    }
    let printable: Vec<Value> = args
        .iter()
        .map(|a| match a {
            Value::Nil | Value::Invalid => Value::str("<no value>"),
            other => other.clone(),
        })
        .collect();
    sprint(&printable)
}

pub(crate) fn html_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn js_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 || !super::strconv::is_print(c) => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub(crate) fn query_escape(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn length(v: &Value) -> Result<Value, FuncError> {
    let n = match v {
        Value::Invalid => return Err(FuncError::ZeroValue),
        Value::Nil => return Err(FuncError::LenOfNil),
        Value::Str(s) | Value::Html(s) => s.len(),
        Value::Labels(m) => m.len(),
        Value::Map(m) => m.len(),
        Value::List(l, _) => l.len(),
        Value::Samples(l) => l.len(),
        other => {
            return Err(FuncError::LenOfType {
                type_name: other.type_name(),
            });
        }
    };
    Ok(Value::Int(n as i64))
}

/// An index into a slice, array or string of `cap` elements.
fn int_index(v: &Value, cap: usize) -> Result<usize, FuncError> {
    let x = match v {
        Value::Int(i) | Value::Int64(i) => *i,
        Value::Uint64(u) => *u as i64,
        Value::Invalid | Value::Nil => return Err(FuncError::IndexWithNil),
        other => {
            return Err(FuncError::IndexWithType {
                type_name: other.type_name(),
            });
        }
    };
    if x < 0 || x as usize > cap {
        return Err(FuncError::IndexOutOfRange { index: x });
    }
    Ok(x as usize)
}

fn index(item: &Value, indexes: &[Value]) -> Result<Value, FuncError> {
    if *item == Value::Invalid {
        return Err(FuncError::IndexOfUntypedNil);
    }
    let mut item = item.clone();
    for ix in indexes {
        item = match &item {
            Value::Nil => return Err(FuncError::IndexOfNil),
            Value::Str(s) | Value::Html(s) => {
                let x = int_index(ix, s.len())?;
                let byte = s
                    .as_bytes()
                    .get(x)
                    .ok_or(FuncError::IndexOutOfRange { index: x as i64 })?;
                Value::Uint64(u64::from(*byte))
            }
            v if v.kind() == Kind::Slice => {
                let items = v.elements().unwrap_or_default();
                let x = int_index(ix, items.len())?;
                items
                    .get(x)
                    .cloned()
                    .ok_or(FuncError::SliceIndexOutOfRange)?
            }
            Value::Labels(m) => {
                let key = map_key(ix)?;
                Value::str(m.get(&key).map_or("", String::as_str))
            }
            Value::Map(m) => {
                let key = map_key(ix)?;
                m.get(&key).cloned().unwrap_or(Value::Nil)
            }
            other => {
                return Err(FuncError::CannotIndex {
                    type_name: other.type_name(),
                });
            }
        };
    }
    Ok(item)
}

fn map_key(v: &Value) -> Result<String, FuncError> {
    match v {
        Value::Str(s) => Ok(s.to_string()),
        Value::Invalid | Value::Nil => Err(FuncError::NilKey),
        other => Err(FuncError::KeyType {
            type_name: other.type_name(),
        }),
    }
}

fn slice(item: &Value, indexes: &[Value]) -> Result<Value, FuncError> {
    if *item == Value::Invalid {
        return Err(FuncError::SliceOfUntypedNil);
    }
    if indexes.len() > 3 {
        return Err(FuncError::TooManySliceIndexes {
            count: indexes.len(),
        });
    }
    let len = match item {
        Value::Str(s) => {
            if indexes.len() == 3 {
                return Err(FuncError::ThreeIndexString);
            }
            s.len()
        }
        v if v.kind() == Kind::Slice => v.elements().unwrap_or_default().len(),
        other => {
            return Err(FuncError::CannotSlice {
                type_name: other.type_name(),
            });
        }
    };
    let mut bounds = [0, len, len];
    for (i, ix) in indexes.iter().enumerate() {
        bounds[i] = int_index(ix, len)?;
    }
    if indexes.len() < 3 {
        bounds[2] = len;
    }
    if bounds[0] > bounds[1] {
        return Err(FuncError::InvalidSliceIndex {
            low: bounds[0],
            high: bounds[1],
        });
    }
    if indexes.len() == 3 && bounds[1] > bounds[2] {
        return Err(FuncError::InvalidSliceIndex {
            low: bounds[1],
            high: bounds[2],
        });
    }
    let (lo, hi) = (bounds[0], bounds[1]);
    Ok(match item {
        Value::Str(s) => Value::str(s.get(lo..hi).ok_or(FuncError::NotCharBoundary)?),
        Value::List(l, elem) => Value::List(std::rc::Rc::new(l[lo..hi].to_vec()), elem),
        Value::Samples(l) => Value::Samples(std::rc::Rc::new(l[lo..hi].to_vec())),
        _ => Value::Invalid,
    })
}
