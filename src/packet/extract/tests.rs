use super::*;

fn eth(ty: u16) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01];
    f.extend_from_slice(&ty.to_be_bytes());
    f
}

fn ipv4(proto: u8, frag: u16, payload: &[u8]) -> Vec<u8> {
    let mut ip = vec![
        0x45, 0xb8, 0, 0, 0, 1, 0, 0, 63, proto, 0, 0, 10, 0, 0, 1, 192, 168, 1, 2,
    ];
    ip[2..4].copy_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
    ip[6..8].copy_from_slice(&frag.to_be_bytes());
    ip.extend_from_slice(payload);
    ip
}

fn udp(sp: u16, dp: u16) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sp.to_be_bytes());
    u.extend_from_slice(&dp.to_be_bytes());
    u.extend_from_slice(&[0, 12, 0, 0, 1, 2, 3, 4]);
    u
}

fn get(d: &[u8], f: Field) -> u128 {
    let mut k = FlowKey::ZERO;
    extract(d, 3, &mut k);
    k.get(f)
}

#[test]
fn udp_over_ipv4() {
    let mut f = eth(0x0800);
    f.extend(ipv4(17, 0, &udp(1234, 53)));
    let mut k = FlowKey::ZERO;
    let x = extract(&f, 3, &mut k);
    assert_eq!(x.malformed, None);
    assert_eq!(k.get(Field::InPort), 3);
    assert_eq!(k.get(Field::DlType), 0x0800);
    assert_eq!(k.get(Field::DlSrc), 0x0200_0000_0001);
    assert_eq!(k.get(Field::NwSrc), 0x0a00_0001);
    assert_eq!(k.get(Field::NwDst), 0xc0a8_0102);
    assert_eq!(k.get(Field::NwProto), 17);
    assert_eq!(k.get(Field::NwTos), 0xb8);
    assert_eq!(k.get(Field::NwTtl), 63);
    assert_eq!((k.get(Field::TpSrc), k.get(Field::TpDst)), (1234, 53));
    assert_eq!(x.l3_ofs, 14);
    assert_eq!(x.l4_ofs, 34);
    assert_eq!(x.map, 0b11_1111, "words 0..=5");
}

#[test]
fn tcp_flags_and_ports() {
    let mut tcp = vec![0u8; 20];
    tcp[0..2].copy_from_slice(&80u16.to_be_bytes());
    tcp[2..4].copy_from_slice(&4000u16.to_be_bytes());
    tcp[12] = 0x50;
    tcp[13] = 0x12; // SYN+ACK
    let mut f = eth(0x0800);
    f.extend(ipv4(6, 0, &tcp));
    assert_eq!(get(&f, Field::TcpFlags), 0x12);
    assert_eq!(get(&f, Field::TpSrc), 80);
    // A data offset beyond the segment: ports not trusted.
    let mut bad = f.clone();
    bad[14 + 20 + 12] = 0xf0;
    let mut k = FlowKey::ZERO;
    assert_eq!(
        extract(&bad, 1, &mut k).malformed,
        Some(Malformed::TruncatedL4)
    );
    assert_eq!(k.get(Field::TpSrc), 0);
}

#[test]
fn vlan_and_qinq() {
    let mut f = eth(0x88a8);
    f.extend_from_slice(&[0x20, 0x0a, 0x81, 0x00, 0x00, 0x64, 0x08, 0x00]);
    f.extend(ipv4(17, 0, &udp(1, 2)));
    let mut k = FlowKey::ZERO;
    assert_eq!(extract(&f, 1, &mut k).malformed, None);
    assert_eq!(k.get(Field::VlanTpid0), 0x88a8);
    assert_eq!(k.get(Field::VlanTci0), 0x200a | VLAN_CFI as u128);
    assert_eq!(k.get(Field::VlanTpid1), 0x8100);
    assert_eq!(k.get(Field::VlanTci1), 0x0064 | VLAN_CFI as u128);
    assert_eq!(k.get(Field::DlType), 0x0800);
    assert_eq!(k.get(Field::TpDst), 2);
}

#[test]
fn ipv4_fragments() {
    let mut first = eth(0x0800);
    first.extend(ipv4(17, 0x2000, &udp(5, 6)));
    assert_eq!(get(&first, Field::NwFrag), FRAG_ANY as u128);
    assert_eq!(get(&first, Field::TpSrc), 5);
    let mut later = eth(0x0800);
    later.extend(ipv4(17, 0x0010, &udp(5, 6)));
    assert_eq!(get(&later, Field::NwFrag), (FRAG_ANY | FRAG_LATER) as u128);
    assert_eq!(get(&later, Field::TpSrc), 0, "no L4 in a later fragment");
}

