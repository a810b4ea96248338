//! A real Alertmanager, watched during the run. Its API has no history:
//! `/api/v2/alerts` lists the alerts it holds now (a resolved one drops
//! out), so a thread asks once a second while the load runs and keeps, per
//! alert label set, when it was first and last seen, its receivers and
//! whether it was silenced or inhibited — what a drill needs to know that
//! the page would have gone out.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value as Json;

/// What was seen of one alert (one label set).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Sighting {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// ms since the epoch.
    pub first_seen: i64,
    pub last_seen: i64,
    pub receivers: Vec<String>,
    /// `active`, `suppressed` or `unprocessed`, as last seen.
    pub state: String,
    pub silenced_by: Vec<String>,
    pub inhibited_by: Vec<String>,
}

/// The watching thread.
pub(crate) struct Watch {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Watched>,
}

/// What the watch saw.
#[derive(Debug, Default, Clone, Serialize)]
pub(crate) struct Watched {
    pub url: String,
    pub sightings: Vec<Sighting>,
    /// Why a poll failed (the first of each kind), for the report.
    pub problems: Vec<String>,
    pub polls: u64,
}

impl Watch {
    /// Starts asking `base` (e.g. `http://127.0.0.1:9093`) every `every`.
    pub(crate) fn start(base: &str, every: Duration) -> anyhow::Result<Watch> {
        let client = super::http_client(Duration::from_secs(5))?;
        let url = format!("{}/api/v2/alerts", base.trim_end_matches('/'));
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("slogate-alertmanager".into())
            .spawn(move || {
                let mut watched = Watched {
                    url: base_of(&url),
                    ..Watched::default()
                };
                loop {
                    let last = stopping.load(Ordering::Relaxed);
                    poll(&client, &url, &mut watched);
                    if last {
                        break watched;
                    }
                    let mut slept = Duration::ZERO;
                    while slept < every && !stopping.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(50));
                        slept += Duration::from_millis(50);
                    }
                }
            })?;
        Ok(Watch { stop, thread })
    }

    /// Polls once more and returns what was seen.
    pub(crate) fn stop(self) -> Watched {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

fn base_of(url: &str) -> String {
    url.trim_end_matches("/api/v2/alerts").to_string()
}

fn poll(client: &reqwest::blocking::Client, url: &str, watched: &mut Watched) {
    watched.polls += 1;
    let now = crate::metrics::scrape::system_ms(std::time::SystemTime::now());
    let answer = client
        .get(url)
        .query(&[
            ("active", "true"),
            ("silenced", "true"),
            ("inhibited", "true"),
        ])
        .send()
        .and_then(|r| r.error_for_status())
        .and_then(|r| r.json::<Json>());
    let alerts = match answer {
        Ok(Json::Array(alerts)) => alerts,
        Ok(other) => return problem(watched, format!("{url}: not a list of alerts: {other}")),
        Err(e) => return problem(watched, format!("{url}: {e}")),
    };
    for alert in alerts {
        let strings = |value: &Json| -> BTreeMap<String, String> {
            value
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect()
                })
                .unwrap_or_default()
        };
        let list = |value: &Json| -> Vec<String> {
            value
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let labels = strings(&alert["labels"]);
        let receivers: Vec<String> = alert["receivers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let status = &alert["status"];
        let seen = Sighting {
            annotations: strings(&alert["annotations"]),
            first_seen: now,
            last_seen: now,
            receivers,
            state: status["state"].as_str().unwrap_or("unknown").to_string(),
            silenced_by: list(&status["silencedBy"]),
            inhibited_by: list(&status["inhibitedBy"]),
            labels,
        };
        match watched
            .sightings
            .iter_mut()
            .find(|s| s.labels == seen.labels)
        {
            Some(known) => {
                known.last_seen = now;
                known.annotations = seen.annotations;
                known.receivers = seen.receivers;
                // A suppression seen once is what the drill must report.
                if known.state != "suppressed" {
                    known.state = seen.state;
                }
                for (all, now) in [
                    (&mut known.silenced_by, seen.silenced_by),
                    (&mut known.inhibited_by, seen.inhibited_by),
                ] {
                    all.extend(now);
                    all.sort();
                    all.dedup();
                }
            }
            None => watched.sightings.push(seen),
        }
    }
}

fn problem(watched: &mut Watched, message: String) {
    if watched.problems.len() < 5 && !watched.problems.contains(&message) {
        watched.problems.push(message);
    }
}
