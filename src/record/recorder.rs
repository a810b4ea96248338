//! The per-worker recorder. Each worker thread owns one; recording a sample is
//! a few array increments and two histogram records, with no lock, channel
//! message or allocation. Once a second the finished bucket is handed to the
//! collector over a channel: that is the "merge on an interval". A phase of
//! several steps also records into its step's totals ([`super::steps`]),
//! allocated when a step's first request ends and handed over, as a
//! second's bucket is, once its last has.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use tokio::sync::mpsc::UnboundedSender;

use super::steps::{StepTotals, Steps};
use super::timeline::Second;
use super::{FlowTotals, Outcome, RequestSample, Stats, SuccessTable};

/// What a worker tells the collector.
#[derive(Debug)]
pub enum Flush {
    /// The worker's buckets for `second`; it is done with every second before
    /// `closed_through`.
    Second {
        worker: usize,
        second: u64,
        buckets: Vec<Second>,
        closed_through: u64,
    },
    /// The worker's totals of one step of the phase, whose requests have
    /// all ended (sent before its `PhaseDone`).
    Step(Box<StepTotals>),
    /// The worker has finished a phase; these are its totals per endpoint,
    /// per flow (its iterations) and per check (passed, failed).
    PhaseDone {
        worker: usize,
        phase: usize,
        totals: Vec<Stats>,
        flows: Vec<FlowTotals>,
        checks: Vec<[u64; 2]>,
        started: u64,
    },
}

/// Counters a worker publishes for the live display; read-only for everyone
/// else. Aligned so two workers never share a cache line.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct Progress {
    /// Requests ended.
    pub requests: AtomicU64,
    /// Of which failed (no response, or status >= 400).
    pub failed: AtomicU64,
    /// Requests sent over the whole run (flows' steps one by one).
    pub started: AtomicU64,
    /// What the schedule handed out and was sent, over the whole run: a
    /// request, or a flow's iteration.
    pub tickets: AtomicU64,
}

/// One worker's recorder.
pub struct Recorder {
    worker: usize,
    run_start: Instant,
    totals: Vec<Stats>,
    /// Per flow, its iterations: from the first step's due time to the
    /// last step's end, failed as the step that ended it failed.
    flows: Vec<FlowTotals>,
    /// Per check of a flow's step: passed, failed.
    checks: Vec<[u64; 2]>,
    /// The current phase's steps, when its schedule has several.
    steps: Option<Steps>,
    current: Vec<Second>,
    current_second: u64,
    requests: u64,
    failed: u64,
    started: u64,
    /// Requests sent over the whole run, flows' steps one by one
    /// (`started` counts the phase's tickets).
    sent: u64,
    /// Tickets started over the whole run.
    tickets: u64,
    progress: Arc<Progress>,
    flush: UnboundedSender<Flush>,
    /// Per endpoint, which statuses succeed.
    success: Arc<Vec<SuccessTable>>,
}

impl Recorder {
    /// A recorder for endpoints that succeed as `success` says, with the
    /// run's common start time.
    pub fn new(
        worker: usize,
        success: Arc<Vec<SuccessTable>>,
        (flows, checks): (usize, usize),
        run_start: Instant,
        progress: Arc<Progress>,
        flush: UnboundedSender<Flush>,
    ) -> Recorder {
        let endpoints = success.len();
        Recorder {
            worker,
            run_start,
            totals: vec![Stats::default(); endpoints],
            flows: vec![FlowTotals::default(); flows],
            checks: vec![[0; 2]; checks],
            steps: None,
            current: vec![Second::default(); endpoints],
            current_second: 0,
            requests: 0,
            failed: 0,
            started: 0,
            sent: 0,
            tickets: 0,
            progress,
            flush,
            success,
        }
    }

    /// Starts a phase whose steps begin at `boundaries` (after the first;
    /// empty: one step, nothing kept per step).
    pub fn start_phase(&mut self, boundaries: Arc<[Instant]>) {
        self.steps = (!boundaries.is_empty()).then(|| Steps::new(boundaries));
    }

    /// Notes that a request due at `due` was claimed, for a phase of
    /// several steps (its step is not over until the request is recorded).
    pub fn note_claimed(&mut self, due: Instant) {
        if let Some(steps) = &mut self.steps {
            steps.claimed(due, &mut hand_over(&self.flush));
        }
    }

