//! Faults as written (`FaultSpec`: the same keys in a scenario, on the
//! command line and in the control API) and as applied (`Fault`: checked
//! against the proxy's mode, units parsed).
//!
//! ```text
//! kind        mode       what it does (to the requests or connections it draws)
//! abort       http       answers `status` (default 503) with `body`, upstream not asked
//! latency     http, tcp  waits `latency` + uniform 0..`jitter`, or a log-normal
//!                        draw with median `p50` and 99th percentile `p99`
//!                        (tcp: per chunk, in `direction`)
//! bandwidth   http, tcp  at most `rate` (e.g. 64KB/s) for the response body
//!                        (tcp: in `direction`)
//! hang        http       never answers; the connection is closed when the
//!                        fault ends or the client gives up
//! close       http       sends the status, headers and at most `after` body
//!                        bytes, then closes the connection mid-response
//! reset       tcp        RST both sides after `after` bytes forwarded
//! blackhole   tcp        accepts and reads, never forwards or answers
//! refuse      tcp        new connections refused (probability 100%: the
//!                        port stops listening; below: accepted then RST)
//! ```
//!
//! `probability` (default 100%) is drawn per request in http mode and per
//! connection in tcp mode; `0%..30%` ramps it linearly over the fault's
//! bound (its phase, or `for`). `path` (a prefix) and `header` (`name` or
//! `name: value`) narrow an http fault to the requests that match.
//!
//! Longer than 700 lines on purpose: it is the one definition of a fault
//! (the kinds, their keys, each kind's parsing and checks against the
//! proxy's mode, and the words of the command line and control API), so
//! a new kind or key is added in one file and the scenario, the command
//! line and the API cannot disagree about it.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::rng::SharedRng;
use crate::units::{Ratio, parse_duration};

/// The longest latency or hang a fault may add.
pub const MAX_DELAY: Duration = Duration::from_secs(600);
/// The longest `for` a fault may have.
pub const MAX_BOUND: Duration = Duration::from_secs(24 * 3600);
/// A fault's bound when none is given (control API and command line).
pub const DEFAULT_BOUND: Duration = Duration::from_secs(600);

/// Layer 7 (requests) or layer 4 (byte streams).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Http,
    Tcp,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Http => "http",
            Mode::Tcp => "tcp",
        })
    }
}

/// A proxy mode that is neither of the two.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mode `{0}` is neither `http` nor `tcp`")]
pub struct UnknownMode(String);

impl std::str::FromStr for Mode {
    type Err = UnknownMode;
    fn from_str(text: &str) -> Result<Mode, UnknownMode> {
        match text {
            "http" => Ok(Mode::Http),
            "tcp" => Ok(Mode::Tcp),
            _ => Err(UnknownMode(text.to_string())),
        }
    }
}

/// A number or a string, as JSON and YAML allow either for a ratio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Number(f64),
    Text(String),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Number(n) => write!(f, "{n}"),
            Scalar::Text(t) => f.write_str(t),
        }
    }
}

/// `20%`, `0.2`, `0%..30%`, or `{from: 0%, to: 30%}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProbabilitySpec {
    One(Scalar),
    Ramp { from: Scalar, to: Scalar },
}

/// One fault as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<ProbabilitySpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// The fault's bound (default 10m; a scenario's phase bounds its own).
    #[serde(default, rename = "for", skip_serializing_if = "Option::is_none")]
    pub bound: Option<String>,
}

/// What is wrong with a fault, and in which key: the message, then the
/// hint in parentheses.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}{}", .hint.as_ref().map_or(String::new(), |hint| format!(" ({hint})")))]
pub struct FaultError {
    pub key: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

fn error(key: &'static str, message: impl Into<String>, hint: Option<&str>) -> FaultError {
    FaultError {
        key,
        message: message.into(),
        hint: hint.map(str::to_string),
    }
}

/// The kinds, for "did you mean".
pub const KINDS: [&str; 8] = [
    "abort",
    "latency",
    "bandwidth",
    "hang",
    "close",
    "reset",
    "blackhole",
    "refuse",
];

/// Every key a fault may have.
pub const KEYS: [&str; 14] = [
    "kind",
    "probability",
    "status",
    "body",
    "latency",
    "jitter",
    "p50",
    "p99",
    "rate",
    "direction",
    "after",
    "path",
    "header",
    "for",
];

/// What a fault does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Abort { status: u16, body: String },
    Latency(Delay),
    Bandwidth { bytes_per_second: u64 },
    Hang,
    Close { after_bytes: u64 },
    Reset { after_bytes: u64 },
    Blackhole,
    Refuse,
}

