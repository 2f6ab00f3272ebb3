use super::*;
use crate::flow::key::VLAN_CFI;
use crate::packet::buf::VecPacket;

/// From-scratch ones'-complement checksum of `data` plus an initial sum.
fn csum(init: u32, data: &[u8]) -> u16 {
    let mut s = init;
    for c in data.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from(c[0]) << 8
        };
        s += u32::from(w);
    }
    !fold(s)
}

/// An Ethernet/IPv4/(TCP|UDP) packet with correct checksums.
fn ipv4_pkt(proto: u8, ttl: u8, tos: u8, udp_zero_csum: bool) -> Vec<u8> {
    let mut p = vec![0u8; 14];
    p[0..6].copy_from_slice(&[0, 1, 2, 3, 4, 5]);
    p[6..12].copy_from_slice(&[0xa, 0xb, 0xc, 0xd, 0xe, 0xf]);
    p[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    let l4len = if proto == IPPROTO_TCP { 20 } else { 8 };
    let payload = b"hello world!!";
    let tot = 20 + l4len + payload.len();
    let mut ip = vec![
        0x45,
        tos,
        (tot >> 8) as u8,
        tot as u8,
        0,
        1,
        0,
        0,
        ttl,
        proto,
        0,
        0,
    ];
    ip.extend_from_slice(&[10, 0, 0, 1, 192, 168, 7, 9]);
    let c = csum(0, &ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(&ip);
    let mut l4 = vec![0u8; l4len];
    l4[0..2].copy_from_slice(&1234u16.to_be_bytes());
    l4[2..4].copy_from_slice(&80u16.to_be_bytes());
    if proto == IPPROTO_UDP {
        l4[4..6].copy_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    } else {
        l4[12] = 0x50;
    }
    l4.extend_from_slice(payload);
    p.extend_from_slice(&l4);
    if !(proto == IPPROTO_UDP && udp_zero_csum) {
        fix_l4(&mut p);
    }
    p
}

fn l4_sum(p: &[u8]) -> (usize, u16) {
    let o = Offsets::parse(p).unwrap();
    let l3 = o.l3.unwrap();
    let (l4, proto) = o.l4.unwrap();
    let len = p.len() - l4;
    let mut pseudo = p[l3 + 12..l3 + 20].to_vec();
    pseudo.extend_from_slice(&[0, proto, (len >> 8) as u8, len as u8]);
    let coff = l4_csum_off(p.len(), l4, proto).unwrap();
    let mut seg = p[l4..].to_vec();
    seg[coff - l4] = 0;
    seg[coff - l4 + 1] = 0;
    pseudo.extend_from_slice(&seg);
    (coff, csum(0, &pseudo))
}

fn fix_l4(p: &mut [u8]) {
    let (coff, c) = l4_sum(p);
    p[coff..coff + 2].copy_from_slice(&c.to_be_bytes());
}

/// Asserts IPv4 header and L4 checksums equal a full recomputation.
fn check_csums(p: &[u8]) {
    let o = Offsets::parse(p).unwrap();
    let l3 = o.l3.unwrap();
    let mut h = p[l3..l3 + 20].to_vec();
    let got = rd16(&h, 10);
    h[10] = 0;
    h[11] = 0;
    assert_eq!(got, csum(0, &h), "ipv4 header checksum");
    let (coff, want) = l4_sum(p);
    let got = rd16(p, coff);
    if o.l4.unwrap().1 == IPPROTO_UDP && got == 0 {
        return;
    }
    // 0x0000 and 0xffff are the same ones'-complement value.
    let norm = |x: u16| if x == 0xffff { 0 } else { x };
    assert_eq!(norm(got), norm(want), "l4 checksum");
}

#[derive(Default)]
struct Sink {
    out: Vec<(u32, Vec<u8>)>,
    dropped: Vec<DropReason>,
}

impl OutputSink<VecPacket> for Sink {
    fn output(&mut self, port: u32, pkt: VecPacket) {
        self.out.push((port, pkt.data().to_vec()));
    }
    fn clone_pkt(&mut self, pkt: &VecPacket) -> Option<VecPacket> {
        Some(pkt.clone())
    }
    fn drop_pkt(&mut self, _pkt: VecPacket, why: DropReason) {
        self.dropped.push(why);
    }
}

fn run(actions: &[DpAction], pkt: &[u8]) -> Sink {
    let mut s = Sink::default();
    execute(actions, [VecPacket::new(pkt)], &mut s);
    s
}

fn set(field: Field, value: u128) -> DpAction {
    DpAction::SetField {
        field,
        value,
        mask: field.full_mask(),
    }
}

#[test]
fn rfc1624_example() {
    // RFC 1624 section 4: HC 0xdd2f, m 0x5555 -> m' 0x3285 gives 0x0000.
    assert_eq!(csum_replace16(0xdd2f, 0x5555, 0x3285), 0x0000);
}

#[test]
fn nw_and_tp_rewrites_keep_checksums() {
    for proto in [IPPROTO_TCP, IPPROTO_UDP] {
        let p = ipv4_pkt(proto, 64, 0x2b, false);
        check_csums(&p);
        for a in [
            set(Field::NwSrc, 0x0102_0304),
            set(Field::NwDst, 0xffff_fffe),
            set(Field::TpSrc, 0xffff),
            set(Field::TpDst, 0),
            DpAction::SetField {
                field: Field::NwTos,
                value: 0xb8,
                mask: 0xfc,
            },
            set(Field::NwTtl, 7),
            DpAction::DecTtl,
        ] {
            let s = run(&[a, DpAction::Output(3)], &p);
            assert_eq!(s.out.len(), 1, "{a:?}");
            check_csums(&s.out[0].1);
        }
    }
}

#[test]
fn field_values_land_in_the_right_bytes() {
    let p = ipv4_pkt(IPPROTO_TCP, 64, 0x2b, false);
    let acts = [
        set(Field::DlSrc, 0x1122_3344_5566),
        set(Field::NwDst, 0x0a0b_0c0d),
        set(Field::TpDst, 8080),
        DpAction::SetField {
            field: Field::NwTos,
            value: 0xb8,
            mask: 0xfc,
        },
        DpAction::DecTtl,
        DpAction::Output(1),
    ];
    let s = run(&acts, &p);
    let q = &s.out[0].1;
    assert_eq!(&q[6..12], &[0x11, 0x22, 0x33, 0x44, 0x55, 0x66]);
    assert_eq!(&q[14 + 16..14 + 20], &[10, 11, 12, 13]);
    assert_eq!(rd16(q, 34 + 2), 8080);
    assert_eq!(q[15], 0xbb, "DSCP replaced, ECN kept");
    assert_eq!(q[14 + 8], 63);
    check_csums(q);
}

#[test]
fn udp_zero_checksum_stays_zero() {
    let p = ipv4_pkt(IPPROTO_UDP, 64, 0, true);
    let s = run(
        &[
            set(Field::NwSrc, 0x0505_0505),
            set(Field::TpDst, 53),
            DpAction::Output(1),
        ],
        &p,
    );
    let q = &s.out[0].1;
    assert_eq!(rd16(q, 34 + 6), 0);
}

#[test]
fn dec_ttl_expires() {
    let p = ipv4_pkt(IPPROTO_UDP, 1, 0, false);
    let s = run(
        &[DpAction::Output(1), DpAction::DecTtl, DpAction::Output(2)],
        &p,
    );
    assert_eq!(s.out.len(), 1);
    assert_eq!(s.dropped, vec![DropReason::TtlExpired]);
}

#[test]
fn vlan_push_pop_round_trip() {
    let p = ipv4_pkt(IPPROTO_TCP, 64, 0, false);
    let s = run(
        &[
            DpAction::PushVlan {
                tpid: 0x8100,
                tci: VLAN_CFI | 0x2005,
            },
            DpAction::Output(1),
            DpAction::PopVlan,
            DpAction::Output(2),
        ],
        &p,
    );
    let tagged = &s.out[0].1;
    assert_eq!(tagged.len(), p.len() + 4);
    assert_eq!(&tagged[0..12], &p[0..12]);
    assert_eq!(&tagged[12..16], &[0x81, 0x00, 0x20, 0x05]);
    assert_eq!(&tagged[16..], &p[12..]);
    assert_eq!(s.out[1].1, p);
    // Rewrites behind a tag find their headers.
    let s = run(
        &[
            DpAction::PushVlan {
                tpid: 0x8100,
                tci: 5,
            },
            set(Field::NwSrc, 1),
            DpAction::Output(1),
        ],
        &p,
    );
    check_csums(&s.out[0].1);
}

#[test]
fn outputs_clone_all_but_last_and_no_output_drops() {
    let p = ipv4_pkt(IPPROTO_TCP, 64, 0, false);
    let s = run(
        &[
            DpAction::Output(1),
            set(Field::TpDst, 1),
            DpAction::Output(2),
            DpAction::Output(3),
        ],
        &p,
    );
    assert_eq!(s.out.iter().map(|o| o.0).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(s.out[0].1, p);
    assert_ne!(s.out[1].1, p);
    let s = run(&[], &p);
    assert_eq!(s.dropped, vec![DropReason::NoOutput]);
    let s = run(&[DpAction::Drop], &p);
    assert_eq!(s.dropped, vec![DropReason::Explicit]);
}

#[test]
fn sctp_port_rewrite_recomputes_crc() {
    let mut p = ipv4_pkt(IPPROTO_UDP, 64, 0, true);
    p[14 + 9] = IPPROTO_SCTP;
    p.extend_from_slice(&[0; 8]);
    // The datagram grows with it (the CRC covers the datagram only).
    let tot = (p.len() - 14) as u16;
    p[16..18].copy_from_slice(&tot.to_be_bytes());
    let l4 = 34;
    let end = p.len();
    sctp_fix(&mut p, l4, end);
    let s = run(&[set(Field::TpSrc, 99), DpAction::Output(1)], &p);
    let mut q = s.out[0].1.clone();
    let got = q[l4 + 8..l4 + 12].to_vec();
    let end = q.len();
    sctp_fix(&mut q, l4, end);
    assert_eq!(got, q[l4 + 8..l4 + 12].to_vec());
    assert_eq!(crc32c(b"123456789"), 0xe306_9283);
}

#[test]
fn rewrites_stay_out_of_headers_cut_short_and_padding_like_ovs() {
    // Found by tests/ovs_diff.rs; OVS checks each of these before writing.
    let tcp = ipv4_pkt(IPPROTO_TCP, 64, 0, false);
    // IPv4 total length beyond the frame: no L3, nothing rewritten.
    let mut p = tcp[..14 + 20 + 6].to_vec();
    let s = run(&[set(Field::NwSrc, 0x0a4d_0001), DpAction::Output(1)], &p);
    assert_eq!(s.out[0].1, p);
    // TCP cut to 10 bytes (total length says so), Ethernet padding after
    // it: the address changes, the "checksum" in the padding does not,
    // and a port rewrite does nothing.
    p = tcp[..14 + 20 + 10].to_vec();
    p[16..18].copy_from_slice(&30u16.to_be_bytes());
    p.resize(60, 0x5a);
    let s = run(&[set(Field::NwSrc, 0x0a4d_0001), DpAction::Output(1)], &p);
    assert_eq!(s.out[0].1[26..30], [10, 77, 0, 1]);
    assert_eq!(s.out[0].1[34..], p[34..]);
    let s = run(&[set(Field::TpDst, 8080), DpAction::Output(1)], &p);
    assert_eq!(s.out[0].1, p);
    // A TCP data offset past the segment: no port rewrite either.
    let mut q = tcp.clone();
    q[14 + 20 + 12] = 15 << 4;
    let s = run(&[set(Field::TpDst, 8080), DpAction::Output(1)], &q);
    assert_eq!(s.out[0].1, q);
}

#[test]
fn ports_behind_ipv6_extension_headers_are_rewritten() {
    // Hop-by-hop then UDP: the port and checksum behind the extension
    // header change, as OVS's do; a hop-by-hop header cut short stops it.
    let mut p = vec![0u8; 14];
    p[12..14].copy_from_slice(&0x86ddu16.to_be_bytes());
    let mut ip = vec![0x60, 0, 0, 0, 0, 24, 0, 64];
    ip.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    ip.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    ip.extend_from_slice(&[IPPROTO_UDP, 0, 1, 4, 0, 0, 0, 0]);
    ip.extend_from_slice(&[0x03, 0xe8, 0, 53, 0, 16, 0x12, 0x34]);
    ip.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    p.extend_from_slice(&ip);
    let s = run(&[set(Field::TpSrc, 5353), DpAction::Output(1)], &p);
    let out = &s.out[0].1;
    assert_eq!(out[62..64], 5353u16.to_be_bytes());
    assert_eq!(
        u16::from_be_bytes([out[68], out[69]]),
        csum_replace16(0x1234, 1000, 5353)
    );
    let mut cut = p.clone();
    cut[54 + 1] = 3; // the header claims 32 bytes
    let s = run(
        &[
            set(Field::TpSrc, 5353),
            set(Field::NwTos, 0x40),
            DpAction::Output(1),
        ],
        &cut,
    );
    assert_eq!(s.out[0].1, cut);
}

/// ICMPv6 checksum over the pseudo header, from scratch.
fn icmp6_csum_ok(p: &[u8]) -> bool {
    let l3 = 14;
    let len = p.len() - (l3 + 40);
    let mut s = p[l3 + 8..l3 + 40].to_vec();
    s.extend_from_slice(&(len as u32).to_be_bytes());
    s.extend_from_slice(&[0, 0, 0, 58]);
    s.extend_from_slice(&p[l3 + 40..]);
    csum(0, &s) == 0
}

#[test]
fn icmp_arp_and_nd_rewrites_keep_checksums() {
    // ICMP echo: type and code with the ICMP checksum.
    let mut p = ipv4_pkt(IPPROTO_UDP, 64, 0, false);
    p[23] = 1; // protocol ICMP
    let c = csum(0, &{
        let mut h = p[14..34].to_vec();
        h[10] = 0;
        h[11] = 0;
        h
    });
    p[24..26].copy_from_slice(&c.to_be_bytes());
    p[34..36].copy_from_slice(&[8, 0]);
    p[36..38].fill(0);
    let c = csum(0, &p[34..]);
    p[36..38].copy_from_slice(&c.to_be_bytes());
    let out = &run(
        &[
            set(Field::TpSrc, 0),
            set(Field::TpDst, 3),
            DpAction::Output(1),
        ],
        &p,
    )
    .out[0]
        .1;
    assert_eq!(&out[34..36], &[0, 3]);
    assert_eq!(csum(0, &out[34..]), 0, "icmp checksum");

    // ARP: opcode, sender and target, hardware and protocol addresses.
    let mut a = p[..14].to_vec();
    a[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
    a.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    a.extend_from_slice(&[2, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2]);
    let acts = [
        set(Field::NwProto, 2),
        set(Field::NwSrc, 0x0a00_0009),
        set(Field::NwDst, 0x0a00_0008),
        set(Field::ArpSha, 0x0200_0000_0009),
        set(Field::ArpTha, 0x0200_0000_0008),
        DpAction::Output(1),
    ];
    let out = &run(&acts, &a).out[0].1;
    assert_eq!(&out[20..22], &[0, 2]);
    assert_eq!(
        &out[22..42],
        &[2, 0, 0, 0, 0, 9, 10, 0, 0, 9, 2, 0, 0, 0, 0, 8, 10, 0, 0, 8]
    );

    // Neighbour solicitation with an SLL option: target and SLL.
    let mut n = p[..14].to_vec();
    n[12..14].copy_from_slice(&0x86ddu16.to_be_bytes());
    n.extend_from_slice(&[0x60, 0, 0, 0, 0, 32, 58, 255]);
    n.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    n.extend_from_slice(&[0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 2]);
    n.extend_from_slice(&[135, 0, 0, 0, 0, 0, 0, 0]);
    n.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    n.extend_from_slice(&[1, 1, 2, 0, 0, 0, 0, 1]);
    let len = n.len() - 54;
    let mut s = n[22..54].to_vec();
    s.extend_from_slice(&(len as u32).to_be_bytes());
    s.extend_from_slice(&[0, 0, 0, 58]);
    s.extend_from_slice(&n[54..]);
    let c = csum(0, &s);
    n[56..58].copy_from_slice(&c.to_be_bytes());
    assert!(icmp6_csum_ok(&n));
    let acts = [
        set(Field::NdTarget, 0xfe80 << 112 | 9),
        set(Field::ArpSha, 0x0200_0000_0077),
        set(Field::ArpTha, 0x0200_0000_0066), // no TLL option: nothing
        set(Field::Ipv6Src, 0xfe80 << 112 | 5),
        set(Field::Ipv6Label, 0x12345),
        DpAction::Output(1),
    ];
    let out = &run(&acts, &n).out[0].1;
    assert_eq!(out[77], 9);
    assert_eq!(&out[80..86], &[2, 0, 0, 0, 0, 0x77]);
    assert_eq!(&out[14..18], &[0x60, 0x01, 0x23, 0x45]);
    assert!(icmp6_csum_ok(out), "icmpv6 checksum");
}
