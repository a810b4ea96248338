//! A parser for the Prometheus text exposition format (0.0.4) and
//! OpenMetrics text (1.0): comments, HELP/TYPE/UNIT, label escaping,
//! timestamps (ms in 0.0.4, seconds in OpenMetrics), NaN and ±Inf, exemplars
//! (parsed and ignored) and `# EOF`.
//!
//! No well-kept Rust crate parses both correctly today, so this one is ours:
//! it borrows from the input, allocates only for escaped label values, and
//! reports malformed input by line and column, never by panicking. Samples
//! go to a [`Visitor`] as they are read.

use std::borrow::Cow;
use std::fmt;

/// Which text format the input is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4`.
    Text,
    /// `application/openmetrics-text; version=1.0.0`.
    OpenMetrics,
}

/// A metric family's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    StateSet,
    Info,
    Unknown,
}

impl MetricType {
    fn parse(text: &str, format: Format) -> Option<MetricType> {
        Some(match (text, format) {
            ("counter", _) => MetricType::Counter,
            ("gauge", _) => MetricType::Gauge,
            ("histogram", _) => MetricType::Histogram,
            ("summary", _) => MetricType::Summary,
            ("untyped", Format::Text) | ("unknown", Format::OpenMetrics) => MetricType::Unknown,
            ("gaugehistogram", Format::OpenMetrics) => MetricType::GaugeHistogram,
            ("stateset", Format::OpenMetrics) => MetricType::StateSet,
            ("info", Format::OpenMetrics) => MetricType::Info,
            _ => return None,
        })
    }
}

/// A float as OpenMetrics writes it (Go's `labels.FormatOpenMetricsFloat`):
/// the shortest form, exponent past 6 digits or below 1e-4 (`1e+06`,
/// `1e-05`), and `.0` after a whole number (`1.0`); `NaN`, `+Inf`, `-Inf`.
pub fn openmetrics_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    // Rust's `{:e}` gives the shortest digits: `1.5e-5`, `1e6`.
    let scientific = format!("{v:e}");
    let (mantissa, exponent) = scientific.split_once('e').expect("`{:e}` has an exponent");
    let exponent: i32 = exponent.parse().expect("a whole exponent");
    // Go's `%g` with the shortest digits: `%e` when the exponent is below
    // -4 or at least 6 (`eprec` is 6 for the shortest form).
    if !(-4..6).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exponent.abs());
    }
    let plain = format!("{v}");
    if plain.contains('.') {
        plain
    } else {
        format!("{plain}.0")
    }
}

/// A label of a sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label<'a> {
    pub name: &'a str,
    /// Unescaped; borrowed unless the value held escapes.
    pub value: Cow<'a, str>,
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleLine<'a> {
    pub name: &'a str,
    pub labels: &'a [Label<'a>],
    pub value: f64,
    /// Milliseconds since the epoch, if the line gave a timestamp.
    pub timestamp_ms: Option<i64>,
}

/// Metadata lines.
#[derive(Debug, Clone, PartialEq)]
pub enum Metadata<'a> {
    Help { family: &'a str, help: Cow<'a, str> },
    Type { family: &'a str, kind: MetricType },
    Unit { family: &'a str, unit: &'a str },
}

