//! Command-line types (clap), other tools' flag habits (`habits`), and
//! `hit`'s flags resolved into a plan (`hit_plan`). Nothing here is used
//! past `app`: each command turns its arguments into a plan first.

pub mod habits;
pub mod hit_plan;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::report::OutputFormat;
use crate::units::{Rate, parse_duration};

/// Load generator and SLO verification harness.
#[derive(Debug, Parser)]
#[command(name = "slogate", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size difference between variants is irrelevant.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send load to one URL and report latency, status codes and errors.
    Hit(HitArgs),
    /// Validate scenario files without running them.
    Check(CheckArgs),
    /// Run a scenario: phases of load, expectations, a verdict and reports.
    Run(RunArgs),
    /// Run the embedded demo service (instrumented, with fault knobs).
    Demo(DemoArgs),
    /// Evaluate a PromQL expression on live scrapes, a finished run's data,
    /// or a Prometheus.
    Query(QueryArgs),
    /// Run Prometheus rule unit tests (the `promtool test rules` format).
    TestRules(TestRulesArgs),
    /// Run a fault proxy in front of a service or one of its dependencies.
    Proxy(ProxyArgs),
    /// Render a results directory's index.html again from its saved data.
    Report(ReportArgs),
    /// Compare two runs of one scenario; exit 1 on a regression.
    Compare(CompareArgs),
    /// Merge the results of a scenario's shards (`run --shard i/N`) into one
    /// results directory, judging the client-side expectations again.
    Merge(MergeArgs),
}

/// `slogate merge DIR... --out DIR`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Results directories of the shards.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// The merged results directory (created). One that already holds
    /// results is refused unless --force.
    #[arg(long)]
    pub out: PathBuf,
    /// Replace the results in --out.
    #[arg(long)]
    pub force: bool,
    /// The scenario file, when it is not where the shards ran it from (the
    /// path in their summary.json).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
}

/// `slogate compare BASE NEW`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Results directory of the baseline run.
    pub base: PathBuf,
    /// Results directory of the run to judge. A warning (not a failure)
    /// when its scenario file differs from BASE's, or its length by more
    /// than 10% and 1 s.
    pub new: PathBuf,
    /// Allowed regressions: p50, p95, p99, max (percent slower), error_rate
    /// (in percentage points, `pp`), throughput (percent lower). A latency
    /// quantile with no limit here that is more than 50% slower (and slower
    /// by at least --min-latency-delta) is a warning, not a failure.
    #[arg(
        long = "max-regression",
        default_value = "p95=10%,p99=20%,error_rate=0.5pp,throughput=5%"
    )]
    pub max_regression: String,
    /// Latency differences smaller than this never count as regressions or
    /// warnings (sub-millisecond noise).
    #[arg(long = "min-latency-delta", value_parser = parse_duration, default_value = "1ms")]
    pub min_latency_delta: Duration,
    /// Where to write compare.md and compare.html (default: NEW).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `slogate report DIR`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A results directory written by `slogate run`.
    pub dir: PathBuf,
}

/// `slogate proxy --upstream URL`.
#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// Where to forward: http://host:port (http mode) or host:port (tcp mode).
    #[arg(long)]
    pub upstream: String,

    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7001")]
    pub listen: std::net::SocketAddr,

    /// http: per-request faults; tcp: per-connection faults on byte streams.
    #[arg(long, default_value = "http", value_parser = ["http", "tcp"])]
    pub mode: String,

    /// Address of the control API (/faults) and /metrics.
    #[arg(long, default_value = "127.0.0.1:7002")]
    pub control: std::net::SocketAddr,

    /// A fault to apply from the start, e.g. "abort status=503 probability=20% for=5m"
    /// (repeatable; each lasts its `for`, default 10m).
    #[arg(long = "fault", value_name = "FAULT")]
    pub faults: Vec<String>,

    /// Allow listening on a non-loopback address.
    #[arg(long = "allow-remote")]
    pub allow_remote: bool,

    /// Name in metrics (`proxy` label).
    #[arg(long, default_value = "proxy")]
    pub name: String,

    /// Client connections open at once; more are reset at accept. Default:
    /// 10000, or (open-file limit - 64) / 2 when that is lower.
    #[arg(long = "max-connections", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: Option<u64>,

    /// How long a client connection may stay silent: http mode, to start a
    /// request and again to finish its headers (idle keep-alive connections
    /// too); tcp mode, before either side sends a byte.
    #[arg(long = "header-timeout", value_parser = parse_duration, default_value = "10s")]
    pub header_timeout: Duration,

    /// http mode: how long the upstream has to answer before a 504.
    #[arg(long = "upstream-timeout", value_parser = parse_duration, default_value = "60s")]
    pub upstream_timeout: Duration,

    /// Serve the proxy's metrics at http://ADDR/metrics as well as on the
    /// control address, for a Prometheus that must not reach the control
    /// API (loopback unless --allow-remote).
    #[arg(long = "metrics-listen", value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
}

