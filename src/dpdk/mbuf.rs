//! Owned mbufs and fixed-capacity bursts of them.
use crate::packet::buf::PacketBuf;
use std::mem::MaybeUninit;
use std::ptr::NonNull;

/// Packets per burst: what a PMD asks a queue for at once.
pub const BURST_SIZE: usize = 32;

/// One owned, single-segment packet buffer; freed back to its pool on drop.
///
/// pmdswitch sizes buffers for the MTU and never enables scattered rx, so a
/// packet is always one segment.
#[repr(transparent)]
#[derive(Debug)]
pub struct Mbuf(NonNull<dpdk_sys::rte_mbuf>);

// SAFETY: an Mbuf is the sole owner of its buffer; moving it to another
// thread moves ownership. Freeing from any thread is allowed by DPDK.
unsafe impl Send for Mbuf {}

impl Mbuf {
    /// Takes ownership of a raw mbuf.
    ///
    /// # Safety
    /// `p` must point to a valid, single-segment mbuf that nothing else owns.
    pub(crate) unsafe fn from_raw(p: NonNull<dpdk_sys::rte_mbuf>) -> Mbuf {
        Mbuf(p)
    }

    #[inline(always)]
    fn raw(&self) -> &dpdk_sys::rte_mbuf {
        // SAFETY: we own a valid mbuf for as long as self lives.
        unsafe { self.0.as_ref() }
    }

    /// Packet length in bytes.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.raw().data_len as usize
    }

    /// The whole packet's length, every segment counted: a driver may
    /// chain segments for a frame larger than one buffer (`net_pcap` does).
    #[inline(always)]
    pub fn pkt_len(&self) -> usize {
        self.raw().pkt_len as usize
    }

    /// Whether the packet has no bytes.
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `bytes` at the end of the packet; `false` when there is no room.
    pub fn append(&mut self, bytes: &[u8]) -> bool {
        let Ok(n) = u16::try_from(bytes.len()) else {
            return false;
        };
        // SAFETY: the mbuf is valid and ours; a non-null return points at n
        // writable bytes inside its data room.
        unsafe {
            let dst = dpdk_sys::pmds_pktmbuf_append(self.0.as_ptr(), n);
            if dst.is_null() {
                return false;
            }
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst as *mut u8, bytes.len());
        }
        true
    }

    /// Prefetches the packet's first cache line into L1.
    #[inline(always)]
    pub fn prefetch(&self) {
        let m = self.raw();
        // SAFETY: the address is inside the mbuf's buffer; a prefetch never
        // faults whatever the address.
        let p = unsafe { (m.buf_addr as *const u8).add(m.data_off as usize) };
        // Inline on x86-64: the C shim's call per packet cost more than the
        // prefetch saved.
        #[cfg(target_arch = "x86_64")]
        // SAFETY: SSE is baseline on x86-64; a prefetch never faults.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p as *const i8)
        }
        #[cfg(not(target_arch = "x86_64"))]
        // SAFETY: a prefetch never faults.
        unsafe {
            dpdk_sys::pmds_prefetch0(p as *const _)
        }
    }

    /// The port id DPDK recorded when the packet was received.
    pub fn rx_port(&self) -> u16 {
        self.raw().port
    }

    /// A copy in a new buffer from the same pool, or `None` when the pool
    /// is exhausted. Unlike [`Mbuf::share`], later writes to either packet
    /// do not show in the other.
    pub fn deep_copy(&self) -> Option<Mbuf> {
        let m = self.raw();
        // SAFETY: the mbuf is valid and its pool outlives it; rte_pktmbuf_copy
        // returns a fresh mbuf we own, or null.
        let c = unsafe { dpdk_sys::rte_pktmbuf_copy(self.0.as_ptr(), m.pool, 0, u32::MAX) };
        // SAFETY: non-null means a new, owned, single-segment copy.
        NonNull::new(c).map(|p| unsafe { Mbuf::from_raw(p) })
    }

    /// Another reference to the same buffer (refcount + 1), for sending one
    /// packet to several ports without copying. Writers must copy first.
    pub fn share(&self) -> Mbuf {
        // SAFETY: the mbuf is valid; bumping the refcount makes the returned
        // handle an owner that frees (decrements) on drop.
        unsafe { dpdk_sys::pmds_mbuf_refcnt_update(self.0.as_ptr(), 1) };
        Mbuf(self.0)
    }
}

impl PacketBuf for Mbuf {
    #[inline(always)]
    fn data(&self) -> &[u8] {
        let m = self.raw();
        // SAFETY: buf_addr + data_off is the start of data_len valid bytes in
        // this single-segment mbuf, alive while self is borrowed.
        unsafe {
            std::slice::from_raw_parts(
                (m.buf_addr as *const u8).add(m.data_off as usize),
                m.data_len as usize,
            )
        }
    }

