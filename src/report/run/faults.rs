//! `faults.json`: each proxy fault's window (ms since the epoch and seconds
//! from the run's start) and what it did, then each window of the demo
//! service's knobs (`demo`: the target).

use std::io::Write;
use std::time::SystemTime;

use super::{Artifact, Contents};
use crate::gameday::ProxyWindow;

/// What `faults.json` is written from: the proxy faults' windows and the
/// run's start, which their offsets count from.
#[derive(Clone, Copy)]
pub(crate) struct FaultsJson<'a> {
    pub windows: &'a [ProxyWindow],
    pub demo: &'a [crate::gameday::FaultChange],
    pub started: SystemTime,
    /// The run's end, where a demo window still open ends.
    pub ended: SystemTime,
}

/// `faults.json`: written when a fault had a window.
pub(crate) struct FaultsFile;

impl Artifact for FaultsFile {
    fn file_name(&self) -> &'static str {
        "faults.json"
    }

    fn server_side(&self) -> bool {
        true
    }

    fn present(&self, files: &Contents) -> bool {
        files
            .faults
            .is_some_and(|f| !f.windows.is_empty() || !f.demo.is_empty())
    }

    fn write(&self, files: &Contents, out: &mut dyn Write) -> anyhow::Result<()> {
        let Some(FaultsJson {
            windows,
            demo,
            started,
            ended,
        }) = files.faults
        else {
            return Ok(());
        };
        let offset = |t: SystemTime| t.duration_since(started).map_or(0.0, |d| d.as_secs_f64());
        let json: Vec<serde_json::Value> = windows
            .iter()
            .map(|w| {
                let mut value = serde_json::to_value(w).unwrap_or_default();
                if let Some(map) = value.as_object_mut() {
                    map.insert(
                        "start_ms".into(),
                        crate::metrics::scrape::system_ms(w.start).into(),
                    );
                    map.insert(
                        "end_ms".into(),
                        crate::metrics::scrape::system_ms(w.end).into(),
                    );
                    map.insert("start_offset_seconds".into(), offset(w.start).into());
                    map.insert("end_offset_seconds".into(), offset(w.end).into());
                }
                value
            })
            .collect();
        let origin = crate::metrics::scrape::system_ms(started);
        let mut json = json;
        let end = crate::metrics::scrape::system_ms(ended);
        for w in crate::gameday::demo_windows(demo, end) {
            let mut value = serde_json::to_value(&w).unwrap_or_default();
            if let Some(map) = value.as_object_mut() {
                map.insert(
                    "start_offset_seconds".into(),
                    ((w.start_ms - origin).max(0) as f64 / 1000.0).into(),
                );
                map.insert(
                    "end_offset_seconds".into(),
                    ((w.end_ms - origin).max(0) as f64 / 1000.0).into(),
                );
            }
            json.push(value);
        }
        serde_json::to_writer_pretty(out, &json)?;
        Ok(())
    }
}
