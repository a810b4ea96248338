//! Secrets out of everything slogate shows, stores or logs: a URL's
//! userinfo (`user:***@`) and the values of secret query parameters
//! (`api_key=***`). Every output that carries a URL, a command line or a
//! message that may quote one passes it through [`url`] or [`text`]; this
//! is the one place that knows what a secret looks like.
//!
//! The parameter names are the defaults below plus those a scenario's
//! `redact:` or `hit --redact` add. They are process-wide on purpose: a
//! secret must stay hidden in a warning printed deep in a scraper thread
//! as surely as in the report, and threading a list through every writer
//! would leave one out sooner or later. Names are only ever added.

use std::sync::RwLock;

/// Query parameters whose values are hidden, compared without case; a
/// name that ends in `_NAME`, `-NAME` or `.NAME` of one of these is too
/// (`client_secret`, `x-api-key`, `refresh_token`).
pub const DEFAULT_PARAMS: &[&str] = &[
    "api_key",
    "apikey",
    "token",
    "access_token",
    "password",
    "passwd",
    "pwd",
    "secret",
    "key",
    "auth",
    "authorization",
    "credential",
    "credentials",
    "signature",
    "sig",
    "session",
    "sessionid",
];

/// What replaces a secret.
pub const MASK: &str = "***";

static EXTRA: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Adds parameter names to hide (a scenario's `redact:`, `hit --redact`).
pub fn add_params<S: AsRef<str>>(names: &[S]) {
    let mut extra = EXTRA.write().unwrap_or_else(|e| e.into_inner());
    for name in names {
        let name = name.as_ref().trim().to_ascii_lowercase();
        if !name.is_empty() && !extra.contains(&name) {
            extra.push(name);
        }
    }
}

/// Whether a query parameter's value is hidden.
pub fn is_secret_param(name: &str) -> bool {
    let name = percent_decoded(name).to_ascii_lowercase();
    let matches = |secret: &str| {
        name == secret
            || name
                .strip_suffix(secret)
                .is_some_and(|head| head.ends_with(['_', '-', '.']))
    };
    DEFAULT_PARAMS.iter().any(|s| matches(s))
        || EXTRA
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|s| matches(s))
}

/// `url` with its password (or a lone user, which is often a token) and
/// its secret query values replaced by `***`. Text that is no URL comes
/// back as it is.
pub fn url(url: &str) -> String {
    redact(url, true)
}

/// Free text (a message, a command line, a line of a file) with every URL
/// in it redacted. A URL runs from its scheme to the first blank, quote,
/// `<`, `>` or backtick; within text, a secret value also ends at `,`,
/// `;`, `|` or a closing bracket, so a CSV or Markdown row around it stays
/// whole.
pub fn text(text: &str) -> String {
    if !text.contains("://") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let start = rest[..at]
            .char_indices()
            .rev()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let end = rest[at..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .map_or(rest.len(), |i| at + i);
        out.push_str(&rest[..start]);
        out.push_str(&redact(&rest[start..end], false));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// [`url`] and [`text`]: `whole` when `url` is exactly one URL.
fn redact(url: &str, whole: bool) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let after = scheme_end + 3;
    let authority_end = url[after..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after + i);
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..after]);
    let authority = &url[after..authority_end];
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            match userinfo.split_once(':') {
                Some((user, _)) => {
                    out.push_str(user);
                    out.push(':');
                    out.push_str(MASK);
                }
                None => out.push_str(MASK),
            }
            out.push('@');
            out.push_str(host);
        }
        None => out.push_str(authority),
    }
    let rest = &url[authority_end..];
    match rest.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            out.push_str(&redact_query(query, whole));
        }
        None => out.push_str(rest),
    }
    out
}

/// `name=value&...` with secret values replaced; a value ends at `&` or
/// `#` (and, within text, at a delimiter of what surrounds the URL).
fn redact_query(query: &str, whole: bool) -> String {
    let mut out = String::with_capacity(query.len());
    let mut rest = query;
    loop {
        let pair_end = rest.find(['&', '#']).unwrap_or(rest.len());
        let pair = &rest[..pair_end];
        match pair.split_once('=') {
            Some((name, value)) if is_secret_param(name.strip_prefix("amp;").unwrap_or(name)) => {
                out.push_str(name);
                out.push('=');
                out.push_str(MASK);
                if !whole && let Some(cut) = value.find([',', ';', '|', ')', ']', '}']) {
                    out.push_str(&value[cut..]);
                }
            }
            _ => out.push_str(pair),
        }
        if pair_end == rest.len() {
            return out;
        }
        let separator = &rest[pair_end..pair_end + 1];
        if separator == "#" {
            // The fragment is not a query.
            out.push_str(&rest[pair_end..]);
            return out;
        }
        out.push_str(separator);
        rest = &rest[pair_end + 1..];
    }
}

