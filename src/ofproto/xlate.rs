//! Upcall translation: rule tables -> datapath actions + megaflow mask, and
//! revalidation of installed megaflows after a change.
//!
//! Translation walks the tables like OVS's `xlate`: a *current* flow that
//! actions rewrite (so later lookups via `goto_table`/`resubmit` see the new
//! values), a *base* flow that mirrors what the datapath packet looks like
//! after the actions emitted so far, and a wildcard mask `wc` of every bit
//! that the outcome depended on. Rewrites are committed (emitted as
//! `SetField`/VLAN actions) lazily before each output, only where the
//! current flow differs from the base, as OVS does.
//!
//! Mask safety: every packet `p` with `p & mask == key & mask` translates to
//! exactly the same actions. Lookups add what they consulted (see
//! `table.rs`); reads of packet fields by actions (TTL, VLAN, MAC table
//! keys, prerequisites) add those fields.
//!
//! # After a change (rule add/modify/delete, port change, MAC learning or
//! ageing)
//!
//! The change bumps the shared generation (`datapath::Shared`). Each PMD
//! notices it at the top of its next burst (`Datapath::revalidate_if_changed`)
//! and re-translates every megaflow it holds through [`Ofproto::revalidate`]:
//! `Keep`, `Update` (new actions in place) or `Delete` (and the EMC is
//! cleared, since a new megaflow may reuse the id). The control thread
//! answers the command only after every PMD acknowledged the change through
//! its mailbox, so no packet uses the old actions after the answer.

use super::normal::{is_multicast, is_reserved, Learn, MacTable, PortSet, VlanMode};
use super::parse::{parse_flow, parse_match, ParseError};
use super::rule::{Action, FlowMod};
use super::table::{Pipeline, Rule, Selector};
use crate::flow::actions::DpAction;
use crate::flow::key::{Field, FlowKey, FRAG_ANY, FRAG_LATER, VLAN_CFI};
use crate::packet::proto::*;
use std::sync::Arc;

/// How deep `goto_table`/`resubmit` may nest before translation fails.
pub const MAX_DEPTH: u32 = 64;

/// The result of translating one flow.
#[derive(Clone, Debug)]
pub struct Xlate {
    /// Datapath actions; empty = drop.
    pub actions: Arc<[DpAction]>,
    /// The megaflow mask: the bits of the key the actions depend on.
    pub mask: FlowKey,
    /// Rules that matched, in order (credit megaflow stats to them).
    pub rules: Vec<Arc<Rule>>,
    /// A MAC address `NORMAL` wants learned ([`Ofproto::upcall`] applies it).
    pub learn: Option<Learn>,
    /// Set when translation gave up (the actions are then a drop).
    pub error: Option<&'static str>,
    /// `Ofproto::generation()` the translation saw: a megaflow installed
    /// after the generation moved on must be revalidated before it is
    /// trusted.
    pub generation: u64,
}

/// Verdict on an installed megaflow after a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revalidate {
    /// Still correct as installed.
    Keep,
    /// The mask is still safe but the actions changed: install these.
    Update(Arc<[DpAction]>),
    /// The megaflow covers packets that now need different treatment or
    /// more bits: remove it (the next packet upcalls again).
    Delete,
}

/// The slow path: rule tables, ports and the MAC table.
#[derive(Debug, Default)]
pub struct Ofproto {
    pub pipeline: Pipeline,
    pub macs: MacTable,
    /// Whether `NORMAL` forwards frames to reserved multicast addresses
    /// (STP, LACP, LLDP, ...), OVS's `other_config:forward-bpdu`.
    pub forward_bpdu: bool,
    ports: PortSet,
    port_generation: u64,
}

impl Ofproto {
    /// A switch with the given ports and no rules (everything drops).
    pub fn new(ports: PortSet) -> Self {
        Ofproto {
            ports,
            ..Default::default()
        }
    }

