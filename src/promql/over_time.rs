//! The range-vector functions Prometheus 3 added: `mad_over_time`, the
//! `ts_of_*_over_time` family and `double_exponential_smoothing` (the
//! renamed `holt_winters`), as promql/functions.go computes them.

use super::eval::Evaluator;
use super::functions::{matrix_arg, over_range, quantile, scalar_arg};
use super::{Error, Point, Sample};
use promql_parser::parser::Expr;

/// The function `name` applied to `args` at `t`, or None when `name` is
/// none of this file's.
pub(super) fn call(
    ev: &Evaluator<'_>,
    name: &str,
    args: &[Box<Expr>],
    t: i64,
) -> Option<Result<Vec<Sample>, Error>> {
    // Histogram points are left out (these functions take floats only).
    let matrix =
        |i: usize| matrix_arg(ev, &args[i], t).map(|m| super::histogram::float_range(ev, name, m));
    let seconds = |p: &Point| p.t as f64 / 1000.0;
    let out = match name {
        "mad_over_time" => matrix(0).map(|m| over_range(&m, t, false, |p, _| Some(mad(p)))),
        "ts_of_first_over_time" => {
            matrix(0).map(|m| over_range(&m, t, false, |p, _| p.first().map(seconds)))
        }
        "ts_of_last_over_time" => {
            matrix(0).map(|m| over_range(&m, t, false, |p, _| p.last().map(seconds)))
        }
        // `compareOverTime`: the last of equal extremes, NaN replaced.
        "ts_of_max_over_time" => matrix(0).map(|m| {
            over_range(&m, t, false, |p, _| {
                extreme(p, |cur, best| cur >= best || best.is_nan()).map(seconds)
            })
        }),
        "ts_of_min_over_time" => matrix(0).map(|m| {
            over_range(&m, t, false, |p, _| {
                extreme(p, |cur, best| cur <= best || best.is_nan()).map(seconds)
            })
        }),
        "double_exponential_smoothing" => double_exponential_smoothing(ev, args, t),
        _ => return None,
    };
    Some(out)
}

/// The median absolute deviation; NaN when any value is NaN.
fn mad(points: &[Point]) -> f64 {
    if points.iter().any(|p| p.v.is_nan()) {
        return f64::NAN;
    }
    let mut values: Vec<f64> = points.iter().map(|p| p.v).collect();
    let median = quantile(0.5, &mut values);
    for v in &mut values {
        *v = (*v - median).abs();
    }
    quantile(0.5, &mut values)
}

/// The point `better(value, best so far)` keeps choosing, from the first.
fn extreme(points: &[Point], better: impl Fn(f64, f64) -> bool) -> Option<&Point> {
    let mut best = points.first()?;
    for p in points {
        if better(p.v, best.v) {
            best = p;
        }
    }
    Some(best)
}

/// `funcDoubleExponentialSmoothing`: smoothing factor `sf` and trend
/// factor `tf`, each in (0, 1).
fn double_exponential_smoothing(
    ev: &Evaluator<'_>,
    args: &[Box<Expr>],
    t: i64,
) -> Result<Vec<Sample>, Error> {
    let m = super::histogram::float_range(
        ev,
        "double_exponential_smoothing",
        matrix_arg(ev, &args[0], t)?,
    );
    let sf = scalar_arg(ev, &args[1], t)?;
    let tf = scalar_arg(ev, &args[2], t)?;
    if m.series.is_empty() {
        return Ok(Vec::new());
    }
    if sf <= 0.0 || sf >= 1.0 {
        return Err(Error::Eval(format!(
            "invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:.6}"
        )));
    }
    if tf <= 0.0 || tf >= 1.0 {
        return Err(Error::Eval(format!(
            "invalid trend factor. Expected: 0 < tf < 1, got: {tf:.6}"
        )));
    }
    Ok(over_range(&m, t, false, |p, _| {
        if p.len() < 2 {
            return None;
        }
        let (mut s0, mut s1) = (0.0, p[0].v);
        let mut b = p[1].v - p[0].v;
        for (i, point) in p.iter().enumerate().skip(1) {
            let x = sf * point.v;
            // `calcTrendValue(i-1, ...)`: the raw trend at the first step.
            if i > 1 {
                b = tf * (s1 - s0) + (1.0 - tf) * b;
            }
            let y = (1.0 - sf) * (s1 + b);
            (s0, s1) = (s1, x + y);
        }
        Some(s1)
    }))
}
