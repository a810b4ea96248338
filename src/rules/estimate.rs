//! What can be known about an alerting rule before it fires: the series it
//! reads (through recording rules), and for a simple ratio threshold — a
//! ratio over one window compared with `>` to a constant, possibly two
//! such joined with `and` (a multi-window burn-rate page) — how long a
//! fault of a known error ratio takes to make it fire. From a healthy
//! baseline, a fault of ratio `r` raises a ratio over a window `w` to
//! `r·t/w` after `t`, so it crosses `θ` at `t = w·θ/r`; the alert fires
//! `for` later, give or take one evaluation and one scrape interval. A
//! threshold on the rate of an error counter and a target that stopped
//! answering (`up == 0`, `absent`) are worked out too.

use std::time::Duration;

use promql_parser::parser::token::{
    T_ADD, T_DIV, T_EQLC, T_GTE, T_GTR, T_LAND, T_LSS, T_MUL, T_SUB,
};
use promql_parser::parser::{Expr, VectorSelector};

use super::{RuleFile, RuleKind};

/// An alerting rule as the estimate needs it.
struct AlertRule<'a> {
    expr: Expr,
    pending_for: Duration,
    _source: &'a str,
}

/// Every selector an expression reads, recording rules expanded into the
/// selectors of their own expressions (once each).
pub(crate) fn selectors(files: &[RuleFile], expr: &Expr) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = Vec::new();
    walk_selectors(files, expr, &mut out, &mut seen);
    out
}

fn walk_selectors(files: &[RuleFile], expr: &Expr, out: &mut Vec<String>, seen: &mut Vec<String>) {
    visit(expr, &mut |e| {
        let vs = match e {
            Expr::VectorSelector(vs) => vs,
            Expr::MatrixSelector(ms) => &ms.vs,
            _ => return,
        };
        let name = vs.name.clone().unwrap_or_default();
        if let Some(recorded) = recording(files, &name) {
            if !seen.contains(&name) {
                seen.push(name);
                walk_selectors(files, &recorded, out, seen);
            }
            return;
        }
        let text = selector_text(vs);
        if !out.contains(&text) {
            out.push(text);
        }
    });
}

/// `name{matchers}` without offset or `@`.
fn selector_text(vs: &VectorSelector) -> String {
    let mut plain = vs.clone();
    plain.offset = None;
    plain.at = None;
    plain.to_string()
}

fn recording(files: &[RuleFile], name: &str) -> Option<Expr> {
    files
        .iter()
        .flat_map(|f| &f.groups)
        .flat_map(|g| &g.rules)
        .find(|r| matches!(&r.kind, RuleKind::Recording { record } if record == name))
        .and_then(|r| crate::promql::parse(&r.expr).ok())
}

fn alert_rule<'a>(files: &'a [RuleFile], name: &str) -> Option<AlertRule<'a>> {
    files
        .iter()
        .flat_map(|f| &f.groups)
        .flat_map(|g| &g.rules)
        .find_map(|r| match &r.kind {
            RuleKind::Alerting {
                alert, pending_for, ..
            } if alert == name => Some(AlertRule {
                expr: crate::promql::parse(&r.expr).ok()?,
                pending_for: *pending_for,
                _source: &r.source,
            }),
            _ => None,
        })
}

/// The expression of the alerting rule named `name`.
pub(crate) fn alert_expr(files: &[RuleFile], name: &str) -> Option<Expr> {
    alert_rule(files, name).map(|r| r.expr)
}

/// What a fault phase showed the client, for the estimates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FaultSeen {
    /// Failed requests over requests.
    pub error_ratio: f64,
    /// Failed requests per second.
    pub errors_per_s: f64,
    /// How often the target is scraped.
    pub scrape_interval: Duration,
}

/// Seconds from the fault's start until the alert named `name` should
/// fire, and how that was worked out; None when the rule is none of the
/// shapes worked out: a ratio threshold (`errors / total > θ`, or two
/// joined with `and`), a threshold on the rate or increase of an error
/// counter (`rate(errors_total[5m]) > 0.1`: the counter taken to count the
/// failures the client saw), or a target that stopped answering (`up ==
/// 0`, `absent(...)`).
pub(crate) fn detection(files: &[RuleFile], name: &str, seen: &FaultSeen) -> Option<(f64, String)> {
    let rule = alert_rule(files, name)?;
    let (t, how) = if let Some(what) = down(&rule.expr) {
        (
            seen.scrape_interval.as_secs_f64(),
            format!(
                "{what}: the first failed scrape (every {}s)",
                trim(seen.scrape_interval.as_secs_f64())
            ),
        )
    } else {
        let mut worst: Option<(f64, String)> = None;
        for (lhs, threshold) in thresholds(&rule.expr)? {
            let (t, how) = if divides(files, &lhs) {
                ratio_crossing(files, &lhs, threshold, seen.error_ratio)?
            } else {
                rate_crossing(files, &lhs, threshold, seen.errors_per_s)?
            };
            if t.is_infinite() {
                return Some((t, how));
            }
            if worst.as_ref().is_none_or(|(w, _)| t > *w) {
                worst = Some((t, how));
            }
        }
        worst?
    };
    let pending = rule.pending_for.as_secs_f64();
    let how = if pending > 0.0 {
        format!("{how} + for {}s", trim(pending))
    } else {
        how
    };
    Some((t + pending, how))
}

