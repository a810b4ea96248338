//! The scenario file as written: serde types mirroring the YAML, every key
//! checked (`deny_unknown_fields`), values that need our own parsing kept as
//! located strings so their errors can point at them. Nothing outside
//! `scenario` sees these types; `resolve` turns them into a plan.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_saphyr::Spanned;

/// A located string.
pub type Text = Spanned<String>;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScenarioFile {
    pub name: Text,
    #[serde(default)]
    pub description: Option<String>,
    pub targets: BTreeMap<String, Spanned<StringOr<TargetMap>>>,
    #[serde(default)]
    pub defaults: Defaults,
    #[serde(default)]
    pub data: BTreeMap<String, Spanned<DataSource>>,
    /// Independent requests; optional when there are flows.
    #[serde(default)]
    pub requests: Option<Spanned<Vec<Spanned<RequestSpec>>>>,
    /// Journeys: sequences of steps a virtual user runs again and again.
    #[serde(default)]
    pub flows: Vec<Spanned<FlowSpec>>,
    /// Flows run once before the first phase and once after the last.
    #[serde(default)]
    pub before: Vec<Spanned<FlowSpec>>,
    #[serde(default)]
    pub after: Vec<Spanned<FlowSpec>>,
    pub phases: Spanned<Vec<Spanned<PhaseSpec>>>,
    /// Expectations over the whole run.
    #[serde(default)]
    pub expect: Vec<Spanned<StringOr<ExpectMap>>>,
    /// The game day's hypothesis: checks before the first fault and after
    /// the last.
    #[serde(default)]
    pub steady_state: Vec<Spanned<StringOr<ExpectMap>>>,
    /// Client conditions (`error_rate > 50% for 15s`) and stop
    /// conditions on the service's side (`{promql: ..., above: X, for:
    /// 30s}`, `{alert: NAME, firing: true}`).
    #[serde(default)]
    pub abort: Vec<Spanned<StringOr<StopSpec>>>,
    /// Where server-side metrics come from.
    #[serde(default)]
    pub metrics: Option<Spanned<MetricsSpec>>,
    /// Prometheus rule files, relative to the scenario file.
    #[serde(default)]
    pub rules: Vec<Text>,
    /// Service level objectives.
    #[serde(default)]
    pub slos: Vec<Spanned<SloSpec>>,
    /// Fault proxies started for the run.
    #[serde(default)]
    pub proxies: BTreeMap<String, Spanned<ProxySpec>>,
    /// Query parameters whose values are hidden in every output, beside
    /// the built-in ones (`api_key`, `token`, ...).
    #[serde(default)]
    pub redact: Vec<Text>,
    /// Where the run's own metrics go while it runs.
    #[serde(default)]
    pub outputs: Option<Spanned<OutputsSpec>>,
    /// How slogate's own events are written (`--log-format` wins).
    #[serde(default)]
    pub logs: Option<Spanned<LogsSpec>>,
}

/// `logs: {format: text|json}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LogsSpec {
    pub format: Text,
}

/// `outputs: {metrics_listen, allow_remote, buckets, grace, remote_write}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OutputsSpec {
    #[serde(default)]
    pub metrics_listen: Option<Text>,
    #[serde(default)]
    pub allow_remote: Option<bool>,
    #[serde(default)]
    pub buckets: Option<Spanned<Vec<Spanned<f64>>>>,
    #[serde(default)]
    pub grace: Option<Text>,
    #[serde(default)]
    pub remote_write: Option<Text>,
}

/// `proxies.NAME: {listen, upstream, mode, control, allow_remote}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProxySpec {
    #[serde(default)]
    pub listen: Option<Text>,
    /// A target's name, or a URL (http mode) / host:port (tcp mode).
    pub upstream: Text,
    #[serde(default)]
    pub mode: Option<Text>,
    #[serde(default)]
    pub control: Option<Text>,
    #[serde(default)]
    pub allow_remote: Option<bool>,
    /// How long a client connection may stay silent (see `proxy::Config`).
    #[serde(default)]
    pub header_timeout: Option<Text>,
    /// Client connections open at once; more are closed at accept.
    #[serde(default)]
    pub max_connections: Option<Spanned<u64>>,
}

