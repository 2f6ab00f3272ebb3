//! Bounds-checked cursor over received bytes, a growable writer, and the
//! `wire_struct!` macro for fixed layouts. Every read checks the length
//! first, so decoders return an error instead of panicking.

use crate::error::{DecodeError, Scope};

pub(crate) type Result<T> = std::result::Result<T, DecodeError>;

/// Reads big-endian fields from a slice; running past the end is a
/// `BadLen` in the reader's scope (so the ERROR code names what was short).
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    scope: Scope,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], scope: Scope) -> Self {
        Reader { buf, pos: 0, scope }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub(crate) fn short(&self) -> DecodeError {
        DecodeError::BadLen(self.scope)
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.short());
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }

    pub(crate) fn skip(&mut self, n: usize) -> Result<()> {
        self.bytes(n).map(|_| ())
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.bytes(N)?);
        Ok(a)
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// Peeks a big-endian u16 at `off` bytes ahead without consuming.
    pub(crate) fn peek_u16(&self, off: usize) -> Result<u16> {
        match self.buf.get(self.pos + off..self.pos + off + 2) {
            Some(b) => Ok(u16::from_be_bytes([b[0], b[1]])),
            None => Err(self.short()),
        }
    }

    /// Splits off the next `n` bytes as a reader of its own scope.
    /// Claiming more bytes than remain is a length error of the inner scope.
    pub(crate) fn sub(&mut self, n: usize, scope: Scope) -> Result<Reader<'a>> {
        let bytes = self.bytes(n).map_err(|_| DecodeError::BadLen(scope))?;
        Ok(Reader::new(bytes, scope))
    }

    /// Reads a TLV whose 16-bit length (at `len_off`, counting the whole TLV)
    /// must be at least `min` and, when `align8`, a multiple of 8.
    pub(crate) fn tlv(
        &mut self,
        len_off: usize,
        min: usize,
        align8: bool,
        scope: Scope,
    ) -> Result<Reader<'a>> {
        let len = self
            .peek_u16(len_off)
            .map_err(|_| DecodeError::BadLen(scope))? as usize;
        if len < min || (align8 && !len.is_multiple_of(8)) || len > self.remaining() {
            return Err(DecodeError::BadLen(scope));
        }
        self.sub(len, scope)
    }

    /// Reads a TLV whose length (at `len_off`) excludes the zero padding to
    /// 8 bytes that follows it (matches, properties); returns the unpadded part.
    pub(crate) fn padded_tlv(
        &mut self,
        len_off: usize,
        min: usize,
        scope: Scope,
    ) -> Result<Reader<'a>> {
        let len = self
            .peek_u16(len_off)
            .map_err(|_| DecodeError::BadLen(scope))? as usize;
        if len < min {
            return Err(DecodeError::BadLen(scope));
        }
        let mut whole = self.sub(len.next_multiple_of(8), scope)?;
        whole.sub(len, scope)
    }
}

/// Appends big-endian fields; lengths are patched in once a body is known.
#[derive(Default)]
pub(crate) struct Writer {
    pub(crate) buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }
    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub(crate) fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }
    pub(crate) fn zeros(&mut self, n: usize) {
        self.buf.resize(self.buf.len() + n, 0);
    }
    /// Pads with zeros to the next multiple of 8 counted from `start`.
    pub(crate) fn pad8_from(&mut self, start: usize) {
        let n = (self.buf.len() - start).next_multiple_of(8) - (self.buf.len() - start);
        self.zeros(n);
    }
    /// Writes the 16-bit length of everything since `start` at `start + off`.
    /// Lengths past 65535 cannot be expressed; callers keep bodies smaller.
    pub(crate) fn patch_len(&mut self, start: usize, off: usize) {
        self.patch_u16(start + off, (self.buf.len() - start) as u16);
    }
    pub(crate) fn patch_u16(&mut self, at: usize, v: u16) {
        self.buf[at..at + 2].copy_from_slice(&v.to_be_bytes());
    }
}

