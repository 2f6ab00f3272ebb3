//! The datapath: what a PMD does with each packet once it is received.
//!
//! ```text
//! extract + hash -> EMC -> SMC -> dpcls (batch) -> upcall (rule tables)
//!                -> actions, per run of packets of one megaflow -> output batches
//! ```
//!
//! Each PMD owns its caches. The rule tables live in [`Shared`], behind a
//! mutex taken only on a miss (upcall) and on revalidation. Whenever the
//! rules, the ports or the MAC table change, the change is published by
//! bumping [`Shared::generation`]; a PMD that sees a new generation
//! revalidates every megaflow it holds before it processes another packet,
//! and the control thread waits for every PMD's acknowledgement before it
//! answers, so no cache serves a stale result after a change is acknowledged.
pub mod dump;
pub mod pipeline;
pub mod simple;

use crate::cache::dpcls::Dpcls;
use crate::cache::emc::Emc;
use crate::cache::smc::Smc;
pub use crate::config::DatapathConfig;
use crate::flow::actions::DpAction;
use crate::flow::key::{Field, FlowKey};
use crate::ofproto::table::Rule;
use crate::ofproto::xlate::{Ofproto, Revalidate};
use crate::simd::SimdChoice;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The slow path's state: rule tables and which OpenFlow port each port
/// slot has.
#[derive(Debug)]
pub struct SlowPath {
    /// Rule tables, MAC learning, ports for NORMAL.
    pub ofproto: Ofproto,
    /// OpenFlow port number of each port slot (None: free slot).
    pub ofports: Vec<Option<u32>>,
}

/// What the control thread and the PMDs share.
#[derive(Debug)]
pub struct Shared {
    /// The slow path, locked on upcalls and revalidation only.
    pub slow: Mutex<SlowPath>,
    /// Bumped after every change the caches must see.
    pub generation: AtomicU64,
    /// Cache settings.
    pub config: DatapathConfig,
    /// SIMD settings, changed through `ctl`: new PMDs start with them,
    /// running ones get them as a [`crate::pmd::DatapathUpdate::Simd`].
    pub simd: Mutex<crate::simd::SimdConfig>,
}

impl Shared {
    /// Shared state with `ofproto` and the port slots' OpenFlow numbers.
    pub fn new(ofproto: Ofproto, ofports: Vec<Option<u32>>, config: DatapathConfig) -> Self {
        Shared {
            slow: Mutex::new(SlowPath { ofproto, ofports }),
            generation: AtomicU64::new(1),
            config,
            simd: Mutex::default(),
        }
    }

