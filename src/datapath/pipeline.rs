//! The datapath as a PMD pipeline over DPDK mbufs.
use super::Datapath;
use super::DatapathUpdate;
use crate::cache::bits;
use crate::dpdk::{Mbuf, MbufBurst, BURST_SIZE};
use crate::flow::actions::{self, DpAction, DropReason as ActionDrop, OutputSink};
use crate::flow::hash::flow_hash_words;
use crate::packet::buf::PacketBuf;
use crate::packet::extract::{extract_burst, Extracted};
use crate::packet::proto::ETH_HLEN;
use crate::pmd::output::OutputBatches;
use crate::pmd::pipeline::Pipeline;
use crate::pmd::stats::{DropReason, PmdStats, Stage, StageClock};
use crate::simd::flow_hash_burst;

const NO_FLOW: u32 = u32::MAX;
const NOT_EXTRACTED: Extracted = Extracted {
    map: 0,
    l3_ofs: 0,
    l4_ofs: 0,
    malformed: None,
};

/// Where executed packets go: the PMD's output batches, by OpenFlow port.
struct Sink<'a> {
    out: &'a mut OutputBatches,
    stats: &'a PmdStats,
    slot_of_ofport: &'a [u16],
}

impl OutputSink<Mbuf> for Sink<'_> {
    #[inline(always)]
    fn output(&mut self, port: u32, pkt: Mbuf) {
        match self.slot_of_ofport.get(port as usize).copied() {
            Some(s) if s != 0 => self.out.push(s as usize - 1, pkt, self.stats),
            _ => self.stats.drop(DropReason::NoOutput, 1),
        }
    }

    fn clone_pkt(&mut self, pkt: &Mbuf) -> Option<Mbuf> {
        let c = pkt.deep_copy();
        if c.is_none() {
            self.stats.drop(DropReason::NoBuffer, 1);
        }
        c
    }

    fn drop_pkt(&mut self, pkt: Mbuf, why: ActionDrop) {
        drop(pkt);
        self.stats.drop(
            match why {
                ActionDrop::NoOutput => DropReason::NoOutput,
                ActionDrop::Explicit => DropReason::Action,
                ActionDrop::TtlExpired => DropReason::TtlExpired,
                ActionDrop::NoHeadroom => DropReason::NoBuffer,
            },
            1,
        );
    }
}

impl Datapath {
    /// Finds the megaflow of every packet of the burst, stage by stage;
    /// each stage takes the packets the ones before left unmatched (a
    /// bitmap) and returns what it leaves.
    pub(crate) fn classify<P: PacketBuf>(
        &mut self,
        pkts: &[P],
        in_port: u32,
        now: u64,
        flow: &mut [u32; BURST_SIZE],
        stats: &PmdStats,
    ) {
        let mut clock = StageClock::start(stats);
        let mut hashes = [0u32; BURST_SIZE];
        let todo = self.extract_and_hash(pkts, in_port, &mut hashes, stats);
        clock.lap(Stage::Extract);
        let mut left = self.emc_lookup(todo, &hashes, flow, stats);
        clock.lap(Stage::Emc);
        if self.smc.is_some() {
            left = self.smc_lookup(left, &hashes, flow, stats);
            clock.lap(Stage::Smc);
        }
        if left != 0 {
            let missed = self.dpcls_lookup(left, &hashes, flow, stats);
            clock.lap(Stage::Dpcls);
            if missed != 0 {
                self.upcall_misses(missed, &hashes, now, flow, stats);
                clock.lap(Stage::Upcall);
            }
        }
        self.rerank_in = self.rerank_in.saturating_sub(pkts.len() as u32);
        if self.rerank_in == 0 {
            self.dpcls.rerank();
            self.rerank_in = super::RERANK_EVERY;
        }
    }

