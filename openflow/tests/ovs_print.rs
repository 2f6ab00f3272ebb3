//! Every message the codec encodes is decoded by OVS: `ovs-ofctl ofp-print`
//! must print it without a decode error and show the fields we put in.

mod common;

use common::{hex, mac, openflow_table_features, ovs_ofctl_or_skip, sample_port};
use openflow::consts::{self, error as e, port};
use openflow::*;
use std::process::Command;

fn sample_match() -> Match {
    Match {
        fields: vec![
            Oxm::exact(Field::InPort, 1),
            Oxm::masked(Field::EthDst, 0x0100_5e00_0000, 0xffff_ff80_0000),
            Oxm::exact(Field::EthType, 0x0800),
            Oxm::exact(Field::VlanVid, u128::from(consts::OFPVID_PRESENT | 10)),
            Oxm::exact(Field::IpProto, 6),
            Oxm::masked(Field::Ipv4Src, 0x0a00_0000, 0xff00_0000),
            Oxm::exact(Field::TcpDst, 80),
            Oxm::exact(Field::Reg0, 5),
            Oxm::exact(Field::NxIpTtl, 4),
            Oxm::masked(Field::OnfTcpFlags, 2, 2),
            Oxm::masked(Field::Metadata, 0xab, 0xff),
        ],
    }
}

/// Every action OVS 3.1 accepts in OpenFlow 1.3. It refuses (BAD_TYPE) the
/// spec's COPY_TTL_OUT/IN and PUSH/POP_PBB, and NXAST_DEC_TTL outside
/// OpenFlow 1.0; those are checked by the round-trip tests only.
fn ovs_actions() -> Vec<Action> {
    vec![
        Action::Output {
            port: 2,
            max_len: 0,
        },
        Action::Output {
            port: port::CONTROLLER,
            max_len: 128,
        },
        Action::SetMplsTtl(9),
        Action::DecMplsTtl,
        Action::PushVlan(0x8100),
        Action::PopVlan,
        Action::PushMpls(0x8847),
        Action::PopMpls(0x0800),
        Action::SetQueue(3),
        Action::Group(7),
        Action::SetNwTtl(33),
        Action::DecNwTtl,
        Action::SetField(Oxm::exact(Field::Ipv4Dst, 0x0a00_0001)),
        Action::SetField(Oxm::exact(Field::Reg1, 1)),
        Action::NxResubmit { in_port: 4 },
        Action::NxResubmitTable {
            in_port: 0xfff8,
            table: 3,
        },
        Action::NxRegLoad {
            ofs_nbits: 3,
            dst: Field::Reg0.header(false),
            value: 5,
        },
        Action::NxRegLoad2(Oxm::masked(Field::Reg2, 0x10, 0xf0)),
        Action::NxRegMove {
            n_bits: 48,
            src_ofs: 0,
            dst_ofs: 0,
            src: 0x406,
            dst: 0x206,
        },
    ]
}

