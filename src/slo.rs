//! SLOs as objects: an SLI (the client's own success ratio, or PromQL
//! error and total counters), an objective and a period. Over a run they
//! give the compliance during the run, the error budget the run consumed,
//! burn rates per window, and whether the SRE workbook's multi-window,
//! multi-burn-rate page (1h and 5m above 14.4, or 6h and 30m above 6)
//! would have fired — and when.
//!
//! Budget consumed is time-weighted: the run's burn rate (its error ratio
//! over the allowed one) times the run's duration over the period, which
//! is exact when the period's traffic has the run's rate. Windows longer
//! than the data hold only the data (a drill of minutes has no 6 hours
//! before it); the report says how much data they held.

use std::time::Duration;

use serde::Serialize;

use crate::backend::QueryBackend;
use crate::expect::{Outcome, Verdict};
use crate::record::RunResults;

/// The burn-rate windows reported, seconds.
pub const WINDOWS: [(u64, &str); 4] = [(300, "5m"), (1800, "30m"), (3600, "1h"), (21600, "6h")];

/// The page: (long window, short window, burn-rate threshold).
const PAGE: [(u64, u64, f64); 2] = [(3600, 300, 14.4), (21600, 1800, 6.0)];

#[derive(Debug, Clone)]
pub struct Slo {
    pub name: String,
    /// As a fraction: 0.999.
    pub objective: f64,
    pub period: Duration,
    pub sli: Sli,
    pub expect: Vec<SloExpectation>,
    /// `before_run: healthy`: windows reaching back before the run count
    /// the run's average traffic there, with no errors (as in production,
    /// where a drill's minutes sit in hours of normal traffic); otherwise
    /// windows hold only the run.
    pub healthy_before: bool,
    /// `file:line:col` of the SLO.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Sli {
    /// The client's requests: failed ones (transport errors, unexpected
    /// statuses) are the bad events.
    ClientAvailability,
    /// The client's requests: those answered within the threshold (any
    /// status, latency from the intended send time) are the good events;
    /// to the per-second histogram's 2 significant digits.
    ClientLatency(Duration),
    /// Counter selectors: `events` counts bad events (`errors:`) or good
    /// ones (`good: true`, e.g. a latency bucket), `total` all events.
    Promql {
        events: String,
        good: bool,
        total: String,
    },
}

