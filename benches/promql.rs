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

/// One series of the data set: its labels, and how its value moves.
struct Series {
    labels: Vec<(&'static str, String)>,
    rate: f64,
    counter: bool,
}

impl Series {
    /// The value at second `s` of the hour.
    fn value(&self, s: i64) -> f64 {
        if self.counter {
            // Reset half way through the hour.
            self.rate * (s % 1800) as f64
        } else {
            self.rate + (s as f64 / 60.0).sin() * 20.0
        }
    }
}

/// 60 endpoints × (4 status counters + 12 buckets) + 40 gauges = 1,000
/// series, one sample a second for an hour, with a counter reset at 30 min.
fn data_set() -> Vec<Series> {
    let mut series = Vec::new();
    for e in 0..60 {
        let endpoint = format!("/api/v1/resource/{e}");
        for (i, status) in ["200", "404", "500", "503"].iter().enumerate() {
            series.push(Series {
                labels: vec![
                    ("__name__", "http_requests_total".to_string()),
                    ("endpoint", endpoint.clone()),
                    ("status", status.to_string()),
                    ("job", "api".to_string()),
                ],
                rate: [50.0, 2.0, 0.5, 0.1][i] * (1.0 + e as f64 / 60.0),
                counter: true,
            });
        }
        for (i, le) in LE.iter().enumerate() {
            series.push(Series {
                labels: vec![
                    (
                        "__name__",
                        "http_request_duration_seconds_bucket".to_string(),
                    ),
                    ("endpoint", endpoint.clone()),
                    ("le", le.to_string()),
                    ("job", "api".to_string()),
                ],
                rate: 50.0 * (i + 1) as f64 / LE.len() as f64,
                counter: true,
            });
        }
    }
    for q in 0..40 {
        series.push(Series {
            labels: vec![
                ("__name__", "queue_depth".to_string()),
                ("queue", format!("q{q}")),
                ("job", "api".to_string()),
            ],
            rate: 100.0 + q as f64,
            counter: false,
        });
    }
    assert_eq!(series.len(), 1000);
    series
}

fn store(start: i64) -> Store {
    let mut store = Store::default();
    let series: Vec<_> = data_set()
        .into_iter()
        .map(|s| {
            let pairs: Vec<(&str, &str)> = s.labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
            (store.series_id(&Labels::from_pairs(&pairs)).unwrap(), s)
        })
        .collect();
    for s in 0..3600i64 {
        let t = start + s * 1000;
        for (id, series) in &series {
            store.append(*id, t, series.value(s)).unwrap();
        }
    }
    store
}

/// Writes the data set as OpenMetrics text (one metric family after the
/// other, each series' samples in time order, timestamps in seconds), the
/// input `promtool tsdb create-blocks-from openmetrics` reads.
fn emit_openmetrics(path: &str, start: i64) -> std::io::Result<()> {
    use std::io::Write;
    let mut series = data_set();
    // Families must not interleave; the sort is stable, so series keep their order.
    series.sort_by(|a, b| a.labels[0].1.cmp(&b.labels[0].1));
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for s in &series {
        let labels: Vec<String> = s.labels[1..]
            .iter()
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .collect();
        let head = format!("{}{{{}}}", s.labels[0].1, labels.join(","));
        for i in 0..3600i64 {
            writeln!(out, "{head} {} {}", s.value(i), (start + i * 1000) / 1000)?;
        }
    }
    writeln!(out, "# EOF")?;
    out.flush()
}

/// The median of `runs` timings of `f`, in seconds.
fn median_seconds(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let began = Instant::now();
            f();
            began.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

const EXPRESSIONS: [&str; 5] = [
    r#"sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 0.05"#,
    "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[1m])))",
    "histogram_quantile(0.99, sum by (le, endpoint) (rate(http_request_duration_seconds_bucket[5m]))) > 1",
    "sum by (endpoint) (rate(http_requests_total[1m]))",
    "avg_over_time(queue_depth[5m]) > 100",
];

/// `cargo bench --bench promql [-- --repeat N] [-- --emit-openmetrics FILE]`:
/// with `--emit-openmetrics`, writes the data set and the queries' range
/// (start, end, step in seconds; one expression a line after it) and exits.
fn main() {
    let start = 1_700_000_000_000;
    let args: Vec<String> = std::env::args().collect();
    let option = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if let Some(path) = option("--emit-openmetrics") {
        emit_openmetrics(&path, start).expect("the OpenMetrics file is written");
        println!(
            "{} {} 1",
            (start + HOUR_MS / 60) / 1000,
            (start + HOUR_MS - 1000) / 1000
        );
        for expr in EXPRESSIONS {
            println!("{expr}");
        }
        return;
    }
    let repeat: usize = option("--repeat").map_or(1, |n| n.parse().expect("--repeat N"));
    let built = Instant::now();
    let store = store(start);
    println!(
        "store: {} series, {} samples, built in {:.2} s",
        store.series().len(),
        store.sample_count(),
        built.elapsed().as_secs_f64()
    );
    println!(
        "range queries over the hour at 1 s steps (3,540 evaluations each: from the first minute on){}:",
        if repeat > 1 {
            format!(", median of {repeat} runs")
        } else {
            String::new()
        }
    );
    let mut total = 0.0;
    for expr in EXPRESSIONS {
        let parsed = parse(expr).unwrap();
        let mut series_out = 0;
        let seconds = median_seconds(repeat, || {
            let mut evaluator = Evaluator::new(&store);
            let result = evaluator
                .range(&parsed, start + HOUR_MS / 60, start + HOUR_MS - 1000, 1000)
                .unwrap();
            series_out = result.len();
            black_box(&result);
        });
        total += seconds;
        println!("{seconds:>8.3} s  {series_out:>5} series out  {expr}");
    }
    println!("{total:>8.3} s  all five");
}
