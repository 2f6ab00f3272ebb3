//! Datapath actions and their execution on the packets of one flow.
//!
//! The slow path (`ofproto::xlate`) turns rule actions into a flat list of
//! [`DpAction`]s; the PMD runs that list on every packet of a megaflow's
//! batch with [`execute`]. Execution allocates nothing: header offsets are
//! re-derived from the packet bytes (a few loads) whenever an action needs
//! them, and outputs hand packets to an [`OutputSink`].

use crate::flow::hash::crc32c;
use crate::flow::key::{Field, FlowKey};
use crate::packet::buf::PacketBuf;
use crate::packet::bytes::get_be16;
use crate::packet::proto::*;

/// One datapath action. Port numbers are the switch's port numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DpAction {
    /// Sends the packet (a clone when more outputs follow) to a port.
    Output(u32),
    /// Rewrites the bits of `field` selected by `mask` with `value`
    /// (right-aligned, already masked). Supported fields: `DlSrc`, `DlDst`;
    /// `NwSrc`, `NwDst` (IPv4, or ARP's spa/tpa), `NwProto` (ARP's
    /// opcode), `ArpSha`, `ArpTha` (ARP, or ND's SLL/TLL options);
    /// `Ipv6Src`, `Ipv6Dst`, `Ipv6Label`, `NdTarget`; `NwTos`, `NwTtl`
    /// (IPv4/IPv6); `TpSrc`, `TpDst` (TCP/UDP/SCTP ports, ICMP/ICMPv6
    /// type and code). Checksums are kept valid as OVS keeps them.
    SetField {
        field: Field,
        value: u128,
        mask: u128,
    },
    /// Inserts an 802.1Q/802.1ad tag right after the MAC addresses.
    /// `tci` is written as is, the `VLAN_CFI` present-marker excluded.
    PushVlan { tpid: u16, tci: u16 },
    /// Removes the outermost VLAN tag (no-op on untagged packets).
    PopVlan,
    /// Decrements the IPv4 TTL / IPv6 hop limit; drops when it is <= 1.
    DecTtl,
    /// Drops the packet here (actions after it are not run).
    Drop,
}

impl DpAction {
    /// Applies this action to a flow key the way it changes the packet
    /// (what extraction would read afterwards). `Output`, `Drop` and an
    /// expiring `DecTtl` leave the key as is. For tests, traces and
    /// recirculation.
    pub fn apply_to_key(&self, k: &mut FlowKey) {
        use crate::flow::key::VLAN_CFI;
        match *self {
            DpAction::SetField { field, value, mask } => {
                k.set(field, (k.get(field) & !mask) | (value & mask))
            }
            DpAction::PushVlan { tpid, tci } => {
                k.set(Field::VlanTci1, k.get(Field::VlanTci0));
                k.set(Field::VlanTpid1, k.get(Field::VlanTpid0));
                k.set(Field::VlanTci0, u128::from(tci | VLAN_CFI));
                k.set(Field::VlanTpid0, tpid.into());
            }
            DpAction::PopVlan => {
                k.set(Field::VlanTci0, k.get(Field::VlanTci1));
                k.set(Field::VlanTpid0, k.get(Field::VlanTpid1));
                k.set(Field::VlanTci1, 0);
                k.set(Field::VlanTpid1, 0);
            }
            DpAction::DecTtl => {
                let t = k.get(Field::NwTtl);
                if t > 1 {
                    k.set(Field::NwTtl, t - 1);
                }
            }
            DpAction::Output(_) | DpAction::Drop => {}
        }
    }
}

/// Why [`execute`] dropped a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// The action list had no output left for this packet.
    NoOutput,
    /// An explicit [`DpAction::Drop`].
    Explicit,
    /// [`DpAction::DecTtl`] found a TTL of 0 or 1.
    TtlExpired,
    /// A VLAN push found no headroom.
    NoHeadroom,
}

/// Where executed packets go. Implemented by the PMD's per-port tx batches.
pub trait OutputSink<P> {
    /// Queues `pkt` for transmission on `port`.
    fn output(&mut self, port: u32, pkt: P);
    /// Copies a packet for an output that is not the last one; `None` when
    /// no buffer is available (that output is then skipped and counted by
    /// the sink).
    fn clone_pkt(&mut self, pkt: &P) -> Option<P>;
    /// Takes back a packet that no output consumed (free it, count `why`).
    fn drop_pkt(&mut self, pkt: P, why: DropReason);
}