impl Action {
    /// The kind's name, as written and as the metrics label it.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Abort { .. } => "abort",
            Action::Latency(_) => "latency",
            Action::Bandwidth { .. } => "bandwidth",
            Action::Hang => "hang",
            Action::Close { .. } => "close",
            Action::Reset { .. } => "reset",
            Action::Blackhole => "blackhole",
            Action::Refuse => "refuse",
        }
    }
}

/// An added delay.
#[derive(Debug, Clone, PartialEq)]
pub enum Delay {
    /// `base` plus a uniform draw in 0..`jitter`.
    Uniform { base: Duration, jitter: Duration },
    /// Log-normal: ln(delay) ~ N(mu, sigma²) in seconds.
    LogNormal { mu: f64, sigma: f64 },
}

impl Delay {
    /// One draw, at most [`MAX_DELAY`].
    pub fn sample(&self, rng: &SharedRng) -> Duration {
        let seconds = match self {
            Delay::Uniform { base, jitter } => {
                base.as_secs_f64() + jitter.as_secs_f64() * rng.uniform()
            }
            Delay::LogNormal { mu, sigma } => (mu + sigma * rng.normal()).exp(),
        };
        Duration::from_secs_f64(seconds.clamp(0.0, MAX_DELAY.as_secs_f64()))
    }
}

/// Which way bytes flow in tcp mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Client to upstream.
    Upstream,
    /// Upstream to client.
    Downstream,
    Both,
}

impl Direction {
    pub fn includes(self, other: Direction) -> bool {
        self == Direction::Both || self == other
    }
}

/// A probability, possibly ramping over the fault's bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probability {
    pub from: f64,
    pub to: f64,
}

impl Probability {
    /// At `progress` (0..=1) through the fault's bound.
    pub fn at(self, progress: f64) -> f64 {
        self.from + (self.to - self.from) * progress.clamp(0.0, 1.0)
    }

    pub fn ramps(self) -> bool {
        self.from != self.to
    }
}

impl fmt::Display for Probability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let percent = |p: f64| crate::units::format_significant(p * 100.0);
        if self.ramps() {
            write!(f, "{}%..{}%", percent(self.from), percent(self.to))
        } else {
            write!(f, "{}%", percent(self.from))
        }
    }
}

/// Which requests an http fault applies to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub path_prefix: Option<String>,
    pub header: Option<(http::HeaderName, Option<String>)>,
}

