//! `checks.csv`: one row per expectation: check, scope, measured, wanted,
//! outcome, optional, source.

use std::io::Write;

use super::{Artifact, Contents};
use crate::report::escape::csv_row;

pub(crate) struct ChecksCsv;

impl Artifact for ChecksCsv {
    fn file_name(&self) -> &'static str {
        "checks.csv"
    }

    fn present(&self, files: &Contents) -> bool {
        files.report.is_some()
    }

    fn write(&self, files: &Contents, out: &mut dyn Write) -> anyhow::Result<()> {
        let report = files.report()?;
        let mut csv = ::csv::Writer::from_writer(out);
        csv.write_record([
            "check",
            "scope",
            "measured",
            "measured_value",
            "wanted",
            "outcome",
            "optional",
            "source",
        ])?;
        for v in &report.checks {
            csv.write_record(csv_row([
                v.check.as_str(),
                v.scope.as_str(),
                v.measured_text.as_str(),
                &v.measured.map_or_else(String::new, |m| m.to_string()),
                v.wanted.as_str(),
                v.outcome.label(),
                if v.optional { "true" } else { "false" },
                v.source.as_str(),
            ]))?;
        }
        csv.flush()?;
        Ok(())
    }
}
