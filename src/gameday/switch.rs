//! Faults switched at phase boundaries: each phase's proxy faults and demo
//! knobs on as it starts, off after it, a log of every change of knobs, and
//! the window each proxy fault was in effect with what it did.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use crate::demo::Faults;
use crate::expect::{CheckOutcome, Verdict};
use crate::proxy::Proxy;
use crate::proxy::table::Active;
use crate::scenario::{Scenario, fault_target};
use crate::telemetry::Fault;

/// Sets each phase's demo and proxy faults as it starts and clears them
/// after.
pub(crate) struct FaultSwitch<'a> {
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
    pub windows: Vec<ProxyWindow>,
}

/// When a proxy fault was in effect (wall clock), and what it did; the
/// reports hold it as a [`FaultWindow`](crate::report::run::FaultWindow),
/// seconds from the run's start.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProxyWindow {
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
pub(crate) struct FaultChange {
    /// The phase that starts (None: after the last phase, or a stop).
    pub phase: Option<String>,
    pub target: String,
    pub knobs: Faults,
    pub error: Option<String>,
    /// When the knobs were set (ms since the epoch).
    pub at_ms: i64,
}

/// How long a demo target's knobs held a fault.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct DemoWindow {
    pub demo: String,
    pub phase: String,
    pub describe: String,
    pub start_ms: i64,
    pub end_ms: i64,
}

/// The windows of `log`: from each applied change to faulty knobs to the
/// next applied change of that target (the last ends at `end_ms`).
pub(crate) fn demo_windows(log: &[FaultChange], end_ms: i64) -> Vec<DemoWindow> {
    let applied: Vec<&FaultChange> = log.iter().filter(|c| c.error.is_none()).collect();
    applied
        .iter()
        .enumerate()
        .filter(|(_, c)| c.knobs != Faults::default())
        .map(|(i, c)| DemoWindow {
            demo: c.target.clone(),
            phase: c.phase.clone().unwrap_or_default(),
            describe: describe(&c.knobs),
            start_ms: c.at_ms,
            end_ms: applied[i + 1..]
                .iter()
                .find(|next| next.target == c.target)
                .map_or(end_ms, |next| next.at_ms),
        })
        .collect()
}

impl<'a> FaultSwitch<'a> {
    pub(crate) fn new(
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
    pub(crate) fn enter(&mut self, index: usize) {
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
            let length = phase
                .and_then(|p| p.duration)
                .unwrap_or(crate::proxy::fault::MAX_BOUND);
            proxy.table().replace(faults, length, now);
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

    /// The faults in effect now, proxies' and demos'.
    pub(crate) fn active(&self) -> Vec<Fault> {
        let mut active: Vec<_> = self
            .open
            .iter()
            .map(|(proxy, _, fault, _)| Fault {
                source: "proxy",
                target: proxy.clone(),
                kind: fault.fault.action.kind().to_string(),
            })
            .collect();
        let demo = |target: &String, kind: &str| Fault {
            source: "demo",
            target: target.clone(),
            kind: kind.to_string(),
        };
        for (target, knobs) in &self.current {
            if knobs.error_ratio > 0.0 {
                active.push(demo(target, "errors"));
            }
            if knobs.latency_ms > 0.0 || knobs.jitter_ms > 0.0 {
                active.push(demo(target, "latency"));
            }
        }
        active.sort();
        active.dedup();
        active
    }

    /// The run is over: every knob back to its default.
    pub(crate) fn finish(&mut self) {
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
                Some(base) => crate::demo::set_faults_remote(base, &knobs)
                    .err()
                    .map(|e| e.to_string()),
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
                at_ms: crate::metrics::scrape::system_ms(SystemTime::now()),
            });
        }
    }

    /// A FAIL for every fault that could not be switched: the drill did
    /// not test what it says.
    pub(crate) fn verdicts(&self) -> Vec<Verdict> {
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
                    outcome: CheckOutcome::Fail,
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
) -> ProxyWindow {
    let early = now.saturating_duration_since(active.ends);
    let count = crate::proxy::FaultCount::from(active);
    ProxyWindow {
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

/// `error_ratio 20% (503), latency 300ms ± 50ms`, or `none`.
pub(crate) fn describe(knobs: &Faults) -> String {
    let mut parts = Vec::new();
    if knobs.error_ratio > 0.0 {
        parts.push(format!(
            "error_ratio {}% ({})",
            crate::units::format_significant(knobs.error_ratio * 100.0),
            knobs.error_status
        ));
    }
    if knobs.latency_ms > 0.0 || knobs.jitter_ms > 0.0 {
        parts.push(format!(
            "latency {}ms + up to {}ms",
            crate::units::format_significant(knobs.latency_ms),
            crate::units::format_significant(knobs.jitter_ms)
        ));
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}