impl Filter {
    pub fn matches(&self, path: &str, headers: &http::HeaderMap) -> bool {
        if let Some(prefix) = &self.path_prefix
            && !path.starts_with(prefix.as_str())
        {
            return false;
        }
        match &self.header {
            None => true,
            Some((name, None)) => headers.contains_key(name),
            Some((name, Some(value))) => headers
                .get_all(name)
                .iter()
                .any(|v| v.to_str().is_ok_and(|v| v.trim() == value)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.path_prefix.is_none() && self.header.is_none()
    }
}

/// A fault, checked and parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub action: Action,
    pub probability: Probability,
    pub filter: Filter,
    pub direction: Direction,
    /// `for`, if given.
    pub bound: Option<Duration>,
}

impl Fault {
    /// Checks `spec` for a proxy in `mode`.
    pub fn new(spec: &FaultSpec, mode: Mode) -> Result<Fault, FaultError> {
        let kind = spec.kind.as_str();
        let allowed: &[&str] = match kind {
            "abort" => &["status", "body"],
            "latency" => &["latency", "jitter", "p50", "p99", "direction"],
            "bandwidth" => &["rate", "direction"],
            "hang" => &[],
            "close" => &["after"],
            "reset" => &["after"],
            "blackhole" | "refuse" => &[],
            _ => {
                let hint = crate::diag::nearest(kind, KINDS.iter().copied())
                    .map(|k| format!("did you mean `{k}`?"))
                    .unwrap_or_else(|| format!("one of {}", KINDS.join(", ")));
                return Err(error(
                    "kind",
                    format!("unknown fault kind `{kind}`"),
                    Some(&hint),
                ));
            }
        };
        let modes: &[Mode] = match kind {
            "abort" | "hang" | "close" => &[Mode::Http],
            "reset" | "blackhole" | "refuse" => &[Mode::Tcp],
            _ => &[Mode::Http, Mode::Tcp],
        };
        if !modes.contains(&mode) {
            let hint = match kind {
                "hang" => "a tcp proxy's hang is `blackhole`",
                "close" => "a tcp proxy closes mid-stream with `reset`",
                "reset" => "an http proxy closes mid-response with `close`",
                "blackhole" => "an http proxy's blackhole is `hang`",
                "abort" => "a tcp proxy cannot answer with a status; use `reset` or `refuse`",
                _ => "declare the proxy with the other mode",
            };
            return Err(error(
                "kind",
                format!("a `{kind}` fault needs a proxy in {} mode", modes[0]),
                Some(hint),
            ));
        }
        for (key, given) in given_keys(spec) {
            if given && !allowed.contains(&key) && !["path", "header", "direction"].contains(&key) {
                return Err(error(
                    key,
                    format!("`{key}` does not apply to a `{kind}` fault"),
                    Some(&format!(
                        "a `{kind}` fault takes {}",
                        if allowed.is_empty() {
                            "no settings of its own".to_string()
                        } else {
                            allowed
                                .iter()
                                .map(|k| format!("`{k}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        }
                    )),
                ));
            }
        }
        let action = match kind {
            "abort" => {
                let status = spec.status.unwrap_or(503);
                if !(100..=599).contains(&status) {
                    return Err(error(
                        "status",
                        format!("status {status} is not an HTTP status (100..599)"),
                        None,
                    ));
                }
                let body = spec
                    .body
                    .clone()
                    .unwrap_or_else(|| format!("slogate proxy: injected {status}\n"));
                Action::Abort { status, body }
            }
            "latency" => Action::Latency(delay(spec)?),
            "bandwidth" => {
                let rate = spec.rate.as_deref().ok_or_else(|| {
                    error(
                        "rate",
                        "a bandwidth fault needs a `rate`",
                        Some("e.g. `rate: 64KB/s`"),
                    )
                })?;
                Action::Bandwidth {
                    bytes_per_second: parse_bandwidth(rate)
                        .map_err(|e| error("rate", e.to_string(), None))?,
                }
            }
            "hang" => Action::Hang,
            "close" => Action::Close {
                after_bytes: spec.after.unwrap_or(0),
            },
            "reset" => Action::Reset {
                after_bytes: spec.after.unwrap_or(0),
            },
            "blackhole" => Action::Blackhole,
            _ => Action::Refuse,
        };
        let filter = filter(spec, mode)?;
        let direction = match (spec.direction.as_deref(), mode, kind) {
            (None, _, _) => Direction::Both,
            (Some(_), Mode::Http, _) | (Some(_), Mode::Tcp, "reset" | "blackhole" | "refuse") => {
                return Err(error(
                    "direction",
                    format!("`direction` does not apply to a `{kind}` fault in {mode} mode"),
                    Some("only tcp latency and bandwidth faults have a direction"),
                ));
            }
            (Some("upstream"), ..) => Direction::Upstream,
            (Some("downstream"), ..) => Direction::Downstream,
            (Some("both"), ..) => Direction::Both,
            (Some(other), ..) => {
                return Err(error(
                    "direction",
                    format!("direction `{other}` is not upstream, downstream or both"),
                    Some("upstream: client to service; downstream: service to client"),
                ));
            }
        };
        let bound = match &spec.bound {
            None => None,
            Some(text) => {
                let d = parse_duration(text).map_err(|e| error("for", e.to_string(), None))?;
                if d.is_zero() || d > MAX_BOUND {
                    return Err(error(
                        "for",
                        format!("`for: {text}` must be above 0 and at most 24h"),
                        None,
                    ));
                }
                Some(d)
            }
        };
        let probability = probability(spec.probability.as_ref())?;
        Ok(Fault {
            action,
            probability,
            filter,
            direction,
            bound,
        })
    }

    /// `abort 503 20%`, `latency 200ms+0..50ms 100% /api`.
    pub fn describe(&self) -> String {
        let what = match &self.action {
            Action::Abort { status, .. } => format!("abort {status}"),
            Action::Latency(Delay::Uniform { base, jitter }) if jitter.is_zero() => {
                format!("latency {}", short(*base))
            }
            Action::Latency(Delay::Uniform { base, jitter }) => {
                format!("latency {}+0..{}", short(*base), short(*jitter))
            }
            Action::Latency(Delay::LogNormal { mu, sigma }) => format!(
                "latency p50 {} p99 {}",
                short(Duration::from_secs_f64(mu.exp())),
                short(Duration::from_secs_f64(
                    (mu + sigma * Z99).exp().min(MAX_DELAY.as_secs_f64())
                ))
            ),
            Action::Bandwidth { bytes_per_second } => {
                format!(
                    "bandwidth {}/s",
                    crate::units::format_bytes(*bytes_per_second)
                )
            }
            Action::Hang => "hang".into(),
            Action::Close { after_bytes } => format!("close after {after_bytes} B"),
            Action::Reset { after_bytes } => format!("reset after {after_bytes} B"),
            Action::Blackhole => "blackhole".into(),
            Action::Refuse => "refuse".into(),
        };
        let mut text = format!("{what} {}", self.probability);
        match self.direction {
            Direction::Upstream => text.push_str(" upstream"),
            Direction::Downstream => text.push_str(" downstream"),
            Direction::Both => {}
        }
        if let Some(prefix) = &self.filter.path_prefix {
            text.push_str(&format!(" path {prefix}*"));
        }
        if let Some((name, value)) = &self.filter.header {
            match value {
                Some(value) => text.push_str(&format!(" header {name}: {value}")),
                None => text.push_str(&format!(" header {name}")),
            }
        }
        text
    }
}

/// `200ms`, `1.5s`, `10m`: as one would write it.
fn short(d: Duration) -> String {
    let seconds = d.as_secs_f64();
    if seconds < 1.0 {
        format!("{}ms", crate::units::format_significant(seconds * 1000.0))
    } else if seconds < 60.0 || seconds % 60.0 != 0.0 {
        format!("{}s", crate::units::format_significant(seconds))
    } else {
        format!("{}m", crate::units::format_significant(seconds / 60.0))
    }
}

/// The 99th percentile of the standard normal distribution.
const Z99: f64 = 2.326_347_874;

fn given_keys(spec: &FaultSpec) -> [(&'static str, bool); 11] {
    [
        ("status", spec.status.is_some()),
        ("body", spec.body.is_some()),
        ("latency", spec.latency.is_some()),
        ("jitter", spec.jitter.is_some()),
        ("p50", spec.p50.is_some()),
        ("p99", spec.p99.is_some()),
        ("rate", spec.rate.is_some()),
        ("direction", spec.direction.is_some()),
        ("after", spec.after.is_some()),
        ("path", spec.path.is_some()),
        ("header", spec.header.is_some()),
    ]
}

fn duration_key(key: &'static str, text: &str) -> Result<Duration, FaultError> {
    let d = parse_duration(text).map_err(|e| error(key, e.to_string(), None))?;
    if d > MAX_DELAY {
        return Err(error(
            key,
            format!("`{key}: {text}` is longer than the 10m a fault may add"),
            None,
        ));
    }
    Ok(d)
}

fn delay(spec: &FaultSpec) -> Result<Delay, FaultError> {
    match (&spec.latency, &spec.p50, &spec.p99) {
        (Some(latency), None, None) => Ok(Delay::Uniform {
            base: duration_key("latency", latency)?,
            jitter: match &spec.jitter {
                Some(j) => duration_key("jitter", j)?,
                None => Duration::ZERO,
            },
        }),
        (None, Some(p50), Some(p99)) if spec.jitter.is_none() => {
            let p50 = duration_key("p50", p50)?;
            let p99 = duration_key("p99", p99)?;
            if p50.is_zero() || p99 < p50 {
                return Err(error(
                    "p99",
                    "a latency distribution needs 0 < p50 <= p99",
                    Some("e.g. `p50: 50ms, p99: 800ms` (log-normal)"),
                ));
            }
            let mu = p50.as_secs_f64().ln();
            Ok(Delay::LogNormal {
                mu,
                sigma: (p99.as_secs_f64().ln() - mu) / Z99,
            })
        }
        _ => Err(error(
            "latency",
            "a latency fault needs `latency` (and optionally `jitter`), or `p50` and `p99`",
            Some("e.g. `latency: 300ms, jitter: 100ms` or `p50: 50ms, p99: 800ms`"),
        )),
    }
}

fn ratio(key: &'static str, value: &Scalar) -> Result<f64, FaultError> {
    let text = value.to_string();
    Ratio::parse_probability(&text)
        .map(Ratio::fraction)
        .map_err(|e| error(key, e.to_string(), Some("e.g. `20%` or `0.2`")))
}

fn probability(spec: Option<&ProbabilitySpec>) -> Result<Probability, FaultError> {
    match spec {
        None => Ok(Probability { from: 1.0, to: 1.0 }),
        Some(ProbabilitySpec::One(Scalar::Text(text))) if text.contains("..") => {
            let (from, to) = text.split_once("..").unwrap_or((text, text));
            Ok(Probability {
                from: ratio("probability", &Scalar::Text(from.into()))?,
                to: ratio("probability", &Scalar::Text(to.into()))?,
            })
        }
        Some(ProbabilitySpec::One(value)) => {
            let p = ratio("probability", value)?;
            Ok(Probability { from: p, to: p })
        }
        Some(ProbabilitySpec::Ramp { from, to }) => Ok(Probability {
            from: ratio("probability", from)?,
            to: ratio("probability", to)?,
        }),
    }
}

fn filter(spec: &FaultSpec, mode: Mode) -> Result<Filter, FaultError> {
    if mode == Mode::Tcp {
        for (key, given) in [
            ("path", spec.path.is_some()),
            ("header", spec.header.is_some()),
        ] {
            if given {
                return Err(error(
                    key,
                    format!("`{key}` needs a proxy in http mode"),
                    Some("a tcp proxy sees bytes, not requests"),
                ));
            }
        }
        return Ok(Filter::default());
    }
    let path_prefix = match &spec.path {
        Some(path) if !path.starts_with('/') => {
            return Err(error(
                "path",
                format!("path `{path}` does not start with /"),
                Some("a path prefix such as `/api/`"),
            ));
        }
        Some(path) => Some(path.trim_end_matches('*').to_string()),
        None => None,
    };
    let header = match &spec.header {
        None => None,
        Some(text) => {
            let (name, value) = match text.split_once(':') {
                Some((name, value)) => (name.trim(), Some(value.trim().to_string())),
                None => (text.trim(), None),
            };
            let name = http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                error(
                    "header",
                    format!("`{name}` is not a header name"),
                    Some("`name` (present) or `name: value` (equal)"),
                )
            })?;
            Some((name, value))
        }
    };
    Ok(Filter {
        path_prefix,
        header,
    })
}

/// Why a text is not a bandwidth.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum BandwidthError {
    /// Not a number, a byte or bit unit and `/s`.
    #[error("`{0}` is not a bandwidth; write e.g. 64KB/s, 1MiB/s or 8Mbit/s")]
    Form(String),
    #[error("`{0}` must be between 1B/s and 1000GB/s")]
    Range(String),
}

/// `64KB/s`, `1MB/s`, `512KiB/s`, `100B/s`, `8Mbit/s` as bytes per second.
fn parse_bandwidth(text: &str) -> Result<u64, BandwidthError> {
    let bad = || BandwidthError::Form(text.to_string());
    let body = text.trim().strip_suffix("/s").ok_or_else(bad)?;
    let split = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(bad)?;
    let (number, unit) = body.split_at(split);
    let value: f64 = number.parse().map_err(|_| bad())?;
    let scale = match unit.trim() {
        "B" => 1.0,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "bit" => 1.0 / 8.0,
        "kbit" | "Kbit" => 1e3 / 8.0,
        "Mbit" => 1e6 / 8.0,
        "Gbit" => 1e9 / 8.0,
        _ => return Err(bad()),
    };
    let bytes = (value * scale).round();
    if !(1.0..=1e12).contains(&bytes) {
        return Err(BandwidthError::Range(text.to_string()));
    }
    Ok(bytes as u64)
}

/// What is wrong with the command line's words for a fault. The keys'
/// values are checked later, by [`Fault::new`] ([`FaultError`]); these are
/// the words themselves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultWordsError {
    #[error("an empty fault; write e.g. `abort status=503 probability=20%`")]
    Empty,
    #[error("`{0}`: write settings as key=value")]
    NotKeyValue(String),
    #[error("`{key}={value}`: not a whole number")]
    NotWholeNumber { key: String, value: String },
    #[error("`status={0}` is not an HTTP status")]
    Status(String),
    #[error("unknown fault setting `{key}`{}", nearest.map(|k| format!("; did you mean `{k}`?")).unwrap_or_default())]
    UnknownKey {
        key: String,
        /// The known key closest to it, for "did you mean".
        nearest: Option<&'static str>,
    },
}

/// Parses the command line's `KIND key=value ...` (e.g.
/// `abort status=503 probability=20% path=/api`).
pub fn parse_words(text: &str) -> Result<FaultSpec, FaultWordsError> {
    let mut words = text.split_whitespace();
    let kind = words.next().ok_or(FaultWordsError::Empty)?;
    let mut spec = FaultSpec {
        kind: kind.to_string(),
        ..FaultSpec::default()
    };
    let rest: Vec<&str> = words.collect();
    let mut index = 0;
    while index < rest.len() {
        let word = rest[index];
        index += 1;
        let (key, value) = word
            .split_once('=')
            .ok_or_else(|| FaultWordsError::NotKeyValue(word.to_string()))?;
        let mut value = value.to_string();
        // `header=x-user: 42` comes as two words.
        if key == "header" && value.ends_with(':') && index < rest.len() {
            value = format!("{value} {}", rest[index]);
            index += 1;
        }
        let number = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| FaultWordsError::NotWholeNumber {
                    key: key.to_string(),
                    value: v.to_string(),
                })
        };
        match key {
            "probability" => {
                spec.probability = Some(ProbabilitySpec::One(Scalar::Text(value)));
            }
            "status" => {
                spec.status = Some(
                    u16::try_from(number(&value)?)
                        .map_err(|_| FaultWordsError::Status(value.clone()))?,
                )
            }
            "body" => spec.body = Some(value),
            "latency" => spec.latency = Some(value),
            "jitter" => spec.jitter = Some(value),
            "p50" => spec.p50 = Some(value),
            "p99" => spec.p99 = Some(value),
            "rate" => spec.rate = Some(value),
            "direction" => spec.direction = Some(value),
            "after" => spec.after = Some(number(&value)?),
            "path" => spec.path = Some(value),
            "header" => spec.header = Some(value),
            "for" => spec.bound = Some(value),
            _ => {
                return Err(FaultWordsError::UnknownKey {
                    key: key.to_string(),
                    nearest: crate::diag::nearest(key, KEYS.iter().copied()),
                });
            }
        }
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fault the words make (they must parse) in `mode`.
    fn fault(words: &str, mode: Mode) -> Result<Fault, FaultError> {
        let spec = parse_words(words).unwrap_or_else(|e| panic!("{words}: {e}"));
        Fault::new(&spec, mode)
    }

