//! Paging expectations, judged at slogate's webhook receiver: the alert's
//! notification was sent to the wanted receiver within a bound of its
//! firing (or, resolved, of its resolve); alerts that came in one
//! notification; nothing else paged. The alert timeline says when the
//! alert fired and resolved; the receiver says when each notification
//! arrived, for which receiver, with which alerts.

use std::time::Duration;

use super::alert::{AlertExpectation, Window, trim};
use super::{CheckOutcome, Verdict};
use crate::backend::receiver::{Notification, NotifiedAlert, Received};
use crate::rules::AlertTimeline;

/// `{notified: R, grouped: [A, B]}`: some notification to `receiver`
/// carried every one of `alerts`, firing.
#[derive(Debug, Clone, PartialEq)]
pub struct Grouping {
    pub receiver: String,
    pub alerts: Vec<String>,
    pub source: String,
}

impl Grouping {
    pub fn describe(&self) -> String {
        format!(
            "alerts {} notified together to {}",
            self.alerts.join(", "),
            self.receiver
        )
    }
}

/// When the episode a notification expectation is about happened — the
/// first to fire in the window (or, resolved, the first to resolve in it)
/// — and the earliest a notification for it can count: its pending (a
/// firing page cannot precede it), or its firing (for the all-clear).
fn event(
    e: &AlertExpectation,
    timeline: &AlertTimeline,
    window: Window,
    resolved: bool,
) -> Option<(i64, i64)> {
    timeline
        .named(&e.alert)
        .filter(|h| e.matches_labels(h))
        .flat_map(|h| &h.episodes)
        .filter_map(|ep| {
            let t = if resolved {
                // Only a firing alert resolves; a pending one just ends.
                ep.fired_at.and(ep.resolved_at)
            } else {
                ep.fired_at
            }?;
            (window.start..=window.end).contains(&t).then_some((ep, t))
        })
        .min_by_key(|(_, t)| *t)
        .map(|(ep, t)| {
            let since = if resolved {
                ep.fired_at.unwrap_or(ep.pending_at)
            } else {
                ep.pending_at
            };
            (t, since)
        })
}

/// The alerts of `n` an expectation matches: its name, status, labels and
/// annotations.
fn matching<'a>(
    e: &'a AlertExpectation,
    n: &'a Notification,
    status: &'a str,
) -> impl Iterator<Item = &'a NotifiedAlert> + 'a {
    n.alerts_named(&e.alert, status)
        .filter(|a| e.labels.iter().all(|(k, v)| a.labels.get(k) == Some(v)))
}

fn annotations_match(e: &AlertExpectation, a: &NotifiedAlert) -> bool {
    e.annotations
        .iter()
        .all(|(k, re)| a.annotations.get(k).is_some_and(|text| re.is_match(text)))
}

/// The notifications that may be for the episode: those that arrived
/// after it began (a notification cannot precede its alert's pending).
fn candidates<'a>(
    e: &'a AlertExpectation,
    received: &'a Received,
    since: i64,
    status: &'a str,
) -> impl Iterator<Item = &'a Notification> + 'a {
    received
        .notifications
        .iter()
        .filter(move |n| n.at >= since && matching(e, n, status).next().is_some())
}

