//! What a hostile or clumsy operator can throw at the switch: huge lists and
//! sizes, a control socket on a file that is not a socket, a second port on a
//! live device, a reload that half fails, configs `run` would refuse.
//! Nothing may crash the switch, delete a file or be half-applied.
mod common;
use common::*;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// Waits until `sink` has sent `more` packets beyond what it had.
fn flowing(sw: &Running, sink: &str, more: u64) {
    let base = tx_of(&sw.ctl_ok(&["port-show"]).unwrap(), sink);
    let t0 = Instant::now();
    while tx_of(&sw.ctl_ok(&["port-show"]).unwrap(), sink) < base + more {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "no traffic reaches {sink}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A switch replaying a trace forever from `src` into `sink`, plus `extra`.
fn start(dir: &Path, n: u32, extra: &str) -> (Running, std::path::PathBuf, String) {
    let (input, sock) = (dir.join("in.pcap"), dir.join("ctl"));
    write_pcap(&input, &numbered_frames(64));
    let src = format!("net_pcap{n},rx_pcap={},infinite_rx=1", input.display());
    let body = format!(
        "[[port]]\nname = \"src\"\ndevargs = \"{src}\"\n\
         [[port]]\nname = \"sink\"\ndevargs = \"net_null{n},no-rx=1\"\n{extra}\
         [datapath]\nflows = [\"in_port=1,actions=output:2\"]\n"
    );
    let cfg = config(dir, &sock, &body);
    (Running::start(&cfg, &sock), sock, src)
}

#[test]
fn huge_lists_and_sizes_are_refused_and_the_switch_stays_up() {
    let dir = tempfile::tempdir().unwrap();
    let (mut sw, sock, _) = start(dir.path(), 160, "");
    flowing(&sw, "sink", 10_000);
    for cores in [
        "cores=0-4000000000",
        "cores=0-18446744073709551615",
        "cores=99999999999999999999",
        "cpu_mask=0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    ] {
        let e = refused(&sock, &["pmd-set", cores]);
        assert!(e.contains("core"), "{cores}: {e}");
        sw.assert_alive();
    }
    for count in ["0", "18446744073709551615"] {
        let f = dir.path().join("cap.pcap");
        let e = refused(
            &sock,
            &["capture-start", "src", count, "rx", f.to_str().unwrap()],
        );
        assert!(e.contains("count"), "{e}");
    }
    sw.assert_alive();
    flowing(&sw, "sink", 10_000);
    let (code, out, err) = sw.stop();
    assert_eq!(code, 0, "{err}");
    assert_mempools_balanced(&out);
}

#[test]
fn a_live_device_is_never_opened_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (sw, sock, src) = start(dir.path(), 161, "");
    flowing(&sw, "sink", 10_000);
    for _ in 0..2 {
        for devargs in [src.as_str(), "net_null161,no-rx=1", "net_null161"] {
            let e = refused(&sock, &["add-port", "dup", &format!("devargs={devargs}")]);
            assert!(e.contains("already open"), "{e}");
        }
    }
    let p = sw.ctl_ok(&["port-show"]).unwrap();
    assert_eq!(names(&p), ["sink", "src"]);
    // The live ports still forward, and the sink did not start dropping.
    flowing(&sw, "sink", 100_000);
    let p = sw.ctl_ok(&["port-show", "sink"]).unwrap();
    assert_eq!(p[0]["tx_dropped"], 0, "{p:#}");
    let (code, out, err) = sw.stop();
    assert_eq!(code, 0, "{err}");
    assert!(
        !err.contains("Stack dump") && !err.contains("PANIC"),
        "{err}"
    );
    assert_mempools_balanced(&out);
}

#[test]
fn a_reload_that_fails_applies_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let extra = "[[port]]\nname = \"other\"\ndevargs = \"net_null163,no-rx=1\"\n";
    let (sw, sock, _) = start(dir.path(), 162, extra);
    flowing(&sw, "sink", 10_000);
    let cfg_text = std::fs::read_to_string(dir.path().join("switch.toml")).unwrap();
    // Drops `other`, reopens `sink` with another MTU, and adds a port whose
    // device does not exist.
    let bad = cfg_text
        .replace(
            extra,
            "[[port]]\nname = \"new\"\ndevargs = \"net_nosuch162\"\n",
        )
        .replace(
            "devargs = \"net_null162,no-rx=1\"\n",
            "devargs = \"net_null162,no-rx=1\"\nmtu = 9000\n",
        );
    assert_ne!(bad, cfg_text);
    let f = dir.path().join("bad.toml");
    std::fs::write(&f, bad).unwrap();
    let e = refused(&sock, &["reload", f.to_str().unwrap()]);
    assert!(e.contains("net_nosuch162"), "{e}");
    assert!(e.contains("nothing was applied"), "{e}");
    let p = sw.ctl_ok(&["port-show"]).unwrap();
    assert_eq!(names(&p), ["other", "sink", "src"]);
    let sink = sw.ctl_ok(&["port-show", "sink"]).unwrap();
    assert_eq!(sink[0]["details"]["mtu"], 1500, "{sink:#}");
    assert_eq!(sink[0]["ofport"], 2);
    flowing(&sw, "sink", 100_000);
    let (code, out, err) = sw.stop();
    assert_eq!(code, 0, "{err}");
    assert_mempools_balanced(&out);
}

