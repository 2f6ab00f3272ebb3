use super::*;
use crate::ofproto::normal::{MacTable, PortSet, VlanMode};

mod props;

fn sw(ports: &[u32]) -> Ofproto {
    Ofproto::new(PortSet::trunks(ports.iter().copied()))
}

fn key(fields: &[(Field, u128)]) -> FlowKey {
    let mut k = FlowKey::ZERO;
    for (f, v) in fields {
        k.set(*f, *v);
    }
    k
}

fn tcp_key(in_port: u128, src: u128, dst: u128, dport: u128) -> FlowKey {
    key(&[
        (Field::InPort, in_port),
        (Field::DlType, 0x0800),
        (Field::DlSrc, 0x0200_0000_0001),
        (Field::DlDst, 0x0200_0000_0002),
        (Field::NwSrc, src),
        (Field::NwDst, dst),
        (Field::NwProto, 6),
        (Field::NwTtl, 64),
        (Field::TpSrc, 1000),
        (Field::TpDst, dport),
    ])
}

fn set(field: Field, value: u128) -> DpAction {
    DpAction::SetField {
        field,
        value,
        mask: field.full_mask(),
    }
}

#[test]
fn miss_drops_with_minimal_mask() {
    // No rule examined anything: every packet of the port drops alike.
    let of = sw(&[1, 2]);
    let x = of.translate(&tcp_key(1, 1, 2, 80), 0);
    assert!(x.actions.is_empty());
    let port_only = key(&[(Field::InPort, 0xffff_ffff)]);
    assert_eq!(x.mask, port_only);
    let x = of.translate(&key(&[(Field::InPort, 1), (Field::DlType, 0x0806)]), 0);
    assert_eq!(x.mask, port_only);
}

#[test]
fn a_port_to_port_rule_needs_only_in_port_and_anything_more_pins_dl_type() {
    let arp = key(&[(Field::InPort, 1), (Field::DlType, 0x0806)]);
    let port_only = key(&[(Field::InPort, 0xffff_ffff)]);
    let pinned = |frag: u128| {
        key(&[
            (Field::InPort, 0xffff_ffff),
            (Field::DlType, 0xffff),
            (Field::NwFrag, frag),
        ])
    };
    let mut of = sw(&[1, 2, 3]);
    of.add_flow("in_port=1,actions=output:2,output:3").unwrap();
    assert_eq!(of.translate(&tcp_key(1, 1, 2, 80), 0).mask, port_only);
    assert_eq!(of.translate(&arp, 0).mask, port_only);

    // A rule that looks at the packet, or an action that depends on it,
    // brings OVS's pins back.
    let mut of = sw(&[1, 2]);
    of.add_flow("priority=10,in_port=1,ip,actions=output:2")
        .unwrap();
    of.add_flow("priority=0,in_port=1,actions=drop").unwrap();
    assert_eq!(of.translate(&arp, 0).mask, pinned(0));
    assert_eq!(of.translate(&tcp_key(1, 1, 2, 80), 0).mask, pinned(3));
    let mut of = sw(&[1, 2]);
    of.add_flow("in_port=1,actions=dec_ttl,output:2").unwrap();
    for (k, frag) in [(tcp_key(1, 1, 2, 80), 3), (arp, 0)] {
        let m = of.translate(&k, 0).mask;
        assert_eq!(m.get(Field::DlType), 0xffff, "{m:?}");
        assert_eq!(m.get(Field::NwFrag), frag, "{m:?}");
    }
}

#[test]
fn output_rewrite_and_goto() {
    let mut of = sw(&[1, 2, 3]);
    of.add_flow(
        "priority=10,tcp,nw_dst=10.0.0.0/8 actions=mod_nw_src:1.1.1.1,dec_ttl,goto_table:1",
    )
    .unwrap();
    of.add_flow("table=1,priority=5,ip,nw_src=1.1.1.1 actions=output:2,mod_tp_dst:8080,output:3")
        .unwrap();
    let x = of.translate(&tcp_key(1, 0x0505_0505, 0x0a00_0001, 80), 0);
    assert_eq!(
        &*x.actions,
        &[
            set(Field::NwSrc, 0x0101_0101),
            set(Field::NwTtl, 63),
            DpAction::Output(2),
            set(Field::TpDst, 8080),
            DpAction::Output(3)
        ]
    );
    assert_eq!(x.mask.get(Field::NwDst), 0xff00_0000);
    assert_eq!(
        x.mask.get(Field::NwSrc),
        0xffff_ffff,
        "set un-wildcards the written bits"
    );
    assert_eq!(x.mask.get(Field::NwTtl), 0xff);
    assert_eq!(x.mask.get(Field::TpSrc), 0);
    assert_eq!(x.rules.len(), 2);
    // Setting a field to the value it already has emits nothing.
    let x = of.translate(&tcp_key(1, 0x0101_0101, 0x0a00_0001, 80), 0);
    assert_eq!(x.actions[0], set(Field::NwTtl, 63));
}

