//! [`Stats`] of a finished phase, kept small: a live [`Stats`] holds two
//! histograms sized for 1 µs .. 1 h (about 190 KB each) and a dense status
//! table, which is right while recording and wrong for thousands of
//! finished phases kept for the reports (10,000 phases of 10 ms took
//! 7.7 GB). Packed, a phase costs its histograms' V2 encoding (runs of
//! zeros folded: tens of bytes for a phase of a few latencies) and its
//! statuses as a list; it is unpacked when a report or a verdict reads it.

use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};

use super::{ErrorKind, Stats};

/// Packed [`Stats`]; [`Packed::unpack`] gives them back exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct Packed {
    pub requests: u64,
    /// `(status, count)` for every status seen.
    statuses: Vec<(u16, u64)>,
    errors: [u64; ErrorKind::COUNT],
    latency_us: Vec<u8>,
    service_us: Vec<u8>,
    pub bytes_received: u64,
    pub late_starts: u64,
}

fn encode(histogram: &Histogram<u64>) -> Vec<u8> {
    let mut bytes = Vec::new();
    // Writing into a Vec cannot fail, nor can encoding a valid histogram.
    V2Serializer::new()
        .serialize(histogram, &mut bytes)
        .expect("a histogram encodes into memory");
    bytes
}

fn decode(bytes: &[u8]) -> Histogram<u64> {
    let mut fresh = super::latency_histogram(3);
    let decoded: Histogram<u64> = Deserializer::new()
        .deserialize(&mut &bytes[..])
        .expect("bytes encoded by `encode`");
    fresh.add(&decoded).expect("histograms share bounds");
    fresh
}

impl Packed {
    pub fn pack(stats: &Stats) -> Packed {
        Packed {
            requests: stats.requests,
            statuses: stats.statuses.iter().collect(),
            errors: stats.errors,
            latency_us: encode(&stats.latency_us),
            service_us: encode(&stats.service_us),
            bytes_received: stats.bytes_received,
            late_starts: stats.late_starts,
        }
    }

    pub fn unpack(&self) -> Stats {
        let mut stats = Stats {
            requests: self.requests,
            errors: self.errors,
            latency_us: decode(&self.latency_us),
            service_us: decode(&self.service_us),
            bytes_received: self.bytes_received,
            late_starts: self.late_starts,
            ..Stats::default()
        };
        for &(status, count) in &self.statuses {
            stats.statuses.add_count(status, count);
        }
        stats
    }

    /// Bytes this takes beyond its own size, for tests of the bound.
    pub fn heap_bytes(&self) -> usize {
        self.statuses.capacity() * std::mem::size_of::<(u16, u64)>()
            + self.latency_us.capacity()
            + self.service_us.capacity()
    }
}

impl From<&Stats> for Packed {
    fn from(stats: &Stats) -> Packed {
        Packed::pack(stats)
    }
}

impl Default for Packed {
    /// No requests. Packed once: packing builds a full-range [`Stats`]
    /// first, and a phase of many steps has many empty ones.
    fn default() -> Packed {
        static EMPTY: std::sync::LazyLock<Packed> =
            std::sync::LazyLock::new(|| Packed::pack(&Stats::default()));
        EMPTY.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::record::{Outcome, RequestSample};

    #[test]
    fn unpacking_gives_the_same_stats_in_little_room() {
        let mut stats = Stats::default();
        let start = Instant::now();
        for (i, status) in [200u16, 200, 503, 201].into_iter().enumerate() {
            stats.record(&RequestSample {
                endpoint: 0,
                intended: start,
                started: start + Duration::from_millis(i as u64 * 2),
                ended: start + Duration::from_millis(5 + i as u64 * 7),
                outcome: Outcome::Response { status },
                bytes_received: 10,
            });
        }
        stats.errors[ErrorKind::ConnectionReset.index()] = 3;
        let packed = Packed::pack(&stats);
        let back = packed.unpack();
        assert_eq!(back.requests, 4);
        assert_eq!(
            back.statuses.iter().collect::<Vec<_>>(),
            vec![(200, 2), (201, 1), (503, 1)]
        );
        assert_eq!(back.errors_of(ErrorKind::ConnectionReset), 3);
        assert_eq!(back.latency_us, stats.latency_us);
        assert_eq!(back.service_us, stats.service_us);
        assert_eq!(
            (back.bytes_received, back.late_starts),
            (40, stats.late_starts)
        );
        // A live Stats is hundreds of kilobytes; packed, under a kilobyte.
        assert!(packed.heap_bytes() < 1024, "{} bytes", packed.heap_bytes());
        // And a packed, unpacked Stats still merges with a live one.
        let mut live = Stats::default();
        live.merge(&back);
        assert_eq!(live.latency_us.len(), 4);
    }
}
