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

const EMPTY: u32 = u32::MAX;

/// One mask and the megaflows that use it.
struct Subtable {
    mask: FlowKey,
    /// Words the mask touches.
    map: u32,
    /// Open addressing with linear probing: flow ids, EMPTY when free.
    slots: Vec<u32>,
    len: usize,
    hits: u64,
}

impl Subtable {
    fn new(mask: FlowKey) -> Self {
        Subtable {
            mask,
            map: mask.nonzero_map(),
            slots: vec![EMPTY; 8],
            len: 0,
            hits: 0,
        }
    }

    #[inline(always)]
    fn home(&self, h: u64) -> usize {
        (h as usize) & (self.slots.len() - 1)
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
    free: Vec<u32>,
    stats: DpclsStats,
}

impl<T> Default for Dpcls<T> {
    fn default() -> Self {
        Dpcls {
            subtables: Vec::new(),
            flows: Vec::new(),
            free: Vec::new(),
            stats: DpclsStats::default(),
        }
    }
}

impl<T> Dpcls<T> {
    /// An empty classifier.
    pub fn new() -> Self {
        Self::default()
    }

    /// Installs a megaflow; `key` is masked here. Returns its id, stable
    /// until it is removed.
    pub fn insert(&mut self, key: &FlowKey, mask: &FlowKey, value: T) -> u32 {
        let key = key.masked(mask);
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.flows.push(None);
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
        let flows = &self.flows;
        let st = &mut self.subtables[s];
        if (st.len + 1) * 2 > st.slots.len() {
            let n = st.slots.len() * 2;
            Self::rehash(st, flows, n);
        }
        Self::place(st, flows, id);
        st.len += 1;
        id
    }

    fn place(st: &mut Subtable, flows: &[Option<Megaflow<T>>], id: u32) {
        let f = flows[id as usize].as_ref().expect("placing a live flow");
        let mut i = st.home(masked_hash(&f.key, &st.mask, st.map));
        while st.slots[i] != EMPTY {
            i = (i + 1) & (st.slots.len() - 1);
        }
        st.slots[i] = id;
    }

    fn rehash(st: &mut Subtable, flows: &[Option<Megaflow<T>>], n: usize) {
        let old = std::mem::replace(&mut st.slots, vec![EMPTY; n]);
        for id in old.into_iter().filter(|i| *i != EMPTY) {
            Self::place(st, flows, id);
        }
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
        let mut i = st.home(masked_hash(&f.key, &st.mask, st.map));
        while st.slots[i] != id {
            i = (i + 1) & (st.slots.len() - 1);
        }
        // Backward-shift deletion keeps every probe chain unbroken.
        st.slots[i] = EMPTY;
        let mut j = (i + 1) & (st.slots.len() - 1);
        while st.slots[j] != EMPTY {
            let moved = st.slots[j];
            st.slots[j] = EMPTY;
            let mf = self.flows[moved as usize].as_ref().expect("live");
            let mut k = st.home(masked_hash(&mf.key, &st.mask, st.map));
            while st.slots[k] != EMPTY {
                k = (k + 1) & (st.slots.len() - 1);
            }
            st.slots[k] = moved;
            j = (j + 1) & (st.slots.len() - 1);
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

    #[inline(always)]
    fn probe(&self, st: &Subtable, key: &FlowKey) -> Option<u32> {
        let mut i = st.home(masked_hash(key, &st.mask, st.map));
        loop {
            let id = st.slots[i];
            if id == EMPTY {
                return None;
            }
            let f = self.flows[id as usize]
                .as_ref()
                .expect("slots hold live flows");
            if key.masked(&st.mask) == f.key {
                return Some(id);
            }
            i = (i + 1) & (st.slots.len() - 1);
        }
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
        for (rank, s) in (0..self.subtables.len()).enumerate() {
            if left == 0 {
                break;
            }
            let mut m = left;
            let mut hits = 0;
            while m != 0 {
                let i = m.trailing_zeros() as usize;
                m &= m - 1;
                if let Some(id) = self.probe(&self.subtables[s], &keys[i]) {
                    out[i] = id;
                    left &= !(1 << i);
                    hits += 1;
                }
            }
            self.subtables[s].hits += hits;
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

    /// Number of subtables (distinct masks).
    pub fn subtable_count(&self) -> usize {
        self.subtables.len()
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
