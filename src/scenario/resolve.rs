//! Validation: the YAML model in, a [`Scenario`] out, or every error found
//! (not just the first), each at its line and column. This file holds the
//! top level (keys, `redact:`, aborts, `${ENV}`); each section has a file
//! of its own beside it: `metrics.rs`, `targets.rs`, `requests.rs`,
//! `phases.rs`, `mix.rs`, `alerts.rs`, `slos.rs`, `proxies.rs`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_saphyr::Spanned;

use super::model::{ScenarioFile, Text};
use super::{Position, Scenario, ScenarioError, Target};
use crate::plan::template::Names;
use crate::units::{Rate, parse_duration};

/// Keys of each map in the file, for "did you mean" on unknown keys.
const KEYS: &[&[&str]] = &[
    &[
        "name",
        "description",
        "targets",
        "defaults",
        "data",
        "requests",
        "flows",
        "before",
        "after",
        "phases",
        "expect",
        "steady_state",
        "abort",
        "metrics",
        "rules",
        "slos",
        "proxies",
        "redact",
        "outputs",
        "logs",
    ],
    &["url", "demo", "upstream"],
    &[
        "timeout",
        "connect_timeout",
        "connections",
        "headers",
        "http2",
        "insecure",
    ],
    &["csv", "order"],
    &[
        "name",
        "url",
        "method",
        "headers",
        "body",
        "weight",
        "expect_status",
    ],
    &[
        "name", "duration", "requests", "load", "mix", "expect", "faults",
    ],
    &["request", "flow", "weight"],
    &["name", "weight", "think", "cookies", "setup", "steps"],
    &[
        "name",
        "url",
        "method",
        "headers",
        "body",
        "expect_status",
        "capture",
        "check",
        "think",
        "continue",
        "repeat",
        "if",
    ],
    &["var", "equals"],
    super::flow_checks::KEYS[0],
    super::flow_checks::KEYS[1],
    super::flow_checks::KEYS[2],
    &["rate", "steps", "concurrency", "think", "connections"],
    &["from", "to"],
    &["min", "max", "mean", "stddev"],
    &[
        "check",
        "metric",
        "below",
        "at_most",
        "above",
        "at_least",
        "request",
        "flow",
        "optional",
        "promql",
        "holds",
        "step",
        "alert",
        "fires_within",
        "fires_after",
        "resolves_within",
        "stays",
        "labels",
        "annotations",
        "firing",
        "for",
        "no_other_alerts",
        "receiver",
        "notified",
        "resolved_notified",
        "within",
        "grouped",
        "no_other_notifications",
    ],
    &[
        "scrape",
        "prometheus",
        "lookback",
        "max_series",
        "max_samples",
        "evaluation_interval",
        "alertmanager",
        "receiver",
        "judge",
    ],
    &["url", "interval", "job", "body_size_limit", "sample_limit"],
    &["demo"],
    &["target", "error_ratio", "error_status", "latency", "jitter"],
    &[
        "name",
        "objective",
        "period",
        "sli",
        "expect",
        "before_run",
        "file",
        "slo",
    ],
    &["client", "errors", "good", "total"],
    &[
        "listen",
        "upstream",
        "mode",
        "control",
        "allow_remote",
        "header_timeout",
        "max_connections",
    ],
    &PHASE_FAULT_KEYS,
];

/// A phase's fault: `demo` or `proxy`, then the proxy fault's own keys,
/// taken from the one list of them in [`crate::proxy::fault::KEYS`].
const PHASE_FAULT_KEYS: [&str; 2 + crate::proxy::fault::KEYS.len()] = {
    let mut keys = [""; 2 + crate::proxy::fault::KEYS.len()];
    keys[0] = "demo";
    keys[1] = "proxy";
    let mut i = 0;
    while i < crate::proxy::fault::KEYS.len() {
        keys[2 + i] = crate::proxy::fault::KEYS[i];
        i += 1;
    }
    keys
};

