//! The native-histogram variant of the demo's request latency,
//! `http_request_duration_native_seconds`, kept beside the
//! `prometheus-client` histogram: schema 3 (bucket factor 2^(1/8) ≈ 1.09, what Go's client picks for
//! `NativeHistogramBucketFactor` 1.1) and Go's default zero threshold
//! 2^-128. `prometheus-client` 0.25 has native histograms too, but
//! encodes them only with its `prometheus_protobuf` feature, which runs
//! `prost-build` (and so `protoc`, or the `protox` crate tree) at build
//! time; these few lines and [`crate::metrics::protobuf::wire`] need
//! neither.
//!
//! It is a family of its own, not native buckets added to
//! `http_request_duration_seconds` as Go's client would add them: a
//! scraper reading protobuf stores no classic buckets of a histogram with
//! native ones (Prometheus without `always_scrape_classic_histograms`, and
//! slogate), so the drills and SLOs that read
//! `http_request_duration_seconds_bucket` would lose their data.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::metrics::RouteLabels;
use crate::metrics::histogram::bounds;
use crate::metrics::protobuf::wire;

pub(crate) const SCHEMA: i32 = 3;
/// Go's `DefNativeHistogramZeroThreshold`.
pub(crate) const ZERO_THRESHOLD: f64 = 2.938_735_877_055_719e-39;

#[derive(Default)]
struct Route {
    count: u64,
    sum: f64,
    zero: u64,
    /// Positive bucket index → observations.
    positive: BTreeMap<i32, u64>,
}

/// Observations by route.
#[derive(Default)]
pub(crate) struct NativeDurations {
    routes: Mutex<BTreeMap<(String, String), Route>>,
}

/// The schema-3 bucket of `v` > 0: the `i` with `bound(i-1) < v ≤ bound(i)`.
pub(crate) fn index(v: f64) -> i32 {
    let mut i = (v.log2() * f64::from(1 << SCHEMA)).ceil() as i32;
    // The logarithm can be off by one at a bound; two steps settle it.
    for _ in 0..2 {
        if bounds::exponential(i - 1, SCHEMA) >= v {
            i -= 1;
        } else if bounds::exponential(i, SCHEMA) < v {
            i += 1;
        }
    }
    i
}

impl NativeDurations {
    pub(crate) fn observe(&self, labels: &RouteLabels, v: f64) {
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let route = routes
            .entry((labels.method.clone(), labels.endpoint.clone()))
            .or_default();
        route.count += 1;
        route.sum += v;
        if v.abs() <= ZERO_THRESHOLD || !v.is_finite() {
            route.zero += 1;
        } else {
            *route.positive.entry(index(v)).or_default() += 1;
        }
    }

    /// The family, as Go's client exposes a native-only histogram.
    pub(crate) fn family(&self, name: &str, help: &str) -> wire::MetricFamily {
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let metric = routes
            .iter()
            .map(|((method, endpoint), route)| wire::Metric {
                label: vec![
                    wire::LabelPair {
                        name: "endpoint".into(),
                        value: endpoint.clone(),
                    },
                    wire::LabelPair {
                        name: "method".into(),
                        value: method.clone(),
                    },
                ],
                histogram: Some(histogram(route)),
                ..Default::default()
            })
            .collect();
        wire::MetricFamily {
            name: name.into(),
            help: help.into(),
            r#type: wire::metric_type::HISTOGRAM,
            metric,
            unit: String::new(),
        }
    }
}

fn histogram(route: &Route) -> wire::Histogram {
    let (mut spans, mut deltas) = (Vec::<wire::BucketSpan>::new(), Vec::new());
    let (mut previous_index, mut previous_count): (Option<i32>, i64) = (None, 0);
    for (&i, &n) in &route.positive {
        match previous_index {
            Some(p) if i == p + 1 => spans.last_mut().expect("a span").length += 1,
            Some(p) => spans.push(wire::BucketSpan {
                offset: i - p - 1,
                length: 1,
            }),
            None => spans.push(wire::BucketSpan {
                offset: i,
                length: 1,
            }),
        }
        deltas.push(n as i64 - previous_count);
        previous_count = n as i64;
        previous_index = Some(i);
    }
    if spans.is_empty() {
        // Go's client adds a no-op span so the histogram reads as native
        // before its first observation.
        spans.push(wire::BucketSpan {
            offset: 0,
            length: 0,
        });
    }
    wire::Histogram {
        sample_count: route.count,
        sample_sum: route.sum,
        schema: SCHEMA,
        zero_threshold: ZERO_THRESHOLD,
        zero_count: route.zero,
        positive_span: spans,
        positive_delta: deltas,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_their_schema_3_bucket_and_decode_back() {
        for v in [0.001, 0.0123, 0.5, 1.0, 2.0, 7.3] {
            let i = index(v);
            assert!(bounds::exponential(i - 1, SCHEMA) < v, "{v}");
            assert!(v <= bounds::exponential(i, SCHEMA), "{v}");
        }
        let d = NativeDurations::default();
        let route = RouteLabels {
            method: "GET".into(),
            endpoint: "/health".into(),
        };
        for v in [0.001, 0.001, 0.3, 2.0] {
            d.observe(&route, v);
        }
        let f = d.family("x_seconds", "X.");
        let h = f.metric[0].histogram.clone().unwrap();
        assert!(h.bucket.is_empty());
        let native = crate::metrics::protobuf::convert::native(&h, false).unwrap();
        let counts: Vec<(i32, f64)> = native.positive.iter().map(|b| (b.index, b.count)).collect();
        assert_eq!(
            counts,
            [(index(0.001), 2.0), (index(0.3), 1.0), (index(2.0), 1.0)]
        );
        assert_eq!(native.count, 4.0);
    }
}
