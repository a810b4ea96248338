//! A step's response as its captures and checks share it: the view the
//! engine kept, and its body read as JSON at most once, on first need.

use std::cell::OnceCell;

use super::ResponseView;

/// A [`ResponseView`] with its body parsed as JSON lazily: a step whose
/// captures and checks ask nothing of JSON never parses it, and one that
/// asks several times parses it once.
#[derive(Debug)]
pub struct Response<'a> {
    view: ResponseView<'a>,
    json: OnceCell<Option<serde_json::Value>>,
}

impl<'a> Response<'a> {
    /// Wraps `view`; nothing is parsed yet.
    pub fn new(view: ResponseView<'a>) -> Response<'a> {
        Response {
            view,
            json: OnceCell::new(),
        }
    }

    /// The response as the engine kept it.
    pub fn view(&self) -> &ResponseView<'a> {
        &self.view
    }

    /// The body as JSON; None when it is not JSON, or when only part of it
    /// was kept (a cut body is not the document the server sent, even when
    /// the part happens to parse: `12` of `1234`).
    pub fn json(&self) -> Option<&serde_json::Value> {
        self.json
            .get_or_init(|| {
                let whole = self.view.body.len() as u64 >= self.view.body_size;
                whole
                    .then(|| serde_json::from_slice(self.view.body).ok())
                    .flatten()
            })
            .as_ref()
    }

    /// The parse, if the body was read as JSON yet (for tests that a
    /// step without JSON checks never parses it).
    #[cfg(test)]
    pub(crate) fn json_parsed(&self) -> Option<&Option<serde_json::Value>> {
        self.json.get()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn view<'a>(body: &'a [u8], body_size: u64) -> ResponseView<'a> {
        ResponseView {
            status: 200,
            headers: &[],
            body,
            body_size,
            latency: Duration::from_millis(5),
        }
    }

    #[test]
    fn a_whole_json_body_parses_and_the_parse_is_kept() {
        let body = br#"{"id": 7}"#;
        let response = Response::new(view(body, body.len() as u64));
        let first = response.json().expect("JSON") as *const serde_json::Value;
        assert_eq!(response.json(), Some(&serde_json::json!({"id": 7})));
        // The second call hands back the same value: parsed once.
        assert_eq!(response.json().unwrap() as *const _, first);
    }

    #[test]
    fn a_cut_body_or_one_that_is_not_json_has_no_json() {
        // `12` parses, but it is the first two bytes of `1234`.
        assert_eq!(Response::new(view(b"12", 4)).json(), None);
        assert_eq!(Response::new(view(b"<html>", 6)).json(), None);
        assert_eq!(Response::new(view(b"", 0)).json(), None);
        assert_eq!(
            Response::new(view(b"12", 2)).json(),
            Some(&serde_json::json!(12))
        );
    }
}
