//! Quantities people write by hand: `"250ms"`, `"1.5s"`, `"2m"`, `"1k/s"`,
//! `"99.9%"`. Parsed once at the edge into named types, displayed the way a
//! person would write them back.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Why a quantity could not be read, phrased so it can follow "invalid value `x`: ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UnitError(pub(crate) String);

/// Parses a duration such as `250ms`, `1.5s`, `2m`, `1h30m`, `500us`.
///
/// A bare number is rejected on purpose: `-z 10` could mean seconds or
/// milliseconds, and guessing wrong silently changes a run by 1000×.
pub fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(UnitError(
            "expected a duration such as 30s, 250ms or 2m".into(),
        ));
    }
    let mut total_ns: f64 = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return Err(UnitError(format!(
                "expected a number at `{rest}` (durations look like 30s, 250ms, 1m30s)"
            )));
        }
        let number: f64 = rest[..number_len]
            .parse()
            .map_err(|_| UnitError(format!("`{}` is not a number", &rest[..number_len])))?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit_ns = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "d" => 86400e9,
            "" => {
                return Err(UnitError(format!(
                    "`{text}` has no unit; write e.g. {number}s or {number}ms"
                )));
            }
            other => {
                return Err(UnitError(format!(
                    "unknown duration unit `{other}` (use ns, us, ms, s, m, h or d)"
                )));
            }
        };
        total_ns += number * unit_ns;
        rest = &rest[unit_len..];
    }
    if !total_ns.is_finite() || total_ns > Duration::MAX.as_nanos() as f64 {
        return Err(UnitError(format!("`{text}` is too long a duration")));
    }
    Ok(Duration::from_nanos(total_ns.round() as u64))
}

/// Formats a duration compactly for people: `850µs`, `12.3ms`, `1.250s`, `2m05s`.
pub fn format_duration(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.0}µs")
    } else if us < 1e6 {
        format!("{:.2}ms", us / 1e3)
    } else if us < 60e6 {
        format!("{:.3}s", us / 1e6)
    } else {
        let secs = d.as_secs();
        format!("{}m{:02}s", secs / 60, secs % 60)
    }
}

/// A request rate in requests per second.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Rate {
    per_second: f64,
}

impl Rate {
    /// A rate of `per_second` requests per second; must be finite and > 0.
    pub fn per_second(per_second: f64) -> Result<Rate, UnitError> {
        if per_second.is_finite() && per_second > 0.0 {
            Ok(Rate { per_second })
        } else {
            Err(UnitError(format!(
                "a rate must be a positive number of requests per second, not {per_second}"
            )))
        }
    }

    /// Requests per second.
    pub fn as_per_second(self) -> f64 {
        self.per_second
    }
}

impl FromStr for Rate {
    type Err = UnitError;

    /// Accepts `200`, `200/s`, `1.5k/s`, `12000/m`, `1M/h`.
    fn from_str(text: &str) -> Result<Rate, UnitError> {
        let text = text.trim();
        let (amount, per) = match text.split_once('/') {
            Some((amount, per)) => (amount.trim(), per.trim()),
            None => (text, "s"),
        };
        let per_seconds = match per {
            "s" | "sec" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            other => {
                return Err(UnitError(format!(
                    "unknown rate unit `/{other}` (use /s, /m or /h, e.g. 200/s)"
                )));
            }
        };
        let (digits, multiplier) = match amount.chars().last() {
            Some('k') | Some('K') => (&amount[..amount.len() - 1], 1e3),
            Some('M') => (&amount[..amount.len() - 1], 1e6),
            _ => (amount, 1.0),
        };
        let count: f64 = digits.parse().map_err(|_| {
            UnitError(format!(
                "`{text}` is not a rate; write e.g. 200/s, 1.5k/s or 600/m"
            ))
        })?;
        Rate::per_second(count * multiplier / per_seconds)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s", trim_float(self.per_second))
    }
}

/// A share of a whole, such as an error ratio: written `1%` or `99.9%`.
///
/// A bare number is refused rather than guessed: `error_rate < 1` could mean
/// 1 % or 100 %, and `error_rate < 0.5` 0.5 % or 50 %, and a gate that reads
/// the wrong one passes when it should fail.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Ratio(f64);

impl Ratio {
    /// The ratio as a fraction in 0..=1.
    pub fn fraction(self) -> f64 {
        self.0
    }

    /// A probability, where a bare number in 0..=1 is the convention
    /// (`probability: 0.2`) and `20%` is accepted as well. Not for
    /// thresholds: those go through [`FromStr`], which wants the `%`.
    pub fn parse_probability(text: &str) -> Result<Ratio, UnitError> {
        let text = text.trim();
        if text.ends_with('%') {
            return text.parse();
        }
        match text.parse::<f64>() {
            Ok(value) if (0.0..=1.0).contains(&value) => Ok(Ratio(value)),
            Ok(_) => Err(UnitError(format!(
                "`{text}` is outside 0..1; write a probability as e.g. 0.2 or 20%"
            ))),
            Err(_) => Err(UnitError(format!(
                "`{text}` is not a probability; write e.g. 0.2 or 20%"
            ))),
        }
    }
}

