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

use std::fmt::Write as _;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::frame::{Drawn, Hover, css_color, finish};

use crate::report::run::saved::{FaultWindow, Phase};

/// Okabe–Ito: blue, orange, bluish green, vermillion, reddish purple, sky
/// blue, yellow; grey in place of its black, so a line stays visible on a
/// dark background.
pub(crate) const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0xF0, 0xE4, 0x42),
    RGBColor(0x99, 0x99, 0x99),
];

/// How big a chart is drawn: the page's width, or one of a grid of small
/// multiples (scaled to the page by CSS either way).
#[derive(Clone, Copy)]
pub(crate) enum Size {
    Wide,
    Small,
}

impl Size {
    fn pixels(self) -> (u32, u32) {
        match self {
            Size::Wide => (1100, 320),
            Size::Small => (440, 250),
        }
    }
}

/// How a line is drawn.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Line {
    Solid,
    /// Service time beside latency, say.
    Dashed,
    /// A reference (a threshold, the target rate): dashed, in the text's
    /// color, outside the palette's rotation.
    Reference,
}

/// One line of a chart; a non-finite y breaks it.
pub(crate) struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub line: Line,
}

/// What every over-time chart shares: the phases and fault windows.
pub(crate) struct Backdrop<'a> {
    pub phases: &'a [Phase],
    pub faults: &'a [FaultWindow],
    pub duration_s: f64,
}

pub(super) type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

type Points = Vec<(f64, f64)>;

/// A line as drawn: its series, its color (None: the text's), its points
/// after decimation.
type Drawing<'s> = (&'s Series, Option<RGBColor>, Points);

/// A line of hover data: label, CSS color, points.
pub(super) type HoverLine = (String, String, Points);

/// The hover data of the lines as drawn.
fn hover_lines(lines: &[Drawing]) -> Vec<HoverLine> {
    lines
        .iter()
        .map(|(s, c, points)| (s.label.clone(), css_color(*c), points.clone()))
        .collect()
}

/// A row of names above the plot: (x, name) each, color, pixels above.
type NameRow = (Vec<(f64, String)>, RGBAColor, i32);

/// The largest finite y of `series`, with room above, at least `floor`.
pub(crate) fn max_y(series: &[Series], floor: f64) -> f64 {
    let top = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .filter(|y| y.is_finite())
        .fold(0.0f64, f64::max);
    (top * 1.1).max(floor)
}

/// A chart of `series` over the run's seconds, with phase bands (named
/// above the plot) and fault windows (a strip at the bottom, named above
/// the plot); y from 0 to `y_max` (None: fitted to the series).
pub(crate) fn over_time(
    y_desc: &str,
    series: &[Series],
    backdrop: &Backdrop,
    size: Size,
    y_max: Option<f64>,
) -> String {
    let y_range = (0.0, y_max.unwrap_or_else(|| max_y(series, 1.0)));
    let mut svg = String::new();
    let drawn = draw_over_time(&mut svg, y_desc, series, backdrop, y_range, size);
    finish(drawn, svg)
}

/// [`over_time`] for a PromQL check's series: the y axis fits the values
/// and the threshold (drawn as a reference line, labelled), negative ones
/// too.
pub(crate) fn against_threshold(
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
    let x_max = backdrop.duration_s.max(1.0);
    let mut lines: Vec<Series> = vec![Series {
        label: label.to_string(),
        points: vec![(0.0, threshold), (x_max, threshold)],
        line: Line::Reference,
    }];
    lines.extend(series.iter().map(|s| Series {
        label: s.label.clone(),
        points: s.points.clone(),
        line: s.line,
    }));
    let mut svg = String::new();
    let drawn = draw_over_time(&mut svg, "value", &lines, backdrop, y_range, Size::Wide);
    finish(drawn, svg)
}

/// Each line's color: the palette in turn, references in the text's color.
fn colors(series: &[Series]) -> Vec<Option<RGBColor>> {
    let mut next = 0;
    series
        .iter()
        .map(|s| {
            if s.line == Line::Reference {
                None
            } else {
                next += 1;
                Some(PALETTE[(next - 1) % PALETTE.len()])
            }
        })
        .collect()
}

