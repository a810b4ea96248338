//! `faults.json`: each proxy fault's window (ms since the epoch and seconds
//! from the run's start) and what it did.

use std::path::Path;
use std::time::SystemTime;

use anyhow::Context;

use crate::gameday::ProxyWindow;

/// Writes `faults.json`: each proxy fault's window (ms since the epoch and
/// seconds from the run's start) and counts.
pub fn save(windows: &[ProxyWindow], started: SystemTime, out: &Path) -> anyhow::Result<()> {
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
    let path = out.join("faults.json");
    std::fs::write(
        &path,
        crate::redact::text(&serde_json::to_string_pretty(&json)?),
    )
    .with_context(|| format!("cannot write {}", path.display()))
}
