//! A virtual user's cookie jar (RFC 6265 matching by `cookie_store`):
//! what a flow step's response sets is sent back by the steps after it
//! to the URLs it applies to, never by another virtual user.

use cookie_store::CookieStore;

/// One virtual user's cookies.
#[derive(Debug, Default)]
pub struct Jar {
    store: CookieStore,
}

impl Jar {
    /// The `Cookie` header value for a request to `url`, if any cookie
    /// applies.
    pub fn header_for(&self, url: &str) -> Option<String> {
        let url = url::Url::parse(url).ok()?;
        let mut header = String::new();
        for (name, value) in self.store.get_request_values(&url) {
            if !header.is_empty() {
                header.push_str("; ");
            }
            header.push_str(name);
            header.push('=');
            header.push_str(value);
        }
        (!header.is_empty()).then_some(header)
    }

    /// Keeps the cookies of `set_cookie` header values received from `url`;
    /// values that are not cookies are ignored, as browsers do.
    pub fn store<'a>(&mut self, url: &str, set_cookie: impl Iterator<Item = &'a [u8]>) {
        let Ok(url) = url::Url::parse(url) else {
            return;
        };
        let cookies: Vec<cookie::Cookie<'static>> = set_cookie
            .filter_map(|value| std::str::from_utf8(value).ok())
            .filter_map(|text| cookie::Cookie::parse(text.to_string()).ok())
            .collect();
        if !cookies.is_empty() {
            self.store.store_response_cookies(cookies.into_iter(), &url);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_go_back_where_they_apply() {
        let mut jar = Jar::default();
        assert_eq!(jar.header_for("http://127.0.0.1:8080/"), None);
        jar.store(
            "http://127.0.0.1:8080/login",
            [
                b"session=abc; Path=/; HttpOnly".as_slice(),
                b"cart=1; Path=/cart".as_slice(),
                b"\xff\xfe".as_slice(),
            ]
            .into_iter(),
        );
        assert_eq!(
            jar.header_for("http://127.0.0.1:8080/me").as_deref(),
            Some("session=abc")
        );
        let both = jar.header_for("http://127.0.0.1:8080/cart/x").unwrap();
        assert!(
            both.contains("session=abc") && both.contains("cart=1"),
            "{both}"
        );
        // Another origin's requests do not carry them.
        assert_eq!(jar.header_for("http://127.0.0.2:8080/me"), None);
        // An expired cookie is removed.
        jar.store(
            "http://127.0.0.1:8080/logout",
            [b"session=; Path=/; Max-Age=0".as_slice()].into_iter(),
        );
        assert_eq!(jar.header_for("http://127.0.0.1:8080/me"), None);
    }
}
