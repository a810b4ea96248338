//! PromQL functions, each as Prometheus computes it (the comments name the
//! Go function where the arithmetic is easy to get subtly wrong).
//!
//! Longer than 700 lines on purpose: [`call`] is the one table of every
//! function by name, and the small helpers each arm calls sit beside it, so
//! the file reads as Prometheus's `functions.go` does; the histogram
//! functions already live in `histogram.rs`. Splitting the table by letter
//! or kind would leave a reader two places to look for one function.

use promql_parser::label::MatchOp;
use promql_parser::parser::{Call, Expr};

use super::eval::{Evaluator, check_unique};
use super::histogram::RangeFn;
use super::{Error, Labels, Matrix, Sample, Value};
pub(super) use crate::metrics::histogram::kahan_inc;
use crate::metrics::store::{NAME, Point, TYPE, UNIT};

pub(super) fn call<'s>(ev: &Evaluator<'s>, call: &Call, t: i64) -> Result<Value<'s>, Error> {
    let args = &call.args.args;
    let name = call.func.name;
    // Functions of floats drop histogram samples, as Prometheus's do.
    let vector =
        |i: usize| vector_arg(ev, &args[i], t).map(|v| super::histogram::floats(ev, name, v));
    let matrix =
        |i: usize| matrix_arg(ev, &args[i], t).map(|m| super::histogram::float_range(ev, name, m));
    let scalar = |i: usize| scalar_arg(ev, &args[i], t);
    if let Some(out) = super::extended::call(ev, call, t) {
        return out;
    }
    if let Some(out) = super::histogram::call(ev, call, t) {
        if let Ok(Value::Vector(v)) = &out {
            check_unique(v)?;
        }
        return out;
    }
    let out = match name {
        "time" => return Ok(Value::Scalar(t as f64 / 1000.0)),
        "pi" => return Ok(Value::Scalar(std::f64::consts::PI)),
        "vector" => {
            return Ok(Value::Vector(vec![Sample {
                labels: Labels::empty(),
                t,
                v: scalar(0)?,
            }]));
        }
        "scalar" => {
            // The one float sample's value; histograms are not counted
            // (Prometheus's `funcScalar`), and never pass as a value.
            let mut v = vector(0)?;
            if ev.has_histograms() {
                v.retain(|s| !crate::metrics::histogram::tag::is_histogram(s.v));
            }
            return Ok(Value::Scalar(if v.len() == 1 { v[0].v } else { f64::NAN }));
        }
        "rate" | "increase" => {
            let mut m = matrix(0)?;
            let is_rate = name == "rate";
            let f = if is_rate {
                RangeFn::Rate
            } else {
                RangeFn::Increase
            };
            let native = super::histogram::take_range(ev, &mut m, f, t);
            m.series
                .iter()
                .filter_map(|s| {
                    // Resets from the series' running sum when the window
                    // is the store's own; else counted.
                    let resets = match s.source {
                        Some((id, from)) if s.points.len() >= 2 => {
                            ev.reset_correction(id, from, from + s.points.len())
                        }
                        _ => scan_resets(&s.points),
                    };
                    Some(Sample {
                        labels: s.without_name.clone(),
                        t,
                        v: extrapolated_rate(&s.points, &m, Some(resets), is_rate, ev.legacy_rate)?,
                    })
                })
                .chain(native)
                .collect()
        }
        "delta" | "irate" | "idelta" => {
            let mut m = matrix(0)?;
            let f = match name {
                "delta" => RangeFn::Delta,
                "irate" => RangeFn::Irate,
                _ => RangeFn::Idelta,
            };
            let native = super::histogram::take_range(ev, &mut m, f, t);
            let mut out = over_range(&m, t, false, |p, m| match f {
                RangeFn::Delta => extrapolated_rate(p, m, None, false, ev.legacy_rate),
                _ => instant_value(p, f == RangeFn::Irate),
            });
            out.extend(native);
            out
        }
        "deriv" => over_range(&matrix(0)?, t, false, |p, _| {
            (p.len() >= 2).then(|| linear_regression(p, p[0].t).0)
        }),
        "predict_linear" => {
            let seconds = scalar(1)?;
            over_range(&matrix(0)?, t, false, |p, _| {
                (p.len() >= 2).then(|| {
                    let (slope, intercept) = linear_regression(p, t);
                    slope * seconds + intercept
                })
            })
        }
        "resets" | "changes" if ev.has_histograms() => {
            let resets = name == "resets";
            over_range(&matrix(0)?, t, false, |p, _| {
                Some(super::histogram::changes(ev, p, resets))
            })
        }
        "resets" => over_range(&matrix(0)?, t, false, |p, _| {
            Some(p.windows(2).filter(|w| w[1].v < w[0].v).count() as f64)
        }),
        "changes" => over_range(&matrix(0)?, t, false, |p, _| {
            Some(
                p.windows(2)
                    .filter(|w| w[1].v != w[0].v && !(w[1].v.is_nan() && w[0].v.is_nan()))
                    .count() as f64,
            )
        }),
        "avg_over_time" | "sum_over_time" => {
            let mut m = matrix(0)?;
            let avg = name == "avg_over_time";
            let f = if avg {
                RangeFn::AvgOverTime
            } else {
                RangeFn::SumOverTime
            };
            let native = super::histogram::take_range(ev, &mut m, f, t);
            let mut out = over_range(&m, t, false, |p, _| {
                Some(if avg {
                    mean(p.iter().map(|x| x.v))
                } else {
                    kahan_sum(p.iter().map(|x| x.v))
                })
            });
            out.extend(native);
            out
        }
        "count_over_time" => over_range(&matrix(0)?, t, false, |p, _| Some(p.len() as f64)),
        "min_over_time" => over_range(&matrix(0)?, t, false, |p, _| {
            Some(p.iter().fold(
                f64::NAN,
                |acc, x| if acc > x.v || acc.is_nan() { x.v } else { acc },
            ))
        }),
        "max_over_time" => over_range(&matrix(0)?, t, false, |p, _| {
            Some(p.iter().fold(
                f64::NAN,
                |acc, x| if acc < x.v || acc.is_nan() { x.v } else { acc },
            ))
        }),
        "last_over_time" => over_range(&matrix(0)?, t, true, |p, _| p.last().map(|x| x.v)),
        "first_over_time" => over_range(&matrix(0)?, t, true, |p, _| p.first().map(|x| x.v)),
        "present_over_time" => over_range(&matrix(0)?, t, false, |_, _| Some(1.0)),
        "stddev_over_time" => over_range(&matrix(0)?, t, false, |p, _| {
            Some(variance(p.iter().map(|x| x.v)).sqrt())
        }),
        "stdvar_over_time" => over_range(&matrix(0)?, t, false, |p, _| {
            Some(variance(p.iter().map(|x| x.v)))
        }),
        "quantile_over_time" => {
            let q = scalar(0)?;
            over_range(&matrix(1)?, t, false, |p, _| {
                let mut values: Vec<f64> = p.iter().map(|x| x.v).collect();
                Some(quantile(q, &mut values))
            })
        }
        "absent_over_time" => {
            let m = matrix(0)?;
            return Ok(Value::Vector(absent(m.series.is_empty(), &args[0], t)));
        }
        "absent" => {
            let v = vector(0)?;
            return Ok(Value::Vector(absent(v.is_empty(), &args[0], t)));
        }
        "abs" => map(vector(0)?, t, f64::abs),
        "ceil" => map(vector(0)?, t, f64::ceil),
        "floor" => map(vector(0)?, t, f64::floor),
        "sqrt" => map(vector(0)?, t, f64::sqrt),
        "exp" => map(vector(0)?, t, f64::exp),
        "ln" => map(vector(0)?, t, f64::ln),
        "log2" => map(vector(0)?, t, f64::log2),
        "log10" => map(vector(0)?, t, f64::log10),
        "sgn" => map(vector(0)?, t, |v| {
            if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                v
            }
        }),
        "acos" => map(vector(0)?, t, f64::acos),
        "acosh" => map(vector(0)?, t, f64::acosh),
        "asin" => map(vector(0)?, t, f64::asin),
        "asinh" => map(vector(0)?, t, f64::asinh),
        "atan" => map(vector(0)?, t, f64::atan),
        "atanh" => map(vector(0)?, t, f64::atanh),
        "cos" => map(vector(0)?, t, f64::cos),
        "cosh" => map(vector(0)?, t, f64::cosh),
        "sin" => map(vector(0)?, t, f64::sin),
        "sinh" => map(vector(0)?, t, f64::sinh),
        "tan" => map(vector(0)?, t, f64::tan),
        "tanh" => map(vector(0)?, t, f64::tanh),
        "deg" => map(vector(0)?, t, f64::to_degrees),
        "rad" => map(vector(0)?, t, f64::to_radians),
        "round" => {
            let to = if args.len() > 1 { scalar(1)? } else { 1.0 };
            let inverse = 1.0 / to;
            map(vector(0)?, t, |v| (v * inverse + 0.5).floor() / inverse)
        }
        "clamp" => {
            let (lo, hi) = (scalar(1)?, scalar(2)?);
            if hi < lo {
                return Ok(Value::Vector(Vec::new()));
            }
            map(vector(0)?, t, |v| go_max(lo, go_min(hi, v)))
        }
        "clamp_min" => {
            let lo = scalar(1)?;
            map(vector(0)?, t, |v| go_max(lo, v))
        }
        "clamp_max" => {
            let hi = scalar(1)?;
            map(vector(0)?, t, |v| go_min(hi, v))
        }
        "timestamp" => vector(0)?
            .into_iter()
            .map(|s| Sample {
                labels: s.labels.without_metadata(),
                t,
                v: s.t as f64 / 1000.0,
            })
            .collect(),
        "sort" | "sort_desc" => {
            let mut v = vector(0)?;
            let desc = name == "sort_desc";
            v.sort_by(|a, b| nan_last(a.v, b.v, desc));
            return Ok(Value::Vector(v));
        }
        "label_replace" => {
            let dst = string_arg(&args[1])?;
            let replacement = string_arg(&args[2])?;
            let src = string_arg(&args[3])?;
            let pattern = string_arg(&args[4])?;
            let regex = super::regex_cache::regex(&format!("^(?s:{pattern})$")).map_err(|e| {
                Error::Eval(format!("label_replace: invalid regular expression: {e}"))
            })?;
            check_label_name(&dst, "label_replace")?;
            // Each `$` of the replacement expands to at most the whole value.
            let expansions = replacement.matches('$').count();
            vector(0)?
                .into_iter()
                .map(|s| {
                    let value = s.labels.get(&src).unwrap_or("");
                    let labels = match regex.captures(value) {
                        Some(caps) => {
                            // Expanded only when that is at most 16 times
                            // the limit, so the check itself stays bounded.
                            let most = replacement
                                .len()
                                .saturating_add(expansions.saturating_mul(value.len()));
                            let limit = ev.budget.limits.max_label_value_bytes;
                            if most > limit.saturating_mul(16) {
                                ev.budget.check_label_value("label_replace", most)?;
                            }
                            let mut out = String::new();
                            caps.expand(&replacement, &mut out);
                            ev.budget.check_label_value("label_replace", out.len())?;
                            s.labels.with(&dst, &out)
                        }
                        None => s.labels,
                    };
                    Ok(Sample {
                        labels,
                        t: s.t,
                        v: s.v,
                    })
                })
                .collect::<Result<_, Error>>()?
        }
        "label_join" => {
            let dst = string_arg(&args[1])?;
            let separator = string_arg(&args[2])?;
            let sources: Vec<String> = args[3..]
                .iter()
                .map(|a| string_arg(a))
                .collect::<Result<_, _>>()?;
            check_label_name(&dst, "label_join")?;
            vector(0)?
                .into_iter()
                .map(|s| {
                    let joined: Vec<&str> = sources
                        .iter()
                        .map(|n| s.labels.get(n).unwrap_or(""))
                        .collect();
                    let bytes = joined.iter().map(|v| v.len()).sum::<usize>()
                        + separator.len() * joined.len().saturating_sub(1);
                    ev.budget.check_label_value("label_join", bytes)?;
                    let labels = s.labels.with(&dst, &joined.join(&separator));
                    Ok(Sample {
                        labels,
                        t: s.t,
                        v: s.v,
                    })
                })
                .collect::<Result<_, Error>>()?
        }
        "histogram_quantile" => {
            let site = call as *const Call as usize;
            histogram_quantile(ev, site, scalar(0)?, vector(1)?, t)
        }
        "minute" | "hour" | "day_of_week" | "day_of_month" | "day_of_year" | "days_in_month"
        | "month" | "year" => {
            let part = |seconds: f64| date_part(name, seconds);
            if args.is_empty() {
                return Ok(Value::Vector(vec![Sample {
                    labels: Labels::empty(),
                    t,
                    v: part(t as f64 / 1000.0),
                }]));
            }
            map(vector(0)?, t, part)
        }
        "info" => super::info::info(ev, args, t)?,
        "sort_by_label" | "sort_by_label_desc" => {
            let mut v = vector(0)?;
            let labels: Vec<String> = args[1..]
                .iter()
                .map(|a| string_arg(a))
                .collect::<Result<_, _>>()?;
            super::sort_by_label::sort(&mut v, &labels, name == "sort_by_label_desc");
            return Ok(Value::Vector(v));
        }
        other if let Some(value) = super::scalar_functions::call(ev, other, args, t) => {
            return value;
        }
        other => match super::over_time::call(ev, other, args, t) {
            Some(out) => out?,
            None => return Err(Error::Unsupported(format!("the function `{other}`"))),
        },
    };
    check_unique(&out)?;
    Ok(Value::Vector(out))
}

