//! The running switch: brings EAL, mempools, ports and PMDs up in order and
//! takes them down in reverse, so that no mbuf is in flight when a port or a
//! pool goes away.
mod capture;
mod preflight;
mod reconfig;

use crate::config::{parse_affinity, Config, PmdConfig, PortConfig, PortType};
use crate::datapath::dump::FlowDump;
use crate::datapath::{Datapath, DatapathUpdate, Shared, SubtableReport};
use crate::dpdk::{lcore, Eal};
use crate::netdev::dpdk::DpdkPort;
use crate::netdev::mempools::MempoolRegistry;
use crate::netdev::vhost::VhostPort;
use crate::netdev::{Port, RxPoll, TxSend};
use crate::ofproto::normal::{MacTable, PortSet};
use crate::ofproto::table::{Rule, Selector};
use crate::ofproto::xlate::Ofproto;
use crate::pmd::assign::RxqLoad;
use crate::pmd::capture::Taps;
use crate::pmd::load::LoadTracker;
use crate::pmd::stats::PmdSnapshot;
use crate::pmd::stats::MAX_PORTS;
use crate::pmd::{assign, PmdSettings, PollEntry};

/// A PMD thread as the switch drives it: its pipeline is the datapath.
pub type PmdHandle = crate::pmd::PmdHandle<DatapathUpdate>;
/// A change to one of the switch's PMDs.
pub type PmdCommand = crate::pmd::PmdCommand<DatapathUpdate>;
use crate::topology::Topology;
use anyhow::{anyhow, bail, Context};
pub use capture::CaptureJob;
pub use preflight::{preflight, Plan};
pub use reconfig::{PortChange, ReloadReport};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Instant;

/// Sets the log filter from a tracing filter spec.
pub type LogSetter = Box<dyn Fn(&str) -> Result<(), String>>;

/// A port of the running switch.
pub struct PortEntry {
    /// Its name.
    pub name: String,
    /// Its OpenFlow number.
    pub ofport: u32,
    /// The port itself.
    pub port: Box<dyn Port>,
    /// Rx queues pinned to cores: (queue, core).
    pub rxq_affinity: Vec<(u16, usize)>,
    /// How it was opened.
    pub config: PortConfig,
}

/// A port as OpenFlow describes it (PORT_DESC, PORT_STATS).
#[derive(Debug, Clone)]
pub struct PortInfo {
    /// Its name.
    pub name: String,
    /// Its OpenFlow number.
    pub ofport: u32,
    /// Its Ethernet address (zero when it has none, as vhost-user).
    pub mac: [u8; 6],
    /// Whether the link is up.
    pub link_up: bool,
    /// Link speed in Mbps (0 when unknown).
    pub speed_mbps: u32,
    /// Packets the PMDs received from it.
    pub rx_packets: u64,
    /// Packets the PMDs sent on it.
    pub tx_packets: u64,
    /// Packets the PMDs could not send on it.
    pub tx_dropped: u64,
    /// The device's own counters.
    pub device: crate::dpdk::ethdev::PortStats,
}

/// Whether `r` outputs to `port` (any rule when `port` is None), OpenFlow's
/// out_port filter.
fn outputs_to(r: &Rule, port: Option<u32>) -> bool {
    port.is_none_or(|p| {
        r.actions
            .iter()
            .any(|a| matches!(a, crate::ofproto::Action::Output(o) if *o == p))
    })
}

/// Rx queue placement state: the policy, measured loads, auto load balance.
pub struct Balance {
    /// The `[pmd]` settings in force (policy, auto-lb thresholds).
    pub cfg: PmdConfig,
    /// Measured loads.
    pub loads: LoadTracker,
    last_check: Instant,
    /// Reassignments made by auto load balance.
    pub runs: u64,
    /// Queues moved by them.
    pub moves: u64,
}

/// What a reassignment did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rebalance {
    /// Queues that changed PMD.
    pub moved: usize,
    /// Variance of PMD loads before and (predicted) after.
    pub variance_before: f64,
    /// Predicted variance after.
    pub variance_after: f64,
}

