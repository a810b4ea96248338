//! Prometheus 3's experimental PromQL, as its feature flags gate it.
//!
//! The parser reads all of it (the test suite and scenarios need it), but
//! a Prometheus or a promtool started without `--enable-feature=...`
//! refuses a rule file that uses it, so `slogate check` and `slogate
//! test-rules` do too unless given the same flags, with Prometheus's
//! messages (promql/parser/parse.go, generated_parser.y). Duration
//! expressions need no flag: promtool 3 always enables them.

use promql_parser::parser::token::{T_LIMIT_RATIO, T_LIMITK};
use promql_parser::parser::{Expr, VectorSelector};
use promql_parser::util::{ExprVisitor, walk_expr};

/// Which experimental parts are enabled (`--enable-feature`); none by
/// default, as in promtool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Features {
    /// `promql-experimental-functions`.
    pub experimental_functions: bool,
    /// `promql-extended-range-selectors`: `anchored`, `smoothed`.
    pub extended_range_selectors: bool,
    /// `promql-binop-fill-modifiers`: `fill`, `fill_left`, `fill_right`.
    pub binop_fill_modifiers: bool,
}

/// The feature names of promtool 3's `--enable-feature` that slogate
/// takes (`promql-duration-expr` is accepted and always on, as in
/// promtool 3).
pub(crate) const NAMES: &[&str] = &[
    "promql-experimental-functions",
    "promql-extended-range-selectors",
    "promql-binop-fill-modifiers",
    "promql-duration-expr",
];

/// A `--enable-feature` name slogate does not take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeatureError {
    /// A Prometheus feature whose semantics slogate's evaluator does not have.
    #[error(
        "`promql-delayed-name-removal` is not supported: slogate drops a series' name at once, as Prometheus's default engine does"
    )]
    DelayedNameRemoval,
    #[error("unknown feature `{0}`; known: {known}", known = NAMES.join(", "))]
    Unknown(String),
}

impl Features {
    /// Everything on: scenarios, `slogate query`, the PromQL test suite.
    pub const ALL: Features = Features {
        experimental_functions: true,
        extended_range_selectors: true,
        binop_fill_modifiers: true,
    };
    /// promtool 3 and Prometheus 3 without flags.
    pub const NONE: Features = Features {
        experimental_functions: false,
        extended_range_selectors: false,
        binop_fill_modifiers: false,
    };

    /// Features from `--enable-feature` values (comma-separated, as
    /// promtool reads them). An unknown name is an error with the list.
    pub fn from_flags<S: AsRef<str>>(flags: &[S]) -> Result<Features, FeatureError> {
        let mut f = Features::NONE;
        for flag in flags {
            for name in flag.as_ref().split(',').map(str::trim) {
                match name {
                    "" | "promql-duration-expr" => {}
                    "promql-delayed-name-removal" => return Err(FeatureError::DelayedNameRemoval),
                    "promql-experimental-functions" => f.experimental_functions = true,
                    "promql-extended-range-selectors" => f.extended_range_selectors = true,
                    "promql-binop-fill-modifiers" => f.binop_fill_modifiers = true,
                    other => return Err(FeatureError::Unknown(other.to_string())),
                }
            }
        }
        Ok(f)
    }

    /// The first part of `expr` these features leave disabled, in
    /// Prometheus's words, with the flag that enables it.
    pub fn refuse(&self, expr: &Expr) -> Option<Refused> {
        let mut v = Visitor {
            features: *self,
            found: None,
        };
        let _ = walk_expr(&mut v, expr);
        v.found
    }
}

/// A disabled feature an expression uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// Prometheus's parse error.
    pub message: String,
    /// The `--enable-feature` value that allows it.
    pub flag: &'static str,
}

/// Functions `Experimental: true` in Prometheus 3.14's
/// promql/parser/functions.go. Not the parser's own `Function::experimental`:
/// that also marks `integral`, which Prometheus 3.14 does not have (the
/// evaluator reports it unsupported by name), so the flag would give it
/// the wrong message.
const EXPERIMENTAL_FUNCTIONS: &[&str] = &[
    "double_exponential_smoothing",
    "end",
    "histogram_quantiles",
    "info",
    "mad_over_time",
    "max_of",
    "min_of",
    "range",
    "sort_by_label",
    "sort_by_label_desc",
    "start",
    "start_timestamp",
    "step",
    "ts_of_first_over_time",
    "ts_of_last_over_time",
    "ts_of_max_over_time",
    "ts_of_min_over_time",
];

