//! One scrape over HTTP: the body read up to the target's body-size limit
//! (Prometheus's `body_size_limit`: a body of the limit or more fails the
//! scrape, and nothing past the limit is read), then checked for invalid
//! UTF-8 the way Prometheus's parsers check it. The scrape asks for the
//! text formats ([`ACCEPT_TEXT`]), or for protobuf first when the target
//! scrapes native histograms ([`ACCEPT_NATIVE`]), and reads the body as the
//! response's `Content-Type` says, the text format when it names neither
//! other. What can go wrong is a
//! [`ScrapeError`]: a failed scrape is data (`up` = 0), never an error that
//! stops a run.

use std::io::Read;
use std::time::{Duration, Instant, SystemTime};

use super::exposition::{Format, ParseError};
use super::protobuf::{self, ProtobufError};
use super::scrape::{ScrapeLimits, system_ms};

/// Why a scrape failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScrapeError {
    /// No answer, or an HTTP error status.
    #[error("{0}")]
    Fetch(String),
    #[error(
        "body size limit exceeded: the body reached {} (raise this scrape's `body_size_limit`)",
        crate::units::format_bytes(*limit)
    )]
    BodySizeLimit { limit: u64 },
    #[error(
        "sample limit exceeded: more than {limit} samples (raise this scrape's `sample_limit`)"
    )]
    SampleLimit { limit: usize },
    #[error("invalid exposition: {0}")]
    Invalid(ParseError),
    #[error("invalid protobuf exposition: {0}")]
    InvalidProtobuf(ProtobufError),
}

/// A scrape's body, by the format its `Content-Type` named.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Text(String, Format),
    /// Delimited `MetricFamily` messages ([`super::protobuf`]).
    Protobuf(Vec<u8>),
}

