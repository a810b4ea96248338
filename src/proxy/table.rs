//! The faults a proxy is applying: added, removed and replaced while
//! requests read them. Readers take a snapshot (an `Arc` clone under a
//! read lock) per request or connection; every fault carries its own end,
//! so an expired fault stops applying at once even before it is pruned.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::watch;
// Tokio's clock, so tests with a paused clock see faults end.
use tokio::time::Instant;

use super::fault::{Fault, FaultSpec};
use crate::rng::SharedRng;

/// A fault in effect.
#[derive(Debug)]
pub struct Active {
    pub id: u64,
    pub spec: FaultSpec,
    pub fault: Fault,
    pub started: Instant,
    /// A ramp reaches its last probability here.
    pub ramp_ends: Instant,
    /// Its bound: it stops applying here.
    pub ends: Instant,
    /// Requests (http) or connections (tcp) it matched and drew for.
    pub matched: AtomicU64,
    /// Of those, how many it was applied to.
    pub injected: AtomicU64,
}

impl Active {
    pub fn live(&self, now: Instant) -> bool {
        now < self.ends
    }

    /// The probability at `now` (ramps move from `from` at the start to
    /// `to` at the end of the bound).
    pub fn probability(&self, now: Instant) -> f64 {
        let span = self.ramp_ends.saturating_duration_since(self.started);
        let progress = if span.is_zero() {
            1.0
        } else {
            now.saturating_duration_since(self.started).as_secs_f64() / span.as_secs_f64()
        };
        self.fault.probability.at(progress)
    }

    /// Draws whether this request or connection gets the fault, counting it.
    pub fn draw(&self, rng: &SharedRng, now: Instant) -> bool {
        self.matched.fetch_add(1, Ordering::Relaxed);
        let p = self.probability(now);
        // p = 1 applies to all, p = 0 to none: exact at the ends.
        let hit = p >= 1.0 || (p > 0.0 && rng.uniform() < p);
        if hit {
            self.injected.fetch_add(1, Ordering::Relaxed);
        }
        hit
    }

    /// The fault as listed by the control API.
    pub fn listing(&self, now: Instant) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "fault": self.spec,
            "describe": self.fault.describe(),
            "probability_now": self.probability(now),
            // A phase's fault lasts until the next phase's switch; what is
            // left of it is what is left of its phase's schedule (after
            // which it applies to the phase's late requests only).
            "remaining_seconds": self.ramp_ends.saturating_duration_since(now).as_secs_f64(),
            "until_next_phase": self.ends > self.ramp_ends,
            "matched": self.matched.load(Ordering::Relaxed),
            "injected": self.injected.load(Ordering::Relaxed),
        })
    }
}

/// What one fault did, for reports.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FaultCount {
    pub id: u64,
    pub describe: String,
    pub matched: u64,
    pub injected: u64,
}

impl From<&Active> for FaultCount {
    fn from(active: &Active) -> FaultCount {
        FaultCount {
            id: active.id,
            describe: active.fault.describe(),
            matched: active.matched.load(Ordering::Relaxed),
            injected: active.injected.load(Ordering::Relaxed),
        }
    }
}

pub(crate) type Snapshot = Arc<Vec<Arc<Active>>>;

/// The faults of one proxy.
pub struct Table {
    faults: RwLock<Snapshot>,
    /// Bumped on every change, so hanging requests can look again.
    changed: watch::Sender<u64>,
    next_id: AtomicU64,
    pub rng: SharedRng,
}

impl Default for Table {
    fn default() -> Self {
        Table {
            faults: RwLock::new(Arc::new(Vec::new())),
            changed: watch::channel(0).0,
            next_id: AtomicU64::new(1),
            rng: SharedRng::default(),
        }
    }
}

