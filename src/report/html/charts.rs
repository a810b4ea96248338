//! The report's charts, drawn with `plotters` into SVG strings: over time
//! (throughput, latency percentiles, errors by kind) with the phases as
//! bands and the fault windows marked, the latency distribution per phase
//! (HdrHistogram's percentile plot), and the alert timeline.
//!
//! Colors are the Okabe–Ito palette (distinguishable with the common color
//! blindnesses), and every series also differs by its label in the
//! legend. plotters escapes the text it writes into the SVG (names and
//! labels from outside included; the report test feeds it markup), so
//! text goes to it unescaped.

use plotters::prelude::*;

use super::escape;

use crate::report::run::saved::{FaultWindow, Phase};

/// Okabe–Ito: blue, orange, bluish green, vermillion, reddish purple, sky
/// blue, yellow, black.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0xF0, 0xE4, 0x42),
    RGBColor(0x00, 0x00, 0x00),
];

const WIDTH: u32 = 960;
const HEIGHT: u32 = 280;

/// One line of a chart.
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    /// Drawn dashed (service time beside latency, say).
    pub dashed: bool,
}

/// What every over-time chart shares: the phases and fault windows.
pub struct Backdrop<'a> {
    pub phases: &'a [Phase],
    pub faults: &'a [FaultWindow],
    pub duration_s: f64,
}

type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

fn max_y(series: &[Series], floor: f64) -> f64 {
    let top = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .filter(|y| y.is_finite())
        .fold(0.0f64, f64::max);
    (top * 1.1).max(floor)
}

/// A chart of `series` over the run's seconds, with phase bands (named at
/// the top) and fault windows (hatched strip at the bottom).
pub fn over_time(y_desc: &str, series: &[Series], backdrop: &Backdrop) -> String {
    let y_range = (0.0, max_y(series, 1.0));
    draw_or_note(|svg| draw_over_time(svg, y_desc, series, backdrop, y_range, None))
}

/// [`over_time`] for a PromQL check's series: the y axis fits the values
/// and the threshold (drawn as a dashed line, labelled), negative ones too.
pub fn against_threshold(
    series: &[Series],
    backdrop: &Backdrop,
    threshold: f64,
    label: &str,
) -> String {
    let values = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .chain([threshold, 0.0])
        .filter(|v| v.is_finite());
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let pad = ((high - low) * 0.1)
        .max(high.abs().max(low.abs()) * 0.1)
        .max(1e-9);
    let y_range = (if low < 0.0 { low - pad } else { 0.0 }, high + pad);
    draw_or_note(|svg| {
        draw_over_time(
            svg,
            "value",
            series,
            backdrop,
            y_range,
            Some((threshold, label)),
        )
    })
}

/// Draws each line (the palette's `color`-th color, dashed or solid) with
/// its legend entry, then the legend at `position`.
fn draw_lines<'a, 's, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    lines: impl Iterator<Item = (usize, &'s Series, Vec<(f64, f64)>)>,
    position: SeriesLabelPosition,
) -> DrawResult<()>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for (color, s, points) in lines {
        let color = PALETTE[color % PALETTE.len()];
        let style = color.stroke_width(2);
        let drawn = if s.dashed {
            chart.draw_series(DashedLineSeries::new(points, 6, 4, style))?
        } else {
            chart.draw_series(LineSeries::new(points, style))?
        };
        drawn.label(s.label.clone()).legend(move |(x, y)| {
            PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
        });
    }
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()?;
    Ok(())
}

/// A failed drawing leaves a note in place of the chart, not a broken page.
fn draw_or_note(draw: impl FnOnce(&mut String) -> DrawResult<()>) -> String {
    let mut svg = String::new();
    if let Err(e) = draw(&mut svg) {
        return format!(
            "<p class=\"note\">chart not drawn: {}</p>",
            escape(&e.to_string())
        );
    }
    svg
}

