//! One worker's totals per step of a phase whose schedule has several
//! (`steps:`): each request counts in the step its *due* time falls in,
//! the step the user configured, whenever it ended; its latency is from
//! that due time, as everywhere.
//!
//! A live [`Stats`] is two full-range histograms (about 380 KB), so a
//! worker does not keep one per step for a phase of thousands of short
//! steps: a step's totals are packed as soon as none of its requests can
//! still arrive. Requests are claimed in due order, so once this worker
//! has claimed a request of a later step it claims none of an earlier one;
//! an earlier step with nothing in flight is done. Live at once are the
//! steps with requests in flight: one or two while the service keeps up.

use std::sync::Arc;
use std::time::Instant;

use super::{Packed, RequestSample, Stats};

/// What one worker measured of one step: the step's requests, packed.
#[derive(Debug, Clone, Default)]
pub struct StepTotals {
    pub total: Packed,
    /// Of which failed: no response, or a status the request does not
    /// expect (the phase's `failed`, as its endpoints' tables say).
    pub failed: u64,
}

/// A step being recorded.
#[derive(Default)]
struct Slot {
    /// Requests recorded since the last fold.
    live: Option<Stats>,
    failed: u64,
    /// Claimed and not yet recorded.
    in_flight: u64,
    /// What earlier folds packed.
    packed: Option<Packed>,
}

impl Slot {
    /// Packs what is live into `packed`.
    fn fold(&mut self) {
        let Some(live) = self.live.take() else {
            return;
        };
        self.packed = Some(match self.packed.take() {
            None => Packed::pack(&live),
            // A request recorded after its step was packed: only when a
            // sample is recorded that was not claimed, never on the engine's
            // path; still counted.
            Some(earlier) => {
                let mut stats = earlier.unpack();
                stats.merge(&live);
                Packed::pack(&stats)
            }
        });
    }

    fn finish(mut self) -> StepTotals {
        self.fold();
        StepTotals {
            total: self.packed.unwrap_or_default(),
            failed: self.failed,
        }
    }
}

/// A worker's steps of the current phase.
pub(super) struct Steps {
    /// When each step after the first begins.
    boundaries: Arc<[Instant]>,
    slots: Vec<Slot>,
    /// The latest step this worker has claimed a request in.
    claimed: usize,
}

impl Steps {
    /// Steps split at `boundaries` (one more step than boundaries).
    pub(super) fn new(boundaries: Arc<[Instant]>) -> Steps {
        let slots = (0..=boundaries.len()).map(|_| Slot::default()).collect();
        Steps {
            boundaries,
            slots,
            claimed: 0,
        }
    }

    /// The step a request due at `due` belongs to.
    fn step_of(&self, due: Instant) -> usize {
        self.boundaries.partition_point(|start| *start <= due)
    }

    /// A request due at `due` has been claimed: its step is not done until
    /// it is recorded, and the steps before it that have nothing in flight
    /// are.
    pub(super) fn claimed(&mut self, due: Instant) {
        let step = self.step_of(due);
        self.slots[step].in_flight += 1;
        if step > self.claimed {
            for slot in &mut self.slots[self.claimed..step] {
                if slot.in_flight == 0 {
                    slot.fold();
                }
            }
            self.claimed = step;
        }
    }

    /// Adds a finished request (`ok`: it succeeded).
    pub(super) fn record(&mut self, sample: &RequestSample, ok: bool) {
        let step = self.step_of(sample.intended);
        let claimed = self.claimed;
        let slot = &mut self.slots[step];
        slot.live.get_or_insert_with(Stats::default).record(sample);
        if !ok {
            slot.failed += 1;
        }
        slot.in_flight = slot.in_flight.saturating_sub(1);
        if slot.in_flight == 0 && step < claimed {
            slot.fold();
        }
    }

    /// Every step's totals: the phase is over.
    pub(super) fn finish(self) -> Vec<StepTotals> {
        self.slots.into_iter().map(Slot::finish).collect()
    }

    /// Steps whose totals are live (not packed), for tests of the bound.
    #[cfg(test)]
    fn live(&self) -> usize {
        self.slots.iter().filter(|s| s.live.is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::record::Outcome;

    fn sample(due: Instant, latency_ms: u64, status: u16) -> RequestSample {
        RequestSample {
            endpoint: 0,
            intended: due,
            started: due,
            ended: due + Duration::from_millis(latency_ms),
            outcome: Outcome::Response { status },
            bytes_received: 0,
        }
    }

    #[test]
    fn a_request_counts_in_the_step_it_was_due_in() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut steps = Steps::new(vec![at(1000), at(2000)].into());
        // Due in step 1, ended in step 2's time: step 1's, slow as it was.
        for (due, latency, status) in [
            (0, 2, 200),
            (900, 300, 200),
            (1000, 50, 503),
            (2500, 1, 200),
        ] {
            steps.claimed(at(due));
            steps.record(&sample(at(due), latency, status), status < 400);
        }
        let totals = steps.finish();
        assert_eq!(totals.len(), 3);
        let stats: Vec<Stats> = totals.iter().map(|t| t.total.unpack()).collect();
        assert_eq!(
            stats.iter().map(|s| s.requests).collect::<Vec<_>>(),
            vec![2, 1, 1]
        );
        assert!(stats[0].latency_us.max() >= 300_000);
        assert_eq!(stats[1].statuses.iter().collect::<Vec<_>>(), vec![(503, 1)]);
        assert_eq!(
            totals.iter().map(|t| t.failed).collect::<Vec<_>>(),
            vec![0, 1, 0]
        );
    }

    #[test]
    fn a_step_is_packed_once_nothing_of_it_is_in_flight() {
        let start = Instant::now();
        let at = |s: u64| start + Duration::from_secs(s);
        let boundaries: Vec<Instant> = (1..1000).map(at).collect();
        let mut steps = Steps::new(boundaries.into());
        // 1000 one-second steps, two requests each, the first of a step
        // still in flight when the next step's first is claimed.
        for s in 0..1000 {
            steps.claimed(at(s));
            if s > 0 {
                steps.record(&sample(at(s - 1), 1, 200), true);
            }
            steps.claimed(at(s));
            steps.record(&sample(at(s), 1, 200), true);
            assert!(steps.live() <= 2, "step {s}: {} live", steps.live());
        }
        steps.record(&sample(at(999), 1, 200), true);
        let totals = steps.finish();
        assert!(totals.iter().all(|t| t.total.requests == 2));
    }

    #[test]
    fn a_late_sample_of_a_packed_step_still_counts() {
        let start = Instant::now();
        let mut steps = Steps::new(vec![start + Duration::from_secs(1)].into());
        steps.claimed(start);
        steps.record(&sample(start, 1, 200), true);
        steps.claimed(start + Duration::from_secs(1));
        // Not claimed: recorded after step 1 was packed.
        steps.record(&sample(start, 7, 500), false);
        let totals = steps.finish();
        let first = totals[0].total.unpack();
        assert_eq!((first.requests, totals[0].failed), (2, 1));
        assert_eq!(first.latency_us.len(), 2);
    }
}