    /// Extraction of every packet's flow key into `self.keys` and its hash;
    /// returns the packets that can be switched (a runt is dropped: its
    /// flow stays NO_FLOW).
    #[inline(always)]
    fn extract_and_hash<P: PacketBuf>(
        &mut self,
        pkts: &[P],
        in_port: u32,
        hashes: &mut [u32; BURST_SIZE],
        stats: &PmdStats,
    ) -> u32 {
        let n = pkts.len();
        let mut frames: [&[u8]; BURST_SIZE] = [&[]; BURST_SIZE];
        let mut todo: u32 = 0;
        for (i, p) in pkts.iter().enumerate() {
            if let Some(next) = pkts.get(i + 1) {
                next.prefetch();
            }
            frames[i] = p.data();
            // Shorter than an Ethernet header: dropped, its flow NO_FLOW.
            todo |= ((frames[i].len() >= ETH_HLEN) as u32) << i;
        }
        let mut xs = [NOT_EXTRACTED; BURST_SIZE];
        extract_burst(
            self.simd.parser,
            &frames[..n],
            todo,
            in_port,
            &mut self.keys[..],
            &mut xs,
        );
        let mut words = [0u32; BURST_SIZE];
        let mut unhashed = 0;
        let mut partial = 0;
        for i in bits(todo) {
            partial += xs[i].malformed.is_some() as u64;
            match pkts[i].rss_hash() {
                Some(h) => hashes[i] = h,
                None => {
                    words[i] = flow_hash_words(xs[i].map);
                    unhashed |= 1 << i;
                }
            }
        }
        flow_hash_burst(self.simd.hash, &self.keys[..], &words, unhashed, hashes);
        if partial > 0 {
            stats.lookups.partial_parse.add(partial);
        }
        todo
    }

    /// Exact-match cache lookups; returns the packets it did not match.
    #[inline(always)]
    fn emc_lookup(
        &mut self,
        todo: u32,
        hashes: &[u32; BURST_SIZE],
        flow: &mut [u32; BURST_SIZE],
        stats: &PmdStats,
    ) -> u32 {
        let mut left = todo;
        for i in bits(todo) {
            if let Some(&id) = self.emc.lookup(&self.keys[i], hashes[i]) {
                flow[i] = id;
                left &= !(1 << i);
            }
        }
        stats
            .lookups
            .emc_hits
            .add((todo ^ left).count_ones() as u64);
        left
    }

    /// Signature match cache lookups, each candidate checked against its
    /// megaflow; a hit goes into the EMC. Returns the packets left.
    #[inline(always)]
    fn smc_lookup(
        &mut self,
        todo: u32,
        hashes: &[u32; BURST_SIZE],
        flow: &mut [u32; BURST_SIZE],
        stats: &PmdStats,
    ) -> u32 {
        let Some(smc) = &self.smc else { return todo };
        let mut left = todo;
        for i in bits(todo) {
            if let Some(id) = smc
                .lookup(hashes[i])
                .filter(|id| self.dpcls.matches(*id, &self.keys[i]))
            {
                flow[i] = id;
                left &= !(1 << i);
                self.emc.insert(&self.keys[i], hashes[i], id);
            }
        }
        stats
            .lookups
            .smc_hits
            .add((todo ^ left).count_ones() as u64);
        left
    }

    /// The megaflow classifier, the whole burst at once; hits go into the
    /// caches. Returns the packets it did not match.
    #[inline(always)]
    fn dpcls_lookup(
        &mut self,
        todo: u32,
        hashes: &[u32; BURST_SIZE],
        flow: &mut [u32; BURST_SIZE],
        stats: &PmdStats,
    ) -> u32 {
        let before = self.dpcls.stats();
        let missed = self.dpcls.lookup_batch(&self.keys[..], todo, flow);
        let after = self.dpcls.stats();
        stats.lookups.megaflow_hits.add(after.hits - before.hits);
        stats
            .lookups
            .subtable_lookups
            .add(after.subtables_searched - before.subtables_searched);
        for i in bits(todo & !missed) {
            self.remember(i, hashes[i], flow[i]);
        }
        missed
    }