/// Receives what the parser reads, in input order.
pub trait Visitor {
    fn metadata(&mut self, _metadata: &Metadata<'_>) {}
    fn sample(&mut self, sample: &SampleLine<'_>);
    /// A native histogram sample (only the protobuf format has them);
    /// `sample.value` is NaN.
    fn histogram(
        &mut self,
        _sample: &SampleLine<'_>,
        _h: &crate::metrics::histogram::FloatHistogram,
    ) {
    }
}

/// Malformed input: where, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// 1-based.
    pub line: usize,
    /// 1-based, in bytes.
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// Parses `input`, calling `visitor` for each metadata line and sample.
/// Returns the number of samples.
pub fn parse(input: &str, format: Format, visitor: &mut impl Visitor) -> Result<usize, ParseError> {
    let mut labels: Vec<Label<'_>> = Vec::with_capacity(16);
    let mut samples = 0;
    let mut saw_eof = false;
    // A final newline leaves an empty last piece; it is not a line.
    let pieces = input.split('\n').count();
    for (index, line) in input.split('\n').enumerate() {
        let number = index + 1;
        let last = number == pieces;
        let error = |column: usize, message: String| ParseError {
            line: number,
            column: column + 1,
            message,
        };
        if saw_eof {
            if last && line.is_empty() {
                continue;
            }
            return Err(error(0, "nothing may follow `# EOF`".into()));
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        let raw_length = line.len();
        // The classic format allows blanks before a line, as Prometheus's
        // parser does; OpenMetrics does not.
        let line = match format {
            Format::Text => line.trim_start_matches([' ', '\t']),
            Format::OpenMetrics => line,
        };
        let indent = raw_length - line.len();
        if line.is_empty() {
            if format == Format::OpenMetrics && !last {
                return Err(error(0, "empty line (OpenMetrics allows none)".into()));
            }
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            if format == Format::OpenMetrics && comment == " EOF" {
                saw_eof = true;
                continue;
            }
            match metadata(comment, format)
                .map_err(|(column, message)| error(indent + column + 1, message))?
            {
                Some(meta) => visitor.metadata(&meta),
                None if format == Format::OpenMetrics => {
                    return Err(error(
                        0,
                        "OpenMetrics allows only HELP, TYPE, UNIT and EOF comments".into(),
                    ));
                }
                None => {}
            }
            continue;
        }
        labels.clear();
        let (name, value, timestamp_ms) = sample(line, format, &mut labels)
            .map_err(|(column, message)| error(indent + column, message))?;
        visitor.sample(&SampleLine {
            name,
            labels: &labels,
            value,
            timestamp_ms,
        });
        samples += 1;
    }
    if format == Format::OpenMetrics && !saw_eof {
        return Err(ParseError {
            line: pieces,
            column: 1,
            message: "missing `# EOF` at the end".into(),
        });
    }
    Ok(samples)
}

type Failure = (usize, String);

/// A `#` line (without the `#`): metadata, or None for a plain comment.
fn metadata(comment: &str, format: Format) -> Result<Option<Metadata<'_>>, Failure> {
    let Some(rest) = comment.strip_prefix(' ') else {
        return Ok(None);
    };
    let (keyword, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let at = 1 + keyword.len() + 1;
    // `# TYPE "my.metric" counter`: a quoted UTF-8 family name.
    let (family, rest, quoted) = match rest.strip_prefix('"') {
        Some(_) => {
            let (family, end) = quoted_name(rest, 0).map_err(|(c, m)| (at + c, m))?;
            let after = &rest[end..];
            (family, after.strip_prefix(' ').unwrap_or(after), true)
        }
        None => {
            let (family, rest) = rest.split_once(' ').unwrap_or((rest, ""));
            (family, rest, false)
        }
    };
    let check_name = |family: &str| {
        if quoted || is_metric_name(family) {
            Ok(())
        } else {
            Err((
                at,
                format!("expected a metric name after `{keyword}`, found `{family}`"),
            ))
        }
    };
    match keyword {
        "HELP" => {
            check_name(family)?;
            Ok(Some(Metadata::Help {
                family,
                help: unescape(rest, false),
            }))
        }
        "TYPE" => {
            check_name(family)?;
            let kind = MetricType::parse(rest.trim_end(), format).ok_or_else(|| {
                let known = match format {
                    Format::Text => "counter, gauge, histogram, summary, untyped",
                    Format::OpenMetrics => "counter, gauge, histogram, gaugehistogram, summary, stateset, info, unknown",
                };
                (at + family.len() + 1, format!("unknown type `{rest}` (expected one of {known})"))
            })?;
            Ok(Some(Metadata::Type { family, kind }))
        }
        "UNIT" if format == Format::OpenMetrics => {
            check_name(family)?;
            Ok(Some(Metadata::Unit { family, unit: rest }))
        }
        _ => Ok(None),
    }
}

/// Parses a sample line; labels go into `labels`.
fn sample<'a>(
    line: &'a str,
    format: Format,
    labels: &mut Vec<Label<'a>>,
) -> Result<(&'a str, f64, Option<i64>), Failure> {
    let bytes = line.as_bytes();
    // `{"my.metric", "a"="b"}`: a UTF-8 name, quoted inside the braces
    // (Prometheus 3's text format, OpenMetrics 2).
    let (mut name, mut at) = if bytes.first() == Some(&b'{') {
        ("", 0)
    } else {
        let name_end = bytes
            .iter()
            .position(|&b| !is_name_byte(b, true))
            .unwrap_or(bytes.len());
        let name = &line[..name_end];
        if name.is_empty() || name.as_bytes()[0].is_ascii_digit() {
            return Err((0, "expected a metric name".into()));
        }
        (name, name_end)
    };
    if bytes.get(at) == Some(&b'{') {
        let slot = if name.is_empty() {
            Some(&mut name)
        } else {
            None
        };
        at = label_set(line, at + 1, labels, slot)?;
        if name.is_empty() {
            return Err((
                0,
                "expected a metric name (`{\"my.metric\", ...}` quotes it inside the braces)"
                    .into(),
            ));
        }
    }
    // Exactly one space in OpenMetrics; blanks or tabs in 0.0.4.
    let value_start = skip_blanks(bytes, at);
    if value_start == at {
        return Err((
            at,
            format!("expected a space and a value after `{}`", &line[..at]),
        ));
    }
    let value_end = find_blank(bytes, value_start);
    let value = parse_value(&line[value_start..value_end]).ok_or_else(|| {
        (
            value_start,
            format!(
                "`{}` is not a number (expected e.g. 1.5, NaN, +Inf)",
                &line[value_start..value_end]
            ),
        )
    })?;
    let mut at = skip_blanks(bytes, value_end);
    let mut timestamp_ms = None;
    if at < bytes.len() && bytes[at] != b'#' {
        let end = find_blank(bytes, at);
        let text = &line[at..end];
        timestamp_ms = Some(match format {
            Format::Text => text.parse::<i64>().map_err(|_| {
                (
                    at,
                    format!("`{text}` is not a timestamp (milliseconds, an integer)"),
                )
            })?,
            Format::OpenMetrics => text
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite())
                .map(|s| (s * 1000.0).round() as i64)
                .ok_or_else(|| (at, format!("`{text}` is not a timestamp (seconds)")))?,
        });
        at = skip_blanks(bytes, end);
    }
    if at < bytes.len() {
        if bytes[at] == b'#' && format == Format::OpenMetrics {
            exemplar(line, at)?;
        } else {
            return Err((at, format!("unexpected `{}` after the value", &line[at..])));
        }
    }
    Ok((name, value, timestamp_ms))
}

/// Parses `name="value",...}` from `at` (just after `{`); returns the index
/// after `}`. Names may be quoted (`"label.x"="v"`); with `metric`, a
/// quoted string standing alone is the metric's name.
fn label_set<'a>(
    line: &'a str,
    mut at: usize,
    labels: &mut Vec<Label<'a>>,
    mut metric: Option<&mut &'a str>,
) -> Result<usize, Failure> {
    let bytes = line.as_bytes();
    loop {
        at = skip_blanks(bytes, at);
        match bytes.get(at) {
            Some(b'}') => return Ok(at + 1),
            None => return Err((at, "unterminated label set: expected `}`".into())),
            _ => {}
        }
        let start = at;
        let name = if bytes[at] == b'"' {
            let (name, end) = quoted_name(line, at)?;
            at = skip_blanks(bytes, end);
            if let Some(slot) = metric
                .as_mut()
                .filter(|_| matches!(bytes.get(at), Some(b',' | b'}')))
            {
                if !slot.is_empty() {
                    return Err((start, "a second metric name in the braces".into()));
                }
                **slot = name;
                if bytes[at] == b',' {
                    at += 1;
                }
                continue;
            }
            name
        } else {
            while at < bytes.len() && is_name_byte(bytes[at], false) {
                at += 1;
            }
            let name = &line[start..at];
            if name.is_empty() || name.as_bytes()[0].is_ascii_digit() {
                return Err((start, "expected a label name".into()));
            }
            name
        };
        at = skip_blanks(bytes, at);
        if bytes.get(at) != Some(&b'=') {
            return Err((at, format!("expected `=` after label `{name}`")));
        }
        at = skip_blanks(bytes, at + 1);
        if bytes.get(at) != Some(&b'"') {
            return Err((
                at,
                format!("expected `\"` to open the value of label `{name}`"),
            ));
        }
        let (value, end) = quoted(line, at + 1)?;
        if labels.iter().any(|l| l.name == name) {
            return Err((start, format!("label `{name}` appears twice")));
        }
        labels.push(Label { name, value });
        at = skip_blanks(bytes, end);
        match bytes.get(at) {
            Some(b',') => at += 1,
            Some(b'}') => return Ok(at + 1),
            _ => return Err((at, "expected `,` or `}` after a label value".into())),
        }
    }
}