/// `slos: [{name, objective: 99.9%, period: 30d, sli: {...}, expect: [...]}]`,
/// or `{file: slo.yaml, slo: NAME, expect: [...]}` (a Sloth, OpenSLO or
/// Pyrra file).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SloSpec {
    #[serde(default)]
    pub name: Option<Text>,
    #[serde(default)]
    pub objective: Option<Text>,
    #[serde(default)]
    pub period: Option<Text>,
    #[serde(default)]
    pub sli: Option<Spanned<SliSpec>>,
    /// An SLO file of another tool's, relative to the scenario.
    #[serde(default)]
    pub file: Option<Text>,
    /// Which of the file's SLOs (default: all of them).
    #[serde(default)]
    pub slo: Option<Text>,
    #[serde(default)]
    pub expect: Vec<Text>,
    /// `healthy` or `none` (default): what windows see before the run.
    #[serde(default)]
    pub before_run: Option<Text>,
}

/// `{client: availability}`, or `{errors|good: SELECTOR, total: SELECTOR}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SliSpec {
    #[serde(default)]
    pub client: Option<Text>,
    #[serde(default)]
    pub errors: Option<Text>,
    #[serde(default)]
    pub good: Option<Text>,
    #[serde(default)]
    pub total: Option<Text>,
}

/// `metrics:`: scrape targets for the embedded evaluator, or a Prometheus.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MetricsSpec {
    #[serde(default)]
    pub scrape: Vec<Spanned<StringOr<ScrapeSpec>>>,
    /// Ask this Prometheus instead of the embedded evaluator.
    #[serde(default)]
    pub prometheus: Option<Text>,
    /// How far back an instant selector looks (default 5m).
    #[serde(default)]
    pub lookback: Option<Text>,
    #[serde(default)]
    pub max_series: Option<Spanned<u64>>,
    #[serde(default)]
    pub max_samples: Option<Spanned<u64>>,
    /// How often rule groups without an `interval` are evaluated.
    #[serde(default)]
    pub evaluation_interval: Option<Text>,
    /// Check that alerts reached this Alertmanager.
    #[serde(default)]
    pub alertmanager: Option<Text>,
    /// With both `scrape` and `prometheus`: `prometheus` (it judges) or
    /// `both` (it judges, and the rules are evaluated in process too).
    #[serde(default)]
    pub judge: Option<Text>,
    /// slogate's webhook receiver: `127.0.0.1:9097`, or `{listen: ADDR,
    /// allow_remote: true}`.
    #[serde(default)]
    pub receiver: Option<Spanned<StringOr<ReceiverSpec>>>,
}

/// A stop condition on the service's side.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StopSpec {
    #[serde(default)]
    pub promql: Option<Text>,
    #[serde(default)]
    pub above: Option<Text>,
    #[serde(default)]
    pub below: Option<Text>,
    #[serde(default)]
    pub alert: Option<Text>,
    #[serde(default)]
    pub firing: Option<Spanned<bool>>,
    /// How long it must hold (default: once).
    #[serde(default, rename = "for")]
    pub sustained: Option<Text>,
}

/// `receiver: {listen: 127.0.0.1:9097}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReceiverSpec {
    pub listen: Text,
    /// Listening on a non-loopback address needs this.
    #[serde(default)]
    pub allow_remote: Option<bool>,
}

