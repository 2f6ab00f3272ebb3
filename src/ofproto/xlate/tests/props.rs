//! Property tests: translation against a naive reference interpreter
//! (linear scan, no masks, no commit), megaflow mask safety, and
//! revalidation after random rule changes.

use super::*;
use crate::ofproto::normal::MacTable;
use crate::ofproto::rule::{Action, FlowMod, Match};
use proptest::prelude::*;

const PORTS: [u32; 4] = [1, 2, 3, 4];

/// Applies the packet conventions extraction guarantees (see key.rs).
fn normalize(mut k: FlowKey) -> FlowKey {
    for (tci, tpid) in [
        (Field::VlanTci0, Field::VlanTpid0),
        (Field::VlanTci1, Field::VlanTpid1),
    ] {
        if k.get(tci) & u128::from(VLAN_CFI) == 0 {
            k.set(tci, 0);
            k.set(tpid, 0);
        } else {
            k.set(tpid, 0x8100);
        }
    }
    if k.get(Field::VlanTci0) == 0 {
        k.set(Field::VlanTci1, 0);
        k.set(Field::VlanTpid1, 0);
    }
    let dl = k.get(Field::DlType);
    let ip = dl == (ETH_TYPE_IPV4 as u128) || dl == (ETH_TYPE_IPV6 as u128);
    if !ip {
        for f in [
            Field::NwFrag,
            Field::NwTos,
            Field::NwTtl,
            Field::TpSrc,
            Field::TpDst,
        ] {
            k.set(f, 0);
        }
        if dl != 0x0806 {
            for f in [Field::NwSrc, Field::NwDst, Field::NwProto] {
                k.set(f, 0);
            }
        }
    } else {
        let proto = k.get(Field::NwProto);
        if k.get(Field::NwFrag) & u128::from(FRAG_LATER) != 0
            || !matches!(proto, 1 | 6 | 17 | 58 | 132)
        {
            k.set(Field::TpSrc, 0);
            k.set(Field::TpDst, 0);
        } else if proto == 1 || proto == 58 {
            k.set(Field::TpSrc, k.get(Field::TpSrc) & 0xff);
            k.set(Field::TpDst, k.get(Field::TpDst) & 0xff);
        }
        if k.get(Field::NwFrag) & u128::from(FRAG_ANY) == 0 {
            k.set(Field::NwFrag, 0);
        }
    }
    k
}

fn field_values(f: Field) -> Vec<u128> {
    match f {
        Field::InPort => vec![1, 2, 3, 4],
        Field::DlType => vec![0x0800, 0x0800, 0x86dd, 0x0806],
        Field::DlSrc | Field::DlDst => vec![1, 2, 3, 0x0100_0000_0001],
        Field::VlanTci0 => vec![0, 0x1005, 0x1006, 0x3005],
        Field::NwSrc | Field::NwDst => vec![
            0x0a00_0001,
            0x0a00_0002,
            0x0a01_0001,
            0x0b00_0001,
            0x0a00_0100,
        ],
        Field::NwProto => vec![6, 17, 1],
        Field::NwTos => vec![0, 0x20, 0x21],
        Field::NwTtl => vec![0, 1, 2, 64],
        Field::NwFrag => vec![0, 1, 3],
        Field::TpSrc | Field::TpDst => vec![80, 443, 0, 1, 2, 0x150],
        _ => vec![0],
    }
}

const KEY_FIELDS: &[Field] = &[
    Field::InPort,
    Field::DlType,
    Field::DlSrc,
    Field::DlDst,
    Field::VlanTci0,
    Field::NwSrc,
    Field::NwDst,
    Field::NwProto,
    Field::NwTos,
    Field::NwTtl,
    Field::NwFrag,
    Field::TpSrc,
    Field::TpDst,
];

fn arb_key() -> impl Strategy<Value = FlowKey> {
    proptest::collection::vec(any::<proptest::sample::Index>(), KEY_FIELDS.len()).prop_map(|ix| {
        let mut k = FlowKey::ZERO;
        for (f, i) in KEY_FIELDS.iter().zip(ix) {
            let vals = field_values(*f);
            k.set(*f, vals[i.index(vals.len())]);
        }
        normalize(k)
    })
}