/// A ratio over one window `w` rises to `r·t/w` after `t` from a healthy
/// baseline: it crosses `θ` at `w·θ/r`.
fn ratio_crossing(
    files: &[RuleFile],
    lhs: &Expr,
    threshold: f64,
    error_ratio: f64,
) -> Option<(f64, String)> {
    let window = single_window(files, lhs)?;
    if error_ratio <= threshold {
        return Some((
            f64::INFINITY,
            format!(
                "an error ratio of {} stays at or below the threshold {}: it would never fire",
                crate::units::format_significant(error_ratio),
                crate::units::format_significant(threshold)
            ),
        ));
    }
    Some((
        window.as_secs_f64() * threshold / error_ratio,
        format!(
            "{}s window × {} ÷ {} errors",
            trim(window.as_secs_f64()),
            crate::units::format_significant(threshold),
            crate::units::format_significant(error_ratio)
        ),
    ))
}

/// `rate(c[w]) > θ` (or `irate`, `increase`, summed) over a counter of
/// errors — its name says errors or failures, or it is selected by a 5xx
/// status or code — taken to count the `e` failures per second the client
/// saw: the rate over `w` rises to `e·t/w` after `t`, crossing `θ` at
/// `w·θ/e`; the increase rises to `e·t`, crossing at `θ/e`.
fn rate_crossing(
    files: &[RuleFile],
    lhs: &Expr,
    threshold: f64,
    errors_per_s: f64,
) -> Option<(f64, String)> {
    let (function, counter) = counter_call(files, lhs)?;
    if !counts_errors(&counter) {
        return None;
    }
    let window = single_window(files, lhs)?.as_secs_f64();
    let per_s = crate::units::format_significant(errors_per_s);
    let (t, reach) = match function {
        "increase" => (threshold / errors_per_s, errors_per_s * window),
        _ => (window * threshold / errors_per_s, errors_per_s),
    };
    if errors_per_s <= 0.0 || reach <= threshold {
        return Some((
            f64::INFINITY,
            format!(
                "{function}({counter}[{}s]) reaches {} at {per_s} failures/s, not over the threshold {}: it would never fire",
                trim(window),
                crate::units::format_significant(reach),
                crate::units::format_significant(threshold)
            ),
        ));
    }
    let how = match function {
        "increase" => format!(
            "{} ÷ {per_s} failures/s, if {counter} counts the failures slogate saw",
            crate::units::format_significant(threshold)
        ),
        _ => format!(
            "{}s window × {} ÷ {per_s} failures/s, if {counter} counts the failures slogate saw",
            trim(window),
            crate::units::format_significant(threshold)
        ),
    };
    Some((t, how))
}

