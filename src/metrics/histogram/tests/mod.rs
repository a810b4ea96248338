//! Cases of Prometheus's model/histogram/float_histogram_test.go
//! (TestFloatHistogramAdd, TestFloatHistogramSub,
//! TestFloatHistogramDetectReset), converted from its Go literals; results
//! compared as promqltest compares histograms, after `Compact(0)`. The
//! cases live one file per topic beside this one, in the Go file's order.

use super::*;

mod add_custom;
mod add_exponential;
mod reset_counts;
mod reset_custom;
mod reset_layout;
mod sub;

#[allow(clippy::too_many_arguments)]
fn fh(
    schema: i32,
    zero_threshold: f64,
    zero_count: f64,
    count: f64,
    sum: f64,
    p_spans: &[(i32, u32)],
    p: &[f64],
    n_spans: &[(i32, u32)],
    n: &[f64],
    custom_values: &[f64],
    hint: Hint,
) -> FloatHistogram {
    FloatHistogram {
        schema,
        zero_threshold,
        zero_count,
        count,
        sum,
        positive: from_spans(p_spans, p).expect("spans cover the buckets"),
        negative: from_spans(n_spans, n).expect("spans cover the buckets"),
        custom_values: custom_values.to_vec(),
        hint,
    }
}

struct Case {
    name: &'static str,
    a: Option<FloatHistogram>,
    b: Option<FloatHistogram>,
    want: Option<FloatHistogram>,
    err: bool,
    collision: bool,
    reconciled: bool,
}

struct Reset {
    name: &'static str,
    previous: FloatHistogram,
    current: FloatHistogram,
    reset: bool,
}

fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

fn assert_same(name: &str, got: &FloatHistogram, want: &FloatHistogram) {
    let (got, want) = (got.clone().compact(), want.clone().compact());
    let fields = [
        (got.count, want.count),
        (got.sum, want.sum),
        (got.zero_count, want.zero_count),
        (got.zero_threshold, want.zero_threshold),
    ];
    let buckets = |a: &[Bucket], b: &[Bucket]| {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x.index == y.index && same(x.count, y.count))
    };
    assert!(
        got.schema == want.schema
            && got.hint == want.hint
            && got.custom_values == want.custom_values
            && fields.iter().all(|&(a, b)| same(a, b))
            && buckets(&got.positive, &want.positive)
            && buckets(&got.negative, &want.negative),
        "{name}:\n got {got:?}\nwant {want:?}"
    );
}

fn check(c: &Case, mut a: FloatHistogram, b: &FloatHistogram, negate: bool) {
    let result = if negate { a.sub(b) } else { a.add(b) };
    match result {
        Err(_) => assert!(c.err, "{}: unexpected error", c.name),
        Ok(notes) => {
            assert!(!c.err, "{}: no error, where one is expected", c.name);
            if let Some(want) = &c.want {
                assert_same(c.name, &a, want);
            }
            assert_eq!(notes.counter_reset_collision, c.collision, "{}", c.name);
            assert_eq!(notes.nhcb_bounds_reconciled, c.reconciled, "{}", c.name);
        }
    }
}

/// As Prometheus's tests: an addition both ways round, a subtraction as
/// written.
fn run(cases: Vec<Case>, negate: bool) {
    assert!(cases.len() > 5);
    for c in &cases {
        let (Some(a), Some(b)) = (&c.a, &c.b) else {
            panic!("{}: both operands", c.name)
        };
        check(c, a.clone(), b, negate);
        if !negate {
            check(c, b.clone(), a, negate);
        }
    }
}

#[test]
fn add_as_prometheus() {
    run(add_cases(), false);
}

#[test]
fn sub_as_prometheus() {
    run(sub_cases(), true);
}

#[test]
fn detect_reset_as_prometheus() {
    let cases = reset_cases();
    assert!(cases.len() > 30);
    for c in cases {
        assert_eq!(c.current.detect_reset(&c.previous), c.reset, "{}", c.name);
    }
}

