//! The limits of a query: the issue's hostile queries end at once with
//! Prometheus's errors, and queries within the limits still answer.

use std::time::{Duration, Instant};

use super::{Error, Evaluator, Limits, Value, parse};
use crate::metrics::store::{Labels, Store};

/// `up` every second for `seconds` seconds from t=0.
fn store(seconds: i64) -> Store {
    let mut store = Store::default();
    let up = Labels::from_pairs(&[("__name__", "up"), ("job", "a")]);
    for k in 0..seconds {
        store.add(&up, k * 1000, 1.0).unwrap();
    }
    store
}

fn instant(store: &Store, limits: Limits, expr: &str, t: i64) -> Result<Value<'static>, Error> {
    let parsed = parse(expr)?;
    Evaluator::new(store)
        .with_limits(limits)
        .instant(&parsed, t)
        .map(|v| match v {
            Value::Scalar(x) => Value::Scalar(x),
            Value::Vector(v) => Value::Vector(v),
            Value::String(s) => Value::String(s),
            Value::Matrix(_) => Value::String("matrix".into()),
        })
}

/// Runs `f`, asserting it took under `most`.
fn quickly<T>(most: Duration, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    assert!(started.elapsed() < most, "took {:?}", started.elapsed());
    out
}

#[test]
fn the_issues_subqueries_are_refused_before_their_first_step() {
    let s = store(10);
    for expr in [
        "count_over_time(vector(1)[1d:1ms])",
        "count_over_time(vector(1)[1y:1ms])",
        "max_over_time(up[1y:1ms])",
    ] {
        let err = quickly(Duration::from_secs(1), || {
            instant(&s, Limits::default(), expr, 10_000).unwrap_err()
        });
        assert!(
            matches!(
                err,
                Error::SubqueryTooLong {
                    limit: 50_000_000,
                    ..
                }
            ),
            "{expr}: {err}"
        );
        assert!(
            err.to_string().contains("use a longer subquery step"),
            "{err}"
        );
    }
    // A day at one-minute steps is fine.
    match instant(
        &s,
        Limits::default(),
        "count_over_time(vector(1)[1d:1m])",
        0,
    )
    .unwrap()
    {
        Value::Vector(v) => assert_eq!(v[0].v, 1440.0),
        other => panic!("{other:?}"),
    }
}

#[test]
fn samples_are_counted_as_loaded_and_released_when_a_step_is_done() {
    let s = store(2000);
    let limits = Limits {
        max_samples: 1000,
        ..Limits::default()
    };
    // 1,500 points of one range in memory at once: refused.
    let err = instant(&s, limits, "count_over_time(up[1500s])", 1_999_000).unwrap_err();
    assert_eq!(err, Error::TooManySamples { limit: 1000 });
    assert!(err.to_string().contains("too many samples"), "{err}");
    // 900 points: answered.
    match instant(&s, limits, "count_over_time(up[900s])", 1_999_000).unwrap() {
        Value::Vector(v) => assert_eq!(v[0].v, 900.0),
        other => panic!("{other:?}"),
    }
    // 20 steps of 600 points each (12,000 loaded in all) keep one point a
    // step: each step's range is released, so it fits in 1,000.
    let parsed = parse("count_over_time(up[600s])").unwrap();
    let series = Evaluator::new(&s)
        .with_limits(limits)
        .range(&parsed, 1_000_000, 1_950_000, 50_000)
        .unwrap();
    assert_eq!(series[0].points.len(), 20);
    assert!(series[0].points.iter().all(|p| p.v == 600.0));
    // A subquery keeps its points: 1,200 steps of one sample each do not fit.
    let err = instant(&s, limits, "count_over_time(up[1200s:1s])", 1_999_000).unwrap_err();
    assert!(matches!(err, Error::SubqueryTooLong { .. }), "{err}");
    let err = instant(
        &s,
        limits,
        "count_over_time(up[900s:1s]) + count_over_time(up[900s:1s])",
        1_999_000,
    )
    .unwrap_err();
    assert_eq!(err, Error::TooManySamples { limit: 1000 });
}