/// Parses and validates `source` (the text of `file`).
pub fn resolve(
    file: &Path,
    source: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Scenario, Vec<ScenarioError>> {
    let parsed: ScenarioFile =
        serde_saphyr::from_str(source).map_err(|e| vec![yaml_error(file, source, &e)])?;
    let mut v = Validator {
        file,
        source,
        errors: Vec::new(),
        alert_names: None,
        proxy_modes: BTreeMap::new(),
        paging: false,
        clock: None,
        soonest_fire: BTreeMap::new(),
    };
    let scenario = v.scenario(parsed, env);
    if v.errors.is_empty() {
        Ok(scenario)
    } else {
        Err(v.errors)
    }
}

/// Turns a serde-saphyr error into ours, with a "did you mean" for unknown keys.
fn yaml_error(file: &Path, source: &str, error: &serde_saphyr::Error) -> ScenarioError {
    crate::diag::yaml::error_with_keys(file, source, error, KEYS)
}

pub(super) struct Validator<'a> {
    pub(super) file: &'a Path,
    pub(super) source: &'a str,
    pub(super) errors: Vec<ScenarioError>,
    /// The alerting rules of the rule files (None: no rule files, or a
    /// Prometheus whose rules slogate does not see).
    pub(super) alert_names: Option<Result<Vec<String>, ()>>,
    /// The proxies declared, for the phases' faults.
    pub(super) proxy_modes: BTreeMap<String, crate::proxy::Mode>,
    /// `metrics.receiver` is given: notification expectations may be.
    pub(super) paging: bool,
    /// Where the expectations being validated sit in the run's time
    /// (None: not known from the file).
    pub(super) clock: Option<super::reach::Clock>,
    /// Per alert: the `for` and evaluation interval of its soonest rule.
    pub(super) soonest_fire: BTreeMap<String, (Duration, Duration)>,
}

