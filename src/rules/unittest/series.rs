//! promtool's series notation (`0+10x100`, `1x5`, `_`, `_x3`, `stale`, and
//! native histograms: `{{schema:0 sum:5 count:4 buckets:[1 2 1]}}`,
//! `{{...}}x3`, `{{a}}+{{b}}x3`), kept as runs rather than expanded:
//! `0x10000000` (zero, then ten million more zeros: the `x` is the
//! notation's, not a hex prefix) is one run in a few bytes, and a
//! [`Cursor`] hands out only the samples up to the time a test needs, so
//! memory is bounded by the samples the evaluation reads, not by the counts
//! written. Values within a run are made by repeated addition, as
//! Prometheus's parser makes them, so `0.1+0.1x2` gives `0.1, 0.2,
//! 0.30000000000000004`, and `{{a}}+{{b}}x2` gives a, a+b, a+b+b.

use std::sync::Arc;

use crate::metrics::histogram::FloatHistogram;
use crate::metrics::histogram::notation;
use crate::metrics::histogram::validate::{Invalid, validate};
use crate::metrics::store::stale;

/// Why a series' values could not be read: what, and the byte offset in
/// the values' text where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValuesError {
    pub message: String,
    pub offset: usize,
}

/// A plain token of the notation that does not read (histograms' errors
/// come from their own notation).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum TokenError {
    #[error("`{token}`: expected a count after `x`")]
    NoCount { token: String },
    #[error("`{text}` is not a number")]
    NotANumber { text: String },
}

/// Why [`expand`] refused a series' values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpandError {
    #[error(transparent)]
    Values(#[from] ValuesError),
    #[error("more than {limit} values")]
    TooMany { limit: u64 },
    #[error("a histogram is not a float")]
    Histogram,
}

/// One sample of a series.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Float(f64),
    Histogram(FloatHistogram),
}

/// One token of the notation.
#[derive(Debug, Clone, PartialEq)]
enum Run {
    /// `_` or `_xN`: positions with no sample.
    Gap(u64),
    /// `a`, `axN` or `a+bxN`: `count` values from `start`, `step` apart.
    Values { start: f64, step: f64, count: u64 },
    /// `{{a}}`, `{{a}}xN`, `{{a}}+{{b}}xN` or `{{a}}-{{b}}xN`: `count`
    /// histograms from `start`, `step` added (or subtracted) each time.
    Histograms {
        start: Arc<FloatHistogram>,
        step: Option<Arc<Step>>,
        count: u64,
    },
}

/// What a histogram run adds at each repetition.
#[derive(Debug, Clone, PartialEq)]
struct Step {
    histogram: FloatHistogram,
    subtract: bool,
}

/// A series' values, by position (position `i` is at `start + i × interval`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Values {
    runs: Vec<Run>,
}

impl Values {
    /// Reads the notation; an error names the token and where it starts.
    pub fn parse(text: &str) -> Result<Values, ValuesError> {
        let mut runs = Vec::new();
        let mut at = 0;
        while let Some(skip) = text[at..].find(|c: char| !c.is_whitespace()) {
            at += skip;
            let rest = &text[at..];
            if rest.starts_with("{{") {
                let (run, used) = histograms(rest, at)?;
                runs.push(run);
                at += used;
                if let Some(c) = text[at..].chars().next()
                    && !c.is_whitespace()
                {
                    return Err(ValuesError {
                        message: format!(
                            "`{c}` after a histogram: expected a blank, `x` and a count, or `+`/`-` and a second histogram"
                        ),
                        offset: at,
                    });
                }
                continue;
            }
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            runs.push(run(&rest[..end]).map_err(|e| ValuesError {
                message: e.to_string(),
                offset: at,
            })?);
            at += end;
        }
        Ok(Values { runs })
    }

