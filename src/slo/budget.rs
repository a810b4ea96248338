//! The budget math: compliance, burn rates per window, budget consumed,
//! and when the multi-window, multi-burn-rate page would have fired.

use super::measure::{MeasureError, SliEvents};
use super::*;

pub(super) fn report(slo: &Slo, measured: Result<SliEvents, MeasureError>) -> SloReport {
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
            Sli::Windowed { errors, total, .. } => {
                format!("1 - ({}) / ({})", one_line(errors), one_line(total))
            }
            Sli::ErrorRatio(ratio) => format!("1 - ({})", one_line(ratio)),
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
            report.problem = Some(e.to_string());
            return report;
        }
    };
    let n = measured.windows.len();
    report.data_seconds = n as u64;
    if measured.counted {
        report.bad = Some(measured.bad);
        report.total = Some(measured.total);
    }
    if measured.total <= 0.0 {
        report.problem = Some(MeasureError::NoEvents.to_string());
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

/// A query written over several lines, on one.
fn one_line(query: &str) -> String {
    query.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(super) fn window_name(seconds: u64) -> &'static str {
    WINDOWS
        .iter()
        .find(|(w, _)| *w == seconds)
        .map_or("?", |(_, n)| n)
}
