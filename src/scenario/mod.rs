//! Scenario files: the YAML model (`model`), its validation into resolved
//! types (`resolve`), and errors with file, line, column and a hint (`error`).
//! `load` is the one entry point; nothing is run here.

mod alerts;
mod flow_checks;
mod flows;
mod forms;
mod metrics;
mod mix;
pub(crate) mod model;
mod outputs;
mod phases;
mod proxies;
mod reach;
mod requests;
mod resolve;
mod sendable;
mod shard;
mod slos;
mod steady;
mod stops;
mod targets;
mod think;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::diag::yaml::error_with_keys as yaml_error_with_keys;
pub use crate::diag::{Position, ScenarioError, nearest, read};
pub use alerts::{FaultTargetError, fault_target};
pub use model::{StringOr, Text};
pub use resolve::resolve;
pub use shard::{Shard, ShardParseError, ShardSplitError};

use crate::expect::{Abort, AlertExpectation, Expectation, PromqlExpectation};
use crate::metrics::store::Limits;
use crate::plan::Transport;
use crate::plan::template::Template;

/// A validated scenario, ready to be planned.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
    pub file: PathBuf,
    pub targets: Vec<(String, Target)>,
    pub datasets: Vec<Dataset>,
    pub requests: Vec<Request>,
    /// Journeys the phases send, beside (or instead of) the requests.
    pub flows: Vec<Flow>,
    /// Flows run once before the first phase, and once after the last.
    pub before: Vec<Flow>,
    pub after: Vec<Flow>,
    pub phases: Vec<Phase>,
    /// Expectations over the whole run.
    pub expectations: Vec<Expectation>,
    /// PromQL expectations over the whole run.
    pub promql: Vec<PromqlExpectation>,
    /// Alert expectations over the whole run.
    pub alerts: Vec<AlertExpectation>,
    /// Where `no_other_alerts: true` was written, if it was.
    pub no_other_alerts: Option<String>,
    /// Alerts that must come in one notification (run-wide).
    pub groupings: Vec<crate::expect::notify::Grouping>,
    /// Where `no_other_notifications: true` was written, if it was.
    pub no_other_notifications: Option<String>,
    /// The game day's hypothesis, checked before the first fault and
    /// after the last.
    pub steady_state: Option<SteadyState>,
    /// Rule files, loaded and validated.
    pub rules: Vec<crate::rules::RuleFile>,
    /// Service level objectives, judged over the run.
    pub slos: Vec<crate::slo::Slo>,
    pub aborts: Vec<Abort>,
    /// Stop conditions on the service's side (`abort:` maps).
    pub stops: Vec<crate::expect::stop::StopCondition>,
    pub transport: Transport,
    /// Where server-side metrics come from; None: nowhere.
    pub metrics: Option<Metrics>,
    /// Fault proxies started for the run.
    pub proxies: Vec<ProxyDecl>,
    /// `redact:`: more query parameters to hide in outputs.
    pub redact: Vec<String>,
    /// `outputs:`: where the run's own metrics go (the command line's
    /// flags win over it).
    pub outputs: Outputs,
    /// `logs: {format}`: how slogate's own events are written, if said.
    pub logs: Option<crate::events::LogFormat>,
    /// `--shard i/N`, once [`Shard::apply`] has cut the scenario down.
    pub shard: Option<Shard>,
}

/// `outputs:` as written; None where it says nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outputs {
    pub metrics_listen: Option<std::net::SocketAddr>,
    pub allow_remote: bool,
    /// Seconds, above 0.
    pub buckets: Option<Vec<f64>>,
    pub grace: Option<std::time::Duration>,
    pub remote_write: Option<String>,
}

/// A fault proxy the run starts.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyDecl {
    pub name: String,
    pub mode: crate::proxy::Mode,
    pub listen: std::net::SocketAddr,
    pub control: std::net::SocketAddr,
    /// A target's name, or a URL / host:port.
    pub upstream: String,
    pub allow_remote: bool,
    /// None: the proxy's default ([`crate::proxy::Config::new`]).
    pub header_timeout: Option<std::time::Duration>,
    /// None: the proxy's default ([`crate::proxy::default_max_connections`]).
    pub max_connections: Option<usize>,
}

