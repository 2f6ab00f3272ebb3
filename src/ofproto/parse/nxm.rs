//! `load:VALUE->FIELD[range]` and `move:SRC[range]->DST[range]`, OVS's
//! register actions, over the fields of our key: OVS names (`eth_src`,
//! `ip_dscp`, ...) and their NXM/OXM names (`NXM_OF_ETH_SRC`,
//! `OXM_OF_IPV4_SRC`, ...), each placed at its bits within our key's slot.

use super::{check_prereq, err, match_field, parse_num, ParseError, Prereq};
use crate::flow::key::Field;
use crate::ofproto::rule::{Action, FieldMove, Match};

/// A field as OVS sees it: our slot, where its bit 0 sits in that slot,
/// its width, and what the match must say for it to exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bits {
    pub field: Field,
    pub shift: u32,
    pub width: u32,
}

/// OVS's NXM/OXM names for fields whose OpenFlow name we know.
const NXM: &[(&str, &str)] = &[
    ("NXM_OF_ETH_DST", "eth_dst"),
    ("NXM_OF_ETH_SRC", "eth_src"),
    ("OXM_OF_ETH_DST", "eth_dst"),
    ("OXM_OF_ETH_SRC", "eth_src"),
    ("NXM_OF_VLAN_TCI", "vlan_tci"),
    ("OXM_OF_VLAN_VID", "vlan_vid"),
    ("OXM_OF_VLAN_PCP", "vlan_pcp"),
    ("NXM_OF_IP_TOS", "nw_tos"),
    ("OXM_OF_IP_DSCP", "ip_dscp"),
    ("NXM_NX_IP_ECN", "ip_ecn"),
    ("OXM_OF_IP_ECN", "ip_ecn"),
    ("NXM_NX_IP_TTL", "nw_ttl"),
    ("NXM_OF_IP_SRC", "ip_src"),
    ("NXM_OF_IP_DST", "ip_dst"),
    ("OXM_OF_IPV4_SRC", "ip_src"),
    ("OXM_OF_IPV4_DST", "ip_dst"),
    ("NXM_OF_TCP_SRC", "tcp_src"),
    ("NXM_OF_TCP_DST", "tcp_dst"),
    ("OXM_OF_TCP_SRC", "tcp_src"),
    ("OXM_OF_TCP_DST", "tcp_dst"),
    ("NXM_OF_UDP_SRC", "udp_src"),
    ("NXM_OF_UDP_DST", "udp_dst"),
    ("OXM_OF_UDP_SRC", "udp_src"),
    ("OXM_OF_UDP_DST", "udp_dst"),
    ("OXM_OF_SCTP_SRC", "sctp_src"),
    ("OXM_OF_SCTP_DST", "sctp_dst"),
    ("NXM_OF_ICMP_TYPE", "icmp_type"),
    ("NXM_OF_ICMP_CODE", "icmp_code"),
    ("OXM_OF_ICMPV4_TYPE", "icmp_type"),
    ("OXM_OF_ICMPV4_CODE", "icmp_code"),
    ("NXM_NX_ICMPV6_TYPE", "icmpv6_type"),
    ("NXM_NX_ICMPV6_CODE", "icmpv6_code"),
    ("OXM_OF_ICMPV6_TYPE", "icmpv6_type"),
    ("OXM_OF_ICMPV6_CODE", "icmpv6_code"),
    ("NXM_OF_ARP_OP", "arp_op"),
    ("OXM_OF_ARP_OP", "arp_op"),
    ("NXM_OF_ARP_SPA", "arp_spa"),
    ("NXM_OF_ARP_TPA", "arp_tpa"),
    ("OXM_OF_ARP_SPA", "arp_spa"),
    ("OXM_OF_ARP_TPA", "arp_tpa"),
    ("NXM_NX_ARP_SHA", "arp_sha"),
    ("NXM_NX_ARP_THA", "arp_tha"),
    ("OXM_OF_ARP_SHA", "arp_sha"),
    ("OXM_OF_ARP_THA", "arp_tha"),
    ("NXM_NX_IPV6_SRC", "ipv6_src"),
    ("NXM_NX_IPV6_DST", "ipv6_dst"),
    ("OXM_OF_IPV6_SRC", "ipv6_src"),
    ("OXM_OF_IPV6_DST", "ipv6_dst"),
    ("NXM_NX_IPV6_LABEL", "ipv6_label"),
    ("OXM_OF_IPV6_FLABEL", "ipv6_label"),
    ("NXM_NX_ND_TARGET", "nd_target"),
    ("OXM_OF_IPV6_ND_TARGET", "nd_target"),
    ("NXM_NX_ND_SLL", "nd_sll"),
    ("NXM_NX_ND_TLL", "nd_tll"),
    ("OXM_OF_IPV6_ND_SLL", "nd_sll"),
    ("OXM_OF_IPV6_ND_TLL", "nd_tll"),
];