    /// Translates each missed packet through the rule tables and installs
    /// its megaflow (an earlier miss of the burst may have installed one
    /// that covers it already).
    fn upcall_misses(
        &mut self,
        missed: u32,
        hashes: &[u32; BURST_SIZE],
        now: u64,
        flow: &mut [u32; BURST_SIZE],
        stats: &PmdStats,
    ) {
        for i in bits(missed) {
            let id = match self.dpcls.lookup(&self.keys[i]) {
                Some(id) => id,
                None => {
                    stats.lookups.upcalls.add(1);
                    let key = self.keys[i];
                    self.upcall(&key, now)
                }
            };
            flow[i] = id;
            // Past the flow limit the megaflow goes after this burst.
            if !self.is_transient(id) {
                self.remember(i, hashes[i], id);
            }
        }
    }

    /// Puts packet `i`'s flow into the EMC (and the SMC).
    #[inline(always)]
    fn remember(&mut self, i: usize, hash: u32, id: u32) {
        self.emc.insert(&self.keys[i], hash, id);
        if let Some(smc) = &mut self.smc {
            smc.insert(hash, id);
        }
    }

    /// The simple-match path: every packet's flow from its few simple
    /// fields, or None (nothing decided) if any packet needs the full path.
    /// Returns whether the whole burst is one flow, and its bytes.
    /// Consecutive packets with the same simple words share the previous
    /// one's lookup.
    #[inline(always)]
    pub(crate) fn classify_simple<P: PacketBuf>(
        &self,
        pkts: &[P],
        in_slot: usize,
        in_port: u32,
        flow: &mut [u32; BURST_SIZE],
    ) -> Option<(bool, u64)> {
        let sp = self.simple.get(in_slot).filter(|s| s.usable())?;
        if let Some(id) = sp.port_only_flow(in_port) {
            let mut bytes = 0u64;
            for p in pkts {
                let len = p.data().len();
                if len < ETH_HLEN {
                    return None; // a runt: the full path drops and counts it
                }
                bytes += len as u64;
            }
            flow[..pkts.len()].fill(id);
            return Some((true, bytes));
        }
        let mut last = None;
        let mut one_flow = true;
        let mut bytes = 0u64;
        for (i, p) in pkts.iter().enumerate() {
            // Pools hold a whole frame in one segment (sized by MTU), so
            // the segment's length is the packet's.
            let d = p.data();
            bytes += d.len() as u64;
            let w = sp.words(d, in_port)?;
            let id = match last {
                Some((lw, id)) if lw == w => id,
                _ => {
                    let id = sp.find(w)?;
                    one_flow &= i == 0 || id == flow[0];
                    last = Some((w, id));
                    id
                }
            };
            flow[i] = id;
        }
        Some((one_flow, bytes))
    }
}

impl Pipeline for Datapath {
    type Update = DatapathUpdate;

    fn process(
        &mut self,
        in_slot: usize,
        burst: &mut MbufBurst,
        out: &mut OutputBatches,
        stats: &PmdStats,
    ) {
        if self.revalidate_if_changed() > 0 {
            stats.lookups.revalidated.add(1);
        }
        let n = burst.len();
        let now = out.now();
        let in_port = self.ofport_of_slot.get(in_slot).copied().unwrap_or(0);
        if in_port == 0 {
            // A queue polled before this PMD knows its port's number (the
            // switch orders things so that it is not): a megaflow for "no
            // port" would outlive the gap, so these are not classified.
            stats.drop(DropReason::UpcallFailed, burst.free_all() as u64);
            return;
        }
        let mut flow = [NO_FLOW; BURST_SIZE];
        let mut clock = StageClock::start(stats);
        let simple = self.classify_simple(burst.as_slice(), in_slot, in_port, &mut flow);
        clock.lap(Stage::Simple);
        let one_flow: Option<u64> = match simple {
            Some((one, bytes)) => {
                stats.lookups.simple_hits.add(n as u64);
                one.then_some(bytes)
            }
            None => {
                self.classify(burst.as_slice(), in_port, now, &mut flow, stats);
                (flow[0] != NO_FLOW && flow[..n].iter().all(|f| *f == flow[0]))
                    .then(|| burst.as_slice().iter().map(|m| m.len() as u64).sum())
            }
        };
        let mut clock = StageClock::start(stats);
        self.execute(burst, &flow, one_flow, now, out, stats);
        // Includes sending the output batches that filled on the way.
        clock.lap(Stage::Actions);
        if self.has_transient() {
            let n = self.drop_transient();
            stats.lookups.uninstalled.add(n as u64);
        }
    }

