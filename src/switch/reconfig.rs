//! Changes to a running switch that go beyond adding and removing ports:
//! a port's MTU or queue counts, the PMD core set, and reloading the whole
//! configuration file. Everything is checked before anything is applied; a
//! step that fails at run time (a device refusing a setting) is undone where
//! it can be and reported.
use super::rules::{config_rules, install_rules};
use super::PmdCommand;
use super::Switch;
use crate::config::{Config, PortConfig, PortType};
use crate::datapath::DatapathUpdate;
use crate::ofproto::normal::PortSet;
use crate::ofproto::xlate::Ofproto;
use crate::pmd::PmdSettings;
use anyhow::{anyhow, bail, Context};
use serde::Serialize;

/// New settings for one port; `None` keeps the current value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PortChange {
    /// MTU (its buffers come from the pool sized for it).
    pub mtu: Option<u16>,
    /// Rx queues.
    pub rxq: Option<u16>,
    /// Tx queues (`Some(0)`: one per PMD thread).
    pub txq: Option<u16>,
}

/// What a reload changed.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct ReloadReport {
    /// Ports opened.
    pub added: Vec<String>,
    /// Ports closed.
    pub removed: Vec<String>,
    /// Ports reopened with new settings.
    pub changed: Vec<String>,
    /// Ports left running as they were.
    pub unchanged: Vec<String>,
    /// New PMD cores, when they changed.
    pub pmd_cores: Option<Vec<usize>>,
    /// Whether the rule set was replaced.
    pub rules_replaced: bool,
    /// Rules in force afterwards.
    pub rules: usize,
    /// Whether PMD loop or placement settings changed.
    pub pmd_settings_changed: bool,
}

/// A step of a reload that succeeded, and so is undone if a later one fails.
enum Undo {
    /// A port was closed; this is how it was (its OpenFlow number included).
    Removed(PortConfig),
    /// A port was opened.
    Added(String),
    /// A port was reopened; this is how it was.
    Reopened(String, PortConfig),
    /// The PMDs moved from these cores.
    Cores(Vec<usize>),
}

/// A port's settings other than its OpenFlow number, which is compared
/// separately (the file may leave it implicit).
fn same_port(a: &PortConfig, b: &PortConfig) -> bool {
    let strip = |p: &PortConfig| PortConfig {
        ofport: None,
        ..p.clone()
    };
    strip(a) == strip(b)
}

impl Switch {
    /// Checks a PMD core list against this machine and the main core.
    fn check_pmd_cores(&self, cores: &[usize]) -> anyhow::Result<()> {
        if cores.is_empty() {
            bail!("pmd cores: the list is empty");
        }
        for (i, c) in cores.iter().enumerate() {
            if !self.allowed_cores.contains(c) {
                bail!("pmd cores: core {c} is not available to this process");
            }
            if cores[..i].contains(c) {
                bail!("pmd cores: core {c} is listed twice");
            }
        }
        // As in the config: a main core named in `[eal]` is never a PMD
        // core; one picked by default may share when no other is free.
        if self.config.eal.main_core.is_some() && cores.contains(&self.main_core) {
            bail!(
                "pmd cores: core {} is eal.main_core, the main thread's core",
                self.main_core
            );
        }
        if cores.contains(&self.main_core) {
            tracing::warn!(
                core = self.main_core,
                "a PMD shares its core with the main thread"
            );
        }
        Ok(())
    }

