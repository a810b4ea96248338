//! Binary operators: arithmetic, comparison (filter or `bool`) and set
//! operators, with `on` / `ignoring` and `group_left` / `group_right`
//! (Prometheus's `VectorBinop`, `VectorAnd/Or/Unless`).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use promql_parser::parser::token::{
    T_ADD, T_ATAN2, T_DIV, T_EQLC, T_GTE, T_GTR, T_LAND, T_LOR, T_LSS, T_LTE, T_LUNLESS, T_MOD,
    T_MUL, T_NEQ, T_POW, T_SUB, T_TRIM_LOWER, T_TRIM_UPPER, TokenId,
};
use promql_parser::parser::{BinModifier, BinaryExpr, LabelModifier, VectorMatchCardinality};

use super::eval::{Evaluator, check_unique};
use super::{Error, Labels, Sample, Value};
use crate::metrics::store::NAME;

pub(super) fn eval<'s>(ev: &Evaluator<'s>, b: &BinaryExpr, t: i64) -> Result<Value<'s>, Error> {
    let op = b.op.id();
    let return_bool = b.modifier.as_ref().is_some_and(|m| m.return_bool);
    let lhs = ev.eval(&b.lhs, t)?;
    let rhs = ev.eval(&b.rhs, t)?;
    match (lhs, rhs) {
        (Value::Scalar(l), Value::Scalar(r)) => {
            // Prometheus's `scalarBinop` has no trim case: the query fails.
            if matches!(op, T_TRIM_UPPER | T_TRIM_LOWER) {
                return Err(Error::Eval(format!(
                    "operator \"{}\" not allowed for Scalar operations",
                    b.op
                )));
            }
            let (v, keep) = apply(op, l, r)?;
            if is_comparison(op) {
                // The parser insists on `bool` between scalars.
                return Ok(Value::Scalar(if keep { 1.0 } else { 0.0 }));
            }
            Ok(Value::Scalar(v))
        }
        (Value::Vector(v), Value::Scalar(s)) => vector_scalar(ev, op, v, s, false, return_bool, t),
        (Value::Scalar(s), Value::Vector(v)) => vector_scalar(ev, op, v, s, true, return_bool, t),
        (Value::Vector(l), Value::Vector(r)) => {
            let modifier = b.modifier.clone().unwrap_or_default();
            match op {
                T_LAND => Ok(Value::Vector(and_unless(l, &r, &modifier, true))),
                T_LUNLESS => Ok(Value::Vector(and_unless(l, &r, &modifier, false))),
                T_LOR => Ok(Value::Vector(or(l, r, &modifier))),
                _ => vector_vector(ev, op, l, r, &modifier, return_bool, t),
            }
        }
        (l, r) => Err(Error::Eval(format!(
            "operator `{}` between a {} and a {}",
            b.op,
            l.kind(),
            r.kind()
        ))),
    }
}

/// Whether the result loses the metric name: arithmetic does, and `bool`;
/// comparisons that filter and the trim operators keep it (Prometheus's
/// `changesMetricSchema`).
fn drops_name(op: TokenId, return_bool: bool) -> bool {
    return_bool || !(is_comparison(op) || matches!(op, T_TRIM_UPPER | T_TRIM_LOWER))
}

fn is_comparison(op: TokenId) -> bool {
    matches!(op, T_EQLC | T_NEQ | T_GTR | T_LSS | T_GTE | T_LTE)
}

/// `vectorElemBinop`: the value, and whether a comparison holds.
fn apply(op: TokenId, l: f64, r: f64) -> Result<(f64, bool), Error> {
    Ok(match op {
        T_ADD => (l + r, true),
        T_SUB => (l - r, true),
        T_MUL => (l * r, true),
        T_DIV => (l / r, true),
        T_POW => (l.powf(r), true),
        T_MOD => (l % r, true),
        T_ATAN2 => (l.atan2(r), true),
        T_EQLC => (l, l == r),
        T_NEQ => (l, l != r),
        T_GTR => (l, l > r),
        T_LSS => (l, l < r),
        T_GTE => (l, l >= r),
        T_LTE => (l, l <= r),
        // `</` and `>/` trim native histograms; Prometheus drops a float
        // sample they meet (with an info annotation).
        T_TRIM_UPPER | T_TRIM_LOWER => (0.0, false),
        _ => return Err(Error::Unsupported(format!("the operator with token {op}"))),
    })
}