fn vector_arg(ev: &Evaluator<'_>, expr: &Expr, t: i64) -> Result<Vec<Sample>, Error> {
    match ev.eval(expr, t)? {
        Value::Vector(v) => Ok(v),
        other => Err(Error::Eval(format!(
            "expected an instant vector, got a {}",
            other.kind()
        ))),
    }
}

pub(super) fn matrix_arg<'s>(ev: &Evaluator<'s>, expr: &Expr, t: i64) -> Result<Matrix<'s>, Error> {
    match ev.eval(expr, t)? {
        Value::Matrix(m) => Ok(m),
        other => Err(Error::Eval(format!(
            "expected a range vector, got a {}",
            other.kind()
        ))),
    }
}

pub(super) fn scalar_arg(ev: &Evaluator<'_>, expr: &Expr, t: i64) -> Result<f64, Error> {
    match ev.eval(expr, t)? {
        Value::Scalar(v) => Ok(v),
        other => Err(Error::Eval(format!(
            "expected a scalar, got a {}",
            other.kind()
        ))),
    }
}

pub(super) fn string_arg(expr: &Expr) -> Result<String, Error> {
    match expr {
        Expr::StringLiteral(s) => Ok(s.val.clone()),
        Expr::Paren(p) => string_arg(&p.expr),
        _ => Err(Error::Eval("expected a string literal".into())),
    }
}

