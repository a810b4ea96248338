//! The exposition parser on the real /metrics output of Prometheus,
//! Alertmanager and node exporter (Debian's packages) and of the demo
//! service, in both formats: every sample parsed, and per family as many
//! series as `promtool check metrics --extended` counts.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::process::{self, Process, free_port};

use slogate::metrics::exposition::{Format, Metadata, MetricType, SampleLine, Visitor, parse};

/// Counts series per family the way promtool does: a histogram's or
/// summary's `_bucket`, `_sum` and `_count` belong to the family its TYPE
/// line named.
#[derive(Default)]
struct Families {
    types: BTreeMap<String, MetricType>,
    counts: BTreeMap<String, usize>,
}

impl Visitor for Families {
    fn metadata(&mut self, metadata: &Metadata<'_>) {
        if let Metadata::Type { family, kind } = metadata {
            self.types.insert(family.to_string(), *kind);
        }
    }

    fn sample(&mut self, sample: &SampleLine<'_>) {
        let family = ["_bucket", "_sum", "_count", "_total", "_created"]
            .iter()
            .filter_map(|suffix| sample.name.strip_suffix(suffix))
            .find(|base| {
                matches!(
                    self.types.get(*base),
                    Some(MetricType::Histogram | MetricType::Summary | MetricType::Counter)
                )
            })
            .unwrap_or(sample.name);
        *self.counts.entry(family.to_string()).or_default() += 1;
    }
}

/// GET `path` with an Accept header; the body.
fn get(addr: SocketAddr, path: &str, accept: &str) -> String {
    crate::support::http(addr, "GET", path, &[&format!("Accept: {accept}")], "").1
}

/// Starts `program` and waits until `addr` serves /metrics.
fn start(program: &std::path::Path, args: &[String], addr: SocketAddr) -> Process {
    process::start(program, args, addr, |addr| {
        get(addr, "/metrics", "*/*").contains("# TYPE")
    })
}

/// Series per family as `promtool check metrics --extended` counts them.
fn promtool_counts(promtool: &std::path::Path, text: &str) -> BTreeMap<String, usize> {
    // promtool prints the table only when its lint finds nothing; the
    // caller checks that it is not empty.
    let output =
        crate::support::run_with_input(promtool, &["check", "metrics", "--extended"], text);
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let (name, count) = (words.next()?, words.next()?.parse().ok()?);
            (name != "Total").then(|| (name.to_string(), count))
        })
        .collect()
}

/// Parses `addr`'s /metrics in both formats; every sample line must parse.
/// Returns the series per family of the classic format, and its text.
fn parse_both(name: &str, addr: SocketAddr) -> (BTreeMap<String, usize>, String) {
    let text = get(addr, "/metrics", "text/plain;version=0.0.4");
    let mut families = Families::default();
    let samples =
        parse(&text, Format::Text, &mut families).unwrap_or_else(|e| panic!("{name}: {e}"));
    let lines = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count();
    assert_eq!(samples, lines, "{name}: every sample line parsed");
    assert!(samples > 20, "{name}: only {samples} samples");

    let open = get(
        addr,
        "/metrics",
        "application/openmetrics-text;version=1.0.0",
    );
    if open.trim_end().ends_with("# EOF") {
        let mut families = Families::default();
        let open_samples = parse(&open, Format::OpenMetrics, &mut families)
            .unwrap_or_else(|e| panic!("{name} (OpenMetrics): {e}"));
        let open_lines = open
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .count();
        assert_eq!(open_samples, open_lines, "{name} (OpenMetrics)");
    }
    (families.counts, text)
}

/// Our series per family against promtool's count of the same text.
fn check_with_promtool(name: &str, addr: SocketAddr, promtool: &std::path::Path) {
    let (counts, text) = parse_both(name, addr);
    let expected = promtool_counts(promtool, &text);
    assert!(
        !expected.is_empty(),
        "{name}: promtool printed no cardinality table"
    );
    assert_eq!(
        counts, expected,
        "{name}: series per family differ from promtool's"
    );
}

/// The samples Prometheus itself took from the last scrape of `job`.
fn scraped_by_prometheus(promtool: &std::path::Path, prometheus: SocketAddr, job: &str) -> usize {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let output = Command::new(promtool)
            .args([
                "query",
                "instant",
                &format!("http://{prometheus}"),
                &format!("scrape_samples_scraped{{job=\"{job}\"}}"),
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        if let Some(value) = text
            .split("=> ")
            .nth(1)
            .and_then(|v| v.split_whitespace().next())
        {
            return value.parse().unwrap();
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("Prometheus did not scrape `{job}` within 20 s");
}

#[test]
fn real_exporters_parse_completely_and_agree_with_promtool() {
    let _serial = crate::support::serial();
    let tools = [
        ("promtool", "prometheus"),
        ("prometheus", "prometheus"),
        ("prometheus-alertmanager", "prometheus-alertmanager"),
        ("prometheus-node-exporter", "prometheus-node-exporter"),
    ];
    let mut found = Vec::new();
    for (tool, package) in tools {
        match crate::support::require_tool(tool, package) {
            Some(path) => found.push(path),
            None => return,
        }
    }
    let (promtool, prometheus, alertmanager, node_exporter) =
        (&found[0], &found[1], &found[2], &found[3]);
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    std::fs::write(
        dir.path().join("alertmanager.yml"),
        "route: {receiver: none}\nreceivers: [{name: none}]\n",
    )
    .unwrap();

    // node exporter's names fail promtool's lint (camelCase, bits), and then
    // promtool prints no counts: Prometheus scraping it is the reference.
    let node: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let _node = start(
        node_exporter,
        &[format!("--web.listen-address={node}")],
        node,
    );
    std::fs::write(
        dir.path().join("prometheus.yml"),
        format!("global: {{scrape_interval: 1s}}\nscrape_configs:\n  - job_name: node\n    static_configs: [{{targets: [\"{node}\"]}}]\n"),
    )
    .unwrap();
    let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let _prometheus = start(
        prometheus,
        &[
            format!("--config.file={}", path("prometheus.yml")),
            format!("--storage.tsdb.path={}", path("tsdb")),
            format!("--web.listen-address={addr}"),
        ],
        addr,
    );
    check_with_promtool("prometheus", addr, promtool);
    let (counts, _) = parse_both("node exporter", node);
    let ours: usize = counts.values().sum();
    assert_eq!(
        ours,
        scraped_by_prometheus(promtool, addr, "node"),
        "node exporter: samples"
    );

    let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let _alertmanager = start(
        alertmanager,
        &[
            format!("--config.file={}", path("alertmanager.yml")),
            format!("--storage.path={}", path("am")),
            format!("--web.listen-address={addr}"),
            "--cluster.listen-address=".to_string(),
        ],
        addr,
    );
    check_with_promtool("alertmanager", addr, promtool);

    let demo = slogate::demo::Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    crate::support::hit(&[
        &format!("{}/data/process", demo.url()),
        "-n",
        "20",
        "-c",
        "2",
    ]);
    check_with_promtool("demo", demo.addr(), promtool);
}
