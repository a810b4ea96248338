//! `junit.xml`: one testcase per expectation, so a CI system lists them; a
//! failure (or non-optional NO DATA) carries the measured and wanted values.

use std::io::Write;

use super::{Artifact, Contents, Ending};
use crate::expect::CheckOutcome;

pub(crate) struct Junit;

impl Artifact for Junit {
    fn file_name(&self) -> &'static str {
        "junit.xml"
    }

    fn present(&self, files: &Contents) -> bool {
        files.report.is_some()
    }

    fn write(&self, files: &Contents, out: &mut dyn Write) -> anyhow::Result<()> {
        let report = files.report()?;
        let failures = report.checks.iter().filter(|c| c.fails_run()).count();
        let skipped = report
            .checks
            .iter()
            .filter(|c| c.outcome == CheckOutcome::NoData && c.optional)
            .count();
        let stopped = matches!(report.ending, Ending::Aborted | Ending::Interrupted);
        let flow_checks: usize = report.flows.iter().map(|f| f.checks.len()).sum();
        writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(
            out,
            r#"<testsuites name="slogate" tests="{}" failures="{}" errors="{}" time="{:.3}">"#,
            report.checks.len() + flow_checks,
            failures,
            usize::from(stopped),
            report.duration_s
        )?;
        writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{}" errors="{}" skipped="{}" time="{:.3}">"#,
            xml(&report.scenario),
            report.checks.len(),
            failures,
            usize::from(stopped),
            skipped,
            report.duration_s
        )?;
        if stopped {
            let why = report
                .abort_reason
                .clone()
                .unwrap_or_else(|| "interrupted by a signal".to_string());
            writeln!(
                out,
                r#"    <testcase classname="{}" name="run completed">"#,
                xml(&report.scenario)
            )?;
            writeln!(out, r#"      <error message="{}"/>"#, xml(&why))?;
            writeln!(out, "    </testcase>")?;
        }
        for check in &report.checks {
            writeln!(
                out,
                r#"    <testcase classname="{}.{}" name="{}">"#,
                xml(&report.scenario),
                xml(&check.scope),
                xml(&check.check)
            )?;
            let detail = format!(
                "measured {}, wanted {} ({})",
                check.measured_text, check.wanted, check.source
            );
            match check.outcome {
                // A warning passes; its detail is in system-out below.
                CheckOutcome::Pass | CheckOutcome::Warn => {}
                CheckOutcome::Fail => writeln!(
                    out,
                    r#"      <failure message="{}" type="FAIL"/>"#,
                    xml(&detail)
                )?,
                CheckOutcome::NoData if check.optional => {
                    writeln!(out, r#"      <skipped message="{}"/>"#, xml(&detail))?
                }
                CheckOutcome::NoData => writeln!(
                    out,
                    r#"      <failure message="{}" type="NO DATA"/>"#,
                    xml(&detail)
                )?,
            }
            writeln!(out, r#"      <system-out>{}</system-out>"#, xml(&detail))?;
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
        // Each flow's response checks, as k6 lists them: they inform, the
        // expectations above decide (`checks passed >= 99.9%` gates on them).
        for flow in &report.flows {
            writeln!(
                out,
                r#"  <testsuite name="{}.flow {}" tests="{}" failures="0" errors="0" skipped="0" time="{:.3}">"#,
                xml(&report.scenario),
                xml(&flow.name),
                flow.checks.len(),
                report.duration_s
            )?;
            for check in &flow.checks {
                writeln!(
                    out,
                    r#"    <testcase classname="{}.flow {}.{}" name="{}">"#,
                    xml(&report.scenario),
                    xml(&flow.name),
                    xml(&check.step),
                    xml(&check.name)
                )?;
                writeln!(
                    out,
                    r#"      <system-out>passed {}, failed {} ({} passed)</system-out>"#,
                    check.passed,
                    check.failed,
                    check.share()
                )?;
                writeln!(out, "    </testcase>")?;
            }
            writeln!(out, "  </testsuite>")?;
        }
        writeln!(out, "</testsuites>")?;
        Ok(())
    }
}

/// Escapes text for an XML attribute or element.
pub(crate) fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}
