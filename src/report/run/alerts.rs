//! `alerts.json`: the alert timeline of a run (the rules' own or read back
//! from Prometheus), rule evaluation errors, the demo knobs' changes, what
//! the Alertmanager held, and the window each alert expectation wants its
//! alert in.

use std::path::Path;

use anyhow::Context;

use crate::expect::alert::expected_windows;
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
