//! The latency histograms of `summary.json`: HdrHistograms of µs, V2 +
//! DEFLATE, base64, so runs can be merged and re-rendered later. Written
//! and read here only.

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2DeflateSerializer};

/// `histogram` as `summary.json` holds it; empty if the serializer fails,
/// which writing into memory does only for a bug in it.
pub(crate) fn encode(histogram: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    if V2DeflateSerializer::new()
        .serialize(histogram, &mut bytes)
        .is_err()
    {
        return String::new();
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A histogram as `summary.json` holds it; None if it is not one.
pub(crate) fn decode(histogram: &str) -> Option<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(histogram)
        .ok()?;
    Deserializer::new()
        .deserialize(&mut std::io::Cursor::new(bytes))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_reads_back_as_written() {
        let mut histogram = crate::record::latency_histogram(3);
        for us in [120, 450, 450, 9_800] {
            histogram.record(us).unwrap();
        }
        let back = decode(&encode(&histogram)).expect("reads back");
        assert_eq!(back.len(), 4);
        assert_eq!(
            back.value_at_quantile(0.5),
            histogram.value_at_quantile(0.5)
        );
        assert_eq!(back.max(), histogram.max());
        assert!(decode("not base64!").is_none());
    }
}
