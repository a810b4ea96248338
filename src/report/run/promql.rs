//! `promql.json`: every PromQL check's series over the run, for the page's
//! charts (the series themselves are collected in `report::series`).

use std::io::Write;

use super::{Artifact, Contents};

pub(crate) struct PromqlJson;

impl Artifact for PromqlJson {
    fn file_name(&self) -> &'static str {
        crate::report::series::FILE
    }

    fn server_side(&self) -> bool {
        true
    }

    fn present(&self, files: &Contents) -> bool {
        files.series.is_some_and(|s| !s.is_empty())
    }

    fn write(&self, files: &Contents, out: &mut dyn Write) -> anyhow::Result<()> {
        serde_json::to_writer(out, files.series.unwrap_or_default())?;
        Ok(())
    }
}
