//! What a game-day drill adds to a run: the demo service's and the
//! proxies' faults switched at phase boundaries (with the proxies' fault
//! windows), the rule groups evaluated over the scraped data (or the alert
//! timeline read back from a real Prometheus), and the alert expectations
//! judged against that timeline.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;

use crate::backend::{BackendError, QueryBackend};
use crate::demo::Faults;
use crate::expect::alert::{self, Context as AlertContext, Window};
use crate::expect::{AlertExpectation, Outcome, Verdict, When};
use crate::metrics::store::Store;
use crate::proxy::Proxy;
use crate::proxy::table::Active;
use crate::record::RunResults;
use crate::rules::{self, RuleError, RuleSet, Timeline};
use crate::scenario::{Scenario, fault_target};

/// Sets each phase's demo and proxy faults as it starts and clears them
/// after.
pub struct FaultSwitch<'a> {
    scenario: &'a Scenario,
    /// Target name to base URL.
    bases: BTreeMap<String, String>,
    /// Knobs as last set, per target.
    current: BTreeMap<String, Faults>,
    pub log: Vec<FaultChange>,
    proxies: &'a [Proxy],
    /// Proxy faults in effect: their proxy, phase, fault and start.
    open: Vec<(String, String, Arc<Active>, SystemTime)>,
    /// Proxy faults that were in effect, with what they did.
    pub windows: Vec<FaultWindow>,
}

/// When a proxy fault was in effect, and what it did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FaultWindow {
    pub proxy: String,
    pub phase: String,
    pub fault: crate::proxy::FaultSpec,
    pub describe: String,
    #[serde(skip)]
    pub start: SystemTime,
    #[serde(skip)]
    pub end: SystemTime,
    /// Requests (http) or connections (tcp) that matched it and drew.
    pub matched: u64,
    pub injected: u64,
}

/// One change of a target's knobs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FaultChange {
    /// The phase that starts (None: after the last phase).
    pub phase: Option<String>,
    pub target: String,
    pub knobs: Faults,
    pub error: Option<String>,
}

