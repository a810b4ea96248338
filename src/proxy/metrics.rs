//! The proxy's own metrics, so rules and reports can reconcile what was
//! injected with what the service reported: requests by the status the
//! client got, injected faults by kind, upstream errors by reason,
//! connections and bytes.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct CodeLabels {
    pub proxy: String,
    /// The status the client got, or `closed` / `hang` (no status).
    pub code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct KindLabels {
    pub proxy: String,
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ReasonLabels {
    pub proxy: String,
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct DirectionLabels {
    pub proxy: String,
    /// `upstream` (client to service) or `downstream`.
    pub direction: String,
}

/// Every metric of one proxy.
pub struct Metrics {
    registry: Registry,
    name: String,
    requests: Family<CodeLabels, Counter>,
    injected: Family<KindLabels, Counter>,
    upstream_errors: Family<ReasonLabels, Counter>,
    bytes: Family<DirectionLabels, Counter>,
    pub connections: Counter,
    pub connections_open: Gauge,
    pub connections_rejected: Counter,
    pub faults_active: Gauge,
    pub hanging: Gauge,
}

impl Metrics {
    pub fn new(name: &str) -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<CodeLabels, Counter>::default();
        registry.register(
            "slogate_proxy_requests",
            "HTTP requests through the proxy, by the status the client got (closed: none)",
            requests.clone(),
        );
        let injected = Family::<KindLabels, Counter>::default();
        registry.register(
            "slogate_proxy_faults_injected",
            "Faults applied, by kind (per request in http mode, per connection in tcp mode)",
            injected.clone(),
        );
        let upstream_errors = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "slogate_proxy_upstream_errors",
            "Upstream failures not caused by a fault, by reason",
            upstream_errors.clone(),
        );
        let bytes = Family::<DirectionLabels, Counter>::default();
        registry.register(
            "slogate_proxy_bytes",
            "Bytes forwarded (tcp mode), by direction",
            bytes.clone(),
        );
        // Unlabelled metrics carry the proxy's name through a constant label.
        let connections = Counter::default();
        let connections_open = Gauge::default();
        let connections_rejected = Counter::default();
        let faults_active = Gauge::default();
        let hanging = Gauge::default();
        {
            let sub = registry.sub_registry_with_label((
                std::borrow::Cow::Borrowed("proxy"),
                std::borrow::Cow::Owned(name.to_string()),
            ));
            sub.register(
                "slogate_proxy_connections",
                "Client connections accepted",
                connections.clone(),
            );
            sub.register(
                "slogate_proxy_connections_open",
                "Client connections open now",
                connections_open.clone(),
            );
            sub.register(
                "slogate_proxy_connections_rejected",
                "Client connections closed at once: the connection limit was reached",
                connections_rejected.clone(),
            );
            sub.register(
                "slogate_proxy_faults_active",
                "Faults in effect now",
                faults_active.clone(),
            );
            sub.register(
                "slogate_proxy_hanging",
                "Requests or connections held by a hang or blackhole fault now",
                hanging.clone(),
            );
        }
        Metrics {
            registry,
            name: name.to_string(),
            requests,
            injected,
            upstream_errors,
            bytes,
            connections,
            connections_open,
            connections_rejected,
            faults_active,
            hanging,
        }
    }

    pub fn request(&self, code: &str) {
        self.requests
            .get_or_create(&CodeLabels {
                proxy: self.name.clone(),
                code: code.to_string(),
            })
            .inc();
    }

    pub fn injected(&self, kind: &str) {
        self.injected
            .get_or_create(&KindLabels {
                proxy: self.name.clone(),
                kind: kind.to_string(),
            })
            .inc();
    }

    pub fn injected_count(&self, kind: &str) -> u64 {
        self.injected
            .get_or_create(&KindLabels {
                proxy: self.name.clone(),
                kind: kind.to_string(),
            })
            .get()
    }

    pub fn upstream_error(&self, reason: &str) {
        self.upstream_errors
            .get_or_create(&ReasonLabels {
                proxy: self.name.clone(),
                reason: reason.to_string(),
            })
            .inc();
    }

    pub fn bytes(&self, direction: &str, n: u64) {
        self.bytes
            .get_or_create(&DirectionLabels {
                proxy: self.name.clone(),
                direction: direction.to_string(),
            })
            .inc_by(n);
    }

    /// The OpenMetrics text exposition.
    pub fn encode_openmetrics(&self) -> String {
        let mut text = String::new();
        // Encoding into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
