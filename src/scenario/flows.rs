//! Validation of `flows:`, `before:` and `after:`: each flow's steps are
//! requests (named `FLOW/STEP`) with what they capture, check and wait
//! for; a variable is in scope for the steps after the one that captures
//! it. Part of [`super::resolve`].

use std::collections::BTreeMap;

use serde_saphyr::Spanned;

use super::model::{FlowSpec, FlowStepSpec};
use super::requests::RequestParts;
use super::resolve::Validator;
use super::{Flow, Step, Target, When};
use crate::plan::Think;
use crate::plan::template::{Names, Template};

/// What a flow's requests are compiled with.
pub(super) struct Context<'a> {
    pub names: &'a Names<'a>,
    pub default_headers: &'a [(http::HeaderName, Template)],
    pub targets: &'a BTreeMap<String, Target>,
}

/// The most times a step may repeat in a row.
const MAX_REPEAT: u32 = 1000;

impl Validator<'_> {
    /// The flows of one list (`flows`, `before` or `after`: `list`);
    /// `taken` holds the names already used (requests, earlier flows).
    pub(super) fn flows(
        &mut self,
        list: &str,
        specs: &[Spanned<FlowSpec>],
        context: &Context<'_>,
        taken: &mut Vec<String>,
    ) -> Vec<Flow> {
        let mut out = Vec::new();
        for spec in specs {
            let name = &spec.value.name;
            if taken.contains(&name.value) {
                self.error(
                    Self::at(name),
                    format!("a second request or flow named `{}`", name.value),
                    Some("names identify results; make them unique".into()),
                );
            } else if name.value.is_empty() || name.value.contains('/') {
                self.error(
                    Self::at(name),
                    format!("`{}` cannot name a flow", name.value),
                    Some(
                        "a flow's name is not empty and has no `/` (its steps are named FLOW/STEP)"
                            .into(),
                    ),
                );
            }
            let prefix = format!("{}/", name.value);
            // A request named like one of its steps is refused at the step.
            let is_step = |rest: &str| {
                let steps = spec.value.setup.iter().chain(&spec.value.steps.value);
                steps.into_iter().any(|s| s.value.name.value == rest)
            };
            if let Some(request) = taken
                .iter()
                .find(|t| t.strip_prefix(&prefix).is_some_and(|rest| !is_step(rest)))
            {
                self.error(
                    Self::at(name),
                    format!(
                        "request `{request}` is named like a step of flow `{}`",
                        name.value
                    ),
                    Some(
                        "a flow's steps are named FLOW/STEP; rename the request or the flow".into(),
                    ),
                );
            }
            taken.push(name.value.clone());
            if let Some(flow) = self.flow(list, &spec.value, context, taken) {
                out.push(flow);
            }
        }
        out
    }

    fn flow(
        &mut self,
        list: &str,
        spec: &FlowSpec,
        context: &Context<'_>,
        taken: &mut Vec<String>,
    ) -> Option<Flow> {
        let around = list != "flows";
        if around {
            for (key, given) in [
                ("setup", !spec.setup.is_empty()),
                ("weight", spec.weight.is_some()),
                ("think", spec.think.is_some()),
            ] {
                if given {
                    self.error(
                        Self::at(&spec.name),
                        format!(
                            "`{list}` flow `{}`: `{key}` is only for `flows`",
                            spec.name.value
                        ),
                        Some(format!("a `{list}` flow runs its steps once")),
                    );
                }
            }
        }
        if spec.steps.value.is_empty() {
            self.error(
                Self::at(&spec.steps),
                format!("flow `{}` has no steps", spec.name.value),
                Some("add one: `steps: [{name: home, url: \"${api}/\"}]`".into()),
            );
        }
        let weight = self.weight(
            spec.weight.as_ref(),
            "leave the flow out of the phases' `mix` to send none of it",
        );
        let think = spec
            .think
            .as_ref()
            .map_or(Think::default(), |t| self.think(t));
        // Every variable any step captures, in the order of first capture,
        // setup's first: a template names the ones captured before it.
        let mut vars: Vec<String> = Vec::new();
        let mut names = StepNames {
            steps: Vec::new(),
            taken,
        };
        let setup = self.steps(spec, &spec.setup, context, &mut vars, &mut names, true);
        let setup_vars = vars.len();
        let steps = self.steps(
            spec,
            &spec.steps.value,
            context,
            &mut vars,
            &mut names,
            false,
        );
        Some(Flow {
            name: spec.name.value.clone(),
            weight,
            think,
            cookies: spec.cookies.unwrap_or(true),
            setup,
            steps,
            vars,
            setup_vars,
        })
    }

    fn steps(
        &mut self,
        flow: &FlowSpec,
        specs: &[Spanned<FlowStepSpec>],
        context: &Context<'_>,
        vars: &mut Vec<String>,
        names: &mut StepNames<'_>,
        setup: bool,
    ) -> Vec<Step> {
        // The variables setup captured (none while compiling setup): they
        // live for the user and must not be replaced by a step's.
        let from_setup = if setup { 0 } else { vars.len() };
        let all_vars = all_captured(flow);
        let mut out = Vec::new();
        for spec in specs {
            let spec = &spec.value;
            let name = &spec.name;
            if name.value.trim().is_empty() || name.value.contains('/') {
                self.error(
                    Self::at(name),
                    format!("`{}` cannot name a step", name.value),
                    Some("a step's name is not empty and has no `/` (its results are named FLOW/STEP)".into()),
                );
            }
            let duplicate = names.steps.contains(&name.value);
            if duplicate {
                self.error(
                    Self::at(name),
                    format!(
                        "flow `{}`: a second step named `{}`",
                        flow.name.value, name.value
                    ),
                    Some("step names identify results; make them unique within the flow".into()),
                );
            }
            names.steps.push(name.value.clone());
            let full = format!("{}/{}", flow.name.value, name.value);
            if !duplicate && names.taken.contains(&full) {
                self.error(
                    Self::at(name),
                    format!("step `{full}` has the name of a request"),
                    Some(
                        "a step's results are named FLOW/STEP; rename the request or the step"
                            .into(),
                    ),
                );
            }
            names.taken.push(full);
            // In scope: what earlier steps captured. Later ones are named
            // in errors ("used before the step that captures it").
            let mut scope: Vec<String> = vars.clone();
            let in_scope = scope.len();
            scope.extend(all_vars.iter().filter(|v| !vars.contains(v)).cloned());
            let template_names = Names {
                targets: context.names.targets,
                datasets: context.names.datasets,
                env: context.names.env,
                vars: &scope,
                vars_in_scope: in_scope,
            };
            let full_name = Text {
                value: format!("{}/{}", flow.name.value, name.value),
                ..name.clone()
            };
            let parts = RequestParts {
                name: &full_name,
                url: &spec.url,
                method: spec.method.as_ref(),
                headers: &spec.headers,
                body: spec.body.as_ref(),
                expect_status: spec.expect_status.as_deref(),
            };
            let request = self.request(
                &parts,
                &template_names,
                context.default_headers,
                context.targets,
            );
            let think = spec
                .think
                .as_ref()
                .map_or(Think::default(), |t| self.think(t));
            let repeat = match &spec.repeat {
                None => 1,
                Some(r) if (1..=MAX_REPEAT).contains(&r.value) => r.value,
                Some(r) => {
                    self.error(
                        Self::at(r),
                        format!("`repeat` must be between 1 and {MAX_REPEAT}"),
                        Some("leave the step out to send none of it".into()),
                    );
                    1
                }
            };
            let when = spec.when.as_ref().and_then(|when| {
                let var = &when.value.var;
                match vars.iter().position(|v| *v == var.value) {
                    Some(slot) => Some(When {
                        var: slot,
                        equals: when.value.equals.as_ref().map(|e| e.value.clone()),
                    }),
                    None => {
                        let later = all_vars.contains(&var.value);
                        self.error(
                            Self::at(var),
                            if later {
                                format!(
                                    "`if`: variable `{}` is captured only by a later step",
                                    var.value
                                )
                            } else {
                                format!(
                                    "`if`: no step before this one captures a variable `{}`",
                                    var.value
                                )
                            },
                            if later {
                                Some(
                                    "move the step that captures it earlier, or into `setup`"
                                        .into(),
                                )
                            } else {
                                crate::diag::nearest(&var.value, vars.iter().map(String::as_str))
                                    .map(|v| format!("did you mean `{v}`?"))
                            },
                        );
                        None
                    }
                }
            });
            for (var, capture) in &spec.capture {
                if vars[..from_setup].contains(var) {
                    self.error(
                        Self::at(capture),
                        format!("`{var}` is captured by setup; a step cannot capture it again"),
                        Some("setup's variables live for the virtual user: capture into another name".into()),
                    );
                }
            }
            let captures = self.captures(&spec.capture);
            let checks = self.checks(
                &spec.check,
                request.as_ref().and_then(|r| r.expect_status.as_deref()),
            );
            for var in step_captures(spec) {
                if !vars.contains(&var) {
                    vars.push(var);
                }
            }
            if let Some(request) = request {
                out.push(Step {
                    request,
                    name: name.value.clone(),
                    think,
                    go_on: spec.go_on.unwrap_or(false),
                    repeat,
                    when,
                    captures,
                    checks,
                });
            }
        }
        out
    }
}

type Text = Spanned<String>;

/// Names a flow's steps must not repeat: its own steps', and every
/// request's and step's of the scenario (`FLOW/STEP`).
struct StepNames<'a> {
    steps: Vec<String>,
    taken: &'a mut Vec<String>,
}

/// The variables a step captures, by name.
fn step_captures(spec: &FlowStepSpec) -> Vec<String> {
    spec.capture.keys().cloned().collect()
}

/// Every variable the flow's steps capture (setup's and the iteration's).
fn all_captured(flow: &FlowSpec) -> Vec<String> {
    flow.setup
        .iter()
        .chain(&flow.steps.value)
        .flat_map(|s| step_captures(&s.value))
        .collect()
}
