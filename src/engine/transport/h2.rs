//! HTTP/2 through hyper: one connection per slot, one stream at a time on it
//! (as oha does without `-p`). Prior knowledge over `http://`, ALPN over `https://`.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2::{self, SendRequest};
use hyper_util::rt::{TokioExecutor, TokioIo};

use super::Response;
use super::h1::Kept;
use super::io::Connector;
use crate::plan::Endpoint;
use crate::record::ErrorKind;

/// One HTTP/2 connection slot: reconnects as needed.
pub(crate) struct H2 {
    connector: Connector,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl H2 {
    pub(crate) fn new(connector: Connector) -> H2 {
        H2 {
            connector,
            sender: None,
        }
    }

    /// Forgets the connection (after a timeout cut an exchange short).
    pub(crate) fn reset(&mut self) {
        self.sender = None;
    }

    /// Sends one request built from `endpoint` and reads the whole
    /// response, keeping it in `keep` (a flow's step) if given.
    pub(crate) async fn send(
        &mut self,
        endpoint: &Endpoint,
        keep: Option<&mut Kept>,
    ) -> Result<Response, ErrorKind> {
        let result = self.exchange(endpoint, keep).await;
        if result.is_err() {
            self.sender = None;
        }
        result
    }

    async fn exchange(
        &mut self,
        endpoint: &Endpoint,
        mut keep: Option<&mut Kept>,
    ) -> Result<Response, ErrorKind> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            let io = self.connector.connect().await?;
            let (sender, connection) = http2::Builder::new(TokioExecutor::new())
                .handshake(TokioIo::new(io))
                .await
                .map_err(|e| classify(&e))?;
            // The connection future drives the socket; it ends with the connection.
            tokio::task::spawn_local(connection);
            self.sender = Some(sender);
        }
        let sender = self.sender.as_mut().expect("connected above");
        sender.ready().await.map_err(|e| classify(&e))?;
        let mut request = http::Request::builder()
            .method(endpoint.method.clone())
            .uri(endpoint.url.clone());
        for (name, value) in &endpoint.headers {
            request = request.header(name, value);
        }
        let request = request
            .header(http::header::USER_AGENT, crate::USER_AGENT)
            .body(Full::new(endpoint.body.clone()))
            .map_err(|_| ErrorKind::Other)?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| classify(&e))?;
        let status = response.status().as_u16();
        if let Some(kept) = keep.as_deref_mut() {
            kept.clear();
            for (name, value) in response.headers() {
                kept.headers
                    .push((name.as_str().to_string(), value.as_bytes().to_vec()));
            }
        }
        let mut body = response.into_body();
        let mut bytes_received = 0u64;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| classify(&e))?;
            if let Some(data) = frame.data_ref() {
                bytes_received += data.len() as u64;
                if let Some(kept) = keep.as_deref_mut() {
                    kept.push_body(data);
                }
            }
        }
        Ok(Response {
            status,
            bytes_received,
        })
    }
}

fn classify(error: &hyper::Error) -> ErrorKind {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return ErrorKind::from_io(io);
        }
        source = cause.source();
    }
    if error.is_parse() || error.is_user() {
        ErrorKind::InvalidHttp
    } else if error.is_timeout() {
        ErrorKind::RequestTimeout
    } else {
        // Closed, canceled, incomplete message, GOAWAY, stream reset.
        ErrorKind::ConnectionReset
    }
}
