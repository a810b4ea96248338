//! The terminal report, laid out as hey and oha users expect: summary,
//! latency percentiles, a histogram of bars, status codes, errors.

use std::io::Write;

use super::escape::terminal;
use super::{Distribution, Format, Summary};
use crate::units::format_bytes;

/// Human-readable text.
pub(crate) struct Text;

/// Widest histogram bar, in characters.
const BAR_WIDTH: u64 = 40;

impl Format for Text {
    fn write(&self, s: &Summary, out: &mut dyn Write) -> anyhow::Result<()> {
        writeln!(
            out,
            "Summary:{}",
            if s.interrupted {
                "  (INTERRUPTED: partial results)"
            } else {
                ""
            }
        )?;
        writeln!(
            out,
            "  Target:\t{} {}{}",
            terminal(&s.target.method),
            terminal(&s.target.url),
            if s.target.http2 { " (HTTP/2)" } else { "" }
        )?;
        let model = match s.model {
            "open" => format!("open (up to {} connections)", s.connections),
            _ => format!("closed, {} connections", s.connections),
        };
        writeln!(out, "  Model:\t{model}")?;
        writeln!(out, "  Requests:\t{}", s.requests)?;
        writeln!(out, "  Duration:\t{:.3} s", s.duration_s)?;
        writeln!(out, "  Requests/sec:\t{:.1}", s.requests_per_second)?;
        match s.success_ratio {
            Some(ratio) => writeln!(
                out,
                "  Success ratio:\t{:.2} % ({} of {} {})",
                ratio * 100.0,
                s.successes,
                s.requests,
                match &s.target.expect_status {
                    None => "below HTTP 400".to_string(),
                    Some(codes) => format!(
                        "with status {}",
                        codes
                            .iter()
                            .map(u16::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }
            )?,
            None => writeln!(out, "  Success ratio:\tno requests")?,
        }
        writeln!(out, "  Received:\t{}", format_bytes(s.bytes_received))?;

        if let Some(open) = &s.open_model {
            writeln!(out, "\nSchedule (open model):")?;
            writeln!(out, "  Target rate:\t{:.1}/s", open.target_rate)?;
            writeln!(
                out,
                "  Achieved rate:\t{:.1}/s ({:.2} % of target)",
                open.achieved_rate,
                100.0 * open.achieved_rate / open.target_rate
            )?;
            writeln!(out, "  Due / sent:\t{} / {}", open.due, open.started)?;
            writeln!(
                out,
                "  Late starts:\t{} (sent > {} ms after due: no free connection, or the generator fell behind)",
                open.late_starts, open.late_threshold_ms
            )?;
            writeln!(
                out,
                "  Dropped:\t{} (due, never sent before the end)",
                open.dropped
            )?;
        }

        match (&s.latency_ms, &s.service_time_ms, s.model) {
            (None, _, _) => writeln!(out, "\nLatency:\tno responses")?,
            (Some(latency), _, "closed") => {
                writeln!(out, "\nLatency (ms):")?;
                write_distribution(out, latency)?;
            }
            (Some(latency), service, _) => {
                writeln!(
                    out,
                    "\nLatency (ms, from intended send time: includes waiting; coordinated-omission corrected):"
                )?;
                write_distribution(out, latency)?;
                if let Some(service) = service {
                    writeln!(out, "\nService time (ms, from actual send):")?;
                    write_distribution(out, service)?;
                }
            }
        }

        if !s.histogram.is_empty() {
            writeln!(out, "\nLatency histogram (ms):")?;
            let tallest = s
                .histogram
                .iter()
                .map(|b| b.count)
                .max()
                .unwrap_or(0)
                .max(1);
            for bar in &s.histogram {
                let width = (bar.count * BAR_WIDTH).div_ceil(tallest) as usize;
                writeln!(
                    out,
                    "  {:>10.3} [{:>8}] |{}",
                    bar.up_to_ms,
                    bar.count,
                    "■".repeat(width)
                )?;
            }
        }

        if !s.status_codes.is_empty() {
            writeln!(out, "\nStatus codes:")?;
            for (status, count) in &s.status_codes {
                writeln!(out, "  [{status}]\t{count} responses")?;
            }
        }

        let errors: Vec<_> = s.errors.iter().filter(|(_, count)| **count > 0).collect();
        if !errors.is_empty() {
            writeln!(out, "\nErrors (no response):")?;
            for (kind, count) in errors {
                writeln!(out, "  {kind}\t{count}")?;
            }
        }

        if !s.checks.is_empty() {
            writeln!(out, "\nChecks:")?;
            for check in &s.checks {
                writeln!(
                    out,
                    "  {:<8} {}\tmeasured {}",
                    check.outcome.label(),
                    terminal(&check.check),
                    terminal(&check.measured_text)
                )?;
            }
            let failed = s.failed_checks();
            if failed == 0 {
                writeln!(out, "\nPASSED: {} checks held", s.checks.len())?;
            } else {
                writeln!(out, "\nFAILED: {failed} of {} checks", s.checks.len())?;
            }
        }
        Ok(())
    }
}

fn write_distribution(out: &mut dyn Write, d: &Distribution) -> std::io::Result<()> {
    writeln!(
        out,
        "  min {:.3}  mean {:.3}  stdev {:.3}  max {:.3}",
        d.min, d.mean, d.stdev, d.max
    )?;
    for (label, value) in [
        ("p50", d.p50),
        ("p75", d.p75),
        ("p90", d.p90),
        ("p95", d.p95),
        ("p99", d.p99),
        ("p99.9", d.p99_9),
    ] {
        writeln!(out, "  {label:>6}\t{value:.3}")?;
    }
    Ok(())
}
