//! Aggregation operators with `by` / `without`.

use promql_parser::parser::token::{
    T_AVG, T_BOTTOMK, T_COUNT, T_COUNT_VALUES, T_GROUP, T_LIMIT_RATIO, T_LIMITK, T_MAX, T_MIN,
    T_QUANTILE, T_STDDEV, T_STDVAR, T_SUM, T_TOPK,
};
use promql_parser::parser::{AggregateExpr, LabelModifier};

use super::eval::Evaluator;
use super::functions::{kahan_inc, quantile, scalar_arg, string_arg};
use super::{Error, Labels, Sample, Value};
use crate::metrics::store::NAME;

pub(super) fn eval<'s>(
    ev: &Evaluator<'s>,
    agg: &AggregateExpr,
    t: i64,
) -> Result<Value<'s>, Error> {
    let op = agg.op.id();
    let input = match ev.eval(&agg.expr, t)? {
        Value::Vector(v) => v,
        other => {
            return Err(Error::Eval(format!(
                "an aggregation needs an instant vector, not a {}",
                other.kind()
            )));
        }
    };
    let grouping = |labels: &Labels| group_labels(labels, agg.modifier.as_ref());
    let grouping = &grouping;
    if op == T_COUNT_VALUES {
        let label = match &agg.param {
            Some(p) => string_arg(p)?,
            None => return Err(Error::Eval("count_values needs a label name".into())),
        };
        let mut counts: Vec<(Labels, f64)> = Vec::new();
        for s in &input {
            // A histogram counts by Go's `FloatHistogram.String`.
            let value = match ev.has_histograms().then(|| ev.histogram(s.v)).flatten() {
                Some(h) => crate::metrics::histogram::notation::go_string(&h),
                None => super::format_value(s.v),
            };
            let labels = grouping(&s.labels).with(&label, &value);
            match counts.iter_mut().find(|(l, _)| *l == labels) {
                Some((_, n)) => *n += 1.0,
                None => counts.push((labels, 1.0)),
            }
        }
        return Ok(Value::Vector(
            counts
                .into_iter()
                .map(|(labels, v)| Sample { labels, t, v })
                .collect(),
        ));
    }
    // Groups in order of first appearance; each group's labels built once.
    let modifier = agg.modifier.as_ref();
    let (group_of, firsts) = super::group_by(input.iter().map(|s| &s.labels), |n| match modifier {
        None => false,
        Some(LabelModifier::Include(by)) => by.labels.iter().any(|l| l == n),
        Some(LabelModifier::Exclude(without)) => {
            n != NAME && !without.labels.iter().any(|l| l == n)
        }
    });
    let site = agg as *const AggregateExpr as usize;
    let mut groups: Vec<(Labels, Vec<Sample>)> = firsts
        .iter()
        .map(|l| (ev.derived(site, l, grouping), Vec::new()))
        .collect();
    for (s, g) in input.into_iter().zip(group_of) {
        groups[g].1.push(s);
    }
    let param = match &agg.param {
        Some(p)
            if op == T_TOPK
                || op == T_BOTTOMK
                || op == T_QUANTILE
                || op == T_LIMITK
                || op == T_LIMIT_RATIO =>
        {
            Some(scalar_arg(ev, p, t)?)
        }
        _ => None,
    };
    // Refused whether or not there is anything to aggregate, as Prometheus.
    if param.is_some_and(f64::is_nan) {
        let what = if op == T_LIMIT_RATIO {
            "Ratio"
        } else {
            "Parameter"
        };
        if op != T_QUANTILE {
            return Err(Error::Eval(format!("{what} value is NaN")));
        }
    }
    let mut out = Vec::new();
    for (key, mut members) in groups {
        if let Some(native) = super::histogram::aggregate(ev, op, &mut members) {
            out.extend(native.map(|v| Sample { labels: key, t, v }));
            continue;
        }
        let values = || members.iter().map(|s| s.v);
        let v = match op {
            T_SUM => {
                let (mut sum, mut c) = (0.0, 0.0);
                for v in values() {
                    (sum, c) = kahan_inc(v, sum, c);
                }
                if sum.is_infinite() { sum } else { sum + c }
            }
            T_AVG => super::functions::mean(values()),
            T_COUNT => members.len() as f64,
            T_GROUP => 1.0,
            T_MIN => values().fold(
                f64::NAN,
                |acc, v| if acc > v || acc.is_nan() { v } else { acc },
            ),
            T_MAX => values().fold(
                f64::NAN,
                |acc, v| if acc < v || acc.is_nan() { v } else { acc },
            ),
            T_STDVAR => super::functions::variance(values()),
            T_STDDEV => super::functions::variance(values()).sqrt(),
            T_QUANTILE => {
                let mut v: Vec<f64> = values().collect();
                quantile(param.unwrap_or(f64::NAN), &mut v)
            }
            T_TOPK | T_BOTTOMK => {
                let k = param.unwrap_or(0.0);
                if k.is_nan() || k < 1.0 {
                    continue;
                }
                let mut members = members;
                let top = op == T_TOPK;
                // NaN ranks last either way.
                members.sort_by(|a, b| super::functions::nan_last(a.v, b.v, top));
                let k = (k.min(members.len() as f64)) as usize;
                out.extend(members.into_iter().take(k).map(|s| Sample { t, ..s }));
                continue;
            }
            T_LIMITK => {
                let k = param.unwrap_or(f64::NAN);
                out.extend(
                    super::limit::limitk(k, members)?
                        .into_iter()
                        .map(|s| Sample { t, ..s }),
                );
                continue;
            }
            T_LIMIT_RATIO => {
                let r = param.unwrap_or(f64::NAN);
                out.extend(
                    super::limit::limit_ratio(r, members)?
                        .into_iter()
                        .map(|s| Sample { t, ..s }),
                );
                continue;
            }
            _ => {
                return Err(Error::Unsupported(format!("the aggregation `{}`", agg.op)));
            }
        };
        out.push(Sample { labels: key, t, v });
    }
    Ok(Value::Vector(out))
}

/// The labels of the group a series falls in.
fn group_labels(labels: &Labels, modifier: Option<&LabelModifier>) -> Labels {
    match modifier {
        None => Labels::empty(),
        Some(LabelModifier::Include(by)) => labels.filter(|n| by.labels.iter().any(|l| l == n)),
        Some(LabelModifier::Exclude(without)) => {
            labels.filter(|n| n != NAME && !without.labels.iter().any(|l| l == n))
        }
    }
}
