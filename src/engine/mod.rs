//! The load engine: runs a [`LoadPlan`] on worker threads and returns the
//! merged [`RunResults`]. The calling thread collects per-second buckets,
//! feeds the live display with snapshots, and turns Ctrl-C / SIGTERM into a
//! prompt, orderly stop.

mod pacer;
mod timer;
mod transport;
mod worker;

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use tokio::sync::{mpsc, watch};

use crate::plan::{LoadPlan, Model};
use crate::record::{Flush, OpenModelStats, Progress, RunResults, Stats, Timeline};
use pacer::Pacer;
use transport::Wire;

/// A moment of the run, for the live display.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    pub elapsed: Duration,
    /// Requests ended so far.
    pub requests: u64,
    /// Of which failed.
    pub failed: u64,
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

/// Runs `plan` to completion (or interruption) and returns what it measured.
///
/// Errors only for what prevents a run from starting (unresolvable host, no
/// threads); every failure of the target is data in the results.
pub fn run(
    plan: &LoadPlan,
    options: RunOptions,
    on_progress: &mut dyn FnMut(&Snapshot),
) -> anyhow::Result<RunResults> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the control event loop")?;
    runtime.block_on(collect(plan, options, on_progress))
}

async fn collect(
    plan: &LoadPlan,
    options: RunOptions,
    on_progress: &mut dyn FnMut(&Snapshot),
) -> anyhow::Result<RunResults> {
    let wire = Arc::new(Wire::prepare(&plan.endpoints, &plan.transport).await?);
    let workers = plan.workers.clamp(1, plan.connections.max(1));
    let (flush_tx, mut flush_rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let progress: Vec<Arc<Progress>> = (0..workers).map(|_| Arc::default()).collect();
    let ready = Arc::new(Barrier::new(workers + 1));
    let mut threads = Vec::with_capacity(workers);
    let mut starters = Vec::with_capacity(workers);
    for (index, progress) in progress.iter().enumerate() {
        let connections =
            plan.connections / workers + usize::from(index < plan.connections % workers);
        let (start_tx, start_rx) = std::sync::mpsc::channel();
        let wiring = worker::Wiring {
            progress: progress.clone(),
            flush: flush_tx.clone(),
            stop: stop_rx.clone(),
            ready: ready.clone(),
            start: start_rx,
        };
        let thread = std::thread::Builder::new()
            .name(format!("slogate-worker-{index}"))
            .spawn(move || worker::run(index, connections, wiring))
            .context("cannot start a worker thread")?;
        threads.push(thread);
        starters.push(start_tx);
    }
    ready.wait();
    // The clock starts once every event loop is up.
    let started_at = SystemTime::now();
    let run_start = Instant::now();
    let shared = Arc::new(worker::Shared {
        pacer: Pacer::new(
            &plan.model,
            &plan.endpoints,
            plan.max_requests,
            plan.duration,
            run_start,
        ),
        wire,
        request_timeout: plan.transport.request_timeout,
        run_start,
        endpoints: plan.endpoints.len(),
    });
    for starter in starters {
        // A worker whose event loop failed has gone; its error surfaces at join.
        let _ = starter.send(shared.clone());
    }
    drop(flush_tx);

    let mut timeline = Timeline::new(workers, plan.endpoints.len());
    let mut per_endpoint = vec![Stats::default(); plan.endpoints.len()];
    let mut started = 0u64;
    let mut interrupted_at: Option<Instant> = None;
    let mut ticker = tokio::time::interval(options.progress_every);
    let signal = wait_for_signal(options.handle_signals);
    tokio::pin!(signal);
    loop {
        tokio::select! {
            message = flush_rx.recv() => match message {
                Some(Flush::Second { worker, second, buckets, closed_through }) => {
                    timeline.add(worker, second, &buckets, closed_through);
                }
                Some(Flush::Done { totals, started: worker_started, .. }) => {
                    for (mine, theirs) in per_endpoint.iter_mut().zip(&totals) {
                        mine.merge(theirs);
                    }
                    started += worker_started;
                }
                // Every worker has finished and dropped its sender.
                None => break,
            },
            _ = &mut signal, if interrupted_at.is_none() => {
                interrupted_at = Some(Instant::now());
                let _ = stop_tx.send(true);
            }
            _ = ticker.tick() => on_progress(&snapshot(run_start, &progress)),
        }
    }
    let finished = Instant::now();
    for thread in threads {
        match thread.join() {
            Ok(result) => result.context("a worker thread could not start its event loop")?,
            Err(_) => anyhow::bail!("a worker thread panicked; this is a bug in slogate"),
        }
    }
    on_progress(&snapshot(run_start, &progress));

    let end = interrupted_at.unwrap_or(finished);
    let mut total = Stats::default();
    for stats in &per_endpoint {
        total.merge(stats);
    }
    let open = open_model_stats(plan, &shared.pacer, run_start, end, started);
    Ok(RunResults {
        endpoint_names: plan.endpoints.iter().map(|e| e.name.clone()).collect(),
        per_endpoint,
        total,
        timeline: timeline.finish(),
        started_at,
        elapsed: end - run_start,
        connections: plan.connections,
        open,
        interrupted: interrupted_at.is_some(),
    })
}

fn snapshot(run_start: Instant, progress: &[Arc<Progress>]) -> Snapshot {
    use std::sync::atomic::Ordering::Relaxed;
    Snapshot {
        elapsed: run_start.elapsed(),
        requests: progress.iter().map(|p| p.requests.load(Relaxed)).sum(),
        failed: progress.iter().map(|p| p.failed.load(Relaxed)).sum(),
    }
}

/// How the open model kept to its schedule over `[run_start, end)`.
fn open_model_stats(
    plan: &LoadPlan,
    pacer: &Pacer,
    run_start: Instant,
    end: Instant,
    started: u64,
) -> Option<OpenModelStats> {
    let Model::Open(_) = plan.model else {
        return None;
    };
    let arrivals = pacer.arrivals()?;
    let sending_ended = pacer.deadline().map_or(end, |deadline| deadline.min(end));
    let span = (sending_ended - run_start).min(arrivals.duration());
    let mut due = arrivals.due_before(span);
    if let Some(max) = plan.max_requests {
        due = due.min(max);
    }
    Some(OpenModelStats {
        target_rate: arrivals.mean_rate()?,
        due,
        started,
        dropped: due.saturating_sub(started),
    })
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
