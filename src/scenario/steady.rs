//! Validation of `steady_state:`, the game day's hypothesis: client,
//! PromQL and alert checks (`stays: inactive`, `no_other_alerts`) that must hold over the phases before the first fault
//! (else no fault is injected) and again over those after the last. Part
//! of [`super::resolve`].

use serde_saphyr::Spanned;

use super::model::{ExpectMap, PhaseSpec, StringOr};
use super::resolve::Validator;
use super::{SteadyState, phases::Sends};

impl Validator<'_> {
    /// `steady_state: [error_rate < 1%, {promql: ..., below: ...}]`.
    pub(super) fn steady_state(
        &mut self,
        specs: &[Spanned<StringOr<ExpectMap>>],
        sendables: &super::mix::Sendables<'_>,
        sent: &[String],
        phases: &[&PhaseSpec],
    ) -> Option<SteadyState> {
        let first = specs.first()?;
        let at = Self::at(first);
        let source = self.source_of(first);
        let mut ok = true;
        for spec in specs {
            let StringOr::Map(map) = &spec.value else {
                continue;
            };
            let paging = map.no_other_notifications.is_some()
                || map.grouped.is_some()
                || map.notified.is_some()
                || map.resolved_notified.is_some();
            let quiet = map.stays.as_ref().is_some_and(|s| s.value == "inactive")
                && map.fires_within.is_none()
                && map.fires_after.is_none()
                && map.resolves_within.is_none();
            if paging {
                self.error(
                    Self::at(spec),
                    "`steady_state` holds client, PromQL and alert checks; paging is judged in the phases",
                    Some("put `{alert: NAME, notified: RECEIVER, within: 30s}` in the phase that injects the fault".into()),
                );
                ok = false;
            } else if let Some(alert) = map.alert.as_ref().filter(|_| !quiet) {
                self.error(
                    Self::at(alert),
                    "in `steady_state` an alert check is `{alert: NAME, stays: inactive}`: the hypothesis is that nothing alerts",
                    Some("`{alert: HighErrorRate, stays: inactive}`, or `{no_other_alerts: true}` for no alert at all; expect the alert to fire in the faulted phase".into()),
                );
                ok = false;
            } else if let Some(flow) = &map.flow {
                self.error(
                    Self::at(flow),
                    "`steady_state` judges requests, not flows",
                    Some("check the flow's steps in the phases' `expect`".into()),
                );
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        let expect = self.expectations(specs, sendables, Sends::Run { requests: sent });
        if let Some(e) = expect
            .client
            .iter()
            .find(|e| e.check.metric == crate::expect::Metric::ChecksPassed)
        {
            self.error(
                at,
                "`checks passed` is judged over the run, not in `steady_state`",
                Some(format!("found at {}", e.source)),
            );
            return None;
        }
        let faulted: Vec<usize> = phases
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.faults.is_empty())
            .map(|(i, _)| i)
            .collect();
        let (Some(&first_fault), Some(&last_fault)) = (faulted.first(), faulted.last()) else {
            self.error(
                at,
                "`steady_state` is checked before the first fault and after the last, but no phase has `faults`",
                Some("add `faults:` to the phase that injects the fault".into()),
            );
            return None;
        };
        if first_fault == 0 {
            self.error(
                at,
                format!(
                    "the first phase, `{}`, injects a fault: the steady state needs a phase before it to be checked on",
                    phases[0].name.value
                ),
                Some("add a healthy phase first".into()),
            );
            return None;
        }
        if last_fault + 1 == phases.len() {
            self.error(
                at,
                format!(
                    "the last phase, `{}`, injects a fault: the steady state needs a phase after it to be checked again",
                    phases[last_fault].name.value
                ),
                Some("add a recovery phase at the end".into()),
            );
            return None;
        }
        Some(SteadyState {
            client: expect.client,
            promql: expect.promql,
            alerts: expect.alerts,
            quiet: expect.no_other_alerts,
            first_fault,
            last_fault,
            source,
        })
    }
}
