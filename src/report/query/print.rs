//! How `slogate query` prints an answer: a table, JSON shaped like
//! Prometheus's API answer, or CSV. A native histogram is printed as
//! Prometheus does: `"histogram"` / `"histograms"` in JSON (see
//! [`super::api`]), Go's `FloatHistogram.String()` in the table and CSV.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::api;
use crate::metrics::histogram::FloatHistogram;
use crate::metrics::histogram::notation::go_string;
use crate::metrics::store::Labels;
use crate::promql::format_value;
use promql_parser::parser::value::ValueType;

/// One value of an answer.
#[derive(Debug, Clone)]
pub(crate) enum Reading {
    Float(f64),
    Histogram(Arc<FloatHistogram>),
}

impl Reading {
    /// The value for people and CSV: the float, or the histogram as Go's
    /// `FloatHistogram.String()` writes it.
    fn text(&self) -> String {
        match self {
            Reading::Float(v) => format_value(*v),
            Reading::Histogram(h) => go_string(h),
        }
    }
}

/// A series of a range answer: its points at their times (ms).
#[derive(Debug, Clone)]
pub(crate) struct Track {
    pub labels: Labels,
    pub points: Vec<(i64, Reading)>,
}

fn seconds(t: i64) -> f64 {
    t as f64 / 1000.0
}

fn series_name(labels: &Labels) -> String {
    if labels.is_empty() {
        "{}".into()
    } else {
        labels.to_string()
    }
}

