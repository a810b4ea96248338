//! `slogate hit URL`: one endpoint, closed or open model, a report.

use std::fs::File;
use std::io::{BufWriter, Write};

use anyhow::Context;

use super::{Exit, UsageError};
use crate::cli::HitArgs;
use crate::engine::{self, RunOptions, Snapshot};
use crate::expect::{self, Expectation};
use crate::record::RunResults;
use crate::report::progress::HitProgress;
use crate::report::{Summary, Target};
use crate::telemetry::live::Live;

/// Runs `hit` and writes its report.
pub(crate) fn run(args: &HitArgs) -> anyhow::Result<Exit> {
    crate::events::init(args.telemetry.log_format.unwrap_or_default());
    let expectations = expectations(args)?;
    if args.latency_correction {
        crate::events::say(&format!(
            "note: --latency-correction changes nothing: with -q, latency is always measured from each request's due time{}",
            if args.rate.is_none() {
                " (without -q this is the closed model, with nothing to correct)"
            } else {
                ""
            }
        ));
    }
    if let Some(rate) = args.rate
        && rate.as_per_second() < args.connections as f64
    {
        crate::events::say(&format!(
            "note: -q is the total rate here ({rate} over {} connections); hey's -q is per worker: hey -c {} -q {} is -q {} here",
            args.connections,
            args.connections,
            crate::units::format_significant(rate.as_per_second()),
            crate::units::format_significant(rate.as_per_second() * args.connections as f64)
        ));
    }
    crate::redact::add_params(&args.redact);
    let mut plan = crate::cli::hit_plan::plan(args).map_err(UsageError::from)?;
    let settings = super::live::settings(&args.telemetry, &Default::default())?;
    let mut live = Live::start(&settings, "hit", &plan)?;
    plan.live_buckets_us = live.as_ref().map(|l| l.telemetry.buckets_us());
    let progress = HitProgress::new(&plan, args.no_progress || crate::events::json());
    let options = RunOptions {
        handle_signals: true,
        ..RunOptions::default()
    };
    live.as_ref().inspect(|l| l.start_run());
    let results = engine::run_phases(
        &plan,
        options,
        &mut |snapshot: &Snapshot| {
            progress.update(snapshot);
            live.as_ref().inspect(|l| l.telemetry.progress(snapshot));
        },
        &mut |rows| {
            live.as_ref().inspect(|l| l.rows(rows));
            None
        },
        &mut |phase, done| {
            let name = &plan.phases[phase].name;
            live.as_ref().inspect(|l| l.enter_phase(name, done, &[]));
            None
        },
    )?;
    progress.finish();
    live.as_ref().inspect(|l| l.settle(&results));

    let target = Target {
        url: crate::redact::url(&args.url),
        method: plan.endpoints[0].method.to_string(),
        http2: args.http2,
        expect_status: plan.endpoints[0].expect_status.clone(),
    };
    let checks = judge(&expectations, &results, target.expect_status.as_deref());
    let failed = checks.iter().any(expect::Verdict::fails_run);
    if let Some(live) = live.as_mut() {
        live.finish(&checks);
    }
    for check in &checks {
        let (outcome, measured) = (check.outcome.label(), &check.measured_text);
        crate::events::verdict(
            "hit",
            &check.check,
            &check.scope,
            outcome,
            measured,
            &check.wanted,
        );
    }
    let summary = Summary::new(&results, target).with_checks(checks);
    let renderer = args.output.renderer();
    match &args.output_file {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            let mut out = crate::redact::Writer::new(BufWriter::new(file));
            renderer.write(&summary, &mut out)?;
            out.flush()?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = crate::redact::Writer::new(stdout.lock());
            renderer.write(&summary, &mut out)?;
            out.flush()?;
        }
    }
    live.into_iter().for_each(Live::linger);
    Ok(if results.interrupted {
        Exit::Aborted
    } else if failed {
        Exit::Failed
    } else {
        Exit::Success
    })
}

/// Where the implicit expectation of every `hit` comes from.
const NONE_SUCCEEDED: &str = "default: hit fails when no request succeeded";

/// The `--expect` flags, parsed; each names its place on the command line.
pub(crate) fn expectations(args: &HitArgs) -> Result<Vec<Expectation>, UsageError> {
    args.expect
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let check = expect::parse_check(text)
                .map_err(|e| UsageError::new("--expect", format!("`{text}`: {e}")))?;
            if check.metric == expect::Metric::ChecksPassed {
                return Err(UsageError::new(
                    "--expect",
                    format!(
                        "`{text}`: `checks passed` judges a scenario's flow checks; `hit` has none"
                    ),
                ));
            }
            Ok(Expectation {
                check,
                request: None,
                flow: None,
                optional: false,
                source: format!("--expect #{}", index + 1),
            })
        })
        .collect()
}

/// Judges the expectations over the run, and the one every `hit` has: some
/// request succeeded (a run where every request was refused, reset or
/// answered 5xx must not exit 0). That one is listed when it fails, or when
/// there are others to list it with.
pub(crate) fn judge(
    expectations: &[Expectation],
    results: &RunResults,
    expect_status: Option<&[u16]>,
) -> Vec<expect::Verdict> {
    let sample = results.phases.first().map(|phase| expect::Observed {
        stats: &results.total,
        window: phase.window(),
        failures: expect::failures(&results.total, expect_status),
        checks: [0, 0],
    });
    let mut verdicts: Vec<_> = expectations
        .iter()
        .map(|e| expect::judge(e, sample.as_ref(), "run".into()))
        .collect();
    let some_success = Expectation {
        check: expect::Check {
            metric: expect::Metric::Availability,
            op: expect::Op::Gt,
            threshold: 0.0,
        },
        request: None,
        flow: None,
        optional: false,
        source: NONE_SUCCEEDED.into(),
    };
    let mut verdict = expect::judge(&some_success, sample.as_ref(), "run".into());
    verdict.check = format!("some request succeeded ({})", some_success.check);
    if verdict.fails_run() || !verdicts.is_empty() {
        verdicts.push(verdict);
    }
    verdicts
}
