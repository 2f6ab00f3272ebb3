//! What NORMAL learned and what the slow path would do with a flow: the
//! MAC table and translation as front-ends inspect them (`ovs-appctl
//! fdb/show`, `fdb/flush`, `ofproto/trace`).
use super::Switch;
use crate::flow::key::FlowKey;
use crate::ofproto::xlate::Xlate;

/// One learned address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacEntry {
    /// The address, in the low 48 bits.
    pub mac: u64,
    /// Its VLAN.
    pub vlan: u16,
    /// The OpenFlow port it was learned on.
    pub port: u32,
    /// Seconds since it was last seen.
    pub age_s: u64,
}

impl Switch {
    /// The slow path's clock: whole seconds of the TSC.
    fn now_s(&self) -> u64 {
        crate::dpdk::lcore::rdtsc() / self.tsc_hz.max(1)
    }

    /// The live MAC table, least recently seen first.
    pub fn mac_table(&self) -> Vec<MacEntry> {
        let now = self.now_s();
        self.dp
            .lock()
            .ofproto
            .macs
            .entries(now)
            .into_iter()
            .map(|(mac, vlan, port, age_s)| MacEntry {
                mac,
                vlan,
                port,
                age_s,
            })
            .collect()
    }

    /// Forgets every learned address; returns once every PMD has dropped
    /// the megaflows built on them.
    pub fn flush_macs(&mut self) -> anyhow::Result<()> {
        self.dp.lock().ofproto.macs.flush();
        self.sync_datapath()
    }

    /// What the rule tables do with a packet whose key is `key`, without
    /// learning anything or installing a megaflow.
    pub fn trace(&self, key: &FlowKey) -> Xlate {
        let now = self.now_s();
        self.dp.lock().ofproto.translate(key, now)
    }
}
