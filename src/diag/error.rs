//! Errors in a user's file (scenario, rule file, unit-test file), in the form a person fixes fastest: file, line
//! and column, what was expected, the offending line with a caret, and a hint
//! (the nearest valid name for a misspelt key).

use std::fmt;
use std::path::{Path, PathBuf};

/// A position in a file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    pub line: u64,
    pub column: u64,
}

impl From<serde_saphyr::Location> for Position {
    fn from(location: serde_saphyr::Location) -> Position {
        Position {
            line: location.line(),
            column: location.column(),
        }
    }
}

/// Something wrong with a scenario file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioError {
    pub file: PathBuf,
    pub position: Option<Position>,
    pub message: String,
    pub hint: Option<String>,
    /// The text of the offending line, for the caret display.
    pub source_line: Option<String>,
}

impl ScenarioError {
    /// An error at `position` of `file` whose text is `source`.
    pub fn at(
        file: &Path,
        source: &str,
        position: Option<Position>,
        message: impl Into<String>,
    ) -> ScenarioError {
        // The excerpt, not the line: a line can be 100 MB long.
        let source_line = position.and_then(|p| {
            source
                .lines()
                .nth(p.line.saturating_sub(1) as usize)
                .map(|line| {
                    let keep = (p.column as usize + MAX_EXCERPT_SUFFIX).max(MAX_LINE) + 1;
                    // Control characters would act on the terminal: shown as �.
                    line.chars()
                        .take(keep)
                        .map(|c| {
                            if c.is_control() && c != '\t' {
                                '\u{fffd}'
                            } else {
                                c
                            }
                        })
                        .collect()
                })
        });
        ScenarioError {
            file: file.to_path_buf(),
            position,
            message: bounded(&message.into(), MAX_MESSAGE),
            hint: None,
            source_line,
        }
    }

    /// Adds a hint line.
    pub fn hint(mut self, hint: impl Into<String>) -> ScenarioError {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(p) => write!(
                f,
                "{}:{}:{}: {}",
                self.file.display(),
                p.line,
                p.column,
                self.message
            )?,
            None => write!(f, "{}: {}", self.file.display(), self.message)?,
        }
        if let (Some(line), Some(p)) = (&self.source_line, self.position) {
            let number = p.line.to_string();
            let pad = " ".repeat(number.len());
            let (shown, caret) = window(line, p.column.saturating_sub(1) as usize);
            // Columns count characters; a tab in the prefix keeps its width.
            let prefix: String = shown
                .chars()
                .take(caret)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(f, "\n {number} | {shown}\n {pad} | {prefix}^")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// A line up to this long is shown whole; a longer one around the column.
const MAX_LINE: usize = 200;
/// Characters of a long line shown before and after the column.
const MAX_EXCERPT_PREFIX: usize = 80;
const MAX_EXCERPT_SUFFIX: usize = 80;
/// A message quotes what was written; past this it is cut.
const MAX_MESSAGE: usize = 400;

/// At most `max` characters of `text`, with `…` where it was cut.
pub(crate) fn bounded(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((cut, _)) => format!(
            "{}… ({} characters in all)",
            &text[..cut],
            text.chars().count()
        ),
    }
}

/// The part of `line` around character `column` that an error shows, and
/// where the column falls in it: long lines are cut on both sides.
fn window(line: &str, column: usize) -> (String, usize) {
    if line.chars().count() <= MAX_LINE {
        return (line.to_string(), column);
    }
    let start = column.saturating_sub(MAX_EXCERPT_PREFIX);
    let mut shown: String = line
        .chars()
        .skip(start)
        .take(column - start + MAX_EXCERPT_SUFFIX)
        .collect();
    let mut caret = column - start;
    if start > 0 {
        shown.insert(0, '…');
        caret += 1;
    }
    if line.chars().count() > column + MAX_EXCERPT_SUFFIX {
        shown.push('…');
    }
    (shown, caret)
}

/// The candidate closest to `word` by edit distance, if close enough to be a
/// plausible typo: 1 edit for words of up to 3 characters, else a third of
/// the length and at least 2 (a swap of two letters is 2 edits).
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let length = word.chars().count();
    let limit = if length <= 3 { 1 } else { (length / 3).max(2) };
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(word, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance over characters.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_names_catch_typos_only() {
        let keys = ["name", "duration", "load", "expect"];
        assert_eq!(nearest("duraton", keys), Some("duration"));
        assert_eq!(nearest("expects", keys), Some("expect"));
        assert_eq!(nearest("colour", keys), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn display_points_at_the_column() {
        let source = "a: 1\nphases:\n    duraton: 5s\n";
        let error = ScenarioError::at(
            Path::new("s.yaml"),
            source,
            Some(Position { line: 3, column: 5 }),
            "unknown key `duraton`",
        )
        .hint("did you mean `duration`?");
        assert_eq!(
            error.to_string(),
            "s.yaml:3:5: unknown key `duraton`\n 3 |     duraton: 5s\n   |     ^\n  hint: did you mean `duration`?"
        );
    }

    #[test]
    fn a_long_line_is_shown_around_the_column() {
        let line = format!("url: \"{}{}\"", "a".repeat(100_000), "BAD");
        let column = line.find("BAD").unwrap() as u64 + 1;
        let error = ScenarioError::at(
            Path::new("s.yaml"),
            &line,
            Some(Position { line: 1, column }),
            format!("`{line}` is wrong"),
        );
        let shown = error.to_string();
        assert!(shown.len() < 1_000, "{} bytes", shown.len());
        let lines: Vec<&str> = shown.lines().collect();
        assert!(
            lines[0].contains("… (100021 characters in all)"),
            "{}",
            lines[0]
        );
        // The caret is under the B of BAD.
        let b = lines[1].chars().position(|c| c == 'B').unwrap();
        assert_eq!(lines[2].chars().position(|c| c == '^'), Some(b), "{shown}");
        assert!(
            lines[1].starts_with(" 1 | …a") && lines[1].ends_with("BAD\""),
            "{}",
            lines[1]
        );
    }
}
