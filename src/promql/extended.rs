//! Prometheus 3's extended range selectors, the `anchored` and `smoothed`
//! modifiers (`--enable-feature=promql-extended-range-selectors`), as its
//! engine computes them:
//!
//! - the window reaches back one lookback further, so the sample before
//!   the range is at hand (`smoothed`: one lookback past its end too);
//! - `rate`, `increase`, `delta` take the value at each end of the range
//!   (`anchored`: the last sample at or before the start and the last in
//!   the range; `smoothed`: values interpolated at both ends), with no
//!   extrapolation (functions.go's `extendedRate`);
//! - `resets` and `changes` (`anchored` only) count from that sample before
//!   the range (`pickFirstSampleIndices`);
//! - an instant selector `smoothed` interpolates at the evaluation time
//!   (engine.go's `smoothSeries`); a range selector alone is extended to
//!   its bounds (`extendFloats`).
//!
//! Other functions refuse the modifiers, in Prometheus's words. Native
//! histograms are computed as `extendedHistogramRate` and `smoothSeries`
//! compute them (see `extended_histograms.rs`); a range selector of
//! histograms on its own is refused, as in Prometheus.

use promql_parser::parser::{Call, Expr, MatrixSelector, VectorSelector};

use super::eval::{Evaluator, millis};
use super::{Error, Matrix, RangeSeries, Sample, Value};
use crate::metrics::histogram::tag::is_histogram;
use crate::metrics::store::Point;
use std::borrow::Cow;

/// Functions that take an `anchored` range, sorted as Prometheus lists them.
const ANCHORED_SAFE: [&str; 5] = ["changes", "delta", "increase", "rate", "resets"];
/// Functions that take a `smoothed` range.
const SMOOTHED_SAFE: [&str; 3] = ["delta", "increase", "rate"];

/// A call whose range argument is `anchored` or `smoothed`; `None` for
/// any other call.
pub(super) fn call<'s>(
    ev: &Evaluator<'s>,
    call: &Call,
    t: i64,
) -> Option<Result<Value<'s>, Error>> {
    let ms = call.args.args.iter().find_map(|a| match unparen(a) {
        Expr::MatrixSelector(ms) if ms.vs.anchored || ms.vs.smoothed => Some(ms),
        _ => None,
    })?;
    Some(range_call(ev, call.func.name, ms, t))
}

fn unparen(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => unparen(&p.expr),
        other => other,
    }
}

fn modifier(vs: &VectorSelector) -> &'static str {
    if vs.anchored { "anchored" } else { "smoothed" }
}

/// The range `(start, end]` of `ms` at `t`, and the window its samples
/// are read from.
pub(super) struct Window {
    pub(super) start: i64,
    pub(super) end: i64,
    read_from: i64,
    read_to: i64,
}

fn window(ev: &Evaluator<'_>, ms: &MatrixSelector, t: i64) -> Window {
    let vs = &ms.vs;
    let end = ev.shifted(vs.at.as_ref(), vs.offset.as_ref(), t);
    let start = end.saturating_sub(millis(ms.range));
    let lookback = ev.lookback();
    Window {
        start,
        end,
        read_from: start.saturating_sub(lookback),
        read_to: if vs.smoothed {
            end.saturating_add(lookback)
        } else {
            end
        },
    }
}

fn no_histograms(series: &RangeSeries<'_>, vs: &VectorSelector) -> Result<(), Error> {
    if series.points.iter().any(|p| is_histogram(p.v)) {
        return Err(Error::Eval(format!(
            "{} modifier is not supported with histograms",
            modifier(vs)
        )));
    }
    Ok(())
}

fn range_call<'s>(
    ev: &Evaluator<'s>,
    name: &str,
    ms: &MatrixSelector,
    t: i64,
) -> Result<Value<'s>, Error> {
    let vs = &ms.vs;
    let safe: &[&str] = if vs.anchored {
        &ANCHORED_SAFE
    } else {
        &SMOOTHED_SAFE
    };
    if !safe.contains(&name) {
        return Err(Error::Eval(format!(
            "{} modifier can only be used with: {} - not with {name}",
            modifier(vs),
            safe.join(", ")
        )));
    }
    let w = window(ev, ms, t);
    let m = ev.matrix_window(vs, w.read_from, w.read_to)?;
    let mut out = Vec::with_capacity(m.series.len());
    let has_histograms = ev.has_histograms();
    for s in &m.series {
        let p = &s.points;
        let histograms = has_histograms && p.iter().any(|p| is_histogram(p.v));
        let rate_range = (name == "rate").then_some(millis(ms.range));
        let v = match name {
            "rate" | "increase" | "delta" if histograms => super::extended_histograms::rate(
                ev,
                p,
                &w,
                vs.smoothed,
                name != "delta",
                rate_range,
            ),
            "rate" | "increase" | "delta" => {
                extended_rate(p, &w, vs.smoothed, name != "delta", rate_range)
            }
            "resets" if histograms => {
                super::extended_histograms::anchored_count(ev, p, w.start, true)
            }
            "changes" if histograms => {
                super::extended_histograms::anchored_count(ev, p, w.start, false)
            }
            "resets" => anchored_count(p, w.start, |a, b| b < a),
            _ => anchored_count(p, w.start, |a, b| b != a && !(a.is_nan() && b.is_nan())),
        };
        if let Some(v) = v {
            out.push(Sample {
                labels: s.without_name.clone(),
                t,
                v,
            });
        }
    }
    super::eval::check_unique(&out)?;
    Ok(Value::Vector(out))
}

