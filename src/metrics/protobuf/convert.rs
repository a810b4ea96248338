//! A protobuf `Histogram` with native data as a [`FloatHistogram`], as
//! Prometheus's `ProtobufParser.Histogram` builds it: integer histograms
//! (deltas) summed into absolute counts, float histograms (counts) taken
//! as they are, empty buckets compacted away, a gauge histogram hinted as
//! one. Spans and buckets must agree in number, as
//! `checkNativeHistogramConsistency` requires; schemas outside the
//! exponential range and negative counts are refused rather than stored.
//! A histogram of more than [`BUCKET_LIMIT`] buckets has its resolution
//! reduced until it fits, as Prometheus's `native_histogram_bucket_limit`
//! does (unlimited there by default; a store held in memory needs one),
//! and is refused if even schema -4 does not fit.

use super::wire;
use crate::metrics::histogram::{
    self, Bucket, EXPONENTIAL_MAX, EXPONENTIAL_MIN, FloatHistogram, Hint, tag,
};

/// The most buckets (both sides) a stored native histogram keeps.
pub(crate) const BUCKET_LIMIT: usize = 4096;

/// Whether Prometheus reads `h` as a native histogram
/// (`isNativeHistogram`): any span, a zero threshold or a zero count.
pub(crate) fn is_native(h: &wire::Histogram) -> bool {
    !h.positive_span.is_empty()
        || !h.negative_span.is_empty()
        || h.zero_threshold > 0.0
        || h.zero_count > 0
}

/// The count of a classic bucket or histogram: the float field when above
/// 0, as client_model says, else the integer one.
pub(crate) fn count(integer: u64, float: f64) -> f64 {
    if float > 0.0 { float } else { integer as f64 }
}

/// Why a message's native histogram is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NativeError {
    #[error(
        "native histogram schema {0} is outside {EXPONENTIAL_MIN}..={EXPONENTIAL_MAX} \
         (custom-bucket schema -53 needs bounds the exposition format cannot carry)"
    )]
    Schema(i32),
    /// A bucket count below 0 (or NaN) on the `positive` or `negative` side.
    #[error("{side} bucket count {count} is negative")]
    NegativeCount { side: &'static str, count: f64 },
    /// The spans and the counts disagree, or a span's offset is out of range.
    #[error(
        "{side} side: spans require {covered} buckets, have {have} (or a span's offset is out of range)"
    )]
    Spans {
        side: &'static str,
        covered: u64,
        have: usize,
    },
    #[error(
        "native histogram has {0} buckets even at schema {EXPONENTIAL_MIN}, more than the {BUCKET_LIMIT} allowed"
    )]
    TooManyBuckets(usize),
}

/// The native histogram `h` carries (`gauge`: of a gauge histogram).
pub(crate) fn native(h: &wire::Histogram, gauge: bool) -> Result<FloatHistogram, NativeError> {
    if !(EXPONENTIAL_MIN..=EXPONENTIAL_MAX).contains(&h.schema) {
        return Err(NativeError::Schema(h.schema));
    }
    let float = h.sample_count_float > 0.0 || h.zero_count_float > 0.0;
    let side = |name: &'static str,
                spans: &[wire::BucketSpan],
                deltas: &[i64],
                counts: &[f64]|
     -> Result<Vec<Bucket>, NativeError> {
        let absolute: Vec<f64> = if float {
            counts.to_vec()
        } else {
            let mut current: i64 = 0;
            deltas
                .iter()
                .map(|&d| {
                    current = current.wrapping_add(d);
                    current as f64
                })
                .collect()
        };
        if let Some(c) = absolute.iter().find(|c| c.is_nan() || **c < 0.0) {
            return Err(NativeError::NegativeCount {
                side: name,
                count: *c,
            });
        }
        let spans: Vec<(i32, u32)> = spans.iter().map(|s| (s.offset, s.length)).collect();
        let covered: u64 = spans.iter().map(|&(_, l)| u64::from(l)).sum();
        histogram::from_spans(&spans, &absolute).ok_or(NativeError::Spans {
            side: name,
            covered,
            have: absolute.len(),
        })
    };
    let positive = side(
        "positive",
        &h.positive_span,
        &h.positive_delta,
        &h.positive_count,
    )?;
    let negative = side(
        "negative",
        &h.negative_span,
        &h.negative_delta,
        &h.negative_count,
    )?;
    let (count, zero_count) = if float {
        (h.sample_count_float, h.zero_count_float)
    } else {
        (h.sample_count as f64, h.zero_count as f64)
    };
    let mut out = FloatHistogram {
        schema: h.schema,
        zero_threshold: tag::plain(h.zero_threshold),
        zero_count: tag::plain(zero_count),
        count: tag::plain(count),
        sum: tag::plain(h.sample_sum),
        positive,
        negative,
        custom_values: Vec::new(),
        hint: if gauge { Hint::Gauge } else { Hint::Unknown },
    }
    .compact();
    // At most 12 steps, from schema 8 to -4.
    while out.positive.len() + out.negative.len() > BUCKET_LIMIT && out.schema > EXPONENTIAL_MIN {
        out.reduce_resolution(out.schema - 1);
    }
    let buckets = out.positive.len() + out.negative.len();
    if buckets > BUCKET_LIMIT {
        return Err(NativeError::TooManyBuckets(buckets));
    }
    Ok(out)
}
