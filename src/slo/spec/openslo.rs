//! OpenSLO v1 (`apiVersion: openslo/v1`): `kind: SLO` documents with their
//! SLI inline (`indicator`) or in a `kind: SLI` document of the same file
//! (`indicatorRef`). The SLI is a `ratioMetric` of Prometheus counters
//! (`counter: true`; `good` or `bad`, and `total`), budgeted by
//! `Occurrences`; each objective is an SLO (`NAME`, or `NAME/OBJECTIVE`
//! when there are several). Threshold metrics, raw ratios, time slices,
//! gauges and other data sources are refused.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{Imported, Present, Reader, Text};
use crate::slo::Sli;

#[derive(Deserialize)]
struct Document {
    #[serde(default)]
    kind: Option<Text>,
    #[serde(default)]
    metadata: Option<Metadata>,
    /// An SLO's or an SLI's spec, told apart by `kind`.
    #[serde(default)]
    spec: Option<Spanned<Spec>>,
}

#[derive(Deserialize, Clone)]
struct Metadata {
    #[serde(default)]
    name: Option<Text>,
}

/// The keys of both specs (an SLO's and an SLI's): each kind reads its own.
#[derive(Deserialize)]
struct Spec {
    // An SLO's:
    #[serde(default)]
    indicator: Option<Spanned<Indicator>>,
    #[serde(default, rename = "indicatorRef")]
    indicator_ref: Option<Text>,
    #[serde(default, rename = "timeWindow")]
    time_window: Vec<Spanned<TimeWindow>>,
    #[serde(default, rename = "budgetingMethod")]
    budgeting_method: Option<Text>,
    #[serde(default)]
    objectives: Vec<Spanned<Objective>>,
    // An SLI's:
    #[serde(default, rename = "ratioMetric")]
    ratio_metric: Option<Spanned<RatioMetric>>,
    #[serde(default, rename = "thresholdMetric")]
    threshold_metric: Present,
}

#[derive(Deserialize)]
struct Indicator {
    #[serde(default)]
    spec: Option<Box<Spanned<Spec>>>,
}

#[derive(Deserialize)]
struct TimeWindow {
    duration: Text,
}

#[derive(Deserialize)]
struct Objective {
    #[serde(default, rename = "displayName")]
    display_name: Option<Text>,
    #[serde(default)]
    target: Option<Text>,
    #[serde(default, rename = "targetPercent")]
    target_percent: Option<Text>,
    #[serde(default)]
    indicator: Present,
    #[serde(default, rename = "indicatorRef")]
    indicator_ref: Present,
    #[serde(default, rename = "timeSliceTarget")]
    time_slice_target: Present,
}

#[derive(Deserialize)]
struct RatioMetric {
    #[serde(default)]
    counter: Option<Spanned<bool>>,
    #[serde(default)]
    good: Option<Source>,
    #[serde(default)]
    bad: Option<Source>,
    #[serde(default)]
    total: Option<Source>,
    #[serde(default)]
    raw: Present,
}

#[derive(Deserialize)]
struct Source {
    #[serde(rename = "metricSource")]
    metric_source: Spanned<MetricSource>,
}

#[derive(Deserialize)]
struct MetricSource {
    #[serde(default, rename = "type")]
    kind: Option<Text>,
    #[serde(default)]
    spec: Option<QuerySpec>,
}

#[derive(Deserialize)]
struct QuerySpec {
    #[serde(default)]
    query: Option<Text>,
}