impl Validator<'_> {
    pub(super) fn error(
        &mut self,
        at: Option<Position>,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        let mut error = ScenarioError::at(self.file, self.source, at, message);
        error.hint = hint;
        self.errors.push(error);
    }

    pub(super) fn at<T>(spanned: &Spanned<T>) -> Option<Position> {
        Some(Position::from(spanned.referenced))
    }

    /// `file:line:col` of `spanned`, for verdicts.
    pub(super) fn source_of<T>(&self, spanned: &Spanned<T>) -> String {
        Self::at(spanned).map_or_else(
            || self.file.display().to_string(),
            |p| format!("{}:{}:{}", self.file.display(), p.line, p.column),
        )
    }

    pub(super) fn duration(&mut self, text: &Text, what: &str) -> Option<Duration> {
        match parse_duration(&text.value) {
            Ok(d) if !d.is_zero() => Some(d),
            Ok(_) => {
                self.error(
                    Self::at(text),
                    format!("{what} must be longer than 0s"),
                    None,
                );
                None
            }
            Err(e) => {
                self.error(Self::at(text), format!("{what}: {e}"), None);
                None
            }
        }
    }

    pub(super) fn rate(&mut self, text: &Text, what: &str) -> Option<Rate> {
        match text.value.parse::<Rate>() {
            Ok(rate) => Some(rate),
            Err(e) => {
                self.error(Self::at(text), format!("{what}: {e}"), None);
                None
            }
        }
    }

    fn scenario(&mut self, file: ScenarioFile, env: &dyn Fn(&str) -> Option<String>) -> Scenario {
        if file.name.value.trim().is_empty() {
            self.error(
                Self::at(&file.name),
                "`name` is empty",
                Some("name the scenario: it names the results directory".into()),
            );
        }
        let targets = self.targets(&file.targets, env);
        // Every declared name, valid or not, so one bad target gives one error.
        let mut target_names: Vec<String> = file.targets.keys().cloned().collect();
        let proxies = self.proxies(&file.proxies, &targets, &target_names);
        // `${db}` in a URL is the proxy's address.
        target_names.extend(file.proxies.keys().cloned());
        self.demo_upstreams(&file.targets, &target_names);
        let datasets = self.datasets(&file.data);
        let columns: BTreeMap<String, Vec<String>> = datasets
            .iter()
            .map(|d| (d.name.clone(), d.columns.clone()))
            .collect();
        let names = Names {
            targets: &target_names,
            datasets: &columns,
            env,
            vars: &[],
            vars_in_scope: 0,
        };
        let transport = self.transport(&file.defaults);
        let mut default_headers = Vec::new();
        for (name, value) in &file.defaults.headers {
            if let Some(header) = self.header(name, value, &names) {
                default_headers.push(header);
            }
        }
        let target_map: BTreeMap<String, Target> = targets.iter().cloned().collect();
        let requests = match &file.requests {
            Some(specs) => self.requests(specs, &names, &default_headers, &target_map),
            None => Vec::new(),
        };
        if file.requests.is_none() && file.flows.is_empty() {
            self.error(
                None,
                "the scenario has neither `requests` nor `flows`",
                Some("add `requests: [{name: home, url: \"${api}/\"}]`, or a flow".into()),
            );
        }
        let request_names: Vec<String> = requests.iter().map(|r| r.name.clone()).collect();
        let context = super::flows::Context {
            names: &names,
            default_headers: &default_headers,
            targets: &target_map,
        };
        let mut taken = request_names.clone();
        let flows = self.flows("flows", &file.flows, &context, &mut taken);
        let before = self.flows("before", &file.before, &context, &mut taken);
        let after = self.flows("after", &file.after, &context, &mut taken);
        let flow_names: Vec<String> = flows.iter().map(|f| f.name.clone()).collect();
        let around_names: Vec<String> = before
            .iter()
            .chain(&after)
            .map(|f| f.name.clone())
            .collect();
        let flow_steps: Vec<(String, Vec<String>)> = flows
            .iter()
            .map(|f| {
                let steps = f.setup.iter().chain(&f.steps).map(|s| s.name.clone());
                (f.name.clone(), steps.collect())
            })
            .collect();
        let sendables = super::mix::Sendables {
            requests: &request_names,
            flows: &flow_names,
            steps: &flow_steps,
            around: &around_names,
        };
        if file.phases.value.is_empty() {
            self.error(
                Self::at(&file.phases),
                "`phases` is empty",
                Some("add at least one phase with a duration and a load".into()),
            );
        }
        let metrics = file.metrics.as_ref().and_then(|m| self.metrics(m, &names));
        let rules = self.rule_files(&file.rules);
        self.alert_names = self.known_alerts(&rules, &metrics, !file.rules.is_empty());
        self.paging = file
            .metrics
            .as_ref()
            .is_some_and(|m| m.value.receiver.is_some());
        let default_connections = file.defaults.connections.as_ref().map(|c| c.value);
        if let Some(m) = &metrics {
            self.soonest_fire = super::reach::soonest_fire(&rules, m.evaluation_interval);
        }
        let specs: Vec<&super::model::PhaseSpec> =
            file.phases.value.iter().map(|p| &p.value).collect();
        let (starts, run) = super::reach::starts(&specs);
        let phases = file
            .phases
            .value
            .iter()
            .zip(starts)
            .enumerate()
            .filter_map(|(index, (phase, start))| {
                self.clock = start.zip(run).map(|(start, run)| super::reach::Clock {
                    phase: Some(phase.value.name.value.clone()),
                    start,
                    run,
                    faulted_before: specs[..index].iter().any(|p| !p.faults.is_empty()),
                });
                self.phase(phase, &sendables, default_connections)
            })
            .collect::<Vec<_>>();
        self.clock = run.map(|run| super::reach::Clock {
            phase: None,
            start: Duration::ZERO,
            run,
            faulted_before: false,
        });
        let mut seen = Vec::new();
        for phase in &file.phases.value {
            if seen.contains(&phase.value.name.value) {
                self.error(
                    Self::at(&phase.value.name),
                    format!("a second phase named `{}`", phase.value.name.value),
                    Some("phase names identify results; make them unique".into()),
                );
            }
            seen.push(phase.value.name.value.clone());
        }
        let sent = super::mix::sent_by_some_phase(&file.phases.value, &request_names);
        let request_specs: Vec<&Text> = file
            .requests
            .iter()
            .flat_map(|r| &r.value)
            .map(|r| &r.value.name)
            .collect();
        self.unsent("request", &request_specs, &request_names, &sent);
        let sent_flows = super::mix::sent_by_some_phase(&file.phases.value, &flow_names);
        let flow_specs: Vec<&Text> = file.flows.iter().map(|f| &f.value.name).collect();
        self.unsent("flow", &flow_specs, &flow_names, &sent_flows);
        let sent_all: Vec<String> = sent.iter().chain(&sent_flows).cloned().collect();
        let expect = self.expectations(
            &file.expect,
            &sendables,
            super::phases::Sends::Run {
                requests: &sent_all,
            },
        );
        let steady_state = self.steady_state(&file.steady_state, &sendables, &sent_all, &specs);
        let alerts_expected =
            !expect.alerts.is_empty() || phases.iter().any(|p| !p.alerts.is_empty());
        let uses_promql = !expect.promql.is_empty()
            || phases.iter().any(|p| !p.promql.is_empty())
            || steady_state.as_ref().is_some_and(|s| !s.promql.is_empty())
            || !rules.is_empty()
            || alerts_expected;
        for phase in &phases {
            for fault in &phase.faults {
                if let Err(e) = super::alerts::fault_target(fault, &targets) {
                    let at = file
                        .phases
                        .value
                        .iter()
                        .find(|spec| spec.value.name.value == phase.name)
                        .and_then(|spec| Self::at(&spec.value.name));
                    self.error(at, format!("phase `{}`: {e}", phase.name), None);
                }
            }
        }
        let has_source = metrics
            .as_ref()
            .is_some_and(|m| !m.scrape.is_empty() || m.prometheus.is_some());
        if uses_promql && !has_source && (file.metrics.is_none() || metrics.is_some()) {
            self.error(
                None,
                "PromQL and alert expectations (and rules) need metrics to query",
                Some(
                    "add `metrics: {scrape: [\"${api}/metrics\"]}` (embedded) or `metrics: {prometheus: http://127.0.0.1:9090}`"
                        .into(),
                ),
            );
        }
        let slos = self.slos(&file.slos);
        if slos.iter().any(|s| !s.sli.is_client()) && !has_source {
            self.error(
                None,
                "a PromQL SLI (`errors`, `total`, or an SLO file's queries) needs metrics to query",
                Some(
                    "add `metrics: {scrape: [\"${api}/metrics\"]}` or `metrics: {prometheus: URL}`"
                        .into(),
                ),
            );
        }
        let (aborts, stops) = self.aborts(&file.abort, metrics.as_ref(), file.metrics.is_some());
        Scenario {
            name: file.name.value.clone(),
            description: file.description.clone(),
            file: self.file.to_path_buf(),
            targets,
            datasets,
            requests,
            flows,
            before,
            after,
            phases,
            expectations: expect.client,
            promql: expect.promql,
            alerts: expect.alerts,
            no_other_alerts: expect.no_other_alerts,
            groupings: expect.groupings,
            no_other_notifications: expect.no_other_notifications,
            steady_state,
            rules,
            slos,
            proxies,
            aborts,
            stops,
            transport,
            metrics,
            redact: self.redact(&file.redact),
            outputs: self.outputs(file.outputs.as_ref()),
            logs: self.logs(file.logs.as_ref()),
            shard: None,
        }
    }

    /// `redact:`: query parameter names, each a plain name.
    fn redact(&mut self, names: &[Text]) -> Vec<String> {
        let mut kept = Vec::new();
        for name in names {
            let text = name.value.trim();
            if text.is_empty() || text.contains(['=', '&', '?', '#', ' ', '\t']) {
                self.error(
                    Self::at(name),
                    format!("redact: `{}` is not a query parameter name", name.value),
                    Some("e.g. `redact: [session_id, signature]`".into()),
                );
            } else {
                kept.push(text.to_string());
            }
        }
        kept
    }
}

/// A `${NAME}` without a default whose variable is not set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`${{{name}}}` is not a set environment variable")]
pub(super) struct UnsetVariable {
    pub name: String,
}

/// Fills `${NAME}` (and `${NAME:-default}`) from the environment.
pub(super) fn expand_env(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, UnsetVariable> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let inner = &after[..end];
        let (name, default) = match inner.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (inner, None),
        };
        match env(name).or(default.map(str::to_string)) {
            Some(value) => out.push_str(&value),
            None => {
                return Err(UnsetVariable {
                    name: name.to_string(),
                });
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}
