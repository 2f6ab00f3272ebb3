//! The `NORMAL` action's state: the switch's ports (with VLAN modes) and a
//! MAC-learning table (mac, vlan) -> port with ageing.
//!
//! Time is passed in by the caller (seconds, any monotonic origin) so tests
//! can age entries without sleeping. Translation (`xlate`) only *reads* this
//! table; learning is applied by the caller from the translation's result,
//! which keeps translation a pure function usable for revalidation.

use std::collections::{BTreeMap, HashMap};

/// OpenFlow's LOCAL port (the bridge's own interface).
pub const OFPP_LOCAL: u32 = 0xffff_fffe;

/// Default MAC ageing time in seconds (OVS's default).
pub const DEFAULT_AGEING_S: u64 = 300;

/// How a port treats VLANs for `NORMAL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VlanMode {
    /// Carries every VLAN, tagged; VLAN 0 is untagged.
    Trunk,
    /// Belongs to one VLAN, untagged on the wire; tagged input is dropped.
    Access(u16),
}

impl VlanMode {
    /// Whether frames of `vlan` may be sent here.
    pub fn carries(self, vlan: u16) -> bool {
        match self {
            VlanMode::Trunk => true,
            VlanMode::Access(v) => v == vlan,
        }
    }
}

/// The switch's ports, ordered by port number (flooding follows that order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortSet {
    ports: BTreeMap<u32, VlanMode>,
}

impl PortSet {
    /// An empty port set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trunk ports with the given numbers.
    pub fn trunks(ports: impl IntoIterator<Item = u32>) -> Self {
        PortSet {
            ports: ports.into_iter().map(|p| (p, VlanMode::Trunk)).collect(),
        }
    }

    /// Adds or replaces a port.
    pub fn insert(&mut self, port: u32, mode: VlanMode) {
        self.ports.insert(port, mode);
    }

    /// Removes a port.
    pub fn remove(&mut self, port: u32) -> Option<VlanMode> {
        self.ports.remove(&port)
    }

    /// A port's VLAN mode, `None` when it does not exist.
    pub fn mode(&self, port: u32) -> Option<VlanMode> {
        self.ports.get(&port).copied()
    }

    /// All ports in number order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, VlanMode)> + '_ {
        self.ports.iter().map(|(p, m)| (*p, *m))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct MacEntry {
    port: u32,
    seen: u64,
}

/// A learned (mac, vlan) -> port association to record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Learn {
    pub mac: u64,
    pub vlan: u16,
    pub port: u32,
}

/// The MAC-learning table.
#[derive(Clone, Debug)]
pub struct MacTable {
    entries: HashMap<(u64, u16), MacEntry>,
    ageing_s: u64,
    max_entries: usize,
    generation: u64,
}

impl Default for MacTable {
    fn default() -> Self {
        Self::new(DEFAULT_AGEING_S)
    }
}

impl MacTable {
    /// A table whose entries expire `ageing_s` seconds after last seen.
    pub fn new(ageing_s: u64) -> Self {
        MacTable {
            entries: HashMap::new(),
            ageing_s,
            max_entries: 8192,
            generation: 0,
        }
    }

    /// Bumps whenever a lookup result may have changed (new, moved or
    /// expired entry): megaflows built on `NORMAL` must be revalidated.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The port `mac` was learned on in `vlan`, unless expired at `now`.
    pub fn lookup(&self, mac: u64, vlan: u16, now: u64) -> Option<u32> {
        self.entries
            .get(&(mac, vlan))
            .filter(|e| now.saturating_sub(e.seen) < self.ageing_s)
            .map(|e| e.port)
    }

    /// Records that `mac` was seen on `port` in `vlan` at `now`.
    pub fn learn(&mut self, l: Learn, now: u64) {
        let prev = self.lookup(l.mac, l.vlan, now);
        if prev.is_none() && self.entries.len() >= self.max_entries {
            self.expire(now);
            if self.entries.len() >= self.max_entries {
                return; // full: keep flooding rather than evicting live entries
            }
        }
        self.entries.insert(
            (l.mac, l.vlan),
            MacEntry {
                port: l.port,
                seen: now,
            },
        );
        if prev != Some(l.port) {
            self.generation += 1;
        }
    }

