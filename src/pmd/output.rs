//! Per-PMD, per-port output batches: packets wait here until the batch is
//! full or the loop ends, so each tx burst carries as many as it can.
use super::stats::{DropReason, PmdStats};
use crate::dpdk::{Mbuf, MbufBurst};
use crate::netdev::TxSend;

/// One port's pending output and the queue it goes to.
struct OutputBatch {
    txq: Option<Box<dyn TxSend>>,
    burst: MbufBurst,
}

/// A PMD's output batches, indexed by the switch's port index.
pub struct OutputBatches {
    batches: Vec<OutputBatch>,
    /// Bitmap of ports with a non-empty batch (up to 64 ports: enough for
    /// the flush walk; ports beyond are flushed by the full scan).
    pending: u64,
}

impl OutputBatches {
    /// Batches for ports whose tx handles are `txqs` (None: not sendable).
    pub fn new(txqs: Vec<Option<Box<dyn TxSend>>>) -> Self {
        OutputBatches {
            batches: txqs
                .into_iter()
                .map(|txq| OutputBatch {
                    txq,
                    burst: MbufBurst::new(),
                })
                .collect(),
            pending: 0,
        }
    }

    /// Queues `m` for `port`, sending the batch first if it is full.
    #[inline(always)]
    pub fn push(&mut self, port: usize, m: Mbuf, stats: &PmdStats) {
        let Some(b) = self.batches.get_mut(port) else {
            stats.drop(DropReason::NoOutput, 1);
            return;
        };
        if b.burst.is_full() {
            Self::send(port, b, stats);
        }
        // Cannot fail: the batch was emptied above if it was full.
        let _ = b.burst.push(m);
        self.pending |= 1u64 << (port & 63);
    }

    /// Queues the whole of `burst` for `port`, sending full batches as it
    /// goes; the burst is empty afterwards.
    #[inline(always)]
    pub fn push_burst(&mut self, port: usize, burst: &mut MbufBurst, stats: &PmdStats) {
        let Some(b) = self.batches.get_mut(port) else {
            stats.drop(DropReason::NoOutput, burst.free_all() as u64);
            return;
        };
        while !burst.is_empty() {
            if b.burst.is_full() {
                Self::send(port, b, stats);
            }
            b.burst.append_from(burst);
        }
        self.pending |= 1u64 << (port & 63);
    }

    fn send(port: usize, b: &mut OutputBatch, stats: &PmdStats) {
        let n = b.burst.len() as u64;
        let sent = match &mut b.txq {
            Some(q) => q.tx_burst(&mut b.burst) as u64,
            None => 0,
        };
        let pc = &stats.ports[port];
        pc.tx.add(sent);
        if sent < n {
            // The device would not take them now; a PMD never waits, so they
            // are dropped and counted.
            let dropped = b.burst.free_all() as u64;
            pc.tx_dropped.add(dropped);
            stats.drop(DropReason::TxFull, dropped);
        }
    }

    /// Sends every non-empty batch.
    #[inline]
    pub fn flush_all(&mut self, stats: &PmdStats) {
        if self.batches.len() <= 64 {
            let mut p = self.pending;
            while p != 0 {
                let i = p.trailing_zeros() as usize;
                p &= p - 1;
                Self::send(i, &mut self.batches[i], stats);
            }
        } else {
            for (i, b) in self.batches.iter_mut().enumerate() {
                if !b.burst.is_empty() {
                    Self::send(i, b, stats);
                }
            }
        }
        self.pending = 0;
    }
}
