//! Arithmetic on native histograms as Prometheus does it
//! (`FloatHistogram.Add`, `Sub`, `Mul`, `Div`, `DetectReset`,
//! `ReduceResolution`): schemas reduced to the coarser one, zero buckets
//! widened to cover both, custom bounds intersected when they differ.

use super::{Bucket, FloatHistogram, Hint, bounds};

/// Histograms of exponential and custom buckets cannot be combined
/// (Prometheus's `ErrHistogramsIncompatibleSchema`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot apply this operation on histograms with a mix of exponential and custom bucket schemas"
)]
pub struct MixedSchemas;

/// What an addition or subtraction noticed, for the annotations
/// Prometheus gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Combined {
    /// One side said counter reset, the other not (the hint is now unknown).
    pub counter_reset_collision: bool,
    /// Custom bounds differed and were intersected.
    pub nhcb_bounds_reconciled: bool,
}

/// The bucket index in `target` (≤ `origin`) that bucket `index` falls in.
pub(crate) fn target_index(index: i32, origin: i32, target: i32) -> i32 {
    ((index - 1) >> (origin - target)) + 1
}

/// Buckets of schema `origin` merged into the coarser `target`.
pub fn reduce_resolution(buckets: &[Bucket], origin: i32, target: i32) -> Vec<Bucket> {
    if origin == target {
        return buckets.to_vec();
    }
    let mut out: Vec<Bucket> = Vec::with_capacity(buckets.len());
    for b in buckets {
        let index = target_index(b.index, origin, target);
        match out.last_mut() {
            Some(last) if last.index == index => last.count += b.count,
            _ => out.push(Bucket {
                index,
                count: b.count,
            }),
        }
    }
    out
}

/// Kahan's step, as Prometheus's `kahansum.Inc`: the new sum and
/// compensation.
pub fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// Adds (`negate`: subtracts) `b` into `a`, inserting buckets `a` lacks;
/// buckets of `b` at the start whose upper bound is within `threshold`
/// are left out (exponential schemas), as Prometheus's `addBuckets`.
fn add_buckets(
    schema: i32,
    threshold: f64,
    negate: bool,
    a: &[Bucket],
    b: &[Bucket],
) -> Vec<Bucket> {
    let exponential = schema != super::CUSTOM_BUCKETS_SCHEMA;
    let skip = if exponential {
        b.iter()
            .take_while(|x| bounds::exponential(x.index, schema) <= threshold)
            .count()
    } else {
        0
    };
    let b = &b[skip..];
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let take_a = j == b.len() || (i < a.len() && a[i].index < b[j].index);
        if take_a {
            out.push(a[i]);
            i += 1;
            continue;
        }
        let count = if negate { -b[j].count } else { b[j].count };
        if i < a.len() && a[i].index == b[j].index {
            out.push(Bucket {
                index: a[i].index,
                count: a[i].count + count,
            });
            i += 1;
        } else {
            out.push(Bucket {
                index: b[j].index,
                count,
            });
        }
        j += 1;
    }
    out
}

/// The bounds both lists hold, in order.
fn intersect_bounds(a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(a[i]);
            i += 1;
            j += 1;
        } else if a[i] < b[j] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// Adds custom-bucket histograms of different bounds by mapping both onto
