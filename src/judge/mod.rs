//! The judge: every expectation of a scenario turned into verdicts, in one
//! order for `run` and `merge` alike — client-side checks on the load's
//! results, then the server-side ones (PromQL, alerts, SLOs over PromQL),
//! then the SLOs. A live run judges the server side against the embedded
//! evaluator or a real Prometheus; a merge of shards takes it from the
//! first shard that judged it, since every shard watched the same service.

mod alerts;
pub(crate) mod compare;
pub(crate) mod detection;
mod expectations;
pub(crate) mod steady;

pub(crate) use alerts::judge_run;
pub(crate) use expectations::{evaluate, evaluate_promql};

use std::collections::BTreeSet;
use std::path::Path;

use crate::backend::receiver::Receiver;
use crate::backend::{Embedded, Prometheus};
use crate::expect::Verdict;
use crate::gameday::FaultSwitch;
use crate::metrics::scrape::Scraped;
use crate::record::RunResults;
use crate::report::escape::terminal_lines;
use crate::report::run::alerts::AlertsJson;
use crate::report::run::{Contents, RunReport, write_all};
use crate::scenario::Scenario;
use crate::slo::{self, SloReport};

/// The client-side verdicts: what the load's own results say.
pub(crate) fn client(scenario: &Scenario, results: &RunResults) -> Vec<Verdict> {
    evaluate(scenario, results)
}

/// The server-side stage of a live run: saves what was scraped, evaluates
/// the rules (or reads the alerts back from the scenario's Prometheus), and
/// judges the PromQL and alert expectations and the SLOs against the
/// embedded evaluator or that Prometheus. Writes `metrics.jsonl`,
/// `promql.json` and `alerts.json` into `out` as it goes.
pub(crate) fn server(
    scenario: &Scenario,
    results: &RunResults,
    scraped: Option<Scraped>,
    paging: crate::backend::Paging,
    faults: &FaultSwitch,
    out: &std::path::Path,
) -> anyhow::Result<Served> {
    let crate::backend::Paging {
        alertmanager,
        receiver,
    } = paging;
    if let Some(scraped) = &scraped {
        for problem in &scraped.problems {
            crate::events::say(&format!(
                "warning: {}",
                terminal_lines(&crate::redact::text(problem))
            ));
        }
        // A failed save loses the saved scrapes, not the verdicts.
        let files = Contents {
            scraped: Some(&scraped.store),
            ..Contents::default()
        };
        if let Err(e) = write_all(out, &files) {
            crate::events::say(&format!(
                "warning: {}",
                crate::redact::text(&format!("{e:#}"))
            ));
        }
    }
    let Some(metrics) = &scenario.metrics else {
        return Ok((
            Vec::new(),
            slo::evaluate(&scenario.slos, results, None),
            Vec::new(),
        ));
    };
    let mut detection = Vec::new();
    let expects_alerts = !scenario.alerts.is_empty()
        || scenario.no_other_alerts.is_some()
        || !scenario.groupings.is_empty()
        || scenario.no_other_notifications.is_some()
        || scenario.phases.iter().any(|p| !p.alerts.is_empty());
    if let Some(url) = &metrics.prometheus {
        let backend = Prometheus::new(url)?;
        // Let Prometheus scrape and evaluate past the end of the run, as
        // long as its own intervals say that takes.
        let named: Vec<&str> = (scenario.alerts.iter())
            .chain(scenario.phases.iter().flat_map(|p| &p.alerts))
            .map(|a| a.alert.as_str())
            .collect();
        let groups =
            crate::backend::prometheus_state::settle(&backend, run_window(results).1, &named);
        let mut verdicts = evaluate_promql(scenario, results, &backend);
        save_series(scenario, results, &backend, out);
        if expects_alerts {
            let (start, end) = run_window(results);
            let watched = alertmanager.map(crate::backend::alertmanager::Watch::stop);
            match crate::rules::run::read_back(
                &backend,
                &groups,
                start,
                crate::metrics::scrape::system_ms(std::time::SystemTime::now()).max(end),
                metrics.evaluation_interval,
            ) {
                Ok(mut alerts) => {
                    alerts.alertmanager = watched;
                    alerts.received = receiver.map(|r| {
                        alerts::await_notifications(scenario, results, &alerts.timeline, r)
                    });
                    if metrics.in_process_too {
                        alerts.in_process =
                            in_process_too(scenario, scraped.as_ref(), &alerts, results);
                    }
                    detection = save_alerts(&alerts, faults, scenario, results, out)?;
                    verdicts.extend(judge_run(scenario, results, &alerts, &backend));
                }
                Err(e) => {
                    let alerts = crate::rules::run::RunAlerts {
                        evaluated_by: format!("{url} (unreachable: {e})"),
                        alertmanager: watched,
                        received: receiver.map(Receiver::stop),
                        ..Default::default()
                    };
                    verdicts.extend(judge_run(scenario, results, &alerts, &backend));
                }
            }
        }
        let slos = slo::evaluate(&scenario.slos, results, Some(&backend));
        return Ok((verdicts, slos, detection));
    }
    // Only a Prometheus sends alerts; the scenario check keeps these None.
    drop(alertmanager.map(crate::backend::alertmanager::Watch::stop));
    drop(receiver.map(Receiver::stop));
    let mut store = scraped.map(|s| s.store).unwrap_or_default();
    if !scenario.rules.is_empty() {
        let alerts = crate::rules::run::evaluate(
            &scenario.rules,
            metrics.evaluation_interval,
            metrics.lookback,
            &mut store,
        )?;
        // The rules' own series (recording rules, `ALERTS`,
        // `ALERTS_FOR_STATE`) saved beside the scrapes, as Prometheus keeps
        // them: `slogate query --run DIR 'ALERTS'` reads them.
        let files = Contents {
            scraped: Some(&store),
            ..Contents::default()
        };
        if let Err(e) = write_all(out, &files) {
            crate::events::say(&format!(
                "warning: {}",
                crate::redact::text(&format!("{e:#}"))
            ));
        }
        let detection = save_alerts(&alerts, faults, scenario, results, out)?;
        let mut backend = Embedded::new(&store);
        backend.lookback = metrics.lookback;
        let mut verdicts = evaluate_promql(scenario, results, &backend);
        save_series(scenario, results, &backend, out);
        verdicts.extend(judge_run(scenario, results, &alerts, &backend));
        let slos = slo::evaluate(&scenario.slos, results, Some(&backend));
        return Ok((verdicts, slos, detection));
    }
    let mut backend = Embedded::new(&store);
    backend.lookback = metrics.lookback;
    let slos = slo::evaluate(&scenario.slos, results, Some(&backend));
    save_series(scenario, results, &backend, out);
    Ok((
        evaluate_promql(scenario, results, &backend),
        slos,
        detection,
    ))
}

