//! CSV: the same numbers as the JSON report, one per row as
//! `section,key,value`, so a spreadsheet or `grep` finds any of them without
//! knowing a column layout. The per-second timeline follows as section
//! `timeline` with key `<second>.<field>`.

use std::io::Write;

use super::escape::csv_row;
use super::{Distribution, Format, Summary};

/// Long-format CSV.
pub(crate) struct Csv;

impl Format for Csv {
    fn write(&self, summary: &Summary, out: &mut dyn Write) -> anyhow::Result<()> {
        let mut csv = ::csv::Writer::from_writer(out);
        csv.write_record(["section", "key", "value"])?;
        let mut row = |section: &str, key: &str, value: String| {
            csv.write_record(csv_row([section, key, value.as_str()]))
        };
        row("summary", "url", summary.target.url.clone())?;
        row("summary", "method", summary.target.method.clone())?;
        row("summary", "model", summary.model.to_string())?;
        row("summary", "connections", summary.connections.to_string())?;
        row(
            "summary",
            "started_at_unix_ms",
            summary.started_at_unix_ms.to_string(),
        )?;
        row("summary", "interrupted", summary.interrupted.to_string())?;
        row("summary", "duration_s", summary.duration_s.to_string())?;
        row("summary", "requests", summary.requests.to_string())?;
        row("summary", "responses", summary.responses.to_string())?;
        row("summary", "successes", summary.successes.to_string())?;
        row("summary", "success_ratio", optional(summary.success_ratio))?;
        row(
            "summary",
            "requests_per_second",
            summary.requests_per_second.to_string(),
        )?;
        row(
            "summary",
            "bytes_received",
            summary.bytes_received.to_string(),
        )?;
        for (section, distribution) in [
            ("latency_ms", &summary.latency_ms),
            ("service_time_ms", &summary.service_time_ms),
        ] {
            if let Some(distribution) = distribution {
                row(section, "count", distribution.count.to_string())?;
                for (key, value) in Distribution::fields(distribution) {
                    row(section, key, value.to_string())?;
                }
            }
        }
        for bar in &summary.histogram {
            row(
                "histogram",
                &bar.up_to_ms.to_string(),
                bar.count.to_string(),
            )?;
        }
        for (status, count) in &summary.status_codes {
            row("status_codes", status, count.to_string())?;
        }
        for (kind, count) in &summary.errors {
            row("errors", kind, count.to_string())?;
        }
        if let Some(open) = &summary.open_model {
            row("open_model", "target_rate", open.target_rate.to_string())?;
            row(
                "open_model",
                "achieved_rate",
                open.achieved_rate.to_string(),
            )?;
            row("open_model", "due", open.due.to_string())?;
            row("open_model", "started", open.started.to_string())?;
            row("open_model", "late_starts", open.late_starts.to_string())?;
            row(
                "open_model",
                "late_threshold_ms",
                open.late_threshold_ms.to_string(),
            )?;
            row("open_model", "dropped", open.dropped.to_string())?;
        }
        for tick in &summary.timeline {
            let key = |field: &str| format!("{}.{field}", tick.second);
            row("timeline", &key("requests"), tick.requests.to_string())?;
            row("timeline", &key("ok"), tick.ok.to_string())?;
            row("timeline", &key("errors"), tick.errors.to_string())?;
            row("timeline", &key("p50_ms"), optional(tick.p50_ms))?;
            row("timeline", &key("p95_ms"), optional(tick.p95_ms))?;
            row("timeline", &key("p99_ms"), optional(tick.p99_ms))?;
        }
        for check in &summary.checks {
            // `check,<check>,<outcome> <measured>`: one cell a verdict.
            let verdict = format!("{} {}", check.outcome.label(), check.measured_text);
            row("check", &check.check, verdict)?;
        }
        csv.flush()?;
        Ok(())
    }
}

fn optional(value: Option<f64>) -> String {
    value.map_or_else(String::new, |v| v.to_string())
}