/// One scrape target (a plain string is its URL).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScrapeSpec {
    pub url: Text,
    #[serde(default)]
    pub interval: Option<Text>,
    #[serde(default)]
    pub job: Option<Text>,
    /// A body this large or larger fails the scrape, e.g. `16MiB`.
    #[serde(default)]
    pub body_size_limit: Option<Text>,
    /// More samples than this fail the scrape.
    #[serde(default)]
    pub sample_limit: Option<Spanned<u64>>,
    /// Ask for the protobuf format and keep native histograms, as
    /// Prometheus's `scrape_native_histograms`.
    #[serde(default)]
    pub scrape_native_histograms: Option<bool>,
}

/// `targets.NAME: {url: ...}` or `{demo: true}` (a plain string is a URL).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TargetMap {
    #[serde(default)]
    pub url: Option<Text>,
    /// The embedded demo service, started for the run.
    #[serde(default)]
    pub demo: Option<Spanned<bool>>,
    /// The demo's dependency: a proxy's or target's name, or a URL.
    #[serde(default)]
    pub upstream: Option<Text>,
}

/// Values every request or phase takes unless it says otherwise.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Defaults {
    #[serde(default)]
    pub timeout: Option<Text>,
    #[serde(default)]
    pub connect_timeout: Option<Text>,
    #[serde(default)]
    pub connections: Option<Spanned<u64>>,
    #[serde(default)]
    pub headers: BTreeMap<String, Text>,
    #[serde(default)]
    pub http2: Option<bool>,
    #[serde(default)]
    pub insecure: Option<bool>,
}

/// `data.NAME: {csv: FILE, order: sequential|random}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DataSource {
    pub csv: Text,
    #[serde(default)]
    pub order: Option<Text>,
}

/// One kind of request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestSpec {
    pub name: Text,
    pub url: Text,
    #[serde(default)]
    pub method: Option<Text>,
    #[serde(default)]
    pub headers: BTreeMap<String, Text>,
    #[serde(default)]
    pub body: Option<Text>,
    #[serde(default)]
    pub weight: Option<Spanned<u32>>,
    /// Statuses that count as success (default: below 400).
    #[serde(default)]
    pub expect_status: Option<Vec<Spanned<u16>>>,
}

/// One flow: `setup` steps once per virtual user, then `steps` per
/// iteration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FlowSpec {
    pub name: Text,
    #[serde(default)]
    pub weight: Option<Spanned<u32>>,
    /// Pause between iterations (closed model).
    #[serde(default)]
    pub think: Option<Spanned<StringOr<ThinkSpec>>>,
    /// A cookie jar per virtual user (default true).
    #[serde(default)]
    pub cookies: Option<bool>,
    #[serde(default)]
    pub setup: Vec<Spanned<FlowStepSpec>>,
    pub steps: Spanned<Vec<Spanned<FlowStepSpec>>>,
}

/// One step of a flow: a request, what it takes from its response and
/// what it demands of it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FlowStepSpec {
    pub name: Text,
    pub url: Text,
    #[serde(default)]
    pub method: Option<Text>,
    #[serde(default)]
    pub headers: BTreeMap<String, Text>,
    #[serde(default)]
    pub body: Option<Text>,
    #[serde(default)]
    pub expect_status: Option<Vec<Spanned<u16>>>,
    /// Values taken from the response into variables, by name.
    #[serde(default)]
    pub capture: BTreeMap<String, Spanned<super::flow_checks::CaptureSpec>>,
    /// What the response must be.
    #[serde(default)]
    pub check: Vec<Spanned<super::flow_checks::CheckSpec>>,
    /// Pause after this step.
    #[serde(default)]
    pub think: Option<Spanned<StringOr<ThinkSpec>>>,
    /// Go on with the iteration after this step failed.
    #[serde(default, rename = "continue")]
    pub go_on: Option<bool>,
    #[serde(default)]
    pub repeat: Option<Spanned<u32>>,
    #[serde(default, rename = "if")]
    pub when: Option<Spanned<WhenSpec>>,
}

