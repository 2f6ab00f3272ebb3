//! OpenFlow rule tables: priorities, masked matches, counters, flow-mods.
//!
//! Each table is a tuple space: rules are grouped by mask into subtables
//! (one hash lookup each), visited in order of their highest priority, so a
//! lookup stops as soon as no remaining subtable can beat the best match.
//! Lookups also report the bits they consulted (`wc`), which become the
//! megaflow mask: a subtable that misses contributes only the bits of the
//! lookup *stage* (in_port, +L2, +L3, +L4) at which it was proven to miss,
//! like OVS's staged lookup. Before hashing the L3 (L4) stage, a subtable
//! whose mask is a CIDR prefix on `nw_src`/`nw_dst` (`tp_src`/`tp_dst`) is
//! checked against the sorted prefixes of the table's rules: if the packet's
//! prefix is no rule's, only the leading bits needed to prove it are pinned
//! (the role OVS's prefix and port tries play).
//!
//! Ties between overlapping rules of equal priority (undefined in OpenFlow)
//! go to the rule added first, so behaviour is deterministic.

use super::rule::{Action, FlowMod, Match};
use crate::flow::key::{Field, FlowKey};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Number of tables (0..=254; 255 means "all" in OpenFlow).
pub const N_TABLES: usize = 255;

/// Packet and byte counters of one rule.
#[derive(Debug, Default)]
pub struct RuleStats {
    pub packets: AtomicU64,
    pub bytes: AtomicU64,
}

impl RuleStats {
    /// Adds to the counters (called by whoever owns the megaflow stats).
    pub fn add(&self, packets: u64, bytes: u64) {
        self.packets.fetch_add(packets, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// An installed rule.
#[derive(Debug)]
pub struct Rule {
    /// Unique, increasing in insertion order (the tie-break).
    pub id: u64,
    pub table: u8,
    pub priority: u16,
    pub cookie: u64,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub m: Match,
    pub actions: Arc<[Action]>,
    pub stats: Arc<RuleStats>,
    /// When it was added (a modify keeps it): OpenFlow's flow duration.
    pub created: std::time::Instant,
}

impl std::fmt::Display for Rule {
    /// `ovs-ofctl dump-flows`-like text.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cookie={:#x}, table={}, n_packets={}, n_bytes={}, priority={}",
            self.cookie,
            self.table,
            self.stats.packets.load(Ordering::Relaxed),
            self.stats.bytes.load(Ordering::Relaxed),
            self.priority
        )?;
        let m = self.m.to_string();
        if !m.is_empty() {
            write!(f, ",{m}")?;
        }
        write!(f, " actions={}", super::rule::fmt_actions(&self.actions))
    }
}

/// The fields consulted at each lookup stage (cumulative).
fn stage_masks() -> [FlowKey; 3] {
    use Field::*;
    let groups: [&[Field]; 3] = [
        &[InPort],
        &[
            DlType, DlDst, DlSrc, VlanTci0, VlanTci1, VlanTpid0, VlanTpid1,
        ],
        &[
            NwFrag, NwSrc, NwDst, NwProto, NwTos, NwTtl, Ipv6Label, Ipv6Src, Ipv6Dst, ArpSha,
            ArpTha,
        ],
    ];
    let mut out = [FlowKey::ZERO; 3];
    let mut acc = FlowKey::ZERO;
    for (i, g) in groups.iter().enumerate() {
        for f in *g {
            acc.set(*f, u128::MAX);
        }
        out[i] = acc;
    }
    out
}

fn or_into(acc: &mut FlowKey, m: &FlowKey) {
    for (a, b) in acc.words.iter_mut().zip(m.words.iter()) {
        *a |= *b;
    }
}

/// Rules sharing one mask.
#[derive(Debug)]
struct Subtable {
    mask: FlowKey,
    /// `mask` cut at each of the first three stages, skipping stages that
    /// add no bits; the last entry is the full mask.
    stages: Vec<FlowKey>,
    /// The stage level (0 in_port, 1 L2, 2 L3, 3 all) of each of `stages`.
    levels: Vec<u8>,
    /// CIDR prefix length of the mask on each of `PREFIX_FIELDS`, if any.
    plen: [Option<u32>; 4],
    /// Per early stage: masked keys of the rules, with reference counts.
    stage_keys: Vec<HashMap<FlowKey, u32>>,
    /// Masked key -> rules, best first (priority desc, id asc).
    buckets: HashMap<FlowKey, Vec<Arc<Rule>>>,
    max_priority: u16,
    n_rules: usize,
}

impl Subtable {
    fn new(mask: FlowKey) -> Self {
        let mut stages: Vec<FlowKey> = Vec::new();
        let mut levels = Vec::new();
        for (level, s) in stage_masks().iter().enumerate() {
            let m = mask.masked(s);
            if m != FlowKey::ZERO && m != mask && stages.last() != Some(&m) {
                stages.push(m);
                levels.push(level as u8);
            }
        }
        let n = stages.len();
        stages.push(mask);
        levels.push(3);
        let plen = PREFIX_FIELDS.map(|f| cidr_len(aligned(&mask, f)));
        Subtable {
            mask,
            stages,
            levels,
            plen,
            stage_keys: vec![HashMap::new(); n],
            buckets: HashMap::new(),
            max_priority: 0,
            n_rules: 0,
        }
    }