/// the bounds they share (Prometheus's `addCustomBucketsWithMismatches`);
/// buckets that come out 0 are dropped.
fn add_mismatched_custom(
    negate: bool,
    a: &[Bucket],
    a_bounds: &[f64],
    b: &[Bucket],
    b_bounds: &[f64],
    shared: &[f64],
) -> Vec<Bucket> {
    let mut sums = vec![0.0; shared.len() + 1];
    let mut comps = vec![0.0; shared.len() + 1];
    let mut map = |buckets: &[Bucket], bounds: &[f64], negate: bool| {
        let mut k = 0;
        for bucket in buckets {
            let mut target = sums.len() - 1;
            if let Some(&bound) = usize::try_from(bucket.index)
                .ok()
                .and_then(|i| bounds.get(i))
            {
                while k < shared.len() {
                    if shared[k] >= bound {
                        target = k;
                        break;
                    }
                    k += 1;
                }
            }
            let inc = if negate { -bucket.count } else { bucket.count };
            (sums[target], comps[target]) = kahan_inc(inc, sums[target], comps[target]);
        }
    };
    map(a, a_bounds, false);
    map(b, b_bounds, negate);
    sums.iter()
        .zip(&comps)
        .enumerate()
        .filter(|(_, (s, c))| **s != 0.0 || **c != 0.0)
        .map(|(i, (s, _))| Bucket {
            index: i as i32,
            count: *s,
        })
        .collect()
}

/// The most Prometheus's zero-threshold reconciliation widens in one
/// operation (each round moves the threshold to a bucket boundary, so a
/// real histogram needs a handful).
const MAX_RECONCILE_ROUNDS: usize = 10_000;

impl FloatHistogram {
    /// `self + other` (Prometheus's `Add`).
    pub fn add(&mut self, other: &FloatHistogram) -> Result<Combined, MixedSchemas> {
        self.combine(other, false)
    }

    /// `self - other` (Prometheus's `Sub`).
    pub fn sub(&mut self, other: &FloatHistogram) -> Result<Combined, MixedSchemas> {
        self.combine(other, true)
    }

    fn combine(&mut self, other: &FloatHistogram, negate: bool) -> Result<Combined, MixedSchemas> {
        if self.uses_custom_buckets() != other.uses_custom_buckets() {
            return Err(MixedSchemas);
        }
        let mut notes = Combined {
            counter_reset_collision: self.adjust_counter_reset(other),
            nhcb_bounds_reconciled: false,
        };
        let sign = |v: f64| if negate { -v } else { v };
        if !self.uses_custom_buckets() {
            let other_zero = self.reconcile_zero_buckets(other);
            self.zero_count += sign(other_zero);
        }
        self.count += sign(other.count);
        self.sum += sign(other.sum);
        if self.uses_custom_buckets() {
            if self.custom_values == other.custom_values {
                self.positive = add_buckets(
                    self.schema,
                    self.zero_threshold,
                    negate,
                    &self.positive,
                    &other.positive,
                );
            } else {
                notes.nhcb_bounds_reconciled = true;
                let shared = intersect_bounds(&self.custom_values, &other.custom_values);
                self.positive = add_mismatched_custom(
                    negate,
                    &self.positive,
                    &self.custom_values,
                    &other.positive,
                    &other.custom_values,
                    &shared,
                );
                self.custom_values = shared;
            }
            return Ok(notes);
        }
        let (other_positive, other_negative);
        let (mut theirs_p, mut theirs_n) = (&other.positive[..], &other.negative[..]);
        if other.schema < self.schema {
            self.positive = reduce_resolution(&self.positive, self.schema, other.schema);
            self.negative = reduce_resolution(&self.negative, self.schema, other.schema);
            self.schema = other.schema;
        } else if other.schema > self.schema {
            other_positive = reduce_resolution(&other.positive, other.schema, self.schema);
            other_negative = reduce_resolution(&other.negative, other.schema, self.schema);
            theirs_p = &other_positive;
            theirs_n = &other_negative;
        }
        self.positive = add_buckets(
            self.schema,
            self.zero_threshold,
            negate,
            &self.positive,
            theirs_p,
        );
        self.negative = add_buckets(
            self.schema,
            self.zero_threshold,
            negate,
            &self.negative,
            theirs_n,
        );
        Ok(notes)
    }

