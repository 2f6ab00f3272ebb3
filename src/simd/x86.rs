//! The crate's x86-64 SIMD intrinsics: SSE4.2 CRC32-C, and the AVX2 and
//! AVX-512 variants of the kernels in `simd`. The kernels are safe
//! `#[target_feature]` functions; the `*_safe` wrappers call them only after
//! the CPU was checked (by `simd::usable`, again in debug builds here), and
//! every pointer load or store reads or writes inside a slice whose length
//! the caller asserted.
use super::{probe, Isa, Kernel, SubtableHits, SubtableView};
use crate::cache::bits;
use crate::flow::key::{FlowKey, FLOW_WORDS};
use std::arch::x86_64::*;

/// CRC32-C over the words of `map` (masked by `mask` when given), starting
/// from `map`, through the SSE4.2 instruction.
#[target_feature(enable = "sse4.2")]
fn hash_words_sse42(words: &[u64; FLOW_WORDS], mask: Option<&[u64; FLOW_WORDS]>, map: u32) -> u32 {
    let mut crc = map;
    for i in bits(map) {
        let w = match mask {
            Some(mk) => words[i] & mk[i],
            None => words[i],
        };
        crc = _mm_crc32_u64(crc as u64, w) as u32;
    }
    crc
}

/// [`hash_words_sse42`]; the CPU must have SSE4.2.
#[inline(always)]
pub(super) fn hash_words_sse42_safe(
    words: &[u64; FLOW_WORDS],
    mask: Option<&[u64; FLOW_WORDS]>,
    map: u32,
) -> u32 {
    // SAFETY: the caller checked that the CPU has SSE4.2 (`simd::cpu`).
    unsafe { hash_words_sse42(words, mask, map) }
}

// ---- CRC32-C of one 64-bit word per lane, by carry-less multiplication ----
//
// With R = crc ^ word (64 bits, bit-reflected), the CRC step is
// (R_lo * x^64 + R_hi * x^32) mod P. Folding R_lo by K = x^63 mod P
// (reflected) leaves a 64-bit V with the same residue after R_hi is added to
// its low half; one Barrett reduction (MU = x^64 div P, P itself, both
// reflected, 33 bits) finishes it. Every product fits in 64 bits, so each
// lane needs only the low quadword of its 128-bit carry-less product.
const CRC_FOLD: i64 = 0xdd45_aab8;
const CRC_MU: i64 = 0x1_dea7_13f1;
const CRC_POLY: i64 = 0x1_05ec_76f1;
const LOW32: i64 = 0xffff_ffff;
/// Folding constants for a word with `r` words after it (index r - 1): its
/// low half times x^(64r + 31) mod P, its high half times x^(64r - 1) mod
/// P (reflected) leave a 64-bit value with the residue that word would have
/// after `r` more CRC steps; the folded words are summed and reduced once.
const FOLD_LO: [i64; 13] = [
    0x493c7d27, 0xf20c0dfe, 0xba4fc28e, 0x3da6d0cb, 0xddc0152b, 0x1c291d04, 0x9e4addf8, 0x740eef02,
    0x39d3b296, 0x083a6eec, 0x0715ce53, 0xc49f4f67, 0x47db8317,
];
const FOLD_HI: [i64; 13] = [
    0xdd45aab8, 0x3171d430, 0x3743f7bd, 0xa2158b34, 0x33ccbbbc, 0x6051243f, 0xa46ef4aa, 0x75bba45b,
    0x1c19243b, 0x6d883e38, 0x1c42da43, 0x3365346a, 0xc92f998d,
];

