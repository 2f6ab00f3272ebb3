//! The counters front-ends read: each PMD's since the last clear, and each
//! port's summed over the PMDs.
use super::Switch;
use crate::pmd::stats::{PmdSnapshot, PortCounters};

impl Switch {
    /// TSC ticks per second (cycle counters divide by it).
    pub fn tsc_hz(&self) -> u64 {
        self.tsc_hz
    }

    /// Each PMD's counters since the last `pmd-stats-clear`.
    pub fn pmd_snapshots(&self) -> Vec<PmdSnapshot> {
        self.pmds
            .iter()
            .zip(&self.baselines)
            .map(|(p, b)| p.stats.snapshot().since(b))
            .collect()
    }

    /// Makes the PMD counters read zero from now on.
    pub fn clear_pmd_stats(&mut self) {
        self.baselines = self.pmds.iter().map(|p| p.stats.snapshot()).collect();
    }

    /// One counter of the port in `slot`, summed over the PMDs (each
    /// counts what it received from and sent to the port).
    pub fn port_counter(&self, slot: usize, f: fn(&PortCounters) -> u64) -> u64 {
        self.pmds.iter().map(|pmd| f(&pmd.stats.ports[slot])).sum()
    }
}
