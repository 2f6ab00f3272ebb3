//! `ovs-ofctl -O OpenFlow13` talks to a minimal switch built on this codec
//! over a unix socket: every request ovs-ofctl sends must decode here, and
//! every reply we encode must satisfy ovs-ofctl (it prints what it got).

mod common;

use common::{mac, openflow_table_features, ovs_ofctl_or_skip, sample_port};
use openflow::consts::{self, error as e, port};
use openflow::*;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MANY_PORTS: u32 = 1500;

/// What the fake switch saw: decoded messages, and decode failures.
#[derive(Default)]
struct Seen {
    messages: Vec<Message>,
    failures: Vec<String>,
}

fn flow_stats() -> FlowStats {
    FlowStats {
        table_id: 0,
        duration_sec: 7,
        duration_nsec: 0,
        priority: 100,
        idle_timeout: 0,
        hard_timeout: 0,
        flags: 0,
        cookie: 0xabc,
        packet_count: 42,
        byte_count: 4200,
        r#match: Match {
            fields: vec![Oxm::exact(Field::InPort, 1)],
        },
        instructions: vec![Instruction::ApplyActions(vec![Action::Output {
            port: 2,
            max_len: 0,
        }])],
    }
}

fn group_desc() -> GroupDesc {
    GroupDesc {
        group_type: consts::group_type::SELECT,
        group_id: 7,
        buckets: vec![Bucket {
            weight: 5,
            watch_port: port::ANY,
            watch_group: consts::group::ANY,
            actions: vec![Action::Output {
                port: 1,
                max_len: 0,
            }],
        }],
    }
}

fn multipart_reply(req: &MultipartRequest) -> Message {
    use MultipartReplyBody as R;
    use MultipartRequestBody as Q;
    let body = match &req.body {
        Q::Desc => R::Desc(Desc {
            mfr_desc: FixedStr::new("pmdswitch"),
            hw_desc: FixedStr::new("fake"),
            sw_desc: FixedStr::new("openflow codec test"),
            serial_num: FixedStr::new("1"),
            dp_desc: FixedStr::new("br0"),
        }),
        Q::Flow(_) => R::Flow(vec![flow_stats()]),
        Q::Aggregate(_) => R::Aggregate(AggregateReply {
            packet_count: 42,
            byte_count: 4200,
            flow_count: 1,
        }),
        Q::Table => R::Table(vec![TableStats {
            table_id: 0,
            active_count: 1,
            lookup_count: 50,
            matched_count: 42,
        }]),
        Q::PortStats(_) => R::PortStats(vec![PortStats {
            port_no: 1,
            rx_packets: 11,
            tx_packets: 22,
            ..Default::default()
        }]),
        // More ports than one 64 KiB message holds: the reply comes in parts.
        Q::PortDesc => R::PortDesc((1..=MANY_PORTS).map(sample_port).collect()),
        Q::Group(_) => R::Group(vec![GroupStats {
            group_id: 7,
            ref_count: 1,
            packet_count: 3,
            byte_count: 300,
            buckets: vec![Default::default()],
            ..Default::default()
        }]),
        Q::GroupDesc => R::GroupDesc(vec![group_desc()]),
        Q::GroupFeatures => R::GroupFeatures(GroupFeatures {
            types: 0xf,
            capabilities: 0x3,
            max_groups: [64; 4],
            actions: [1; 4],
        }),
        Q::TableFeatures(_) => R::TableFeatures(vec![openflow_table_features(0)]),
        Q::Unknown { .. } => {
            return Message::Error(ErrorMsg::new(
                e::BAD_REQUEST,
                e::bad_request::BAD_MULTIPART,
                &[],
            ))
        }
    };
    Message::MultipartReply(MultipartReply { flags: 0, body })
}

