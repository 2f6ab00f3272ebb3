//! Per-PMD flow caches, fastest first: the exact-match cache (EMC), the
//! signature match cache (SMC) and the megaflow classifier (dpcls). Each is
//! owned by one PMD: no locks, no sharing. They are generic over the value
//! they cache, so they are tested without the rule tables.
pub mod dpcls;
pub mod emc;
pub mod smc;

use crate::flow::key::{FlowKey, FLOW_WORDS};

/// A fast 64-bit hash of `key & mask` over the words in `map`. The caches
/// key their tables with it; it need not match the packet hash.
#[inline(always)]
pub fn masked_hash(key: &FlowKey, mask: &FlowKey, map: u32) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = map as u64 ^ K;
    let mut m = map;
    while m != 0 {
        let i = m.trailing_zeros() as usize;
        m &= m - 1;
        debug_assert!(i < FLOW_WORDS);
        h = (h ^ (key.words[i] & mask.words[i])).wrapping_mul(K);
        h ^= h >> 29;
    }
    h
}

/// A tiny xorshift generator, for the EMC's probabilistic insertion.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from a non-zero seed.
    pub fn new(seed: u64) -> Self {
        XorShift(seed | 1)
    }
    /// The next number.
    #[inline(always)]
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}