/// `if: {var: NAME}` (captured, not empty) or `{var: NAME, equals: TEXT}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WhenSpec {
    pub var: Text,
    #[serde(default)]
    pub equals: Option<Text>,
}

/// One phase of the run.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PhaseSpec {
    pub name: Text,
    #[serde(default)]
    pub duration: Option<Text>,
    #[serde(default)]
    pub requests: Option<Spanned<u64>>,
    pub load: Spanned<LoadSpec>,
    /// What the phase sends and in what shares (default: every request of
    /// the top-level list, with its weight).
    #[serde(default)]
    pub mix: Option<Spanned<Vec<Spanned<StringOr<ShareSpec>>>>>,
    #[serde(default)]
    pub expect: Vec<Spanned<StringOr<ExpectMap>>>,
    /// Faults switched on for this phase (and off after it).
    #[serde(default)]
    pub faults: Vec<Spanned<FaultSpec>>,
}

/// One entry of a phase's `mix`: `{request: NAME, weight: N}` or
/// `{flow: NAME, weight: N}` (a plain string is a request's or a flow's
/// name, weight 1).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShareSpec {
    #[serde(default)]
    pub request: Option<Text>,
    #[serde(default)]
    pub flow: Option<Text>,
    #[serde(default)]
    pub weight: Option<Spanned<u32>>,
}

/// One fault of a phase.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultSpec {
    /// The demo service's own knobs.
    #[serde(default)]
    pub demo: Option<Spanned<DemoFaultSpec>>,
    /// A fault applied by this proxy (the keys below are its settings).
    #[serde(default)]
    pub proxy: Option<Text>,
    #[serde(default)]
    pub kind: Option<Text>,
    #[serde(default)]
    pub probability: Option<Spanned<StringOr<RampSpec>>>,
    #[serde(default)]
    pub status: Option<Spanned<u16>>,
    #[serde(default)]
    pub body: Option<Text>,
    #[serde(default)]
    pub latency: Option<Text>,
    #[serde(default)]
    pub jitter: Option<Text>,
    #[serde(default)]
    pub p50: Option<Text>,
    #[serde(default)]
    pub p99: Option<Text>,
    #[serde(default)]
    pub rate: Option<Text>,
    #[serde(default)]
    pub direction: Option<Text>,
    #[serde(default)]
    pub after: Option<Spanned<u64>>,
    #[serde(default)]
    pub path: Option<Text>,
    #[serde(default)]
    pub header: Option<Text>,
    #[serde(default, rename = "for")]
    pub bound: Option<Text>,
}

/// `{demo: {target: api, error_ratio: 20%, error_status: 503, latency: 300ms}}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DemoFaultSpec {
    /// Which target runs the demo (default: the only one).
    #[serde(default)]
    pub target: Option<Text>,
    #[serde(default)]
    pub error_ratio: Option<Text>,
    #[serde(default)]
    pub error_status: Option<Spanned<u16>>,
    #[serde(default)]
    pub latency: Option<Text>,
    #[serde(default)]
    pub jitter: Option<Text>,
}

/// How a phase loads the target.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoadSpec {
    /// Open model: `200/s`, or `{from: 10/s, to: 500/s}`.
    #[serde(default)]
    pub rate: Option<Spanned<StringOr<RampSpec>>>,
    /// Open model in steps: `[{rate: 10/s, duration: 10s}, ...]`.
    #[serde(default)]
    pub steps: Option<Vec<Spanned<StepSpec>>>,
    /// Closed model: this many virtual users.
    #[serde(default)]
    pub concurrency: Option<Spanned<u64>>,
    /// Closed model: pause between a response and the next request: `100ms`,
    /// or a distribution (`{min, max}`, `{mean}`, `{mean, stddev}`).
    #[serde(default)]
    pub think: Option<Spanned<StringOr<ThinkSpec>>>,
    /// Open model: most requests in flight (default from `defaults`, else 100).
    #[serde(default)]
    pub connections: Option<Spanned<u64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RampSpec {
    pub from: Text,
    pub to: Text,
}

