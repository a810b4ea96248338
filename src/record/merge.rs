//! Several runs of one scenario (the shards of `--shard i/N`) as if one run
//! had sent all their load: histograms and counts added, phases matched by
//! position (and their steps by position within the phase), the
//! per-second timeline summed with seconds aligned at each run's own start.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::{
    OpenModelStats, Packed, PhaseResults, RunResults, Stats, StepResults, StepSchedule, TimelineRow,
};
use crate::units::Rate;

impl RunResults {
    /// `parts` as one run. The endpoints are the first part's (parts with
    /// other endpoints are for the caller to refuse); a phase is every part's
    /// phase at that position, named as the first part that ran it names it.
    /// The first abort reason and any interruption carry over.
    pub fn merge(parts: &[RunResults]) -> RunResults {
        let endpoints = parts.first().map_or(0, |p| p.endpoint_names.len());
        let phase_count = parts.iter().map(|p| p.phases.len()).max().unwrap_or(0);
        let phases: Vec<PhaseResults> = (0..phase_count)
            .map(|index| {
                let ran: Vec<&PhaseResults> =
                    parts.iter().filter_map(|p| p.phases.get(index)).collect();
                merge_phase(&ran, endpoints)
            })
            .collect();
        let mut per_endpoint = vec![Stats::default(); endpoints];
        for phase in &phases {
            for (sum, packed) in per_endpoint.iter_mut().zip(&phase.per_endpoint) {
                sum.merge(&packed.unpack());
            }
        }
        let mut total = Stats::default();
        for part in parts {
            total.merge(&part.total);
        }
        total.late_starts = phases.iter().map(|p| p.total.late_starts).sum();
        // Shards of one scenario have the same flows and checks, in order.
        let mut flows = parts.first().map(|p| p.flows.clone()).unwrap_or_default();
        let mut checks = parts.first().map(|p| p.checks.clone()).unwrap_or_default();
        for part in parts.iter().skip(1) {
            for (sum, flow) in flows.iter_mut().zip(&part.flows) {
                sum.totals.merge(&flow.totals);
            }
            for (sum, check) in checks.iter_mut().zip(&part.checks) {
                sum.passed += check.passed;
                sum.failed += check.failed;
            }
        }
        RunResults {
            endpoint_names: parts
                .first()
                .map(|p| p.endpoint_names.clone())
                .unwrap_or_default(),
            endpoint_origins: parts
                .first()
                .map(|p| p.endpoint_origins.clone())
                .unwrap_or_default(),
            per_endpoint,
            total,
            timeline: merge_timelines(parts.iter().map(|p| p.timeline.as_slice())),
            started_at: parts
                .iter()
                .map(|p| p.started_at)
                .min()
                .unwrap_or(SystemTime::UNIX_EPOCH),
            elapsed: parts
                .iter()
                .map(|p| p.elapsed)
                .max()
                .unwrap_or(Duration::ZERO),
            connections: phases.iter().map(|p| p.connections).max().unwrap_or(0),
            open: phases.first().and_then(|p| p.open.clone()),
            interrupted: parts.iter().any(|p| p.interrupted),
            aborted: parts.iter().find_map(|p| p.aborted.clone()),
            phases,
            flows,
            checks,
        }
    }
}

/// One phase as every part that ran it measured it together: it began
/// with the earliest, lasted as long as the longest, and its open-model
/// schedules add up.
fn merge_phase(ran: &[&PhaseResults], endpoints: usize) -> PhaseResults {
    let mut total = Stats::default();
    let mut per_endpoint = vec![Stats::default(); endpoints];
    let mut schedule: Option<Schedule> = None;
    for phase in ran {
        total.merge(&phase.total.unpack());
        for (sum, packed) in per_endpoint.iter_mut().zip(&phase.per_endpoint) {
            sum.merge(&packed.unpack());
        }
        if let Some(open) = &phase.open {
            let sum = schedule.get_or_insert_with(Schedule::default);
            sum.target_rate += open.target_rate.as_per_second();
            sum.due += open.due;
            sum.started += open.started;
            sum.dropped += open.dropped;
        }
    }
    let first = ran[0];
    PhaseResults {
        name: first.name.clone(),
        per_endpoint: per_endpoint.iter().map(Packed::pack).collect(),
        total: Packed::pack(&total),
        start_offset: ran.iter().map(|p| p.start_offset).min().unwrap_or_default(),
        elapsed: ran.iter().map(|p| p.elapsed).max().unwrap_or_default(),
        scheduled: first.scheduled,
        cut_short: ran.iter().any(|p| p.cut_short),
        connections: ran.iter().map(|p| p.connections).sum(),
        think: first.think.clone(),
        open: schedule.and_then(|s| {
            Some(OpenModelStats {
                target_rate: Rate::per_second(s.target_rate).ok()?,
                due: s.due,
                started: s.started,
                dropped: s.dropped,
            })
        }),
        steps: merge_steps(ran),
    }
}