/// The CRC step for one vector width (AVX2's and AVX-512's differ in
/// their intrinsics' names only): `$clmul` gives per 64-bit lane the low 64
/// bits of `a * c` (carry-less), for `a` of at most 32 bits and `c` of at
/// most 33 (their product fits); `$step` is `crc32c_u64(crc, w)` per lane;
/// `$fold` is the CRC from `crc` over the words of `set` in every lane
/// (`load(j)` gives each lane's word j), the words folded in parallel and
/// reduced once rather than stepped one after another.
macro_rules! crc32c_lanes {
    ($features:literal, $v:ty, $clmul:ident, $step:ident, $fold:ident,
     $clmulepi:ident, $unpacklo:ident, $set1:ident, $and:ident, $xor:ident, $srli:ident) => {
        #[target_feature(enable = $features)]
        fn $clmul(a: $v, c: $v) -> $v {
            let even = $clmulepi::<0x00>(a, c);
            let odd = $clmulepi::<0x01>(a, c);
            $unpacklo(even, odd)
        }

        #[target_feature(enable = $features)]
        fn $step(crc: $v, w: $v) -> $v {
            let low = $set1(LOW32);
            let r = $xor(w, crc);
            let v = $clmul($and(r, low), $set1(CRC_FOLD));
            let y = $xor($and(v, low), $srli::<32>(r));
            let t1 = $and($clmul(y, $set1(CRC_MU)), low);
            let t2 = $clmul(t1, $set1(CRC_POLY));
            $and($srli::<32>($xor(v, t2)), low)
        }

        #[target_feature(enable = $features)]
        fn $fold(crc: $v, set: u32, load: impl Fn(usize) -> $v) -> $v {
            let m = set.count_ones() as usize;
            if m == 0 {
                return crc;
            }
            let low = $set1(LOW32);
            let mut acc = $set1(0);
            for (k, j) in bits(set).enumerate() {
                let w = if k == 0 { $xor(load(j), crc) } else { load(j) };
                let folded = match m - 1 - k {
                    0 => w,
                    r => $xor(
                        $clmul($and(w, low), $set1(FOLD_LO[r - 1])),
                        $clmul($srli::<32>(w), $set1(FOLD_HI[r - 1])),
                    ),
                };
                acc = $xor(acc, folded);
            }
            $step($set1(0), acc)
        }
    };
}

crc32c_lanes!(
    "avx2,vpclmulqdq",
    __m256i,
    clmul4,
    crc32c_step4,
    crc32c_fold4,
    _mm256_clmulepi64_epi128,
    _mm256_unpacklo_epi64,
    _mm256_set1_epi64x,
    _mm256_and_si256,
    _mm256_xor_si256,
    _mm256_srli_epi64
);
crc32c_lanes!(
    "avx512f,vpclmulqdq",
    __m512i,
    clmul8,
    crc32c_step8,
    crc32c_fold8,
    _mm512_clmulepi64_epi128,
    _mm512_unpacklo_epi64,
    _mm512_set1_epi64,
    _mm512_and_si512,
    _mm512_xor_si512,
    _mm512_srli_epi64
);

/// The indices of `todo`'s set bits, and how many there are.
#[inline(always)]
fn lanes(todo: u32) -> ([usize; 32], usize) {
    let mut idx = [0usize; 32];
    let mut n = 0;
    for i in bits(todo) {
        idx[n] = i;
        n += 1;
    }
    (idx, n)
}

/// Group `g` of `W` lanes; a short last group repeats its last key (whose
/// result is written again, identically).
#[inline(always)]
fn group<const W: usize>(idx: &[usize; 32], n: usize, g: usize) -> [usize; W] {
    std::array::from_fn(|l| idx[(g + l).min(n - 1)])
}

#[target_feature(enable = "avx2,vpclmulqdq")]
fn flow_hash_avx2(keys: &[FlowKey], words: &[u32], todo: u32, out: &mut [u32]) {
    let (idx, n) = lanes(todo);
    for g in (0..n).step_by(4) {
        let l = group::<4>(&idx, n, g);
        let sel = l.map(|i| words[i]);
        let union = sel.iter().fold(0, |a, s| a | s);
        let all = sel.iter().fold(!0, |a, s| a & s);
        let selv = _mm256_set_epi64x(sel[3] as i64, sel[2] as i64, sel[1] as i64, sel[0] as i64);
        let load = |j: usize| {
            _mm256_set_epi64x(
                keys[l[3]].words[j] as i64,
                keys[l[2]].words[j] as i64,
                keys[l[1]].words[j] as i64,
                keys[l[0]].words[j] as i64,
            )
        };
        let crc = if all == union {
            // Every lane hashes the same words (the common case).
            crc32c_fold4(selv, union, load)
        } else {
            let mut crc = selv;
            for j in bits(union) {
                let next = crc32c_step4(crc, load(j));
                crc = if all & (1 << j) != 0 {
                    next
                } else {
                    let bit = _mm256_set1_epi64x(1 << j);
                    let has = _mm256_cmpeq_epi64(_mm256_and_si256(selv, bit), bit);
                    _mm256_blendv_epi8(crc, next, has)
                };
            }
            crc
        };
        let mut res = [0u64; 4];
        // SAFETY: `res` is 32 writable bytes; storeu needs no alignment.
        unsafe { _mm256_storeu_si256(res.as_mut_ptr().cast(), crc) };
        for (i, r) in l.iter().zip(res) {
            out[*i] = r as u32;
        }
    }
}

