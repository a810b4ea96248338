//! Escaping for every text slogate writes that a user, a data file or a
//! target chose: request and phase names, scraped labels, check texts,
//! URLs. One rule per kind of output, used by every writer of that kind:
//!
//! - [`csv_cell`]: a cell a spreadsheet would run as a formula (`=`, `+`,
//!   `-`, `@`, tab, CR first) gets a leading `'`, as OWASP advises; numbers
//!   (`-1.5`, `+3`) stay numbers.
//! - [`markdown_text`] and [`markdown_code`]: nothing from data can make a
//!   link, an image, an HTML tag, emphasis or a new table cell or row.
//! - [`terminal`]: control characters (ANSI/OSC escapes, backspace, bell,
//!   line breaks) are shown as `\x1b`-style text, never sent raw.
//!
//! HTML and JUnit escape with their own writers (`report::html`,
//! `report::run::junit`).

use std::borrow::Cow;
use std::fmt::Write as _;

/// A CSV cell that a spreadsheet opens as text, never as a formula.
pub fn csv_cell(cell: &str) -> Cow<'_, str> {
    let risky = cell
        .bytes()
        .next()
        .is_some_and(|b| matches!(b, b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'));
    if risky && !is_number(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A CSV record with every cell through [`csv_cell`]: what every CSV writer
/// hands to `csv::Writer::write_record`.
pub fn csv_row<I, S>(cells: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    cells
        .into_iter()
        .map(|cell| csv_cell(cell.as_ref()).into_owned())
        .collect()
}

/// `-1.5`, `+3`, `-2e-3`: what a spreadsheet reads as a plain number.
fn is_number(cell: &str) -> bool {
    cell.bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
        && cell.parse::<f64>().is_ok()
}

/// Text for a Markdown table cell or line: `|` would end the cell, a line
/// break the table; `[`, `]`, `(`, `)`, `!` could make a link or an image
/// (`[l](javascript:…)`, `![x](https://…)`), `<`/`>` an HTML tag or an
/// autolink, `` ` ``, `*`, `_`, `~` code or emphasis. Each is escaped (a
/// backslash before it, or an entity for `<` and `>`), backslashes first so
/// an escape in the data cannot undo ours.
pub fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' | '|' | '`' | '*' | '_' | '~' | '[' | ']' | '(' | ')' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => {
                let _ = write!(out, "\\\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// A code span for a Markdown table cell: nothing renders inside one, but
/// `|` still splits cells (GFM splits before it parses code) and a run of
/// backticks as long as the fence would end it, so the fence is one
/// backtick longer than the longest run inside. Control characters are
/// shown as in [`terminal`] (a code span shows a backslash as it is).
pub fn markdown_code(text: &str) -> String {
    let body = terminal(&text.replace('|', "\\|").replace(['\n', '\r'], " ")).into_owned();
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    if longest == 0 {
        return format!("`{body}`");
    }
    let fence = "`".repeat(longest + 1);
    format!("{fence} {body} {fence}")
}

/// Text for a terminal: every control character (C0, DEL, C1) is written
/// as a visible `\x1b`, `\n`, `\u{9b}`..., so a name or a scraped label
/// cannot move the cursor, recolour, retitle the window (OSC) or hide
/// what follows. Borrowed when there is nothing to change.
pub fn terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`terminal`] for a message of several lines (an error with its source
/// excerpt, a warning): line breaks are kept, every other control shown.
pub fn terminal_lines(text: &str) -> String {
    text.split('\n')
        .map(terminal)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_formulas_are_neutralized_and_numbers_kept() {
        assert_eq!(csv_cell("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(csv_cell("+SUM(A1:A9)"), "'+SUM(A1:A9)");
        assert_eq!(
            csv_cell("-2+3+cmd|' /C calc'!A0"),
            "'-2+3+cmd|' /C calc'!A0"
        );
        assert_eq!(csv_cell("@SUM(1)"), "'@SUM(1)");
        assert_eq!(csv_cell("\t=1"), "'\t=1");
        assert_eq!(csv_cell("\r=1"), "'\r=1");
        for number in ["-1.5", "+3", "-2e-3", "0", "12.25", ""] {
            assert_eq!(csv_cell(number), number);
        }
        assert_eq!(csv_cell("home"), "home");
        assert_eq!(csv_cell("a=b"), "a=b");
        assert!(matches!(csv_cell("home"), Cow::Borrowed(_)));
    }

    #[test]
    fn markdown_text_cannot_make_links_images_or_cells() {
        assert_eq!(
            markdown_text("![x](https://evil.example/p.png)"),
            "\\!\\[x\\]\\(https://evil.example/p.png\\)"
        );
        assert_eq!(
            markdown_text("[l](javascript:alert(1))"),
            "\\[l\\]\\(javascript:alert\\(1\\)\\)"
        );
        assert_eq!(
            markdown_text("<img src=x onerror=alert(1)>"),
            "&lt;img src=x onerror=alert\\(1\\)&gt;"
        );
        assert_eq!(markdown_text("a|b\nc"), "a\\|b c");
        assert_eq!(markdown_text("\\[x]"), "\\\\\\[x\\]");
        assert_eq!(
            markdown_text("`code` *em* _em_ ~s~"),
            "\\`code\\` \\*em\\* \\_em\\_ \\~s\\~"
        );
        assert_eq!(markdown_text("\u{1b}[31mred"), "\\\\x1b\\[31mred");
        assert_eq!(
            markdown_text("search \"q\", & more"),
            "search \"q\", & more"
        );
    }

    #[test]
    fn markdown_code_fences_outgrow_the_backticks_inside() {
        assert_eq!(markdown_code("p95 < 50ms"), "`p95 < 50ms`");
        assert_eq!(markdown_code("a`b"), "`` a`b ``");
        assert_eq!(markdown_code("a``b`"), "``` a``b` ```");
        assert_eq!(markdown_code("x|y\nz"), "`x\\|y z`");
        assert_eq!(markdown_code("red \u{1b}[31m"), "`red \\x1b[31m`");
    }

    #[test]
    fn terminal_text_shows_control_characters_instead_of_sending_them() {
        assert_eq!(
            terminal("\u{1b}[2J\u{1b}]0;pwned\u{7}"),
            "\\x1b[2J\\x1b]0;pwned\\x07"
        );
        assert_eq!(terminal("a\nb\rc\td\u{7f}"), "a\\nb\\rc\\td\\x7f");
        assert_eq!(terminal("csi\u{9b}31m"), "csi\\u{9b}31m");
        assert_eq!(terminal("Łukasz é"), "Łukasz é");
        assert!(matches!(terminal("plain"), Cow::Borrowed(_)));
        assert_eq!(
            terminal_lines("error: `\u{1b}]8;;http://x\u{7}`\n 3 | x\r"),
            "error: `\\x1b]8;;http://x\\x07`\n 3 | x\\r"
        );
    }
}
