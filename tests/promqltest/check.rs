//! One `eval` of the suite against slogate's evaluator, compared as
//! `promqltest`'s `compareResult` compares: label sets exactly, values to
//! 1e-6 relative (NaN equals NaN), points by timestamp, order only where
//! `ordered` asks. An instant eval is also run as a range query from
//! `t - 1m` to `t + 1m` at 1 m steps, whose point at `t` must agree too
//! (test.go's "range mode"), unless it asks for order, a range vector, or
//! uses `start()`, `end()`, `range()` or `step()`. And as test.go does,
//! an instant eval is repeated with `@ t` written on every selector and
//! subquery that has none, evaluated at other times (`-10t`, `0`, `t/5`,
//! `t`, `10t`), which must give the same answer, unless it calls a
//! function whose answer depends on the evaluation time.

use std::collections::HashMap;
use std::sync::Arc;

use slogate::metrics::histogram::FloatHistogram;
use slogate::metrics::histogram::notation::{Written, expression};
use slogate::metrics::store::{Labels, Store};
use slogate::promql::{self, Evaluator, Limits, Value};

use super::script::{Eval, Expected, Timing};
use super::series::Item;

/// Prometheus's test engine: `DefaultMaxSamplesPerQuery`.
const MAX_SAMPLES: usize = 10_000;

fn evaluator(store: &Store) -> Evaluator<'_> {
    Evaluator::new(store).with_limits(Limits {
        max_samples: MAX_SAMPLES,
        ..Limits::default()
    })
}

/// A value of a result: a float, or the native histogram its tag names.
#[derive(Debug, Clone)]
pub enum Got {
    F(f64),
    H(Arc<FloatHistogram>),
}

fn got(ev: &Evaluator<'_>, v: f64) -> Got {
    match ev.histogram(v) {
        Some(h) => Got::H(h),
        None => Got::F(v),
    }
}

impl std::fmt::Display for Got {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Got::F(v) => f.write_str(&promql::format_value(*v)),
            Got::H(h) => f.write_str(&expression(h)),
        }
    }
}

/// `Ok` when slogate agrees with the expectation, else what differs.
pub fn run(store: &Store, eval: &Eval) -> Result<(), String> {
    let parsed = promql::parse(&eval.expr);
    let expr = match parsed {
        Ok(expr) => expr,
        Err(_) if eval.fail => return Ok(()),
        Err(e) => return Err(format!("parse: {e}")),
    };
    match eval.timing {
        Timing::Instant { at } => {
            let mut ev = evaluator(store);
            let value = ev.instant(&expr, at);
            let value = match value {
                Err(_) if eval.fail => return Ok(()),
                Err(e) => return Err(format!("error: {e}")),
                Ok(_) if eval.fail => return Err("no error, where one is expected".into()),
                Ok(v) => v,
            };
            instant(eval, &ev, &value)?;
            both_modes(store, eval, &expr, at)?;
            let Some((pinned, times)) = pinned_at(&expr, at) else {
                return Ok(());
            };
            for t in times {
                let mut ev = evaluator(store);
                let value = ev
                    .instant(&pinned, t)
                    .map_err(|e| format!("with @ {at} ms, at {t} ms: error: {e}"))?;
                instant(eval, &ev, &value)
                    .map_err(|e| format!("with @ {at} ms, at {t} ms: {e}"))?;
                both_modes(store, eval, &pinned, t)
                    .map_err(|e| format!("with @ {at} ms, at {t} ms: {e}"))?;
            }
            Ok(())
        }
        Timing::Range { start, end, step } => {
            let mut ev = evaluator(store);
            match ev.range(&expr, start, end, step) {
                Err(_) if eval.fail => Ok(()),
                Err(e) => Err(format!("error: {e}")),
                Ok(_) if eval.fail => Err("no error, where one is expected".into()),
                Ok(series) => {
                    let got: Vec<(Labels, Vec<(i64, Got)>)> = series
                        .into_iter()
                        .map(|s| {
                            let points = s.points.iter().map(|p| (p.t, got(&ev, p.v))).collect();
                            (s.labels, points)
                        })
                        .collect();
                    matrix(eval, &got, start, end, step)
                }
            }
        }
    }
}