    fn insert(&mut self, r: Arc<Rule>) {
        for (i, map) in self.stage_keys.iter_mut().enumerate() {
            *map.entry(r.m.key.masked(&self.stages[i])).or_insert(0) += 1;
        }
        let b = self.buckets.entry(r.m.key).or_default();
        let at = b.partition_point(|x| {
            (x.priority, std::cmp::Reverse(x.id)) > (r.priority, std::cmp::Reverse(r.id))
        });
        self.max_priority = self.max_priority.max(r.priority);
        self.n_rules += 1;
        b.insert(at, r);
    }

    fn remove(&mut self, r: &Rule) -> bool {
        let Some(b) = self.buckets.get_mut(&r.m.key) else {
            return false;
        };
        let Some(i) = b.iter().position(|x| x.id == r.id) else {
            return false;
        };
        b.remove(i);
        if b.is_empty() {
            self.buckets.remove(&r.m.key);
        }
        for (i, map) in self.stage_keys.iter_mut().enumerate() {
            let k = r.m.key.masked(&self.stages[i]);
            if let Some(c) = map.get_mut(&k) {
                *c -= 1;
                if *c == 0 {
                    map.remove(&k);
                }
            }
        }
        self.n_rules -= 1;
        self.max_priority = self
            .buckets
            .values()
            .map(|b| b[0].priority)
            .max()
            .unwrap_or(0);
        true
    }

    /// The best rule matching `key`, adding the consulted bits to `wc`.
    fn lookup(&self, key: &FlowKey, wc: &mut FlowKey, pfx: &Prefixes) -> Option<&Arc<Rule>> {
        for (i, &level) in self.levels.iter().enumerate() {
            // Before hashing L3 (then L4), try to prove a miss from an IP
            // address (then port) prefix alone, which pins fewer bits
            // (OVS's prefix and port tries).
            let l3_start = level >= 2 && (i == 0 || self.levels[i - 1] < 2);
            if l3_start && self.prefix_miss(key, wc, pfx, 0..2) {
                return None;
            }
            if level == 3 && self.prefix_miss(key, wc, pfx, 2..4) {
                return None;
            }
            let Some(map) = self.stage_keys.get(i) else {
                break;
            };
            if !map.contains_key(&key.masked(&self.stages[i])) {
                or_into(wc, &self.stages[i]);
                return None;
            }
        }
        or_into(wc, &self.mask);
        self.buckets.get(&key.masked(&self.mask)).map(|b| &b[0])
    }
}

/// The fields with prefix tracking (like OVS's prefix and port tries).
const PREFIX_FIELDS: [Field; 4] = [Field::NwSrc, Field::NwDst, Field::TpSrc, Field::TpDst];

/// Per prefix field: prefix length -> rule values (left-aligned) -> count.
type Prefixes = [HashMap<u32, BTreeMap<u32, u32>>; 4];

/// A field of up to 32 bits, left-aligned in a u32 (so prefixes of every
/// width compare the same way).
fn aligned(k: &FlowKey, f: Field) -> u32 {
    (k.get(f) as u32) << (32 - f.pos().bits)
}

/// The length of a CIDR mask (1..=32), `None` for zero or non-CIDR masks.
fn cidr_len(m: u32) -> Option<u32> {
    let l = m.leading_ones();
    (l > 0 && m.count_ones() == l).then_some(l)
}

impl Subtable {
    /// Whether `key` provably matches no rule here because its `nw_src` or
    /// `nw_dst` prefix is not any rule's; pins only the prefix bits the
    /// proof needs: one past the longest prefix `key` shares with a rule
    /// value (found among its sorted neighbours).
    fn prefix_miss(
        &self,
        key: &FlowKey,
        wc: &mut FlowKey,
        pfx: &Prefixes,
        which: std::ops::Range<usize>,
    ) -> bool {
        for i in which {
            let f = &PREFIX_FIELDS[i];
            let Some(l) = self.plen[i] else { continue };
            let Some(vals) = pfx[i].get(&l) else { continue };
            let x = aligned(key, *f) & (u32::MAX << (32 - l));
            if vals.contains_key(&x) {
                continue;
            }
            let below = vals.range(..x).next_back().map(|(v, _)| *v);
            let above = vals.range(x..).next().map(|(v, _)| *v);
            let shared = [below, above]
                .iter()
                .flatten()
                .map(|v| (v ^ x).leading_zeros())
                .max()
                .unwrap_or(0);
            let pin = (shared + 1).min(l);
            let m = wc.get(*f) | u128::from((u32::MAX << (32 - pin)) >> (32 - f.pos().bits));
            wc.set(*f, m);
            return true;
        }
        false
    }
}

/// One OpenFlow table.
#[derive(Debug, Default)]
pub struct Table {
    /// Sorted by `max_priority`, highest first.
    subtables: Vec<Subtable>,
    /// (match, priority) -> rule, for replace and strict operations.
    by_match: HashMap<(Match, u16), Arc<Rule>>,
    prefixes: Prefixes,
}

impl Table {
    /// Number of rules.
    pub fn len(&self) -> usize {
        self.by_match.len()
    }

