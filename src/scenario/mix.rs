//! Validation of a phase's `mix:` (what the phase sends and in what
//! shares) and of weights, which the top-level requests share. Part of
//! [`super::resolve`].

use serde_saphyr::Spanned;

use super::model::{PhaseSpec, ShareSpec, StringOr, Text};
use super::resolve::Validator;
use super::{Share, nearest};

/// The largest weight: weights are relative, and the pacer's cycle holds
/// one slot per unit of the weights' sum (after dividing by their gcd).
const MAX_WEIGHT: u32 = 10_000;

impl Validator<'_> {
    /// A weight between 1 and [`MAX_WEIGHT`]; 1 when none is given (or it
    /// is out of range, reported). `leave_out` says how to send none.
    pub(super) fn weight(&mut self, weight: Option<&Spanned<u32>>, leave_out: &str) -> u32 {
        match weight {
            Some(w) if w.value == 0 => {
                self.error(
                    Self::at(w),
                    "`weight` must be at least 1",
                    Some(leave_out.into()),
                );
                1
            }
            Some(w) if w.value > MAX_WEIGHT => {
                self.error(
                    Self::at(w),
                    format!("`weight` must be at most {MAX_WEIGHT}"),
                    Some("weights are relative: 90 and 10 mean the same as 9 and 1".into()),
                );
                1
            }
            Some(w) => w.value,
            None => 1,
        }
    }

    /// A phase's `mix`: each entry a request of the top-level list or a
    /// flow (`sendables`), at most once, with a weight; at least one entry.
    pub(super) fn mix(
        &mut self,
        phase: &str,
        spec: &Spanned<Vec<Spanned<StringOr<ShareSpec>>>>,
        sendables: &Sendables<'_>,
    ) -> Vec<Share> {
        if spec.value.is_empty() {
            self.error(
                Self::at(spec),
                format!("phase `{phase}`: `mix` is empty"),
                Some(
                    "name at least one request (`mix: [home]`), or leave `mix` out to send every request"
                        .into(),
                ),
            );
        }
        let mut out: Vec<Share> = Vec::new();
        for entry in &spec.value {
            let (name, at, weight, said) = match &entry.value {
                StringOr::String(name) => (name.as_str(), Self::at(entry), 1, None),
                StringOr::Map(map) => {
                    let weight = self.weight(
                        map.weight.as_ref(),
                        "leave it out of the phase's `mix` to send none of it",
                    );
                    let (name, flow) = match (&map.request, &map.flow) {
                        (Some(request), None) => (request, false),
                        (None, Some(flow)) => (flow, true),
                        (Some(request), Some(_)) => {
                            self.error(
                                Self::at(request),
                                format!(
                                    "phase `{phase}`: a `mix` entry names a `request` and a `flow`"
                                ),
                                Some("give each its own entry".into()),
                            );
                            continue;
                        }
                        (None, None) => {
                            self.error(
                                Self::at(entry),
                                format!(
                                    "phase `{phase}`: a `mix` entry needs a `request` or a `flow`"
                                ),
                                Some(
                                    "e.g. `{request: home, weight: 2}` or `{flow: checkout}`"
                                        .into(),
                                ),
                            );
                            continue;
                        }
                    };
                    (name.value.as_str(), Self::at(name), weight, Some(flow))
                }
            };
            let is_request = sendables.requests.iter().any(|n| n == name);
            let is_flow = sendables.flows.iter().any(|n| n == name);
            let flow = match said {
                Some(true) if is_flow => true,
                Some(false) if is_request => false,
                None if is_request || is_flow => is_flow,
                _ => {
                    let (what, names): (&str, Vec<&str>) = match said {
                        Some(true) => {
                            ("flow", sendables.flows.iter().map(String::as_str).collect())
                        }
                        Some(false) => (
                            "request",
                            sendables.requests.iter().map(String::as_str).collect(),
                        ),
                        None => (
                            "request or flow",
                            sendables
                                .requests
                                .iter()
                                .chain(sendables.flows)
                                .map(String::as_str)
                                .collect(),
                        ),
                    };
                    let hint = nearest(name, names.iter().copied())
                        .map(|n| format!("did you mean `{n}`?"))
                        .or_else(|| {
                            Some("a phase's `mix` names top-level `requests` and `flows`".into())
                        });
                    self.error(
                        at,
                        format!("phase `{phase}`: no {what} named `{name}`"),
                        hint,
                    );
                    continue;
                }
            };
            if out.iter().any(|share| share.request == name) {
                self.error(
                    at,
                    format!("phase `{phase}`: `{name}` is in the `mix` twice"),
                    Some("give it one entry with the sum of the weights".into()),
                );
                continue;
            }
            out.push(Share {
                request: name.to_string(),
                flow,
                weight,
            });
        }
        out
    }
}

/// What a phase's `mix` may name: top-level requests and flows (their
/// names are distinct).
pub(super) struct Sendables<'a> {
    pub requests: &'a [String],
    pub flows: &'a [String],
    /// Each flow's step names (setup's first), for expectations.
    pub steps: &'a [(String, Vec<String>)],
    /// `before` and `after` flows: not sent by phases, not judged.
    pub around: &'a [String],
}

impl Validator<'_> {
    /// Refuses a request of the top-level list (or a flow: `what`) that no
    /// phase sends (`sent`, from [`sent_by_some_phase`] over `names`, those
    /// that resolved): `check` would pass it, yet `run` still resolves its
    /// origin before the load starts. One refused for another reason is
    /// not reported twice.
    pub(super) fn unsent(
        &mut self,
        what: &str,
        specs: &[&Text],
        names: &[String],
        sent: &[String],
    ) {
        for name in specs {
            if names.contains(&name.value) && !sent.contains(&name.value) {
                self.error(
                    Self::at(*name),
                    format!("{what} `{}` is sent by no phase", name.value),
                    Some(format!(
                        "every phase's `mix` leaves it out: add `{}` to a phase's `mix`, or remove the {what}",
                        name.value
                    )),
                );
            }
        }
    }
}

/// The requests some phase sends: all of them unless every phase has a
/// `mix` (or there is no phase). Read from the file, so a phase refused for another reason still
/// counts for what it names.
pub(super) fn sent_by_some_phase(
    phases: &[Spanned<PhaseSpec>],
    request_names: &[String],
) -> Vec<String> {
    let named = |phase: &PhaseSpec, request: &str| match &phase.mix {
        None => true,
        Some(mix) => mix.value.iter().any(|entry| match &entry.value {
            StringOr::String(name) => name == request,
            StringOr::Map(share) => [&share.request, &share.flow]
                .into_iter()
                .flatten()
                .any(|name| name.value == request),
        }),
    };
    // No phase at all is reported on its own.
    request_names
        .iter()
        .filter(|request| {
            phases.is_empty() || phases.iter().any(|phase| named(&phase.value, request))
        })
        .cloned()
        .collect()
}
