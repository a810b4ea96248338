//! Server-side expectations: a PromQL expression compared with a number,
//! at the end of a phase, at every step of it (`always`), at some step
//! (`eventually`), or at a share of its steps (`95%`). Every series of the
//! answer must satisfy the comparison; an empty answer is NO DATA.

use std::time::Duration;

use promql_parser::parser::token::{T_EQLC, T_GTE, T_GTR, T_LSS, T_LTE, T_NEQ};
use promql_parser::parser::{BinaryExpr, Expr};

use super::{CheckOutcome, Verdict};
use crate::backend::QueryBackend;
use crate::metrics::store::Labels;
use crate::promql::format_value;
use crate::units::format_significant;

/// A comparison of PromQL values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Compare {
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Compare::Lt => value < threshold,
            Compare::Le => value <= threshold,
            Compare::Gt => value > threshold,
            Compare::Ge => value >= threshold,
            Compare::Eq => value == threshold,
            Compare::Ne => value != threshold,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Compare::Lt => "<",
            Compare::Le => "<=",
            Compare::Gt => ">",
            Compare::Ge => ">=",
            Compare::Eq => "==",
            Compare::Ne => "!=",
        }
    }

    /// The same comparison with its sides swapped (`1 < x` is `x > 1`).
    fn flipped(self) -> Compare {
        match self {
            Compare::Lt => Compare::Gt,
            Compare::Le => Compare::Ge,
            Compare::Gt => Compare::Lt,
            Compare::Ge => Compare::Le,
            other => other,
        }
    }

    /// Of two values, the one further from holding.
    fn worse(self, a: f64, b: f64) -> bool {
        match self {
            Compare::Lt | Compare::Le => a > b,
            Compare::Gt | Compare::Ge => a < b,
            Compare::Eq | Compare::Ne => false,
        }
    }
}

/// When over the phase the comparison must hold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Holds {
    /// At the phase's (or run's) end.
    End,
    /// At every step with data.
    Always,
    /// At one step at least.
    Eventually,
    /// At this share (0..=1) of the steps with data.
    AtLeast(f64),
}

/// A `holds:` value that is none of its forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`holds: {0}`: expected `end`, `always`, `eventually` or a share of steps such as `95%`")]
pub struct HoldsError(String);

impl Holds {
    pub fn parse(text: &str) -> Result<Holds, HoldsError> {
        match text.trim() {
            "end" => Ok(Holds::End),
            "always" => Ok(Holds::Always),
            "eventually" => Ok(Holds::Eventually),
            other => other
                .parse::<crate::units::Ratio>()
                .map(|r| Holds::AtLeast(r.fraction()))
                .map_err(|_| HoldsError(other.to_string())),
        }
    }

    fn describe(self) -> String {
        match self {
            Holds::End => "at the end".into(),
            Holds::Always => "always".into(),
            Holds::Eventually => "eventually".into(),
            Holds::AtLeast(share) => format!("at >= {}% of steps", trim(share * 100.0)),
        }
    }
}

/// A PromQL expectation as the scenario states it.
#[derive(Debug, Clone, PartialEq)]
pub struct PromqlExpectation {
    /// The measured expression (without the comparison).
    pub expr: String,
    pub compare: Compare,
    pub threshold: f64,
    pub holds: Holds,
    /// Step for the range forms; None: the scenario's default.
    pub step: Option<Duration>,
    pub optional: bool,
    pub source: String,
}

impl PromqlExpectation {
    /// How verdicts and reports name it: `promql: EXPR < 0.01`.
    pub fn check_text(&self) -> String {
        format!(
            "promql: {} {} {}",
            self.expr,
            self.compare.symbol(),
            format_value(self.threshold)
        )
    }
}

/// Why a PromQL expectation's text is not `EXPR OP NUMBER`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ComparisonError {
    /// Not PromQL at all.
    #[error(transparent)]
    Parse(#[from] crate::promql::Error),
    /// No binary operator at the top: the whole text is the measured side.
    #[error(
        "`{0}` has no comparison at the top; write e.g. `{0} < 0.01`, or give a bound (`below: 0.01`)"
    )]
    NotBinary(String),
    /// A binary operator at the top, but arithmetic or a set operator.
    #[error(
        "`{0}` has no comparison at the top; write e.g. `... < 0.01`, or give a bound (`below: 0.01`)"
    )]
    NotComparison(String),
    #[error("drop `bool`: the expectation compares the values itself")]
    Bool,
    #[error("`{0}`: one side of the comparison must be a number, e.g. `... < 0.01`")]
    NoNumber(String),
}

