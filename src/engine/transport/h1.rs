//! HTTP/1.1 on the hot path. Requests are serialized once per endpoint and
//! written as they are; responses are parsed with `httparse` in a buffer the
//! connection owns and reuses, and bodies are counted and skipped, never kept.
//!
//! Why not hyper's client here (DESIGN.md says hyper for load): its dispatch
//! allocates a oneshot channel and boxes per request and runs a second task
//! per connection, which costs more CPU per request than the whole of this
//! exchange. HTTP/2 still goes through hyper (see `h2.rs`).

use bytes::Bytes;
use http::Method;
use std::io::Write as _;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::Response;
use super::chunked::ChunkedSkipper;
use super::io::{Connector, Io};
use crate::plan::{Endpoint, wire_bytes};
use crate::record::ErrorKind;

/// Read buffer to start with; grows (up to [`MAX_HEAD_BYTES`]) only for a huge head.
const INITIAL_BUFFER: usize = 16 * 1024;
/// A response head larger than this is treated as invalid HTTP.
const MAX_HEAD_BYTES: usize = 1024 * 1024;
/// Headers parsed per response; more is invalid HTTP.
const MAX_HEADERS: usize = 96;

/// A request as it goes on the wire.
#[derive(Debug, Clone)]
pub(crate) struct WireRequest {
    bytes: Bytes,
    /// HEAD responses have no body whatever their headers say.
    is_head: bool,
    /// Safe to send twice (see [`is_idempotent`]).
    idempotent: bool,
}

impl WireRequest {
    /// Serializes `endpoint`; with `keep_alive` false, asks the server to close.
    pub(crate) fn encode(endpoint: &Endpoint, keep_alive: bool) -> WireRequest {
        let target = endpoint.url.path_and_query().map_or("/", |pq| pq.as_str());
        let has = |name: &str| endpoint.headers.iter().any(|(n, _)| n.as_str() == name);
        let mut out = Vec::with_capacity(256 + endpoint.body.len());
        head_start(&mut out, endpoint, target, &has);
        for (name, value) in &endpoint.headers {
            push_header(&mut out, name.as_str().as_bytes(), value.as_bytes());
        }
        head_end(&mut out, &endpoint.method, &endpoint.body, keep_alive, &has);
        WireRequest {
            bytes: Bytes::from(out),
            is_head: endpoint.method == Method::HEAD,
            idempotent: is_idempotent(&endpoint.method),
        }
    }

    /// The serialized request.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// True for HEAD, whose response has no body.
    pub(crate) fn is_head(&self) -> bool {
        self.is_head
    }

    /// True when the method may be sent twice (see [`is_idempotent`]).
    pub(crate) fn is_idempotent(&self) -> bool {
        self.idempotent
    }
}

/// RFC 9110 §9.2.2: GET, HEAD, OPTIONS, TRACE, PUT and DELETE mean the same
/// sent once or twice, so a request of theirs that may or may not have
/// reached the server can be sent again. POST, PATCH and unknown methods
/// cannot.
pub(crate) fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    )
}

/// Renders a templated request into `out` (cleared first). `text` is scratch
/// space; both are owned by the connection and reused, so rendering
/// allocates only while they grow. The rendered target is percent-encoded
/// where it must be; a header value HTTP cannot carry (CR, LF, NUL...) makes
/// the request [`ErrorKind::InvalidRequest`], and `out` must not be sent.
pub(crate) fn encode_dynamic(
    endpoint: &Endpoint,
    dynamic: &crate::plan::Dynamic,
    state: &mut crate::plan::RenderState,
    keep_alive: bool,
    text: &mut String,
    out: &mut Vec<u8>,
) -> Result<(), ErrorKind> {
    encode_step(endpoint, dynamic, state, keep_alive, text, out, &mut |_| {
        None
    })
}

