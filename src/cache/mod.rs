//! Per-PMD flow caches, fastest first: the exact-match cache (EMC), the
//! signature match cache (SMC) and the megaflow classifier (dpcls). Each is
//! owned by one PMD: no locks, no sharing. They are generic over the value
//! they cache, so they are tested without the rule tables.
pub mod dpcls;
pub mod emc;
pub mod smc;

use crate::flow::key::{FlowKey, FLOW_WORDS};

/// A 64-bit hash of `key & mask` over the words in `map`, with every input
/// bit reaching every output bit. The classifier indexes its subtables with
/// the low bits, so the finish matters: without it a field in the high bits
/// of the last word (a masked `tp_src`, say) never reached the low bits, and
/// megaflows differing only there piled into one probe chain.
#[inline(always)]
pub fn masked_hash(key: &FlowKey, mask: &FlowKey, map: u32) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = map as u64 ^ K;
    for i in bits(map) {
        debug_assert!(i < FLOW_WORDS);
        h = (h ^ (key.words[i] & mask.words[i])).wrapping_mul(K);
        h ^= h >> 29;
    }
    fmix64(h)
}

/// MurmurHash3's 64-bit finaliser: a bijection in which each input bit flips
/// each output bit with probability about one half.
#[inline(always)]
pub fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The indices of the set bits of `map`, lowest first.
#[inline(always)]
pub fn bits(map: u32) -> impl Iterator<Item = usize> {
    let mut m = map;
    std::iter::from_fn(move || {
        (m != 0).then(|| {
            let i = m.trailing_zeros() as usize;
            m &= m - 1;
            i
        })
    })
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
