//! `slos.json`: each SLO's report (budget, burn rates, verdict) as the
//! run or the merge judged it.

use std::path::Path;

use anyhow::Context;

use crate::slo::SloReport;

/// Writes `slos.json` into `out`.
pub fn save(slos: &[SloReport], out: &Path) -> anyhow::Result<()> {
    let path = out.join("slos.json");
    std::fs::write(
        &path,
        crate::redact::text(&serde_json::to_string_pretty(&slos)?),
    )
    .with_context(|| format!("cannot write {}", path.display()))
}
