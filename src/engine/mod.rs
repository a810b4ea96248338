//! The load engine: runs a [`LoadPlan`] on worker threads and returns the
//! merged [`RunResults`]. The calling thread collects per-second buckets,
//! feeds the live display with snapshots, and turns Ctrl-C / SIGTERM into a
//! prompt, orderly stop.

mod flow;
mod pacer;
mod phase_results;
mod timer;
pub(crate) mod transport;
mod worker;

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use tokio::sync::{mpsc, watch};

use crate::plan::{LoadPlan, Sendable};
use crate::record::{
    Flush, Packed, PhaseResults, Progress, RunResults, Stats, StepSums, Timeline, TimelineRow,
};
use pacer::Pacer;
use phase_results::{open_model_stats, step_results};
use transport::Wire;

/// A moment of the run, for the live display.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    pub elapsed: Duration,
    /// Requests ended so far.
    pub requests: u64,
    /// Of which failed.
    pub failed: u64,
    /// Requests sent so far (those not yet ended are in flight).
    pub started: u64,
    /// What the schedule handed out and was sent so far: requests, or
    /// flows' iterations (the open model's due times are theirs).
    pub tickets: u64,
    /// How far the open model's sending is behind its schedule: now, less
    /// the due time of the oldest request due and not yet sent (zero when
    /// on time, and in the closed model).
    pub lag: Duration,
}

/// How the engine is driven from outside.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Stop on Ctrl-C / SIGTERM (the CLI) rather than leave signals alone (tests).
    pub handle_signals: bool,
    /// How often the progress callback is called.
    pub progress_every: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            handle_signals: false,
            progress_every: Duration::from_millis(100),
        }
    }
}

/// Called with each batch of finished timeline rows, and with none at
/// every progress tick; returns why the run must stop (an abort condition
/// held), or None to go on.
pub type OnSecond<'a> = &'a mut dyn FnMut(&[TimelineRow]) -> Option<String>;

/// Called as each phase starts, with its index and the results of the
/// phases before it, just before its first request is due (the scenario
/// checks its steady state and switches faults here); returns why the
/// run must stop before this phase, or None to go on.
pub type OnPhase<'a> = &'a mut dyn FnMut(usize, &[PhaseResults]) -> Option<String>;

/// Runs `plan` to completion (or interruption, or abort) and returns what it
/// measured.
///
/// Errors only for what prevents a run from starting (unresolvable host, no
/// threads); every failure of the target is data in the results.
pub fn run(
    plan: &LoadPlan,
    options: RunOptions,
    on_progress: &mut dyn FnMut(&Snapshot),
    on_second: OnSecond,
) -> anyhow::Result<RunResults> {
    run_phases(plan, options, on_progress, on_second, &mut |_, _| None)
}

/// [`run`], calling `on_phase` as each phase starts.
pub fn run_phases(
    plan: &LoadPlan,
    options: RunOptions,
    on_progress: &mut dyn FnMut(&Snapshot),
    on_second: OnSecond,
    on_phase: OnPhase,
) -> anyhow::Result<RunResults> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the control event loop")?;
    runtime.block_on(collect(plan, options, on_progress, on_second, on_phase))
}

/// Splits `connections` over `workers` as evenly as possible.
fn split(connections: usize, workers: usize) -> Vec<usize> {
    (0..workers)
        .map(|index| connections / workers + usize::from(index < connections % workers))
        .collect()
}

