//! Miniflow extraction: one pass over a packet's headers into a [`FlowKey`],
//! with a bitmap of the key words written. OVS's `miniflow_extract` is the
//! reference for what each field means; a packet that is cut short or
//! malformed is parsed as far as it is valid, never read past its end, and
//! flagged.
use super::bytes::{be128, be16, be32, mac};
use super::proto::*;
use crate::flow::key::{Field, FlowKey, FLOW_WORDS, FRAG_ANY, FRAG_LATER, VLAN_CFI};
use crate::packet::buf::PacketBuf;
use crate::simd::{self, Isa};

/// Why a packet parsed only in part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// Shorter than an Ethernet header.
    TruncatedL2,
    /// A VLAN tag or LLC/SNAP header cut short.
    TruncatedVlan,
    /// An ARP, IPv4 or IPv6 header cut short.
    TruncatedL3,
    /// An IPv4 header length or total length, or an IPv6 payload length,
    /// that does not fit the packet.
    BadIpHeader,
    /// An IPv6 extension header cut short.
    BadIpv6ExtHeader,
    /// A TCP/UDP/SCTP/ICMP header cut short (or a bad TCP data offset).
    TruncatedL4,
    /// Neighbour discovery options that do not parse.
    BadNdOptions,
}

/// What [`extract`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extracted {
    /// Bitmap of the key words written: the same for every packet of the
    /// same protocol stack, so it can key hashes and caches.
    pub map: u32,
    /// Offset of the L3 header (0 when there is none).
    pub l3_ofs: u16,
    /// Offset of the L4 header (0 when there is none).
    pub l4_ofs: u16,
    /// Set when the packet parsed only in part.
    pub malformed: Option<Malformed>,
}

/// Writes fields and records the words they touch.
struct Out<'k> {
    key: &'k mut FlowKey,
    map: u32,
}

impl Out<'_> {
    #[inline(always)]
    fn set(&mut self, f: Field, v: u128) {
        self.key.set(f, v);
        self.map |= FlowKey::field_words(f);
    }
}

/// Extracts the flow key of an Ethernet frame received on `in_port`. `key`
/// is cleared first.
pub fn extract(d: &[u8], in_port: u32, key: &mut FlowKey) -> Extracted {
    match ipv4_l4_shape(d) {
        Some(tcp) => {
            fill_ipv4_l4(d, tcp, in_port, key);
            IPV4_L4
        }
        None => extract_any(d, in_port, key),
    }
}

/// [`extract`] for the frames of a burst whose bit is set in `todo`, the
/// common frames' fields placed by the `parser` variant of
/// [`simd::ipv4_l4_burst`]: `keys[i]` and `out[i]` as `extract` would give.
pub fn extract_burst(
    parser: Isa,
    frames: &[&[u8]],
    todo: u32,
    in_port: u32,
    keys: &mut [FlowKey],
    out: &mut [Extracted],
) {
    let (mut fast, mut tcp) = (0u32, 0u32);
    for i in crate::cache::bits(todo) {
        match ipv4_l4_shape(frames[i]) {
            Some(t) => {
                fast |= 1 << i;
                tcp |= (t as u32) << i;
                out[i] = IPV4_L4;
            }
            None => out[i] = extract_any(frames[i], in_port, &mut keys[i]),
        }
    }
    if fast != 0 {
        simd::ipv4_l4_burst(parser, frames, fast, tcp, in_port, keys);
    }
}

/// What [`extract`] gives for the common frame.
const IPV4_L4: Extracted = Extracted {
    map: 0b11_1111, // words 0-5: in_port/type/frag, MACs, IPs, IP word, L4
    l3_ofs: 14,
    l4_ofs: 34,
    malformed: None,
};

