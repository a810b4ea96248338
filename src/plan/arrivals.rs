//! Open-model arrival schedules: when the k-th request is due. A schedule is a
//! sequence of segments, each at a constant rate or ramping linearly between
//! two rates, so one type serves `-q 200`, a ramp 10/s → 500/s and steps.
//!
//! The k-th due time is computed directly from k (no state), which lets any
//! connection on any thread claim the next request with one atomic increment.

use std::time::Duration;

use crate::units::Rate;

/// A stretch of the schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// How long the segment lasts.
    pub duration: Duration,
    /// Rate at the start of the segment.
    pub from: Rate,
    /// Rate at its end (equal to `from` for a constant rate).
    pub to: Rate,
}

impl Segment {
    /// A constant rate for `duration`.
    pub fn constant(rate: Rate, duration: Duration) -> Segment {
        Segment {
            duration,
            from: rate,
            to: rate,
        }
    }

    /// A linear ramp from `from` to `to` over `duration`.
    pub fn ramp(from: Rate, to: Rate, duration: Duration) -> Segment {
        Segment { duration, from, to }
    }

    /// Expected arrivals over the whole segment (fractional).
    fn arrivals(&self) -> f64 {
        (self.from.as_per_second() + self.to.as_per_second()) / 2.0 * self.duration.as_secs_f64()
    }

    /// Expected arrivals in the first `t` seconds of the segment.
    fn arrivals_until(&self, t: f64) -> f64 {
        let a = self.from.as_per_second();
        let slope = self.slope();
        a * t + slope * t * t / 2.0
    }

    /// Seconds into the segment at which the cumulative count reaches `n`.
    fn time_of(&self, n: f64) -> f64 {
        let a = self.from.as_per_second();
        let slope = self.slope();
        if slope == 0.0 {
            return n / a;
        }
        // Solve a·t + slope·t²/2 = n. This form of the root stays accurate when
        // slope is tiny or negative (a decreasing ramp).
        let discriminant = (a * a + 2.0 * slope * n).max(0.0);
        2.0 * n / (a + discriminant.sqrt())
    }

    fn slope(&self) -> f64 {
        let secs = self.duration.as_secs_f64();
        if secs == 0.0 {
            0.0
        } else {
            (self.to.as_per_second() - self.from.as_per_second()) / secs
        }
    }
}

/// A schedule of arrivals with uniform spacing.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrivals {
    segments: Vec<Segment>,
    /// Cumulative arrivals at the start of each segment (len = segments + 1).
    counts_before: Vec<f64>,
    /// Start time of each segment, seconds (len = segments + 1).
    starts: Vec<f64>,
}

impl Arrivals {
    /// A schedule made of `segments`, back to back.
    pub fn new(segments: Vec<Segment>) -> Arrivals {
        let mut counts_before = vec![0.0];
        let mut starts = vec![0.0];
        for segment in &segments {
            counts_before.push(counts_before.last().unwrap() + segment.arrivals());
            starts.push(starts.last().unwrap() + segment.duration.as_secs_f64());
        }
        Arrivals {
            segments,
            counts_before,
            starts,
        }
    }

    /// A constant rate for `duration`.
    pub fn constant(rate: Rate, duration: Duration) -> Arrivals {
        Arrivals::new(vec![Segment::constant(rate, duration)])
    }

    /// When request `k` (from 0) is due, from the start of the schedule; None
    /// once the schedule has no more arrivals.
    pub fn due(&self, k: u64) -> Option<Duration> {
        let n = k as f64;
        // The segment whose cumulative range holds n.
        let index = self.counts_before.partition_point(|&count| count <= n);
        if index == 0 || index > self.segments.len() {
            return None;
        }
        let segment = &self.segments[index - 1];
        let into = segment.time_of(n - self.counts_before[index - 1]);
        let secs = self.starts[index - 1] + into.min(segment.duration.as_secs_f64());
        Some(Duration::from_secs_f64(secs))
    }

    /// Number of requests due strictly before `t`.
    pub fn due_before(&self, t: Duration) -> u64 {
        let secs = t.as_secs_f64();
        let index = self.starts.partition_point(|&start| start <= secs);
        let expected = if index > self.segments.len() {
            *self.counts_before.last().unwrap()
        } else {
            let segment = &self.segments[index - 1];
            self.counts_before[index - 1] + segment.arrivals_until(secs - self.starts[index - 1])
        };
        // Request k is due before t exactly when k < expected.
        expected.ceil().max(0.0) as u64
    }

    /// The segments, in order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// When each segment after the first begins, from the start of the
    /// schedule: empty for a schedule of one segment. Computed as [`due`]
    /// computes due times, so the first request of a segment is due
    /// exactly at its boundary, never a rounding error before it.
    ///
    /// [`due`]: Arrivals::due
    pub fn boundaries(&self) -> Vec<Duration> {
        self.starts[1..self.segments.len().max(1)]
            .iter()
            .map(|&secs| Duration::from_secs_f64(secs))
            .collect()
    }

