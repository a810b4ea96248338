//! Pyrra's `ServiceLevelObjective` (`apiVersion: pyrra.dev/v1alpha1`):
//! the `ratio` (errors, total) and `latency` (success bucket, total count)
//! indicators over counter selectors, as Pyrra applies `increase` to them.
//! `grouping` (an SLO per group), `latencyNative` and `bool_gauge` are
//! refused.

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{Imported, Present, Reader, Text};
use crate::slo::Sli;

#[derive(Deserialize)]
struct Resource {
    #[serde(default)]
    kind: Option<Text>,
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default)]
    spec: Option<Spanned<Spec>>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    name: Option<Text>,
}

#[derive(Deserialize)]
struct Spec {
    target: Text,
    window: Text,
    indicator: Spanned<Indicator>,
}

#[derive(Deserialize)]
struct Indicator {
    #[serde(default)]
    ratio: Option<Pair>,
    #[serde(default)]
    latency: Option<Pair>,
    #[serde(default, rename = "latencyNative")]
    latency_native: Present,
    #[serde(default)]
    bool_gauge: Present,
}

/// `ratio` (errors, total) or `latency` (success, total).
#[derive(Deserialize)]
struct Pair {
    #[serde(default)]
    errors: Option<Query>,
    #[serde(default)]
    success: Option<Query>,
    total: Query,
    #[serde(default)]
    grouping: Option<Spanned<Vec<Text>>>,
}

#[derive(Deserialize)]
struct Query {
    metric: Text,
}

impl Reader<'_> {
    pub(super) fn pyrra(&mut self) -> Option<Vec<Imported>> {
        let resources = self.documents::<Resource>()?;
        let mut out = Vec::new();
        for resource in resources {
            let r = &resource.value;
            if let Some(kind) = r
                .kind
                .as_ref()
                .filter(|k| k.value != "ServiceLevelObjective")
            {
                let message = format!("a `{}` among Pyrra's ServiceLevelObjectives", kind.value);
                self.refuse(
                    kind,
                    message,
                    "a Pyrra file holds `kind: ServiceLevelObjective` resources",
                );
                continue;
            }
            let Some(name) = r.metadata.as_ref().and_then(|m| m.name.as_ref()) else {
                self.refuse(
                    &resource,
                    "a ServiceLevelObjective without `metadata.name`",
                    "its name names the SLO's verdicts",
                );
                continue;
            };
            let Some(spec) = &r.spec else {
                self.refuse(
                    &resource,
                    "a ServiceLevelObjective without `spec`",
                    "`spec: {target, window, indicator}`",
                );
                continue;
            };
            let objective = self.percent(&spec.value.target);
            let period = self.window(&spec.value.window);
            let sli = self.pyrra_sli(&spec.value.indicator);
            if let (Some(objective), Some(period), Some(sli)) = (objective, period, sli) {
                out.push(Imported {
                    name: name.value.clone(),
                    objective,
                    period: Some(period),
                    sli,
                    source: self.source_of(spec),
                });
            }
        }
        Some(out)
    }

    fn pyrra_sli(&mut self, indicator: &Spanned<Indicator>) -> Option<Sli> {
        let i = &indicator.value;
        if let Some(native) = &i.latency_native {
            self.refuse(native, "a `latencyNative` indicator reads native histograms, which slogate's SLIs do not", "use a `latency` indicator over a classic histogram's `_bucket{le=...}` and `_count`");
            return None;
        }
        if let Some(gauge) = &i.bool_gauge {
            self.refuse(
                gauge,
                "a `bool_gauge` indicator is not an event count",
                "slogate's SLIs count events: use a `ratio` indicator",
            );
            return None;
        }
        let (pair, good) = match (&i.ratio, &i.latency) {
            (Some(ratio), None) => (ratio, false),
            (None, Some(latency)) => (latency, true),
            _ => {
                self.refuse(indicator, "an indicator is one of `ratio` and `latency`", "`ratio: {errors: {metric: ...}, total: {metric: ...}}` or `latency: {success: {metric: ..._bucket{le=\"0.5\"}}, total: {metric: ..._count}}`");
                return None;
            }
        };
        if let Some(grouping) = pair.grouping.as_ref().filter(|g| !g.value.is_empty()) {
            self.refuse(grouping, "`grouping` makes one SLO per group, which slogate does not judge", "slogate judges the SLO over all series: drop `grouping`, or select one group in the metrics");
            return None;
        }
        let events = match (good, &pair.errors, &pair.success) {
            (false, Some(errors), None) => &errors.metric,
            (true, None, Some(success)) => &success.metric,
            _ => {
                let (wanted, why) = match good {
                    false => ("errors", "a `ratio` indicator has `errors` and `total`"),
                    true => ("success", "a `latency` indicator has `success` and `total`"),
                };
                self.refuse(indicator, why, &format!("give `{wanted}: {{metric: ...}}`"));
                return None;
            }
        };
        let events = self.selector(events, false);
        let total = self.selector(&pair.total.metric, false);
        Some(Sli::Promql {
            events: events?,
            good,
            total: total?,
        })
    }
}