    /// The ports.
    pub fn ports(&self) -> &PortSet {
        &self.ports
    }

    /// Replaces the port set.
    pub fn set_ports(&mut self, ports: PortSet) {
        self.ports = ports;
        self.port_generation += 1;
    }

    /// Changes whenever a translation may change (rules, ports, MAC table).
    pub fn generation(&self) -> u64 {
        self.pipeline.generation() + self.macs.generation() + self.port_generation
    }

    /// `ovs-ofctl add-flow` text.
    pub fn add_flow(&mut self, text: &str) -> Result<Arc<Rule>, ParseError> {
        let fm: FlowMod = parse_flow(text)?;
        Ok(self.pipeline.add(&fm))
    }

    /// `ovs-ofctl del-flows [--strict]` text; returns the deleted rules.
    pub fn del_flows(&mut self, text: &str, strict: bool) -> Result<Vec<Arc<Rule>>, ParseError> {
        let spec = parse_match(text)?;
        let sel = Selector {
            table: spec.table,
            m: &spec.m,
            strict,
            priority: spec.priority.unwrap_or(super::rule::DEFAULT_PRIORITY),
            cookie: spec.cookie,
        };
        Ok(self.pipeline.delete(&sel))
    }

    /// `ovs-ofctl mod-flows [--strict]` text (match and new `actions=`);
    /// returns how many rules changed.
    pub fn mod_flows(&mut self, text: &str, strict: bool) -> Result<usize, ParseError> {
        let fm = parse_flow(text)?;
        let spec = parse_match(&text[..text.find("actions=").unwrap_or(text.len())])?;
        let sel = Selector {
            table: spec.table,
            m: &fm.m,
            strict,
            priority: fm.priority,
            cookie: spec.cookie,
        };
        Ok(self.pipeline.modify(&sel, &fm.actions))
    }

    /// Translates `key` (with `in_port` set) without side effects.
    pub fn translate(&self, key: &FlowKey, now: u64) -> Xlate {
        let mut c = Ctx::new(self, key, now);
        c.xlate_table(0);
        c.finish(key)
    }

    /// Translates and applies side effects (MAC learning). Call from the
    /// upcall handler; if `generation()` changed, revalidate.
    pub fn upcall(&mut self, key: &FlowKey, now: u64) -> Xlate {
        let x = self.translate(key, now);
        let Some(l) = x.learn else { return x };
        let g = self.macs.generation();
        self.macs.learn(l, now);
        if self.macs.generation() == g {
            return x;
        }
        // OVS learns before it looks the destination up: a frame to its own
        // source address must see the new entry (and be dropped).
        self.translate(key, now)
    }

    /// Re-translates an installed megaflow (`key`, `mask`, `actions`) under
    /// the current state and says whether it may stay.
    pub fn revalidate(
        &self,
        key: &FlowKey,
        mask: &FlowKey,
        actions: &[DpAction],
        now: u64,
    ) -> Revalidate {
        self.revalidate_attributed(key, mask, actions, &[], now).0
    }

    /// As [`Ofproto::revalidate`], and also the rules the megaflow now
    /// stands for when they are not `rules` (a rule added in front or
    /// replaced): its counts must go to them from now on.
    pub fn revalidate_attributed(
        &self,
        key: &FlowKey,
        mask: &FlowKey,
        actions: &[DpAction],
        rules: &[Arc<Rule>],
        now: u64,
    ) -> (Revalidate, Option<Vec<Arc<Rule>>>) {
        let k = key.masked(mask);
        let x = self.translate(&k, now);
        // The new translation may only depend on bits the megaflow pins.
        if x.mask
            .words
            .iter()
            .zip(mask.words.iter())
            .any(|(n, o)| n & !o != 0)
        {
            return (Revalidate::Delete, None);
        }
        let same_rules = x.rules.len() == rules.len()
            && x.rules
                .iter()
                .zip(rules)
                .all(|(a, b)| Arc::ptr_eq(&a.stats, &b.stats));
        let new_rules = (!same_rules).then_some(x.rules);
        if *x.actions == *actions {
            (Revalidate::Keep, new_rules)
        } else {
            (Revalidate::Update(x.actions), new_rules)
        }
    }
}