/// The range-mode check of an instant eval, where test.go makes it.
fn both_modes(
    store: &Store,
    eval: &Eval,
    expr: &promql_parser::parser::Expr,
    t: i64,
) -> Result<(), String> {
    if eval.ordered
        || eval.range_vector.is_some()
        || matches!(eval.expected, Expected::String(_))
        || uses_query_context(&eval.expr)
    {
        return Ok(());
    }
    range_mode(store, eval, expr, t)
}

/// test.go's `atModifierTestCases`: `expr` with `@ t` on every selector
/// and subquery without one (not inside a subquery that has one), and the
/// times to evaluate it at; None when it calls a function that is not safe
/// under `@`.
fn pinned_at(
    expr: &promql_parser::parser::Expr,
    t: i64,
) -> Option<(promql_parser::parser::Expr, Vec<i64>)> {
    use promql_parser::parser::{AtModifier, Expr};
    const UNSAFE: [&str; 15] = [
        "days_in_month",
        "day_of_month",
        "day_of_week",
        "day_of_year",
        "end",
        "hour",
        "minute",
        "month",
        "year",
        "predict_linear",
        "range",
        "start",
        "step",
        "time",
        "timestamp",
    ];
    let time = if t >= 0 {
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(t as u64)
    } else {
        std::time::UNIX_EPOCH - std::time::Duration::from_millis(t.unsigned_abs())
    };
    fn pin(e: &mut Expr, at: std::time::SystemTime, unsafe_call: &mut bool) {
        match e {
            Expr::VectorSelector(vs) => {
                vs.at.get_or_insert(AtModifier::At(at));
            }
            Expr::MatrixSelector(ms) => {
                ms.vs.at.get_or_insert(AtModifier::At(at));
            }
            // Below a subquery pinned to a time, nothing is looked at.
            Expr::Subquery(sq) => {
                if sq.at.is_none() {
                    sq.at = Some(AtModifier::At(at));
                }
            }
            Expr::Call(c) => {
                *unsafe_call |= UNSAFE.contains(&c.func.name);
                for a in c.args.args.iter_mut() {
                    pin(a, at, unsafe_call);
                }
            }
            Expr::Paren(p) => pin(&mut p.expr, at, unsafe_call),
            Expr::Unary(u) => pin(&mut u.expr, at, unsafe_call),
            Expr::Binary(b) => {
                pin(&mut b.lhs, at, unsafe_call);
                pin(&mut b.rhs, at, unsafe_call);
            }
            Expr::Aggregate(a) => {
                pin(&mut a.expr, at, unsafe_call);
                if let Some(p) = a.param.as_mut() {
                    pin(p, at, unsafe_call);
                }
            }
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
        }
    }
    let mut pinned = expr.clone();
    let mut unsafe_call = false;
    pin(&mut pinned, time, &mut unsafe_call);
    if unsafe_call {
        return None;
    }
    let times = if t == 0 {
        vec![-1000, 0, 1000]
    } else {
        vec![-10 * t, 0, t / 5, t, 10 * t]
    };
    Some((pinned, times))
}

/// test.go's `reQueryContextFuncs`.
fn uses_query_context(expr: &str) -> bool {
    ["start()", "end()", "range()", "step()"]
        .iter()
        .any(|f| expr.contains(f))
}