/// A quoted name from `at` (the opening quote): the text between the
/// quotes and the index after the closing one. Escapes are refused (no
/// exposition seen in use needs them in a name).
fn quoted_name(line: &str, at: usize) -> Result<(&str, usize), Failure> {
    let rest = &line[at + 1..];
    let Some(len) = rest.find(['"', '\\']) else {
        return Err((
            at,
            "unterminated quoted name: expected a closing `\"`".into(),
        ));
    };
    if rest.as_bytes()[len] == b'\\' {
        return Err((
            at + 1 + len,
            "escapes in a quoted name are not supported".into(),
        ));
    }
    if len == 0 {
        return Err((at, "an empty quoted name".into()));
    }
    Ok((&rest[..len], at + 1 + len + 1))
}

/// A quoted label value from `at` (just after the opening quote); returns it
/// unescaped and the index after the closing quote.
fn quoted(line: &str, at: usize) -> Result<(Cow<'_, str>, usize), Failure> {
    let bytes = line.as_bytes();
    let mut end = at;
    let mut escaped = false;
    while end < bytes.len() {
        match bytes[end] {
            b'"' => {
                let raw = &line[at..end];
                let value = if escaped {
                    unescape(raw, true)
                } else {
                    Cow::Borrowed(raw)
                };
                return Ok((value, end + 1));
            }
            b'\\' => {
                escaped = true;
                match bytes.get(end + 1) {
                    Some(b'\\' | b'"' | b'n') => end += 2,
                    _ => {
                        return Err((
                            end,
                            "invalid escape in a label value (use \\\\, \\\" or \\n)".into(),
                        ));
                    }
                }
            }
            _ => end += 1,
        }
    }
    Err((
        at.saturating_sub(1),
        "unterminated label value: expected a closing `\"`".into(),
    ))
}