#[test]
fn output_to_in_port_is_skipped_but_in_port_action_works() {
    let mut of = sw(&[1, 2]);
    of.add_flow("actions=output:1,output:2,output:9,IN_PORT")
        .unwrap();
    let x = of.translate(&tcp_key(1, 1, 2, 3), 0);
    assert_eq!(&*x.actions, &[DpAction::Output(2), DpAction::Output(1)]);
}

#[test]
fn dec_ttl_expiry_stops_the_rule() {
    let mut of = sw(&[1, 2, 3]);
    of.add_flow("actions=resubmit(,1),output:3").unwrap();
    of.add_flow("table=1,actions=dec_ttl,output:2").unwrap();
    let mut k = tcp_key(1, 1, 2, 3);
    k.set(Field::NwTtl, 1);
    let x = of.translate(&k, 0);
    assert_eq!(&*x.actions, &[DpAction::Output(3)]);
    assert_eq!(x.mask.get(Field::NwTtl), 0xff);
}

#[test]
fn resubmit_loop_is_bounded() {
    let mut of = sw(&[1, 2]);
    of.add_flow("actions=output:2,resubmit(,0)").unwrap();
    let x = of.translate(&tcp_key(1, 1, 2, 3), 0);
    assert!(x.error.is_some());
    assert!(x.actions.is_empty());
}

#[test]
fn vlan_actions_commit_as_push_pop() {
    let mut of = sw(&[1, 2]);
    of.add_flow("in_port=1,actions=mod_vlan_vid:10,output:2")
        .unwrap();
    of.add_flow("in_port=2,actions=strip_vlan,output:1")
        .unwrap();
    let x = of.translate(&tcp_key(1, 1, 2, 3), 0);
    assert_eq!(
        &*x.actions,
        &[
            DpAction::PushVlan {
                tpid: 0x8100,
                tci: 0x100a
            },
            DpAction::Output(2)
        ]
    );
    let mut k = tcp_key(2, 1, 2, 3);
    k.set(Field::VlanTci0, 0x100a);
    k.set(Field::VlanTpid0, 0x8100);
    let x = of.translate(&k, 0);
    assert_eq!(&*x.actions, &[DpAction::PopVlan, DpAction::Output(1)]);
    // Retagging an existing tag: pop then push (OVS does the same).
    let mut of = sw(&[1, 2]);
    of.add_flow("actions=set_field:7->vlan_vid,output:2")
        .unwrap();
    k.set(Field::InPort, 1);
    let x = of.translate(&k, 0);
    assert_eq!(
        &*x.actions,
        &[
            DpAction::PopVlan,
            DpAction::PushVlan {
                tpid: 0x8100,
                tci: 0x1007
            },
            DpAction::Output(2)
        ]
    );
    // set_field vlan_vid does not push onto an untagged packet.
    let x = of.translate(&tcp_key(1, 1, 2, 3), 0);
    assert_eq!(&*x.actions, &[DpAction::Output(2)]);
}

#[test]
fn normal_learns_floods_and_ages() {
    let mut of = sw(&[1, 2, 3]);
    of.macs = MacTable::new(300);
    of.add_flow("actions=NORMAL").unwrap();
    let a_to_b = tcp_key(1, 1, 2, 3);
    let x = of.upcall(&a_to_b, 0);
    assert_eq!(
        &*x.actions,
        &[DpAction::Output(2), DpAction::Output(3)],
        "unknown dst floods"
    );
    assert_eq!(x.mask.get(Field::DlSrc), 0xffff_ffff_ffff);
    assert_eq!(x.mask.get(Field::DlDst), 0xffff_ffff_ffff);
    assert_eq!(x.mask.get(Field::VlanTci0), 0x1fff);
    assert_eq!(x.mask.get(Field::NwDst), 0);
    let g = of.generation();
    // B answers from port 3: A is known on port 1.
    let mut b_to_a = tcp_key(3, 2, 1, 3);
    b_to_a.set(Field::DlSrc, 0x0200_0000_0002);
    b_to_a.set(Field::DlDst, 0x0200_0000_0001);
    let x = of.upcall(&b_to_a, 10);
    assert_eq!(&*x.actions, &[DpAction::Output(1)]);
    assert!(of.generation() > g);
    // The flooded megaflow is now stale: revalidation narrows it to port 3.
    let old = of.translate(&a_to_b, 0);
    assert_eq!(
        of.revalidate(
            &a_to_b,
            &old.mask,
            &[DpAction::Output(2), DpAction::Output(3)],
            20
        ),
        Revalidate::Update(vec![DpAction::Output(3)].into())
    );
    // After ageing, flooding again.
    assert_eq!(
        &*of.translate(&a_to_b, 10 + 300).actions,
        &[DpAction::Output(2), DpAction::Output(3)]
    );
    // Broadcast floods; learned port == in_port drops.
    let mut bc = a_to_b;
    bc.set(Field::DlDst, 0xffff_ffff_ffff);
    assert_eq!(of.translate(&bc, 20).actions.len(), 2);
    let mut back = b_to_a;
    back.set(Field::InPort, 1);
    back.set(Field::DlSrc, 0x0200_0000_0003);
    assert!(of.translate(&back, 20).actions.is_empty());
}

