//! `slogate compare BASE NEW`: reads the two results directories, has
//! [`crate::judge::compare`] judge NEW against BASE, writes `compare.md` and
//! `compare.html` ([`crate::report::compare`]) and prints the table. Exit 1
//! on a regression, 2 when the runs cannot be compared; warnings (runs of
//! other files or lengths, a large slowdown no limit covers) go to stderr
//! and the files and leave the exit code alone.

use anyhow::Context;

use super::{Exit, UsageError};
use crate::cli::CompareArgs;
use crate::judge::compare::{Limits, compare};
use crate::report::compare::{headline, html, markdown};
use crate::report::escape::terminal_lines;
use crate::report::run::dir::COMPARE;
use crate::report::run::saved::Saved;

pub(crate) fn run(args: &CompareArgs) -> anyhow::Result<Exit> {
    let limits =
        Limits::parse(&args.max_regression).map_err(|e| UsageError::new("--max-regression", e))?;
    let base = Saved::read(&args.base).map_err(|e| UsageError::new("BASE", format!("{e:#}")))?;
    let new = Saved::read(&args.new).map_err(|e| UsageError::new("NEW", format!("{e:#}")))?;
    let comparison = compare(&base.summary, &new.summary, &limits, args.min_latency_delta)
        .map_err(|e| UsageError::new("NEW", e))?;
    for warning in &comparison.warnings {
        eprintln!("warning: {}", terminal_lines(&warning.to_string()));
    }
    let out = args.out.clone().unwrap_or_else(|| args.new.clone());
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let scenario = &new.summary.scenario;
    let md = markdown(&args.base, &args.new, scenario, &comparison);
    let page = html(&args.base, &args.new, scenario, &comparison);
    for (name, text) in COMPARE.iter().zip([&md, &page]) {
        let path = out.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    print!("{md}");
    println!(
        "\ncompare: {} (written to {})",
        headline(&comparison),
        out.display()
    );
    Ok(if comparison.regressions() == 0 {
        Exit::Success
    } else {
        Exit::Failed
    })
}
