//! What a phase measured beyond its totals, from its pacer: how an open-model
//! phase kept its schedule, and a `steps:` phase's steps from the workers'
//! totals of them.

use std::time::{Duration, Instant};

use super::pacer::Pacer;
use crate::plan::{Arrivals, Model, PhasePlan};
use crate::record::{OpenModelStats, Packed, StepResults, StepSchedule, StepSums};

/// How an open-model phase kept to its schedule over `[phase_start, end)`.
pub(super) fn open_model_stats(
    phase: &PhasePlan,
    pacer: &Pacer,
    phase_start: Instant,
    end: Instant,
    started: u64,
) -> Option<OpenModelStats> {
    let Model::Open(_) = phase.model else {
        return None;
    };
    let arrivals = pacer.arrivals()?;
    let span = sending_span(pacer, arrivals, phase_start, end);
    let mut due = arrivals.due_before(span);
    if let Some(max) = phase.max_requests {
        due = due.min(max);
    }
    Some(OpenModelStats {
        target_rate: arrivals.mean_rate()?,
        due,
        started,
        dropped: due.saturating_sub(started),
    })
}

/// How much of the schedule the phase sent for: from its start until its
/// last request was due, or until it was stopped.
fn sending_span(
    pacer: &Pacer,
    arrivals: &Arrivals,
    phase_start: Instant,
    end: Instant,
) -> Duration {
    let sending_ended = pacer.deadline().map_or(end, |deadline| deadline.min(end));
    sending_ended
        .saturating_duration_since(phase_start)
        .min(arrivals.duration())
}

/// The phase's steps over `[phase_start, end)`, from the workers' totals
/// of them added up: those that began before its end or have requests.
/// Each step's `due` is the schedule's within the step and the phase's
/// sending span, capped as the phase's own is, so the steps' `due` and
/// `dropped` add up to the phase's.
pub(super) fn step_results(
    phase: &PhasePlan,
    pacer: &Pacer,
    sums: &StepSums,
    phase_start: Instant,
    end: Instant,
) -> Vec<StepResults> {
    let Some(arrivals) = pacer.arrivals() else {
        return Vec::new();
    };
    let segments = arrivals.segments();
    if segments.len() < 2 {
        return Vec::new();
    }
    let elapsed = end.saturating_duration_since(phase_start);
    let span = sending_span(pacer, arrivals, phase_start, end);
    let cap = phase.max_requests.unwrap_or(u64::MAX);
    let starts = std::iter::once(Duration::ZERO).chain(arrivals.boundaries());
    segments
        .iter()
        .zip(starts)
        .enumerate()
        .filter_map(|(index, (segment, start))| {
            let sum = sums.get(index);
            if start >= elapsed && sum.is_none() {
                return None;
            }
            // Due before the step's start and before its end (within the
            // span), uncapped and capped.
            let before = |t: Duration| arrivals.due_before(t.min(span));
            let (first, last) = (before(start), before(start + segment.duration));
            let due = last.min(cap) - first.min(cap);
            let started = sum.map_or(0, |s| s.started);
            let schedule = StepSchedule {
                due,
                dropped: due.saturating_sub(started),
                past_cap: last > cap,
            };
            Some(StepResults {
                start,
                scheduled: segment.duration,
                from: segment.from,
                to: segment.to,
                total: sum.map_or_else(Packed::default, |s| s.total.clone()),
                failed: sum.map_or(0, |s| s.failed),
                schedule: Some(schedule),
            })
        })
        .collect()
}