/// Whether the frame is the common one — untagged IPv4 without options or
/// fragmentation, carrying a whole TCP or UDP header — whose fields sit at
/// fixed offsets: Some(true) for TCP, Some(false) for UDP. For such a frame
/// [`fill_ipv4_l4`] gives exactly what `extract_any` gives (a property test
/// holds it to that), without the general parser's walk.
#[inline(always)]
fn ipv4_l4_shape(d: &[u8]) -> Option<bool> {
    const L3: usize = 14;
    const L4: usize = L3 + 20;
    if d.len() < L4 + 8 || be16(d, 12) != ETH_TYPE_IPV4 || d[L3] != 0x45 {
        return None;
    }
    let tot = be16(d, L3 + 2) as usize;
    // No fragment bits; the datagram inside the frame; its L4 header whole.
    if be16(d, L3 + 6) & 0x3fff != 0 || tot < 20 || L3 + tot > d.len() {
        return None;
    }
    let l4 = &d[L4..L3 + tot];
    match d[L3 + 9] {
        IPPROTO_TCP => {
            let hl = if l4.len() >= 20 {
                (l4[12] >> 4) as usize * 4
            } else {
                0
            };
            (hl >= 20 && hl <= l4.len()).then_some(true)
        }
        IPPROTO_UDP if l4.len() >= 8 => Some(false),
        _ => None,
    }
}

/// The key of a frame of [`ipv4_l4_shape`]'s shape (`tcp` from it), field by
/// field: the scalar variant the SIMD ones are tested against.
#[inline(always)]
pub(crate) fn fill_ipv4_l4(d: &[u8], tcp: bool, in_port: u32, key: &mut FlowKey) {
    const L3: usize = 14;
    const L4: usize = L3 + 20;
    *key = FlowKey::ZERO;
    key.set(Field::InPort, in_port as u128);
    key.set(Field::DlDst, mac(d, 0));
    key.set(Field::DlSrc, mac(d, 6));
    key.set(Field::DlType, ETH_TYPE_IPV4 as u128);
    key.set(Field::NwSrc, be32(d, L3 + 12) as u128);
    key.set(Field::NwDst, be32(d, L3 + 16) as u128);
    key.set(Field::NwTos, d[L3 + 1] as u128);
    key.set(Field::NwTtl, d[L3 + 8] as u128);
    key.set(Field::NwProto, d[L3 + 9] as u128);
    key.set(Field::TpSrc, be16(d, L4) as u128);
    key.set(Field::TpDst, be16(d, L4 + 2) as u128);
    if tcp {
        key.set(Field::TcpFlags, (be16(d, L4 + 12) & 0x0fff) as u128);
    }
}

/// The general parser behind [`extract`]: every protocol, tags, options,
/// fragments, truncation.
fn extract_any(d: &[u8], in_port: u32, key: &mut FlowKey) -> Extracted {
    *key = FlowKey::ZERO;
    let mut o = Out { key, map: 0 };
    o.set(Field::InPort, in_port as u128);
    let mut x = Extracted {
        map: 0,
        l3_ofs: 0,
        l4_ofs: 0,
        malformed: None,
    };
    x.malformed = parse_l2(d, &mut o, &mut x).err();
    x.map = o.map;
    x
}

/// Runs [`extract`] and checks what every extraction must hold, panicking
/// with the reason: offsets inside the frame (L4 after L3), a map that
/// covers every non-zero word and only the key's words, the in_port kept,
/// and the same result again from a key full of stale bits. For the fuzz
/// target and the property tests.
#[doc(hidden)]
pub fn check_invariants(d: &[u8], in_port: u32) -> (FlowKey, Extracted) {
    let mut k = FlowKey::ZERO;
    let x = extract(d, in_port, &mut k);
    let (l3, l4) = (x.l3_ofs as usize, x.l4_ofs as usize);
    assert!(
        l3 <= d.len() && l4 <= d.len(),
        "offsets {l3}/{l4} beyond {} bytes",
        d.len()
    );
    assert!(
        l3 == 0 || l3 >= 14,
        "L3 at {l3}, inside the Ethernet header"
    );
    assert!(l4 == 0 || (l3 != 0 && l4 > l3), "L4 at {l4}, L3 at {l3}");
    assert_eq!(
        k.nonzero_map() & !x.map,
        0,
        "map {:#x} misses non-zero words of {k:?}",
        x.map
    );
    assert_eq!(x.map >> FLOW_WORDS, 0, "map {:#x} past the key", x.map);
    assert_eq!(k.get(Field::InPort), in_port as u128);
    let mut again = FlowKey {
        words: [!0; FLOW_WORDS],
    };
    assert_eq!(extract(d, in_port, &mut again), x, "not deterministic");
    assert_eq!(again, k, "key depends on what it held before");
    (k, x)
}

