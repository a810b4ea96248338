//! `slogate run FILE`: the pipeline, one line per stage: load the scenario,
//! compile the plan, start scraping, run the engine (watching abort
//! conditions and writing the timeline as it goes), judge the expectations
//! (client-side, then PromQL), write the reports, and say how it ended.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::export::{announce_export, drill};
use super::{Exit, UsageError};
use crate::cli::RunArgs;
use crate::engine::{self, RunOptions, Snapshot};
use crate::expect::AbortWatch;
use crate::gameday::{FaultSwitch, Observers, Services};
use crate::judge::steady::SteadyWatch;
use crate::metrics::scrape::Scraper;
use crate::record::RunResults;
use crate::report::progress::RunProgress;
use crate::report::run::{self as reports, Ending, RunReport, TimelineCsv};
use crate::scenario::{self, Scenario};
use crate::slo::SloReport;
use crate::telemetry::live::Live;
use crate::{judge, plan, rules};

/// Runs a scenario and writes its results directory.
pub(crate) fn run(args: &RunArgs) -> anyhow::Result<Exit> {
    let scenario = load(args)?;
    let services = Services::start(&scenario)?;
    let (mut plan, bases) = compile(args, &scenario, &services)?;
    let out = results_dir(args, &scenario.name)?;
    let mut live = super::live::start(args, &scenario, &mut plan)?;
    let own = live
        .as_ref()
        .and_then(Live::addr)
        .map(|a| format!("http://{a}/metrics"));
    let observers = Observers::start(&scenario, &services, own)?;
    let mut faults = FaultSwitch::new(&scenario, bases.clone(), &services.proxies);
    let watched = (&mut faults, &observers, live.as_ref());
    let (results, mut verdicts) = drive(args, &scenario, &plan, &out, watched)?;
    // The stop conditions have nothing left to guard.
    drop(observers.guard);
    verdicts.extend(judge::client(&scenario, &results));
    verdicts.extend(faults.verdicts());
    let scraped = observers.scraper.map(Scraper::stop);
    let exported = args
        .export_promtool_test
        .as_deref()
        .map(|dest| rules::run::export_promtool_test(drill(&scenario), scraped.as_ref(), dest));
    let judged = judge::live(
        &scenario,
        &results,
        verdicts,
        scraped,
        observers.paging,
        &faults,
        &out,
    )?;
    let written = live.as_mut().and_then(|l| l.finish(&judged.verdicts));
    let mut report = RunReport::new(&scenario, &results, judged.verdicts);
    report.remote_write = written;
    report.command = crate::redact::command_line();
    report.fault_windows = reports::FaultWindow::of(&faults.windows, results.started_at);
    report.shard = args.shard;
    report.targets = bases
        .into_iter()
        .map(|(name, url)| (name, crate::redact::url(&url)))
        .collect();
    report.scrape_losses = reports::ScrapeLoss::of(&judged.losses, report.started_at_unix_ms);
    report.detection = judged.detection;
    write(&out, &report, &judged.slos, &faults, results.started_at)?;
    super::live::announce(&out, &report);
    live.into_iter().for_each(Live::linger);
    // Ignored when the reader has gone (`| head`): the exit code still says.
    let _ = writeln!(std::io::stdout(), "results: {}", out.display());
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
    let asked = args.telemetry.log_format;
    crate::events::init(asked.unwrap_or_default());
    let mut scenario = scenario::load(&args.file).map_err(UsageError::lines)?;
    crate::events::init(asked.or(scenario.logs).unwrap_or_default());
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

/// The run, faults off after it however it ended, and the steady state's
/// verdicts before the faults. A steady state that did not hold stopped
/// the run, but that is a failed check, not an abort.
fn drive(
    args: &RunArgs,
    scenario: &Scenario,
    plan: &plan::LoadPlan,
    out: &Path,
    (faults, observers, live): (&mut FaultSwitch, &Observers, Option<&Live>),
) -> anyhow::Result<(RunResults, Vec<crate::expect::Verdict>)> {
    let names = plan.endpoints.iter().map(|e| e.name.clone()).collect();
    let mut steady = SteadyWatch::new(scenario, names);
    let announcer = super::live::Announcer::start(scenario, out);
    let watch = Watch {
        faults,
        steady: &mut steady,
        scraper: observers.scraper.as_ref(),
        guard: &observers.guard,
        live,
        announcer: &announcer,
    };
    let results = engine_run(args, scenario, plan, out, watch);
    // Faults off even when the run failed to start.
    let before = faults.active();
    faults.finish();
    announcer.faults(&before, &[]);
    let mut results = results?;
    live.inspect(|l| l.settle(&results));
    if steady.failed {
        crate::events::say(&results.aborted.take().unwrap_or_default());
    }
    Ok((results, steady.verdicts))
}

/// What acts as each phase starts (the steady state, then the faults) and
/// as the run goes (the stop conditions).
struct Watch<'w, 'f, 's> {
    faults: &'w mut FaultSwitch<'f>,
    steady: &'w mut SteadyWatch<'s>,
    scraper: Option<&'w Scraper>,
    guard: &'w crate::expect::stop::StopGuard,
    /// The run's own metrics, if they are served or written.
    live: Option<&'w Live>,
    /// slogate's own events.
    announcer: &'w super::live::Announcer,
}

