//! Prometheus's `FloatHistogram.Validate` (model/histogram/float_histogram.go
//! and the checks of generic.go): what every histogram appended to its
//! storage must satisfy — a known schema, no negative counts, custom bounds
//! sorted, finite and enough for the buckets, and no custom bounds on an
//! exponential schema. Messages are Prometheus's.

use super::notation::go_g;
use super::{
    Bucket, CUSTOM_BUCKETS_SCHEMA, EXPONENTIAL_MAX, EXPONENTIAL_MIN, FloatHistogram,
    MAX_BUCKET_INDEX,
};

const NEGATIVE_BUCKET: &str = "histogram has a bucket whose observation count is negative";

/// Why Prometheus would refuse to store a histogram.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error(
        "histogram has an invalid schema, which must be between {EXPONENTIAL_MIN} and \
         {EXPONENTIAL_MAX} for exponential buckets, or {CUSTOM_BUCKETS_SCHEMA} for custom \
         buckets, got schema {0}"
    )]
    Schema(i32),
    /// `side`: "positive side", "negative side" or "custom buckets".
    #[error("{side}: bucket number {number} has observation count of {count}: {NEGATIVE_BUCKET}")]
    NegativeBucket {
        side: &'static str,
        number: usize,
        count: String,
    },
    #[error("zero bucket has observation count of {0}: {NEGATIVE_BUCKET}")]
    NegativeZeroBucket(String),
    #[error("observation count is  {0}: histogram's observation count is negative")]
    NegativeCount(String),
    #[error("histogram with exponential schema must not have custom bounds")]
    ExponentialWithCustomBounds,
    #[error("custom buckets: histogram custom bounds must not be NaN")]
    CustomBoundNaN,
    #[error(
        "custom buckets: previous bound is {previous} and current is {current}: histogram \
         custom bounds must be in strictly increasing order"
    )]
    CustomBoundsUnsorted { previous: String, current: String },
    #[error(
        "custom buckets: last +Inf bound must not be explicitly defined: histogram custom \
         bounds must be finite"
    )]
    CustomBoundInfinite,
    #[error(
        "custom buckets: span number 1 with offset {0}: histogram has a span whose offset is \
         negative"
    )]
    CustomNegativeOffset(i32),
    #[error(
        "custom buckets: only {bounds} custom bounds defined which is insufficient to cover \
         total span length of {needed}: histogram custom bounds are too few"
    )]
    CustomBoundsTooFew { bounds: usize, needed: i64 },
    #[error("custom buckets: must have zero count of 0")]
    CustomZeroCount,
    #[error("custom buckets: must have zero threshold of 0")]
    CustomZeroThreshold,
    #[error("custom buckets: must not have negative buckets")]
    CustomNegativeBuckets,
    /// Not one of Prometheus's: an index it could not hold either (its
    /// spans' offsets are int32) and no real bucket of any schema.
    #[error("bucket index {0} is out of range (at most ±{MAX_BUCKET_INDEX})")]
    IndexOutOfRange(i32),
}

/// Prometheus's `Validate`, in its order of checks.
pub fn validate(h: &FloatHistogram) -> Result<(), Invalid> {
    if let Some(b) = h
        .positive
        .iter()
        .chain(&h.negative)
        .find(|b| i64::from(b.index).abs() > MAX_BUCKET_INDEX)
    {
        return Err(Invalid::IndexOutOfRange(b.index));
    }
    if h.schema == CUSTOM_BUCKETS_SCHEMA {
        custom_bounds(h)?;
        if h.zero_count != 0.0 {
            return Err(Invalid::CustomZeroCount);
        }
        if h.zero_threshold != 0.0 {
            return Err(Invalid::CustomZeroThreshold);
        }
        if !h.negative.is_empty() {
            return Err(Invalid::CustomNegativeBuckets);
        }
    } else if (EXPONENTIAL_MIN..=EXPONENTIAL_MAX).contains(&h.schema) {
        counts(&h.negative, "negative side")?;
        if h.zero_count < 0.0 {
            return Err(Invalid::NegativeZeroBucket(go_g(h.zero_count)));
        }
        if !h.custom_values.is_empty() {
            return Err(Invalid::ExponentialWithCustomBounds);
        }
    } else {
        return Err(Invalid::Schema(h.schema));
    }
    if h.count < 0.0 {
        return Err(Invalid::NegativeCount(go_g(h.count)));
    }
    counts(&h.positive, "positive side")
}

/// The schema check alone: one of Prometheus's exponential schemas or the
/// custom-bounds one.
pub fn schema(schema: i32) -> Result<(), Invalid> {
    if schema == CUSTOM_BUCKETS_SCHEMA || (EXPONENTIAL_MIN..=EXPONENTIAL_MAX).contains(&schema) {
        Ok(())
    } else {
        Err(Invalid::Schema(schema))
    }
}

fn counts(buckets: &[Bucket], side: &'static str) -> Result<(), Invalid> {
    match buckets.iter().position(|b| b.count < 0.0) {
        Some(i) => Err(Invalid::NegativeBucket {
            side,
            number: i + 1,
            count: go_g(buckets[i].count),
        }),
        None => Ok(()),
    }
}

