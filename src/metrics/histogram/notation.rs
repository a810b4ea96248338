//! Prometheus's test notation for native histograms, as promqltest and
//! `promtool test rules` read it (promql/parser's lexer and grammar):
//! `{{schema:1 sum:5 count:4 z_bucket:1 z_bucket_w:0.001 buckets:[1 2]
//! offset:1 n_buckets:[1] n_offset:0 custom_values:[1 5]
//! counter_reset_hint:gauge}}`, and the sequences `{{...}}x3` (4 copies)
//! and `{{a}}+{{b}}x3` / `{{a}}-{{b}}x3` (a, then b added or subtracted 3
//! times); and [`expression`], the notation back (`TestExpression`).

use std::fmt::Write as _;

use super::{Bucket, FloatHistogram, Hint, MAX_BUCKET_INDEX};

/// Why a histogram's text could not be read: what, and the byte offset in
/// the text it was read from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at byte {offset} of the histogram `{{{{...}}}}`)")]
pub struct NotationError {
    pub message: String,
    pub offset: usize,
}

/// A histogram as written, and whether it said its counter-reset hint
/// (an expected sample compares the hint only then).
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub histogram: FloatHistogram,
    pub hint_set: bool,
}

/// The most samples one `{{...}}xN` expands to.
pub const MAX_REPEAT: u64 = 1_000_000;

/// Reads one sequence item that starts with `{{` at the start of `text`:
/// the histograms it stands for and the bytes it took.
pub fn item(text: &str) -> Result<(Vec<Written>, usize), NotationError> {
    let (base, mut used) = histogram(text, 0)?;
    let rest = &text[used..];
    if let Some(times) = rest.strip_prefix('x') {
        let (n, digits) = count(times, used + 1)?;
        used += 1 + digits;
        return Ok((vec![base; n as usize + 1], used));
    }
    let negate = match rest.as_bytes().first() {
        Some(b'+') => false,
        Some(b'-') => true,
        _ => return Ok((vec![base], used)),
    };
    let (inc, inc_len) = histogram(&text[used + 1..], used + 1)?;
    used += 1 + inc_len;
    let Some(times) = text[used..].strip_prefix('x') else {
        return Err(error(
            used,
            "expected `x` and a count after the second histogram",
        ));
    };
    let (n, digits) = count(times, used + 1)?;
    used += 1 + digits;
    let mut out = Vec::with_capacity(n as usize + 1);
    let mut current = base.histogram;
    out.push(Written {
        histogram: current.clone(),
        hint_set: inc.hint_set,
    });
    for _ in 0..n {
        if current.schema > inc.histogram.schema {
            return Err(error(
                0,
                &format!(
                    "error combining histograms: cannot merge from schema {} to {}",
                    inc.histogram.schema, current.schema
                ),
            ));
        }
        let combined = if negate {
            current.sub(&inc.histogram)
        } else {
            current.add(&inc.histogram)
        };
        combined.map_err(|e| error(0, &format!("error combining histograms: {e}")))?;
        out.push(Written {
            histogram: current.clone(),
            hint_set: inc.hint_set,
        });
    }
    Ok((out, used))
}

fn error(offset: usize, message: &str) -> NotationError {
    NotationError {
        message: message.to_string(),
        offset,
    }
}

/// The repetition count after `x`, and its digits' length.
fn count(text: &str, at: usize) -> Result<(u64, usize), NotationError> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let n: u64 = text[..digits]
        .parse()
        .map_err(|_| error(at, "expected a count after `x`"))?;
    if n > MAX_REPEAT {
        return Err(error(
            at,
            &format!("a histogram repeated {n} times is more than the {MAX_REPEAT} allowed"),
        ));
    }
    Ok((n, digits))
}