#[test]
fn a_control_socket_on_a_file_deletes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("switch.toml");
    let text = format!(
        "[eal]\nin_memory = true\nno_pci = true\n[control]\nsocket = \"{}\"\n\
         [[port]]\nname = \"a\"\ndevargs = \"net_null164\"\n",
        cfg.display()
    );
    std::fs::write(&cfg, &text).unwrap();
    for cmd in ["check-config", "run"] {
        let args: Vec<&str> = match cmd {
            "run" => vec!["run", "--duration", "1", "-c", cfg.to_str().unwrap()],
            _ => vec![cmd, cfg.to_str().unwrap()],
        };
        let (code, _, err) = run_to_end(&args, Duration::from_secs(30));
        assert_eq!(code, 2, "{cmd}: {err}");
        assert!(err.contains("not a socket"), "{cmd}: {err}");
        assert_eq!(std::fs::read_to_string(&cfg).unwrap(), text);
    }
}

/// `check-config` refuses what `run` refuses (short of the devices), with
/// exit 2 and the field; `run` refuses the same before DPDK starts.
#[test]
fn check_config_makes_every_check_run_makes() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("in.pcap");
    write_pcap(&pcap, &numbered_frames(4));
    let port = |n: u32| format!("[[port]]\nname = \"p{n}\"\ndevargs = \"net_null{n}\"\n");
    let good = format!(
        "[eal]\nin_memory = true\nno_pci = true\n[control]\nsocket = \"{}\"\n{}\
         [[port]]\nname = \"pc\"\ndevargs = \"net_pcap9,rx_pcap={}\"\n",
        dir.path().join("ctl").display(),
        port(1),
        pcap.display()
    );
    let f = dir.path().join("c.toml");
    let check = |text: &str| {
        std::fs::write(&f, text).unwrap();
        run_to_end(
            &["check-config", f.to_str().unwrap()],
            Duration::from_secs(30),
        )
    };
    let (code, out, err) = check(&good);
    assert_eq!(code, 0, "{out}{err}");
    let many: String = (0..300).map(port).collect();
    for (text, why) in [
        (
            format!("{good}[datapath]\nflows = [\"in_port=1,actions=output:x\"]\n"),
            "datapath.flows[0]",
        ),
        (
            format!("{good}[datapath]\nflows = [\"in_port=1,actions=frobnicate\"]\n"),
            "datapath.flows[0]",
        ),
        (
            format!("{good}[datapath]\nflows_file = \"/nonexistent/flows\"\n"),
            "flows_file",
        ),
        (
            good.replace(&pcap.display().to_string(), "/nonexistent.pcap"),
            "rx_pcap",
        ),
        (
            format!("{good}{}", port(1).replace("p1", "p2")),
            "already port",
        ),
        (format!("{good}[pmd]\ncores = [1000]\n"), "not available"),
        (
            format!("{good}[datapath]\nsmc_entries = 4294967295\n"),
            "smc_entries",
        ),
        (
            format!("{good}[memory]\nmbufs = 16000000\n"),
            "memory.mbufs",
        ),
        (format!("{good}{many}"), "room for"),
    ] {
        let (code, _, err) = check(&text);
        assert_eq!(code, 2, "{why}: {err}");
        assert!(err.contains(why), "expected {why:?} in {err}");
    }
    // `run` refuses a bad rule before EAL init, with the same exit code.
    std::fs::write(
        &f,
        format!("{good}[datapath]\nflows = [\"in_port=1,actions=output:x\"]\n"),
    )
    .unwrap();
    let (code, _, err) = run_to_end(
        &["run", "--duration", "1", "-c", f.to_str().unwrap()],
        Duration::from_secs(30),
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("datapath.flows[0]"), "{err}");
    assert!(
        !err.contains("initialising DPDK") && !err.contains("EAL"),
        "{err}"
    );
}