/// As [`encode_dynamic`], with a `Cookie` header from `cookie`, given the
/// rendered URL (a flow's step: its virtual user's jar), unless the
/// request sets one itself.
pub(crate) fn encode_step(
    endpoint: &Endpoint,
    dynamic: &crate::plan::Dynamic,
    state: &mut crate::plan::RenderState,
    keep_alive: bool,
    text: &mut String,
    out: &mut Vec<u8>,
    cookie: &mut dyn FnMut(&str) -> Option<String>,
) -> Result<(), ErrorKind> {
    state.next_request();
    out.clear();
    text.clear();
    dynamic.url.render(state, text);
    let has = |name: &str| dynamic.headers.iter().any(|(n, _)| n.as_str() == name);
    head_start(out, endpoint, path_and_query(text), &has);
    // Called whether or not the request sets its own `Cookie`: it also
    // notes the URL the response's cookies are filed under.
    let jar = cookie(text);
    if !has("cookie")
        && let Some(value) = jar
    {
        if !wire_bytes::is_header_value(value.as_bytes()) {
            return Err(ErrorKind::InvalidRequest);
        }
        push_header(out, b"cookie", value.as_bytes());
    }
    for (name, template) in &dynamic.headers {
        text.clear();
        template.render(state, text);
        if !wire_bytes::is_header_value(text.as_bytes()) {
            return Err(ErrorKind::InvalidRequest);
        }
        push_header(out, name.as_str().as_bytes(), text.as_bytes());
    }
    text.clear();
    dynamic.body.render(state, text);
    head_end(out, &endpoint.method, text.as_bytes(), keep_alive, &has);
    Ok(())
}

/// The request line, then the headers slogate adds unless the request sets
/// them (`has`): Host (from the endpoint's URL, without userinfo) and
/// User-Agent.
fn head_start(out: &mut Vec<u8>, endpoint: &Endpoint, target: &str, has: &dyn Fn(&str) -> bool) {
    out.extend_from_slice(endpoint.method.as_str().as_bytes());
    out.push(b' ');
    // A static target parsed as a `Uri` is clean already; a rendered one
    // carries data, encoded here.
    wire_bytes::push_target(out, target);
    out.extend_from_slice(b" HTTP/1.1\r\n");
    if !has("host") {
        let authority = endpoint.url.authority().map_or("", |a| a.as_str());
        let host = authority.rsplit('@').next().unwrap_or(authority);
        push_header(out, b"host", host.as_bytes());
    }
    if !has("user-agent") {
        push_header(out, b"user-agent", crate::USER_AGENT.as_bytes());
    }
}

