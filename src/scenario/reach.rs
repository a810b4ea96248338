//! Windows an alert expectation cannot meet, refused when the scenario is
//! loaded: a bound past the end of the run (slogate stops watching there,
//! so the bound judged would not be the one written), and a `fires_within`
//! shorter than the rule can fire at best — its `for` plus one evaluation
//! interval — where no earlier phase injects a fault (after one, the alert
//! may be pending already). Part of [`super::resolve`].

use std::collections::BTreeMap;
use std::time::Duration;

use super::model::{ExpectMap, PhaseSpec, Text};
use super::resolve::Validator;
use crate::expect::When;
use crate::expect::alert::secs as format_duration;
use crate::rules::{RuleFile, RuleKind};

/// Where the expectations being validated sit in the run's time: a
/// phase's start, or 0 for the run's own; the run's length.
#[derive(Debug, Clone)]
pub(super) struct Clock {
    /// None: the run's `expect`.
    pub phase: Option<String>,
    pub start: Duration,
    pub run: Duration,
    /// Some phase before this one injects a fault: the alert may already
    /// be pending when it starts, so it may fire sooner than its `for`.
    pub faulted_before: bool,
}

/// A phase's length when the file says it: its `duration`, or its steps'
/// (None with a `requests` count, which may end it early).
fn length(spec: &PhaseSpec) -> Option<Duration> {
    if spec.requests.is_some() {
        return None;
    }
    if let Some(d) = &spec.duration {
        return crate::units::parse_duration(&d.value).ok();
    }
    let steps = spec.load.value.steps.as_ref()?;
    steps
        .iter()
        .map(|s| crate::units::parse_duration(&s.value.duration.value).ok())
        .sum()
}

/// Each phase's start, and the run's length: None where a phase before
/// (or the run's, any phase) has no length the file gives.
pub(super) fn starts(phases: &[&PhaseSpec]) -> (Vec<Option<Duration>>, Option<Duration>) {
    let mut at = Some(Duration::ZERO);
    let mut starts = Vec::new();
    for phase in phases {
        starts.push(at);
        at = at.and_then(|t| Some(t + length(phase)?));
    }
    (starts, at)
}

/// Per alerting rule name: the soonest it can fire after its expression
/// starts to hold — its `for` plus one evaluation interval (its group's,
/// else `default_interval`) — the least over rules of that name.
pub(super) fn soonest_fire(
    rules: &[RuleFile],
    default_interval: Duration,
) -> BTreeMap<String, (Duration, Duration)> {
    let mut soonest: BTreeMap<String, (Duration, Duration)> = BTreeMap::new();
    for group in rules.iter().flat_map(|f| &f.groups) {
        let interval = group.interval.unwrap_or(default_interval);
        for rule in &group.rules {
            if let RuleKind::Alerting {
                alert, pending_for, ..
            } = &rule.kind
            {
                let entry = soonest
                    .entry(alert.clone())
                    .or_insert((*pending_for, interval));
                if *pending_for + interval < entry.0 + entry.1 {
                    *entry = (*pending_for, interval);
                }
            }
        }
    }
    soonest
}

impl Validator<'_> {
    /// Refuses a window `e` cannot meet (see the module's text).
    pub(super) fn reachable(&mut self, alert: &Text, map: &ExpectMap, when: &When) -> bool {
        let (text, bound, key) = match *when {
            When::Fires {
                within: Some(w), ..
            } => (map.fires_within.as_ref(), w, "fires_within"),
            When::ResolvesWithin(d) => (map.resolves_within.as_ref(), d, "resolves_within"),
            _ => return true,
        };
        let at = text.and_then(Self::at);
        if let Some(clock) = self.clock.clone()
            && clock.start + bound > clock.run
        {
            let whose = match &clock.phase {
                Some(name) => format!(
                    "phase `{name}` starts at +{} and the run lasts {}",
                    format_duration(clock.start),
                    format_duration(clock.run)
                ),
                None => format!("the run lasts {}", format_duration(clock.run)),
            };
            self.error(
                at,
                format!(
                    "`{key}: {}` reaches past the end of the run: {whose}",
                    text.map_or(String::new(), |t| t.value.clone())
                ),
                Some("alerts are judged while slogate watches: shorten the bound, or lengthen the phases after it".into()),
            );
            return false;
        }
        if key == "fires_within"
            && !self.clock.as_ref().is_some_and(|c| c.faulted_before)
            && let Some(&(pending_for, interval)) = self.soonest_fire.get(&alert.value)
            && bound < pending_for + interval
        {
            self.error(
                at,
                format!(
                    "`{}` cannot fire within {}: its rule waits `for: {}`, evaluated every {}",
                    alert.value,
                    format_duration(bound),
                    format_duration(pending_for),
                    format_duration(interval)
                ),
                Some(format!(
                    "the soonest it can fire is {} after its expression starts to hold",
                    format_duration(pending_for + interval)
                )),
            );
            return false;
        }
        true
    }
}
