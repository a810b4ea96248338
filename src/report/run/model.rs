//! The report of a scenario run, computed once from the results and the
//! verdicts; every file of the results directory renders it. Its JSON form
//! (`summary.json`) is documented by `reports/run.schema.json`.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::expect::{Verdict, failures};
use crate::record::{Packed, RunResults, Stats, TimelineRow};
use crate::report::Distribution;

pub(crate) use super::step::StepReport;

/// Identifies the JSON layout; bumped on any incompatible change.
pub(crate) const SCHEMA: &str = "slogate.run/v1";

/// How the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Ending {
    /// Every expectation held.
    Passed,
    /// At least one expectation failed (or had no data and is not optional).
    Failed,
    /// An abort condition stopped it.
    Aborted,
    /// A signal stopped it.
    Interrupted,
}

/// Measurements of a set of requests.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Measured {
    pub requests: u64,
    /// Requests that failed: no response, or a status the request does not
    /// expect (below 400 unless it lists `expect_status`).
    pub failed: u64,
    pub successes_below_400: u64,
    pub transport_errors: u64,
    pub status_codes: std::collections::BTreeMap<String, u64>,
    pub errors: std::collections::BTreeMap<&'static str, u64>,
    pub latency_ms: Option<Distribution>,
    pub service_time_ms: Option<Distribution>,
    /// HdrHistograms (µs, V2 + DEFLATE, base64) so runs can be merged and
    /// re-rendered later.
    pub latency_histogram: String,
    pub service_time_histogram: String,
}

impl Measured {
    pub(crate) fn of(stats: &Stats, failed: u64) -> Measured {
        Measured {
            requests: stats.requests,
            failed,
            successes_below_400: stats.successes(),
            transport_errors: stats.transport_errors(),
            status_codes: stats.statuses_by_code(),
            errors: stats.errors_by_name(),
            latency_ms: Distribution::of(&stats.latency_us),
            service_time_ms: Distribution::of(&stats.service_us),
            latency_histogram: super::histogram::encode(&stats.latency_us),
            service_time_histogram: super::histogram::encode(&stats.service_us),
        }
    }
}

/// One request kind within a phase.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RequestReport {
    pub name: String,
    /// `scheme://host:port` the request goes to (absent when unknown: a
    /// merge of summaries saved before origins were).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub origin: String,
    #[serde(flatten)]
    pub measured: Measured,
}

/// How an open-model phase kept its schedule.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Schedule {
    pub target_rate: f64,
    pub due: u64,
    pub started: u64,
    pub late_starts: u64,
    pub dropped: u64,
}

/// One phase.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PhaseReport {
    pub name: String,
    /// Seconds from the start of the run.
    pub start_s: f64,
    pub duration_s: f64,
    /// The duration the scenario gave the phase, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_s: Option<f64>,
    /// An abort or a signal ended the phase before its own end.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cut_short: bool,
    /// `open` or `closed`.
    pub model: &'static str,
    pub connections: usize,
    /// A closed-model phase's think time (`50ms..150ms`, `exp(mean 100ms)`);
    /// absent without a pause.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub think: Option<String>,
    pub requests_per_second: f64,
    #[serde(flatten)]
    pub measured: Measured,
    pub schedule: Option<Schedule>,
    pub per_request: Vec<RequestReport>,
    /// Each step of a `steps:` schedule, its requests those due in it;
    /// absent for one rate, a ramp and the closed model.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepReport>,
    /// A ramp's or steps' latency against its bounds (`p99 crossed 100 ms
    /// at +37s, at ≈ 420/s`), for the terminal and `summary.md`.
    #[serde(skip)]
    pub knee: Vec<String>,
}

impl Measured {
    /// A latency statistic in ms, formatted with `decimals`; `-` without data.
    pub(crate) fn latency_cell(&self, stat: fn(&Distribution) -> f64, decimals: usize) -> String {
        self.latency_ms
            .as_ref()
            .map_or_else(|| "-".to_string(), |d| format!("{:.decimals$} ms", stat(d)))
    }