#[target_feature(enable = "avx512f,vpclmulqdq")]
fn flow_hash_avx512(keys: &[FlowKey], words: &[u32], todo: u32, out: &mut [u32]) {
    let (idx, n) = lanes(todo);
    for g in (0..n).step_by(8) {
        let l = group::<8>(&idx, n, g);
        let sel = l.map(|i| words[i]);
        let union = sel.iter().fold(0, |a, s| a | s);
        let selv = _mm512_set_epi64(
            sel[7] as i64,
            sel[6] as i64,
            sel[5] as i64,
            sel[4] as i64,
            sel[3] as i64,
            sel[2] as i64,
            sel[1] as i64,
            sel[0] as i64,
        );
        let load = |j: usize| {
            let w = l.map(|i| keys[i].words[j] as i64);
            _mm512_set_epi64(w[7], w[6], w[5], w[4], w[3], w[2], w[1], w[0])
        };
        let crc = if sel.iter().all(|s| *s == union) {
            // Every lane hashes the same words (the common case).
            crc32c_fold8(selv, union, load)
        } else {
            let mut crc = selv;
            for j in bits(union) {
                let has = _mm512_test_epi64_mask(selv, _mm512_set1_epi64(1 << j));
                crc = _mm512_mask_mov_epi64(crc, has, crc32c_step8(crc, load(j)));
            }
            crc
        };
        let mut res = [0u64; 8];
        // SAFETY: `res` is 64 writable bytes; storeu needs no alignment.
        unsafe { _mm512_storeu_si512(res.as_mut_ptr().cast(), crc) };
        for (i, r) in l.iter().zip(res) {
            out[*i] = r as u32;
        }
    }
}

/// The flow hash of vector variant `isa`, which the CPU must run.
pub(super) fn flow_hash(isa: Isa, keys: &[FlowKey], words: &[u32], todo: u32, out: &mut [u32]) {
    debug_assert!(isa.available(Kernel::Hash));
    match isa {
        // SAFETY: the dispatcher checked the CPU (`simd::usable`).
        Isa::Avx2 => unsafe { flow_hash_avx2(keys, words, todo, out) },
        // SAFETY: as above.
        Isa::Avx512 => unsafe { flow_hash_avx512(keys, words, todo, out) },
        Isa::Scalar => unreachable!("scalar is not a vector variant"),
    }
}

// ---- dpcls subtable lookup ----

const MIX_K: i64 = 0x9e37_79b9_7f4a_7c15u64 as i64;
const FMIX_1: i64 = 0xff51_afd7_ed55_8ccdu64 as i64;
const FMIX_2: i64 = 0xc4ce_b9fe_1a85_ec53u64 as i64;

/// Wrapping 64-bit multiply per lane, from AVX2's 32x32 multiplies.
#[target_feature(enable = "avx2")]
fn mul64_avx2(a: __m256i, c: __m256i) -> __m256i {
    let lo = _mm256_mul_epu32(a, c);
    let cross = _mm256_add_epi64(
        _mm256_mul_epu32(_mm256_srli_epi64::<32>(a), c),
        _mm256_mul_epu32(a, _mm256_srli_epi64::<32>(c)),
    );
    _mm256_add_epi64(lo, _mm256_slli_epi64::<32>(cross))
}

#[target_feature(enable = "avx2")]
fn xorshift_avx2<const S: i32>(h: __m256i) -> __m256i {
    _mm256_xor_si256(h, _mm256_srli_epi64::<S>(h))
}

