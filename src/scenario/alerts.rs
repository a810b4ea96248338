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
                "e.g. `{alert: HighErrorRate, fires_within: 90s}`, `{alert: HighErrorRate, stays: inactive}`, `{alert: HighErrorRate, resolves_within: 60s}`"
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
        let kinds =
            usize::from(fires) + usize::from(resolves.is_some()) + usize::from(stays.is_some());
        if kinds != 1 {
            self.error(
                Self::at(alert),
                format!(
                    "alert `{}` needs one of `fires_within`/`fires_after`, `stays` or `resolves_within`",
                    alert.value
                ),
                hint(),
            );
            return None;
        }
        let when = if fires {
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
            receiver: map.receiver.as_ref().map(|r| r.value.clone()),
            source,
        })
    }

    /// `{no_other_alerts: true}` stands alone.
    pub(super) fn no_other_alerts(&mut self, map: &ExpectMap, flag: &Spanned<bool>) -> bool {
        let alone = map.check.is_none()
            && map.metric.is_none()
            && map.fires_within.is_none()
            && map.stays.is_none()
            && map.resolves_within.is_none()
            && map.labels.is_empty();
        if !alone {
            self.error(
                Self::at(flag),
                "`no_other_alerts` stands alone: `- {no_other_alerts: true}`",
                None,
            );
            return false;
        }
        flag.value
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
    fn check_alert_name(&mut self, alert: &Text) -> bool {
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
