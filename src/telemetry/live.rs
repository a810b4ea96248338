//! The run's metrics while it runs: the [`Telemetry`], the endpoint that
//! serves it and the remote writer that pushes it, started together from
//! the flags and the scenario's `outputs:`, fed by the run, and ended in
//! order: the last counts in ([`Live::settle`]), the verdicts set and the
//! writer's last snapshot and stale markers sent ([`Live::finish`]), and
//! once the reports are written, served until one more scrape from outside
//! (at most the grace period, [`Live::linger`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::remote::{RemoteWriter, WriteStats};
use super::serve::Server;
use super::{DEFAULT_BUCKETS, Telemetry};
use crate::expect::Verdict;
use crate::record::{PhaseResults, RunResults, TimelineRow};

/// How long the end waits for the remote writer's queue to empty.
const DRAIN: Duration = Duration::from_secs(10);

/// What to start, from the flags (which win) and the scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `--metrics-listen`.
    pub listen: Option<SocketAddr>,
    pub allow_remote: bool,
    /// Histogram bounds, seconds; Prometheus's defaults unless set.
    pub buckets: Vec<f64>,
    /// After the run: serve until one more scrape, at most this long.
    pub grace: Duration,
    /// `--remote-write`.
    pub remote_write: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: None,
            allow_remote: false,
            buckets: DEFAULT_BUCKETS.to_vec(),
            grace: Duration::from_secs(30),
            remote_write: None,
        }
    }
}

impl Settings {
    /// Whether anything is asked for.
    pub fn wanted(&self) -> bool {
        self.listen.is_some() || self.remote_write.is_some()
    }
}

/// The run's live metrics and where they go.
pub struct Live {
    pub telemetry: Arc<Telemetry>,
    server: Option<Server>,
    writer: Option<RemoteWriter>,
    grace: Duration,
}

impl Live {
    /// Starts what `settings` asks for (None: nothing is).
    pub fn start(
        settings: &Settings,
        scenario: &str,
        plan: &crate::plan::LoadPlan,
    ) -> anyhow::Result<Option<Live>> {
        if !settings.wanted() {
            return Ok(None);
        }
        let requests = plan
            .endpoints
            .iter()
            .map(|e| {
                let around = matches!(e.role, crate::plan::Role::Around { .. });
                (e.name.clone(), around)
            })
            .collect();
        let telemetry = Arc::new(Telemetry::new(scenario, requests, &settings.buckets));
        let server = match settings.listen {
            Some(addr) => {
                let serving = telemetry.clone();
                let server = Server::start(
                    addr,
                    settings.allow_remote,
                    Arc::new(move || serving.encode_openmetrics()),
                )?;
                crate::events::say(&format!(
                    "the run's metrics: http://{}/metrics",
                    server.addr()
                ));
                Some(server)
            }
            None => None,
        };
        let writer = settings
            .remote_write
            .as_deref()
            .map(RemoteWriter::start)
            .transpose()?;
        Ok(Some(Live {
            telemetry,
            server,
            writer,
            grace: settings.grace,
        }))
    }

    /// The address the endpoint listens on, if it does.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.server.as_ref().map(Server::addr)
    }

    /// The run starts now: a first snapshot, so that every counter's
    /// first sample has a zero before it.
    pub fn start_run(&self) {
        self.telemetry.start(SystemTime::now());
        self.push();
    }

    /// Finished timeline rows: counted, and a snapshot for the writer.
    pub fn rows(&self, rows: &[TimelineRow]) {
        if rows.is_empty() {
            return;
        }
        self.telemetry.rows(rows);
        self.push();
    }

    /// Phase `name` starts, after `done`; `faults` are in effect.
    pub fn enter_phase(&self, name: &str, done: &[PhaseResults], faults: &[super::Fault]) {
        self.telemetry.phases_done(done);
        self.telemetry.enter_phase(name, std::time::Instant::now());
        self.telemetry.faults(faults);
        self.push();
    }

    /// The faults in effect changed outside a phase's start (a stop
    /// condition took them off).
    pub fn faults(&self, faults: &[super::Fault]) {
        self.telemetry.faults(faults);
    }

    fn push(&self) {
        if let Some(writer) = &self.writer {
            writer.push(self.telemetry.encode_openmetrics(), SystemTime::now());
        }
    }

    /// The load is over: its last rows and phases in, the faults off.
    pub fn settle(&self, results: &RunResults) {
        self.telemetry.rest(&results.timeline);
        self.telemetry.phases_done(&results.phases);
        self.telemetry.faults(&[]);
        self.telemetry.end();
        self.push();
    }

    /// The run is judged: the verdicts set, written and marked stale.
    /// Returns what the remote writer did.
    pub fn finish(&mut self, verdicts: &[Verdict]) -> Option<WriteStats> {
        self.telemetry.verdicts(verdicts);
        let text = self.telemetry.encode_openmetrics();
        let stats = self
            .writer
            .take()
            .map(|writer| writer.finish(text, SystemTime::now(), DRAIN));
        if let Some(stats) = &stats {
            crate::events::say(&describe(stats));
        }
        stats
    }

    /// Last, once the reports are written: served until one more scrape
    /// from outside (at most the grace period), then closed.
    pub fn linger(self) {
        if let Some(server) = &self.server {
            super::linger(server, self.grace);
        }
    }
}

/// One line on what the remote writer did.
pub fn describe(stats: &WriteStats) -> String {
    let mut line = format!(
        "remote write to {}: {} samples in {} requests",
        stats.url, stats.samples_sent, stats.requests_sent
    );
    if stats.retries > 0 {
        line.push_str(&format!(", {} retries", stats.retries));
    }
    if stats.snapshots_dropped > 0 {
        line.push_str(&format!(
            ", {} snapshots dropped while the receiver was behind",
            stats.snapshots_dropped
        ));
    }
    if stats.samples_rejected > 0 {
        line.push_str(&format!(", {} samples refused", stats.samples_rejected));
    }
    if stats.snapshots_unsent > 0 {
        line.push_str(&format!(
            ", {} snapshots never sent",
            stats.snapshots_unsent
        ));
    }
    if let Some(error) = &stats.last_error {
        line.push_str(&format!(" (last error: {error})"));
    }
    line
}
