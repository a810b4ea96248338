//! The page's "Server side: PromQL checks" section: each PromQL check's
//! series over the run.

use std::fmt::Write as _;

use super::*;

/// Every PromQL check's series over the run, with its threshold.
pub(super) fn server_section(page: &mut String, promql: &[CheckSeries], backdrop: &Backdrop) {
    if promql.is_empty() {
        return;
    }
    page.push_str("<h2 id=\"server\">Server side: PromQL checks</h2>\n");
    for (index, check) in promql.iter().enumerate() {
        let title = format!("{} ({})", check.check, check.scope);
        if let Some(error) = &check.error {
            let _ = writeln!(
                page,
                "<figure id=\"promql-{index}\" class=\"chart\"><h3>{}</h3><p class=\"note\">no series: {}</p></figure>",
                escape(&title),
                escape(error)
            );
            continue;
        }
        let series: Vec<Series> = check
            .series
            .iter()
            .map(|line| Series {
                label: if line.labels.is_empty() || line.labels == "{}" {
                    check.expr.chars().take(60).collect()
                } else {
                    line.labels.clone()
                },
                points: line.points.clone(),
                line: Line::Solid,
            })
            .collect();
        let threshold = format!(
            "threshold {} {}",
            check.compare,
            crate::promql::format_value(check.threshold)
        );
        let more = if check.more_series > 0 {
            format!(
                " {} more series not drawn (those closest to holding).",
                check.more_series
            )
        } else {
            String::new()
        };
        figure(
            page,
            &format!("promql-{index}"),
            &title,
            &charts::against_threshold(&series, backdrop, check.threshold, &threshold),
            &format!(
                "{} evaluated every {} s over the whole run; the dashed line in the text's color is the threshold.{more}",
                check.expr,
                crate::units::format_significant(check.step_s)
            ),
        );
    }
}