    /// Publishes a change (the PMDs revalidate before their next packet).
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Locks the slow path.
    pub fn lock(&self) -> std::sync::MutexGuard<'_, SlowPath> {
        self.slow.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One PMD's classifier subtables: its core, and each subtable (rank order).
pub type SubtableReport = (usize, Vec<crate::cache::dpcls::SubtableInfo>);

/// A change the control thread sends a PMD's datapath (through its mailbox).
#[derive(Debug, Clone)]
pub enum DatapathUpdate {
    /// The shared rule tables changed: revalidate before the next packet.
    Revalidate,
    /// Add the megaflows' counts to their rules' counters.
    PushRuleStats,
    /// Append every megaflow held to the list.
    DumpFlows(Arc<Mutex<Vec<dump::FlowDump>>>),
    /// Append the PMD's core and its classifier's subtables.
    Subtables(Arc<Mutex<Vec<SubtableReport>>>),
    /// Change the EMC insertion probability.
    EmcInsertInvProb(u32),
    /// Run these SIMD variants.
    Simd(crate::simd::SimdChoice),
}

/// A megaflow's value in a PMD's classifier.
#[derive(Debug, Clone)]
pub struct FlowEntry {
    /// What matching packets get.
    pub actions: Arc<[DpAction]>,
    /// The rules the translation went through (their counters get this
    /// megaflow's packets when stats are pushed).
    pub rules: Arc<[Arc<Rule>]>,
    /// Packets and bytes that hit it.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
    /// Packets and bytes already added to the rules' counters.
    pushed: (u64, u64),
    /// TSC of the last hit.
    pub used: u64,
}

impl FlowEntry {
    /// Adds what this megaflow carried since the last push to its rules'
    /// counters.
    fn push_stats(&mut self) {
        let (p, b) = (self.packets - self.pushed.0, self.bytes - self.pushed.1);
        if p > 0 {
            for r in self.rules.iter() {
                r.stats.add(p, b);
            }
        }
        self.pushed = (self.packets, self.bytes);
    }
}

/// One PMD's caches and its view of the shared state.
pub struct Datapath {
    shared: Arc<Shared>,
    seen: u64,
    emc: Emc<u32>,
    smc: Option<Smc>,
    dpcls: Dpcls<FlowEntry>,
    /// OpenFlow number of each port slot (0: none).
    ofport_of_slot: Vec<u32>,
    /// Port slot + 1 of each OpenFlow number (0: none).
    slot_of_ofport: Vec<u16>,
    tsc_hz: u64,
    /// Lookups until the dpcls subtables are re-ranked.
    rerank_in: u32,
    /// The core of the PMD it belongs to (for dumps).
    core: usize,
    /// Scratch flow keys for a burst.
    keys: Box<[FlowKey; crate::dpdk::BURST_SIZE]>,
    /// The SIMD variants run.
    simd: SimdChoice,
    /// Simple-match state per input port slot.
    simple: Vec<simple::SimplePort>,
    simple_allowed: FlowKey,
    /// Idle time (TSC ticks) after which a megaflow is removed.
    max_idle: u64,
    /// The next megaflow id the idle sweep looks at.
    sweep_at: u32,
    /// Megaflows installed past the flow limit: removed after their burst.
    transient: Vec<u32>,
}

/// Megaflow ids the idle sweep looks at per housekeeping call (every 10 ms):
/// a 200,000-flow classifier is swept within half a second, in slices of a
/// few tens of microseconds.
const SWEEP_SLICE: u32 = 4096;

/// Packets between re-rankings of the dpcls subtables.
const RERANK_EVERY: u32 = 1 << 20;

impl Datapath {
    /// The datapath of the PMD on `core`, over `shared`.
    pub fn new(shared: Arc<Shared>, core: usize, tsc_hz: u64) -> Self {
        let c = &shared.config;
        let mut d = Datapath {
            emc: Emc::new(c.emc_insert_inv_prob),
            smc: c.smc.then(|| Smc::new(c.smc_entries)),
            dpcls: Dpcls::new(),
            seen: 0,
            ofport_of_slot: Vec::new(),
            slot_of_ofport: Vec::new(),
            tsc_hz: tsc_hz.max(1),
            rerank_in: RERANK_EVERY,
            core,
            keys: Box::new([FlowKey::ZERO; crate::dpdk::BURST_SIZE]),
            simd: SimdChoice::default(),
            simple: Vec::new(),
            simple_allowed: simple::simple_fields_mask(),
            max_idle: c.max_idle_ms.saturating_mul(tsc_hz.max(1) / 1000),
            sweep_at: 0,
            transient: Vec::new(),
            shared,
        };
        d.sync_ports();
        let simd = d
            .shared
            .simd
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .choice();
        d.set_simd(simd);
        d
    }

    /// Runs these SIMD variants from the next burst on.
    pub fn set_simd(&mut self, choice: SimdChoice) {
        self.simd = choice;
        self.dpcls.set_lookup(choice.lookup);
    }

    /// The SIMD variants run.
    pub fn simd(&self) -> SimdChoice {
        self.simd
    }