/// The `Accept` header of a scrape with `scrape_native_histograms`, as
/// Prometheus 3 sends it then: protobuf first, then OpenMetrics, then the
/// text format.
pub(crate) const ACCEPT_NATIVE: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,\
application/openmetrics-text;version=1.0.0;q=0.5,\
text/plain;version=0.0.4;q=0.4,*/*;q=0.1";

/// The `Accept` header of a scrape by default: the text formats only, so a
/// histogram keeps its classic buckets (a Go client exposes native buckets
/// only in protobuf).
pub(crate) const ACCEPT_TEXT: &str =
    "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

impl ScrapeError {
    /// A limit of slogate's refused the scrape: the data was there and is
    /// lost, so verdicts over its time are marked.
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            ScrapeError::BodySizeLimit { .. } | ScrapeError::SampleLimit { .. }
        )
    }
}

/// A scrape's outcome before it is stored.
pub struct Fetched {
    /// When the scrape began, ms since the epoch.
    pub t: i64,
    pub duration: Duration,
    pub result: Result<Body, ScrapeError>,
}

/// One scrape of `url`, reading at most `limits.body_size_bytes`.
pub fn fetch(client: &reqwest::blocking::Client, url: &str, limits: &ScrapeLimits) -> Fetched {
    let t = system_ms(SystemTime::now());
    let started = Instant::now();
    let result = client
        .get(url)
        .header(
            "Accept",
            if limits.native_histograms {
                ACCEPT_NATIVE
            } else {
                ACCEPT_TEXT
            },
        )
        .send()
        .map_err(|e| ScrapeError::Fetch(describe(e)))
        .and_then(|response| {
            let status = response.status();
            if !status.is_success() {
                return Err(ScrapeError::Fetch(format!(
                    "server returned HTTP status {status}"
                )));
            }
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let format = if protobuf::is_protobuf(content_type) {
                None
            } else if content_type.starts_with("application/openmetrics-text") {
                Some(Format::OpenMetrics)
            } else {
                Some(Format::Text)
            };
            let limit = limits.body_size_bytes;
            // A declared length over the limit fails before any is read.
            if response.content_length().is_some_and(|n| n >= limit) {
                return Err(ScrapeError::BodySizeLimit { limit });
            }
            let mut body = Vec::new();
            response
                .take(limit)
                .read_to_end(&mut body)
                .map_err(|e| ScrapeError::Fetch(format!("reading the body: {e}")))?;
            // As Prometheus: reaching the limit is exceeding it.
            if body.len() as u64 >= limit {
                return Err(ScrapeError::BodySizeLimit { limit });
            }
            match format {
                None => Ok(Body::Protobuf(body)),
                Some(format) => Ok(Body::Text(text(body, format)?, format)),
            }
        });
    Fetched {
        t,
        duration: started.elapsed(),
        result,
    }
}

/// The error and its causes, without the URL (the caller names the target,
/// redacted; reqwest's own text would repeat the URL with its secrets).
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The body as text. Invalid UTF-8 refuses the scrape wherever Prometheus
/// refuses it (a label value, HELP text, a name); in a plain comment, which
/// Prometheus skips unread, it is replaced and the comment ignored as ever.
/// Replacing it in a label value instead would let distinct series collide.
pub(crate) fn text(body: Vec<u8>, format: Format) -> Result<String, ScrapeError> {
    let body = match String::from_utf8(body) {
        Ok(text) => return Ok(text),
        Err(e) => e.into_bytes(),
    };
    for (index, line) in body.split(|&b| b == b'\n').enumerate() {
        let Err(e) = std::str::from_utf8(line) else {
            continue;
        };
        let at = e.valid_up_to();
        let what = match place(line, at, format) {
            Place::Comment => continue,
            Place::Metadata => "a HELP, TYPE or UNIT line",
            Place::MetricName => "a metric name",
            Place::LabelName => "a label name",
            Place::LabelValue => "a label value",
            Place::Value => "a sample's value",
        };
        return Err(ScrapeError::Invalid(ParseError {
            line: index + 1,
            column: at + 1,
            message: format!(
                "invalid UTF-8 in {what} (Prometheus refuses the scrape; replacing it could merge distinct series)"
            ),
        }));
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

enum Place {
    Comment,
    Metadata,
    MetricName,
    LabelName,
    LabelValue,
    Value,
}

/// Where in `line` the byte at `at` is.
fn place(line: &[u8], at: usize, format: Format) -> Place {
    let start = line
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(line.len());
    let trimmed = &line[start..];
    if trimmed.starts_with(b"#") {
        let keywords: &[&[u8]] = match format {
            Format::Text => &[b"# HELP ", b"# TYPE "],
            Format::OpenMetrics => &[b"# HELP ", b"# TYPE ", b"# UNIT "],
        };
        return if keywords.iter().any(|k| trimmed.starts_with(k)) {
            Place::Metadata
        } else {
            Place::Comment
        };
    }
    let (mut in_braces, mut in_quotes, mut escaped) = (false, false, false);
    for &b in &line[..at] {
        match b {
            _ if escaped => escaped = false,
            b'\\' if in_quotes => escaped = true,
            b'"' if in_braces => in_quotes = !in_quotes,
            b'{' if !in_quotes => in_braces = true,
            b'}' if !in_quotes => in_braces = false,
            b' ' | b'\t' if !in_braces && !in_quotes => return Place::Value,
            _ => {}
        }
    }
    match (in_braces, in_quotes) {
        (_, true) => Place::LabelValue,
        (true, false) => Place::LabelName,
        (false, false) => Place::MetricName,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &[u8]) -> String {
        match text(body.to_vec(), Format::Text) {
            Err(ScrapeError::Invalid(e)) => e.to_string(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn invalid_utf8_refuses_the_scrape_where_prometheus_does() {
        assert_eq!(
            message(b"ok 1\na{x=\"caf\xe9\"} 1\n"),
            "line 2, column 9: invalid UTF-8 in a label value (Prometheus refuses the scrape; replacing it could merge distinct series)"
        );
        assert!(message(b"a{x=\"\\\"\xff\"} 1\n").contains("a label value"));
        assert!(message(b"a\xff 1\n").contains("a metric name"));
        assert!(message(b"a{x\xff=\"1\"} 1\n").contains("a label name"));
        assert!(message(b"# HELP a caf\xe9\na 1\n").contains("a HELP, TYPE or UNIT line"));
        assert!(message(b"a 1\xff\n").contains("a sample's value"));
    }

    #[test]
    fn invalid_utf8_in_a_plain_comment_is_skipped_as_prometheus_skips_it() {
        let body = text(b"# caf\xe9\na 1\n".to_vec(), Format::Text).unwrap();
        assert_eq!(body, "# caf\u{fffd}\na 1\n");
        assert_eq!(text(b"a 1\n".to_vec(), Format::Text).unwrap(), "a 1\n");
    }
}
