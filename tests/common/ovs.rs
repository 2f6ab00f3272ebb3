//! A private Open vSwitch for tests that compare pmdswitch with OVS: its own
//! database, run, log and config directories under a temp dir (the system
//! service is never touched), `ovsdb-server` and an `ovs-vswitchd` started
//! on it, and the `ovs-*` tools pointed at it. Killed and removed on drop.
//!
//! OVS is part of the test set-up (`scripts/setup-host.sh` installs it), so
//! a missing binary fails the test with the reason, unless
//! `PMDSWITCH_SKIP_OVS=1` says to skip the OVS tests on this host.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// OVS's database schema (Debian package `openvswitch-common`).
pub const SCHEMA: &str = "/usr/share/openvswitch/vswitch.ovsschema";

/// The plain `ovs-vswitchd` (userspace and dummy datapaths, no DPDK).
pub const VSWITCHD: &[&str] = &[
    "/usr/lib/openvswitch-switch/ovs-vswitchd",
    "/usr/sbin/ovs-vswitchd",
];

/// `ovs-vswitchd` built with DPDK (Debian package `openvswitch-switch-dpdk`).
pub const VSWITCHD_DPDK: &[&str] = &["/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk"];

const TOOLS: &[&str] = &[
    "ovsdb-tool",
    "ovsdb-server",
    "ovs-vsctl",
    "ovs-ofctl",
    "ovs-appctl",
];

/// The first of `vswitchd` that exists, once every OVS tool and the schema
/// are there too. Missing pieces fail the test with what is missing, or,
/// with `PMDSWITCH_SKIP_OVS=1`, print `SKIPPED` and return `None`.
pub fn require(vswitchd: &[&str]) -> Option<String> {
    let on_path = |p: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {p}"))
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let mut missing: Vec<String> = TOOLS
        .iter()
        .filter(|t| !on_path(t))
        .map(|t| t.to_string())
        .collect();
    if !Path::new(SCHEMA).exists() {
        missing.push(SCHEMA.into());
    }
    let found = vswitchd.iter().find(|p| Path::new(p).exists());
    if found.is_none() {
        missing.push(format!("one of {vswitchd:?}"));
    }
    if missing.is_empty() {
        return found.map(|s| s.to_string());
    }
    let why = format!("OVS is missing: {}", missing.join(", "));
    if super::skip_ovs_asked() {
        super::skipped(&format!("PMDSWITCH_SKIP_OVS=1: {why}"));
        return None;
    }
    panic!(
        "{why}. Install it with scripts/setup-host.sh (Debian packages openvswitch-switch \
         and openvswitch-switch-dpdk), or set PMDSWITCH_SKIP_OVS=1 to skip the tests that \
         compare with OVS"
    );
}

/// A private OVS instance.
pub struct Ovs {
    dir: tempfile::TempDir,
    db: String,
    ctl: PathBuf,
}