/// Expected text OVS did not print, reported together at the end of a test.
static MISSING: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn assert_nothing_missing() {
    let missing = std::mem::take(&mut *MISSING.lock().unwrap());
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// Runs `ovs-ofctl ofp-print` on the encoding and checks the text.
fn check(m: &Message, expect: &[&str]) {
    let bytes = m.encode(0x1234).unwrap();
    let out = Command::new("ovs-ofctl")
        .args(["ofp-print", &hex(&bytes)])
        .output()
        .expect("run ovs-ofctl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "ovs-ofctl failed on {m:?}:\n{text}");
    assert!(
        !text.contains("***") && !text.contains("WARN"),
        "OVS reports a problem with {m:?}:\n{text}"
    );
    assert!(
        text.contains("(OF1.3) (xid=0x1234)"),
        "not decoded as OF1.3:\n{text}"
    );
    let missing: Vec<_> = expect.iter().filter(|w| !text.contains(*w)).collect();
    if !missing.is_empty() {
        MISSING
            .lock()
            .unwrap()
            .push(format!("{missing:?} missing from OVS's decoding:\n{text}"));
    }
    // And our own decoder gives back what we encoded.
    assert_eq!(&Message::decode(&bytes).unwrap().1, m);
}

fn mp_reply(body: MultipartReplyBody) -> Message {
    Message::MultipartReply(MultipartReply { flags: 0, body })
}

fn mp_request(body: MultipartRequestBody) -> Message {
    Message::MultipartRequest(MultipartRequest { flags: 0, body })
}

fn sample_flow_mod() -> FlowMod {
    FlowMod {
        cookie: 0xabc,
        cookie_mask: 0,
        table_id: 1,
        command: consts::flow_mod_command::ADD,
        idle_timeout: 10,
        hard_timeout: 20,
        priority: 300,
        buffer_id: consts::NO_BUFFER,
        out_port: port::ANY,
        out_group: consts::group::ANY,
        flags: consts::flow_mod_flags::SEND_FLOW_REM,
        r#match: sample_match(),
        instructions: vec![
            Instruction::Meter(1),
            Instruction::ApplyActions(ovs_actions()),
            Instruction::ClearActions,
            Instruction::WriteActions(vec![Action::Output {
                port: 3,
                max_len: 0,
            }]),
            Instruction::WriteMetadata {
                metadata: 0x1,
                mask: 0xff,
            },
            Instruction::GotoTable(2),
        ],
    }
}

#[test]
fn ovs_decodes_every_message_we_encode() {
    if !ovs_ofctl_or_skip("ovs_decodes_every_message_we_encode") {
        return;
    }
    check(
        &Message::Hello(Hello::for_versions(&[1, 4])),
        &["OFPT_HELLO", "version bitmap: 0x01, 0x04"],
    );
    check(
        &Message::Error(ErrorMsg::new(
            e::BAD_ACTION,
            e::bad_action::BAD_OUT_PORT,
            &Message::BarrierRequest.encode(7).unwrap(),
        )),
        &["OFPT_ERROR", "OFPBAC_BAD_OUT_PORT", "OFPT_BARRIER_REQUEST"],
    );
    check(
        &Message::EchoRequest(vec![1, 2, 3]),
        &["OFPT_ECHO_REQUEST", "01 02 03"],
    );
    check(&Message::EchoReply(vec![]), &["OFPT_ECHO_REPLY"]);
    check(&Message::FeaturesRequest, &["OFPT_FEATURES_REQUEST"]);
    check(
        &Message::FeaturesReply(FeaturesReply {
            datapath_id: 0x1,
            n_buffers: 0,
            n_tables: 254,
            auxiliary_id: 0,
            capabilities: consts::capabilities::FLOW_STATS | consts::capabilities::GROUP_STATS,
            reserved: 0,
        }),
        &[
            "OFPT_FEATURES_REPLY",
            "dpid:0000000000000001",
            "n_tables:254",
            "FLOW_STATS",
            "GROUP_STATS",
        ],
    );
    check(&Message::GetConfigRequest, &["OFPT_GET_CONFIG_REQUEST"]);
    let cfg = SwitchConfig {
        flags: consts::config::FRAG_DROP,
        miss_send_len: 128,
    };
    check(
        &Message::GetConfigReply(cfg.clone()),
        &["OFPT_GET_CONFIG_REPLY", "frags=drop", "miss_send_len=128"],
    );
    check(
        &Message::SetConfig(cfg),
        &["OFPT_SET_CONFIG", "miss_send_len=128"],
    );
    check(
        &Message::PacketIn(PacketIn {
            buffer_id: consts::NO_BUFFER,
            total_len: 60,
            reason: consts::packet_in_reason::ACTION,
            table_id: 3,
            cookie: 0x77,
            r#match: Match {
                fields: vec![Oxm::exact(Field::InPort, 2), Oxm::exact(Field::Metadata, 9)],
            },
            data: vec![0xff; 60],
        }),
        &[
            "OFPT_PACKET_IN",
            "total_len=60",
            "in_port=2",
            "metadata=0x9",
            "table_id=3",
            "cookie=0x77",
            "(via action)",
        ],
    );
    check(
        &Message::FlowRemoved(FlowRemoved {
            cookie: 0x5,
            priority: 100,
            reason: consts::flow_removed_reason::IDLE_TIMEOUT,
            table_id: 0,
            duration_sec: 3,
            duration_nsec: 0,
            idle_timeout: 10,
            hard_timeout: 0,
            packet_count: 11,
            byte_count: 1100,
            r#match: sample_match(),
        }),
        &[
            "OFPT_FLOW_REMOVED",
            "reason=idle",
            "cookie:0x5",
            "pkts11",
            "bytes1100",
            "tp_dst=80",
        ],
    );
    check(
        &Message::PortStatus(PortStatus {
            reason: consts::port_reason::ADD,
            desc: sample_port(1),
        }),
        &[
            "OFPT_PORT_STATUS",
            "ADD",
            "1(p1): addr:52:54:00:00:00:01",
            "NO_FWD",
            "LIVE",
            "10GB-FD",
        ],
    );
    check(
        &Message::PacketOut(PacketOut {
            buffer_id: consts::NO_BUFFER,
            in_port: port::CONTROLLER,
            actions: vec![
                Action::Output {
                    port: port::TABLE,
                    max_len: 0,
                },
                Action::Output {
                    port: port::FLOOD,
                    max_len: 0,
                },
            ],
            data: vec![0xff; 14],
        }),
        &[
            "OFPT_PACKET_OUT",
            "in_port=CONTROLLER",
            "actions=TABLE,FLOOD",
            "data_len=14",
        ],
    );
    // OVS checks a FLOW_MOD's actions against its match, so the MPLS actions
    // go in a rule of their own.
    let mut ip_rule = sample_flow_mod();
    let not_mpls = |a: &Action| {
        !matches!(
            a,
            Action::SetMplsTtl(_) | Action::DecMplsTtl | Action::PushMpls(_) | Action::PopMpls(_)
        )
    };
    ip_rule.instructions[1] =
        Instruction::ApplyActions(ovs_actions().into_iter().filter(not_mpls).collect());
    let mpls_rule = FlowMod {
        r#match: Match {
            fields: vec![
                Oxm::exact(Field::EthType, 0x8847),
                Oxm::exact(Field::MplsLabel, 17),
            ],
        },
        instructions: vec![Instruction::ApplyActions(vec![
            Action::SetMplsTtl(9),
            Action::DecMplsTtl,
            Action::PopMpls(0x0800),
        ])],
        ..sample_flow_mod()
    };
    check(
        &Message::FlowMod(mpls_rule),
        &[
            "mpls,mpls_label=17",
            "actions=set_mpls_ttl(9),dec_mpls_ttl,pop_mpls:0x0800",
        ],
    );
    let push_mpls = FlowMod {
        r#match: Match {
            fields: vec![Oxm::exact(Field::EthType, 0x0800)],
        },
        instructions: vec![Instruction::ApplyActions(vec![
            Action::PushMpls(0x8847),
            Action::Output {
                port: 1,
                max_len: 0,
            },
        ])],
        ..sample_flow_mod()
    };
    check(
        &Message::FlowMod(push_mpls),
        &["priority=300,ip ", "actions=push_mpls:0x8847,output:1"],
    );
    check(
        &Message::FlowMod(ip_rule),
        &[
            "OFPT_FLOW_MOD",
            "ADD table:1",
            "priority=300",
            "cookie:0xabc",
            "idle:10 hard:20",
            "send_flow_rem",
            "reg0=0x5",
            "nw_ttl=4",
            "tcp_flags=+syn",
            "metadata=0xab/0xff",
            "dl_vlan=10",
            "nw_src=10.0.0.0/8",
            "dl_dst=01:00:5e:00:00:00/ff:ff:ff:80:00:00",
            "meter:1",
            "output:2",
            "CONTROLLER:128",
            "push_vlan:0x8100",
            "pop_vlan",
            "set_queue:3",
            "group:7",
            "mod_nw_ttl:33",
            "dec_ttl",
            "set_field:10.0.0.1->ip_dst",
            "set_field:0x1->reg1",
            "resubmit:4",
            "resubmit(,3)",
            "load:0x5->NXM_NX_REG0[0..3]",
            "set_field:0x10/0xf0->reg2",
            "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]",
            "clear_actions",
            "write_actions(output:3)",
            "write_metadata:0x1/0xff",
            "goto_table:2",
        ],
    );
    check(
        &Message::GroupMod(GroupMod {
            command: consts::group_mod_command::ADD,
            group_type: consts::group_type::SELECT,
            group_id: 7,
            buckets: vec![
                Bucket {
                    weight: 10,
                    watch_port: port::ANY,
                    watch_group: consts::group::ANY,
                    actions: vec![Action::Output {
                        port: 1,
                        max_len: 0,
                    }],
                },
                Bucket {
                    weight: 20,
                    watch_port: port::ANY,
                    watch_group: consts::group::ANY,
                    actions: vec![Action::Output {
                        port: 2,
                        max_len: 0,
                    }],
                },
            ],
        }),
        &[
            "OFPT_GROUP_MOD",
            "ADD group_id=7,type=select",
            "bucket=weight:10,actions=output:1",
            "weight:20,actions=output:2",
        ],
    );
    check(
        &Message::PortMod(PortMod {
            port_no: 1,
            hw_addr: mac(1),
            config: consts::port_config::PORT_DOWN,
            mask: consts::port_config::PORT_DOWN,
            advertise: 0,
        }),
        &[
            "OFPT_PORT_MOD",
            "port: 1",
            "addr:52:54:00:00:00:01",
            "config: PORT_DOWN",
            "mask:   PORT_DOWN",
            "advertise: UNCHANGED",
        ],
    );
    check(
        &Message::TableMod(TableMod {
            table_id: 1,
            config: 0,
        }),
        &["OFPT_TABLE_MOD", "table_id=1"],
    );
    check(&Message::BarrierRequest, &["OFPT_BARRIER_REQUEST"]);
    check(&Message::BarrierReply, &["OFPT_BARRIER_REPLY"]);
    let role = Role {
        role: consts::role::MASTER,
        generation_id: 9,
    };
    check(
        &Message::RoleRequest(role.clone()),
        &["OFPT_ROLE_REQUEST", "role=primary", "generation_id=9"],
    );
    check(
        &Message::RoleReply(role),
        &["OFPT_ROLE_REPLY", "role=primary", "generation_id=9"],
    );
    check(&Message::GetAsyncRequest, &["OFPT_GET_ASYNC_REQUEST"]);
    let asy = AsyncConfig {
        packet_in_mask: [0x3, 0],
        port_status_mask: [0x7, 0x7],
        flow_removed_mask: [0xf, 0],
    };
    check(
        &Message::GetAsyncReply(asy.clone()),
        &[
            "OFPT_GET_ASYNC_REPLY",
            "PACKET_IN: no_match action",
            "PORT_STATUS: add delete modify",
        ],
    );
    check(
        &Message::SetAsync(asy),
        &[
            "OFPT_SET_ASYNC",
            "FLOW_REMOVED: idle hard delete group_delete",
        ],
    );
    check(
        &Message::MeterMod(MeterMod {
            command: consts::meter::ADD,
            flags: consts::meter::FLAG_KBPS,
            meter_id: 1,
            bands: vec![
                MeterBand {
                    kind: BandKind::Drop,
                    rate: 1000,
                    burst_size: 0,
                },
                MeterBand {
                    kind: BandKind::DscpRemark(1),
                    rate: 500,
                    burst_size: 0,
                },
            ],
        }),
        &[
            "OFPT_METER_MOD",
            "ADD meter=1 kbps bands=",
            "type=drop rate=1000",
            "type=dscp_remark rate=500 prec_level=1",
        ],
    );
    assert_nothing_missing();
}

