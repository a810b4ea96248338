//! A flow as the engine runs it: steps are endpoints of the plan (so each
//! is counted, timed and reported as a request is), with what they
//! capture into the flow's variable slots, the checks they run and what
//! happens after them.

use super::Think;

/// A journey the phases' mixes may send.
#[derive(Debug, Clone)]
pub struct Flow {
    pub name: String,
    /// Once per virtual user, before its first iteration.
    pub setup: Vec<FlowStep>,
    /// One iteration.
    pub steps: Vec<FlowStep>,
    /// Closed model: pause after each iteration.
    pub think: Think,
    /// A cookie jar per virtual user.
    pub cookies: bool,
    /// Variable slots; the first `setup_vars` live for the virtual user,
    /// the rest are cleared as each iteration starts.
    pub vars: usize,
    pub setup_vars: usize,
}

/// One step.
#[derive(Debug, Clone)]
pub struct FlowStep {
    /// Index into [`super::LoadPlan::endpoints`].
    pub endpoint: usize,
    /// Pause after the step (and after each of its repeats).
    pub think: Think,
    /// Go on with the iteration when the step fails.
    pub go_on: bool,
    /// Times it runs in a row (at least 1).
    pub repeat: u32,
    pub when: Option<crate::scenario::When>,
    /// What it captures, into which slot.
    pub captures: Vec<(usize, crate::flow::Capture)>,
    /// Indexes into [`super::LoadPlan::checks`].
    pub checks: Vec<usize>,
}

/// One check of one step, as reports name it.
#[derive(Debug, Clone)]
pub struct StepCheck {
    /// The flow's index.
    pub flow: usize,
    /// The step's endpoint.
    pub endpoint: usize,
    pub check: crate::flow::Check,
}

/// What a plan's endpoint is: a request of its own, or a flow's step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    #[default]
    Request,
    /// A step of flow `flow`'s iteration.
    Step {
        flow: usize,
    },
    /// A setup step of flow `flow`, or a step of a `before`/`after` flow
    /// (`flow` indexes [`super::LoadPlan::around`]): reported apart, left
    /// out of the phases' totals and expectations.
    Setup {
        flow: usize,
    },
    Around {
        flow: usize,
    },
}

impl Role {
    /// Counted in the phases' totals (and so their expectations).
    pub fn counts_in_totals(self) -> bool {
        matches!(self, Role::Request | Role::Step { .. })
    }
}
