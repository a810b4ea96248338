//! How requests reach the target: the stream (`io`: TCP, TLS), HTTP/1.1 on the
//! hot path (`h1`, our own lean client), HTTP/2 via hyper (`h2`), and one
//! [`Client`] per connection slot that hides which one is in use and keeps
//! a connection per origin. Origins are told apart once, before the run:
//! each endpoint carries its origin's index, so picking the connection is
//! an index, never a lookup by name.

mod chunked;
mod h1;
mod h2;
mod io;
use crate::net::tls;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, bail};
use rustls::pki_types::ServerName;

use io::Connector;

use crate::plan::RenderState;
use crate::plan::{Endpoint, Transport};
use crate::record::ErrorKind;
use crate::rng::SharedRng;
pub(crate) use h1::Kept;
use h1::{H1, WireRequest};
use h2::H2;

/// A complete response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Response {
    pub status: u16,
    /// The response body's bytes (its `Content-Length`, or the chunks'
    /// data, or what came before the close), the same in HTTP/1.1 and
    /// HTTP/2; the head and chunk framing are not counted.
    pub bytes_received: u64,
}

/// Everything connection slots share, prepared once before the run.
pub(crate) struct Wire {
    /// One per origin (scheme, host, port) the endpoints go to, in the
    /// order endpoints first name them.
    connectors: Vec<Connector>,
    http2: bool,
    keep_alive: bool,
    endpoints: Vec<Endpoint>,
    /// Each endpoint's index into `connectors`.
    origin_of: Vec<usize>,
    h1_requests: Vec<WireRequest>,
}

impl Wire {
    /// Resolves every origin the endpoints go to and prepares requests.
    /// Fails, naming the request, for an origin that cannot be resolved or
    /// spoken to, before anything is sent.
    pub(crate) async fn prepare(
        endpoints: &[Endpoint],
        transport: &Transport,
    ) -> anyhow::Result<Wire> {
        anyhow::ensure!(!endpoints.is_empty(), "no request to send");
        let mut origins: Vec<String> = Vec::new();
        let mut connectors = Vec::new();
        let mut origin_of = Vec::with_capacity(endpoints.len());
        for endpoint in endpoints {
            let origin = endpoint.origin();
            let index = match origins.iter().position(|o| *o == origin) {
                Some(index) => index,
                None => {
                    let connector = connector(&endpoint.url, transport)
                        .await
                        .with_context(|| format!("request `{}` goes to {origin}", endpoint.name))?;
                    connectors.push(connector);
                    origins.push(origin);
                    origins.len() - 1
                }
            };
            origin_of.push(index);
        }
        Ok(Wire {
            connectors,
            http2: transport.http2,
            keep_alive: transport.keep_alive,
            h1_requests: endpoints
                .iter()
                .map(|e| WireRequest::encode(e, transport.keep_alive))
                .collect(),
            origin_of,
            endpoints: endpoints.to_vec(),
        })
    }
}

/// A connector for the origin of `url`: its address resolved, and TLS with
/// the host as server name (SNI) for `https://`.
async fn connector(url: &http::Uri, transport: &Transport) -> anyhow::Result<Connector> {
    let scheme = url.scheme_str().unwrap_or("http");
    let host = url.host().context("the URL has no host")?;
    let tls = match scheme {
        "http" => false,
        "https" => true,
        other => bail!("unsupported URL scheme `{other}` (use http:// or https://)"),
    };
    let port = url.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let bare_host = host.trim_start_matches('[').trim_end_matches(']');
    let address = resolve(bare_host, port, transport.connect_timeout).await?;
    let tls = if tls {
        let alpn: &[&[u8]] = if transport.http2 {
            &[b"h2"]
        } else {
            &[b"http/1.1"]
        };
        let config = tls::client_config(transport.insecure, alpn);
        let name = ServerName::try_from(bare_host.to_string())
            .with_context(|| format!("`{host}` is not a valid TLS server name"))?;
        Some((config, name))
    } else {
        None
    };
    Ok(Connector::new(address, tls, transport.connect_timeout))
}

/// Resolves once, like wrk: DNS is not what a load test measures. When a
/// name has several addresses (`localhost`: ::1 and 127.0.0.1), the first
/// that accepts a connection wins, so a server listening on only one of
/// them is found; if none does, the first is used and the failures are
/// counted in the run.
async fn resolve(
    host: &str,
    port: u16,
    timeout: std::time::Duration,
) -> anyhow::Result<SocketAddr> {
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .with_context(|| format!("cannot resolve `{host}`"))?
        .collect();
    let first = *addresses
        .first()
        .with_context(|| format!("`{host}` resolves to no address"))?;
    if addresses.len() > 1 {
        for address in &addresses {
            let probe =
                tokio::time::timeout(timeout, tokio::net::TcpStream::connect(address)).await;
            if matches!(probe, Ok(Ok(_))) {
                return Ok(*address);
            }
        }
    }
    Ok(first)
}

