//! The flows of a run as reports show them: per flow its iterations, each
//! step's requests (setup steps apart) and every check's passes and
//! failures, as k6's checks summary; rendered into the terminal report
//! and `summary.md`.

use std::io::Write;

use serde::Serialize;

use super::model::Measured;
use crate::expect::failures;
use crate::record::RunResults;

/// One flow over the run.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FlowReport {
    pub name: String,
    /// `before` or `after`: run once around the phases; absent for a flow
    /// the phases send.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// Virtual users' setups, and of them failed (each also a failed
    /// iteration); absent for a flow without setup.
    #[serde(skip_serializing_if = "is_zero")]
    pub setups: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub setups_failed: u64,
    /// Its iterations: each timed from its first step's due time to the
    /// end of its last step (or of the step that ended it); failed when a
    /// step failed.
    pub iterations: Measured,
    pub steps: Vec<FlowStepReport>,
    pub checks: Vec<CheckReport>,
}

impl FlowReport {
    /// ` (before)` / ` (after)` for a flow run around the phases.
    fn run_label(&self) -> String {
        self.run
            .as_ref()
            .map_or_else(String::new, |run| format!(" ({run})"))
    }

    /// `; setup 20, 3 failed` for a flow with setup.
    fn setup_text(&self) -> String {
        match (self.setups, self.setups_failed) {
            (0, _) => String::new(),
            (n, 0) => format!("; setup {n}"),
            (n, f) => format!("; setup {n}, {f} failed"),
        }
    }
}

/// One step of a flow over the run.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FlowStepReport {
    /// The step's own name.
    pub name: String,
    /// Its requests' name in `per_request` and the timeline (`FLOW/STEP`).
    pub request: String,
    /// A setup step: once per virtual user, not in the phases' totals.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub setup: bool,
    #[serde(flatten)]
    pub measured: Measured,
}

/// One check of one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CheckReport {
    /// The step's own name.
    pub step: String,
    pub name: String,
    pub passed: u64,
    pub failed: u64,
}

impl CheckReport {
    pub(crate) fn mark(&self) -> &'static str {
        check_mark(self.passed, self.failed)
    }

    pub(crate) fn share(&self) -> String {
        check_share(self.passed, self.failed)
    }
}

/// `✓` all passed, `✗` some failed, `·` never evaluated (its step never
/// ran: an `if:` that did not hold, an iteration ended before).
pub(crate) fn check_mark(passed: u64, failed: u64) -> &'static str {
    match (passed, failed) {
        (0, 0) => "·",
        (_, 0) => "✓",
        _ => "✗",
    }
}