    fn sync_ports(&mut self) {
        let slow = self.shared.lock();
        self.ofport_of_slot = slow.ofports.iter().map(|o| o.unwrap_or(0)).collect();
        let max = slow.ofports.iter().flatten().max().copied().unwrap_or(0) as usize;
        self.slot_of_ofport = vec![0; max + 1];
        for (slot, of) in slow.ofports.iter().enumerate() {
            if let Some(of) = of {
                self.slot_of_ofport[*of as usize] = slot as u16 + 1;
            }
        }
    }

    /// Revalidates every megaflow if the shared state changed since the last
    /// look: each is re-translated; kept, given new actions, or removed.
    /// Returns how many changed.
    pub fn revalidate_if_changed(&mut self) -> u64 {
        let g = self.shared.generation.load(Ordering::Acquire);
        if g == self.seen {
            return 0;
        }
        self.seen = g;
        self.sync_ports();
        let now = crate::dpdk::lcore::rdtsc() / self.tsc_hz;
        let slow = self.shared.lock();
        let ids: Vec<u32> = self.dpcls.iter().map(|(id, _)| id).collect();
        let mut changed = 0;
        let mut removed = false;
        for id in ids {
            let f = self.dpcls.get(id).expect("listed");
            let (verdict, rules) = slow.ofproto.revalidate_attributed(
                &f.key,
                &f.mask,
                &f.value.actions,
                &f.value.rules,
                now,
            );
            if let (Some(rules), false) = (rules, verdict == Revalidate::Delete) {
                // What it counted so far belongs to the rules it stood for.
                let v = self.dpcls.value_mut(id).expect("listed");
                v.push_stats();
                v.rules = rules.into();
            }
            match verdict {
                Revalidate::Keep => {}
                Revalidate::Update(actions) => {
                    self.dpcls.value_mut(id).expect("listed").actions = actions;
                    changed += 1;
                }
                Revalidate::Delete => {
                    if let Some(mut f) = self.dpcls.remove(id) {
                        f.value.push_stats();
                    }
                    removed = true;
                    changed += 1;
                }
            }
        }
        drop(slow);
        if removed {
            // EMC entries name flow ids, which a new megaflow may reuse.
            // (SMC candidates are checked against the megaflow, so they stay.)
            self.emc.clear();
        }
        self.rebuild_simple();
        changed
    }

    /// Translates a missed packet through the rule tables and installs the
    /// megaflow; returns its id.
    fn upcall(&mut self, key: &FlowKey, now_tsc: u64) -> u32 {
        let now = now_tsc / self.tsc_hz;
        let mut slow = self.shared.lock();
        let before = slow.ofproto.generation();
        let x = slow.ofproto.upcall(key, now);
        let learned = slow.ofproto.generation() != before;
        drop(slow);
        if learned {
            // A new MAC: megaflows that flooded may now have one port to go to.
            self.shared.changed();
        }
        // dpif-netdev matches in_port exactly in every megaflow; a narrower
        // mask is always safe.
        let mut mask = x.mask;
        mask.set(Field::InPort, Field::InPort.full_mask());
        let entry = FlowEntry {
            actions: x.actions,
            rules: x.rules.into(),
            packets: 0,
            bytes: 0,
            pushed: (0, 0),
            used: now_tsc,
        };
        let full = self.dpcls.len() >= self.shared.config.flow_limit;
        let id = self.dpcls.insert(key, &mask, entry);
        if full {
            self.transient.push(id);
        } else {
            self.note_simple(id);
        }
        id
    }

    /// Whether megaflows installed past the flow limit wait for removal.
    #[inline(always)]
    pub(crate) fn has_transient(&self) -> bool {
        !self.transient.is_empty()
    }

    /// Whether megaflow `id` goes away after its burst (the flow limit).
    #[inline(always)]
    pub(crate) fn is_transient(&self, id: u32) -> bool {
        !self.transient.is_empty() && self.transient.contains(&id)
    }