/// What the server side gave: its verdicts, the SLOs' reports, and the
/// detection report of the game day.
type Served = (
    Vec<Verdict>,
    Vec<SloReport>,
    Vec<crate::report::run::detection::DetectionRow>,
);

/// `judge: both`: the rules evaluated over slogate's own scrapes too,
/// each alert's first firing and resolve beside the Prometheus's (said on
/// stderr, kept in `alerts.json`).
fn in_process_too(
    scenario: &Scenario,
    scraped: Option<&Scraped>,
    alerts: &crate::rules::run::RunAlerts,
    results: &RunResults,
) -> Vec<crate::rules::both::Difference> {
    let (Some(metrics), Some(scraped)) = (&scenario.metrics, scraped) else {
        return Vec::new();
    };
    let mut store = scraped.store.clone();
    let ours = match crate::rules::run::evaluate(
        &scenario.rules,
        metrics.evaluation_interval,
        metrics.lookback,
        &mut store,
    ) {
        Ok(ours) => ours,
        Err(e) => {
            crate::events::say(&format!(
                "warning: the rules could not be evaluated in process: {e:#}"
            ));
            return Vec::new();
        }
    };
    let differences = crate::rules::both::compare(&alerts.timeline, &ours.timeline);
    let origin = crate::metrics::scrape::system_ms(results.started_at);
    if !differences.is_empty() {
        crate::events::say(
            "in process (slogate's scrapes) vs the Prometheus, times from the run's start:",
        );
        for d in &differences {
            crate::events::say(&format!("  {}", terminal_lines(&d.line(origin))));
        }
    }
    differences
}

/// Saves every PromQL check's series over the run for the HTML report; a
/// failure costs the charts, not the run.
fn save_series(
    scenario: &Scenario,
    results: &RunResults,
    backend: &dyn crate::backend::QueryBackend,
    out: &std::path::Path,
) {
    let series = crate::report::series::collect(scenario, results, backend);
    let files = Contents {
        series: Some(&series),
        ..Contents::default()
    };
    if let Err(e) = write_all(out, &files) {
        crate::events::say(&format!(
            "warning: {}",
            crate::redact::text(&format!("{e:#}"))
        ));
    }
}

/// Writes `alerts.json`, with the detection report it returns.
fn save_alerts(
    alerts: &crate::rules::run::RunAlerts,
    faults: &FaultSwitch,
    scenario: &Scenario,
    results: &RunResults,
    out: &Path,
) -> anyhow::Result<Vec<crate::report::run::detection::DetectionRow>> {
    let detection = detection::detect(scenario, results, alerts, &faults.windows, &faults.log);
    let alerts = AlertsJson {
        alerts,
        faults: &faults.log,
        scenario,
        results,
        detection: &detection,
    };
    let files = Contents {
        alerts: Some(alerts),
        ..Contents::default()
    };
    write_all(out, &files)?;
    Ok(detection)
}