/// The reply a switch gives, if any; SET_CONFIG changes what GET_CONFIG returns.
fn reply(m: &Message, raw: &[u8], config: &mut SwitchConfig) -> Option<Message> {
    Some(match m {
        Message::SetConfig(c) => {
            *config = c.clone();
            return None;
        }
        Message::Hello(_) => Message::Hello(Hello::for_versions(&[consts::OFP_VERSION])),
        Message::EchoRequest(d) => Message::EchoReply(d.clone()),
        Message::FeaturesRequest => Message::FeaturesReply(FeaturesReply {
            datapath_id: 0xcafe,
            n_buffers: 0,
            n_tables: 254,
            auxiliary_id: 0,
            capabilities: consts::capabilities::FLOW_STATS,
            reserved: 0,
        }),
        Message::GetConfigRequest => Message::GetConfigReply(config.clone()),
        Message::BarrierRequest => Message::BarrierReply,
        Message::RoleRequest(r) => Message::RoleReply(r.clone()),
        Message::GetAsyncRequest => Message::GetAsyncReply(AsyncConfig::default()),
        // Nicira extensions (monitor's packet-in format) are refused, as pmdswitch will.
        Message::Experimenter(_) => Message::Error(ErrorMsg::new(
            e::BAD_REQUEST,
            e::bad_request::BAD_EXPERIMENTER,
            raw,
        )),
        Message::MultipartRequest(req) => multipart_reply(req),
        Message::Unknown { .. } => {
            Message::Error(ErrorMsg::new(e::BAD_REQUEST, e::bad_request::BAD_TYPE, raw))
        }
        _ => return None,
    })
}

fn serve(mut conn: UnixStream, seen: Arc<Mutex<Seen>>) {
    conn.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut framer = Framer::new(65535);
    let mut config = SwitchConfig {
        flags: consts::config::FRAG_NORMAL,
        miss_send_len: 128,
    };
    let mut buf = [0u8; 65536];
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let n = match conn.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => n,
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                continue
            }
            Err(_) => return,
        };
        framer.push(&buf[..n]);
        while let Some(raw) = framer
            .next_message()
            .expect("ovs-ofctl frames messages correctly")
        {
            let (h, answer) = match Message::decode(&raw) {
                Ok((h, m)) => {
                    let answer = reply(&m, &raw, &mut config);
                    seen.lock().unwrap().messages.push(m);
                    (h, answer)
                }
                Err(err) => {
                    let h = Header::parse(&raw).unwrap();
                    seen.lock()
                        .unwrap()
                        .failures
                        .push(format!("{err}: {}", common::hex(&raw)));
                    (
                        h,
                        Some(Message::Error(ErrorMsg::for_decode_error(&err, &raw))),
                    )
                }
            };
            // Multipart replies go out in as many parts as the size limit needs.
            let parts = match answer {
                Some(Message::MultipartReply(r)) => encode_reply_parts(h.xid, r.body).unwrap(),
                Some(a) => vec![a.encode(h.xid).unwrap()],
                None => vec![],
            };
            if parts.iter().any(|p| conn.write_all(p).is_err()) {
                return;
            }
            // `ovs-ofctl monitor` says hello with a Nicira message and a
            // barrier; then it waits for asynchronous messages.
            let monitoring = seen
                .lock()
                .unwrap()
                .messages
                .iter()
                .any(|m| matches!(m, Message::Experimenter(_)));
            if monitoring && h.typ == consts::msg::BARRIER_REQUEST {
                for m in async_messages() {
                    let _ = conn.write_all(&m.encode(0).unwrap());
                }
                return;
            }
        }
    }
}

/// What a switch sends unasked: a table miss, a port change, a removed rule.
fn async_messages() -> Vec<Message> {
    let frame = common::unhex(
        "ffffffffffff52540000000108060001080006040001525400000001 0a000001 000000000000 0a000002",
    );
    let down = Port {
        state: consts::port_state::LINK_DOWN,
        ..sample_port(1)
    };
    vec![
        Message::PacketIn(PacketIn {
            buffer_id: consts::NO_BUFFER,
            total_len: frame.len() as u16,
            reason: consts::packet_in_reason::NO_MATCH,
            table_id: 0,
            cookie: u64::MAX,
            r#match: Match {
                fields: vec![Oxm::exact(Field::InPort, 1)],
            },
            data: frame,
        }),
        Message::PortStatus(PortStatus {
            reason: consts::port_reason::MODIFY,
            desc: down,
        }),
        Message::FlowRemoved(FlowRemoved {
            cookie: 0xabc,
            priority: 100,
            reason: consts::flow_removed_reason::DELETE,
            r#match: Match {
                fields: vec![Oxm::exact(Field::InPort, 1)],
            },
            packet_count: 42,
            ..Default::default()
        }),
    ]
}