/// Go's `interpolate`: the value at `t` on the line from `p1` to `p2`; a
/// counter that dropped is taken to restart from 0.
pub(super) fn interpolate(p1: Point, p2: Point, t: i64, is_counter: bool) -> f64 {
    let y1 = if is_counter && p2.v < p1.v { 0.0 } else { p1.v };
    y1 + (p2.v - y1) * (t - p1.t) as f64 / (p2.t - p1.t) as f64
}

/// Go's `extendedRate`; `rate_range_ms` is the range `rate` divides by.
fn extended_rate(
    f: &[Point],
    w: &Window,
    smoothed: bool,
    is_counter: bool,
    rate_range_ms: Option<i64>,
) -> Option<f64> {
    let mut last = f.len().checked_sub(1)?;
    // The last sample at or before the start (or the first one).
    let mut first = f[..last]
        .partition_point(|p| p.t <= w.start)
        .saturating_sub(1);
    if smoothed {
        last = f[..last].partition_point(|p| p.t < w.end);
    }
    if f[last].t <= w.start || (smoothed && f[first].t > w.end) {
        return None;
    }
    let left = if smoothed && f[first].t < w.start {
        interpolate(f[first], f[first + 1], w.start, is_counter)
    } else {
        f[first].v
    };
    let right = if smoothed && last > 0 && f[last].t > w.end {
        interpolate(f[last - 1], f[last], w.end, is_counter)
    } else {
        f[last].v
    };
    let mut result = right - left;
    if is_counter {
        // Resets strictly inside the range; the ends are handled above.
        if f[first].t <= w.start {
            first += 1;
        }
        let inner_end = if f[last].t >= w.end { last } else { last + 1 };
        let inner = f.get(first..inner_end.max(first)).unwrap_or(&[]);
        result += reset_correction(left, right, inner);
    }
    if let Some(range_ms) = rate_range_ms {
        result /= range_ms as f64 / 1000.0;
    }
    Some(result)
}

/// Go's `correctForCounterResets`.
fn reset_correction(left: f64, right: f64, points: &[Point]) -> f64 {
    let mut correction = 0.0;
    let mut prev = left;
    for p in points {
        if p.v < prev {
            correction += prev;
        }
        prev = p.v;
    }
    if right < prev {
        correction += prev;
    }
    correction
}

/// `resets` / `changes` over an anchored range: pairs counted from the
/// last sample at or before `start` (`pickFirstSampleIndices`); nothing
/// when no sample is after `start`.
fn anchored_count(f: &[Point], start: i64, counts: impl Fn(f64, f64) -> bool) -> Option<f64> {
    let after = f.partition_point(|p| p.t <= start);
    if after >= f.len() {
        return None;
    }
    let from = after.saturating_sub(1);
    Some(
        f[from..]
            .windows(2)
            .filter(|w| counts(w[0].v, w[1].v))
            .count() as f64,
    )
}

/// A range selector `anchored` or `smoothed` evaluated on its own: its
/// samples in the range with a point added at each bound (`extendFloats`).
pub(super) fn matrix<'s>(
    ev: &Evaluator<'s>,
    ms: &MatrixSelector,
    t: i64,
) -> Result<Matrix<'s>, Error> {
    let vs = &ms.vs;
    let w = window(ev, ms, t);
    let m = ev.matrix_window(vs, w.read_from, w.read_to)?;
    let mut series = Vec::with_capacity(m.series.len());
    for s in m.series {
        no_histograms(&s, vs)?;
        if let Some(points) = extend(&s.points, w.start, w.end, vs.smoothed) {
            series.push(RangeSeries {
                points: Cow::Owned(points),
                source: None,
                ..s
            });
        }
    }
    Ok(Matrix {
        start: w.start,
        end: w.end,
        series,
    })
}

