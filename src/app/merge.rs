//! `slogate merge DIR... --out DIR`: the results of one scenario run by
//! several machines (shards, `--shard i/N`) put back together as if one run
//! had sent all the load. Latency histograms are added (HdrHistogram, so
//! merged percentiles are exact to its precision), status and error counts
//! and the per-second timeline summed (seconds aligned at each shard's own
//! start), and every client-side expectation and client SLO judged again on
//! the merged data. Server-side verdicts (PromQL, alerts, SLOs over
//! PromQL) are about the service, which every shard watched: they are taken
//! from the first shard that has them, with its alerts, scrapes and faults
//! (the [`reports::Kept`] files).

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{Exit, UsageError};
use crate::cli::MergeArgs;
use crate::expect::Verdict;
use crate::record::RunResults;
use crate::report::run::saved::{Saved, SavedSummary};
use crate::report::run::{self as reports, Ending, RunReport};
use crate::scenario;

/// One shard's results directory, read.
struct Part {
    dir: PathBuf,
    summary: SavedSummary,
    checks: Vec<Verdict>,
}

impl Part {
    fn read(dir: &Path) -> anyhow::Result<Part> {
        let saved = Saved::read(dir)?;
        saved.require_schema(dir)?;
        let checks = saved
            .verdicts()
            .with_context(|| dir.join("summary.json").display().to_string())?;
        Ok(Part {
            dir: dir.to_path_buf(),
            summary: saved.summary,
            checks,
        })
    }
}

/// Merges the shards and writes the merged results directory.
pub(crate) fn run(args: &MergeArgs) -> anyhow::Result<Exit> {
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if let Some(dir) = args.dirs.iter().find(|d| same(d, &args.out)) {
        return Err(UsageError::new(
            "--out",
            format!(
                "{} is one of the shards: merge into a new directory",
                dir.display()
            ),
        )
        .into());
    }
    let parts = args
        .dirs
        .iter()
        .map(|dir| Part::read(dir))
        .collect::<anyhow::Result<Vec<_>>>()
        .map_err(|e| UsageError::new("DIR", format!("{e:#}")))?;
    let summaries: Vec<(&Path, &SavedSummary)> = parts
        .iter()
        .map(|p| (p.dir.as_path(), &p.summary))
        .collect();
    let missing =
        reports::shards::agree(&summaries).map_err(|e| UsageError::line(e.to_string()))?;
    if !missing.is_empty() {
        eprintln!(
            "warning: shard {} missing: the merged run has only part of the load",
            missing.join(", ")
        );
    }
    let first = &parts[0];
    let file = args
        .scenario
        .clone()
        .unwrap_or_else(|| PathBuf::from(&first.summary.file));
    let scenario = scenario::load(&file).map_err(|errors| {
        UsageError::lines(errors).with_hint(format!(
            "the expectations are judged again from the scenario file; pass --scenario FILE where it is not at {}",
            file.display()
        ))
    })?;
    if scenario.name != first.summary.scenario {
        return Err(UsageError::line(format!(
            "{} is scenario `{}`, the shards ran `{}`",
            file.display(),
            scenario.name,
            first.summary.scenario
        ))
        .into());
    }
    let results = combine(&parts).map_err(|e| UsageError::new("DIR", format!("{e:#}")))?;
    reports::dir::prepare(&args.out, args.force)
        .map_err(|e| UsageError::new("--out", e.to_string()))?;

    let shards: Vec<Vec<Verdict>> = parts.iter().map(|p| p.checks.clone()).collect();
    let judged = crate::judge::merged(&scenario, &results, &shards);
    let server = judged.server_from.map(|index| &parts[index]);

    let kept = reports::Kept::first_of(&parts.iter().map(|p| &p.dir).collect::<Vec<_>>());
    let slos = kept_slos(&parts, &scenario, &judged.slos)?;
    let mut report = RunReport::new(&scenario, &results, judged.verdicts);
    report.command = crate::redact::command_line();
    report.fault_windows = first.summary.fault_windows.clone();
    report.merged_from = parts.iter().map(|p| p.dir.display().to_string()).collect();
    report.targets = first.summary.targets.clone();
    let files = reports::Contents {
        report: Some(&report),
        slos: Some(reports::slos::SlosJson::Kept(&slos)),
        kept: Some(&kept),
        ..reports::Contents::default()
    };
    reports::write_all(&args.out, &files)?;
    reports::write_terminal(&report, &mut std::io::stdout().lock())?;
    if let Err(e) = crate::report::html::write(&args.out) {
        eprintln!("warning: index.html not written: {e:#}");
    }
    println!(
        "merged {} results directories ({}); client-side checks judged on the merged data{}",
        parts.len(),
        parts
            .iter()
            .map(|p| p
                .summary
                .shard
                .map_or_else(|| "no shard".to_string(), |s| format!("shard {s}")))
            .collect::<Vec<_>>()
            .join(", "),
        match server {
            Some(p) => format!("; server-side checks from {}", p.dir.display()),
            None => String::new(),
        }
    );
    println!("results: {}", args.out.display());
    Ok(match report.ending {
        Ending::Passed => Exit::Success,
        Ending::Failed => Exit::Failed,
        Ending::Aborted | Ending::Interrupted => Exit::Aborted,
    })
}

/// The shards' results as one run's; an abort reason says whose it was.
fn combine(parts: &[Part]) -> anyhow::Result<RunResults> {
    let mut runs = Vec::with_capacity(parts.len());
    for part in parts {
        let mut run = RunResults::from_saved(&part.summary)
            .with_context(|| part.dir.display().to_string())?;
        run.aborted = run
            .aborted
            .map(|reason| format!("{}: {reason}", part.dir.display()));
        runs.push(run);
    }
    Ok(RunResults::merge(&runs))
}

/// `slos.json`'s SLOs: the client SLOs judged again, the others as the
/// first shard that has them reported them.
fn kept_slos(
    parts: &[Part],
    scenario: &scenario::Scenario,
    reports_now: &[crate::slo::SloReport],
) -> anyhow::Result<Vec<serde_json::Value>> {
    let saved: Option<Vec<serde_json::Value>> = parts.iter().find_map(|p| {
        std::fs::read_to_string(p.dir.join("slos.json"))
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
    });
    let mut values = Vec::new();
    for (i, (slo, report)) in scenario.slos.iter().zip(reports_now.iter()).enumerate() {
        let kept = saved
            .as_ref()
            .and_then(|s| s.get(i))
            .filter(|_| !slo.sli.is_client());
        values.push(match kept {
            Some(value) => value.clone(),
            None => serde_json::to_value(report)?,
        });
    }
    Ok(values)
}
