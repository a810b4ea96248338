//! `slogate query EXPR`: one PromQL expression against live scrapes, a
//! finished run's saved data, or a Prometheus; instant or range; printed as
//! a table, JSON (shaped like Prometheus's API answer) or CSV.

use std::time::Duration;

use super::{Exit, UsageError};
use crate::backend::{BackendError, Prometheus, QueryBackend};
use crate::cli::QueryArgs;
use crate::metrics::saved;
use crate::metrics::scrape::{self, Scraper, Target, TargetState, system_ms};
use crate::metrics::store::{Labels, Store};
use crate::promql::{self, Evaluator, Value};
use crate::report::query::print::{self, Reading, Track};
use promql_parser::parser::value::ValueType;

pub(crate) fn run(args: &QueryArgs) -> anyhow::Result<Exit> {
    promql::parse(&args.expr).map_err(|e| UsageError::new("EXPR", e.to_string()))?;
    let (store, latest) = if let Some(url) = &args.prometheus {
        let backend = Prometheus::new(url)?;
        let now = system_ms(std::time::SystemTime::now());
        return ask(args, &backend, now);
    } else if let Some(dir) = &args.run {
        let store = saved::load(&dir.join(saved::FILE))
            .map_err(|e| UsageError::new("--run", format!("{e:#}")))?;
        let latest = store.time_range().map(|r| r.1);
        (store, latest)
    } else {
        let store = scrape_now(args)?;
        let latest = store.time_range().map(|r| r.1);
        (store, latest)
    };
    let Some(latest) = latest else {
        return Err(UsageError::new("EXPR", "no samples to query").into());
    };
    evaluate(args, &store, latest)
}

/// Scrapes `--scrape` targets once, or for `--for`.
fn scrape_now(args: &QueryArgs) -> anyhow::Result<Store> {
    let targets: Vec<Target> = args
        .scrape
        .iter()
        .map(|url| {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(UsageError::new(
                    "--scrape",
                    format!("`{url}` is not an http(s) URL"),
                ));
            }
            Ok(Target {
                url: url.clone(),
                job: "slogate".into(),
                interval: args.interval,
                limits: scrape::ScrapeLimits {
                    native_histograms: args.native_histograms,
                    ..Default::default()
                },
            })
        })
        .collect::<Result<_, _>>()?;
    if args.scrape_for.is_zero() {
        let client = crate::backend::http_client(Duration::from_secs(10))?;
        let mut store = Store::default();
        for target in &targets {
            let fetched = scrape::fetch(&client, &target.url, &target.limits);
            let recorded = TargetState::new(target).record(&mut store, fetched);
            if let Some(why) = recorded.failure {
                eprintln!(
                    "warning: scrape of {} failed: {why}",
                    crate::redact::url(&target.url)
                );
            }
            for kind in recorded.new_losses {
                eprintln!(
                    "warning: scrape of {}: {}",
                    crate::redact::url(&target.url),
                    kind.describe()
                );
            }
        }
        return Ok(store);
    }
    let scraper = Scraper::start(targets, Store::default())?;
    std::thread::sleep(args.scrape_for + Duration::from_millis(200));
    let scraped = scraper.stop();
    for problem in &scraped.problems {
        eprintln!("warning: {}", crate::redact::text(problem));
    }
    Ok(scraped.store)
}

/// The times `--time` may name, in Unix seconds: years 1 to 9999, as
/// Prometheus's API also bounds them (far inside `i64` milliseconds, so
/// that no range or step arithmetic can overflow).
const EARLIEST_S: f64 = -62_135_596_800.0;
const LATEST_S: f64 = 253_402_300_799.0;

/// `--time`: Unix seconds, or `-DURATION` before `latest`.
fn evaluation_time(args: &QueryArgs, latest: i64) -> Result<i64, UsageError> {
    let Some(text) = &args.time else {
        return Ok(latest);
    };
    // `-30s` is before the latest sample; `-100` is Unix seconds.
    let seconds = if let Some(ago) = text.strip_prefix('-')
        && ago.parse::<f64>().is_err()
    {
        let ago = crate::units::parse_duration(ago)
            .map_err(|e| UsageError::new("--time", e.to_string()))?;
        latest as f64 / 1000.0 - ago.as_secs_f64()
    } else {
        text.parse::<f64>().map_err(|_| {
            UsageError::new(
                "--time",
                format!("`{text}` is neither Unix seconds nor `-30s`"),
            )
        })?
    };
    if !seconds.is_finite() {
        return Err(UsageError::new(
            "--time",
            format!("`{text}` is not a time: give Unix seconds (e.g. 1700000000) or `-30s`"),
        ));
    }
    if !(EARLIEST_S..=LATEST_S).contains(&seconds) {
        return Err(UsageError::new(
            "--time",
            format!(
                "`{text}` is out of range: Unix seconds from {EARLIEST_S} (year 1) to \
                 {LATEST_S} (year 9999)"
            ),
        ));
    }
    Ok((seconds * 1000.0).round() as i64)
}

