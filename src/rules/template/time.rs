//! Go's `time.Time` and `time.Duration` as templates see them: what
//! `toTime`, `toDuration` and `now | toTime` return, with the methods rule
//! files call on them (`Format`, `Add`, `Unix`, `UnixMilli`, `String`),
//! always in UTC as Prometheus gives them.

use std::fmt;

use crate::units::civil_from_days;

/// An instant: nanoseconds since the Unix epoch, in UTC.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Time(pub i128);

/// Go's `time.Duration`: nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Duration(pub i64);

const NANOS: i128 = 1_000_000_000;

impl Time {
    pub fn unix(self) -> i64 {
        self.0.div_euclid(NANOS) as i64
    }

    pub fn unix_milli(self) -> i64 {
        self.0.div_euclid(1_000_000) as i64
    }

    fn nanos(self) -> u32 {
        self.0.rem_euclid(NANOS) as u32
    }

    pub fn add(self, d: Duration) -> Time {
        Time(self.0 + d.0 as i128)
    }

    fn civil(self) -> Civil {
        let secs = self.unix();
        let days = secs.div_euclid(86_400);
        let rest = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let start_of_year = days - days_before(year, month) - (day - 1);
        Civil {
            year,
            month,
            day,
            hour: rest / 3600,
            minute: rest % 3600 / 60,
            second: rest % 60,
            nanos: self.nanos(),
            weekday: (days + 4).rem_euclid(7),
            yday: days - start_of_year + 1,
        }
    }

    /// Go's `Time.Format` with a reference-time layout (`2006-01-02`).
    pub fn format(self, layout: &str) -> String {
        let c = self.civil();
        let mut out = String::new();
        let mut rest = layout;
        while !rest.is_empty() {
            let (chunk, len) = next_chunk(rest);
            match chunk {
                Chunk::Literal => out.push_str(&rest[..len]),
                Chunk::Year => out.push_str(&format!("{:04}", c.year)),
                Chunk::Year2 => out.push_str(&format!("{:02}", c.year.rem_euclid(100))),
                Chunk::LongMonth => out.push_str(MONTHS[c.month as usize - 1]),
                Chunk::Month => out.push_str(&MONTHS[c.month as usize - 1][..3]),
                Chunk::NumMonth => out.push_str(&c.month.to_string()),
                Chunk::ZeroMonth => out.push_str(&format!("{:02}", c.month)),
                Chunk::LongWeekday => out.push_str(DAYS[c.weekday as usize]),
                Chunk::Weekday => out.push_str(&DAYS[c.weekday as usize][..3]),
                Chunk::Day => out.push_str(&c.day.to_string()),
                Chunk::UnderDay => out.push_str(&format!("{:>2}", c.day)),
                Chunk::ZeroDay => out.push_str(&format!("{:02}", c.day)),
                Chunk::YearDay => out.push_str(&format!("{:03}", c.yday)),
                Chunk::UnderYearDay => out.push_str(&format!("{:>3}", c.yday)),
                Chunk::Hour => out.push_str(&format!("{:02}", c.hour)),
                Chunk::Hour12 => out.push_str(&hour12(c.hour).to_string()),
                Chunk::ZeroHour12 => out.push_str(&format!("{:02}", hour12(c.hour))),
                Chunk::Minute => out.push_str(&c.minute.to_string()),
                Chunk::ZeroMinute => out.push_str(&format!("{:02}", c.minute)),
                Chunk::Second => out.push_str(&c.second.to_string()),
                Chunk::ZeroSecond => out.push_str(&format!("{:02}", c.second)),
                Chunk::Pm => out.push_str(if c.hour >= 12 { "PM" } else { "AM" }),
                Chunk::LowerPm => out.push_str(if c.hour >= 12 { "pm" } else { "am" }),
                Chunk::Zone => out.push_str("UTC"),
                Chunk::Offset(text) => out.push_str(text),
                Chunk::Fraction { digits, trim } => {
                    let all = format!("{:09}", c.nanos);
                    let mut frac = all[..digits.min(9)].to_string();
                    if trim {
                        frac = frac.trim_end_matches('0').to_string();
                        if !frac.is_empty() {
                            out.push_str(&rest[..1]);
                            out.push_str(&frac);
                        }
                    } else {
                        out.push_str(&rest[..1]);
                        out.push_str(&frac);
                    }
                }
            }
            rest = &rest[len..];
        }
        out
    }
}

impl fmt::Display for Time {
    /// `2006-01-02 15:04:05.999999999 -0700 MST`, in UTC.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.format("2006-01-02 15:04:05.999999999 -0700 MST"))
    }
}

impl fmt::Display for Duration {
    /// Go's `Duration.String`: `1h2m0.5s`, `1.5ms`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let u = self.0.unsigned_abs();
        if u == 0 {
            return f.write_str("0s");
        }
        if u < 1_000_000_000 {
            let (scaled, unit) = if u < 1_000 {
                return write!(f, "{sign}{u}ns");
            } else if u < 1_000_000 {
                (fraction(u, 3), "µs")
            } else {
                (fraction(u, 6), "ms")
            };
            return write!(f, "{sign}{scaled}{unit}");
        }
        let seconds = fraction(u, 9);
        let whole = u / 1_000_000_000;
        let (int_part, frac_part) = seconds.split_once('.').unwrap_or((&seconds, ""));
        let _ = int_part;
        let frac = if frac_part.is_empty() {
            String::new()
        } else {
            format!(".{frac_part}")
        };
        let (s, m, h) = (whole % 60, whole / 60 % 60, whole / 3600);
        if h > 0 {
            write!(f, "{sign}{h}h{m}m{s}{frac}s")
        } else if whole >= 60 {
            write!(f, "{sign}{m}m{s}{frac}s")
        } else {
            write!(f, "{sign}{s}{frac}s")
        }
    }
}

