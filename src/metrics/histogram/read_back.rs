//! The counter-reset hint a histogram sample carries when Prometheus's TSDB
//! hands it back (tsdb/chunkenc's `counterResetHint`): a gauge histogram
//! reads as a gauge; the first sample of a chunk reads as "unknown",
//! whatever it was appended with; every later sample of a chunk reads as
//! "not a reset", since a reset cuts a new chunk.
//!
//! promtool compares expected histograms by their text, hint included, so
//! `test-rules` needs the hint the TSDB would give: an input series
//! `{{count:2 ...}}x2` reads back as `counter_reset_hint:not_reset` from
//! its second sample on. A chunk is cut where the TSDB cuts one for a
//! reason the samples themselves show: the series' first histogram, one
//! after a float or a staleness marker, an explicit `reset` hint, a
//! counter reset, a change of schema, zero threshold or custom bounds.
//! Chunks the TSDB cuts for size or at its block boundaries are not
//! modelled (a unit test's histograms do not come near them).

use super::{FloatHistogram, Hint};

/// What came before a histogram in its series.
#[derive(Debug, Clone, Copy)]
pub enum Previous<'a> {
    /// Nothing: the series' first sample.
    None,
    /// A float sample or a staleness marker.
    Float,
    Histogram(&'a FloatHistogram),
}

/// The hint `h` reads back with when appended after `previous`.
pub fn hint(previous: Previous<'_>, h: &FloatHistogram) -> Hint {
    if h.hint == Hint::Gauge {
        return Hint::Gauge;
    }
    let Previous::Histogram(before) = previous else {
        return Hint::Unknown;
    };
    let same_layout = before.schema == h.schema
        && before.zero_threshold == h.zero_threshold
        && before.custom_values == h.custom_values;
    let continues = h.hint != Hint::CounterReset
        && before.hint != Hint::Gauge
        && same_layout
        && !h.clone().with_hint(Hint::Unknown).detect_reset(before);
    if continues {
        Hint::NotCounterReset
    } else {
        Hint::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::histogram::Bucket;

    fn counter(count: f64) -> FloatHistogram {
        FloatHistogram {
            count,
            sum: count,
            positive: vec![Bucket { index: 0, count }],
            ..FloatHistogram::default()
        }
    }

    #[test]
    fn first_of_a_chunk_is_unknown_the_rest_not_a_reset() {
        assert_eq!(hint(Previous::None, &counter(2.0)), Hint::Unknown);
        assert_eq!(hint(Previous::Float, &counter(2.0)), Hint::Unknown);
        let before = counter(2.0);
        assert_eq!(
            hint(Previous::Histogram(&before), &counter(3.0)),
            Hint::NotCounterReset
        );
        // A decrease cuts a chunk: its first sample reads as unknown.
        assert_eq!(
            hint(Previous::Histogram(&before), &counter(1.0)),
            Hint::Unknown
        );
        // An explicit reset, and a new schema, cut one too.
        let reset = counter(3.0).with_hint(Hint::CounterReset);
        assert_eq!(hint(Previous::Histogram(&before), &reset), Hint::Unknown);
        let finer = FloatHistogram {
            schema: 1,
            ..counter(3.0)
        };
        assert_eq!(hint(Previous::Histogram(&before), &finer), Hint::Unknown);
        // An appended `not_reset` is not trusted over the counts.
        let claimed = counter(1.0).with_hint(Hint::NotCounterReset);
        assert_eq!(hint(Previous::Histogram(&before), &claimed), Hint::Unknown);
    }

    #[test]
    fn gauges_read_as_gauges() {
        let gauge = counter(1.0).with_hint(Hint::Gauge);
        assert_eq!(hint(Previous::None, &gauge), Hint::Gauge);
        let before = counter(5.0).with_hint(Hint::Gauge);
        assert_eq!(hint(Previous::Histogram(&before), &gauge), Hint::Gauge);
        assert_eq!(
            hint(Previous::Histogram(&before), &counter(6.0)),
            Hint::Unknown
        );
    }
}
