//! The scenario's rules evaluated while the run goes on, for what must be
//! known before the run ends: stop conditions on an alert and the steady
//! state's alert checks, with slogate's embedded evaluator. The scrapes
//! are copied as they come into a store of its own (the rules write their
//! series there, not into the run's scrapes), and the rules are evaluated
//! at their intervals up to the newest scrape, as a Prometheus evaluates
//! them: what the last scrape says. The run's verdicts still come from the
//! evaluation over every scrape after the run.

use std::time::Duration;

use super::{External, Options, RuleFile, RuleSet};
use crate::metrics::histogram::tag::{self, Home};
use crate::metrics::store::Store;

/// What [`Live`] is built from, in the thread that evaluates (the rules'
/// prepared templates stay in one thread).
pub(crate) struct LiveRules {
    pub files: Vec<RuleFile>,
    pub interval: Duration,
    pub lookback: Duration,
}

impl LiveRules {
    pub(crate) fn start(&self) -> Result<Live, String> {
        Live::new(&self.files, self.interval, self.lookback)
    }
}

pub(crate) struct Live {
    set: RuleSet,
    /// The scrapes copied so far, and the rules' own series.
    mirror: Store,
    /// For each series of the scrapes: its id in `mirror`, and how many of
    /// its points were copied.
    copied: Vec<(usize, usize)>,
    /// The last time evaluated (ms), once the rules have run.
    evaluated_to: Option<i64>,
}

impl Live {
    pub(crate) fn new(
        files: &[RuleFile],
        interval: Duration,
        lookback: Duration,
    ) -> Result<Live, String> {
        let options = Options {
            default_interval: interval,
            lookback,
            external: External::default(),
            legacy_rate_extrapolation: false,
        };
        let set = RuleSet::new(files, options).map_err(|e| e.to_string())?;
        Ok(Live {
            set,
            mirror: Store::default(),
            copied: Vec::new(),
            evaluated_to: None,
        })
    }

    /// Copies what `scraped` got since the last call (a short hold of the
    /// scrapes' lock); returns its first and newest sample times (ms).
    pub(crate) fn copy(&mut self, scraped: &Store) -> Option<(i64, i64)> {
        for (index, series) in scraped.series().iter().enumerate() {
            if index == self.copied.len() {
                let id = self.mirror.series_id(&series.labels).ok()?;
                self.copied.push((id, 0));
            }
            let (id, done) = &mut self.copied[index];
            for point in &series.points[*done..] {
                let stored = match tag::decode(point.v) {
                    Some((Home::Store, h)) => match scraped.histogram(h) {
                        Some(h) => self.mirror.append_histogram(*id, point.t, (**h).clone()),
                        None => Ok(false),
                    },
                    _ => self.mirror.append(*id, point.t, point.v),
                };
                // A full mirror stops copying; the rules see what it has.
                if stored.is_err() {
                    break;
                }
            }
            *done = series.points.len();
        }
        scraped.time_range()
    }

    /// Evaluates the rules over what was copied, up to `newest` (ms; the
    /// range [`Live::copy`] returned).
    pub(crate) fn evaluate(&mut self, (first, newest): (i64, i64)) -> Option<i64> {
        let from = self.evaluated_to.unwrap_or(first - 1);
        if newest > from {
            self.set.run(&mut self.mirror, from, newest);
            self.evaluated_to = Some(newest);
        }
        self.evaluated_to
    }

    /// Whether an alert of that name fires at the last evaluation.
    pub(crate) fn firing(&self, alertname: &str) -> bool {
        !self.set.firing(alertname).is_empty()
    }

    /// What the rules did so far.
    #[cfg(test)]
    pub(crate) fn timeline(&self) -> &super::AlertTimeline {
        &self.set.timeline
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::store::Labels;

    fn rules(yaml: &str) -> Vec<RuleFile> {
        vec![super::super::resolve(std::path::Path::new("live.yml"), yaml).unwrap()]
    }

    #[test]
    fn evaluated_as_the_scrapes_come_in_like_the_whole_run_after_it() {
        let files = rules(
            "groups:\n  - name: g\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 2s\n",
        );
        let second = Duration::from_secs(1);
        let mut live = Live::new(&files, second, Duration::from_secs(300)).unwrap();
        let up = Labels::from_pairs(&[("__name__", "up"), ("job", "api")]);
        let mut scraped = Store::default();
        let mut fired_live = None;
        // up is 1 for 5 s, 0 for 6 s, then 1 again; a scrape a second, the
        // rules advanced after each.
        for s in 0..15i64 {
            let v = if (5..11).contains(&s) { 0.0 } else { 1.0 };
            scraped.add(&up, 1_000_000 + s * 1000, v).unwrap();
            let range = live.copy(&scraped).unwrap();
            live.evaluate(range);
            if fired_live.is_none() && live.firing("Down") {
                fired_live = Some(s);
            }
        }
        // Pending at +5 s, firing 2 s later, at +7 s; resolved at +11 s.
        assert_eq!(fired_live, Some(7));
        assert!(!live.firing("Down"));
        // The same timeline as the rules evaluated over the whole store.
        let mut whole = scraped.clone();
        let mut set = RuleSet::new(
            &files,
            Options {
                default_interval: second,
                lookback: Duration::from_secs(300),
                external: External::default(),
                legacy_rate_extrapolation: false,
            },
        )
        .unwrap();
        let (first, last) = whole.time_range().unwrap();
        set.run(&mut whole, first - 1, last);
        let episodes = |t: &super::super::AlertTimeline| -> Vec<(i64, Option<i64>, Option<i64>)> {
            t.named("Down")
                .flat_map(|h| h.episodes.iter())
                .map(|e| (e.pending_at, e.fired_at, e.resolved_at))
                .collect()
        };
        assert_eq!(episodes(live.timeline()), episodes(&set.timeline));
        assert_eq!(
            episodes(live.timeline()),
            [(1_005_000, Some(1_007_000), Some(1_011_000))]
        );
        // The run's scrapes hold no rule series: those are the mirror's.
        assert!(scraped.named("ALERTS").is_empty());
    }
}
