//! The run's own metrics, for the team's Prometheus and Grafana: requests,
//! responses, errors and latency by scenario, phase and request, the
//! schedule's lag, the phases and faults as they switch, each check's
//! state. They are fed from the per-second timeline rows the engine
//! already merges, never from the request path: one update per second
//! and endpoint, whatever the request rate. [`serve`] answers scrapes of
//! them; [`remote`] pushes them to a remote-write receiver.
//!
//! Labels are bounded: request *names* (never URLs), phase names, status
//! classes, error kinds, fault kinds.

mod families;
pub mod live;
pub mod remote;
pub mod serve;
mod wire;

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use crate::engine::Snapshot;
use crate::expect::{CheckOutcome, Verdict};
use crate::record::{PhaseResults, TimelineRow};
use families::{CheckLabels, Families, FaultLabels, PhaseLabels, RequestLabels};

/// Prometheus's default histogram buckets, seconds (client_golang's
/// `DefBuckets`, prometheus-client's too).
pub const DEFAULT_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The phase label of requests that ended before the first phase (a
/// `before` flow's) and after the last (an `after` flow's).
const AROUND: &str = "-";

/// A fault in effect.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fault {
    /// `proxy` or `demo`.
    pub source: &'static str,
    /// The proxy's or the demo target's name.
    pub target: String,
    /// `abort`, `latency`, ... (a demo's `errors` or `latency`).
    pub kind: String,
}

/// The run's metrics, shared by the run (which updates them) and the
/// endpoint and the remote writer (which read them).
pub struct Telemetry {
    scenario: String,
    /// Each endpoint's request name, and whether it belongs to a `before`
    /// or `after` flow (its requests are in no phase).
    requests: Vec<(String, bool)>,
    /// Histogram bounds, seconds, ascending.
    buckets: Vec<f64>,
    families: Families,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    run_start: Option<Instant>,
    /// Each phase's start, seconds since the run's, and its name.
    phases: Vec<(f64, String)>,
    /// Timeline rows counted so far (they come in order).
    rows_seen: usize,
    /// Every fault seen in effect.
    faults: Vec<FaultLabels>,
    /// Phases whose end-of-phase counts (dropped) are in.
    phases_counted: usize,
    ended: bool,
}

impl Telemetry {
    /// The metrics of scenario `scenario` sending `requests` (each
    /// endpoint's name, and whether it is a `before`/`after` flow's step),
    /// with latency histograms on `buckets` (seconds; sorted and
    /// deduplicated here).
    pub fn new(scenario: &str, requests: Vec<(String, bool)>, buckets: &[f64]) -> Telemetry {
        let mut buckets: Vec<f64> = buckets
            .iter()
            .copied()
            .filter(|b| b.is_finite() && *b >= 1e-6)
            .collect();
        buckets.sort_by(f64::total_cmp);
        buckets.dedup();
        let families = Families::new(&buckets);
        families
            .run_info
            .get_or_create(&families::RunLabels {
                scenario: scenario.to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
            })
            .set(1);
        Telemetry {
            scenario: scenario.to_string(),
            requests,
            buckets,
            families,
            state: Mutex::new(State::default()),
        }
    }

    /// The histogram bounds in µs, for the timeline rows
    /// ([`crate::plan::LoadPlan::live_buckets_us`]).
    pub fn buckets_us(&self) -> Vec<u64> {
        self.buckets
            .iter()
            .map(|b| (b * 1e6).round() as u64)
            .collect()
    }

    /// The run started (wall clock `wall`). The engine's own start, which
    /// its timeline's seconds count from, comes with its first progress
    /// moment.
    pub fn start(&self, wall: SystemTime) {
        let unix = wall
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        self.families
            .run_start
            .get_or_create(&self.scenario_labels())
            .set(unix);
        self.families
            .run_active
            .get_or_create(&self.scenario_labels())
            .set(1);
    }

    /// Phase `name` starts at `at`: its info series is 1, the one before's 0.
    pub fn enter_phase(&self, name: &str, at: Instant) {
        let mut state = self.lock();
        let offset = state.run_start.map_or(0.0, |start| {
            at.saturating_duration_since(start).as_secs_f64()
        });
        if let Some(before) = state.phases.last() {
            self.families
                .phase_info
                .get_or_create(&self.phase(&before.1))
                .set(0);
        }
        self.families
            .phase_info
            .get_or_create(&self.phase(name))
            .set(1);
        state.phases.push((offset, name.to_string()));
    }

    /// The phases that have ended, in order: their requests dropped (due
    /// but never sent) are counted once each.
    pub fn phases_done(&self, done: &[PhaseResults]) {
        let mut state = self.lock();
        for phase in done.iter().skip(state.phases_counted) {
            let dropped = phase.open.as_ref().map_or(0, |open| open.dropped);
            self.families
                .dropped
                .get_or_create(&self.phase(&phase.name))
                .inc_by(dropped);
        }
        state.phases_counted = state.phases_counted.max(done.len());
    }

