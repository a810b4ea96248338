//! `compare.md` and `compare.html`: the [`Comparison`] of
//! [`crate::judge::compare`] as a Markdown table (also what `slogate
//! compare` prints) and as a self-contained page. Every value carries its
//! unit (`ms`, `%`, `/s`), and so does its change.

use std::fmt::Write as _;
use std::path::Path;

use crate::judge::compare::{Comparison, Mark, Row, Unit};
use crate::report::escape::{markdown_code as code, markdown_text as text};
use crate::report::html::escape;

/// `10.007 ms`, `5.000%`, `6.500/s`; a PromQL value as it is.
fn value(v: Option<f64>, unit: Unit) -> String {
    let Some(v) = v else {
        return "-".into();
    };
    match unit {
        Unit::Ms => format!("{v:.3} ms"),
        Unit::Percent => format!("{v:.3}%"),
        Unit::PerSecond => format!("{v:.3}/s"),
        Unit::Query => format!("{v:.3}"),
    }
}

/// `+5.000 ms (+50.0%)`, `+0.40pp`, `-1.500/s (-15.0%)`; a PromQL value's
/// change relative, or as a difference when BASE was 0.
fn change(row: &Row) -> String {
    let (Some(b), Some(n)) = (row.base, row.new) else {
        return "-".into();
    };
    let relative = if b != 0.0 {
        format!("{:+.1}%", (n - b) / b * 100.0)
    } else if n == 0.0 {
        "±0%".into()
    } else {
        "new".into()
    };
    match row.unit {
        Unit::Ms => format!("{:+.3} ms ({relative})", n - b),
        Unit::Percent => format!("{:+.2}pp", n - b),
        Unit::PerSecond => format!("{:+.3}/s ({relative})", n - b),
        Unit::Query if b == 0.0 => format!("{:+}", n - b),
        Unit::Query => relative,
    }
}

/// `no regression`, `2 regression(s), 1 warning(s)`.
pub(crate) fn headline(comparison: &Comparison) -> String {
    let (regressions, warnings) = (comparison.regressions(), comparison.warning_count());
    let mut parts = Vec::new();
    if regressions == 0 {
        parts.push("no regression".to_string());
    } else {
        parts.push(format!("{regressions} regression(s)"));
    }
    if warnings > 0 {
        parts.push(format!("{warnings} warning(s)"));
    }
    parts.join(", ")
}

/// The first column and the last: the mark and why.
fn mark(row: &Row) -> (&'static str, &'static str, &str) {
    match &row.mark {
        Mark::Held => ("✔", "✔", ""),
        Mark::Warning(why) => ("⚠", "⚠ warning", why),
        Mark::Regression(why) => ("✘", "✘ regression", why),
    }
}

/// `compare.md`.
pub(crate) fn markdown(base: &Path, new: &Path, scenario: &str, comparison: &Comparison) -> String {
    let mut out = format!(
        "## slogate compare: {} — {}\n\nBASE {} → NEW {}\n\n",
        code(scenario),
        headline(comparison),
        code(&base.display().to_string()),
        code(&new.display().to_string())
    );
    for warning in &comparison.warnings {
        let _ = writeln!(out, "**warning:** {}\n", warning.sentence(code));
    }
    out.push_str(
        "| | where | metric | base | new | change | limit broken or warning |\n|---|---|---|---:|---:|---:|---|\n",
    );
    for r in &comparison.rows {
        let (sign, _, why) = mark(r);
        let _ = writeln!(
            out,
            "| {sign} | {} | {} | {} | {} | {} | {why} |",
            text(&r.scope),
            code(&r.metric),
            value(r.base, r.unit),
            value(r.new, r.unit),
            change(r),
        );
    }
    out
}

/// `compare.html`: the same table, self-contained.
pub(crate) fn html(base: &Path, new: &Path, scenario: &str, comparison: &Comparison) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <title>slogate compare: {}</title><style>body{{font-family:system-ui,sans-serif;max-width:1000px;margin:0 auto;padding:1rem}}table{{border-collapse:collapse;width:100%;font-size:.85rem}}th,td{{border:1px solid #ccc;padding:.25rem .45rem}}td.num{{text-align:right;white-space:nowrap}}.bad{{color:#a33a00;font-weight:700}}.warn{{color:#8a6d00;font-weight:700}}</style></head><body>\
         <h1>{}</h1><p>BASE <code>{}</code> → NEW <code>{}</code>: <strong>{}</strong></p>\n",
        escape(scenario),
        escape(scenario),
        escape(&base.display().to_string()),
        escape(&new.display().to_string()),
        escape(&headline(comparison))
    );
    for warning in &comparison.warnings {
        let _ = writeln!(
            out,
            "<p class=\"warn\">warning: {}</p>",
            warning.sentence(|name| format!("<code>{}</code>", escape(name)))
        );
    }
    out.push_str("<table><thead><tr><th></th><th>where</th><th>metric</th><th>base</th><th>new</th><th>change</th><th>limit broken or warning</th></tr></thead><tbody>\n");
    for r in &comparison.rows {
        let (_, label, why) = mark(r);
        let class = match r.mark {
            Mark::Held => "",
            Mark::Warning(_) => "warn",
            Mark::Regression(_) => "bad",
        };
        let _ = writeln!(
            out,
            "<tr><td class=\"{class}\">{label}</td><td>{}</td><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape(&r.scope),
            escape(&r.metric),
            escape(&value(r.base, r.unit)),
            escape(&value(r.new, r.unit)),
            escape(&change(r)),
            escape(why)
        );
    }
    out.push_str("</tbody></table></body></html>\n");
    out
}
