//! `load_with_nhcb`: the classic histograms of a load (`_bucket{le}`,
//! `_count`, `_sum` series) also loaded as native histograms with custom
//! buckets, under the base name, as test.go's `appendCustomHistogram`
//! collates them: by base labels (name without the suffix, `le` dropped),
//! then by timestamp; histogram samples of the input are skipped.

use std::collections::BTreeMap;

use slogate::metrics::histogram::FloatHistogram;
use slogate::metrics::histogram::classic::Classic;
use slogate::metrics::store::{Labels, NAME};

use super::series::Item;

/// A native series a load adds: its labels and samples in time order.
pub type Native = (Labels, Vec<(i64, FloatHistogram)>);

/// The native series a load adds;
/// `Err` with the reason when a classic histogram does not convert (test.go
/// fails the load then).
pub fn convert(series: &[(Labels, Vec<Item>)], interval_ms: i64) -> Result<Vec<Native>, String> {
    let mut by_base: Vec<(Labels, BTreeMap<i64, Classic>)> = Vec::new();
    for (labels, items) in series {
        let Some(name) = labels.name() else { continue };
        let (base, part) = if let Some(b) = name.strip_suffix("_bucket") {
            let Some(le) = labels.get("le").and_then(parse_le) else {
                continue;
            };
            (b, Part::Bucket(le))
        } else if let Some(b) = name.strip_suffix("_sum") {
            (b, Part::Sum)
        } else if let Some(b) = name.strip_suffix("_count") {
            (b, Part::Count)
        } else {
            continue;
        };
        let base_labels = labels.filter(|l| l != "le").with(NAME, base);
        let at = match by_base.iter().position(|(l, _)| *l == base_labels) {
            Some(i) => i,
            None => {
                by_base.push((base_labels, BTreeMap::new()));
                by_base.len() - 1
            }
        };
        for (i, item) in items.iter().enumerate() {
            let Item::Value(v) = item else { continue };
            let classic = by_base[at].1.entry(i as i64 * interval_ms).or_default();
            match part {
                Part::Bucket(le) => classic.set_bucket(le, *v),
                Part::Sum => classic.set_sum(*v),
                Part::Count => classic.set_count(*v),
            }
        }
    }
    by_base
        .into_iter()
        .map(|(labels, at)| {
            let samples = at
                .into_iter()
                .map(|(t, c)| c.to_native().map(|h| (t, h)))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("load_with_nhcb: {labels}: {e}"))?;
            Ok((labels, samples))
        })
        .collect()
}

#[derive(Clone, Copy)]
enum Part {
    Bucket(f64),
    Sum,
    Count,
}

/// `le` as Go's `strconv.ParseFloat` reads it; NaN or unreadable is None.
fn parse_le(text: &str) -> Option<f64> {
    let v: f64 = text.parse().ok()?;
    (!v.is_nan()).then_some(v)
}