#[test]
fn ovs_decodes_every_multipart_we_encode() {
    if !ovs_ofctl_or_skip("ovs_decodes_every_multipart_we_encode") {
        return;
    }
    use MultipartReplyBody as R;
    use MultipartRequestBody as Q;
    let fsr = FlowStatsRequest {
        table_id: consts::table::ALL,
        out_port: port::ANY,
        out_group: consts::group::ANY,
        cookie: 0,
        cookie_mask: 0,
        r#match: Match {
            fields: vec![Oxm::exact(Field::InPort, 1)],
        },
    };
    check(&mp_request(Q::Desc), &["OFPST_DESC request"]);
    check(
        &mp_request(Q::Flow(fsr.clone())),
        &["OFPST_FLOW request", "in_port=1"],
    );
    check(
        &mp_request(Q::Aggregate(fsr)),
        &["OFPST_AGGREGATE request", "in_port=1"],
    );
    check(&mp_request(Q::Table), &["OFPST_TABLE request"]);
    check(
        &mp_request(Q::PortStats(port::ANY)),
        &["OFPST_PORT request", "port_no=ANY"],
    );
    check(&mp_request(Q::PortDesc), &["OFPST_PORT_DESC request"]);
    check(
        &mp_request(Q::Group(consts::group::ALL)),
        &["OFPST_GROUP request", "group_id=ALL"],
    );
    check(&mp_request(Q::GroupDesc), &["OFPST_GROUP_DESC request"]);
    check(
        &mp_request(Q::GroupFeatures),
        &["OFPST_GROUP_FEATURES request"],
    );
    check(
        &mp_request(Q::TableFeatures(vec![])),
        &["OFPST_TABLE_FEATURES request"],
    );

    check(
        &mp_reply(R::Desc(Desc {
            mfr_desc: FixedStr::new("pmdswitch project"),
            hw_desc: FixedStr::new("DPDK"),
            sw_desc: FixedStr::new("pmdswitch 0.1"),
            serial_num: FixedStr::new("None"),
            dp_desc: FixedStr::new("br0"),
        })),
        &[
            "OFPST_DESC reply",
            "Manufacturer: pmdswitch project",
            "Software: pmdswitch 0.1",
            "DP Description: br0",
        ],
    );
    let fm = sample_flow_mod();
    check(
        &mp_reply(R::Flow(vec![FlowStats {
            table_id: 1,
            duration_sec: 5,
            duration_nsec: 500_000_000,
            priority: 300,
            idle_timeout: 10,
            hard_timeout: 0,
            flags: 0,
            cookie: 0xabc,
            packet_count: 42,
            byte_count: 4200,
            r#match: fm.r#match,
            instructions: fm.instructions,
        }])),
        &[
            "OFPST_FLOW reply",
            "cookie=0xabc",
            "duration=5.500s",
            "table=1",
            "n_packets=42",
            "n_bytes=4200",
            "priority=300",
            "goto_table:2",
        ],
    );
    check(
        &mp_reply(R::Aggregate(AggregateReply {
            packet_count: 7,
            byte_count: 700,
            flow_count: 3,
        })),
        &[
            "OFPST_AGGREGATE reply",
            "packet_count=7",
            "byte_count=700",
            "flow_count=3",
        ],
    );
    check(
        &mp_reply(R::Table(vec![TableStats {
            table_id: 0,
            active_count: 4,
            lookup_count: 100,
            matched_count: 90,
        }])),
        &[
            "OFPST_TABLE reply",
            "table 0",
            "active=4, lookup=100, matched=90",
        ],
    );
    check(
        &mp_reply(R::PortStats(vec![PortStats {
            port_no: 1,
            rx_packets: 10,
            tx_packets: 20,
            rx_bytes: 1000,
            duration_sec: 1,
            ..Default::default()
        }])),
        &[
            "OFPST_PORT reply",
            "port  1: rx pkts=10, bytes=1000",
            "tx pkts=20",
        ],
    );
    check(
        &mp_reply(R::PortDesc(vec![sample_port(1), sample_port(2)])),
        &["OFPST_PORT_DESC reply", "1(p1)", "2(p2)"],
    );
    check(
        &mp_reply(R::Group(vec![GroupStats {
            group_id: 7,
            ref_count: 1,
            packet_count: 5,
            byte_count: 500,
            duration_sec: 2,
            duration_nsec: 0,
            buckets: vec![BucketCounter {
                packet_count: 5,
                byte_count: 500,
            }],
        }])),
        &[
            "OFPST_GROUP reply",
            "group_id=7",
            "ref_count=1",
            "packet_count=5",
            "byte_count=500",
            "bucket0:packet_count=5",
        ],
    );
    check(
        &mp_reply(R::GroupDesc(vec![GroupDesc {
            group_type: consts::group_type::FF,
            group_id: 8,
            buckets: vec![Bucket {
                weight: 0,
                watch_port: 1,
                watch_group: consts::group::ANY,
                actions: vec![Action::Output {
                    port: 1,
                    max_len: 0,
                }],
            }],
        }])),
        &[
            "OFPST_GROUP_DESC reply",
            "group_id=8,type=ff",
            "watch_port:1,actions=output:1",
        ],
    );
    check(
        &mp_reply(R::GroupFeatures(GroupFeatures {
            types: 0xf,
            capabilities: consts::group_capabilities::SELECT_WEIGHT,
            max_groups: [100, 100, 100, 100],
            actions: [1, 1, 1, 1],
        })),
        &[
            "OFPST_GROUP_FEATURES reply",
            "Group table:",
            "Types:  0xf",
            "Capabilities:  0x1",
            "all group:",
            "max_groups=0x64",
        ],
    );
    check(
        &mp_reply(R::TableFeatures(vec![openflow_table_features(0)])),
        &[
            "OFPST_TABLE_FEATURES reply",
            "table 0 (\"classifier\")",
            "max_entries=1000000",
        ],
    );
    assert_nothing_missing();
}
