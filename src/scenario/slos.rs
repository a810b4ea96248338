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
            let source = self.source_of(spec);
            let s = &spec.value;
            if s.name.value.trim().is_empty() {
                self.error(Self::at(&s.name), "`name` is empty", None);
                continue;
            }
            if out.iter().any(|o| o.name == s.name.value) {
                self.error(
                    Self::at(&s.name),
                    format!("a second SLO named `{}`", s.name.value),
                    Some("SLO names identify verdicts; make them unique".into()),
                );
                continue;
            }
            let objective = match s.objective.value.parse::<Ratio>() {
                Ok(r) if r.fraction() > 0.0 && r.fraction() < 1.0 => Some(r.fraction()),
                Ok(_) => {
                    self.error(
                        Self::at(&s.objective),
                        format!(
                            "objective `{}` leaves no error budget or no goal",
                            s.objective.value
                        ),
                        Some("an objective is between 0% and 100%, e.g. `99.9%`".into()),
                    );
                    None
                }
                Err(e) => {
                    self.error(
                        Self::at(&s.objective),
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
            let sli = self.sli(&s.sli);
            let healthy_before = match s.before_run.as_ref().map(|t| (t, t.value.as_str())) {
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
            };
            let expect: Vec<Option<SloExpectation>> = s
                .expect
                .iter()
                .map(|text| self.slo_expectation(text))
                .collect();
            if let (Some(objective), Some(period), Some(sli), Some(healthy_before)) =
                (objective, period, sli, healthy_before)
                && expect.iter().all(Option::is_some)
            {
                out.push(Slo {
                    name: s.name.value.clone(),
                    objective,
                    period,
                    sli,
                    expect: expect.into_iter().flatten().collect(),
                    healthy_before,
                    source,
                });
            }
        }
        out
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
