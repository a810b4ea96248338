//! What the engine runs, resolved from the CLI or a scenario: endpoints with
//! their wire details, the load model, stop conditions and transport options.
//! Pure data; nothing here does I/O.

mod arrivals;
mod compile;
mod flow;
mod render;
pub(crate) mod template;
mod template_error;
mod think;
pub(crate) mod wire_bytes;
pub use compile::{CompileError, compile, target_urls};
pub use flow::{Flow, FlowStep, Role, StepCheck};
pub use render::RenderState;
pub use think::Think;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Uri};

pub use arrivals::{Arrivals, Segment};
use template::Template;

/// One kind of request the engine sends.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Name used in reports.
    pub name: String,
    pub method: Method,
    /// Absolute `http://` or `https://` URL.
    pub url: Uri,
    /// Extra headers, sent in this order.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
    /// Parts filled in per request (templates); None: `url`, `headers` and
    /// `body` are sent as they are.
    pub dynamic: Option<Arc<Dynamic>>,
    /// Statuses that count as success; None: below 400.
    pub expect_status: Option<Vec<u16>>,
    /// A request of its own, or a flow's step.
    pub role: Role,
}

impl Endpoint {
    /// `scheme://host:port` of the endpoint's URL, lower case, the default
    /// port written out: how connections are shared (one per origin per
    /// connection slot) and how reports tell origins apart. No userinfo.
    pub fn origin(&self) -> String {
        let scheme = self.url.scheme_str().unwrap_or("http").to_ascii_lowercase();
        let default = if scheme == "https" { 443 } else { 80 };
        let host = self.url.host().unwrap_or_default().to_ascii_lowercase();
        let port = self.url.port_u16().unwrap_or(default);
        format!("{scheme}://{host}:{port}")
    }
}

/// One entry of a phase's mix: what it sends and its relative share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    pub sends: Sendable,
    /// Relative share (>= 1).
    pub weight: u32,
}

/// What one entry of a mix sends each time it comes up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sendable {
    /// One request: an index into [`LoadPlan::endpoints`].
    Request(usize),
    /// One iteration of a flow: an index into [`LoadPlan::flows`].
    Flow(usize),
}

/// The per-request parts of an endpoint. Target URLs are already bound;
/// the URL renders to an absolute URL on the endpoint's origin (its
/// scheme, host and port are literal text, never filled in).
#[derive(Debug)]
pub struct Dynamic {
    pub url: Template,
    pub headers: Vec<(HeaderName, Template)>,
    pub body: Template,
    pub data: Arc<Data>,
}

/// CSV data sets and the run-wide counter, shared by all connections.
#[derive(Debug, Default)]
pub struct Data {
    pub sets: Vec<DataSet>,
    pub counter: AtomicU64,
}

/// One CSV data set.
#[derive(Debug)]
pub struct DataSet {
    pub name: String,
    pub rows: Vec<Vec<String>>,
    /// A random row per request, or rows in order (wrapping around).
    pub random: bool,
    /// Next row in order.
    pub next: AtomicU64,
}

/// How requests are paced.
#[derive(Debug, Clone, PartialEq)]
pub enum Model {
    /// Each connection sends its next request when the last one answered.
    Closed,
    /// Requests are due on a schedule, whether or not earlier ones answered.
    Open(Arrivals),
}

/// Connection-level options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transport {
    /// Speak HTTP/2 (prior knowledge over http://, ALPN over https://).
    pub http2: bool,
    /// Reuse connections between requests (HTTP/1.1 keep-alive).
    pub keep_alive: bool,
    /// Accept any TLS certificate.
    pub insecure: bool,
    /// Limit for one whole request, connection set-up included.
    pub request_timeout: Duration,
    /// Limit for establishing a connection (TCP and TLS).
    pub connect_timeout: Duration,
}

impl Default for Transport {
    fn default() -> Self {
        Transport {
            http2: false,
            keep_alive: true,
            insecure: false,
            request_timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// One phase of a run: a load model and when it stops.
#[derive(Debug, Clone)]
pub struct PhasePlan {
    pub name: String,
    pub model: Model,
    /// Closed model: virtual users. Open model: the most requests in flight.
    pub connections: usize,
    /// Stop after this many requests.
    pub max_requests: Option<u64>,
    /// Stop sending after this long.
    pub duration: Option<Duration>,
    /// Closed model: pause between a response and the next request.
    pub think: Think,
    /// What the phase sends and in what shares: at least one entry, each
    /// endpoint at most once. Endpoints left out are not sent in this phase.
    pub mix: Vec<Share>,
}

/// A load run, ready for the engine: phases run back to back on the same
/// connections.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// At least one; they may go to several origins. Flows' steps are
    /// endpoints too (see [`Endpoint::role`]).
    pub endpoints: Vec<Endpoint>,
    /// Journeys the phases' mixes send.
    pub flows: Vec<Flow>,
    /// Flows run once before the first phase (`before`) and after the
    /// last (`after`), on one connection.
    pub before: Vec<Flow>,
    pub after: Vec<Flow>,
    /// Every check of every flow's steps, in order.
    pub checks: Vec<StepCheck>,
    /// At least one.
    pub phases: Vec<PhasePlan>,
    pub transport: Transport,
    /// Worker threads (each with its own event loop and recorder).
    pub workers: usize,
    /// Per second, the responses at or under each of these latencies are
    /// counted (client latency SLIs), to the per-second histogram's 2
    /// significant digits.
    pub latency_thresholds: Vec<Duration>,
    /// µs, ascending: when set, each second's timeline rows carry their
    /// histograms on these bounds (the run's live metrics).
    pub live_buckets_us: Option<Vec<u64>>,
    /// `--shard i/N`: each phase sends positions i-1, i-1+N, i-1+2N, … of
    /// its weighted cycle, so the N shards together send one run's mix.
    pub shard: Option<crate::scenario::Shard>,
}

impl LoadPlan {
    /// Worker threads to use on this machine for `connections` connections:
    /// one per core, never more than there are connections.
    pub fn default_workers(connections: usize) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        cores.min(connections).max(1)
    }

    /// The most connections any phase uses.
    pub fn connections(&self) -> usize {
        self.phases
            .iter()
            .map(|p| p.connections)
            .max()
            .unwrap_or(1)
            .max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(url: &'static str) -> Endpoint {
        Endpoint {
            name: "e".into(),
            method: Method::GET,
            url: Uri::from_static(url),
            headers: vec![],
            body: Bytes::new(),
            dynamic: None,
            expect_status: None,
            role: Role::Request,
        }
    }

    #[test]
    fn origins_are_scheme_host_and_port_without_userinfo() {
        assert_eq!(
            endpoint("http://user:secret@API.example:8080/x?q").origin(),
            "http://api.example:8080"
        );
        assert_eq!(endpoint("https://h/").origin(), "https://h:443");
        assert_eq!(
            endpoint("http://h:80/a").origin(),
            endpoint("http://h/b").origin()
        );
        assert_eq!(endpoint("http://[::1]:9/").origin(), "http://[::1]:9");
    }
}