/// Draws each line, split where y is not finite: solid ones with
/// plotters, dashed ones into `dashes` (a polyline with a dash pattern,
/// at plotters' pixels); returns the legend's entries.
fn draw_lines<'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    lines: &[Drawing],
    dashes: &mut String,
) -> DrawResult<Vec<(String, Option<RGBColor>, Line)>>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let mut entries = Vec::new();
    for (s, color, points) in lines {
        let stroke = color.unwrap_or(BLACK);
        for piece in points.split(|p| !p.1.is_finite()).filter(|p| !p.is_empty()) {
            let pattern = match s.line {
                Line::Solid => {
                    chart.draw_series(LineSeries::new(piece.to_vec(), stroke.stroke_width(2)))?;
                    continue;
                }
                Line::Dashed => "6 4",
                Line::Reference => "10 5",
            };
            let pixels: Vec<String> = piece
                .iter()
                .map(|p| {
                    let (x, y) = chart.backend_coord(p);
                    format!("{x},{y}")
                })
                .collect();
            let _ = write!(
                dashes,
                "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"{pattern}\" points=\"{}\"/>",
                css_color(Some(stroke)),
                pixels.join(" ")
            );
        }
        entries.push((s.label.clone(), *color, s.line));
    }
    Ok(entries)
}

/// Buckets of [`decimate`]: about one per 2 px of the chart as the page
/// shows it.
fn buckets(size: Size) -> usize {
    match size {
        Size::Wide => 480,
        Size::Small => 200,
    }
}

/// Font sizes as plotters takes them (its SVG writes 1/1.24 of them):
/// tick labels, axis descriptions, names above the plot.
fn fonts(size: Size) -> (u32, u32, u32) {
    match size {
        Size::Wide => (18, 18, 17),
        Size::Small => (16, 16, 15),
    }
}

