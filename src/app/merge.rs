//! `slogate merge DIR... --out DIR`: the results of one scenario run by
//! several machines (shards, `--shard i/N`) put back together as if one run
//! had sent all the load. Latency histograms are added (HdrHistogram, so
//! merged percentiles are exact to its precision), status and error counts
//! and the per-second timeline summed (seconds aligned at each shard's own
//! start), and every client-side expectation and client SLO judged again on
//! the merged data. Server-side verdicts (PromQL, alerts, SLOs over
//! PromQL) are about the service, which every shard watched: they are taken
//! from the first shard that has them, with its alerts, scrapes and faults.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use anyhow::Context;
use serde::Deserialize;

use super::{Exit, UsageError};
use crate::cli::MergeArgs;
use crate::expect::{self, Verdict};
use crate::record::{
    ErrorKind, OpenModelStats, Packed, PhaseResults, RunResults, Stats, TimelineRow,
};
use crate::report::html::saved;
use crate::report::run::{self as reports, Ending, RunReport};
use crate::scenario::{self, Shard};
use crate::units::Rate;

/// Files about the service, copied from the first shard that has them.
const SERVER_FILES: [&str; 4] = [
    "alerts.json",
    "faults.json",
    crate::metrics::saved::FILE,
    crate::report::series::FILE,
];

/// One shard's results directory, read.
struct Part {
    dir: PathBuf,
    summary: saved::Summary,
    checks: Vec<Verdict>,
}

impl Part {
    fn read(dir: &Path) -> anyhow::Result<Part> {
        let path = dir.join("summary.json");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read {} ({e}): is {} a results directory of `slogate run`?",
                path.display(),
                dir.display()
            )
        })?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        let schema = value["schema"].as_str().unwrap_or("");
        if schema != reports::SCHEMA {
            anyhow::bail!(
                "{}: schema `{schema}`, this slogate reads `{}`",
                path.display(),
                reports::SCHEMA
            );
        }
        let summary = saved::Summary::deserialize(&value)
            .with_context(|| format!("{} is not what slogate writes", path.display()))?;
        let checks = Vec::<Verdict>::deserialize(&value["checks"])
            .with_context(|| format!("{}: unreadable checks", path.display()))?;
        Ok(Part {
            dir: dir.to_path_buf(),
            summary,
            checks,
        })
    }
}

