//! `summary.json`: the whole report; see `reports/run.schema.json`.

use std::io::Write;

use super::{Artifact, Contents};

pub(crate) struct SummaryJson;

impl Artifact for SummaryJson {
    fn file_name(&self) -> &'static str {
        "summary.json"
    }

    fn present(&self, files: &Contents) -> bool {
        files.report.is_some()
    }

    fn write(&self, files: &Contents, out: &mut dyn Write) -> anyhow::Result<()> {
        let report = files.report()?;
        serde_json::to_writer_pretty(&mut *out, report)?;
        writeln!(out)?;
        Ok(())
    }
}
