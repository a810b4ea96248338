//! The byte stream under HTTP: plain TCP or TLS over TCP, and how one is
//! opened (resolve once, connect with a timeout, handshake).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::record::ErrorKind;

/// A connected stream.
pub(crate) enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// Opens connections to one resolved address.
#[derive(Clone)]
pub(crate) struct Connector {
    address: SocketAddr,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    timeout: Duration,
}

impl Connector {
    /// A connector for `address`; with `tls`, each connection is wrapped in
    /// TLS for the given server name.
    pub(crate) fn new(
        address: SocketAddr,
        tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
        timeout: Duration,
    ) -> Connector {
        Connector {
            address,
            tls: tls.map(|(config, name)| (TlsConnector::from(config), name)),
            timeout,
        }
    }

    /// Connects (and handshakes), classifying any failure.
    pub(crate) async fn connect(&self) -> Result<Io, ErrorKind> {
        let connect = async {
            let tcp = TcpStream::connect(self.address)
                .await
                .map_err(|e| ErrorKind::from_connect(&e))?;
            // Requests are small and latency is what we measure: never let
            // Nagle hold a request back.
            let _ = tcp.set_nodelay(true);
            match &self.tls {
                None => Ok(Io::Plain(tcp)),
                Some((connector, name)) => connector
                    .connect(name.clone(), tcp)
                    .await
                    .map(|stream| Io::Tls(Box::new(stream)))
                    .map_err(|e| match ErrorKind::from_io(&e) {
                        // A handshake the peer cut short is a TLS failure too.
                        ErrorKind::ConnectionReset | ErrorKind::Other => ErrorKind::Tls,
                        kind => kind,
                    }),
            }
        };
        tokio::time::timeout(self.timeout, connect)
            .await
            .unwrap_or(Err(ErrorKind::ConnectTimeout))
    }
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