#[test]
fn mul_div_and_reduce_resolution() {
    let mut h = fh(
        1,
        0.01,
        2.0,
        10.0,
        5.0,
        &[(-1, 4)],
        &[1.0, 2.0, 3.0, 2.0],
        &[],
        &[],
        &[],
        Hint::Unknown,
    );
    h.mul(-2.0);
    assert_eq!(h.count, -20.0);
    assert_eq!(h.hint, Hint::Gauge);
    assert_eq!(h.positive[1].count, -4.0);
    h.div(0.0);
    assert!(h.positive.is_empty());
    assert_eq!(h.count, f64::NEG_INFINITY);
    // Schema 1 buckets -1, 0 | 1, 2 merge into schema 0 buckets 0 and 1.
    let mut h = fh(
        1,
        0.0,
        0.0,
        8.0,
        0.0,
        &[(-1, 4)],
        &[1.0, 2.0, 3.0, 2.0],
        &[],
        &[],
        &[],
        Hint::Unknown,
    );
    h.reduce_resolution(0);
    assert_eq!(
        h.positive,
        vec![
            Bucket {
                index: 0,
                count: 3.0
            },
            Bucket {
                index: 1,
                count: 5.0
            }
        ]
    );
}

#[test]
fn notation_reads_prometheus_s_test_syntax() {
    let (items, used) = notation::item(
        "{{schema:1 sum:5 count:4 z_bucket:1 z_bucket_w:0.001 buckets:[1 2] offset:1 n_buckets:[1] counter_reset_hint:gauge}}x2 rest",
    )
    .unwrap();
    assert_eq!(items.len(), 3);
    assert!(items[0].hint_set);
    let h = &items[2].histogram;
    assert_eq!(
        (h.schema, h.sum, h.count, h.zero_count, h.zero_threshold),
        (1, 5.0, 4.0, 1.0, 0.001)
    );
    assert_eq!(
        h.positive,
        vec![
            Bucket {
                index: 1,
                count: 1.0
            },
            Bucket {
                index: 2,
                count: 2.0
            }
        ]
    );
    assert_eq!(
        h.negative,
        vec![Bucket {
            index: 0,
            count: 1.0
        }]
    );
    assert_eq!(h.hint, Hint::Gauge);
    assert_eq!(used, "{{schema:1 sum:5 count:4 z_bucket:1 z_bucket_w:0.001 buckets:[1 2] offset:1 n_buckets:[1] counter_reset_hint:gauge}}x2".len());
    let (items, _) =
        notation::item("{{sum:1 count:1 buckets:[1]}}+{{sum:2 count:2 buckets:[2]}}x2").unwrap();
    assert_eq!(
        items.iter().map(|w| w.histogram.count).collect::<Vec<_>>(),
        [1.0, 3.0, 5.0]
    );
    assert!(!items[0].hint_set);
    let (items, _) =
        notation::item("{{schema:-53 sum:1 count:1 custom_values:[1 5] buckets:[1]}}").unwrap();
    assert!(items[0].histogram.uses_custom_buckets());
    assert_eq!(items[0].histogram.custom_values, [1.0, 5.0]);
    assert_eq!(
        notation::expression(&items[0].histogram),
        "{{schema:-53 count:1 sum:1 custom_values:[1 5] buckets:[1]}}"
    );
    let e = notation::item("{{schema:1 sum:1 sum:2}}").unwrap_err();
    assert!(e.message.contains("duplicate key \"sum\""), "{e}");
    let e = notation::item("{{scheme:1}}").unwrap_err();
    assert!(
        e.message.contains("bad histogram descriptor `scheme`"),
        "{e}"
    );
    assert!(
        notation::item("{{sum:1")
            .unwrap_err()
            .message
            .contains("closing")
    );
    assert!(
        notation::item("{{buckets:[1 x]}}")
            .unwrap_err()
            .message
            .contains("`x` is not a number")
    );
    assert!(
        notation::item("{{sum:1}}x99999999")
            .unwrap_err()
            .message
            .contains("allowed")
    );
    assert_eq!(notation::go_g(1e6), "1e+06");
    assert_eq!(notation::go_g(123456.0), "123456");
    assert_eq!(notation::go_g(0.00001), "1e-05");
    assert_eq!(notation::go_g(2.5), "2.5");
}

fn add_cases() -> Vec<Case> {
    let mut cases = add_exponential::cases();
    cases.extend(add_custom::cases());
    cases
}

fn sub_cases() -> Vec<Case> {
    sub::cases()
}

fn reset_cases() -> Vec<Reset> {
    let mut cases = reset_counts::cases();
    cases.extend(reset_layout::cases());
    cases.extend(reset_custom::cases());
    cases
}