fn masks_for(f: Field) -> Vec<u128> {
    match f {
        Field::NwSrc | Field::NwDst => vec![
            0xffff_ffff,
            0xff00_0000,
            0xffff_0000,
            0xffff_ff00,
            0xffff_fffc,
            0x0000_0100,
        ],
        Field::TpSrc | Field::TpDst => vec![0xffff, 0xff00, 0xfffc, 0x0001],
        Field::DlSrc | Field::DlDst => vec![0xffff_ffff_ffff, 0x0100_0000_0000],
        Field::VlanTci0 => vec![0x1fff, 0x1000, 0xffff, 0xe000],
        Field::NwTos => vec![0xfc, 0x03, 0xff],
        Field::NwFrag => vec![3, 1, 2],
        _ => vec![f.full_mask()],
    }
}

fn arb_match() -> impl Strategy<Value = Match> {
    proptest::collection::vec(
        (
            0..KEY_FIELDS.len(),
            any::<proptest::sample::Index>(),
            any::<proptest::sample::Index>(),
        ),
        0..4,
    )
    .prop_map(|picks| {
        let mut m = Match::ANY;
        for (fi, vi, mi) in picks {
            let f = KEY_FIELDS[fi];
            let vals = field_values(f);
            let masks = masks_for(f);
            let mask = masks[mi.index(masks.len())];
            m.set_masked(f, vals[vi.index(vals.len())] & mask, mask);
        }
        m
    })
}

fn arb_action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => (1u32..=5).prop_map(Action::Output),
        1 => Just(Action::InPort),
        1 => Just(Action::Normal),
        1 => (proptest::option::of(1u32..=4), proptest::option::of(0u8..3)).prop_map(|(port, table)| Action::Resubmit { port, table }),
        1 => (0usize..4, 0u128..4).prop_map(|(w, v)| {
            let (field, value, mask) = match w {
                0 => (Field::DlSrc, v, 0xffff_ffff_ffff),
                1 => (Field::NwSrc, 0x0a00_0000 | v, 0xffff_ffff),
                2 => (Field::TpDst, 80 + v, 0xffff),
                _ => (Field::NwTos, v << 5, 0xfc),
            };
            Action::SetField { field, value, mask }
        }),
        1 => Just(Action::DecTtl),
        1 => Just(Action::PushVlan(0x8100)),
        1 => Just(Action::PopVlan),
        1 => (5u16..7, any::<bool>()).prop_map(|(vid, push_if_needed)| Action::SetVlanVid { vid, push_if_needed }),
        1 => (0u8..3, any::<bool>()).prop_map(|(pcp, push_if_needed)| Action::SetVlanPcp { pcp, push_if_needed }),
    ]
}

fn arb_flowmod() -> impl Strategy<Value = FlowMod> {
    (0u8..3, 0u16..4, arb_match()).prop_flat_map(|(table, priority, m)| {
        (
            proptest::collection::vec(arb_action(), 0..4),
            proptest::option::of(table + 1..4),
        )
            .prop_map(move |(mut actions, goto)| {
                if let Some(t) = goto {
                    if t < 3 {
                        actions.push(Action::GotoTable(t));
                    }
                }
                FlowMod {
                    table,
                    priority,
                    cookie: 0,
                    idle_timeout: 0,
                    hard_timeout: 0,
                    m,
                    actions,
                }
            })
    })
}

/// What leaves the switch: (port, visible headers) per output.
type Outputs = Vec<(u32, FlowKey)>;

const VISIBLE: &[Field] = &[
    Field::DlSrc,
    Field::DlDst,
    Field::VlanTci0,
    Field::VlanTpid0,
    Field::VlanTci1,
    Field::VlanTpid1,
    Field::NwSrc,
    Field::NwDst,
    Field::NwTos,
    Field::NwTtl,
    Field::TpSrc,
    Field::TpDst,
];

fn visible(k: &FlowKey) -> FlowKey {
    let mut v = FlowKey::ZERO;
    for f in VISIBLE {
        v.set(*f, k.get(*f));
    }
    normalize_tags(v)
}

fn normalize_tags(mut k: FlowKey) -> FlowKey {
    for (tci, tpid) in [
        (Field::VlanTci0, Field::VlanTpid0),
        (Field::VlanTci1, Field::VlanTpid1),
    ] {
        if k.get(tci) & u128::from(VLAN_CFI) == 0 {
            k.set(tci, 0);
            k.set(tpid, 0);
        } else if k.get(tpid) == 0 {
            k.set(tpid, 0x8100);
        }
    }
    k
}

/// The reference: linear scan over rules, direct action semantics.
struct Reference<'a> {
    rules: &'a [(u64, FlowMod)],
    macs: &'a MacTable,
    out: Outputs,
    depth: u32,
    failed: bool,
}