/// Asks the switch for its version straight on the socket; the time taken.
fn version_rtt(sock: &Path) -> Duration {
    use std::io::{BufRead, Write};
    let t0 = Instant::now();
    let mut s = std::os::unix::net::UnixStream::connect(sock).unwrap();
    s.write_all(b"{\"command\":\"version\"}\n").unwrap();
    let mut line = String::new();
    std::io::BufReader::new(s).read_line(&mut line).unwrap();
    assert!(line.contains("\"ok\":true"), "{line}");
    t0.elapsed()
}

#[test]
fn no_client_can_stall_the_control_plane() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("ctl");
    let ncpu = std::thread::available_parallelism().unwrap().get();
    let cfg = config(
        dir.path(),
        &sock,
        "[[port]]\nname = \"a\"\ndevargs = \"net_null165,no-rx=1\"\n",
    );
    let mut text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("[control]\n", "[control]\nmetrics = \"127.0.0.1:0\"\n");
    if ncpu > 1 {
        text = text.replace("[eal]\n", "[eal]\nmain_core = 0\n");
    }
    std::fs::write(&cfg, text).unwrap();
    let sw = Running::start(&cfg, &sock);
    let metrics = metrics_addr(&sw);

    // 10 idle clients, 10 sending a byte every 1.5 s, 8 idle scrapers.
    let idle: Vec<_> = (0..10)
        .map(|_| std::os::unix::net::UnixStream::connect(&sock).unwrap())
        .collect();
    let idle_tcp: Vec<_> = (0..8)
        .map(|_| std::net::TcpStream::connect(metrics).unwrap())
        .collect();
    let slow: Vec<_> = (0..10)
        .map(|_| {
            let p = sock.clone();
            std::thread::spawn(move || {
                let mut s = std::os::unix::net::UnixStream::connect(&p).unwrap();
                for b in b"{\"command\":\"version\"" {
                    if s.write_all(&[*b]).is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(1500));
                }
            })
        })
        .collect();
    // A client that sends a request and never reads its reply.
    let mut deaf = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    deaf.write_all(b"{\"command\":\"list-commands\"}\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));

    let mut rtts: Vec<Duration> = (0..10).map(|_| version_rtt(&sock)).collect();
    rtts.sort();
    assert!(rtts[5] < Duration::from_millis(100), "{rtts:?}");
    // The slowest may meet a busy CPU (tests and PMDs share two cores
    // here); before, one request waited for every idle client (~30 s).
    assert!(rtts[9] < Duration::from_secs(2), "{rtts:?}");
    let body = scrape(metrics);
    assert!(body.contains("pmdswitch_port_rx_packets_total"), "{body}");

    // A request that is not UTF-8 gets an error reply.
    let mut s = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    s.write_all(b"{\"command\":\"ver\xffsion\"}\n").unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(
        reply.contains("\"ok\":false") && reply.contains("UTF-8"),
        "{reply}"
    );

    // --json errors are JSON; a closed stdout is no panic.
    let o = ctl(&sock, true, &["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON error");
    assert!(
        v["error"].as_str().unwrap().contains("unknown command"),
        "{v}"
    );
    let (r, w) = std::io::pipe().unwrap();
    drop(r);
    let o = std::process::Command::new(bin())
        .args(["ctl", "--socket", sock.to_str().unwrap(), "list-commands"])
        .stdout(w)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{:?} {err}", o.status);
    assert!(!err.contains("panicked"), "{err}");
    // The main core named in [eal] is refused as a PMD core.
    if ncpu > 1 {
        refused_for(&sock, &["pmd-set", "cores=0"], "eal.main_core");
    }

    // SIGTERM is honoured at once, slow clients or not.
    let t0 = Instant::now();
    let (code, _, err) = sw.stop();
    assert_eq!(code, 0, "{err}");
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    drop((idle, idle_tcp, deaf));
    for t in slow {
        t.join().unwrap();
    }
}

/// Where the switch serves `/metrics` (it prints it at start).
fn metrics_addr(sw: &Running) -> std::net::SocketAddr {
    let out = std::fs::read_to_string(sw.log_path("stdout")).unwrap();
    out.split("metrics on http://")
        .nth(1)
        .and_then(|r| r.split("/metrics").next())
        .expect("metrics address printed")
        .parse()
        .unwrap()
}

/// GETs `/metrics` from `addr`; the body.
fn scrape(addr: std::net::SocketAddr) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
    text.split_once("\r\n\r\n").unwrap().1.to_owned()
}

