//! The argument of `histogram_quantile`, `histogram_quantiles` and
//! `histogram_fraction` sorted as Prometheus's `resetHistograms` sorts it:
//! native histograms, and float samples with a readable `le` grouped into
//! classic histograms by their other labels (the metric name included).
//! Where a native histogram and a classic one have the same labels, both
//! are left out (Prometheus warns "a mix of classic and native
//! histograms").

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::super::Sample;
use super::super::eval::Evaluator;
use crate::metrics::histogram::FloatHistogram;
use crate::metrics::histogram::tag;
use crate::metrics::store::Labels;

/// The histograms of one argument, each with its output labels (metric
/// name and `le` dropped).
pub(super) struct Inputs {
    pub native: Vec<(Labels, Arc<FloatHistogram>)>,
    /// Classic histograms: `(le, cumulative count)` in input order.
    pub classic: Vec<(Labels, Vec<(f64, f64)>)>,
}

pub(super) fn split(ev: &Evaluator<'_>, samples: Vec<Sample>) -> Inputs {
    let (native, floats): (Vec<Sample>, Vec<Sample>) =
        samples.into_iter().partition(|s| tag::is_histogram(s.v));
    let classic: Vec<(f64, Sample)> = floats
        .into_iter()
        .filter_map(|s| Some((s.labels.get("le").and_then(super::super::parse_value)?, s)))
        .collect();
    let keep = |n: &str| n != "le";
    let (group_of, firsts) = super::super::group_by(classic.iter().map(|(_, s)| &s.labels), keep);
    let mut groups: Vec<(Labels, Vec<(f64, f64)>)> = firsts
        .iter()
        .map(|l| (l.filter(keep), Vec::new()))
        .collect();
    for ((le, s), g) in classic.iter().zip(group_of) {
        groups[g].1.push((*le, s.v));
    }
    let mut conflicts = vec![false; groups.len()];
    let by_labels: FxHashMap<&Labels, usize> = if native.is_empty() {
        FxHashMap::default()
    } else {
        groups
            .iter()
            .enumerate()
            .map(|(i, (l, _))| (l, i))
            .collect()
    };
    let native: Vec<(Labels, Arc<FloatHistogram>)> = native
        .into_iter()
        .filter_map(|s| {
            if let Some(&g) = by_labels.get(&s.labels) {
                conflicts[g] = true;
                return None;
            }
            Some((s.labels.without_metadata(), ev.histogram(s.v)?))
        })
        .collect();
    drop(by_labels);
    let classic = groups
        .into_iter()
        .zip(conflicts)
        .filter(|(_, conflict)| !conflict)
        .map(|((labels, buckets), _)| (labels.without_metadata(), buckets))
        .collect();
    Inputs { native, classic }
}
