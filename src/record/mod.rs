//! Measurements: the [`RequestSample`] of one request, the per-worker [`Recorder`],
//! mergeable [`Stats`], a `steps:` phase's [`StepSums`], the per-second
//! [`Timeline`], and the merged [`RunResults`] every report reads.

mod merge;
mod outcome;
mod packed;
mod recorder;
mod sample;
mod stats;
mod steps;
mod timeline;

use std::time::{Duration, SystemTime};

pub use outcome::{ErrorKind, Outcome};
pub use packed::Packed;
pub use recorder::{Flush, Progress, Recorder};
pub use sample::RequestSample;
pub use stats::{LATE_THRESHOLD, Stats, SuccessTable, latency_histogram, success_table};
pub use steps::{StepSum, StepSums, StepTotals};
pub use timeline::{Bucketed, RowBuckets, Second, Timeline, TimelineRow};

use crate::units::Rate;

/// Everything a finished (or interrupted) run measured.
#[derive(Debug, Clone)]
pub struct RunResults {
    /// Names of the endpoints, in index order.
    pub endpoint_names: Vec<String>,
    /// Where each endpoint goes (`scheme://host:port`), in index order; an
    /// empty string when unknown (a summary saved before origins were).
    pub endpoint_origins: Vec<String>,
    /// Totals per endpoint.
    pub per_endpoint: Vec<Stats>,
    /// Totals over all endpoints.
    pub total: Stats,
    /// Per second × endpoint.
    pub timeline: Vec<TimelineRow>,
    /// Wall-clock time the run started.
    pub started_at: SystemTime,
    /// From the start until the last request ended (or the run was stopped).
    pub elapsed: Duration,
    /// The most connections any phase used.
    pub connections: usize,
    /// The first phase's schedule and how well it was kept (the whole story
    /// for `hit`, which has one phase); None for the closed model.
    pub open: Option<OpenModelStats>,
    /// True when a signal stopped the run early.
    pub interrupted: bool,
    /// Why an abort condition stopped the run, if one did.
    pub aborted: Option<String>,
    /// Each phase that ran (or began), in order.
    pub phases: Vec<PhaseResults>,
    /// Each flow of the plan: its iterations over the run.
    pub flows: Vec<FlowResults>,
    /// Each check of a flow's step over the run, in the plan's order.
    pub checks: Vec<CheckResults>,
}

/// A flow's iterations: one sample each, from the first step's due time to
/// the end of the step that ended it; failed as that step failed.
#[derive(Debug, Clone)]
pub struct FlowResults {
    pub name: String,
    /// `before` or `after` for a flow run once around the phases.
    pub around: Option<String>,
    pub totals: FlowTotals,
}

/// A flow's iterations: their timing and outcomes, and how many failed
/// (a step failed and ended the iteration, or a step that goes on did).
#[derive(Debug, Clone, Default)]
pub struct FlowTotals {
    pub iterations: Stats,
    pub failed: u64,
    /// Virtual users' setups run, and of them failed (an iteration that
    /// did not run: counted failed in `failed` too).
    pub setups: u64,
    pub setups_failed: u64,
}

impl FlowTotals {
    /// Adds everything in `other`.
    pub fn merge(&mut self, other: &FlowTotals) {
        self.iterations.merge(&other.iterations);
        self.failed += other.failed;
        self.setups += other.setups;
        self.setups_failed += other.setups_failed;
    }
}

/// How often one check of one step passed and failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResults {
    pub flow: String,
    /// The step's request name (`FLOW/STEP`).
    pub step: String,
    pub name: String,
    pub passed: u64,
    pub failed: u64,
}

/// What one phase measured, packed: a run keeps every phase's results
/// until its reports are written, and phases may be many.
#[derive(Debug, Clone)]
pub struct PhaseResults {
    pub name: String,
    /// Totals per endpoint.
    pub per_endpoint: Vec<Packed>,
    /// Totals over all endpoints.
    pub total: Packed,
    /// When the phase began, from the start of the run.
    pub start_offset: Duration,
    /// How long it lasted (until its last request ended).
    pub elapsed: Duration,
    /// The duration the scenario gave it, if it gave one.
    pub scheduled: Option<Duration>,
    /// True when an abort or a signal ended it before its own end.
    pub cut_short: bool,
    pub connections: usize,
    /// Closed model: the think time as a person writes it (`100ms`,
    /// `50ms..150ms`, `exp(mean 100ms)`); None without a pause.
    pub think: Option<String>,
    pub open: Option<OpenModelStats>,
    /// Each step of a schedule of several (`steps:`) that began before the
    /// phase ended; empty for one rate, a ramp or the closed model.
    pub steps: Vec<StepResults>,
}

/// One step of a phase's schedule: the requests due in it (whenever they
/// ended), so its latency and failures are its own, from its own histogram.
#[derive(Debug, Clone)]
pub struct StepResults {
    /// When the step began, from the start of its phase.
    pub start: Duration,
    /// How long the schedule gives it.
    pub scheduled: Duration,
    /// The rate asked for at its start and at its end (equal but for a ramp).
    pub from: Rate,
    pub to: Rate,
    /// Its requests over all endpoints.
    pub total: Packed,
    /// Of which failed: no response, or a status the request does not
    /// expect (as the phase's failures).
    pub failed: u64,
    /// What the schedule made due in it and what of that was dropped;
    /// None in a summary written before slogate reported them.
    pub schedule: Option<StepSchedule>,
}

