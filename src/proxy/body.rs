//! Response bodies a fault changes on the way: slowed to a bandwidth, or
//! cut short so the client sees the connection close mid-response.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// Every body the proxy sends.
pub(crate) type ProxyBody = BoxBody<Bytes, BoxError>;

pub(crate) fn full(bytes: impl Into<Bytes>) -> ProxyBody {
    http_body_util::Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// Passes a body on at most `bytes_per_second`, in pieces of at most 50 ms
/// worth so the rate is smooth.
pub(crate) struct Throttled<B> {
    inner: B,
    bytes_per_second: u64,
    started: Option<Instant>,
    sent: u64,
    pending: Option<Bytes>,
    sleep: Pin<Box<Sleep>>,
}

impl<B> Throttled<B> {
    pub(crate) fn new(inner: B, bytes_per_second: u64) -> Throttled<B> {
        Throttled {
            inner,
            bytes_per_second: bytes_per_second.max(1),
            started: None,
            sent: 0,
            pending: None,
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
        }
    }
}

impl<B> Body for Throttled<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        loop {
            if let Some(mut chunk) = this.pending.take() {
                let started = *this.started.get_or_insert_with(Instant::now);
                // The next piece may go once the bytes before it have had
                // their time at the rate.
                let due = started
                    + Duration::from_secs_f64(this.sent as f64 / this.bytes_per_second as f64);
                if Instant::now() < due {
                    this.sleep.as_mut().reset(due);
                    if this.sleep.as_mut().poll(cx).is_pending() {
                        this.pending = Some(chunk);
                        return Poll::Pending;
                    }
                }
                let piece_len = chunk
                    .len()
                    .min((this.bytes_per_second / 20).max(1) as usize);
                let piece = chunk.split_to(piece_len);
                if !chunk.is_empty() {
                    this.pending = Some(chunk);
                }
                this.sent += piece.len() as u64;
                return Poll::Ready(Some(Ok(Frame::data(piece))));
            }
            match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                None => return Poll::Ready(None),
                Some(Err(e)) => return Poll::Ready(Some(Err(e.into()))),
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) if data.is_empty() => continue,
                    Ok(data) => this.pending = Some(data),
                    Err(frame) => return Poll::Ready(Some(Ok(frame))),
                },
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Passes at most `limit` bytes of a body, then fails, which makes the
/// server close the connection: the client never sees the body complete.
/// The limit is kept below the body's length when that is known, so even a
/// short body is cut.
pub(crate) struct Truncated<B> {
    inner: B,
    remaining: u64,
    state: Cutting,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Cutting {
    Passing,
    /// The last bytes are out: one `Pending` first, so the server flushes
    /// the head and those bytes before the error drops the connection.
    Flushing,
    Cut,
}

impl<B: Body> Truncated<B> {
    pub(crate) fn new(inner: B, after_bytes: u64) -> Truncated<B> {
        let remaining = match inner.size_hint().exact() {
            Some(length) if length > 0 => after_bytes.min(length - 1),
            _ => after_bytes,
        };
        Truncated {
            inner,
            remaining,
            state: if remaining == 0 {
                Cutting::Flushing
            } else {
                Cutting::Passing
            },
        }
    }
}

/// The error that closes a connection mid-response.
#[derive(Debug)]
pub(crate) struct Cut;

impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed mid-response by a `close` fault")
    }
}

impl std::error::Error for Cut {}

impl<B> Body for Truncated<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match this.state {
            Cutting::Passing => {}
            Cutting::Flushing => {
                this.state = Cutting::Cut;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Cutting::Cut => return Poll::Ready(Some(Err(Box::new(Cut)))),
        }
        loop {
            match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                // Ending early would complete a chunked body: fail instead.
                None => return Poll::Ready(Some(Err(Box::new(Cut)))),
                Some(Err(e)) => return Poll::Ready(Some(Err(e.into()))),
                Some(Ok(frame)) => {
                    let Ok(mut data) = frame.into_data() else {
                        continue;
                    };
                    if (data.len() as u64) < this.remaining {
                        this.remaining -= data.len() as u64;
                        return Poll::Ready(Some(Ok(Frame::data(data))));
                    }
                    data.truncate(this.remaining as usize);
                    this.state = Cutting::Flushing;
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        false
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A client's request body on its way upstream, noting whether reading it
/// failed: a malformed chunked body is the client's fault (400), not the
/// upstream's (502), though both surface as the upstream request failing.
pub(crate) struct Watched<B> {
    inner: B,
    failed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl<B> Watched<B> {
    /// The body, and the flag that is set if reading it fails.
    pub(crate) fn new(inner: B) -> (Watched<B>, std::sync::Arc<std::sync::atomic::AtomicBool>) {
        let failed = std::sync::Arc::default();
        (
            Watched {
                inner,
                failed: std::sync::Arc::clone(&failed),
            },
            failed,
        )
    }
}

impl<B: Body + Unpin> Body for Watched<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Err(_))) = &polled {
            self.failed
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn throttled_bodies_keep_to_the_rate() {
        let body = http_body_util::Full::new(Bytes::from(vec![7u8; 10_000]));
        let started = Instant::now();
        let collected = Throttled::new(body, 2_000).collect().await.unwrap();
        assert_eq!(collected.to_bytes().len(), 10_000);
        // 10,000 bytes at 2,000 B/s: the last 100-byte piece may go at 4.95 s.
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(4_900), "{elapsed:?}");
        assert!(elapsed <= Duration::from_millis(5_000), "{elapsed:?}");
    }

    #[tokio::test]
    async fn truncated_bodies_never_complete() {
        let body = http_body_util::Full::new(Bytes::from_static(b"0123456789"));
        let mut cut = Truncated::new(body, 4);
        let first = cut.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(&first[..], b"0123");
        assert!(cut.frame().await.unwrap().is_err());
        // Nothing of the body: the head goes, then the close.
        let body = http_body_util::Full::new(Bytes::from_static(b"0123456789"));
        assert!(Truncated::new(body, 0).frame().await.unwrap().is_err());
        // Shorter than `after`: cut one byte before the end.
        let body = http_body_util::Full::new(Bytes::from_static(b"abc"));
        let mut cut = Truncated::new(body, 1_000);
        let first = cut.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(&first[..], b"ab");
        assert!(cut.frame().await.unwrap().is_err());
    }
}