/// Runs `actions` on every packet of `pkts` (all from one megaflow).
///
/// Every packet ends in exactly one of `sink.output` (the last output moves
/// the packet, earlier ones send clones) or `sink.drop_pkt`.
pub fn execute<P, S, I>(actions: &[DpAction], pkts: I, sink: &mut S)
where
    P: PacketBuf,
    S: OutputSink<P>,
    I: IntoIterator<Item = P>,
{
    // Actions after the last output cannot be observed: skip them.
    let last_out = actions
        .iter()
        .rposition(|a| matches!(a, DpAction::Output(_)));
    for pkt in pkts {
        execute_one(actions, last_out, pkt, sink);
    }
}

fn execute_one<P: PacketBuf, S: OutputSink<P>>(
    actions: &[DpAction],
    last_out: Option<usize>,
    mut pkt: P,
    sink: &mut S,
) {
    let Some(last) = last_out else {
        let why = if actions.contains(&DpAction::Drop) {
            DropReason::Explicit
        } else {
            DropReason::NoOutput
        };
        sink.drop_pkt(pkt, why);
        return;
    };
    for (i, a) in actions[..=last].iter().enumerate() {
        match *a {
            DpAction::Output(port) => {
                if i == last {
                    sink.output(port, pkt);
                    return;
                }
                if let Some(c) = sink.clone_pkt(&pkt) {
                    sink.output(port, c);
                }
            }
            DpAction::Drop => {
                sink.drop_pkt(pkt, DropReason::Explicit);
                return;
            }
            DpAction::SetField { field, value, mask } => set_field(&mut pkt, field, value, mask),
            DpAction::PushVlan { tpid, tci } => {
                if !push_vlan(&mut pkt, tpid, tci) {
                    sink.drop_pkt(pkt, DropReason::NoHeadroom);
                    return;
                }
            }
            DpAction::PopVlan => pop_vlan(&mut pkt),
            DpAction::DecTtl => {
                if !dec_ttl(&mut pkt) {
                    sink.drop_pkt(pkt, DropReason::TtlExpired);
                    return;
                }
            }
        }
    }
}

/// Header offsets of a packet, as far as the actions need them.
///
/// Only headers that extraction (and OVS's `miniflow_extract`) parses are
/// located: an IPv4 or IPv6 header whose lengths do not fit the frame, or
/// IPv6 extension headers cut short, give no L3; an L4 header shorter than
/// its fixed part gives no L4. Rewrites then leave the packet alone, as OVS
/// does, rather than write into a partial header or the Ethernet padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Offsets {
    /// Offset of the (innermost) EtherType field.
    pub eth_type_off: usize,
    /// The EtherType after the VLAN tags.
    pub eth_type: u16,
    /// Start of the L3 header, when IPv4 or IPv6.
    pub l3: Option<usize>,
    /// Start of the L4 header and its protocol, when present and not a
    /// non-first fragment.
    pub l4: Option<(usize, u8)>,
    /// End of the IP datagram (Ethernet padding after it excluded); the
    /// frame's length when there is no L3.
    pub l3_end: usize,
}

impl Offsets {
    /// Parses Ethernet, up to two VLAN tags, IPv4/IPv6 (extension headers
    /// included) and locates L4. `None` for a packet shorter than Ethernet.
    pub fn parse(d: &[u8]) -> Option<Offsets> {
        let mut off = 12;
        let mut et = get_be16(d, off)?;
        for _ in 0..2 {
            if (et == ETH_TYPE_VLAN || et == ETH_TYPE_QINQ) && d.len() >= off + 6 {
                off += 4;
                et = get_be16(d, off)?;
            }
        }
        let l3off = off + 2;
        let mut o = Offsets {
            eth_type_off: off,
            eth_type: et,
            l3: None,
            l4: None,
            l3_end: d.len(),
        };
        let ip = d.get(l3off..).unwrap_or_default();
        match et {
            // The checks of OVS's ipv4_sanity_check.
            ETH_TYPE_IPV4 if ip.len() >= 20 => {
                let ihl = (ip[0] & 0x0f) as usize * 4;
                let tot = get_be16(ip, 2)? as usize;
                if ihl < 20 || ihl > ip.len() || tot < ihl || tot > ip.len() {
                    return Some(o);
                }
                o.l3 = Some(l3off);
                o.l3_end = l3off + tot;
                if get_be16(ip, 6)? & 0x1fff == 0 {
                    o.l4 = Some((l3off + ihl, ip[9]));
                }
            }
            ETH_TYPE_IPV6 if ip.len() >= 40 => {
                let plen = get_be16(ip, 4)? as usize;
                if 40 + plen > ip.len() {
                    return Some(o);
                }
                let Some((proto, p, frag)) =
                    crate::packet::extract::ipv6_ext_headers(ip[6], &ip[40..40 + plen])
                else {
                    return Some(o);
                };
                o.l3 = Some(l3off);
                o.l3_end = l3off + 40 + plen;
                if frag & crate::flow::key::FRAG_LATER == 0 {
                    o.l4 = Some((l3off + 40 + p, proto));
                }
            }
            _ => {}
        }
        Some(o)
    }

