//! The page's "Latency distribution" section: each request's percentile
//! plot.

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

pub(super) fn distribution_section(page: &mut String, s: &saved::SavedSummary) {
    page.push_str("<h2 id=\"distribution\">Latency distribution</h2>\n");
    let mut by_phase = Vec::new();
    for phase in &s.phases {
        for (histogram, label, dashed) in [
            (&phase.measured.latency_histogram, "latency", false),
            (&phase.measured.service_time_histogram, "service time", true),
        ] {
            if let Some(h) = decode(histogram) {
                by_phase.push(Series {
                    label: format!("{} {label}", phase.name),
                    points: percentile_points(&h),
                    dashed,
                });
            }
        }
    }
    figure(
        page,
        "distribution-phases",
        "By phase",
        &charts::percentiles(&by_phase),
        "Latency (from the intended send time) and service time (from the actual send) at each percentile, HdrHistogram style.",
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
        let series: Vec<Series> = by_name
            .iter()
            .flat_map(|(name, (latency, service))| {
                [
                    Series {
                        label: format!("{name} latency"),
                        points: percentile_points(latency),
                        dashed: false,
                    },
                    Series {
                        label: format!("{name} service time"),
                        points: percentile_points(service),
                        dashed: true,
                    },
                ]
            })
            .collect();
        figure(
            page,
            "distribution-requests",
            "By request name",
            &charts::percentiles(&series),
            "All phases together.",
        );
    }
}
