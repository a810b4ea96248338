//! The terminal report of a run: per phase (and per step of a `steps:`
//! phase) the load achieved, latency, why requests failed and how the
//! schedule was kept, then the checks table and the ending.

use std::io::Write;

use super::{Ending, RunReport};
use crate::report::escape::terminal as t;

/// The widest a column grows for data; longer text overflows it. A format
/// width above 65,535 panics, and names and scraped labels can be longer.
const MAX_WIDTH: usize = 120;

/// Writes the terminal report.
pub(crate) fn write_terminal(r: &RunReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "Scenario {} ({})", t(&r.scenario), t(&r.file))?;
    writeln!(
        out,
        "\n{:<16} {:>6} {:>9} {:>9} {:>8} {:>10} {:>10} {:>10}",
        "phase", "model", "requests", "req/s", "failed", "p50", "p95", "p99"
    )?;
    for p in &r.phases {
        let errors = p.measured.failed;
        let ms = |f: fn(&crate::report::Distribution) -> f64| p.latency_cell(f, 2);
        writeln!(
            out,
            "{:<16} {:>6} {:>9} {:>9.1} {:>8} {:>10} {:>10} {:>10}",
            t(&p.name),
            p.model,
            p.measured.requests,
            p.requests_per_second,
            errors,
            ms(|d| d.p50),
            ms(|d| d.p95),
            ms(|d| d.p99)
        )?;
        // A step's target rate stands in the model column; its answers
        // end its row, as it has no lines of its own.
        for (index, step) in p.steps.iter().enumerate() {
            let ms = |f: fn(&crate::report::Distribution) -> f64| step.measured.latency_cell(f, 2);
            let answers = step
                .measured
                .outcomes_text()
                .map_or_else(String::new, |a| format!("  answers {}", t(&a)));
            let notes = step.notes();
            let due = step.due.map_or_else(String::new, |d| format!("  due {d}"));
            writeln!(
                out,
                "{:<16} {:>6} {:>9} {:>9.1} {:>8} {:>10} {:>10} {:>10}{due}{notes}{answers}",
                format!("  {}", step.label(index)),
                step.target_text(),
                step.measured.requests,
                step.requests_per_second,
                step.measured.failed,
                ms(|d| d.p50),
                ms(|d| d.p95),
                ms(|d| d.p99)
            )?;
        }
        if let Some(think) = &p.think {
            writeln!(out, "{:<16} think    {}", "", t(think))?;
        }
        for line in &p.knee {
            writeln!(out, "{:<16} {}", "", t(line))?;
        }
        if let Some(outcomes) = p.measured.outcomes_text() {
            writeln!(out, "{:<16} answers  {}", "", t(&outcomes))?;
        }
        // Every open-model phase: a schedule kept is worth seeing too.
        if let Some(s) = &p.schedule {
            writeln!(
                out,
                "{:<16} schedule {:.1}/s: {} due, {} sent late, {} dropped",
                "", s.target_rate, s.due, s.late_starts, s.dropped
            )?;
        }
    }
    super::flows::write_terminal(&r.flows, out, |s| t(s).into_owned())?;
    if !r.fault_windows.is_empty() {
        let fault_width = r
            .fault_windows
            .iter()
            .map(|w| t(&w.fault).chars().count())
            .max()
            .unwrap_or(5)
            .min(MAX_WIDTH);
        writeln!(
            out,
            "\n{:<12} {:<16} {:>21}  {:<fault_width$}  {:>9} {:>9} {:>8}",
            "proxy", "phase", "in effect", "fault", "matched", "injected", "share"
        )?;
        for w in &r.fault_windows {
            writeln!(
                out,
                "{:<12} {:<16} {:>21}  {:<fault_width$}  {:>9} {:>9} {:>8}",
                t(&w.proxy),
                t(&w.phase),
                format!("+{:.3}s → +{:.3}s", w.start_s, w.end_s),
                t(&w.fault),
                w.matched,
                w.injected,
                w.share()
            )?;
        }
    }
    if !r.detection.is_empty() {
        let rows: Vec<[String; 8]> = r.detection.iter().map(|d| d.cells()).collect();
        let widths: Vec<usize> = (0..8)
            .map(|i| {
                rows.iter()
                    .map(|row| t(&row[i]).chars().count())
                    .chain([crate::report::run::detection::HEADINGS[i].len()])
                    .max()
                    .unwrap_or(0)
                    .min(MAX_WIDTH)
            })
            .collect();
        writeln!(out, "\ndetection")?;
        let line = |cells: &[String]| {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{:<w$}", t(c)))
                .collect::<Vec<_>>()
                .join("  ")
        };
        let headings: Vec<String> = crate::report::run::detection::HEADINGS
            .iter()
            .map(|h| h.to_string())
            .collect();
        writeln!(out, "{}", line(&headings).trim_end())?;
        for row in &rows {
            writeln!(out, "{}", line(row).trim_end())?;
        }
        writeln!(out, "({})", crate::report::run::detection::LEGEND)?;
    }
    if !r.scrape_losses.is_empty() {
        writeln!(
            out,
            "\nscraped data lost (checks over these times are marked):"
        )?;
        for loss in &r.scrape_losses {
            writeln!(out, "  {}", loss.text)?;
        }
    }
    if !r.checks.is_empty() {
        // Long checks (PromQL) go on a line of their own, so the table
        // stays narrow; measured comes last, as it can be long.
        const MAX_CHECK: usize = 40;
        let width = r
            .checks
            .iter()
            .map(|c| t(&c.check).chars().count())
            .filter(|&n| n <= MAX_CHECK)
            .max()
            .unwrap_or(5)
            .max(5);
        let scope_width = r
            .checks
            .iter()
            .map(|c| t(&c.scope).chars().count())
            .max()
            .unwrap_or(5)
            .clamp(5, MAX_WIDTH);
        let wanted_width = r
            .checks
            .iter()
            .map(|c| t(&c.wanted).chars().count())
            .max()
            .unwrap_or(6)
            .clamp(6, MAX_WIDTH);
        writeln!(
            out,
            "\n{:<7}  {:<width$}  {:<scope_width$}  {:<wanted_width$}  measured",
            "", "check", "where", "wanted"
        )?;
        for c in &r.checks {
            let label = if c.optional && c.outcome == crate::expect::CheckOutcome::NoData {
                "no data"
            } else {
                c.outcome.label()
            };
            let check = t(&c.check);
            let check = if check.chars().count() > MAX_CHECK {
                writeln!(out, "{label:<7}  {check}")?;
                ""
            } else {
                &check
            };
            let label = if check.is_empty() { "" } else { label };
            writeln!(
                out,
                "{label:<7}  {check:<width$}  {:<scope_width$}  {:<wanted_width$}  {}",
                t(&c.scope),
                t(&c.wanted),
                t(&c.measured_text)
            )?;
        }
    }
    let ending = match r.ending {
        Ending::Passed => format!("PASSED: {} checks held", r.checks.len()),
        Ending::Failed => format!("FAILED: {} of {} checks", r.failed_checks(), r.checks.len()),
        Ending::Aborted => format!("ABORTED: {}", t(r.abort_reason.as_deref().unwrap_or(""))),
        Ending::Interrupted => "INTERRUPTED: partial results".to_string(),
    };
    writeln!(out, "\n{ending}")?;
    Ok(())
}
