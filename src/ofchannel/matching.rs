//! OXM matches to and from the switch's masked flow keys: which OpenFlow
//! field is which key field (and which bits of it), the prerequisites
//! OpenFlow 1.3 sets, and the ERROR for what our key cannot match.
use super::Refusal;
use crate::flow::key::{Field as K, VLAN_CFI};
use crate::ofproto::Match;
use openflow::consts::error::{bad_match, BAD_MATCH};
use openflow::oxm::{Field as O, Match as OxmMatch, Oxm};

const ETH_IP: u128 = 0x0800;
const ETH_ARP: u128 = 0x0806;
const ETH_IPV6: u128 = 0x86dd;
const TCP: u128 = 6;
const UDP: u128 = 17;
const SCTP: u128 = 132;
const ICMP: u128 = 1;
const ICMPV6: u128 = 58;

/// Where an OXM field lives in the key: the key field, the shift of the
/// OXM value within it, and the key bits the field covers.
fn place(f: O) -> Option<(K, u32, u128)> {
    let whole = |k: K| Some((k, 0, k.full_mask()));
    match f {
        O::InPort => whole(K::InPort),
        O::EthDst => whole(K::DlDst),
        O::EthSrc => whole(K::DlSrc),
        O::EthType => whole(K::DlType),
        // The TCI keeps VLAN_CFI (0x1000) for "tagged", as OFPVID_PRESENT.
        O::VlanVid => Some((K::VlanTci0, 0, 0x1fff)),
        O::VlanPcp => Some((K::VlanTci0, 13, 0xe000)),
        O::IpDscp => Some((K::NwTos, 2, 0xfc)),
        O::IpEcn => Some((K::NwTos, 0, 0x03)),
        O::IpProto | O::ArpOp => whole(K::NwProto),
        O::Ipv4Src | O::ArpSpa => whole(K::NwSrc),
        O::Ipv4Dst | O::ArpTpa => whole(K::NwDst),
        O::TcpSrc | O::UdpSrc | O::SctpSrc | O::Icmpv4Type | O::Icmpv6Type => whole(K::TpSrc),
        O::TcpDst | O::UdpDst | O::SctpDst | O::Icmpv4Code | O::Icmpv6Code => whole(K::TpDst),
        O::ArpSha | O::Ipv6NdSll => whole(K::ArpSha),
        O::ArpTha | O::Ipv6NdTll => whole(K::ArpTha),
        O::Ipv6Src => whole(K::Ipv6Src),
        O::Ipv6Dst => whole(K::Ipv6Dst),
        O::Ipv6Flabel => Some((K::Ipv6Label, 0, 0x000f_ffff)),
        O::Ipv6NdTarget => whole(K::NdTarget),
        O::NxIpFrag => whole(K::NwFrag),
        O::NxIpTtl => whole(K::NwTtl),
        O::NxTcpFlags | O::OnfTcpFlags => Some((K::TcpFlags, 0, 0x0fff)),
        _ => None,
    }
}

/// The OXM fields our key can match.
pub fn matchable() -> impl Iterator<Item = O> {
    O::ALL.iter().copied().filter(|f| place(*f).is_some())
}

/// Fields OpenFlow 1.3 does not let be masked.
pub fn maskable(f: O) -> bool {
    !matches!(
        f,
        O::InPort
            | O::EthType
            | O::IpProto
            | O::VlanPcp
            | O::IpDscp
            | O::IpEcn
            | O::ArpOp
            | O::Icmpv4Type
            | O::Icmpv4Code
            | O::Icmpv6Type
            | O::Icmpv6Code
    )
}

