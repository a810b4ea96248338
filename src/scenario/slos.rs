//! Validation of `slos:`. Part of [`super::resolve`].

use std::time::Duration;

use serde_saphyr::Spanned;

use super::model::{SloSpec, Text};
use super::resolve::Validator;
use crate::slo::{Sli, Slo, SloCheck, SloExpectation};
use crate::units::Ratio;

const EXPECT_HINT: &str =
    "one of `page fires`, `page quiet`, `budget_consumed < 5%`, `compliance >= 99%`";

impl Validator<'_> {
    pub(super) fn slos(&mut self, specs: &[Spanned<SloSpec>]) -> Vec<Slo> {
        let mut out: Vec<Slo> = Vec::new();
        for spec in specs {
            let s = &spec.value;
            let healthy_before = self.before_run(s.before_run.as_ref());
            let expect: Vec<Option<SloExpectation>> = s
                .expect
                .iter()
                .map(|text| self.slo_expectation(text))
                .collect();
            let written = match &s.file {
                Some(file) => self.slo_file(spec, file),
                None => self.slo_written(spec).into_iter().collect(),
            };
            let Some(healthy_before) = healthy_before else {
                continue;
            };
            if expect.iter().any(Option::is_none) {
                continue;
            }
            for slo in written {
                if out.iter().any(|o| o.name == slo.name) {
                    let at = s.name.as_ref().or(s.file.as_ref());
                    self.error(
                        at.map_or_else(|| Self::at(spec), Self::at),
                        format!("a second SLO named `{}`", slo.name),
                        Some("SLO names identify verdicts; make them unique".into()),
                    );
                    continue;
                }
                out.push(Slo {
                    healthy_before,
                    expect: expect.iter().flatten().cloned().collect(),
                    ..slo
                });
            }
        }
        out
    }

    /// `before_run:`: whether windows see healthy traffic before the run.
    fn before_run(&mut self, text: Option<&Text>) -> Option<bool> {
        match text.map(|t| (t, t.value.as_str())) {
            None | Some((_, "none")) => Some(false),
            Some((_, "healthy")) => Some(true),
            Some((text, other)) => {
                self.error(
                    Self::at(text),
                    format!("`before_run: {other}` is neither `healthy` nor `none`"),
                    Some("`healthy`: windows reaching before the run count the run's traffic, error-free; `none`: they hold only the run".into()),
                );
                None
            }
        }
    }

    /// An SLO written in the scenario (its expectations still to come).
    fn slo_written(&mut self, spec: &Spanned<SloSpec>) -> Option<Slo> {
        let s = &spec.value;
        let (Some(name), Some(objective), Some(sli)) = (&s.name, &s.objective, &s.sli) else {
            let missing: Vec<&str> = [
                ("name", s.name.is_none()),
                ("objective", s.objective.is_none()),
                ("sli", s.sli.is_none()),
            ]
            .into_iter()
            .filter_map(|(k, m)| m.then_some(k))
            .collect();
            self.error(
                Self::at(spec),
                format!("an SLO without {}", list(&missing)),
                Some("an SLO is `{name, objective: 99.9%, sli: {...}}`, or `{file: slo.yaml}` (Sloth, OpenSLO, Pyrra)".into()),
            );
            return None;
        };
        if let Some(slo) = &s.slo {
            self.error(
                Self::at(slo),
                "`slo:` picks one SLO of a `file:`",
                Some("drop it, or read the SLOs from `file:`".into()),
            );
        }
        if name.value.trim().is_empty() {
            self.error(Self::at(name), "`name` is empty", None);
            return None;
        }
        let objective = match objective.value.parse::<Ratio>() {
            Ok(r) if r.fraction() > 0.0 && r.fraction() < 1.0 => Some(r.fraction()),
            Ok(_) => {
                self.error(
                    Self::at(objective),
                    format!(
                        "objective `{}` leaves no error budget or no goal",
                        objective.value
                    ),
                    Some("an objective is between 0% and 100%, e.g. `99.9%`".into()),
                );
                None
            }
            Err(e) => {
                self.error(
                    Self::at(objective),
                    format!("objective: {e}"),
                    Some("e.g. `objective: 99.9%`".into()),
                );
                None
            }
        };
        let period = match &s.period {
            Some(text) => self.duration(text, "period"),
            None => Some(Duration::from_secs(30 * 86_400)),
        };
        let sli = self.sli(sli);
        Some(Slo {
            name: name.value.clone(),
            objective: objective?,
            period: period?,
            sli: sli?,
            expect: Vec::new(),
            healthy_before: false,
            source: self.source_of(spec),
        })
    }

    /// The SLOs of a Sloth, OpenSLO or Pyrra file (`slo:` picks one).
    fn slo_file(&mut self, spec: &Spanned<SloSpec>, file: &Text) -> Vec<Slo> {
        let s = &spec.value;
        for (key, given) in [
            ("name", s.name.as_ref()),
            ("objective", s.objective.as_ref()),
        ] {
            if let Some(text) = given {
                self.error(
                    Self::at(text),
                    format!("`{key}` comes from the SLO file"),
                    Some("an SLO read from `file:` keeps its own name and objective; pick one with `slo: NAME`".into()),
                );
                return Vec::new();
            }
        }
        if let Some(sli) = &s.sli {
            self.error(
                Self::at(sli),
                "`sli` comes from the SLO file",
                Some("drop `sli:`, or write the SLO in the scenario without `file:`".into()),
            );
            return Vec::new();
        }
        let dir = self.file.parent().unwrap_or(std::path::Path::new("."));
        let path = dir.join(&file.value);
        if !path.is_file() {
            self.error(
                Self::at(file),
                format!("no SLO file at {}", path.display()),
                Some("SLO file paths are relative to the scenario file".into()),
            );
            return Vec::new();
        }
        let period = match &s.period {
            Some(text) => match self.duration(text, "period") {
                Some(d) => Some(d),
                None => return Vec::new(),
            },
            None => None,
        };
        let imported = match crate::slo::spec::read(&path) {
            Ok(imported) => imported,
            Err(errors) => {
                self.errors.extend(errors);
                return Vec::new();
            }
        };
        let picked: Vec<_> = match &s.slo {
            None => imported,
            Some(pick) => {
                let names: Vec<&str> = imported.iter().map(|i| i.name.as_str()).collect();
                if !names.contains(&pick.value.as_str()) {
                    let hint = match crate::diag::nearest(&pick.value, names.iter().copied()) {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => format!("the file's SLOs: {}", names.join(", ")),
                    };
                    self.error(
                        Self::at(pick),
                        format!("{} has no SLO named `{}`", file.value, pick.value),
                        Some(hint),
                    );
                    return Vec::new();
                }
                imported
                    .into_iter()
                    .filter(|i| i.name == pick.value)
                    .collect()
            }
        };
        picked
            .into_iter()
            .map(|i| Slo {
                name: i.name,
                objective: i.objective,
                // The scenario's period over the file's; Sloth has none: 30d.
                period: period
                    .or(i.period)
                    .unwrap_or(Duration::from_secs(30 * 86_400)),
                sli: i.sli,
                expect: Vec::new(),
                healthy_before: false,
                source: i.source,
            })
            .collect()
    }

    fn sli(&mut self, spec: &Spanned<super::model::SliSpec>) -> Option<Sli> {
        let s = &spec.value;
        let hint = Some(
            "`sli: {client: availability}`, `sli: {errors: 'http_requests_total{status=~\"5..\"}', total: http_requests_total}` or `sli: {good: 'http_request_duration_seconds_bucket{le=\"0.25\"}', total: http_request_duration_seconds_count}`"
                .to_string(),
        );
        let promql = |v: &mut Self, events: &Text, good: bool, total: &Text| {
            let ok = v.selector(events) & v.selector(total);
            ok.then(|| Sli::Promql {
                events: events.value.trim().to_string(),
                good,
                total: total.value.trim().to_string(),
            })
        };
        match (&s.client, &s.errors, &s.good, &s.total) {
            (Some(client), None, None, None) if client.value == "availability" => {
                Some(Sli::ClientAvailability)
            }
            (Some(client), None, None, None)
                if client.value.trim_start().starts_with("latency") =>
            {
                let words: Vec<&str> = client.value.split_whitespace().collect();
                match words.as_slice() {
                    ["latency", "<" | "<=", limit] => match crate::units::parse_duration(limit) {
                        Ok(d) if !d.is_zero() => Some(Sli::ClientLatency(d)),
                        Ok(_) => {
                            self.error(Self::at(client), "a latency threshold of zero", None);
                            None
                        }
                        Err(e) => {
                            self.error(
                                Self::at(client),
                                format!("`client: {}`: {e}", client.value),
                                None,
                            );
                            None
                        }
                    },
                    _ => {
                        self.error(
                            Self::at(client),
                            format!("`client: {}` is not a client SLI", client.value),
                            Some("e.g. `client: latency < 300ms` (requests answered within 300 ms are good)".into()),
                        );
                        None
                    }
                }
            }
            (Some(client), None, None, None) => {
                self.error(
                    Self::at(client),
                    format!("`client: {}` is not a client SLI", client.value),
                    Some("client SLIs: `availability` (requests that succeeded, honouring `expect_status`) or `latency < 300ms` (requests answered within it)".into()),
                );
                None
            }
            (None, Some(errors), None, Some(total)) => promql(self, errors, false, total),
            (None, None, Some(good), Some(total)) => promql(self, good, true, total),
            (None, Some(_), Some(good), _) => {
                self.error(
                    Self::at(good),
                    "an SLI counts `errors` or `good` events, not both",
                    hint,
                );
                None
            }
            (None, Some(one), None, None)
            | (None, None, Some(one), None)
            | (None, None, None, Some(one)) => {
                self.error(
                    Self::at(one),
                    "an SLI from PromQL needs `total` and one of `errors`, `good`",
                    hint,
                );
                None
            }
            _ => {
                self.error(
                    Self::at(spec),
                    "`sli` is either `client` or `errors`/`good` with `total`",
                    hint,
                );
                None
            }
        }
    }

    /// A counter selector: `name{matchers}` without a range.
    fn selector(&mut self, text: &Text) -> bool {
        // Through our parse for its depth limit; a parser message stays as
        // the parser words it.
        let parsed = crate::promql::parse(&text.value).map_err(|e| match e {
            crate::promql::Error::Parse(why) => why,
            other => other.to_string(),
        });
        match parsed {
            Ok(promql_parser::parser::Expr::VectorSelector(_)) => true,
            Ok(_) => {
                self.error(
                    Self::at(text),
                    format!("`{}` is not a series selector", text.value),
                    Some("an SLI counts events with counters: write the selector alone, e.g. `http_requests_total{status=~\"5..\"}`; slogate applies `increase` over each window".into()),
                );
                false
            }
            Err(e) => {
                self.error(Self::at(text), format!("`{}`: {e}", text.value), None);
                false
            }
        }
    }

    fn slo_expectation(&mut self, text: &Text) -> Option<SloExpectation> {
        let source = self.source_of(text);
        let words: Vec<&str> = text.value.split_whitespace().collect();
        let kind = match words.as_slice() {
            ["page", "fires"] => Some(SloCheck::Page(true)),
            ["page", "quiet"] => Some(SloCheck::Page(false)),
            ["budget_consumed", "<", value] => {
                self.slo_ratio(text, value).map(SloCheck::BudgetBelow)
            }
            ["compliance", ">=", value] => {
                self.slo_ratio(text, value).map(SloCheck::ComplianceAtLeast)
            }
            _ => {
                self.error(
                    Self::at(text),
                    format!("`{}` is not an SLO expectation", text.value),
                    Some(EXPECT_HINT.into()),
                );
                None
            }
        };
        kind.map(|kind| SloExpectation { kind, source })
    }

    fn slo_ratio(&mut self, text: &Text, value: &str) -> Option<f64> {
        match value.parse::<Ratio>() {
            Ok(r) => Some(r.fraction()),
            Err(e) => {
                self.error(Self::at(text), format!("{e}"), Some(EXPECT_HINT.into()));
                None
            }
        }
    }
}

/// `a`, `a and b`, `a, b and c`, each in backticks.
fn list(keys: &[&str]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}