impl<'a> FaultSwitch<'a> {
    pub fn new(
        scenario: &'a Scenario,
        bases: BTreeMap<String, String>,
        proxies: &'a [Proxy],
    ) -> FaultSwitch<'a> {
        FaultSwitch {
            scenario,
            bases,
            current: BTreeMap::new(),
            log: Vec::new(),
            proxies,
            open: Vec::new(),
            windows: Vec::new(),
        }
    }

    /// Phase `index` starts: its faults on, the previous phase's off.
    pub fn enter(&mut self, index: usize) {
        let phase = &self.scenario.phases[index];
        // Proxies first: switching them is a swap in memory, exact at the
        // boundary; the demo's knobs take an HTTP request each.
        self.switch_proxies(Some(index));
        let mut wanted: BTreeMap<String, Faults> = self
            .current
            .keys()
            .map(|target| (target.clone(), Faults::default()))
            .collect();
        for fault in &phase.faults {
            if let Ok(target) = fault_target(fault, &self.scenario.targets) {
                wanted.insert(target.to_string(), fault.knobs.clone());
            }
        }
        self.apply(Some(phase.name.clone()), wanted);
    }

    /// Replaces every proxy's faults with those of phase `index` (None:
    /// none), closing the windows of the faults it ends.
    fn switch_proxies(&mut self, index: Option<usize>) {
        let now = tokio::time::Instant::now();
        let wall = SystemTime::now();
        let phase = index.map(|i| &self.scenario.phases[i]);
        for proxy in self.proxies {
            let faults: Vec<(crate::proxy::FaultSpec, crate::proxy::Fault)> = phase
                .iter()
                .flat_map(|p| &p.proxy_faults)
                .filter(|f| f.proxy == proxy.name())
                .map(|f| (f.spec.clone(), f.fault.clone()))
                .collect();
            let had = self.open.iter().any(|(name, ..)| name == proxy.name());
            if faults.is_empty() && !had {
                continue;
            }
            let bound = phase
                .and_then(|p| p.duration)
                .unwrap_or(crate::proxy::fault::MAX_BOUND);
            proxy.table().replace(faults, bound, now);
            let (closing, staying): (Vec<_>, Vec<_>) = std::mem::take(&mut self.open)
                .into_iter()
                .partition(|(name, ..)| name == proxy.name());
            self.open = staying;
            for (name, phase_name, active, start) in closing {
                self.windows
                    .push(window(name, phase_name, &active, start, wall, now));
            }
            if let Some(phase) = phase {
                for active in proxy.table().snapshot().iter() {
                    self.open.push((
                        proxy.name().to_string(),
                        phase.name.clone(),
                        active.clone(),
                        wall,
                    ));
                }
            }
        }
    }

    /// The run is over: every knob back to its default.
    pub fn finish(&mut self) {
        self.switch_proxies(None);
        let wanted = self
            .current
            .keys()
            .map(|target| (target.clone(), Faults::default()))
            .collect();
        self.apply(None, wanted);
    }

    fn apply(&mut self, phase: Option<String>, wanted: BTreeMap<String, Faults>) {
        for (target, knobs) in wanted {
            let unchanged = self
                .current
                .get(&target)
                .map_or(knobs == Faults::default(), |k| *k == knobs);
            if unchanged {
                continue;
            }
            let error = match self.bases.get(&target) {
                Some(base) => crate::demo::set_faults_remote(base, &knobs).err(),
                None => Some(format!("no URL for target `{target}`")),
            };
            if error.is_none() {
                if knobs == Faults::default() {
                    self.current.remove(&target);
                } else {
                    self.current.insert(target.clone(), knobs.clone());
                }
            }
            self.log.push(FaultChange {
                phase: phase.clone(),
                target,
                knobs,
                error,
            });
        }
    }

    /// A FAIL for every fault that could not be switched: the drill did
    /// not test what it says.
    pub fn verdicts(&self) -> Vec<Verdict> {
        self.log
            .iter()
            .filter_map(|change| {
                let error = change.error.as_ref()?;
                Some(Verdict {
                    check: format!(
                        "demo faults on {}: {}",
                        change.target,
                        describe(&change.knobs)
                    ),
                    scope: change
                        .phase
                        .as_ref()
                        .map_or("run".into(), |p| format!("phase {p}")),
                    measured: None,
                    measured_text: format!("not applied: {error}"),
                    wanted: "applied".into(),
                    outcome: Outcome::Fail,
                    optional: false,
                    source: self.scenario.file.display().to_string(),
                    truncated: false,
                })
            })
            .collect()
    }
}

/// A closed window: a fault with a `for` shorter than its phase ended at
/// its bound.
fn window(
    proxy: String,
    phase: String,
    active: &Active,
    start: SystemTime,
    wall: SystemTime,
    now: tokio::time::Instant,
) -> FaultWindow {
    let early = now.saturating_duration_since(active.ends);
    let count = crate::proxy::FaultCount::from(active);
    FaultWindow {
        proxy,
        phase,
        fault: active.spec.clone(),
        describe: count.describe,
        start,
        end: wall.checked_sub(early).unwrap_or(wall),
        matched: count.matched,
        injected: count.injected,
    }
}

/// The proxy fault windows for the reports, offsets from the run's start.
pub fn window_reports(
    windows: &[FaultWindow],
    started: SystemTime,
) -> Vec<crate::report::run::FaultWindow> {
    let offset = |t: SystemTime| t.duration_since(started).map_or(0.0, |d| d.as_secs_f64());
    windows
        .iter()
        .map(|w| crate::report::run::FaultWindow {
            proxy: w.proxy.clone(),
            phase: w.phase.clone(),
            fault: w.describe.clone(),
            start_s: offset(w.start),
            end_s: offset(w.end),
            matched: w.matched,
            injected: w.injected,
        })
        .collect()
}

