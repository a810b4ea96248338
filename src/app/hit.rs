//! `slogate hit URL`: one endpoint, closed or open model, a report.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Uri};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Exit, UsageError};
use crate::cli::HitArgs;
use crate::engine::{self, RunOptions, Snapshot};
use crate::expect::{self, Expectation};
use crate::plan::{Arrivals, Endpoint, LoadPlan, Model, PhasePlan, Transport};
use crate::record::RunResults;
use crate::report::{Summary, Target};

/// Requests sent when neither -n nor -z is given (hey's default).
const DEFAULT_REQUESTS: u64 = 200;

/// Runs `hit` and writes its report.
pub fn run(args: &HitArgs) -> anyhow::Result<Exit> {
    let expectations = expectations(args)?;
    if args.latency_correction {
        eprintln!(
            "note: --latency-correction changes nothing: with -q, latency is always measured from each request's due time"
        );
    }
    crate::redact::add_params(&args.redact);
    let plan = plan(args)?;
    let progress = progress_bar(args, &plan);
    let mut on_progress = |snapshot: &Snapshot| update(&progress, &plan, snapshot);
    let options = RunOptions {
        handle_signals: true,
        ..RunOptions::default()
    };
    let results = engine::run(&plan, options, &mut on_progress, &mut |_| None)?;
    progress.finish_and_clear();

    let target = Target {
        url: crate::redact::url(&args.url),
        method: plan.endpoints[0].method.to_string(),
        http2: args.http2,
        expect_status: plan.endpoints[0].expect_status.clone(),
    };
    let checks = judge(&expectations, &results, target.expect_status.as_deref());
    let failed = checks.iter().any(expect::Verdict::fails_run);
    let summary = Summary::new(&results, target).with_checks(checks);
    let renderer = args.output.renderer();
    match &args.output_file {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            let mut out = crate::redact::Writer::new(BufWriter::new(file));
            renderer.write(&summary, &mut out)?;
            out.flush()?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = crate::redact::Writer::new(stdout.lock());
            renderer.write(&summary, &mut out)?;
            out.flush()?;
        }
    }
    Ok(if results.interrupted {
        Exit::Aborted
    } else if failed {
        Exit::Failed
    } else {
        Exit::Success
    })
}

/// Where the implicit expectation of every `hit` comes from.
const NONE_SUCCEEDED: &str = "default: hit fails when no request succeeded";

/// The `--expect` flags, parsed; each names its place on the command line.
pub fn expectations(args: &HitArgs) -> Result<Vec<Expectation>, UsageError> {
    args.expect
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let check = expect::parse_check(text)
                .map_err(|e| UsageError::new("--expect", format!("`{text}`: {e}")))?;
            Ok(Expectation {
                check,
                request: None,
                optional: false,
                source: format!("--expect #{}", index + 1),
            })
        })
        .collect()
}

/// Judges the expectations over the run, and the one every `hit` has: some
/// request succeeded (a run where every request was refused, reset or
/// answered 5xx must not exit 0). That one is listed when it fails, or when
/// there are others to list it with.
pub fn judge(
    expectations: &[Expectation],
    results: &RunResults,
    expect_status: Option<&[u16]>,
) -> Vec<expect::Verdict> {
    let sample = results.phases.first().map(|phase| expect::Observed {
        stats: &results.total,
        window: phase.window(),
        failures: expect::failures(&results.total, expect_status),
    });
    let mut verdicts: Vec<_> = expectations
        .iter()
        .map(|e| expect::judge(e, sample.as_ref(), "run".into()))
        .collect();
    let some_success = Expectation {
        check: expect::Check {
            metric: expect::Metric::Availability,
            op: expect::Op::Gt,
            threshold: 0.0,
        },
        request: None,
        optional: false,
        source: NONE_SUCCEEDED.into(),
    };
    let mut verdict = expect::judge(&some_success, sample.as_ref(), "run".into());
    verdict.check = format!("some request succeeded ({})", some_success.check);
    if verdict.fails_run() || !verdicts.is_empty() {
        verdicts.push(verdict);
    }
    verdicts
}

