//! Which SIMD variant each stage runs. The default comes from the CPU and
//! from the benchmarks (a variant is the default only where it measured
//! faster than scalar); `pmdswitch ctl` changes it as OVS does: priorities
//! for the subtable lookup (`subtable-lookup-prio-set`), a named choice for
//! the miniflow parser (`miniflow-parser-set`) and for the packet hash.
use super::{Isa, Kernel};

/// The variant each stage runs on a PMD.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SimdChoice {
    /// The burst flow hash.
    pub hash: Isa,
    /// The dpcls subtable lookup.
    pub lookup: Isa,
    /// The fixed-offset IPv4 TCP/UDP extraction.
    pub parser: Isa,
}

impl Default for SimdChoice {
    fn default() -> Self {
        SimdConfig::default().choice()
    }
}

/// The variants preferred by default, best first; the first the CPU runs
/// is used. From the `simd` groups of `cargo bench --bench datapath_core`
/// (figures in the README): only variants that beat scalar there come
/// before it. The AVX2 hash measured slower than SSE4.2's CRC32-C
/// instruction; AVX-512 was not measured (no such CPU here) and stays
/// opt-in until it is.
const DEFAULT_HASH: &[Isa] = &[Isa::Scalar];
const DEFAULT_LOOKUP: &[Isa] = &[Isa::Avx2, Isa::Scalar];
const DEFAULT_PARSER: &[Isa] = &[Isa::Avx2, Isa::Scalar];

fn preferred(k: Kernel) -> &'static [Isa] {
    match k {
        Kernel::Hash => DEFAULT_HASH,
        Kernel::Lookup => DEFAULT_LOOKUP,
        Kernel::Parser => DEFAULT_PARSER,
    }
}

/// The default variant of `k` on this CPU.
pub fn default_variant(k: Kernel) -> Isa {
    preferred(k)
        .iter()
        .copied()
        .find(|i| i.available(k))
        .unwrap_or(Isa::Scalar)
}

/// The control side's SIMD settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimdConfig {
    /// Subtable lookup priority of each variant (in [`Isa::ALL`] order): the
    /// available variant with the highest runs, the first listed on a tie.
    pub lookup_prio: [u8; 3],
    /// The packet hash variant.
    pub hash: Isa,
    /// The miniflow parser variant.
    pub parser: Isa,
}

impl Default for SimdConfig {
    fn default() -> Self {
        let best = default_variant(Kernel::Lookup);
        SimdConfig {
            lookup_prio: Isa::ALL.map(|i| if i == best { 1 } else { 0 }),
            hash: default_variant(Kernel::Hash),
            parser: default_variant(Kernel::Parser),
        }
    }
}

impl SimdConfig {
    /// What the PMDs run under these settings.
    pub fn choice(&self) -> SimdChoice {
        let ok = |i: Isa, k| if i.available(k) { i } else { Isa::Scalar };
        SimdChoice {
            hash: ok(self.hash, Kernel::Hash),
            lookup: self.lookup_in_use(),
            parser: ok(self.parser, Kernel::Parser),
        }
    }

    /// The subtable lookup variant the priorities select.
    pub fn lookup_in_use(&self) -> Isa {
        let mut best = Isa::Scalar;
        let mut prio = None;
        for (i, p) in Isa::ALL.into_iter().zip(self.lookup_prio) {
            if i.available(Kernel::Lookup) && prio.is_none_or(|b| p > b) {
                best = i;
                prio = Some(p);
            }
        }
        best
    }

    /// The priority of the lookup variant `isa`.
    pub fn lookup_priority(&self, isa: Isa) -> u8 {
        self.lookup_prio[isa as usize]
    }

    /// Sets the priority of the lookup variant named `name`; any variant
    /// may be given one, as in OVS, but only an available one runs.
    pub fn set_lookup_prio(&mut self, name: &str, prio: &str) -> Result<(), String> {
        let isa = variant(name)?;
        let p: u8 = prio
            .parse()
            .map_err(|_| format!("priority {prio:?} is not a number from 0 to 255"))?;
        self.lookup_prio[isa as usize] = p;
        Ok(())
    }

    /// Chooses the variant of kernel `k` (the parser or the hash) by name;
    /// refused when the CPU lacks it.
    pub fn set(&mut self, k: Kernel, name: &str) -> Result<(), String> {
        let isa = variant(name)?;
        if !isa.available(k) {
            return Err(format!(
                "{name} needs CPU features {}, which this CPU lacks",
                isa.needs(k)
            ));
        }
        match k {
            Kernel::Hash => self.hash = isa,
            Kernel::Parser => self.parser = isa,
            Kernel::Lookup => return Err("the lookup is chosen by priority".into()),
        }
        Ok(())
    }
}

fn variant(name: &str) -> Result<Isa, String> {
    Isa::from_name(name).ok_or_else(|| {
        let names: Vec<_> = Isa::ALL.iter().map(|i| i.name()).collect();
        format!("no variant {name:?} (one of {})", names.join(", "))
    })
}
