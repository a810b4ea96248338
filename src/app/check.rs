//! `slogate check FILE...`: validates scenario files and Prometheus rule
//! files (told apart by their parsed top-level keys: `groups`, a
//! `PrometheusRule` resource, or none at all), prints every error with
//! its line and column, and exits 2 if any file is invalid (0 otherwise), so
//! it can run in pre-commit hooks and CI.

use super::{Exit, UsageError};
use crate::cli::CheckArgs;
use crate::report::escape::terminal_lines;
use crate::scenario;

/// Checks every file; reports on stdout (valid) and stderr (errors).
pub(crate) fn run(args: &CheckArgs) -> anyhow::Result<Exit> {
    let features = crate::rules::Features::from_flags(&args.enable_feature)
        .map_err(|e| UsageError::new("--enable-feature", e))?;
    let mut invalid = 0;
    for path in &args.files {
        // Only to tell the kinds apart: the load below reports an unreadable
        // file (a device such as /dev/zero, one too large) with its reason.
        let source = crate::input::read_to_string(path, crate::input::MAX_SOURCE_BYTES, "")
            .unwrap_or_default();
        if crate::rules::is_rule_file(&source) {
            let options = crate::rules::ReadOptions {
                ignore_unknown: args.ignore_unknown_fields,
                features,
            };
            match crate::rules::load_with(path, options) {
                Ok(file) => {
                    let (recording, alerting) = file.rule_count();
                    println!(
                        "ok: {} (rules: {}, {recording} recording and {})",
                        path.display(),
                        crate::units::count(file.groups.len(), "group"),
                        crate::units::count(alerting, "alerting rule")
                    );
                }
                Err(errors) => {
                    invalid += 1;
                    for error in errors {
                        eprintln!(
                            "error: {}",
                            terminal_lines(&crate::redact::text(&error.to_string()))
                        );
                    }
                }
            }
            continue;
        }
        match scenario::load(path) {
            Ok(s) => {
                println!(
                    "ok: {} ({}: {})",
                    path.display(),
                    crate::report::escape::terminal(&s.name),
                    contents(&s)
                );
                if let Some(judge) = judged_by(&s) {
                    println!("  {}", crate::report::escape::terminal(&judge));
                }
                if let Some(outputs) = outputs(&s.outputs) {
                    println!("  {}", crate::report::escape::terminal(&outputs));
                }
            }
            Err(errors) => {
                invalid += 1;
                for error in errors {
                    eprintln!(
                        "error: {}",
                        terminal_lines(&crate::redact::text(&error.to_string()))
                    );
                }
            }
        }
    }
    Ok(if invalid > 0 {
        Exit::Usage
    } else {
        Exit::Success
    })
}

/// Where the run's own metrics go, if anywhere.
fn outputs(o: &scenario::Outputs) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(addr) = o.metrics_listen {
        parts.push(format!("served at http://{addr}/metrics"));
    }
    if let Some(url) = &o.remote_write {
        parts.push(format!("remote-written to {}", crate::redact::url(url)));
    }
    (!parts.is_empty()).then(|| format!("the run's own metrics: {}", parts.join(", ")))
}

/// Who judges the server side, said so that nobody has to guess: the
/// scenario's Prometheus, or slogate's embedded evaluator over its own
/// scrapes; and what watches the paging chain.
fn judged_by(s: &scenario::Scenario) -> Option<String> {
    let m = s.metrics.as_ref()?;
    let mut text = match &m.prometheus {
        Some(url) => {
            let mut text = format!(
                "server side: judged by the Prometheus at {} (its own scrapes and rule evaluations)",
                crate::redact::url(url)
            );
            if m.in_process_too {
                text.push_str(&format!(
                    "; slogate also evaluates the rules over its own {} and shows the difference",
                    crate::units::count(m.scrape.len(), "scrape")
                ));
            } else if !m.scrape.is_empty() {
                text.push_str(&format!(
                    "; slogate's own {} saved in metrics.jsonl, not judged",
                    crate::units::count(m.scrape.len(), "scrape")
                ));
            }
            text
        }
        None => {
            let every = crate::expect::alert::secs(m.default_step());
            let mut text = format!(
                "server side: judged by slogate's embedded evaluator over its own {} (every {every})",
                crate::units::count(m.scrape.len(), "scrape")
            );
            if !s.rules.is_empty() {
                text.push_str(&format!(
                    ", rules evaluated every {} unless a group sets its interval",
                    crate::expect::alert::secs(m.evaluation_interval)
                ));
            }
            text
        }
    };
    if let Some(url) = &m.alertmanager {
        text.push_str(&format!(
            "; Alertmanager at {} watched",
            crate::redact::url(url)
        ));
    }
    if let Some(addr) = m.receiver {
        text.push_str(&format!(
            "; notifications checked at slogate's webhook receiver http://{addr}/"
        ));
    }
    Some(text)
}

/// How many of `alerts` are (`true`) or are not notification
/// expectations.
fn notified(alerts: &[crate::expect::AlertExpectation], notifications: bool) -> usize {
    alerts
        .iter()
        .filter(|e| matches!(e.when, crate::expect::When::Notified { .. }) == notifications)
        .count()
}

/// What a valid scenario holds, every kind of expectation counted: `2
/// phases, 1 request, 3 expectations, 1 PromQL check, 2 alert expectations,
/// 1 SLO, 1 rule file, 1 abort condition` (kinds it has none of left out,
/// but for phases and requests).
fn contents(s: &scenario::Scenario) -> String {
    let per_phase = |f: fn(&scenario::Phase) -> usize| s.phases.iter().map(f).sum::<usize>();
    let counts = [
        (
            s.expectations.len() + per_phase(|p| p.expectations.len()),
            "expectation",
        ),
        (
            s.promql.len() + per_phase(|p| p.promql.len()),
            "PromQL check",
        ),
        (
            notified(&s.alerts, false)
                + per_phase(|p| notified(&p.alerts, false))
                + usize::from(s.no_other_alerts.is_some()),
            "alert expectation",
        ),
        (
            notified(&s.alerts, true)
                + per_phase(|p| notified(&p.alerts, true))
                + s.groupings.len()
                + usize::from(s.no_other_notifications.is_some()),
            "notification expectation",
        ),
        (
            s.steady_state.as_ref().map_or(0, |ss| {
                ss.client.len()
                    + ss.promql.len()
                    + ss.alerts.len()
                    + usize::from(ss.quiet.is_some())
            }),
            "steady-state check",
        ),
        (s.slos.len(), "SLO"),
        (s.rules.len(), "rule file"),
        (s.proxies.len(), "fault proxy"),
        (s.aborts.len(), "abort condition"),
        (s.stops.len(), "stop condition"),
    ];
    let mut parts = vec![crate::units::count(s.phases.len(), "phase")];
    // A scenario of flows alone has no requests of its own to count.
    if !s.requests.is_empty() || s.flows.is_empty() {
        parts.push(crate::units::count(s.requests.len(), "request"));
    }
    if !s.flows.is_empty() {
        let steps: usize = s.flows.iter().map(|f| f.setup.len() + f.steps.len()).sum();
        parts.push(format!(
            "{} ({})",
            crate::units::count(s.flows.len(), "flow"),
            crate::units::count(steps, "step")
        ));
    }
    let around = s.before.len() + s.after.len();
    if around > 0 {
        parts.push(crate::units::count(around, "before/after flow"));
    }
    parts.extend(
        counts
            .into_iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| crate::units::count(n, what)),
    );
    parts.join(", ")
}
