//! A small, real HTTP/1.1 server for tests: blocking sockets, a thread per
//! connection (so delays are exact sleeps, not timer-wheel ticks), and a
//! handler that decides, per request, what the server does.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// A request as the handler sees it.
#[derive(Debug, Clone)]
pub struct Call {
    /// 0 for the first request the server received, then 1, 2, ...
    pub index: u64,
    /// Time since the server started.
    pub since_start: Duration,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What the server does with a request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Waits `delay`, then answers with `status` and `body`.
    Respond {
        status: u16,
        delay: Duration,
        body: Vec<u8>,
        chunked: bool,
    },
    /// Answers 200 with `body` and this `Content-Type`.
    Typed { content_type: String, body: Vec<u8> },
    /// Waits `delay`, then answers with `status`, these extra header lines
    /// and `body`; closes after an HTTP/1.0 request or `Connection: close`.
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        delay: Duration,
    },
    /// Never answers (until the server stops).
    Hang,
    /// Closes the connection with a TCP reset instead of answering.
    Reset,
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply::Respond {
            status,
            delay: Duration::ZERO,
            body: b"ok".to_vec(),
            chunked: false,
        }
    }

    pub fn delayed(status: u16, delay: Duration) -> Reply {
        Reply::Respond {
            status,
            delay,
            body: b"ok".to_vec(),
            chunked: false,
        }
    }
}

type Handler = dyn Fn(&Call) -> Reply + Send + Sync;

/// A running server; stops when dropped.
pub struct Server {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    received: Arc<AtomicU64>,
    accepted: Arc<AtomicU64>,
}

impl Server {
    /// Starts a server answering every request with `handler`.
    pub fn start(handler: impl Fn(&Call) -> Reply + Send + Sync + 'static) -> Server {
        Server::spawn(Arc::new(handler), false)
    }

    /// Starts a server that resets every connection as soon as it accepts it.
    pub fn reset_on_accept() -> Server {
        Server::spawn(Arc::new(|_: &Call| Reply::Reset), true)
    }

    fn spawn(handler: Arc<Handler>, reset_on_accept: bool) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let received = Arc::new(AtomicU64::new(0));
        let accepted = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let (stop2, received2, accepted2) = (stop.clone(), received.clone(), accepted.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                accepted2.fetch_add(1, Ordering::SeqCst);
                if reset_on_accept {
                    reset(stream);
                    continue;
                }
                let (handler, stop, received) = (handler.clone(), stop2.clone(), received2.clone());
                thread::spawn(move || {
                    let _ = serve(stream, &*handler, &stop, &received, started);
                });
            }
        });
        Server {
            addr,
            stop,
            received,
            accepted,
        }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Requests received so far.
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Closes with RST: SO_LINGER on, timeout 0, then close.
fn reset(stream: TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on a valid socket with a correctly sized struct.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(stream);
}

fn serve(
    mut stream: TcpStream,
    handler: &Handler,
    stop: &AtomicBool,
    received: &AtomicU64,
    started: Instant,
) -> io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_millis(50)))?;
    let mut buffer = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    loop {
        // Read until a full request (head and body) is buffered.
        let complete = parse_request(&buffer)
            .filter(|(head_len, (_, body_len, _))| buffer.len() >= head_len + body_len);
        let Some((head_len, (mut call, body_len, http10))) = complete else {
            if stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            match stream.read(&mut chunk) {
                Ok(0) => return Ok(()),
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                // The read timeout: look at the stop flag and read again.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return Err(e),
            }
            continue;
        };
        call.body = buffer[head_len..head_len + body_len].to_vec();
        buffer.drain(..head_len + body_len);
        call.index = received.fetch_add(1, Ordering::SeqCst);
        call.since_start = started.elapsed();
        match handler(&call) {
            Reply::Respond {
                status,
                delay,
                body,
                chunked,
            } => {
                if !delay.is_zero() {
                    thread::sleep(delay);
                }
                let mut response = format!("HTTP/1.1 {status} Test\r\n").into_bytes();
                if chunked {
                    response.extend_from_slice(b"transfer-encoding: chunked\r\n\r\n");
                    for piece in body.chunks(7) {
                        response.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
                        response.extend_from_slice(piece);
                        response.extend_from_slice(b"\r\n");
                    }
                    response.extend_from_slice(b"0\r\n\r\n");
                } else {
                    response.extend_from_slice(
                        format!("content-length: {}\r\n\r\n", body.len()).as_bytes(),
                    );
                    response.extend_from_slice(&body);
                }
                stream.write_all(&response)?;
                let close = call.headers.iter().any(|(name, value)| {
                    name == "connection" && value.eq_ignore_ascii_case("close")
                });
                if close {
                    return Ok(());
                }
            }
            Reply::Typed { content_type, body } => {
                let mut response = format!(
                    "HTTP/1.1 200 Test\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                response.extend_from_slice(&body);
                stream.write_all(&response)?;
            }
            Reply::Full {
                status,
                headers,
                body,
                delay,
            } => {
                if !delay.is_zero() {
                    thread::sleep(delay);
                }
                let mut head = format!("HTTP/1.1 {status} Test\r\n");
                for (name, value) in &headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
                let mut response = head.into_bytes();
                response.extend_from_slice(&body);
                stream.write_all(&response)?;
                let connection = call
                    .headers
                    .iter()
                    .find(|(name, _)| name == "connection")
                    .map(|(_, value)| value.to_ascii_lowercase());
                let close = match connection.as_deref() {
                    Some("close") => true,
                    Some("keep-alive") => false,
                    _ => http10,
                };
                if close {
                    return Ok(());
                }
            }
            Reply::Hang => {
                while !stop.load(Ordering::SeqCst) {
                    thread::sleep(Duration::from_millis(20));
                }
                return Ok(());
            }
            Reply::Reset => {
                reset(stream);
                return Ok(());
            }
        }
    }
}

/// Parses a request head; returns its length, the call, the body length
/// and whether it is HTTP/1.0.
fn parse_request(buffer: &[u8]) -> Option<(usize, (Call, usize, bool))> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    let head_len = match request.parse(buffer) {
        Ok(httparse::Status::Complete(n)) => n,
        _ => return None,
    };
    let headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let body_len = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    Some((
        head_len,
        (
            Call {
                index: 0,
                since_start: Duration::ZERO,
                method: request.method.unwrap_or("").to_string(),
                path: request.path.unwrap_or("").to_string(),
                headers,
                body: Vec::new(),
            },
            body_len,
            request.version == Some(0),
        ),
    ))
}
