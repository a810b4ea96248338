//! The values a template computes with, typed as Go's reflection sees
//! them: the type decides what a function accepts, how `eq` compares, what
//! `range` iterates and how a value prints (`fmt`'s `%v`).

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use super::strconv::go_float;
use super::time::{Duration, Time};
use crate::metrics::histogram::{Bounded, FloatHistogram, notation};

/// One sample of a `query` result (Prometheus's `*template.sample`).
#[derive(Debug, Clone, PartialEq)]
pub struct QuerySample {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
    /// The sample's histogram, when it is one: its `Value` is then the
    /// histogram.
    pub histogram: Option<Arc<FloatHistogram>>,
}

impl QuerySample {
    /// Its `Value`: the float, or the histogram.
    pub fn value(&self) -> Value {
        match &self.histogram {
            Some(h) => Value::Histogram(h.clone()),
            None => Value::Float(self.value),
        }
    }
}

/// A Go value. `Invalid` is reflection's zero `Value` (a missing map key
/// without `missingkey=zero`, nil data): it prints `<no value>`; `Nil` is
/// a nil interface or pointer: it prints `<nil>`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Invalid,
    Nil,
    Bool(bool),
    /// Go's `int` (what integer constants and `len` give).
    Int(i64),
    Int64(i64),
    Uint64(u64),
    Float(f64),
    Str(Rc<str>),
    /// `html/template.HTML`, what `safeHtml` returns: a string type of its own.
    Html(Rc<str>),
    /// `map[string]string`: labels.
    Labels(Rc<BTreeMap<String, String>>),
    /// `map[string]interface {}`: what `args` builds.
    Map(Rc<BTreeMap<String, Value>>),
    /// A slice; the string names the element type (`float64`, `string`).
    /// Alert data holds none, but `slice` keeps one a slice, and
    /// Prometheus's own tests range over them.
    #[cfg_attr(not(test), allow(dead_code))]
    List(Rc<Vec<Value>>, &'static str),
    /// `template.queryResult`, a `[]*sample`.
    Samples(Rc<Vec<Rc<QuerySample>>>),
    /// `*template.sample`.
    Sample(Rc<QuerySample>),
    /// `*time.Time` (`toTime`) or `time.Time` (its methods).
    Time(Time, bool),
    /// `*time.Duration` (`toDuration`) or `time.Duration`.
    Duration(Duration, bool),
    /// The data of an alert's template: a struct with `Labels`,
    /// `ExternalLabels`, `ExternalURL` and `Value`.
    Alert(Rc<AlertData>),
    /// `*histogram.FloatHistogram`: an alert's `$value` when its sample
    /// is a native histogram.
    Histogram(Arc<FloatHistogram>),
}

/// The struct Prometheus's `AlertTemplateData` returns.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertData {
    pub labels: Rc<BTreeMap<String, String>>,
    pub external_labels: Rc<BTreeMap<String, String>>,
    pub external_url: Rc<str>,
    /// A float, or a histogram.
    pub value: Value,
}

/// Go's `reflect.Kind`, as far as templates tell kinds apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Invalid,
    Bool,
    Int,
    Uint,
    Float,
    String,
    Map,
    Slice,
    Pointer,
    Struct,
    Interface,
}

impl Value {
    pub fn str(text: &str) -> Value {
        Value::Str(Rc::from(text))
    }

    /// Go's type name, as `reflect.Type.String()` prints it.
    pub fn type_name(&self) -> String {
        match self {
            Value::Invalid => "<nil>".into(),
            Value::Nil => "interface {}".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Int64(_) => "int64".into(),
            Value::Uint64(_) => "uint64".into(),
            Value::Float(_) => "float64".into(),
            Value::Str(_) => "string".into(),
            Value::Html(_) => "template.HTML".into(),
            Value::Labels(_) => "map[string]string".into(),
            Value::Map(_) => "map[string]interface {}".into(),
            Value::List(_, elem) => format!("[]{elem}"),
            Value::Samples(_) => "template.queryResult".into(),
            Value::Sample(_) => "*template.sample".into(),
            Value::Time(_, pointer) => if *pointer { "*time.Time" } else { "time.Time" }.into(),
            Value::Duration(_, pointer) => {
                if *pointer { "*time.Duration" } else { "time.Duration" }.into()
            }
            Value::Alert(_) => "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value interface {} }".into(),
            Value::Histogram(_) => "*histogram.FloatHistogram".into(),
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Value::Invalid => Kind::Invalid,
            Value::Nil => Kind::Interface,
            Value::Bool(_) => Kind::Bool,
            Value::Int(_) | Value::Int64(_) => Kind::Int,
            Value::Uint64(_) => Kind::Uint,
            Value::Float(_) => Kind::Float,
            Value::Str(_) | Value::Html(_) => Kind::String,
            Value::Labels(_) | Value::Map(_) => Kind::Map,
            Value::List(..) | Value::Samples(_) => Kind::Slice,
            Value::Sample(_) | Value::Histogram(_) => Kind::Pointer,
            Value::Time(_, true) | Value::Duration(_, true) => Kind::Pointer,
            Value::Duration(_, false) => Kind::Int,
            Value::Time(_, false) | Value::Alert(_) => Kind::Struct,
        }
    }

