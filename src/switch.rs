//! The running switch: brings EAL, mempools, ports and PMDs up in order and
//! takes them down in reverse, so that no mbuf is in flight when a port or a
//! pool goes away.
use crate::config::{Config, PortType};
use crate::dpdk::{lcore, Eal};
use crate::netdev::dpdk::DpdkPort;
use crate::netdev::mempools::MempoolRegistry;
use crate::netdev::vhost::VhostPort;
use crate::netdev::{Port, TxSend};
use crate::pmd::{assign, CrossConnect, PmdHandle, PollEntry};
use anyhow::{anyhow, bail, Context};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// A port of the running switch.
pub struct PortEntry {
    /// Its configured name.
    pub name: String,
    /// Its OpenFlow number.
    pub ofport: u32,
    /// The port itself.
    pub port: Box<dyn Port>,
}

/// The running switch. Fields drop in this order: PMDs, ports, pools, EAL.
pub struct Switch {
    /// PMD threads.
    pub pmds: Vec<PmdHandle>,
    /// Ports, by index.
    pub ports: Vec<PortEntry>,
    /// Mempools.
    pub pools: MempoolRegistry,
    stop: Arc<AtomicBool>,
    /// When it started.
    pub started: Instant,
    /// TSC ticks per second.
    pub tsc_hz: u64,
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

/// The NUMA node of a CPU, from sysfs.
pub fn cpu_numa_node(core: usize) -> Option<i32> {
    std::fs::read_dir(format!("/sys/devices/system/cpu/cpu{core}"))
        .ok()?
        .filter_map(Result::ok)
        .find_map(|e| e.file_name().to_str()?.strip_prefix("node")?.parse().ok())
}

/// The PMD cores and the main core for `cfg` on this machine.
pub fn plan_cores(cfg: &Config) -> anyhow::Result<(Vec<usize>, usize)> {
    let allowed = allowed_cores();
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
        // One PMD on the last allowed core; the first is left to the system.
        cores.push(*allowed.iter().next_back().expect("non-empty"));
    }
    for c in &cores {
        if !allowed.contains(c) {
            bail!(
                "config: pmd.cores: core {c} is not available to this process (allowed cores: {})",
                list(&allowed)
            );
        }
    }
    let main = match cfg.eal.main_core {
        Some(m) if !allowed.contains(&m) => {
            bail!(
                "config: eal.main_core: core {m} is not available (allowed cores: {})",
                list(&allowed)
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

impl Switch {
    /// Starts everything `cfg` describes.
    pub fn start(cfg: &Config) -> anyhow::Result<Switch> {
        let (cores, main_core) = plan_cores(cfg)?;
        let args = eal_args(cfg, main_core);
        tracing::info!(?args, pmd_cores = ?cores, "initialising DPDK");
        let eal = Eal::init(&args).context("DPDK initialisation failed")?;
        // Locals drop in reverse order on an error below: ports, then pools,
        // then the EAL, which is the safe teardown order.
        let mut pools =
            MempoolRegistry::new(cfg.memory.mbufs, cpu_numa_node(cores[0]).unwrap_or(0));
        let n_pmds = cores.len();
        let mut ports = Vec::new();
        crate::dpdk::vhost::set_quiesce_hook(crate::pmd::quiesce::grace_period);
        for (i, pc) in cfg.ports.iter().enumerate() {
            let port: Box<dyn Port> = match pc.kind {
                PortType::Dpdk => Box::new(DpdkPort::open(pc, n_pmds, &mut pools)?),
                PortType::VhostServer | PortType::VhostClient => {
                    Box::new(VhostPort::open(pc, &mut pools)?)
                }
            };
            ports.push(PortEntry {
                name: pc.name.clone(),
                ofport: cfg.ofport(i),
                port,
            });
        }
        pools.record_baseline();

        let index = |name: &str| ports.iter().position(|p| p.name == name);
        let mut xmap = vec![None; ports.len()];
        for x in &cfg.xconnects {
            xmap[index(&x.from).expect("validated")] = Some(index(&x.to).expect("validated"));
        }

        let mut rxqs = Vec::new();
        let mut txqs: Vec<Vec<Option<Box<dyn TxSend>>>> = (0..n_pmds).map(|_| Vec::new()).collect();
        for (pi, p) in ports.iter_mut().enumerate() {
            let q = p
                .port
                .take_queues(n_pmds)
                .ok_or_else(|| anyhow!("port {}: queues already taken", p.name))?;
            for rx in q.rx {
                rxqs.push((pi, rx));
            }
            let mut tx = q.tx.into_iter();
            for per_pmd in txqs.iter_mut() {
                per_pmd.push(tx.next());
            }
        }
        let ids: Vec<_> = rxqs.iter().map(|(p, q)| (*p, q.queue())).collect();
        let plan = assign::round_robin(&ids, n_pmds);
        let mut by_id: Vec<Option<(usize, Box<dyn crate::netdev::RxPoll>)>> =
            rxqs.into_iter().map(Some).collect();

        let stop = Arc::new(AtomicBool::new(false));
        let mut pmds = Vec::new();
        for ((core, polls), tx) in cores.iter().zip(plan).zip(txqs) {
            let entries = polls
                .iter()
                .map(|id| {
                    let k = ids.iter().position(|x| x == id).expect("planned from ids");
                    let (port, rxq) = by_id[k].take().expect("each queue placed once");
                    PollEntry { port, rxq }
                })
                .collect();
            pmds.push(PmdHandle::spawn(
                *core,
                entries,
                tx,
                CrossConnect::new(xmap.clone()),
                stop.clone(),
            )?);
        }
        Ok(Switch {
            pmds,
            ports,
            pools,
            stop,
            started: Instant::now(),
            tsc_hz: lcore::tsc_hz(),
            _eal: eal,
        })
    }

    /// Stops the PMDs (each flushes its output and frees what it holds),
    /// then the ports. Idempotent.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for p in &mut self.pmds {
            p.join();
        }
        for p in &mut self.ports {
            p.port.stop();
        }
    }

    /// Index of the port named `name`.
    pub fn port_index(&self, name: &str) -> Option<usize> {
        self.ports.iter().position(|p| p.name == name)
    }
}

impl Drop for Switch {
    fn drop(&mut self) {
        self.stop();
    }
}