/// The one `rate`/`irate`/`increase` call an expression makes (through
/// recording rules), with its counter's selector.
fn counter_call(files: &[RuleFile], expr: &Expr) -> Option<(&'static str, String)> {
    let mut found: Vec<(&'static str, String)> = Vec::new();
    collect_calls(files, expr, &mut found);
    found.dedup();
    match found.as_slice() {
        [(function, counter)] => Some((function, counter.clone())),
        _ => None,
    }
}

fn collect_calls(files: &[RuleFile], expr: &Expr, out: &mut Vec<(&'static str, String)>) {
    visit(expr, &mut |e| match e {
        Expr::Call(c) if ["rate", "irate", "increase"].contains(&c.func.name) => {
            if let Some(Expr::MatrixSelector(ms)) = c.args.args.first().map(|a| unparen(a)) {
                out.push((c.func.name, selector_text(&ms.vs)));
            }
        }
        Expr::VectorSelector(vs) => {
            if let Some(recorded) = vs.name.as_deref().and_then(|n| recording(files, n)) {
                collect_calls(files, &recorded, out);
            }
        }
        _ => {}
    });
}

/// Whether a selector reads errors: by its name, or by a 5xx status.
fn counts_errors(selector: &str) -> bool {
    let lower = selector.to_ascii_lowercase();
    let name = lower.split('{').next().unwrap_or_default();
    let by_name = ["error", "fail", "5xx"].iter().any(|w| name.contains(w));
    let by_status = ["status", "code"].iter().any(|label| {
        lower
            .split([',', '{'])
            .any(|m| m.trim_start().starts_with(label) && m.contains("\"5"))
    });
    by_name || by_status
}

/// `up == 0`, `up < 1` (any selector of `up`, summed or not), `absent(x)`
/// or `absent_over_time(x[w])`: what it reads, said as the estimate's
/// reason.
fn down(expr: &Expr) -> Option<&'static str> {
    match unparen(expr) {
        Expr::Call(c) if c.func.name == "absent" || c.func.name == "absent_over_time" => {
            Some("the series gone")
        }
        Expr::Binary(b) => {
            let reads_up = {
                let mut up = false;
                visit(&b.lhs, &mut |e| {
                    if let Expr::VectorSelector(vs) = e {
                        up |= vs.name.as_deref() == Some("up");
                    }
                });
                up
            };
            let value = constant(&b.rhs)?;
            let is_down =
                (b.op.id() == T_EQLC && value == 0.0) || (b.op.id() == T_LSS && value == 1.0);
            (reads_up && is_down).then_some("the target down")
        }
        _ => None,
    }
}

fn trim(v: f64) -> String {
    let text = format!("{v:.1}");
    text.strip_suffix(".0").map(str::to_string).unwrap_or(text)
}

/// `A > θ`, or `A > θ and B > θ'`: each side with its constant.
fn thresholds(expr: &Expr) -> Option<Vec<(Expr, f64)>> {
    match unparen(expr) {
        Expr::Binary(b) if b.op.id() == T_LAND => {
            let mut out = thresholds(&b.lhs)?;
            out.extend(thresholds(&b.rhs)?);
            Some(out)
        }
        Expr::Binary(b)
            if [T_GTR, T_GTE].contains(&b.op.id())
                && !b.modifier.as_ref().is_some_and(|m| m.return_bool) =>
        {
            Some(vec![((*b.lhs).clone(), constant(&b.rhs)?)])
        }
        _ => None,
    }
}

fn unparen(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(p) => unparen(&p.expr),
        other => other,
    }
}

