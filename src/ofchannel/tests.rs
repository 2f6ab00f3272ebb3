use super::actions::{from_instructions, to_instructions};
use super::flows::{translate, Change};
use super::matching::{from_oxm, to_oxm};
use super::Refusal;
use crate::flow::key::Field as K;
use crate::ofproto::parse::parse_flow;
use crate::ofproto::Action;
use openflow::consts::error::*;
use openflow::consts::{flow_mod_command, port, NO_BUFFER};
use openflow::oxm::{Field as O, Match as OxmMatch, Oxm};
use openflow::{Action as OfAction, FlowMod, Instruction};

fn oxm(fields: &[Oxm]) -> OxmMatch {
    OxmMatch {
        fields: fields.to_vec(),
    }
}

#[test]
fn oxm_matches_become_the_rules_ovs_ofctl_text_gives() {
    let cases: &[(&[Oxm], &str)] = &[
        (
            &[
                Oxm::exact(O::InPort, 1),
                Oxm::exact(O::EthType, 0x800),
                Oxm::exact(O::IpProto, 6),
                Oxm::masked(O::Ipv4Src, 0x0a00_0000, 0xff00_0000),
                Oxm::exact(O::TcpDst, 80),
            ],
            "in_port=1,tcp,nw_src=10.0.0.0/8,tp_dst=80,actions=drop",
        ),
        (
            &[Oxm::exact(O::VlanVid, 0x100a), Oxm::exact(O::VlanPcp, 3)],
            "dl_vlan=10,dl_vlan_pcp=3,actions=drop",
        ),
        (
            &[
                Oxm::exact(O::EthType, 0x806),
                Oxm::exact(O::ArpOp, 1),
                Oxm::exact(O::ArpTpa, 0x0a00_0001),
            ],
            "arp,arp_op=1,arp_tpa=10.0.0.1,actions=drop",
        ),
        (
            &[
                Oxm::exact(O::EthType, 0x800),
                Oxm::exact(O::IpDscp, 10),
                Oxm::exact(O::IpEcn, 1),
            ],
            "ip,ip_dscp=10,nw_ecn=1,actions=drop",
        ),
    ];
    for (fields, text) in cases {
        let ours = from_oxm(&oxm(fields)).unwrap();
        assert_eq!(ours, parse_flow(text).unwrap().m, "{text}");
        // And back: the same fields (order aside).
        let mut back = to_oxm(&ours).fields;
        let mut want = fields.to_vec();
        let key = |o: &Oxm| format!("{o:?}");
        back.sort_by_key(key);
        want.sort_by_key(key);
        assert_eq!(back, want, "{text}");
    }
}

#[test]
fn unsupported_or_inconsistent_matches_get_their_error() {
    let bad = |fields: &[Oxm]| from_oxm(&oxm(fields)).unwrap_err();
    let r = |code| Refusal::new(BAD_MATCH, code);
    assert_eq!(bad(&[Oxm::exact(O::TcpDst, 80)]), r(bad_match::BAD_PREREQ));
    assert_eq!(
        bad(&[Oxm::exact(O::EthType, 0x800), Oxm::exact(O::UdpDst, 80)]),
        r(bad_match::BAD_PREREQ)
    );
    assert_eq!(bad(&[Oxm::exact(O::MplsLabel, 3)]), r(bad_match::BAD_FIELD));
    assert_eq!(bad(&[Oxm::exact(O::Metadata, 3)]), r(bad_match::BAD_FIELD));
    assert_eq!(bad(&[Oxm::exact(O::Reg0, 3)]), r(bad_match::BAD_FIELD));
    assert_eq!(
        bad(&[Oxm::exact(O::InPort, 1), Oxm::exact(O::InPort, 2)]),
        r(bad_match::DUP_FIELD)
    );
    assert_eq!(bad(&[Oxm::masked(O::InPort, 1, 1)]), r(bad_match::BAD_MASK));
    assert_eq!(
        bad(&[Oxm::exact(O::VlanVid, 0x3000)]),
        r(bad_match::BAD_VALUE)
    );
}

fn apply(actions: Vec<OfAction>) -> Vec<Instruction> {
    vec![Instruction::ApplyActions(actions)]
}