/// What must be matched before `f` may be: (key field, allowed values).
fn prerequisites(f: O) -> &'static [(K, &'static [u128])] {
    const IP_ANY: &[u128] = &[ETH_IP, ETH_IPV6];
    match f {
        O::IpDscp | O::IpEcn | O::IpProto | O::NxIpFrag | O::NxIpTtl => &[(K::DlType, IP_ANY)],
        O::Ipv4Src | O::Ipv4Dst => &[(K::DlType, &[ETH_IP])],
        O::ArpOp | O::ArpSpa | O::ArpTpa | O::ArpSha | O::ArpTha => &[(K::DlType, &[ETH_ARP])],
        O::Ipv6Src | O::Ipv6Dst | O::Ipv6Flabel => &[(K::DlType, &[ETH_IPV6])],
        O::TcpSrc | O::TcpDst | O::NxTcpFlags | O::OnfTcpFlags => {
            &[(K::DlType, IP_ANY), (K::NwProto, &[TCP])]
        }
        O::UdpSrc | O::UdpDst => &[(K::DlType, IP_ANY), (K::NwProto, &[UDP])],
        O::SctpSrc | O::SctpDst => &[(K::DlType, IP_ANY), (K::NwProto, &[SCTP])],
        O::Icmpv4Type | O::Icmpv4Code => &[(K::DlType, &[ETH_IP]), (K::NwProto, &[ICMP])],
        O::Icmpv6Type | O::Icmpv6Code => &[(K::DlType, &[ETH_IPV6]), (K::NwProto, &[ICMPV6])],
        O::Ipv6NdTarget => &[
            (K::DlType, &[ETH_IPV6]),
            (K::NwProto, &[ICMPV6]),
            (K::TpSrc, &[135, 136]),
        ],
        O::Ipv6NdSll => &[
            (K::DlType, &[ETH_IPV6]),
            (K::NwProto, &[ICMPV6]),
            (K::TpSrc, &[135]),
        ],
        O::Ipv6NdTll => &[
            (K::DlType, &[ETH_IPV6]),
            (K::NwProto, &[ICMPV6]),
            (K::TpSrc, &[136]),
        ],
        _ => &[],
    }
}

/// Whether `m` pins what OpenFlow requires before `f` may be matched or
/// set (an IPv4 address needs eth_type 0x0800, a TCP port ip_proto 6 ...).
pub fn prerequisites_met(f: O, m: &Match) -> bool {
    prerequisites(f)
        .iter()
        .all(|(k, allowed)| m.mask.get(*k) == k.full_mask() && allowed.contains(&m.key.get(*k)))
}

fn refuse(code: u16) -> Refusal {
    Refusal::new(BAD_MATCH, code)
}

/// The switch's match for an OXM match, or the ERROR that refuses it.
pub fn from_oxm(m: &OxmMatch) -> Result<Match, Refusal> {
    let mut out = Match::ANY;
    for (i, o) in m.fields.iter().enumerate() {
        if m.fields[..i].iter().any(|p| p.field == o.field) {
            return Err(refuse(bad_match::DUP_FIELD));
        }
        let (k, shift, bits) = place(o.field).ok_or(refuse(bad_match::BAD_FIELD))?;
        let max = o.field.max_value();
        if o.mask.is_some() && !maskable(o.field) {
            return Err(refuse(bad_match::BAD_MASK));
        }
        let mask = o.mask.unwrap_or(max);
        let value = o.value & mask;
        if (value << shift) & !bits != 0 || (mask << shift) & !bits != 0 && o.mask.is_some() {
            return Err(refuse(bad_match::BAD_VALUE));
        }
        out.set_masked(k, value << shift, (mask << shift) & bits);
        if o.field == O::VlanPcp {
            // A priority exists only on a tagged frame.
            out.set_masked(K::VlanTci0, u128::from(VLAN_CFI), u128::from(VLAN_CFI));
        }
    }
    for o in &m.fields {
        if !prerequisites_met(o.field, &out) {
            return Err(refuse(bad_match::BAD_PREREQ));
        }
        if o.field == O::VlanPcp && m.get(O::VlanVid).is_some_and(|v| v.value == 0) {
            return Err(refuse(bad_match::BAD_PREREQ));
        }
    }
    Ok(out)
}