impl Table {
    pub fn snapshot(&self) -> Snapshot {
        self.faults
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    fn update(&self, change: impl FnOnce(&mut Vec<Arc<Active>>)) {
        let mut guard = self.faults.write().unwrap_or_else(|e| e.into_inner());
        let mut next: Vec<Arc<Active>> = guard.as_ref().clone();
        change(&mut next);
        *guard = Arc::new(next);
        drop(guard);
        self.changed.send_modify(|generation| *generation += 1);
    }

    /// A fault from `now` that ramps over `ramp` and ends after `bound`.
    fn activate(
        &self,
        (spec, fault): (FaultSpec, Fault),
        ramp: Duration,
        bound: Duration,
        now: Instant,
    ) -> Arc<Active> {
        Arc::new(Active {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            spec,
            fault,
            started: now,
            ramp_ends: now + ramp,
            ends: now + bound,
            matched: AtomicU64::new(0),
            injected: AtomicU64::new(0),
        })
    }

    /// Adds a fault that applies for `bound` from now.
    pub fn add(&self, spec: FaultSpec, fault: Fault, bound: Duration) -> Arc<Active> {
        let active = self.activate((spec, fault), bound, bound, Instant::now());
        let added = active.clone();
        self.update(|faults| faults.push(added));
        active
    }

    /// Removes one fault; false if there was none with that id.
    pub fn remove(&self, id: u64) -> Option<Arc<Active>> {
        let mut removed = None;
        self.update(|faults| {
            if let Some(index) = faults.iter().position(|f| f.id == id) {
                removed = Some(faults.remove(index));
            }
        });
        removed
    }

    /// Replaces every fault at once (a phase boundary), all starting at
    /// `now`; returns the ones removed. A fault with its own `for` ramps
    /// over it and ends there; the others ramp over `phase` (the phase's
    /// length) and apply until the next replace, so a request of the phase
    /// sent a little late, after its scheduled end, still meets them.
    pub fn replace(
        &self,
        faults: Vec<(FaultSpec, Fault)>,
        phase: Duration,
        now: Instant,
    ) -> Vec<Arc<Active>> {
        let fresh: Vec<Arc<Active>> = faults
            .into_iter()
            .map(|(spec, fault)| {
                let (ramp, bound) = match fault.bound {
                    Some(own) => (own, own),
                    None => (phase, super::fault::MAX_BOUND),
                };
                self.activate((spec, fault), ramp, bound, now)
            })
            .collect();
        let mut removed = Vec::new();
        self.update(|faults| {
            removed = std::mem::replace(faults, fresh);
        });
        removed
    }

    /// Drops faults past their end; returns them.
    pub fn prune(&self, now: Instant) -> Vec<Arc<Active>> {
        if self.snapshot().iter().all(|f| f.live(now)) {
            return Vec::new();
        }
        let mut expired = Vec::new();
        self.update(|faults| {
            let (live, dead): (Vec<_>, Vec<_>) = faults.drain(..).partition(|f| f.live(now));
            *faults = live;
            expired = dead;
        });
        expired
    }

    /// Whether fault `id` still applies.
    pub fn is_live(&self, id: u64, now: Instant) -> bool {
        self.snapshot().iter().any(|f| f.id == id && f.live(now))
    }

    /// Waits until fault `id` no longer applies (removed, replaced or past
    /// its end).
    pub async fn until_gone(&self, id: u64) {
        let mut changes = self.subscribe();
        loop {
            let now = Instant::now();
            let Some(ends) = self
                .snapshot()
                .iter()
                .find(|f| f.id == id && f.live(now))
                .map(|f| f.ends)
            else {
                return;
            };
            tokio::select! {
                changed = changes.changed() => if changed.is_err() { return },
                _ = tokio::time::sleep_until(ends) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::fault::{Mode, parse_words};

    fn fault(words: &str) -> (FaultSpec, Fault) {
        let spec = parse_words(words).unwrap();
        let fault = Fault::new(&spec, Mode::Http).unwrap();
        (spec, fault)
    }

    #[test]
    fn a_ramp_rises_over_the_bound_and_faults_end_on_time() {
        let table = Table::default();
        let start = Instant::now();
        let (spec, f) = fault("abort probability=0%..30% for=10s");
        table.replace(vec![(spec, f)], Duration::from_secs(60), start);
        let active = table.snapshot()[0].clone();
        assert_eq!(active.probability(start), 0.0);
        assert!((active.probability(start + Duration::from_secs(5)) - 0.15).abs() < 1e-12);
        assert!(active.live(start + Duration::from_millis(9_999)));
        assert!(!active.live(start + Duration::from_secs(10)));
        let listed = active.listing(start + Duration::from_secs(4));
        assert_eq!(listed["remaining_seconds"], 6.0);
        assert_eq!(listed["until_next_phase"], false);
        assert_eq!(table.prune(start + Duration::from_secs(11)).len(), 1);
        assert!(table.snapshot().is_empty());
    }

    #[test]
    fn a_phase_s_fault_ramps_over_the_phase_and_lasts_until_replaced() {
        let table = Table::default();
        let start = Instant::now();
        let (spec, f) = fault("abort probability=0%..30%");
        table.replace(vec![(spec, f)], Duration::from_secs(10), start);
        let active = table.snapshot()[0].clone();
        assert!((active.probability(start + Duration::from_secs(5)) - 0.15).abs() < 1e-12);
        // A request of the phase sent late, past its scheduled end, still
        // meets the fault at its last probability.
        let late = start + Duration::from_millis(10_050);
        assert!(active.live(late));
        assert!((active.probability(late) - 0.30).abs() < 1e-12);
        assert!(table.prune(late).is_empty());
        let listed = active.listing(start + Duration::from_secs(4));
        assert_eq!(listed["remaining_seconds"], 6.0);
        assert_eq!(listed["until_next_phase"], true);
        let removed = table.replace(Vec::new(), Duration::from_secs(10), late);
        assert_eq!(removed.len(), 1);
        assert!(table.snapshot().is_empty());
    }

    #[test]
    fn draws_hit_the_probability_in_expectation() {
        let table = Table::default();
        let (spec, f) = fault("abort probability=25%");
        let active = table.add(spec, f, Duration::from_secs(60));
        let now = Instant::now();
        let n = 40_000;
        let hits = (0..n).filter(|_| active.draw(&table.rng, now)).count();
        // Binomial(40000, 0.25): sigma = 86.6; 5 sigma.
        assert!((9_567..=10_433).contains(&hits), "{hits}");
        assert_eq!(active.matched.load(Ordering::Relaxed), n);
        assert_eq!(active.injected.load(Ordering::Relaxed), hits as u64);
        assert!(table.remove(active.id).is_some());
        assert!(table.remove(active.id).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn until_gone_returns_when_the_fault_is_removed_or_ends() {
        let table = Arc::new(Table::default());
        let (spec, f) = fault("hang");
        let a = table.add(spec.clone(), f.clone(), Duration::from_secs(30));
        let b = table.add(spec, f, Duration::from_secs(5));
        let t = table.clone();
        let a_id = a.id;
        let waiting = tokio::spawn(async move { t.until_gone(a_id).await });
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!waiting.is_finished());
        table.remove(a_id);
        waiting.await.unwrap();
        let started = tokio::time::Instant::now();
        table.until_gone(b.id).await;
        assert!(started.elapsed() >= Duration::from_secs(3));
    }
}
