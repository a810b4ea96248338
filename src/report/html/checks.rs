//! The page's "Checks" section (every verdict) and "Scraped data lost"
//! (what scrape limits kept out of the checks).

use std::fmt::Write as _;

use super::*;

pub(super) fn checks_section(page: &mut String, s: &saved::SavedSummary, promql: &[CheckSeries]) {
    page.push_str("<h2 id=\"checks\">Checks</h2>\n");
    if s.checks.is_empty() {
        page.push_str("<p class=\"note\">No expectations.</p>\n");
        return;
    }
    page.push_str(
        "<table><thead><tr><th>verdict</th><th>check</th><th>where</th><th>measured</th><th>wanted</th><th>source</th></tr></thead><tbody>\n",
    );
    // Failing checks first, then the rest in the scenario's order.
    let mut ordered: Vec<&saved::Check> = s.checks.iter().filter(|c| c.outcome == "FAIL").collect();
    ordered.extend(s.checks.iter().filter(|c| c.outcome != "FAIL"));
    for c in ordered {
        let class = c.outcome.replace(' ', "");
        let check = if c.outcome == "FAIL" {
            let chart = match promql
                .iter()
                .position(|p| p.check == c.check && p.scope == c.scope)
            {
                Some(index) => format!("promql-{index}"),
                None => chart_of(&c.check).to_string(),
            };
            format!("<a href=\"#{chart}\"><code>{}</code></a>", escape(&c.check))
        } else {
            format!("<code>{}</code>", escape(&c.check))
        };
        let _ = writeln!(
            page,
            "<tr class=\"check\"><td class=\"{}\">{}{}</td><td>{check}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"source\"><code>{}</code></td></tr>",
            escape(&class),
            outcome_mark(&c.outcome),
            if c.truncated {
                " <a href=\"#losses\">TRUNCATED</a>"
            } else {
                ""
            },
            escape(&c.scope),
            escape(&c.measured_text),
            escape(&c.wanted),
            // A place to break after each `/` of a long path.
            escape(&c.source).replace('/', "/<wbr>")
        );
    }
    page.push_str("</tbody></table>\n");
}

/// Scraped data that limits kept out, above the checks it marks.
pub(super) fn losses_section(page: &mut String, s: &saved::SavedSummary) {
    if s.scrape_losses.is_empty() {
        return;
    }
    page.push_str("<h2 id=\"losses\">Scraped data lost</h2><p class=\"fail\">Checks that read these times are marked TRUNCATED and cannot pass.</p><ul>\n");
    for loss in &s.scrape_losses {
        let _ = writeln!(
            page,
            "<li>{}</li>",
            escape(&crate::redact::text(&loss.text))
        );
    }
    page.push_str("</ul>\n");
}
