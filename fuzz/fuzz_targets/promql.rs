//! A PromQL expression: parsed, then evaluated at an instant and as a short
//! range query over a small store, with the query limits on (smaller than
//! the defaults, so one input stays fast).
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use slogate::metrics::store::{Labels, Store};
use slogate::promql::{Evaluator, Limits, parse};

/// Counters, a gauge with a staleness marker, and histogram buckets, every
/// 15 s over 10 minutes.
fn store() -> &'static Store {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE.get_or_init(|| {
        let mut store = Store::default();
        let series: Vec<Labels> = [
            vec![("__name__", "up"), ("job", "api"), ("instance", "a:1")],
            vec![("__name__", "up"), ("job", "db"), ("instance", "b:2")],
            vec![("__name__", "http_requests_total"), ("job", "api"), ("code", "200")],
            vec![("__name__", "http_requests_total"), ("job", "api"), ("code", "500")],
            vec![("__name__", "latency_seconds_bucket"), ("job", "api"), ("le", "0.1")],
            vec![("__name__", "latency_seconds_bucket"), ("job", "api"), ("le", "1")],
            vec![("__name__", "latency_seconds_bucket"), ("job", "api"), ("le", "+Inf")],
            vec![("__name__", "temperature"), ("room", "a")],
        ]
        .iter()
        .map(|pairs| Labels::from_pairs(pairs))
        .collect();
        for k in 0..40i64 {
            let t = k * 15_000;
            for (i, labels) in series.iter().enumerate() {
                let v = match i {
                    0 | 1 => 1.0,
                    7 => (k as f64 * 0.7).sin() * 20.0,
                    _ => (k * (i as i64 + 1)) as f64,
                };
                let _ = store.add(labels, t, v);
            }
        }
        let _ = store.add(&series[7], 600_000, slogate::metrics::store::stale());
        store
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(expr) = parse(text) else {
        return;
    };
    let limits = Limits {
        max_samples: 1_000_000,
        timeout: Duration::from_secs(2),
        ..Limits::default()
    };
    let store = store();
    let _ = Evaluator::new(store).with_limits(limits).instant(&expr, 300_000);
    let _ = Evaluator::new(store)
        .with_limits(limits)
        .range(&expr, 0, 600_000, 60_000);
});
