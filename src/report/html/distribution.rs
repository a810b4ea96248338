//! The page's "Latency distribution" section: each request's percentile
//! plot.

use std::fmt::Write as _;

use super::*;

/// Points of the percentile plot of a µs histogram, in ms.
pub(super) fn percentile_points(histogram: &Histogram<u64>) -> Vec<(f64, f64)> {
    if histogram.is_empty() {
        return Vec::new();
    }
    // Up to the percentile the count still resolves (1 − 1/count).
    let last = charts::percentile_x(1.0 - 1.0 / histogram.len() as f64).min(6.0);
    let steps = 120;
    (0..=steps)
        .map(|i| {
            let x = last * i as f64 / steps as f64;
            let q = 1.0 - 10f64.powf(-x);
            (x, histogram.value_at_quantile(q) as f64 / 1000.0)
        })
        .collect()
}

/// A latency line (solid) and a service time line (dashed) per chart.
fn pair(latency: &Histogram<u64>, service: Option<&Histogram<u64>>) -> Vec<Series> {
    let mut lines = vec![Series {
        label: "latency".into(),
        points: percentile_points(latency),
        line: Line::Solid,
    }];
    if let Some(service) = service {
        lines.push(Series {
            label: "service time".into(),
            points: percentile_points(service),
            line: Line::Dashed,
        });
    }
    lines
}

/// A small percentile plot per name, on one y scale.
fn multiples(
    page: &mut String,
    id: &str,
    title: &str,
    charts: &[(String, Vec<Series>)],
    caption: &str,
) {
    let all: Vec<Series> = charts
        .iter()
        .flat_map(|(_, lines)| lines)
        .map(|s| Series {
            label: String::new(),
            points: s.points.clone(),
            line: s.line,
        })
        .collect();
    let y_range = charts::percentile_y_range(&all);
    let mut body = String::from("<div class=\"multiples\">");
    for (name, lines) in charts {
        let _ = write!(
            body,
            "<div class=\"multiple\"><h4>{}</h4>{}</div>",
            escape(name),
            charts::percentiles(lines, Size::Small, Some(y_range))
        );
    }
    body.push_str("</div>");
    figure(page, id, title, &body, caption);
}

pub(super) fn distribution_section(page: &mut String, s: &saved::SavedSummary) {
    page.push_str("<h2 id=\"distribution\">Latency distribution</h2>\n");
    let by_phase: Vec<(String, Vec<Series>)> = s
        .phases
        .iter()
        .filter_map(|phase| {
            let latency = decode(&phase.measured.latency_histogram)?;
            let service = decode(&phase.measured.service_time_histogram);
            Some((phase.name.clone(), pair(&latency, service.as_ref())))
        })
        .collect();
    multiples(
        page,
        "distribution-phases",
        "By phase",
        &by_phase,
        "Latency (solid, from the intended send time) and service time (dashed, from the actual send) at each percentile, HdrHistogram style; one chart per phase on one scale.",
    );
    // Per request name: the phases' histograms added up.
    let mut by_name: BTreeMap<&str, (Histogram<u64>, Histogram<u64>)> = BTreeMap::new();
    for phase in &s.phases {
        for request in &phase.per_request {
            let (Some(latency), Some(service)) = (
                decode(&request.measured.latency_histogram),
                decode(&request.measured.service_time_histogram),
            ) else {
                continue;
            };
            match by_name.get_mut(request.name.as_str()) {
                Some((l, s)) => {
                    let _ = l.add(&latency);
                    let _ = s.add(&service);
                }
                None => {
                    by_name.insert(request.name.as_str(), (latency, service));
                }
            }
        }
    }
    if by_name.len() > 1 {
        let charts: Vec<(String, Vec<Series>)> = by_name
            .iter()
            .map(|(name, (latency, service))| (name.to_string(), pair(latency, Some(service))))
            .collect();
        multiples(
            page,
            "distribution-requests",
            "By request name",
            &charts,
            "All phases together; latency solid, service time dashed.",
        );
    }
}
