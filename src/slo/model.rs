//! The SLO model: an SLI, an objective, a period, its expectations, and the
//! report a run gives it.

use std::time::Duration;

use serde::Serialize;

/// The burn-rate windows reported, seconds.
pub(crate) const WINDOWS: [(u64, &str); 4] =
    [(300, "5m"), (1800, "30m"), (3600, "1h"), (21600, "6h")];

/// The page: (long window, short window, burn-rate threshold).
pub(super) const PAGE: [(u64, u64, f64); 2] = [(3600, 300, 14.4), (21600, 1800, 6.0)];

#[derive(Debug, Clone)]
pub struct Slo {
    pub name: String,
    /// As a fraction: 0.999.
    pub objective: f64,
    pub period: Duration,
    pub sli: Sli,
    pub expect: Vec<SloExpectation>,
    /// `before_run: healthy`: windows reaching back before the run count
    /// the run's average traffic there, with no errors (as in production,
    /// where a drill's minutes sit in hours of normal traffic); otherwise
    /// windows hold only the run.
    pub healthy_before: bool,
    /// `file:line:col` of the SLO.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Sli {
    /// The client's requests: failed ones (transport errors, unexpected
    /// statuses) are the bad events.
    ClientAvailability,
    /// The client's requests: those answered within the threshold (any
    /// status, latency from the intended send time) are the good events;
    /// to the per-second histogram's 2 significant digits.
    ClientLatency(Duration),
    /// Counter selectors: `events` counts bad events (`errors:`) or good
    /// ones (`good: true`, e.g. a latency bucket), `total` all events.
    Promql {
        events: String,
        good: bool,
        total: String,
    },
    /// Queries with `{{.window}}` in them (Sloth's `events`): the bad
    /// events and all events over the window.
    Windowed {
        errors: String,
        total: String,
        counts: Counts,
    },
    /// A query with `{{.window}}` in it giving the error ratio over the
    /// window (Sloth's `raw`): no event counts.
    ErrorRatio(String),
}

/// What a windowed query's value is, for event counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counts {
    /// Per second (`rate`, summed and subtracted): times the window.
    Rate,
    /// Over the window (`increase`): the count.
    Increase,
    /// Anything else: only the ratio of the two means something.
    RatioOnly,
}

/// The placeholder Sloth's queries use for the window.
pub(crate) const WINDOW_PLACEHOLDER: &str = "{{.window}}";

impl Sli {
    /// Measured from the client's own requests (not the service's metrics).
    pub fn is_client(&self) -> bool {
        matches!(self, Sli::ClientAvailability | Sli::ClientLatency(_))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SloExpectation {
    pub kind: SloCheck,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SloCheck {
    /// `page: fires` (true) or `page: quiet` (false).
    Page(bool),
    /// `budget_consumed < 5%` (a fraction of the period's budget).
    BudgetBelow(f64),
    /// `compliance >= 99%` during the run.
    ComplianceAtLeast(f64),
}

/// What one SLO did over the run.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SloReport {
    pub name: String,
    pub objective: f64,
    pub period_seconds: u64,
    pub sli: String,
    /// Good events over all events during the run.
    pub compliance: Option<f64>,
    /// Bad events and all events (client SLI; PromQL counts are estimates
    /// from `increase`).
    pub bad: Option<f64>,
    pub total: Option<f64>,
    /// The run's error ratio over the allowed one.
    pub burn_rate: Option<f64>,
    /// Share of the period's error budget the run used.
    pub budget_consumed: Option<f64>,
    /// Burn rate per window at the end of the run (None: no data).
    pub burn_at_end: Vec<(String, Option<f64>)>,
    /// Seconds of data the windows could hold.
    pub data_seconds: u64,
    /// Windows reaching before the run counted healthy traffic there.
    pub healthy_before: bool,
    /// Seconds from the run start to the first moment the page condition
    /// held, and which pair of windows made it.
    pub page_at: Option<f64>,
    pub page_by: Option<String>,
    /// Why numbers are missing, if they are.
    pub problem: Option<String>,
}
