//! A chart's HTML around its SVG: the hover data the page's script reads
//! (on the plot's wrapper), the legend below the plot with swatches drawn
//! as their lines are, and plotters' black and white named so the page's
//! CSS recolors them on a dark background.

use std::fmt::Write as _;

use plotters::style::RGBColor;

use super::charts::{DrawResult, HoverLine, Line};
use super::escape;

/// Points a hover readout keeps per line: enough to read any second of a
/// short run, and a long run's page stays small.
const HOVER_POINTS: usize = 240;

/// What the page's script reads to show the values under the pointer:
/// where the plot sits in the SVG (pixels) and which x range it spans,
/// and each line's label, color and points. Without the script the chart
/// reads the same.
pub(super) struct Hover {
    pub(super) width: u32,
    pub(super) pixels: (i32, i32),
    pub(super) x_range: (f64, f64),
    /// "s" (seconds) or "pct" (the percentile plot's x).
    pub(super) kind: &'static str,
    pub(super) unit: &'static str,
    pub(super) lines: Vec<HoverLine>,
}

/// A number as JSON with four significant digits (non-finite: null).
fn short(v: f64) -> String {
    if !v.is_finite() {
        return "null".into();
    }
    let text = format!("{v:.4e}");
    text.parse::<f64>().map_or("null".into(), |v| v.to_string())
}

fn json_string(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

impl Hover {
    fn attribute(&self) -> String {
        let mut json = format!(
            "{{\"w\":{},\"px\":[{},{}],\"x\":[{},{}],\"kind\":\"{}\",\"unit\":{},\"lines\":[",
            self.width,
            self.pixels.0,
            self.pixels.1,
            short(self.x_range.0),
            short(self.x_range.1),
            self.kind,
            json_string(self.unit)
        );
        for (index, (label, color, points)) in self.lines.iter().enumerate() {
            let step = points.len().div_ceil(HOVER_POINTS).max(1);
            let points: Vec<String> = points
                .iter()
                .step_by(step)
                .map(|(x, y)| format!("[{},{}]", short(*x), short(*y)))
                .collect();
            let _ = write!(
                json,
                "{}{{\"l\":{},\"c\":\"{color}\",\"p\":[{}]}}",
                if index == 0 { "" } else { "," },
                json_string(label),
                points.join(",")
            );
        }
        json.push_str("]}");
        escape(&json)
    }
}

pub(super) fn css_color(color: Option<RGBColor>) -> String {
    match color {
        Some(RGBColor(r, g, b)) => format!("#{r:02X}{g:02X}{b:02X}"),
        None => "currentColor".into(),
    }
}

/// The legend beside the plot, in HTML: a swatch drawn as its line is
/// (dashed or solid, its color) and the label.
fn legend(entries: &[(String, Option<RGBColor>, Line)]) -> String {
    let mut html = String::from("<ul class=\"legend\">");
    for (label, color, line) in entries {
        let dash = match line {
            Line::Solid => "",
            Line::Dashed => " stroke-dasharray=\"6 4\"",
            Line::Reference => " stroke-dasharray=\"10 5\"",
        };
        let _ = write!(
            html,
            "<li><svg class=\"swatch\" width=\"28\" height=\"10\" viewBox=\"0 0 28 10\" aria-hidden=\"true\"><line x1=\"1\" y1=\"5\" x2=\"27\" y2=\"5\" stroke=\"{}\" stroke-width=\"2.5\"{dash}/></svg>{}</li>",
            css_color(*color),
            escape(label)
        );
    }
    html.push_str("</ul>");
    html
}

/// plotters' black and white, named, so the page's CSS recolors them on a
/// dark background.
fn themed(svg: &str) -> String {
    svg.replace("fill=\"#FFFFFF\"", "class=\"bg\" fill=\"#FFFFFF\"")
        .replace("fill=\"#000000\"", "class=\"ink\" fill=\"#000000\"")
        .replace("stroke=\"#000000\"", "class=\"inks\" stroke=\"#000000\"")
}

/// What drawing a chart leaves beside its SVG.
pub(super) struct Drawn {
    pub(super) hover: Hover,
    pub(super) entries: Vec<(String, Option<RGBColor>, Line)>,
    /// The dashed lines, one `<polyline>` each with a dash pattern
    /// (plotters draws a dashed line as a polyline per dash: hundreds of
    /// elements on a long run), added at the end of the SVG.
    pub(super) dashes: String,
}

/// The chart's HTML: the SVG (its hover data on the wrapper), the legend
/// below it; a failed drawing leaves a note in place of the chart, not a
/// broken page.
pub(super) fn finish(drawn: DrawResult<Drawn>, mut svg: String) -> String {
    match drawn {
        Ok(Drawn {
            hover,
            entries,
            dashes,
        }) => format!(
            "<div class=\"plot\" data-hover=\"{}\">{}</div>{}",
            hover.attribute(),
            themed({
                if let Some(end) = svg.rfind("</svg>") {
                    svg.insert_str(end, &dashes);
                }
                &svg
            }),
            if entries.is_empty() {
                String::new()
            } else {
                legend(&entries)
            }
        ),
        Err(e) => format!(
            "<p class=\"note\">chart not drawn: {}</p>",
            escape(&e.to_string())
        ),
    }
}