    /// Scales every count and the sum (Prometheus's `Mul`); a negative
    /// factor makes a gauge.
    pub fn mul(&mut self, factor: f64) {
        self.zero_count *= factor;
        self.count *= factor;
        self.sum *= factor;
        for b in self.positive.iter_mut().chain(self.negative.iter_mut()) {
            b.count *= factor;
        }
        if factor < 0.0 {
            self.hint = Hint::Gauge;
        }
    }

    /// Divides every count and the sum (Prometheus's `Div`); division by 0
    /// removes the buckets, a negative divisor makes a gauge.
    pub fn div(&mut self, scalar: f64) {
        self.zero_count /= scalar;
        self.count /= scalar;
        self.sum /= scalar;
        if scalar == 0.0 {
            self.positive.clear();
            self.negative.clear();
            return;
        }
        for b in self.positive.iter_mut().chain(self.negative.iter_mut()) {
            b.count /= scalar;
        }
        if scalar < 0.0 {
            self.hint = Hint::Gauge;
        }
    }

    /// Reduces the schema to the coarser `target` (no-op when it is not
    /// coarser, or for custom buckets).
    pub fn reduce_resolution(&mut self, target: i32) {
        if self.uses_custom_buckets() || target >= self.schema {
            return;
        }
        self.positive = reduce_resolution(&self.positive, self.schema, target);
        self.negative = reduce_resolution(&self.negative, self.schema, target);
        self.schema = target;
    }

    /// Prometheus's `adjustCounterReset`: true on a collision of
    /// `CounterReset` with `NotCounterReset`.
    fn adjust_counter_reset(&mut self, other: &FloatHistogram) -> bool {
        use Hint::*;
        match (self.hint, other.hint) {
            (a, b) if a == b => false,
            (Gauge, _) => false,
            (_, Gauge) => {
                self.hint = Gauge;
                false
            }
            (Unknown, _) => false,
            (_, Unknown) => {
                self.hint = Unknown;
                false
            }
            _ => {
                self.hint = Unknown;
                true
            }
        }
    }

