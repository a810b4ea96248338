//! The run's live metrics asked for on the command line (`run`, `hit`).

use super::UsageError;
use crate::cli::TelemetryArgs;
use crate::scenario::Outputs;
use crate::telemetry::Fault;
use crate::telemetry::live::Settings;

/// The settings the flags ask for, over the scenario's `outputs:` (the
/// flags win, key by key).
pub(super) fn settings(args: &TelemetryArgs, outputs: &Outputs) -> Result<Settings, UsageError> {
    let mut settings = Settings {
        listen: args.metrics_listen.or(outputs.metrics_listen),
        allow_remote: args.metrics_allow_remote || outputs.allow_remote,
        remote_write: args
            .remote_write
            .clone()
            .or_else(|| outputs.remote_write.clone()),
        buckets: outputs
            .buckets
            .clone()
            .unwrap_or(Settings::default().buckets),
        grace: outputs.grace.unwrap_or(Settings::default().grace),
    };
    if let Some(bad) = args
        .metrics_buckets
        .iter()
        .find(|b| !b.is_finite() || **b < 1e-6)
    {
        return Err(UsageError::new(
            "--metrics-buckets",
            format!(
                "`{bad}`: each bound is a number of seconds of at least 0.000001 (1µs), e.g. 0.05,0.1,0.25,0.5,1"
            ),
        ));
    }
    if !args.metrics_buckets.is_empty() {
        settings.buckets = args.metrics_buckets.clone();
    }
    if let Some(grace) = args.metrics_grace {
        settings.grace = grace;
    }
    let asked = args.metrics_allow_remote
        || !args.metrics_buckets.is_empty()
        || args.metrics_grace.is_some();
    if asked && !settings.wanted() {
        return Err(UsageError::new(
            "--metrics-listen",
            "--metrics-allow-remote, --metrics-buckets and --metrics-grace shape the run's metrics: give --metrics-listen ADDR or --remote-write URL too",
        ));
    }
    Ok(settings)
}

/// The run's live metrics, if the flags or the scenario ask for them; the
/// plan's rows then carry their histograms.
pub(super) fn start(
    args: &crate::cli::RunArgs,
    scenario: &crate::scenario::Scenario,
    plan: &mut crate::plan::LoadPlan,
) -> anyhow::Result<Option<crate::telemetry::live::Live>> {
    let settings = settings(&args.telemetry, &scenario.outputs)?;
    let live = crate::telemetry::live::Live::start(&settings, &scenario.name, plan)?;
    plan.live_buckets_us = live.as_ref().map(|l| l.telemetry.buckets_us());
    Ok(live)
}

/// slogate's own events as the run goes ([`crate::events`]): phases and
/// faults, timed from the run's start.
pub(super) struct Announcer {
    scenario: String,
    began: std::time::Instant,
}

impl Announcer {
    /// The run of `scenario` (its results in `out`) starts now.
    pub(super) fn start(scenario: &crate::scenario::Scenario, out: &std::path::Path) -> Announcer {
        crate::events::run_start(
            &scenario.name,
            &scenario.file.display().to_string(),
            scenario.phases.len(),
            &out.display().to_string(),
        );
        Announcer {
            scenario: scenario.name.clone(),
            began: std::time::Instant::now(),
        }
    }

    fn offset(&self) -> f64 {
        self.began.elapsed().as_secs_f64()
    }

    pub(super) fn phase(&self, name: &str, index: usize) {
        crate::events::phase_start(&self.scenario, name, index, self.offset());
    }

    /// The faults in effect went from `before` to `after`.
    pub(super) fn faults(&self, before: &[Fault], after: &[Fault]) {
        let at = self.offset();
        for (on, changed, other) in [(false, before, after), (true, after, before)] {
            for f in changed.iter().filter(|f| !other.contains(f)) {
                crate::events::fault(&self.scenario, on, f.source, &f.target, &f.kind, at);
            }
        }
    }
}

/// The run's end as events: each alert's state changes (from
/// `alerts.json`), each verdict, the abort if any, the ending.
pub(super) fn announce(out: &std::path::Path, report: &crate::report::run::RunReport) {
    if !crate::events::json() {
        return;
    }
    let scenario = &report.scenario;
    let start_ms = report.started_at_unix_ms as i64;
    let alerts: serde_json::Value = std::fs::read_to_string(out.join("alerts.json"))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let mut changes = Vec::new();
    for alert in alerts["alerts"].as_array().into_iter().flatten() {
        let name = alert["name"].as_str().unwrap_or_default();
        let labels = alert["labels"].to_string();
        for episode in alert["episodes"].as_array().into_iter().flatten() {
            let states = [
                ("pending_at", "pending"),
                ("fired_at", "firing"),
                ("resolved_at", "resolved"),
            ];
            for (order, (key, state)) in states.into_iter().enumerate() {
                if let Some(at) = episode[key].as_i64() {
                    changes.push((at, order, name.to_string(), state, labels.clone()));
                }
            }
        }
    }
    changes.sort();
    for (at, _, name, state, labels) in changes {
        let when = crate::units::rfc3339_ms(at);
        crate::events::alert(
            scenario,
            &name,
            state,
            &when,
            (at - start_ms) as f64 / 1000.0,
            &labels,
        );
    }
    for check in &report.checks {
        crate::events::verdict(
            scenario,
            &check.check,
            &check.scope,
            check.outcome.label(),
            &check.measured_text,
            &check.wanted,
        );
    }
    if let Some(reason) = &report.abort_reason {
        crate::events::abort(scenario, reason, report.duration_s);
    }
    let ending = serde_json::to_value(report.ending).ok();
    crate::events::run_end(
        scenario,
        ending.as_ref().and_then(|e| e.as_str()).unwrap_or_default(),
        report.duration_s,
        report.checks.len(),
        report.failed_checks(),
    );
}
