//! `slos.json`: each SLO's report (budget, burn rates, verdict) as the
//! run or the merge judged it.

use std::io::Write;

use super::{Artifact, Contents};
use crate::slo::SloReport;

/// What `slos.json` is written from.
#[derive(Clone, Copy)]
pub(crate) enum SlosJson<'a> {
    /// As the run judged them.
    Judged(&'a [SloReport]),
    /// As a merge keeps them: the client SLOs judged again, the others as
    /// a shard saved them.
    Kept(&'a [serde_json::Value]),
}

/// `slos.json`: written when the scenario has SLOs.
pub(crate) struct SlosFile;

impl Artifact for SlosFile {
    fn file_name(&self) -> &'static str {
        "slos.json"
    }

    fn present(&self, files: &Contents) -> bool {
        match files.slos {
            Some(SlosJson::Judged(slos)) => !slos.is_empty(),
            Some(SlosJson::Kept(slos)) => !slos.is_empty(),
            None => false,
        }
    }

    fn write(&self, files: &Contents, out: &mut dyn Write) -> anyhow::Result<()> {
        match files.slos {
            Some(SlosJson::Judged(slos)) => serde_json::to_writer_pretty(out, slos)?,
            Some(SlosJson::Kept(slos)) => serde_json::to_writer_pretty(out, slos)?,
            None => {}
        }
        Ok(())
    }
}
