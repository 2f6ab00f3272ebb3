//! vhost-user ports with dpdk-testpmd's virtio_user as the VM, in both
//! modes, and a VM that keeps going away while traffic flows.
mod common;
use common::*;
use serde_json::Value;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Each test runs a switch and a testpmd, each with a busy-polling thread:
/// on a two-core machine they take turns.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static M: Mutex<()> = Mutex::new(());
    M.lock().unwrap_or_else(|e| e.into_inner())
}

fn vhost_state(sw: &Running, port: &str) -> Value {
    let Some(v) = sw.ctl_ok(&["port-show", port]) else {
        let o = ctl(&sw.ctl, true, &["port-show", port]);
        let alive = std::process::Command::new("kill")
            .args(["-0", &sw.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        panic!(
            "port-show failed (switch alive: {alive}): {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    v[0]["details"]["vhost"].clone()
}

fn wait_for(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(
            t0.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn server_mode_guest_traffic_reaches_another_port() {
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let (sock, out, ctlp) = (
        dir.path().join("vm.sock"),
        dir.path().join("out.pcap"),
        dir.path().join("ctl"),
    );
    let body = format!(
        "[[port]]\nname = \"vm\"\ntype = \"vhost-user-server\"\npath = \"{}\"\nsocket_mode = \"0660\"\n\
         [[port]]\nname = \"wire\"\ndevargs = \"net_pcap50,tx_pcap={}\"\n\
         [[xconnect]]\nfrom = \"vm\"\nto = \"wire\"\n",
        sock.display(),
        out.display()
    );
    let cfg = config(dir.path(), &ctlp, &body);
    let sw = Running::start(&cfg, &ctlp);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777,
        0o660
    );

    let vm = Testpmd::start(
        "vm-tx",
        &[format!(
            "net_virtio_user0,path={},queues=1,queue_size=256",
            sock.display()
        )],
        &["--forward-mode=txonly", "--txpkts=64"],
    );
    wait_for(20, "guest traffic", || {
        vhost_state(&sw, "vm")["queues"][0][0].as_u64().unwrap_or(0) > 10_000
    });
    let st = vhost_state(&sw, "vm");
    assert_eq!(st["connected"], true);
    assert_eq!(st["mode"], "server");
    let names: Vec<&str> = st["feature_names"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x.as_str())
        .collect();
    assert!(names.contains(&"version_1"), "{st:#}");
    let tp = vm.stop(true);
    let (_, sent_by_vm) = testpmd_totals(&tp, 0);
    wait_for(10, "guest detached", || {
        vhost_state(&sw, "vm")["connected"] == false
    });

    let ports = sw.ctl_ok(&["port-show"]).unwrap();
    let from_vm = ports[0]["rx_packets"].as_u64().unwrap();
    // testpmd counts a packet as sent once it is in the virtqueue; what was
    // still there when it left (at most the ring, 256 here) never reached us.
    assert!(
        from_vm <= sent_by_vm && sent_by_vm - from_vm <= 256,
        "sent {sent_by_vm}, received {from_vm}"
    );
    assert_eq!(
        ports[1]["tx_packets"].as_u64().unwrap() + ports[1]["tx_dropped"].as_u64().unwrap(),
        from_vm
    );
    let pools = sw.ctl_ok(&["mempool-show"]).unwrap();
    assert_eq!(pools[0]["in_use"], pools[0]["baseline_in_use"]);
    let (code, stdout, _) = sw.stop();
    assert_eq!(code, 0);
    assert_mempools_balanced(&stdout);
    // testpmd's txonly frames: UDP from 198.18.0.1 to 198.18.0.2, 64 bytes.
    let got = read_pcap(&out);
    assert_eq!(got.len() as u64, ports[1]["tx_packets"].as_u64().unwrap());
    for f in got.iter().take(1000) {
        assert_eq!(f.len(), 64);
        assert_eq!(&f[26..34], &[198, 18, 0, 1, 198, 18, 0, 2]);
    }
}

#[test]
fn client_mode_delivers_a_pcap_to_the_guest_unchanged() {
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let (sock, input, out, ctlp) = (
        dir.path().join("vm.sock"),
        dir.path().join("in.pcap"),
        dir.path().join("vm-out.pcap"),
        dir.path().join("ctl"),
    );
    let frames = numbered_frames(500);
    write_pcap(&input, &frames);
    // The VM listens (server=1) and echoes nothing: it forwards what arrives
    // on the virtio port into a pcap of its own.
    let vm = Testpmd::start(
        "vm-rx",
        &[
            format!(
                "net_virtio_user0,path={},server=1,queues=1,queue_size=256",
                sock.display()
            ),
            format!("net_pcap60,tx_pcap={}", out.display()),
        ],
        &["--forward-mode=io"],
    );
    wait_for(20, "the VM's socket", || sock.exists());
    let body = format!(
        "[[port]]\nname = \"src\"\ndevargs = \"net_pcap61,rx_pcap={},infinite_rx=1\"\n\
         [[port]]\nname = \"vm\"\ntype = \"vhost-user-client\"\npath = \"{}\"\n\
         [[xconnect]]\nfrom = \"src\"\nto = \"vm\"\n",
        input.display(),
        sock.display()
    );
    let cfg = config(dir.path(), &ctlp, &body);
    let sw = Running::start(&cfg, &ctlp);
    wait_for(20, "packets into the guest", || {
        vhost_state(&sw, "vm")["queues"][0][1].as_u64().unwrap_or(0) > 20_000
    });
    let st = vhost_state(&sw, "vm");
    assert_eq!(st["mode"], "client");
    assert_eq!(st["connected"], true);
    // Stop feeding the guest, let it drain, then the counts agree exactly:
    // what we enqueued is what the guest's virtio port received.
    assert!(ctl(&ctlp, false, &["del-xconnect", "src"]).status.success());
    let to_guest = vhost_state(&sw, "vm")["queues"][0][1].as_u64().unwrap();
    // rte_vhost's own per-vring count agrees with ours exactly (its good
    // packets cover both directions; nothing comes back from this guest).
    let st = vhost_state(&sw, "vm");
    assert_eq!(st["vhost_good_packets"].as_u64(), Some(to_guest), "{st:#}");
    // The guest's virtio port counts what it took from the used ring. Seen
    // here: once traffic stops, testpmd's virtio_user may leave up to one
    // ring (256) of used entries unread, so allow that much and no more.
    std::thread::sleep(Duration::from_secs(2));
    let guest = vm.nic_rx(0).expect("testpmd prints NIC statistics");
    assert!(
        guest <= to_guest && to_guest - guest <= 256,
        "guest counted {guest}, we enqueued {to_guest}"
    );
    assert_eq!(
        vhost_state(&sw, "vm")["queues"][0][1].as_u64().unwrap(),
        to_guest,
        "nothing enqueued after del-xconnect"
    );
    vm.stop(true);
    wait_for(10, "guest detached", || {
        vhost_state(&sw, "vm")["connected"] == false
    });
    let (code, stdout, _) = sw.stop();
    assert_eq!(code, 0);
    assert_mempools_balanced(&stdout);
    let got = read_pcap(&out);
    assert!(
        got.len() > 1000,
        "the VM forwarded only {} packets",
        got.len()
    );
    for (i, g) in got.iter().enumerate() {
        let k = frame_number(g);
        assert_eq!(
            g, &frames[k],
            "packet {i} (frame {k}) changed on its way through"
        );
    }
}

#[test]
fn twenty_reconnects_during_traffic_leak_nothing_and_counting_continues() {
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let (sock, input, ctlp) = (
        dir.path().join("vm.sock"),
        dir.path().join("in.pcap"),
        dir.path().join("ctl"),
    );
    write_pcap(&input, &numbered_frames(64));
    // Traffic both ways: the source feeds the VM, and the VM (io forwarding
    // on its single port) sends everything back, which goes to the sink.
    let body = format!(
        "[[port]]\nname = \"src\"\ndevargs = \"net_pcap70,rx_pcap={},infinite_rx=1\"\n\
         [[port]]\nname = \"vm\"\ntype = \"vhost-user-client\"\npath = \"{}\"\n\
         [[port]]\nname = \"sink\"\ndevargs = \"net_null70,no-rx=1\"\n\
         [[xconnect]]\nfrom = \"src\"\nto = \"vm\"\n[[xconnect]]\nfrom = \"vm\"\nto = \"sink\"\n",
        input.display(),
        sock.display()
    );
    let cfg = config(dir.path(), &ctlp, &body);
    let sw = Running::start(&cfg, &ctlp);
    let cycles = 20;
    let mut last_src_rx = 0;
    let mut last_from_vm = 0;
    for i in 0..cycles {
        let vm = Testpmd::start(
            "vm-re",
            &[format!(
                "net_virtio_user0,path={},server=1,queues=1",
                sock.display()
            )],
            &["--forward-mode=io"],
        );
        let t0 = Instant::now();
        loop {
            let last = vhost_state(&sw, "vm");
            if last["connected"] == true && last["connects"].as_u64() == Some(i + 1) {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "cycle {i}: no reconnect; {last:#}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        wait_for(20, "traffic back from the guest", || {
            sw.ctl_ok(&["port-show", "vm"]).unwrap()[0]["rx_packets"]
                .as_u64()
                .unwrap()
                > last_from_vm + 1000
        });
        // Half the VMs shut down cleanly, half vanish; a vanished one leaves
        // its socket file, which the VM manager removes before the next start.
        vm.stop(i % 2 == 0);
        let _ = std::fs::remove_file(&sock);
        wait_for(20, "disconnect", || {
            vhost_state(&sw, "vm")["disconnects"].as_u64() == Some(i + 1)
        });
        let ports = sw.ctl_ok(&["port-show"]).unwrap();
        let (src_rx, from_vm) = (
            ports[0]["rx_packets"].as_u64().unwrap(),
            ports[1]["rx_packets"].as_u64().unwrap(),
        );
        assert!(
            src_rx > last_src_rx && from_vm > last_from_vm,
            "counters continue across reconnects"
        );
        last_src_rx = src_rx;
        last_from_vm = from_vm;
    }
    let st = vhost_state(&sw, "vm");
    assert_eq!(st["connects"].as_u64(), Some(cycles));
    assert_eq!(st["disconnects"].as_u64(), Some(cycles));
    let (code, stdout, stderr) = sw.stop();
    assert_eq!(code, 0, "{stderr}");
    assert_mempools_balanced(&stdout);
}

#[test]
fn a_vhost_port_added_and_removed_at_run_time_while_the_guest_sends() {
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let (sock, input, ctlp) = (
        dir.path().join("vm.sock"),
        dir.path().join("in.pcap"),
        dir.path().join("ctl"),
    );
    write_pcap(&input, &numbered_frames(64));
    let body = format!(
        "[[port]]\nname = \"src\"\ndevargs = \"net_pcap90,rx_pcap={},infinite_rx=1\"\n\
         [[port]]\nname = \"sink\"\ndevargs = \"net_null90,no-rx=1\"\n\
         [[xconnect]]\nfrom = \"src\"\nto = \"sink\"\n",
        input.display()
    );
    let cfg = config(dir.path(), &ctlp, &body);
    let sw = Running::start(&cfg, &ctlp);
    let add = ctl(
        &ctlp,
        false,
        &[
            "add-port",
            "vm",
            "type=vhost-user-server",
            &format!("path={}", sock.display()),
            "disable_features=mrg_rxbuf",
        ],
    );
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    assert!(ctl(&ctlp, false, &["add-xconnect", "vm", "sink"])
        .status
        .success());
    let vm = Testpmd::start(
        "vm-rt",
        &[format!(
            "net_virtio_user0,path={},queues=1,queue_size=256",
            sock.display()
        )],
        &["--forward-mode=txonly", "--txpkts=64"],
    );
    wait_for(20, "guest traffic", || {
        vhost_state(&sw, "vm")["queues"][0][0].as_u64().unwrap_or(0) > 10_000
    });
    let st = vhost_state(&sw, "vm");
    let names: Vec<&str> = st["feature_names"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x.as_str())
        .collect();
    assert!(
        !names.contains(&"mrg_rxbuf"),
        "a disabled feature was negotiated: {names:?}"
    );
    // A guest polling its queues asks not to be notified: no eventfd writes.
    // (rte_vhost's per-vring stats are live: its good-packet count moves.)
    assert!(st["vhost_good_packets"].as_u64().unwrap() > 0, "{st:#}");
    assert_eq!(st["guest_notifications"], 0, "{st:#}");

    // Remove the port under the guest's feet; the rest keeps forwarding.
    assert!(ctl(&ctlp, false, &["del-port", "vm"]).status.success());
    assert!(!sock.exists(), "socket removed with the port");
    let sink = sw.ctl_ok(&["port-show", "sink"]).unwrap()[0]["tx_packets"]
        .as_u64()
        .unwrap();
    sw.wait_ports(20, |v| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "sink")
            .unwrap()["tx_packets"]
            .as_u64()
            .unwrap()
            > sink + 100_000
    });
    drop(vm.stop(false));
    let (code, out, err) = sw.stop();
    assert_eq!(code, 0, "{err}");
    assert_mempools_balanced(&out);
}
