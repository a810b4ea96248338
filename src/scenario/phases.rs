//! Validation of phases: the load model of each, and expectations (the
//! phase's own and the run's). Part of [`super::resolve`].

use std::time::Duration;

use serde_saphyr::Spanned;

use super::model::{self, ExpectMap, LoadSpec, StringOr, Text};
use super::resolve::Validator;
use super::{Load, Phase, nearest};
use crate::expect::AlertExpectation;

/// The expectations of a phase or of the run, by kind.
pub(super) struct Expectations {
    pub client: Vec<Expectation>,
    pub promql: Vec<PromqlExpectation>,
    pub alerts: Vec<AlertExpectation>,
    /// Where `no_other_alerts: true` was written.
    pub no_other_alerts: Option<String>,
    pub groupings: Vec<crate::expect::notify::Grouping>,
    /// Where `no_other_notifications: true` was written.
    pub no_other_notifications: Option<String>,
}
use super::forms::{PromqlFormError, StructuredCheckError, parse_number};
use crate::expect::{
    Compare, Expectation, Holds, PromqlExpectation, parse_check, parse_metric, parse_threshold,
    split_comparison,
};
use crate::plan::{Arrivals, Segment, Think};
use crate::units::Rate;

/// Which requests are sent where expectations are judged.
#[derive(Clone, Copy)]
pub(super) enum Sends<'a> {
    /// Every request (a phase without a `mix`, or a run whose phases have none).
    All,
    /// A phase's `mix`: only these.
    Phase {
        name: &'a str,
        requests: &'a [String],
    },
    /// The run: what some phase sends.
    Run { requests: &'a [String] },
}

impl Sends<'_> {
    /// The error and hint for an expectation on `request`, when it is not sent.
    fn refuses(&self, request: &str) -> Option<(String, String)> {
        match self {
            Sends::All => None,
            Sends::Phase { requests, .. } | Sends::Run { requests }
                if requests.iter().any(|r| r == request) =>
            {
                None
            }
            Sends::Phase { name, .. } => Some((
                format!(
                    "phase `{name}` does not send request `{request}`: its `mix` leaves it out"
                ),
                format!(
                    "add `{request}` to the phase's `mix`, or judge it in a phase that sends it"
                ),
            )),
            Sends::Run { .. } => Some((
                format!("no phase sends request `{request}`: every phase's `mix` leaves it out"),
                format!("add `{request}` to a phase's `mix`"),
            )),
        }
    }
}

/// Connections for an open-model phase that names none.
const DEFAULT_OPEN_CONNECTIONS: u64 = 100;