/// One connection slot, with its scratch space for templated requests: a
/// connection per origin it has sent to, each opened on first use.
pub(crate) struct Client {
    protocol: Protocol,
    render: Option<RenderState>,
    text: String,
    bytes: Vec<u8>,
    /// A flow step's rendered URL (for its cookies) and its response.
    url: String,
    kept: Kept,
    /// The slot's own source for closed-model think times: seeded from the
    /// slot, so a run draws the same pauses each time (as templates do).
    pub(crate) think_rng: SharedRng,
}

enum Protocol {
    /// One read buffer for all origins: a slot sends one request at a time.
    H1(H1),
    /// One HTTP/2 connection per origin, by origin index.
    H2(Vec<H2>),
}

impl Client {
    /// A slot that connects lazily on its first request to each origin;
    /// `seed` gives its templates their own random sequence.
    pub(crate) fn new(wire: &Wire, seed: u64) -> Client {
        let protocol = if wire.http2 {
            Protocol::H2(wire.connectors.iter().cloned().map(H2::new).collect())
        } else {
            Protocol::H1(H1::new(wire.connectors.clone(), wire.keep_alive))
        };
        let render = wire
            .endpoints
            .iter()
            .find_map(|e| e.dynamic.as_ref())
            .map(|dynamic| RenderState::new(dynamic.data.clone(), seed));
        Client {
            protocol,
            render,
            text: String::new(),
            bytes: Vec::new(),
            url: String::new(),
            kept: Kept::default(),
            // Another stream than the templates' for the same seed.
            think_rng: SharedRng::seeded(
                seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x0074_6869_6e6b,
            ),
        }
    }

    /// Sends one request for `endpoint` and reads its whole response, on
    /// this slot's connection to the endpoint's origin.
    pub(crate) async fn send(
        &mut self,
        wire: &Arc<Wire>,
        endpoint: usize,
    ) -> Result<Response, ErrorKind> {
        let spec = &wire.endpoints[endpoint];
        let origin = wire.origin_of[endpoint];
        match (&mut self.protocol, &spec.dynamic, &mut self.render) {
            (Protocol::H1(h1), None, _) => {
                let request = &wire.h1_requests[endpoint];
                h1.send(
                    origin,
                    request.as_bytes(),
                    request.is_head(),
                    request.is_idempotent(),
                    None,
                )
                .await
            }
            (Protocol::H1(h1), Some(dynamic), Some(state)) => {
                h1::encode_dynamic(
                    spec,
                    dynamic,
                    state,
                    wire.keep_alive,
                    &mut self.text,
                    &mut self.bytes,
                )?;
                h1.send(
                    origin,
                    &self.bytes,
                    spec.method == http::Method::HEAD,
                    h1::is_idempotent(&spec.method),
                    None,
                )
                .await
            }
            (Protocol::H2(h2), None, _) => h2[origin].send(spec, None).await,
            (Protocol::H2(h2), Some(dynamic), Some(state)) => {
                let rendered =
                    render_endpoint(spec, dynamic, state, &mut self.text, &mut |_| None)?;
                h2[origin].send(&rendered, None).await
            }
            // A dynamic endpoint always has a render state (see `new`).
            (_, Some(_), None) => Err(ErrorKind::Other),
        }
    }

    /// Sends a flow step's request for `endpoint`, rendered with the
    /// virtual user's variables (`vars`, by slot) and its cookies (`jar`),
    /// and keeps the response in [`Client::kept`]; the cookies it sets go
    /// into `jar`.
    pub(crate) async fn send_step(
        &mut self,
        wire: &Arc<Wire>,
        endpoint: usize,
        vars: &mut Vec<String>,
        jar: Option<&mut crate::flow::Jar>,
    ) -> Result<Response, ErrorKind> {
        let spec = &wire.endpoints[endpoint];
        let origin = wire.origin_of[endpoint];
        let (Some(dynamic), Some(state)) = (&spec.dynamic, &mut self.render) else {
            // A flow's steps are always compiled dynamic (see plan::compile).
            return Err(ErrorKind::Other);
        };
        // Rendered while the user's variables are lent to the render
        // state, and given back before anything is awaited: a timeout
        // drops the exchange's future, and must not take them with it.
        std::mem::swap(&mut state.vars, vars);
        let url = &mut self.url;
        let mut cookie = |rendered: &str| {
            url.clear();
            url.push_str(rendered);
            jar.as_deref().and_then(|jar| jar.header_for(rendered))
        };
        let prepared = match &self.protocol {
            Protocol::H1(_) => h1::encode_step(
                spec,
                dynamic,
                state,
                wire.keep_alive,
                &mut self.text,
                &mut self.bytes,
                &mut cookie,
            )
            .map(|()| None),
            Protocol::H2(_) => {
                render_endpoint(spec, dynamic, state, &mut self.text, &mut cookie).map(Some)
            }
        };
        std::mem::swap(&mut state.vars, vars);
        let result = match (prepared, &mut self.protocol) {
            (Err(kind), _) => Err(kind),
            (Ok(None), Protocol::H1(h1)) => {
                h1.send(
                    origin,
                    &self.bytes,
                    spec.method == http::Method::HEAD,
                    h1::is_idempotent(&spec.method),
                    Some(&mut self.kept),
                )
                .await
            }
            (Ok(Some(rendered)), Protocol::H2(h2)) => {
                h2[origin].send(&rendered, Some(&mut self.kept)).await
            }
            // Prepared for the protocol the slot speaks, above.
            _ => Err(ErrorKind::Other),
        };
        if result.is_ok()
            && let Some(jar) = jar
        {
            jar.store(
                &self.url,
                self.kept
                    .headers
                    .iter()
                    .filter(|(name, _)| name == "set-cookie")
                    .map(|(_, value)| value.as_slice()),
            );
        }
        result
    }