/// Writes `faults.json`: each proxy fault's window (ms since the epoch and
/// seconds from the run's start) and counts.
pub fn save_windows(
    windows: &[FaultWindow],
    started: SystemTime,
    out: &Path,
) -> anyhow::Result<()> {
    let offset = |t: SystemTime| t.duration_since(started).map_or(0.0, |d| d.as_secs_f64());
    let json: Vec<serde_json::Value> = windows
        .iter()
        .map(|w| {
            let mut value = serde_json::to_value(w).unwrap_or_default();
            if let Some(map) = value.as_object_mut() {
                map.insert(
                    "start_ms".into(),
                    crate::metrics::scrape::system_ms(w.start).into(),
                );
                map.insert(
                    "end_ms".into(),
                    crate::metrics::scrape::system_ms(w.end).into(),
                );
                map.insert("start_offset_seconds".into(), offset(w.start).into());
                map.insert("end_offset_seconds".into(), offset(w.end).into());
            }
            value
        })
        .collect();
    let path = out.join("faults.json");
    std::fs::write(
        &path,
        crate::redact::text(&serde_json::to_string_pretty(&json)?),
    )
    .with_context(|| format!("cannot write {}", path.display()))
}

/// `error_ratio 20% (503), latency 300ms ± 50ms`, or `none`.
pub fn describe(knobs: &Faults) -> String {
    let mut parts = Vec::new();
    if knobs.error_ratio > 0.0 {
        parts.push(format!(
            "error_ratio {}% ({})",
            crate::promql::format_short(knobs.error_ratio * 100.0),
            knobs.error_status
        ));
    }
    if knobs.latency_ms > 0.0 || knobs.jitter_ms > 0.0 {
        parts.push(format!(
            "latency {}ms + up to {}ms",
            crate::promql::format_short(knobs.latency_ms),
            crate::promql::format_short(knobs.jitter_ms)
        ));
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

/// What the rules did over a run.
#[derive(Debug, Default, serde::Serialize)]
pub struct Alerts {
    /// `embedded`, or the Prometheus the timeline was read from.
    pub evaluated_by: String,
    pub timeline: Timeline,
    /// Evaluation failures, one per rule and message (with a count).
    pub errors: Vec<(RuleError, usize)>,
    /// Read back from `ALERTS`, which carries no annotations.
    #[serde(skip)]
    pub without_annotations: bool,
    /// What the Alertmanager held during the run, if one was watched.
    #[serde(skip)]
    pub alertmanager: Option<crate::backend::alertmanager::Watched>,
}

/// Evaluates the scenario's rule files over everything scraped, writing
/// the rules' series into `store`.
pub fn evaluate_rules(scenario: &Scenario, store: &mut Store) -> anyhow::Result<Alerts> {
    let metrics = scenario.metrics.as_ref();
    let options = rules::Options {
        default_interval: metrics.map_or(Duration::from_secs(1), |m| m.evaluation_interval),
        lookback: metrics.map_or(Duration::from_secs(300), |m| m.lookback),
        external: rules::External::default(),
        legacy_rate_extrapolation: false,
    };
    let mut set = RuleSet::new(&scenario.rules, options).map_err(anyhow::Error::msg)?;
    if let Some((first, last)) = store.time_range() {
        set.run(store, first - 1, last);
    }
    let mut errors: Vec<(RuleError, usize)> = Vec::new();
    for error in set.errors {
        match errors
            .iter_mut()
            .find(|(e, _)| e.source == error.source && e.message == error.message)
        {
            Some((_, count)) => *count += 1,
            None => errors.push((error, 1)),
        }
    }
    Ok(Alerts {
        evaluated_by: "embedded".into(),
        timeline: set.timeline,
        errors,
        ..Alerts::default()
    })
}

/// Reads the alert timeline of `(start, end)` from `ALERTS` and
/// `ALERTS_FOR_STATE`, with range queries at `step`.
pub fn read_alerts(
    backend: &dyn QueryBackend,
    start: i64,
    end: i64,
    step: Duration,
) -> Result<Alerts, BackendError> {
    let step = step.as_millis().max(1) as i64;
    let alerts = backend.range("ALERTS", start, end, step)?;
    let for_state = backend.range("ALERTS_FOR_STATE", start, end, step)?;
    let source = backend.describe();
    Ok(Alerts {
        timeline: Timeline::from_series(&alerts, &for_state, step, end, &source),
        evaluated_by: source,
        without_annotations: true,
        ..Alerts::default()
    })
}

/// Where an alert expectation wants its alert, seconds from the run's
/// start: for the report's alert timeline.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExpectedWindow {
    pub alert: String,
    /// As the verdict names it (`alert X fires within 90s {...}`).
    pub expectation: String,
    pub scope: String,
    /// `fires` (firing by the end), `quiet`, `firing` (throughout) or
    /// `resolves` (resolved by the end).
    pub kind: &'static str,
    pub start_s: f64,
    pub end_s: f64,
}

/// Every alert expectation's window over the phases that ran.
fn expected_windows(scenario: &Scenario, results: &RunResults) -> Vec<ExpectedWindow> {
    let window = |e: &AlertExpectation, scope: String, start: f64, end: f64| {
        let (kind, from, to) = match e.when {
            When::Fires { after, within } => (
                "fires",
                start + after.as_secs_f64(),
                within.map_or(end, |w| start + w.as_secs_f64()),
            ),
            When::StaysInactive => ("quiet", start, end),
            When::StaysFiring => ("firing", start, end),
            When::ResolvesWithin(d) => ("resolves", start, start + d.as_secs_f64()),
        };
        ExpectedWindow {
            alert: e.alert.clone(),
            expectation: e.describe(),
            scope,
            kind,
            start_s: from,
            end_s: to,
        }
    };
    let mut out = Vec::new();
    for (phase, ran) in scenario.phases.iter().zip(&results.phases) {
        let start = ran.start_offset.as_secs_f64();
        let end = start + ran.elapsed.as_secs_f64();
        for e in &phase.alerts {
            out.push(window(e, format!("phase {}", phase.name), start, end));
        }
    }
    for e in &scenario.alerts {
        out.push(window(e, "run".into(), 0.0, results.elapsed.as_secs_f64()));
    }
    out
}

/// Writes `alerts.json` into the results directory, with the window each of
/// the scenario's alert expectations wants its alert in.
pub fn save(
    alerts: &Alerts,
    faults: &[FaultChange],
    scenario: &Scenario,
    results: &RunResults,
    out: &Path,
) -> anyhow::Result<()> {
    let path = out.join("alerts.json");
    let json = serde_json::json!({
        "evaluated_by": alerts.evaluated_by,
        "expected": expected_windows(scenario, results),
        "alerts": alerts.timeline.alerts,
        "rule_errors": alerts.errors.iter().map(|(e, count)| serde_json::json!({
            "rule": e.rule, "source": e.source, "first_at_ms": e.t, "message": e.message, "count": count,
        })).collect::<Vec<_>>(),
        "faults": faults,
        "alertmanager": alerts.alertmanager,
    });
    std::fs::write(
        &path,
        crate::redact::text(&serde_json::to_string_pretty(&json)?),
    )
    .with_context(|| format!("cannot write {}", path.display()))
}

/// Judges every alert expectation (phases', then the run's, then
/// `no_other_alerts`).
pub fn judge(
    scenario: &Scenario,
    results: &RunResults,
    alerts: &Alerts,
    backend: &dyn QueryBackend,
) -> Vec<Verdict> {
    let ms = |offset: Duration| crate::metrics::scrape::system_ms(results.started_at + offset);
    let run_end = ms(results.elapsed);
    let mut verdicts = Vec::new();
    for (index, phase) in scenario.phases.iter().enumerate() {
        let scope = format!("phase {}", phase.name);
        for e in &phase.alerts {
            let Some(ran) = results.phases.get(index) else {
                verdicts.push(never_ran(e, scope.clone()));
                continue;
            };
            let window = Window {
                start: ms(ran.start_offset),
                end: ms(ran.start_offset + ran.elapsed),
                run_end,
            };
            let error_ratio = crate::expect::failures(&ran.total.unpack(), None) as f64
                / ran.total.requests.max(1) as f64;
            let context = context(scenario, e, backend, window, Some(error_ratio), alerts);
            let mut verdict = alert::judge(e, &alerts.timeline, window, scope.clone(), &context);
            // Rules evaluated over truncated data may have missed a firing.
            verdict.mark_truncated(&backend.losses(window.start, window.end), window.start);
            verdicts.push(verdict);
            verdicts.extend(at_alertmanager(e, alerts, window, &scope));
        }
    }
    let whole = Window {
        start: ms(Duration::ZERO),
        end: run_end,
        run_end,
    };
    for e in &scenario.alerts {
        let context = context(scenario, e, backend, whole, None, alerts);
        let mut verdict = alert::judge(e, &alerts.timeline, whole, "run".into(), &context);
        verdict.mark_truncated(&backend.losses(whole.start, whole.end), whole.start);
        verdicts.push(verdict);
        verdicts.extend(at_alertmanager(e, alerts, whole, "run"));
    }
    if let Some(source) = &scenario.no_other_alerts {
        let mut names: Vec<&str> = scenario
            .alerts
            .iter()
            .chain(scenario.phases.iter().flat_map(|p| &p.alerts))
            .map(|e| e.alert.as_str())
            .collect();
        names.sort();
        names.dedup();
        let mut verdict = alert::no_other_alerts(&alerts.timeline, &names, whole, source);
        verdict.mark_truncated(&backend.losses(whole.start, whole.end), whole.start);
        verdicts.push(verdict);
    }
    for (error, count) in &alerts.errors {
        eprintln!(
            "warning: rule {} ({}) failed at {count} evaluation(s): {}",
            error.rule, error.source, error.message
        );
    }
    verdicts
}

/// The expected detection time (for a fault phase) and, for an alert
/// that must fire, the selectors that match nothing.
fn context(
    scenario: &Scenario,
    e: &AlertExpectation,
    backend: &dyn QueryBackend,
    window: Window,
    error_ratio: Option<f64>,
    alerts: &Alerts,
) -> AlertContext {
    let mut context = AlertContext {
        annotations_unknown: alerts.without_annotations,
        ..AlertContext::default()
    };
    if !matches!(e.when, When::Fires { .. }) {
        return context;
    }
    if let Some(r) = error_ratio.filter(|r| *r > 0.0) {
        context.expected = rules::estimate::detection(&scenario.rules, &e.alert, r);
    }
    if let Some(expr) = rules::estimate::alert_expr(&scenario.rules, &e.alert) {
        let seconds = ((window.run_end - window.start) / 1000).max(1) + 60;
        let empty: Vec<String> = rules::estimate::selectors(&scenario.rules, &expr)
            .into_iter()
            .filter(|s| {
                let probe = format!("count(last_over_time({s}[{seconds}s]))");
                backend
                    .instant(&probe, window.run_end)
                    .is_ok_and(|answer| answer.is_empty())
            })
            .collect();
        if !empty.is_empty() {
            context.hint = Some(format!(
                "the selector{} `{}` match{} no series in the data (a typo in a metric or label name?)",
                if empty.len() > 1 { "s" } else { "" },
                empty.join("`, `"),
                if empty.len() > 1 { "" } else { "es" }
            ));
        }
    }
    context
}

/// For an alert that must fire, with an Alertmanager watched: whether it
/// got there.
fn at_alertmanager(
    e: &AlertExpectation,
    alerts: &Alerts,
    window: Window,
    scope: &str,
) -> Option<Verdict> {
    let watched = alerts.alertmanager.as_ref()?;
    matches!(e.when, When::Fires { .. })
        .then(|| alert::reached_alertmanager(e, watched, window, scope.to_string()))
}

fn never_ran(e: &AlertExpectation, scope: String) -> Verdict {
    Verdict {
        check: e.describe(),
        scope,
        measured: None,
        measured_text: "no data (the phase did not run)".into(),
        wanted: String::new(),
        outcome: Outcome::NoData,
        optional: false,
        source: e.source.clone(),
        truncated: false,
    }
}
