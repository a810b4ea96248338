//! `slogate run --export-promtool-test FILE`: the drill it exports, and
//! what it says of the file.

use std::io::Write as _;

use crate::cli::RunArgs;
use crate::rules;
use crate::rules::export::{ExportError, Promtool};
use crate::scenario::Scenario;

/// The drill `--export-promtool-test` exports, if the scenario scrapes.
pub(super) fn drill(scenario: &Scenario) -> Option<rules::run::Drill<'_>> {
    let metrics = scenario.metrics.as_ref()?;
    Some(rules::run::Drill {
        name: &scenario.name,
        rules: &scenario.rules,
        step: metrics
            .scrape
            .iter()
            .map(|s| s.interval)
            .min()
            .unwrap_or(metrics.evaluation_interval),
        evaluation_interval: metrics.evaluation_interval,
    })
}

/// Says where the `--export-promtool-test` file went; false when it could
/// not be written or fails under promtool.
pub(super) fn announce_export(
    done: Result<(crate::rules::export::Exported, Option<Promtool>), ExportError>,
    args: &RunArgs,
) -> bool {
    match (done, &args.export_promtool_test) {
        (Ok((done, promtool)), Some(dest)) => {
            let _ = writeln!(
                std::io::stdout(),
                "promtool test: {} ({} series, {} samples over {}, {} alert tests); {}",
                dest.display(),
                done.series,
                done.samples,
                crate::units::format_duration(done.span),
                done.alert_tests,
                match promtool {
                    Some(p) => format!("passes under {}", p.version),
                    None => "no promtool here to check it with".into(),
                }
            );
            true
        }
        (Err(e), _) => {
            crate::events::say(&format!("error: --export-promtool-test: {e}"));
            false
        }
        (Ok(_), None) => true,
    }
}