    #[test]
    fn command_line_faults_parse_into_actions() {
        let f = fault("abort status=502 probability=20% path=/api", Mode::Http).unwrap();
        assert_eq!(f.action.kind(), "abort");
        assert_eq!(f.probability, Probability { from: 0.2, to: 0.2 });
        assert_eq!(f.filter.path_prefix.as_deref(), Some("/api"));
        assert_eq!(f.describe(), "abort 502 20% path /api*");
        let f = fault(
            "latency latency=200ms jitter=50ms probability=0%..30%",
            Mode::Http,
        )
        .unwrap();
        assert_eq!(f.probability, Probability { from: 0.0, to: 0.3 });
        assert_eq!(f.describe(), "latency 200ms+0..50ms 0%..30%");
        let f = fault("bandwidth rate=64KB/s direction=downstream", Mode::Tcp).unwrap();
        assert_eq!(
            f.action,
            Action::Bandwidth {
                bytes_per_second: 64_000
            }
        );
        assert_eq!(f.direction, Direction::Downstream);
        let f = fault("latency p50=50ms p99=800ms", Mode::Http).unwrap();
        let Action::Latency(Delay::LogNormal { mu, sigma }) = f.action else {
            panic!("{f:?}")
        };
        assert!((mu.exp() - 0.05).abs() < 1e-9);
        assert!(((mu + sigma * Z99).exp() - 0.8).abs() < 1e-9);
        assert_eq!(
            parse_words("header=x-tenant: blue abort"),
            Err(FaultWordsError::NotKeyValue("blue".into()))
        );
        let f = fault("abort header=x-tenant: blue", Mode::Http).unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert("x-tenant", "blue".parse().unwrap());
        assert!(f.filter.matches("/", &headers));
        headers.insert("x-tenant", "green".parse().unwrap());
        assert!(!f.filter.matches("/", &headers));
    }

