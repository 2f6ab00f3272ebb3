//! Each variant against the scalar code, on random keys: the burst hash and
//! the subtable lookup. (The parser's are with the extraction's tests, next
//! to their frame generator.) A variant's tests are ignored, reported as
//! SKIPPED, on a CPU without its features (see build.rs).
use super::*;
use crate::cache::dpcls::Dpcls;
use crate::flow::hash::{flow_hash, flow_hash_words, hash_key_portable};
use crate::flow::key::FLOW_WORDS;
use proptest::prelude::*;

fn any_key() -> impl Strategy<Value = FlowKey> {
    proptest::array::uniform14(any::<u64>()).prop_map(|words| FlowKey { words })
}

/// Burst hashes with `isa` equal the scalar `flow_hash` of each key, for
/// extraction-like maps and arbitrary ones; keys outside `todo` untouched.
fn hash_agrees(isa: Isa, keys: &[FlowKey], maps: &[u32], todo: u32) -> Result<(), TestCaseError> {
    prop_assert!(isa.available(Kernel::Hash), "{isa} not available");
    let words: Vec<u32> = maps.iter().map(|m| flow_hash_words(*m)).collect();
    let mut out = vec![7u32; keys.len()];
    flow_hash_burst(isa, keys, &words, todo, &mut out);
    for i in 0..keys.len() {
        if todo & (1 << i) == 0 {
            prop_assert_eq!(out[i], 7);
        } else {
            prop_assert_eq!(out[i], flow_hash(&keys[i], maps[i]), "key {}", i);
            prop_assert_eq!(out[i], hash_key_portable(&keys[i], words[i]));
        }
    }
    // Any word set, not only the ones `flow_hash_words` picks.
    let all: Vec<u32> = maps.iter().map(|m| m & ((1 << FLOW_WORDS) - 1)).collect();
    flow_hash_burst(isa, keys, &all, todo, &mut out);
    for i in bits(todo) {
        prop_assert_eq!(
            out[i],
            hash_key_portable(&keys[i], all[i]),
            "key {} words {:#x}",
            i,
            all[i]
        );
    }
    // One word set for the whole burst (the vector variants then fold the
    // words in parallel): the first key's, and every word.
    for set in [all[0], (1 << FLOW_WORDS) - 1] {
        flow_hash_burst(isa, keys, &vec![set; keys.len()], todo, &mut out);
        for i in bits(todo) {
            prop_assert_eq!(
                out[i],
                hash_key_portable(&keys[i], set),
                "key {} words {:#x}",
                i,
                set
            );
        }
    }
    Ok(())
}

/// Maps as extraction gives them (IPv4 L4, ARP-like, L2 only) or random.
fn any_map() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0b11_1111u32),
        Just(0b1_0001_1111),
        Just(0b111),
        any::<u32>()
    ]
}

fn hash_case() -> impl Strategy<Value = (Vec<FlowKey>, Vec<u32>, u32)> {
    (1usize..=32).prop_flat_map(|n| {
        (
            proptest::collection::vec(any_key(), n),
            proptest::collection::vec(any_map(), n),
            any::<u32>().prop_map(move |t| t & (u32::MAX >> (32 - n))),
        )
    })
}

/// Random megaflows over a few random masks, and probe keys: copies of the
/// flows' keys with bits outside their masks flipped (hits), and random
/// keys (misses).
#[derive(Debug, Clone)]
struct LookupCase {
    masks: Vec<FlowKey>,
    flows: Vec<(usize, FlowKey)>,
    /// Each probe, and whether it was made from a flow (so must hit).
    probes: Vec<(bool, FlowKey)>,
}

fn lookup_case() -> impl Strategy<Value = LookupCase> {
    let mask = proptest::array::uniform14(prop_oneof![Just(0u64), Just(!0u64), any::<u64>()])
        .prop_map(|mut words| {
            words[0] |= 0xffff_ffff << 32; // in_port, always in the mask
            FlowKey { words }
        });
    (
        proptest::collection::vec(mask, 1..6),
        proptest::collection::vec((0usize..6, any_key()), 1..80),
        proptest::collection::vec((any::<bool>(), 0usize..80, any_key()), 1..=32),
    )
        .prop_map(|(masks, flows, probes)| {
            let flows: Vec<(usize, FlowKey)> = flows
                .into_iter()
                .map(|(m, k)| (m % masks.len(), k))
                .collect();
            let probes = probes
                .into_iter()
                .map(|(hit, f, noise)| {
                    if !hit {
                        return (false, noise);
                    }
                    let (m, k) = flows[f % flows.len()];
                    let mut p = k;
                    for w in 0..FLOW_WORDS {
                        p.words[w] = (k.words[w] & masks[m].words[w])
                            | (noise.words[w] & !masks[m].words[w]);
                    }
                    (true, p)
                })
                .collect();
            LookupCase {
                masks,
                flows,
                probes,
            }
        })
}