    /// Removes the megaflows installed past the flow limit for the burst
    /// just executed; returns how many.
    pub(crate) fn drop_transient(&mut self) -> usize {
        let ids = std::mem::take(&mut self.transient);
        for id in &ids {
            self.remove_flow(*id);
        }
        ids.len()
    }

    /// Removes megaflow `id`, first adding what it carried to its rules'
    /// counters. The caller purges the EMC of its id.
    fn remove_flow(&mut self, id: u32) {
        if let Some(mut f) = self.dpcls.remove(id) {
            f.value.push_stats();
            let port = f.key.get(Field::InPort) as usize;
            if let Some(&s) = self.slot_of_ofport.get(port).filter(|s| **s != 0) {
                if let Some(sp) = self.simple.get_mut(s as usize - 1) {
                    sp.forget(id);
                }
            }
        }
    }

    /// Removes megaflows idle longer than `max_idle_ms`, looking at a slice
    /// of the classifier per call (the PMD calls it every 10 ms); returns
    /// how many went.
    pub fn expire_idle(&mut self, now_tsc: u64) -> usize {
        let ids = self.dpcls.id_space();
        if ids == 0 {
            return 0;
        }
        let mut gone = Vec::new();
        for _ in 0..SWEEP_SLICE.min(ids) {
            let id = self.sweep_at % ids;
            self.sweep_at = (id + 1) % ids;
            if self
                .dpcls
                .get(id)
                .is_some_and(|f| now_tsc.saturating_sub(f.value.used) > self.max_idle)
            {
                gone.push(id);
            }
        }
        if !gone.is_empty() {
            for id in &gone {
                self.remove_flow(*id);
            }
            // Their ids may be reused by new megaflows.
            gone.sort_unstable();
            self.emc.retain(|id| gone.binary_search(id).is_err());
        }
        gone.len()
    }

    /// Files megaflow `id` under its input port's simple-match state.
    fn note_simple(&mut self, id: u32) {
        let Some(f) = self.dpcls.get(id) else { return };
        let port = f.key.get(Field::InPort) as usize;
        let Some(slot) = self
            .slot_of_ofport
            .get(port)
            .filter(|s| **s != 0)
            .map(|s| *s as usize - 1)
        else {
            return;
        };
        if self.simple.len() <= slot {
            self.simple.resize_with(slot + 1, Default::default);
        }
        let (key, mask) = (f.key, f.mask);
        self.simple[slot].note(&key, &mask, id, &self.simple_allowed);
    }

    /// Recomputes the simple-match state from the megaflows held.
    fn rebuild_simple(&mut self) {
        self.simple.clear();
        let ids: Vec<u32> = self.dpcls.iter().map(|(id, _)| id).collect();
        for id in ids {
            self.note_simple(id);
        }
    }

    /// Adds what each megaflow carried since the last push to its rules' counters.
    pub fn push_rule_stats(&mut self) {
        let ids: Vec<u32> = self.dpcls.iter().map(|(id, _)| id).collect();
        for id in ids {
            self.dpcls.value_mut(id).expect("listed").push_stats();
        }
    }

    /// Every megaflow this PMD holds, for `dump-flows`.
    pub fn dump(&self, core: usize, now_tsc: u64) -> Vec<dump::FlowDump> {
        self.dpcls
            .iter()
            .map(|(_, f)| dump::FlowDump {
                core,
                key: f.key,
                mask: f.mask,
                actions: f.value.actions.clone(),
                packets: f.value.packets,
                bytes: f.value.bytes,
                used_s: now_tsc.saturating_sub(f.value.used) as f64 / self.tsc_hz as f64,
            })
            .collect()
    }

    /// Changes the EMC insertion probability (1/`inv_prob`; 0: EMC off).
    pub fn set_emc_inv_prob(&mut self, inv_prob: u32) {
        self.emc.set_inv_prob(inv_prob);
    }

    /// Megaflows held.
    pub fn flow_count(&self) -> usize {
        self.dpcls.len()
    }
}

#[cfg(test)]
mod tests;
