//! YAML errors in our words, for every YAML file slogate reads (scenarios,
//! rule files, unit tests): serde-saphyr's developer-facing messages ("set
//! DuplicateKeyPolicy in Options", "use from_str_multiple", "budget
//! breached: ScalarBytes {..}") and serde's Rust type names never reach a
//! user; an unknown key gets a "did you mean".

use std::borrow::Cow;
use std::path::Path;

use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::{Error, MessageFormatter, UserMessageFormatter};

use super::{Position, ScenarioError, nearest};

/// serde-saphyr's messages, reworded where its own say how to call the
/// library rather than how to fix the file.
struct Messages;

impl MessageFormatter for Messages {
    fn format_message<'a>(&self, error: &'a Error) -> Cow<'a, str> {
        match error {
            Error::WithSnippet { error, .. } => self.format_message(error),
            Error::DuplicateMappingKey { key: Some(key), .. } => {
                format!("`{key}` appears twice in this map").into()
            }
            Error::DuplicateMappingKey { key: None, .. } => {
                "a key appears twice in this map".into()
            }
            Error::MultipleDocuments { .. } => {
                "the file holds several YAML documents (`---`); write one".into()
            }
            Error::NullIntoString { .. } | Error::InvalidCharNull { .. } => {
                "expected a value here, found nothing (or `~`, null)".into()
            }
            Error::RecursiveReferencesRequireWeakTypes { .. } => {
                "an alias (`*name`) here refers to the map or list that contains it".into()
            }
            Error::InvalidUtf8Input => "the file is not valid UTF-8".into(),
            Error::Budget { breach, .. } => too_large(breach).into(),
            other => Cow::Owned(crate::diag::plain(
                &UserMessageFormatter.format_message(other),
            )),
        }
    }
}

/// A breached parsing budget, said as what is wrong with the file.
fn too_large(breach: &BudgetBreach) -> String {
    let what = match breach {
        BudgetBreach::Depth { depth } => format!("nested {depth} levels deep"),
        BudgetBreach::ScalarBytes { total_scalar_bytes } => {
            format!("holds {total_scalar_bytes} bytes of values")
        }
        BudgetBreach::Nodes { nodes } => format!("has {nodes} values"),
        BudgetBreach::Events { events } => format!("has {events} YAML events"),
        BudgetBreach::Aliases { aliases } => format!("uses {aliases} aliases"),
        BudgetBreach::Anchors { anchors } => format!("defines {anchors} anchors"),
        BudgetBreach::Documents { documents } => format!("holds {documents} documents"),
        _ => "is too large or too complex".to_string(),
    };
    format!("the file {what}, past what slogate reads; is it the right file?")
}

/// A serde-saphyr error as ours; `keys` are the file format's keys, for
/// "did you mean" on unknown ones.
pub fn error_with_keys(
    file: &Path,
    source: &str,
    error: &Error,
    keys: &[&[&str]],
) -> ScenarioError {
    let position = error.location().map(Position::from);
    let message = Messages.format_message(error).into_owned();
    let message = message
        .replace("unknown field", "unknown key")
        .replace("missing field", "missing key")
        .replace(
            "expected list start",
            "expected a list (lines starting with `- `)",
        )
        .replace(
            "expected mapping start",
            "expected a map (`key: value` lines)",
        )
        .replace(
            "expected string scalar",
            "expected a string here, found a map or a list",
        );
    let message = if names_an_integer_type(&message) {
        "expected a whole number".to_string()
    } else {
        message
    };
    let mut result = ScenarioError::at(file, source, position, message.clone());
    if message.starts_with("expected a string here") {
        result = result.hint("write the value as text; quote it if it starts with `{` or `[`");
    }
    if let Some(rest) = message.strip_prefix("unknown key `")
        && let Some((key, _)) = rest.split_once('`')
    {
        let candidates = keys.iter().flat_map(|keys| keys.iter().copied());
        if let Some(near) = nearest(key, candidates) {
            result = result.hint(format!("did you mean `{near}`?"));
        }
    }
    result
}

/// Whether serde-saphyr's message is about an integer field (`invalid
/// u16`, `invalid i64 ...`): only those become "expected a whole number",
/// not every message that starts alike ("invalid indentation ...").
fn names_an_integer_type(message: &str) -> bool {
    let Some(rest) = message.strip_prefix("invalid ") else {
        return false;
    };
    let word = rest
        .split(|c: char| !c.is_ascii_alphanumeric())
        .next()
        .unwrap_or("");
    matches!(
        word,
        "u8" | "u16"
            | "u32"
            | "u64"
            | "u128"
            | "usize"
            | "i8"
            | "i16"
            | "i32"
            | "i64"
            | "i128"
            | "isize"
    )
}

/// The text of a YAML file: a regular file within the size limit (see
/// [`crate::input`]), or an error naming where it stops being UTF-8.
pub(crate) fn read(path: &Path) -> Result<String, ScenarioError> {
    let bytes = crate::input::read(path, crate::input::MAX_SOURCE_BYTES, "a source file")
        .map_err(|e| ScenarioError::at(path, "", None, format!("cannot read the file: {e}")))?;
    match crate::diag::invalid_utf8(&bytes) {
        None => Ok(String::from_utf8(bytes).unwrap_or_default()),
        Some((line, column, byte)) => {
            let text = String::from_utf8_lossy(&bytes);
            Err(ScenarioError::at(
                path,
                &text,
                Some(Position { line, column }),
                format!("byte 0x{byte:02x} is not UTF-8: the file must be UTF-8 text"),
            )
            .hint("save the file as UTF-8 (iconv -f LATIN1 -t UTF-8 FILE)"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_integer_messages_become_whole_number() {
        assert!(names_an_integer_type("invalid u16"));
        assert!(names_an_integer_type("invalid i64: out of range"));
        assert!(!names_an_integer_type(
            "invalid indentation in multiline quoted scalar"
        ));
        assert!(!names_an_integer_type("invalid unicode escape"));
        assert!(!names_an_integer_type("unknown key"));
    }
}