    /// Moves the PMD threads to `cores`: the PMDs stop (flushing what they
    /// hold), every port's queues are handed out anew for the new thread
    /// count (ports with a tx queue per PMD are reconfigured), and new PMDs
    /// start polling. Rules and megaflow revalidation carry over; PMD
    /// counters start from zero. Traffic pauses for the switch-over; what
    /// waits in rx rings meanwhile is received afterwards or, for devices that
    /// reconfigure, returned to its pool.
    pub fn set_pmd_cores(&mut self, cores: &[usize]) -> anyhow::Result<()> {
        self.check_pmd_cores(cores)?;
        if cores == self.cores.as_slice() {
            return Ok(());
        }
        let old = self.cores.clone();
        tracing::info!(from = ?old, to = ?cores, "moving PMD threads");
        self.halt_pmds();
        for slot in 0..self.ports.len() {
            let Some(p) = self.ports[slot].as_mut() else {
                continue;
            };
            if let Err(e) = p.port.reset_queues(cores.len()) {
                // Some devices cannot set up queues again once stopped; a
                // fresh probe of the same devargs can.
                tracing::warn!(port = %p.name, "{e:#}; reopening the port");
                self.reopen_in_place(slot, cores.len());
            }
        }
        if let Err(e) = self.spawn_pmds(cores) {
            // Whatever started is stopped again; the old core set worked before.
            self.halt_pmds();
            for p in self.ports.iter_mut().flatten() {
                p.port.reset_queues(old.len())?;
            }
            self.spawn_pmds(&old)
                .context("restarting the PMDs on their old cores")?;
            return Err(e.context(format!("starting PMDs on cores {cores:?}")));
        }
        self.ports_changed()?;
        self.config.pmd.cores = Some(cores.to_vec());
        self.config.pmd.cpu_mask = None;
        Ok(())
    }

    /// Closes the port in `slot` and opens it again from its configuration
    /// for `n_pmds` threads, in the same slot with the same OpenFlow number.
    /// No PMD may hold its queues. A port that cannot be opened again is
    /// removed (and the error logged): a vanished device must not take the
    /// switch down.
    fn reopen_in_place(&mut self, slot: usize, n_pmds: usize) {
        let Some(mut e) = self.ports[slot].take() else {
            return;
        };
        e.port.stop();
        self.pools.remove_user(&e.name);
        let config = e.config.clone();
        drop(e.port);
        match super::ports::open_port(&config, n_pmds, &mut self.pools) {
            Ok(port) => {
                e.port = port;
                self.ports[slot] = Some(e);
            }
            Err(err) => tracing::error!(port = %e.name, "{err:#}; the port is gone"),
        }
    }

    /// Reopens port `name` with new MTU or queue counts, keeping its
    /// OpenFlow number (so rules still apply) and its slot. Traffic on other
    /// ports keeps flowing. A vhost-user port's queues follow the guest, so
    /// only its MTU can change, and the guest reconnects.
    pub fn set_port_options(&mut self, name: &str, change: PortChange) -> anyhow::Result<()> {
        let slot = self
            .port_index(name)
            .ok_or_else(|| anyhow!("no port named {name:?}"))?;
        let entry = self.ports[slot].as_ref().expect("live");
        let mut pc = entry.config.clone();
        if pc.kind != PortType::Dpdk && (change.rxq.is_some() || change.txq.is_some()) {
            bail!("port {name:?}: a vhost-user port has the queues its guest enables");
        }
        if let Some(m) = change.mtu {
            pc.mtu = m;
        }
        if let Some(q) = change.rxq {
            pc.rxq = q;
        }
        if let Some(q) = change.txq {
            pc.txq = (q != 0).then_some(q);
        }
        let ofport = entry.ofport;
        self.reopen_port(name, pc, ofport)
    }

    /// Closes port `name` and opens it again as `pc` with OpenFlow number
    /// `ofport`; if the new settings fail, the old ones are put back.
    fn reopen_port(&mut self, name: &str, pc: PortConfig, ofport: u32) -> anyhow::Result<()> {
        pc.validate(&format!("port {name:?}"))
            .map_err(|e| anyhow!("{e}"))?;
        let slot = self
            .port_index(name)
            .ok_or_else(|| anyhow!("no port named {name:?}"))?;
        let entry = self.ports[slot].as_ref().expect("live");
        let mut old = entry.config.clone();
        old.ofport = Some(entry.ofport);
        self.del_port(name)?;
        let mut new = pc;
        new.ofport = Some(ofport);
        match self.add_port(new) {
            Ok(_) => Ok(()),
            Err(e) => {
                let restored = self.add_port(old);
                let how = match restored {
                    Ok(_) => "the old settings are back".to_owned(),
                    Err(r) => format!("and reopening it as it was failed too: {r:#}"),
                };
                Err(e.context(format!("reopening port {name:?} ({how})")))
            }
        }
    }