/// A number, or arithmetic of numbers (`14.4 * (1 - 0.999)`).
fn constant(expr: &Expr) -> Option<f64> {
    match unparen(expr) {
        Expr::NumberLiteral(n) => Some(n.val),
        Expr::Binary(b) => {
            let (l, r) = (constant(&b.lhs)?, constant(&b.rhs)?);
            match b.op.id() {
                T_ADD => Some(l + r),
                T_SUB => Some(l - r),
                T_MUL => Some(l * r),
                T_DIV => Some(l / r),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether the expression (or a recording rule it reads) divides.
fn divides(files: &[RuleFile], expr: &Expr) -> bool {
    let mut found = false;
    visit(expr, &mut |e| match e {
        Expr::Binary(b) if b.op.id() == T_DIV => found = true,
        Expr::VectorSelector(vs) => {
            if let Some(recorded) = vs.name.as_deref().and_then(|n| recording(files, n)) {
                found |= divides(files, &recorded);
            }
        }
        _ => {}
    });
    found
}

/// The one range window the expression reads (through recording rules).
fn single_window(files: &[RuleFile], expr: &Expr) -> Option<Duration> {
    let mut windows = Vec::new();
    collect_windows(files, expr, &mut windows);
    windows.dedup();
    match windows.as_slice() {
        [w] => Some(*w),
        _ => None,
    }
}

fn collect_windows(files: &[RuleFile], expr: &Expr, out: &mut Vec<Duration>) {
    visit(expr, &mut |e| match e {
        Expr::MatrixSelector(ms) if !out.contains(&ms.range) => out.push(ms.range),
        Expr::VectorSelector(vs) => {
            if let Some(recorded) = vs.name.as_deref().and_then(|n| recording(files, n)) {
                collect_windows(files, &recorded, out);
            }
        }
        _ => {}
    });
}

/// Calls `f` on every node, parents first.
fn visit(expr: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(expr);
    match expr {
        Expr::Aggregate(a) => {
            visit(&a.expr, f);
            if let Some(p) = &a.param {
                visit(p, f);
            }
        }
        Expr::Unary(u) => visit(&u.expr, f),
        Expr::Binary(b) => {
            visit(&b.lhs, f);
            visit(&b.rhs, f);
        }
        Expr::Paren(p) => visit(&p.expr, f),
        Expr::Subquery(s) => visit(&s.expr, f),
        Expr::Call(c) => {
            for arg in &c.args.args {
                visit(arg, f);
            }
        }
        Expr::MatrixSelector(_)
        | Expr::VectorSelector(_)
        | Expr::NumberLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::Extension(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn files() -> Vec<RuleFile> {
        let yaml = "groups:\n  - name: g\n    rules:\n      - record: job:errors:ratio30s\n        expr: sum(rate(errors_total[30s])) / sum(rate(requests_total[30s]))\n      - alert: Ratio\n        expr: job:errors:ratio30s > 0.05\n        for: 10s\n      - alert: Burn\n        expr: (sum(rate(errors_total[1m])) / sum(rate(requests_total[1m]))) > 14.4 * 0.001 and (sum(rate(errors_total[5m])) / sum(rate(requests_total[5m]))) > 14.4 * 0.001\n      - alert: Latency\n        expr: histogram_quantile(0.95, sum by (le) (rate(d_bucket[30s]))) > 0.25\n";
        vec![super::super::resolve(Path::new("r.yml"), yaml).unwrap()]
    }

    fn seen(error_ratio: f64) -> FaultSeen {
        FaultSeen {
            error_ratio,
            errors_per_s: 0.0,
            scrape_interval: Duration::from_secs(15),
        }
    }

    #[test]
    fn ratio_rules_through_recording_rules() {
        let (t, how) = detection(&files(), "Ratio", &seen(0.2)).unwrap();
        assert!((t - (30.0 * 0.05 / 0.2 + 10.0)).abs() < 1e-9, "{t}");
        assert_eq!(how, "30s window × 0.05 ÷ 0.2 errors + for 10s");
        let (t, _) = detection(&files(), "Burn", &seen(0.1)).unwrap();
        assert!((t - 300.0 * 0.0144 / 0.1).abs() < 1e-9, "{t}");
        assert!(detection(&files(), "Latency", &seen(0.2)).is_none());
        assert!(
            detection(&files(), "Ratio", &seen(0.01))
                .unwrap()
                .0
                .is_infinite()
        );
        let expr = alert_expr(&files(), "Ratio").unwrap();
        assert_eq!(
            selectors(&files(), &expr),
            ["errors_total", "requests_total"]
        );
    }

    fn rules(yaml_rules: &str) -> Vec<RuleFile> {
        let yaml = format!("groups:\n  - name: g\n    rules:\n{yaml_rules}");
        vec![super::super::resolve(Path::new("r.yml"), &yaml).unwrap()]
    }

    #[test]
    fn thresholds_on_the_rate_of_an_error_counter() {
        let files = rules(
            "      - record: job:errors:rate5m\n        expr: sum by (job) (rate(http_requests_total{status=~\"5..\"}[5m]))\n      - alert: Errors\n        expr: job:errors:rate5m > 0.5\n        for: 1m\n      - alert: Failures\n        expr: increase(payment_failures_total[10m]) > 30\n      - alert: Traffic\n        expr: sum(rate(http_requests_total[5m])) > 100\n",
        );
        let fault = FaultSeen {
            error_ratio: 0.2,
            errors_per_s: 10.0,
            scrape_interval: Duration::from_secs(15),
        };
        let (t, how) = detection(&files, "Errors", &fault).unwrap();
        assert!((t - (300.0 * 0.5 / 10.0 + 60.0)).abs() < 1e-9, "{t}");
        assert_eq!(
            how,
            "300s window × 0.5 ÷ 10 failures/s, if http_requests_total{status=~\"5..\"} counts the failures slogate saw + for 60s"
        );
        let (t, how) = detection(&files, "Failures", &fault).unwrap();
        assert!((t - 3.0).abs() < 1e-9, "{t}");
        assert!(how.starts_with("30 ÷ 10 failures/s"), "{how}");
        // All requests, not errors: no estimate from failures.
        assert!(detection(&files, "Traffic", &fault).is_none());
        let trickle = FaultSeen {
            errors_per_s: 0.4,
            ..fault
        };
        let (t, how) = detection(&files, "Errors", &trickle).unwrap();
        assert!(t.is_infinite());
        assert!(how.contains("it would never fire"), "{how}");
        // 0.04/s over 10 minutes is 24 failures, under 30.
        let few = FaultSeen {
            errors_per_s: 0.04,
            ..fault
        };
        assert!(detection(&files, "Failures", &few).unwrap().0.is_infinite());
    }

    #[test]
    fn a_target_that_stops_answering() {
        let files = rules(
            "      - alert: Down\n        expr: up{job=\"api\"} == 0\n        for: 30s\n      - alert: Gone\n        expr: absent(up{job=\"api\"})\n      - alert: NoneUp\n        expr: sum by (job) (up) < 1\n      - alert: Up\n        expr: up == 1\n",
        );
        let fault = seen(1.0);
        let (t, how) = detection(&files, "Down", &fault).unwrap();
        assert_eq!(t, 45.0);
        assert_eq!(
            how,
            "the target down: the first failed scrape (every 15s) + for 30s"
        );
        assert_eq!(detection(&files, "Gone", &fault).unwrap().0, 15.0);
        assert_eq!(detection(&files, "NoneUp", &fault).unwrap().0, 15.0);
        assert!(detection(&files, "Up", &fault).is_none());
    }
}
