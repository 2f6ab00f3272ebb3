//! The exact-match cache: the full flow key of recently seen packets mapped
//! straight to their megaflow. Two candidate slots per key (picked by the
//! packet hash); a miss inserts only with probability 1/N so that a flood of
//! one-packet flows cannot wash out the flows that matter (OVS's
//! `emc-insert-inv-prob`).
use super::XorShift;
use crate::flow::key::{FlowKey, FLOW_WORDS};

/// Entries in an EMC (OVS's size).
pub const EMC_ENTRIES: usize = 8192;
const MASK: u32 = EMC_ENTRIES as u32 - 1;
/// Bits of the hash that pick the first slot; the next ones pick the second.
const SHIFT: u32 = 13;

/// The key is kept as plain words, not a 64-byte-aligned `FlowKey`: that
/// halves the entry (128 bytes instead of 256) and the cache's footprint.
#[derive(Clone)]
struct Entry<T> {
    key: [u64; FLOW_WORDS],
    hash: u32,
    value: T,
}

/// The cache.
pub struct Emc<T> {
    slots: Vec<Option<Entry<T>>>,
    /// Insert one miss in `inv_prob` (0: never insert, 1: always).
    inv_prob: u32,
    rng: XorShift,
}

impl<T: Clone> Emc<T> {
    /// An empty cache inserting one miss in `inv_prob`.
    pub fn new(inv_prob: u32) -> Self {
        Emc {
            slots: vec![None; EMC_ENTRIES],
            inv_prob,
            rng: XorShift::new(0x5eed_e3c0),
        }
    }

    /// Changes the insertion probability (1/`inv_prob`; 0 disables the EMC).
    pub fn set_inv_prob(&mut self, inv_prob: u32) {
        self.inv_prob = inv_prob;
        if inv_prob == 0 {
            self.clear();
        }
    }

    #[inline(always)]
    fn slots_of(hash: u32) -> [usize; 2] {
        [(hash & MASK) as usize, ((hash >> SHIFT) & MASK) as usize]
    }

    /// The value cached for exactly `key` (whose packet hash is `hash`).
    #[inline(always)]
    pub fn lookup(&self, key: &FlowKey, hash: u32) -> Option<&T> {
        if self.inv_prob == 0 {
            return None;
        }
        for i in Self::slots_of(hash) {
            if let Some(e) = &self.slots[i] {
                if e.hash == hash && FlowKey::same_words(&e.key, &key.words) {
                    return Some(&e.value);
                }
            }
        }
        None
    }

    /// Maybe caches `value` for `key` (after a miss), by the insertion
    /// probability. An existing entry for the key is always updated.
    #[inline]
    pub fn insert(&mut self, key: &FlowKey, hash: u32, value: T) {
        if self.inv_prob == 0 {
            return;
        }
        let [a, b] = Self::slots_of(hash);
        for i in [a, b] {
            if let Some(e) = &mut self.slots[i] {
                if e.hash == hash && FlowKey::same_words(&e.key, &key.words) {
                    e.value = value;
                    return;
                }
            }
        }
        if self.inv_prob > 1 && !self.rng.next_u64().is_multiple_of(self.inv_prob as u64) {
            return;
        }
        // An empty slot if there is one, else the second way (the first
        // way's occupant is likelier to be the older, hotter flow).
        let i = if self.slots[a].is_none() { a } else { b };
        self.slots[i] = Some(Entry {
            hash,
            key: key.words,
            value,
        });
    }

    /// Drops every entry whose value fails `keep`.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        for s in self.slots.iter_mut() {
            if s.as_ref().is_some_and(|e| !keep(&e.value)) {
                *s = None;
            }
        }
    }

    /// Drops every entry.
    pub fn clear(&mut self) {
        self.slots.iter_mut().for_each(|s| *s = None);
    }

    /// Entries in use.
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    /// Whether no entry is in use.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::key::Field;

    fn key(n: u128) -> FlowKey {
        let mut k = FlowKey::ZERO;
        k.set(Field::NwSrc, n);
        k
    }

    #[test]
    fn hits_exactly_what_was_inserted() {
        let mut e = Emc::new(1);
        e.insert(&key(1), 77, "a");
        assert_eq!(e.lookup(&key(1), 77), Some(&"a"));
        assert_eq!(e.lookup(&key(2), 77), None, "same hash, other key");
        assert_eq!(e.lookup(&key(1), 78), None);
        e.insert(&key(1), 77, "b");
        assert_eq!(e.lookup(&key(1), 77), Some(&"b"));
        e.retain(|v| *v != "b");
        assert_eq!(e.lookup(&key(1), 77), None);
    }

    #[test]
    fn insertion_probability_and_disable() {
        let mut e = Emc::new(100);
        for i in 0..10_000u32 {
            e.insert(&key(i as u128), i.wrapping_mul(2_654_435_761), ());
        }
        let n = e.len();
        assert!(
            (40..=200).contains(&n),
            "about 1 in 100 of 10000 inserted, got {n}"
        );
        e.set_inv_prob(0);
        assert!(e.is_empty());
        e.insert(&key(1), 1, ());
        assert!(e.lookup(&key(1), 1).is_none());
    }

    #[test]
    fn two_ways_hold_colliding_keys() {
        let mut e = Emc::new(1);
        // Same first slot, different second slot.
        let (h1, h2) = (5u32, 5u32 | (9 << SHIFT));
        e.insert(&key(1), h1, 1);
        e.insert(&key(2), h2, 2);
        assert_eq!(e.lookup(&key(1), h1), Some(&1));
        assert_eq!(e.lookup(&key(2), h2), Some(&2));
    }
}
