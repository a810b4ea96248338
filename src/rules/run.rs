//! Rules over a run: the scenario's rule groups evaluated over what was
//! scraped, or the alert timeline read back from a real Prometheus's
//! `ALERTS` and `ALERTS_FOR_STATE`; and the run's scrapes exported as a
//! promtool unit test of those rules.

use std::time::Duration;

use super::export::{ExportError, Promtool};
use super::{AlertTimeline, External, Options, RuleError, RuleFile, RuleSet};
use crate::backend::prometheus_state::{RuleGroup, group_of};
use crate::backend::{BackendError, QueryBackend};
use crate::metrics::scrape::Scraped;
use crate::metrics::store::Store;

/// What the rules did over a run.
#[derive(Debug, Default, serde::Serialize)]
pub(crate) struct RunAlerts {
    /// `embedded`, or the Prometheus the timeline was read from.
    pub evaluated_by: String,
    pub timeline: AlertTimeline,
    /// Evaluation failures, one per rule and message (with a count).
    pub errors: Vec<(RuleError, usize)>,
    /// Read back from `ALERTS`, which carries no annotations.
    #[serde(skip)]
    pub without_annotations: bool,
    /// What the Alertmanager held during the run, if one was watched.
    #[serde(skip)]
    pub alertmanager: Option<crate::backend::alertmanager::Watched>,
    /// What slogate's webhook receiver got, if one ran.
    #[serde(skip)]
    pub received: Option<crate::backend::receiver::Received>,
    /// `judge: both`: each alert as the in-process evaluation saw it
    /// beside the Prometheus.
    #[serde(skip)]
    pub in_process: Vec<super::both::Difference>,
}

/// Evaluates `files` over everything scraped (every `interval` unless a
/// group says otherwise, with `lookback`), writing the rules' series into
/// `store`.
pub(crate) fn evaluate(
    files: &[RuleFile],
    interval: Duration,
    lookback: Duration,
    store: &mut Store,
) -> anyhow::Result<RunAlerts> {
    let options = Options {
        default_interval: interval,
        lookback,
        external: External::default(),
        legacy_rate_extrapolation: false,
    };
    let mut set = RuleSet::new(files, options).map_err(anyhow::Error::msg)?;
    if let Some((first, last)) = store.time_range() {
        set.run(store, first - 1, last);
    }
    let mut errors: Vec<(RuleError, usize)> = Vec::new();
    for error in set.errors {
        match errors
            .iter_mut()
            .find(|(e, _)| e.source == error.source && e.message == error.message)
        {
            Some((_, count)) => *count += 1,
            None => errors.push((error, 1)),
        }
    }
    Ok(RunAlerts {
        evaluated_by: "embedded".into(),
        timeline: set.timeline,
        errors,
        ..RunAlerts::default()
    })
}

/// Reads the alert timeline of `(start, end)` (ms) from the raw samples of
/// `ALERTS` and `ALERTS_FOR_STATE` as stored by `prometheus`, read at
/// `now` back to one interval before `start` (an alert pending as the run
/// began). `groups` are its rule groups as last read (for their intervals
/// and last evaluations); an alert in none of them is taken to be
/// evaluated every `fallback_interval`, up to `now`.
pub(crate) fn read_back(
    prometheus: &crate::backend::Prometheus,
    groups: &[RuleGroup],
    start: i64,
    now: i64,
    fallback_interval: Duration,
) -> Result<RunAlerts, BackendError> {
    let fallback = fallback_interval.as_millis().max(1) as i64;
    let longest = groups
        .iter()
        .map(|g| g.interval_ms)
        .chain([fallback])
        .max()
        .unwrap_or(fallback);
    let range = (now - start) + longest;
    let alerts = prometheus.samples("ALERTS", now, range)?;
    let for_state = prometheus.samples("ALERTS_FOR_STATE", now, range)?;
    let interval_of = |name: &str| match group_of(groups, name) {
        Some(g) => (g.interval_ms, g.last_evaluation_ms),
        None => (fallback, Some(now)),
    };
    let timeline =
        AlertTimeline::from_samples(&alerts, &for_state, &interval_of, &prometheus.describe());
    let mut intervals: Vec<String> = timeline
        .alerts
        .iter()
        .map(|a| interval_of(&a.name).0)
        // `15s`, `500ms`: as a rule file writes them.
        .map(|ms| match ms % 1000 {
            0 => format!("{}s", ms / 1000),
            _ => format!("{ms}ms"),
        })
        .collect();
    intervals.sort();
    intervals.dedup();
    let precision = if intervals.is_empty() {
        "times are Prometheus's evaluation timestamps".to_string()
    } else {
        format!(
            "times are Prometheus's evaluation timestamps; resolved = last active evaluation + group interval {}",
            intervals.join("/")
        )
    };
    Ok(RunAlerts {
        timeline,
        evaluated_by: format!("{} ({precision})", prometheus.describe()),
        without_annotations: true,
        ..RunAlerts::default()
    })
}

/// What a scenario's drill exports as a promtool unit test.
pub(crate) struct Drill<'a> {
    /// The scenario's name, for the file's title.
    pub name: &'a str,
    pub rules: &'a [RuleFile],
    /// The shortest scrape interval: the series' step.
    pub step: Duration,
    pub evaluation_interval: Duration,
}

/// Writes the `--export-promtool-test` file from what was scraped (None:
/// the scenario scrapes nothing).
pub(crate) fn export_promtool_test(
    drill: Option<Drill>,
    scraped: Option<&Scraped>,
    dest: &std::path::Path,
) -> Result<(super::export::Exported, Option<Promtool>), ExportError> {
    let (Some(scraped), Some(drill)) = (scraped, drill) else {
        return Err(ExportError::NothingScraped);
    };
    let step = drill.step;
    // Expectations for the promtool that will check the file, if one is
    // here: it is then run on the file.
    let scratch = dest.parent().filter(|p| !p.as_os_str().is_empty());
    let promtool = Promtool::probe(scratch.unwrap_or(std::path::Path::new(".")));
    let title = format!(
        "The alert drill of scenario `{}`. Expectations computed for {}.",
        drill.name,
        match &promtool {
            Some(p) if p.legacy => format!(
                "{} (rate extrapolation from before Prometheus commit 7f912db, 2024)",
                p.version
            ),
            Some(p) => p.version.clone(),
            None => "Prometheus 3".into(),
        }
    );
    let exported = super::export::promtool_test(
        drill.rules,
        &scraped.store,
        step,
        drill.evaluation_interval,
        dest,
        &title,
        promtool.as_ref().is_some_and(|p| p.legacy),
    )?;
    if let Some(promtool) = &promtool {
        Promtool::check(dest).map_err(|source| ExportError::FailsUnderPromtool {
            path: dest.to_path_buf(),
            version: promtool.version.clone(),
            source,
        })?;
    }
    Ok((exported, promtool))
}
