//! `timeline.csv`: per second × request name, the requests that ended, how
//! many succeeded, failures by kind, responses by status class, and latency
//! percentiles. Appended as seconds finish during the run, rewritten whole at
//! the end.

use std::io::Write;
use std::path::Path;

use super::{Artifact, Contents};
use crate::record::{ErrorKind, TimelineRow};
use crate::report::escape::csv_row;

pub(crate) struct TimelineCsv;

impl TimelineCsv {
    fn header() -> Vec<String> {
        let mut header: Vec<String> = ["second", "request", "requests", "ok"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        header.extend(ErrorKind::ALL.iter().map(|k| k.name().to_string()));
        header.extend(
            [
                "status_1xx",
                "status_2xx",
                "status_3xx",
                "status_4xx",
                "status_5xx",
                "p50_ms",
                "p95_ms",
                "p99_ms",
                "service_p50_ms",
                "service_p95_ms",
                "service_p99_ms",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        header
    }

    fn record(row: &TimelineRow, names: &[String]) -> Vec<String> {
        let optional = |v: Option<f64>| v.map_or_else(String::new, |v| v.to_string());
        let mut record = vec![
            row.second.to_string(),
            names.get(row.endpoint).cloned().unwrap_or_default(),
            row.requests.to_string(),
            row.ok.to_string(),
        ];
        record.extend(row.errors.iter().map(u64::to_string));
        record.extend(row.status_classes.iter().map(u64::to_string));
        record.extend([
            optional(row.p50_ms),
            optional(row.p95_ms),
            optional(row.p99_ms),
            optional(row.service_p50_ms),
            optional(row.service_p95_ms),
            optional(row.service_p99_ms),
        ]);
        record
    }

    /// Starts the file of a run in progress (header only).
    pub(crate) fn start(dir: &Path) -> std::io::Result<std::fs::File> {
        let mut file = std::fs::File::create(dir.join("timeline.csv"))?;
        writeln!(file, "{}", Self::header().join(","))?;
        Ok(file)
    }

    /// Appends finished rows to a file begun with [`TimelineCsv::start`].
    pub(crate) fn append(
        file: &mut std::fs::File,
        rows: &[TimelineRow],
        names: &[String],
    ) -> anyhow::Result<()> {
        let mut csv = ::csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(file);
        for row in rows {
            csv.write_record(csv_row(Self::record(row, names)))?;
        }
        csv.flush()?;
        Ok(())
    }
}

impl Artifact for TimelineCsv {
    fn file_name(&self) -> &'static str {
        "timeline.csv"
    }

    fn present(&self, files: &Contents) -> bool {
        files.report.is_some()
    }

    fn write(&self, files: &Contents, out: &mut dyn Write) -> anyhow::Result<()> {
        let report = files.report()?;
        let mut csv = ::csv::Writer::from_writer(out);
        csv.write_record(Self::header())?;
        for row in &report.timeline {
            csv.write_record(csv_row(Self::record(row, &report.request_names)))?;
        }
        csv.flush()?;
        Ok(())
    }
}
