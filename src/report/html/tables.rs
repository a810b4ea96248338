//! The page's "SLOs" table, its "Phases and requests" table and, for
//! `steps:` phases, its "Steps" table.

use std::fmt::Write as _;

use super::*;

pub(super) fn slos_section(page: &mut String, slos: &serde_json::Value) {
    page.push_str("<h2 id=\"slos\">SLOs</h2>\n<table><thead><tr><th>SLO</th><th>objective</th><th>compliance</th><th>budget consumed</th><th>burn rate</th><th>burn at the end</th><th>page</th></tr></thead><tbody>\n");
    let percent = |v: &serde_json::Value, digits: usize| {
        v.as_f64()
            .map_or("-".to_string(), |f| format!("{:.digits$}%", f * 100.0))
    };
    for slo in slos.as_array().into_iter().flatten() {
        let burns: Vec<String> = slo["burn_at_end"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|pair| Some(format!("{} {:.2}", pair[0].as_str()?, pair[1].as_f64()?)))
            .collect();
        let page_at = match slo["page_at"].as_f64() {
            Some(at) => format!("at +{at:.0}s ({})", slo["page_by"].as_str().unwrap_or("")),
            None => "no".into(),
        };
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(slo["name"].as_str().unwrap_or("")),
            percent(&slo["objective"], 3),
            percent(&slo["compliance"], 3),
            percent(&slo["budget_consumed"], 4),
            slo["burn_rate"]
                .as_f64()
                .map_or("-".into(), |b| format!("{b:.3}")),
            escape(&burns.join(", ")),
            escape(&page_at)
        );
    }
    page.push_str("</tbody></table>\n");
}

/// The p50, p95, p99 and max cells (ms) of a row; `-` without responses.
fn latency_cells(m: &saved::SavedMeasured) -> String {
    match &m.latency_ms {
        Some(d) => format!(
            "<td class=\"num\">{:.2}</td><td class=\"num\">{:.2}</td><td class=\"num\">{:.2}</td><td class=\"num\">{:.2}</td>",
            d.p50, d.p95, d.p99, d.max
        ),
        None => "<td>-</td><td>-</td><td>-</td><td>-</td>".into(),
    }
}

/// Failed over all, as a percentage; `-` without requests.
pub(super) fn error_rate(m: &saved::SavedMeasured) -> String {
    if m.requests == 0 {
        "-".into()
    } else {
        format!("{:.2}%", m.failed as f64 * 100.0 / m.requests as f64)
    }
}

/// The phases and requests, status codes, and the fault windows: the
/// proxies' and `knob_windows`, the demo knobs'.
pub(super) fn tables_section(
    page: &mut String,
    s: &saved::SavedSummary,
    knob_windows: &[saved::FaultWindow],
) {
    page.push_str("<h2 id=\"phases\">Phases and requests</h2>\n<table><thead><tr><th>phase</th><th>request</th><th>count</th><th>req/s</th><th>failed</th><th>error rate</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th></tr></thead><tbody>\n");
    let cells = latency_cells;
    for phase in &s.phases {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td><em>all</em></td><td class=\"num\">{}</td><td class=\"num\">{:.1}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>{}</tr>",
            escape(&phase.name),
            phase.measured.requests,
            phase.requests_per_second,
            phase.measured.failed,
            error_rate(&phase.measured),
            cells(&phase.measured)
        );
        for request in &phase.per_request {
            let rate = request.measured.requests as f64 / phase.duration_s.max(1e-9);
            let _ = writeln!(
                page,
                "<tr><td></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{:.1}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>{}</tr>",
                escape(&request.name),
                request.measured.requests,
                rate,
                request.measured.failed,
                error_rate(&request.measured),
                cells(&request.measured)
            );
        }
    }
    page.push_str("</tbody></table>\n");
    steps_table(page, s, &cells);
    page.push_str("<h3 id=\"statuses\">Status codes and errors</h3><table><thead><tr><th>status or error</th><th>count</th><th>share</th></tr></thead><tbody>\n");
    let total = s.run.requests.max(1) as f64;
    for (code, n) in s.run.status_codes.iter().chain(&s.run.errors) {
        if *n == 0 {
            continue;
        }
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"num\">{n}</td><td class=\"num\">{:.2}%</td></tr>",
            escape(code),
            *n as f64 * 100.0 / total
        );
    }
    page.push_str("</tbody></table>\n");
    if !s.fault_windows.is_empty() || !knob_windows.is_empty() {
        page.push_str("<h3 id=\"faults\">Fault windows</h3><table><thead><tr><th>proxy or demo target</th><th>phase</th><th>in effect (s)</th><th>fault</th><th>matched</th><th>injected</th></tr></thead><tbody>\n");
        for w in &s.fault_windows {
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{:.3} – {:.3}</td><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(&w.proxy),
                escape(&w.phase),
                w.start_s,
                w.end_s,
                escape(&w.fault),
                w.matched,
                w.injected
            );
        }
        // The demo knobs count nothing per window: matched and injected
        // are not known.
        for w in knob_windows {
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{:.3} – {:.3}</td><td><code>{}</code></td><td>-</td><td>-</td></tr>",
                escape(&w.proxy),
                escape(&w.phase),
                w.start_s,
                w.end_s,
                escape(&w.fault),
            );
        }
        page.push_str("</tbody></table>\n");
    }
}