    /// Go's `isTrue`: `None` where Go says "if/with can't use".
    pub fn truth(&self) -> bool {
        match self {
            Value::Invalid | Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(v) | Value::Int64(v) => *v != 0,
            Value::Uint64(v) => *v != 0,
            Value::Float(v) => *v != 0.0,
            Value::Str(s) | Value::Html(s) => !s.is_empty(),
            Value::Labels(m) => !m.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::List(l, _) => !l.is_empty(),
            Value::Samples(l) => !l.is_empty(),
            Value::Duration(d, false) => d.0 != 0,
            Value::Sample(_)
            | Value::Time(..)
            | Value::Duration(_, true)
            | Value::Alert(_)
            | Value::Histogram(_) => true,
        }
    }

    /// The string of a string-kinded value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) | Value::Html(s) => Some(s),
            _ => None,
        }
    }

    /// The elements of a slice, for `range`, `index` and `len`.
    pub fn elements(&self) -> Option<Vec<Value>> {
        match self {
            Value::List(l, _) => Some(l.to_vec()),
            Value::Samples(l) => Some(l.iter().map(|s| Value::Sample(s.clone())).collect()),
            _ => None,
        }
    }

    /// A map's entries in Go's printing (and `range`) order: sorted keys.
    pub fn entries(&self) -> Option<Vec<(String, Value)>> {
        match self {
            Value::Labels(m) => Some(m.iter().map(|(k, v)| (k.clone(), Value::str(v))).collect()),
            Value::Map(m) => Some(m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            _ => None,
        }
    }

    /// How `{{ . }}` and `fmt`'s `%v` print the value.
    pub fn display(&self) -> String {
        self.format(false)
    }

    /// `%v` (`nested`: inside a map or slice, where `fmt` prints nil
    /// interfaces as `<nil>` and strings bare).
    fn format(&self, nested: bool) -> String {
        match self {
            Value::Invalid => {
                if nested {
                    "<nil>".into()
                } else {
                    "<no value>".into()
                }
            }
            Value::Nil => "<nil>".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(v) | Value::Int64(v) => v.to_string(),
            Value::Uint64(v) => v.to_string(),
            Value::Float(v) => go_float(*v),
            Value::Str(s) | Value::Html(s) => s.to_string(),
            Value::Labels(m) => {
                let pairs: Vec<String> = m.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!("map[{}]", pairs.join(" "))
            }
            Value::Map(m) => {
                let pairs: Vec<String> = m
                    .iter()
                    .map(|(k, v)| format!("{k}:{}", v.format(true)))
                    .collect();
                format!("map[{}]", pairs.join(" "))
            }
            Value::List(l, _) => {
                let items: Vec<String> = l.iter().map(|v| v.format(true)).collect();
                format!("[{}]", items.join(" "))
            }
            Value::Samples(l) => {
                // Go prints the pointers' addresses; the samples say more
                // and no address can match Prometheus's anyway.
                let items: Vec<String> = l.iter().map(|s| sample_text(s)).collect();
                format!("[{}]", items.join(" "))
            }
            Value::Sample(s) => format!("&{}", sample_text(s)),
            Value::Time(t, _) => t.to_string(),
            Value::Duration(d, _) => d.to_string(),
            Value::Alert(a) => format!(
                "{{{} {} {} {}}}",
                Value::Labels(a.labels.clone()).format(true),
                Value::Labels(a.external_labels.clone()).format(true),
                a.external_url,
                a.value.format(true)
            ),
            Value::Histogram(h) => histogram_text(h),
        }
    }
}

fn sample_text(s: &QuerySample) -> String {
    format!(
        "{{{} {}}}",
        Value::Labels(Rc::new(s.labels.clone())).format(true),
        s.value().format(true)
    )
}

/// A histogram as Go's `fmt` prints it (`FloatHistogram.String`):
/// `{count:4, sum:5, [-1,-0.5):1, [-0.001,0.001]:1, (0.5,1]:2}`, negative
/// buckets highest first, the zero bucket when it has a count, buckets of
/// count 0 left out.
pub(crate) fn histogram_text(h: &FloatHistogram) -> String {
    let mut parts = vec![format!(
        "{{count:{}, sum:{}",
        notation::go_g(h.count),
        notation::go_g(h.sum)
    )];
    let bucket = |b: Bounded| {
        format!(
            "{}{},{}{}:{}",
            if b.lower_inclusive { '[' } else { '(' },
            notation::go_g(b.lower),
            notation::go_g(b.upper),
            if b.upper_inclusive { ']' } else { ')' },
            notation::go_g(b.count)
        )
    };
    for b in h.negative.iter().rev().filter(|b| b.count != 0.0) {
        parts.push(bucket(h.bounded(*b, false)));
    }
    if h.zero_count != 0.0 {
        parts.push(bucket(h.zero_bucket()));
    }
    for b in h.positive.iter().filter(|b| b.count != 0.0) {
        parts.push(bucket(h.bounded(*b, true)));
    }
    parts.join(", ") + "}"
}
