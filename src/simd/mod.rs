//! Runtime-dispatched SIMD kernels for three per-packet stages: the burst
//! flow hash, the dpcls subtable lookup and the fixed-offset IPv4 TCP/UDP
//! extraction. Each has a scalar, an AVX2 and an AVX-512 variant giving the
//! same results bit for bit (property tests hold them to it); which one a PMD
//! runs is a [`SimdChoice`], picked at start-up from what the CPU has and
//! changed at run time through `pmdswitch ctl` (see `config`).
//!
//! Every SIMD intrinsic of the crate lives in the private `x86` module; this
//! module is its safe face: it checks the CPU before calling a variant and
//! the bounds the kernels rely on.
pub mod config;
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)] // every SIMD intrinsic of the crate, behind run-time CPU checks
mod x86;

pub use config::{SimdChoice, SimdConfig};

use crate::cache::bits;
use crate::flow::key::FlowKey;
use std::sync::OnceLock;

/// A kernel variant: the instruction set it is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Isa {
    /// Plain Rust (CRC32-C through SSE4.2 where the CPU has it).
    Scalar,
    /// 256-bit vectors.
    Avx2,
    /// 512-bit vectors and mask registers.
    Avx512,
}

/// The stages with SIMD variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// The per-packet flow hash over a burst.
    Hash,
    /// The dpcls subtable lookup over a burst.
    Lookup,
    /// The fixed-offset extraction of plain IPv4 TCP/UDP frames.
    Parser,
}

impl Isa {
    /// Every variant, scalar first.
    pub const ALL: [Isa; 3] = [Isa::Scalar, Isa::Avx2, Isa::Avx512];

    /// The variant's name in `ctl` commands.
    pub const fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }

    /// The variant called `name`.
    pub fn from_name(name: &str) -> Option<Isa> {
        Isa::ALL.into_iter().find(|i| i.name() == name)
    }

    /// The CPU features the variant of kernel `k` needs.
    pub const fn needs(self, k: Kernel) -> &'static str {
        match (self, k) {
            (Isa::Scalar, _) => "",
            (Isa::Avx2, Kernel::Hash) => "avx2 vpclmulqdq",
            (Isa::Avx2, _) => "avx2",
            (Isa::Avx512, Kernel::Hash) => "avx512f vpclmulqdq",
            (Isa::Avx512, Kernel::Lookup) => "avx512f avx512dq",
            (Isa::Avx512, Kernel::Parser) => "avx512f avx512bw",
        }
    }

    /// Whether this CPU runs the variant of kernel `k`.
    pub fn available(self, k: Kernel) -> bool {
        let f = cpu();
        match (self, k) {
            (Isa::Scalar, _) => true,
            (Isa::Avx2, Kernel::Hash) => f.avx2 && f.vpclmulqdq,
            (Isa::Avx2, _) => f.avx2,
            (Isa::Avx512, Kernel::Hash) => f.avx512f && f.vpclmulqdq,
            (Isa::Avx512, Kernel::Lookup) => f.avx512f && f.avx512dq,
            (Isa::Avx512, Kernel::Parser) => f.avx512f && f.avx512bw,
        }
    }
}

impl std::fmt::Display for Isa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Clone, Copy, Default)]
struct Cpu {
    sse42: bool,
    avx2: bool,
    vpclmulqdq: bool,
    avx512f: bool,
    avx512bw: bool,
    avx512dq: bool,
}

fn cpu() -> Cpu {
    static CPU: OnceLock<Cpu> = OnceLock::new();
    *CPU.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            Cpu {
                sse42: is_x86_feature_detected!("sse4.2"),
                avx2: is_x86_feature_detected!("avx2"),
                vpclmulqdq: is_x86_feature_detected!("vpclmulqdq")
                    && is_x86_feature_detected!("pclmulqdq"),
                avx512f: is_x86_feature_detected!("avx512f"),
                avx512bw: is_x86_feature_detected!("avx512bw"),
                avx512dq: is_x86_feature_detected!("avx512dq"),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            Cpu::default()
        }
    })
}

/// `isa` if the CPU runs it for `k`, else scalar: what every dispatcher
/// below actually runs, so a wrong setting can cost speed but never safety.
#[inline(always)]
fn usable(isa: Isa, k: Kernel) -> Isa {
    if isa == Isa::Scalar || isa.available(k) {
        isa
    } else {
        Isa::Scalar
    }
}

/// Number of keys the bitmap `todo` reaches into.
#[inline(always)]
fn span(todo: u32) -> usize {
    32 - todo.leading_zeros() as usize
}

/// CRC32-C flow hashes (as [`crate::flow::hash::hash_key`]) of the keys whose
/// bit is set in `todo`: `out[i]` gets the hash of `keys[i]` over the words
/// `words[i]` (a [`crate::flow::hash::flow_hash_words`] result).
pub fn flow_hash_burst(isa: Isa, keys: &[FlowKey], words: &[u32], todo: u32, out: &mut [u32]) {
    let n = span(todo);
    assert!(keys.len() >= n && words.len() >= n && out.len() >= n);
    let words = &words[..n];
    debug_assert!(words
        .iter()
        .all(|w| *w >> crate::flow::key::FLOW_WORDS == 0));
    match usable(isa, Kernel::Hash) {
        #[cfg(target_arch = "x86_64")]
        isa @ (Isa::Avx2 | Isa::Avx512) => x86::flow_hash(isa, keys, words, todo, out),
        _ => {
            for i in bits(todo) {
                out[i] = crate::flow::hash::hash_key(&keys[i], words[i]);
            }
        }
    }
}

