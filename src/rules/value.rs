//! One value of a rule's result, as Prometheus's `promql.Sample` carries
//! it: a float, or a native histogram (`H`, with `F` then 0). A recording
//! rule stores either; an alerting rule's alert keeps the float and gives
//! its templates the histogram as `$value`.

use std::sync::Arc;

use crate::metrics::histogram::FloatHistogram;

#[derive(Debug, Clone, PartialEq)]
pub enum Sampled {
    Float(f64),
    Histogram(Arc<FloatHistogram>),
}

impl Sampled {
    /// Prometheus's `F`: the float, 0 for a histogram.
    pub fn float(&self) -> f64 {
        match self {
            Sampled::Float(v) => *v,
            Sampled::Histogram(_) => 0.0,
        }
    }

    pub fn histogram(&self) -> Option<&Arc<FloatHistogram>> {
        match self {
            Sampled::Float(_) => None,
            Sampled::Histogram(h) => Some(h),
        }
    }
}