/// A writable field by OVS or NXM/OXM name: its bits and prerequisite.
/// Read-only fields (`eth_type`, `ip_proto`, ...) are not writable.
fn field_bits(name: &str) -> Option<(Bits, Prereq)> {
    let name = NXM
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(name, |(_, ovs)| *ovs);
    let bits = |field: Field, shift: u32, width: u32| Bits {
        field,
        shift,
        width,
    };
    Some(match name {
        "vlan_tci" => (bits(Field::VlanTci0, 0, 16), Prereq::None),
        // VID with OFPVID_PRESENT, as OpenFlow 1.3 has it.
        "vlan_vid" => (bits(Field::VlanTci0, 0, 13), Prereq::None),
        "vlan_pcp" => (bits(Field::VlanTci0, 13, 3), Prereq::None),
        "nw_tos" => (bits(Field::NwTos, 0, 8), Prereq::IpAny),
        "ip_dscp" => (bits(Field::NwTos, 2, 6), Prereq::IpAny),
        "ip_ecn" | "nw_ecn" => (bits(Field::NwTos, 0, 2), Prereq::IpAny),
        "ip_src" | "nw_src" => (bits(Field::NwSrc, 0, 32), Prereq::Ip),
        "ip_dst" | "nw_dst" => (bits(Field::NwDst, 0, 32), Prereq::Ip),
        "in_port" | "dl_type" | "eth_type" | "nw_proto" | "ip_proto" => return None,
        _ => {
            let (field, pre) = match_field(name)?;
            let width = match name {
                "icmp_type" | "icmp_code" | "icmpv6_type" | "icmpv6_code" | "arp_op" => 8,
                "ipv6_label" => 20,
                _ => field.pos().bits,
            };
            (bits(field, 0, width), pre)
        }
    })
}

/// `NAME[]`, `NAME[a..b]` or `NAME[a]`: the field and the bits named (bit
/// offset within the field, count).
fn field_range(pos: usize, s: &str) -> Result<(Bits, Prereq, u32, u32), ParseError> {
    let (name, range) = match s.split_once('[') {
        Some((n, r)) => (n, r.strip_suffix(']')),
        None => (s, Some("")),
    };
    let Some(range) = range else {
        return err(pos, format!("missing ']' in '{s}'"));
    };
    let Some((bits, pre)) = field_bits(name) else {
        return err(pos, format!("unknown or read-only field '{name}'"));
    };
    let num = |x: &str| x.parse::<u32>().ok();
    let (lo, hi) = match range.split_once("..") {
        _ if range.is_empty() => (0, bits.width - 1),
        Some((a, b)) => match (num(a), num(b)) {
            (Some(a), Some(b)) => (a, b),
            _ => return err(pos, format!("bad bit range '{range}'")),
        },
        None => match num(range) {
            Some(a) => (a, a),
            None => return err(pos, format!("bad bit range '{range}'")),
        },
    };
    if lo > hi || hi >= bits.width {
        return err(
            pos,
            format!("bits {lo}..{hi} outside '{name}' ({} bits)", bits.width),
        );
    }
    Ok((bits, pre, lo, hi - lo + 1))
}

fn ones(n: u32) -> u128 {
    if n >= 128 {
        u128::MAX
    } else {
        (1u128 << n) - 1
    }
}

fn need_prereq(pos: usize, pre: Prereq, m: &Match, what: &str) -> Result<(), ParseError> {
    check_prereq(pre, m).or_else(|need| err(pos, format!("{what} requires {need} in the match")))
}

/// `load:VALUE->DST[range]`: a masked set_field.
pub(super) fn parse_load(pos: usize, arg: &str, m: &Match) -> Result<Action, ParseError> {
    let Some((v, dst)) = arg.split_once("->") else {
        return err(pos, "load needs 'VALUE->FIELD[bits]'");
    };
    let dpos = pos + v.len() + 2;
    let (bits, pre, ofs, n) = field_range(dpos, dst)?;
    let Some(value) = parse_num(v) else {
        return err(pos, format!("bad value '{v}' for load"));
    };
    if value & !ones(n) != 0 {
        return err(pos, format!("value '{v}' does not fit in {n} bits"));
    }
    need_prereq(dpos, pre, m, &format!("load to '{dst}'"))?;
    let at = bits.shift + ofs;
    Ok(Action::SetField {
        field: bits.field,
        value: value << at,
        mask: ones(n) << at,
    })
}

/// `move:SRC[range]->DST[range]`: copies bits of the packet's own fields.
pub(super) fn parse_move(pos: usize, arg: &str, m: &Match) -> Result<Action, ParseError> {
    let Some((src, dst)) = arg.split_once("->") else {
        return err(pos, "move needs 'SRC[bits]->DST[bits]'");
    };
    let dpos = pos + src.len() + 2;
    let (sb, spre, sofs, sn) = field_range(pos, src)?;
    let (db, dpre, dofs, dn) = field_range(dpos, dst)?;
    if sn != dn {
        return err(pos, format!("move of {sn} bits into {dn}"));
    }
    need_prereq(pos, spre, m, &format!("move from '{src}'"))?;
    need_prereq(dpos, dpre, m, &format!("move to '{dst}'"))?;
    Ok(Action::Move(FieldMove {
        src: sb.field,
        src_shift: sb.shift + sofs,
        dst: db.field,
        dst_shift: db.shift + dofs,
        bits: sn,
    }))
}
