//! Output MTU, as OVS-DPDK enforces it: a frame longer than the output
//! port's MTU + 18 (Ethernet header and CRC) is dropped and counted, on the
//! cross-connect path and the rule path alike, whatever grew it (a pushed
//! tag) and whatever MTU the input port has.
mod common;
use common::*;
use serde_json::Value;
use std::time::{Duration, Instant};

fn frame(len: usize) -> Vec<u8> {
    let mut f = numbered_frames(1).remove(0);
    f.resize(len, 0xab);
    f[16..18].copy_from_slice(&((len - 14) as u16).to_be_bytes());
    f
}

fn port<'a>(v: &'a Value, name: &str) -> &'a Value {
    v.as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap()
}

#[test]
fn frames_over_the_output_mtu_are_dropped_and_counted_on_every_path() {
    let dir = tempfile::tempdir().unwrap();
    let sizes = [60, 1514, 1515, 1518, 1519, 1600, 9014];
    let frames: Vec<Vec<u8>> = sizes.iter().map(|n| frame(*n)).collect();
    let (in1, in2) = (dir.path().join("in1.pcap"), dir.path().join("in2.pcap"));
    write_pcap(&in1, &frames);
    write_pcap(&in2, &frames);
    let (out1, out2) = (dir.path().join("out1.pcap"), dir.path().join("out2.pcap"));
    let sock = dir.path().join("ctl");
    // in1 -> x: a cross-connect (no rule reads the packet); in2 -> y: a
    // rule that pushes a tag (4 bytes more).
    let body = format!(
        "[[port]]\nname = \"in1\"\ndevargs = \"net_pcap90,rx_pcap={}\"\nmtu = 9000\n\
         [[port]]\nname = \"in2\"\ndevargs = \"net_pcap91,rx_pcap={}\"\nmtu = 9000\n\
         [[port]]\nname = \"x\"\ndevargs = \"net_pcap92,tx_pcap={}\"\n\
         [[port]]\nname = \"y\"\ndevargs = \"net_pcap93,tx_pcap={}\"\n\
         [[xconnect]]\nfrom = \"in1\"\nto = \"x\"\n\
         [datapath]\nflows = [\"in_port=2,actions=push_vlan:0x8100,output:4\"]\n",
        in1.display(),
        in2.display(),
        out1.display(),
        out2.display()
    );
    let cfg = config(dir.path(), &sock, &body);
    let sw = Running::start(&cfg, &sock);
    let n = sizes.len() as u64;
    let t0 = Instant::now();
    let done = |v: &Value| {
        ["in1", "in2"]
            .iter()
            .all(|p| port(v, p)["rx_packets"].as_u64() == Some(n))
    };
    while !sw.ctl_ok(&["port-show"]).is_some_and(|v| done(&v)) {
        assert!(t0.elapsed() < Duration::from_secs(10), "input not received");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let ports = sw.ctl_ok(&["port-show"]).unwrap();
    let stats = sw.ctl_ok(&["pmd-stats-show"]).unwrap();
    let (code, out, err) = sw.stop();
    assert_eq!(code, 0, "{err}");
    assert_mempools_balanced(&out);

    // MTU 1500: frames up to 1518 bytes (CRC not counted) leave.
    let lens = |f| read_pcap(f).iter().map(Vec::len).collect::<Vec<_>>();
    assert_eq!(lens(&out1), vec![60, 1514, 1515, 1518], "cross-connect");
    assert_eq!(lens(&out2), vec![64, 1518], "push_vlan then output");
    assert_eq!(port(&ports, "x")["tx_mtu_dropped"], 3, "{ports:#}");
    assert_eq!(port(&ports, "y")["tx_mtu_dropped"], 5, "{ports:#}");
    assert_eq!(port(&ports, "x")["tx_dropped"], 3, "{ports:#}");
    let drops: u64 = stats["pmds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["drops"]["mtu_exceeded"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(drops, 8, "{stats:#}");
}
