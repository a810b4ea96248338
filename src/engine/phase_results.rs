//! What a phase measured beyond its totals, from its pacer: how an open-model
//! phase kept its schedule, and a `steps:` phase's steps from the workers'
//! totals of them.

use std::time::{Duration, Instant};

use super::pacer::Pacer;
use crate::plan::{Model, PhasePlan};
use crate::record::{OpenModelStats, Packed, StepResults, StepSums};

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
    let sending_ended = pacer.deadline().map_or(end, |deadline| deadline.min(end));
    let span = sending_ended
        .saturating_duration_since(phase_start)
        .min(arrivals.duration());
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

/// The phase's steps, from the workers' totals of them added up: those
/// that began within its `elapsed` or have requests.
pub(super) fn step_results(pacer: &Pacer, sums: &StepSums, elapsed: Duration) -> Vec<StepResults> {
    let Some(arrivals) = pacer.arrivals() else {
        return Vec::new();
    };
    let segments = arrivals.segments();
    if segments.len() < 2 {
        return Vec::new();
    }
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
            Some(StepResults {
                start,
                scheduled: segment.duration,
                from: segment.from,
                to: segment.to,
                total: sum.map_or_else(Packed::default, |s| s.total.clone()),
                failed: sum.map_or(0, |s| s.failed),
            })
        })
        .collect()
}
