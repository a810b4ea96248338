//! What every parser's errors share, so `scenario`, `rules`, `plan`,
//! `expect` and `proxy` report them one way: a position in a file and the
//! file:line:col error with its source line ([`error`]), "did you mean"
//! ([`nearest`], by edit distance), reading a user's file within bounds
//! and YAML errors in the file's own keys ([`yaml`]), serde's messages put
//! in the terms of the file a person wrote (no Rust type names such as
//! `struct FaultSpec with 14 elements`), and where invalid UTF-8 starts in
//! a file.

pub(crate) mod error;
pub(crate) mod yaml;

pub(crate) use error::bounded;
pub use error::{Position, ScenarioError, nearest};

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

/// serde's wording for Rust types, and what a person reading a YAML or JSON
/// file calls them.
static RUST_TYPES: LazyLock<[(Regex, &'static str); 4]> = LazyLock::new(|| {
    let re = |pattern: &str| Regex::new(pattern).expect("a valid pattern");
    [
        (
            re(r"(?:tuple |unit )?struct [A-Za-z_][A-Za-z0-9_]*(?: with \d+ elements?)?"),
            "a map (`key: value`)",
        ),
        (
            re(r"enum [A-Za-z_][A-Za-z0-9_]*"),
            "one of the documented values",
        ),
        (re(r"\bsequence\b"), "list"),
        (re(r"Option<[A-Za-z_<>]*>|Vec<[A-Za-z_<>]*>"), "a value"),
    ]
});

/// The text of a file (scenario, rule file, rule unit-test file), or the
/// error that says why it cannot be read: a device such as `/dev/zero`, a
/// file over [`crate::input::MAX_SOURCE_BYTES`], or one that is not UTF-8
/// (named at its first bad byte) is refused.
pub fn read(path: &Path) -> Result<String, Vec<ScenarioError>> {
    yaml::read(path).map_err(|e| vec![e])
}

/// `message` with Rust type names replaced by what the file calls them.
pub(crate) fn plain(message: &str) -> String {
    let mut text = message.to_string();
    for (pattern, words) in RUST_TYPES.iter() {
        text = pattern.replace_all(&text, *words).into_owned();
    }
    text
}

/// Where a file's text stops being UTF-8: 1-based line and column (in
/// characters), and the offending byte; None when all of it is UTF-8.
pub(crate) fn invalid_utf8(bytes: &[u8]) -> Option<(u64, u64, u8)> {
    let error = std::str::from_utf8(bytes).err()?;
    let valid = &bytes[..error.valid_up_to()];
    // Valid up to here, so this cannot fail.
    let text = std::str::from_utf8(valid).unwrap_or_default();
    let line = text.matches('\n').count() as u64 + 1;
    let column = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
    Some((line, column, bytes[error.valid_up_to()]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_types_become_file_terms() {
        assert_eq!(
            plain("invalid length 0, expected struct FaultSpec with 14 elements"),
            "invalid length 0, expected a map (`key: value`)"
        );
        assert_eq!(
            plain("invalid type: sequence, expected enum Kind"),
            "invalid type: list, expected one of the documented values"
        );
        assert_eq!(plain("unknown field `x`"), "unknown field `x`");
    }

    #[test]
    fn invalid_utf8_is_found_at_its_line_and_column() {
        assert_eq!(invalid_utf8(b"name: ok\n"), None);
        assert_eq!(
            invalid_utf8(b"a: 1\nname: \xc5\x81x\xff\n"),
            Some((2, 9, 0xff))
        );
        assert_eq!(invalid_utf8(b"\xfe"), Some((1, 1, 0xfe)));
    }
}