    /// Finished timeline rows: each adds its second's counts to its
    /// request's series in the phase that ran most of that second.
    pub fn rows(&self, rows: &[TimelineRow]) {
        if rows.is_empty() {
            return;
        }
        let mut state = self.lock();
        state.rows_seen += rows.len();
        for row in rows.iter().filter(|r| r.requests > 0) {
            let Some((request, around)) = self.requests.get(row.endpoint) else {
                continue;
            };
            let phase = if *around {
                AROUND
            } else {
                phase_at(&state.phases, row.second as f64 + 0.5)
            };
            let labels = RequestLabels {
                scenario: self.scenario.clone(),
                phase: phase.to_string(),
                request: request.clone(),
            };
            self.families.observe(&labels, row);
        }
    }

    /// The rows of the whole run: those not yet counted (the engine
    /// finishes its last seconds after the last phase) are counted now.
    pub fn rest(&self, all: &[TimelineRow]) {
        let seen = self.lock().rows_seen;
        self.rows(all.get(seen..).unwrap_or_default());
    }

    /// The live display's moment: requests in flight, the schedule's lag.
    pub fn progress(&self, snapshot: &Snapshot) {
        // The first moment gives the engine's start.
        self.lock().run_start.get_or_insert_with(|| {
            let now = Instant::now();
            now.checked_sub(snapshot.elapsed).unwrap_or(now)
        });
        let labels = self.scenario_labels();
        let in_flight = snapshot.started.saturating_sub(snapshot.requests);
        self.families
            .in_flight
            .get_or_create(&labels)
            .set(i64::try_from(in_flight).unwrap_or(i64::MAX));
        self.families
            .lag
            .get_or_create(&labels)
            .set(snapshot.lag.as_secs_f64());
    }

    /// The faults in effect now: theirs are 1, every other fault's seen
    /// before 0.
    pub fn faults(&self, active: &[Fault]) {
        let mut state = self.lock();
        let now: Vec<FaultLabels> = active
            .iter()
            .map(|fault| FaultLabels {
                scenario: self.scenario.clone(),
                source: fault.source.to_string(),
                target: fault.target.clone(),
                kind: fault.kind.clone(),
            })
            .collect();
        for labels in &state.faults {
            if !now.contains(labels) {
                self.families.fault_active.get_or_create(labels).set(0);
            }
        }
        for labels in now {
            self.families.fault_active.get_or_create(&labels).set(1);
            if !state.faults.contains(&labels) {
                state.faults.push(labels);
            }
        }
    }

    /// Checks judged: 1 passed (or warned), 0 failed or had no data.
    pub fn verdicts(&self, verdicts: &[Verdict]) {
        for verdict in verdicts {
            let passed = matches!(verdict.outcome, CheckOutcome::Pass | CheckOutcome::Warn);
            self.families
                .check
                .get_or_create(&CheckLabels {
                    scenario: self.scenario.clone(),
                    scope: verdict.scope.clone(),
                    check: verdict.check.clone(),
                })
                .set(i64::from(passed));
        }
    }

    /// The run is over: no phase runs, nothing is in flight.
    pub fn end(&self) {
        let mut state = self.lock();
        if let Some(last) = state.phases.last() {
            self.families
                .phase_info
                .get_or_create(&self.phase(&last.1))
                .set(0);
        }
        let labels = self.scenario_labels();
        self.families.run_active.get_or_create(&labels).set(0);
        self.families.in_flight.get_or_create(&labels).set(0);
        self.families.lag.get_or_create(&labels).set(0.0);
        state.ended = true;
    }

    /// Whether [`Telemetry::end`] was called.
    pub fn ended(&self) -> bool {
        self.lock().ended
    }

    /// Every series in the OpenMetrics text format.
    pub fn encode_openmetrics(&self) -> String {
        self.families.encode()
    }

    fn scenario_labels(&self) -> families::ScenarioLabels {
        families::ScenarioLabels {
            scenario: self.scenario.clone(),
        }
    }

    fn phase(&self, name: &str) -> PhaseLabels {
        PhaseLabels {
            scenario: self.scenario.clone(),
            phase: name.to_string(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The phase running at `offset` seconds into the run: the last to start
/// at or before it; [`AROUND`] before the first.
fn phase_at(phases: &[(f64, String)], offset: f64) -> &str {
    match phases.partition_point(|(start, _)| *start <= offset) {
        0 => AROUND,
        n => &phases[n - 1].1,
    }
}

/// How long to keep serving after the run so that a last scrape sees the
/// final counts: until one scrape has come after the end, at most `grace`;
/// not at all when nothing scraped during the run.
pub fn linger(server: &serve::Server, grace: Duration) {
    if server.scrapes() == 0 {
        return;
    }
    let before = server.scrapes();
    let deadline = Instant::now() + grace;
    while server.scrapes() == before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests;
