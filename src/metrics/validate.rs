//! The first of a scrape's two passes: the whole body is parsed and checked
//! before anything is stored, so a body that fails (a malformed last line,
//! too many samples) costs no memory beyond itself, and the store never
//! holds half a scrape.
//!
//! It finds what Prometheus's scrape loop finds: more samples than the
//! target's `sample_limit` fails the scrape ("sample limit exceeded");
//! a second sample of a series already seen in this scrape (without a
//! timestamp of its own) is a duplicate, which Prometheus drops and counts
//! ("duplicate sample for timestamp", `checkAddError` in scrape/scrape.go)
//! while the scrape succeeds. Duplicates do not count toward the limit.

use std::collections::HashSet;

use super::exposition::{self, Format, SampleLine, Visitor};
use super::fetch::ScrapeError;

/// A body that passed: how many samples, and which were duplicates.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    /// Sample lines in the body, duplicates included (Prometheus's
    /// `scrape_samples_scraped`).
    pub samples: usize,
    pub duplicates: usize,
    /// Bit `i` set: the `i`-th sample line is a duplicate.
    duplicate_bits: Vec<u64>,
}

impl Checked {
    /// Whether the `index`-th sample line is a duplicate, to be dropped.
    pub(crate) fn is_duplicate(&self, index: usize) -> bool {
        self.duplicate_bits
            .get(index / 64)
            .is_some_and(|word| word & (1 << (index % 64)) != 0)
    }
}

/// Parses `body` without storing it; fails on malformed input and on more
/// than `sample_limit` distinct samples.
pub(crate) fn check(
    body: &str,
    format: Format,
    sample_limit: usize,
) -> Result<Checked, ScrapeError> {
    let mut visitor = Check {
        seen: HashSet::new(),
        key: Vec::new(),
        accepted: 0,
        limit: sample_limit,
        checked: Checked::default(),
    };
    let samples = exposition::parse(body, format, &mut visitor).map_err(ScrapeError::Invalid)?;
    if visitor.accepted > sample_limit {
        return Err(ScrapeError::SampleLimit {
            limit: sample_limit,
        });
    }
    visitor.checked.samples = samples;
    Ok(visitor.checked)
}

/// [`check`] for a protobuf body ([`super::protobuf`]): a native histogram
/// counts as one sample, as in Prometheus.
pub(crate) fn check_protobuf(body: &[u8], sample_limit: usize) -> Result<Checked, ScrapeError> {
    let mut visitor = Check {
        seen: HashSet::new(),
        key: Vec::new(),
        accepted: 0,
        limit: sample_limit,
        checked: Checked::default(),
    };
    let samples =
        super::protobuf::parse(body, &mut visitor).map_err(ScrapeError::InvalidProtobuf)?;
    if visitor.accepted > sample_limit {
        return Err(ScrapeError::SampleLimit {
            limit: sample_limit,
        });
    }
    visitor.checked.samples = samples;
    Ok(visitor.checked)
}

struct Check {
    /// One key per series seen, until the limit is passed (then the body is
    /// only parsed to the end, so the memory stays bounded by the limit).
    seen: HashSet<Box<[u8]>>,
    key: Vec<u8>,
    accepted: usize,
    limit: usize,
    checked: Checked,
}

impl Visitor for Check {
    fn histogram(
        &mut self,
        sample: &SampleLine<'_>,
        _h: &crate::metrics::histogram::FloatHistogram,
    ) {
        self.sample(sample);
    }

    fn sample(&mut self, sample: &SampleLine<'_>) {
        let index = self.checked.samples;
        self.checked.samples += 1;
        if self.accepted > self.limit {
            // Past the limit the scrape fails: parse on, keeping no keys.
            return;
        }
        series_key(sample, &mut self.key);
        if self.seen.contains(self.key.as_slice()) {
            if sample.timestamp_ms.is_none() {
                let word = index / 64;
                if self.checked.duplicate_bits.len() <= word {
                    self.checked.duplicate_bits.resize(word + 1, 0);
                }
                self.checked.duplicate_bits[word] |= 1 << (index % 64);
                self.checked.duplicates += 1;
                return;
            }
        } else {
            self.seen.insert(self.key.as_slice().into());
        }
        self.accepted += 1;
    }
}

/// The series of `sample` as bytes: its name and its non-empty labels in
/// name order, each length-prefixed (so no two label sets share a key).
/// An empty value is no label, as in Prometheus: `a{x=""}` is `a`.
fn series_key(sample: &SampleLine<'_>, key: &mut Vec<u8>) {
    key.clear();
    let mut push = |text: &str| {
        key.extend_from_slice(&(text.len() as u64).to_le_bytes());
        key.extend_from_slice(text.as_bytes());
    };
    push(sample.name);
    let mut labels: Vec<(&str, &str)> = sample
        .labels
        .iter()
        .filter(|l| !l.value.is_empty())
        .map(|l| (l.name, l.value.as_ref()))
        .collect();
    labels.sort_unstable();
    for (name, value) in labels {
        push(name);
        push(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_found_by_label_set_and_dropped_not_failed() {
        let body = "a 1\nb{x=\"1\",y=\"2\"} 1\na 2\nb{y=\"2\",x=\"1\"} 3\na{z=\"\"} 4\nc 1 1000\nc 1 1000\n";
        let checked = check(body, Format::Text, 100).unwrap();
        assert_eq!((checked.samples, checked.duplicates), (7, 3));
        let dups: Vec<usize> = (0..7).filter(|&i| checked.is_duplicate(i)).collect();
        // With timestamps of their own, repeats go to the store's
        // out-of-order rule instead, as in Prometheus.
        assert_eq!(dups, [2, 3, 4]);
    }

    #[test]
    fn the_sample_limit_fails_the_scrape_and_duplicates_do_not_count() {
        let body: String = (0..10).map(|i| format!("m{i} 1\n")).collect();
        assert!(check(&body, Format::Text, 10).is_ok());
        assert_eq!(
            check(&body, Format::Text, 9).unwrap_err(),
            ScrapeError::SampleLimit { limit: 9 }
        );
        let repeated = "a 1\n".repeat(1000);
        let checked = check(&repeated, Format::Text, 1).unwrap();
        assert_eq!((checked.samples, checked.duplicates), (1000, 999));
    }

    #[test]
    fn a_malformed_last_line_fails_the_whole_body() {
        let body = format!("{}a{{ 1\n", "a 1\n".repeat(100));
        match check(&body, Format::Text, 1000) {
            Err(ScrapeError::Invalid(e)) => assert_eq!(e.line, 101),
            other => panic!("{other:?}"),
        }
    }
}
