//! `--remote-write URL`: the run's metrics pushed to a remote-write
//! receiver (a Prometheus with `--web.enable-remote-write-receiver`,
//! Mimir, Thanos receive, VictoriaMetrics...) with their own timestamps,
//! so nothing depends on anybody's scrape interval.
//!
//! The run hands over a snapshot of its metrics (their OpenMetrics text)
//! about once a second and never waits: a thread of its own sends them in
//! order. While the receiver is down it retries the oldest with backoff;
//! the queue is bounded in bytes and drops its *oldest* snapshots first,
//! after the one being sent (counters are cumulative, so a dropped
//! snapshot costs resolution, not counts). At the end the last snapshot is sent, then a stale marker for
//! every series, as Prometheus writes when a target goes away.
//!
//! A series' first sample is preceded by a zero at the snapshot before it
//! (counters and histograms only: they were zero then), so `increase()`
//! over the written series sees every request, the first second's too.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use super::wire::{Label, Sample, TimeSeries, WriteRequest};
use crate::metrics::exposition::{self, Format, Metadata, MetricType, SampleLine, Visitor};

/// Queued snapshots beyond this many bytes drop the oldest.
const QUEUE_BYTES: usize = 16 << 20;
/// The first retry's wait; doubled each time, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// One send's time limit.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// What the writer did, for the reports.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct WriteStats {
    /// The receiver, credentials hidden.
    pub url: String,
    /// Requests the receiver accepted, and the samples in them.
    pub requests_sent: u64,
    pub samples_sent: u64,
    /// Sends that failed and were tried again.
    pub retries: u64,
    /// Snapshots dropped because the queue was full (the receiver was
    /// down or slow), oldest first.
    pub snapshots_dropped: u64,
    /// Samples the receiver refused (a 4xx answer other than 429: sending
    /// them again would not help).
    pub samples_rejected: u64,
    /// Snapshots still queued when the end's time ran out.
    pub snapshots_unsent: u64,
    /// The last failure, as the receiver or the network said it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// A snapshot waiting to be sent: the metrics' text and when it was true.
struct Snapshot {
    /// Its place in the queue's order, so that a send that succeeds takes
    /// off this one and no other (the oldest may have been dropped
    /// meanwhile).
    seq: u64,
    text: String,
    at_ms: i64,
    /// The end's: every series sent so far gets a stale marker after it.
    last: bool,
}

#[derive(Default)]
struct Queue {
    snapshots: VecDeque<Snapshot>,
    bytes: usize,
    /// Set by [`RemoteWriter::finish`]: send what is queued until then.
    deadline: Option<Instant>,
    stats: WriteStats,
    /// The newest snapshot's time: each is stamped after it.
    last_ms: i64,
    /// The next snapshot's `seq`.
    next_seq: u64,
}

