//! End to end without DPDK: packet bytes -> key (a small extractor local to
//! this test) -> translation -> execution on the bytes; every output packet
//! must re-extract to the key the actions promise, with valid checksums.

use pmdswitch::flow::actions::{execute, DpAction, DropReason, OutputSink};
use pmdswitch::flow::key::{Field, FlowKey, VLAN_CFI};
use pmdswitch::ofproto::normal::PortSet;
use pmdswitch::ofproto::Ofproto;
use pmdswitch::packet::buf::{PacketBuf, VecPacket};

fn be16(d: &[u8], o: usize) -> u16 {
    u16::from_be_bytes([d[o], d[o + 1]])
}

fn be32(d: &[u8], o: usize) -> u32 {
    u32::from_be_bytes([d[o], d[o + 1], d[o + 2], d[o + 3]])
}

fn mac(d: &[u8]) -> u128 {
    d.iter().fold(0u128, |a, b| (a << 8) | u128::from(*b))
}

/// Minimal extraction following key.rs's conventions.
fn extract(d: &[u8], in_port: u32) -> FlowKey {
    let mut k = FlowKey::ZERO;
    k.set(Field::InPort, in_port.into());
    k.set(Field::DlDst, mac(&d[0..6]));
    k.set(Field::DlSrc, mac(&d[6..12]));
    let mut off = 12;
    let mut et = be16(d, off);
    for (tci, tpid) in [
        (Field::VlanTci0, Field::VlanTpid0),
        (Field::VlanTci1, Field::VlanTpid1),
    ] {
        if et == 0x8100 || et == 0x88a8 {
            k.set(tpid, et.into());
            k.set(tci, u128::from(be16(d, off + 2) | VLAN_CFI));
            off += 4;
            et = be16(d, off);
        }
    }
    k.set(Field::DlType, et.into());
    let l3 = off + 2;
    let (proto, l4) = match et {
        0x0800 => {
            k.set(Field::NwTos, d[l3 + 1].into());
            k.set(Field::NwTtl, d[l3 + 8].into());
            k.set(Field::NwSrc, be32(d, l3 + 12).into());
            k.set(Field::NwDst, be32(d, l3 + 16).into());
            (d[l3 + 9], l3 + usize::from(d[l3] & 15) * 4)
        }
        0x86dd => {
            k.set(Field::NwTos, u128::from((be16(d, l3) >> 4) & 0xff));
            k.set(Field::NwTtl, d[l3 + 7].into());
            k.set(Field::Ipv6Label, u128::from(be32(d, l3) & 0xfffff));
            k.set(
                Field::Ipv6Src,
                u128::from_be_bytes(d[l3 + 8..l3 + 24].try_into().unwrap()),
            );
            k.set(
                Field::Ipv6Dst,
                u128::from_be_bytes(d[l3 + 24..l3 + 40].try_into().unwrap()),
            );
            (d[l3 + 6], l3 + 40)
        }
        _ => return k,
    };
    k.set(Field::NwProto, proto.into());
    if proto == 6 || proto == 17 {
        k.set(Field::TpSrc, be16(d, l4).into());
        k.set(Field::TpDst, be16(d, l4 + 2).into());
    }
    k
}

