//! A `.test` file of Prometheus's PromQL test suite as commands, read as
//! `promql/promqltest/test.go` reads it: `load <interval>` with series
//! lines, `clear`, and `eval` (instant or range, with `_fail`, `_warn`,
//! `_info`, `_ordered`, and `expect ...` lines) with the expected result.

use slogate::metrics::store::Labels;

use super::series::{self, Item, Refused};

pub enum Command {
    /// Series loaded from time 0 at `interval_ms`; a series line this reader
    /// refused is kept as its reason (the first one).
    Load {
        interval_ms: i64,
        series: Vec<(Labels, Vec<Item>)>,
        refused: Option<Refused>,
        /// `load_with_nhcb`: classic histograms also loaded as native ones.
        nhcb: bool,
    },
    Clear,
    Eval(Box<Eval>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Timing {
    Instant { at: i64 },
    Range { start: i64, end: i64, step: i64 },
}

pub struct Eval {
    /// 1-based line of the `eval` command.
    pub line: usize,
    pub expr: String,
    pub timing: Timing,
    pub fail: bool,
    pub ordered: bool,
    /// Whether the eval expects (or forbids) warnings or info annotations,
    /// which slogate's evaluator does not produce: only the result is
    /// compared.
    pub annotations: bool,
    pub expected: Expected,
    /// `expect range vector from .. to .. step ..`: an instant query of a
    /// range vector, points expected from `start` by `step`.
    pub range_vector: Option<(i64, i64, i64)>,
    /// Why the expectation cannot be checked here (a native histogram).
    pub refused: Option<Refused>,
}

pub enum Expected {
    Scalar(f64),
    String(String),
    /// Series with their values and 1-based position (for `ordered`).
    Series(Vec<(Labels, Vec<Item>, usize)>),
}

/// The commands of `text`, or the 1-based line and why it cannot be read.
pub fn parse(text: &str) -> Result<Vec<Command>, (usize, String)> {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| {
            let l = l.trim();
            if l.starts_with('#') { "" } else { l }
        })
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if l.is_empty() {
            i += 1;
            continue;
        }
        let word = l
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let end = block_end(&lines, i);
        let body = &lines[i + 1..end];
        let command = if word == "clear" {
            Command::Clear
        } else if word.starts_with("load") {
            load(l, body).map_err(|e| (i + 1, e))?
        } else if word.starts_with("eval") {
            Command::Eval(Box::new(eval(l, body, i + 1).map_err(|e| (i + 1, e))?))
        } else {
            return Err((i + 1, format!("invalid command {l:?}")));
        };
        out.push(command);
        i = if word == "clear" { i + 1 } else { end };
    }
    Ok(out)
}

/// The index after the last line of the block that starts at `i`.
fn block_end(lines: &[&str], i: usize) -> usize {
    let mut end = i + 1;
    while end < lines.len() && !lines[end].is_empty() {
        end += 1;
    }
    end
}

fn load(head: &str, body: &[&str]) -> Result<Command, String> {
    let words: Vec<&str> = head.split_whitespace().collect();
    let nhcb = match words.first().copied() {
        Some("load") => false,
        Some("load_with_nhcb") => true,
        _ => return Err(format!("invalid load command {head:?}")),
    };
    let interval_ms = duration(words.get(1).copied().unwrap_or(""))?;
    let mut series = Vec::new();
    let mut refused = None;
    for line in body {
        // Prometheus validates every histogram a load appends.
        let loaded = series::line(line).and_then(|l| match l.items.iter().find_map(invalid) {
            Some(e) => Err(Refused::Syntax(e)),
            None => Ok(l),
        });
        match loaded {
            Ok(l) => series.push((l.labels, l.items)),
            Err(e) => refused = refused.or(Some(e)),
        }
    }
    Ok(Command::Load {
        interval_ms,
        series,
        refused,
        nhcb,
    })
}

/// The text of `line` after its first `n` words.
fn after_words(line: &str, n: usize) -> &str {
    let mut rest = line.trim_start();
    for _ in 0..n {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = rest[end..].trim_start();
    }
    rest
}

