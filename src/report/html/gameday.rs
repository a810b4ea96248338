//! The page's "Game day" section, first when the run was one: the
//! hypothesis (the steady state before and after the faults), the faults
//! and what detected them (the detection report), the paging checks, and
//! the verdict.

use std::fmt::Write as _;

use super::*;

/// Whether the run has a game day to show.
pub(super) fn is_game_day(s: &saved::SavedSummary) -> bool {
    !s.detection.is_empty() || s.checks.iter().any(|c| c.scope.starts_with("steady state"))
}

pub(super) fn gameday_section(page: &mut String, s: &saved::SavedSummary) {
    if !is_game_day(s) {
        return;
    }
    page.push_str("<h2 id=\"gameday\">Game day</h2>\n");
    let row = |page: &mut String, c: &saved::Check| {
        let _ = writeln!(
            page,
            "<tr><td class=\"{}\">{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            escape(&c.outcome.replace(' ', "")),
            outcome_mark(&c.outcome),
            escape(&c.check),
            escape(&c.scope),
            escape(&c.measured_text)
        );
    };
    let hypothesis: Vec<&saved::Check> = s
        .checks
        .iter()
        .filter(|c| c.scope.starts_with("steady state"))
        .collect();
    if !hypothesis.is_empty() {
        page.push_str("<h3>Hypothesis: the steady state</h3><table><thead><tr><th>verdict</th><th>check</th><th>where</th><th>measured</th></tr></thead><tbody>\n");
        for c in hypothesis {
            row(page, c);
        }
        page.push_str("</tbody></table>\n");
    }
    if !s.detection.is_empty() {
        page.push_str("<h3>Faults and detection</h3><table><thead><tr><th>in effect (s)</th>");
        for heading in crate::report::run::detection::HEADINGS {
            let _ = write!(page, "<th>{}</th>", escape(heading));
        }
        page.push_str("</tr></thead><tbody>\n");
        for d in &s.detection {
            let cells = d.cells();
            let _ = write!(
                page,
                "<tr><td class=\"num\">{:.1} – {:.1}</td><td><code>{}</code></td><td>{}</td>",
                d.fault_start_s,
                d.fault_end_s,
                escape(&cells[0]),
                escape(&cells[1])
            );
            for cell in &cells[2..] {
                let _ = write!(page, "<td class=\"num\">{}</td>", escape(cell));
            }
            page.push_str("</tr>\n");
        }
        let _ = writeln!(
            page,
            "</tbody></table><p class=\"note\">{}; at best: {}</p>",
            escape(crate::report::run::detection::LEGEND),
            s.detection
                .iter()
                .filter_map(|d| Some(format!("{}: {}", d.alert, d.best.as_deref()?)))
                .map(|t| escape(&t))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    let paging: Vec<&saved::Check> = s
        .checks
        .iter()
        .filter(|c| {
            c.check.contains(" notified ")
                || c.check.contains("reaches Alertmanager")
                || c.check == "no other notifications"
        })
        .collect();
    if !paging.is_empty() {
        page.push_str("<h3>Routing: who was paged</h3><table><thead><tr><th>verdict</th><th>check</th><th>where</th><th>measured</th></tr></thead><tbody>\n");
        for c in paging {
            row(page, c);
        }
        page.push_str("</tbody></table>\n");
    }
    let _ = writeln!(
        page,
        "<p>Verdict: <span class=\"verdict {}\">{}</span></p>",
        escape(&s.ending),
        escape(&s.ending.to_uppercase())
    );
}