/// [`apply`], or with a native histogram on either side, Prometheus's
/// histogram arithmetic; `None` drops the pair.
fn combine(ev: &Evaluator<'_>, op: TokenId, l: f64, r: f64) -> Result<Option<(f64, bool)>, Error> {
    use crate::metrics::histogram::tag::is_histogram;
    if ev.has_histograms() && (is_histogram(l) || is_histogram(r)) {
        if matches!(op, T_TRIM_UPPER | T_TRIM_LOWER) {
            // Only a histogram on the left is trimmed, by a float; any other
            // pairing drops the sample (Prometheus: an info annotation).
            return Ok(match (ev.histogram(l), is_histogram(r)) {
                (Some(h), false) => {
                    let trimmed = super::trim::trim(&h, r, op == T_TRIM_UPPER);
                    Some((ev.intern(trimmed), true))
                }
                _ => None,
            });
        }
        return Ok(super::histogram::binary(ev, op, l, r));
    }
    apply(op, l, r).map(Some)
}

/// A comparison's outcome: 1/0 with `bool`, else the value if it holds;
/// arithmetic always keeps.
fn result(value: f64, keep: bool, return_bool: bool) -> Option<f64> {
    if return_bool {
        Some(if keep { 1.0 } else { 0.0 })
    } else {
        keep.then_some(value)
    }
}

fn vector_scalar<'s>(
    ev: &Evaluator<'s>,
    op: TokenId,
    v: Vec<Sample>,
    s: f64,
    scalar_left: bool,
    return_bool: bool,
    t: i64,
) -> Result<Value<'s>, Error> {
    let comparison = is_comparison(op);
    let mut out = Vec::with_capacity(v.len());
    for sample in v {
        let (l, r) = if scalar_left {
            (s, sample.v)
        } else {
            (sample.v, s)
        };
        let Some((mut value, keep)) = combine(ev, op, l, r)? else {
            continue;
        };
        if comparison && scalar_left {
            // The vector's value is kept, whichever side it is on.
            value = sample.v;
        }
        let Some(value) = result(value, keep, return_bool) else {
            continue;
        };
        let labels = if drops_name(op, return_bool) {
            sample.labels.without_metadata()
        } else {
            sample.labels
        };
        out.push(Sample {
            labels,
            t,
            v: value,
        });
    }
    if drops_name(op, return_bool) {
        check_unique(&out)?;
    }
    Ok(Value::Vector(out))
}

/// The matching signature of a series: the `on` labels, or all but the
/// `ignoring` ones and the name.
fn signature(labels: &Labels, matching: Option<&LabelModifier>) -> Labels {
    match matching {
        Some(LabelModifier::Include(on)) => labels.filter(|n| on.labels.iter().any(|l| l == n)),
        Some(LabelModifier::Exclude(ignoring)) => {
            labels.filter(|n| n != NAME && !ignoring.labels.iter().any(|l| l == n))
        }
        None => labels.without_name(),
    }
}

fn and_unless(l: Vec<Sample>, r: &[Sample], m: &BinModifier, and: bool) -> Vec<Sample> {
    let right: HashSet<Labels> = r
        .iter()
        .map(|s| signature(&s.labels, m.matching.as_ref()))
        .collect();
    l.into_iter()
        .filter(|s| right.contains(&signature(&s.labels, m.matching.as_ref())) == and)
        .collect()
}

fn or(l: Vec<Sample>, r: Vec<Sample>, m: &BinModifier) -> Vec<Sample> {
    let left: HashSet<Labels> = l
        .iter()
        .map(|s| signature(&s.labels, m.matching.as_ref()))
        .collect();
    let mut out = l;
    out.extend(
        r.into_iter()
            .filter(|s| !left.contains(&signature(&s.labels, m.matching.as_ref()))),
    );
    out
}