impl Reference<'_> {
    /// NORMAL on trunk ports: learned port or flood, VLAN 0 untagged
    /// unless its PCP is set (a priority tag); reserved multicast and cut
    /// tags dropped.
    fn normal(&mut self, flow: &FlowKey) {
        let in_port = flow.get(Field::InPort) as u32;
        if !PORTS.contains(&in_port) {
            return;
        }
        let tci = flow.get(Field::VlanTci0) as u16;
        let vlan = if tci & VLAN_CFI != 0 { tci & 0xfff } else { 0 };
        let dst = flow.get(Field::DlDst) as u64;
        let dl = flow.get(Field::DlType);
        if (tci & VLAN_CFI == 0 && (dl == 0x8100 || dl == 0x88a8))
            || crate::ofproto::normal::is_reserved(dst)
        {
            return;
        }
        let flood: Vec<u32> = PORTS.iter().copied().filter(|p| *p != in_port).collect();
        let targets = if crate::ofproto::normal::is_multicast(dst) {
            flood
        } else {
            match self.macs.lookup(dst, vlan, 0) {
                Some(p) if p == in_port => Vec::new(),
                Some(p) => vec![p],
                None => flood,
            }
        };
        for p in targets {
            let mut f = *flow;
            if vlan == 0 && tci & VLAN_CFI != 0 && tci & 0xe000 == 0 {
                f.set(Field::VlanTci0, f.get(Field::VlanTci1));
                f.set(Field::VlanTpid0, f.get(Field::VlanTpid1));
                f.set(Field::VlanTci1, 0);
                f.set(Field::VlanTpid1, 0);
            }
            self.out.push((p, visible(&f)));
        }
    }

    fn lookup(&self, t: u8, k: &FlowKey) -> Option<&(u64, FlowMod)> {
        self.rules
            .iter()
            .filter(|(_, r)| r.table == t && r.m.matches(k))
            .max_by_key(|(id, r)| (r.priority, std::cmp::Reverse(*id)))
    }

    fn table(&mut self, t: u8, flow: &mut FlowKey) {
        self.table_from(t, None, flow)
    }

    /// The lookup sees `port` as in_port; the actions the packet's own.
    fn table_from(&mut self, t: u8, port: Option<u32>, flow: &mut FlowKey) {
        if self.failed {
            return;
        }
        if self.depth >= MAX_DEPTH {
            self.failed = true;
            return;
        }
        let mut seen = *flow;
        if let Some(p) = port {
            seen.set(Field::InPort, p.into());
        }
        // Fragments are looked up without ports (OVS's "normal" handling).
        let dl = seen.get(Field::DlType);
        if (dl == (ETH_TYPE_IPV4 as u128) || dl == (ETH_TYPE_IPV6 as u128))
            && seen.get(Field::NwFrag) & 1 != 0
        {
            seen.set(Field::TpSrc, 0);
            seen.set(Field::TpDst, 0);
        }
        let Some((_, r)) = self.lookup(t, &seen) else {
            return;
        };
        let (actions, m) = (r.actions.clone(), r.m);
        self.depth += 1;
        self.actions(t, &actions, &m, flow);
        self.depth -= 1;
    }

    /// `m`: the rule's match, which says whether a rewrite of nw_src
    /// means ARP's spa (a rule pinning ARP) and one of tp_dst ICMP's code
    /// (a rule pinning ICMP).
    fn actions(&mut self, t: u8, actions: &[Action], m: &Match, flow: &mut FlowKey) {
        let dl = flow.get(Field::DlType);
        let ip = dl == (ETH_TYPE_IPV4 as u128) || dl == (ETH_TYPE_IPV6 as u128);
        let pins =
            |f: Field, v: &[u128]| m.mask.get(f) == f.full_mask() && v.contains(&m.key.get(f));
        let proto = flow.get(Field::NwProto);
        let icmp = (dl == (ETH_TYPE_IPV4 as u128) && proto == 1)
            || (dl == (ETH_TYPE_IPV6 as u128) && proto == 58);
        for a in actions {
            if self.failed {
                return;
            }
            match *a {
                Action::Output(p) => {
                    if u128::from(p) != flow.get(Field::InPort) && PORTS.contains(&p) {
                        self.out.push((p, visible(flow)));
                    }
                }
                Action::InPort => self
                    .out
                    .push((flow.get(Field::InPort) as u32, visible(flow))),
                Action::Normal => self.normal(flow),
                Action::GotoTable(n) => self.table(n, flow),
                Action::Resubmit { port, table } => self.table_from(table.unwrap_or(t), port, flow),
                // Not generated: parse tests and the OVS comparison cover it.
                Action::Move(_) => unreachable!("not generated"),
                Action::SetField { field, value, mask } => {
                    let ok = match field {
                        Field::DlSrc => true,
                        Field::NwSrc => {
                            dl == (ETH_TYPE_IPV4 as u128)
                                || (dl == 0x0806 && pins(Field::DlType, &[0x0806]))
                        }
                        Field::NwTos => ip,
                        _ => {
                            ip && (matches!(proto, 6 | 17 | 132)
                                || (icmp && pins(Field::NwProto, &[1, 58])))
                                && flow.get(Field::NwFrag) & u128::from(FRAG_LATER) == 0
                        }
                    };
                    if ok {
                        flow.set(field, (flow.get(field) & !mask) | value);
                    }
                }
                Action::DecTtl => {
                    if ip {
                        let ttl = flow.get(Field::NwTtl);
                        if ttl <= 1 {
                            return;
                        }
                        flow.set(Field::NwTtl, ttl - 1);
                    }
                }
                Action::PushVlan(tpid) => {
                    let t0 = flow.get(Field::VlanTci0);
                    let p0 = flow.get(Field::VlanTpid0);
                    flow.set(Field::VlanTci1, t0);
                    flow.set(Field::VlanTpid1, p0);
                    flow.set(Field::VlanTci0, 0x1000);
                    flow.set(Field::VlanTpid0, tpid.into());
                }
                Action::PopVlan => {
                    flow.set(Field::VlanTci0, flow.get(Field::VlanTci1));
                    flow.set(Field::VlanTpid0, flow.get(Field::VlanTpid1));
                    flow.set(Field::VlanTci1, 0);
                    flow.set(Field::VlanTpid1, 0);
                }
                Action::SetVlanVid {
                    vid,
                    push_if_needed,
                } => ref_tci(flow, 0x0fff, vid.into(), push_if_needed),
                Action::SetVlanPcp {
                    pcp,
                    push_if_needed,
                } => ref_tci(flow, 0xe000, u128::from(pcp) << 13, push_if_needed),
            }
        }
    }
}

