//! Skips a `Transfer-Encoding: chunked` body without keeping it: a byte-level
//! state machine fed whatever the socket returned, so no chunk is ever copied.

/// Where the decoder is within the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the hex size of the next chunk.
    Size {
        size: u64,
        digits: u8,
    },
    /// After the size: an extension (`;name=value`) up to the line end.
    Extension {
        size: u64,
    },
    /// Expecting `\n` after the size line's `\r`.
    SizeLf {
        size: u64,
    },
    /// Inside chunk data.
    Data {
        remaining: u64,
    },
    /// Expecting the `\r\n` after chunk data (`seen` of 2 bytes consumed).
    DataCrlf {
        seen: u8,
    },
    /// After the last chunk: trailer lines; `line_len` counts bytes of the
    /// current line, an empty line ends the body.
    Trailer {
        line_len: u32,
    },
    Done,
}

/// The body is not valid chunked encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

/// Skips a chunked body.
#[derive(Debug, Clone)]
pub(crate) struct ChunkedSkipper {
    state: State,
    /// Chunk data seen so far: the body's length, framing left out.
    data: u64,
}

impl Default for ChunkedSkipper {
    fn default() -> Self {
        ChunkedSkipper {
            state: State::Size { size: 0, digits: 0 },
            data: 0,
        }
    }
}

impl ChunkedSkipper {
    /// The body's bytes so far, without the chunk sizes, extensions and
    /// trailers around them.
    pub(crate) fn data_bytes(&self) -> u64 {
        self.data
    }

    /// Consumes bytes from `input`; returns how many belonged to the body.
    /// Fewer than `input.len()` only when the body ended.
    #[cfg(test)]
    pub(crate) fn feed(&mut self, input: &[u8]) -> Result<usize, Malformed> {
        self.feed_with(input, |_| {})
    }

    /// As [`Self::feed`], handing each piece of chunk data to `data`.
    pub(crate) fn feed_with(
        &mut self,
        input: &[u8],
        mut data: impl FnMut(&[u8]),
    ) -> Result<usize, Malformed> {
        let mut at = 0;
        while at < input.len() {
            match self.state {
                State::Done => return Ok(at),
                State::Data { remaining } => {
                    let take = remaining.min((input.len() - at) as u64);
                    data(&input[at..at + take as usize]);
                    at += take as usize;
                    self.data += take;
                    self.state = if take == remaining {
                        State::DataCrlf { seen: 0 }
                    } else {
                        State::Data {
                            remaining: remaining - take,
                        }
                    };
                }
                state => {
                    self.state = Self::step(state, input[at])?;
                    at += 1;
                }
            }
        }
        Ok(at)
    }

    /// True once the terminating chunk and trailers were read.
    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    fn step(state: State, byte: u8) -> Result<State, Malformed> {
        Ok(match state {
            State::Size { size, digits } => match byte {
                b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                    // 16 hex digits fill a u64; more is an attack or garbage.
                    if digits >= 16 {
                        return Err(Malformed);
                    }
                    let value = (byte as char).to_digit(16).unwrap() as u64;
                    State::Size {
                        size: size * 16 + value,
                        digits: digits + 1,
                    }
                }
                _ if digits == 0 => return Err(Malformed),
                b';' | b' ' | b'\t' => State::Extension { size },
                b'\r' => State::SizeLf { size },
                b'\n' => Self::after_size(size),
                _ => return Err(Malformed),
            },
            State::Extension { size } => match byte {
                b'\r' => State::SizeLf { size },
                b'\n' => Self::after_size(size),
                _ => State::Extension { size },
            },
            State::SizeLf { size } => match byte {
                b'\n' => Self::after_size(size),
                _ => return Err(Malformed),
            },
            State::DataCrlf { seen } => match (seen, byte) {
                (0, b'\r') => State::DataCrlf { seen: 1 },
                (0, b'\n') | (1, b'\n') => State::Size { size: 0, digits: 0 },
                _ => return Err(Malformed),
            },
            State::Trailer { line_len } => match byte {
                b'\r' => State::Trailer { line_len },
                b'\n' if line_len == 0 => State::Done,
                b'\n' => State::Trailer { line_len: 0 },
                // Trailers are rare and small; cap a line so garbage cannot keep us reading.
                _ if line_len >= 64 * 1024 => return Err(Malformed),
                _ => State::Trailer {
                    line_len: line_len + 1,
                },
            },
            State::Data { .. } | State::Done => unreachable!("handled in feed"),
        })
    }

    fn after_size(size: u64) -> State {
        if size == 0 {
            State::Trailer { line_len: 0 }
        } else {
            State::Data { remaining: size }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skip_all(body: &[u8], piece: usize) -> Result<(usize, bool), Malformed> {
        let mut skipper = ChunkedSkipper::default();
        let mut used = 0;
        for chunk in body.chunks(piece) {
            let n = skipper.feed(chunk)?;
            used += n;
            if n < chunk.len() {
                break;
            }
        }
        Ok((used, skipper.is_done()))
    }

    #[test]
    fn skips_a_body_whatever_the_read_boundaries() {
        let body = b"5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
        for piece in 1..body.len() {
            assert_eq!(
                skip_all(body, piece),
                Ok((body.len() - 4, true)),
                "piece {piece}"
            );
        }
    }

    #[test]
    fn incomplete_body_is_not_done() {
        assert_eq!(skip_all(b"5\r\nhel", 3), Ok((6, false)));
        assert_eq!(skip_all(b"0\r\n", 3), Ok((3, false)));
    }

    #[test]
    fn garbage_is_malformed() {
        assert_eq!(skip_all(b"zz\r\n", 1), Err(Malformed));
        assert_eq!(skip_all(b"\r\n", 1), Err(Malformed));
        assert_eq!(skip_all(b"3\r\nabcXY", 1), Err(Malformed));
        assert_eq!(skip_all(b"11111111111111111\r\n", 4), Err(Malformed));
    }
}
