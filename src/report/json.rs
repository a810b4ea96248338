//! JSON: the [`Summary`] as it is, pretty-printed; see `reports/hit.schema.json`.

use std::io::Write;

use super::{Format, Summary};

/// Pretty-printed JSON.
pub(crate) struct Json;

impl Format for Json {
    fn write(&self, summary: &Summary, out: &mut dyn Write) -> anyhow::Result<()> {
        // An I/O failure stays an `io::Error` (a closed pipe is then seen as
        // one, as for the other formats), not one hidden in serde's error.
        serde_json::to_writer_pretty(&mut *out, summary).map_err(std::io::Error::from)?;
        writeln!(out)?;
        Ok(())
    }
}