impl Sli {
    /// Measured from the client's own requests (not the service's metrics).
    pub fn is_client(&self) -> bool {
        matches!(self, Sli::ClientAvailability | Sli::ClientLatency(_))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SloExpectation {
    pub kind: SloCheck,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SloCheck {
    /// `page: fires` (true) or `page: quiet` (false).
    Page(bool),
    /// `budget_consumed < 5%` (a fraction of the period's budget).
    BudgetBelow(f64),
    /// `compliance >= 99%` during the run.
    ComplianceAtLeast(f64),
}

/// What one SLO did over the run.
#[derive(Debug, Clone, Serialize)]
pub struct SloReport {
    pub name: String,
    pub objective: f64,
    pub period_seconds: u64,
    pub sli: String,
    /// Good events over all events during the run.
    pub compliance: Option<f64>,
    /// Bad events and all events (client SLI; PromQL counts are estimates
    /// from `increase`).
    pub bad: Option<f64>,
    pub total: Option<f64>,
    /// The run's error ratio over the allowed one.
    pub burn_rate: Option<f64>,
    /// Share of the period's error budget the run used.
    pub budget_consumed: Option<f64>,
    /// Burn rate per window at the end of the run (None: no data).
    pub burn_at_end: Vec<(String, Option<f64>)>,
    /// Seconds of data the windows could hold.
    pub data_seconds: u64,
    /// Windows reaching before the run counted healthy traffic there.
    pub healthy_before: bool,
    /// Seconds from the run start to the first moment the page condition
    /// held, and which pair of windows made it.
    pub page_at: Option<f64>,
    pub page_by: Option<String>,
    /// Why numbers are missing, if they are.
    pub problem: Option<String>,
}

/// What an SLI measured over the run.
struct Measured {
    /// Bad and all events over the whole run.
    bad: f64,
    total: f64,
    /// Per second of the run (ending at second 1, 2, ...): bad and all
    /// events over each of [`WINDOWS`], windows cut at the run start.
    windows: Vec<[Option<(f64, f64)>; WINDOWS.len()]>,
}

/// Evaluates every SLO; `backend` answers PromQL SLIs (None: no metrics).
pub fn evaluate(
    slos: &[Slo],
    results: &RunResults,
    backend: Option<&dyn QueryBackend>,
) -> Vec<SloReport> {
    let thresholds = client_latency_thresholds(slos);
    slos.iter()
        .map(|slo| {
            let measured = match &slo.sli {
                Sli::ClientAvailability => Ok(client(results, None)),
                Sli::ClientLatency(t) => {
                    let i = thresholds.iter().position(|x| x == t).unwrap_or(0);
                    Ok(client(results, Some((i, *t))))
                }
                Sli::Promql {
                    events,
                    good,
                    total,
                } => match backend {
                    Some(backend) => promql(backend, results, events, *good, total),
                    None => Err("a PromQL SLI needs `metrics`".to_string()),
                },
            };
            report(slo, measured)
        })
        .collect()
}

/// The latency thresholds the engine must count under, per second, for
/// the client latency SLIs of `slos` (in this order).
pub fn client_latency_thresholds(slos: &[Slo]) -> Vec<Duration> {
    let mut out = Vec::new();
    for slo in slos {
        if let Sli::ClientLatency(t) = slo.sli
            && !out.contains(&t)
        {
            out.push(t);
        }
    }
    out
}

/// The client's requests, per second of the timeline: failures are bad,
/// or with a latency threshold, requests not answered within it.
fn client(results: &RunResults, threshold: Option<(usize, Duration)>) -> Measured {
    let n = (results.elapsed.as_secs_f64().ceil() as usize).max(1);
    let mut seconds = vec![(0.0, 0.0); n];
    for row in &results.timeline {
        if let Some(slot) = seconds.get_mut(row.second as usize) {
            let good = match threshold {
                None => row.ok,
                Some((i, _)) => row.under.get(i).copied().unwrap_or(0),
            };
            slot.0 += row.requests.saturating_sub(good) as f64;
            slot.1 += row.requests as f64;
        }
    }
    from_seconds(&seconds)
}

/// From (bad, total) per second.
fn from_seconds(seconds: &[(f64, f64)]) -> Measured {
    let mut prefix = vec![(0.0, 0.0)];
    for s in seconds {
        let last = *prefix.last().expect("starts with one");
        prefix.push((last.0 + s.0, last.1 + s.1));
    }
    let events = |end: usize, window: u64| -> Option<(f64, f64)> {
        let from = end.saturating_sub(window as usize);
        Some((
            prefix[end].0 - prefix[from].0,
            prefix[end].1 - prefix[from].1,
        ))
    };
    let n = seconds.len();
    Measured {
        bad: prefix[n].0,
        total: prefix[n].1,
        windows: (1..=n)
            .map(|end| WINDOWS.map(|(w, _)| events(end, w)))
            .collect(),
    }
}

/// Counter selectors, as Prometheus would evaluate a burn-rate rule: at
/// each second, `increase` of the errors over the window divided by that
/// of the total, the window cut at the run start.
fn promql(
    backend: &dyn QueryBackend,
    results: &RunResults,
    events: &str,
    good: bool,
    total: &str,
) -> Result<Measured, String> {
    let start = crate::metrics::scrape::system_ms(results.started_at);
    let n = (results.elapsed.as_secs_f64().ceil() as u64).max(1);
    let increase = |selector: &str, window: u64, t: i64| -> Result<Option<f64>, String> {
        let answer = backend
            .instant(&format!("sum(increase({selector}[{window}s]))"), t)
            .map_err(|e| e.to_string())?;
        Ok(answer.first().map(|(_, v)| *v))
    };
    let mut windows = Vec::new();
    for end in 1..=n {
        let t = start + end as i64 * 1000;
        let mut row = [None; WINDOWS.len()];
        for i in 0..WINDOWS.len() {
            let window = WINDOWS[i].0.min(end);
            // Windows past the run start are the same window: asked once.
            if let Some(j) = (0..i).find(|&j| WINDOWS[j].0.min(end) == window) {
                row[i] = row[j];
                continue;
            }
            let slot = &mut row[i];
            let all = increase(total, window, t)?;
            // No error series (yet): no errors; no good series: all bad.
            let counted = increase(events, window, t)?.unwrap_or(0.0);
            *slot = all.map(|a| {
                (
                    if good {
                        (a - counted).max(0.0)
                    } else {
                        counted
                    },
                    a,
                )
            });
        }
        windows.push(row);
    }
    let t = start + n as i64 * 1000;
    let all = increase(total, n, t)?
        .ok_or_else(|| format!("`{total}` matches no series with two samples in the run"))?;
    let counted = increase(events, n, t)?;
    let bad = if good {
        let counted = counted
            .ok_or_else(|| format!("`{events}` matches no series with two samples in the run"))?;
        (all - counted).max(0.0)
    } else {
        counted.unwrap_or(0.0)
    };
    Ok(Measured {
        bad,
        total: all,
        windows,
    })
}

fn report(slo: &Slo, measured: Result<Measured, String>) -> SloReport {
    let allowed = 1.0 - slo.objective;
    let mut report = SloReport {
        name: slo.name.clone(),
        objective: slo.objective,
        period_seconds: slo.period.as_secs(),
        sli: match &slo.sli {
            Sli::ClientAvailability => "client availability".into(),
            Sli::ClientLatency(t) => format!(
                "client requests answered within {}",
                crate::units::format_duration(*t)
            ),
            Sli::Promql {
                events,
                good: false,
                total,
            } => format!("1 - {events} / {total}"),
            Sli::Promql { events, total, .. } => format!("{events} / {total}"),
        },
        compliance: None,
        bad: None,
        total: None,
        burn_rate: None,
        budget_consumed: None,
        burn_at_end: WINDOWS.iter().map(|(_, n)| (n.to_string(), None)).collect(),
        data_seconds: 0,
        healthy_before: slo.healthy_before,
        page_at: None,
        page_by: None,
        problem: None,
    };
    let measured = match measured {
        Ok(m) => m,
        Err(e) => {
            report.problem = Some(e);
            return report;
        }
    };
    let n = measured.windows.len();
    report.data_seconds = n as u64;
    report.bad = Some(measured.bad);
    report.total = Some(measured.total);
    if measured.total <= 0.0 {
        report.problem = Some("no events during the run".into());
        return report;
    }
    let ratio = (measured.bad / measured.total).clamp(0.0, 1.0);
    report.compliance = Some(1.0 - ratio);
    let burn = ratio / allowed;
    report.burn_rate = Some(burn);
    report.budget_consumed = Some(burn * n as f64 / slo.period.as_secs_f64().max(1.0));
    // Healthy history: the run's average traffic, no errors.
    let before = if slo.healthy_before {
        measured.total / n as f64
    } else {
        0.0
    };
    let burn_of = |end: usize, row: &[Option<(f64, f64)>; WINDOWS.len()], window: u64| {
        let i = WINDOWS.iter().position(|(w, _)| *w == window)?;
        let (bad, total) = row[i]?;
        let total = total + before * window.saturating_sub(end as u64) as f64;
        (total > 0.0).then(|| bad / total / allowed)
    };
    if let Some(last) = measured.windows.last() {
        report.burn_at_end = WINDOWS
            .iter()
            .map(|(w, name)| (name.to_string(), burn_of(n, last, *w)))
            .collect();
    }
    'seconds: for (i, row) in measured.windows.iter().enumerate() {
        for (long, short, threshold) in PAGE {
            let over = |w| burn_of(i + 1, row, w).is_some_and(|b| b > threshold);
            if over(long) && over(short) {
                report.page_at = Some((i + 1) as f64);
                report.page_by = Some(format!(
                    "{} and {} burn rates above {threshold}",
                    window_name(long),
                    window_name(short)
                ));
                break 'seconds;
            }
        }
    }
    report
}

fn window_name(seconds: u64) -> &'static str {
    WINDOWS
        .iter()
        .find(|(w, _)| *w == seconds)
        .map_or("?", |(_, n)| n)
}

/// The verdicts of every SLO's expectations.
pub fn verdicts(slos: &[Slo], reports: &[SloReport]) -> Vec<Verdict> {
    let mut out = Vec::new();
    for (slo, report) in slos.iter().zip(reports) {
        for e in &slo.expect {
            let mut v = Verdict {
                check: String::new(),
                scope: format!("slo {}", slo.name),
                measured: None,
                measured_text: String::new(),
                wanted: String::new(),
                outcome: Outcome::NoData,
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
                            Outcome::Pass
                        } else {
                            Outcome::Fail
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
pub fn mark_truncated(
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
                Outcome::Pass
            } else {
                Outcome::Fail
            };
        }
        None => v.measured_text = no_data.to_string(),
    }
}

fn burn_text(report: &SloReport) -> String {
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

/// The SLO block of the terminal report.
pub fn text(reports: &[SloReport]) -> String {
    let mut out = String::new();
    for r in reports {
        out.push_str(&format!(
            "SLO {}: {} of {} over {}\n",
            r.name,
            percent(r.objective),
            r.sli,
            period(r.period_seconds)
        ));
        if let Some(problem) = &r.problem {
            out.push_str(&format!("  no figures: {problem}\n"));
            continue;
        }
        if let (Some(c), Some(burn), Some(budget), Some(bad), Some(total)) =
            (r.compliance, r.burn_rate, r.budget_consumed, r.bad, r.total)
        {
            out.push_str(&format!(
                "  during the run: compliance {} ({} bad of {}), burn rate {}, budget consumed {}\n",
                percent(c),
                trim(bad),
                trim(total),
                trim(burn),
                percent(budget)
            ));
        }
        out.push_str(&format!(
            "  {} ({})\n",
            burn_text(r),
            if r.healthy_before {
                "windows past the run start count healthy traffic"
            } else {
                "windows cut at the run start"
            }
        ));
        out.push_str(&match (r.page_at, &r.page_by) {
            (Some(at), Some(by)) => format!("  page would fire at +{at}s: {by}\n"),
            _ => "  page (1h&5m > 14.4, 6h&30m > 6) would not fire\n".into(),
        });
    }
    out
}

/// `30d`, `12h`, as a period is written.
fn period(seconds: u64) -> String {
    match seconds {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn percent(fraction: f64) -> String {
    format!("{}%", trim(fraction * 100.0))
}

/// Four significant digits, no trailing zeros.
fn trim(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (3 - x.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{x:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slo(objective: f64) -> Slo {
        Slo {
            name: "a".into(),
            objective,
            period: Duration::from_secs(30 * 86400),
            sli: Sli::ClientAvailability,
            expect: Vec::new(),
            healthy_before: false,
            source: String::new(),
        }
    }

    #[test]
    fn budget_and_burn_rate_follow_the_workbook() {
        // 100 s healthy then 100 s at 10 % errors, 10 events a second.
        let mut seconds = vec![(0.0, 10.0); 100];
        seconds.extend(vec![(1.0, 10.0); 100]);
        let r = report(&slo(0.999), Ok(from_seconds(&seconds)));
        assert_eq!(r.compliance, Some(1.0 - 100.0 / 2000.0));
        let burn = (100.0 / 2000.0) / (1.0 - 0.999);
        assert!((r.burn_rate.unwrap() - burn).abs() < 1e-9);
        let budget = burn * 200.0 / (30.0 * 86400.0);
        assert!((r.budget_consumed.unwrap() - budget).abs() < 1e-12);
        // 5m holds all 200 s: 5 % errors = burn 50.
        assert!((r.burn_at_end[0].1.unwrap() - 50.0).abs() < 1e-9);
        // The page, windows cut at the run start (all four hold the same
        // data): 6h/30m's threshold of 6 × 0.1 % = 0.6 % is passed first,
        // 100 s healthy + k s at 10 %: k / (100 + k) × 10 % > 0.6 % →
        // k > 6.4: at second 107.
        assert_eq!(r.page_at, Some(107.0));
        assert_eq!(r.page_by.as_deref(), Some("6h and 30m burn rates above 6"));
        // With healthy traffic before the run, 10 events a second: 5m
        // holds 100 s of it (100 bad of 3000: burn 33.3), 1h 3400 s
        // (100 of 36000: burn 2.8), 6h even less: no page.
        let healthy = Slo {
            healthy_before: true,
            ..slo(0.999)
        };
        let mut seconds = vec![(0.0, 10.0); 100];
        seconds.extend(vec![(1.0, 10.0); 100]);
        let r = report(&healthy, Ok(from_seconds(&seconds)));
        assert!((r.burn_at_end[0].1.unwrap() - 100.0 / 3_000.0 / 0.001).abs() < 1e-6);
        assert!((r.burn_at_end[2].1.unwrap() - 100.0 / 36_000.0 / 0.001).abs() < 1e-6);
        assert_eq!(r.page_at, None);
    }

    #[test]
    fn a_healthy_run_does_not_page() {
        let r = report(&slo(0.99), Ok(from_seconds(&[(0.0, 10.0); 60])));
        assert_eq!(r.page_at, None);
        assert_eq!(r.budget_consumed, Some(0.0));
        let verdicts = verdicts(
            &[Slo {
                expect: vec![
                    SloExpectation {
                        kind: SloCheck::Page(false),
                        source: String::new(),
                    },
                    SloExpectation {
                        kind: SloCheck::Page(true),
                        source: String::new(),
                    },
                ],
                ..slo(0.99)
            }],
            &[r],
        );
        assert_eq!(verdicts[0].outcome, Outcome::Pass);
        assert_eq!(verdicts[1].outcome, Outcome::Fail);
        assert!(verdicts[1].measured_text.starts_with("never fires"));
    }

    #[test]
    fn no_events_is_no_data() {
        let r = report(&slo(0.99), Ok(from_seconds(&[(0.0, 0.0); 10])));
        assert_eq!(r.compliance, None);
        assert_eq!(r.problem.as_deref(), Some("no events during the run"));
    }
}