#[test]
fn normal_access_ports() {
    let mut ports = PortSet::new();
    ports.insert(1, VlanMode::Access(10));
    ports.insert(2, VlanMode::Trunk);
    ports.insert(3, VlanMode::Access(20));
    ports.insert(4, VlanMode::Access(10));
    let mut of = Ofproto::new(ports);
    of.add_flow("actions=NORMAL").unwrap();
    let x = of.translate(&tcp_key(1, 1, 2, 3), 0);
    assert_eq!(
        &*x.actions,
        &[
            DpAction::PushVlan {
                tpid: 0x8100,
                tci: 0x100a
            },
            DpAction::Output(2),
            DpAction::PopVlan,
            DpAction::Output(4)
        ]
    );
    let mut tagged = tcp_key(2, 1, 2, 3);
    tagged.set(Field::VlanTci0, 0x1014);
    tagged.set(Field::VlanTpid0, 0x8100);
    let x = of.translate(&tagged, 0);
    assert_eq!(&*x.actions, &[DpAction::PopVlan, DpAction::Output(3)]);
    let mut bad = tagged;
    bad.set(Field::InPort, 1);
    assert!(
        of.translate(&bad, 0).actions.is_empty(),
        "tagged frame on access port"
    );
}

#[test]
fn revalidate_after_rule_changes() {
    let mut of = sw(&[1, 2, 3]);
    of.add_flow("priority=10,tcp,nw_dst=10.0.0.0/8 actions=output:2")
        .unwrap();
    let k = tcp_key(1, 1, 0x0a00_0001, 80);
    let x = of.translate(&k, 0);
    assert_eq!(of.revalidate(&k, &x.mask, &x.actions, 0), Revalidate::Keep);
    of.add_flow("priority=10,tcp,nw_dst=10.0.0.0/8 actions=output:3")
        .unwrap();
    assert_eq!(
        of.revalidate(&k, &x.mask, &x.actions, 0),
        Revalidate::Update(vec![DpAction::Output(3)].into())
    );
    // A more specific higher-priority rule needs more bits: delete.
    of.add_flow("priority=20,tcp,nw_dst=10.0.0.0/8,tp_dst=22 actions=output:1")
        .unwrap();
    assert_eq!(
        of.revalidate(&k, &x.mask, &x.actions, 0),
        Revalidate::Delete
    );
    assert_eq!(of.del_flows("tcp", false).unwrap().len(), 2);
    assert_eq!(
        of.revalidate(&k, &x.mask, &x.actions, 0),
        Revalidate::Update(Vec::new().into())
    );
    assert_eq!(
        of.mod_flows("priority=1 actions=output:2", false).unwrap(),
        0
    );
}

#[test]
fn push_vlan_pushes_vid_0_pcp_0_like_ovs() {
    // OVS's push_vlan sets the new outer TCI to VID 0, PCP 0, whatever the
    // tag below carries; it does not copy the outer tag (found by
    // tests/ovs_diff.rs).
    let mut of = sw(&[1, 2]);
    of.add_flow("dl_vlan=400,actions=push_vlan:0x88a8,output:2")
        .unwrap();
    let mut k = tcp_key(1, 1, 2, 80);
    k.set(Field::VlanTci0, u128::from(VLAN_CFI | (3 << 13) | 400));
    k.set(Field::VlanTpid0, 0x8100);
    let x = of.translate(&k, 0);
    assert_eq!(
        *x.actions,
        [
            DpAction::PushVlan {
                tpid: 0x88a8,
                tci: VLAN_CFI
            },
            DpAction::Output(2)
        ]
    );
}