#[test]
fn arp() {
    let mut f = eth(0x0806);
    f.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 2]);
    f.extend_from_slice(&[
        0xaa, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0xbb, 0, 0, 0, 0, 2, 10, 0, 0, 2,
    ]);
    let mut k = FlowKey::ZERO;
    extract(&f, 1, &mut k);
    assert_eq!(k.get(Field::NwProto), 2);
    assert_eq!(k.get(Field::NwSrc), 0x0a00_0001);
    assert_eq!(k.get(Field::NwDst), 0x0a00_0002);
    assert_eq!(k.get(Field::ArpSha), 0xaa00_0000_0001);
    assert_eq!(k.get(Field::ArpTha), 0xbb00_0000_0002);
}

fn ipv6(next: u8, payload: &[u8]) -> Vec<u8> {
    let mut ip = vec![0x61, 0x23, 0x45, 0x67, 0, 0, next, 64];
    ip[4..6].copy_from_slice(&(payload.len() as u16).to_be_bytes());
    ip.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    ip.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    ip.extend_from_slice(payload);
    ip
}

#[test]
fn ipv6_extension_headers_and_fragments() {
    // Hop-by-hop, then a first fragment, then UDP.
    let mut pl = vec![44, 0, 1, 4, 0, 0, 0, 0];
    pl.extend_from_slice(&[17, 0, 0x00, 0x01, 0, 0, 0, 9]);
    pl.extend(udp(7, 8));
    let mut f = eth(0x86dd);
    f.extend(ipv6(0, &pl));
    let mut k = FlowKey::ZERO;
    assert_eq!(extract(&f, 1, &mut k).malformed, None);
    assert_eq!(k.get(Field::NwProto), 17);
    assert_eq!(k.get(Field::NwFrag), FRAG_ANY as u128);
    assert_eq!(k.get(Field::TpDst), 8);
    assert_eq!(k.get(Field::NwTos), 0x12);
    assert_eq!(k.get(Field::Ipv6Label), 0x34567);
    assert_eq!(k.get(Field::Ipv6Dst) & 0xff, 2);
    // A later fragment: nw_proto 44, no L4.
    let mut later = vec![17, 0, 0x00, 0x08, 0, 0, 0, 9];
    later.extend(udp(7, 8));
    let mut f = eth(0x86dd);
    f.extend(ipv6(44, &later));
    assert_eq!(get(&f, Field::NwProto), 44);
    assert_eq!(get(&f, Field::NwFrag), (FRAG_ANY | FRAG_LATER) as u128);
    assert_eq!(get(&f, Field::TpSrc), 0);
}

#[test]
fn neighbour_solicitation() {
    let mut icmp = vec![135, 0, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]);
    icmp.extend_from_slice(&[1, 1, 0xcc, 0, 0, 0, 0, 7]);
    let mut f = eth(0x86dd);
    f.extend(ipv6(58, &icmp));
    let mut k = FlowKey::ZERO;
    assert_eq!(extract(&f, 1, &mut k).malformed, None);
    assert_eq!(k.get(Field::TpSrc), 135);
    assert_eq!(k.get(Field::NdTarget) & 0xff, 9);
    assert_eq!(k.get(Field::ArpSha), 0xcc00_0000_0007);
    // The solicitation with one more option appended.
    let with = |opt: [u8; 8]| {
        let mut g = f.clone();
        g.extend_from_slice(&opt);
        let plen = (g.len() - 14 - 40) as u16;
        g[14 + 4..14 + 6].copy_from_slice(&plen.to_be_bytes());
        let mut k = FlowKey::ZERO;
        let x = extract(&g, 1, &mut k);
        assert_eq!(x.malformed, Some(Malformed::BadNdOptions));
        assert_eq!(k.get(Field::TpSrc), 135);
        k
    };
    // An option of length 0 ends the walk (flagged), but OVS keeps the
    // target and whatever options came before it.
    let k = with([2, 0, 0xdd, 0, 0, 0, 0, 8]);
    assert_eq!(k.get(Field::NdTarget) & 0xff, 9);
    assert_eq!(k.get(Field::ArpSha), 0xcc00_0000_0007);
    assert_eq!(k.get(Field::ArpTha), 0);
    // A repeated address option is invalid: target and addresses dropped.
    let k = with([1, 1, 0xdd, 0, 0, 0, 0, 8]);
    assert_eq!(k.get(Field::NdTarget), 0);
    assert_eq!(k.get(Field::ArpSha), 0);
}