impl Ovs {
    /// Creates the database, starts `ovsdb-server`, runs each of
    /// `settings` as `ovs-vsctl --no-wait ARGS` (what `ovs-vswitchd` must
    /// find at start, such as `other_config:dpdk-init`), then starts
    /// `vswitchd` with `extra` arguments and waits until it answers.
    ///
    /// With `own_netns` the daemon runs in a network namespace of its own
    /// (`unshare --net`, needs root): a `netdev` datapath creates tap
    /// devices with fixed names (`ovs-netdev`, the bridge's), which would
    /// collide with any other OVS on the host.
    pub fn start(
        vswitchd: &str,
        extra: &[&str],
        settings: &[&[&str]],
        own_netns: bool,
    ) -> Result<Ovs, String> {
        let dir = tempfile::Builder::new()
            .prefix("pmdsw-ovs")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let base = dir.path().to_owned();
        let p = |f: &str| base.join(f).to_string_lossy().into_owned();
        let ovs = Ovs {
            db: format!("unix:{}", p("db.sock")),
            ctl: base.join("vswitchd.ctl"),
            dir,
        };
        ovs.run("ovsdb-tool", &["create", &p("conf.db"), SCHEMA])?;
        ovs.run(
            "ovsdb-server",
            &[
                &format!("--remote=p{}", ovs.db),
                &format!("--pidfile={}", p("ovsdb.pid")),
                &format!("--unixctl={}", p("ovsdb.ctl")),
                "--detach",
                &format!("--log-file={}", p("ovsdb.log")),
                &p("conf.db"),
            ],
        )?;
        ovs.vsctl(&["--no-wait", "init"])?;
        for s in settings {
            let mut a = vec!["--no-wait"];
            a.extend_from_slice(s);
            ovs.vsctl(&a)?;
        }
        let mut args = Vec::new();
        if own_netns {
            args.extend(["--net".to_string(), vswitchd.to_string()]);
        }
        args.extend([
            ovs.db.clone(),
            format!("--pidfile={}", p("vswitchd.pid")),
            format!("--unixctl={}", ovs.ctl.display()),
            "--detach".into(),
            format!("--log-file={}", p("vswitchd.log")),
        ]);
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ovs.run(if own_netns { "unshare" } else { vswitchd }, &args)
            .map_err(|e| format!("{e}\nvswitchd.log:\n{}", ovs.log()))?;
        ovs.wait_ready()?;
        Ok(ovs)
    }

    fn wait_ready(&self) -> Result<(), String> {
        let t0 = Instant::now();
        while self.appctl(&["version"]).is_err() {
            if t0.elapsed() > Duration::from_secs(30) {
                return Err(format!("ovs-vswitchd did not answer:\n{}", self.log()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// Runs an OVS tool with this instance's directories.
    pub fn run(&self, prog: &str, args: &[&str]) -> Result<String, String> {
        let d = self.dir.path();
        let out = Command::new(prog)
            .args(args)
            .env("OVS_RUNDIR", d)
            .env("OVS_DBDIR", d)
            .env("OVS_LOGDIR", d)
            .env("OVS_SYSCONFDIR", d)
            .output()
            .map_err(|e| format!("{prog}: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "{prog} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `ovs-vsctl` on this instance's database.
    pub fn vsctl(&self, args: &[&str]) -> Result<String, String> {
        let db = format!("--db={}", self.db);
        let mut a = vec![db.as_str()];
        a.extend_from_slice(args);
        self.run("ovs-vsctl", &a)
    }

    /// `ovs-ofctl` (its default protocol negotiation).
    pub fn ofctl(&self, args: &[&str]) -> Result<String, String> {
        self.run("ovs-ofctl", args)
    }

    /// `ovs-appctl` on this instance's `ovs-vswitchd`.
    pub fn appctl(&self, args: &[&str]) -> Result<String, String> {
        let t = self.ctl.to_string_lossy().into_owned();
        let mut a = vec!["-t", t.as_str()];
        a.extend_from_slice(args);
        self.run("ovs-appctl", &a)
    }

    /// What `ovs-vswitchd` has logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("vswitchd.log")).unwrap_or_default()
    }

    /// A file in the instance's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Ovs {
    fn drop(&mut self) {
        // Ask first (ports are closed, hugepages given back), then insist.
        let _ = self.appctl(&["exit", "--cleanup"]);
        let t0 = Instant::now();
        for pidfile in ["vswitchd.pid", "ovsdb.pid"] {
            let Ok(pid) = std::fs::read_to_string(self.dir.path().join(pidfile)) else {
                continue;
            };
            let pid = pid.trim().to_string();
            // A detached daemon that exited may linger as a zombie.
            let alive = || {
                std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
                    s.rsplit(')')
                        .next()
                        .is_some_and(|r| !r.trim_start().starts_with('Z'))
                })
            };
            while alive() && t0.elapsed() < Duration::from_secs(5) && pidfile == "vswitchd.pid" {
                std::thread::sleep(Duration::from_millis(50));
            }
            if alive() {
                let _ = Command::new("kill").arg(&pid).status();
            }
        }
    }
}
