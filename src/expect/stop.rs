//! Stop conditions on the service's side: `abort:` entries that watch a
//! PromQL expression or an alert rather than the client's numbers (the
//! guard rails AWS FIS and Gremlin call stop conditions). A thread asks
//! slogate's own scrapes (or the scenario's Prometheus) every quarter of a
//! second; once a condition has held for its `for`, the run's faults are
//! removed and the load stops.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Compare;
use crate::backend::{Embedded, Prometheus, QueryBackend};
use crate::metrics::store::Store;
use crate::rules::live::{Live, LiveRules};

/// `{promql: EXPR, above: X, for: 30s}` or `{alert: NAME, firing: true}`.
#[derive(Debug, Clone, PartialEq)]
pub struct StopCondition {
    pub watch: Watched,
    /// How long it must hold.
    pub sustained: Duration,
    /// As the scenario writes it, for the reason.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Watched {
    /// Holds when the query returns a series (with `bound`, one whose
    /// value passes it).
    Promql {
        expr: String,
        bound: Option<(Compare, f64)>,
    },
    /// Holds while the alert fires (read from a Prometheus's `ALERTS`, or
    /// the rules evaluated in process as the scrapes come in).
    Alert(String),
}

impl StopCondition {
    fn query(&self) -> String {
        match &self.watch {
            Watched::Promql { expr, .. } => expr.clone(),
            Watched::Alert(name) => {
                format!("ALERTS{{alertname=\"{name}\", alertstate=\"firing\"}}")
            }
        }
    }

    /// Whether an answer makes it hold, and the value that did.
    fn holds(&self, answer: &crate::backend::Answer) -> Option<f64> {
        let bound = match &self.watch {
            Watched::Promql { bound, .. } => *bound,
            Watched::Alert(_) => None,
        };
        answer
            .iter()
            .map(|(_, v)| *v)
            .find(|v| bound.is_none_or(|(op, x)| op.holds(*v, x)))
    }
}

/// Where the guard asks.
pub(crate) enum Source {
    Scraped {
        store: Arc<Mutex<Store>>,
        lookback: Duration,
        /// The rules evaluated live, when a condition watches an alert.
        rules: Option<LiveRules>,
    },
    Prometheus(String),
}

/// The guard thread; [`StopGuard::tripped`] says why the run must stop.
pub(crate) struct StopGuard {
    tripped: Arc<Mutex<Option<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// How often the guard asks.
const EVERY: Duration = Duration::from_millis(250);

impl StopGuard {
    /// Starts watching `conditions` (none: no thread).
    pub(crate) fn start(conditions: Vec<StopCondition>, source: Source) -> StopGuard {
        let tripped = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = (!conditions.is_empty())
            .then(|| {
                let (tripped, stop) = (tripped.clone(), stop.clone());
                std::thread::Builder::new()
                    .name("slogate-stop-guard".into())
                    .spawn(move || guard(&conditions, source, &tripped, &stop))
                    .ok()
            })
            .flatten();
        StopGuard {
            tripped,
            stop,
            thread,
        }
    }

    /// Why the run must stop, once a condition has held long enough.
    pub(crate) fn tripped(&self) -> Option<String> {
        self.tripped.lock().ok().and_then(|t| t.clone())
    }
}

impl Drop for StopGuard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn guard(
    conditions: &[StopCondition],
    source: Source,
    tripped: &Mutex<Option<String>>,
    stop: &AtomicBool,
) {
    let prometheus = match &source {
        Source::Prometheus(url) => Prometheus::new(url).ok(),
        Source::Scraped { .. } => None,
    };
    let mut since: Vec<Option<Instant>> = vec![None; conditions.len()];
    let mut warned = false;
    let mut live: Option<Live> = match &source {
        Source::Scraped {
            rules: Some(rules), ..
        } => match rules.start() {
            Ok(live) => Some(live),
            Err(why) => {
                crate::events::say(&format!(
                    "warning: stop conditions on alerts not evaluated: {why}"
                ));
                warned = true;
                None
            }
        },
        _ => None,
    };
    while !stop.load(Ordering::Relaxed) {
        let now_ms = crate::metrics::scrape::system_ms(std::time::SystemTime::now());
        if let (Source::Scraped { store, .. }, Some(live)) = (&source, live.as_mut()) {
            // The copy under the scrapes' lock; the rules outside it.
            let range = store.lock().ok().and_then(|store| live.copy(&store));
            if let Some(range) = range {
                live.evaluate(range);
            }
        }
        let ask = |condition: &StopCondition| -> Result<crate::backend::Answer, String> {
            let query = condition.query();
            let query = query.as_str();
            if let (Watched::Alert(name), Some(live)) = (&condition.watch, live.as_ref()) {
                let firing = live.firing(name);
                return Ok(firing
                    .then(|| (crate::metrics::store::Labels::empty(), 1.0))
                    .into_iter()
                    .collect());
            }
            match (&source, &prometheus) {
                (
                    Source::Scraped {
                        store, lookback, ..
                    },
                    _,
                ) => {
                    let store = store
                        .lock()
                        .map_err(|_| "the scrapes are lost".to_string())?;
                    let mut backend = Embedded::new(&store);
                    backend.lookback = *lookback;
                    backend.instant(query, now_ms).map_err(|e| e.to_string())
                }
                (Source::Prometheus(_), Some(backend)) => {
                    backend.instant(query, now_ms).map_err(|e| e.to_string())
                }
                (Source::Prometheus(url), None) => Err(format!("no client for {url}")),
            }
        };
        for (condition, since) in conditions.iter().zip(since.iter_mut()) {
            let value = match ask(condition) {
                Ok(answer) => condition.holds(&answer),
                Err(why) => {
                    if !warned {
                        crate::events::say(&format!(
                            "warning: stop condition `{}` not evaluated: {}",
                            condition.text,
                            crate::redact::text(&why)
                        ));
                        warned = true;
                    }
                    None
                }
            };
            let Some(value) = value else {
                *since = None;
                continue;
            };
            let first = *since.get_or_insert_with(Instant::now);
            if first.elapsed() >= condition.sustained {
                let reason = format!(
                    "stop condition `{}` held for {} (value {}): faults removed, load stopped",
                    condition.text,
                    super::alert::secs(first.elapsed()),
                    crate::units::format_significant(value)
                );
                if let Ok(mut tripped) = tripped.lock() {
                    *tripped = Some(reason);
                }
                return;
            }
        }
        std::thread::sleep(EVERY);
    }
}
