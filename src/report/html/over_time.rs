//! The page's "Over time" section: the timeline's rates and percentiles
//! per second, drawn over the run. Rates: one chart (with the target rate
//! of the open-model phases); percentiles: a small chart per request name,
//! on one y scale.
//!
//! A second the run ended inside (the last, usually a fraction of one) is
//! left out of the rate charts: its count would read as a collapse of the
//! throughput. Its percentiles are drawn: they do not depend on how long
//! the second was.

use super::*;

/// A percentile of a timeline row, by name.
pub(super) type Percentile = (&'static str, fn(&saved::Row) -> Option<f64>);

/// One line per percentile of one request name's rows.
pub(super) fn percentile_lines(
    s: &saved::SavedSummary,
    endpoint: usize,
    percentiles: [Percentile; 3],
    line: Line,
) -> Vec<Series> {
    percentiles
        .into_iter()
        .map(|(label, pick)| Series {
            label: label.to_string(),
            points: s
                .timeline
                .iter()
                .filter(|r| r.endpoint == endpoint)
                .filter_map(|r| pick(r).map(|v| (r.second as f64 + 0.5, v)))
                .collect(),
            line,
        })
        .collect()
}

/// The seconds the run covered in full: before `duration_s` ends.
pub(super) fn whole(second: u64, duration_s: f64) -> bool {
    (second + 1) as f64 <= duration_s + 1e-3
}

/// The target rate of each open-model phase, as steps (broken between
/// phases without one): a `steps:` phase's each step at its own rate,
/// another phase flat at its mean (`summary.json` holds no more of a ramp).
pub(super) fn target_rate(s: &saved::SavedSummary) -> Option<Series> {
    let mut points = Vec::new();
    let last = s.duration_s.max(1.0);
    for phase in &s.phases {
        let end = (phase.start_s + phase.duration_s).min(last);
        match &phase.schedule {
            Some(_) if !phase.steps.is_empty() => {
                for step in &phase.steps {
                    let step_end = (step.start_s + step.scheduled_s).min(end);
                    points.extend([
                        (step.start_s, step.target_rate),
                        (step_end, step.target_rate_end),
                    ]);
                }
            }
            Some(schedule) if schedule.target_rate > 0.0 => {
                points.extend([
                    (phase.start_s, schedule.target_rate),
                    (end, schedule.target_rate),
                ]);
            }
            _ => points.push((phase.start_s, f64::NAN)),
        }
    }
    points.iter().any(|p| p.1.is_finite()).then(|| Series {
        label: "target rate".into(),
        points,
        line: Line::Reference,
    })
}

/// Small multiples of `lines` per request name, in one figure.
fn multiples(
    page: &mut String,
    id: &str,
    title: &str,
    charts: &[(String, Vec<Series>)],
    backdrop: &Backdrop,
    caption: &str,
) {
    let all: Vec<&Series> = charts.iter().flat_map(|(_, l)| l).collect();
    let top = all
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .filter(|y| y.is_finite())
        .fold(0.0f64, f64::max);
    let y_max = (top * 1.1).max(1.0);
    // One request name: one chart, the page's width.
    let (size, class) = match charts.len() {
        1 => (Size::Wide, "single"),
        _ => (Size::Small, "multiples"),
    };
    let mut body = format!("<div class=\"{class}\">");
    for (name, lines) in charts {
        let _ = write!(
            body,
            "<div class=\"multiple\"><h4>{}</h4>{}</div>",
            escape(name),
            charts::over_time("ms", lines, backdrop, size, Some(y_max))
        );
    }
    body.push_str("</div>");
    figure(page, id, title, &body, caption);
}

pub(super) fn over_time_section(page: &mut String, s: &saved::SavedSummary, backdrop: &Backdrop) {
    page.push_str("<h2 id=\"over-time\">Over time</h2>\n");
    let mut per_second: BTreeMap<u64, (u64, u64, [u64; 5], Vec<u64>)> = BTreeMap::new();
    for row in s.timeline.iter().filter(|r| whole(r.second, s.duration_s)) {
        let entry = per_second
            .entry(row.second)
            .or_insert_with(|| (0, 0, [0; 5], vec![0; row.errors.len()]));
        entry.0 += row.requests;
        entry.1 += row.ok;
        for (total, n) in entry.2.iter_mut().zip(row.status_classes) {
            *total += n;
        }
        if entry.3.len() < row.errors.len() {
            entry.3.resize(row.errors.len(), 0);
        }
        for (total, n) in entry.3.iter_mut().zip(&row.errors) {
            *total += n;
        }
    }
    let partial = s
        .timeline
        .iter()
        .map(|r| r.second)
        .filter(|second| !whole(*second, s.duration_s))
        .min();
    let left_out = match partial {
        Some(second) => format!(
            " The last second ({second}–{:.1} s, cut short by the run's end) is left out: its count would read as a drop.",
            s.duration_s
        ),
        None => String::new(),
    };
    // A point at the middle of each second.
    let at = |second: u64| second as f64 + 0.5;
    let mut throughput = vec![
        Series {
            label: "responses + failures".into(),
            points: per_second
                .iter()
                .map(|(t, v)| (at(*t), v.0 as f64))
                .collect(),
            line: Line::Solid,
        },
        Series {
            label: "ok".into(),
            points: per_second
                .iter()
                .map(|(t, v)| (at(*t), v.1 as f64))
                .collect(),
            line: Line::Dashed,
        },
        Series {
            label: "failed".into(),
            points: per_second
                .iter()
                .map(|(t, v)| (at(*t), v.0.saturating_sub(v.1) as f64))
                .collect(),
            line: Line::Solid,
        },
    ];
    let target = target_rate(s);
    let target_note = if target.is_some() {
        " The dashed line in the text's color is each open-model phase's target rate, step by step for a phase of steps (summary.json holds a ramp's mean only: its line is flat at its mean)."
    } else {
        ""
    };
    throughput.extend(target);
    figure(
        page,
        "throughput",
        "Throughput",
        &charts::over_time(
            "requests per second",
            &throughput,
            backdrop,
            Size::Wide,
            None,
        ),
        &format!(
            "Requests ended per second (all request names); shaded bands are the phases, the strip at the bottom the fault windows.{target_note}{left_out}"
        ),
    );
    let name = |index: usize| s.request_names.get(index).cloned().unwrap_or_default();
    let latency: Vec<(String, Vec<Series>)> = (0..s.request_names.len())
        .map(|index| {
            let lines = percentile_lines(
                s,
                index,
                [
                    ("p50", |r| r.p50_ms),
                    ("p95", |r| r.p95_ms),
                    ("p99", |r| r.p99_ms),
                ],
                Line::Solid,
            );
            (name(index), lines)
        })
        .collect();
    multiples(
        page,
        "latency-over-time",
        "Latency percentiles",
        &latency,
        backdrop,
        "Per second, one chart per request name on one scale, from the intended send time (corrected for coordinated omission).",
    );
    let service: Vec<(String, Vec<Series>)> = (0..s.request_names.len())
        .map(|index| {
            let lines = percentile_lines(
                s,
                index,
                [
                    ("p50", |r| r.service_p50_ms),
                    ("p95", |r| r.service_p95_ms),
                    ("p99", |r| r.service_p99_ms),
                ],
                Line::Dashed,
            );
            (name(index), lines)
        })
        .collect();
    multiples(
        page,
        "service-time-over-time",
        "Service time percentiles",
        &service,
        backdrop,
        "Per second and request name (dashed: service time), from the actual send: what the server took. Where latency is above it, requests waited to be sent (the load generator or its connections were the queue).",
    );
    let mut errors = Vec::new();
    for (class, label) in [(3, "4xx"), (4, "5xx")] {
        errors.push(Series {
            label: label.into(),
            points: per_second
                .iter()
                .map(|(t, v)| (at(*t), v.2[class] as f64))
                .collect(),
            line: Line::Solid,
        });
    }
    for (index, kind) in crate::record::ErrorKind::ALL.iter().enumerate() {
        if per_second
            .values()
            .any(|v| v.3.get(index).copied().unwrap_or(0) > 0)
        {
            errors.push(Series {
                label: kind.name().to_string(),
                points: per_second
                    .iter()
                    .map(|(t, v)| (at(*t), v.3.get(index).copied().unwrap_or(0) as f64))
                    .collect(),
                line: Line::Dashed,
            });
        }
    }
    figure(
        page,
        "errors-over-time",
        "Errors by kind",
        &charts::over_time("per second", &errors, backdrop, Size::Wide, None),
        &format!(
            "Error statuses by class and failures without a response by kind, per second.{left_out}"
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steps_phase_s_target_rate_is_drawn_step_by_step() {
        let measured = serde_json::json!({"requests": 0, "failed": 0});
        let step = |start_s: f64, rate: f64| {
            let mut step = serde_json::json!({"start_s": start_s, "scheduled_s": 5.0,
                "target_rate": rate, "target_rate_end": rate, "requests_per_second": rate});
            step.as_object_mut()
                .unwrap()
                .extend(measured.as_object().unwrap().clone());
            step
        };
        let mut phase = serde_json::json!({"name": "p", "start_s": 1.0, "duration_s": 10.2,
            "requests_per_second": 0.0, "schedule": {"target_rate": 30.0, "due": 0,
            "started": 0, "late_starts": 0, "dropped": 0},
            "steps": [step(1.0, 20.0), step(6.0, 40.0)]});
        phase
            .as_object_mut()
            .unwrap()
            .extend(measured.as_object().unwrap().clone());
        let summary: saved::SavedSummary = serde_json::from_value(serde_json::json!({
            "slogate_version": "0", "scenario": "s", "file": "f", "started_at_unix_ms": 0,
            "duration_s": 11.2, "ending": "passed", "phases": [phase], "run": measured,
            "checks": [], "timeline": [], "request_names": []}))
        .unwrap();
        let series = target_rate(&summary).unwrap();
        assert_eq!(
            series.points,
            vec![(1.0, 20.0), (6.0, 20.0), (6.0, 40.0), (11.0, 40.0)]
        );
    }

    #[test]
    fn only_seconds_the_run_covered_in_full_count() {
        assert!(whole(0, 24.0));
        assert!(whole(23, 24.0));
        assert!(!whole(24, 24.0));
        assert!(!whole(23, 23.6));
        assert!(whole(22, 23.6));
    }
}
