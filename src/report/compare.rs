//! `compare.md` and `compare.html`: the rows of
//! [`crate::judge::compare`] as a Markdown table (also what `slogate
//! compare` prints) and as a self-contained page.

use std::fmt::Write as _;
use std::path::Path;

use crate::judge::compare::Row;
use crate::report::escape::{markdown_code as code, markdown_text as text};
use crate::report::html::escape;

fn value(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.3}"))
}

/// `compare.md`.
pub fn markdown(base: &Path, new: &Path, scenario: &str, rows: &[Row]) -> String {
    let regressions = rows.iter().filter(|r| r.regression.is_some()).count();
    let mut out = format!(
        "## slogate compare: {} — {}\n\nBASE {} → NEW {}\n\n| | where | metric | base | new | change | limit broken |\n|---|---|---|---:|---:|---:|---|\n",
        code(scenario),
        if regressions == 0 {
            "no regression".to_string()
        } else {
            format!("{regressions} regression(s)")
        },
        code(&base.display().to_string()),
        code(&new.display().to_string())
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            if r.regression.is_some() { "✘" } else { "✔" },
            text(&r.scope),
            code(&r.metric),
            value(r.base),
            value(r.new),
            r.change,
            r.regression.as_deref().unwrap_or("")
        );
    }
    out
}

/// `compare.html`: the same table, self-contained.
pub fn html(base: &Path, new: &Path, scenario: &str, rows: &[Row]) -> String {
    let regressions = rows.iter().filter(|r| r.regression.is_some()).count();
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <title>slogate compare: {}</title><style>body{{font-family:system-ui,sans-serif;max-width:1000px;margin:0 auto;padding:1rem}}table{{border-collapse:collapse;width:100%;font-size:.85rem}}th,td{{border:1px solid #ccc;padding:.25rem .45rem}}td.num{{text-align:right}}.bad{{color:#a33a00;font-weight:700}}</style></head><body>\
         <h1>{}</h1><p>BASE <code>{}</code> → NEW <code>{}</code>: <strong>{}</strong></p>\
         <table><thead><tr><th></th><th>where</th><th>metric</th><th>base</th><th>new</th><th>change</th><th>limit broken</th></tr></thead><tbody>\n",
        escape(scenario),
        escape(scenario),
        escape(&base.display().to_string()),
        escape(&new.display().to_string()),
        if regressions == 0 {
            "no regression".to_string()
        } else {
            format!("{regressions} regression(s)")
        }
    );
    for r in rows {
        let _ = writeln!(
            out,
            "<tr><td class=\"{}\">{}</td><td>{}</td><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            if r.regression.is_some() { "bad" } else { "" },
            if r.regression.is_some() {
                "✘ regression"
            } else {
                "✔"
            },
            escape(&r.scope),
            escape(&r.metric),
            value(r.base),
            value(r.new),
            escape(&r.change),
            escape(r.regression.as_deref().unwrap_or(""))
        );
    }
    out.push_str("</tbody></table></body></html>\n");
    out
}