/// `99.50%` of evaluations passed, or `-` when none ran.
pub(crate) fn check_share(passed: u64, failed: u64) -> String {
    match passed + failed {
        0 => "-".into(),
        total => format!("{:.2}%", passed as f64 * 100.0 / total as f64),
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The flows of `scenario` as `results` measured them: the phases' flows,
/// then `before` and `after` ones.
pub(crate) fn reports(
    scenario: &crate::scenario::Scenario,
    results: &RunResults,
) -> Vec<FlowReport> {
    let around = |list: &'static str| move |f| (f, Some(list.to_string()));
    scenario
        .flows
        .iter()
        .map(|f| (f, None))
        .chain(scenario.before.iter().map(around("before")))
        .chain(scenario.after.iter().map(around("after")))
        .map(|(flow, run)| {
            let totals = results
                .flows
                .iter()
                .find(|f| f.name == flow.name)
                .map(|f| f.totals.clone())
                .unwrap_or_default();
            let steps = flow
                .setup
                .iter()
                .map(|s| (s, true))
                .chain(flow.steps.iter().map(|s| (s, false)))
                .map(|(step, setup)| {
                    let request = step.request.name.clone();
                    let stats = results
                        .endpoint_names
                        .iter()
                        .position(|n| *n == request)
                        .and_then(|i| results.per_endpoint.get(i))
                        .cloned()
                        .unwrap_or_default();
                    let failed = failures(&stats, step.request.expect_status.as_deref());
                    FlowStepReport {
                        name: step.name.clone(),
                        request,
                        setup,
                        measured: Measured::of(&stats, failed),
                    }
                })
                .collect();
            let checks = results
                .checks
                .iter()
                .filter(|c| c.flow == flow.name)
                .map(|c| CheckReport {
                    step: c
                        .step
                        .strip_prefix(&format!("{}/", flow.name))
                        .unwrap_or(&c.step)
                        .to_string(),
                    name: c.name.clone(),
                    passed: c.passed,
                    failed: c.failed,
                })
                .collect();
            FlowReport {
                name: flow.name.clone(),
                run,
                setups: totals.setups,
                setups_failed: totals.setups_failed,
                iterations: Measured::of(&totals.iterations, totals.failed),
                steps,
                checks,
            }
        })
        .collect()
}

/// The flows for the terminal: a table of steps per flow, then its checks.
pub(crate) fn write_terminal(
    flows: &[FlowReport],
    out: &mut dyn Write,
    escape: fn(&str) -> String,
) -> std::io::Result<()> {
    for flow in flows {
        let it = &flow.iterations;
        writeln!(
            out,
            "\nflow {}{}: {} iterations, {} failed, p50 {}, p95 {}, p99 {}{}",
            escape(&flow.name),
            flow.run_label(),
            it.requests,
            it.failed,
            it.latency_cell(|d| d.p50, 2),
            it.latency_cell(|d| d.p95, 2),
            it.latency_cell(|d| d.p99, 2),
            flow.setup_text()
        )?;
        writeln!(
            out,
            "  {:<22} {:>9} {:>8} {:>10} {:>10} {:>10}",
            "step", "requests", "failed", "p50", "p95", "p99"
        )?;
        for step in &flow.steps {
            let m = &step.measured;
            let name = if step.setup {
                format!("{} (setup)", escape(&step.name))
            } else {
                escape(&step.name)
            };
            let why = m
                .outcomes_text()
                .map_or_else(String::new, |a| format!("  answers {}", escape(&a)));
            writeln!(
                out,
                "  {:<22} {:>9} {:>8} {:>10} {:>10} {:>10}{why}",
                name,
                m.requests,
                m.failed,
                m.latency_cell(|d| d.p50, 2),
                m.latency_cell(|d| d.p95, 2),
                m.latency_cell(|d| d.p99, 2)
            )?;
        }
        for check in &flow.checks {
            let mark = check.mark();
            writeln!(
                out,
                "  {mark} {:<40} {:>8} passed {:>8} failed  {}",
                format!("{} › {}", escape(&check.step), escape(&check.name)),
                check.passed,
                check.failed,
                check.share()
            )?;
        }
    }
    Ok(())
}

/// The flows for `summary.md`: a table per flow, its checks below.
pub(crate) fn write_markdown(
    flows: &[FlowReport],
    out: &mut dyn Write,
    escape: fn(&str) -> String,
) -> std::io::Result<()> {
    if flows.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n### Flows\n")?;
    for flow in flows {
        let it = &flow.iterations;
        writeln!(
            out,
            "**{}**{}: {} iterations, {} failed; p50 {}, p95 {}, p99 {}{}\n",
            escape(&flow.name),
            flow.run_label(),
            it.requests,
            it.failed,
            it.latency_cell(|d| d.p50, 2),
            it.latency_cell(|d| d.p95, 2),
            it.latency_cell(|d| d.p99, 2),
            flow.setup_text()
        )?;
        writeln!(
            out,
            "| step | requests | failed | p50 | p95 | p99 | answers |"
        )?;
        writeln!(out, "|---|---:|---:|---:|---:|---:|---|")?;
        for step in &flow.steps {
            let m = &step.measured;
            let name = if step.setup {
                format!("{} (setup)", escape(&step.name))
            } else {
                escape(&step.name)
            };
            writeln!(
                out,
                "| {name} | {} | {} | {} | {} | {} | {} |",
                m.requests,
                m.failed,
                m.latency_cell(|d| d.p50, 2),
                m.latency_cell(|d| d.p95, 2),
                m.latency_cell(|d| d.p99, 2),
                escape(&m.outcomes_text().unwrap_or_default())
            )?;
        }
        if !flow.checks.is_empty() {
            writeln!(out, "\n| | check | step | passed | failed | share |")?;
            writeln!(out, "|---|---|---|---:|---:|---:|")?;
            for check in &flow.checks {
                let mark = check.mark();
                writeln!(
                    out,
                    "| {mark} | {} | {} | {} | {} | {} |",
                    escape(&check.name),
                    escape(&check.step),
                    check.passed,
                    check.failed,
                    check.share()
                )?;
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

/// `flows.csv`: one row per flow's iterations, per step and per check:
/// `flow, kind, step, name, requests, failed, passed, p50_ms, p95_ms,
/// p99_ms`; written when the run has flows.
pub(crate) struct FlowsCsv;

impl super::Artifact for FlowsCsv {
    fn file_name(&self) -> &'static str {
        "flows.csv"
    }

    fn present(&self, files: &super::Contents) -> bool {
        files.report.is_some_and(|r| !r.flows.is_empty())
    }

    fn write(&self, files: &super::Contents, out: &mut dyn Write) -> anyhow::Result<()> {
        let report = files.report()?;
        let mut csv = ::csv::Writer::from_writer(out);
        csv.write_record([
            "flow", "kind", "step", "name", "requests", "failed", "passed", "p50_ms", "p95_ms",
            "p99_ms",
        ])?;
        let ms = |m: &Measured, q: fn(&crate::report::Distribution) -> f64| {
            m.latency_ms
                .as_ref()
                .map_or_else(String::new, |d| q(d).to_string())
        };
        for flow in &report.flows {
            let it = &flow.iterations;
            csv.write_record(crate::report::escape::csv_row([
                flow.name.as_str(),
                "iterations",
                "",
                "",
                &it.requests.to_string(),
                &it.failed.to_string(),
                &(it.requests - it.failed.min(it.requests)).to_string(),
                &ms(it, |d| d.p50),
                &ms(it, |d| d.p95),
                &ms(it, |d| d.p99),
            ]))?;
            for step in &flow.steps {
                let m = &step.measured;
                csv.write_record(crate::report::escape::csv_row([
                    flow.name.as_str(),
                    if step.setup { "setup" } else { "step" },
                    step.name.as_str(),
                    step.request.as_str(),
                    &m.requests.to_string(),
                    &m.failed.to_string(),
                    &(m.requests - m.failed.min(m.requests)).to_string(),
                    &ms(m, |d| d.p50),
                    &ms(m, |d| d.p95),
                    &ms(m, |d| d.p99),
                ]))?;
            }
            for check in &flow.checks {
                csv.write_record(crate::report::escape::csv_row([
                    flow.name.as_str(),
                    "check",
                    check.step.as_str(),
                    check.name.as_str(),
                    &(check.passed + check.failed).to_string(),
                    &check.failed.to_string(),
                    &check.passed.to_string(),
                    "",
                    "",
                    "",
                ]))?;
            }
        }
        csv.flush()?;
        Ok(())
    }
}
