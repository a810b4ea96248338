//! The native-histogram trim operators: `h </ x` keeps the observations
//! below `x`, `h >/ x` those above it, interpolating inside the bucket that
//! holds `x` and re-estimating the sum from bucket midpoints (Prometheus's
//! `FloatHistogram.TrimBuckets` and its helpers, model/histogram).

use super::histogram::fraction_below;
use crate::metrics::histogram::{Bounded, FloatHistogram};

/// `h` trimmed at `x`: `upper` for `</`, else `>/`.
pub(super) fn trim(h: &FloatHistogram, x: f64, upper: bool) -> FloatHistogram {
    let mut h = h.clone();
    let custom = h.uses_custom_buckets();
    let (mut count, mut sum) = (0.0, 0.0);
    let mut trimmed = false;
    let mut seen = [false, false]; // negative, positive
    for positive in [true, false] {
        for i in 0..side(&h, positive).len() {
            let b = h.bounded(side(&h, positive)[i], positive);
            if b.count == 0.0 {
                continue;
            }
            seen[positive as usize] = true;
            let whole = if upper { b.upper <= x } else { b.lower >= x };
            let partly = if upper { b.lower < x } else { b.upper > x };
            let keep = if whole {
                count += b.count;
                sum += midpoint(b.lower, b.upper, positive, custom) * b.count;
                continue;
            } else if partly {
                let (keep, mid) = bucket_trim(&b, x, upper, positive, custom);
                count += keep;
                sum += mid * keep;
                keep
            } else {
                0.0
            };
            let bucket = &mut side_mut(&mut h, positive)[i];
            if bucket.count != keep {
                bucket.count = keep;
                trimmed = true;
            }
        }
    }
    if h.zero_count > 0.0 {
        let (keep, mid) = zero_bucket_trim(&h.zero_bucket(), x, seen[0], seen[1], upper);
        if h.zero_count != keep {
            h.zero_count = keep;
            trimmed = true;
        }
        sum += mid * keep;
        count += keep;
    }
    if !trimmed {
        return h;
    }
    h.count = count;
    h.sum = sum;
    h.compact()
}

fn side(h: &FloatHistogram, positive: bool) -> &[crate::metrics::histogram::Bucket] {
    if positive { &h.positive } else { &h.negative }
}

fn side_mut(h: &mut FloatHistogram, positive: bool) -> &mut [crate::metrics::histogram::Bucket] {
    if positive {
        &mut h.positive
    } else {
        &mut h.negative
    }
}

/// `computeBucketTrim`: the count kept of bucket `b`, and the midpoint of
/// what is kept.
fn bucket_trim(b: &Bounded, x: f64, upper: bool, positive: bool, custom: bool) -> (f64, f64) {
    if b.lower == f64::NEG_INFINITY || b.upper == f64::INFINITY {
        return infinite_bucket_trim(b, x, upper);
    }
    let under = if x <= b.lower {
        0.0
    } else if x >= b.upper {
        b.count
    } else {
        b.count * fraction_below(b, x, custom)
    };
    if upper {
        (under, midpoint(b.lower, x, positive, custom))
    } else {
        (b.count - under, midpoint(x, b.upper, positive, custom))
    }
}

/// `handleInfinityBuckets`: a bucket open to -Inf or +Inf (custom buckets).
fn infinite_bucket_trim(b: &Bounded, x: f64, upper: bool) -> (f64, f64) {
    let finite = |v: f64| if v.is_infinite() { 0.0 } else { v };
    if b.lower == f64::NEG_INFINITY {
        if upper {
            if x >= b.upper {
                return (b.count, 0.0);
            }
            if x > 0.0 && b.upper > 0.0 && b.upper.is_finite() {
                return (b.count * x / b.upper, x / 2.0);
            }
            if b.upper <= 0.0 {
                return (b.count, x);
            }
            return (0.0, finite(b.upper));
        }
        if x <= b.lower {
            return (b.count, 0.0);
        }
        if x >= 0.0 && b.upper > x && b.upper.is_finite() {
            return (b.count * (1.0 - x / b.upper), (x + b.upper) / 2.0);
        }
        return (0.0, finite(b.upper));
    }
    // Upper bound +Inf.
    if upper {
        return (0.0, finite(b.lower));
    }
    if x >= b.lower {
        return (b.count, x);
    }
    (0.0, finite(b.lower))
}

/// `computeZeroBucketTrim`: the zero bucket spans only the side that has
/// buckets.
fn zero_bucket_trim(
    z: &Bounded,
    x: f64,
    has_negative: bool,
    has_positive: bool,
    upper: bool,
) -> (f64, f64) {
    let (mut lower, mut high) = (z.lower, z.upper);
    if has_negative && !has_positive {
        high = 0.0;
    }
    if has_positive && !has_negative {
        lower = 0.0;
    }
    let (fraction, mid) = if upper {
        if x <= lower {
            return (0.0, 0.0);
        }
        if x >= high {
            return (z.count, (lower + high) / 2.0);
        }
        ((x - lower) / (high - lower), (lower + x) / 2.0)
    } else {
        if x <= lower {
            return (z.count, (lower + high) / 2.0);
        }
        if x >= high {
            return (0.0, 0.0);
        }
        ((high - x) / (high - lower), (x + high) / 2.0)
    };
    (z.count * fraction, mid)
}

/// `computeMidpoint`: linear for custom buckets, geometric for
/// exponential ones.
fn midpoint(lower: f64, upper: f64, positive: bool, linear: bool) -> f64 {
    if lower.is_infinite() {
        if upper.is_infinite() {
            return 0.0;
        }
        return if upper > 0.0 { upper / 2.0 } else { upper };
    }
    if upper.is_infinite() {
        return lower;
    }
    if linear {
        return (lower + upper) / 2.0;
    }
    let geo = (lower * upper).abs().sqrt();
    if positive { geo } else { -geo }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::histogram::Bucket;

    /// Schema 0: bucket 1 is (1, 2], bucket 2 is (2, 4].
    fn h() -> FloatHistogram {
        FloatHistogram {
            schema: 0,
            count: 6.0,
            sum: 15.0,
            positive: vec![
                Bucket {
                    index: 1,
                    count: 2.0,
                },
                Bucket {
                    index: 2,
                    count: 4.0,
                },
            ],
            ..FloatHistogram::default()
        }
    }

    #[test]
    fn trimming_on_a_bound_keeps_whole_buckets() {
        let t = trim(&h(), 2.0, true);
        assert_eq!(t.count, 2.0);
        assert_eq!(t.sum, 2.0 * 2f64.sqrt());
        let t = trim(&h(), 2.0, false);
        assert_eq!(t.count, 4.0);
        assert_eq!(t.sum, 4.0 * 8f64.sqrt());
    }

    #[test]
    fn trimming_inside_a_bucket_interpolates_exponentially() {
        // sqrt(2) is half-way through (1, 2] on a log scale.
        let t = trim(&h(), 2f64.sqrt(), true);
        assert!((t.count - 1.0).abs() < 1e-12, "{}", t.count);
        let t = trim(&h(), 8.0, true);
        assert_eq!((t.count, t.sum), (6.0, 15.0), "nothing trimmed, sum kept");
    }
}
