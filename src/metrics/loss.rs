//! Scraped data that a limit kept out of the store: the store's series and
//! sample limits (data dropped, the scrape stored in part) and a scrape's
//! own limits (`body_size_limit`, `sample_limit`: the whole scrape failed).
//! Verdicts that read a time with a loss are marked, and the reports list
//! every loss, so truncated data can never pass a check unseen.

use serde::{Deserialize, Serialize};

/// Which limit dropped data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
// Each variant is a limit's name as `summary.json` writes it (`series_limit`).
#[allow(clippy::enum_variant_names)]
pub enum LossKind {
    /// `metrics.max_series`: new series were not stored.
    SeriesLimit,
    /// `metrics.max_samples`: no more samples were stored.
    StoreSampleLimit,
    /// The scrape's `body_size_limit`: the scrape failed.
    BodySizeLimit,
    /// The scrape's `sample_limit`: the scrape failed.
    SampleLimit,
}

impl LossKind {
    /// What happened, for people.
    pub fn describe(self) -> &'static str {
        match self {
            LossKind::SeriesLimit => {
                "series limit (metrics.max_series) reached: new series dropped"
            }
            LossKind::StoreSampleLimit => {
                "sample limit (metrics.max_samples) reached: samples dropped"
            }
            LossKind::BodySizeLimit => "scrape failed: body size limit exceeded",
            LossKind::SampleLimit => "scrape failed: sample limit exceeded",
        }
    }
}

/// Consecutive scrapes of one target that lost data to one limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loss {
    pub kind: LossKind,
    /// The scrape URL, redacted.
    pub target: String,
    pub job: String,
    /// The first and the last of these scrapes, ms since the epoch.
    pub first_ms: i64,
    pub last_ms: i64,
    pub scrapes: u64,
    /// The most series one of these scrapes dropped (0 when the scrape
    /// failed as a whole: its series are unknown).
    pub series_dropped: u64,
    /// Samples dropped over these scrapes (0 when unknown: a body over its
    /// size limit is not read).
    pub samples_dropped: u64,
}

impl Loss {
    /// Whether the loss touches the time from `start` to `end` (ms).
    pub fn overlaps(&self, start: i64, end: i64) -> bool {
        self.first_ms <= end && self.last_ms >= start
    }

    /// One line, e.g. `series limit (…) reached: new series dropped: 1,200
    /// series, 3,600 samples in 3 scrapes of http://…/metrics`; `origin_ms`
    /// turns times into offsets (`+2.0s`).
    pub fn text(&self, origin_ms: i64) -> String {
        let mut counts = Vec::new();
        if self.series_dropped > 0 {
            counts.push(format!("up to {} series", self.series_dropped));
        }
        if self.samples_dropped > 0 {
            counts.push(format!("{} samples", self.samples_dropped));
        }
        let counts = if counts.is_empty() {
            String::new()
        } else {
            format!(": {} dropped", counts.join(", "))
        };
        let at = |t: i64| format!("+{:.1}s", (t - origin_ms) as f64 / 1000.0);
        let when = if self.scrapes == 1 {
            format!("at {}", at(self.first_ms))
        } else {
            format!("from {} to {}", at(self.first_ms), at(self.last_ms))
        };
        format!(
            "{}{counts} in {} scrape{} of {} {when}",
            self.kind.describe(),
            self.scrapes,
            if self.scrapes == 1 { "" } else { "s" },
            self.target
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loss_says_what_when_and_how_much() {
        let loss = Loss {
            kind: LossKind::SeriesLimit,
            target: "http://127.0.0.1:9/metrics".into(),
            job: "api".into(),
            first_ms: 3_000,
            last_ms: 5_000,
            scrapes: 3,
            series_dropped: 1_200,
            samples_dropped: 3_600,
        };
        assert_eq!(
            loss.text(1_000),
            "series limit (metrics.max_series) reached: new series dropped: up to 1200 series, 3600 samples dropped in 3 scrapes of http://127.0.0.1:9/metrics from +2.0s to +4.0s"
        );
        assert!(loss.overlaps(5_000, 9_000) && loss.overlaps(0, 3_000));
        assert!(!loss.overlaps(5_001, 9_000) && !loss.overlaps(0, 2_999));
    }
}