    /// The response of the last [`Client::send_step`].
    pub(crate) fn kept(&self) -> &Kept {
        &self.kept
    }

    /// Drops the connection `endpoint`'s request went on (its exchange was
    /// abandoned half way); connections to other origins stay.
    pub(crate) fn reset(&mut self, wire: &Wire, endpoint: usize) {
        let origin = wire.origin_of[endpoint];
        match &mut self.protocol {
            Protocol::H1(h1) => h1.reset(origin),
            Protocol::H2(h2) => h2[origin].reset(),
        }
    }
}

/// A templated endpoint rendered into a plain one, for HTTP/2 (which builds
/// an `http::Request` per request anyway), with the same rules as HTTP/1.1
/// (`plan::wire_bytes`): the target percent-encoded where it must be, and a
/// URL or header value that still cannot be sent refused as
/// [`ErrorKind::InvalidRequest`], never replaced or dropped.
fn render_endpoint(
    spec: &Endpoint,
    dynamic: &crate::plan::Dynamic,
    state: &mut RenderState,
    text: &mut String,
    cookie: &mut dyn FnMut(&str) -> Option<String>,
) -> Result<Endpoint, ErrorKind> {
    state.next_request();
    text.clear();
    dynamic.url.render(state, text);
    let url = crate::plan::wire_bytes::encode_url(text)
        .parse()
        .map_err(|_| ErrorKind::InvalidRequest)?;
    let mut headers = Vec::with_capacity(dynamic.headers.len() + 1);
    // Called either way: it also notes the URL cookies are filed under.
    let jar = cookie(text);
    if !dynamic
        .headers
        .iter()
        .any(|(n, _)| n == http::header::COOKIE)
        && let Some(value) = jar
    {
        let value = http::HeaderValue::from_str(&value).map_err(|_| ErrorKind::InvalidRequest)?;
        headers.push((http::header::COOKIE, value));
    }
    for (name, template) in &dynamic.headers {
        text.clear();
        template.render(state, text);
        let value = http::HeaderValue::from_bytes(text.as_bytes())
            .map_err(|_| ErrorKind::InvalidRequest)?;
        headers.push((name.clone(), value));
    }
    text.clear();
    dynamic.body.render(state, text);
    Ok(Endpoint {
        name: spec.name.clone(),
        method: spec.method.clone(),
        url,
        headers,
        body: bytes::Bytes::copy_from_slice(text.as_bytes()),
        dynamic: None,
        expect_status: spec.expect_status.clone(),
        role: spec.role,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(name: &str, url: &'static str) -> Endpoint {
        Endpoint {
            name: name.into(),
            method: http::Method::GET,
            url: http::Uri::from_static(url),
            headers: vec![],
            body: bytes::Bytes::new(),
            dynamic: None,
            expect_status: None,
            role: crate::plan::Role::Request,
        }
    }

    fn prepare(endpoints: &[Endpoint]) -> anyhow::Result<Wire> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(Wire::prepare(endpoints, &Transport::default()))
    }

    #[test]
    fn endpoints_share_a_connector_per_origin() {
        let wire = prepare(&[
            endpoint("a", "http://127.0.0.1:1/a"),
            endpoint("b", "http://127.0.0.1:2/b"),
            endpoint("c", "http://127.0.0.1:1/c?x"),
            endpoint("d", "https://127.0.0.1:1/"),
        ])
        .unwrap();
        assert_eq!(wire.origin_of, vec![0, 1, 0, 2]);
        assert_eq!(wire.connectors.len(), 3);
    }

    #[test]
    fn an_origin_that_cannot_be_used_names_its_request() {
        let error = prepare(&[
            endpoint("a", "http://127.0.0.1:1/a"),
            endpoint("ftp", "ftp://127.0.0.1:1/b"),
        ])
        .err()
        .map(|e| format!("{e:#}"));
        assert_eq!(
            error.as_deref(),
            Some(
                "request `ftp` goes to ftp://127.0.0.1:1: unsupported URL scheme `ftp` (use http:// or https://)"
            )
        );
    }
}
