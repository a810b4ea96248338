//! Where a ramp or steps phase's latency crossed its expectation: the first
//! second whose latency quantile went over the phase's bound, and the load
//! the service was taking then (`p99 crossed 100 ms at +37s, ≈ 420/s`), or
//! the load it held the bound up to. The terminal and `summary.md` say it
//! under the phase.

use crate::expect::{LatencyStat, Metric, Op};
use crate::record::TimelineRow;
use crate::scenario::{Load, Phase};

/// One line per latency bound of `phase` (`latency p50/p95/p99 < X`, over
/// all its requests), when its rate changes; `start_s`..`end_s` is when it
/// ran. The per-second quantile is the slowest request's (the timeline
/// keeps one per request, and the line says so when there are several),
/// the load the requests that ended in that second. A second the phase
/// started in part way is the previous phase's too, so it is left out; the
/// last, partial second is judged (a ramp peaks there) but its load is not
/// quoted, as it would read as a drop.
pub(crate) fn lines(
    phase: &Phase,
    start_s: f64,
    end_s: f64,
    timeline: &[TimelineRow],
) -> Vec<String> {
    let Load::Open { arrivals, .. } = &phase.load else {
        return Vec::new();
    };
    if !arrivals.varies() {
        return Vec::new();
    }
    let mut seconds: Vec<(u64, u64, [Option<f64>; 3])> = Vec::new();
    let mut endpoints = std::collections::BTreeSet::new();
    for row in timeline
        .iter()
        .filter(|r| r.second as f64 >= start_s.ceil() && (r.second as f64) < end_s)
    {
        endpoints.insert(row.endpoint);
        if seconds.last().is_none_or(|(s, ..)| *s != row.second) {
            seconds.push((row.second, 0, [None; 3]));
        }
        let (_, requests, worst) = seconds.last_mut().expect("pushed above");
        *requests += row.requests;
        for (w, p) in worst.iter_mut().zip([row.p50_ms, row.p95_ms, row.p99_ms]) {
            *w = match (*w, p) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
    }
    let whole = |second: u64| (second as f64) + 1.0 <= end_s;
    let whose = if endpoints.len() > 1 {
        "slowest request's "
    } else {
        ""
    };
    let mut out = Vec::new();
    for e in phase.expectations.iter().filter(|e| e.request.is_none()) {
        let Metric::Latency(LatencyStat::Quantile(q)) = e.check.metric else {
            continue;
        };
        if !matches!(e.check.op, Op::Lt | Op::Le) {
            continue;
        }
        let Some(column) = [0.5, 0.95, 0.99].iter().position(|c| (c - q).abs() < 1e-9) else {
            continue;
        };
        let name = ["p50", "p95", "p99"][column];
        let bound = crate::units::format_significant(e.check.threshold);
        let crossed = seconds
            .iter()
            .find(|(_, _, worst)| worst[column].is_some_and(|ms| ms > e.check.threshold));
        out.push(match crossed {
            Some((second, requests, worst)) => {
                let load = if whole(*second) {
                    format!(", at ≈ {requests}/s")
                } else {
                    String::new()
                };
                format!(
                    "{name} crossed {bound} ms at +{second}s{load} ({whose}{name} {} ms)",
                    crate::units::format_significant(worst[column].unwrap_or_default())
                )
            }
            None => match seconds
                .iter()
                .filter(|(s, ..)| whole(*s))
                .map(|(_, r, _)| *r)
                .max()
            {
                Some(most) => format!("{name} stayed under {bound} ms up to ≈ {most}/s"),
                None => continue,
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Arrivals, Segment};
    use crate::units::Rate;
    use std::time::Duration;

    fn phase(expect: &str) -> Phase {
        let rate = |r: f64| Rate::per_second(r).unwrap();
        Phase {
            load: Load::Open {
                arrivals: Arrivals::new(vec![Segment::ramp(
                    rate(100.0),
                    rate(500.0),
                    Duration::from_secs(4),
                )]),
                connections: 10,
            },
            mix: None,
            expectations: vec![crate::expect::Expectation {
                check: crate::expect::parse_check(expect).unwrap(),
                request: None,
                flow: None,
                optional: false,
                source: "test".into(),
            }],
            name: "ramp".into(),
            duration: Some(Duration::from_secs(4)),
            requests: None,
            promql: Vec::new(),
            alerts: Vec::new(),
            faults: Vec::new(),
            proxy_faults: Vec::new(),
        }
    }

    fn row(second: u64, endpoint: usize, requests: u64, p99: f64) -> TimelineRow {
        TimelineRow {
            second,
            endpoint,
            requests,
            ok: requests,
            status_classes: [0, requests, 0, 0, 0],
            errors: [0; crate::record::ErrorKind::COUNT],
            p50_ms: Some(p99 / 2.0),
            p95_ms: Some(p99),
            p99_ms: Some(p99),
            service_p50_ms: None,
            service_p95_ms: None,
            service_p99_ms: None,
            under: Vec::new(),
            buckets: None,
        }
    }

    #[test]
    fn the_first_second_over_the_bound_and_its_load_are_named() {
        let timeline = [
            row(10, 0, 150, 20.0),
            row(11, 0, 250, 40.0),
            row(11, 1, 30, 90.0),
            row(12, 0, 330, 120.0),
            row(13, 0, 420, 300.0),
            // After the phase: not read.
            row(14, 0, 999, 900.0),
        ];
        let lines = lines(&phase("latency p99 < 100ms"), 10.0, 14.0, &timeline);
        // Two requests in second 11: the slowest's quantile, said so.
        assert_eq!(
            lines,
            ["p99 crossed 100 ms at +12s, at ≈ 330/s (slowest request's p99 120 ms)"]
        );
        let lines = lines_for("latency p99 < 500ms", &timeline);
        assert_eq!(lines, ["p99 stayed under 500 ms up to ≈ 420/s"]);
    }

    fn lines_for(expect: &str, timeline: &[TimelineRow]) -> Vec<String> {
        lines(&phase(expect), 10.0, 14.0, timeline)
    }

    #[test]
    fn a_part_second_at_the_start_is_left_out_and_one_at_the_end_judged() {
        let timeline = [
            // The previous phase's slow second, shared with this one's start.
            row(9, 0, 20, 900.0),
            row(10, 0, 150, 20.0),
            row(11, 0, 250, 40.0),
            // The last 0.4 s: slow, and not a drop in load.
            row(12, 0, 100, 300.0),
        ];
        let lines = lines(&phase("latency p99 < 100ms"), 9.6, 12.4, &timeline);
        assert_eq!(lines, ["p99 crossed 100 ms at +12s (p99 300 ms)"]);
        let lines_under = super::lines(&phase("latency p99 < 500ms"), 9.6, 12.4, &timeline);
        assert_eq!(lines_under, ["p99 stayed under 500 ms up to ≈ 250/s"]);
    }

    #[test]
    fn a_constant_rate_or_another_metric_says_nothing() {
        let timeline = [row(0, 0, 100, 500.0)];
        let mut constant = phase("latency p99 < 100ms");
        constant.load = Load::Open {
            arrivals: Arrivals::constant(Rate::per_second(100.0).unwrap(), Duration::from_secs(1)),
            connections: 1,
        };
        assert!(lines(&constant, 0.0, 1.0, &timeline).is_empty());
        assert!(lines(&phase("error_rate < 1%"), 0.0, 1.0, &timeline).is_empty());
    }
}