struct Visitor {
    features: Features,
    found: Option<Refused>,
}

impl Visitor {
    fn selector(&self, vs: &VectorSelector) -> Option<Refused> {
        if self.features.extended_range_selectors {
            return None;
        }
        let word = if vs.anchored {
            "anchored"
        } else if vs.smoothed {
            "smoothed"
        } else {
            return None;
        };
        Some(Refused {
            message: format!("{word} modifier is experimental and not enabled"),
            flag: "promql-extended-range-selectors",
        })
    }
}

impl ExprVisitor for Visitor {
    type Error = ();

    fn pre_visit(&mut self, expr: &Expr) -> Result<bool, ()> {
        let f = self.features;
        let found = match expr {
            Expr::Call(c)
                if !f.experimental_functions && EXPERIMENTAL_FUNCTIONS.contains(&c.func.name) =>
            {
                Some(Refused {
                    message: format!("function \"{}\" is not enabled", c.func.name),
                    flag: "promql-experimental-functions",
                })
            }
            Expr::Aggregate(a)
                if !f.experimental_functions && matches!(a.op.id(), T_LIMITK | T_LIMIT_RATIO) =>
            {
                Some(Refused {
                    message: format!(
                        "{}() is experimental and must be enabled with \
                         --enable-feature=promql-experimental-functions",
                        a.op
                    ),
                    flag: "promql-experimental-functions",
                })
            }
            Expr::Binary(b)
                if !f.binop_fill_modifiers
                    && b.modifier.as_ref().is_some_and(|m| {
                        m.fill_values.lhs.is_some() || m.fill_values.rhs.is_some()
                    }) =>
            {
                Some(Refused {
                    message: "binop fill modifiers are experimental and not enabled".into(),
                    flag: "promql-binop-fill-modifiers",
                })
            }
            Expr::VectorSelector(vs) => self.selector(vs),
            Expr::MatrixSelector(ms) => self.selector(&ms.vs),
            _ => None,
        };
        if found.is_some() {
            self.found = found;
            return Ok(false);
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(f: Features, text: &str) -> Option<String> {
        f.refuse(&promql_parser::parser::parse(text).unwrap())
            .map(|r| r.message)
    }

    #[test]
    fn without_flags_prometheus_3_refuses_the_experimental_parts() {
        for (text, message) in [
            (
                "sort_by_label(up, \"a\")",
                "function \"sort_by_label\" is not enabled",
            ),
            (
                "sum(limitk(2, up))",
                "limitk() is experimental and must be enabled with --enable-feature=promql-experimental-functions",
            ),
            (
                "rate(up[5m] anchored)",
                "anchored modifier is experimental and not enabled",
            ),
            (
                "up smoothed",
                "smoothed modifier is experimental and not enabled",
            ),
            (
                "a + fill(0) b",
                "binop fill modifiers are experimental and not enabled",
            ),
        ] {
            assert_eq!(
                refused(Features::NONE, text).as_deref(),
                Some(message),
                "{text}"
            );
            assert_eq!(refused(Features::ALL, text), None, "{text}");
        }
        // Duration expressions need no flag, as in promtool 3.
        assert_eq!(refused(Features::NONE, "rate(up[1m * 2])"), None);
        assert_eq!(refused(Features::NONE, "rate(up[5m])"), None);
    }

    #[test]
    fn flags_are_read_as_promtool_reads_them() {
        let f = Features::from_flags(&[
            "promql-experimental-functions,promql-binop-fill-modifiers",
            "promql-duration-expr",
        ])
        .unwrap();
        assert!(f.experimental_functions && f.binop_fill_modifiers);
        assert!(!f.extended_range_selectors);
        assert!(refused(f, "rate(up[5m] anchored)").is_some());
        assert_eq!(
            Features::from_flags(&["promql-anchored"])
                .unwrap_err()
                .to_string(),
            "unknown feature `promql-anchored`; known: promql-experimental-functions, \
             promql-extended-range-selectors, promql-binop-fill-modifiers, promql-duration-expr"
        );
        assert_eq!(
            Features::from_flags(&["promql-delayed-name-removal"]),
            Err(FeatureError::DelayedNameRemoval)
        );
        assert_eq!(
            FeatureError::DelayedNameRemoval.to_string(),
            "`promql-delayed-name-removal` is not supported: slogate drops a series' name at \
             once, as Prometheus's default engine does"
        );
    }
}
