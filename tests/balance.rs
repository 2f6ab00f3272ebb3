//! Rx queue placement on two PMDs: policies, pinning, rebalancing by
//! measured load, and auto load balance moving queues under traffic.
mod common;
use common::*;
use serde_json::Value;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Two PMDs take both cores: these tests take turns.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static M: Mutex<()> = Mutex::new(());
    M.lock().unwrap_or_else(|e| e.into_inner())
}

/// Two busy sources and two idle ports, listed so that round-robin puts both
/// busy queues on the first PMD.
fn start(
    dir: &std::path::Path,
    pmd_extra: &str,
    busy1_extra: &str,
) -> (Running, std::path::PathBuf) {
    let (input, sock) = (dir.join("in.pcap"), dir.join("ctl"));
    write_pcap(&input, &numbered_frames(64));
    let body = format!(
        "[[port]]\nname = \"busy1\"\ndevargs = \"net_pcap110,rx_pcap={i},infinite_rx=1\"\n{busy1_extra}\n\
         [[port]]\nname = \"idle1\"\ndevargs = \"net_null110,no-rx=1\"\n\
         [[port]]\nname = \"busy2\"\ndevargs = \"net_pcap111,rx_pcap={i},infinite_rx=1\"\n\
         [[port]]\nname = \"idle2\"\ndevargs = \"net_null111,no-rx=1\"\n\
         [[xconnect]]\nfrom = \"busy1\"\nto = \"idle1\"\n[[xconnect]]\nfrom = \"busy2\"\nto = \"idle2\"\n\
         [datapath]\nflows = [{udp1:?}, {udp2:?}]\n",
        // Above the cross-connects: the traffic (UDP) goes through
        // extraction and the caches, not the in_port-only simple match.
        udp1 = "priority=40000,udp,in_port=1,nw_dst=10.1.0.1,actions=output:2",
        udp2 = "priority=40000,udp,in_port=3,nw_dst=10.1.0.1,actions=output:4",
        i = input.display()
    );
    let cfg = config(dir, &sock, &body);
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text = text
        .lines()
        .map(|l| {
            if l.starts_with("cores = ") {
                format!("cores = [0, 1]\n{pmd_extra}")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&cfg, text).unwrap();
    (Running::start(&cfg, &sock), sock)
}

/// PMD index polling `port`'s queue 0.
fn pmd_of(rxq: &Value, port: &str) -> usize {
    rxq["pmds"]
        .as_array()
        .unwrap()
        .iter()
        .position(|p| {
            p["queues"]
                .as_array()
                .unwrap()
                .iter()
                .any(|q| q["port"] == port)
        })
        .unwrap()
}

#[test]
fn rebalancing_by_measured_load_splits_the_busy_queues() {
    let _g = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let (sw, _sock) = start(dir.path(), "rxq_assign = \"group\"", "");
    let rxq = sw.ctl_ok(&["pmd-rxq-show"]).unwrap();
    assert_eq!(
        pmd_of(&rxq, "busy1"),
        pmd_of(&rxq, "busy2"),
        "unmeasured, the busy queues start together: {rxq:#}"
    );
    std::thread::sleep(Duration::from_secs(3));
    let r = sw.ctl_ok(&["pmd-rxq-rebalance"]).unwrap();
    assert!(r["moved"].as_u64().unwrap() >= 1, "{r:#}");
    assert!(r["variance_after"].as_f64().unwrap() < r["variance_before"].as_f64().unwrap());
    let rxq = sw.ctl_ok(&["pmd-rxq-show"]).unwrap();
    assert_ne!(pmd_of(&rxq, "busy1"), pmd_of(&rxq, "busy2"), "{rxq:#}");
    // Both sources keep flowing after the move.
    let sent = |v: &Value, n: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == n)
            .unwrap()["tx_packets"]
            .as_u64()
            .unwrap()
    };
    let before = sw.ctl_ok(&["port-show"]).unwrap();
    sw.wait_ports(20, |v| {
        sent(v, "idle1") > sent(&before, "idle1") + 100_000
            && sent(v, "idle2") > sent(&before, "idle2") + 100_000
    });
    let st = sw.ctl_ok(&["pmd-stats-show"]).unwrap();
    let hits = |k: &str| -> u64 {
        st["pmds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p[k].as_u64().unwrap())
            .sum()
    };
    assert_eq!(hits("simple_match_hits"), 0, "{st}");
    assert!(hits("emc_hits") + hits("megaflow_hits") > 0, "{st}");
    let (code, out, _) = sw.stop();
    assert_eq!(code, 0);
    assert_mempools_balanced(&out);
}

#[test]
fn auto_load_balance_moves_a_queue_off_the_overloaded_pmd() {
    let _g = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let (sw, _sock) = start(
        dir.path(),
        "rxq_assign = \"roundrobin\"\nauto_lb = true\nauto_lb_interval_s = 2\nauto_lb_load_threshold = 50",
        "",
    );
    let rxq = sw.ctl_ok(&["pmd-rxq-show"]).unwrap();
    assert_eq!(pmd_of(&rxq, "busy1"), pmd_of(&rxq, "busy2"));
    let t0 = Instant::now();
    let rxq = loop {
        let v = sw.ctl_ok(&["pmd-rxq-show"]).unwrap();
        if v["auto_lb_runs"].as_u64().unwrap() > 0 {
            break v;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "auto load balance never ran: {v:#}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_ne!(pmd_of(&rxq, "busy1"), pmd_of(&rxq, "busy2"), "{rxq:#}");
    let (code, out, _) = sw.stop();
    assert_eq!(code, 0);
    assert_mempools_balanced(&out);
}

#[test]
fn a_pinned_queue_stays_put_and_isolates_its_pmd() {
    let _g = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let (sw, _sock) = start(
        dir.path(),
        "rxq_assign = \"group\"",
        "rxq_affinity = \"0:0\"",
    );
    std::thread::sleep(Duration::from_secs(2));
    sw.ctl_ok(&["pmd-rxq-rebalance"]).unwrap();
    let rxq = sw.ctl_ok(&["pmd-rxq-show"]).unwrap();
    let p0 = &rxq["pmds"][0]["queues"];
    assert_eq!(
        p0.as_array().unwrap().len(),
        1,
        "core 0's PMD polls only its pinned queue: {rxq:#}"
    );
    assert_eq!(p0[0]["port"], "busy1");
    assert_eq!(p0[0]["pinned"], true);
    let (code, out, _) = sw.stop();
    assert_eq!(code, 0);
    assert_mempools_balanced(&out);
}
