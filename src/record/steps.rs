//! Totals per step of a phase whose schedule has several (`steps:`): each
//! request counts in the step its *due* time falls in, the step the user
//! configured, whenever it ended; its latency is from that due time, as
//! everywhere.
//!
//! A live [`Stats`] is two full-range histograms (about 380 KB), so a
//! worker does not keep one per step for a phase of thousands of short
//! steps: it hands a step's totals to the collector as soon as none of its
//! requests can still arrive, as it hands over each second's bucket, and
//! the collector adds them up packed ([`StepSums`]). Requests are claimed
//! in due order, so once a worker has claimed a request of a later step it
//! claims none of an earlier one; an earlier step with nothing in flight is
//! done. Live on a worker at once are the steps with requests in flight:
//! one or two while the service keeps up.

use std::sync::Arc;
use std::time::Instant;

use super::{Packed, RequestSample, Stats};

/// A worker's requests of one step, handed to the collector.
#[derive(Debug)]
pub struct StepTotals {
    /// Which step of the phase, from 0.
    pub step: usize,
    pub stats: Stats,
    /// Of which failed: no response, or a status the request does not
    /// expect (the phase's `failed`, as its endpoints' tables say).
    pub failed: u64,
    /// Requests of the step this worker began sending (the phase's
    /// `started`, per step: what was due and not started was dropped).
    pub started: u64,
}

/// A step being recorded.
#[derive(Default)]
struct Slot {
    /// Requests recorded since the step was last handed over.
    live: Option<Stats>,
    failed: u64,
    /// Started since the step was last handed over.
    started: u64,
    /// Claimed and not yet recorded.
    in_flight: u64,
}

impl Slot {
    /// What is live, to hand over (None when nothing is): requests
    /// recorded, or started and never recorded (the run stopped).
    fn take(&mut self, step: usize) -> Option<StepTotals> {
        if self.live.is_none() && self.started == 0 {
            return None;
        }
        Some(StepTotals {
            step,
            stats: self.live.take().unwrap_or_default(),
            failed: std::mem::take(&mut self.failed),
            started: std::mem::take(&mut self.started),
        })
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
    /// are; `done` takes their totals.
    pub(super) fn claimed(&mut self, due: Instant, done: &mut dyn FnMut(StepTotals)) {
        let step = self.step_of(due);
        self.slots[step].in_flight += 1;
        if step > self.claimed {
            for (index, slot) in self.slots[..step].iter_mut().enumerate().skip(self.claimed) {
                if slot.in_flight == 0
                    && let Some(totals) = slot.take(index)
                {
                    done(totals);
                }
            }
            self.claimed = step;
        }
    }

    /// A claimed request due at `due` is being sent.
    pub(super) fn started(&mut self, due: Instant) {
        let step = self.step_of(due);
        self.slots[step].started += 1;
    }

    /// Adds a finished request (`ok`: it succeeded); `done` takes its
    /// step's totals when it was the step's last.
    pub(super) fn record(
        &mut self,
        sample: &RequestSample,
        ok: bool,
        done: &mut dyn FnMut(StepTotals),
    ) {
        let step = self.step_of(sample.intended);
        let claimed = self.claimed;
        let slot = &mut self.slots[step];
        slot.live.get_or_insert_with(Stats::default).record(sample);
        if !ok {
            slot.failed += 1;
        }
        // A request recorded that was not claimed (never on the engine's
        // path) hands its step over again: the collector adds it.
        slot.in_flight = slot.in_flight.saturating_sub(1);
        if slot.in_flight == 0
            && step < claimed
            && let Some(totals) = slot.take(step)
        {
            done(totals);
        }
    }

    /// The phase is over: `done` takes every step's totals still held.
    pub(super) fn finish(mut self, done: &mut dyn FnMut(StepTotals)) {
        for (index, slot) in self.slots.iter_mut().enumerate() {
            if let Some(totals) = slot.take(index) {
                done(totals);
            }
        }
    }

    /// Steps whose totals are live on this worker, for tests of the bound.
    #[cfg(test)]
    fn live(&self) -> usize {
        self.slots.iter().filter(|s| s.live.is_some()).count()
    }
}

/// A step's totals over every worker, packed.
#[derive(Debug, Clone)]
pub struct StepSum {
    /// The step's requests, over all endpoints and workers.
    pub total: Packed,
    /// Of which failed.
    pub failed: u64,
    /// Requests of the step sent (recorded or not).
    pub started: u64,
}

/// The collector's sums of a phase's steps: each worker's totals of a step
/// added as they arrive, packed in between, so a phase of many steps holds
/// no full-size [`Stats`] per step.
#[derive(Debug, Default)]
pub struct StepSums {
    steps: Vec<Option<StepSum>>,
}

impl StepSums {
    /// Adds one worker's totals of a step.
    pub fn add(&mut self, totals: &StepTotals) {
        if self.steps.len() <= totals.step {
            self.steps.resize(totals.step + 1, None);
        }
        let sum = &mut self.steps[totals.step];
        *sum = Some(match sum.take() {
            None => StepSum {
                total: Packed::pack(&totals.stats),
                failed: totals.failed,
                started: totals.started,
            },
            // Only requests started: nothing to unpack.
            Some(mut earlier) if totals.stats.requests == 0 => {
                earlier.started += totals.started;
                earlier
            }
            Some(earlier) => {
                let mut stats = earlier.total.unpack();
                stats.merge(&totals.stats);
                StepSum {
                    total: Packed::pack(&stats),
                    failed: earlier.failed + totals.failed,
                    started: earlier.started + totals.started,
                }
            }
        });
    }

