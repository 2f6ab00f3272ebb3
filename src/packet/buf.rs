//! The packet-buffer trait the pure layers work on. Production code implements
//! it for DPDK's mbuf; tests and benches use [`VecPacket`].

/// A contiguous packet in a buffer with headroom in front of it.
pub trait PacketBuf {
    /// The packet's bytes.
    fn data(&self) -> &[u8];
    /// The packet's bytes, writable.
    fn data_mut(&mut self) -> &mut [u8];
    /// Grows the packet by `n` bytes at the front (from headroom) and returns
    /// the whole packet, or `None` when the headroom is too small.
    fn prepend(&mut self, n: usize) -> Option<&mut [u8]>;
    /// Removes `n` bytes from the front; `false` when the packet is shorter.
    fn adj(&mut self, n: usize) -> bool;
    /// The hash the NIC computed over the packet (RSS), when it gave one.
    fn rss_hash(&self) -> Option<u32> {
        None
    }
    /// Starts loading the packet's first bytes into cache (a hint).
    #[inline(always)]
    fn prefetch(&self) {}
}

/// A heap packet with headroom, for tests, benches and the slow path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VecPacket {
    buf: Vec<u8>,
    start: usize,
    rss: Option<u32>,
}

/// Headroom a [`VecPacket`] reserves, like DPDK's RTE_PKTMBUF_HEADROOM.
pub const VEC_HEADROOM: usize = 128;

impl VecPacket {
    /// A packet holding a copy of `bytes`.
    pub fn new(bytes: &[u8]) -> Self {
        let mut buf = vec![0u8; VEC_HEADROOM + bytes.len()];
        buf[VEC_HEADROOM..].copy_from_slice(bytes);
        VecPacket {
            buf,
            start: VEC_HEADROOM,
            rss: None,
        }
    }

    /// Sets the hash reported by [`PacketBuf::rss_hash`].
    pub fn with_rss(mut self, hash: u32) -> Self {
        self.rss = Some(hash);
        self
    }
}

impl PacketBuf for VecPacket {
    fn data(&self) -> &[u8] {
        &self.buf[self.start..]
    }
    fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..]
    }
    fn prepend(&mut self, n: usize) -> Option<&mut [u8]> {
        if n > self.start {
            return None;
        }
        self.start -= n;
        Some(&mut self.buf[self.start..])
    }
    fn adj(&mut self, n: usize) -> bool {
        if n > self.buf.len() - self.start {
            return false;
        }
        self.start += n;
        true
    }
    fn rss_hash(&self) -> Option<u32> {
        self.rss
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepend_and_adj() {
        let mut p = VecPacket::new(&[1, 2, 3]);
        p.prepend(2).unwrap().copy_from_slice(&[9, 9, 1, 2, 3]);
        assert_eq!(p.data(), &[9, 9, 1, 2, 3]);
        assert!(p.adj(2));
        assert_eq!(p.data(), &[1, 2, 3]);
        assert!(!p.adj(4));
        assert!(p.prepend(VEC_HEADROOM + 1).is_none());
    }
}