fn check_label_name(name: &str, function: &str) -> Result<(), Error> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(Error::Eval(format!(
            "{function}: invalid destination label name `{name}`"
        )))
    }
}

/// Applies `f` to each series of a range vector with at least one point.
pub(super) fn over_range(
    m: &Matrix<'_>,
    t: i64,
    keep_name: bool,
    mut f: impl FnMut(&[Point], &Matrix<'_>) -> Option<f64>,
) -> Vec<Sample> {
    m.series
        .iter()
        .filter_map(|s| {
            let v = f(&s.points, m)?;
            Some(Sample {
                labels: if keep_name {
                    s.labels.clone()
                } else {
                    s.without_name.clone()
                },
                t,
                v,
            })
        })
        .collect()
}

/// Applies `f` to each value, dropping the metric name.
fn map(v: Vec<Sample>, t: i64, f: impl Fn(f64) -> f64) -> Vec<Sample> {
    v.into_iter()
        .map(|s| Sample {
            labels: s.labels.without_metadata(),
            t,
            v: f(s.v),
        })
        .collect()
}

/// Orders values ascending (or descending), NaN last either way.
pub(super) fn nan_last(a: f64, b: f64, descending: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ if descending => b.total_cmp(&a),
        _ => a.total_cmp(&b),
    }
}

