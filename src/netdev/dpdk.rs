//! A DPDK ethdev port: a physical NIC or any DPDK virtual device.
use super::mempools::MempoolRegistry;
use super::{MtuLimited, Port, PortQueues, RxPoll, TxSend};
use crate::config::PortConfig;
use crate::dpdk::{EthPort, MbufBurst, Mempool, PortStats, RxQueue, TxQueue};
use std::sync::Arc;

impl RxPoll for RxQueue {
    #[inline]
    fn rx_burst(&mut self, burst: &mut MbufBurst) -> usize {
        RxQueue::rx_burst(self, burst)
    }
    fn queue(&self) -> u16 {
        RxQueue::queue(self)
    }
}

impl TxSend for TxQueue {
    #[inline]
    fn tx_burst(&mut self, burst: &mut MbufBurst) -> usize {
        TxQueue::tx_burst(self, burst)
    }
}

/// A started ethdev with its configuration.
pub struct DpdkPort {
    eth: EthPort,
    cfg: PortConfig,
}

impl DpdkPort {
    /// Probes, configures and starts the device of `cfg`, with one tx queue
    /// per PMD unless the config says otherwise.
    pub fn open(
        cfg: &PortConfig,
        n_pmds: usize,
        pools: &mut MempoolRegistry,
    ) -> anyhow::Result<DpdkPort> {
        let mut eth = EthPort::probe(&cfg.devargs)
            .map_err(|e| anyhow::anyhow!("port {:?} (devargs {:?}): {e}", cfg.name, cfg.devargs))?;
        let pool = pools.get(eth.socket(), cfg.mtu as u32, &cfg.name)?;
        let txq = cfg.txq.unwrap_or(n_pmds.max(1) as u16);
        let (nrx, ntx) = eth
            .configure(cfg.rxq, txq, cfg.rx_desc, cfg.tx_desc, pool, cfg.mtu)
            .map_err(|e| anyhow::anyhow!("port {:?}: {e}", cfg.name))?;
        if nrx < cfg.rxq {
            tracing::warn!(port = %cfg.name, asked = cfg.rxq, got = nrx, "device supports fewer rx queues");
        }
        eth.start()
            .map_err(|e| anyhow::anyhow!("port {:?}: {e}", cfg.name))?;
        tracing::info!(port = %cfg.name, id = eth.id(), driver = %eth.info().driver, rxq = nrx, txq = ntx, "port started");
        Ok(DpdkPort {
            eth,
            cfg: cfg.clone(),
        })
    }
}

impl Port for DpdkPort {
    fn kind(&self) -> &'static str {
        "dpdk"
    }

    fn take_queues(&mut self, n_pmds: usize) -> Option<PortQueues> {
        let (rx, tx) = self.eth.take_queues(n_pmds)?;
        let mtu = self.cfg.mtu;
        Some(PortQueues {
            rx: rx
                .into_iter()
                .map(|q| Box::new(q) as Box<dyn RxPoll>)
                .collect(),
            tx: tx
                .into_iter()
                .map(|q| Box::new(MtuLimited::new(q, mtu)) as Box<dyn TxSend>)
                .collect(),
        })
    }

    fn reset_queues(&mut self, n_pmds: usize) -> anyhow::Result<()> {
        let c = &self.cfg;
        let pool = self
            .eth
            .pool()
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("port {:?} has no mempool", c.name))?;
        let txq = c.txq.unwrap_or(n_pmds.max(1) as u16);
        if txq.clamp(1, self.eth.info().max_tx_queues.max(1)) == self.eth.n_txq() {
            // Same queues: no need to disturb the device (some virtual
            // devices, e.g. net_pcap replaying a file, cannot set up again).
            self.eth.queues_returned();
            return Ok(());
        }
        self.eth.stop();
        self.eth
            .configure(c.rxq, txq, c.rx_desc, c.tx_desc, pool, c.mtu)
            .and_then(|_| self.eth.start())
            .map_err(|e| anyhow::anyhow!("port {:?}: {e}", c.name))
    }

    fn numa_node(&self) -> i32 {
        self.eth.socket()
    }

    fn stats(&self) -> PortStats {
        self.eth.stats()
    }

    fn mempool(&self) -> Option<Arc<Mempool>> {
        self.eth.pool().cloned()
    }

    fn details(&self) -> serde_json::Value {
        let mac = self.eth.mac();
        serde_json::json!({
            "name": self.cfg.name,
            "devargs": self.eth.devargs(),
            "dpdk_port_id": self.eth.id(),
            "driver": self.eth.info().driver,
            "numa_socket": self.eth.socket(),
            "mac": format!("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]),
            "link": self.eth.link(),
            "mtu": self.cfg.mtu,
            "rx_queues": self.eth.n_rxq(),
            "tx_queues": self.eth.n_txq(),
        })
    }

    fn stop(&mut self) {
        self.eth.stop();
    }
}