/// Fields the commit step may emit, in OVS's commit order (L2 before the
/// VLAN step, then L3, then L4).
const COMMIT_L2: &[Field] = &[Field::DlSrc, Field::DlDst];
const COMMIT_L3L4: &[Field] = &[
    Field::NwSrc,
    Field::NwDst,
    Field::Ipv6Src,
    Field::Ipv6Dst,
    Field::Ipv6Label,
    Field::NwTos,
    Field::NwTtl,
    Field::TpSrc,
    Field::TpDst,
    Field::NwProto,
    Field::ArpSha,
    Field::ArpTha,
    Field::NdTarget,
];

struct Ctx<'a> {
    of: &'a Ofproto,
    now: u64,
    flow: FlowKey,
    base: FlowKey,
    wc: FlowKey,
    /// Bits rewritten by actions (candidates for commit).
    written: FlowKey,
    out: Vec<DpAction>,
    depth: u32,
    table: u8,
    rules: Vec<Arc<Rule>>,
    learn: Option<Learn>,
    error: Option<&'static str>,
    /// Whether the packet arrived with a VLAN tag.
    orig_tagged: bool,
    /// The match of the rule whose actions run (see `set_prereq_ok`).
    rule_match: super::rule::Match,
}

/// What a table lookup sees of `flow`: in_port replaced (resubmit), and,
/// for any IP fragment, transport ports of zero: OVS's default fragment
/// handling ("normal") pretends a fragment has no ports, the first
/// included, although actions still rewrite the first one's.
fn lookup_view(flow: &FlowKey, in_port: Option<u32>) -> FlowKey {
    let mut seen = *flow;
    if let Some(p) = in_port {
        seen.set(Field::InPort, p.into());
    }
    let dl = seen.get(Field::DlType);
    if (dl == ETH_TYPE_IPV4 as u128 || dl == ETH_TYPE_IPV6 as u128)
        && seen.get(Field::NwFrag) & u128::from(FRAG_ANY) != 0
    {
        seen.set(Field::TpSrc, 0);
        seen.set(Field::TpDst, 0);
    }
    seen
}

/// The mask of in_port alone.
fn in_port_only_mask() -> FlowKey {
    let mut m = FlowKey::ZERO;
    m.set(Field::InPort, u128::MAX);
    m
}

fn wc_add(wc: &mut FlowKey, f: Field, bits: u128) {
    let v = wc.get(f) | bits;
    wc.set(f, v);
}

impl<'a> Ctx<'a> {
    fn new(of: &'a Ofproto, key: &FlowKey, now: u64) -> Self {
        let mut wc = FlowKey::ZERO;
        wc_add(&mut wc, Field::InPort, u128::MAX);
        Ctx {
            of,
            now,
            flow: *key,
            base: *key,
            wc,
            written: FlowKey::ZERO,
            out: Vec::new(),
            depth: 0,
            table: 0,
            rules: Vec::new(),
            learn: None,
            error: None,
            orig_tagged: key.get(Field::VlanTci0) & u128::from(VLAN_CFI) != 0,
            rule_match: super::rule::Match::ANY,
        }
    }

