//! Differential test against OVS-DPDK: the same trace and the same rules
//! through pmdswitch and through `ovs-vswitchd-dpdk` must send the same
//! packets, byte for byte, out of the same ports.
//!
//! It runs [`cases`]: each a rule set, a trace and port settings (MTUs,
//! forward-bpdu, PMD count), under each of [`SEEDS`] (the interleaving of
//! the trace's flows), and prints a line per case and seed (identical or
//! DIFFERENT, packets in and out, known differences left out); a failure
//! names the case and seed. `OVS_DIFF_CASE=TEXT` runs only the cases whose
//! name contains TEXT.
//!
//! Set-up, identical on both sides but for the file names: port 1 is a
//! `net_pcap` that reads the trace once (no `infinite_rx`) and writes what
//! is sent back to it (`output:in_port`), ports 2, 3 and 4 are `net_pcap`
//! ports writing `tx_pcap` files; the OpenFlow rules go to pmdswitch
//! through `[datapath] flows` and to OVS with `ovs-ofctl add-flow`, with the
//! OVS port numbers pinned by `ofport_request`. OVS runs from a private
//! database and run directory (see `common/ovs.rs`) with a
//! `datapath_type=netdev` bridge in `fail-mode=secure` (no flows of its
//! own, no NORMAL fallback, no in-band rules) and `vlan-limit=2` (OVS
//! parses one tag by default, pmdswitch two, as OVS can). On both sides
//! the input port is added at run time, after the outputs and the rules
//! (a case may first add port 2 as an input too, with frames whose MACs
//! NORMAL learns there; then port 1; pmdswitch through `ctl add-port`:
//! its first packets must be forwarded
//! like the rest; OVS's only once a trace from it translates, since OVS
//! drops what arrives before). The switches run one after the other, each
//! until its input port has received the whole trace and its output
//! counters have stopped moving.
//!
//! Known differences (the README's "Compatibility with OVS-DPDK") are
//! named per case by flow class: what those flows send is left out of the
//! comparison on both sides, and counted.
//!
//! What is compared, and why: both switches keep the order of the packets
//! of one flow, but neither keeps the order between flows: a burst is
//! split into per-megaflow batches, and the two switches cut megaflows
//! differently. So the outputs are compared per port, grouped by input
//! flow, in order within each group. Every trace frame that is long enough
//! ends in an 8-byte trailer: a marker, the number of its input flow and
//! the packet's sequence number twice (once inverted, which leaves every
//! checksum over it the same for all packets of a flow). Two outputs belong
//! to the same group when they are equal up to the sequence number; a
//! group's sequence numbers must come out in the same order from both
//! switches, and a group only one switch sent (or sent a different number
//! of times) is a difference. Frames cut too short for a trailer (the
//! truncated classes) are sent several times identically: they group by
//! their whole bytes, where order cannot be seen anyway.
//!
//! On a difference the test prints, per port, the first differing group:
//! the packet each switch sent (hex), the input packet it came from, and
//! the input flow's class, and fails.
//!
//! `OVS_DIFF_DEBUG=1` prints OVS's PMD statistics, coverage counters,
//! datapath flows and log after the run.
//!
//! Needs hugepages and OVS with DPDK (`scripts/setup-host.sh` installs
//! both); without OVS it fails unless `PMDSWITCH_SKIP_OVS=1`.

mod common;
use common::ovs::{self, Ovs};
use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The rules, in `ovs-ofctl` syntax. Port 1 is the input; 2, 3, 4 outputs.
const RULES: &[&str] = &[
    // VLAN: pop, rewrite the VID, pop the outer tag of QinQ, push a tag
    // onto a tagged packet (OpenFlow 1.1+), push onto untagged ARP.
    "priority=1000,in_port=1,dl_vlan=100,actions=strip_vlan,output:2",
    "priority=990,in_port=1,dl_vlan=200,actions=mod_vlan_vid:201,output:3",
    "priority=980,dl_vlan=300,actions=strip_vlan,output:4",
    "priority=970,dl_vlan=400,actions=push_vlan:0x88a8,output:2",
    "priority=960,vlan_tci=0x1000/0x1000,arp,actions=output:4",
    "priority=950,dl_vlan=0xffff,arp,actions=mod_vlan_vid:42,output:3",
    // IPv4: drop by prefix, L3/L4 rewrites by prefix and port, several
    // outputs, dec_ttl, ICMP, later fragments.
    "priority=900,ip,nw_src=10.66.0.0/16,actions=drop",
    "priority=800,tcp,nw_dst=10.1.0.0/16,tp_dst=80,actions=mod_tp_dst:8080,mod_nw_src:192.168.1.1,output:2",
    "priority=790,tcp,nw_dst=10.1.0.0/16,actions=mod_dl_src:02:aa:00:00:00:01,mod_dl_dst:02:bb:00:00:00:02,output:3",
    "priority=780,udp,nw_dst=10.1.2.0/24,actions=mod_tp_src:5353,mod_nw_tos:32,dec_ttl,output:4",
    "priority=770,udp,nw_dst=10.1.0.0/16,actions=output:2,output:3",
    "priority=760,ip,nw_dst=10.2.0.0/16,actions=dec_ttl,output:3",
    "priority=750,icmp,actions=mod_nw_dst:10.9.9.9,output:4",
    "priority=740,ip,nw_frag=later,actions=output:4",
    // IPv6: L4 rewrite behind extension headers, traffic class, ICMPv6,
    // later fragments, and output before and after dec_ttl.
    "priority=700,tcp6,actions=mod_tp_dst:443,dec_ttl,output:2",
    "priority=690,udp6,actions=mod_nw_tos:64,output:3",
    "priority=680,icmp6,actions=output:4",
    "priority=670,ipv6,nw_frag=later,actions=dec_ttl,output:3",
    "priority=660,ipv6,actions=output:2,dec_ttl,output:4",
    // What only a frame cut inside a VLAN tag has as its EtherType.
    "priority=300,dl_type=0x8100,actions=output:2",
    // Any other IPv4 (other protocols, and headers cut short).
    "priority=200,ip,actions=mod_nw_src:10.77.0.1,output:3",
    "priority=0,actions=output:4",
];

const TRAILER_MARK: [u8; 2] = [0xc0, 0xde];
const TRAILER: usize = 8;

// ---------------------------------------------------------------- frames

fn mac(last: u8) -> [u8; 6] {
    [0x02, 0, 0, 0, 0, last]
}

/// Ethernet header with `tags` ((TPID, TCI), outer first) and `ty`.
fn eth(dst: [u8; 6], src: [u8; 6], tags: &[(u16, u16)], ty: u16) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    for (tpid, tci) in tags {
        f.extend_from_slice(&tpid.to_be_bytes());
        f.extend_from_slice(&tci.to_be_bytes());
    }
    f.extend_from_slice(&ty.to_be_bytes());
    f
}

