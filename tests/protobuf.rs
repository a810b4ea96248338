//! The protobuf exposition format end to end: a real server on 127.0.0.1
//! answers the scrape's `Accept` (protobuf first, as Prometheus 3 asks)
//! with delimited `MetricFamily` messages, and `slogate query --scrape`
//! reads the native histogram and the counter from them; a server that
//! answers text is read as text.

use prost::Message;
use slogate::metrics::protobuf::{MEDIA_TYPE, wire};

use crate::support::assert_exit;
use crate::support::server::{Reply, Server};

fn body() -> Vec<u8> {
    let families = [
        wire::MetricFamily {
            name: "jobs_total".into(),
            r#type: wire::metric_type::COUNTER,
            metric: vec![wire::Metric {
                counter: Some(wire::Counter {
                    value: 17.0,
                    exemplar: None,
                }),
                ..Default::default()
            }],
            ..Default::default()
        },
        // Schema 0, 10 observations: 4 in (0.5, 1], 4 in (1, 2], 2 in
        // (2, 4]; a classic bucket beside them, which is not stored.
        wire::MetricFamily {
            name: "latency_seconds".into(),
            r#type: wire::metric_type::HISTOGRAM,
            metric: vec![wire::Metric {
                histogram: Some(wire::Histogram {
                    sample_count: 10,
                    sample_sum: 14.0,
                    schema: 0,
                    zero_threshold: 1e-128,
                    positive_span: vec![wire::BucketSpan {
                        offset: 0,
                        length: 3,
                    }],
                    positive_delta: vec![4, 0, -2],
                    bucket: vec![wire::Bucket {
                        cumulative_count: 4,
                        upper_bound: 1.0,
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        },
    ];
    let mut out = Vec::new();
    for f in &families {
        f.encode_length_delimited(&mut out).unwrap();
    }
    out
}

fn server() -> Server {
    Server::start(|call| {
        let accept = call
            .headers
            .iter()
            .find(|(name, _)| name == "accept")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        if accept.starts_with("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited") {
            Reply::Typed {
                content_type: MEDIA_TYPE.into(),
                body: body(),
            }
        } else {
            Reply::Typed {
                content_type: "text/plain; version=0.0.4".into(),
                body: b"jobs_total 999\n".to_vec(),
            }
        }
    })
}

fn query(url: &str, expr: &str) -> String {
    let output = crate::support::slogate(&[
        "query",
        expr,
        "--scrape",
        url,
        "--native-histograms",
        "-o",
        "csv",
    ]);
    assert_exit(&output, 0);
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn value(csv: &str) -> f64 {
    let line = csv
        .lines()
        .nth(1)
        .unwrap_or_else(|| panic!("no sample: {csv}"));
    line.rsplit(',').next().unwrap().parse().unwrap()
}

#[test]
fn a_protobuf_scrape_brings_native_histograms_and_counters() {
    let server = server();
    let url = server.url("/metrics");
    assert_eq!(value(&query(&url, "jobs_total")), 17.0);
    assert_eq!(
        value(&query(&url, "histogram_count(latency_seconds)")),
        10.0
    );
    assert_eq!(value(&query(&url, "histogram_sum(latency_seconds)")), 14.0);
    // The 5th of 10 observations: (1, 2] holds the 5th to the 8th;
    // exponential interpolation within it, as Prometheus.
    let median = value(&query(&url, "histogram_quantile(0.5, latency_seconds)"));
    assert!(median > 1.0 && median < 2.0, "{median}");
    // The classic bucket of a native histogram is not stored.
    let buckets = query(&url, "count(latency_seconds_bucket) or vector(0)");
    assert_eq!(value(&buckets), 0.0);
}

/// The embedded demo under a bounded load, scraped as protobuf: the p99 of
/// its native latency histogram falls in the classic buckets' estimate's
/// bucket (widened by the native bucket factor, 2^(1/8)).
#[test]
fn the_demo_native_latency_agrees_with_its_classic_buckets() {
    let demo = slogate::demo::Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    let addr: std::net::SocketAddr = demo.url().trim_start_matches("http://").parse().unwrap();
    let metrics = format!("{}/metrics", demo.url());
    let load = std::thread::spawn(move || {
        // 1 ms + 50 µs a record: latencies from about 1 ms to 21 ms.
        for i in 0..120u64 {
            let path = format!("/data/process?records={}", (i * 37) % 400);
            assert_eq!(crate::support::http(addr, "GET", &path, &[], "").0, 200);
        }
    });
    let expr = r#"label_replace(histogram_quantile(0.99, sum(rate(http_request_duration_native_seconds[30s]))), "kind", "native", "", "")
        or label_replace(histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[30s]))), "kind", "classic", "", "")"#;
    let output = crate::support::slogate(&[
        "query",
        expr,
        "--scrape",
        &metrics,
        "--native-histograms",
        "--for",
        "2s",
        "--interval",
        "250ms",
        "-o",
        "csv",
    ]);
    load.join().unwrap();
    assert_exit(&output, 0);
    let csv = String::from_utf8_lossy(&output.stdout);
    let of = |kind: &str| -> f64 {
        csv.lines()
            .find(|l| l.contains(&format!("kind=\"\"{kind}\"\"")))
            .unwrap_or_else(|| panic!("no {kind} estimate: {csv}"))
            .rsplit(',')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let (native, classic) = (of("native"), of("classic"));
    let bounds = [
        0.0, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ];
    let upper = bounds.iter().position(|&b| classic <= b).unwrap();
    let (lo, hi) = (bounds[upper - 1], bounds[upper]);
    let factor = 2f64.powf(1.0 / 8.0);
    assert!(
        native >= lo / factor && native <= hi * factor,
        "native p99 {native} outside the classic estimate {classic}'s bucket ({lo}, {hi}]"
    );
}

/// Without `--native-histograms` (Prometheus's `scrape_native_histograms`
/// off, its default) the scrape asks for the text formats only: the demo
/// answers in text, the classic buckets are there and no native histogram.
#[test]
fn a_default_scrape_keeps_to_the_text_formats_and_classic_buckets() {
    let demo = slogate::demo::Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    let addr: std::net::SocketAddr = demo.url().trim_start_matches("http://").parse().unwrap();
    assert_eq!(
        crate::support::http(addr, "GET", "/data/process?records=10", &[], "").0,
        200
    );
    let metrics = format!("{}/metrics", demo.url());
    let output = crate::support::slogate(&[
        "query",
        "count(http_request_duration_seconds_bucket) or vector(0)",
        "--scrape",
        &metrics,
        "-o",
        "csv",
    ]);
    assert_exit(&output, 0);
    assert!(value(&String::from_utf8_lossy(&output.stdout)) > 0.0);
    let output = crate::support::slogate(&[
        "query",
        "count(http_request_duration_native_seconds) or vector(0)",
        "--scrape",
        &metrics,
        "-o",
        "csv",
    ]);
    assert_exit(&output, 0);
    assert_eq!(value(&String::from_utf8_lossy(&output.stdout)), 0.0);
}

/// `slogate query -o json` gives the demo's native latency histogram as
/// Prometheus's API does: `"histogram": [t, {count, sum, buckets}]` in a
/// vector, `"histograms"` (and no `"values"`) in a matrix; the table and
/// CSV give Go's `FloatHistogram.String()`.
#[test]
fn query_prints_the_demo_native_histogram_as_prometheus_api_does() {
    let demo = slogate::demo::Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    let addr: std::net::SocketAddr = demo.url().trim_start_matches("http://").parse().unwrap();
    for _ in 0..3 {
        let path = "/data/process?records=10";
        assert_eq!(crate::support::http(addr, "GET", path, &[], "").0, 200);
    }
    let metrics = format!("{}/metrics", demo.url());
    let query = |expr: &str, format: &str| -> String {
        let output = crate::support::slogate(&[
            "query",
            expr,
            "--scrape",
            &metrics,
            "--native-histograms",
            "-o",
            format,
        ]);
        assert_exit(&output, 0);
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let expr = r#"http_request_duration_native_seconds{endpoint="/data/process"}"#;
    let vector: serde_json::Value = serde_json::from_str(&query(expr, "json")).unwrap();
    assert_eq!(vector["resultType"], "vector", "{vector}");
    let sample = &vector["result"][0];
    assert!(sample.get("value").is_none(), "{sample}");
    assert!(sample["histogram"][0].is_number(), "{sample}");
    let h = &sample["histogram"][1];
    assert_eq!(h["count"], "3", "{h}");
    let sum: f64 = h["sum"].as_str().unwrap().parse().unwrap();
    assert!(sum > 0.0 && sum < 3.0, "{h}");
    let buckets = h["buckets"].as_array().expect("buckets");
    let mut counted = 0.0;
    for b in buckets {
        // Positive exponential buckets: (lower, upper], boundaries 0.
        assert_eq!(b[0], 0, "{b}");
        let lower: f64 = b[1].as_str().unwrap().parse().unwrap();
        let upper: f64 = b[2].as_str().unwrap().parse().unwrap();
        // Schema 3: each bucket's upper bound is 2^(1/8) times its lower.
        assert!((upper / lower - 2f64.powf(0.125)).abs() < 1e-9, "{b}");
        counted += b[3].as_str().unwrap().parse::<f64>().unwrap();
    }
    assert_eq!(counted, 3.0, "{h}");

    let matrix: serde_json::Value =
        serde_json::from_str(&query(&format!("{expr}[1m]"), "json")).unwrap();
    assert_eq!(matrix["resultType"], "matrix", "{matrix}");
    let series = &matrix["result"][0];
    assert!(series.get("values").is_none(), "{series}");
    assert_eq!(series["histograms"][0][1]["count"], "3", "{series}");

    let text = query(expr, "text");
    assert!(text.contains("{count:3, sum:"), "{text}");
    let csv = query(expr, "csv");
    assert!(csv.contains("\"{count:3, sum:"), "{csv}");
    // A float beside it is still a `value`.
    let count: serde_json::Value =
        serde_json::from_str(&query(&format!("histogram_count({expr})"), "json")).unwrap();
    assert_eq!(count["result"][0]["value"][1], "3", "{count}");
}

/// A Prometheus (`--prometheus`) answering with a histogram: slogate's
/// backend reads floats only, so the query fails with a message naming the
/// shape (exit 2, as for any query that cannot be answered), not a panic.
#[test]
fn a_prometheus_answering_a_histogram_is_refused_with_a_message() {
    let server = Server::start(|_| {
        Reply::Typed {
        content_type: "application/json".into(),
        body: br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"h"},"histogram":[1,{"count":"1","sum":"1","buckets":[[0,"0.5","1","1"]]}]}]}}"#.to_vec(),
    }
    });
    let output =
        crate::support::slogate(&["query", "h", "--prometheus", &server.url(""), "--time", "1"]);
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unexpected shape") && !stderr.contains("panicked"),
        "{stderr}"
    );
}
