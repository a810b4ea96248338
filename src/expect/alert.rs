//! Alert expectations judged against the alert timeline: an alert fires
//! within a bound of its phase's start (and not before another), stays
//! inactive (pending is a warning) or firing through a phase, resolves
//! within a bound; with the labels and annotations it must carry. Every
//! verdict states when the alert went pending and fired, relative to the
//! phase start, and the expected detection time where one can be worked
//! out, so a slow alert shows even when it passes.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{CheckOutcome, Verdict};
use crate::rules::{AlertHistory, AlertTimeline, Episode};

/// `{alert: NAME, fires_within: 90s, labels: {...}}` and its kin.
#[derive(Debug, Clone)]
pub struct AlertExpectation {
    pub alert: String,
    pub when: When,
    /// Labels the alert must carry, exactly.
    pub labels: BTreeMap<String, String>,
    /// Annotations the alert must carry, as regular expressions searched
    /// in the expanded text.
    pub annotations: Vec<(String, regex::Regex)>,
    /// With an Alertmanager: the receiver it must be routed to.
    pub receiver: Option<String>,
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum When {
    /// Fires at least `after` and at most `within` after the phase starts
    /// (`within` None: before the phase ends).
    Fires {
        after: Duration,
        within: Option<Duration>,
    },
    StaysInactive,
    StaysFiring,
    /// Firing at the phase start, and resolved `within` after it.
    ResolvesWithin(Duration),
    /// slogate's webhook receiver got a notification for the alert, sent
    /// to `receiver`, `within` of its firing in the phase (`resolved`: of
    /// its resolve, the resolved notification). Judged in
    /// [`super::notify`].
    Notified {
        within: Duration,
        resolved: bool,
    },
}

/// The time an expectation is judged over (ms since the epoch).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub start: i64,
    pub end: i64,
    /// The end of the data: a bound past the phase is cut here.
    pub run_end: i64,
}

/// What else is known about the rule, for the verdict's text.
#[derive(Debug, Clone, Default)]
pub(crate) struct Context {
    /// Expected detection time from the phase start, and how it was found.
    pub expected: Option<(f64, String)>,
    /// Why it may not have fired (e.g. a selector that matches nothing).
    pub hint: Option<String>,
    /// True when the timeline came from `ALERTS`, which carries no
    /// annotations; they are then checked at the Alertmanager, if any.
    pub annotations_unknown: bool,
}

impl AlertExpectation {
    pub fn describe(&self) -> String {
        let mut text = format!("alert {}", self.alert);
        match self.when {
            When::Fires { after, within } => {
                text.push_str(" fires");
                if !after.is_zero() {
                    text.push_str(&format!(" after {}", secs(after)));
                }
                if let Some(within) = within {
                    text.push_str(&format!(" within {}", secs(within)));
                }
            }
            When::StaysInactive => text.push_str(" stays inactive"),
            When::StaysFiring => text.push_str(" stays firing"),
            When::ResolvesWithin(d) => text.push_str(&format!(" resolves within {}", secs(d))),
            When::Notified { within, resolved } => text.push_str(&format!(
                " {}notified {} within {}",
                if resolved { "resolved " } else { "" },
                self.receiver.as_deref().unwrap_or("?"),
                secs(within)
            )),
        }
        let labels: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .chain(
                self.annotations
                    .iter()
                    .map(|(k, re)| format!("{k}=~\"{}\"", re.as_str())),
            )
            .collect();
        if !labels.is_empty() {
            text.push_str(&format!(" {{{}}}", labels.join(", ")));
        }
        text
    }

    fn wanted(&self) -> String {
        match self.when {
            When::Fires { after, within } => match (after.is_zero(), within) {
                (true, Some(w)) => format!("firing by +{}", secs(w)),
                (false, Some(w)) => format!("firing between +{} and +{}", secs(after), secs(w)),
                (true, None) => "firing during the phase".into(),
                (false, None) => format!("firing, not before +{}", secs(after)),
            },
            When::StaysInactive => "never pending or firing".into(),
            When::StaysFiring => "firing throughout".into(),
            When::ResolvesWithin(d) => format!("firing at the start, resolved by +{}", secs(d)),
            When::Notified { within, resolved } => format!(
                "a {} notification to {} within {} of the {}",
                if resolved { "resolved" } else { "firing" },
                self.receiver.as_deref().unwrap_or("?"),
                secs(within),
                if resolved { "resolve" } else { "firing" }
            ),
        }
    }

