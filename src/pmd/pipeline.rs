//! What a PMD does with a received burst. The PMD loop is generic over this,
//! so the per-packet path is monomorphised (no dynamic dispatch per packet).
use super::output::OutputBatches;
use super::stats::PmdStats;
use crate::dpdk::MbufBurst;

/// Per-PMD packet processing.
pub trait Pipeline: Send + 'static {
    /// The configuration changes the control thread sends this pipeline
    /// (through the PMD's mailbox, applied between loop iterations).
    type Update: Send + 'static;

    /// Handles every packet of `burst` (received on port index `in_port`):
    /// each goes to `out` or is dropped and counted. The burst is empty after.
    fn process(
        &mut self,
        in_port: usize,
        burst: &mut MbufBurst,
        out: &mut OutputBatches,
        stats: &PmdStats,
    );

    /// Applies a configuration change.
    fn update(&mut self, u: &Self::Update);

    /// Port `port` went away: nothing may be sent to it any more.
    fn port_removed(&mut self, port: usize);

    /// Slow periodic work between bursts (idle megaflow expiry); the PMD
    /// calls it every few milliseconds with the TSC.
    fn housekeeping(&mut self, _now: u64) {}
}