    /// Why requests did not simply succeed: the answers by status class and
    /// the transport errors by kind (`2xx 9800, 5xx 200; connect_refused
    /// 275`). `None` when every answer was a 2xx: nothing to explain.
    pub(crate) fn outcomes_text(&self) -> Option<String> {
        let mut classes: std::collections::BTreeMap<char, u64> = Default::default();
        for (code, count) in &self.status_codes {
            let class = code.chars().next().unwrap_or('?');
            *classes.entry(class).or_default() += count;
        }
        let errors: Vec<String> = self
            .errors
            .iter()
            .filter(|(_, count)| **count > 0)
            .map(|(kind, count)| format!("{kind} {count}"))
            .collect();
        if errors.is_empty() && classes.keys().all(|class| *class == '2') {
            return None;
        }
        let statuses: Vec<String> = classes
            .iter()
            .map(|(class, count)| format!("{class}xx {count}"))
            .collect();
        Some(match (statuses.is_empty(), errors.is_empty()) {
            (false, false) => format!("{}; {}", statuses.join(", "), errors.join(", ")),
            (false, true) => statuses.join(", "),
            (true, _) => errors.join(", "),
        })
    }
}

impl PhaseReport {
    /// A latency statistic in ms, formatted with `decimals`; `-` without data.
    pub(crate) fn latency_cell(&self, stat: fn(&Distribution) -> f64, decimals: usize) -> String {
        self.measured.latency_cell(stat, decimals)
    }
}

/// Everything a run reports.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunReport {
    pub schema: &'static str,
    pub slogate_version: &'static str,
    pub scenario: String,
    pub file: String,
    pub started_at_unix_ms: u64,
    pub duration_s: f64,
    pub ending: Ending,
    pub abort_reason: Option<String>,
    pub phases: Vec<PhaseReport>,
    /// Each flow: its iterations, steps and checks over the run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<super::flows::FlowReport>,
    pub run: Measured,
    pub checks: Vec<Verdict>,
    pub timeline: Vec<TimelineRow>,
    pub request_names: Vec<String>,
    /// When each proxy fault was in effect, and what it did.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fault_windows: Vec<FaultWindow>,
    /// `--shard i/N`: this run is one shard's share of the scenario.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::scenario::Shard>,
    /// Written by `slogate merge`: the shards' results directories.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<String>,
    /// Each target's base URL, by name (a started demo's or proxy's too).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub targets: std::collections::BTreeMap<String, String>,
    /// The command line that made these results, as typed (secrets
    /// redacted); the command sets it, [`RunReport::new`] leaves it empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Scraped data that limits kept out (every verdict that read it is
    /// marked `truncated`); absent when nothing was lost.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scrape_losses: Vec<ScrapeLoss>,
    /// The game day's detection report: each alert against each fault
    /// window; absent without faults and alerts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub detection: Vec<crate::report::run::detection::DetectionRow>,
    /// What `--remote-write` sent; absent without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_write: Option<crate::telemetry::remote::WriteStats>,
}

/// A [`Loss`](crate::metrics::loss::Loss) with its times as seconds from
/// the run's start, and one line saying it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ScrapeLoss {
    #[serde(flatten)]
    pub loss: crate::metrics::loss::Loss,
    pub start_s: f64,
    pub end_s: f64,
    pub text: String,
}

impl ScrapeLoss {
    /// Each loss, timed from `started_at_unix_ms`.
    pub fn of(losses: &[crate::metrics::loss::Loss], started_at_unix_ms: u64) -> Vec<ScrapeLoss> {
        let origin = started_at_unix_ms as i64;
        losses
            .iter()
            .map(|loss| ScrapeLoss {
                loss: loss.clone(),
                start_s: (loss.first_ms - origin) as f64 / 1000.0,
                end_s: (loss.last_ms - origin) as f64 / 1000.0,
                text: loss.text(origin),
            })
            .collect()
    }
}

/// A proxy fault's window, seconds from the run's start.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct FaultWindow {
    pub proxy: String,
    pub phase: String,
    pub fault: String,
    pub start_s: f64,
    pub end_s: f64,
    /// Requests (http) or connections (tcp) that matched and drew.
    pub matched: u64,
    pub injected: u64,
}

impl FaultWindow {
    /// The proxy fault windows for the reports, offsets from the run's start.
    pub fn of(windows: &[crate::gameday::ProxyWindow], started: SystemTime) -> Vec<FaultWindow> {
        let offset = |t: SystemTime| t.duration_since(started).map_or(0.0, |d| d.as_secs_f64());
        windows
            .iter()
            .map(|w| FaultWindow {
                proxy: w.proxy.clone(),
                phase: w.phase.clone(),
                fault: w.describe.clone(),
                start_s: offset(w.start),
                end_s: offset(w.end),
                matched: w.matched,
                injected: w.injected,
            })
            .collect()
    }

    /// `23.65%` of matched, or `-`.
    pub fn share(&self) -> String {
        if self.matched == 0 {
            "-".into()
        } else {
            format!("{:.2}%", self.injected as f64 * 100.0 / self.matched as f64)
        }
    }
}