/// Merges the shards and writes the merged results directory.
pub fn run(args: &MergeArgs) -> anyhow::Result<Exit> {
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
    if let Err(message) = agree(&parts) {
        eprintln!("error: {message}");
        return Ok(Exit::Usage);
    }
    let first = &parts[0];
    let file = args
        .scenario
        .clone()
        .unwrap_or_else(|| PathBuf::from(&first.summary.file));
    let scenario = match scenario::load(&file) {
        Ok(scenario) => scenario,
        Err(errors) => {
            for error in errors {
                eprintln!("error: {error}");
            }
            eprintln!(
                "hint: the expectations are judged again from the scenario file; pass --scenario FILE where it is not at {}",
                file.display()
            );
            return Ok(Exit::Usage);
        }
    };
    if scenario.name != first.summary.scenario {
        eprintln!(
            "error: {} is scenario `{}`, the shards ran `{}`",
            file.display(),
            scenario.name,
            first.summary.scenario
        );
        return Ok(Exit::Usage);
    }
    let results = combine(&parts).map_err(|e| UsageError::new("DIR", format!("{e:#}")))?;
    reports::dir::prepare(&args.out, args.force)
        .map_err(|e| UsageError::new("--out", e.to_string()))?;

    // Client-side: judged again on the merged data.
    let mut verdicts = expect::evaluate(&scenario, &results);
    let slo_reports = crate::slo::evaluate(&scenario.slos, &results, None);
    let client: Vec<usize> = (0..scenario.slos.len())
        .filter(|&i| scenario.slos[i].sli.is_client())
        .collect();
    verdicts.extend(crate::slo::verdicts(
        &client
            .iter()
            .map(|&i| scenario.slos[i].clone())
            .collect::<Vec<_>>(),
        &client
            .iter()
            .map(|&i| slo_reports[i].clone())
            .collect::<Vec<_>>(),
    ));
    // Server-side: as the first shard judged it.
    let judged: BTreeSet<(String, String, String)> = verdicts.iter().map(key).collect();
    let server = parts
        .iter()
        .find(|p| p.checks.iter().any(|v| !judged.contains(&key(v))));
    if let Some(server) = server {
        verdicts.extend(
            server
                .checks
                .iter()
                .filter(|v| !judged.contains(&key(v)))
                .cloned(),
        );
    }

    for name in SERVER_FILES {
        if let Some(from) = parts.iter().map(|p| p.dir.join(name)).find(|f| f.exists()) {
            std::fs::copy(&from, args.out.join(name))
                .with_context(|| format!("cannot copy {}", from.display()))?;
        }
    }
    if !scenario.slos.is_empty() {
        write_slos(&parts, &scenario, &slo_reports, &args.out)?;
    }
    let mut report = RunReport::new(&scenario, &results, verdicts);
    report.fault_windows = first.summary.fault_windows.clone();
    report.merged_from = parts.iter().map(|p| p.dir.display().to_string()).collect();
    report.targets = first.summary.targets.clone();
    reports::write_all(&args.out, &report)?;
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

fn key(v: &Verdict) -> (String, String, String) {
    (v.check.clone(), v.scope.clone(), v.source.clone())
}

/// Checks that the parts are shards of one scenario that fit together.
fn agree(parts: &[Part]) -> Result<(), String> {
    let first = &parts[0].summary;
    for part in &parts[1..] {
        let s = &part.summary;
        if s.scenario != first.scenario {
            return Err(format!(
                "{} ran scenario `{}`, {} ran `{}`: merge shards of one scenario",
                parts[0].dir.display(),
                first.scenario,
                part.dir.display(),
                s.scenario
            ));
        }
        if s.request_names != first.request_names {
            return Err(format!(
                "{} has requests {:?}, {} has {:?}: were they run from the same scenario file?",
                parts[0].dir.display(),
                first.request_names,
                part.dir.display(),
                s.request_names
            ));
        }
        let names =
            |s: &saved::Summary| s.phases.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
        let (mine, theirs) = (names(first), names(s));
        let common = mine.len().min(theirs.len());
        if mine[..common] != theirs[..common] {
            return Err(format!(
                "{} has phases {mine:?}, {} has {theirs:?}",
                parts[0].dir.display(),
                part.dir.display()
            ));
        }
    }
    let shards: Vec<Shard> = parts.iter().filter_map(|p| p.summary.shard).collect();
    if shards.is_empty() {
        return Ok(());
    }
    if shards.len() != parts.len() {
        return Err("some directories are shards (--shard) and some are not".into());
    }
    let count = shards[0].count;
    if let Some(odd) = shards.iter().find(|s| s.count != count) {
        return Err(format!(
            "shard {} and shard {odd} are from different splits",
            shards[0]
        ));
    }
    let mut seen = BTreeMap::new();
    for (shard, part) in shards.iter().zip(parts) {
        if let Some(other) = seen.insert(shard.index, &part.dir) {
            return Err(format!(
                "{} and {} are both shard {shard}: its load would count twice",
                other.display(),
                part.dir.display()
            ));
        }
    }
    let missing: Vec<String> = (1..=count)
        .filter(|i| !seen.contains_key(i))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "warning: shard {} missing: the merged run has only part of the load",
            missing.join(", ")
        );
    }
    Ok(())
}

