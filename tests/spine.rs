//! The spine end to end on real DPDK virtual devices: pcap in, pcap out,
//! byte for byte; no mbuf leaked; bad input refused with a reason.
mod common;
use common::*;
use std::time::Duration;

fn two_pcap_ports(
    dir: &std::path::Path,
    input: &std::path::Path,
    output: &std::path::Path,
) -> String {
    format!(
        "[[port]]\nname = \"in\"\ndevargs = \"net_pcap{a},rx_pcap={}\"\n\
         [[port]]\nname = \"out\"\ndevargs = \"net_pcap{b},tx_pcap={}\"\n\
         [[xconnect]]\nfrom = \"in\"\nto = \"out\"\n",
        input.display(),
        output.display(),
        a = dir.to_string_lossy().len() % 7,
        b = dir.to_string_lossy().len() % 7 + 10,
    )
}

#[test]
fn pcap_through_the_switch_arrives_byte_identical_and_in_order_without_leaks() {
    let dir = tempfile::tempdir().unwrap();
    let (input, output, ctl) = (
        dir.path().join("in.pcap"),
        dir.path().join("out.pcap"),
        dir.path().join("ctl"),
    );
    let frames = numbered_frames(5000);
    write_pcap(&input, &frames);
    let cfg = config(
        dir.path(),
        &ctl,
        &two_pcap_ports(dir.path(), &input, &output),
    );
    let sw = Running::start(&cfg, &ctl);
    let n = frames.len() as u64;
    let ports = sw.wait_ports(30, |v| v[1]["tx_packets"].as_u64() == Some(n));
    assert_eq!(ports[0]["rx_packets"].as_u64(), Some(n));
    assert_eq!(ports[1]["tx_dropped"].as_u64(), Some(0));

    // Traffic has stopped (the trace is finite): every mbuf is back.
    let pools = sw.ctl_ok(&["mempool-show"]).unwrap();
    for p in pools.as_array().unwrap() {
        assert_eq!(p["in_use"], p["baseline_in_use"], "mbufs leaked: {p:#}");
    }
    let stats = sw.ctl_ok(&["pmd-stats-show"]).unwrap();
    assert_eq!(stats["pmds"][0]["packets_received"].as_u64(), Some(n));
    assert_eq!(stats["pmds"][0]["packets_dropped"].as_u64(), Some(0));

    let (code, out, err) = sw.stop();
    assert_eq!(code, 0, "exit code; stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("final counters"), "{out}");
    let got = read_pcap(&output);
    assert_eq!(got.len(), frames.len());
    for (i, (g, f)) in got.iter().zip(&frames).enumerate() {
        assert_eq!(g, f, "packet {i} differs");
    }
}

#[test]
fn replayed_trace_flows_into_a_null_sink_and_counters_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let (input, ctlp) = (dir.path().join("in.pcap"), dir.path().join("ctl"));
    write_pcap(&input, &numbered_frames(64));
    let body = format!(
        "[[port]]\nname = \"src\"\ndevargs = \"net_pcap20,rx_pcap={},infinite_rx=1\"\n\
         [[port]]\nname = \"sink\"\ndevargs = \"net_null20,no-rx=1\"\n\
         [[xconnect]]\nfrom = \"src\"\nto = \"sink\"\n",
        input.display()
    );
    let cfg = config(dir.path(), &ctlp, &body);
    let sw = Running::start(&cfg, &ctlp);
    sw.wait_ports(20, |v| v[1]["tx_packets"].as_u64().unwrap_or(0) > 100_000);
    let text = ctl(&ctlp, false, &["pmd-stats-show"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("packets received:") && text.contains("avg cycles per packet"),
        "{text}"
    );
    let rxq = sw.ctl_ok(&["pmd-rxq-show"]).unwrap();
    assert_eq!(
        rxq["pmds"][0]["queues"].as_array().unwrap().len(),
        2,
        "{rxq:#}"
    );
    let (code, out, _) = sw.stop();
    assert_eq!(code, 0);
    // Final counters: everything received was sent or counted as dropped.
    let grab = |key: &str| -> u64 {
        out.lines()
            .find_map(|l| l.trim().strip_prefix(key))
            .and_then(|v| v.trim().parse().ok())
            .unwrap()
    };
    assert_eq!(
        grab("packets received:"),
        grab("packets sent:") + grab("packets dropped:"),
        "{out}"
    );
}

#[test]
fn bad_devargs_are_refused_with_the_device_named() {
    let dir = tempfile::tempdir().unwrap();
    let ctl = dir.path().join("ctl");
    let body = "[[port]]\nname = \"x\"\ndevargs = \"net_nosuchdriver0,foo=1\"\n";
    let cfg = config(dir.path(), &ctl, body);
    require_hugepages();
    let (code, _, err) = run_to_end(
        &["run", "-c", cfg.to_str().unwrap()],
        Duration::from_secs(60),
    );
    assert_ne!(code, 0);
    assert!(err.contains("net_nosuchdriver0"), "{err}");
    assert!(!ctl.exists(), "control socket left behind");
}

#[test]
fn an_unavailable_core_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ctl = dir.path().join("ctl");
    let cfg = config(
        dir.path(),
        &ctl,
        "[[port]]\nname = \"x\"\ndevargs = \"net_null30\"\n",
    );
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text = regex_free_replace_cores(&text, "[1000]");
    std::fs::write(&cfg, text).unwrap();
    let (code, _, err) = run_to_end(
        &["run", "-c", cfg.to_str().unwrap()],
        Duration::from_secs(30),
    );
    assert_eq!(code, 2, "a config error");
    assert!(err.contains("core 1000 is not available"), "{err}");
}

