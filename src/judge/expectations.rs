//! Expectations of a scenario against the results of its run.

use std::time::Duration;

use crate::expect::{Expectation, Observed, Verdict, failures, judge};

/// Judges every expectation of `scenario` against `results`: each phase's
/// own, then the run's. A phase that never ran gives NO DATA.
pub(crate) fn evaluate(
    scenario: &crate::scenario::Scenario,
    results: &crate::record::RunResults,
) -> Vec<Verdict> {
    let requests = scenario.endpoint_requests();
    let expect_status: Vec<Option<&[u16]>> = requests
        .iter()
        .map(|(r, _)| r.expect_status.as_deref())
        .collect();
    let names = &results.endpoint_names;
    let empty = crate::record::Stats::default();
    let mut verdicts = Vec::new();
    // `ran`: totals, per-endpoint stats and the throughput window; None if the scope
    // never ran.
    let mut judge_all = |expectations: &[Expectation],
                         scope: &str,
                         ran: Option<(
        &crate::record::Stats,
        &[crate::record::Stats],
        crate::record::Window,
    )>| {
        let Some((total, per_endpoint, window)) = ran else {
            for expectation in expectations {
                let scope = match &expectation.request {
                    Some(name) => format!("{scope}, request {name}"),
                    None => scope.to_string(),
                };
                verdicts.push(judge(expectation, None, scope));
            }
            return;
        };
        for expectation in expectations {
            // Flow steps' checks in scope: the step's, the flow's, or all.
            let checks = results
                .checks
                .iter()
                .filter(|c| {
                    expectation.flow.as_ref().is_none_or(|f| *f == c.flow)
                        && expectation.request.as_ref().is_none_or(|r| *r == c.step)
                })
                .fold([0, 0], |[p, f], c| [p + c.passed, f + c.failed]);
            if let (Some(flow), None) = (&expectation.flow, &expectation.request) {
                let totals = results.flows.iter().find(|f| f.name == *flow);
                let (stats, failures) =
                    totals.map_or((&empty, 0), |t| (&t.totals.iterations, t.totals.failed));
                let sample = Observed {
                    stats,
                    window,
                    failures,
                    checks,
                };
                verdicts.push(judge(
                    expectation,
                    Some(&sample),
                    format!("{scope}, flow {flow}"),
                ));
                continue;
            }
            let (stats, failures, scope) = match &expectation.request {
                Some(name) => {
                    let index = names.iter().position(|n| n == name);
                    let stats = index.and_then(|i| per_endpoint.get(i)).unwrap_or(&empty);
                    let statuses = index.and_then(|i| expect_status.get(i).copied()).flatten();
                    (
                        stats,
                        failures(stats, statuses),
                        format!("{scope}, request {name}"),
                    )
                }
                None => {
                    let failed = per_endpoint
                        .iter()
                        .zip(&expect_status)
                        .zip(&requests)
                        .filter(|(_, (_, counts))| *counts)
                        .map(|((stats, statuses), _)| failures(stats, *statuses))
                        .sum();
                    (total, failed, scope.to_string())
                }
            };
            let sample = Observed {
                stats,
                window,
                failures,
                checks,
            };
            verdicts.push(judge(expectation, Some(&sample), scope));
        }
    };
    for (index, phase) in scenario.phases.iter().enumerate() {
        let scope = format!("phase {}", phase.name);
        match results.phases.get(index) {
            Some(ran) => {
                let total = ran.total.unpack();
                let per_endpoint: Vec<_> = ran.per_endpoint.iter().map(|p| p.unpack()).collect();
                judge_all(
                    &phase.expectations,
                    &scope,
                    Some((&total, &per_endpoint, ran.window())),
                )
            }
            None => judge_all(&phase.expectations, &scope, None),
        }
    }
    judge_all(
        &scenario.expectations,
        "run",
        Some((&results.total, &results.per_endpoint, results.window())),
    );
    // The hypothesis again, over the phases after the last fault (those
    // before it were judged as the run went).
    if let Some(steady) = &scenario.steady_state
        && let Some(after) = results.phases.get(steady.last_fault + 1..)
        && !after.is_empty()
    {
        verdicts.extend(super::steady::client(
            scenario,
            steady,
            &results.endpoint_names,
            after,
            &super::steady::scope(false),
        ));
    }
    verdicts.extend(flows_went_through(scenario, results));
    verdicts
}