/// [`extract`] for a packet buffer.
#[inline]
pub fn extract_buf<P: PacketBuf>(pkt: &P, in_port: u32, key: &mut FlowKey) -> Extracted {
    extract(pkt.data(), in_port, key)
}

fn parse_l2(d: &[u8], o: &mut Out, x: &mut Extracted) -> Result<(), Malformed> {
    if d.len() < 14 {
        return Err(Malformed::TruncatedL2);
    }
    o.set(Field::DlDst, mac(d, 0));
    o.set(Field::DlSrc, mac(d, 6));
    let mut p = 12;
    let mut ty = be16(d, p);
    // Up to two VLAN tags, outer first (OVS keeps two).
    for (tci_f, tpid_f) in [
        (Field::VlanTci0, Field::VlanTpid0),
        (Field::VlanTci1, Field::VlanTpid1),
    ] {
        if ty != ETH_TYPE_VLAN && ty != ETH_TYPE_QINQ {
            break;
        }
        if d.len() < p + 6 {
            // Like OVS: the tag is not parsed and its TPID is the
            // frame's EtherType.
            o.set(Field::DlType, ty as u128);
            return Err(Malformed::TruncatedVlan);
        }
        o.set(tpid_f, ty as u128);
        o.set(tci_f, (be16(d, p + 2) | VLAN_CFI) as u128);
        p += 4;
        ty = be16(d, p);
    }
    p += 2;
    if ty < 0x600 {
        // 802.3: a SNAP header with a zero OUI carries an Ethernet type.
        if d.len() >= p + 8
            && d[p] == 0xaa
            && d[p + 1] == 0xaa
            && d[p + 2] == 0x03
            && d[p + 3..p + 6] == [0, 0, 0]
        {
            // A SNAP type that is itself a length is no Ethernet type.
            ty = be16(d, p + 6);
            p += 8;
            if ty < 0x600 {
                ty = DL_TYPE_NONE;
            }
        } else {
            ty = DL_TYPE_NONE;
        }
    }
    o.set(Field::DlType, ty as u128);
    match ty {
        ETH_TYPE_IPV4 => {
            x.l3_ofs = p as u16;
            parse_ipv4(&d[p..], p, o, x)
        }
        ETH_TYPE_IPV6 => {
            x.l3_ofs = p as u16;
            parse_ipv6(&d[p..], p, o, x)
        }
        ETH_TYPE_ARP | ETH_TYPE_RARP => {
            x.l3_ofs = p as u16;
            parse_arp(&d[p..], o)
        }
        _ => Ok(()),
    }
}

fn parse_arp(a: &[u8], o: &mut Out) -> Result<(), Malformed> {
    if a.len() < 28 {
        return Err(Malformed::TruncatedL3);
    }
    // Only Ethernet/IPv4 ARP has the fields we keep.
    if be16(a, 0) == 1 && be16(a, 2) == ETH_TYPE_IPV4 && a[4] == 6 && a[5] == 4 {
        let op = be16(a, 6);
        o.set(Field::NwProto, if op <= 0xff { op as u128 } else { 0 });
        o.set(Field::NwSrc, be32(a, 14) as u128);
        o.set(Field::NwDst, be32(a, 24) as u128);
        o.set(Field::ArpSha, mac(a, 8));
        o.set(Field::ArpTha, mac(a, 18));
    }
    Ok(())
}

