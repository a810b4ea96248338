//! Native histograms through the evaluator: values from hand-computed
//! Prometheus semantics on a small store.

use super::super::{Evaluator, Value, parse};
use crate::metrics::histogram::notation;
use crate::metrics::store::{Labels, Store};

/// `h`: a counter histogram every 10 s, +{{count:4 sum:8 buckets:[1 2 1]}}
/// per step from {{count:4 sum:8 buckets:[1 2 1]}}, with a reset at 60 s;
/// `f`: a float; `c_bucket{le=...}`: classic buckets.
fn store() -> Store {
    let mut store = Store::default();
    let h = store
        .series_id(&Labels::from_pairs(&[("__name__", "h"), ("i", "a")]))
        .unwrap();
    let (items, _) =
        notation::item("{{count:4 sum:8 buckets:[1 2 1]}}+{{count:4 sum:8 buckets:[1 2 1]}}x5")
            .unwrap();
    for (k, w) in items.into_iter().enumerate() {
        store
            .append_histogram(h, k as i64 * 10_000, w.histogram)
            .unwrap();
    }
    let (reset, _) = notation::item("{{count:4 sum:8 buckets:[1 2 1]}}").unwrap();
    store
        .append_histogram(h, 60_000, reset[0].histogram.clone())
        .unwrap();
    store
        .add(&Labels::from_pairs(&[("__name__", "f")]), 60_000, 3.0)
        .unwrap();
    for (le, v) in [("1", 2.0), ("2", 6.0), ("+Inf", 8.0)] {
        store
            .add(
                &Labels::from_pairs(&[("__name__", "c_bucket"), ("le", le)]),
                60_000,
                v,
            )
            .unwrap();
    }
    store
}

/// The floats of an instant query at 60 s.
fn floats(store: &Store, expr: &str) -> Vec<f64> {
    let mut ev = Evaluator::new(store);
    match ev.instant(&parse(expr).unwrap(), 60_000).unwrap() {
        Value::Vector(v) => {
            assert!(v.iter().all(|s| ev.histogram(s.v).is_none()), "{expr}");
            v.iter().map(|s| s.v).collect()
        }
        other => panic!("{expr}: {other:?}"),
    }
}

/// The histogram an instant query at 60 s gives, in the test notation.
fn histogram(store: &Store, expr: &str) -> String {
    let mut ev = Evaluator::new(store);
    match ev.instant(&parse(expr).unwrap(), 60_000).unwrap() {
        Value::Vector(v) if v.len() == 1 => {
            notation::expression(&ev.histogram(v[0].v).expect("a histogram"))
        }
        other => panic!("{expr}: {other:?}"),
    }
}

#[test]
fn histogram_functions_read_the_sample() {
    let s = store();
    assert_eq!(floats(&s, "histogram_count(h)"), [4.0]);
    assert_eq!(floats(&s, "histogram_sum(h)"), [8.0]);
    assert_eq!(floats(&s, "histogram_avg(h)"), [2.0]);
    // Buckets (0.5,1], (1,2], (2,4] of schema 0 at geometric means
    // 0.7071, 1.4142, 2.8284 around the mean 2.
    let stdvar = (1.0 * (0.5f64.sqrt() - 2.0).powi(2)
        + 2.0 * (2f64.sqrt() - 2.0).powi(2)
        + 1.0 * (8f64.sqrt() - 2.0).powi(2))
        / 4.0;
    let got = floats(&s, "histogram_stdvar(h)")[0];
    assert!((got - stdvar).abs() < 1e-12, "{got} {stdvar}");
    // The median: rank 2 of 4, from the top (q >= 0.5), half-way into
    // (1, 2] on a log scale: 2^0.5.
    let median = floats(&s, "histogram_quantile(0.5, h)")[0];
    assert!((median - 2f64.sqrt()).abs() < 1e-12, "{median}");
    // (1, 2] holds 2 of 4 observations.
    assert_eq!(floats(&s, "histogram_fraction(1, 2, h)"), [0.5]);
    // Classic buckets beside native ones: 4 of 8 in (1, 2].
    assert_eq!(floats(&s, "histogram_fraction(1, 2, c_bucket)"), [0.5]);
    assert_eq!(floats(&s, "histogram_quantile(0.5, c_bucket)"), [1.5]);
}

