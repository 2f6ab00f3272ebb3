//! Which PMD runs where and polls what: the PMD cores, starting and
//! stopping the PMD threads, rx queue placement (policy, NUMA, pinning,
//! measured load, auto load balance), and the settings every PMD runs with.
use super::{PmdCommand, PmdHandle, Switch};
use crate::config::{Config, PmdConfig};
use crate::datapath::{Datapath, DatapathUpdate};
use crate::dpdk::lcore;
use crate::netdev::{RxPoll, TxSend};
use crate::pmd::assign::{self, RxqLoad};
use crate::pmd::load::LoadTracker;
use crate::pmd::stats::PmdSnapshot;
use crate::pmd::{PmdSettings, PollEntry};
use crate::topology::Topology;
use anyhow::{anyhow, bail};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Rx queue placement state: the policy, measured loads, auto load balance.
pub struct Balance {
    /// The `[pmd]` settings in force (policy, auto-lb thresholds).
    pub(super) cfg: PmdConfig,
    loads: LoadTracker,
    last_check: Instant,
    runs: u64,
    moves: u64,
}

impl Balance {
    pub(super) fn new(cfg: PmdConfig) -> Balance {
        Balance {
            cfg,
            loads: LoadTracker::default(),
            last_check: Instant::now(),
            runs: 0,
            moves: 0,
        }
    }

    /// The `[pmd]` settings in force (policy, auto-lb thresholds).
    pub fn cfg(&self) -> &PmdConfig {
        &self.cfg
    }

    /// Measured loads.
    pub fn loads(&self) -> &LoadTracker {
        &self.loads
    }

    /// Reassignments made by auto load balance.
    pub fn runs(&self) -> u64 {
        self.runs
    }

    /// Queues moved by them.
    pub fn moves(&self) -> u64 {
        self.moves
    }
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

/// The PMD index a pinned queue goes to (None: not pinned, or pinned to a
/// core without a PMD, which is warned about and ignored).
pub(super) fn pinned_pmd(cores: &[usize], affinity: &[(u16, usize)], queue: u16) -> Option<usize> {
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

impl Switch {
    /// PMD threads, by PMD index: their counters and poll lists.
    pub fn pmds(&self) -> &[PmdHandle] {
        &self.pmds
    }

    /// PMD cores, by PMD index.
    pub fn cores(&self) -> &[usize] {
        &self.cores
    }

    /// PMD loop settings in force.
    pub fn settings(&self) -> PmdSettings {
        self.settings
    }

    /// Rx queue placement state.
    pub fn balance(&self) -> &Balance {
        &self.balance
    }

    /// Starts one PMD thread per core in `cores` and spreads every port's rx
    /// queues over them by the placement policy (and the loads measured so
    /// far); each PMD gets a tx handle for every port.
    pub(super) fn spawn_pmds(&mut self, cores: &[usize]) -> anyhow::Result<()> {
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
    pub(super) fn halt_pmds(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for p in &mut self.pmds {
            p.join();
        }
        self.pmds.clear();
        self.baselines.clear();
    }

    /// Posts `cmds()` to every PMD and waits until each has applied them.
    pub(super) fn post_all(&mut self, cmds: impl Fn() -> Vec<PmdCommand>) -> anyhow::Result<()> {
        for pmd in &mut self.pmds {
            if !pmd.apply(cmds()) {
                bail!("PMD on core {} did not apply the change", pmd.stats.core);
            }
        }
        Ok(())
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
}
