//! Go's `strconv` as templates print through it: floats (`%v`'s shortest
//! form, `%g`, `%e`, `%f`, hex `%x`) and quoting (`Quote`, `QuoteToASCII`,
//! `IsPrint`, `%#U`).

use std::fmt::Write as _;

/// Go's `%v` of a float64: shortest digits, `%e` form when the exponent is
/// below -4 or at least 6 (strconv's shortest `%g`).
pub(crate) fn go_float(v: f64) -> String {
    if !v.is_finite() || v == 0.0 {
        return go_g(v, 1);
    }
    let e = format!("{v:e}");
    let (mantissa, exponent) = e.split_once('e').unwrap_or((&e, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if !(-4..6).contains(&exponent) {
        format!("{mantissa}e{}", go_exponent(exponent))
    } else {
        format!("{v}")
    }
}

/// Go's `%.{precision}g`: shortest of `%e` and `%f`, trailing zeros cut.
pub(crate) fn go_g(v: f64, precision: usize) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let precision = precision.max(1);
    let e = scientific(v, precision - 1);
    let (mantissa, exponent) = e.split_once('e').unwrap_or((&e, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if exponent < -4 || exponent >= precision as i32 {
        return format!("{}e{}", trim_zeros(mantissa), go_exponent(exponent));
    }
    let decimals = (precision as i32 - 1 - exponent).max(0) as usize;
    trim_zeros(&fixed(v, decimals)).to_string()
}

/// Go's `%e` with `decimals` digits after the point: `1.500000e+00`.
pub(crate) fn go_e(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return go_g(v, 1);
    }
    let e = scientific(v, decimals);
    let (m, x) = e.split_once('e').unwrap_or((&e, "0"));
    format!("{m}e{}", go_exponent(x.parse().unwrap_or(0)))
}

/// Go's `%f`: `+Inf`, `NaN` for the non-finite.
pub(crate) fn go_f(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return go_g(v, 1);
    }
    fixed(v, decimals)
}

/// More digits than any f64 has: 1,074 decimals hold the smallest
/// subnormal exactly, 767 significant digits any value. Beyond them every
/// digit is 0, and Rust's formatter panics past 65,535, which a template's
/// `%.99999f` would reach.
const EXACT_DIGITS: usize = 1100;

fn fixed(v: f64, decimals: usize) -> String {
    let mut text = format!("{v:.*}", decimals.min(EXACT_DIGITS));
    if decimals > EXACT_DIGITS {
        text.extend(std::iter::repeat_n('0', decimals - EXACT_DIGITS));
    }
    text
}

fn scientific(v: f64, decimals: usize) -> String {
    let text = format!("{v:.*e}", decimals.min(EXACT_DIGITS));
    match text.split_once('e') {
        Some((mantissa, exponent)) if decimals > EXACT_DIGITS => {
            let zeros = "0".repeat(decimals - EXACT_DIGITS);
            format!("{mantissa}{zeros}e{exponent}")
        }
        _ => text,
    }
}

fn go_exponent(exponent: i32) -> String {
    format!(
        "{}{:02}",
        if exponent < 0 { '-' } else { '+' },
        exponent.abs()
    )
}

fn trim_zeros(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

/// Go's `strconv.Quote`: `"a\"b\n"`, printable Unicode kept.
pub(crate) fn go_quote(text: &str) -> String {
    quote(text, false)
}

/// `strconv.Quote`, or with `ascii` `strconv.QuoteToASCII` (`"\u00e9"`).
pub(crate) fn quote(text: &str, ascii: bool) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if is_print(c) && (!ascii || c.is_ascii()) => out.push(c),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.IsPrint`, closely enough: no controls, no spaces but ' '.
pub(crate) fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    !c.is_control()
        && !c.is_whitespace()
        && !matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{feff}')
}

/// Go's `%#U`: `U+0041 'A'`, or `U+00A0` for what does not print.
pub(crate) fn go_unicode(c: char) -> String {
    if is_print(c) {
        format!("U+{:04X} '{c}'", c as u32)
    } else {
        format!("U+{:04X}", c as u32)
    }
}

/// Go's `%x` of a float: `0x1.8p+00`, the shortest hex mantissa.
pub(crate) fn hex_float(v: f64) -> String {
    if !v.is_finite() {
        return go_g(v, 1);
    }
    let sign = if v.is_sign_negative() { "-" } else { "" };
    if v == 0.0 {
        return format!("{sign}0x0p+00");
    }
    let bits = v.abs().to_bits();
    let mut exponent = ((bits >> 52) & 0x7ff) as i64;
    let mut mantissa = bits & ((1 << 52) - 1);
    if exponent == 0 {
        // Subnormal: shift the leading 1 into the implicit bit.
        exponent = 1;
        while mantissa & (1 << 52) == 0 {
            mantissa <<= 1;
            exponent -= 1;
        }
        mantissa &= (1 << 52) - 1;
    }
    let exponent = exponent - 1023;
    let digits = format!("{mantissa:013x}");
    let digits = digits.trim_end_matches('0');
    let point = if digits.is_empty() {
        String::new()
    } else {
        format!(".{digits}")
    };
    let esign = if exponent < 0 { '-' } else { '+' };
    format!("{sign}0x1{point}p{esign}{:02}", exponent.abs())
}
