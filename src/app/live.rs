//! The run's live metrics asked for on the command line (`run`, `hit`).

use super::UsageError;
use crate::cli::TelemetryArgs;
use crate::scenario::Outputs;
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
        .find(|b| !b.is_finite() || **b <= 0.0)
    {
        return Err(UsageError::new(
            "--metrics-buckets",
            format!("`{bad}`: each bound is a number of seconds above 0, e.g. 0.05,0.1,0.25,0.5,1"),
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
