//! `slogate check FILE...`: validates scenario files and Prometheus rule
//! files (told apart by their parsed top-level keys: `groups`, a
//! `PrometheusRule` resource, or none at all), prints every error with
//! its line and column, and exits 2 if any file is invalid (0 otherwise), so
//! it can run in pre-commit hooks and CI.

use super::{Exit, UsageError};
use crate::cli::CheckArgs;
use crate::report::escape::terminal_lines;
use crate::scenario;

/// Checks every file; reports on stdout (valid) and stderr (errors).
pub fn run(args: &CheckArgs) -> anyhow::Result<Exit> {
    let features = crate::rules::Features::from_flags(&args.enable_feature)
        .map_err(|e| UsageError::new("--enable-feature", e))?;
    let mut invalid = 0;
    for path in &args.files {
        // Only to tell the kinds apart: the load below reports an unreadable
        // file (a device such as /dev/zero, one too large) with its reason.
        let source = crate::input::read_to_string(path, crate::input::MAX_SOURCE_BYTES, "")
            .unwrap_or_default();
        if crate::rules::is_rule_file(&source) {
            let options = crate::rules::ReadOptions {
                ignore_unknown: args.ignore_unknown_fields,
                features,
            };
            match crate::rules::load_with(path, options) {
                Ok(file) => {
                    let (recording, alerting) = file.rule_count();
                    println!(
                        "ok: {} (rules: {} groups, {recording} recording and {alerting} alerting rules)",
                        path.display(),
                        file.groups.len()
                    );
                }
                Err(errors) => {
                    invalid += 1;
                    for error in errors {
                        eprintln!(
                            "error: {}",
                            terminal_lines(&crate::redact::text(&error.to_string()))
                        );
                    }
                }
            }
            continue;
        }
        match scenario::load(path) {
            Ok(s) => {
                let expectations: usize = s.expectations.len()
                    + s.phases.iter().map(|p| p.expectations.len()).sum::<usize>();
                let promql: usize =
                    s.promql.len() + s.phases.iter().map(|p| p.promql.len()).sum::<usize>();
                println!(
                    "ok: {} ({}: {} phases, {} requests, {} expectations, {} PromQL expectations, {} abort conditions)",
                    path.display(),
                    crate::report::escape::terminal(&s.name),
                    s.phases.len(),
                    s.requests.len(),
                    expectations,
                    promql,
                    s.aborts.len()
                );
            }
            Err(errors) => {
                invalid += 1;
                for error in errors {
                    eprintln!(
                        "error: {}",
                        terminal_lines(&crate::redact::text(&error.to_string()))
                    );
                }
            }
        }
    }
    Ok(if invalid > 0 {
        Exit::Usage
    } else {
        Exit::Success
    })
}