    /// Whether an alert's labels and annotations are the wanted ones.
    pub(crate) fn matches_labels(&self, history: &AlertHistory) -> bool {
        self.labels
            .iter()
            .all(|(k, v)| history.labels.get(k) == Some(v.as_str()))
    }

    fn matches_annotations(&self, episode: &Episode) -> bool {
        self.annotations.iter().all(|(k, re)| {
            episode
                .annotations
                .get(k)
                .is_some_and(|text| re.is_match(text))
        })
    }
}

pub(crate) fn secs(d: Duration) -> String {
    format!("{}s", trim(d.as_secs_f64()))
}

pub(crate) fn trim(v: f64) -> String {
    let text = format!("{v:.1}");
    text.strip_suffix(".0").map(str::to_string).unwrap_or(text)
}

/// Judges `e` over `window` (a notification expectation at `received`,
/// slogate's webhook receiver).
pub(crate) fn judge(
    e: &AlertExpectation,
    timeline: &AlertTimeline,
    received: Option<&crate::backend::receiver::Received>,
    window: Window,
    scope: String,
    context: &Context,
) -> Verdict {
    let at = |t: i64| format!("+{}s", trim((t - window.start) as f64 / 1000.0));
    let named: Vec<&AlertHistory> = timeline.named(&e.alert).collect();
    let matching: Vec<&AlertHistory> = named
        .iter()
        .copied()
        .filter(|h| e.matches_labels(h))
        .collect();
    let episodes = || {
        matching
            .iter()
            .flat_map(|h| h.episodes.iter().map(move |ep| (*h, ep)))
    };
    let mut verdict = Verdict {
        check: e.describe(),
        scope,
        measured: None,
        measured_text: String::new(),
        wanted: e.wanted(),
        outcome: CheckOutcome::Fail,
        optional: false,
        source: e.source.clone(),
        truncated: false,
    };
    let expected = context
        .expected
        .as_ref()
        .map(|(s, how)| format!("; expected ≈ +{}s ({how})", trim(*s)));
    let unmatched_note = || {
        let others: Vec<String> = named
            .iter()
            .filter(|h| !e.matches_labels(h))
            .map(|h| h.labels.to_string())
            .collect();
        if others.is_empty() {
            String::new()
        } else {
            format!(
                "; {} active with other labels: {}",
                e.alert,
                others.join(", ")
            )
        }
    };
    match e.when {
        When::Notified { .. } => super::notify::judge(e, timeline, received, window, &mut verdict),
        When::Fires { after, within } => {
            let from = window.start + after.as_millis() as i64;
            let until = within.map_or(window.end, |w| {
                (window.start + w.as_millis() as i64).min(window.run_end.max(window.end))
            });
            // The first episode firing at some time in [start, until].
            let first = episodes()
                .filter(|(_, ep)| ep.fired_within(window.start, until + 1))
                .min_by_key(|(_, ep)| ep.fired_at.unwrap_or(i64::MAX));
            match first {
                None => {
                    let pending = episodes()
                        .filter(|(_, ep)| ep.active_within(window.start, until + 1))
                        .map(|(_, ep)| ep.pending_at)
                        .min();
                    verdict.measured_text = match pending {
                        Some(p) => format!("pending at {} but never fired", at(p)),
                        None => "never pending or firing".into(),
                    };
                    verdict.measured_text.push_str(&unmatched_note());
                    if let Some(hint) = &context.hint {
                        verdict.measured_text.push_str(&format!("; {hint}"));
                    }
                }
                Some((history, ep)) => {
                    let fired = ep.fired_at.unwrap_or(window.start);
                    let since = fired.max(window.start);
                    verdict.measured = Some((since - window.start) as f64 / 1000.0);
                    verdict.measured_text = if fired < window.start {
                        format!("already firing at the phase start (fired {})", at(fired))
                    } else {
                        format!("pending at {}, fired at {}", at(ep.pending_at), at(fired))
                    };
                    let early = fired < from;
                    let annotations_ok = context.annotations_unknown || e.matches_annotations(ep);
                    if !annotations_ok {
                        let got: Vec<String> = e
                            .annotations
                            .iter()
                            .map(|(k, _)| {
                                format!(
                                    "{k}={:?}",
                                    ep.annotations.get(k).map_or("(none)", String::as_str)
                                )
                            })
                            .collect();
                        verdict
                            .measured_text
                            .push_str(&format!("; annotations {}", got.join(", ")));
                    } else if history.labels.len() > 1 {
                        verdict
                            .measured_text
                            .push_str(&format!(" {}", history.labels));
                    }
                    if early {
                        verdict.measured_text.push_str(" (too early)");
                    }
                    verdict.outcome = if !early && annotations_ok {
                        CheckOutcome::Pass
                    } else {
                        CheckOutcome::Fail
                    };
                    if context.annotations_unknown && !e.annotations.is_empty() {
                        verdict.measured_text.push_str(
                            "; annotations are not in ALERTS: checked at the Alertmanager",
                        );
                    }
                }
            }
        }
        When::StaysInactive => {
            let active: Vec<(&AlertHistory, &Episode)> = episodes()
                .filter(|(_, ep)| ep.active_within(window.start, window.end))
                .collect();
            let fired = active
                .iter()
                .filter(|(_, ep)| ep.fired_within(window.start, window.end))
                .map(|(_, ep)| ep.fired_at.unwrap_or(window.start).max(window.start))
                .min();
            verdict.measured = Some(active.len() as f64);
            (verdict.outcome, verdict.measured_text) = match (fired, active.first()) {
                (Some(t), _) => (CheckOutcome::Fail, format!("fired at {}", at(t))),
                (None, Some((history, ep))) => {
                    let end = ep.resolved_at.unwrap_or(window.end).min(window.end);
                    (
                        CheckOutcome::Warn,
                        format!(
                            "pending at {} for {}s, never fired {}",
                            at(ep.pending_at.max(window.start)),
                            trim((end - ep.pending_at.max(window.start)) as f64 / 1000.0),
                            history.labels
                        ),
                    )
                }
                (None, None) => (CheckOutcome::Pass, "never pending or firing".into()),
            };
        }
        When::StaysFiring => {
            let through = episodes().find(|(_, ep)| {
                ep.fired_at.is_some_and(|f| f <= window.start)
                    && ep.resolved_at.is_none_or(|r| r >= window.end)
            });
            match through {
                Some((_, ep)) => {
                    verdict.outcome = CheckOutcome::Pass;
                    verdict.measured_text =
                        format!("firing since {}", at(ep.fired_at.unwrap_or(window.start)));
                }
                None => {
                    let gaps: Vec<String> = episodes()
                        .filter(|(_, ep)| ep.active_within(window.start, window.end))
                        .map(|(_, ep)| {
                            format!(
                                "firing {} to {}",
                                ep.fired_at.map_or("never".into(), at),
                                ep.resolved_at.map_or("the end".into(), at)
                            )
                        })
                        .collect();
                    verdict.measured_text = if gaps.is_empty() {
                        "not firing".into()
                    } else {
                        gaps.join(", ")
                    };
                }
            }
        }
        When::ResolvesWithin(bound) => {
            let by = (window.start + bound.as_millis() as i64).min(window.run_end);
            let firing_at_start: Vec<&Episode> = episodes()
                .map(|(_, ep)| ep)
                .filter(|ep| {
                    ep.fired_at.is_some_and(|f| f <= window.start)
                        && ep.resolved_at.is_none_or(|r| r > window.start)
                })
                .collect();
            let still = episodes()
                .map(|(_, ep)| ep)
                .filter(|ep| ep.fired_within(by, by + 1))
                .count();
            let resolved = firing_at_start
                .iter()
                .filter_map(|ep| ep.resolved_at)
                .filter(|r| *r <= by)
                .max();
            if firing_at_start.is_empty() {
                verdict.measured_text = "was not firing at the phase start".into();
            } else if still > 0 {
                verdict.measured_text = format!("still firing at {}", at(by));
            } else if let Some(r) = resolved {
                verdict.outcome = CheckOutcome::Pass;
                verdict.measured = Some((r - window.start) as f64 / 1000.0);
                verdict.measured_text = format!("resolved at {}", at(r));
            } else {
                verdict.measured_text = format!("still firing at {}", at(by));
            }
        }
    }
    if let Some(expected) = expected
        && matches!(e.when, When::Fires { .. })
    {
        verdict.measured_text.push_str(&expected);
    }
    verdict
}