    fn finish(mut self, key: &FlowKey) -> Xlate {
        let dl = key.get(Field::DlType);
        // Like OVS's xlate_wc_init, the megaflow pins dl_type (and nw_frag
        // of IP) -- unless nothing but in_port was examined and every rule
        // that applied only outputs to ports: then the translation holds for
        // every packet of the port (a cross-connect, a patch), and the
        // megaflow says so, letting the datapath skip reading the packet.
        let port_only = self.error.is_none()
            && self.wc.words == in_port_only_mask().words
            && self
                .rules
                .iter()
                .all(|r| r.actions.iter().all(|a| matches!(a, Action::Output(_))));
        if !port_only {
            wc_add(&mut self.wc, Field::DlType, u128::MAX);
            if dl == ETH_TYPE_IPV4 as u128 || dl == ETH_TYPE_IPV6 as u128 {
                wc_add(
                    &mut self.wc,
                    Field::NwFrag,
                    u128::from(FRAG_ANY | FRAG_LATER),
                );
            }
        }
        let proto = key.get(Field::NwProto);
        // ICMP type/code are 8-bit values in 16-bit slots: their high
        // bytes are always zero, so need no matching -- provided every
        // covered packet is ICMP (nw_proto pinned).
        let icmp = (dl == ETH_TYPE_IPV4 as u128 && proto == 1)
            || (dl == ETH_TYPE_IPV6 as u128 && proto == 58);
        if icmp && self.wc.get(Field::NwProto) == 0xff {
            let (s, d) = (
                self.wc.get(Field::TpSrc) & 0xff,
                self.wc.get(Field::TpDst) & 0xff,
            );
            self.wc.set(Field::TpSrc, s);
            self.wc.set(Field::TpDst, d);
        }
        // Later fragments have no ports (extraction leaves them zero).
        if (dl == ETH_TYPE_IPV4 as u128 || dl == ETH_TYPE_IPV6 as u128)
            && key.get(Field::NwFrag) & u128::from(FRAG_LATER) != 0
        {
            self.wc.set(Field::TpSrc, 0);
            self.wc.set(Field::TpDst, 0);
        }
        // Matching any TCI bit implies matching "a tag is present".
        for f in [Field::VlanTci0, Field::VlanTci1] {
            if self.wc.get(f) != 0 {
                wc_add(&mut self.wc, f, u128::from(VLAN_CFI));
            }
        }
        if self.error.is_some() {
            self.out.clear();
        }
        Xlate {
            generation: self.of.generation(),
            actions: self.out.into(),
            mask: self.wc,
            rules: self.rules,
            learn: self.learn,
            error: self.error,
        }
    }

    fn xlate_table(&mut self, t: u8) {
        self.xlate_table_from(t, None)
    }

    /// Looks `t` up as if the packet came from `in_port` (when given) and
    /// runs the rule's actions with the real in_port: OVS restores it
    /// before the actions, so IN_PORT, NORMAL and outputs to the original
    /// port behave as for the packet's own port.
    fn xlate_table_from(&mut self, t: u8, in_port: Option<u32>) {
        if self.error.is_some() {
            return;
        }
        if self.depth >= MAX_DEPTH {
            self.error = Some("over max translation depth (resubmit/goto_table loop?)");
            return;
        }
        let of: &'a Ofproto = self.of;
        let Some(table) = of.pipeline.table(t) else {
            return;
        };
        let found = table.lookup(&lookup_view(&self.flow, in_port), &mut self.wc);
        let Some(rule) = found else {
            return;
        };
        self.rules.push(rule.clone());
        let saved = (self.table, self.rule_match);
        self.table = t;
        self.rule_match = rule.m;
        self.depth += 1;
        self.do_actions(&rule.actions);
        self.depth -= 1;
        (self.table, self.rule_match) = saved;
    }

    fn is_ip_any(&self) -> bool {
        let dl = self.flow.get(Field::DlType);
        dl == ETH_TYPE_IPV4 as u128 || dl == ETH_TYPE_IPV6 as u128
    }

