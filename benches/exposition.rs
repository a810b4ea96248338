//! Exposition parser throughput: MB/s on a 10,000-series exposition shaped
//! like a service's (counters, a histogram with labels, gauges), in both
//! formats. Run with `cargo bench --bench exposition` (or bench/parse.sh).

use std::hint::black_box;
use std::time::Instant;

use slogate::metrics::exposition::{Format, SampleLine, Visitor, parse};

/// Touches every sample so the work cannot be optimized away.
struct Sum(f64, usize);

impl Visitor for Sum {
    fn sample(&mut self, sample: &SampleLine<'_>) {
        self.0 += sample.value;
        self.1 += sample.labels.len();
    }
}

/// About `series` series: per (endpoint, status) a counter, and per endpoint
/// a 12-bucket histogram with sum and count, plus gauges.
fn exposition(series: usize, format: Format) -> String {
    let mut out = String::new();
    let endpoints = series / 20;
    out.push_str("# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\n");
    for e in 0..endpoints {
        for status in ["200", "404", "500", "503"] {
            out.push_str(&format!(
                "http_requests_total{{method=\"GET\",endpoint=\"/api/v1/resource/{e}\",status=\"{status}\"}} {}\n",
                e * 7 + 13
            ));
        }
    }
    out.push_str("# HELP http_request_duration_seconds Latency.\n# TYPE http_request_duration_seconds histogram\n");
    for e in 0..endpoints {
        for le in [
            "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
        ] {
            out.push_str(&format!(
                "http_request_duration_seconds_bucket{{method=\"GET\",endpoint=\"/api/v1/resource/{e}\",le=\"{le}\"}} {}\n",
                e * 3
            ));
        }
        out.push_str(&format!("http_request_duration_seconds_sum{{method=\"GET\",endpoint=\"/api/v1/resource/{e}\"}} 12.5\n"));
        out.push_str(&format!("http_request_duration_seconds_count{{method=\"GET\",endpoint=\"/api/v1/resource/{e}\"}} {}\n", e * 3));
        out.push_str(&format!("queue_depth{{queue=\"q{e}\"}} 1.5e3\n"));
        out.push_str(&format!("up_seconds{{instance=\"i{e}\"}} 1234.5\n"));
    }
    if format == Format::OpenMetrics {
        out = out.replace(
            "# TYPE http_requests_total counter",
            "# TYPE http_requests counter",
        );
        out.push_str("# EOF\n");
    }
    out
}

fn main() {
    for format in [Format::Text, Format::OpenMetrics] {
        let text = exposition(10_000, format);
        let mut count = Sum(0.0, 0);
        let series = parse(&text, format, &mut count).expect("the generated exposition is valid");
        let rounds = 200;
        let started = Instant::now();
        for _ in 0..rounds {
            let mut sum = Sum(0.0, 0);
            black_box(parse(black_box(&text), format, &mut sum).unwrap());
            black_box(sum.0 + sum.1 as f64);
        }
        let secs = started.elapsed().as_secs_f64();
        let megabytes = (text.len() * rounds) as f64 / 1e6;
        println!(
            "{format:?}: {series} series, {:.2} MB per exposition, {:.0} MB/s, {:.2} ms per parse",
            text.len() as f64 / 1e6,
            megabytes / secs,
            secs * 1000.0 / rounds as f64
        );
    }
}