/// `cache::masked_hash` of four keys at once.
#[target_feature(enable = "avx2")]
fn masked_hash4(keys: [&FlowKey; 4], mask: &FlowKey, map: u32) -> [u64; 4] {
    let k = _mm256_set1_epi64x(MIX_K);
    let mut h = _mm256_set1_epi64x(map as i64 ^ MIX_K);
    for w in bits(map) {
        let v = _mm256_set_epi64x(
            keys[3].words[w] as i64,
            keys[2].words[w] as i64,
            keys[1].words[w] as i64,
            keys[0].words[w] as i64,
        );
        let v = _mm256_and_si256(v, _mm256_set1_epi64x(mask.words[w] as i64));
        h = xorshift_avx2::<29>(mul64_avx2(_mm256_xor_si256(h, v), k));
    }
    h = xorshift_avx2::<33>(h);
    h = xorshift_avx2::<33>(mul64_avx2(h, _mm256_set1_epi64x(FMIX_1)));
    h = xorshift_avx2::<33>(mul64_avx2(h, _mm256_set1_epi64x(FMIX_2)));
    let mut res = [0u64; 4];
    // SAFETY: `res` is 32 writable bytes; storeu needs no alignment.
    unsafe { _mm256_storeu_si256(res.as_mut_ptr().cast(), h) };
    res
}

/// Loads words `at..at + 4` of a key.
#[target_feature(enable = "avx2")]
fn load4(k: &FlowKey, at: usize) -> __m256i {
    let w: &[u64; 4] = k.words[at..at + 4].try_into().expect("four words");
    // SAFETY: `w` is 32 readable bytes; loadu needs no alignment.
    unsafe { _mm256_loadu_si256(w.as_ptr().cast()) }
}

/// Whether `key & mask == stored`, over every word (words the mask leaves
/// out are zero in `stored`, a masked key, and in `key & mask`).
#[target_feature(enable = "avx2")]
fn masked_eq_avx2(key: &FlowKey, mask: &FlowKey, stored: &FlowKey) -> bool {
    let diff = |at| {
        _mm256_xor_si256(
            _mm256_and_si256(load4(key, at), load4(mask, at)),
            load4(stored, at),
        )
    };
    let d = _mm256_or_si256(_mm256_or_si256(diff(0), diff(4)), diff(8));
    let tail = |k: &FlowKey| _mm_set_epi64x(k.words[13] as i64, k.words[12] as i64);
    let t = _mm_xor_si128(_mm_and_si128(tail(key), tail(mask)), tail(stored));
    let d = _mm_or_si128(
        _mm_or_si128(_mm256_castsi256_si128(d), _mm256_extracti128_si256::<1>(d)),
        t,
    );
    _mm_testz_si128(d, d) == 1
}

/// A subtable lookup `W` keys at a time: `hash` hashes a group of keys in
/// vector lanes, `eq` compares a key with a candidate's stored key.
#[inline(always)]
fn lookup_groups<'f, const W: usize>(
    st: &SubtableView,
    stored: &impl Fn(u32) -> &'f FlowKey,
    keys: &[FlowKey],
    todo: u32,
    out: &mut [u32],
    hash: impl Fn([&FlowKey; W]) -> [u64; W],
    eq: impl Fn(&FlowKey, &FlowKey) -> bool,
) -> SubtableHits {
    let (idx, n) = lanes(todo);
    let mut r = SubtableHits::default();
    for g in (0..n).step_by(W) {
        let l = group::<W>(&idx, n, g);
        let h = hash(l.map(|i| &keys[i]));
        for (lane, &i) in l.iter().enumerate().take(n - g) {
            let key = &keys[i];
            let (found, read) = probe(st.slots, h[lane], |id| eq(key, stored(id)));
            r.slots_read += read;
            if let Some(id) = found {
                out[i] = id;
                r.hits |= 1 << i;
            }
        }
    }
    r
}

#[target_feature(enable = "avx2")]
fn subtable_lookup_avx2<'f>(
    st: &SubtableView,
    stored: &impl Fn(u32) -> &'f FlowKey,
    keys: &[FlowKey],
    todo: u32,
    out: &mut [u32],
) -> SubtableHits {
    lookup_groups::<4>(
        st,
        stored,
        keys,
        todo,
        out,
        |k| masked_hash4(k, st.mask, st.map),
        |k, s| masked_eq_avx2(k, st.mask, s),
    )
}

