//! The demo knobs' fault windows, for the charts' fault strip: from the
//! knob changes `alerts.json` holds (set as each phase starts), a window
//! from a change that sets a fault to the next change of the same target
//! (or the run's end).

use super::*;

use crate::report::run::saved::{FaultWindow, KnobChange};

/// What the knobs inject, in words (None: no fault).
fn describe(knobs: &crate::demo::Faults) -> Option<String> {
    let mut parts = Vec::new();
    if knobs.error_ratio > 0.0 {
        parts.push(format!(
            "{}% answered {}",
            crate::units::format_significant(knobs.error_ratio * 100.0),
            knobs.error_status
        ));
    }
    if knobs.latency_ms > 0.0 || knobs.jitter_ms > 0.0 {
        let mut delay = format!("+{} ms", crate::units::format_significant(knobs.latency_ms));
        if knobs.jitter_ms > 0.0 {
            let _ = write!(
                delay,
                " ±{} ms",
                crate::units::format_significant(knobs.jitter_ms)
            );
        }
        parts.push(delay);
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The windows the demo knobs held a fault, seconds from the run's start.
pub(super) fn windows(changes: &[KnobChange], s: &saved::SavedSummary) -> Vec<FaultWindow> {
    let start_of = |phase: &Option<String>| match phase {
        Some(name) => s.phases.iter().find(|p| &p.name == name).map(|p| p.start_s),
        None => Some(s.duration_s),
    };
    let mut windows = Vec::new();
    for (index, change) in changes.iter().enumerate() {
        let Some(fault) = describe(&change.knobs) else {
            continue;
        };
        if change.error.is_some() {
            continue;
        }
        let Some(start_s) = start_of(&change.phase) else {
            continue;
        };
        let end_s = changes[index + 1..]
            .iter()
            .find(|next| next.target == change.target)
            .and_then(|next| start_of(&next.phase))
            .unwrap_or(s.duration_s);
        windows.push(FaultWindow {
            proxy: format!("demo {}", change.target),
            phase: change.phase.clone().unwrap_or_default(),
            fault: format!("{}: {fault}", change.target),
            start_s,
            end_s,
            matched: 0,
            injected: 0,
        });
    }
    windows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knobs_read_as_the_fault_they_inject() {
        let knobs = |error_ratio, latency_ms, jitter_ms| crate::demo::Faults {
            error_ratio,
            error_status: 503,
            latency_ms,
            jitter_ms,
        };
        assert_eq!(describe(&knobs(0.0, 0.0, 0.0)), None);
        assert_eq!(
            describe(&knobs(0.2, 0.0, 0.0)).as_deref(),
            Some("20% answered 503")
        );
        assert_eq!(
            describe(&knobs(0.0, 300.0, 50.0)).as_deref(),
            Some("+300 ms ±50 ms")
        );
        assert_eq!(
            describe(&knobs(0.05, 10.0, 0.0)).as_deref(),
            Some("5% answered 503, +10 ms")
        );
    }
}
