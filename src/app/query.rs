//! `slogate query EXPR`: one PromQL expression against live scrapes, a
//! finished run's saved data, or a Prometheus; instant or range; printed as
//! a table, JSON (shaped like Prometheus's API answer) or CSV.

use std::io::Write;
use std::time::Duration;

use serde_json::json;

use super::{Exit, UsageError};
use crate::backend::{BackendError, Embedded, Prometheus, QueryBackend};
use crate::cli::QueryArgs;
use crate::metrics::saved;
use crate::metrics::scrape::{self, Scraper, Target, TargetState, system_ms};
use crate::metrics::store::{Labels, Store};
use crate::promql::{self, Evaluator, Series, Value, format_value};
use crate::report::OutputFormat;
use promql_parser::parser::value::ValueType;

pub fn run(args: &QueryArgs) -> anyhow::Result<Exit> {
    promql::parse(&args.expr).map_err(|e| UsageError::new("EXPR", e.to_string()))?;
    let (store, latest) = if let Some(url) = &args.prometheus {
        let backend = Prometheus::new(url)?;
        let now = system_ms(std::time::SystemTime::now());
        return answer(args, &backend, None, now);
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
    answer(args, &Embedded::new(&store), Some(&store), latest)
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

/// `store`: the data `backend` reads when it is the embedded one, for the
/// results a backend does not hand back (strings, range vectors).
fn answer(
    args: &QueryArgs,
    backend: &dyn QueryBackend,
    store: Option<&Store>,
    latest: i64,
) -> anyhow::Result<Exit> {
    let t = evaluation_time(args, latest)?;
    let kind = promql::parse(&args.expr)
        .map_err(|e| UsageError::new("EXPR", e.to_string()))?
        .value_type();
    let failed = |e: BackendError| -> anyhow::Error {
        match e {
            BackendError::Query(why) => UsageError::new("EXPR", why).into(),
            BackendError::Unavailable(why) => anyhow::anyhow!(why),
        }
    };
    let mut out = std::io::stdout().lock();
    match args.range {
        None if matches!(kind, ValueType::String | ValueType::Matrix) && store.is_some() => {
            let store = store.expect("checked");
            let parsed =
                promql::parse(&args.expr).map_err(|e| UsageError::new("EXPR", e.to_string()))?;
            match Evaluator::new(store).instant(&parsed, t) {
                Ok(Value::String(text)) => print_string(&mut out, args.output, &text, t)?,
                Ok(Value::Matrix(m)) => {
                    let series: Vec<Series> = m
                        .series
                        .iter()
                        .map(|s| Series {
                            labels: s.labels.clone(),
                            points: s.points.to_vec(),
                        })
                        .collect();
                    print_range(&mut out, args.output, &series, m.start)?;
                }
                Ok(other) => {
                    let answer = match other {
                        Value::Scalar(v) => vec![(Labels::empty(), v)],
                        Value::Vector(v) => v.into_iter().map(|s| (s.labels, s.v)).collect(),
                        _ => Vec::new(),
                    };
                    print_instant(&mut out, args.output, &answer, t, kind)?;
                }
                Err(e) => return Err(UsageError::new("EXPR", e.to_string()).into()),
            }
        }
        None => {
            let mut answer = backend.instant(&args.expr, t).map_err(failed)?;
            answer.sort_by(|a, b| a.0.cmp(&b.0));
            print_instant(&mut out, args.output, &answer, t, kind)?;
        }
        Some(range) => {
            let start = range_start(t, range, args.step)?;
            let series = backend
                .range(&args.expr, start, t, args.step.as_millis() as i64)
                .map_err(failed)?;
            print_range(&mut out, args.output, &series, start)?;
        }
    }
    Ok(Exit::Success)
}

fn seconds(t: i64) -> f64 {
    t as f64 / 1000.0
}

fn series_name(labels: &Labels) -> String {
    if labels.is_empty() {
        "{}".into()
    } else {
        labels.to_string()
    }
}

fn labels_json(labels: &Labels) -> serde_json::Value {
    labels
        .iter()
        .map(|(n, v)| (n.to_string(), json!(v)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

fn print_instant(
    out: &mut dyn Write,
    format: OutputFormat,
    answer: &[(Labels, f64)],
    t: i64,
    kind: ValueType,
) -> std::io::Result<()> {
    match format {
        OutputFormat::Text => {
            // A name longer than the column overflows it; no width handed
            // to the formatter comes from data (past 65,535 it panics).
            const MAX_COLUMN: usize = 80;
            let width = answer
                .iter()
                .map(|(l, _)| series_name(l).chars().count())
                .max()
                .unwrap_or(6)
                .clamp(6, MAX_COLUMN);
            let utc = crate::units::format_utc_compact(
                std::time::UNIX_EPOCH + Duration::from_millis(t.max(0) as u64),
            );
            writeln!(
                out,
                "{:<width$}  value    (at {} = {utc})",
                "series",
                seconds(t)
            )?;
            for (labels, v) in answer {
                writeln!(out, "{:<width$}  {}", series_name(labels), format_value(*v))?;
            }
            if answer.is_empty() {
                writeln!(out, "(empty result)")?;
            }
        }
        // A scalar is `[time, "value"]`, as Prometheus's API gives it.
        OutputFormat::Json if kind == ValueType::Scalar && answer.len() == 1 => {
            let result = json!([seconds(t), format_value(answer[0].1)]);
            writeln!(out, "{}", json!({"resultType": "scalar", "result": result}))?;
        }
        OutputFormat::Json => {
            let result: Vec<_> = answer
                .iter()
                .map(|(l, v)| json!({"metric": labels_json(l), "value": [seconds(t), format_value(*v)]}))
                .collect();
            writeln!(out, "{}", json!({"resultType": "vector", "result": result}))?;
        }
        OutputFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(["series", "timestamp", "value"])?;
            for (labels, v) in answer {
                w.write_record(crate::report::escape::csv_row([
                    series_name(labels),
                    seconds(t).to_string(),
                    format_value(*v),
                ]))?;
            }
            w.flush()?;
        }
    }
    Ok(())
}

/// A string literal's value: the text, or `[time, "text"]` in JSON.
fn print_string(
    out: &mut dyn Write,
    format: OutputFormat,
    text: &str,
    t: i64,
) -> std::io::Result<()> {
    match format {
        OutputFormat::Text => writeln!(out, "{text}"),
        OutputFormat::Json => writeln!(
            out,
            "{}",
            json!({"resultType": "string", "result": [seconds(t), text]})
        ),
        OutputFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(["timestamp", "value"])?;
            w.write_record(crate::report::escape::csv_row([
                seconds(t).to_string(),
                text.to_string(),
            ]))?;
            w.flush()
        }
    }
}

fn print_range(
    out: &mut dyn Write,
    format: OutputFormat,
    series: &[Series],
    start: i64,
) -> std::io::Result<()> {
    match format {
        OutputFormat::Text => {
            let utc = crate::units::format_utc_compact(
                std::time::UNIX_EPOCH + Duration::from_millis(start.max(0) as u64),
            );
            writeln!(out, "from {} = {utc}", seconds(start))?;
            for s in series {
                writeln!(out, "{}", series_name(&s.labels))?;
                for p in &s.points {
                    writeln!(
                        out,
                        "  {:>9}  {}",
                        format!("+{}s", seconds(p.t - start)),
                        format_value(p.v)
                    )?;
                }
            }
            if series.is_empty() {
                writeln!(out, "(empty result)")?;
            }
        }
        OutputFormat::Json => {
            let result: Vec<_> = series
                .iter()
                .map(|s| {
                    let values: Vec<_> = s
                        .points
                        .iter()
                        .map(|p| json!([seconds(p.t), format_value(p.v)]))
                        .collect();
                    json!({"metric": labels_json(&s.labels), "values": values})
                })
                .collect();
            writeln!(out, "{}", json!({"resultType": "matrix", "result": result}))?;
        }
        OutputFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(["series", "timestamp", "value"])?;
            for s in series {
                for p in &s.points {
                    w.write_record(crate::report::escape::csv_row([
                        series_name(&s.labels),
                        seconds(p.t).to_string(),
                        format_value(p.v),
                    ]))?;
                }
            }
            w.flush()?;
        }
    }
    Ok(())
}