#[test]
fn neighbour_advertisement_takes_either_address_option() {
    // OVS reads a source link-layer option in an advertisement too (and a
    // target one in a solicitation): the key carries whatever was sent.
    let mut icmp = vec![136, 0, 0, 0, 0x60, 0, 0, 0];
    icmp.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]);
    icmp.extend_from_slice(&[1, 1, 0xcc, 0, 0, 0, 0, 7]);
    icmp.extend_from_slice(&[2, 1, 0xdd, 0, 0, 0, 0, 8]);
    let mut f = eth(0x86dd);
    f.extend(ipv6(58, &icmp));
    let mut k = FlowKey::ZERO;
    assert_eq!(extract(&f, 1, &mut k).malformed, None);
    assert_eq!(k.get(Field::ArpSha), 0xcc00_0000_0007);
    assert_eq!(k.get(Field::ArpTha), 0xdd00_0000_0008);
}

#[test]
fn llc_snap_and_plain_802_3() {
    let mut f = eth(0x0026);
    f.extend_from_slice(&[0x42, 0x42, 0x03, 0, 0, 0, 0, 0]);
    assert_eq!(get(&f, Field::DlType), 0x05ff);
    let mut f = eth(0x0026);
    f.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
    f.extend(ipv4(17, 0, &udp(1, 2)));
    assert_eq!(get(&f, Field::DlType), 0x0800);
    assert_eq!(get(&f, Field::TpDst), 2);
    // A SNAP type below 0x600 is a length, not an Ethernet type: OVS
    // reports such a frame as 802.3 without a type.
    let mut f = eth(0x0026);
    f.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x05, 0xdc]);
    f.extend(ipv4(17, 0, &udp(1, 2)));
    assert_eq!(get(&f, Field::DlType), 0x05ff);
    assert_eq!(get(&f, Field::NwSrc), 0);
}

#[test]
fn every_prefix_of_valid_frames_parses_safely() {
    let mut frames = Vec::new();
    let mut f = eth(0x8100);
    f.extend_from_slice(&[0, 5, 0x08, 0x00]);
    f.extend(ipv4(17, 0, &udp(1, 2)));
    frames.push(f);
    let mut f = eth(0x86dd);
    let mut pl = vec![60, 0, 1, 4, 0, 0, 0, 0];
    pl.extend_from_slice(&[6, 0, 0, 0, 0, 0, 0, 0]);
    let mut tcp = vec![0u8; 20];
    tcp[12] = 0x50;
    pl.extend(tcp);
    f.extend(ipv6(0, &pl));
    frames.push(f);
    for f in &frames {
        let mut full = FlowKey::ZERO;
        assert_eq!(extract(f, 1, &mut full).malformed, None);
        for n in 0..f.len() {
            let mut k = FlowKey::ZERO;
            let x = extract(&f[..n], 1, &mut k);
            // Cut anywhere inside the headers: flagged. (The frames here end
            // with their last header, so every proper prefix is cut.)
            assert!(
                x.malformed.is_some(),
                "prefix {n} of {} not flagged",
                f.len()
            );
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut seed = 0x1234_5678_9abc_def0u64;
    for _ in 0..20_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let len = (seed % 200) as usize;
        let mut v: Vec<u8> = (0..len).map(|i| (seed >> (i % 56)) as u8).collect();
        // Steer towards real headers half the time.
        if len > 14 && seed & 1 == 0 {
            v[12] = [0x08, 0x86, 0x81, 0x88][(seed >> 3) as usize % 4];
            v[13] = [0x00, 0xdd, 0x00, 0xa8][(seed >> 3) as usize % 4];
            if len > 15 {
                v[14] = if v[12] == 0x86 { 0x60 } else { 0x45 };
            }
        }
        let mut k = FlowKey::ZERO;
        let _ = extract(&v, 1, &mut k);
    }
}

/// Bytes with an Ethernet type (and IP version) steered towards the
/// parsers half the time, so the property reaches past L2.
fn steered_frame() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    (
        proptest::collection::vec(any::<u8>(), 0..160),
        0usize..10,
        any::<bool>(),
    )
        .prop_map(|(mut v, ty, tagged)| {
            const TYPES: [u16; 10] = [
                0x0800, 0x86dd, 0x0806, 0x8035, 0x8100, 0x88a8, 0x0800, 0x86dd, 0x0026, 0x1234,
            ];
            let mut at = 12;
            if tagged && v.len() >= 18 {
                v[12..14].copy_from_slice(&0x8100u16.to_be_bytes());
                at = 16;
            }
            if v.len() >= at + 3 {
                v[at..at + 2].copy_from_slice(&TYPES[ty].to_be_bytes());
                match TYPES[ty] {
                    0x0800 => v[at + 2] = 0x45,
                    0x86dd => v[at + 2] = 0x60,
                    _ => {}
                }
            }
            v
        })
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(3000))]

    /// The stable twin of fuzz/fuzz_targets/extract.rs.
    #[test]
    fn arbitrary_bytes_hold_the_invariants(v in steered_frame(), port in proptest::prelude::any::<u32>()) {
        check_invariants(&v, port);
    }
}