/// Runs one ovs-ofctl command against the fake switch; returns its stdout
/// and what the switch decoded. ovs-ofctl must succeed.
fn ofctl(dir: &Path, args: &[&str]) -> (String, Seen) {
    let (ok, out, err, seen) = run_ofctl(dir, args);
    assert!(ok, "ovs-ofctl {args:?} failed: {err}\n{out}");
    (out, seen)
}

/// Runs ovs-ofctl against the fake switch: whether it succeeded, its stdout
/// and stderr, and what the switch decoded (all of which must decode).
fn run_ofctl(dir: &Path, args: &[&str]) -> (bool, String, String, Seen) {
    let sock = dir.join(format!("br{}.mgmt", args[0]));
    // Files, not pipes: a long listing must not block ovs-ofctl while we serve it.
    let (out_path, err_path) = (
        dir.join(format!("{}.out", args[0])),
        dir.join(format!("{}.err", args[0])),
    );
    let _ = std::fs::remove_file(&sock);
    let listener = UnixListener::bind(&sock).unwrap();
    listener.set_nonblocking(true).unwrap();
    let target = format!("unix:{}", sock.display());
    let mut cmd_args = vec!["-O", "OpenFlow13", args[0], &target];
    cmd_args.extend_from_slice(&args[1..]);
    let mut child = Command::new("ovs-ofctl")
        .args(&cmd_args)
        .stdout(Stdio::from(std::fs::File::create(&out_path).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&err_path).unwrap()))
        .spawn()
        .unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut handlers = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        match listener.accept() {
            Ok((conn, _)) => {
                conn.set_nonblocking(false).unwrap();
                let seen = seen.clone();
                handlers.push(std::thread::spawn(move || serve(conn, seen)));
            }
            Err(err) if err.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(err) => panic!("accept: {err}"),
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ovs-ofctl {args:?} did not finish");
        }
    };
    let out = std::fs::read_to_string(&out_path).unwrap();
    let err = std::fs::read_to_string(&err_path).unwrap();
    handlers.into_iter().for_each(|h| h.join().unwrap());
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    assert!(
        seen.failures.is_empty(),
        "ovs-ofctl {args:?} sent messages we could not decode: {:?}",
        seen.failures
    );
    let _ = std::fs::remove_file(&sock);
    (status.success(), out, err, seen)
}

