use super::*;
use crate::ofproto::rule::FieldMove;

fn ok(s: &str) -> FlowMod {
    parse_flow(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn bad(s: &str) -> ParseError {
    parse_flow(s).expect_err(s)
}

#[test]
fn full_line() {
    let f = ok("table=3, priority=100,cookie=0x10,idle_timeout=5,tcp,in_port=2,nw_dst=10.0.0.0/8,tp_dst=80 actions=mod_nw_src:1.2.3.4,output:4");
    assert_eq!(
        (f.table, f.priority, f.cookie, f.idle_timeout),
        (3, 100, 0x10, 5)
    );
    assert_eq!(f.m.key.get(Field::DlType), 0x0800);
    assert_eq!(f.m.key.get(Field::NwProto), 6);
    assert_eq!(f.m.key.get(Field::InPort), 2);
    assert_eq!(f.m.key.get(Field::NwDst), 0x0a00_0000);
    assert_eq!(f.m.mask.get(Field::NwDst), 0xff00_0000);
    assert_eq!(f.m.key.get(Field::TpDst), 80);
    assert_eq!(
        f.actions,
        vec![
            Action::SetField {
                field: Field::NwSrc,
                value: 0x0102_0304,
                mask: 0xffff_ffff
            },
            Action::Output(4)
        ]
    );
    assert_eq!(ok("actions=drop").priority, DEFAULT_PRIORITY);
    assert!(ok("actions=drop").actions.is_empty());
}

#[test]
fn values_and_masks() {
    let f = ok("dl_src=00:11:22:33:44:55/ff:ff:ff:00:00:00,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,nw_src=192.168.0.0/255.255.0.0,ip actions=1");
    assert_eq!(f.m.key.get(Field::DlSrc), 0x0011_2200_0000);
    assert_eq!(f.m.mask.get(Field::DlSrc), 0xffff_ff00_0000);
    assert_eq!(f.m.mask.get(Field::NwSrc), 0xffff_0000);
    assert_eq!(f.actions, vec![Action::Output(1)]);
    let f = ok("ipv6,ipv6_src=2001:db8::/32,ipv6_label=0x12345 actions=NORMAL");
    assert_eq!(f.m.key.get(Field::Ipv6Src) >> 96, 0x2001_0db8);
    assert_eq!(f.m.mask.get(Field::Ipv6Src), u128::MAX << 96);
    assert_eq!(f.actions, vec![Action::Normal]);
    let f = ok("dl_vlan=5,dl_vlan_pcp=3 actions=strip_vlan,IN_PORT");
    assert_eq!(f.m.key.get(Field::VlanTci0), 0x6000 | 0x1000 | 5);
    assert_eq!(f.m.mask.get(Field::VlanTci0), 0xffff);
    assert_eq!(
        ok("dl_vlan=0xffff actions=1").m.mask.get(Field::VlanTci0),
        0xffff
    );
    assert_eq!(
        ok("vlan_tci=0x1000/0x1000 actions=1")
            .m
            .key
            .get(Field::VlanTci0),
        0x1000
    );
    let f = ok("ip,nw_tos=0x28,nw_ecn=1,nw_ttl=9,nw_frag=later actions=1");
    assert_eq!(
        (f.m.key.get(Field::NwTos), f.m.mask.get(Field::NwTos)),
        (0x29, 0xff)
    );
    assert_eq!(
        (f.m.key.get(Field::NwFrag), f.m.mask.get(Field::NwFrag)),
        (3, 3)
    );
    assert_eq!(
        ok("ip,nw_frag=not_later actions=1")
            .m
            .mask
            .get(Field::NwFrag),
        2
    );
    let f = ok("tcp,tcp_flags=+syn-ack,tp_src=0x100/0xff00 actions=1");
    assert_eq!(
        (f.m.key.get(Field::TcpFlags), f.m.mask.get(Field::TcpFlags)),
        (2, 0x12)
    );
    assert_eq!(f.m.mask.get(Field::TpSrc), 0xff00);
    let f = ok("icmp,icmp_type=8,icmp_code=0 actions=1");
    assert_eq!(f.m.key.get(Field::TpSrc), 8);
    let f = ok("arp,arp_op=1,arp_spa=10.0.0.1,arp_tpa=10.0.0.0/24,arp_sha=00:00:00:00:00:01,arp_tha=00:00:00:00:00:02 actions=1");
    assert_eq!(f.m.key.get(Field::NwProto), 1);
    assert_eq!(f.m.key.get(Field::ArpTha), 2);
    let f = ok("icmp6,icmp_type=135,nd_target=fe80::1 actions=1");
    assert_eq!(
        f.m.key.get(Field::NdTarget),
        0xfe80_0000_0000_0000_0000_0000_0000_0001
    );
    for s in [
        "udp6,tp_dst=53 actions=1",
        "tcp6 actions=1",
        "sctp,tp_src=9 actions=1",
        "ip,nw_proto=47 actions=1",
    ] {
        ok(s);
    }
}

#[test]
fn actions() {
    let f = ok("actions=output:1,2,NORMAL,IN_PORT,resubmit(,3),resubmit:7,resubmit(4,),mod_dl_src:00:00:00:00:00:01,mod_dl_dst:00:00:00:00:00:02,dec_ttl,mod_vlan_vid:5,mod_vlan_pcp:2,push_vlan:0x8100,pop_vlan,strip_vlan,set_field:7->vlan_vid,goto_table:2");
    assert_eq!(f.actions.len(), 17);
    assert_eq!(
        f.actions[4],
        Action::Resubmit {
            port: None,
            table: Some(3)
        }
    );
    assert_eq!(
        f.actions[5],
        Action::Resubmit {
            port: Some(7),
            table: None
        }
    );
    assert_eq!(
        f.actions[6],
        Action::Resubmit {
            port: Some(4),
            table: None
        }
    );
    assert_eq!(
        f.actions[11],
        Action::SetVlanPcp {
            pcp: 2,
            push_if_needed: true
        }
    );
    assert_eq!(
        f.actions[15],
        Action::SetVlanVid {
            vid: 7,
            push_if_needed: false
        }
    );
    assert_eq!(f.actions[16], Action::GotoTable(2));
    let f = ok("udp actions=mod_tp_src:1,mod_tp_dst:2,mod_nw_tos:0x20,mod_nw_dst:10.1.1.1,set_field:10.0.0.9->ip_src,set_field:53->udp_dst,set_field:8->ip_dscp");
    assert_eq!(
        f.actions[2],
        Action::SetField {
            field: Field::NwTos,
            value: 0x20,
            mask: 0xfc
        }
    );
    assert_eq!(
        f.actions[6],
        Action::SetField {
            field: Field::NwTos,
            value: 0x20,
            mask: 0xfc
        }
    );
    // Display round trips through the parser.
    for s in [
        "tcp,nw_src=10.0.0.0/8,tp_dst=22 actions=resubmit(,1),set_field:9->tcp_dst,output:3",
        "dl_vlan=7 actions=mod_vlan_vid:3,pop_vlan,IN_PORT",
    ] {
        let f = ok(s);
        let text = format!(
            "priority={},{} actions={}",
            f.priority,
            f.m,
            crate::ofproto::rule::fmt_actions(&f.actions)
        );
        let g = parse_flow(&text).unwrap();
        assert_eq!(f.actions, g.actions, "{text}");
        assert_eq!(f.m, g.m, "{text}");
    }
}

#[test]
fn errors_have_positions() {
    let e = bad("priority=10,ip,nw_dts=1.2.3.4 actions=1");
    assert_eq!(e.to_string(), "at 15: unknown field 'nw_dts'");
    let e = bad("priority=10,nw_src=1.2.3.4 actions=1");
    assert_eq!(e.pos, 12);
    assert!(e.msg.contains("requires ip or arp"), "{e}");
    let e = bad("ip,tp_dst=80 actions=1");
    assert_eq!(e.pos, 3);
    assert!(e.msg.contains("tcp, udp or sctp"), "{e}");
    assert!(bad("tcp,tcp_flags=+syn actions=1,bogus")
        .msg
        .contains("unknown action 'bogus'"));
    assert_eq!(bad("tcp actions=1,bogus").pos, 14);
    assert_eq!(bad("ip,nw_src=1.2.3.400 actions=1").pos, 10);
    assert!(bad("ip,nw_src=1.2.3.4/33 actions=1").msg.contains("prefix"));
    assert!(bad("ip,arp actions=1").msg.contains("conflicting"));
    assert!(bad("in_port=1").msg.contains("missing 'actions='"));
    assert!(bad("table=2 actions=goto_table:1")
        .msg
        .contains("later table"));
    assert!(bad("actions=goto_table:3,1").msg.contains("last"));
    assert!(bad("actions=set_field:1->tcp_dst")
        .msg
        .contains("requires tcp"));
    assert!(bad("actions=set_field:1.2.3.4->nw_src")
        .msg
        .contains("requires ip"));
    assert!(bad("dl_vlan=4096 actions=1").msg.contains("dl_vlan"));
    assert!(bad("ip,nw_tos=3 actions=1").msg.contains("DSCP"));
    assert!(bad("ipv6_src=::1 actions=1").msg.contains("ipv6"));
    assert!(bad("icmp6,nd_target=::1 actions=1")
        .msg
        .contains("icmp_type=135"));
    assert!(bad("actions=1,drop").msg.contains("only action"));
    assert!(bad("actions=mod_vlan_vid:5000").msg.contains("VLAN id"));
    assert!(bad("actions=push_vlan:0x800").msg.contains("push_vlan"));
    assert!(bad("table=255 actions=1").msg.contains("reserved"));
    assert!(bad("actions=").msg.contains("empty"));
    assert!(bad("actions=resubmit(1").msg.contains("')'"));
}

#[test]
fn del_flows_match() {
    let s = parse_match("table=1,priority=5,tcp,tp_dst=80").unwrap();
    assert_eq!((s.table, s.priority), (Some(1), Some(5)));
    assert_eq!(s.m.key.get(Field::TpDst), 80);
    let s = parse_match("").unwrap();
    assert_eq!(s.m, Match::ANY);
    assert_eq!(
        parse_match("cookie=0x10/0xf0").unwrap().cookie,
        Some((0x10, 0xf0))
    );
    assert_eq!(parse_match("ip,nw_dst=1.2.3.4,bad").unwrap_err().pos, 18);
}

const GOOD: &[&str] = &[
    "table=3, priority=100,cookie=0x10,tcp,in_port=2,nw_dst=10.0.0.0/8,tp_dst=80 actions=mod_nw_src:1.2.3.4,output:4",
    "dl_src=00:11:22:33:44:55/ff:ff:ff:00:00:00,dl_vlan=5,ip,nw_tos=0x28,nw_frag=later actions=strip_vlan,IN_PORT",
    "ipv6,ipv6_src=2001:db8::/32,ipv6_label=0x12345 actions=NORMAL,resubmit(,3),resubmit:7",
    "tcp,tcp_flags=+syn-ack,tp_src=0x100/0xff00 actions=set_field:9->tcp_dst,goto_table:4",
    "icmp6,icmp_type=135,nd_target=fe80::1 actions=dec_ttl,mod_vlan_vid:5,push_vlan:0x8100,drop",
];

/// Parsing arbitrary text never panics, errors point inside the text, and
/// whatever parses prints back to text that parses the same.
fn check(s: &str) {
    let _ = parse_match(s);
    match parse_flow(s) {
        Err(e) => assert!(e.pos <= s.len(), "{e} beyond {} in {s:?}", s.len()),
        Ok(f) => {
            let text = format!(
                "table={},priority={},{} actions={}",
                f.table,
                f.priority,
                f.m,
                crate::ofproto::rule::fmt_actions(&f.actions)
            );
            if let Ok(g) = parse_flow(&text) {
                assert_eq!((f.m, &f.actions), (g.m, &g.actions), "{s:?} -> {text:?}");
            }
        }
    }
}

proptest::proptest! {
    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,80}") {
        check(&s);
    }

    #[test]
    fn mutated_good_lines(i in 0..GOOD.len(), at in 0usize..200, cut in 0usize..200, ins in "[ -~]{0,5}") {
        let g = GOOD[i];
        let at = g.char_indices().map(|(p, _)| p).nth(at % g.len()).unwrap_or(g.len());
        let mut s = format!("{}{}{}", &g[..at], ins, &g[at..]);
        if cut < s.len() && s.is_char_boundary(s.len() - cut) && cut % 3 == 0 {
            s.truncate(s.len() - cut);
        }
        check(&s);
    }
}

