//! The families of the run's metrics, registered with prometheus-client,
//! and the histogram they add whole seconds into.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::{Registry, Unit};

use crate::record::{Bucketed, ErrorKind, TimelineRow};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ScenarioLabels {
    pub scenario: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct RunLabels {
    pub scenario: String,
    pub version: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct PhaseLabels {
    pub scenario: String,
    pub phase: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct RequestLabels {
    pub scenario: String,
    pub phase: String,
    pub request: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ClassLabels {
    pub scenario: String,
    pub phase: String,
    pub request: String,
    pub status_class: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct KindLabels {
    pub scenario: String,
    pub phase: String,
    pub request: String,
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct FaultLabels {
    pub scenario: String,
    /// `proxy` or `demo`.
    pub source: String,
    /// The proxy's or the demo target's name.
    pub target: String,
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct CheckLabels {
    pub scenario: String,
    pub scope: String,
    pub check: String,
}

/// A histogram that takes whole seconds' buckets at a time (a timeline
/// row's), not single observations.
#[derive(Debug, Clone)]
pub(super) struct SecondsHistogram {
    bounds: Arc<[f64]>,
    state: Arc<Mutex<Bucketed>>,
}

impl SecondsHistogram {
    fn new(bounds: Arc<[f64]>) -> SecondsHistogram {
        let counts = vec![0; bounds.len() + 1];
        SecondsHistogram {
            bounds,
            state: Arc::new(Mutex::new(Bucketed {
                counts,
                sum_seconds: 0.0,
                count: 0,
            })),
        }
    }

    fn add(&self, second: &Bucketed) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (mine, theirs) in state.counts.iter_mut().zip(&second.counts) {
            *mine += theirs;
        }
        state.sum_seconds += second.sum_seconds;
        state.count += second.count;
    }
}

impl TypedMetric for SecondsHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for SecondsHistogram {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        let state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let buckets: Vec<(f64, u64)> = self
            .bounds
            .iter()
            .copied()
            .chain([f64::INFINITY])
            .zip(state.counts.iter().copied())
            .collect();
        encoder.encode_histogram::<NoLabelSet>(state.sum_seconds, state.count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

/// Makes each series' histogram on the run's bounds.
#[derive(Debug, Clone)]
pub(super) struct OnBounds(Arc<[f64]>);

impl MetricConstructor<SecondsHistogram> for OnBounds {
    fn new_metric(&self) -> SecondsHistogram {
        SecondsHistogram::new(self.0.clone())
    }
}

type Histograms = Family<RequestLabels, SecondsHistogram, OnBounds>;

/// Every family, and the registry that encodes them.
pub(super) struct Families {
    registry: Registry,
    pub run_info: Family<RunLabels, Gauge>,
    pub run_start: Family<ScenarioLabels, Gauge<f64, AtomicU64>>,
    pub run_active: Family<ScenarioLabels, Gauge>,
    pub requests: Family<RequestLabels, Counter>,
    pub failed: Family<RequestLabels, Counter>,
    pub responses: Family<ClassLabels, Counter>,
    pub errors: Family<KindLabels, Counter>,
    pub late: Family<RequestLabels, Counter>,
    pub dropped: Family<PhaseLabels, Counter>,
    pub latency: Histograms,
    pub service: Histograms,
    pub in_flight: Family<ScenarioLabels, Gauge>,
    pub lag: Family<ScenarioLabels, Gauge<f64, AtomicU64>>,
    pub phase_info: Family<PhaseLabels, Gauge>,
    pub fault_active: Family<FaultLabels, Gauge>,
    pub check: Family<CheckLabels, Gauge>,
}

impl Families {
    pub(super) fn new(bounds: &[f64]) -> Families {
        let bounds: Arc<[f64]> = bounds.into();
        let histograms =
            || -> Histograms { Family::new_with_constructor(OnBounds(bounds.clone())) };
        let mut registry = Registry::with_prefix("slogate");
        let families = Families {
            run_info: Family::default(),
            run_start: Family::default(),
            run_active: Family::default(),
            requests: Family::default(),
            failed: Family::default(),
            responses: Family::default(),
            errors: Family::default(),
            late: Family::default(),
            dropped: Family::default(),
            latency: histograms(),
            service: histograms(),
            in_flight: Family::default(),
            lag: Family::default(),
            phase_info: Family::default(),
            fault_active: Family::default(),
            check: Family::default(),
            registry: Registry::default(),
        };
        let r = &mut registry;
        r.register(
            "run_info",
            "The run: 1, labelled with the scenario and slogate's version",
            families.run_info.clone(),
        );
        r.register_with_unit(
            "run_start_time",
            "When the run started, Unix time",
            Unit::Seconds,
            families.run_start.clone(),
        );
        r.register(
            "run_active",
            "1 while the run sends load, 0 once it has ended",
            families.run_active.clone(),
        );
        r.register(
            "requests",
            "Requests that ended, by phase and request name",
            families.requests.clone(),
        );
        r.register(
            "requests_failed",
            "Requests that failed: no response, or a status the request does not expect",
            families.failed.clone(),
        );
        r.register(
            "responses",
            "Responses by status class",
            families.responses.clone(),
        );
        r.register(
            "request_errors",
            "Requests that got no usable answer, by error kind",
            families.errors.clone(),
        );
        r.register(
            "late_starts",
            "Requests sent more than 1 ms after their due time",
            families.late.clone(),
        );
        r.register(
            "dropped",
            "Requests due in the open model but never sent before their phase ended",
            families.dropped.clone(),
        );
        r.register_with_unit(
            "request_latency",
            "Latency from each request's intended send (coordinated omission corrected)",
            Unit::Seconds,
            families.latency.clone(),
        );
        r.register_with_unit(
            "service_time",
            "Time from each request's actual send to its response",
            Unit::Seconds,
            families.service.clone(),
        );
        r.register(
            "in_flight",
            "Requests sent and not yet ended",
            families.in_flight.clone(),
        );
        r.register_with_unit(
            "schedule_lag",
            "How far the open model's sending is behind its schedule",
            Unit::Seconds,
            families.lag.clone(),
        );
        r.register(
            "phase_info",
            "1 while the phase runs, 0 otherwise",
            families.phase_info.clone(),
        );
        r.register(
            "fault_active",
            "1 while the fault is switched on, 0 once off",
            families.fault_active.clone(),
        );
        r.register(
            "check_passed",
            "Each check once judged: 1 passed, 0 failed or had no data",
            families.check.clone(),
        );
        Families {
            registry,
            ..families
        }
    }

    /// Adds one timeline row to `labels`' series.
    pub(super) fn observe(&self, labels: &RequestLabels, row: &TimelineRow) {
        self.requests.get_or_create(labels).inc_by(row.requests);
        self.failed
            .get_or_create(labels)
            .inc_by(row.requests.saturating_sub(row.ok));
        for (i, &n) in row
            .status_classes
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
        {
            self.responses
                .get_or_create(&ClassLabels {
                    scenario: labels.scenario.clone(),
                    phase: labels.phase.clone(),
                    request: labels.request.clone(),
                    status_class: status_class(i).to_string(),
                })
                .inc_by(n);
        }
        for (i, &n) in row.errors.iter().enumerate().filter(|(_, n)| **n > 0) {
            self.errors
                .get_or_create(&KindLabels {
                    scenario: labels.scenario.clone(),
                    phase: labels.phase.clone(),
                    request: labels.request.clone(),
                    kind: error_kind(i).to_string(),
                })
                .inc_by(n);
        }
        if let Some(buckets) = &row.buckets {
            self.late.get_or_create(labels).inc_by(buckets.late);
            self.latency.get_or_create(labels).add(&buckets.latency);
            self.service.get_or_create(labels).add(&buckets.service);
        }
    }

    pub(super) fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// The status class label of index `i` of a row's classes: `1xx` .. `5xx`.
fn status_class(i: usize) -> &'static str {
    ["1xx", "2xx", "3xx", "4xx", "5xx"][i.min(4)]
}

/// The error kind label of index `i` of a row's errors.
fn error_kind(i: usize) -> &'static str {
    ErrorKind::ALL.get(i).map_or("other", |kind| kind.name())
}
