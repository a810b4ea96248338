//! `slogate run FILE`: the pipeline, one line per stage: load the scenario,
//! compile the plan, start scraping, run the engine (watching abort
//! conditions and writing the timeline as it goes), judge the expectations
//! (client-side, then PromQL), write the reports, and say how it ended.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Exit, UsageError};
use crate::backend::alertmanager::Watch;
use crate::cli::RunArgs;
use crate::engine::{self, RunOptions, Snapshot};
use crate::expect::{AbortWatch, Verdict};
use crate::gameday::{self, FaultSwitch, Services};
use crate::metrics::scrape::{Scraped, Scraper, Target};
use crate::metrics::store::Store;
use crate::record::RunResults;
use crate::report::escape::terminal_lines;
use crate::report::run::{self as reports, Ending, RunReport, TimelineCsv};
use crate::rules::export::Promtool;
use crate::scenario::{self, Scenario};
use crate::slo::SloReport;
use crate::{judge, plan};

/// Runs a scenario and writes its results directory.
pub fn run(args: &RunArgs) -> anyhow::Result<Exit> {
    let scenario = load(args)?;
    let services = Services::start(&scenario)?;
    let (plan, bases) = compile(args, &scenario, &services)?;
    let out = results_dir(args, &scenario.name)?;
    let observers = Observers::start(&scenario, &services)?;
    let mut faults = FaultSwitch::new(&scenario, bases.clone(), &services.proxies);
    let results = drive(args, &scenario, &plan, &out, &mut faults);
    // Faults off even when the run failed to start.
    faults.finish();
    let results = results?;
    let mut verdicts = judge::client(&scenario, &results);
    verdicts.extend(faults.verdicts());
    let scraped = observers.scraper.map(Scraper::stop);
    let exported = args
        .export_promtool_test
        .as_deref()
        .map(|dest| export_promtool_test(&scenario, scraped.as_ref(), dest));
    let alertmanager = observers.alertmanager;
    let judged = Judged::of(
        args,
        &scenario,
        &results,
        verdicts,
        scraped,
        alertmanager,
        &faults,
        &out,
    )?;
    let mut report = RunReport::new(&scenario, &results, judged.verdicts);
    report.command = super::command_line();
    report.fault_windows = gameday::window_reports(&faults.windows, results.started_at);
    report.shard = args.shard;
    report.targets = bases
        .into_iter()
        .map(|(name, url)| (name, crate::redact::url(&url)))
        .collect();
    report.scrape_losses = reports::ScrapeLoss::of(&judged.losses, report.started_at_unix_ms);
    write(&out, &report, &judged.slos, &faults, results.started_at)?;
    println!("results: {}", out.display());
    let export_failed = exported.is_some_and(|done| !announce_export(done, args));
    Ok(match report.ending {
        Ending::Passed if export_failed => Exit::Failed,
        Ending::Passed => Exit::Success,
        Ending::Failed => Exit::Failed,
        Ending::Aborted | Ending::Interrupted => Exit::Aborted,
    })
}

/// The scenario file, redaction of its secret parameters armed, and this
/// shard's share of it (`--shard i/N`).
fn load(args: &RunArgs) -> Result<Scenario, UsageError> {
    let mut scenario = scenario::load(&args.file).map_err(UsageError::lines)?;
    crate::redact::add_params(&scenario.redact);
    if let Some(shard) = args.shard {
        shard
            .apply(&mut scenario)
            .map_err(|e| UsageError::line(format!("--shard {shard}: {e}")))?;
    }
    Ok(scenario)
}

/// The plan the engine runs, and each target's base URL by name.
fn compile(
    args: &RunArgs,
    scenario: &Scenario,
    services: &Services,
) -> anyhow::Result<(plan::LoadPlan, BTreeMap<String, String>)> {
    if args.export_promtool_test.is_some() && scenario.rules.is_empty() {
        return Err(UsageError::new(
            "--export-promtool-test",
            format!(
                "{} names no rule files (`rules:`); there are no alerts to export",
                args.file.display()
            ),
        )
        .into());
    }
    let plan = plan::compile(scenario, &services.urls)
        .map_err(|e| UsageError::line(format!("{}: {e}", args.file.display())))?;
    let bases = plan::target_urls(scenario, &services.urls)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    Ok((plan, bases))
}

/// What watches the service while the load runs.
struct Observers {
    scraper: Option<Scraper>,
    alertmanager: Option<Watch>,
}