fn csum(data: &[u8], init: u32) -> u16 {
    let mut s = init;
    for c in data.chunks(2) {
        s += u32::from(if c.len() == 2 {
            be16(c, 0)
        } else {
            u16::from(c[0]) << 8
        });
    }
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// Verifies the IPv4 header and TCP/UDP checksums (sum over all = 0).
fn checksums_ok(d: &[u8]) -> bool {
    let mut off = 12;
    while be16(d, off) == 0x8100 || be16(d, off) == 0x88a8 {
        off += 4;
    }
    let l3 = off + 2;
    let (pseudo, l4, proto) = match be16(d, off) {
        0x0800 => {
            if csum(&d[l3..l3 + 20], 0) != 0 {
                return false;
            }
            (d[l3 + 12..l3 + 20].to_vec(), l3 + 20, d[l3 + 9])
        }
        0x86dd => (d[l3 + 8..l3 + 40].to_vec(), l3 + 40, d[l3 + 6]),
        _ => return true,
    };
    let len = d.len() - l4;
    let mut p = pseudo;
    p.extend_from_slice(&[0, 0, (len >> 8) as u8, len as u8, 0, 0, 0, proto]);
    p.extend_from_slice(&d[l4..]);
    csum(&p, 0) == 0
}

fn packet(vlan: Option<u16>, v6: bool, proto: u8) -> Vec<u8> {
    let mut p = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    if let Some(t) = vlan {
        p.extend_from_slice(&[0x81, 0x00]);
        p.extend_from_slice(&t.to_be_bytes());
    }
    let l4len = if proto == 6 { 20 } else { 8 };
    let payload = b"0123456789";
    let plen = l4len + payload.len();
    let l3 = p.len() + 2;
    if v6 {
        p.extend_from_slice(&[
            0x86,
            0xdd,
            0x62,
            0x10,
            0,
            0,
            (plen >> 8) as u8,
            plen as u8,
            proto,
            64,
        ]);
        p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    } else {
        let tot = 20 + plen;
        p.extend_from_slice(&[
            0x08,
            0x00,
            0x45,
            0x21,
            (tot >> 8) as u8,
            tot as u8,
            0,
            0,
            0,
            0,
            64,
            proto,
            0,
            0,
        ]);
        p.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        let c = csum(&p[l3..l3 + 20], 0);
        p[l3 + 10..l3 + 12].copy_from_slice(&c.to_be_bytes());
    }
    let l4 = p.len();
    p.extend_from_slice(&[0x04, 0x00, 0x00, 0x50]);
    if proto == 6 {
        p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
    } else {
        p.extend_from_slice(&[0, plen as u8, 0, 0]);
    }
    p.extend_from_slice(payload);
    // Fill the L4 checksum so the whole thing sums to zero.
    let pseudo_len = p.len() - l4;
    let mut ps = if v6 {
        p[l3 + 8..l3 + 40].to_vec()
    } else {
        p[l3 + 12..l3 + 20].to_vec()
    };
    ps.extend_from_slice(&[
        0,
        0,
        (pseudo_len >> 8) as u8,
        pseudo_len as u8,
        0,
        0,
        0,
        proto,
    ]);
    ps.extend_from_slice(&p[l4..]);
    let c = csum(&ps, 0);
    let at = l4 + if proto == 6 { 16 } else { 6 };
    p[at..at + 2].copy_from_slice(&c.to_be_bytes());
    assert!(checksums_ok(&p));
    p
}

#[derive(Default)]
struct Sink(Vec<(u32, Vec<u8>)>);

impl OutputSink<VecPacket> for Sink {
    fn output(&mut self, port: u32, pkt: VecPacket) {
        self.0.push((port, pkt.data().to_vec()));
    }
    fn clone_pkt(&mut self, pkt: &VecPacket) -> Option<VecPacket> {
        Some(pkt.clone())
    }
    fn drop_pkt(&mut self, _: VecPacket, _: DropReason) {}
}

#[test]
fn executed_packets_match_translated_effects() {
    let rule_sets: &[&[&str]] = &[
        &["actions=mod_dl_src:00:00:00:00:00:09,mod_nw_tos:0xb8,output:2,dec_ttl,mod_tp_dst:8080,output:3"],
        &["ip,actions=mod_nw_src:192.168.1.1,mod_nw_dst:172.16.0.9,mod_tp_src:7,output:2", "ipv6,actions=dec_ttl,mod_nw_tos:0x20,output:4"],
        &["actions=mod_vlan_vid:9,output:2,pop_vlan,output:3,push_vlan:0x88a8,output:4"],
        &["actions=push_vlan:0x8100,mod_vlan_pcp:5,output:2,resubmit(,1)", "table=1,actions=pop_vlan,pop_vlan,output:3"],
        &["actions=NORMAL"],
    ];
    let mut checked = 0;
    for rules in rule_sets {
        let mut of = Ofproto::new(PortSet::trunks(1..=4));
        for r in *rules {
            of.add_flow(r).unwrap();
        }
        for vlan in [None, Some(0x2005)] {
            for v6 in [false, true] {
                for proto in [6u8, 17] {
                    let bytes = packet(vlan, v6, proto);
                    let key = extract(&bytes, 1);
                    let x = of.translate(&key, 0);
                    let mut sink = Sink::default();
                    execute(&x.actions, [VecPacket::new(&bytes)], &mut sink);
                    let mut flow = key;
                    let mut outs = Vec::new();
                    for a in x.actions.iter() {
                        match a {
                            DpAction::Output(p) => outs.push((*p, flow)),
                            a => a.apply_to_key(&mut flow),
                        }
                    }
                    assert_eq!(sink.0.len(), outs.len(), "{rules:?} {:?}", x.actions);
                    for ((port, data), (want_port, want)) in sink.0.iter().zip(outs) {
                        assert_eq!(*port, want_port);
                        assert_eq!(
                            extract(data, want.get(Field::InPort) as u32),
                            want,
                            "{rules:?} {:?}",
                            x.actions
                        );
                        assert!(checksums_ok(data), "{rules:?} {:?}", x.actions);
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 40, "{checked}");
}

fn arb_actions(v6: bool) -> impl proptest::strategy::Strategy<Value = Vec<DpAction>> {
    use proptest::prelude::*;
    let set = (0usize..11, any::<u128>(), any::<bool>()).prop_filter_map(
        "field fits",
        move |(i, v, masked)| {
            let field = [
                Field::DlSrc,
                Field::DlDst,
                Field::NwSrc,
                Field::NwDst,
                Field::NwTos,
                Field::NwTtl,
                Field::TpSrc,
                Field::TpDst,
                Field::Ipv6Src,
                Field::Ipv6Dst,
                Field::Ipv6Label,
            ][i];
            let v6_only = matches!(field, Field::Ipv6Src | Field::Ipv6Dst | Field::Ipv6Label);
            if (v6 && matches!(field, Field::NwSrc | Field::NwDst)) || (!v6 && v6_only) {
                return None;
            }
            // The flow label is 20 bits of its 32-bit slot.
            let width = if field == Field::Ipv6Label {
                0xfffff
            } else {
                field.full_mask()
            };
            let mask = if masked {
                v.rotate_left(64) & width
            } else {
                width
            };
            Some(DpAction::SetField {
                field,
                value: v & mask,
                mask,
            })
        },
    );
    let one = prop_oneof![
        4 => set,
        1 => (1u32..5).prop_map(DpAction::Output),
        1 => Just(DpAction::DecTtl),
        1 => Just(DpAction::PopVlan),
        1 => (any::<bool>(), any::<u16>()).prop_map(|(ad, tci)| DpAction::PushVlan { tpid: if ad { 0x88a8 } else { 0x8100 }, tci }),
    ];
    proptest::collection::vec(one, 0..10)
}

proptest::proptest! {
    /// Random datapath actions on real packets do to the bytes exactly what
    /// `apply_to_key` says they do to the key, keeping checksums valid.
    #[test]
    fn execute_agrees_with_apply_to_key(
        v6 in proptest::prelude::any::<bool>(),
        tagged in proptest::prelude::any::<bool>(),
        tcp in proptest::prelude::any::<bool>(),
        actions in arb_actions(false),
        actions6 in arb_actions(true),
    ) {
        let actions = if v6 { actions6 } else { actions };
        let bytes = packet(tagged.then_some(0x2005), v6, if tcp { 6 } else { 17 });
        let key = extract(&bytes, 1);
        // Keep the tag stack within what the extractor reads (two tags).
        let mut tags = usize::from(tagged);
        let mut acts = Vec::new();
        for a in actions {
            match a {
                DpAction::PushVlan { .. } if tags == 2 => continue,
                DpAction::PushVlan { .. } => tags += 1,
                DpAction::PopVlan => tags = tags.saturating_sub(1),
                _ => {}
            }
            acts.push(a);
        }
        acts.push(DpAction::Output(9));
        let mut sink = Sink::default();
        execute(&acts, [VecPacket::new(&bytes)], &mut sink);
        let mut flow = key;
        let mut outs = Vec::new();
        for a in &acts {
            match a {
                DpAction::Output(p) => outs.push((*p, flow)),
                // An expiring TTL drops the packet there.
                DpAction::DecTtl if flow.get(Field::NwTtl) <= 1 => break,
                a => a.apply_to_key(&mut flow),
            }
        }
        proptest::prop_assert_eq!(sink.0.len(), outs.len());
        for ((port, data), (want_port, want)) in sink.0.iter().zip(outs) {
            proptest::prop_assert_eq!(*port, want_port);
            proptest::prop_assert_eq!(extract(data, 1), want, "{:?}", acts);
            proptest::prop_assert!(checksums_ok(data), "{:?}", acts);
        }
    }
}
