//! The running switch: brings EAL, mempools, ports and PMDs up in order and
//! takes them down in reverse, so that no mbuf is in flight when a port or a
//! pool goes away. Every front-end (the ctl socket, OpenFlow, the run loop)
//! works through `Switch`'s methods; its state is private.
//!
//! The module map, one concern per file (each an `impl Switch` block):
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | the struct, its construction from a [`Plan`] and its teardown |
//! | `preflight.rs` | every check `run` and `check-config` make before DPDK starts |
//! | `ports.rs` | opening and closing ports while traffic flows, cross-connects, what front-ends read of ports |
//! | `placement.rs` | PMD cores, spawning and halting PMDs, rx queue placement and auto load balance, loop and SIMD settings |
//! | `rules.rs` | the rule tables: the config's rules, add / modify / delete / dump, publishing changes to the PMDs |
//! | `stats.rs` | PMD and port counters and their baselines |
//! | `capture.rs` | packet captures into pcap files |
//! | `reconfig.rs` | port-set, moving the PMDs, reload with rollback |
mod capture;
mod learning;
mod placement;
mod ports;
mod preflight;
mod reconfig;
mod rules;
mod stats;

use crate::config::{parse_affinity, Config};
use crate::datapath::{DatapathUpdate, Shared};
use crate::dpdk::{lcore, Eal};
use crate::netdev::mempools::MempoolRegistry;
use crate::pmd::capture::Taps;
use crate::pmd::stats::PmdSnapshot;
use crate::pmd::PmdSettings;
use crate::topology::Topology;
use anyhow::Context;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

pub use capture::CaptureJob;
pub use learning::MacEntry;
pub use placement::{allowed_cores, plan_cores, Balance, Rebalance};
pub use ports::{PortEntry, PortInfo};
pub use preflight::{preflight, Plan};
pub use reconfig::{PortChange, ReloadReport};

/// A PMD thread as the switch drives it: its pipeline is the datapath.
pub type PmdHandle = crate::pmd::PmdHandle<DatapathUpdate>;
/// A change to one of the switch's PMDs.
pub type PmdCommand = crate::pmd::PmdCommand<DatapathUpdate>;

/// Sets the log filter from a tracing filter spec.
pub type LogSetter = Box<dyn Fn(&str) -> Result<(), String>>;

/// The running switch. Fields drop in this order: PMDs, ports, pools, EAL.
pub struct Switch {
    /// Rule tables and what the PMDs' datapaths share.
    dp: Arc<Shared>,
    /// PMD cores, by PMD index.
    cores: Vec<usize>,
    /// The core of the main (control) thread.
    main_core: usize,
    /// The cores this process could run on when it started.
    allowed_cores: BTreeSet<usize>,
    /// NUMA nodes and their cores.
    topology: Topology,
    /// Rx queue placement state.
    balance: Balance,
    /// PMD threads.
    pmds: Vec<PmdHandle>,
    /// Port slots: indices stay stable while ports come and go.
    ports: Vec<Option<PortEntry>>,
    /// Mempools.
    pools: MempoolRegistry,
    stop: Arc<AtomicBool>,
    /// When it started.
    started: Instant,
    /// TSC ticks per second.
    tsc_hz: u64,
    /// PMD loop settings in force.
    settings: PmdSettings,
    /// Per PMD, the counters at the last `pmd-stats-clear`.
    baselines: Vec<PmdSnapshot>,
    /// Changes the log filter (set by the binary, which owns the logger).
    log_setter: Option<LogSetter>,
    /// Packet capture taps, shared with the PMDs.
    taps: Arc<Taps>,
    /// Captures being written.
    captures: Vec<CaptureJob>,
    /// The configuration in force (the file's, with run-time changes that
    /// `reload` compares against).
    config: Config,
    /// The file `config` came from, for `reload`.
    config_path: Option<PathBuf>,
    /// The rules the configuration installed at start or the last reload.
    loaded_rules: Vec<(String, String)>,
    /// Whether rules were added or deleted since (through the control socket).
    rules_edited: bool,
    _eal: Eal,
}

