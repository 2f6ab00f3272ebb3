//! The megaflow classifier: tuple-space search. Megaflows with the same mask
//! share a subtable, a hash table of their masked keys; a lookup tries the
//! subtables in order of how often they hit (re-ranked now and then) and
//! stops at the first match. Lookups go a whole burst at a time, with a
//! bitmap of the packets still unmatched.
//!
//! Megaflows installed by the upcall never overlap (each is proven to give
//! its packets the same actions as the rules would), so the first match is
//! the only one: no priorities are needed here. One classifier serves every
//! in_port; `in_port` is always part of the mask.
use super::masked_hash;
use crate::flow::key::FlowKey;
use crate::simd::{self, Isa, Slot, SubtableView, EMPTY_SLOT};

/// A megaflow: packets with `key & mask == key` get `value`.
#[derive(Debug, Clone)]
pub struct Megaflow<T> {
    /// The masked key.
    pub key: FlowKey,
    /// The mask.
    pub mask: FlowKey,
    /// What matching packets get (actions, counters, ...).
    pub value: T,
}

const EMPTY: u32 = EMPTY_SLOT;
const FREE: Slot = Slot { hash: 0, id: EMPTY };

/// One mask and the megaflows that use it.
struct Subtable {
    mask: FlowKey,
    /// Words the mask touches: the only ones hashed and compared.
    map: u32,
    /// Open addressing with linear probing, at most half full.
    slots: Vec<Slot>,
    len: usize,
    /// Hits since the last ranking.
    hits: u64,
    /// Lookups and the slots they read, since creation.
    probes: ProbeStats,
}

/// How long a subtable's probe chains are in use.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ProbeStats {
    /// Keys looked up in the subtable.
    pub lookups: u64,
    /// Slots read by those lookups (at least one each).
    pub slots_read: u64,
}

impl ProbeStats {
    /// Slots read per lookup (1.0 is ideal).
    pub fn average(&self) -> f64 {
        if self.lookups == 0 {
            0.0
        } else {
            self.slots_read as f64 / self.lookups as f64
        }
    }
}

/// What `subtables` reports of one subtable.
#[derive(Debug, Clone)]
pub struct SubtableInfo {
    /// The subtable's mask.
    pub mask: FlowKey,
    /// Megaflows in it.
    pub megaflows: usize,
    /// Its probe statistics since creation.
    pub probes: ProbeStats,
}

impl Subtable {
    fn new(mask: FlowKey) -> Self {
        Subtable {
            mask,
            map: mask.nonzero_map(),
            slots: vec![FREE; 8],
            len: 0,
            hits: 0,
            probes: ProbeStats::default(),
        }
    }

    #[inline(always)]
    fn hash(&self, key: &FlowKey) -> u64 {
        masked_hash(key, &self.mask, self.map)
    }

    #[inline(always)]
    fn next(&self, i: usize) -> usize {
        (i + 1) & (self.slots.len() - 1)
    }

    #[inline(always)]
    fn home(&self, h: u64) -> usize {
        (h as usize) & (self.slots.len() - 1)
    }

    /// Puts `id` (hash `h`) in the first free slot of its chain.
    fn place(&mut self, h: u64, id: u32) {
        let mut i = self.home(h);
        while self.slots[i].id != EMPTY {
            i = self.next(i);
        }
        self.slots[i] = Slot { hash: h as u32, id };
    }
}

/// Lookup statistics since creation.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DpclsStats {
    /// Packets matched.
    pub hits: u64,
    /// Packets not matched.
    pub misses: u64,
    /// Subtables searched for the packets matched (for the average).
    pub subtables_searched: u64,
}

/// The classifier.
pub struct Dpcls<T> {
    subtables: Vec<Subtable>,
    flows: Vec<Option<Megaflow<T>>>,
    /// Each live flow's full hash, to re-place it when its subtable grows
    /// or a deletion shifts its chain.
    hashes: Vec<u64>,
    free: Vec<u32>,
    stats: DpclsStats,
    /// The subtable lookup variant.
    lookup_isa: Isa,
}

impl<T> Default for Dpcls<T> {
    fn default() -> Self {
        Dpcls {
            subtables: Vec::new(),
            flows: Vec::new(),
            hashes: Vec::new(),
            free: Vec::new(),
            stats: DpclsStats::default(),
            lookup_isa: Isa::Scalar,
        }
    }
}

