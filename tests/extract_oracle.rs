//! OVS as an oracle for miniflow extraction.
//!
//! Builds a deterministic trace (fixed seed) of frames covering every
//! protocol [`extract`] handles, well formed, randomised across fields, and
//! cut short or malformed in the ways OVS's `miniflow_extract` guards
//! against; writes it as a pcap; runs `ovs-ofctl parse-pcap` on it (which
//! runs OVS's `flow_extract` on each packet and prints the flow the way
//! `flow_format` does); parses each printed flow into our fields and
//! compares, field by field, with our key for the same frame:
//! - every field OVS prints must equal ours;
//! - every field OVS does not print must be zero in ours (we carry nothing
//!   OVS considers absent for that protocol stack);
//! - the set of fields OVS prints must be the set its own rules
//!   (`flow_wildcards_init_for_packet`, `match_format`) give for our key: the
//!   same presence, so the same protocol stack;
//! - our word map must cover every non-zero field and claim no word that
//!   holds nothing present.
//!
//! `parse-pcap` gives every packet OpenFlow in_port `ANY` (it extracts with
//! datapath port `ODPP_NONE`; the 16-bit OpenFlow view of that is 0xffff,
//! which OVS prints as `ANY`), so we extract with in_port 0xffff.
//!
//! Where the two extractors differ by design, [`ovs_view`] turns our key
//! into the one OVS is expected to print, one documented rule at a time
//! (see `BY_DESIGN`); each rule's use is counted and printed. Fields OVS
//! does not print at all (the VLAN TPIDs) are checked against the frame.
//!
//! Fails (clearly) when `ovs-ofctl` is missing, unless
//! `PMDSWITCH_SKIP_OVS=1` is set.

use pmdswitch::flow::key::{Field, FlowKey, FRAG_ANY, FRAG_LATER, VLAN_CFI};
use pmdswitch::ofproto::parse::tcp_flag_bit;
use pmdswitch::packet::extract::{extract, Extracted};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::process::Command;

mod common;
use common::{write_pcap, Rng};

const SEED: u64 = 0x00e7_ac70_ac1e_5eed;
const PACKETS: usize = 8000;
/// OpenFlow `ANY` (0xffff): the in_port `parse-pcap` reports.
const PCAP_IN_PORT: u32 = 0xffff;

/// The by-design differences, by name, with the reason. [`ovs_view`]
/// applies each to our key where it holds.
const BY_DESIGN: &[(&str, &str)] = &[
    (
        "icmp-cross-family",
        "OVS reads ICMP type/code into tp_src/tp_dst for nw_proto 1 under \
         IPv6 and for nw_proto 58 under IPv4 (its L4 switch looks at \
         nw_proto only). We parse ICMP only in IPv4 and ICMPv6 only in \
         IPv6: OpenFlow cannot match those ports (icmp_type needs ip, \
         icmpv6_type needs ipv6), so the datapath need not carry them.",
    ),
    (
        "igmp",
        "OVS reads IGMP (nw_proto 2) type/code into tp_src/tp_dst (and the \
         group into a field we do not have). Our key has no IGMP: OpenFlow \
         matches only nw_proto=2, which we carry.",
    ),
];

// ---------------------------------------------------------------- frames

fn be16(d: &[u8], o: usize) -> u16 {
    u16::from_be_bytes([d[o], d[o + 1]])
}

fn put16(v: &mut [u8], o: usize, x: u16) {
    v[o..o + 2].copy_from_slice(&x.to_be_bytes());
}

fn mac(r: &mut Rng) -> Vec<u8> {
    // Small pools so fields repeat, with a random one now and then.
    if r.chance(20) {
        r.bytes(6)
    } else {
        vec![0x02, 0, 0, 0, r.u8() & 3, r.u8() & 7]
    }
}

/// An Ethernet frame: addresses, 0–3 VLAN tags, type (or 802.3 length),
/// payload, and sometimes padding to the 60-byte minimum.
fn ethernet(r: &mut Rng, ty: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = ethernet_unpadded(r, ty, payload);
    if f.len() < 60 && r.chance(40) {
        let pad = r.bytes(60 - f.len());
        f.extend(pad);
    }
    f
}

