//! `index.html`: the page a team looks at after a drill or a CI gate.
//! Self-contained (inline SVG charts, inline CSS, no script, no request
//! leaves the page), readable on a laptop and printable. It is rendered
//! from the files of the results directory only, so `slogate report DIR`
//! can render it again, with a newer slogate, from the same data.
//!
//! Every string that came from outside slogate (names, URLs, label values,
//! check text) goes through [`escape`].

mod charts;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use hdrhistogram::Histogram;

use crate::report::run::histogram::decode;
use crate::report::run::saved::{self, Saved};
use crate::report::series::CheckSeries;
use charts::{AlertRow, Backdrop, Series};

/// Escapes text for HTML content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Renders `DIR/index.html` from the files in `dir`.
pub fn write(dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    let saved = Saved::read(dir)?;
    let page = render(&saved);
    let path = dir.join("index.html");
    std::fs::write(&path, crate::redact::text(&page))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

const STYLE: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1000px; padding: 1rem 1.2rem 3rem; color: #1b1b1b; line-height: 1.4; }
h1 { font-size: 1.5rem; margin: 0.2rem 0; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccc; padding-bottom: 0.2rem; } h3 { font-size: 1rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.85rem; margin: 0.5rem 0; }
th, td { border: 1px solid #d0d0d0; padding: 0.25rem 0.45rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { display: inline-block; font-weight: 700; padding: 0.15rem 0.6rem; border: 2px solid; border-radius: 3px; }
.PASS { color: #005a8c; } .FAIL { color: #a33a00; font-weight: 700; } .WARN { color: #7a5d00; } .NODATA { color: #555; }
.verdict.passed { color: #005a8c; } .verdict.failed, .verdict.aborted, .verdict.interrupted { color: #a33a00; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 0.8rem; }
pre { background: #f6f6f6; padding: 0.6rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
figure { margin: 0.8rem 0; } figure svg { width: 100%; height: auto; display: block; } figcaption { font-size: 0.8rem; color: #444; }
.meta { color: #444; font-size: 0.9rem; } .note { color: #555; font-size: 0.85rem; }
@media print { body { max-width: none; } figure, table { break-inside: avoid; } a { color: inherit; text-decoration: none; } }
"#;

/// Symbols beside the outcome words, so pass and fail do not rest on color.
fn outcome_mark(outcome: &str) -> &'static str {
    match outcome {
        "PASS" => "✔ PASS",
        "FAIL" => "✘ FAIL",
        "WARN" => "! WARN",
        _ => "? NO DATA",
    }
}

/// Which chart shows a check's metric.
fn chart_of(check: &str) -> &'static str {
    let first = check.split_whitespace().next().unwrap_or("");
    match first {
        "latency" => "latency-over-time",
        "error_rate" | "availability" | "status" | "errors" => "errors-over-time",
        "throughput" | "requests" => "throughput",
        "alert" | "no" => "alerts",
        "slo" => "slos",
        _ if check.starts_with("promql") => "server",
        _ => "checks",
    }
}

/// Points of the percentile plot of a µs histogram, in ms.
fn percentile_points(histogram: &Histogram<u64>) -> Vec<(f64, f64)> {
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

/// Renders the whole page.
pub fn render(saved: &Saved) -> String {
    let s = &saved.summary;
    let mut page = String::new();
    let started = std::time::UNIX_EPOCH + std::time::Duration::from_millis(s.started_at_unix_ms);
    let failing: Vec<&saved::Check> = s.checks.iter().filter(|c| c.outcome == "FAIL").collect();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
         <title>slogate: {} — {}</title><style>{STYLE}</style></head><body>\n",
        escape(&s.scenario),
        escape(&s.ending)
    );
    let _ = writeln!(
        page,
        "<header><h1>{}</h1><p class=\"meta\"><code>{}</code>{} · {} → {} UTC ({:.1} s) · {} requests, {} failed</p>{}\
         <p><span class=\"verdict {}\">{}</span> {}</p></header>",
        escape(&s.scenario),
        escape(&s.file),
        match (s.shard, s.merged_from.len()) {
            (Some(shard), _) => format!(" · shard {shard}"),
            (None, 0) => String::new(),
            (None, n) => format!(
                " · {n} shards merged (over-time percentiles: the highest shard's per second)"
            ),
        },
        crate::units::format_utc(started),
        crate::units::format_utc(
            started + std::time::Duration::from_secs_f64(s.duration_s.max(0.0))
        ),
        s.duration_s,
        s.run.requests,
        s.run.failed,
        if s.targets.is_empty() {
            String::new()
        } else {
            format!(
                "<p class=\"meta\">targets: {}</p>",
                s.targets
                    .iter()
                    .map(|(name, url)| {
                        format!(
                            "{} <code>{}</code>",
                            escape(name),
                            escape(&crate::redact::url(url))
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" · ")
            )
        },
        escape(&s.ending),
        escape(&s.ending.to_uppercase()),
        match (s.ending.as_str(), &s.abort_reason) {
            ("aborted", Some(reason)) => escape(reason),
            _ => format!("{} of {} checks failed", failing.len(), s.checks.len()),
        }
    );
    losses_section(&mut page, s);
    checks_section(&mut page, s, &saved.promql);
    let backdrop = Backdrop {
        phases: &s.phases,
        faults: &s.fault_windows,
        duration_s: s.duration_s,
    };
    over_time_section(&mut page, s, &backdrop);
    distribution_section(&mut page, s);
    server_section(&mut page, &saved.promql, &backdrop);
    if let Some(alerts) = &saved.alerts {
        alerts_section(&mut page, alerts, s, &backdrop);
    }
    if let Some(slos) = &saved.slos {
        slos_section(&mut page, slos);
    }
    tables_section(&mut page, s);
    let _ = write!(
        page,
        "<h2 id=\"reproduce\">Reproduce</h2><pre>{}</pre>\
         <p class=\"note\">slogate {} · this page: <code>slogate report DIR</code> renders it again from the results directory.</p>\n</body></html>\n",
        escape(&crate::redact::text(&reproduce(s))),
        escape(&s.slogate_version)
    );
    page
}

/// The command that made these results, as typed (older results: as it
/// would be typed); for a merge, the shards' commands before it.
fn reproduce(s: &saved::Summary) -> String {
    let typed = (!s.command.is_empty()).then(|| shell_words(&s.command));
    if !s.merged_from.is_empty() {
        let count = s.merged_from.len();
        return format!(
            "# on each of {count} machines, shard i of {count}:\nslogate run {} --shard i/{count} --out DIR\n# then\n{}",
            shell_word(&s.file),
            typed.unwrap_or_else(|| format!(
                "slogate merge {} --out DIR",
                shell_words(&s.merged_from)
            ))
        );
    }
    typed.unwrap_or_else(|| match s.shard {
        Some(shard) => format!("slogate run {} --shard {shard}", shell_word(&s.file)),
        None => format!("slogate run {}", shell_word(&s.file)),
    })
}

/// `words` as a POSIX shell would read them back.
fn shell_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| shell_word(w))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:=,@%+".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

fn checks_section(page: &mut String, s: &saved::Summary, promql: &[CheckSeries]) {
    page.push_str("<h2 id=\"checks\">Checks</h2>\n");
    if s.checks.is_empty() {
        page.push_str("<p class=\"note\">No expectations.</p>\n");
        return;
    }
    page.push_str(
        "<table><thead><tr><th>verdict</th><th>check</th><th>where</th><th>measured</th><th>wanted</th><th>source</th></tr></thead><tbody>\n",
    );
    // Failing checks first, then the rest in the scenario's order.
    let mut ordered: Vec<&saved::Check> = s.checks.iter().filter(|c| c.outcome == "FAIL").collect();
    ordered.extend(s.checks.iter().filter(|c| c.outcome != "FAIL"));
    for c in ordered {
        let class = c.outcome.replace(' ', "");
        let check = if c.outcome == "FAIL" {
            let chart = match promql
                .iter()
                .position(|p| p.check == c.check && p.scope == c.scope)
            {
                Some(index) => format!("promql-{index}"),
                None => chart_of(&c.check).to_string(),
            };
            format!("<a href=\"#{chart}\"><code>{}</code></a>", escape(&c.check))
        } else {
            format!("<code>{}</code>", escape(&c.check))
        };
        let _ = writeln!(
            page,
            "<tr class=\"check\"><td class=\"{}\">{}{}</td><td>{check}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            escape(&class),
            outcome_mark(&c.outcome),
            if c.truncated {
                " <a href=\"#losses\">TRUNCATED</a>"
            } else {
                ""
            },
            escape(&c.scope),
            escape(&c.measured_text),
            escape(&c.wanted),
            escape(&c.source)
        );
    }
    page.push_str("</tbody></table>\n");
}

/// Scraped data that limits kept out, above the checks it marks.
fn losses_section(page: &mut String, s: &saved::Summary) {
    if s.scrape_losses.is_empty() {
        return;
    }
    page.push_str("<h2 id=\"losses\">Scraped data lost</h2><p class=\"fail\">Checks that read these times are marked TRUNCATED and cannot pass.</p><ul>\n");
    for loss in &s.scrape_losses {
        let _ = writeln!(
            page,
            "<li>{}</li>",
            escape(&crate::redact::text(&loss.text))
        );
    }
    page.push_str("</ul>\n");
}

fn figure(page: &mut String, id: &str, title: &str, svg: &str, caption: &str) {
    let _ = writeln!(
        page,
        "<figure id=\"{id}\" class=\"chart\"><h3>{}</h3>{svg}<figcaption>{}</figcaption></figure>",
        escape(title),
        escape(caption)
    );
}

/// Every PromQL check's series over the run, with its threshold.
fn server_section(page: &mut String, promql: &[CheckSeries], backdrop: &Backdrop) {
    if promql.is_empty() {
        return;
    }
    page.push_str("<h2 id=\"server\">Server side: PromQL checks</h2>\n");
    for (index, check) in promql.iter().enumerate() {
        let title = format!("{} ({})", check.check, check.scope);
        if let Some(error) = &check.error {
            let _ = writeln!(
                page,
                "<figure id=\"promql-{index}\" class=\"chart\"><h3>{}</h3><p class=\"note\">no series: {}</p></figure>",
                escape(&title),
                escape(error)
            );
            continue;
        }
        let series: Vec<Series> = check
            .series
            .iter()
            .map(|line| Series {
                label: if line.labels.is_empty() || line.labels == "{}" {
                    check.expr.chars().take(60).collect()
                } else {
                    line.labels.clone()
                },
                points: line.points.clone(),
                dashed: false,
            })
            .collect();
        let threshold = format!(
            "threshold {} {}",
            check.compare,
            crate::promql::format_value(check.threshold)
        );
        let more = if check.more_series > 0 {
            format!(
                " {} more series not drawn (those closest to holding).",
                check.more_series
            )
        } else {
            String::new()
        };
        figure(
            page,
            &format!("promql-{index}"),
            &title,
            &charts::against_threshold(&series, backdrop, check.threshold, &threshold),
            &format!(
                "{} evaluated every {} s over the whole run; the dashed line is the threshold.{more}",
                check.expr,
                crate::promql::format_short(check.step_s)
            ),
        );
    }
}

/// A percentile of a timeline row, by name; drawn dashed or not.
type Percentile = (&'static str, fn(&saved::Row) -> Option<f64>, bool);

/// One line per request name and percentile of the timeline's rows.
fn percentile_lines(s: &saved::Summary, percentiles: [Percentile; 3]) -> Vec<Series> {
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

fn over_time_section(page: &mut String, s: &saved::Summary, backdrop: &Backdrop) {
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

fn distribution_section(page: &mut String, s: &saved::Summary) {
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

fn alerts_section(
    page: &mut String,
    alerts: &saved::Alerts,
    s: &saved::Summary,
    backdrop: &Backdrop,
) {
    page.push_str("<h2 id=\"alerts\">Alerts</h2>\n");
    if alerts.alerts.is_empty() && alerts.expected.is_empty() {
        let _ = writeln!(
            page,
            "<p>No alert went pending or fired (rules evaluated by {}).</p>",
            escape(&alerts.evaluated_by)
        );
        return;
    }
    let start_ms = s.started_at_unix_ms as f64;
    let end_s = s.duration_s;
    let offset = |ms: i64| ((ms as f64 - start_ms) / 1000.0).clamp(0.0, end_s);
    let mut rows = Vec::new();
    for alert in &alerts.alerts {
        let labels: Vec<String> = alert
            .labels
            .iter()
            .filter(|(k, _)| *k != "alertname")
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .collect();
        let mut row = AlertRow {
            label: format!("{} {{{}}}", alert.name, labels.join(", ")),
            pending: Vec::new(),
            firing: Vec::new(),
            expected: None,
        };
        for e in &alert.episodes {
            let fired = e
                .fired_at
                .or(e.resolved_at)
                .unwrap_or(s.started_at_unix_ms as i64 + (end_s * 1000.0) as i64);
            row.pending.push((offset(e.pending_at), offset(fired)));
            if let Some(fired_at) = e.fired_at {
                let until = e
                    .resolved_at
                    .unwrap_or(s.started_at_unix_ms as i64 + (end_s * 1000.0) as i64);
                row.firing.push((offset(fired_at), offset(until)));
            }
        }
        rows.push(row);
    }
    // Each expectation's window beside the rows of its alert (at the end
    // for an alert that never went pending).
    for e in &alerts.expected {
        let row = AlertRow {
            label: format!("expected ({}): {}", e.scope, e.expectation),
            pending: Vec::new(),
            firing: Vec::new(),
            expected: Some((e.start_s, e.end_s)),
        };
        let after = rows
            .iter()
            .rposition(|r| r.expected.is_none() && r.label.split(' ').next() == Some(&e.alert))
            .map_or(rows.len(), |i| i + 1);
        // After the alert's rows and the expectations already placed there.
        let at = after
            + rows[after..]
                .iter()
                .take_while(|r| {
                    r.expected.is_some() && r.label.contains(&format!(": alert {} ", e.alert))
                })
                .count();
        rows.insert(at, row);
    }
    figure(
        page,
        "alert-timeline",
        "Alert timeline",
        &charts::alert_timeline(&rows, backdrop),
        &format!(
            "Pending (light, outlined) and firing (solid) per alert and label set, evaluated by {}; beside each alert, hatched, the window each expectation wants it in (fires: by the window's end; stays quiet or firing: throughout; resolves: by its end).",
            alerts.evaluated_by
        ),
    );
}

fn slos_section(page: &mut String, slos: &serde_json::Value) {
    page.push_str("<h2 id=\"slos\">SLOs</h2>\n<table><thead><tr><th>SLO</th><th>objective</th><th>compliance</th><th>budget consumed</th><th>burn rate</th><th>burn at the end</th><th>page</th></tr></thead><tbody>\n");
    let percent = |v: &serde_json::Value, digits: usize| {
        v.as_f64()
            .map_or("-".to_string(), |f| format!("{:.digits$}%", f * 100.0))
    };
    for slo in slos.as_array().into_iter().flatten() {
        let burns: Vec<String> = slo["burn_at_end"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|pair| Some(format!("{} {:.2}", pair[0].as_str()?, pair[1].as_f64()?)))
            .collect();
        let page_at = match slo["page_at"].as_f64() {
            Some(at) => format!("at +{at:.0}s ({})", slo["page_by"].as_str().unwrap_or("")),
            None => "no".into(),
        };
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(slo["name"].as_str().unwrap_or("")),
            percent(&slo["objective"], 3),
            percent(&slo["compliance"], 3),
            percent(&slo["budget_consumed"], 4),
            slo["burn_rate"]
                .as_f64()
                .map_or("-".into(), |b| format!("{b:.3}")),
            escape(&burns.join(", ")),
            escape(&page_at)
        );
    }
    page.push_str("</tbody></table>\n");
}

/// Failed over all, as a percentage; `-` without requests.
fn error_rate(m: &saved::Measured) -> String {
    if m.requests == 0 {
        "-".into()
    } else {
        format!("{:.2}%", m.failed as f64 * 100.0 / m.requests as f64)
    }
}

fn tables_section(page: &mut String, s: &saved::Summary) {
    page.push_str("<h2 id=\"phases\">Phases and requests</h2>\n<table><thead><tr><th>phase</th><th>request</th><th>count</th><th>req/s</th><th>failed</th><th>error rate</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th></tr></thead><tbody>\n");
    let cells = |m: &saved::Measured| match &m.latency_ms {
        Some(d) => format!(
            "<td class=\"num\">{:.2}</td><td class=\"num\">{:.2}</td><td class=\"num\">{:.2}</td><td class=\"num\">{:.2}</td>",
            d.p50, d.p95, d.p99, d.max
        ),
        None => "<td>-</td><td>-</td><td>-</td><td>-</td>".into(),
    };
    for phase in &s.phases {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td><em>all</em></td><td class=\"num\">{}</td><td class=\"num\">{:.1}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>{}</tr>",
            escape(&phase.name),
            phase.measured.requests,
            phase.requests_per_second,
            phase.measured.failed,
            error_rate(&phase.measured),
            cells(&phase.measured)
        );
        for request in &phase.per_request {
            let rate = request.measured.requests as f64 / phase.duration_s.max(1e-9);
            let _ = writeln!(
                page,
                "<tr><td></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{:.1}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>{}</tr>",
                escape(&request.name),
                request.measured.requests,
                rate,
                request.measured.failed,
                error_rate(&request.measured),
                cells(&request.measured)
            );
        }
    }
    page.push_str("</tbody></table>\n<h3 id=\"statuses\">Status codes and errors</h3><table><thead><tr><th>status or error</th><th>count</th><th>share</th></tr></thead><tbody>\n");
    let total = s.run.requests.max(1) as f64;
    for (code, n) in s.run.status_codes.iter().chain(&s.run.errors) {
        if *n == 0 {
            continue;
        }
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"num\">{n}</td><td class=\"num\">{:.2}%</td></tr>",
            escape(code),
            *n as f64 * 100.0 / total
        );
    }
    page.push_str("</tbody></table>\n");
    if !s.fault_windows.is_empty() {
        page.push_str("<h3 id=\"faults\">Fault windows</h3><table><thead><tr><th>proxy</th><th>phase</th><th>in effect (s)</th><th>fault</th><th>matched</th><th>injected</th></tr></thead><tbody>\n");
        for w in &s.fault_windows {
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{:.3} – {:.3}</td><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(&w.proxy),
                escape(&w.phase),
                w.start_s,
                w.end_s,
                escape(&w.fault),
                w.matched,
                w.injected
            );
        }
        page.push_str("</tbody></table>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_content_and_attributes() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn commands_are_quoted_as_a_shell_reads_them_back() {
        let words = [
            "slogate",
            "run",
            "my scenario.yaml",
            "--out",
            "it's",
            "",
            "a=b,c/d",
        ];
        assert_eq!(
            shell_words(&words.map(String::from)),
            r#"slogate run 'my scenario.yaml' --out 'it'\''s' '' a=b,c/d"#
        );
    }
}
