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