#[test]
fn a_vlan_tag_cut_short_is_the_ethertype_like_ovs() {
    // OVS leaves a tag it cannot read unparsed: its TPID is the EtherType.
    let mut f = eth(0x8100);
    f.extend_from_slice(&[0x00, 0x64, 0x08]);
    let mut k = FlowKey::ZERO;
    assert_eq!(
        extract(&f, 1, &mut k).malformed,
        Some(Malformed::TruncatedVlan)
    );
    assert_eq!(k.get(Field::DlType), 0x8100);
    assert_eq!(k.get(Field::VlanTci0), 0);
    // QinQ with the inner tag cut short: the outer tag is kept.
    let mut f = eth(0x88a8);
    f.extend_from_slice(&[0x01, 0x2c, 0x81, 0x00, 0x00, 0x0a]);
    assert_eq!(get(&f, Field::DlType), 0x8100);
    assert_eq!(get(&f, Field::VlanTci0), 300 | VLAN_CFI as u128);
}

#[test]
fn ipv6_extension_header_cut_short_keeps_only_the_addresses_like_ovs() {
    // Hop-by-hop claiming 32 bytes where 8 are: OVS's miniflow_extract
    // keeps the addresses and no protocol, TTL, traffic class or label
    // (so no rule sees a hop limit to decrement or a class to rewrite).
    let mut f = eth(0x86dd);
    f.extend(ipv6(0, &[59, 3, 1, 4, 0, 0, 0, 0]));
    let mut k = FlowKey::ZERO;
    assert_eq!(
        extract(&f, 1, &mut k).malformed,
        Some(Malformed::BadIpv6ExtHeader)
    );
    assert_eq!(k.get(Field::DlType), 0x86dd);
    assert_eq!(k.get(Field::Ipv6Dst) & 0xff, 2);
    for fld in [
        Field::NwProto,
        Field::NwTtl,
        Field::NwTos,
        Field::Ipv6Label,
        Field::NwFrag,
    ] {
        assert_eq!(k.get(fld), 0, "{}", fld.name());
    }
}

/// IPv4 TCP/UDP frames with every field the fast path reads (and the ones
/// that send it away) varied: version/IHL, lengths, fragment bits,
/// protocol, TCP data offset, frame length with padding or truncation.
fn ipv4_l4_frame() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    (
        proptest::collection::vec(any::<u8>(), 80),
        prop_oneof![
            Just(0x45u8),
            Just(0x46),
            Just(0x44),
            Just(0x55),
            any::<u8>()
        ],
        prop_oneof![Just(6u8), Just(17), Just(1), any::<u8>()],
        prop_oneof![
            Just(0u16),
            Just(0x4000),
            Just(0x2000),
            Just(0x0001),
            any::<u16>()
        ],
        0usize..80,
        -8i32..8,
        any::<u8>(),
        any::<bool>(),
    )
        .prop_map(|(mut v, vihl, proto, frag, len, tot_delta, doff, tagged)| {
            v[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
            if tagged {
                v[12..14].copy_from_slice(&0x8100u16.to_be_bytes());
                v[16..18].copy_from_slice(&0x0800u16.to_be_bytes());
            }
            let l3 = if tagged { 18 } else { 14 };
            v[l3] = vihl;
            v[l3 + 9] = proto;
            v[l3 + 6..l3 + 8].copy_from_slice(&frag.to_be_bytes());
            let frame_len = 14 + len;
            let tot = (frame_len as i32 - l3 as i32 + tot_delta).clamp(0, 0xffff) as u16;
            v[l3 + 2..l3 + 4].copy_from_slice(&tot.to_be_bytes());
            v[l3 + 32] = doff;
            v.truncate(frame_len.min(v.len()));
            v
        })
}