    fn do_actions(&mut self, actions: &[Action]) {
        for a in actions {
            if self.error.is_some() {
                return;
            }
            match *a {
                Action::Output(p) => {
                    // OpenFlow never sends back out of the input port
                    // implicitly; IN_PORT does that.
                    if u128::from(p) != self.flow.get(Field::InPort) {
                        self.output(p);
                    }
                }
                Action::InPort => self.output(self.flow.get(Field::InPort) as u32),
                Action::Normal => self.normal(),
                Action::GotoTable(t) => self.xlate_table(t),
                Action::Resubmit { port, table } => {
                    self.xlate_table_from(table.unwrap_or(self.table), port)
                }
                Action::Move(m) => {
                    let ones = if m.bits >= 128 {
                        u128::MAX
                    } else {
                        (1u128 << m.bits) - 1
                    };
                    // Like OVS: nothing when the packet lacks the source.
                    if !self.set_prereq_ok(m.src) {
                        continue;
                    }
                    // The bits read are part of what the outcome depends on.
                    wc_add(&mut self.wc, m.src, ones << m.src_shift);
                    let v = (self.flow.get(m.src) >> m.src_shift) & ones;
                    self.set_field(m.dst, v << m.dst_shift, ones << m.dst_shift);
                }
                Action::SetField { field, value, mask } => self.set_field(field, value, mask),
                Action::DecTtl => {
                    wc_add(&mut self.wc, Field::NwTtl, 0xff);
                    if self.is_ip_any() {
                        let ttl = self.flow.get(Field::NwTtl);
                        if ttl <= 1 {
                            // OVS would send to the controller; we have
                            // none: stop this rule's actions (callers go on).
                            return;
                        }
                        self.flow.set(Field::NwTtl, ttl - 1);
                        wc_add(&mut self.written, Field::NwTtl, 0xff);
                    }
                }
                Action::PushVlan(tpid) => {
                    self.touch_vlan();
                    let (t0, p0) = (
                        self.flow.get(Field::VlanTci0),
                        self.flow.get(Field::VlanTpid0),
                    );
                    self.flow.set(Field::VlanTci1, t0);
                    self.flow.set(Field::VlanTpid1, p0);
                    // OVS pushes VID 0, PCP 0 (not a copy of the outer
                    // tag's TCI, as OpenFlow 1.1 said): set_field or
                    // mod_vlan_* fill it in.
                    self.flow.set(Field::VlanTci0, u128::from(VLAN_CFI));
                    self.flow.set(Field::VlanTpid0, tpid.into());
                }
                Action::PopVlan => {
                    self.touch_vlan();
                    let (t1, p1) = (
                        self.flow.get(Field::VlanTci1),
                        self.flow.get(Field::VlanTpid1),
                    );
                    self.flow.set(Field::VlanTci0, t1);
                    self.flow.set(Field::VlanTpid0, p1);
                    self.flow.set(Field::VlanTci1, 0);
                    self.flow.set(Field::VlanTpid1, 0);
                }
                Action::SetVlanVid {
                    vid,
                    push_if_needed,
                } => self.set_tci(0x0fff, vid.into(), push_if_needed),
                Action::SetVlanPcp {
                    pcp,
                    push_if_needed,
                } => self.set_tci(0xe000, u128::from(pcp) << 13, push_if_needed),
            }
        }
    }

    /// `set_field` (and `load`, `move`): writes the bits of `mask` when the
    /// packet has the field.
    fn set_field(&mut self, field: Field, value: u128, mask: u128) {
        if !self.set_prereq_ok(field) {
            return;
        }
        let v = (self.flow.get(field) & !mask) | (value & mask);
        self.flow.set(field, v);
        if field == Field::VlanTci0 && self.flow.get(Field::VlanTpid0) == 0 {
            self.flow.set(Field::VlanTpid0, ETH_TYPE_VLAN.into());
        }
        wc_add(&mut self.wc, field, mask);
        wc_add(&mut self.written, field, mask);
    }