/// A dpcls subtable slot: the flow's hash (its low 32 bits) beside its id,
/// so a probe passes over other flows without reading them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// The low 32 bits of the flow's [`crate::cache::masked_hash`].
    pub hash: u32,
    /// The flow's id; [`EMPTY_SLOT`] when free.
    pub id: u32,
}

/// The id of a free slot.
pub const EMPTY_SLOT: u32 = u32::MAX;

/// One subtable as a lookup sees it: its mask (with the words it touches)
/// and its slots, a power of two of them, never all full.
pub struct SubtableView<'a> {
    /// The mask.
    pub mask: &'a FlowKey,
    /// Words the mask touches.
    pub map: u32,
    /// Open addressing with linear probing.
    pub slots: &'a [Slot],
}

/// What a burst lookup in one subtable found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SubtableHits {
    /// Keys matched (a subset of the keys looked up).
    pub hits: u32,
    /// Slots read, at least one per key looked up.
    pub slots_read: u64,
}

/// Finds the keys of `todo` in a subtable: `out[i]` gets the id of the flow
/// whose stored (masked) key `stored(id)` equals `keys[i] & mask`. `stored`
/// must give keys that are masked by the subtable's mask.
pub fn subtable_lookup<'f>(
    isa: Isa,
    st: &SubtableView,
    stored: impl Fn(u32) -> &'f FlowKey,
    keys: &[FlowKey],
    todo: u32,
    out: &mut [u32],
) -> SubtableHits {
    let n = span(todo);
    assert!(keys.len() >= n && out.len() >= n);
    assert!(st.slots.len().is_power_of_two());
    match usable(isa, Kernel::Lookup) {
        #[cfg(target_arch = "x86_64")]
        isa @ (Isa::Avx2 | Isa::Avx512) => x86::subtable_lookup(isa, st, &stored, keys, todo, out),
        _ => {
            let mut r = SubtableHits::default();
            for i in bits(todo) {
                let key = &keys[i];
                let h = crate::cache::masked_hash(key, st.mask, st.map);
                let (found, read) = probe(st.slots, h, |id| {
                    let s = stored(id);
                    bits(st.map).all(|w| key.words[w] & st.mask.words[w] == s.words[w])
                });
                r.slots_read += read;
                if let Some(id) = found {
                    out[i] = id;
                    r.hits |= 1 << i;
                }
            }
            r
        }
    }
}

/// Walks the probe chain of hash `h`: the first slot with the same hash
/// whose flow is `same`, and the slots read.
#[inline(always)]
fn probe(slots: &[Slot], h: u64, mut same: impl FnMut(u32) -> bool) -> (Option<u32>, u64) {
    let last = slots.len() - 1;
    let tag = h as u32;
    let mut i = (h as usize) & last;
    let mut read = 1;
    loop {
        let slot = slots[i];
        if slot.id == EMPTY_SLOT {
            return (None, read);
        }
        if slot.hash == tag && same(slot.id) {
            return (Some(slot.id), read);
        }
        i = (i + 1) & last;
        read += 1;
    }
}

/// Fills words 0-5 of `key` from a frame with the shape of
/// `packet::extract`'s fixed-offset fast path (untagged IPv4, 20-byte
/// header, whole TCP or UDP header), and clears the rest. `tcp` says which
/// L4 protocol it is. For each frame whose bit is set in `todo`.
pub fn ipv4_l4_burst(
    isa: Isa,
    frames: &[&[u8]],
    todo: u32,
    tcp: u32,
    in_port: u32,
    keys: &mut [FlowKey],
) {
    let n = span(todo);
    assert!(frames.len() >= n && keys.len() >= n);
    for i in bits(todo) {
        let need = if tcp & (1 << i) != 0 { 54 } else { 42 };
        assert!(
            frames[i].len() >= need,
            "frame {i} shorter than its headers"
        );
    }
    match usable(isa, Kernel::Parser) {
        #[cfg(target_arch = "x86_64")]
        isa @ (Isa::Avx2 | Isa::Avx512) => {
            x86::ipv4_l4_burst(isa, frames, todo, tcp, in_port, keys)
        }
        _ => {
            for i in bits(todo) {
                crate::packet::extract::fill_ipv4_l4(
                    frames[i],
                    tcp & (1 << i) != 0,
                    in_port,
                    &mut keys[i],
                );
            }
        }
    }
}

/// CRC32-C over the words of `map` (masked by `mask` when given), from
/// `map`, by the SSE4.2 instruction; None when the CPU lacks it.
#[inline(always)]
pub(crate) fn hash_words_sse42(
    words: &[u64; crate::flow::key::FLOW_WORDS],
    mask: Option<&[u64; crate::flow::key::FLOW_WORDS]>,
    map: u32,
) -> Option<u32> {
    #[cfg(target_arch = "x86_64")]
    if cpu().sse42 {
        return Some(x86::hash_words_sse42_safe(words, mask, map));
    }
    let _ = (words, mask, map);
    None
}

#[cfg(test)]
mod tests;
