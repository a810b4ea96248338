//! Semantics a Prometheus 2.x cannot be compared on (the agreement tests
//! with a real Prometheus cover the rest): Prometheus 3's left-open windows,
//! staleness markers, lookback, and evaluation that goes back in time.

use super::{Evaluator, Value, parse};
use crate::metrics::store::{Labels, Store, stale};

/// `x{i="a"}` and `x{i="b"}`: a counter every 10 s from t=0 to 100 s, with
/// a reset at 50 s; `b` goes stale at 60 s.
fn store() -> Store {
    let mut store = Store::default();
    let a = Labels::from_pairs(&[("__name__", "x"), ("i", "a")]);
    let b = Labels::from_pairs(&[("__name__", "x"), ("i", "b")]);
    for k in 0..=10i64 {
        let v = if k < 5 {
            k as f64 * 10.0
        } else {
            (k - 5) as f64 * 10.0
        };
        store.add(&a, k * 10_000, v).unwrap();
        if k < 6 {
            store.add(&b, k * 10_000, k as f64).unwrap();
        }
    }
    store.add(&b, 60_000, stale()).unwrap();
    store
}

fn values(store: &Store, expr: &str, t: i64) -> Vec<(String, f64)> {
    let parsed = parse(expr).unwrap();
    match Evaluator::new(store).instant(&parsed, t).unwrap() {
        Value::Vector(v) => {
            let mut out: Vec<_> = v.into_iter().map(|s| (s.labels.to_string(), s.v)).collect();
            out.sort_by(|a, b| a.0.cmp(&b.0));
            out
        }
        Value::Scalar(v) => vec![(String::new(), v)],
        other => panic!("{other:?}"),
    }
}

#[test]
fn windows_are_left_open() {
    let s = store();
    // (20 s, 40 s] holds the samples at 30 and 40 s, not the one at 20 s.
    assert_eq!(
        values(&s, r#"count_over_time(x{i="a"}[20s])"#, 40_000),
        [("{i=\"a\"}".into(), 2.0)]
    );
    assert_eq!(
        values(&s, r#"count_over_time(x{i="a"}[20s])"#, 40_001),
        [("{i=\"a\"}".into(), 2.0)]
    );
    assert_eq!(
        values(&s, r#"count_over_time(x{i="a"}[20s])"#, 39_999),
        [("{i=\"a\"}".into(), 2.0)]
    );
}

#[test]
fn staleness_ends_a_series_at_once_and_lookback_bounds_the_rest() {
    let s = store();
    assert_eq!(values(&s, "x", 59_999).len(), 2);
    // b's marker at 60 s hides it although its last value is within 5m.
    assert_eq!(values(&s, "x", 60_000), [("x{i=\"a\"}".into(), 10.0)]);
    // a's last sample (100 s) is visible until 5 minutes later, exclusive.
    assert_eq!(values(&s, "x", 399_999).len(), 1);
    assert!(values(&s, "x", 400_000).is_empty());
    // Range windows skip the marker: b's last 3 samples.
    assert_eq!(
        values(&s, r#"count_over_time(x{i="b"}[25s])"#, 60_000),
        [("{i=\"b\"}".into(), 2.0)]
    );
}

#[test]
fn counter_resets_are_corrected_from_the_store_or_by_counting() {
    let s = store();
    // (0, 100]: 10 → 40, reset, 0 → 50: an increase of 30 + 50 = 80 over
    // 90 s of samples; the first sample is 10 s (one interval, under the
    // 1.1 threshold) after the window's start, so it extrapolates all the
    // way there (the zero point, 11.25 s back, is further); the last
    // sample is at the window's end.
    let increase = values(&s, r#"increase(x{i="a"}[100s])"#, 100_000)[0].1;
    let by_hand = 80.0 * (90.0 + 10.0) / 90.0;
    assert!((increase - by_hand).abs() < 1e-9, "{increase} vs {by_hand}");
    // The same window through a subquery (points copied, resets counted).
    let sub = values(&s, r#"increase(x{i="a"}[100s:10s])"#, 100_000)[0].1;
    assert!((sub - by_hand).abs() < 1e-9, "{sub}");
    assert_eq!(values(&s, r#"resets(x{i="a"}[100s])"#, 100_000)[0].1, 1.0);
}

#[test]
fn a_range_query_that_steps_back_in_time_is_still_right() {
    // Subqueries evaluate selectors at earlier times than the outer step:
    // the window cursors must search backwards too.
    let s = store();
    let parsed = parse(r#"max_over_time(sum_over_time(x{i="a"}[15s])[60s:10s])"#).unwrap();
    let mut evaluator = Evaluator::new(&s);
    let range = evaluator.range(&parsed, 40_000, 100_000, 20_000).unwrap();
    let fresh: Vec<f64> = [40_000, 60_000, 80_000, 100_000]
        .iter()
        .map(|&t| match Evaluator::new(&s).instant(&parsed, t).unwrap() {
            Value::Vector(v) => v[0].v,
            other => panic!("{other:?}"),
        })
        .collect();
    let stepped: Vec<f64> = range[0].points.iter().map(|p| p.v).collect();
    assert_eq!(stepped, fresh);
}

#[test]
fn errors_name_what_is_wrong() {
    let s = store();
    let eval = |expr: &str| {
        Evaluator::new(&s)
            .instant(&parse(expr).unwrap(), 50_000)
            .unwrap_err()
            .to_string()
    };
    assert!(
        eval("double_exponential_smoothing(x[1m], 1, 0.5)")
            .contains("invalid smoothing factor. Expected: 0 < sf < 1, got: 1.000000")
    );
    assert!(eval(r#"x / on() x"#).contains("duplicate series for the match group"));
}

#[test]
fn short_values() {
    assert_eq!(
        crate::units::format_significant(0.00955072840790843),
        "0.009551"
    );
    assert_eq!(
        crate::units::format_significant(157.33333333333334),
        "157.3"
    );
    assert_eq!(crate::units::format_significant(12034.7), "12035");
    assert_eq!(crate::units::format_significant(1.0), "1");
    assert_eq!(crate::units::format_significant(f64::NAN), "NaN");
}