/// The writer: a queue, and the thread that empties it.
pub struct RemoteWriter {
    shared: Arc<(Mutex<Queue>, Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RemoteWriter {
    /// Starts sending to `url` (http:// or https://).
    pub fn start(url: &str) -> anyhow::Result<RemoteWriter> {
        let parsed =
            url::Url::parse(url).map_err(|e| anyhow::anyhow!("remote write URL `{url}`: {e}"))?;
        anyhow::ensure!(
            matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some(),
            "remote write URL `{url}`: needs http:// or https:// and a host (e.g. http://127.0.0.1:9090/api/v1/write)"
        );
        let client = crate::net::http_client(SEND_TIMEOUT)?;
        let queue = Queue {
            stats: WriteStats {
                url: crate::redact::url(url),
                ..WriteStats::default()
            },
            ..Queue::default()
        };
        let shared = Arc::new((Mutex::new(queue), Condvar::new()));
        let sending = shared.clone();
        let url = url.to_string();
        let thread = std::thread::Builder::new()
            .name("slogate-remote-write".into())
            .spawn(move || send_all(&sending, &client, &url))?;
        Ok(RemoteWriter {
            shared,
            thread: Some(thread),
        })
    }

    /// Queues the metrics `text` (OpenMetrics), true at `at`; never waits.
    pub fn push(&self, text: String, at: SystemTime) {
        self.enqueue(text, at, false);
    }

    /// Queues the last snapshot and the stale markers, waits for them to
    /// go (at most `drain`), and says what was done.
    pub fn finish(mut self, text: String, at: SystemTime, drain: Duration) -> WriteStats {
        self.enqueue(text, at, true);
        {
            let (queue, wake) = &*self.shared;
            lock(queue).deadline = Some(Instant::now() + drain);
            wake.notify_all();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let (queue, _) = &*self.shared;
        let mut queue = lock(queue);
        queue.stats.snapshots_unsent = queue.snapshots.len() as u64;
        queue.stats.clone()
    }

    fn enqueue(&self, text: String, at: SystemTime, last: bool) {
        let (queue, wake) = &*self.shared;
        let mut queue = lock(queue);
        let ms = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        // Strictly after the one before: a series' samples must increase.
        let at_ms = ms.max(queue.last_ms + 1);
        queue.last_ms = at_ms;
        queue.bytes += text.len();
        let seq = queue.next_seq;
        queue.next_seq += 1;
        queue.snapshots.push_back(Snapshot {
            seq,
            text,
            at_ms,
            last,
        });
        // Over the bound: the oldest go, but not the first (it may be in
        // flight) and never the newest (the end's is last).
        while queue.bytes > QUEUE_BYTES && queue.snapshots.len() > 2 {
            if let Some(old) = queue.snapshots.remove(1) {
                queue.bytes -= old.text.len();
                queue.stats.snapshots_dropped += 1;
            }
        }
        wake.notify_all();
    }
}

impl Drop for RemoteWriter {
    fn drop(&mut self) {
        // Dropped without `finish` (the run failed): stop at once.
        let (queue, wake) = &*self.shared;
        lock(queue).deadline.get_or_insert_with(Instant::now);
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock(queue: &Mutex<Queue>) -> std::sync::MutexGuard<'_, Queue> {
    queue
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A series' labels, sorted by name.
type SeriesLabels = Vec<(String, String)>;

/// Every series sent so far, for the zero before a new one and the stale
/// markers at the end.
#[derive(Default)]
struct Sent {
    series: HashSet<SeriesLabels>,
    /// The previous snapshot's time, where a new counter was still zero.
    previous_ms: Option<i64>,
}

/// The sender thread: the oldest snapshot first, until the queue is empty
/// after the end, or the end's deadline.
fn send_all(shared: &(Mutex<Queue>, Condvar), client: &reqwest::blocking::Client, url: &str) {
    let (queue, wake) = shared;
    let mut sent = Sent::default();
    let mut backoff = FIRST_BACKOFF;
    loop {
        let snapshot = {
            let mut guard = lock(queue);
            loop {
                if guard.deadline.is_some_and(|d| Instant::now() >= d) {
                    return;
                }
                if let Some(front) = guard.snapshots.front() {
                    break Snapshot {
                        seq: front.seq,
                        text: front.text.clone(),
                        at_ms: front.at_ms,
                        last: front.last,
                    };
                }
                if guard.deadline.is_some() {
                    return;
                }
                guard = wake
                    .wait_timeout(guard, Duration::from_millis(500))
                    .map_or_else(|e| e.into_inner().0, |(g, _)| g);
            }
        };
        let (request, new_series) = build(&snapshot, &sent);
        let samples: u64 = request
            .timeseries
            .iter()
            .map(|t| t.samples.len() as u64)
            .sum();
        let Some(limit) = time_left(queue) else {
            return;
        };
        let outcome = post(client, url, &super::wire::body(&request), limit);
        let mut guard = lock(queue);
        match outcome {
            Ok(()) | Err(Failure::Rejected(_)) => {
                if let Err(Failure::Rejected(why)) = outcome {
                    guard.stats.samples_rejected += samples;
                    guard.stats.last_error = Some(why);
                } else {
                    guard.stats.requests_sent += 1;
                    guard.stats.samples_sent += samples;
                }
                sent.series.extend(new_series);
                sent.previous_ms = Some(snapshot.at_ms);
                if guard
                    .snapshots
                    .front()
                    .is_some_and(|front| front.seq == snapshot.seq)
                    && let Some(done) = guard.snapshots.pop_front()
                {
                    guard.bytes -= done.text.len();
                }
                backoff = FIRST_BACKOFF;
                if snapshot.last {
                    drop(guard);
                    send_stale(client, url, &sent, snapshot.at_ms + 1, queue);
                    return;
                }
            }
            Err(Failure::Retry(why)) => {
                guard.stats.retries += 1;
                guard.stats.last_error = Some(why);
                let wait = match guard.deadline {
                    Some(deadline) => {
                        backoff.min(deadline.saturating_duration_since(Instant::now()))
                    }
                    None => backoff,
                };
                // On the queue, so that the end (or a drop) wakes it.
                drop(wake.wait_timeout(guard, wait));
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// The stale markers: every series sent, marked gone at `at_ms`.
fn send_stale(
    client: &reqwest::blocking::Client,
    url: &str,
    sent: &Sent,
    at_ms: i64,
    queue: &Mutex<Queue>,
) {
    let request = WriteRequest {
        timeseries: sent
            .series
            .iter()
            .map(|labels| series(labels, vec![sample(crate::metrics::store::stale(), at_ms)]))
            .collect(),
    };
    let samples = request.timeseries.len() as u64;
    let Some(limit) = time_left(queue) else {
        return;
    };
    let outcome = post(client, url, &super::wire::body(&request), limit);
    let mut guard = lock(queue);
    match outcome {
        Ok(()) => {
            guard.stats.requests_sent += 1;
            guard.stats.samples_sent += samples;
        }
        Err(Failure::Rejected(why) | Failure::Retry(why)) => guard.stats.last_error = Some(why),
    }
}

/// The write request of one snapshot, and the series in it not sent before.
fn build(snapshot: &Snapshot, sent: &Sent) -> (WriteRequest, Vec<SeriesLabels>) {
    let mut reader = Reader::default();
    // Our own encoder wrote it; a parse error would be a bug, and costs
    // this snapshot's samples only.
    let _ = exposition::parse(&snapshot.text, Format::OpenMetrics, &mut reader);
    let mut new_series = Vec::new();
    let mut timeseries = Vec::with_capacity(reader.samples.len());
    for (labels, value, cumulative) in reader.samples {
        let mut samples = Vec::with_capacity(2);
        if !sent.series.contains(&labels) {
            if let (true, Some(before)) = (cumulative, sent.previous_ms) {
                samples.push(sample(0.0, before));
            }
            new_series.push(labels.clone());
        }
        samples.push(sample(value, snapshot.at_ms));
        timeseries.push(series(&labels, samples));
    }
    (WriteRequest { timeseries }, new_series)
}

fn series(labels: &[(String, String)], samples: Vec<Sample>) -> TimeSeries {
    TimeSeries {
        labels: labels
            .iter()
            .map(|(name, value)| Label {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
        samples,
    }
}

fn sample(value: f64, timestamp: i64) -> Sample {
    Sample { value, timestamp }
}

/// The samples of a snapshot: labels sorted by name (`__name__` among
/// them), the value, and whether the series counts up from zero.
#[derive(Default)]
struct Reader {
    types: HashMap<String, MetricType>,
    samples: Vec<(SeriesLabels, f64, bool)>,
}

impl Visitor for Reader {
    fn metadata(&mut self, metadata: &Metadata<'_>) {
        if let Metadata::Type { family, kind } = metadata {
            self.types.insert((*family).to_string(), *kind);
        }
    }

    fn sample(&mut self, line: &SampleLine<'_>) {
        let mut labels: Vec<(String, String)> = line
            .labels
            .iter()
            .map(|l| (l.name.to_string(), l.value.to_string()))
            .collect();
        labels.push(("__name__".into(), line.name.to_string()));
        labels.sort();
        let family = ["_total", "_bucket", "_count", "_sum", "_created"]
            .iter()
            .find_map(|suffix| line.name.strip_suffix(suffix))
            .unwrap_or(line.name);
        let cumulative = matches!(
            self.types.get(family),
            Some(MetricType::Counter | MetricType::Histogram)
        );
        self.samples.push((labels, line.value, cumulative));
    }
}

enum Failure {
    /// The network failed, or the receiver answered 5xx or 429: again later.
    Retry(String),
    /// Any other 4xx: the receiver will never take these samples.
    Rejected(String),
}

/// How long a send may take: [`SEND_TIMEOUT`], or what is left before the
/// end's deadline; None once it has passed.
fn time_left(queue: &Mutex<Queue>) -> Option<Duration> {
    match lock(queue).deadline {
        None => Some(SEND_TIMEOUT),
        Some(deadline) => {
            let left = deadline.saturating_duration_since(Instant::now());
            (!left.is_zero()).then(|| left.min(SEND_TIMEOUT))
        }
    }
}

fn post(
    client: &reqwest::blocking::Client,
    url: &str,
    body: &[u8],
    limit: Duration,
) -> Result<(), Failure> {
    let response = client
        .post(url)
        .timeout(limit)
        .header("Content-Encoding", "snappy")
        .header("Content-Type", "application/x-protobuf")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(body.to_vec())
        .send()
        .map_err(|e| Failure::Retry(crate::redact::text(&format!("{e}"))))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let text: String = response
        .text()
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect();
    let why = match text.trim() {
        "" => status.to_string(),
        said => format!("{status}: {said}"),
    };
    if status.is_server_error() || status.as_u16() == 429 {
        Err(Failure::Retry(why))
    } else {
        Err(Failure::Rejected(why))
    }
}

#[cfg(test)]
mod tests;