/// `u` divided by 10^`digits`, with the fraction's trailing zeros cut.
fn fraction(u: u64, digits: u32) -> String {
    let scale = 10u64.pow(digits);
    let frac = format!("{:0width$}", u % scale, width = digits as usize);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        (u / scale).to_string()
    } else {
        format!("{}.{frac}", u / scale)
    }
}

struct Civil {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    nanos: u32,
    weekday: i64,
    yday: i64,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days in the months of `year` before `month`.
fn days_before(year: i64, month: i64) -> i64 {
    const CUMULATIVE: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    CUMULATIVE[month as usize - 1] + i64::from(month > 2 && is_leap(year))
}

fn hour12(hour: i64) -> i64 {
    match hour % 12 {
        0 => 12,
        h => h,
    }
}

#[derive(Debug, Clone, Copy)]
enum Chunk {
    Literal,
    Year,
    Year2,
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekday,
    Weekday,
    Day,
    UnderDay,
    ZeroDay,
    YearDay,
    UnderYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    Pm,
    LowerPm,
    Zone,
    Offset(&'static str),
    Fraction { digits: usize, trim: bool },
}

/// The layout element at the start of `layout` and its length in bytes
/// (Go's `nextStdChunk`, one element at a time).
fn next_chunk(layout: &str) -> (Chunk, usize) {
    const TABLE: &[(&str, Chunk)] = &[
        ("January", Chunk::LongMonth),
        ("Jan", Chunk::Month),
        ("Monday", Chunk::LongWeekday),
        ("Mon", Chunk::Weekday),
        ("MST", Chunk::Zone),
        ("2006", Chunk::Year),
        ("002", Chunk::YearDay),
        ("01", Chunk::ZeroMonth),
        ("02", Chunk::ZeroDay),
        ("03", Chunk::ZeroHour12),
        ("04", Chunk::ZeroMinute),
        ("05", Chunk::ZeroSecond),
        ("06", Chunk::Year2),
        ("15", Chunk::Hour),
        ("1", Chunk::NumMonth),
        ("__2", Chunk::UnderYearDay),
        ("_2", Chunk::UnderDay),
        ("2", Chunk::Day),
        ("3", Chunk::Hour12),
        ("4", Chunk::Minute),
        ("5", Chunk::Second),
        ("PM", Chunk::Pm),
        ("pm", Chunk::LowerPm),
        ("-07:00:00", Chunk::Offset("+00:00:00")),
        ("-070000", Chunk::Offset("+000000")),
        ("-07:00", Chunk::Offset("+00:00")),
        ("-0700", Chunk::Offset("+0000")),
        ("-07", Chunk::Offset("+00")),
        ("Z07:00:00", Chunk::Offset("Z")),
        ("Z070000", Chunk::Offset("Z")),
        ("Z07:00", Chunk::Offset("Z")),
        ("Z0700", Chunk::Offset("Z")),
        ("Z07", Chunk::Offset("Z")),
    ];
    let bytes = layout.as_bytes();
    if matches!(bytes[0], b'.' | b',') && bytes.len() > 1 && matches!(bytes[1], b'0' | b'9') {
        let digit = bytes[1];
        let run = bytes[1..].iter().take_while(|b| **b == digit).count();
        if !bytes.get(1 + run).is_some_and(u8::is_ascii_digit) {
            return (
                Chunk::Fraction {
                    digits: run,
                    trim: digit == b'9',
                },
                1 + run,
            );
        }
    }
    for (text, chunk) in TABLE {
        if layout.starts_with(text) {
            return (*chunk, text.len());
        }
    }
    let width = layout.chars().next().map_or(1, char::len_utf8);
    (Chunk::Literal, width)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_prints_as_go() {
        let t = Time(1_435_065_584_128_000_000);
        assert_eq!(t.to_string(), "2015-06-23 13:19:44.128 +0000 UTC");
        assert_eq!(t.format("2006"), "2015");
        let now = Time(1_353_755_652 * NANOS);
        assert_eq!(
            now.format("Mon Jan 2 15:04:05 2006"),
            "Sat Nov 24 11:14:12 2012"
        );
        assert_eq!(
            now.format("2006-01-02T15:04:05Z07:00 pm 002"),
            "2012-11-24T11:14:12Z am 329"
        );
        assert_eq!(Duration(1_800 * 1_000_000_000).to_string(), "30m0s");
        assert_eq!(Duration(3_720_010_000_000).to_string(), "1h2m0.01s");
        assert_eq!(Duration(1_500_000).to_string(), "1.5ms");
        assert_eq!(Duration(-1_500_000_000).to_string(), "-1.5s");
        assert_eq!(Duration(0).to_string(), "0s");
    }
}