/// [`ethernet`] without the padding.
fn ethernet_unpadded(r: &mut Rng, ty: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = mac(r);
    f.extend(mac(r));
    let tags: &[u16] = match r.below(20) {
        0..=11 => &[],
        12..=14 => &[0x8100],
        15..=16 => &[0x88a8, 0x8100],
        17..=18 => &[0x8100, 0x8100],
        _ => &[0x88a8, 0x8100, 0x8100],
    };
    for t in tags {
        f.extend(t.to_be_bytes());
        f.extend(r.u16().to_be_bytes());
    }
    f.extend(ty.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn tcp(r: &mut Rng) -> Vec<u8> {
    let hl = if r.chance(70) { 5 } else { r.range(5, 15) };
    let mut t = r.bytes(hl * 4);
    // Data offset, then 12 flag bits (NS and the reserved ones included).
    let flags = if r.chance(50) {
        *r.pick(&[0x002, 0x012, 0x010, 0x011, 0x004, 0x018, 0x0c2, 0x100])
    } else {
        r.u16() & 0x0fff
    };
    put16(&mut t, 12, ((hl as u16) << 12) | flags);
    let n = r.range(0, 20);
    t.extend(r.bytes(n));
    t
}

fn ports(r: &mut Rng, hdr: usize) -> Vec<u8> {
    let mut u = r.bytes(hdr);
    let any = r.u16();
    let sp = *r.pick(&[53u16, 80, 443, 4789, 0, 65535, any]);
    put16(&mut u, 0, sp);
    let n = r.range(0, 24);
    u.extend(r.bytes(n));
    u
}

fn udp(r: &mut Rng) -> Vec<u8> {
    ports(r, 8)
}

fn sctp(r: &mut Rng) -> Vec<u8> {
    ports(r, 12)
}

/// ICMP, ICMPv6 or IGMP: type, code, then the rest.
fn icmp(r: &mut Rng, ty: u8, code: u8) -> Vec<u8> {
    let n = r.range(8, 40);
    let mut m = r.bytes(n);
    m[0] = ty;
    m[1] = code;
    m
}

fn icmp4(r: &mut Rng) -> Vec<u8> {
    let (t, c) = if r.chance(50) {
        *r.pick(&[(8, 0), (0, 0), (3, 1), (3, 3), (11, 0), (5, 1)])
    } else {
        (r.u8(), r.u8())
    };
    icmp(r, t, c)
}

/// A neighbour solicitation/advertisement with link-layer options, and
/// (`bad`) malformed ones: zero length, running past the end, repeated.
fn nd(r: &mut Rng, bad: bool) -> Vec<u8> {
    let ty = *r.pick(&[135u8, 136]);
    let mut m = vec![ty, if r.chance(95) { 0 } else { 1 }, 0, 0];
    m.extend(r.bytes(4)); // RSO flags / reserved
    m.extend(v6addr(r));
    for _ in 0..r.range(0, 3) {
        let kind = *r.pick(&[1u8, 2, 1, 2, 3, 14]);
        let len = if r.chance(90) { 1 } else { r.range(2, 3) };
        m.push(kind);
        m.push(len as u8);
        let body = r.bytes(len * 8 - 2);
        m.extend(body);
    }
    if bad {
        match r.below(4) {
            0 => m.extend([*r.pick(&[1u8, 2]), 0, 1, 2, 3, 4, 5, 6]),
            1 => m.extend([*r.pick(&[1u8, 2]), 4, 1, 2, 3, 4, 5, 6]),
            2 => {
                let t = *r.pick(&[1u8, 2]);
                m.extend([t, 1, 0xaa, 1, 2, 3, 4, 5, t, 1, 0xbb, 1, 2, 3, 4, 5]);
            }
            _ => m.truncate(r.range(8, 23)),
        }
    } else if r.chance(20) {
        // Trailing bytes too few for an option.
        let n = r.range(1, 7);
        m.extend(r.bytes(n));
    }
    m
}

fn icmp6(r: &mut Rng) -> Vec<u8> {
    let (t, c) = *r.pick(&[(128, 0), (129, 0), (1, 4), (2, 0), (3, 0), (133, 0)]);
    icmp(r, t, c)
}

fn v4addr(r: &mut Rng) -> Vec<u8> {
    if r.chance(70) {
        vec![10, 0, r.u8() & 3, r.u8() & 15]
    } else {
        r.bytes(4)
    }
}

fn v6addr(r: &mut Rng) -> Vec<u8> {
    let mut a = vec![0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, r.u8() & 3];
    a.extend([0; 7]);
    a.push(r.u8());
    if r.chance(20) {
        a = r.bytes(16);
    } else if r.chance(10) {
        a[..2].copy_from_slice(&[0xfe, 0x80]);
    }
    a
}

/// IPv4: options (IHL 5..15), TOS with ECN, TTL, flags/fragment offset per
/// `frag` (0 none, 1 DF, 2 first fragment, 3 later fragment, 4 later with
/// MF).
fn ipv4(r: &mut Rng, proto: u8, frag: u8, l4: &[u8]) -> Vec<u8> {
    let ihl = if r.chance(75) { 5 } else { r.range(6, 15) };
    let mut ip = vec![(4 << 4) | ihl as u8, r.u8(), 0, 0, r.u8(), r.u8()];
    let off: u16 = match frag {
        0 => 0,
        1 => 0x4000,
        2 => 0x2000 | if r.chance(20) { 0x4000 } else { 0 },
        3 => 1 + r.u16() % 0x1fff,
        _ => 0x2000 | (1 + r.u16() % 0x1fff),
    };
    ip.extend(off.to_be_bytes());
    let any = r.u8();
    ip.push(*r.pick(&[64, 1, 255, 0, any]));
    ip.push(proto);
    ip.extend([0, 0]);
    ip.extend(v4addr(r));
    ip.extend(v4addr(r));
    // Options: NOPs, End, or random bytes.
    for _ in 5..ihl {
        let o = if r.chance(50) {
            vec![1, 1, 1, 1]
        } else {
            r.bytes(4)
        };
        ip.extend(o);
    }
    ip.extend_from_slice(l4);
    let tot = ip.len() as u16;
    put16(&mut ip, 2, tot);
    ip
}

/// An IPv6 extension header of type `ty` carrying `next`.
fn ext(r: &mut Rng, ty: u8, next: u8, frag: u8) -> Vec<u8> {
    match ty {
        44 => {
            let offlg: u16 = match frag {
                0 => 0,                                 // atomic
                1 => 1 | (r.u16() & 6),                 // first, M set
                2 => (1 + r.u16() % 0x1fff) << 3,       // last
                _ => ((1 + r.u16() % 0x1fff) << 3) | 1, // middle
            };
            let mut h = vec![next, 0];
            h.extend(offlg.to_be_bytes());
            h.extend(r.bytes(4));
            h
        }
        51 => {
            // AH: length in 4-byte units minus 2.
            let len = r.range(1, 4);
            let mut h = vec![next, len as u8];
            h.extend(r.bytes((len + 2) * 4 - 2));
            h
        }
        _ => {
            let len = if r.chance(70) { 0 } else { r.range(1, 3) };
            let mut h = vec![next, len as u8];
            h.extend(r.bytes((len + 1) * 8 - 2));
            h
        }
    }
}

/// A random chain of extension headers ending in `proto`: hop-by-hop,
/// routing, destination options, AH, fragment (first, later or atomic).
fn ext_chain(r: &mut Rng, proto: u8, l4: &[u8]) -> (u8, Vec<u8>, &'static str) {
    let n = *r.pick(&[0usize, 0, 0, 0, 1, 1, 2, 3]);
    let mut types: Vec<u8> = (0..n).map(|_| *r.pick(&[0u8, 43, 60, 51, 44])).collect();
    if r.chance(15) {
        types.insert(0, 0);
    }
    let frag = r.below(4) as u8;
    let mut next = proto;
    let mut body = l4.to_vec();
    for &t in types.iter().rev() {
        let mut h = ext(r, t, next, frag);
        h.extend(body);
        body = h;
        next = t;
    }
    let kind = match (types.contains(&44), frag) {
        (false, _) if types.is_empty() => "",
        (false, _) => "ext-headers",
        (true, 0) => "atomic-fragment",
        (true, 1) => "first-fragment",
        (true, _) => "later-fragment",
    };
    (next, body, kind)
}

fn ipv6(r: &mut Rng, next: u8, payload: &[u8]) -> Vec<u8> {
    let tc = if r.chance(30) { 0 } else { r.u8() };
    let label = if r.chance(30) {
        0
    } else {
        r.next() as u32 & 0xfffff
    };
    let mut ip = ((6u32 << 28) | ((tc as u32) << 20) | label)
        .to_be_bytes()
        .to_vec();
    ip.extend((payload.len() as u16).to_be_bytes());
    ip.push(next);
    let any = r.u8();
    ip.push(*r.pick(&[64, 255, 1, 0, any]));
    ip.extend(v6addr(r));
    ip.extend(v6addr(r));
    ip.extend_from_slice(payload);
    ip
}

fn arp(r: &mut Rng) -> Vec<u8> {
    let mut a = vec![0, 1, 8, 0, 6, 4];
    let op = match r.below(10) {
        0..=3 => 1,
        4..=7 => 2,
        8 => *r.pick(&[3, 4, 0, 255]),
        _ => r.u16(),
    };
    a.extend(op.to_be_bytes());
    a.extend(mac(r));
    a.extend(v4addr(r));
    a.extend(if op == 1 { vec![0; 6] } else { mac(r) });
    a.extend(v4addr(r));
    if r.chance(10) {
        // Not Ethernet/IPv4: nothing beyond the type is kept.
        match r.below(3) {
            0 => put16(&mut a, 0, 6),
            1 => a[4] = 8,
            _ => a[5] = 16,
        }
    }
    a
}

/// An L4 payload for `proto`, of the given family.
fn l4_for(r: &mut Rng, proto: u8) -> Vec<u8> {
    match proto {
        6 => tcp(r),
        17 => udp(r),
        132 => sctp(r),
        1 => icmp4(r),
        58 => {
            if r.chance(40) {
                nd(r, false)
            } else {
                icmp6(r)
            }
        }
        2 => {
            let (t, c) = (*r.pick(&[0x11, 0x16, 0x17]), r.u8());
            icmp(r, t, c)
        }
        _ => {
            let n = r.range(0, 30);
            r.bytes(n)
        }
    }
}

fn v4_proto(r: &mut Rng) -> u8 {
    *r.pick(&[6, 6, 17, 17, 132, 1, 1, 2, 58, 47, 0, 50, 89, 255])
}

fn v6_proto(r: &mut Rng) -> u8 {
    *r.pick(&[6, 6, 17, 17, 132, 58, 58, 58, 1, 2, 59, 47, 89])
}

/// One packet of the trace, with the class it is counted under.
fn gen_packet(r: &mut Rng) -> (&'static str, Vec<u8>) {
    match r.below(100) {
        0..=3 => {
            // Another Ethernet type: L2 only. (No MPLS or NSH: our key has
            // no fields for them.)
            let ty = *r.pick(&[0x88cc, 0x0842, 0x22f0, 0x9000, 0x88e5, 0x0600, 0xffff]);
            let n = r.range(0, 50);
            let p = r.bytes(n);
            ("eth-other", ethernet(r, ty, &p))
        }
        4..=8 => {
            // 802.3 length frames: LLC, SNAP with an Ethernet type, SNAP
            // with another OUI, SNAP with a length as type, short LLC.
            let mut p = match r.below(5) {
                0 => vec![0x42, 0x42, 0x03],
                1 => {
                    let ty = *r.pick(&[0x0800u16, 0x0806, 0x86dd, 0x88cc]);
                    let mut p = vec![0xaa, 0xaa, 0x03, 0, 0, 0];
                    p.extend(ty.to_be_bytes());
                    p.extend(match ty {
                        0x0800 => {
                            let proto = v4_proto(r);
                            let l4 = l4_for(r, proto);
                            ipv4(r, proto, 0, &l4)
                        }
                        0x0806 => arp(r),
                        0x86dd => {
                            let l4 = udp(r);
                            ipv6(r, 17, &l4)
                        }
                        _ => r.bytes(10),
                    });
                    p
                }
                2 => vec![0xaa, 0xaa, 0x03, 0, 0, 0x0c, 0x20, 0x00],
                3 => {
                    let mut p = vec![0xaa, 0xaa, 0x03, 0, 0, 0];
                    p.extend((r.u16() % 0x600).to_be_bytes());
                    p
                }
                _ => vec![0xaa, 0xaa, 0x03, 0, 0][..r.range(0, 5)].to_vec(),
            };
            let n = r.range(0, 20);
            p.extend(r.bytes(n));
            let len = p.len() as u16;
            ("llc-802.3", ethernet(r, len.min(0x5ff), &p))
        }
        9..=16 => {
            let ty = if r.chance(90) { 0x0806 } else { 0x8035 };
            let a = arp(r);
            ("arp", ethernet(r, ty, &a))
        }
        17..=49 => {
            let proto = v4_proto(r);
            let frag = *r.pick(&[0u8, 0, 0, 1, 1, 2, 3, 4]);
            let l4 = l4_for(r, proto);
            let class = match (frag, proto) {
                (3 | 4, _) => "ipv4-later-frag",
                (2, _) => "ipv4-first-frag",
                (_, 6) => "ipv4-tcp",
                (_, 17) => "ipv4-udp",
                (_, 132) => "ipv4-sctp",
                (_, 1) => "ipv4-icmp",
                (_, 2) => "ipv4-igmp",
                (_, 58) => "ipv4-icmp6",
                _ => "ipv4-other",
            };
            let ip = ipv4(r, proto, frag, &l4);
            (class, ethernet(r, 0x0800, &ip))
        }
        50..=79 => {
            let proto = v6_proto(r);
            let l4 = l4_for(r, proto);
            let (next, pl, kind) = ext_chain(r, proto, &l4);
            let class = match proto {
                _ if kind == "ext-headers" => "ipv6-ext-headers",
                _ if kind == "atomic-fragment" => "ipv6-atomic-fragment",
                _ if kind == "first-fragment" => "ipv6-first-fragment",
                _ if !kind.is_empty() => "ipv6-later-fragment",
                6 => "ipv6-tcp",
                17 => "ipv6-udp",
                132 => "ipv6-sctp",
                58 if matches!(l4[0], 135 | 136) => "ipv6-nd",
                58 => "ipv6-icmp6",
                1 => "ipv6-icmp4",
                2 => "ipv6-igmp",
                _ => "ipv6-other",
            };
            let ip = ipv6(r, next, &pl);
            (class, ethernet(r, 0x86dd, &ip))
        }
        _ => malformed(r),
    }
}

/// Frames cut short or with header fields that do not fit.
fn malformed(r: &mut Rng) -> (&'static str, Vec<u8>) {
    match r.below(11) {
        0 => {
            // Cut anywhere: usually inside a header.
            let (_, mut f) = gen_packet(r);
            let n = r.range(1, f.len().max(2) - 1);
            f.truncate(n);
            ("cut-anywhere", f)
        }
        1 => {
            let n = r.range(1, 13);
            ("short-l2", r.bytes(n))
        }
        2 => {
            // IPv4 header cut short (fewer than 20 bytes after L2).
            let l4 = udp(r);
            let mut ip = ipv4(r, 17, 0, &l4);
            ip.truncate(r.range(0, 19));
            ("ipv4-cut", ethernet_unpadded(r, 0x0800, &ip))
        }
        3 => {
            // Bad IHL (< 5 or past the datagram), total length past the
            // frame or below the header, or a wrong version nibble.
            let proto = v4_proto(r);
            let l4 = l4_for(r, proto);
            let mut ip = ipv4(r, proto, 0, &l4);
            match r.below(4) {
                0 => ip[0] = 0x40 | (r.u8() % 5),
                1 => ip[0] = 0x4f,
                2 => {
                    let tot = be16(&ip, 2);
                    let bad = if r.chance(50) {
                        tot + 1 + r.u16() % 100
                    } else {
                        r.u16() % ((ip[0] as u16 & 15) * 4)
                    };
                    put16(&mut ip, 2, bad);
                }
                _ => ip[0] = (ip[0] & 0x0f) | (*r.pick(&[0u8, 5, 6, 15]) << 4),
            }
            ("ipv4-bad-header", ethernet(r, 0x0800, &ip))
        }
        4 => {
            // TCP (or UDP, SCTP, ICMP) cut short inside a valid datagram,
            // or a TCP data offset below 5 or past the segment.
            let proto = *r.pick(&[6u8, 6, 6, 17, 132, 1]);
            let mut l4 = l4_for(r, proto);
            if proto == 6 && r.chance(40) {
                l4[12] = (l4[12] & 0x0f) | (*r.pick(&[0u8, 1, 4, 15]) << 4);
                l4.truncate(20);
            } else {
                let need = match proto {
                    6 => 20,
                    132 => 12,
                    _ => 8,
                };
                l4.truncate(r.range(0, need - 1));
            }
            let ip = if r.chance(60) {
                ipv4(r, proto, 0, &l4)
            } else {
                ipv6(r, proto, &l4)
            };
            let ty = if ip[0] >> 4 == 4 { 0x0800 } else { 0x86dd };
            ("l4-cut", ethernet(r, ty, &ip))
        }
        5 => {
            // IPv6 extension header cut short (inside the payload length),
            // or one whose length runs past it.
            let proto = v6_proto(r);
            let l4 = l4_for(r, proto);
            let t = *r.pick(&[0u8, 43, 60, 51, 44]);
            let frag = r.below(4) as u8;
            let mut pl = ext(r, t, proto, frag);
            if r.chance(50) {
                pl.truncate(r.range(0, 7));
            } else {
                if t != 44 {
                    pl[1] = pl[1].wrapping_add(r.range(1, 5) as u8);
                }
                pl.extend(l4);
                let keep = r.range(0, pl.len());
                pl.truncate(keep);
            }
            let ip = ipv6(r, t, &pl);
            ("ipv6-ext-cut", ethernet(r, 0x86dd, &ip))
        }
        6 => {
            // IPv6 header cut short, payload length past the frame, or a
            // wrong version nibble.
            let l4 = l4_for(r, 17);
            let mut ip = ipv6(r, 17, &l4);
            match r.below(3) {
                0 => ip.truncate(r.range(0, 39)),
                1 => {
                    let plen = be16(&ip, 4) + 1 + r.u16() % 200;
                    put16(&mut ip, 4, plen);
                }
                _ => ip[0] = (ip[0] & 0x0f) | (*r.pick(&[0u8, 4, 7, 15]) << 4),
            }
            ("ipv6-bad-header", ethernet(r, 0x86dd, &ip))
        }
        7 | 8 => {
            let m = nd(r, true);
            let ip = ipv6(r, 58, &m);
            ("nd-malformed", ethernet(r, 0x86dd, &ip))
        }
        9 => {
            // VLAN tag cut short: the frame ends inside a tag.
            let mut f = mac(r);
            f.extend(mac(r));
            let tpid = *r.pick(&[0x8100u16, 0x88a8]);
            f.extend(tpid.to_be_bytes());
            if r.chance(50) {
                f.extend(r.u16().to_be_bytes());
                f.extend(0x8100u16.to_be_bytes());
            }
            let n = r.range(0, 3);
            f.extend(r.bytes(n));
            ("vlan-cut", f)
        }
        _ => {
            // ARP cut short.
            let mut a = arp(r);
            a.truncate(r.range(0, 27));
            let mut f = mac(r);
            f.extend(mac(r));
            f.extend(0x0806u16.to_be_bytes());
            f.extend(a);
            ("arp-cut", f)
        }
    }
}

// ---------------------------------------------------------- OVS's output

/// One flow as `ovs-ofctl parse-pcap` prints it: our fields' values and
/// which of them it printed.
struct OvsFlow {
    key: FlowKey,
    printed: BTreeSet<Field>,
}

fn parse_mac(v: &str) -> Result<u128, String> {
    let b: Vec<u8> = v
        .split(':')
        .map(|x| u8::from_str_radix(x, 16))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{v}: {e}"))?;
    if b.len() != 6 {
        return Err(format!("{v}: not a MAC"));
    }
    Ok(b.iter().fold(0u128, |a, x| (a << 8) | *x as u128))
}

fn parse_num(v: &str) -> Result<u128, String> {
    match v.strip_prefix("0x") {
        Some(h) => u128::from_str_radix(h, 16),
        None => v.parse(),
    }
    .map_err(|e| format!("{v}: {e}"))
}

/// A flag as OVS prints it: a name, or a reserved bit as `[200]` etc.
fn tcp_flag(name: &str) -> Result<u128, String> {
    if let Some(b) = tcp_flag_bit(name) {
        return Ok(b);
    }
    match name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        Some(hex) => u128::from_str_radix(hex, 16).map_err(|e| format!("{name}: {e}")),
        None => parse_num(name),
    }
}

fn parse_ovs(line: &str) -> Result<OvsFlow, String> {
    let mut f = OvsFlow {
        key: FlowKey::ZERO,
        printed: BTreeSet::new(),
    };
    let put = |f: &mut OvsFlow, field: Field, v: u128| {
        f.key.set(field, f.key.get(field) | v);
        f.printed.insert(field);
    };
    for tok in line.trim().split(',') {
        let Some((k, v)) = tok.split_once('=') else {
            let (ty, proto) = match tok {
                "ip" => (0x0800, None),
                "ipv6" => (0x86dd, None),
                "arp" => (0x0806, None),
                "rarp" => (0x8035, None),
                "tcp" => (0x0800, Some(6)),
                "udp" => (0x0800, Some(17)),
                "sctp" => (0x0800, Some(132)),
                "icmp" => (0x0800, Some(1)),
                "tcp6" => (0x86dd, Some(6)),
                "udp6" => (0x86dd, Some(17)),
                "sctp6" => (0x86dd, Some(132)),
                "icmp6" => (0x86dd, Some(58)),
                _ => return Err(format!("unknown keyword {tok:?}")),
            };
            put(&mut f, Field::DlType, ty);
            if let Some(p) = proto {
                put(&mut f, Field::NwProto, p);
            }
            continue;
        };
        let (field, val) = match k {
            "in_port" => (
                Field::InPort,
                if v == "ANY" { 0xffff } else { parse_num(v)? },
            ),
            "vlan_tci" => (Field::VlanTci0, parse_num(v)?),
            "vlan_tci1" => (Field::VlanTci1, parse_num(v)?),
            "dl_vlan" => (Field::VlanTci0, parse_num(v)? | VLAN_CFI as u128),
            "dl_vlan1" => (Field::VlanTci1, parse_num(v)? | VLAN_CFI as u128),
            "dl_vlan_pcp" => (Field::VlanTci0, (parse_num(v)? << 13) | VLAN_CFI as u128),
            "dl_vlan_pcp1" => (Field::VlanTci1, (parse_num(v)? << 13) | VLAN_CFI as u128),
            "dl_src" => (Field::DlSrc, parse_mac(v)?),
            "dl_dst" => (Field::DlDst, parse_mac(v)?),
            "dl_type" => (Field::DlType, parse_num(v)?),
            "nw_src" | "arp_spa" => (Field::NwSrc, ip4(v)?),
            "nw_dst" | "arp_tpa" => (Field::NwDst, ip4(v)?),
            "ipv6_src" => (Field::Ipv6Src, ip6(v)?),
            "ipv6_dst" => (Field::Ipv6Dst, ip6(v)?),
            "nd_target" => (Field::NdTarget, ip6(v)?),
            "ipv6_label" => (Field::Ipv6Label, parse_num(v)?),
            "nw_proto" | "arp_op" => (Field::NwProto, parse_num(v)?),
            // DSCP and ECN are printed apart; our nw_tos is the whole byte.
            "nw_tos" | "nw_ecn" => (Field::NwTos, parse_num(v)?),
            "nw_ttl" => (Field::NwTtl, parse_num(v)?),
            "nw_frag" => (
                Field::NwFrag,
                match v {
                    "no" => 0,
                    "first" => FRAG_ANY as u128,
                    "later" => (FRAG_ANY | FRAG_LATER) as u128,
                    _ => return Err(format!("nw_frag={v}")),
                },
            ),
            "tp_src" | "icmp_type" => (Field::TpSrc, parse_num(v)?),
            "tp_dst" | "icmp_code" => (Field::TpDst, parse_num(v)?),
            "arp_sha" | "nd_sll" => (Field::ArpSha, parse_mac(v)?),
            "arp_tha" | "nd_tll" => (Field::ArpTha, parse_mac(v)?),
            "tcp_flags" => (
                Field::TcpFlags,
                v.split('|').map(tcp_flag).sum::<Result<u128, _>>()?,
            ),
            _ => return Err(format!("unknown field {k:?}")),
        };
        put(&mut f, field, val);
    }
    Ok(f)
}

fn ip4(v: &str) -> Result<u128, String> {
    v.parse::<Ipv4Addr>()
        .map(|a| u32::from(a) as u128)
        .map_err(|e| format!("{v}: {e}"))
}

fn ip6(v: &str) -> Result<u128, String> {
    v.parse::<Ipv6Addr>()
        .map(u128::from)
        .map_err(|e| format!("{v}: {e}"))
}

/// The fields OVS prints for a flow with key `k` (its
/// `flow_wildcards_init_for_packet` and `match_format`, for the fields we
/// have). The VLAN TPIDs are never printed.
fn ovs_printed(k: &FlowKey) -> BTreeSet<Field> {
    use Field::*;
    let mut s: BTreeSet<Field> = [InPort, DlSrc, DlDst, DlType, VlanTci0].into();
    if k.get(VlanTci0) != 0 {
        s.insert(VlanTci1);
    }
    let (ty, proto) = (k.get(DlType), k.get(NwProto) as u8);
    match ty {
        0x0806 | 0x8035 => {
            s.extend([NwSrc, NwDst, NwProto, ArpSha, ArpTha]);
            return s;
        }
        0x0800 => s.extend([NwSrc, NwDst]),
        0x86dd => {
            s.extend([Ipv6Src, Ipv6Dst, Ipv6Label]);
            if proto == 58 && k.get(TpDst) == 0 && matches!(k.get(TpSrc), 135 | 136) {
                s.extend([NdTarget, ArpSha, ArpTha]);
            }
        }
        _ => return s,
    }
    s.extend([NwFrag, NwTos, NwTtl, NwProto]);
    if k.get(NwFrag) & FRAG_LATER as u128 == 0 && matches!(proto, 1 | 58 | 6 | 17 | 132 | 2) {
        s.extend([TpSrc, TpDst]);
        if proto == 6 {
            s.insert(TcpFlags);
        }
    }
    s
}

/// Our key as OVS is expected to show it: the by-design rules of
/// `BY_DESIGN` applied where they hold. Returns the key, the extraction
/// and the rules used.
fn ovs_view(frame: &[u8], key: &FlowKey, x: &Extracted) -> (FlowKey, Extracted, Vec<&'static str>) {
    let (mut k, x) = (*key, *x);
    let mut used = Vec::new();
    let l3 = x.l3_ofs as usize;
    let ty = k.get(Field::DlType);
    let proto = k.get(Field::NwProto) as u8;
    let later = k.get(Field::NwFrag) & FRAG_LATER as u128 != 0;
    let rule = match (ty, proto) {
        (0x86dd, 1) | (0x0800, 58) => Some("icmp-cross-family"),
        (0x0800 | 0x86dd, 2) => Some("igmp"),
        _ => None,
    };
    if let (Some(rule), false, true) = (rule, later, x.l4_ofs != 0) {
        let l4 = x.l4_ofs as usize;
        let end = if ty == 0x0800 {
            l3 + be16(frame, l3 + 2) as usize
        } else {
            l3 + 40 + be16(frame, l3 + 4) as usize
        };
        if end >= l4 + 8 {
            k.set(Field::TpSrc, frame[l4] as u128);
            k.set(Field::TpDst, frame[l4 + 1] as u128);
            used.push(rule);
        }
    }
    (k, x, used)
}

/// The VLAN TPIDs, which OVS does not print, read from the frame: the
/// type field before each tag we found.
fn frame_tpids(frame: &[u8], k: &FlowKey) -> [u128; 2] {
    let mut t = [0; 2];
    for (i, f) in [Field::VlanTci0, Field::VlanTci1].into_iter().enumerate() {
        if k.get(f) != 0 {
            t[i] = be16(frame, 12 + 4 * i) as u128;
        }
    }
    t
}

/// Every difference between our key (OVS-viewed) and OVS's flow.
fn compare(
    frame: &[u8],
    ours: &FlowKey,
    x: &Extracted,
    ovs: &OvsFlow,
) -> (Vec<String>, Vec<&'static str>) {
    let (view, _, used) = ovs_view(frame, ours, x);
    let mut diffs = Vec::new();
    for f in Field::ALL {
        let mine = view.get(*f);
        match *f {
            Field::VlanTpid0 | Field::VlanTpid1 => {
                let i = usize::from(*f == Field::VlanTpid1);
                let want = frame_tpids(frame, &view)[i];
                if mine != want {
                    diffs.push(format!("{}: ours {mine:#x}, frame {want:#x}", f.name()));
                }
            }
            _ if ovs.printed.contains(f) => {
                let theirs = ovs.key.get(*f);
                if mine != theirs {
                    diffs.push(format!("{}: ours {mine:#x}, OVS {theirs:#x}", f.name()));
                }
            }
            _ if mine != 0 => diffs.push(format!(
                "{}: ours {mine:#x}, OVS does not have the field",
                f.name()
            )),
            _ => {}
        }
    }
    let want = ovs_printed(&view);
    if want != ovs.printed {
        let names = |s: &BTreeSet<Field>| s.iter().map(|f| f.name()).collect::<Vec<_>>();
        diffs.push(format!(
            "presence: OVS prints {:?} but our key implies {:?}",
            names(&ovs.printed),
            names(&want)
        ));
    }
    // Our map: covers every non-zero field, and claims only words that hold
    // a field present for this protocol stack.
    let mut present_words = 0u32;
    for f in want.iter().chain(&[Field::VlanTpid0, Field::VlanTpid1]) {
        present_words |= FlowKey::field_words(*f);
    }
    for f in Field::ALL {
        if ours.get(*f) != 0 && FlowKey::field_words(*f) & !x.map != 0 {
            diffs.push(format!("map {:#x} misses {} (non-zero)", x.map, f.name()));
        }
    }
    if x.map & !present_words != 0 {
        diffs.push(format!(
            "map {:#x} claims words {:#x} that hold no present field",
            x.map,
            x.map & !present_words
        ));
    }
    (diffs, used)
}

/// The protocol stack OVS found, for the coverage summary: L3, and
/// for IP the L4 protocol and fragment kind.
fn stack(k: &FlowKey) -> String {
    let mut s = String::new();
    let ty = k.get(Field::DlType);
    s += match ty {
        0x0800 => "ipv4",
        0x86dd => "ipv6",
        0x0806 => "arp",
        0x8035 => "rarp",
        0x05ff => "802.3",
        0 => "none",
        _ => "other-type",
    };
    if ty == 0x0800 || ty == 0x86dd {
        let nd = matches!(k.get(Field::TpSrc), 135 | 136) && k.get(Field::TpDst) == 0;
        s += match k.get(Field::NwProto) {
            6 => "/tcp",
            17 => "/udp",
            132 => "/sctp",
            1 => "/icmp",
            58 if nd && ty == 0x86dd => "/nd",
            58 => "/icmp6",
            2 => "/igmp",
            44 => "/frag",
            _ => "/other",
        };
        s += ["", "/first-frag", "", "/later-frag"][k.get(Field::NwFrag) as usize & 3];
    }
    s
}

fn hex(d: &[u8]) -> String {
    let mut s = String::new();
    for b in d {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[test]
fn extraction_matches_ovs() {
    let have = Command::new("ovs-ofctl").arg("--version").output();
    if !have.is_ok_and(|o| o.status.success()) {
        if common::skip_ovs_asked() {
            common::skipped("ovs-ofctl not found (PMDSWITCH_SKIP_OVS=1)");
            return;
        }
        panic!(
            "ovs-ofctl not found: install openvswitch-common (scripts/setup-host.sh does), \
             or set PMDSWITCH_SKIP_OVS=1 to skip this test"
        );
    }
    let mut r = Rng(SEED);
    let (classes, frames): (Vec<&str>, Vec<Vec<u8>>) =
        (0..PACKETS).map(|_| gen_packet(&mut r)).unzip();
    let dir = tempfile::tempdir().expect("temp dir");
    let pcap = dir.path().join("extract.pcap");
    write_pcap(&pcap, &frames);
    let out = Command::new("ovs-ofctl")
        .arg("parse-pcap")
        .arg(&pcap)
        .output()
        .expect("run ovs-ofctl");
    assert!(
        out.status.success(),
        "ovs-ofctl parse-pcap: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        frames.len(),
        "one flow per packet from ovs-ofctl"
    );

    let mut per_class: BTreeMap<&str, usize> = BTreeMap::new();
    let mut per_rule: BTreeMap<&str, usize> = BTreeMap::new();
    let mut per_stack: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_tags: BTreeMap<&str, usize> = BTreeMap::new();
    let mut malformed: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for (i, ((frame, class), line)) in frames.iter().zip(&classes).zip(&lines).enumerate() {
        let mut key = FlowKey::ZERO;
        let x = extract(frame, PCAP_IN_PORT, &mut key);
        *per_class.entry(class).or_default() += 1;
        *malformed.entry(format!("{:?}", x.malformed)).or_default() += 1;
        let ovs = match parse_ovs(line) {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!(
                    "packet {i} ({class}): cannot parse OVS's flow ({e}): {line}\n  hex {}",
                    hex(frame)
                ));
                continue;
            }
        };
        *per_stack.entry(stack(&ovs.key)).or_default() += 1;
        let tags = ["untagged", "1 tag", "2 tags"][usize::from(ovs.key.get(Field::VlanTci0) != 0)
            + usize::from(ovs.key.get(Field::VlanTci1) != 0)];
        *per_tags.entry(tags).or_default() += 1;
        let (diffs, used) = compare(frame, &key, &x, &ovs);
        for u in used {
            *per_rule.entry(u).or_default() += 1;
        }
        if !diffs.is_empty() {
            failures.push(format!(
                "packet {i} ({class}, {} bytes, {:?}):\n  hex  {}\n  OVS  {line}\n  ours {key:?}\n  {}",
                frame.len(),
                x.malformed,
                hex(frame),
                diffs.join("\n  ")
            ));
        }
    }
    println!(
        "extract oracle: {} packets compared with ovs-ofctl parse-pcap, field by field",
        frames.len()
    );
    println!("  by class: {per_class:?}");
    println!("  by protocol stack (as OVS extracted it): {per_stack:?}");
    println!("  by VLAN tags (as OVS extracted them): {per_tags:?}");
    println!("  our malformed flags: {malformed:?}");
    println!("  by-design differences modelled: {per_rule:?}");
    for (name, why) in BY_DESIGN {
        assert!(
            per_rule.contains_key(name) || !failures.is_empty(),
            "by-design rule {name} never exercised ({why})"
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} packets differ from OVS; first ones:\n{}",
        failures.len(),
        frames.len(),
        failures
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