/// How a step kept its share of the phase's schedule: over the steps,
/// these add up to the phase's own `due` and `dropped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StepSchedule {
    /// Requests the schedule made due within the step's span (as much of
    /// it as the phase sent for), capped by the phase's `requests:`.
    pub due: u64,
    /// Of which never started.
    pub dropped: u64,
    /// The phase's `requests:` cap was reached before the step's end: of
    /// what the rate made due, only `due` (perhaps 0) counted.
    pub past_cap: bool,
}

impl StepResults {
    /// The time this step's throughput is measured over: its scheduled
    /// duration, or as much of it as `phase` lasted when it ended early.
    pub fn window(&self, phase: &PhaseResults) -> Window {
        let ran = phase.elapsed.saturating_sub(self.start);
        Window {
            elapsed: ran.min(self.scheduled),
            scheduled: Some(self.scheduled),
            cut_short: phase.cut_short && ran < self.scheduled,
        }
    }

    /// Requests due in the step that ended, per second over its
    /// [`Window`] (0 when it is too short to say).
    pub fn achieved_rate(&self, phase: &PhaseResults) -> f64 {
        self.window(phase).rate(self.total.requests).unwrap_or(0.0)
    }
}

impl PhaseResults {
    /// The time this phase's throughput is measured over.
    pub fn window(&self) -> Window {
        Window {
            elapsed: self.elapsed,
            scheduled: self.scheduled,
            cut_short: self.cut_short,
        }
    }

    /// Requests per second that ended, over the phase's [`Window`] (0 when
    /// it is too short to say).
    pub fn achieved_rate(&self) -> f64 {
        self.window().rate(self.total.requests).unwrap_or(0.0)
    }
}

/// The time a throughput is measured over. Requests are divided by the
/// scheduled duration of a phase that ran its course (not by the span
/// between its first and last request, which one request makes tiny), by
/// the elapsed time of a phase without one (`requests: N`) or of one cut
/// short; a phase cut short within its first second is too little to judge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub elapsed: Duration,
    pub scheduled: Option<Duration>,
    pub cut_short: bool,
}

impl Window {
    /// Less than this of a phase cut short is no throughput at all.
    pub const MIN_CUT_SHORT: Duration = Duration::from_secs(1);

    /// The seconds requests are divided by; None when there is too little.
    pub fn seconds(&self) -> Option<f64> {
        let span = match self.scheduled {
            // A count-bound phase may end before its duration: what it took.
            Some(scheduled) if !self.cut_short && self.elapsed >= scheduled => scheduled,
            _ if self.cut_short && self.elapsed < Self::MIN_CUT_SHORT => return None,
            _ => self.elapsed,
        };
        let secs = span.as_secs_f64();
        (secs > 0.0).then_some(secs)
    }

    /// `requests` per second over the window; None when there is too little.
    pub fn rate(&self, requests: u64) -> Option<f64> {
        self.seconds().map(|secs| requests as f64 / secs)
    }
}

/// How the open model kept its schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenModelStats {
    /// The rate asked for (the mean over the run for a changing schedule).
    pub target_rate: Rate,
    /// Requests due while the run lasted.
    pub due: u64,
    /// Requests sent.
    pub started: u64,
    /// Requests due but never sent because no connection was free before the end.
    pub dropped: u64,
}

impl RunResults {
    /// The time the run's throughput is measured over: all of it, marked
    /// cut short when an abort or a signal ended it.
    pub fn window(&self) -> Window {
        Window {
            elapsed: self.elapsed,
            scheduled: None,
            cut_short: self.aborted.is_some() || self.interrupted,
        }
    }

    /// Requests per second that ended, over the run's [`Window`].
    pub fn achieved_rate(&self) -> f64 {
        self.window().rate(self.total.requests).unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Window;
    use std::time::Duration;

    fn window(elapsed_ms: u64, scheduled_s: Option<u64>, cut_short: bool) -> Window {
        Window {
            elapsed: Duration::from_millis(elapsed_ms),
            scheduled: scheduled_s.map(Duration::from_secs),
            cut_short,
        }
    }

    #[test]
    fn throughput_is_over_the_scheduled_duration() {
        // A 10 s phase whose last request ended at 10.2 s: over 10 s.
        assert_eq!(window(10_200, Some(10), false).rate(1000), Some(100.0));
        // A count-bound phase that finished early: over what it took.
        assert_eq!(window(2_000, Some(10), false).rate(100), Some(50.0));
        assert_eq!(window(500, None, false).rate(100), Some(200.0));
        // Cut short after 4 s: over the 4 s it ran.
        assert_eq!(window(4_000, Some(10), true).rate(100), Some(25.0));
    }

    #[test]
    fn a_phase_cut_short_at_once_has_no_throughput() {
        // One request 0.6 ms into an aborted phase is not 1,671/s.
        assert_eq!(window(0, Some(10), true).rate(1), None);
        assert_eq!(window(999, Some(10), true).rate(1), None);
        assert_eq!(window(0, None, false).rate(1), None);
    }
}