/// The shards' results as one run's.
fn combine(parts: &[Part]) -> anyhow::Result<RunResults> {
    let first = &parts[0].summary;
    let names = first.request_names.clone();
    let phases = parts
        .iter()
        .map(|p| p.summary.phases.len())
        .max()
        .unwrap_or(0);
    let mut merged_phases = Vec::with_capacity(phases);
    // The run's per-request totals, added up as each phase is merged.
    let mut run_per_endpoint = vec![Stats::default(); names.len()];
    for index in 0..phases {
        let ran: Vec<(&Part, &saved::Phase)> = parts
            .iter()
            .filter_map(|p| p.summary.phases.get(index).map(|phase| (p, phase)))
            .collect();
        let mut total = Stats::default();
        let mut per_endpoint = vec![Stats::default(); names.len()];
        // Summed schedules: (target rate, due, started, dropped).
        let mut open: Option<(f64, u64, u64, u64)> = None;
        for (part, phase) in &ran {
            let context = || format!("{}: phase {}", part.dir.display(), phase.name);
            total.merge(&stats(&phase.measured).with_context(context)?);
            for request in &phase.per_request {
                let i = names
                    .iter()
                    .position(|n| *n == request.name)
                    .with_context(|| format!("{}: unknown request {}", context(), request.name))?;
                per_endpoint[i].merge(&stats(&request.measured).with_context(context)?);
            }
            if let Some(s) = &phase.schedule {
                total.late_starts += s.late_starts;
                let (rate, due, started, dropped) = open.get_or_insert((0.0, 0, 0, 0));
                *rate += s.target_rate;
                *due += s.due;
                *started += s.started;
                *dropped += s.dropped;
            }
        }
        let open = open.and_then(|(rate, due, started, dropped)| {
            Some(OpenModelStats {
                target_rate: Rate::per_second(rate).ok()?,
                due,
                started,
                dropped,
            })
        });
        let (_, model) = ran[0];
        for (sum, stats) in run_per_endpoint.iter_mut().zip(&per_endpoint) {
            sum.merge(stats);
        }
        merged_phases.push(PhaseResults {
            name: model.name.clone(),
            per_endpoint: per_endpoint.iter().map(Packed::pack).collect(),
            total: Packed::pack(&total),
            start_offset: secs(ran.iter().map(|(_, p)| p.start_s).fold(f64::MAX, f64::min)),
            elapsed: secs(ran.iter().map(|(_, p)| p.duration_s).fold(0.0, f64::max)),
            scheduled: model.scheduled_s.map(secs),
            cut_short: ran.iter().any(|(_, p)| p.cut_short),
            connections: ran.iter().map(|(_, p)| p.connections).sum(),
            open,
        });
    }
    let mut total = Stats::default();
    for part in parts {
        total.merge(&stats(&part.summary.run).with_context(|| part.dir.display().to_string())?);
    }
    total.late_starts = merged_phases.iter().map(|p| p.total.late_starts).sum();
    let per_endpoint = run_per_endpoint;
    let started_ms = parts
        .iter()
        .map(|p| p.summary.started_at_unix_ms)
        .min()
        .unwrap_or(0);
    let interrupted = parts.iter().any(|p| p.summary.ending == "interrupted");
    let aborted = parts.iter().find_map(|p| {
        p.summary
            .abort_reason
            .as_ref()
            .map(|reason| format!("{}: {reason}", p.dir.display()))
    });
    Ok(RunResults {
        endpoint_names: names,
        per_endpoint,
        total,
        timeline: timeline(parts),
        started_at: UNIX_EPOCH + Duration::from_millis(started_ms),
        elapsed: secs(
            parts
                .iter()
                .map(|p| p.summary.duration_s)
                .fold(0.0, f64::max),
        ),
        connections: merged_phases
            .iter()
            .map(|p| p.connections)
            .max()
            .unwrap_or(0),
        open: merged_phases.first().and_then(|p| p.open.clone()),
        interrupted,
        aborted,
        phases: merged_phases,
    })
}

fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or_default()
}

