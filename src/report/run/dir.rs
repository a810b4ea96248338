//! The results directory as a whole: the names of every file slogate writes
//! into one, and getting a directory ready for a run without mixing old
//! results with new ones.

use std::path::{Path, PathBuf};

/// The page, rendered from the other files (`report::html`).
pub(crate) const PAGE: &str = "index.html";

/// `compare`'s report, written beside the new run's results.
pub(crate) const COMPARE: [&str; 2] = ["compare.md", "compare.html"];

/// Every file any command writes into a results directory: the
/// [`super::ARTIFACTS`] (`run` and `merge`), the [`PAGE`], and `compare`'s.
pub(crate) fn file_names() -> impl Iterator<Item = &'static str> {
    super::ARTIFACTS
        .iter()
        .map(|artifact| artifact.file_name())
        .chain([PAGE])
        .chain(COMPARE)
}

/// Why a results directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DirError {
    #[error(
        "{} already holds results ({}); pass --force to replace them, or choose another directory",
        .dir.display(),
        .found.join(", ")
    )]
    HoldsResults { dir: PathBuf, found: Vec<String> },
    #[error("{} exists and is not a directory", .0.display())]
    NotADirectory(PathBuf),
    #[error("cannot prepare {}: {source}", .dir.display())]
    Io {
        dir: PathBuf,
        source: std::io::Error,
    },
}

/// Makes `dir` ready to receive a run's results: created if missing. One
/// that holds results already is refused, unless `force`, and then every
/// file of [`file_names`] in it is removed first, so none of the old run's (its
/// `compare.md`, its `alerts.json`) is read as the new run's. Files that are
/// not slogate's are left alone.
pub(crate) fn prepare(dir: &Path, force: bool) -> Result<(), DirError> {
    let io = |source| DirError::Io {
        dir: dir.to_path_buf(),
        source,
    };
    if dir.exists() && !dir.is_dir() {
        return Err(DirError::NotADirectory(dir.to_path_buf()));
    }
    let found: Vec<String> = file_names()
        .filter(|name| dir.join(name).exists())
        .map(|name| name.to_string())
        .collect();
    if !found.is_empty() {
        if !force {
            return Err(DirError::HoldsResults {
                dir: dir.to_path_buf(),
                found,
            });
        }
        for name in &found {
            std::fs::remove_file(dir.join(name)).map_err(io)?;
        }
    }
    std::fs::create_dir_all(dir).map_err(io)
}

/// `base`, or the first of `base-2`, `base-3`, ... that does not exist: two
/// runs started in the same second each get a directory of their own.
pub(crate) fn unused(base: PathBuf) -> PathBuf {
    if !base.exists() {
        return base;
    }
    let name = base
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (2..)
        .map(|n| base.with_file_name(format!("{name}-{n}")))
        .find(|candidate| !candidate.exists())
        .expect("some suffix is free")
}

/// `reports/<scenario>-<UTC timestamp>/` for a scenario named `name` (its
/// name made safe for a path), one not taken yet.
pub(crate) fn default_for(name: &str) -> PathBuf {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stamp = crate::units::format_utc_compact(std::time::SystemTime::now());
    unused(PathBuf::from("reports").join(format!("{safe}-{stamp}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_has_one_name() {
        let names: Vec<&str> = file_names().collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(names.len(), unique.len(), "{names:?}");
        // The page and compare's files are named once, here; the others by
        // their artifact.
        assert_eq!(names.len(), super::super::ARTIFACTS.len() + 3);
    }

    #[test]
    fn results_are_refused_then_replaced_with_force() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        prepare(&dir, false).unwrap();
        // An empty directory is fine.
        prepare(&dir, false).unwrap();
        std::fs::write(dir.join("summary.json"), "{}").unwrap();
        std::fs::write(dir.join("compare.md"), "old").unwrap();
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        let error = prepare(&dir, false).unwrap_err().to_string();
        assert!(
            error.contains("already holds results (summary.json, compare.md)"),
            "{error}"
        );
        assert!(error.contains("--force"), "{error}");
        prepare(&dir, true).unwrap();
        assert!(!dir.join("summary.json").exists());
        assert!(!dir.join("compare.md").exists(), "no stale comparison");
        assert!(dir.join("notes.txt").exists(), "not slogate's: kept");
        let file = tmp.path().join("file");
        std::fs::write(&file, "").unwrap();
        assert!(matches!(
            prepare(&file, true),
            Err(DirError::NotADirectory(_))
        ));
    }

    #[test]
    fn a_taken_default_name_gets_a_suffix() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("demo-20261201T000000Z");
        assert_eq!(unused(base.clone()), base);
        std::fs::create_dir(&base).unwrap();
        std::fs::create_dir(tmp.path().join("demo-20261201T000000Z-2")).unwrap();
        assert_eq!(unused(base), tmp.path().join("demo-20261201T000000Z-3"));
    }
}