impl FromStr for Ratio {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Ratio, UnitError> {
        let text = text.trim();
        let Some(digits) = text.strip_suffix('%') else {
            return Err(UnitError(match text.parse::<f64>() {
                Ok(value) if (0.0..=1.0).contains(&value) => format!(
                    "`{text}` is a bare number, which could mean {}% or {}%; write the one you mean with `%`",
                    trim_float(value),
                    trim_float(value * 100.0)
                ),
                Ok(value) if value.is_finite() => format!(
                    "`{text}` is a bare number; a ratio needs `%`: write {}%",
                    trim_float(value)
                ),
                _ => format!("`{text}` is not a ratio; write a percentage such as 1% or 99.9%"),
            }));
        };
        let digits = digits.trim();
        let value: f64 = digits
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| {
                UnitError(format!(
                    "`{text}` is not a ratio; write a percentage such as 1% or 99.9%"
                ))
            })?;
        // The decimal the user wrote, shifted two places and rounded once
        // (`99.9e-2` is the f64 nearest 0.999, as 999/1000 is), not
        // 99.9 / 100, which rounds twice to 0.9990000000000001: a measured
        // 99.9% must meet `>= 99.9%`.
        let fraction = format!("{digits}e-2")
            .parse::<f64>()
            .unwrap_or(value / 100.0);
        if !(0.0..=1.0).contains(&fraction) {
            return Err(UnitError(format!("`{text}` is outside 0%..100%")));
        }
        Ok(Ratio(fraction))
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", trim_float(self.0 * 100.0))
    }
}

/// Parses a size such as `16MiB`, `512KiB`, `1GiB` or `800B`. As in
/// Prometheus's configuration (`body_size_limit: 100MB`), `KB`, `MB`, `GB`
/// and `TB` are binary too, so a limit copied from a Prometheus file means
/// the same here. A bare number is refused, like a bare duration.
pub fn parse_bytes(text: &str) -> Result<u64, UnitError> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale: u64 = match unit.trim() {
        "B" => 1,
        "KiB" | "KB" => 1 << 10,
        "MiB" | "MB" => 1 << 20,
        "GiB" | "GB" => 1 << 30,
        "TiB" | "TB" => 1 << 40,
        "" => {
            return Err(UnitError(format!(
                "`{text}` has no unit; write e.g. 16MiB, 512KiB or {text}B"
            )));
        }
        other => {
            return Err(UnitError(format!(
                "unknown size unit `{other}` (expected B, KiB, MiB, GiB, TiB)"
            )));
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| UnitError(format!("`{text}` is not a size such as 16MiB")))?;
    let bytes = value * scale as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(UnitError(format!("`{text}` is too large")));
    }
    Ok(bytes as u64)
}

/// `1 request`, `2 requests`: a count and its noun, plural when not one.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A number for people, the one formatter every report uses: four
/// significant digits and no trailing zeros (`0.009551`, `157.3`, `12035`),
/// a whole number as it is (`6`, `17100`), and Prometheus's words for the
/// rest (`NaN`, `+Inf`, `-Inf`).
pub fn format_significant(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if x == x.trunc() && x.abs() < 1e15 {
        return format!("{x}");
    }
    let digits = x.abs().log10().floor() as i32;
    let decimals = (3 - digits).clamp(0, 15) as usize;
    let text = format!("{x:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Formats a byte count with binary prefixes: `512 B`, `1.5 KiB`, `2.00 MiB`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.2} {}", UNITS[unit])
    }
}

/// A UTC time as `20261122T055312Z` (for directory names).
pub fn format_utc_compact(time: std::time::SystemTime) -> String {
    let (year, month, day, hour, minute, second) = utc_parts(time);
    format!("{year:04}{month:02}{day:02}T{hour:02}{minute:02}{second:02}Z")
}

/// A UTC time as `2026-11-22 05:53:12` (for people).
pub fn format_utc(time: std::time::SystemTime) -> String {
    let (year, month, day, hour, minute, second) = utc_parts(time);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}")
}

/// Milliseconds since the epoch as RFC 3339 UTC, `2026-11-22T05:53:12.250Z`
/// (for logs).
pub fn rfc3339_ms(ms: i64) -> String {
    let ms = ms.max(0) as u64;
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    let (year, month, day, hour, minute, second) = utc_parts(time);
    let millis = ms % 1000;
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{millis:03}Z")
}

fn utc_parts(time: std::time::SystemTime) -> (i64, i64, i64, u64, u64, u64) {
    let secs = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    (year, month, day, rest / 3600, rest % 3600 / 60, rest % 60)
}