/// The fast path alone: its result, or None for a frame it declines.
fn extract_ipv4_tcp_udp(d: &[u8], in_port: u32, key: &mut FlowKey) -> Option<Extracted> {
    let tcp = ipv4_l4_shape(d)?;
    fill_ipv4_l4(d, tcp, in_port, key);
    Some(IPV4_L4)
}

/// A burst of frames through `extract_burst` with the `parser` variant
/// gives, frame by frame, what `extract` gives; bits left out of `todo`
/// leave their keys alone.
fn burst_agrees(
    parser: Isa,
    frames: &[Vec<u8>],
    todo: u32,
    port: u32,
) -> Result<(), proptest::test_runner::TestCaseError> {
    let refs: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
    let stale = FlowKey {
        words: [0x5a5a; FLOW_WORDS],
    };
    let mut keys = vec![stale; frames.len()];
    let mut out = vec![IPV4_L4; frames.len()];
    extract_burst(parser, &refs, todo, port, &mut keys, &mut out);
    for (i, f) in frames.iter().enumerate() {
        if todo & (1 << i) == 0 {
            proptest::prop_assert_eq!(keys[i], stale);
            continue;
        }
        let mut want = FlowKey::ZERO;
        let x = extract(f, port, &mut want);
        proptest::prop_assert_eq!(out[i], x, "frame {}", i);
        proptest::prop_assert_eq!(keys[i], want, "frame {} {:02x?}", i, f);
    }
    Ok(())
}

/// One property test per parser variant, over bursts of random frames of
/// the fast path's shape and near it.
macro_rules! parser_variant_test {
    ($name:ident, $isa:expr, $cpu:meta) => {
        proptest::proptest! {
            #![proptest_config(proptest::test_runner::Config::with_cases(1000))]
            #[test]
            #[cfg_attr(not($cpu), ignore = "SKIPPED: this CPU lacks the variant's features")]
            fn $name(frames in proptest::collection::vec(ipv4_l4_frame(), 1..=32), todo in proptest::prelude::any::<u32>(), port in proptest::prelude::any::<u32>()) {
                proptest::prop_assert!($isa.available(simd::Kernel::Parser), "{} not available", $isa);
                burst_agrees($isa, &frames, todo & (u32::MAX >> (32 - frames.len())), port)?;
            }
        }
    };
}
parser_variant_test!(scalar_parser_burst_agrees_with_extract, Isa::Scalar, all());
parser_variant_test!(
    avx2_parser_agrees_with_scalar,
    Isa::Avx2,
    pmdswitch_cpu_avx2
);
parser_variant_test!(
    avx512_parser_agrees_with_scalar,
    Isa::Avx512,
    all(pmdswitch_cpu_avx512f, pmdswitch_cpu_avx512bw)
);

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(4000))]

    /// The fixed-offset path for plain IPv4 TCP/UDP gives what the
    /// general parser gives, and declines every frame it must not take.
    #[test]
    fn the_ipv4_fast_path_agrees_with_the_general_parser(f in ipv4_l4_frame(), port in proptest::prelude::any::<u32>()) {
        let (mut a, mut b) = (FlowKey::ZERO, FlowKey::ZERO);
        let general = extract_any(&f, port, &mut b);
        if let Some(fast) = extract_ipv4_tcp_udp(&f, port, &mut a) {
            proptest::prop_assert_eq!(fast, general);
            proptest::prop_assert_eq!(a, b);
        }
    }
}

#[test]
fn the_ipv4_fast_path_takes_plain_tcp_and_udp() {
    let mut k = FlowKey::ZERO;
    let mut f = eth(0x0800);
    f.extend(ipv4(17, 0, &udp(1000, 53)));
    assert!(extract_ipv4_tcp_udp(&f, 1, &mut k).is_some());
    let mut f = eth(0x0800);
    f.extend(ipv4(17, 0x2000, &udp(1000, 53)));
    assert!(extract_ipv4_tcp_udp(&f, 1, &mut k).is_none(), "a fragment");
}

#[test]
fn ethertype_decides_the_ip_version_not_the_nibble() {
    // OVS parses a 0x0800 frame as IPv4 whatever its version nibble says.
    for ver in [0x05, 0x06, 0x0f] {
        let mut f = eth(0x0800);
        f.extend(ipv4(17, 0, &udp(1234, 53)));
        f[14] = (ver << 4) | 5;
        let mut k = FlowKey::ZERO;
        let x = extract(&f, 3, &mut k);
        assert_eq!(x.malformed, None, "version {ver}");
        assert_eq!(k.get(Field::NwDst), 0xc0a8_0102);
        assert_eq!(k.get(Field::TpDst), 53);
    }
}
