//! Validation of a phase's `mix:` (what the phase sends and in what
//! shares) and of weights, which the top-level requests share. Part of
//! [`super::resolve`].

use serde_saphyr::Spanned;

use super::model::{PhaseSpec, RequestSpec, ShareSpec, StringOr};
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

    /// A phase's `mix`: each entry a request of the top-level list
    /// (`request_names`), at most once, with a weight; at least one entry.
    pub(super) fn mix(
        &mut self,
        phase: &str,
        spec: &Spanned<Vec<Spanned<StringOr<ShareSpec>>>>,
        request_names: &[String],
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
            let (name, at, weight) = match &entry.value {
                StringOr::String(name) => (name.as_str(), Self::at(entry), 1),
                StringOr::Map(map) => {
                    let weight = self.weight(
                        map.weight.as_ref(),
                        "leave the request out of the phase's `mix` to send none of it",
                    );
                    (map.request.value.as_str(), Self::at(&map.request), weight)
                }
            };
            if !request_names.iter().any(|n| n == name) {
                let hint = nearest(name, request_names.iter().map(String::as_str))
                    .map(|n| format!("did you mean `{n}`?"))
                    .or_else(|| {
                        Some("a phase's `mix` names requests of the top-level `requests`".into())
                    });
                self.error(
                    at,
                    format!("phase `{phase}`: no request named `{name}`"),
                    hint,
                );
                continue;
            }
            if out.iter().any(|share| share.request == name) {
                self.error(
                    at,
                    format!("phase `{phase}`: request `{name}` is in the `mix` twice"),
                    Some("give it one entry with the sum of the weights".into()),
                );
                continue;
            }
            out.push(Share {
                request: name.to_string(),
                weight,
            });
        }
        out
    }
}

impl Validator<'_> {
    /// Refuses a request of the top-level list that no phase sends (`sent`,
    /// from [`sent_by_some_phase`] over `request_names`, the requests that
    /// resolved): `check` would pass it, yet `run` still resolves its origin
    /// before the load starts. A request refused for another reason is not
    /// reported twice.
    pub(super) fn unsent_requests(
        &mut self,
        specs: &[Spanned<RequestSpec>],
        request_names: &[String],
        sent: &[String],
    ) {
        for spec in specs {
            let name = &spec.value.name;
            if request_names.contains(&name.value) && !sent.contains(&name.value) {
                self.error(
                    Self::at(name),
                    format!("request `{}` is sent by no phase", name.value),
                    Some(format!(
                        "every phase's `mix` leaves it out: add `{}` to a phase's `mix`, or remove the request",
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
            StringOr::Map(share) => share.request.value == request,
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
