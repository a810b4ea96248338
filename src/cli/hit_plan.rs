//! `slogate hit`'s flags resolved into the plan the engine runs: one
//! endpoint, one phase, closed or open model. A flag that cannot be used is
//! a [`FlagError`] naming it; `app` reports it as a usage error.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Uri};

use super::HitArgs;
use crate::plan::{Arrivals, Endpoint, LoadPlan, Model, PhasePlan, Share, Transport};

/// Requests sent when neither -n nor -z is given (hey's default).
const DEFAULT_REQUESTS: u64 = 200;

/// A flag's value that cannot be used: `FLAG: message`, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{flag}: {message}")]
pub struct FlagError {
    /// As the user typed it: `-H/--header`, `URL`.
    pub flag: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

impl FlagError {
    fn new(flag: &'static str, message: impl std::fmt::Display) -> FlagError {
        FlagError {
            flag,
            message: message.to_string(),
            hint: None,
        }
    }

    fn with_hint(mut self, hint: impl Into<String>) -> FlagError {
        self.hint = Some(hint.into());
        self
    }
}

/// Checks the arguments and resolves them into a plan.
pub fn plan(args: &HitArgs) -> Result<LoadPlan, FlagError> {
    let url = parse_url(&args.url)?;
    let method = Method::from_bytes(args.method.to_ascii_uppercase().as_bytes()).map_err(|_| {
        FlagError::new(
            "-m/--method",
            format!("`{}` is not an HTTP method", args.method),
        )
    })?;
    let mut headers = args
        .headers
        .iter()
        .map(|h| parse_header(h))
        .collect::<Result<Vec<_>, _>>()?;
    let named = [
        ("-A/--accept", http::header::ACCEPT, args.accept.clone()),
        ("--host", http::header::HOST, args.host.clone()),
        (
            "-a/--basic-auth",
            http::header::AUTHORIZATION,
            args.basic_auth.as_deref().map(basic_auth).transpose()?,
        ),
    ];
    for (flag, name, value) in named {
        let Some(value) = value else { continue };
        let value = HeaderValue::from_str(&value)
            .map_err(|_| FlagError::new(flag, "has characters a header cannot carry"))?;
        headers.retain(|(have, _)| *have != name);
        headers.push((name, value));
    }
    if args.host.is_some() && args.http2 {
        return Err(FlagError::new(
            "--host",
            "sets HTTP/1.1's Host header; over HTTP/2 the authority is the URL's host",
        )
        .with_hint("put the host name in the URL, or drop --http2"));
    }
    if let Some(content_type) = &args.content_type {
        let value = HeaderValue::from_str(content_type).map_err(|_| {
            FlagError::new(
                "-T/--content-type",
                format!("`{content_type}` is not a valid header value"),
            )
        })?;
        headers.retain(|(name, _)| name != http::header::CONTENT_TYPE);
        headers.push((http::header::CONTENT_TYPE, value));
    }
    if let Some(body) = &args.body {
        // `3s`, or wrk's bare seconds (`-d 30`, which is `-z 30s`).
        let seconds = !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit());
        let duration = if seconds {
            format!("{body}s")
        } else {
            body.clone()
        };
        if method == Method::GET && crate::units::parse_duration(&duration).is_ok() {
            return Err(FlagError::new(
                "-d/--body",
                format!("`{body}` looks like a duration, but -d is the request body here (as in hey)"),
            )
            .with_hint(format!(
                "did you mean `-z {duration}` (wrk's -d)? To send `{body}` as a body, give a method: -m POST"
            )));
        }
    }
    let body = match (&args.body, &args.body_file) {
        (Some(body), _) => Bytes::from(body.clone()),
        (None, Some(path)) => Bytes::from(std::fs::read(path).map_err(|e| {
            FlagError::new(
                "-D/--body-file",
                format!("cannot read {}: {e}", path.display()),
            )
        })?),
        (None, None) => Bytes::new(),
    };
    let max_requests = match (args.requests, args.duration) {
        (None, None) => Some(DEFAULT_REQUESTS),
        (requests, _) => requests,
    };
    if args.duration.is_some_and(|d| d.is_zero()) {
        return Err(FlagError::new("-z/--duration", "must be longer than 0s"));
    }
    if args.timeout.is_zero() {
        return Err(FlagError::new("-t/--timeout", "must be longer than 0s"));
    }
    let model = match args.rate {
        None => Model::Closed,
        Some(rate) => {
            // The schedule lasts as long as the run: -z, or -n at this rate.
            let length = match (args.duration, max_requests) {
                (Some(duration), _) => duration,
                (None, Some(n)) => Duration::from_secs_f64(n as f64 / rate.as_per_second()),
                (None, None) => unreachable!("a default request count is set above"),
            };
            Model::Open(Arrivals::constant(rate, length))
        }
    };
    let connections = args.connections as usize;
    Ok(LoadPlan {
        endpoints: vec![Endpoint {
            name: url.path().to_string(),
            method,
            url,
            headers,
            body,
            dynamic: None,
            expect_status: (!args.expect_status.is_empty()).then(|| args.expect_status.clone()),
            role: crate::plan::Role::Request,
        }],
        flows: Vec::new(),
        before: Vec::new(),
        after: Vec::new(),
        checks: Vec::new(),
        phases: vec![PhasePlan {
            name: "hit".to_string(),
            model,
            connections,
            max_requests,
            duration: args.duration,
            think: crate::plan::Think::default(),
            mix: vec![Share {
                sends: crate::plan::Sendable::Request(0),
                weight: 1,
            }],
        }],
        transport: Transport {
            http2: args.http2,
            keep_alive: !args.disable_keepalive,
            insecure: args.insecure,
            request_timeout: args.timeout,
            connect_timeout: args.connect_timeout.min(args.timeout),
        },
        workers: args
            .workers
            .map_or_else(|| LoadPlan::default_workers(connections), |w| w as usize),
        latency_thresholds: Vec::new(),
        live_buckets_us: None,
        shard: None,
    })
}

