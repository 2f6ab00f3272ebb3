//! Packet hashes: CRC32-C over the flow key's words, with SSE4.2 where the
//! CPU has it (in `simd`, with the burst variants) and a table-driven
//! fallback that gives the same value.
use crate::flow::key::FlowKey;

/// CRC32-C (Castagnoli), reflected polynomial.
const POLY: u32 = 0x82f6_3b78;

const fn table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}
static TABLE: [u32; 256] = table();

/// CRC32-C of a byte string, as SCTP's checksum uses it (RFC 3309).
pub fn crc32c(data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |crc, &b| {
        TABLE[((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8)
    })
}

/// One step of CRC32-C over a 64-bit word (its bytes in little-endian
/// order, as the SSE4.2 instruction takes them), without the final xor.
#[inline(always)]
pub fn crc32c_u64_soft(mut crc: u32, v: u64) -> u32 {
    for b in v.to_le_bytes() {
        crc = TABLE[((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

fn hash_words_soft(
    words: &[u64; crate::flow::key::FLOW_WORDS],
    mask: Option<&[u64; crate::flow::key::FLOW_WORDS]>,
    map: u32,
) -> u32 {
    let mut crc = map;
    let mut m = map;
    while m != 0 {
        let i = m.trailing_zeros() as usize;
        m &= m - 1;
        let w = match mask {
            Some(mk) => words[i] & mk[i],
            None => words[i],
        };
        crc = crc32c_u64_soft(crc, w);
    }
    crc
}

#[inline(always)]
fn hash_words(key: &FlowKey, mask: Option<&FlowKey>, map: u32) -> u32 {
    if let Some(h) = crate::simd::hash_words_sse42(&key.words, mask.map(|m| &m.words), map) {
        return h;
    }
    hash_words_soft(&key.words, mask.map(|m| &m.words), map)
}

/// Hash of the key's words in `map` (and of the map itself).
#[inline(always)]
pub fn hash_key(key: &FlowKey, map: u32) -> u32 {
    hash_words(key, None, map)
}

/// Hash of `key & mask` over `map`.
#[inline(always)]
pub fn hash_masked(key: &FlowKey, mask: &FlowKey, map: u32) -> u32 {
    hash_words(key, Some(mask), map)
}

/// The same hashes without SSE4.2, for tests and CPUs without it.
pub fn hash_key_portable(key: &FlowKey, map: u32) -> u32 {
    hash_words_soft(&key.words, None, map)
}

/// Key words 0 (in_port, dl_type, nw_frag), 3 (IPv4 addresses), 4 (nw_proto
/// and the rest of the IP word) and 5 (L4 ports and flags).
const FIVE_TUPLE_WORDS: u32 = 0b11_1001;
/// Key words 0, 1 and 2: in_port, dl_type, the MACs and VLAN tags.
const L2_WORDS: u32 = 0b111;

/// The words of a key (with presence map `map`) that the per-packet hash
/// covers: the 5-tuple and in_port when the packet has IPv4 addresses, as
/// OVS's `miniflow_hash_5tuple`, else the L2 words. A function of the key,
/// so equal keys hash alike; the caches compare whole keys on a hit, so a
/// narrower hash costs only collisions, and a cheaper hash every packet.
#[inline(always)]
pub fn flow_hash_words(map: u32) -> u32 {
    if map & (1 << 3) != 0 {
        map & FIVE_TUPLE_WORDS
    } else {
        map & L2_WORDS
    }
}

/// The per-packet hash the EMC and SMC are indexed by (see `flow_hash_words`).
#[inline(always)]
pub fn flow_hash(key: &FlowKey, map: u32) -> u32 {
    hash_key(key, flow_hash_words(map))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_crc32c_value() {
        // CRC32-C of the bytes 0..8 (one little-endian word), initial
        // !0 and final xor, checked against the standard algorithm.
        let w = u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7]);
        let mut bytewise = !0u32;
        for b in 0u8..8 {
            bytewise ^= b as u32;
            for _ in 0..8 {
                bytewise = if bytewise & 1 != 0 {
                    (bytewise >> 1) ^ POLY
                } else {
                    bytewise >> 1
                };
            }
        }
        assert_eq!(crc32c_u64_soft(!0, w), bytewise);
    }

    proptest! {
        #[test]
        fn sse42_and_portable_agree(words in proptest::array::uniform14(any::<u64>()), map in any::<u32>()) {
            let map = map & ((1 << crate::flow::key::FLOW_WORDS) - 1);
            let k = FlowKey { words };
            prop_assert_eq!(hash_key(&k, map), hash_key_portable(&k, map));
            let m = FlowKey { words: words.map(|w| w.rotate_left(7)) };
            prop_assert_eq!(hash_masked(&k, &m, map), hash_words_soft(&k.words, Some(&m.words), map));
        }
    }
}