    /// Rewrites bits of the outer TCI; pushes a tag first when the packet
    /// has none and `push` is set (OpenFlow 1.0 `mod_vlan_*`).
    fn set_tci(&mut self, bits: u128, value: u128, push: bool) {
        wc_add(&mut self.wc, Field::VlanTci0, bits | u128::from(VLAN_CFI));
        let tci = self.flow.get(Field::VlanTci0);
        let tagged = tci & u128::from(VLAN_CFI) != 0;
        if !tagged && !push {
            return;
        }
        // Rewriting bits of an existing tag reads only `bits` (to decide
        // whether the commit has anything to do); if it does, the commit
        // pins the rest. Pushing a tag changes the stack: pin it now.
        if !tagged {
            self.touch_vlan();
            self.flow.set(Field::VlanTpid0, ETH_TYPE_VLAN.into());
        }
        self.flow.set(
            Field::VlanTci0,
            (tci & !bits) | value | u128::from(VLAN_CFI),
        );
    }

    /// The commit step reads the packet's tag stack once any tag changes.
    /// An untagged packet (pinned by the outer TCI's CFI bit) has, by
    /// extraction's convention, zero TPIDs and no inner tag: nothing more
    /// to pin then.
    fn touch_vlan(&mut self) {
        wc_add(&mut self.wc, Field::VlanTci0, u128::MAX);
        if self.orig_tagged {
            for f in [Field::VlanTpid0, Field::VlanTci1, Field::VlanTpid1] {
                wc_add(&mut self.wc, f, u128::MAX);
            }
        }
    }

    /// Whether the packet has `field` (un-wildcarding what that depends on).
    ///
    /// Two slots of the key hold two OpenFlow fields each: nw_src/nw_dst
    /// are also ARP's spa/tpa, tp_src/tp_dst also ICMP's type/code. OVS's
    /// OpenFlow 1.0 `mod_nw_*`/`mod_tp_*` write only the IP/TCP-UDP-SCTP
    /// meaning; `set_field` to the ARP/ICMP meaning is accepted only in a
    /// rule that pins ARP/ICMP (its prerequisite), where the parser
    /// leaves no `mod_*` of the other meaning. So the rule's own match
    /// tells which one an action means.
    fn set_prereq_ok(&mut self, field: Field) -> bool {
        let dl = self.flow.get(Field::DlType);
        let pinned = |m: &super::rule::Match, f: Field| {
            (m.mask.get(f) == f.full_mask()).then(|| m.key.get(f))
        };
        let rule_arp = pinned(&self.rule_match, Field::DlType) == Some(ETH_TYPE_ARP as u128);
        let rule_icmp = matches!(pinned(&self.rule_match, Field::NwProto), Some(1 | 58));
        let ip = dl == ETH_TYPE_IPV4 as u128 || dl == ETH_TYPE_IPV6 as u128;
        match field {
            Field::DlSrc | Field::DlDst => true,
            Field::VlanTci0 => {
                // The commit step compares tag stacks: pin the packet's.
                self.touch_vlan();
                true
            }
            Field::NwSrc | Field::NwDst => {
                dl == ETH_TYPE_IPV4 as u128 || (dl == ETH_TYPE_ARP as u128 && rule_arp)
            }
            Field::NwProto | Field::ArpSha | Field::ArpTha if dl == ETH_TYPE_ARP as u128 => true,
            Field::NwTos | Field::NwTtl => ip,
            Field::Ipv6Src | Field::Ipv6Dst | Field::Ipv6Label => dl == ETH_TYPE_IPV6 as u128,
            Field::TpSrc | Field::TpDst => {
                if !ip {
                    return false;
                }
                wc_add(&mut self.wc, Field::NwProto, 0xff);
                let proto = self.flow.get(Field::NwProto);
                let icmp = (dl == ETH_TYPE_IPV4 as u128 && proto == 1)
                    || (dl == ETH_TYPE_IPV6 as u128 && proto == 58);
                (matches!(proto, 6 | 17 | 132) || (icmp && rule_icmp))
                    && self.flow.get(Field::NwFrag) & u128::from(FRAG_LATER) == 0
            }
            Field::NdTarget | Field::ArpSha | Field::ArpTha => {
                // ICMPv6 neighbour solicitation (SLL) or advertisement (TLL).
                if dl != ETH_TYPE_IPV6 as u128 {
                    return false;
                }
                wc_add(&mut self.wc, Field::NwProto, 0xff);
                wc_add(&mut self.wc, Field::TpSrc, 0xff);
                wc_add(&mut self.wc, Field::TpDst, 0xff);
                let ty = self.flow.get(Field::TpSrc);
                self.flow.get(Field::NwProto) == 58
                    && self.flow.get(Field::TpDst) == 0
                    && match field {
                        Field::ArpSha => ty == 135,
                        Field::ArpTha => ty == 136,
                        _ => ty == 135 || ty == 136,
                    }
            }
            _ => false,
        }
    }

