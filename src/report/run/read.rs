//! A saved run's measurements read back: `summary.json`'s counts and
//! histograms as the [`RunResults`] the run had, so `merge` judges shards'
//! load as it would judge one run's.

use std::time::{Duration, UNIX_EPOCH};

use anyhow::Context;

use super::histogram;
use super::saved::{Row, SavedMeasured, SavedSummary};
use crate::record::{
    ErrorKind, OpenModelStats, Packed, PhaseResults, RunResults, Stats, StepResults, StepSchedule,
    TimelineRow,
};
use crate::units::Rate;

impl RunResults {
    /// The measurements `summary` holds. Its run-wide per-request totals are
    /// its phases' added up (the file keeps them per phase only); the
    /// bytes received are not saved and read back as 0.
    pub fn from_saved(summary: &SavedSummary) -> anyhow::Result<RunResults> {
        let names = &summary.request_names;
        let mut per_endpoint = vec![Stats::default(); names.len()];
        let mut origins = vec![String::new(); names.len()];
        let mut phases = Vec::with_capacity(summary.phases.len());
        for phase in &summary.phases {
            let context = || format!("phase {}", phase.name);
            let mut total = stats(&phase.measured).with_context(context)?;
            let mut requests = vec![Stats::default(); names.len()];
            for request in &phase.per_request {
                let i = names
                    .iter()
                    .position(|n| *n == request.name)
                    .with_context(|| format!("{}: unknown request {}", context(), request.name))?;
                requests[i].merge(&stats(&request.measured).with_context(context)?);
                if let Some(origin) = &request.origin {
                    origins[i].clone_from(origin);
                }
            }
            for (sum, stats) in per_endpoint.iter_mut().zip(&requests) {
                sum.merge(stats);
            }
            if let Some(s) = &phase.schedule {
                total.late_starts += s.late_starts;
            }
            let mut steps = Vec::with_capacity(phase.steps.len());
            for (index, step) in phase.steps.iter().enumerate() {
                let context = || format!("phase {}, step {}", phase.name, index + 1);
                let rate = |r: f64| Rate::per_second(r).with_context(context);
                steps.push(StepResults {
                    start: secs(step.start_s - phase.start_s),
                    scheduled: secs(step.scheduled_s),
                    from: rate(step.target_rate)?,
                    to: rate(step.target_rate_end)?,
                    total: Packed::pack(&stats(&step.measured).with_context(context)?),
                    failed: step.measured.failed,
                    schedule: step
                        .due
                        .zip(step.dropped)
                        .map(|(due, dropped)| StepSchedule {
                            due,
                            dropped,
                            past_cap: step.past_cap,
                        }),
                });
            }
            phases.push(PhaseResults {
                name: phase.name.clone(),
                per_endpoint: requests.iter().map(Packed::pack).collect(),
                total: Packed::pack(&total),
                start_offset: secs(phase.start_s),
                elapsed: secs(phase.duration_s),
                scheduled: phase.scheduled_s.map(secs),
                cut_short: phase.cut_short,
                connections: phase.connections,
                think: phase.think.clone(),
                open: phase.schedule.as_ref().and_then(|s| {
                    Some(OpenModelStats {
                        target_rate: Rate::per_second(s.target_rate).ok()?,
                        due: s.due,
                        started: s.started,
                        dropped: s.dropped,
                    })
                }),
                steps,
            });
        }
        let mut total = stats(&summary.run).context("the run's totals")?;
        total.late_starts = phases.iter().map(|p| p.total.late_starts).sum();
        Ok(RunResults {
            endpoint_names: names.clone(),
            endpoint_origins: origins,
            per_endpoint,
            total,
            timeline: summary.timeline.iter().map(row).collect(),
            started_at: UNIX_EPOCH + Duration::from_millis(summary.started_at_unix_ms),
            elapsed: secs(summary.duration_s),
            connections: phases.iter().map(|p| p.connections).max().unwrap_or(0),
            open: phases.first().and_then(|p| p.open.clone()),
            interrupted: summary.ending == "interrupted",
            aborted: summary.abort_reason.clone(),
            phases,
            flows: summary
                .flows
                .iter()
                .map(|flow| {
                    Ok(crate::record::FlowResults {
                        name: flow.name.clone(),
                        around: flow.run.clone(),
                        totals: crate::record::FlowTotals {
                            iterations: stats(&flow.iterations)
                                .with_context(|| format!("flow {}", flow.name))?,
                            failed: flow.iterations.failed,
                            setups: flow.setups,
                            setups_failed: flow.setups_failed,
                        },
                    })
                })
                .collect::<anyhow::Result<_>>()?,
            checks: summary
                .flows
                .iter()
                .flat_map(|flow| {
                    flow.checks.iter().map(|c| crate::record::CheckResults {
                        flow: flow.name.clone(),
                        step: format!("{}/{}", flow.name, c.step),
                        name: c.name.clone(),
                        passed: c.passed,
                        failed: c.failed,
                    })
                })
                .collect(),
        })
    }
}

fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or_default()
}

/// A timeline row as `summary.json` saved it (error kinds past those this
/// slogate knows are left out).
fn row(row: &Row) -> TimelineRow {
    let mut errors = [0; ErrorKind::COUNT];
    for (into, n) in errors.iter_mut().zip(&row.errors) {
        *into = *n;
    }
    TimelineRow {
        second: row.second,
        endpoint: row.endpoint,
        requests: row.requests,
        ok: row.ok,
        status_classes: row.status_classes,
        errors,
        p50_ms: row.p50_ms,
        p95_ms: row.p95_ms,
        p99_ms: row.p99_ms,
        service_p50_ms: row.service_p50_ms,
        service_p95_ms: row.service_p95_ms,
        service_p99_ms: row.service_p99_ms,
        under: row.under.clone(),
        buckets: None,
    }
}

/// Counts and histograms as `summary.json` saved them.
fn stats(measured: &SavedMeasured) -> anyhow::Result<Stats> {
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
        let histogram = histogram::decode(saved)
            .context("a latency histogram is unreadable (not V2 + DEFLATE, base64)")?;
        into.add(&histogram)
            .map_err(|e| anyhow::anyhow!("a latency histogram does not fit: {e:?}"))?;
    }
    Ok(stats)
}
