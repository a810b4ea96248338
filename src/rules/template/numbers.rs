//! Numbers as Prometheus's template functions read and write them:
//! `ConvertToFloat` (Go's `strconv.ParseFloat` for strings), the
//! `humanize*` family, seconds to times (`floatToTime`) and Prometheus
//! durations (`parseDuration`).

use super::error::FuncError;
use super::strconv::go_g;
use super::time::Time;
use super::value::Value;

/// Go's conversion of a float to int64 on amd64: out of range gives the
/// minimum.
pub(crate) fn go_f64_to_i64(v: f64) -> i64 {
    if v.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&v) {
        i64::MIN
    } else {
        v as i64
    }
}

/// Prometheus's `floatToTime`: seconds to a time, millisecond precision.
pub(crate) fn float_to_time(v: f64) -> Result<Time, FuncError> {
    let nanos = v * 1e9;
    if nanos > i64::MAX as f64 || nanos < i64::MIN as f64 {
        return Err(FuncError::TimeOverflow {
            shown: super::strconv::go_float(v),
        });
    }
    // model.TimeFromUnixNano keeps milliseconds (truncating toward zero).
    let ms = go_f64_to_i64(nanos) / 1_000_000;
    Ok(Time(ms as i128 * 1_000_000))
}

/// Prometheus's `ConvertToFloat`.
pub(crate) fn to_float(v: &Value) -> Result<f64, FuncError> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) | Value::Int64(i) => Ok(*i as f64),
        Value::Uint64(u) => Ok(*u as f64),
        Value::Str(s) => parse_float(s),
        Value::Nil | Value::Invalid => Err(FuncError::NilToFloat),
        other => Err(FuncError::ToFloat {
            type_name: other.type_name(),
        }),
    }
}

/// Go's `strconv.ParseFloat(s, 64)`.
pub(crate) fn parse_float(s: &str) -> Result<f64, FuncError> {
    let syntax = || FuncError::FloatSyntax {
        text: s.to_string(),
    };
    let lower = s.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    let negative = lower.starts_with('-');
    if matches!(unsigned, "inf" | "infinity") && lower.len() - unsigned.len() <= 1 {
        return Ok(if negative {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if lower == "nan" {
        return Ok(f64::NAN);
    }
    if unsigned.is_empty()
        || unsigned.contains(['x', 'n', 'i', '_'])
        || lower.len() - unsigned.len() > 1
    {
        return Err(syntax());
    }
    let v: f64 = s.parse().map_err(|_| syntax())?;
    if v.is_infinite() {
        return Err(FuncError::FloatRange {
            text: s.to_string(),
        });
    }
    Ok(v)
}

/// Prometheus's `model.ParseDurationAllowNegative`, in milliseconds.
pub(crate) fn parse_duration(text: &str) -> Result<i64, FuncError> {
    if text.is_empty() {
        return Err(FuncError::EmptyDuration);
    }
    let bad = || FuncError::BadDuration {
        text: text.to_string(),
    };
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    const UNITS: [(&str, i64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];
    let mut next = 0;
    let mut total: i64 = 0;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let n: i64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        // `ms` before `m`: the longest unit that matches.
        let unit = UNITS[next..]
            .iter()
            .enumerate()
            .filter(|(_, (u, _))| rest.starts_with(u))
            .max_by_key(|(_, (u, _))| u.len())
            .map(|(i, u)| (i + next, *u));
        let Some((i, (name, ms))) = unit else {
            return Err(bad());
        };
        rest = &rest[name.len()..];
        total = n
            .checked_mul(ms)
            .and_then(|v| total.checked_add(v))
            .ok_or(FuncError::DurationRange)?;
        next = i + 1;
    }
    Ok(if negative { -total } else { total })
}

/// Prometheus's `humanize`: SI prefixes, four significant digits.
pub(crate) fn humanize(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return go_g(v, 4);
    }
    let mut v = v;
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", go_g(v, 4))
}

pub(crate) fn humanize_1024(v: f64) -> String {
    if v.abs() <= 1.0 || !v.is_finite() {
        return go_g(v, 4);
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    format!("{}{prefix}", go_g(v, 4))
}

/// Prometheus's `humanizeDuration`: `1d 2h 3m 4s`, or `1.5s`, `250ms`.
pub(crate) fn humanize_duration(v: f64) -> String {
    if !v.is_finite() {
        return go_g(v, 4);
    }
    if v == 0.0 {
        return format!("{}s", go_g(v, 4));
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        let v = v.abs();
        let whole = v as i64;
        let (days, hours, minutes, seconds) = (
            whole / 86_400,
            whole / 3600 % 24,
            whole / 60 % 60,
            whole % 60,
        );
        return if days != 0 {
            format!("{sign}{days}d {hours}h {minutes}m {seconds}s")
        } else if hours != 0 {
            format!("{sign}{hours}h {minutes}m {seconds}s")
        } else if minutes != 0 {
            format!("{sign}{minutes}m {seconds}s")
        } else {
            format!("{sign}{}s", go_g(v, 4))
        };
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", go_g(v, 4))
}