    fn output(&mut self, port: u32) {
        if self.of.ports.mode(port).is_none() {
            return; // nonexistent port: nothing is sent (like OVS)
        }
        self.commit();
        self.out.push(DpAction::Output(port));
    }

    /// Emits the rewrites needed to make the datapath packet (`base`) look
    /// like the current flow.
    fn commit(&mut self) {
        self.commit_fields(COMMIT_L2);
        self.commit_vlan();
        self.commit_fields(COMMIT_L3L4);
    }

    fn commit_fields(&mut self, fields: &[Field]) {
        for &f in fields {
            let w = self.written.get(f);
            if w == 0 {
                continue;
            }
            let (cur, base) = (self.flow.get(f), self.base.get(f));
            if (cur ^ base) & w != 0 {
                self.out.push(DpAction::SetField {
                    field: f,
                    value: cur & w,
                    mask: w,
                });
                self.base.set(f, (base & !w) | (cur & w));
            }
        }
    }

    fn commit_vlan(&mut self) {
        let tags = |k: &FlowKey| -> Vec<(u16, u16)> {
            let mut v = Vec::with_capacity(2);
            for (tci, tpid) in [
                (Field::VlanTci0, Field::VlanTpid0),
                (Field::VlanTci1, Field::VlanTpid1),
            ] {
                let t = k.get(tci) as u16;
                if t & VLAN_CFI != 0 {
                    let p = k.get(tpid) as u16;
                    v.push((if p == 0 { ETH_TYPE_VLAN } else { p }, t));
                }
            }
            v
        };
        let (b, f) = (tags(&self.base), tags(&self.flow));
        if b == f {
            return;
        }
        // The emitted tags carry the packet's own bits (PCP, inner tag).
        self.touch_vlan();
        // Keep the longest common run of inner tags; pop the rest of the
        // base's, then push the flow's from inner to outer.
        let mut common = 0;
        while common < b.len()
            && common < f.len()
            && b[b.len() - 1 - common] == f[f.len() - 1 - common]
        {
            common += 1;
        }
        for _ in 0..b.len() - common {
            self.out.push(DpAction::PopVlan);
        }
        for &(tpid, tci) in f[..f.len() - common].iter().rev() {
            self.out.push(DpAction::PushVlan { tpid, tci });
        }
        for x in [
            Field::VlanTci0,
            Field::VlanTpid0,
            Field::VlanTci1,
            Field::VlanTpid1,
        ] {
            self.base.set(x, self.flow.get(x));
        }
    }