/// `cache::masked_hash` of eight keys at once.
#[target_feature(enable = "avx512f,avx512dq")]
fn masked_hash8(keys: [&FlowKey; 8], mask: &FlowKey, map: u32) -> [u64; 8] {
    let xs = |h: __m512i, s| _mm512_xor_si512(h, _mm512_srlv_epi64(h, _mm512_set1_epi64(s)));
    let k = _mm512_set1_epi64(MIX_K);
    let mut h = _mm512_set1_epi64(map as i64 ^ MIX_K);
    for w in bits(map) {
        let v = keys.map(|k| k.words[w] as i64);
        let v = _mm512_set_epi64(v[7], v[6], v[5], v[4], v[3], v[2], v[1], v[0]);
        let v = _mm512_and_si512(v, _mm512_set1_epi64(mask.words[w] as i64));
        h = xs(_mm512_mullo_epi64(_mm512_xor_si512(h, v), k), 29);
    }
    h = xs(h, 33);
    h = xs(_mm512_mullo_epi64(h, _mm512_set1_epi64(FMIX_1)), 33);
    h = xs(_mm512_mullo_epi64(h, _mm512_set1_epi64(FMIX_2)), 33);
    let mut res = [0u64; 8];
    // SAFETY: `res` is 64 writable bytes; storeu needs no alignment.
    unsafe { _mm512_storeu_si512(res.as_mut_ptr().cast(), h) };
    res
}

/// Words 0-7 and 8-13 of a key, the second vector's top two lanes zero.
#[target_feature(enable = "avx512f")]
fn load14(k: &FlowKey) -> (__m512i, __m512i) {
    let lo: &[u64; 8] = k.words[..8].try_into().expect("eight words");
    let hi: &[u64; 6] = k.words[8..].try_into().expect("six words");
    // SAFETY: `lo` is 64 readable bytes; the masked load reads only the
    // six lanes of `hi`'s 48 (lanes 6 and 7 are masked off, not accessed).
    unsafe {
        (
            _mm512_loadu_si512(lo.as_ptr().cast()),
            _mm512_maskz_loadu_epi64(0x3f, hi.as_ptr().cast()),
        )
    }
}

/// Whether `key & mask == stored` (see [`masked_eq_avx2`]).
#[target_feature(enable = "avx512f")]
fn masked_eq_avx512(key: &FlowKey, mask: &FlowKey, stored: &FlowKey) -> bool {
    let ((k0, k1), (m0, m1), (s0, s1)) = (load14(key), load14(mask), load14(stored));
    let d0 = _mm512_xor_si512(_mm512_and_si512(k0, m0), s0);
    let d1 = _mm512_xor_si512(_mm512_and_si512(k1, m1), s1);
    let d = _mm512_or_si512(d0, d1);
    _mm512_test_epi64_mask(d, d) == 0
}

#[target_feature(enable = "avx512f,avx512dq")]
fn subtable_lookup_avx512<'f>(
    st: &SubtableView,
    stored: &impl Fn(u32) -> &'f FlowKey,
    keys: &[FlowKey],
    todo: u32,
    out: &mut [u32],
) -> SubtableHits {
    lookup_groups::<8>(
        st,
        stored,
        keys,
        todo,
        out,
        |k| masked_hash8(k, st.mask, st.map),
        |k, s| masked_eq_avx512(k, st.mask, s),
    )
}

/// The subtable lookup of vector variant `isa`, which the CPU must run.
pub(super) fn subtable_lookup<'f>(
    isa: Isa,
    st: &SubtableView,
    stored: &impl Fn(u32) -> &'f FlowKey,
    keys: &[FlowKey],
    todo: u32,
    out: &mut [u32],
) -> SubtableHits {
    debug_assert!(isa.available(Kernel::Lookup));
    match isa {
        // SAFETY: the dispatcher checked the CPU (`simd::usable`).
        Isa::Avx2 => unsafe { subtable_lookup_avx2(st, stored, keys, todo, out) },
        // SAFETY: as above.
        Isa::Avx512 => unsafe { subtable_lookup_avx512(st, stored, keys, todo, out) },
        Isa::Scalar => unreachable!("scalar is not a vector variant"),
    }
}

// ---- fixed-offset IPv4 TCP/UDP extraction ----
//
// Byte shuffles put each header byte where the key layout wants it (the
// key's words are little-endian integers of big-endian fields, so each
// field's bytes arrive reversed). 0x80 writes a zero byte.
const Z: i8 = -128;