/// A fault a proxy applies during a phase.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyFault {
    pub proxy: String,
    pub spec: crate::proxy::FaultSpec,
    pub fault: crate::proxy::Fault,
}

/// `steady_state:`: checks that must hold over the phases before the
/// first faulted phase (`..first_fault`; if not, no fault is injected)
/// and over those after the last (`last_fault + 1..`).
#[derive(Debug, Clone)]
pub struct SteadyState {
    pub client: Vec<Expectation>,
    pub promql: Vec<PromqlExpectation>,
    /// `{alert: NAME, stays: inactive}`.
    pub alerts: Vec<AlertExpectation>,
    /// Where `{no_other_alerts: true}` was written: no alert fires.
    pub quiet: Option<String>,
    pub first_fault: usize,
    pub last_fault: usize,
    /// Where `steady_state` begins.
    pub source: String,
}

/// `metrics:` resolved.
#[derive(Debug, Clone)]
pub struct Metrics {
    pub scrape: Vec<Scrape>,
    /// Ask this Prometheus (base URL) instead of the embedded evaluator.
    pub prometheus: Option<String>,
    pub lookback: Duration,
    pub limits: Limits,
    /// For rule groups without an `interval`: `evaluation_interval`, else
    /// the shortest scrape interval, else 1 s.
    pub evaluation_interval: Duration,
    /// Check that alerts reached this Alertmanager (base URL).
    pub alertmanager: Option<String>,
    /// Where slogate's webhook receiver listens, for notification
    /// expectations.
    pub receiver: Option<std::net::SocketAddr>,
    /// With a Prometheus and scrapes of slogate's own (`judge: both`): the
    /// rules are evaluated in process as well, and the two timelines
    /// compared; the Prometheus judges.
    pub in_process_too: bool,
}

impl Metrics {
    /// The step of `always` / `eventually` checks that give none: the
    /// shortest scrape interval, else 1 s.
    pub fn default_step(&self) -> Duration {
        self.scrape
            .iter()
            .map(|s| s.interval)
            .min()
            .unwrap_or(Duration::from_secs(1))
    }
}

/// One scrape target.
#[derive(Debug, Clone)]
pub struct Scrape {
    /// May name targets (`${api}/metrics`), filled in when the run starts.
    pub url: Template,
    pub job: String,
    pub interval: Duration,
    /// `body_size_limit` and `sample_limit`.
    pub limits: crate::metrics::scrape::ScrapeLimits,
}

/// Where a target is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A base URL, without a trailing slash.
    Url(String),
    /// The embedded demo service, started for the run; with a dependency
    /// (a proxy's or target's name, or a URL).
    Demo { upstream: Option<String> },
}

/// A CSV data set, loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Rows in file order (wrapping around) or at random, per request.
    pub random: bool,
}

/// One kind of request.
#[derive(Debug, Clone)]
pub struct Request {
    pub name: String,
    pub method: http::Method,
    pub url: Template,
    pub headers: Vec<(http::HeaderName, Template)>,
    pub body: Template,
    pub weight: u32,
    /// Statuses that count as success; None: below 400.
    pub expect_status: Option<Vec<u16>>,
}

impl Scenario {
    /// Every request the plan makes an endpoint of, in the plan's order:
    /// the top-level requests, each flow's setup steps then its steps,
    /// then `before` and `after` flows' steps; each with whether it counts
    /// in the phases' totals (setup and `before`/`after` steps do not).
    pub fn endpoint_requests(&self) -> Vec<(&Request, bool)> {
        let mut out: Vec<(&Request, bool)> = self.requests.iter().map(|r| (r, true)).collect();
        for flow in &self.flows {
            out.extend(flow.setup.iter().map(|s| (&s.request, false)));
            out.extend(flow.steps.iter().map(|s| (&s.request, true)));
        }
        for flow in self.before.iter().chain(&self.after) {
            out.extend(flow.steps.iter().map(|s| (&s.request, false)));
        }
        out
    }
}

