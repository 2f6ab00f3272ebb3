//! Per-PMD counters: written only by their PMD (a plain load and store, no
//! locked instruction), read by the control thread with Relaxed loads.
use crate::dpdk::BURST_SIZE;
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

/// An enum whose variants each have a report name, with the list of all
/// of them in counter order: one declaration feeds the counters, the text
/// and JSON reports and the metrics.
macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident { $( $(#[$vdoc:meta])* $variant:ident = $text:literal, )* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $( $(#[$vdoc])* $variant ),* }

        impl $name {
            /// Every variant, in counter order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            /// How many there are.
            pub const COUNT: usize = Self::ALL.len();
            /// Name for reports (text, JSON, metrics).
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
        }
    };
}

named_enum! {
    /// Why a packet was dropped. Every drop is counted under one of these.
    DropReason {
        /// The tx queue was full.
        TxFull = "tx_full",
        /// Nothing says where the packet should go (no rule output, or a port
        /// that is gone).
        NoOutput = "no_output",
        /// A rule said drop.
        Action = "action_drop",
        /// TTL expired on dec_ttl.
        TtlExpired = "ttl_expired",
        /// Too short to be an Ethernet frame.
        Malformed = "malformed",
        /// A VLAN push found no headroom, or a copy for a second output found
        /// no buffer.
        NoBuffer = "no_buffer",
        /// The upcall could not produce a megaflow for the packet.
        UpcallFailed = "upcall_failed",
        /// Longer than the output port's MTU allows (MTU + 18 bytes).
        MtuExceeded = "mtu_exceeded",
    }
}

named_enum! {
    /// A stage of the packet path, for cycle accounting (`pmd-perf-show` with
    /// `stage_cycles` on).
    Stage {
        /// The simple-match path (in_port and a few fixed words).
        Simple = "simple match",
        /// Miniflow extraction and the packet hash.
        Extract = "extract",
        /// Exact-match cache lookups.
        Emc = "emc",
        /// Signature match cache lookups.
        Smc = "smc",
        /// The megaflow classifier.
        Dpcls = "dpcls",
        /// Translation through the rule tables and megaflow installs.
        Upcall = "upcall",
        /// Executing actions and queueing output.
        Actions = "actions",
        /// Sending output batches.
        Tx = "tx",
    }
}

/// Charges the time between laps to stages, when the PMD counts them; a
/// branch per lap when it does not.
pub struct StageClock<'a> {
    stats: &'a PmdStats,
    on: bool,
    last: u64,
}

impl<'a> StageClock<'a> {
    /// A clock started now (if the PMD counts stages).
    #[inline(always)]
    pub fn start(stats: &'a PmdStats) -> Self {
        let on = stats.stage_timing.load(Relaxed);
        StageClock {
            stats,
            on,
            last: if on { crate::dpdk::lcore::rdtsc() } else { 0 },
        }
    }

    /// Charges the time since the last lap (or the start) to `stage`.
    #[inline(always)]
    pub fn lap(&mut self, stage: Stage) {
        if self.on {
            let now = crate::dpdk::lcore::rdtsc();
            self.stats.stage_cycles[stage as usize].add(now.wrapping_sub(self.last));
            self.last = now;
        }
    }
}

/// Where a packet's flow was found: the datapath's per-PMD lookup counters.
#[derive(Debug, Default)]
pub struct LookupCounters {
    /// Simple-match hits (classified from in_port, dl_type, VLAN, nw_frag).
    pub simple_hits: Counter,
    /// Exact-match cache hits.
    pub emc_hits: Counter,
    /// Signature match cache hits.
    pub smc_hits: Counter,
    /// Megaflow classifier hits.
    pub megaflow_hits: Counter,
    /// Subtables searched for those hits (average = this / megaflow_hits).
    pub subtable_lookups: Counter,
    /// Misses sent to the rule tables.
    pub upcalls: Counter,
    /// Packets that parsed only partly (truncated or malformed headers);
    /// they are still switched by what was parsed, as OVS does.
    pub partial_parse: Counter,
    /// Megaflows revalidation removed or changed.
    pub revalidated: Counter,
    /// Upcalls past the flow limit: executed, their megaflows not kept.
    pub uninstalled: Counter,
}

pub use crate::config::MAX_PORTS;

/// Counters of one port as seen by one PMD.
#[derive(Debug, Default)]
pub struct PortCounters {
    /// Packets received from the port's queues this PMD polls.
    pub rx: Counter,
    /// Packets sent by this PMD on the port.
    pub tx: Counter,
    /// Packets this PMD could not send on the port (queue full, or over
    /// the port's MTU).
    pub tx_dropped: Counter,
    /// Of `tx_dropped`, those longer than the port's MTU allows.
    pub tx_mtu_dropped: Counter,
}

impl PortCounters {
    /// Zeroes the counters (the owning PMD only: a slot being reused).
    pub fn reset(&self) {
        for c in [&self.rx, &self.tx, &self.tx_dropped, &self.tx_mtu_dropped] {
            c.0.store(0, Relaxed);
        }
    }
}

