//! The protobuf exposition format
//! (`application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily;
//! encoding=delimited`), which Go and Rust clients serve for native
//! histograms: varint-length-delimited `MetricFamily` messages, decoded
//! with `prost` and given to the same [`Visitor`] as the text parser's
//! samples, as Prometheus's `ProtobufParser` gives them:
//!
//! - counters, gauges and untyped metrics: one sample each;
//! - summaries: `_count`, `_sum` and one `{quantile="…"}` sample per
//!   quantile;
//! - histograms with native data ([`convert::is_native`]): one native
//!   histogram sample, and not their classic buckets (Prometheus stores
//!   those too only with `always_scrape_classic_histograms`);
//! - histograms without: `_count`, `_sum`, `_bucket{le="…"}` per bucket and
//!   a `+Inf` bucket when the message has none.
//!
//! A message's `timestamp_ms` other than 0 is the sample's timestamp.
//! A truncated or garbled body is a [`ProtobufError`], never a panic;
//! memory is bounded by the body, which the scrape's body-size limit
//! bounds.

pub(crate) mod convert;
pub mod wire;

use std::borrow::Cow;

use prost::Message;

use super::exposition::{Label, Metadata, MetricType, SampleLine, Visitor, openmetrics_float};
use super::histogram::tag;
use wire::metric_type;

/// The media type, as a scrape asks for it and a server answers with it.
pub const MEDIA_TYPE: &str =
    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited";

/// Whether a `Content-Type` names the delimited protobuf format.
pub fn is_protobuf(content_type: &str) -> bool {
    let mut parts = content_type.split(';').map(str::trim);
    let base = parts.next().unwrap_or("");
    if !base.eq_ignore_ascii_case("application/vnd.google.protobuf") {
        return false;
    }
    let mut proto = false;
    let mut delimited = false;
    for part in parts {
        match part
            .split_once('=')
            .map(|(k, v)| (k.trim(), v.trim().trim_matches('"')))
        {
            Some(("proto", "io.prometheus.client.MetricFamily")) => proto = true,
            Some(("encoding", "delimited")) => delimited = true,
            _ => {}
        }
    }
    proto && delimited
}

/// Why a protobuf body was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("metric family {family} ({at}): {reason}")]
pub struct ProtobufError {
    /// 1-based, in the body's order.
    pub family: usize,
    /// The family's name, or the byte offset when it could not be read.
    pub at: String,
    pub reason: FamilyError,
}

/// What is wrong with one `MetricFamily` message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FamilyError {
    /// Truncated or garbled bytes; prost's account of them.
    #[error("not a length-delimited MetricFamily message ({0})")]
    Decode(prost::DecodeError),
    #[error("the family has no name")]
    NoName,
    #[error("unknown metric type {0}")]
    UnknownType(i32),
    #[error("a label with an empty name")]
    EmptyLabelName,
    #[error(transparent)]
    Native(#[from] convert::NativeError),
}

/// Decodes `body`, calling `visitor` for each family's type and each
/// sample. Returns the number of samples (histograms included).
pub fn parse(body: &[u8], visitor: &mut impl Visitor) -> Result<usize, ProtobufError> {
    let mut rest = body;
    let mut samples = 0;
    let mut number = 0;
    while !rest.is_empty() {
        number += 1;
        let offset = body.len() - rest.len();
        let family =
            wire::MetricFamily::decode_length_delimited(&mut rest).map_err(|e| ProtobufError {
                family: number,
                at: format!("at byte {offset}"),
                reason: FamilyError::Decode(e),
            })?;
        let error = |reason: FamilyError| ProtobufError {
            family: number,
            at: format!("`{}`", family.name),
            reason,
        };
        samples += family_samples(&family, visitor).map_err(error)?;
    }
    Ok(samples)
}

fn family_samples<V: Visitor>(
    family: &wire::MetricFamily,
    visitor: &mut V,
) -> Result<usize, FamilyError> {
    let name = family.name.as_str();
    if name.is_empty() {
        return Err(FamilyError::NoName);
    }
    let kind = match family.r#type {
        metric_type::COUNTER => MetricType::Counter,
        metric_type::GAUGE => MetricType::Gauge,
        metric_type::SUMMARY => MetricType::Summary,
        metric_type::UNTYPED => MetricType::Unknown,
        metric_type::HISTOGRAM => MetricType::Histogram,
        metric_type::GAUGE_HISTOGRAM => MetricType::GaugeHistogram,
        other => return Err(FamilyError::UnknownType(other)),
    };
    if family.metric.is_empty() {
        return Ok(0);
    }
    visitor.metadata(&Metadata::Type { family: name, kind });
    let mut samples = 0;
    let mut labels: Vec<Label<'_>> = Vec::new();
    for metric in &family.metric {
        labels.clear();
        for pair in &metric.label {
            if pair.name.is_empty() {
                return Err(FamilyError::EmptyLabelName);
            }
            labels.push(Label {
                name: &pair.name,
                value: Cow::Borrowed(&pair.value),
            });
        }
        let timestamp_ms = (metric.timestamp_ms != 0).then_some(metric.timestamp_ms);
        let mut emit =
            |visitor: &mut V, suffix: &str, extra: Option<(&'static str, String)>, value: f64| {
                let full = format!("{name}{suffix}");
                let mut with = labels.clone();
                if let Some((label, v)) = extra {
                    with.retain(|l| l.name != label);
                    with.push(Label {
                        name: label,
                        value: Cow::Owned(v),
                    });
                }
                visitor.sample(&SampleLine {
                    name: &full,
                    labels: &with,
                    value: tag::plain(value),
                    timestamp_ms,
                });
                samples += 1;
            };
        match kind {
            MetricType::Counter => emit(
                visitor,
                "",
                None,
                metric.counter.as_ref().map_or(0.0, |c| c.value),
            ),
            MetricType::Gauge => emit(
                visitor,
                "",
                None,
                metric.gauge.as_ref().map_or(0.0, |g| g.value),
            ),
            MetricType::Unknown => emit(
                visitor,
                "",
                None,
                metric.untyped.as_ref().map_or(0.0, |u| u.value),
            ),
            MetricType::Summary => {
                let s = metric.summary.clone().unwrap_or_default();
                emit(visitor, "_count", None, s.sample_count as f64);
                emit(visitor, "_sum", None, s.sample_sum);
                for q in &s.quantile {
                    emit(
                        visitor,
                        "",
                        Some(("quantile", openmetrics_float(q.quantile))),
                        q.value,
                    );
                }
            }
            _ => {
                let h = metric.histogram.clone().unwrap_or_default();
                let gauge = kind == MetricType::GaugeHistogram;
                if convert::is_native(&h) {
                    let native = convert::native(&h, gauge)?;
                    visitor.histogram(
                        &SampleLine {
                            name,
                            labels: &labels,
                            value: f64::NAN,
                            timestamp_ms,
                        },
                        &native,
                    );
                    samples += 1;
                    continue;
                }
                let total = convert::count(h.sample_count, h.sample_count_float);
                emit(visitor, "_count", None, total);
                emit(visitor, "_sum", None, h.sample_sum);
                let mut saw_inf = false;
                for b in &h.bucket {
                    saw_inf |= b.upper_bound == f64::INFINITY;
                    let le = openmetrics_float(b.upper_bound);
                    let c = convert::count(b.cumulative_count, b.cumulative_count_float);
                    emit(visitor, "_bucket", Some(("le", le)), c);
                }
                if !saw_inf {
                    emit(visitor, "_bucket", Some(("le", "+Inf".into())), total);
                }
            }
        }
    }
    Ok(samples)
}

#[cfg(test)]
mod tests;
