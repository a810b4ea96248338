//! `summary.json`: the whole report; see `reports/run.schema.json`.

use std::io::Write;

use super::{Artifact, RunReport};

pub struct SummaryJson;

impl Artifact for SummaryJson {
    fn file_name(&self) -> &'static str {
        "summary.json"
    }

    fn write(&self, report: &RunReport, out: &mut dyn Write) -> anyhow::Result<()> {
        serde_json::to_writer_pretty(&mut *out, report)?;
        writeln!(out)?;
        Ok(())
    }
}
