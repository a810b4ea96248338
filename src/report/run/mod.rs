//! The results directory of a run: its write model ([`RunReport`], the
//! `summary.json` layout), its read model ([`saved`]), the histogram codec
//! both share, the directory's files one type per file behind one trait,
//! and the terminal report. Adding a file means a new type here and a line
//! in [`ARTIFACTS`].

pub mod alerts;
mod checks;
pub mod dir;
pub mod faults;
#[cfg(test)]
mod golden;
pub mod histogram;
mod junit;
mod markdown;
mod model;
mod read;
pub mod saved;
pub mod slos;
mod summary_json;
mod text;
mod timeline;

use std::io::Write;
use std::path::Path;

use anyhow::Context;

pub use junit::xml as xml_escape;
pub use model::{Ending, FaultWindow, RunReport, SCHEMA, ScrapeLoss};
pub use saved::Saved;
pub use text::write_terminal;
pub use timeline::TimelineCsv;

/// One file of the results directory.
pub trait Artifact {
    /// Its name inside the directory.
    fn file_name(&self) -> &'static str;
    fn write(&self, report: &RunReport, out: &mut dyn Write) -> anyhow::Result<()>;
}

/// Every file written at the end of a run.
pub const ARTIFACTS: [&dyn Artifact; 5] = [
    &summary_json::SummaryJson,
    &timeline::TimelineCsv,
    &checks::ChecksCsv,
    &junit::Junit,
    &markdown::Markdown,
];

/// Writes every artifact into `dir` (which exists). Each file is written
/// beside its place and renamed into it, so a run stopped mid-write leaves
/// the previous version whole, never half a file.
pub fn write_all(dir: &Path, report: &RunReport) -> anyhow::Result<()> {
    for artifact in ARTIFACTS {
        let path = dir.join(artifact.file_name());
        let partial = dir.join(format!(".{}.partial", artifact.file_name()));
        let file = std::fs::File::create(&partial)
            .with_context(|| format!("cannot create {}", partial.display()))?;
        // Every file through the redactor: no field can carry a secret out.
        let mut out = crate::redact::Writer::new(std::io::BufWriter::new(file));
        artifact
            .write(report, &mut out)
            .with_context(|| format!("cannot write {}", path.display()))?;
        out.flush()
            .with_context(|| format!("cannot write {}", path.display()))?;
        drop(out);
        std::fs::rename(&partial, &path)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
