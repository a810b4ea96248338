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

mod budget;
mod measure;
mod model;
pub(crate) mod spec;
#[cfg(test)]
mod tests;
mod verdicts;

pub(crate) use measure::{client_latency_thresholds, evaluate};
use model::PAGE;
pub(crate) use model::{
    Counts, Sli, Slo, SloCheck, SloExpectation, SloReport, WINDOW_PLACEHOLDER, WINDOWS,
};
pub(crate) use verdicts::{burn_text, mark_truncated, percent, verdicts};
