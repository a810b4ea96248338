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

use super::pacer::Pacer;
use super::timer::PreciseSleep;
use super::transport::{Client, Wire};
use crate::record::{ErrorKind, Flush, Outcome, Progress, Recorder, Sample};

/// What all workers share, read-only.
pub struct Shared {
    pub pacer: Pacer,
    pub wire: Arc<Wire>,
    pub request_timeout: Duration,
    pub run_start: Instant,
    pub endpoints: usize,
}

/// How a worker is wired to the control thread.
pub struct Wiring {
    pub progress: Arc<Progress>,
    pub flush: UnboundedSender<Flush>,
    pub stop: watch::Receiver<bool>,
    /// Every worker and the control thread meet here once their event loops
    /// exist, so thread start-up is not charged to the first requests.
    pub ready: Arc<Barrier>,
    /// The run, sent once the clock has started.
    pub start: std_mpsc::Receiver<Arc<Shared>>,
}

/// Runs one worker to completion (or until `stop` turns true), then hands its
/// totals to the collector.
pub fn run(worker: usize, connections: usize, wiring: Wiring) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    wiring.ready.wait();
    let runtime = runtime?;
    let Ok(shared) = wiring.start.recv() else {
        // The control thread gave up before starting the run.
        return Ok(());
    };
    let (progress, flush, mut stop) = (wiring.progress, wiring.flush, wiring.stop);
    let local = LocalSet::new();
    let recorder = Rc::new(RefCell::new(Recorder::new(
        worker,
        shared.endpoints,
        shared.run_start,
        progress,
        flush,
    )));
    local.block_on(&runtime, async {
        let mut connections_set = JoinSet::new();
        for _ in 0..connections {
            connections_set.spawn_local(connection(shared.clone(), recorder.clone()));
        }
        let ticker =
            tokio::task::spawn_local(tick_every_second(shared.run_start, recorder.clone()));
        let all_done = async { while connections_set.join_next().await.is_some() {} };
        tokio::select! {
            _ = all_done => {}
            _ = stop.wait_for(|stopped| *stopped) => {}
        }
        // Stopped by a signal: requests in flight are abandoned, not recorded.
        connections_set.abort_all();
        ticker.abort();
    });
    drop(local);
    recorder.borrow_mut().finish();
    Ok(())
}

/// One connection slot: claim a request, wait until it is due, send it,
/// record it; until the pacer has no more.
async fn connection(shared: Arc<Shared>, recorder: Rc<RefCell<Recorder>>) {
    let mut client = Client::new(&shared.wire);
    let mut sleep = PreciseSleep::new();
    let mut timeout = LazyTimeout::new(shared.request_timeout);
    while let Some(ticket) = shared.pacer.claim(Instant::now()) {
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
        recorder.borrow_mut().note_started();
        let deadline = started + shared.request_timeout;
        let result = timeout
            .run(deadline, client.send(&shared.wire, ticket.endpoint))
            .await;
        let ended = Instant::now();
        let (outcome, bytes_received) = match result {
            Ok(Ok(response)) => (
                Outcome::Response {
                    status: response.status,
                },
                response.bytes_received,
            ),
            Ok(Err(kind)) => (Outcome::Error(kind), 0),
            Err(TimedOut) => {
                client.reset();
                (Outcome::Error(ErrorKind::RequestTimeout), 0)
            }
        };
        recorder.borrow_mut().record(&Sample {
            endpoint: ticket.endpoint,
            intended,
            started,
            ended,
            outcome,
            bytes_received,
        });
    }
}

/// A per-request timeout that does not touch the timer wheel per request.
///
/// `tokio::time::timeout` registers a timer entry (under the driver's lock)
/// for every request and removes it after. Deadlines on one connection only
/// move forward, so one timer per connection is enough: when it fires before
/// the current request's deadline it is re-armed to that deadline. It then
/// fires about once per timeout period, not once per request.
struct LazyTimeout {
    timer: std::pin::Pin<Box<tokio::time::Sleep>>,
    /// The per-request limit; the timer never points past now + this, so it
    /// is never later than the next request's deadline.
    limit: Duration,
}

/// The request's deadline passed.
struct TimedOut;

impl LazyTimeout {
    fn new(timeout: Duration) -> LazyTimeout {
        LazyTimeout {
            timer: Box::pin(tokio::time::sleep(timeout)),
            limit: timeout,
        }
    }

    async fn run<F: std::future::Future>(
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