/// `checkHistogramCustomBounds`: the buckets' indices stand for the spans
/// (the first index is the first span's offset; the last index + 1 the
/// total span length).
fn custom_bounds(h: &FloatHistogram) -> Result<(), Invalid> {
    let mut previous = f64::NEG_INFINITY;
    for (i, &current) in h.custom_values.iter().enumerate() {
        if current.is_nan() {
            return Err(Invalid::CustomBoundNaN);
        }
        if i > 0 && current <= previous {
            return Err(Invalid::CustomBoundsUnsorted {
                previous: go_f(previous),
                current: go_f(current),
            });
        }
        previous = current;
    }
    if previous == f64::INFINITY {
        return Err(Invalid::CustomBoundInfinite);
    }
    if let Some(first) = h.positive.first()
        && first.index < 0
    {
        return Err(Invalid::CustomNegativeOffset(first.index));
    }
    if let Some(last) = h.positive.last() {
        let needed = i64::from(last.index) + 1;
        if (h.custom_values.len() as i64) + 1 < needed {
            return Err(Invalid::CustomBoundsTooFew {
                bounds: h.custom_values.len(),
                needed,
            });
        }
    }
    Ok(())
}

/// Go's `%f`: six decimals, infinities as `+Inf` / `-Inf`.
fn go_f(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    format!("{v:.6}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::histogram::notation;

    fn read(text: &str) -> FloatHistogram {
        notation::histogram(text, 0).unwrap().0.histogram
    }

    fn check(text: &str) -> Result<(), String> {
        validate(&read(text)).map_err(|e| e.to_string())
    }

    #[test]
    fn valid_histograms_pass() {
        assert_eq!(check("{{schema:0 sum:5 count:4 buckets:[1 2 1]}}"), Ok(()));
        assert_eq!(check("{{schema:8 buckets:[1] n_buckets:[2]}}"), Ok(()));
        assert_eq!(check("{{schema:-4 z_bucket:1}}"), Ok(()));
        assert_eq!(
            check("{{schema:-53 sum:5 count:4 custom_values:[1 3 5] buckets:[1 2 1]}}"),
            Ok(())
        );
        // Buckets up to one past the last bound: the +Inf bucket.
        assert_eq!(
            check("{{schema:-53 custom_values:[1] buckets:[1 2]}}"),
            Ok(())
        );
    }

    #[test]
    fn schemas_outside_prometheus_s_range_are_refused() {
        for schema in [9, -5, -9, -52, -54, i32::MAX, i32::MIN] {
            let h = FloatHistogram {
                schema,
                ..FloatHistogram::default()
            };
            assert_eq!(validate(&h), Err(Invalid::Schema(schema)));
        }
        assert_eq!(
            check("{{schema:9 sum:5 count:4 buckets:[1 2 1]}}").unwrap_err(),
            "histogram has an invalid schema, which must be between -4 and 8 for exponential \
             buckets, or -53 for custom buckets, got schema 9"
        );
    }

    #[test]
    fn negative_counts_are_refused_with_prometheus_s_messages() {
        assert_eq!(
            check("{{schema:0 sum:5 count:-4 buckets:[-1 -2 1]}}").unwrap_err(),
            "observation count is  -4: histogram's observation count is negative"
        );
        assert_eq!(
            check("{{count:4 buckets:[1 -2 1]}}").unwrap_err(),
            "positive side: bucket number 2 has observation count of -2: histogram has a \
             bucket whose observation count is negative"
        );
        assert_eq!(
            check("{{count:-4 n_buckets:[1 1 -0.5]}}").unwrap_err(),
            "negative side: bucket number 3 has observation count of -0.5: histogram has a \
             bucket whose observation count is negative"
        );
        assert_eq!(
            check("{{z_bucket:-1}}").unwrap_err(),
            "zero bucket has observation count of -1: histogram has a bucket whose \
             observation count is negative"
        );
    }

    #[test]
    fn custom_bounds_are_checked() {
        assert_eq!(
            check("{{schema:-53 custom_values:[5 1 3] buckets:[1 2 1]}}").unwrap_err(),
            "custom buckets: previous bound is 5.000000 and current is 1.000000: histogram \
             custom bounds must be in strictly increasing order"
        );
        assert_eq!(
            validate(&read("{{schema:-53 custom_values:[1 NaN]}}")),
            Err(Invalid::CustomBoundNaN)
        );
        assert_eq!(
            validate(&read("{{schema:-53 custom_values:[1 Inf]}}")),
            Err(Invalid::CustomBoundInfinite)
        );
        assert_eq!(
            check("{{schema:-53 custom_values:[1] buckets:[1 2 3]}}").unwrap_err(),
            "custom buckets: only 1 custom bounds defined which is insufficient to cover \
             total span length of 3: histogram custom bounds are too few"
        );
        assert_eq!(
            validate(&read("{{schema:-53 custom_values:[1] z_bucket:1}}")),
            Err(Invalid::CustomZeroCount)
        );
        assert_eq!(
            validate(&read("{{schema:-53 custom_values:[1] z_bucket_w:1}}")),
            Err(Invalid::CustomZeroThreshold)
        );
        assert_eq!(
            validate(&read("{{schema:-53 custom_values:[1] n_buckets:[1]}}")),
            Err(Invalid::CustomNegativeBuckets)
        );
        assert_eq!(
            validate(&read("{{schema:0 custom_values:[1 2]}}")),
            Err(Invalid::ExponentialWithCustomBounds)
        );
    }
}
