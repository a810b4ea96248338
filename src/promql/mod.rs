//! PromQL evaluation over the in-memory store, with Prometheus 3 semantics.
//! Parsing is the `promql-parser` crate's (our fork in crates/promql-parser,
//! which adds Prometheus 3's experimental syntax); evaluation is ours (no
//! Rust crate evaluates PromQL).
//!
//! Semantics followed (Prometheus 3):
//! - range selectors and the lookback window are left-open: `x[5m]` at `t`
//!   holds the samples in `(t-5m, t]`; an instant selector takes the latest
//!   sample in `(t-lookback, t]` unless it is a staleness marker;
//! - `offset` and `@` (with `start()` / `end()`) move the evaluation time of
//!   the selector or subquery they modify;
//! - `rate`/`increase`/`delta` extrapolate as Prometheus does, counter
//!   resets included; functions, arithmetic and `bool` comparisons drop the
//!   metric name; `last_over_time`, `label_*`, `sort*`, filters and set
//!   operators keep it;
//! - subquery steps are aligned to multiples of the step, in `(t-range, t]`.
//!
//! Range queries evaluate the expression at every step; selections are
//! resolved once per query.

mod aggregate;
mod binary;
#[cfg(test)]
mod binary_tests;
pub(crate) mod depth;
mod eval;
mod extended;
mod extended_histograms;
pub(crate) mod features;
mod functions;
#[cfg(test)]
mod functions3_tests;
mod guard;
mod histogram;
mod info;
mod limit;
pub(crate) mod limits;
#[cfg(test)]
mod limits_tests;
mod over_time;
pub(crate) mod regex_cache;
mod scalar_functions;
mod sort_by_label;
#[cfg(test)]
mod tests;
mod trim;
mod xxhash;

use std::borrow::Cow;
use std::fmt;

pub use crate::metrics::store::{Labels, Point};
pub use eval::{Evaluator, select};
pub use limits::Limits;

/// Errors of parsing or evaluation, with what went wrong in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("cannot parse the PromQL expression: {0}")]
    Parse(String),
    #[error("{0}")]
    Eval(String),
    #[error("{0} is not supported by slogate's PromQL evaluator")]
    Unsupported(String),
    /// Prometheus: `ErrTooManySamples`.
    #[error(
        "query processing would load too many samples into memory (more than {limit}, \
         the limit of samples per query, as Prometheus's --query.max-samples); \
         hint: select fewer series or a shorter range"
    )]
    TooManySamples { limit: usize },
    #[error(
        "a subquery of {steps} steps is more than the {limit} samples a query may hold; \
         hint: use a longer subquery step (`[1h:1m]`, not `[1h:1ms]`)"
    )]
    SubqueryTooLong { steps: i64, limit: usize },
    /// Prometheus's API: a range query of more points than that per series.
    #[error(
        "exceeded maximum resolution of {limit} points per timeseries ({points} asked); \
         hint: use a longer step or a shorter range"
    )]
    TooManyPoints { points: i64, limit: i64 },
    /// Prometheus: `ErrQueryTimeout`.
    #[error("query timed out after {}s (the evaluation timeout)", limit.as_secs_f64())]
    Timeout { limit: std::time::Duration },
    /// `line` and `column` are 1-based in the expression's text; 0 when the
    /// evaluator found it (an expression not checked at parse time).
    #[error("{}", too_deep(*limit, *line, *column))]
    TooDeep {
        limit: usize,
        line: usize,
        column: usize,
    },
    #[error(
        "{function} would build a label value of {bytes} bytes, more than the limit of {limit}"
    )]
    LabelTooLong {
        function: String,
        bytes: usize,
        limit: usize,
    },
}

fn too_deep(limit: usize, line: usize, column: usize) -> String {
    let at = match (line, column) {
        (0, _) => String::new(),
        (1, c) => format!(" at column {c} of the expression"),
        (l, c) => format!(" at line {l}, column {c} of the expression"),
    };
    format!(
        "the expression nests deeper than {limit} levels{at} (brackets, calls and \
         chained operators each add one); hint: split it into recording rules"
    )
}

/// Splits `labels` into groups by the labels `keep` selects, in order of
/// first appearance: returns each item's group and each group's first
/// item. Groups are found by a hash of the selected labels (no allocation
/// per item), confirmed by comparing them.
pub(crate) fn group_by<'a>(
    labels: impl Iterator<Item = &'a Labels>,
    keep: impl Fn(&str) -> bool,
) -> (Vec<usize>, Vec<&'a Labels>) {
    use std::hash::{Hash, Hasher};
    let mut by_hash: rustc_hash::FxHashMap<u64, Vec<usize>> = Default::default();
    let mut firsts: Vec<&'a Labels> = Vec::new();
    let mut group_of = Vec::new();
    for l in labels {
        let mut hasher = rustc_hash::FxHasher::default();
        for pair in l.iter().filter(|(n, _)| keep(n)) {
            pair.hash(&mut hasher);
        }
        let candidates = by_hash.entry(hasher.finish()).or_default();
        let same = |other: &Labels| {
            l.iter()
                .filter(|(n, _)| keep(n))
                .eq(other.iter().filter(|(n, _)| keep(n)))
        };
        let group = match candidates.iter().find(|&&g| same(firsts[g])) {
            Some(&g) => g,
            None => {
                candidates.push(firsts.len());
                firsts.push(l);
                firsts.len() - 1
            }
        };
        group_of.push(group);
    }
    (group_of, firsts)
}

/// Parses an expression, refusing one nested deeper than
/// [`limits::MAX_DEPTH`] before the parser sees it (see [`depth`]).
pub fn parse(text: &str) -> Result<promql_parser::parser::Expr, Error> {
    depth::check(text, limits::MAX_DEPTH).map_err(|at| Error::TooDeep {
        limit: limits::MAX_DEPTH,
        line: at.line,
        column: at.column,
    })?;
    guard::parse(text).map_err(|e| Error::Parse(e.to_string().trim().to_string()))
}

/// One element of an instant vector: labels, the time of the sample (the
/// evaluation time, except straight from a selector), and the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Labels,
    pub t: i64,
    pub v: f64,
}

/// A series over a range. Points are borrowed from the store when they
/// can be (no staleness marker in the window), so a range selector over
/// a long window costs no copy.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeSeries<'s> {
    pub labels: Labels,
    /// `labels` without `__name__`, for functions that drop it.
    pub without_name: Labels,
    pub points: Cow<'s, [Point]>,
    /// Series index in the store and the index of the first point, when the
    /// points are the store's own (no staleness marker removed).
    pub source: Option<(usize, usize)>,
}

/// What an expression evaluates to.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'s> {
    Scalar(f64),
    String(String),
    Vector(Vec<Sample>),
    /// Series over `(start, end]` (a range selector or subquery).
    Matrix(Matrix<'s>),
}

/// A range vector with the window it was selected over, which `rate` and
/// friends extrapolate to.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix<'s> {
    pub start: i64,
    pub end: i64,
    pub series: Vec<RangeSeries<'s>>,
}

/// A series of a range query's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: Labels,
    pub points: Vec<Point>,
}

impl Value<'_> {
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Scalar(_) => "scalar",
            Value::String(_) => "string",
            Value::Vector(_) => "instant vector",
            Value::Matrix(_) => "range vector",
        }
    }
}

/// Formats a value as Prometheus's API does: shortest form, `NaN`, `+Inf`,
/// `-Inf`.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

/// Parses a value in Prometheus's string form.
pub fn parse_value(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => text.parse().ok(),
    }
}

impl fmt::Display for Sample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.labels, format_value(self.v))
    }
}
