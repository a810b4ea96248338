//! What one query may cost: Prometheus's limits (samples in memory, points
//! per series of a range query, a timeout) and ours (nesting depth, the size
//! of a label value a function builds), and the per-query budget that
//! enforces them while the evaluator runs.
//!
//! Samples are counted as Prometheus's engine counts `currentSamples`: every
//! sample a selector loads or a node produces is charged, and when a step of
//! a range query or subquery is done only the points it added to the result
//! stay charged (its temporaries are gone). A query that would hold more than
//! [`Limits::max_samples`] fails with Prometheus's own words.

use std::cell::Cell;
use std::time::{Duration, Instant};

use super::Error;

/// Prometheus's `--query.max-samples` default.
pub(crate) const MAX_SAMPLES: usize = 50_000_000;
/// Prometheus's API limit: "exceeded maximum resolution of 11,000 points per
/// timeseries".
pub(crate) const MAX_POINTS_PER_SERIES: i64 = 11_000;
/// Prometheus's `--query.timeout` default.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(120);
/// Nesting of brackets and chained operators an expression may have (see
/// [`super::depth`]); far beyond any hand-written rule, far below the depth
/// at which the parser or the evaluator would overflow a 2 MiB thread stack.
pub(crate) const MAX_DEPTH: usize = 256;
/// The longest label value `label_join` or `label_replace` may build.
/// Prometheus has no such limit; without one, nested calls doubling a label
/// grow it exponentially (30 levels: 5 GB).
pub(crate) const MAX_LABEL_VALUE_BYTES: usize = 64 * 1024;

/// The limits of one query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_samples: usize,
    pub max_points_per_series: i64,
    pub timeout: Duration,
    pub max_depth: usize,
    pub max_label_value_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_samples: MAX_SAMPLES,
            max_points_per_series: MAX_POINTS_PER_SERIES,
            timeout: TIMEOUT,
            max_depth: MAX_DEPTH,
            max_label_value_bytes: MAX_LABEL_VALUE_BYTES,
        }
    }
}

/// How many evaluation steps pass between two looks at the clock.
const CLOCK_EVERY: u32 = 256;

/// The running account of one query against its limits.
#[derive(Debug)]
pub(super) struct Budget {
    pub(super) limits: Limits,
    samples: Cell<usize>,
    depth: Cell<usize>,
    ticks: Cell<u32>,
    deadline: Cell<Option<Instant>>,
}

impl Budget {
    pub(super) fn new(limits: Limits) -> Budget {
        Budget {
            limits,
            samples: Cell::new(0),
            depth: Cell::new(0),
            ticks: Cell::new(0),
            deadline: Cell::new(None),
        }
    }

    /// Starts a query: nothing charged, the clock running.
    pub(super) fn start(&self) {
        self.samples.set(0);
        self.depth.set(0);
        self.ticks.set(0);
        self.deadline
            .set(Instant::now().checked_add(self.limits.timeout));
    }

    /// Entering a node of the expression: one level deeper, one step more.
    pub(super) fn enter(&self) -> Result<(), Error> {
        let depth = self.depth.get() + 1;
        if depth > self.limits.max_depth {
            return Err(Error::TooDeep {
                limit: self.limits.max_depth,
                line: 0,
                column: 0,
            });
        }
        self.depth.set(depth);
        self.tick()
    }

    pub(super) fn leave(&self) {
        self.depth.set(self.depth.get().saturating_sub(1));
    }

    /// One unit of work; every [`CLOCK_EVERY`] of them the deadline is read.
    pub(super) fn tick(&self) -> Result<(), Error> {
        let ticks = self.ticks.get().wrapping_add(1);
        self.ticks.set(ticks);
        if ticks.is_multiple_of(CLOCK_EVERY)
            && let Some(deadline) = self.deadline.get()
            && Instant::now() >= deadline
        {
            return Err(Error::Timeout {
                limit: self.limits.timeout,
            });
        }
        Ok(())
    }

    pub(super) fn samples(&self) -> usize {
        self.samples.get()
    }

    /// `n` more samples in memory.
    pub(super) fn charge(&self, n: usize) -> Result<(), Error> {
        self.set(self.samples.get().saturating_add(n))
    }

    /// Exactly `n` samples in memory (what is left when a step is done).
    pub(super) fn set(&self, n: usize) -> Result<(), Error> {
        self.samples.set(n);
        if n > self.limits.max_samples {
            return Err(Error::TooManySamples {
                limit: self.limits.max_samples,
            });
        }
        Ok(())
    }

    /// Refuses a range query of more than the points limit per series, as
    /// Prometheus's API does: `(end - start) / step > limit`.
    pub(super) fn check_points(&self, start: i64, end: i64, step: i64) -> Result<(), Error> {
        let points = (end as i128 - start as i128) / step.max(1) as i128;
        if points > self.limits.max_points_per_series as i128 {
            return Err(Error::TooManyPoints {
                points: points.min(i64::MAX as i128) as i64,
                limit: self.limits.max_points_per_series,
            });
        }
        Ok(())
    }

    /// Refuses a subquery with more steps than the query may hold samples:
    /// each step is one evaluation, and Prometheus fails such a subquery once
    /// its steps have produced `max_samples` samples (or at its timeout, when
    /// they produce none), so we fail it before the first step.
    pub(super) fn check_subquery_steps(&self, steps: i128) -> Result<(), Error> {
        if steps > self.limits.max_samples as i128 {
            return Err(Error::SubqueryTooLong {
                steps: steps.min(i64::MAX as i128) as i64,
                limit: self.limits.max_samples,
            });
        }
        Ok(())
    }

    /// Refuses a label value longer than the limit that a function would build.
    pub(super) fn check_label_value(&self, function: &str, bytes: usize) -> Result<(), Error> {
        if bytes > self.limits.max_label_value_bytes {
            return Err(Error::LabelTooLong {
                function: function.to_string(),
                bytes,
                limit: self.limits.max_label_value_bytes,
            });
        }
        Ok(())
    }
}