/// `value` with at most `decimals` decimals and no trailing zeros: `1.5`,
/// `0.125`, `100` (the one formatter for thresholds and rates as written).
pub fn format_decimals(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if decimals == 0 {
        return text;
    }
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn trim_float(value: f64) -> String {
    format_decimals(value, 3)
}

/// (year, month, day) of a count of days since 1970-01-01 (Howard
/// Hinnant's algorithm); negative days are before it.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_decimals_without_trailing_zeros() {
        assert_eq!(format_decimals(1.5, 3), "1.5");
        assert_eq!(format_decimals(100.0, 3), "100");
        assert_eq!(format_decimals(0.12345, 4), "0.1235");
        assert_eq!(format_decimals(2.5, 0), "2");
        assert_eq!(format_significant(14.4), "14.4");
        assert_eq!(format_significant(0.000123456), "0.0001235");
    }

    #[test]
    fn sizes_need_a_unit_and_prometheus_units_are_binary() {
        assert_eq!(parse_bytes("16MiB"), Ok(16 << 20));
        assert_eq!(parse_bytes("100MB"), Ok(100 << 20));
        assert_eq!(parse_bytes("1.5KiB"), Ok(1536));
        assert_eq!(parse_bytes("800B"), Ok(800));
        assert!(
            parse_bytes("1024")
                .unwrap_err()
                .to_string()
                .contains("has no unit")
        );
        assert!(
            parse_bytes("3 apples")
                .unwrap_err()
                .to_string()
                .contains("unknown size unit")
        );
        assert!(parse_bytes("MiB").is_err());
        assert!(parse_bytes("99999999999TiB").is_err());
    }

    #[test]
    fn durations_in_every_unit() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("500us").unwrap(), Duration::from_micros(500));
        assert_eq!(parse_duration("10ns").unwrap(), Duration::from_nanos(10));
    }

    #[test]
    fn durations_without_unit_or_with_junk_are_refused() {
        assert!(parse_duration("10").unwrap_err().0.contains("has no unit"));
        assert!(
            parse_duration("10parsecs")
                .unwrap_err()
                .0
                .contains("unknown duration unit")
        );
        assert!(parse_duration("").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("1..2s").is_err());
        assert!(parse_duration("99999999999999999999h").is_err());
    }

    #[test]
    fn rates() {
        assert_eq!("200/s".parse::<Rate>().unwrap().as_per_second(), 200.0);
        assert_eq!("200".parse::<Rate>().unwrap().as_per_second(), 200.0);
        assert_eq!("1.5k/s".parse::<Rate>().unwrap().as_per_second(), 1500.0);
        assert_eq!("600/m".parse::<Rate>().unwrap().as_per_second(), 10.0);
        assert!("0/s".parse::<Rate>().is_err());
        assert!("-5/s".parse::<Rate>().is_err());
        assert!("fast".parse::<Rate>().is_err());
        assert!("5/fortnight".parse::<Rate>().is_err());
        assert_eq!("1.5k/s".parse::<Rate>().unwrap().to_string(), "1500/s");
    }

    #[test]
    fn ratios() {
        assert_eq!("1%".parse::<Ratio>().unwrap().fraction(), 0.01);
        // A bare number is refused, with both readings in the hint.
        let bare = "1".parse::<Ratio>().unwrap_err().to_string();
        assert!(bare.contains("could mean 1% or 100%"), "{bare}");
        assert!("0.01".parse::<Ratio>().is_err());
        assert!("NaN%".parse::<Ratio>().is_err());
        assert_eq!(Ratio::parse_probability("0.25").unwrap().fraction(), 0.25);
        assert_eq!(Ratio::parse_probability("25%").unwrap().fraction(), 0.25);
        assert!(Ratio::parse_probability("2").is_err());
        assert!("150%".parse::<Ratio>().is_err());
        assert_eq!("99.9%".parse::<Ratio>().unwrap().to_string(), "99.9%");
    }

    #[test]
    fn rfc3339_milliseconds() {
        assert_eq!(rfc3339_ms(1_796_410_263_464), "2026-12-04T18:51:03.464Z");
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn utc_timestamps() {
        let at = |secs| std::time::UNIX_EPOCH + Duration::from_secs(secs);
        assert_eq!(format_utc_compact(at(0)), "19700101T000000Z");
        assert_eq!(format_utc_compact(at(951_782_400)), "20000229T000000Z");
        // Checked with `date -u -d @1795325547 +%Y%m%dT%H%M%SZ`.
        assert_eq!(format_utc_compact(at(1_795_325_547)), "20261122T053227Z");
    }

    #[test]
    fn human_formats() {
        assert_eq!(format_duration(Duration::from_micros(850)), "850µs");
        assert_eq!(format_duration(Duration::from_micros(12_345)), "12.35ms");
        assert_eq!(format_duration(Duration::from_millis(1250)), "1.250s");
        assert_eq!(format_duration(Duration::from_secs(125)), "2m05s");
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(1536), "1.50 KiB");
    }
}