impl Observers {
    fn start(scenario: &Scenario, services: &Services) -> anyhow::Result<Observers> {
        let scraper = start_scraper(scenario, &services.urls, &services.proxies)?;
        let alertmanager = match scenario
            .metrics
            .as_ref()
            .and_then(|m| m.alertmanager.as_ref())
        {
            Some(url) => Some(Watch::start(url, Duration::from_secs(1))?),
            None => None,
        };
        Ok(Observers {
            scraper,
            alertmanager,
        })
    }
}

/// The engine over every phase: faults switched at each phase's start,
/// the timeline appended and the abort conditions watched every second.
fn drive(
    args: &RunArgs,
    scenario: &Scenario,
    plan: &plan::LoadPlan,
    out: &Path,
    faults: &mut FaultSwitch,
) -> anyhow::Result<RunResults> {
    let mut timeline =
        TimelineCsv::start(out).with_context(|| format!("cannot write into {}", out.display()))?;
    let mut aborts = AbortWatch::new(scenario.aborts.clone());
    let names: Vec<String> = plan.endpoints.iter().map(|e| e.name.clone()).collect();
    let progress = progress_bar(args);
    let options = RunOptions {
        handle_signals: true,
        ..RunOptions::default()
    };
    let results = engine::run_phases(
        plan,
        options,
        &mut |snapshot: &Snapshot| update(&progress, snapshot),
        &mut |rows| {
            // A failed append loses nothing: the file is rewritten at the end.
            let _ = TimelineCsv::append(&mut timeline, rows, &names);
            aborts.observe(rows)
        },
        &mut |phase| faults.enter(phase),
    )?;
    progress.finish_and_clear();
    Ok(results)
}

/// Every verdict of the run, its SLOs, and the scraped data limits kept out.
struct Judged {
    verdicts: Vec<Verdict>,
    slos: Vec<SloReport>,
    losses: Vec<crate::metrics::loss::Loss>,
}

impl Judged {
    /// The server side judged after the client side (`client`). The load's
    /// results reach the disk before, since server-side judging reads other
    /// people's metrics and rules and can fail late: that loses nothing,
    /// and the files say the checks were not judged (NO DATA).
    #[expect(
        clippy::too_many_arguments,
        reason = "one stage's inputs, each used once"
    )]
    fn of(
        args: &RunArgs,
        scenario: &Scenario,
        results: &RunResults,
        mut verdicts: Vec<Verdict>,
        scraped: Option<Scraped>,
        alertmanager: Option<Watch>,
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
                &args.file,
                "slogate stopped before it judged them",
            ));
            let mut report = RunReport::new(scenario, results, early);
            report.command = super::command_line();
            reports::write_all(out, &report)?;
        }
        let judged = judge::server(scenario, results, scraped, alertmanager, &faults.log, out);
        let (server, slos) = judged.unwrap_or_else(|e| {
            let why = format!("{e:#}");
            eprintln!(
                "error: server-side checks not judged: {}",
                terminal_lines(&crate::redact::text(&why))
            );
            (vec![Verdict::not_judged(&args.file, &why)], Vec::new())
        });
        verdicts.extend(server);
        let origin = crate::metrics::scrape::system_ms(results.started_at);
        verdicts.extend(judge::slo_verdicts(scenario, &slos, &losses, origin));
        Ok(Judged {
            verdicts,
            slos,
            losses,
        })
    }
}

/// The results directory's files, the terminal report, and last the page,
/// which reads the files written before it.
fn write(
    out: &Path,
    report: &RunReport,
    slos: &[SloReport],
    faults: &FaultSwitch,
    started: std::time::SystemTime,
) -> anyhow::Result<()> {
    if !slos.is_empty() {
        reports::slos::save(slos, out)?;
    }
    reports::write_all(out, report)?;
    reports::write_terminal(
        report,
        &mut crate::redact::Writer::new(std::io::stdout().lock()),
    )?;
    if !slos.is_empty() {
        print!("\n{}", crate::slo::text(slos));
    }
    if !faults.windows.is_empty() {
        reports::faults::save(&faults.windows, started, out)?;
    }
    if let Err(e) = crate::report::html::write(out) {
        eprintln!("warning: index.html not written: {e:#}");
    }
    Ok(())
}