fn sum16(init: u32, data: &[u8]) -> u32 {
    let mut s = init;
    for c in data.chunks(2) {
        s += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    s
}

fn fold(mut s: u32) -> u16 {
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// Fills the checksum of the L4 segment `seg` (TCP, UDP, ICMP, ICMPv6)
/// given the pseudo-header sum (0 for ICMPv4).
fn l4_csum(proto: u8, pseudo: u32, seg: &mut [u8]) {
    let off = match proto {
        6 => 16,
        17 => 6,
        1 | 58 => 2,
        _ => return,
    };
    if seg.len() < off + 2 {
        return;
    }
    seg[off..off + 2].fill(0);
    let mut c = fold(sum16(pseudo, seg));
    if proto == 17 && c == 0 {
        c = 0xffff;
    }
    seg[off..off + 2].copy_from_slice(&c.to_be_bytes());
}

struct V4 {
    src: [u8; 4],
    dst: [u8; 4],
    proto: u8,
    tos: u8,
    ttl: u8,
    id: u16,
    /// Flags and fragment offset (in 8-byte units).
    frag: u16,
    options: Vec<u8>,
}

impl V4 {
    fn new(src: [u8; 4], dst: [u8; 4], proto: u8) -> V4 {
        V4 {
            src,
            dst,
            proto,
            tos: 0,
            ttl: 64,
            id: 0x1234,
            frag: 0,
            options: Vec::new(),
        }
    }

    /// The IPv4 packet around `seg`, checksums filled (L4 too, computed
    /// over what this packet carries, unless `l4_csum_ok` is false).
    fn wrap(&self, seg: &[u8], fill_l4: bool) -> Vec<u8> {
        let hl = 20 + self.options.len();
        let tot = hl + seg.len();
        let mut ip = vec![0u8; hl];
        ip[0] = 0x40 | (hl / 4) as u8;
        ip[1] = self.tos;
        ip[2..4].copy_from_slice(&(tot as u16).to_be_bytes());
        ip[4..6].copy_from_slice(&self.id.to_be_bytes());
        ip[6..8].copy_from_slice(&self.frag.to_be_bytes());
        ip[8] = self.ttl;
        ip[9] = self.proto;
        ip[12..16].copy_from_slice(&self.src);
        ip[16..20].copy_from_slice(&self.dst);
        ip[20..].copy_from_slice(&self.options);
        let c = fold(sum16(0, &ip));
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        let mut seg = seg.to_vec();
        if fill_l4 {
            let pseudo = if self.proto == 1 {
                0
            } else {
                let mut s = sum16(0, &self.src);
                s = sum16(s, &self.dst);
                s + u32::from(self.proto) + seg.len() as u32
            };
            l4_csum(self.proto, pseudo, &mut seg);
        }
        ip.extend_from_slice(&seg);
        ip
    }
}

fn v6addr(s: &str) -> [u8; 16] {
    s.parse::<std::net::Ipv6Addr>().unwrap().octets()
}

/// An IPv6 packet: `exts` are (header type, bytes) in order, then `seg`
/// of protocol `proto` (checksum filled over `seg`).
fn v6(
    src: &str,
    dst: &str,
    tclass: u8,
    hlim: u8,
    exts: &[(u8, Vec<u8>)],
    proto: u8,
    seg: &[u8],
) -> Vec<u8> {
    let (s, d) = (v6addr(src), v6addr(dst));
    let mut body = Vec::new();
    for (i, (_, bytes)) in exts.iter().enumerate() {
        let mut b = bytes.clone();
        b[0] = exts.get(i + 1).map_or(proto, |e| e.0);
        body.extend_from_slice(&b);
    }
    let mut seg = seg.to_vec();
    let mut pseudo = sum16(sum16(0, &s), &d);
    pseudo += seg.len() as u32 + u32::from(proto);
    l4_csum(proto, pseudo, &mut seg);
    body.extend_from_slice(&seg);
    let first = exts.first().map_or(proto, |e| e.0);
    let mut ip = vec![0u8; 40];
    let vtf: u32 = (6 << 28) | (u32::from(tclass) << 20) | 0x12345;
    ip[0..4].copy_from_slice(&vtf.to_be_bytes());
    ip[4..6].copy_from_slice(&(body.len() as u16).to_be_bytes());
    ip[6] = first;
    ip[7] = hlim;
    ip[8..24].copy_from_slice(&s);
    ip[24..40].copy_from_slice(&d);
    ip.extend_from_slice(&body);
    ip
}

/// A hop-by-hop or destination options header of `8 * (1 + len)` bytes
/// (PadN filled); the next-header byte is set by [`v6`].
fn opts_hdr(len: u8) -> Vec<u8> {
    let mut h = vec![0u8; 8 * (1 + len as usize)];
    h[1] = len;
    h[2] = 1; // PadN
    h[3] = (h.len() - 4) as u8;
    h
}

/// A routing header (type 0, no segments left) of 24 bytes.
fn routing_hdr() -> Vec<u8> {
    let mut h = vec![0u8; 24];
    h[1] = 2;
    h
}

/// An IPv6 fragment header: offset in 8-byte units, more-fragments flag.
fn frag6_hdr(offset: u16, more: bool, id: u32) -> Vec<u8> {
    let mut h = vec![0u8; 8];
    h[2..4].copy_from_slice(&((offset << 3) | u16::from(more)).to_be_bytes());
    h[4..8].copy_from_slice(&id.to_be_bytes());
    h
}

fn tcp(sp: u16, dp: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut t = vec![0u8; 20];
    t[0..2].copy_from_slice(&sp.to_be_bytes());
    t[2..4].copy_from_slice(&dp.to_be_bytes());
    t[4..8].copy_from_slice(&0x0102_0304u32.to_be_bytes());
    t[12] = 5 << 4;
    t[13] = flags;
    t[14..16].copy_from_slice(&8192u16.to_be_bytes());
    t.extend_from_slice(payload);
    t
}

fn udp(sp: u16, dp: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = vec![0u8; 8];
    u[0..2].copy_from_slice(&sp.to_be_bytes());
    u[2..4].copy_from_slice(&dp.to_be_bytes());
    u[4..6].copy_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    u.extend_from_slice(payload);
    u
}

fn icmp(ty: u8, code: u8, payload: &[u8]) -> Vec<u8> {
    let mut i = vec![ty, code, 0, 0, 0, 7, 0, 1];
    i.extend_from_slice(payload);
    i
}

fn arp(op: u16, sha: [u8; 6], spa: [u8; 4], tpa: [u8; 4]) -> Vec<u8> {
    let mut a = vec![0, 1, 8, 0, 6, 4];
    a.extend_from_slice(&op.to_be_bytes());
    a.extend_from_slice(&sha);
    a.extend_from_slice(&spa);
    a.extend_from_slice(&[0; 6]);
    a.extend_from_slice(&tpa);
    a
}

/// The trailer that ends a frame: marker, flow, sequence number twice.
fn trailer(flow: u16, seq: u16) -> [u8; TRAILER] {
    let [f0, f1] = flow.to_be_bytes();
    let [s0, s1] = seq.to_be_bytes();
    [TRAILER_MARK[0], TRAILER_MARK[1], f0, f1, s0, s1, !s0, !s1]
}

/// Payload of `n` filler bytes for flow `flow`, then the trailer.
fn payload(flow: u16, seq: u16, n: usize) -> Vec<u8> {
    let mut p: Vec<u8> = (0..n)
        .map(|i| (i as u8).wrapping_mul(7) ^ flow as u8)
        .collect();
    p.extend_from_slice(&trailer(flow, seq));
    p
}

/// One input flow: a class name and its frame for a sequence number.
struct Flow {
    class: &'static str,
    count: usize,
    make: Box<dyn Fn(u16, u16) -> Vec<u8>>,
    /// Its packets open the trace, before any other's (a MAC to learn).
    lead: bool,
}

fn flow(class: &'static str, count: usize, make: impl Fn(u16, u16) -> Vec<u8> + 'static) -> Flow {
    Flow {
        class,
        count,
        make: Box::new(make),
        lead: false,
    }
}

impl Flow {
    fn lead(mut self) -> Flow {
        self.lead = true;
        self
    }
}

const SRC: [u8; 4] = [10, 0, 0, 1];

/// An Ethernet/IPv4 frame (untagged) around `seg`.
fn ip4_frame(v: &V4, seg: &[u8]) -> Vec<u8> {
    let mut f = eth(mac(2), mac(1), &[], 0x0800);
    f.extend_from_slice(&v.wrap(seg, true));
    f
}

fn ip6_frame(tags: &[(u16, u16)], ip: &[u8]) -> Vec<u8> {
    let mut f = eth(mac(2), mac(1), tags, 0x86dd);
    f.extend_from_slice(ip);
    f
}

/// Every input flow of the trace.
fn flows() -> Vec<Flow> {
    let mut v = vec![
        // --- IPv4 TCP / UDP / ICMP by prefix and port.
        flow("ipv4 tcp :80 -> tp_dst, nw_src rewrite", 14, |f, s| {
            ip4_frame(
                &V4::new(SRC, [10, 1, 3, 4], 6),
                &tcp(40000, 80, 0x18, &payload(f, s, 30)),
            )
        }),
        flow("ipv4 tcp syn :80 other src", 10, |f, s| {
            ip4_frame(
                &V4::new([10, 0, 0, 9], [10, 1, 0, 1], 6),
                &tcp(40001, 80, 0x02, &payload(f, s, 3)),
            )
        }),
        flow("ipv4 tcp :22 -> mac rewrite", 12, |f, s| {
            ip4_frame(
                &V4::new(SRC, [10, 1, 200, 4], 6),
                &tcp(5555, 22, 0x10, &payload(f, s, 100)),
            )
        }),
        flow("ipv4 tcp with IP options :80", 8, |f, s| {
            let mut v = V4::new(SRC, [10, 1, 3, 5], 6);
            v.options = vec![1, 1, 1, 0]; // NOP NOP NOP EOL
            ip4_frame(&v, &tcp(40002, 80, 0x18, &payload(f, s, 12)))
        }),
        flow("ipv4 udp -> tp_src, tos, dec_ttl", 14, |f, s| {
            let mut v = V4::new(SRC, [10, 1, 2, 7], 17);
            v.tos = 0x03;
            ip4_frame(&v, &udp(1000, 53, &payload(f, s, 40)))
        }),
        flow("ipv4 udp zero checksum -> tp_src", 10, |f, s| {
            let mut fr = eth(mac(2), mac(1), &[], 0x0800);
            fr.extend_from_slice(
                &V4::new(SRC, [10, 1, 2, 8], 17).wrap(&udp(1001, 53, &payload(f, s, 22)), false),
            );
            fr
        }),
        flow("ipv4 udp ttl 1 -> dec_ttl drops", 6, |f, s| {
            let mut v = V4::new(SRC, [10, 1, 2, 9], 17);
            v.ttl = 1;
            ip4_frame(&v, &udp(1002, 53, &payload(f, s, 10)))
        }),
        flow("ipv4 udp -> two outputs", 12, |f, s| {
            ip4_frame(
                &V4::new(SRC, [10, 1, 77, 1], 17),
                &udp(2000, 4789, &payload(f, s, 64)),
            )
        }),
        flow("ipv4 udp short, trailer in ethernet padding", 8, |f, s| {
            // 14 + 20 + 8 + 2 = 44 bytes of frame, padded to 60 with the
            // trailer in the padding (not covered by any checksum).
            let mut fr = ip4_frame(
                &V4::new(SRC, [10, 1, 2, 10], 17),
                &udp(1003, 53, &[0xab, 0xcd]),
            );
            fr.resize(60 - TRAILER, 0);
            fr.extend_from_slice(&trailer(f, s));
            fr
        }),
        flow("ipv4 tcp ttl 2 to 10.2/16 -> dec_ttl", 8, |f, s| {
            let mut v = V4::new(SRC, [10, 2, 0, 1], 6);
            v.ttl = 2;
            ip4_frame(&v, &tcp(7, 7, 0x10, &payload(f, s, 6)))
        }),
        flow("ipv4 icmp ttl 1 to 10.2/16 -> dec_ttl drops", 5, |f, s| {
            let mut v = V4::new(SRC, [10, 2, 0, 2], 1);
            v.ttl = 1;
            ip4_frame(&v, &icmp(8, 0, &payload(f, s, 20)))
        }),
        flow("ipv4 icmp echo -> nw_dst rewrite", 12, |f, s| {
            ip4_frame(
                &V4::new(SRC, [10, 3, 0, 1], 1),
                &icmp(8, 0, &payload(f, s, 48)),
            )
        }),
        flow("ipv4 icmp unreachable", 6, |f, s| {
            ip4_frame(
                &V4::new(SRC, [172, 16, 0, 1], 1),
                &icmp(3, 3, &payload(f, s, 28)),
            )
        }),
        flow("ipv4 src 10.66/16 -> drop", 8, |f, s| {
            ip4_frame(
                &V4::new([10, 66, 1, 1], [10, 1, 2, 3], 17),
                &udp(9, 9, &payload(f, s, 8)),
            )
        }),
        flow("ipv4 gre -> catch-all ip nw_src rewrite", 8, |f, s| {
            ip4_frame(&V4::new(SRC, [10, 9, 0, 1], 47), &payload(f, s, 24))
        }),
        flow(
            "ipv4 tcp elsewhere -> catch-all ip (L4 checksum follows)",
            8,
            |f, s| {
                ip4_frame(
                    &V4::new(SRC, [192, 168, 7, 7], 6),
                    &tcp(443, 50000, 0x18, &payload(f, s, 33)),
                )
            },
        ),
        // --- IPv4 fragments.
        flow("ipv4 udp first fragment -> tp_src rewrite", 6, |f, s| {
            let mut v = V4::new(SRC, [10, 1, 2, 11], 17);
            v.frag = 0x2000;
            v.id = 0x0a0a;
            ip4_frame(&v, &udp(1004, 53, &payload(f, s, 56)))
        }),
        flow("ipv4 udp later fragment (no ports)", 6, |f, s| {
            let mut v = V4::new(SRC, [10, 1, 2, 11], 17);
            v.frag = 8; // offset 64, last fragment
            v.id = 0x0a0a;
            let mut fr = eth(mac(2), mac(1), &[], 0x0800);
            fr.extend_from_slice(&v.wrap(&payload(f, s, 40), false));
            fr
        }),
        flow(
            "ipv4 tcp later fragment to 10.5 -> nw_frag=later",
            6,
            |f, s| {
                let mut v = V4::new(SRC, [10, 5, 0, 1], 6);
                v.frag = 0x2000 | 3;
                let mut fr = eth(mac(2), mac(1), &[], 0x0800);
                fr.extend_from_slice(&v.wrap(&payload(f, s, 16), false));
                fr
            },
        ),
        // --- VLAN and QinQ.
        flow("vlan 100 udp -> strip_vlan", 10, |f, s| {
            let mut fr = eth(mac(2), mac(1), &[(0x8100, 100)], 0x0800);
            fr.extend_from_slice(
                &V4::new(SRC, [10, 1, 77, 2], 17).wrap(&udp(3000, 3000, &payload(f, s, 20)), true),
            );
            fr
        }),
        flow("vlan 200 pcp 5 tcp -> mod_vlan_vid", 10, |f, s| {
            let mut fr = eth(mac(2), mac(1), &[(0x8100, (5 << 13) | 200)], 0x0800);
            fr.extend_from_slice(
                &V4::new(SRC, [10, 1, 3, 3], 6)
                    .wrap(&tcp(3001, 80, 0x10, &payload(f, s, 20)), true),
            );
            fr
        }),
        flow("qinq 88a8/300 + 8100/10 udp -> pop outer", 10, |f, s| {
            let mut fr = eth(mac(2), mac(1), &[(0x88a8, 300), (0x8100, 10)], 0x0800);
            fr.extend_from_slice(
                &V4::new(SRC, [10, 1, 2, 12], 17).wrap(&udp(3002, 53, &payload(f, s, 20)), true),
            );
            fr
        }),
        flow(
            "qinq 88a8/500 + 8100/20 tcp :80 -> ip rules see through two tags",
            8,
            |f, s| {
                let mut fr = eth(
                    mac(2),
                    mac(1),
                    &[(0x88a8, (2 << 13) | 500), (0x8100, 20)],
                    0x0800,
                );
                fr.extend_from_slice(
                    &V4::new(SRC, [10, 1, 9, 9], 6)
                        .wrap(&tcp(3003, 80, 0x18, &payload(f, s, 20)), true),
                );
                fr
            },
        ),
        flow("vlan 400 pcp 3 udp -> push_vlan 88a8", 8, |f, s| {
            let mut fr = eth(mac(2), mac(1), &[(0x8100, (3 << 13) | 400)], 0x0800);
            fr.extend_from_slice(
                &V4::new(SRC, [10, 7, 0, 1], 17).wrap(&udp(3004, 53, &payload(f, s, 20)), true),
            );
            fr
        }),
        flow("vlan 300 ipv6 udp -> strip_vlan", 6, |f, s| {
            ip6_frame(
                &[(0x8100, 300)],
                &v6(
                    "2001:db8::1",
                    "2001:db8::2",
                    0,
                    64,
                    &[],
                    17,
                    &udp(3005, 53, &payload(f, s, 20)),
                ),
            )
        }),
        // --- ARP.
        flow("arp request untagged -> push vlan 42", 10, |f, s| {
            let mut fr = eth([0xff; 6], mac(1), &[], 0x0806);
            fr.extend_from_slice(&arp(1, mac(1), [10, 0, 0, 1], [10, 0, 0, 2]));
            fr.extend_from_slice(&payload(f, s, 10));
            fr
        }),
        flow("arp reply vlan 7 -> tagged arp rule", 8, |f, s| {
            let mut fr = eth(mac(1), mac(2), &[(0x8100, 7)], 0x0806);
            fr.extend_from_slice(&arp(2, mac(2), [10, 0, 0, 2], [10, 0, 0, 1]));
            fr.extend_from_slice(&payload(f, s, 10));
            fr
        }),
        // --- IPv6.
        flow("ipv6 tcp -> tp_dst, dec_ttl", 12, |f, s| {
            ip6_frame(
                &[],
                &v6(
                    "2001:db8::1",
                    "2001:db8::2",
                    0,
                    64,
                    &[],
                    6,
                    &tcp(1000, 80, 0x18, &payload(f, s, 40)),
                ),
            )
        }),
        flow(
            "ipv6 hop-by-hop + routing + dstopts, tcp -> tp_dst, dec_ttl",
            12,
            |f, s| {
                let exts = [(0, opts_hdr(0)), (43, routing_hdr()), (60, opts_hdr(1))];
                ip6_frame(
                    &[],
                    &v6(
                        "2001:db8::1",
                        "2001:db8::3",
                        0,
                        64,
                        &exts,
                        6,
                        &tcp(1001, 80, 0x18, &payload(f, s, 24)),
                    ),
                )
            },
        ),
        flow("ipv6 dstopts, udp -> tclass", 10, |f, s| {
            let exts = [(60, opts_hdr(0))];
            ip6_frame(
                &[],
                &v6(
                    "2001:db8::1",
                    "2001:db8::4",
                    0x05,
                    64,
                    &exts,
                    17,
                    &udp(1002, 53, &payload(f, s, 30)),
                ),
            )
        }),
        flow("ipv6 udp -> tclass", 10, |f, s| {
            ip6_frame(
                &[],
                &v6(
                    "2001:db8::5",
                    "2001:db8::4",
                    0xb9,
                    9,
                    &[],
                    17,
                    &udp(1003, 53, &payload(f, s, 30)),
                ),
            )
        }),
        flow("ipv6 tcp first fragment -> tp_dst", 6, |f, s| {
            let exts = [(44, frag6_hdr(0, true, 77))];
            ip6_frame(
                &[],
                &v6(
                    "2001:db8::1",
                    "2001:db8::6",
                    0,
                    64,
                    &exts,
                    6,
                    &tcp(1004, 80, 0x18, &payload(f, s, 40)),
                ),
            )
        }),
        flow(
            "ipv6 later fragment -> nw_frag=later, dec_ttl",
            6,
            |f, s| {
                let exts = [(44, frag6_hdr(6, false, 77))];
                // The payload of a later fragment is no TCP header: no checksum.
                ip6_frame(
                    &[],
                    &v6(
                        "2001:db8::1",
                        "2001:db8::6",
                        0,
                        64,
                        &exts,
                        59,
                        &payload(f, s, 30),
                    ),
                )
            },
        ),
        flow("ipv6 icmpv6 echo", 8, |f, s| {
            ip6_frame(
                &[],
                &v6(
                    "2001:db8::1",
                    "2001:db8::2",
                    0,
                    255,
                    &[],
                    58,
                    &icmp(128, 0, &payload(f, s, 32)),
                ),
            )
        }),
        flow("ipv6 icmpv6 neighbour solicitation", 6, |f, s| {
            let mut ns = vec![135, 0, 0, 0, 0, 0, 0, 0];
            ns.extend_from_slice(&v6addr("2001:db8::2"));
            ns.extend_from_slice(&[1, 1, 2, 0, 0, 0, 0, 1]);
            ns.extend_from_slice(&payload(f, s, 0));
            ip6_frame(
                &[],
                &v6("2001:db8::1", "ff02::1:ff00:2", 0, 255, &[], 58, &ns),
            )
        }),
        flow(
            "ipv6 no next header -> output, dec_ttl, output",
            8,
            |f, s| {
                ip6_frame(
                    &[],
                    &v6(
                        "2001:db8::1",
                        "2001:db8::9",
                        0,
                        5,
                        &[],
                        59,
                        &payload(f, s, 20),
                    ),
                )
            },
        ),
        // --- Other EtherTypes.
        flow("llc 802.3 frame -> catch-all", 6, |f, s| {
            let mut fr = eth(mac(2), mac(1), &[], 0x0030);
            fr.extend_from_slice(&[0x42, 0x42, 0x03]);
            fr.extend_from_slice(&payload(f, s, 37));
            fr
        }),
        flow("unknown ethertype -> catch-all", 6, |f, s| {
            let mut fr = eth(mac(2), mac(1), &[], 0x88b5);
            fr.extend_from_slice(&payload(f, s, 50));
            fr
        }),
    ];
    // --- Truncated and malformed frames (no trailer: each is sent several
    // times identically). `f` and `s` are unused.
    let cut = |class: &'static str, make: fn() -> Vec<u8>| flow(class, 3, move |_, _| make());
    v.extend([
        cut("truncated: ipv4 header cut at 10 bytes", || {
            let mut fr = ip4_frame(&V4::new(SRC, [10, 1, 2, 3], 17), &udp(1, 2, &[0; 8]));
            fr.truncate(14 + 10);
            fr
        }),
        cut("truncated: ipv4 total length beyond the frame", || {
            let mut fr = ip4_frame(&V4::new(SRC, [10, 9, 2, 3], 17), &udp(1, 2, &[7; 30]));
            fr.truncate(14 + 20 + 6);
            fr
        }),
        cut("truncated: tcp header cut short, ethernet padding", || {
            let mut t = tcp(1, 80, 0x02, &[]);
            t.truncate(10);
            let mut fr = ip4_frame(&V4::new(SRC, [10, 9, 3, 3], 6), &t);
            fr.resize(60, 0x5a);
            fr
        }),
        cut("truncated: udp header cut short", || {
            let mut u = udp(1, 53, &[]);
            u.truncate(4);
            ip4_frame(&V4::new(SRC, [10, 1, 2, 13], 17), &u)
        }),
        cut("truncated: tcp data offset beyond the segment", || {
            let mut t = tcp(1, 80, 0x02, &[1, 2, 3, 4]);
            t[12] = 15 << 4;
            ip4_frame(&V4::new(SRC, [10, 1, 3, 7], 6), &t)
        }),
        cut("truncated: ipv6 header cut short", || {
            let mut fr = ip6_frame(
                &[],
                &v6(
                    "2001:db8::1",
                    "2001:db8::2",
                    0,
                    64,
                    &[],
                    17,
                    &udp(1, 2, &[]),
                ),
            );
            fr.truncate(14 + 30);
            fr
        }),
        cut(
            "truncated: ipv6 hop-by-hop header longer than the packet",
            || {
                let mut ip = v6(
                    "2001:db8::1",
                    "2001:db8::2",
                    0x20,
                    64,
                    &[(0, opts_hdr(0))],
                    59,
                    &[],
                );
                ip[40 + 1] = 3; // claims 32 bytes, 8 are there
                ip6_frame(&[], &ip)
            },
        ),
        cut("truncated: ipv6 payload length beyond the frame", || {
            let mut fr = ip6_frame(
                &[],
                &v6(
                    "2001:db8::1",
                    "2001:db8::2",
                    0,
                    64,
                    &[],
                    6,
                    &tcp(1, 80, 0x02, &[0; 20]),
                ),
            );
            fr.truncate(fr.len() - 10);
            fr
        }),
        cut("truncated: ipv6 tcp header cut short", || {
            let mut t = tcp(1, 80, 0x02, &[]);
            t.truncate(12);
            ip6_frame(&[], &v6("2001:db8::1", "2001:db8::2", 0, 64, &[], 6, &t))
        }),
        cut("truncated: vlan tag cut short", || {
            let mut fr = eth(mac(2), mac(1), &[], 0x8100);
            fr.extend_from_slice(&[0x00, 0x64, 0x08]);
            fr
        }),
        cut("truncated: qinq inner tag cut short", || {
            let mut fr = eth(mac(2), mac(1), &[(0x88a8, 300)], 0x8100);
            fr.extend_from_slice(&[0x00, 0x0a]);
            fr
        }),
        cut("truncated: arp cut short", || {
            let mut fr = eth([0xff; 6], mac(1), &[], 0x0806);
            fr.extend_from_slice(&arp(1, mac(1), [10, 0, 0, 1], [10, 0, 0, 2])[..20]);
            fr
        }),
        cut(
            "runt: 10 bytes (both switches drop frames under 14)",
            || eth(mac(2), mac(1), &[], 0x0800)[..10].to_vec(),
        ),
        cut("runt: ethernet header only", || {
            eth(mac(2), mac(1), &[], 0x0800)
        }),
    ]);
    v
}

// ---------------------------------------------------------------- more traces

/// A host's MAC on the NORMAL case's segment.
fn host(n: u8) -> [u8; 6] {
    [0x0a, 0, 0, 0, 0, n]
}

/// UDP over IPv4 from `src` to `dst` (MACs) with `tags`, `extra` bytes of
/// payload before the trailer.
fn udp_frame(
    dst: [u8; 6],
    src: [u8; 6],
    tags: &[(u16, u16)],
    extra: usize,
    f: u16,
    s: u16,
) -> Vec<u8> {
    let mut fr = eth(dst, src, tags, 0x0800);
    fr.extend_from_slice(
        &V4::new(SRC, [10, 3, 0, 1], 17).wrap(&udp(4000, 4001, &payload(f, s, extra)), true),
    );
    fr
}

/// The NORMAL case's trace: one host's frame first (so it is learned on
/// port 1 before anything is sent to it), then flooding, frames to the
/// learned host (dropped: it is on the input port), reserved multicast,
/// priority tags, tags and QinQ, a tag cut short.
fn normal_flows() -> Vec<Flow> {
    vec![
        flow("host 1 broadcasts (learned on port 1)", 1, |f, s| {
            udp_frame([0xff; 6], host(1), &[], 20, f, s)
        })
        .lead(),
        flow("host 13 moves from port 2 to port 1", 1, |f, s| {
            udp_frame([0xff; 6], host(13), &[], 20, f, s)
        })
        .lead(),
        flow(
            "host 2 -> host 12 (learned on port 2): to port 2",
            10,
            |f, s| udp_frame(host(12), host(2), &[], 30, f, s),
        ),
        flow(
            "host 2 -> host 13 (moved to the input port): drop",
            10,
            |f, s| udp_frame(host(13), host(2), &[], 30, f, s),
        ),
        flow("host 2 -> unknown host 9: flood", 10, |f, s| {
            udp_frame(host(9), host(2), &[], 30, f, s)
        }),
        flow(
            "host 3 -> host 1 (learned on the input port): drop",
            10,
            |f, s| udp_frame(host(1), host(3), &[], 30, f, s),
        ),
        flow("host 2 -> broadcast: flood", 8, |f, s| {
            udp_frame([0xff; 6], host(2), &[], 10, f, s)
        }),
        flow("host 2 -> multicast 01:00:5e:01:02:03: flood", 8, |f, s| {
            udp_frame([1, 0, 0x5e, 1, 2, 3], host(2), &[], 10, f, s)
        }),
        flow("STP 01:80:c2:00:00:00: dropped", 6, |f, s| {
            udp_frame([1, 0x80, 0xc2, 0, 0, 0], host(4), &[], 10, f, s)
        }),
        flow("LLDP 01:80:c2:00:00:0e: dropped", 6, |f, s| {
            udp_frame([1, 0x80, 0xc2, 0, 0, 0x0e], host(4), &[], 10, f, s)
        }),
        flow("CDP 01:00:0c:cc:cc:cc: dropped", 6, |f, s| {
            udp_frame([1, 0, 0x0c, 0xcc, 0xcc, 0xcc], host(4), &[], 10, f, s)
        }),
        flow("01:80:c2:00:00:10 (not reserved): flood", 6, |f, s| {
            udp_frame([1, 0x80, 0xc2, 0, 0, 0x10], host(4), &[], 10, f, s)
        }),
        flow("priority tag vid 0 pcp 5: kept", 8, |f, s| {
            udp_frame(host(9), host(5), &[(0x8100, 5 << 13)], 10, f, s)
        }),
        flow("tag vid 0 pcp 0: stripped", 8, |f, s| {
            udp_frame(host(9), host(6), &[(0x8100, 0)], 10, f, s)
        }),
        flow("vlan 10 pcp 2: flood tagged", 8, |f, s| {
            udp_frame(host(9), host(7), &[(0x8100, (2 << 13) | 10)], 10, f, s)
        }),
        flow("qinq 88a8/20 + 8100/30: flood", 8, |f, s| {
            udp_frame(host(9), host(8), &[(0x88a8, 20), (0x8100, 30)], 10, f, s)
        }),
        flow("arp request broadcast: flood", 6, |f, s| {
            let mut fr = eth([0xff; 6], host(10), &[], 0x0806);
            fr.extend_from_slice(&arp(1, host(10), [10, 3, 0, 10], [10, 3, 0, 99]));
            fr.extend_from_slice(&payload(f, s, 4));
            fr
        }),
        flow("vlan tag cut short: dropped", 3, |_, _| {
            eth(host(9), host(11), &[], 0x8100)[..14]
                .iter()
                .chain(&[0x00])
                .copied()
                .collect()
        }),
    ]
}

/// What port 2 sends before the NORMAL trace: hosts 12 and 13 announce
/// themselves there (host 13 moves to port 1 in the trace).
fn normal_learning() -> Vec<Vec<u8>> {
    (0..4u16)
        .map(|s| udp_frame([0xff; 6], host(12 + (s % 2) as u8), &[], 10, 0x7fff, s))
        .collect()
}

/// Frame sizes around MTU 1500 and 9000 (frames of MTU + 18 bytes fit),
/// untagged and tagged, for the MTU case.
fn mtu_flows() -> Vec<Flow> {
    let sized = |class: &'static str, len: usize, tags: &'static [(u16, u16)]| {
        flow(class, 4, move |f, s| {
            let head = eth(mac(2), mac(1), tags, 0x0800).len() + 20 + 8 + TRAILER;
            udp_frame(mac(2), mac(1), tags, len - head, f, s)
        })
    };
    vec![
        sized("60 bytes", 60, &[]),
        sized("1514 bytes", 1514, &[]),
        sized("1515 bytes (1519 after push_vlan)", 1515, &[]),
        sized("1518 bytes", 1518, &[]),
        sized("1519 bytes", 1519, &[]),
        sized("1522 bytes", 1522, &[]),
        sized("1600 bytes", 1600, &[]),
        sized("tagged 1518 bytes", 1518, &[(0x8100, 7)]),
        sized("tagged 1519 bytes", 1519, &[(0x8100, 7)]),
        sized("qinq 1522 bytes", 1522, &[(0x88a8, 7), (0x8100, 8)]),
        sized("9014 bytes", 9014, &[]),
        sized("9018 bytes", 9018, &[]),
        sized("9019 bytes", 9019, &[]),
    ]
}

// ---------------------------------------------------------------- cases

/// One comparison: rules, a trace, port settings.
struct Case {
    name: &'static str,
    rules: Vec<String>,
    flows: fn() -> Vec<Flow>,
    /// MTU of ports 1 (the input), 2, 3 and 4.
    mtus: [u16; 4],
    /// OVS `other_config:forward-bpdu` / pmdswitch `forward_bpdu`.
    forward_bpdu: bool,
    /// pmdswitch's PMD threads.
    pmds: usize,
    /// Frames port 2 receives before the trace starts (MACs to learn
    /// there); port 2 is then an input too, added before port 1.
    learn: Option<fn() -> Vec<Vec<u8>>>,
    /// Known differences (the README's "Compatibility with OVS-DPDK"):
    /// (flow class, why). What those flows send is left out of the
    /// comparison, and counted.
    known: &'static [(&'static str, &'static str)],
}

fn case(name: &'static str, rules: &[&str], flows: fn() -> Vec<Flow>) -> Case {
    Case {
        name,
        rules: rules.iter().map(|r| r.to_string()).collect(),
        flows,
        mtus: [1500; 4],
        forward_bpdu: false,
        pmds: 1,
        learn: None,
        known: &[],
    }
}

/// Masked matches on every field of the key, each sending elsewhere.
const MASKED: &[&str] = &[
    "priority=300,dl_dst=02:00:00:00:00:00/ff:ff:ff:ff:ff:fe,dl_src=02:00:00:00:00:01/ff:00:00:00:00:ff,tcp,tp_dst=0x50/0xfff0,actions=output:2",
    "priority=290,vlan_tci=0x1000/0x1f00,actions=output:3",
    "priority=285,dl_vlan_pcp=3,actions=output:4",
    "priority=280,ip,nw_src=10.0.0.0/255.0.0.254,nw_dst=10.1.2.0/23,udp,tp_src=0x3e8/0xfff8,actions=output:2",
    "priority=270,ip,nw_tos=0,nw_ecn=3,actions=output:3",
    "priority=265,ip,nw_ttl=1,actions=output:4",
    "priority=260,tcp,tcp_flags=+syn-ack,actions=output:4",
    "priority=255,ip,nw_frag=later,actions=output:2",
    "priority=250,icmp,icmp_type=8,icmp_code=0,actions=output:3",
    "priority=245,ipv6,ipv6_src=2001:db8::/32,ipv6_dst=2001:db8:1::/48,ipv6_label=0x12345/0xfff00,actions=output:3",
    "priority=240,icmp6,icmp_type=135,nd_target=fe80::/64,actions=output:2",
    "priority=235,tcp6,tp_dst=0x1bb/0xffff,actions=output:4",
    "priority=230,arp,arp_op=1,arp_spa=10.0.0.0/24,arp_tpa=10.0.0.2,arp_sha=02:00:00:00:00:01/ff:ff:ff:ff:ff:00,actions=output:2",
    "priority=225,arp,arp_op=2,actions=output:3",
    "priority=220,dl_type=0x88b5,actions=output:3",
    "priority=0,actions=output:4",
];

/// Every field set_field can write, on the flows that have it.
const SET_FIELDS: &[&str] = &[
    "priority=100,tcp6,actions=set_field:2001:db8::99->ipv6_src,set_field:fd00::1->ipv6_dst,output:2",
    "priority=100,udp6,actions=set_field:0xabcde->ipv6_label,set_field:1->ip_ecn,set_field:7->nw_ttl,output:3",
    "priority=100,icmp6,icmp_type=135,actions=set_field:fe80::99->nd_target,set_field:02:00:00:00:00:99->nd_sll,output:4",
    "priority=90,icmp6,actions=set_field:130->icmpv6_type,set_field:1->icmpv6_code,output:2",
    "priority=100,icmp,actions=set_field:3->icmp_type,set_field:1->icmp_code,output:3",
    "priority=100,arp,arp_op=1,actions=set_field:2->arp_op,set_field:10.9.9.9->arp_spa,set_field:10.8.8.8->arp_tpa,set_field:02:00:00:00:00:aa->arp_sha,set_field:02:00:00:00:00:bb->arp_tha,output:4",
    "priority=100,dl_vlan=100,actions=set_field:4196->vlan_vid,set_field:5->vlan_pcp,output:2",
    "priority=100,dl_vlan=200,actions=set_field:0x2000/0xe000->vlan_tci,output:3",
    "priority=80,udp,nw_frag=not_later,actions=mod_nw_ecn:2,mod_nw_ttl:9,set_field:7->udp_src,output:3",
    "priority=80,tcp,nw_frag=not_later,actions=set_field:02:00:00:00:00:00/ff:00:00:00:00:00->eth_dst,set_field:10.5.0.0/255.255.0.0->ip_dst,set_field:8->ip_dscp,set_field:99->tcp_dst,output:4",
    "priority=75,ip,nw_frag=later,actions=mod_nw_src:10.7.7.7,output:4",
    "priority=70,ip,nw_frag=not_later,actions=set_field:10.0.0.0/255.0.0.0->nw_src,set_field:02:aa:00:00:00:01->eth_src,output:2",
    "priority=0,actions=output:3",
];

/// OVS's register actions on packet fields.
const LOAD_MOVE: &[&str] = &[
    "priority=100,tcp,nw_frag=not_later,actions=move:NXM_OF_TCP_SRC[]->NXM_OF_TCP_DST[],load:0xa->NXM_OF_IP_SRC[24..31],output:2",
    "priority=100,udp,actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],load:3->NXM_NX_IP_ECN[],output:3",
    "priority=90,ipv6,actions=move:NXM_NX_IPV6_SRC[0..63]->NXM_NX_IPV6_DST[0..63],load:0x1->NXM_NX_IPV6_LABEL[0..3],output:4",
    "priority=80,dl_vlan=100,actions=load:0x1->NXM_OF_VLAN_TCI[13..15],output:2",
    "priority=80,arp,actions=move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],load:2->NXM_OF_ARP_OP[],output:3",
    "priority=70,ip,nw_frag=not_later,actions=move:NXM_OF_IP_DST[]->NXM_OF_IP_SRC[],load:0x20->NXM_OF_IP_TOS[],output:2",
    "priority=0,actions=output:4",
];

/// goto_table and resubmit over several tables, output:in_port.
const TABLES: &[&str] = &[
    "table=0,priority=100,ip,actions=resubmit(,1),resubmit(2,2)",
    "table=0,priority=50,arp,actions=IN_PORT",
    "table=0,priority=0,actions=goto_table:3",
    "table=1,priority=10,tcp,actions=mod_tp_dst:99,output:2",
    "table=1,priority=5,udp,actions=output:3",
    "table=1,priority=0,actions=drop",
    "table=2,priority=10,in_port=2,tcp,actions=output:1,output:4,IN_PORT",
    "table=2,priority=5,in_port=2,actions=goto_table:4",
    "table=3,priority=10,ipv6,actions=resubmit(,4),output:in_port",
    "table=3,priority=0,actions=mod_dl_src:02:cc:00:00:00:01,output:4",
    "table=4,priority=10,in_port=1,actions=output:2",
    "table=4,priority=5,in_port=2,actions=output:3",
];

/// Deep fields that cut-short frames do not have.
const DEEP: &[&str] = &[
    "priority=100,tcp,tp_dst=80,actions=output:2",
    "priority=100,udp,tp_src=1,actions=output:3",
    "priority=90,ip,nw_dst=10.1.2.3,actions=output:3",
    "priority=90,ipv6,nw_ttl=64,actions=output:2",
    "priority=80,tcp6,actions=output:4",
    "priority=80,arp,arp_op=1,actions=output:2",
    "priority=70,dl_type=0x8100,actions=output:3",
    "priority=60,ip,actions=output:4",
    "priority=0,actions=drop",
];

fn cases() -> Vec<Case> {
    let mut v = vec![
        case("acl, vlan, l3/l4 rewrites", RULES, flows),
        case("in_port only (cross-connect)", &["in_port=1,actions=output:3"], flows),
        case(
            "in_port only, two outputs, two PMDs",
            &["in_port=1,actions=output:2,output:4"],
            flows,
        ),
        case("masked matches on every field", MASKED, flows),
        case("every set_field target", SET_FIELDS, flows),
        case("load and move", LOAD_MOVE, flows),
        case("goto_table/resubmit chains, output:in_port", TABLES, flows),
        case("deep-field rules, malformed frames", DEEP, flows),
        case("NORMAL", &["actions=NORMAL"], normal_flows),
        case("NORMAL, forward-bpdu", &["actions=NORMAL"], normal_flows),
        case(
            "MTU 1500 and 9000 outputs, jumbo input",
            &[
                "priority=10,dl_vlan=0xffff,actions=output:2,output:3,push_vlan:0x8100,mod_vlan_vid:9,output:4",
                "priority=0,actions=output:2,output:3",
            ],
            mtu_flows,
        ),
        case(
            "MTU, jumbo frames chained on an MTU 1500 input",
            &[
                "priority=10,dl_vlan=0xffff,actions=mod_dl_src:02:ee:00:00:00:01,output:2,output:3",
                "priority=0,actions=output:3,output:2",
            ],
            mtu_flows,
        ),
    ];
    v[2].pmds = 2;
    // OVS updates an L4 checksum that a later fragment does not have:
    // mod_nw_src rewrites two bytes of its payload.
    v[4].known = &[
        (
            "ipv4 udp later fragment (no ports)",
            "UDP checksum in a later fragment",
        ),
        (
            "ipv4 tcp later fragment to 10.5 -> nw_frag=later",
            "TCP checksum in a later fragment",
        ),
    ];
    // OVS writes ARP fields into an ARP header cut short (and past the
    // frame's end, into the buffer): pmdswitch only into a whole one.
    v[5].known = &[(
        "truncated: arp cut short",
        "ARP rewrite of a cut-short header",
    )];
    v[8].learn = Some(normal_learning);
    v[9].learn = Some(normal_learning);
    v[9].forward_bpdu = true;
    v[10].mtus = [9000, 1500, 9000, 1500];
    // net_pcap chains buffers for a frame its input's buffers cannot hold.
    v[11].mtus = [1500, 1500, 9000, 1500];
    v
}

// ---------------------------------------------------------------- trace

/// Deterministic PRNG (xorshift64*) for the interleaving.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

/// The trace: the lead flows' packets, then every other flow's,
/// interleaved at random (by `seed`), each flow's in sequence order; and
/// the flow index of every packet.
fn trace(flows: &[Flow], seed: u64) -> (Vec<Vec<u8>>, Vec<usize>) {
    let mut left: Vec<usize> = flows.iter().map(|f| f.count).collect();
    let mut rng = Rng(seed);
    let (mut frames, mut owner) = (Vec::new(), Vec::new());
    let total: usize = left.iter().sum();
    while frames.len() < total {
        let k = match flows
            .iter()
            .enumerate()
            .find(|(i, f)| f.lead && left[*i] > 0)
        {
            Some((i, _)) => i,
            None => {
                let mut k = rng.below(flows.len());
                while left[k] == 0 {
                    k = (k + 1) % flows.len();
                }
                k
            }
        };
        left[k] -= 1;
        let seq = frames.len() as u16;
        frames.push((flows[k].make)(k as u16, seq));
        owner.push(k);
    }
    (frames, owner)
}

// ---------------------------------------------------------------- switches

const PORTS: [u32; 4] = [1, 2, 3, 4];

/// devargs of every port, files under `dir`: port 1 reads the trace and
/// writes (output:in_port), the others write.
fn devargs(
    tag: &str,
    dir: &Path,
    input: &Path,
    learn: Option<&Path>,
) -> Vec<(u32, String, PathBuf)> {
    PORTS
        .iter()
        .map(|p| {
            let f = dir.join(format!("{tag}-out{p}.pcap"));
            let rx = match (*p, learn) {
                (1, _) => format!(",rx_pcap={}", input.display()),
                (2, Some(l)) => format!(",rx_pcap={}", l.display()),
                _ => String::new(),
            };
            (
                *p,
                format!("net_pcap_{tag}{p}{rx},tx_pcap={}", f.display()),
                f,
            )
        })
        .collect()
}

/// Polls `counts` (rx of the input, tx of every port) until the input has
/// received `n` and the outputs have not moved for half a second.
fn wait_drained(who: &str, n: u64, mut counts: impl FnMut() -> Option<(u64, Vec<u64>)>) {
    let t0 = Instant::now();
    let (mut last, mut since) = (None, Instant::now());
    loop {
        let c = counts();
        if let Some((rx, tx)) = &c {
            if *rx >= n {
                if last.as_ref() != Some(tx) {
                    last = Some(tx.clone());
                    since = Instant::now();
                } else if since.elapsed() > Duration::from_millis(500) {
                    return;
                }
            }
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "{who} did not receive the {n} packets of the trace in 30 s; last counts {c:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

type PortPackets = BTreeMap<u32, Vec<Vec<u8>>>;

/// [`devargs`] for a switch, and how many of the ports are inputs (1, or 2
/// with frames to learn from on port 2, in `learn.pcap`).
fn switch_ports(
    tag: &str,
    dir: &Path,
    input: &Path,
    learn: &[Vec<u8>],
) -> (Vec<(u32, String, PathBuf)>, usize) {
    let file = dir.join("learn.pcap");
    let learning = !learn.is_empty();
    (
        devargs(tag, dir, input, learning.then_some(&*file)),
        1 + usize::from(learning),
    )
}

/// Runs the trace through pmdswitch; returns each port's output. The
/// input port is added at run time, after the rules: its first packets
/// must be forwarded like the rest.
fn run_pmdswitch(c: &Case, dir: &Path, input: &Path, learn: &[Vec<u8>], n: u64) -> PortPackets {
    // The inputs are added at run time: the learning port, then port 1.
    let (ports, inputs) = switch_ports("sw", dir, input, learn);
    let mut body = String::new();
    for (p, d, _) in &ports[inputs..] {
        body += &format!(
            "[[port]]\nname = \"p{p}\"\ndevargs = \"{d}\"\nofport = {p}\nmtu = {}\n",
            c.mtus[*p as usize - 1]
        );
    }
    body += &format!("[datapath]\nforward_bpdu = {}\nflows = [\n", c.forward_bpdu);
    for r in &c.rules {
        body += &format!("  \"{r}\",\n");
    }
    body += "]\n";
    let ctl = dir.join("sw.ctl");
    let cfg = config_pmds(dir, &ctl, &body, c.pmds);
    let sw = Running::start(&cfg, &ctl);
    for (port, count) in [(2, learn.len() as u64), (1, n)] {
        if count == 0 {
            continue;
        }
        let (p, d, _) = &ports[port - 1];
        let added = sw.ctl_ok(&[
            "add-port",
            &format!("p{p}"),
            &format!("devargs={d}"),
            &format!("ofport={p}"),
            &format!("mtu={}", c.mtus[port - 1]),
        ]);
        assert!(added.is_some(), "add-port p{p} refused");
        wait_drained("pmdswitch", count, || {
            let v = sw.ctl_ok(&["port-show"])?;
            let by = |name: String| {
                v.as_array()?
                    .iter()
                    .find(|x| x["name"] == name.as_str())
                    .cloned()
            };
            let rx = by(format!("p{p}"))?["rx_packets"].as_u64()?;
            let tx = PORTS
                .iter()
                .map(|q| by(format!("p{q}")).map_or(Some(0), |x| x["tx_packets"].as_u64()))
                .collect::<Option<Vec<_>>>()?;
            Some((rx, tx))
        });
    }
    let (code, out, err) = sw.stop();
    assert_eq!(
        code, 0,
        "pmdswitch exit code; stdout:\n{out}\nstderr:\n{err}"
    );
    assert_mempools_balanced(&out);
    ports
        .into_iter()
        .map(|(p, _, f)| (p, read_pcap(&f)))
        .collect()
}

/// `ovs-ofctl dump-ports` counters: port -> (rx, tx).
fn ovs_port_counts(ovs: &Ovs) -> Option<BTreeMap<u32, (u64, u64)>> {
    let text = ovs.ofctl(&["dump-ports", "br0"]).ok()?;
    let mut m = BTreeMap::new();
    let mut port = None;
    for l in text.lines() {
        let l = l.trim();
        let num = |key: &str| -> Option<u64> {
            l.split(key).nth(1)?.split(',').next()?.trim().parse().ok()
        };
        if let Some(rest) = l.strip_prefix("port") {
            let p = rest.trim_start().split(':').next()?.trim();
            port = p.parse::<u32>().ok();
            if let (Some(p), Some(rx)) = (port, num("rx pkts=")) {
                m.entry(p).or_insert((0, 0)).0 = rx;
            }
        } else if let (Some(p), Some(tx)) = (port, num("tx pkts=")) {
            m.entry(p).or_insert((0, 0)).1 = tx;
        }
    }
    Some(m)
}

/// Runs the trace through OVS-DPDK; returns each port's output.
fn run_ovs(
    c: &Case,
    vswitchd: &str,
    dir: &Path,
    input: &Path,
    learn: &[Vec<u8>],
    n: u64,
) -> PortPackets {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    assert!(cores >= 2, "OVS-DPDK needs two cores here (main and PMD)");
    let extra = format!(
        "other_config:dpdk-extra=--no-pci --in-memory --file-prefix={}",
        unique("ovs")
    );
    let pmd_mask = format!("other_config:pmd-cpu-mask={:#x}", 1u64 << (cores - 1));
    let jumbo = c.mtus.iter().any(|m| *m > 1500);
    let ovs = Ovs::start(
        vswitchd,
        &[],
        &[&[
            "set",
            "Open_vSwitch",
            ".",
            "other_config:dpdk-init=true",
            "other_config:dpdk-lcore-mask=0x1",
            &pmd_mask,
            if jumbo {
                "other_config:dpdk-socket-mem=1024"
            } else {
                "other_config:dpdk-socket-mem=128"
            },
            "other_config:dpdk-socket-limit=2048",
            "other_config:per-port-memory=true",
            "other_config:vlan-limit=2",
            &extra,
        ]],
        true,
    )
    .unwrap_or_else(|e| panic!("starting OVS-DPDK: {e}"));
    let fail = |what: &str, e: String| -> ! { panic!("{what}: {e}\nvswitchd.log:\n{}", ovs.log()) };
    ovs.vsctl(&[
        "add-br",
        "br0",
        "--",
        "set",
        "bridge",
        "br0",
        "datapath_type=netdev",
        "fail-mode=secure",
        "protocols=OpenFlow10,OpenFlow13",
        &format!("other_config:forward-bpdu={}", c.forward_bpdu),
    ])
    .unwrap_or_else(|e| fail("add-br", e));
    let (ports, inputs) = switch_ports("ovs", dir, input, learn);
    // Every output's rx queue is pinned to the one PMD: that makes it an
    // isolated PMD, which polls no queue that is not pinned to it.
    let pin = format!("other_config:pmd-rxq-affinity=0:{}", cores - 1);
    let add_port = |p: u32, devargs: &str, pinned: bool| {
        let name = format!("p{p}");
        let mut args = vec![
            "add-port".to_string(),
            "br0".into(),
            name.clone(),
            "--".into(),
            "set".into(),
            "interface".into(),
            name,
            "type=dpdk".into(),
            format!("ofport_request={p}"),
            format!("mtu_request={}", c.mtus[p as usize - 1]),
            format!("options:dpdk-devargs={devargs}"),
        ];
        if pinned {
            args.push(pin.clone());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ovs.vsctl(&args).unwrap_or_else(|e| fail("add-port", e));
    };
    for (p, d, _) in &ports[inputs..] {
        add_port(*p, d, true);
    }
    ovs.ofctl(&["del-flows", "br0"])
        .unwrap_or_else(|e| fail("del-flows", e));
    for r in &c.rules {
        // OpenFlow 1.0 with OVS's extensions first (OVS's own semantics
        // for every action); 1.3 for what 1.0 lacks (push_vlan) and for a
        // masked set_field, which ovs-ofctl turns into 1.0's unmasked
        // mod_* (or strip_vlan) when it must say it in 1.0.
        let masked_set = r
            .split("set_field:")
            .skip(1)
            .any(|a| a.split("->").next().is_some_and(|v| v.contains('/')));
        let versions: &[&[&str]] = if masked_set {
            &[&["-O", "OpenFlow13"]]
        } else {
            &[&[], &["-O", "OpenFlow13"]]
        };
        let mut errors = String::new();
        let added = versions.iter().any(|v| {
            let mut args = v.to_vec();
            args.extend(["add-flow", "br0", r]);
            ovs.ofctl(&args).map_err(|e| errors += &e).is_ok()
        });
        if !added {
            fail(&format!("add-flow {r}"), errors);
        }
    }
    let installed = ovs
        .ofctl(&["-O", "OpenFlow13", "dump-flows", "br0"])
        .unwrap_or_default();
    assert_eq!(
        installed.lines().filter(|l| l.contains("actions=")).count(),
        c.rules.len(),
        "OVS has other flows than ours:\n{installed}"
    );
    // The inputs (the learning port, then port 1), each not polled yet
    // (its queue is not pinned). A packet that reaches OVS's datapath
    // before OpenFlow knows its port fails its upcall and is dropped, so
    // the port is pinned to the PMD only once a trace from it translates.
    for (port, count) in [(2u32, learn.len() as u64), (1, n)] {
        if count == 0 {
            continue;
        }
        add_port(port, &ports[port as usize - 1].1, false);
        let t0 = Instant::now();
        while ovs
            .appctl(&["ofproto/trace", "br0", &format!("in_port={port}")])
            .map_or(true, |t| !t.contains("Datapath actions"))
        {
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "OVS never learned port {port}:\n{}",
                ovs.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(300));
        ovs.vsctl(&["set", "interface", &format!("p{port}"), &pin])
            .unwrap_or_else(|e| fail("pinning an input", e));
        wait_drained("OVS", count, || {
            let c = ovs_port_counts(&ovs)?;
            let rx = c.get(&port)?.0;
            let tx = PORTS
                .iter()
                .map(|p| Some(c.get(p).map_or(0, |x| x.1)))
                .collect::<Option<Vec<_>>>()?;
            Some((rx, tx))
        });
    }
    let counts = ovs_port_counts(&ovs).unwrap();
    if std::env::var_os("OVS_DIFF_DEBUG").is_some() {
        for c in [
            &["dpif-netdev/pmd-stats-show"][..],
            &["coverage/show"],
            &["dpctl/dump-flows", "-m"],
        ] {
            eprintln!("{}", ovs.appctl(c).unwrap_or_else(|e| e));
        }
        eprintln!("{counts:?}\n{}", ovs.log());
    }
    // Closing the ports closes the pcap files.
    for p in PORTS {
        ovs.vsctl(&["del-port", "br0", &format!("p{p}")])
            .unwrap_or_else(|e| fail("del-port", e));
    }
    drop(ovs);
    ports
        .into_iter()
        .map(|(p, _, f)| {
            let pkts = read_pcap(&f);
            assert_eq!(
                pkts.len() as u64,
                counts[&p].1,
                "OVS port {p}: pcap and tx counter disagree"
            );
            (p, pkts)
        })
        .collect()
}

// ---------------------------------------------------------------- compare

/// An output packet's group (equal up to the sequence number), its input
/// flow and its sequence number, if it carries a trailer.
fn group_of(pkt: &[u8]) -> (Vec<u8>, Option<(u16, u16)>) {
    let n = pkt.len();
    if n >= 14 + TRAILER && pkt[n - TRAILER..n - TRAILER + 2] == TRAILER_MARK {
        let flow = u16::from_be_bytes([pkt[n - 6], pkt[n - 5]]);
        let seq = u16::from_be_bytes([pkt[n - 4], pkt[n - 3]]);
        if [!pkt[n - 4], !pkt[n - 3]] == [pkt[n - 2], pkt[n - 1]] {
            let mut g = pkt[..n - 4].to_vec();
            g.extend_from_slice(&[0; 4]);
            return (g, Some((flow, seq)));
        }
    }
    (pkt.to_vec(), None)
}

type Groups = BTreeMap<Vec<u8>, Vec<(Option<u16>, usize)>>;

/// Packets of one port grouped; each entry (sequence number, position).
/// Packets of known-different flows are left out (and counted in `known`).
fn groups(pkts: &[Vec<u8>], inp: &Input, known: &mut usize) -> Groups {
    let mut m: Groups = BTreeMap::new();
    for (i, p) in pkts.iter().enumerate() {
        let (g, fs) = group_of(p);
        // A known difference may have hit the trailer: then the input it
        // is most like tells its flow.
        let flow = match fs {
            Some((f, _)) => Some(f as usize),
            None => inp
                .known
                .iter()
                .any(|k| *k)
                .then(|| inp.owner[most_like(inp.frames, p)]),
        };
        if flow.is_some_and(|f| inp.known.get(f) == Some(&true)) {
            *known += 1;
            continue;
        }
        m.entry(g).or_default().push((fs.map(|x| x.1), i));
    }
    m
}

/// The input frame most like `pkt` (same bytes in place, similar length).
fn most_like(frames: &[Vec<u8>], pkt: &[u8]) -> usize {
    (0..frames.len())
        .max_by_key(|&i| {
            let f = &frames[i];
            let same = f.iter().zip(pkt).filter(|(a, b)| a == b).count();
            (same as i64) - (f.len() as i64 - pkt.len() as i64).abs() * 4
        })
        .unwrap_or(0)
}

fn hex(b: &[u8]) -> String {
    let mut s = String::new();
    for (i, c) in b.chunks(16).enumerate() {
        s += &format!("    {:04x}:", i * 16);
        for x in c {
            s += &format!(" {x:02x}");
        }
        s.push('\n');
    }
    s
}

/// A packet decoded: its length, the flow key pmdswitch extracts from it
/// (every header field), then its bytes.
fn decoded(b: &[u8]) -> String {
    let mut k = pmdswitch::flow::key::FlowKey::ZERO;
    let x = pmdswitch::packet::extract::extract(b, 0, &mut k);
    let bad = x.malformed.map_or(String::new(), |m| format!(" ({m:?})"));
    format!("    {} bytes{bad}: {k:?}\n{}", b.len(), hex(b))
}

/// One case's input, for reports.
struct Input<'a> {
    frames: &'a [Vec<u8>],
    owner: &'a [usize],
    flows: &'a [Flow],
    /// Per flow: a known difference, left out.
    known: &'a [bool],
}

/// Compares one port; `None` when equal, else a description of the first
/// difference (in the order OVS sent them, then what only pmdswitch sent).
fn compare_port(
    port: u32,
    ovs: &[Vec<u8>],
    sw: &[Vec<u8>],
    inp: &Input,
    known: &mut usize,
) -> Option<String> {
    let (frames, owner, flows) = (inp.frames, inp.owner, inp.flows);
    let mut ignored = 0;
    let (go, gs) = (groups(ovs, inp, known), groups(sw, inp, &mut ignored));
    // The input a packet came from: by its sequence number, else (frames
    // without a trailer) the input frame most like it.
    let source = |seq: Option<u16>, pkt: &[u8]| -> Option<usize> {
        match seq {
            Some(q) if (q as usize) < frames.len() => Some(q as usize),
            _ => (!frames.is_empty()).then(|| most_like(frames, pkt)),
        }
    };
    let origin = |seq: Option<u16>, pkt: &[u8]| -> String {
        match source(seq, pkt) {
            Some(i) => format!(
                "  from input packet {i} (flow \"{}\"):\n{}",
                flows[owner[i]].class,
                decoded(&frames[i])
            ),
            None => "  (input not identified)\n".into(),
        }
    };
    let mut order: Vec<&Vec<u8>> = Vec::new();
    for p in ovs.iter().chain(sw) {
        let g = group_of(p).0;
        if !order.iter().any(|x| **x == g) && !same_seqs(&go, &gs, &g) {
            if let Some((key, _)) = go.get_key_value(&g).or_else(|| gs.get_key_value(&g)) {
                order.push(key);
            }
        }
    }
    let g = order.first()?;
    let (o, s) = (go.get(*g), gs.get(*g));
    let seqs = |v: Option<&Vec<(Option<u16>, usize)>>| -> Vec<Option<u16>> {
        v.map(|v| v.iter().map(|x| x.0).collect())
            .unwrap_or_default()
    };
    let mut msg = format!(
        "port {port}: OVS sent {} packets, pmdswitch {}; {} groups differ:\n",
        ovs.len(),
        sw.len(),
        order.len()
    );
    // One line per differing group: its input flow, how many each sent.
    for g in &order {
        let (o, s) = (seqs(go.get(*g)), seqs(gs.get(*g)));
        let seq = o.iter().chain(&s).next().copied().flatten();
        let class = source(seq, g).map_or("?", |i| flows[owner[i]].class);
        msg += &format!(
            "  - {class}: OVS {} packets, pmdswitch {}\n",
            o.len(),
            s.len()
        );
    }
    msg += "  the first:\n";
    let first_pos = |v: Option<&Vec<(Option<u16>, usize)>>| v.and_then(|v| v.first()).map(|x| x.1);
    match (first_pos(o), first_pos(s)) {
        (Some(i), None) => {
            msg += &format!(
                "  only OVS sent (its packet {i}, {} times):\n{}",
                seqs(o).len(),
                decoded(&ovs[i])
            );
            msg += &origin(seqs(o)[0], &ovs[i]);
            // What pmdswitch sent for the same input, if anything here.
            if let Some(seq) = seqs(o)[0] {
                if let Some(j) = sw
                    .iter()
                    .position(|p| group_of(p).1.map(|x| x.1) == Some(seq))
                {
                    msg += &format!(
                        "  pmdswitch sent for that input instead (its packet {j}):\n{}",
                        decoded(&sw[j])
                    );
                } else {
                    msg += "  pmdswitch sent nothing for that input on this port\n";
                }
            }
        }
        (None, Some(j)) => {
            msg += &format!(
                "  only pmdswitch sent (its packet {j}, {} times):\n{}",
                seqs(s).len(),
                decoded(&sw[j])
            );
            msg += &origin(seqs(s)[0], &sw[j]);
        }
        (Some(i), Some(_)) => {
            msg += &format!(
                "  same packets, different order or count within the flow:\n  OVS:       {:?}\n  pmdswitch: {:?}\n  packet:\n{}",
                seqs(o),
                seqs(s),
                decoded(&ovs[i])
            );
            msg += &origin(seqs(o)[0], &ovs[i]);
        }
        (None, None) => unreachable!(),
    }
    Some(msg)
}

fn same_seqs(a: &Groups, b: &Groups, g: &[u8]) -> bool {
    let s = |m: &Groups| m.get(g).map(|v| v.iter().map(|x| x.0).collect::<Vec<_>>());
    s(a) == s(b)
}

/// The interleavings every case runs with; a failure names its seed.
const SEEDS: [u64; 3] = [0x005e_ed0f_d1ff, 0x0bad_cafe_f00d, 0x1234_5678_9abc];

/// One case under one seed: None when both switches sent the same, else
/// the report. Adds to the packet and known-difference counts.
fn run_case(c: &Case, seed: u64, vswitchd: &str, totals: &mut (usize, usize)) -> Option<String> {
    let flows = (c.flows)();
    let (frames, owner) = trace(&flows, seed);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("trace.pcap");
    write_pcap(&input, &frames);
    let learn = c.learn.map(|l| l()).unwrap_or_default();
    if !learn.is_empty() {
        write_pcap(&dir.path().join("learn.pcap"), &learn);
    }
    let n = frames.len() as u64;
    let sw = run_pmdswitch(c, dir.path(), &input, &learn, n);
    let ovs = run_ovs(c, vswitchd, dir.path(), &input, &learn, n);
    let known_flows: Vec<bool> = flows
        .iter()
        .map(|f| c.known.iter().any(|(class, _)| *class == f.class))
        .collect();
    assert_eq!(
        known_flows.iter().filter(|k| **k).count(),
        c.known.len(),
        "a known difference names no flow"
    );
    let inp = Input {
        frames: &frames,
        owner: &owner,
        flows: &flows,
        known: &known_flows,
    };
    let mut diffs = Vec::new();
    let mut known = 0;
    for p in PORTS {
        let (o, s) = (&ovs[&p], &sw[&p]);
        totals.0 += o.len();
        if let Some(d) = compare_port(p, o, s, &inp, &mut known) {
            diffs.push(d);
        }
    }
    totals.1 += known;
    let out: usize = ovs.values().map(Vec::len).sum();
    let verdict = if diffs.is_empty() {
        "identical"
    } else {
        "DIFFERENT"
    };
    println!(
        "  [{verdict}] {} (seed {seed:#x}): {} packets in, {} flows; {out} out of OVS, {} out of pmdswitch; {known} known-different left out",
        c.name,
        frames.len(),
        flows.len(),
        sw.values().map(Vec::len).sum::<usize>(),
    );
    (!diffs.is_empty())
        .then(|| format!("case \"{}\", seed {seed:#x}:\n{}", c.name, diffs.join("\n")))
}

#[test]
fn same_trace_same_rules_same_packets_as_ovs_dpdk() {
    let Some(vswitchd) = ovs::require(ovs::VSWITCHD_DPDK) else {
        return;
    };
    require_hugepages();
    for f in flows() {
        let cut = f.class.starts_with("truncated") || f.class.starts_with("runt");
        assert_eq!(
            group_of(&(f.make)(0, 0)).1.is_some(),
            !cut,
            "{}: trailer",
            f.class
        );
    }
    let cases = cases();
    let (mut identical, mut different) = (0, 0);
    let mut totals = (0, 0);
    let mut reports = Vec::new();
    println!("differential cases against OVS-DPDK:");
    // OVS_DIFF_CASE=TEXT runs only the cases whose name contains TEXT.
    let only = std::env::var("OVS_DIFF_CASE").unwrap_or_default();
    for c in cases.iter().filter(|c| c.name.contains(&only)) {
        // One case's difference is reported once, with its seed.
        for seed in SEEDS {
            match run_case(c, seed, &vswitchd, &mut totals) {
                None => identical += 1,
                Some(r) => {
                    different += 1;
                    reports.push(r);
                    break;
                }
            }
        }
    }
    println!(
        "{} cases x {} seeds: {identical} identical, {different} different; {} packets out of OVS, \
         {} of them from known-different flows left out",
        cases.len(),
        SEEDS.len(),
        totals.0,
        totals.1
    );
    assert!(
        reports.is_empty(),
        "pmdswitch and OVS-DPDK differ:\n{}",
        reports.join("\n")
    );
    assert!(
        !only.is_empty() || totals.0 > 10_000,
        "too little came out: {}",
        totals.0
    );
}
