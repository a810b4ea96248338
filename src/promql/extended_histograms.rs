//! Native histograms under `anchored` and `smoothed` (see [`super::extended`]):
//! functions.go's `extendedHistogramRate` with `interpolateHistograms` and
//! `correctForCounterResetsHistogram`, anchored `resets` / `changes` over
//! windows that may mix floats and histograms, and `smoothSeries`'s
//! histogram branch. A window Prometheus answers with a warning only (mixed
//! floats and histograms, mixed exponential and custom buckets) gives no
//! sample.

use std::sync::Arc;

use super::eval::Evaluator;
use super::extended::Window;
use crate::metrics::histogram::tag::is_histogram;
use crate::metrics::histogram::{FloatHistogram, Hint};
use crate::metrics::store::Point;

/// A histogram point of the window.
struct HPoint {
    t: i64,
    h: Arc<FloatHistogram>,
}

/// The window's histograms, or `None` when it mixes in floats.
fn histograms(ev: &Evaluator<'_>, points: &[Point]) -> Option<Vec<HPoint>> {
    points
        .iter()
        .map(|p| ev.histogram(p.v).map(|h| HPoint { t: p.t, h }))
        .collect()
}

/// `interpolateHistograms`: `h1 + (h2 - h1) * fraction`; a counter that
/// was reset is taken to restart from zero.
fn interpolate_histograms(
    a: &HPoint,
    b: &HPoint,
    t: i64,
    is_counter: bool,
) -> Option<FloatHistogram> {
    if t == a.t {
        return Some((*a.h).clone());
    }
    if t == b.t {
        return Some((*b.h).clone());
    }
    let fraction = (t - a.t) as f64 / (b.t - a.t) as f64;
    let mut result = (*b.h).clone();
    if is_counter && b.h.detect_reset(&a.h) {
        result.mul(fraction);
        return Some(result);
    }
    result.sub(&a.h).ok()?;
    result.mul(fraction);
    result.add(&a.h).ok()?;
    Some(result)
}

/// `extendedHistogramRate`: `rate`, `increase` (`is_counter`) or `delta`.
pub(super) fn rate(
    ev: &Evaluator<'_>,
    points: &[Point],
    w: &Window,
    smoothed: bool,
    is_counter: bool,
    rate_range_ms: Option<i64>,
) -> Option<f64> {
    let h = histograms(ev, points)?;
    let mut last = h.len().checked_sub(1)?;
    let first = h[..last]
        .partition_point(|p| p.t <= w.start)
        .saturating_sub(1);
    if smoothed {
        last = h[..last].partition_point(|p| p.t < w.end);
    }
    if h[last].t <= w.start || (smoothed && h[first].t > w.end) {
        return None;
    }
    // validateHistogramRange: exponential and custom buckets do not mix.
    let custom = h[first].h.uses_custom_buckets();
    if h[first..=last]
        .iter()
        .any(|p| p.h.uses_custom_buckets() != custom)
    {
        return None;
    }
    let left = if smoothed && h[first].t < w.start {
        interpolate_histograms(&h[first], &h[first + 1], w.start, is_counter)?
    } else {
        (*h[first].h).clone()
    };
    let right = if smoothed && last > 0 && h[last].t > w.end {
        interpolate_histograms(&h[last - 1], &h[last], w.end, is_counter)?
    } else {
        (*h[last].h).clone()
    };
    let mut result = right.clone();
    result.sub(&left).ok()?;
    if is_counter
        && let Some(correction) =
            reset_correction(&h, first, last, &left, &right, w.start, smoothed)?
    {
        result.add(&correction).ok()?;
    }
    if let Some(range_ms) = rate_range_ms {
        result.div(range_ms as f64 / 1000.0);
    }
    result.hint = Hint::Gauge;
    Some(ev.intern(result.compact()))
}