/// Every field of the key that OVS lets set_field write, and the
/// OpenFlow 1.0 actions OVS has for ECN and TTL.
#[test]
fn set_field_writes_every_writable_field_of_the_key() {
    let sf = |field: Field, value: u128, mask: u128| Action::SetField { field, value, mask };
    let full = |field: Field, value: u128| sf(field, value, field.full_mask());
    for (text, want) in [
        (
            "ipv6 actions=set_field:2001:db8::1->ipv6_src",
            full(Field::Ipv6Src, 0x2001_0db8 << 96 | 1),
        ),
        (
            "ipv6 actions=set_field:::2->ipv6_dst",
            full(Field::Ipv6Dst, 2),
        ),
        (
            "ipv6 actions=set_field:0x12345->ipv6_label",
            sf(Field::Ipv6Label, 0x12345, 0xfffff),
        ),
        ("ip actions=set_field:2->ip_ecn", sf(Field::NwTos, 2, 3)),
        ("ipv6 actions=set_field:1->nw_ecn", sf(Field::NwTos, 1, 3)),
        ("actions=mod_nw_ecn:3", sf(Field::NwTos, 3, 3)),
        ("actions=mod_nw_ttl:9", full(Field::NwTtl, 9)),
        ("arp actions=set_field:2->arp_op", full(Field::NwProto, 2)),
        (
            "arp actions=set_field:10.0.0.9->arp_spa",
            full(Field::NwSrc, 0x0a00_0009),
        ),
        (
            "arp actions=set_field:10.0.0.8->arp_tpa",
            full(Field::NwDst, 0x0a00_0008),
        ),
        (
            "arp actions=set_field:02:00:00:00:00:09->arp_sha",
            full(Field::ArpSha, 0x0200_0000_0009),
        ),
        (
            "arp actions=set_field:02:00:00:00:00:08->arp_tha",
            full(Field::ArpTha, 0x0200_0000_0008),
        ),
        (
            "icmp actions=set_field:3->icmp_type",
            sf(Field::TpSrc, 3, 0xff),
        ),
        (
            "icmp actions=set_field:1->icmp_code",
            sf(Field::TpDst, 1, 0xff),
        ),
        (
            "icmp6 actions=set_field:129->icmpv6_type",
            sf(Field::TpSrc, 129, 0xff),
        ),
        (
            "icmp6,icmp_type=135 actions=set_field:::9->nd_target",
            full(Field::NdTarget, 9),
        ),
        (
            "icmp6,icmp_type=135 actions=set_field:02:00:00:00:00:07->nd_sll",
            full(Field::ArpSha, 0x0200_0000_0007),
        ),
        (
            "icmp6,icmp_type=136 actions=set_field:02:00:00:00:00:06->nd_tll",
            full(Field::ArpTha, 0x0200_0000_0006),
        ),
        (
            "ip actions=set_field:10.0.0.0/255.0.0.0->nw_dst",
            sf(Field::NwDst, 0x0a00_0000, 0xff00_0000),
        ),
    ] {
        assert_eq!(ok(text).actions, vec![want], "{text}");
    }
    // OpenFlow 1.3's vlan_vid carries OFPVID_PRESENT (0x1000), which Faucet
    // sends and OVS requires after push_vlan.
    for text in [
        "dl_vlan=5 actions=set_field:4196->vlan_vid",
        "dl_vlan=5 actions=set_field:100->vlan_vid",
    ] {
        assert_eq!(
            ok(text).actions,
            vec![Action::SetVlanVid {
                vid: 100,
                push_if_needed: false
            }],
            "{text}"
        );
    }
    // Prerequisites as in a match; read-only fields refused.
    assert!(bad("ip actions=set_field:::1->ipv6_src")
        .msg
        .contains("requires ipv6"));
    assert!(bad("ip actions=set_field:2->arp_op")
        .msg
        .contains("requires arp"));
    assert!(bad("ip actions=set_field:4->ip_ecn")
        .msg
        .contains("bad value"));
    assert!(bad("ip actions=set_field:6->nw_proto")
        .msg
        .contains("unsupported"));
    assert!(bad("ip actions=set_field:0x86dd->dl_type")
        .msg
        .contains("unsupported"));
}