    fn housekeeping(&mut self, now: u64) {
        self.expire_idle(now);
    }

    fn update(&mut self, u: &DatapathUpdate) {
        self.apply_update(u)
    }

    fn port_removed(&mut self, _port: usize) {
        // Ports and forwarding live in the rule tables: the control thread
        // changed them there and bumped the generation.
        self.revalidate_if_changed();
    }
}

impl Datapath {
    /// Runs each packet's megaflow actions (`flow[i]`, or the burst's one
    /// flow and its bytes in `one_flow`), in arrival order within a flow.
    #[inline(always)]
    fn execute(
        &mut self,
        burst: &mut MbufBurst,
        flow: &[u32; BURST_SIZE],
        one_flow: Option<u64>,
        now: u64,
        out: &mut OutputBatches,
        stats: &PmdStats,
    ) {
        let n = burst.len();

        // One megaflow for the whole burst whose only action is an output
        // (the common case): the burst moves to the output batch whole.
        if let (true, Some(bytes)) = (n > 0, one_flow) {
            if let Some(entry) = self.dpcls.value_mut(flow[0]) {
                entry.packets += n as u64;
                entry.bytes += bytes;
                entry.used = now;
                if let [DpAction::Output(p)] = *entry.actions {
                    if let Some(&s) = self.slot_of_ofport.get(p as usize).filter(|s| **s != 0) {
                        out.push_burst(s as usize - 1, burst, stats);
                        return;
                    }
                }
                let mut sink = Sink {
                    out,
                    stats,
                    slot_of_ofport: &self.slot_of_ofport,
                };
                actions::execute(&entry.actions, burst.drain(), &mut sink);
                return;
            }
        }

        // Otherwise in arrival order, a run of same-megaflow packets at a time.
        let Datapath {
            dpcls,
            slot_of_ofport,
            ..
        } = self;
        let mut sink = Sink {
            out,
            stats,
            slot_of_ofport,
        };
        let mut pkts = burst.drain();
        let mut i = 0;
        while i < n {
            let id = flow[i];
            let mut j = i + 1;
            while j < n && flow[j] == id {
                j += 1;
            }
            let run = pkts.by_ref().take(j - i);
            match (id != NO_FLOW).then(|| dpcls.value_mut(id)).flatten() {
                Some(entry) => {
                    entry.packets += (j - i) as u64;
                    entry.used = now;
                    let mut bytes = 0u64;
                    let counted = run.inspect(|m| bytes += m.len() as u64);
                    match *entry.actions {
                        // One output and nothing else: no action machinery.
                        [DpAction::Output(p)] => counted.for_each(|m| sink.output(p, m)),
                        _ => actions::execute(&entry.actions, counted, &mut sink),
                    }
                    entry.bytes += bytes;
                }
                None => {
                    let k = run.count() as u64;
                    stats.drop(DropReason::Malformed, k);
                }
            }
            i = j;
        }
    }

    fn apply_update(&mut self, u: &DatapathUpdate) {
        match u {
            DatapathUpdate::Revalidate => {
                self.revalidate_if_changed();
            }
            DatapathUpdate::PushRuleStats => self.push_rule_stats(),
            DatapathUpdate::DumpFlows(out) => {
                let now = crate::dpdk::lcore::rdtsc();
                out.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(self.dump(self.core, now));
            }
            DatapathUpdate::EmcInsertInvProb(p) => self.set_emc_inv_prob(*p),
            DatapathUpdate::Subtables(out) => {
                let report = (self.core, self.dpcls.subtables());
                out.lock().unwrap_or_else(|e| e.into_inner()).push(report);
            }
            DatapathUpdate::Simd(choice) => self.set_simd(*choice),
        }
    }
}
