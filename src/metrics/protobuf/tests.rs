use std::time::Duration;

use prost::Message;

use super::wire::{self, metric_type};
use super::*;
use crate::metrics::fetch::{Body, Fetched, ScrapeError};
use crate::metrics::ingest::TargetState;
use crate::metrics::scrape::{ScrapeLimits, Target};
use crate::metrics::store::Store;

fn label(name: &str, value: &str) -> wire::LabelPair {
    wire::LabelPair {
        name: name.into(),
        value: value.into(),
    }
}

fn family(name: &str, kind: i32, metric: Vec<wire::Metric>) -> wire::MetricFamily {
    wire::MetricFamily {
        name: name.into(),
        r#type: kind,
        metric,
        ..Default::default()
    }
}

fn encode(families: &[wire::MetricFamily]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in families {
        f.encode_length_delimited(&mut out).unwrap();
    }
    out
}

/// An integer native histogram, schema 0: buckets 1 (0.5,1] ×2,
/// 2 (1,2] ×1, 4 (4,8] ×1, and 1 in the zero bucket; with one classic
/// bucket that must not be stored.
fn native() -> wire::Histogram {
    wire::Histogram {
        sample_count: 5,
        sample_sum: 9.5,
        schema: 0,
        zero_threshold: 0.001,
        zero_count: 1,
        positive_span: vec![
            wire::BucketSpan {
                offset: 0,
                length: 2,
            },
            wire::BucketSpan {
                offset: 1,
                length: 1,
            },
        ],
        positive_delta: vec![2, -1, 0],
        bucket: vec![wire::Bucket {
            cumulative_count: 3,
            upper_bound: 1.0,
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn body() -> Vec<u8> {
    encode(&[
        family(
            "requests_total",
            metric_type::COUNTER,
            vec![wire::Metric {
                label: vec![label("code", "200")],
                counter: Some(wire::Counter {
                    value: 42.0,
                    exemplar: None,
                }),
                ..Default::default()
            }],
        ),
        family(
            "latency_seconds",
            metric_type::HISTOGRAM,
            vec![wire::Metric {
                histogram: Some(native()),
                ..Default::default()
            }],
        ),
        family(
            "classic_seconds",
            metric_type::HISTOGRAM,
            vec![wire::Metric {
                histogram: Some(wire::Histogram {
                    sample_count: 4,
                    sample_sum: 2.0,
                    bucket: vec![wire::Bucket {
                        cumulative_count: 3,
                        upper_bound: 1.0,
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                timestamp_ms: 500,
                ..Default::default()
            }],
        ),
        family(
            "rpc_seconds",
            metric_type::SUMMARY,
            vec![wire::Metric {
                summary: Some(wire::Summary {
                    sample_count: 7,
                    sample_sum: 3.5,
                    quantile: vec![wire::Quantile {
                        quantile: 0.5,
                        value: 0.25,
                    }],
                }),
                ..Default::default()
            }],
        ),
    ])
}

fn scrape(store: &mut Store, body: Vec<u8>) -> Option<ScrapeError> {
    let target = Target {
        url: "http://127.0.0.1:1/metrics".into(),
        job: "demo".into(),
        interval: Duration::from_secs(1),
        limits: ScrapeLimits::default(),
    };
    let mut state = TargetState::new(&target);
    let fetched = Fetched {
        t: 1000,
        duration: Duration::from_millis(1),
        result: Ok(Body::Protobuf(body)),
    };
    state.record(store, fetched).failure
}

fn query(store: &Store, expr: &str, t: i64) -> Vec<(String, f64)> {
    let expr = crate::promql::parse(expr).unwrap();
    match crate::promql::Evaluator::new(store)
        .instant(&expr, t)
        .unwrap()
    {
        crate::promql::Value::Vector(samples) => samples
            .iter()
            .map(|s| (s.labels.to_string(), s.v))
            .collect(),
        crate::promql::Value::Scalar(v) => vec![(String::new(), v)],
        other => panic!("{other:?}"),
    }
}

fn names(store: &Store) -> Vec<String> {
    let mut out: Vec<String> = store
        .series()
        .iter()
        .filter(|s| s.labels.get("job") == Some("demo"))
        .map(|s| s.labels.to_string())
        .filter(|l| !l.starts_with("up") && !l.starts_with("scrape_"))
        .collect();
    out.sort();
    out
}

#[test]
fn families_become_the_series_the_text_parser_gives_and_one_native_histogram() {
    let mut store = Store::default();
    assert_eq!(scrape(&mut store, body()), None);
    let i = r#"instance="127.0.0.1:1", job="demo""#;
    assert_eq!(
        names(&store),
        [
            format!(r#"classic_seconds_bucket{{{i}, le="+Inf"}}"#),
            format!(r#"classic_seconds_bucket{{{i}, le="1.0"}}"#),
            format!(r#"classic_seconds_count{{{i}}}"#),
            format!(r#"classic_seconds_sum{{{i}}}"#),
            format!(r#"latency_seconds{{{i}}}"#),
            format!(r#"requests_total{{code="200", {i}}}"#),
            format!(r#"rpc_seconds_count{{{i}}}"#),
            format!(r#"rpc_seconds_sum{{{i}}}"#),
            format!(r#"rpc_seconds{{{i}, quantile="0.5"}}"#),
        ]
    );
    assert_eq!(query(&store, "requests_total", 1000)[0].1, 42.0);
    assert_eq!(
        query(&store, "histogram_count(latency_seconds)", 1000)[0].1,
        5.0
    );
    assert_eq!(
        query(&store, "histogram_sum(latency_seconds)", 1000)[0].1,
        9.5
    );
    // 5 observations: the median is the 2.5th, in bucket (0.5, 1] after
    // the zero bucket's 1.
    let median = query(&store, "histogram_quantile(0.5, latency_seconds)", 1000)[0].1;
    assert!(median > 0.5 && median <= 1.0, "{median}");
    // The +Inf bucket the message left out is the count; its own
    // timestamp is honoured.
    let inf = store
        .series()
        .iter()
        .find(|s| s.labels.get("le") == Some("+Inf"))
        .unwrap();
    assert_eq!((inf.points[0].t, inf.points[0].v), (500, 4.0));
}

#[test]
fn integer_deltas_become_absolute_counts_and_float_histograms_are_kept() {
    let h = convert::native(&native(), false).unwrap();
    let buckets: Vec<(i32, f64)> = h.positive.iter().map(|b| (b.index, b.count)).collect();
    assert_eq!(buckets, [(0, 2.0), (1, 1.0), (3, 1.0)]);
    assert_eq!((h.count, h.zero_count, h.schema), (5.0, 1.0, 0));
    let float = wire::Histogram {
        sample_count_float: 2.5,
        schema: 3,
        positive_span: vec![wire::BucketSpan {
            offset: -2,
            length: 2,
        }],
        positive_count: vec![1.5, 1.0],
        ..Default::default()
    };
    let h = convert::native(&float, true).unwrap();
    assert_eq!(h.positive.len(), 2);
    assert_eq!((h.positive[0].index, h.count), (-2, 2.5));
    assert_eq!(h.hint, crate::metrics::histogram::Hint::Gauge);
}

#[test]
fn garbage_truncated_and_inconsistent_bodies_fail_the_scrape_without_panic() {
    let whole = body();
    for cut in [1, whole.len() / 2, whole.len() - 1] {
        let mut store = Store::default();
        match scrape(&mut store, whole[..cut].to_vec()) {
            Some(ScrapeError::InvalidProtobuf(e)) => {
                assert!(matches!(e.reason, FamilyError::Decode(_)), "{e}");
                assert!(e.to_string().contains("MetricFamily"), "{e}");
            }
            other => panic!("cut at {cut}: {other:?}"),
        }
        // Nothing of the failed body is stored, only `up` and `scrape_*`.
        assert!(names(&store).is_empty());
    }
    let mut garbage = Store::default();
    assert!(scrape(&mut garbage, vec![0xff; 64]).is_some());
    let mut bad = native();
    bad.positive_span[0].length = 1_000_000;
    let mismatch = encode(&[family(
        "h",
        metric_type::HISTOGRAM,
        vec![wire::Metric {
            histogram: Some(bad),
            ..Default::default()
        }],
    )]);
    let mut store = Store::default();
    let e = scrape(&mut store, mismatch).unwrap().to_string();
    assert!(e.contains("spans require 1000001 buckets, have 3"), "{e}");
    // A span offset of i32::MIN: no real bucket, refused before any index
    // arithmetic can overflow.
    let mut far = native();
    far.positive_span[0].offset = i32::MIN;
    assert!(matches!(
        convert::native(&far, false),
        Err(convert::NativeError::Spans {
            side: "positive",
            ..
        })
    ));
    let mut schema = native();
    schema.schema = -53;
    let e = convert::native(&schema, false).unwrap_err();
    assert_eq!(e, convert::NativeError::Schema(-53));
    assert!(e.to_string().contains("schema -53"), "{e}");
    let mut negative = native();
    negative.positive_delta = vec![-1, 0, 0];
    assert_eq!(
        convert::native(&negative, false).unwrap_err().to_string(),
        "positive bucket count -1 is negative"
    );
}

#[test]
fn the_sample_limit_counts_a_native_histogram_as_one_sample() {
    let checked = crate::metrics::validate::check_protobuf(&body(), 100).unwrap();
    // 1 counter, 1 native histogram, 2 + 2 classic (with the added +Inf),
    // 3 summary samples.
    assert_eq!(checked.samples, 9);
    assert_eq!(
        crate::metrics::validate::check_protobuf(&body(), 8).unwrap_err(),
        ScrapeError::SampleLimit { limit: 8 }
    );
}

#[test]
fn content_types_are_recognised_as_prometheus_recognises_them() {
    assert!(is_protobuf(MEDIA_TYPE));
    assert!(is_protobuf(
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
    ));
    assert!(!is_protobuf(
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=text"
    ));
    assert!(!is_protobuf("text/plain; version=0.0.4"));
}

#[test]
fn too_many_buckets_reduce_the_resolution_as_the_bucket_limit_does() {
    let n = convert::BUCKET_LIMIT as u32 + 1;
    let wide = wire::Histogram {
        sample_count: u64::from(n),
        schema: 8,
        positive_span: vec![wire::BucketSpan {
            offset: 0,
            length: n,
        }],
        positive_delta: std::iter::once(1).chain((1..n).map(|_| 0)).collect(),
        ..Default::default()
    };
    let h = convert::native(&wide, false).unwrap();
    assert_eq!(h.schema, 7);
    assert!(h.positive.len() <= convert::BUCKET_LIMIT);
    assert_eq!(
        h.positive.iter().map(|b| b.count).sum::<f64>(),
        f64::from(n)
    );
    // Spread over indices no schema merges below the limit: refused.
    let spread = wire::Histogram {
        sample_count: u64::from(n),
        schema: -4,
        positive_span: vec![wire::BucketSpan {
            offset: -2000,
            length: n,
        }],
        positive_delta: std::iter::once(1).chain((1..n).map(|_| 0)).collect(),
        ..Default::default()
    };
    let e = convert::native(&spread, false).unwrap_err();
    assert!(matches!(e, convert::NativeError::TooManyBuckets(_)), "{e}");
    assert!(e.to_string().contains("4096 allowed"), "{e}");
}

/// A double can carry any bits: a gauge (or a histogram's sum) whose bits
/// spell the tag of the store's first histogram is read as NaN, never as
/// that histogram.
#[test]
fn a_float_spelling_a_histogram_tag_is_a_plain_nan() {
    use crate::metrics::histogram::tag::{self, Home};
    let forged = tag::encode(Home::Store, 0);
    let mut histogram = native();
    histogram.sample_sum = forged;
    let mut store = Store::default();
    let body = encode(&[
        family(
            "latency_seconds",
            metric_type::HISTOGRAM,
            vec![wire::Metric {
                histogram: Some(histogram),
                ..Default::default()
            }],
        ),
        family(
            "forged",
            metric_type::GAUGE,
            vec![wire::Metric {
                gauge: Some(wire::Gauge { value: forged }),
                ..Default::default()
            }],
        ),
    ]);
    assert_eq!(scrape(&mut store, body), None);
    let gauge = store
        .series()
        .iter()
        .find(|s| s.labels.get("__name__") == Some("forged"))
        .unwrap();
    assert!(gauge.points[0].v.is_nan() && !tag::is_histogram(gauge.points[0].v));
    assert_eq!(query(&store, "histogram_count(forged)", 1000), []);
    let sum = query(&store, "histogram_sum(latency_seconds)", 1000)[0].1;
    assert!(sum.is_nan() && !tag::is_histogram(sum));
}