impl Validator<'_> {
    pub(super) fn phase(
        &mut self,
        spec: &Spanned<model::PhaseSpec>,
        sendables: &super::mix::Sendables<'_>,
        default_connections: Option<u64>,
    ) -> Option<Phase> {
        let at = Self::at(spec);
        let spec = &spec.value;
        let duration = spec
            .duration
            .as_ref()
            .and_then(|d| self.duration(d, "duration"));
        let requests = spec.requests.as_ref().map(|r| r.value);
        // Steps carry their own durations.
        if spec.duration.is_none() && requests.is_none() && spec.load.value.steps.is_none() {
            self.error(
                at,
                format!(
                    "phase `{}` needs a `duration` or a `requests` count",
                    spec.name.value
                ),
                Some("e.g. `duration: 60s`".into()),
            );
        }
        if let Some(r) = &spec.requests
            && r.value == 0
        {
            self.error(Self::at(r), "`requests` must be at least 1", None);
        }
        let mix = spec
            .mix
            .as_ref()
            .map(|mix| self.mix(&spec.name.value, mix, sendables));
        let sent: Option<Vec<String>> = mix
            .as_ref()
            .map(|mix| mix.iter().map(|share| share.request.clone()).collect());
        let sends = match &sent {
            Some(requests) => Sends::Phase {
                name: &spec.name.value,
                requests,
            },
            None => Sends::All,
        };
        let expect = self.expectations(&spec.expect, sendables, sends);
        if let Some(source) = &expect.no_other_alerts {
            self.error(
                spec.expect.iter().find_map(|e| match &e.value {
                    StringOr::Map(m) => m.no_other_alerts.as_ref().and_then(Self::at),
                    StringOr::String(_) => None,
                }),
                "`no_other_alerts` is run-wide: put it in the run's `expect`",
                Some(format!("found at {source}")),
            );
        }
        if let Some(source) = &expect.no_other_notifications {
            self.error(
                spec.expect.iter().find_map(|e| match &e.value {
                    StringOr::Map(m) => m.no_other_notifications.as_ref().and_then(Self::at),
                    StringOr::String(_) => None,
                }),
                "`no_other_notifications` is run-wide: put it in the run's `expect`",
                Some(format!("found at {source}")),
            );
        }
        if let Some(grouping) = expect.groupings.first() {
            self.error(
                spec.expect.iter().find_map(|e| match &e.value {
                    StringOr::Map(m) => m.grouped.as_ref().and_then(Self::at),
                    StringOr::String(_) => None,
                }),
                "`grouped` is run-wide: put it in the run's `expect`",
                Some(format!("found at {}", grouping.source)),
            );
        }
        let (faults, proxy_faults) = self.faults(&spec.faults, duration);
        let load = self.load(
            &spec.load,
            duration,
            spec.duration.is_some(),
            default_connections,
        )?;
        Some(Phase {
            name: spec.name.value.clone(),
            duration,
            requests,
            load,
            mix,
            expectations: expect.client,
            promql: expect.promql,
            alerts: expect.alerts,
            faults,
            proxy_faults,
        })
    }

    /// `duration_given` is false when the phase has no `duration` key (an
    /// invalid one was reported already).
    fn load(
        &mut self,
        spec: &Spanned<LoadSpec>,
        duration: Option<Duration>,
        duration_given: bool,
        default_connections: Option<u64>,
    ) -> Option<Load> {
        let at = Self::at(spec);
        let spec = &spec.value;
        let models = [
            spec.rate.is_some(),
            spec.steps.is_some(),
            spec.concurrency.is_some(),
        ];
        if models.iter().filter(|m| **m).count() != 1 {
            self.error(at, "`load` needs exactly one of `rate`, `steps` (open model) or `concurrency` (closed model)", Some("e.g. `load: {rate: 200/s}` or `load: {concurrency: 20}`".into()));
            return None;
        }
        if let Some(concurrency) = &spec.concurrency {
            if let Some(c) = &spec.connections {
                self.error(Self::at(c), "`connections` is for the open model; with `concurrency` every virtual user has its own", None);
            }
            if concurrency.value == 0 || concurrency.value > 100_000 {
                self.error(
                    Self::at(concurrency),
                    "`concurrency` must be between 1 and 100000",
                    None,
                );
                return None;
            }
            let think = match &spec.think {
                Some(think) => self.think(think),
                None => Think::default(),
            };
            return Some(Load::Closed {
                concurrency: concurrency.value as usize,
                think,
            });
        }
        if let Some(think) = &spec.think {
            self.error(
                Self::at(think),
                "`think` is for the closed model (`concurrency`)",
                Some("in the open model the rate sets the pace".into()),
            );
        }
        let connections = spec
            .connections
            .as_ref()
            .map(|c| c.value)
            .or(default_connections)
            .unwrap_or(DEFAULT_OPEN_CONNECTIONS);
        if connections == 0 || connections > 100_000 {
            let position = spec.connections.as_ref().and_then(Self::at).or(at);
            self.error(position, "`connections` must be between 1 and 100000", None);
            return None;
        }
        let segments = if let Some(steps) = &spec.steps {
            if steps.is_empty() {
                self.error(at, "`steps` is empty", None);
                return None;
            }
            let mut segments = Vec::new();
            for step in steps {
                let rate = self.rate(&step.value.rate, "rate");
                let length = self.duration(&step.value.duration, "duration");
                segments.push(Segment::constant(rate?, length?));
            }
            let total: Duration = segments.iter().map(|s| s.duration).sum();
            if let Some(d) = duration
                && d != total
            {
                self.error(
                    at,
                    format!(
                        "the steps last {} but the phase's duration is {}",
                        crate::units::format_duration(total),
                        crate::units::format_duration(d)
                    ),
                    Some("leave out the phase's `duration`: the steps set it".into()),
                );
            }
            segments
        } else {
            let rate = spec.rate.as_ref().expect("checked above");
            let Some(length) = duration else {
                if !duration_given {
                    self.error(
                        Self::at(rate),
                        "an open-model phase needs a `duration`",
                        Some("the rate applies over a time: add `duration: 60s`".into()),
                    );
                }
                return None;
            };
            match &rate.value {
                StringOr::String(text) => match text.parse::<Rate>() {
                    Ok(r) => vec![Segment::constant(r, length)],
                    Err(e) => {
                        self.error(Self::at(rate), format!("rate: {e}"), None);
                        return None;
                    }
                },
                StringOr::Map(ramp) => {
                    let from = self.rate(&ramp.from, "from");
                    let to = self.rate(&ramp.to, "to");
                    vec![Segment::ramp(from?, to?, length)]
                }
            }
        };
        Some(Load::Open {
            arrivals: Arrivals::new(segments),
            connections: connections as usize,
        })
    }

    /// What an expectation with `flow:` (and `step:`) judges: the step's
    /// requests (`Some(FLOW/STEP)`), or the flow's iterations or checks
    /// (`None`); refused (reported, outer None) when the flow or step does
    /// not exist, is not sent, or `request` is given too.
    fn flow_target(
        &mut self,
        (flow, step): (&Text, Option<&Text>),
        request: Option<&Text>,
        sendables: &super::mix::Sendables<'_>,
        sends: &Sends<'_>,
        in_phase: bool,
        metric: crate::expect::Metric,
    ) -> Option<Option<String>> {
        if let Some(request) = request {
            self.error(
                Self::at(request),
                "an expectation names a `request` or a `flow`, not both",
                Some("a flow's step is `{flow: NAME, step: STEP}`".into()),
            );
            return None;
        }
        let Some((_, steps)) = sendables.steps.iter().find(|(name, _)| *name == flow.value) else {
            if sendables.around.contains(&flow.value) {
                self.error(
                    Self::at(flow),
                    format!(
                        "`{}` is a `before`/`after` flow: its requests are not judged",
                        flow.value
                    ),
                    Some("expectations judge the flows under `flows:` that phases send".into()),
                );
                return None;
            }
            self.error(
                Self::at(flow),
                format!("no flow named `{}`", flow.value),
                nearest(&flow.value, sendables.flows.iter().map(String::as_str))
                    .map(|n| format!("did you mean `{n}`?")),
            );
            return None;
        };
        if let Some((message, hint)) = sends.refuses(&flow.value) {
            self.error(
                Self::at(flow),
                message.replace("request `", "flow `"),
                Some(hint),
            );
            return None;
        }
        if in_phase && metric == crate::expect::Metric::ChecksPassed {
            self.error(
                Self::at(flow),
                "`checks passed` is judged over the run",
                Some("put it in the run's `expect`".into()),
            );
            return None;
        }
        match step {
            Some(step) if !steps.contains(&step.value) => {
                self.error(
                    Self::at(step),
                    format!("flow `{}` has no step `{}`", flow.value, step.value),
                    nearest(&step.value, steps.iter().map(String::as_str))
                        .map(|n| format!("did you mean `{n}`?"))
                        .or_else(|| Some(format!("its steps: {}", steps.join(", ")))),
                );
                None
            }
            Some(step) => Some(Some(format!("{}/{}", flow.value, step.value))),
            None if in_phase => {
                self.error(
                    Self::at(flow),
                    "a flow's iterations are judged over the run",
                    Some("put it in the run's `expect`, or name a `step` to judge its requests in this phase".into()),
                );
                None
            }
            None => Some(None),
        }
    }

    /// The expectations of the run, or of a phase; `sends`: which of the
    /// requests they judge are sent, so that one named but never sent is
    /// refused rather than judged NO DATA.
    pub(super) fn expectations(
        &mut self,
        specs: &[Spanned<StringOr<ExpectMap>>],
        sendables: &super::mix::Sendables<'_>,
        sends: Sends<'_>,
    ) -> Expectations {
        let request_names = sendables.requests;
        let in_phase = matches!(sends, Sends::Phase { .. } | Sends::All);
        let mut out = Vec::new();
        let mut promql = Vec::new();
        let mut alerts = Vec::new();
        let mut no_other_alerts = None;
        let mut groupings = Vec::new();
        let mut no_other_notifications = None;
        for spec in specs {
            let at = Self::at(spec);
            let source = self.source_of(spec);
            if let StringOr::Map(map) = &spec.value
                && let Some(expr) = &map.promql
            {
                if let Some(e) = self.promql_expectation(map, expr, source) {
                    promql.push(e);
                }
                continue;
            }
            if let StringOr::Map(map) = &spec.value
                && let Some(alert) = &map.alert
            {
                if let Some(e) = self.alert_expectation(map, alert, source) {
                    alerts.push(e);
                }
                continue;
            }
            if let StringOr::Map(map) = &spec.value
                && let Some(flag) = &map.no_other_alerts
            {
                if self.no_other_alerts(map, flag) {
                    no_other_alerts = Some(source);
                }
                continue;
            }
            if let StringOr::Map(map) = &spec.value
                && let Some(flag) = &map.no_other_notifications
            {
                if self.no_other_alerts(map, flag) {
                    no_other_notifications = Some(source);
                }
                continue;
            }
            if let StringOr::Map(map) = &spec.value
                && (map.grouped.is_some()
                    || map.notified.is_some()
                    || map.resolved_notified.is_some())
            {
                groupings.extend(self.grouping(map, source));
                continue;
            }
            let (check, request, optional, flow) = match &spec.value {
                StringOr::String(text) => {
                    (parse_check(text).map_err(Into::into), None, false, None)
                }
                StringOr::Map(map) => (
                    self.structured_check(map),
                    map.request.as_ref(),
                    map.optional.unwrap_or(false),
                    map.flow.as_ref().map(|flow| (flow, map.step.as_ref())),
                ),
            };
            let check = match check {
                Ok(check) => check,
                Err(message) => {
                    self.error(
                        at,
                        format!("expectation: {message}"),
                        Some(
                            "e.g. `latency p95 < 500ms`, `error_rate < 1%`, `throughput >= 190/s`"
                                .into(),
                        ),
                    );
                    continue;
                }
            };
            let metric = check.metric;
            if let StringOr::Map(map) = &spec.value
                && flow.is_none()
                && let Some(step) = &map.step
            {
                self.error(
                    Self::at(step),
                    format!(
                        "`step: {}` names a flow's step, but no `flow` is given",
                        step.value
                    ),
                    Some("write `{check: ..., flow: FLOW, step: STEP}`".into()),
                );
                continue;
            }
            if let Some(flow) = flow {
                let Some(target) =
                    self.flow_target(flow, request, sendables, &sends, in_phase, metric)
                else {
                    continue;
                };
                out.push(Expectation {
                    check,
                    request: target,
                    flow: Some(flow.0.value.clone()),
                    optional,
                    source,
                });
                continue;
            }
            if metric == crate::expect::Metric::ChecksPassed && in_phase {
                self.error(
                    at,
                    "`checks passed` is judged over the run",
                    Some("put it in the run's `expect`".into()),
                );
                continue;
            }
            if let Some(request) = request
                && !request_names.contains(&request.value)
            {
                let hint = nearest(&request.value, request_names.iter().map(String::as_str))
                    .map(|n| format!("did you mean `{n}`?"));
                self.error(
                    Self::at(request),
                    format!("no request named `{}`", request.value),
                    hint,
                );
                continue;
            }
            if let Some(request) = request
                && let Some((message, hint)) = sends.refuses(&request.value)
            {
                self.error(Self::at(request), message, Some(hint));
                continue;
            }
            out.push(Expectation {
                check,
                request: request.map(|r| r.value.clone()),
                flow: None,
                optional,
                source,
            });
        }
        Expectations {
            client: out,
            promql,
            alerts,
            no_other_alerts,
            groupings,
            no_other_notifications,
        }
    }

    /// `{promql: "EXPR < 0.01", holds: always, step: 5s}`, or the expression
    /// with one of `below`, `at_most`, `above`, `at_least`.
    fn promql_expectation(
        &mut self,
        map: &ExpectMap,
        expr: &Text,
        source: String,
    ) -> Option<PromqlExpectation> {
        let hint = Some(
            "e.g. `promql: sum(rate(http_requests_total{status=~\"5..\"}[1m])) / sum(rate(http_requests_total[1m])) < 0.01`".into(),
        );
        if let Some(field) = [
            ("check", map.check.is_some()),
            ("metric", map.metric.is_some()),
            ("request", map.request.is_some()),
        ]
        .iter()
        .find(|(_, given)| *given)
        {
            self.error(
                Self::at(expr),
                format!("`{}` does not go with `promql`", field.0),
                Some("a PromQL expectation is the expression and its comparison".into()),
            );
            return None;
        }
        let bounds = [
            (Compare::Lt, &map.below),
            (Compare::Le, &map.at_most),
            (Compare::Gt, &map.above),
            (Compare::Ge, &map.at_least),
        ];
        let given: Vec<_> = bounds.iter().filter(|(_, b)| b.is_some()).collect();
        let parsed: Result<_, PromqlFormError> = match given.as_slice() {
            [] => split_comparison(&expr.value).map_err(Into::into),
            [(compare, Some(bound))] => crate::promql::parse(&expr.value)
                .map_err(PromqlFormError::from)
                .and_then(|_| {
                    Ok((
                        expr.value.trim().to_string(),
                        *compare,
                        parse_number(&bound.value)?,
                    ))
                }),
            _ => Err(PromqlFormError::Bounds),
        };
        let (measured, compare, threshold) = match parsed {
            Ok(parsed) => parsed,
            Err(message) => {
                self.error(Self::at(expr), format!("promql: {message}"), hint);
                return None;
            }
        };
        let holds = match &map.holds {
            None => Holds::End,
            Some(text) => match Holds::parse(&text.value) {
                Ok(holds) => holds,
                Err(message) => {
                    self.error(Self::at(text), message.to_string(), None);
                    return None;
                }
            },
        };
        let step = match &map.step {
            Some(text) => Some(self.duration(text, "step")?),
            None => None,
        };
        if step.is_some() && holds == Holds::End {
            self.error(
                map.step.as_ref().and_then(Self::at),
                "`step` applies to `holds: always`, `eventually` or a share of steps",
                None,
            );
            return None;
        }
        Some(PromqlExpectation {
            expr: measured,
            compare,
            threshold,
            holds,
            step,
            optional: map.optional.unwrap_or(false),
            source,
        })
    }

    fn structured_check(
        &mut self,
        map: &ExpectMap,
    ) -> Result<crate::expect::Check, StructuredCheckError> {
        let bounds = [
            ("<", &map.below),
            ("<=", &map.at_most),
            (">", &map.above),
            (">=", &map.at_least),
        ];
        let given: Vec<_> = bounds.iter().filter(|(_, b)| b.is_some()).collect();
        match (&map.check, &map.metric) {
            (Some(check), None) if given.is_empty() => Ok(parse_check(&check.value)?),
            (None, Some(metric)) if given.len() == 1 => {
                let (op, bound) = given[0];
                let bound = bound.as_ref().expect("filtered");
                let metric = parse_metric(&metric.value)?;
                parse_threshold(metric, &bound.value)?;
                Ok(parse_check(&format!(
                    "{} {op} {}",
                    metric_text(&map.metric),
                    bound.value
                ))?)
            }
            (None, Some(_)) => Err(StructuredCheckError::MetricBounds),
            (Some(_), _) => Err(StructuredCheckError::CheckNotAlone),
            (None, None) => Err(StructuredCheckError::Neither),
        }
    }
}

fn metric_text(metric: &Option<Text>) -> &str {
    metric.as_ref().map_or("", |m| m.value.as_str())
}
