//! Observability: packet capture read back by tshark, the Prometheus
//! endpoint, and the log level changed at run time.
mod common;
use common::*;
use std::io::{Read, Write};
use std::process::Command;

fn start(dir: &std::path::Path, extra_control: &str) -> (Running, std::path::PathBuf) {
    let (input, sock) = (dir.join("in.pcap"), dir.join("ctl"));
    write_pcap(&input, &numbered_frames(64));
    let body = format!(
        "[[port]]\nname = \"src\"\ndevargs = \"net_pcap120,rx_pcap={},infinite_rx=1\"\n\
         [[port]]\nname = \"sink\"\ndevargs = \"net_null120,no-rx=1\"\n[[xconnect]]\nfrom = \"src\"\nto = \"sink\"\n",
        input.display()
    );
    let cfg = config(dir, &sock, &body);
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("[control]\n", &format!("[control]\n{extra_control}\n"));
    std::fs::write(&cfg, text).unwrap();
    (Running::start(&cfg, &sock), sock)
}

#[test]
fn a_capture_of_the_fast_path_reads_back_in_tshark() {
    let dir = tempfile::tempdir().unwrap();
    let (sw, sock) = start(dir.path(), "");
    let frames = numbered_frames(64);
    for (dir_name, port) in [("rx", "src"), ("tx", "sink")] {
        let file = dir.path().join(format!("{dir_name}.pcap"));
        let o = ctl(
            &sock,
            false,
            &[
                "capture",
                port,
                "--count",
                "200",
                "--file",
                file.to_str().unwrap(),
                "--dir",
                dir_name,
            ],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stdout).contains("200 of 200 written"));
        // Our reader: every captured packet is one of the trace's frames, whole.
        let got = read_pcap(&file);
        assert_eq!(got.len(), 200);
        for g in &got {
            assert_eq!(g, &frames[frame_number(g)]);
        }
        // tshark agrees on the count and dissects the frames as UDP.
        let t = Command::new("tshark")
            .args(["-r", file.to_str().unwrap(), "-T", "fields", "-e", "udp.srcport"])
            .output()
            .expect("tshark (Debian package tshark) must be installed; scripts/setup-host.sh installs it");
        assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
        let lines: Vec<_> = String::from_utf8_lossy(&t.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(lines.len(), 200);
        assert!(
            lines.iter().all(|l| !l.is_empty()),
            "tshark saw non-UDP frames"
        );
    }
    // Refusals.
    let o = ctl(
        &sock,
        false,
        &["capture", "nope", "--count", "1", "--file", "/tmp/x.pcap"],
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("no port named"));
    let o = ctl(
        &sock,
        false,
        &[
            "capture",
            "src",
            "--count",
            "1",
            "--file",
            "/tmp/x.pcap",
            "--dir",
            "sideways",
        ],
    );
    assert!(!o.status.success());
    let (code, _, _) = sw.stop();
    assert_eq!(code, 0);
}

#[test]
fn metrics_endpoint_and_log_level() {
    let dir = tempfile::tempdir().unwrap();
    // Port 0: the OS picks; the switch prints where it listens.
    let (sw, sock) = start(dir.path(), "metrics = \"127.0.0.1:0\"");
    sw.wait_ports(20, |v| v[1]["tx_packets"].as_u64().unwrap_or(0) > 10_000);
    let out = std::fs::read_to_string(sw.log_path("stdout")).unwrap();
    let addr = out
        .lines()
        .find_map(|l| l.strip_prefix("metrics on http://"))
        .unwrap()
        .trim_end_matches("/metrics")
        .to_owned();
    let mut c = std::net::TcpStream::connect(&addr).unwrap();
    c.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut body = String::new();
    c.read_to_string(&mut body).unwrap();
    assert!(body.starts_with("HTTP/1.1 200 OK"), "{body}");
    let tx: f64 = body
        .lines()
        .find_map(|l| l.strip_prefix("pmdswitch_port_tx_packets_total{port=\"sink\"} "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(tx > 10_000.0, "{body}");
    assert!(body.contains("pmdswitch_pmd_dropped_total{core="), "{body}");
    assert!(body.contains("# TYPE pmdswitch_mempool_in_use gauge"));

    assert!(ctl(&sock, false, &["log-level", "debug"]).status.success());
    let o = ctl(&sock, false, &["log-level", "no[such"]);
    assert!(!o.status.success());
    let (code, _, _) = sw.stop();
    assert_eq!(code, 0);
}

#[test]
fn stage_cycles_and_classifier_subtables_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (input, sock) = (dir.path().join("in.pcap"), dir.path().join("ctl"));
    // Sources 10.0.0.x and 10.0.1.x: two rules, two megaflow masks.
    write_pcap(&input, &numbered_frames(512));
    // Two masks: a /24 source prefix, and the source port under a /16.
    let body = format!(
        "[[port]]\nname = \"src\"\ndevargs = \"net_pcap121,rx_pcap={},infinite_rx=1\"\n\
         [[port]]\nname = \"sink\"\ndevargs = \"net_null121,no-rx=1\"\n\
         [datapath]\nflows = [\"priority=10,udp,nw_src=10.0.0.0/24,actions=output:2\", \
         \"priority=5,udp,nw_src=10.0.0.0/16,tp_src=0,actions=output:2\", \"priority=1,actions=output:2\"]\n",
        input.display()
    );
    let cfg = config(dir.path(), &sock, &body);
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("[pmd]\n", "[pmd]\nstage_cycles = true\n");
    std::fs::write(&cfg, text).unwrap();
    let sw = Running::start(&cfg, &sock);
    sw.wait_ports(20, |v| v[1]["tx_packets"].as_u64().unwrap_or(0) > 10_000);
    let perf = ok_json(&sock, &["pmd-perf-show"]);
    let pmd = &perf["pmds"][0];
    let stage = |s: &str| pmd["cycles_per_packet_by_stage"][s].as_f64().unwrap();
    // Every packet is extracted and looked up; the simple path cannot take
    // L4 rules; the tx flush is timed too.
    for s in ["extract", "emc", "actions", "tx"] {
        assert!(stage(s) > 0.0, "{s}: {pmd}");
    }
    assert!(pmd["subtables"].as_array().unwrap().len() >= 2, "{pmd}");
    let text = ok(&sock, &["dump-flows", "--subtables"]);
    assert!(text.contains("subtables"), "{text}");
    assert!(text.contains("nw_src/255.255.255.0"), "{text}");
    // Off again: the stages stop counting.
    ok(&sock, &["pmd-set", "stage_cycles=0"]);
    ok(&sock, &["pmd-stats-clear"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let perf = ok_json(&sock, &["pmd-perf-show"]);
    assert_eq!(
        perf["pmds"][0]["cycles_per_packet_by_stage"],
        serde_json::json!({})
    );
    refused_for(&sock, &["pmd-set", "stage_cycles=2"], "0 or 1");
    let (code, _, _) = sw.stop();
    assert_eq!(code, 0);
}
