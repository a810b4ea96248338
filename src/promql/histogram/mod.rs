//! Native histograms in PromQL, as Prometheus 3 evaluates them: the
//! `histogram_*` functions, `rate` / `increase` / `delta` / `irate` /
//! `idelta` over histogram series, `sum` / `avg` of histograms, and
//! arithmetic (`h * s`, `h / s`, `h + h`, `h - h`, `h == h`).
//!
//! A histogram sample travels through the evaluator as a tagged float
//! (see [`crate::metrics::histogram::tag`]): the store's histograms by
//! their index there, the ones a query computes by their index in the
//! query's list ([`Evaluator::histogram`] resolves either). Float code is
//! untouched, and every hook here is skipped unless the store holds a
//! histogram, so float queries pay nothing for them. Where Prometheus
//! drops a sample with an annotation (a histogram where a float is
//! expected, floats and histograms mixed), the sample is dropped; the
//! annotations themselves are not produced (the evaluator has none).

mod inputs;
pub(super) mod quantile;
mod rate;
mod sum;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use promql_parser::parser::token::{
    T_ADD, T_AVG, T_COUNT, T_DIV, T_EQLC, T_GROUP, T_LIMIT_RATIO, T_LIMITK, T_MUL, T_NEQ, T_SUB,
    T_SUM, TokenId,
};
use promql_parser::parser::{Call, Expr};

use super::eval::Evaluator;
use super::{Error, Matrix, Sample, Value};
use crate::metrics::histogram::tag::{self, Home};
use crate::metrics::histogram::{FloatHistogram, Hint};
use crate::metrics::store::Labels;

pub(crate) use quantile::fraction_below;
pub(crate) use quantile::{bucket_fraction, fraction, quantile, variance};
use sum::{mean_all, sum_all};

impl Evaluator<'_> {
    /// The histogram a value of this evaluator's last query stands for
    /// (`None` for a float).
    pub fn histogram(&self, v: f64) -> Option<Arc<FloatHistogram>> {
        match tag::decode(v)? {
            (Home::Store, i) => self.store().histogram(i).cloned(),
            (Home::Query, i) => self.computed.borrow().get(i).cloned(),
        }
    }

    /// The value standing for `h`, a histogram this query computed.
    pub(super) fn intern(&self, h: FloatHistogram) -> f64 {
        let mut computed = self.computed.borrow_mut();
        computed.push(Arc::new(h));
        tag::encode(Home::Query, (computed.len() - 1).min(tag::MAX_INDEX))
    }

    /// `-v`, a histogram's counts negated (Prometheus: `h * -1`).
    pub(super) fn negate(&self, v: f64) -> f64 {
        if !self.has_histograms() {
            return -v;
        }
        match self.histogram(v) {
            Some(h) => {
                let mut h = (*h).clone();
                h.mul(-1.0);
                self.intern(h.compact())
            }
            None => -v,
        }
    }

    /// Whether histograms can occur at all in this evaluation.
    pub(super) fn has_histograms(&self) -> bool {
        self.store().has_histograms()
    }
}

/// The `histogram_*` functions over native histograms; `None` for any
/// other function (or `histogram_quantile` over a store of floats only,
/// which the classic implementation answers).
pub(super) fn call<'s>(
    ev: &Evaluator<'s>,
    call: &Call,
    t: i64,
) -> Option<Result<Value<'s>, Error>> {
    let name = call.func.name;
    let args = &call.args.args;
    let simple: fn(&FloatHistogram) -> f64 = match name {
        "histogram_count" => |h| h.count,
        "histogram_sum" => |h| h.sum,
        "histogram_avg" => |h| h.sum / h.count,
        "histogram_stddev" => |h| variance(h).sqrt(),
        "histogram_stdvar" => variance,
        "histogram_fraction" => {
            return Some(fraction_call(ev, args, t));
        }
        "histogram_quantile" if ev.has_histograms() => {
            return Some(quantile_call(ev, call, t));
        }
        "histogram_quantiles" => {
            return Some(quantiles_call(ev, call, t));
        }
        _ => return None,
    };
    Some(vector(ev, &args[0], t).map(|v| {
        Value::Vector(
            v.into_iter()
                .filter_map(|s| {
                    let h = ev.histogram(s.v)?;
                    // `simpleHistogramFunc` drops the name only.
                    Some(Sample {
                        labels: s.labels.without_name(),
                        t,
                        v: simple(&h),
                    })
                })
                .collect(),
        )
    }))
}