    /// The zero count this histogram would have with a zero threshold of
    /// at least `larger`, and the threshold it would take: widened to the
    /// upper bound of a populated bucket the threshold falls in.
    pub fn zero_count_for_larger_threshold(&self, mut larger: f64) -> (f64, f64) {
        if larger == self.zero_threshold {
            return (self.zero_count, larger);
        }
        'outer: for _ in 0..MAX_RECONCILE_ROUNDS {
            let mut zero = self.zero_count;
            for &b in &self.positive {
                let b = self.bounded(b, true);
                if b.lower >= larger {
                    break;
                }
                zero += b.count;
                if b.upper > larger {
                    if b.count != 0.0 {
                        larger = b.upper;
                    }
                    break;
                }
            }
            for &b in &self.negative {
                let b = self.bounded(b, false);
                if b.upper <= -larger {
                    break;
                }
                zero += b.count;
                if b.lower < -larger {
                    if b.count != 0.0 {
                        larger = -b.lower;
                        continue 'outer;
                    }
                    break;
                }
            }
            return (zero, larger);
        }
        (self.zero_count, larger)
    }

    /// Zeroes the buckets now inside the zero bucket (their counts are in
    /// the zero count already) and drops every empty bucket, as
    /// Prometheus's `trimBucketsInZeroBucket` does.
    fn trim_buckets_in_zero_bucket(&mut self) {
        let threshold = self.zero_threshold;
        let positive_inside = (0..self.positive.len())
            .take_while(|&i| self.bounded(self.positive[i], true).lower < threshold)
            .count();
        let negative_inside = (0..self.negative.len())
            .take_while(|&i| self.bounded(self.negative[i], false).upper > -threshold)
            .count();
        self.positive[..positive_inside]
            .iter_mut()
            .for_each(|b| b.count = 0.0);
        self.negative[..negative_inside]
            .iter_mut()
            .for_each(|b| b.count = 0.0);
        let compacted = std::mem::take(self).compact();
        *self = compacted;
    }

    /// Widens this histogram's zero bucket and returns the zero count
    /// `other` would have, so both share one zero threshold.
    fn reconcile_zero_buckets(&mut self, other: &FloatHistogram) -> f64 {
        let mut other_zero = other.zero_count;
        let mut other_threshold = other.zero_threshold;
        for _ in 0..MAX_RECONCILE_ROUNDS {
            if other_threshold == self.zero_threshold
                || other_threshold.is_nan()
                || self.zero_threshold.is_nan()
            {
                break;
            }
            if self.zero_threshold > other_threshold {
                (other_zero, other_threshold) =
                    other.zero_count_for_larger_threshold(self.zero_threshold);
            }
            if other_threshold > self.zero_threshold {
                (self.zero_count, self.zero_threshold) =
                    self.zero_count_for_larger_threshold(other_threshold);
                self.trim_buckets_in_zero_bucket();
            }
        }
        other_zero
    }

    /// Whether `self`, following `previous`, is a counter reset
    /// (Prometheus's `DetectReset`).
    pub fn detect_reset(&self, previous: &FloatHistogram) -> bool {
        match self.hint {
            Hint::CounterReset => return true,
            Hint::NotCounterReset => return false,
            Hint::Unknown | Hint::Gauge => {}
        }
        if self.count < previous.count {
            return true;
        }
        if self.uses_custom_buckets() {
            if !previous.uses_custom_buckets() {
                return true;
            }
            if self.custom_values != previous.custom_values {
                return self.reset_with_mismatched_custom_bounds(previous);
            }
        }
        if self.schema > previous.schema {
            return true;
        }
        if self.zero_threshold < previous.zero_threshold {
            return true;
        }
        let (previous_zero, threshold) =
            previous.zero_count_for_larger_threshold(self.zero_threshold);
        if threshold != self.zero_threshold {
            return true;
        }
        if self.zero_count < previous_zero {
            return true;
        }
        let start = self.zero_threshold;
        let side = |h: &FloatHistogram, buckets: &[Bucket]| -> Vec<Bucket> {
            let merged = reduce_resolution(buckets, h.schema, self.schema);
            if self.uses_custom_buckets() || start == 0.0 {
                return merged;
            }
            let skip = merged
                .iter()
                .take_while(|b| bounds::exponential(b.index, self.schema) <= start)
                .count();
            merged[skip..].to_vec()
        };
        buckets_reset(
            &side(self, &self.positive),
            &side(previous, &previous.positive),
        ) || buckets_reset(
            &side(self, &self.negative),
            &side(previous, &previous.negative),
        )
    }

    /// Prometheus's `detectResetWithMismatchedCustomBounds`: a reset when
    /// a bucket summed up to a shared bound decreased.
    fn reset_with_mismatched_custom_bounds(&self, previous: &FloatHistogram) -> bool {
        let between = |h: &FloatHistogram, above: f64, bound: f64| -> f64 {
            h.positive
                .iter()
                .map(|&b| h.bounded(b, true))
                .filter(|b| b.upper > above && b.upper <= bound)
                .map(|b| b.count)
                .sum()
        };
        let mut shared = intersect_bounds(&self.custom_values, &previous.custom_values);
        shared.push(f64::INFINITY);
        let mut above = f64::NEG_INFINITY;
        for bound in shared {
            if between(self, above, bound) < between(previous, above, bound) {
                return true;
            }
            above = bound;
        }
        false
    }
}

/// Prometheus's `detectReset` over one side's buckets (same schema).
fn buckets_reset(current: &[Bucket], previous: &[Bucket]) -> bool {
    let mut j = 0;
    for p in previous {
        while j < current.len() && current[j].index < p.index {
            j += 1;
        }
        match current.get(j) {
            Some(c) if c.index == p.index => {
                if c.count < p.count {
                    return true;
                }
            }
            _ => {
                if p.count != 0.0 {
                    return true;
                }
            }
        }
    }
    false
}
