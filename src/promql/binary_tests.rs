//! Vector matching at its edges, as Prometheus's `VectorBinop` decides
//! them: an empty side matches nothing before any uniqueness check, and a
//! comparison filters only after the match was checked.

use super::{Evaluator, Value, parse};
use crate::metrics::store::{Labels, Store};

fn store() -> Store {
    let mut store = Store::default();
    for (name, pairs) in [
        ("meta", [("d", "1"), ("v", "a")]),
        ("meta", [("d", "1"), ("v", "b")]),
        ("total", [("d", "1"), ("v", "x")]),
        ("many", [("d", "1"), ("v", "p")]),
        ("many", [("d", "1"), ("v", "q")]),
    ] {
        let mut all = vec![("__name__", name)];
        all.extend(pairs);
        store.add(&Labels::from_pairs(&all), 0, 1.0).unwrap();
    }
    store
}

fn eval(store: &Store, expr: &str) -> Result<Vec<String>, String> {
    match Evaluator::new(store).instant(&parse(expr).unwrap(), 0) {
        Ok(Value::Vector(v)) => Ok(v.into_iter().map(|s| s.to_string()).collect()),
        Ok(other) => Err(format!("{other:?}")),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn an_empty_side_matches_nothing_even_over_duplicates() {
    let s = store();
    // Two `meta` series share `d` on the "one" side, but `used` is absent.
    assert_eq!(
        eval(&s, "meta * on (d) group_right(v) (used / total)"),
        Ok(vec![])
    );
    assert_eq!(eval(&s, "used * on (d) group_left meta"), Ok(vec![]));
    // With both sides present, the duplicate is the error Prometheus gives.
    let err = eval(&s, "meta * on (d) group_right(v) total").unwrap_err();
    assert_eq!(
        err,
        "found duplicate series for the match group {d=\"1\"} on the left hand-side of the \
         operation: [{__name__=\"meta\", d=\"1\", v=\"a\"}, {__name__=\"meta\", d=\"1\", v=\"b\"}];many-to-many matching not \
         allowed: matching labels must be unique on one side"
    );
}

#[test]
fn a_filtering_comparison_still_checks_the_match() {
    let s = store();
    // Both `many` series match the one `total`: refused, though `>` would
    // filter both out.
    let err = eval(&s, "many > on (d) total").unwrap_err();
    assert!(err.starts_with("multiple matches for labels"), "{err}");
}

#[test]
fn fill_modifiers_stand_in_for_a_missing_side() {
    let mut s = Store::default();
    for (name, label, v) in [
        ("l", "a", 1.0),
        ("l", "b", 2.0),
        ("r", "b", 20.0),
        ("r", "c", 30.0),
    ] {
        let labels = Labels::from_pairs(&[("__name__", name), ("k", label)]);
        s.add(&labels, 0, v).unwrap();
    }
    assert_eq!(
        eval(&s, "l + fill(0) r"),
        Ok(vec![
            "{k=\"a\"} 1".into(),
            "{k=\"b\"} 22".into(),
            "{k=\"c\"} 30".into()
        ])
    );
    assert_eq!(
        eval(&s, "l + fill_right(100) r"),
        Ok(vec!["{k=\"a\"} 101".into(), "{k=\"b\"} 22".into()])
    );
    assert_eq!(
        eval(&s, "l - fill_left(5) r"),
        Ok(vec!["{k=\"b\"} -18".into(), "{k=\"c\"} -25".into()])
    );
    // A side that is empty is filled too (no short-circuit).
    assert_eq!(
        eval(&s, "absent_metric * fill_left(2) r"),
        Ok(vec!["{k=\"b\"} 40".into(), "{k=\"c\"} 60".into()])
    );
    // A comparison with a fill value filters as usual: the left side's
    // name stays; a filled-in left side has only the matching labels.
    assert_eq!(
        eval(&s, "l < fill(1.5) r"),
        Ok(vec![
            "l{k=\"a\"} 1".into(),
            "l{k=\"b\"} 2".into(),
            "{k=\"c\"} 1.5".into()
        ])
    );
}

#[test]
fn trim_operators_drop_float_samples() {
    let s = store();
    assert_eq!(eval(&s, "total </ 1"), Ok(vec![]));
    assert_eq!(eval(&s, "total >/ 0"), Ok(vec![]));
    // Between two scalars Prometheus has no trim: the query fails.
    let err = eval(&s, "1 </ 2").unwrap_err();
    assert!(err.contains("not allowed for Scalar operations"), "{err}");
}