    /// Total length of the schedule.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(*self.starts.last().unwrap())
    }

    /// Whether the rate changes over the schedule (a ramp, or steps).
    pub fn varies(&self) -> bool {
        let first = self.segments.first().map(|s| s.from);
        self.segments
            .iter()
            .any(|s| s.from != s.to || Some(s.from) != first)
    }

    /// Mean rate over the schedule.
    pub fn mean_rate(&self) -> Option<Rate> {
        let secs = self.duration().as_secs_f64();
        Rate::per_second(*self.counts_before.last().unwrap() / secs).ok()
    }

    /// The same schedule with every rate divided by `parts` (one shard's
    /// share of the load).
    pub fn divided(&self, parts: u32) -> Arrivals {
        let share = |rate: Rate| {
            Rate::per_second(rate.as_per_second() / f64::from(parts.max(1))).unwrap_or(rate)
        };
        Arrivals::new(
            self.segments
                .iter()
                .map(|s| Segment::ramp(share(s.from), share(s.to), s.duration))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(per_second: f64) -> Rate {
        Rate::per_second(per_second).unwrap()
    }

    #[test]
    fn constant_rate_spaces_requests_evenly() {
        let arrivals = Arrivals::constant(rate(100.0), Duration::from_secs(2));
        assert_eq!(arrivals.due(0), Some(Duration::ZERO));
        assert_eq!(arrivals.due(1), Some(Duration::from_millis(10)));
        assert_eq!(arrivals.due(150), Some(Duration::from_millis(1500)));
        assert_eq!(arrivals.due(199), Some(Duration::from_millis(1990)));
        assert_eq!(arrivals.due(200), None);
        assert_eq!(arrivals.due_before(Duration::from_secs(2)), 200);
        assert_eq!(arrivals.due_before(Duration::from_millis(1005)), 101);
        assert_eq!(arrivals.due_before(Duration::from_secs(60)), 200);
    }

    #[test]
    fn a_ramp_accelerates_linearly() {
        // (almost) 0 → 200/s over 10 s: N(t) = 10 t², 1000 arrivals in all
        // (plus a 5e-9 sliver from the tiny start rate).
        let arrivals = Arrivals::new(vec![Segment::ramp(
            rate(1e-9),
            rate(200.0),
            Duration::from_secs(10),
        )]);
        let at = |k| arrivals.due(k).unwrap().as_secs_f64();
        assert!((at(10) - 1.0).abs() < 1e-3, "{}", at(10));
        assert!((at(250) - 5.0).abs() < 1e-3, "{}", at(250));
        assert!((at(999) - 9.995).abs() < 1e-3, "{}", at(999));
        assert_eq!(arrivals.due(1001), None);
        assert!((250..=251).contains(&arrivals.due_before(Duration::from_secs(5))));
    }

    #[test]
    fn a_decreasing_ramp_and_steps_chain_up() {
        let arrivals = Arrivals::new(vec![
            Segment::constant(rate(10.0), Duration::from_secs(1)),
            Segment::ramp(rate(100.0), rate(50.0), Duration::from_secs(2)),
            Segment::constant(rate(1.0), Duration::from_secs(5)),
        ]);
        // 10 + 150 + 5 arrivals.
        assert_eq!(arrivals.due_before(arrivals.duration()), 165);
        assert_eq!(arrivals.due(10), Some(Duration::from_secs(1)));
        let mut previous = Duration::ZERO;
        for k in 0..165 {
            let due = arrivals.due(k).unwrap();
            assert!(due >= previous, "due times never go backwards (k={k})");
            previous = due;
        }
        assert_eq!(arrivals.due(160), Some(Duration::from_secs(3)));
        assert_eq!(arrivals.due(165), None);
        assert!((arrivals.mean_rate().unwrap().as_per_second() - 165.0 / 8.0).abs() < 1e-9);
        assert_eq!(
            arrivals.boundaries(),
            vec![Duration::from_secs(1), Duration::from_secs(3)]
        );
    }

    #[test]
    fn a_step_s_first_request_is_due_on_its_boundary() {
        // Tenths of a second do not add up exactly in binary (0.1 + 0.2 is
        // 0.30000000000000004): the boundary is the same sum as the due time.
        let step = |r: f64| Segment::constant(rate(r), Duration::from_millis(100));
        let arrivals = Arrivals::new(vec![step(10.0), step(20.0), step(30.0), step(40.0)]);
        let boundaries = arrivals.boundaries();
        assert_eq!(boundaries.len(), 3);
        // 1, 2 and 3 requests in the first three steps.
        assert_eq!(arrivals.due(1), Some(boundaries[0]));
        assert_eq!(arrivals.due(3), Some(boundaries[1]));
        assert_eq!(arrivals.due(6), Some(boundaries[2]));
        assert!(arrivals.due(5).unwrap() < boundaries[2]);
        assert!(
            Arrivals::constant(rate(5.0), Duration::from_secs(1))
                .boundaries()
                .is_empty()
        );
        assert!(Arrivals::new(Vec::new()).boundaries().is_empty());
    }
}
