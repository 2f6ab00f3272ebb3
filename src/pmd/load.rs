//! Measured load over a sliding window: per rx queue (processing cycles) and
//! per PMD (busy share). Sampled by the control thread once a second; read
//! by `pmd-rxq-show`, rebalancing and auto load balance.
use super::assign::RxqId;
use super::thread::PmdHandle;
use std::collections::{HashMap, VecDeque};

/// Samples kept: with one a second, the last this many seconds.
pub const WINDOW: usize = 10;

/// The load history.
#[derive(Debug, Default)]
pub struct LoadTracker {
    rxq_last: HashMap<RxqId, u64>,
    rxq_hist: HashMap<RxqId, VecDeque<u64>>,
    /// Per PMD: last (busy, total) counters and the window of deltas.
    pmd_last: Vec<(u64, u64)>,
    pmd_hist: Vec<VecDeque<(u64, u64)>>,
}

fn push<T>(q: &mut VecDeque<T>, v: T) {
    if q.len() == WINDOW {
        q.pop_front();
    }
    q.push_back(v);
}

impl LoadTracker {
    /// Takes one sample of every PMD and queue.
    pub fn sample<U: Send + 'static>(&mut self, pmds: &[PmdHandle<U>]) {
        self.pmd_last.resize(pmds.len(), (0, 0));
        self.pmd_hist.resize_with(pmds.len(), VecDeque::new);
        for (k, p) in pmds.iter().enumerate() {
            let s = &p.stats;
            let busy = s.busy_cycles.get();
            let total = busy + s.idle_cycles.get() + s.sleep_cycles.get();
            let (lb, lt) = self.pmd_last[k];
            push(
                &mut self.pmd_hist[k],
                (busy.saturating_sub(lb), total.saturating_sub(lt)),
            );
            self.pmd_last[k] = (busy, total);
            for q in &p.polls {
                let id = (q.port, q.queue);
                let c = q.stats.cycles.get();
                let last = self.rxq_last.insert(id, c).unwrap_or(c);
                push(self.rxq_hist.entry(id).or_default(), c.saturating_sub(last));
            }
        }
        // Forget queues that are gone.
        let live: std::collections::HashSet<RxqId> = pmds
            .iter()
            .flat_map(|p| p.polls.iter().map(|q| (q.port, q.queue)))
            .collect();
        self.rxq_hist.retain(|id, _| live.contains(id));
        self.rxq_last.retain(|id, _| live.contains(id));
    }

    /// Processing cycles of a queue over the window.
    pub fn rxq_load(&self, id: RxqId) -> u64 {
        self.rxq_hist.get(&id).map_or(0, |h| h.iter().sum())
    }

    /// Total cycles of PMD `k` over the window.
    pub fn pmd_cycles(&self, k: usize) -> u64 {
        self.pmd_hist
            .get(k)
            .map_or(0, |h| h.iter().map(|x| x.1).sum())
    }

    /// Busy share (0..=100) of PMD `k` over the window.
    pub fn pmd_busy_pct(&self, k: usize) -> f64 {
        let Some(h) = self.pmd_hist.get(k) else {
            return 0.0;
        };
        let (b, t) = h.iter().fold((0, 0), |a, x| (a.0 + x.0, a.1 + x.1));
        if t == 0 {
            0.0
        } else {
            100.0 * b as f64 / t as f64
        }
    }
}