/// Port names with quotes and backslashes come out escaped: Prometheus's
/// own parser (`prometheus_client`, Debian's python3-prometheus-client)
/// reads every sample and gets the names back.
#[test]
fn metrics_parse_with_prometheus_own_parser() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("ctl");
    let cfg = config(
        dir.path(),
        &sock,
        "[[port]]\nname = 'we\"ird\\name'\ndevargs = \"net_null166,no-rx=1\"\n",
    );
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("[control]\n", "[control]\nmetrics = \"127.0.0.1:0\"\n");
    std::fs::write(&cfg, text).unwrap();
    let sw = Running::start(&cfg, &sock);
    let body = scrape(metrics_addr(&sw));
    let file = dir.path().join("metrics.txt");
    std::fs::write(&file, &body).unwrap();
    let py = [
        "import sys",
        "from prometheus_client.parser import text_string_to_metric_families as parse",
        "n = 0",
        "for fam in parse(open(sys.argv[1]).read()):",
        "    for s in fam.samples:",
        "        n += 1",
        "        if 'port' in s.labels: print('PORT', s.labels['port'])",
        "print('SAMPLES', n)",
    ]
    .join("\n");
    // Debian's interpreter, which has Debian's package.
    let o = std::process::Command::new("/usr/bin/python3")
        .args(["-c", &py])
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "the parser refused the text (python3-prometheus-client installed? scripts/setup-host.sh installs it): {}\n{body}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains("PORT we\"ird\\name"), "{stdout}");
    assert!(!stdout.contains("SAMPLES 0"), "{stdout}");
    let (code, _, err) = sw.stop();
    assert_eq!(code, 0, "{err}");
}