fn vector_vector<'s>(
    ev: &Evaluator<'s>,
    op: TokenId,
    lhs: Vec<Sample>,
    rhs: Vec<Sample>,
    m: &BinModifier,
    return_bool: bool,
    t: i64,
) -> Result<Value<'s>, Error> {
    // `fill(v)`, `fill_left(v)`, `fill_right(v)`: the value a missing
    // sample of that side takes. Prometheus applies them after swapping
    // the sides for `group_right`, without swapping them.
    let fill = &m.fill_values;
    // Nothing can match (Prometheus's short-circuit, before any check of
    // the sides' uniqueness).
    if (lhs.is_empty() && rhs.is_empty())
        || ((lhs.is_empty() || rhs.is_empty()) && fill.lhs.is_none() && fill.rhs.is_none())
    {
        return Ok(Value::Vector(Vec::new()));
    }
    let matching = m.matching.as_ref();
    let (include, one_to_many) = match &m.card {
        VectorMatchCardinality::ManyToOne(labels) => (labels.labels.clone(), false),
        VectorMatchCardinality::OneToMany(labels) => (labels.labels.clone(), true),
        _ => (Vec::new(), false),
    };
    let one_to_one = matches!(
        m.card,
        VectorMatchCardinality::OneToOne | VectorMatchCardinality::ManyToMany
    );
    // The "one" side is on the right; swap for group_right.
    let (many, one) = if one_to_many { (rhs, lhs) } else { (lhs, rhs) };
    let mut right: HashMap<Labels, &Sample> = HashMap::with_capacity(one.len());
    for s in &one {
        let sig = signature(&s.labels, matching);
        if let Some(previous) = right.insert(sig.clone(), s) {
            let side = if one_to_many { "left" } else { "right" };
            // Ordered, so the message is the same from run to run.
            let (a, b) = (go_labels(&previous.labels), go_labels(&s.labels));
            let (a, b) = if a > b { (b, a) } else { (a, b) };
            return Err(Error::Eval(format!(
                "found duplicate series for the match group {sig} on the {side} hand-side of the operation: [{a}, {b}];many-to-many matching not allowed: matching labels must be unique on one side"
            )));
        }
    }
    let drop_name = drops_name(op, return_bool);
    // Per signature, the result labels made (one-to-one: one empty entry).
    let matched: RefCell<HashMap<Labels, HashSet<Labels>>> = RefCell::new(HashMap::new());
    let mut out = Vec::new();
    let mut pair = |ls: &Sample, rs: &Sample, sig: Labels| -> Result<(), Error> {
        let (l, r) = if one_to_many {
            (rs.v, ls.v)
        } else {
            (ls.v, rs.v)
        };
        let Some((value, keep)) = combine(ev, op, l, r)? else {
            return Ok(());
        };
        // `resultMetric`.
        let mut labels = if drop_name {
            ls.labels.without_metadata()
        } else {
            ls.labels.clone()
        };
        if one_to_one {
            labels = match matching {
                Some(LabelModifier::Include(on)) => {
                    labels.filter(|n| on.labels.iter().any(|l| l == n))
                }
                Some(LabelModifier::Exclude(ignoring)) => {
                    labels.filter(|n| !ignoring.labels.iter().any(|l| l == n))
                }
                None => labels,
            };
        }
        for name in &include {
            labels = labels.with(name, rs.labels.get(name).unwrap_or(""));
        }
        let mut matched = matched.borrow_mut();
        let seen = matched.entry(sig).or_default();
        if one_to_one {
            if !seen.is_empty() {
                return Err(Error::Eval(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)".into(),
                ));
            }
            seen.insert(Labels::empty());
        } else if !seen.insert(labels.clone()) {
            return Err(Error::Eval(
                "multiple matches for labels: grouping labels must ensure unique matches".into(),
            ));
        }
        // Matches are checked before a comparison filters, as Prometheus does.
        if let Some(value) = result(value, keep, return_bool) {
            out.push(Sample {
                labels,
                t,
                v: value,
            });
        }
        Ok(())
    };
    // A missing sample filled in has the matching labels of its partner
    // (Go's `MatchLabels`, which is our signature).
    let filled = |sig: &Labels, v: f64| Sample {
        labels: sig.clone(),
        t,
        v,
    };
    for ls in &many {
        let sig = signature(&ls.labels, matching);
        match (right.get(&sig), fill.rhs) {
            (Some(rs), _) => pair(ls, rs, sig)?,
            (None, Some(v)) => pair(ls, &filled(&sig, v), sig)?,
            (None, None) => {}
        }
    }
    if let Some(v) = fill.lhs {
        for rs in &one {
            let sig = signature(&rs.labels, matching);
            if matched
                .borrow()
                .get(&sig)
                .is_some_and(|seen| !seen.is_empty())
            {
                continue;
            }
            pair(&filled(&sig, v), rs, sig)?;
        }
    }
    Ok(Value::Vector(out))
}

/// A label set as Go's `labels.Labels.String()` prints it, the name among
/// the labels: `{__name__="up", job="a"}` (Prometheus's error messages).
fn go_labels(labels: &Labels) -> String {
    let pairs: Vec<String> = labels.iter().map(|(n, v)| format!("{n}={v:?}")).collect();
    format!("{{{}}}", pairs.join(", "))
}
