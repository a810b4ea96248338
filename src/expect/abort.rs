//! Watches finished seconds of the timeline for abort conditions: a condition
//! that holds in every one of N consecutive seconds stops the run.

use super::{Abort, LatencyStat, Metric, StatusMatch};
use crate::record::TimelineRow;

/// Per-condition state: the run of consecutive seconds it has held.
pub(crate) struct AbortWatch {
    aborts: Vec<Abort>,
    /// For each condition, the first second of the current streak.
    streaks: Vec<Option<u64>>,
}

impl AbortWatch {
    pub(crate) fn new(aborts: Vec<Abort>) -> AbortWatch {
        let streaks = vec![None; aborts.len()];
        AbortWatch { aborts, streaks }
    }

    /// Takes newly finished rows (whole seconds, in order); returns why the
    /// run must stop, if a condition has now held long enough.
    pub(crate) fn observe(&mut self, rows: &[TimelineRow]) -> Option<String> {
        let mut at = 0;
        while at < rows.len() {
            let second = rows[at].second;
            let end = rows[at..]
                .iter()
                .position(|r| r.second != second)
                .map_or(rows.len(), |n| at + n);
            let sum = Second::of(&rows[at..end]);
            at = end;
            for (abort, streak) in self.aborts.iter().zip(self.streaks.iter_mut()) {
                let holds = sum
                    .value(abort.check.metric)
                    .is_some_and(|value| abort.check.op.holds(value, abort.check.threshold));
                if !holds {
                    *streak = None;
                    continue;
                }
                let first = *streak.get_or_insert(second);
                if second + 1 - first >= abort.sustained.as_secs() {
                    return Some(format!(
                        "abort condition `{}` held from second {first} to second {}",
                        abort.text,
                        second + 1
                    ));
                }
            }
        }
        None
    }
}

/// One second, all endpoints together.
struct Second {
    requests: u64,
    ok: u64,
    classes: [u64; 5],
    /// The slowest endpoint's p50, p95, p99 (ms).
    p50: Option<f64>,
    p95: Option<f64>,
    p99: Option<f64>,
}

impl Second {
    fn of(rows: &[TimelineRow]) -> Second {
        let max = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let mut sum = Second {
            requests: 0,
            ok: 0,
            classes: [0; 5],
            p50: None,
            p95: None,
            p99: None,
        };
        for row in rows {
            sum.requests += row.requests;
            sum.ok += row.ok;
            for (mine, theirs) in sum.classes.iter_mut().zip(row.status_classes) {
                *mine += theirs;
            }
            sum.p50 = max(sum.p50, row.p50_ms);
            sum.p95 = max(sum.p95, row.p95_ms);
            sum.p99 = max(sum.p99, row.p99_ms);
        }
        sum
    }

    /// The metric over this second; None without requests (a second with
    /// nothing finished neither proves nor disproves a condition).
    fn value(&self, metric: Metric) -> Option<f64> {
        let ratio = |count: u64| (self.requests > 0).then(|| count as f64 / self.requests as f64);
        match metric {
            Metric::ErrorRate => ratio(self.requests - self.ok),
            Metric::Availability => ratio(self.ok),
            Metric::StatusShare(StatusMatch::Class(class)) => {
                ratio(self.classes[usize::from(class) - 1])
            }
            Metric::Latency(LatencyStat::Quantile(0.5)) => self.p50,
            Metric::Latency(LatencyStat::Quantile(0.95)) => self.p95,
            Metric::Latency(LatencyStat::Quantile(0.99)) => self.p99,
            // Rejected when the condition was parsed.
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expect::parse_abort;

    fn row(second: u64, requests: u64, ok: u64) -> TimelineRow {
        TimelineRow {
            second,
            endpoint: 0,
            requests,
            ok,
            status_classes: [0, ok, 0, 0, requests - ok],
            errors: [0; crate::record::ErrorKind::COUNT],
            p50_ms: Some(1.0),
            p95_ms: Some(2.0),
            p99_ms: Some(3.0),
            service_p50_ms: Some(0.5),
            service_p95_ms: Some(1.0),
            service_p99_ms: Some(1.5),
            under: Vec::new(),
            buckets: None,
        }
    }

    #[test]
    fn a_condition_must_hold_in_consecutive_seconds() {
        let mut watch = AbortWatch::new(vec![parse_abort("error_rate > 50% for 3s").unwrap()]);
        assert_eq!(watch.observe(&[row(0, 10, 2), row(1, 10, 2)]), None);
        assert_eq!(
            watch.observe(&[row(2, 10, 9)]),
            None,
            "the streak broke at second 2"
        );
        assert_eq!(watch.observe(&[row(3, 10, 1), row(4, 10, 1)]), None);
        let reason = watch.observe(&[row(5, 10, 0)]).unwrap();
        assert!(reason.contains("from second 3 to second 6"), "{reason}");
    }
}
