//! Validation of `abort:`: client conditions (`error_rate > 50% for
//! 15s`) and stop conditions on the service's side. Part of
//! [`super::resolve`].

use serde_saphyr::Spanned;

use super::Metrics;
use super::model::{StopSpec, StringOr};
use super::resolve::Validator;
use crate::expect::stop::{StopCondition, Watched};
use crate::expect::{Abort, Compare, parse_abort};

impl Validator<'_> {
    /// Every `abort:` entry: the client's, then the service side's.
    pub(super) fn aborts(
        &mut self,
        specs: &[Spanned<StringOr<StopSpec>>],
        metrics: Option<&Metrics>,
        metrics_given: bool,
    ) -> (Vec<Abort>, Vec<StopCondition>) {
        let mut aborts = Vec::new();
        let mut stops = Vec::new();
        for spec in specs {
            match &spec.value {
                StringOr::String(text) => match parse_abort(text) {
                    Ok(abort) => aborts.push(abort),
                    Err(e) => self.error(
                        Self::at(spec),
                        format!("abort condition: {e}"),
                        Some("e.g. `error_rate > 50% for 15s`, `{promql: 'up{job=\"api\"} == 0', for: 10s}`, `{alert: ServiceDown, firing: true}`".into()),
                    ),
                },
                StringOr::Map(map) => {
                    if let Some(stop) = self.stop(spec, map, metrics, metrics_given) {
                        stops.push(stop);
                    }
                }
            }
        }
        (aborts, stops)
    }

    fn stop(
        &mut self,
        spec: &Spanned<StringOr<StopSpec>>,
        map: &StopSpec,
        metrics: Option<&Metrics>,
        metrics_given: bool,
    ) -> Option<StopCondition> {
        let hint = || {
            Some(
                "e.g. `{promql: 'sum(rate(http_requests_total{status=~\"5..\"}[30s]))', above: 50, for: 30s}` or `{alert: ServiceDown, firing: true}`"
                    .to_string(),
            )
        };
        let sustained = match &map.sustained {
            None => std::time::Duration::ZERO,
            Some(text) => match crate::units::parse_duration(&text.value) {
                Ok(d) => d,
                Err(e) => {
                    self.error(Self::at(text), format!("for: {e}"), None);
                    return None;
                }
            },
        };
        if metrics.is_none() {
            if !metrics_given {
                self.error(
                    Self::at(spec),
                    "a stop condition on the service's side needs metrics to query",
                    Some("add `metrics: {scrape: [\"${api}/metrics\"]}` or `metrics: {prometheus: URL}`".into()),
                );
            }
            return None;
        }
        let (watch, text) = match (&map.promql, &map.alert) {
            (Some(expr), None) => {
                if map.firing.is_some() {
                    self.error(
                        map.firing.as_ref().and_then(Self::at),
                        "`firing` goes with `alert`",
                        hint(),
                    );
                    return None;
                }
                if let Err(e) = crate::promql::parse(&expr.value) {
                    self.error(Self::at(expr), format!("promql: {e}"), None);
                    return None;
                }
                let bound = match (&map.above, &map.below) {
                    (Some(_), Some(_)) => {
                        self.error(
                            Self::at(expr),
                            "a stop condition takes `above` or `below`, not both",
                            hint(),
                        );
                        return None;
                    }
                    (Some(x), None) => Some((Compare::Gt, x)),
                    (None, Some(x)) => Some((Compare::Lt, x)),
                    (None, None) => None,
                };
                let bound = match bound {
                    None => None,
                    Some((op, x)) => match super::forms::parse_number(&x.value) {
                        Ok(v) => Some((op, v)),
                        Err(_) => {
                            self.error(Self::at(x), format!("`{}` is not a number", x.value), None);
                            return None;
                        }
                    },
                };
                let text = match bound {
                    Some((Compare::Gt, v)) => format!("{} > {v}", expr.value),
                    Some((_, v)) => format!("{} < {v}", expr.value),
                    None => expr.value.clone(),
                };
                (
                    Watched::Promql {
                        expr: expr.value.clone(),
                        bound,
                    },
                    text,
                )
            }
            (None, Some(alert)) => {
                if map.above.is_some() || map.below.is_some() {
                    self.error(
                        Self::at(alert),
                        "`above` and `below` go with `promql`",
                        hint(),
                    );
                    return None;
                }
                if map.firing.as_ref().is_none_or(|f| !f.value) {
                    self.error(
                        Self::at(alert),
                        "a stop condition on an alert is `{alert: NAME, firing: true}`",
                        hint(),
                    );
                    return None;
                }
                // With slogate's scrapes the rules are evaluated in process
                // as the run goes on: the alert must be one of theirs.
                if metrics.is_some_and(|m| m.prometheus.is_none()) && !self.check_alert_name(alert)
                {
                    return None;
                }
                (
                    Watched::Alert(alert.value.clone()),
                    format!("alert {} firing", alert.value),
                )
            }
            _ => {
                self.error(
                    Self::at(spec),
                    "a stop condition watches `promql` or `alert`: one of them",
                    hint(),
                );
                return None;
            }
        };
        let text = if sustained.is_zero() {
            text
        } else {
            format!("{text} for {}", crate::expect::alert::secs(sustained))
        };
        Some(StopCondition {
            watch,
            sustained,
            text,
        })
    }
}