    #[inline(always)]
    fn data_mut(&mut self) -> &mut [u8] {
        let m = self.raw();
        let (addr, off, len) = (
            m.buf_addr as *mut u8,
            m.data_off as usize,
            m.data_len as usize,
        );
        // SAFETY: as in `data`, and &mut self gives exclusive access.
        unsafe { std::slice::from_raw_parts_mut(addr.add(off), len) }
    }

    fn prepend(&mut self, n: usize) -> Option<&mut [u8]> {
        let n = u16::try_from(n).ok()?;
        // SAFETY: rte_pktmbuf_prepend checks the headroom and returns null
        // when it is too small, leaving the mbuf unchanged.
        let p = unsafe { dpdk_sys::pmds_pktmbuf_prepend(self.0.as_ptr(), n) };
        if p.is_null() {
            None
        } else {
            Some(self.data_mut())
        }
    }

    fn adj(&mut self, n: usize) -> bool {
        let Ok(n) = u16::try_from(n) else {
            return false;
        };
        // SAFETY: rte_pktmbuf_adj checks the length and returns null when the
        // packet is shorter, leaving it unchanged.
        !unsafe { dpdk_sys::pmds_pktmbuf_adj(self.0.as_ptr(), n) }.is_null()
    }

    #[inline(always)]
    fn prefetch(&self) {
        Mbuf::prefetch(self)
    }

    #[inline(always)]
    fn rss_hash(&self) -> Option<u32> {
        let m = self.raw();
        if m.ol_flags & dpdk_sys::RTE_MBUF_F_RX_RSS_HASH as u64 != 0 {
            // SAFETY: the flag says the NIC filled the RSS member of the union.
            Some(unsafe { m.__bindgen_anon_2.hash.rss })
        } else {
            None
        }
    }
}

impl Drop for Mbuf {
    fn drop(&mut self) {
        // SAFETY: we own the mbuf (or one reference of it); free returns it
        // to its pool once the last reference goes.
        unsafe { dpdk_sys::pmds_pktmbuf_free(self.0.as_ptr()) }
    }
}

/// Up to [`BURST_SIZE`] owned mbufs, kept in order. Whatever it still holds
/// when dropped is freed, so a burst can never leak.
pub struct MbufBurst {
    bufs: [MaybeUninit<Mbuf>; BURST_SIZE],
    len: usize,
}

impl Default for MbufBurst {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MbufBurst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MbufBurst({} mbufs)", self.len)
    }
}

impl MbufBurst {
    /// An empty burst.
    pub const fn new() -> Self {
        MbufBurst {
            bufs: [const { MaybeUninit::uninit() }; BURST_SIZE],
            len: 0,
        }
    }

    /// Number of mbufs held.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether it holds none.
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Whether it holds [`BURST_SIZE`].
    #[inline(always)]
    pub fn is_full(&self) -> bool {
        self.len == BURST_SIZE
    }

    /// Adds an mbuf at the end, or gives it back when the burst is full.
    #[inline(always)]
    pub fn push(&mut self, m: Mbuf) -> Result<(), Mbuf> {
        if self.len == BURST_SIZE {
            return Err(m);
        }
        self.bufs[self.len].write(m);
        self.len += 1;
        Ok(())
    }

    /// The mbufs held, in order.
    #[inline(always)]
    pub fn as_slice(&self) -> &[Mbuf] {
        // SAFETY: the first `len` slots are initialised.
        unsafe { std::slice::from_raw_parts(self.bufs.as_ptr() as *const Mbuf, self.len) }
    }

    /// The mbufs held, writable.
    #[inline(always)]
    pub fn as_mut_slice(&mut self) -> &mut [Mbuf] {
        // SAFETY: the first `len` slots are initialised.
        unsafe { std::slice::from_raw_parts_mut(self.bufs.as_mut_ptr() as *mut Mbuf, self.len) }
    }

    /// Moves as many mbufs from the front of `src` to the end of `self` as
    /// fit, keeping order; returns how many moved.
    #[inline(always)]
    pub fn append_from(&mut self, src: &mut MbufBurst) -> usize {
        let k = src.len.min(BURST_SIZE - self.len);
        // SAFETY: src's first k slots are initialised and moved (bitwise) to
        // our free slots; consumed_front then forgets them in src, so each
        // mbuf has exactly one owner afterwards.
        unsafe {
            std::ptr::copy_nonoverlapping(
                src.bufs.as_ptr(),
                self.bufs.as_mut_ptr().add(self.len),
                k,
            );
            self.len += k;
            src.consumed_front(k);
        }
        k
    }

