//! Run-time changes beyond adding and removing ports: a port's MTU and queue
//! count, the PMD core set, and reloading the configuration file. Traffic on
//! ports left alone keeps flowing, refusals change nothing, nothing leaks.
mod common;
use common::*;

fn pmd_cores(sw: &Running) -> Vec<u64> {
    sw.ctl_ok(&["pmd-stats-show"]).unwrap()["pmds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["core"].as_u64().unwrap())
        .collect()
}

/// Waits until every named sink has sent `n` more packets than in `from`.
fn flowing(sw: &Running, sinks: &[&str], n: u64) {
    let from = sw.ctl_ok(&["port-show"]).unwrap();
    sw.wait_ports(20, |v| {
        sinks.iter().all(|s| tx_of(v, s) >= tx_of(&from, s) + n)
    });
}

#[test]
fn ports_cores_and_config_change_while_traffic_flows() {
    let dir = tempfile::tempdir().unwrap();
    let (input, sock) = (dir.path().join("in.pcap"), dir.path().join("ctl"));
    write_pcap(&input, &numbered_frames(64));
    let src = format!("net_pcap90,rx_pcap={},infinite_rx=1", input.display());
    let body = format!(
        "[[port]]\nname = \"src\"\ndevargs = \"{src}\"\n\
         [[port]]\nname = \"sinkA\"\ndevargs = \"net_null90,no-rx=1\"\n\
         [[port]]\nname = \"gen\"\ndevargs = \"net_null91\"\n\
         [[port]]\nname = \"sinkB\"\ndevargs = \"net_null92,no-rx=1\"\n\
         [datapath]\nflows = [\"in_port=1,actions=output:2\", \"in_port=3,actions=output:4\"]\n"
    );
    let cfg = config(dir.path(), &sock, &body);
    let header = std::fs::read_to_string(&cfg).unwrap().replace(&body, "");
    let sw = Running::start(&cfg, &sock);
    flowing(&sw, &["sinkA", "sinkB"], 100_000);

    // MTU: sinkB reopens with jumbo buffers from a pool of its own size;
    // sinkA never stops.
    ok_json(&sock, &["port-set", "sinkB", "mtu=9000"]);
    let p = sw.ctl_ok(&["port-show", "sinkB"]).unwrap();
    assert_eq!(p[0]["details"]["mtu"], 9000);
    assert_eq!(p[0]["ofport"], 4, "the OpenFlow number stays");
    let pools = sw.ctl_ok(&["mempool-show"]).unwrap();
    assert!(
        pools
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["mtu"] == 9000 && m["ports"].to_string().contains("sinkB")),
        "no jumbo pool for sinkB: {pools:#}"
    );
    flowing(&sw, &["sinkA", "sinkB"], 100_000);

    // Queue count: the generator gets two rx queues, both polled.
    ok_json(&sock, &["port-set", "gen", "rxq=2"]);
    let p = sw.ctl_ok(&["port-show", "gen"]).unwrap();
    assert_eq!(p[0]["details"]["rx_queues"], 2);
    let rxq = sw.ctl_ok(&["pmd-rxq-show"]).unwrap().to_string();
    assert_eq!(rxq.matches("\"gen\"").count(), 2, "{rxq}");
    flowing(&sw, &["sinkA", "sinkB"], 100_000);

    // Refusals: reasons given, nothing changed, traffic goes on.
    refused_for(&sock, &["port-set", "nosuch", "mtu=1500"], "no port named");
    refused_for(&sock, &["port-set", "sinkB", "mtu=big"], "not a number");
    refused_for(&sock, &["port-set", "sinkB", "rxq=0"], "rxq");
    refused_for(&sock, &["port-set", "sinkB", "colour=1"], "colour");
    refused_for(&sock, &["pmd-set", "cores=4096"], "not a core number");
    refused_for(&sock, &["pmd-set", "cores=1000"], "not available");
    refused_for(&sock, &["pmd-set", "cores=1,1"], "twice");
    let p = sw.ctl_ok(&["port-show", "sinkB"]).unwrap();
    assert_eq!(p[0]["details"]["mtu"], 9000);
    flowing(&sw, &["sinkA", "sinkB"], 100_000);

    // PMD core set: two PMDs, then one on another core; rules carry over.
    let ncpu = std::thread::available_parallelism().unwrap().get();
    let last = ncpu - 1;
    let both = format!("cores=0,{last}");
    if ncpu > 1 {
        ok_json(&sock, &["pmd-set", &both]);
        assert_eq!(pmd_cores(&sw), vec![0, last as u64]);
        flowing(&sw, &["sinkA", "sinkB"], 100_000);
    }
    ok_json(&sock, &["pmd-set", "cores=0"]);
    assert_eq!(pmd_cores(&sw), vec![0]);
    flowing(&sw, &["sinkA", "sinkB"], 100_000);

    // Reload a file that drops gen and sinkB, adds sinkC, sends src there,
    // and puts the PMD back on its configured core.
    let new_body = "[[port]]\nname = \"src\"\ndevargs = \"SRC\"\n\
         [[port]]\nname = \"sinkA\"\ndevargs = \"net_null90,no-rx=1\"\n\
         [[port]]\nname = \"sinkC\"\ndevargs = \"net_null93,no-rx=1\"\n\
         [datapath]\nflows = [\"in_port=1,actions=output:3\"]\n"
        .replace("SRC", &src);
    let file2 = dir.path().join("reload.toml");
    std::fs::write(&file2, format!("{header}{new_body}")).unwrap();
    let f2 = file2.to_str().unwrap();

    // First the refusals: a rule that does not parse, an EAL change.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        format!("{header}{}", new_body.replace("output:3", "output:x")),
    )
    .unwrap();
    let e = refused(&sock, &["reload", bad.to_str().unwrap()]);
    assert!(e.contains("datapath.flows[0]"), "{e}");
    std::fs::write(
        &bad,
        format!(
            "{}{new_body}",
            header.replace("socket_mem = \"128\"", "socket_mem = \"256\"")
        ),
    )
    .unwrap();
    let e = refused(&sock, &["reload", bad.to_str().unwrap()]);
    assert!(e.contains("eal") && e.contains("restart"), "{e}");
    let p = sw.ctl_ok(&["port-show"]).unwrap();
    assert_eq!(names(&p), ["gen", "sinkA", "sinkB", "src"]);
    flowing(&sw, &["sinkA", "sinkB"], 100_000);

    let r = ok_json(&sock, &["reload", f2]);
    assert_eq!(r["added"], serde_json::json!(["sinkC"]), "{r:#}");
    assert_eq!(r["removed"], serde_json::json!(["gen", "sinkB"]), "{r:#}");
    assert_eq!(r["unchanged"], serde_json::json!(["src", "sinkA"]), "{r:#}");
    assert_eq!(r["rules_replaced"], true);
    assert_eq!(r["pmd_cores"], serde_json::json!([last]));
    assert_eq!(pmd_cores(&sw), vec![last as u64]);
    let before = sw.ctl_ok(&["port-show"]).unwrap();
    flowing(&sw, &["sinkC"], 100_000);
    let after = sw.ctl_ok(&["port-show"]).unwrap();
    assert!(
        tx_of(&after, "sinkA") <= tx_of(&before, "sinkA") + 64,
        "sinkA still gets traffic after its rule went away"
    );
    let rules = sw.ctl_ok(&["dump-rules"]).unwrap().to_string();
    assert!(rules.contains("output:3"), "{rules}");
    // The same file again changes nothing.
    let r = ok_json(&sock, &["reload", f2]);
    assert_eq!(r["rules_replaced"], false);
    assert_eq!(r["changed"], serde_json::json!([]));

    let (code, out, err) = sw.stop();
    assert_eq!(code, 0, "{err}");
    assert_mempools_balanced(&out);
}