    /// Notes that a request due at `due` (None: the closed model) is
    /// being sent, for the dropped-request count, its step's too.
    pub fn note_started(&mut self, due: Option<Instant>) {
        self.started += 1;
        self.tickets += 1;
        self.progress.tickets.store(self.tickets, Ordering::Relaxed);
        if let (Some(steps), Some(due)) = (&mut self.steps, due) {
            steps.started(due);
        }
    }

    /// Notes that a request (a flow's step too) goes on the wire now, for
    /// the requests in flight.
    pub fn note_sent(&mut self) {
        self.sent += 1;
        self.progress.started.store(self.sent, Ordering::Relaxed);
    }

    /// Adds one finished request.
    pub fn record(&mut self, sample: &RequestSample) {
        let second = sample
            .ended
            .saturating_duration_since(self.run_start)
            .as_secs();
        if second != self.current_second {
            self.rotate(second);
        }
        let ok = self.succeeds(sample);
        self.totals[sample.endpoint].record(sample);
        if let Some(steps) = &mut self.steps {
            steps.record(sample, ok, &mut hand_over(&self.flush));
        }
        self.current[sample.endpoint].record(sample, ok);
        self.requests += 1;
        if !ok {
            self.failed += 1;
        }
        self.progress
            .requests
            .store(self.requests, Ordering::Relaxed);
        self.progress.failed.store(self.failed, Ordering::Relaxed);
    }

    /// Whether `sample`'s response is a success for its endpoint.
    pub fn succeeds(&self, sample: &RequestSample) -> bool {
        match sample.outcome {
            Outcome::Response { status } => {
                self.success[sample.endpoint][usize::from(status).min(999)]
            }
            Outcome::Error(_) => false,
        }
    }

    /// Counts one evaluation of check `check` (an index into the plan's).
    pub fn record_check(&mut self, check: usize, passed: bool) {
        if let Some(counts) = self.checks.get_mut(check) {
            counts[usize::from(!passed)] += 1;
        }
    }

    /// Adds one iteration of flow `flow`: `sample` spans it (its
    /// `endpoint` is the flow's index; its outcome the first failed
    /// step's, or the last step's); `failed` when a step failed.
    pub fn record_iteration(&mut self, flow: usize, sample: &RequestSample, failed: bool) {
        if let Some(totals) = self.flows.get_mut(flow) {
            totals.iterations.record(sample);
            totals.failed += u64::from(failed);
        }
    }

    /// Counts one virtual user's setup of flow `flow`, `ok` or not.
    pub fn record_setup(&mut self, flow: usize, ok: bool) {
        if let Some(totals) = self.flows.get_mut(flow) {
            totals.setups += 1;
            totals.setups_failed += u64::from(!ok);
        }
    }

    /// Hands over the current bucket if the clock has moved past its second,
    /// so idle workers do not hold back the timeline.
    pub fn tick(&mut self, now: Instant) {
        let second = now.saturating_duration_since(self.run_start).as_secs();
        if second > self.current_second {
            self.rotate(second);
        }
    }

    fn rotate(&mut self, second: u64) {
        let fresh = vec![Second::default(); self.current.len()];
        let buckets = std::mem::replace(&mut self.current, fresh);
        let finished = self.current_second;
        self.current_second = second;
        // A send only fails when the collector is gone, i.e. the run is over.
        let _ = self.flush.send(Flush::Second {
            worker: self.worker,
            second: finished,
            buckets,
            closed_through: second,
        });
    }

    /// Hands over the phase's totals and starts counting the next phase.
    pub fn phase_done(&mut self, phase: usize) {
        if let Some(steps) = self.steps.take() {
            steps.finish(&mut hand_over(&self.flush));
        }
        let fresh = vec![Stats::default(); self.totals.len()];
        let fresh_flows = vec![FlowTotals::default(); self.flows.len()];
        let fresh_checks = vec![[0; 2]; self.checks.len()];
        let _ = self.flush.send(Flush::PhaseDone {
            worker: self.worker,
            phase,
            totals: std::mem::replace(&mut self.totals, fresh),
            flows: std::mem::replace(&mut self.flows, fresh_flows),
            checks: std::mem::replace(&mut self.checks, fresh_checks),
            started: std::mem::take(&mut self.started),
        });
    }

    /// Hands over the last bucket: the worker is done with the run.
    pub fn finish(&mut self) {
        self.rotate(u64::MAX);
    }
}

/// Sends a step's totals to the collector (a send fails only once the
/// collector is gone, i.e. the run is over).
fn hand_over(flush: &UnboundedSender<Flush>) -> impl FnMut(StepTotals) + '_ {
    |totals| {
        let _ = flush.send(Flush::Step(Box::new(totals)));
    }
}