/// What every run with flows demands without being asked, as `hit`
/// demands that some request succeeded: each `before` and `after` flow
/// ran every step without a failure (test data that was not created
/// makes every other number meaningless), and each flow with `setup` had
/// some virtual user get through it (users who cannot log in send none of
/// the flow's steps, so no expectation on them could fail).
fn flows_went_through(
    scenario: &crate::scenario::Scenario,
    results: &crate::record::RunResults,
) -> Vec<Verdict> {
    let source = |name: &str| format!("{}: flow {name}", scenario.file.display());
    let verdict =
        |check: String, name: &str, failed: bool, measured_text: String, wanted: &str| Verdict {
            check,
            scope: "run".into(),
            measured: None,
            measured_text,
            wanted: wanted.into(),
            outcome: if failed {
                crate::expect::CheckOutcome::Fail
            } else {
                crate::expect::CheckOutcome::Pass
            },
            optional: false,
            source: source(name),
            truncated: false,
        };
    let mut out = Vec::new();
    for flow in &results.flows {
        let t = &flow.totals;
        match &flow.around {
            Some(when) if t.iterations.requests > 0 => out.push(verdict(
                format!("`{when}` flow {} went through", flow.name),
                &flow.name,
                t.failed > 0,
                if t.failed > 0 {
                    "a step failed".into()
                } else {
                    "every step passed".into()
                },
                "every step passes",
            )),
            None if t.setups > 0 && t.setups_failed == t.setups => out.push(verdict(
                format!("flow {}: some user got through setup", flow.name),
                &flow.name,
                true,
                format!("{} of {} setups failed", t.setups_failed, t.setups),
                "at least one setup passes",
            )),
            _ => {}
        }
    }
    out
}

/// Judges the scenario's PromQL expectations with `backend`: each phase's
/// over the phase's time, then the run's over the whole run.
pub(crate) fn evaluate_promql(
    scenario: &crate::scenario::Scenario,
    results: &crate::record::RunResults,
    backend: &dyn crate::backend::QueryBackend,
) -> Vec<Verdict> {
    let step = scenario
        .metrics
        .as_ref()
        .map_or(Duration::from_secs(1), |m| m.default_step());
    let ms = |offset: Duration| crate::metrics::scrape::system_ms(results.started_at + offset);
    let mut verdicts = Vec::new();
    for (index, phase) in scenario.phases.iter().enumerate() {
        let scope = format!("phase {}", phase.name);
        for e in &phase.promql {
            verdicts.push(match results.phases.get(index) {
                Some(ran) => crate::expect::promql::judge(
                    e,
                    backend,
                    (ms(ran.start_offset), ms(ran.start_offset + ran.elapsed)),
                    step,
                    scope.clone(),
                ),
                None => crate::expect::promql::never_ran(e, scope.clone()),
            });
        }
    }
    for e in &scenario.promql {
        verdicts.push(crate::expect::promql::judge(
            e,
            backend,
            (ms(Duration::ZERO), ms(results.elapsed)),
            step,
            "run".into(),
        ));
    }
    if let Some(steady) = &scenario.steady_state
        && let Some(first_after) = results.phases.get(steady.last_fault + 1)
    {
        let window = (
            super::steady::at(results.started_at, first_after.start_offset),
            super::steady::at(results.started_at, results.elapsed),
        );
        verdicts.extend(super::steady::promql(
            scenario,
            steady,
            backend,
            window,
            &super::steady::scope(false),
        ));
    }
    verdicts
}
