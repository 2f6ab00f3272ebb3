//! OXM TLVs: the match (`ofp_match`) and the field a SET_FIELD action sets.
//! One table lists every field with its class, number and width; values and
//! masks are carried as big-endian numbers of that width (every OXM payload
//! fits in 128 bits), so the switch side converts with plain shifts.

use crate::consts::{experimenter, match_type, oxm_class};
use crate::error::{DecodeError, Scope};
use crate::wire::{Reader, Result, Writer};

macro_rules! oxm_fields {
    ($($(#[$m:meta])* $v:ident = ($class:expr, $field:expr, $width:expr, $exp:expr, $name:literal)),* $(,)?) => {
        /// A match field this codec knows: OpenFlow basic, Nicira or ONF.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[cfg_attr(test, derive(proptest_derive::Arbitrary))]
        #[allow(missing_docs)]
        pub enum Field { $($(#[$m])* $v),* }

        impl Field {
            /// Every field, in table order.
            pub const ALL: &'static [Field] = &[$(Field::$v),*];

            fn spec(self) -> (u16, u8, usize, Option<u32>, &'static str) {
                match self { $(Field::$v => ($class, $field, $width, $exp, $name)),* }
            }
        }
    };
}

const B: u16 = oxm_class::OPENFLOW_BASIC;
const NX1: u16 = oxm_class::NXM_1;
const EXP: u16 = oxm_class::EXPERIMENTER;
const ONF: Option<u32> = Some(experimenter::ONF);

oxm_fields! {
    /// Ingress port (`OFPP_*` or a port number).
    InPort = (B, 0, 4, None, "in_port"),
    InPhyPort = (B, 1, 4, None, "in_phy_port"),
    Metadata = (B, 2, 8, None, "metadata"),
    EthDst = (B, 3, 6, None, "eth_dst"),
    EthSrc = (B, 4, 6, None, "eth_src"),
    EthType = (B, 5, 2, None, "eth_type"),
    /// 12-bit VID plus `OFPVID_PRESENT`.
    VlanVid = (B, 6, 2, None, "vlan_vid"),
    VlanPcp = (B, 7, 1, None, "vlan_pcp"),
    IpDscp = (B, 8, 1, None, "ip_dscp"),
    IpEcn = (B, 9, 1, None, "ip_ecn"),
    IpProto = (B, 10, 1, None, "ip_proto"),
    Ipv4Src = (B, 11, 4, None, "ipv4_src"),
    Ipv4Dst = (B, 12, 4, None, "ipv4_dst"),
    TcpSrc = (B, 13, 2, None, "tcp_src"),
    TcpDst = (B, 14, 2, None, "tcp_dst"),
    UdpSrc = (B, 15, 2, None, "udp_src"),
    UdpDst = (B, 16, 2, None, "udp_dst"),
    SctpSrc = (B, 17, 2, None, "sctp_src"),
    SctpDst = (B, 18, 2, None, "sctp_dst"),
    Icmpv4Type = (B, 19, 1, None, "icmpv4_type"),
    Icmpv4Code = (B, 20, 1, None, "icmpv4_code"),
    ArpOp = (B, 21, 2, None, "arp_op"),
    ArpSpa = (B, 22, 4, None, "arp_spa"),
    ArpTpa = (B, 23, 4, None, "arp_tpa"),
    ArpSha = (B, 24, 6, None, "arp_sha"),
    ArpTha = (B, 25, 6, None, "arp_tha"),
    Ipv6Src = (B, 26, 16, None, "ipv6_src"),
    Ipv6Dst = (B, 27, 16, None, "ipv6_dst"),
    Ipv6Flabel = (B, 28, 4, None, "ipv6_label"),
    Icmpv6Type = (B, 29, 1, None, "icmpv6_type"),
    Icmpv6Code = (B, 30, 1, None, "icmpv6_code"),
    Ipv6NdTarget = (B, 31, 16, None, "nd_target"),
    Ipv6NdSll = (B, 32, 6, None, "nd_sll"),
    Ipv6NdTll = (B, 33, 6, None, "nd_tll"),
    MplsLabel = (B, 34, 4, None, "mpls_label"),
    MplsTc = (B, 35, 1, None, "mpls_tc"),
    MplsBos = (B, 36, 1, None, "mpls_bos"),
    PbbIsid = (B, 37, 3, None, "pbb_isid"),
    TunnelId = (B, 38, 8, None, "tunnel_id"),
    Ipv6Exthdr = (B, 39, 2, None, "ipv6_exthdr"),
    /// Nicira registers `reg0`..`reg7` (OVS sends them as NXM_NX_REGn).
    Reg0 = (NX1, 0, 4, None, "reg0"),
    Reg1 = (NX1, 1, 4, None, "reg1"),
    Reg2 = (NX1, 2, 4, None, "reg2"),
    Reg3 = (NX1, 3, 4, None, "reg3"),
    Reg4 = (NX1, 4, 4, None, "reg4"),
    Reg5 = (NX1, 5, 4, None, "reg5"),
    Reg6 = (NX1, 6, 4, None, "reg6"),
    Reg7 = (NX1, 7, 4, None, "reg7"),
    /// `ip_frag` (NXM_NX_IP_FRAG): bit 0 fragment, bit 1 later fragment.
    NxIpFrag = (NX1, 26, 1, None, "ip_frag"),
    /// `nw_ttl` (NXM_NX_IP_TTL).
    NxIpTtl = (NX1, 29, 1, None, "nw_ttl"),
    /// `tcp_flags` as NXM_NX_TCP_FLAGS.
    NxTcpFlags = (NX1, 34, 2, None, "tcp_flags"),
    /// `tcp_flags` as OVS sends it in OpenFlow 1.3 (ONF experimenter OXM).
    OnfTcpFlags = (EXP, 42, 2, ONF, "tcp_flags"),
}

impl Field {
    /// OXM class.
    pub fn class(self) -> u16 {
        self.spec().0
    }
    /// OXM field number within the class.
    pub fn number(self) -> u8 {
        self.spec().1
    }
    /// Payload bytes of the value (a mask has as many again).
    pub fn width(self) -> usize {
        self.spec().2
    }
    /// Experimenter id for class 0xffff fields.
    pub fn experimenter(self) -> Option<u32> {
        self.spec().3
    }
    /// The name `ovs-ofctl` prints.
    pub fn name(self) -> &'static str {
        self.spec().4
    }
    /// Largest value the width allows.
    pub fn max_value(self) -> u128 {
        u128::MAX >> (128 - 8 * self.width())
    }
    /// The 32-bit OXM header (for TABLE_FEATURES and Nicira actions).
    pub fn header(self, has_mask: bool) -> u32 {
        let exp = if self.experimenter().is_some() { 4 } else { 0 };
        let len = self.width() * if has_mask { 2 } else { 1 } + exp;
        (u32::from(self.class()) << 16)
            | (u32::from(self.number()) << 9)
            | (u32::from(has_mask) << 8)
            | len as u32
    }
    /// Finds a field by class, number and (class 0xffff) experimenter.
    pub fn lookup(class: u16, number: u8, exp: Option<u32>) -> Option<Field> {
        Field::ALL
            .iter()
            .copied()
            .find(|f| f.class() == class && f.number() == number && f.experimenter() == exp)
    }
    /// Finds the field a 32-bit (non-experimenter) OXM header names.
    pub fn from_header(header: u32) -> Option<Field> {
        Field::lookup((header >> 16) as u16, ((header >> 9) & 0x7f) as u8, None)
    }

    /// The field an NXM/OXM header in a Nicira action (REG_LOAD, REG_MOVE)
    /// names. OVS writes OpenFlow 1.0 fields there as NXM_OF_* (class 0);
    /// those with the same width and meaning as an OXM field map to it.
    /// NXM_OF_IN_PORT (16-bit), NXM_OF_VLAN_TCI and NXM_OF_IP_TOS have no
    /// same-width OXM twin and give `None`.
    pub fn from_nxm_header(header: u32) -> Option<Field> {
        if (header >> 16) as u16 != oxm_class::NXM_0 {
            return Field::from_header(header);
        }
        const NXM_OF: [(u8, Field); 15] = [
            (1, Field::EthDst),
            (2, Field::EthSrc),
            (3, Field::EthType),
            (6, Field::IpProto),
            (7, Field::Ipv4Src),
            (8, Field::Ipv4Dst),
            (9, Field::TcpSrc),
            (10, Field::TcpDst),
            (11, Field::UdpSrc),
            (12, Field::UdpDst),
            (13, Field::Icmpv4Type),
            (14, Field::Icmpv4Code),
            (15, Field::ArpOp),
            (16, Field::ArpSpa),
            (17, Field::ArpTpa),
        ];
        let number = ((header >> 9) & 0x7f) as u8;
        NXM_OF.iter().find(|(n, _)| *n == number).map(|(_, f)| *f)
    }
}

/// One OXM TLV: a field, its value and an optional mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Oxm {
    /// Which field.
    pub field: Field,
    /// Value, right-aligned in `field.width()` bytes.
    pub value: u128,
    /// Mask (1 bits are matched); `None` means exact.
    pub mask: Option<u128>,
}

impl Oxm {
    /// An exact match on `field`.
    pub fn exact(field: Field, value: u128) -> Oxm {
        Oxm {
            field,
            value,
            mask: None,
        }
    }

    /// A masked match on `field`.
    pub fn masked(field: Field, value: u128, mask: u128) -> Oxm {
        Oxm {
            field,
            value,
            mask: Some(mask),
        }
    }

    /// Decodes one TLV. Masks are accepted on any field: which fields a
    /// switch lets be masked is its decision (BAD_MASK), not the codec's.
    pub(crate) fn read(r: &mut Reader) -> Result<Oxm> {
        let header = r.u32()?;
        let class = (header >> 16) as u16;
        let number = ((header >> 9) & 0x7f) as u8;
        let has_mask = header & 0x100 != 0;
        let mut len = (header & 0xff) as usize;
        let exp = if class == oxm_class::EXPERIMENTER {
            len = len
                .checked_sub(4)
                .ok_or(DecodeError::BadLen(Scope::Match))?;
            Some(r.u32()?)
        } else {
            None
        };
        let field = Field::lookup(class, number, exp).ok_or(DecodeError::BadField {
            class,
            field: number,
        })?;
        let w = field.width();
        if len != w * if has_mask { 2 } else { 1 } {
            return Err(DecodeError::BadLen(Scope::Match));
        }
        let value = be_uint(r.bytes(w)?);
        let mask = if has_mask {
            Some(be_uint(r.bytes(w)?))
        } else {
            None
        };
        Ok(Oxm { field, value, mask })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u32(self.field.header(self.mask.is_some()));
        if let Some(e) = self.field.experimenter() {
            w.u32(e);
        }
        let width = self.field.width();
        w.bytes(&self.value.to_be_bytes()[16 - width..]);
        if let Some(m) = self.mask {
            w.bytes(&m.to_be_bytes()[16 - width..]);
        }
    }
}

fn be_uint(b: &[u8]) -> u128 {
    b.iter().fold(0u128, |acc, &x| (acc << 8) | u128::from(x))
}

/// `ofp_match` of type OXM: a list of fields. An empty list matches all.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct Match {
    /// The fields, in wire order.
    pub fields: Vec<Oxm>,
}

impl Match {
    /// Decodes `ofp_match` and its padding to 8 bytes.
    pub(crate) fn read(r: &mut Reader) -> Result<Match> {
        let typ = r
            .peek_u16(0)
            .map_err(|_| DecodeError::BadLen(Scope::Match))?;
        if typ != match_type::OXM {
            return Err(DecodeError::BadMatchType(typ));
        }
        let mut body = r.padded_tlv(2, 4, Scope::Match)?;
        body.skip(4)?;
        Ok(Match {
            fields: crate::wire::read_all(&mut body, Oxm::read)?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        let start = w.len();
        w.u16(match_type::OXM);
        w.u16(0);
        self.fields.iter().for_each(|f| f.write(w));
        w.patch_len(start, 2);
        w.pad8_from(start);
    }

    /// The field's entry, if matched.
    pub fn get(&self, field: Field) -> Option<&Oxm> {
        self.fields.iter().find(|o| o.field == field)
    }
}

#[cfg(test)]
pub(crate) mod arb {
    use super::*;
    use proptest::prelude::*;

    fn width_value(f: Field) -> impl Strategy<Value = u128> {
        any::<u128>().prop_map(move |v| v & f.max_value())
    }

    impl Arbitrary for Oxm {
        type Parameters = ();
        type Strategy = BoxedStrategy<Oxm>;
        fn arbitrary_with(_: ()) -> Self::Strategy {
            any::<Field>()
                .prop_flat_map(|f| {
                    (
                        Just(f),
                        width_value(f),
                        proptest::option::of(width_value(f)),
                    )
                })
                .prop_map(|(field, value, mask)| Oxm { field, value, mask })
                .boxed()
        }
    }

    /// An OXM without a mask, as SET_FIELD carries.
    pub(crate) fn exact_oxm() -> impl Strategy<Value = Oxm> {
        any::<Oxm>().prop_map(|o| Oxm { mask: None, ..o })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout_matches_spec() {
        // OXM_OF_IN_PORT is 0x80000004, OXM_OF_ETH_DST_W 0x8000070c.
        assert_eq!(Field::InPort.header(false), 0x8000_0004);
        assert_eq!(Field::EthDst.header(true), 0x8000_070c);
        assert_eq!(Field::Reg0.header(false), 0x0001_0004);
        assert_eq!(Field::from_header(0x8000_1401), Some(Field::IpProto));
        assert_eq!(Field::from_header(0x8000_0a02), Some(Field::EthType));
    }

    #[test]
    fn nxm_headers_map_to_oxm_fields() {
        // NXM_OF_ETH_SRC and NXM_OF_ETH_DST, as ovs-ofctl writes `move:`.
        assert_eq!(Field::from_nxm_header(0x0000_0406), Some(Field::EthSrc));
        assert_eq!(Field::from_nxm_header(0x0000_0206), Some(Field::EthDst));
        assert_eq!(Field::from_nxm_header(0x0001_0004), Some(Field::Reg0));
        assert_eq!(Field::from_nxm_header(0x0000_0002), None);
        for f in Field::ALL.iter().filter(|f| f.experimenter().is_none()) {
            assert_eq!(Field::from_nxm_header(f.header(false)), Some(*f));
        }
    }

    #[test]
    fn match_pads_to_eight() {
        let m = Match {
            fields: vec![Oxm::exact(Field::InPort, 1)],
        };
        let mut w = Writer::default();
        m.write(&mut w);
        assert_eq!(w.buf, [0, 1, 0, 12, 0x80, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0]);
        let back = Match::read(&mut Reader::new(&w.buf, Scope::Match)).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn bad_oxm_length_is_bad_match_len() {
        let bytes = [0, 1, 0, 12, 0x80, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0];
        let err = Match::read(&mut Reader::new(&bytes, Scope::Match)).unwrap_err();
        assert_eq!(err.ofp_error(), (4, 1));
    }

    #[test]
    fn unknown_field_is_bad_field() {
        let bytes = [0, 1, 0, 12, 0x80, 0, 0x7e, 4, 0, 0, 0, 1, 0, 0, 0, 0];
        let err = Match::read(&mut Reader::new(&bytes, Scope::Match)).unwrap_err();
        assert_eq!(err.ofp_error(), (4, 6));
    }
}
