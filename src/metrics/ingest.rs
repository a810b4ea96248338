//! Storing one scrape of a target: the body is checked whole first
//! ([`super::validate`]), then its samples go into the store with the
//! target's `job` and `instance`, as Prometheus stores them: `up` and the
//! `scrape_*` series beside them, a staleness marker for every series that
//! vanished (all of them when the scrape failed), duplicates dropped. What
//! the store's limits refuse, and the scrapes the target's own limits
//! failed, are recorded as [`Loss`]es, consecutive scrapes in one entry.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use super::exposition::{self, MetricType, Visitor};
use super::fetch::{Body, Fetched, ScrapeError};
use super::histogram::FloatHistogram;
use super::loss::{Loss, LossKind};
use super::scrape::{ScrapeLimits, Target};
use super::store::{Labels, NAME, Store, StoreError, stale};
use super::validate::{self, Checked};

/// What storing one scrape did.
#[derive(Debug, Default, PartialEq)]
pub struct Recorded {
    /// Why the scrape failed (`up` = 0).
    pub failure: Option<ScrapeError>,
    /// Samples dropped as repeats of a series already in the scrape.
    pub duplicates: usize,
    /// Losses that began with this scrape (not those it carried on).
    pub new_losses: Vec<LossKind>,
}

/// A scrape after its first pass: parsed and within its limits, or failed.
pub struct CheckedScrape {
    t: i64,
    duration: Duration,
    result: Result<(Body, Checked), ScrapeError>,
}

/// What one target needs between scrapes: its labels, the series it
/// reported last time (for staleness), and the losses its last scrape
/// recorded (so consecutive ones make one entry).
pub struct TargetState {
    job: String,
    instance: String,
    shown: String,
    limits: ScrapeLimits,
    previous: HashSet<usize>,
    losses: BTreeMap<LossKind, usize>,
}

impl TargetState {
    pub fn new(target: &Target) -> TargetState {
        TargetState {
            job: target.job.clone(),
            instance: target.instance(),
            shown: crate::redact::url(&target.url),
            limits: target.limits,
            previous: HashSet::new(),
            losses: BTreeMap::new(),
        }
    }

    /// The first pass: parse the body and apply the sample limit.
    pub fn check(&self, fetched: Fetched) -> CheckedScrape {
        let result = fetched.result.and_then(|body| {
            let checked = match &body {
                Body::Text(text, format) => validate::check(text, *format, self.limits.samples)?,
                Body::Protobuf(bytes) => validate::check_protobuf(bytes, self.limits.samples)?,
            };
            Ok((body, checked))
        });
        CheckedScrape {
            t: fetched.t,
            duration: fetched.duration,
            result,
        }
    }

    /// Checks and stores a scrape.
    pub fn record(&mut self, store: &mut Store, fetched: Fetched) -> Recorded {
        let checked = self.check(fetched);
        self.store(store, checked)
    }

