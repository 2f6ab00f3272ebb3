//! The OpenFlow channel of the real switch, driven by the real
//! `ovs-ofctl -O OpenFlow13` over `[openflow] listen = ["punix:..."]`
//! while a pcap source replays into null sinks; and peers that stay
//! silent, send garbage or speak the wrong version, which must delay
//! nobody. Without ovs-ofctl the ovs-ofctl test fails, unless
//! `PMDSWITCH_SKIP_OVS=1` (then it prints SKIPPED).
mod common;
use common::*;
use openflow::consts::{self, error as e, role};
use openflow::*;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct Bench {
    sw: Running,
    mgmt: PathBuf,
    /// The ptcp listener's port on 127.0.0.1.
    tcp: u16,
    _dir: tempfile::TempDir,
}

/// A switch with a replaying source (ofport 1) and two sinks (2, 3), no
/// rules, OpenFlow on a unix socket.
fn start(tag: u32) -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let (input, sock, mgmt) = (
        dir.path().join("in.pcap"),
        dir.path().join("ctl"),
        dir.path().join("br0.mgmt"),
    );
    write_pcap(&input, &numbered_frames(64));
    // A free port: bound, then let go for the switch to take.
    let tcp = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let body = format!(
        "[[port]]\nname = \"src\"\ndevargs = \"net_pcap{tag},rx_pcap={},infinite_rx=1\"\n\
         [[port]]\nname = \"sink1\"\ndevargs = \"net_null{tag},no-rx=1\"\n\
         [[port]]\nname = \"sink2\"\ndevargs = \"net_null{},no-rx=1\"\n\
         [openflow]\nlisten = [\"punix:{}\", \"ptcp:{tcp}:127.0.0.1\"]\n\
         datapath_id = \"0x00000000000000a1\"\n",
        input.display(),
        tag + 1,
        mgmt.display()
    );
    let cfg = config(dir.path(), &sock, &body);
    let sw = Running::start(&cfg, &sock);
    Bench {
        sw,
        mgmt,
        tcp,
        _dir: dir,
    }
}

fn ovs_ofctl_or_skip(test: &str) -> bool {
    let found = Command::new("ovs-ofctl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return true;
    }
    if std::env::var("PMDSWITCH_SKIP_OVS").is_ok_and(|v| v == "1") {
        println!("SKIPPED {test} (PMDSWITCH_SKIP_OVS=1): ovs-ofctl is missing");
        return false;
    }
    panic!("{test}: ovs-ofctl is missing (Debian openvswitch-common; scripts/setup-host.sh installs it)");
}