fn parse_ipv4(ip: &[u8], base: usize, o: &mut Out, x: &mut Extracted) -> Result<(), Malformed> {
    if ip.len() < 20 {
        return Err(Malformed::TruncatedL3);
    }
    let ihl = (ip[0] & 0x0f) as usize * 4;
    let tot = be16(ip, 2) as usize;
    // The EtherType says IPv4; like OVS, the version nibble is not read.
    if ihl < 20 || ihl > ip.len() || tot < ihl || tot > ip.len() {
        return Err(Malformed::BadIpHeader);
    }
    o.set(Field::NwSrc, be32(ip, 12) as u128);
    o.set(Field::NwDst, be32(ip, 16) as u128);
    o.set(Field::NwTos, ip[1] as u128);
    o.set(Field::NwTtl, ip[8] as u128);
    let proto = ip[9];
    o.set(Field::NwProto, proto as u128);
    let frag = be16(ip, 6);
    let mut nw_frag = 0;
    if frag & 0x3fff != 0 {
        nw_frag = FRAG_ANY;
        if frag & 0x1fff != 0 {
            nw_frag |= FRAG_LATER;
        }
    }
    o.set(Field::NwFrag, nw_frag as u128);
    if nw_frag & FRAG_LATER != 0 {
        return Ok(());
    }
    // L4 sees the datagram only, not Ethernet padding after it.
    x.l4_ofs = (base + ihl) as u16;
    parse_l4(&ip[ihl..tot], proto, false, o)
}

fn parse_ipv6(ip: &[u8], base: usize, o: &mut Out, x: &mut Extracted) -> Result<(), Malformed> {
    if ip.len() < 40 {
        return Err(Malformed::TruncatedL3);
    }
    let plen = be16(ip, 4) as usize;
    if 40 + plen > ip.len() {
        return Err(Malformed::BadIpHeader);
    }
    o.set(Field::Ipv6Src, be128(ip, 8));
    o.set(Field::Ipv6Dst, be128(ip, 24));
    let data = &ip[40..40 + plen];
    // Extension headers that do not parse leave the addresses only, as in
    // OVS (no protocol, TTL, traffic class or label: nothing to rewrite).
    let (proto, p, nw_frag) = ipv6_ext_headers(ip[6], data).ok_or(Malformed::BadIpv6ExtHeader)?;
    let vtc = be32(ip, 0);
    o.set(Field::NwTos, ((vtc >> 20) & 0xff) as u128);
    o.set(Field::Ipv6Label, (vtc & 0xfffff) as u128);
    o.set(Field::NwTtl, ip[7] as u128);
    o.set(Field::NwProto, proto as u128);
    o.set(Field::NwFrag, nw_frag as u128);
    if nw_frag & FRAG_LATER != 0 {
        return Ok(());
    }
    x.l4_ofs = (base + 40 + p) as u16;
    parse_l4(&data[p..], proto, true, o)
}

/// Walks the IPv6 extension headers in `data` (the payload) from `next`:
/// the final protocol, the offset of its header and nw_frag; `None` when
/// an extension header is cut short. A later fragment stops the walk with
/// protocol 44 (what OVS reports for it).
pub(crate) fn ipv6_ext_headers(mut proto: u8, data: &[u8]) -> Option<(u8, usize, u8)> {
    let (mut p, mut nw_frag) = (0usize, 0u8);
    loop {
        match proto {
            IPPROTO_HOPOPTS | IPPROTO_ROUTING | IPPROTO_DSTOPTS | IPPROTO_AH => {
                if data.len() < p + 8 {
                    return None;
                }
                let len = if proto == IPPROTO_AH {
                    (data[p + 1] as usize + 2) * 4
                } else {
                    (data[p + 1] as usize + 1) * 8
                };
                if data.len() < p + len {
                    return None;
                }
                proto = data[p];
                p += len;
            }
            IPPROTO_FRAGMENT => {
                if data.len() < p + 8 {
                    return None;
                }
                let offlg = be16(data, p + 2);
                proto = data[p];
                p += 8;
                if offlg != 0 {
                    nw_frag = FRAG_ANY;
                    if offlg & 0xfff8 != 0 {
                        // Only the first fragment has an L4 header.
                        return Some((IPPROTO_FRAGMENT, p, FRAG_ANY | FRAG_LATER));
                    }
                }
            }
            _ => return Some((proto, p, nw_frag)),
        }
    }
}

