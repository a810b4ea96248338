//! Prometheus's series notation, as `parser.ParseSeriesDesc` reads it in a
//! `.test` file: `metric{a="b"} 1 2+3x4 _ _x2 stale -Inf`, native histograms
//! in the `{{...}}` notation included.

use std::sync::Arc;

use slogate::metrics::histogram::notation::{self, Written};
use slogate::metrics::store::{Labels, NAME, stale};
use slogate::promql::parse_value;

/// One value of a sequence, by position.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `_`: no sample at this step.
    Omitted,
    Value(f64),
    Histogram(Arc<Written>),
}

/// A series line: its labels and values, or the reason it cannot be read
/// here.
#[derive(Debug, Clone)]
pub struct Line {
    pub labels: Labels,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Refused {
    /// Anything this reader does not understand, with why.
    Syntax(String),
}

/// Reads `metric{labels} values...`.
pub fn line(text: &str) -> Result<Line, Refused> {
    let (head, values) = split(text);
    Ok(Line {
        labels: labels(head)?,
        items: items(values)?,
    })
}

/// The label part and the values part of a line: the labels end at the
/// `}` that closes their `{` (quotes respected), else at the first blank.
fn split(text: &str) -> (&str, &str) {
    let text = text.trim();
    let mut in_quote = false;
    let mut escaped = false;
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        if in_quote {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_quote = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_quote = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return (&text[..=i], text[i + 1..].trim());
                }
            }
            c if c.is_whitespace() && depth == 0 => return (&text[..i], text[i..].trim()),
            _ => {}
        }
    }
    (text, "")
}

/// `metric{a="b"}`, `{__name__="m"}`, `{}` to labels.
pub fn labels(text: &str) -> Result<Labels, Refused> {
    let text = text.trim();
    if text.is_empty() || text == "{}" {
        return Ok(Labels::empty());
    }
    use promql_parser::label::MatchOp;
    use promql_parser::parser::Expr;
    let expr = slogate::promql::parse(text).map_err(|e| Refused::Syntax(e.to_string()))?;
    let Expr::VectorSelector(vs) = expr else {
        return Err(Refused::Syntax(format!("`{text}` is not a series")));
    };
    let mut pairs = Vec::new();
    if let Some(name) = &vs.name {
        pairs.push((NAME.to_string(), name.clone()));
    }
    for m in &vs.matchers.matchers {
        if m.op != MatchOp::Equal {
            return Err(Refused::Syntax(format!("`{text}`: only `=` in a series")));
        }
        pairs.push((m.name.clone(), m.value.clone()));
    }
    Ok(Labels::new(pairs))
}

/// The values of a sequence.
pub fn items(text: &str) -> Result<Vec<Item>, Refused> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        if rest.starts_with("{{") {
            let (written, used) =
                notation::item(rest).map_err(|e| Refused::Syntax(e.to_string()))?;
            out.extend(written.into_iter().map(|w| Item::Histogram(Arc::new(w))));
            rest = rest[used..].trim_start();
            continue;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let token = &rest[..end];
        rest = rest[end..].trim_start();
        match token {
            "_" => out.push(Item::Omitted),
            "stale" => out.push(Item::Value(stale())),
            _ => expand(token, &mut out)?,
        }
    }
    Ok(out)
}

/// `a`, `axn` (n+1 times a), `a+bxn` / `a-bxn` (n+1 values from a by b),
/// `_xn` (n omitted).
fn expand(token: &str, out: &mut Vec<Item>) -> Result<(), Refused> {
    let bad = || Refused::Syntax(format!("`{token}` is not a value of series notation"));
    let Some((head, times)) = token.rsplit_once('x') else {
        out.push(Item::Value(number(token).ok_or_else(bad)?));
        return Ok(());
    };
    let times: usize = times.parse().map_err(|_| bad())?;
    if times > 1_000_000 {
        return Err(bad());
    }
    if head == "_" {
        out.extend(std::iter::repeat_n(Item::Omitted, times));
        return Ok(());
    }
    let split = head
        .char_indices()
        .skip(1)
        .find(|(i, c)| (*c == '+' || *c == '-') && !matches!(head.as_bytes()[i - 1], b'e' | b'E'))
        .map(|(i, _)| i);
    let (start, step) = match split {
        Some(i) => {
            let step = number(&head[i + 1..]).ok_or_else(bad)?;
            let start = number(&head[..i]).ok_or_else(bad)?;
            (start, if &head[i..=i] == "-" { -step } else { step })
        }
        None => (number(head).ok_or_else(bad)?, 0.0),
    };
    // Prometheus adds the step at each repetition (not `start + k*step`).
    let mut v = start;
    for _ in 0..=times {
        out.push(Item::Value(v));
        v += step;
    }
    Ok(())
}

/// A number as the series lexer reads it: decimal, `Inf`, `NaN`, signed.
pub fn number(text: &str) -> Option<f64> {
    let (sign, unsigned) = match text.as_bytes().first()? {
        b'-' => (-1.0, &text[1..]),
        b'+' => (1.0, &text[1..]),
        _ => (1.0, text),
    };
    let v = match unsigned.to_ascii_lowercase().as_str() {
        "inf" => f64::INFINITY,
        "nan" => f64::NAN,
        _ => parse_value(unsigned).or_else(|| hex(unsigned))?,
    };
    Some(sign * v)
}

fn hex(text: &str) -> Option<f64> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))?;
    i64::from_str_radix(digits, 16).ok().map(|v| v as f64)
}