/// `ovs-ofctl -O OpenFlow13 CMD unix:MGMT ARGS`: (success, stdout, stderr).
fn ofctl(mgmt: &Path, cmd: &str, args: &[&str]) -> (bool, String, String) {
    let target = format!("unix:{}", mgmt.display());
    let o = Command::new("timeout")
        .args(["20", "ovs-ofctl", "-O", "OpenFlow13", cmd, &target])
        .args(args)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn ofctl_ok(mgmt: &Path, cmd: &str, args: &[&str]) -> String {
    let (ok, out, err) = ofctl(mgmt, cmd, args);
    assert!(ok, "ovs-ofctl {cmd} {args:?} failed: {err}\n{out}");
    out
}

/// The n_packets of the dump-flows line containing `what`.
fn n_packets(dump: &str, what: &str) -> u64 {
    let line = dump
        .lines()
        .find(|l| l.contains(what))
        .unwrap_or_else(|| panic!("no flow with {what:?} in\n{dump}"));
    let v = line.split("n_packets=").nth(1).unwrap();
    v[..v.find(',').unwrap()].parse().unwrap()
}

#[test]
fn ovs_ofctl_adds_modifies_deletes_and_reads_rules_and_counters() {
    if !ovs_ofctl_or_skip("ovs_ofctl_adds_modifies_deletes_and_reads_rules_and_counters") {
        return;
    }
    let b = start(120);
    let m = &b.mgmt;

    let show = ofctl_ok(m, "show", &[]);
    assert!(show.contains("dpid:00000000000000a1"), "{show}");
    // The same over TCP.
    let o = Command::new("timeout")
        .args(["20", "ovs-ofctl", "-O", "OpenFlow13", "show"])
        .arg(format!("tcp:127.0.0.1:{}", b.tcp))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), show);
    for p in ["1(src)", "2(sink1)", "3(sink2)"] {
        assert!(show.contains(p), "{p} in {show}");
    }

    // A rule added over OpenFlow forwards as a config rule does.
    ofctl_ok(m, "add-flow", &["in_port=1,actions=output:2"]);
    b.sw.wait_ports(20, |v| tx_of(v, "sink1") > 10_000);
    let rules = ok(&b.sw.ctl, &["dump-rules"]);
    assert!(
        rules.contains("in_port=1") && rules.contains("output:2"),
        "{rules}"
    );

    // Counters are real and grow while traffic flows.
    let d1 = ofctl_ok(m, "dump-flows", &[]);
    let n1 = n_packets(&d1, "in_port=1");
    assert!(n1 > 0, "{d1}");
    assert!(d1.contains("actions=output:2"), "{d1}");
    std::thread::sleep(Duration::from_millis(300));
    let d2 = ofctl_ok(m, "dump-flows", &[]);
    assert!(n_packets(&d2, "in_port=1") > n1, "{d1}\n{d2}");

    // add-flows: several rules, tables and matches on many fields.
    let file = b._dir.path().join("flows.txt");
    std::fs::write(
        &file,
        "priority=10,in_port=2,actions=drop\n\
         table=1,priority=5,cookie=0x7,udp,nw_dst=10.0.0.0/8,tp_dst=53,actions=dec_ttl,output:3\n\
         priority=20,in_port=3,dl_vlan=10,actions=pop_vlan,goto_table:1\n\
         priority=30,arp,arp_tpa=10.0.0.1,actions=NORMAL\n",
    )
    .unwrap();
    ofctl_ok(m, "add-flows", &[file.to_str().unwrap()]);
    let d = ofctl_ok(m, "dump-flows", &[]);
    for want in [
        "cookie=0x7, duration=",
        "table=1, n_packets=0, n_bytes=0, priority=5,udp,nw_dst=10.0.0.0/8,tp_dst=53 actions=dec_ttl,output:3",
        "priority=20,in_port=3,dl_vlan=10 actions=pop_vlan,goto_table:1",
        "priority=30,arp,arp_tpa=10.0.0.1 actions=NORMAL",
        "priority=10,in_port=2 actions=drop",
    ] {
        assert!(d.contains(want), "{want:?} in\n{d}");
    }
    let agg = ofctl_ok(m, "dump-aggregate", &[]);
    assert!(agg.contains("flow_count=5"), "{agg}");
    let agg1 = ofctl_ok(m, "dump-aggregate", &["table=1"]);
    assert!(agg1.contains("flow_count=1"), "{agg1}");
    // Filters: cookie, table, out_port.
    let c = ofctl_ok(m, "dump-flows", &["cookie=0x7/-1"]);
    assert_eq!(
        c.lines().filter(|l| l.contains("cookie=")).count(),
        1,
        "{c}"
    );
    let o = ofctl_ok(m, "dump-flows", &["out_port=2"]);
    assert_eq!(
        o.lines().filter(|l| l.contains("cookie=")).count(),
        1,
        "{o}"
    );

    // mod-flows moves the traffic to the other sink.
    ofctl_ok(m, "mod-flows", &["in_port=1,actions=output:3"]);
    b.sw.wait_ports(20, |v| tx_of(v, "sink2") > 10_000);
    let d = ofctl_ok(m, "dump-flows", &["in_port=1"]);
    assert!(d.contains("actions=output:3"), "{d}");
    // The counters stayed with the modified rule.
    assert!(n_packets(&d, "in_port=1") >= n1, "{d}");

    let tables = ofctl_ok(m, "dump-tables", &[]);
    assert!(tables.contains("active=4"), "{tables}");
    let ports = ofctl_ok(m, "dump-ports", &[]);
    assert!(ports.contains("port  1: rx pkts="), "{ports}");
    let rx: u64 = ports
        .split("port  1: rx pkts=")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .and_then(|s| s.trim().parse().ok())
        .unwrap();
    assert!(rx > 10_000, "{ports}");
    let one = ofctl_ok(m, "dump-ports", &["3"]);
    assert!(
        one.contains("port  3:") && !one.contains("port  1:"),
        "{one}"
    );
    let desc = ofctl_ok(m, "dump-ports-desc", &[]);
    for p in ["1(src)", "2(sink1)", "3(sink2)"] {
        assert!(desc.contains(p), "{p} in {desc}");
    }

    // del-flows, strict and not.
    ofctl_ok(m, "del-flows", &["--strict", "priority=10,in_port=2"]);
    let d = ofctl_ok(m, "dump-flows", &[]);
    assert!(!d.contains("in_port=2"), "{d}");
    // Not strict: a priority does not narrow it, the match does.
    ofctl_ok(
        m,
        "del-flows",
        &["--strict", "priority=31,arp,arp_tpa=10.0.0.1"],
    );
    assert!(ofctl_ok(m, "dump-flows", &[]).contains("arp_tpa"));
    ofctl_ok(m, "del-flows", &["arp"]);
    assert!(!ofctl_ok(m, "dump-flows", &[]).contains("arp_tpa"));
    ofctl_ok(m, "del-flows", &["table=1"]);
    let d = ofctl_ok(m, "dump-flows", &[]);
    assert!(!d.contains("table=1"), "{d}");
    ofctl_ok(m, "del-flows", &[]);
    let d = ofctl_ok(m, "dump-flows", &[]);
    assert!(!d.contains("priority"), "{d}");
    // With no rule, nothing reaches the sinks.
    let t = tx_of(&b.sw.ctl_ok(&["port-show"]).unwrap(), "sink2");
    std::thread::sleep(Duration::from_millis(200));
    assert!(tx_of(&b.sw.ctl_ok(&["port-show"]).unwrap(), "sink2") <= t + 32);

    // Refusals come back as the ERROR ovs-ofctl prints.
    for (args, why) in [
        (
            vec!["add-flow", "in_port=1,actions=FLOOD"],
            "OFPBAC_BAD_OUT_PORT",
        ),
        (
            vec!["add-flow", "in_port=1,actions=group:1"],
            "OFPBAC_BAD_OUT_GROUP",
        ),
        (
            vec!["add-flow", "mpls,mpls_label=3,actions=drop"],
            "OFPBMC_BAD_FIELD",
        ),
        (
            vec!["add-flow", "in_port=1,actions=write_actions(output:2)"],
            "OFPBIC_UNSUP_INST",
        ),
        (
            vec!["add-flow", "idle_timeout=5,in_port=1,actions=output:2"],
            "OFPFMFC_BAD_TIMEOUT",
        ),
        (
            vec!["add-meter", "meter=1,pktps,band=type=drop,rate=10"],
            "OFPMMFC_OUT_OF_METERS",
        ),
    ] {
        let (ok, out, err) = ofctl(m, args[0], &args[1..]);
        assert!(!ok, "{args:?} accepted: {out}");
        assert!(err.contains(why), "{args:?}: expected {why} in {err}");
    }
    assert!(!ofctl_ok(m, "dump-flows", &[]).contains("priority"));
    let mut sw = b.sw;
    sw.assert_alive();
    let (code, _, _) = sw.stop();
    assert_eq!(code, 0);
}

