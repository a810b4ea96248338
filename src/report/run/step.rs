//! One step of a `steps:` phase as the reports show it (`summary.json`'s
//! `steps`, a row under the phase in every format), and the words a step
//! is named with.

use serde::Serialize;

use super::model::Measured;
use crate::record::{PhaseResults, StepResults};

/// One step of a phase's schedule: the requests due in it, whenever they
/// ended, measured on their own (their own histograms, not the timeline's).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StepReport {
    /// Seconds from the start of the run (as the phase's `start_s`).
    pub start_s: f64,
    /// How long the schedule gives the step.
    pub scheduled_s: f64,
    /// The rate asked for at the step's start, and at its end (the same
    /// but for a ramp).
    pub target_rate: f64,
    pub target_rate_end: f64,
    /// Requests due in the step that ended, over its scheduled duration
    /// (over what ran of it when the phase was cut short).
    pub requests_per_second: f64,
    /// The phase ended (an abort or a signal) before the step's end.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cut_short: bool,
    /// Requests the schedule made due in the step (capped by the phase's
    /// `requests:`); these add up to the phase's schedule's `due`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<u64>,
    /// Of which never started; these add up to the phase's `dropped`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped: Option<u64>,
    /// The phase's `requests:` cap was reached before the step's end.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub past_cap: bool,
    #[serde(flatten)]
    pub measured: Measured,
}

impl StepReport {
    /// `step` of `phase`, as the reports show it.
    pub(crate) fn of(phase: &PhaseResults, step: &StepResults) -> StepReport {
        StepReport {
            start_s: (phase.start_offset + step.start).as_secs_f64(),
            scheduled_s: step.scheduled.as_secs_f64(),
            target_rate: step.from.as_per_second(),
            target_rate_end: step.to.as_per_second(),
            requests_per_second: step.achieved_rate(phase),
            cut_short: step.window(phase).cut_short,
            due: step.schedule.map(|s| s.due),
            dropped: step.schedule.map(|s| s.dropped),
            past_cap: step.schedule.is_some_and(|s| s.past_cap),
            measured: Measured::of(&step.total.unpack(), step.failed),
        }
    }

    /// `10/s` or, for a ramp, `10/s→50/s`.
    pub(crate) fn target_text(&self) -> String {
        target(self.target_rate, self.target_rate_end)
    }

    /// What the row adds of the schedule: `  (not reached: requests cap)`,
    /// `  (cut short)`, `  (12 dropped)`; empty when all was sent.
    pub(crate) fn notes(&self) -> String {
        notes(self.cut_short, self.due, self.dropped, self.past_cap)
    }

    /// `step 2 (10s)`: its place in the phase, from 1, and its length.
    pub(crate) fn label(&self, index: usize) -> String {
        label(index, self.scheduled_s)
    }
}

/// A step's target rate: `10/s` or, for a ramp, `10/s→50/s`.
pub(crate) fn target(from: f64, to: f64) -> String {
    let rate = |r: f64| format!("{}/s", crate::units::format_significant(r));
    if from == to {
        rate(from)
    } else {
        format!("{}→{}", rate(from), rate(to))
    }
}

/// A step's notes (see [`StepReport::notes`]), each `  (…)`.
pub(crate) fn notes(
    cut_short: bool,
    due: Option<u64>,
    dropped: Option<u64>,
    past_cap: bool,
) -> String {
    let mut out = String::new();
    if past_cap && due == Some(0) {
        out.push_str("  (not reached: the phase's requests cap)");
    } else if past_cap {
        out.push_str("  (the phase's requests cap reached in it)");
    }
    if cut_short {
        out.push_str("  (cut short)");
    }
    if let Some(dropped) = dropped.filter(|d| *d > 0) {
        out.push_str(&format!("  ({dropped} dropped)"));
    }
    out
}

/// `step 2 (10s)`: the step at `index` (from 0) and its length.
pub(crate) fn label(index: usize, scheduled_s: f64) -> String {
    format!(
        "step {} ({}s)",
        index + 1,
        crate::units::format_significant(scheduled_s)
    )
}