/// Go's math.Min and math.Max: NaN wins.
fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// What counter resets within `points` add to `last - first`: each value
/// before a drop.
fn scan_resets(points: &[Point]) -> f64 {
    points
        .windows(2)
        .filter(|w| w[1].v < w[0].v)
        .map(|w| w[0].v)
        .sum()
}

/// `extrapolatedRate` of Prometheus 3 (promql/functions.go); `resets` is
/// the counter-reset correction for a counter (rate, increase), None for a
/// gauge (delta). `legacy`: as Prometheus before its commit 7f912db
/// ("Fix limiting of extrapolation to negative values", 2024, e.g.
/// Debian 12's 2.42), which tested the zero point before the 110 % rule.
fn extrapolated_rate(
    points: &[Point],
    m: &Matrix<'_>,
    resets: Option<f64>,
    is_rate: bool,
    legacy: bool,
) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let first = points[0];
    let last = points[points.len() - 1];
    let is_counter = resets.is_some();
    let result = last.v - first.v + resets.unwrap_or(0.0);
    let mut to_start = (first.t - m.start) as f64 / 1000.0;
    let mut to_end = (m.end - last.t) as f64 / 1000.0;
    let sampled = (last.t - first.t) as f64 / 1000.0;
    let average = sampled / (points.len() - 1) as f64;
    let threshold = average * 1.1;
    let zero_point = |to_start: &mut f64| {
        if is_counter && result > 0.0 && first.v >= 0.0 {
            // Counters cannot go below zero: extrapolate no further than
            // the point where this one would have been zero.
            let to_zero = sampled * (first.v / result);
            if to_zero < *to_start {
                *to_start = to_zero;
            }
        }
    };
    if legacy {
        zero_point(&mut to_start);
    }
    if to_start >= threshold {
        to_start = average / 2.0;
    }
    if !legacy {
        zero_point(&mut to_start);
    }
    if to_end >= threshold {
        to_end = average / 2.0;
    }
    let mut factor = (sampled + to_start + to_end) / sampled;
    if is_rate {
        factor /= (m.end - m.start) as f64 / 1000.0;
    }
    Some(result * factor)
}