/// The OXM field a key field stands for in a match with this context.
pub(super) fn oxm_of(k: K, m: &Match) -> Option<O> {
    let exact = |f: K| (m.mask.get(f) == f.full_mask()).then(|| m.key.get(f));
    let dl = exact(K::DlType);
    let proto = exact(K::NwProto);
    let arp = dl == Some(ETH_ARP);
    let ipv6 = dl == Some(ETH_IPV6);
    Some(match k {
        K::InPort => O::InPort,
        K::DlType => O::EthType,
        K::NwFrag => O::NxIpFrag,
        K::DlDst => O::EthDst,
        K::DlSrc => O::EthSrc,
        K::NwSrc if arp => O::ArpSpa,
        K::NwSrc => O::Ipv4Src,
        K::NwDst if arp => O::ArpTpa,
        K::NwDst => O::Ipv4Dst,
        K::NwProto if arp => O::ArpOp,
        K::NwProto => O::IpProto,
        K::NwTtl => O::NxIpTtl,
        K::Ipv6Label => O::Ipv6Flabel,
        K::TcpFlags => O::OnfTcpFlags,
        K::Ipv6Src => O::Ipv6Src,
        K::Ipv6Dst => O::Ipv6Dst,
        K::NdTarget => O::Ipv6NdTarget,
        K::ArpSha if ipv6 => O::Ipv6NdSll,
        K::ArpSha => O::ArpSha,
        K::ArpTha if ipv6 => O::Ipv6NdTll,
        K::ArpTha => O::ArpTha,
        K::TpSrc | K::TpDst => {
            let src = k == K::TpSrc;
            match proto? {
                TCP => [O::TcpDst, O::TcpSrc][usize::from(src)],
                UDP => [O::UdpDst, O::UdpSrc][usize::from(src)],
                SCTP => [O::SctpDst, O::SctpSrc][usize::from(src)],
                ICMP => [O::Icmpv4Code, O::Icmpv4Type][usize::from(src)],
                ICMPV6 => [O::Icmpv6Code, O::Icmpv6Type][usize::from(src)],
                _ => return None,
            }
        }
        // VlanTci0 and NwTos split into two OXM fields each (below); the
        // inner tag and the TPIDs have no OXM field.
        _ => return None,
    })
}

fn push(out: &mut Vec<Oxm>, f: O, value: u128, mask: u128) {
    if mask == 0 {
        return;
    }
    // All the bits the key holds count as exact (vlan_vid's 13, say).
    let full = place(f).map_or(f.max_value(), |(_, shift, bits)| bits >> shift);
    out.push(if mask == full || !maskable(f) {
        Oxm::exact(f, value)
    } else {
        Oxm::masked(f, value, mask)
    });
}

/// The OXM match for a rule's match. Matches on the inner VLAN tag or the
/// TPIDs (possible in config rules) have no OXM field and are left out.
pub fn to_oxm(m: &Match) -> OxmMatch {
    let mut out = Vec::new();
    for &k in K::ALL {
        let (v, mask) = (m.key.get(k), m.mask.get(k));
        if mask == 0 {
            continue;
        }
        match k {
            K::VlanTci0 => {
                push(&mut out, O::VlanVid, v & 0x1fff, mask & 0x1fff);
                if mask & 0xe000 == 0xe000 {
                    push(&mut out, O::VlanPcp, (v >> 13) & 7, 7);
                }
            }
            K::NwTos => {
                if mask & 0xfc == 0xfc {
                    push(&mut out, O::IpDscp, v >> 2, 0x3f);
                }
                if mask & 3 == 3 {
                    push(&mut out, O::IpEcn, v & 3, 3);
                }
            }
            _ => {
                if let Some(f) = oxm_of(k, m) {
                    push(&mut out, f, v, mask);
                }
            }
        }
    }
    OxmMatch { fields: out }
}

/// The key field and bits a SET_FIELD of `f` writes: (field, value, mask).
pub fn set_field_target(o: &Oxm) -> Option<(K, u128, u128)> {
    let (k, shift, bits) = place(o.field)?;
    let mask = o.mask.unwrap_or(o.field.max_value());
    Some((k, (o.value & mask) << shift, (mask << shift) & bits))
}

/// The OXM a SET_FIELD on key field `k` (value and mask in the key's
/// terms) is written as, given the rule's match for context.
pub fn set_field_oxm(k: K, value: u128, mask: u128, m: &Match) -> Option<Oxm> {
    let (f, shift) = match k {
        K::NwTos if mask == 0xfc => (O::IpDscp, 2),
        K::NwTos if mask == 0x03 => (O::IpEcn, 0),
        K::NwSrc => (O::Ipv4Src, 0),
        K::NwDst => (O::Ipv4Dst, 0),
        _ => (oxm_of(k, m)?, 0),
    };
    let (value, mask) = (value >> shift, mask >> shift);
    Some(if mask == f.max_value() {
        Oxm::exact(f, value)
    } else {
        Oxm::masked(f, value, mask)
    })
}
