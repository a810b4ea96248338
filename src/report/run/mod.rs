//! The results directory of a run: its write model ([`RunReport`], the
//! `summary.json` layout), its read model ([`saved`]), the histogram codec
//! both share, the directory's files one type per file behind one trait,
//! and the terminal report. Adding a file means a new type here and a line
//! in [`ARTIFACTS`], written by the one [`write_all`].

pub(crate) mod alerts;
mod checks;
pub(crate) mod detection;
pub(crate) mod dir;
pub(crate) mod faults;
pub(crate) mod flows;
#[cfg(test)]
mod golden;
pub(crate) mod histogram;
mod junit;
mod knee;
mod markdown;
mod model;
mod promql;
mod read;
pub(crate) mod saved;
mod scrapes;
pub(crate) mod shards;
pub(crate) mod slos;
pub(crate) mod step;
mod summary_json;
mod text;
mod timeline;

use std::io::Write;
use std::path::Path;

use anyhow::Context;

pub(crate) use model::{Ending, FaultWindow, RunReport, SCHEMA, ScrapeLoss};
pub(crate) use text::write_terminal;
pub(crate) use timeline::TimelineCsv;

/// What the files of a results directory are written from. A part left
/// `None` writes no file: the load's results are written before the server
/// side is judged, what the judge produced as it goes, and everything again
/// at the end.
#[derive(Default, Clone, Copy)]
pub(crate) struct Contents<'a> {
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
    /// Files taken unchanged from other results directories (`merge`'s
    /// server side); one present here is written instead of its artifact.
    pub kept: Option<&'a Kept>,
}

impl<'a> Contents<'a> {
    /// Only the report's files.
    pub(crate) fn of(report: &'a RunReport) -> Contents<'a> {
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
pub(crate) trait Artifact {
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
    /// Whether the file is about the service rather than the load: every
    /// shard of a run watched the same service, so `merge` keeps the first
    /// shard's (see [`Kept::first_of`]).
    fn server_side(&self) -> bool {
        false
    }
}

/// Server-side files of other results directories, to be written
/// unchanged into another (a merged run's); streamed, not held, since a
/// long run's `metrics.jsonl` is large.
#[derive(Debug, Default)]
pub(crate) struct Kept {
    files: Vec<(&'static str, std::path::PathBuf)>,
}

impl Kept {
    /// Each [`Artifact::server_side`] file from the first of `dirs` that
    /// has it.
    pub(crate) fn first_of<P: AsRef<Path>>(dirs: &[P]) -> Kept {
        let files = ARTIFACTS
            .iter()
            .filter(|a| a.server_side())
            .filter_map(|artifact| {
                let name = artifact.file_name();
                dirs.iter()
                    .map(|dir| dir.as_ref().join(name))
                    .find(|path| path.is_file())
                    .map(|path| (name, path))
            })
            .collect();
        Kept { files }
    }

    /// The names kept, in [`ARTIFACTS`] order.
    #[cfg(test)]
    fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.files.iter().map(|(name, _)| *name)
    }

    fn get(&self, name: &str) -> Option<&Path> {
        self.files
            .iter()
            .find(|(kept, _)| *kept == name)
            .map(|(_, path)| path.as_path())
    }
}

/// Every file of a results directory but the page (`index.html`, which
/// reads them back) and `compare`'s.
pub(crate) const ARTIFACTS: [&dyn Artifact; 11] = [
    &slos::SlosFile,
    &summary_json::SummaryJson,
    &timeline::TimelineCsv,
    &checks::ChecksCsv,
    &flows::FlowsCsv,
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
pub(crate) fn write_all(dir: &Path, files: &Contents) -> anyhow::Result<()> {
    for artifact in ARTIFACTS {
        let kept = files.kept.and_then(|k| k.get(artifact.file_name()));
        if kept.is_none() && !artifact.present(files) {
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
        match kept {
            Some(from) => std::fs::File::open(from)
                .and_then(|mut file| std::io::copy(&mut file, &mut out))
                .map(drop)
                .with_context(|| format!("cannot copy {}", from.display())),
            None => artifact.write(files, &mut out),
        }
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

    #[test]
    fn kept_files_come_from_the_first_directory_that_has_each() {
        let tmp = tempfile::tempdir().unwrap();
        let [a, b, out] = ["a", "b", "out"].map(|d| tmp.path().join(d));
        for dir in [&a, &b, &out] {
            std::fs::create_dir(dir).unwrap();
        }
        // Scraped data is kept as the service exposed it, not redacted.
        let scraped = "{\"url\":\"http://u:hunter2@127.0.0.1/\"}\n";
        std::fs::write(b.join(crate::metrics::saved::FILE), scraped).unwrap();
        std::fs::write(a.join("alerts.json"), "{\"from\":\"a\"}").unwrap();
        std::fs::write(b.join("alerts.json"), "{\"from\":\"b\"}").unwrap();
        // Not a server-side file: never kept.
        std::fs::write(a.join("summary.json"), "{}").unwrap();
        let kept = Kept::first_of(&[&a, &b]);
        assert_eq!(
            kept.names().collect::<Vec<_>>(),
            [crate::metrics::saved::FILE, "alerts.json"]
        );
        let files = Contents {
            kept: Some(&kept),
            ..Contents::default()
        };
        write_all(&out, &files).unwrap();
        let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap();
        assert_eq!(read("alerts.json"), "{\"from\":\"a\"}");
        assert_eq!(read(crate::metrics::saved::FILE), scraped);
        assert!(!out.join("summary.json").exists());
    }
}
