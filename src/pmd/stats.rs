//! Per-PMD counters: written only by their PMD (a plain load and store, no
//! locked instruction), read by the control thread with Relaxed loads.
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

/// One owner-written counter.
#[derive(Debug, Default)]
#[repr(transparent)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds `n`. Only the owning PMD may call this: it is not an atomic
    /// read-modify-write, so concurrent writers would lose counts.
    #[inline(always)]
    pub fn add(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed);
    }
    /// The current value.
    #[inline]
    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// Why a packet was dropped. Every drop is counted under one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The tx queue was full.
    TxFull,
    /// Nothing says where the packet should go.
    NoOutput,
}

impl DropReason {
    /// Every reason, in counter order.
    pub const ALL: [DropReason; 2] = [DropReason::TxFull, DropReason::NoOutput];
    /// Name for reports.
    pub fn name(self) -> &'static str {
        match self {
            DropReason::TxFull => "tx_full",
            DropReason::NoOutput => "no_output",
        }
    }
}

/// Most ports a switch can have at once (port slots).
pub const MAX_PORTS: usize = 256;

/// Counters of one port as seen by one PMD.
#[derive(Debug, Default)]
pub struct PortCounters {
    /// Packets received from the port's queues this PMD polls.
    pub rx: Counter,
    /// Packets sent by this PMD on the port.
    pub tx: Counter,
    /// Packets this PMD could not send on the port (queue full).
    pub tx_dropped: Counter,
}

impl PortCounters {
    /// Zeroes the counters (the owning PMD only: a slot being reused).
    pub fn reset(&self) {
        for c in [&self.rx, &self.tx, &self.tx_dropped] {
            c.0.store(0, Relaxed);
        }
    }
}

/// Counters of one PMD thread.
#[derive(Debug)]
pub struct PmdStats {
    /// The core it runs on.
    pub core: usize,
    /// Loop iterations.
    pub iterations: Counter,
    /// TSC cycles spent in iterations that received packets.
    pub busy_cycles: Counter,
    /// TSC cycles spent in iterations that received nothing.
    pub idle_cycles: Counter,
    /// Packets received, all ports.
    pub rx_packets: Counter,
    /// Drops by reason, indexed like [`DropReason::ALL`].
    pub drops: [Counter; DropReason::ALL.len()],
    /// Per port, indexed by the switch's port index.
    pub ports: Vec<PortCounters>,
    /// Bumped (SeqCst) at the top of every iteration; see `quiesce`.
    pub epoch: AtomicU64,
    /// Whether the thread is in its loop.
    pub running: AtomicBool,
}

impl PmdStats {
    /// Zeroed counters for a PMD on `core`, with room for every port slot.
    pub fn new(core: usize) -> Self {
        PmdStats {
            core,
            iterations: Counter::default(),
            busy_cycles: Counter::default(),
            idle_cycles: Counter::default(),
            rx_packets: Counter::default(),
            drops: Default::default(),
            ports: (0..MAX_PORTS).map(|_| PortCounters::default()).collect(),
            epoch: AtomicU64::new(0),
            running: AtomicBool::new(false),
        }
    }

    /// Counts `n` drops for `reason`.
    #[inline(always)]
    pub fn drop(&self, reason: DropReason, n: u64) {
        self.drops[reason as usize].add(n);
    }

    /// All drops.
    pub fn total_drops(&self) -> u64 {
        self.drops.iter().map(Counter::get).sum()
    }
}