/// Each step as every part that ran it measured it together: histograms
/// and counts added, and the rates too (each shard sent its share of the
/// schedule). A step is the parts' step at that position; its times are
/// the schedule's, the first part's.
fn merge_steps(ran: &[&PhaseResults]) -> Vec<StepResults> {
    let count = ran.iter().map(|p| p.steps.len()).max().unwrap_or(0);
    (0..count)
        .filter_map(|index| {
            let steps: Vec<&StepResults> = ran.iter().filter_map(|p| p.steps.get(index)).collect();
            let first = steps.first()?;
            let mut total = Stats::default();
            for step in &steps {
                total.merge(&step.total.unpack());
            }
            let sum = |rate: fn(&StepResults) -> Rate| {
                let per_second = steps.iter().map(|s| rate(s).as_per_second()).sum();
                Rate::per_second(per_second).unwrap_or_else(|_| rate(first))
            };
            Some(StepResults {
                start: first.start,
                scheduled: first.scheduled,
                from: sum(|s| s.from),
                to: sum(|s| s.to),
                total: Packed::pack(&total),
                failed: steps.iter().map(|s| s.failed).sum(),
                schedule: merge_step_schedules(&steps),
            })
        })
        .collect()
}

/// The parts' schedules of one step added up (None unless every part
/// has one): the cap was reached in it when it was in every part.
fn merge_step_schedules(steps: &[&StepResults]) -> Option<StepSchedule> {
    steps
        .iter()
        .try_fold(None, |sum: Option<StepSchedule>, step| {
            let mine = step.schedule?;
            Some(Some(match sum {
                None => mine,
                Some(sum) => StepSchedule {
                    due: sum.due + mine.due,
                    dropped: sum.dropped + mine.dropped,
                    past_cap: sum.past_cap && mine.past_cap,
                },
            }))
        })?
}

/// Open-model schedules summed: the rate as a plain number until the sum
/// is made a [`Rate`] again.
#[derive(Default)]
struct Schedule {
    target_rate: f64,
    due: u64,
    started: u64,
    dropped: u64,
}

