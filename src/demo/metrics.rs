//! The demo service's metrics, named as the services in the teams' write-ups
//! name theirs: `http_requests_total{method,endpoint,status}`,
//! `http_request_duration_seconds{method,endpoint}`, `http_requests_in_progress`,
//! `pipeline_records_processed_total`, `upstream_requests_total{status}` and
//! `upstream_request_duration_seconds` (with a dependency), plus process
//! metrics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Prometheus' default buckets, seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RequestLabels {
    pub method: String,
    pub endpoint: String,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RouteLabels {
    pub method: String,
    pub endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct UpstreamLabels {
    /// The dependency's status, or `error` (no answer) / `timeout`.
    pub status: String,
}

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// Every metric of the service, and the registry that encodes them.
pub(crate) struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    pub in_progress: Gauge,
    pub records: Counter,
    pub upstream_requests: Family<UpstreamLabels, Counter>,
    pub upstream_duration: Histogram,
    /// `duration` again as a native histogram, for protobuf scrapes.
    pub native_duration: super::native::NativeDurations,
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests handled, by method, endpoint and status",
            requests.clone(),
        );
        let duration =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(histogram);
        registry.register_with_unit(
            "http_request_duration",
            "Time to handle an HTTP request, by method and endpoint",
            prometheus_client::registry::Unit::Seconds,
            duration.clone(),
        );
        let in_progress = Gauge::default();
        registry.register(
            "http_requests_in_progress",
            "HTTP requests being handled",
            in_progress.clone(),
        );
        let records = Counter::default();
        registry.register(
            "pipeline_records_processed",
            "Records processed by /data/process",
            records.clone(),
        );
        let upstream_requests = Family::<UpstreamLabels, Counter>::default();
        registry.register(
            "upstream_requests",
            "Requests to the dependency (--upstream), by its status",
            upstream_requests.clone(),
        );
        let upstream_duration = histogram();
        registry.register_with_unit(
            "upstream_request_duration",
            "Time the dependency took to answer",
            prometheus_client::registry::Unit::Seconds,
            upstream_duration.clone(),
        );
        Metrics {
            registry,
            upstream_requests,
            upstream_duration,
            requests,
            duration,
            in_progress,
            records,
            native_duration: Default::default(),
        }
    }

    /// The protobuf exposition: every family of the text one, then the
    /// request latency as a native histogram.
    pub(crate) fn encode_protobuf(&self) -> Vec<u8> {
        let latency = self.native_duration.family(
            "http_request_duration_native_seconds",
            "Time to handle an HTTP request, by method and endpoint",
        );
        super::protobuf::encode(&self.encode_openmetrics(), latency)
    }

    /// The OpenMetrics text exposition, process metrics included.
    pub(crate) fn encode_openmetrics(&self) -> String {
        let mut text = String::new();
        // Encoding into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        let body = text.strip_suffix("# EOF\n").unwrap_or(&text).to_string();
        body + &super::process::exposition() + "# EOF\n"
    }
}

/// A /metrics body from OpenMetrics `text` and its content type:
/// OpenMetrics when the scraper asked for it (Prometheus does), else the
/// classic text format. The demo's, the proxy's and the run's own.
pub(crate) fn exposition(text: String, openmetrics: bool) -> (String, &'static str) {
    if openmetrics {
        (
            text,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )
    } else {
        (
            to_classic(&text),
            "text/plain; version=0.0.4; charset=utf-8",
        )
    }
}

/// Rewrites OpenMetrics text as the classic Prometheus text format (0.0.4),
/// for scrapers that do not ask for OpenMetrics (curl, promtool): a counter's
/// HELP and TYPE name the `_total` series, and UNIT and EOF lines go.
pub(crate) fn to_classic(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(name)
                .then(|| format!("{prefix}{name}_total {tail}"))
        });
        match renamed {
            Some(line) => out.push_str(&line),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_format_names_counters_by_their_series() {
        let open = "# HELP x Things.\n# TYPE x counter\nx_total 3\n# HELP d Time.\n# TYPE d histogram\n# UNIT d seconds\nd_count 1\n# EOF\n";
        assert_eq!(
            to_classic(open),
            "# HELP x_total Things.\n# TYPE x_total counter\nx_total 3\n# HELP d Time.\n# TYPE d histogram\nd_count 1\n"
        );
    }
}
