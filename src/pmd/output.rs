//! Per-PMD, per-port output batches: packets wait here until the batch is
//! full or the loop iteration ends, so each tx burst carries as many as it can.
use super::capture::{Taps, DIR_TX};
use super::stats::{DropReason, PmdStats, MAX_PORTS};
use crate::dpdk::{Mbuf, MbufBurst};
use crate::netdev::TxSend;
use std::sync::Arc;

/// One port's pending output and the queue it goes to.
struct OutputBatch {
    txq: Option<Box<dyn TxSend>>,
    /// The longest frame `txq` may send (its port's MTU + 18).
    max_len: usize,
    burst: MbufBurst,
    /// When its oldest packet was queued (TSC).
    since: u64,
}

const PENDING_WORDS: usize = MAX_PORTS / 64;

fn max_len(txq: &Option<Box<dyn TxSend>>) -> usize {
    txq.as_ref().map_or(usize::MAX, |q| q.max_frame_len())
}

/// A PMD's output batches, indexed by the switch's port slot.
pub struct OutputBatches {
    batches: Vec<OutputBatch>,
    /// Bitmap of ports with a non-empty batch, so the flush at the end of
    /// each iteration visits only those.
    pending: [u64; PENDING_WORDS],
    /// Hold output this long (TSC ticks) for fuller batches; 0: never hold.
    hold: u64,
    /// The current loop iteration's start (TSC).
    now: u64,
    /// Packet capture taps.
    taps: Arc<Taps>,
}

impl OutputBatches {
    /// Batches for every port slot; `txqs[i]` is port i's tx handle (None:
    /// not sendable, packets for it are dropped and counted).
    pub fn new(txqs: Vec<Option<Box<dyn TxSend>>>, taps: Arc<Taps>) -> Self {
        let mut txqs = txqs.into_iter();
        OutputBatches {
            batches: (0..MAX_PORTS)
                .map(|_| {
                    let txq = txqs.next().flatten();
                    OutputBatch {
                        max_len: max_len(&txq),
                        txq,
                        burst: MbufBurst::new(),
                        since: 0,
                    }
                })
                .collect(),
            pending: [0; PENDING_WORDS],
            hold: 0,
            now: 0,
            taps,
        }
    }

    /// Holds output up to `ticks` TSC ticks (OVS's tx-flush-interval).
    pub fn set_hold(&mut self, ticks: u64) {
        self.hold = ticks;
    }

    /// The current loop iteration's start (TSC).
    #[inline(always)]
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Records the start of a loop iteration: the time packets queued in it get.
    #[inline(always)]
    pub fn set_now(&mut self, now: u64) {
        self.now = now;
    }

    /// Replaces port `port`'s tx handle, sending what is queued for it first.
    pub fn set_tx(&mut self, port: usize, txq: Option<Box<dyn TxSend>>, stats: &PmdStats) {
        if let Some(b) = self.batches.get_mut(port) {
            if !b.burst.is_empty() {
                Self::send(port, b, stats, &self.taps);
            }
            b.max_len = max_len(&txq);
            b.txq = txq;
        }
    }

    #[inline(always)]
    fn mark(&mut self, port: usize) {
        let (w, bit) = (port / 64, 1u64 << (port % 64));
        if self.pending[w] & bit == 0 {
            self.pending[w] |= bit;
            self.batches[port].since = self.now;
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
            Self::send(port, b, stats, &self.taps);
        }
        // Cannot fail: the batch was emptied above if it was full.
        let _ = b.burst.push(m);
        self.mark(port);
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
                Self::send(port, b, stats, &self.taps);
            }
            b.burst.append_from(burst);
        }
        self.mark(port);
    }

    fn send(port: usize, b: &mut OutputBatch, stats: &PmdStats, taps: &Taps) {
        if b.max_len != usize::MAX {
            // What the port cannot carry never reaches it, on every path
            // (cross-connect, rule, NORMAL) and for chained mbufs alike.
            let over = b.burst.drop_longer_than(b.max_len) as u64;
            if over > 0 {
                let pc = &stats.ports[port];
                pc.tx_dropped.add(over);
                pc.tx_mtu_dropped.add(over);
                stats.drop(DropReason::MtuExceeded, over);
            }
        }
        let n = b.burst.len() as u64;
        if taps.wants(port, DIR_TX) {
            taps.copy(port, b.burst.as_slice());
        }
        let Some(q) = &mut b.txq else {
            stats.drop(DropReason::NoOutput, b.burst.free_all() as u64);
            return;
        };
        let sent = q.tx_burst(&mut b.burst) as u64;
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
        for w in 0..PENDING_WORDS {
            let mut p = std::mem::take(&mut self.pending[w]);
            while p != 0 {
                let i = w * 64 + p.trailing_zeros() as usize;
                p &= p - 1;
                Self::send(i, &mut self.batches[i], stats, &self.taps);
            }
        }
    }

    /// Sends the batches whose oldest packet has waited the hold time (all
    /// of them when there is none): the end-of-iteration flush.
    #[inline]
    pub fn flush_due(&mut self, stats: &PmdStats) {
        if self.hold == 0 {
            return self.flush_all(stats);
        }
        for w in 0..PENDING_WORDS {
            let mut p = self.pending[w];
            while p != 0 {
                let bit = p & p.wrapping_neg();
                p &= p - 1;
                let i = w * 64 + bit.trailing_zeros() as usize;
                let b = &mut self.batches[i];
                if self.now.wrapping_sub(b.since) >= self.hold || b.burst.is_empty() {
                    Self::send(i, b, stats, &self.taps);
                    self.pending[w] &= !bit;
                }
            }
        }
    }

    /// Whether any packet is waiting.
    pub fn any_pending(&self) -> bool {
        self.pending.iter().any(|w| *w != 0)
    }
}
