//! The histogram trim operators `h </ x` and `h >/ x` (Prometheus 3.x,
//! experimental): the observations above (`</`) or below (`>/`) `x`
//! removed, as `FloatHistogram.TrimBuckets` estimates it. A bucket the
//! trim point falls in keeps the interpolated part below or above it
//! (linearly for custom and zero buckets, on a log scale for exponential
//! ones); the count and the sum are recomputed from the buckets kept, each
//! at the midpoint of what survives of it, but only when a bucket was
//! trimmed.

use super::{Bounded, FloatHistogram};

impl FloatHistogram {
    /// `self </ rhs` (`upper`) or `self >/ rhs`.
    pub fn trim_buckets(mut self, rhs: f64, upper: bool) -> FloatHistogram {
        let custom = self.uses_custom_buckets();
        let (mut count, mut sum) = (0.0, 0.0);
        let mut trimmed = false;
        let mut seen = [false; 2];
        for (side, positive) in [(0, true), (1, false)] {
            let mut buckets = std::mem::take(if positive {
                &mut self.positive
            } else {
                &mut self.negative
            });
            for bucket in buckets.iter_mut().filter(|b| b.count != 0.0) {
                seen[side] = true;
                let b = self.bounded(*bucket, positive);
                let whole = if upper {
                    b.upper <= rhs
                } else {
                    b.lower >= rhs
                };
                let partial = if upper { b.lower < rhs } else { b.upper > rhs };
                if whole {
                    count += b.count;
                    sum += midpoint(b.lower, b.upper, positive, custom) * b.count;
                } else if partial {
                    let (keep, mid) = bucket_trim(&b, rhs, upper, positive, custom);
                    count += keep;
                    sum += mid * keep;
                    if bucket.count != keep {
                        bucket.count = keep;
                        trimmed = true;
                    }
                } else {
                    bucket.count = 0.0;
                    trimmed = true;
                }
            }
            if positive {
                self.positive = buckets;
            } else {
                self.negative = buckets;
            }
        }
        if self.zero_count > 0.0 {
            let (keep, mid) = zero_trim(&self.zero_bucket(), rhs, seen[1], seen[0], upper);
            if self.zero_count != keep {
                self.zero_count = keep;
                trimmed = true;
            }
            sum += mid * keep;
            count += keep;
        }
        if !trimmed {
            return self;
        }
        self.count = count;
        self.sum = sum;
        self.compact()
    }
}

/// `computeBucketTrim`: what a bucket holding the trim point keeps, and
/// the midpoint of the part kept.
fn bucket_trim(b: &Bounded, rhs: f64, upper: bool, positive: bool, linear: bool) -> (f64, f64) {
    if b.lower == f64::NEG_INFINITY || b.upper == f64::INFINITY {
        return infinite_bucket(b, rhs, upper);
    }
    let under = if rhs <= b.lower {
        0.0
    } else if rhs >= b.upper {
        b.count
    } else {
        b.count * fraction_below(b, rhs, linear)
    };
    if upper {
        (under, midpoint(b.lower, rhs, positive, linear))
    } else {
        (b.count - under, midpoint(rhs, b.upper, positive, linear))
    }
}

/// `Bucket.FractionBelow`, for `v` strictly inside finite bounds.
fn fraction_below(b: &Bounded, v: f64, linear: bool) -> f64 {
    if linear {
        return (v - b.lower) / (b.upper - b.lower);
    }
    let (lower, upper, v_log) = (b.lower.abs().log2(), b.upper.abs().log2(), v.abs().log2());
    if v > 0.0 {
        (v_log - lower) / (upper - lower)
    } else {
        1.0 - (v_log - upper) / (lower - upper)
    }
}

/// `handleInfinityBuckets`.
fn infinite_bucket(b: &Bounded, rhs: f64, upper: bool) -> (f64, f64) {
    let finite = |x: f64| if x.is_infinite() { 0.0 } else { x };
    if b.lower == f64::NEG_INFINITY {
        if upper {
            if rhs >= b.upper {
                return (b.count, 0.0);
            }
            if rhs > 0.0 && b.upper > 0.0 && b.upper.is_finite() {
                return (b.count * rhs / b.upper, rhs / 2.0);
            }
            if b.upper <= 0.0 {
                return (b.count, rhs);
            }
            return (0.0, finite(b.upper));
        }
        if rhs <= b.lower {
            return (b.count, 0.0);
        }
        if rhs >= 0.0 && b.upper > rhs && b.upper.is_finite() {
            return (b.count * (1.0 - rhs / b.upper), (rhs + b.upper) / 2.0);
        }
        return (0.0, finite(b.upper));
    }
    // The upper bound is +Inf.
    if upper {
        return (0.0, finite(b.lower));
    }
    if rhs >= b.lower {
        return (b.count, rhs);
    }
    (0.0, finite(b.lower))
}