fn vector(ev: &Evaluator<'_>, expr: &Expr, t: i64) -> Result<Vec<Sample>, Error> {
    match ev.eval(expr, t)? {
        Value::Vector(v) => Ok(v),
        other => Err(Error::Eval(format!(
            "expected an instant vector, got a {}",
            other.kind()
        ))),
    }
}

/// Native histograms by [`fraction`], classic ones (float samples with an
/// `le` label) by [`bucket_fraction`].
fn fraction_call<'s>(ev: &Evaluator<'s>, args: &[Box<Expr>], t: i64) -> Result<Value<'s>, Error> {
    let lower = super::functions::scalar_arg(ev, &args[0], t)?;
    let upper = super::functions::scalar_arg(ev, &args[1], t)?;
    let inputs = inputs::split(ev, vector(ev, &args[2], t)?);
    let mut out: Vec<Sample> = inputs
        .native
        .into_iter()
        .map(|(labels, h)| Sample {
            labels,
            t,
            v: fraction(lower, upper, &h),
        })
        .collect();
    out.extend(
        inputs
            .classic
            .into_iter()
            .map(|(labels, mut buckets)| Sample {
                labels,
                t,
                v: bucket_fraction(lower, upper, &mut buckets),
            }),
    );
    Ok(Value::Vector(out))
}

/// Native histograms by [`quantile`], classic ones by the classic
/// implementation (which answers alone over a store of floats).
fn quantile_call<'s>(ev: &Evaluator<'s>, call: &Call, t: i64) -> Result<Value<'s>, Error> {
    let args = &call.args.args;
    let q = super::functions::scalar_arg(ev, &args[0], t)?;
    let inputs = inputs::split(ev, vector(ev, &args[1], t)?);
    Ok(Value::Vector(quantiles(&inputs, q, t, |l| l.clone())))
}

/// `histogram_quantiles(v, "label", q0, q1, ...)`: for each quantile, the
/// quantile of every histogram of `v`, labelled with `label="q"` (`q` as
/// OpenMetrics writes a float).
fn quantiles_call<'s>(ev: &Evaluator<'s>, call: &Call, t: i64) -> Result<Value<'s>, Error> {
    let args = &call.args.args;
    let inputs = inputs::split(ev, vector(ev, &args[0], t)?);
    let label = super::functions::string_arg(&args[1])?;
    let qs: Vec<f64> = args[2..]
        .iter()
        .map(|a| super::functions::scalar_arg(ev, a, t))
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for q in qs {
        let value = crate::metrics::exposition::openmetrics_float(q);
        out.extend(quantiles(&inputs, q, t, |l| l.with(&label, &value)));
    }
    Ok(Value::Vector(out))
}

/// The quantile `q` of each histogram of `inputs`, labelled by `labels`.
fn quantiles(
    inputs: &inputs::Inputs,
    q: f64,
    t: i64,
    labels: impl Fn(&Labels) -> Labels,
) -> Vec<Sample> {
    let mut out: Vec<Sample> = inputs
        .native
        .iter()
        .map(|(l, h)| Sample {
            labels: labels(l),
            t,
            v: quantile(q, h),
        })
        .collect();
    out.extend(inputs.classic.iter().map(|(l, buckets)| Sample {
        labels: labels(l),
        t,
        v: super::functions::bucket_quantile(q, &mut buckets.clone()),
    }));
    out
}

/// A subquery's histograms with their `CounterReset` and
/// `NotCounterReset` hints made `Unknown`, as Prometheus's subquery
/// evaluation does: they speak of the stored neighbours, which a subquery
/// may skip or repeat.
pub(super) fn forget_reset_hints(ev: &Evaluator<'_>, points: &mut [super::Point]) {
    for p in points {
        let Some(h) = ev.histogram(p.v) else { continue };
        if matches!(h.hint, Hint::CounterReset | Hint::NotCounterReset) {
            p.v = ev.intern((*h).clone().with_hint(Hint::Unknown));
        }
    }
}

/// What a range function computes over a histogram series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RangeFn {
    Rate,
    Increase,
    Delta,
    Irate,
    Idelta,
    SumOverTime,
    AvgOverTime,
}

/// Functions of instant vectors that take floats only (Prometheus drops
/// the histogram samples they are given).
const FLOAT_VECTOR_FUNCTIONS: &[&str] = &[
    "abs",
    "sort",
    "sort_desc",
    "ceil",
    "floor",
    "sqrt",
    "exp",
    "ln",
    "log2",
    "log10",
    "sgn",
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atanh",
    "cos",
    "cosh",
    "sin",
    "sinh",
    "tan",
    "tanh",
    "deg",
    "rad",
    "round",
    "clamp",
    "clamp_min",
    "clamp_max",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "days_in_month",
    "hour",
    "minute",
    "month",
    "year",
];