#[test]
fn actions_translate_both_ways_and_unsupported_ones_are_refused() {
    let out = |p| OfAction::Output {
        port: p,
        max_len: 0,
    };
    let ins = vec![
        Instruction::ApplyActions(vec![
            OfAction::PushVlan(0x8100),
            OfAction::SetField(Oxm::exact(O::VlanVid, 0x1005)),
            OfAction::SetField(Oxm::exact(O::Ipv4Dst, 0x0a00_0001)),
            OfAction::DecNwTtl,
            OfAction::NxResubmitTable {
                in_port: 0xfff8,
                table: 3,
            },
            out(2),
            out(port::IN_PORT),
            out(port::NORMAL),
        ]),
        Instruction::GotoTable(4),
    ];
    let ours = from_instructions(1, &ins).unwrap();
    assert_eq!(
        ours,
        parse_flow(
            "ip,actions=push_vlan:0x8100,set_field:5->vlan_vid,set_field:10.0.0.1->ip_dst,dec_ttl,resubmit(,3),output:2,IN_PORT,NORMAL,goto_table:4"
        )
        .unwrap()
        .actions
    );
    let m = parse_flow("ip,actions=drop").unwrap().m;
    assert_eq!(to_instructions(&ours, &m), ins);
    let refused = |i: Vec<Instruction>| from_instructions(0, &i).unwrap_err();
    let act = |code| Refusal::new(BAD_ACTION, code);
    let inst = |code| Refusal::new(BAD_INSTRUCTION, code);
    assert_eq!(
        refused(apply(vec![out(port::FLOOD)])),
        act(bad_action::BAD_OUT_PORT)
    );
    assert_eq!(
        refused(apply(vec![out(port::ALL)])),
        act(bad_action::BAD_OUT_PORT)
    );
    assert_eq!(
        refused(apply(vec![out(port::CONTROLLER)])),
        act(bad_action::BAD_OUT_PORT)
    );
    assert_eq!(
        refused(apply(vec![OfAction::Group(1)])),
        act(bad_action::BAD_OUT_GROUP)
    );
    assert_eq!(
        refused(apply(vec![OfAction::SetField(Oxm::exact(O::EthType, 1))])),
        act(bad_action::BAD_SET_TYPE)
    );
    assert_eq!(
        refused(vec![Instruction::WriteActions(vec![])]),
        inst(bad_instruction::UNSUP_INST)
    );
    assert_eq!(
        refused(vec![Instruction::WriteMetadata {
            metadata: 1,
            mask: 1
        }]),
        inst(bad_instruction::UNSUP_INST)
    );
    assert_eq!(
        refused(vec![Instruction::Meter(1)]),
        inst(bad_instruction::UNSUP_INST)
    );
    assert_eq!(
        from_instructions(2, &[Instruction::GotoTable(1)]).unwrap_err(),
        inst(bad_instruction::BAD_TABLE_ID)
    );
    assert!(from_instructions(0, &[Instruction::ClearActions])
        .unwrap()
        .is_empty());
    assert_eq!(
        from_instructions(0, &apply(vec![OfAction::NxResubmit { in_port: 3 }])).unwrap(),
        vec![Action::Resubmit {
            port: Some(3),
            table: None
        }]
    );
}

fn flow_mod(command: u8) -> FlowMod {
    FlowMod {
        command,
        table_id: 0,
        priority: 7,
        buffer_id: NO_BUFFER,
        out_port: port::ANY,
        out_group: openflow::consts::group::ANY,
        r#match: oxm(&[Oxm::exact(O::InPort, 1)]),
        instructions: apply(vec![OfAction::Output {
            port: 2,
            max_len: 0,
        }]),
        ..Default::default()
    }
}

#[test]
fn flow_mods_are_checked() {
    let Change::Add(fm) = translate(&flow_mod(flow_mod_command::ADD)).unwrap() else {
        panic!()
    };
    assert_eq!(fm.priority, 7);
    assert_eq!(fm.m.key.get(K::InPort), 1);
    assert!(matches!(
        translate(&flow_mod(flow_mod_command::DELETE_STRICT)).unwrap(),
        Change::Delete(_)
    ));
    let failed = |code| Refusal::new(FLOW_MOD_FAILED, code);
    let with = |f: fn(&mut FlowMod)| {
        let mut m = flow_mod(flow_mod_command::ADD);
        f(&mut m);
        translate(&m).unwrap_err()
    };
    assert_eq!(
        with(|m| m.table_id = 255),
        failed(flow_mod_failed::BAD_TABLE_ID)
    );
    assert_eq!(
        with(|m| m.command = 9),
        failed(flow_mod_failed::BAD_COMMAND)
    );
    assert_eq!(
        with(|m| m.idle_timeout = 5),
        failed(flow_mod_failed::BAD_TIMEOUT)
    );
    assert_eq!(with(|m| m.flags = 1), failed(flow_mod_failed::BAD_FLAGS));
    assert_eq!(
        with(|m| { m.instructions = apply(vec![OfAction::SetField(Oxm::exact(O::Ipv4Dst, 1))]) }),
        Refusal::new(BAD_ACTION, bad_action::MATCH_INCONSISTENT)
    );
    assert_eq!(
        with(|m| m.buffer_id = 3),
        Refusal::new(BAD_REQUEST, bad_request::BUFFER_UNKNOWN)
    );
}