fn instant(eval: &Eval, ev: &Evaluator<'_>, value: &Value<'_>) -> Result<(), String> {
    match (value, &eval.expected) {
        (Value::Scalar(v), Expected::Scalar(e)) => same(*e, *v, "scalar"),
        (Value::String(s), Expected::String(e)) => {
            if s == e {
                Ok(())
            } else {
                Err(format!("expected string {e:?}, got {s:?}"))
            }
        }
        (Value::Vector(samples), Expected::Series(expected)) => {
            let got: Vec<(Labels, Got)> = samples
                .iter()
                .map(|s| (s.labels.clone(), got(ev, s.v)))
                .collect();
            vector(eval, &got, expected)
        }
        (Value::Matrix(m), Expected::Series(_)) => {
            let Some((start, end, step)) = eval.range_vector else {
                return Err("got a range vector where an instant vector is expected".into());
            };
            let got: Vec<(Labels, Vec<(i64, Got)>)> = m
                .series
                .iter()
                .map(|s| {
                    (
                        s.labels.clone(),
                        s.points.iter().map(|p| (p.t, got(ev, p.v))).collect(),
                    )
                })
                .collect();
            matrix(eval, &got, start, end, step)
        }
        (got, Expected::Scalar(_)) => Err(format!("expected a scalar, got a {}", got.kind())),
        (got, Expected::String(_)) => Err(format!("expected a string, got a {}", got.kind())),
        (Value::Scalar(_) | Value::String(_), Expected::Series(_)) => {
            Err(format!("expected a vector, got a {}", value.kind()))
        }
    }
}

