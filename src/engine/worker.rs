//! A worker thread: its own single-threaded event loop, its own recorder, and
//! a share of the connections. Connections on one worker share the recorder
//! through `Rc<RefCell<_>>`: same thread, so no lock.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::watch;
use tokio::task::{JoinSet, LocalSet};

use super::flow::Slot;
use super::pacer::Pacer;
use super::timer::PreciseSleep;
use super::transport::{Client, Wire};
use crate::plan::Sendable;
use crate::record::{ErrorKind, Flush, Outcome, Progress, Recorder, RequestSample, SuccessTable};

/// What all workers share during one phase, read-only.
pub(crate) struct Shared {
    pub index: usize,
    pub pacer: Pacer,
    pub wire: Arc<Wire>,
    pub request_timeout: Duration,
    pub run_start: Instant,
    /// Per endpoint, which statuses succeed.
    pub success: Arc<Vec<SuccessTable>>,
    /// Connections each worker runs in this phase.
    pub connections: Vec<usize>,
    /// Closed model: pause after each response.
    pub think: crate::plan::Think,
    /// When each step of the schedule after the first begins: empty for a
    /// schedule of one step and the closed model, so their requests pay one
    /// branch for steps and nothing more.
    pub step_boundaries: Arc<[Instant]>,
    /// The plan's flows and their steps' checks.
    pub flows: Arc<Vec<crate::plan::Flow>>,
    pub checks: Arc<Vec<crate::plan::StepCheck>>,
}

/// How a worker is wired to the control thread.
pub(crate) struct Wiring {
    pub progress: Arc<Progress>,
    pub flush: UnboundedSender<Flush>,
    pub stop: watch::Receiver<bool>,
    /// Every worker and the control thread meet here once their event loops
    /// exist, so thread start-up is not charged to the first requests.
    pub ready: Arc<Barrier>,
    /// Each phase, sent when it starts; closed when the run is over.
    pub phases: std_mpsc::Receiver<Arc<Shared>>,
}

/// Runs one worker: every phase the control thread sends, on connections
/// kept from one phase to the next, until the channel closes or `stop` turns
/// true; reports each phase's totals and the last timeline bucket.
pub(crate) fn run(worker: usize, wiring: Wiring) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    wiring.ready.wait();
    let runtime = runtime?;
    let Wiring {
        progress,
        flush,
        mut stop,
        phases,
        ..
    } = wiring;
    let Ok(first) = phases.recv() else {
        // The control thread gave up before starting the run.
        return Ok(());
    };
    let local = LocalSet::new();
    let recorder = Rc::new(RefCell::new(Recorder::new(
        worker,
        first.success.clone(),
        (first.flows.len(), first.checks.len()),
        first.run_start,
        progress,
        flush,
    )));
    let ticker = local.spawn_local(tick_every_second(first.run_start, recorder.clone()));
    let mut clients: Vec<Slot> = Vec::new();
    let mut phase = Some(first);
    while let Some(shared) = phase.take() {
        let connections = shared.connections[worker];
        recorder
            .borrow_mut()
            .start_phase(shared.step_boundaries.clone());
        while clients.len() < connections {
            let seed = ((worker as u64) << 32) | clients.len() as u64;
            clients.push(Slot::new(Client::new(&shared.wire, seed)));
        }
        let stopped = local.block_on(&runtime, async {
            let mut set = JoinSet::new();
            for client in clients.drain(..connections) {
                set.spawn_local(connection(shared.clone(), recorder.clone(), client));
            }
            let mut stopped = false;
            loop {
                tokio::select! {
                    joined = set.join_next() => match joined {
                        Some(Ok(client)) => clients.push(client),
                        // A connection task cannot panic but for a bug; its
                        // slot is lost, the phase goes on.
                        Some(Err(_)) => {}
                        None => break,
                    },
                    _ = stop.wait_for(|stopped| *stopped), if !stopped => {
                        // Requests in flight are abandoned, not recorded.
                        stopped = true;
                        set.abort_all();
                    }
                }
            }
            stopped
        });
        recorder.borrow_mut().phase_done(shared.index);
        if stopped {
            break;
        }
        phase = phases.recv().ok();
    }
    ticker.abort();
    drop(local);
    recorder.borrow_mut().finish();
    Ok(())
}

