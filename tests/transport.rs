use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use slogate::record::ErrorKind;
use tokio::net::TcpListener;

use crate::support::hit;
use crate::support::server::{Reply, Server};

/// Which protocols an async test server speaks.
#[derive(Clone, Copy)]
enum Serve {
    /// HTTP/2 with prior knowledge over plain TCP.
    H2c,
    /// TLS, then HTTP/2 or HTTP/1.1 by ALPN.
    Tls,
}

/// Starts a hyper server on its own thread; answers 200 with the HTTP
/// version in the body.
fn start(serve: Serve) -> SocketAddr {
    start_counting(serve).0
}

/// [`start`], with the count of requests the server received.
fn start_counting(serve: Serve) -> (SocketAddr, Arc<AtomicU64>) {
    let received = Arc::new(AtomicU64::new(0));
    let counter = received.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let acceptor = tls_acceptor();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let acceptor = acceptor.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let service =
                        service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                            counter.fetch_add(1, Ordering::SeqCst);
                            async move {
                                let body = format!("{:?}", request.version());
                                Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from(
                                    body,
                                ))))
                            }
                        });
                    match serve {
                        Serve::H2c => {
                            let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                        Serve::Tls => {
                            let Ok(tls) = acceptor.accept(stream).await else {
                                return;
                            };
                            let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                            let io = TokioIo::new(tls);
                            if h2 {
                                let _ =
                                    hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                                        .serve_connection(io, service)
                                        .await;
                            } else {
                                let _ = hyper::server::conn::http1::Builder::new()
                                    .serve_connection(io, service)
                                    .await;
                            }
                        }
                    }
                });
            }
        });
    });
    (rx.recv().unwrap(), received)
}

fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

#[test]
fn https_with_an_untrusted_certificate_is_a_tls_error_unless_insecure() {
    let _serial = crate::support::serial();
    let addr = start(Serve::Tls);
    let url = format!("https://{addr}/");
    let strict = hit(&[&url, "-n", "5", "-c", "1"]);
    assert_eq!(strict.total.errors_of(ErrorKind::Tls), 5);
    let insecure = hit(&[&url, "-n", "20", "-c", "2", "--insecure"]);
    assert_eq!(
        insecure.total.statuses.iter().collect::<Vec<_>>(),
        vec![(200, 20)]
    );
    // The "HTTP/1.1" body, 8 bytes each: the body is what is counted, the
    // head is not (as over HTTP/2, below, and as hey and oha count).
    assert_eq!(insecure.total.bytes_received, 20 * 8);
}

#[test]
fn http2_over_tls_and_cleartext() {
    let _serial = crate::support::serial();
    for (serve, scheme) in [(Serve::Tls, "https"), (Serve::H2c, "http")] {
        let addr = start(serve);
        let url = format!("{scheme}://{addr}/");
        let results = hit(&[&url, "-n", "30", "-c", "3", "--http2", "--insecure"]);
        assert_eq!(
            results.total.statuses.iter().collect::<Vec<_>>(),
            vec![(200, 30)],
            "{scheme}"
        );
        // The body is the version the server saw: "HTTP/2.0", 8 bytes.
        assert_eq!(results.total.bytes_received, 30 * 8, "{scheme}");
    }
}

#[test]
fn chunked_bodies_are_read_to_the_end_and_connections_reused() {
    let _serial = crate::support::serial();
    let body: Vec<u8> = (0..1000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let body2 = body.clone();
    let server = Server::start(move |_| Reply::Respond {
        status: 200,
        delay: std::time::Duration::ZERO,
        body: body2.clone(),
        chunked: true,
    });
    let results = hit(&[&server.url("/"), "-n", "100", "-c", "2"]);
    assert_eq!(
        results.total.statuses.iter().collect::<Vec<_>>(),
        vec![(200, 100)]
    );
    assert_eq!(
        server.accepted(),
        2,
        "keep-alive reuses the two connections"
    );
    // The chunks' data, without their sizes and line ends.
    assert_eq!(results.total.bytes_received, 100 * body.len() as u64);
}

#[test]
fn disable_keepalive_opens_a_connection_per_request() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::status(200));
    let results = hit(&[
        &server.url("/"),
        "-n",
        "30",
        "-c",
        "3",
        "--disable-keepalive",
    ]);
    assert_eq!(
        results.total.statuses.iter().collect::<Vec<_>>(),
        vec![(200, 30)]
    );
    assert_eq!(server.accepted(), 30);
}

/// One run sending to two origins, each over its own connection per slot:
/// HTTP/1.1 to a plain server and over TLS (ALPN), then HTTP/2 with prior
/// knowledge and over TLS. Each server counts exactly its share.
#[test]
fn one_run_speaks_to_two_origins_over_each_protocol() {
    let _serial = crate::support::serial();
    let plain_h1 = Server::start(|_| Reply::status(200));
    let (tls, tls_received) = start_counting(Serve::Tls);
    let (h2c, h2c_received) = start_counting(Serve::H2c);
    for http2 in [false, true] {
        let plain = if http2 {
            format!("http://{h2c}")
        } else {
            plain_h1.url("")
        };
        let before = (
            plain_h1.received(),
            h2c_received.load(Ordering::SeqCst),
            tls_received.load(Ordering::SeqCst),
        );
        let yaml = format!(
            r#"
name: two-protocols
targets:
  plain: {plain}
  secure: https://{tls}
defaults: {{http2: {http2}, insecure: true}}
requests:
  - {{name: plain, url: "${{plain}}/p"}}
  - {{name: secure, url: "${{secure}}/s", weight: 3}}
phases:
  - name: p
    requests: 80
    load: {{concurrency: 4}}
"#
        );
        let (_dir, out, output) = crate::support::run_scenario(&yaml, &[]);
        crate::support::assert_exit(&output, 0);
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
        let rows: Vec<(String, u64, u64, String)> = summary["phases"][0]["per_request"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap().to_string(),
                    r["requests"].as_u64().unwrap(),
                    r["status_codes"]["200"].as_u64().unwrap_or(0),
                    r["origin"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let plain_origin = plain.clone();
        assert_eq!(
            rows,
            vec![
                ("plain".to_string(), 20, 20, plain_origin),
                ("secure".to_string(), 60, 60, format!("https://{tls}")),
            ],
            "http2: {http2}"
        );
        let plain_now = if http2 {
            h2c_received.load(Ordering::SeqCst) - before.1
        } else {
            plain_h1.received() - before.0
        };
        assert_eq!(plain_now, 20, "http2: {http2}");
        assert_eq!(
            tls_received.load(Ordering::SeqCst) - before.2,
            60,
            "http2: {http2}"
        );
    }
}
