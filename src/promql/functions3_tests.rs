//! The functions Prometheus 3 added (`mad_over_time`, `ts_of_*_over_time`,
//! `double_exponential_smoothing`, `sort_by_label*`, `limitk`,
//! `limit_ratio`), on small series whose answers are worked by hand.

use super::{Evaluator, Value, parse};
use crate::metrics::store::{Labels, Store};

/// `m` at 0, 10, ... 80 s: 1 2 3 0 5 6 2 1 4; `n{i=...}` constant 1.
fn store() -> Store {
    let mut store = Store::default();
    let m = Labels::from_pairs(&[("__name__", "m")]);
    for (k, v) in [1.0, 2.0, 3.0, 0.0, 5.0, 6.0, 2.0, 1.0, 4.0]
        .iter()
        .enumerate()
    {
        store.add(&m, k as i64 * 10_000, *v).unwrap();
    }
    for i in ["a10", "a2", "b1", "a1"] {
        let n = Labels::from_pairs(&[("__name__", "n"), ("i", i)]);
        store.add(&n, 0, 1.0).unwrap();
    }
    store
}

fn eval(store: &Store, expr: &str, t: i64) -> Vec<(String, f64)> {
    match Evaluator::new(store)
        .instant(&parse(expr).unwrap(), t)
        .unwrap()
    {
        Value::Vector(v) => v.into_iter().map(|s| (s.labels.to_string(), s.v)).collect(),
        other => panic!("{other:?}"),
    }
}

fn one(store: &Store, expr: &str, t: i64) -> f64 {
    let out = eval(store, expr, t);
    assert_eq!(out.len(), 1, "{expr}: {out:?}");
    out[0].1
}

#[test]
fn timestamps_of_extremes_first_and_last() {
    let s = store();
    // (0, 80 s]: values 2 3 0 5 6 2 1 4 at 10..80 s.
    assert_eq!(one(&s, "ts_of_min_over_time(m[80s])", 80_000), 30.0);
    assert_eq!(one(&s, "ts_of_max_over_time(m[80s])", 80_000), 50.0);
    assert_eq!(one(&s, "ts_of_first_over_time(m[80s])", 80_000), 10.0);
    assert_eq!(one(&s, "ts_of_last_over_time(m[80s])", 85_000), 80.0);
    // The metric name is dropped, as every `*_over_time` but first/last.
    assert_eq!(eval(&s, "ts_of_last_over_time(m[1m])", 80_000)[0].0, "{}");
}

#[test]
fn median_absolute_deviation() {
    let s = store();
    // 1 2 3 0 5: median 2, deviations 1 0 1 2 3, their median 1.
    assert_eq!(one(&s, "mad_over_time(m[41s])", 40_000), 1.0);
}

#[test]
fn double_exponential_smoothing_follows_a_trend_and_checks_its_factors() {
    let mut s = Store::default();
    let l = Labels::from_pairs(&[("__name__", "up_line")]);
    for k in 0..=6 {
        s.add(&l, k * 10_000, k as f64 * 10.0).unwrap();
    }
    // A straight line is smoothed to itself.
    let v = one(
        &s,
        "double_exponential_smoothing(up_line[1m], 0.5, 0.5)",
        60_000,
    );
    assert!((v - 60.0).abs() < 1e-9, "{v}");
    let bad = Evaluator::new(&s)
        .instant(
            &parse("double_exponential_smoothing(up_line[1m], 1, 0.5)").unwrap(),
            60_000,
        )
        .unwrap_err();
    assert!(bad.to_string().contains("smoothing factor"), "{bad}");
}