/// Word 0 of the key: in_port and dl_type 0x0800 (nw_frag 0).
#[inline(always)]
fn word0(in_port: u32) -> u64 {
    ((in_port as u64) << 32) | ((crate::packet::proto::ETH_TYPE_IPV4 as u64) << 16)
}

/// Key word 5's TCP flags bits, from the frame's data-offset/flags bytes.
#[inline(always)]
fn tcp_flags_bits(d: &[u8]) -> u64 {
    ((u16::from_be_bytes([d[46], d[47]]) & 0x0fff) as u64) << 16
}

#[target_feature(enable = "avx2")]
fn ipv4_l4_avx2(d: &[u8], tcp: bool, in_port: u32, key: &mut FlowKey) {
    let load16 = |at: usize| {
        let b: &[u8; 16] = d[at..at + 16].try_into().expect("16 bytes");
        // SAFETY: `b` is 16 readable bytes; loadu needs no alignment.
        unsafe { _mm_loadu_si128(b.as_ptr().cast()) }
    };
    // Bytes 0-15, 16-31 and 26-41 of the frame (the caller checked 42).
    let (a, b, c) = (load16(0), load16(16), load16(26));
    // Words 1 and 2: the MACs, VLAN TCIs zero.
    let macs = _mm_shuffle_epi8(
        a,
        _mm_setr_epi8(Z, Z, 5, 4, 3, 2, 1, 0, Z, Z, 11, 10, 9, 8, 7, 6),
    );
    // Word 3: the addresses (bytes 26-33 reversed); word 5: the ports.
    let ip_l4 = _mm_shuffle_epi8(
        c,
        _mm_setr_epi8(7, 6, 5, 4, 3, 2, 1, 0, Z, Z, Z, Z, 11, 10, 9, 8),
    );
    // Word 4: proto (byte 23), tos (15), ttl (22) in its top three bytes.
    let w4 = _mm_or_si128(
        _mm_shuffle_epi8(
            b,
            _mm_setr_epi8(Z, Z, Z, Z, Z, 6, Z, 7, Z, Z, Z, Z, Z, Z, Z, Z),
        ),
        _mm_shuffle_epi8(
            a,
            _mm_setr_epi8(Z, Z, Z, Z, Z, Z, 15, Z, Z, Z, Z, Z, Z, Z, Z, Z),
        ),
    );
    let flags = if tcp { tcp_flags_bits(d) } else { 0 };
    let lo = _mm256_set_epi64x(
        _mm_cvtsi128_si64(ip_l4),
        _mm_extract_epi64::<1>(macs),
        _mm_cvtsi128_si64(macs),
        word0(in_port) as i64,
    );
    let hi = _mm256_set_epi64x(
        0,
        0,
        _mm_extract_epi64::<1>(ip_l4) | flags as i64,
        _mm_cvtsi128_si64(w4),
    );
    let zero = _mm256_setzero_si256();
    let w = &mut key.words;
    let store4 = |w: &mut [u64], v| {
        let w: &mut [u64; 4] = w.try_into().expect("four words");
        // SAFETY: `w` is 32 writable bytes; storeu needs no alignment.
        unsafe { _mm256_storeu_si256(w.as_mut_ptr().cast(), v) }
    };
    store4(&mut w[0..4], lo);
    store4(&mut w[4..8], hi);
    store4(&mut w[8..12], zero);
    w[12] = 0;
    w[13] = 0;
}

#[target_feature(enable = "avx2")]
fn ipv4_l4_burst_avx2(frames: &[&[u8]], todo: u32, tcp: u32, in_port: u32, keys: &mut [FlowKey]) {
    for i in bits(todo) {
        ipv4_l4_avx2(frames[i], tcp & (1 << i) != 0, in_port, &mut keys[i]);
    }
}

