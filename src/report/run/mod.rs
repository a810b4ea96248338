//! The results directory of a run: its write model ([`RunReport`], the
//! `summary.json` layout), its read model ([`saved`]), the histogram codec
//! both share, the directory's files one type per file behind one trait,
//! and the terminal report. Adding a file means a new type here and a line
//! in [`ARTIFACTS`], written by the one [`write_all`].

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
mod promql;
mod read;
pub mod saved;
mod scrapes;
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

/// What the files of a results directory are written from. A part left
/// `None` writes no file: the load's results are written before the server
/// side is judged, what the judge produced as it goes, and everything again
/// at the end.
#[derive(Default, Clone, Copy)]
pub struct Contents<'a> {
    /// The run's report: `summary.json`, `timeline.csv`, `checks.csv`,
    /// `junit.xml`, `summary.md`.
    pub report: Option<&'a RunReport>,
    /// What was scraped: `metrics.jsonl`.
    pub scraped: Option<&'a crate::metrics::store::Store>,
    /// Every PromQL check's series: `promql.json` (none when empty).
    pub series: Option<&'a [crate::report::series::CheckSeries]>,
    /// The alert timeline: `alerts.json`.
    pub alerts: Option<alerts::AlertsJson<'a>>,
    /// The proxy faults' windows: `faults.json` (none when empty).
    pub faults: Option<faults::FaultsJson<'a>>,
    /// The SLOs' reports: `slos.json`.
    pub slos: Option<slos::SlosJson<'a>>,
}

impl<'a> Contents<'a> {
    /// Only the report's files.
    pub fn of(report: &'a RunReport) -> Contents<'a> {
        Contents {
            report: Some(report),
            ..Contents::default()
        }
    }

    /// The report, for the files written from it.
    fn report(&self) -> anyhow::Result<&'a RunReport> {
        self.report
            .ok_or_else(|| anyhow::anyhow!("no run report to write"))
    }
}

/// One file of the results directory.
pub trait Artifact {
    /// Its name inside the directory.
    fn file_name(&self) -> &'static str;
    /// Whether `files` holds what this file is written from.
    fn present(&self, files: &Contents) -> bool;
    fn write(&self, files: &Contents, out: &mut dyn Write) -> anyhow::Result<()>;
    /// Whether the file passes through the redactor (scraped data is saved
    /// as the service exposed it).
    fn redacted(&self) -> bool {
        true
    }
}

/// Every file of a results directory but the page (`index.html`, which
/// reads them back) and `compare`'s.
pub const ARTIFACTS: [&dyn Artifact; 10] = [
    &slos::SlosFile,
    &summary_json::SummaryJson,
    &timeline::TimelineCsv,
    &checks::ChecksCsv,
    &junit::Junit,
    &markdown::Markdown,
    &faults::FaultsFile,
    &scrapes::MetricsJsonl,
    &promql::PromqlJson,
    &alerts::AlertsFile,
];

/// Writes every artifact `files` holds into `dir` (which exists). Each file
/// is written beside its place and renamed into it, so a run stopped
/// mid-write leaves the previous version whole, never half a file.
pub fn write_all(dir: &Path, files: &Contents) -> anyhow::Result<()> {
    for artifact in ARTIFACTS {
        if !artifact.present(files) {
            continue;
        }
        let path = dir.join(artifact.file_name());
        let partial = dir.join(format!(".{}.partial", artifact.file_name()));
        let file = std::fs::File::create(&partial)
            .with_context(|| format!("cannot create {}", partial.display()))?;
        let mut out: Box<dyn Write> = if artifact.redacted() {
            // Through the redactor: no field can carry a secret out.
            Box::new(crate::redact::Writer::new(std::io::BufWriter::new(file)))
        } else {
            Box::new(std::io::BufWriter::new(file))
        };
        artifact
            .write(files, &mut out)
            .with_context(|| format!("cannot write {}", path.display()))?;
        out.flush()
            .with_context(|| format!("cannot write {}", path.display()))?;
        drop(out);
        std::fs::rename(&partial, &path)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_call_writes_what_the_contents_hold_redacted_and_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let kept = [serde_json::json!({"name": "https://user:hunter2@example.test/x"})];
        write_all(tmp.path(), &Contents::default()).unwrap();
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
        let files = Contents {
            slos: Some(slos::SlosJson::Kept(&kept)),
            series: Some(&[]),
            ..Contents::default()
        };
        write_all(tmp.path(), &files).unwrap();
        let names: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        // No series: no promql.json; nothing left half-written beside.
        assert_eq!(names, ["slos.json"]);
        let written = std::fs::read_to_string(tmp.path().join("slos.json")).unwrap();
        assert!(!written.contains("hunter2"), "{written}");
        assert!(written.contains("example.test"), "{written}");
    }
}
