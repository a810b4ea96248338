//! `index.html`: the page a team looks at after a drill or a CI gate.
//! Self-contained (inline SVG charts, inline CSS, one inline script, no
//! request leaves the page), readable on a laptop, in a dark theme and
//! printed. The script only adds the values under the pointer to each
//! chart; without it the page is complete. It is rendered
//! from the files of the results directory only, so `slogate report DIR`
//! can render it again, with a newer slogate, from the same data.
//!
//! Every string that came from outside slogate (names, URLs, label values,
//! check text) goes through [`escape`].

mod alerts;
mod charts;
mod checks;
mod distribution;
mod frame;
mod gameday;
mod knobs;
mod over_time;
mod server;
mod tables;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use hdrhistogram::Histogram;

use crate::report::run::histogram::decode;
use crate::report::run::saved::{self, Saved};
use crate::report::series::CheckSeries;
use alerts::alerts_section;
use charts::{AlertRow, Backdrop, Line, Series, Size};
use checks::{checks_section, losses_section};
use distribution::distribution_section;
use over_time::over_time_section;
use server::server_section;
use tables::{slos_section, tables_section};

/// Escapes text for HTML content and quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
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
pub(crate) fn write(dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    let saved = Saved::read(dir)?;
    let page = render(&saved);
    let path = dir.join(crate::report::run::dir::PAGE);
    std::fs::write(&path, crate::redact::text(&page))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

const STYLE: &str = r#"
:root { color-scheme: light dark; --bg: #fff; --fg: #1b1b1b; --muted: #4a4a4a; --rule: #d0d0d0; --head: #f2f2f2; --code: #f4f4f4; --pass: #005a8c; --fail: #a33a00; --warn: #7a5d00; --link: #0b5cad; }
@media (prefers-color-scheme: dark) { :root { --bg: #16181c; --fg: #e3e3e3; --muted: #b0b0b0; --rule: #3b3f46; --head: #23262c; --code: #1f2227; --pass: #6cb6ff; --fail: #ff9266; --warn: #e3c35a; --link: #8cc4ff; } }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1400px; padding: 0 1.2rem 3rem; color: var(--fg); background: var(--bg); line-height: 1.4; }
a { color: var(--link); }
nav.sections { position: sticky; top: 0; z-index: 10; background: var(--bg); border-bottom: 1px solid var(--rule); display: flex; flex-wrap: wrap; gap: 0.1rem 1.1rem; padding: 0.45rem 0; font-size: 0.9rem; }
nav.sections a { text-decoration: none; } nav.sections a:hover { text-decoration: underline; }
h1 { font-size: 1.5rem; margin: 0.6rem 0 0.2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid var(--rule); padding-bottom: 0.2rem; } h3 { font-size: 1rem; margin-bottom: 0.3rem; } h4 { font-size: 0.9rem; margin: 0.2rem 0; font-weight: 600; overflow-wrap: anywhere; }
[id] { scroll-margin-top: 3rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.85rem; margin: 0.5rem 0; }
th, td { border: 1px solid var(--rule); padding: 0.25rem 0.45rem; text-align: left; vertical-align: top; overflow-wrap: break-word; }
th { overflow-wrap: normal; }
td code { white-space: pre-wrap; overflow-wrap: anywhere; } td.source code { overflow-wrap: break-word; }
th { background: var(--head); } td.num { text-align: right; font-variant-numeric: tabular-nums; overflow-wrap: normal; white-space: nowrap; }
.verdict { display: inline-block; font-weight: 700; padding: 0.15rem 0.6rem; border: 2px solid; border-radius: 3px; }
.PASS { color: var(--pass); } .FAIL { color: var(--fail); font-weight: 700; } .WARN { color: var(--warn); } .NODATA { color: var(--muted); }
td.PASS, td.FAIL, td.WARN, td.NODATA { white-space: nowrap; overflow-wrap: normal; }
.verdict.passed { color: var(--pass); } .verdict.failed, .verdict.aborted, .verdict.interrupted { color: var(--fail); }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 0.8rem; }
pre { background: var(--code); padding: 0.6rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
figure { margin: 0.8rem 0; } figcaption { font-size: 0.8rem; color: var(--muted); }
.plot { position: relative; } .plot svg { width: 100%; height: auto; display: block; }
.plot .bg { fill: var(--bg); } .plot .ink { fill: var(--fg); } .plot .inks { stroke: var(--fg); }
.multiples { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 400px), 1fr)); gap: 0.6rem 1.2rem; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 0.15rem 1.1rem; margin: 0.15rem 0 0.3rem; padding: 0 0 0 4.5%; font-size: 0.8rem; }
.legend li { display: flex; align-items: center; gap: 0.35rem; } .legend svg { flex: none; }
.tip { position: absolute; z-index: 5; pointer-events: none; background: var(--bg); color: var(--fg); border: 1px solid var(--rule); box-shadow: 0 1px 4px rgba(0,0,0,.25); padding: 0.3rem 0.45rem; font-size: 0.75rem; white-space: nowrap; }
.tip div { border-left: 3px solid transparent; padding-left: 0.3rem; }
.guide { position: absolute; top: 0; bottom: 0; width: 1px; background: var(--muted); pointer-events: none; }
.meta { color: var(--muted); font-size: 0.9rem; } .note { color: var(--muted); font-size: 0.85rem; }
@media print { body { max-width: none; } nav.sections { display: none; } figure, table { break-inside: avoid; } a { color: inherit; text-decoration: none; } }
"#;

/// The values under the pointer, for every chart with hover data
/// (`data-hover`, see `charts.rs`); text only (no markup is built from
/// the data). Its hash is in the page's Content-Security-Policy.
const SCRIPT: &str = include_str!("hover.js");

/// `base64(sha256(SCRIPT))`, for the Content-Security-Policy; the browser
/// test fails (the script does not run, the console complains) if it is
/// stale. Recompute: `openssl dgst -sha256 -binary src/report/html/hover.js | base64`.
const SCRIPT_SHA256: &str = "F08GvhLu19Da/IqcFysjdN5N8ZIiiStv+SFj6dq3XsQ=";

/// The sections of the page, for the navigation bar: (id, title).
fn sections(saved: &Saved) -> Vec<(&'static str, &'static str)> {
    let s = &saved.summary;
    let mut list = Vec::new();
    if gameday::is_game_day(s) {
        list.push(("gameday", "Game day"));
    }
    if !s.scrape_losses.is_empty() {
        list.push(("losses", "Data lost"));
    }
    list.extend([
        ("checks", "Checks"),
        ("over-time", "Over time"),
        ("distribution", "Distribution"),
    ]);
    if !saved.promql.is_empty() {
        list.push(("server", "Server side"));
    }
    if saved.alerts.is_some() {
        list.push(("alerts", "Alerts"));
    }
    if saved.slos.is_some() {
        list.push(("slos", "SLOs"));
    }
    if !s.flows.is_empty() {
        list.push(("flows", "Flows"));
    }
    list.extend([("phases", "Phases"), ("reproduce", "Reproduce")]);
    list
}

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

/// Renders the whole page.
pub(crate) fn render(saved: &Saved) -> String {
    let s = &saved.summary;
    let mut page = String::new();
    let started = std::time::UNIX_EPOCH + std::time::Duration::from_millis(s.started_at_unix_ms);
    let failing: Vec<&saved::Check> = s.checks.iter().filter(|c| c.outcome == "FAIL").collect();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{SCRIPT_SHA256}'\">\
         <title>slogate: {} — {}</title><style>{STYLE}</style></head><body>\n<nav class=\"sections\" aria-label=\"sections\">{}</nav>\n",
        escape(&s.scenario),
        escape(&s.ending),
        sections(saved)
            .iter()
            .map(|(id, title)| format!("<a href=\"#{id}\">{title}</a>"))
            .collect::<String>()
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
    gameday::gameday_section(&mut page, s);
    losses_section(&mut page, s);
    checks_section(&mut page, s, &saved.promql);
    let knob_windows = saved
        .alerts
        .as_ref()
        .map_or_else(Vec::new, |alerts| knobs::windows(&alerts.faults, s));
    let mut faults = s.fault_windows.clone();
    faults.extend(knob_windows.iter().cloned());
    faults.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    let backdrop = Backdrop {
        phases: &s.phases,
        faults: &faults,
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
    tables::flows_section(&mut page, s);
    tables_section(&mut page, s, &knob_windows);
    let _ = write!(
        page,
        "<h2 id=\"reproduce\">Reproduce</h2><pre>{}</pre>\
         <p class=\"note\">slogate {} · this page: <code>slogate report DIR</code> renders it again from the results directory.</p>\n<script>{SCRIPT}</script>\n</body></html>\n",
        escape(&crate::redact::text(&reproduce(s))),
        escape(&s.slogate_version)
    );
    page
}

/// The command that made these results, as typed (older results: as it
/// would be typed); for a merge, the shards' commands before it.
fn reproduce(s: &saved::SavedSummary) -> String {
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

/// A chart (or a grid of small ones) with its title and caption.
fn figure(page: &mut String, id: &str, title: &str, chart: &str, caption: &str) {
    let _ = writeln!(
        page,
        "<figure id=\"{id}\" class=\"chart\"><h3>{}</h3>{chart}<figcaption>{}</figcaption></figure>",
        escape(title),
        escape(caption)
    );
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
