//! `alerts.json`: the alert timeline of a run (the rules' own or read back
//! from Prometheus), rule evaluation errors, the demo knobs' changes, what
//! the Alertmanager held, and the window each alert expectation wants its
//! alert in.

use std::io::Write;

use super::{Artifact, Contents};
use crate::expect::{AlertExpectation, When};
use crate::gameday::FaultChange;
use crate::record::RunResults;
use crate::rules::run::RunAlerts;
use crate::scenario::Scenario;

/// What `alerts.json` is written from: the run's alerts, the demo knobs'
/// changes, and the scenario and results for the window each alert
/// expectation wants its alert in.
#[derive(Clone, Copy)]
pub(crate) struct AlertsJson<'a> {
    pub alerts: &'a RunAlerts,
    pub faults: &'a [FaultChange],
    pub scenario: &'a Scenario,
    pub results: &'a RunResults,
    pub detection: &'a [crate::report::run::detection::DetectionRow],
}

/// `alerts.json`.
pub(crate) struct AlertsFile;

impl Artifact for AlertsFile {
    fn file_name(&self) -> &'static str {
        "alerts.json"
    }

    fn server_side(&self) -> bool {
        true
    }

    fn present(&self, files: &Contents) -> bool {
        files.alerts.is_some()
    }

    fn write(&self, files: &Contents, out: &mut dyn Write) -> anyhow::Result<()> {
        let Some(AlertsJson {
            alerts,
            faults,
            scenario,
            results,
            detection,
        }) = files.alerts
        else {
            return Ok(());
        };
        let json = serde_json::json!({
            "evaluated_by": alerts.evaluated_by,
            "expected": expected_windows(scenario, results),
            "alerts": alerts.timeline.alerts,
            "rule_errors": alerts.errors.iter().map(|(e, count)| serde_json::json!({
                "rule": e.rule, "source": e.source, "first_at_ms": e.t, "message": e.message, "count": count,
            })).collect::<Vec<_>>(),
            "faults": faults,
            "alertmanager": alerts.alertmanager,
            "receiver": alerts.received,
            "detection": detection,
            "in_process": alerts.in_process,
        });
        serde_json::to_writer_pretty(out, &json)?;
        Ok(())
    }
}

/// Where an alert expectation wants its alert, seconds from the run's
/// start: for the report's alert timeline.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct ExpectedWindow {
    pub alert: String,
    /// As the verdict names it (`alert X fires within 90s {...}`).
    pub expectation: String,
    pub scope: String,
    /// `fires` (firing by the end), `quiet`, `firing` (throughout) or
    /// `resolves` (resolved by the end).
    pub kind: &'static str,
    pub start_s: f64,
    pub end_s: f64,
}

/// Every alert expectation's window over the phases that ran (those on
/// notifications have none: they are judged at the receiver).
fn expected_windows(scenario: &Scenario, results: &RunResults) -> Vec<ExpectedWindow> {
    let window = |e: &AlertExpectation, scope: String, start: f64, end: f64| {
        let (kind, from, to) = match e.when {
            When::Notified { .. } => return None,
            When::Fires { after, within } => (
                "fires",
                start + after.as_secs_f64(),
                within.map_or(end, |w| start + w.as_secs_f64()),
            ),
            When::StaysInactive => ("quiet", start, end),
            When::StaysFiring => ("firing", start, end),
            When::ResolvesWithin(d) => ("resolves", start, start + d.as_secs_f64()),
        };
        Some(ExpectedWindow {
            alert: e.alert.clone(),
            expectation: e.describe(),
            scope,
            kind,
            start_s: from,
            end_s: to,
        })
    };
    let mut out = Vec::new();
    for (phase, ran) in scenario.phases.iter().zip(&results.phases) {
        let start = ran.start_offset.as_secs_f64();
        let end = start + ran.elapsed.as_secs_f64();
        for e in &phase.alerts {
            out.extend(window(e, format!("phase {}", phase.name), start, end));
        }
    }
    for e in &scenario.alerts {
        out.extend(window(e, "run".into(), 0.0, results.elapsed.as_secs_f64()));
    }
    out
}
