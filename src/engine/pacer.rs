//! Hands out requests to connections: which endpoint, and (open model) when it
//! is due. One atomic increment per request is the only shared state; the due
//! time and the endpoint are pure functions of the request's index, so every
//! connection on every thread agrees on the schedule without talking.
//!
//! A connection claims the next request only when it is free. In the open
//! model a free connection claims the next due request and waits for its time;
//! when every connection is busy, the due request waits for the first one to
//! free up, and that wait is part of its latency.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::plan::{Arrivals, Model, Share};

/// A claimed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket {
    /// Which endpoint to send.
    pub endpoint: usize,
    /// When it is due (open model); None means "now" (closed model).
    pub due: Option<Instant>,
}

/// Deals out requests until a stop condition is met.
#[derive(Debug)]
pub(crate) struct Pacer {
    next: AtomicU64,
    max_requests: Option<u64>,
    deadline: Option<Instant>,
    start: Instant,
    arrivals: Option<Arrivals>,
    mix: Vec<u16>,
}

impl Pacer {
    /// A pacer for a phase starting at `start` that sends `mix`.
    pub(crate) fn new(
        model: &Model,
        mix: &[Share],
        max_requests: Option<u64>,
        duration: Option<Duration>,
        start: Instant,
    ) -> Pacer {
        Pacer {
            next: AtomicU64::new(0),
            max_requests,
            deadline: duration.map(|d| start + d),
            start,
            arrivals: match model {
                Model::Closed => None,
                Model::Open(arrivals) => Some(arrivals.clone()),
            },
            mix: weighted_order(&mix.iter().map(|s| s.weight).collect::<Vec<_>>())
                .into_iter()
                .map(|slot| mix[usize::from(slot)].endpoint as u16)
                .collect(),
        }
    }

    /// Claims the next request, or None when the run has no more to send.
    pub(crate) fn claim(&self, now: Instant) -> Option<Ticket> {
        if self.deadline.is_some_and(|deadline| now >= deadline) {
            return None;
        }
        let index = self.next.fetch_add(1, Ordering::Relaxed);
        if self.max_requests.is_some_and(|max| index >= max) {
            return None;
        }
        let due = match &self.arrivals {
            None => None,
            Some(arrivals) => {
                let due = self.start + arrivals.due(index)?;
                if self.deadline.is_some_and(|deadline| due >= deadline) {
                    return None;
                }
                Some(due)
            }
        };
        let endpoint = usize::from(self.mix[(index % self.mix.len() as u64) as usize]);
        Some(Ticket { endpoint, due })
    }

    /// The open model's schedule, if any.
    pub(crate) fn arrivals(&self) -> Option<&Arrivals> {
        self.arrivals.as_ref()
    }

    /// When each step of a schedule of several begins (see
    /// [`Arrivals::boundaries`]); empty for one step and the closed model.
    pub(crate) fn step_boundaries(&self) -> Vec<Instant> {
        self.arrivals.as_ref().map_or_else(Vec::new, |arrivals| {
            arrivals
                .boundaries()
                .into_iter()
                .map(|offset| self.start + offset)
                .collect()
        })
    }

    /// When sending stops because of `duration`.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }
}

/// A cycle of indexes into `weights` in which each appears in proportion
/// to its weight, spread out evenly (nginx's smooth weighted round robin), so
/// that any window of requests carries the mix, not just the whole run.
fn weighted_order(weights: &[u32]) -> Vec<u16> {
    let divisor = weights.iter().copied().fold(0, gcd).max(1);
    let weights: Vec<i64> = weights.iter().map(|w| i64::from(w / divisor)).collect();
    let total: i64 = weights.iter().sum::<i64>().max(1);
    let mut current = vec![0i64; weights.len()];
    let mut order = Vec::with_capacity(total as usize);
    for _ in 0..total {
        for (c, w) in current.iter_mut().zip(&weights) {
            *c += w;
        }
        let (best, _) = current
            .iter()
            .enumerate()
            .max_by_key(|(i, c)| (**c, std::cmp::Reverse(*i)))
            .expect("at least one endpoint");
        current[best] -= total;
        order.push(best as u16);
    }
    order
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Rate;

    #[test]
    fn weights_are_spread_evenly() {
        assert_eq!(weighted_order(&[1]), vec![0]);
        assert_eq!(
            weighted_order(&[90, 10]),
            vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 0]
        );
        assert_eq!(weighted_order(&[2, 1]), vec![0, 1, 0]);
    }

    fn endpoints() -> Vec<Share> {
        vec![Share {
            endpoint: 0,
            weight: 1,
        }]
    }

    #[test]
    fn a_phase_sends_only_its_mix() {
        // Endpoint 1 is left out; 2 and 4 are sent 1:2.
        let mix = [
            Share {
                endpoint: 4,
                weight: 2,
            },
            Share {
                endpoint: 2,
                weight: 1,
            },
        ];
        let pacer = Pacer::new(&Model::Closed, &mix, Some(6), None, Instant::now());
        let now = Instant::now();
        let sent: Vec<usize> = std::iter::from_fn(|| pacer.claim(now))
            .map(|t| t.endpoint)
            .collect();
        assert_eq!(sent, vec![4, 2, 4, 4, 2, 4]);
    }

    #[test]
    fn closed_model_stops_at_max_requests() {
        let pacer = Pacer::new(&Model::Closed, &endpoints(), Some(3), None, Instant::now());
        let now = Instant::now();
        assert!((0..3).all(|_| pacer.claim(now)
            == Some(Ticket {
                endpoint: 0,
                due: None
            })));
        assert_eq!(pacer.claim(now), None);
    }

    #[test]
    fn open_model_stops_at_the_deadline() {
        let start = Instant::now();
        let rate = Rate::per_second(10.0).unwrap();
        let model = Model::Open(Arrivals::constant(rate, Duration::from_secs(60)));
        let pacer = Pacer::new(
            &model,
            &endpoints(),
            None,
            Some(Duration::from_secs(1)),
            start,
        );
        let dues: Vec<_> = std::iter::from_fn(|| pacer.claim(start)).collect();
        assert_eq!(dues.len(), 10);
        assert_eq!(dues[3].due, Some(start + Duration::from_millis(300)));
        assert_eq!(pacer.claim(start + Duration::from_secs(1)), None);
    }
}