#[test]
fn a_range_query_has_at_most_11000_points_per_series() {
    let s = store(10);
    let parsed = parse("vector(1)").unwrap();
    let mut ev = Evaluator::new(&s);
    let err = ev.range(&parsed, 0, 11_001_000, 1000).unwrap_err();
    assert_eq!(
        err,
        Error::TooManyPoints {
            points: 11_001,
            limit: 11_000
        }
    );
    assert!(
        err.to_string()
            .starts_with("exceeded maximum resolution of 11000 points per timeseries"),
        "{err}"
    );
    let series = ev.range(&parsed, 0, 11_000_000, 1000).unwrap();
    assert_eq!(series[0].points.len(), 11_001);
    // Far-off ends do not overflow into a small count.
    let err = ev.range(&parsed, i64::MIN, i64::MAX, 1).unwrap_err();
    assert!(matches!(err, Error::TooManyPoints { .. }), "{err}");
}

#[test]
fn a_query_stops_at_its_timeout() {
    let s = store(10);
    let limits = Limits {
        timeout: Duration::from_millis(100),
        ..Limits::default()
    };
    // 8.64 M steps: within the sample limit, far beyond 100 ms.
    let err = quickly(Duration::from_secs(5), || {
        instant(&s, limits, "count_over_time(vector(1)[1d:10ms])", 0).unwrap_err()
    });
    assert_eq!(
        err,
        Error::Timeout {
            limit: Duration::from_millis(100)
        }
    );
    assert_eq!(
        err.to_string(),
        "query timed out after 0.1s (the evaluation timeout)"
    );
}

#[test]
fn nested_label_join_stops_at_the_label_size_limit() {
    let s = store(10);
    let mut expr = r#"label_replace(vector(1), "a", "xxxxxxxxxxxxxxxx", "", "")"#.to_string();
    for _ in 0..30 {
        expr = format!(r#"label_join({expr}, "a", "", "a", "a")"#);
    }
    let err = quickly(Duration::from_secs(1), || {
        instant(&s, Limits::default(), &expr, 0).unwrap_err()
    });
    // 16 bytes doubled 12 times is 64 KiB, the limit; the 13th is refused.
    assert_eq!(
        err,
        Error::LabelTooLong {
            function: "label_join".into(),
            bytes: 16 << 13,
            limit: 64 * 1024
        }
    );
    // label_replace's `$1$1` doubles too.
    let mut expr = r#"label_replace(vector(1), "a", "xxxxxxxxxxxxxxxx", "", "")"#.to_string();
    for _ in 0..30 {
        expr = format!(r#"label_replace({expr}, "a", "$1$1", "a", "(.*)")"#);
    }
    let err = instant(&s, Limits::default(), &expr, 0).unwrap_err();
    assert!(
        matches!(err, Error::LabelTooLong { ref function, .. } if function == "label_replace"),
        "{err}"
    );
}

#[test]
fn deep_expressions_are_refused_at_parse_time_with_the_position() {
    let nested = format!("{}up{}", "abs(".repeat(5000), ")".repeat(5000));
    let err = quickly(Duration::from_secs(1), || parse(&nested).unwrap_err());
    assert_eq!(
        err,
        Error::TooDeep {
            limit: 256,
            line: 1,
            column: 1024
        }
    );
    assert!(
        err.to_string()
            .contains("deeper than 256 levels at column 1024"),
        "{err}"
    );
    let chain = vec!["1"; 10_000].join("+");
    let err = parse(&chain).unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooDeep {
                line: 1,
                column: 512,
                ..
            }
        ),
        "{err}"
    );
}

/// Parsing and evaluating the deepest expressions the limit lets through
/// fits in a 2 MiB thread stack (Rust's default for spawned threads), in
/// this unoptimized build, in each shape: calls, a chain, parentheses with
/// operators after them, and subqueries.
#[test]
fn the_deepest_accepted_expressions_fit_a_2_mib_stack() {
    let calls = format!("{}up{}", "abs(".repeat(254), ")".repeat(254));
    let chain = vec!["up"; 255].join(" + ");
    let mut parens = "up".to_string();
    for _ in 0..126 {
        parens = format!("({parens} + up)");
    }
    let mut subqueries = "up".to_string();
    for _ in 0..84 {
        subqueries = format!("last_over_time(({subqueries})[1s:1s])");
    }
    for expr in [calls, chain, parens, subqueries] {
        let handle = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let s = store(10);
                let parsed = parse(&expr).map_err(|e| format!("{e}: {expr:.60}"))?;
                let got = Evaluator::new(&s)
                    .instant(&parsed, 9_000)
                    .map_err(|e| e.to_string())?;
                Ok::<_, String>(matches!(got, Value::Vector(v) if v.len() == 1))
            })
            .unwrap();
        assert_eq!(handle.join().unwrap(), Ok(true));
    }
}