async fn collect(
    plan: &LoadPlan,
    options: RunOptions,
    on_progress: &mut dyn FnMut(&Snapshot),
    on_second: OnSecond<'_>,
    on_phase: OnPhase<'_>,
) -> anyhow::Result<RunResults> {
    anyhow::ensure!(!plan.phases.is_empty(), "the plan has no phase");
    for phase in &plan.phases {
        anyhow::ensure!(
            !phase.mix.is_empty()
                && phase.mix.iter().all(|s| match s.sends {
                    Sendable::Request(endpoint) => endpoint < plan.endpoints.len(),
                    Sendable::Flow(flow) => flow < plan.flows.len(),
                }),
            "phase `{}` has no request to send",
            phase.name
        );
    }
    let wire = Arc::new(Wire::prepare(&plan.endpoints, &plan.transport).await?);
    let workers = plan.workers.clamp(1, plan.connections());
    let (flush_tx, mut flush_rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let progress: Vec<Arc<Progress>> = (0..workers).map(|_| Arc::default()).collect();
    let ready = Arc::new(Barrier::new(workers + 1));
    let mut threads = Vec::with_capacity(workers);
    let mut starters = Vec::with_capacity(workers);
    for (index, progress) in progress.iter().enumerate() {
        let (phase_tx, phase_rx) = std::sync::mpsc::channel();
        let wiring = worker::Wiring {
            progress: progress.clone(),
            flush: flush_tx.clone(),
            stop: stop_rx.clone(),
            ready: ready.clone(),
            phases: phase_rx,
        };
        let thread = std::thread::Builder::new()
            .name(format!("slogate-worker-{index}"))
            .spawn(move || worker::run(index, wiring))
            .context("cannot start a worker thread")?;
        threads.push(thread);
        starters.push(phase_tx);
    }
    drop(flush_tx);
    ready.wait();
    // The clock starts once every event loop is up.
    let started_at = SystemTime::now();
    let run_start = Instant::now();

    let endpoints = plan.endpoints.len();
    let success: Arc<Vec<_>> = Arc::new(
        plan.endpoints
            .iter()
            .map(|e| crate::record::success_table(e.expect_status.as_deref()))
            .collect(),
    );
    let thresholds = plan
        .latency_thresholds
        .iter()
        .map(|d| d.as_micros() as u64)
        .collect();
    let mut timeline =
        Timeline::new(workers, endpoints, thresholds).with_buckets(plan.live_buckets_us.clone());
    // The phases' flows, then `before` and `after` flows (as plan::compile
    // numbers them).
    let flows = Arc::new(
        plan.flows
            .iter()
            .chain(&plan.before)
            .chain(&plan.after)
            .cloned()
            .collect::<Vec<_>>(),
    );
    let stages = stages(plan);
    let checks = Arc::new(plan.checks.clone());
    let mut run_flows = vec![crate::record::FlowTotals::default(); flows.len()];
    let mut run_checks = vec![[0u64; 2]; plan.checks.len()];
    let mut reported_rows = 0;
    let mut phases = Vec::with_capacity(plan.phases.len());
    // The run's totals, added up as each phase ends (its own are packed).
    let mut run_per_endpoint = vec![Stats::default(); endpoints];
    let mut interrupted_at: Option<Instant> = None;
    let mut aborted: Option<(String, Instant)> = None;
    let mut ticker = tokio::time::interval(options.progress_every);
    let signal = wait_for_signal(options.handle_signals);
    tokio::pin!(signal);
    let mut channel_open = true;
    let mut worker_lost = false;
    for stage in &stages {
        if interrupted_at.is_some() || aborted.is_some() || !channel_open {
            break;
        }
        let (index, phase) = match stage {
            Stage::Phase(index) => (*index, &plan.phases[*index]),
            Stage::Around(phase) => (usize::MAX, phase),
        };
        if let Stage::Phase(index) = stage
            && let Some(reason) = on_phase(*index, &phases)
        {
            aborted = Some((reason, Instant::now()));
            break;
        }
        let phase_start = Instant::now();
        let tickets_before = snapshot(run_start, &progress).tickets;
        let pacer = Pacer::new(
            &phase.model,
            &phase.mix,
            match stage {
                Stage::Phase(_) => plan.shard,
                Stage::Around(_) => None,
            },
            phase.max_requests,
            phase.duration,
            phase_start,
        );
        let shared = Arc::new(worker::Shared {
            index,
            step_boundaries: pacer.step_boundaries().into(),
            pacer,
            wire: wire.clone(),
            request_timeout: plan.transport.request_timeout,
            run_start,
            success: success.clone(),
            connections: split(phase.connections, workers),
            think: phase.think,
            flows: flows.clone(),
            checks: checks.clone(),
        });
        for starter in &starters {
            // A worker whose event loop failed has gone; its error surfaces at join.
            let _ = starter.send(shared.clone());
        }
        let mut per_endpoint = vec![Stats::default(); endpoints];
        // The workers' totals per step, added up as each step ends.
        let mut steps = StepSums::default();
        let mut started = 0u64;
        let mut done = 0;
        while done < workers {
            tokio::select! {
                message = flush_rx.recv() => match message {
                    Some(Flush::Second { worker, second, buckets, closed_through }) => {
                        timeline.add(worker, second, &buckets, closed_through);
                        let rows = &timeline.rows()[reported_rows..];
                        reported_rows = timeline.rows().len();
                        if aborted.is_none() && let Some(reason) = on_second(rows) {
                            aborted = Some((reason, Instant::now()));
                            let _ = stop_tx.send(true);
                        }
                    }
                    Some(Flush::Step(totals)) => steps.add(&totals),
                    Some(Flush::PhaseDone { totals, flows: worker_flows, checks: worker_checks, started: worker_started, .. }) => {
                        for (mine, theirs) in per_endpoint.iter_mut().zip(&totals) {
                            mine.merge(theirs);
                        }
                        for (mine, theirs) in run_flows.iter_mut().zip(&worker_flows) {
                            mine.merge(theirs);
                        }
                        for (mine, theirs) in run_checks.iter_mut().zip(&worker_checks) {
                            mine[0] += theirs[0];
                            mine[1] += theirs[1];
                        }
                        started += worker_started;
                        done += 1;
                    }
                    // Every worker has gone.
                    None => {
                        channel_open = false;
                        break;
                    }
                },
                _ = &mut signal, if interrupted_at.is_none() => {
                    interrupted_at = Some(Instant::now());
                    let _ = stop_tx.send(true);
                }
                _ = ticker.tick() => {
                    let mut now = snapshot(run_start, &progress);
                    now.lag = schedule_lag(
                        &shared.pacer,
                        phase_start,
                        now.tickets.saturating_sub(tickets_before),
                        Instant::now(),
                    );
                    on_progress(&now);
                    // Conditions watched off the timeline (the service's
                    // side) are asked between seconds too.
                    if aborted.is_none() && let Some(reason) = on_second(&[]) {
                        aborted = Some((reason, Instant::now()));
                        let _ = stop_tx.send(true);
                    }
                    // A worker gone mid-phase (its event loop failed to
                    // start, or a bug) would never report: stop, don't hang.
                    // After a stop, workers end on purpose, having reported.
                    let stopping = *stop_tx.borrow();
                    if !stopping && threads.iter().any(std::thread::JoinHandle::is_finished) {
                        worker_lost = true;
                        let _ = stop_tx.send(true);
                        break;
                    }
                }
            }
        }
        if worker_lost {
            break;
        }
        let stopped_at = interrupted_at.or(aborted.as_ref().map(|(_, at)| *at));
        // An open-model phase's last request is due just before its end; the
        // phase still lasts its whole duration, so the next starts on time.
        if stopped_at.is_none()
            && let Some(deadline) = shared.pacer.deadline()
        {
            tokio::time::sleep_until(deadline.into()).await;
        }
        let phase_end = stopped_at.unwrap_or_else(Instant::now).max(phase_start);
        if let Stage::Around(_) = stage {
            // A `before`/`after` flow: its requests are the run's, not a
            // phase's (and not in the run's totals: see Role).
            for (stats, run) in per_endpoint.iter().zip(&mut run_per_endpoint) {
                run.merge(stats);
            }
            continue;
        }
        let mut total = Stats::default();
        for ((stats, run), endpoint) in per_endpoint
            .iter()
            .zip(&mut run_per_endpoint)
            .zip(&plan.endpoints)
        {
            if endpoint.role.counts_in_totals() {
                total.merge(stats);
            }
            run.merge(stats);
        }
        phases.push(PhaseResults {
            name: phase.name.clone(),
            open: open_model_stats(phase, &shared.pacer, phase_start, phase_end, started),
            per_endpoint: per_endpoint.iter().map(Packed::pack).collect(),
            total: Packed::pack(&total),
            start_offset: phase_start - run_start,
            elapsed: phase_end - phase_start,
            scheduled: phase.duration,
            cut_short: stopped_at.is_some(),
            connections: phase.connections,
            think: (!phase.think.is_zero()).then(|| phase.think.to_string()),
            steps: step_results(phase, &shared.pacer, &steps, phase_start, phase_end),
        });
    }
    // Closing the phase channels ends the workers; drain their last buckets.
    drop(starters);
    while let Some(message) = flush_rx.recv().await {
        if let Flush::Second {
            worker,
            second,
            buckets,
            closed_through,
        } = message
        {
            timeline.add(worker, second, &buckets, closed_through);
        }
    }
    let finished = Instant::now();
    for thread in threads {
        match thread.join() {
            Ok(result) => result.context("a worker thread could not start its event loop")?,
            Err(_) => anyhow::bail!("a worker thread panicked; this is a bug in slogate"),
        }
    }
    anyhow::ensure!(
        !worker_lost,
        "a worker thread stopped during the run; this is a bug in slogate"
    );
    on_progress(&snapshot(run_start, &progress));

    let end = interrupted_at
        .or(aborted.as_ref().map(|(_, at)| *at))
        .unwrap_or(finished);
    let per_endpoint = run_per_endpoint;
    let mut total = Stats::default();
    for (stats, endpoint) in per_endpoint.iter().zip(&plan.endpoints) {
        if endpoint.role.counts_in_totals() {
            total.merge(stats);
        }
    }
    Ok(RunResults {
        endpoint_names: plan.endpoints.iter().map(|e| e.name.clone()).collect(),
        endpoint_origins: plan.endpoints.iter().map(|e| e.origin()).collect(),
        per_endpoint,
        total,
        timeline: timeline.finish(),
        started_at,
        elapsed: end - run_start,
        connections: plan.connections(),
        open: phases.first().and_then(|p| p.open.clone()),
        interrupted: interrupted_at.is_some(),
        aborted: aborted.map(|(reason, _)| reason),
        phases,
        flows: flows
            .iter()
            .zip(run_flows)
            .enumerate()
            .map(|(index, (flow, totals))| crate::record::FlowResults {
                name: flow.name.clone(),
                around: around_of(plan, index),
                totals,
            })
            .collect(),
        checks: plan
            .checks
            .iter()
            .zip(run_checks)
            .map(|(check, [passed, failed])| crate::record::CheckResults {
                flow: flows
                    .get(check.flow)
                    .map_or_else(String::new, |f| f.name.clone()),
                step: plan.endpoints[check.endpoint].name.clone(),
                name: check.check.name.clone(),
                passed,
                failed,
            })
            .collect(),
    })
}

/// What the workers run, in order: each `before` flow once, the phases,
/// each `after` flow once (not after an abort or a signal, which end the
/// loop). With `--shard i/N` only shard 1 runs `before` and `after`.
enum Stage {
    Phase(usize),
    Around(crate::plan::PhasePlan),
}

/// `before` or `after` for flow `index` of the phases' flows, then
/// `before`, then `after` flows; None for the phases' own.
fn around_of(plan: &LoadPlan, index: usize) -> Option<String> {
    let before = plan.flows.len();
    let after = before + plan.before.len();
    match index {
        i if i < before => None,
        i if i < after => Some("before".into()),
        _ => Some("after".into()),
    }
}

fn stages(plan: &LoadPlan) -> Vec<Stage> {
    let around = |flow: usize, name: &str| {
        Stage::Around(crate::plan::PhasePlan {
            name: name.to_string(),
            model: crate::plan::Model::Closed,
            connections: 1,
            max_requests: Some(1),
            duration: None,
            think: crate::plan::Think::default(),
            mix: vec![crate::plan::Share {
                sends: Sendable::Flow(flow),
                weight: 1,
            }],
        })
    };
    let runs_around = plan.shard.is_none_or(|s| s.index == 1);
    let first_before = plan.flows.len();
    let first_after = first_before + plan.before.len();
    let mut out = Vec::new();
    if runs_around {
        out.extend((0..plan.before.len()).map(|i| around(first_before + i, "before")));
    }
    out.extend((0..plan.phases.len()).map(Stage::Phase));
    if runs_around {
        out.extend((0..plan.after.len()).map(|i| around(first_after + i, "after")));
    }
    out
}

fn snapshot(run_start: Instant, progress: &[Arc<Progress>]) -> Snapshot {
    use std::sync::atomic::Ordering::Relaxed;
    Snapshot {
        elapsed: run_start.elapsed(),
        requests: progress.iter().map(|p| p.requests.load(Relaxed)).sum(),
        failed: progress.iter().map(|p| p.failed.load(Relaxed)).sum(),
        started: progress.iter().map(|p| p.started.load(Relaxed)).sum(),
        tickets: progress.iter().map(|p| p.tickets.load(Relaxed)).sum(),
        lag: Duration::ZERO,
    }
}

/// How far `pacer`'s phase, started at `phase_start`, is behind its
/// schedule at `now` with `sent` of its tickets sent.
fn schedule_lag(pacer: &Pacer, phase_start: Instant, sent: u64, now: Instant) -> Duration {
    let Some(arrivals) = pacer.arrivals() else {
        return Duration::ZERO;
    };
    let elapsed = now.saturating_duration_since(phase_start);
    if arrivals.due_before(elapsed) <= sent {
        return Duration::ZERO;
    }
    arrivals
        .due(sent)
        .map_or(Duration::ZERO, |due| elapsed.saturating_sub(due))
}

async fn wait_for_signal(enabled: bool) {
    if !enabled {
        return std::future::pending().await;
    }
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
