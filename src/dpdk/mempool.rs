//! Packet buffer pools, sized per MTU like OVS-DPDK's shared mempools.
use super::error::DpdkError;
use super::mbuf::Mbuf;
use std::ffi::CString;
use std::ptr::NonNull;

/// Bytes DPDK reserves in front of packet data in every mbuf.
pub const HEADROOM: u32 = dpdk_sys::RTE_PKTMBUF_HEADROOM;
/// Size of DPDK's mbuf header (two cache lines).
pub const MBUF_HEADER: u32 = std::mem::size_of::<dpdk_sys::rte_mbuf>() as u32;
/// Ethernet header, CRC and two VLAN tags: what a frame adds to the MTU.
const FRAME_OVERHEAD: u32 = 14 + 4 + 2 * 4;
/// Data rooms are rounded up to this, as OVS-DPDK does, so that pools for
/// nearby MTUs coincide and can be shared.
const DATA_ROOM_ALIGN: u32 = 1024;

/// The data room (headroom included) a buffer needs to hold one frame of
/// `mtu` bytes of payload in a single segment.
pub fn data_room_for_mtu(mtu: u32) -> u32 {
    (mtu + FRAME_OVERHEAD).div_ceil(DATA_ROOM_ALIGN) * DATA_ROOM_ALIGN + HEADROOM
}

/// Bytes one buffer of the pool occupies: mbuf header plus data room,
/// rounded to a cache line (DPDK's mempool adds its own object header).
pub fn buffer_size_for_mtu(mtu: u32) -> u32 {
    (MBUF_HEADER + data_room_for_mtu(mtu)).div_ceil(64) * 64
}

/// A DPDK packet mempool. Safe to share between threads: DPDK mempools are
/// multi-producer, multi-consumer, with a per-lcore cache.
#[derive(Debug)]
pub struct Mempool {
    ptr: NonNull<dpdk_sys::rte_mempool>,
    name: String,
    count: u32,
    data_room: u32,
    socket: i32,
}

// SAFETY: rte_mempool operations are thread-safe (lock-free ring plus a
// per-lcore cache); the pointer is owned by this value until drop.
unsafe impl Send for Mempool {}
// SAFETY: as above; &Mempool only allows thread-safe DPDK calls.
unsafe impl Sync for Mempool {}

impl Mempool {
    /// Creates a pool of `count` mbufs, each with `data_room` bytes (headroom
    /// included), on NUMA `socket` (-1 for any).
    pub fn create(
        name: &str,
        count: u32,
        data_room: u32,
        socket: i32,
    ) -> Result<Mempool, DpdkError> {
        if data_room > u16::MAX as u32 {
            return Err(DpdkError::Invalid(format!(
                "mempool {name}: data room {data_room} exceeds DPDK's 65535-byte limit"
            )));
        }
        let cname = CString::new(name)
            .map_err(|_| DpdkError::Invalid(format!("mempool name {name:?} has a NUL byte")))?;
        // A per-lcore cache of 256 keeps most allocs and frees off the ring;
        // DPDK requires cache <= count / 1.5.
        let cache = 256.min(count * 2 / 3);
        // SAFETY: cname is a valid C string; DPDK copies the name.
        let p = unsafe {
            dpdk_sys::rte_pktmbuf_pool_create(
                cname.as_ptr(),
                count,
                cache,
                0,
                data_room as u16,
                socket,
            )
        };
        let ptr = NonNull::new(p).ok_or_else(|| {
            DpdkError::from_ret(
                format!(
                    "creating mempool {name} ({count} mbufs of {data_room} bytes on socket {socket}); \
                     are enough hugepages reserved?"
                ),
                0,
            )
        })?;
        Ok(Mempool {
            ptr,
            name: name.to_owned(),
            count,
            data_room,
            socket,
        })
    }

    /// The pool's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Number of mbufs in the pool.
    pub fn count(&self) -> u32 {
        self.count
    }
    /// Data room per mbuf, headroom included.
    pub fn data_room(&self) -> u32 {
        self.data_room
    }
    /// NUMA socket the pool lives on (-1: any).
    pub fn socket(&self) -> i32 {
        self.socket
    }

    /// Mbufs currently taken from the pool (in queues, in flight, or leaked).
    pub fn in_use(&self) -> u32 {
        // SAFETY: the pool is valid while self lives; the count is a racy
        // snapshot by design.
        unsafe { dpdk_sys::pmds_mempool_in_use(self.ptr.as_ptr()) }
    }

    /// Mbufs available in the pool (ring plus per-lcore caches).
    pub fn available(&self) -> u32 {
        // SAFETY: as in `in_use`.
        unsafe { dpdk_sys::pmds_mempool_avail(self.ptr.as_ptr()) }
    }

    /// Takes one mbuf, reset and empty, or `None` when the pool is exhausted.
    pub fn alloc(&self) -> Option<Mbuf> {
        // SAFETY: the pool is valid; a non-null result is a fresh mbuf we own.
        let m = unsafe { dpdk_sys::pmds_pktmbuf_alloc(self.ptr.as_ptr()) };
        NonNull::new(m).map(|p| {
            // SAFETY: freshly allocated and owned by nobody else.
            unsafe { Mbuf::from_raw(p) }
        })
    }

    pub(crate) fn as_ptr(&self) -> *mut dpdk_sys::rte_mempool {
        self.ptr.as_ptr()
    }
}

impl Drop for Mempool {
    fn drop(&mut self) {
        // SAFETY: ports that received into this pool are closed before their
        // pool is dropped (they hold an Arc to it); freeing returns the
        // hugepage memory.
        unsafe { dpdk_sys::rte_mempool_free(self.ptr.as_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_mtu() {
        assert_eq!(data_room_for_mtu(1500), 2048 + 128);
        assert_eq!(data_room_for_mtu(9000), 9216 + 128);
        assert!(buffer_size_for_mtu(1500) >= 2176 + 128);
        // nearby MTUs share one pool size
        assert_eq!(data_room_for_mtu(1400), data_room_for_mtu(1500));
    }
}
