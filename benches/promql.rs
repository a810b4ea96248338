//! PromQL evaluation time: rule-like expressions as range queries over one
//! hour of 1 s scrapes of 1,000 series (3.6 million samples), evaluated at
//! 1 s steps (3,540 evaluations each: from the first minute on). Run with `cargo bench --bench promql`
//! (or bench/promql.sh).

use std::hint::black_box;
use std::time::Instant;

use slogate::metrics::store::{Labels, Store};
use slogate::promql::{Evaluator, parse};

const HOUR_MS: i64 = 3_600_000;
const LE: [&str; 12] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
];

/// 60 endpoints × (4 status counters + 12 buckets) + 40 gauges = 1,000
/// series, one sample a second for an hour, with a counter reset at 30 min.
fn store(start: i64) -> Store {
    let mut store = Store::default();
    let mut series = Vec::new();
    for e in 0..60 {
        let endpoint = format!("/api/v1/resource/{e}");
        for (i, status) in ["200", "404", "500", "503"].iter().enumerate() {
            let rate = [50.0, 2.0, 0.5, 0.1][i] * (1.0 + e as f64 / 60.0);
            let id = store
                .series_id(&Labels::from_pairs(&[
                    ("__name__", "http_requests_total"),
                    ("endpoint", &endpoint),
                    ("status", status),
                    ("job", "api"),
                ]))
                .unwrap();
            series.push((id, rate, true));
        }
        for (i, le) in LE.iter().enumerate() {
            let rate = 50.0 * (i + 1) as f64 / LE.len() as f64;
            let id = store
                .series_id(&Labels::from_pairs(&[
                    ("__name__", "http_request_duration_seconds_bucket"),
                    ("endpoint", &endpoint),
                    ("le", le),
                    ("job", "api"),
                ]))
                .unwrap();
            series.push((id, rate, true));
        }
    }
    for q in 0..40 {
        let id = store
            .series_id(&Labels::from_pairs(&[
                ("__name__", "queue_depth"),
                ("queue", &format!("q{q}")),
                ("job", "api"),
            ]))
            .unwrap();
        series.push((id, 100.0 + q as f64, false));
    }
    assert_eq!(series.len(), 1000);
    for s in 0..3600i64 {
        let t = start + s * 1000;
        for &(id, rate, counter) in &series {
            let v = if counter {
                // Reset half way through the hour.
                rate * (s % 1800) as f64
            } else {
                rate + (s as f64 / 60.0).sin() * 20.0
            };
            store.append(id, t, v).unwrap();
        }
    }
    store
}

fn main() {
    let start = 1_700_000_000_000;
    let built = Instant::now();
    let store = store(start);
    println!(
        "store: {} series, {} samples, built in {:.2} s",
        store.series().len(),
        store.sample_count(),
        built.elapsed().as_secs_f64()
    );
    let expressions = [
        r#"sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 0.05"#,
        "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[1m])))",
        "histogram_quantile(0.99, sum by (le, endpoint) (rate(http_request_duration_seconds_bucket[5m]))) > 1",
        "sum by (endpoint) (rate(http_requests_total[1m]))",
        "avg_over_time(queue_depth[5m]) > 100",
    ];
    println!(
        "range queries over the hour at 1 s steps (3,540 evaluations each: from the first minute on):"
    );
    let mut total = 0.0;
    for expr in expressions {
        let parsed = parse(expr).unwrap();
        let mut evaluator = Evaluator::new(&store);
        let began = Instant::now();
        let result = evaluator
            .range(&parsed, start + HOUR_MS / 60, start + HOUR_MS - 1000, 1000)
            .unwrap();
        let seconds = began.elapsed().as_secs_f64();
        total += seconds;
        black_box(&result);
        println!("{seconds:>8.3} s  {:>5} series out  {expr}", result.len());
    }
    println!("{total:>8.3} s  all five");
}
