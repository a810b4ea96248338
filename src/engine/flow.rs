//! One virtual user's run of a flow: its session (variables, cookie jar,
//! whether setup ran) and one iteration, step by step. Each step is timed
//! as a request is, from when it was due: the first step from the
//! schedule's due time (open model) or now (closed), each later one from
//! when the step before it answered plus its think time, so a stall in one
//! step shows in the steps after it as in a user's wait (coordinated
//! omission, per step).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

use super::timer::PreciseSleep;
use super::transport::Client;
use super::worker::{LazyTimeout, Shared};
use crate::flow::{Jar, Response, ResponseView};
use crate::plan::FlowStep;
use crate::record::{ErrorKind, Outcome, Recorder, RequestSample};

/// A connection slot: its connections and, per flow it has run, the
/// virtual user's session. Kept from one phase to the next.
pub(crate) struct Slot {
    pub client: Client,
    sessions: Vec<Option<Session>>,
}

/// What a virtual user keeps between a flow's iterations.
struct Session {
    /// By slot: setup's variables live for the user, the others for one
    /// iteration.
    vars: Vec<String>,
    jar: Option<Jar>,
    set_up: bool,
}

impl StepEnd {
    /// An iteration of flow `flow` that was due at `due` and ended here,
    /// as the flow's totals record it.
    fn spanning(&self, flow: usize, due: Instant) -> RequestSample {
        RequestSample {
            endpoint: flow,
            intended: due,
            started: due,
            ended: self.ended,
            outcome: self.outcome,
            bytes_received: 0,
        }
    }
}

impl Slot {
    pub(crate) fn new(client: Client) -> Slot {
        Slot {
            client,
            sessions: Vec::new(),
        }
    }
}

/// How a step ended, for what follows it.
struct StepEnd {
    ended: Instant,
    ok: bool,
    outcome: Outcome,
    /// When the next step is due: the end plus the step's think.
    next_due: Instant,
    /// The phase's end came before the next step was due: the rest was
    /// not sent, and the iteration is neither a pass nor a failure.
    cut: bool,
}

/// Runs one iteration of flow `index` (after the user's setup, the first
/// time), due at `due` (None: now, the closed model). Every step is
/// recorded; so is the iteration, as the flow's.
pub(crate) async fn iteration(
    shared: &Shared,
    recorder: &Rc<RefCell<Recorder>>,
    slot: &mut Slot,
    index: usize,
    due: Option<Instant>,
    sleep: &mut PreciseSleep,
    timeout: &mut LazyTimeout,
) {
    let flow = &shared.flows[index];
    if slot.sessions.len() <= index {
        slot.sessions.resize_with(index + 1, || None);
    }
    let session = slot.sessions[index].get_or_insert_with(|| Session {
        vars: vec![String::new(); flow.vars],
        jar: flow.cookies.then(Jar::default),
        set_up: flow.setup.is_empty(),
    });
    let mut first_due = due.unwrap_or_else(Instant::now);
    if !session.set_up {
        // Setup once per user (its first step due when the iteration
        // was); if it fails, the user has no iteration now and sets up
        // again the next time. The iteration is timed from setup's end
        // (and its last step's think).
        let end = steps(
            shared,
            recorder,
            &mut slot.client,
            session,
            &flow.setup,
            first_due,
            sleep,
            timeout,
        )
        .await;
        let mut recorder = recorder.borrow_mut();
        match end {
            // Cut by the phase's end: set up again next time.
            Some(end) if end.cut => return,
            // The iteration that could not run is a failed one: a gate on
            // the flow sees users who cannot log in.
            Some(end) if !end.ok => {
                recorder.record_setup(index, false);
                recorder.record_iteration(index, &end.spanning(index, first_due), true);
                return;
            }
            Some(end) => first_due = end.next_due,
            None => {}
        }
        recorder.record_setup(index, true);
        session.set_up = true;
    }
    for var in &mut session.vars[flow.setup_vars..] {
        var.clear();
    }
    let end = steps(
        shared,
        recorder,
        &mut slot.client,
        session,
        &flow.steps,
        first_due,
        sleep,
        timeout,
    )
    .await;
    if let Some(end) = end.filter(|end| !end.cut) {
        recorder
            .borrow_mut()
            .record_iteration(index, &end.spanning(index, first_due), !end.ok);
    }
}