/// Judges a `notified` / `resolved_notified` expectation into `verdict`.
pub(crate) fn judge(
    e: &AlertExpectation,
    timeline: &AlertTimeline,
    received: Option<&Received>,
    window: Window,
    verdict: &mut Verdict,
) {
    let super::When::Notified { within, resolved } = e.when else {
        return;
    };
    let at = |t: i64| format!("+{}s", trim((t - window.start) as f64 / 1000.0));
    let wanted = e.receiver.as_deref().unwrap_or_default();
    let Some(received) = received else {
        verdict.outcome = CheckOutcome::NoData;
        verdict.measured_text = "no webhook receiver ran (`metrics.receiver`)".into();
        return;
    };
    let (what, status) = if resolved {
        ("resolved", "resolved")
    } else {
        ("fired", "firing")
    };
    let Some((t, since)) = event(e, timeline, window, resolved) else {
        verdict.outcome = CheckOutcome::Fail;
        verdict.measured_text = format!("{} never {what} here: nothing to notify", e.alert);
        return;
    };
    let deadline = t + within.as_millis() as i64;
    let to_wanted: Vec<&Notification> = candidates(e, received, since, status)
        .filter(|n| n.receiver == wanted)
        .collect();
    let first_good = to_wanted
        .iter()
        .find(|n| matching(e, n, status).any(|a| annotations_match(e, a)));
    let after = |n: &Notification| trim((n.at - t) as f64 / 1000.0);
    match first_good {
        Some(n) => {
            verdict.measured = Some((n.at - t) as f64 / 1000.0);
            let others: Vec<&str> = n
                .alerts
                .iter()
                .filter_map(|a| a.labels.get("alertname").map(String::as_str))
                .filter(|name| *name != e.alert)
                .collect();
            let mut text = format!(
                "notified {wanted} at {}, {}s after it {what} ({}), group {}",
                at(n.at),
                after(n),
                at(t),
                group(n)
            );
            if !others.is_empty() {
                text.push_str(&format!(", with {}", others.join(", ")));
            }
            if n.at > deadline {
                text.push_str(" (too late)");
                verdict.outcome = CheckOutcome::Fail;
            } else {
                verdict.outcome = CheckOutcome::Pass;
            }
            verdict.measured_text = text;
        }
        None => {
            verdict.outcome = CheckOutcome::Fail;
            verdict.measured_text = if let Some(n) = to_wanted.first() {
                let got: Vec<String> = matching(e, n, status)
                    .take(1)
                    .flat_map(|a| {
                        e.annotations.iter().map(|(k, _)| {
                            format!(
                                "{k}={:?}",
                                a.annotations.get(k).map_or("(none)", String::as_str)
                            )
                        })
                    })
                    .collect();
                format!(
                    "notified {wanted} at {} with annotations {}",
                    at(n.at),
                    got.join(", ")
                )
            } else {
                let elsewhere: Vec<String> = candidates(e, received, since, status)
                    .map(|n| format!("{} at {}", n.receiver, at(n.at)))
                    .collect();
                if elsewhere.is_empty() {
                    format!(
                        "{what} at {}; no {status} notification for it reached {} ({} in all)",
                        at(t),
                        received.url,
                        crate::units::count(received.notifications.len(), "notification")
                    )
                } else {
                    format!(
                        "{what} at {}; never notified {wanted}: notified {}",
                        at(t),
                        elsewhere.join(", ")
                    )
                }
            };
            if let Some(problem) = received.problems.first() {
                verdict.measured_text.push_str(&format!("; {problem}"));
            }
        }
    }
}

/// When the receiver may still get what `e` waits for: the deadline of an
/// expectation whose alert fired (or resolved) and whose notification has
/// not come yet; None when there is nothing to wait for.
pub(crate) fn waiting_until(
    e: &AlertExpectation,
    timeline: &AlertTimeline,
    received: &Received,
    window: Window,
) -> Option<i64> {
    let super::When::Notified { within, resolved } = e.when else {
        return None;
    };
    let (t, since) = event(e, timeline, window, resolved)?;
    let status = if resolved { "resolved" } else { "firing" };
    let wanted = e.receiver.as_deref().unwrap_or_default();
    let arrived = candidates(e, received, since, status)
        .any(|n| n.receiver == wanted && matching(e, n, status).any(|a| annotations_match(e, a)));
    (!arrived).then_some(t + within.as_millis() as i64)
}

fn group(n: &Notification) -> String {
    let labels: Vec<String> = n
        .group_labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{v}\""))
        .collect();
    format!("{{{}}}", labels.join(", "))
}

