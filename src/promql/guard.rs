//! Running `promql-parser` so that a panic inside it becomes a parse error,
//! and is not printed as a crash. Fuzzing found one: a number of seconds
//! too large for a `Duration` (`x[1e400]`, `x offset 3e30`) reached
//! `Duration::from_secs_f64`, which panics; the fork now refuses those as
//! Prometheus does ("duration out of range"). Any other panic of the
//! parser is caught the same way; ours are never caught here.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// Set while this thread runs the parser: its panics are not printed.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Installs, once, a panic hook that stays silent for the parser's panics
/// and hands every other panic to the hook that was there before.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Why the parser gave no expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum ParseFailure {
    /// The parser's own message: free text, as `promql-parser` reports
    /// every syntax error as a `String`.
    #[error("{0}")]
    Refused(String),
    /// The parser panicked; the panic's message.
    #[error("invalid expression: {0}")]
    Panicked(String),
}

/// `promql_parser::parser::parse(text)`, a panic turned into `Err` with
/// the panic's message.
pub(super) fn parse(text: &str) -> Result<promql_parser::parser::Expr, ParseFailure> {
    install_hook();
    QUIET.with(|q| q.set(true));
    let parsed = panic::catch_unwind(AssertUnwindSafe(|| promql_parser::parser::parse(text)));
    QUIET.with(|q| q.set(false));
    match parsed {
        Ok(result) => result.map_err(ParseFailure::Refused),
        Err(panic) => {
            let why = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("the parser failed");
            Err(ParseFailure::Panicked(why.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_duration_too_large_for_the_parser_is_an_error() {
        for text in [
            "up[1e400]",
            "rate(up[33333333333333333333333333])",
            "up offset 1e30",
        ] {
            let err = super::parse(text).unwrap_err().to_string();
            assert!(err.contains("duration out of range"), "{text}: {err}");
        }
        assert!(super::parse("up[5m]").is_ok());
    }
}