/// `slogate test-rules FILE...`.
#[derive(Debug, Args)]
pub struct TestRulesArgs {
    /// Unit-test files (`rule_files`, `tests` with `input_series`,
    /// `alert_rule_test`, `promql_expr_test`).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,

    /// Also write the results as JUnit XML to this file (promtool's shape).
    #[arg(long)]
    pub junit: Option<PathBuf>,

    /// Only run test groups whose name matches this regular expression
    /// (searched, not anchored); may be given more than once.
    #[arg(long = "run", value_name = "REGEX")]
    pub run: Vec<String>,

    /// Read past keys the rule-file format does not have in the rule files
    /// (extensions with a team's own metadata); the test files stay strict.
    #[arg(long)]
    pub ignore_unknown_fields: bool,

    /// Enable Prometheus 3's experimental PromQL, as promtool's flag of the
    /// same name: promql-experimental-functions,
    /// promql-extended-range-selectors (anchored, smoothed),
    /// promql-binop-fill-modifiers (fill); comma-separated or repeated.
    /// Without it a rule file using them is refused, as Prometheus 3
    /// refuses to load it.
    #[arg(long = "enable-feature", value_name = "FEATURE")]
    pub enable_feature: Vec<String>,
}

/// `slogate query EXPR`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["scrape", "run", "prometheus"])))]
pub struct QueryArgs {
    /// The PromQL expression.
    pub expr: String,

    /// Scrape this /metrics URL (repeatable) and query what was scraped.
    #[arg(long)]
    pub scrape: Vec<String>,

    /// With --scrape: keep scraping this long first (rates need two scrapes).
    #[arg(long = "for", value_parser = parse_duration, default_value = "0s")]
    pub scrape_for: Duration,

    /// With --scrape: the scrape interval.
    #[arg(long, value_parser = parse_duration, default_value = "1s")]
    pub interval: Duration,

    /// With --scrape: ask for the protobuf format and keep native histograms
    /// (Prometheus's `scrape_native_histograms`; a histogram with native
    /// buckets then keeps only those).
    #[arg(long, requires = "scrape")]
    pub native_histograms: bool,

    /// Query the data a `slogate run` saved in this results directory.
    #[arg(long, conflicts_with = "scrape")]
    pub run: Option<PathBuf>,

    /// Ask this Prometheus (base URL) instead.
    #[arg(long, conflicts_with_all = ["scrape", "run"])]
    pub prometheus: Option<String>,

    /// Evaluation time: Unix seconds, or `-30s` before the latest sample
    /// (default: the latest sample; with --prometheus, now).
    #[arg(long, allow_hyphen_values = true)]
    pub time: Option<String>,

    /// A range query over this long, ending at the evaluation time.
    #[arg(long, value_parser = parse_duration)]
    pub range: Option<Duration>,

    /// Step of a range query.
    #[arg(long, value_parser = parse_duration, default_value = "1s")]
    pub step: Duration,

    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// `slogate demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,

    /// A dependency (http://host:port, e.g. a second demo): every
    /// /data/process first asks its /data/process, answering 502 when it
    /// fails and waiting as long as it takes.
    #[arg(long)]
    pub upstream: Option<String>,
}