/// `instantValue`: irate and idelta from the last two points.
fn instant_value(points: &[Point], is_rate: bool) -> Option<f64> {
    let [.., previous, last] = points else {
        return None;
    };
    let mut result = if is_rate && last.v < previous.v {
        last.v
    } else {
        last.v - previous.v
    };
    let interval = last.t - previous.t;
    if interval == 0 {
        return None;
    }
    if is_rate {
        result /= interval as f64 / 1000.0;
    }
    Some(result)
}

pub(super) fn kahan_sum(values: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut c) = (0.0, 0.0);
    for v in values {
        (sum, c) = kahan_inc(v, sum, c);
    }
    if sum.is_infinite() { sum } else { sum + c }
}

/// The mean as Prometheus computes `avg` and `avg_over_time`: the Kahan
/// sum over the count while the sum stays finite, then, from the value
/// that would overflow it, an incremental mean (so `avg` of values near
/// `f64::MAX` is finite, and of `+Inf` and `-Inf` NaN).
pub(super) fn mean(mut values: impl Iterator<Item = f64>) -> f64 {
    let Some(first) = values.next() else {
        return f64::NAN;
    };
    let (mut sum, mut c, mut count) = (first, 0.0, 1.0);
    let mut incremental: Option<f64> = None;
    for v in values {
        count += 1.0;
        let mut mean = match incremental {
            Some(mean) => mean,
            None => {
                let (next, next_c) = kahan_inc(v, sum, c);
                if !next.is_infinite() {
                    (sum, c) = (next, next_c);
                    continue;
                }
                c /= count - 1.0;
                sum / (count - 1.0)
            }
        };
        let q = (count - 1.0) / count;
        (mean, c) = kahan_inc(v / count, q * mean, q * c);
        incremental = Some(mean);
    }
    match incremental {
        Some(mean) => mean + c,
        None => sum / count + c / count,
    }
}

