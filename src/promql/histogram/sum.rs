//! Sums and means of native histograms, as Prometheus's `sum` / `avg`
//! aggregations and `sum_over_time` / `avg_over_time` compute them: the
//! count and the sum Kahan-compensated (`KahanAdd`; the buckets are added
//! plainly here), and a mean that turns incremental once the running sum
//! overflows.

use std::sync::Arc;

use crate::metrics::histogram::{FloatHistogram, kahan_inc};

/// Kahan compensations of a running count and sum.
#[derive(Debug, Clone, Copy, Default)]
struct Compensation {
    count: f64,
    sum: f64,
}

impl Compensation {
    /// `acc += h`, compensated; `Err` for a mix of exponential and custom
    /// buckets.
    fn add(&mut self, acc: &mut FloatHistogram, h: &FloatHistogram) -> Option<()> {
        let (count, count_c) = kahan_inc(h.count, acc.count, self.count);
        let (sum, sum_c) = kahan_inc(h.sum, acc.sum, self.sum);
        acc.add(h).ok()?;
        (acc.count, self.count) = (count, count_c);
        (acc.sum, self.sum) = (sum, sum_c);
        Some(())
    }

    fn scale(&mut self, factor: f64) {
        self.count *= factor;
        self.sum *= factor;
    }

    /// The compensation added in (an infinite value stays infinite).
    fn finish(self, h: &mut FloatHistogram) {
        let finish = |v: f64, c: f64| if v.is_infinite() { v } else { v + c };
        h.count = finish(h.count, self.count);
        h.sum = finish(h.sum, self.sum);
    }
}

/// The sum of `hs` (`None` for none, or for a mix of exponential and
/// custom buckets).
pub(super) fn sum_all<'a>(
    mut hs: impl Iterator<Item = &'a Arc<FloatHistogram>>,
) -> Option<FloatHistogram> {
    let mut sum: FloatHistogram = (**hs.next()?).clone();
    let mut c = Compensation::default();
    for h in hs {
        c.add(&mut sum, h)?;
    }
    c.finish(&mut sum);
    Some(sum)
}

/// The mean of `hs`, as Prometheus's `avg` and `avg_over_time`: the
/// compensated sum over the count while the sum stays finite; from the
/// histogram whose addition would overflow on, an incremental mean
/// (`mean * (n-1)/n + h/n`).
pub(super) fn mean_all<'a>(
    mut hs: impl Iterator<Item = &'a Arc<FloatHistogram>>,
) -> Option<FloatHistogram> {
    let mut sum: FloatHistogram = (**hs.next()?).clone();
    let mut c = Compensation::default();
    let mut mean: Option<FloatHistogram> = None;
    let mut n = 1.0;
    for h in hs {
        n += 1.0;
        if mean.is_none() {
            let mut next = sum.clone();
            let mut next_c = c;
            next_c.add(&mut next, h)?;
            if !next.has_overflow() {
                (sum, c) = (next, next_c);
                continue;
            }
            let mut m = sum.clone();
            m.div(n - 1.0);
            c.scale(1.0 / (n - 1.0));
            mean = Some(m);
        }
        let m = mean.as_mut().expect("the mean is set above");
        let q = (n - 1.0) / n;
        c.scale(q);
        m.mul(q);
        let mut part = (**h).clone();
        part.div(n);
        c.add(m, &part)?;
    }
    let mut out = match mean {
        Some(m) => m,
        None => {
            sum.div(n);
            c.scale(1.0 / n);
            sum
        }
    };
    c.finish(&mut out);
    Some(out)
}
