//! Native histograms as Prometheus's `FloatHistogram` holds them
//! (model/histogram/float_histogram.go): a schema, a zero bucket, sparse
//! positive and negative buckets by index, or custom bounds (schema -53,
//! NHCB), with the count, the sum and a counter-reset hint.
//!
//! Buckets are kept as sorted `(index, count)` pairs rather than
//! Prometheus's spans: the same information without the span bookkeeping.
//! A bucket of count 0 is kept until [`FloatHistogram::compact`] drops it,
//! as Prometheus keeps it until `Compact(0)`.

mod arith;
pub use arith::{Combined, MixedSchemas, kahan_inc, reduce_resolution};
pub(crate) mod bounds;
pub mod classic;
pub mod notation;
pub(crate) mod tag;
pub mod validate;

/// The schema of histograms with custom bucket bounds (NHCB).
pub const CUSTOM_BUCKETS_SCHEMA: i32 = -53;
/// Exponential schemas Prometheus computes with.
pub const EXPONENTIAL_MIN: i32 = -4;
pub const EXPONENTIAL_MAX: i32 = 8;

/// What a histogram says about counter resets (Prometheus's
/// `CounterResetHint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Hint {
    #[default]
    Unknown,
    CounterReset,
    NotCounterReset,
    /// A gauge histogram: no counter semantics.
    Gauge,
}

/// One bucket: its index in the schema and its count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub index: i32,
    pub count: f64,
}

/// A native histogram with float counts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FloatHistogram {
    pub schema: i32,
    pub zero_threshold: f64,
    pub zero_count: f64,
    pub count: f64,
    pub sum: f64,
    /// Sorted by index, indices unique.
    pub positive: Vec<Bucket>,
    /// Sorted by index (of the absolute value's bucket), indices unique.
    pub negative: Vec<Bucket>,
    /// The upper bounds of the buckets of a custom-bucket histogram, the
    /// last bucket's (+Inf) left out.
    pub custom_values: Vec<f64>,
    pub hint: Hint,
}

/// A bucket with its bounds, as Prometheus's bucket iterators give it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounded {
    pub lower: f64,
    pub upper: f64,
    pub lower_inclusive: bool,
    pub upper_inclusive: bool,
    pub count: f64,
    pub index: i32,
}

impl FloatHistogram {
    pub fn uses_custom_buckets(&self) -> bool {
        self.schema == CUSTOM_BUCKETS_SCHEMA
    }

    /// The upper bound of bucket `index` of this histogram's layout.
    pub fn bound(&self, index: i32) -> f64 {
        if self.uses_custom_buckets() {
            bounds::custom(index, &self.custom_values)
        } else {
            bounds::exponential(index, self.schema)
        }
    }

    /// A bucket with its bounds (`positive`: of the positive side).
    pub fn bounded(&self, b: Bucket, positive: bool) -> Bounded {
        let (lower, upper) = if positive {
            (self.bound(b.index.saturating_sub(1)), self.bound(b.index))
        } else {
            (-self.bound(b.index), -self.bound(b.index.saturating_sub(1)))
        };
        let (lower_inclusive, upper_inclusive) = if self.uses_custom_buckets() {
            (b.index == 0, true)
        } else {
            (lower < 0.0, upper > 0.0)
        };
        Bounded {
            lower,
            upper,
            lower_inclusive,
            upper_inclusive,
            count: b.count,
            index: b.index,
        }
    }

    /// The zero bucket, `[-threshold, threshold]`.
    pub fn zero_bucket(&self) -> Bounded {
        Bounded {
            lower: -self.zero_threshold,
            upper: self.zero_threshold,
            lower_inclusive: true,
            upper_inclusive: true,
            count: self.zero_count,
            index: 0,
        }
    }

    /// Every bucket from the lowest to the highest (Prometheus's
    /// `AllBucketIterator`): negative buckets (highest index first), the
    /// zero bucket when it has a count, then the positive buckets; bucket
    /// bounds inside the zero bucket clamped to its threshold.
    pub fn all_buckets(&self) -> Vec<Bounded> {
        let threshold = self.zero_threshold;
        let clamp = |mut b: Bounded| {
            if b.upper < 0.0 && b.upper > -threshold {
                b.upper = -threshold;
            } else if b.lower > 0.0 && b.lower < threshold {
                b.lower = threshold;
            }
            b
        };
        let mut out = Vec::with_capacity(self.negative.len() + self.positive.len() + 1);
        out.extend(
            self.negative
                .iter()
                .rev()
                .map(|&b| clamp(self.bounded(b, false))),
        );
        if self.zero_count > 0.0 {
            out.push(self.zero_bucket());
        }
        out.extend(self.positive.iter().map(|&b| clamp(self.bounded(b, true))));
        out
    }

    /// Drops the buckets of count 0 (Prometheus's `Compact(0)`, after which
    /// a layout holds only populated buckets).
    pub fn compact(mut self) -> FloatHistogram {
        self.positive.retain(|b| b.count != 0.0);
        self.negative.retain(|b| b.count != 0.0);
        self
    }

    /// Whether the count, sum, zero count or a bucket is infinite.
    pub fn has_overflow(&self) -> bool {
        self.count.is_infinite()
            || self.sum.is_infinite()
            || self.zero_count.is_infinite()
            || self
                .positive
                .iter()
                .chain(&self.negative)
                .any(|b| b.count.is_infinite())
    }

    /// The same histogram as a gauge, or as the counter-reset hint says.
    pub fn with_hint(mut self, hint: Hint) -> FloatHistogram {
        self.hint = hint;
        self
    }
}

/// Buckets from Prometheus's span layout: `spans` of (offset, length),
/// each offset relative to the end of the previous span (the first's
/// absolute), and the counts of the buckets the spans cover. `None` when
/// the spans and counts disagree in number, or an index passes
/// [`MAX_BUCKET_INDEX`].
pub fn from_spans(spans: &[(i32, u32)], counts: &[f64]) -> Option<Vec<Bucket>> {
    let covered: u64 = spans.iter().map(|&(_, l)| u64::from(l)).sum();
    if covered != counts.len() as u64 {
        return None;
    }
    let mut out = Vec::with_capacity(counts.len());
    let mut index: i64 = 0;
    let mut next = counts.iter();
    for (i, &(offset, length)) in spans.iter().enumerate() {
        index += i64::from(offset);
        if i > 0 && offset < 0 {
            return None;
        }
        for _ in 0..length {
            if index.abs() > MAX_BUCKET_INDEX {
                return None;
            }
            let index32 = i32::try_from(index).ok()?;
            out.push(Bucket {
                index: index32,
                count: *next.next()?,
            });
            index += 1;
        }
    }
    Some(out)
}

/// The largest bucket index (either sign) a histogram may have: at
/// schema 8, 2^8 buckets per power of two cover all of f64's range
/// within ±2^18, so a larger index is no real bucket, only an input that
/// would overflow the index arithmetic.
pub const MAX_BUCKET_INDEX: i64 = 1 << 20;

#[cfg(test)]
mod tests;
