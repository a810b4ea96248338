//! Clients that connect and say nothing. In http mode hyper's header timeout
//! only starts once hyper_util's auto builder has read enough to tell
//! HTTP/1.1 from the HTTP/2 preface, and that read has no timeout of its
//! own; in tcp mode nothing waits at all. Either way a client that sends
//! nothing held its connection, and one of the `max_connections` slots, for
//! ever: enough of them locked every new client out. These waits put the
//! header timeout in front of both.

use std::time::Duration;

use tokio::net::TcpStream;

/// What an HTTP/2 client with prior knowledge sends first.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// http mode: true once the client has sent enough to choose HTTP/1.1 or
/// HTTP/2 within `timeout`; false when it sent nothing, closed, or stalled
/// inside the preface. Peeks, so the bytes stay for hyper to read.
pub(crate) async fn spoke_in_time(stream: &TcpStream, timeout: Duration) -> bool {
    let wait = async {
        let mut buffer = [0u8; PREFACE.len()];
        loop {
            match stream.peek(&mut buffer).await {
                Ok(0) | Err(_) => return false,
                Ok(n) if n == PREFACE.len() || buffer[..n] != PREFACE[..n] => return true,
                // A piece of the preface: peek returns at once while those
                // bytes wait unread, so look again shortly instead of spinning.
                Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    };
    tokio::time::timeout(timeout, wait).await.unwrap_or(false)
}

/// tcp mode: true once either side has sent a byte (or closed) within
/// `timeout`. Either side, because some protocols have the server speak
/// first (SMTP, MySQL); a connection on which neither does is of no use.
pub(crate) async fn either_spoke_in_time(
    client: &TcpStream,
    server: &TcpStream,
    timeout: Duration,
) -> bool {
    // Peeks rather than `readable()`, which may wake without data; a peek
    // retries until a byte (or EOF) is really there.
    let (mut a, mut b) = ([0u8; 1], [0u8; 1]);
    let first = async {
        tokio::select! {
            _ = client.peek(&mut a) => {}
            _ = server.peek(&mut b) => {}
        }
    };
    tokio::time::timeout(timeout, first).await.is_ok()
}
