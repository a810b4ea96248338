//! slogate's own events as structured logs: `--log-format json` (or the
//! scenario's `logs: {format: json}`) writes one JSON object per line on
//! stderr, with `timestamp`, `level`, `event` and the event's fields, for
//! Promtail/Loki and the like, through `tracing` and
//! `tracing-subscriber`'s JSON layer. Human text stays the default: then
//! the events print nothing of their own (the terminal report says it
//! all), and [`say`] prints its line as it always has.
//!
//! Event kinds: `run_start`, `phase_start`, `fault_on`, `fault_off`,
//! `alert` (each state change, with the time it happened), `verdict`,
//! `abort`, `run_end`, and `message` for what is otherwise a line on
//! stderr (warnings, notes).
//!
//! A leaf: imports nothing of the crate, so any room can log.

use std::sync::atomic::{AtomicBool, Ordering};

use tracing::{Level, event};

static JSON: AtomicBool = AtomicBool::new(false);

/// How slogate's own events are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people (the default).
    #[default]
    Text,
    /// One JSON object per line, on stderr.
    Json,
}

/// Writes events as `format` says from now on (once per process: a second
/// call keeps the first's subscriber).
pub fn init(format: LogFormat) {
    if format != LogFormat::Json || JSON.swap(true, Ordering::SeqCst) {
        return;
    }
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    // slogate's events only: the HTTP crates' own diagnostics stay out.
    let ours = tracing_subscriber::filter::filter_fn(|meta| meta.target().starts_with("slogate"));
    let layer = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_filter(ours);
    let subscriber = tracing_subscriber::registry().with(layer);
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// Whether events are written as JSON.
pub fn json() -> bool {
    JSON.load(Ordering::Relaxed)
}

/// A line for people on stderr (`warning: ...`, `note: ...`), or, as JSON,
/// a `message` event at `level` (the line's `warning: ` / `note: ` prefix
/// becomes the level).
pub fn say(line: &str) {
    if !json() {
        eprintln!("{line}");
        return;
    }
    if let Some(text) = line.strip_prefix("warning: ") {
        event!(Level::WARN, event = "message", message = text);
    } else if let Some(text) = line.strip_prefix("error: ") {
        event!(Level::ERROR, event = "message", message = text);
    } else {
        let text = line.strip_prefix("note: ").unwrap_or(line);
        event!(Level::INFO, event = "message", message = text);
    }
}

pub fn run_start(scenario: &str, file: &str, phases: usize, results: &str) {
    event!(
        Level::INFO,
        event = "run_start",
        scenario,
        file,
        phases,
        results
    );
}

pub fn phase_start(scenario: &str, phase: &str, index: usize, offset_s: f64) {
    event!(
        Level::INFO,
        event = "phase_start",
        scenario,
        phase,
        index,
        offset_s
    );
}

/// A fault went on (`on`) or off: `source` is `proxy` or `demo`.
pub fn fault(scenario: &str, on: bool, source: &str, target: &str, kind: &str, offset_s: f64) {
    if on {
        event!(
            Level::WARN,
            event = "fault_on",
            scenario,
            source,
            target,
            kind,
            offset_s
        );
    } else {
        event!(
            Level::INFO,
            event = "fault_off",
            scenario,
            source,
            target,
            kind,
            offset_s
        );
    }
}

/// An alert's state changed (`pending`, `firing`, `resolved`) at `at`
/// (RFC 3339; the log line's own timestamp is when slogate knew it).
pub fn alert(scenario: &str, alert: &str, state: &str, at: &str, offset_s: f64, labels: &str) {
    event!(
        Level::INFO,
        event = "alert",
        scenario,
        alert,
        state,
        at,
        offset_s,
        labels
    );
}

/// A check judged: `outcome` PASS, WARN, FAIL or NO DATA.
pub fn verdict(
    scenario: &str,
    check: &str,
    scope: &str,
    outcome: &str,
    measured: &str,
    wanted: &str,
) {
    let level_fail = matches!(outcome, "FAIL" | "NO DATA");
    if level_fail {
        event!(
            Level::WARN,
            event = "verdict",
            scenario,
            check,
            scope,
            outcome,
            measured,
            wanted
        );
    } else {
        event!(
            Level::INFO,
            event = "verdict",
            scenario,
            check,
            scope,
            outcome,
            measured,
            wanted
        );
    }
}

/// The run stopped early: an abort or stop condition held, or a signal.
pub fn abort(scenario: &str, reason: &str, offset_s: f64) {
    event!(Level::WARN, event = "abort", scenario, reason, offset_s);
}

/// The run ended: `ending` passed, failed, aborted or interrupted.
pub fn run_end(scenario: &str, ending: &str, duration_s: f64, checks: usize, failed: usize) {
    event!(
        Level::INFO,
        event = "run_end",
        scenario,
        ending,
        duration_s,
        checks,
        failed
    );
}