fn regex_free_replace_cores(text: &str, with: &str) -> String {
    text.lines()
        .map(|l| {
            if l.starts_with("cores = ") {
                format!("cores = {with}")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn malformed_configs_are_refused_with_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.toml");
    std::fs::write(
        &p,
        "[[port]]\nname = \"a\"\ndevargs = \"net_null0\"\n[pmd\ncores = [1]\n",
    )
    .unwrap();
    let (code, _, err) = run_to_end(&["run", "-c", p.to_str().unwrap()], Duration::from_secs(10));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("line 4"), "{err}");

    std::fs::write(
        &p,
        "[[port]]\nname = \"a\"\ndevargs = \"net_null0\"\nrxq = 0\n",
    )
    .unwrap();
    let (code, _, err) = run_to_end(
        &["check-config", p.to_str().unwrap()],
        Duration::from_secs(10),
    );
    assert_eq!(code, 2);
    assert!(err.contains("port[0].rxq"), "{err}");

    // A rule `run` would refuse is refused by check-config too, with the
    // same place and reason.
    std::fs::write(
        &p,
        "[[port]]\nname = \"a\"\ndevargs = \"net_null0\"\n\
         [datapath]\nflows = [\"ip,actions=set_field:6->nw_proto,output:1\"]\n",
    )
    .unwrap();
    let (code, _, err) = run_to_end(
        &["check-config", p.to_str().unwrap()],
        Duration::from_secs(10),
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("datapath.flows[0]") && err.contains("nw_proto"),
        "{err}"
    );

    let (code, _, err) = run_to_end(
        &["run", "-c", "/nonexistent/x.toml"],
        Duration::from_secs(10),
    );
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
}

#[test]
fn ctl_refuses_unknown_commands_and_reports_a_missing_switch() {
    let dir = tempfile::tempdir().unwrap();
    let o = ctl(&dir.path().join("nobody"), false, &["pmd-stats-show"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("is pmdswitch running"));

    let (input, ctlp) = (dir.path().join("in.pcap"), dir.path().join("ctl"));
    write_pcap(&input, &numbered_frames(4));
    let body = format!(
        "[[port]]\nname = \"a\"\ndevargs = \"net_pcap40,rx_pcap={}\"\n[[port]]\nname = \"b\"\ndevargs = \"net_null40,no-rx=1\"\n",
        input.display()
    );
    let cfg = config(dir.path(), &ctlp, &body);
    let sw = Running::start(&cfg, &ctlp);
    let o = ctl(&ctlp, false, &["frobnicate"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown command"));
    let o = ctl(&ctlp, false, &["port-show", "nope"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("no port named"));
    // Packets from a port with no cross-connect are dropped and counted.
    let ports = sw.wait_ports(10, |v| v[0]["rx_packets"].as_u64() == Some(4));
    assert_eq!(ports[1]["tx_packets"].as_u64(), Some(0));
    let st = sw.ctl_ok(&["pmd-stats-show"]).unwrap();
    assert_eq!(st["pmds"][0]["drops"]["no_output"].as_u64(), Some(4));
    // The socket is private by default.
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&ctlp).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let (code, _, _) = sw.stop();
    assert_eq!(code, 0);
    assert!(!ctlp.exists(), "control socket removed at exit");
}