fn labels_json(labels: &Labels) -> serde_json::Value {
    labels
        .iter()
        .map(|(n, v)| (n.to_string(), json!(v)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// A vector sample as Prometheus's API writes it: `"value"` for a float,
/// `"histogram"` for a histogram.
pub(crate) fn sample_json(labels: &Labels, reading: &Reading, t: i64) -> serde_json::Value {
    match reading {
        Reading::Float(v) => {
            json!({"metric": labels_json(labels), "value": [api::time(t), api::float(*v)]})
        }
        Reading::Histogram(h) => {
            json!({"metric": labels_json(labels), "histogram": [api::time(t), api::histogram(h)]})
        }
    }
}

/// A matrix series as Prometheus's API writes it: `"values"` for its float
/// points, `"histograms"` for its histogram points, each only when it has
/// any.
pub(crate) fn track_json(track: &Track) -> serde_json::Value {
    let mut values = Vec::new();
    let mut histograms = Vec::new();
    for (t, reading) in &track.points {
        match reading {
            Reading::Float(v) => values.push(json!([api::time(*t), api::float(*v)])),
            Reading::Histogram(h) => histograms.push(json!([api::time(*t), api::histogram(h)])),
        }
    }
    let mut out = serde_json::Map::new();
    out.insert("metric".into(), labels_json(&track.labels));
    if !values.is_empty() {
        out.insert("values".into(), values.into());
    }
    if !histograms.is_empty() {
        out.insert("histograms".into(), histograms.into());
    }
    out.into()
}

pub(crate) fn instant(
    out: &mut dyn Write,
    format: crate::report::OutputFormat,
    answer: &[(Labels, Reading)],
    t: i64,
    kind: ValueType,
) -> std::io::Result<()> {
    use crate::report::OutputFormat;
    match format {
        OutputFormat::Text => {
            // A name longer than the column overflows it; no width handed
            // to the formatter comes from data (past 65,535 it panics).
            const MAX_COLUMN: usize = 80;
            let width = answer
                .iter()
                .map(|(l, _)| series_name(l).chars().count())
                .max()
                .unwrap_or(6)
                .clamp(6, MAX_COLUMN);
            let utc = crate::units::format_utc_compact(
                std::time::UNIX_EPOCH + Duration::from_millis(t.max(0) as u64),
            );
            writeln!(
                out,
                "{:<width$}  value    (at {} = {utc})",
                "series",
                seconds(t)
            )?;
            for (labels, v) in answer {
                writeln!(out, "{:<width$}  {}", series_name(labels), v.text())?;
            }
            if answer.is_empty() {
                writeln!(out, "(empty result)")?;
            }
        }
        // A scalar is `[time, "value"]`, as Prometheus's API gives it.
        OutputFormat::Json if kind == ValueType::Scalar && answer.len() == 1 => {
            let v = match &answer[0].1 {
                Reading::Float(v) => api::float(*v),
                histogram => histogram.text(),
            };
            let result = json!([api::time(t), v]);
            writeln!(out, "{}", json!({"resultType": "scalar", "result": result}))?;
        }
        OutputFormat::Json => {
            let result: Vec<_> = answer.iter().map(|(l, v)| sample_json(l, v, t)).collect();
            writeln!(out, "{}", json!({"resultType": "vector", "result": result}))?;
        }
        OutputFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(["series", "timestamp", "value"])?;
            for (labels, v) in answer {
                w.write_record(crate::report::escape::csv_row([
                    series_name(labels),
                    seconds(t).to_string(),
                    v.text(),
                ]))?;
            }
            w.flush()?;
        }
    }
    Ok(())
}

/// A string literal's value: the text, or `[time, "text"]` in JSON.
pub(crate) fn string(
    out: &mut dyn Write,
    format: crate::report::OutputFormat,
    text: &str,
    t: i64,
) -> std::io::Result<()> {
    use crate::report::OutputFormat;
    match format {
        OutputFormat::Text => writeln!(out, "{text}"),
        OutputFormat::Json => writeln!(
            out,
            "{}",
            json!({"resultType": "string", "result": [api::time(t), text]})
        ),
        OutputFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(["timestamp", "value"])?;
            w.write_record(crate::report::escape::csv_row([
                seconds(t).to_string(),
                text.to_string(),
            ]))?;
            w.flush()
        }
    }
}

pub(crate) fn range(
    out: &mut dyn Write,
    format: crate::report::OutputFormat,
    series: &[Track],
    start: i64,
) -> std::io::Result<()> {
    use crate::report::OutputFormat;
    match format {
        OutputFormat::Text => {
            let utc = crate::units::format_utc_compact(
                std::time::UNIX_EPOCH + Duration::from_millis(start.max(0) as u64),
            );
            writeln!(out, "from {} = {utc}", seconds(start))?;
            for s in series {
                writeln!(out, "{}", series_name(&s.labels))?;
                for (t, v) in &s.points {
                    writeln!(
                        out,
                        "  {:>9}  {}",
                        format!("+{}s", seconds(t - start)),
                        v.text()
                    )?;
                }
            }
            if series.is_empty() {
                writeln!(out, "(empty result)")?;
            }
        }
        OutputFormat::Json => {
            let result: Vec<_> = series.iter().map(track_json).collect();
            writeln!(out, "{}", json!({"resultType": "matrix", "result": result}))?;
        }
        OutputFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(["series", "timestamp", "value"])?;
            for s in series {
                for (t, v) in &s.points {
                    w.write_record(crate::report::escape::csv_row([
                        series_name(&s.labels),
                        seconds(*t).to_string(),
                        v.text(),
                    ]))?;
                }
            }
            w.flush()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A series with floats and histograms has both keys, as Prometheus's
    /// `marshalSeriesJSON` writes them: `values` for the floats,
    /// `histograms` for the histograms, each in time order; a vector
    /// sample has `histogram` instead of `value`.
    #[test]
    fn floats_and_histograms_go_to_their_own_keys() {
        let h = Arc::new(FloatHistogram {
            count: 2.0,
            sum: 1.5,
            ..Default::default()
        });
        let track = Track {
            labels: Labels::from_pairs(&[("__name__", "x")]),
            points: vec![
                (1000, Reading::Float(1.0)),
                (2000, Reading::Histogram(h.clone())),
                (2500, Reading::Float(0.5)),
            ],
        };
        assert_eq!(
            track_json(&track),
            json!({
                "metric": {"__name__": "x"},
                "values": [[1, "1"], [2.5, "0.5"]],
                "histograms": [[2, {"count": "2", "sum": "1.5"}]],
            })
        );
        let floats_only = Track {
            points: vec![(1000, Reading::Float(1.0))],
            ..track.clone()
        };
        assert!(track_json(&floats_only).get("histograms").is_none());
        assert_eq!(
            sample_json(&track.labels, &Reading::Histogram(h), 3000),
            json!({"metric": {"__name__": "x"}, "histogram": [3, {"count": "2", "sum": "1.5"}]})
        );
        assert_eq!(
            Reading::Float(f64::INFINITY).text(),
            "+Inf",
            "the table and CSV keep their float format"
        );
    }
}
