//! Simple match (after OVS's): when every megaflow installed for an input
//! port masks only in_port, dl_type, the outer VLAN TCI and nw_frag, and all
//! use the same mask, a packet from that port is classified from those few
//! header fields alone: no miniflow extraction, no hash, no EMC. Megaflows
//! never overlap, so the one whose masked key equals the packet's is the
//! only one that can match it. Anything unusual (QinQ, IPv6 extension
//! headers, a bad IPv4 header, 802.3 framing) takes the full path.
use crate::flow::key::{Field, FlowKey, FRAG_ANY, FRAG_LATER, VLAN_CFI};
use crate::packet::bytes::be16;
use crate::packet::proto::*;

/// The fields a simple megaflow may mask.
pub fn simple_fields_mask() -> FlowKey {
    let mut m = FlowKey::ZERO;
    for f in [Field::InPort, Field::DlType, Field::VlanTci0, Field::NwFrag] {
        m.set(f, f.full_mask());
    }
    m
}

/// Whether a megaflow mask qualifies.
pub fn is_simple_mask(mask: &FlowKey, allowed: &FlowKey) -> bool {
    mask.get(Field::InPort) == Field::InPort.full_mask()
        && mask
            .words
            .iter()
            .zip(allowed.words.iter())
            .all(|(m, a)| m & !a == 0)
}

/// One input port's simple megaflows. Every simple field lives in key
/// words 0 and 1 (see `flow::key`), so a lookup compares two words.
#[derive(Debug, Default, Clone)]
pub struct SimplePort {
    /// The mask they share, and its words 0 and 1.
    mask: Option<FlowKey>,
    mask01: (u64, u64),
    /// (masked words 0 and 1, flow id).
    flows: Vec<(u64, u64, u32)>,
    /// A megaflow of this port is not simple: use the full path.
    broken: bool,
}

impl SimplePort {
    /// Records a megaflow of this port.
    pub fn note(&mut self, key: &FlowKey, mask: &FlowKey, id: u32, allowed: &FlowKey) {
        if self.broken {
            return;
        }
        if !is_simple_mask(mask, allowed) || self.mask.is_some_and(|m| m != *mask) {
            self.broken = true;
            self.flows.clear();
            return;
        }
        self.mask = Some(*mask);
        self.mask01 = (mask.words[0], mask.words[1]);
        self.flows.push((
            key.words[0] & mask.words[0],
            key.words[1] & mask.words[1],
            id,
        ));
    }

    /// Forgets megaflow `id` (it was removed).
    pub fn forget(&mut self, id: u32) {
        self.flows.retain(|f| f.2 != id);
    }

    /// A packet's simple words under this port's mask (None: the packet
    /// needs full extraction, or the port is not simple).
    #[inline(always)]
    pub fn words(&self, d: &[u8], in_port: u32) -> Option<(u64, u64)> {
        if self.broken {
            return None;
        }
        let (w0, w1) = simple_words(d, in_port)?;
        Some((w0 & self.mask01.0, w1 & self.mask01.1))
    }

    /// The flow of masked simple words from `words`.
    #[inline(always)]
    pub fn find(&self, (k0, k1): (u64, u64)) -> Option<u32> {
        self.flows
            .iter()
            .find(|f| f.0 == k0 && f.1 == k1)
            .map(|f| f.2)
    }

    /// The one flow of every packet of this port, when only in_port
    /// matters (a cross-connect): no packet needs to be looked at beyond
    /// its length.
    #[inline(always)]
    pub fn port_only_flow(&self, in_port: u32) -> Option<u32> {
        if self.broken || self.mask01.0 & PORT_WORD0 != self.mask01.0 || self.mask01.1 != 0 {
            return None;
        }
        self.find(((in_port as u64) << 32 & self.mask01.0, 0))
    }

    /// Whether the simple path can serve this port.
    #[inline(always)]
    pub fn usable(&self) -> bool {
        !self.broken && !self.flows.is_empty()
    }
}

/// The in_port bits of key word 0.
const PORT_WORD0: u64 = 0xffff_ffff << 32;

