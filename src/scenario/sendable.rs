//! What validation can tell of a request before anything is sent, so that
//! `check` refuses whatever `run` would: a URL written with its origin has
//! a host, a URL that is known in full parses as one, and no literal part of
//! a URL or header (an environment variable's value included) carries a
//! line break or another control character that would split the request on
//! the wire. (Values filled in per request are checked as each is sent.)

use std::collections::BTreeMap;

use super::Target;
use super::model::Text;
use super::resolve::Validator;
use crate::diag::bounded;
use crate::plan::template::{Part, Template};

/// A stand-in base URL for targets the run starts itself (the demo
/// service, proxies): a valid origin, to parse the rest of a URL against.
const STARTED_BASE: &str = "http://127.0.0.1:1";

/// A byte that must not reach a request line or a header: C0 controls but
/// tab, and DEL.
pub(crate) fn is_forbidden(byte: u8) -> bool {
    (byte < 0x20 && byte != b'\t') || byte == 0x7f
}

fn describe(byte: u8) -> &'static str {
    match byte {
        b'\r' | b'\n' => "a line break (CR or LF)",
        0 => "a NUL byte",
        _ => "a control character",
    }
}

/// `scheme://host:port` of an absolute URL, normalized.
fn url_origin(text: &str) -> Option<String> {
    let scheme_end = text.find("://")? + 3;
    let authority_end = text[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| scheme_end + i);
    let uri: http::Uri = format!("{}/", &text[..authority_end]).parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let default = if scheme == "https" { 443 } else { 80 };
    let host = uri.host()?.to_ascii_lowercase();
    Some(format!(
        "{scheme}://{host}:{}",
        uri.port_u16().unwrap_or(default)
    ))
}

impl Validator<'_> {
    /// Refuses a URL written from `scheme://` on whose host cannot be
    /// told (`http:///path`). A URL starting with a target takes the
    /// target's origin, checked with the target.
    pub(super) fn has_host(&mut self, url: &Template, text: &Text) {
        if let Some(Part::Literal(literal)) = url.parts.first()
            && literal.contains("://")
            && url_origin(literal).is_none()
        {
            self.error(
                Self::at(text),
                format!("`{}` has no valid host", bounded(literal, 200)),
                Some("e.g. http://127.0.0.1:8080/path".into()),
            );
        }
    }

    /// Refuses a URL that cannot be sent: a control character in a literal
    /// part, or, when every part is known before the run, text that is not
    /// a URL (http caps a URL at 64 KiB).
    pub(super) fn sendable_url(
        &mut self,
        url: &Template,
        text: &Text,
        targets: &BTreeMap<String, Target>,
    ) {
        if self.control_characters(url, text, "the URL") {
            return;
        }
        let bases: BTreeMap<String, String> = targets
            .iter()
            .map(|(name, target)| match target {
                Target::Url(base) => (name.clone(), base.clone()),
                Target::Demo { .. } => (name.clone(), STARTED_BASE.to_string()),
            })
            .collect();
        let mut bound = url.bind_targets(&bases);
        // Proxies are not in `targets`: they too are started by the run.
        for part in &mut bound.parts {
            if let Part::Target(_) = part {
                *part = Part::Literal(STARTED_BASE.into());
            }
        }
        // One without an http(s) start is reported by its own rule.
        let Some(full) = bound
            .as_static()
            .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        else {
            return;
        };
        // Bytes a request target cannot carry are percent-encoded when sent
        // (`/ścieżka`, a space), so only what fails after that is refused.
        let parsed = full
            .parse::<http::Uri>()
            .or_else(|_| crate::plan::wire_bytes::encode_url(&full).parse::<http::Uri>());
        if let Err(e) = parsed {
            self.error(
                Self::at(text),
                format!(
                    "`{}` is not a URL that can be sent: {e}",
                    bounded(&full, 200)
                ),
                Some(
                    "percent-encode spaces and reserved characters; a URL must stay under 64 KiB"
                        .into(),
                ),
            );
        }
    }

    /// Refuses a header whose literal text carries a control character.
    pub(super) fn sendable_header(&mut self, name: &str, value: &Template, text: &Text) {
        self.control_characters(value, text, &format!("header `{name}`"));
    }

    /// Reports the first control character in a literal part of `template`;
    /// true if there was one.
    fn control_characters(&mut self, template: &Template, text: &Text, what: &str) -> bool {
        let literal = template.parts.iter().find_map(|part| match part {
            Part::Literal(literal) => literal.bytes().find(|b| is_forbidden(*b)),
            _ => None,
        });
        let Some(byte) = literal else {
            return false;
        };
        self.error(
            Self::at(text),
            format!(
                "{what} has {} (byte 0x{byte:02x}): it would end the request line or header early",
                describe(byte)
            ),
            Some(
                "remove it, or percent-encode it in a URL (%0D%0A); check environment variables used here"
                    .into(),
            ),
        );
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalized() {
        assert_eq!(
            url_origin("http://LOCALHOST/x").as_deref(),
            Some("http://localhost:80")
        );
        assert_eq!(
            url_origin("https://127.0.0.1:443?q").as_deref(),
            Some("https://127.0.0.1:443")
        );
        assert_eq!(
            url_origin("http://127.0.0.1:8080").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(url_origin("/path"), None);
    }

    #[test]
    fn forbidden_bytes() {
        assert!(
            is_forbidden(b'\r') && is_forbidden(b'\n') && is_forbidden(0) && is_forbidden(0x7f)
        );
        assert!(!is_forbidden(b'\t') && !is_forbidden(b' ') && !is_forbidden(0xc5));
    }
}
