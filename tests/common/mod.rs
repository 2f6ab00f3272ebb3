//! Helpers for tests that run the real `pmdswitch` binary on DPDK virtual
//! devices: config files, a process handle with `ctl`, and pcap files.
#![allow(dead_code)]

pub mod ovs;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_pmdswitch")
}

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A unique name for this test run (file prefixes, sockets).
pub fn unique(tag: &str) -> String {
    format!(
        "pmdsw-{tag}-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    )
}

/// Whether `PMDSWITCH_SKIP_OVS=1` asks to skip the tests that need OVS (any
/// other value, `0` included, does not).
pub fn skip_ovs_asked() -> bool {
    std::env::var("PMDSWITCH_SKIP_OVS").is_ok_and(|v| v == "1")
}

/// Says that the running test is skipped and why: `SKIPPED` on stdout, and
/// a line in the file `PMDSWITCH_SKIP_LOG` names (scripts/test.sh counts
/// those, since cargo hides a passing test's output).
pub fn skipped(why: &str) {
    let test = std::thread::current().name().unwrap_or("?").to_owned();
    println!("SKIPPED {test}: {why}");
    if let Some(log) = std::env::var_os("PMDSWITCH_SKIP_LOG") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            let _ = writeln!(f, "{} {test}: {why}", env!("CARGO_CRATE_NAME"));
        }
    }
}

/// Hugepages must be reserved for DPDK tests; the test scripts do it.
pub fn require_hugepages() {
    let info = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let free = info
        .lines()
        .find_map(|l| l.strip_prefix("HugePages_Free:"))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    assert!(
        free >= 128,
        "DPDK tests need hugepages: run as root `echo 512 > /proc/sys/vm/nr_hugepages` \
         and mount hugetlbfs on /dev/hugepages (scripts/setup-host.sh does both); {free} free"
    );
}

/// A config with the EAL in memory (no hugepage files to collide on), one
/// PMD on the last core, and `body` appended (ports, xconnects).
pub fn config(dir: &Path, ctl: &Path, body: &str) -> PathBuf {
    config_pmds(dir, ctl, body, 1)
}

