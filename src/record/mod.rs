//! Measurements: the [`Sample`] of one request, the per-worker [`Recorder`],
//! mergeable [`Stats`], the per-second [`Timeline`], and the merged
//! [`RunResults`] every report reads.

mod outcome;
mod recorder;
mod sample;
mod stats;
mod timeline;

use std::time::{Duration, SystemTime};

pub use outcome::{ErrorKind, Outcome};
pub use recorder::{Flush, Progress, Recorder};
pub use sample::Sample;
pub use stats::{LATE_THRESHOLD, Stats, SuccessTable, latency_histogram, success_table};
pub use timeline::{Second, Timeline, TimelineRow};

use crate::units::Rate;

/// Everything a finished (or interrupted) run measured.
#[derive(Debug, Clone)]
pub struct RunResults {
    /// Names of the endpoints, in index order.
    pub endpoint_names: Vec<String>,
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
}

/// What one phase measured.
#[derive(Debug, Clone)]
pub struct PhaseResults {
    pub name: String,
    /// Totals per endpoint.
    pub per_endpoint: Vec<Stats>,
    /// Totals over all endpoints.
    pub total: Stats,
    /// When the phase began, from the start of the run.
    pub start_offset: Duration,
    /// How long it lasted (until its last request ended).
    pub elapsed: Duration,
    pub connections: usize,
    pub open: Option<OpenModelStats>,
}

impl PhaseResults {
    /// Requests per second that ended, over the phase.
    pub fn achieved_rate(&self) -> f64 {
        rate(self.total.requests, self.elapsed)
    }
}

fn rate(requests: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        requests as f64 / secs
    } else {
        0.0
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
    /// Requests per second that ended, over the elapsed time.
    pub fn achieved_rate(&self) -> f64 {
        rate(self.total.requests, self.elapsed)
    }
}
