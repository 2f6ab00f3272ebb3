//! What a PMD does with a received burst. The PMD loop is generic over this,
//! so the per-packet path is monomorphised (no dynamic dispatch per packet).
use super::output::OutputBatches;
use super::stats::{DropReason, PmdStats};
use crate::dpdk::MbufBurst;

/// Per-PMD packet processing.
pub trait Pipeline: Send + 'static {
    /// Handles every packet of `burst` (received on port index `in_port`):
    /// each goes to `out` or is dropped and counted. The burst is empty after.
    fn process(
        &mut self,
        in_port: usize,
        burst: &mut MbufBurst,
        out: &mut OutputBatches,
        stats: &PmdStats,
    );
}

/// Static forwarding: everything from port `i` goes to `map[i]`.
#[derive(Clone, Debug)]
pub struct CrossConnect {
    map: Vec<Option<usize>>,
}

impl CrossConnect {
    /// A cross-connect over port indices.
    pub fn new(map: Vec<Option<usize>>) -> Self {
        CrossConnect { map }
    }
}

impl Pipeline for CrossConnect {
    #[inline]
    fn process(
        &mut self,
        in_port: usize,
        burst: &mut MbufBurst,
        out: &mut OutputBatches,
        stats: &PmdStats,
    ) {
        match self.map.get(in_port).copied().flatten() {
            Some(to) => out.push_burst(to, burst, stats),
            None => {
                let n = burst.free_all();
                stats.drop(DropReason::NoOutput, n as u64);
            }
        }
    }
}
