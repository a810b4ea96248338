//! Sloth's spec (`version: prometheus/v1`) and its Kubernetes resource
//! (`apiVersion: sloth.slok.dev/v1`, `kind: PrometheusServiceLevel`, the
//! same spec under `spec:`). An SLO is named `SERVICE-NAME`, as Sloth
//! names its `sloth_id`; its period is Sloth's default, 30 days, unless
//! the scenario's entry gives one.

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{Imported, Present, Reader, Text, counts_of};
use crate::slo::Sli;

#[derive(Deserialize)]
struct Spec {
    #[serde(default)]
    service: Option<Text>,
    #[serde(default)]
    slos: Vec<Spanned<Slo>>,
}

#[derive(Deserialize)]
struct Resource {
    #[serde(default)]
    kind: Option<Text>,
    #[serde(default)]
    spec: Option<Spec>,
}

#[derive(Deserialize)]
struct Slo {
    name: Text,
    objective: Text,
    sli: Spanned<SliSpec>,
}

#[derive(Deserialize)]
struct SliSpec {
    #[serde(default)]
    events: Option<Events>,
    #[serde(default)]
    raw: Option<Raw>,
    #[serde(default)]
    plugin: Present,
}

#[derive(Deserialize)]
struct Events {
    error_query: Text,
    total_query: Text,
}

#[derive(Deserialize)]
struct Raw {
    error_ratio_query: Text,
}

impl Reader<'_> {
    pub(super) fn sloth(&mut self) -> Option<Vec<Imported>> {
        let specs = self.documents::<Spec>()?;
        let mut out = Vec::new();
        for spec in specs {
            out.extend(self.sloth_spec(spec.value));
        }
        Some(out)
    }

    pub(super) fn sloth_resources(&mut self) -> Option<Vec<Imported>> {
        let resources = self.documents::<Resource>()?;
        let mut out = Vec::new();
        for resource in resources {
            let at = self.error_at(
                Some(crate::diag::Position::from(resource.referenced)),
                "a PrometheusServiceLevel without `spec`",
            );
            match (&resource.value.kind, resource.value.spec) {
                (Some(kind), _) if kind.value != "PrometheusServiceLevel" => {
                    let message =
                        format!("a `{}` among PrometheusServiceLevel resources", kind.value);
                    self.refuse(
                        kind,
                        message,
                        "a Sloth file of resources holds only `kind: PrometheusServiceLevel`",
                    );
                }
                (_, Some(spec)) => out.extend(self.sloth_spec(spec)),
                (_, None) => self.errors.push(at.hint("the SLOs go under `spec.slos`")),
            }
        }
        Some(out)
    }

    fn sloth_spec(&mut self, spec: Spec) -> Vec<Imported> {
        let service = spec.service.map(|s| s.value).unwrap_or_default();
        let mut out = Vec::new();
        for slo in spec.slos {
            let source = self.source_of(&slo);
            let s = slo.value;
            let objective = self.percent(&s.objective);
            let sli = self.sloth_sli(&s.sli);
            if let (Some(objective), Some(sli)) = (objective, sli) {
                let name = match service.as_str() {
                    "" => s.name.value.clone(),
                    service => format!("{service}-{}", s.name.value),
                };
                out.push(Imported {
                    name,
                    objective,
                    period: None,
                    sli,
                    source,
                });
            }
        }
        out
    }

    fn sloth_sli(&mut self, spec: &Spanned<SliSpec>) -> Option<Sli> {
        let s = &spec.value;
        if let Some(plugin) = &s.plugin {
            self.refuse(
                plugin,
                "an SLI plugin (`sli.plugin`) is Sloth's own Go code",
                "write the plugin's queries as `sli.events` or `sli.raw`",
            );
            return None;
        }
        match (&s.events, &s.raw) {
            (Some(events), None) => {
                let errors = self.templated(&events.error_query, "error_query");
                let total = self.templated(&events.total_query, "total_query");
                let (errors, total) = (errors?, total?);
                let counts = counts_of(&[&errors, &total]);
                Some(Sli::Windowed {
                    errors,
                    total,
                    counts,
                })
            }
            (None, Some(raw)) => self
                .templated(&raw.error_ratio_query, "error_ratio_query")
                .map(Sli::ErrorRatio),
            _ => {
                self.refuse(spec, "an SLI is one of `events` and `raw`", "`sli: {events: {error_query: ..., total_query: ...}}` or `sli: {raw: {error_ratio_query: ...}}`");
                None
            }
        }
    }
}