/// A fixed-width field of a wire struct.
pub(crate) trait Wire: Sized {
    const SIZE: usize;
    fn read(r: &mut Reader) -> Result<Self>;
    fn write(&self, w: &mut Writer);
}

macro_rules! wire_int {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn read(r: &mut Reader) -> Result<Self> {
                Ok(<$t>::from_be_bytes(r.array()?))
            }
            fn write(&self, w: &mut Writer) {
                w.bytes(&self.to_be_bytes());
            }
        }
    )*};
}
wire_int!(u8, u16, u32, u64);

impl<const N: usize> Wire for [u8; N] {
    const SIZE: usize = N;
    fn read(r: &mut Reader) -> Result<Self> {
        r.array()
    }
    fn write(&self, w: &mut Writer) {
        w.bytes(self);
    }
}

impl<const N: usize> Wire for [u32; N] {
    const SIZE: usize = 4 * N;
    fn read(r: &mut Reader) -> Result<Self> {
        let mut a = [0u32; N];
        for v in &mut a {
            *v = r.u32()?;
        }
        Ok(a)
    }
    fn write(&self, w: &mut Writer) {
        self.iter().for_each(|v| w.u32(*v));
    }
}

/// A NUL-padded fixed-size string (port names, descriptions). Decoding stops
/// at the first NUL; encoding truncates to leave room for one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FixedStr<const N: usize>(pub String);

impl<const N: usize> FixedStr<N> {
    /// Builds from text, truncated on a character boundary so it fits with its NUL.
    pub fn new(s: &str) -> Self {
        let mut end = s.len().min(N - 1);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        FixedStr(s[..end].to_string())
    }
}

impl<const N: usize> Wire for FixedStr<N> {
    const SIZE: usize = N;
    fn read(r: &mut Reader) -> Result<Self> {
        let b = r.bytes(N)?;
        let end = b.iter().position(|&c| c == 0).unwrap_or(N);
        Ok(FixedStr(String::from_utf8_lossy(&b[..end]).into_owned()))
    }
    fn write(&self, w: &mut Writer) {
        let s = FixedStr::<N>::new(&self.0);
        w.bytes(s.0.as_bytes());
        w.zeros(N - s.0.len());
    }
}

/// Declares a struct with a fixed wire layout: fields in order, `=> pad N`
/// after a field for the zero bytes that follow it.
macro_rules! wire_struct {
    ($(#[$sm:meta])* pub struct $name:ident {
        $($(#[$fm:meta])* pub $f:ident : $t:ty $(=> pad $p:literal)?),* $(,)?
    }) => {
        $(#[$sm])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        #[cfg_attr(test, derive(proptest_derive::Arbitrary))]
        pub struct $name { $($(#[$fm])* pub $f: $t),* }

        impl $name {
            /// Bytes on the wire.
            pub const LEN: usize = 0 $(+ <$t as $crate::wire::Wire>::SIZE $(+ $p)?)*;

            #[allow(dead_code)]
            pub(crate) fn read(r: &mut $crate::wire::Reader) -> $crate::wire::Result<Self> {
                $(
                    let $f = <$t as $crate::wire::Wire>::read(r)?;
                    $(r.skip($p)?;)?
                )*
                Ok(Self { $($f),* })
            }

            #[allow(dead_code)]
            pub(crate) fn write(&self, w: &mut $crate::wire::Writer) {
                $(
                    $crate::wire::Wire::write(&self.$f, w);
                    $(w.zeros($p);)?
                )*
            }
        }
    };
}

/// Decodes items until the reader is empty.
pub(crate) fn read_all<T>(r: &mut Reader, f: impl Fn(&mut Reader) -> Result<T>) -> Result<Vec<T>> {
    let mut v = Vec::new();
    while !r.is_empty() {
        v.push(f(r)?);
    }
    Ok(v)
}

/// Decodes the rest of the reader as 32-bit words (a length not a multiple
/// of 4 is a length error in the reader's scope).
pub(crate) fn read_u32s(r: &mut Reader) -> Result<Vec<u32>> {
    if !r.remaining().is_multiple_of(4) {
        return Err(r.short());
    }
    read_all(r, |r| r.u32())
}
