//! The page's "Alerts" section: each alert's timeline over the run.

use std::fmt::Write as _;

use super::*;

pub(super) fn alerts_section(
    page: &mut String,
    alerts: &saved::SavedAlerts,
    s: &saved::SavedSummary,
    backdrop: &Backdrop,
) {
    page.push_str("<h2 id=\"alerts\">Alerts</h2>\n");
    if alerts.alerts.is_empty() && alerts.expected.is_empty() {
        let _ = writeln!(
            page,
            "<p>No alert went pending or fired (rules evaluated by {}).</p>",
            escape(&alerts.evaluated_by)
        );
        return;
    }
    let start_ms = s.started_at_unix_ms as f64;
    let end_s = s.duration_s;
    let offset = |ms: i64| ((ms as f64 - start_ms) / 1000.0).clamp(0.0, end_s);
    let mut rows = Vec::new();
    for alert in &alerts.alerts {
        let labels: Vec<String> = alert
            .labels
            .iter()
            .filter(|(k, _)| *k != "alertname")
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .collect();
        let mut row = AlertRow {
            label: format!("{} {{{}}}", alert.name, labels.join(", ")),
            pending: Vec::new(),
            firing: Vec::new(),
            expected: None,
        };
        for e in &alert.episodes {
            let fired = e
                .fired_at
                .or(e.resolved_at)
                .unwrap_or(s.started_at_unix_ms as i64 + (end_s * 1000.0) as i64);
            row.pending.push((offset(e.pending_at), offset(fired)));
            if let Some(fired_at) = e.fired_at {
                let until = e
                    .resolved_at
                    .unwrap_or(s.started_at_unix_ms as i64 + (end_s * 1000.0) as i64);
                row.firing.push((offset(fired_at), offset(until)));
            }
        }
        rows.push(row);
    }
    // Each expectation's window beside the rows of its alert (at the end
    // for an alert that never went pending).
    for e in &alerts.expected {
        let row = AlertRow {
            label: format!("expected ({}): {}", e.scope, e.expectation),
            pending: Vec::new(),
            firing: Vec::new(),
            expected: Some((e.start_s, e.end_s)),
        };
        let after = rows
            .iter()
            .rposition(|r| r.expected.is_none() && r.label.split(' ').next() == Some(&e.alert))
            .map_or(rows.len(), |i| i + 1);
        // After the alert's rows and the expectations already placed there.
        let at = after
            + rows[after..]
                .iter()
                .take_while(|r| {
                    r.expected.is_some() && r.label.contains(&format!(": alert {} ", e.alert))
                })
                .count();
        rows.insert(at, row);
    }
    figure(
        page,
        "alert-timeline",
        "Alert timeline",
        &charts::alert_timeline(&rows, backdrop),
        &format!(
            "Pending (light, outlined) and firing (solid) per alert and label set, evaluated by {}; beside each alert, hatched, the window each expectation wants it in (fires: by the window's end; stays quiet or firing: throughout; resolves: by its end).",
            alerts.evaluated_by
        ),
    );
}