/// Reads `{{...}}` at the start of `text` (`base`: its offset, for
/// errors): the histogram and the bytes it took.
pub fn histogram(text: &str, base: usize) -> Result<(Written, usize), NotationError> {
    let body_start = 2;
    if !text.starts_with("{{") {
        return Err(error(base, "expected `{{` to open a histogram"));
    }
    let Some(end) = text.find("}}") else {
        return Err(error(base, "a histogram `{{` without its closing `}}`"));
    };
    let body = &text[body_start..end];
    let mut h = FloatHistogram::default();
    let mut hint_set = false;
    let mut seen: Vec<String> = Vec::new();
    let (mut positive, mut negative) = (Vec::new(), Vec::new());
    let (mut offset, mut n_offset) = (0i32, 0i32);
    let (mut offset_at, mut n_offset_at) = (base, base);
    let mut pos = 0;
    let bytes = body.as_bytes();
    while pos < body.len() {
        if bytes[pos].is_ascii_whitespace() {
            pos += 1;
            continue;
        }
        let at = base + body_start + pos;
        let key_len = body[pos..]
            .bytes()
            .take_while(|&b| b == b'_' || b.is_ascii_alphabetic())
            .count();
        let key = body[pos..pos + key_len].to_ascii_lowercase();
        pos += key_len;
        if body.as_bytes().get(pos) != Some(&b':') {
            let found = body[pos - key_len..]
                .split_whitespace()
                .next()
                .unwrap_or("");
            return Err(error(
                at,
                &format!(
                    "expected `key:value` in a histogram, e.g. buckets:[5 10 7], found `{found}`"
                ),
            ));
        }
        pos += 1;
        if seen.contains(&key) {
            return Err(error(at, &format!("duplicate key \"{key}\" in histogram")));
        }
        seen.push(key.clone());
        let value_at = base + body_start + pos;
        let value_end = if bytes.get(pos) == Some(&b'[') {
            match body[pos..].find(']') {
                Some(close) => pos + close + 1,
                None => return Err(error(value_at, "a bucket list `[` without its `]`")),
            }
        } else {
            pos + body[pos..]
                .find(|c: char| c.is_ascii_whitespace())
                .unwrap_or(body.len() - pos)
        };
        let value = &body[pos..value_end];
        pos = value_end;
        let number = || {
            parse_number(value).ok_or_else(|| {
                error(
                    value_at,
                    &format!("`{value}` is not a number (for `{key}`)"),
                )
            })
        };
        let int = || {
            value.parse::<i32>().map_err(|_| {
                error(
                    value_at,
                    &format!("`{value}` is not a whole number (for `{key}`)"),
                )
            })
        };
        match key.as_str() {
            "schema" => h.schema = int()?,
            "sum" => h.sum = number()?,
            "count" => h.count = number()?,
            "z_bucket" => h.zero_count = number()?,
            "z_bucket_w" => h.zero_threshold = number()?,
            "offset" => {
                offset = int()?;
                offset_at = value_at;
            }
            "n_offset" => {
                n_offset = int()?;
                n_offset_at = value_at;
            }
            "buckets" => positive = list(value, value_at)?,
            "n_buckets" => negative = list(value, value_at)?,
            "custom_values" => h.custom_values = list(value, value_at)?,
            "counter_reset_hint" => {
                hint_set = true;
                h.hint = match value.to_ascii_lowercase().as_str() {
                    "unknown" => Hint::Unknown,
                    "reset" => Hint::CounterReset,
                    "not_reset" => Hint::NotCounterReset,
                    "gauge" => Hint::Gauge,
                    _ => {
                        return Err(error(
                            value_at,
                            &format!(
                                "`{value}` is not a counter_reset_hint (unknown, reset, not_reset, gauge)"
                            ),
                        ));
                    }
                }
            }
            _ => {
                return Err(error(
                    at,
                    &format!(
                        "bad histogram descriptor `{key}` (schema, sum, count, z_bucket, z_bucket_w, \
                         buckets, offset, n_buckets, n_offset, custom_values, counter_reset_hint)"
                    ),
                ));
            }
        }
    }
    h.positive = at_offset(&positive, offset, offset_at)?;
    h.negative = at_offset(&negative, n_offset, n_offset_at)?;
    Ok((
        Written {
            histogram: h,
            hint_set,
        },
        end + 2,
    ))
}