fn draw_over_time(
    svg: &mut String,
    y_desc: &str,
    series: &[Series],
    backdrop: &Backdrop,
    (y_min, y_max): (f64, f64),
    size: Size,
) -> DrawResult<Drawn> {
    let (width, height) = size.pixels();
    let (tick, desc, names) = fonts(size);
    let root = SVGBackend::with_string(svg, (width, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let x_max = backdrop.duration_s.max(1.0);
    // Above the plot: a row of phase names, and one of fault names when
    // there are faults.
    let top = if backdrop.faults.is_empty() { 24 } else { 42 };
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .margin_top(top)
        .margin_right(18)
        .x_label_area_size(46)
        .y_label_area_size(74)
        .build_cartesian_2d(0f64..x_max, y_min..y_max)?;
    let band_height = y_max - y_min;
    for (index, phase) in backdrop.phases.iter().enumerate() {
        let shade = if index % 2 == 0 { 0.05 } else { 0.11 };
        let end = (phase.start_s + phase.duration_s).min(x_max);
        chart.draw_series(std::iter::once(Rectangle::new(
            [(phase.start_s, y_min), (end, y_max)],
            BLACK.mix(shade).filled(),
        )))?;
    }
    for window in backdrop.faults {
        chart.draw_series(std::iter::once(Rectangle::new(
            [
                (window.start_s, y_min),
                (window.end_s.min(x_max), y_min + band_height * 0.05),
            ],
            PALETTE[3].mix(0.6).filled(),
        )))?;
    }
    chart
        .configure_mesh()
        .x_desc("seconds since the start")
        .y_desc(y_desc)
        .label_style(("sans-serif", tick))
        .axis_desc_style(("sans-serif", desc))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    let (px, py) = chart.plotting_area().get_pixel_range();
    let place = |x: f64| chart.backend_coord(&(x, y_max)).0;
    names_above(&root, backdrop, place, (px.clone(), py.start), names)?;
    let colors = colors(series);
    let lines: Vec<Drawing> = series
        .iter()
        .zip(&colors)
        .map(|(s, c)| (s, *c, decimate(&s.points, x_max, buckets(size))))
        .collect();
    let mut dashes = String::new();
    let entries = draw_lines(&mut chart, &lines, &mut dashes)?;
    root.present()?;
    let hover = Hover {
        width,
        pixels: (px.start, px.end),
        x_range: (0.0, x_max),
        kind: "s",
        unit: if y_desc == "ms" { "ms" } else { "" },
        lines: hover_lines(&lines),
    };
    Ok(Drawn {
        hover,
        entries,
        dashes,
    })
}

/// The phase names (and the fault names, a row below) above the plot,
/// each at its start; a name that would run into the next is cut short.
fn names_above(
    root: &DrawingArea<SVGBackend, Shift>,
    backdrop: &Backdrop,
    place: impl Fn(f64) -> i32,
    (px, top): (std::ops::Range<i32>, i32),
    font: u32,
) -> DrawResult<()> {
    let rows: [NameRow; 2] = [
        (
            backdrop
                .phases
                .iter()
                .map(|p| (p.start_s, p.name.clone()))
                .collect(),
            BLACK.mix(0.75),
            if backdrop.faults.is_empty() { 18 } else { 36 },
        ),
        (
            backdrop
                .faults
                .iter()
                .map(|f| (f.start_s, format!("⚡ {}", f.fault)))
                .collect(),
            PALETTE[3].mix(1.0),
            18,
        ),
    ];
    for (names, color, above) in rows {
        for (index, (start, name)) in names.iter().enumerate() {
            let x = place(*start).max(px.start) + 3;
            let room = names
                .get(index + 1)
                .map_or(px.end, |next| place(next.0))
                .min(px.end)
                - x;
            // About 0.55 em per character.
            let fits = (room.max(0) as f64 / (font as f64 * 0.55)) as usize;
            if fits < 2 {
                continue;
            }
            let shown: String = if name.chars().count() > fits {
                name.chars().take(fits - 1).chain(['…']).collect()
            } else {
                name.clone()
            };
            let style = ("sans-serif", font).into_font().color(&color);
            root.draw(&Text::new(shown, (x, top - above), style))?;
        }
    }
    Ok(())
}

/// At most two points per `buckets`-th of the x range: the lowest and the
/// highest of the bucket, in x order. Drawn `buckets` wide or narrower,
/// the line looks the same as with every point (spikes included), and a
/// long run's page stays small.
pub(crate) fn decimate(points: &[(f64, f64)], x_max: f64, buckets: usize) -> Vec<(f64, f64)> {
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
pub(crate) fn percentile_x(q: f64) -> f64 {
    -(1.0 - q).max(1e-9).log10()
}

fn percentile_label(x: f64) -> String {
    let q = 100.0 * (1.0 - 10f64.powf(-x));
    format!(
        "p{}",
        crate::units::format_significant((q * 1000.0).round() / 1000.0)
    )
}

/// The latency distribution: latency (ms, log scale) by percentile (log
/// scale of 1 − q), one line per series, y over `y_range` (None: fitted).
pub(crate) fn percentiles(series: &[Series], size: Size, y_range: Option<(f64, f64)>) -> String {
    let y_range = y_range.unwrap_or_else(|| percentile_y_range(series));
    let mut svg = String::new();
    let drawn = draw_percentiles(&mut svg, series, size, y_range);
    finish(drawn, svg)
}

/// The log-scale y range that holds every positive value of `series`.
pub(crate) fn percentile_y_range(series: &[Series]) -> (f64, f64) {
    let y_max = max_y(series, 1.0);
    let y_min = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .filter(|y| *y > 0.0)
        .fold(y_max, f64::min)
        .max(0.001)
        * 0.8;
    (y_min, y_max)
}

fn draw_percentiles(
    svg: &mut String,
    series: &[Series],
    size: Size,
    (y_min, y_max): (f64, f64),
) -> DrawResult<Drawn> {
    let (width, height) = size.pixels();
    let (tick, desc, _) = fonts(size);
    let root = SVGBackend::with_string(svg, (width, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let x_max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(2.0f64, f64::max)
        .ceil();
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        // Room for the last percentile's label (p99.9999) past the plot.
        .margin_right(34)
        .x_label_area_size(46)
        .y_label_area_size(74)
        .build_cartesian_2d(0f64..x_max, (y_min..y_max).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("ms (log scale)")
        .x_labels(x_max as usize + 1)
        .x_label_formatter(&|x| percentile_label(*x))
        .y_labels(8)
        .y_label_formatter(&|y| crate::units::format_significant(*y))
        .label_style(("sans-serif", tick))
        .axis_desc_style(("sans-serif", desc))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    let colors = colors(series);
    let lines: Vec<Drawing> = series
        .iter()
        .zip(&colors)
        .map(|(s, c)| {
            let points = s.points.iter().copied().filter(|p| p.1 > 0.0).collect();
            (s, *c, points)
        })
        .collect();
    let mut dashes = String::new();
    let entries = draw_lines(&mut chart, &lines, &mut dashes)?;
    root.present()?;
    let (px, _) = chart.plotting_area().get_pixel_range();
    let hover = Hover {
        width,
        pixels: (px.start, px.end),
        x_range: (0.0, x_max),
        kind: "pct",
        unit: "ms",
        lines: hover_lines(&lines),
    };
    Ok(Drawn {
        hover,
        entries,
        dashes,
    })
}

/// One row of the alert timeline: its name and label set, and when it was
/// pending and firing (seconds since the start).
pub(crate) struct AlertRow {
    pub label: String,
    pub pending: Vec<(f64, f64)>,
    pub firing: Vec<(f64, f64)>,
    /// An expectation's row: where it wants the alert (hatched).
    pub expected: Option<(f64, f64)>,
}

/// Pending (light, outlined) and firing (solid) bars per alert.
pub(crate) fn alert_timeline(rows: &[AlertRow], backdrop: &Backdrop) -> String {
    let mut svg = String::new();
    let drawn = draw_alert_timeline(&mut svg, rows, backdrop);
    finish(drawn, svg)
}

fn draw_alert_timeline(
    svg: &mut String,
    rows: &[AlertRow],
    backdrop: &Backdrop,
) -> DrawResult<Drawn> {
    const WIDTH: u32 = 1100;
    let height = 80 + 44 * rows.len() as u32;
    let root = SVGBackend::with_string(svg, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let x_max = backdrop.duration_s.max(1.0);
    let n = rows.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(46)
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
        .label_style(("sans-serif", 18))
        .axis_desc_style(("sans-serif", 18))
        .disable_y_mesh()
        .disable_y_axis()
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for (index, row) in rows.iter().enumerate() {
        let y = n - index as f64 - 1.0;
        for (from, to) in &row.pending {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(*from, y + 0.1), (*to, y + 0.42)],
                PALETTE[1].mix(0.35).filled(),
            )))?;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(*from, y + 0.1), (*to, y + 0.42)],
                PALETTE[1].stroke_width(1),
            )))?;
        }
        for (from, to) in &row.firing {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(*from, y + 0.1), (*to, y + 0.42)],
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
                        vec![(x, y + 0.1), ((x + x_max / 320.0).min(to), y + 0.42)],
                        PALETTE[2].stroke_width(1),
                    )
                });
            chart.draw_series(hatch)?;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(from, y + 0.1), (to, y + 0.42)],
                PALETTE[2].stroke_width(2),
            )))?;
        }
        chart.draw_series(std::iter::once(Text::new(
            format!("{}. {}", index + 1, row.label),
            (x_max * 0.005, y + 0.94),
            ("sans-serif", 16).into_font().color(&BLACK),
        )))?;
    }
    root.present()?;
    let (px, _) = chart.plotting_area().get_pixel_range();
    // Each row as a line: 2 firing, 1 pending, 0 neither, at the ends of
    // its bars (the script names the states).
    let lines = rows
        .iter()
        .enumerate()
        .map(|(index, row)| {
            let mut points = vec![(0.0, 0.0)];
            let mut bars: Vec<(f64, f64, f64)> = row
                .pending
                .iter()
                .map(|(a, b)| (*a, *b, 1.0))
                .chain(row.firing.iter().map(|(a, b)| (*a, *b, 2.0)))
                .chain(row.expected.map(|(a, b)| (a, b, 3.0)))
                .collect();
            bars.sort_by(|a, b| a.0.total_cmp(&b.0));
            for (from, to, state) in bars {
                points.extend([(from, state), (to, 0.0)]);
            }
            (
                format!("{}. {}", index + 1, row.label),
                String::new(),
                points,
            )
        })
        .collect();
    let hover = Hover {
        width: WIDTH,
        pixels: (px.start, px.end),
        x_range: (0.0, x_max),
        kind: "alerts",
        unit: "",
        lines,
    };
    Ok(Drawn {
        hover,
        entries: Vec::new(),
        dashes: String::new(),
    })
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