/// One row per step of each `steps:` phase: the requests due in it,
/// measured on their own histogram. Nothing without such a phase.
fn steps_table(
    page: &mut String,
    s: &saved::SavedSummary,
    cells: &dyn Fn(&saved::SavedMeasured) -> String,
) {
    if s.phases.iter().all(|p| p.steps.is_empty()) {
        return;
    }
    page.push_str("<h3 id=\"steps\">Steps</h3><p class=\"note\">Each request counts in the step it was due in, whenever it ended.</p><table><thead><tr><th>phase</th><th>step</th><th>from (s)</th><th>target</th><th>due</th><th>count</th><th>req/s</th><th>dropped</th><th>failed</th><th>error rate</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th></tr></thead><tbody>\n");
    for phase in &s.phases {
        for (index, step) in phase.steps.iter().enumerate() {
            // The dropped count has its own column: the notes without it.
            let cut =
                crate::report::run::step::notes(step.cut_short, step.due, None, step.past_cap)
                    .replace("  (", " (");
            let count = |n: Option<u64>| n.map_or_else(|| "-".to_string(), |n| n.to_string());
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{}{cut}</td><td class=\"num\">{:.1}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.1}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>{}</tr>",
                if index == 0 {
                    escape(&phase.name)
                } else {
                    String::new()
                },
                escape(&crate::report::run::step::label(index, step.scheduled_s)),
                step.start_s,
                escape(&crate::report::run::step::target(
                    step.target_rate,
                    step.target_rate_end
                )),
                count(step.due),
                step.measured.requests,
                step.requests_per_second,
                count(step.dropped),
                step.measured.failed,
                error_rate(&step.measured),
                cells(&step.measured)
            );
        }
    }
    page.push_str("</tbody></table>\n");
}

/// Each flow: its iterations and steps (setup marked), then its checks
/// with their passes and failures.
pub(super) fn flows_section(page: &mut String, s: &saved::SavedSummary) {
    if s.flows.is_empty() {
        return;
    }
    page.push_str("<h2 id=\"flows\">Flows</h2>\n");
    let cells = latency_cells;
    for flow in &s.flows {
        let _ = writeln!(
            page,
            "<h3>{}</h3><table><thead><tr><th>step</th><th>count</th><th>failed</th><th>error rate</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th></tr></thead><tbody>\n<tr><td><em>iterations</em></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>{}</tr>",
            escape(&flow.name),
            flow.iterations.requests,
            flow.iterations.failed,
            error_rate(&flow.iterations),
            cells(&flow.iterations)
        );
        for step in &flow.steps {
            let _ = writeln!(
                page,
                "<tr><td>{}{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>{}</tr>",
                escape(&step.name),
                if step.setup { " <em>(setup)</em>" } else { "" },
                step.measured.requests,
                step.measured.failed,
                error_rate(&step.measured),
                cells(&step.measured)
            );
        }
        page.push_str("</tbody></table>\n");
        if flow.checks.is_empty() {
            continue;
        }
        page.push_str("<table><thead><tr><th></th><th>check</th><th>step</th><th>passed</th><th>failed</th><th>passed share</th></tr></thead><tbody>\n");
        for check in &flow.checks {
            let share = crate::report::run::flows::check_share(check.passed, check.failed);
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{share}</td></tr>",
                crate::report::run::flows::check_mark(check.passed, check.failed),
                escape(&check.name),
                escape(&check.step),
                check.passed,
                check.failed
            );
        }
        page.push_str("</tbody></table>\n");
    }
}
