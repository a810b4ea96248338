//! Journeys: what a flow's step takes from a response (captures) and what
//! it demands of it (checks). Pure: evaluated on a [`ResponseView`] the
//! engine kept for the step; nothing here does I/O.

pub mod capture;
pub mod check;
mod jar;
mod response;

use std::time::Duration;

pub use capture::{Capture, CaptureSource};
pub use check::{Check, CheckKind, HeaderTest, JsonTest, Needle};
pub use jar::Jar;
pub use response::Response;

/// What a flow step's response looked like, as its checks and captures
/// see it. Header names are lower case; values as received.
#[derive(Debug, Clone, Copy)]
pub struct ResponseView<'a> {
    pub status: u16,
    pub headers: &'a [(String, Vec<u8>)],
    /// The body as received (at most [`MAX_KEPT_BODY`] bytes of it).
    pub body: &'a [u8],
    /// The body's whole size, which may exceed what was kept.
    pub body_size: u64,
    /// From when the step was due (or sent, closed model) until its
    /// response ended: the latency reports show.
    pub latency: Duration,
}

/// A flow step keeps at most this much of a response body for its checks
/// and captures; the rest is counted, not kept.
pub const MAX_KEPT_BODY: usize = 4 * 1024 * 1024;

impl ResponseView<'_> {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// Every value of header `name` (lower case), in order.
    pub fn headers_named<'b>(&'b self, name: &'b str) -> impl Iterator<Item = &'b [u8]> + 'b {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}