fn ref_tci(flow: &mut FlowKey, bits: u128, value: u128, push: bool) {
    let tci = flow.get(Field::VlanTci0);
    let tagged = tci & 0x1000 != 0;
    if !tagged && !push {
        return;
    }
    if !tagged {
        flow.set(Field::VlanTpid0, 0x8100);
    }
    flow.set(Field::VlanTci0, (tci & !bits) | value | 0x1000);
}

fn reference(rules: &[(u64, FlowMod)], macs: &MacTable, k: &FlowKey) -> Outputs {
    let mut r = Reference {
        rules,
        macs,
        out: Vec::new(),
        depth: 0,
        failed: false,
    };
    let mut flow = *k;
    r.table(0, &mut flow);
    if r.failed {
        return Vec::new();
    }
    r.out
}

/// Runs datapath actions symbolically on a key.
fn apply(actions: &[DpAction], k: &FlowKey) -> Outputs {
    let mut flow = *k;
    let mut out = Vec::new();
    for a in actions {
        match *a {
            DpAction::Output(p) => out.push((p, visible(&flow))),
            DpAction::SetField { field, value, mask } => {
                flow.set(field, (flow.get(field) & !mask) | value)
            }
            DpAction::PushVlan { tpid, tci } => {
                flow.set(Field::VlanTci1, flow.get(Field::VlanTci0));
                flow.set(Field::VlanTpid1, flow.get(Field::VlanTpid0));
                flow.set(Field::VlanTci0, u128::from(tci | VLAN_CFI));
                flow.set(Field::VlanTpid0, tpid.into());
            }
            DpAction::PopVlan => {
                flow.set(Field::VlanTci0, flow.get(Field::VlanTci1));
                flow.set(Field::VlanTpid0, flow.get(Field::VlanTpid1));
                flow.set(Field::VlanTci1, 0);
                flow.set(Field::VlanTpid1, 0);
            }
            DpAction::DecTtl | DpAction::Drop => unreachable!("xlate emits neither"),
        }
    }
    out
}