/// The EAL arguments for `cfg` with the main thread on `main_core`.
pub fn eal_args(cfg: &Config, main_core: usize) -> Vec<String> {
    let e = &cfg.eal;
    let mut a = Vec::new();
    let user_sets_cores = e
        .args
        .iter()
        .any(|x| x == "-l" || x == "-c" || x.starts_with("--lcores"));
    if !user_sets_cores {
        a.extend(["-l".to_string(), main_core.to_string()]);
    }
    a.extend(["--file-prefix".to_string(), e.file_prefix.clone()]);
    if let Some(m) = &e.socket_mem {
        a.extend(["--socket-mem".to_string(), m.clone()]);
    }
    if let Some(d) = &e.huge_dir {
        a.extend(["--huge-dir".to_string(), d.display().to_string()]);
    }
    if e.in_memory {
        a.push("--in-memory".into());
    }
    if e.no_pci {
        a.push("--no-pci".into());
    }
    if !e.args.iter().any(|x| x.starts_with("--log-level")) {
        // rte_vhost logs every protocol message at info level: noise for an
        // operator, and a stalled log reader would stall the vhost thread.
        a.push("--log-level=lib.vhost.config:warning".into());
    }
    a.extend(e.args.iter().cloned());
    a
}

impl Switch {
    /// Starts everything `cfg` describes, once [`preflight`] has passed
    /// (before the EAL pins this thread to the main core).
    pub fn start_planned(cfg: &Config, plan: Plan) -> anyhow::Result<Switch> {
        let Plan {
            allowed,
            topology,
            cores,
            main_core,
            rules: loaded_rules,
            warnings: _,
        } = plan;
        let args = eal_args(cfg, main_core);
        tracing::info!(?args, pmd_cores = ?cores, "initialising DPDK");
        let eal = Eal::init(&args).context("DPDK initialisation failed")?;
        // Locals drop in reverse order on an error below: ports, then pools,
        // then the EAL, which is the safe teardown order.
        let mut pools =
            MempoolRegistry::new(cfg.memory.mbufs, topology.node_of(cores[0]).unwrap_or(0));
        let n_pmds = cores.len();
        crate::dpdk::vhost::set_quiesce_hook(crate::pmd::quiesce::grace_period);
        let mut ports: Vec<Option<PortEntry>> = Vec::new();
        for (i, pc) in cfg.ports.iter().enumerate() {
            let port = ports::open_port(pc, n_pmds, &mut pools)?;
            let rxq_affinity = pc
                .rxq_affinity
                .as_deref()
                .map(|a| parse_affinity(a).expect("validated"))
                .unwrap_or_default();
            ports.push(Some(PortEntry {
                name: pc.name.clone(),
                ofport: cfg.ofport(i),
                port,
                rxq_affinity,
                config: pc.clone(),
            }));
        }
        pools.record_baseline();
        let dp = Arc::new(rules::build_datapath(cfg, &ports, &loaded_rules)?);
        let settings = PmdSettings {
            tx_flush_interval_us: cfg.pmd.tx_flush_interval_us,
            max_sleep_us: cfg.pmd.max_sleep_us,
            stage_cycles: cfg.pmd.stage_cycles,
        };
        let mut sw = Switch {
            dp,
            cores: Vec::new(),
            main_core,
            allowed_cores: allowed,
            topology,
            balance: Balance::new(cfg.pmd.clone()),
            pmds: Vec::new(),
            ports,
            pools,
            stop: Arc::new(AtomicBool::new(false)),
            started: Instant::now(),
            tsc_hz: lcore::tsc_hz(),
            settings,
            baselines: Vec::new(),
            log_setter: None,
            taps: Arc::new(Taps::default()),
            captures: Vec::new(),
            config: cfg.clone(),
            config_path: None,
            loaded_rules,
            rules_edited: false,
            _eal: eal,
        };
        sw.spawn_pmds(&cores)?;
        Ok(sw)
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The file the configuration came from, which `reload` reads again.
    pub fn config_path(&self) -> Option<&Path> {
        self.config_path.as_deref()
    }

    /// Records the file the configuration came from.
    pub fn set_config_path(&mut self, path: PathBuf) {
        self.config_path = Some(path);
    }

    /// What changes the log filter (None: the logger is not adjustable).
    pub fn log_setter(&self) -> Option<&LogSetter> {
        self.log_setter.as_ref()
    }

    /// Lets `log-level` change the log filter through `set`.
    pub fn set_log_setter(&mut self, set: LogSetter) {
        self.log_setter = Some(set);
    }

    /// NUMA nodes and their cores.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// Mempools.
    pub fn pools(&self) -> &MempoolRegistry {
        &self.pools
    }

    /// When it started.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Stops the PMDs (each flushes its output and frees what it holds),
    /// then the ports. Idempotent.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for p in &mut self.pmds {
            p.join();
        }
        for p in self.ports.iter_mut().flatten() {
            p.port.stop();
        }
    }
}

impl Drop for Switch {
    fn drop(&mut self) {
        self.stop();
    }
}
