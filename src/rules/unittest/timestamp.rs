//! A test group's `start_timestamp`, read as promtool's `parseTime` reads
//! it: a number of Unix seconds (fractions allowed), else an RFC 3339 time
//! (`2024-01-01T00:00:00Z`, `2024-01-01T02:00:00.5+02:00`).

/// Text that is neither Unix seconds in range nor an RFC 3339 time: the
/// one way [`parse`] fails, in promtool's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot parse {text:?} to a valid timestamp")]
pub(crate) struct BadTimestamp {
    pub text: String,
}

/// Milliseconds since the Unix epoch.
pub(crate) fn parse(text: &str) -> Result<i64, BadTimestamp> {
    let bad = || BadTimestamp {
        text: text.to_string(),
    };
    if let Ok(seconds) = text.parse::<f64>() {
        if !seconds.is_finite() || seconds.abs() > 9.2e15 {
            return Err(bad());
        }
        // Go splits whole and fractional seconds, then keeps nanoseconds.
        let whole = seconds.trunc();
        let nanos = ((seconds - whole) * 1e9) as i64;
        return Ok(whole as i64 * 1000 + nanos / 1_000_000);
    }
    rfc3339(text).ok_or_else(bad)
}

fn rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |from: usize, len: usize| -> Option<i64> {
        let part = text.get(from..from + len)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return None;
        }
        let padded = format!("{:0<3}", &fraction[..len.min(3)]);
        millis = padded.parse::<i64>().ok()?;
        rest = &fraction[len..];
    }
    let offset_minutes = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let r = rest.as_bytes();
            if r.len() != 6 || r[3] != b':' {
                return None;
            }
            let h: i64 = rest[1..3].parse().ok()?;
            let m: i64 = rest[4..6].parse().ok()?;
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 60 + m)
        }
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `2006-01-02T15:04:05` (UTC) of Unix seconds, the form promtool's JUnit
/// `timestamp` takes.
pub(crate) fn format_seconds(seconds: i64) -> String {
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = crate::units::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_and_rfc3339() {
        assert_eq!(parse("1609459200"), Ok(1_609_459_200_000));
        assert_eq!(parse("1.5"), Ok(1500));
        assert_eq!(parse("2024-01-01T00:00:00Z"), Ok(1_704_067_200_000));
        assert_eq!(parse("2024-01-01T02:00:00.25+02:00"), Ok(1_704_067_200_250));
        assert_eq!(parse("1970-01-01T00:00:00-01:30"), Ok(5_400_000));
        assert_eq!(parse("2000-02-29T12:00:00Z"), Ok(951_825_600_000));
        assert_eq!(format_seconds(1_704_067_200), "2024-01-01T00:00:00");
        assert_eq!(format_seconds(951_825_600 + 3661), "2000-02-29T13:01:01");
        for bad in [
            "",
            "yesterday",
            "2024-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-01-01 00:00:00Z",
            "2024-01-01T00:00:00",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