/// Key words 0 and 1 holding just in_port, dl_type, nw_frag and the outer
/// VLAN TCI, as full extraction would find them, or `None` where only full
/// extraction can tell.
#[inline(always)]
pub fn simple_words(d: &[u8], in_port: u32) -> Option<(u64, u64)> {
    if d.len() < 14 {
        return None;
    }
    let (mut ty, mut p, mut tci) = (be16(d, 12), 14, 0u16);
    if ty == ETH_TYPE_VLAN || ty == ETH_TYPE_QINQ {
        if d.len() < 18 {
            return None;
        }
        tci = be16(d, 14) | VLAN_CFI;
        ty = be16(d, 16);
        p = 18;
        if ty == ETH_TYPE_VLAN || ty == ETH_TYPE_QINQ || ty < ETH_TYPE_MIN {
            return None;
        }
    } else if ty < 0x600 {
        return None;
    }
    let frag = match ty {
        ETH_TYPE_IPV4 => {
            let ip = d.get(p..p + 20)?;
            let ihl = (ip[0] & 0x0f) as usize * 4;
            let tot = be16(ip, 2) as usize;
            if ip[0] >> 4 != 4 || ihl < 20 || tot < ihl || p + tot > d.len() {
                return None;
            }
            let f = be16(ip, 6);
            match (f & 0x3fff != 0, f & 0x1fff != 0) {
                (false, _) => 0,
                (true, false) => FRAG_ANY,
                (true, true) => FRAG_ANY | FRAG_LATER,
            }
        }
        ETH_TYPE_IPV6 => {
            let ip = d.get(p..p + 40)?;
            // Extension headers (where fragments hide) need the full path.
            if matches!(ip[6], 0 | 43 | 44 | 51 | 60)
                || ip[0] >> 4 != 6
                || p + 40 + be16(ip, 4) as usize > d.len()
            {
                return None;
            }
            0
        }
        _ => 0,
    };
    // Positions as in flow::key: word 0 = in_port << 32 | dl_type << 16 |
    // nw_frag << 8; word 1 ends with the outer VLAN TCI.
    Some((
        (in_port as u64) << 32 | (ty as u64) << 16 | (frag as u64) << 8,
        tci as u64,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::extract::extract;

    /// For packets the simple path handles, it finds what full extraction
    /// finds for the simple fields.
    #[test]
    fn agrees_with_full_extraction() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let allowed = simple_fields_mask();
        let mut handled = 0;
        for _ in 0..50_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = 14 + (seed % 80) as usize;
            let mut d: Vec<u8> = (0..len)
                .map(|i| (seed.rotate_left(i as u32 * 5)) as u8)
                .collect();
            let types: [[u8; 2]; 5] = [
                [0x08, 0x00],
                [0x86, 0xdd],
                [0x81, 0x00],
                [0x08, 0x06],
                [0x88, 0xa8],
            ];
            d[12..14].copy_from_slice(&types[(seed >> 5) as usize % 5]);
            if len > 18 && d[12] == 0x81 {
                d[16..18].copy_from_slice(&types[(seed >> 9) as usize % 2]);
            }
            let ip = if d[12] == 0x81 { 18 } else { 14 };
            if len > ip + 4 {
                d[ip] = if seed & 1 == 0 { 0x45 } else { 0x60 };
                d[ip + 2] = 0;
                d[ip + 3] = ((len - ip) as u8).min(60);
            }
            let Some(sk) = simple_words(&d, 7) else {
                continue;
            };
            handled += 1;
            let mut full = FlowKey::ZERO;
            extract(&d, 7, &mut full);
            let want = full.masked(&allowed);
            assert_eq!(sk, (want.words[0], want.words[1]), "packet {d:02x?}");
        }
        assert!(handled > 10_000, "only {handled} handled");
    }

    #[test]
    fn a_port_with_a_non_simple_flow_is_not_simple() {
        let allowed = simple_fields_mask();
        let mut m = FlowKey::ZERO;
        m.set(Field::InPort, Field::InPort.full_mask());
        m.set(Field::DlType, 0xffff);
        let mut p = SimplePort::default();
        let mut k = FlowKey::ZERO;
        k.set(Field::DlType, 0x0800);
        p.note(&k, &m, 1, &allowed);
        assert!(p.usable());
        let mut m2 = m;
        m2.set(Field::NwDst, 0xffff_ffff);
        p.note(&k, &m2, 2, &allowed);
        assert!(!p.usable());
    }
}