    /// Where the L4 header of `proto` is, if all of its fixed part is in
    /// the datagram (TCP: 20 bytes and the data offset, UDP 8, SCTP 12),
    /// as OVS checks before rewriting ports.
    fn l4_header(&self, d: &[u8]) -> Option<(usize, u8)> {
        let (l4, proto) = self.l4?;
        let len = self.l3_end.checked_sub(l4)?;
        let ok = match proto {
            IPPROTO_TCP => {
                len >= 20 && {
                    let hl = (d[l4 + 12] >> 4) as usize * 4;
                    hl >= 20 && hl <= len
                }
            }
            IPPROTO_UDP => len >= 8,
            IPPROTO_SCTP => len >= 12,
            _ => false,
        };
        ok.then_some((l4, proto))
    }
}

/// Ones'-complement sum folding (RFC 1071).
fn fold(mut s: u32) -> u16 {
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for one 16-bit word.
pub fn csum_replace16(csum: u16, old: u16, new: u16) -> u16 {
    !fold(u32::from(!csum) + u32::from(!old) + u32::from(new))
}

/// [`csum_replace16`] over both halves of a 32-bit word.
pub fn csum_replace32(csum: u16, old: u32, new: u32) -> u16 {
    let c = csum_replace16(csum, (old >> 16) as u16, (new >> 16) as u16);
    csum_replace16(c, old as u16, new as u16)
}

fn rd16(d: &[u8], off: usize) -> u16 {
    u16::from_be_bytes([d[off], d[off + 1]])
}

fn wr16(d: &mut [u8], off: usize, v: u16) {
    d[off..off + 2].copy_from_slice(&v.to_be_bytes());
}

fn rd32(d: &[u8], off: usize) -> u32 {
    u32::from_be_bytes([d[off], d[off + 1], d[off + 2], d[off + 3]])
}

/// Offset of the L4 checksum field for `proto`, if the header is long
/// enough (within the datagram, which ends at `end`).
fn l4_csum_off(end: usize, l4: usize, proto: u8) -> Option<usize> {
    let (off, need) = match proto {
        IPPROTO_TCP => (16, 20),
        IPPROTO_UDP => (6, 8),
        _ => return None,
    };
    (end >= l4 + need).then_some(l4 + off)
}

/// Applies a change of one 16-bit word covered by the L4 checksum (pseudo
/// header or L4 header). A UDP checksum of zero means "none" and stays zero;
/// a computed zero is sent as 0xffff (RFC 768).
fn l4_csum_update16(d: &mut [u8], end: usize, l4: usize, proto: u8, old: u16, new: u16) {
    if let Some(c) = l4_csum_off(end, l4, proto) {
        let cur = rd16(d, c);
        if proto == IPPROTO_UDP && cur == 0 {
            return;
        }
        let mut n = csum_replace16(cur, old, new);
        if proto == IPPROTO_UDP && n == 0 {
            n = 0xffff;
        }
        wr16(d, c, n);
    }
}

fn set_field<P: PacketBuf>(pkt: &mut P, field: Field, value: u128, mask: u128) {
    let Some(o) = Offsets::parse(pkt.data()) else {
        return;
    };
    let d = pkt.data_mut();
    match field {
        Field::DlDst | Field::DlSrc => {
            let off = if field == Field::DlDst { 0 } else { 6 };
            for i in 0..6 {
                let sh = 8 * (5 - i);
                let m = (mask >> sh) as u8;
                d[off + i] = (d[off + i] & !m) | ((value >> sh) as u8 & m);
            }
        }
        Field::NwSrc | Field::NwDst | Field::NwProto | Field::ArpSha | Field::ArpTha
            if o.eth_type == ETH_TYPE_ARP =>
        {
            set_arp(d, o.eth_type_off + 2, field, value, mask)
        }
        Field::ArpSha | Field::ArpTha | Field::NdTarget => set_nd(d, &o, field, value, mask),
        Field::Ipv6Src | Field::Ipv6Dst if o.eth_type == ETH_TYPE_IPV6 => {
            let Some(l3) = o.l3 else { return };
            set_ipv6_addr(d, &o, l3, field == Field::Ipv6Src, value, mask);
        }
        Field::Ipv6Label => {
            if let (ETH_TYPE_IPV6, Some(l3)) = (o.eth_type, o.l3) {
                let m = mask as u32 & 0xfffff;
                let w = (rd32(d, l3) & !m) | (value as u32 & m);
                d[l3..l3 + 4].copy_from_slice(&w.to_be_bytes());
            }
        }
        Field::NwSrc | Field::NwDst if o.eth_type == ETH_TYPE_IPV4 => {
            let Some(l3) = o.l3 else { return };
            let off = l3 + if field == Field::NwSrc { 12 } else { 16 };
            let old = rd32(d, off);
            let new = (old & !(mask as u32)) | (value as u32 & mask as u32);
            if old == new {
                return;
            }
            d[off..off + 4].copy_from_slice(&new.to_be_bytes());
            let c = csum_replace32(rd16(d, l3 + 10), old, new);
            wr16(d, l3 + 10, c);
            if let Some((l4, proto)) = o.l4 {
                // The TCP/UDP pseudo header covers both addresses.
                let end = o.l3_end;
                l4_csum_update16(d, end, l4, proto, (old >> 16) as u16, (new >> 16) as u16);
                l4_csum_update16(d, end, l4, proto, old as u16, new as u16);
                if proto == IPPROTO_SCTP {
                    sctp_fix(d, l4, end);
                }
            }
        }
        Field::NwTos => match (o.eth_type, o.l3) {
            (ETH_TYPE_IPV4, Some(l3)) => {
                let old = rd16(d, l3);
                let m = mask as u8;
                d[l3 + 1] = (d[l3 + 1] & !m) | (value as u8 & m);
                let new = rd16(d, l3);
                let c = csum_replace16(rd16(d, l3 + 10), old, new);
                wr16(d, l3 + 10, c);
            }
            (ETH_TYPE_IPV6, Some(l3)) => {
                // Traffic class straddles bytes 0 and 1 (bits 4..12 of the word).
                let w = rd32(d, l3);
                let m = u32::from(mask as u8) << 20;
                let nw = (w & !m) | ((u32::from(value as u8) << 20) & m);
                d[l3..l3 + 4].copy_from_slice(&nw.to_be_bytes());
            }
            _ => {}
        },
        Field::NwTtl => match (o.eth_type, o.l3) {
            (ETH_TYPE_IPV4, Some(l3)) => {
                set_ipv4_ttl(d, l3, (d[l3 + 8] & !(mask as u8)) | value as u8)
            }
            (ETH_TYPE_IPV6, Some(l3)) => d[l3 + 7] = (d[l3 + 7] & !(mask as u8)) | value as u8,
            _ => {}
        },
        Field::TpSrc | Field::TpDst => {
            if set_icmp(d, &o, field == Field::TpSrc, value as u8, mask as u8) {
                return;
            }
            let Some((l4, proto)) = o.l4_header(d) else {
                return;
            };
            let off = l4 + if field == Field::TpSrc { 0 } else { 2 };
            let old = rd16(d, off);
            let new = (old & !(mask as u16)) | (value as u16 & mask as u16);
            wr16(d, off, new);
            if proto == IPPROTO_SCTP {
                sctp_fix(d, l4, o.l3_end);
            } else {
                l4_csum_update16(d, o.l3_end, l4, proto, old, new);
            }
        }
        _ => {}
    }
}

/// Writes `value` under `mask` into the `n`-byte big-endian field at
/// `off`; returns the old and new bytes (16 at most).
fn write_masked(
    d: &mut [u8],
    off: usize,
    n: usize,
    value: u128,
    mask: u128,
) -> ([u8; 16], [u8; 16]) {
    let (mut old, mut new) = ([0u8; 16], [0u8; 16]);
    for i in 0..n {
        let sh = 8 * (n - 1 - i);
        let m = (mask >> sh) as u8;
        old[i] = d[off + i];
        d[off + i] = (d[off + i] & !m) | ((value >> sh) as u8 & m);
        new[i] = d[off + i];
    }
    (old, new)
}

/// Applies a change of `n` bytes (even) to the checksum at `c`.
fn csum_replace_bytes(d: &mut [u8], c: usize, old: &[u8], new: &[u8]) {
    let mut sum = rd16(d, c);
    for (o, n) in old.chunks(2).zip(new.chunks(2)) {
        sum = csum_replace16(sum, rd16(o, 0), rd16(n, 0));
    }
    wr16(d, c, sum);
}

/// ARP (Ethernet/IPv4 only, as extraction reads it): opcode, sender and
/// target addresses. No checksum.
fn set_arp(d: &mut [u8], arp: usize, field: Field, value: u128, mask: u128) {
    if d.len() < arp + 28
        || rd16(d, arp) != 1
        || rd16(d, arp + 2) != ETH_TYPE_IPV4
        || d[arp + 4] != 6
        || d[arp + 5] != 4
    {
        return;
    }
    let (off, n) = match field {
        // The key holds the opcode's low byte (OVS writes all 16 bits).
        Field::NwProto => (arp + 6, 2),
        Field::ArpSha => (arp + 8, 6),
        Field::NwSrc => (arp + 14, 4),
        Field::ArpTha => (arp + 18, 6),
        _ => (arp + 24, 4),
    };
    let mask = if field == Field::NwProto {
        0xffff
    } else {
        mask
    };
    write_masked(d, off, n, value, mask);
}

/// What OVS's `packet_rh_present` finds walking IPv6 extension headers:
/// the protocol it stops at, whether L4 checksums are to be updated at
/// all (not when a fragment header says this is not a first fragment
/// with more to come), and whether a routing header with segments left
/// is present (then the destination is not the final one: no update for
/// it, and the walk stops with protocol 43).
fn ipv6_csum_policy(ip: &[u8], l4: usize) -> (u8, bool, bool) {
    let (mut next, mut p, mut csum) = (ip[6], 40usize, true);
    loop {
        if !matches!(next, 0 | 43 | 44 | 51 | 60) {
            return (next, csum, false);
        }
        if l4.saturating_sub(p) < 8 || ip.len() < p + 8 {
            return (next, csum, false);
        }
        let len = match next {
            51 => (ip[p + 1] as usize + 2) * 4,
            44 => {
                let offlg = rd16(ip, p + 2);
                csum = offlg & 0xfff8 == 0 && offlg & 1 != 0;
                8
            }
            43 if ip[p + 3] > 0 => return (43, csum, true),
            _ => (ip[p + 1] as usize + 1) * 8,
        };
        next = ip[p];
        if l4 - p < len {
            return (next, csum, false);
        }
        p += len;
    }
}

/// An IPv6 source or destination address, with the TCP/UDP/ICMPv6
/// checksum over the pseudo header updated as OVS does it.
fn set_ipv6_addr(d: &mut [u8], o: &Offsets, l3: usize, src: bool, value: u128, mask: u128) {
    let off = l3 + if src { 8 } else { 24 };
    let (old, new) = write_masked(d, off, 16, value, mask);
    if old == new {
        return;
    }
    // Where the extension headers end: L4, or the datagram's end.
    let l4 = o.l4.map_or(o.l3_end, |x| x.0);
    let (proto, csum, rh) = ipv6_csum_policy(&d[l3..o.l3_end], l4 - l3);
    if !csum || (rh && !src) {
        return;
    }
    let Some((l4, _)) = o.l4 else { return };
    let size = o.l3_end - l4;
    let c = match proto {
        IPPROTO_TCP if size >= 20 => l4 + 16,
        IPPROTO_UDP if size >= 8 => {
            if rd16(d, l4 + 6) == 0 {
                return;
            }
            l4 + 6
        }
        IPPROTO_ICMPV6 if size >= 4 => l4 + 2,
        _ => return,
    };
    csum_replace_bytes(d, c, &old, &new);
    if proto == IPPROTO_UDP && rd16(d, c) == 0 {
        wr16(d, c, 0xffff);
    }
}

/// ICMP / ICMPv6 type (`tp_src`) or code (`tp_dst`) with the checksum
/// updated; false when the packet is not ICMP of its IP version.
fn set_icmp(d: &mut [u8], o: &Offsets, ty: bool, value: u8, mask: u8) -> bool {
    let Some((l4, proto)) = o.l4 else {
        return false;
    };
    let icmp = match o.eth_type {
        ETH_TYPE_IPV4 => proto == IPPROTO_ICMP,
        _ => proto == IPPROTO_ICMPV6,
    };
    if !icmp {
        return false;
    }
    if o.l3_end >= l4 + 8 {
        let old = rd16(d, l4);
        let i = l4 + usize::from(!ty);
        d[i] = (d[i] & !mask) | (value & mask);
        let new = rd16(d, l4);
        let c = csum_replace16(rd16(d, l4 + 2), old, new);
        wr16(d, l4 + 2, c);
    }
    true
}

/// Neighbour discovery: the target address, and the first link-layer
/// address option (SLL for `ArpSha`, TLL for `ArpTha`; OVS stops at the
/// first of either), with the ICMPv6 checksum updated.
fn set_nd(d: &mut [u8], o: &Offsets, field: Field, value: u128, mask: u128) {
    let (ETH_TYPE_IPV6, Some((l4, IPPROTO_ICMPV6))) = (o.eth_type, o.l4) else {
        return;
    };
    let end = o.l3_end;
    if end < l4 + 24 || !matches!(d[l4], 135 | 136) || d[l4 + 1] != 0 {
        return;
    }
    let off = if field == Field::NdTarget {
        Some((l4 + 8, 16))
    } else {
        let mut p = l4 + 24;
        let mut found = None;
        while end >= p + 8 && d[p + 1] != 0 && end >= p + d[p + 1] as usize * 8 {
            if matches!(d[p], 1 | 2) && d[p + 1] == 1 {
                let want = if field == Field::ArpSha { 1 } else { 2 };
                found = (d[p] == want).then_some((p + 2, 6));
                break;
            }
            p += d[p + 1] as usize * 8;
        }
        found
    };
    if let Some((off, n)) = off {
        let (old, new) = write_masked(d, off, n, value, mask);
        csum_replace_bytes(d, l4 + 2, &old[..n], &new[..n]);
    }
}

fn set_ipv4_ttl(d: &mut [u8], l3: usize, ttl: u8) {
    // TTL shares a checksummed 16-bit word with the protocol byte.
    let old = rd16(d, l3 + 8);
    d[l3 + 8] = ttl;
    let new = rd16(d, l3 + 8);
    let c = csum_replace16(rd16(d, l3 + 10), old, new);
    wr16(d, l3 + 10, c);
}

fn dec_ttl<P: PacketBuf>(pkt: &mut P) -> bool {
    let Some(o) = Offsets::parse(pkt.data()) else {
        return true;
    };
    let d = pkt.data_mut();
    match (o.eth_type, o.l3) {
        (ETH_TYPE_IPV4, Some(l3)) => {
            let ttl = d[l3 + 8];
            if ttl <= 1 {
                return false;
            }
            set_ipv4_ttl(d, l3, ttl - 1);
        }
        (ETH_TYPE_IPV6, Some(l3)) => {
            if d[l3 + 7] <= 1 {
                return false;
            }
            d[l3 + 7] -= 1;
        }
        _ => {}
    }
    true
}

/// SCTP's checksum is a CRC32-C over the whole packet: no incremental form,
/// recompute it (SCTP rewrites are rare).
fn sctp_fix(d: &mut [u8], l4: usize, end: usize) {
    if end < l4 + 12 {
        return;
    }
    d[l4 + 8..l4 + 12].fill(0);
    let crc = crc32c(&d[l4..end]);
    d[l4 + 8..l4 + 12].copy_from_slice(&crc.to_le_bytes());
}

fn push_vlan<P: PacketBuf>(pkt: &mut P, tpid: u16, tci: u16) -> bool {
    if pkt.data().len() < 14 {
        return true;
    }
    let Some(d) = pkt.prepend(4) else {
        return false;
    };
    // Move the two MAC addresses to the new front, then write the tag.
    d.copy_within(4..16, 0);
    d[12..14].copy_from_slice(&tpid.to_be_bytes());
    d[14..16].copy_from_slice(&(tci & !crate::flow::key::VLAN_CFI).to_be_bytes());
    true
}

fn pop_vlan<P: PacketBuf>(pkt: &mut P) {
    let d = pkt.data_mut();
    if d.len() < 18 {
        return;
    }
    let et = rd16(d, 12);
    if et != ETH_TYPE_VLAN && et != ETH_TYPE_QINQ {
        return;
    }
    d.copy_within(0..12, 4);
    pkt.adj(4);
}

#[cfg(test)]
mod tests;