fn vector(
    eval: &Eval,
    got: &[(Labels, Got)],
    expected: &[(Labels, Vec<Item>, usize)],
) -> Result<(), String> {
    let by_labels: HashMap<&Labels, (Item, usize)> = expected
        .iter()
        .map(|(l, items, pos)| {
            let v = match items.first() {
                Some(item @ (Item::Value(_) | Item::Histogram(_))) => item.clone(),
                _ => Item::Value(f64::NAN),
            };
            (l, (v, *pos))
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    for (i, (labels, v)) in got.iter().enumerate() {
        let Some((e, pos)) = by_labels.get(labels) else {
            return Err(format!("unexpected {labels} {v}"));
        };
        let pos = *pos;
        if eval.ordered && pos != i + 1 {
            return Err(format!("{labels} at position {}, expected at {pos}", i + 1));
        }
        if !seen.insert(labels) {
            return Err(format!("{labels} twice in the result"));
        }
        same_item(e, v, &labels.to_string())?;
    }
    if let Some((l, _, _)) = expected.iter().find(|(l, _, _)| !seen.contains(l)) {
        return Err(format!("expected {l}, not in the result"));
    }
    Ok(())
}

fn matrix(
    eval: &Eval,
    got: &[(Labels, Vec<(i64, Got)>)],
    start: i64,
    end: i64,
    step: i64,
) -> Result<(), String> {
    let expected = match &eval.expected {
        Expected::Series(s) => s,
        Expected::Scalar(_) => return Err("expected a scalar, got a matrix".into()),
        Expected::String(_) => return Err("expected a string, got a matrix".into()),
    };
    if got.windows(2).any(|w| w[0].0 > w[1].0) {
        return Err("the matrix is not sorted by labels".into());
    }
    let by_labels: HashMap<&Labels, &Vec<Item>> = expected.iter().map(|(l, v, _)| (l, v)).collect();
    for (labels, points) in got {
        let Some(items) = by_labels.get(labels) else {
            return Err(format!("unexpected series {labels}: {points:?}"));
        };
        let mut want = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let t = start + i as i64 * step;
            if t > end {
                return Err(format!(
                    "{labels}: more points expected than the range holds"
                ));
            }
            if !matches!(item, Item::Omitted) {
                want.push((t, item.clone()));
            }
        }
        let times = |p: &[(i64, Got)]| p.iter().map(|(t, _)| *t).collect::<Vec<_>>();
        if want.len() != points.len() || want.iter().map(|(t, _)| *t).ne(times(points)) {
            return Err(format!(
                "{labels}: expected points at {:?}, got {:?}",
                want.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
                times(points)
            ));
        }
        for (w, g) in want.iter().zip(points) {
            same_item(&w.1, &g.1, &labels.to_string())?;
        }
    }
    if let Some((l, _, _)) = expected
        .iter()
        .find(|(l, _, _)| !got.iter().any(|(g, _)| g == l))
    {
        return Err(format!("expected series {l}, not in the result"));
    }
    Ok(())
}

/// The instant eval as a range query around `t`, its points at `t`.
fn range_mode(
    store: &Store,
    eval: &Eval,
    expr: &promql_parser::parser::Expr,
    t: i64,
) -> Result<(), String> {
    let mut ev = evaluator(store);
    let series = ev
        .range(expr, t - 60_000, t + 60_000, 60_000)
        .map_err(|e| format!("range mode: error: {e}"))?;
    if series.windows(2).any(|w| w[0].labels > w[1].labels) {
        return Err("range mode: the matrix is not sorted by labels".into());
    }
    let at_t: Vec<(Labels, Got)> = series
        .iter()
        .filter_map(|s| {
            s.points
                .iter()
                .find(|p| p.t == t)
                .map(|p| (s.labels.clone(), got(&ev, p.v)))
        })
        .collect();
    let outcome = match &eval.expected {
        Expected::Scalar(e) => match at_t.first() {
            Some((_, v)) => same_item(&Item::Value(*e), v, "scalar"),
            None => Err("no point".into()),
        },
        Expected::Series(expected) => vector(eval, &at_t, expected),
        Expected::String(_) => Ok(()),
    };
    outcome.map_err(|e| format!("range mode: {e}"))
}

/// A value against its expectation: floats by [`same`], histograms as
/// test.go's `compareNativeHistogram` (both compacted; the counter-reset
/// hint only when the expectation gives one).
fn same_item(expected: &Item, got: &Got, what: &str) -> Result<(), String> {
    match (expected, got) {
        (Item::Value(e), Got::F(v)) => same(*e, *v, what),
        (Item::Histogram(w), Got::H(h)) => {
            if same_histogram(w, h) {
                Ok(())
            } else {
                Err(format!(
                    "{what}: expected {}, got {}",
                    expression(&w.histogram),
                    expression(h)
                ))
            }
        }
        (Item::Histogram(w), Got::F(v)) => Err(format!(
            "{what}: expected {}, got the float {}",
            expression(&w.histogram),
            promql::format_value(*v)
        )),
        (_, got) => Err(format!("{what}: expected a float, got {got}")),
    }
}

pub fn same_histogram(w: &Written, got: &FloatHistogram) -> bool {
    let (e, g) = (w.histogram.clone().compact(), got.clone().compact());
    let close = |a: f64, b: f64| same(a, b, "").is_ok();
    let buckets = |a: &[slogate::metrics::histogram::Bucket],
                   b: &[slogate::metrics::histogram::Bucket]| {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x.index == y.index && close(x.count, y.count))
    };
    e.schema == g.schema
        && close(e.count, g.count)
        && close(e.sum, g.sum)
        && (!e.uses_custom_buckets() || e.custom_values == g.custom_values)
        && e.zero_threshold == g.zero_threshold
        && close(e.zero_count, g.zero_count)
        && buckets(&e.negative, &g.negative)
        && buckets(&e.positive, &g.positive)
        && (!w.hint_set || e.hint == g.hint)
}

/// `almost.Equal(got, expected, 1e-6)`.
fn same(expected: f64, got: f64, what: &str) -> Result<(), String> {
    let equal = if expected.is_nan() || got.is_nan() {
        expected.is_nan() && got.is_nan()
    } else if expected == got {
        true
    } else {
        let sum = expected.abs() + got.abs();
        let diff = (expected - got).abs();
        if expected == 0.0 || got == 0.0 || sum < f64::MIN_POSITIVE {
            diff < 1e-6 * f64::MIN_POSITIVE
        } else {
            diff / sum.min(f64::MAX) < 1e-6
        }
    };
    if equal {
        Ok(())
    } else {
        Err(format!(
            "{what}: expected {}, got {}",
            promql::format_value(expected),
            promql::format_value(got)
        ))
    }
}