/// The rule tables at start: the config's flows, its flows file, and its
/// cross-connects as `in_port=A,actions=output:B` rules. A bad rule is
/// refused with where and why.
fn build_datapath(
    cfg: &Config,
    ports: &[Option<PortEntry>],
    rules: &[(String, String)],
) -> anyhow::Result<Shared> {
    let ofports: Vec<Option<u32>> = ports.iter().map(|p| p.as_ref().map(|p| p.ofport)).collect();
    let mut of = Ofproto::new(PortSet::trunks(ofports.iter().flatten().copied()));
    of.macs = MacTable::new(cfg.datapath.mac_ageing_s);
    of.forward_bpdu = cfg.datapath.forward_bpdu;
    install_rules(&mut of, rules)?;
    Ok(Shared::new(of, ofports, cfg.datapath.clone()))
}

/// The rules `cfg` asks for, each with where it came from: `[datapath]`
/// flows, the flows file, and the cross-connects.
fn config_rules(cfg: &Config) -> anyhow::Result<Vec<(String, String)>> {
    let mut rules: Vec<(String, String)> = cfg
        .datapath
        .flows
        .iter()
        .enumerate()
        .map(|(i, f)| (format!("datapath.flows[{i}]"), f.clone()))
        .collect();
    if let Some(path) = &cfg.datapath.flows_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("datapath.flows_file: cannot read {}", path.display()))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if !line.is_empty() && !line.starts_with('#') {
                rules.push((
                    format!("{} line {}", path.display(), n + 1),
                    line.to_owned(),
                ));
            }
        }
    }
    let ofport_of = |name: &str| {
        cfg.ports
            .iter()
            .position(|p| p.name == name)
            .map(|i| cfg.ofport(i))
            .expect("validated")
    };
    for (i, x) in cfg.xconnects.iter().enumerate() {
        rules.push((
            format!("xconnect[{i}]"),
            format!(
                "in_port={},actions=output:{}",
                ofport_of(&x.from),
                ofport_of(&x.to)
            ),
        ));
    }
    Ok(rules)
}

/// Adds `rules` to `of`; the first that does not parse is refused with
/// where it came from.
fn install_rules(of: &mut Ofproto, rules: &[(String, String)]) -> anyhow::Result<()> {
    for (place, text) in rules {
        of.add_flow(text)
            .map_err(|e| anyhow!("config: {place}: {text:?}: {e}"))?;
    }
    Ok(())
}

/// The PMD index a pinned queue goes to (None: not pinned, or pinned to a
/// core without a PMD, which is warned about and ignored).
fn pinned_pmd(cores: &[usize], affinity: &[(u16, usize)], queue: u16) -> Option<usize> {
    let core = affinity.iter().find(|(q, _)| *q == queue)?.1;
    let k = cores.iter().position(|c| *c == core);
    if k.is_none() {
        tracing::warn!(
            queue,
            core,
            "rx queue pinned to a core without a PMD; placing it by policy"
        );
    }
    k
}

/// The running switch. Fields drop in this order: PMDs, ports, pools, EAL.
pub struct Switch {
    /// Rule tables and what the PMDs' datapaths share.
    pub dp: Arc<Shared>,
    /// PMD cores, by PMD index.
    pub cores: Vec<usize>,
    /// The core of the main (control) thread.
    pub main_core: usize,
    /// The cores this process could run on when it started.
    pub allowed_cores: BTreeSet<usize>,
    /// NUMA nodes and their cores.
    pub topology: Topology,
    /// Rx queue placement state.
    pub balance: Balance,
    /// PMD threads.
    pub pmds: Vec<PmdHandle>,
    /// Port slots: indices stay stable while ports come and go.
    pub ports: Vec<Option<PortEntry>>,
    /// Mempools.
    pub pools: MempoolRegistry,
    stop: Arc<AtomicBool>,
    /// When it started.
    pub started: Instant,
    /// TSC ticks per second.
    pub tsc_hz: u64,
    /// PMD loop settings in force.
    pub settings: PmdSettings,
    /// Per PMD, the counters at the last `pmd-stats-clear`.
    pub baselines: Vec<PmdSnapshot>,
    /// Changes the log filter (set by the binary, which owns the logger).
    pub log_setter: Option<LogSetter>,
    /// Packet capture taps, shared with the PMDs.
    pub taps: Arc<Taps>,
    /// Captures being written.
    pub captures: Vec<CaptureJob>,
    /// The configuration in force (the file's, with run-time changes that
    /// `reload` compares against).
    pub config: Config,
    /// The file `config` came from, for `reload`.
    pub config_path: Option<PathBuf>,
    /// The rules the configuration installed at start or the last reload.
    loaded_rules: Vec<(String, String)>,
    /// Whether rules were added or deleted since (through the control socket).
    rules_edited: bool,
    _eal: Eal,
}