    /// Brings the running switch to `new` (a configuration file read again):
    /// ports gone from it close, new ones open, changed ones reopen, the
    /// rest keep running untouched; PMD cores and settings follow; the rule
    /// set is replaced when its text changed. EAL, memory and control
    /// settings need a restart: a file that changes them is refused before
    /// anything is applied, as is one whose rules do not parse.
    pub fn reload(&mut self, new: &Config) -> anyhow::Result<ReloadReport> {
        new.validate().map_err(|e| anyhow!("{e}"))?;
        let cur = &self.config;
        for (field, same) in [
            ("eal", cur.eal == new.eal),
            ("memory", cur.memory == new.memory),
            ("control", cur.control == new.control),
            ("openflow", cur.openflow == new.openflow),
            (
                "datapath.smc_entries",
                cur.datapath.smc_entries == new.datapath.smc_entries,
            ),
            ("datapath.smc", cur.datapath.smc == new.datapath.smc),
            (
                "datapath.mac_ageing_s",
                cur.datapath.mac_ageing_s == new.datapath.mac_ageing_s,
            ),
            (
                "datapath.max_idle_ms",
                cur.datapath.max_idle_ms == new.datapath.max_idle_ms,
            ),
            (
                "datapath.flow_limit",
                cur.datapath.flow_limit == new.datapath.flow_limit,
            ),
            (
                "datapath.forward_bpdu",
                cur.datapath.forward_bpdu == new.datapath.forward_bpdu,
            ),
        ] {
            if !same {
                bail!("config: {field}: changes to it need a restart; nothing was applied");
            }
        }
        let cores = {
            let c = new.pmd_cores().map_err(|e| anyhow!("{e}"))?;
            if c.is_empty() {
                self.cores.clone()
            } else {
                self.check_pmd_cores(&c)?;
                c
            }
        };
        // The new rules must parse before any port changes.
        let rules = config_rules(new)?;
        let mut scratch = Ofproto::new(PortSet::default());
        install_rules(&mut scratch, &rules)?;
        let rules_changed = self.rules_edited || self.loaded_rules != rules;

        let mut report = ReloadReport::default();
        let mut journal = Vec::new();
        if let Err(e) = self.reload_ports(new, &cores, &mut report, &mut journal) {
            let undone = self.undo(journal);
            if undone.is_empty() {
                bail!("{e:#}; rolled back: nothing was applied");
            }
            bail!(
                "{e:#}; rolling back failed ({}): the ports now are {}",
                undone.join("; "),
                self.live_ports()
                    .map(|(_, p)| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            );
        }
        let settings = PmdSettings {
            tx_flush_interval_us: new.pmd.tx_flush_interval_us,
            max_sleep_us: new.pmd.max_sleep_us,
            stage_cycles: new.pmd.stage_cycles,
        };
        let mut balance = new.pmd.clone();
        balance.cores = self.balance.cfg.cores.clone();
        balance.cpu_mask = self.balance.cfg.cpu_mask.clone();
        if settings != self.settings || balance != self.balance.cfg {
            self.set_settings(settings)?;
            self.balance.cfg = new.pmd.clone();
            report.pmd_settings_changed = true;
        }
        if new.datapath.emc_insert_inv_prob != self.config.datapath.emc_insert_inv_prob {
            let p = new.datapath.emc_insert_inv_prob;
            self.post_all(|| vec![PmdCommand::Pipeline(DatapathUpdate::EmcInsertInvProb(p))])?;
        }
        if rules_changed {
            {
                let mut slow = self.dp.lock();
                slow.ofproto
                    .del_flows("", false)
                    .map_err(|e| anyhow!("{e}"))?;
                install_rules(&mut slow.ofproto, &rules)?;
            }
            self.sync_datapath()?;
            self.loaded_rules = rules;
            self.rules_edited = false;
            report.rules_replaced = true;
        }
        report.rules = self.dp.lock().ofproto.pipeline.len();
        self.config = new.clone();
        self.config.pmd.cores = Some(self.cores.clone());
        self.config.pmd.cpu_mask = None;
        tracing::info!(?report, "configuration reloaded");
        Ok(report)
    }

    /// The port and core steps of a reload, each recorded in `journal` once
    /// done.
    fn reload_ports(
        &mut self,
        new: &Config,
        cores: &[usize],
        report: &mut ReloadReport,
        journal: &mut Vec<Undo>,
    ) -> anyhow::Result<()> {
        let wanted: Vec<&str> = new.ports.iter().map(|p| p.name.as_str()).collect();
        let gone: Vec<String> = self
            .live_ports()
            .filter(|(_, p)| !wanted.contains(&p.name.as_str()))
            .map(|(_, p)| p.name.clone())
            .collect();
        for name in gone {
            let was = self.port_as_is(&name)?;
            self.del_port(&name)?;
            journal.push(Undo::Removed(was));
            report.removed.push(name);
        }
        for (i, pc) in new.ports.iter().enumerate() {
            let ofport = new.ofport(i);
            match self.port_index(&pc.name) {
                Some(slot) => {
                    let e = self.ports[slot].as_ref().expect("live");
                    if same_port(&e.config, pc) && e.ofport == ofport {
                        report.unchanged.push(pc.name.clone());
                    } else {
                        let was = self.port_as_is(&pc.name)?;
                        self.reopen_port(&pc.name, pc.clone(), ofport)
                            .with_context(|| format!("config: port {:?}", pc.name))?;
                        journal.push(Undo::Reopened(pc.name.clone(), was));
                        report.changed.push(pc.name.clone());
                    }
                }
                None => {
                    let mut open = pc.clone();
                    open.ofport = Some(ofport);
                    self.add_port(open)
                        .with_context(|| format!("config: port {:?}", pc.name))?;
                    journal.push(Undo::Added(pc.name.clone()));
                    report.added.push(pc.name.clone());
                }
            }
        }
        if cores != self.cores {
            let old = self.cores.clone();
            self.set_pmd_cores(cores)?;
            journal.push(Undo::Cores(old));
            report.pmd_cores = Some(cores.to_vec());
        }
        Ok(())
    }

    /// Port `name`'s configuration with its OpenFlow number.
    fn port_as_is(&self, name: &str) -> anyhow::Result<PortConfig> {
        let slot = self
            .port_index(name)
            .ok_or_else(|| anyhow!("no port named {name:?}"))?;
        let e = self.ports[slot].as_ref().expect("live");
        let mut pc = e.config.clone();
        pc.ofport = Some(e.ofport);
        Ok(pc)
    }

    /// Undoes `journal`, latest step first; returns the steps that failed.
    fn undo(&mut self, journal: Vec<Undo>) -> Vec<String> {
        let mut failed = Vec::new();
        for step in journal.into_iter().rev() {
            let r = match step {
                Undo::Removed(pc) => {
                    let name = pc.name.clone();
                    self.add_port(pc)
                        .map(drop)
                        .with_context(|| format!("reopening removed port {name:?}"))
                }
                Undo::Added(name) => self
                    .del_port(&name)
                    .with_context(|| format!("closing added port {name:?}")),
                Undo::Reopened(name, pc) => {
                    let of = pc.ofport.expect("recorded with its ofport");
                    self.reopen_port(&name, pc, of)
                        .with_context(|| format!("restoring port {name:?}"))
                }
                Undo::Cores(old) => self
                    .set_pmd_cores(&old)
                    .with_context(|| format!("moving the PMDs back to cores {old:?}")),
            };
            if let Err(e) = r {
                failed.push(format!("{e:#}"));
            }
        }
        failed
    }
}