    /// Step `index`'s sum; None when no worker recorded a request of it.
    pub fn get(&self, index: usize) -> Option<&StepSum> {
        self.steps.get(index).and_then(Option::as_ref)
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
        let mut sums = StepSums::default();
        let mut done = |totals: StepTotals| sums.add(&totals);
        // Due in step 1, ended in step 2's time: step 1's, slow as it was.
        for (due, latency, status) in [
            (0, 2, 200),
            (900, 300, 200),
            (1000, 50, 503),
            (2500, 1, 200),
        ] {
            steps.claimed(at(due), &mut done);
            steps.record(&sample(at(due), latency, status), status < 400, &mut done);
        }
        steps.finish(&mut done);
        let stats: Vec<Stats> = (0..3)
            .map(|i| sums.get(i).unwrap().total.unpack())
            .collect();
        assert_eq!(
            stats.iter().map(|s| s.requests).collect::<Vec<_>>(),
            vec![2, 1, 1]
        );
        assert!(stats[0].latency_us.max() >= 300_000);
        assert_eq!(stats[1].statuses.iter().collect::<Vec<_>>(), vec![(503, 1)]);
        assert_eq!(
            (0..3)
                .map(|i| sums.get(i).unwrap().failed)
                .collect::<Vec<_>>(),
            vec![0, 1, 0]
        );
        assert!(sums.get(3).is_none());
    }

    #[test]
    fn a_step_is_handed_over_once_nothing_of_it_is_in_flight() {
        let start = Instant::now();
        let at = |s: u64| start + Duration::from_secs(s);
        let boundaries: Vec<Instant> = (1..1000).map(at).collect();
        let mut steps = Steps::new(boundaries.into());
        let mut handed = Vec::new();
        let mut done = |totals: StepTotals| handed.push((totals.step, totals.stats.requests));
        // 1000 one-second steps, two requests each, the first of a step
        // still in flight when the next step's first is claimed.
        for s in 0..1000 {
            steps.claimed(at(s), &mut done);
            if s > 0 {
                steps.record(&sample(at(s - 1), 1, 200), true, &mut done);
            }
            steps.claimed(at(s), &mut done);
            steps.record(&sample(at(s), 1, 200), true, &mut done);
            assert!(steps.live() <= 2, "step {s}: {} live", steps.live());
        }
        steps.record(&sample(at(999), 1, 200), true, &mut done);
        steps.finish(&mut done);
        // Each step once, whole, in order.
        assert_eq!(handed, (0..1000).map(|s| (s, 2)).collect::<Vec<_>>());
    }

    #[test]
    fn totals_handed_over_twice_or_by_two_workers_add_up() {
        let start = Instant::now();
        let mut steps = Steps::new(vec![start + Duration::from_secs(1)].into());
        let mut sums = StepSums::default();
        let mut done = |totals: StepTotals| sums.add(&totals);
        steps.claimed(start, &mut done);
        steps.record(&sample(start, 1, 200), true, &mut done);
        steps.claimed(start + Duration::from_secs(1), &mut done);
        // Not claimed: recorded after step 1 was handed over.
        steps.record(&sample(start, 7, 500), false, &mut done);
        steps.finish(&mut done);
        // And another worker's share of step 1.
        let mut other = Stats::default();
        other.record(&sample(start, 3, 200));
        sums.add(&StepTotals {
            step: 0,
            stats: other,
            failed: 0,
            started: 1,
        });
        let first = sums.get(0).unwrap();
        let stats = first.total.unpack();
        assert_eq!((stats.requests, first.failed), (3, 1));
        assert_eq!(stats.latency_us.len(), 3);
        assert_eq!(stats.latency_us.max() / 1000, 7);
    }

    #[test]
    fn requests_started_count_in_their_step_recorded_or_not() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut steps = Steps::new(vec![at(1000)].into());
        let mut sums = StepSums::default();
        let mut done = |totals: StepTotals| sums.add(&totals);
        // Step 1: two started, one recorded; step 2: one started, never
        // recorded (the run stopped with it in flight).
        for due in [0, 10] {
            steps.claimed(at(due), &mut done);
            steps.started(at(due));
        }
        steps.record(&sample(at(0), 1, 200), true, &mut done);
        steps.claimed(at(1500), &mut done);
        steps.started(at(1500));
        steps.finish(&mut done);
        let first = sums.get(0).unwrap();
        assert_eq!((first.started, first.total.requests), (2, 1));
        let second = sums
            .get(1)
            .expect("a step with only a start is handed over");
        assert_eq!((second.started, second.total.requests), (1, 0));
    }
}