impl Reader<'_> {
    pub(super) fn openslo(&mut self) -> Option<Vec<Imported>> {
        let documents = self.documents::<Document>()?;
        let kind = |d: &Spanned<Document>| d.value.kind.as_ref().map(|k| k.value.clone());
        let slis: BTreeMap<String, &Spanned<Spec>> = documents
            .iter()
            .filter(|d| kind(d).as_deref() == Some("SLI"))
            .filter_map(|d| {
                let name = d.value.metadata.as_ref()?.name.as_ref()?.value.clone();
                Some((name, d.value.spec.as_ref()?))
            })
            .collect();
        let mut out = Vec::new();
        for d in documents
            .iter()
            .filter(|d| kind(d).as_deref() == Some("SLO"))
        {
            let Some(name) = d.value.metadata.as_ref().and_then(|m| m.name.clone()) else {
                self.refuse(
                    d,
                    "an SLO without `metadata.name`",
                    "its name names the SLO's verdicts",
                );
                continue;
            };
            let Some(spec) = &d.value.spec else {
                self.refuse(
                    d,
                    "an SLO without `spec`",
                    "`spec: {indicator, timeWindow, budgetingMethod, objectives}`",
                );
                continue;
            };
            out.extend(self.openslo_slo(&name.value, spec, &slis));
        }
        Some(out)
    }

    fn openslo_slo(
        &mut self,
        name: &str,
        spec: &Spanned<Spec>,
        slis: &BTreeMap<String, &Spanned<Spec>>,
    ) -> Vec<Imported> {
        let s = &spec.value;
        if let Some(method) = s
            .budgeting_method
            .as_ref()
            .filter(|m| m.value != "Occurrences")
        {
            let message = format!(
                "`budgetingMethod: {}` is not judged by slogate",
                method.value
            );
            self.refuse(
                method,
                message,
                "slogate budgets by events (`Occurrences`): good events over all events",
            );
            return Vec::new();
        }
        let period = match s.time_window.as_slice() {
            [window] => self.window(&window.value.duration),
            [] => {
                self.refuse(
                    spec,
                    "an SLO without `timeWindow`",
                    "e.g. `timeWindow: [{duration: 28d, isRolling: true}]`",
                );
                None
            }
            [_, second, ..] => {
                self.refuse(second, "OpenSLO gives an SLO one time window", "keep one");
                None
            }
        };
        let sli = match (&s.indicator, &s.indicator_ref) {
            (Some(indicator), None) => match indicator.value.spec.as_deref() {
                Some(sli) => self.openslo_sli(sli),
                None => {
                    self.refuse(
                        indicator,
                        "an inline SLI without `spec`",
                        "`indicator: {metadata: {name: ...}, spec: {ratioMetric: ...}}`",
                    );
                    None
                }
            },
            (None, Some(reference)) => match slis.get(reference.value.as_str()) {
                Some(sli) => self.openslo_sli(sli),
                None => {
                    let message =
                        format!("no `kind: SLI` named `{}` in this file", reference.value);
                    self.refuse(
                        reference,
                        message,
                        "slogate reads the SLI from the same file, as a `---` document",
                    );
                    None
                }
            },
            _ => {
                self.refuse(spec, "an SLO has one of `indicator` and `indicatorRef`", "`indicatorRef: NAME` of a `kind: SLI` document, or the SLI inline as `indicator`");
                None
            }
        };
        let objectives: Vec<(String, Option<f64>, String)> = s
            .objectives
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let label = match (&o.value.display_name, s.objectives.len()) {
                    (_, 1) => name.to_string(),
                    (Some(d), _) => format!("{name}/{}", d.value),
                    (None, _) => format!("{name}/{}", i + 1),
                };
                (label, self.openslo_target(o), self.source_of(o))
            })
            .collect();
        if objectives.is_empty() {
            self.refuse(
                spec,
                "an SLO without `objectives`",
                "e.g. `objectives: [{target: 0.995}]`",
            );
        }
        let (Some(period), Some(sli)) = (period, sli) else {
            return Vec::new();
        };
        objectives
            .into_iter()
            .filter_map(|(name, objective, source)| {
                Some(Imported {
                    name,
                    objective: objective?,
                    period: Some(period),
                    sli: sli.clone(),
                    source,
                })
            })
            .collect()
    }

    fn openslo_target(&mut self, objective: &Spanned<Objective>) -> Option<f64> {
        let o = &objective.value;
        for (key, present) in [
            ("indicator", &o.indicator),
            ("indicatorRef", &o.indicator_ref),
            ("timeSliceTarget", &o.time_slice_target),
        ] {
            if let Some(at) = present {
                let message = format!("an objective's own `{key}` is not judged by slogate");
                self.refuse(at, message, "one SLI per SLO, budgeted by occurrences");
                return None;
            }
        }
        match (&o.target, &o.target_percent) {
            (Some(target), None) => match target.value.trim().parse::<f64>() {
                Ok(t) if t > 0.0 && t < 1.0 => Some(t),
                _ => {
                    let message = format!(
                        "`target: {}` is not a fraction between 0 and 1",
                        target.value
                    );
                    self.refuse(
                        target,
                        message,
                        "e.g. `target: 0.995`, or `targetPercent: 99.5`",
                    );
                    None
                }
            },
            (None, Some(percent)) => self.percent(percent),
            _ => {
                self.refuse(
                    objective,
                    "an objective has one of `target` and `targetPercent`",
                    "e.g. `target: 0.995`",
                );
                None
            }
        }
    }

    fn openslo_sli(&mut self, spec: &Spanned<Spec>) -> Option<Sli> {
        let s = &spec.value;
        if let Some(threshold) = &s.threshold_metric {
            self.refuse(
                threshold,
                "a `thresholdMetric` SLI is judged on time slices, which slogate does not",
                "use a `ratioMetric` of counters",
            );
            return None;
        }
        let Some(ratio) = &s.ratio_metric else {
            self.refuse(
                spec,
                "an SLI without `ratioMetric`",
                "`ratioMetric: {counter: true, good: ..., total: ...}`",
            );
            return None;
        };
        let r = &ratio.value;
        if let Some(raw) = &r.raw {
            self.refuse(
                raw,
                "a `raw` ratio metric has no window slogate can set",
                "give `good` or `bad` with `total`, as counters",
            );
            return None;
        }
        match &r.counter {
            Some(c) if c.value => {}
            Some(c) => {
                self.refuse(
                    c,
                    "`counter: false` SLIs are gauges, which slogate does not count as events",
                    "count events with counters: `counter: true`",
                );
                return None;
            }
            None => {
                self.refuse(
                    ratio,
                    "`ratioMetric` without `counter: true`",
                    "slogate counts events with counters: `counter: true`",
                );
                return None;
            }
        }
        let (events, good) = match (&r.good, &r.bad) {
            (Some(good), None) => (good, true),
            (None, Some(bad)) => (bad, false),
            _ => {
                self.refuse(
                    ratio,
                    "a ratio metric has one of `good` and `bad`",
                    "`good` (or `bad`) events, and `total`",
                );
                return None;
            }
        };
        let Some(total) = &r.total else {
            self.refuse(
                ratio,
                "a ratio metric without `total`",
                "`total: {metricSource: {type: Prometheus, spec: {query: ...}}}`",
            );
            return None;
        };
        let events = self.openslo_query(events);
        let total = self.openslo_query(total);
        Some(Sli::Promql {
            events: events?,
            good,
            total: total?,
        })
    }

    fn openslo_query(&mut self, source: &Source) -> Option<String> {
        let m = &source.metric_source;
        match &m.value.kind {
            Some(kind) if kind.value.eq_ignore_ascii_case("prometheus") => {}
            Some(kind) => {
                let message = format!(
                    "a `{}` metric source, which slogate cannot query",
                    kind.value
                );
                self.refuse(
                    kind,
                    message,
                    "slogate asks Prometheus (or its own scrapes): `type: Prometheus`",
                );
                return None;
            }
            None => {
                self.refuse(m, "a metric source without `type`", "`type: Prometheus`");
                return None;
            }
        }
        let Some(query) = m.value.spec.as_ref().and_then(|s| s.query.as_ref()) else {
            self.refuse(
                m,
                "a Prometheus metric source without `spec.query`",
                "`spec: {query: http_requests_total{job=\"api\"}}`",
            );
            return None;
        };
        self.selector(query, true)
    }
}
