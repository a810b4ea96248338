//! The SLO block of the terminal report: each SLO's figures during the run,
//! its burn rates at the end, and whether the page would have fired.

use crate::slo::{SloReport, burn_text, percent};
use crate::units::format_significant as trim;

/// The SLO block of the terminal report.
pub(crate) fn text(reports: &[SloReport]) -> String {
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
        } else if let (Some(c), Some(burn), Some(budget)) =
            (r.compliance, r.burn_rate, r.budget_consumed)
        {
            out.push_str(&format!(
                "  during the run: compliance {} (an error ratio: no event counts), burn rate {}, budget consumed {}\n",
                percent(c),
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