/// The timeline rows summed by (second, request). A second's percentiles
/// are the highest of the shards' (their histograms are not saved): an upper
/// bound of the merged second's, exact when one shard sent it all.
fn timeline(parts: &[Part]) -> Vec<TimelineRow> {
    let mut rows: BTreeMap<(u64, usize), TimelineRow> = BTreeMap::new();
    let max = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    for part in parts {
        for row in &part.summary.timeline {
            let mut errors = [0; ErrorKind::COUNT];
            for (sum, n) in errors.iter_mut().zip(&row.errors) {
                *sum = *n;
            }
            let merged = rows
                .entry((row.second, row.endpoint))
                .or_insert_with(|| TimelineRow {
                    second: row.second,
                    endpoint: row.endpoint,
                    requests: 0,
                    ok: 0,
                    status_classes: [0; 5],
                    errors: [0; ErrorKind::COUNT],
                    p50_ms: None,
                    p95_ms: None,
                    p99_ms: None,
                    service_p50_ms: None,
                    service_p95_ms: None,
                    service_p99_ms: None,
                    under: vec![0; row.under.len()],
                });
            merged.requests += row.requests;
            merged.ok += row.ok;
            for (sum, n) in merged.status_classes.iter_mut().zip(row.status_classes) {
                *sum += n;
            }
            for (sum, n) in merged.errors.iter_mut().zip(errors) {
                *sum += n;
            }
            merged.p50_ms = max(merged.p50_ms, row.p50_ms);
            merged.p95_ms = max(merged.p95_ms, row.p95_ms);
            merged.p99_ms = max(merged.p99_ms, row.p99_ms);
            merged.service_p50_ms = max(merged.service_p50_ms, row.service_p50_ms);
            merged.service_p95_ms = max(merged.service_p95_ms, row.service_p95_ms);
            merged.service_p99_ms = max(merged.service_p99_ms, row.service_p99_ms);
            if merged.under.len() < row.under.len() {
                merged.under.resize(row.under.len(), 0);
            }
            for (sum, n) in merged.under.iter_mut().zip(&row.under) {
                *sum += n;
            }
        }
    }
    rows.into_values().collect()
}

/// Counts and histograms as `summary.json` saved them.
fn stats(measured: &saved::Measured) -> anyhow::Result<Stats> {
    let mut stats = Stats {
        requests: measured.requests,
        ..Stats::default()
    };
    for (code, count) in &measured.status_codes {
        let code: u16 = code
            .parse()
            .ok()
            .filter(|c| (100..=999).contains(c))
            .with_context(|| format!("status code `{code}` is not one"))?;
        stats.statuses.add_count(code, *count);
    }
    for (name, count) in &measured.errors {
        let kind = ErrorKind::ALL
            .iter()
            .find(|k| k.name() == name)
            .with_context(|| format!("unknown error kind `{name}`"))?;
        stats.errors[kind.index()] += count;
    }
    for (saved, into) in [
        (&measured.latency_histogram, &mut stats.latency_us),
        (&measured.service_time_histogram, &mut stats.service_us),
    ] {
        let histogram = crate::report::html::decode(saved)
            .context("a latency histogram is unreadable (not V2 + DEFLATE, base64)")?;
        into.add(&histogram)
            .map_err(|e| anyhow::anyhow!("a latency histogram does not fit: {e:?}"))?;
    }
    Ok(stats)
}

/// `slos.json`: the client SLOs judged again, the others as the first
/// shard that has them reported them.
fn write_slos(
    parts: &[Part],
    scenario: &scenario::Scenario,
    reports_now: &[crate::slo::SloReport],
    out: &Path,
) -> anyhow::Result<()> {
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
    let path = out.join("slos.json");
    std::fs::write(
        &path,
        crate::redact::text(&serde_json::to_string_pretty(&values)?),
    )
    .with_context(|| format!("cannot write {}", path.display()))
}