fn firing_names(n: &Notification) -> Vec<&str> {
    let mut names: Vec<&str> = n
        .alerts
        .iter()
        .filter(|a| a.status == "firing")
        .filter_map(|a| a.labels.get("alertname").map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Judges a grouping over the run's window.
pub(crate) fn grouped(g: &Grouping, received: Option<&Received>, window: Window) -> Verdict {
    let at = |t: i64| format!("+{}s", trim((t - window.start) as f64 / 1000.0));
    let mut verdict = Verdict {
        check: g.describe(),
        scope: "run".into(),
        measured: None,
        measured_text: String::new(),
        wanted: format!(
            "{} in one notification to {}",
            g.alerts.join(", "),
            g.receiver
        ),
        outcome: CheckOutcome::Fail,
        optional: false,
        source: g.source.clone(),
        truncated: false,
    };
    let Some(received) = received else {
        verdict.outcome = CheckOutcome::NoData;
        verdict.measured_text = "no webhook receiver ran (`metrics.receiver`)".into();
        return verdict;
    };
    let to_receiver: Vec<&Notification> = received
        .notifications
        .iter()
        .filter(|n| n.receiver == g.receiver && n.at >= window.start)
        .collect();
    if let Some(n) = to_receiver.iter().find(|n| {
        let names = firing_names(n);
        g.alerts.iter().all(|a| names.contains(&a.as_str()))
    }) {
        verdict.outcome = CheckOutcome::Pass;
        verdict.measured = Some(firing_names(n).len() as f64);
        verdict.measured_text = format!(
            "one notification at {}, group {}, with {}",
            at(n.at),
            group(n),
            firing_names(n).join(", ")
        );
        return verdict;
    }
    let parts: Vec<String> = g
        .alerts
        .iter()
        .map(|a| {
            match to_receiver
                .iter()
                .find(|n| firing_names(n).contains(&a.as_str()))
            {
                Some(n) => format!("{a} at {} with {}", at(n.at), firing_names(n).join(", ")),
                None => format!("{a} never notified {}", g.receiver),
            }
        })
        .collect();
    verdict.measured_text = format!("never in one notification: {}", parts.join("; "));
    verdict
}

/// Run-wide: firing notifications no expectation names (by receiver and
/// alert).
pub(crate) fn no_other_notifications(
    expected: &[(&str, &str)],
    received: Option<&Received>,
    window: Window,
    source: &str,
) -> Verdict {
    let at = |t: i64| format!("+{}s", trim((t - window.start) as f64 / 1000.0));
    let mut others: Vec<String> = Vec::new();
    for n in received.iter().flat_map(|r| &r.notifications) {
        if n.at < window.start {
            continue;
        }
        for name in firing_names(n) {
            let seen = format!("{name} to {}", n.receiver);
            if !expected.contains(&(n.receiver.as_str(), name))
                && !others.iter().any(|o| o.starts_with(&format!("{seen} at")))
            {
                others.push(format!("{seen} at {}", at(n.at)));
            }
        }
    }
    let mut wanted: Vec<String> = expected
        .iter()
        .map(|(receiver, alert)| format!("{alert} to {receiver}"))
        .collect();
    wanted.dedup();
    Verdict {
        check: "no other notifications".into(),
        scope: "run".into(),
        measured: Some(others.len() as f64),
        measured_text: match (received, others.is_empty()) {
            (None, _) => "no webhook receiver ran (`metrics.receiver`)".into(),
            (Some(_), true) => "none".into(),
            (Some(_), false) => format!("notified: {}", others.join(", ")),
        },
        wanted: format!("only {}", wanted.join(", ")),
        outcome: match (received, others.is_empty()) {
            (None, _) => CheckOutcome::NoData,
            (Some(_), true) => CheckOutcome::Pass,
            (Some(_), false) => CheckOutcome::Fail,
        },
        optional: false,
        source: source.to_string(),
        truncated: false,
    }
}

/// The longest `within` a notification expectation may give: the wait
/// after the run is bounded by it.
pub(crate) const MAX_WITHIN: Duration = Duration::from_secs(15 * 60);

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::expect::When;
    use crate::metrics::store::Labels;
    use crate::rules::{AlertHistory, Episode};

    fn timeline(pending: i64, fired: Option<i64>, resolved: Option<i64>) -> AlertTimeline {
        AlertTimeline {
            alerts: vec![AlertHistory {
                name: "HighErrorRate".into(),
                labels: Labels::from_pairs(&[("alertname", "HighErrorRate"), ("severity", "page")]),
                source: "rules.yml:3:9".into(),
                episodes: vec![Episode {
                    pending_at: pending,
                    fired_at: fired,
                    resolved_at: resolved,
                    annotations: BTreeMap::new(),
                    value: 0.2,
                }],
            }],
        }
    }

    fn expectation(receiver: &str, within: u64, resolved: bool) -> AlertExpectation {
        AlertExpectation {
            alert: "HighErrorRate".into(),
            when: When::Notified {
                within: Duration::from_secs(within),
                resolved,
            },
            labels: BTreeMap::new(),
            annotations: Vec::new(),
            receiver: Some(receiver.into()),
            source: "s.yaml:9:9".into(),
        }
    }

    fn notification(at: i64, receiver: &str, alerts: &[(&str, &str)]) -> Notification {
        Notification {
            at,
            receiver: receiver.into(),
            status: "firing".into(),
            group_key: String::new(),
            group_labels: [("alertname".to_string(), alerts[0].0.to_string())].into(),
            alerts: alerts
                .iter()
                .map(|(name, status)| NotifiedAlert {
                    status: (*status).into(),
                    labels: [("alertname".to_string(), (*name).to_string())].into(),
                    annotations: BTreeMap::new(),
                    starts_at: String::new(),
                    ends_at: String::new(),
                })
                .collect(),
            truncated_alerts: 0,
        }
    }

    fn received(notifications: Vec<Notification>) -> Received {
        Received {
            url: "http://127.0.0.1:9097/".into(),
            notifications,
            ..Received::default()
        }
    }

    const WINDOW: Window = Window {
        start: 0,
        end: 60_000,
        run_end: 100_000,
    };

    fn verdict_of(e: &AlertExpectation, t: &AlertTimeline, r: &Received) -> Verdict {
        let mut verdict = Verdict {
            check: e.describe(),
            scope: "phase errors".into(),
            measured: None,
            measured_text: String::new(),
            wanted: String::new(),
            outcome: CheckOutcome::Fail,
            optional: false,
            source: e.source.clone(),
            truncated: false,
        };
        judge(e, t, Some(r), WINDOW, &mut verdict);
        verdict
    }

    #[test]
    fn a_page_in_time_to_the_wanted_receiver_passes() {
        let t = timeline(10_000, Some(15_000), None);
        let r = received(vec![notification(
            17_500,
            "pager",
            &[("HighErrorRate", "firing")],
        )]);
        let v = verdict_of(&expectation("pager", 30, false), &t, &r);
        assert_eq!(v.outcome, CheckOutcome::Pass, "{}", v.measured_text);
        assert_eq!(v.measured, Some(2.5));
        assert!(
            v.measured_text
                .starts_with("notified pager at +17.5s, 2.5s after it fired (+15s)"),
            "{}",
            v.measured_text
        );
    }

    #[test]
    fn late_wrong_receiver_or_no_firing_fail_with_why() {
        let t = timeline(10_000, Some(15_000), None);
        let late = received(vec![notification(
            50_000,
            "pager",
            &[("HighErrorRate", "firing")],
        )]);
        let v = verdict_of(&expectation("pager", 30, false), &t, &late);
        assert_eq!(v.outcome, CheckOutcome::Fail);
        assert!(
            v.measured_text.ends_with("(too late)"),
            "{}",
            v.measured_text
        );
        let elsewhere = received(vec![notification(
            16_000,
            "slack",
            &[("HighErrorRate", "firing")],
        )]);
        let v = verdict_of(&expectation("pager", 30, false), &t, &elsewhere);
        assert_eq!(v.outcome, CheckOutcome::Fail);
        assert!(
            v.measured_text
                .contains("never notified pager: notified slack at +16s"),
            "{}",
            v.measured_text
        );
        // A notification from before the episode began is not its page.
        let stale = received(vec![notification(
            5_000,
            "pager",
            &[("HighErrorRate", "firing")],
        )]);
        let v = verdict_of(&expectation("pager", 30, false), &t, &stale);
        assert_eq!(v.outcome, CheckOutcome::Fail, "{}", v.measured_text);
        let never = timeline(10_000, None, Some(12_000));
        let v = verdict_of(&expectation("pager", 30, false), &never, &stale);
        assert_eq!(v.outcome, CheckOutcome::Fail);
        assert!(
            v.measured_text.contains("never fired"),
            "{}",
            v.measured_text
        );
    }

    #[test]
    fn the_resolved_notification_is_timed_from_the_resolve() {
        let t = timeline(10_000, Some(15_000), Some(40_000));
        let firing_only = received(vec![notification(
            16_000,
            "pager",
            &[("HighErrorRate", "firing")],
        )]);
        let e = expectation("pager", 10, true);
        assert_eq!(verdict_of(&e, &t, &firing_only).outcome, CheckOutcome::Fail);
        assert_eq!(
            waiting_until(&e, &t, &firing_only, WINDOW),
            Some(50_000),
            "due 10 s after the resolve"
        );
        let both = received(vec![
            notification(16_000, "pager", &[("HighErrorRate", "firing")]),
            notification(43_000, "pager", &[("HighErrorRate", "resolved")]),
        ]);
        let v = verdict_of(&e, &t, &both);
        assert_eq!(v.outcome, CheckOutcome::Pass, "{}", v.measured_text);
        assert_eq!(v.measured, Some(3.0));
        assert_eq!(waiting_until(&e, &t, &both, WINDOW), None);
    }

    #[test]
    fn groupings_and_other_notifications() {
        let r = received(vec![
            notification(16_000, "pager", &[("A", "firing")]),
            notification(18_000, "pager", &[("A", "firing"), ("B", "firing")]),
            notification(19_000, "slack", &[("C", "firing")]),
        ]);
        let g = Grouping {
            receiver: "pager".into(),
            alerts: vec!["A".into(), "B".into()],
            source: String::new(),
        };
        let v = grouped(&g, Some(&r), WINDOW);
        assert_eq!(v.outcome, CheckOutcome::Pass, "{}", v.measured_text);
        let apart = received(vec![
            notification(16_000, "pager", &[("A", "firing")]),
            notification(18_000, "pager", &[("B", "firing")]),
        ]);
        let v = grouped(&g, Some(&apart), WINDOW);
        assert_eq!(v.outcome, CheckOutcome::Fail);
        assert_eq!(
            v.measured_text,
            "never in one notification: A at +16s with A; B at +18s with B"
        );
        let v = no_other_notifications(&[("pager", "A"), ("pager", "B")], Some(&r), WINDOW, "");
        assert_eq!(v.outcome, CheckOutcome::Fail);
        assert_eq!(v.measured_text, "notified: C to slack at +19s");
        let v = no_other_notifications(
            &[("pager", "A"), ("pager", "B"), ("slack", "C")],
            Some(&r),
            WINDOW,
            "",
        );
        assert_eq!(v.outcome, CheckOutcome::Pass);
    }
}