    /// How many positions the values span (gaps included).
    pub fn len(&self) -> u64 {
        self.runs
            .iter()
            .map(|r| match r {
                Run::Gap(n) => *n,
                Run::Values { count, .. } | Run::Histograms { count, .. } => *count,
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
            histogram: None,
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
    /// The same for a run of histograms.
    histogram: Option<FloatHistogram>,
}

impl Cursor<'_> {
    /// The next sample at a position `<= last`: its position and value.
    /// Gaps are skipped in one step, whatever their length.
    pub fn next_until(&mut self, last: u64) -> Option<(u64, Item)> {
        loop {
            let run = self.runs.get(self.run)?;
            match run {
                &Run::Gap(n) => {
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
                &Run::Values { start, step, count } => {
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
                    return Some((at, Item::Float(v)));
                }
                Run::Histograms { start, step, count } => {
                    if self.done_in_run >= *count {
                        self.next_run();
                        continue;
                    }
                    if self.position > last {
                        return None;
                    }
                    let h = match self.histogram.take() {
                        Some(h) => h,
                        None => (**start).clone(),
                    };
                    if let Some(step) = step
                        && self.done_in_run + 1 < *count
                    {
                        let mut next = h.clone();
                        // The first addition was tried when the run was
                        // read, and the schemas cannot change after it.
                        let _ = if step.subtract {
                            next.sub(&step.histogram)
                        } else {
                            next.add(&step.histogram)
                        };
                        self.histogram = Some(next);
                    } else {
                        self.histogram = Some(h.clone());
                    }
                    let at = self.position;
                    self.done_in_run += 1;
                    self.position += 1;
                    return Some((at, Item::Histogram(h)));
                }
            }
        }
    }

    fn next_run(&mut self) {
        self.run += 1;
        self.done_in_run = 0;
        self.value = None;
        self.histogram = None;
    }
}

/// A run of histograms at the start of `text` (`base`: its offset in the
/// values, for errors), as Prometheus's series parser reads one, and the
/// bytes it took.
fn histograms(text: &str, base: usize) -> Result<(Run, usize), ValuesError> {
    let notation_error = |e: notation::NotationError| ValuesError {
        message: e.message,
        offset: e.offset,
    };
    let (start, mut used) = notation::histogram(text, base).map_err(notation_error)?;
    let invalid = |e: Invalid| ValuesError {
        message: e.to_string(),
        offset: base,
    };
    validate(&start.histogram).map_err(invalid)?;
    let rest = &text[used..];
    let (subtract, times_at) = match rest.as_bytes().first() {
        Some(b'x') => (None, used + 1),
        Some(sign @ (b'+' | b'-')) => {
            let (step, step_len) =
                notation::histogram(&text[used + 1..], base + used + 1).map_err(notation_error)?;
            used += 1 + step_len;
            if !text[used..].starts_with('x') {
                return Err(ValuesError {
                    message: "expected `x` and a count after the second histogram".into(),
                    offset: base + used,
                });
            }
            (Some((step.histogram, *sign == b'-')), used + 1)
        }
        _ => {
            let run = Run::Histograms {
                start: Arc::new(start.histogram),
                step: None,
                count: 1,
            };
            return Ok((run, used));
        }
    };
    let digits = text[times_at..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    let times: u64 = text[times_at..times_at + digits]
        .parse()
        .map_err(|_| ValuesError {
            message: "expected a count after `x`".into(),
            offset: base + times_at,
        })?;
    used = times_at + digits;
    let step = match subtract {
        None => None,
        Some((histogram, subtract)) => {
            // The schema check and the first addition, as Prometheus's
            // parser makes them; later additions cannot fail after it.
            let combine = |message: String| ValuesError {
                message: format!("error combining histograms: {message}"),
                offset: base,
            };
            if start.histogram.schema > histogram.schema {
                return Err(combine(format!(
                    "cannot merge from schema {} to {}",
                    histogram.schema, start.histogram.schema
                )));
            }
            let mut first = start.histogram.clone();
            let tried = if subtract {
                first.sub(&histogram)
            } else {
                first.add(&histogram)
            };
            tried.map_err(|e| combine(e.to_string()))?;
            // Prometheus validates every histogram it appends. After the
            // first addition the schema and bounds are fixed and each count
            // is affine in the number of steps, so the first and the last
            // histograms of the run are valid only if all are.
            if times >= 1 {
                validate(&first).map_err(invalid)?;
            }
            if times > 1 {
                let mut steps = histogram.clone();
                steps.mul(times as f64);
                let mut last = start.histogram.clone();
                let _ = if subtract {
                    last.sub(&steps)
                } else {
                    last.add(&steps)
                };
                validate(&last).map_err(invalid)?;
            }
            Some(Arc::new(Step {
                histogram,
                subtract,
            }))
        }
    };
    let run = Run::Histograms {
        start: Arc::new(start.histogram),
        step,
        count: times.saturating_add(1),
    };
    Ok((run, used))
}

fn run(token: &str) -> Result<Run, TokenError> {
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
    let times: u64 = times.parse().map_err(|_| TokenError::NoCount {
        token: token.to_string(),
    })?;
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

fn number(text: &str) -> Result<f64, TokenError> {
    let unsigned = text.trim_start_matches(['+', '-']);
    let v = match unsigned {
        "Inf" | "inf" => f64::INFINITY,
        "NaN" | "nan" => f64::NAN,
        _ => unsigned
            .parse::<f64>()
            .map_err(|_| TokenError::NotANumber {
                text: text.to_string(),
            })?,
    };
    Ok(if text.starts_with('-') { -v } else { v })
}

/// Every float value by position (None: no sample there), for tests and
/// for small inputs; refuses more than `limit` positions, and histograms.
pub fn expand(text: &str, limit: u64) -> Result<Vec<Option<f64>>, ExpandError> {
    let values = Values::parse(text)?;
    if values.len() > limit {
        return Err(ExpandError::TooMany { limit });
    }
    let mut out = vec![None; values.len() as usize];
    let mut cursor = values.cursor();
    while let Some((at, item)) = cursor.next_until(u64::MAX) {
        match item {
            Item::Float(v) => out[at as usize] = Some(v),
            Item::Histogram(_) => return Err(ExpandError::Histogram),
        }
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
        assert_eq!(
            expand("1 abc", 10).unwrap_err().to_string(),
            "`abc` is not a number"
        );
        assert_eq!(expand("1x3", 2), Err(ExpandError::TooMany { limit: 2 }));
        assert_eq!(
            expand("1 2x", 10).unwrap_err().to_string(),
            "`2x`: expected a count after `x`"
        );
        assert_eq!(expand("{{count:1 sum:1}}", 10), Err(ExpandError::Histogram));
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
        let f = Item::Float;
        assert_eq!(read, [(0, f(0.0)), (1, f(0.0)), (2, f(0.0))]);
        // Reading on carries on where it stopped.
        assert_eq!(cursor.next_until(3), Some((3, f(0.0))));
        assert_eq!(cursor.next_until(3), None);
    }

    #[test]
    fn a_long_gap_is_skipped_in_one_step() {
        let values = Values::parse("1 _x100000000000 2").unwrap();
        let mut cursor = values.cursor();
        assert_eq!(cursor.next_until(10), Some((0, Item::Float(1.0))));
        assert_eq!(cursor.next_until(10), None);
        assert_eq!(cursor.next_until(50), None);
        assert_eq!(
            cursor.next_until(u64::MAX),
            Some((100_000_000_001, Item::Float(2.0)))
        );
        assert_eq!(cursor.next_until(u64::MAX), None);
    }

    fn histograms(text: &str) -> Vec<(u64, FloatHistogram)> {
        let values = Values::parse(text).unwrap();
        let mut cursor = values.cursor();
        let mut out = Vec::new();
        while let Some((at, item)) = cursor.next_until(u64::MAX) {
            match item {
                Item::Histogram(h) => out.push((at, h)),
                Item::Float(v) => panic!("a float {v} in {text}"),
            }
        }
        out
    }

    #[test]
    fn histogram_runs_repeat_and_add_lazily() {
        let read = histograms("{{sum:3 count:2 buckets:[2]}}x2");
        assert_eq!(read.len(), 3);
        assert!(read.iter().all(|(_, h)| h.count == 2.0 && h.sum == 3.0));
        let read = histograms("{{sum:3 count:2 buckets:[2]}}+{{sum:1.3 count:1 buckets:[1]}}x2");
        let counts: Vec<f64> = read.iter().map(|(_, h)| h.count).collect();
        assert_eq!(counts, [2.0, 3.0, 4.0]);
        assert_eq!(read[2].1.sum, 5.6);
        assert_eq!(read[2].1.positive[0].count, 4.0);
        let read = histograms("{{count:9 sum:9 buckets:[9]}}-{{count:2 sum:2 buckets:[2]}}x1");
        assert_eq!(read[1].1.count, 7.0);
        // A million repetitions cost nothing until they are read.
        let values = Values::parse("{{count:1 buckets:[1]}}x100000000").unwrap();
        assert_eq!(values.len(), 100_000_001);
        let mut cursor = values.cursor();
        assert!(matches!(
            cursor.next_until(0),
            Some((0, Item::Histogram(_)))
        ));
        assert_eq!(cursor.next_until(0), None);
    }

    #[test]
    fn histograms_and_floats_mix_with_blanks_inside_the_braces() {
        let values = Values::parse(
            "1 {{schema:1 sum:-0.3 count:32.1 buckets:[5.1 10 7] offset:-3}} _ stale",
        )
        .unwrap();
        assert_eq!(values.len(), 4);
        let mut cursor = values.cursor();
        assert_eq!(cursor.next_until(9), Some((0, Item::Float(1.0))));
        let Some((1, Item::Histogram(h))) = cursor.next_until(9) else {
            panic!("no histogram at 1");
        };
        assert_eq!((h.schema, h.count, h.positive[0].index), (1, 32.1, -3));
        assert!(
            matches!(cursor.next_until(9), Some((3, Item::Float(v))) if crate::metrics::store::is_stale(v))
        );
    }

    #[test]
    fn bad_histograms_say_where() {
        let e = Values::parse("1 {{sum:3 count:2 buckets:[2]").unwrap_err();
        assert_eq!(e.offset, 2);
        assert!(e.message.contains("closing `}}`"), "{e}");
        let e = Values::parse("{{count:2}}y3").unwrap_err();
        assert_eq!(e.offset, 11);
        let e = Values::parse("{{count:2}}+{{count:1}}").unwrap_err();
        assert!(e.message.contains("expected `x`"), "{e}");
        let e = Values::parse("{{count:2}}x").unwrap_err();
        assert!(e.message.contains("count after `x`"), "{e}");
        let e = Values::parse("{{schema:1 count:2}}+{{schema:0 count:1}}x2").unwrap_err();
        assert!(e.message.contains("cannot merge from schema 0 to 1"), "{e}");
        let e = Values::parse("{{count:2 bogus:1}}").unwrap_err();
        assert!(e.offset > 0, "{e:?}");
    }

    #[test]
    fn histograms_prometheus_would_not_append_are_refused() {
        let e = Values::parse("1 {{schema:9 count:1 buckets:[1]}}x2").unwrap_err();
        assert_eq!(e.offset, 2);
        assert!(e.message.ends_with("got schema 9"), "{e}");
        // Only the end of a run going negative is invalid: still refused.
        let e = Values::parse("{{count:4 buckets:[4]}}-{{count:1 buckets:[1]}}x5").unwrap_err();
        assert!(e.message.starts_with("observation count is  -1"), "{e}");
        assert!(Values::parse("{{count:4 buckets:[4]}}-{{count:1 buckets:[1]}}x4").is_ok());
        // With x0 only the start is appended; start + step is never made.
        assert!(Values::parse("{{count:1 buckets:[1]}}-{{count:2 buckets:[2]}}x0").is_ok());
    }
}