/// Runs `list` from `due`; the last step's end (None when no step ran),
/// or the first failing step's, which ends the list unless it goes on.
#[allow(clippy::too_many_arguments)]
async fn steps(
    shared: &Shared,
    recorder: &Rc<RefCell<Recorder>>,
    client: &mut Client,
    session: &mut Session,
    list: &[FlowStep],
    mut due: Instant,
    sleep: &mut PreciseSleep,
    timeout: &mut LazyTimeout,
) -> Option<StepEnd> {
    let mut last: Option<StepEnd> = None;
    // The first failure decides the iteration's outcome.
    let mut failure: Option<Outcome> = None;
    for step in list {
        if let Some(when) = &step.when {
            let value = &session.vars[when.var];
            let runs = match &when.equals {
                None => !value.is_empty(),
                Some(equals) => value == equals,
            };
            if !runs {
                continue;
            }
        }
        for _ in 0..step.repeat {
            // A phase ends when its time is up: steps due after it are
            // not sent (else a long think would stretch the phase).
            if shared.pacer.deadline().is_some_and(|end| due >= end) {
                return last.map(|end| StepEnd { cut: true, ..end });
            }
            let end = one_step(shared, recorder, client, session, step, due, sleep, timeout).await;
            due = end.ended;
            let ok = end.ok;
            if !ok && failure.is_none() {
                failure = Some(end.outcome);
            }
            last = Some(end);
            if !ok && !step.go_on {
                return last.map(|end| StepEnd {
                    outcome: failure.unwrap_or(end.outcome),
                    ok: false,
                    ..end
                });
            }
            if !step.think.is_zero() {
                let pause = step.think.sample(&client.think_rng);
                due += pause;
                if shared.pacer.deadline().is_some_and(|end| due >= end) {
                    return last.map(|end| StepEnd { cut: true, ..end });
                }
                sleep.until(due).await;
                if let Some(last) = &mut last {
                    last.next_due = due;
                }
            }
        }
    }
    last.map(|end| StepEnd {
        ok: failure.is_none(),
        outcome: failure.unwrap_or(end.outcome),
        ..end
    })
}

/// Sends one step due at `due`, takes its captures and runs its checks.
#[allow(clippy::too_many_arguments)]
async fn one_step(
    shared: &Shared,
    recorder: &Rc<RefCell<Recorder>>,
    client: &mut Client,
    session: &mut Session,
    step: &FlowStep,
    due: Instant,
    sleep: &mut PreciseSleep,
    timeout: &mut LazyTimeout,
) -> StepEnd {
    sleep.until(due).await;
    let started = Instant::now();
    recorder.borrow_mut().note_sent();
    let deadline = started + shared.request_timeout;
    let result = timeout
        .run(
            deadline,
            client.send_step(
                &shared.wire,
                step.endpoint,
                &mut session.vars,
                session.jar.as_mut(),
            ),
        )
        .await;
    let ended = Instant::now();
    let (mut outcome, bytes_received) =
        super::worker::outcome(result, client, &shared.wire, step.endpoint);
    let mut sample = RequestSample {
        endpoint: step.endpoint,
        intended: due,
        started,
        ended,
        outcome,
        bytes_received,
    };
    let mut recorder = recorder.borrow_mut();
    let mut ok = recorder.succeeds(&sample);
    if let Outcome::Response { status } = outcome {
        let kept = client.kept();
        let response = Response::new(ResponseView {
            status,
            headers: &kept.headers,
            body: &kept.body,
            body_size: bytes_received,
            latency: sample.latency(),
        });
        let mut captured = true;
        for (var, capture) in &step.captures {
            captured &= capture.take(&response, &mut session.vars[*var]);
        }
        let mut checked = true;
        for &check in &step.checks {
            let passed = shared.checks[check].check.passes(&response);
            recorder.record_check(check, passed);
            checked &= passed;
        }
        // A status the step does not expect is its failure already, with
        // its status kept; a wrong body or a missing value are their own.
        if ok && !checked {
            outcome = Outcome::Error(ErrorKind::CheckFailed);
        } else if ok && !captured {
            outcome = Outcome::Error(ErrorKind::CaptureFailed);
        }
        ok &= checked && captured;
        sample.outcome = outcome;
    } else {
        // No answer (refused, reset, timed out): every check of the step
        // failed, as a check on an answer that never came cannot pass.
        for &check in &step.checks {
            recorder.record_check(check, false);
        }
    }
    recorder.record(&sample);
    StepEnd {
        ended,
        ok,
        outcome,
        next_due: ended,
        cut: false,
    }
}