/// `correctForCounterResetsHistogram`: the sum of the histograms before
/// each reset inside the range; `Some(None)` when there is none, `None`
/// when they cannot be added.
fn reset_correction(
    h: &[HPoint],
    first_index: usize,
    last_index: usize,
    left: &FloatHistogram,
    right: &FloatHistogram,
    start: i64,
    smoothed: bool,
) -> Option<Option<FloatHistogram>> {
    let mut first = first_index + 1;
    let mut prev: &FloatHistogram = left;
    if smoothed && h[first_index].t < start && h[first_index + 1].h.detect_reset(&h[first_index].h)
    {
        // The left interpolation spanned that reset already.
        prev = &h[first_index + 1].h;
        first += 1;
    }
    // The last sample is `right` (or what it was interpolated towards).
    if first > last_index {
        return Some(None);
    }
    let mut correction: Option<FloatHistogram> = None;
    let add = |c: &mut Option<FloatHistogram>, p: &FloatHistogram| -> Option<()> {
        match c {
            None => *c = Some(p.clone()),
            Some(sum) => {
                sum.add(p).ok()?;
            }
        }
        Some(())
    };
    for p in &h[first..last_index] {
        if p.h.detect_reset(prev) {
            add(&mut correction, prev)?;
        }
        prev = &p.h;
    }
    if right.detect_reset(prev) {
        add(&mut correction, prev)?;
    }
    Some(correction)
}

/// Anchored `resets` (`resets`) or `changes` over a window of histograms,
/// floats or both, counted from the last sample at or before `start`
/// (`pickFirstSampleIndices`); a switch between a float and a histogram
/// counts as one.
pub(super) fn anchored_count(
    ev: &Evaluator<'_>,
    points: &[Point],
    start: i64,
    resets: bool,
) -> Option<f64> {
    let after = points.partition_point(|p| p.t <= start);
    if after >= points.len() {
        return None;
    }
    let from = after.saturating_sub(1);
    let samples: Vec<(f64, Option<Arc<FloatHistogram>>)> = points[from..]
        .iter()
        .map(|p| (p.v, is_histogram(p.v).then(|| ev.histogram(p.v)).flatten()))
        .collect();
    let counted = samples.windows(2).filter(|pair| {
        let ((pv, ph), (cv, ch)) = (&pair[0], &pair[1]);
        match (ph, ch) {
            (None, None) if resets => cv < pv,
            (None, None) => cv != pv && !(cv.is_nan() && pv.is_nan()),
            (Some(p), Some(c)) if resets => c.detect_reset(p),
            (Some(p), Some(c)) => !same(p, c),
            _ => true,
        }
    });
    Some(counted.count() as f64)
}

/// Go's `FloatHistogram.Equals`, which ignores the counter-reset hint.
fn same(a: &FloatHistogram, b: &FloatHistogram) -> bool {
    let mut b = b.clone();
    b.hint = a.hint;
    *a == b
}

/// `smoothSeries` for a series of histograms: the histogram at `at`, else
/// the one interpolated between its neighbours (as a counter unless both
/// are gauges), else the last before it with its hint cleared. A window
/// that mixes in floats, or exponential with custom buckets, gives none.
pub(super) fn smoothed(ev: &Evaluator<'_>, points: &[Point], at: i64) -> Option<f64> {
    let h = histograms(ev, points)?;
    let i = h.partition_point(|p| p.t < at);
    let result = match (h.get(i), i.checked_sub(1).map(|k| &h[k])) {
        (Some(p), _) if p.t == at => return Some(ev.intern((*p.h).clone())),
        (Some(next), Some(prev)) => {
            if prev.h.uses_custom_buckets() != next.h.uses_custom_buckets() {
                return None;
            }
            let is_counter = prev.h.hint != Hint::Gauge || next.h.hint != Hint::Gauge;
            interpolate_histograms(prev, next, at, is_counter)?
        }
        (None, Some(prev)) => {
            let mut h = (*prev.h).clone();
            h.hint = Hint::Unknown;
            h
        }
        _ => return None,
    };
    Some(ev.intern(result))
}

#[cfg(test)]
mod tests {
    use super::super::extended::interpolate;
    use crate::metrics::store::Point;

    #[test]
    fn float_interpolation_is_shared_with_the_float_path() {
        let (a, b) = (Point { t: 0, v: 10.0 }, Point { t: 10, v: 20.0 });
        assert_eq!(interpolate(a, b, 5, false), 15.0);
        assert_eq!(interpolate(b, Point { t: 20, v: 4.0 }, 15, true), 2.0);
    }
}
