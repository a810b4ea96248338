//! The scraper: each target on its own thread (off the engine's), scraped
//! at a fixed interval from when scraping began, as Prometheus does: the
//! scrape's start time stamps its samples, `job` and `instance` are added
//! (a target's own become `exported_job` / `exported_instance`), `up`,
//! `scrape_duration_seconds`, `scrape_samples_scraped`,
//! `scrape_samples_post_metric_relabeling` and `scrape_series_added` are
//! recorded, and series that vanish (or a failed scrape's) get a staleness
//! marker. Stopping takes one last scrape of every target.
//!
//! A scrape is bounded as Prometheus bounds it: by its body size and its
//! sample count (either fails the scrape: `up` = 0), and it is stored only
//! once the whole body has parsed ([`super::ingest`]), so a malformed or
//! oversized body costs no memory beyond itself. What the store's limits
//! drop is recorded as a [`Loss`](super::loss::Loss), as are the scrapes
//! the limits failed; scraping goes on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

pub use super::fetch::{Fetched, ScrapeError, fetch};
pub use super::ingest::{Recorded, TargetState};
use super::loss::LossKind;
use super::store::Store;

/// One target.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub url: String,
    pub job: String,
    pub interval: Duration,
    pub limits: ScrapeLimits,
}

/// What one scrape may bring: Prometheus's `body_size_limit` and
/// `sample_limit` (unlimited by default there; a tool that holds every
/// sample in memory needs a default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScrapeLimits {
    /// A body of this many bytes or more fails the scrape.
    pub body_size_bytes: u64,
    /// More samples than this (duplicates aside) fail the scrape.
    pub samples: usize,
    /// Prometheus's `scrape_native_histograms` (off by default, as there):
    /// ask for the protobuf format, which carries native histograms. A
    /// histogram with native buckets then keeps only those, as Prometheus
    /// keeps them without `always_scrape_classic_histograms`.
    pub native_histograms: bool,
}

impl ScrapeLimits {
    pub const DEFAULT_BODY_SIZE_BYTES: u64 = 16 * 1024 * 1024;
    pub const DEFAULT_SAMPLES: usize = 200_000;
}

impl Default for ScrapeLimits {
    /// 16 MiB and 200,000 samples, text formats only.
    fn default() -> ScrapeLimits {
        ScrapeLimits {
            body_size_bytes: Self::DEFAULT_BODY_SIZE_BYTES,
            samples: Self::DEFAULT_SAMPLES,
            native_histograms: false,
        }
    }
}

impl Target {
    /// `host:port` of the URL, as Prometheus's `instance` label.
    pub fn instance(&self) -> String {
        let rest = self
            .url
            .split_once("://")
            .map_or(self.url.as_str(), |(_, r)| r);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
        let has_port = authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
            && !authority.ends_with(']');
        if has_port {
            authority.to_string()
        } else if self.url.starts_with("https://") {
            format!("{authority}:443")
        } else {
            format!("{authority}:80")
        }
    }
}

/// Scrapes targets into a shared store until stopped.
pub struct Scraper {
    store: Arc<Mutex<Store>>,
    problems: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// What scraping left: the store, and what went wrong (failed scrapes are
/// counted in `up`; what the store's limits dropped is in its losses).
pub struct Scraped {
    pub store: Store,
    pub problems: Vec<String>,
}

impl Scraper {
    /// Starts one thread per target; the first scrape is immediate.
    pub fn start(targets: Vec<Target>, store: Store) -> anyhow::Result<Scraper> {
        let store = Arc::new(Mutex::new(store));
        let problems = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for target in targets {
            let client = crate::net::http_client(target.interval.min(Duration::from_secs(10)))?;
            let (store, problems, stop) = (store.clone(), problems.clone(), stop.clone());
            threads.push(
                std::thread::Builder::new()
                    .name("slogate-scrape".into())
                    .spawn(move || scrape_loop(&client, &target, &store, &problems, &stop))?,
            );
        }
        Ok(Scraper {
            store,
            problems,
            stop,
            threads,
        })
    }

    /// Stops every thread, each after one last scrape, and hands back the
    /// store.
    /// The store the scrapes go into, shared.
    pub(crate) fn store_handle(&self) -> Arc<Mutex<Store>> {
        self.store.clone()
    }

    /// Calls `f` with what has been scraped so far (None if a scrape
    /// thread panicked holding it).
    pub(crate) fn with_store<R>(&self, f: impl FnOnce(&Store) -> R) -> Option<R> {
        self.store.lock().ok().map(|store| f(&store))
    }

    pub fn stop(self) -> Scraped {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads {
            let _ = thread.join();
        }
        let store = std::mem::take(&mut *self.store.lock().unwrap_or_else(|e| e.into_inner()));
        let problems =
            std::mem::take(&mut *self.problems.lock().unwrap_or_else(|e| e.into_inner()));
        Scraped { store, problems }
    }
}

fn scrape_loop(
    client: &reqwest::blocking::Client,
    target: &Target,
    store: &Mutex<Store>,
    problems: &Mutex<Vec<String>>,
    stop: &AtomicBool,
) {
    let begin = Instant::now();
    let mut state = TargetState::new(target);
    let mut failures_reported = 0;
    let mut duplicates_reported = false;
    let shown = crate::redact::url(&target.url);
    let report = |line: String| {
        problems
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line);
    };
    for k in 0u32.. {
        let due = begin + target.interval * k;
        while Instant::now() < due && !stop.load(Ordering::Relaxed) {
            std::thread::sleep((due - Instant::now()).min(Duration::from_millis(50)));
        }
        // Stopping takes one last scrape, so the saved data ends with what
        // the service reported after the run's last request.
        let last = stop.load(Ordering::Relaxed);
        // Checked before the store is locked: a big body does not hold up
        // the other targets.
        let checked = state.check(fetch(client, &target.url, &target.limits));
        let recorded = {
            let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
            state.store(&mut store, checked)
        };
        if let Some(failure) = &recorded.failure
            && failures_reported < 3
        {
            // One line per target for the first few; `up` has them all.
            failures_reported += 1;
            report(crate::redact::text(&format!(
                "scrape of {shown} failed: {failure}"
            )));
        }
        if recorded.duplicates > 0 && !duplicates_reported {
            duplicates_reported = true;
            report(format!(
                "scrape of {shown}: {} duplicate samples dropped (a series repeated within one scrape; Prometheus drops them too)",
                recorded.duplicates
            ));
        }
        // A failed scrape was reported above; a partly stored one is new.
        for kind in recorded.new_losses {
            if matches!(kind, LossKind::SeriesLimit | LossKind::StoreSampleLimit) {
                report(format!("scrape of {shown}: {}", kind.describe()));
            }
        }
        if last {
            return;
        }
    }
}

pub fn system_ms(time: SystemTime) -> i64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> Target {
        Target {
            url: url.into(),
            job: "demo".into(),
            interval: Duration::from_secs(1),
            limits: ScrapeLimits::default(),
        }
    }

    #[test]
    fn instance_is_host_and_port() {
        assert_eq!(
            target("http://127.0.0.1:9090/metrics").instance(),
            "127.0.0.1:9090"
        );
        assert_eq!(
            target("https://example.com/metrics").instance(),
            "example.com:443"
        );
        assert_eq!(target("http://[::1]/metrics").instance(), "[::1]:80");
    }
}