fn send(s: &mut UnixStream, m: &Message, xid: u32) {
    s.write_all(&m.encode(xid).unwrap()).unwrap();
}

/// Reads messages until one that is not a HELLO or ECHO_REQUEST.
fn recv(s: &mut UnixStream, f: &mut Framer) -> Option<(Header, Message)> {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = [0u8; 65536];
    loop {
        while let Some(raw) = f.next_message().unwrap() {
            let (h, m) = Message::decode(&raw).unwrap();
            if !matches!(m, Message::Hello(_) | Message::EchoRequest(_)) {
                return Some((h, m));
            }
        }
        let n = s.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        f.push(&buf[..n]);
    }
}

fn hello(mgmt: &Path) -> (UnixStream, Framer) {
    let mut s = UnixStream::connect(mgmt).unwrap();
    send(&mut s, &Message::Hello(Hello::for_versions(&[1, 4])), 1);
    (s, Framer::new(65535))
}

fn error_of(m: Option<(Header, Message)>) -> (u16, u16) {
    match m {
        Some((_, Message::Error(err))) => (err.typ, err.code),
        other => panic!("expected an ERROR, got {other:?}"),
    }
}

#[test]
fn the_channel_negotiates_echoes_barriers_and_honours_roles() {
    let b = start(130);
    // A peer without 1.3 gets HELLO_FAILED and is closed.
    let mut old = UnixStream::connect(&b.mgmt).unwrap();
    let mut hello10 = Message::Hello(Hello::default()).encode(5).unwrap();
    hello10[0] = 1;
    old.write_all(&hello10).unwrap();
    let mut f = Framer::new(65535);
    assert_eq!(
        error_of(recv(&mut old, &mut f)),
        (e::HELLO_FAILED, e::hello_failed::INCOMPATIBLE)
    );
    assert!(
        recv(&mut old, &mut f).is_none(),
        "closed after HELLO_FAILED"
    );

    let (mut s, mut f) = hello(&b.mgmt);
    send(&mut s, &Message::EchoRequest(b"ping".to_vec()), 2);
    let (h, m) = recv(&mut s, &mut f).unwrap();
    assert_eq!((h.xid, m), (2, Message::EchoReply(b"ping".to_vec())));
    send(&mut s, &Message::FeaturesRequest, 3);
    let Some((_, Message::FeaturesReply(fr))) = recv(&mut s, &mut f) else {
        panic!()
    };
    assert_eq!(fr.datapath_id, 0xa1);
    send(
        &mut s,
        &Message::SetConfig(SwitchConfig {
            flags: 0,
            miss_send_len: 200,
        }),
        4,
    );
    send(&mut s, &Message::GetConfigRequest, 5);
    let Some((_, Message::GetConfigReply(c))) = recv(&mut s, &mut f) else {
        panic!()
    };
    assert_eq!(c.miss_send_len, 200);
    let asynced = AsyncConfig {
        packet_in_mask: [1, 0],
        port_status_mask: [7, 0],
        flow_removed_mask: [0, 0],
    };
    send(&mut s, &Message::SetAsync(asynced.clone()), 6);
    send(&mut s, &Message::GetAsyncRequest, 7);
    assert_eq!(
        recv(&mut s, &mut f).unwrap().1,
        Message::GetAsyncReply(asynced)
    );

    // A FLOW_MOD then a BARRIER: by the reply every PMD forwards by it.
    let fm = FlowMod {
        command: consts::flow_mod_command::ADD,
        priority: 9,
        buffer_id: consts::NO_BUFFER,
        out_port: consts::port::ANY,
        out_group: consts::group::ANY,
        r#match: Match {
            fields: vec![Oxm::exact(Field::InPort, 1)],
        },
        instructions: vec![Instruction::ApplyActions(vec![Action::Output {
            port: 3,
            max_len: 0,
        }])],
        ..Default::default()
    };
    send(&mut s, &Message::FlowMod(fm.clone()), 8);
    send(&mut s, &Message::BarrierRequest, 9);
    let (h, m) = recv(&mut s, &mut f).unwrap();
    assert_eq!((h.xid, m), (9, Message::BarrierReply));
    let t = tx_of(&b.sw.ctl_ok(&["port-show"]).unwrap(), "sink2");
    b.sw.wait_ports(10, |v| tx_of(v, "sink2") > t + 1000);

    // Another connection becomes master: this one, slave, may not write.
    let (mut s2, mut f2) = hello(&b.mgmt);
    send(
        &mut s,
        &Message::RoleRequest(Role {
            role: role::SLAVE,
            generation_id: 1,
        }),
        10,
    );
    let Some((_, Message::RoleReply(r))) = recv(&mut s, &mut f) else {
        panic!()
    };
    assert_eq!(r.role, role::SLAVE);
    send(
        &mut s2,
        &Message::RoleRequest(Role {
            role: role::MASTER,
            generation_id: 2,
        }),
        11,
    );
    let Some((_, Message::RoleReply(r))) = recv(&mut s2, &mut f2) else {
        panic!()
    };
    assert_eq!((r.role, r.generation_id), (role::MASTER, 2));
    send(&mut s, &Message::FlowMod(fm.clone()), 12);
    assert_eq!(
        error_of(recv(&mut s, &mut f)),
        (e::BAD_REQUEST, e::bad_request::IS_SLAVE)
    );
    // A stale generation is refused.
    send(
        &mut s,
        &Message::RoleRequest(Role {
            role: role::MASTER,
            generation_id: 1,
        }),
        13,
    );
    assert_eq!(
        error_of(recv(&mut s, &mut f)),
        (e::ROLE_REQUEST_FAILED, e::role_request_failed::STALE)
    );
    // Unknown messages and undecodable ones get their ERROR; the
    // connection stays.
    let mut unknown = Message::BarrierRequest.encode(14).unwrap();
    unknown[1] = 99;
    s.write_all(&unknown).unwrap();
    assert_eq!(
        error_of(recv(&mut s, &mut f)),
        (e::BAD_REQUEST, e::bad_request::BAD_TYPE)
    );
    send(&mut s, &Message::EchoRequest(vec![]), 15);
    assert_eq!(recv(&mut s, &mut f).unwrap().0.xid, 15);
    drop((s, s2));
    let mut sw = b.sw;
    sw.assert_alive();
}