/// `slogate run FILE`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file.
    pub file: PathBuf,

    /// Results directory (default: reports/SCENARIO-UTCTIMESTAMP/). One
    /// that already holds results is refused unless --force.
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Replace the results in --out (slogate's files there are removed
    /// first; others are left alone).
    #[arg(long)]
    pub force: bool,

    /// Never show the live progress line.
    #[arg(long = "no-progress")]
    pub no_progress: bool,

    /// After the run, write a promtool unit-test file: the scraped series
    /// the scenario's rules read and the alerts observed on them
    /// (`promtool test rules FILE` passes on it).
    #[arg(long = "export-promtool-test", value_name = "FILE")]
    pub export_promtool_test: Option<PathBuf>,

    /// Run shard i of N (e.g. 2/3): rates, virtual users and request
    /// counts divided by N, CSV data rows dealt out round robin; put the
    /// shards' results together with `slogate merge`.
    #[arg(long, value_name = "i/N")]
    pub shard: Option<crate::scenario::Shard>,

    #[command(flatten)]
    pub telemetry: TelemetryArgs,
}

/// The run's own metrics, for the team's Prometheus and Grafana (`run`
/// and `hit`).
#[derive(Debug, Clone, Default, Args)]
pub struct TelemetryArgs {
    /// Serve the run's own metrics at http://ADDR/metrics for a Prometheus
    /// to scrape (e.g. 127.0.0.1:9464; port 0 picks one). Loopback unless
    /// --metrics-allow-remote.
    #[arg(long = "metrics-listen", value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,

    /// Allow a --metrics-listen address other machines can reach.
    #[arg(long = "metrics-allow-remote")]
    pub metrics_allow_remote: bool,

    /// The latency histograms' bucket bounds in seconds, comma-separated
    /// (default Prometheus's: 0.005,0.01,...,10). Give the service's own
    /// `le` values to put client and server percentiles side by side.
    #[arg(
        long = "metrics-buckets",
        value_name = "SECONDS",
        value_delimiter = ','
    )]
    pub metrics_buckets: Vec<f64>,

    /// After the run, keep serving until one more scrape has come, at
    /// most this long (default 30s; not at all if nothing scraped).
    #[arg(long = "metrics-grace", value_name = "DURATION", value_parser = parse_duration)]
    pub metrics_grace: Option<Duration>,

    /// Push the run's metrics to a Prometheus remote-write receiver, e.g.
    /// http://127.0.0.1:9090/api/v1/write (a Prometheus started with
    /// --web.enable-remote-write-receiver).
    #[arg(long = "remote-write", value_name = "URL")]
    pub remote_write: Option<String>,

    /// slogate's own events (run and phase start, faults on and off, alert
    /// state changes, verdicts, aborts, run end): `text` for people (the
    /// default), `json` one object per line on stderr for Promtail/Loki.
    #[arg(long = "log-format", value_name = "FORMAT")]
    pub log_format: Option<crate::events::LogFormat>,
}

/// `slogate check FILE...`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Scenario files and rule files to validate.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,

    /// Read past keys the rule-file format does not have, in rule files
    /// (promtool's flag of the same name); scenarios stay strict.
    #[arg(long)]
    pub ignore_unknown_fields: bool,

    /// Enable Prometheus 3's experimental PromQL, as promtool's flag of the
    /// same name: promql-experimental-functions,
    /// promql-extended-range-selectors (anchored, smoothed),
    /// promql-binop-fill-modifiers (fill); comma-separated or repeated.
    /// Without it a rule file using them is refused, as Prometheus 3
    /// refuses to load it.
    #[arg(long = "enable-feature", value_name = "FEATURE")]
    pub enable_feature: Vec<String>,
}

/// `slogate hit URL`: flags as hey and oha users know them.
#[derive(Debug, Args)]
pub struct HitArgs {
    /// http:// or https:// URL to send requests to.
    pub url: String,

    /// Total number of requests (default 200 when -z is not given).
    #[arg(short = 'n', long = "requests", value_parser = clap::value_parser!(u64).range(1..))]
    pub requests: Option<u64>,

    /// Send for this long, e.g. 30s, 2m (stops at -n too if both are given).
    #[arg(short = 'z', long = "duration", value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// Concurrent connections.
    #[arg(short = 'c', long = "connections", default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub connections: u64,

