//! `slogate test-rules FILE...`: Prometheus rule unit tests, run with the
//! embedded evaluator, reported as promtool reports them (one block per
//! file, SUCCESS or FAILED with each failure), plus JUnit XML on request.
//! Exit 0 when every file passes, 1 otherwise (promtool's codes).

use std::fmt::Write as _;

use anyhow::Context;

use super::Exit;
use crate::cli::TestRulesArgs;
use crate::rules::unittest::{self, FileOutcome};

pub fn run(args: &TestRulesArgs) -> anyhow::Result<Exit> {
    let outcomes: Vec<FileOutcome> = args.files.iter().map(|f| unittest::run_file(f)).collect();
    let mut out = String::new();
    for outcome in &outcomes {
        let _ = writeln!(out, "Unit Testing:  {}", outcome.path.display());
        if outcome.passed() {
            let checks: usize = outcome.groups.iter().map(|g| g.checks).sum();
            let _ = writeln!(
                out,
                "  SUCCESS ({checks} checks in {} test groups)\n",
                outcome.groups.len()
            );
            continue;
        }
        let _ = writeln!(out, "  FAILED:");
        if let Some(error) = &outcome.error {
            let _ = writeln!(out, "{}", indent(error, "    "));
        }
        for group in outcome.groups.iter().filter(|g| !g.failures.is_empty()) {
            for failure in &group.failures {
                let _ = writeln!(out, "    {}:\n{}", group.name, indent(failure, "      "));
            }
        }
        out.push('\n');
    }
    print!("{out}");
    if let Some(path) = &args.junit {
        std::fs::write(path, junit(&outcomes))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(if outcomes.iter().all(FileOutcome::passed) {
        Exit::Success
    } else {
        Exit::Failed
    })
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|line| format!("{prefix}{line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One testsuite per file, one testcase per test group.
fn junit(outcomes: &[FileOutcome]) -> String {
    let xml = crate::report::run::xml_escape;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for outcome in outcomes {
        let cases = outcome.groups.len().max(1);
        let failures = if outcome.error.is_some() {
            1
        } else {
            outcome
                .groups
                .iter()
                .filter(|g| !g.failures.is_empty())
                .count()
        };
        let _ = writeln!(
            out,
            r#"  <testsuite name="{}" tests="{cases}" failures="{failures}">"#,
            xml(&outcome.path.display().to_string())
        );
        if let Some(error) = &outcome.error {
            let _ = writeln!(
                out,
                "    <testcase name=\"load\">\n      <failure message=\"{}\"/>\n    </testcase>",
                xml(error)
            );
        }
        for group in &outcome.groups {
            let _ = writeln!(out, r#"    <testcase name="{}">"#, xml(&group.name));
            if !group.failures.is_empty() {
                let _ = writeln!(
                    out,
                    r#"      <failure message="{}"/>"#,
                    xml(&group.failures.join("\n"))
                );
            }
            let _ = writeln!(out, "    </testcase>");
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    out.push_str("</testsuites>\n");
    out
}
