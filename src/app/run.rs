//! `slogate run FILE`: the pipeline, one line per stage: load the scenario,
//! compile the plan, start scraping, run the engine (watching abort
//! conditions and writing the timeline as it goes), judge the expectations
//! (client-side, then PromQL), write the reports, and say how it ended.

use crate::report::escape::terminal_lines;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Exit;
use crate::cli::RunArgs;
use crate::engine::{self, RunOptions, Snapshot};
use crate::expect::{self, AbortWatch};
use crate::metrics::scrape::{Scraped, Scraper, Target};
use crate::metrics::store::Store;
use crate::report::run::{self as reports, Ending, RunReport, TimelineCsv};
use crate::rules::export::Promtool;
use crate::{plan, scenario};

/// Runs a scenario and writes its results directory.
pub fn run(args: &RunArgs) -> anyhow::Result<Exit> {
    let mut scenario = match scenario::load(&args.file) {
        Ok(scenario) => scenario,
        Err(errors) => {
            for error in errors {
                eprintln!(
                    "error: {}",
                    terminal_lines(&crate::redact::text(&error.to_string()))
                );
            }
            return Ok(Exit::Usage);
        }
    };
    crate::redact::add_params(&scenario.redact);
    if let Some(shard) = args.shard
        && let Err(e) = shard.apply(&mut scenario)
    {
        eprintln!("error: --shard {shard}: {e}");
        return Ok(Exit::Usage);
    }
    let services = start_services(&scenario)?;
    let urls = services.urls.clone();
    if args.export_promtool_test.is_some() && scenario.rules.is_empty() {
        eprintln!(
            "error: --export-promtool-test: {} names no rule files (`rules:`); there are no alerts to export",
            args.file.display()
        );
        return Ok(Exit::Usage);
    }
    let plan = match plan::compile(&scenario, &urls) {
        Ok(plan) => plan,
        Err(e) => {
            let message = format!("{}: {e}", args.file.display());
            eprintln!("error: {}", terminal_lines(&crate::redact::text(&message)));
            return Ok(Exit::Usage);
        }
    };
    let out = results_dir(args, &scenario.name)?;
    let scraper = start_scraper(&scenario, &urls, &services.proxies)?;
    let alertmanager = match scenario
        .metrics
        .as_ref()
        .and_then(|m| m.alertmanager.as_ref())
    {
        Some(url) => Some(crate::backend::alertmanager::Watch::start(
            url,
            Duration::from_secs(1),
        )?),
        None => None,
    };
    let bases = plan::target_urls(&scenario, &urls)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let mut faults = crate::gameday::FaultSwitch::new(&scenario, bases.clone(), &services.proxies);
    let mut timeline =
        TimelineCsv::start(&out).with_context(|| format!("cannot write into {}", out.display()))?;
    let mut aborts = AbortWatch::new(scenario.aborts.clone());
    let names: Vec<String> = plan.endpoints.iter().map(|e| e.name.clone()).collect();
    let progress = progress_bar(args);
    let options = RunOptions {
        handle_signals: true,
        ..RunOptions::default()
    };
    let results = engine::run_phases(
        &plan,
        options,
        &mut |snapshot: &Snapshot| update(&progress, snapshot),
        &mut |rows| {
            // A failed append loses nothing: the file is rewritten at the end.
            let _ = TimelineCsv::append(&mut timeline, rows, &names);
            aborts.observe(rows)
        },
        &mut |phase| faults.enter(phase),
    );
    // Faults off even when the run failed to start.
    faults.finish();
    let results = results?;
    progress.finish_and_clear();
    let mut verdicts = crate::judge::client(&scenario, &results);
    verdicts.extend(faults.verdicts());
    let scraped = scraper.map(Scraper::stop);
    let losses = scraped
        .as_ref()
        .map(|s| s.store.losses().to_vec())
        .unwrap_or_default();
    let exported = args
        .export_promtool_test
        .as_deref()
        .map(|dest| export_promtool_test(&scenario, scraped.as_ref(), dest));
    // The load's results reach the disk before server-side judging, which
    // reads other people's metrics and rules and can fail late: that loses
    // nothing, and the files say the checks were not judged (NO DATA).
    if scenario.has_server_side_checks() {
        let mut early = verdicts.clone();
        early.push(expect::Verdict::not_judged(
            &args.file,
            "slogate stopped before it judged them",
        ));
        reports::write_all(&out, &RunReport::new(&scenario, &results, early))?;
    }
    let judged = crate::judge::server(
        &scenario,
        &results,
        scraped,
        alertmanager,
        &faults.log,
        &out,
    );
    let (server, slos) = judged.unwrap_or_else(|e| {
        let why = format!("{e:#}");
        eprintln!(
            "error: server-side checks not judged: {}",
            terminal_lines(&crate::redact::text(&why))
        );
        (
            vec![expect::Verdict::not_judged(&args.file, &why)],
            Vec::new(),
        )
    });
    verdicts.extend(server);
    let mut slo_verdicts = crate::slo::verdicts(&scenario.slos, &slos);
    let origin = crate::metrics::scrape::system_ms(results.started_at);
    crate::slo::mark_truncated(&scenario.slos, &mut slo_verdicts, &losses, origin);
    verdicts.extend(slo_verdicts);
    if !slos.is_empty() {
        let path = out.join("slos.json");
        std::fs::write(
            &path,
            crate::redact::text(&serde_json::to_string_pretty(&slos)?),
        )
        .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let mut report = RunReport::new(&scenario, &results, verdicts);
    report.fault_windows = crate::gameday::window_reports(&faults.windows, results.started_at);
    report.shard = args.shard;
    report.targets = bases
        .into_iter()
        .map(|(name, url)| (name, crate::redact::url(&url)))
        .collect();
    report.scrape_losses = reports::ScrapeLoss::of(&losses, report.started_at_unix_ms);
    reports::write_all(&out, &report)?;
    reports::write_terminal(
        &report,
        &mut crate::redact::Writer::new(std::io::stdout().lock()),
    )?;
    if !slos.is_empty() {
        print!("\n{}", crate::slo::text(&slos));
    }
    if !faults.windows.is_empty() {
        reports::faults::save(&faults.windows, results.started_at, &out)?;
    }
    // Last: the page reads the files written above.
    if let Err(e) = crate::report::html::write(&out) {
        eprintln!("warning: index.html not written: {e:#}");
    }
    println!("results: {}", out.display());
    let export_failed = match (exported, &args.export_promtool_test) {
        (Some(Ok((done, promtool))), Some(dest)) => {
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
            false
        }
        (Some(Err(e)), _) => {
            eprintln!("error: --export-promtool-test: {e}");
            true
        }
        _ => false,
    };
    Ok(match report.ending {
        Ending::Passed if export_failed => Exit::Failed,
        Ending::Passed => Exit::Success,
        Ending::Failed => Exit::Failed,
        Ending::Aborted | Ending::Interrupted => Exit::Aborted,
    })
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

/// What a run starts itself: demo services and fault proxies, with the
/// base URL of each by name.
struct Services {
    urls: std::collections::BTreeMap<String, String>,
    /// Held so they serve until the run ends; dropped before the proxies,
    /// so a demo's dependency outlives it.
    #[expect(dead_code, reason = "held for its lifetime, never read")]
    demos: Vec<crate::demo::Demo>,
    proxies: Vec<crate::proxy::Proxy>,
}

/// Starts the demos without a dependency, then the proxies (whose
/// upstreams may be those demos), then the demos whose dependency is a
/// proxy or a target, each on 127.0.0.1 (a proxy where it says).
fn start_services(scenario: &scenario::Scenario) -> anyhow::Result<Services> {
    let mut urls = std::collections::BTreeMap::new();
    let mut demos = Vec::new();
    for (name, target) in &scenario.targets {
        match target {
            scenario::Target::Demo { upstream: None } => {
                let demo = crate::demo::Demo::start(([127, 0, 0, 1], 0).into())?;
                urls.insert(name.clone(), demo.url());
                demos.push(demo);
            }
            scenario::Target::Url(url) => {
                urls.insert(name.clone(), url.clone());
            }
            scenario::Target::Demo { .. } => {}
        }
    }
    let mut proxies = Vec::new();
    for decl in &scenario.proxies {
        let upstream = urls.get(&decl.upstream).unwrap_or(&decl.upstream).clone();
        let mut config = crate::proxy::Config::new(&decl.name, decl.mode, decl.listen, &upstream);
        config.control = decl.control;
        config.allow_remote = decl.allow_remote;
        if let Some(timeout) = decl.header_timeout {
            config.header_timeout = timeout;
        }
        if let Some(max) = decl.max_connections {
            config.max_connections = max;
        }
        let proxy = crate::proxy::Proxy::start(config)?;
        urls.insert(decl.name.clone(), proxy.url());
        proxies.push(proxy);
    }
    for (name, target) in &scenario.targets {
        if let scenario::Target::Demo {
            upstream: Some(upstream),
        } = target
        {
            let upstream = urls.get(upstream).unwrap_or(upstream).clone();
            let demo = crate::demo::Demo::start_with(([127, 0, 0, 1], 0).into(), Some(&upstream))?;
            urls.insert(name.clone(), demo.url());
            demos.push(demo);
        }
    }
    // Only what the run started: target URLs are added by `target_urls`.
    urls.retain(|name, _| {
        scenario.proxies.iter().any(|p| p.name == *name)
            || scenario
                .targets
                .iter()
                .any(|(n, t)| n == name && matches!(t, scenario::Target::Demo { .. }))
    });
    Ok(Services {
        urls,
        demos,
        proxies,
    })
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