/// The buckets from `offset` on (`at`: the offset's position, for the
/// error when a bucket's index would pass [`MAX_BUCKET_INDEX`]).
fn at_offset(counts: &[f64], offset: i32, at: usize) -> Result<Vec<Bucket>, NotationError> {
    counts
        .iter()
        .enumerate()
        .map(|(i, &count)| {
            let index = i64::from(offset) + i as i64;
            if index.abs() > MAX_BUCKET_INDEX {
                return Err(error(
                    at,
                    &format!(
                        "bucket index {index} (offset {offset}) is out of range (at most \
                         ±{MAX_BUCKET_INDEX})"
                    ),
                ));
            }
            Ok(Bucket {
                index: index as i32,
                count,
            })
        })
        .collect()
}

/// `[1 2.5 -3]`.
fn list(value: &str, at: usize) -> Result<Vec<f64>, NotationError> {
    let Some(inner) = value
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
    else {
        return Err(error(
            at,
            &format!("`{value}` is not a list: expected `[` numbers `]`, as `[1 2 1]`"),
        ));
    };
    inner
        .split_whitespace()
        .map(|n| {
            parse_number(n).ok_or_else(|| error(at, &format!("`{n}` is not a number in `{value}`")))
        })
        .collect()
}

/// A number as Prometheus's lexer reads one here: decimal, hexadecimal,
/// `Inf`, `NaN`, signed.
fn parse_number(text: &str) -> Option<f64> {
    let (sign, unsigned) = match text.as_bytes().first()? {
        b'-' => (-1.0, &text[1..]),
        b'+' => (1.0, &text[1..]),
        _ => (1.0, text),
    };
    let lower = unsigned.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" => f64::INFINITY,
        "nan" => f64::NAN,
        _ if lower.starts_with("0x") => i64::from_str_radix(&lower[2..], 16).ok()? as f64,
        _ if unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.') => {
            unsigned.parse().ok()?
        }
        _ => return None,
    };
    Some(sign * v)
}

/// The histogram in the notation, as Prometheus's `TestExpression` writes
/// it (one span a side: empty buckets at the ends dropped, gaps filled).
pub fn expression(h: &FloatHistogram) -> String {
    let mut parts: Vec<String> = Vec::new();
    if h.schema != 0 {
        parts.push(format!("schema:{}", h.schema));
    }
    for (key, v) in [
        ("count", h.count),
        ("sum", h.sum),
        ("z_bucket", h.zero_count),
        ("z_bucket_w", h.zero_threshold),
    ] {
        if v != 0.0 {
            parts.push(format!("{key}:{}", go_g(v)));
        }
    }
    if h.uses_custom_buckets() {
        let values: Vec<String> = h.custom_values.iter().map(|&v| go_g(v)).collect();
        parts.push(format!("custom_values:[{}]", values.join(" ")));
    }
    match h.hint {
        Hint::Unknown => {}
        Hint::CounterReset => parts.push("counter_reset_hint:reset".into()),
        Hint::NotCounterReset => parts.push("counter_reset_hint:not_reset".into()),
        Hint::Gauge => parts.push("counter_reset_hint:gauge".into()),
    }
    for (buckets, key, offset_key) in [
        (&h.positive, "buckets", "offset"),
        (&h.negative, "n_buckets", "n_offset"),
    ] {
        let populated: Vec<&Bucket> = buckets.iter().filter(|b| b.count != 0.0).collect();
        let (Some(first), Some(last)) = (populated.first(), populated.last()) else {
            continue;
        };
        if first.index != 0 {
            parts.push(format!("{offset_key}:{}", first.index));
        }
        let mut text = String::new();
        let mut next = buckets.iter().peekable();
        for index in first.index..=last.index {
            while next.peek().is_some_and(|b| b.index < index) {
                next.next();
            }
            let count = match next.peek() {
                Some(b) if b.index == index => b.count,
                _ => 0.0,
            };
            if !text.is_empty() {
                text.push(' ');
            }
            let _ = write!(text, "{}", go_g(count));
        }
        parts.push(format!("{key}:[{text}]"));
    }
    format!("{{{{{}}}}}", parts.join(" "))
}

