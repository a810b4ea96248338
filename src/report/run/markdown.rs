//! `summary.md`: what a CI job summary or a PR comment shows: the ending,
//! per-phase (and per-step) load and latency, the proxy faults' windows, scraped data
//! that limits kept out, and the checks.

use std::io::Write;

use super::{Artifact, Contents, Ending};
use crate::report::escape::{markdown_code as code, markdown_text as text};

pub(crate) struct Markdown;

impl Artifact for Markdown {
    fn file_name(&self) -> &'static str {
        "summary.md"
    }

    fn present(&self, files: &Contents) -> bool {
        files.report.is_some()
    }

    fn write(&self, files: &Contents, out: &mut dyn Write) -> anyhow::Result<()> {
        let r = files.report()?;
        let ending = match r.ending {
            Ending::Passed => "PASSED".to_string(),
            Ending::Failed => format!(
                "FAILED ({} of {} checks)",
                r.failed_checks(),
                r.checks.len()
            ),
            Ending::Aborted => {
                format!("ABORTED: {}", text(r.abort_reason.as_deref().unwrap_or("")))
            }
            Ending::Interrupted => "INTERRUPTED".to_string(),
        };
        writeln!(out, "## slogate: {} — {ending}\n", code(&r.scenario))?;
        writeln!(
            out,
            "{} requests in {:.1} s from {}.\n",
            r.run.requests,
            r.duration_s,
            code(&r.file)
        )?;
        writeln!(
            out,
            "| phase | model | requests | req/s | failed | p50 | p95 | p99 | max | answers |"
        )?;
        writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|---|")?;
        for p in &r.phases {
            let errors = p.measured.failed;
            let ms = |f: fn(&crate::report::Distribution) -> f64| p.latency_cell(f, 1);
            writeln!(
                out,
                "| {} | {} | {} | {:.1} | {} | {} | {} | {} | {} | {} |",
                text(&p.name),
                p.think.as_ref().map_or_else(
                    || p.model.to_string(),
                    |t| format!("{}, think {}", p.model, text(t))
                ),
                p.measured.requests,
                p.requests_per_second,
                errors,
                ms(|d| d.p50),
                ms(|d| d.p95),
                ms(|d| d.p99),
                ms(|d| d.max),
                text(&p.measured.outcomes_text().unwrap_or_else(|| "2xx".into()))
            )?;
            // A step's target rate stands in the model column.
            for (index, step) in p.steps.iter().enumerate() {
                let m = &step.measured;
                let ms = |f: fn(&crate::report::Distribution) -> f64| m.latency_cell(f, 1);
                let mut cut = step.notes().replace("  (", " (");
                if let Some(due) = step.due {
                    cut = format!(" ({due} due){cut}");
                }
                writeln!(
                    out,
                    "| ↳ {}{cut} | {} | {} | {:.1} | {} | {} | {} | {} | {} | {} |",
                    step.label(index),
                    step.target_text(),
                    m.requests,
                    step.requests_per_second,
                    m.failed,
                    ms(|d| d.p50),
                    ms(|d| d.p95),
                    ms(|d| d.p99),
                    ms(|d| d.max),
                    text(&m.outcomes_text().unwrap_or_else(|| "2xx".into()))
                )?;
            }
        }
        let knees: Vec<String> = r
            .phases
            .iter()
            .flat_map(|p| {
                p.knee
                    .iter()
                    .map(move |line| format!("- {}: {}", text(&p.name), text(line)))
            })
            .collect();
        if !knees.is_empty() {
            writeln!(out, "\n{}", knees.join("\n"))?;
        }
        super::flows::write_markdown(&r.flows, out, text)?;
        if !r.fault_windows.is_empty() {
            writeln!(
                out,
                "\n| proxy | phase | in effect (s) | fault | matched | injected | share |"
            )?;
            writeln!(out, "|---|---|---|---|---:|---:|---:|")?;
            for w in &r.fault_windows {
                writeln!(
                    out,
                    "| {} | {} | {:.3} – {:.3} | {} | {} | {} | {} |",
                    text(&w.proxy),
                    text(&w.phase),
                    w.start_s,
                    w.end_s,
                    code(&w.fault),
                    w.matched,
                    w.injected,
                    w.share()
                )?;
            }
        }
        if !r.detection.is_empty() {
            writeln!(
                out,
                "\n**Detection**\n\n| {} |",
                crate::report::run::detection::HEADINGS.join(" | ")
            )?;
            writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|")?;
            for row in &r.detection {
                let cells: Vec<String> = row.cells().iter().map(|c| text(c)).collect();
                writeln!(out, "| {} |", cells.join(" | "))?;
            }
            writeln!(out, "\n{}", text(crate::report::run::detection::LEGEND))?;
        }
        if !r.scrape_losses.is_empty() {
            writeln!(
                out,
                "\n**Scraped data lost** (checks over these times are marked TRUNCATED and cannot pass):\n"
            )?;
            for loss in &r.scrape_losses {
                writeln!(out, "- {}", text(&loss.text))?;
            }
        }
        if !r.checks.is_empty() {
            writeln!(out, "\n| | check | where | measured | wanted |")?;
            writeln!(out, "|---|---|---|---:|---|")?;
            for c in &r.checks {
                writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    c.outcome.label(),
                    code(&c.check),
                    text(&c.scope),
                    text(&c.measured_text),
                    code(&c.wanted)
                )?;
            }
        }
        Ok(())
    }
}
