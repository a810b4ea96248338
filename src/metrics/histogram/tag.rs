//! How a histogram sample sits among float samples: a [`Point`]'s value is
//! a NaN whose payload names the histogram, in the store's list or in a
//! running query's. Float samples, and every float code path, stay as
//! they are (a point is still 16 bytes and `Copy`); code that handles
//! histograms asks [`decode`] whether a value is one.
//!
//! The payloads are signalling NaNs that no parser or arithmetic produces
//! (arithmetic on one yields a quiet NaN, so a histogram that reaches
//! float-only code comes out as NaN, never as another histogram), distinct
//! from the staleness marker.
//!
//! [`Point`]: crate::metrics::store::Point

/// Where a tagged histogram is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Home {
    /// The store's list ([`crate::metrics::store::Store::histogram`]).
    Store,
    /// The list of a query being evaluated.
    Query,
}

const STORE_BITS: u64 = 0x7ff4_0000_0000_0000;
const QUERY_BITS: u64 = 0x7ff6_0000_0000_0000;
const HIGH_MASK: u64 = 0xffff_0000_0000_0000;
/// Indices fit in the low 40 bits.
pub(crate) const MAX_INDEX: usize = (1 << 40) - 1;

/// The value that stands for histogram `index` of `home`.
pub(crate) fn encode(home: Home, index: usize) -> f64 {
    debug_assert!(index <= MAX_INDEX);
    let high = match home {
        Home::Store => STORE_BITS,
        Home::Query => QUERY_BITS,
    };
    f64::from_bits(high | (index as u64 & MAX_INDEX as u64))
}

/// Which histogram `v` stands for, if it stands for one.
#[inline]
pub(crate) fn decode(v: f64) -> Option<(Home, usize)> {
    let bits = v.to_bits();
    let index = (bits & MAX_INDEX as u64) as usize;
    match bits & HIGH_MASK {
        STORE_BITS if bits & !HIGH_MASK <= MAX_INDEX as u64 => Some((Home::Store, index)),
        QUERY_BITS if bits & !HIGH_MASK <= MAX_INDEX as u64 => Some((Home::Query, index)),
        _ => None,
    }
}

/// Whether `v` stands for a histogram.
#[inline]
pub(crate) fn is_histogram(v: f64) -> bool {
    decode(v).is_some()
}

/// A float read off the wire as a plain float: a NaN whose bits happen to
/// spell a tag (a protobuf double can carry any bits) becomes the ordinary
/// NaN, so no input can name a histogram it did not send.
#[inline]
pub(crate) fn plain(v: f64) -> f64 {
    if is_histogram(v) { f64::NAN } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_no_float_is_one() {
        assert_eq!(decode(encode(Home::Store, 7)), Some((Home::Store, 7)));
        assert_eq!(
            decode(encode(Home::Query, MAX_INDEX)),
            Some((Home::Query, MAX_INDEX))
        );
        for v in [
            f64::NAN,
            -f64::NAN,
            0.0,
            f64::INFINITY,
            crate::metrics::store::stale(),
        ] {
            assert!(!is_histogram(v), "{v}");
        }
        // Arithmetic on a tag gives a plain NaN.
        let h = encode(Home::Store, 3);
        assert!(!is_histogram(std::hint::black_box(h) * 2.0));
        assert!(!is_histogram("NaN".parse::<f64>().unwrap()));
    }
}
