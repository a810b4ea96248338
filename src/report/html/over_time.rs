//! The page's "Over time" section: the timeline's percentiles and rates
//! per second, drawn over the run.

use super::*;

/// A percentile of a timeline row, by name; drawn dashed or not.
pub(super) type Percentile = (&'static str, fn(&saved::Row) -> Option<f64>, bool);

/// One line per request name and percentile of the timeline's rows.
pub(super) fn percentile_lines(
    s: &saved::SavedSummary,
    percentiles: [Percentile; 3],
) -> Vec<Series> {
    let mut lines = Vec::new();
    for (index, name) in s.request_names.iter().enumerate() {
        for (label, pick, dashed) in percentiles {
            let points: Vec<(f64, f64)> = s
                .timeline
                .iter()
                .filter(|r| r.endpoint == index)
                .filter_map(|r| pick(r).map(|v| (r.second as f64 + 0.5, v)))
                .collect();
            lines.push(Series {
                label: if s.request_names.len() > 1 {
                    format!("{name} {label}")
                } else {
                    label.to_string()
                },
                points,
                dashed,
            });
        }
    }
    lines
}

pub(super) fn over_time_section(page: &mut String, s: &saved::SavedSummary, backdrop: &Backdrop) {
    page.push_str("<h2 id=\"over-time\">Over time</h2>\n");
    let mut per_second: BTreeMap<u64, (u64, u64, [u64; 5], Vec<u64>)> = BTreeMap::new();
    for row in &s.timeline {
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
    // A point at the middle of each second.
    let at = |second: u64| second as f64 + 0.5;
    let throughput = [
        Series {
            label: "responses + failures".into(),
            points: per_second
                .iter()
                .map(|(t, v)| (at(*t), v.0 as f64))
                .collect(),
            dashed: false,
        },
        Series {
            label: "ok".into(),
            points: per_second
                .iter()
                .map(|(t, v)| (at(*t), v.1 as f64))
                .collect(),
            dashed: true,
        },
        Series {
            label: "failed".into(),
            points: per_second
                .iter()
                .map(|(t, v)| (at(*t), v.0.saturating_sub(v.1) as f64))
                .collect(),
            dashed: false,
        },
    ];
    figure(
        page,
        "throughput",
        "Throughput",
        &charts::over_time("requests per second", &throughput, backdrop),
        "Requests ended per second (all request names); shaded bands are the phases, the strip at the bottom the fault windows.",
    );
    let latency = percentile_lines(
        s,
        [
            ("p50", |r| r.p50_ms, true),
            ("p95", |r| r.p95_ms, false),
            ("p99", |r| r.p99_ms, false),
        ],
    );
    figure(
        page,
        "latency-over-time",
        "Latency percentiles",
        &charts::over_time("ms", &latency, backdrop),
        "Per second and request name, from the intended send time (corrected for coordinated omission).",
    );
    let service: Vec<Series> = percentile_lines(
        s,
        [
            ("p50", |r| r.service_p50_ms, true),
            ("p95", |r| r.service_p95_ms, false),
            ("p99", |r| r.service_p99_ms, false),
        ],
    );
    figure(
        page,
        "service-time-over-time",
        "Service time percentiles",
        &charts::over_time("ms", &service, backdrop),
        "Per second and request name, from the actual send: what the server took. Where latency is above it, requests waited to be sent (the load generator or its connections were the queue).",
    );
    let mut errors = Vec::new();

    for (class, label) in [(3, "4xx"), (4, "5xx")] {
        errors.push(Series {
            label: label.into(),
            points: per_second
                .iter()
                .map(|(t, v)| (at(*t), v.2[class] as f64))
                .collect(),
            dashed: false,
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
                dashed: true,
            });
        }
    }
    figure(
        page,
        "errors-over-time",
        "Errors by kind",
        &charts::over_time("per second", &errors, backdrop),
        "Error statuses by class and failures without a response by kind, per second.",
    );
}