/// A writer that redacts each line it is given before passing it on: the
/// results directory's files and `hit`'s outputs go through it, so a URL
/// cannot reach one of them whole, whichever field it came in by. (A URL
/// never spans lines in any of slogate's formats.)
pub struct Writer<W: std::io::Write> {
    inner: W,
    line: Vec<u8>,
}

impl<W: std::io::Write> Writer<W> {
    pub fn new(inner: W) -> Writer<W> {
        Writer {
            inner,
            line: Vec::new(),
        }
    }

    fn pass_line(&mut self) -> std::io::Result<()> {
        if self.line.windows(3).any(|w| w == b"://") {
            let line = text(&String::from_utf8_lossy(&self.line));
            self.inner.write_all(line.as_bytes())?;
        } else {
            self.inner.write_all(&self.line)?;
        }
        self.line.clear();
        Ok(())
    }
}

impl<W: std::io::Write> std::io::Write for Writer<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for chunk in buf.split_inclusive(|&b| b == b'\n') {
            self.line.extend_from_slice(chunk);
            if chunk.ends_with(b"\n") {
                self.pass_line()?;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.pass_line()?;
        self.inner.flush()
    }
}

impl<W: std::io::Write> Drop for Writer<W> {
    fn drop(&mut self) {
        // What was not flushed is still passed on, redacted.
        let _ = std::io::Write::flush(self);
    }
}

/// `%5F` and such decoded, so `api%5Fkey` is `api_key`; anything else as is.
fn percent_decoded(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied(),
            bytes.get(i + 2).copied(),
        ) {
            (b'%', Some(h), Some(l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The command line as typed, secrets redacted: what the results say made
/// them.
pub fn command_line() -> Vec<String> {
    std::env::args().map(|a| crate::redact::text(&a)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_and_secret_parameters_are_masked() {
        assert_eq!(
            url("http://user:s3cret@127.0.0.1:8080/path?api_key=k3y&x=1#top"),
            "http://user:***@127.0.0.1:8080/path?api_key=***&x=1#top"
        );
        assert_eq!(
            url("https://ghp_T0KEN@example.com/"),
            "https://***@example.com/"
        );
        assert_eq!(
            url("http://h/?Token=a&client_secret=b&x-api-key=c&api%5Fkey=d&monkey=e&keys=f"),
            "http://h/?Token=***&client_secret=***&x-api-key=***&api%5Fkey=***&monkey=e&keys=f"
        );
        assert_eq!(url("http://127.0.0.1/a@b?q=1"), "http://127.0.0.1/a@b?q=1");
        assert_eq!(url("not a url"), "not a url");
    }

    #[test]
    fn urls_inside_text_are_masked() {
        assert_eq!(
            text("scrape of http://u:p@h:1/m?token=t failed: refused; see \"https://x:y@z/\""),
            "scrape of http://u:***@h:1/m?token=*** failed: refused; see \"https://x:***@z/\""
        );
        assert_eq!(text("no url here"), "no url here");
        // A CSV row and an HTML-escaped query stay whole around the secret.
        assert_eq!(
            text("check,http://h/?api_key=k3y,PASS,http://h/?x=1&amp;token=t&amp;y=2"),
            "check,http://h/?api_key=***,PASS,http://h/?x=1&amp;token=***&amp;y=2"
        );
    }

    #[test]
    fn the_writer_redacts_every_line_whatever_the_chunks() {
        let mut out = Vec::new();
        {
            let mut writer = Writer::new(&mut out);
            use std::io::Write as _;
            writer.write_all(b"a http://u:s3c").unwrap();
            writer
                .write_all(b"ret@h/ b\nplain\nhttp://h/?token=k3y")
                .unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a http://u:***@h/ b\nplain\nhttp://h/?token=***"
        );
    }

    #[test]
    fn mangled_text_never_panics_and_never_keeps_a_password() {
        let alphabet = [
            "://", "@", ":", "?", "&", "=", "#", "%", "é", "ł", " ", ",", "\"", "token", "pw",
            "http", "/",
        ];
        let rng = crate::rng::SharedRng::seeded(0x9e37_79b9);
        let next = || rng.next_u64();
        for _ in 0..20_000 {
            let pieces = next() % 12 + 1;
            let input: String = (0..pieces)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let _ = text(&input);
            let _ = url(&input);
        }
        let secret = "http://u:pw1@h/?token=pw2&x=1";
        for before in ["", "é", "a b ", "\"", "ł:", "|"] {
            for after in ["", "ł", " é", ",", "\"x", "|"] {
                let shown = text(&format!("{before}{secret}{after}"));
                assert!(!shown.contains("pw1") && !shown.contains("pw2"), "{shown}");
                assert!(
                    shown.starts_with(before) && shown.ends_with(after),
                    "{shown}"
                );
            }
        }
    }

    #[test]
    fn added_names_are_hidden_too() {
        assert_eq!(url("http://h/?tenant_code=1"), "http://h/?tenant_code=1");
        add_params(&["Tenant_Code"]);
        assert_eq!(url("http://h/?tenant_code=1"), "http://h/?tenant_code=***");
    }
}