/// `computeZeroBucketTrim`: the zero bucket reaches only to the sides
/// that have buckets.
fn zero_trim(zero: &Bounded, rhs: f64, negative: bool, positive: bool, upper: bool) -> (f64, f64) {
    let (mut lower, mut high) = (zero.lower, zero.upper);
    if negative && !positive {
        high = 0.0;
    }
    if positive && !negative {
        lower = 0.0;
    }
    if upper {
        if rhs <= lower {
            return (0.0, 0.0);
        }
        if rhs >= high {
            return (zero.count, (lower + high) / 2.0);
        }
        (
            zero.count * (rhs - lower) / (high - lower),
            (lower + rhs) / 2.0,
        )
    } else {
        if rhs <= lower {
            return (zero.count, (lower + high) / 2.0);
        }
        if rhs >= high {
            return (0.0, 0.0);
        }
        (
            zero.count * (high - rhs) / (high - lower),
            (rhs + high) / 2.0,
        )
    }
}

/// `computeMidpoint`: of a surviving interval, linear or geometric.
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
    use super::super::notation::{expression, item};

    /// `h </ x` or `h >/ x` in the test notation, compared by value as
    /// promqltest compares (1e-6 relative).
    fn trim(h: &str, rhs: f64, upper: bool) -> super::FloatHistogram {
        let (items, _) = item(h).unwrap();
        items[0].histogram.clone().trim_buckets(rhs, upper)
    }

    fn close(a: f64, b: f64) -> bool {
        a == b || (a - b).abs() <= 1e-6 * (a.abs() + b.abs())
    }

    // Cases and answers from Prometheus's native_histograms.test.
    #[test]
    fn custom_buckets_trim_on_bounds_and_linearly_inside() {
        let cbh =
            "{{schema:-53 sum:172.5 count:15 custom_values:[5 10 15 20] buckets:[1 6 4 3 1]}}";
        assert_eq!(
            expression(&trim(cbh, 15.0, true)),
            "{{schema:-53 count:11 sum:97.5 custom_values:[5 10 15 20] buckets:[1 6 4]}}"
        );
        assert_eq!(
            expression(&trim(cbh, 15.0, false)),
            "{{schema:-53 count:4 sum:72.5 custom_values:[5 10 15 20] offset:3 buckets:[3 1]}}"
        );
        let h = trim(cbh, 13.0, true);
        assert!(
            close(h.count, 9.4) && close(h.sum, 75.1),
            "{}",
            expression(&h)
        );
        let h = trim(cbh, 13.0, false);
        assert!(
            close(h.count, 5.6) && close(h.sum, 94.9),
            "{}",
            expression(&h)
        );
        let h = trim(cbh, 7.5, true);
        assert!(
            close(h.count, 4.0) && close(h.sum, 21.25),
            "{}",
            expression(&h)
        );
    }

    #[test]
    fn the_zero_bucket_is_trimmed_on_the_side_it_covers() {
        let neg = "{{schema:0 sum:-8.0210678118654755 count:12 z_bucket:2 z_bucket_w:0.5 n_buckets:[10]}}";
        let h = trim(neg, -0.1, true);
        assert!(close(h.count, 11.6) && close(h.sum, -7.551067811865476));
        assert!(close(h.zero_count, 1.6));
        let h = trim(neg, -0.5, false);
        assert_eq!((h.count, h.sum, h.zero_count), (2.0, -0.5, 2.0));
        assert!(h.negative.is_empty());
        // Nothing trimmed: the histogram as it was.
        let (input, _) = item(neg).unwrap();
        assert_eq!(trim(neg, 0.0, true), input[0].histogram);
        let zero = "{{schema:0 count:5 sum:0 z_bucket:5 z_bucket_w:0.1 }}";
        let h = trim(zero, 0.05, false);
        assert!(close(h.count, 1.25) && close(h.sum, 0.09375));
        let h = trim(zero, 0.0, true);
        assert!(close(h.count, 2.5) && close(h.sum, -0.125));
    }
}