#[test]
fn sort_by_label_is_natural_then_by_labels() {
    let s = store();
    let order =
        |expr: &str| -> Vec<String> { eval(&s, expr, 0).into_iter().map(|(l, _)| l).collect() };
    assert_eq!(
        order(r#"sort_by_label(n, "i")"#),
        [
            r#"n{i="a1"}"#,
            r#"n{i="a2"}"#,
            r#"n{i="a10"}"#,
            r#"n{i="b1"}"#
        ]
    );
    assert_eq!(
        order(r#"sort_by_label_desc(n, "i")"#),
        [
            r#"n{i="b1"}"#,
            r#"n{i="a10"}"#,
            r#"n{i="a2"}"#,
            r#"n{i="a1"}"#
        ]
    );
}

#[test]
fn limitk_keeps_k_of_each_group_and_limit_ratio_splits_by_hash() {
    let s = store();
    assert_eq!(eval(&s, "limitk(2, n)", 0).len(), 2);
    assert_eq!(eval(&s, "limitk(0, n)", 0).len(), 0);
    assert_eq!(eval(&s, "limitk(10, n)", 0).len(), 4);
    // Values are untouched and the name kept.
    assert!(eval(&s, "limitk(1, n)", 0)[0].0.starts_with("n{"));
    // A ratio and its complement partition the series, whatever the ratio.
    for r in [0.1, 0.3, 0.5, 0.9] {
        let kept = eval(&s, &format!("limit_ratio({r}, n)"), 0);
        let rest = eval(&s, &format!("limit_ratio(-(1 - {r}), n)"), 0);
        assert_eq!(kept.len() + rest.len(), 4, "ratio {r}");
        assert!(kept.iter().all(|k| !rest.contains(k)), "ratio {r}");
    }
    assert_eq!(eval(&s, "limit_ratio(1, n)", 0).len(), 4);
    assert_eq!(eval(&s, "limit_ratio(0, n)", 0).len(), 0);
}

#[test]
fn info_adds_the_newest_info_series_data_labels() {
    let mut s = Store::default();
    let add = |s: &mut Store, pairs: &[(&str, &str)], t: i64, v: f64| {
        s.add(&Labels::from_pairs(pairs), t, v).unwrap();
    };
    for t in [0, 60_000, 120_000] {
        add(
            &mut s,
            &[("__name__", "m"), ("instance", "a"), ("job", "j")],
            t,
            5.0,
        );
        add(
            &mut s,
            &[("__name__", "m"), ("instance", "z"), ("job", "j")],
            t,
            6.0,
        );
    }
    let old = [
        ("__name__", "target_info"),
        ("instance", "a"),
        ("job", "j"),
        ("v", "old"),
    ];
    let new = [
        ("__name__", "target_info"),
        ("instance", "a"),
        ("job", "j"),
        ("v", "new"),
    ];
    add(&mut s, &old, 0, 1.0);
    add(&mut s, &old, 60_000, 1.0);
    add(&mut s, &new, 120_000, 1.0);
    // At 2m both are within the lookback: the newer sample wins. `z` has
    // no info series and is kept as it is.
    let mut got = eval(&s, "info(m)", 120_000);
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        [
            (r#"m{instance="a", job="j", v="new"}"#.to_string(), 5.0),
            (r#"m{instance="z", job="j"}"#.to_string(), 6.0)
        ]
    );
    assert_eq!(
        eval(&s, "info(m offset 1m)", 120_000)[0].0,
        r#"m{instance="a", job="j", v="old"}"#
    );
    // A data matcher that refuses empty values drops the unmatched series.
    assert_eq!(eval(&s, r#"info(m, {v=~".+"})"#, 120_000).len(), 1);
}

#[test]
fn query_context_min_of_max_of_and_avg_near_overflow() {
    let mut s = Store::default();
    for (i, v) in [f64::MAX, f64::MAX, f64::INFINITY, f64::NEG_INFINITY]
        .iter()
        .enumerate()
    {
        let l = Labels::from_pairs(&[("__name__", "big"), ("i", &i.to_string())]);
        s.add(&l, 0, *v).unwrap();
    }
    let scalar = |expr: &str| match Evaluator::new(&s).instant(&parse(expr).unwrap(), 5_000) {
        Ok(Value::Scalar(v)) => v,
        other => panic!("{expr}: {other:?}"),
    };
    assert_eq!(scalar("step()"), 0.0);
    assert_eq!(scalar("range()"), 0.0);
    assert_eq!(scalar("end()"), 5.0);
    assert_eq!(scalar("min_of(3, 5)"), 3.0);
    assert!(scalar("max_of(NaN, 5)").is_nan());
    let range = Evaluator::new(&s)
        .range(&parse("step() + range()").unwrap(), 0, 20_000, 10_000)
        .unwrap();
    assert!(range[0].points.iter().all(|p| p.v == 30.0), "{range:?}");
    // The sum of two f64::MAX overflows; the mean does not.
    assert_eq!(one(&s, r#"avg(big{i=~"0|1"})"#, 0), f64::MAX);
    assert!(one(&s, r#"avg(big{i=~"2|3"})"#, 0).is_nan());
    let nan = Evaluator::new(&s)
        .instant(&parse("topk(NaN, nothing)").unwrap(), 0)
        .unwrap_err();
    assert_eq!(nan.to_string(), "Parameter value is NaN");
}