/// Undoes `\\`, `\n` (and `\"` in label values).
fn unescape(text: &str, quotes: bool) -> Cow<'_, str> {
    if !text.contains('\\') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some('"') if quotes => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// An exemplar: `# {labels} value [timestamp]`, checked and dropped.
fn exemplar(line: &str, at: usize) -> Result<(), Failure> {
    let bytes = line.as_bytes();
    let mut at = skip_blanks(bytes, at + 1);
    if bytes.get(at) != Some(&b'{') {
        return Err((at, "expected `{` to start an exemplar's labels".into()));
    }
    let mut scratch = Vec::new();
    at = label_set(line, at + 1, &mut scratch, None)?;
    let start = skip_blanks(bytes, at);
    let end = find_blank(bytes, start);
    if parse_value(&line[start..end]).is_none() {
        return Err((start, "expected the exemplar's value".into()));
    }
    let rest = skip_blanks(bytes, end);
    if rest < bytes.len() {
        let stamp_end = find_blank(bytes, rest);
        if line[rest..stamp_end].parse::<f64>().is_err()
            || skip_blanks(bytes, stamp_end) < bytes.len()
        {
            return Err((rest, "unexpected text after the exemplar".into()));
        }
    }
    Ok(())
}

/// A sample value: a float, `NaN`, `+Inf`, `-Inf` (any case, as Go parses).
fn parse_value(text: &str) -> Option<f64> {
    match text {
        "" => None,
        _ if text.eq_ignore_ascii_case("nan") => Some(f64::NAN),
        _ if text.eq_ignore_ascii_case("+inf") || text.eq_ignore_ascii_case("inf") => {
            Some(f64::INFINITY)
        }
        _ if text.eq_ignore_ascii_case("-inf") => Some(f64::NEG_INFINITY),
        // Rust's parser also takes "infinity" and such; Prometheus does not.
        _ if text
            .bytes()
            .any(|b| b.is_ascii_alphabetic() && !matches!(b, b'e' | b'E')) =>
        {
            None
        }
        _ => text.parse().ok(),
    }
}

fn is_metric_name(text: &str) -> bool {
    !text.is_empty()
        && !text.as_bytes()[0].is_ascii_digit()
        && text.bytes().all(|b| is_name_byte(b, true))
}

fn is_name_byte(byte: u8, colon: bool) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || (colon && byte == b':')
}

fn skip_blanks(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && (bytes[at] == b' ' || bytes[at] == b'\t') {
        at += 1;
    }
    at
}

fn find_blank(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && bytes[at] != b' ' && bytes[at] != b'\t' {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests;