/// OVS's register actions on the key's fields, by OVS and NXM/OXM name.
#[test]
fn load_and_move_by_nxm_and_ovs_names() {
    let sf = |field: Field, value: u128, mask: u128| Action::SetField { field, value, mask };
    for (text, want) in [
        (
            "ip actions=load:0xa->NXM_OF_IP_SRC[24..31]",
            sf(Field::NwSrc, 0x0a00_0000, 0xff00_0000),
        ),
        (
            "dl_vlan=5 actions=load:0x1->NXM_OF_VLAN_TCI[13..15]",
            sf(Field::VlanTci0, 0x2000, 0xe000),
        ),
        (
            "ip actions=load:5->OXM_OF_IP_DSCP[]",
            sf(Field::NwTos, 20, 0xfc),
        ),
        (
            "ipv6 actions=load:1->ipv6_label[0..3]",
            sf(Field::Ipv6Label, 1, 0xf),
        ),
        (
            "actions=load:0x020000000001->eth_dst[]",
            sf(Field::DlDst, 0x0200_0000_0001, 0xffff_ffff_ffff),
        ),
    ] {
        assert_eq!(ok(text).actions, vec![want], "{text}");
    }
    assert_eq!(
        ok("tcp actions=move:NXM_OF_TCP_SRC[]->NXM_OF_TCP_DST[]").actions,
        vec![Action::Move(FieldMove {
            src: Field::TpSrc,
            src_shift: 0,
            dst: Field::TpDst,
            dst_shift: 0,
            bits: 16
        })]
    );
    assert_eq!(
        ok("arp actions=move:NXM_OF_ARP_SPA[0..7]->NXM_NX_ARP_THA[40..47]").actions,
        vec![Action::Move(FieldMove {
            src: Field::NwSrc,
            src_shift: 0,
            dst: Field::ArpTha,
            dst_shift: 40,
            bits: 8
        })]
    );
    assert!(bad("actions=load:1->NXM_OF_IP_SRC[]")
        .msg
        .contains("requires ip"));
    assert!(bad("ip actions=load:0x100->NXM_NX_IP_TTL[]")
        .msg
        .contains("does not fit"));
    assert!(bad("ip actions=load:1->NXM_OF_IP_PROTO[]")
        .msg
        .contains("read-only"));
    assert!(
        bad("ip actions=move:NXM_OF_IP_SRC[0..7]->NXM_NX_IP_TTL[0..3]")
            .msg
            .contains("8 bits into 4")
    );
    assert!(bad("ip actions=load:1->NXM_NX_IP_TTL[3..9]")
        .msg
        .contains("outside"));
}
