//! Text helpers of Prometheus's template functions: `title` and Go's
//! simple case mapping, Go's `regexp` wording and `$1` replacements,
//! `net.SplitHostPort` for `stripPort`/`stripDomain`, a URL's path.

use super::error::RegexpError;

/// The path of a URL (`http://host:9090/prefix` → `/prefix`).
pub(crate) fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    match rest.find('/') {
        Some(i) => {
            let path = &rest[i..];
            path.split(['?', '#']).next().unwrap_or("")
        }
        None => "",
    }
}

/// Go's `net.SplitHostPort`.
pub(crate) fn split_host_port(host_port: &str) -> Option<(&str, &str)> {
    let i = host_port.rfind(':')?;
    let (host, j, k) = if host_port.starts_with('[') {
        let end = host_port.find(']')?;
        if end + 1 != i {
            return None;
        }
        (&host_port[1..end], 1, end + 1)
    } else {
        let host = &host_port[..i];
        if host.contains(':') {
            return None;
        }
        (host, 0, 0)
    };
    if host_port[j..].contains('[') || host_port[k..].contains(']') {
        return None;
    }
    Some((host, &host_port[i + 1..]))
}

pub(crate) fn strip_domain(host_port: &str) -> String {
    let (host, port) = split_host_port(host_port).unwrap_or((host_port, ""));
    if host.parse::<std::net::IpAddr>().is_ok() {
        return host_port.to_string();
    }
    let host = host.split('.').next().unwrap_or("");
    if port.is_empty() {
        host.to_string()
    } else if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Go's `$1` replacement syntax to the regex crate's `${1}`.
pub(crate) fn go_replacement(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$'
            && chars
                .peek()
                .is_some_and(|d| d.is_ascii_alphanumeric() || *d == '_')
        {
            let mut name = String::new();
            while let Some(d) = chars
                .peek()
                .copied()
                .filter(|d| d.is_ascii_alphanumeric() || *d == '_')
            {
                name.push(d);
                chars.next();
            }
            out.push_str(&format!("${{{name}}}"));
        } else {
            out.push(c);
        }
    }
    out
}

/// Go's `regexp` error for a pattern the regex crate refuses, in Go's
/// words for the common mistakes (RE2 and the regex crate accept the same
/// syntax, so they refuse the same patterns).
pub(crate) fn regex_error(pattern: &str, e: &regex::Error) -> RegexpError {
    let text = e.to_string();
    let detail = text
        .lines()
        .rfind(|l| l.starts_with("error:"))
        .unwrap_or(&text)
        .trim_start_matches("error: ");
    let go = match detail {
        "unclosed group" => format!("missing closing ): `{pattern}`"),
        "unopened group" => format!("unexpected ): `{pattern}`"),
        "unclosed character class" => {
            let class = pattern.rfind('[').map_or(pattern, |i| &pattern[i..]);
            format!("missing closing ]: `{class}`")
        }
        "repetition operator missing expression" => {
            let op = pattern
                .chars()
                .find(|c| matches!(c, '*' | '+' | '?'))
                .unwrap_or('*');
            format!("missing argument to repetition operator: `{op}`")
        }
        other => other.to_string(),
    };
    RegexpError(go)
}

/// Go's `regexp` quoting of a pattern: backquoted when it can be.
pub(crate) fn go_backquote(text: &str) -> String {
    if text
        .chars()
        .all(|c| c != '`' && c != '\u{feff}' && (c == '\t' || !c.is_control()))
    {
        format!("`{text}`")
    } else {
        super::strconv::go_quote(text)
    }
}

/// `cases.Title(language.AmericanEnglish, cases.NoLower)`: the first
/// letter after anything but a letter, digit or `_` (an apostrophe too:
/// promtool writes `Don'T`) goes to title case, the rest is kept.
pub(crate) fn title(text: &str) -> String {
    let mut out = String::new();
    let mut start = true;
    for c in text.chars() {
        if start && c.is_alphabetic() {
            out.push(title_case(c));
        } else {
            out.push(c);
        }
        start = !c.is_alphanumeric() && c != '_';
    }
    out
}

/// Unicode's title case of one letter: its upper case but for the
/// digraphs that have a title form of their own (`ǆ` → `ǅ`).
pub(crate) fn title_case(c: char) -> char {
    match c {
        'Ǆ' | 'ǅ' | 'ǆ' => 'ǅ',
        'Ǉ' | 'ǈ' | 'ǉ' => 'ǈ',
        'Ǌ' | 'ǋ' | 'ǌ' => 'ǋ',
        'Ǳ' | 'ǲ' | 'ǳ' => 'ǲ',
        c => simple_upper(c),
    }
}

/// Go's `unicode.ToUpper`: the simple (one-letter) mapping, so `ß` stays.
pub(crate) fn simple_upper(c: char) -> char {
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// Go's `unicode.ToLower`: the simple mapping (`İ` → `i`).
pub(crate) fn simple_lower(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        (Some(l), Some(_)) if c == 'İ' => l,
        _ => c,
    }
}