    /// The second pass: stores a checked scrape (nothing of a failed one
    /// but `up` = 0 and staleness markers), with Prometheus's
    /// `up` and `scrape_*` series.
    pub fn store(&mut self, store: &mut Store, checked: CheckedScrape) -> Recorded {
        let t = checked.t;
        let mut append = Append {
            store,
            checked: None,
            index: 0,
            t,
            job: &self.job,
            instance: &self.instance,
            current: HashSet::new(),
            added: 0,
            series_dropped: 0,
            series_samples_dropped: 0,
            store_samples_dropped: 0,
            kind: None,
        };
        let mut recorded = Recorded::default();
        let mut lost: Vec<(LossKind, u64, u64)> = Vec::new();
        let scraped = match checked.result {
            Ok((body, checked)) => {
                recorded.duplicates = checked.duplicates;
                let samples = checked.samples;
                append.checked = Some(checked);
                // The first pass parsed the same body; a failure here is
                // kept as one rather than a panic all the same.
                let parsed = match &body {
                    Body::Text(text, format) => exposition::parse(text, *format, &mut append)
                        .map(drop)
                        .map_err(ScrapeError::Invalid),
                    Body::Protobuf(bytes) => super::protobuf::parse(bytes, &mut append)
                        .map(drop)
                        .map_err(ScrapeError::InvalidProtobuf),
                };
                if let Err(e) = parsed {
                    recorded.failure = Some(e);
                }
                samples
            }
            Err(failure) => {
                match failure {
                    ScrapeError::BodySizeLimit { .. } => lost.push((LossKind::BodySizeLimit, 0, 0)),
                    ScrapeError::SampleLimit { .. } => lost.push((LossKind::SampleLimit, 0, 0)),
                    _ => {}
                }
                recorded.failure = Some(failure);
                0
            }
        };
        let Append {
            store,
            mut current,
            added,
            mut series_dropped,
            mut series_samples_dropped,
            mut store_samples_dropped,
            ..
        } = append;
        if recorded.failure.is_some() {
            current.clear();
        }
        for &gone in self.previous.difference(&current) {
            if store.append(gone, t, stale()).is_err() {
                store_samples_dropped += 1;
            }
        }
        self.previous = current;
        let up = if recorded.failure.is_some() { 0.0 } else { 1.0 };
        for (name, v) in [
            ("up", up),
            ("scrape_duration_seconds", checked.duration.as_secs_f64()),
            ("scrape_samples_scraped", scraped as f64),
            ("scrape_samples_post_metric_relabeling", scraped as f64),
            ("scrape_series_added", added as f64),
        ] {
            let labels = Labels::new(vec![
                (NAME.into(), name.into()),
                ("job".into(), self.job.clone()),
                ("instance".into(), self.instance.clone()),
            ]);
            match store.add(&labels, t, v) {
                Ok(_) => {}
                Err(StoreError::TooManySeries { .. }) => {
                    series_dropped += 1;
                    series_samples_dropped += 1;
                }
                Err(StoreError::TooManySamples { .. }) => store_samples_dropped += 1,
            }
        }
        if series_dropped > 0 {
            lost.push((
                LossKind::SeriesLimit,
                series_dropped as u64,
                series_samples_dropped as u64,
            ));
        }
        if store_samples_dropped > 0 {
            lost.push((LossKind::StoreSampleLimit, 0, store_samples_dropped as u64));
        }
        let mut losses = BTreeMap::new();
        for (kind, series, samples) in lost {
            let loss = Loss {
                kind,
                target: self.shown.clone(),
                job: self.job.clone(),
                first_ms: t,
                last_ms: t,
                scrapes: 1,
                series_dropped: series,
                samples_dropped: samples,
            };
            let carried = self.losses.get(&kind).copied();
            if carried.is_none() {
                recorded.new_losses.push(kind);
            }
            losses.insert(kind, store.record_loss(loss, carried));
        }
        self.losses = losses;
        recorded
    }
}

/// The second pass: each sample, with the target's labels added, into the
/// store; what its limits refuse is counted.
struct Append<'a> {
    store: &'a mut Store,
    checked: Option<Checked>,
    index: usize,
    t: i64,
    job: &'a str,
    instance: &'a str,
    current: HashSet<usize>,
    added: usize,
    series_dropped: usize,
    series_samples_dropped: usize,
    store_samples_dropped: usize,
    /// The type the last `# TYPE` line gave, for the samples after it.
    kind: Option<MetricType>,
}

impl Visitor for Append<'_> {
    fn metadata(&mut self, metadata: &exposition::Metadata<'_>) {
        if let exposition::Metadata::Type { kind, .. } = metadata {
            self.kind = Some(*kind);
        }
    }

    fn sample(&mut self, sample: &exposition::SampleLine<'_>) {
        self.add(sample, None);
    }

    fn histogram(&mut self, sample: &exposition::SampleLine<'_>, h: &FloatHistogram) {
        self.add(sample, Some(h));
    }
}

