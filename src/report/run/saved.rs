//! The read model of a results directory: the files a run left in it
//! (`summary.json`, and when present `alerts.json`, `slos.json`,
//! `promql.json`), read the one way `report`, `compare` and `merge` read
//! them, so a report can be rendered again later from the same data
//! (`slogate report DIR`). [`RunResults::from_saved`](crate::record::RunResults::from_saved)
//! turns a summary back into measurements.

use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

/// As `summary.json` holds it (the report model's own type).
pub(crate) use crate::report::run::FaultWindow;

/// The parts of `summary.json` its readers use.
#[derive(Debug, Deserialize)]
pub struct SavedSummary {
    /// [`super::SCHEMA`] when this slogate wrote it.
    #[serde(default)]
    pub schema: String,
    pub slogate_version: String,
    pub scenario: String,
    pub file: String,
    pub started_at_unix_ms: u64,
    pub duration_s: f64,
    pub ending: String,
    #[serde(default)]
    pub abort_reason: Option<String>,
    pub phases: Vec<Phase>,
    /// Absent in a run without flows (and before slogate had them).
    #[serde(default)]
    pub flows: Vec<SavedFlow>,
    pub run: SavedMeasured,
    pub checks: Vec<Check>,
    pub timeline: Vec<Row>,
    pub request_names: Vec<String>,
    #[serde(default)]
    pub fault_windows: Vec<FaultWindow>,
    /// Absent before slogate had a detection report.
    #[serde(default)]
    pub(crate) detection: Vec<crate::report::run::detection::DetectionRow>,
    #[serde(default)]
    pub shard: Option<crate::scenario::Shard>,
    #[serde(default)]
    pub merged_from: Vec<String>,
    #[serde(default)]
    pub targets: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub command: Vec<String>,
    #[serde(default)]
    pub scrape_losses: Vec<crate::report::run::ScrapeLoss>,
}

/// A flow as `summary.json` holds it: its iterations and checks (its
/// steps' requests are in the phases' `per_request`).
#[derive(Debug, Deserialize)]
pub struct SavedFlow {
    pub name: String,
    /// `before` or `after`; absent for a flow the phases send.
    #[serde(default)]
    pub run: Option<String>,
    #[serde(default)]
    pub setups: u64,
    #[serde(default)]
    pub setups_failed: u64,
    pub iterations: SavedMeasured,
    #[serde(default)]
    pub steps: Vec<SavedFlowStep>,
    #[serde(default)]
    pub checks: Vec<SavedCheck>,
}

#[derive(Debug, Deserialize)]
pub struct SavedFlowStep {
    /// The step's own name.
    pub name: String,
    #[serde(default)]
    pub setup: bool,
    #[serde(flatten)]
    pub measured: SavedMeasured,
}

#[derive(Debug, Deserialize)]
pub struct SavedCheck {
    /// The step's own name.
    pub step: String,
    pub name: String,
    pub passed: u64,
    pub failed: u64,
}

#[derive(Debug, Deserialize)]
pub struct SavedMeasured {
    pub requests: u64,
    pub failed: u64,
    #[serde(default)]
    pub status_codes: std::collections::BTreeMap<String, u64>,
    #[serde(default)]
    pub errors: std::collections::BTreeMap<String, u64>,
    #[serde(default)]
    pub latency_ms: Option<Distribution>,
    #[serde(default)]
    pub latency_histogram: String,
    #[serde(default)]
    pub service_time_histogram: String,
}