    /// Removes entries expired at `now`; returns how many.
    pub fn expire(&mut self, now: u64) -> usize {
        let before = self.entries.len();
        let age = self.ageing_s;
        self.entries.retain(|_, e| now.saturating_sub(e.seen) < age);
        let n = before - self.entries.len();
        if n > 0 {
            self.generation += 1;
        }
        n
    }

    /// Forgets everything learned on `port` (port deleted or down).
    pub fn flush_port(&mut self, port: u32) {
        self.entries.retain(|_, e| e.port != port);
        self.generation += 1;
    }

    /// Live entries at `now`, least recently seen first (as OVS lists
    /// them): (MAC, VLAN, port, seconds since last seen).
    pub fn entries(&self, now: u64) -> Vec<(u64, u16, u32, u64)> {
        let mut v: Vec<_> = self
            .entries
            .iter()
            .map(|(&(mac, vlan), e)| (mac, vlan, e.port, now.saturating_sub(e.seen)))
            .filter(|e| e.3 < self.ageing_s)
            .collect();
        v.sort_by(|a, b| b.3.cmp(&a.3).then(a.0.cmp(&b.0)));
        v
    }

    /// Forgets everything learned.
    pub fn flush(&mut self) {
        self.entries.clear();
        self.generation += 1;
    }

    /// Number of entries (expired ones included until `expire`).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Whether a MAC is one of the reserved protocol addresses OVS's `NORMAL`
/// never forwards without `forward-bpdu`: IEEE 802.1D's 01:80:c2:00:00:0x
/// (STP, pause, LACP, 802.1X, LLDP ...) and the Extreme and Cisco protocol
/// addresses OVS lists beside them.
pub fn is_reserved(mac: u64) -> bool {
    const OTHERS: [u64; 15] = [
        0x00e0_2b00_0000, // EDP
        0x00e0_2b00_0004, // EAPS
        0x00e0_2b00_0006, // EAPS
        0x0100_0c00_0000, // ISL
        0x0100_0ccc_cccc, // CDP, VTP, DTP, PAgP, UDLD
        0x0100_0ccc_cccd, // PVST+
        0x0100_0ccd_cdcd, // STP UplinkFast
        0x0100_0ccc_ccc0, // Cisco CFM
        0x0100_0ccc_ccc1,
        0x0100_0ccc_ccc2,
        0x0100_0ccc_ccc3,
        0x0100_0ccc_ccc4,
        0x0100_0ccc_ccc5,
        0x0100_0ccc_ccc6,
        0x0100_0ccc_ccc7,
    ];
    mac & !0xf == 0x0180_c200_0000 || OTHERS.contains(&mac)
}

/// Whether a MAC (48 bits, right-aligned) is multicast or broadcast.
pub fn is_multicast(mac: u64) -> bool {
    (mac >> 40) & 1 == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learn_lookup_age_and_move() {
        let mut t = MacTable::new(300);
        assert_eq!(t.lookup(0xa, 0, 0), None);
        t.learn(
            Learn {
                mac: 0xa,
                vlan: 0,
                port: 1,
            },
            10,
        );
        let g = t.generation();
        assert_eq!(t.lookup(0xa, 0, 100), Some(1));
        assert_eq!(t.lookup(0xa, 5, 100), None, "per VLAN");
        t.learn(
            Learn {
                mac: 0xa,
                vlan: 0,
                port: 1,
            },
            200,
        );
        assert_eq!(t.generation(), g, "refresh is not a change");
        assert_eq!(t.lookup(0xa, 0, 499), Some(1));
        assert_eq!(t.lookup(0xa, 0, 500), None, "aged out");
        t.learn(
            Learn {
                mac: 0xa,
                vlan: 0,
                port: 2,
            },
            300,
        );
        assert_eq!(t.lookup(0xa, 0, 301), Some(2), "moved");
        assert!(t.generation() > g);
        assert_eq!(t.expire(1000), 1);
        assert!(t.is_empty());
    }

    #[test]
    fn multicast_bit() {
        assert!(is_multicast(0xffff_ffff_ffff));
        assert!(is_multicast(0x0100_5e00_0001));
        assert!(!is_multicast(0x0200_0000_0001));
    }
}