fn eval(head: &str, body: &[&str], line: usize) -> Result<Eval, String> {
    let words: Vec<&str> = head.split_whitespace().collect();
    let modifier = words[0].strip_prefix("eval").unwrap_or("");
    let (timing, expr) = match words.get(1).copied() {
        Some("instant") if words.get(2) == Some(&"at") => (
            Timing::Instant {
                at: duration(words.get(3).copied().unwrap_or(""))?,
            },
            after_words(head, 4),
        ),
        Some("range") if words.get(2) == Some(&"from") => {
            // `from A to B step S EXPR`
            if words.get(4) != Some(&"to") || words.get(6) != Some(&"step") {
                return Err(format!("invalid range eval {head:?}"));
            }
            (
                Timing::Range {
                    start: duration(words[3])?,
                    end: duration(words[5])?,
                    step: duration(words.get(7).copied().unwrap_or(""))?,
                },
                after_words(head, 8),
            )
        }
        _ => return Err(format!("invalid eval command {head:?}")),
    };
    let mut eval = Eval {
        line,
        expr: expr.to_string(),
        timing,
        fail: modifier == "_fail",
        ordered: modifier == "_ordered",
        annotations: modifier == "_warn" || modifier == "_info",
        expected: Expected::Series(Vec::new()),
        range_vector: None,
        refused: None,
    };
    let mut series = Vec::new();
    for text in body {
        if eval.fail && text.starts_with("expected_fail_") {
            break;
        }
        if let Some(rest) = text.strip_prefix("expect range vector") {
            let w: Vec<&str> = rest.split_whitespace().collect();
            if w.len() != 6 || w[0] != "from" || w[2] != "to" || w[4] != "step" {
                return Err(format!("invalid range vector definition {text:?}"));
            }
            eval.range_vector = Some((duration(w[1])?, duration(w[3])?, duration(w[5])?));
            continue;
        }
        if let Some(rest) = text.strip_prefix("expect string") {
            eval.expected = Expected::String(unquote(rest.trim())?);
            continue;
        }
        if text.split(' ').next() == Some("expect") {
            match text.split_whitespace().nth(1) {
                Some("fail") => eval.fail = true,
                Some("ordered") => eval.ordered = true,
                Some("warn" | "no_warn" | "info" | "no_info") => eval.annotations = true,
                _ => return Err(format!("invalid expect statement {text:?}")),
            }
            continue;
        }
        if let Some(v) = go_number(text) {
            eval.expected = Expected::Scalar(v);
            break;
        }
        match series::line(text) {
            Ok(l) => series.push((l.labels, l.items, 0)),
            Err(e) => {
                eval.refused.get_or_insert(e);
            }
        }
    }
    if !series.is_empty() {
        // Positions count series lines only, as test.go's `j` does (it
        // does not count `expect` lines).
        let mut n = 0;
        eval.expected = Expected::Series(
            series
                .into_iter()
                .map(|(l, v, _)| {
                    n += 1;
                    (l, v, n)
                })
                .collect(),
        );
    }
    Ok(eval)
}

/// A number line as `parseNumber` reads it (Go's `ParseInt(s, 0, 64)`,
/// then `ParseFloat`).
fn go_number(text: &str) -> Option<f64> {
    if text.contains(char::is_whitespace) || text.contains('{') {
        return None;
    }
    let unsigned = text.trim_start_matches(['+', '-']);
    let sign = if text.starts_with('-') { -1.0 } else { 1.0 };
    if let Some(hex) = unsigned.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok().map(|v| sign * v as f64);
    }
    match unsigned.to_ascii_lowercase().as_str() {
        "inf" | "infinity" => Some(sign * f64::INFINITY),
        "nan" => Some(f64::NAN),
        _ if unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.') => {
            unsigned.parse::<f64>().ok().map(|v| sign * v)
        }
        _ => None,
    }
}

/// Go's `strconv.Unquote` for the double-quoted and backquoted strings the
/// suite uses.
fn unquote(text: &str) -> Result<String, String> {
    if let Some(raw) = text.strip_prefix('`').and_then(|t| t.strip_suffix('`')) {
        return Ok(raw.to_string());
    }
    let inner = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .ok_or_else(|| format!("expected a quoted string, got {text:?}"))?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(c @ ('\\' | '"' | '\'')) => out.push(c),
            other => return Err(format!("unknown escape \\{other:?} in {text:?}")),
        }
    }
    Ok(out)
}

/// A duration as Prometheus's `model.ParseDuration` reads it (`0`, `1h30m`,
/// `100ms`, `2d`), in milliseconds.
pub fn duration(text: &str) -> Result<i64, String> {
    if text == "0" {
        return Ok(0);
    }
    let bad = || format!("invalid duration {text:?}");
    if text.is_empty() {
        return Err(bad());
    }
    let mut total: i64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let n: i64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            "y" => 365 * 86_400_000,
            _ => return Err(bad()),
        };
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        rest = &rest[unit_len..];
    }
    Ok(total)
}

/// Why Prometheus would refuse to append a loaded histogram, if it would.
fn invalid(item: &Item) -> Option<String> {
    match item {
        Item::Histogram(w) => slogate::metrics::histogram::validate::validate(&w.histogram)
            .err()
            .map(|e| e.to_string()),
        _ => None,
    }
}
