//! The signature match cache: from a packet hash to the megaflow that last
//! matched it, in little memory (a 16-bit signature and a flow id per
//! entry, four entries per bucket), so it holds far more flows than the EMC.
//! A hit is only a candidate: the caller checks the packet against the
//! megaflow's mask and key, so a signature collision or a stale entry can
//! cost a lookup but never give a wrong answer.

const WAYS: usize = 4;
const EMPTY: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Bucket {
    sig: [u16; WAYS],
    flow: [u32; WAYS],
}

/// The cache.
pub struct Smc {
    buckets: Vec<Bucket>,
    mask: u32,
}

/// Entries by default (OVS's size): 1M, about 6 MB.
pub const SMC_DEFAULT_ENTRIES: usize = 1 << 20;

impl Smc {
    /// A cache of about `entries` entries (rounded to a power of two, at
    /// least one bucket).
    pub fn new(entries: usize) -> Self {
        let n = (entries / WAYS).max(1).next_power_of_two();
        Smc {
            buckets: vec![
                Bucket {
                    sig: [0; WAYS],
                    flow: [EMPTY; WAYS]
                };
                n
            ],
            mask: n as u32 - 1,
        }
    }

    #[inline(always)]
    fn split(&self, hash: u32) -> (usize, u16) {
        ((hash & self.mask) as usize, (hash >> 16) as u16)
    }

    /// The candidate flow for a packet with this hash.
    #[inline(always)]
    pub fn lookup(&self, hash: u32) -> Option<u32> {
        let (b, sig) = self.split(hash);
        let bucket = &self.buckets[b];
        (0..WAYS)
            .find(|&w| bucket.sig[w] == sig && bucket.flow[w] != EMPTY)
            .map(|w| bucket.flow[w])
    }

    /// Remembers that packets with this hash matched `flow`.
    #[inline]
    pub fn insert(&mut self, hash: u32, flow: u32) {
        let (b, sig) = self.split(hash);
        let bucket = &mut self.buckets[b];
        let w = (0..WAYS)
            .find(|&w| bucket.sig[w] == sig && bucket.flow[w] != EMPTY)
            .or_else(|| (0..WAYS).find(|&w| bucket.flow[w] == EMPTY))
            // A full bucket: replace by the hash's low bits, cheap and fair.
            .unwrap_or((hash as usize >> 8) % WAYS);
        bucket.sig[w] = sig;
        bucket.flow[w] = flow;
    }

    /// Forgets every entry pointing at `flow` (a removed megaflow whose id
    /// may be reused).
    pub fn forget(&mut self, flow: u32) {
        for b in self.buckets.iter_mut() {
            for w in 0..WAYS {
                if b.flow[w] == flow {
                    b.flow[w] = EMPTY;
                }
            }
        }
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        for b in self.buckets.iter_mut() {
            b.flow = [EMPTY; WAYS];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_finds_inserted_and_forgets() {
        let mut s = Smc::new(1024);
        s.insert(0xabcd_0001, 7);
        assert_eq!(s.lookup(0xabcd_0001), Some(7));
        assert_eq!(s.lookup(0xabce_0001), None, "other signature, same bucket");
        s.insert(0xabcd_0001, 8);
        assert_eq!(s.lookup(0xabcd_0001), Some(8));
        s.forget(8);
        assert_eq!(s.lookup(0xabcd_0001), None);
    }

    #[test]
    fn a_full_bucket_keeps_working() {
        let mut s = Smc::new(4);
        for i in 0..10u32 {
            s.insert(i << 16, i);
        }
        // The last one is always there; older ones may have been replaced.
        assert_eq!(s.lookup(9 << 16), Some(9));
    }
}
