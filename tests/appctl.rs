//! `ovs-appctl` drives pmdswitch as it drives ovs-vswitchd: Debian's own
//! `ovs-appctl`, finding the switch through `OVS_RUNDIR`'s pidfile, gets
//! answers shaped like OVS's, parsed by the same awk the bench scripts run
//! on OVS.
mod common;
use common::*;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn appctl_available() -> bool {
    if Command::new("ovs-appctl").arg("--version").output().is_ok() {
        return true;
    }
    assert!(
        skip_ovs_asked(),
        "ovs-appctl is missing: scripts/setup-host.sh installs openvswitch-common"
    );
    skipped("PMDSWITCH_SKIP_OVS=1 and no ovs-appctl");
    false
}

/// `ovs-appctl ARGS` with `OVS_RUNDIR=rundir`: (exit code, stdout, stderr).
fn appctl(rundir: &Path, args: &[&str]) -> (i32, String, String) {
    let o = Command::new("ovs-appctl")
        .env("OVS_RUNDIR", rundir)
        .args(["--timeout=10"])
        .args(args)
        .output()
        .expect("running ovs-appctl");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn appctl_ok(rundir: &Path, args: &[&str]) -> String {
    let (rc, out, err) = appctl(rundir, args);
    assert_eq!(rc, 0, "ovs-appctl {args:?} failed:\n{out}\n{err}");
    out
}

/// The awk `scripts/lib/ovs-dpdk.sh` reads OVS's pmd-stats-show with.
fn ovs_pmd_field(text: &str, field: &str) -> String {
    let o = Command::new("awk")
        .args([
            "-v",
            &format!("f={field}"),
            r#"/^pmd thread/ { pmd = 1; next }
               /^main thread/ { pmd = 0; next }
               pmd { line = $0; sub(/^ +/, "", line)
                     if (index(line, f ":") == 1) { sub(/^[^:]*: */, "", line); split(line, v, " "); print v[1]; exit } }"#,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(text.as_bytes())?;
            c.wait_with_output()
        })
        .expect("running awk");
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

fn start(dir: &Path, rundir: &Path) -> (Running, std::path::PathBuf) {
    let (input, sock) = (dir.join("in.pcap"), dir.join("ctl"));
    write_pcap(&input, &numbered_frames(64));
    let body = format!(
        "[[port]]\nname = \"src\"\ndevargs = \"net_pcap130,rx_pcap={},infinite_rx=1\"\n\
         [[port]]\nname = \"sink\"\ndevargs = \"net_null130,no-rx=1\"\n",
        input.display()
    );
    let cfg = config(dir, &sock, &body);
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "[control]\n",
        &format!("[control]\nappctl_rundir = \"{}\"\n", rundir.display()),
    );
    std::fs::write(&cfg, text).unwrap();
    let sw = Running::start(&cfg, &sock);
    ok(&sock, &["add-flow", "priority=0,actions=NORMAL"]);
    (sw, cfg)
}

#[test]
fn ovs_appctl_reads_and_drives_the_switch() {
    if !appctl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let rundir = dir.path().join("run");
    let (mut sw, cfg) = start(dir.path(), &rundir);

    let v = appctl_ok(&rundir, &["version"]);
    assert!(v.starts_with("ovs-vswitchd (pmdswitch) "), "{v}");

    // Traffic is counted where OVS's scripts look for it.
    let t0 = Instant::now();
    loop {
        let stats = appctl_ok(&rundir, &["dpif-netdev/pmd-stats-show"]);
        let rx: u64 = ovs_pmd_field(&stats, "packets received")
            .parse()
            .unwrap_or(0);
        let cyc: f64 = ovs_pmd_field(&stats, "avg cycles per packet")
            .parse()
            .unwrap_or(0.0);
        if rx > 1000 && cyc > 0.0 {
            assert!(stats.contains("\nmain thread:\n"), "{stats}");
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "no traffic seen:\n{stats}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    appctl_ok(&rundir, &["dpif-netdev/pmd-stats-clear"]);

    let rxq = appctl_ok(&rundir, &["dpif-netdev/pmd-rxq-show"]);
    assert!(rxq.starts_with("pmd thread numa_id "), "{rxq}");
    assert!(
        rxq.contains("  port: src               queue-id:  0 (enabled)   pmd usage:"),
        "{rxq}"
    );

    let flows = appctl_ok(&rundir, &["dpctl/dump-flows"]);
    assert!(
        flows.starts_with("flow-dump from pmd on cpu core: "),
        "{flows}"
    );
    assert!(
        flows.lines().skip(1).all(|l| l
            .starts_with("recirc_id(0),in_port(1),packet_type(ns=0,id=0),")
            && l.contains(", actions:")),
        "{flows}"
    );

    let show = appctl_ok(&rundir, &["dpctl/show"]);
    assert!(
        show.starts_with("netdev@ovs-netdev:\n  lookups: hit:"),
        "{show}"
    );
    assert!(
        show.contains("  port 1: src (dpdk)\n  port 2: sink (dpdk)\n"),
        "{show}"
    );

    // NORMAL learned the frames' source address on port 1.
    let fdb = appctl_ok(&rundir, &["fdb/show", "br0"]);
    assert!(
        fdb.starts_with(" port  VLAN  MAC                Age\n"),
        "{fdb}"
    );
    assert!(
        fdb.lines()
            .any(|l| l.starts_with("    1     0  02:00:00:00:00:01  ")),
        "{fdb}"
    );
    let (rc, _, err) = appctl(&rundir, &["fdb/show", "br9"]);
    assert_eq!((rc, err.contains("no such bridge")), (2, true), "{err}");
    assert_eq!(
        appctl_ok(&rundir, &["fdb/flush", "br0"]).trim(),
        "table successfully flushed"
    );

    let trace = appctl_ok(
        &rundir,
        &[
            "ofproto/trace",
            "br0",
            "in_port=1,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02",
        ],
    );
    assert!(trace.contains("bridge(\"br0\")"), "{trace}");
    assert!(trace.contains("actions=NORMAL"), "{trace}");
    assert!(trace.contains("\nDatapath actions: "), "{trace}");

    let cmds = appctl_ok(&rundir, &["list-commands"]);
    assert!(cmds.starts_with("The available commands are:\n"), "{cmds}");
    for c in [
        "dpif-netdev/pmd-stats-show",
        "dpctl/dump-flows",
        "fdb/show",
        "ofproto/trace",
        "vlog/set",
        "exit",
    ] {
        assert!(cmds.contains(&format!("  {c} ")), "{c} missing:\n{cmds}");
    }
    let (rc, _, err) = appctl(&rundir, &["no/such-command"]);
    assert_eq!(rc, 2, "{err}");
    assert!(err.contains("is not a valid command"), "{err}");
    let (rc, _, err) = appctl(&rundir, &["fdb/show"]);
    assert_eq!(rc, 2);
    assert!(err.contains("requires at least 1 arguments"), "{err}");

    appctl_ok(&rundir, &["vlog/set", "ofchannel:console:dbg"]);
    let vl = appctl_ok(&rundir, &["vlog/list"]);
    assert!(
        vl.lines()
            .any(|l| l.starts_with("ofchannel") && l.contains("DBG")),
        "{vl}"
    );

    // `-t SOCKET` reaches it too, as any unixctl server.
    let sock = std::fs::read_dir(&rundir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "ctl"))
        .expect("a .ctl socket in the rundir");
    let (rc, out, _) = appctl(&rundir, &["-t", sock.to_str().unwrap(), "version"]);
    assert_eq!((rc, out.starts_with("ovs-vswitchd (pmdswitch)")), (0, true));

    // A second switch may not take the same rundir while this one lives.
    let cfg2 = dir.path().join("second.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text = text
        .replace("/ctl\"", "/ctl2\"")
        .replace("net_pcap130", "net_pcap131")
        .replace("net_null130", "net_null131");
    std::fs::write(&cfg2, text).unwrap();
    let (rc, _, err) = run_to_end(
        &["run", "--log", "warn", "-c", cfg2.to_str().unwrap()],
        Duration::from_secs(30),
    );
    assert_ne!(rc, 0);
    assert!(err.contains("held by a running daemon"), "{err}");
    sw.assert_alive();

    // `exit` stops the switch and takes its files away.
    appctl_ok(&rundir, &["exit"]);
    let t0 = Instant::now();
    while sw.child.try_wait().unwrap().is_none() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "exit did not stop the switch"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(sw.child.try_wait().unwrap().unwrap().success());
    let left: Vec<_> = std::fs::read_dir(&rundir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