impl Append<'_> {
    /// Stores a float sample, or the native histogram `h`.
    fn add(&mut self, sample: &exposition::SampleLine<'_>, h: Option<&FloatHistogram>) {
        let index = self.index;
        self.index += 1;
        if self.checked.as_ref().is_some_and(|c| c.is_duplicate(index)) {
            return;
        }
        let mut pairs = Vec::with_capacity(sample.labels.len() + 3);
        pairs.push((NAME.to_string(), sample.name.to_string()));
        for label in sample.labels {
            let name = match label.name {
                "job" => "exported_job",
                "instance" => "exported_instance",
                other => other,
            };
            // Prometheus 3 writes a classic histogram's `le` and a
            // summary's `quantile` as OpenMetrics floats (`1` → `1.0`), so
            // `le="1.0"` selects the bucket whichever way it was exposed.
            let float_label = match self.kind {
                Some(MetricType::Histogram) => name == "le",
                Some(MetricType::Summary) => name == "quantile",
                _ => false,
            };
            let value = match label.value.parse::<f64>() {
                Ok(v) if float_label => exposition::openmetrics_float(v),
                _ => label.value.to_string(),
            };
            pairs.push((name.to_string(), value));
        }
        pairs.push(("job".into(), self.job.to_string()));
        pairs.push(("instance".into(), self.instance.to_string()));
        let labels = Labels::new(pairs);
        let before = self.store.series().len();
        let id = match self.store.series_id(&labels) {
            Ok(id) => id,
            Err(_) => {
                // The series limit: this series is not stored.
                self.series_dropped += 1;
                self.series_samples_dropped += 1;
                return;
            }
        };
        self.added += usize::from(self.store.series().len() > before);
        let t = sample.timestamp_ms.unwrap_or(self.t);
        let stored = match h {
            Some(h) => self.store.append_histogram(id, t, h.clone()),
            None => self.store.append(id, t, sample.value),
        };
        if stored.is_err() {
            self.store_samples_dropped += 1;
        }
        if sample.timestamp_ms.is_none() {
            self.current.insert(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::exposition::Format;

    fn target(url: &str) -> Target {
        Target {
            url: url.into(),
            job: "demo".into(),
            interval: Duration::from_secs(1),
            limits: ScrapeLimits::default(),
        }
    }

    #[test]
    fn utf8_names_are_scraped_selected_and_printed_quoted() {
        let mut store = Store::default();
        let mut state = TargetState::new(&target("http://127.0.0.1:1/metrics"));
        let body = "# TYPE \"my.metric\" gauge\n{\"my.metric\", \"label.x\"=\"v\"} 7\n";
        let fetched = Fetched {
            t: 1000,
            duration: Duration::from_millis(1),
            result: Ok(Body::Text(body.to_string(), Format::Text)),
        };
        assert_eq!(state.record(&mut store, fetched).failure, None);
        let expr = crate::promql::parse(r#"{"my.metric", "label.x"="v"}"#).unwrap();
        let value = crate::promql::Evaluator::new(&store)
            .instant(&expr, 1000)
            .unwrap();
        let crate::promql::Value::Vector(samples) = value else {
            panic!("{value:?}");
        };
        assert_eq!(samples.len(), 1);
        assert_eq!(samples[0].v, 7.0);
        assert_eq!(
            samples[0].labels.to_string(),
            r#"{"my.metric", instance="127.0.0.1:1", job="demo", "label.x"="v"}"#
        );
    }

    #[test]
    fn le_and_quantile_are_written_as_prometheus_3_writes_them() {
        let mut store = Store::default();
        let mut state = TargetState::new(&target("http://127.0.0.1:1/metrics"));
        let body = "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"0.00001\"} 0\n\
                    h_bucket{le=\"+Inf\"} 2\n# TYPE s summary\ns{quantile=\"1\"} 3\n\
                    # TYPE g gauge\ng{le=\"1\",quantile=\"1\"} 4\n";
        let fetched = Fetched {
            t: 1000,
            duration: Duration::from_millis(1),
            result: Ok(Body::Text(body.to_string(), Format::Text)),
        };
        assert_eq!(state.record(&mut store, fetched).failure, None);
        let values = |name: &str, label: &str| -> Vec<String> {
            store
                .series()
                .iter()
                .filter(|s| s.labels.name() == Some(name))
                .filter_map(|s| s.labels.get(label).map(str::to_string))
                .collect()
        };
        assert_eq!(values("h_bucket", "le"), ["1.0", "1e-05", "+Inf"]);
        assert_eq!(values("s", "quantile"), ["1.0"]);
        // Only a histogram's `le` and a summary's `quantile`.
        assert_eq!(values("g", "le"), ["1"]);
        assert_eq!(values("g", "quantile"), ["1"]);
    }

    #[test]
    fn vanished_series_and_failed_scrapes_go_stale() {
        let mut store = Store::default();
        let mut state = TargetState::new(&target("http://127.0.0.1:1/metrics"));
        let ok = |t: i64, body: &str| Fetched {
            t,
            duration: Duration::from_millis(3),
            result: Ok(Body::Text(body.to_string(), Format::Text)),
        };
        let a = "# TYPE a counter\na{job=\"x\"} 1\nb 2\n";
        assert_eq!(state.record(&mut store, ok(1000, a)).failure, None);
        assert_eq!(state.record(&mut store, ok(2000, "b 3\n")).failure, None);
        let failed = Fetched {
            t: 3000,
            duration: Duration::from_millis(1),
            result: Err(ScrapeError::Fetch("connection refused".into())),
        };
        assert_eq!(
            state.record(&mut store, failed).failure,
            Some(ScrapeError::Fetch("connection refused".into()))
        );
        let find = |text: &str| {
            store
                .series()
                .iter()
                .find(|s| s.labels.to_string() == text)
                .map(|s| {
                    s.points
                        .iter()
                        .map(|p| (p.t, crate::metrics::store::is_stale(p.v), p.v))
                        .collect::<Vec<_>>()
                })
        };
        let a = find("a{exported_job=\"x\", instance=\"127.0.0.1:1\", job=\"demo\"}").unwrap();
        assert_eq!(a.len(), 2);
        assert!(!a[0].1 && a[1].1 && a[1].0 == 2000);
        let b = find("b{instance=\"127.0.0.1:1\", job=\"demo\"}").unwrap();
        assert_eq!((b[1].2, b[2].1, b[2].0), (3.0, true, 3000));
        let up = find("up{instance=\"127.0.0.1:1\", job=\"demo\"}").unwrap();
        assert_eq!(up.iter().map(|p| p.2).collect::<Vec<_>>(), [1.0, 1.0, 0.0]);
        let added = find("scrape_series_added{instance=\"127.0.0.1:1\", job=\"demo\"}").unwrap();
        assert_eq!(
            added.iter().map(|p| p.2).collect::<Vec<_>>(),
            [2.0, 0.0, 0.0]
        );
    }

    #[test]
    fn consecutive_losses_make_one_entry_and_a_gap_starts_another() {
        use crate::metrics::store::Limits;
        let mut store = Store::new(Limits {
            series: 7,
            samples: 1_000,
        });
        let mut state = TargetState::new(&target("http://u:p@127.0.0.1:1/metrics?token=t"));
        let scrape = |t: i64, body: &str| Fetched {
            t,
            duration: Duration::from_millis(1),
            result: Ok(Body::Text(body.to_string(), Format::Text)),
        };
        // `a`, `b` and the 5 of `up` and `scrape_*` fill the store.
        let two = "a 1\nb 1\n";
        let four = "a 1\nb 1\nc 1\nd 1\n";
        assert_eq!(
            state.record(&mut store, scrape(500, two)),
            Recorded::default()
        );
        let first = state.record(&mut store, scrape(1000, four));
        assert_eq!(first.new_losses, [LossKind::SeriesLimit]);
        assert!(
            state
                .record(&mut store, scrape(2000, four))
                .new_losses
                .is_empty()
        );
        assert_eq!(
            state.record(&mut store, scrape(3000, two)),
            Recorded::default()
        );
        assert_eq!(
            state.record(&mut store, scrape(4000, four)).new_losses,
            [LossKind::SeriesLimit]
        );
        let losses = store.losses();
        assert_eq!(losses.len(), 2, "{losses:?}");
        assert_eq!(
            (losses[0].first_ms, losses[0].last_ms, losses[0].scrapes),
            (1000, 2000, 2)
        );
        assert_eq!(
            (losses[0].series_dropped, losses[0].samples_dropped),
            (2, 4)
        );
        assert_eq!((losses[1].first_ms, losses[1].scrapes), (4000, 1));
        assert_eq!(
            losses[0].target,
            "http://u:***@127.0.0.1:1/metrics?token=***"
        );
        let too_big = Fetched {
            t: 5000,
            duration: Duration::from_millis(1),
            result: Err(ScrapeError::BodySizeLimit { limit: 10 }),
        };
        let failed = state.record(&mut store, too_big);
        assert!(failed.failure.is_some_and(|f| f.is_limit()));
        assert_eq!(store.losses()[2].kind, LossKind::BodySizeLimit);
    }
}