    #[test]
    fn faults_that_do_not_fit_say_why() {
        let message = |words: &str, mode| fault(words, mode).unwrap_err().to_string();
        assert_eq!(
            message("abrot", Mode::Http),
            "unknown fault kind `abrot` (did you mean `abort`?)"
        );
        assert_eq!(
            message("reset", Mode::Http),
            "a `reset` fault needs a proxy in tcp mode (an http proxy closes mid-response with `close`)"
        );
        assert_eq!(
            message("abort latency=1s", Mode::Http),
            "`latency` does not apply to a `abort` fault (a `abort` fault takes `status`, `body`)"
        );
        assert_eq!(
            message("abort probability=120%", Mode::Http),
            "`120%` is outside 0%..100% (e.g. `20%` or `0.2`)"
        );
        assert_eq!(
            message("latency latency=20m", Mode::Http),
            "`latency: 20m` is longer than the 10m a fault may add"
        );
        assert_eq!(
            message("blackhole path=/x", Mode::Tcp),
            "`path` needs a proxy in http mode (a tcp proxy sees bytes, not requests)"
        );
        let error = fault("bandwidth rate=fast", Mode::Http).unwrap_err();
        assert_eq!(error.key, "rate");
        assert_eq!(
            error.to_string(),
            "`fast` is not a bandwidth; write e.g. 64KB/s, 1MiB/s or 8Mbit/s"
        );
        assert_eq!(
            parse_words("abort stauts=500").unwrap_err().to_string(),
            "unknown fault setting `stauts`; did you mean `status`?"
        );
        assert_eq!(
            parse_words("abort zzzzzzzz=1").unwrap_err().to_string(),
            "unknown fault setting `zzzzzzzz`"
        );
        assert_eq!(
            parse_words("abort status=70000").unwrap_err().to_string(),
            "`status=70000` is not an HTTP status"
        );
        assert_eq!(
            parse_words("close after=-1").unwrap_err().to_string(),
            "`after=-1`: not a whole number"
        );
        assert_eq!(parse_words("  "), Err(FaultWordsError::Empty));
        assert_eq!(
            "udp".parse::<Mode>().unwrap_err().to_string(),
            "mode `udp` is neither `http` nor `tcp`"
        );
    }

