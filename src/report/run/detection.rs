//! The detection report's rows as the reports write them: each alert
//! against each fault window (made in [`crate::judge`]), their cells and
//! headings for the terminal, `summary.md` and the page.

use serde::{Deserialize, Serialize};

/// One alert against one fault window; times in seconds (`*_s` from the
/// fault's start, `resolved*_s` from its end).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DetectionRow {
    /// `proxy db: abort 503 25%` or `demo api: error_ratio 20%`.
    pub fault: String,
    pub phase: String,
    /// The window, seconds from the run's start.
    pub fault_start_s: f64,
    pub fault_end_s: f64,
    pub alert: String,
    pub pending_s: Option<f64>,
    pub fired_s: Option<f64>,
    pub notified_s: Option<f64>,
    pub resolved_s: Option<f64>,
    pub resolved_notified_s: Option<f64>,
    /// The soonest the rule could fire, and how that was worked out.
    pub best_s: Option<f64>,
    pub best: Option<String>,
    /// slogate's webhook receiver ran: `paged` columns mean something.
    #[serde(default)]
    pub receiver: bool,
}

/// `+8.6s`, or `never`.
pub(crate) fn when(t: Option<f64>) -> String {
    t.map_or_else(|| "never".into(), |t| format!("{t:+.1}s"))
}

/// The report's columns: heading, then each row's cells.
pub(crate) const HEADINGS: [&str; 8] = [
    "fault",
    "alert",
    "pending",
    "fired",
    "paged",
    "resolved",
    "resolve paged",
    "at best",
];

impl DetectionRow {
    /// The cells under [`HEADINGS`]; times as [`when`] writes them
    /// (`resolved`, `resolve paged`: from the fault's end).
    pub(crate) fn cells(&self) -> [String; 8] {
        let fired = self.fired_s.is_some();
        let paged = |t: Option<f64>| if self.receiver { when(t) } else { "-".into() };
        [
            self.fault.clone(),
            self.alert.clone(),
            when(self.pending_s),
            when(self.fired_s),
            paged(self.notified_s),
            if fired {
                when(self.resolved_s)
            } else {
                "-".into()
            },
            if fired {
                paged(self.resolved_notified_s)
            } else {
                "-".into()
            },
            self.best_s
                .map_or_else(|| "-".into(), |t| format!("{t:+.1}s")),
        ]
    }
}

/// One line under the table: what the times count from.
pub(crate) const LEGEND: &str = "pending, fired, paged: from the fault's start; resolved, resolve paged: from its end; paged: at slogate's webhook receiver (`-`: none ran); at best: what the rule could do (windows, `for`), where it can be worked out";
