//! The flow key: every header field the datapath can match on, laid out in
//! fixed 64-bit words so that a key, a mask and a miniflow all share one shape.
//!
//! This layout is the contract between extraction (`packet/`), the caches
//! (`cache/`) and the rule tables (`ofproto/`). A field never straddles a word
//! except the 128-bit IPv6 addresses, which fill two whole words.
//!
//! | word | bits 63..48   | 47..32      | 31..16        | 15..0         |
//! |------|---------------|-------------|---------------|---------------|
//! | 0    | in_port (32, high half)     | dl_type       | nw_frag:8 / pad:8 |
//! | 1    | dl_dst (48)                               | vlan_tci0     |
//! | 2    | dl_src (48)                               | vlan_tci1     |
//! | 3    | nw_src (32)                 | nw_dst (32)                   |
//! | 4    | nw_proto:8 nw_tos:8 | nw_ttl:8 pad:8 | ipv6_label (32, 20 used) |
//! | 5    | tp_src        | tp_dst      | tcp_flags     | vlan_tpid0    |
//! | 6-7  | ipv6_src (128)                                            |
//! | 8-9  | ipv6_dst (128)                                            |
//! | 10-11| nd_target (128)                                           |
//! | 12   | arp_sha / nd_sll (48)                     | vlan_tpid1    |
//! | 13   | arp_tha / nd_tll (48)                     | pad           |
//!
//! Conventions follow OVS so rule text means the same thing in both switches:
//! ARP puts its opcode in `nw_proto` and its sender/target protocol addresses in
//! `nw_src`/`nw_dst`; ICMP puts type/code in `tp_src`/`tp_dst`; a VLAN TCI
//! carries `VLAN_CFI` (0x1000) when the tag is present, so "no tag" (0) differs
//! from "tag with VID 0 and PCP 0" (0x1000).

/// Number of 64-bit words in a [`FlowKey`].
pub const FLOW_WORDS: usize = 14;

/// Marks a VLAN TCI as present (OVS's convention, the CFI/DEI bit position).
pub const VLAN_CFI: u16 = 0x1000;

/// `nw_frag` bit: the packet is an IP fragment.
pub const FRAG_ANY: u8 = 0x01;
/// `nw_frag` bit: the fragment is not the first one (no L4 header).
pub const FRAG_LATER: u8 = 0x02;

/// A flow key (or a mask of the same shape): `FLOW_WORDS` 64-bit words.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(C, align(64))]
pub struct FlowKey {
    pub words: [u64; FLOW_WORDS],
}

impl std::fmt::Debug for FlowKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut l = f.debug_map();
        for field in Field::ALL {
            let v = self.get(*field);
            if v != 0 {
                l.entry(&field.name(), &format_args!("{v:#x}"));
            }
        }
        l.finish()
    }
}

/// Where a field lives in the key: its first word, the shift of its least
/// significant bit within that word, and its width in bits (128 = two words).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldPos {
    pub word: usize,
    pub shift: u32,
    pub bits: u32,
}