fn draw_over_time(
    svg: &mut String,
    y_desc: &str,
    series: &[Series],
    backdrop: &Backdrop,
    (y_min, y_max): (f64, f64),
    threshold: Option<(f64, &str)>,
) -> DrawResult<()> {
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let x_max = backdrop.duration_s.max(1.0);
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(34)
        .y_label_area_size(62)
        .build_cartesian_2d(0f64..x_max, y_min..y_max)?;
    let height = y_max - y_min;
    // Phase bands, alternating shades, named at the top.
    for (index, phase) in backdrop.phases.iter().enumerate() {
        let shade = if index % 2 == 0 { 0.06 } else { 0.13 };
        let end = (phase.start_s + phase.duration_s).min(x_max);
        chart.draw_series(std::iter::once(Rectangle::new(
            [(phase.start_s, y_min), (end, y_max)],
            BLACK.mix(shade).filled(),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            phase.name.clone(),
            (phase.start_s + x_max * 0.005, y_min + height * 0.97),
            ("sans-serif", 12).into_font().color(&BLACK.mix(0.7)),
        )))?;
    }
    // Fault windows: a strip along the bottom, labelled above it (faults
    // starting together are stacked).
    for (index, window) in backdrop.faults.iter().enumerate() {
        chart.draw_series(std::iter::once(Rectangle::new(
            [
                (window.start_s, y_min),
                (window.end_s.min(x_max), y_min + height * 0.04),
            ],
            PALETTE[3].mix(0.5).filled(),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            format!("fault: {}", window.fault),
            (
                window.start_s + x_max * 0.005,
                y_min + height * (0.09 + 0.06 * (index % 4) as f64),
            ),
            ("sans-serif", 11).into_font().color(&PALETTE[3]),
        )))?;
    }
    chart
        .configure_mesh()
        .x_desc("seconds since the start")
        .y_desc(y_desc)
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    if let Some((value, label)) = threshold {
        let style = BLACK.stroke_width(2);
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, value), (x_max, value)],
                10,
                5,
                style,
            ))?
            .label(label.to_string())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
    }
    draw_lines(
        &mut chart,
        series
            .iter()
            .enumerate()
            .map(|(index, s)| (index, s, decimate(&s.points, x_max, (WIDTH / 2) as usize))),
        SeriesLabelPosition::UpperRight,
    )?;
    root.present()?;
    Ok(())
}

/// At most two points per `buckets`-th of the x range: the lowest and the
/// highest of the bucket, in x order. Drawn `buckets` wide or narrower,
/// the line looks the same as with every point (spikes included), and a
/// long run's page stays small.
pub fn decimate(points: &[(f64, f64)], x_max: f64, buckets: usize) -> Vec<(f64, f64)> {
    if points.len() <= 2 * buckets || x_max <= 0.0 {
        return points.to_vec();
    }
    let width = x_max / buckets as f64;
    let mut out = Vec::with_capacity(2 * buckets + 2);
    let mut start = 0;
    while start < points.len() {
        let bucket = (points[start].0 / width).floor();
        let end = start
            + points[start..]
                .iter()
                .take_while(|p| (p.0 / width).floor() == bucket)
                .count()
                .max(1);
        let group = &points[start..end];
        let low = group
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.1.total_cmp(&b.1.1));
        let high = group
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.1.total_cmp(&b.1.1));
        if let (Some((i, lo)), Some((j, hi))) = (low, high) {
            match i.cmp(&j) {
                std::cmp::Ordering::Less => out.extend([*lo, *hi]),
                std::cmp::Ordering::Greater => out.extend([*hi, *lo]),
                std::cmp::Ordering::Equal => out.push(*lo),
            }
        }
        start = end;
    }
    out
}

/// x of the percentile plot: `-log10(1 - q)` (0 = p0, 1 = p90, 2 = p99, ...).
pub fn percentile_x(q: f64) -> f64 {
    -(1.0 - q).max(1e-9).log10()
}

fn percentile_label(x: f64) -> String {
    let q = 100.0 * (1.0 - 10f64.powf(-x));
    format!(
        "p{}",
        crate::promql::format_short((q * 1000.0).round() / 1000.0)
    )
}

/// The latency distribution: latency (ms, log scale) by percentile (log
/// scale of 1 − q), one line per series.
pub fn percentiles(series: &[Series]) -> String {
    draw_or_note(|svg| draw_percentiles(svg, series))
}

fn draw_percentiles(svg: &mut String, series: &[Series]) -> DrawResult<()> {
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT + 40)).into_drawing_area();
    root.fill(&WHITE)?;
    let x_max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(2.0f64, f64::max)
        .ceil();
    let y_max = max_y(series, 1.0);
    let y_min = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .filter(|y| *y > 0.0)
        .fold(y_max, f64::min)
        .max(0.001)
        * 0.8;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(34)
        .y_label_area_size(62)
        .build_cartesian_2d(0f64..x_max, (y_min..y_max).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("ms (log scale)")
        .x_labels(x_max as usize + 1)
        .x_label_formatter(&|x| percentile_label(*x))
        .y_labels(8)
        .y_label_formatter(&|y| crate::promql::format_short(*y))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    // A color per pair of lines (latency and service time of one name).
    draw_lines(
        &mut chart,
        series.iter().enumerate().map(|(index, s)| {
            let points = s.points.iter().copied().filter(|p| p.1 > 0.0).collect();
            (index / 2, s, points)
        }),
        SeriesLabelPosition::UpperLeft,
    )?;
    root.present()?;
    Ok(())
}

