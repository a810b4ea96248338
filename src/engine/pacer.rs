//! Hands out requests to connections: which endpoint, and (open model) when it
//! is due. One atomic increment per request is the only shared state; the due
//! time and the endpoint are pure functions of the request's index, so every
//! connection on every thread agrees on the schedule without talking.
//!
//! Shard i of N (`--shard i/N`) sends positions i-1, i-1+N, i-1+2N, … of
//! the phase's weighted cycle, so the N shards together send exactly what
//! one run would (a counted phase: each position once; a timed one: the
//! cycle's shares in the long run), not N copies of its first requests.
//!
//! A connection claims the next request only when it is free. In the open
//! model a free connection claims the next due request and waits for its time;
//! when every connection is busy, the due request waits for the first one to
//! free up, and that wait is part of its latency.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::plan::{Arrivals, Model, Sendable, Share};
use crate::scenario::Shard;

/// A claimed request (or flow iteration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket {
    /// What to send.
    pub sends: Sendable,
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
    mix: Vec<Sendable>,
    /// This shard's first position in the cycle, and the step between its
    /// positions (0 and 1 without `--shard`), both reduced modulo the
    /// cycle's length once, so a claim reduces only the request's index.
    first: u64,
    stride: u64,
}

impl Pacer {
    /// A pacer for a phase starting at `start` that sends `mix` (this
    /// shard's positions of it).
    pub(crate) fn new(
        model: &Model,
        mix: &[Share],
        shard: Option<Shard>,
        max_requests: Option<u64>,
        duration: Option<Duration>,
        start: Instant,
    ) -> Pacer {
        let order: Vec<Sendable> =
            weighted_order(&mix.iter().map(|s| s.weight).collect::<Vec<_>>())
                .into_iter()
                .map(|slot| mix[usize::from(slot)].sends)
                .collect();
        let cycle = (order.len() as u64).max(1);
        Pacer {
            next: AtomicU64::new(0),
            max_requests,
            deadline: duration.map(|d| start + d),
            start,
            arrivals: match model {
                Model::Closed => None,
                Model::Open(arrivals) => Some(arrivals.clone()),
            },
            mix: order,
            first: shard.map_or(0, |s| u64::from(s.index - 1)) % cycle,
            stride: shard.map_or(1, |s| u64::from(s.count)) % cycle,
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
        let sends = self.mix[self.position(index)];
        Some(Ticket { sends, due })
    }

    /// Where in the cycle this shard's request `index` falls: position
    /// `first + index * stride`, reduced so it cannot overflow.
    fn position(&self, index: u64) -> usize {
        let len = self.mix.len() as u64;
        ((self.first + (index % len) * self.stride) % len) as usize
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
            sends: Sendable::Request(0),
            weight: 1,
        }]
    }

    #[test]
    fn a_phase_sends_only_its_mix() {
        // Endpoint 1 is left out; 2 and 4 are sent 1:2.
        let mix = [
            Share {
                sends: Sendable::Request(4),
                weight: 2,
            },
            Share {
                sends: Sendable::Flow(2),
                weight: 1,
            },
        ];
        let pacer = Pacer::new(&Model::Closed, &mix, None, Some(6), None, Instant::now());
        let now = Instant::now();
        let sent: Vec<Sendable> = std::iter::from_fn(|| pacer.claim(now))
            .map(|t| t.sends)
            .collect();
        let (r, f) = (Sendable::Request(4), Sendable::Flow(2));
        assert_eq!(sent, vec![r, f, r, r, f, r]);
    }

    #[test]
    fn closed_model_stops_at_max_requests() {
        let pacer = Pacer::new(
            &Model::Closed,
            &endpoints(),
            None,
            Some(3),
            None,
            Instant::now(),
        );
        let now = Instant::now();
        assert!((0..3).all(|_| pacer.claim(now)
            == Some(Ticket {
                sends: Sendable::Request(0),
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
            None,
            Some(Duration::from_secs(1)),
            start,
        );
        let dues: Vec<_> = std::iter::from_fn(|| pacer.claim(start)).collect();
        assert_eq!(dues.len(), 10);
        assert_eq!(dues[3].due, Some(start + Duration::from_millis(300)));
        assert_eq!(pacer.claim(start + Duration::from_secs(1)), None);
    }

    /// What a pacer hands out until it stops, counted per endpoint.
    fn counts(pacer: &Pacer, now: Instant) -> Vec<u64> {
        let mut counts = vec![0u64; 8];
        for ticket in std::iter::from_fn(|| pacer.claim(now)).take(100_000) {
            let Sendable::Request(endpoint) = ticket.sends else {
                panic!("only requests here");
            };
            counts[endpoint] += 1;
        }
        counts
    }

    fn shares(weights: &[u32]) -> Vec<Share> {
        weights
            .iter()
            .enumerate()
            .map(|(endpoint, &weight)| Share {
                sends: Sendable::Request(endpoint),
                weight,
            })
            .collect()
    }

    #[test]
    fn shards_of_a_counted_phase_send_what_one_run_sends() {
        let now = Instant::now();
        for weights in [
            &[1, 3][..],
            &[90, 10],
            &[2, 1],
            &[1, 1, 1],
            &[5, 3, 2],
            &[7],
        ] {
            let mix = shares(weights);
            for requests in [1u64, 2, 7, 8, 10, 23, 100] {
                let one = Pacer::new(&Model::Closed, &mix, None, Some(requests), None, now);
                let whole = counts(&one, now);
                for count in 1..=5u32 {
                    if u64::from(count) > requests {
                        continue;
                    }
                    let mut merged = vec![0u64; 8];
                    for index in 1..=count {
                        let shard = Shard { index, count };
                        let part = shard.part(requests);
                        let pacer =
                            Pacer::new(&Model::Closed, &mix, Some(shard), Some(part), None, now);
                        for (m, c) in merged.iter_mut().zip(counts(&pacer, now)) {
                            *m += c;
                        }
                    }
                    assert_eq!(
                        merged, whole,
                        "weights {weights:?}, {requests} requests, {count} shards"
                    );
                }
            }
        }
        // The brief's case: 8 requests 1:3 send a:2 b:6, over 4 shards too
        // (each shard starting the cycle at 0 sent a:4 b:4).
        assert_eq!(
            counts(
                &Pacer::new(&Model::Closed, &shares(&[1, 3]), None, Some(8), None, now),
                now
            )[..2],
            [2, 6]
        );
    }

    #[test]
    fn shards_of_a_timed_phase_keep_the_shares_in_the_long_run() {
        // Shards of a timed phase each send about as many; whatever each
        // sends, the cycle's shares hold over all of them within one cycle
        // per shard.
        let now = Instant::now();
        for weights in [&[1, 3][..], &[90, 10], &[5, 3, 2]] {
            let mix = shares(weights);
            let cycle: u64 = weights.iter().map(|&w| u64::from(w)).sum();
            for count in [2u32, 3, 4, 7] {
                for sent in [997u64, 5000] {
                    let mut merged = [0u64; 8];
                    for index in 1..=count {
                        let shard = Shard { index, count };
                        let pacer =
                            Pacer::new(&Model::Closed, &mix, Some(shard), Some(sent), None, now);
                        for (m, c) in merged.iter_mut().zip(counts(&pacer, now)) {
                            *m += c;
                        }
                    }
                    let total = sent * u64::from(count);
                    for (endpoint, &w) in weights.iter().enumerate() {
                        let expected = total as f64 * f64::from(w) / cycle as f64;
                        let off = (merged[endpoint] as f64 - expected).abs();
                        assert!(
                            off <= f64::from(count) * cycle as f64,
                            "weights {weights:?}, {count} shards of {sent}: endpoint {endpoint} sent {}, expected {expected}",
                            merged[endpoint]
                        );
                    }
                }
            }
        }
    }
}