    /// Whether the table has no rule.
    pub fn is_empty(&self) -> bool {
        self.by_match.is_empty()
    }

    fn resort(&mut self) {
        self.subtables.retain(|s| s.n_rules > 0);
        self.subtables
            .sort_by_key(|s| std::cmp::Reverse(s.max_priority));
    }

    fn insert(&mut self, r: Arc<Rule>) -> Option<Arc<Rule>> {
        let old = self.by_match.insert((r.m, r.priority), r.clone());
        if let Some(o) = &old {
            self.remove_from_subtables(o);
        }
        for (i, f) in PREFIX_FIELDS.iter().enumerate() {
            if let Some(l) = cidr_len(aligned(&r.m.mask, *f)) {
                *self.prefixes[i]
                    .entry(l)
                    .or_default()
                    .entry(aligned(&r.m.key, *f))
                    .or_insert(0) += 1;
            }
        }
        match self.subtables.iter_mut().find(|s| s.mask == r.m.mask) {
            Some(s) => s.insert(r),
            None => {
                let mut s = Subtable::new(r.m.mask);
                s.insert(r);
                self.subtables.push(s);
            }
        }
        self.resort();
        old
    }

    fn remove_from_subtables(&mut self, r: &Rule) {
        if let Some(s) = self.subtables.iter_mut().find(|s| s.mask == r.m.mask) {
            if !s.remove(r) {
                return;
            }
        }
        for (i, f) in PREFIX_FIELDS.iter().enumerate() {
            let Some(l) = cidr_len(aligned(&r.m.mask, *f)) else {
                continue;
            };
            let Some(vals) = self.prefixes[i].get_mut(&l) else {
                continue;
            };
            let v = aligned(&r.m.key, *f);
            if let Some(c) = vals.get_mut(&v) {
                *c -= 1;
                if *c == 0 {
                    vals.remove(&v);
                }
            }
            if vals.is_empty() {
                self.prefixes[i].remove(&l);
            }
        }
    }

    fn remove(&mut self, r: &Rule) {
        self.by_match.remove(&(r.m, r.priority));
        self.remove_from_subtables(r);
        self.resort();
    }

    /// The highest-priority rule matching `key`; ORs into `wc` every bit
    /// the answer depends on.
    pub fn lookup(&self, key: &FlowKey, wc: &mut FlowKey) -> Option<&Arc<Rule>> {
        let mut best: Option<&Arc<Rule>> = None;
        for s in &self.subtables {
            if let Some(b) = best {
                // Nothing here can win: higher priority, or equal and older.
                if s.max_priority < b.priority {
                    break;
                }
            }
            if let Some(r) = s.lookup(key, wc, &self.prefixes) {
                if best.is_none_or(|b| {
                    (r.priority, std::cmp::Reverse(r.id)) > (b.priority, std::cmp::Reverse(b.id))
                }) {
                    best = Some(r);
                }
            }
        }
        best
    }

    /// All rules, highest priority first.
    pub fn rules(&self) -> Vec<Arc<Rule>> {
        let mut v: Vec<_> = self.by_match.values().cloned().collect();
        v.sort_by_key(|r| (std::cmp::Reverse(r.priority), r.id));
        v
    }
}

/// Which rules a delete or modify applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Selector<'a> {
    /// `None` = all tables.
    pub table: Option<u8>,
    pub m: &'a Match,
    /// Strict: same match and priority exactly. Non-strict: every rule at
    /// least as specific as `m`, any priority.
    pub strict: bool,
    pub priority: u16,
    /// Only rules with `cookie & mask == value`.
    pub cookie: Option<(u64, u64)>,
}

/// All tables of the switch, with a generation counter bumped on change.
#[derive(Debug)]
pub struct Pipeline {
    tables: Vec<Table>,
    next_id: u64,
    generation: u64,
}

impl Default for Pipeline {
    fn default() -> Self {
        Self::new()
    }
}