/// The same megaflows in a scalar classifier and one using `isa` (equal
/// masked keys under one mask are one megaflow, so duplicates are skipped):
/// every burst lookup finds the same flows, leaves the same keys, and reads
/// the same slots.
fn lookup_agrees(isa: Isa, c: &LookupCase) -> Result<(), TestCaseError> {
    prop_assert!(isa.available(Kernel::Lookup), "{isa} not available");
    let (mut scalar, mut vector) = (Dpcls::new(), Dpcls::new());
    vector.set_lookup(isa);
    let mut seen = std::collections::HashSet::new();
    for (n, (m, k)) in c.flows.iter().enumerate() {
        let mask = &c.masks[*m];
        if !seen.insert((*m, k.masked(mask))) {
            continue;
        }
        prop_assert_eq!(scalar.insert(k, mask, n), vector.insert(k, mask, n));
    }
    let probes: Vec<FlowKey> = c.probes.iter().map(|p| p.1).collect();
    let todo = u32::MAX >> (32 - probes.len());
    let (mut a, mut b) = ([u32::MAX; 32], [u32::MAX; 32]);
    let left_a = scalar.lookup_batch(&probes, todo, &mut a);
    let left_b = vector.lookup_batch(&probes, todo, &mut b);
    prop_assert_eq!(left_a, left_b);
    for (i, (hit, _)) in c.probes.iter().enumerate() {
        prop_assert!(
            !hit || left_a & (1 << i) == 0,
            "probe {} made from a flow missed",
            i
        );
    }
    prop_assert_eq!(a, b);
    prop_assert_eq!(scalar.stats(), vector.stats());
    let probes_of = |c: &Dpcls<usize>| c.subtables().iter().map(|s| s.probes).collect::<Vec<_>>();
    prop_assert_eq!(probes_of(&scalar), probes_of(&vector));
    Ok(())
}

/// The variant's key comparison alone, on keys equal under the mask and
/// keys differing in one bit inside or outside it (a lookup compares keys
/// only on a 32-bit hash match, too rarely for random lookups to test it).
fn compare_agrees(
    isa: Isa,
    key: &FlowKey,
    mask: &FlowKey,
    flip: usize,
) -> Result<(), TestCaseError> {
    let stored = key.masked(mask);
    prop_assert!(x86::masked_eq(isa, key, mask, &stored));
    let mut other = *key;
    other.words[flip / 64] ^= 1 << (flip % 64);
    let inside = mask.words[flip / 64] & (1 << (flip % 64)) != 0;
    prop_assert_eq!(x86::masked_eq(isa, &other, mask, &stored), !inside);
    Ok(())
}

macro_rules! variant_tests {
    ($isa:expr, $cpu_hash:meta, $cpu_lookup:meta, $hash:ident, $lookup:ident, $compare:ident) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(500))]
            #[test]
            #[cfg_attr(not($cpu_hash), ignore = "SKIPPED: this CPU lacks the variant's features")]
            fn $hash((keys, maps, todo) in hash_case()) {
                hash_agrees($isa, &keys, &maps, todo)?;
            }

            #[test]
            #[cfg_attr(not($cpu_lookup), ignore = "SKIPPED: this CPU lacks the variant's features")]
            fn $lookup(c in lookup_case()) {
                lookup_agrees($isa, &c)?;
            }

            #[test]
            #[cfg_attr(not($cpu_lookup), ignore = "SKIPPED: this CPU lacks the variant's features")]
            fn $compare(key in any_key(), mask in any_key(), flip in 0usize..FLOW_WORDS * 64) {
                compare_agrees($isa, &key, &mask, flip)?;
            }
        }
    };
}

variant_tests!(
    Isa::Scalar,
    all(),
    all(),
    scalar_hash_burst_agrees,
    scalar_lookup_agrees,
    scalar_compare_agrees
);
variant_tests!(
    Isa::Avx2,
    all(pmdswitch_cpu_avx2, pmdswitch_cpu_vpclmulqdq),
    pmdswitch_cpu_avx2,
    avx2_hash_agrees_with_scalar,
    avx2_lookup_agrees_with_scalar,
    avx2_compare_agrees_with_scalar
);
variant_tests!(
    Isa::Avx512,
    all(pmdswitch_cpu_avx512f, pmdswitch_cpu_vpclmulqdq),
    all(pmdswitch_cpu_avx512f, pmdswitch_cpu_avx512dq),
    avx512_hash_agrees_with_scalar,
    avx512_lookup_agrees_with_scalar,
    avx512_compare_agrees_with_scalar
);

#[test]
fn a_variant_the_cpu_lacks_falls_back_to_scalar() {
    // Whatever the CPU, asking for every variant is safe and gives the
    // scalar answer (the dispatcher runs scalar code in place of a missing
    // variant).
    let keys = [FlowKey {
        words: [0x0123_4567_89ab_cdef; FLOW_WORDS],
    }; 4];
    let words = [0b11_1001u32; 4];
    for isa in Isa::ALL {
        let mut out = [0u32; 4];
        flow_hash_burst(isa, &keys, &words, 0b1111, &mut out);
        assert_eq!(out, [hash_key_portable(&keys[0], words[0]); 4], "{isa}");
    }
}

#[test]
fn lookup_priorities_pick_the_highest_available() {
    let mut c = SimdConfig {
        lookup_prio: [5, 0, 0],
        ..SimdConfig::default()
    };
    assert_eq!(c.lookup_in_use(), Isa::Scalar);
    c.set_lookup_prio("avx2", "9").unwrap();
    let want = if Isa::Avx2.available(Kernel::Lookup) {
        Isa::Avx2
    } else {
        Isa::Scalar
    };
    assert_eq!(c.lookup_in_use(), want);
    assert!(c.set_lookup_prio("sse9", "1").is_err());
    assert!(c.set_lookup_prio("avx2", "256").is_err());
    assert_eq!(c.set(Kernel::Parser, "scalar"), Ok(()));
    if !Isa::Avx512.available(Kernel::Parser) {
        let e = c.set(Kernel::Parser, "avx512").unwrap_err();
        assert!(e.contains("lacks"), "{e}");
    }
}