impl RunReport {
    pub(crate) fn new(
        scenario: &crate::scenario::Scenario,
        results: &RunResults,
        checks: Vec<Verdict>,
    ) -> RunReport {
        let requests = scenario.endpoint_requests();
        // `before`/`after` steps are no phase's: the flows report them.
        let around: Vec<&str> = scenario
            .before
            .iter()
            .chain(&scenario.after)
            .flat_map(|f| f.steps.iter().map(|s| s.request.name.as_str()))
            .collect();
        let expect_status: Vec<Option<&[u16]>> = requests
            .iter()
            .map(|(r, _)| r.expect_status.as_deref())
            .collect();
        // Setup and `before`/`after` steps are not in the totals.
        let failed = |per_endpoint: &[Stats]| -> u64 {
            per_endpoint
                .iter()
                .zip(&expect_status)
                .zip(&requests)
                .filter(|(_, (_, counts))| *counts)
                .map(|((stats, statuses), _)| failures(stats, *statuses))
                .sum()
        };
        let ending = if results.aborted.is_some() {
            Ending::Aborted
        } else if results.interrupted {
            Ending::Interrupted
        } else if checks.iter().any(Verdict::fails_run) {
            Ending::Failed
        } else {
            Ending::Passed
        };
        RunReport {
            schema: SCHEMA,
            slogate_version: env!("CARGO_PKG_VERSION"),
            scenario: scenario.name.clone(),
            file: scenario.file.display().to_string(),
            started_at_unix_ms: results
                .started_at
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            duration_s: results.elapsed.as_secs_f64(),
            ending,
            abort_reason: results.aborted.clone(),
            phases: results
                .phases
                .iter()
                .enumerate()
                .map(|(index, phase)| {
                    let total = phase.total.unpack();
                    let per_endpoint: Vec<Stats> =
                        phase.per_endpoint.iter().map(Packed::unpack).collect();
                    PhaseReport {
                        name: phase.name.clone(),
                        start_s: phase.start_offset.as_secs_f64(),
                        duration_s: phase.elapsed.as_secs_f64(),
                        scheduled_s: phase.scheduled.map(|d| d.as_secs_f64()),
                        cut_short: phase.cut_short,
                        model: if phase.open.is_some() {
                            "open"
                        } else {
                            "closed"
                        },
                        connections: phase.connections,
                        think: phase.think.clone(),
                        requests_per_second: phase.achieved_rate(),
                        measured: Measured::of(&total, failed(&per_endpoint)),
                        schedule: phase.open.as_ref().map(|open| Schedule {
                            target_rate: open.target_rate.as_per_second(),
                            due: open.due,
                            started: open.started,
                            late_starts: phase.total.late_starts,
                            dropped: open.dropped,
                        }),
                        // A request the phase's mix leaves out has no row.
                        per_request: results
                            .endpoint_names
                            .iter()
                            .enumerate()
                            .zip(&per_endpoint)
                            .zip(&expect_status)
                            .filter(|(((_, name), _), _)| {
                                scenario.phases.get(index).is_none_or(|p| p.sends(name))
                                    && !around.contains(&name.as_str())
                            })
                            .map(|(((i, name), stats), statuses)| RequestReport {
                                name: name.clone(),
                                origin: results
                                    .endpoint_origins
                                    .get(i)
                                    .cloned()
                                    .unwrap_or_default(),
                                measured: Measured::of(stats, failures(stats, *statuses)),
                            })
                            .collect(),
                        steps: phase
                            .steps
                            .iter()
                            .map(|step| StepReport::of(phase, step))
                            .collect(),
                        knee: scenario.phases.get(index).map_or_else(Vec::new, |p| {
                            let start = phase.start_offset.as_secs_f64();
                            let end = start + phase.elapsed.as_secs_f64();
                            super::knee::lines(p, start, end, &results.timeline)
                        }),
                    }
                })
                .collect(),
            flows: super::flows::reports(scenario, results),
            run: Measured::of(&results.total, failed(&results.per_endpoint)),
            checks,
            timeline: results.timeline.clone(),
            request_names: results.endpoint_names.clone(),
            fault_windows: Vec::new(),
            detection: Vec::new(),
            shard: None,
            merged_from: Vec::new(),
            targets: std::collections::BTreeMap::new(),
            command: Vec::new(),
            scrape_losses: Vec::new(),
            remote_write: None,
        }
    }

    /// Verdicts that fail the run.
    pub(crate) fn failed_checks(&self) -> usize {
        self.checks.iter().filter(|c| c.fails_run()).count()
    }
}