#[derive(Debug, Deserialize)]
pub struct Distribution {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

#[derive(Debug, Deserialize)]
pub struct Phase {
    pub name: String,
    pub start_s: f64,
    pub duration_s: f64,
    #[serde(default)]
    pub scheduled_s: Option<f64>,
    #[serde(default)]
    pub cut_short: bool,
    pub requests_per_second: f64,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub connections: usize,
    /// A closed-model phase's think time (absent before slogate reported it).
    #[serde(default)]
    pub think: Option<String>,
    #[serde(default)]
    pub schedule: Option<Schedule>,
    #[serde(flatten)]
    pub measured: SavedMeasured,
    #[serde(default)]
    pub per_request: Vec<PerRequest>,
    /// A `steps:` phase's steps (absent before slogate reported them).
    #[serde(default)]
    pub steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
pub struct Step {
    pub start_s: f64,
    pub scheduled_s: f64,
    pub target_rate: f64,
    pub target_rate_end: f64,
    pub requests_per_second: f64,
    #[serde(default)]
    pub cut_short: bool,
    /// Absent in summaries written before steps reported their schedule.
    #[serde(default)]
    pub due: Option<u64>,
    #[serde(default)]
    pub dropped: Option<u64>,
    #[serde(default)]
    pub past_cap: bool,
    #[serde(flatten)]
    pub measured: SavedMeasured,
}

#[derive(Debug, Deserialize)]
pub struct Schedule {
    pub target_rate: f64,
    pub due: u64,
    pub started: u64,
    pub late_starts: u64,
    pub dropped: u64,
}

#[derive(Debug, Deserialize)]
pub struct PerRequest {
    pub name: String,
    /// Absent in summaries written before runs had several origins.
    #[serde(default)]
    pub origin: Option<String>,
    #[serde(flatten)]
    pub measured: SavedMeasured,
}

#[derive(Debug, Deserialize)]
pub struct Check {
    pub check: String,
    pub scope: String,
    #[serde(default)]
    pub measured: Option<f64>,
    pub measured_text: String,
    pub wanted: String,
    pub outcome: String,
    #[serde(default)]
    pub source: String,
    /// It read data a limit truncated.
    #[serde(default)]
    pub truncated: bool,
}

#[derive(Debug, Deserialize)]
pub struct Row {
    pub second: u64,
    pub endpoint: usize,
    pub requests: u64,
    pub ok: u64,
    pub status_classes: [u64; 5],
    pub errors: Vec<u64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    #[serde(default)]
    pub service_p50_ms: Option<f64>,
    #[serde(default)]
    pub service_p95_ms: Option<f64>,
    #[serde(default)]
    pub service_p99_ms: Option<f64>,
    #[serde(default)]
    pub under: Vec<u64>,
}

/// `alerts.json`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SavedAlerts {
    #[serde(default)]
    pub evaluated_by: String,
    #[serde(default)]
    pub alerts: Vec<Alert>,
    /// Where the alert expectations want each alert.
    #[serde(default)]
    pub expected: Vec<Expected>,
    /// The demo knobs' changes, as each phase started.
    #[serde(default)]
    pub faults: Vec<KnobChange>,
}

/// A change of a demo target's fault knobs: set as `phase` started (None:
/// after the last phase).
#[derive(Debug, Deserialize)]
pub(crate) struct KnobChange {
    #[serde(default)]
    pub phase: Option<String>,
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub knobs: crate::demo::Faults,
    /// Why the change could not be made.
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Expected {
    pub alert: String,
    pub expectation: String,
    pub scope: String,
    pub start_s: f64,
    pub end_s: f64,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Alert {
    pub name: String,
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub episodes: Vec<Episode>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Episode {
    pub pending_at: i64,
    #[serde(default)]
    pub fired_at: Option<i64>,
    #[serde(default)]
    pub resolved_at: Option<i64>,
}

/// Everything read from a results directory.
pub(crate) struct Saved {
    pub summary: SavedSummary,
    /// `summary.json`'s checks as written, for [`Saved::verdicts`].
    checks: serde_json::Value,
    pub alerts: Option<SavedAlerts>,
    /// `slos.json` as written (its layout belongs to `slo.rs`).
    pub slos: Option<serde_json::Value>,
    /// `promql.json`: every PromQL check's series over the run.
    pub promql: Vec<crate::report::series::CheckSeries>,
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> anyhow::Result<Option<T>> {
    if !path.exists() {
        return Ok(None);
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text)
        .map(Some)
        .with_context(|| format!("{} is not what slogate writes", path.display()))
}

impl Saved {
    pub(crate) fn read(dir: &Path) -> anyhow::Result<Saved> {
        let summary_path = dir.join("summary.json");
        let value: serde_json::Value = read_json(&summary_path)?.with_context(|| {
            format!(
                "{}: no summary.json; is this a results directory of `slogate run`?",
                dir.display()
            )
        })?;
        let summary = SavedSummary::deserialize(&value)
            .with_context(|| format!("{} is not what slogate writes", summary_path.display()))?;
        Ok(Saved {
            summary,
            checks: value["checks"].clone(),
            alerts: read_json(&dir.join("alerts.json"))?,
            slos: read_json(&dir.join("slos.json"))?,
            promql: read_json(&dir.join(crate::report::series::FILE))?.unwrap_or_default(),
        })
    }

    /// The checks as the run judged them.
    pub(crate) fn verdicts(&self) -> anyhow::Result<Vec<crate::expect::Verdict>> {
        Vec::deserialize(&self.checks).context("unreadable checks")
    }

    /// Refuses a summary another layout of `summary.json` wrote.
    pub(crate) fn require_schema(&self, dir: &Path) -> anyhow::Result<()> {
        let schema = &self.summary.schema;
        if schema != super::SCHEMA {
            anyhow::bail!(
                "{}: schema `{schema}`, this slogate reads `{}`",
                dir.join("summary.json").display(),
                super::SCHEMA
            );
        }
        Ok(())
    }
}
