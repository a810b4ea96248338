//! The demo's metrics in the protobuf exposition format, for scrapers that
//! ask for it first (Prometheus 3, slogate): every family of the
//! OpenMetrics text turned into a `MetricFamily` as Go's client writes
//! it (a counter's family named by its `_total` series, units dropped
//! from the message as Go's client leaves them), then the native-histogram
//! variant of the request latency ([`super::native`]), which only this
//! format can carry.

use std::collections::BTreeMap;

use prost::Message;

use crate::metrics::exposition::{self, Format, Metadata, MetricType, SampleLine, Visitor};
use crate::metrics::protobuf::wire::{self, metric_type};

/// The families of `openmetrics`, in order, then `extra`.
pub(crate) fn encode(openmetrics: &str, extra: wire::MetricFamily) -> Vec<u8> {
    let mut collect = Collect::default();
    // The demo's own text: it parses (tests hold it to promtool).
    let _ = exposition::parse(openmetrics, Format::OpenMetrics, &mut collect);
    let mut out = Vec::new();
    collect.families.push(extra);
    for family in collect.families {
        // Go's client leaves out families without metrics.
        if family.metric.is_empty() {
            continue;
        }
        family
            .encode_length_delimited(&mut out)
            .expect("a Vec grows as needed");
    }
    out
}

/// Whether an `Accept` header prefers the protobuf format to the text
/// ones, as Go's `expfmt.Negotiate` decides: the media range of the
/// highest `q` wins, the first of equal ones.
pub(crate) fn wants_protobuf(accept: &str) -> bool {
    let mut best: Option<(f64, bool)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let base = parts.next().unwrap_or("").to_ascii_lowercase();
        let (mut q, mut proto, mut delimited) = (1.0, false, false);
        for part in parts {
            match part.split_once('=').map(|(k, v)| (k.trim(), v.trim())) {
                Some(("q", v)) => q = v.parse().unwrap_or(0.0),
                Some(("proto", "io.prometheus.client.MetricFamily")) => proto = true,
                Some(("encoding", "delimited")) => delimited = true,
                _ => {}
            }
        }
        let protobuf = base == "application/vnd.google.protobuf" && proto && delimited;
        let text = matches!(
            base.as_str(),
            "application/openmetrics-text" | "text/plain" | "*/*" | "text/*"
        );
        if (protobuf || text) && q > 0.0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, protobuf));
        }
    }
    best.is_some_and(|(_, protobuf)| protobuf)
}

#[derive(Default)]
struct Collect {
    families: Vec<wire::MetricFamily>,
    help: BTreeMap<String, String>,
    kind: Option<MetricType>,
    /// The current family's metrics by their labels (histograms and
    /// summaries gather several samples into one).
    by_labels: BTreeMap<Vec<(String, String)>, usize>,
}

impl Visitor for Collect {
    fn metadata(&mut self, metadata: &Metadata<'_>) {
        match metadata {
            Metadata::Help { family, help } => {
                self.help.insert(family.to_string(), help.to_string());
            }
            Metadata::Type { family, kind } => {
                let (name, r#type) = match kind {
                    MetricType::Counter => (format!("{family}_total"), metric_type::COUNTER),
                    MetricType::Gauge => (family.to_string(), metric_type::GAUGE),
                    MetricType::Histogram => (family.to_string(), metric_type::HISTOGRAM),
                    MetricType::Summary => (family.to_string(), metric_type::SUMMARY),
                    _ => (family.to_string(), metric_type::UNTYPED),
                };
                self.families.push(wire::MetricFamily {
                    name,
                    help: self.help.get(*family).cloned().unwrap_or_default(),
                    r#type,
                    metric: Vec::new(),
                    unit: String::new(),
                });
                self.kind = Some(*kind);
                self.by_labels.clear();
            }
            Metadata::Unit { .. } => {}
        }
    }