/// A range query's start, refused when it needs more points per series
/// than Prometheus's API gives (11,000) or begins before year 1.
fn range_start(t: i64, range: Duration, step: Duration) -> Result<i64, UsageError> {
    if step.is_zero() {
        return Err(UsageError::new("--step", "must be more than 0"));
    }
    let points = range.as_millis() / step.as_millis().max(1);
    let limit = promql::limits::MAX_POINTS_PER_SERIES as u128;
    if points > limit {
        let shortest = Duration::from_millis((range.as_millis() / limit).max(1) as u64 + 1);
        return Err(UsageError::new(
            "--step",
            format!(
                "--range {} at --step {} is {points} points per series, more than the \
                 {limit} a range query may have; hint: --step {} or more",
                crate::units::format_duration(range),
                crate::units::format_duration(step),
                crate::units::format_duration(shortest),
            ),
        ));
    }
    let start = t as f64 / 1000.0 - range.as_secs_f64();
    if start < EARLIEST_S {
        return Err(UsageError::new(
            "--range",
            "the range would start before year 1; give a shorter --range or a later --time",
        ));
    }
    Ok(t - range.as_millis() as i64)
}

/// Asks a Prometheus (`--prometheus`): floats only, as its backend hands
/// them back.
fn ask(args: &QueryArgs, backend: &dyn QueryBackend, latest: i64) -> anyhow::Result<Exit> {
    let t = evaluation_time(args, latest)?;
    let kind = kind(args)?;
    let failed = |e: BackendError| -> anyhow::Error {
        match e {
            BackendError::Query(why) => UsageError::new("EXPR", why).into(),
            BackendError::Unavailable(why) => anyhow::anyhow!(why),
        }
    };
    let mut out = std::io::stdout().lock();
    match args.range {
        None => {
            let mut answer = backend.instant(&args.expr, t).map_err(failed)?;
            answer.sort_by(|a, b| a.0.cmp(&b.0));
            let answer: Vec<_> = answer
                .into_iter()
                .map(|(l, v)| (l, Reading::Float(v)))
                .collect();
            print::instant(&mut out, args.output, &answer, t, kind)?;
        }
        Some(range) => {
            let start = range_start(t, range, args.step)?;
            let series = backend
                .range(&args.expr, start, t, args.step.as_millis() as i64)
                .map_err(failed)?;
            let tracks: Vec<Track> = series
                .into_iter()
                .map(|s| Track {
                    labels: s.labels,
                    points: s
                        .points
                        .iter()
                        .map(|p| (p.t, Reading::Float(p.v)))
                        .collect(),
                })
                .collect();
            print::range(&mut out, args.output, &tracks, start)?;
        }
    }
    Ok(Exit::Success)
}

/// Evaluates over `store` (live scrapes or a run's saved data) with the
/// evaluator itself, which resolves the native histograms of the answer
/// (a histogram travels through it as a tagged float).
fn evaluate(args: &QueryArgs, store: &Store, latest: i64) -> anyhow::Result<Exit> {
    let t = evaluation_time(args, latest)?;
    let kind = kind(args)?;
    let parsed = promql::parse(&args.expr).map_err(|e| UsageError::new("EXPR", e.to_string()))?;
    // The embedded backend's settings: Prometheus's defaults.
    let mut ev = Evaluator::new(store)
        .with_lookback(Duration::from_secs(300))
        .with_default_step(Duration::from_secs(60));
    let failed =
        |e: promql::Error| -> anyhow::Error { UsageError::new("EXPR", e.to_string()).into() };
    let mut out = std::io::stdout().lock();
    let Some(range) = args.range else {
        match ev.instant(&parsed, t).map_err(failed)? {
            Value::String(text) => print::string(&mut out, args.output, &text, t)?,
            Value::Matrix(m) => {
                let tracks: Vec<Track> = m
                    .series
                    .iter()
                    .map(|s| track(&ev, s.labels.clone(), s.points.iter().map(|p| (p.t, p.v))))
                    .collect();
                print::range(&mut out, args.output, &tracks, m.start)?;
            }
            Value::Scalar(v) => {
                print::instant(
                    &mut out,
                    args.output,
                    &[(Labels::empty(), Reading::Float(v))],
                    t,
                    kind,
                )?;
            }
            Value::Vector(samples) => {
                let mut answer: Vec<_> = samples
                    .into_iter()
                    .map(|s| (s.labels, reading(&ev, s.v)))
                    .collect();
                answer.sort_by(|a, b| a.0.cmp(&b.0));
                print::instant(&mut out, args.output, &answer, t, kind)?;
            }
        }
        return Ok(Exit::Success);
    };
    let start = range_start(t, range, args.step)?;
    let series = ev
        .range(&parsed, start, t, args.step.as_millis() as i64)
        .map_err(failed)?;
    let tracks: Vec<Track> = series
        .into_iter()
        .map(|s| track(&ev, s.labels, s.points.iter().map(|p| (p.t, p.v))))
        .collect();
    print::range(&mut out, args.output, &tracks, start)?;
    Ok(Exit::Success)
}

fn kind(args: &QueryArgs) -> Result<ValueType, UsageError> {
    Ok(promql::parse(&args.expr)
        .map_err(|e| UsageError::new("EXPR", e.to_string()))?
        .value_type())
}

/// A value of the evaluator's last query: the histogram it stands for, or
/// the float.
fn reading(ev: &Evaluator<'_>, v: f64) -> Reading {
    match ev.histogram(v) {
        Some(h) => Reading::Histogram(h),
        None => Reading::Float(v),
    }
}

fn track(ev: &Evaluator<'_>, labels: Labels, points: impl Iterator<Item = (i64, f64)>) -> Track {
    Track {
        labels,
        points: points.map(|(t, v)| (t, reading(ev, v))).collect(),
    }
}
