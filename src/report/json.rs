//! JSON: the [`Summary`] as it is, pretty-printed; see `reports/hit.schema.json`.

use std::io::Write;

use super::{Format, Summary};

/// Pretty-printed JSON.
pub(crate) struct Json;

impl Format for Json {
    fn write(&self, summary: &Summary, out: &mut dyn Write) -> anyhow::Result<()> {
        serde_json::to_writer_pretty(&mut *out, summary)?;
        writeln!(out)?;
        Ok(())
    }
}