#[test]
fn resubmit_changes_in_port_for_the_lookup_only() {
    // OVS restores in_port before running the resubmitted rule's actions,
    // so IN_PORT and an output to the original port behave as for it.
    let mut of = sw(&[1, 2, 3]);
    of.add_flow("in_port=1,actions=resubmit(2,1)").unwrap();
    of.add_flow("table=1,in_port=2,actions=output:1,output:2,IN_PORT,output:3")
        .unwrap();
    let x = of.translate(&tcp_key(1, 1, 2, 3), 0);
    assert_eq!(
        &*x.actions,
        &[
            DpAction::Output(2),
            DpAction::Output(1),
            DpAction::Output(3)
        ]
    );
    assert_eq!(x.rules.len(), 2);
}

fn normal_key(in_port: u128, dst: u128, tags: &[u128]) -> FlowKey {
    let mut k = tcp_key(in_port, 1, 2, 3);
    k.set(Field::DlDst, dst);
    if let Some(t) = tags.first() {
        k.set(Field::VlanTci0, *t);
        k.set(Field::VlanTpid0, 0x8100);
    }
    k
}

#[test]
fn normal_drops_reserved_multicast_unless_forward_bpdu() {
    for dst in [0x0180_c200_0000, 0x0180_c200_000e, 0x0100_0ccc_cccc] {
        let mut of = sw(&[1, 2, 3]);
        of.add_flow("actions=NORMAL").unwrap();
        let x = of.upcall(&normal_key(1, dst, &[]), 0);
        assert!(x.actions.is_empty(), "{dst:#x} forwarded");
        assert!(x.learn.is_none(), "{dst:#x}: OVS does not learn from it");
        assert_eq!(x.mask.get(Field::DlDst), 0xffff_ffff_ffff);
        of.forward_bpdu = true;
        let x = of.translate(&normal_key(1, dst, &[]), 0);
        assert_eq!(&*x.actions, &[DpAction::Output(2), DpAction::Output(3)]);
    }
    // Just past the range: an ordinary multicast group, flooded.
    let mut of = sw(&[1, 2, 3]);
    of.add_flow("actions=NORMAL").unwrap();
    let x = of.translate(&normal_key(1, 0x0180_c200_0010, &[]), 0);
    assert_eq!(x.actions.len(), 2);
}

#[test]
fn normal_drops_a_cut_short_vlan_header() {
    let mut of = sw(&[1, 2, 3]);
    of.add_flow("actions=NORMAL").unwrap();
    // Extraction's view of a frame cut inside its tag: the TPID is the
    // EtherType and no TCI.
    let k = key(&[
        (Field::InPort, 1),
        (Field::DlType, 0x8100),
        (Field::DlSrc, 0x0200_0000_0001),
        (Field::DlDst, 0xffff_ffff_ffff),
    ]);
    let x = of.upcall(&k, 0);
    assert!(x.actions.is_empty());
    assert!(x.learn.is_none());
    assert_eq!(x.mask.get(Field::DlType), 0xffff);
}

#[test]
fn normal_keeps_a_priority_tag_and_strips_vid_0_pcp_0() {
    let mut of = sw(&[1, 2, 3]);
    of.add_flow("actions=NORMAL").unwrap();
    // VID 0, PCP 5: OVS sends it on with the tag as it came.
    let x = of.translate(&normal_key(1, 0xffff_ffff_ffff, &[0xb000]), 0);
    assert_eq!(&*x.actions, &[DpAction::Output(2), DpAction::Output(3)]);
    assert_eq!(x.mask.get(Field::VlanTci0) & 0xe000, 0xe000, "PCP read");
    // VID 0, PCP 0: nothing left to say, the tag goes.
    let x = of.translate(&normal_key(1, 0xffff_ffff_ffff, &[0x1000]), 0);
    assert_eq!(
        &*x.actions,
        &[DpAction::PopVlan, DpAction::Output(2), DpAction::Output(3)]
    );
}

#[test]
fn fragments_are_looked_up_without_ports_but_rewritten_with_them() {
    // OVS's default fragment handling: a first fragment's ports are not
    // seen by the tables (as if zero), yet mod_tp_* still rewrites them.
    let mut of = sw(&[1, 2, 3]);
    of.add_flow("priority=10,tcp,tp_dst=80,actions=output:2")
        .unwrap();
    of.add_flow("priority=5,tcp,tp_dst=0,actions=mod_tp_src:7,output:3")
        .unwrap();
    let mut first = tcp_key(1, 1, 2, 80);
    first.set(Field::NwFrag, u128::from(FRAG_ANY));
    let x = of.translate(&first, 0);
    assert_eq!(&*x.actions, &[set(Field::TpSrc, 7), DpAction::Output(3)]);
    assert_eq!(
        &*of.translate(&tcp_key(1, 1, 2, 80), 0).actions,
        &[DpAction::Output(2)]
    );
}
