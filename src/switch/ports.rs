//! The switch's ports: opened at start and while traffic flows, closed
//! while it flows, cross-connected; what front-ends read of them.
use super::{PmdCommand, PmdHandle, Switch};
use crate::config::{parse_affinity, PortConfig, PortType};
use crate::netdev::dpdk::DpdkPort;
use crate::netdev::mempools::MempoolRegistry;
use crate::netdev::vhost::VhostPort;
use crate::netdev::Port;
use crate::ofproto::normal::PortSet;
use crate::pmd::stats::MAX_PORTS;
use crate::pmd::PollEntry;
use anyhow::{anyhow, bail};

/// A port of the running switch.
pub struct PortEntry {
    pub(super) name: String,
    pub(super) ofport: u32,
    pub(super) port: Box<dyn Port>,
    /// Rx queues pinned to cores: (queue, core).
    pub(super) rxq_affinity: Vec<(u16, usize)>,
    /// How it was opened.
    pub(super) config: PortConfig,
}

impl PortEntry {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its OpenFlow number.
    pub fn ofport(&self) -> u32 {
        self.ofport
    }

    /// The port itself.
    pub fn port(&self) -> &dyn Port {
        self.port.as_ref()
    }

    /// Whether rx queue `queue` is pinned to a core.
    pub fn is_pinned(&self, queue: u16) -> bool {
        self.rxq_affinity.iter().any(|(q, _)| *q == queue)
    }
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

/// Opens the device `pc` describes with queues for `n_pmds` PMDs.
pub(super) fn open_port(
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

    /// The port in slot `slot`, if one is there.
    pub fn port(&self, slot: usize) -> Option<&PortEntry> {
        self.ports.get(slot).and_then(Option::as_ref)
    }

    /// The port's housekeeping (vhost-user reconnection) and the mempools'
    /// exhaustion watch; the run loop calls it every 100 ms.
    pub fn housekeeping(&mut self) {
        for (_, p) in self.live_ports() {
            p.port.housekeeping();
        }
        self.pools.watch();
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
            let k = super::placement::pinned_pmd(&self.cores, &affinity, rxq.queue())
                .unwrap_or_else(|| {
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

    /// Tells the slow path which OpenFlow ports exist (NORMAL floods to them).
    pub(super) fn ports_changed(&mut self) -> anyhow::Result<()> {
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

    /// Every live port with its OpenFlow number, address, link and counters
    /// (the PMDs' packets and drops, the device's bytes and errors).
    pub fn port_infos(&self) -> Vec<PortInfo> {
        self.live_ports()
            .map(|(i, p)| {
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
                    rx_packets: self.port_counter(i, |c| c.rx.get()),
                    tx_packets: self.port_counter(i, |c| c.tx.get()),
                    tx_dropped: self.port_counter(i, |c| c.tx_dropped.get()),
                    device: p.port.stats(),
                }
            })
            .collect()
    }
}