impl Pipeline {
    /// Empty tables.
    pub fn new() -> Self {
        Pipeline {
            tables: (0..N_TABLES).map(|_| Table::default()).collect(),
            next_id: 1,
            generation: 0,
        }
    }

    /// Bumped by every change that may alter a lookup.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// A table (`None` for 255).
    pub fn table(&self, t: u8) -> Option<&Table> {
        self.tables.get(usize::from(t))
    }

    /// Adds a rule; replaces (counters reset) one with identical match and
    /// priority in the same table, like OpenFlow's ADD. Returns the new rule.
    pub fn add(&mut self, fm: &FlowMod) -> Arc<Rule> {
        let r = Arc::new(Rule {
            id: self.next_id,
            table: fm.table,
            priority: fm.priority,
            cookie: fm.cookie,
            idle_timeout: fm.idle_timeout,
            hard_timeout: fm.hard_timeout,
            m: Match {
                key: fm.m.key.masked(&fm.m.mask),
                mask: fm.m.mask,
            },
            actions: fm.actions.clone().into(),
            stats: Arc::default(),
            created: std::time::Instant::now(),
        });
        self.next_id += 1;
        self.generation += 1;
        self.tables[usize::from(fm.table)].insert(r.clone());
        r
    }

    /// The rules a selector picks.
    pub fn select(&self, sel: &Selector) -> Vec<Arc<Rule>> {
        let m = Match {
            key: sel.m.key.masked(&sel.m.mask),
            mask: sel.m.mask,
        };
        let tables: Vec<&Table> = match sel.table {
            Some(t) => self.table(t).into_iter().collect(),
            None => self.tables.iter().collect(),
        };
        let cookie_ok = |r: &Rule| sel.cookie.is_none_or(|(v, mk)| r.cookie & mk == v);
        let mut out = Vec::new();
        for t in tables {
            if sel.strict {
                out.extend(
                    t.by_match
                        .get(&(m, sel.priority))
                        .filter(|r| cookie_ok(r))
                        .cloned(),
                );
            } else {
                out.extend(
                    t.by_match
                        .values()
                        .filter(|r| r.m.is_within(&m) && cookie_ok(r))
                        .cloned(),
                );
            }
        }
        out
    }

    /// Deletes the selected rules; returns them.
    pub fn delete(&mut self, sel: &Selector) -> Vec<Arc<Rule>> {
        self.delete_if(sel, |_| true)
    }

    /// Deletes the selected rules that also pass `keep` (OpenFlow's
    /// out_port filter); returns them.
    pub fn delete_if(&mut self, sel: &Selector, keep: impl Fn(&Rule) -> bool) -> Vec<Arc<Rule>> {
        let mut victims = self.select(sel);
        victims.retain(|r| keep(r));
        for r in &victims {
            self.tables[usize::from(r.table)].remove(r);
        }
        if !victims.is_empty() {
            self.generation += 1;
        }
        victims
    }

    /// Replaces the actions of the selected rules (counters kept); returns
    /// how many were modified.
    pub fn modify(&mut self, sel: &Selector, actions: &[Action]) -> usize {
        self.modify_if(sel, actions, |_| true)
    }

    /// Replaces the actions of the selected rules that pass `keep`.
    pub fn modify_if(
        &mut self,
        sel: &Selector,
        actions: &[Action],
        keep: impl Fn(&Rule) -> bool,
    ) -> usize {
        let mut victims = self.select(sel);
        victims.retain(|r| keep(r));
        let acts: Arc<[Action]> = actions.into();
        for r in &victims {
            let nr = Arc::new(Rule {
                id: r.id,
                table: r.table,
                priority: r.priority,
                cookie: r.cookie,
                idle_timeout: r.idle_timeout,
                hard_timeout: r.hard_timeout,
                m: r.m,
                actions: acts.clone(),
                stats: r.stats.clone(),
                created: r.created,
            });
            self.tables[usize::from(r.table)].insert(nr);
        }
        if !victims.is_empty() {
            self.generation += 1;
        }
        victims.len()
    }

    /// Every rule, by table then priority (highest first).
    pub fn dump(&self) -> Vec<Arc<Rule>> {
        self.tables.iter().flat_map(|t| t.rules()).collect()
    }

    /// Total number of rules.
    pub fn len(&self) -> usize {
        self.tables.iter().map(Table::len).sum()
    }

    /// Whether no table has a rule.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Distinct subtables over all tables (a cost indicator).
    pub fn n_subtables(&self) -> usize {
        let mut seen = HashSet::new();
        for (i, t) in self.tables.iter().enumerate() {
            for s in &t.subtables {
                seen.insert((i, s.mask));
            }
        }
        seen.len()
    }
}

#[cfg(test)]
mod tests;
