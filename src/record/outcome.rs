//! What became of one request: an HTTP status, or the kind of failure that
//! stopped it. A small `Copy` enum, so recording a failure never allocates.

use std::io;

/// Why a request got no HTTP response. Failures are data: each is counted,
/// none stops a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The target actively refused the TCP connection (nothing listening).
    ConnectRefused,
    /// The TCP (or TLS) connection was not established within the connect timeout.
    ConnectTimeout,
    /// The response did not complete within the per-request timeout.
    RequestTimeout,
    /// The connection was reset or closed before the response was complete.
    ConnectionReset,
    /// The bytes received were not a valid HTTP response.
    InvalidHttp,
    /// The TLS handshake or record layer failed (certificate, protocol).
    Tls,
    /// Any other I/O failure (address unavailable, too many open files, ...).
    Other,
    /// The rendered request could not be sent as it was: a header value from
    /// data held CR, LF, NUL or another byte HTTP forbids there. Refused
    /// before anything reached the wire (see `plan::wire_bytes`). After
    /// the others, so the columns of older timelines keep their places.
    InvalidRequest,
    /// A flow step's response came, with a status it expects, but failed
    /// one of the step's checks: "200 with the wrong data".
    CheckFailed,
    /// A flow step's response came, but a capture found nothing in it.
    CaptureFailed,
}

impl ErrorKind {
    /// Number of kinds; counters are arrays indexed by [`ErrorKind::index`].
    pub const COUNT: usize = 10;

    /// Every kind, in report order.
    pub const ALL: [ErrorKind; ErrorKind::COUNT] = [
        ErrorKind::ConnectRefused,
        ErrorKind::ConnectTimeout,
        ErrorKind::RequestTimeout,
        ErrorKind::ConnectionReset,
        ErrorKind::InvalidHttp,
        ErrorKind::Tls,
        ErrorKind::Other,
        ErrorKind::InvalidRequest,
        ErrorKind::CheckFailed,
        ErrorKind::CaptureFailed,
    ];

    /// A response came (a flow step's that failed a check or a capture):
    /// its latency is measured as any response's.
    pub fn had_response(self) -> bool {
        matches!(self, ErrorKind::CheckFailed | ErrorKind::CaptureFailed)
    }

    /// Position in counter arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Stable machine name used in JSON and CSV.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::ConnectRefused => "connect_refused",
            ErrorKind::ConnectTimeout => "connect_timeout",
            ErrorKind::RequestTimeout => "request_timeout",
            ErrorKind::ConnectionReset => "connection_reset",
            ErrorKind::InvalidHttp => "invalid_http",
            ErrorKind::Tls => "tls",
            ErrorKind::Other => "other_io",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::CheckFailed => "check_failed",
            ErrorKind::CaptureFailed => "capture_failed",
        }
    }

    /// Classifies an I/O error seen while a request was being written or its
    /// response read (not while connecting: see [`ErrorKind::from_connect`]).
    pub fn from_io(error: &io::Error) -> ErrorKind {
        use io::ErrorKind as Io;
        if is_tls(error) {
            return ErrorKind::Tls;
        }
        match error.kind() {
            Io::ConnectionReset
            | Io::ConnectionAborted
            | Io::BrokenPipe
            | Io::UnexpectedEof
            | Io::NotConnected => ErrorKind::ConnectionReset,
            Io::TimedOut => ErrorKind::RequestTimeout,
            Io::ConnectionRefused => ErrorKind::ConnectRefused,
            _ => ErrorKind::Other,
        }
    }

    /// Classifies an I/O error from establishing a connection.
    pub fn from_connect(error: &io::Error) -> ErrorKind {
        match error.kind() {
            io::ErrorKind::TimedOut => ErrorKind::ConnectTimeout,
            _ => ErrorKind::from_io(error),
        }
    }
}

/// rustls reports its failures as `io::Error`s of kind `InvalidData` wrapping
/// a `rustls::Error`; that is the only reliable way to tell them apart.
fn is_tls(error: &io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
}

/// The result of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A complete HTTP response with this status code.
    Response { status: u16 },
    /// No (complete) response.
    Error(ErrorKind),
}