#[test]
fn silent_and_garbage_peers_delay_nobody() {
    let b = start(140);
    let silent: Vec<UnixStream> = (0..20)
        .map(|_| UnixStream::connect(&b.mgmt).unwrap())
        .collect();
    // Garbage: a length under the header's, and bytes after a good HELLO.
    let mut junk = UnixStream::connect(&b.mgmt).unwrap();
    junk.write_all(&[4, 0, 0, 2, 0, 0, 0, 0, 0xff, 0xff])
        .unwrap();
    let (mut after_hello, _) = hello(&b.mgmt);
    after_hello.write_all(&[0xde; 300]).unwrap();
    // A peer sending half a message and stopping.
    let mut half = UnixStream::connect(&b.mgmt).unwrap();
    half.write_all(&[4, 0, 0, 100, 0]).unwrap();
    for _ in 0..5 {
        let t0 = Instant::now();
        ok(&b.sw.ctl, &["version"]);
        assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
        let (mut s, mut f) = hello(&b.mgmt);
        let t0 = Instant::now();
        send(&mut s, &Message::EchoRequest(vec![1]), 3);
        assert_eq!(recv(&mut s, &mut f).unwrap().0.xid, 3);
        assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
    }
    // The garbage senders are dropped.
    for s in [&mut junk, &mut after_hello] {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut all = Vec::new();
        let _ = s.read_to_end(&mut all);
    }
    // The silent ones are dropped after their HELLO wait.
    std::thread::sleep(Duration::from_secs(6));
    for mut s in silent {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut all = Vec::new();
        assert!(s.read_to_end(&mut all).is_ok(), "closed by the switch");
    }
    let mut sw = b.sw;
    sw.assert_alive();
    let (code, _, err) = sw.stop();
    assert_eq!(code, 0);
    assert!(err.contains("dropped"), "{err}");
}

