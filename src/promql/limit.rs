//! `limitk` and `limit_ratio` (Prometheus 3): a subset of each group's
//! series, values untouched. `limitk` keeps the first k of a group;
//! `limit_ratio` keeps a series when its label hash, as a fraction of
//! 2^64, falls under the ratio (or, for a negative ratio, at or above
//! `1 + ratio`), so the same series are kept at every step and
//! `limit_ratio(r, x)` and `limit_ratio(-(1 - r), x)` split `x` in two.

use super::xxhash::xxh64;
use super::{Error, Labels, Sample};

/// The first `k` of `members` (`k` truncated to a whole number).
pub(super) fn limitk(k: f64, members: Vec<Sample>) -> Result<Vec<Sample>, Error> {
    if k.is_nan() {
        return Err(Error::Eval("Parameter value is NaN".into()));
    }
    if k < 1.0 {
        return Ok(Vec::new());
    }
    let k = k.min(members.len() as f64) as usize;
    Ok(members.into_iter().take(k).collect())
}

/// The members `ratio` samples (clamped to [-1, 1]).
pub(super) fn limit_ratio(ratio: f64, members: Vec<Sample>) -> Result<Vec<Sample>, Error> {
    if ratio.is_nan() {
        return Err(Error::Eval("Ratio value is NaN".into()));
    }
    if ratio == 0.0 {
        return Ok(Vec::new());
    }
    let r = ratio.clamp(-1.0, 1.0);
    Ok(members
        .into_iter()
        .filter(|s| {
            let offset = sample_offset(&s.labels);
            if r >= 0.0 {
                offset < r
            } else {
                offset >= 1.0 + r
            }
        })
        .collect())
}

/// `HashRatioSampler.SampleOffset`: `labels.Hash()` over `u64::MAX`.
fn sample_offset(labels: &Labels) -> f64 {
    let mut bytes = Vec::with_capacity(64);
    for (name, value) in labels.iter() {
        bytes.extend_from_slice(name.as_bytes());
        bytes.push(0xff);
        bytes.extend_from_slice(value.as_bytes());
        bytes.push(0xff);
    }
    xxh64(&bytes) as f64 / u64::MAX as f64
}
