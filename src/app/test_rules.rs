//! `slogate test-rules FILE...`: Prometheus rule unit tests, run with the
//! embedded evaluator, reported as promtool reports them (one block per
//! file, SUCCESS or FAILED with each failure), plus JUnit XML on request.
//! Exit 0 when every file passes, 1 otherwise (promtool's codes).

use std::fmt::Write as _;

use anyhow::Context;

use super::Exit;
use crate::cli::TestRulesArgs;
use crate::rules::unittest::{self, FileOutcome};

pub(crate) fn run(args: &TestRulesArgs) -> anyhow::Result<Exit> {
    let options = unittest::RunOptions {
        // As promtool joins its `--run` flags: one alternation.
        run: match args.run.as_slice() {
            [] => None,
            patterns => Some(regex::Regex::new(&patterns.join("|")).map_err(|e| {
                super::UsageError::new(
                    "--run",
                    format!(
                        "not a regular expression: {}",
                        crate::diag::plain(&e.to_string())
                    ),
                )
            })?),
        },
        ignore_unknown_fields: args.ignore_unknown_fields,
        features: crate::rules::Features::from_flags(&args.enable_feature)
            .map_err(|e| super::UsageError::new("--enable-feature", e))?,
    };
    let outcomes: Vec<FileOutcome> = args
        .files
        .iter()
        .map(|f| unittest::run_file_with(f, &options))
        .collect();
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
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        std::fs::write(path, unittest::junit::write(&outcomes, now))
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