    /// Total rate across all connections, e.g. 200 or 200/s, as oha's -q and
    /// wrk2's -R (also accepted). hey's -q is per worker: `hey -c 10 -q 5`
    /// is `-q 50` here. Open model: requests are due on a schedule and
    /// latency runs from the due time. Without it: closed model.
    #[arg(
        short = 'q',
        visible_short_alias = 'R',
        long = "rate",
        allow_negative_numbers = true
    )]
    pub rate: Option<Rate>,

    /// HTTP method.
    #[arg(short = 'm', long = "method", default_value = "GET")]
    pub method: String,

    /// Header `Name: value` (repeatable).
    #[arg(short = 'H', long = "header", allow_hyphen_values = true)]
    pub headers: Vec<String>,

    /// Accept header value (as hey's -A).
    #[arg(short = 'A', long = "accept", allow_hyphen_values = true)]
    pub accept: Option<String>,

    /// Basic authentication, `user:password` (as hey's -a).
    #[arg(
        short = 'a',
        long = "basic-auth",
        value_name = "USER:PASSWORD",
        allow_hyphen_values = true
    )]
    pub basic_auth: Option<String>,

    /// Host header, for a virtual host at the URL's address (HTTP/1.1).
    #[arg(long = "host", allow_hyphen_values = true)]
    pub host: Option<String>,

    /// Accepted for hey's habit: slogate never asks for compressed answers
    /// (it sends no Accept-Encoding unless -H gives one).
    #[arg(long = "disable-compression")]
    pub disable_compression: bool,

    /// Accepted for wrk2's habit: in the open model (-q) latency is always
    /// measured from each request's due time, coordinated omission
    /// corrected.
    #[arg(long = "latency-correction")]
    pub latency_correction: bool,

    /// Request body (as hey's -d; wrk's -d, a duration, is -z here).
    #[arg(
        short = 'd',
        long = "body",
        conflicts_with = "body_file",
        allow_hyphen_values = true
    )]
    pub body: Option<String>,

    /// Request body from a file.
    #[arg(short = 'D', long = "body-file")]
    pub body_file: Option<PathBuf>,

    /// Content-Type header value.
    #[arg(short = 'T', long = "content-type", allow_hyphen_values = true)]
    pub content_type: Option<String>,

    /// Per-request timeout, connection set-up included, e.g. 5s (as hey's
    /// -t; wrk's -t, threads, is --workers here).
    #[arg(short = 't', long = "timeout", default_value = "20s", value_parser = parse_timeout)]
    pub timeout: Duration,

    /// Connection (TCP + TLS) timeout.
    #[arg(long = "connect-timeout", default_value = "10s", value_parser = parse_duration)]
    pub connect_timeout: Duration,

    /// Use HTTP/2 (prior knowledge over http://, ALPN over https://).
    #[arg(long)]
    pub http2: bool,

    /// Open a new connection for every request.
    #[arg(long = "disable-keepalive")]
    pub disable_keepalive: bool,

    /// Accept any TLS certificate.
    #[arg(long, short = 'k')]
    pub insecure: bool,

    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Write the report to this file instead of standard output.
    #[arg(long = "output-file")]
    pub output_file: Option<PathBuf>,

    /// Worker threads (default: one per core, at most one per connection).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub workers: Option<u64>,

    /// Never show the live progress line.
    #[arg(long = "no-progress")]
    pub no_progress: bool,

    /// An expectation in the scenario syntax, e.g. 'p99 < 200ms',
    /// 'error_rate < 1%', 'throughput >= 500/s' (repeatable): exit 1 when
    /// one fails. Without any, hit still exits 1 when no request succeeded.
    #[arg(long = "expect", value_name = "CHECK")]
    pub expect: Vec<String>,

    /// Statuses that count as success, e.g. 200,404 (default: below 400).
    #[arg(long = "expect-status", value_name = "CODES", value_delimiter = ',', value_parser = clap::value_parser!(u16).range(100..=599))]
    pub expect_status: Vec<u16>,
    /// Hide this query parameter's value in every output, beside api_key,
    /// token, password, secret, key... (repeatable).
    #[arg(long = "redact", value_name = "PARAM")]
    pub redact: Vec<String>,

    #[command(flatten)]
    pub telemetry: TelemetryArgs,
}

/// `-t`: a duration; a bare number is wrk's thread count, said so.
fn parse_timeout(text: &str) -> Result<Duration, crate::units::UnitError> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(crate::units::UnitError(format!(
            "`{text}` has no unit: -t is the per-request timeout (hey's -t {text} is -t {text}s here); wrk's -t (threads) is --workers {text}"
        )));
    }
    parse_duration(text)
}