impl<T> Dpcls<T> {
    /// An empty classifier.
    pub fn new() -> Self {
        Self::default()
    }

    /// Chooses the subtable lookup variant (scalar where the CPU lacks it).
    pub fn set_lookup(&mut self, isa: Isa) {
        self.lookup_isa = isa;
    }

    /// The subtable lookup variant chosen.
    pub fn lookup_variant(&self) -> Isa {
        self.lookup_isa
    }

    /// Installs a megaflow; `key` is masked here. Returns its id, stable
    /// until it is removed.
    pub fn insert(&mut self, key: &FlowKey, mask: &FlowKey, value: T) -> u32 {
        let key = key.masked(mask);
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.flows.push(None);
                self.hashes.push(0);
                (self.flows.len() - 1) as u32
            }
        };
        self.flows[id as usize] = Some(Megaflow {
            key,
            mask: *mask,
            value,
        });
        let s = match self.subtables.iter().position(|s| s.mask == *mask) {
            Some(s) => s,
            None => {
                self.subtables.push(Subtable::new(*mask));
                self.subtables.len() - 1
            }
        };
        let st = &mut self.subtables[s];
        if (st.len + 1) * 2 > st.slots.len() {
            let grown = vec![FREE; st.slots.len() * 2];
            let old = std::mem::replace(&mut st.slots, grown);
            for slot in old.into_iter().filter(|s| s.id != EMPTY) {
                st.place(self.hashes[slot.id as usize], slot.id);
            }
        }
        let h = st.hash(&key);
        self.hashes[id as usize] = h;
        st.place(h, id);
        st.len += 1;
        id
    }

    /// Removes a megaflow; returns it. Its id may be reused afterwards.
    pub fn remove(&mut self, id: u32) -> Option<Megaflow<T>> {
        let f = self.flows.get_mut(id as usize)?.take()?;
        let s = self
            .subtables
            .iter()
            .position(|s| s.mask == f.mask)
            .expect("flow's subtable");
        let st = &mut self.subtables[s];
        let mut i = st.home(self.hashes[id as usize]);
        while st.slots[i].id != id {
            i = st.next(i);
        }
        // Backward-shift deletion keeps every probe chain unbroken.
        st.slots[i] = FREE;
        let mut j = st.next(i);
        while st.slots[j].id != EMPTY {
            let moved = std::mem::replace(&mut st.slots[j], FREE);
            st.place(self.hashes[moved.id as usize], moved.id);
            j = st.next(j);
        }
        st.len -= 1;
        if st.len == 0 {
            self.subtables.remove(s);
        }
        self.free.push(id);
        Some(f)
    }

    /// The megaflow with this id.
    #[inline(always)]
    pub fn get(&self, id: u32) -> Option<&Megaflow<T>> {
        self.flows.get(id as usize)?.as_ref()
    }

    /// The megaflow with this id, writable (its value, not its match).
    #[inline(always)]
    pub fn value_mut(&mut self, id: u32) -> Option<&mut T> {
        self.flows
            .get_mut(id as usize)?
            .as_mut()
            .map(|f| &mut f.value)
    }

    /// Whether flow `id` exists and matches `key` (an SMC candidate check).
    #[inline(always)]
    pub fn matches(&self, id: u32, key: &FlowKey) -> bool {
        self.get(id).is_some_and(|f| key.masked(&f.mask) == f.key)
    }

    /// Looks one key up.
    pub fn lookup(&mut self, key: &FlowKey) -> Option<u32> {
        let mut out = [EMPTY; 1];
        self.lookup_batch(std::slice::from_ref(key), 1, &mut out);
        (out[0] != EMPTY).then_some(out[0])
    }

    /// Looks up the keys whose bit is set in `todo` (bit i = `keys[i]`, at
    /// most 32), writing flow ids to `out`; returns the bitmap of keys left
    /// unmatched. Subtables are tried in rank order, each for every key still
    /// unmatched.
    pub fn lookup_batch(&mut self, keys: &[FlowKey], todo: u32, out: &mut [u32]) -> u32 {
        let mut left = todo;
        for (rank, st) in self.subtables.iter_mut().enumerate() {
            if left == 0 {
                break;
            }
            let view = SubtableView {
                mask: &st.mask,
                map: st.map,
                slots: &st.slots,
            };
            let flows = &self.flows;
            let stored = |id: u32| {
                &flows[id as usize]
                    .as_ref()
                    .expect("slots hold live flows")
                    .key
            };
            let found = simd::subtable_lookup(self.lookup_isa, &view, stored, keys, left, out);
            let hits = u64::from(found.hits.count_ones());
            st.probes.lookups += u64::from(left.count_ones());
            left &= !found.hits;
            st.probes.slots_read += found.slots_read;
            st.hits += hits;
            self.stats.hits += hits;
            self.stats.subtables_searched += hits * (rank as u64 + 1);
        }
        self.stats.misses += left.count_ones() as u64;
        left
    }

    /// Sorts subtables by hits since the last ranking, busiest first, so
    /// that most packets match in the first subtable tried.
    pub fn rerank(&mut self) {
        self.subtables.sort_by_key(|s| std::cmp::Reverse(s.hits));
        for s in self.subtables.iter_mut() {
            s.hits = 0;
        }
    }

    /// Lookup statistics.
    pub fn stats(&self) -> DpclsStats {
        self.stats
    }

    /// Number of megaflows.
    pub fn len(&self) -> usize {
        self.flows.len() - self.free.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One past the highest id ever given (ids below it may be free).
    pub fn id_space(&self) -> u32 {
        self.flows.len() as u32
    }

    /// Number of subtables (distinct masks).
    pub fn subtable_count(&self) -> usize {
        self.subtables.len()
    }

    /// Each subtable's mask, size and probe statistics, in rank order.
    pub fn subtables(&self) -> Vec<SubtableInfo> {
        self.subtables
            .iter()
            .map(|s| SubtableInfo {
                mask: s.mask,
                megaflows: s.len,
                probes: s.probes,
            })
            .collect()
    }

    /// Every megaflow with its id.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Megaflow<T>)> {
        self.flows
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.as_ref().map(|f| (i as u32, f)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::key::Field;
    use proptest::prelude::*;

    fn key(port: u32, src: u32, dst: u32, tp: u16) -> FlowKey {
        let mut k = FlowKey::ZERO;
        k.set(Field::InPort, port as u128);
        k.set(Field::DlType, 0x0800);
        k.set(Field::NwSrc, src as u128);
        k.set(Field::NwDst, dst as u128);
        k.set(Field::TpDst, tp as u128);
        k
    }

    fn mask(src_bits: u32, dst_bits: u32, tp: bool) -> FlowKey {
        let pfx = |b: u32| {
            if b == 0 {
                0u128
            } else {
                (u32::MAX << (32 - b)) as u128
            }
        };
        let mut m = FlowKey::ZERO;
        m.set(Field::InPort, u32::MAX as u128);
        m.set(Field::DlType, 0xffff);
        m.set(Field::NwSrc, pfx(src_bits));
        m.set(Field::NwDst, pfx(dst_bits));
        if tp {
            m.set(Field::TpDst, 0xffff);
        }
        m
    }

    #[test]
    fn insert_lookup_remove() {
        let mut c = Dpcls::new();
        let a = c.insert(&key(1, 0, 0x0a000000, 0), &mask(0, 8, false), "10/8");
        let b = c.insert(&key(1, 0, 0xc0a80101, 80), &mask(0, 32, true), "host:80");
        assert_eq!(c.subtable_count(), 2);
        assert_eq!(c.lookup(&key(1, 5, 0x0a010203, 9)), Some(a));
        assert_eq!(c.lookup(&key(1, 5, 0xc0a80101, 80)), Some(b));
        assert_eq!(c.lookup(&key(2, 5, 0xc0a80101, 80)), None, "other in_port");
        assert_eq!(c.remove(a).unwrap().value, "10/8");
        assert_eq!(c.lookup(&key(1, 5, 0x0a010203, 9)), None);
        assert_eq!(c.subtable_count(), 1);
        assert!(c.matches(b, &key(1, 1, 0xc0a80101, 80)));
    }

    #[test]
    fn batch_lookup_and_ranking() {
        let mut c = Dpcls::new();
        for i in 0..50u32 {
            c.insert(&key(1, 0, i << 8, 0), &mask(0, 32 - (i % 10), false), i);
        }
        let keys: Vec<_> = (0..32u32).map(|i| key(1, 7, (i << 8) | 1, 3)).collect();
        let mut out = [EMPTY; 32];
        let left = c.lookup_batch(&keys, u32::MAX, &mut out);
        for i in 0..32 {
            if left & (1 << i) == 0 {
                assert!(c.matches(out[i], &keys[i]));
            }
        }
        c.rerank();
        let before = c.stats();
        assert!(before.hits > 0);
    }

    /// An ACL's megaflows: source /24 prefixes, a masked source port, an
    /// exact destination port. The keys differ only in high bits of their
    /// words, which a weak hash leaves out of the slot index.
    fn acl_megaflows(n: u32) -> (Vec<FlowKey>, FlowKey) {
        let mut m = mask(24, 0, true);
        m.set(Field::NwProto, 0xff);
        m.set(Field::TpSrc, 0xfffc);
        let keys = (0..n)
            .map(|i| {
                let mut k = key(1, 0x0a00_0000 | ((i % 200) << 8), 0, 5001);
                k.set(Field::NwProto, 17);
                k.set(Field::TpSrc, ((i / 200) << 2) as u128);
                k
            })
            .collect();
        (keys, m)
    }

    #[test]
    fn probe_chains_stay_short_for_keys_differing_in_high_bits() {
        let (keys, m) = acl_megaflows(4000);
        let mut c = Dpcls::new();
        let ids: Vec<u32> = keys.iter().map(|k| c.insert(k, &m, ())).collect();
        for (k, id) in keys.iter().zip(&ids) {
            let mut probe = *k;
            probe.set(Field::TpSrc, k.get(Field::TpSrc) | 3);
            probe.set(Field::NwSrc, k.get(Field::NwSrc) | 0x55);
            assert_eq!(c.lookup(&probe), Some(*id));
        }
        let info = c.subtables();
        assert_eq!(info.len(), 1);
        let avg = info[0].probes.average();
        assert!(avg < 2.0, "{avg:.1} slots read per lookup");
    }

    #[test]
    fn masked_hash_spreads_every_bit_range_of_every_word() {
        // 4096 keys differing only in 12 bits at one place; a good hash puts
        // 4 in each of 1024 buckets on average, none much over.
        for word in 0..crate::flow::key::FLOW_WORDS {
            for shift in [0u32, 16, 32, 52] {
                let mut m = FlowKey::ZERO;
                m.words[word] = u64::MAX;
                let map = m.nonzero_map();
                let mut load = vec![0u32; 1024];
                for v in 0..4096u64 {
                    let mut k = FlowKey::ZERO;
                    k.words[word] = v << shift;
                    load[(masked_hash(&k, &m, map) & 1023) as usize] += 1;
                }
                let worst = *load.iter().max().unwrap();
                assert!(
                    worst <= 16,
                    "word {word} bits {shift}+: {worst} keys in one bucket"
                );
            }
        }
    }

    proptest! {
        /// Random non-overlapping megaflows (distinct in_port per flow makes
        /// them disjoint): the classifier agrees with a linear scan, before
        /// and after random removals.
        #[test]
        fn agrees_with_a_linear_scan(
            flows in proptest::collection::vec((any::<u32>(), 0u32..=32, any::<bool>(), any::<u16>()), 1..60),
            probes in proptest::collection::vec((0u32..60, any::<u32>(), any::<u16>()), 1..100),
            removals in proptest::collection::vec(0usize..60, 0..30),
        ) {
            let mut c = Dpcls::new();
            let mut live: Vec<(u32, FlowKey, FlowKey)> = Vec::new();
            for (i, (dst, bits, tp, port)) in flows.iter().enumerate() {
                let m = mask(0, *bits, *tp);
                let k = key(i as u32, 0, *dst, *port);
                let id = c.insert(&k, &m, i);
                live.push((id, k.masked(&m), m));
            }
            for r in removals {
                if r < live.len() {
                    let (id, _, _) = live.remove(r);
                    prop_assert!(c.remove(id).is_some());
                }
            }
            for (port, dst, tp) in probes {
                let k = key(port, 9, dst, tp);
                let want = live.iter().find(|(_, fk, m)| k.masked(m) == *fk).map(|x| x.0);
                prop_assert_eq!(c.lookup(&k), want);
            }
            prop_assert_eq!(c.len(), live.len());
        }
    }
}
