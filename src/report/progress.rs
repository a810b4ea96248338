//! The live progress line on standard error, drawn only on a terminal:
//! `hit`'s bar over its one phase, and `run`'s line naming the phase, its
//! time (or requests) left and when the run will end.

use std::cell::Cell;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::Snapshot;
use crate::plan::{LoadPlan, PhasePlan};

/// A bar on stderr at 10 Hz with `template`, or a hidden one when asked
/// for none or when stderr is not a terminal (a CI log).
fn bar(hidden: bool, length: Option<u64>, template: &str) -> ProgressBar {
    if hidden || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(length, ProgressDrawTarget::stderr_with_hz(10));
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

/// `hit`'s bar: time or requests of its one phase.
pub(crate) struct HitProgress {
    bar: ProgressBar,
    phase: PhasePlan,
}

impl HitProgress {
    pub(crate) fn new(plan: &LoadPlan, hidden: bool) -> HitProgress {
        let phase = plan.phases[0].clone();
        let length = match phase.duration {
            Some(duration) => duration.as_millis() as u64,
            None => phase.max_requests.unwrap_or(0),
        };
        HitProgress {
            bar: bar(hidden, Some(length), "{bar:30} {msg}"),
            phase,
        }
    }

    pub(crate) fn update(&self, snapshot: &Snapshot) {
        let elapsed = snapshot.elapsed.as_secs_f64();
        let (position, so_far) = match (self.phase.duration, self.phase.max_requests) {
            (Some(duration), _) => (
                snapshot.elapsed.as_millis() as u64,
                format!(
                    "{elapsed:.1}s of {}",
                    crate::units::format_duration(duration)
                ),
            ),
            (None, Some(max)) => (snapshot.requests, format!("{} of {max}", snapshot.requests)),
            (None, None) => (snapshot.requests, format!("{}", snapshot.requests)),
        };
        self.bar.set_position(position);
        let rate = snapshot.requests as f64 / elapsed.max(1e-3);
        self.bar.set_message(format!(
            "{so_far} · {} requests, {rate:.0}/s, {} failed",
            snapshot.requests, snapshot.failed
        ));
    }

    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// The phase running: its index, when it started, and the run's request
/// count then (so its own requests can be told apart).
#[derive(Debug, Clone, Copy)]
struct Current {
    index: usize,
    started: Instant,
    requests_before: u64,
}

/// `run`'s line: `phase steady (2/3) · 12s left · run ends in ≈ 52s ·
/// 7000 requests, 200/s, 0 failed`.
pub(crate) struct RunProgress {
    bar: ProgressBar,
    phases: Vec<PhasePlan>,
    current: Cell<Option<Current>>,
    requests: Cell<u64>,
}

impl RunProgress {
    pub(crate) fn new(plan: &LoadPlan, hidden: bool) -> RunProgress {
        RunProgress {
            bar: bar(hidden, None, "{spinner} {msg}"),
            phases: plan.phases.clone(),
            current: Cell::new(None),
            requests: Cell::new(0),
        }
    }

    /// Phase `index` starts now (the engine's phase callback).
    pub(crate) fn enter(&self, index: usize) {
        self.current.set(Some(Current {
            index,
            started: Instant::now(),
            requests_before: self.requests.get(),
        }));
    }

    pub(crate) fn update(&self, snapshot: &Snapshot) {
        self.requests.set(snapshot.requests);
        let elapsed = snapshot.elapsed.as_secs_f64();
        let totals = format!(
            "{} requests, {:.0}/s, {} failed",
            snapshot.requests,
            snapshot.requests as f64 / elapsed.max(1e-3),
            snapshot.failed
        );
        let message = match self.current.get() {
            Some(current) => format!(
                "{} · {totals}",
                self.where_we_are(current, snapshot, Instant::now())
            ),
            None => format!("{elapsed:.1}s · {totals}"),
        };
        self.bar.set_message(message);
        self.bar.tick();
    }

    /// The phase, what is left of it, and when the run ends.
    fn where_we_are(&self, current: Current, snapshot: &Snapshot, now: Instant) -> String {
        let phase = &self.phases[current.index];
        let in_phase = now.saturating_duration_since(current.started);
        let done = snapshot.requests.saturating_sub(current.requests_before);
        let rate = done as f64 / in_phase.as_secs_f64().max(1e-3);
        let (left_text, left) = remaining(phase, in_phase, done, rate);
        let mut eta = left;
        for later in &self.phases[current.index + 1..] {
            eta = match (eta, later.duration) {
                (Some(eta), Some(d)) => Some(eta + d),
                _ => None,
            };
        }
        let ends = match eta {
            Some(eta) => format!("run ends in ≈ {}", seconds(eta)),
            // A later phase ends at a request count: no time to promise.
            None => format!(
                "run ends in ≥ {}",
                seconds(left.unwrap_or_default() + self.later_known(current.index))
            ),
        };
        format!(
            "phase {} ({}/{}) · {left_text} · {ends}",
            crate::report::escape::terminal(&phase.name),
            current.index + 1,
            self.phases.len()
        )
    }

    /// The later phases' durations that are known.
    fn later_known(&self, index: usize) -> Duration {
        self.phases[index + 1..]
            .iter()
            .filter_map(|p| p.duration)
            .sum()
    }

    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// What is left of `phase`: as text, and as a time when it can be told
/// (a duration, or a request count at the rate so far).
fn remaining(
    phase: &PhasePlan,
    in_phase: Duration,
    done: u64,
    rate: f64,
) -> (String, Option<Duration>) {
    match (phase.duration, phase.max_requests) {
        (Some(duration), _) => {
            let left = duration.saturating_sub(in_phase);
            (format!("{} left", seconds(left)), Some(left))
        }
        (None, Some(max)) => {
            let left = (rate > 0.0)
                .then(|| Duration::from_secs_f64(max.saturating_sub(done) as f64 / rate));
            (format!("{done}/{max} requests"), left)
        }
        (None, None) => (format!("{done} requests"), None),
    }
}

/// Whole seconds, rounded up: `0s` only when nothing is left.
fn seconds(d: Duration) -> String {
    let secs = d.as_secs_f64().ceil() as u64;
    if secs >= 60 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Model;

    fn phase(name: &str, duration: Option<u64>, requests: Option<u64>) -> PhasePlan {
        PhasePlan {
            name: name.into(),
            model: Model::Closed,
            connections: 1,
            max_requests: requests,
            duration: duration.map(Duration::from_secs),
            think: crate::plan::Think::default(),
            mix: Vec::new(),
        }
    }

    fn progress(phases: Vec<PhasePlan>) -> RunProgress {
        RunProgress {
            bar: ProgressBar::hidden(),
            phases,
            current: Cell::new(None),
            requests: Cell::new(0),
        }
    }

    fn snapshot(requests: u64) -> Snapshot {
        Snapshot {
            started: requests,
            tickets: requests,
            lag: std::time::Duration::ZERO,
            elapsed: Duration::from_secs(1),
            requests,
            failed: 0,
        }
    }

    #[test]
    fn the_line_names_the_phase_its_time_left_and_the_runs_end() {
        let p = progress(vec![
            phase("warm-up", Some(10), None),
            phase("steady", Some(35), None),
            phase("spike", Some(15), None),
        ]);
        let started = Instant::now();
        let current = Current {
            index: 1,
            started,
            requests_before: 1100,
        };
        let line = p.where_we_are(current, &snapshot(3100), started + Duration::from_secs(10));
        assert_eq!(line, "phase steady (2/3) · 25s left · run ends in ≈ 40s");
    }

    #[test]
    fn a_phase_ending_at_a_count_is_estimated_from_its_rate() {
        let p = progress(vec![
            phase("count", None, Some(1000)),
            phase("soak", Some(60), None),
        ]);
        let started = Instant::now();
        let current = Current {
            index: 0,
            started,
            requests_before: 0,
        };
        // 250 done in 5 s: 750 left at 50/s is 15 s, then the soak's minute.
        let line = p.where_we_are(current, &snapshot(250), started + Duration::from_secs(5));
        assert_eq!(
            line,
            "phase count (1/2) · 250/1000 requests · run ends in ≈ 1m15s"
        );
        let p = progress(vec![
            phase("soak", Some(60), None),
            phase("count", None, Some(10)),
        ]);
        let line = p.where_we_are(current, &snapshot(0), started + Duration::from_secs(30));
        assert_eq!(line, "phase soak (1/2) · 30s left · run ends in ≥ 30s");
    }
}