/// A think time drawn per pause: uniform `{min, max}`, exponential `{mean}`
/// or normal `{mean, stddev}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ThinkSpec {
    #[serde(default)]
    pub min: Option<Text>,
    #[serde(default)]
    pub max: Option<Text>,
    #[serde(default)]
    pub mean: Option<Text>,
    #[serde(default)]
    pub stddev: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepSpec {
    pub rate: Text,
    pub duration: Text,
}

/// The structured form of an expectation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExpectMap {
    /// The compact form (`latency p95 < 500ms`), with the keys below around it.
    #[serde(default)]
    pub check: Option<Text>,
    /// Or the metric (`latency p95`, `error_rate`, ...) with a bound.
    #[serde(default)]
    pub metric: Option<Text>,
    #[serde(default)]
    pub below: Option<Text>,
    #[serde(default)]
    pub at_most: Option<Text>,
    #[serde(default)]
    pub above: Option<Text>,
    #[serde(default)]
    pub at_least: Option<Text>,
    /// Only requests of this name.
    #[serde(default)]
    pub request: Option<Text>,
    /// A flow's iterations, or with `step` one of its steps.
    #[serde(default)]
    pub flow: Option<Text>,
    /// No data is not a failure.
    #[serde(default)]
    pub optional: Option<bool>,
    /// A PromQL expression, with its comparison (`... < 0.01`) or a bound.
    #[serde(default)]
    pub promql: Option<Text>,
    /// `end` (default), `always`, `eventually`, or `95%` of the steps.
    #[serde(default)]
    pub holds: Option<Text>,
    /// Evaluation step for `always` / `eventually` / `P%`.
    #[serde(default)]
    pub step: Option<Text>,
    /// An alert expectation: the alert's name, with one of the keys below.
    #[serde(default)]
    pub alert: Option<Text>,
    #[serde(default)]
    pub fires_within: Option<Text>,
    #[serde(default)]
    pub fires_after: Option<Text>,
    #[serde(default)]
    pub resolves_within: Option<Text>,
    /// `inactive` or `firing`, for the whole phase.
    #[serde(default)]
    pub stays: Option<Text>,
    /// Labels the alert must carry (exact values).
    #[serde(default)]
    pub labels: BTreeMap<String, Text>,
    /// Annotations the alert must carry (regular expressions, searched).
    #[serde(default)]
    pub annotations: BTreeMap<String, Text>,
    /// The Alertmanager receiver the alert must be routed to.
    #[serde(default)]
    pub receiver: Option<Text>,
    /// Run-wide: only alerts named in alert expectations may fire.
    #[serde(default)]
    pub no_other_alerts: Option<Spanned<bool>>,
    /// A notification for the alert reached this receiver (slogate's
    /// webhook receiver) `within` of its firing.
    #[serde(default)]
    pub notified: Option<Text>,
    /// The resolved notification reached this receiver `within` of the
    /// resolve.
    #[serde(default)]
    pub resolved_notified: Option<Text>,
    #[serde(default)]
    pub within: Option<Text>,
    /// With `notified: R` and no `alert`: these alerts came in one
    /// notification.
    #[serde(default)]
    pub grouped: Option<Spanned<Vec<Text>>>,
    /// Run-wide: no notification but those the expectations name.
    #[serde(default)]
    pub no_other_notifications: Option<Spanned<bool>>,
}

/// A value written either as a string (or number) or as a map.
#[derive(Debug)]
pub enum StringOr<T> {
    String(String),
    Map(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for StringOr<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Either<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Either<T> {
            type Value = StringOr<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a map")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(StringOr::String(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(StringOr::String(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(StringOr::String(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(StringOr::String(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(StringOr::String(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(StringOr::Map)
            }
        }
        deserializer.deserialize_any(Either(PhantomData))
    }
}
