//! `slogate compare BASE NEW`: two runs of one scenario side by side,
//! phase by phase and request by request (latency quantiles, error rate,
//! throughput) and check by check (server-side values included), judged
//! against regression limits. Writes `compare.md` and `compare.html`;
//! exit 1 on a regression, 2 when the runs cannot be compared.

use anyhow::Context;

use super::{Exit, UsageError};
use crate::cli::CompareArgs;
use crate::judge::compare::{Limits, Row, compare};
use crate::report::compare::{html, markdown};
use crate::report::run::dir::COMPARE;
use crate::report::run::saved::Saved;

pub fn run(args: &CompareArgs) -> anyhow::Result<Exit> {
    let limits =
        Limits::parse(&args.max_regression).map_err(|e| UsageError::new("--max-regression", e))?;
    let base = Saved::read(&args.base).map_err(|e| UsageError::new("BASE", format!("{e:#}")))?;
    let new = Saved::read(&args.new).map_err(|e| UsageError::new("NEW", format!("{e:#}")))?;
    let rows = compare(&base.summary, &new.summary, &limits, args.min_latency_delta)
        .map_err(|e| UsageError::new("NEW", e))?;
    let out = args.out.clone().unwrap_or_else(|| args.new.clone());
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let scenario = &new.summary.scenario;
    let md = markdown(&args.base, &args.new, scenario, &rows);
    let page = html(&args.base, &args.new, scenario, &rows);
    for (name, text) in COMPARE.iter().zip([&md, &page]) {
        let path = out.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    print!("{md}");
    let regressions: Vec<&Row> = rows.iter().filter(|r| r.regression.is_some()).collect();
    println!(
        "\ncompare: {} (written to {})",
        if regressions.is_empty() {
            "no regression".into()
        } else {
            format!("{} regression(s)", regressions.len())
        },
        out.display()
    );
    Ok(if regressions.is_empty() {
        Exit::Success
    } else {
        Exit::Failed
    })
}
