//! `rate`, `increase`, `delta` and `irate` / `idelta` over native
//! histograms, as Prometheus's `extrapolatedRate` / `histogramRate` and
//! `instantValue` (promql/functions.go) compute them: counter resets found
//! by `DetectReset`, the result a gauge histogram, extrapolated like a
//! float's but towards the zero point of the count.

use std::sync::Arc;

use crate::metrics::histogram::{FloatHistogram, Hint};

/// Prometheus's `histogramRate`: `last - first`, plus the histogram before
/// each reset; `None` when the histograms cannot be combined (a mix of
/// exponential and custom buckets).
fn increase(points: &[Arc<FloatHistogram>], is_counter: bool) -> Option<FloatHistogram> {
    let mut prev: FloatHistogram = (*points[0]).clone();
    let last = &points[points.len() - 1];
    let mut custom = prev.uses_custom_buckets();
    if is_counter && points[1].detect_reset(&prev) {
        prev = FloatHistogram {
            schema: points[1].schema,
            custom_values: points[1].custom_values.clone(),
            ..FloatHistogram::default()
        };
        custom = points[1].uses_custom_buckets();
    }
    if last.uses_custom_buckets() != custom {
        return None;
    }
    let mut min_schema = last.schema.min(prev.schema);
    for h in &points[1..points.len() - 1] {
        if !is_counter {
            continue;
        }
        min_schema = min_schema.min(h.schema);
        if h.uses_custom_buckets() != custom {
            return None;
        }
    }
    let mut h = copy_to_schema(last, min_schema);
    h.sub(&prev).ok()?;
    if is_counter {
        // From the first histogram, or the empty one that replaced it.
        let mut prev: &FloatHistogram = &prev;
        for curr in &points[1..] {
            if curr.detect_reset(prev) {
                h.add(prev).ok()?;
            }
            prev = curr;
        }
    }
    h.hint = Hint::Gauge;
    Some(h.compact())
}

/// Prometheus's `CopyToSchema` (which keeps neither custom bounds nor
/// hint when it changes the schema).
fn copy_to_schema(h: &FloatHistogram, schema: i32) -> FloatHistogram {
    if schema == h.schema || h.uses_custom_buckets() {
        return h.clone();
    }
    let mut c = FloatHistogram {
        schema: h.schema,
        zero_threshold: h.zero_threshold,
        zero_count: h.zero_count,
        count: h.count,
        sum: h.sum,
        positive: h.positive.clone(),
        negative: h.negative.clone(),
        ..FloatHistogram::default()
    };
    c.reduce_resolution(schema);
    c
}

/// A window's histogram `rate` (`is_rate`), `increase` or (`!is_counter`)
/// `delta`: `points` with their times, in `(start, end]` ms.
pub(crate) fn extrapolated(
    points: &[(i64, Arc<FloatHistogram>)],
    start: i64,
    end: i64,
    is_counter: bool,
    is_rate: bool,
) -> Option<FloatHistogram> {
    if points.len() < 2 {
        return None;
    }
    let hs: Vec<Arc<FloatHistogram>> = points.iter().map(|(_, h)| h.clone()).collect();
    let mut result = increase(&hs, is_counter)?;
    let (first_t, last_t) = (points[0].0, points[points.len() - 1].0);
    let mut to_start = (first_t - start) as f64 / 1000.0;
    let mut to_end = (end - last_t) as f64 / 1000.0;
    let sampled = (last_t - first_t) as f64 / 1000.0;
    let average = sampled / (points.len() - 1) as f64;
    let threshold = average * 1.1;
    if to_start >= threshold {
        to_start = average / 2.0;
    }
    if is_counter && result.count > 0.0 && hs[0].count >= 0.0 {
        let to_zero = sampled * (hs[0].count / result.count);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    if to_end >= threshold {
        to_end = average / 2.0;
    }
    let mut factor = if sampled != 0.0 {
        (sampled + to_start + to_end) / sampled
    } else {
        1.0
    };
    if is_rate {
        factor /= (end - start) as f64 / 1000.0;
    }
    result.mul(factor);
    Some(result)
}

/// `irate` (`is_rate`) or `idelta` of the last two histograms.
pub(crate) fn instant(
    previous: (i64, &FloatHistogram),
    last: (i64, &FloatHistogram),
    is_rate: bool,
) -> Option<FloatHistogram> {
    let interval = last.0 - previous.0;
    if interval == 0 {
        return None;
    }
    let mut h = last.1.clone();
    if !is_rate || !last.1.detect_reset(previous.1) {
        h.sub(previous.1).ok()?;
    }
    h.hint = Hint::Gauge;
    let mut h = h.compact();
    if is_rate {
        h.div(interval as f64 / 1000.0);
    }
    Some(h)
}
