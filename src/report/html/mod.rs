//! `index.html`: the page a team looks at after a drill or a CI gate.
//! Self-contained (inline SVG charts, inline CSS, no script, no request
//! leaves the page), readable on a laptop and printable. It is rendered
//! from the files of the results directory only, so `slogate report DIR`
//! can render it again, with a newer slogate, from the same data.
//!
//! Every string that came from outside slogate (names, URLs, label values,
//! check text) goes through [`escape`].

mod alerts;
mod charts;
mod checks;
mod distribution;
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
use charts::{AlertRow, Backdrop, Series};
use checks::{checks_section, losses_section};
use distribution::distribution_section;
use over_time::over_time_section;
use server::server_section;
use tables::{slos_section, tables_section};

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
    let path = dir.join(crate::report::run::dir::PAGE);
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

fn figure(page: &mut String, id: &str, title: &str, svg: &str, caption: &str) {
    let _ = writeln!(
        page,
        "<figure id=\"{id}\" class=\"chart\"><h3>{}</h3>{svg}<figcaption>{}</figcaption></figure>",
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