fn parse_url(text: &str) -> Result<Uri, FlagError> {
    let bad = |why: &str| FlagError::new("URL", format!("`{text}` {why}"));
    let url: Uri = text
        .parse()
        .map_err(|_| bad("is not a valid URL (expected e.g. http://127.0.0.1:8080/path)"))?;
    match url.scheme_str() {
        Some("http") | Some("https") => {}
        Some(other) => {
            return Err(bad(&format!(
                "has scheme `{other}`; use http:// or https://"
            )));
        }
        None => return Err(bad("has no scheme; write http://… or https://…")),
    }
    if url.host().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    // `http::Uri` keeps a port it cannot read (`:99999`) and reports none.
    let authority = url.authority().map_or("", |a| a.as_str());
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    if let Some((_, port)) = host_port.rsplit_once(':')
        && !port.contains(']')
        && !port.is_empty()
        && matches!(port.parse::<u16>(), Err(_) | Ok(0))
    {
        return Err(bad(&format!("has port {port}, out of range (1 to 65535)")));
    }
    Ok(url)
}

/// `user:password` as a Basic `Authorization` value.
fn basic_auth(text: &str) -> Result<String, FlagError> {
    use base64::Engine as _;
    if !text.contains(':') {
        return Err(FlagError::new(
            "-a/--basic-auth",
            "expected `user:password`",
        ));
    }
    Ok(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(text)
    ))
}

fn parse_header(text: &str) -> Result<(HeaderName, HeaderValue), FlagError> {
    let flag = "-H/--header";
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| FlagError::new(flag, format!("`{text}` is not `Name: value`")))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
        FlagError::new(
            flag,
            format!("`{}` is not a valid header name", name.trim()),
        )
    })?;
    let value = HeaderValue::from_str(value.trim()).map_err(|_| {
        FlagError::new(
            flag,
            format!("the value of `{name}` has characters a header cannot carry"),
        )
    })?;
    Ok((name, value))
}