/// A pool too small for its ports' rings and an `infinite_rx` trace: said
/// at start, and the exhaustion is counted and logged, not silent.
#[test]
fn mempool_exhaustion_is_counted_and_logged() {
    let dir = tempfile::tempdir().unwrap();
    let (input, sock) = (dir.path().join("in.pcap"), dir.path().join("ctl"));
    write_pcap(&input, &numbered_frames(1000));
    let body = format!(
        "[[port]]\nname = \"src\"\ndevargs = \"net_pcap167,rx_pcap={},infinite_rx=1\"\n\
         [[port]]\nname = \"sink\"\ndevargs = \"net_null167,no-rx=1\"\n\
         [datapath]\nflows = [\"in_port=1,actions=output:2\"]\n",
        input.display()
    );
    let cfg = config(dir.path(), &sock, &body);
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("mbufs = 4096", "mbufs = 1024");
    std::fs::write(&cfg, text).unwrap();
    let sw = Running::start(&cfg, &sock);
    let t0 = Instant::now();
    let pools = loop {
        let pools = sw.ctl_ok(&["mempool-show"]).unwrap();
        if pools[0]["exhausted_episodes"].as_u64() > Some(0) {
            break pools;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "{pools:#}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(pools[0]["exhausted_ms"].as_u64().is_some(), "{pools:#}");
    let p = sw.ctl_ok(&["port-show", "src"]).unwrap();
    assert!(
        p[0]["mempool_exhausted_episodes"].as_u64() > Some(0),
        "{p:#}"
    );
    let (_, _, err) = sw.stop();
    assert!(err.contains("cannot fit"), "no start-up warning: {err}");
    assert_eq!(err.matches("mempool exhausted").count(), 1, "{err}");
}

/// Captures: the file is never written through a link, the count reported
/// is what the file holds, a capture ends when its client goes or its port
/// goes, and `capture-status` lists them.
#[test]
fn captures_follow_their_client_and_port_and_never_follow_links() {
    let dir = tempfile::tempdir().unwrap();
    let (sw, sock, _) = start(dir.path(), 168, "");
    flowing(&sw, "sink", 10_000);
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let out = dir.path().join("cap.pcap");
    std::os::unix::fs::symlink(&victim, &out).unwrap();
    let o = ok(
        &sock,
        &[
            "capture",
            "src",
            "--count",
            "50",
            "--file",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(!out.symlink_metadata().unwrap().file_type().is_symlink());
    let written: usize = o
        .split(": ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{o}"));
    assert_eq!(read_pcap(&out).len(), written, "{o}");

    // Started, then never asked about again: its client is gone.
    let f2 = dir.path().join("forever.pcap");
    let r = ok_json(
        &sock,
        &[
            "capture-start",
            "src",
            "1000000000",
            "rx",
            f2.to_str().unwrap(),
        ],
    );
    let id = r["id"].as_u64().unwrap();
    let t0 = Instant::now();
    loop {
        let list = sw.ctl_ok(&["capture-status"]).unwrap();
        let c = list
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone();
        if c["running"] == false {
            assert!(c["ended"].as_str().unwrap().contains("client"), "{c}");
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "{c}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(f2.exists());

    // A capture of a port that is removed ends; the next port in its slot
    // is not captured.
    let f3 = dir.path().join("sink.pcap");
    let r = ok_json(
        &sock,
        &[
            "capture-start",
            "sink",
            "1000000000",
            "tx",
            f3.to_str().unwrap(),
        ],
    );
    let id = r["id"].as_u64().unwrap().to_string();
    ok(&sock, &["del-port", "sink"]);
    let s = ok_json(&sock, &["capture-status", &id]);
    assert_eq!(s["done"], true, "{s}");
    assert!(s["ended"].as_str().unwrap().contains("removed"), "{s}");
    let n = read_pcap(&f3).len();
    ok(
        &sock,
        &[
            "add-port",
            "sink2",
            "devargs=net_null169,no-rx=1",
            "ofport=2",
        ],
    );
    flowing(&sw, "sink2", 10_000);
    assert_eq!(read_pcap(&f3).len(), n);
    let (code, _, err) = sw.stop();
    assert_eq!(code, 0, "{err}");
}

/// 64-byte UDP frames to 10.1.0.1, numbered from 0 (the number at byte 42).
fn small_numbered_frames(n: usize) -> Vec<Vec<u8>> {
    numbered_frames(1)
        .into_iter()
        .cycle()
        .take(n)
        .enumerate()
        .map(|(i, mut f)| {
            f.resize(64, 0);
            f[16..18].copy_from_slice(&50u16.to_be_bytes());
            f[36..38].copy_from_slice(&30u16.to_be_bytes());
            f[38..40].copy_from_slice(&30u16.to_be_bytes());
            f[42..46].copy_from_slice(&(i as u32).to_be_bytes());
            f
        })
        .collect()
}

/// Moving the PMD threads between cores, and from one PMD to two and back,
/// while a numbered trace flows through a rule that needs extraction and the
/// caches (an L3/L4 match): every frame leaves, once, in order; no mbuf is
/// left behind.
#[test]
fn pmd_moves_lose_and_reorder_nothing_through_the_caches() {
    let ncpu = std::thread::available_parallelism().unwrap().get();
    if ncpu < 2 {
        skipped("needs two cores");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (input, output, sock) = (
        dir.path().join("in.pcap"),
        dir.path().join("out.pcap"),
        dir.path().join("ctl"),
    );
    const N: usize = 400_000;
    write_pcap(&input, &small_numbered_frames(N));
    let body = format!(
        "[[port]]\nname = \"src\"\ndevargs = \"net_pcap170,rx_pcap={}\"\ntxq = 1\n\
         [[port]]\nname = \"sink\"\ndevargs = \"net_pcap171,tx_pcap={}\"\ntxq = 1\n\
         [datapath]\nflows = [\"priority=10,udp,nw_dst=10.1.0.1,tp_dst=30,actions=output:2\", \"priority=0,actions=drop\"]\n",
        input.display(),
        output.display()
    );
    let cfg = config(dir.path(), &sock, &body);
    let sw = Running::start(&cfg, &sock);
    // The device's count: PMD counters start again at each move.
    let rx = |sw: &Running| {
        sw.ctl_ok(&["port-show", "src"]).unwrap()[0]["device"]["rx_packets"]
            .as_u64()
            .unwrap()
    };
    let last = ncpu - 1;
    let moves = [
        "cores=0".to_string(),
        format!("cores=0,{last}"),
        format!("cores={last}"),
        format!("cores={last},0"),
    ];
    let mut moved_mid_stream = 0;
    let (mut simple, mut cached) = (0, 0);
    let t0 = Instant::now();
    for m in moves.iter().cycle() {
        let before = rx(&sw);
        if before >= N as u64 {
            break;
        }
        // PMD counters start again at each move: add them up before it.
        let stats = sw.ctl_ok(&["pmd-stats-show"]).unwrap();
        for p in stats["pmds"].as_array().unwrap() {
            simple += p["simple_match_hits"].as_u64().unwrap();
            cached += p["emc_hits"].as_u64().unwrap() + p["megaflow_hits"].as_u64().unwrap();
        }
        ok(&sock, &["pmd-set", m]);
        let _ = sw.ctl_ok(&["pmd-rxq-rebalance"]);
        if rx(&sw) > before && before > 0 {
            moved_mid_stream += 1;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the trace never ended"
        );
    }
    assert!(
        moved_mid_stream >= 1,
        "only {moved_mid_stream} moves happened while the trace flowed"
    );
    // The rule needs the parsed packet: no simple match, cache hits only.
    assert_eq!(simple, 0);
    assert!(cached > 0);

    let (code, out, err) = sw.stop();
    assert_eq!(code, 0, "{err}");
    assert_mempools_balanced(&out);
    let got: Vec<usize> = read_pcap(&output).iter().map(|f| frame_number(f)).collect();
    let first_bad = got.iter().enumerate().find(|(i, n)| *i != **n);
    assert!(
        got.len() == N && first_bad.is_none(),
        "{} of {N} frames out; first out of place: {first_bad:?}",
        got.len()
    );
}