/// Says where the `--export-promtool-test` file went; false when it could
/// not be written or fails under promtool.
fn announce_export(
    done: Result<(crate::rules::export::Exported, Option<Promtool>), String>,
    args: &RunArgs,
) -> bool {
    match (done, &args.export_promtool_test) {
        (Ok((done, promtool)), Some(dest)) => {
            println!(
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
            eprintln!("error: --export-promtool-test: {e}");
            false
        }
        (Ok(_), None) => true,
    }
}

/// Starts scraping the scenario's `metrics.scrape` targets, if any.
fn start_scraper(
    scenario: &scenario::Scenario,
    urls: &std::collections::BTreeMap<String, String>,
    proxies: &[crate::proxy::Proxy],
) -> anyhow::Result<Option<Scraper>> {
    let Some(metrics) = scenario.metrics.as_ref().filter(|m| !m.scrape.is_empty()) else {
        return Ok(None);
    };
    let bases = plan::target_urls(scenario, urls).map_err(|e| super::UsageError::new("FILE", e))?;
    let mut targets: Vec<Target> = metrics
        .scrape
        .iter()
        .map(|s| Target {
            url: s.url.bind_targets(&bases).as_static().unwrap_or_default(),
            job: s.job.clone(),
            interval: s.interval,
            limits: s.limits,
        })
        .collect();
    // The proxies' own metrics (what was injected), at the shortest interval.
    let interval = metrics.default_step();
    targets.extend(proxies.iter().map(|p| Target {
        url: format!("{}/metrics", p.control_url()),
        job: "slogate_proxy".into(),
        interval,
        limits: Default::default(),
    }));
    Ok(Some(Scraper::start(targets, Store::new(metrics.limits))?))
}

/// Writes the `--export-promtool-test` file from what was scraped.
fn export_promtool_test(
    scenario: &scenario::Scenario,
    scraped: Option<&Scraped>,
    dest: &std::path::Path,
) -> Result<(crate::rules::export::Exported, Option<Promtool>), String> {
    let (Some(scraped), Some(metrics)) = (scraped, &scenario.metrics) else {
        return Err("nothing was scraped (the scenario has no `metrics.scrape`)".into());
    };
    let step = metrics
        .scrape
        .iter()
        .map(|s| s.interval)
        .min()
        .unwrap_or(metrics.evaluation_interval);
    // Expectations for the promtool that will check the file, if one is
    // here: it is then run on the file.
    let scratch = dest.parent().filter(|p| !p.as_os_str().is_empty());
    let promtool = Promtool::probe(scratch.unwrap_or(std::path::Path::new(".")));
    let title = format!(
        "The alert drill of scenario `{}`. Expectations computed for {}.",
        scenario.name,
        match &promtool {
            Some(p) if p.legacy => format!(
                "{} (rate extrapolation from before Prometheus commit 7f912db, 2024)",
                p.version
            ),
            Some(p) => p.version.clone(),
            None => "Prometheus 3".into(),
        }
    );
    let exported = crate::rules::export::promtool_test(
        &scenario.rules,
        &scraped.store,
        step,
        metrics.evaluation_interval,
        dest,
        &title,
        promtool.as_ref().is_some_and(|p| p.legacy),
    )?;
    if let Some(promtool) = &promtool {
        Promtool::check(dest).map_err(|output| {
            format!(
                "{} fails under {}:\n{output}",
                dest.display(),
                promtool.version
            )
        })?;
    }
    Ok((exported, promtool))
}

/// `--out` (refused if it holds results, unless `--force`), or
/// `reports/<scenario>-<UTC timestamp>/`; created.
fn results_dir(args: &RunArgs, name: &str) -> Result<PathBuf, super::UsageError> {
    let dir = match &args.out {
        Some(dir) => dir.clone(),
        None => {
            let safe: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let stamp = crate::units::format_utc_compact(std::time::SystemTime::now());
            reports::dir::unused(PathBuf::from("reports").join(format!("{safe}-{stamp}")))
        }
    };
    reports::dir::prepare(&dir, args.force)
        .map_err(|e| super::UsageError::new("--out", e.to_string()))?;
    Ok(dir)
}

fn progress_bar(args: &RunArgs) -> ProgressBar {
    if args.no_progress || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(10));
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
        bar.set_style(style);
    }
    bar
}

fn update(bar: &ProgressBar, snapshot: &Snapshot) {
    let elapsed = snapshot.elapsed.as_secs_f64();
    bar.set_message(format!(
        "{elapsed:.1}s · {} requests, {:.0}/s, {} failed",
        snapshot.requests,
        snapshot.requests as f64 / elapsed.max(1e-3),
        snapshot.failed
    ));
    bar.tick();
}
