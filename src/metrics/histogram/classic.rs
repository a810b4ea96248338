//! A classic histogram (cumulative `_bucket{le=...}` counts, `_count`,
//! `_sum` at one time) turned into a native histogram with custom bucket
//! bounds (NHCB), as Prometheus's `convertnhcb.TempHistogram` does it for
//! `convert_classic_histograms_to_nhcb` and promqltest's `load_with_nhcb`.

use super::{Bucket, CUSTOM_BUCKETS_SCHEMA, FloatHistogram};

/// Why classic samples do not make a histogram (the errors of
/// `convertnhcb`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClassicError {
    #[error("bucket boundary must not be NaN")]
    NaNBound,
    #[error("bucket count must be non-negative: le={le}, count={count}")]
    NegativeBucketCount { le: f64, count: f64 },
    #[error("count must be non-negative: count={0}")]
    NegativeCount(f64),
    #[error("count is not cumulative: le={le} has {count}, a neighbour {neighbour}")]
    NotCumulative { le: f64, count: f64, neighbour: f64 },
    #[error("count mismatch: count={count} != the +Inf bucket's {inf}")]
    CountMismatch { count: f64, inf: f64 },
}

/// The classic samples of one histogram at one time, collected in any
/// order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Classic {
    /// `(le, cumulative count)`, sorted by `le`, bounds unique.
    buckets: Vec<(f64, f64)>,
    count: Option<f64>,
    sum: f64,
    error: Option<ClassicError>,
}

impl Classic {
    /// The `_bucket{le}` sample. A second sample for the same bound is
    /// ignored, as Prometheus ignores a duplicate.
    pub fn set_bucket(&mut self, le: f64, count: f64) {
        if self.error.is_some() {
            return;
        }
        if le.is_nan() {
            self.error = Some(ClassicError::NaNBound);
            return;
        }
        if count < 0.0 {
            self.error = Some(ClassicError::NegativeBucketCount { le, count });
            return;
        }
        let i = self.buckets.partition_point(|&(b, _)| b < le);
        if self.buckets.get(i).is_some_and(|&(b, _)| b == le) {
            return;
        }
        let below = i.checked_sub(1).map(|j| self.buckets[j].1);
        let above = self.buckets.get(i).map(|&(_, c)| c);
        if let Some(neighbour) = below
            .filter(|&n| count < n)
            .or(above.filter(|&n| count > n))
        {
            self.error = Some(ClassicError::NotCumulative {
                le,
                count,
                neighbour,
            });
            return;
        }
        self.buckets.insert(i, (le, count));
    }

    /// The `_count` sample.
    pub fn set_count(&mut self, count: f64) {
        if self.error.is_some() {
            return;
        }
        if count < 0.0 {
            self.error = Some(ClassicError::NegativeCount(count));
            return;
        }
        self.count = Some(count);
    }

    /// The `_sum` sample.
    pub fn set_sum(&mut self, sum: f64) {
        if self.error.is_none() {
            self.sum = sum;
        }
    }

    /// The native histogram: one custom bucket per `le` (a `+Inf` bucket
    /// added with the count when there is none), counts de-cumulated,
    /// empty buckets dropped. Without `_count`, the count is the highest
    /// bucket's.
    pub fn to_native(&self) -> Result<FloatHistogram, ClassicError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let mut buckets = self.buckets.clone();
        let count = self
            .count
            .or_else(|| buckets.last().map(|&(_, c)| c))
            .unwrap_or(0.0);
        if buckets.last().is_none_or(|&(le, _)| le != f64::INFINITY) {
            buckets.push((f64::INFINITY, count));
        }
        let inf = buckets.last().map_or(0.0, |&(_, c)| c);
        if count != inf {
            return Err(ClassicError::CountMismatch { count, inf });
        }
        let mut previous = 0.0;
        let positive = buckets
            .iter()
            .enumerate()
            .map(|(i, &(_, c))| {
                let b = Bucket {
                    index: i as i32,
                    count: c - previous,
                };
                previous = c;
                b
            })
            .collect();
        let custom_values = buckets[..buckets.len() - 1]
            .iter()
            .map(|&(le, _)| le)
            .collect();
        Ok(FloatHistogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            count,
            sum: self.sum,
            positive,
            custom_values,
            ..FloatHistogram::default()
        }
        .compact())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(h: &FloatHistogram) -> Vec<(i32, f64)> {
        h.positive.iter().map(|b| (b.index, b.count)).collect()
    }

    #[test]
    fn buckets_in_any_order_are_decumulated_with_an_inf_bucket_added() {
        let mut c = Classic::default();
        c.set_bucket(1.0, 3.0);
        c.set_bucket(0.1, 1.0);
        c.set_bucket(0.1, 7.0); // a duplicate bound is ignored
        c.set_sum(2.5);
        c.set_count(4.0);
        let h = c.to_native().unwrap();
        assert_eq!(h.schema, CUSTOM_BUCKETS_SCHEMA);
        assert_eq!(h.custom_values, [0.1, 1.0]);
        assert_eq!(counts(&h), [(0, 1.0), (1, 2.0), (2, 1.0)]);
        assert_eq!((h.count, h.sum), (4.0, 2.5));
    }

    #[test]
    fn without_a_count_the_highest_bucket_gives_it_and_empty_buckets_go() {
        let mut c = Classic::default();
        c.set_bucket(f64::INFINITY, 5.0);
        c.set_bucket(2.0, 5.0);
        c.set_bucket(1.0, 0.0);
        let h = c.to_native().unwrap();
        assert_eq!(h.custom_values, [1.0, 2.0]);
        assert_eq!(counts(&h), [(1, 5.0)]);
        assert_eq!(h.count, 5.0);
    }

    #[test]
    fn inconsistent_samples_are_refused() {
        let mut c = Classic::default();
        c.set_bucket(1.0, 3.0);
        c.set_bucket(2.0, 2.0);
        assert!(matches!(
            c.to_native(),
            Err(ClassicError::NotCumulative { le, .. }) if le == 2.0
        ));
        let mut c = Classic::default();
        c.set_bucket(f64::INFINITY, 3.0);
        c.set_count(4.0);
        assert_eq!(
            c.to_native(),
            Err(ClassicError::CountMismatch {
                count: 4.0,
                inf: 3.0
            })
        );
        let mut c = Classic::default();
        c.set_bucket(1.0, -1.0);
        assert!(c.to_native().is_err());
    }
}