#[target_feature(enable = "avx512f,avx512bw")]
fn ipv4_l4_avx512(d: &[u8], tcp: bool, in_port: u32, key: &mut FlowKey) {
    let len = d.len().min(64);
    let kmask: __mmask64 = if len == 64 { !0 } else { (1u64 << len) - 1 };
    // SAFETY: the mask enables only the first `len` bytes, all inside `d`;
    // masked-off bytes are neither read nor able to fault.
    let f = unsafe { _mm512_maskz_loadu_epi8(kmask, d.as_ptr().cast()) };
    // Quadword q of the frame is bytes 8q..8q+8. Pair them per 128-bit lane
    // as the shuffle below needs: (0,1) MACs, (3,4) addresses and ports,
    // (1,2) tos/ttl/proto, (5,5) TCP flags.
    let pairs = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 1, 3, 4, 1, 2, 5, 5), f);
    #[rustfmt::skip]
    let s = _mm512_shuffle_epi8(pairs, _mm512_set_epi8(
        // lane 3: bytes 46-47 (q5 bytes 6-7) as word 5's flags
        Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, 14, 15, Z, Z,
        // lane 2: word 4 from bytes 15 (q1 byte 7), 22 and 23 (q2 bytes 6, 7)
        Z, Z, Z, Z, Z, Z, Z, Z, 15, 7, 14, Z, Z, Z, Z, Z,
        // lane 1: word 5's ports (bytes 34-37), word 3 (bytes 26-33 reversed)
        10, 11, 12, 13, Z, Z, Z, Z, 2, 3, 4, 5, 6, 7, 8, 9,
        // lane 0: words 2 and 1, the MACs
        6, 7, 8, 9, 10, 11, Z, Z, 0, 1, 2, 3, 4, 5, Z, Z,
    ));
    // Quadwords of `s`: 0 w1, 1 w2, 2 w3, 3 w5 ports, 4 w4, 6 w5 flags.
    let words =
        _mm512_maskz_permutexvar_epi64(0b0011_1110, _mm512_setr_epi64(0, 0, 1, 2, 4, 3, 0, 0), s);
    let flags =
        _mm512_maskz_permutexvar_epi64(if tcp { 0b0010_0000 } else { 0 }, _mm512_set1_epi64(6), s);
    let flags = _mm512_and_si512(flags, _mm512_set1_epi64(0x0fff_0000));
    let words = _mm512_or_si512(
        _mm512_or_si512(words, flags),
        _mm512_maskz_set1_epi64(1, word0(in_port) as i64),
    );
    let w = &mut key.words;
    let lo: &mut [u64; 8] = (&mut w[..8]).try_into().expect("eight words");
    // SAFETY: `lo` is 64 writable bytes; storeu needs no alignment.
    unsafe { _mm512_storeu_si512(lo.as_mut_ptr().cast(), words) };
    w[8..].fill(0);
}

#[target_feature(enable = "avx512f,avx512bw")]
fn ipv4_l4_burst_avx512(frames: &[&[u8]], todo: u32, tcp: u32, in_port: u32, keys: &mut [FlowKey]) {
    for i in bits(todo) {
        ipv4_l4_avx512(frames[i], tcp & (1 << i) != 0, in_port, &mut keys[i]);
    }
}

/// The extraction of vector variant `isa`, which the CPU must run; each
/// frame of `todo` holds its headers (42 bytes, 54 for TCP).
pub(super) fn ipv4_l4_burst(
    isa: Isa,
    frames: &[&[u8]],
    todo: u32,
    tcp: u32,
    in_port: u32,
    keys: &mut [FlowKey],
) {
    debug_assert!(isa.available(Kernel::Parser));
    match isa {
        // SAFETY: the dispatcher checked the CPU (`simd::usable`).
        Isa::Avx2 => unsafe { ipv4_l4_burst_avx2(frames, todo, tcp, in_port, keys) },
        // SAFETY: as above.
        Isa::Avx512 => unsafe { ipv4_l4_burst_avx512(frames, todo, tcp, in_port, keys) },
        Isa::Scalar => unreachable!("scalar is not a vector variant"),
    }
}

/// The key comparison of the lookup variant `isa`, alone (for its test:
/// within a lookup it runs only on a 32-bit hash match).
#[cfg(test)]
pub(super) fn masked_eq(isa: Isa, key: &FlowKey, mask: &FlowKey, stored: &FlowKey) -> bool {
    assert!(isa.available(Kernel::Lookup));
    match isa {
        // SAFETY: the CPU has the variant's features, asserted above.
        Isa::Avx2 => unsafe { masked_eq_avx2(key, mask, stored) },
        // SAFETY: as above.
        Isa::Avx512 => unsafe { masked_eq_avx512(key, mask, stored) },
        Isa::Scalar => key.masked(mask) == *stored,
    }
}
