//! Scraped data saved with a run's results (`metrics.jsonl`), so the run
//! can be queried afterwards: one JSON object per line and series,
//! `{"labels": {...}, "t": [ms...], "v": [values...]}`, where a value that
//! JSON cannot hold is a string: `"NaN"`, `"+Inf"`, `"-Inf"`, or `"stale"`
//! for Prometheus's staleness marker, and a native histogram is
//! `{"histogram": "{{schema:3 count:2 sum:0.5 buckets:[1 1]}}"}` (the
//! notation of promtool's unit tests, which keeps every field).

use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::Context;
use serde_json::{Value, json};

use super::histogram::notation;
use super::histogram::tag::{self, Home};
use super::store::{Labels, Limits, Store, is_stale, stale};

pub const FILE: &str = "metrics.jsonl";

/// Writes `store` as `metrics.jsonl` to `out`.
pub fn write(store: &Store, out: &mut dyn Write) -> anyhow::Result<()> {
    for series in store.series() {
        let labels: serde_json::Map<String, Value> = series
            .labels
            .iter()
            .map(|(n, v)| (n.to_string(), Value::String(v.to_string())))
            .collect();
        let t: Vec<i64> = series.points.iter().map(|p| p.t).collect();
        let v: Vec<Value> = series
            .points
            .iter()
            .map(|p| match p.v {
                v if let Some((Home::Store, i)) = tag::decode(v)
                    && let Some(h) = store.histogram(i) =>
                {
                    json!({"histogram": notation::expression(h)})
                }
                v if is_stale(v) => json!("stale"),
                v if v.is_finite() => json!(v),
                v => json!(crate::promql::format_value(v)),
            })
            .collect();
        serde_json::to_writer(&mut *out, &json!({"labels": labels, "t": t, "v": v}))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

pub fn load(path: &Path) -> anyhow::Result<Store> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut store = Store::new(Limits {
        series: usize::MAX,
        samples: usize::MAX,
    });
    for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line?;
        let bad = |why: &str| anyhow::anyhow!("{}:{}: {why}", path.display(), index + 1);
        let json: Value = serde_json::from_str(&line).map_err(|e| bad(&e.to_string()))?;
        let labels = json["labels"]
            .as_object()
            .ok_or_else(|| bad("no `labels` object"))?
            .iter()
            .map(|(n, v)| {
                Ok((
                    n.clone(),
                    v.as_str()
                        .ok_or_else(|| bad("a label value that is not a string"))?
                        .to_string(),
                ))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let labels = Labels::new(labels);
        let (Some(t), Some(v)) = (json["t"].as_array(), json["v"].as_array()) else {
            return Err(bad("`t` and `v` must be lists"));
        };
        if t.len() != v.len() {
            return Err(bad("`t` and `v` differ in length"));
        }
        let id = store.series_id(&labels)?;
        for (t, v) in t.iter().zip(v) {
            let t = t
                .as_i64()
                .ok_or_else(|| bad("a time that is not an integer"))?;
            if let Some(text) = v.get("histogram") {
                let text = text
                    .as_str()
                    .ok_or_else(|| bad("a `histogram` that is not a string"))?;
                let (written, used) = notation::histogram(text, 0)
                    .map_err(|e| bad(&format!("a histogram that does not read: {e}")))?;
                if used != text.len() {
                    return Err(bad("text after a histogram's closing `}}`"));
                }
                // Only the schema is checked: a computed histogram (a
                // difference, say) may hold negative counts Prometheus
                // would refuse from an input, and still be a saved result.
                crate::metrics::histogram::validate::schema(written.histogram.schema)
                    .map_err(|e| bad(&format!("an invalid histogram: {e}")))?;
                // The notation fills gaps between populated buckets with
                // empty ones; they count for nothing, so they are dropped.
                store.append_histogram(id, t, written.histogram.compact())?;
                continue;
            }
            let v = match v {
                Value::String(s) if s == "stale" => stale(),
                Value::String(s) => crate::promql::parse_value(s)
                    .ok_or_else(|| bad("a value that is not a number"))?,
                other => other
                    .as_f64()
                    .ok_or_else(|| bad("a value that is not a number"))?,
            };
            store.append(id, t, v)?;
        }
    }
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_special_values() {
        let mut store = Store::default();
        let labels = Labels::new(vec![
            ("__name__".into(), "x".into()),
            ("a".into(), "1".into()),
        ]);
        for (t, v) in [
            (1000, 1.5),
            (2000, f64::NAN),
            (3000, f64::INFINITY),
            (4000, stale()),
        ] {
            store.add(&labels, t, v).unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        write(&store, &mut file).unwrap();
        drop(file);
        let back = load(&path).unwrap();
        let points = &back.series()[0].points;
        assert_eq!(back.series()[0].labels, labels);
        assert_eq!(points[0].v, 1.5);
        assert!(points[1].v.is_nan() && !is_stale(points[1].v));
        assert_eq!(points[2].v, f64::INFINITY);
        assert!(is_stale(points[3].v));
        std::fs::write(&path, "{\"labels\": {}, \"t\": [1], \"v\": []}\n").unwrap();
        assert!(
            load(&path)
                .unwrap_err()
                .to_string()
                .contains(":1: `t` and `v` differ")
        );
    }

    /// Native histograms, exponential with both sides and custom-bucket,
    /// come back as they were saved (without empty buckets), between
    /// floats of the same series.
    #[test]
    fn round_trip_keeps_native_histograms() {
        use crate::metrics::histogram::{Bucket, CUSTOM_BUCKETS_SCHEMA, FloatHistogram, Hint};
        let exponential = FloatHistogram {
            schema: 3,
            zero_threshold: 2.938_735_877_055_719e-39,
            zero_count: 1.0,
            count: 4.5,
            sum: 0.123_456_789,
            positive: vec![
                Bucket {
                    index: -7,
                    count: 2.0,
                },
                Bucket {
                    index: -5,
                    count: 1.0,
                },
            ],
            negative: vec![Bucket {
                index: 2,
                count: 0.5,
            }],
            ..Default::default()
        };
        let custom = FloatHistogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            count: 3.0,
            sum: 1e-7,
            positive: vec![
                Bucket {
                    index: 0,
                    count: 1.0,
                },
                Bucket {
                    index: 2,
                    count: 2.0,
                },
            ],
            custom_values: vec![0.1, 0.5],
            hint: Hint::Gauge,
            ..Default::default()
        };
        let mut store = Store::default();
        let id = store
            .series_id(&Labels::from_pairs(&[("__name__", "h")]))
            .unwrap();
        store
            .append_histogram(id, 1000, exponential.clone())
            .unwrap();
        store.append(id, 2000, 7.0).unwrap();
        store.append_histogram(id, 3000, custom.clone()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        let mut text = Vec::new();
        write(&store, &mut text).unwrap();
        std::fs::write(&path, text).unwrap();
        let back = load(&path).unwrap();
        let points = &back.series()[0].points;
        let at = |i: usize| -> FloatHistogram {
            let (home, index) = tag::decode(points[i].v).expect("a histogram");
            assert_eq!(home, Home::Store);
            (**back.histogram(index).unwrap()).clone()
        };
        assert_eq!(at(0), exponential);
        assert_eq!(points[1].v, 7.0);
        assert_eq!(at(2), custom);
        std::fs::write(
            &path,
            "{\"labels\": {}, \"t\": [1], \"v\": [{\"histogram\": \"{{count:x}}\"}]}\n",
        )
        .unwrap();
        let error = load(&path).unwrap_err().to_string();
        assert!(
            error.contains(":1: a histogram that does not read"),
            "{error}"
        );
        std::fs::write(
            &path,
            "{\"labels\": {}, \"t\": [1], \"v\": [{\"histogram\": \"{{schema:9 count:1}}\"}]}\n",
        )
        .unwrap();
        let error = load(&path).unwrap_err().to_string();
        assert!(
            error.contains(":1: an invalid histogram: histogram has an invalid schema"),
            "{error}"
        );
    }
}