macro_rules! fields {
    ($( $(#[$doc:meta])* $variant:ident = ($name:literal, $word:expr, $shift:expr, $bits:expr) ),* $(,)?) => {
        /// A matchable field of the flow key.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Field { $( $(#[$doc])* $variant ),* }

        impl Field {
            /// Every field, in layout order.
            pub const ALL: &'static [Field] = &[$(Field::$variant),*];

            /// The field's position in the key.
            pub const fn pos(self) -> FieldPos {
                match self { $( Field::$variant => FieldPos { word: $word, shift: $shift, bits: $bits } ),* }
            }

            /// The field's name in OVS flow syntax.
            pub const fn name(self) -> &'static str {
                match self { $( Field::$variant => $name ),* }
            }
        }
    };
}

fields! {
    InPort = ("in_port", 0, 32, 32),
    DlType = ("dl_type", 0, 16, 16),
    NwFrag = ("nw_frag", 0, 8, 8),
    DlDst = ("dl_dst", 1, 16, 48),
    /// Outer VLAN TCI (with `VLAN_CFI` when present).
    VlanTci0 = ("vlan_tci", 1, 0, 16),
    DlSrc = ("dl_src", 2, 16, 48),
    /// Inner VLAN TCI of a QinQ frame (with `VLAN_CFI` when present).
    VlanTci1 = ("vlan_tci1", 2, 0, 16),
    NwSrc = ("nw_src", 3, 32, 32),
    NwDst = ("nw_dst", 3, 0, 32),
    NwProto = ("nw_proto", 4, 56, 8),
    /// The whole IPv4 TOS / IPv6 traffic class byte (DSCP and ECN).
    NwTos = ("nw_tos", 4, 48, 8),
    NwTtl = ("nw_ttl", 4, 40, 8),
    Ipv6Label = ("ipv6_label", 4, 0, 32),
    TpSrc = ("tp_src", 5, 48, 16),
    TpDst = ("tp_dst", 5, 32, 16),
    TcpFlags = ("tcp_flags", 5, 16, 16),
    VlanTpid0 = ("vlan_tpid", 5, 0, 16),
    Ipv6Src = ("ipv6_src", 6, 0, 128),
    Ipv6Dst = ("ipv6_dst", 8, 0, 128),
    NdTarget = ("nd_target", 10, 0, 128),
    /// ARP sender hardware address, or the ND source link-layer address.
    ArpSha = ("arp_sha", 12, 16, 48),
    VlanTpid1 = ("vlan_tpid1", 12, 0, 16),
    /// ARP target hardware address, or the ND target link-layer address.
    ArpTha = ("arp_tha", 13, 16, 48),
}

impl Field {
    /// All-ones mask of the field's width, as a u128.
    pub const fn full_mask(self) -> u128 {
        let b = self.pos().bits;
        if b >= 128 {
            u128::MAX
        } else {
            (1u128 << b) - 1
        }
    }

    /// Looks a field up by its OVS name (aliases included).
    pub fn from_name(name: &str) -> Option<Field> {
        let alias = match name {
            "arp_op" => Some(Field::NwProto),
            "arp_spa" => Some(Field::NwSrc),
            "arp_tpa" => Some(Field::NwDst),
            "nd_sll" => Some(Field::ArpSha),
            "nd_tll" => Some(Field::ArpTha),
            "icmp_type" | "icmpv6_type" => Some(Field::TpSrc),
            "icmp_code" | "icmpv6_code" => Some(Field::TpDst),
            "eth_src" => Some(Field::DlSrc),
            "eth_dst" => Some(Field::DlDst),
            "eth_type" => Some(Field::DlType),
            "ip_proto" => Some(Field::NwProto),
            "ip_src" => Some(Field::NwSrc),
            "ip_dst" => Some(Field::NwDst),
            _ => None,
        };
        alias.or_else(|| Field::ALL.iter().copied().find(|f| f.name() == name))
    }
}

impl FlowKey {
    /// The all-zero key.
    pub const ZERO: FlowKey = FlowKey {
        words: [0; FLOW_WORDS],
    };

    /// Reads a field (right-aligned).
    #[inline(always)]
    pub fn get(&self, f: Field) -> u128 {
        let p = f.pos();
        if p.bits == 128 {
            ((self.words[p.word] as u128) << 64) | self.words[p.word + 1] as u128
        } else {
            ((self.words[p.word] >> p.shift) & ((1u64 << p.bits) - 1)) as u128
        }
    }

    /// Writes a field (value right-aligned; bits beyond the width are ignored).
    #[inline(always)]
    pub fn set(&mut self, f: Field, v: u128) {
        let p = f.pos();
        if p.bits == 128 {
            self.words[p.word] = (v >> 64) as u64;
            self.words[p.word + 1] = v as u64;
        } else {
            let m = ((1u64 << p.bits) - 1) << p.shift;
            self.words[p.word] = (self.words[p.word] & !m) | (((v as u64) << p.shift) & m);
        }
    }

    /// Bitmap of the words this field touches.
    pub const fn field_words(f: Field) -> u32 {
        let p = f.pos();
        if p.bits == 128 {
            0b11 << p.word
        } else {
            1 << p.word
        }
    }

    /// `self & mask`, word by word.
    #[inline(always)]
    pub fn masked(&self, mask: &FlowKey) -> FlowKey {
        let mut out = FlowKey::ZERO;
        for i in 0..FLOW_WORDS {
            out.words[i] = self.words[i] & mask.words[i];
        }
        out
    }

    /// Word-by-word equality without a `memcmp` call (the derived `==`
    /// compiles to one): the EMC compares keys on every packet.
    #[inline(always)]
    pub fn same_words(a: &[u64; FLOW_WORDS], b: &[u64; FLOW_WORDS]) -> bool {
        let mut d = 0;
        for i in 0..FLOW_WORDS {
            d |= a[i] ^ b[i];
        }
        d == 0
    }

    /// Bitmap of the non-zero words (for a mask: the words a lookup must read).
    pub fn nonzero_map(&self) -> u32 {
        let mut map = 0;
        for (i, w) in self.words.iter().enumerate() {
            if *w != 0 {
                map |= 1 << i;
            }
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_do_not_overlap() {
        let mut seen = FlowKey::ZERO;
        for f in Field::ALL {
            let mut k = FlowKey::ZERO;
            k.set(*f, u128::MAX);
            assert_eq!(k.get(*f), f.full_mask(), "{f:?} round trip");
            for i in 0..FLOW_WORDS {
                assert_eq!(seen.words[i] & k.words[i], 0, "{f:?} overlaps word {i}");
                seen.words[i] |= k.words[i];
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for f in Field::ALL {
            assert_eq!(Field::from_name(f.name()), Some(*f));
        }
        assert_eq!(Field::from_name("arp_spa"), Some(Field::NwSrc));
        assert_eq!(Field::from_name("nope"), None);
    }
}