/// Parses `EXPR OP NUMBER` (or `NUMBER OP EXPR`), the comparison at the top
/// of the expression, without `bool`.
pub(crate) fn split_comparison(text: &str) -> Result<(String, Compare, f64), ComparisonError> {
    let expr = crate::promql::parse(text)?;
    let Expr::Binary(BinaryExpr {
        op,
        lhs,
        rhs,
        modifier,
    }) = &expr
    else {
        return Err(ComparisonError::NotBinary(text.to_string()));
    };
    let compare = match op.id() {
        T_LSS => Compare::Lt,
        T_LTE => Compare::Le,
        T_GTR => Compare::Gt,
        T_GTE => Compare::Ge,
        T_EQLC => Compare::Eq,
        T_NEQ => Compare::Ne,
        _ => return Err(ComparisonError::NotComparison(text.to_string())),
    };
    if modifier.as_ref().is_some_and(|m| m.return_bool) {
        return Err(ComparisonError::Bool);
    }
    match (number(lhs), number(rhs)) {
        (_, Some(n)) => Ok((lhs.to_string(), compare, n)),
        (Some(n), None) => Ok((rhs.to_string(), compare.flipped(), n)),
        (None, None) => Err(ComparisonError::NoNumber(text.to_string())),
    }
}

fn number(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::NumberLiteral(n) => Some(n.val),
        Expr::Paren(p) => number(&p.expr),
        Expr::Unary(u) => number(&u.expr).map(|n| -n),
        _ => None,
    }
}

fn trim(value: f64) -> String {
    crate::units::format_decimals(value, 4)
}

/// One series' value with its labels, for verdict text.
fn labelled(labels: &Labels, v: f64) -> String {
    if labels.is_empty() {
        format_significant(v)
    } else {
        format!("{} {labels}", format_significant(v))
    }
}

/// The verdict of an expectation whose phase never ran.
pub(crate) fn never_ran(e: &PromqlExpectation, scope: String) -> Verdict {
    Verdict {
        check: e.check_text(),
        scope,
        measured: None,
        measured_text: "no data (the phase did not run)".into(),
        wanted: format!(
            "{} {} {}",
            e.compare.symbol(),
            format_value(e.threshold),
            e.holds.describe()
        ),
        outcome: CheckOutcome::NoData,
        optional: e.optional,
        source: e.source.clone(),
        truncated: false,
    }
}

/// Judges `e` over `(start, end)` (ms) with `backend`; `step` is used by the
/// range forms when the expectation gives none. A verdict over data that a
/// limit truncated is marked, and cannot pass.
pub(crate) fn judge(
    e: &PromqlExpectation,
    backend: &dyn QueryBackend,
    window: (i64, i64),
    default_step: Duration,
    scope: String,
) -> Verdict {
    let mut verdict = judge_data(e, backend, window, default_step, scope);
    verdict.mark_truncated(&backend.losses(window.0, window.1), window.0);
    verdict
}

