//! Splits a byte stream (TCP, unix socket) into whole OpenFlow messages.

use crate::consts::OFP_HEADER_LEN;
use crate::message::Header;

/// Why the stream cannot go on: the connection should be closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A header's length is shorter than the header itself.
    #[error("message length {0} is shorter than the header")]
    TooShort(u16),
    /// A header's length exceeds the configured maximum.
    #[error("message length {len} exceeds the maximum {max}")]
    TooLong {
        /// Length in the header.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// Accumulates received bytes and yields whole messages.
#[derive(Debug)]
pub struct Framer {
    buf: Vec<u8>,
    start: usize,
    max_len: usize,
}

impl Framer {
    /// A framer refusing messages longer than `max_len` bytes (at most 65535 can occur).
    pub fn new(max_len: usize) -> Framer {
        Framer {
            buf: Vec::new(),
            start: 0,
            max_len,
        }
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes held that do not yet form a whole message.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next whole message (header included), `Ok(None)` when more bytes
    /// are needed, or an error after which the stream is unusable.
    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        let Some(h) = Header::parse(&self.buf[self.start..]) else {
            return Ok(None);
        };
        let len = usize::from(h.length);
        if len < OFP_HEADER_LEN {
            return Err(FrameError::TooShort(h.length));
        }
        if len > self.max_len {
            return Err(FrameError::TooLong {
                len,
                max: self.max_len,
            });
        }
        if self.pending() < len {
            return Ok(None);
        }
        let msg = self.buf[self.start..self.start + len].to_vec();
        self.start += len;
        if self.start > 4096 && self.start * 2 > self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        Ok(Some(msg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_reassembles() {
        let hello = [4u8, 0, 0, 8, 0, 0, 0, 1];
        let echo = [4u8, 2, 0, 10, 0, 0, 0, 2, 0xaa, 0xbb];
        let stream: Vec<u8> = hello.iter().chain(echo.iter()).copied().collect();
        let mut f = Framer::new(65535);
        f.push(&stream[..5]);
        assert_eq!(f.next_message(), Ok(None));
        f.push(&stream[5..12]);
        assert_eq!(f.next_message(), Ok(Some(hello.to_vec())));
        assert_eq!(f.next_message(), Ok(None));
        f.push(&stream[12..]);
        assert_eq!(f.next_message(), Ok(Some(echo.to_vec())));
        assert_eq!(f.pending(), 0);
    }

    #[test]
    fn refuses_bad_lengths() {
        let mut f = Framer::new(1000);
        f.push(&[4, 0, 0, 7, 0, 0, 0, 0]);
        assert_eq!(f.next_message(), Err(FrameError::TooShort(7)));
        let mut f = Framer::new(1000);
        f.push(&[4, 0, 0x10, 0, 0, 0, 0, 0]);
        assert_eq!(
            f.next_message(),
            Err(FrameError::TooLong {
                len: 4096,
                max: 1000
            })
        );
    }
}