/// Checks the arguments and resolves them into a plan.
pub fn plan(args: &HitArgs) -> Result<LoadPlan, UsageError> {
    let url = parse_url(&args.url)?;
    let method = Method::from_bytes(args.method.to_ascii_uppercase().as_bytes()).map_err(|_| {
        UsageError::new(
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
            .map_err(|_| UsageError::new(flag, "has characters a header cannot carry"))?;
        headers.retain(|(have, _)| *have != name);
        headers.push((name, value));
    }
    if args.host.is_some() && args.http2 {
        return Err(UsageError::new(
            "--host",
            "sets HTTP/1.1's Host header; over HTTP/2 the authority is the URL's host",
        )
        .with_hint("put the host name in the URL, or drop --http2"));
    }
    if let Some(content_type) = &args.content_type {
        let value = HeaderValue::from_str(content_type).map_err(|_| {
            UsageError::new(
                "-T/--content-type",
                format!("`{content_type}` is not a valid header value"),
            )
        })?;
        headers.retain(|(name, _)| name != http::header::CONTENT_TYPE);
        headers.push((http::header::CONTENT_TYPE, value));
    }
    if let Some(body) = &args.body {
        let looks_like_duration = crate::units::parse_duration(body).is_ok();
        if looks_like_duration && method == Method::GET {
            return Err(UsageError::new(
                "-d/--body",
                format!("`{body}` looks like a duration, but -d is the request body here (as in hey)"),
            )
            .with_hint(format!(
                "did you mean `-z {body}` (wrk's -d)? To send `{body}` as a body, give a method: -m POST"
            )));
        }
    }
    let body = match (&args.body, &args.body_file) {
        (Some(body), _) => Bytes::from(body.clone()),
        (None, Some(path)) => Bytes::from(std::fs::read(path).map_err(|e| {
            UsageError::new(
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
        return Err(UsageError::new("-z/--duration", "must be longer than 0s"));
    }
    if args.timeout.is_zero() {
        return Err(UsageError::new("-t/--timeout", "must be longer than 0s"));
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
            weight: 1,
            dynamic: None,
            expect_status: (!args.expect_status.is_empty()).then(|| args.expect_status.clone()),
        }],
        phases: vec![PhasePlan {
            name: "hit".to_string(),
            model,
            connections,
            max_requests,
            duration: args.duration,
            think: Duration::ZERO,
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
    })
}

fn parse_url(text: &str) -> Result<Uri, UsageError> {
    let bad = |why: &str| UsageError::new("URL", format!("`{text}` {why}"));
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
fn basic_auth(text: &str) -> Result<String, UsageError> {
    use base64::Engine as _;
    if !text.contains(':') {
        return Err(UsageError::new(
            "-a/--basic-auth",
            "expected `user:password`",
        ));
    }
    Ok(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(text)
    ))
}

fn parse_header(text: &str) -> Result<(HeaderName, HeaderValue), UsageError> {
    let flag = "-H/--header";
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| UsageError::new(flag, format!("`{text}` is not `Name: value`")))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
        UsageError::new(
            flag,
            format!("`{}` is not a valid header name", name.trim()),
        )
    })?;
    let value = HeaderValue::from_str(value.trim()).map_err(|_| {
        UsageError::new(
            flag,
            format!("the value of `{name}` has characters a header cannot carry"),
        )
    })?;
    Ok((name, value))
}

fn progress_bar(args: &HitArgs, plan: &LoadPlan) -> ProgressBar {
    if args.no_progress || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let length = match plan.phases[0].duration {
        Some(duration) => duration.as_millis() as u64,
        None => plan.phases[0].max_requests.unwrap_or(0),
    };
    let bar = ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stderr_with_hz(10));
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {msg}") {
        bar.set_style(style);
    }
    bar
}

fn update(bar: &ProgressBar, plan: &LoadPlan, snapshot: &Snapshot) {
    let elapsed = snapshot.elapsed.as_secs_f64();
    let (position, so_far) = match (plan.phases[0].duration, plan.phases[0].max_requests) {
        (Some(duration), _) => (
            snapshot.elapsed.as_millis() as u64,
            format!(
                "{elapsed:.1}s of {}",
                crate::units::format_duration(duration)
            ),
        ),
        (None, Some(max)) => (snapshot.requests, format!("{} of {max}", snapshot.requests)),
        (None, None) => (snapshot.requests, format!("{}", snapshot.requests)),
    };
    bar.set_position(position);
    let rate = snapshot.requests as f64 / elapsed.max(1e-3);
    bar.set_message(format!(
        "{so_far} · {} requests, {rate:.0}/s, {} failed",
        snapshot.requests, snapshot.failed
    ));
}