/// Content-Length and Connection unless set, the blank line, the body.
fn head_end(
    out: &mut Vec<u8>,
    method: &Method,
    body: &[u8],
    keep_alive: bool,
    has: &dyn Fn(&str) -> bool,
) {
    let sends_body =
        !body.is_empty() || matches!(*method, Method::POST | Method::PUT | Method::PATCH);
    if sends_body && !has("content-length") {
        // Formatted straight into the buffer: no String per request.
        let _ = write!(out, "content-length: {}\r\n", body.len());
    }
    if !keep_alive && !has("connection") {
        push_header(out, b"connection", b"close");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

/// The path and query of an absolute URL (`/` when it has none).
fn path_and_query(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(url, |at| &url[at + 3..]);
    match after_scheme.find('/') {
        Some(at) => &after_scheme[at..],
        None => "/",
    }
}

fn push_header(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// What a flow's step keeps of its response for its checks and captures:
/// the headers (names lower case) and the body up to
/// [`crate::flow::MAX_KEPT_BODY`]. Owned by the slot and reused.
#[derive(Debug, Default)]
pub(crate) struct Kept {
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Kept {
    /// Forgets the last response.
    pub(crate) fn clear(&mut self) {
        self.headers.clear();
        self.body.clear();
    }

    /// Keeps the headers of a complete response head.
    pub(crate) fn set_head(&mut self, head: &[u8]) {
        self.clear();
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        if response.parse(head).is_ok() {
            for header in response.headers.iter() {
                self.headers
                    .push((header.name.to_ascii_lowercase(), header.value.to_vec()));
            }
        }
    }

    /// Keeps body bytes, up to the limit.
    pub(crate) fn push_body(&mut self, bytes: &[u8]) {
        let room = crate::flow::MAX_KEPT_BODY.saturating_sub(self.body.len());
        self.body.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
}

/// One HTTP/1.1 connection slot: a connection per origin, each opened on
/// first use and again as needed; one read buffer, as the slot has one
/// exchange at a time.
pub(crate) struct H1 {
    /// By origin index.
    connections: Vec<Connection>,
    buffer: Vec<u8>,
    /// False with --disable-keepalive: a new connection for every request.
    keep_alive: bool,
}

/// The slot's connection to one origin.
struct Connection {
    connector: Connector,
    io: Option<Io>,
}

/// A failed exchange.
struct Failure {
    kind: ErrorKind,
    /// The server closed the connection cleanly (FIN) before sending a byte
    /// of response: what a server does to a keep-alive connection it found
    /// idle too long, racing our request.
    idle_close: bool,
    /// The connection broke (FIN, RST, broken pipe) while the request was
    /// written or before a byte of response arrived. On a reused connection
    /// that is also what a server that closes after every response looks
    /// like when our next request was already on its way: closing with that
    /// request unread makes its kernel answer RST instead of FIN.
    before_response: bool,
}

impl Failure {
    fn of(kind: ErrorKind) -> Failure {
        Failure {
            kind,
            idle_close: false,
            before_response: false,
        }
    }
}

impl H1 {
    /// A slot for the origins `connectors` reach (by origin index); nothing
    /// is connected yet.
    pub(crate) fn new(connectors: Vec<Connector>, keep_alive: bool) -> H1 {
        H1 {
            connections: connectors
                .into_iter()
                .map(|connector| Connection {
                    connector,
                    io: None,
                })
                .collect(),
            buffer: vec![0; INITIAL_BUFFER],
            keep_alive,
        }
    }

    /// Forgets the connection to `origin` (after a timeout cut an exchange
    /// short).
    pub(crate) fn reset(&mut self, origin: usize) {
        self.connections[origin].io = None;
    }

    /// Sends `request` (serialized bytes) to `origin` and reads the whole
    /// response. `idempotent`: the method may be sent twice (see
    /// [`is_idempotent`]).
    pub(crate) async fn send(
        &mut self,
        origin: usize,
        request: &[u8],
        is_head: bool,
        idempotent: bool,
        mut keep: Option<&mut Kept>,
    ) -> Result<Response, ErrorKind> {
        let connection = &mut self.connections[origin];
        let mut retried = false;
        loop {
            let reused = connection.io.is_some();
            let io = match &mut connection.io {
                Some(io) => io,
                None => connection.io.insert(connection.connector.connect().await?),
            };
            match exchange(io, &mut self.buffer, request, is_head, keep.as_deref_mut()).await {
                Ok((response, reusable)) => {
                    if !(reusable && self.keep_alive) {
                        connection.io = None;
                    }
                    return Ok(response);
                }
                Err(failure) => {
                    connection.io = None;
                    // A kept-alive connection the server closed is the
                    // connection's end, not the request's: retry once on a
                    // fresh connection, as browsers and Go's client do. Any
                    // method after a clean FIN with no byte of response (the
                    // server closed it idle and never read the request); an
                    // idempotent one also after a reset or broken pipe before
                    // the response (a server closing after each response with
                    // our request unread). A fresh connection is never
                    // retried, nor a failure after part of a response, nor
                    // POST after a reset: those are counted, and fault
                    // injection (which resets fresh connections or cuts
                    // responses) relies on that.
                    let retry = failure.idle_close || (idempotent && failure.before_response);
                    if reused && !retried && retry {
                        retried = true;
                        continue;
                    }
                    return Err(failure.kind);
                }
            }
        }
    }
}

/// What the head says about the body that follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    Empty,
    Length(u64),
    Chunked,
    UntilClose,
}

/// A parsed response head.
#[derive(Debug, Clone, Copy)]
struct Head {
    status: u16,
    length: usize,
    body: Body,
    keep_alive: bool,
}

/// Parses a response head at the start of `bytes`; None if incomplete.
fn parse_head(bytes: &[u8], is_head_request: bool) -> Result<Option<Head>, ErrorKind> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let length = match response.parse(bytes) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(ErrorKind::InvalidHttp),
    };
    let status = response.code.ok_or(ErrorKind::InvalidHttp)?;
    let mut keep_alive = response.version == Some(1);
    let mut content_length: Option<u64> = None;
    let mut chunked = false;
    for header in response.headers.iter() {
        if header.name.eq_ignore_ascii_case("content-length") {
            let value = std::str::from_utf8(header.value)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or(ErrorKind::InvalidHttp)?;
            if content_length.is_some_and(|seen| seen != value) {
                return Err(ErrorKind::InvalidHttp);
            }
            content_length = Some(value);
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            // Chunked must be the last coding; anything else reads to close.
            chunked = header
                .value
                .rsplit(|&b| b == b',')
                .next()
                .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
            if !chunked {
                content_length = None;
            }
        } else if header.name.eq_ignore_ascii_case("connection") {
            for token in header.value.split(|&b| b == b',') {
                let token = token.trim_ascii();
                if token.eq_ignore_ascii_case(b"close") {
                    keep_alive = false;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    keep_alive = true;
                }
            }
        }
    }
    let body = if is_head_request || status == 204 || status == 304 || (100..200).contains(&status)
    {
        Body::Empty
    } else if chunked {
        Body::Chunked
    } else if let Some(length) = content_length {
        Body::Length(length)
    } else {
        keep_alive = false;
        Body::UntilClose
    };
    Ok(Some(Head {
        status,
        length,
        body,
        keep_alive,
    }))
}

/// Writes the request and reads one full response; returns it and whether
/// the connection can be reused.
async fn exchange(
    io: &mut Io,
    buffer: &mut Vec<u8>,
    request: &[u8],
    is_head: bool,
    mut keep: Option<&mut Kept>,
) -> Result<(Response, bool), Failure> {
    let io_failure = |e: std::io::Error| Failure::of(ErrorKind::from_io(&e));
    // Nothing of the response yet: a broken connection here may be one the
    // server closed before it read the request (see `Failure`).
    let broken_before_response = |e: std::io::Error| {
        let kind = ErrorKind::from_io(&e);
        Failure {
            kind,
            idle_close: false,
            before_response: kind == ErrorKind::ConnectionReset,
        }
    };
    io.write_all(request)
        .await
        .map_err(broken_before_response)?;
    let mut filled = 0;
    let mut received = 0u64;
    let head = loop {
        match parse_head(&buffer[..filled], is_head) {
            Err(kind) => return Err(Failure::of(kind)),
            Ok(Some(head)) if (100..200).contains(&head.status) && head.status != 101 => {
                // An interim response (100 Continue, 103 Early Hints): drop it
                // and read on to the final one.
                buffer.copy_within(head.length..filled, 0);
                filled -= head.length;
                continue;
            }
            Ok(Some(head)) => break head,
            Ok(None) => {}
        }
        if filled == buffer.len() {
            if buffer.len() >= MAX_HEAD_BYTES {
                return Err(Failure::of(ErrorKind::InvalidHttp));
            }
            buffer.resize(buffer.len() * 2, 0);
        }
        let n = io
            .read(&mut buffer[filled..])
            .await
            .map_err(|e| match received {
                0 => broken_before_response(e),
                _ => io_failure(e),
            })?;
        if n == 0 {
            return Err(Failure {
                kind: ErrorKind::ConnectionReset,
                idle_close: received == 0,
                before_response: received == 0,
            });
        }
        filled += n;
        received += n as u64;
    };
    let early_eof = || Failure::of(ErrorKind::ConnectionReset);
    let mut keep_alive = head.keep_alive;
    let already = filled - head.length;
    if let Some(kept) = keep.as_deref_mut() {
        kept.set_head(&buffer[..head.length]);
    }
    // A flow's step keeps what came (up to its limit); other requests
    // skip it.
    let mut sink = |bytes: &[u8]| {
        if let Some(kept) = keep.as_deref_mut() {
            kept.push_body(bytes);
        }
    };
    // What is counted is the body, as in HTTP/2 (whose header blocks are
    // compressed) and as hey and oha count it: the head and the chunk
    // framing are left out.
    let body_bytes = match head.body {
        Body::Empty => {
            keep_alive &= already == 0;
            0
        }
        Body::Length(length) => {
            let mut remaining = length.saturating_sub(already as u64);
            // Bytes past the body would be taken for the next response.
            keep_alive &= already as u64 <= length;
            sink(&buffer[head.length..head.length + already.min(length as usize)]);
            while remaining > 0 {
                let n = io.read(&mut buffer[..]).await.map_err(io_failure)?;
                if n == 0 {
                    return Err(early_eof());
                }
                if n as u64 > remaining {
                    keep_alive = false;
                }
                sink(&buffer[..n.min(remaining as usize)]);
                remaining = remaining.saturating_sub(n as u64);
            }
            length
        }
        Body::Chunked => {
            let mut skipper = ChunkedSkipper::default();
            let malformed = |_| Failure::of(ErrorKind::InvalidHttp);
            let used = skipper
                .feed_with(&buffer[head.length..filled], &mut sink)
                .map_err(malformed)?;
            keep_alive &= used == already;
            while !skipper.is_done() {
                let n = io.read(&mut buffer[..]).await.map_err(io_failure)?;
                if n == 0 {
                    return Err(early_eof());
                }
                let used = skipper
                    .feed_with(&buffer[..n], &mut sink)
                    .map_err(malformed)?;
                keep_alive &= used == n;
            }
            skipper.data_bytes()
        }
        Body::UntilClose => {
            let mut read = already as u64;
            sink(&buffer[head.length..filled]);
            loop {
                let n = io.read(&mut buffer[..]).await.map_err(io_failure)?;
                if n == 0 {
                    break read;
                }
                sink(&buffer[..n]);
                read += n as u64;
            }
        }
    };
    Ok((
        Response {
            status: head.status,
            bytes_received: body_bytes,
        },
        keep_alive,
    ))
}

#[cfg(test)]
mod tests {
    use http::{HeaderName, HeaderValue, Uri};

    use super::*;

    fn endpoint(method: Method, url: &str, body: &'static str) -> Endpoint {
        Endpoint {
            name: "t".into(),
            method,
            url: url.parse::<Uri>().unwrap(),
            headers: vec![(
                HeaderName::from_static("x-test"),
                HeaderValue::from_static("1"),
            )],
            body: Bytes::from_static(body.as_bytes()),
            dynamic: None,
            expect_status: None,
            role: crate::plan::Role::Request,
        }
    }

    #[test]
    fn encodes_a_request_once() {
        let get = WireRequest::encode(&endpoint(Method::GET, "http://h:8080/a?b=1", ""), true);
        assert_eq!(
            std::str::from_utf8(get.as_bytes()).unwrap(),
            format!(
                "GET /a?b=1 HTTP/1.1\r\nhost: h:8080\r\nuser-agent: {}\r\nx-test: 1\r\n\r\n",
                crate::USER_AGENT
            )
        );
        let post = WireRequest::encode(&endpoint(Method::POST, "http://h/", "hi"), false);
        let text = std::str::from_utf8(post.as_bytes()).unwrap();
        assert!(text.starts_with("POST / HTTP/1.1\r\nhost: h\r\n"), "{text}");
        assert!(
            text.ends_with("content-length: 2\r\nconnection: close\r\n\r\nhi"),
            "{text}"
        );
    }

    #[test]
    fn heads_say_how_the_body_ends() {
        let parse = |text: &str| parse_head(text.as_bytes(), false).unwrap().unwrap();
        let head = parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        assert_eq!(
            (head.status, head.body, head.keep_alive),
            (200, Body::Length(5), true)
        );
        assert_eq!(head.length, 38);
        let head = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
        assert_eq!(head.body, Body::Chunked);
        let head = parse("HTTP/1.0 200 OK\r\n\r\n");
        assert_eq!((head.body, head.keep_alive), (Body::UntilClose, false));
        let head = parse("HTTP/1.0 204 No Content\r\nConnection: keep-alive\r\n\r\n");
        assert_eq!((head.body, head.keep_alive), (Body::Empty, true));
        let head = parse("HTTP/1.1 503 Busy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        assert_eq!((head.status, head.keep_alive), (503, false));
        assert!(
            parse_head(b"HTTP/1.1 200 OK\r\nContent-Le", false)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn garbage_heads_are_invalid_http() {
        for bad in [
            "SSH-2.0-OpenSSH_9.2\r\n\r\n",
            "HTTP/1.1 2000 OK\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        ] {
            assert_eq!(
                parse_head(bad.as_bytes(), false).unwrap_err(),
                ErrorKind::InvalidHttp,
                "{bad:?}"
            );
        }
    }
}
