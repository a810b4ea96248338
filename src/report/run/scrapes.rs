//! `metrics.jsonl`: what was scraped during the run, so it can be queried
//! afterwards (the layout belongs to `metrics::saved`).

use std::io::Write;

use super::{Artifact, Contents};

pub(crate) struct MetricsJsonl;

impl Artifact for MetricsJsonl {
    fn file_name(&self) -> &'static str {
        crate::metrics::saved::FILE
    }

    fn server_side(&self) -> bool {
        true
    }

    fn present(&self, files: &Contents) -> bool {
        files.scraped.is_some()
    }

    fn write(&self, files: &Contents, out: &mut dyn Write) -> anyhow::Result<()> {
        match files.scraped {
            Some(store) => crate::metrics::saved::write(store, out),
            None => Ok(()),
        }
    }

    /// Saved as the service exposed it, as before: the scrapes are data,
    /// not slogate's own text.
    fn redacted(&self) -> bool {
        false
    }
}
