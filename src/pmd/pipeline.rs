//! What a PMD does with a received burst. The PMD loop is generic over this,
//! so the per-packet path is monomorphised (no dynamic dispatch per packet).
use super::output::OutputBatches;
use super::stats::{DropReason, PmdStats, MAX_PORTS};
use crate::dpdk::MbufBurst;

/// One PMD's classifier subtables: its core, and each subtable (rank order).
pub type SubtableReport = (usize, Vec<crate::cache::dpcls::SubtableInfo>);

/// A change to a pipeline's configuration, applied between loop iterations.
#[derive(Debug, Clone)]
pub enum PipelineUpdate {
    /// Port `from` now forwards to `to` (None: nowhere).
    Xconnect {
        /// Input port index.
        from: usize,
        /// Output port index.
        to: Option<usize>,
    },
    /// A port went away: nothing may be sent to it any more.
    PortRemoved(usize),
    /// The shared rule tables changed: revalidate before the next packet.
    Revalidate,
    /// Add the megaflows' counts to their rules' counters.
    PushRuleStats,
    /// Append every megaflow held to the list.
    DumpFlows(std::sync::Arc<std::sync::Mutex<Vec<crate::datapath::dump::FlowDump>>>),
    /// Append the PMD's core and its classifier's subtables.
    Subtables(std::sync::Arc<std::sync::Mutex<Vec<SubtableReport>>>),
    /// Change the EMC insertion probability.
    EmcInsertInvProb(u32),
    /// Run these SIMD variants.
    Simd(crate::simd::SimdChoice),
}

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

    /// Applies a configuration change.
    fn update(&mut self, u: &PipelineUpdate);

    /// Slow periodic work between bursts (idle megaflow expiry); the PMD
    /// calls it every few milliseconds with the TSC.
    fn housekeeping(&mut self, _now: u64) {}
}

/// Static forwarding: everything from port `i` goes to `map[i]`.
#[derive(Clone, Debug)]
pub struct CrossConnect {
    map: Vec<Option<usize>>,
}

impl CrossConnect {
    /// A cross-connect over port indices.
    pub fn new(mut map: Vec<Option<usize>>) -> Self {
        map.resize(MAX_PORTS, None);
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

    fn update(&mut self, u: &PipelineUpdate) {
        match *u {
            PipelineUpdate::Xconnect { from, to } => {
                if let Some(slot) = self.map.get_mut(from) {
                    *slot = to;
                }
            }
            PipelineUpdate::Revalidate
            | PipelineUpdate::PushRuleStats
            | PipelineUpdate::DumpFlows(_)
            | PipelineUpdate::Subtables(_)
            | PipelineUpdate::EmcInsertInvProb(_)
            | PipelineUpdate::Simd(_) => {}
            PipelineUpdate::PortRemoved(p) => {
                for slot in self.map.iter_mut() {
                    if *slot == Some(p) {
                        *slot = None;
                    }
                }
                if let Some(slot) = self.map.get_mut(p) {
                    *slot = None;
                }
            }
        }
    }
}