/// The run's time as ms since the epoch, plus the scrapes after it.
fn run_window(results: &RunResults) -> (i64, i64) {
    let start = crate::metrics::scrape::system_ms(results.started_at);
    let end = crate::metrics::scrape::system_ms(results.started_at + results.elapsed);
    (start, end + 1000)
}

/// The SLOs' verdicts, each marked when it read data a scrape limit
/// truncated (`losses`, timed from `origin_ms`).
pub(crate) fn slo_verdicts(
    scenario: &Scenario,
    slos: &[SloReport],
    losses: &[crate::metrics::loss::Loss],
    origin_ms: i64,
) -> Vec<Verdict> {
    let mut verdicts = slo::verdicts(&scenario.slos, slos);
    slo::mark_truncated(&scenario.slos, &mut verdicts, losses, origin_ms);
    verdicts
}

/// The server-side verdicts of shards, for a merge: those of the first
/// shard that has verdicts `judged` lacks (by check, scope and source), with
/// that shard's index.
pub(crate) fn server_from_shards(
    judged: &[Verdict],
    shards: &[Vec<Verdict>],
) -> Option<(usize, Vec<Verdict>)> {
    let key = |v: &Verdict| (v.check.clone(), v.scope.clone(), v.source.clone());
    let judged: BTreeSet<_> = judged.iter().map(key).collect();
    let (index, checks) = shards
        .iter()
        .enumerate()
        .find(|(_, checks)| checks.iter().any(|v| !judged.contains(&key(v))))?;
    let server = checks
        .iter()
        .filter(|v| !judged.contains(&key(v)))
        .cloned()
        .collect();
    Some((index, server))
}

/// A merge's verdicts and SLO reports, and which shard the server side came
/// from.
pub(crate) struct Merged {
    pub verdicts: Vec<Verdict>,
    /// Every SLO of the scenario, measured on the merged results (those
    /// over PromQL have no data here: their verdicts are the shard's).
    pub slos: Vec<SloReport>,
    pub server_from: Option<usize>,
}

/// The judge stage of `merge`: the client side judged again on the merged
/// results (the expectations, then the client SLOs), then the server side
/// as the first shard that judged it (see [`server_from_shards`]).
pub(crate) fn merged(scenario: &Scenario, results: &RunResults, shards: &[Vec<Verdict>]) -> Merged {
    let mut verdicts = client(scenario, results);
    let slos = slo::evaluate(&scenario.slos, results, None);
    let (client_slos, client_reports): (Vec<_>, Vec<_>) = scenario
        .slos
        .iter()
        .zip(&slos)
        .filter(|(slo, _)| slo.sli.is_client())
        .map(|(slo, report)| (slo.clone(), report.clone()))
        .unzip();
    verdicts.extend(slo::verdicts(&client_slos, &client_reports));
    let server_from = server_from_shards(&verdicts, shards).map(|(index, checks)| {
        verdicts.extend(checks);
        index
    });
    Merged {
        verdicts,
        slos,
        server_from,
    }
}

/// Every verdict of a live run, its SLOs, and the scraped data limits kept
/// out.
pub(crate) struct Judged {
    pub verdicts: Vec<Verdict>,
    pub slos: Vec<SloReport>,
    pub losses: Vec<crate::metrics::loss::Loss>,
    pub detection: Vec<crate::report::run::detection::DetectionRow>,
}

/// A live run's server side judged after its client side (`verdicts`),
/// then the SLOs. The load's results reach the disk before, since
/// server-side judging reads other people's metrics and rules and can fail
/// late: that loses nothing, and the files say the checks were not judged
/// (NO DATA).
pub(crate) fn live(
    scenario: &Scenario,
    results: &RunResults,
    mut verdicts: Vec<Verdict>,
    scraped: Option<Scraped>,
    paging: crate::backend::Paging,
    faults: &FaultSwitch,
    out: &Path,
) -> anyhow::Result<Judged> {
    let losses = scraped
        .as_ref()
        .map(|s| s.store.losses().to_vec())
        .unwrap_or_default();
    if scenario.has_server_side_checks() {
        let mut early = verdicts.clone();
        early.push(Verdict::not_judged(
            &scenario.file,
            "slogate stopped before it judged them",
        ));
        let mut report = RunReport::new(scenario, results, early);
        report.command = crate::redact::command_line();
        write_all(out, &Contents::of(&report))?;
    }
    let judged = server(scenario, results, scraped, paging, faults, out);
    let (server, slos, detection) = judged.unwrap_or_else(|e| {
        let why = format!("{e:#}");
        crate::events::say(&format!(
            "error: server-side checks not judged: {}",
            terminal_lines(&crate::redact::text(&why))
        ));
        (
            vec![Verdict::not_judged(&scenario.file, &why)],
            Vec::new(),
            Vec::new(),
        )
    });
    verdicts.extend(server);
    let origin = crate::metrics::scrape::system_ms(results.started_at);
    verdicts.extend(slo_verdicts(scenario, &slos, &losses, origin));
    Ok(Judged {
        verdicts,
        slos,
        losses,
        detection,
    })
}
