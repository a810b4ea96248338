//! Validation of what game-day drills add to a scenario: rule files,
//! alert expectations, and the demo service's faults per phase. Part of
//! [`super::resolve`].

use std::time::Duration;

use serde_saphyr::Spanned;

use super::forms::parse_number;
use super::model::{self, ExpectMap, Text};
use super::resolve::Validator;
use super::{DemoFault, Metrics, nearest};
use crate::expect::{AlertExpectation, When};
use crate::rules::{RuleFile, RuleKind};

/// How a drill's Alertmanager reaches slogate's webhook receiver.
const RECEIVER_HINT: &str = "add `metrics: {receiver: 127.0.0.1:9097}` (with `prometheus`), and route Alertmanager to it: `receivers: [{name: pagerduty-critical, webhook_configs: [{url: \"http://127.0.0.1:9097/\"}]}]`";

impl Validator<'_> {
    /// `{alert: NAME, fires_within: 90s, labels: {...}, annotations: {...}}`.
    pub(super) fn alert_expectation(
        &mut self,
        map: &ExpectMap,
        alert: &Text,
        source: String,
    ) -> Option<AlertExpectation> {
        let hint = || {
            Some(
                "e.g. `{alert: HighErrorRate, fires_within: 90s}`, `{alert: HighErrorRate, stays: inactive}`, `{alert: HighErrorRate, resolves_within: 60s}`, `{alert: HighErrorRate, notified: pagerduty-critical, within: 30s}`"
                    .to_string(),
            )
        };
        let stray = [
            ("check", map.check.is_some()),
            ("metric", map.metric.is_some()),
            ("request", map.request.is_some()),
            ("holds", map.holds.is_some()),
            ("step", map.step.is_some()),
            ("below", map.below.is_some()),
            ("above", map.above.is_some()),
            ("at_most", map.at_most.is_some()),
            ("at_least", map.at_least.is_some()),
            ("optional", map.optional.is_some()),
            ("grouped", map.grouped.is_some()),
            (
                "no_other_notifications",
                map.no_other_notifications.is_some(),
            ),
        ];
        if let Some((key, _)) = stray.iter().find(|(_, given)| *given) {
            self.error(
                Self::at(alert),
                format!("`{key}` does not go with `alert`"),
                hint(),
            );
            return None;
        }
        if alert.value.trim().is_empty() {
            self.error(Self::at(alert), "`alert` is empty", hint());
            return None;
        }
        if !self.check_alert_name(alert) {
            return None;
        }
        let mut duration = |text: &Option<Text>, what: &str| -> Result<Option<Duration>, ()> {
            match text {
                None => Ok(None),
                Some(text) => match crate::units::parse_duration(&text.value) {
                    Ok(d) => Ok(Some(d)),
                    Err(e) => {
                        self.error(Self::at(text), format!("{what}: {e}"), None);
                        Err(())
                    }
                },
            }
        };
        let within = duration(&map.fires_within, "fires_within").ok()?;
        let after = duration(&map.fires_after, "fires_after").ok()?;
        let resolves = duration(&map.resolves_within, "resolves_within").ok()?;
        let stays = map.stays.as_ref();
        let fires = within.is_some() || after.is_some();
        let notified = map.notified.as_ref().or(map.resolved_notified.as_ref());
        let kinds = usize::from(fires)
            + usize::from(resolves.is_some())
            + usize::from(stays.is_some())
            + usize::from(map.notified.is_some())
            + usize::from(map.resolved_notified.is_some());
        if kinds != 1 {
            self.error(
                Self::at(alert),
                format!(
                    "alert `{}` needs one of `fires_within`/`fires_after`, `stays`, `resolves_within`, `notified` or `resolved_notified`",
                    alert.value
                ),
                hint(),
            );
            return None;
        }
        if let Some(text) = &map.within
            && notified.is_none()
        {
            self.error(
                Self::at(text),
                "`within` goes with `notified` or `resolved_notified`",
                Some("for when an alert fires, write `fires_within`".into()),
            );
            return None;
        }
        let when = if let Some(receiver) = notified {
            let within = self.notification_within(map, receiver)?;
            When::Notified {
                within,
                resolved: map.resolved_notified.is_some(),
            }
        } else if fires {
            if let (Some(a), Some(w)) = (after, within)
                && a > w
            {
                self.error(
                    map.fires_after.as_ref().and_then(Self::at),
                    "`fires_after` is longer than `fires_within`",
                    None,
                );
                return None;
            }
            When::Fires {
                after: after.unwrap_or_default(),
                within,
            }
        } else if let Some(d) = resolves {
            When::ResolvesWithin(d)
        } else {
            let stays = stays.expect("one kind");
            match stays.value.as_str() {
                "inactive" => When::StaysInactive,
                "firing" => When::StaysFiring,
                other => {
                    self.error(
                        Self::at(stays),
                        format!("`stays: {other}`: expected `inactive` or `firing`"),
                        None,
                    );
                    return None;
                }
            }
        };
        if !self.reachable(alert, map, &when) {
            return None;
        }
        let labels = map
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect();
        let mut annotations = Vec::new();
        for (name, pattern) in &map.annotations {
            match regex::Regex::new(&pattern.value) {
                Ok(re) => annotations.push((name.clone(), re)),
                Err(e) => {
                    self.error(
                        Self::at(pattern),
                        format!("annotation `{name}`: not a regular expression: {e}"),
                        Some(
                            "annotations are matched as regular expressions, searched in the text"
                                .into(),
                        ),
                    );
                    return None;
                }
            }
        }
        if let Some(receiver) = &map.receiver
            && !matches!(when, When::Fires { .. })
        {
            self.error(
                Self::at(receiver),
                "`receiver` goes with `fires_within` or `fires_after`",
                None,
            );
            return None;
        }
        Some(AlertExpectation {
            alert: alert.value.clone(),
            when,
            labels,
            annotations,
            receiver: notified.or(map.receiver.as_ref()).map(|r| r.value.clone()),
            source,
        })
    }

    /// `{no_other_alerts: true}` and `{no_other_notifications: true}`
    /// stand alone.
    pub(super) fn no_other_alerts(&mut self, map: &ExpectMap, flag: &Spanned<bool>) -> bool {
        let key = if map.no_other_alerts.is_some() {
            "no_other_alerts"
        } else {
            "no_other_notifications"
        };
        let alone = map.check.is_none()
            && map.metric.is_none()
            && map.fires_within.is_none()
            && map.stays.is_none()
            && map.resolves_within.is_none()
            && map.notified.is_none()
            && map.resolved_notified.is_none()
            && map.grouped.is_none()
            && map.labels.is_empty()
            && (map.no_other_alerts.is_none() || map.no_other_notifications.is_none());
        if !alone {
            self.error(
                Self::at(flag),
                format!("`{key}` stands alone: `- {{{key}: true}}`"),
                None,
            );
            return false;
        }
        if key == "no_other_notifications" && !self.paging {
            self.error(
                Self::at(flag),
                "`no_other_notifications` needs slogate's webhook receiver: `metrics.receiver`",
                Some(RECEIVER_HINT.into()),
            );
            return false;
        }
        flag.value
    }

    /// Whether slogate's webhook receiver runs, for the expectation on
    /// `receiver`; says why it must otherwise.
    fn receiver_runs(&mut self, receiver: &Text) -> bool {
        if !self.paging {
            self.error(
                Self::at(receiver),
                "notification expectations need slogate's webhook receiver: `metrics.receiver`",
                Some(RECEIVER_HINT.into()),
            );
        }
        self.paging
    }

    /// A notification expectation's `within`, and that there is a
    /// receiver to judge it at.
    fn notification_within(&mut self, map: &ExpectMap, receiver: &Text) -> Option<Duration> {
        if map.receiver.is_some() {
            self.error(
                map.receiver.as_ref().and_then(Self::at),
                "`receiver` is Alertmanager's routing of a firing; with `notified` the receiver is named there",
                None,
            );
            return None;
        }
        if receiver.value.trim().is_empty() {
            self.error(Self::at(receiver), "the receiver's name is empty", None);
            return None;
        }
        if !self.receiver_runs(receiver) {
            return None;
        }
        let Some(text) = &map.within else {
            self.error(
                Self::at(receiver),
                "a notification expectation needs `within`: how long after the firing (or resolve) the notification may come",
                Some("e.g. `{alert: HighErrorRate, notified: pagerduty-critical, within: 30s}`; Alertmanager waits `group_wait` before the first notification, `group_interval` before a resolved one".into()),
            );
            return None;
        };
        let within = match crate::units::parse_duration(&text.value) {
            Ok(d) => d,
            Err(e) => {
                self.error(Self::at(text), format!("within: {e}"), None);
                return None;
            }
        };
        if within.is_zero() || within > crate::expect::notify::MAX_WITHIN {
            self.error(
                Self::at(text),
                format!(
                    "`within: {}` is not between 0s and {}",
                    text.value,
                    crate::units::format_duration(crate::expect::notify::MAX_WITHIN)
                ),
                Some(
                    "slogate waits after the run for what is still due, so the bound is finite"
                        .into(),
                ),
            );
            return None;
        }
        Some(within)
    }

    /// `{notified: R, grouped: [A, B]}`: run-wide.
    pub(super) fn grouping(
        &mut self,
        map: &ExpectMap,
        source: String,
    ) -> Option<crate::expect::notify::Grouping> {
        let hint = || {
            Some(
                "e.g. `{notified: pagerduty-critical, grouped: [HighErrorRate, HighLatency]}`"
                    .to_string(),
            )
        };
        let (Some(receiver), Some(grouped)) = (&map.notified, &map.grouped) else {
            let at = map
                .notified
                .as_ref()
                .and_then(Self::at)
                .or_else(|| map.resolved_notified.as_ref().and_then(Self::at))
                .or_else(|| map.grouped.as_ref().and_then(Self::at));
            self.error(
                at,
                "`notified` needs `alert` (the alert's notification) or `grouped` (alerts in one notification)",
                hint(),
            );
            return None;
        };
        if let Some(key) = [
            ("resolved_notified", map.resolved_notified.is_some()),
            ("within", map.within.is_some()),
            ("labels", !map.labels.is_empty()),
            ("annotations", !map.annotations.is_empty()),
            ("receiver", map.receiver.is_some()),
            ("check", map.check.is_some()),
            ("promql", map.promql.is_some()),
        ]
        .iter()
        .find_map(|(key, given)| given.then_some(*key))
        {
            self.error(
                Self::at(grouped),
                format!("`{key}` does not go with `grouped`"),
                hint(),
            );
            return None;
        }
        if !self.receiver_runs(receiver) {
            return None;
        }
        if grouped.value.len() < 2 {
            self.error(
                Self::at(grouped),
                "`grouped` names the alerts that come in one notification: at least two",
                hint(),
            );
            return None;
        }
        let mut alerts = Vec::new();
        for alert in &grouped.value {
            if !self.check_alert_name(alert) {
                return None;
            }
            alerts.push(alert.value.clone());
        }
        Some(crate::expect::notify::Grouping {
            receiver: receiver.value.clone(),
            alerts,
            source,
        })
    }

    /// Loads the rule files, relative to the scenario's directory.
    pub(super) fn rule_files(&mut self, paths: &[Text]) -> Vec<RuleFile> {
        let dir = self.file.parent().unwrap_or(std::path::Path::new("."));
        let mut files = Vec::new();
        for text in paths {
            let path = dir.join(&text.value);
            if !path.is_file() {
                self.error(
                    Self::at(text),
                    format!("no rule file at {}", path.display()),
                    Some("rule file paths are relative to the scenario file".into()),
                );
                continue;
            }
            match crate::rules::load(&path) {
                Ok(file) => files.push(file),
                Err(errors) => self.errors.extend(errors),
            }
        }
        files
    }

    /// The alerting rules expectations may name: Some(Ok(names)) from the
    /// rule files; Some(Err(())) when there is nothing to read alerts from
    /// (no rules and no Prometheus); None when any name may do (a
    /// Prometheus's own rules, or rule files that failed to load).
    pub(super) fn known_alerts(
        &self,
        rules: &[RuleFile],
        metrics: &Option<Metrics>,
        rules_given: bool,
    ) -> Option<Result<Vec<String>, ()>> {
        if rules_given && rules.is_empty() {
            return None;
        }
        if rules.is_empty() {
            let prometheus = metrics.as_ref().is_some_and(|m| m.prometheus.is_some());
            return (!prometheus).then_some(Err(()));
        }
        Some(Ok(rules
            .iter()
            .flat_map(|f| &f.groups)
            .flat_map(|g| &g.rules)
            .filter_map(|r| match &r.kind {
                RuleKind::Alerting { alert, .. } => Some(alert.clone()),
                RuleKind::Recording { .. } => None,
            })
            .collect()))
    }

    /// Whether an expectation may name `alert`; reports why not.
    pub(super) fn check_alert_name(&mut self, alert: &Text) -> bool {
        match &self.alert_names {
            None => true,
            Some(Err(())) => {
                self.error(
                    Self::at(alert),
                    format!("alert expectations need rules: `{}` comes from no rule file", alert.value),
                    Some("add `rules: [rules/alerts.yml]`, or `metrics: {prometheus: URL}` to read a Prometheus's alerts".into()),
                );
                false
            }
            Some(Ok(names)) if names.contains(&alert.value) => true,
            Some(Ok(names)) => {
                let hint = nearest(&alert.value, names.iter().map(String::as_str))
                    .map(|n| format!("did you mean `{n}`?"))
                    .or_else(|| Some(format!("the rule files define: {}", names.join(", "))));
                self.error(
                    Self::at(alert),
                    format!("no alerting rule named `{}` in the rule files", alert.value),
                    hint,
                );
                false
            }
        }
    }

    /// `faults: [{demo: {error_ratio: 20%, ...}}, {proxy: db, kind: abort, ...}]`.
    pub(super) fn faults(
        &mut self,
        specs: &[Spanned<model::FaultSpec>],
        phase_duration: Option<std::time::Duration>,
    ) -> (Vec<DemoFault>, Vec<super::ProxyFault>) {
        let mut demo_faults = Vec::new();
        let mut proxy_faults = Vec::new();
        for spec in specs {
            match (&spec.value.demo, &spec.value.proxy) {
                (Some(demo), None) => {
                    if spec.value.kind.is_some() {
                        self.error(
                            Self::at(spec),
                            "a `demo` fault sets the demo's knobs; `kind` and the keys after it are for `proxy` faults",
                            Some("put each in a fault of its own".into()),
                        );
                    } else if let Some(fault) = self.demo_fault(demo) {
                        demo_faults.push(fault);
                    }
                }
                (None, Some(_)) => {
                    if let Some(fault) = self.proxy_fault(spec, phase_duration) {
                        proxy_faults.push(fault);
                    }
                }
                (Some(_), Some(_)) => self.error(
                    Self::at(spec),
                    "a fault is either `demo` or `proxy`, not both",
                    Some("list them as two faults".into()),
                ),
                (None, None) => self.error(
                    Self::at(spec),
                    "a fault needs a kind: `demo` or `proxy`",
                    Some("e.g. `faults: [{demo: {error_ratio: 20%}}]` or `[{proxy: db, kind: abort, status: 503, probability: 20%}]`".into()),
                ),
            }
        }
        (demo_faults, proxy_faults)
    }

    fn demo_fault(&mut self, spec: &Spanned<model::DemoFaultSpec>) -> Option<DemoFault> {
        let at = Self::at(spec);
        let spec = &spec.value;
        let mut knobs = crate::demo::Faults::default();
        if let Some(ratio) = &spec.error_ratio {
            match parse_number(&ratio.value) {
                Ok(r) if (0.0..=1.0).contains(&r) => knobs.error_ratio = r,
                Ok(_) | Err(_) => {
                    self.error(
                        Self::at(ratio),
                        format!(
                            "error_ratio `{}` is not within 0..1 (or 0%..100%)",
                            ratio.value
                        ),
                        None,
                    );
                    return None;
                }
            }
        }
        if let Some(status) = &spec.error_status {
            knobs.error_status = status.value;
        }
        for (text, knob) in [
            (&spec.latency, &mut knobs.latency_ms),
            (&spec.jitter, &mut knobs.jitter_ms),
        ] {
            if let Some(text) = text {
                match crate::units::parse_duration(&text.value) {
                    Ok(d) => *knob = d.as_secs_f64() * 1000.0,
                    Err(e) => {
                        self.error(Self::at(text), e.to_string(), None);
                        return None;
                    }
                }
            }
        }
        let knobs = match knobs.validated() {
            Ok(knobs) => knobs,
            Err(e) => {
                self.error(at, format!("demo fault: {e}"), None);
                return None;
            }
        };
        Some(DemoFault {
            target: spec
                .target
                .as_ref()
                .map(|t| t.value.clone())
                .unwrap_or_default(),
            knobs,
        })
    }
}

/// Why a demo fault has no target to apply to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultTargetError {
    #[error("no target named `{0}`")]
    Unknown(String),
    /// None named, and the scenario has several (or no) targets.
    #[error("name the demo's target: `demo: {{target: api, ...}}`")]
    Unnamed,
}

/// The target a demo fault applies to: the one named, else the only one
/// (checked when the scenario is loaded).
pub fn fault_target<'a>(
    fault: &'a DemoFault,
    targets: &'a [(String, super::Target)],
) -> Result<&'a str, FaultTargetError> {
    if !fault.target.is_empty() {
        return targets
            .iter()
            .find(|(name, _)| *name == fault.target)
            .map(|(name, _)| name.as_str())
            .ok_or_else(|| FaultTargetError::Unknown(fault.target.clone()));
    }
    match targets {
        [(name, _)] => Ok(name),
        _ => Err(FaultTargetError::Unnamed),
    }
}