/// [`config`] with `pmds` PMD threads, on the last cores.
pub fn config_pmds(dir: &Path, ctl: &Path, body: &str, pmds: usize) -> PathBuf {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let list: Vec<String> = (cores.saturating_sub(pmds)..cores)
        .map(|c| c.to_string())
        .collect();
    let text = format!(
        "[eal]\nfile_prefix = \"{}\"\nin_memory = true\nno_pci = true\nsocket_mem = \"128\"\n\
         [pmd]\ncores = [{}]\n[memory]\nmbufs = 4096\n[control]\nsocket = \"{}\"\n{body}",
        unique("eal"),
        list.join(", "),
        ctl.display()
    );
    let p = dir.join("switch.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// A running switch process. Its output goes to files, not pipes: a child
/// blocked on a full pipe nobody reads would hang the switch.
pub struct Running {
    pub child: Child,
    pub ctl: PathBuf,
    logs: tempfile::TempDir,
}

/// Files for a child's stdout and stderr.
fn log_files(dir: &Path) -> (std::fs::File, std::fs::File) {
    (
        std::fs::File::create(dir.join("stdout")).unwrap(),
        std::fs::File::create(dir.join("stderr")).unwrap(),
    )
}

impl Running {
    /// Starts `pmdswitch run -c cfg` and waits until its control socket answers.
    pub fn start(cfg: &Path, ctl: &Path) -> Running {
        require_hugepages();
        let logs = tempfile::tempdir().unwrap();
        let (out, err) = log_files(logs.path());
        let child = Command::new(bin())
            .args(["run", "--log", "warn", "-c"])
            .arg(cfg)
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("spawning pmdswitch");
        let mut r = Running {
            child,
            ctl: ctl.to_owned(),
            logs,
        };
        let t0 = Instant::now();
        loop {
            if let Some(st) = r.child.try_wait().unwrap() {
                let (out, err) = r.read_output();
                panic!("pmdswitch exited early ({st}):\n{out}\n{err}");
            }
            if r.ctl_ok(&["version"]).is_some() {
                return r;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "switch did not come up"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs `pmdswitch ctl --json ARGS`; Some(parsed JSON) on success.
    pub fn ctl_ok(&self, args: &[&str]) -> Option<serde_json::Value> {
        let o = ctl(&self.ctl, true, args);
        if !o.status.success() {
            return None;
        }
        serde_json::from_slice(&o.stdout).ok()
    }

    /// Where its stdout or stderr goes.
    pub fn log_path(&self, which: &str) -> PathBuf {
        self.logs.path().join(which)
    }

    /// Panics with the switch's output if it has exited.
    pub fn assert_alive(&mut self) {
        if let Some(st) = self.child.try_wait().unwrap() {
            let (out, err) = self.read_output();
            panic!("pmdswitch exited ({st}):\n{out}\n{err}");
        }
    }

    /// Polls `port-show` until `pred` holds, or panics after `secs`.
    pub fn wait_ports(
        &self,
        secs: u64,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let t0 = Instant::now();
        loop {
            if let Some(v) = self.ctl_ok(&["port-show"]) {
                if pred(&v) {
                    return v;
                }
                assert!(
                    t0.elapsed() < Duration::from_secs(secs),
                    "timed out; last port-show: {v:#}"
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends SIGTERM and waits; returns (exit code, stdout, stderr).
    pub fn stop(mut self) -> (i32, String, String) {
        let pid = self.child.id() as i32;
        assert_eq!(sigterm(pid), 0);
        let t0 = Instant::now();
        let status = loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                break st;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "switch did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let (out, err) = self.read_output();
        (status.code().unwrap_or(-1), out, err)
    }

    fn read_output(&mut self) -> (String, String) {
        let rd = |n: &str| std::fs::read_to_string(self.logs.path().join(n)).unwrap_or_default();
        (rd("stdout"), rd("stderr"))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sigterm(pid: i32) -> i32 {
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .map(|s| if s.success() { 0 } else { 1 })
        .unwrap_or(1)
}

/// Runs `pmdswitch ctl` against `sock`.
pub fn ctl(sock: &Path, json: bool, args: &[&str]) -> Output {
    let mut c = Command::new(bin());
    c.arg("ctl").arg("--socket").arg(sock);
    if json {
        c.arg("--json");
    }
    c.args(args).output().expect("running pmdswitch ctl")
}

/// Runs `pmdswitch ARGS` to completion.
pub fn run_to_end(args: &[&str], timeout: Duration) -> (i32, String, String) {
    let mut child = Command::new(bin())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    let st = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if t0.elapsed() > timeout {
            let _ = child.kill();
            panic!("pmdswitch {args:?} did not finish in {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut out = String::new();
    let mut err = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (st.code().unwrap_or(-1), out, err)
}

/// Writes a classic pcap (microsecond timestamps, Ethernet).
pub fn write_pcap(path: &Path, pkts: &[Vec<u8>]) {
    let mut b = Vec::new();
    b.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&4u16.to_le_bytes());
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&65535u32.to_le_bytes());
    b.extend_from_slice(&1u32.to_le_bytes());
    for (i, p) in pkts.iter().enumerate() {
        b.extend_from_slice(&(i as u32 / 1_000_000).to_le_bytes());
        b.extend_from_slice(&(i as u32 % 1_000_000).to_le_bytes());
        b.extend_from_slice(&(p.len() as u32).to_le_bytes());
        b.extend_from_slice(&(p.len() as u32).to_le_bytes());
        b.extend_from_slice(p);
    }
    std::fs::write(path, b).unwrap();
}

/// Reads the packets of a classic pcap (either byte order, either time unit).
pub fn read_pcap(path: &Path) -> Vec<Vec<u8>> {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    assert!(b.len() >= 24, "{} is not a pcap", path.display());
    let magic = u32::from_le_bytes(b[0..4].try_into().unwrap());
    let le = matches!(magic, 0xa1b2c3d4 | 0xa1b23c4d);
    assert!(
        le || matches!(magic.swap_bytes(), 0xa1b2c3d4 | 0xa1b23c4d),
        "bad pcap magic"
    );
    let rd = |o: usize| {
        let v = u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        if le {
            v
        } else {
            v.swap_bytes()
        }
    };
    let mut out = Vec::new();
    let mut o = 24;
    while o + 16 <= b.len() {
        let caplen = rd(o + 8) as usize;
        out.push(b[o + 16..o + 16 + caplen].to_vec());
        o += 16 + caplen;
    }
    out
}

/// `n` distinct Ethernet/IPv4/UDP frames of varied sizes, each numbered in
/// its payload, so order and content can both be checked.
pub fn numbered_frames(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let len = 60 + (i * 37) % 1455;
            let mut f = vec![0u8; len];
            f[0..6].copy_from_slice(&[2, 0, 0, 0, 0, 2]);
            f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
            f[12..14].copy_from_slice(&[0x08, 0x00]);
            f[14] = 0x45;
            f[16..18].copy_from_slice(&((len - 14) as u16).to_be_bytes());
            f[22] = 64;
            f[23] = 17;
            f[26..30].copy_from_slice(&[10, 0, (i >> 8) as u8, i as u8]);
            f[30..34].copy_from_slice(&[10, 1, 0, 1]);
            f[42..46].copy_from_slice(&(i as u32).to_be_bytes());
            for (k, byte) in f.iter_mut().enumerate().skip(46) {
                *byte = (k as u8).wrapping_mul(31).wrapping_add(i as u8);
            }
            f
        })
        .collect()
}

/// `dpdk-testpmd` playing the VM: a virtio_user port on a vhost-user socket,
/// in its own EAL, forwarding on core 0 (the switch's PMD is on the last core).
pub struct Testpmd {
    child: Child,
    logs: tempfile::TempDir,
}

impl Testpmd {
    /// Starts testpmd with `vdevs` and testpmd options `opts` (after `--`).
    pub fn start(tag: &str, vdevs: &[String], opts: &[&str]) -> Testpmd {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let mut c = Command::new("dpdk-testpmd");
        c.args([
            "-l",
            &format!("0-{}", cores - 1),
            "--main-lcore",
            &(cores - 1).to_string(),
        ]);
        // virtio_user shares testpmd's memory with the switch: one fd per
        // memseg list keeps it within vhost-user's 8 memory regions.
        c.args([
            "--no-pci",
            "--in-memory",
            "--single-file-segments",
            "--file-prefix",
            &unique(tag),
        ]);
        for v in vdevs {
            c.arg(format!("--vdev={v}"));
        }
        c.args(["--", "--nb-cores=1", "--auto-start", "--stats-period", "1"])
            .args(opts);
        let logs = tempfile::tempdir().unwrap();
        let (out, err) = log_files(logs.path());
        let child = c
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("dpdk-testpmd (Debian package dpdk-dev) must be installed");
        Testpmd { child, logs }
    }

    /// What it has printed so far.
    pub fn output(&self) -> String {
        let rd = |n: &str| std::fs::read_to_string(self.logs.path().join(n)).unwrap_or_default();
        rd("stdout") + &rd("stderr")
    }

    /// The RX-packets of `port` in its latest periodic NIC statistics.
    pub fn nic_rx(&self, port: u16) -> Option<u64> {
        let out = self.output();
        let sec = out
            .rsplit_once(&format!("NIC statistics for port {port} "))?
            .1;
        sec.split("RX-packets:")
            .nth(1)?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }

    /// Stops it (SIGINT: it prints its totals; SIGKILL: the VM just vanishes)
    /// and returns everything it printed.
    pub fn stop(mut self, graceful: bool) -> String {
        let pid = self.child.id().to_string();
        let sig = if graceful { "-INT" } else { "-KILL" };
        let _ = Command::new("kill").args([sig, &pid]).status();
        let t0 = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            if t0.elapsed() > Duration::from_secs(15) {
                let _ = self.child.kill();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let rd = |n: &str| std::fs::read_to_string(self.logs.path().join(n)).unwrap_or_default();
        rd("stdout") + &rd("stderr")
    }
}

impl Drop for Testpmd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The totals testpmd prints at exit for `port`: (RX-packets, TX-packets).
pub fn testpmd_totals(out: &str, port: u16) -> (u64, u64) {
    let head = format!("Forward statistics for port {port}");
    let sec = out
        .rsplit_once(&head)
        .map(|x| x.1)
        .unwrap_or_else(|| panic!("no totals for port {port} in:\n{out}"));
    let num = |key: &str| -> u64 {
        sec.split(key)
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (num("RX-packets:"), num("TX-packets:"))
}

/// The number a [`numbered_frames`] frame carries.
pub fn frame_number(f: &[u8]) -> usize {
    u32::from_be_bytes(f[42..46].try_into().unwrap()) as usize
}

/// Checks the final report of a stopped switch: every mempool is back to the
/// number of mbufs it held before traffic (nothing leaked).
pub fn assert_mempools_balanced(out: &str) {
    let mut n = 0;
    for l in out.lines().filter(|l| l.starts_with("mempool ")) {
        let in_use: u64 = l
            .split(" in use")
            .next()
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let base: u64 = l
            .split("(baseline ")
            .nth(1)
            .unwrap()
            .split(')')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(in_use, base, "mbufs leaked: {l}");
        n += 1;
    }
    assert!(n > 0, "no mempool lines in:\n{out}");
}

/// Packets the switch sent on port `name`, from `port-show --json`.
pub fn tx_of(ports: &serde_json::Value, name: &str) -> u64 {
    ports
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .map_or(0, |p| p["tx_packets"].as_u64().unwrap())
}

/// The port names in `port-show --json`, sorted.
pub fn names(ports: &serde_json::Value) -> Vec<String> {
    let mut n: Vec<String> = ports
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    n.sort();
    n
}

/// Runs `pmdswitch ctl ARGS`, which must succeed; its text answer.
pub fn ok(sock: &Path, args: &[&str]) -> String {
    String::from_utf8_lossy(&ctl_checked(sock, false, args).stdout).into_owned()
}

/// Runs `pmdswitch ctl --json ARGS`, which must succeed; its JSON answer.
pub fn ok_json(sock: &Path, args: &[&str]) -> serde_json::Value {
    serde_json::from_slice(&ctl_checked(sock, true, args).stdout).unwrap()
}

fn ctl_checked(sock: &Path, json: bool, args: &[&str]) -> Output {
    let o = ctl(sock, json, args);
    assert!(
        o.status.success(),
        "ctl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Runs `pmdswitch ctl ARGS`, which must be refused; its error text.
pub fn refused(sock: &Path, args: &[&str]) -> String {
    let o = ctl(sock, false, args);
    assert!(!o.status.success(), "ctl {args:?} should have been refused");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts that `args` is refused with a message containing `why`.
pub fn refused_for(sock: &Path, args: &[&str], why: &str) {
    let e = refused(sock, args);
    assert!(e.contains(why), "ctl {args:?}: expected {why:?} in {e:?}");
}

/// Small deterministic PRNG (xorshift64*), so generated traces are
/// reproducible from their seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below((hi - lo + 1) as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
    pub fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
    pub fn u8(&mut self) -> u8 {
        self.next() as u8
    }
    pub fn u16(&mut self) -> u16 {
        self.next() as u16
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.u8()).collect()
    }
}
