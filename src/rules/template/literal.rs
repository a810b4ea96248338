//! Go's literals in templates: `strconv.Unquote` of strings, raw strings
//! and character constants, and the `NumberNode` of a number (every type
//! it can be: int, uint, float), with Go's errors.

use super::lex::Kind;
use super::node::Number;
use super::strconv::go_quote;

/// Go's `strconv.ErrSyntax`: the one way [`unquote`] fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid syntax")]
pub(crate) struct InvalidSyntax;

/// Why a number, character or complex constant is not a `NumberNode`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NumberError {
    #[error(transparent)]
    Syntax(#[from] InvalidSyntax),
    #[error("malformed character constant: {text}")]
    MalformedChar { text: String },
    #[error("integer overflow: {}", go_quote(.text))]
    Overflow { text: String },
    #[error("illegal number syntax: {}", go_quote(.text))]
    Illegal { text: String },
}

/// Go's `strconv.Unquote` for `"..."`, `` `...` `` and `'.'`.
pub(crate) fn unquote(quoted: &str) -> Result<String, InvalidSyntax> {
    let syntax = || InvalidSyntax;
    if let Some(raw) = quoted.strip_prefix('`') {
        return raw
            .strip_suffix('`')
            .map(|s| s.replace('\r', ""))
            .ok_or_else(syntax);
    }
    let quote = quoted.chars().next().ok_or_else(syntax)?;
    let body = quoted
        .strip_prefix(quote)
        .and_then(|s| s.strip_suffix(quote))
        .ok_or_else(syntax)?;
    let mut out = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            if c == quote || c == '\n' {
                return Err(syntax());
            }
            out.push(c);
            continue;
        }
        let e = chars.next().ok_or_else(syntax)?;
        let mut hex = |n: usize| -> Result<u32, InvalidSyntax> {
            let digits: String = (0..n).filter_map(|_| chars.next()).collect();
            if digits.len() != n {
                return Err(syntax());
            }
            u32::from_str_radix(&digits, 16).map_err(|_| syntax())
        };
        match e {
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '\\' => out.push('\\'),
            '\'' | '"' if e == quote => out.push(e),
            'x' => out.push(char::from_u32(hex(2)?).ok_or_else(syntax)?),
            'u' => out.push(char::from_u32(hex(4)?).ok_or_else(syntax)?),
            'U' => out.push(char::from_u32(hex(8)?).ok_or_else(syntax)?),
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    let d = chars
                        .next()
                        .and_then(|d| d.to_digit(8))
                        .ok_or_else(syntax)?;
                    v = v * 8 + d;
                }
                if v > 255 {
                    return Err(syntax());
                }
                out.push(char::from_u32(v).ok_or_else(syntax)?);
            }
            _ => return Err(syntax()),
        }
    }
    if quote == '\'' && out.chars().count() != 1 {
        return Err(syntax());
    }
    Ok(out)
}

/// Go's `NumberNode` of a number, character or complex constant.
pub(crate) fn number(text: &str, kind: Kind) -> Result<Number, NumberError> {
    let mut n = Number {
        text: text.to_string(),
        int: None,
        uint: None,
        float: None,
        complex: false,
    };
    if kind == Kind::CharConstant {
        // strconv.UnquoteChar: nothing between the quotes is a syntax
        // error, more than one character a malformed constant.
        let inner = &text[1..text.len().saturating_sub(1).max(1)];
        if inner.is_empty() {
            return Err(InvalidSyntax.into());
        }
        let c = unquote(text)
            .ok()
            .and_then(|s| s.chars().next())
            .ok_or_else(|| NumberError::MalformedChar {
                text: text.to_string(),
            })?;
        n.int = Some(c as i64);
        n.uint = Some(c as u64);
        n.float = Some(c as u32 as f64);
        return Ok(n);
    }
    if kind == Kind::Complex || text.ends_with('i') {
        // Complex numbers print and compare as Go's complex128; templates
        // in rule files have no use for them, so they stay a constant
        // that functions refuse.
        n.complex = true;
        return Ok(n);
    }
    let clean = text.replace('_', "");
    let (negative, unsigned) = match clean.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, clean.strip_prefix('+').unwrap_or(&clean)),
    };
    let radix_value = parse_radix(unsigned);
    if let Some(u) = radix_value {
        if !negative {
            n.uint = Some(u as u64).filter(|_| u <= u64::MAX as u128);
        }
        let signed = if negative { -(u as i128) } else { u as i128 };
        if let Ok(i) = i64::try_from(signed) {
            n.int = Some(i);
            if i == 0 {
                n.uint = Some(0);
            }
        }
    }
    if let Some(i) = n.int {
        n.float = Some(i as f64);
    } else if let Some(u) = n.uint {
        n.float = Some(u as f64);
    } else if let Some(f) = parse_float(&clean) {
        if !clean.contains(['.', 'e', 'E', 'p', 'P']) || is_hex_int(&clean) {
            return Err(NumberError::Overflow {
                text: text.to_string(),
            });
        }
        n.float = Some(f);
        if f.fract() == 0.0 && f.abs() < 9.2e18 {
            n.int = Some(f as i64);
        }
        if f.fract() == 0.0 && (0.0..1.8e19).contains(&f) {
            n.uint = Some(f as u64);
        }
    }
    if n.int.is_none() && n.uint.is_none() && n.float.is_none() {
        return Err(NumberError::Illegal {
            text: text.to_string(),
        });
    }
    Ok(n)
}

pub(crate) fn is_hex_int(text: &str) -> bool {
    let t = text.trim_start_matches(['+', '-']);
    (t.starts_with("0x") || t.starts_with("0X")) && !t.contains(['p', 'P', '.'])
}

/// An unsigned integer in Go's syntax (`0x`, `0o`, `0b`, leading-0 octal).
pub(crate) fn parse_radix(text: &str) -> Option<u128> {
    let (digits, radix) = if let Some(h) = text.strip_prefix("0x").or(text.strip_prefix("0X")) {
        (h, 16)
    } else if let Some(o) = text.strip_prefix("0o").or(text.strip_prefix("0O")) {
        (o, 8)
    } else if let Some(b) = text.strip_prefix("0b").or(text.strip_prefix("0B")) {
        (b, 2)
    } else if text.len() > 1 && text.starts_with('0') {
        (&text[1..], 8)
    } else {
        (text, 10)
    };
    if digits.is_empty() {
        return None;
    }
    u128::from_str_radix(digits, radix).ok()
}

/// Go's `strconv.ParseFloat` of a decimal or hex float constant.
pub(crate) fn parse_float(text: &str) -> Option<f64> {
    let t = text.trim_start_matches('+');
    if t.contains(['x', 'X']) {
        return None;
    }
    if t.chars()
        .any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
    {
        return None;
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite())
}
