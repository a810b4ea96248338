//! Which bytes of a rendered URL or header value may reach the wire. Data
//! (a CSV cell, an environment variable, a `choice` word) is rendered into
//! the request line and headers; a CR or LF there would add a header or a
//! whole second request (request smuggling). The rules, one place for both
//! HTTP/1.1 and HTTP/2:
//!
//! - in the request target (path and query), a byte a request target may not
//!   carry (controls, space, DEL, non-ASCII, and ``"#<>\^`{|}``, RFC 3986
//!   §2; `#` too, as data never starts a fragment) is percent-encoded, as a
//!   browser does: the server decodes it back to the data. Nothing is
//!   refused there, since every byte has an encoding. (`%` is kept: a
//!   template may hold encodings already; `[]` are kept as `http::Uri`
//!   and common servers take them.)
//! - in a header value, what `http::HeaderValue` accepts is sent as it is:
//!   visible ASCII, space, tab and obs-text (bytes 0x80-0xFF, so UTF-8 such
//!   as `Łukasz` goes out as its bytes, RFC 9110 §5.5). Any other byte (CR,
//!   LF, NUL, other controls, DEL) makes the request invalid: there is no
//!   encoding a server would undo, so it is refused, never sent.
//!
//! Both are a table lookup per byte: this runs for every templated request.

/// True for the bytes that may appear as they are in a request target.
const TARGET: [bool; 256] = {
    let mut table = [false; 256];
    let allowed =
        b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/?%[]";
    let mut i = 0;
    while i < allowed.len() {
        table[allowed[i] as usize] = true;
        i += 1;
    }
    table
};

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Appends `target` (a path and query) to `out`, percent-encoding every byte
/// a request target may not carry.
pub(crate) fn push_target(out: &mut Vec<u8>, target: &str) {
    let bytes = target.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !TARGET[b as usize] {
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(&[b'%', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
            start = i + 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
}

/// True when `target` needs no encoding (the common case: nothing to copy).
#[cfg(test)]
pub(crate) fn is_clean_target(target: &str) -> bool {
    target.bytes().all(|b| TARGET[b as usize])
}

/// `url` (absolute) with its path and query percent-encoded where needed;
/// the scheme and authority are left as they are.
pub(crate) fn encode_url(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |at| at + 3);
    let target_at = url[after_scheme..]
        .find(['/', '?'])
        .map_or(url.len(), |i| i + after_scheme);
    let mut out = Vec::with_capacity(url.len() + 16);
    out.extend_from_slice(&url.as_bytes()[..target_at]);
    push_target(&mut out, &url[target_at..]);
    // Only ASCII was added to valid UTF-8 text cut at ASCII bytes.
    String::from_utf8(out).unwrap_or_default()
}

/// True when `value` may be sent as a header value (the bytes
/// `http::HeaderValue::from_bytes` accepts).
pub(crate) fn is_header_value(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(text: &str) -> String {
        let mut out = Vec::new();
        push_target(&mut out, text);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn targets_keep_what_is_allowed_and_encode_the_rest() {
        assert_eq!(target("/a/b?x=1&y=%20z"), "/a/b?x=1&y=%20z");
        assert!(is_clean_target("/a/b?x=1&y=%20z"));
        assert_eq!(
            target("/u?name=a\r\nInjected: yes"),
            "/u?name=a%0D%0AInjected:%20yes"
        );
        assert_eq!(
            target("/x\r\n\r\nGET /smuggled HTTP/1.1"),
            "/x%0D%0A%0D%0AGET%20/smuggled%20HTTP/1.1"
        );
        assert_eq!(target("/ścieżka"), "/%C5%9Bcie%C5%BCka");
        assert_eq!(
            target("/q?j={\"a\":1}|\0#"),
            "/q?j=%7B%22a%22:1%7D%7C%00%23"
        );
        assert!(!is_clean_target("/a b"));
        // Every byte is either kept or encoded into bytes that are kept.
        for b in 0..=255u8 {
            let text = String::from_utf8_lossy(&[b]).into_owned();
            assert!(is_clean_target(&target(&text)), "byte {b:#x}");
        }
    }

    #[test]
    fn urls_are_encoded_after_the_authority_only() {
        assert_eq!(
            encode_url("http://127.0.0.1:8080/é?q=a b"),
            "http://127.0.0.1:8080/%C3%A9?q=a%20b"
        );
        assert_eq!(encode_url("http://h?q= "), "http://h?q=%20");
        assert_eq!(encode_url("http://h"), "http://h");
        assert!(
            encode_url("http://h/ą\r\n?x=\u{1b}[31m")
                .parse::<http::Uri>()
                .is_ok()
        );
    }

    #[test]
    fn header_values_take_what_http_header_value_takes() {
        for value in ["Łukasz", "a\tb", "plain value", "é"] {
            assert!(is_header_value(value.as_bytes()), "{value}");
            assert!(http::HeaderValue::from_bytes(value.as_bytes()).is_ok());
        }
        for value in [
            "a\r\nInjected: yes",
            "a\nb",
            "a\rb",
            "nul\0",
            "del\x7f",
            "\x1b[31m",
        ] {
            assert!(!is_header_value(value.as_bytes()), "{value:?}");
        }
        // The same rule as http's, byte for byte.
        for b in 0..=255u8 {
            assert_eq!(
                is_header_value(&[b]),
                http::HeaderValue::from_bytes(&[b]).is_ok(),
                "byte {b:#x}"
            );
        }
    }
}