/// Population variance, computed as Prometheus does (Welford with Kahan).
pub(super) fn variance(values: impl Iterator<Item = f64>) -> f64 {
    let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for v in values {
        count += 1.0;
        let delta = v - (mean + c_mean);
        (mean, c_mean) = kahan_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_inc(delta * (v - (mean + c_mean)), aux, c_aux);
    }
    (aux + c_aux) / count
}

/// `linearRegression`: slope per second and the value at `intercept_time`.
fn linear_regression(points: &[Point], intercept_time: i64) -> (f64, f64) {
    let (mut n, mut sum_x, mut c_x, mut sum_y, mut c_y) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sum_xy, mut c_xy, mut sum_x2, mut c_x2) = (0.0, 0.0, 0.0, 0.0);
    let init = points[0].v;
    let mut constant = true;
    for (i, p) in points.iter().enumerate() {
        if constant && i > 0 && p.v != init {
            constant = false;
        }
        n += 1.0;
        let x = (p.t - intercept_time) as f64 / 1e3;
        (sum_x, c_x) = kahan_inc(x, sum_x, c_x);
        (sum_y, c_y) = kahan_inc(p.v, sum_y, c_y);
        (sum_xy, c_xy) = kahan_inc(x * p.v, sum_xy, c_xy);
        (sum_x2, c_x2) = kahan_inc(x * x, sum_x2, c_x2);
    }
    if constant {
        if init.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init);
    }
    let (sum_x, sum_y, sum_xy, sum_x2) = (sum_x + c_x, sum_y + c_y, sum_xy + c_xy, sum_x2 + c_x2);
    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    (slope, sum_y / n - slope * sum_x / n)
}

/// The φ-quantile of `values` with linear interpolation between ranks, as
/// Prometheus's `quantile` (used by `quantile` and `quantile_over_time`).
pub(super) fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    // NaN sorts first, as in Go's sort of a value heap.
    values.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => a.total_cmp(b),
    });
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

/// `absent` and `absent_over_time`: 1 with the labels the selector's
/// equality matchers name, when the argument is empty.
fn absent(empty: bool, arg: &Expr, t: i64) -> Vec<Sample> {
    if !empty {
        return Vec::new();
    }
    let matchers = match arg {
        Expr::VectorSelector(vs) => Some(&vs.matchers.matchers),
        Expr::MatrixSelector(ms) => Some(&ms.vs.matchers.matchers),
        _ => None,
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for m in matchers.into_iter().flatten() {
        if m.name == NAME {
            continue;
        }
        let repeated = seen.contains(&m.name.as_str());
        seen.push(&m.name);
        pairs.retain(|(n, _)| n != &m.name);
        if m.op == MatchOp::Equal && !repeated {
            pairs.push((m.name.clone(), m.value.clone()));
        }
    }
    vec![Sample {
        labels: Labels::new(pairs),
        t,
        v: 1.0,
    }]
}

/// `histogram_quantile` over classic buckets: series grouped by their labels
/// without `le`, then `BucketQuantile` of Prometheus 3.
/// Output labels are derived once per query at `site` (see
/// [`Evaluator::derived`]).
pub(super) fn histogram_quantile(
    ev: &Evaluator<'_>,
    site: usize,
    q: f64,
    v: Vec<Sample>,
    t: i64,
) -> Vec<Sample> {
    let v: Vec<(f64, Sample)> = v
        .into_iter()
        .filter_map(|s| Some((s.labels.get("le").and_then(super::parse_value)?, s)))
        .collect();
    // Grouped by all labels but `le` (two names are two histograms, as
    // Prometheus's signature keeps the name), the name dropped after.
    let (group_of, firsts) = super::group_by(v.iter().map(|(_, s)| &s.labels), |n| n != "le");
    let mut groups: Vec<Vec<(f64, f64)>> = vec![Vec::new(); firsts.len()];
    for ((le, s), g) in v.iter().zip(group_of) {
        groups[g].push((*le, s.v));
    }
    firsts
        .iter()
        .zip(groups)
        .map(|(labels, mut buckets)| Sample {
            labels: ev.derived(site, labels, |l| {
                l.filter(|n| n != "le" && n != NAME && n != TYPE && n != UNIT)
            }),
            t,
            v: bucket_quantile(q, &mut buckets),
        })
        .collect()
}

pub(super) fn bucket_quantile(q: f64, buckets: &mut [(f64, f64)]) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    let Some(mut merged) = super::histogram::quantile::coalesced(buckets) else {
        return f64::NAN;
    };
    // Monotonic counts; numerically insignificant differences ignored.
    let mut previous = merged[0].1;
    for bucket in merged.iter_mut().skip(1) {
        let current = bucket.1;
        if current == previous {
            continue;
        }
        if almost_equal(previous, current, 1e-12) || current < previous {
            bucket.1 = previous;
            continue;
        }
        previous = current;
    }
    if merged.len() < 2 {
        return f64::NAN;
    }
    let observations = merged[merged.len() - 1].1;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    let b = merged[..merged.len() - 1].partition_point(|bucket| bucket.1 < rank);
    if b == merged.len() - 1 {
        return merged[merged.len() - 2].0;
    }
    if b == 0 && merged[0].0 <= 0.0 {
        return merged[0].0;
    }
    let (mut start, end, mut count) = (0.0, merged[b].0, merged[b].1);
    if b > 0 {
        start = merged[b - 1].0;
        count -= merged[b - 1].1;
        rank -= merged[b - 1].1;
    }
    start + (end - start) * (rank / count)
}

