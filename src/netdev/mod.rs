//! Port types behind one interface. The PMDs see a port only as rx queues to
//! poll and tx queues to send on; everything else is for the control thread.
pub mod dpdk;
pub mod mempools;
pub mod vhost;

use crate::dpdk::{MbufBurst, Mempool, PortStats};
use std::sync::Arc;

/// An rx queue as a PMD polls it (one virtual call per burst, not per packet).
pub trait RxPoll: Send {
    /// Receives into the free tail of `burst`; returns how many arrived.
    fn rx_burst(&mut self, burst: &mut MbufBurst) -> usize;
    /// The queue's index within its port.
    fn queue(&self) -> u16;
}

/// A tx queue as one PMD sends on it.
pub trait TxSend: Send {
    /// Sends from the front of `burst`; what was not sent stays at the front.
    fn tx_burst(&mut self, burst: &mut MbufBurst) -> usize;
    /// The longest frame the port may send (CRC excluded); longer ones are
    /// dropped and counted before `tx_burst`.
    fn max_frame_len(&self) -> usize {
        usize::MAX
    }
}

/// Ethernet header and CRC: what a frame adds to the MTU. OVS-DPDK sends a
/// frame of up to MTU + 18 bytes (CRC excluded, whatever VLAN tags it has).
pub const MTU_OVERHEAD: usize = 18;

/// A tx queue of a port with an MTU.
pub struct MtuLimited<T> {
    q: T,
    max: usize,
}

impl<T> MtuLimited<T> {
    /// `q`, sending frames of up to `mtu` + [`MTU_OVERHEAD`] bytes.
    pub fn new(q: T, mtu: u16) -> Self {
        MtuLimited {
            q,
            max: usize::from(mtu) + MTU_OVERHEAD,
        }
    }
}

impl<T: TxSend> TxSend for MtuLimited<T> {
    #[inline]
    fn tx_burst(&mut self, burst: &mut MbufBurst) -> usize {
        self.q.tx_burst(burst)
    }
    fn max_frame_len(&self) -> usize {
        self.max
    }
}

/// The queues a port hands to the PMDs: every rx queue once, and one tx
/// handle per PMD.
pub struct PortQueues {
    /// Rx queues, each to be polled by exactly one PMD.
    pub rx: Vec<Box<dyn RxPoll>>,
    /// Tx handles, index = PMD index.
    pub tx: Vec<Box<dyn TxSend>>,
}

/// A port of the switch, as the control thread manages it.
pub trait Port: Send {
    /// The port type, e.g. `dpdk`.
    fn kind(&self) -> &'static str;
    /// Hands out the queues for `n_pmds` PMD threads; once per configuration.
    fn take_queues(&mut self, n_pmds: usize) -> Option<PortQueues>;
    /// Makes `take_queues` hand out queues again, for `n_pmds` threads.
    /// Call only once every handle of the last `take_queues` is gone (the
    /// switch joins its PMDs first). A port whose tx queue count follows the
    /// PMD count is stopped and reconfigured; its rx rings go back to the pool.
    fn reset_queues(&mut self, n_pmds: usize) -> anyhow::Result<()>;
    /// The NUMA node of its device (-1: unknown, as for virtual devices).
    fn numa_node(&self) -> i32 {
        -1
    }
    /// Device counters.
    fn stats(&self) -> PortStats;
    /// The mempool its rx buffers come from.
    fn mempool(&self) -> Option<Arc<Mempool>>;
    /// Details for `port-show`: driver, MAC, link, MTU, queues.
    fn details(&self) -> serde_json::Value;
    /// Stops the port: after this no queue handle may be polled.
    fn stop(&mut self);
    /// Periodic work on the control thread (e.g. sampling counters that
    /// cannot be read at the moment they matter).
    fn housekeeping(&self) {}
}