/// Cores this process may run on.
pub fn allowed_cores() -> BTreeSet<usize> {
    core_affinity::get_core_ids()
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.id)
        .collect()
}

/// The PMD cores and the main core for `cfg` on this machine: by default,
/// as OVS does, one PMD per NUMA node, on the node's last allowed core.
pub fn plan_cores(
    cfg: &Config,
    allowed: &BTreeSet<usize>,
    topo: &Topology,
) -> anyhow::Result<(Vec<usize>, usize)> {
    if allowed.is_empty() {
        bail!("cannot read this process's CPU affinity");
    }
    let list = |s: &BTreeSet<usize>| {
        s.iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut cores = cfg.pmd_cores()?;
    if cores.is_empty() {
        for node in topo.nodes() {
            if let Some(c) = topo
                .cpus_on(node)
                .into_iter()
                .rfind(|c| allowed.contains(c))
            {
                cores.push(c);
            }
        }
        if cores.is_empty() || cores.len() == allowed.len() && allowed.len() > 1 {
            // Leave the first core to the system and the main thread.
            cores = vec![*allowed.iter().next_back().expect("non-empty")];
        }
    }
    for c in &cores {
        if !allowed.contains(c) {
            bail!(
                "config: pmd.cores: core {c} is not available to this process (allowed cores: {})",
                list(allowed)
            );
        }
    }
    let main = match cfg.eal.main_core {
        Some(m) if !allowed.contains(&m) => {
            bail!(
                "config: eal.main_core: core {m} is not available (allowed cores: {})",
                list(allowed)
            )
        }
        Some(m) => m,
        None => allowed
            .iter()
            .copied()
            .find(|c| !cores.contains(c))
            .unwrap_or(cores[0]),
    };
    Ok((cores, main))
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

fn open_port(
    pc: &PortConfig,
    n_pmds: usize,
    pools: &mut MempoolRegistry,
) -> anyhow::Result<Box<dyn Port>> {
    Ok(match pc.kind {
        PortType::Dpdk => Box::new(DpdkPort::open(pc, n_pmds, pools)?),
        PortType::VhostServer | PortType::VhostClient => Box::new(VhostPort::open(pc, pools)?),
    })
}

impl Switch {
    /// Starts everything `cfg` describes.
    pub fn start(cfg: &Config) -> anyhow::Result<Switch> {
        Self::start_planned(cfg, preflight(cfg)?)
    }

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
            let port = open_port(pc, n_pmds, &mut pools)?;
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
        let dp = Arc::new(build_datapath(cfg, &ports, &loaded_rules)?);
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
            balance: Balance {
                cfg: cfg.pmd.clone(),
                loads: LoadTracker::default(),
                last_check: Instant::now(),
                runs: 0,
                moves: 0,
            },
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

    /// Starts one PMD thread per core in `cores` and spreads every port's rx
    /// queues over them by the placement policy (and the loads measured so
    /// far); each PMD gets a tx handle for every port.
    fn spawn_pmds(&mut self, cores: &[usize]) -> anyhow::Result<()> {
        let n_pmds = cores.len();
        let mut rxqs: Vec<(usize, Box<dyn RxPoll>)> = Vec::new();
        let mut txqs: Vec<Vec<Option<Box<dyn TxSend>>>> = (0..n_pmds).map(|_| Vec::new()).collect();
        for (pi, slot) in self.ports.iter_mut().enumerate() {
            let Some(p) = slot.as_mut() else {
                for per_pmd in txqs.iter_mut() {
                    per_pmd.push(None);
                }
                continue;
            };
            let q = p
                .port
                .take_queues(n_pmds)
                .ok_or_else(|| anyhow!("port {}: queues already taken", p.name))?;
            rxqs.extend(q.rx.into_iter().map(|rx| (pi, rx)));
            let mut tx = q.tx.into_iter();
            for per_pmd in txqs.iter_mut() {
                per_pmd.push(tx.next());
            }
        }
        let loads: Vec<RxqLoad> = rxqs
            .iter()
            .map(|(p, q)| {
                let aff = &self.ports[*p].as_ref().expect("live").rxq_affinity;
                RxqLoad {
                    id: (*p, q.queue()),
                    load: self.balance.loads.rxq_load((*p, q.queue())),
                    pinned: pinned_pmd(cores, aff, q.queue()),
                }
            })
            .collect();
        let placement = self.place(&loads, cores, self.balance.cfg.rxq_assign);
        let mut per_pmd: Vec<Vec<PollEntry>> = (0..n_pmds).map(|_| Vec::new()).collect();
        for ((port, rxq), k) in rxqs.into_iter().zip(placement) {
            per_pmd[k].push(PollEntry::new(port, rxq));
        }
        self.stop = Arc::new(AtomicBool::new(false));
        let tsc_hz = lcore::tsc_hz();
        for ((core, entries), tx) in cores.iter().zip(per_pmd).zip(txqs) {
            self.pmds.push(PmdHandle::spawn(
                *core,
                entries,
                tx,
                Datapath::new(self.dp.clone(), *core, tsc_hz),
                self.settings,
                self.taps.clone(),
                self.stop.clone(),
            )?);
        }
        self.cores = cores.to_vec();
        self.baselines = vec![PmdSnapshot::default(); self.pmds.len()];
        Ok(())
    }

    /// Stops and joins every PMD thread; each flushes its output and frees
    /// what it holds, and drops its queue handles.
    fn halt_pmds(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for p in &mut self.pmds {
            p.join();
        }
        self.pmds.clear();
        self.baselines.clear();
    }

    /// The live ports with their slot index.
    pub fn live_ports(&self) -> impl Iterator<Item = (usize, &PortEntry)> {
        self.ports
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.as_ref().map(|p| (i, p)))
    }

    /// Slot index of the port named `name`.
    pub fn port_index(&self, name: &str) -> Option<usize> {
        self.live_ports()
            .find(|(_, p)| p.name == name)
            .map(|(i, _)| i)
    }

    fn post_all(&mut self, cmds: impl Fn() -> Vec<PmdCommand>) -> anyhow::Result<()> {
        for pmd in &mut self.pmds {
            if !pmd.apply(cmds()) {
                bail!("PMD on core {} did not apply the change", pmd.stats.core);
            }
        }
        Ok(())
    }

    /// Opens a port while traffic flows: its rx queues join the least busy
    /// PMDs' poll lists and every PMD gets a tx handle for it.
    pub fn add_port(&mut self, pc: PortConfig) -> anyhow::Result<usize> {
        pc.validate(&pc.name).map_err(|e| anyhow!("{e}"))?;
        if self.port_index(&pc.name).is_some() {
            bail!("a port named {:?} exists", pc.name);
        }
        if let Some((_, p)) = self
            .live_ports()
            .find(|(_, p)| p.config.device() == pc.device())
        {
            bail!("{} is already open as port {:?}", pc.device(), p.name);
        }
        let ofport = match pc.ofport {
            Some(o) if self.live_ports().any(|(_, p)| p.ofport == o) => {
                bail!("ofport {o} is in use")
            }
            Some(o) => o,
            None => self.live_ports().map(|(_, p)| p.ofport).max().unwrap_or(0) + 1,
        };
        let slot = match self.ports.iter().position(Option::is_none) {
            Some(s) => s,
            None if self.ports.len() < MAX_PORTS => {
                self.ports.push(None);
                self.ports.len() - 1
            }
            None => bail!("the switch has {MAX_PORTS} ports, the most it can have"),
        };
        let n_pmds = self.pmds.len();
        let mut port = open_port(&pc, n_pmds, &mut self.pools)?;
        let q = port
            .take_queues(n_pmds)
            .ok_or_else(|| anyhow!("port {}: queues already taken", pc.name))?;
        let mut tx = q.tx.into_iter();
        let affinity = pc
            .rxq_affinity
            .as_deref()
            .map(|a| parse_affinity(a).expect("validated"))
            .unwrap_or_default();
        let mut rx_for: Vec<Vec<PollEntry>> = (0..n_pmds).map(|_| Vec::new()).collect();
        for rxq in q.rx {
            // Its pinned PMD, or the one with the fewest queues (counting
            // those placed now); the next rebalance weighs measured load.
            let k = pinned_pmd(&self.cores, &affinity, rxq.queue()).unwrap_or_else(|| {
                (0..n_pmds)
                    .min_by_key(|&k| self.pmds[k].polls.len() + rx_for[k].len())
                    .expect("a PMD")
            });
            rx_for[k].push(PollEntry::new(slot, rxq));
        }
        // Every PMD can send to the port, then knows its OpenFlow number,
        // and only then polls it: a packet from it never meets a PMD that
        // would take it for in_port 0 (its first frames, a VM's DHCP and
        // ARP, would be dropped by a megaflow for no port).
        let post = |pmds: &mut [PmdHandle], k: usize, cmds: Vec<PmdCommand>| {
            if pmds[k].apply(cmds) {
                return Ok(());
            }
            Err(anyhow!(
                "PMD on core {} did not take the new port",
                pmds[k].stats.core
            ))
        };
        for k in 0..n_pmds {
            post(&mut self.pmds, k, vec![PmdCommand::SetTx(slot, tx.next())])?;
        }
        tracing::info!(port = %pc.name, slot, ofport, "port added");
        self.ports[slot] = Some(PortEntry {
            name: pc.name.clone(),
            ofport,
            port,
            rxq_affinity: affinity,
            config: pc,
        });
        self.ports_changed()?;
        for (k, rx) in rx_for.into_iter().enumerate() {
            post(
                &mut self.pmds,
                k,
                rx.into_iter().map(PmdCommand::AddRx).collect(),
            )?;
        }
        Ok(slot)
    }

    /// Removes a port while traffic flows: the PMDs stop polling it and
    /// flush what they hold for it, then it is stopped and closed.
    pub fn del_port(&mut self, name: &str) -> anyhow::Result<()> {
        let slot = self
            .port_index(name)
            .ok_or_else(|| anyhow!("no port named {name:?}"))?;
        self.post_all(|| vec![PmdCommand::RemovePort(slot)])?;
        let mut entry = self.ports[slot].take().expect("found above");
        self.ports_changed()?;
        entry.port.stop();
        self.pools.remove_user(&entry.name);
        drop(entry);
        // A capture follows its port, not the slot the next port may take.
        self.end_captures_of(slot);
        tracing::info!(port = name, slot, "port removed");
        Ok(())
    }

    /// Cross-connects `from` to `to` (None: stop forwarding from `from`):
    /// the rule `in_port=FROM,actions=output:TO` at the default priority.
    pub fn set_xconnect(&mut self, from: &str, to: Option<&str>) -> anyhow::Result<()> {
        let ofport = |n: &str| -> anyhow::Result<u32> {
            let i = self
                .port_index(n)
                .ok_or_else(|| anyhow!("no port named {n:?}"))?;
            Ok(self.ports[i].as_ref().expect("live").ofport)
        };
        let f = ofport(from)?;
        match to {
            Some(t) => {
                let t = ofport(t)?;
                self.add_flow(&format!("in_port={f},actions=output:{t}"))?;
            }
            None => {
                self.del_flows(&format!("in_port={f}"), true)?;
            }
        }
        Ok(())
    }

    /// Publishes a change of the rule tables or ports and waits until every
    /// PMD has revalidated its megaflows: after this returns, no cache
    /// serves a result from before the change.
    pub fn sync_datapath(&mut self) -> anyhow::Result<()> {
        self.dp.changed();
        self.post_all(|| vec![PmdCommand::Pipeline(DatapathUpdate::Revalidate)])
    }

    /// Tells the slow path which OpenFlow ports exist (NORMAL floods to them).
    fn ports_changed(&mut self) -> anyhow::Result<()> {
        let ofports: Vec<Option<u32>> = self
            .ports
            .iter()
            .map(|p| p.as_ref().map(|p| p.ofport))
            .collect();
        {
            let mut slow = self.dp.lock();
            slow.ofproto
                .set_ports(PortSet::trunks(ofports.iter().flatten().copied()));
            slow.ofports = ofports;
        }
        self.sync_datapath()
    }

    /// Adds (or replaces) a rule given in ovs-ofctl syntax.
    pub fn add_flow(&mut self, text: &str) -> anyhow::Result<()> {
        let fm = crate::ofproto::parse::parse_flow(text).map_err(|e| anyhow!("{e}"))?;
        self.add_rule(&fm, true)
    }

    /// Adds (or replaces) a rule. With `sync`, returns once every PMD has
    /// revalidated; without, the PMDs pick the change up at the top of
    /// their next loop and a later [`Switch::sync_datapath`] (OpenFlow's
    /// BARRIER) waits for it.
    pub fn add_rule(&mut self, fm: &crate::ofproto::FlowMod, sync: bool) -> anyhow::Result<()> {
        self.dp.lock().ofproto.pipeline.add(fm);
        self.rules_changed(sync)
    }

    /// Replaces the actions of the rules `sel` picks (and, with `out_port`,
    /// only those that output there); returns how many.
    pub fn modify_rules(
        &mut self,
        sel: &Selector,
        out_port: Option<u32>,
        actions: &[crate::ofproto::Action],
        sync: bool,
    ) -> anyhow::Result<usize> {
        let n = self
            .dp
            .lock()
            .ofproto
            .pipeline
            .modify_if(sel, actions, |r| outputs_to(r, out_port));
        if n > 0 {
            self.rules_changed(sync)?;
        }
        Ok(n)
    }

    /// Deletes the rules `sel` picks (and, with `out_port`, only those that
    /// output there); returns them.
    pub fn delete_rules(
        &mut self,
        sel: &Selector,
        out_port: Option<u32>,
        sync: bool,
    ) -> anyhow::Result<Vec<Arc<Rule>>> {
        let gone = self
            .dp
            .lock()
            .ofproto
            .pipeline
            .delete_if(sel, |r| outputs_to(r, out_port));
        self.rules_changed(sync)?;
        Ok(gone)
    }

    /// The rules `sel` picks (every rule without one), with counters
    /// brought up to date from the megaflows, and `out_port` filtered.
    pub fn rules(
        &mut self,
        sel: Option<&Selector>,
        out_port: Option<u32>,
    ) -> anyhow::Result<Vec<Arc<Rule>>> {
        let mut v = self.dump_rules()?;
        if let Some(sel) = sel {
            let picked: std::collections::HashSet<u64> = self
                .dp
                .lock()
                .ofproto
                .pipeline
                .select(sel)
                .iter()
                .map(|r| r.id)
                .collect();
            v.retain(|r| picked.contains(&r.id));
        }
        v.retain(|r| outputs_to(r, out_port));
        Ok(v)
    }

    fn rules_changed(&mut self, sync: bool) -> anyhow::Result<()> {
        self.rules_edited = true;
        if sync {
            self.sync_datapath()
        } else {
            self.dp.changed();
            Ok(())
        }
    }

    /// Every live port with its OpenFlow number, address, link and counters
    /// (the PMDs' packets and drops, the device's bytes and errors).
    pub fn port_infos(&self) -> Vec<PortInfo> {
        self.live_ports()
            .map(|(i, p)| {
                let sum = |f: fn(&crate::pmd::stats::PortCounters) -> u64| -> u64 {
                    self.pmds.iter().map(|pmd| f(&pmd.stats.ports[i])).sum()
                };
                let det = p.port.details();
                let mut mac = [0u8; 6];
                let text = det["mac"].as_str().unwrap_or("");
                for (b, h) in mac.iter_mut().zip(text.split(':')) {
                    *b = u8::from_str_radix(h, 16).unwrap_or(0);
                }
                PortInfo {
                    name: p.name.clone(),
                    ofport: p.ofport,
                    mac,
                    link_up: det["link"]["up"].as_bool().unwrap_or(false),
                    speed_mbps: det["link"]["speed_mbps"].as_u64().unwrap_or(0) as u32,
                    rx_packets: sum(|c| c.rx.get()),
                    tx_packets: sum(|c| c.tx.get()),
                    tx_dropped: sum(|c| c.tx_dropped.get()),
                    device: p.port.stats(),
                }
            })
            .collect()
    }

    /// Deletes the rules matching `text` (strictly: same match and priority).
    /// Returns how many.
    pub fn del_flows(&mut self, text: &str, strict: bool) -> anyhow::Result<usize> {
        let n = self
            .dp
            .lock()
            .ofproto
            .del_flows(text, strict)
            .map_err(|e| anyhow!("{e}"))?
            .len();
        self.rules_changed(true)?;
        Ok(n)
    }

    /// Every megaflow of every PMD.
    pub fn dump_flows(&mut self) -> anyhow::Result<Vec<FlowDump>> {
        let out = Arc::new(Mutex::new(Vec::new()));
        self.post_all(|| vec![PmdCommand::Pipeline(DatapathUpdate::DumpFlows(out.clone()))])?;
        let v = std::mem::take(&mut *out.lock().unwrap_or_else(|e| e.into_inner()));
        Ok(v)
    }

    /// Each PMD's classifier subtables (core, then subtables in rank order).
    pub fn dpcls_subtables(&mut self) -> anyhow::Result<Vec<SubtableReport>> {
        let out = Arc::new(Mutex::new(Vec::new()));
        self.post_all(|| vec![PmdCommand::Pipeline(DatapathUpdate::Subtables(out.clone()))])?;
        let mut v = std::mem::take(&mut *out.lock().unwrap_or_else(|e| e.into_inner()));
        v.sort_by_key(|r: &SubtableReport| r.0);
        Ok(v)
    }

    /// Every rule, with counters brought up to date from the megaflows.
    pub fn dump_rules(&mut self) -> anyhow::Result<Vec<Arc<Rule>>> {
        self.post_all(|| vec![PmdCommand::Pipeline(DatapathUpdate::PushRuleStats)])?;
        Ok(self.dp.lock().ofproto.pipeline.dump())
    }

    /// The queues as they are placed now, with their measured loads.
    fn current_placement(&self) -> (Vec<RxqLoad>, Vec<usize>) {
        let mut loads = Vec::new();
        let mut placed = Vec::new();
        for (k, p) in self.pmds.iter().enumerate() {
            for q in &p.polls {
                let aff = self.ports[q.port]
                    .as_ref()
                    .map(|e| e.rxq_affinity.as_slice())
                    .unwrap_or(&[]);
                loads.push(RxqLoad {
                    id: (q.port, q.queue),
                    load: self.balance.loads.rxq_load((q.port, q.queue)),
                    pinned: pinned_pmd(&self.cores, aff, q.queue),
                });
                placed.push(k);
            }
        }
        (loads, placed)
    }

    /// Places every rx queue anew by the policy and measured loads, moving
    /// those whose PMD changes. A moving queue is first handed back by its
    /// old PMD (which flushes its output), then polled by the new one: no
    /// packet is lost or overtaken; it waits in the queue meanwhile.
    pub fn rebalance(&mut self) -> anyhow::Result<Rebalance> {
        let (loads, now) = self.current_placement();
        let next = self.place(&loads, &self.cores, self.balance.cfg.rxq_assign);
        self.apply_placement(&loads, &now, &next)
    }

    /// Places `loads` on PMDs on `cores` by `policy`, each queue preferring
    /// the PMDs on its port's NUMA node; warns of queues polled from another
    /// node (their packets cross the interconnect).
    fn place(&self, loads: &[RxqLoad], cores: &[usize], policy: assign::Policy) -> Vec<usize> {
        let port_node = |slot: usize| self.ports[slot].as_ref().map_or(-1, |p| p.port.numa_node());
        let queue_node: Vec<i32> = loads.iter().map(|q| port_node(q.id.0)).collect();
        let pmd_node: Vec<i32> = cores
            .iter()
            .map(|c| self.topology.node_of(*c).unwrap_or(-1))
            .collect();
        let placed = assign::assign_numa(loads, &queue_node, &pmd_node, policy);
        for ((q, node), k) in loads.iter().zip(&queue_node).zip(&placed) {
            if *node >= 0 && pmd_node[*k] != *node {
                let name = self.ports[q.id.0].as_ref().map_or("?", |p| p.name.as_str());
                tracing::warn!(
                    port = name,
                    queue = q.id.1,
                    port_numa = node,
                    pmd_core = cores[*k],
                    pmd_numa = pmd_node[*k],
                    "rx queue polled from a remote NUMA node"
                );
            }
        }
        placed
    }

    fn apply_placement(
        &mut self,
        loads: &[RxqLoad],
        now: &[usize],
        next: &[usize],
    ) -> anyhow::Result<Rebalance> {
        let n = self.pmds.len();
        let report = Rebalance {
            moved: now.iter().zip(next).filter(|(a, b)| a != b).count(),
            variance_before: assign::variance(&assign::pmd_loads(loads, now, n)),
            variance_after: assign::variance(&assign::pmd_loads(loads, next, n)),
        };
        for ((q, from), to) in loads.iter().zip(now).zip(next) {
            if from == to {
                continue;
            }
            let (port, queue) = q.id;
            if !self.pmds[*from].apply(vec![PmdCommand::TakeRx(port, queue)]) {
                bail!(
                    "PMD on core {} did not hand queue {queue} of port {port} back",
                    self.cores[*from]
                );
            }
            for e in self.pmds[*from].take_returned() {
                if !self.pmds[*to].apply(vec![PmdCommand::AddRx(e)]) {
                    bail!(
                        "PMD on core {} did not take queue {queue} of port {port}",
                        self.cores[*to]
                    );
                }
            }
        }
        Ok(report)
    }

    /// Called once a second by the main loop: samples loads and, when auto
    /// load balance is on and its interval has passed, reassigns queues if a
    /// PMD is overloaded and the new placement cuts the load variance enough.
    pub fn tick(&mut self) -> Option<Rebalance> {
        self.balance.loads.sample(&self.pmds);
        let cfg = self.balance.cfg.clone();
        if !cfg.auto_lb
            || self.pmds.len() < 2
            || self.balance.last_check.elapsed().as_secs() < cfg.auto_lb_interval_s as u64
        {
            return None;
        }
        self.balance.last_check = Instant::now();
        let b = &self.balance;
        let overloaded = (0..self.pmds.len())
            .any(|k| b.loads.pmd_busy_pct(k) >= b.cfg.auto_lb_load_threshold as f64);
        if !overloaded {
            return None;
        }
        let (loads, now) = self.current_placement();
        // Auto load balance weighs measured cycles even when the initial
        // placement was round-robin.
        let policy = match b.cfg.rxq_assign {
            assign::Policy::RoundRobin => assign::Policy::Group,
            p => p,
        };
        let next = self.place(&loads, &self.cores, policy);
        let n = self.pmds.len();
        let before = assign::variance(&assign::pmd_loads(&loads, &now, n));
        let after = assign::variance(&assign::pmd_loads(&loads, &next, n));
        let improvement = if before > 0.0 {
            100.0 * (before - after) / before
        } else {
            0.0
        };
        if improvement < b.cfg.auto_lb_improvement_threshold as f64 {
            tracing::debug!(improvement, "auto load balance: not worth a reassignment");
            return None;
        }
        match self.apply_placement(&loads, &now, &next) {
            Ok(r) => {
                self.balance.runs += 1;
                self.balance.moves += r.moved as u64;
                tracing::info!(
                    moved = r.moved,
                    improvement = format_args!("{improvement:.0}%"),
                    "auto load balance reassigned rx queues"
                );
                Some(r)
            }
            Err(e) => {
                tracing::error!("auto load balance: {e:#}");
                None
            }
        }
    }

    /// Changes the PMD loop settings on every PMD.
    pub fn set_settings(&mut self, s: PmdSettings) -> anyhow::Result<()> {
        self.post_all(|| vec![PmdCommand::Settings(s)])?;
        self.settings = s;
        Ok(())
    }

    /// The SIMD settings (`subtable-lookup-prio-set`, `miniflow-parser-set`).
    pub fn simd_config(&self) -> crate::simd::SimdConfig {
        self.dp
            .simd
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Applies SIMD settings: every PMD runs the variants they select from
    /// the top of its next loop; PMDs started later start with them.
    pub fn set_simd(&mut self, cfg: crate::simd::SimdConfig) -> anyhow::Result<()> {
        let choice = cfg.choice();
        *self.dp.simd.lock().unwrap_or_else(|e| e.into_inner()) = cfg;
        self.post_all(|| vec![PmdCommand::Pipeline(DatapathUpdate::Simd(choice))])
    }

    /// Each PMD's counters since the last `pmd-stats-clear`.
    pub fn pmd_snapshots(&self) -> Vec<PmdSnapshot> {
        self.pmds
            .iter()
            .zip(&self.baselines)
            .map(|(p, b)| p.stats.snapshot().since(b))
            .collect()
    }

    /// Makes the PMD counters read zero from now on.
    pub fn clear_pmd_stats(&mut self) {
        self.baselines = self.pmds.iter().map(|p| p.stats.snapshot()).collect();
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