/// A number as Go's `%g` prints it: shortest digits, exponent form below
/// 1e-4 and from 1e6 (`1e+06`).
pub fn go_g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        return format!("{v}");
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

/// The histogram as Go's `FloatHistogram.String` writes it, which
/// `count_values` uses as a label value: `{count:20, sum:10,
/// [-2,-1):2, [-0.001,0.001]:2, (0.5,1]:1}`, populated buckets from the
/// lowest, the zero bucket between the sides.
pub fn go_string(h: &FloatHistogram) -> String {
    let mut text = format!("{{count:{}, sum:{}", go_g(h.count), go_g(h.sum));
    let mut bucket = |b: super::Bounded| {
        let _ = write!(
            text,
            ", {}{},{}{}:{}",
            if b.lower_inclusive { '[' } else { '(' },
            go_g(b.lower),
            go_g(b.upper),
            if b.upper_inclusive { ']' } else { ')' },
            go_g(b.count)
        );
    };
    for b in h.negative.iter().rev().filter(|b| b.count != 0.0) {
        bucket(h.bounded(*b, false));
    }
    if h.zero_count != 0.0 {
        bucket(h.zero_bucket());
    }
    for b in h.positive.iter().filter(|b| b.count != 0.0) {
        bucket(h.bounded(*b, true));
    }
    text.push('}');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> NotationError {
        match histogram(text, 0) {
            Ok((w, _)) => panic!("`{text}` read as {}", expression(&w.histogram)),
            Err(e) => e,
        }
    }

    #[test]
    fn a_bucket_list_without_brackets_is_an_error_not_a_panic() {
        for text in [
            "{{buckets:1}}",
            "{{custom_values:5}}",
            "{{n_buckets:]}}",
            "{{buckets:]}}",
            "{{buckets:123}}",
            "{{buckets:x5y}}",
            "{{buckets:é}}",
            "{{buckets:ééé}}",
            "{{n_buckets:[}}",
        ] {
            let e = refused(text);
            assert_eq!(e.offset, text.find(':').unwrap() + 1, "{text}: {e}");
        }
        assert_eq!(
            refused("{{buckets:123}}").message,
            "`123` is not a list: expected `[` numbers `]`, as `[1 2 1]`"
        );
    }

    #[test]
    fn bracketed_lists_still_read() {
        let (w, _) = histogram("{{buckets:[1 2 1] n_buckets:[] custom_values:[ 1 ]}}", 0).unwrap();
        assert_eq!(w.histogram.positive.len(), 3);
        assert!(w.histogram.negative.is_empty());
        assert_eq!(w.histogram.custom_values, vec![1.0]);
    }

    #[test]
    fn offsets_past_the_bucket_index_bound_are_refused() {
        let text = "{{offset:2147483647 buckets:[1 2 1]}}";
        let e = refused(text);
        assert_eq!(e.offset, text.find("2147").unwrap());
        assert!(e.message.contains("out of range"), "{e}");
        let text = "{{n_offset:-2147483648 n_buckets:[1]}}";
        assert_eq!(refused(text).offset, text.find("-2147").unwrap());
        // The last index a bucket may have is still read.
        let (w, _) = histogram("{{offset:1048575 buckets:[1 2]}}", 0).unwrap();
        assert_eq!(w.histogram.positive[1].index, MAX_BUCKET_INDEX as i32);
        assert!(histogram("{{offset:1048576 buckets:[1 2]}}", 0).is_err());
    }
}