/// Functions of range vectors that take floats only.
const FLOAT_RANGE_FUNCTIONS: &[&str] = &[
    "deriv",
    "double_exponential_smoothing",
    "mad_over_time",
    "ts_of_max_over_time",
    "ts_of_min_over_time",
    "predict_linear",
    "min_over_time",
    "max_over_time",
    "stddev_over_time",
    "stdvar_over_time",
    "quantile_over_time",
];

/// `v` without its histogram samples when `function` takes floats only.
pub(super) fn floats(ev: &Evaluator<'_>, function: &str, mut v: Vec<Sample>) -> Vec<Sample> {
    if ev.has_histograms() && FLOAT_VECTOR_FUNCTIONS.contains(&function) {
        v.retain(|s| !tag::is_histogram(s.v));
    }
    v
}

/// `m` without its histogram points when `function` takes floats only
/// (a series left with none drops out).
pub(super) fn float_range<'s>(ev: &Evaluator<'s>, function: &str, mut m: Matrix<'s>) -> Matrix<'s> {
    if !ev.has_histograms() || !FLOAT_RANGE_FUNCTIONS.contains(&function) {
        return m;
    }
    for s in &mut m.series {
        if s.points.iter().any(|p| tag::is_histogram(p.v)) {
            let kept: Vec<_> = s
                .points
                .iter()
                .copied()
                .filter(|p| !tag::is_histogram(p.v))
                .collect();
            s.points = std::borrow::Cow::Owned(kept);
            s.source = None;
        }
    }
    m.series.retain(|s| !s.points.is_empty());
    m
}

/// Takes the series holding histograms out of `m` (the float code then
/// sees floats only) and computes `f` over each; a series mixing floats
/// and histograms gives nothing, as in Prometheus.
pub(super) fn take_range(
    ev: &Evaluator<'_>,
    m: &mut Matrix<'_>,
    f: RangeFn,
    t: i64,
) -> Vec<Sample> {
    if !ev.has_histograms() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let (start, end) = (m.start, m.end);
    m.series.retain(|s| {
        let histograms = s.points.iter().filter(|p| tag::is_histogram(p.v)).count();
        if histograms == 0 {
            return true;
        }
        // `irate` and `idelta` look at the last two samples only, of
        // whichever kind (Prometheus's `instantValue`): two floats are the
        // float code's, a float and a histogram give nothing.
        if matches!(f, RangeFn::Irate | RangeFn::Idelta)
            && let [.., a, b] = &s.points[..]
        {
            match (tag::is_histogram(a.v), tag::is_histogram(b.v)) {
                (false, false) => return true,
                (true, true) => {}
                _ => return false,
            }
        }
        let points: Vec<(i64, Arc<FloatHistogram>)> = s
            .points
            .iter()
            .filter_map(|p| Some((p.t, ev.histogram(p.v)?)))
            .collect();
        let mixed = histograms != s.points.len() && !matches!(f, RangeFn::Irate | RangeFn::Idelta);
        let h = match f {
            _ if mixed => None,
            RangeFn::Rate => rate::extrapolated(&points, start, end, true, true),
            RangeFn::Increase => rate::extrapolated(&points, start, end, true, false),
            RangeFn::Delta => rate::extrapolated(&points, start, end, false, false),
            RangeFn::SumOverTime => sum_all(points.iter().map(|(_, h)| h)).map(|h| h.compact()),
            RangeFn::AvgOverTime => mean_all(points.iter().map(|(_, h)| h)).map(|h| h.compact()),
            RangeFn::Irate | RangeFn::Idelta => match &points[..] {
                [.., (t0, h0), (t1, h1)] => {
                    rate::instant((*t0, h0), (*t1, h1), f == RangeFn::Irate)
                }
                _ => None,
            },
        };
        if let Some(h) = h {
            out.push(Sample {
                labels: s.without_name.clone(),
                t,
                v: ev.intern(h),
            });
        }
        false
    });
    out
}