#[test]
fn rate_over_histograms_handles_the_reset() {
    let s = store();
    // (30 s, 60 s] holds 20, 24, then 4 after a reset: 4 - 20 + 24 = 8
    // over the 20 s sampled, extrapolated 10 s back to the window's start
    // (the zero point, 50 s back, is further): 8 * 30 / 20.
    assert_eq!(
        histogram(&s, "increase(h[30s])"),
        "{{count:12 sum:24 counter_reset_hint:gauge buckets:[3 6 3]}}"
    );
    assert_eq!(
        histogram(&s, "irate(h[30s])"),
        "{{count:0.4 sum:0.8 counter_reset_hint:gauge buckets:[0.1 0.2 0.1]}}"
    );
}

#[test]
fn arithmetic_and_aggregation_over_histograms() {
    let s = store();
    assert_eq!(histogram(&s, "h * 2"), "{{count:8 sum:16 buckets:[2 4 2]}}");
    assert_eq!(
        histogram(&s, "sum(h) / 4"),
        "{{count:1 sum:2 buckets:[0.25 0.5 0.25]}}"
    );
    assert_eq!(histogram(&s, "h - h"), "{{counter_reset_hint:gauge}}");
    // No float arithmetic on a histogram: the pair is dropped.
    assert!(floats(&s, "h + 1").is_empty());
    assert!(floats(&s, "abs(h)").is_empty());
    assert!(floats(&s, "max_over_time(h[1m])").is_empty());
    // Floats and histograms mixed in one group: dropped, as Prometheus does.
    assert!(floats(&s, r#"sum({__name__=~"h|f"})"#).is_empty());
    assert_eq!(floats(&s, r#"count({__name__=~"h|f"})"#), [2.0]);
    assert_eq!(floats(&s, "f * 2"), [6.0]);
}

#[test]
fn changes_and_resets_count_histograms() {
    let s = store();
    // (0 s, 60 s] holds five growing histograms, then the reset: 5
    // changes, 1 reset.
    assert_eq!(floats(&s, "changes(h[1m])"), [5.0]);
    assert_eq!(floats(&s, "resets(h[1m])"), [1.0]);
    // A float next to a histogram is a change and a reset.
    let mut s = store();
    let id = s
        .series_id(&Labels::from_pairs(&[("__name__", "m")]))
        .unwrap();
    let (items, _) = notation::item("{{count:1}}").unwrap();
    s.add(&Labels::from_pairs(&[("__name__", "m")]), 40_000, 5.0)
        .unwrap();
    s.append_histogram(id, 50_000, items[0].histogram.clone())
        .unwrap();
    s.add(&Labels::from_pairs(&[("__name__", "m")]), 60_000, 5.0)
        .unwrap();
    assert_eq!(floats(&s, "changes(m[30s])"), [2.0]);
    assert_eq!(floats(&s, "resets(m[30s])"), [2.0]);
}

#[test]
fn limits_keep_histograms_and_scalar_ignores_them() {
    let s = store();
    assert_eq!(
        histogram(&s, "limitk(1, h)"),
        "{{count:4 sum:8 buckets:[1 2 1]}}"
    );
    assert_eq!(
        histogram(&s, "limit_ratio(1, h)"),
        "{{count:4 sum:8 buckets:[1 2 1]}}"
    );
    let scalar = |expr: &str| {
        let mut ev = Evaluator::new(&s);
        match ev.instant(&parse(expr).unwrap(), 60_000).unwrap() {
            Value::Scalar(v) => v,
            other => panic!("{expr}: {other:?}"),
        }
    };
    // The histogram is not the one sample: NaN, never the tag.
    assert!(scalar("scalar(h)").is_nan());
    // One float beside a histogram: its value.
    assert_eq!(scalar(r#"scalar({__name__=~"h|f"})"#), 3.0);
    // sort drops histograms, count_values labels them as Go prints them.
    assert_eq!(floats(&s, r#"sort({__name__=~"h|f"})"#), [3.0]);
    let mut ev = Evaluator::new(&s);
    let Value::Vector(v) = ev
        .instant(&parse(r#"count_values("v", h)"#).unwrap(), 60_000)
        .unwrap()
    else {
        panic!("a vector");
    };
    assert_eq!(
        v[0].labels.get("v"),
        Some("{count:4, sum:8, (0.5,1]:1, (1,2]:2, (2,4]:1}")
    );
}

#[test]
fn histogram_quantiles_label_each_quantile() {
    let s = store();
    let mut ev = Evaluator::new(&s);
    let Value::Vector(v) = ev
        .instant(
            &parse(r#"histogram_quantiles(c_bucket, "q", 0.5, 1)"#).unwrap(),
            60_000,
        )
        .unwrap()
    else {
        panic!("a vector");
    };
    let got: Vec<(Option<&str>, f64)> = v.iter().map(|s| (s.labels.get("q"), s.v)).collect();
    assert_eq!(got, [(Some("0.5"), 1.5), (Some("1.0"), 2.0)]);
}

#[test]
fn a_native_and_a_classic_histogram_of_one_name_give_nothing() {
    let mut s = Store::default();
    let id = s
        .series_id(&Labels::from_pairs(&[("__name__", "x")]))
        .unwrap();
    let (items, _) = notation::item("{{count:4 sum:8 buckets:[1 2 1]}}").unwrap();
    s.append_histogram(id, 60_000, items[0].histogram.clone())
        .unwrap();
    for (le, v) in [("1", 2.0), ("+Inf", 8.0)] {
        s.add(
            &Labels::from_pairs(&[("__name__", "x"), ("le", le)]),
            60_000,
            v,
        )
        .unwrap();
    }
    assert!(floats(&s, "histogram_quantile(0.5, x)").is_empty());
    assert!(floats(&s, "histogram_fraction(0, 1, x)").is_empty());
}

#[test]
fn stored_histograms_carry_the_hints_prometheus_reads_back() {
    use crate::metrics::histogram::Hint;
    let s = store();
    let hints: Vec<Hint> = s.series()[0]
        .points
        .iter()
        .map(|p| {
            let (_, i) = crate::metrics::histogram::tag::decode(p.v).unwrap();
            s.histogram(i).unwrap().hint
        })
        .collect();
    // The first starts a chunk, the growing ones continue it, the reset
    // starts another.
    assert_eq!(hints[0], Hint::Unknown);
    assert!(hints[1..6].iter().all(|h| *h == Hint::NotCounterReset));
    assert_eq!(hints[6], Hint::Unknown);
    // sum of histograms that all continue their chunk: not_reset, as
    // Prometheus's `sum` keeps it.
    let mut ev = Evaluator::new(&s);
    let Value::Vector(v) = ev.instant(&parse("sum(h)").unwrap(), 50_000).unwrap() else {
        panic!("a vector");
    };
    assert_eq!(ev.histogram(v[0].v).unwrap().hint, Hint::NotCounterReset);
}

#[test]
fn avg_turns_incremental_before_the_sum_overflows() {
    let mut s = Store::default();
    for (i, count) in ["1.7976931348623157e+308", "1e308", "1e-6"]
        .iter()
        .enumerate()
    {
        let id = s
            .series_id(&Labels::from_pairs(&[
                ("__name__", "a"),
                ("i", &i.to_string()),
            ]))
            .unwrap();
        let (items, _) = notation::item(&format!("{{{{count:{count} sum:1}}}}")).unwrap();
        s.append_histogram(id, 60_000, items[0].histogram.clone())
            .unwrap();
    }
    let mut ev = Evaluator::new(&s);
    let Value::Vector(v) = ev.instant(&parse("avg(a)").unwrap(), 60_000).unwrap() else {
        panic!("a vector");
    };
    let h = ev.histogram(v[0].v).unwrap();
    let want = 1.7976931348623157e308 / 3.0 + 1e308 / 3.0;
    assert!((h.count - want).abs() / want < 1e-12, "{}", h.count);
    assert_eq!(h.sum, 1.0);
}