    /// The `NORMAL` action: VLAN-aware MAC-learning switch.
    fn normal(&mut self) {
        wc_add(&mut self.wc, Field::DlSrc, u128::MAX);
        wc_add(&mut self.wc, Field::DlDst, u128::MAX);
        wc_add(&mut self.wc, Field::VlanTci0, 0x1fff);
        let in_port = self.flow.get(Field::InPort) as u32;
        let Some(in_mode) = self.of.ports.mode(in_port) else {
            return;
        };
        let tci = self.flow.get(Field::VlanTci0) as u16;
        let tagged = tci & VLAN_CFI != 0;
        let dl_type = self.flow.get(Field::DlType) as u16;
        if !tagged && (dl_type == ETH_TYPE_VLAN || dl_type == ETH_TYPE_QINQ) {
            return; // a VLAN header cut short: OVS drops it as malformed
        }
        let vlan = match in_mode {
            VlanMode::Trunk if tagged => tci & 0x0fff,
            VlanMode::Trunk => 0,
            // Only a priority tag (VID 0) may come in on an access port.
            VlanMode::Access(_) if tci & 0x0fff != 0 => return,
            VlanMode::Access(v) => v,
        };
        let src = self.flow.get(Field::DlSrc) as u64;
        let dst = self.flow.get(Field::DlDst) as u64;
        if !self.of.forward_bpdu && is_reserved(dst) {
            return; // STP, LACP, LLDP...: neither learned nor forwarded
        }
        self.note_gratuitous_arp(dst);
        if tagged && vlan == 0 {
            // A priority tag is kept or dropped by its PCP.
            wc_add(&mut self.wc, Field::VlanTci0, 0xe000);
        }
        if !is_multicast(src) {
            self.learn = Some(Learn {
                mac: src,
                vlan,
                port: in_port,
            });
        }
        let known = if is_multicast(dst) {
            None
        } else {
            self.of.macs.lookup(dst, vlan, self.now)
        };
        match known {
            Some(p) if p == in_port => {} // already on the right segment
            Some(p) => {
                if let Some(m) = self.of.ports.mode(p) {
                    if m.carries(vlan) {
                        self.output_normal(p, m, vlan);
                    }
                }
            }
            None => {
                let of: &'a Ofproto = self.of;
                for (p, m) in of.ports.iter() {
                    if p != in_port && m.carries(vlan) {
                        self.output_normal(p, m, vlan);
                    }
                }
            }
        }
    }

    /// The fields OVS reads to tell a gratuitous ARP (it locks the MAC
    /// entry it learns): the megaflow pins them as OVS's does.
    fn note_gratuitous_arp(&mut self, dst: u64) {
        if self.flow.get(Field::DlType) != ETH_TYPE_ARP as u128 {
            return;
        }
        if dst != 0xffff_ffff_ffff {
            return;
        }
        wc_add(&mut self.wc, Field::NwProto, 0xff);
        if self.flow.get(Field::NwProto) == 1 {
            wc_add(&mut self.wc, Field::NwSrc, u128::MAX);
            wc_add(&mut self.wc, Field::NwDst, u128::MAX);
        }
    }

    /// Outputs to `port` with the tag that port wants for `vlan`: on a
    /// trunk the VID and PCP (a tag with VID 0 stays while its PCP is not
    /// 0, a priority tag), on an access port none.
    fn output_normal(&mut self, port: u32, mode: VlanMode, vlan: u16) {
        let tci = self.flow.get(Field::VlanTci0) as u16;
        let pcp = tci & 0xe000;
        let want = match mode {
            VlanMode::Trunk if vlan != 0 || pcp != 0 => pcp | VLAN_CFI | vlan,
            _ => 0,
        };
        if want == tci {
            self.output(port);
            return;
        }
        self.touch_vlan();
        let saved = self.flow;
        if want == 0 {
            // Untagged on this port: remove the outer tag.
            let (t1, p1) = (
                self.flow.get(Field::VlanTci1),
                self.flow.get(Field::VlanTpid1),
            );
            self.flow.set(Field::VlanTci0, t1);
            self.flow.set(Field::VlanTpid0, p1);
            self.flow.set(Field::VlanTci1, 0);
            self.flow.set(Field::VlanTpid1, 0);
        } else {
            self.flow.set(Field::VlanTci0, want.into());
            if tci & VLAN_CFI == 0 {
                self.flow.set(Field::VlanTpid0, ETH_TYPE_VLAN.into());
            }
        }
        self.output(port);
        self.flow = saved;
    }
}

#[cfg(test)]
mod tests;
