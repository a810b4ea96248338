//! What can be wrong with the structured forms of an expectation
//! (`{metric: ..., below: ...}`, `{promql: ..., above: ...}`) and with the
//! plain numbers their bounds are written in. The compact syntax has its own
//! error, [`CheckSyntaxError`]; these wrap it where a form contains it.

use crate::expect::{CheckSyntaxError, ComparisonError};

/// A bound that is not a number (`0.05`, `5%`, `1e3`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a number")]
pub(super) struct NotANumber(pub String);

/// A threshold: `0.05`, `5%`, `1e3`.
pub(super) fn parse_number(text: &str) -> Result<f64, NotANumber> {
    let text = text.trim();
    let bad = || NotANumber(text.to_string());
    if let Some(percent) = text.strip_suffix('%') {
        return percent
            .trim()
            .parse::<f64>()
            .map(|p| p / 100.0)
            .map_err(|_| bad());
    }
    crate::promql::parse_value(text).ok_or_else(bad)
}

/// Why a structured client-side expectation does not make a check.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(super) enum StructuredCheckError {
    /// The `check:` text, the `metric` or its bound does not parse.
    #[error(transparent)]
    Syntax(#[from] CheckSyntaxError),
    #[error("give `metric` exactly one of `below`, `at_most`, `above`, `at_least`")]
    MetricBounds,
    #[error("`check` stands alone: don't combine it with `metric` or a bound")]
    CheckNotAlone,
    #[error("a structured expectation needs `check: \"...\"` or `metric` with a bound")]
    Neither,
}

/// Why a PromQL expectation does not make an expression, a comparison and
/// a threshold.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(super) enum PromqlFormError {
    /// `promql: EXPR OP NUMBER` without a bound key.
    #[error(transparent)]
    Comparison(#[from] ComparisonError),
    /// The expression beside a bound key does not parse.
    #[error(transparent)]
    Expr(#[from] crate::promql::Error),
    #[error(transparent)]
    Bound(#[from] NotANumber),
    #[error("give at most one of `below`, `at_most`, `above`, `at_least`")]
    Bounds,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_shares() {
        assert_eq!(parse_number(" 5% "), Ok(0.05));
        assert_eq!(parse_number("1e3"), Ok(1000.0));
        assert_eq!(
            parse_number(" 5 percent").unwrap_err().to_string(),
            "`5 percent` is not a number"
        );
        assert_eq!(parse_number("x%"), Err(NotANumber("x%".into())));
    }
}