fn flow_mods(seen: &Seen) -> Vec<&FlowMod> {
    seen.messages
        .iter()
        .filter_map(|m| {
            if let Message::FlowMod(f) = m {
                Some(f)
            } else {
                None
            }
        })
        .collect()
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("openflow-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn ovs_ofctl_flow_mods_decode() {
    if !ovs_ofctl_or_skip("ovs_ofctl_flow_mods_decode") {
        return;
    }
    let dir = tempdir("flows");
    let flows = [
        "table=1,priority=200,cookie=0x5,idle_timeout=30,hard_timeout=60,send_flow_rem,in_port=1,dl_vlan=10,tcp,nw_src=10.0.0.0/8,tp_dst=80,tcp_flags=+syn,reg0=5,ip_frag=no,nw_ttl=4,actions=resubmit(1,3),resubmit:4,load:0x5->NXM_NX_REG0[0..3],move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:10.0.0.1->ip_dst,dec_ttl,mod_nw_ttl:9,output:2,controller:128,group:7",
        "priority=10,arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.0/24,arp_op=1,arp_sha=52:54:00:00:00:01,actions=NORMAL",
        "priority=11,ipv6,ipv6_src=2001:db8::/32,ipv6_dst=2001:db8::1,ipv6_label=0x12345,icmp6,icmp_type=135,nd_target=2001:db8::2,actions=push_vlan:0x8100,set_field:4100->vlan_vid,output:3",
        "priority=12,mpls,mpls_label=17,mpls_tc=3,mpls_bos=1,actions=dec_mpls_ttl,pop_mpls:0x0800,output:IN_PORT",
        "priority=13,udp,dl_src=52:54:00:00:00:01/ff:ff:ff:00:00:00,udp_src=53,metadata=0x5/0xff,actions=set_queue:2,clear_actions,write_actions(output:FLOOD),write_metadata:0x10/0xf0,goto_table:4",
        "priority=14,sctp,sctp_dst=9,ip_dscp=10,ip_ecn=1,actions=meter:3,output:ALL",
        "priority=15,icmp,icmp_type=8,icmp_code=0,tun_id=0x7,actions=set_field:0x1/0x1->reg2,output:LOCAL",
        "priority=16,vlan_tci=0x1000/0x1000,dl_vlan_pcp=3,ip,nw_tos=4,nw_ecn=1,ip_frag=later,reg7=0x8/0xf,actions=drop",
        "priority=17,ipv6,icmp6,icmp_type=136,nd_target=2001:db8::3,nd_tll=52:54:00:00:00:09,actions=drop",
    ];
    let file = dir.join("flows.txt");
    std::fs::write(&file, flows.join("\n")).unwrap();
    let (_, seen) = ofctl(&dir, &["add-flows", file.to_str().unwrap()]);
    let fms = flow_mods(&seen);
    assert_eq!(fms.len(), flows.len(), "{:?}", seen.messages);
    let first = fms[0];
    assert_eq!(
        (
            first.table_id,
            first.priority,
            first.cookie,
            first.idle_timeout,
            first.hard_timeout
        ),
        (1, 200, 5, 30, 60)
    );
    assert_eq!(first.flags, consts::flow_mod_flags::SEND_FLOW_REM);
    let get = |f: Field| first.r#match.get(f).map(|o| (o.value, o.mask));
    assert_eq!(get(Field::InPort), Some((1, None)));
    assert_eq!(get(Field::VlanVid), Some((0x100a, None)));
    assert_eq!(get(Field::Ipv4Src), Some((0x0a00_0000, Some(0xff00_0000))));
    assert_eq!(get(Field::TcpDst), Some((80, None)));
    assert_eq!(get(Field::OnfTcpFlags), Some((2, Some(2))));
    assert_eq!(get(Field::Reg0), Some((5, None)));
    assert_eq!(get(Field::NxIpFrag), Some((0, None)));
    assert_eq!(get(Field::NxIpTtl), Some((4, None)));
    let Instruction::ApplyActions(actions) = &first.instructions[0] else {
        panic!("{:?}", first.instructions)
    };
    assert_eq!(
        actions,
        &[
            Action::NxResubmitTable {
                in_port: 1,
                table: 3
            },
            Action::NxResubmitTable {
                in_port: 4,
                table: 0xff
            },
            Action::NxRegLoad {
                ofs_nbits: 3,
                dst: Field::Reg0.header(false),
                value: 5
            },
            Action::NxRegMove {
                n_bits: 48,
                src_ofs: 0,
                dst_ofs: 0,
                src: 0x406,
                dst: 0x206
            },
            Action::SetField(Oxm::exact(Field::Ipv4Dst, 0x0a00_0001)),
            Action::DecNwTtl,
            Action::SetNwTtl(9),
            Action::Output {
                port: 2,
                max_len: 0
            },
            Action::Output {
                port: port::CONTROLLER,
                max_len: 128
            },
            Action::Group(7),
        ]
    );
    // The rest decode with their fields.
    assert!(
        fms[1].r#match.get(Field::ArpSha).is_some()
            && fms[1].r#match.get(Field::ArpTpa).unwrap().mask == Some(0xffff_ff00)
    );
    assert_eq!(
        fms[2].r#match.get(Field::Ipv6Flabel).map(|o| o.value),
        Some(0x12345)
    );
    assert_eq!(
        fms[2].r#match.get(Field::Ipv6NdTarget).map(|o| o.value),
        Some(0x2001_0db8_0000_0000_0000_0000_0000_0002)
    );
    assert_eq!(
        fms[3].r#match.get(Field::MplsLabel).map(|o| o.value),
        Some(17)
    );
    assert_eq!(fms[4].instructions.len(), 5, "{:?}", fms[4].instructions);
    assert!(fms[5].instructions.contains(&Instruction::Meter(3)));
    assert_eq!(
        fms[6].r#match.get(Field::TunnelId).map(|o| o.value),
        Some(7)
    );
    // A masked set_field of a register goes out as NXAST_REG_LOAD.
    let load = Action::NxRegLoad {
        ofs_nbits: 0,
        dst: Field::Reg2.header(false),
        value: 1,
    };
    assert_eq!(
        fms[6].instructions[0],
        Instruction::ApplyActions(vec![
            load,
            Action::Output {
                port: port::LOCAL,
                max_len: 0
            }
        ])
    );
    let fields = |fm: &FlowMod| {
        fm.r#match
            .fields
            .iter()
            .map(|o| o.field)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        fields(fms[7]),
        [
            Field::EthType,
            Field::VlanVid,
            Field::VlanPcp,
            Field::NxIpFrag,
            Field::IpDscp,
            Field::IpEcn,
            Field::Reg7
        ],
        "{:?}",
        fms[7].r#match
    );
    assert!(fields(fms[8]).contains(&Field::Ipv6NdTll));
    // A barrier follows the flow mods, so ovs-ofctl saw our BARRIER_REPLY.
    assert!(seen.messages.contains(&Message::BarrierRequest));

    let (_, seen) = ofctl(&dir, &["del-flows", "--strict", "priority=10,in_port=1"]);
    let fm = flow_mods(&seen)[0];
    assert_eq!(
        (fm.command, fm.priority, fm.table_id),
        (
            consts::flow_mod_command::DELETE_STRICT,
            10,
            consts::table::ALL
        )
    );
    let (_, seen) = ofctl(&dir, &["mod-flows", "cookie=0x5/-1,in_port=1,actions=drop"]);
    let fm = flow_mods(&seen)[0];
    assert_eq!(
        (fm.command, fm.cookie, fm.cookie_mask),
        (consts::flow_mod_command::MODIFY, 5, u64::MAX)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ovs_ofctl_accepts_our_replies() {
    if !ovs_ofctl_or_skip("ovs_ofctl_accepts_our_replies") {
        return;
    }
    let dir = tempdir("replies");
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["show"],
            &[
                "OFPT_FEATURES_REPLY",
                "dpid:000000000000cafe",
                "1(p1): addr:52:54:00:00:00:01",
                "2(p2)",
            ],
        ),
        (
            &["dump-desc"],
            &["Manufacturer: pmdswitch", "DP Description: br0"],
        ),
        (
            &["dump-flows"],
            &[
                "cookie=0xabc",
                "n_packets=42",
                "n_bytes=4200",
                "priority=100,in_port=1 actions=output:2",
            ],
        ),
        (
            &["dump-aggregate"],
            &["packet_count=42", "byte_count=4200", "flow_count=1"],
        ),
        (
            &["dump-tables"],
            &["table 0", "active=1, lookup=50, matched=42"],
        ),
        (
            &["dump-table-features"],
            &["table 0 (\"classifier\")", "max_entries=1000000"],
        ),
        (&["dump-ports"], &["port  1: rx pkts=11", "tx pkts=22"]),
        (
            &["dump-ports-desc"],
            &[
                "1(p1): addr:52:54:00:00:00:01",
                "2(p2): addr:52:54:00:00:00:02",
                "1500(p1500): addr:52:54:00:00:00:dc",
            ],
        ),
        (
            &["dump-groups"],
            &["group_id=7,type=select,bucket=weight:5,actions=output:1"],
        ),
        (
            &["dump-group-stats"],
            &["group_id=7", "packet_count=3", "byte_count=300"],
        ),
        (&["dump-group-features"], &["Group table:", "Types:  0xf"]),
        (&["get-frags"], &["normal"]),
    ];
    for (args, expect) in cases {
        let (out, _) = ofctl(&dir, args);
        for want in *expect {
            assert!(
                out.contains(want),
                "ovs-ofctl {args:?} output lacks `{want}`:\n{out}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ovs_ofctl_groups_ports_and_packets_decode() {
    if !ovs_ofctl_or_skip("ovs_ofctl_groups_ports_and_packets_decode") {
        return;
    }
    let dir = tempdir("misc");
    let (_, seen) = ofctl(&dir, &["add-group", "group_id=9,type=fast_failover,bucket=watch_port:1,actions=output:1,bucket=watch_port:2,actions=output:2"]);
    let gm = seen
        .messages
        .iter()
        .find_map(|m| {
            if let Message::GroupMod(g) = m {
                Some(g)
            } else {
                None
            }
        })
        .expect("GROUP_MOD");
    assert_eq!(
        (gm.command, gm.group_type, gm.group_id),
        (consts::group_mod_command::ADD, consts::group_type::FF, 9)
    );
    assert_eq!(
        gm.buckets.iter().map(|b| b.watch_port).collect::<Vec<_>>(),
        [1, 2]
    );

    let (_, seen) = ofctl(&dir, &["mod-port", "p1", "down"]);
    let pm = seen
        .messages
        .iter()
        .find_map(|m| {
            if let Message::PortMod(p) = m {
                Some(p)
            } else {
                None
            }
        })
        .expect("PORT_MOD");
    assert_eq!(
        (pm.port_no, pm.hw_addr, pm.config, pm.mask),
        (
            1,
            mac(1),
            consts::port_config::PORT_DOWN,
            consts::port_config::PORT_DOWN
        )
    );

    let packet = "ffffffffffff525400000001080045000014000100004000f97c0a0000010a000002";
    let (_, seen) = ofctl(
        &dir,
        &[
            "packet-out",
            &format!("in_port=CONTROLLER packet={packet} actions=output:TABLE"),
        ],
    );
    let po = seen
        .messages
        .iter()
        .find_map(|m| {
            if let Message::PacketOut(p) = m {
                Some(p)
            } else {
                None
            }
        })
        .expect("PACKET_OUT");
    assert_eq!(
        (po.buffer_id, po.in_port),
        (consts::NO_BUFFER, port::CONTROLLER)
    );
    assert_eq!(
        po.actions,
        [Action::Output {
            port: port::TABLE,
            max_len: 0
        }]
    );
    assert_eq!(common::hex(&po.data), packet);

    let (_, seen) = ofctl(&dir, &["set-frags", "drop"]);
    assert!(
        seen.messages
            .iter()
            .any(|m| matches!(m, Message::SetConfig(c) if c.flags == consts::config::FRAG_DROP)),
        "{:?}",
        seen.messages
    );

    let (_, seen) = ofctl(
        &dir,
        &["add-meter", "meter=1,kbps,band=type=drop,rate=1000"],
    );
    let mm = seen
        .messages
        .iter()
        .find_map(|m| {
            if let Message::MeterMod(m) = m {
                Some(m)
            } else {
                None
            }
        })
        .expect("METER_MOD");
    assert_eq!(
        mm.bands,
        [MeterBand {
            kind: BandKind::Drop,
            rate: 1000,
            burst_size: 0
        }]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ovs_ofctl_monitor_prints_our_async_messages() {
    if !ovs_ofctl_or_skip("ovs_ofctl_monitor_prints_our_async_messages") {
        return;
    }
    let dir = tempdir("monitor");
    let ctl = format!("--unixctl={}", dir.join("ctl").display());
    // The switch hangs up after its messages, so monitor ends with an error.
    let (_, out, err, _) = run_ofctl(&dir, &["monitor", &ctl]);
    // monitor prints the messages on stderr, as its log.
    let text = format!("{out}{err}");
    for want in [
        "OFPT_PACKET_IN (OF1.3)",
        "total_len=42 in_port=1 (via no_match) data_len=42 (unbuffered)",
        "arp,vlan_tci=0x0000,dl_src=52:54:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1",
        "OFPT_PORT_STATUS (OF1.3)",
        "MOD: 1(p1): addr:52:54:00:00:00:01",
        "LINK_DOWN",
        "OFPT_FLOW_REMOVED (OF1.3)",
        "priority=100,in_port=1 reason=delete",
        "cookie:0xabc",
        "pkts42",
    ] {
        assert!(text.contains(want), "monitor output lacks `{want}`:\n{text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