/// `almost.Equal` of Prometheus's util.
fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    const MIN_NORMAL: f64 = f64::MIN_POSITIVE;
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < MIN_NORMAL {
        return diff < epsilon * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

/// Calendar parts of a Unix time in seconds, in UTC.
fn date_part(function: &str, seconds: f64) -> f64 {
    if !seconds.is_finite() {
        return f64::NAN;
    }
    let secs = seconds.floor() as i64;
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = crate::units::civil_from_days(days);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let day_of_year: i64 = month_days[..(month - 1) as usize].iter().sum::<i64>() + day;
    (match function {
        "minute" => of_day / 60 % 60,
        "hour" => of_day / 3600,
        "day_of_week" => (days + 4).rem_euclid(7),
        "day_of_month" => day,
        "day_of_year" => day_of_year,
        "days_in_month" => month_days[(month - 1) as usize],
        "month" => month,
        _ => year,
    }) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_between_ranks() {
        let mut v = vec![4.0, 1.0, 3.0, 2.0];
        assert_eq!(quantile(0.5, &mut v), 2.5);
        assert_eq!(quantile(1.0, &mut v), 4.0);
        assert_eq!(quantile(2.0, &mut v), f64::INFINITY);
    }

    #[test]
    fn bucket_quantile_interpolates_within_the_bucket() {
        let mut b = vec![(0.1, 50.0), (f64::INFINITY, 100.0), (0.5, 100.0)];
        assert!((bucket_quantile(0.75, &mut b) - 0.3).abs() < 1e-12);
        // Everything in +Inf: the highest finite bound.
        let mut b = vec![(0.1, 0.0), (f64::INFINITY, 10.0)];
        assert_eq!(bucket_quantile(0.5, &mut b), 0.1);
        let mut b = vec![(0.1, 0.0)];
        assert!(bucket_quantile(0.5, &mut b).is_nan());
    }

    #[test]
    fn calendar_parts() {
        // 2024-02-29T13:45:00Z, a Thursday.
        let t = 1_709_214_300.0;
        assert_eq!(date_part("year", t), 2024.0);
        assert_eq!(date_part("month", t), 2.0);
        assert_eq!(date_part("day_of_month", t), 29.0);
        assert_eq!(date_part("days_in_month", t), 29.0);
        assert_eq!(date_part("day_of_week", t), 4.0);
        assert_eq!(date_part("day_of_year", t), 60.0);
        assert_eq!(date_part("hour", t), 13.0);
        assert_eq!(date_part("minute", t), 45.0);
    }
}
