//! The scraper: each target on its own thread (off the engine's), scraped
//! at a fixed interval from when scraping began, as Prometheus does: the
//! scrape's start time stamps its samples, `job` and `instance` are added
//! (a target's own become `exported_job` / `exported_instance`), `up`,
//! `scrape_duration_seconds`, `scrape_samples_scraped`,
//! `scrape_samples_post_metric_relabeling` and `scrape_series_added` are
//! recorded, and series that vanish (or a failed scrape's) get a staleness
//! marker. Stopping takes one last scrape of every target.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use super::exposition::{self, Format, Visitor};
use super::store::{Labels, NAME, Store, StoreError, stale};

/// One target.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub url: String,
    pub job: String,
    pub interval: Duration,
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
/// counted in `up`; a full store stops scraping).
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
            let client = crate::backend::http_client(target.interval.min(Duration::from_secs(10)))?;
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
    for k in 0u32.. {
        let due = begin + target.interval * k;
        while Instant::now() < due && !stop.load(Ordering::Relaxed) {
            std::thread::sleep((due - Instant::now()).min(Duration::from_millis(50)));
        }
        // Stopping takes one last scrape, so the saved data ends with what
        // the service reported after the run's last request.
        let last = stop.load(Ordering::Relaxed);
        let body = fetch(client, &target.url);
        let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
        match state.record(&mut store, body) {
            Ok(None) => {}
            Ok(Some(failure)) => {
                // One line per target for the first few; `up` has them all.
                if failures_reported < 3 {
                    failures_reported += 1;
                    problems
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(format!("scrape of {} failed: {failure}", target.url));
                }
            }
            Err(full) => {
                problems
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(format!("scraping {} stopped: {full}", target.url));
                return;
            }
        }
        if last {
            return;
        }
    }
}

/// A scrape's outcome before it is stored.
pub struct Fetched {
    /// When the scrape began, ms since the epoch.
    pub t: i64,
    pub duration: Duration,
    pub result: Result<(String, Format), String>,
}

/// One scrape.
pub fn fetch(client: &reqwest::blocking::Client, url: &str) -> Fetched {
    let t = system_ms(SystemTime::now());
    let started = Instant::now();
    let result = client
        .get(url)
        .header(
            "Accept",
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
        )
        .send()
        .map_err(|e| describe(&e))
        .and_then(|response| {
            let status = response.status();
            if !status.is_success() {
                return Err(format!("server returned HTTP status {status}"));
            }
            let format = match response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
            {
                Some(ct) if ct.starts_with("application/openmetrics-text") => Format::OpenMetrics,
                _ => Format::Text,
            };
            response
                .text()
                .map(|body| (body, format))
                .map_err(|e| describe(&e))
        });
    Fetched {
        t,
        duration: started.elapsed(),
        result,
    }
}

fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// What one target needs between scrapes: its labels and the series it
/// reported last time (for staleness).
pub struct TargetState {
    job: String,
    instance: String,
    previous: HashSet<usize>,
}

impl TargetState {
    pub fn new(target: &Target) -> TargetState {
        TargetState {
            job: target.job.clone(),
            instance: target.instance(),
            previous: HashSet::new(),
        }
    }

    /// Stores a scrape; Ok(Some(why)) when it failed (up = 0), Err when the
    /// store is full.
    pub fn record(
        &mut self,
        store: &mut Store,
        fetched: Fetched,
    ) -> Result<Option<String>, StoreError> {
        let t = fetched.t;
        let parsed = fetched.result.and_then(|(body, format)| {
            let mut collect = Collect {
                samples: Vec::new(),
                job: &self.job,
                instance: &self.instance,
            };
            exposition::parse(&body, format, &mut collect)
                .map(|_| collect.samples)
                .map_err(|e| format!("invalid exposition: {e}"))
        });
        let (samples, failure) = match parsed {
            Ok(samples) => (samples, None),
            Err(why) => (Vec::new(), Some(why)),
        };
        let mut current = HashSet::with_capacity(samples.len());
        let mut added = 0;
        let scraped = samples.len();
        for (labels, explicit, v) in samples {
            let before = store.series().len();
            let id = store.series_id(&labels)?;
            added += usize::from(store.series().len() > before);
            store.append(id, explicit.unwrap_or(t), v)?;
            if explicit.is_none() {
                current.insert(id);
            }
        }
        for &gone in self.previous.difference(&current) {
            store.append(gone, t, stale())?;
        }
        self.previous = current;
        let up = if failure.is_some() { 0.0 } else { 1.0 };
        for (name, v) in [
            ("up", up),
            ("scrape_duration_seconds", fetched.duration.as_secs_f64()),
            ("scrape_samples_scraped", scraped as f64),
            ("scrape_samples_post_metric_relabeling", scraped as f64),
            ("scrape_series_added", added as f64),
        ] {
            let labels = Labels::new(vec![
                (NAME.into(), name.into()),
                ("job".into(), self.job.clone()),
                ("instance".into(), self.instance.clone()),
            ]);
            store.add(&labels, t, v)?;
        }
        Ok(failure)
    }
}

/// Samples of one scrape with the target's labels added.
struct Collect<'a> {
    samples: Vec<(Labels, Option<i64>, f64)>,
    job: &'a str,
    instance: &'a str,
}

impl Visitor for Collect<'_> {
    fn sample(&mut self, sample: &exposition::Sample<'_>) {
        let mut pairs = Vec::with_capacity(sample.labels.len() + 3);
        pairs.push((NAME.to_string(), sample.name.to_string()));
        for label in sample.labels {
            let name = match label.name {
                "job" => "exported_job",
                "instance" => "exported_instance",
                other => other,
            };
            pairs.push((name.to_string(), label.value.to_string()));
        }
        pairs.push(("job".into(), self.job.to_string()));
        pairs.push(("instance".into(), self.instance.to_string()));
        self.samples
            .push((Labels::new(pairs), sample.timestamp_ms, sample.value));
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

    #[test]
    fn vanished_series_and_failed_scrapes_go_stale() {
        let mut store = Store::default();
        let mut state = TargetState::new(&target("http://127.0.0.1:1/metrics"));
        let ok = |t: i64, body: &str| Fetched {
            t,
            duration: Duration::from_millis(3),
            result: Ok((body.to_string(), Format::Text)),
        };
        let a = "# TYPE a counter\na{job=\"x\"} 1\nb 2\n";
        assert_eq!(state.record(&mut store, ok(1000, a)), Ok(None));
        assert_eq!(state.record(&mut store, ok(2000, "b 3\n")), Ok(None));
        let failed = Fetched {
            t: 3000,
            duration: Duration::from_millis(1),
            result: Err("connection refused".into()),
        };
        assert_eq!(
            state.record(&mut store, failed),
            Ok(Some("connection refused".into()))
        );
        let find = |text: &str| {
            store
                .series()
                .iter()
                .find(|s| s.labels.to_string() == text)
                .map(|s| {
                    s.points
                        .iter()
                        .map(|p| (p.t, super::super::store::is_stale(p.v), p.v))
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
}
