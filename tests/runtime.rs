//! Ports and forwarding changed while traffic flows: nothing leaks, nothing
//! stops on the ports left alone, and bad requests change nothing.
mod common;
use common::*;
use std::time::{Duration, Instant};

#[test]
fn ports_come_and_go_while_traffic_flows() {
    let dir = tempfile::tempdir().unwrap();
    let (input, sock) = (dir.path().join("in.pcap"), dir.path().join("ctl"));
    write_pcap(&input, &numbered_frames(64));
    let body = format!(
        "[[port]]\nname = \"src\"\ndevargs = \"net_pcap80,rx_pcap={},infinite_rx=1\"\n\
         [[port]]\nname = \"sink1\"\ndevargs = \"net_null80,no-rx=1\"\n\
         [[xconnect]]\nfrom = \"src\"\nto = \"sink1\"\n",
        input.display()
    );
    let cfg = config(dir.path(), &sock, &body);
    let sw = Running::start(&cfg, &sock);
    sw.wait_ports(20, |v| tx_of(v, "sink1") > 100_000);

    ok(
        &sock,
        &[
            "add-port",
            "sink2",
            "devargs=net_null81,no-rx=1",
            "ofport=7",
        ],
    );
    let ports = sw.ctl_ok(&["port-show", "sink2"]).unwrap();
    assert_eq!(ports[0]["ofport"], 7);
    ok(&sock, &["add-xconnect", "src", "sink2"]);
    let before = sw.ctl_ok(&["port-show"]).unwrap();
    sw.wait_ports(20, |v| tx_of(v, "sink2") > 100_000);
    let after = sw.ctl_ok(&["port-show"]).unwrap();
    // sink1 got nothing new once the cross-connect moved (a batch in flight at most).
    assert!(tx_of(&after, "sink1") <= tx_of(&before, "sink1") + 32);

    ok(&sock, &["del-port", "sink1"]);
    let t = sw.ctl_ok(&["port-show"]).unwrap();
    assert!(t.as_array().unwrap().iter().all(|p| p["name"] != "sink1"));
    let s2 = tx_of(&t, "sink2");
    sw.wait_ports(20, |v| tx_of(v, "sink2") > s2 + 100_000);

    // Refusals name the reason and change nothing.
    assert!(refused(&sock, &["add-port", "bad", "devargs=net_nosuch0"]).contains("net_nosuch0"));
    assert!(refused(&sock, &["add-port", "sink2", "devargs=net_null82"]).contains("exists"));
    assert!(refused(&sock, &["add-port", "x", "rxq=0", "devargs=net_null83"]).contains("rxq"));
    assert!(refused(&sock, &["add-port", "x", "color=blue"]).contains("color"));
    assert!(refused(&sock, &["del-port", "sink1"]).contains("no port named"));
    assert!(refused(&sock, &["add-xconnect", "src", "nowhere"]).contains("no port named"));
    // A removed slot is reused, with counters starting from zero.
    ok(&sock, &["add-port", "sink3", "devargs=net_null84,no-rx=1"]);
    let t = sw.ctl_ok(&["port-show", "sink3"]).unwrap();
    assert_eq!(t[0]["index"], 1);
    assert_eq!(t[0]["tx_packets"], 0);
    let s2 = tx_of(&sw.ctl_ok(&["port-show"]).unwrap(), "sink2");
    let t0 = Instant::now();
    while tx_of(&sw.ctl_ok(&["port-show"]).unwrap(), "sink2") < s2 + 100_000 {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "traffic stopped after refused changes"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let (code, out, err) = sw.stop();
    assert_eq!(code, 0, "{err}");
    assert_mempools_balanced(&out);
}

/// A VM's first frames (DHCP, ARP) come the moment its port opens: a port
/// added at run time must not have its queues polled before every PMD
/// knows its OpenFlow number, or those frames meet `in_port=0` and drop.
#[test]
fn a_port_added_at_run_time_forwards_its_first_packets() {
    let dir = tempfile::tempdir().unwrap();
    let (input, sock) = (dir.path().join("in.pcap"), dir.path().join("ctl"));
    let n = 500;
    write_pcap(&input, &numbered_frames(n));
    let body = "[[port]]\nname = \"sink\"\ndevargs = \"net_null85,no-rx=1\"\n\
                [datapath]\nflows = [\"in_port=2,actions=output:1\"]\n";
    let cfg = config(dir.path(), &sock, body);
    let sw = Running::start(&cfg, &sock);
    let devargs = format!("devargs=net_pcap85,rx_pcap={}", input.display());
    ok(&sock, &["add-port", "vm", &devargs, "ofport=2"]);
    let t0 = Instant::now();
    let mut v = sw.ctl_ok(&["port-show"]).unwrap();
    while tx_of(&v, "sink") < n as u64 && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
        v = sw.ctl_ok(&["port-show"]).unwrap();
    }
    let stats = sw.ctl_ok(&["pmd-stats-show"]).unwrap();
    assert_eq!(
        tx_of(&v, "sink"),
        n as u64,
        "the new port's first packets were lost; pmd-stats: {stats:#}"
    );
    let (code, out, err) = sw.stop();
    assert_eq!(code, 0, "{err}");
    assert_mempools_balanced(&out);
}