/// The engine over every phase: the steady state checked before the first
/// fault, faults switched at each phase's start, the timeline appended
/// and the abort and stop conditions watched (faults off the moment one
/// holds).
fn engine_run(
    args: &RunArgs,
    scenario: &Scenario,
    plan: &plan::LoadPlan,
    out: &Path,
    watch: Watch,
) -> anyhow::Result<RunResults> {
    let mut timeline =
        TimelineCsv::start(out).with_context(|| format!("cannot write into {}", out.display()))?;
    let mut aborts = AbortWatch::new(scenario.aborts.clone());
    let faults = std::cell::RefCell::new(watch.faults);
    let names: Vec<String> = plan.endpoints.iter().map(|e| e.name.clone()).collect();
    let progress = RunProgress::new(plan, args.no_progress || crate::events::json());
    let options = RunOptions {
        handle_signals: true,
        ..RunOptions::default()
    };
    let live = watch.live;
    live.inspect(|l| l.start_run());
    let results = engine::run_phases(
        plan,
        options,
        &mut |snapshot: &Snapshot| {
            progress.update(snapshot);
            live.inspect(|l| l.telemetry.progress(snapshot));
        },
        &mut |rows| {
            // A failed append loses nothing: the file is rewritten at the end.
            if !rows.is_empty() {
                let _ = TimelineCsv::append(&mut timeline, rows, &names);
            }
            live.inspect(|l| l.rows(rows));
            let stop = aborts.observe(rows).or_else(|| watch.guard.tripped());
            if stop.is_some() {
                // Faults off at once: the load stops after its requests end.
                let mut faults = faults.borrow_mut();
                let before = faults.active();
                faults.finish();
                watch.announcer.faults(&before, &[]);
                live.inspect(|l| l.faults(&[]));
            }
            stop
        },
        &mut |phase, done| {
            if let Some(stop) = watch.steady.enter(phase, done, watch.scraper) {
                return Some(stop);
            }
            live.inspect(|l| l.telemetry.verdicts(&watch.steady.verdicts));
            progress.enter(phase);
            let mut faults = faults.borrow_mut();
            let (name, before) = (&scenario.phases[phase].name, faults.active());
            watch.announcer.phase(name, phase);
            faults.enter(phase);
            let after = faults.active();
            watch.announcer.faults(&before, &after);
            live.inspect(|l| l.enter_phase(name, done, &after));
            None
        },
    )?;
    progress.finish();
    Ok(results)
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
    let files = reports::Contents {
        report: Some(report),
        slos: Some(reports::slos::SlosJson::Judged(slos)),
        faults: Some(reports::faults::FaultsJson {
            windows: &faults.windows,
            demo: &faults.log,
            started,
            ended: std::time::SystemTime::now(),
        }),
        ..reports::Contents::default()
    };
    reports::write_all(out, &files)?;
    // The page before the terminal: a reader that closes stdout early
    // (`| head`) must not cost the results directory its page.
    if let Err(e) = crate::report::html::write(out) {
        crate::events::say(&format!("warning: index.html not written: {e:#}"));
    }
    let mut stdout = crate::redact::Writer::new(std::io::stdout().lock());
    let printed = reports::write_terminal(report, &mut stdout).and_then(|()| {
        if slos.is_empty() {
            Ok(())
        } else {
            write!(stdout, "\n{}", crate::report::slo_text::text(slos))
        }
    });
    match printed {
        // Nobody reads the terminal any more: the files and the exit code
        // still say it all.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// `--out` (refused if it holds results, unless `--force`), or
/// `reports/<scenario>-<UTC timestamp>/`; created.
fn results_dir(args: &RunArgs, name: &str) -> Result<PathBuf, super::UsageError> {
    let dir = match &args.out {
        Some(dir) => dir.clone(),
        None => reports::dir::default_for(name),
    };
    reports::dir::prepare(&dir, args.force)
        .map_err(|e| super::UsageError::new("--out", e.to_string()))?;
    Ok(dir)
}