    fn sample(&mut self, sample: &SampleLine<'_>) {
        let Some(family) = self.families.last_mut() else {
            return;
        };
        if sample.name.ends_with("_created") {
            return;
        }
        let magic = ["le", "quantile"];
        let labels: Vec<(String, String)> = sample
            .labels
            .iter()
            .filter(|l| !magic.contains(&l.name))
            .map(|l| (l.name.to_string(), l.value.to_string()))
            .collect();
        let magic_value = |name: &str| {
            sample
                .labels
                .iter()
                .find(|l| l.name == name)
                .and_then(|l| l.value.parse::<f64>().ok())
        };
        let at = *self.by_labels.entry(labels.clone()).or_insert_with(|| {
            family.metric.push(wire::Metric {
                label: labels
                    .iter()
                    .map(|(name, value)| wire::LabelPair {
                        name: name.clone(),
                        value: value.clone(),
                    })
                    .collect(),
                ..Default::default()
            });
            family.metric.len() - 1
        });
        let metric = &mut family.metric[at];
        let v = sample.value;
        match self.kind {
            Some(MetricType::Counter) => {
                metric.counter = Some(wire::Counter {
                    value: v,
                    exemplar: None,
                })
            }
            Some(MetricType::Gauge) => metric.gauge = Some(wire::Gauge { value: v }),
            Some(MetricType::Histogram) => {
                let h = metric.histogram.get_or_insert_with(Default::default);
                if sample.name.ends_with("_bucket") {
                    h.bucket.push(wire::Bucket {
                        cumulative_count: v as u64,
                        upper_bound: magic_value("le").unwrap_or(f64::INFINITY),
                        ..Default::default()
                    });
                } else if sample.name.ends_with("_sum") {
                    h.sample_sum = v;
                } else if sample.name.ends_with("_count") {
                    h.sample_count = v as u64;
                }
            }
            Some(MetricType::Summary) => {
                let s = metric.summary.get_or_insert_with(Default::default);
                if sample.name.ends_with("_sum") {
                    s.sample_sum = v;
                } else if sample.name.ends_with("_count") {
                    s.sample_count = v as u64;
                } else {
                    s.quantile.push(wire::Quantile {
                        quantile: magic_value("quantile").unwrap_or(f64::NAN),
                        value: v,
                    });
                }
            }
            _ => metric.untyped = Some(wire::Untyped { value: v }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protobuf_is_served_when_the_accept_header_prefers_it() {
        assert!(wants_protobuf(crate::metrics::fetch::ACCEPT_NATIVE));
        assert!(!wants_protobuf(crate::metrics::fetch::ACCEPT_TEXT));
        assert!(wants_protobuf(
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
        ));
        assert!(!wants_protobuf(
            "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"
        ));
        assert!(!wants_protobuf(
            "text/plain;q=0.9,application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5"
        ));
        assert!(!wants_protobuf(
            "application/vnd.google.protobuf;proto=x;encoding=delimited"
        ));
        assert!(!wants_protobuf(""));
    }

    #[test]
    fn every_text_family_is_a_message_and_the_extra_one_follows() {
        let open = "# HELP c Things.\n# TYPE c counter\nc_total{a=\"1\"} 3\nc_created{a=\"1\"} 1\n\
                    # TYPE g gauge\ng 2\n# TYPE h_seconds histogram\n# UNIT h_seconds seconds\n\
                    h_seconds_bucket{le=\"1.0\"} 1\nh_seconds_bucket{le=\"+Inf\"} 2\n\
                    h_seconds_sum 3.0\nh_seconds_count 2\n# EOF\n";
        let extra = wire::MetricFamily {
            name: "n".into(),
            r#type: metric_type::GAUGE,
            metric: vec![wire::Metric {
                gauge: Some(wire::Gauge { value: 9.0 }),
                ..Default::default()
            }],
            ..Default::default()
        };
        let body = encode(open, extra);
        let mut rest = body.as_slice();
        let mut families = Vec::new();
        while !rest.is_empty() {
            families.push(wire::MetricFamily::decode_length_delimited(&mut rest).unwrap());
        }
        let names: Vec<&str> = families.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["c_total", "g", "h_seconds", "n"]);
        assert_eq!(families[0].help, "Things.");
        assert_eq!(families[0].metric[0].counter.as_ref().unwrap().value, 3.0);
        assert_eq!(families[1].metric[0].gauge.as_ref().unwrap().value, 2.0);
        assert_eq!(families[3].metric[0].gauge.as_ref().unwrap().value, 9.0);
        let h = families[2].metric[0].histogram.as_ref().unwrap();
        assert_eq!((h.sample_count, h.sample_sum, h.bucket.len()), (2, 3.0, 2));
        assert_eq!(h.bucket[1].upper_bound, f64::INFINITY);
    }
}