/// One row of the alert timeline: its name and label set, and when it was
/// pending and firing (seconds since the start).
pub struct AlertRow {
    pub label: String,
    pub pending: Vec<(f64, f64)>,
    pub firing: Vec<(f64, f64)>,
    /// An expectation's row: where it wants the alert (hatched).
    pub expected: Option<(f64, f64)>,
}

/// Pending (light, outlined) and firing (solid) bars per alert.
pub fn alert_timeline(rows: &[AlertRow], backdrop: &Backdrop) -> String {
    draw_or_note(|svg| draw_alert_timeline(svg, rows, backdrop))
}

fn draw_alert_timeline(svg: &mut String, rows: &[AlertRow], backdrop: &Backdrop) -> DrawResult<()> {
    let height = 80 + 34 * rows.len() as u32;
    let root = SVGBackend::with_string(svg, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let x_max = backdrop.duration_s.max(1.0);
    let n = rows.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(34)
        .y_label_area_size(10)
        .build_cartesian_2d(0f64..x_max, 0f64..n)?;
    for (index, phase) in backdrop.phases.iter().enumerate() {
        let shade = if index % 2 == 0 { 0.06 } else { 0.13 };
        chart.draw_series(std::iter::once(Rectangle::new(
            [
                (phase.start_s, 0.0),
                ((phase.start_s + phase.duration_s).min(x_max), n),
            ],
            BLACK.mix(shade).filled(),
        )))?;
    }
    for window in backdrop.faults {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(window.start_s, 0.0), (window.end_s.min(x_max), n * 0.03)],
            PALETTE[3].mix(0.5).filled(),
        )))?;
    }
    chart
        .configure_mesh()
        .x_desc("seconds since the start")
        .disable_y_mesh()
        .disable_y_axis()
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for (index, row) in rows.iter().enumerate() {
        let y = n - index as f64 - 1.0;
        for (from, to) in &row.pending {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(*from, y + 0.25), (*to, y + 0.6)],
                PALETTE[1].mix(0.35).filled(),
            )))?;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(*from, y + 0.25), (*to, y + 0.6)],
                PALETTE[1].stroke_width(1),
            )))?;
        }
        for (from, to) in &row.firing {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(*from, y + 0.25), (*to, y + 0.6)],
                PALETTE[3].filled(),
            )))?;
        }
        if let Some((from, to)) = row.expected {
            let (from, to) = (from.clamp(0.0, x_max), to.clamp(0.0, x_max));
            // Diagonal hatching, so the window reads without its color.
            let hatch = (0..)
                .map(|i| from + f64::from(i) * x_max / 160.0)
                .take_while(|x| *x < to)
                .map(|x| {
                    PathElement::new(
                        vec![(x, y + 0.25), ((x + x_max / 320.0).min(to), y + 0.6)],
                        PALETTE[2].stroke_width(1),
                    )
                });
            chart.draw_series(hatch)?;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(from, y + 0.25), (to, y + 0.6)],
                PALETTE[2].stroke_width(2),
            )))?;
        }
        chart.draw_series(std::iter::once(Text::new(
            format!("{}. {}", index + 1, row.label),
            (x_max * 0.005, y + 0.9),
            ("sans-serif", 12).into_font().color(&BLACK),
        )))?;
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimation_keeps_each_buckets_extremes_in_order() {
        let points: Vec<(f64, f64)> = (0..1000).map(|i| (i as f64, (i % 7) as f64)).collect();
        let thin = decimate(&points, 1000.0, 100);
        assert!(thin.len() <= 200, "{}", thin.len());
        // Every bucket of 10 points holds a 0 and a 6.
        assert_eq!(thin.iter().filter(|p| p.1 == 6.0).count(), 100);
        assert_eq!(thin.iter().filter(|p| p.1 == 0.0).count(), 100);
        assert!(thin.windows(2).all(|w| w[0].0 < w[1].0));
        // A spike survives.
        let spiky: Vec<(f64, f64)> = (0..1000)
            .map(|i| (i as f64, if i == 517 { 99.0 } else { 1.0 }))
            .collect();
        assert!(decimate(&spiky, 1000.0, 100).contains(&(517.0, 99.0)));
        // Few points: unchanged.
        assert_eq!(
            decimate(&points[..150], 1000.0, 100),
            points[..150].to_vec()
        );
    }
}