/// The rows summed by (second, endpoint). A second's percentiles are the
/// highest of the parts' (their histograms are not kept per second): an
/// upper bound of the merged second's, exact when one part sent it all.
fn merge_timelines<'a>(timelines: impl Iterator<Item = &'a [TimelineRow]>) -> Vec<TimelineRow> {
    let mut rows: BTreeMap<(u64, usize), TimelineRow> = BTreeMap::new();
    let max = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    for row in timelines.flatten() {
        let merged = rows
            .entry((row.second, row.endpoint))
            .or_insert_with(|| TimelineRow {
                second: row.second,
                endpoint: row.endpoint,
                requests: 0,
                ok: 0,
                status_classes: [0; 5],
                errors: [0; super::ErrorKind::COUNT],
                p50_ms: None,
                p95_ms: None,
                p99_ms: None,
                service_p50_ms: None,
                service_p95_ms: None,
                service_p99_ms: None,
                under: vec![0; row.under.len()],
                buckets: None,
            });
        merged.requests += row.requests;
        merged.ok += row.ok;
        for (sum, n) in merged.status_classes.iter_mut().zip(row.status_classes) {
            *sum += n;
        }
        for (sum, n) in merged.errors.iter_mut().zip(row.errors) {
            *sum += n;
        }
        merged.p50_ms = max(merged.p50_ms, row.p50_ms);
        merged.p95_ms = max(merged.p95_ms, row.p95_ms);
        merged.p99_ms = max(merged.p99_ms, row.p99_ms);
        merged.service_p50_ms = max(merged.service_p50_ms, row.service_p50_ms);
        merged.service_p95_ms = max(merged.service_p95_ms, row.service_p95_ms);
        merged.service_p99_ms = max(merged.service_p99_ms, row.service_p99_ms);
        if merged.under.len() < row.under.len() {
            merged.under.resize(row.under.len(), 0);
        }
        for (sum, n) in merged.under.iter_mut().zip(&row.under) {
            *sum += n;
        }
    }
    rows.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(second: u64, requests: u64, p99: Option<f64>) -> TimelineRow {
        TimelineRow {
            second,
            endpoint: 0,
            requests,
            ok: requests,
            status_classes: [0, requests, 0, 0, 0],
            errors: [0; super::super::ErrorKind::COUNT],
            p50_ms: None,
            p95_ms: None,
            p99_ms: p99,
            service_p50_ms: None,
            service_p95_ms: None,
            service_p99_ms: None,
            under: vec![requests],
            buckets: None,
        }
    }

    fn part(requests: u64, elapsed_s: u64, rows: Vec<TimelineRow>) -> RunResults {
        let stats = Stats {
            requests,
            ..Stats::default()
        };
        RunResults {
            endpoint_names: vec!["home".into()],
            endpoint_origins: vec!["http://127.0.0.1:80".into()],
            per_endpoint: vec![stats.clone()],
            total: stats.clone(),
            timeline: rows,
            started_at: SystemTime::UNIX_EPOCH + Duration::from_secs(elapsed_s),
            elapsed: Duration::from_secs(elapsed_s),
            connections: 2,
            open: None,
            interrupted: false,
            aborted: None,
            phases: vec![PhaseResults {
                name: "steady".into(),
                per_endpoint: vec![Packed::pack(&stats)],
                total: Packed::pack(&stats),
                start_offset: Duration::ZERO,
                elapsed: Duration::from_secs(elapsed_s),
                scheduled: Some(Duration::from_secs(10)),
                cut_short: false,
                connections: 2,
                think: None,
                open: Some(OpenModelStats {
                    target_rate: Rate::per_second(10.0).unwrap(),
                    due: requests,
                    started: requests,
                    dropped: 0,
                }),
                steps: Vec::new(),
            }],
            flows: Vec::new(),
            checks: Vec::new(),
        }
    }

    #[test]
    fn counts_add_and_seconds_align() {
        let merged = RunResults::merge(&[
            part(30, 10, vec![row(0, 10, Some(5.0)), row(1, 20, None)]),
            part(12, 11, vec![row(1, 12, Some(7.0))]),
        ]);
        assert_eq!(merged.total.requests, 42);
        assert_eq!(merged.per_endpoint[0].requests, 42);
        assert_eq!(merged.elapsed, Duration::from_secs(11));
        assert_eq!(
            merged.started_at,
            SystemTime::UNIX_EPOCH + Duration::from_secs(10)
        );
        assert_eq!(merged.connections, 4, "each phase's connections add up");
        let phase = &merged.phases[0];
        assert_eq!(phase.total.requests, 42);
        let open = phase.open.as_ref().unwrap();
        assert_eq!(open.target_rate.as_per_second(), 20.0);
        assert_eq!(open.due, 42);
        assert_eq!(merged.timeline.len(), 2);
        let second = &merged.timeline[1];
        assert_eq!((second.second, second.requests), (1, 32));
        assert_eq!(second.p99_ms, Some(7.0), "the highest of the parts'");
        assert_eq!(second.under, vec![32]);
    }

    /// A step whose requests took `latencies_ms`, one failed.
    fn step(start_s: u64, rate: f64, latencies_ms: &[u64]) -> StepResults {
        let mut stats = Stats::default();
        let due = std::time::Instant::now();
        for ms in latencies_ms {
            stats.record(&super::super::RequestSample {
                endpoint: 0,
                intended: due,
                started: due,
                ended: due + Duration::from_millis(*ms),
                outcome: super::super::Outcome::Response { status: 200 },
                bytes_received: 0,
            });
        }
        StepResults {
            start: Duration::from_secs(start_s),
            scheduled: Duration::from_secs(5),
            from: Rate::per_second(rate).unwrap(),
            to: Rate::per_second(rate).unwrap(),
            total: Packed::pack(&stats),
            failed: 1,
            schedule: Some(StepSchedule {
                due: latencies_ms.len() as u64 + 1,
                dropped: 1,
                past_cap: false,
            }),
        }
    }

    #[test]
    fn steps_merge_by_position_histograms_added() {
        let mut a = part(0, 10, Vec::new());
        let mut b = part(0, 10, Vec::new());
        a.phases[0].steps = vec![step(0, 5.0, &[1, 2]), step(5, 10.0, &[50, 60])];
        // The second shard's phase ended (cut short) in its first step.
        b.phases[0].steps = vec![step(0, 5.0, &[3, 4, 100])];
        let merged = RunResults::merge(&[a, b]);
        let steps = &merged.phases[0].steps;
        assert_eq!(steps.len(), 2);
        let first = steps[0].total.unpack();
        assert_eq!(first.requests, 5);
        assert_eq!(first.latency_us.len(), 5);
        // The median of 1, 2, 3, 4, 100 ms: from the added histograms, not
        // from either part's median (1.5 ms, 4 ms).
        assert_eq!(first.latency_us.value_at_quantile(0.5) / 1000, 3);
        assert_eq!(first.latency_us.max() / 1000, 100);
        assert_eq!(steps[0].failed, 2);
        assert_eq!(
            steps[0].from.as_per_second(),
            10.0,
            "each shard's share added"
        );
        assert_eq!(steps[0].start, Duration::ZERO);
        let schedule = steps[0].schedule.unwrap();
        assert_eq!((schedule.due, schedule.dropped), (3 + 4, 2));
        assert_eq!(steps[1].schedule.map(|s| s.due), Some(3));
        let second = steps[1].total.unpack();
        assert_eq!(second.requests, 2);
        assert_eq!(
            (steps[1].start, steps[1].to.as_per_second()),
            (Duration::from_secs(5), 10.0)
        );
    }
}
