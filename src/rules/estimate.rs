//! What can be known about an alerting rule before it fires: the series it
//! reads (through recording rules), and for a simple ratio threshold — a
//! ratio over one window compared with `>` to a constant, possibly two
//! such joined with `and` (a multi-window burn-rate page) — how long a
//! fault of a known error ratio takes to make it fire. From a healthy
//! baseline, a fault of ratio `r` raises a ratio over a window `w` to
//! `r·t/w` after `t`, so it crosses `θ` at `t = w·θ/r`; the alert fires
//! `for` later, give or take one evaluation and one scrape interval.

use std::time::Duration;

use promql_parser::parser::token::{T_ADD, T_DIV, T_GTE, T_GTR, T_LAND, T_MUL, T_SUB};
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

/// Seconds from the fault's start until the alert named `name` should
/// fire when `error_ratio` of requests fail, and how that was worked out;
/// None when the rule is not a simple ratio threshold.
pub(crate) fn detection(files: &[RuleFile], name: &str, error_ratio: f64) -> Option<(f64, String)> {
    let rule = alert_rule(files, name)?;
    let conditions = thresholds(&rule.expr)?;
    let mut worst: Option<(f64, String)> = None;
    for (lhs, threshold) in conditions {
        if !divides(files, &lhs) {
            return None;
        }
        let window = single_window(files, &lhs)?;
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
        let t = window.as_secs_f64() * threshold / error_ratio;
        if worst.as_ref().is_none_or(|(w, _)| t > *w) {
            worst = Some((
                t,
                format!(
                    "{}s window × {} ÷ {} errors",
                    trim(window.as_secs_f64()),
                    crate::units::format_significant(threshold),
                    crate::units::format_significant(error_ratio)
                ),
            ));
        }
    }
    let (t, how) = worst?;
    let pending = rule.pending_for.as_secs_f64();
    let how = if pending > 0.0 {
        format!("{how} + for {}s", trim(pending))
    } else {
        how
    };
    Some((t + pending, how))
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

    #[test]
    fn ratio_rules_through_recording_rules() {
        let (t, how) = detection(&files(), "Ratio", 0.2).unwrap();
        assert!((t - (30.0 * 0.05 / 0.2 + 10.0)).abs() < 1e-9, "{t}");
        assert_eq!(how, "30s window × 0.05 ÷ 0.2 errors + for 10s");
        let (t, _) = detection(&files(), "Burn", 0.1).unwrap();
        assert!((t - 300.0 * 0.0144 / 0.1).abs() < 1e-9, "{t}");
        assert!(detection(&files(), "Latency", 0.2).is_none());
        assert!(detection(&files(), "Ratio", 0.01).unwrap().0.is_infinite());
        let expr = alert_expr(&files(), "Ratio").unwrap();
        assert_eq!(
            selectors(&files(), &expr),
            ["errors_total", "requests_total"]
        );
    }
}
