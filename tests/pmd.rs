//! PMD loop behaviour: naps when idle and not when busy, held output still
//! leaves, counters clear and add up.
mod common;
use common::*;
use std::time::Duration;

/// CPU seconds the PMD thread of `pid` has used (utime + stime).
fn pmd_cpu_seconds(pid: u32) -> f64 {
    let hz = 100.0; // USER_HZ on Linux
    for t in std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
    {
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        if comm.starts_with("pmd-c") {
            let stat = std::fs::read_to_string(t.path().join("stat")).unwrap();
            let after = stat.rsplit_once(')').unwrap().1;
            let f: Vec<&str> = after.split_whitespace().collect();
            // Fields 14 and 15 of stat; after the comm they are 12th and 13th.
            return (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) / hz;
        }
    }
    panic!("no PMD thread in {pid}");
}

fn idle_cpu_share(max_sleep_us: u32) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let (input, sock) = (dir.path().join("in.pcap"), dir.path().join("ctl"));
    write_pcap(&input, &numbered_frames(4));
    let body = format!(
        "[[port]]\nname = \"a\"\ndevargs = \"net_pcap100,rx_pcap={}\"\n\
         [[port]]\nname = \"b\"\ndevargs = \"net_null100,no-rx=1\"\n[[xconnect]]\nfrom = \"a\"\nto = \"b\"\n",
        input.display()
    );
    let cfg = config(dir.path(), &sock, &body);
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "[pmd]\n",
        &format!("[pmd]\nmax_sleep_us = {max_sleep_us}\n"),
    );
    std::fs::write(&cfg, text).unwrap();
    let sw = Running::start(&cfg, &sock);
    sw.wait_ports(10, |v| v[1]["tx_packets"].as_u64() == Some(4));
    let c0 = pmd_cpu_seconds(sw.child.id());
    std::thread::sleep(Duration::from_secs(2));
    let share = (pmd_cpu_seconds(sw.child.id()) - c0) / 2.0;
    let st = sw.ctl_ok(&["pmd-stats-show"]).unwrap();
    if max_sleep_us > 0 {
        assert!(st["pmds"][0]["sleep_us"].as_f64().unwrap() > 1e6, "{st:#}");
    }
    let (code, _, _) = sw.stop();
    assert_eq!(code, 0);
    share
}

#[test]
fn an_idle_pmd_naps_and_uses_little_cpu() {
    let spinning = idle_cpu_share(0);
    let napping = idle_cpu_share(500);
    eprintln!(
        "idle PMD CPU share: {:.0}% spinning, {:.0}% with max_sleep_us=500",
        spinning * 100.0,
        napping * 100.0
    );
    // Other tests' PMDs (and whatever else runs) may share the core, so the
    // spinning share is only compared with the napping one.
    assert!(spinning > 0.05, "a PMD without naps spins: {spinning}");
    assert!(
        napping < 0.3 && napping < spinning / 3.0,
        "an idle PMD with naps should mostly sleep: {napping} (spinning {spinning})"
    );
}

#[test]
fn a_busy_pmd_never_naps_and_counters_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let (input, sock) = (dir.path().join("in.pcap"), dir.path().join("ctl"));
    write_pcap(&input, &numbered_frames(64));
    let body = format!(
        "[[port]]\nname = \"src\"\ndevargs = \"net_pcap101,rx_pcap={},infinite_rx=1\"\n\
         [[port]]\nname = \"sink\"\ndevargs = \"net_null101,no-rx=1\"\n[[xconnect]]\nfrom = \"src\"\nto = \"sink\"\n",
        input.display()
    );
    let cfg = config(dir.path(), &sock, &body);
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("[pmd]\n", "[pmd]\nmax_sleep_us = 500\n");
    std::fs::write(&cfg, text).unwrap();
    let sw = Running::start(&cfg, &sock);
    sw.wait_ports(20, |v| v[1]["tx_packets"].as_u64().unwrap_or(0) > 1_000_000);
    assert!(ctl(&sock, false, &["pmd-stats-clear"]).status.success());
    std::thread::sleep(Duration::from_millis(500));
    let st = sw.ctl_ok(&["pmd-stats-show"]).unwrap();
    let perf = sw.ctl_ok(&["pmd-perf-show"]).unwrap();
    let p = &st["pmds"][0];
    let total = p["idle_cycles"].as_u64().unwrap()
        + p["processing_cycles"].as_u64().unwrap()
        + p["sleep_cycles"].as_u64().unwrap();
    assert!(
        p["sleep_cycles"].as_u64().unwrap() * 20 < total,
        "a loaded PMD napped: {p:#}"
    );
    // The histogram of packets per poll accounts for every packet since the clear
    // (a poll landing on either side of the snapshot aside).
    let hist = perf["pmds"][0]["packets_per_poll_histogram"]
        .as_array()
        .unwrap();
    let from_hist: u64 = hist
        .iter()
        .enumerate()
        .map(|(n, c)| n as u64 * c.as_u64().unwrap())
        .sum();
    let rx = perf["pmds"][0]["packets_received"].as_u64().unwrap();
    assert!(
        rx > 0 && from_hist.abs_diff(rx) <= 64,
        "histogram {from_hist} vs received {rx}"
    );
    let before_clear_like = rx;
    assert!(ctl(&sock, false, &["pmd-stats-clear"]).status.success());
    let after = sw.ctl_ok(&["pmd-stats-show"]).unwrap()["pmds"][0]["packets_received"]
        .as_u64()
        .unwrap();
    assert!(after < before_clear_like, "clear starts counting again");
    let (code, _, _) = sw.stop();
    assert_eq!(code, 0);
}

#[test]
fn held_output_still_leaves_and_settings_change_at_run_time() {
    let dir = tempfile::tempdir().unwrap();
    let (input, output, sock) = (
        dir.path().join("in.pcap"),
        dir.path().join("out.pcap"),
        dir.path().join("ctl"),
    );
    let frames = numbered_frames(5);
    write_pcap(&input, &frames);
    let body = format!(
        "[[port]]\nname = \"a\"\ndevargs = \"net_pcap102,rx_pcap={}\"\n\
         [[port]]\nname = \"b\"\ndevargs = \"net_pcap103,tx_pcap={}\"\n[[xconnect]]\nfrom = \"a\"\nto = \"b\"\n",
        input.display(),
        output.display()
    );
    let cfg = config(dir.path(), &sock, &body);
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("[pmd]\n", "[pmd]\ntx_flush_interval_us = 100000\n");
    std::fs::write(&cfg, text).unwrap();
    let sw = Running::start(&cfg, &sock);
    // Five packets never fill a batch: they leave when the 100 ms hold ends.
    sw.wait_ports(10, |v| v[1]["tx_packets"].as_u64() == Some(5));
    let o = ctl(
        &sock,
        false,
        &["pmd-set", "tx_flush_interval_us=0", "max_sleep_us=100"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let perf = sw.ctl_ok(&["pmd-perf-show"]).unwrap();
    assert_eq!(perf["max_sleep_us"], 100);
    let o = ctl(&sock, false, &["pmd-set", "max_sleep_us=999999"]);
    assert!(!o.status.success());
    let o = ctl(&sock, false, &["pmd-set", "colour=3"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown setting"));
    let (code, _, _) = sw.stop();
    assert_eq!(code, 0);
    assert_eq!(read_pcap(&output), frames);
}