fn judge_data(
    e: &PromqlExpectation,
    backend: &dyn QueryBackend,
    window: (i64, i64),
    default_step: Duration,
    scope: String,
) -> Verdict {
    let (start, end) = window;
    let wanted = format!(
        "{} {} {}",
        e.compare.symbol(),
        format_value(e.threshold),
        e.holds.describe()
    );
    let verdict = |outcome: CheckOutcome, measured: Option<f64>, text: String| Verdict {
        check: e.check_text(),
        scope: scope.clone(),
        measured,
        measured_text: text,
        wanted: wanted.clone(),
        outcome,
        optional: e.optional,
        source: e.source.clone(),
        truncated: false,
    };
    let holds = |v: f64| e.compare.holds(v, e.threshold);
    if e.holds == Holds::End {
        return match backend.instant(&e.expr, end) {
            Err(why) => verdict(CheckOutcome::Fail, None, format!("error: {why}")),
            Ok(answer) if answer.is_empty() => {
                verdict(CheckOutcome::NoData, None, "no data (empty result)".into())
            }
            Ok(answer) => {
                let failing: Vec<_> = answer.iter().filter(|(_, v)| !holds(*v)).collect();
                // The worst failing series, or the worst of all when none fails.
                let pool: Vec<&(Labels, f64)> = if failing.is_empty() {
                    answer.iter().collect()
                } else {
                    failing.clone()
                };
                let worst = pool
                    .into_iter()
                    .reduce(|a, s| if e.compare.worse(s.1, a.1) { s } else { a })
                    .expect("not empty");
                let shown: Vec<String> = if failing.is_empty() {
                    vec![labelled(&worst.0, worst.1)]
                } else {
                    failing
                        .iter()
                        .take(3)
                        .map(|(l, v)| labelled(l, *v))
                        .collect()
                };
                let mut text = shown.join(", ");
                if failing.len() > 3 {
                    text.push_str(&format!(" (+{} more)", failing.len() - 3));
                }
                if answer.len() > 1 {
                    text.push_str(&format!(
                        " [{} of {} series fail]",
                        failing.len(),
                        answer.len()
                    ));
                }
                let outcome = if failing.is_empty() {
                    CheckOutcome::Pass
                } else {
                    CheckOutcome::Fail
                };
                verdict(outcome, Some(worst.1), text)
            }
        };
    }
    let step = e.step.unwrap_or(default_step).as_millis().max(1) as i64;
    let series = match backend.range(&e.expr, start, end, step) {
        Ok(series) => series,
        Err(why) => return verdict(CheckOutcome::Fail, None, format!("error: {why}")),
    };
    // Per step: does every series hold; the worst value and its series.
    let mut steps: std::collections::BTreeMap<i64, (bool, f64, &Labels)> = Default::default();
    for s in &series {
        for p in &s.points {
            let entry = steps.entry(p.t).or_insert((true, p.v, &s.labels));
            entry.0 &= holds(p.v);
            let replaces = if holds(entry.1) {
                !holds(p.v) || e.compare.worse(p.v, entry.1)
            } else {
                !holds(p.v) && e.compare.worse(p.v, entry.1)
            };
            if replaces {
                (entry.1, entry.2) = (p.v, &s.labels);
            }
        }
    }
    let total = (end - start) / step + 1;
    if steps.is_empty() {
        return verdict(
            CheckOutcome::NoData,
            None,
            format!("no data at any of {total} steps"),
        );
    }
    let held = steps.values().filter(|s| s.0).count();
    let with_data = steps.len();
    let at = |t: i64| format!("+{}s", trim((t - start) as f64 / 1000.0));
    let gaps = if (with_data as i64) < total {
        format!("; no data at {} of {total} steps", total - with_data as i64)
    } else {
        String::new()
    };
    // The worst step among those that failed, or among all when none did.
    let failed_any = held < with_data;
    let (worst_t, worst) = steps
        .iter()
        .filter(|(_, s)| !failed_any || !s.0)
        .reduce(|a, s| if e.compare.worse(s.1.1, a.1.1) { s } else { a })
        .map(|(t, s)| (*t, s))
        .expect("not empty");
    let worst_text = format!("worst {} at {}", labelled(worst.2, worst.1), at(worst_t));
    match e.holds {
        Holds::Always => {
            let outcome = if held == with_data {
                CheckOutcome::Pass
            } else {
                CheckOutcome::Fail
            };
            let first_fail = steps.iter().find(|(_, s)| !s.0).map(|(t, _)| *t);
            let text = match first_fail {
                None => format!("held at {held}/{with_data} steps, {worst_text}{gaps}"),
                Some(t) => format!(
                    "failed at {} ({held}/{with_data} steps held), {worst_text}{gaps}",
                    at(t)
                ),
            };
            verdict(outcome, Some(worst.1), text)
        }
        Holds::Eventually => match steps.iter().find(|(_, s)| s.0) {
            Some((t, s)) => verdict(
                CheckOutcome::Pass,
                Some(s.1),
                format!("first held at {}: {}{gaps}", at(*t), labelled(s.2, s.1)),
            ),
            None => verdict(
                CheckOutcome::Fail,
                Some(worst.1),
                format!("never held in {with_data} steps; best {}{gaps}", {
                    let best = steps
                        .values()
                        .fold(worst, |a, s| if e.compare.worse(a.1, s.1) { s } else { a });
                    labelled(best.2, best.1)
                }),
            ),
        },
        Holds::AtLeast(share) => {
            let measured = held as f64 / with_data as f64;
            let outcome = if measured >= share {
                CheckOutcome::Pass
            } else {
                CheckOutcome::Fail
            };
            verdict(
                outcome,
                Some(measured),
                format!(
                    "held at {}% of steps ({held}/{with_data}), {worst_text}{gaps}",
                    trim(measured * 100.0)
                ),
            )
        }
        Holds::End => unreachable!("handled above"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_split_from_the_expression() {
        let (expr, compare, n) =
            split_comparison("sum(rate(x[1m])) / sum(rate(y[1m])) < 0.01").unwrap();
        assert_eq!(
            (expr.as_str(), compare, n),
            ("sum(rate(x[1m])) / sum(rate(y[1m]))", Compare::Lt, 0.01)
        );
        let (expr, compare, n) = split_comparison("0.5 <= up").unwrap();
        assert_eq!((expr.as_str(), compare, n), ("up", Compare::Ge, 0.5));
        assert_eq!(
            split_comparison("rate(x[1m])").unwrap_err().to_string(),
            "`rate(x[1m])` has no comparison at the top; write e.g. `rate(x[1m]) < 0.01`, or give a bound (`below: 0.01`)"
        );
        assert_eq!(
            split_comparison("up + 1").unwrap_err(),
            ComparisonError::NotComparison("up + 1".into())
        );
        assert_eq!(
            split_comparison("up > bool 1").unwrap_err(),
            ComparisonError::Bool
        );
        assert_eq!(
            split_comparison("up > up").unwrap_err().to_string(),
            "`up > up`: one side of the comparison must be a number, e.g. `... < 0.01`"
        );
        let error = split_comparison("rate(x[1m] < 1").unwrap_err();
        assert!(matches!(error, ComparisonError::Parse(_)));
        assert!(error.to_string().contains("cannot parse"));
    }

    #[test]
    fn holds_forms() {
        assert_eq!(Holds::parse("always"), Ok(Holds::Always));
        assert_eq!(Holds::parse("95%"), Ok(Holds::AtLeast(0.95)));
        assert_eq!(
            Holds::parse(" sometimes ").unwrap_err().to_string(),
            "`holds: sometimes`: expected `end`, `always`, `eventually` or a share of steps such as `95%`"
        );
    }
}