/// Counters of one rx queue, written by whichever PMD polls it.
#[derive(Debug, Default)]
pub struct RxqStats {
    /// Packets received.
    pub packets: Counter,
    /// TSC cycles spent receiving and processing them.
    pub cycles: Counter,
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
    pub drops: [Counter; DropReason::COUNT],
    /// TSC cycles spent asleep (an idle PMD naps; see `max_sleep_us`).
    pub sleep_cycles: Counter,
    /// Rx polls by how many packets they returned (0..=32).
    pub burst_hist: [Counter; BURST_SIZE + 1],
    /// Where flows were found.
    pub lookups: LookupCounters,
    /// Cycles per stage, indexed like [`Stage::ALL`] (while `stage_timing`).
    pub stage_cycles: [Counter; Stage::COUNT],
    /// Whether the stages are timed (set by the PMD from its settings).
    pub stage_timing: AtomicBool,
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
            sleep_cycles: Counter::default(),
            burst_hist: std::array::from_fn(|_| Counter::default()),
            lookups: LookupCounters::default(),
            stage_cycles: Default::default(),
            stage_timing: AtomicBool::new(false),
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

/// A PMD's counters at one moment, as plain numbers: what reports show, and
/// what `pmd-stats-clear` keeps as the new zero (the counters themselves are
/// written only by their PMD, so the control thread never resets them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PmdSnapshot {
    /// Loop iterations.
    pub iterations: u64,
    /// Cycles in iterations that received packets.
    pub busy_cycles: u64,
    /// Cycles in iterations that received nothing.
    pub idle_cycles: u64,
    /// Cycles asleep.
    pub sleep_cycles: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Packets sent, all ports.
    pub tx_packets: u64,
    /// Drops by reason.
    pub drops: Vec<u64>,
    /// Rx polls by packets returned.
    pub burst_hist: Vec<u64>,
    /// Simple-match hits.
    pub simple_hits: u64,
    /// EMC hits.
    pub emc_hits: u64,
    /// SMC hits.
    pub smc_hits: u64,
    /// Megaflow hits.
    pub megaflow_hits: u64,
    /// Subtables searched for megaflow hits.
    pub subtable_lookups: u64,
    /// Upcalls.
    pub upcalls: u64,
    /// Partly parsed packets.
    pub partial_parse: u64,
    /// Upcalls past the flow limit (megaflow not kept).
    pub uninstalled: u64,
    /// Cycles per stage (see [`Stage`]).
    pub stage_cycles: Vec<u64>,
}

impl PmdStats {
    /// Reads every counter.
    pub fn snapshot(&self) -> PmdSnapshot {
        PmdSnapshot {
            iterations: self.iterations.get(),
            busy_cycles: self.busy_cycles.get(),
            idle_cycles: self.idle_cycles.get(),
            sleep_cycles: self.sleep_cycles.get(),
            rx_packets: self.rx_packets.get(),
            tx_packets: self.ports.iter().map(|p| p.tx.get()).sum(),
            drops: self.drops.iter().map(Counter::get).collect(),
            burst_hist: self.burst_hist.iter().map(Counter::get).collect(),
            simple_hits: self.lookups.simple_hits.get(),
            emc_hits: self.lookups.emc_hits.get(),
            smc_hits: self.lookups.smc_hits.get(),
            megaflow_hits: self.lookups.megaflow_hits.get(),
            subtable_lookups: self.lookups.subtable_lookups.get(),
            upcalls: self.lookups.upcalls.get(),
            partial_parse: self.lookups.partial_parse.get(),
            uninstalled: self.lookups.uninstalled.get(),
            stage_cycles: self.stage_cycles.iter().map(Counter::get).collect(),
        }
    }
}

impl PmdSnapshot {
    /// What happened since `base` (counters never go down, so this is exact).
    pub fn since(&self, base: &PmdSnapshot) -> PmdSnapshot {
        let sub = |a: &[u64], b: &[u64]| -> Vec<u64> {
            a.iter()
                .enumerate()
                .map(|(i, v)| v.saturating_sub(b.get(i).copied().unwrap_or(0)))
                .collect()
        };
        PmdSnapshot {
            iterations: self.iterations.saturating_sub(base.iterations),
            busy_cycles: self.busy_cycles.saturating_sub(base.busy_cycles),
            idle_cycles: self.idle_cycles.saturating_sub(base.idle_cycles),
            sleep_cycles: self.sleep_cycles.saturating_sub(base.sleep_cycles),
            rx_packets: self.rx_packets.saturating_sub(base.rx_packets),
            tx_packets: self.tx_packets.saturating_sub(base.tx_packets),
            drops: sub(&self.drops, &base.drops),
            burst_hist: sub(&self.burst_hist, &base.burst_hist),
            simple_hits: self.simple_hits.saturating_sub(base.simple_hits),
            emc_hits: self.emc_hits.saturating_sub(base.emc_hits),
            smc_hits: self.smc_hits.saturating_sub(base.smc_hits),
            megaflow_hits: self.megaflow_hits.saturating_sub(base.megaflow_hits),
            subtable_lookups: self.subtable_lookups.saturating_sub(base.subtable_lookups),
            upcalls: self.upcalls.saturating_sub(base.upcalls),
            partial_parse: self.partial_parse.saturating_sub(base.partial_parse),
            uninstalled: self.uninstalled.saturating_sub(base.uninstalled),
            stage_cycles: sub(&self.stage_cycles, &base.stage_cycles),
        }
    }

    /// All drops.
    pub fn total_drops(&self) -> u64 {
        self.drops.iter().sum()
    }
}