    /// Moves every mbuf out, in order, leaving the burst empty.
    #[inline(always)]
    pub fn drain(&mut self) -> Drain<'_> {
        let len = self.len;
        self.len = 0;
        Drain {
            burst: self,
            next: 0,
            end: len,
        }
    }

    /// Frees the mbufs longer than `max` bytes ([`Mbuf::pkt_len`]),
    /// keeping the order of the others; returns how many were freed.
    pub fn drop_longer_than(&mut self, max: usize) -> usize {
        let n = self.len;
        self.len = 0;
        let mut kept = 0;
        for i in 0..n {
            // SAFETY: slot i < n was initialised and is read exactly once;
            // len is 0 meanwhile, so nothing else reads or frees it.
            let m = unsafe { self.bufs[i].assume_init_read() };
            if m.pkt_len() > max {
                drop(m);
            } else {
                self.bufs[kept].write(m);
                kept += 1;
            }
        }
        self.len = kept;
        n - kept
    }

    /// Frees every mbuf held, in one bulk call; returns how many.
    pub fn free_all(&mut self) -> usize {
        let n = self.len;
        if n > 0 {
            self.len = 0;
            // SAFETY: the first n slots hold owned mbufs (Mbuf is a
            // transparent raw pointer); len is already 0 so none is freed twice.
            unsafe {
                dpdk_sys::rte_pktmbuf_free_bulk(
                    self.bufs.as_mut_ptr() as *mut *mut dpdk_sys::rte_mbuf,
                    n as u32,
                )
            }
        }
        n
    }

    /// Frees the first `k` mbufs (which someone copied), keeping the rest in order.
    pub fn free_front(&mut self, k: usize) {
        let k = k.min(self.len);
        if k > 0 {
            // SAFETY: the first k slots hold owned mbufs; consumed_front then
            // forgets them so none is freed twice.
            unsafe {
                dpdk_sys::rte_pktmbuf_free_bulk(
                    self.bufs.as_mut_ptr() as *mut *mut dpdk_sys::rte_mbuf,
                    k as u32,
                );
                self.consumed_front(k);
            }
        }
    }

    /// Free slots at the end, as raw pointers for DPDK to fill.
    ///
    /// # Safety
    /// The caller must write valid owned mbufs to the first `k` slots and then
    /// call `set_filled(k)`.
    #[inline(always)]
    pub(crate) unsafe fn spare_raw(&mut self) -> (*mut *mut dpdk_sys::rte_mbuf, u16) {
        (
            self.bufs.as_mut_ptr().add(self.len) as *mut *mut dpdk_sys::rte_mbuf,
            (BURST_SIZE - self.len) as u16,
        )
    }

    /// Records that `k` more slots were filled through `spare_raw`.
    ///
    /// # Safety
    /// Those slots must hold valid, owned mbufs.
    #[inline(always)]
    pub(crate) unsafe fn set_filled(&mut self, k: usize) {
        debug_assert!(self.len + k <= BURST_SIZE);
        self.len += k;
    }

    /// The held mbufs as raw pointers, for DPDK to consume from the front.
    #[inline(always)]
    pub(crate) fn raw_ptrs(&mut self) -> *mut *mut dpdk_sys::rte_mbuf {
        self.bufs.as_mut_ptr() as *mut *mut dpdk_sys::rte_mbuf
    }

    /// Forgets the first `k` mbufs (DPDK took them) and moves the rest to the front.
    ///
    /// # Safety
    /// DPDK must have taken ownership of exactly the first `k` mbufs.
    #[inline(always)]
    pub(crate) unsafe fn consumed_front(&mut self, k: usize) {
        debug_assert!(k <= self.len);
        let rest = self.len - k;
        if rest > 0 && k > 0 {
            std::ptr::copy(self.bufs.as_ptr().add(k), self.bufs.as_mut_ptr(), rest);
        }
        self.len = rest;
    }
}

/// Iterator moving mbufs out of a burst; any it did not yield are freed.
pub struct Drain<'a> {
    burst: &'a mut MbufBurst,
    next: usize,
    end: usize,
}

impl Iterator for Drain<'_> {
    type Item = Mbuf;
    #[inline(always)]
    fn next(&mut self) -> Option<Mbuf> {
        if self.next == self.end {
            return None;
        }
        // SAFETY: slots next..end were initialised and are read out once.
        let m = unsafe { self.burst.bufs[self.next].assume_init_read() };
        self.next += 1;
        Some(m)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.end - self.next, Some(self.end - self.next))
    }
}

impl ExactSizeIterator for Drain<'_> {}

impl Drop for Drain<'_> {
    fn drop(&mut self) {
        for _ in self.by_ref() {}
    }
}

impl Drop for MbufBurst {
    fn drop(&mut self) {
        self.free_all();
    }
}