/// Go's `extendFloats`.
fn extend(f: &[Point], start: i64, end: i64, smoothed: bool) -> Option<Vec<Point>> {
    let mut last = f.len().checked_sub(1)?;
    let mut first = f[..last]
        .partition_point(|p| p.t <= start)
        .saturating_sub(1);
    if smoothed {
        last = f[..last].partition_point(|p| p.t < end);
    }
    if f[last].t <= start {
        return None;
    }
    let left = if smoothed && f[first].t < start {
        interpolate(f[first], f[first + 1], start, false)
    } else {
        f[first].v
    };
    let right = if smoothed && last > 0 && f[last].t > end {
        interpolate(f[last - 1], f[last], end, false)
    } else {
        f[last].v
    };
    if f[first].t <= start {
        first += 1;
    }
    let inner_end = if f[last].t >= end { last } else { last + 1 };
    let mut out = Vec::with_capacity(inner_end.saturating_sub(first) + 2);
    out.push(Point { t: start, v: left });
    out.extend_from_slice(f.get(first..inner_end.max(first)).unwrap_or(&[]));
    out.push(Point { t: end, v: right });
    Some(out)
}

/// An instant selector `smoothed` (`smoothSeries`): per series the sample
/// at the selector's time, else the value interpolated between the
/// samples around it (within a lookback each way), else the last one
/// before it. The metric name stays.
pub(super) fn smoothed_vector(
    ev: &Evaluator<'_>,
    vs: &VectorSelector,
    t: i64,
) -> Result<Vec<Sample>, Error> {
    let at = ev.shifted(vs.at.as_ref(), vs.offset.as_ref(), t);
    let lookback = ev.lookback();
    let m = ev.matrix_window(vs, at.saturating_sub(lookback), at.saturating_add(lookback))?;
    let has_histograms = ev.has_histograms();
    let mut out = Vec::with_capacity(m.series.len());
    for s in &m.series {
        let f = &s.points;
        if has_histograms && f.iter().any(|p| is_histogram(p.v)) {
            if let Some(v) = super::extended_histograms::smoothed(ev, f, at) {
                out.push(Sample {
                    labels: s.labels.clone(),
                    t,
                    v,
                });
            }
            continue;
        }
        let i = f.partition_point(|p| p.t < at);
        let v = match (f.get(i), i.checked_sub(1).map(|k| f[k])) {
            (Some(p), _) if p.t == at => p.v,
            (Some(&next), Some(prev)) => interpolate(prev, next, at, false),
            (None, Some(prev)) => prev.v,
            _ => continue,
        };
        out.push(Sample {
            labels: s.labels.clone(),
            t,
            v,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(ps: &[(i64, f64)]) -> Vec<Point> {
        ps.iter().map(|&(t, v)| Point { t, v }).collect()
    }

    #[test]
    fn anchored_increase_is_the_difference_of_real_samples() {
        // Samples every 15 s of a counter 0, 1, 2, ...; range (60s, 120s].
        let f = points(&[(45_000, 3.0), (60_000, 4.0), (75_000, 5.0), (120_000, 8.0)]);
        let w = Window {
            start: 60_000,
            end: 120_000,
            read_from: 0,
            read_to: 120_000,
        };
        assert_eq!(extended_rate(&f, &w, false, true, None), Some(4.0));
        assert_eq!(
            extended_rate(&f, &w, false, true, Some(60_000)),
            Some(4.0 / 60.0)
        );
    }

    #[test]
    fn smoothed_interpolates_at_both_ends_and_models_resets() {
        let f = points(&[(0, 0.0), (20_000, 20.0), (40_000, 5.0)]);
        let w = Window {
            start: 10_000,
            end: 30_000,
            read_from: 0,
            read_to: 40_000,
        };
        // Left: 10 at 10 s. Right: the counter restarted from 0 towards 5,
        // 2.5 at 30 s; the reset adds the 20 it dropped from.
        assert_eq!(
            extended_rate(&f, &w, true, true, None),
            Some(2.5 - 10.0 + 20.0)
        );
        // As a gauge (delta): 20 -> 5 interpolates to 12.5 at 30 s.
        assert_eq!(extended_rate(&f, &w, true, false, None), Some(12.5 - 10.0));
    }

    #[test]
    fn anchored_counts_start_at_the_sample_before_the_range() {
        let f = points(&[(0, 5.0), (30_000, 1.0), (60_000, 1.0), (90_000, 0.0)]);
        assert_eq!(anchored_count(&f, 30_000, |a, b| b < a), Some(1.0));
        assert_eq!(anchored_count(&f, 20_000, |a, b| b < a), Some(2.0));
        assert_eq!(anchored_count(&f, 90_000, |a, b| b < a), None);
    }
}
