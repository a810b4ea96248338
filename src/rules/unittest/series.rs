//! promtool's series notation (`0+10x100`, `1x5`, `_`, `_x3`, `stale`),
//! kept as runs rather than expanded: `0x10000000` (zero, then ten million
//! more zeros: the `x` is the notation's, not a hex prefix) is one run in a
//! few bytes, and a [`Cursor`] hands out only the
//! samples up to the time a test needs, so memory is bounded by the samples
//! the evaluation reads, not by the counts written. Values within a run are
//! made by repeated addition, as Prometheus's parser makes them, so
//! `0.1+0.1x2` gives `0.1, 0.2, 0.30000000000000004`.

use crate::metrics::store::stale;

/// One token of the notation.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Run {
    /// `_` or `_xN`: positions with no sample.
    Gap(u64),
    /// `a`, `axN` or `a+bxN`: `count` values from `start`, `step` apart.
    Values { start: f64, step: f64, count: u64 },
}

/// A series' values, by position (position `i` is at `start + i × interval`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Values {
    runs: Vec<Run>,
}

impl Values {
    /// Reads the notation; an error names the token.
    pub fn parse(text: &str) -> Result<Values, String> {
        let mut runs = Vec::new();
        for token in text.split_whitespace() {
            runs.push(run(token)?);
        }
        Ok(Values { runs })
    }

    /// How many positions the values span (gaps included).
    pub fn len(&self) -> u64 {
        self.runs
            .iter()
            .map(|r| match r {
                Run::Gap(n) => *n,
                Run::Values { count, .. } => *count,
            })
            .fold(0u64, u64::saturating_add)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads the values in position order.
    pub fn cursor(&self) -> Cursor<'_> {
        Cursor {
            runs: &self.runs,
            run: 0,
            done_in_run: 0,
            position: 0,
            value: None,
        }
    }
}

/// Where a reader is in a [`Values`].
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    runs: &'a [Run],
    run: usize,
    done_in_run: u64,
    position: u64,
    /// The next value of the current run (repeated addition carries on).
    value: Option<f64>,
}

impl Cursor<'_> {
    /// The next sample at a position `<= last`: its position and value.
    /// Gaps are skipped in one step, whatever their length.
    pub fn next_until(&mut self, last: u64) -> Option<(u64, f64)> {
        loop {
            let run = *self.runs.get(self.run)?;
            match run {
                Run::Gap(n) => {
                    let left = n - self.done_in_run;
                    if self.position.saturating_add(left) > last.saturating_add(1) {
                        // Only part of the gap is behind `last`; stay in it.
                        let skip = last.saturating_add(1) - self.position;
                        self.done_in_run += skip;
                        self.position += skip;
                        return None;
                    }
                    self.position += left;
                    self.next_run();
                }
                Run::Values { start, step, count } => {
                    if self.done_in_run >= count {
                        self.next_run();
                        continue;
                    }
                    if self.position > last {
                        return None;
                    }
                    let v = self.value.unwrap_or(start);
                    let at = self.position;
                    self.value = Some(v + step);
                    self.done_in_run += 1;
                    self.position += 1;
                    return Some((at, v));
                }
            }
        }
    }

    fn next_run(&mut self) {
        self.run += 1;
        self.done_in_run = 0;
        self.value = None;
    }
}

fn run(token: &str) -> Result<Run, String> {
    if token == "_" {
        return Ok(Run::Gap(1));
    }
    if token == "stale" {
        return Ok(Run::Values {
            start: stale(),
            step: 0.0,
            count: 1,
        });
    }
    let Some((head, times)) = token.rsplit_once('x') else {
        return Ok(Run::Values {
            start: number(token)?,
            step: 0.0,
            count: 1,
        });
    };
    let times: u64 = times
        .parse()
        .map_err(|_| format!("`{token}`: expected a count after `x`"))?;
    if head == "_" {
        return Ok(Run::Gap(times));
    }
    // `a+b`, `a-b` (the sign of `a` and exponents are not the operator).
    let split = head
        .char_indices()
        .skip(1)
        .find(|(i, c)| (*c == '+' || *c == '-') && !matches!(head.as_bytes()[i - 1], b'e' | b'E'))
        .map(|(i, _)| i);
    let (start, step) = match split {
        Some(i) => (number(&head[..i])?, number(&head[i..])?),
        None => (number(head)?, 0.0),
    };
    // `axN` is N + 1 values: the first, then N more.
    Ok(Run::Values {
        start,
        step,
        count: times.saturating_add(1),
    })
}

fn number(text: &str) -> Result<f64, String> {
    let unsigned = text.trim_start_matches(['+', '-']);
    let v = match unsigned {
        "Inf" | "inf" => f64::INFINITY,
        "NaN" | "nan" => f64::NAN,
        _ => unsigned
            .parse::<f64>()
            .map_err(|_| format!("`{text}` is not a number"))?,
    };
    Ok(if text.starts_with('-') { -v } else { v })
}

/// Every value by position (None: no sample there), for tests and for
/// small inputs; refuses more than `limit` positions.
pub fn expand(text: &str, limit: u64) -> Result<Vec<Option<f64>>, String> {
    let values = Values::parse(text)?;
    if values.len() > limit {
        return Err(format!("more than {limit} values"));
    }
    let mut out = vec![None; values.len() as usize];
    let mut cursor = values.cursor();
    while let Some((at, v)) = cursor.next_until(u64::MAX) {
        out[at as usize] = Some(v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notation_as_prometheus_expands_it() {
        let v = |text: &str| expand(text, 1000).unwrap();
        assert_eq!(v("0+10x3"), [Some(0.0), Some(10.0), Some(20.0), Some(30.0)]);
        assert_eq!(
            v("1x2 _ 5"),
            [Some(1.0), Some(1.0), Some(1.0), None, Some(5.0)]
        );
        assert_eq!(v("_x2 -1-1x1"), [None, None, Some(-1.0), Some(-2.0)]);
        assert_eq!(v("1e3+1e2x1"), [Some(1000.0), Some(1100.0)]);
        assert_eq!(
            v("0.1+0.1x2"),
            [Some(0.1), Some(0.2), Some(0.30000000000000004)]
        );
        assert!(crate::metrics::store::is_stale(v("stale")[0].unwrap()));
        assert!(expand("1+x3", 10).is_err());
        assert!(expand("abc", 10).is_err());
    }

    #[test]
    fn a_huge_count_is_one_run_read_only_as_far_as_needed() {
        // `values: 0x10000000`: 0 and ten million more, not hex 2^28.
        let values = Values::parse("0x10000000").unwrap();
        assert_eq!(values.len(), 10_000_001);
        let mut cursor = values.cursor();
        let mut read = Vec::new();
        while let Some(sample) = cursor.next_until(2) {
            read.push(sample);
        }
        assert_eq!(read, [(0, 0.0), (1, 0.0), (2, 0.0)]);
        // Reading on carries on where it stopped.
        assert_eq!(cursor.next_until(3), Some((3, 0.0)));
        assert_eq!(cursor.next_until(3), None);
    }

    #[test]
    fn a_long_gap_is_skipped_in_one_step() {
        let values = Values::parse("1 _x100000000000 2").unwrap();
        let mut cursor = values.cursor();
        assert_eq!(cursor.next_until(10), Some((0, 1.0)));
        assert_eq!(cursor.next_until(10), None);
        assert_eq!(cursor.next_until(50), None);
        assert_eq!(cursor.next_until(u64::MAX), Some((100_000_000_001, 2.0)));
        assert_eq!(cursor.next_until(u64::MAX), None);
    }
}