/// One connection slot: claim a request, wait until it is due, send it,
/// record it; until the pacer has no more.
async fn connection(shared: Arc<Shared>, recorder: Rc<RefCell<Recorder>>, mut slot: Slot) -> Slot {
    let mut sleep = PreciseSleep::new();
    let mut timeout = LazyTimeout::new(shared.request_timeout);
    while let Some(ticket) = shared.pacer.claim(Instant::now()) {
        if !shared.step_boundaries.is_empty()
            && let Some(due) = ticket.due
        {
            recorder.borrow_mut().note_claimed(due);
        }
        let endpoint = match ticket.sends {
            Sendable::Request(endpoint) => endpoint,
            Sendable::Flow(flow) => {
                recorder.borrow_mut().note_started(ticket.due);
                super::flow::iteration(
                    &shared,
                    &recorder,
                    &mut slot,
                    flow,
                    ticket.due,
                    &mut sleep,
                    &mut timeout,
                )
                .await;
                let think = shared.flows[flow].think;
                let think = if think.is_zero() { shared.think } else { think };
                if ticket.due.is_none() && !think.is_zero() {
                    tokio::time::sleep(think.sample(&slot.client.think_rng)).await;
                }
                continue;
            }
        };
        let client = &mut slot.client;
        let (intended, started) = match ticket.due {
            Some(due) => {
                sleep.until(due).await;
                (due, Instant::now())
            }
            None => {
                let now = Instant::now();
                (now, now)
            }
        };
        {
            let mut recorder = recorder.borrow_mut();
            recorder.note_started(ticket.due);
            recorder.note_sent();
        }
        let deadline = started + shared.request_timeout;
        let result = timeout
            .run(deadline, client.send(&shared.wire, endpoint))
            .await;
        let ended = Instant::now();
        let (outcome, bytes_received) = outcome(result, client, &shared.wire, endpoint);
        recorder.borrow_mut().record(&RequestSample {
            endpoint,
            intended,
            started,
            ended,
            outcome,
            bytes_received,
        });
        if !shared.think.is_zero() {
            tokio::time::sleep(shared.think.sample(&client.think_rng)).await;
        }
    }
    slot
}

/// What an exchange for `endpoint` came to, and the body bytes it
/// received; a timed-out exchange also drops its connection.
#[inline]
pub(crate) fn outcome(
    result: Result<Result<super::transport::Response, ErrorKind>, TimedOut>,
    client: &mut Client,
    wire: &Wire,
    endpoint: usize,
) -> (Outcome, u64) {
    match result {
        Ok(Ok(response)) => (
            Outcome::Response {
                status: response.status,
            },
            response.bytes_received,
        ),
        Ok(Err(kind)) => (Outcome::Error(kind), 0),
        Err(TimedOut) => {
            client.reset(wire, endpoint);
            (Outcome::Error(ErrorKind::RequestTimeout), 0)
        }
    }
}

/// A per-request timeout that does not touch the timer wheel per request.
///
/// `tokio::time::timeout` registers a timer entry (under the driver's lock)
/// for every request and removes it after. Deadlines on one connection only
/// move forward, so one timer per connection is enough: when it fires before
/// the current request's deadline it is re-armed to that deadline. It then
/// fires about once per timeout period, not once per request.
pub(crate) struct LazyTimeout {
    timer: std::pin::Pin<Box<tokio::time::Sleep>>,
    /// The per-request limit; the timer never points past now + this, so it
    /// is never later than the next request's deadline.
    limit: Duration,
}

/// The request's deadline passed.
pub(crate) struct TimedOut;

impl LazyTimeout {
    fn new(timeout: Duration) -> LazyTimeout {
        LazyTimeout {
            timer: Box::pin(tokio::time::sleep(timeout)),
            limit: timeout,
        }
    }

    pub(crate) async fn run<F: std::future::Future>(
        &mut self,
        deadline: Instant,
        future: F,
    ) -> Result<F::Output, TimedOut> {
        tokio::pin!(future);
        loop {
            tokio::select! {
                biased;
                output = &mut future => return Ok(output),
                _ = &mut self.timer => {
                    if Instant::now() >= deadline {
                        self.timer.as_mut().reset((Instant::now() + self.limit).into());
                        return Err(TimedOut);
                    }
                    self.timer.as_mut().reset(deadline.into());
                }
            }
        }
    }
}

async fn tick_every_second(run_start: Instant, recorder: Rc<RefCell<Recorder>>) {
    let first = run_start + Duration::from_secs(1);
    let mut interval = tokio::time::interval_at(first.into(), Duration::from_secs(1));
    loop {
        interval.tick().await;
        recorder.borrow_mut().tick(Instant::now());
    }
}