    #[test]
    fn bandwidth_units() {
        assert_eq!(parse_bandwidth("100B/s"), Ok(100));
        assert_eq!(parse_bandwidth("1.5MB/s"), Ok(1_500_000));
        assert_eq!(parse_bandwidth("1MiB/s"), Ok(1_048_576));
        assert_eq!(parse_bandwidth("8Mbit/s"), Ok(1_000_000));
        assert_eq!(
            parse_bandwidth("0B/s"),
            Err(BandwidthError::Range("0B/s".into()))
        );
        assert_eq!(
            parse_bandwidth("64KB"),
            Err(BandwidthError::Form("64KB".into()))
        );
    }

    #[test]
    fn probability_ramps_linearly_over_the_bound() {
        let p = Probability { from: 0.0, to: 0.3 };
        assert_eq!(p.at(0.0), 0.0);
        assert!((p.at(0.5) - 0.15).abs() < 1e-12);
        assert!((p.at(2.0) - 0.3).abs() < 1e-12);
    }

    #[test]
    fn lognormal_delays_have_the_written_median() {
        let f = fault("latency p50=50ms p99=500ms", Mode::Http).unwrap();
        let Action::Latency(delay) = f.action else {
            unreachable!()
        };
        let rng = SharedRng::seeded(3);
        let mut draws: Vec<Duration> = (0..20_000).map(|_| delay.sample(&rng)).collect();
        draws.sort();
        let p50 = draws[10_000].as_secs_f64();
        let p99 = draws[19_800].as_secs_f64();
        assert!((p50 - 0.05).abs() < 0.003, "{p50}");
        assert!((p99 - 0.5).abs() < 0.06, "{p99}");
    }
}