/// `sum` or `avg` of a group holding histograms: `Some(None)` drops the
/// group (floats and histograms mixed, or incompatible schemas), `None`
/// when the group is all floats (the float code answers), and for other
/// aggregations the group's histograms are taken out.
pub(super) fn aggregate(
    ev: &Evaluator<'_>,
    op: TokenId,
    members: &mut Vec<Sample>,
) -> Option<Option<f64>> {
    if !ev.has_histograms() {
        return None;
    }
    let histograms = members.iter().filter(|s| tag::is_histogram(s.v)).count();
    if histograms == 0 {
        return None;
    }
    if op != T_SUM && op != T_AVG {
        // `count`, `group`, `limitk` and `limit_ratio` take histograms as
        // they take floats; the others drop them.
        if ![T_COUNT, T_GROUP, T_LIMITK, T_LIMIT_RATIO].contains(&op) {
            members.retain(|s| !tag::is_histogram(s.v));
            if members.is_empty() {
                return Some(None);
            }
        }
        return None;
    }
    if histograms != members.len() {
        return Some(None);
    }
    let hs: Vec<Arc<FloatHistogram>> = members.iter().filter_map(|s| ev.histogram(s.v)).collect();
    let combined = if op == T_AVG {
        mean_all(hs.iter())
    } else {
        sum_all(hs.iter())
    };
    Some(combined.map(|h| ev.intern(h.compact())))
}

/// A binary operation with a histogram on either side, as Prometheus's
/// `vectorElemBinop`: the value and whether it is kept; `None` drops the
/// pair (an operation histograms do not have).
pub(super) fn binary(ev: &Evaluator<'_>, op: TokenId, l: f64, r: f64) -> Option<(f64, bool)> {
    let (lh, rh) = (ev.histogram(l), ev.histogram(r));
    let result = |h: FloatHistogram| Some((ev.intern(h.compact()), true));
    match (lh, rh) {
        (None, None) => None,
        (None, Some(h)) if op == T_MUL => {
            let mut h = (*h).clone();
            h.mul(l);
            result(h)
        }
        (Some(h), None) if op == T_MUL || op == T_DIV => {
            let mut h = (*h).clone();
            if op == T_MUL {
                h.mul(r);
            } else {
                h.div(r);
            }
            result(h)
        }
        (Some(a), Some(b)) => match op {
            T_ADD => {
                let mut h = (*a).clone();
                h.add(&b).ok()?;
                result(h)
            }
            T_SUB => {
                let mut h = (*a).clone();
                h.sub(&b).ok()?;
                h.hint = Hint::Gauge;
                result(h)
            }
            T_EQLC => Some((l, equals(&a, &b))),
            T_NEQ => Some((l, !equals(&a, &b))),
            _ => None,
        },
        _ => None,
    }
}

/// `changes` (or, with `resets`, `resets`) over points that may hold
/// histograms, as Prometheus's `funcChanges` / `funcResets` count: a float
/// next to a histogram is a change and a reset; two histograms change when
/// they are not equal, and reset when [`FloatHistogram::detect_reset`] says.
pub(super) fn changes(ev: &Evaluator<'_>, points: &[super::Point], resets: bool) -> f64 {
    let mut n = 0;
    for w in points.windows(2) {
        let counted = match (ev.histogram(w[0].v), ev.histogram(w[1].v)) {
            (None, None) if resets => w[1].v < w[0].v,
            (None, None) => w[1].v != w[0].v && !(w[1].v.is_nan() && w[0].v.is_nan()),
            (Some(prev), Some(cur)) if resets => cur.detect_reset(&prev),
            (Some(prev), Some(cur)) => !equals(&prev, &cur),
            _ => true,
        };
        n += usize::from(counted);
    }
    n as f64
}

/// Prometheus's `FloatHistogram.Equals` on compacted histograms: the same
/// layout and bit-identical values.
fn equals(a: &FloatHistogram, b: &FloatHistogram) -> bool {
    let same = |x: f64, y: f64| x.to_bits() == y.to_bits();
    let buckets = |x: &[crate::metrics::histogram::Bucket],
                   y: &[crate::metrics::histogram::Bucket]| {
        x.len() == y.len()
            && x.iter()
                .zip(y)
                .all(|(p, q)| p.index == q.index && same(p.count, q.count))
    };
    a.schema == b.schema
        && same(a.count, b.count)
        && same(a.sum, b.sum)
        && (a.uses_custom_buckets()
            || (same(a.zero_threshold, b.zero_threshold) && same(a.zero_count, b.zero_count)))
        && (!a.uses_custom_buckets() || a.custom_values == b.custom_values)
        && buckets(&a.positive, &b.positive)
        && buckets(&a.negative, &b.negative)
}