/// A journey: `setup` steps once per virtual user, then `steps` again and
/// again (closed model) or once per arrival (open model).
#[derive(Debug, Clone)]
pub struct Flow {
    pub name: String,
    /// Its share in a phase without a `mix`.
    pub weight: u32,
    /// Pause between iterations (closed model).
    pub think: crate::plan::Think,
    /// A cookie jar per virtual user.
    pub cookies: bool,
    pub setup: Vec<Step>,
    pub steps: Vec<Step>,
    /// Every variable its steps capture, by slot: setup's first.
    pub vars: Vec<String>,
    /// How many of `vars` setup captures (they live for the virtual user;
    /// the others for one iteration).
    pub setup_vars: usize,
}

/// One step of a flow. Its request's name is `FLOW/STEP`.
#[derive(Debug, Clone)]
pub struct Step {
    pub request: Request,
    /// The step's own name.
    pub name: String,
    /// Pause after it.
    pub think: crate::plan::Think,
    /// Go on with the iteration when it fails.
    pub go_on: bool,
    /// Times it runs in a row (at least 1).
    pub repeat: u32,
    pub when: Option<When>,
    pub captures: Vec<crate::flow::Capture>,
    pub checks: Vec<crate::flow::Check>,
}

/// `if:` on a step: it runs only when variable `var` (a slot of the
/// flow's) is captured and not empty, or equals `equals`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct When {
    pub var: usize,
    pub equals: Option<String>,
}

/// One phase.
#[derive(Debug, Clone)]
pub struct Phase {
    pub name: String,
    pub duration: Option<Duration>,
    pub requests: Option<u64>,
    pub load: Load,
    /// What the phase sends; None: every request with its own weight.
    pub mix: Option<Vec<Share>>,
    pub expectations: Vec<Expectation>,
    pub promql: Vec<PromqlExpectation>,
    pub alerts: Vec<AlertExpectation>,
    /// Faults switched on as the phase starts and off as it ends.
    pub faults: Vec<DemoFault>,
    /// Proxy faults, switched the same way.
    pub proxy_faults: Vec<ProxyFault>,
}

/// One entry of a phase's mix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// A request of the top-level list, or a flow (`flow`).
    pub request: String,
    /// `request` names a flow.
    pub flow: bool,
    /// Relative share (1 to 10000).
    pub weight: u32,
}

impl Phase {
    /// True when the phase sends the request named `request` (a flow's
    /// step, `FLOW/STEP`, when it sends the flow).
    pub fn sends(&self, request: &str) -> bool {
        self.mix.as_ref().is_none_or(|mix| {
            mix.iter().any(|share| {
                share.request == request
                    || (share.flow
                        && request
                            .strip_prefix(share.request.as_str())
                            .is_some_and(|rest| rest.starts_with('/')))
            })
        })
    }
}

/// The demo service's fault knobs set for a phase.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoFault {
    /// The target that runs the demo service.
    pub target: String,
    pub knobs: crate::demo::Faults,
}

/// How a phase loads the target.
#[derive(Debug, Clone, PartialEq)]
pub enum Load {
    /// Requests due on a schedule; at most `connections` in flight.
    Open {
        arrivals: crate::plan::Arrivals,
        connections: usize,
    },
    /// `concurrency` virtual users, each pausing `think` between requests.
    Closed {
        concurrency: usize,
        think: crate::plan::Think,
    },
}

impl Scenario {
    /// True when some expectation is judged on the service's side (PromQL,
    /// alerts, SLOs), after the load.
    pub fn has_server_side_checks(&self) -> bool {
        !self.promql.is_empty()
            || !self.alerts.is_empty()
            || self.no_other_alerts.is_some()
            || !self.groupings.is_empty()
            || self.no_other_notifications.is_some()
            || self
                .steady_state
                .as_ref()
                .is_some_and(|s| !s.promql.is_empty())
            || !self.slos.is_empty()
            || !self.rules.is_empty()
            || self
                .phases
                .iter()
                .any(|p| !p.promql.is_empty() || !p.alerts.is_empty())
    }
}

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, Vec<ScenarioError>> {
    let source = read(path)?;
    let env = |name: &str| std::env::var(name).ok();
    resolve(path, &source, &env)
}