/// Waits until `file` contains every one of `want`.
fn wait_for_text(file: &Path, want: &[&str]) -> String {
    let t0 = Instant::now();
    loop {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        if want.iter().all(|w| text.contains(w)) {
            return text;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "{want:?} not in\n{text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn ovs_ofctl_monitor_hears_of_ports_added_and_deleted() {
    if !ovs_ofctl_or_skip("ovs_ofctl_monitor_hears_of_ports_added_and_deleted") {
        return;
    }
    let b = start(150);
    // What it prints goes to stdout or stderr depending on the build: both
    // into one file.
    let out = b._dir.path().join("monitor.out");
    let log = std::fs::File::create(&out).unwrap();
    // Line-buffered: its output goes to a file.
    let mut monitor = Command::new("stdbuf")
        .args(["-oL", "ovs-ofctl", "-O", "OpenFlow13", "monitor"])
        // Its own unixctl socket goes there, not to /var/run/openvswitch.
        .env("OVS_RUNDIR", b._dir.path())
        .arg(format!("unix:{}", b.mgmt.display()))
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    // Let it connect and the channel take note of the ports.
    std::thread::sleep(Duration::from_millis(1500));
    ok(
        &b.sw.ctl,
        &[
            "add-port",
            "sink3",
            "devargs=net_null155,no-rx=1",
            "ofport=9",
        ],
    );
    let text = wait_for_text(&out, &["OFPT_PORT_STATUS", "ADD: 9(sink3)"]);
    ok(&b.sw.ctl, &["del-port", "sink3"]);
    let text2 = wait_for_text(&out, &["DEL: 9(sink3)"]);
    let _ = monitor.kill();
    let _ = monitor.wait();
    assert!(
        !text.contains("sink1"),
        "no news about ports that did not change: {text2}"
    );
    let mut sw = b.sw;
    sw.assert_alive();
}
