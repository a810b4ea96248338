//! `alerts.json`: the alert timeline of a run (the rules' own or read back
//! from Prometheus), rule evaluation errors, the demo knobs' changes, what
//! the Alertmanager held, and the window each alert expectation wants its
//! alert in.

use std::path::Path;

use anyhow::Context;

use crate::expect::{AlertExpectation, When};
use crate::gameday::FaultChange;
use crate::record::RunResults;
use crate::rules::run::RunAlerts;
use crate::scenario::Scenario;

/// Writes `alerts.json` into the results directory, with the window each of
/// the scenario's alert expectations wants its alert in.
pub fn save(
    alerts: &RunAlerts,
    faults: &[FaultChange],
    scenario: &Scenario,
    results: &RunResults,
    out: &Path,
) -> anyhow::Result<()> {
    let path = out.join("alerts.json");
    let json = serde_json::json!({
        "evaluated_by": alerts.evaluated_by,
        "expected": expected_windows(scenario, results),
        "alerts": alerts.timeline.alerts,
        "rule_errors": alerts.errors.iter().map(|(e, count)| serde_json::json!({
            "rule": e.rule, "source": e.source, "first_at_ms": e.t, "message": e.message, "count": count,
        })).collect::<Vec<_>>(),
        "faults": faults,
        "alertmanager": alerts.alertmanager,
    });
    std::fs::write(
        &path,
        crate::redact::text(&serde_json::to_string_pretty(&json)?),
    )
    .with_context(|| format!("cannot write {}", path.display()))
}

/// Where an alert expectation wants its alert, seconds from the run's
/// start: for the report's alert timeline.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExpectedWindow {
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

/// Every alert expectation's window over the phases that ran.
fn expected_windows(scenario: &Scenario, results: &RunResults) -> Vec<ExpectedWindow> {
    let window = |e: &AlertExpectation, scope: String, start: f64, end: f64| {
        let (kind, from, to) = match e.when {
            When::Fires { after, within } => (
                "fires",
                start + after.as_secs_f64(),
                within.map_or(end, |w| start + w.as_secs_f64()),
            ),
            When::StaysInactive => ("quiet", start, end),
            When::StaysFiring => ("firing", start, end),
            When::ResolvesWithin(d) => ("resolves", start, start + d.as_secs_f64()),
        };
        ExpectedWindow {
            alert: e.alert.clone(),
            expectation: e.describe(),
            scope,
            kind,
            start_s: from,
            end_s: to,
        }
    };
    let mut out = Vec::new();
    for (phase, ran) in scenario.phases.iter().zip(&results.phases) {
        let start = ran.start_offset.as_secs_f64();
        let end = start + ran.elapsed.as_secs_f64();
        for e in &phase.alerts {
            out.push(window(e, format!("phase {}", phase.name), start, end));
        }
    }
    for e in &scenario.alerts {
        out.push(window(e, "run".into(), 0.0, results.elapsed.as_secs_f64()));
    }
    out
}
