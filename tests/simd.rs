//! The SIMD `ctl` commands on a running switch: every variant this CPU runs
//! can be chosen while traffic flows through the parser, the hash and the
//! classifier (EMC off, so every packet is looked up in the dpcls), and the
//! traffic goes on to the right port; a variant the CPU lacks is refused
//! with the reason; lookup priorities pick the variant as in OVS.
mod common;
use common::*;
use serde_json::Value;

fn megaflow_hits(sw: &Running) -> u64 {
    sw.ctl_ok(&["pmd-stats-show"]).unwrap()["pmds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["megaflow_hits"].as_u64().unwrap())
        .sum()
}

fn sink_tx(v: &Value) -> u64 {
    v.as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "sink")
        .map_or(0, |p| p["tx_packets"].as_u64().unwrap())
}

/// Waits for 10,000 more packets out of the sink, found in the dpcls.
fn flowing(sw: &Running) {
    let (tx, hits) = (
        sink_tx(&sw.ctl_ok(&["port-show"]).unwrap()),
        megaflow_hits(sw),
    );
    sw.wait_ports(20, |v| sink_tx(v) >= tx + 10_000);
    assert!(
        megaflow_hits(sw) >= hits + 10_000,
        "packets bypassed the dpcls"
    );
}

/// The variants of a `*-get` answer, as (name, available, in use).
fn variants(sock: &std::path::Path, get: &str) -> Vec<(String, bool, bool)> {
    ok_json(sock, &[get])["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap().to_owned(),
                v["available"].as_bool().unwrap(),
                v["in_use"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn in_use(sock: &std::path::Path, get: &str) -> String {
    let v = variants(sock, get);
    let used: Vec<_> = v.iter().filter(|x| x.2).collect();
    assert_eq!(used.len(), 1, "{get}: {v:?}");
    used[0].0.clone()
}

#[test]
fn simd_variants_switch_while_traffic_flows() {
    let dir = tempfile::tempdir().unwrap();
    let (input, sock) = (dir.path().join("in.pcap"), dir.path().join("ctl"));
    write_pcap(&input, &numbered_frames(256));
    let body = format!(
        "[[port]]\nname = \"src\"\ndevargs = \"net_pcap70,rx_pcap={},infinite_rx=1\"\n\
         [[port]]\nname = \"sink\"\ndevargs = \"net_null70,no-rx=1\"\n\
         [datapath]\nemc_insert_inv_prob = 0\n\
         flows = [\"priority=10,udp,nw_src=10.0.0.0/16,actions=output:2\", \"priority=0,actions=drop\"]\n",
        input.display()
    );
    let sw = Running::start(&config(dir.path(), &sock, &body), &sock);
    flowing(&sw);

    for (set, get) in [
        ("miniflow-parser-set", "miniflow-parser-get"),
        ("packet-hash-set", "packet-hash-get"),
    ] {
        for (name, available, _) in variants(&sock, get) {
            if available {
                ok(&sock, &[set, &name]);
                assert_eq!(in_use(&sock, get), name);
                flowing(&sw);
            } else {
                println!("SKIPPED: {set} {name}: this CPU lacks it");
                refused_for(&sock, &[set, &name], "lacks");
            }
        }
        refused_for(&sock, &[set, "sse9"], "no variant");
        refused_for(&sock, &[set], "usage");
    }

    // The lookup: the available variant with the highest priority runs.
    for (name, available, _) in variants(&sock, "subtable-lookup-info-get") {
        ok(&sock, &["subtable-lookup-prio-set", &name, "200"]);
        let used = in_use(&sock, "subtable-lookup-info-get");
        if available {
            assert_eq!(used, name);
            flowing(&sw);
        } else {
            println!("SKIPPED: lookup {name}: this CPU lacks it");
            assert_ne!(used, name);
        }
        ok(&sock, &["subtable-lookup-prio-set", &name, "0"]);
    }
    refused_for(
        &sock,
        &["subtable-lookup-prio-set", "avx2", "300"],
        "0 to 255",
    );
    let text = ok(&sock, &["subtable-lookup-info-get"]);
    assert!(text.contains("scalar (priority"), "{text}");
    flowing(&sw);
    let (code, _, err) = sw.stop();
    assert_eq!(code, 0, "{err}");
}