fn build(rules: &[FlowMod]) -> (Ofproto, Vec<(u64, FlowMod)>) {
    let mut of = Ofproto::new(PortSet::trunks(PORTS));
    // Some learned addresses, so NORMAL both forwards and floods.
    for (mac, vlan, port) in [(1, 0, 2), (2, 5, 3), (3, 0, 1), (2, 0, 4), (1, 6, 4)] {
        of.macs
            .learn(crate::ofproto::normal::Learn { mac, vlan, port }, 0);
    }
    let mut refs: Vec<(u64, FlowMod)> = Vec::new();
    for fm in rules {
        let r = of.pipeline.add(fm);
        // Identical match+priority replaces: mirror that in the reference.
        let mm = Match {
            key: fm.m.key.masked(&fm.m.mask),
            mask: fm.m.mask,
        };
        refs.retain(|(_, o)| !(o.table == fm.table && o.priority == fm.priority && o.m == mm));
        let mut fm = fm.clone();
        fm.m = mm;
        refs.push((r.id, fm));
    }
    (of, refs)
}

/// `k2` moved into the megaflow of (`k`, `mask`) and made realistic; `None`
/// when the conventions push it out of the megaflow.
fn covered(k: &FlowKey, mask: &FlowKey, noise: &FlowKey) -> Option<FlowKey> {
    let mut k2 = FlowKey::ZERO;
    for i in 0..k2.words.len() {
        k2.words[i] = (k.words[i] & mask.words[i]) | (noise.words[i] & !mask.words[i]);
    }
    let k2 = normalize(k2);
    (k2.masked(mask) == k.masked(mask)).then_some(k2)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256), ..ProptestConfig::default() })]

    #[test]
    fn translation_matches_reference_and_mask_is_safe(
        rules in proptest::collection::vec(arb_flowmod(), 0..24),
        keys in proptest::collection::vec(arb_key(), 1..6),
        noise in proptest::collection::vec(arb_key(), 8),
    ) {
        let (of, refs) = build(&rules);
        for k in &keys {
            let x = of.translate(k, 0);
            prop_assert_eq!(apply(&x.actions, k), reference(&refs, &of.macs, k), "key {:?} actions {:?}", k, x.actions);
            for n in &noise {
                if let Some(k2) = covered(k, &x.mask, n) {
                    let x2 = of.translate(&k2, 0);
                    prop_assert_eq!(&x2.actions, &x.actions, "k {:?} k2 {:?} mask {:?}", k, k2, x.mask);
                }
            }
        }
    }

    #[test]
    fn revalidation_is_safe(
        rules in proptest::collection::vec(arb_flowmod(), 0..16),
        keys in proptest::collection::vec(arb_key(), 1..6),
        added in proptest::collection::vec(arb_flowmod(), 0..4),
        deleted in proptest::collection::vec(any::<proptest::sample::Index>(), 0..4),
        noise in proptest::collection::vec(arb_key(), 8),
        learn in proptest::option::of((1u64..4, 0u16..7, 1u32..5)),
    ) {
        let (mut of, _) = build(&rules);
        let flows: Vec<(FlowKey, Xlate)> = keys.iter().map(|k| (*k, of.translate(k, 0))).collect();
        let g = of.generation();
        for fm in &added {
            of.pipeline.add(fm);
        }
        let all = of.pipeline.dump();
        for d in &deleted {
            if all.is_empty() { break; }
            let r = &all[d.index(all.len())];
            of.pipeline.delete(&crate::ofproto::table::Selector { table: Some(r.table), m: &r.m, strict: true, priority: r.priority, cookie: None });
        }
        let changed = !(added.is_empty() && (deleted.is_empty() || all.is_empty()));
        prop_assert!(of.generation() > g || !changed);
        // A MAC (re)learned or moved: NORMAL megaflows may go stale.
        if let Some((mac, vlan, port)) = learn {
            of.macs.learn(crate::ofproto::normal::Learn { mac, vlan, port }, 0);
        }
        for (k, x) in &flows {
            let verdict = of.revalidate(k, &x.mask, &x.actions, 0);
            let now = match &verdict {
                Revalidate::Keep => x.actions.clone(),
                Revalidate::Update(a) => a.clone(),
                Revalidate::Delete => continue,
            };
            prop_assert_eq!(&of.translate(k, 0).actions, &now);
            for n in &noise {
                if let Some(k2) = covered(k, &x.mask, n) {
                    prop_assert_eq!(&of.translate(&k2, 0).actions, &now, "{:?} kept unsafely", verdict);
                }
            }
        }
    }
}
