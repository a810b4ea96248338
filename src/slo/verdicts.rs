//! An SLO's expectations judged on its report, and marked when they read
//! data a scrape limit truncated.

use crate::expect::{CheckOutcome, Verdict};

use super::*;
use crate::units::format_significant as trim;

/// The verdicts of every SLO's expectations.
pub(crate) fn verdicts(slos: &[Slo], reports: &[SloReport]) -> Vec<Verdict> {
    let mut out = Vec::new();
    for (slo, report) in slos.iter().zip(reports) {
        for e in &slo.expect {
            let mut v = Verdict {
                check: String::new(),
                scope: format!("slo {}", slo.name),
                measured: None,
                measured_text: String::new(),
                wanted: String::new(),
                outcome: CheckOutcome::NoData,
                optional: false,
                source: e.source.clone(),
                truncated: false,
            };
            let no_data = report
                .problem
                .clone()
                .unwrap_or_else(|| "no data".to_string());
            match e.kind {
                SloCheck::Page(fires) => {
                    v.check = format!("page {}", if fires { "fires" } else { "quiet" });
                    v.wanted = if fires {
                        "the 1h/5m (14.4) or 6h/30m (6) page fires".into()
                    } else {
                        "the page never fires".into()
                    };
                    if report.compliance.is_none() {
                        v.measured_text = no_data;
                    } else {
                        v.measured = report.page_at;
                        v.measured_text = match (report.page_at, &report.page_by) {
                            (Some(at), Some(by)) => format!("fires at +{at}s ({by})"),
                            _ => format!("never fires; {}", burn_text(report)),
                        };
                        v.outcome = if report.page_at.is_some() == fires {
                            CheckOutcome::Pass
                        } else {
                            CheckOutcome::Fail
                        };
                    }
                }
                SloCheck::BudgetBelow(limit) => {
                    v.check = format!("budget_consumed < {}", percent(limit));
                    v.wanted = format!("< {}", percent(limit));
                    judge(&mut v, report.budget_consumed, |x| x < limit, &no_data);
                }
                SloCheck::ComplianceAtLeast(limit) => {
                    v.check = format!("compliance >= {}", percent(limit));
                    v.wanted = format!(">= {}", percent(limit));
                    judge(&mut v, report.compliance, |x| x >= limit, &no_data);
                }
            }
            out.push(v);
        }
    }
    out
}

/// Marks the verdicts (as [`verdicts`] made them) of SLOs with a PromQL
/// SLI when scraped data was lost during the run: their windows read all
/// of it. `origin_ms` is the run's start.
pub(crate) fn mark_truncated(
    slos: &[Slo],
    verdicts: &mut [Verdict],
    losses: &[crate::metrics::loss::Loss],
    origin_ms: i64,
) {
    let per_verdict = slos
        .iter()
        .flat_map(|slo| slo.expect.iter().map(move |_| slo));
    for (slo, verdict) in per_verdict.zip(verdicts) {
        if !slo.sli.is_client() {
            verdict.mark_truncated(losses, origin_ms);
        }
    }
}

fn judge(v: &mut Verdict, measured: Option<f64>, holds: impl Fn(f64) -> bool, no_data: &str) {
    match measured {
        Some(x) => {
            v.measured = Some(x);
            v.measured_text = percent(x);
            v.outcome = if holds(x) {
                CheckOutcome::Pass
            } else {
                CheckOutcome::Fail
            };
        }
        None => v.measured_text = no_data.to_string(),
    }
}

pub(crate) fn burn_text(report: &SloReport) -> String {
    let windows: Vec<String> = report
        .burn_at_end
        .iter()
        .map(|(w, b)| match b {
            Some(b) => format!("{w} {}", trim(*b)),
            None => format!("{w} -"),
        })
        .collect();
    format!("burn rates at the end: {}", windows.join(", "))
}

/// A fraction as a percentage: `99.9%`.
pub(crate) fn percent(fraction: f64) -> String {
    format!("{}%", trim(fraction * 100.0))
}