fn parse_l4(l4: &[u8], proto: u8, v6: bool, o: &mut Out) -> Result<(), Malformed> {
    match proto {
        IPPROTO_TCP => {
            if l4.len() < 20 {
                return Err(Malformed::TruncatedL4);
            }
            let hl = (l4[12] >> 4) as usize * 4;
            if hl < 20 || hl > l4.len() {
                return Err(Malformed::TruncatedL4);
            }
            o.set(Field::TpSrc, be16(l4, 0) as u128);
            o.set(Field::TpDst, be16(l4, 2) as u128);
            o.set(Field::TcpFlags, (be16(l4, 12) & 0x0fff) as u128);
        }
        IPPROTO_UDP | IPPROTO_SCTP => {
            let need = if proto == IPPROTO_UDP { 8 } else { 12 };
            if l4.len() < need {
                return Err(Malformed::TruncatedL4);
            }
            o.set(Field::TpSrc, be16(l4, 0) as u128);
            o.set(Field::TpDst, be16(l4, 2) as u128);
        }
        IPPROTO_ICMP if !v6 => {
            if l4.len() < 8 {
                return Err(Malformed::TruncatedL4);
            }
            o.set(Field::TpSrc, l4[0] as u128);
            o.set(Field::TpDst, l4[1] as u128);
        }
        IPPROTO_ICMPV6 if v6 => {
            if l4.len() < 8 {
                return Err(Malformed::TruncatedL4);
            }
            let nd = parse_nd(l4, o);
            o.set(Field::TpSrc, l4[0] as u128);
            o.set(Field::TpDst, l4[1] as u128);
            return nd;
        }
        _ => {}
    }
    Ok(())
}

/// Neighbour solicitation/advertisement: target and link-layer options,
/// as OVS's `parse_icmpv6` reads them: either address option is taken in
/// either message (the first of each kind); an option of length zero or
/// running past the message ends the walk, keeping what was read so far;
/// only a repeated address option is invalid and drops the target and both
/// addresses.
fn parse_nd(icmp: &[u8], o: &mut Out) -> Result<(), Malformed> {
    let (ty, code) = (icmp[0], icmp[1]);
    if code != 0 || (ty != 135 && ty != 136) {
        return Ok(());
    }
    if icmp.len() < 24 {
        return Err(Malformed::BadNdOptions);
    }
    let target = be128(icmp, 8);
    let (mut sll, mut tll) = (0u128, 0u128);
    let mut p = 24;
    let mut res = Ok(());
    while icmp.len() >= p + 8 {
        let (t, len) = (icmp[p], icmp[p + 1] as usize * 8);
        if len == 0 || p + len > icmp.len() {
            res = Err(Malformed::BadNdOptions);
            break;
        }
        if len == 8 {
            let slot = match t {
                1 => &mut sll,
                2 => &mut tll,
                _ => {
                    p += len;
                    continue;
                }
            };
            if *slot != 0 {
                return Err(Malformed::BadNdOptions);
            }
            *slot = mac(icmp, p + 2);
        }
        p += len;
    }
    o.set(Field::NdTarget, target);
    if sll != 0 || tll != 0 {
        o.set(Field::ArpSha, sll);
        o.set(Field::ArpTha, tll);
    }
    res
}

#[cfg(test)]
mod tests;