/// Run-wide: alerts that fired though no alert expectation names them.
pub(crate) fn no_other_alerts(
    timeline: &AlertTimeline,
    expected_names: &[&str],
    window: Window,
    source: &str,
) -> Verdict {
    let mut others: Vec<String> = Vec::new();
    for history in &timeline.alerts {
        if expected_names.contains(&history.name.as_str()) {
            continue;
        }
        if let Some(t) = history
            .episodes
            .iter()
            .filter(|ep| ep.fired_within(window.start, window.end + 1))
            .filter_map(|ep| ep.fired_at)
            .min()
        {
            others.push(format!(
                "{} at +{}s",
                history.labels,
                trim((t.max(window.start) - window.start) as f64 / 1000.0)
            ));
        }
    }
    Verdict {
        check: "no other alerts fire".into(),
        scope: "run".into(),
        measured: Some(others.len() as f64),
        measured_text: if others.is_empty() {
            "none fired".into()
        } else {
            format!("fired: {}", others.join(", "))
        },
        wanted: format!("only {}", expected_names.join(", ")),
        outcome: if others.is_empty() {
            CheckOutcome::Pass
        } else {
            CheckOutcome::Fail
        },
        optional: false,
        source: source.to_string(),
        truncated: false,
    }
}

/// With an Alertmanager: whether the alert a `fires` expectation wants
/// reached it, routed to the wanted receiver, neither silenced nor
/// inhibited, with the wanted labels and annotations.
pub(crate) fn reached_alertmanager(
    e: &AlertExpectation,
    watched: &crate::backend::alertmanager::Watched,
    window: Window,
    scope: String,
) -> Verdict {
    let at = |t: i64| format!("+{}s", trim((t - window.start) as f64 / 1000.0));
    let mut verdict = Verdict {
        check: format!("alert {} reaches Alertmanager", e.alert),
        scope,
        measured: None,
        measured_text: String::new(),
        wanted: match &e.receiver {
            Some(r) => format!("received, routed to {r}, not silenced or inhibited"),
            None => "received, not silenced or inhibited".into(),
        },
        outcome: CheckOutcome::Fail,
        optional: false,
        source: e.source.clone(),
        truncated: false,
    };
    let candidates: Vec<_> = watched
        .sightings
        .iter()
        .filter(|s| s.labels.get("alertname") == Some(&e.alert))
        .filter(|s| e.labels.iter().all(|(k, v)| s.labels.get(k) == Some(v)))
        .filter(|s| s.last_seen >= window.start)
        .collect();
    let Some(first) = candidates.iter().min_by_key(|s| s.first_seen) else {
        verdict.measured_text = format!("never seen at {} ({} polls)", watched.url, watched.polls);
        if let Some(problem) = watched.problems.first() {
            verdict.measured_text.push_str(&format!("; {problem}"));
        }
        return verdict;
    };
    verdict.measured = Some((first.first_seen - window.start) as f64 / 1000.0);
    let mut text = format!(
        "received at {}, receivers {}, {}",
        at(first.first_seen),
        if first.receivers.is_empty() {
            "(none)".to_string()
        } else {
            first.receivers.join(", ")
        },
        first.state
    );
    let mut ok = true;
    if !first.silenced_by.is_empty() {
        text.push_str(&format!(", silenced by {}", first.silenced_by.join(", ")));
        ok = false;
    }
    if !first.inhibited_by.is_empty() {
        text.push_str(&format!(", inhibited by {}", first.inhibited_by.join(", ")));
        ok = false;
    }
    if let Some(receiver) = &e.receiver
        && !first.receivers.contains(receiver)
    {
        text.push_str(&format!("; not routed to {receiver}"));
        ok = false;
    }
    for (name, re) in &e.annotations {
        let value = first.annotations.get(name);
        if !value.is_some_and(|v| re.is_match(v)) {
            text.push_str(&format!(
                "; annotation {name}={:?}",
                value.map_or("(none)", String::as_str)
            ));
            ok = false;
        }
    }
    verdict.measured_text = text;
    verdict.outcome = if ok {
        CheckOutcome::Pass
    } else {
        CheckOutcome::Fail
    };
    verdict
}
